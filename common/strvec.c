/* strvec.c - vector of owned strings (see strvec.h). */
#include "common/strvec.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"

void scr_strvec_init(struct scr_strvec *sv)
{
    sv->v = NULL;
    sv->n = 0;
    sv->cap = 0;
}

void scr_strvec_reset(struct scr_strvec *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    sv->n = 0;
}

void scr_strvec_release(struct scr_strvec *sv)
{
    scr_strvec_reset(sv);
    free(sv->v);
    scr_strvec_init(sv);
}

int scr_strvec_push_owned(struct scr_strvec *sv, char *s)
{
    if (!s)
        return SCR_ENOMEM;
    if (sv->n == sv->cap) {
        size_t cap = sv->cap ? sv->cap * 2 : 16;
        char **v = realloc(sv->v, cap * sizeof(*v));
        if (!v) {
            free(s);
            return SCR_ENOMEM;
        }
        sv->v = v;
        sv->cap = cap;
    }
    sv->v[sv->n++] = s;
    return SCR_OK;
}

int scr_strvec_push(struct scr_strvec *sv, const char *s)
{
    return scr_strvec_push_owned(sv, strdup(s));
}
