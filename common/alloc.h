/* alloc.h - the allocation policy, in one place (see docs/architecture.md, "Memory").
 *
 * scrape does not try to run on after malloc() fails.  Bookkeeping allocations (strings,
 * vectors, queue entries, decoded messages) go through the scr_x* helpers below, which never
 * return NULL: on failure they write one line naming the size to stderr and abort(), the way
 * git's xmalloc and Redis's zmalloc do.  That is safe here because a crash at any moment loses
 * nothing: rank 0's leases come back when its session ends, and a worker that dies is declared
 * lost and its URLs are leased again.
 *
 * What keeps memory bounded is not an error path but a cap: every size that comes from outside
 * (a page body, a wire field, a robots.txt, a rules file) is checked against its limit before
 * anything is allocated for it, and the caller reports SCR_ETOOBIG.
 *
 * SCR_GROW is the one growth rule for arrays: capacity doubles from a minimum, with the
 * multiplication checked for overflow (on 32-bit nodes too).
 */
#ifndef SCR_ALLOC_H
#define SCR_ALLOC_H

#include <stddef.h>

/* Never return NULL (a request of 0 bytes returns a unique pointer).  The caller owns the
 * result and frees it with free(). */
void *scr_xmalloc(size_t n);
void *scr_xcalloc(size_t nmemb, size_t size);
/* Resizes p (which may be NULL) to nmemb * size bytes; aborts if the product overflows. */
void *scr_xreallocarray(void *p, size_t nmemb, size_t size);
char *scr_xstrdup(const char *s);
/* Copies at most n bytes of s and a terminating NUL. */
char *scr_xstrndup(const char *s, size_t n);
/* Copies n bytes of p (which need not be a string) and adds a NUL after them. */
char *scr_xmemdup0(const void *p, size_t n);

/* Writes "scrape: out of memory (N bytes)" to stderr and aborts. */
_Noreturn void scr_oom(size_t n);

/* The capacity that holds at least `need` elements: cap doubled (from `min` when cap is 0)
 * until it does.  Aborts when need * elem cannot be represented in a size_t. */
size_t scr_grow_cap(size_t cap, size_t need, size_t min, size_t elem);

/* Makes the array `arr` (of capacity `cap` elements) hold at least `need` elements, moving it
 * with realloc.  arr and cap are lvalues, evaluated more than once: pass plain variables or
 * fields.  Contents up to the old capacity are kept; the rest is uninitialized. */
#define SCR_GROW(arr, cap, need, min)                                                     \
    do {                                                                                  \
        if ((size_t)(need) > (size_t)(cap)) {                                             \
            size_t scr_grow_nc_ = scr_grow_cap((cap), (need), (min), sizeof(*(arr)));     \
            (arr) = scr_xreallocarray((arr), scr_grow_nc_, sizeof(*(arr)));               \
            (cap) = scr_grow_nc_;                                                         \
        }                                                                                 \
    } while (0)

#endif
