/* hosts.c - the hosts table: per-host state, politeness and the pool (see hosts.h).
 *
 * Invariants: host->inflight counts URLs dispatched and not yet answered (a URL queued inside
 * a worker counts), so --host-concurrency holds however workers queue; a host is in `active`
 * exactly when its FIFO is non-empty, and a host that is not active holds no FIFO array; a
 * pooled URL is one that settle() sent to the FIFO, so a FIFO never holds a URL of a parked
 * or down host, nor (once the host is READY) one its rules disallow.
 *
 * Memory: a run keeps one scr_host for every host it meets (their number has no bound but
 * the crawl's), so what an idle host keeps must stay small: its FIFO is freed when it empties.
 * The FIFOs of the active hosts hold at most the pooled URLs (the lease target, <= 4096) and
 * the slack of their doubling.
 *
 * Called by the dispatcher only (coordinator/dispatch.c and the loop); not thread-safe.
 */
#include "coordinator/hosts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/wire.h"

void scr_hosts_init(struct scr_hosts *hs, int host_concurrency, int64_t delay_ms,
                    int64_t max_crawl_delay_ms, const char *agent)
{
    memset(hs, 0, sizeof(*hs));
    hs->max_crawl_delay_us = max_crawl_delay_ms * 1000;
    scr_strmap_init(&hs->hosts);
    hs->host_concurrency = host_concurrency;
    hs->delay_us = delay_ms * 1000;
    hs->agent = agent ? agent : "";
    /* With a delay a host can use only a few URLs per lease period; without one, a single
     * host may fill the pool (benchmarks, one's own servers). */
    hs->host_pool_cap = delay_ms > 0 ? (size_t)host_concurrency * 2 + 2 : (size_t)-1;
}

/* Frees an empty host's FIFO array (see Memory above). */
static void fifo_free(struct scr_host *h)
{
    free(h->q);
    h->q = NULL;
    h->qhead = h->qtail = h->qcap = 0;
}

static void host_free(struct scr_host *h)
{
    scr_robots_free(h->robots);
    for (size_t i = h->qhead; i < h->qtail; i++)
        scr_lease_item_release(&h->q[i]);
    free(h->q);
    free(h->down);
    free(h->parked);
    free(h->name);
    free(h);
}

void scr_hosts_release(struct scr_hosts *hs)
{
    for (size_t i = 0; i < hs->hosts.cap; i++)
        if (hs->hosts.slots[i].key)
            host_free(hs->hosts.slots[i].value);
    scr_strmap_release(&hs->hosts);
    free(hs->active);
    free(hs->owned);
    memset(hs, 0, sizeof(*hs));
}

struct scr_host *scr_hosts_find(struct scr_hosts *hs, const char *name)
{
    return scr_strmap_get(&hs->hosts, name);
}

struct scr_host *scr_hosts_get(struct scr_hosts *hs, const char *name)
{
    struct scr_host *h = scr_strmap_get(&hs->hosts, name);

    if (h)
        return h;
    h = scr_xcalloc(1, sizeof(*h));
    h->name = scr_xstrdup(name);
    h->delay_us = hs->delay_us;
    if (scr_strmap_put(&hs->hosts, name, h) != SCR_OK)
        scr_oom(sizeof(*h));
    return h;
}

/* Appends it to h's FIFO (taking its strings) and puts h in the ring when it was idle. */
static void fifo_push(struct scr_hosts *hs, struct scr_host *h, struct scr_lease_item *it)
{
    if (!h->scheme[0])
        snprintf(h->scheme, sizeof(h->scheme), "%s",
                 strncmp(it->url, "https:", 6) == 0 ? "https" : "http");
    if (h->qtail == h->qcap && h->qhead > 0) {
        size_t n = h->qtail - h->qhead;
        memmove(h->q, h->q + h->qhead, n * sizeof(*h->q));
        h->qhead = 0;
        h->qtail = n;
    }
    SCR_GROW(h->q, h->qcap, h->qtail + 1, 8);
    if (!h->active) {
        SCR_GROW(hs->active, hs->capactive, hs->nactive + 1, 64);
        hs->active[hs->nactive++] = h;
        h->active = 1;
    }
    h->q[h->qtail++] = *it;
    memset(it, 0, sizeof(*it));
    hs->pooled++;
}

