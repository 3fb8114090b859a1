/* url.c - resolves and normalizes URLs: the crawler's one definition of "the same URL".
 *
 * Every seed, outlink and redirect target passes through scr_url_normalize() before it
 * reaches the frontier, so two spellings of one resource must come out byte-identical, and
 * every output must be a fixed point (normalizing it again returns it unchanged;
 * tests/unit/test_url.c checks this for each case).  The rules and their reasons are in
 * docs/internals/urls.md.
 *
 * A link means what a browser makes of it: for http(s), resolution, the authority and the
 * escaping of path and query follow the WHATWG URL Standard (the parser browsers implement),
 * written here; the crawler's own normalizations (fragment dropped, escape case, unreserved
 * escapes decoded, empty query dropped, options) are applied on top.  libcurl is not used:
 * its relative handling has changed between releases and its host rules are not a browser's.
 * IDN labels go to libidn2 directly (libcurl 7.88's CURLU_PUNYCODE converts from the process
 * locale's charset, so it fails under the "C" locale, and setlocale() is neither thread-safe
 * nor ours to call).  tests/fixtures/url/wpt-http.json holds the standard's test cases.
 *
 * No global state: each call owns its buffers, so workers may call it from several threads
 * at once.  Hostile input is expected: any NUL-free string is handled in time
 * linear in its length, and inputs far longer than max_len are refused before parsing.
 */
#include "common/url.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <idn2.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"

/* Inputs (ref or base, after nothing but a length count) longer than this many times max_len
 * are refused unparsed: decoding %XX shrinks text at most threefold, so only pathological
 * dot-segment chains could still fit, and refusing them bounds the work per call. */
#define URL_INPUT_FACTOR 4

/* Longest scheme echoed back in a reason. */
#define URL_SCHEME_ECHO 32

/* A piece of a string that is not NUL-terminated.  `set` tells an empty component ("?" with
 * nothing after it) from an absent one, as RFC 3986 section 5.2 requires. */
struct span {
    const char *p;
    size_t n;
    int set;
};

