/* dispatch.c - leasing and dispatching: the pool's way in and out.
 *
 * In: the dispatcher asks the store thread for more URLs before the pool runs dry
 * (scr_dispatch_lease); each leased URL is settled as it arrives (scr_hosts_settle), and the
 * hosts the run meets for the first time get their robots cache row read.  Out: each
 * worker's REQUEST(now, later) is answered from ready hosts (scr_hosts_take), and the tasks
 * join the worker's in-flight list.  At the tail (the last lease found nothing) balance.c
 * decides who gets the last tasks, and a slow worker's unstarted tasks are RECALLed.
 *
 * Invariant: a task taken from the pool is on exactly one peer's in-flight list until its
 * RESULT, its RETURN or its peer's loss; then it is stored or settled back into the pool.
 * Called by the dispatcher loop (coordinator.c) only.
 */
#include "coordinator/dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "common/wire.h"
#include "coordinator/coord_internal.h"
#include "coordinator/hostdb.h"

size_t scr_dispatch_want(uint32_t want_now, uint32_t want_later, size_t cap, size_t *n_now,
                         size_t *n_later)
{
    *n_now = want_now < cap ? want_now : cap;
    *n_later = want_later < cap - *n_now ? want_later : cap - *n_now;
    return *n_now + *n_later;
}

uint32_t scr_dispatch_free_now(uint32_t asked, size_t held, int concurrency)
{
    size_t c = concurrency > 0 ? (size_t)concurrency : 0;
    size_t mine = c > held ? c - held : 0;

    return mine > asked ? (uint32_t)mine : asked;
}

/* Settles a leased URL as it arrives (scr_hosts_settle): pooled, skipped, or put back.  A
 * host whose robots.txt the run does not know yet is appended to lookup.  Takes li's
 * strings. */
static void settle_leased(struct coord *co, struct scr_lease_item *li,
                          struct scr_strvec *lookup)
{
    const char *reason;
    struct scr_host *sm = NULL;

    if (!scr_claims_allows(co, li->host)) {
        /* its host is being handed over (or the lease's claim of it was refused) */
        scr_results_unfetched(co, li, SCR_URL_QUEUED, "handed over to another island", 0);
        return;
    }
    if (li->kind == SCR_TASK_SITEMAP && co->s->max_sitemaps_per_host > 0) {
        /* --max-sitemaps-per-host: the rest of a host's sitemaps wait for a later run */
        sm = scr_hosts_get(&co->hosts, li->host);
        if (sm->sitemaps_admitted >= co->s->max_sitemaps_per_host) {
            char why[128];
            snprintf(why, sizeof(why), "--max-sitemaps-per-host (%d) reached for this host in "
                     "this run", co->s->max_sitemaps_per_host);
            scr_results_unfetched(co, li, SCR_URL_QUEUED, why, SCR_HOSTS_PUT_BACK_MS);
            return;
        }
    }
    switch (scr_hosts_settle(&co->hosts, li, &reason)) {
    case SCR_SETTLE_LOOKUP:
        scr_strvec_push(lookup, reason); /* the host's name */
        if (sm)
            sm->sitemaps_admitted++;
        break;
    case SCR_SETTLE_POOLED:
        if (sm)
            sm->sitemaps_admitted++;
        break;
    case SCR_SETTLE_SKIPPED:
        scr_results_unfetched(co, li, SCR_URL_SKIPPED, reason, 0);
        break;
    case SCR_SETTLE_PUT_BACK:
        scr_results_unfetched(co, li, SCR_URL_QUEUED, reason, SCR_HOSTS_PUT_BACK_MS);
        break;
    case SCR_SETTLE_FAILED:
        scr_results_unfetched(co, li, SCR_URL_FAILED, reason, 0);
        break;
    }
}

/* Hosts whose robots.txt the run does not know: with --ignore-robots they are READY without
 * rules at once; otherwise their row of the robots cache is read by the store thread (only
 * theirs: a host the run knows is never looked up again).  Takes hosts' strings. */
