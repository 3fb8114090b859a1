/* buf.c - growable byte buffer (see buf.h).  Growth doubles, so appends are amortized O(1). */
#include "common/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    size_t need, cap;
    char *p;

    if (extra > (size_t)-1 / 2 - b->len)
        return SCR_ENOMEM;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return SCR_OK;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    p = realloc(b->data, cap);
    if (!p)
        return SCR_ENOMEM;
    b->data = p;
    b->cap = cap;
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
        if (scr_buf_reserve(b, 0))
            return NULL;
        b->data[0] = '\0';
    }
    p = b->data;
    if (len)
        *len = b->len;
    scr_buf_init(b);
    return p;
}
