/* html5.c - HTML5 tokenizing libxml2 2.9 does not do, as a pass over the text (see html5.h).
 *
 * The pass follows HTML5's tokenizer far enough to know where it is: text, a tag and its
 * attribute values (split the way libxml2's htmlParseStartTag splits them, as extract.c's
 * cap_attributes does), a comment, raw text, RCDATA.  The output is built lazily: the first
 * change starts a copy, so a page with nothing to mend costs one scan and no allocation.
 *
 * Called by the extractor (extract.c parse_html) on the decoded UTF-8 text, before libxml2.
 */
#include "parsers/html5.h"

#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "parsers/builtin.h"

/* The named references HTML5 also accepts without ';' (the "legacy" entries of the HTML
 * standard's table: HTML 4's Latin-1 names, amp, lt, gt, quot, and six in upper case).  All
 * but the upper-case six are names libxml2 decodes when written with ';'. */
static const char *const LEGACY[] = {
    "AElig", "AMP", "Aacute", "Acirc", "Agrave", "Aring", "Atilde", "Auml", "COPY", "Ccedil",
    "ETH", "Eacute", "Ecirc", "Egrave", "Euml", "GT", "Iacute", "Icirc", "Igrave", "Iuml", "LT",
    "Ntilde", "Oacute", "Ocirc", "Ograve", "Oslash", "Otilde", "Ouml", "QUOT", "REG", "THORN",
    "Uacute", "Ucirc", "Ugrave", "Uuml", "Yacute", "aacute", "acirc", "acute", "aelig",
    "agrave", "amp", "aring", "atilde", "auml", "brvbar", "ccedil", "cedil", "cent", "copy",
    "curren", "deg", "divide", "eacute", "ecirc", "egrave", "eth", "euml", "frac12", "frac14",
    "frac34", "gt", "iacute", "icirc", "iexcl", "igrave", "iquest", "iuml", "laquo", "lt",
    "macr", "micro", "middot", "nbsp", "not", "ntilde", "oacute", "ocirc", "ograve", "ordf",
    "ordm", "oslash", "otilde", "ouml", "para", "plusmn", "pound", "quot", "raquo", "reg",
    "sect", "shy", "sup1", "sup2", "sup3", "szlig", "thorn", "times", "uacute", "ucirc",
    "ugrave", "uml", "uuml", "yacute", "yen", "yuml",
};
#define N_LEGACY (sizeof(LEGACY) / sizeof(LEGACY[0]))
#define LEGACY_MAX 6 /* the longest name */

/* The upper-case names, which libxml2 knows only in lower case. */
static const char *const UPPER[] = {"AMP", "LT", "GT", "QUOT", "COPY", "REG"};

struct pass {
    const char *text, *end;
    const char *copied; /* text[..copied) is in out already */
    struct scr_buf out;
    int changed;
    int foreign; /* inside <svg> or <math>: title is an ordinary element there */
};

/* Replaces p[0..n) with repl in the output. */
static void replace(struct pass *ps, const char *p, size_t n, const char *repl, size_t rlen)
{
    scr_buf_append(&ps->out, ps->copied, (size_t)(p - ps->copied));
    scr_buf_append(&ps->out, repl, rlen);
    ps->copied = p + n;
    ps->changed = 1;
}

static int is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

static int is_upper_name(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof(UPPER) / sizeof(UPPER[0]); i++)
        if (strlen(UPPER[i]) == n && memcmp(UPPER[i], s, n) == 0)
            return 1;
    return 0;
}

/* The length of the longest legacy name that s[0..n) starts with, or 0. */
static size_t legacy_prefix(const char *s, size_t n)
{
    for (size_t k = n < LEGACY_MAX ? n : LEGACY_MAX; k >= 2; k--)
        for (size_t i = 0; i < N_LEGACY; i++)
            if (strlen(LEGACY[i]) == k && memcmp(LEGACY[i], s, k) == 0)
                return k;
    return 0;
}

/* A character reference at p ('&'), in text or (in_attr) in an attribute value ending at end;
 * returns where scanning goes on. */
static const char *reference(struct pass *ps, const char *p, const char *end, int in_attr)
{
    const char *q = p + 1, *r = q;
    char repl[LEGACY_MAX + 3];
    size_t n, k;

    while (r < end && is_alnum((unsigned char)*r))
        r++;
    n = (size_t)(r - q);
    if (n == 0)
        return q; /* '&#...' (libxml2 decodes numeric references) or a lone '&' */
    if (r < end && *r == ';') {
        if (is_upper_name(q, n)) { /* &AMP; -> &amp; */
            repl[0] = '&';
            for (size_t i = 0; i < n; i++)
                repl[1 + i] = (char)(q[i] | 0x20);
            replace(ps, p + 1, n, repl + 1, n);
        }
        return r + 1;
    }
    k = legacy_prefix(q, n);
    if (k == 0)
        return r;
    /* in an attribute, "&copy=" and "&copyx" are not references (HTML5, for old query
     * strings) */
    if (in_attr && (k < n || (r < end && *r == '=')))
        return r;
    repl[0] = '&';
    for (size_t i = 0; i < k; i++)
        repl[1 + i] = is_upper_name(q, k) ? (char)(q[i] | 0x20) : q[i];
    repl[1 + k] = ';';
    replace(ps, p, 1 + k, repl, k + 2);
    return q + k;
}

/* Mends the references in s[0..end) (an attribute value, or text when !in_attr). */
static void references(struct pass *ps, const char *s, const char *end, int in_attr)
{
    while (s < end && (s = memchr(s, '&', (size_t)(end - s))) != NULL)
        s = reference(ps, s, end, in_attr);
}

