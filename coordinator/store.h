/* store.h - the coordinator's database thread.
 *
 * The dispatcher (main thread) must never wait for PostgreSQL, or workers would idle while it
 * talks to the database.  So one thread owns the run's connection and does all the database
 * work of the run: it commits results in groups (one transaction per group, each result
 * atomic with its URL's state), leases URLs on request, renews the run's leases, and
 * reconnects with backoff when the server goes away.  It signals completions through an
 * eventfd the dispatcher polls.
 *
 * Ordering: a lease request is served after the group the thread is committing (small
 * groups while a lease waits), not after the whole queue.  So "the lease found nothing"
 * means "nothing is queued" only for a lease asked while no item was waiting to be stored;
 * the dispatcher keeps track of that (coordinator.c, crawl_finished).
 */
#ifndef SCR_STORE_H
#define SCR_STORE_H

#include <libpq-fe.h>
#include <stdint.h>

#include "common/settings.h"
#include "common/strvec.h"
#include "coordinator/frontier.h"

struct scr_store;

/* Starts the thread.  Takes ownership of db (an open connection holding the run's lock);
 * conninfo is copied for reconnects; s is borrowed for the store's life. */
int scr_store_start(struct scr_store **out, PGconn *db, const char *conninfo, int64_t job_id,
                    int64_t run_id, const struct scr_settings *s);

/* Readable when scr_store_poll() has something. */
int scr_store_fd(struct scr_store *st);

/* Queues an item to be stored.  Takes ownership; it comes back through scr_store_poll(). */
void scr_store_submit(struct scr_store *st, struct scr_store_item *it);

/* Asks for up to n URLs, not of the hosts in *exclude (its strings are taken: *exclude is
 * left empty).  Only one request may be outstanding: SCR_EBUSY otherwise. */
int scr_store_lease(struct scr_store *st, int n, struct scr_strvec *exclude);

struct scr_store_events {
    struct scr_store_item *done;   /* processed items, linked by ->next; caller frees */
    int lease_done;                /* a lease request completed: */
    struct scr_lease_item *leased; /*   its URLs (caller releases them and frees the array) */
    size_t nleased;
    struct scr_claim *claims;      /*   the hosts it claimed (caller frees with
                                        scr_hostdb_claims_free) */
    size_t nclaims;
    int64_t lease_t0_ms;           /*   local ms before the statement: claims last until at
                                        least this + --lease-ttl */
    struct scr_outlook outlook;    /*   when nleased == 0: what is left of the job */
    int reclaimed;                 /* dead runs' URLs or host claims came back (a lease now
                                      may take them) */
    int fatal;                     /* the database is gone for good (after --db-retry) */
    char error[1024];
};

/* Takes what the thread finished since the last call.  Never blocks for long. */
void scr_store_poll(struct scr_store *st, struct scr_store_events *ev);

/* Stores everything still queued, stops the thread and returns the connection (NULL if it
 * is broken); frees st. */
PGconn *scr_store_stop(struct scr_store *st);

#endif
