/* strmap.c - string-keyed hash map (see strmap.h).  FNV-1a hashing; the table doubles at
 * 70% load (scr_grow_cap, the project's one growth rule), so lookups stay O(1) and a probe
 * always finds an empty slot.  There is no delete: the coordinator's maps only grow within a
 * run.  Allocation failures abort (common/alloc.h). */
#include "common/strmap.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

void scr_strmap_init(struct scr_strmap *m)
{
    m->slots = NULL;
    m->cap = 0;
    m->count = 0;
}

void scr_strmap_release(struct scr_strmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].key);
    free(m->slots);
    scr_strmap_init(m);
}

static struct scr_strmap_slot *find(const struct scr_strmap *m, const char *key)
{
    size_t i = (size_t)hash(key) & (m->cap - 1);

    assert(m->cap && (m->cap & (m->cap - 1)) == 0 && m->count < m->cap);
    while (m->slots[i].key && strcmp(m->slots[i].key, key) != 0)
        i = (i + 1) & (m->cap - 1);
    return &m->slots[i];
}

void *scr_strmap_get(const struct scr_strmap *m, const char *key)
{
    struct scr_strmap_slot *s;
    if (!m->cap)
        return NULL;
    s = find(m, key);
    return s->key ? s->value : NULL;
}

/* Rehashes into a table twice as large (64 slots at first). */
static void grow(struct scr_strmap *m)
{
    struct scr_strmap old = *m;
    size_t cap = scr_grow_cap(m->cap, m->cap + 1, 64, sizeof(*m->slots));

    m->slots = scr_xcalloc(cap, sizeof(*m->slots));
    m->cap = cap;
    for (size_t i = 0; i < old.cap; i++) {
        if (old.slots[i].key)
            *find(m, old.slots[i].key) = old.slots[i];
    }
    assert(m->count == old.count);
    free(old.slots);
}

int scr_strmap_put(struct scr_strmap *m, const char *key, void *value)
{
    struct scr_strmap_slot *s;

    if ((m->count + 1) * 10 > m->cap * 7)
        grow(m);
    s = find(m, key);
    if (!s->key) {
        s->key = scr_xstrdup(key);
        m->count++;
    }
    s->value = value;
    return SCR_OK;
}
