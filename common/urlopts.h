/* urlopts.h - the URL normalization options of a run, built from its settings.
 *
 * --strip-tracking, --strip-param, --sort-query and --max-url-length decide what "the same
 * URL" means (common/url.h).  They are wire settings: the coordinator (seeds), the workers
 * (outlinks, redirects) and `scrape url` must all build the same struct scr_url_opts from
 * them, and this is the one function that does.
 */
#ifndef SCR_URLOPTS_H
#define SCR_URLOPTS_H

#include <stddef.h>

#include "common/settings.h"
#include "common/url.h"

struct scr_urlopts {
    struct scr_url_opts opts; /* pass &uo.opts to scr_url_normalize() */
    char **params;            /* NULL-terminated --strip-param names, owned; opts points here */
};

/* Fills uo from s.  --strip-param is a comma list; spaces around names are ignored.  Fails
 * with SCR_EINVAL and a message naming the option in err for an empty name ("a,,b"), a name
 * containing '&', '=' or whitespace (it could never match a parameter), or --strip-param
 * without --strip-tracking (it would silently do nothing).
 * On success the caller owns uo and calls scr_urlopts_release(); on failure uo holds nothing
 * and needs no release (a release is harmless).  uo may be moved: opts points to the heap. */
int scr_urlopts_init(struct scr_urlopts *uo, const struct scr_settings *s, char *err,
                     size_t errlen);

/* Frees what uo holds and leaves it as a zeroed struct (the defaults).  Safe twice. */
void scr_urlopts_release(struct scr_urlopts *uo);

#endif
