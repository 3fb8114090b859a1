/* worker.c - the worker loop: the "pi controller" loop of the classic MPI examples.
 *
 *   HELLO -> WELCOME(settings, rules) -> { REQUEST -> BATCH -> fetch/parse -> RESULT ... }
 *   -> STOP -> BYE
 *
 * Under `scrape reextract` the answer to a REQUEST is PAGES instead of BATCH: stored pages,
 * each queued and parsed as a page task whose transfer just ended (on_pages), so the same
 * parse path, budget and RESULT apply and no request is made.
 *
 * The worker keeps --concurrency transfers running and a prefetch queue of up to as many
 * again, and asks for more before it runs dry, so a fast node simply takes more batches.  The
 * coordinator decides which tasks may wait in the queue: URLs of hosts with a politeness
 * delay are only ever sent for free transfer slots and start the moment they arrive.  At the
 * end of the frontier the coordinator may RECALL queued tasks for a faster worker: the worker
 * gives back only tasks it has not started, so no URL is ever fetched twice.
 *
 * It never blocks inside MPI: it waits in curl_multi_poll() with a short timeout that grows
 * while nothing happens, probing for messages in between.  Pages are parsed by the parse
 * pool's threads (worker/parsepool.h), never in this loop, so a page that takes seconds to
 * parse does not stop the heartbeats; the loop polls the pool's eventfd beside libcurl's
 * sockets and sends each RESULT when its parse is done.  A page being parsed holds a transfer
 * slot until then, so bodies in memory stay within --concurrency x --max-body.
 *
 * Queue accounting: the prefetch queue is the FIFO queue[qhead, qtail), qhead <= qtail <=
 * qcap; a task is in the queue, in the fetcher, in the parse pool, or answered, never two of
 * these.  Transfers running plus pages being parsed never exceed --concurrency.  Bookkeeping allocations abort on
 * out-of-memory (common/alloc.h), so every RESULT field is the real value, never "" standing
 * in for a failed copy.
 */
#include "worker/worker.h"

#include <assert.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/host.h"
#include "common/log.h"
#include "common/settings.h"
#include "common/sha256.h"
#include "common/url.h"
#include "common/urlopts.h"
#include "common/wire.h"
#include "parsers/extract.h"
#include "worker/fetch.h"
#include "worker/parsepool.h"
#include "worker/sitemap.h"

struct queued_task {
    struct scr_task task;
    struct scr_fetch_done *page; /* a stored page of PAGES (reextract): parsed, not fetched */
    int64_t queued_us;
};

struct worker {
    struct scr_comm *c;
    struct scr_settings s;
    struct scr_parsepool *pool; /* parses pages beside this loop (worker/parsepool.h) */
    struct scr_fetcher *f;
    char *rules_name, *rules_text;
    struct queued_task *queue; /* FIFO [qhead, qtail) of capacity qcap */
    size_t qhead, qtail, qcap;
    int request_out;           /* a REQUEST is waiting for its BATCH */
    int stopping;
    int64_t last_sent_ms, last_heard_ms;
    int64_t last_watch_ms;        /* the parse watchdog's last look */
    struct scr_msg_bye stats;
    struct scr_urlopts uo;        /* how outlinks are normalized (from the settings) */
};


/* --max-body as a size_t: up to 4 GiB is allowed, which is 0 after a cast on a 32-bit node;
 * there the cap is the address space instead. */
static size_t body_cap_size(int64_t v)
{
    if (v <= 0)
        return 0;
    return (uint64_t)v > (uint64_t)SIZE_MAX ? SIZE_MAX : (size_t)v;
}

static int send_buf(struct worker *w, struct scr_buf *b)
{
    w->last_sent_ms = scr_now_ms();
    return scr_comm_send_buf(w->c, 0, b);
}

/* How long a worker waits for WELCOME, or for a HEARTBEAT that says rank 0 is still
 * preparing the run (seeding): the longest --db-retry (24 h) and 10 minutes more, since rank 0
 * may wait that long for PostgreSQL before it answers; SCRAPE_TEST_WELCOME_WAIT_MS (tests
 * only) sets another. */
#define WELCOME_WAIT_MS (INT64_C(86400000) + 600000)
static int64_t welcome_wait_ms(void)
{
    const char *v = getenv("SCRAPE_TEST_WELCOME_WAIT_MS");
    long long ms = v && *v ? strtoll(v, NULL, 10) : 0;
    return ms > 0 ? ms : WELCOME_WAIT_MS;
}

