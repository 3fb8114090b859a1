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

#include "common/alloc.h"
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
    c->slot = scr_xcalloc(sets * WAYS, sizeof(*c->slot));
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

size_t scr_seen_filter(struct scr_seen *c, struct scr_strvec *links, struct scr_strvec *hosts)
{
    size_t j = 0, dropped = 0;

    if (!c->slot)
        return 0;
    for (size_t i = 0; i < links->n; i++) {
        if (scr_seen_has(c, links->v[i], strlen(links->v[i]))) {
            free(links->v[i]);
            free(hosts->v[i]);
            dropped++;
            continue;
        }
        links->v[j] = links->v[i];
        hosts->v[j] = hosts->v[i];
        j++;
    }
    links->n = hosts->n = j;
    return dropped;
}

void scr_seen_add_list(struct scr_seen *c, const struct scr_strvec *links)
{
    for (size_t i = 0; c->slot && i < links->n; i++)
        scr_seen_add(c, links->v[i], strlen(links->v[i]));
}

void scr_seen_clear(struct scr_seen *c)
{
    if (c->slot)
        memset(c->slot, 0, c->nsets * WAYS * sizeof(*c->slot));
}
