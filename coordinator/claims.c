/* claims.c - this run's host claims (see claims.h and docs/internals/islands.md).
 *
 * Invariants: a host is in hosts.owned exactly while this run believes it claims it; a
 * claimed host is dispatched only before its owner_until_us, which is the local time the
 * claiming or renewing statement was sent plus --lease-ttl minus a margin (the database's
 * `until` is its own now() + --lease-ttl, and its now() came later), so no clock is compared
 * with another; a host is released only when nothing of it is pooled or in flight here, so
 * its last start is known, and the next owner waits --delay after it.
 */
#include "coordinator/claims.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/log.h"
#include "coordinator/coord_internal.h"
#include "coordinator/hostdb.h"

#define CHECK_EVERY_US INT64_C(200000)

void scr_claims_init(struct scr_claims *cl)
{
    memset(cl, 0, sizeof(*cl));
    scr_strvec_init(&cl->refused);
}

void scr_claims_release(struct scr_claims *cl)
{
    scr_strvec_release(&cl->refused);
    free(cl->cooling);
    memset(cl, 0, sizeof(*cl));
}

static int64_t ttl_us(const struct coord *co)
{
    return co->s->lease_ttl_ms * 1000;
}

/* How long a claim counts here after the statement that made it was sent: the TTL less an
 * eighth for the time between dispatch and the request's start, and clock rate drift. */
static int64_t valid_us(const struct coord *co)
{
    return ttl_us(co) - ttl_us(co) / 8;
}

/* A host idle this long (nothing pooled or in flight) is released. */
static int64_t idle_hold_us(const struct coord *co)
{
    int64_t d = co->s->delay_ms * 2000;
    return d > 1000000 ? d : 1000000;
}

/* Handed over: not claimed again for this long, so another island's lease can take it. */
static int64_t cooldown_us(const struct coord *co)
{
    int64_t c = ttl_us(co) / 4;
    if (c < 1000000)
        c = 1000000;
    if (c > 30000000)
        c = 30000000;
    return c;
}

static int cooling(const struct scr_host *h, int64_t now_us)
{
    return h->cooldown_until_us > now_us;
}

void scr_claims_leased(struct coord *co, const struct scr_store_events *ev)
{
    int64_t now_us = scr_now_us(), until_us = ev->lease_t0_ms * 1000 + valid_us(co);

    for (size_t i = 0; i < ev->nclaims; i++) {
        const struct scr_claim *c = &ev->claims[i];
        struct scr_host *h = scr_hosts_find(&co->hosts, c->host);
        if (h && (h->release_pending || cooling(h, now_us))) {
            /* asked for before the hand-over: give it back again */
            scr_strvec_push(&co->claims.refused, c->host);
            continue;
        }
        h = scr_hosts_claim(&co->hosts, c->host, now_us, until_us,
                            c->age_ms >= 0 ? c->age_ms * 1000 : -1);
        if (c->age_ms >= 0 && h->last_start_us + h->delay_us > now_us)
            scr_debug("claimed %s: its last request started %lld ms ago", c->host,
                      (long long)c->age_ms);
    }
}

int scr_claims_allows(struct coord *co, const char *host)
{
    struct scr_host *h;

    if (!co->hosts.claims)
        return 1;
    h = scr_hosts_find(&co->hosts, host);
    return h && h->owned && !h->yielding && !h->release_pending;
}

void scr_claims_exclude(struct coord *co, struct scr_strvec *out)
{
    int64_t now_us = scr_now_us();
    size_t j = 0;

    if (!co->hosts.claims)
        return;
    for (size_t i = 0; i < co->hosts.nowned; i++) {
        struct scr_host *h = co->hosts.owned[i];
        if (h->yielding || h->release_pending)
            scr_strvec_push(out, h->name);
    }
    for (size_t i = 0; i < co->claims.ncooling; i++) {
        struct scr_host *h = co->claims.cooling[i];
        if (!cooling(h, now_us))
            continue;
        co->claims.cooling[j++] = h;
        if (!h->owned)
            scr_strvec_push(out, h->name);
    }
    co->claims.ncooling = j;
}

/* A pooled URL of a host handed over goes back to the frontier, due now, attempts unchanged. */
static void hand_back_drop(struct scr_lease_item *it, enum scr_settle how, const char *reason,
                           void *ctx)
{
    struct coord *co = ctx;
    struct scr_lease_item copy = *it;

    (void)how;
    memset(it, 0, sizeof(*it));
    scr_results_unfetched(co, &copy, SCR_URL_QUEUED, reason, 0);
}

/* The ms since h's last request start here, as text ("" = none). */
static void push_age(struct scr_strvec *ages, const struct scr_host *h, int64_t now_us)
{
    char buf[32] = "";

    if (h->last_start_us > 0)
        snprintf(buf, sizeof(buf), "%lld", (long long)((now_us - h->last_start_us) / 1000));
    scr_strvec_push(ages, buf);
}

/* Decides what becomes of one owned host now: kept, yielded, or released (appended). */
static void look_at(struct coord *co, struct scr_host *h, int64_t now_us,
                    struct scr_store_item *it)
{
    int idle = h->qhead == h->qtail && h->inflight == 0 &&
               h->robots_state != SCR_ROBOTS_LOOKUP && h->robots_state != SCR_ROBOTS_FETCHING;

