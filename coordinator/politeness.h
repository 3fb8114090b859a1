/* politeness.h - when may a host be fetched, for the whole cluster.
 *
 * The coordinator sees every request of every worker, so per-host limits hold for the
 * cluster, not per process: at most --host-concurrency requests of a host in flight, and
 * request starts at least --delay apart (or the host's Crawl-delay when larger).
 *
 * It also holds the pool: URLs leased from PostgreSQL and waiting for their host to be ready,
 * one FIFO per host, handed out round-robin across ready hosts so many hosts proceed in
 * parallel and a waiting host never holds a worker up.  See docs/internals/politeness.md.
 *
 * Timing: a URL of a host with a delay is dispatched only into a free transfer slot, so it
 * starts when it arrives (at dispatch time plus the one-way latency).  When its result comes
 * back, the host's next start is pushed to (result time - transfer time + delay): an upper
 * bound of the real start, so with host-concurrency 1 the spacing holds whatever the latency.
 */
#ifndef SCR_POLITENESS_H
#define SCR_POLITENESS_H

#include <stddef.h>
#include <stdint.h>

#include "common/strmap.h"
#include "coordinator/frontier.h"
#include "coordinator/robots.h"

struct scr_host;

/* A host's robots.txt, as far as this run knows it. */
enum scr_robots_state {
    SCR_ROBOTS_UNKNOWN,  /* not looked up yet: its URLs wait */
    SCR_ROBOTS_NEEDED,   /* not cached: a robots task goes out before any of its URLs */
    SCR_ROBOTS_FETCHING, /* the robots task is with a worker */
    SCR_ROBOTS_READY     /* known (NULL rules = everything allowed) */
};

/* Robots tasks carry ids with this bit set, so they never collide with URL ids. */
#define SCR_ROBOTS_TASK_BIT (UINT64_C(1) << 62)

struct scr_politeness {
    struct scr_strmap hosts;   /* authority -> struct scr_host */
    struct scr_host **active;  /* hosts with waiting URLs, in round-robin order */
    size_t nactive, capactive, rr;
    int host_concurrency;
    int64_t delay_us;
    size_t pooled;             /* waiting URLs over all hosts */
    size_t slots;              /* FIFO slots allocated over all hosts (>= pooled; only active
                                  hosts have any) */
    size_t host_pool_cap;      /* hosts with this many waiting are not leased more */
    int64_t max_crawl_delay_us; /* Crawl-delay is honoured up to this */
    uint64_t next_robots_id;
};

int scr_politeness_init(struct scr_politeness *p, int host_concurrency, int64_t delay_ms,
                        int64_t max_crawl_delay_ms);
/* Frees every host and every waiting URL. */
void scr_politeness_release(struct scr_politeness *p);

/* Adds a leased URL to its host's FIFO.  Takes ownership of the item's strings (it is
 * zeroed) even on failure. */
int scr_politeness_add(struct scr_politeness *p, struct scr_lease_item *it);

/* The robots state of a host (UNKNOWN for a host never seen). */
enum scr_robots_state scr_politeness_robots_state(struct scr_politeness *p, const char *host);

/* Hosts whose robots state is UNKNOWN, '\n'-joined (malloc'd); marks them NEEDED, so the
 * caller looks each up once (in the database cache) and then calls scr_politeness_robots_set
 * for the hits; the misses get a robots task. */
char *scr_politeness_robots_unknown(struct scr_politeness *p);

/* Installs a host's robots rules (takes ownership of r; NULL = everything allowed) and its
 * Crawl-delay (seconds, < 0 = none): the host's delay becomes max(--delay, min(crawl-delay,
 * --max-crawl-delay)).  The state becomes READY. */
void scr_politeness_robots_set(struct scr_politeness *p, const char *host, struct scr_robots *r,
                               double crawl_delay_s);

/* The robots task of host came back without usable rules: NEEDED again, not before
 * until_us. */
void scr_politeness_robots_retry(struct scr_politeness *p, const char *host, int64_t until_us);

/* "http" or "https": the scheme of the first URL of host seen (where robots.txt is). */
const char *scr_politeness_scheme(struct scr_politeness *p, const char *host);

/* The host's rules (borrowed; NULL if none or not READY). */
const struct scr_robots *scr_politeness_robots(struct scr_politeness *p, const char *host);

/* Removes from host's FIFO every URL for which keep() returns 0 and hands it to drop()
 * (which takes ownership of the item's strings). */
void scr_politeness_filter(struct scr_politeness *p, const char *host,
                           int (*keep)(const struct scr_lease_item *it, void *ctx),
                           void (*drop)(struct scr_lease_item *it, void *ctx), void *ctx);

/* Records how a request to host ended.  ok resets its error streak; an error grows it and
 * pushes the host's next start by min(base * 2^streak, 10 min), base = max(delay, 1 s), or to
 * retry_after_us when that is later.  Returns the streak. */
int scr_politeness_outcome(struct scr_politeness *p, const char *host, int ok, int64_t now_us,
                           int64_t retry_after_us);

/* Picks up to n_now URLs from any ready host and then up to n_later from ready hosts without
 * a delay (these may wait in a worker's queue).  Moves them into out (capacity at least
 * n_now + n_later) and counts them in flight.  A host whose robots state is NEEDED gives its
 * robots task first (an item with url_id = SCR_ROBOTS_TASK_BIT | n, kind robots, url
 * SCHEME://HOST/robots.txt, host state FETCHING); a host not READY gives nothing else.
 * Returns how many. */
size_t scr_politeness_take(struct scr_politeness *p, int64_t now_us, size_t n_now,
                           size_t n_later, struct scr_lease_item *out);

/* A URL of host came back (result, or lost): one fewer in flight; with transfer_us >= 0 the
 * host's next start is pushed to recv_us - transfer_us + delay. */
void scr_politeness_done(struct scr_politeness *p, const char *host, int64_t recv_us,
                         int64_t transfer_us);

/* Pushes a host's next start to at least until_us (Retry-After, backoff). */
void scr_politeness_defer(struct scr_politeness *p, const char *host, int64_t until_us);

/* Microseconds from now until some waiting URL may go (0 = now, -1 = nothing waits). */
int64_t scr_politeness_next_us(struct scr_politeness *p, int64_t now_us);

/* '\n'-joined hosts whose FIFO is full (so leasing skips them); malloc'd, "" if none. */
char *scr_politeness_saturated(struct scr_politeness *p);

/* Takes every waiting URL out (end of run); caller releases them and frees the array. */
size_t scr_politeness_drain(struct scr_politeness *p, struct scr_lease_item **out);

#endif