void scr_hosts_add(struct scr_hosts *hs, struct scr_lease_item *it)
{
    fifo_push(hs, scr_hosts_get(hs, it->host), it);
}

/* The one settle rule, for a URL arriving and for a pooled URL when its host changed:
 * POOLED when it may go to a worker (or its host's robots.txt is still being learnt). */
static enum scr_settle decide(const struct scr_hosts *hs, const struct scr_host *h,
                              const struct scr_lease_item *it, const char **reason)
{
    *reason = NULL;
    if (h->parked) {
        *reason = h->parked;
        return SCR_SETTLE_PUT_BACK;
    }
    if (h->down) {
        *reason = h->down;
        return h->down_fail ? SCR_SETTLE_FAILED : SCR_SETTLE_PUT_BACK;
    }
    if (h->robots_state == SCR_ROBOTS_READY && it->kind == SCR_TASK_PAGE &&
        !scr_robots_allowed_url(h->robots, hs->agent, it->url)) {
        *reason = "disallowed by robots.txt";
        return SCR_SETTLE_SKIPPED;
    }
    return SCR_SETTLE_POOLED;
}

enum scr_settle scr_hosts_settle(struct scr_hosts *hs, struct scr_lease_item *it,
                                 const char **reason)
{
    struct scr_host *h = scr_hosts_get(hs, it->host);
    enum scr_settle how = decide(hs, h, it, reason);

    if (how != SCR_SETTLE_POOLED)
        return how;
    fifo_push(hs, h, it);
    if (h->robots_state == SCR_ROBOTS_UNKNOWN) {
        h->robots_state = SCR_ROBOTS_LOOKUP;
        *reason = h->name;
        return SCR_SETTLE_LOOKUP;
    }
    return SCR_SETTLE_POOLED;
}

/* With claims on (islands), only a host this run claims, and does not hand over, is ready:
 * another island may own the others. */
static int owned_now(const struct scr_hosts *hs, const struct scr_host *h, int64_t now_us)
{
    return !hs->claims || (h->owned && !h->yielding && !h->release_pending &&
                           now_us < h->owner_until_us);
}

static int ready(const struct scr_hosts *hs, const struct scr_host *h, int64_t now_us)
{
    return (h->robots_state == SCR_ROBOTS_READY || h->robots_state == SCR_ROBOTS_NEEDED) &&
           h->inflight < hs->host_concurrency && now_us >= h->next_start_us &&
           owned_now(hs, h, now_us);
}

/* The robots task of a NEEDED host, as a lease item (strings owned by it). */
static void robots_task(struct scr_hosts *hs, struct scr_host *h, struct scr_lease_item *it)
{
    size_t n = strlen(h->scheme) + strlen(h->name) + 16;

    memset(it, 0, sizeof(*it));
    it->url_id = (int64_t)(SCR_ROBOTS_TASK_BIT | ++hs->next_robots_id);
    it->kind = SCR_TASK_ROBOTS;
    it->url = scr_xmalloc(n);
    snprintf(it->url, n, "%s://%s/robots.txt", h->scheme[0] ? h->scheme : "http", h->name);
    it->host = scr_xstrdup(h->name);
    it->etag = scr_xstrdup("");
    it->last_modified = scr_xstrdup("");
    it->attempts = 1;
}

/* Drops hosts whose FIFO emptied from the active list, keeping the round-robin order: rr
 * keeps pointing at the same host, or at the next one left when that host was dropped.  A
 * dropped host's FIFO array is freed: a host that once had thousands of URLs waiting would
 * otherwise keep their slots (56 bytes each) for the rest of the run. */
