/* frontier.h - the crawl's frontier in PostgreSQL: the urls table, and the fetches and
 * records a stored result adds.
 *
 * Every statement on the job's URLs is here: seeding, leasing, renewal, storing, reclaim,
 * release, recrawl, sitemaps and counts.  What is not here: the jobs, runs and run_workers
 * statements (runs.c), the robots.txt cache and the host claims (hostdb.c; the lease statement
 * claims hosts, but it is here, since it leases URLs), the schema itself (db.c) and the
 * scope's reads of the job's seed hosts and URL count at start-up (scope.c, scr_scope_load),
 * which belong to the scope's own rules.  Lists (URLs, hosts) arrive as struct scr_strvec and
 * are joined (scr_db_join_lines) only where a statement is built.  The invariants
 * (docs/internals/leases.md):
 *  - a URL is fetched by at most one run at a time: leasing is UPDATE ... FROM (SELECT ...
 *    FOR UPDATE SKIP LOCKED), and storing requires the lease to still be ours;
 *  - a result, its records, its new outlinks and its URL's new state commit in one
 *    transaction, so a crash loses nothing and stores nothing twice;
 *  - a run holds a session advisory lock (SCR_RUNS_LOCK_KEY, run id) for its whole life
 *    (runs.h); a run whose lock is gone is dead and its leases return to the queue at once,
 *    and any lease not renewed within --lease-ttl returns too.
 */
#ifndef SCR_FRONTIER_H
#define SCR_FRONTIER_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strvec.h"
#include "common/wire.h"
#include "coordinator/hostdb.h"
#include "coordinator/outages.h"

/* A URL's state (urls.state).  The process works with the enum; the text is used only where
 * a statement is built (scr_url_state_name). */
enum scr_url_state {
    SCR_URL_QUEUED,  /* waiting, not before next_attempt_at */
    SCR_URL_LEASED,  /* with a run */
    SCR_URL_DONE,
    SCR_URL_FAILED,
    SCR_URL_SKIPPED  /* disallowed by robots.txt */
};

/* "queued", "leased", "done", "failed", "skipped": the SQL text of st (static). */
const char *scr_url_state_name(enum scr_url_state st);

/* A leased URL as the coordinator keeps it.  Strings owned. */
struct scr_lease_item {
    int64_t url_id;
    char *url;
    char *host;
    int kind;     /* enum scr_task_kind: page or sitemap (robots tasks are made in memory) */
    int hops;     /* redirects that led to this URL */
    int depth;
    int attempts; /* including this one */
    char *etag, *last_modified;
};

void scr_lease_item_release(struct scr_lease_item *it);

/* One result to store, prepared by the coordinator.  Owned by whoever holds it. */
/* What a store item asks of the store thread. */
enum scr_store_op {
    SCR_STORE_RESULT = 0, /* a URL's outcome (or 'skipped'): frontier_store */
    SCR_STORE_ROBOTS,     /* a robots.txt fetch: hostdb_robots_put (res.final_url, status,
                             body, error; robots_host) */
    SCR_STORE_SITEMAPS,   /* sitemap URLs to queue: sitemap_links / sitemap_hosts */
    SCR_STORE_ROBOTS_GET, /* read the cached robots.txt of robots_hosts into robots/nrobots
                             (only hosts whose robots state is unknown to the run) */
    SCR_STORE_CLAIMS,     /* release and renew host claims: scr_hostdb_claims_update */
    SCR_STORE_HOST_DOWN   /* robots_host was down in this run (res.error: why): count it in
                             host_outages, fail its URLs at the limits (scr_outages_record) */
};

