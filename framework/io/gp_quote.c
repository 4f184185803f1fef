/* gp_quote.c - gnuplot string literals for untrusted text (see gp_quote.h). */
#include "io/gp_quote.h"

#include <stdbool.h>

void pl_gp_quote(cfg_strbuf *sb, const char *text) {
    const unsigned char *p = (const unsigned char *)(text ? text : "");
    bool spliced = false, open = false;
    for (const unsigned char *q = p; *q; q++) spliced |= *q < 0x20 || *q == 0x7f;
    if (spliced) cfg_strbuf_putc(sb, '(');
    if (*p == '\0') cfg_strbuf_puts(sb, "''");
    for (bool first = true; *p; p++, first = false) {
        if (*p < 0x20 || *p == 0x7f) {
            if (open) cfg_strbuf_putc(sb, '\'');
            open = false;
            if (!first) cfg_strbuf_puts(sb, " . ");
            if (*p == '\n') cfg_strbuf_puts(sb, "\"\\n\"");
            else if (*p == '\t') cfg_strbuf_puts(sb, "\"\\t\"");
            else cfg_strbuf_printf(sb, "\"\\%03o\"", *p);
            continue;
        }
        if (!open) {
            if (!first) cfg_strbuf_puts(sb, " . ");
            cfg_strbuf_putc(sb, '\'');
            open = true;
        }
        if (*p == '\'') cfg_strbuf_putc(sb, '\'');
        cfg_strbuf_putc(sb, (char)*p);
    }
    if (open) cfg_strbuf_putc(sb, '\'');
    if (spliced) cfg_strbuf_putc(sb, ')');
}
