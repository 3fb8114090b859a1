/* buf.c - growable byte buffer (see buf.h).  Growth is SCR_GROW (doubling), so appends are
 * amortized O(1); running out of memory aborts (common/alloc.h).  The one failure kept is a
 * size no buffer could hold (over half the address space): it is refused with SCR_ENOMEM
 * before anything is allocated, because such a size can only come from a corrupt length, and
 * the many callers that already propagate scr_buf's int return report it.
 *
 * Invariants: len < cap once data != NULL, and data[len] == '\0'. */
#include "common/buf.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"

void scr_buf_init(struct scr_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void scr_buf_release(struct scr_buf *b)
{
    free(b->data);
    scr_buf_init(b);
}

void scr_buf_reset(struct scr_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

int scr_buf_reserve(struct scr_buf *b, size_t extra)
{
    assert(b->data ? b->len < b->cap : b->len == 0 && b->cap == 0);
    if (extra > (size_t)-1 / 2 - b->len)
        return SCR_ENOMEM;
    SCR_GROW(b->data, b->cap, b->len + extra + 1, 64);
    return SCR_OK;
}

int scr_buf_append(struct scr_buf *b, const void *p, size_t n)
{
    int rc = scr_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return SCR_OK;
}

int scr_buf_puts(struct scr_buf *b, const char *s)
{
    return scr_buf_append(b, s, strlen(s));
}

int scr_buf_putc(struct scr_buf *b, char c)
{
    return scr_buf_append(b, &c, 1);
}

int scr_buf_vprintf(struct scr_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n, rc;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return SCR_EINVAL;
    rc = scr_buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    assert(b->data[b->len] == '\0');
    return SCR_OK;
}

int scr_buf_printf(struct scr_buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = scr_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

char *scr_buf_detach(struct scr_buf *b, size_t *len)
{
    char *p;

    if (!b->data) {
        SCR_GROW(b->data, b->cap, 1, 64);
        b->data[0] = '\0';
    }
    p = b->data;
    if (len)
        *len = b->len;
    scr_buf_init(b);
    return p;
}
