/* url.h - the one function that decides what a URL is.
 *
 * Used for seeds, outlinks and redirects alike, so a URL has exactly one spelling in the
 * frontier.  A link means what a browser makes of it (the WHATWG URL Standard), with the
 * crawler's normalizations on top.  See docs/internals/urls.md for the rules.
 */
#ifndef SCR_URL_H
#define SCR_URL_H

#include <stddef.h>

/* Options that change what "the same URL" means.  A zeroed struct (or NULL) gives the
 * defaults: keep every query parameter, keep query order, max_len SCR_URL_MAX_LEN. */
struct scr_url_opts {
    int strip_tracking;               /* drop utm_* and the names in strip_params */
    const char *const *strip_params;  /* NULL-terminated extra parameter names to drop */
    int sort_query;                   /* sort query parameters by name (stable) */
    size_t max_len;                   /* reject longer normalized URLs; 0 = SCR_URL_MAX_LEN */
};

#define SCR_URL_MAX_LEN 2048

/* Resolves `ref` against `base` (base may be NULL when ref is absolute) and normalizes the
 * result: resolution and parsing as the WHATWG URL Standard does for http(s) (any number of
 * slashes before the host, "https:host" too; IPv4 and IPv6 hosts written the standard's way;
 * its percent-encode sets for path and query), then dot segments removed, lower-case scheme
 * and host, default port dropped, fragment dropped, "/" for an empty path, percent-escapes
 * with upper-case hex, escaped unreserved characters decoded, IDN host converted to
 * punycode, http and https only.  Decisions worth knowing: userinfo ("user@host") is refused
 * unless empty ("@host" is read as "host"), a host may only hold a-z 0-9 - . _, a '%' not
 * followed by two hex digits stays as it is, an empty query is dropped with its '?', and
 * inputs longer than 4 * max_len fail unparsed.
 *
 * On success returns 0, *out is the normalized URL and, when host_out is not NULL, *host_out
 * is its host (lower case, punycode, no port; IPv6 in brackets); the caller frees both with
 * free().  On failure returns SCR_EINVAL (or SCR_ENOMEM / SCR_ETOOBIG), writes a short reason
 * such as "unsupported scheme 'ftp'" into err (if err is not NULL), and leaves *out and
 * *host_out untouched. */
int scr_url_normalize(const char *base, const char *ref, const struct scr_url_opts *opts,
                      char **out, char **host_out, char *err, size_t errlen);

#endif
