/* hosts.h - what the crawl knows about each host, and the pool of leased URLs.
 *
 * One struct scr_host per host the run meets: its FIFO of leased URLs, its politeness timing
 * (--delay, --host-concurrency, Crawl-delay), its robots.txt state and rules, how often its
 * robots.txt could not be fetched, whether it is unavailable (robots.txt down) or parked (too
 * many errors), whether its sitemaps were queued, and its error streak.  struct scr_hosts is
 * the table of them, plus the round-robin ring of hosts with waiting URLs.
 *
 * The coordinator sees every request of every worker, so per-host limits hold for the
 * cluster, not per process: at most --host-concurrency requests of a host in flight, and
 * request starts at least --delay apart (or the host's Crawl-delay when larger).
 *
 * A leased URL is *settled* once, as it arrives (scr_hosts_settle): into its host's FIFO when
 * the host may be fetched or its robots.txt is still being learnt; `skipped` when cached
 * rules disallow it; back to the frontier when the host is parked or its robots.txt is down.
 * URLs that were pooled while the host's robots.txt was unknown are settled again when it
 * becomes known (scr_hosts_resettle).  See docs/internals/politeness.md.
 *
 * Timing: a URL of a host with a delay is dispatched only into a free transfer slot, so it
 * starts when it arrives (at dispatch time plus the one-way latency).  When its result comes
 * back, the host's next start is pushed to (result time - transfer time + delay): an upper
 * bound of the real start, so with host-concurrency 1 the spacing holds whatever the latency.
 */
#ifndef SCR_HOSTS_H
#define SCR_HOSTS_H

#include <stddef.h>
#include <stdint.h>

#include "common/strmap.h"
#include "common/strvec.h"
#include "coordinator/frontier.h"
#include "coordinator/robots.h"

/* A host with this many transient errors in a row is parked for the rest of the run. */
#define SCR_HOSTS_PARK_STREAK 8

/* How long a parked or unavailable host's URLs wait in the frontier before the next try. */
#define SCR_HOSTS_PUT_BACK_MS INT64_C(3600000)

/* A host's robots.txt, as far as this run knows it. */
enum scr_robots_state {
    SCR_ROBOTS_UNKNOWN,  /* not looked up yet */
    SCR_ROBOTS_LOOKUP,   /* its cache row (hosts table) is being read: its URLs wait */
    SCR_ROBOTS_NEEDED,   /* not cached: a robots task goes out before any of its URLs */
    SCR_ROBOTS_FETCHING, /* the robots task is with a worker */
    SCR_ROBOTS_READY     /* known (NULL rules = everything allowed) */
};

/* Robots tasks carry ids with this bit set, so they never collide with URL ids. */
#define SCR_ROBOTS_TASK_BIT (UINT64_C(1) << 62)

struct scr_host {
    char *name;               /* authority: host[:port] */
    char scheme[8];           /* of the first URL seen: where robots.txt is asked */
    /* politeness timing */
    int inflight;             /* dispatched and not answered (queued in a worker counts) */
    int64_t next_start_us;    /* no request starts before this */
    int64_t last_start_us;    /* when the last request was handed out, or the later bound
                                 of its real start once its result came back (recv -
                                 transfer time) */
    int64_t delay_us;         /* max(--delay, min(Crawl-delay, --max-crawl-delay)) */
    int err_streak;           /* transient errors in a row (scr_retry_transient) */
    /* robots.txt */
    enum scr_robots_state robots_state;
    struct scr_robots *robots; /* owned; NULL = everything allowed */
    int robots_attempts;      /* robots fetches of this run that gave no usable answer */
    /* settled without a fetch: owned reasons, NULL when not so */
    char *down;               /* robots.txt unavailable after --max-attempts */
    int down_fail;            /* with down: its URLs fail (host_outages: down in too many runs) */
    char *parked;             /* SCR_HOSTS_PARK_STREAK errors in a row */
    int sitemaps_queued;      /* --sitemaps: queued once per run */
    int sitemaps_admitted;    /* sitemap URLs of this run that entered the pool (counted against
                                 --max-sitemaps-per-host by dispatch.c) */
    /* Cross-island politeness (docs/internals/islands.md): with claims on, a host is ready
     * only while this run claims it (host_claims) and does not hand it over. */
    int owned;                /* in hs->owned: this run holds (or is releasing) a claim */
    int64_t owner_until_us;   /* the claim lets this run start requests until then */
    int64_t claimed_us;       /* when this claim began (its tenure) */
    int64_t idle_since_us;    /* owned, nothing pooled or in flight since then (0 = busy) */
    int yielding;             /* handing the host over: nothing more is dispatched */
    int release_pending;      /* a release of it is with the store thread */
    int64_t cooldown_until_us; /* handed over: not claimed again before then */
    unsigned mark;            /* scratch for claims.c (renewal answers) */
    /* the pool: FIFO [qhead, qtail) of leased URLs waiting for this host */
    int active;               /* in the round-robin ring (FIFO non-empty) */
    struct scr_lease_item *q;
    size_t qhead, qtail, qcap;
};

