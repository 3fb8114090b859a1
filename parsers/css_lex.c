/* css_lex.c - characters, escapes, names, strings and error messages for the CSS-to-XPath
 * compiler (parsers/css.c; docs/internals/css.md).
 *
 * Input is untrusted: scr_css_check_text() runs first and refuses invalid UTF-8 and what XPath
 * cannot carry, so the readers here may assume valid UTF-8.  Escapes are decoded to UTF-8
 * (a NUL, a surrogate or a code point past U+10FFFF becomes U+FFFD, as CSS Syntax says).
 * Every reader stops at the NUL; none reads past it.
 */
#include "parsers/css_lex.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/error.h"

/* ---- characters ------------------------------------------------------------------------ */

static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int is_newline(unsigned char c)
{
    return c == '\n' || c == '\r' || c == '\f';
}

static int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int scr_css_is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int hex_value(unsigned char c)
{
    if (scr_css_is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* CSS name-start and name characters; every non-ASCII character is one. */
static int is_nmstart(unsigned char c)
{
    return is_alpha(c) || c == '_' || c >= 0x80;
}

static int is_nmchar(unsigned char c)
{
    return is_nmstart(c) || scr_css_is_digit(c) || c == '-';
}

static int is_escape(const char *s)
{
    return s[0] == '\\' && s[1] != '\0' && !is_newline((unsigned char)s[1]);
}

/* The XML 1.0 Char production: what an XPath string literal may hold. */
static int is_xml_char(uint32_t cp)
{
    return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
           (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

/* Decodes one UTF-8 sequence; returns its length, or 0 when it is invalid (truncated,
 * overlong, a surrogate, above U+10FFFF). */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
    size_t n, i;
    uint32_t v, min;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        n = 2, v = s[0] & 0x1Fu, min = 0x80;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        n = 3, v = s[0] & 0x0Fu, min = 0x800;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        n = 4, v = s[0] & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) /* also stops at the NUL */
            return 0;
        v = (v << 6) | (s[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

/* Length of the (already validated) UTF-8 character at s; 1 at the NUL. */
size_t scr_css_utf8_len(const char *s)
{
    uint32_t cp;
    size_t n = utf8_decode((const unsigned char *)s, &cp);
    return n ? n : 1;
}

size_t scr_css_utf8_count(const char *s, size_t n)
{
    size_t i, count = 0;

    for (i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            count++;
    return count;
}

static int put_utf8(struct scr_buf *b, uint32_t cp)
{
    unsigned char u[4];
    size_t n;

    if (cp < 0x80) {
        u[0] = (unsigned char)cp, n = 1;
    } else if (cp < 0x800) {
        u[0] = (unsigned char)(0xC0 | (cp >> 6)), n = 2;
    } else if (cp < 0x10000) {
        u[0] = (unsigned char)(0xE0 | (cp >> 12)), n = 3;
    } else {
        u[0] = (unsigned char)(0xF0 | (cp >> 18)), n = 4;
    }
    if (n >= 2)
        u[n - 1] = (unsigned char)(0x80 | (cp & 0x3F));
    if (n >= 3)
        u[n - 2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    if (n == 4)
        u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    return scr_buf_append(b, u, n);
}

void scr_css_ascii_lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* An NCName made of ASCII only: safe to write as an XPath name test. */
int scr_css_is_plain_name(const char *s)
{
    if (!is_alpha((unsigned char)*s) && *s != '_')
        return 0;
    for (s++; *s; s++)
        if (!is_alpha((unsigned char)*s) && !scr_css_is_digit((unsigned char)*s) && *s != '_' &&
            *s != '-' && *s != '.')
            return 0;
    return 1;
}

/* ---- errors ---------------------------------------------------------------------------- */

/* Writes "column N: message" into the caller's err and returns SCR_EPARSE. */
int scr_css_fail(struct css_parser *ps, const char *at, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (!ps->err || ps->errlen == 0)
        return SCR_EPARSE;
    n = snprintf(ps->err, ps->errlen, "column %zu: ",
                 scr_css_utf8_count(ps->src, (size_t)(at - ps->src)) + 1);
    if (n >= 0 && (size_t)n < ps->errlen) {
        va_start(ap, fmt);
        vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return SCR_EPARSE;
}

/* Names the character at `at` for a message: "'x'" or "end of input". */
int scr_css_fail_unexpected(struct css_parser *ps, const char *at, const char *what)
{
    if (*at == '\0')
        return scr_css_fail(ps, at, "%s, found end of input", what);
    return scr_css_fail(ps, at, "%s, found '%.*s'", what, (int)scr_css_utf8_len(at), at);
}

/* Refuses what XPath cannot carry: invalid UTF-8, control characters, U+FFFE and U+FFFF. */
int scr_css_check_text(struct css_parser *ps)
{
    const char *s = ps->src;
    uint32_t cp;
    size_t n;

    while (*s) {
        n = utf8_decode((const unsigned char *)s, &cp);
        if (n == 0)
            return scr_css_fail(ps, s, "invalid UTF-8");
        if (!is_xml_char(cp) && cp != '\f')
            return scr_css_fail(ps, s, "character U+%04X is not allowed", (unsigned)cp);
        s += n;
    }
    return SCR_OK;
}

/* ---- tokens ---------------------------------------------------------------------------- */

int scr_css_skip_ws(struct css_parser *ps)
{
    const char *start = ps->p;

    while (is_ws((unsigned char)*ps->p))
        ps->p++;
    return ps->p != start;
}

/* Decodes the escape at the cursor (a backslash) into dst. */
static int parse_escape(struct css_parser *ps, struct scr_buf *dst)
{
    const char *at = ps->p;
    const char *s = ps->p + 1;
    uint32_t cp = 0;
    size_t n = 0;
    int h;

    if (*s == '\0')
        return scr_css_fail(ps, at, "unfinished escape at end of input");
    if (is_newline((unsigned char)*s))
        return scr_css_fail(ps, at, "a backslash cannot escape a line break here");
    if (hex_value((unsigned char)*s) < 0) {
        n = scr_css_utf8_len(s);
        ps->p = s + n;
        return scr_buf_append(dst, s, n);
    }
    while (n < 6 && (h = hex_value((unsigned char)s[n])) >= 0) {
        cp = cp * 16 + (uint32_t)h;
        n++;
    }
    s += n;
    if (s[0] == '\r' && s[1] == '\n')
        s += 2;
    else if (is_ws((unsigned char)*s))
        s++;
    /* As CSS Syntax says: NUL, surrogates and out-of-range become U+FFFD. */
    if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        cp = 0xFFFD;
    if (!is_xml_char(cp))
        return scr_css_fail(ps, at, "escape gives U+%04X, which XPath cannot express", (unsigned)cp);
    ps->p = s;
    return put_utf8(dst, cp);
}

/* Appends name characters and escapes at the cursor to dst (possibly none). */
int scr_css_read_name(struct css_parser *ps, struct scr_buf *dst)
{
    int rc;
    size_t n;

    for (;;) {
        if (*ps->p == '\\') {
            rc = parse_escape(ps, dst);
            if (rc)
                return rc;
            continue;
        }
        if (!is_nmchar((unsigned char)*ps->p))
            return SCR_OK;
        n = scr_css_utf8_len(ps->p);
        rc = scr_buf_append(dst, ps->p, n);
        if (rc)
            return rc;
        ps->p += n;
    }
}

/* Is the cursor at the identifier `word` (ASCII case-insensitive), and not a longer one? */
int scr_css_match_word(const char *s, const char *word)
{
    size_t n = strlen(word);
    return strncasecmp(s, word, n) == 0 && !is_nmchar((unsigned char)s[n]) && s[n] != '\\';
}

/* Is the cursor at a CSS identifier (not a digit, not a lone '-')? */
static int at_ident(const char *s)
{
    if (s[0] == '-') {
        if (s[1] == '-')
            return 1;
        s++;
    }
    return is_nmstart((unsigned char)s[0]) || is_escape(s);
}

/* Reads an identifier into dst (emptied first).  Returns 1 when one was read, 0 when the
 * cursor is not at one (nothing consumed), or a negative error. */
int scr_css_read_ident(struct css_parser *ps, struct scr_buf *dst)
{
    int rc;

    scr_buf_reset(dst);
    if (!at_ident(ps->p))
        return 0;
    rc = scr_css_read_name(ps, dst);
    return rc ? rc : 1;
}

/* Reads a quoted string at the cursor into dst (emptied first). */
int scr_css_read_string(struct css_parser *ps, struct scr_buf *dst)
{
    const char *open = ps->p;
    char quote = *ps->p++;
    int rc;
    size_t n;

    scr_buf_reset(dst);
    rc = scr_buf_reserve(dst, 0); /* an empty string is still a string: data != NULL */
    if (rc)
        return rc;
    for (;;) {
        if (*ps->p == '\0' || is_newline((unsigned char)*ps->p))
            return scr_css_fail(ps, open, "unterminated string");
        if (*ps->p == quote) {
            ps->p++;
            return SCR_OK;
        }
        if (ps->p[0] == '\\' && is_newline((unsigned char)ps->p[1])) {
            /* a line continuation: both characters vanish */
            ps->p += (ps->p[1] == '\r' && ps->p[2] == '\n') ? 3 : 2;
            continue;
        }
        if (*ps->p == '\\') {
            rc = parse_escape(ps, dst);
        } else {
            n = scr_css_utf8_len(ps->p);
            rc = scr_buf_append(dst, ps->p, n);
            ps->p += n;
        }
        if (rc)
            return rc;
    }
}