static void robots_lookup(struct coord *co, struct scr_strvec *hosts)
{
    struct scr_store_item *it;

    if (hosts->n == 0)
        goto out;
    if (co->s->ignore_robots) {
        for (size_t i = 0; i < hosts->n; i++)
            scr_results_robots_ready(co, hosts->v[i], NULL, 404);
        goto out;
    }
    it = scr_results_item_new();
    it->op = SCR_STORE_ROBOTS_GET;
    it->robots_hosts = *hosts;
    scr_strvec_init(hosts);
    scr_results_submit(co, it, 0);
out:
    scr_strvec_release(hosts);
}

/* The robots cache answered: hits become READY (their pooled URLs are settled again), the
 * others NEEDED (a robots task goes first). */
void scr_dispatch_robots_looked_up(struct coord *co, struct scr_store_item *it)
{
    for (size_t i = 0; i < it->nrobots; i++) {
        struct scr_host *h = scr_hosts_find(&co->hosts, it->robots[i].host);
        if (h && h->robots_state == SCR_ROBOTS_LOOKUP)
            scr_results_robots_ready(co, it->robots[i].host, it->robots[i].body,
                                     it->robots[i].status);
    }
    for (size_t i = 0; i < it->robots_hosts.n; i++)
        scr_hosts_robots_missing(&co->hosts, it->robots_hosts.v[i]);
}

void scr_dispatch_leased(struct coord *co, struct scr_store_events *ev)
{
    struct scr_strvec lookup;

    co->lease.out = 0;
    scr_claims_leased(co, ev);
    scr_hostdb_claims_free(ev->claims, ev->nclaims);
    ev->claims = NULL;
    ev->nclaims = 0;
    if (ev->nleased == 0) {
        co->lease.empty = 1;
        co->lease.empty_seq = co->lease.seq;
        co->lease.empty_clean = co->lease.clean;
        co->lease.outlook = ev->outlook;
        co->lease.next_ms = scr_now_ms() +
                            (ev->outlook.queued_later && ev->outlook.next_due_ms < 500
                                 ? ev->outlook.next_due_ms + 1
                                 : 500);
    } else {
        co->lease.empty = 0;
    }
    co->leased += (int64_t)ev->nleased;
    scr_strvec_init(&lookup);
    for (size_t i = 0; i < ev->nleased; i++)
        settle_leased(co, &ev->leased[i], &lookup);
    free(ev->leased);
    ev->leased = NULL;
    ev->nleased = 0;
    robots_lookup(co, &lookup);
}

/* Puts a dispatched URL that got no RESULT back in the pool, settled again (takes the
 * item's strings). */
void scr_dispatch_requeue(struct coord *co, struct scr_lease_item *it)
{
    scr_hosts_done(&co->hosts, it->host, 0, -1);
    if (it->kind == SCR_TASK_ROBOTS) {
        /* the host's robots.txt is asked again; its URLs are still in the pool */
        scr_hosts_robots_retry(&co->hosts, it->host, 0);
        scr_lease_item_release(it);
    } else {
        struct scr_strvec lookup;
        struct scr_host *h = scr_hosts_find(&co->hosts, it->host);
        /* it was admitted once already: settling it again must not count it twice */
        if (it->kind == SCR_TASK_SITEMAP && h && h->sitemaps_admitted > 0)
            h->sitemaps_admitted--;
        scr_strvec_init(&lookup);
        settle_leased(co, it, &lookup);
        robots_lookup(co, &lookup);
    }
}

/* Returns the unanswered tasks of a worker that said BYE to the pool. */
void scr_dispatch_requeue_peer(struct coord *co, struct scr_peer *w)
{
    for (size_t i = 0; i < w->nfl; i++)
        scr_dispatch_requeue(co, &w->fl[i].it);
    w->nfl = 0;
}

/* The tail: the last lease found nothing, so the pool and the workers' tasks are all the
 * work there is (until results bring new URLs). */
int scr_dispatch_at_tail(const struct coord *co)
{
    return co->lease.empty && !co->stopping;
}

