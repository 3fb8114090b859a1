/* coordinator.c - rank 0's dispatcher loop.
 *
 * One thread, one loop, never blocking: it answers workers' REQUESTs from an in-memory pool
 * of leased URLs (politeness.c), hands RESULTs to the store thread (store.c), and asks the
 * store for more URLs before the pool runs dry, so no worker waits on the database.
 *
 * The crawl is over when nothing is in flight, nothing waits in the pool or the store, and a
 * lease issued after the last stored result found nothing due, nothing queued for later, and
 * nothing leased by another live run (whose pages could still add URLs).  Then every worker
 * gets STOP, answers BYE, and the run's row is closed with its summary.
 *
 * Workers that fall silent for --peer-timeout are declared lost; their URLs go back to the
 * pool.  Invariant: every URL this run leased is in exactly one place: the pool, one
 * worker's in-flight list, or the store's queue; what is left at the end is released.
 *
 * At the tail (the last lease found nothing) the dispatcher balances by measured rates
 * (balance.c): a worker gets a task only if it would not finish it after the others finish
 * the rest, and a worker holding more than that is asked to RETURN its unstarted tasks.
 */
#include "coordinator/coordinator.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/file.h"
#include "common/log.h"
#include "common/version.h"
#include "common/wire.h"
#include "coordinator/balance.h"
#include "coordinator/db.h"
#include "coordinator/frontier.h"
#include "coordinator/politeness.h"
#include "coordinator/retry.h"
#include "coordinator/scope.h"
#include "coordinator/seeds.h"
#include "common/urlopts.h"
#include "coordinator/store.h"
#include "parsers/extract.h"

/* A host with this many transient errors in a row is parked for the rest of the run. */
#define SCR_PARK_STREAK 8

volatile sig_atomic_t scr_coordinator_stop;

enum wstate { W_WAITING, W_ACTIVE, W_STOPPING, W_DONE, W_LOST, W_REFUSED };

static const char *const wstate_names[] = {"waiting", "active", "stopping", "done", "lost",
                                           "refused"};

struct inflight {
    struct scr_lease_item it;
    int64_t dispatched_us;
};

struct wk {
    int rank;
    enum wstate state;
    struct scr_msg_hello hello;
    int64_t last_heard_ms, last_sent_ms;
    int has_request;
    uint32_t want_now, want_later;
    struct inflight *fl;
    size_t nfl, capfl;
    uint64_t pages, bytes, errors, records;
    int64_t first_ms, last_ms;
    struct scr_msg_bye bye;
    int has_bye;
    /* balancing at the tail (balance.c) */
    struct scr_rate rate;
    int recall_out;          /* a RECALL waits for its RETURN */
    int recall_dry;          /* the last RETURN gave back less than asked: nothing queued */
    uint32_t recall_asked;
    uint64_t returned;       /* unstarted tasks it gave back */
};

struct coord {
    struct scr_comm *c;
    struct scr_settings *s;
    struct wk *w;
    int nw;
    struct scr_store *st;
    struct scr_politeness pol;
    struct scr_scope scope;
    struct scr_balance_node *bn; /* one per rank, filled by balance_nodes() */
    int64_t job_id, run_id;
    char *rules_text;
    struct scr_urlopts uo;     /* URL normalization, the same as the workers' */
    /* leasing */
    int lease_out;
    int64_t lease_seq;       /* items submitted when the outstanding lease was asked */
    int lease_clean;         /* ... and every one of them was already stored */
    int empty_clean;         /* the empty lease was clean: it proves the frontier empty */
    int lease_empty;         /* the last lease found nothing */
    int64_t empty_seq;       /* ... and was asked when this many items were submitted */
    struct scr_outlook outlook;
    int64_t next_lease_ms;
    int64_t submitted, acked;
    /* ending */
    int stopping;            /* STOP sent (or being sent) to every worker */
    int64_t stop_ms;
    int interrupted;
    int no_workers;          /* every worker left or was lost before the crawl was over */
    int fatal_db;
    char fatal_msg[1024];
    /* hosts */
    struct scr_strmap robots_attempts; /* host -> (void *)(intptr_t) failed robots fetches */
    struct scr_strmap robots_down;     /* host -> reason (malloc'd): robots.txt unavailable */
    struct scr_strmap parked;          /* host -> reason (malloc'd): too many errors */
    struct scr_strmap sitemapped;      /* hosts whose sitemaps were queued this run */
    /* figures */
    uint64_t skipped;
    int64_t settled_at_start;  /* URLs of the job already done/failed/skipped at the start */
    int64_t settled;           /* URLs this run brought to a final state */
    int tty;                   /* stderr is a terminal: a live status line */
    int64_t start_ms, start_cpu_us;
    uint64_t stored, lost_results, failed, retried, records, bytes, errors, new_urls;
    int64_t last_progress_ms;
};

/* --- workers --------------------------------------------------------------------------- */

static int send_to(struct coord *co, struct wk *w, struct scr_buf *b)
{
    w->last_sent_ms = scr_now_ms();
    return scr_comm_send_buf(co->c, w->rank, b);
}

static void send_simple(struct coord *co, struct wk *w, enum scr_msg_type t)
{
    struct scr_buf b;
    scr_buf_init(&b);
    if (scr_msg_simple_encode(&b, t) == SCR_OK)
        send_to(co, w, &b);
    scr_buf_release(&b);
}

static void send_welcome(struct coord *co, struct wk *w, int accepted, const char *reason)
{
    struct scr_msg_welcome m;
    struct scr_buf b;
    size_t n;
    const struct scr_setting_def *defs = scr_settings_table(&n);
    char val[1024];

    memset(&m, 0, sizeof(m));
    m.accepted = (uint32_t)accepted;
    m.reason = (char *)(reason ? reason : "");
    for (size_t i = 0; accepted && i < n; i++) {
        if (!defs[i].wire || defs[i].secret)
            continue;
        scr_settings_format(co->s, &defs[i], val, sizeof(val));
        scr_strvec_push(&m.names, defs[i].name);
        scr_strvec_push(&m.values, val);
    }
    m.rules_name = co->s->rules ? co->s->rules : (char *)"";
    m.rules_text = co->rules_text ? co->rules_text : (char *)"";
    scr_buf_init(&b);
    if (scr_msg_welcome_encode(&b, &m) == SCR_OK)
        send_to(co, w, &b);
    else
        scr_error("cannot encode WELCOME for rank %d", w->rank);
    scr_buf_release(&b);
    scr_strvec_release(&m.names);
    scr_strvec_release(&m.values);
}

static void on_hello(struct coord *co, struct wk *w, const char *data, size_t len)
{
    char reason[512];

    scr_msg_hello_release(&w->hello);
    if (scr_msg_hello_decode(&w->hello, data, len) != SCR_OK) {
        scr_error("rank %d sent a malformed HELLO (%zu bytes)", w->rank, len);
        w->state = W_REFUSED;
        send_welcome(co, w, 0, "malformed HELLO");
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
        w->state = W_REFUSED;
        send_welcome(co, w, 0, reason);
        return;
    }
    scr_info("rank %d on %s (%s, %s, %u cores) joined", w->rank, w->hello.host, w->hello.arch,
             w->hello.os, w->hello.cores);
    send_welcome(co, w, 1, NULL);
    w->state = W_ACTIVE;
    if (co->stopping) {
        send_simple(co, w, SCR_MSG_STOP);
        w->state = W_STOPPING;
    }
}

static int push_inflight(struct wk *w, struct scr_lease_item *it, int64_t now_us)
{
    if (w->nfl == w->capfl) {
        size_t cap = w->capfl ? w->capfl * 2 : 32;
        struct inflight *p = realloc(w->fl, cap * sizeof(*p));
        if (!p)
            return SCR_ENOMEM;
        w->fl = p;
        w->capfl = cap;
    }
    w->fl[w->nfl].it = *it;
    w->fl[w->nfl].dispatched_us = now_us;
    w->nfl++;
    memset(it, 0, sizeof(*it));
    return SCR_OK;
}

