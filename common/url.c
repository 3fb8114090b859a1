/* url.c - resolves and normalizes URLs: the crawler's one definition of "the same URL".
 *
 * Every seed, outlink and redirect target passes through scr_url_normalize() before it
 * reaches the frontier, so two spellings of one resource must come out byte-identical, and
 * every output must be a fixed point (normalizing it again returns it unchanged;
 * tests/unit/test_url.c checks this for each case).  The rules and their reasons are in
 * docs/internals/urls.md.
 *
 * Each step is done by what does it best.  Splitting and resolving follow RFC 3986 (appendix B
 * and section 5.2) here, not libcurl's relative handling, which has changed between releases.
 * The authority goes through libcurl's URL API, which checks ports, normalizes IPv4 and IPv6
 * literals and percent-decodes the host.  IDN labels go to libidn2 directly: libcurl 7.88's
 * CURLU_PUNYCODE converts from the process locale's charset, so it fails under the "C" locale,
 * and setlocale() is neither thread-safe nor ours to call.  Path and query are
 * percent-normalized here, since libcurl leaves them as given.
 *
 * No global state: each call owns its CURLU handle and buffers, so workers may call it from
 * several threads at once.  Hostile input is expected: any NUL-free string is handled in time
 * linear in its length, and inputs far longer than max_len are refused before parsing.
 */
#include "common/url.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <idn2.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"

/* Inputs (ref or base, after nothing but a length count) longer than this many times max_len
 * are refused unparsed: decoding %XX shrinks text at most threefold, so only pathological
 * dot-segment chains could still fit, and refusing them bounds the work per call. */
#define URL_INPUT_FACTOR 4

/* A host must reach a fixed point under (libcurl, libidn2, lower-casing) within this many
 * rounds; "%30x7f.1" needs two (decoded to "0x7f.1", then read as IPv4 "127.0.0.1"). */
#define URL_HOST_ROUNDS 4

/* Longest scheme echoed back in a reason. */
#define URL_SCHEME_ECHO 32

/* A piece of a string that is not NUL-terminated.  `set` tells an empty component ("?" with
 * nothing after it) from an absent one, as RFC 3986 section 5.2 requires. */
struct span {
    const char *p;
    size_t n;
    int set;
};

/* The five components of RFC 3986 appendix B, minus the fragment, which is always dropped. */
struct url_parts {
    struct span scheme;
    struct span authority;
    struct span path;
    struct span query;
};

/* The resolved target, before normalization.  Spans point into the cleaned ref or base. */
struct url_target {
    const char *scheme; /* "http" or "https" (static) */
    struct span authority;
    struct span query;
};

/* One query parameter, for stripping and sorting. */
struct url_param {
    const char *p;
    size_t n;      /* the whole "name=value" */
    size_t name_n; /* the part before the first '=' */
    size_t idx;    /* original position, so the sort is stable */
};

static int url_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Writes a reason into err (if any) and returns rc, so callers can `rc = url_fail(...)`. */
static int url_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* Character classes, ASCII only and locale-free (tolower() would depend on the locale). */
static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_hex(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int hex_val(int c)
{
    if (is_digit(c))
        return c - '0';
    return (c | 0x20) - 'a' + 10;
}

static int to_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static int is_unreserved(int c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static int is_sub_delim(int c)
{
    return c != '\0' && strchr("!$&'()*+,;=", c) != NULL;
}

/* May c stand unescaped in a path (pchar / "/") or a query (pchar / "/" / "?")? */
static int url_keeps(int c, int in_query)
{
    return is_unreserved(c) || is_sub_delim(c) || c == ':' || c == '@' || c == '/' ||
           (in_query && c == '?');
}

/* Returns the scheme's canonical (static) spelling if we crawl it, else NULL. */
static const char *url_scheme_name(struct span s)
{
    static const char *const names[] = {"http", "https"};
    size_t i, k;

    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strlen(names[i]) != s.n)
            continue;
        for (k = 0; k < s.n && to_lower((unsigned char)s.p[k]) == names[i][k]; k++)
            ;
        if (k == s.n)
            return names[i];
    }
    return NULL;
}