/* Waits for WELCOME after HELLO; settings and rules come from rank 0, never from files.
 * HEARTBEATs before it (rank 0 seeding) restart the wait. */
static int handshake(struct worker *w)
{
    struct scr_msg_hello hello;
    struct scr_msg_welcome wel;
    struct scr_backoff bo;
    struct scr_buf b;
    int64_t wait_ms = welcome_wait_ms(), deadline = scr_now_ms() + wait_ms;
    int rc, peer;
    char *data = NULL, err[256];
    size_t len;

    scr_buf_init(&b);
    memset(&wel, 0, sizeof(wel));
    rc = scr_host_describe(&hello);
    if (rc)
        return rc;
    rc = scr_msg_hello_encode(&b, &hello);
    scr_msg_hello_release(&hello);
    if (rc || (rc = send_buf(w, &b)))
        goto out;
    scr_backoff_init(&bo, 100, 20000);
    for (;;) {
        rc = scr_comm_recv(w->c, &peer, &data, &len);
        if (rc == SCR_OK && scr_wire_type(data, len) == SCR_MSG_HEARTBEAT) {
            /* rank 0 is still preparing the run (seeding): wait again */
            free(data);
            data = NULL;
            deadline = scr_now_ms() + wait_ms;
            continue;
        }
        if (rc == SCR_OK)
            break;
        if (rc != SCR_EAGAIN)
            goto out;
        if (scr_now_ms() > deadline) {
            scr_error("no WELCOME from the coordinator within %.1f s of its last word",
                      (double)wait_ms / 1000.0);
            rc = SCR_ELOST;
            goto out;
        }
        scr_comm_wait(w->c, NULL, 0, 200000, &bo);
    }
    rc = scr_msg_welcome_decode(&wel, data, len);
    if (rc) {
        scr_error("malformed WELCOME from rank %d (%zu bytes): %s", peer, len, scr_strerror(rc));
        goto out;
    }
    if (!wel.accepted && wel.not_started) {
        /* a normal start-up stop: rank 0 said why once; workers stay quiet */
        scr_debug("the run did not start: %s", wel.reason);
        rc = SCR_ESTOPPED;
        goto out;
    }
    if (!wel.accepted) {
        scr_error("the coordinator refused this worker: %s", wel.reason);
        rc = SCR_EVERSION;
        goto out;
    }
    for (size_t i = 0; i < wel.names.n; i++) {
        if (scr_settings_set(&w->s, wel.names.v[i], wel.values.v[i], err, sizeof(err)))
            scr_warn("setting from the coordinator ignored: %s", err);
    }
    if (scr_comm_fd(w->c) < 0 && w->s.log_level && scr_log_level_parse(w->s.log_level) >= 0)
        scr_log_set_level((enum scr_log_level)scr_log_level_parse(w->s.log_level));
    w->rules_name = wel.rules_name;
    w->rules_text = wel.rules_text;
    wel.rules_name = wel.rules_text = NULL;
    w->last_heard_ms = scr_now_ms();
out:
    free(data);
    scr_msg_welcome_release(&wel);
    scr_buf_release(&b);
    return rc;
}

static size_t queue_len(const struct worker *w)
{
    assert(w->qhead <= w->qtail && w->qtail <= w->qcap);
    return w->qtail - w->qhead;
}

/* Slots in use: transfers running and fetched pages still being parsed. */
static int busy(const struct worker *w)
{
    return scr_fetcher_active(w->f) + (int)scr_parsepool_pending(w->pool);
}

/* Appends t to the prefetch queue, taking ownership of what it holds (t is zeroed). */
static void queue_push(struct worker *w, struct scr_task *t, int64_t now_us)
{
    if (w->qtail == w->qcap && w->qhead > 0) {
        size_t n = queue_len(w);
        memmove(w->queue, w->queue + w->qhead, n * sizeof(*w->queue));
        w->qhead = 0;
        w->qtail = n;
    }
    SCR_GROW(w->queue, w->qcap, w->qtail + 1, 64);
    w->queue[w->qtail].task = *t;
    w->queue[w->qtail].page = NULL;
    w->queue[w->qtail].queued_us = now_us;
    w->qtail++;
    memset(t, 0, sizeof(*t));
}

