/* decode.h - a page's bytes to UTF-8 the way a browser decodes them (WHATWG Encoding and
 * HTML's encoding sniffing), before libxml2 sees them.
 *
 * The encoding is, in order: a byte order mark; the charset of the Content-Type header; a
 * <meta charset> or <meta http-equiv content> in the first 1,024 bytes (HTML's prescan);
 * UTF-8 when the body is well-formed UTF-8; a <meta> further on (up to 64 KiB, as a browser's
 * parser changes encoding when it meets one late); windows-1252.  Labels are mapped by the
 * Encoding standard's table (decode.c: "iso-8859-1" and "us-ascii" are windows-1252,
 * "gb2312" is GBK, "utf-16" is UTF-16LE, ...); an unknown label is ignored.
 *
 * Decoding never stops: a byte sequence the encoding cannot decode becomes U+FFFD and decoding
 * goes on (glibc iconv for the legacy encodings, one U+FFFD per bad sequence).  A declared
 * encoding (header or <meta>, not a BOM) that is plainly wrong is overridden by UTF-8 when the
 * body is well-formed UTF-8: its decoding needed a replacement, or lost every '<' of the first
 * 1,024 bytes (UTF-16 declared for an ASCII-compatible page).
 */
#ifndef SCR_DECODE_H
#define SCR_DECODE_H

#include <stddef.h>

/* A decoded page.  text is UTF-8 (NUL bytes of the input kept as they were); it points into
 * the caller's body when that was already UTF-8 (buf NULL), else into buf. */
struct scr_decoded {
    const char *text;
    size_t len;
    char *buf;            /* owned; NULL when text is the caller's body */
    const char *encoding; /* the Encoding standard's name ("UTF-8", "windows-1252", "GBK",
                           * "Shift_JIS", "UTF-16LE", ...): static, never NULL after decoding */
    const char *source;   /* where it came from: "bom", "header", "meta", "utf-8" (the body
                           * is well-formed UTF-8, nothing declared), "default"; static */
    const char *overridden; /* the declared encoding that UTF-8 replaced, or NULL */
};

/* The Encoding standard's name for a label (ASCII whitespace around it ignored, any case), or
 * NULL for a label it does not know.  label need not be NUL-terminated. */
const char *scr_encoding_for_label(const char *label, size_t len);

/* The encoding HTML's prescan finds in body[0..len) (only the first `window` bytes are
 * looked at), or NULL.  UTF-16 becomes UTF-8 and x-user-defined windows-1252, as the
 * standard says for a <meta>. */
const char *scr_decode_prescan(const char *body, size_t len, size_t window);

/* Decodes body[0..len) (content_type may be NULL) into *out.  Never fails: out of memory
 * aborts (common/alloc.h).  The caller releases *out with scr_decoded_release(); body must
 * outlive out->text when out->buf is NULL. */
void scr_decode_html(const char *content_type, const char *body, size_t len,
                     struct scr_decoded *out);

/* Frees what out holds.  Safe twice. */
void scr_decoded_release(struct scr_decoded *out);

#endif
