/* coordinator.c - rank 0's dispatcher loop and the end of the crawl.
 *
 * One thread, one loop, never blocking: it takes the store thread's news (store.c), the
 * workers' messages (peers.c for HELLO, BYE and silence; dispatch.c for REQUEST and RETURN;
 * results.c for RESULT), answers pending REQUESTs from the pool (dispatch.c, hosts.c), and
 * asks the store for more URLs before the pool runs dry, so no worker waits on the database.
 * Set-up is setup.c, figures and summary are summary.c.
 *
 * The crawl is over when nothing is in flight, nothing waits in the pool or the store, and a
 * lease issued after the last stored result found nothing due, nothing queued for later, and
 * nothing leased by another live run (whose pages could still add URLs).  Then every worker
 * gets STOP, answers BYE, and the run's row is closed with its summary.
 *
 * Invariant (coord_internal.h; asserted in debug builds at each loop turn and at the end):
 * every URL this run leased is in exactly one place: the pool, one worker's in-flight list,
 * or the store's queue; what is left at the end is released.
 */
#include "coordinator/coordinator.h"

#include <assert.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "coordinator/coord_internal.h"
#include "coordinator/db.h"
#include "coordinator/jobs.h"

volatile sig_atomic_t scr_coordinator_stop;

/* Counts a stored result item in the figures. */
static void tally_stored(struct scr_tally *t, const struct scr_store_item *it)
{
    if (it->new_state == SCR_URL_FAILED)
        t->failed++;
    if (it->new_state != SCR_URL_QUEUED)
        t->settled++;
    if (it->no_fetch)
        return;
    t->stored++;
    t->records += it->res.records.n;
    t->bytes += it->res.bytes;
    t->new_urls += (uint64_t)it->new_urls;
    if (it->res.error && *it->res.error)
        t->errors++;
}

/* The store thread's news: acknowledged items (figures; the robots cache's answers), a
 * lease's URLs, a fatal error. */
static void handle_store(struct coord *co, int *got)
{
    struct scr_store_events ev;
    struct scr_store_item *it;

    scr_store_poll(co->st, &ev);
    while ((it = ev.done) != NULL) {
        ev.done = it->next;
        *got = 1;
        co->acked++;
        if (it->leased) {
            /* the URL is the database's again (stored, or its lease lost) */
            co->leased_in_store--;
            co->leased--;
        }
        if (it->op == SCR_STORE_CLAIMS) {
            scr_claims_done(co, it);
        } else if (it->op == SCR_STORE_HOST_DOWN) {
            scr_results_host_down(co, it);
        } else if (it->op == SCR_STORE_ROBOTS_GET) {
            if (!it->stored)
                scr_warn("could not read the robots.txt cache; robots.txt is fetched again");
            scr_dispatch_robots_looked_up(co, it);
        } else if (it->op != SCR_STORE_RESULT) {
            if (!it->stored)
                scr_warn("could not save %s", it->op == SCR_STORE_ROBOTS ? "a robots.txt"
                                                                          : "sitemap URLs");
        } else if (it->stored) {
            if (it->quarantined) {
                co->tally.quarantined++;
                scr_warn("URL %llu %s", (unsigned long long)it->res.url_id, it->res.error);
            }
            tally_stored(&co->tally, it);
            if (!it->no_fetch) {
                co->scope.known += it->new_urls;
                scr_rulestats_add(&co->rulestats, it->res.rules_stats);
            }
        } else if (!co->fatal_db) {
            co->tally.lost_results++;
            scr_warn("the lease of URL %llu was taken over by another run; result discarded",
                     (unsigned long long)it->res.url_id);
        }
        scr_store_item_free(it);
    }
    if (ev.lease_done) {
        *got = 1;
        scr_dispatch_leased(co, &ev);
    }
    if (ev.reclaimed)
        co->lease.force = 1;
    if (ev.fatal && !co->fatal_db) {
        co->fatal_db = 1;
        snprintf(co->fatal_msg, sizeof(co->fatal_msg), "%s", ev.error);
    }
}

