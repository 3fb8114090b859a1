/* seeds.c - streaming seed-file reader (see seeds.h).
 *
 * Lines are read through a fixed buffer: a line longer than SEED_LINE_MAX is reported and
 * skipped without being held in memory, so a hostile file cannot exhaust it.
 */
#include "coordinator/seeds.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/error.h"

#define SEED_LINE_MAX 16384
/* A garbage file must not flood cron's mail: the first invalid lines are shown, the rest
 * counted. */
#define SEED_REPORT_MAX 100

/* Notepad (and WSL users' editors) put one before the first line */
#define UTF8_BOM "\xEF\xBB\xBF"

/* Cuts a comment off the line: '#' at its start, or after a space or tab ("http://h/a
 * # why"); a '#' inside a URL starts its fragment, and a URL holds no raw whitespace. */
static void strip_comment(char *s)
{
    for (char *p = s; *p; p++) {
        if (*p == '#' && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
            *p = '\0';
            return;
        }
    }
}

/* A line without a scheme whose start looks like a host name ("www.example.com",
 * "example.com/a", "localhost:8080/"): when http:// in front of it makes a valid URL,
 * adds "(did you mean http://LINE?)" to the reason. */
static void hint_scheme(const char *s, const struct scr_url_opts *opts, char *why,
                        size_t whylen)
{
    size_t hostlen = strcspn(s, "/?#"), name = strcspn(s, ":/?#");
    char *with = NULL, *url = NULL, msg[64];
    size_t used = strlen(why);

    if (strstr(s, "://") || hostlen == 0 || strlen(s) > 2000)
        return;
    for (size_t i = 0; i < name; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-' && s[i] != '_')
            return;
    if (!memchr(s, '.', name) && !(name == 9 && strncasecmp(s, "localhost", 9) == 0))
        return;
    with = scr_xmalloc(strlen(s) + 8);
    snprintf(with, strlen(s) + 8, "http://%s", s);
    if (scr_url_normalize(NULL, with, opts, &url, NULL, msg, sizeof(msg)) == SCR_OK &&
        used < whylen)
        snprintf(why + used, whylen - used, " (did you mean %s?)", with);
    free(url);
    free(with);
}

int scr_seeds_read(const char *path, const struct scr_url_opts *opts, int report,
                   scr_seed_fn fn, void *ctx, int64_t *valid, int64_t *invalid, char *err,
                   size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *line = NULL, *url = NULL, *host = NULL, why[256];
    int64_t lineno = 0;
    int rc = SCR_OK;

    *valid = *invalid = 0;
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return SCR_EIO;
    }
    line = scr_xmalloc(SEED_LINE_MAX + 2);
    for (;;) {
        size_t n = 0;
        int c, too_long = 0, binary = 0;
        char *s, *e;

        /* read one line into the fixed buffer, counting what does not fit */
        while ((c = getc(f)) != EOF && c != '\n') {
            if (c == '\0')
                binary = 1;
            if (n < SEED_LINE_MAX)
                line[n++] = (char)c;
            else
                too_long = 1;
        }
        if (c == EOF && n == 0 && !too_long)
            break;
        lineno++;
        line[n] = '\0';
        s = line;
        if (lineno == 1 && n >= 3 && memcmp(s, UTF8_BOM, 3) == 0)
            s += 3;
        strip_comment(s);
        while (isspace((unsigned char)*s))
            s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
            *--e = '\0';
        if (!binary && !too_long && *s == '\0')
            continue;
        if (binary || too_long) {
            snprintf(why, sizeof(why), binary ? "binary data (NUL byte)"
                                              : "line longer than 16384 bytes");
        } else if (scr_url_normalize(NULL, s, opts, &url, &host, why, sizeof(why)) == SCR_OK) {
            (*valid)++;
            rc = fn ? fn(url, host, ctx) : SCR_OK;
            free(url);
            free(host);
            url = host = NULL;
            if (rc)
                goto out;
            continue;
        }
        (*invalid)++;
        if (!binary && !too_long)
            hint_scheme(s, opts, why, sizeof(why));
        if (report && *invalid <= SEED_REPORT_MAX)
            fprintf(stderr, "%s:%lld: %s\n", path, (long long)lineno, why);
        if (c == EOF)
            break;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        rc = SCR_EIO;
    }
    if (report && *invalid > SEED_REPORT_MAX)
        fprintf(stderr, "%s: ... and %lld more invalid lines not shown\n", path,
                (long long)(*invalid - SEED_REPORT_MAX));
out:
    free(line);
    fclose(f);
    return rc;
}