/* An absolute URL's pieces, as written (the fragment is gone before splitting). */
struct url_parts {
    const char *scheme; /* "http" or "https" (static) */
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

/* May c stand unescaped in a path or a query?  The WHATWG URL Standard's path
 * percent-encode set and special-query percent-encode set are escaped: C0 controls, space,
 * DEL, every byte >= 0x80, '"', '#', '<', '>'; in a path also '?', '^', '`', '{', '}'; in a
 * query also '\''.  The rest stays as written ('|', '[', ']' included), as in browsers. */
static int url_keeps(int c, int in_query)
{
    if (c <= 0x20 || c >= 0x7F || c == '"' || c == '#' || c == '<' || c == '>')
        return 0;
    if (in_query)
        return c != '\'';
    return c != '?' && c != '^' && c != '`' && c != '{' && c != '}';
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
 * TAB/CR/LF anywhere, without the fragment, and with '\' read as '/' before the first '?', as
 * browsers do for http(s).  Refuses, with SCR_ETOOBIG, input longer than cap bytes without reading past
 * cap + 1.  On success b->data is never NULL. */
static int url_clean(struct scr_buf *b, const char *s, size_t cap, const char *what, char *err,
                     size_t errlen)
{
    size_t i, start = 0, end = strnlen(s, cap + 1);
    int tail = 0; /* past the first '?' */
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
        if (c == '#')
            break; /* the fragment never reaches the server */
        if (c == '?')
            tail = 1;
        else if (c == '\\' && !tail)
            c = '/';
        b->data[b->len++] = c; /* reserved above */
    }
    b->data[b->len] = '\0';
    return SCR_OK;
}

/* Length of the scheme that starts s[0..n), followed by ':'; 0 when there is none.  A scheme
 * is only recognized when well-formed (ALPHA *(ALPHA / DIGIT / "+" / "-" / ".")); otherwise
 * the text is relative, as in browsers ("a b:c" is a path). */
static size_t url_scheme_len(const char *s, size_t n)
{
    size_t j;

    if (!n || !is_alpha((unsigned char)s[0]))
        return 0;
    for (j = 1; j < n; j++) {
        int c = (unsigned char)s[j];

        if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.')
            break;
    }
    return j < n && s[j] == ':' ? j : 0;
}

static int url_starts_2slash(const char *s, size_t n)
{
    return n >= 2 && s[0] == '/' && s[1] == '/';
}

/* Splits s[0..n) (cleaned: no fragment, '\' already '/') into path and query. */
static void url_split_path(const char *s, size_t n, struct span *path, struct span *query)
{
    const char *q = memchr(s, '?', n);
    size_t pn = q ? (size_t)(q - s) : n;

    *path = (struct span){s, pn, 1};
    *query = q ? (struct span){q + 1, n - pn - 1, 1} : (struct span){NULL, 0, 0};
}

/* The WHATWG "special authority ignore slashes" reading of s[0..n): every leading '/' is
 * skipped (so "http:example.com", "http:/example.com" and "http:///example.com" all name the
 * host example.com), then the authority runs to the first '/' or '?'. */
static void url_split_authority(const char *s, size_t n, struct url_parts *u)
{
    size_t i = 0, j;

    while (i < n && s[i] == '/')
        i++;
    for (j = i; j < n && s[j] != '/' && s[j] != '?'; j++)
        ;
    u->authority = (struct span){s + i, j - i, 1};
    url_split_path(s + j, n - j, &u->path, &u->query);
}

/* Cleans and splits the base URL into bb and b.  It must be absolute http(s) with a
 * non-empty authority. */
static int url_parse_base(const char *base, size_t cap, struct scr_buf *bb, struct url_parts *b,
                          char *err, size_t errlen)
{
    size_t sl;
    int rc;

    scr_buf_reset(bb);
    rc = url_clean(bb, base, cap, "base URL", err, errlen);
    if (rc)
        return rc;
    sl = url_scheme_len(bb->data, bb->len);
    if (!sl)
        return url_fail(err, errlen, SCR_EINVAL, "base URL is not absolute");
    b->scheme = url_scheme_name((struct span){bb->data, sl, 1});
    if (!b->scheme)
        return url_fail_scheme(err, errlen, (struct span){bb->data, sl, 1}, " in base URL");
    url_split_authority(bb->data + sl + 1, bb->len - sl - 1, b);
    if (!b->authority.n)
        return url_fail(err, errlen, SCR_EINVAL, "base URL is not absolute");
    return SCR_OK;
}

/* Resolves the cleaned reference s[0..n) against base the way the WHATWG URL Standard does
 * for http(s) (which, for what reaches here, is RFC 3986 section 5.2.2 plus the slash rules
 * below).  Fills t and appends the target's path to `path`, without dot-segment removal,
 * which the normalization pass always does.  `bb` receives the cleaned base and must outlive
 * t. */
static int url_resolve(const char *base, const char *s, size_t n, size_t cap,
                       struct scr_buf *bb, struct url_target *t, struct scr_buf *path,
                       char *err, size_t errlen)
{
    struct url_parts b, r;
    size_t sl = url_scheme_len(s, n);
    const char *slash;
    int rc;

    memset(&b, 0, sizeof b);
    memset(&r, 0, sizeof r);
    if (sl) {
        r.scheme = url_scheme_name((struct span){s, sl, 1});
        if (!r.scheme)
            return url_fail_scheme(err, errlen, (struct span){s, sl, 1}, "");
        s += sl + 1;
        n -= sl + 1;
        /* "http:g" against an http base is relative (the standard's "special relative or
         * authority state"); anywhere else the scheme is followed by an authority, with or
         * without slashes ("https:example.com/" is https://example.com/). */
        if (!base || url_starts_2slash(s, n) ||
            url_parse_base(base, cap, bb, &b, NULL, 0) != SCR_OK || b.scheme != r.scheme) {
            url_split_authority(s, n, &r);
            t->scheme = r.scheme;
            t->authority = r.authority;
            t->query = r.query;
            return scr_buf_append(path, r.path.p, r.path.n);
        }
    } else {
        if (!base)
            return url_fail(err, errlen, SCR_EINVAL,
                            n ? "relative URL without a base" : "empty URL");
        rc = url_parse_base(base, cap, bb, &b, err, errlen);
        if (rc)
            return rc;
    }
    t->scheme = b.scheme;
    if (url_starts_2slash(s, n)) { /* "//host", "///host", "/\/\host": slashes skipped */
        url_split_authority(s, n, &r);
        t->authority = r.authority;
        t->query = r.query;
        return scr_buf_append(path, r.path.p, r.path.n);
    }
    t->authority = b.authority;
    url_split_path(s, n, &r.path, &r.query);
    if (!r.path.n) {
        t->query = r.query.set ? r.query : b.query;
        return scr_buf_append(path, b.path.p, b.path.n);
    }
    t->query = r.query;
    if (r.path.p[0] == '/')
        return scr_buf_append(path, r.path.p, r.path.n);
    /* merge (5.2.3): the base path up to its last '/', or "/" for an empty base path */
    if (!b.path.n) {
        rc = scr_buf_putc(path, '/');
    } else {
        slash = b.path.p + b.path.n;
        while (slash > b.path.p && slash[-1] != '/')
            slash--;
        rc = scr_buf_append(path, b.path.p, (size_t)(slash - b.path.p));
    }
    return rc ? rc : scr_buf_append(path, r.path.p, r.path.n);
}

/* Appends p[0..n) to b with escapes normalized: valid escapes get upper-case hex, escapes of
 * unreserved characters are decoded, and every byte of the standard's percent-encode set for
 * a path (or a special query) is escaped, non-ASCII included.  A '%' not followed by two hex
 * digits stays as it is, as in browsers; so that the output is a fixed point, an escaped hex
 * digit that would complete such a '%' into an escape ("%%34%31" -> "%41") stays escaped. */
static int url_pct_normalize(struct scr_buf *b, const char *p, size_t n, int in_query)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i, raw_pct = 0; /* where the last lone '%' was written */
    int lone = 0;          /* there is one */
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
            size_t since = lone ? b->len - raw_pct : 3;
            c = hex_val((unsigned char)p[i + 1]) * 16 + hex_val((unsigned char)p[i + 2]);
            i += 2;
            if (is_unreserved(c) &&
                !(is_hex(c) && (since == 1 ||
                                (since == 2 && is_hex((unsigned char)b->data[b->len - 1]))))) {
                b->data[b->len++] = (char)c;
                continue;
            }
        } else if (c == '%') {
            raw_pct = b->len;
            lone = 1;
            b->data[b->len++] = '%';
            continue;
        } else if (url_keeps(c, in_query)) {
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

/* Writes the standard's serialization of an IPv6 address into out (outlen >= 42 holds any):
 * lower-case hex pieces without leading zeros, the first longest run of two or more zero
 * pieces compressed to "::", never an embedded IPv4 part ("[::7f00:1]"), in brackets. */
static void url_ipv6_format(const unsigned char a[16], char *out, size_t outlen)
{
    unsigned pc[8];
    int i, best = -1, bestlen = 1, skip = 0;
    size_t o = 0;

    for (i = 0; i < 8; i++)
        pc[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
    for (i = 0; i < 8;) {
        int j = i;

        while (j < 8 && pc[j] == 0)
            j++;
        if (j - i > bestlen) {
            best = i;
            bestlen = j - i;
        }
        i = j > i ? j : i + 1;
    }
    o += (size_t)snprintf(out + o, outlen - o, "[");
    for (i = 0; i < 8 && o < outlen; i++) {
        if (skip && pc[i] == 0)
            continue;
        skip = 0;
        if (i == best) {
            o += (size_t)snprintf(out + o, outlen - o, i == 0 ? "::" : ":");
            skip = 1;
            continue;
        }
        o += (size_t)snprintf(out + o, outlen - o, i < 7 ? "%x:" : "%x", pc[i]);
    }
    if (o < outlen)
        snprintf(out + o, outlen - o, "]");
}

/* The host in brackets, p[0..n) without them: an IPv6 address, written out again. */
static int url_host_ipv6(const char *p, size_t n, char **out, char *err, size_t errlen)
{
    char text[64], canon[48];
    unsigned char a[16];

    if (memchr(p, '%', n))
        return url_fail(err, errlen, SCR_EINVAL, "IPv6 zone id not allowed");
    if (n >= sizeof text)
        return url_fail(err, errlen, SCR_EINVAL, "invalid IPv6 address");
    memcpy(text, p, n);
    text[n] = '\0';
    if (inet_pton(AF_INET6, text, a) != 1)
        return url_fail(err, errlen, SCR_EINVAL, "invalid IPv6 address");
    url_ipv6_format(a, canon, sizeof(canon));
    *out = scr_xstrdup(canon);
    return SCR_OK;
}

/* The standard's IPv4 number parser: decimal, octal after a leading '0', hex after "0x";
 * "0x" alone and "" after a prefix are 0.  Values above 2^32 saturate (they fail anyway). */
static int url_ipv4_number(const char *p, size_t n, uint64_t *v)
{
    unsigned radix = 10;
    uint64_t x = 0;

    if (!n)
        return -1;
    if (n >= 2 && p[0] == '0' && (p[1] | 0x20) == 'x') {
        radix = 16;
        p += 2;
        n -= 2;
    } else if (n >= 2 && p[0] == '0') {
        radix = 8;
        p++;
        n--;
    }
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)p[i];
        unsigned d;

        if (radix == 16 ? !is_hex(c) : !is_digit(c))
            return -1;
        d = (unsigned)hex_val(c);
        if (d >= radix)
            return -1;
        x = x * radix + d;
        if (x > ((uint64_t)1 << 32))
            x = ((uint64_t)1 << 32) + 1;
    }
    *v = x;
    return 0;
}

