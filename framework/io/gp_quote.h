/* gp_quote.h - text from config files (titles, labels, alias values) turned into gnuplot
 * string literals that gnuplot reads as data, never as commands.
 *
 * gnuplot runs `backquoted` shell commands inside double-quoted strings and processes
 * backslash escapes there; inside single-quoted strings nothing is special except '' (one
 * quote), and neither backquotes nor @macros are expanded. So text becomes a single-quoted
 * literal with ' doubled. A newline cannot appear inside a literal (it would end the
 * command), so line breaks and other control characters are spliced in as separate
 * double-quoted escapes built only from fixed characters: 'a' . "\n" . 'b'. The result is
 * a string expression (parenthesised when spliced). Scripts also set terminals `noenhanced`,
 * so ^ _ { } @ & ~ in the text render as themselves. */
#ifndef PL_IO_GP_QUOTE_H
#define PL_IO_GP_QUOTE_H

#include "config/strbuf.h"

/* Appends the gnuplot string expression for text (NULL: '') to sb. */
void pl_gp_quote(cfg_strbuf *sb, const char *text);

#endif