/* Frees what a queue entry holds (a task, or a stored page). */
static void queue_entry_release(struct queued_task *q)
{
    scr_task_release(&q->task);
    if (q->page)
        scr_fetch_done_free(q->page);
    q->page = NULL;
}

static void on_done(struct worker *w, struct scr_fetch_done *d);

/* Answers a task that could not be started with an error RESULT, so the coordinator is
 * never left waiting for it.  Releases the task. */
static void fail_task(struct worker *w, struct scr_task *t, const char *why)
{
    struct scr_result r;
    struct scr_buf b;

    scr_error("%s: %s", t->url, why);
    scr_result_init(&r);
    r.url_id = t->url_id;
    r.kind = t->kind;
    r.curl_code = CURLE_OUT_OF_MEMORY;
    r.error = (char *)why;
    scr_buf_init(&b);
    if (scr_result_encode(&b, &r) == SCR_OK)
        send_buf(w, &b);
    scr_buf_release(&b);
    r.error = NULL;
    scr_result_release(&r);
    scr_task_release(t);
}

/* RECALL: gives back up to max tasks from the end of the queue (those that would start
 * last), never one whose transfer has started, and always answers with a RETURN.  The tasks
 * are dropped only once the RETURN is on its way: if it cannot be sent they stay queued and
 * get RESULTs as usual. */
static void on_recall(struct worker *w, const char *data, size_t len)
{
    uint32_t max = 0, n = 0;
    uint64_t *ids = NULL;
    struct scr_buf b;
    int rc = scr_msg_recall_decode(&max, data, len);

    scr_buf_init(&b);
    if (rc) {
        /* answer with nothing given back, so the coordinator is not left waiting */
        scr_error("malformed RECALL (%zu bytes): %s", len, scr_strerror(rc));
        max = 0;
    }
    if (max > queue_len(w))
        max = (uint32_t)queue_len(w);
    if (max)
        ids = scr_xcalloc(max, sizeof(*ids));
    for (n = 0; n < max; n++)
        ids[n] = w->queue[w->qtail - 1 - n].task.url_id;
    rc = scr_msg_return_encode(&b, ids, n);
    if (rc == SCR_OK)
        rc = send_buf(w, &b);
    if (rc) {
        scr_error("cannot answer a RECALL: %s; the tasks stay here", scr_strerror(rc));
        goto out;
    }
    for (uint32_t i = 0; i < n; i++)
        queue_entry_release(&w->queue[--w->qtail]);
    scr_debug("gave back %u unstarted tasks to the coordinator", n);
out:
    free(ids);
    scr_buf_release(&b);
}

/* Moves queued tasks into free transfer slots. */
static void start_queued(struct worker *w)
{
    while (queue_len(w) > 0 && busy(w) < w->s.concurrency) {
        struct queued_task *q = &w->queue[w->qhead++];
        if (q->page) {
            struct scr_fetch_done *d = q->page;
            q->page = NULL;
            on_done(w, d); /* to a parse thread: it holds a slot until parsed */
            continue;
        }
        if (scr_fetcher_add(w->f, &q->task, q->queued_us))
            fail_task(w, &q->task, "cannot start a transfer (libcurl refused a handle)");
    }
    assert(busy(w) <= w->s.concurrency);
}

static int on_batch(struct worker *w, const char *data, size_t len)
{
    struct scr_msg_batch m;
    int64_t now = scr_now_us();
    int rc = scr_msg_batch_decode(&m, data, len);

    w->request_out = 0;
    if (rc) {
        /* The tasks in it are unknown, yet rank 0 holds them in flight on this worker until
         * it leaves.  So leave, without BYE (docs/protocol.md): rank 0 declares this worker
         * lost after --peer-timeout, puts its URLs back, and the run ends as `lost`. */
        scr_error("malformed BATCH (%zu bytes): %s; this worker leaves and will be declared "
                  "lost",
                  len, scr_strerror(rc));
        goto out;
    }
    /* Tasks start in order; the coordinator put the politeness-bound ones first and never
     * more of them than there were free slots, so they start right now. */
    for (uint32_t i = 0; i < m.count; i++) {
        if (busy(w) < w->s.concurrency && queue_len(w) == 0) {
            if (scr_fetcher_add(w->f, &m.tasks[i], now))
                fail_task(w, &m.tasks[i], "cannot start a transfer (libcurl refused a handle)");
        } else {
            queue_push(w, &m.tasks[i], now);
        }
    }
out:
    scr_msg_batch_release(&m);
    return rc;
}