/* Puts a dispatched URL that got no RESULT back in the pool (takes the item's strings). */
static void requeue_one(struct coord *co, struct scr_lease_item *it)
{
    scr_politeness_done(&co->pol, it->host, 0, -1);
    if (it->kind == SCR_TASK_ROBOTS) {
        /* the host's robots.txt is asked again; its URLs are still in the pool */
        scr_politeness_robots_retry(&co->pol, it->host, 0);
        scr_lease_item_release(it);
    } else {
        scr_politeness_add(&co->pol, it);
    }
}

/* Returns the pool's URLs of a lost worker to the pool. */
static void requeue_inflight(struct coord *co, struct wk *w)
{
    for (size_t i = 0; i < w->nfl; i++)
        requeue_one(co, &w->fl[i].it);
    w->nfl = 0;
}

/* The tail: the last lease found nothing, so the pool and the workers' tasks are all the
 * work there is (until results bring new URLs). */
static int at_tail(const struct coord *co)
{
    return co->lease_empty && !co->stopping;
}

/* Fills co->bn (index = rank) with every worker's rate, held tasks and whether it is active. */
static void balance_nodes(struct coord *co)
{
    for (int i = 0; i < co->nw; i++) {
        const struct wk *w = &co->w[i];
        co->bn[i].rate = i ? scr_rate_get(&w->rate) : 0.0;
        co->bn[i].latency = i ? scr_rate_latency(&w->rate) : 0.0;
        co->bn[i].held = w->nfl;
        co->bn[i].active = i > 0 && w->state == W_ACTIVE;
    }
}

static void dispatch(struct coord *co, struct wk *w)
{
    size_t want, n, n_now, n_later, held = w->nfl;
    struct scr_lease_item *items;
    struct scr_task *tasks;
    struct scr_buf b;
    int64_t now_us = scr_now_us();

    if (!w->has_request || w->state != W_ACTIVE || co->stopping || co->pol.pooled == 0)
        return;
    want = (size_t)w->want_now + w->want_later;
    if (want == 0)
        return;
    n_now = w->want_now;
    n_later = w->want_later;
    if (at_tail(co)) {
        /* the request waits (stays pending) while a faster worker should take the rest */
        balance_nodes(co);
        want = scr_balance_take(co->bn, (size_t)co->nw, (size_t)w->rank, co->pol.pooled, want);
        if (want == 0)
            return;
        if (n_now > want)
            n_now = want;
        if (n_later > want - n_now)
            n_later = want - n_now;
    }
    items = calloc(want, sizeof(*items));
    tasks = calloc(want, sizeof(*tasks));
    if (!items || !tasks)
        goto out;
    n = scr_politeness_take(&co->pol, now_us, n_now, n_later, items);
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
    if (scr_msg_batch_encode(&b, tasks, (uint32_t)n) != SCR_OK || send_to(co, w, &b) != SCR_OK) {
        scr_error("cannot send a batch to rank %d; its URLs go back to the pool", w->rank);
        for (size_t i = 0; i < n; i++) {
            scr_politeness_done(&co->pol, items[i].host, 0, -1);
            if (items[i].kind == SCR_TASK_ROBOTS) {
                scr_politeness_robots_retry(&co->pol, items[i].host, 0);
                scr_lease_item_release(&items[i]);
            } else {
                scr_politeness_add(&co->pol, &items[i]);
            }
        }
        scr_buf_release(&b);
        goto out;
    }
    scr_buf_release(&b);
    if (!w->first_ms)
        w->first_ms = scr_now_ms();
    if (held == 0)
        scr_rate_busy(&w->rate, now_us);
    w->recall_dry = 0;
    for (size_t i = 0; i < n; i++) {
        if (push_inflight(w, &items[i], now_us) != SCR_OK) {
            scr_error("out of memory tracking URL %lld", (long long)items[i].url_id);
            scr_lease_item_release(&items[i]);
        }
    }
    w->has_request = 0;
out:
    free(items);
    free(tasks);
}

static void on_request(struct coord *co, struct wk *w, const char *data, size_t len)
{
    if (scr_msg_request_decode(&w->want_now, &w->want_later, data, len) != SCR_OK) {
        scr_error("rank %d sent a malformed REQUEST (%zu bytes)", w->rank, len);
        return;
    }
    w->has_request = 1;
    dispatch(co, w);
}

/* At the tail: asks a worker that holds more than it can finish before the others to give
 * back the tasks still waiting in its queue (one RECALL at a time per worker). */