static void compact(struct scr_hosts *hs)
{
    size_t j = 0, rr = hs->rr;
    for (size_t i = 0; i < hs->nactive; i++) {
        struct scr_host *h = hs->active[i];
        if (h->qhead < h->qtail) {
            hs->active[j++] = h;
        } else {
            h->active = 0;
            fifo_free(h);
            if (i < hs->rr)
                rr--;
        }
    }
    hs->nactive = j;
    hs->rr = rr < j ? rr : 0;
}

/* Walks the ring of active hosts from rr, one URL per ready host per visit, and leaves rr just
 * past the last host served, so the next call starts with the host after it; a full lap
 * without a URL ends the pass (and leaves rr where it was). */
static size_t take_pass(struct scr_hosts *hs, int64_t now_us, size_t want, int need_no_delay,
                        struct scr_lease_item *out)
{
    size_t got = 0, idle = 0;

    while (got < want && idle < hs->nactive) {
        struct scr_host *h = hs->active[hs->rr];
        hs->rr = (hs->rr + 1) % hs->nactive;
        if (h->qhead == h->qtail || !ready(hs, h, now_us) ||
            (need_no_delay && (h->delay_us > 0 || h->robots_state != SCR_ROBOTS_READY))) {
            idle++;
            continue;
        }
        if (h->robots_state == SCR_ROBOTS_NEEDED) {
            /* robots.txt goes first; the host's URLs wait for its answer */
            robots_task(hs, h, &out[got++]);
            h->robots_state = SCR_ROBOTS_FETCHING;
        } else {
            out[got++] = h->q[h->qhead++];
            hs->pooled--;
        }
        h->inflight++;
        h->last_start_us = now_us;
        if (h->delay_us > 0)
            h->next_start_us = now_us + h->delay_us;
        idle = 0;
    }
    return got;
}

size_t scr_hosts_take(struct scr_hosts *hs, int64_t now_us, size_t n_now, size_t n_later,
                      struct scr_lease_item *out)
{
    size_t got = take_pass(hs, now_us, n_now, 0, out);
    got += take_pass(hs, now_us, n_later, 1, out + got);
    compact(hs);
    return got;
}

void scr_hosts_done(struct scr_hosts *hs, const char *host, int64_t recv_us,
                    int64_t transfer_us)
{
    struct scr_host *h = scr_hosts_find(hs, host);

    if (!h)
        return;
    if (h->inflight > 0)
        h->inflight--;
    if (transfer_us >= 0 && recv_us - transfer_us > h->last_start_us) {
        /* the request started no later than this (its dispatch was earlier still): what a
         * release records as the host's last start, for the next owner (islands.md) */
        h->last_start_us = recv_us - transfer_us;
    }
    if (transfer_us >= 0 && h->delay_us > 0) {
        int64_t t = recv_us - transfer_us + h->delay_us;
        if (t > h->next_start_us)
            h->next_start_us = t;
    }
}

void scr_hosts_defer(struct scr_hosts *hs, const char *host, int64_t until_us)
{
    struct scr_host *h = scr_hosts_get(hs, host);
    if (until_us > h->next_start_us)
        h->next_start_us = until_us;
}

void scr_hosts_robots_set(struct scr_hosts *hs, const char *host, struct scr_robots *r,
                          double crawl_delay_s)
{
    struct scr_host *h = scr_hosts_get(hs, host);

    scr_robots_free(h->robots);
    h->robots = r;
    h->robots_state = SCR_ROBOTS_READY;
    h->delay_us = hs->delay_us;
    if (crawl_delay_s > 0) {
        int64_t cd = (int64_t)(crawl_delay_s * 1e6);
        if (cd > hs->max_crawl_delay_us)
            cd = hs->max_crawl_delay_us;
        if (cd > h->delay_us)
            h->delay_us = cd;
    }
    /* a Crawl-delay learnt now also spaces the request after the robots.txt fetch */
    if (h->last_start_us && h->last_start_us + h->delay_us > h->next_start_us)
        h->next_start_us = h->last_start_us + h->delay_us;
}