/* PAGES (scrape reextract): each stored page becomes a finished "transfer" of a page task,
 * so it takes the fetched page's way: queue, slot, build_result, parse pool, RESULT (with
 * the page's id as url_id).  A malformed PAGES ends the worker as a malformed BATCH does. */
static int on_pages(struct worker *w, const char *data, size_t len)
{
    struct scr_msg_pages m;
    int64_t now = scr_now_us();
    int rc = scr_msg_pages_decode(&m, data, len);

    w->request_out = 0;
    if (rc) {
        scr_error("malformed PAGES (%zu bytes): %s; this worker leaves and will be declared "
                  "lost", len, scr_strerror(rc));
        goto out;
    }
    for (uint32_t i = 0; i < m.count; i++) {
        struct scr_stored_page *pg = &m.pages[i];
        struct scr_fetch_done *d = scr_xcalloc(1, sizeof(*d));
        struct scr_task none;

        d->task.url_id = pg->id;
        d->task.url = pg->url;
        d->task.kind = SCR_TASK_PAGE;
        d->task.etag = scr_xstrdup("");
        d->task.last_modified = scr_xstrdup("");
        pg->url = NULL;
        d->status = (long)pg->http_status;
        d->code = CURLE_OK;
        d->content_type = *pg->content_type ? pg->content_type : NULL;
        if (!*pg->content_type)
            free(pg->content_type);
        pg->content_type = NULL;
        d->body = pg->body;
        scr_buf_init(&pg->body);
        d->queued_us = d->start_us = d->end_us = now;
        if (busy(w) < w->s.concurrency && queue_len(w) == 0) {
            on_done(w, d);
            continue;
        }
        memset(&none, 0, sizeof(none));
        none.url_id = pg->id;
        queue_push(w, &none, now);
        w->queue[w->qtail - 1].page = d;
    }
out:
    scr_msg_pages_release(&m);
    return rc;
}

static void maybe_request(struct worker *w)
{
    int free_now = w->s.concurrency - busy(w) - (int)queue_len(w);
    int later = w->s.concurrency - (int)queue_len(w);
    struct scr_buf b;

    if (w->request_out || w->stopping)
        return;
    if (free_now < 0)
        free_now = 0;
    if (later < 0)
        later = 0;
    /* ask when a slot is free, or when the prefetch queue is down to half */
    if (free_now == 0 && later < (w->s.concurrency + 1) / 2)
        return;
    scr_buf_init(&b);
    if (scr_msg_request_encode(&b, (uint32_t)free_now, (uint32_t)later) == SCR_OK &&
        send_buf(w, &b) == SCR_OK)
        w->request_out = 1;
    scr_buf_release(&b);
}

/* 1 when the response's media type is in --content-types (no Content-Type: sniff for HTML). */
static int parse_allowed(const struct worker *w, const struct scr_fetch_done *d)
{
    return scr_extract_type_allowed(d->content_type, w->s.content_types, d->body.data,
                                    d->body.len);
}

/* Fills the fields every RESULT has from d.  Every string is a fresh copy owned by r (an
 * absent header is "", which is what the wire and the database mean by "not sent"). */
static void fill_common(struct scr_fetch_done *d, struct scr_result *r, const char *final_url)
{
    r->url_id = d->task.url_id;
    r->kind = d->task.kind;
    r->http_status = (int32_t)d->status;
    /* a refusal by the address guard is permanent: a code of its own (see wire.h) */
    r->curl_code = d->refused ? SCR_RESULT_REFUSED : (int32_t)d->code;
    r->bytes = d->body.len;
    r->elapsed_ms = (uint32_t)((d->end_us - d->start_us) / 1000);
    r->wait_ms = (uint32_t)((d->start_us - d->queued_us) / 1000);
    r->redirects = (uint32_t)d->redirects;
    r->truncated = (uint32_t)d->truncated;
    r->retry_after_s = (uint32_t)d->retry_after_s;
    r->final_url = scr_xstrdup(final_url);
    r->content_type = scr_xstrdup(d->content_type ? d->content_type : "");
    r->etag = scr_xstrdup(d->etag ? d->etag : "");
    r->last_modified = scr_xstrdup(d->last_modified ? d->last_modified : "");
    r->location = scr_xstrdup(d->location ? d->location : "");
    r->body = scr_xstrdup("");
    if (d->code != CURLE_OK || d->truncated) {
        r->error = scr_xstrdup(d->error);
    } else if (d->status >= 400) {
        char msg[32];
        snprintf(msg, sizeof(msg), "HTTP %ld", d->status);
        r->error = scr_xstrdup(msg);
    } else {
        r->error = scr_xstrdup("");
    }
    if (d->code == CURLE_OK && !d->truncated && d->status != 304) {
        char hex[65];
        scr_sha256_hex(d->body.data ? d->body.data : "", d->body.len, hex);
        r->content_hash = scr_xstrdup(hex);
    } else {
        r->content_hash = scr_xstrdup("");
    }
}

