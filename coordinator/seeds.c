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

#include "common/alloc.h"
#include "common/error.h"

#define SEED_LINE_MAX 16384
/* A garbage file must not flood cron's mail: the first invalid lines are shown, the rest
 * counted. */
#define SEED_REPORT_MAX 100

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
        while (isspace((unsigned char)*s))
            s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
            *--e = '\0';
        if (!binary && !too_long && (*s == '\0' || *s == '#'))
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