struct scr_store_item {
    struct scr_store_item *next;
    enum scr_store_op op;
    char *robots_host;
    struct scr_result res;    /* from the worker */
    enum scr_url_state new_state; /* done, failed, skipped, or queued (retry, put back) */
    int64_t retry_delay_ms;   /* for "queued" */
    int worker_rank;
    char worker_host[64];
    char *records_json;       /* "[rec,rec,...]" */
    struct scr_strvec links;      /* in-scope outlinks (joined only in scr_frontier_store) */
    struct scr_strvec link_hosts; /* their hosts, same order */
    int64_t max_urls;         /* --max-pages: the job stops growing at this many URLs (0 = no cap) */
    int64_t url_room;         /* set by the store thread when max_urls > 0: how many more URLs
                                 the job may take (max_urls - its current count) */
    int no_fetch;             /* the URL was not fetched (skipped, or put back): no fetch row */
    int lost;                 /* with no_fetch: it was in flight on worker_rank, which was
                                 lost.  The attempt counts (attempts not given back), the loss
                                 is added to urls.lost_count / lost_workers, and at
                                 quarantine_losses losses the URL is quarantined: new_state
                                 becomes failed, res.error the reason, quarantined 1 */
    int quarantine_losses;    /* with lost: the rule's number (SCR_RETRY_QUARANTINE_LOSSES,
                                 set by the caller: the SQL knows no policy of its own) */
    int quarantined;          /* filled by the store (lost items only) */
    int leased;               /* carries a URL this run leased (the dispatcher's count) */
    int link_depth_delta;     /* links go in at depth + this (1; 0 for a redirect target) */
    int link_hops;            /* ... with this many redirects behind them */
    struct scr_strvec sitemap_links; /* nested sitemaps to queue */
    struct scr_strvec sitemap_hosts;
    struct scr_strvec robots_hosts;        /* SCR_STORE_ROBOTS_GET: hosts to look up */
    /* SCR_STORE_CLAIMS (scr_hostdb_claims_update): claims to release (hosts, ages), and with
     * claims_renew the hosts to keep; the store fills claims_held, claims_others and
     * claims_t0_ms (local CLOCK_MONOTONIC ms before the statements: the renewed claims last
     * until at least claims_t0_ms + --lease-ttl) */
    struct scr_strvec claims_release, claims_ages, claims_keep, claims_held;
    int claims_renew;
    int64_t claims_others;
    int64_t claims_t0_ms;
    int down_max_runs;        /* SCR_STORE_HOST_DOWN: --host-down-runs, --host-down-after */
    int64_t down_after_ms;
    struct scr_outage outage; /* ... filled by the store */
    /* filled by the store: */
    struct scr_robots_cache *robots;       /* SCR_STORE_ROBOTS_GET: the cache hits */
    size_t nrobots;
    int stored;               /* 1 when committed; 0 when the lease was no longer ours */
    int64_t new_urls;         /* outlinks that were new to the frontier */
    /* --warc-dir (coordinator/archive.h): where its record went, once written; warc_type
     * "response" or "revisit" (static), NULL before */
    char *warc_file;
    int64_t warc_offset, warc_length;
    const char *warc_type;
};

void scr_store_item_free(struct scr_store_item *it);

/* The number of URLs a job has (the frontier and its history). */
int scr_frontier_count(PGconn *db, int64_t job_id, int64_t *count, char *err, size_t errlen);

/* Queues root sitemap URLs (depth 0, kind sitemap, level (hops) 0); hosts[i] is the authority
 * of urls[i].  With room >= 0 (--max-pages), at most room new ones.  *added: how many were
 * new. */
int scr_frontier_add_sitemaps(PGconn *db, int64_t job_id, const struct scr_strvec *urls,
                              const struct scr_strvec *hosts, int64_t room, int64_t *added,
                              char *err, size_t errlen);

/* Queues again the job's pages fetched more than age_ms ago; *count gets how many. */
int scr_frontier_recrawl(PGconn *db, int64_t job_id, int64_t age_ms, int64_t *count, char *err,
                         size_t errlen);

/* Marks runs whose lock is gone as died and returns their leases, and every expired lease,
 * to the queue, and ends the host claims of dead and ended runs (docs/internals/islands.md).
 * *reclaimed and *claims_ended (each may be NULL) receive the numbers of URLs returned and
 * of claims ended. */