static void handle_messages(struct coord *co, int *got)
{
    char *data;
    size_t len;
    int peer;

    *got = 0;
    while (scr_comm_recv(co->c, &peer, &data, &len) == SCR_OK) {
        struct scr_peer *w = peer > 0 && peer < co->peers.n ? &co->peers.p[peer] : NULL;
        *got = 1;
        if (!w) {
            scr_error("message from unexpected rank %d", peer);
            free(data);
            continue;
        }
        w->last_heard_ms = scr_now_ms();
        switch (scr_wire_type(data, len)) {
        case SCR_MSG_HELLO:
            scr_peers_on_hello(&co->peers, w, data, len, co->stopping);
            break;
        case SCR_MSG_REQUEST:
            if (w->state == SCR_PEER_ACTIVE)
                scr_dispatch_on_request(co, w, data, len);
            break;
        case SCR_MSG_RESULT:
            scr_results_on_result(co, w, data, len);
            break;
        case SCR_MSG_BYE:
            scr_peers_on_bye(w, data, len);
            scr_dispatch_requeue_peer(co, w);
            break;
        case SCR_MSG_RETURN:
            scr_dispatch_on_return(co, w, data, len);
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

/* The invariant of coord_internal.h: every URL this run leased and still holds is in exactly
 * one place: the pool, one peer's in-flight list (robots tasks are not leased URLs), or the
 * store's queue.  Debug builds only (O(in flight) per call). */
static void check_leased(const struct coord *co)
{
#ifndef NDEBUG
    int64_t inflight = 0;

    for (int i = 1; i < co->peers.n; i++)
        for (size_t j = 0; j < co->peers.p[i].nfl; j++)
            inflight += co->peers.p[i].fl[j].it.kind != SCR_TASK_ROBOTS;
    assert(co->leased_in_store >= 0);
    assert(co->leased == (int64_t)co->hosts.pooled + inflight + co->leased_in_store);
#else
    (void)co;
#endif
}

static void on_lost(struct scr_peer *w, void *ctx)
{
    scr_results_lost_peer(ctx, w);
}

static int crawl_finished(const struct coord *co)
{
    const struct scr_outlook *o = &co->lease.outlook;

    return !co->lease.out && co->lease.empty && co->lease.empty_clean &&
           co->lease.empty_seq == co->submitted && co->acked == co->submitted &&
           co->hosts.pooled == 0 && scr_peers_inflight(&co->peers) == 0 &&
           o->queued_ready == 0 && o->leased_other == 0 &&
           (o->queued_later == 0 || o->next_due_ms > co->s->max_retry_wait_ms);
}

static void begin_stop(struct coord *co, const char *why)
{
    if (co->stopping)
        return;
    scr_info("%s: stopping the workers", why);
    co->stopping = 1;
    co->stop_ms = scr_now_ms();
    scr_peers_stop(&co->peers);
}

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
        scr_peers_check(&co->peers, on_lost, co);
        check_leased(co);
        if (scr_coordinator_stop && !co->interrupted) {
            co->interrupted = 1;
            interrupt_ms = scr_now_ms();
            begin_stop(co, "interrupted");
        }
        if (scr_coordinator_stop > 1 ||
            (co->interrupted && scr_now_ms() - interrupt_ms > 30000))
            break;
        if (co->fatal_db && !co->stopping) {
            scr_error("database lost: %s", co->fatal_msg);
            begin_stop(co, "the database is gone");
        }
        for (int i = 1; i < co->peers.n; i++)
            scr_dispatch_peer(co, &co->peers.p[i]);
        scr_dispatch_recall(co);
        scr_dispatch_lease(co);
        scr_claims_tick(co);
        if (!co->stopping && crawl_finished(co))
            begin_stop(co, "the crawl is complete");
        if (!co->stopping && scr_peers_active(&co->peers) == 0) {
            scr_error("no worker is left: the crawl cannot go on (see the workers' errors)");
            co->no_workers = 1;
            begin_stop(co, "no workers");
        }
        if (co->stopping && scr_peers_all_gone(&co->peers) &&
            (co->acked == co->submitted || co->fatal_db))
            break;
        scr_summary_progress(co, 0);
        t = scr_hosts_next_us(&co->hosts, scr_now_us());
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
    if (co->tally.failed) {
        *exit_code = SCR_EXIT_PARTIAL;
        return "partial";
    }
    *exit_code = SCR_EXIT_OK;
    return "done";
}

static void finish(struct coord *co, struct scr_run_outcome *out)
{
    double secs;
    PGconn *db;
    struct scr_lease_item *rest = NULL;
    size_t nrest;
    const char *status;
    char err[1024];
    int lost = 0;
    uint64_t back = 0;

    if (co->tally.tty)
        scr_summary_progress(co, 1);
    secs = (double)(scr_now_ms() - co->tally.start_ms) / 1000.0;
    db = scr_store_stop(co->st);
    co->st = NULL;
    check_leased(co);
    /* the pool's URLs are released to 'queued' by scr_frontier_release below */
    nrest = scr_hosts_drain(&co->hosts, &rest);
    co->leased -= (int64_t)nrest;
    for (size_t i = 0; i < nrest; i++)
        scr_lease_item_release(&rest[i]);
    free(rest);
    for (int i = 1; i < co->peers.n; i++) {
        struct scr_peer *w = &co->peers.p[i];
        if (w->state == SCR_PEER_ACTIVE || w->state == SCR_PEER_WAITING ||
            w->state == SCR_PEER_STOPPING) {
            /* stopped at once (second signal): the rank cannot join MPI_Finalize */
            if (w->state == SCR_PEER_ACTIVE)
                scr_peers_send_simple(&co->peers, w, SCR_MSG_STOP);
            out->unfinished_workers++;
        }
        lost += w->state == SCR_PEER_LOST || w->state == SCR_PEER_REFUSED;
        back += w->returned;
    }
    out->lost_workers = lost;
    if (back)
        scr_info("end of the frontier: %llu unstarted tasks were taken back from slower "
                 "workers and handed to faster ones", (unsigned long long)back);
    status = finish_status(co, &out->exit_code, lost);
    if (!db) {
        /* reconnect once to close the run; if that fails the next run marks it died */
        scr_db_connect(&db, scr_db_conninfo(co->s->db), 0, err, sizeof(err));
    }
    /* the hosts go to the other islands, spaced from this run's last starts */
    scr_claims_finish(co, db);
    scr_summary_finish(co, db, status, out->exit_code, secs);
    PQfinish(db);
}

void scr_coordinator_run(struct scr_comm *c, struct scr_settings *s, const char *command,
                         struct scr_run_outcome *out)
{
    struct coord co;
    PGconn *db = NULL;
    int64_t nseeds = 0;
    char err[1024], hash[65];
    int rc;

    memset(&co, 0, sizeof(co));
    memset(out, 0, sizeof(*out));
    co.c = c;
    co.s = s;
    co.tally.start_ms = co.tally.last_progress_ms = scr_now_ms();
    co.tally.tty = isatty(STDERR_FILENO);
    co.tally.start_cpu_us = scr_cpu_us();
    scr_peers_init(&co.peers, c, s);
    co.bn = scr_xcalloc((size_t)co.peers.n, sizeof(*co.bn));
    /* the job's stored settings first: everything below reads s (jobs.h) */
    rc = scr_jobs_apply_stored(s, err, sizeof(err));
    if (rc != SCR_OK) {
        scr_error("%s", err);
        /* as scr_setup_db: a conninfo mistake is a usage error, a wait ended by a signal an
         * interruption */
        rc = rc == SCR_EUSAGE       ? SCR_EXIT_USAGE
             : scr_coordinator_stop ? SCR_EXIT_INTERRUPTED
                                    : SCR_EXIT_DB;
    }
    scr_hosts_init(&co.hosts, s->host_concurrency, s->delay_ms, s->max_crawl_delay_ms,
                   s->user_agent);
    co.hosts.claims = 1;
    scr_claims_init(&co.claims);
    if (scr_scope_init(&co.scope, s) == SCR_ENOMEM) {
        out->exit_code = SCR_EXIT_FAILURE;
        goto out;
    }
    if (rc == SCR_EXIT_OK)
        rc = scr_setup_preflight(&co, &nseeds);
    co.peers.rules_text = co.rules_text;
    scr_rulestats_init(&co.rulestats, co.rules_text);
    if (rc == SCR_EXIT_OK)
        rc = scr_setup_db(&co, command, &db);
    if (rc == SCR_EXIT_OK) {
        scr_jobs_extract_hash(s, co.rules_text, hash);
        if (scr_jobs_save(db, co.job_id, co.run_id, s, hash, err, sizeof(err)) != SCR_OK) {
            scr_error("%s", err);
            PQfinish(db);
            rc = SCR_EXIT_DB;
        }
    }
    if (rc != SCR_EXIT_OK) {
        /* Workers are waiting for WELCOME: tell them the run did not start. */
        scr_coordinator_stop_workers(c, "the coordinator could not start the run");
        out->exit_code = rc;
        goto out;
    }
    rc = scr_store_start(&co.st, db, scr_db_conninfo(s->db), co.job_id, co.run_id, s);
    if (rc) {
        PQfinish(db);
        out->exit_code = rc == SCR_EDB ? SCR_EXIT_DB : SCR_EXIT_FAILURE;
        goto out;
    }
    scr_peers_listen(&co.peers);
    run_loop(&co);
    finish(&co, out);
out:
    if (co.st)
        PQfinish(scr_store_stop(co.st));
    scr_peers_release(&co.peers);
    free(co.bn);
    free(co.rules_text);
    scr_rulestats_release(&co.rulestats);
    scr_urlopts_release(&co.uo);
    scr_hosts_release(&co.hosts);
    scr_claims_release(&co.claims);
    scr_scope_release(&co.scope);
}
