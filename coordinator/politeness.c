/* politeness.c - cluster-wide per-host limits and the pool of leased URLs (see politeness.h).
 *
 * Invariants: host->inflight counts URLs dispatched and not yet answered (a URL queued inside
 * a worker counts), so --host-concurrency holds however workers queue; a host is in `active`
 * exactly when its FIFO is non-empty, and a host that is not active holds no FIFO array.
 *
 * Memory: a run keeps one scr_host for every host it meets (their number has no bound but
 * the crawl's), so what an idle host keeps must stay small: its FIFO is freed when it empties.
 * The FIFOs of the active hosts hold at most the pooled URLs (the lease target, <= 4096) and
 * the slack of their doubling.
 */
#include "coordinator/politeness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/wire.h"

struct scr_host {
    char *name;
    char scheme[8];           /* of the first URL seen: where robots.txt is asked */
    int inflight;
    int64_t next_start_us;
    int64_t last_start_us;    /* when the last request was handed out */
    int64_t delay_us;
    int active;
    enum scr_robots_state robots_state;
    struct scr_robots *robots;
    int err_streak;
    struct scr_lease_item *q; /* FIFO [qhead, qtail) */
    size_t qhead, qtail, qcap;
};

int scr_politeness_init(struct scr_politeness *p, int host_concurrency, int64_t delay_ms,
                        int64_t max_crawl_delay_ms)
{
    memset(p, 0, sizeof(*p));
    p->max_crawl_delay_us = max_crawl_delay_ms * 1000;
    scr_strmap_init(&p->hosts);
    p->host_concurrency = host_concurrency;
    p->delay_us = delay_ms * 1000;
    /* With a delay a host can use only a few URLs per lease period; without one, a single
     * host may fill the pool (benchmarks, one's own servers). */
    p->host_pool_cap = delay_ms > 0 ? (size_t)host_concurrency * 2 + 2 : (size_t)-1;
    return SCR_OK;
}

/* Frees an empty host's FIFO array (see Memory above). */
static void fifo_free(struct scr_politeness *p, struct scr_host *h)
{
    free(h->q);
    p->slots -= h->qcap;
    h->q = NULL;
    h->qhead = h->qtail = h->qcap = 0;
}

static void host_free(struct scr_host *h)
{
    scr_robots_free(h->robots);
    for (size_t i = h->qhead; i < h->qtail; i++)
        scr_lease_item_release(&h->q[i]);
    free(h->q);
    free(h->name);
    free(h);
}

void scr_politeness_release(struct scr_politeness *p)
{
    for (size_t i = 0; i < p->hosts.cap; i++)
        if (p->hosts.slots[i].key)
            host_free(p->hosts.slots[i].value);
    scr_strmap_release(&p->hosts);
    free(p->active);
    memset(p, 0, sizeof(*p));
}

static struct scr_host *host_get(struct scr_politeness *p, const char *name)
{
    struct scr_host *h = scr_strmap_get(&p->hosts, name);

    if (h)
        return h;
    h = calloc(1, sizeof(*h));
    if (!h || !(h->name = strdup(name))) {
        free(h);
        return NULL;
    }
    h->delay_us = p->delay_us;
    if (scr_strmap_put(&p->hosts, name, h)) {
        free(h->name);
        free(h);
        return NULL;
    }
    return h;
}

int scr_politeness_add(struct scr_politeness *p, struct scr_lease_item *it)
{
    struct scr_host *h = host_get(p, it->host);

    if (!h)
        goto nomem;
    if (!h->scheme[0])
        snprintf(h->scheme, sizeof(h->scheme), "%s",
                 strncmp(it->url, "https:", 6) == 0 ? "https" : "http");
    if (h->qtail == h->qcap) {
        size_t n = h->qtail - h->qhead;
        if (h->qhead > 0) {
            memmove(h->q, h->q + h->qhead, n * sizeof(*h->q));
            h->qhead = 0;
            h->qtail = n;
        }
        if (h->qtail == h->qcap) {
            size_t cap = h->qcap ? h->qcap * 2 : 8;
            struct scr_lease_item *q = realloc(h->q, cap * sizeof(*q));
            if (!q)
                goto nomem;
            h->q = q;
            p->slots += cap - h->qcap;
            h->qcap = cap;
        }
    }
    if (!h->active) {
        if (p->nactive == p->capactive) {
            size_t cap = p->capactive ? p->capactive * 2 : 64;
            struct scr_host **a = realloc(p->active, cap * sizeof(*a));
            if (!a)
                goto nomem;
            p->active = a;
            p->capactive = cap;
        }
        p->active[p->nactive++] = h;
        h->active = 1;
    }
    h->q[h->qtail++] = *it;
    memset(it, 0, sizeof(*it));
    p->pooled++;
    return SCR_OK;
nomem:
    scr_lease_item_release(it);
    return SCR_ENOMEM;
}

