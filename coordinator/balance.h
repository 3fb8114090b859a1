/* balance.h - the end of a crawl on uneven nodes: each worker's measured rate, how many tasks
 * a worker may take once the frontier is drained, and how many unstarted tasks to ask back
 * from a worker that holds more than it can finish before the others.
 *
 * During the crawl nothing here applies: a worker gets what its REQUEST has room for, so a
 * fast node takes more batches.  At the tail (the last lease found nothing, so the pool and
 * the tasks out on the workers are all the work there is), a slow node holding a full
 * prefetch queue would end the crawl long after the others ran dry.  The coordinator then
 * gives a worker a task only if it would finish it no later than the other workers finish
 * everything else (or if it is the place where that task ends soonest), and takes queued
 * tasks back (RECALL / RETURN) from a worker whose backlog outlasts the others'.  A returned
 * task was never started, so nothing is fetched twice (docs/protocol.md).
 *
 * Pure functions and a plain struct: the caller (coordinator/coordinator.c) owns everything.
 */
#ifndef SCR_BALANCE_H
#define SCR_BALANCE_H

#include <stddef.h>
#include <stdint.h>

/* A worker's result rate, pages per second of busy time (time while it held tasks),
 * exponentially weighted with time constant SCR_RATE_TAU_S so a node that slows down (or
 * speeds up) mid-run is seen within seconds.  Zero-initialise. */
#define SCR_RATE_TAU_S 5.0
#define SCR_RATE_MIN_RESULTS 3 /* fewer results: the rate is unknown (0) */

struct scr_rate {
    double n, t;        /* weighted results, weighted busy seconds */
    double lat;         /* weighted service time of one task, seconds */
    int64_t mark_us;    /* start of the busy time not yet counted; 0 when idle */
    uint64_t results;
};

/* The worker was given tasks while it held none: its busy time starts now. */
void scr_rate_busy(struct scr_rate *r, int64_t now_us);
/* One result arrived; held_after is what the worker still holds (0: it is idle now);
 * service_us is the task's time from dispatch to result less its wait in the worker's queue
 * (the messages' transit, the transfer, the parsing: what one more task would take). */
void scr_rate_result(struct scr_rate *r, int64_t now_us, size_t held_after, int64_t service_us);
/* Pages per second, or 0 while unknown (fewer than SCR_RATE_MIN_RESULTS results). */
double scr_rate_get(const struct scr_rate *r);
/* Seconds one task takes on the worker, or 0 while unknown. */
double scr_rate_latency(const struct scr_rate *r);

/* One worker as the balancing sees it. */
struct scr_balance_node {
    double rate;        /* scr_rate_get(); 0 = unknown */
    double latency;     /* scr_rate_latency(); 0 = unknown */
    size_t held;        /* tasks out on it without a RESULT (running, queued, in transit) */
    int active;         /* takes work now (not lost, stopping or gone) */
};

/* At the tail: how many of `want` tasks node `self` may take from a pool of `pooled`.
 * A node finishes its held tasks plus k more after max(latency, (held + k) / rate): a slow
 * CPU takes long over one page even when it holds few.  Task k is allowed when that is no
 * later than the other active nodes with a known rate finish the rest of the pool and what
 * they hold, or no later than the best other node would finish one more task.  A node whose
 * rate is unknown, or with no other rated node, gets min(want, pooled). */
size_t scr_balance_take(const struct scr_balance_node *nodes, size_t n, size_t self,
                        size_t pooled, size_t want);

/* At the tail: how many tasks to ask back from node `self`, which runs at most `slots`
 * transfers at once (only tasks beyond those can be waiting in its queue).  It keeps what
 * it can finish while the others finish the pool and what they hold, and at least `slots`;
 * the rest is asked back.  0 = nothing to recall. */
size_t scr_balance_recall(const struct scr_balance_node *nodes, size_t n, size_t self,
                          size_t pooled, size_t slots);

#endif