/* The standard's "ends in a number": is the last label (a trailing '.' ignored) all digits,
 * or "0x" and hex digits?  Then the host must be an IPv4 address. */
static int url_ends_in_number(const char *h, size_t n)
{
    size_t i;
    uint64_t v;

    if (n > 1 && h[n - 1] == '.')
        n--;
    for (i = n; i > 0 && h[i - 1] != '.'; i--)
        ;
    if (i == n)
        return 0;
    for (size_t k = i; k < n; k++)
        if (!is_digit((unsigned char)h[k]))
            return n - i >= 2 && h[i] == '0' && (h[i + 1] | 0x20) == 'x' &&
                   url_ipv4_number(h + i, n - i, &v) == 0;
    return 1;
}

/* The standard's IPv4 parser on h[0..n): one to four numbers, the last one filling the
 * remaining bytes ("127.1", "0x7f000001").  Writes dotted decimal into out (16 bytes hold
 * any). */
static int url_ipv4(const char *h, size_t n, char *out, size_t outlen)
{
    uint64_t num[4], addr = 0;
    size_t count = 0, start = 0;

    if (n > 1 && h[n - 1] == '.')
        n--;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && h[i] != '.')
            continue;
        if (count == 4 || url_ipv4_number(h + start, i - start, &num[count]) != 0)
            return -1;
        count++;
        start = i + 1;
    }
    for (size_t i = 0; i + 1 < count; i++) {
        if (num[i] > 255)
            return -1;
        addr |= num[i] << (8 * (3 - i));
    }
    if (num[count - 1] >= (uint64_t)1 << (8 * (5 - count)))
        return -1;
    addr |= num[count - 1];
    /* dotted decimal by hand: snprintf() was a visible part of every link on an IP host */
    if (outlen < 16)
        return -1;
    for (int k = 3; k >= 0; k--) {
        unsigned b = (unsigned)(addr >> (8 * k) & 255);
        if (b >= 100)
            *out++ = (char)('0' + b / 100);
        if (b >= 10)
            *out++ = (char)('0' + b / 10 % 10);
        *out++ = (char)('0' + b % 10);
        if (k)
            *out++ = '.';
    }
    *out = '\0';
    return 0;
}