void scr_hosts_robots_missing(struct scr_hosts *hs, const char *host)
{
    struct scr_host *h = scr_hosts_get(hs, host);
    if (h->robots_state == SCR_ROBOTS_UNKNOWN || h->robots_state == SCR_ROBOTS_LOOKUP)
        h->robots_state = SCR_ROBOTS_NEEDED;
}

void scr_hosts_robots_retry(struct scr_hosts *hs, const char *host, int64_t until_us)
{
    struct scr_host *h = scr_hosts_get(hs, host);
    h->robots_state = SCR_ROBOTS_NEEDED;
    if (until_us > h->next_start_us)
        h->next_start_us = until_us;
}

int scr_hosts_robots_failed(struct scr_hosts *hs, const char *host, int64_t now_us,
                            int max_attempts)
{
    struct scr_host *h = scr_hosts_get(hs, host);
    int n = ++h->robots_attempts;

    if (n < max_attempts) {
        /* fully disallowed for now: ask again after a backoff (2 s doubled, capped) */
        int64_t wait = INT64_C(2000000) << (n - 1 < 20 ? n - 1 : 20);
        scr_hosts_robots_retry(hs, host, now_us + wait);
        return 0;
    }
    h->robots_state = SCR_ROBOTS_LOOKUP; /* until scr_hosts_set_down */
    return 1;
}

void scr_hosts_set_down(struct scr_hosts *hs, const char *host, const char *reason, int fail)
{
    struct scr_host *h = scr_hosts_get(hs, host);

    free(h->down);
    h->down = scr_xstrdup(reason);
    h->down_fail = fail;
    scr_hosts_robots_set(hs, host, NULL, -1);
}

const char *scr_hosts_scheme(struct scr_hosts *hs, const char *host)
{
    struct scr_host *h = scr_hosts_find(hs, host);
    return h && h->scheme[0] ? h->scheme : "http";
}

const struct scr_robots *scr_hosts_robots(struct scr_hosts *hs, const char *host)
{
    struct scr_host *h = scr_hosts_find(hs, host);
    return h && h->robots_state == SCR_ROBOTS_READY ? h->robots : NULL;
}

int scr_hosts_sitemaps_once(struct scr_hosts *hs, const char *host)
{
    struct scr_host *h = scr_hosts_get(hs, host);
    int first = !h->sitemaps_queued;
    h->sitemaps_queued = 1;
    return first;
}

size_t scr_hosts_resettle(struct scr_hosts *hs, const char *host, scr_hosts_drop_fn drop,
                          void *ctx)
{
    struct scr_host *h = scr_hosts_find(hs, host);
    size_t j, dropped = 0;

    if (!h)
        return 0;
    j = h->qhead;
    for (size_t i = h->qhead; i < h->qtail; i++) {
        const char *reason;
        enum scr_settle how = decide(hs, h, &h->q[i], &reason);
        if (how == SCR_SETTLE_POOLED) {
            h->q[j++] = h->q[i];
            continue;
        }
        drop(&h->q[i], how, reason, ctx);
        memset(&h->q[i], 0, sizeof(h->q[i]));
        hs->pooled--;
        dropped++;
    }
    h->qtail = j;
    compact(hs);
    return dropped;
}

int scr_hosts_outcome(struct scr_hosts *hs, const char *host, int ok, int64_t now_us,
                      int64_t retry_after_us)
{
    struct scr_host *h = scr_hosts_find(hs, host);
    int64_t base, wait;

    if (!h)
        return 0;
    if (ok) {
        h->err_streak = 0;
        return 0;
    }
    h->err_streak++;
    base = h->delay_us > 1000000 ? h->delay_us : 1000000;
    wait = base;
    for (int i = 1; i < h->err_streak && wait < 600000000; i++)
        wait *= 2;
    if (wait > 600000000)
        wait = 600000000;
    if (now_us + wait > h->next_start_us)
        h->next_start_us = now_us + wait;
    if (retry_after_us > h->next_start_us)
        h->next_start_us = retry_after_us;
    return h->err_streak;
}

