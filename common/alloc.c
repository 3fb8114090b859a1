/* alloc.c - allocation helpers that abort on failure, and the one growth rule (see alloc.h).
 *
 * Nothing here may allocate to report a failure: the message is formatted on the stack and
 * written with one write(2).
 */
#include "common/alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

_Noreturn void scr_oom(size_t n)
{
    char msg[96];
    int len = snprintf(msg, sizeof(msg), "scrape: out of memory (%zu bytes)\n", n);

    if (len > 0) {
        ssize_t w = write(STDERR_FILENO, msg, (size_t)len);
        (void)w;
    }
    abort();
}

void *scr_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p)
        scr_oom(n);
    return p;
}

void *scr_xcalloc(size_t nmemb, size_t size)
{
    void *p;

    if (!nmemb || !size)
        nmemb = size = 1;
    p = calloc(nmemb, size);
    if (!p)
        scr_oom(size && nmemb > SIZE_MAX / size ? SIZE_MAX : nmemb * size);
    return p;
}

void *scr_xreallocarray(void *p, size_t nmemb, size_t size)
{
    size_t n;
    void *q;

    if (size && nmemb > SIZE_MAX / size)
        scr_oom(SIZE_MAX);
    n = nmemb * size;
    q = realloc(p, n ? n : 1);
    if (!q)
        scr_oom(n);
    return q;
}

char *scr_xmemdup0(const void *p, size_t n)
{
    char *s;

    if (n == SIZE_MAX)
        scr_oom(n);
    s = scr_xmalloc(n + 1);
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

char *scr_xstrdup(const char *s)
{
    return scr_xmemdup0(s, strlen(s));
}

char *scr_xstrndup(const char *s, size_t n)
{
    return scr_xmemdup0(s, strnlen(s, n));
}

size_t scr_grow_cap(size_t cap, size_t need, size_t min, size_t elem)
{
    size_t nc = cap ? cap : (min ? min : 1);

    if (elem == 0)
        elem = 1;
    if (need > SIZE_MAX / elem)
        scr_oom(SIZE_MAX);
    while (nc < need) {
        if (nc > SIZE_MAX / 2 / elem) {
            nc = need; /* doubling would overflow: take exactly what is needed */
            break;
        }
        nc *= 2;
    }
    return nc;
}