int scr_frontier_reclaim(PGconn *db, int64_t run_id, int64_t *reclaimed,
                         int64_t *claims_ended, char *err, size_t errlen);

/* Adds seed URLs at depth 0 (known URLs are left as they are).  urls and hosts have equal
 * lengths (hosts[i] is the authority of urls[i]).  *added receives how many were new. */
int scr_frontier_seed(PGconn *db, int64_t job_id, const struct scr_strvec *urls,
                      const struct scr_strvec *hosts, int64_t *added, char *err,
                      size_t errlen);

/* The job's URLs in a final state (done, failed, skipped): the progress line's start. */
int scr_frontier_count_settled(PGconn *db, int64_t job_id, int64_t *count, char *err,
                               size_t errlen);

/* Leases up to n queued URLs (shallowest first) of hosts this run claims, for ttl_ms.  The
 * candidates are the first n due URLs whose host is not in exclude_hosts (may be empty) and
 * not claimed by another run; their hosts are claimed in the same statement (free, expired
 * or released claims, and this run's own, which are extended by ttl_ms); URLs of hosts whose
 * claim another run won are left queued.  *items is a malloc'd array of *count items (caller
 * releases each and frees the array); *claims (may be NULL with *nclaims 0) the hosts
 * claimed, with or without URLs (caller frees with scr_claims_free).  Claims are valid until
 * at least the local time the statement was sent + ttl_ms. */
int scr_frontier_lease(PGconn *db, int64_t job_id, int64_t run_id, int n, int64_t ttl_ms,
                       const struct scr_strvec *exclude_hosts, struct scr_lease_item **items,
                       size_t *count, struct scr_claim **claims, size_t *nclaims, char *err,
                       size_t errlen);

/* Extends every lease this run holds by ttl_ms and touches the run's heartbeat. */
int scr_frontier_renew(PGconn *db, int64_t run_id, int64_t ttl_ms, char *err, size_t errlen);

/* Prepares the statements scr_frontier_store uses on this connection; call it after each
 * connect.  SCR_EDB with the message in err. */
int scr_frontier_prepare(PGconn *db, char *err, size_t errlen);

/* Stores one result (see the invariants above); fills it->stored and it->new_urls.
 * Runs inside the caller's transaction. */
int scr_frontier_store(PGconn *db, int64_t run_id, struct scr_store_item *it, char *err,
                       size_t errlen);

struct scr_seen;

/* Prepares the set-based statement of scr_frontier_store_group (scr_frontier_prepare calls
 * it).  SCR_EDB with the message in err. */
int scr_frontier_prepare_group(PGconn *db, char *err, size_t errlen);

/* Stores items[0..n) with one statement (storegroup.c), inside the caller's transaction:
 * for each, what scr_frontier_store does, and fills stored and new_urls.  Only for items
 * without --max-pages (max_urls 0), not lost, without sitemap links, and no two with the
 * same url_id.  Outlinks two items share are sent once, with the first; dedup (may be NULL:
 * no deduplication) is cleared and used as the group's scratch set.  On SCR_OK the
 * duplicates are removed from the later items' links; on failure (SCR_EDB, the statement
 * failed: the transaction is aborted) the items are as they were, apart from stored and
 * new_urls (0). */
int scr_frontier_store_group(PGconn *db, int64_t run_id, struct scr_store_item **items,
                             size_t n, struct scr_seen *dedup, char *err, size_t errlen);

/* What is left of the job, for deciding whether the crawl is over. */
struct scr_outlook {
    int64_t queued_ready;    /* queued and due now */
    int64_t queued_later;    /* queued for a retry later */
    int64_t next_due_ms;     /* ms until the earliest queued_later is due (0 if none) */
    int64_t leased_other;    /* leased by other live runs */
};

int scr_frontier_outlook(PGconn *db, int64_t job_id, int64_t run_id, struct scr_outlook *o,
                         char *err, size_t errlen);

/* Returns this run's remaining leases to the queue (end of a run). */
int scr_frontier_release(PGconn *db, int64_t run_id, char *err, size_t errlen);

#endif