/* Fills co->bn (index = rank) with every worker's rate, held tasks and whether it is active. */
static void balance_nodes(struct coord *co)
{
    for (int i = 0; i < co->peers.n; i++) {
        const struct scr_peer *w = &co->peers.p[i];
        co->bn[i].rate = i ? scr_rate_get(&w->rate) : 0.0;
        co->bn[i].latency = i ? scr_rate_latency(&w->rate) : 0.0;
        co->bn[i].held = w->nfl;
        co->bn[i].active = i > 0 && w->state == SCR_PEER_ACTIVE;
    }
}

void scr_dispatch_peer(struct coord *co, struct scr_peer *w)
{
    size_t want, n, n_now, n_later, held = w->nfl;
    struct scr_lease_item *items;
    struct scr_task *tasks;
    struct scr_buf b;
    int64_t now_us = scr_now_us();

    if (!w->has_request || w->state != SCR_PEER_ACTIVE || co->stopping || co->hosts.pooled == 0)
        return;
    want = scr_dispatch_want(scr_dispatch_free_now(w->want_now, held, co->s->concurrency),
                             w->want_later, SCR_DISPATCH_MAX, &n_now, &n_later);
    if (want == 0)
        return;
    if (scr_dispatch_at_tail(co)) {
        /* the request waits (stays pending) while a faster worker should take the rest */
        balance_nodes(co);
        want = scr_balance_take(co->bn, (size_t)co->peers.n, (size_t)w->rank, co->hosts.pooled,
                                want);
        if (want == 0)
            return;
        if (n_now > want)
            n_now = want;
        if (n_later > want - n_now)
            n_later = want - n_now;
    }
    items = scr_xcalloc(want, sizeof(*items));
    tasks = scr_xcalloc(want, sizeof(*tasks));
    n = scr_hosts_take(&co->hosts, now_us, n_now, n_later, items);
    if (n == 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        tasks[i].url_id = (uint64_t)items[i].url_id;
        tasks[i].url = items[i].url;
        tasks[i].kind = (uint32_t)items[i].kind;
        /* the address guard: a seed host may be private (one's own site), others not */
        if (co->s->allow_private)
            tasks[i].flags = SCR_TASK_F_ALLOW_PRIVATE | SCR_TASK_F_ALLOW_PRIVATE_ALL;
        else if (items[i].host && scr_strmap_get(&co->scope.hosts, items[i].host))
            tasks[i].flags = SCR_TASK_F_ALLOW_PRIVATE;
        tasks[i].depth = (uint32_t)items[i].depth;
        tasks[i].etag = items[i].etag;
        tasks[i].last_modified = items[i].last_modified;
    }
    scr_buf_init(&b);
    if (scr_msg_batch_encode(&b, tasks, (uint32_t)n) != SCR_OK ||
        scr_peers_send(&co->peers, w, &b) != SCR_OK) {
        scr_error("cannot send a batch to rank %d; its URLs go back to the pool", w->rank);
        for (size_t i = 0; i < n; i++)
            scr_dispatch_requeue(co, &items[i]);
        scr_buf_release(&b);
        goto out;
    }
    scr_buf_release(&b);
    scr_debug("BATCH of %zu tasks to rank %d (for %zu now, %zu later); it holds %zu", n,
              w->rank, n_now, n_later, held + n);
    if (!w->first_ms)
        w->first_ms = scr_now_ms();
    if (held == 0)
        scr_rate_busy(&w->rate, now_us);
    w->recall_dry = 0;
    for (size_t i = 0; i < n; i++)
        scr_peer_push(w, &items[i], now_us);
    w->has_request = 0;
out:
    free(items);
    free(tasks);
}

void scr_dispatch_on_request(struct coord *co, struct scr_peer *w, const char *data,
                             size_t len)
{
    if (scr_msg_request_decode(&w->want_now, &w->want_later, data, len) != SCR_OK) {
        scr_error("rank %d sent a malformed REQUEST (%zu bytes)", w->rank, len);
        return;
    }
    w->has_request = 1;
    scr_debug("REQUEST from rank %d: %u now, %u later; it holds %zu", w->rank, w->want_now,
              w->want_later, w->nfl);
    scr_dispatch_peer(co, w);
}

