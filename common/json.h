/* json.h - helpers for building JSON that PostgreSQL's jsonb accepts.
 *
 * jsonb refuses invalid UTF-8 and the \u0000 escape.  Web pages contain both, so every string
 * that comes from the network goes through scr_json_text(), which replaces each invalid UTF-8
 * sequence and each NUL with U+FFFD.
 */
#ifndef SCR_JSON_H
#define SCR_JSON_H

#include <stddef.h>

#include <jansson.h>

#include "common/buf.h"

/* Returns a new JSON string holding s[0..len) made valid (see above); NULL when jansson
 * could not allocate it. */
json_t *scr_json_text(const char *s, size_t len);
/* Same for a NUL-terminated string. */
json_t *scr_json_cstr(const char *s);
/* Returns a malloc'd copy of s[0..len) with invalid UTF-8 and NULs replaced by U+FFFD, and
 * its length in *outlen (may be NULL).  Caller frees; never NULL (out of memory aborts). */
char *scr_utf8_sanitize(const char *s, size_t len, size_t *outlen);

/* Returns 1 when s[0..len) is well-formed UTF-8 without NUL (scr_utf8_sanitize() would return
 * it unchanged), else 0. */
int scr_utf8_valid(const char *s, size_t len);

/* Appends s[0..len) (valid UTF-8, no NUL: see scr_utf8_sanitize) as a JSON string literal,
 * quotes included, escaped exactly as jansson's compact output does (", \\, and control
 * characters; \b \f \n \r \t short forms, others \\u00XX), so a record written by hand
 * is byte-identical to one dumped by jansson.  Copies runs that need no escape in one go. */
int scr_json_escape(struct scr_buf *b, const char *s, size_t len);

#endif
