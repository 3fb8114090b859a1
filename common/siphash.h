/* siphash.h - SipHash-1-3 (Aumasson and Bernstein), a keyed 64-bit hash.
 *
 * Used where an attacker controls the input (URLs from crawled pages) and a collision would
 * cost something: with a secret random key, colliding inputs cannot be crafted.
 */
#ifndef SCR_SIPHASH_H
#define SCR_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* The hash of data[0..len) under the 128-bit key k[0], k[1]. */
uint64_t scr_siphash13(const uint64_t k[2], const void *data, size_t len);
/* The same with the paper's 2-4 rounds (slower; its published vectors test the code). */
uint64_t scr_siphash24(const uint64_t k[2], const void *data, size_t len);

#endif