struct scr_hosts {
    struct scr_strmap hosts;   /* authority -> struct scr_host (owned) */
    struct scr_host **active;  /* hosts with waiting URLs, in round-robin order */
    size_t nactive, capactive, rr;
    int host_concurrency;
    int64_t delay_us;
    size_t pooled;             /* waiting URLs over all hosts */
    size_t host_pool_cap;      /* hosts with this many waiting are not leased more */
    int64_t max_crawl_delay_us; /* Crawl-delay is honoured up to this */
    const char *agent;         /* user agent matched against robots.txt (borrowed) */
    uint64_t next_robots_id;
    int claims;                /* hosts are ready only while claimed (islands) */
    struct scr_host **owned;   /* hosts with owned set (claims.c walks them) */
    size_t nowned, capowned;
};

/* agent is borrowed for the table's life. */
void scr_hosts_init(struct scr_hosts *hs, int host_concurrency, int64_t delay_ms,
                    int64_t max_crawl_delay_ms, const char *agent);
/* Frees every host and every waiting URL. */
void scr_hosts_release(struct scr_hosts *hs);

/* The host named name (NULL if the run has not met it; borrowed). */
struct scr_host *scr_hosts_find(struct scr_hosts *hs, const char *name);
/* The host named name, created when new (borrowed; never NULL). */
struct scr_host *scr_hosts_get(struct scr_hosts *hs, const char *name);

/* What becomes of a leased URL. */
enum scr_settle {
    SCR_SETTLE_POOLED,   /* in its host's FIFO, ready once the host is */
    SCR_SETTLE_LOOKUP,   /* in its host's FIFO; the host's robots.txt cache must be read (its
                            state is LOOKUP now): the caller reads it and calls
                            scr_hosts_robots_set or scr_hosts_robots_missing */
    SCR_SETTLE_SKIPPED,  /* the host's robots.txt disallows it: state 'skipped' */
    SCR_SETTLE_PUT_BACK, /* host parked or robots.txt down: back to 'queued', next try in
                            SCR_HOSTS_PUT_BACK_MS, attempts unchanged (not failed) */
    SCR_SETTLE_FAILED    /* host down in --host-down-runs runs (outages.h): 'failed' with the
                            reason */
};

/* Settles a leased URL as it arrives.  POOLED and LOOKUP take the item (its strings move into
 * the FIFO and it is zeroed); SKIPPED and PUT_BACK leave it with the caller, with *reason
 * (borrowed from the host until it changes) saying why.  For LOOKUP, *reason is the host's
 * name (borrowed for the table's life); for POOLED it is NULL. */
enum scr_settle scr_hosts_settle(struct scr_hosts *hs, struct scr_lease_item *it,
                                 const char **reason);

/* Puts a URL back in its host's FIFO unconditionally (a lost worker's, a RETURNed one).
 * Takes the item's strings (it is zeroed). */
void scr_hosts_add(struct scr_hosts *hs, struct scr_lease_item *it);

/* Called for each pooled URL that scr_hosts_resettle takes out (SKIPPED or PUT_BACK, reason
 * borrowed); it takes ownership of the item's strings. */
typedef void (*scr_hosts_drop_fn)(struct scr_lease_item *it, enum scr_settle how,
                                  const char *reason, void *ctx);

/* Settles again the URLs pooled for host after what is known of it changed (robots rules
 * arrived, robots.txt down, parked): those that no longer go to a worker are handed to
 * drop().  Returns how many. */
size_t scr_hosts_resettle(struct scr_hosts *hs, const char *host, scr_hosts_drop_fn drop,
                          void *ctx);

/* Installs a host's robots rules (takes ownership of r; NULL = everything allowed) and its
 * Crawl-delay (seconds, < 0 = none): the host's delay becomes max(--delay, min(crawl-delay,
 * --max-crawl-delay)).  The state becomes READY.  The caller resettles the host. */
void scr_hosts_robots_set(struct scr_hosts *hs, const char *host, struct scr_robots *r,
                          double crawl_delay_s);

/* The host's robots.txt is not cached: NEEDED, a robots task goes first. */
void scr_hosts_robots_missing(struct scr_hosts *hs, const char *host);

