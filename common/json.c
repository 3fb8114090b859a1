/* json.c - JSON strings that PostgreSQL's jsonb accepts (see json.h).
 *
 * Web pages carry invalid UTF-8 and NUL bytes; jsonb refuses both, and jansson refuses the
 * first.  Every string that comes from the network is therefore passed through
 * scr_utf8_sanitize(), which copies well-formed UTF-8 unchanged and replaces each NUL and each
 * "maximal subpart" of an ill-formed sequence with U+FFFD, as the Unicode Standard (chapter 3,
 * "U+FFFD Substitution of Maximal Subparts") and the WHATWG Encoding Standard recommend.
 * Overlong forms, UTF-16 surrogates (U+D800..U+DFFF) and code points above U+10FFFF are
 * ill-formed; the table of well-formed sequences is Table 3-7 of the Standard.
 *
 * Invariant: the output of every function here is well-formed UTF-8 with no NUL inside, so it
 * can be given to jansson's *_nocheck constructors.  Pure functions, thread-safe.
 */
#include "common/json.h"

#include "common/alloc.h"
#include "common/error.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* U+FFFD REPLACEMENT CHARACTER in UTF-8. */
static const char replacement[3] = {'\xEF', '\xBF', '\xBD'};

/* Looks at the sequence starting at p[0] (n >= 1 bytes available).  Returns how many bytes it
 * spans and sets *ok: when *ok is 1 they are one well-formed character other than NUL; when
 * *ok is 0 they are one maximal subpart of an ill-formed sequence (at least one byte), to be
 * replaced by a single U+FFFD. */
static size_t utf8_step(const unsigned char *p, size_t n, int *ok)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xBF;
    size_t need, i;

    if (c < 0x80) {
        *ok = c != 0;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0)
            lo = 0xA0; /* below is overlong */
        else if (c == 0xED)
            hi = 0x9F; /* above is a surrogate */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0)
            lo = 0x90; /* below is overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above is beyond U+10FFFF */
    } else {
        *ok = 0; /* 80..C1 (stray continuation, overlong lead) and F5..FF never start one */
        return 1;
    }
    for (i = 1; i <= need; i++) {
        if (i >= n || p[i] < lo || p[i] > hi) {
            *ok = 0;
            return i;
        }
        lo = 0x80;
        hi = 0xBF;
    }
    *ok = 1;
    return need + 1;
}

/* Returns the length of s[0..len) once sanitized; *clean is set to 1 when no byte needs
 * replacing (the output would equal the input). */
static size_t sanitized_len(const unsigned char *s, size_t len, int *clean)
{
    size_t i = 0, out = 0;
    int ok;

    *clean = 1;
    while (i < len) {
        if (s[i] >= 0x01 && s[i] < 0x80) { /* ASCII fast path */
            i++;
            out++;
            continue;
        }
        size_t k = utf8_step(s + i, len - i, &ok);
        if (ok) {
            out += k;
        } else {
            out += sizeof(replacement);
            *clean = 0;
        }
        i += k;
    }
    return out;
}

int scr_utf8_valid(const char *s, size_t len)
{
    int clean;

    if (!s)
        return len == 0;
    (void)sanitized_len((const unsigned char *)s, len, &clean);
    return clean;
}

char *scr_utf8_sanitize(const char *s, size_t len, size_t *outlen)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n, i = 0, o = 0;
    int clean, ok;
    char *out;

    if (!s)
        len = 0;
    n = sanitized_len(u, len, &clean);
    out = scr_xmalloc(n + 1);
    if (clean) {
        if (len)
            memcpy(out, s, len);
        o = len;
    } else {
        while (i < len) {
            size_t k = utf8_step(u + i, len - i, &ok);
            if (ok) {
                memcpy(out + o, s + i, k);
                o += k;
            } else {
                memcpy(out + o, replacement, sizeof(replacement));
                o += sizeof(replacement);
            }
            i += k;
        }
    }
    assert(o == n); /* the sizing pass and the copying pass agree */
    out[o] = '\0';
    if (outlen)
        *outlen = o;
    return out;
}

json_t *scr_json_text(const char *s, size_t len)
{
    json_t *j;
    char *copy;
    size_t n;
    int clean;

    if (!s)
        return json_stringn_nocheck("", 0);
    (void)sanitized_len((const unsigned char *)s, len, &clean);
    if (clean)
        return json_stringn_nocheck(s, len);
    copy = scr_utf8_sanitize(s, len, &n);
    j = json_stringn_nocheck(copy, n);
    free(copy);
    return j;
}

json_t *scr_json_cstr(const char *s)
{
    return scr_json_text(s, s ? strlen(s) : 0);
}

int scr_json_escape(struct scr_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i = 0, run;
    int rc = scr_buf_reserve(b, len + 2);

    if (rc)
        return rc;
    scr_buf_putc(b, '"');
    while (i < len) {
        unsigned char c;
        for (run = i; run < len; run++) {
            c = (unsigned char)s[run];
            if (c < 0x20 || c == '"' || c == '\\')
                break;
        }
        if (run > i && (rc = scr_buf_append(b, s + i, run - i)) != SCR_OK)
            return rc;
        if (run == len)
            break;
        c = (unsigned char)s[run];
        switch (c) {
        case '"': rc = scr_buf_append(b, "\\\"", 2); break;
        case '\\': rc = scr_buf_append(b, "\\\\", 2); break;
        case '\b': rc = scr_buf_append(b, "\\b", 2); break;
        case '\f': rc = scr_buf_append(b, "\\f", 2); break;
        case '\n': rc = scr_buf_append(b, "\\n", 2); break;
        case '\r': rc = scr_buf_append(b, "\\r", 2); break;
        case '\t': rc = scr_buf_append(b, "\\t", 2); break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            rc = scr_buf_append(b, u, 6);
            break;
        }
        }
        if (rc)
            return rc;
        i = run + 1;
    }
    return scr_buf_putc(b, '"');
}
