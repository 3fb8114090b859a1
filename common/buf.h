/* buf.h - a growable byte buffer, always NUL-terminated.
 *
 * struct scr_buf is owned by its caller: scr_buf_init() before use, scr_buf_release() after.
 * data is NULL until the first append; after any successful append data[len] == '\0', so a
 * buffer of text can be used as a C string.  Out of memory aborts (common/alloc.h); the int
 * returns fail only with SCR_ENOMEM for a size over half the address space (refused before
 * allocating, contents unchanged) or SCR_EINVAL for a bad printf format.
 */
#ifndef SCR_BUF_H
#define SCR_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct scr_buf {
    char *data;
    size_t len;
    size_t cap;
};

void scr_buf_init(struct scr_buf *b);
void scr_buf_release(struct scr_buf *b);
/* Empties the buffer, keeping its memory. */
void scr_buf_reset(struct scr_buf *b);
/* Makes room for `extra` more bytes (plus the terminating NUL). */
int scr_buf_reserve(struct scr_buf *b, size_t extra);
int scr_buf_append(struct scr_buf *b, const void *p, size_t n);
int scr_buf_puts(struct scr_buf *b, const char *s);
int scr_buf_putc(struct scr_buf *b, char c);
int scr_buf_printf(struct scr_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int scr_buf_vprintf(struct scr_buf *b, const char *fmt, va_list ap);
/* Hands the bytes to the caller (free() them; never NULL, "" for an empty buffer)
 * and leaves the buffer empty.  *len (if not NULL) receives the length. */
char *scr_buf_detach(struct scr_buf *b, size_t *len);

#endif
