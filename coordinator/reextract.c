/* reextract.c - rank 0 of `scrape reextract` (reextract.h, docs/reextract.md).
 *
 * The loop has the crawl's shape without the frontier: HELLO/WELCOME, heartbeats and loss
 * through peers.c; each REQUEST(now, later) is answered with one PAGES message of up to
 * now + later pages (at most PAGES_MAX, at most PAGES_BYTES of bodies) read from the source
 * (reextract_src.c) when it is asked, so rank 0 holds no page bodies beyond one message;
 * each RESULT is stored at once, its records and the page's done mark in one statement.
 * A REQUEST that finds the source empty stays pending; when the source is empty and no page
 * is out, every worker gets STOP.  rank 0 talks to PostgreSQL on this thread (there is no
 * store thread: no leases to renew, and a page's store is one statement), waiting between
 * turns in scr_comm_wait like the crawl's loop.
 *
 * Invariant: a page is out (in `out`, tagged with its worker) from its PAGES until its RESULT
 * or its worker's end; a page whose worker was lost or left without answering is not marked
 * done, so the next reextract with the same key does it (nothing is marked twice: the mark's
 * primary key).
 */
#include "coordinator/reextract.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/file.h"
#include "common/log.h"
#include "common/sha256.h"
#include "common/version.h"
#include "coordinator/db.h"
#include "coordinator/peers.h"
#include "coordinator/runs.h"
#include "coordinator/summary.h"
#include "parsers/extract.h"

#define PAGES_MAX 64
#define PAGES_BYTES ((size_t)32 << 20)
/* One answer reads for at most this long, so messages and heartbeats keep flowing while rank
 * 0 passes over long stretches of records it does not send. */
#define PAGES_READ_MS 200

struct rx_out {
    uint64_t fetch_id;
    int64_t url_id;
    int rank;
};

struct rx {
    struct scr_comm *c;
    struct scr_settings *s;
    struct scr_peers peers;
    struct scr_urlopts uo;
    struct scr_rx_src src;
    PGconn *db;
    int64_t job_id, run_id;
    char key[65];
    char *rules_text;
    struct rx_out *out;
    size_t nout, capout;
    int source_done, stopping, interrupted, no_workers, fatal_db;
    char fatal_msg[1024];
    uint64_t pages, records, errors, unanswered, sent;
    uint64_t unparsed;           /* pages marked done on rank 0: not 2xx, not a parsed type */
    int64_t start_ms;
};

static void begin_stop(struct rx *x, const char *why)
{
    if (x->stopping)
        return;
    scr_info("%s: stopping the workers", why);
    x->stopping = 1;
    scr_peers_stop(&x->peers);
}

static void out_drop_rank(struct rx *x, int rank)
{
    size_t j = 0;

    for (size_t i = 0; i < x->nout; i++) {
        if (x->out[i].rank == rank)
            x->unanswered++;
        else
            x->out[j++] = x->out[i];
    }
    x->nout = j;
}

static void on_lost(struct scr_peer *w, void *ctx)
{
    out_drop_rank(ctx, w->rank);
}

/* 1 when a worker would parse pg: a 2xx response whose media type is in --content-types, or
 * without a Content-Type and looking like HTML (the worker's rule, worker.c parse_allowed).
 * Other pages are marked done here with no records, and their bodies never cross MPI. */
static int parse_wanted(const struct rx *x, const struct scr_stored_page *pg)
{
    if (pg->http_status < 200 || pg->http_status >= 300)
        return 0;
    return scr_extract_type_allowed(pg->content_type, x->s->content_types,
                                    pg->body.data ? pg->body.data : "", pg->body.len);
}

/* Marks a page done with no records (not parsed: see parse_wanted). */
static void mark_unparsed(struct rx *x, const struct scr_stored_page *pg, int64_t url_id)
{
    char err[1024];
    int stored = 0;

    if (scr_rx_store(x->db, (int64_t)pg->id, url_id, x->job_id, x->run_id, x->key, "[]", "",
                     NULL, &stored, err, sizeof(err)) != SCR_OK) {
        x->fatal_db = 1;
        snprintf(x->fatal_msg, sizeof(x->fatal_msg), "%s", err);
    }
    x->pages += stored;
    x->unparsed += stored;
}