static int url_fail_scheme(char *err, size_t errlen, struct span s, const char *where)
{
    char low[URL_SCHEME_ECHO + 1];
    size_t i, n = s.n < URL_SCHEME_ECHO ? s.n : URL_SCHEME_ECHO;

    for (i = 0; i < n; i++)
        low[i] = (char)to_lower((unsigned char)s.p[i]);
    low[n] = '\0';
    return url_fail(err, errlen, SCR_EINVAL, "unsupported scheme '%s'%s%s", low,
                    s.n > n ? "..." : "", where);
}

/* Copies s into b (which must be empty) without surrounding C0 controls and spaces, without
 * TAB/CR/LF anywhere, and with '\' read as '/' before the first '?' or '#', as browsers do
 * for http(s).  Refuses, with SCR_ETOOBIG, input longer than cap bytes without reading past
 * cap + 1.  On success b->data is never NULL. */
static int url_clean(struct scr_buf *b, const char *s, size_t cap, const char *what, char *err,
                     size_t errlen)
{
    size_t i, start = 0, end = strnlen(s, cap + 1);
    int tail = 0; /* past the first '?' or '#' */
    int rc;

    if (end > cap)
        return url_fail(err, errlen, SCR_ETOOBIG, "%s longer than %zu bytes", what, cap);
    while (start < end && (unsigned char)s[start] <= 0x20)
        start++;
    while (end > start && (unsigned char)s[end - 1] <= 0x20)
        end--;
    rc = scr_buf_reserve(b, end - start);
    if (rc)
        return url_fail(err, errlen, rc, "out of memory");
    for (i = start; i < end; i++) {
        char c = s[i];

        if (c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '?' || c == '#')
            tail = 1;
        else if (c == '\\' && !tail)
            c = '/';
        b->data[b->len++] = c; /* reserved above */
    }
    b->data[b->len] = '\0';
    return SCR_OK;
}

/* Splits a cleaned reference into its components (RFC 3986 appendix B).  A scheme is only
 * recognized when it is well-formed; otherwise the text is a relative reference, as in
 * browsers ("a b:c" is a path). */
static void url_split(const char *s, size_t n, struct url_parts *u)
{
    size_t i = 0, j;

    memset(u, 0, sizeof *u);
    if (n && is_alpha((unsigned char)s[0])) {
        for (j = 1; j < n; j++) {
            int c = (unsigned char)s[j];

            if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.')
                break;
        }
        if (j < n && s[j] == ':') {
            u->scheme = (struct span){s, j, 1};
            i = j + 1;
        }
    }
    if (n - i >= 2 && s[i] == '/' && s[i + 1] == '/') {
        i += 2;
        for (j = i; j < n && s[j] != '/' && s[j] != '?' && s[j] != '#'; j++)
            ;
        u->authority = (struct span){s + i, j - i, 1};
        i = j;
    }
    for (j = i; j < n && s[j] != '?' && s[j] != '#'; j++)
        ;
    u->path = (struct span){s + i, j - i, 1};
    i = j;
    if (i < n && s[i] == '?') {
        for (j = ++i; j < n && s[j] != '#'; j++)
            ;
        u->query = (struct span){s + i, j - i, 1};
    }
}

/* Resolves the cleaned reference r against base (RFC 3986 section 5.2.2).  Fills t and
 * appends the target's path to `path`, without dot-segment removal, which the normalization
 * pass always does.  `bb` receives the cleaned base and must outlive t. */
