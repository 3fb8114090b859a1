/* css_lex.h - the character and token layer of the CSS-to-XPath compiler (internal).
 *
 * Shared by parsers/css.c (selectors) and parsers/css_lex.c (characters, escapes, names,
 * strings, error messages) only; not part of libscrape's API.  The cursor is struct
 * css_parser; every reader advances ps->p past what it consumed and, on failure, writes
 * "column N: ..." into ps->err and returns SCR_EPARSE (or SCR_ENOMEM), leaving dst emptied
 * or partly filled (the caller discards it).
 */
#ifndef SCR_CSS_LEX_H
#define SCR_CSS_LEX_H

#include <stddef.h>

#include "common/buf.h"

struct css_parser {
    const char *src; /* the whole selector, for the column in messages */
    const char *p;   /* the cursor */
    char *err;       /* the caller's message buffer (may be NULL) */
    size_t errlen;
};

/* Characters. */
int scr_css_is_digit(unsigned char c);
/* Length of the (already validated) UTF-8 character at s; 1 at the NUL. */
size_t scr_css_utf8_len(const char *s);
/* Characters (not bytes) in the first n bytes of valid UTF-8 s. */
size_t scr_css_utf8_count(const char *s, size_t n);
/* Lower-cases ASCII letters in place. */
void scr_css_ascii_lower(char *s);
/* An NCName made of ASCII only: safe to write as an XPath name test. */
int scr_css_is_plain_name(const char *s);

/* Errors: write "column N: message" (N counts characters of ps->src up to at) into ps->err and
 * return SCR_EPARSE. */
int scr_css_fail(struct css_parser *ps, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "unexpected 'x' (or end of input), expected WHAT". */
int scr_css_fail_unexpected(struct css_parser *ps, const char *at, const char *what);
/* Refuses what XPath cannot carry: invalid UTF-8, control characters, U+FFFE and U+FFFF. */
int scr_css_check_text(struct css_parser *ps);

/* Tokens.  Each reads at ps->p and advances it. */
int scr_css_skip_ws(struct css_parser *ps);
/* Appends name characters and escapes at the cursor to dst (possibly none). */
int scr_css_read_name(struct css_parser *ps, struct scr_buf *dst);
/* Is the cursor at the identifier `word` (ASCII case-insensitive), and not a longer one? */
int scr_css_match_word(const char *s, const char *word);
/* Reads an identifier into dst (emptied first): 1 when one was read, 0 when the cursor is not
 * at one, or an error code. */
int scr_css_read_ident(struct css_parser *ps, struct scr_buf *dst);
/* Reads a quoted string at the cursor into dst (emptied first). */
int scr_css_read_string(struct css_parser *ps, struct scr_buf *dst);

#endif