/* Answers w's pending REQUEST with pages, if the source has any. */
static void send_pages(struct rx *x, struct scr_peer *w)
{
    struct scr_stored_page pages[PAGES_MAX];
    int64_t url_ids[PAGES_MAX];
    uint32_t want = w->want_now + w->want_later, n = 0;
    size_t bytes = 0;
    struct scr_buf b;
    int64_t until = scr_now_ms() + PAGES_READ_MS;

    if (!w->has_request || w->state != SCR_PEER_ACTIVE || x->source_done || x->stopping)
        return;
    if (want > PAGES_MAX)
        want = PAGES_MAX;
    if (want == 0)
        want = 1;
    memset(pages, 0, sizeof(pages));
    while (n < want && bytes < PAGES_BYTES && !x->fatal_db && scr_now_ms() < until) {
        int rc;
        scr_buf_init(&pages[n].body);
        rc = scr_rx_src_next(&x->src, &pages[n], &url_ids[n]);
        if (rc == SCR_ENOTFOUND) {
            x->source_done = 1;
            break;
        }
        if (rc) {
            x->fatal_db = 1;
            snprintf(x->fatal_msg, sizeof(x->fatal_msg), "%s", x->src.err);
            break;
        }
        if (!parse_wanted(x, &pages[n])) {
            mark_unparsed(x, &pages[n], url_ids[n]);
            scr_stored_page_release(&pages[n]);
            continue;
        }
        bytes += pages[n].body.len;
        n++;
    }
    if (n) {
        scr_buf_init(&b);
        if (scr_msg_pages_encode(&b, pages, n) == SCR_OK &&
            scr_peers_send(&x->peers, w, &b) == SCR_OK) {
            w->has_request = 0;
            for (uint32_t i = 0; i < n; i++) {
                SCR_GROW(x->out, x->capout, x->nout + 1, 64);
                x->out[x->nout].fetch_id = pages[i].id;
                x->out[x->nout].url_id = url_ids[i];
                x->out[x->nout].rank = w->rank;
                x->nout++;
            }
            x->sent += n;
        } else {
            scr_error("cannot send pages to rank %d; they are left for the next reextract",
                      w->rank);
        }
        scr_buf_release(&b);
    }
    for (uint32_t i = 0; i <= n && i < PAGES_MAX; i++)
        scr_stored_page_release(&pages[i]);
}

static void on_result(struct rx *x, struct scr_peer *w, const char *data, size_t len)
{
    struct scr_result res;
    char err[1024], *json = NULL;
    size_t i;
    int stored = 0;

    scr_result_init(&res);
    if (scr_result_decode(&res, data, len) != SCR_OK) {
        scr_error("rank %d sent a malformed RESULT (%zu bytes); dropped", w->rank, len);
        goto out;
    }
    for (i = 0; i < x->nout; i++)
        if (x->out[i].fetch_id == res.url_id && x->out[i].rank == w->rank)
            break;
    if (i == x->nout) {
        scr_error("rank %d sent a RESULT for page %llu it was not given; dropped", w->rank,
                  (unsigned long long)res.url_id);
        goto out;
    }
    w->pages++;
    w->bytes += res.bytes;
    w->records += res.records.n;
    if (res.error && *res.error) {
        x->errors++;
        w->errors++;
        scr_warn("page %llu: %s", (unsigned long long)res.url_id, res.error);
    }
    json = scr_strvec_join_array(&res.records);
    if (!x->fatal_db &&
        scr_rx_store(x->db, (int64_t)x->out[i].fetch_id, x->out[i].url_id, x->job_id, x->run_id,
                     x->key, json, res.error, res.encoding, &stored, err,
                     sizeof(err)) != SCR_OK) {
        x->fatal_db = 1;
        snprintf(x->fatal_msg, sizeof(x->fatal_msg), "%s", err);
    }
    if (stored) {
        x->pages++;
        x->records += res.records.n;
    }
    x->out[i] = x->out[--x->nout];
out:
    free(json);
    scr_result_release(&res);
}

