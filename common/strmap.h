/* strmap.h - a hash map from C strings to pointers (open addressing, linear probing).
 *
 * Keys are copied and owned by the map; values are borrowed (the caller owns what they point
 * to).  Not thread-safe.  Invariants: cap is 0 or a power of two, count <= 70% of cap.
 */
#ifndef SCR_STRMAP_H
#define SCR_STRMAP_H

#include <stddef.h>

struct scr_strmap_slot {
    char *key;
    void *value;
};

struct scr_strmap {
    struct scr_strmap_slot *slots;
    size_t cap;   /* power of two, or 0 */
    size_t count;
};

void scr_strmap_init(struct scr_strmap *m);
/* Frees the keys and the table (not the values). */
void scr_strmap_release(struct scr_strmap *m);
void *scr_strmap_get(const struct scr_strmap *m, const char *key);
/* Inserts or replaces; key is copied, value borrowed.  Always SCR_OK (kept as int for its
 * callers): out of memory aborts. */
int scr_strmap_put(struct scr_strmap *m, const char *key, void *value);
/* Iteration: for (size_t i = 0; i < m->cap; i++) if (m->slots[i].key) ... */

#endif