/* The robots task of host came back without usable rules.  Below max_attempts failures the
 * host is NEEDED again, not before now + 2 s * 2^(n-1), and 0 is returned.  At max_attempts
 * 1 is returned and the host waits in LOOKUP (nothing dispatched, nothing handed over) until
 * the caller, told by the store how many runs it has been down (outages.h), calls
 * scr_hosts_set_down. */
int scr_hosts_robots_failed(struct scr_hosts *hs, const char *host, int64_t now_us,
                            int max_attempts);

/* The host is down for the rest of the run: READY without rules, and its URLs are put back
 * (fail = 0) or fail (fail = 1) with reason (copied).  The caller resettles it. */
void scr_hosts_set_down(struct scr_hosts *hs, const char *host, const char *reason, int fail);

/* A dispatched robots task got no answer (lost worker, unsendable batch): NEEDED again. */
void scr_hosts_robots_retry(struct scr_hosts *hs, const char *host, int64_t until_us);

/* "http" or "https": the scheme of the first URL of host seen (where robots.txt is). */
const char *scr_hosts_scheme(struct scr_hosts *hs, const char *host);

/* The host's rules (borrowed; NULL if none or not READY). */
const struct scr_robots *scr_hosts_robots(struct scr_hosts *hs, const char *host);

/* 1 the first time it is called for host (its sitemaps are to be queued), 0 after. */
int scr_hosts_sitemaps_once(struct scr_hosts *hs, const char *host);

/* Records how a request to host ended.  ok resets its error streak; an error (ok = 0 when
 * scr_retry_transient says so) grows it and pushes the host's next start by
 * min(base * 2^streak, 10 min), base = max(delay, 1 s), or to retry_after_us when that is
 * later.  Returns the streak. */
int scr_hosts_outcome(struct scr_hosts *hs, const char *host, int ok, int64_t now_us,
                      int64_t retry_after_us);

/* Parks host for the rest of the run (reason copied): its URLs, pooled or leased later, go
 * back to the frontier (see SCR_SETTLE_PUT_BACK).  Returns 1 if it was not parked before
 * (the caller resettles it), 0 otherwise. */
int scr_hosts_park(struct scr_hosts *hs, const char *host, const char *reason);

/* Picks up to n_now URLs from any ready host and then up to n_later from ready hosts without
 * a delay (these may wait in a worker's queue).  Moves them into out (capacity at least
 * n_now + n_later) and counts them in flight.  A host whose robots state is NEEDED gives its
 * robots task first (an item with url_id = SCR_ROBOTS_TASK_BIT | n, kind robots, url
 * SCHEME://HOST/robots.txt, host state FETCHING); a host not READY gives nothing else.
 * Returns how many. */
size_t scr_hosts_take(struct scr_hosts *hs, int64_t now_us, size_t n_now, size_t n_later,
                      struct scr_lease_item *out);

/* A URL of host came back (result, or lost): one fewer in flight; with transfer_us >= 0 the
 * host's next start is pushed to recv_us - transfer_us + delay. */
void scr_hosts_done(struct scr_hosts *hs, const char *host, int64_t recv_us,
                    int64_t transfer_us);

/* Pushes a host's next start to at least until_us (Retry-After, backoff). */
void scr_hosts_defer(struct scr_hosts *hs, const char *host, int64_t until_us);

/* Microseconds from now until some waiting URL may go (0 = now, -1 = nothing waits). */
int64_t scr_hosts_next_us(struct scr_hosts *hs, int64_t now_us);

/* Appends to out the hosts whose FIFO is full (so leasing skips them). */
void scr_hosts_saturated(struct scr_hosts *hs, struct scr_strvec *out);

/* Ownership (claims on; see docs/internals/islands.md).  The host named name is claimed by
 * this run until until_us (local monotonic time); age_us >= 0 says the last request start
 * the database knows of (another island's, maybe) was that long before now_us: the host's
 * next start is pushed to that start + its delay.  A host that was not owned starts a new
 * tenure at now_us.  Returns the host (borrowed). */
struct scr_host *scr_hosts_claim(struct scr_hosts *hs, const char *name, int64_t now_us,
                                 int64_t until_us, int64_t age_us);

/* The claim of h ends here (released or lost): it is no longer ready. */
void scr_hosts_unclaim(struct scr_hosts *hs, struct scr_host *h);

/* Takes every pooled URL of h out and hands each to drop (how PUT_BACK, reason borrowed),
 * which takes its strings.  Returns how many. */
size_t scr_hosts_hand_back(struct scr_hosts *hs, struct scr_host *h, scr_hosts_drop_fn drop,
                           const char *reason, void *ctx);

/* Takes every waiting URL out (end of run); caller releases them and frees the array. */
size_t scr_hosts_drain(struct scr_hosts *hs, struct scr_lease_item **out);

#endif
