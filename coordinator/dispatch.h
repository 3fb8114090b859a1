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

/* The `now` of a pending REQUEST when it is answered: the larger of what the worker asked
 * (asked, its free slots when it sent the REQUEST) and concurrency - held, where held is what
 * rank 0 counts on the worker's in-flight list (dispatched to it, no RESULT or RETURN yet).
 * A worker sends one REQUEST at a time and waits for its BATCH, so without this a REQUEST
 * sent while every slot was busy (now = 0) would still say 0 after the transfers ended, and
 * URLs of hosts with a delay, which only go into `now` slots, would wait for ever.  The held
 * count never undercounts what the worker runs or queues when the BATCH arrives (tasks only
 * leave the list once the worker has answered or dropped them, and no other BATCH is on its
 * way), so every `now` task still finds a free slot.  See docs/protocol.md. */
uint32_t scr_dispatch_free_now(uint32_t asked, size_t held, int concurrency);

#endif