int scr_hosts_park(struct scr_hosts *hs, const char *host, const char *reason)
{
    struct scr_host *h = scr_hosts_get(hs, host);

    if (h->parked)
        return 0;
    h->parked = scr_xstrdup(reason);
    return 1;
}

int64_t scr_hosts_next_us(struct scr_hosts *hs, int64_t now_us)
{
    int64_t best = -1;

    for (size_t i = 0; i < hs->nactive; i++) {
        struct scr_host *h = hs->active[i];
        int64_t t;
        if (h->qhead == h->qtail || h->inflight >= hs->host_concurrency ||
            (h->robots_state != SCR_ROBOTS_READY && h->robots_state != SCR_ROBOTS_NEEDED) ||
            !owned_now(hs, h, now_us))
            continue;
        t = h->next_start_us > now_us ? h->next_start_us - now_us : 0;
        if (best < 0 || t < best)
            best = t;
    }
    return best;
}

void scr_hosts_saturated(struct scr_hosts *hs, struct scr_strvec *out)
{
    for (size_t i = 0; i < hs->nactive; i++) {
        struct scr_host *h = hs->active[i];
        if (h->qtail - h->qhead >= hs->host_pool_cap)
            scr_strvec_push(out, h->name);
    }
}

struct scr_host *scr_hosts_claim(struct scr_hosts *hs, const char *name, int64_t now_us,
                                 int64_t until_us, int64_t age_us)
{
    struct scr_host *h = scr_hosts_get(hs, name);

    if (!h->owned) {
        SCR_GROW(hs->owned, hs->capowned, hs->nowned + 1, 16);
        hs->owned[hs->nowned++] = h;
        h->owned = 1;
        h->claimed_us = now_us;
        h->idle_since_us = 0;
        h->yielding = 0;
    }
    if (until_us > h->owner_until_us)
        h->owner_until_us = until_us;
    if (age_us >= 0) {
        /* the database's clock, seen from here: at most now_us - age_us ago (the answer left
         * the server before now_us), so the start placed here is never too early */
        int64_t prev = now_us - age_us;
        if (prev > h->last_start_us)
            h->last_start_us = prev;
        if (h->last_start_us + h->delay_us > h->next_start_us)
            h->next_start_us = h->last_start_us + h->delay_us;
    }
    return h;
}

void scr_hosts_unclaim(struct scr_hosts *hs, struct scr_host *h)
{
    if (h->owned) {
        for (size_t i = 0; i < hs->nowned; i++) {
            if (hs->owned[i] == h) {
                hs->owned[i] = hs->owned[--hs->nowned];
                break;
            }
        }
    }
    h->owned = 0;
    h->owner_until_us = 0;
    h->yielding = 0;
    h->idle_since_us = 0;
}

size_t scr_hosts_hand_back(struct scr_hosts *hs, struct scr_host *h, scr_hosts_drop_fn drop,
                           const char *reason, void *ctx)
{
    size_t n = 0;

    while (h->qhead < h->qtail) {
        struct scr_lease_item *it = &h->q[h->qhead++];
        hs->pooled--;
        drop(it, SCR_SETTLE_PUT_BACK, reason, ctx);
        memset(it, 0, sizeof(*it));
        n++;
    }
    compact(hs);
    return n;
}

size_t scr_hosts_drain(struct scr_hosts *hs, struct scr_lease_item **out)
{
    struct scr_lease_item *v;
    size_t n = 0;

    *out = NULL;
    if (hs->pooled == 0)
        return 0;
    v = scr_xcalloc(hs->pooled, sizeof(*v));
    for (size_t i = 0; i < hs->nactive; i++) {
        struct scr_host *h = hs->active[i];
        while (h->qhead < h->qtail)
            v[n++] = h->q[h->qhead++];
    }
    hs->pooled = 0;
    compact(hs);
    *out = v;
    return n;
}
