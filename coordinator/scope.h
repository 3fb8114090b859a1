/* scope.h - which discovered URLs enter the frontier.
 *
 * Default scope: links on the hosts of the job's seed URLs (the "host" of a URL is its
 * authority, host[:port], as normalized), no deeper than --max-depth, and no more URLs in the
 * job than --max-pages.  The seed hosts are read from the database (the job's depth-0 URLs),
 * so a resumed run without --seed keeps the same scope.
 *
 * The settings narrow or move it, checked in this order (the first that fails is the reason
 * a link is dropped):
 *   too_deep      the page is at --max-depth already
 *   too_long      the URL is longer than --max-url-length
 *   out_of_scope  not an http(s) URL with a host (or a '\n' in it)
 *   denied        on a --deny-domain (before --allow-domain is looked at: deny always wins)
 *   out_of_scope  without --allow-domain, not on a seed host; with --allow-domain, not on an
 *                 allowed domain (the seed hosts then no longer count).  A domain matches
 *                 itself and its subdomains, by host name without port: example.com matches
 *                 a.example.com:8080, not badexample.com.
 *   excluded      --include given and the URL does not match it, or it matches --exclude.
 *                 Both are PCRE2 searches (unanchored: write ^...$ to anchor) over the whole
 *                 normalized URL; a match that errors (e.g. hits the backtracking limit)
 *                 counts as excluded.
 *   trap          the crawler-trap guard: more than 16 path segments, a path segment that
 *                 occurs 3 or more times (/a/b/a/b/a/b), or a query string that would be the
 *                 (--max-query-variants + 1)th distinct one for its scheme+host+path.
 *                 Segments are the non-empty pieces between '/' (so "//" adds none),
 *                 compared as spelled in the normalized URL; a URL without a query is not a
 *                 variant.
 *   host_cap      the host already has --max-pages-per-host URLs.
 *
 * What the guard and the host cap remember is per run and bounded: the distinct URLs kept by
 * this run (as 64-bit hashes) and the query variants per host+path, cleared together once
 * SCR_SCOPE_GUARD_MAX URLs are remembered.  So a run forgets old variants, and a new run
 * starts again from zero variants.  Per-host counts start from the job's counts in the
 * database (scr_scope_load) and grow by each distinct URL this run keeps; a URL the job
 * already had, or one forgotten at a clearing, may be counted twice.  The count can thus run
 * ahead of the database and stop a host early, never late.
 *
 * Everything here runs on rank 0, single-threaded.
 */
#ifndef SCR_SCOPE_H
#define SCR_SCOPE_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "common/settings.h"
#include "common/strmap.h"
#include "common/strvec.h"

/* Distinct URLs the trap guard remembers before it forgets them all. */
#define SCR_SCOPE_GUARD_MAX 100000
/* Path segments allowed before a URL counts as a trap, and repeats of one segment that do. */
#define SCR_SCOPE_MAX_SEGMENTS 16
#define SCR_SCOPE_MAX_REPEATS 3

/* Why scr_scope_decide() keeps or drops a link (see the order above). */
enum scr_scope_reason {
    SCR_SCOPE_KEEP = 0,
    SCR_SCOPE_TOO_DEEP,
    SCR_SCOPE_TOO_LONG,
    SCR_SCOPE_OUT_OF_SCOPE,
    SCR_SCOPE_DENIED,
    SCR_SCOPE_EXCLUDED,
    SCR_SCOPE_TRAP,
    SCR_SCOPE_HOST_CAP
};

/* Links dropped by scr_scope_filter(), per reason, since scr_scope_init(). */
struct scr_scope_drops {
    uint64_t out_of_scope;
    uint64_t denied;
    uint64_t excluded;
    uint64_t too_deep;
    uint64_t too_long;
    uint64_t trap;
    uint64_t host_cap;
};

struct scr_scope_rules; /* compiled settings and the guard's memory (scope.c) */

struct scr_scope {
    struct scr_strmap hosts; /* seed hosts (values unused) */
    int max_depth;
    int64_t max_pages;       /* 0 = no limit */
    int64_t known;           /* URLs the job knows (for progress; kept up to date) */
    struct scr_scope_drops drops;
    struct scr_scope_rules *rules; /* owned; NULL after a failed init: every link is dropped */
};

/* Sets up sc from the settings: parses the domain lists, compiles --include and --exclude
 * (with JIT when available).  The caller owns sc and calls scr_scope_release() whatever this
 * returns.  Returns SCR_EINVAL for settings scr_scope_check() rejects, SCR_ENOMEM; after a
 * failure sc is usable but keeps no link ("fail closed"), so validate with scr_scope_check()
 * first to tell the user why. */
int scr_scope_init(struct scr_scope *sc, const struct scr_settings *s);
void scr_scope_release(struct scr_scope *sc);

/* Checks the scope and URL settings without keeping anything: the domain lists (an empty
 * name, a name with a port, path or wildcard), the regexes, --strip-param (common/urlopts.h).
 * Returns 0, or SCR_EINVAL with a message naming the option in err, such as
 * "--include: missing closing parenthesis at offset 5" or
 * "--deny-domain: empty domain name in 'a.com,,b.com'". */
int scr_scope_check(const struct scr_settings *s, char *err, size_t errlen);

/* Loads the seed hosts and the URL count of the job, and the per-host URL counts when
 * --max-pages-per-host is set. */
int scr_scope_load(struct scr_scope *sc, PGconn *db, int64_t job_id, char *err, size_t errlen);

/* Adds a seed host (an authority, "host[:port]", as scr_url_authority() writes it). */
int scr_scope_add_host(struct scr_scope *sc, const char *authority);

/* Sets the number of URLs the job already has on a host (an authority), the starting point
 * of --max-pages-per-host.  Ignored (returns 0) when that option is not set. */
int scr_scope_set_host_count(struct scr_scope *sc, const char *authority, int64_t count);

/* Writes the authority (host[:port]) of a normalized http(s) URL into buf; SCR_EINVAL if the
 * URL has none or it does not fit. */
int scr_url_authority(const char *url, char *buf, size_t len);

/* Decides one normalized link found on a page at depth `depth`.  On SCR_SCOPE_KEEP the link
 * is remembered by the guard and counted for its host, and its authority is in host (len
 * bytes; 256 is plenty, a longer authority makes the link out of scope).  Does not touch
 * sc->drops.  Never fails: out of memory for the guard makes it skip remembering. */
enum scr_scope_reason scr_scope_decide(struct scr_scope *sc, int depth, const char *url,
                                       char *host, size_t len);

/* "kept", "too_deep", "too_long", "out_of_scope", "denied", "excluded", "trap", "host_cap". */
const char *scr_scope_reason_name(enum scr_scope_reason r);

/* Formats the counters on one line: "out_of_scope 12, denied 0, excluded 3, too_deep 40,
 * too_long 0, trap 2, host_cap 0".  Returns what snprintf returns. */
int scr_scope_drops_format(const struct scr_scope_drops *d, char *buf, size_t len);

/* Filters the outlinks of a page at depth `depth` with scr_scope_decide() (--max-pages is
 * applied when they are inserted, where it is known which links are new): appends copies of
 * the kept ones to links and their hosts to hosts (both the caller's) and counts the others
 * in sc->drops.  Returns the number kept. */
size_t scr_scope_filter(struct scr_scope *sc, int depth, const struct scr_strvec *in,
                        struct scr_strvec *links, struct scr_strvec *hosts);

#endif