static int url_resolve(const char *base, const struct url_parts *r, size_t cap,
                       struct scr_buf *bb, struct url_target *t, struct scr_buf *path,
                       char *err, size_t errlen)
{
    struct url_parts b;
    const char *rs = NULL, *bs, *slash;
    int rc;

    if (r->scheme.set) {
        rs = url_scheme_name(r->scheme);
        if (!rs)
            return url_fail_scheme(err, errlen, r->scheme, "");
        if (r->authority.set) {
            t->scheme = rs;
            t->authority = r->authority;
            t->query = r->query;
            return scr_buf_append(path, r->path.p, r->path.n);
        }
        /* "http:g": without "//" there is no host; against a base of the same scheme it is
         * relative, the backward-compatible reading of section 5.2.2 that browsers use. */
    }
    if (!base) {
        if (r->scheme.set)
            return url_fail(err, errlen, SCR_EINVAL, "missing host");
        if (!r->authority.set && !r->path.n && !r->query.set)
            return url_fail(err, errlen, SCR_EINVAL, "empty URL");
        return url_fail(err, errlen, SCR_EINVAL, "relative URL without a base");
    }
    rc = url_clean(bb, base, cap, "base URL", err, errlen);
    if (rc)
        return rc;
    url_split(bb->data, bb->len, &b);
    if (!b.scheme.set || !b.authority.set)
        return url_fail(err, errlen, SCR_EINVAL, "base URL is not absolute");
    bs = url_scheme_name(b.scheme);
    if (!bs)
        return url_fail_scheme(err, errlen, b.scheme, " in base URL");
    if (rs && rs != bs)
        return url_fail(err, errlen, SCR_EINVAL, "missing host");
    t->scheme = bs;
    if (r->authority.set) {
        t->authority = r->authority;
        t->query = r->query;
        return scr_buf_append(path, r->path.p, r->path.n);
    }
    t->authority = b.authority;
    if (!r->path.n) {
        t->query = r->query.set ? r->query : b.query;
        return scr_buf_append(path, b.path.p, b.path.n);
    }
    t->query = r->query;
    if (r->path.p[0] == '/')
        return scr_buf_append(path, r->path.p, r->path.n);
    /* merge (5.2.3): the base path up to its last '/', or "/" for an empty base path */
    if (!b.path.n) {
        rc = scr_buf_putc(path, '/');
    } else {
        slash = b.path.p + b.path.n;
        while (slash > b.path.p && slash[-1] != '/')
            slash--;
        rc = scr_buf_append(path, b.path.p, (size_t)(slash - b.path.p));
    }
    return rc ? rc : scr_buf_append(path, r->path.p, r->path.n);
}

/* Appends p[0..n) to b with escapes normalized: valid escapes get upper-case hex, escapes of
 * unreserved characters are decoded, a '%' not followed by two hex digits becomes "%25", and
 * every byte not allowed unescaped in a path (or query) is escaped, non-ASCII included. */
static int url_pct_normalize(struct scr_buf *b, const char *p, size_t n, int in_query)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i;
    int rc;

    if (n > SIZE_MAX / 4)
        return SCR_ENOMEM;
    rc = scr_buf_reserve(b, n * 3);
    if (rc)
        return rc;
    for (i = 0; i < n; i++) {
        int c = (unsigned char)p[i];

        if (c == '%' && n - i > 2 && is_hex((unsigned char)p[i + 1]) &&
            is_hex((unsigned char)p[i + 2])) {
            c = hex_val((unsigned char)p[i + 1]) * 16 + hex_val((unsigned char)p[i + 2]);
            i += 2;
            if (is_unreserved(c)) {
                b->data[b->len++] = (char)c;
                continue;
            }
        } else if (c != '%' && url_keeps(c, in_query)) {
            b->data[b->len++] = (char)c;
            continue;
        }
        b->data[b->len++] = '%';
        b->data[b->len++] = hex[c >> 4];
        b->data[b->len++] = hex[c & 15];
    }
    b->data[b->len] = '\0';
    return SCR_OK;
}

/* Appends the path p[0..n) to b with "." and ".." segments removed (RFC 3986 5.2.4), and "/"
 * for an empty path.  p is empty or starts with '/', which resolution guarantees for http.
 * Each ".." truncates b back to its previous '/', so the work is linear in n. */
static int url_remove_dots(struct scr_buf *b, const char *p, size_t n)
{
    size_t i = 0, j, seg, root = b->len;
    int slash_end = 0; /* the last segment was a dot segment: keep a trailing '/' */
    int rc;

    while (i < n) {
        i++; /* the '/' that starts this segment */
        for (j = i; j < n && p[j] != '/'; j++)
            ;
        seg = j - i;
        slash_end = 0;
        if (seg == 1 && p[i] == '.') {
            slash_end = 1;
        } else if (seg == 2 && p[i] == '.' && p[i + 1] == '.') {
            while (b->len > root && b->data[b->len - 1] != '/')
                b->len--;
            if (b->len > root)
                b->len--;
            slash_end = 1;
        } else {
            rc = scr_buf_putc(b, '/');
            if (!rc)
                rc = scr_buf_append(b, p + i, seg);
            if (rc)
                return rc;
        }
        i = j;
    }
    if (slash_end || b->len == root)
        return scr_buf_putc(b, '/');
    b->data[b->len] = '\0';
    return SCR_OK;
}

/* Is this parameter one that opts says to drop?  Names are compared as they stand in the
 * normalized query; the "utm_" prefix in any case, the user's names exactly. */
