/* fixture.h - data-driven fixtures in the unit tests (test_parsers, test_rules): reading
 * and listing the files, and running a page through the extractor against its .jsonl. */
#ifndef SCR_TEST_FIXTURE_H
#define SCR_TEST_FIXTURE_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/file.h"
#include "parsers/extract.h"
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

/* SCR_FIXTURES_PRINT=1 prints what each fixture produced (to write a new .jsonl). */
static inline int fixture_print_mode(void)
{
    const char *pe = getenv("SCR_FIXTURES_PRINT");
    return pe && *pe && strcmp(pe, "0") != 0;
}

static inline int fixture_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Lists the names (without the suffix) of the files in dir ending in suffix, sorted; with
 * numbered, only NNNN + suffix.  Caller frees each name and the array (fixture_free_names). */
static inline size_t fixture_list(const char *dir, const char *suffix, int numbered,
                                  char ***out)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t n = 0, cap = 16, sl = strlen(suffix);
    char **v = malloc(cap * sizeof(*v));

    if (!d)
        TEST_FAIL_("cannot open %s: %s", dir, strerror(errno));
    ASSERT(v != NULL);
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len <= sl || strcmp(de->d_name + len - sl, suffix) != 0 || de->d_name[0] == '.')
            continue;
        if (numbered && (len != 4 + sl || strspn(de->d_name, "0123456789") != 4))
            continue;
        if (n == cap) {
            cap *= 2;
            v = realloc(v, cap * sizeof(*v));
            ASSERT(v != NULL);
        }
        v[n] = strndup(de->d_name, len - sl);
        ASSERT(v[n] != NULL);
        n++;
    }
    closedir(d);
    qsort(v, n, sizeof(*v), fixture_cmp_str);
    *out = v;
    return n;
}

static inline void fixture_free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Runs body through an extractor of `parsers` (set up from env) and compares the records,
 * line by line, with expect (the .jsonl text, split in place), printing each difference
 * with both sides.  The records stay in *out (initialised here; the caller releases it).
 * 1 when they match. */
static inline int fixture_extract(const char *name, const char *parsers,
                                  const struct scr_parser_env *env, const char *url,
                                  const char *content_type, const char *body, size_t blen,
                                  char *expect, int print, struct scr_emit *out)
{
    char err[1024], **lines = NULL;
    struct scr_extractor *x = NULL;
    size_t nlines, i;
    int ok = 1, rc;

    scr_emit_init(out);
    rc = scr_extractor_new(&x, parsers, env, err, sizeof(err));
    if (rc)
        TEST_FAIL_("%s: extractor: %s", name, err);
    rc = scr_extractor_run(x, url, content_type, body, blen, out);
    if (rc) {
        fprintf(stderr, "%s: scr_extractor_run: %s\n", name, scr_strerror(rc));
        ok = 0;
    }
    if (print) {
        printf("== %s\n", name);
        for (i = 0; i < out->records.n; i++)
            printf("%s\n", out->records.v[i]);
    }
    nlines = split_lines(expect, &lines);
    for (i = 0; i < nlines || i < out->records.n; i++) {
        const char *want = i < nlines ? lines[i] : "(no record)";
        const char *got = i < out->records.n ? out->records.v[i] : "(no record)";
        if (strcmp(want, got) != 0) {
            fprintf(stderr, "%s, record %zu:\n  expected: %s\n  got:      %s\n", name, i + 1,
                    want, got);
            ok = 0;
        }
    }
    scr_extractor_free(x);
    free(lines);
    return ok;
}

#endif
