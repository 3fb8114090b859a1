/* peers.c - the workers as rank 0 sees them (see peers.h).
 *
 * Invariant: a task is on at most one peer's in-flight list, and only the dispatcher thread
 * touches these lists.  Who calls: the dispatcher loop (coordinator.c) routes HELLO, BYE and
 * the periodic check here; dispatch.c and results.c move tasks on and off the lists.
 */
#include "coordinator/peers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "common/version.h"
#include "common/wire.h"
#include "coordinator/coordinator.h"

static const char *const state_names[] = {"waiting", "active", "stopping", "done", "lost",
                                          "refused"};

const char *scr_peer_state_name(enum scr_peer_state st)
{
    return (unsigned)st < sizeof(state_names) / sizeof(state_names[0]) ? state_names[st] : "?";
}

void scr_peers_init(struct scr_peers *ps, struct scr_comm *c, const struct scr_settings *s)
{
    memset(ps, 0, sizeof(*ps));
    ps->c = c;
    ps->s = s;
    ps->n = c->size;
    ps->p = scr_xcalloc((size_t)ps->n, sizeof(*ps->p));
    for (int i = 0; i < ps->n; i++) {
        ps->p[i].rank = i;
        ps->p[i].last_heard_ms = ps->p[i].last_sent_ms = scr_now_ms();
    }
}

void scr_peers_release(struct scr_peers *ps)
{
    for (int i = 0; ps->p && i < ps->n; i++) {
        for (size_t j = 0; j < ps->p[i].nfl; j++)
            scr_lease_item_release(&ps->p[i].fl[j].it);
        free(ps->p[i].fl);
        scr_msg_hello_release(&ps->p[i].hello);
    }
    free(ps->p);
    memset(ps, 0, sizeof(*ps));
}

void scr_peers_hold(struct scr_peers *ps)
{
    int64_t now = scr_now_ms();

    if (now - ps->held_ms < 1000)
        return;
    ps->held_ms = now;
    for (int i = 1; i < ps->n; i++)
        if (ps->p[i].state == SCR_PEER_WAITING)
            scr_peers_send_simple(ps, &ps->p[i], SCR_MSG_HEARTBEAT);
}

void scr_peers_listen(struct scr_peers *ps)
{
    int64_t now = scr_now_ms();

    for (int i = 1; i < ps->n; i++)
        ps->p[i].last_heard_ms = now;
}

int scr_peers_send(struct scr_peers *ps, struct scr_peer *w, struct scr_buf *b)
{
    w->last_sent_ms = scr_now_ms();
    return scr_comm_send_buf(ps->c, w->rank, b);
}

void scr_peers_send_simple(struct scr_peers *ps, struct scr_peer *w, enum scr_msg_type t)
{
    struct scr_buf b;
    scr_buf_init(&b);
    if (scr_msg_simple_encode(&b, t) == SCR_OK)
        scr_peers_send(ps, w, &b);
    scr_buf_release(&b);
}

void scr_peers_welcome(struct scr_peers *ps, struct scr_peer *w, int accepted,
                       const char *reason)
{
    struct scr_msg_welcome m;
    struct scr_buf b;
    size_t n;
    const struct scr_setting_def *defs = scr_settings_table(&n);

    memset(&m, 0, sizeof(m));
    m.accepted = (uint32_t)accepted;
    m.reason = (char *)(reason ? reason : "");
    for (size_t i = 0; accepted && i < n; i++) {
        if (!defs[i].wire) /* a secret with wire = 1 (proxy-user) travels; db does not */
            continue;
        scr_strvec_push(&m.names, defs[i].name);
        scr_strvec_push_owned(&m.values, scr_settings_format(ps->s, &defs[i]));
    }
    m.rules_name = ps->s->rules ? ps->s->rules : (char *)"";
    m.rules_text = ps->rules_text ? (char *)ps->rules_text : (char *)"";
    scr_buf_init(&b);
    if (scr_msg_welcome_encode(&b, &m) == SCR_OK)
        scr_peers_send(ps, w, &b);
    else
        scr_error("cannot encode WELCOME for rank %d", w->rank);
    scr_buf_release(&b);
    scr_strvec_release(&m.names);
    scr_strvec_release(&m.values);
}

void scr_coordinator_stop_workers(struct scr_comm *c, const char *reason)
{
    struct scr_msg_welcome m;
    struct scr_backoff bo;
    int64_t deadline = scr_now_ms() + 10000;
    char *heard = scr_xcalloc((size_t)c->size, 1), *data;
    int left = c->size - 1, peer;
    size_t len;

    /* each worker sends HELLO first and nothing before its WELCOME */
    scr_backoff_init(&bo, 100, 20000);
    while (left > 0 && scr_now_ms() < deadline) {
        if (scr_comm_recv(c, &peer, &data, &len) == SCR_OK) {
            if (peer > 0 && peer < c->size && !heard[peer]) {
                heard[peer] = 1;
                left--;
            }
            free(data);
            continue;
        }
        scr_comm_wait(c, NULL, 0, 100000, &bo);
    }
    if (left > 0)
        scr_debug("%d workers sent no HELLO within 10 s; told to stop all the same", left);
    memset(&m, 0, sizeof(m));
    m.reason = (char *)reason;
    m.not_started = 1;
    for (int r = 1; r < c->size; r++) {
        struct scr_buf b;
        scr_buf_init(&b);
        if (scr_msg_welcome_encode(&b, &m) == SCR_OK)
            scr_comm_send_buf(c, r, &b);
        scr_buf_release(&b);
    }
    free(heard);
}