/* Turns a finished transfer into a RESULT: classify, hash; robots bodies go back as text,
 * sitemaps as lists of URLs.  Returns 1 when the page is to be parsed (r then holds the common
 * fields, r->final_url the page's URL, and the parse pool adds the rest), else 0. */
static int build_result(struct worker *w, struct scr_fetch_done *d, struct scr_result *r)
{
    char err[256], *norm = NULL;
    const char *page_url = d->task.url;
    int ok = d->code == CURLE_OK && !d->truncated && d->status >= 200 && d->status < 300;
    int parse = 0;

    if (d->final_url && scr_url_normalize(NULL, d->final_url, &w->uo.opts, &norm, NULL, err,
                                          sizeof(err)) == SCR_OK)
        page_url = norm;
    fill_common(d, r, page_url);
    if (d->task.kind == SCR_TASK_ROBOTS && d->code == CURLE_OK) {
        /* robots.txt is text: a NUL byte ends a line's content, like '#' */
        for (size_t i = 0; i < d->body.len; i++)
            if (d->body.data[i] == '\0')
                d->body.data[i] = '#';
        free(r->body);
        r->body = scr_xmemdup0(d->body.data ? d->body.data : "", d->body.len); /* <= 500 KiB */
    } else if (d->task.kind == SCR_TASK_SITEMAP && ok) {
        if (scr_sitemap_parse(d->body.data ? d->body.data : "", d->body.len, page_url,
                              &w->uo.opts, body_cap_size(w->s.max_body), &r->links,
                              &r->sitemaps,
                              err, sizeof(err)) != SCR_OK) {
            free(r->error);
            r->error = scr_xstrdup(err);
        }
    } else if (d->task.kind == SCR_TASK_PAGE && ok && parse_allowed(w, d)) {
        parse = 1;
    }
    free(norm);
    return parse;
}

/* --warc-dir: moves what rank 0 archives (the request and response heads and the body) from
 * d into r, without a copy; a transfer without a response (no status line) has nothing to
 * archive.  Without --warc-dir nothing moves and the three fields go out empty. */
static void move_http(const struct worker *w, struct scr_fetch_done *d, struct scr_result *r)
{
    if (!w->s.warc_dir || d->task.kind == SCR_TASK_ROBOTS || d->status <= 0 ||
        !d->http_head.len)
        return;
    r->http_request = scr_buf_detach(&d->http_request, &r->http_request_len);
    r->http_head = scr_buf_detach(&d->http_head, &r->http_head_len);
    r->payload = scr_buf_detach(&d->body, &r->payload_len);
}

/* Sends r, the RESULT of d, and counts it; releases r and frees d. */
static void send_result(struct worker *w, struct scr_fetch_done *d, struct scr_result *r)
{
    struct scr_buf b;

    move_http(w, d, r);
    scr_buf_init(&b);
    w->stats.pages++;
    w->stats.bytes += r->bytes;
    w->stats.records += r->records.n;
    if (d->code != CURLE_OK || d->truncated || d->status >= 400 ||
        r->curl_code == SCR_RESULT_PARSE_LIMIT)
        w->stats.errors++;
    if (scr_result_encode(&b, r) != SCR_OK || send_buf(w, &b) != SCR_OK)
        scr_error("cannot send the result of %s", d->task.url);
    scr_buf_release(&b);
    scr_result_release(r);
    scr_fetch_done_free(d);
}

static void on_done(struct worker *w, struct scr_fetch_done *d)
{
    struct scr_parse_job *job;
    struct scr_result r;

    scr_result_init(&r);
    if (!build_result(w, d, &r)) {
        send_result(w, d, &r);
        return;
    }
    job = scr_xcalloc(1, sizeof(*job));
    job->d = d;
    job->r = r;
    scr_parsepool_submit(w->pool, job);
}