static void maybe_recall(struct coord *co)
{
    if (!at_tail(co))
        return;
    balance_nodes(co);
    for (int i = 1; i < co->nw; i++) {
        struct wk *w = &co->w[i];
        struct scr_buf b;
        size_t n;

        if (w->state != W_ACTIVE || w->recall_out || w->recall_dry)
            continue;
        n = scr_balance_recall(co->bn, (size_t)co->nw, (size_t)i, co->pol.pooled,
                               (size_t)co->s->concurrency);
        if (n == 0)
            continue;
        scr_buf_init(&b);
        if (scr_msg_recall_encode(&b, (uint32_t)n) == SCR_OK && send_to(co, w, &b) == SCR_OK) {
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
static void on_return(struct coord *co, struct wk *w, const char *data, size_t len)
{
    struct scr_msg_return m;
    size_t back = 0;

    w->recall_out = 0;
    if (scr_msg_return_decode(&m, data, len) != SCR_OK) {
        scr_error("rank %d sent a malformed RETURN (%zu bytes); ignored", w->rank, len);
        goto out;
    }
    for (uint32_t k = 0; k < m.count; k++) {
        size_t i;
        for (i = 0; i < w->nfl; i++)
            if ((uint64_t)w->fl[i].it.url_id == m.ids[k])
                break;
        if (i == w->nfl) {
            scr_warn("rank %d gave back URL %llu, which it does not hold; ignored", w->rank,
                     (unsigned long long)m.ids[k]);
            continue;
        }
        requeue_one(co, &w->fl[i].it);
        w->fl[i] = w->fl[--w->nfl];
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

/* "[r1,r2,...]" from the records' JSON texts. */
static char *join_records(const struct scr_strvec *recs)
{
    struct scr_buf b;

    scr_buf_init(&b);
    scr_buf_putc(&b, '[');
    for (size_t i = 0; i < recs->n; i++) {
        if (i)
            scr_buf_putc(&b, ',');
        scr_buf_puts(&b, recs->v[i]);
    }
    scr_buf_putc(&b, ']');
    return scr_buf_detach(&b, NULL);
}

/* --- URLs that are not fetched: skipped, put back, failed without a fetch ------------- */

static struct scr_store_item *new_item(void)
{
    struct scr_store_item *it = calloc(1, sizeof(*it));
    if (it)
        scr_result_init(&it->res);
    return it;
}

/* Records a leased URL that will not be fetched now: state, reason, and for 'queued' when
 * it may be tried again.  Takes the item's strings. */
static void settle_unfetched(struct coord *co, struct scr_lease_item *li, const char *state,
                             const char *reason, int64_t retry_ms)
{
    struct scr_store_item *it = new_item();

    if (!it) {
        scr_lease_item_release(li);
        return;
    }
    it->res.url_id = (uint64_t)li->url_id;
    it->new_state = state;
    it->retry_delay_ms = retry_ms;
    it->no_fetch = 1;
    it->res.final_url = strdup("");
    it->res.content_type = strdup("");
    it->res.error = strdup(reason);
    it->res.etag = strdup("");
    it->res.last_modified = strdup("");
    it->res.content_hash = strdup("");
    it->records_json = strdup("[]");
    it->links = strdup("");
    it->link_hosts = strdup("");
    scr_lease_item_release(li);
    if (!it->res.final_url || !it->res.error || !it->records_json || !it->links ||
        !it->link_hosts || !it->res.content_type || !it->res.etag || !it->res.last_modified ||
        !it->res.content_hash) {
        scr_store_item_free(it);
        return;
    }
    if (strcmp(state, "skipped") == 0)
        co->skipped++;
    scr_store_submit(co->st, it);
    co->submitted++;
}

struct robots_filter {
    struct coord *co;
    const struct scr_robots *rules;
    const char *down_reason;   /* robots.txt unavailable: put back for a later run */
    const char *parked_reason; /* host parked: fail */
};

static int robots_keep(const struct scr_lease_item *it, void *ctx)
{
    struct robots_filter *f = ctx;
    if (f->down_reason || f->parked_reason)
        return 0;
    return it->kind != SCR_TASK_PAGE ||
           scr_robots_allowed_url(f->rules, f->co->s->user_agent, it->url);
}

static void robots_drop(struct scr_lease_item *it, void *ctx)
{
    struct robots_filter *f = ctx;
    struct scr_lease_item copy = *it;

    memset(it, 0, sizeof(*it));
    if (f->parked_reason)
        settle_unfetched(f->co, &copy, "queued", f->parked_reason, 3600000);
    else if (f->down_reason)
        settle_unfetched(f->co, &copy, "queued", f->down_reason, 3600000);
    else
        settle_unfetched(f->co, &copy, "skipped", "disallowed by robots.txt", 0);
}

/* Applies what is known of host (robots rules, unavailability, parking) to its pooled URLs. */
static void apply_host_rules(struct coord *co, const char *host)
{
    struct robots_filter f = {co, scr_politeness_robots(&co->pol, host),
                              scr_strmap_get(&co->robots_down, host),
                              scr_strmap_get(&co->parked, host)};
    scr_politeness_filter(&co->pol, host, robots_keep, robots_drop, &f);
}

/* Queues the sitemaps of a seed host once per run (--sitemaps). */
static void queue_sitemaps(struct coord *co, const char *host, const char *scheme)
{
    const struct scr_robots *r = scr_politeness_robots(&co->pol, host);
    struct scr_strvec cand;
    struct scr_store_item *it;
    char url[600];

    if (!co->s->sitemaps || !scr_strmap_get(&co->scope.hosts, host) ||
        scr_strmap_get(&co->sitemapped, host))
        return;
    scr_strmap_put(&co->sitemapped, host, co);
    scr_strvec_init(&cand);
    snprintf(url, sizeof(url), "%s://%s/sitemap.xml", scheme, host);
    scr_strvec_push(&cand, url);
    for (size_t i = 0; r && i < scr_robots_sitemap_count(r); i++) {
        char *norm = NULL, why[128];
        if (scr_url_normalize(NULL, scr_robots_sitemap(r, i), &co->uo.opts, &norm, NULL, why,
                              sizeof(why)) == SCR_OK)
            scr_strvec_push_owned(&cand, norm);
    }
    it = new_item();
    if (it) {
        it->op = SCR_STORE_SITEMAPS;
        it->new_state = "done";
        scr_scope_filter(&co->scope, -1, &cand, &it->sitemap_links, &it->sitemap_hosts);
        scr_store_submit(co->st, it);
        co->submitted++;
    }
    scr_strvec_release(&cand);
}

static void queue_sitemaps(struct coord *co, const char *host, const char *scheme);

static void robots_ready(struct coord *co, const char *host, const char *body, int status)
{
    struct scr_robots *r = NULL;
    double cd = -1;

    if (status >= 200 && status < 300 && body) {
        if (scr_robots_parse(body, strlen(body), &r) != SCR_OK)
            r = NULL;
        cd = scr_robots_crawl_delay(r, co->s->user_agent);
    }
    scr_politeness_robots_set(&co->pol, host, r, cd);
    apply_host_rules(co, host);
    queue_sitemaps(co, host, scr_politeness_scheme(&co->pol, host));
}

static void on_robots_result(struct coord *co, struct scr_lease_item *li,
                             struct scr_store_item *it, int64_t now_us)
{
    int status = it->res.http_status;
    int usable = it->res.curl_code == 0 && status >= 200 && status < 500;

    /* The address guard refused the host: there are no rules to wait for.  Its pages go out
     * and each is refused and recorded failed with the reason, not left queued. */
    if (it->res.curl_code == SCR_RESULT_REFUSED)
        usable = 1, status = 404;

    it->op = SCR_STORE_ROBOTS;
    it->robots_host = strdup(li->host);
    free(it->res.final_url);
    it->res.final_url = strdup(li->url);
    if (usable) {
        /* 2xx: the rules; 4xx: no rules, everything allowed (RFC 9309 2.3.1.3) */
        robots_ready(co, li->host, it->res.body, status);
    } else {
        intptr_t n = (intptr_t)scr_strmap_get(&co->robots_attempts, li->host) + 1;
        char reason[512];
        scr_strmap_put(&co->robots_attempts, li->host, (void *)n);
        snprintf(reason, sizeof(reason), "robots.txt unavailable (%s)",
                 it->res.error && *it->res.error ? it->res.error : "no answer");
        if (n < co->s->max_attempts) {
            /* fully disallowed for now: ask again after a backoff */
            scr_politeness_robots_retry(&co->pol, li->host,
                                        now_us + (int64_t)2000000 * (1 << (n - 1)));
        } else {
            scr_warn("%s: %s; its URLs wait for a later run", li->host, reason);
            if (!scr_strmap_get(&co->robots_down, li->host))
                scr_strmap_put(&co->robots_down, li->host, strdup(reason));
            scr_politeness_robots_set(&co->pol, li->host, NULL, -1);
            apply_host_rules(co, li->host);
        }
    }
    scr_store_submit(co->st, it);
    co->submitted++;
}

/* A 3xx answer: the target is queued (once, however many pages redirect to it) at the same
 * depth; a chain longer than --max-redirects fails. */
static void handle_redirect(struct coord *co, const struct scr_lease_item *li,
                            struct scr_store_item *it)
{
    char *target = NULL, why[256];
    struct scr_strvec one;

    if (scr_url_normalize(li->url, it->res.location, &co->uo.opts, &target, NULL, why,
                          sizeof(why))) {
        char msg[400];
        snprintf(msg, sizeof(msg), "redirect to an invalid URL: %s", why);
        free(it->res.error);
        it->res.error = strdup(msg);
        it->new_state = "failed";
        return;
    }
    free(it->res.final_url);
    it->res.final_url = target;
    if (li->hops + 1 > co->s->max_redirects) {
        char msg[128];
        snprintf(msg, sizeof(msg), "more than %d redirects in a row", co->s->max_redirects);
        free(it->res.error);
        it->res.error = strdup(msg);
        it->new_state = "failed";
        return;
    }
    scr_strvec_init(&one);
    scr_strvec_push(&one, target);
    free(it->links);
    free(it->link_hosts);
    scr_scope_filter(&co->scope, li->depth - 1, &one, &it->links, &it->link_hosts);
    it->link_depth_delta = 0;
    it->link_hops = li->hops + 1;
    scr_strvec_release(&one);
}

static int transient_for_host(const struct scr_result *r)
{
    return r->http_status >= 500 || r->http_status == 429 || r->http_status == 408 ||
           (r->curl_code != 0 && r->curl_code != SCR_RESULT_REFUSED && r->http_status == 0 &&
            !r->truncated);
}

static void on_result(struct coord *co, struct wk *w, const char *data, size_t len)
{
    struct scr_store_item *it = calloc(1, sizeof(*it));
    struct inflight fl;
    enum scr_outcome outcome;
    size_t i;
    int64_t now_us = scr_now_us();

    if (!it)
        return;
    if (scr_result_decode(&it->res, data, len) != SCR_OK) {
        scr_error("rank %d sent a malformed RESULT (%zu bytes); ignored", w->rank, len);
        scr_store_item_free(it);
        return;
    }
    for (i = 0; i < w->nfl; i++)
        if ((uint64_t)w->fl[i].it.url_id == it->res.url_id)
            break;
    if (i == w->nfl) {
        scr_warn("rank %d returned URL %llu, which it was not given; ignored", w->rank,
                 (unsigned long long)it->res.url_id);
        scr_store_item_free(it);
        return;
    }
    fl = w->fl[i];
    w->fl[i] = w->fl[--w->nfl];
    scr_rate_result(&w->rate, now_us, w->nfl,
                    now_us - fl.dispatched_us - (int64_t)it->res.wait_ms * 1000);
    scr_politeness_done(&co->pol, fl.it.host, now_us, (int64_t)it->res.elapsed_ms * 1000);
    it->worker_rank = w->rank;
    snprintf(it->worker_host, sizeof(it->worker_host), "%s", w->hello.host);
    if (fl.it.kind == SCR_TASK_ROBOTS) {
        on_robots_result(co, &fl.it, it, now_us);
        scr_lease_item_release(&fl.it);
        return;
    }
    outcome = scr_retry_classify(&it->res, fl.it.attempts, co->s->max_attempts,
                                 &it->retry_delay_ms);
    it->new_state = scr_retry_state(outcome);
    it->records_json = join_records(&it->res.records);
    it->max_urls = co->s->max_pages;
    it->link_depth_delta = 1;
    {
        int64_t ra_us = it->res.retry_after_s ? now_us + (int64_t)it->res.retry_after_s * 1000000
                                              : 0;
        int streak = scr_politeness_outcome(&co->pol, fl.it.host, !transient_for_host(&it->res),
                                            now_us, ra_us);
        if ((int64_t)it->res.retry_after_s * 1000 > it->retry_delay_ms &&
            outcome == SCR_OUTCOME_RETRY)
            it->retry_delay_ms = (int64_t)it->res.retry_after_s * 1000;
        if (streak >= SCR_PARK_STREAK && !scr_strmap_get(&co->parked, fl.it.host)) {
            char reason[600];
            snprintf(reason, sizeof(reason), "host parked after %d errors in a row (last: %s)",
                     streak, it->res.error && *it->res.error ? it->res.error : "?");
            scr_warn("%s: %s", fl.it.host, reason);
            scr_strmap_put(&co->parked, fl.it.host, strdup(reason));
            apply_host_rules(co, fl.it.host);
        }
    }
    if (outcome == SCR_OUTCOME_DONE && fl.it.kind == SCR_TASK_SITEMAP) {
        scr_scope_filter(&co->scope, fl.it.depth, &it->res.links, &it->links, &it->link_hosts);
        scr_scope_filter(&co->scope, -1, &it->res.sitemaps, &it->sitemap_links,
                         &it->sitemap_hosts);
    } else if (outcome == SCR_OUTCOME_DONE) {
        scr_scope_filter(&co->scope, fl.it.depth, &it->res.links, &it->links, &it->link_hosts);
    } else {
        it->links = strdup(""), it->link_hosts = strdup("");
    }
    if (it->res.http_status >= 300 && it->res.http_status < 400 && it->res.http_status != 304 &&
        it->res.location && *it->res.location)
        handle_redirect(co, &fl.it, it);
    w->pages++;
    w->bytes += it->res.bytes;
    w->records += it->res.records.n;
    w->last_ms = scr_now_ms();
    if (outcome != SCR_OUTCOME_DONE)
        w->errors++;
    if (outcome == SCR_OUTCOME_RETRY)
        co->retried++;
    if (!it->records_json || !it->links || !it->link_hosts) {
        scr_error("out of memory storing URL %llu", (unsigned long long)it->res.url_id);
        scr_store_item_free(it);
    } else {
        scr_store_submit(co->st, it);
        co->submitted++;
    }
    scr_lease_item_release(&fl.it);
}

static void on_bye(struct coord *co, struct wk *w, const char *data, size_t len)
{
    if (scr_msg_bye_decode(&w->bye, data, len) == SCR_OK)
        w->has_bye = 1;
    else
        scr_error("rank %d sent a malformed BYE", w->rank);
    if (w->nfl) {
        scr_warn("rank %d left with %zu URLs unanswered; they return to the queue", w->rank,
                 w->nfl);
        requeue_inflight(co, w);
    }
    w->state = W_DONE;
}

static void handle_messages(struct coord *co, int *got)
{
    char *data;
    size_t len;
    int peer;

    *got = 0;
    while (scr_comm_recv(co->c, &peer, &data, &len) == SCR_OK) {
        struct wk *w = peer > 0 && peer < co->nw ? &co->w[peer] : NULL;
        *got = 1;
        if (!w) {
            scr_error("message from unexpected rank %d", peer);
            free(data);
            continue;
        }
        w->last_heard_ms = scr_now_ms();
        switch (scr_wire_type(data, len)) {
        case SCR_MSG_HELLO:
            on_hello(co, w, data, len);
            break;
        case SCR_MSG_REQUEST:
            if (w->state == W_ACTIVE)
                on_request(co, w, data, len);
            break;
        case SCR_MSG_RESULT:
            on_result(co, w, data, len);
            break;
        case SCR_MSG_BYE:
            on_bye(co, w, data, len);
            break;
        case SCR_MSG_RETURN:
            on_return(co, w, data, len);
            break;
        case SCR_MSG_HEARTBEAT:
            break;
        default:
            scr_error("rank %d sent an unknown message (type %d, %zu bytes); ignored", w->rank,
                      scr_wire_type(data, len), len);
            break;
        }
        free(data);
    }
}

static void check_workers(struct coord *co)
{
    int64_t now = scr_now_ms();

    for (int i = 1; i < co->nw; i++) {
        struct wk *w = &co->w[i];
        if (w->state == W_DONE || w->state == W_LOST || w->state == W_REFUSED)
            continue;
        if (now - w->last_heard_ms > co->s->peer_timeout_ms) {
            scr_error("rank %d on host %s has been silent for %lld ms: declared lost; its %zu "
                      "URLs return to the queue",
                      w->rank, w->hello.host ? w->hello.host : "(unknown)",
                      (long long)(now - w->last_heard_ms), w->nfl);
            requeue_inflight(co, w);
            w->state = W_LOST;
            continue;
        }
        if (w->state != W_WAITING && now - w->last_sent_ms >= co->s->heartbeat_ms)
            send_simple(co, w, SCR_MSG_HEARTBEAT);
    }
}

/* --- leasing and the end of the crawl --------------------------------------------------- */

static int64_t inflight_total(const struct coord *co)
{
    int64_t n = 0;
    for (int i = 1; i < co->nw; i++)
        n += (int64_t)co->w[i].nfl;
    return n;
}

static int active_workers(const struct coord *co)
{
    int n = 0;
    for (int i = 1; i < co->nw; i++)
        n += co->w[i].state == W_ACTIVE || co->w[i].state == W_WAITING ||
             co->w[i].state == W_STOPPING;
    return n;
}

static void maybe_lease(struct coord *co)
{
    size_t target = (size_t)co->s->concurrency * 2 * (size_t)(co->nw > 1 ? co->nw - 1 : 1);
    int64_t now = scr_now_ms();

    if (target < 32)
        target = 32;
    if (target > 4096)
        target = 4096;
    if (co->lease_out || co->stopping || co->fatal_db)
        return;
    if (co->pol.pooled >= target / 2)
        return;
    /* after an empty lease, ask again when new results came in, when time passed, or when
     * the empty answer could not prove the frontier empty and the store has caught up */
    if (co->lease_empty && co->empty_seq == co->submitted && now < co->next_lease_ms &&
        (co->empty_clean || co->acked != co->submitted))
        return;
    if (scr_store_lease(co->st, (int)(target - co->pol.pooled),
                        scr_politeness_saturated(&co->pol)) == SCR_OK) {
        co->lease_out = 1;
        co->lease_seq = co->submitted;
        co->lease_clean = co->acked == co->submitted;
    }
}

/* Puts a leased URL in the pool, unless what is known of its host settles it already. */
static void add_leased(struct coord *co, struct scr_lease_item *li)
{
    const char *reason;

    if ((reason = scr_strmap_get(&co->parked, li->host)) != NULL) {
        settle_unfetched(co, li, "queued", reason, 3600000);
        return;
    }
    if ((reason = scr_strmap_get(&co->robots_down, li->host)) != NULL) {
        settle_unfetched(co, li, "queued", reason, 3600000);
        return;
    }
    if (li->kind == SCR_TASK_PAGE &&
        scr_politeness_robots_state(&co->pol, li->host) == SCR_ROBOTS_READY &&
        !scr_robots_allowed_url(scr_politeness_robots(&co->pol, li->host), co->s->user_agent,
                                li->url)) {
        settle_unfetched(co, li, "skipped", "disallowed by robots.txt", 0);
        return;
    }
    scr_politeness_add(&co->pol, li);
}

static void handle_store(struct coord *co, int *got)
{
    struct scr_store_events ev;
    struct scr_store_item *it;

    scr_store_poll(co->st, &ev);
    while ((it = ev.done) != NULL) {
        ev.done = it->next;
        *got = 1;
        co->acked++;
        if (it->op != SCR_STORE_RESULT) {
            if (!it->stored)
                scr_warn("could not save %s", it->op == SCR_STORE_ROBOTS ? "a robots.txt"
                                                                          : "sitemap URLs");
        } else if (it->stored && it->no_fetch) {
            if (strcmp(it->new_state, "failed") == 0)
                co->failed++;
            if (strcmp(it->new_state, "queued") != 0)
                co->settled++;
        } else if (it->stored) {
            co->stored++;
            if (strcmp(it->new_state, "queued") != 0)
                co->settled++;
            co->records += it->res.records.n;
            co->bytes += it->res.bytes;
            co->new_urls += (uint64_t)it->new_urls;
            co->scope.known += it->new_urls;
            if (strcmp(it->new_state, "failed") == 0)
                co->failed++;
            if (it->res.error && *it->res.error)
                co->errors++;
        } else if (!co->fatal_db) {
            co->lost_results++;
            scr_warn("the lease of URL %llu was taken over by another run; result discarded",
                     (unsigned long long)it->res.url_id);
        }
        scr_store_item_free(it);
    }
    if (ev.lease_done) {
        *got = 1;
        co->lease_out = 0;
        if (ev.nleased == 0) {
            co->lease_empty = 1;
            co->empty_seq = co->lease_seq;
            co->empty_clean = co->lease_clean;
            co->outlook = ev.outlook;
            co->next_lease_ms = scr_now_ms() +
                                (ev.outlook.queued_later && ev.outlook.next_due_ms < 500
                                     ? ev.outlook.next_due_ms + 1
                                     : 500);
        } else {
            co->lease_empty = 0;
        }
        for (size_t i = 0; i < ev.nleased; i++)
            add_leased(co, &ev.leased[i]);
        free(ev.leased);
        for (size_t i = 0; i < ev.nrobots; i++) {
            if (scr_politeness_robots_state(&co->pol, ev.robots[i].host) != SCR_ROBOTS_UNKNOWN)
                continue;
            robots_ready(co, ev.robots[i].host, ev.robots[i].body, ev.robots[i].status);
        }
        scr_robots_cache_free(ev.robots, ev.nrobots);
        {
            /* hosts without a cached robots.txt: fetch it first (or trust everything) */
            char *unknown = scr_politeness_robots_unknown(&co->pol), *h, *save = NULL;
            for (h = unknown ? strtok_r(unknown, "\n", &save) : NULL; h;
                 h = strtok_r(NULL, "\n", &save)) {
                if (co->s->ignore_robots)
                    robots_ready(co, h, NULL, 404);
            }
            free(unknown);
        }
    }
    if (ev.fatal && !co->fatal_db) {
        co->fatal_db = 1;
        snprintf(co->fatal_msg, sizeof(co->fatal_msg), "%s", ev.error);
    }
}

static int crawl_finished(const struct coord *co)
{
    return !co->lease_out && co->lease_empty && co->empty_clean && co->empty_seq == co->submitted &&
           co->acked == co->submitted && co->pol.pooled == 0 && inflight_total(co) == 0 &&
           co->outlook.queued_ready == 0 && co->outlook.leased_other == 0 &&
           (co->outlook.queued_later == 0 ||
            co->outlook.next_due_ms > co->s->max_retry_wait_ms);
}

static void begin_stop(struct coord *co, const char *why)
{
    if (co->stopping)
        return;
    scr_info("%s: stopping the workers", why);
    co->stopping = 1;
    co->stop_ms = scr_now_ms();
    for (int i = 1; i < co->nw; i++) {
        struct wk *w = &co->w[i];
        if (w->state == W_ACTIVE) {
            send_simple(co, w, SCR_MSG_STOP);
            w->state = W_STOPPING;
        }
    }
}

static int all_workers_gone(const struct coord *co)
{
    for (int i = 1; i < co->nw; i++)
        if (co->w[i].state == W_ACTIVE || co->w[i].state == W_STOPPING ||
            co->w[i].state == W_WAITING)
            return 0;
    return 1;
}

/* --- progress and summary --------------------------------------------------------------- */

static void fmt_secs(char *buf, size_t len, double secs)
{
    if (secs < 0 || secs > 1e7)
        snprintf(buf, len, "?");
    else if (secs < 60)
        snprintf(buf, len, "%.0fs", secs);
    else if (secs < 3600)
        snprintf(buf, len, "%dm%02ds", (int)secs / 60, (int)secs % 60);
    else
        snprintf(buf, len, "%dh%02dm", (int)secs / 3600, (int)secs % 3600 / 60);
}

/* On a terminal: a live status line on stderr, redrawn every second.  Otherwise (cron,
 * pipes): one plain log line every --progress-interval. */
static void progress(struct coord *co, int final)
{
    int64_t now = scr_now_ms();
    double secs = (double)(now - co->start_ms) / 1000.0;
    double rate = secs > 0 ? (double)co->stored / secs : 0.0;
    int64_t left = co->scope.known - co->settled_at_start - co->settled;
    char el[16], eta[16];

    if (co->s->quiet)
        return;
    if (left < 0)
        left = 0;
    fmt_secs(el, sizeof(el), secs);
    fmt_secs(eta, sizeof(eta), rate > 0 ? (double)left / rate : -1);
    if (co->tty) {
        if (!final && now - co->last_progress_ms < 1000)
            return;
        co->last_progress_ms = now;
        fprintf(stderr, "\r\033[K%llu pages, %lld left, %.1f pages/s, %llu errors, %.1f MB, "
                        "%d workers, %s elapsed, ~%s to go%s",
                (unsigned long long)co->stored, (long long)left, rate,
                (unsigned long long)co->errors, (double)co->bytes / 1e6, active_workers(co), el,
                eta, final ? "\n" : "");
        fflush(stderr);
        return;
    }
    if (final || now - co->last_progress_ms < co->s->progress_interval_ms)
        return;
    co->last_progress_ms = now;
    scr_info("progress: %llu pages, %lld left, %.1f pages/s, %llu errors, %llu bytes, "
             "%d workers, %s elapsed, ~%s to go",
             (unsigned long long)co->stored, (long long)left, rate,
             (unsigned long long)co->errors, (unsigned long long)co->bytes, active_workers(co),
             el, eta);
}

static json_t *nodes_json(const struct coord *co)
{
    json_t *a = json_array();

    for (int i = 1; i < co->nw; i++) {
        const struct wk *w = &co->w[i];
        json_array_append_new(
            a, json_pack("{s:i, s:s, s:s, s:s, s:i, s:s, s:s, s:s}", "rank", w->rank, "host",
                         w->hello.host ? w->hello.host : "", "arch",
                         w->hello.arch ? w->hello.arch : "", "os", w->hello.os ? w->hello.os : "",
                         "cores", (int)w->hello.cores, "version",
                         w->hello.version ? w->hello.version : "", "build_id",
                         w->hello.build_id ? w->hello.build_id : "", "state",
                         wstate_names[w->state]));
    }
    return a;
}

static double worker_rate(const struct wk *w, double run_secs)
{
    double secs = w->has_bye ? (double)(w->bye.busy_ms + w->bye.idle_ms) / 1000.0 : run_secs;
    if (secs <= 0)
        secs = run_secs;
    return secs > 0 ? (double)w->pages / secs : 0.0;
}

static json_t *summary_json(const struct coord *co, double secs)
{
    json_t *workers = json_array();
    int64_t cpu_us = scr_cpu_us() - co->start_cpu_us;

    for (int i = 1; i < co->nw; i++) {
        const struct wk *w = &co->w[i];
        json_array_append_new(
            workers, json_pack("{s:i, s:s, s:I, s:I, s:I, s:f, s:s}", "rank", w->rank, "host",
                               w->hello.host ? w->hello.host : "", "pages", (json_int_t)w->pages,
                               "errors", (json_int_t)w->errors, "bytes", (json_int_t)w->bytes,
                               "pages_per_s", worker_rate(w, secs), "state",
                               wstate_names[w->state]));
    }
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:o}", "pages",
                     (json_int_t)co->stored, "records", (json_int_t)co->records, "errors",
                     (json_int_t)co->errors, "failed", (json_int_t)co->failed, "retried",
                     (json_int_t)co->retried, "bytes", (json_int_t)co->bytes, "new_urls",
                     (json_int_t)co->new_urls, "seconds", secs, "pages_per_s",
                     secs > 0 ? (double)co->stored / secs : 0.0, "coordinator_cpu_ms_per_page",
                     co->stored ? (double)cpu_us / 1000.0 / (double)co->stored : 0.0,
                     "workers", workers);
}

static void print_summary(const struct coord *co, const char *status, double secs)
{
    printf("scrape: run %lld of job '%s' %s in %.1f s\n", (long long)co->run_id, co->s->job,
           status, secs);
    printf("  pages %llu, records %llu, errors %llu (failed %llu, retried %llu), bytes %llu, "
           "%.1f pages/s\n",
           (unsigned long long)co->stored, (unsigned long long)co->records,
           (unsigned long long)co->errors, (unsigned long long)co->failed,
           (unsigned long long)co->retried, (unsigned long long)co->bytes,
           secs > 0 ? (double)co->stored / secs : 0.0);
    {
        char d[256];
        scr_scope_drops_format(&co->scope.drops, d, sizeof(d));
        printf("  skipped %llu; links dropped: %s\n", (unsigned long long)co->skipped, d);
        if (co->outlook.queued_later || co->outlook.queued_ready)
            printf("  %lld URLs wait for a later run (retries or hosts put off)\n",
                   (long long)(co->outlook.queued_later + co->outlook.queued_ready));
    }
    printf("  %-5s %-24s %8s %9s %7s  %s\n", "rank", "host", "pages", "pages/s", "errors",
           "state");
    for (int i = 1; i < co->nw; i++) {
        const struct wk *w = &co->w[i];
        printf("  %-5d %-24s %8llu %9.1f %7llu  %s\n", w->rank,
               w->hello.host ? w->hello.host : "?", (unsigned long long)w->pages,
               worker_rate(w, secs), (unsigned long long)w->errors, wstate_names[w->state]);
    }
    fflush(stdout);
}

static void store_workers(struct coord *co, PGconn *db, double secs)
{
    char err[512];

    for (int i = 1; i < co->nw; i++) {
        const struct wk *w = &co->w[i];
        char run[24], rank[24], cores[24], pages[24], bytes[24], errors[24], records[24],
            busy[24], idle[24], cpu[24], rss[24], rate[32];
        const char *p[18] = {run, rank, w->hello.host ? w->hello.host : "?", w->hello.arch,
                             w->hello.os, cores, w->hello.version, w->hello.build_id,
                             wstate_names[w->state], pages, bytes, errors, records,
                             w->has_bye ? busy : NULL, w->has_bye ? idle : NULL,
                             w->has_bye ? cpu : NULL, w->has_bye ? rss : NULL, rate};
        snprintf(run, sizeof(run), "%lld", (long long)co->run_id);
        snprintf(rank, sizeof(rank), "%d", w->rank);
        snprintf(cores, sizeof(cores), "%u", w->hello.cores);
        snprintf(pages, sizeof(pages), "%llu", (unsigned long long)w->pages);
        snprintf(bytes, sizeof(bytes), "%llu", (unsigned long long)w->bytes);
        snprintf(errors, sizeof(errors), "%llu", (unsigned long long)w->errors);
        snprintf(records, sizeof(records), "%llu", (unsigned long long)w->records);
        snprintf(busy, sizeof(busy), "%llu", (unsigned long long)w->bye.busy_ms);
        snprintf(idle, sizeof(idle), "%llu", (unsigned long long)w->bye.idle_ms);
        snprintf(cpu, sizeof(cpu), "%llu", (unsigned long long)(w->bye.cpu_us / 1000));
        snprintf(rss, sizeof(rss), "%llu", (unsigned long long)w->bye.max_rss_kb);
        snprintf(rate, sizeof(rate), "%.3f", worker_rate(w, secs));
        if (scr_db_command(db, "storing the per-worker figures",
                           "INSERT INTO run_workers (run_id, rank, host, arch, os, cores, version,"
                           " build_id, state, pages, bytes, errors, records, busy_ms, idle_ms,"
                           " cpu_ms, max_rss_kb, pages_per_s) VALUES ($1::bigint, $2::int, $3,"
                           " $4, $5, $6::int, $7, $8, $9, $10::bigint, $11::bigint, $12::bigint,"
                           " $13::bigint, $14::bigint, $15::bigint, $16::bigint, $17::bigint,"
                           " $18::float8) ON CONFLICT (run_id, rank) DO NOTHING",
                           18, p, err, sizeof(err)))
            scr_warn("%s", err);
    }
}

/* --- set-up ---------------------------------------------------------------------------- */

struct seed_batch {
    PGconn *db;
    int64_t job_id;
    struct scr_buf urls, hosts;
    size_t n;
    int64_t added;
    char *err;
    size_t errlen;
};

static int seed_flush(struct seed_batch *sb)
{
    int64_t added = 0;
    int rc;

    if (sb->n == 0)
        return SCR_OK;
    rc = scr_frontier_seed(sb->db, sb->job_id, sb->urls.data, sb->hosts.data, &added, sb->err,
                           sb->errlen);
    sb->added += added;
    scr_buf_reset(&sb->urls);
    scr_buf_reset(&sb->hosts);
    sb->n = 0;
    return rc;
}

static int seed_one(const char *url, const char *host, void *ctx)
{
    struct seed_batch *sb = ctx;
    char auth[512];

    (void)host;
    if (scr_url_authority(url, auth, sizeof(auth)) != SCR_OK)
        return SCR_OK;
    if (sb->n) {
        scr_buf_putc(&sb->urls, '\n');
        scr_buf_putc(&sb->hosts, '\n');
    }
    scr_buf_puts(&sb->urls, url);
    scr_buf_puts(&sb->hosts, auth);
    if (++sb->n >= 5000)
        return seed_flush(sb);
    return SCR_OK;
}

static char *settings_json(const struct scr_settings *s)
{
    size_t n;
    const struct scr_setting_def *defs = scr_settings_table(&n);
    json_t *o = json_object();
    char val[1024], *txt;

    for (size_t i = 0; i < n; i++) {
        if (defs[i].secret)
            continue;
        scr_settings_format(s, &defs[i], val, sizeof(val));
        json_object_set_new(o, defs[i].name, json_string(val));
    }
    txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return txt;
}

/* Checks what can be checked before touching the database: seeds and rules.  Exit code 2 on
 * bad input, with nothing written. */
static int preflight(struct coord *co, int64_t *nseeds)
{
    int64_t valid = 0, invalid = 0;
    char err[1024];
    struct scr_extractor *x = NULL;
    struct scr_parser_env env;

    if (scr_urlopts_init(&co->uo, co->s, err, sizeof(err)) ||
        scr_scope_check(co->s, err, sizeof(err))) {
        scr_error("%s", err);
        return SCR_EXIT_USAGE;
    }
    if (co->s->seed) {
        if (scr_seeds_read(co->s->seed, &co->uo.opts, 1, NULL, NULL, &valid, &invalid, err,
                           sizeof(err))) {
            scr_error("%s", err);
            return SCR_EXIT_USAGE;
        }
        if (valid == 0) {
            scr_error("%s: no valid seed URL (%lld invalid lines)", co->s->seed,
                      (long long)invalid);
            return SCR_EXIT_USAGE;
        }
    }
    *nseeds = valid;
    if (co->s->rules) {
        co->rules_text = scr_file_read(co->s->rules, (size_t)16 << 20, SCR_FILE_TEXT, NULL, err,
                                       sizeof(err));
        if (!co->rules_text) {
            scr_error("%s", err);
            return SCR_EXIT_USAGE;
        }
    }
    memset(&env, 0, sizeof(env));
    env.rules_text = co->rules_text;
    env.rules_name = co->s->rules;
    env.text_max = (size_t)co->s->text_max;
    env.max_links = (size_t)co->s->max_links;
    if (scr_extractor_new(&x, co->s->parsers, &env, err, sizeof(err)) != SCR_OK) {
        scr_error("%s", err);
        return SCR_EXIT_USAGE;
    }
    scr_extractor_free(x);
    return SCR_EXIT_OK;
}

static int setup_db(struct coord *co, const char *command, PGconn **dbp)
{
    const char *conninfo = scr_db_conninfo(co->s->db);
    struct seed_batch sb;
    char err[1024], host[256] = "?", *sj = NULL;
    int64_t valid, invalid, reclaimed = 0;
    PGconn *db = NULL;
    int rc = SCR_EXIT_DB;

    memset(&sb, 0, sizeof(sb));
    scr_buf_init(&sb.urls);
    scr_buf_init(&sb.hosts);
    if (scr_db_connect(&db, conninfo, co->s->db_retry_ms > 10000 ? 10000 : co->s->db_retry_ms,
                       err, sizeof(err))) {
        scr_error("%s", err);
        goto out;
    }
    if (scr_db_ensure_schema(db, 0, err, sizeof(err)) ||
        scr_frontier_job(db, co->s->job, &co->job_id, err, sizeof(err))) {
        scr_error("%s", err);
        goto out;
    }
    gethostname(host, sizeof(host) - 1);
    sj = settings_json(co->s);
    rc = scr_frontier_run_begin(db, co->job_id, command, sj ? sj : "{}", co->s->insecure, host,
                                co->s->if_idle, &co->run_id, err, sizeof(err));
    if (rc == SCR_EBUSY) {
        scr_warn("--if-idle: %s", err);
        rc = SCR_EXIT_BUSY;
        goto out;
    }
    rc = SCR_EXIT_DB;
    if (co->run_id == 0 || scr_frontier_reclaim(db, co->run_id, &reclaimed, err, sizeof(err))) {
        scr_error("%s", err);
        goto out;
    }
    if (co->s->insecure)
        scr_warn("--insecure: TLS certificates are NOT verified in this run (recorded on run %lld)",
                 (long long)co->run_id);
    if (reclaimed)
        scr_info("%lld URLs leased by runs that died are back in the queue",
                 (long long)reclaimed);
    if (co->s->seed) {
        sb.db = db;
        sb.job_id = co->job_id;
        sb.err = err;
        sb.errlen = sizeof(err);
        if (scr_seeds_read(co->s->seed, &co->uo.opts, 0, seed_one, &sb, &valid, &invalid, err,
                           sizeof(err)) ||
            seed_flush(&sb)) {
            scr_error("%s", err);
            goto out;
        }
        scr_info("seeds: %lld valid, %lld new to job '%s'", (long long)valid,
                 (long long)sb.added, co->s->job);
    }
    if (co->s->recrawl_after_ms > 0) {
        int64_t n = 0;
        if (scr_frontier_recrawl(db, co->job_id, co->s->recrawl_after_ms, &n, err, sizeof(err))) {
            scr_error("%s", err);
            goto out;
        }
        scr_info("--recrawl-after: %lld pages queued again", (long long)n);
    }
    if (scr_scope_load(&co->scope, db, co->job_id, err, sizeof(err))) {
        scr_error("%s", err);
        goto out;
    }
    {
        char job[24];
        const char *p[1] = {job};
        PGresult *r;
        snprintf(job, sizeof(job), "%lld", (long long)co->job_id);
        r = scr_db_exec(db, "counting settled URLs",
                        "SELECT count(*) FROM urls WHERE job_id = $1::bigint"
                        " AND state IN ('done', 'failed', 'skipped')",
                        1, p, err, sizeof(err));
        if (r) {
            co->settled_at_start = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
            PQclear(r);
        }
    }
    if (co->scope.hosts.count == 0) {
        scr_error("job '%s' has no seed URLs: give --seed FILE", co->s->job);
        rc = SCR_EXIT_USAGE;
        scr_frontier_run_end(db, co->run_id, "failed", rc, "{}", "[]", err, sizeof(err));
        goto out;
    }
    scr_info("run %lld of job '%s' started (%d workers)", (long long)co->run_id, co->s->job,
             co->nw - 1);
    *dbp = db;
    db = NULL;
    rc = SCR_EXIT_OK;
out:
    if (rc == SCR_EXIT_DB && scr_coordinator_stop) /* a database wait ended by a signal */
        rc = SCR_EXIT_INTERRUPTED;
    free(sj);
    scr_buf_release(&sb.urls);
    scr_buf_release(&sb.hosts);
    PQfinish(db);
    return rc;
}

/* --- the loop and the end ------------------------------------------------------------- */

static void run_loop(struct coord *co)
{
    struct scr_backoff bo;
    int64_t interrupt_ms = 0;

    /* 50 us growing to 5 ms: answers within microseconds under load, ~0.5% CPU when idle */
    scr_backoff_init(&bo, 50, 5000);
    for (;;) {
        struct pollfd pfd = {.fd = scr_store_fd(co->st), .events = POLLIN, .revents = 0};
        int got = 0, got2 = 0;
        int64_t timeout_us = 250000, t;

        handle_store(co, &got);
        handle_messages(co, &got2);
        got |= got2;
        check_workers(co);
        if (scr_coordinator_stop && !co->interrupted) {
            co->interrupted = 1;
            interrupt_ms = scr_now_ms();
            begin_stop(co, "interrupted");
        }
        if (scr_coordinator_stop > 1 || (co->interrupted && scr_now_ms() - interrupt_ms > 30000))
            break;
        if (co->fatal_db && !co->stopping) {
            scr_error("database lost: %s", co->fatal_msg);
            begin_stop(co, "the database is gone");
        }
        for (int i = 1; i < co->nw; i++)
            dispatch(co, &co->w[i]);
        maybe_recall(co);
        maybe_lease(co);
        if (!co->stopping && crawl_finished(co))
            begin_stop(co, "the crawl is complete");
        if (!co->stopping && active_workers(co) == 0) {
            scr_error("no worker is left: the crawl cannot go on (see the workers' errors)");
            co->no_workers = 1;
            begin_stop(co, "no workers");
        }
        if (co->stopping && all_workers_gone(co) && (co->acked == co->submitted || co->fatal_db))
            break;
        progress(co, 0);
        t = scr_politeness_next_us(&co->pol, scr_now_us());
        if (t >= 0 && t < timeout_us)
            timeout_us = t + 100;
        if (got)
            scr_backoff_reset(&bo);
        scr_comm_wait(co->c, &pfd, 1, timeout_us, &bo);
    }
}

static const char *finish_status(struct coord *co, int *exit_code, int lost)
{
    if (co->fatal_db) {
        *exit_code = SCR_EXIT_DB;
        return "failed";
    }
    if (co->interrupted) {
        *exit_code = SCR_EXIT_INTERRUPTED;
        return "interrupted";
    }
    if (lost || co->no_workers) {
        *exit_code = SCR_EXIT_CLUSTER;
        return lost ? "lost" : "failed";
    }
    if (co->failed) {
        *exit_code = SCR_EXIT_PARTIAL;
        return "partial";
    }
    *exit_code = SCR_EXIT_OK;
    return "done";
}

static void finish(struct coord *co, struct scr_run_outcome *out)
{
    if (co->tty)
        progress(co, 1);
    double secs = (double)(scr_now_ms() - co->start_ms) / 1000.0;
    PGconn *db = scr_store_stop(co->st);
    struct scr_lease_item *rest = NULL;
    size_t nrest = scr_politeness_drain(&co->pol, &rest);
    const char *status;
    json_t *sum, *nodes;
    char *sum_txt, *nodes_txt, err[1024];
    int lost = 0;

    co->st = NULL;
    for (size_t i = 0; i < nrest; i++)
        scr_lease_item_release(&rest[i]);
    free(rest);
    for (int i = 1; i < co->nw; i++) {
        struct wk *w = &co->w[i];
        if (w->state == W_ACTIVE || w->state == W_WAITING || w->state == W_STOPPING) {
            /* stopped at once (second signal): the rank cannot join MPI_Finalize */
            if (w->state == W_ACTIVE)
                send_simple(co, w, SCR_MSG_STOP);
            out->unfinished_workers++;
        }
        lost += w->state == W_LOST || w->state == W_REFUSED;
    }
    out->lost_workers = lost;
    {
        uint64_t back = 0;
        for (int i = 1; i < co->nw; i++)
            back += co->w[i].returned;
        if (back)
            scr_info("end of the frontier: %llu unstarted tasks were taken back from slower "
                     "workers and handed to faster ones", (unsigned long long)back);
    }
    status = finish_status(co, &out->exit_code, lost);
    sum = summary_json(co, secs);
    nodes = nodes_json(co);
    sum_txt = json_dumps(sum, JSON_COMPACT);
    nodes_txt = json_dumps(nodes, JSON_COMPACT);
    if (!db) {
        /* reconnect once to close the run; if that fails the next run marks it died */
        scr_db_connect(&db, scr_db_conninfo(co->s->db), 0, err, sizeof(err));
    }
    if (db) {
        if (scr_frontier_release(db, co->run_id, err, sizeof(err)) ||
            scr_frontier_run_end(db, co->run_id, status, out->exit_code,
                                 sum_txt ? sum_txt : "{}", nodes_txt ? nodes_txt : "[]", err,
                                 sizeof(err)))
            scr_error("%s", err);
        store_workers(co, db, secs);
        PQfinish(db);
    }
    print_summary(co, status, secs);
    free(sum_txt);
    free(nodes_txt);
    json_decref(sum);
    json_decref(nodes);
}

void scr_coordinator_run(struct scr_comm *c, struct scr_settings *s, const char *command,
                         struct scr_run_outcome *out)
{
    struct coord co;
    PGconn *db = NULL;
    int64_t nseeds = 0;
    int rc;

    memset(&co, 0, sizeof(co));
    memset(out, 0, sizeof(*out));
    co.c = c;
    co.s = s;
    co.nw = c->size;
    co.start_ms = co.last_progress_ms = scr_now_ms();
    co.tty = isatty(STDERR_FILENO);
    co.start_cpu_us = scr_cpu_us();
    scr_politeness_init(&co.pol, s->host_concurrency, s->delay_ms, s->max_crawl_delay_ms);
    scr_strmap_init(&co.robots_attempts);
    scr_strmap_init(&co.robots_down);
    scr_strmap_init(&co.parked);
    scr_strmap_init(&co.sitemapped);
    if (scr_scope_init(&co.scope, s) == SCR_ENOMEM)
        co.w = NULL;
    else
        co.w = calloc((size_t)co.nw, sizeof(*co.w));
    co.bn = calloc((size_t)co.nw, sizeof(*co.bn));
    if (!co.w || !co.bn) {
        out->exit_code = SCR_EXIT_FAILURE;
        goto out;
    }
    for (int i = 0; i < co.nw; i++) {
        co.w[i].rank = i;
        co.w[i].last_heard_ms = co.w[i].last_sent_ms = scr_now_ms();
    }
    rc = preflight(&co, &nseeds);
    if (rc == SCR_EXIT_OK)
        rc = setup_db(&co, command, &db);
    if (rc != SCR_EXIT_OK) {
        /* Workers are waiting for WELCOME: refuse them so they exit. */
        for (int i = 1; i < co.nw; i++)
            send_welcome(&co, &co.w[i], 0, "the coordinator could not start the run");
        out->exit_code = rc;
        goto out;
    }
    rc = scr_store_start(&co.st, db, scr_db_conninfo(s->db), co.job_id, co.run_id, s);
    if (rc) {
        PQfinish(db);
        out->exit_code = rc == SCR_EDB ? SCR_EXIT_DB : SCR_EXIT_FAILURE;
        goto out;
    }
    run_loop(&co);
    finish(&co, out);
out:
    if (co.st)
        PQfinish(scr_store_stop(co.st));
    for (int i = 0; co.w && i < co.nw; i++) {
        for (size_t j = 0; j < co.w[i].nfl; j++)
            scr_lease_item_release(&co.w[i].fl[j].it);
        free(co.w[i].fl);
        scr_msg_hello_release(&co.w[i].hello);
    }
    free(co.w);
    free(co.bn);
    free(co.rules_text);
    scr_urlopts_release(&co.uo);
    scr_politeness_release(&co.pol);
    scr_scope_release(&co.scope);
    for (size_t i = 0; i < co.robots_down.cap; i++)
        if (co.robots_down.slots[i].key)
            free(co.robots_down.slots[i].value);
    for (size_t i = 0; i < co.parked.cap; i++)
        if (co.parked.slots[i].key)
            free(co.parked.slots[i].value);
    scr_strmap_release(&co.robots_attempts);
    scr_strmap_release(&co.robots_down);
    scr_strmap_release(&co.parked);
    scr_strmap_release(&co.sitemapped);
}