/* At the tail: asks a worker that holds more than it can finish before the others to give
 * back the tasks still waiting in its queue (one RECALL at a time per worker). */
void scr_dispatch_recall(struct coord *co)
{
    if (!scr_dispatch_at_tail(co))
        return;
    balance_nodes(co);
    for (int i = 1; i < co->peers.n; i++) {
        struct scr_peer *w = &co->peers.p[i];
        struct scr_buf b;
        size_t n;

        if (w->state != SCR_PEER_ACTIVE || w->recall_out || w->recall_dry)
            continue;
        n = scr_balance_recall(co->bn, (size_t)co->peers.n, (size_t)i, co->hosts.pooled,
                               (size_t)co->s->concurrency);
        if (n == 0)
            continue;
        scr_buf_init(&b);
        if (scr_msg_recall_encode(&b, (uint32_t)n) == SCR_OK &&
            scr_peers_send(&co->peers, w, &b) == SCR_OK) {
            scr_debug("end of the frontier: asking rank %d on %s (%.1f pages/s, %zu held) for "
                      "%zu unstarted tasks", w->rank, w->hello.host, co->bn[i].rate, w->nfl, n);
            w->recall_out = 1;
            w->recall_asked = (uint32_t)n;
        }
        scr_buf_release(&b);
    }
}

/* RETURN: the worker took these tasks out of its queue unstarted; they go back to the pool
 * for another worker.  A task that was never started cannot have been fetched, so nothing
 * is fetched or stored twice. */
void scr_dispatch_on_return(struct coord *co, struct scr_peer *w, const char *data, size_t len)
{
    struct scr_msg_return m;
    size_t back = 0;

    w->recall_out = 0;
    if (scr_msg_return_decode(&m, data, len) != SCR_OK) {
        scr_error("rank %d sent a malformed RETURN (%zu bytes); ignored", w->rank, len);
        goto out;
    }
    for (uint32_t k = 0; k < m.count; k++) {
        struct scr_inflight fl;
        if (!scr_peer_take(w, m.ids[k], &fl)) {
            scr_warn("rank %d gave back URL %llu, which it does not hold; ignored", w->rank,
                     (unsigned long long)m.ids[k]);
            continue;
        }
        scr_dispatch_requeue(co, &fl.it);
        back++;
    }
    if (m.count < w->recall_asked)
        w->recall_dry = 1;
    if (w->nfl == 0)
        w->rate.mark_us = 0; /* idle: not the node's speed */
    w->returned += back;
    scr_debug("rank %d on %s gave back %zu unstarted tasks (asked %u); it holds %zu", w->rank,
              w->hello.host, back, w->recall_asked, w->nfl);
out:
    scr_msg_return_release(&m);
}

void scr_dispatch_lease(struct coord *co)
{
    size_t target =
        (size_t)co->s->concurrency * 2 * (size_t)(co->peers.n > 1 ? co->peers.n - 1 : 1);
    struct scr_strvec sat;
    int64_t now = scr_now_ms();

    if (target < 32)
        target = 32;
    if (target > 4096)
        target = 4096;
    if (co->lease.out || co->stopping || co->fatal_db)
        return;
    if (co->hosts.pooled >= target / 2 && !co->lease.force)
        return;
    /* after an empty lease, ask again when new results came in, when time passed, or when
     * the empty answer could not prove the frontier empty and the store has caught up */
    if (co->lease.empty && co->lease.empty_seq == co->submitted && now < co->lease.next_ms &&
        (co->lease.empty_clean || co->acked != co->submitted))
        return;
    scr_strvec_init(&sat);
    scr_hosts_saturated(&co->hosts, &sat);
    scr_claims_exclude(co, &sat);
    if (scr_store_lease(co->st,
                        co->hosts.pooled < target ? (int)(target - co->hosts.pooled) : 32,
                        &sat) == SCR_OK) {
        co->lease.out = 1;
        co->lease.force = 0;
        co->lease.seq = co->submitted;
        co->lease.clean = co->acked == co->submitted;
    }
}
