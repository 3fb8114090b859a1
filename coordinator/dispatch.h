/* dispatch.h - the pure part of dispatch.c: how many tasks one REQUEST may get.
 *
 * The rest of dispatch (answering REQUESTs from the hosts table, RECALL/RETURN at the tail,
 * leasing, settling leased URLs) works on the coordinator's state and is declared in
 * coord_internal.h.
 */
#ifndef SCR_DISPATCH_H
#define SCR_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

/* No REQUEST is answered with more tasks than this (the largest lease target; a worker asks
 * for at most 2 x --concurrency <= 2048). */
#define SCR_DISPATCH_MAX 4096

/* Clamps a REQUEST(want_now, want_later) to an array of cap tasks: *n_now = min(want_now,
 * cap), *n_later = min(want_later, cap - *n_now).  Returns *n_now + *n_later, which never
 * exceeds cap and never wraps (on 32-bit nodes either). */
size_t scr_dispatch_want(uint32_t want_now, uint32_t want_later, size_t cap, size_t *n_now,
                         size_t *n_later);

#endif