void scr_peers_on_hello(struct scr_peers *ps, struct scr_peer *w, const char *data, size_t len,
                        int stopping)
{
    char reason[512];

    scr_msg_hello_release(&w->hello);
    if (scr_msg_hello_decode(&w->hello, data, len) != SCR_OK) {
        scr_error("rank %d sent a malformed HELLO (%zu bytes)", w->rank, len);
        w->state = SCR_PEER_REFUSED;
        scr_peers_welcome(ps, w, 0, "malformed HELLO");
        return;
    }
    if (w->hello.protocol != SCR_PROTOCOL_VERSION || strcmp(w->hello.version, SCR_VERSION) ||
        strcmp(w->hello.build_id, SCR_BUILD_ID)) {
        snprintf(reason, sizeof(reason),
                 "rank %d on host %s runs scrape %s (build %s, protocol %u) but the "
                 "coordinator runs scrape %s (build %s, protocol %d): install the same build "
                 "on every node",
                 w->rank, w->hello.host, w->hello.version, w->hello.build_id,
                 w->hello.protocol, SCR_VERSION, SCR_BUILD_ID, SCR_PROTOCOL_VERSION);
        scr_error("%s", reason);
        w->state = SCR_PEER_REFUSED;
        scr_peers_welcome(ps, w, 0, reason);
        return;
    }
    scr_info("rank %d on %s (%s, %s, %u cores) joined", w->rank, w->hello.host, w->hello.arch,
             w->hello.os, w->hello.cores);
    scr_peers_welcome(ps, w, 1, NULL);
    w->state = SCR_PEER_ACTIVE;
    if (stopping) {
        scr_peers_send_simple(ps, w, SCR_MSG_STOP);
        w->state = SCR_PEER_STOPPING;
    }
}

void scr_peers_on_bye(struct scr_peer *w, const char *data, size_t len)
{
    if (scr_msg_bye_decode(&w->bye, data, len) == SCR_OK)
        w->has_bye = 1;
    else
        scr_error("rank %d sent a malformed BYE", w->rank);
    if (w->nfl)
        scr_warn("rank %d left with %zu URLs unanswered; they return to the queue", w->rank,
                 w->nfl);
    w->state = SCR_PEER_DONE;
}

void scr_peer_push(struct scr_peer *w, struct scr_lease_item *it, int64_t now_us)
{
    SCR_GROW(w->fl, w->capfl, w->nfl + 1, 32);
    w->fl[w->nfl].it = *it;
    w->fl[w->nfl].dispatched_us = now_us;
    w->nfl++;
    memset(it, 0, sizeof(*it));
}

int scr_peer_take(struct scr_peer *w, uint64_t url_id, struct scr_inflight *out)
{
    for (size_t i = 0; i < w->nfl; i++) {
        if ((uint64_t)w->fl[i].it.url_id != url_id)
            continue;
        *out = w->fl[i];
        w->fl[i] = w->fl[--w->nfl];
        return 1;
    }
    return 0;
}

void scr_peers_check(struct scr_peers *ps, void (*lost)(struct scr_peer *p, void *ctx),
                     void *ctx)
{
    int64_t now = scr_now_ms();

    for (int i = 1; i < ps->n; i++) {
        struct scr_peer *w = &ps->p[i];
        if (w->state == SCR_PEER_DONE || w->state == SCR_PEER_LOST ||
            w->state == SCR_PEER_REFUSED)
            continue;
        if (now - w->last_heard_ms > ps->s->peer_timeout_ms) {
            scr_error("rank %d on host %s has been silent for %lld ms: declared lost; its %zu "
                      "URLs go back to the queue, an attempt counted",
                      w->rank, w->hello.host ? w->hello.host : "(unknown)",
                      (long long)(now - w->last_heard_ms), w->nfl);
            lost(w, ctx);
            w->state = SCR_PEER_LOST;
            continue;
        }
        if (w->state != SCR_PEER_WAITING && now - w->last_sent_ms >= ps->s->heartbeat_ms)
            scr_peers_send_simple(ps, w, SCR_MSG_HEARTBEAT);
    }
}

void scr_peers_stop(struct scr_peers *ps)
{
    for (int i = 1; i < ps->n; i++) {
        struct scr_peer *w = &ps->p[i];
        if (w->state == SCR_PEER_ACTIVE) {
            scr_peers_send_simple(ps, w, SCR_MSG_STOP);
            w->state = SCR_PEER_STOPPING;
        }
    }
}

size_t scr_peers_inflight(const struct scr_peers *ps)
{
    size_t n = 0;
    for (int i = 1; i < ps->n; i++)
        n += ps->p[i].nfl;
    return n;
}

int scr_peers_active(const struct scr_peers *ps)
{
    int n = 0;
    for (int i = 1; i < ps->n; i++)
        n += ps->p[i].state == SCR_PEER_ACTIVE || ps->p[i].state == SCR_PEER_WAITING ||
             ps->p[i].state == SCR_PEER_STOPPING;
    return n;
}

int scr_peers_all_gone(const struct scr_peers *ps)
{
    return scr_peers_active(ps) == 0;
}