static void handle_messages(struct rx *x, int *got)
{
    char *data;
    size_t len;
    int peer;

    *got = 0;
    while (scr_comm_recv(x->c, &peer, &data, &len) == SCR_OK) {
        struct scr_peer *w = peer > 0 && peer < x->peers.n ? &x->peers.p[peer] : NULL;
        *got = 1;
        if (!w) {
            scr_error("message from unexpected rank %d", peer);
            free(data);
            continue;
        }
        w->last_heard_ms = scr_now_ms();
        switch (scr_wire_type(data, len)) {
        case SCR_MSG_HELLO:
            scr_peers_on_hello(&x->peers, w, data, len, x->stopping);
            break;
        case SCR_MSG_REQUEST:
            if (w->state == SCR_PEER_ACTIVE) {
                if (scr_msg_request_decode(&w->want_now, &w->want_later, data, len) == SCR_OK)
                    w->has_request = 1;
                else
                    scr_error("rank %d sent a malformed REQUEST", w->rank);
            }
            break;
        case SCR_MSG_RESULT:
            on_result(x, w, data, len);
            break;
        case SCR_MSG_BYE:
            scr_peers_on_bye(w, data, len);
            out_drop_rank(x, w->rank);
            break;
        case SCR_MSG_HEARTBEAT:
        case SCR_MSG_RETURN:
            break;
        default:
            scr_error("rank %d sent an unknown message (type %d, %zu bytes); ignored", w->rank,
                      scr_wire_type(data, len), len);
            break;
        }
        free(data);
    }
}

static void run_loop(struct rx *x)
{
    struct scr_backoff bo;
    int64_t interrupt_ms = 0;

    scr_backoff_init(&bo, 50, 5000);
    for (;;) {
        int got = 0;

        handle_messages(x, &got);
        scr_peers_check(&x->peers, on_lost, x);
        if (scr_coordinator_stop && !x->interrupted) {
            x->interrupted = 1;
            interrupt_ms = scr_now_ms();
            begin_stop(x, "interrupted");
        }
        if (scr_coordinator_stop > 1 || (x->interrupted && scr_now_ms() - interrupt_ms > 30000))
            break;
        if (x->fatal_db && !x->stopping) {
            scr_error("database lost: %s", x->fatal_msg);
            begin_stop(x, "the database is gone");
        }
        for (int i = 1; i < x->peers.n; i++)
            send_pages(x, &x->peers.p[i]);
        if (!x->stopping && x->source_done && x->nout == 0)
            begin_stop(x, "every page is re-extracted");
        if (!x->stopping && scr_peers_active(&x->peers) == 0) {
            scr_error("no worker is left: the reextract cannot go on (see the workers' errors)");
            x->no_workers = 1;
            begin_stop(x, "no workers");
        }
        if (x->stopping && scr_peers_all_gone(&x->peers))
            break;
        if (got)
            scr_backoff_reset(&bo);
        scr_comm_wait(x->c, NULL, 0, 250000, &bo);
    }
}

/* The reextract key: what makes the records differ (reextract.h). */
static void make_key(struct rx *x)
{
    struct scr_buf b;

    scr_buf_init(&b);
    scr_buf_printf(&b, "scrape %s\nparsers %s\ncontent-types %s\ntext-max %lld\nmax-links "
                       "%lld\nrules\n%s",
                   SCR_VERSION, x->s->parsers ? x->s->parsers : "",
                   x->s->content_types ? x->s->content_types : "", (long long)x->s->text_max,
                   (long long)x->s->max_links, x->rules_text ? x->rules_text : "");
    scr_sha256_hex(b.data, b.len, x->key);
    scr_buf_release(&b);
}

