/* strvec.c - vector of owned strings (see strvec.h).  Grows with SCR_GROW; the only failure
 * left is a NULL handed in by a caller whose own allocation failed. */
#include "common/strvec.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"

void scr_strvec_init(struct scr_strvec *sv)
{
    sv->v = NULL;
    sv->n = 0;
    sv->cap = 0;
}

void scr_strvec_reset(struct scr_strvec *sv)
{
    assert(sv->n <= sv->cap);
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
    assert(sv->n <= sv->cap);
    SCR_GROW(sv->v, sv->cap, sv->n + 1, 16);
    sv->v[sv->n++] = s;
    return SCR_OK;
}

int scr_strvec_push(struct scr_strvec *sv, const char *s)
{
    return scr_strvec_push_owned(sv, scr_xstrdup(s));
}

char *scr_strvec_join_array(const struct scr_strvec *sv)
{
    struct scr_buf b;

    scr_buf_init(&b);
    scr_buf_putc(&b, '[');
    for (size_t i = 0; i < sv->n; i++) {
        if (i)
            scr_buf_putc(&b, ',');
        scr_buf_puts(&b, sv->v[i]);
    }
    scr_buf_putc(&b, ']');
    return scr_buf_detach(&b, NULL);
}
