/* seen.h - a fixed-size cache of URLs known to be in the frontier already.
 *
 * Most outlinks of a page (menus, footers, pagination) are URLs the frontier has had for a
 * long time.  The store thread drops those before they reach PostgreSQL, where each would cost
 * an index probe and a conflicting insert.  The cache only ever answers "certainly stored"
 * or "don't know": an entry is added after the transaction that stored (or met) the URL has
 * committed, and a URL that is not found is simply sent to the database as before.  Memory is
 * fixed at creation (8 bytes a slot, 4-way set-associative, the oldest entry of a set is
 * replaced), so it stays flat however large the frontier grows.
 *
 * Keys are SipHash-1-3 values under a random key per process: an attacker who controls the
 * links cannot craft a collision that would hide a new URL.
 */
#ifndef SCR_SEEN_H
#define SCR_SEEN_H

#include <stddef.h>
#include <stdint.h>

#include "common/strvec.h"

struct scr_seen {
    uint64_t *slot;   /* nsets * 4 hashes; 0 = empty */
    size_t nsets;     /* a power of two */
    uint64_t key[2];
    uint64_t hits, misses;
};

/* Sets up a cache of at least `slots` entries (rounded up to a power of two, at least 4);
 * slots == 0 gives a disabled cache that never answers "stored".  Returns SCR_OK (memory
 * comes from scr_xcalloc, which does not fail). */
int scr_seen_init(struct scr_seen *c, size_t slots);
void scr_seen_release(struct scr_seen *c);

/* 1 when url[0..len) was added before (and not yet replaced), else 0. */
int scr_seen_has(struct scr_seen *c, const char *url, size_t len);

/* Remembers url[0..len) as stored. */
void scr_seen_add(struct scr_seen *c, const char *url, size_t len);

/* Removes from links, and from hosts at the same positions, every URL known to the cache
 * (their strings are freed), keeping the order of the rest.  hosts has links->n entries.
 * Returns the number of URLs dropped. */
size_t scr_seen_filter(struct scr_seen *c, struct scr_strvec *links, struct scr_strvec *hosts);

/* Forgets every URL (keeps the memory and the key). */
void scr_seen_clear(struct scr_seen *c);

/* Adds every URL of links. */
void scr_seen_add_list(struct scr_seen *c, const struct scr_strvec *links);

#endif