/* The checks before the database: URL options, the rules file, the parsers. */
static int preflight(struct rx *x)
{
    char err[1024];
    struct scr_extractor *ex = NULL;
    struct scr_parser_env env;

    if (!x->s->job || !*x->s->job) {
        scr_error("give --job NAME: the job whose pages (or into which the --warc pages) are "
                  "re-extracted");
        return SCR_EXIT_USAGE;
    }
    if (scr_urlopts_init(&x->uo, x->s, err, sizeof(err))) {
        scr_error("%s", err);
        return SCR_EXIT_USAGE;
    }
    if (x->s->rules) {
        x->rules_text = scr_file_read(x->s->rules, (size_t)16 << 20, SCR_FILE_TEXT, NULL, err,
                                      sizeof(err));
        if (!x->rules_text) {
            scr_error("%s", err);
            return SCR_EXIT_USAGE;
        }
    }
    scr_extract_env_from_settings(&env, x->s, &x->uo.opts, x->rules_text, x->s->rules);
    if (scr_extractor_new(&ex, x->s->parsers, &env, err, sizeof(err)) != SCR_OK) {
        scr_error("%s", err);
        return SCR_EXIT_USAGE;
    }
    scr_extractor_free(ex);
    make_key(x);
    return SCR_EXIT_OK;
}

static int setup_db(struct rx *x, const char *command, const struct scr_strvec *files)
{
    char err[1024], host[256] = "?", run[24], *sj;
    const char *p[1] = {run};
    PGresult *r;
    int rc;

    /* as a crawl: a conninfo mistake exits 2 at once, a silent server is waited for
     * --db-retry long (db.h) */
    rc = scr_db_connect(&x->db, scr_db_conninfo(x->s->db), x->s->db_retry_ms, err,
                        sizeof(err));
    if (rc == SCR_OK)
        rc = scr_db_ensure_schema(x->db, 0, err, sizeof(err));
    if (rc != SCR_OK) {
        scr_error("%s", err);
        return rc == SCR_EUSAGE ? SCR_EXIT_USAGE : SCR_EXIT_DB;
    }
    if (!files || !files->n) {
        /* job mode reads what a job stored: a mistyped name must not make a new job */
        const char *jp[1] = {x->s->job};
        r = scr_db_exec(x->db, "looking up the job", "SELECT 1 FROM jobs WHERE name = $1", 1,
                        jp, err, sizeof(err));
        if (!r) {
            scr_error("%s", err);
            return SCR_EXIT_DB;
        }
        rc = PQntuples(r);
        PQclear(r);
        if (rc == 0) {
            scr_error("there is no job '%s' (its pages are what reextract reads; give --warc "
                      "FILE to read WARC files into a new job)", x->s->job);
            return SCR_EXIT_USAGE;
        }
    }
    if (scr_runs_job(x->db, x->s->job, &x->job_id, err, sizeof(err))) {
        scr_error("%s", err);
        return SCR_EXIT_DB;
    }
    gethostname(host, sizeof(host) - 1);
    sj = scr_runs_settings_json(x->s);
    rc = scr_runs_begin(x->db, x->job_id, command, sj ? sj : "{}", 0, host, x->s->island, 0,
                        &x->run_id, err, sizeof(err));
    free(sj);
    if (rc != SCR_OK) {
        scr_error("%s", err);
        return SCR_EXIT_DB;
    }
    scr_db_i64(run, sizeof(run), x->run_id);
    r = scr_db_exec(x->db, "marking the run a reextract",
                    "UPDATE runs SET kind = 'reextract' WHERE id = $1::bigint", 1, p, err,
                    sizeof(err));
    if (!r) {
        scr_error("%s", err);
        return SCR_EXIT_DB;
    }
    PQclear(r);
    x->src.db = x->db;
    x->src.job_id = x->job_id;
    x->src.run_id = x->run_id;
    x->src.key = x->key;
    x->src.uo = &x->uo.opts;
    x->src.max_body = x->s->max_body > 0 ? (size_t)x->s->max_body : ((size_t)64 << 20);
    x->src.files = files;
    scr_info("run %lld of job '%s' re-extracts %s (%d workers, key %.12s)",
             (long long)x->run_id, x->s->job, files && files->n ? "the given WARC files"
                                                                  : "the job's stored pages",
             x->peers.n - 1, x->key);
    return SCR_EXIT_OK;
}