/* A page came back from the parse pool: its RESULT goes out.  A page over its budget is sent
 * with SCR_RESULT_PARSE_LIMIT and the reason; a lesser problem (a rule over its limit) only
 * fills an empty error. */
static void on_parsed(struct worker *w, struct scr_parse_job *job)
{
    if (job->rc == SCR_ELIMIT) {
        scr_warn("%s: %s", job->r.final_url, job->error ? job->error : "over the page budget");
        job->r.curl_code = SCR_RESULT_PARSE_LIMIT;
        free(job->r.error);
        job->r.error = scr_xstrdup(job->error ? job->error : "over the page budget");
    } else if (job->error && job->r.error && !job->r.error[0]) {
        free(job->r.error);
        job->r.error = job->error;
        job->error = NULL;
    }
    send_result(w, job->d, &job->r);
    job->d = NULL;
    scr_parse_job_free(job);
}

/* Handles every waiting message; returns SCR_OK, or an error that ends the worker
 * (SCR_EPROTO: a malformed BATCH; SCR_ENOMEM). */
static int drain_messages(struct worker *w, int *got)
{
    char *data;
    size_t len;
    int peer, rc;

    *got = 0;
    while ((rc = scr_comm_recv(w->c, &peer, &data, &len)) == SCR_OK) {
        *got = 1;
        w->last_heard_ms = scr_now_ms();
        switch (scr_wire_type(data, len)) {
        case SCR_MSG_BATCH:
            rc = on_batch(w, data, len);
            break;
        case SCR_MSG_PAGES:
            rc = on_pages(w, data, len);
            break;
        case SCR_MSG_RECALL:
            on_recall(w, data, len);
            rc = SCR_OK;
            break;
        case SCR_MSG_STOP:
            w->stopping = 1;
            /* tasks not yet started stay leased; the coordinator returns them to the queue */
            while (queue_len(w) > 0)
                queue_entry_release(&w->queue[w->qhead++]);
            rc = SCR_OK;
            break;
        case SCR_MSG_HEARTBEAT:
            rc = SCR_OK;
            break;
        default:
            scr_error("unexpected message type %d (%zu bytes) from rank %d",
                      scr_wire_type(data, len), len, peer);
            rc = SCR_OK; /* a corrupted message is reported, not fatal */
            break;
        }
        free(data);
        if (rc)
            return rc;
    }
    return rc == SCR_EAGAIN ? SCR_OK : rc;
}

static int send_bye(struct worker *w)
{
    struct rusage ru;
    struct scr_buf b;
    int rc;

    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        w->stats.cpu_us = (uint64_t)ru.ru_utime.tv_sec * 1000000 + (uint64_t)ru.ru_utime.tv_usec +
                          (uint64_t)ru.ru_stime.tv_sec * 1000000 + (uint64_t)ru.ru_stime.tv_usec;
        w->stats.max_rss_kb = (uint64_t)ru.ru_maxrss;
    }
    scr_buf_init(&b);
    rc = scr_msg_bye_encode(&b, &w->stats);
    if (rc == SCR_OK)
        rc = send_buf(w, &b);
    scr_buf_release(&b);
    return rc;
}

/* The watchdog for a parse the page budget cannot stop (a loop inside libxml2 that passes no
 * SAX callback, which the budget's checks would need).  A parse thread that has spent twice
 * --parse-timeout plus 10 s of its CPU time on one page will never give its slot back, and
 * its thread cannot be cancelled safely: the worker ends here, as it does when memory runs
 * out (common/alloc.h), and rank 0 declares it lost and hands its URLs out again. */
static void watch_parses(struct worker *w)
{
    const char *url = NULL;
    int64_t used = scr_parsepool_longest_us(w->pool, &url);

    if (used > (2 * w->s.parse_timeout_ms + 10000) * 1000) {
        scr_error("a parse thread has spent %lld s of CPU time on %s, past --parse-timeout "
                  "(%lld ms) and out of the budget's reach: ending this worker",
                  (long long)(used / 1000000), url ? url : "?",
                  (long long)w->s.parse_timeout_ms);
        abort();
    }
}

