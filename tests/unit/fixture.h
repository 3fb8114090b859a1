/* fixture.h - reading data-driven fixtures in the unit tests (test_parsers, test_rules). */
#ifndef SCR_TEST_FIXTURE_H
#define SCR_TEST_FIXTURE_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"
#include "test.h"

/* Reads a whole file (NUL-terminated); NULL when it cannot be read.  Caller frees. */
static inline char *slurp(const char *path, size_t *len)
{
    char err[512];
    return scr_file_read(path, 0, 0, len, err, sizeof(err));
}

static inline char *slurp_or_die(const char *path, size_t *len)
{
    char *p = slurp(path, len);
    if (!p)
        TEST_FAIL_("cannot read %s: %s", path, strerror(errno));
    return p;
}

/* Splits text into lines in place (a final newline does not start an empty line; CRLF is
 * accepted).  *lines is malloc'd; the strings point into text. */
static inline size_t split_lines(char *text, char ***lines)
{
    size_t n = 0, cap = 16;
    char **v = malloc(cap * sizeof(*v));
    char *p = text;

    ASSERT(v != NULL);
    while (p && *p) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        if (n == cap) {
            cap *= 2;
            v = realloc(v, cap * sizeof(*v));
            ASSERT(v != NULL);
        }
        if (nl && nl > p && nl[-1] == '\r')
            nl[-1] = '\0';
        v[n++] = p;
        p = nl ? nl + 1 : NULL;
    }
    *lines = v;
    return n;
}

#endif
