/* robots.h - robots.txt (RFC 9309): parse a host's file once, then answer "may this crawler
 * fetch this path?" for as many URLs as needed.
 *
 * Pure computation: no network, no database.  The coordinator fetches /robots.txt once per
 * host, caches the body, and calls scr_robots_parse(); the frontier and `scrape robots` ask
 * scr_robots_allowed*() per URL.  A parsed struct scr_robots is immutable, so any number of
 * threads may query it at once.  A NULL struct scr_robots means "no robots.txt": every query
 * function then answers "allowed", "no crawl-delay", "no sitemaps".
 *
 * The rules implemented, and every decision taken where the RFC leaves room, are in
 * docs/internals/robots.md.
 */
#ifndef SCR_ROBOTS_H
#define SCR_ROBOTS_H

#include <stddef.h>

/* Bytes of a body that are parsed; the rest is ignored, as RFC 9309 2.5 allows.  A line cut
 * by the cap is dropped rather than parsed half. */
#define SCR_ROBOTS_MAX_BYTES (500 * 1024)
/* Records kept per file: user-agent, allow and disallow lines together.  The shortest line
 * that makes a record is 8 bytes ("allow:a" and its line end), so a file within
 * SCR_ROBOTS_MAX_BYTES never reaches this cap: it is parsed whole, as RFC 9309 2.5 asks.  The
 * cap only guards the arrays should SCR_ROBOTS_MAX_BYTES ever grow without it; once reached,
 * the rest of the file is ignored as if it were beyond SCR_ROBOTS_MAX_BYTES. */
#define SCR_ROBOTS_MAX_RULES (SCR_ROBOTS_MAX_BYTES / 8)
/* A pattern, product token or sitemap URL longer than this many octets (as written) is
 * ignored.  Google's parser reads lines of up to 16,663 bytes (8 x 2083, its browser URL
 * limit, minus the NUL); every value such a line can hold is kept. */
#define SCR_ROBOTS_MAX_PATTERN 16664
/* Sitemap lines kept per file; later ones are ignored. */
#define SCR_ROBOTS_MAX_SITEMAPS 1000

struct scr_robots;

/* Parses `len` bytes of a robots.txt body (need not be NUL-terminated; may contain NULs;
 * body may be NULL when len is 0).  Malformed content never fails the parse: what cannot be
 * understood is ignored, line by line.
 *
 * On success returns 0 and *out is a new struct the caller frees with scr_robots_free().
 * Returns SCR_ENOMEM (or SCR_EINVAL if out is NULL) and leaves *out untouched on failure. */
int scr_robots_parse(const char *body, size_t len, struct scr_robots **out);

/* Frees everything `r` holds and `r` itself.  NULL is a no-op. */
void scr_robots_free(struct scr_robots *r);

/* Returns 1 if the crawler whose product token is `agent` may fetch `path_and_query`, 0 if
 * not.  `agent` is the crawler's product token ("scrape"); a full user-agent string is
 * accepted and reduced to its leading product token ("scrape/1.0 (+url)" -> "scrape").
 * NULL or a value without a token matches only the "*" groups.  `path_and_query` is the
 * URL's path plus query ("/a/b?x=1"); NULL, "" or a leading "?" stand for the path "/"; a
 * "#fragment" is ignored.  Raw or escaped, both spellings compare equal (see robots.md).
 * Answers 0 (the polite choice) if memory for a very long path cannot be had. */
int scr_robots_allowed(const struct scr_robots *r, const char *agent,
                       const char *path_and_query);

/* As scr_robots_allowed(), on an absolute URL ("https://host:8080/a?b#c"): the path and query
 * are what follows "scheme://authority".  A string without "scheme://" is taken as a path. */
int scr_robots_allowed_url(const struct scr_robots *r, const char *agent,
                           const char *absolute_url);

/* Returns the Crawl-delay in seconds (>= 0) of the group(s) that apply to `agent` (chosen as
 * for scr_robots_allowed(); the first valid value in file order), or -1 if they set none. */
double scr_robots_crawl_delay(const struct scr_robots *r, const char *agent);

/* Sitemap URLs, in file order, wherever they appear in the file.  scr_robots_sitemap()
 * returns NULL when i >= scr_robots_sitemap_count(r); the string is borrowed from `r` and
 * lives until scr_robots_free(r). */
size_t scr_robots_sitemap_count(const struct scr_robots *r);
const char *scr_robots_sitemap(const struct scr_robots *r, size_t i);

#endif
