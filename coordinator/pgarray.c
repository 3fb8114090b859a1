/* pgarray.c - binary PostgreSQL arrays for statement parameters (see pgarray.h).
 *
 * Invariant: b.data[0..HEADER) is reserved for the header, written by scr_pgarray_bytes();
 * the elements follow in order, each a 4-byte big-endian length (-1 for NULL) and its bytes.
 */
#include "coordinator/pgarray.h"

#include <string.h>

#include "common/alloc.h"

#define HEADER 20 /* ndim, flags, oid, size, lower bound: 5 x int32 */

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void append(struct scr_pgarray *a, const void *p, size_t n)
{
    if (scr_buf_append(&a->b, p, n) != 0)
        scr_oom(n);
}

static void elem(struct scr_pgarray *a, const void *p, uint32_t n)
{
    unsigned char len[4];

    put32(len, n);
    append(a, len, 4);
    if (n)
        append(a, p, n);
    a->n++;
}

void scr_pgarray_init(struct scr_pgarray *a, uint32_t elem_oid)
{
    static const unsigned char zero[HEADER];

    scr_buf_init(&a->b);
    a->oid = elem_oid;
    a->n = 0;
    a->has_null = 0;
    append(a, zero, HEADER);
}

void scr_pgarray_release(struct scr_pgarray *a)
{
    scr_buf_release(&a->b);
}

void scr_pgarray_reset(struct scr_pgarray *a)
{
    a->b.len = HEADER; /* the header's bytes stay; they are rewritten by scr_pgarray_bytes */
    a->n = 0;
    a->has_null = 0;
}

void scr_pgarray_null(struct scr_pgarray *a)
{
    unsigned char len[4];

    put32(len, 0xffffffffu);
    append(a, len, 4);
    a->n++;
    a->has_null = 1;
}

void scr_pgarray_text(struct scr_pgarray *a, const char *s)
{
    if (!s)
        scr_pgarray_null(a);
    else
        elem(a, s, (uint32_t)strlen(s));
}

void scr_pgarray_jsonb(struct scr_pgarray *a, const char *s)
{
    unsigned char len[4], version = 1; /* jsonb_recv: a version byte, then the JSON text */
    size_t n;

    if (!s) {
        scr_pgarray_null(a);
        return;
    }
    n = strlen(s);
    put32(len, (uint32_t)(n + 1));
    append(a, len, 4);
    append(a, &version, 1);
    append(a, s, n);
    a->n++;
}

void scr_pgarray_i64(struct scr_pgarray *a, int64_t v)
{
    unsigned char p[8];
    uint64_t u = (uint64_t)v;

    put32(p, (uint32_t)(u >> 32));
    put32(p + 4, (uint32_t)u);
    elem(a, p, 8);
}

void scr_pgarray_i32(struct scr_pgarray *a, int32_t v)
{
    unsigned char p[4];

    put32(p, (uint32_t)v);
    elem(a, p, 4);
}

void scr_pgarray_bool(struct scr_pgarray *a, int v)
{
    unsigned char c = v ? 1 : 0;

    elem(a, &c, 1);
}

const char *scr_pgarray_bytes(struct scr_pgarray *a, int *len)
{
    unsigned char *h = (unsigned char *)a->b.data;

    if (a->n == 0) {
        /* ndim 0: the 12-byte header of an empty array, then nothing */
        put32(h + 8, 0);
        put32(h + 12, 0);
        put32(h + 16, a->oid);
        *len = 12;
        return a->b.data + 8;
    }
    put32(h, 1);
    put32(h + 4, a->has_null ? 1 : 0);
    put32(h + 8, a->oid);
    put32(h + 12, a->n);
    put32(h + 16, 1);
    *len = (int)a->b.len;
    return a->b.data;
}
