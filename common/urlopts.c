/* urlopts.c - struct scr_url_opts from the settings (see urlopts.h).
 *
 * Called once per process (coordinator preflight, worker start, `scrape url`), never per
 * URL, so it favours clear messages over speed.
 */
#include "common/urlopts.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Splits the comma list into uo->params.  Names are checked, not escaped: they are compared
 * with parameter names as they stand in the normalized query, so "a%20b" is written so. */
static int split_params(struct scr_urlopts *uo, const char *list, char *err, size_t errlen)
{
    size_t n = 1, used = 0;
    const char *p = list;

    for (const char *c = list; *c; c++)
        n += *c == ',';
    uo->params = scr_xcalloc(n + 1, sizeof(*uo->params));
    for (;;) {
        const char *end = p + strcspn(p, ","), *a = p, *b = end;

        while (a < b && is_space(*a))
            a++;
        while (b > a && is_space(b[-1]))
            b--;
        if (a == b) {
            snprintf(err, errlen, "--strip-param: empty parameter name in '%s'", list);
            return SCR_EINVAL;
        }
        for (const char *c = a; c < b; c++) {
            if (*c == '&' || *c == '=' || *c == '#' || is_space(*c)) {
                snprintf(err, errlen, "--strip-param: '%.*s' is not a parameter name",
                         (int)(b - a), a);
                return SCR_EINVAL;
            }
        }
        assert(used < n); /* n counted the commas */
        uo->params[used++] = scr_xstrndup(a, (size_t)(b - a));
        if (!*end)
            break;
        p = end + 1;
    }
    return SCR_OK;
}

int scr_urlopts_init(struct scr_urlopts *uo, const struct scr_settings *s, char *err,
                     size_t errlen)
{
    int rc = SCR_OK;

    memset(uo, 0, sizeof(*uo));
    if (s->strip_param && *s->strip_param && !s->strip_tracking) {
        snprintf(err, errlen, "--strip-param: has no effect without --strip-tracking");
        return SCR_EINVAL;
    }
    if (s->strip_param) {
        rc = split_params(uo, s->strip_param, err, errlen);
        if (rc)
            goto out;
    }
    uo->opts.strip_tracking = s->strip_tracking;
    uo->opts.strip_params = (const char *const *)uo->params;
    uo->opts.sort_query = s->sort_query;
    uo->opts.max_len = s->max_url_length > 0 ? (size_t)s->max_url_length : 0;
out:
    if (rc)
        scr_urlopts_release(uo);
    return rc;
}

void scr_urlopts_release(struct scr_urlopts *uo)
{
    for (char **p = uo->params; p && *p; p++)
        free(*p);
    free(uo->params);
    memset(uo, 0, sizeof(*uo));
}
