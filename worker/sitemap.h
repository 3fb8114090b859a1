/* sitemap.h - reading a sitemap or sitemap index (sitemaps.org), plain or gzip. */
#ifndef SCR_SITEMAP_H
#define SCR_SITEMAP_H

#include <stddef.h>

#include "common/strvec.h"
#include "common/url.h"

/* The most URLs taken from one sitemap file (the protocol's own limit is 50,000). */
#define SCR_SITEMAP_MAX_URLS 50000

/* Parses body (gunzipped first when it starts with the gzip magic, decoded size capped at
 * max_bytes) with libxml2, without network access.  <url><loc> entries are normalized against
 * base and appended to pages, <sitemap><loc> entries to sitemaps.  Returns 0, SCR_ETOOBIG
 * (decoded size over the cap: what was read is kept) or SCR_EPARSE (not XML; nothing kept),
 * with a reason in err. */
int scr_sitemap_parse(const char *body, size_t len, const char *base,
                      const struct scr_url_opts *opts, size_t max_bytes,
                      struct scr_strvec *pages, struct scr_strvec *sitemaps, char *err,
                      size_t errlen);

#endif