static int url_param_dropped(const struct url_param *q, const struct scr_url_opts *opts)
{
    const char *const *s;
    size_t k;

    if (!opts->strip_tracking)
        return 0;
    if (q->name_n >= 4) {
        for (k = 0; k < 4 && to_lower((unsigned char)q->p[k]) == "utm_"[k]; k++)
            ;
        if (k == 4)
            return 1;
    }
    for (s = opts->strip_params; s && *s; s++)
        if (strlen(*s) == q->name_n && memcmp(*s, q->p, q->name_n) == 0)
            return 1;
    return 0;
}

/* Orders parameters by name, bytewise, then by original position (qsort is not stable). */
static int url_param_cmp(const void *va, const void *vb)
{
    const struct url_param *a = va, *b = vb;
    size_t n = a->name_n < b->name_n ? a->name_n : b->name_n;
    int c = memcmp(a->p, b->p, n);

    if (c)
        return c;
    if (a->name_n != b->name_n)
        return a->name_n < b->name_n ? -1 : 1;
    return a->idx < b->idx ? -1 : (a->idx > b->idx);
}

/* Applies strip_tracking and sort_query to the normalized query in q, replacing its
 * contents.  Empty parameters ("a&&b", a trailing '&') are dropped on the way. */
static int url_query_opts(struct scr_buf *q, const struct scr_url_opts *opts)
{
    struct url_param *v = NULL;
    struct scr_buf nb;
    size_t i, start, count = 1, used = 0;
    int rc = SCR_OK;

    scr_buf_init(&nb);
    for (i = 0; i < q->len; i++)
        count += q->data[i] == '&';
    v = scr_xcalloc(count, sizeof *v);
    for (start = 0, i = 0; i <= q->len; i++) {
        struct url_param *cur = &v[used];
        const char *eq;

        if (i < q->len && q->data[i] != '&')
            continue;
        cur->p = q->data + start;
        cur->n = i - start;
        eq = memchr(cur->p, '=', cur->n);
        cur->name_n = eq ? (size_t)(eq - cur->p) : cur->n;
        cur->idx = used;
        start = i + 1;
        if (cur->n && !url_param_dropped(cur, opts))
            used++;
    }
    if (opts->sort_query && used > 1)
        qsort(v, used, sizeof *v, url_param_cmp);
    rc = scr_buf_reserve(&nb, q->len);
    for (i = 0; !rc && i < used; i++) {
        if (i)
            rc = scr_buf_putc(&nb, '&');
        if (!rc)
            rc = scr_buf_append(&nb, v[i].p, v[i].n);
    }
    if (rc)
        goto out;
    scr_buf_release(q);
    *q = nb;
    scr_buf_init(&nb);
out:
    scr_buf_release(&nb);
    free(v);
    return rc;
}

/* Maps a CURLU error on the authority to a reason. */
static int url_fail_curl(char *err, size_t errlen, CURLUcode uc)
{
    switch (uc) {
    case CURLUE_OUT_OF_MEMORY:
        return url_fail(err, errlen, SCR_ENOMEM, "out of memory");
    case CURLUE_BAD_PORT_NUMBER:
        return url_fail(err, errlen, SCR_EINVAL, "invalid port");
    case CURLUE_NO_HOST:
        return url_fail(err, errlen, SCR_EINVAL, "empty host");
    case CURLUE_BAD_IPV6:
        return url_fail(err, errlen, SCR_EINVAL, "invalid IPv6 address");
    case CURLUE_BAD_HOSTNAME:
        return url_fail(err, errlen, SCR_EINVAL, "invalid host");
    default:
        return url_fail(err, errlen, SCR_EINVAL, "invalid authority (%s)",
                        curl_url_strerror(uc));
    }
}

/* Converts a host holding non-ASCII bytes to punycode in place of *host (UTS #46
 * non-transitional, like browsers and libcurl, falling back to transitional as libcurl does).
 * *host is malloc'ed and replaced by a malloc'ed string on success. */