/* Character classes of the tag scanner (as extract.c's). */
enum { C_SPACE = 1, C_EQ = 2, C_GT = 4, C_SLASH = 8, C_QUOTE = 16 };
static const unsigned char cclass[256] = {
    [' '] = C_SPACE, ['\t'] = C_SPACE, ['\n'] = C_SPACE, ['\f'] = C_SPACE, ['\r'] = C_SPACE,
    ['='] = C_EQ, ['>'] = C_GT, ['/'] = C_SLASH, ['"'] = C_QUOTE, ['\''] = C_QUOTE,
};
#define CC(p) cclass[(unsigned char)*(p)]

/* The attributes of a tag from p (after its name) to its '>': values get their references
 * mended.  Returns the position of the '>' (or end). */
static const char *attributes(struct pass *ps, const char *p, const char *end)
{
    for (;;) {
        while (p < end && (CC(p) & (C_SPACE | C_SLASH)))
            p++;
        if (p >= end || *p == '>')
            return p;
        while (p < end && !(CC(p) & (C_SPACE | C_EQ | C_GT)))
            p++;
        while (p < end && (CC(p) & C_SPACE))
            p++;
        if (p >= end || *p != '=')
            continue;
        p++;
        while (p < end && (CC(p) & C_SPACE))
            p++;
        if (p < end && (CC(p) & C_QUOTE)) {
            const char *q = memchr(p + 1, *p, (size_t)(end - p - 1));
            references(ps, p + 1, q ? q : end, 1);
            p = q ? q + 1 : end;
        } else {
            const char *v = p;
            while (p < end && !(CC(p) & (C_SPACE | C_GT)))
                p++;
            references(ps, v, p, 1);
        }
    }
}

/* Where "</name" followed by whitespace, '/' or '>' starts at or after p, or end. */
static const char *end_tag(const char *p, const char *end, const char *name, size_t nlen)
{
    while ((p = memchr(p, '<', (size_t)(end - p))) != NULL) {
        const char *q = p + 2 + nlen;
        if ((size_t)(end - p) > 2 + nlen && p[1] == '/' && strncasecmp(p + 2, name, nlen) == 0 &&
            (CC(q) & (C_SPACE | C_SLASH | C_GT)))
            return p;
        p++;
    }
    return end;
}

/* RCDATA from p: references mended, each '<' escaped, up to the end tag. */
static const char *rcdata(struct pass *ps, const char *p, const char *end, const char *name,
                          size_t nlen)
{
    const char *stop = end_tag(p, end, name, nlen);

    if (stop == end)
        return p; /* never closed: see html5.h */
    while (p < stop) { /* in order: the output is written front to back */
        const char *lt = memchr(p, '<', (size_t)(stop - p)), *seg = lt ? lt : stop;
        references(ps, p, seg, 0);
        if (!lt)
            break;
        replace(ps, lt, 1, "&lt;", 4);
        p = lt + 1;
    }
    return stop;
}

static int name_is(const char *name, size_t nlen, const char *w)
{
    return strlen(w) == nlen && strncasecmp(name, w, nlen) == 0;
}

char *scr_html5_fix(const char *text, size_t len, size_t *outlen)
{
    struct pass ps;
    const char *p = text, *end = text + len;

    ps.text = ps.copied = text;
    ps.end = end;
    ps.changed = 0;
    ps.foreign = 0;
    scr_buf_init(&ps.out);
    while (p < end) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        const char *name;
        size_t nlen;

        references(&ps, p, lt ? lt : end, 0);
        if (!lt)
            break;
        p = lt + 1;
        if (end - p >= 3 && p[0] == '!' && p[1] == '-' && p[2] == '-') {
            const char *q = memmem(p + 3, (size_t)(end - p - 3), "-->", 3);
            p = q ? q + 3 : end;
            continue;
        }
        if (p < end && (*p == '!' || *p == '?')) {
            const char *q = memchr(p, '>', (size_t)(end - p));
            p = q ? q + 1 : end;
            continue;
        }
        if (p < end && *p == '/') { /* an end tag: its attributes mean nothing */
            const char *q = memchr(p, '>', (size_t)(end - p));
            if (ps.foreign && end - p >= 4 &&
                (strncasecmp(p + 1, "svg", 3) == 0 || strncasecmp(p + 1, "math", 4) == 0))
                ps.foreign--;
            p = q ? q + 1 : end;
            continue;
        }
        if (p >= end || !((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z'))
            continue; /* '<' as text */
        name = p;
        while (p < end && !(CC(p) & (C_SPACE | C_GT | C_SLASH)))
            p++;
        nlen = (size_t)(p - name);
        p = attributes(&ps, p, end);
        if (p < end)
            p++;
        if (name_is(name, nlen, "svg") || name_is(name, nlen, "math")) {
            if (p[-1] != '>' || p[-2] != '/')
                ps.foreign++;
        } else if (ps.foreign) {
            /* foreign content: no RCDATA, no raw text */
        } else if (name_is(name, nlen, "title") || name_is(name, nlen, "textarea")) {
            p = rcdata(&ps, p, end, name, nlen);
        } else if (name_is(name, nlen, "script") || name_is(name, nlen, "style") ||
                   name_is(name, nlen, "xmp") || name_is(name, nlen, "iframe") ||
                   name_is(name, nlen, "noembed") || name_is(name, nlen, "noframes")) {
            p = end_tag(p, end, name, nlen);
        }
    }
    if (!ps.changed) {
        scr_buf_release(&ps.out);
        return NULL;
    }
    scr_buf_append(&ps.out, ps.copied, (size_t)(end - ps.copied));
    *outlen = ps.out.len;
    return ps.out.data;
}