    if (h->release_pending)
        return;
    if (!h->yielding && now_us >= h->owner_until_us) {
        /* not renewed in time (database trouble), or another run holds it now */
        scr_warn("the claim of host %s ran out; its URLs go back to the frontier", h->name);
        h->yielding = 1;
    }
    if (!h->yielding && co->claims.others > 0 && now_us - h->claimed_us >= ttl_us(co)) {
        scr_info("handing host %s over to the other islands after %lld s", h->name,
                 (long long)((now_us - h->claimed_us) / 1000000));
        h->yielding = 1;
        h->cooldown_until_us = now_us + cooldown_us(co);
        SCR_GROW(co->claims.cooling, co->claims.capcooling, co->claims.ncooling + 1, 16);
        co->claims.cooling[co->claims.ncooling++] = h;
        co->claims.handed_over++;
    }
    if (h->yielding) {
        scr_hosts_hand_back(&co->hosts, h, hand_back_drop, "handed over to another island",
                            co);
        if (h->inflight > 0 || h->robots_state == SCR_ROBOTS_FETCHING)
            return;
    } else if (!idle) {
        h->idle_since_us = 0;
        return;
    } else if (!h->idle_since_us) {
        h->idle_since_us = now_us;
        return;
    } else if (now_us - h->idle_since_us < idle_hold_us(co)) {
        return;
    }
    h->release_pending = 1;
    scr_strvec_push(&it->claims_release, h->name);
    push_age(&it->claims_ages, h, now_us);
}

void scr_claims_tick(struct coord *co)
{
    struct scr_claims *cl = &co->claims;
    struct scr_store_item *it;
    int64_t now_us = scr_now_us();

    if (!co->hosts.claims || cl->out || co->stopping || co->fatal_db ||
        now_us < cl->next_check_us)
        return;
    cl->next_check_us = now_us + CHECK_EVERY_US;
    if (!cl->next_renew_us)
        cl->next_renew_us = now_us + ttl_us(co) / 4;
    it = scr_results_item_new();
    it->op = SCR_STORE_CLAIMS;
    for (size_t i = co->hosts.nowned; i-- > 0;)
        look_at(co, co->hosts.owned[i], now_us, it);
    for (size_t i = 0; i < cl->refused.n; i++) {
        scr_strvec_push(&it->claims_release, cl->refused.v[i]);
        scr_strvec_push(&it->claims_ages, "");
    }
    scr_strvec_reset(&cl->refused);
    if (now_us >= cl->next_renew_us) {
        it->claims_renew = 1;
        cl->next_renew_us = now_us + ttl_us(co) / 4;
        for (size_t i = 0; i < co->hosts.nowned; i++)
            if (!co->hosts.owned[i]->release_pending)
                scr_strvec_push(&it->claims_keep, co->hosts.owned[i]->name);
    }
    if (it->claims_release.n == 0 && !it->claims_renew) {
        scr_store_item_free(it);
        return;
    }
    cl->out = 1;
    scr_results_submit(co, it, 0);
}

void scr_claims_done(struct coord *co, struct scr_store_item *it)
{
    struct scr_claims *cl = &co->claims;

    cl->out = 0;
    if (!it->stored)
        scr_warn("could not release or renew host claims; they run out on their own");
    for (size_t i = 0; i < it->claims_release.n; i++) {
        struct scr_host *h = scr_hosts_find(&co->hosts, it->claims_release.v[i]);
        if (!h || !h->release_pending)
            continue;
        h->release_pending = 0;
        scr_hosts_unclaim(&co->hosts, h);
        cl->released++;
    }
    if (it->claims_renew && it->stored) {
        int64_t until_us = it->claims_t0_ms * 1000 + valid_us(co);
        cl->others = it->claims_others;
        cl->gen++;
        for (size_t i = 0; i < it->claims_held.n; i++) {
            struct scr_host *h = scr_hosts_find(&co->hosts, it->claims_held.v[i]);
            if (h && h->owned) {
                h->mark = cl->gen;
                if (until_us > h->owner_until_us)
                    h->owner_until_us = until_us;
            }
        }
        for (size_t i = 0; i < it->claims_keep.n; i++) {
            struct scr_host *h = scr_hosts_find(&co->hosts, it->claims_keep.v[i]);
            if (h && h->owned && h->mark != cl->gen && !h->yielding && !h->release_pending) {
                /* lost (expired, and maybe taken): nothing more of it goes out */
                h->owner_until_us = 0;
            }
        }
    }
}

void scr_claims_finish(struct coord *co, PGconn *db)
{
    struct scr_strvec hosts, ages;
    int64_t now_us = scr_now_us();
    char err[1024];

    if (!co->hosts.claims || !db || co->run_id == 0)
        return;
    scr_strvec_init(&hosts);
    scr_strvec_init(&ages);
    for (size_t i = 0; i < co->hosts.nowned; i++) {
        scr_strvec_push(&hosts, co->hosts.owned[i]->name);
        push_age(&ages, co->hosts.owned[i], now_us);
    }
    if (scr_hostdb_claims_release_all(db, co->job_id, co->run_id, &hosts, &ages, err,
                                      sizeof(err)))
        scr_warn("%s", err);
    if (co->claims.handed_over)
        scr_info("%llu hosts were handed over to other islands",
                 (unsigned long long)co->claims.handed_over);
    scr_strvec_release(&hosts);
    scr_strvec_release(&ages);
}
