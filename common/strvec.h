/* strvec.h - a growable vector of owned C strings.
 *
 * Invariants: n <= cap; v[0..n) are strings the vector owns (never NULL); v is NULL when cap
 * is 0.  Growth aborts on out-of-memory (common/alloc.h), so pushing a string cannot fail.
 */
#ifndef SCR_STRVEC_H
#define SCR_STRVEC_H

#include <stddef.h>

struct scr_strvec {
    char **v;
    size_t n;
    size_t cap;
};

void scr_strvec_init(struct scr_strvec *sv);
/* Frees every string and the vector's memory. */
void scr_strvec_release(struct scr_strvec *sv);
/* Frees every string, keeps the memory. */
void scr_strvec_reset(struct scr_strvec *sv);
/* "[v0,v1,...]": the items joined with commas in brackets (a JSON array when each item is a
 * JSON text).  Malloc'd, the caller frees; never NULL (aborts when out of memory). */
char *scr_strvec_join_array(const struct scr_strvec *sv);
/* Appends a copy of s (s is borrowed).  Always SCR_OK (kept as int for its callers). */
int scr_strvec_push(struct scr_strvec *sv, const char *s);
/* Appends s and takes ownership of it.  s may be NULL when the caller's own allocation failed
 * (a jansson or libxml2 string, say): that gives SCR_ENOMEM and leaves the vector unchanged;
 * any other s gives SCR_OK. */
int scr_strvec_push_owned(struct scr_strvec *sv, char *s);

#endif
