/* scope.h - which discovered URLs enter the frontier.
 *
 * Default scope: links on the hosts of the job's seed URLs (the "host" of a URL is its
 * authority, host[:port], as normalized), no deeper than --max-depth, and no more URLs in the
 * job than --max-pages.  The seed hosts are read from the database (the job's depth-0 URLs),
 * so a resumed run without --seed keeps the same scope.
 */
#ifndef SCR_SCOPE_H
#define SCR_SCOPE_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "common/settings.h"
#include "common/strmap.h"
#include "common/strvec.h"

struct scr_scope {
    struct scr_strmap hosts; /* seed hosts (values unused) */
    int max_depth;
    int64_t max_pages;       /* 0 = no limit */
    int64_t known;           /* URLs the job knows (for progress; kept up to date) */
};

int scr_scope_init(struct scr_scope *sc, const struct scr_settings *s);
void scr_scope_release(struct scr_scope *sc);

/* Loads the seed hosts and the URL count of the job. */
int scr_scope_load(struct scr_scope *sc, PGconn *db, int64_t job_id, char *err, size_t errlen);

/* Writes the authority (host[:port]) of a normalized http(s) URL into buf; SCR_EINVAL if the
 * URL has none or it does not fit. */
int scr_url_authority(const char *url, char *buf, size_t len);

/* Filters the outlinks of a page at depth `depth` (--max-pages is applied when they are
 * inserted, where it is known which links are new): appends the in-scope ones, '\n'-joined, to
 * *links and their hosts to *hosts (both malloc'd; caller frees).  Returns the number kept. */
size_t scr_scope_filter(struct scr_scope *sc, int depth, const struct scr_strvec *in,
                        char **links, char **hosts);

#endif