static int ready(const struct scr_politeness *p, const struct scr_host *h, int64_t now_us)
{
    return (h->robots_state == SCR_ROBOTS_READY || h->robots_state == SCR_ROBOTS_NEEDED) &&
           h->inflight < p->host_concurrency && now_us >= h->next_start_us;
}

/* The robots task of a NEEDED host, as a lease item. */
static int robots_task(struct scr_politeness *p, struct scr_host *h, struct scr_lease_item *it)
{
    size_t n = strlen(h->scheme) + strlen(h->name) + 16;

    memset(it, 0, sizeof(*it));
    it->url_id = (int64_t)(SCR_ROBOTS_TASK_BIT | ++p->next_robots_id);
    it->kind = SCR_TASK_ROBOTS;
    it->url = malloc(n);
    it->host = strdup(h->name);
    it->etag = strdup("");
    it->last_modified = strdup("");
    if (!it->url || !it->host || !it->etag || !it->last_modified) {
        scr_lease_item_release(it);
        return SCR_ENOMEM;
    }
    snprintf(it->url, n, "%s://%s/robots.txt", h->scheme, h->name);
    it->attempts = 1;
    return SCR_OK;
}

/* Drops hosts whose FIFO emptied from the active list, keeping the round-robin order: rr
 * keeps pointing at the same host, or at the next one left when that host was dropped.  A
 * dropped host's FIFO array is freed: a host that once had thousands of URLs waiting would
 * otherwise keep their slots (56 bytes each) for the rest of the run. */
static void compact(struct scr_politeness *p)
{
    size_t j = 0, rr = p->rr;
    for (size_t i = 0; i < p->nactive; i++) {
        struct scr_host *h = p->active[i];
        if (h->qhead < h->qtail) {
            p->active[j++] = h;
        } else {
            h->active = 0;
            fifo_free(p, h);
            if (i < p->rr)
                rr--;
        }
    }
    p->nactive = j;
    p->rr = rr < j ? rr : 0;
}

/* Walks the ring of active hosts from rr, one URL per ready host per visit, and leaves rr just
 * past the last host served, so the next call starts with the host after it; a full lap
 * without a URL ends the pass (and leaves rr where it was). */
static size_t take_pass(struct scr_politeness *p, int64_t now_us, size_t want, int need_no_delay,
                        struct scr_lease_item *out)
{
    size_t got = 0, idle = 0;

    while (got < want && idle < p->nactive) {
        struct scr_host *h = p->active[p->rr];
        p->rr = (p->rr + 1) % p->nactive;
        if (h->qhead == h->qtail || !ready(p, h, now_us) ||
            (need_no_delay && (h->delay_us > 0 || h->robots_state != SCR_ROBOTS_READY))) {
            idle++;
            continue;
        }
        if (h->robots_state == SCR_ROBOTS_NEEDED) {
            /* robots.txt goes first; the host's URLs wait for its answer */
            if (robots_task(p, h, &out[got]) != SCR_OK) {
                idle++;
                continue;
            }
            got++;
            h->robots_state = SCR_ROBOTS_FETCHING;
        } else {
            out[got++] = h->q[h->qhead++];
            p->pooled--;
        }
        h->inflight++;
        h->last_start_us = now_us;
        if (h->delay_us > 0)
            h->next_start_us = now_us + h->delay_us;
        idle = 0;
    }
    return got;
}

size_t scr_politeness_take(struct scr_politeness *p, int64_t now_us, size_t n_now,
                           size_t n_later, struct scr_lease_item *out)
{
    size_t got = take_pass(p, now_us, n_now, 0, out);
    got += take_pass(p, now_us, n_later, 1, out + got);
    compact(p);
    return got;
}

void scr_politeness_done(struct scr_politeness *p, const char *host, int64_t recv_us,
                         int64_t transfer_us)
{
    struct scr_host *h = scr_strmap_get(&p->hosts, host);

    if (!h)
        return;
    if (h->inflight > 0)
        h->inflight--;
    if (transfer_us >= 0 && h->delay_us > 0) {
        int64_t t = recv_us - transfer_us + h->delay_us;
        if (t > h->next_start_us)
            h->next_start_us = t;
    }
}

void scr_politeness_defer(struct scr_politeness *p, const char *host, int64_t until_us)
{
    struct scr_host *h = host_get(p, host);
    if (h && until_us > h->next_start_us)
        h->next_start_us = until_us;
}

enum scr_robots_state scr_politeness_robots_state(struct scr_politeness *p, const char *host)
{
    struct scr_host *h = scr_strmap_get(&p->hosts, host);
    return h ? h->robots_state : SCR_ROBOTS_UNKNOWN;
}