/* The standard's host parser for http(s) on p[0..n), plus our one restriction: a name may
 * only hold what DNS can resolve (a-z 0-9 - . _).  Percent-decodes, converts non-ASCII to
 * punycode (libidn2), lower-cases, and reads a name that ends in a number as IPv4.  On
 * success *out is malloc'ed (the caller frees it); on failure it is untouched. */
static int url_host(const char *p, size_t n, char **out, char *err, size_t errlen)
{
    char *h = scr_xmalloc(n + 1), v4[16];
    size_t i, hn = 0;
    int ascii = 1, rc = SCR_OK;

    if (n && p[0] == '[') {
        free(h);
        if (n < 2 || p[n - 1] != ']')
            return url_fail(err, errlen, SCR_EINVAL, "invalid IPv6 address");
        return url_host_ipv6(p + 1, n - 2, out, err, errlen);
    }
    for (i = 0; i < n; i++) {
        int c = (unsigned char)p[i];

        if (c == '%' && n - i > 2 && is_hex((unsigned char)p[i + 1]) &&
            is_hex((unsigned char)p[i + 2])) {
            c = hex_val((unsigned char)p[i + 1]) * 16 + hex_val((unsigned char)p[i + 2]);
            i += 2;
        }
        ascii &= c < 0x80;
        h[hn++] = (char)c;
    }
    h[hn] = '\0';
    if (strlen(h) != hn) {
        rc = url_fail(err, errlen, SCR_EINVAL, "invalid host");
        goto out;
    }
    if (!ascii && (rc = url_host_idn(&h, err, errlen)) != SCR_OK)
        goto out;
    /* IDNA mapping can produce what DNS cannot resolve ('/' from U+FF0F): check after it */
    for (i = 0; h[i]; i++) {
        h[i] = (char)to_lower((unsigned char)h[i]);
        if (!is_alpha(h[i]) && !is_digit(h[i]) && !strchr("-._", h[i]))
            break;
    }
    if (h[i] || !h[0]) {
        rc = url_fail(err, errlen, SCR_EINVAL, h[0] ? "invalid host" : "empty host");
        goto out;
    }
    if (url_ends_in_number(h, i)) {
        if (url_ipv4(h, i, v4, sizeof(v4)) != 0) {
            rc = url_fail(err, errlen, SCR_EINVAL, "invalid IPv4 address");
            goto out;
        }
        free(h);
        h = scr_xstrdup(v4);
    }
    *out = h;
    h = NULL;
out:
    free(h);
    return rc;
}

