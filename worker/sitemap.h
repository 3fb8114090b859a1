/* sitemap.h - reading a sitemap or sitemap index (sitemaps.org), plain or gzip. */
#ifndef SCR_SITEMAP_H
#define SCR_SITEMAP_H

#include <stddef.h>

#include "common/strvec.h"
#include "common/url.h"

/* The most URLs taken from one sitemap file (the protocol's own limit is 50,000). */
#define SCR_SITEMAP_MAX_URLS 50000

/* A <loc> is under 2,048 characters (sitemaps.org); one this long or longer is skipped. */
#define SCR_SITEMAP_MAX_LOC 2048

/* Parses body (gunzipped first when it starts with the gzip magic, decoded size capped at
 * max_bytes) with libxml2, without network access and without expanding entities.
 * <url><loc> entries are normalized against base and appended to pages (the caller owns the
 * strings), <sitemap><loc> entries to sitemaps; a <loc> that is not plain text (an entity
 * reference, an element inside) or is SCR_SITEMAP_MAX_LOC characters or longer is skipped.
 * Returns 0, SCR_ETOOBIG (decoded size over the cap: what was read is kept) or SCR_EPARSE
 * (not XML, or a DTD that declares entities: nothing kept), with a reason in err. */
int scr_sitemap_parse(const char *body, size_t len, const char *base,
                      const struct scr_url_opts *opts, size_t max_bytes,
                      struct scr_strvec *pages, struct scr_strvec *sitemaps, char *err,
                      size_t errlen);

#endif