static int run_loop(struct worker *w)
{
    struct scr_backoff bo;
    struct scr_fetch_done *d;
    int64_t last_ms = scr_now_ms();
    int rc = SCR_OK, got, cfd = scr_comm_fd(w->c);

    scr_backoff_init(&bo, 1000, 8000);
    for (;;) {
        int64_t now_ms, timeout_ms;
        struct scr_parse_job *job;
        struct curl_waitfd extra[2] = {
            {.fd = scr_parsepool_fd(w->pool), .events = CURL_WAIT_POLLIN, .revents = 0},
            {.fd = cfd, .events = CURL_WAIT_POLLIN, .revents = 0}};

        rc = drain_messages(w, &got);
        if (rc)
            break;
        start_queued(w);
        scr_fetcher_perform(w->f);
        while ((d = scr_fetcher_next(w->f)) != NULL) {
            on_done(w, d);
            got = 1;
        }
        for (job = scr_parsepool_take(w->pool); job;) {
            struct scr_parse_job *next = job->next;
            on_parsed(w, job);
            job = next;
            got = 1;
        }
        start_queued(w);
        maybe_request(w);
        w->c->ops->progress(w->c);
        now_ms = scr_now_ms();
        if (busy(w) > 0)
            w->stats.busy_ms += (uint64_t)(now_ms - last_ms);
        else
            w->stats.idle_ms += (uint64_t)(now_ms - last_ms);
        last_ms = now_ms;
        if (w->stopping && busy(w) == 0) {
            rc = send_bye(w);
            break;
        }
        if (now_ms - w->last_sent_ms >= w->s.heartbeat_ms) {
            struct scr_buf b;
            scr_buf_init(&b);
            if (scr_msg_simple_encode(&b, SCR_MSG_HEARTBEAT) == SCR_OK)
                send_buf(w, &b);
            scr_buf_release(&b);
        }
        if (w->s.parse_timeout_ms && now_ms - w->last_watch_ms >= 1000) {
            watch_parses(w);
            w->last_watch_ms = now_ms;
        }
        if (now_ms - w->last_heard_ms > w->s.peer_timeout_ms) {
            scr_error("the coordinator has been silent for %lld ms; giving up",
                      (long long)(now_ms - w->last_heard_ms));
            rc = SCR_ELOST;
            break;
        }
        if (got)
            scr_backoff_reset(&bo);
        /* With the local transport the mailbox fd wakes us; with MPI we must come back to
         * probe, so the timeout is the backoff (1 ms growing to 8 ms while idle).  The parse
         * pool's eventfd wakes us when a page is parsed. */
        timeout_ms = cfd >= 0 ? 1000 : scr_backoff_next(&bo) / 1000;
        curl_multi_poll(scr_fetcher_multi(w->f), extra, cfd >= 0 ? 2 : 1, (int)timeout_ms, NULL);
    }
    return rc;
}

int scr_worker_run(struct scr_comm *c)
{
    struct worker w;
    struct scr_parser_env env;
    char err[512];
    int rc;

    memset(&w, 0, sizeof(w));
    w.c = c;
    rc = scr_settings_init(&w.s);
    if (rc)
        return rc;
    rc = handshake(&w);
    if (rc)
        goto out;
    rc = scr_urlopts_init(&w.uo, &w.s, err, sizeof(err));
    if (rc) {
        scr_error("URL options from the coordinator: %s", err);
        goto out;
    }
    scr_extract_env_from_settings(&env, &w.s, &w.uo.opts, w.rules_text, w.rules_name);
    rc = scr_parsepool_new(&w.pool, w.s.parse_threads, w.s.parsers, &env, err, sizeof(err));
    if (rc) {
        scr_error("cannot set up the parsers: %s", err);
        goto out;
    }
    rc = scr_fetcher_new(&w.f, &w.s);
    if (rc)
        goto out;
    rc = run_loop(&w);
out:
    if (rc && rc != SCR_EVERSION && rc != SCR_ELOST && rc != SCR_EPROTO && w.last_heard_ms) {
        /* after the handshake the coordinator waits for us: say goodbye rather than fall
         * silent, so it does not have to wait --peer-timeout (not after a malformed BATCH:
         * a BYE would count as a clean finish while that BATCH's URLs were never fetched) */
        send_bye(&w);
    }
    while (queue_len(&w) > 0)
        queue_entry_release(&w.queue[w.qhead++]);
    free(w.queue);
    scr_parsepool_free(w.pool); /* before the fetcher: its jobs hold finished transfers */
    scr_fetcher_free(w.f);
    scr_urlopts_release(&w.uo);
    free(w.rules_name);
    free(w.rules_text);
    scr_settings_release(&w.s);
    return rc;
}