/* Reads the authority "[userinfo@]host[:port]" into *host (lower case, punycode, IPv4 in
 * dotted decimal, IPv6 in brackets) and appends "host[:port]" to `canon`, without a default
 * port.  Empty userinfo ("@host", ":@host") is dropped, as browsers do; any other is
 * refused.  *host is malloc'ed; the caller frees it. */
static int url_authority(const char *scheme, struct span auth, struct scr_buf *canon,
                         char **host, char *err, size_t errlen)
{
    const char *at = auth.n ? memrchr(auth.p, '@', auth.n) : NULL;
    struct span hp = auth;
    size_t i, hn, port = 0;
    int bracket = 0, has_port = 0, rc;

    if (at) {
        size_t un = (size_t)(at - auth.p);
        if (un > 1 || (un == 1 && auth.p[0] != ':'))
            return url_fail(err, errlen, SCR_EINVAL, "userinfo not allowed");
        hp = (struct span){at + 1, auth.n - un - 1, 1};
    }
    for (hn = 0; hn < hp.n; hn++) { /* the host ends at the first ':' outside brackets */
        if (hp.p[hn] == '[')
            bracket = 1;
        else if (hp.p[hn] == ']')
            bracket = 0;
        else if (hp.p[hn] == ':' && !bracket)
            break;
    }
    if (!hn)
        return url_fail(err, errlen, SCR_EINVAL, "empty host");
    for (i = hn + 1; i < hp.n; i++) {
        if (!is_digit((unsigned char)hp.p[i]))
            return url_fail(err, errlen, SCR_EINVAL, "invalid port");
        port = port * 10 + (size_t)(hp.p[i] - '0');
        if (port > 65535)
            return url_fail(err, errlen, SCR_EINVAL, "invalid port");
        has_port = 1;
    }
    rc = url_host(hp.p, hn, host, err, errlen);
    if (rc)
        return rc;
    if (has_port && port == (strcmp(scheme, "https") ? 80u : 443u))
        has_port = 0;
    rc = scr_buf_puts(canon, *host);
    if (!rc && has_port) {
        char digits[8];
        size_t k = sizeof(digits);

        do
            digits[--k] = (char)('0' + port % 10);
        while ((port /= 10) != 0);
        digits[--k] = ':';
        rc = scr_buf_append(canon, digits + k, sizeof(digits) - k);
    }
    if (rc) {
        free(*host);
        *host = NULL;
        return url_fail(err, errlen, rc, "out of memory");
    }
    return SCR_OK;
}

int scr_url_normalize(const char *base, const char *ref, const struct scr_url_opts *opts,
                      char **out, char **host_out, char *err, size_t errlen)
{
    static const struct scr_url_opts defaults = {0, NULL, 0, 0};
    struct scr_buf rb, bb, rawpath, pcpath, query, res;
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
    memset(&t, 0, sizeof t);
    rc = url_resolve(base, rb.data, rb.len, cap, &bb, &t, &rawpath, err, errlen);
    if (rc)
        goto out;

    rc = scr_buf_puts(&res, t.scheme);
    if (!rc)
        rc = scr_buf_append(&res, "://", 3);
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
        rc = scr_buf_putc(&res, '?') ? SCR_ENOMEM : scr_buf_append(&res, query.data, query.len);
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
