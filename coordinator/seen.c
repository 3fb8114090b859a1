/* seen.c - the cache of URLs known to be stored (see seen.h).
 *
 * Invariant: every hash in the table is that of a URL whose row exists in the job's frontier
 * (the caller adds only after a commit).  A set holds 4 hashes in insertion order; adding to
 * a full set shifts out the oldest.  Hash 0 marks an empty slot, so a URL hashing to 0 is
 * stored as 1 (one more "don't know" in 2^64 lookups).
 */
#include "coordinator/seen.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/siphash.h"

#define WAYS 4

int scr_seen_init(struct scr_seen *c, size_t slots)
{
    size_t sets = 1;

    memset(c, 0, sizeof(*c));
    if (slots == 0)
        return SCR_OK;
    while (sets * WAYS < slots)
        sets <<= 1;
    c->slot = calloc(sets * WAYS, sizeof(*c->slot));
    if (!c->slot)
        return SCR_ENOMEM;
    c->nsets = sets;
    if (getrandom(c->key, sizeof(c->key), GRND_NONBLOCK) != (ssize_t)sizeof(c->key)) {
        /* no entropy yet (early boot): still unpredictable enough for a cache key */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        c->key[0] ^= (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
        c->key[1] ^= (uint64_t)ts.tv_sec * 0xc2b2ae3d27d4eb4fULL ^ (uint64_t)(uintptr_t)c;
    }
    return SCR_OK;
}

void scr_seen_release(struct scr_seen *c)
{
    free(c->slot);
    memset(c, 0, sizeof(*c));
}

static uint64_t *set_of(struct scr_seen *c, const char *url, size_t len, uint64_t *h)
{
    *h = scr_siphash13(c->key, url, len);
    if (*h == 0)
        *h = 1;
    return c->slot + (size_t)(*h & (c->nsets - 1)) * WAYS;
}

int scr_seen_has(struct scr_seen *c, const char *url, size_t len)
{
    uint64_t h, *set;

    if (!c->slot)
        return 0;
    set = set_of(c, url, len, &h);
    for (int i = 0; i < WAYS; i++) {
        if (set[i] == h) {
            c->hits++;
            return 1;
        }
    }
    c->misses++;
    return 0;
}

void scr_seen_add(struct scr_seen *c, const char *url, size_t len)
{
    uint64_t h, *set;

    if (!c->slot)
        return;
    set = set_of(c, url, len, &h);
    for (int i = 0; i < WAYS; i++)
        if (set[i] == h)
            return;
    memmove(set, set + 1, (WAYS - 1) * sizeof(*set));
    set[WAYS - 1] = h;
}

/* The length of the line starting at s. */
static size_t line_len(const char *s)
{
    const char *nl = strchr(s, '\n');
    return nl ? (size_t)(nl - s) : strlen(s);
}

size_t scr_seen_filter(struct scr_seen *c, char *links, char *hosts)
{
    char *lr = links, *lw = links, *hr = hosts, *hw = hosts;
    size_t dropped = 0;

    if (!c->slot || !*links)
        return 0;
    for (;;) {
        size_t ll = line_len(lr), hl = line_len(hr);
        int last = lr[ll] == '\0';
        if (scr_seen_has(c, lr, ll)) {
            dropped++;
        } else {
            if (lw != links)
                *lw++ = '\n', *hw++ = '\n';
            memmove(lw, lr, ll);
            memmove(hw, hr, hl);
            lw += ll;
            hw += hl;
        }
        if (last || hr[hl] == '\0')
            break;
        lr += ll + 1;
        hr += hl + 1;
    }
    *lw = '\0';
    *hw = '\0';
    return dropped;
}

void scr_seen_add_list(struct scr_seen *c, const char *links)
{
    const char *p = links;

    if (!c->slot || !*p)
        return;
    for (;;) {
        size_t n = line_len(p);
        scr_seen_add(c, p, n);
        if (!p[n])
            break;
        p += n + 1;
    }
}
