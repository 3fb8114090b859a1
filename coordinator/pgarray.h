/* pgarray.h - one-dimensional PostgreSQL arrays in the binary wire format, for parameters.
 *
 * A set-based statement takes one array per column (unnest($2::bigint[], $3::text[], ...)).
 * Sent as text, each array would have to be quoted and escaped here and parsed by the server;
 * in the binary format an element is its length and its bytes (or a fixed-width integer in
 * network order), so neither side scans the text.  The format is array_recv's: ndim, flags
 * (has nulls), element type OID, then for each dimension its size and lower bound, then per
 * element a 4-byte length (-1 = NULL) and the bytes.  An empty array has ndim 0.
 *
 * struct scr_pgarray is owned by its caller: scr_pgarray_init() before use,
 * scr_pgarray_release() after.  Appends cannot fail (out of memory aborts).
 */
#ifndef SCR_PGARRAY_H
#define SCR_PGARRAY_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* element type OIDs (pg_type.oid; fixed since PostgreSQL 7.x/9.4) */
#define SCR_PG_BOOL 16
#define SCR_PG_INT8 20
#define SCR_PG_INT4 23
#define SCR_PG_TEXT 25
#define SCR_PG_JSONB 3802

struct scr_pgarray {
    struct scr_buf b;  /* the header's room, then the elements */
    uint32_t oid;
    uint32_t n;
    int has_null;
};

void scr_pgarray_init(struct scr_pgarray *a, uint32_t elem_oid);
void scr_pgarray_release(struct scr_pgarray *a);
/* Empties a for reuse (keeps its memory and element type). */
void scr_pgarray_reset(struct scr_pgarray *a);

/* Appends an element; the type must match the array's element type (text: SCR_PG_TEXT;
 * jsonb: SCR_PG_JSONB, s is JSON text and is sent as it is).  s == NULL appends NULL. */
void scr_pgarray_text(struct scr_pgarray *a, const char *s);
void scr_pgarray_jsonb(struct scr_pgarray *a, const char *s);
void scr_pgarray_i64(struct scr_pgarray *a, int64_t v);
void scr_pgarray_i32(struct scr_pgarray *a, int32_t v);
void scr_pgarray_bool(struct scr_pgarray *a, int v);
/* A NULL element of any type. */
void scr_pgarray_null(struct scr_pgarray *a);

/* Fills in the header and returns the bytes (borrowed: valid until the next append, reset
 * or release) and their number in *len, for PQexecPrepared with format 1. */
const char *scr_pgarray_bytes(struct scr_pgarray *a, int *len);

#endif
