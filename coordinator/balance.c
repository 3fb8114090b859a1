/* balance.c - the tail of a crawl on uneven nodes (see balance.h): per-worker rates, the
 * rule for handing out the last tasks, and the rule for taking queued tasks back.
 *
 * The model: a node with rate r and service time s (one task, start to result) holding h
 * tasks is done with them after max(s, h / r) seconds.  The throughput term rules while
 * the node is full; the service time covers the node that holds few tasks but takes long
 * over each (a slow CPU parsing a page, a long link).
 * Called by coordinator/coordinator.c, only from the dispatcher thread.
 */
#include "coordinator/balance.h"

#include <math.h>

void scr_rate_busy(struct scr_rate *r, int64_t now_us)
{
    if (r->mark_us == 0)
        r->mark_us = now_us;
}

void scr_rate_result(struct scr_rate *r, int64_t now_us, size_t held_after, int64_t service_us)
{
    double dt = r->mark_us ? (double)(now_us - r->mark_us) / 1e6 : 0.0, decay;
    double svc = service_us > 0 ? (double)service_us / 1e6 : 0.0;

    if (dt < 0)
        dt = 0;
    decay = exp(-dt / SCR_RATE_TAU_S);
    r->n = r->n * decay + 1.0;
    r->t = r->t * decay + dt;
    /* the service time: the last few tasks weigh most (a fifth each) */
    r->lat = r->results ? r->lat + (svc - r->lat) / 5.0 : svc;
    r->results++;
    /* idle from now on until it is given work again: that time is not the node's speed */
    r->mark_us = held_after ? now_us : 0;
}

double scr_rate_get(const struct scr_rate *r)
{
    if (r->results < SCR_RATE_MIN_RESULTS || r->t <= 0)
        return 0.0;
    return r->n / r->t;
}

double scr_rate_latency(const struct scr_rate *r)
{
    return r->results < SCR_RATE_MIN_RESULTS ? 0.0 : r->lat;
}

/* When node n would be done with what it holds plus k more tasks. */
static double finish(const struct scr_balance_node *n, size_t k)
{
    double t = ((double)n->held + (double)k) / n->rate;
    return n->latency > t ? n->latency : t;
}

/* The others' sums: rate, held tasks, and the soonest one more task would end on one of them. */
struct others {
    double rate, held, best;
};

static struct others sum_others(const struct scr_balance_node *nodes, size_t n, size_t self)
{
    struct others o = {0.0, 0.0, HUGE_VAL};

    for (size_t i = 0; i < n; i++) {
        if (i == self || !nodes[i].active || nodes[i].rate <= 0)
            continue;
        o.rate += nodes[i].rate;
        o.held += (double)nodes[i].held;
        if (finish(&nodes[i], 1) < o.best)
            o.best = finish(&nodes[i], 1);
    }
    return o;
}

size_t scr_balance_take(const struct scr_balance_node *nodes, size_t n, size_t self,
                        size_t pooled, size_t want)
{
    const struct scr_balance_node *me = &nodes[self];
    struct others o = sum_others(nodes, n, self);
    size_t max = want < pooled ? want : pooled, k;

    if (me->rate <= 0 || o.rate <= 0)
        return max;
    for (k = 1; k <= max; k++) {
        double mine = finish(me, k);
        double rest = ((double)(pooled - k) + o.held) / o.rate;
        /* a tiny slack, so equal times do not depend on rounding */
        if (mine > rest * (1 + 1e-9) && mine > o.best * (1 + 1e-9))
            break;
    }
    return k - 1;
}

size_t scr_balance_recall(const struct scr_balance_node *nodes, size_t n, size_t self,
                          size_t pooled, size_t slots)
{
    const struct scr_balance_node *me = &nodes[self];
    struct others o = sum_others(nodes, n, self);
    double keep;

    if (me->rate <= 0 || o.rate <= 0 || me->held <= slots)
        return 0;
    /* what it finishes while the others finish the pool and their own */
    keep = ceil(me->rate * ((double)pooled + o.held) / o.rate);
    if (keep < (double)slots)
        keep = (double)slots;
    return keep >= (double)me->held ? 0 : me->held - (size_t)keep;
}
