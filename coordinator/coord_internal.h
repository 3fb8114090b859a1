/* coord_internal.h - the coordinator's state, shared by its files (not outside coordinator/).
 *
 * struct coord is owned by scr_coordinator_run (coordinator.c) and lives on its stack for the
 * run.  Each noun keeps its own struct inside it: the peers (peers.h), the hosts table and
 * pool (hosts.h), the leasing state (below), the figures (summary.h).  The functions here
 * are the ones one file of the coordinator calls in another; all run on the dispatcher
 * thread.
 *
 * Invariant (checked with assert in debug builds, coordinator.c check_leased): every URL
 * this run leased and has not yet handed back is in exactly one place: the pool
 * (hosts.pooled), one peer's in-flight list, or the store's queue (an unfetched or result
 * item not yet acknowledged).  co->leased counts them.
 */
#ifndef SCR_COORD_INTERNAL_H
#define SCR_COORD_INTERNAL_H

#include <libpq-fe.h>
#include <stdint.h>

#include "common/comm.h"
#include "common/settings.h"
#include "common/strvec.h"
#include "common/urlopts.h"
#include "coordinator/balance.h"
#include "coordinator/claims.h"
#include "coordinator/frontier.h"
#include "coordinator/hosts.h"
#include "coordinator/peers.h"
#include "coordinator/rulestats.h"
#include "coordinator/scope.h"
#include "coordinator/store.h"
#include "coordinator/summary.h"

/* Sitemap indexes are followed this many levels below the root sitemaps (/sitemap.xml and
 * robots.txt Sitemap lines, level 0); a sitemap's level is its urls.hops. */
#define SCR_SITEMAP_MAX_NESTING 3

/* The state of leasing, for the lease requests and for end detection. */
struct scr_leasing {
    int out;                 /* a lease request is with the store thread */
    int64_t seq;             /* items submitted when the outstanding lease was asked */
    int clean;               /* ... and every one of them was already stored */
    int empty;               /* the last lease found nothing */
    int empty_clean;         /* the empty lease was clean: it proves the frontier empty */
    int64_t empty_seq;       /* ... and was asked when this many items were submitted */
    struct scr_outlook outlook; /* what the empty lease saw of the job */
    int64_t next_ms;         /* after an empty lease, the next one not before this */
    int force;               /* lease now even if the pool is half full (a dead run's URLs
                                and hosts came back) */
};

struct coord {
    struct scr_comm *c;          /* borrowed */
    struct scr_settings *s;      /* borrowed */
    struct scr_peers peers;
    struct scr_store *st;
    struct scr_hosts hosts;      /* every host met: pool, politeness, robots, parking */
    struct scr_scope scope;
    struct scr_urlopts uo;       /* URL normalization, the same as the workers' */
    struct scr_balance_node *bn; /* one per rank (dispatch.c) */
    struct scr_leasing lease;
    struct scr_claims claims;    /* the hosts this run claims (islands; claims.h) */
    struct scr_tally tally;
    struct scr_rulestats rulestats; /* feedback for rules authors (rulestats.h) */
    int64_t job_id, run_id;
    char island[128];            /* --island, or rank 0's host name (runs.island) */
    char *rules_text;            /* --rules, read by setup.c, sent in WELCOME */
    int64_t submitted, acked;    /* store items handed to / back from the store thread */
    int64_t leased;              /* URLs leased by this run and not yet handed back (above) */
    int64_t leased_in_store;     /* ... of which in the store's queue */
    /* ending */
    int stopping;                /* STOP sent (or being sent) to every worker */
    int64_t stop_ms;
    int interrupted;
    int no_workers;              /* every worker left or was lost before the crawl was over */
    int fatal_db;
    char fatal_msg[1024];
};

/* dispatch.c: REQUEST, RECALL/RETURN, leasing, settling leased URLs */
void scr_dispatch_peer(struct coord *co, struct scr_peer *w);
void scr_dispatch_on_request(struct coord *co, struct scr_peer *w, const char *data,
                             size_t len);
void scr_dispatch_recall(struct coord *co);
void scr_dispatch_on_return(struct coord *co, struct scr_peer *w, const char *data, size_t len);
/* A dispatched task that got no RESULT goes back, settled again (takes its strings). */
void scr_dispatch_requeue(struct coord *co, struct scr_lease_item *it);
/* Every task of w's in-flight list goes back to the pool (BYE; a lost worker's go through
 * scr_results_lost_peer instead). */
void scr_dispatch_requeue_peer(struct coord *co, struct scr_peer *w);
void scr_dispatch_lease(struct coord *co);
/* A lease came back: its URLs are settled (takes the events' leased array). */
void scr_dispatch_leased(struct coord *co, struct scr_store_events *ev);
/* A SCR_STORE_ROBOTS_GET item came back: hits READY, misses NEEDED. */
void scr_dispatch_robots_looked_up(struct coord *co, struct scr_store_item *it);
/* 1 at the tail: the last lease found nothing and the crawl is not stopping. */
int scr_dispatch_at_tail(const struct coord *co);

/* results.c: RESULTs, robots.txt answers, redirects, sitemaps, URLs settled unfetched */
void scr_results_on_result(struct coord *co, struct scr_peer *w, const char *data, size_t len);
/* A new store item (the caller owns it until scr_results_submit). */
struct scr_store_item *scr_results_item_new(void);
/* Hands it to the store thread (takes it); leased says whether it carries a leased URL. */
void scr_results_submit(struct coord *co, struct scr_store_item *it, int leased);
/* Records a leased URL that will not be fetched now: skipped, or put back (queued, next try
 * after retry_ms, attempts unchanged).  Takes li's strings. */
void scr_results_unfetched(struct coord *co, struct scr_lease_item *li,
                           enum scr_url_state state, const char *reason, int64_t retry_ms);
/* w was lost: every URL in flight on it counts an attempt and goes back to the frontier (or
 * fails, or is quarantined: docs/internals/leases.md); its robots tasks are asked again. */
void scr_results_lost_peer(struct coord *co, struct scr_peer *w);
/* Settles again the pooled URLs of host after what is known of it changed. */
void scr_results_resettle(struct coord *co, const char *host);
/* A SCR_STORE_HOST_DOWN item came back: warns with the outage's runs and start, marks the
 * host down for the run (its URLs put back, or failed at the limits) and resettles it.
 * Borrows it. */
void scr_results_host_down(struct coord *co, struct scr_store_item *it);
/* Installs host's robots.txt (body of an answer with status; NULL = none) and queues its
 * sitemaps (--sitemaps). */
void scr_results_robots_ready(struct coord *co, const char *host, const char *body,
                              int status);

/* setup.c: checks before the database, then the job, the run, seeds and scope */
int scr_setup_preflight(struct coord *co, int64_t *nseeds);
int scr_setup_db(struct coord *co, const char *command, PGconn **dbp);

/* summary.c */
void scr_summary_progress(struct coord *co, int final);
/* Closes the run's row and stores the per-worker rows on db (may be NULL), then prints the
 * summary. */
void scr_summary_finish(struct coord *co, PGconn *db, const char *status, int exit_code,
                        double secs);

#endif
