/* provenance.c - host name, CPU model from /proc/cpuinfo, compiler identity and UTC time. */
#define _POSIX_C_SOURCE 200809L
#include "io/provenance.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void pl_host_name(char *buf, size_t cap) {
    if (cap == 0) return;
    if (gethostname(buf, cap) != 0 || buf[0] == '\0') snprintf(buf, cap, "unknown");
    buf[cap - 1] = '\0';
}

/* Copies the text after "model name\t: " without its newline. */
static int take_model_name(const char *line, char *buf, size_t cap) {
    if (strncmp(line, "model name", 10) != 0) return 0;
    const char *colon = strchr(line, ':');
    if (colon == NULL) return 0;
    colon++;
    while (*colon == ' ' || *colon == '\t') colon++;
    size_t n = strcspn(colon, "\r\n");
    if (n >= cap) n = cap - 1;
    memcpy(buf, colon, n);
    buf[n] = '\0';
    return n > 0;
}

void pl_cpu_model(char *buf, size_t cap) {
    if (cap == 0) return;
    snprintf(buf, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL) return;
    char line[512];
    while (fgets(line, sizeof line, f) != NULL)
        if (take_model_name(line, buf, cap)) break;
    fclose(f);
}

const char *pl_compiler_version(void) {
#if defined(__clang__)
    return "clang " __VERSION__;
#elif defined(__GNUC__)
    return "gcc " __VERSION__;
#else
    return "unknown";
#endif
}

const char *pl_build_cflags(void) { return PL_BUILD_CFLAGS; }

void pl_utc_now_iso8601(char *buf, size_t cap) {
    if (cap == 0) return;
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm) == NULL || strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, cap, "unknown");
}