char *scr_politeness_robots_unknown(struct scr_politeness *p)
{
    struct scr_buf b;

    scr_buf_init(&b);
    for (size_t i = 0; i < p->nactive; i++) {
        struct scr_host *h = p->active[i];
        if (h->robots_state != SCR_ROBOTS_UNKNOWN)
            continue;
        if (b.len)
            scr_buf_putc(&b, '\n');
        scr_buf_puts(&b, h->name);
        h->robots_state = SCR_ROBOTS_NEEDED;
    }
    return scr_buf_detach(&b, NULL);
}

void scr_politeness_robots_set(struct scr_politeness *p, const char *host, struct scr_robots *r,
                               double crawl_delay_s)
{
    struct scr_host *h = host_get(p, host);

    if (!h) {
        scr_robots_free(r);
        return;
    }
    scr_robots_free(h->robots);
    h->robots = r;
    h->robots_state = SCR_ROBOTS_READY;
    h->delay_us = p->delay_us;
    if (crawl_delay_s > 0) {
        int64_t cd = (int64_t)(crawl_delay_s * 1e6);
        if (cd > p->max_crawl_delay_us)
            cd = p->max_crawl_delay_us;
        if (cd > h->delay_us)
            h->delay_us = cd;
    }
    /* a Crawl-delay learnt now also spaces the request after the robots.txt fetch */
    if (h->last_start_us && h->last_start_us + h->delay_us > h->next_start_us)
        h->next_start_us = h->last_start_us + h->delay_us;
}

void scr_politeness_robots_retry(struct scr_politeness *p, const char *host, int64_t until_us)
{
    struct scr_host *h = host_get(p, host);
    if (!h)
        return;
    h->robots_state = SCR_ROBOTS_NEEDED;
    if (until_us > h->next_start_us)
        h->next_start_us = until_us;
}

const char *scr_politeness_scheme(struct scr_politeness *p, const char *host)
{
    struct scr_host *h = scr_strmap_get(&p->hosts, host);
    return h && h->scheme[0] ? h->scheme : "http";
}

const struct scr_robots *scr_politeness_robots(struct scr_politeness *p, const char *host)
{
    struct scr_host *h = scr_strmap_get(&p->hosts, host);
    return h && h->robots_state == SCR_ROBOTS_READY ? h->robots : NULL;
}

void scr_politeness_filter(struct scr_politeness *p, const char *host,
                           int (*keep)(const struct scr_lease_item *it, void *ctx),
                           void (*drop)(struct scr_lease_item *it, void *ctx), void *ctx)
{
    struct scr_host *h = scr_strmap_get(&p->hosts, host);
    size_t j;

    if (!h)
        return;
    j = h->qhead;
    for (size_t i = h->qhead; i < h->qtail; i++) {
        if (keep(&h->q[i], ctx)) {
            h->q[j++] = h->q[i];
        } else {
            drop(&h->q[i], ctx);
            memset(&h->q[i], 0, sizeof(h->q[i]));
            p->pooled--;
        }
    }
    h->qtail = j;
    compact(p);
}

int scr_politeness_outcome(struct scr_politeness *p, const char *host, int ok, int64_t now_us,
                           int64_t retry_after_us)
{
    struct scr_host *h = scr_strmap_get(&p->hosts, host);
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

int64_t scr_politeness_next_us(struct scr_politeness *p, int64_t now_us)
{
    int64_t best = -1;

    for (size_t i = 0; i < p->nactive; i++) {
        struct scr_host *h = p->active[i];
        int64_t t;
        if (h->qhead == h->qtail || h->inflight >= p->host_concurrency ||
            (h->robots_state != SCR_ROBOTS_READY && h->robots_state != SCR_ROBOTS_NEEDED))
            continue;
        t = h->next_start_us > now_us ? h->next_start_us - now_us : 0;
        if (best < 0 || t < best)
            best = t;
    }
    return best;
}

char *scr_politeness_saturated(struct scr_politeness *p)
{
    struct scr_buf b;

    scr_buf_init(&b);
    for (size_t i = 0; i < p->nactive; i++) {
        struct scr_host *h = p->active[i];
        if (h->qtail - h->qhead >= p->host_pool_cap) {
            if (b.len)
                scr_buf_putc(&b, '\n');
            scr_buf_puts(&b, h->name);
        }
    }
    return scr_buf_detach(&b, NULL);
}

size_t scr_politeness_drain(struct scr_politeness *p, struct scr_lease_item **out)
{
    struct scr_lease_item *v = NULL;
    size_t n = 0;

    *out = NULL;
    if (p->pooled == 0)
        return 0;
    v = calloc(p->pooled, sizeof(*v));
    if (!v)
        return 0;
    for (size_t i = 0; i < p->nactive; i++) {
        struct scr_host *h = p->active[i];
        while (h->qhead < h->qtail)
            v[n++] = h->q[h->qhead++];
    }
    p->pooled = 0;
    compact(p);
    *out = v;
    return n;
}
