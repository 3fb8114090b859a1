/* politeness.c - cluster-wide per-host limits and the pool of leased URLs (see politeness.h).
 *
 * Invariants: host->inflight counts URLs dispatched and not yet answered (a URL queued inside
 * a worker counts), so --host-concurrency holds however workers queue; a host is in `active`
 * exactly when its FIFO is non-empty.
 */
#include "coordinator/politeness.h"

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"

struct scr_host {
    char *name;
    int inflight;
    int64_t next_start_us;
    int64_t delay_us;
    int active;
    struct scr_lease_item *q; /* FIFO [qhead, qtail) */
    size_t qhead, qtail, qcap;
};

int scr_politeness_init(struct scr_politeness *p, int host_concurrency, int64_t delay_ms)
{
    memset(p, 0, sizeof(*p));
    scr_strmap_init(&p->hosts);
    p->host_concurrency = host_concurrency;
    p->delay_us = delay_ms * 1000;
    /* With a delay a host can use only a few URLs per lease period; without one, a single
     * host may fill the pool (benchmarks, one's own servers). */
    p->host_pool_cap = delay_ms > 0 ? (size_t)host_concurrency * 2 + 2 : (size_t)-1;
    return SCR_OK;
}

static void host_free(struct scr_host *h)
{
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
    return h->inflight < p->host_concurrency && now_us >= h->next_start_us;
}

/* Drops hosts whose FIFO emptied from the active list, keeping the round-robin order. */
static void compact(struct scr_politeness *p)
{
    size_t j = 0;
    for (size_t i = 0; i < p->nactive; i++) {
        struct scr_host *h = p->active[i];
        if (h->qhead < h->qtail)
            p->active[j++] = h;
        else
            h->active = 0;
    }
    p->nactive = j;
    if (p->rr >= p->nactive)
        p->rr = 0;
}

static size_t take_pass(struct scr_politeness *p, int64_t now_us, size_t want, int need_no_delay,
                        struct scr_lease_item *out)
{
    size_t got = 0;
    int progress = 1;

    while (got < want && progress && p->nactive > 0) {
        progress = 0;
        for (size_t k = 0; k < p->nactive && got < want; k++) {
            struct scr_host *h = p->active[(p->rr + k) % p->nactive];
            if (h->qhead == h->qtail || !ready(p, h, now_us))
                continue;
            if (need_no_delay && h->delay_us > 0)
                continue;
            out[got++] = h->q[h->qhead++];
            p->pooled--;
            h->inflight++;
            if (h->delay_us > 0)
                h->next_start_us = now_us + h->delay_us;
            progress = 1;
        }
        p->rr = p->nactive ? (p->rr + 1) % p->nactive : 0;
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

int64_t scr_politeness_next_us(struct scr_politeness *p, int64_t now_us)
{
    int64_t best = -1;

    for (size_t i = 0; i < p->nactive; i++) {
        struct scr_host *h = p->active[i];
        int64_t t;
        if (h->qhead == h->qtail || h->inflight >= p->host_concurrency)
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
