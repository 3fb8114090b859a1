/* claims.h - this run's host claims: the dispatcher's side of cross-island politeness.
 *
 * Several runs of one job may crawl at once, each an island with its own coordinator (see
 * docs/internals/islands.md).  Per-host limits hold across them because a run fetches only
 * hosts it claims in host_claims: the lease statement claims the hosts of the URLs it leases
 * (frontier.c), and this module keeps the claims: it applies what a lease claimed to the
 * hosts table (a claimed host is ready; the previous owner's last start spaces its first
 * request), renews the claims of the hosts the run holds every --lease-ttl/4, releases a host
 * when nothing of it is pooled or in flight for a while, hands a host over to the other
 * islands after a tenure of --lease-ttl while they are alive, and releases every claim at
 * the end of the run.  Each renewal or release is one SCR_STORE_CLAIMS item for the store
 * thread; at most one is outstanding.
 *
 * Called by the dispatcher thread only (coordinator.c, dispatch.c).
 */
#ifndef SCR_CLAIMS_H
#define SCR_CLAIMS_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strvec.h"

struct coord;
struct scr_store_events;
struct scr_store_item;
struct scr_host;

struct scr_claims {
    int out;                   /* a SCR_STORE_CLAIMS item is with the store thread */
    int64_t next_check_us;     /* the next look at the owned hosts */
    int64_t next_renew_us;     /* the next renewal */
    int64_t others;            /* other live runs of the job (at the last renewal) */
    unsigned gen;              /* renewal generation (scr_host.mark) */
    struct scr_strvec refused; /* claims a lease brought that this run does not want */
    struct scr_host **cooling; /* handed over: not claimed again before their cooldown */
    size_t ncooling, capcooling;
    uint64_t handed_over, released; /* figures for the log */
};

void scr_claims_init(struct scr_claims *cl);
void scr_claims_release(struct scr_claims *cl);

/* A lease came back: its claims become the hosts' (before its URLs are settled). */
void scr_claims_leased(struct coord *co, const struct scr_store_events *ev);

/* 1 when a URL of host may be pooled: this run claims the host and keeps it. */
int scr_claims_allows(struct coord *co, const char *host);

/* Appends to out the hosts a lease must not claim now (handed over, being released). */
void scr_claims_exclude(struct coord *co, struct scr_strvec *out);

/* Each loop turn: renews, releases and hands over (at most every 200 ms). */
void scr_claims_tick(struct coord *co);

/* A SCR_STORE_CLAIMS item came back (the caller frees it). */
void scr_claims_done(struct coord *co, struct scr_store_item *it);

/* End of the run: releases every claim the run holds, on db (may be NULL: they then end
 * when the next run's reclaim sees this run ended). */
void scr_claims_finish(struct coord *co, PGconn *db);

#endif