static int url_host_idn(char **host, char *err, size_t errlen)
{
    uint8_t *a = NULL;
    int ic;

    ic = idn2_lookup_u8((const uint8_t *)*host, &a, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    if (ic != IDN2_OK)
        ic = idn2_lookup_u8((const uint8_t *)*host, &a, IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
    if (ic == IDN2_MALLOC)
        return url_fail(err, errlen, SCR_ENOMEM, "out of memory");
    if (ic != IDN2_OK)
        return url_fail(err, errlen, SCR_EINVAL, "invalid international host name (%s)",
                        idn2_strerror(ic));
    free(*host);
    *host = (char *)a; /* idn2_free() is free() */
    return SCR_OK;
}

/* One round of host normalization: parses "scheme://auth/" with libcurl, then converts the
 * host to punycode and lower case and checks what is left.  On success *host (never NULL)
 * and *port (NULL without an explicit port) are malloc'ed and the caller frees both; on
 * failure neither is touched. */
static int url_host_round(const char *scheme, const char *auth, size_t n, char **host,
                          char **port, char *err, size_t errlen)
{
    struct scr_buf u;
    CURLU *cu = NULL;
    CURLUcode uc;
    char *ch = NULL, *cp = NULL, *z = NULL, *h = NULL, *pt = NULL;
    size_t i;
    int rc;

    scr_buf_init(&u);
    rc = scr_buf_printf(&u, "%s://", scheme);
    if (!rc)
        rc = scr_buf_append(&u, auth, n);
    if (!rc)
        rc = scr_buf_putc(&u, '/');
    cu = rc ? NULL : curl_url();
    if (!cu) {
        rc = url_fail(err, errlen, SCR_ENOMEM, "out of memory");
        goto out;
    }
    uc = curl_url_set(cu, CURLUPART_URL, u.data, CURLU_DISALLOW_USER);
    if (!uc && curl_url_get(cu, CURLUPART_ZONEID, &z, 0) == CURLUE_OK) {
        rc = url_fail(err, errlen, SCR_EINVAL, "IPv6 zone id not allowed");
        goto out;
    }
    if (!uc)
        uc = curl_url_get(cu, CURLUPART_HOST, &ch, 0);
    if (uc) {
        rc = url_fail_curl(err, errlen, uc);
        goto out;
    }
    uc = curl_url_get(cu, CURLUPART_PORT, &cp, 0);
    if (uc && uc != CURLUE_NO_PORT) {
        rc = url_fail_curl(err, errlen, uc);
        goto out;
    }
    h = scr_xstrdup(ch);
    pt = cp ? scr_xstrdup(cp) : NULL;
    for (i = 0; h[i] && !(h[i] & 0x80); i++)
        ;
    if (h[i]) {
        rc = url_host_idn(&h, err, errlen);
        if (rc)
            goto out;
    }
    /* IPv6 literals were checked by libcurl; names may only hold what DNS can resolve (this
     * also catches what IDNA mapping can produce, such as '/' from U+FF0F). */
    for (i = 0; h[i]; i++) {
        h[i] = (char)to_lower((unsigned char)h[i]);
        if (h[0] != '[' && !is_alpha(h[i]) && !is_digit(h[i]) && !strchr("-._", h[i]))
            break;
    }
    if (h[i] || !h[0]) {
        rc = url_fail(err, errlen, SCR_EINVAL, h[0] ? "invalid host" : "empty host");
        goto out;
    }
    *host = h;
    *port = pt;
    h = pt = NULL;
out:
    free(pt);
    free(h);
    curl_free(z);
    curl_free(cp);
    curl_free(ch);
    curl_url_cleanup(cu);
    scr_buf_release(&u);
    return rc;
}

/* Normalizes the authority into *host (lower case, punycode, IPv6 in brackets) and appends
 * "host[:port]" to `canon`, without a default port.  Rounds repeat until the host stops
 * changing, so the result is a fixed point.  *host is malloc'ed; the caller frees it. */
static int url_authority(const char *scheme, struct span auth, struct scr_buf *canon,
                         char **host, char *err, size_t errlen)
{
    struct scr_buf prev;
    char *h = NULL, *port = NULL;
    size_t mark = canon->len;
    int round, rc;

    scr_buf_init(&prev);
    if (!auth.n) {
        rc = url_fail(err, errlen, SCR_EINVAL, "empty host");
        goto out;
    }
    if (memchr(auth.p, '@', auth.n)) {
        rc = url_fail(err, errlen, SCR_EINVAL, "userinfo not allowed");
        goto out;
    }
    rc = scr_buf_append(&prev, auth.p, auth.n);
    for (round = 0; !rc; round++) {
        free(h);
        free(port);
        h = port = NULL;
        rc = url_host_round(scheme, prev.data, prev.len, &h, &port, err, errlen);
        if (rc)
            goto out;
        canon->len = mark;
        rc = scr_buf_printf(canon, port ? "%s:%s" : "%s", h, port ? port : "");
        if (rc || (canon->len - mark == prev.len &&
                   !memcmp(canon->data + mark, prev.data, prev.len)))
            break;
        if (round == URL_HOST_ROUNDS) {
            rc = url_fail(err, errlen, SCR_EINVAL, "host name does not settle");
            goto out;
        }
        scr_buf_reset(&prev);
        rc = scr_buf_append(&prev, canon->data + mark, canon->len - mark);
    }
    if (rc)
        goto out;
    if (port && !strcmp(port, "0")) {
        rc = url_fail(err, errlen, SCR_EINVAL, "invalid port");
        goto out;
    }
    if (port && !strcmp(port, strcmp(scheme, "https") ? "80" : "443")) {
        canon->len = mark + strlen(h);
        canon->data[canon->len] = '\0';
    }
    *host = h;
    h = NULL;
out:
    if (rc == SCR_ENOMEM)
        url_fail(err, errlen, rc, "out of memory");
    free(h);
    free(port);
    scr_buf_release(&prev);
    return rc;
}

int scr_url_normalize(const char *base, const char *ref, const struct scr_url_opts *opts,
                      char **out, char **host_out, char *err, size_t errlen)
{
    static const struct scr_url_opts defaults = {0, NULL, 0, 0};
    struct scr_buf rb, bb, rawpath, pcpath, query, res;
    struct url_parts r;
    struct url_target t;
    char *host = NULL, *url = NULL;
    size_t max_len, cap;
    int rc;

    scr_buf_init(&rb);
    scr_buf_init(&bb);
    scr_buf_init(&rawpath);
    scr_buf_init(&pcpath);
    scr_buf_init(&query);
    scr_buf_init(&res);
    if (!ref || !out) {
        rc = url_fail(err, errlen, SCR_EINVAL, "no URL given");
        goto out;
    }
    if (!opts)
        opts = &defaults;
    max_len = opts->max_len ? opts->max_len : SCR_URL_MAX_LEN;
    cap = SIZE_MAX / (2 * URL_INPUT_FACTOR); /* so that cap + 1 and 3 * len cannot overflow */
    cap = (max_len < cap ? max_len : cap) * URL_INPUT_FACTOR;

    rc = url_clean(&rb, ref, cap, "URL", err, errlen);
    if (rc)
        goto out;
    url_split(rb.data, rb.len, &r);
    memset(&t, 0, sizeof t);
    rc = url_resolve(base, &r, cap, &bb, &t, &rawpath, err, errlen);
    if (rc)
        goto out;

    rc = scr_buf_printf(&res, "%s://", t.scheme);
    if (!rc)
        rc = url_authority(t.scheme, t.authority, &res, &host, err, errlen);
    if (rc)
        goto out;
    /* escapes first, so "%2E%2E" is a dot segment and the output is a fixed point */
    rc = url_pct_normalize(&pcpath, rawpath.data ? rawpath.data : "", rawpath.len, 0);
    if (!rc)
        rc = url_remove_dots(&res, pcpath.data, pcpath.len);
    if (!rc && t.query.set)
        rc = url_pct_normalize(&query, t.query.p, t.query.n, 1);
    if (!rc && query.len && (opts->strip_tracking || opts->sort_query))
        rc = url_query_opts(&query, opts);
    if (!rc && query.len) /* an empty query is dropped with its '?' */
        rc = scr_buf_printf(&res, "?%s", query.data);
    if (rc) {
        rc = url_fail(err, errlen, rc, "out of memory");
        goto out;
    }
    if (res.len > max_len) {
        rc = url_fail(err, errlen, SCR_ETOOBIG, "URL longer than %zu bytes (%zu)", max_len,
                      res.len);
        goto out;
    }

    url = scr_buf_detach(&res, NULL); /* never NULL */
    *out = url;
    if (host_out) {
        *host_out = host;
        host = NULL;
    }
    rc = SCR_OK;
out:
    free(host);
    scr_buf_release(&res);
    scr_buf_release(&query);
    scr_buf_release(&pcpath);
    scr_buf_release(&rawpath);
    scr_buf_release(&bb);
    scr_buf_release(&rb);
    return rc;
}