static void finish(struct rx *x, struct scr_run_outcome *out)
{
    json_t *sum;
    char *txt, err[1024];
    const char *status;
    int lost = 0;
    double secs = (double)(scr_now_ms() - x->start_ms) / 1000.0;

    for (int i = 1; i < x->peers.n; i++) {
        struct scr_peer *w = &x->peers.p[i];
        if (w->state == SCR_PEER_ACTIVE || w->state == SCR_PEER_WAITING ||
            w->state == SCR_PEER_STOPPING)
            out->unfinished_workers++;
        lost += w->state == SCR_PEER_LOST || w->state == SCR_PEER_REFUSED;
    }
    out->lost_workers = lost;
    x->unanswered += x->nout;
    if (x->fatal_db) {
        status = "failed", out->exit_code = SCR_EXIT_DB;
    } else if (x->interrupted) {
        status = "interrupted", out->exit_code = SCR_EXIT_INTERRUPTED;
    } else if (lost || x->no_workers) {
        status = lost ? "lost" : "failed", out->exit_code = SCR_EXIT_CLUSTER;
    } else if (x->src.damaged || x->unanswered) {
        status = "partial", out->exit_code = SCR_EXIT_PARTIAL;
    } else {
        status = "done", out->exit_code = SCR_EXIT_OK;
    }
    sum = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "kind",
                    "reextract", "key", x->key, "pages", (json_int_t)x->pages, "unparsed",
                    (json_int_t)x->unparsed, "records",
                    (json_int_t)x->records, "errors", (json_int_t)x->errors, "damaged",
                    (json_int_t)x->src.damaged, "done_before", (json_int_t)x->src.done_before,
                    "unanswered", (json_int_t)x->unanswered, "failed", (json_int_t)0, "seconds",
                    secs);
    txt = sum ? json_dumps(sum, JSON_COMPACT) : NULL;
    if (x->db && PQstatus(x->db) != CONNECTION_OK)
        PQreset(x->db);
    if (x->db && scr_runs_end(x->db, x->run_id, status, out->exit_code, txt ? txt : "{}", "[]",
                              err, sizeof(err)) != SCR_OK)
        scr_error("%s", err);
    else if (x->db)
        scr_summary_store_workers(&x->peers, x->db, x->run_id, secs);
    fprintf(stderr,
            "reextract run %lld of job '%s': %s; %llu pages, %llu records, %llu damaged or "
            "unreadable records, %llu pages done before with the same key, %llu pages "
            "unanswered, %.1f s\n",
            (long long)x->run_id, x->s->job, status, (unsigned long long)x->pages,
            (unsigned long long)x->records, (unsigned long long)x->src.damaged,
            (unsigned long long)x->src.done_before, (unsigned long long)x->unanswered, secs);
    free(txt);
    json_decref(sum);
}

void scr_reextract_run(struct scr_comm *c, struct scr_settings *s, const char *command,
                       const struct scr_strvec *warc_files, struct scr_run_outcome *out)
{
    struct rx x;
    int rc;

    memset(&x, 0, sizeof(x));
    memset(out, 0, sizeof(*out));
    x.c = c;
    x.s = s;
    x.start_ms = scr_now_ms();
    scr_rx_src_init(&x.src);
    scr_peers_init(&x.peers, c, s);
    rc = preflight(&x);
    x.peers.rules_text = x.rules_text;
    if (rc == SCR_EXIT_OK)
        rc = setup_db(&x, command, warc_files);
    if (rc != SCR_EXIT_OK) {
        for (int i = 1; i < x.peers.n; i++)
            scr_peers_welcome(&x.peers, &x.peers.p[i], 0,
                              "the coordinator could not start the reextract");
        out->exit_code = rc;
        goto out;
    }
    scr_peers_listen(&x.peers);
    run_loop(&x);
    finish(&x, out);
out:
    scr_rx_src_release(&x.src);
    scr_peers_release(&x.peers);
    scr_urlopts_release(&x.uo);
    free(x.out);
    free(x.rules_text);
    PQfinish(x.db);
}
