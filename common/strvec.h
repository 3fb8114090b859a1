/* strvec.h - a growable vector of owned C strings. */
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
/* Appends a copy of s. */
int scr_strvec_push(struct scr_strvec *sv, const char *s);
/* Appends s and takes ownership of it (freed even on failure). */
int scr_strvec_push_owned(struct scr_strvec *sv, char *s);

#endif
