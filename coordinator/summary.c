/* summary.c - the run's progress line, its summary and the per-worker rows (see summary.h).
 *
 * Reads the figures (struct scr_tally, the peers' counters) and writes them out: a status
 * line on a terminal or a log line every --progress-interval, the summary JSON and node list
 * of the run's row, the run_workers rows (the statement is in runs.c) and the summary on
 * stdout.  Called by the dispatcher loop and at the end of the run; never changes the crawl.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "coordinator/coord_internal.h"
#include "coordinator/runs.h"

void scr_summary_fmt_secs(char *buf, size_t len, double secs)
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
void scr_summary_progress(struct coord *co, int final)
{
    int64_t now = scr_now_ms();
    double secs = (double)(now - co->tally.start_ms) / 1000.0;
    double rate = secs > 0 ? (double)co->tally.stored / secs : 0.0;
    int64_t left = co->scope.known - co->tally.settled_at_start - co->tally.settled;
    char el[16], eta[16];

    if (co->s->quiet)
        return;
    if (left < 0)
        left = 0;
    scr_summary_fmt_secs(el, sizeof(el), secs);
    scr_summary_fmt_secs(eta, sizeof(eta), rate > 0 ? (double)left / rate : -1);
    if (co->tally.tty) {
        if (!final && now - co->tally.last_progress_ms < 1000)
            return;
        co->tally.last_progress_ms = now;
        fprintf(stderr, "\r\033[K%llu pages, %lld left, %.1f pages/s, %llu errors, %.1f MB, "
                        "%d workers, %s elapsed, ~%s to go%s",
                (unsigned long long)co->tally.stored, (long long)left, rate,
                (unsigned long long)co->tally.errors, (double)co->tally.bytes / 1e6,
                scr_peers_active(&co->peers), el, eta, final ? "\n" : "");
        fflush(stderr);
        return;
    }
    if (final || now - co->tally.last_progress_ms < co->s->progress_interval_ms)
        return;
    co->tally.last_progress_ms = now;
    scr_info("progress: %llu pages, %lld left, %.1f pages/s, %llu errors, %llu bytes, "
             "%d workers, %s elapsed, ~%s to go",
             (unsigned long long)co->tally.stored, (long long)left, rate,
             (unsigned long long)co->tally.errors, (unsigned long long)co->tally.bytes,
             scr_peers_active(&co->peers), el, eta);
}

static json_t *nodes_json(const struct coord *co)
{
    json_t *a = json_array();

    for (int i = 1; i < co->peers.n; i++) {
        const struct scr_peer *w = &co->peers.p[i];
        json_array_append_new(
            a, json_pack("{s:i, s:s, s:s, s:s, s:i, s:s, s:s, s:s}", "rank", w->rank, "host",
                         w->hello.host ? w->hello.host : "", "arch",
                         w->hello.arch ? w->hello.arch : "", "os", w->hello.os ? w->hello.os : "",
                         "cores", (int)w->hello.cores, "version",
                         w->hello.version ? w->hello.version : "", "build_id",
                         w->hello.build_id ? w->hello.build_id : "", "state",
                         scr_peer_state_name(w->state)));
    }
    return a;
}

static double worker_rate(const struct scr_peer *w, double run_secs)
{
    double secs = w->has_bye ? (double)(w->bye.busy_ms + w->bye.idle_ms) / 1000.0 : run_secs;
    if (secs <= 0)
        secs = run_secs;
    return secs > 0 ? (double)w->pages / secs : 0.0;
}

static json_t *summary_json(const struct coord *co, double secs)
{
    json_t *workers = json_array();
    int64_t cpu_us = scr_cpu_us() - co->tally.start_cpu_us;

    for (int i = 1; i < co->peers.n; i++) {
        const struct scr_peer *w = &co->peers.p[i];
        json_array_append_new(
            workers, json_pack("{s:i, s:s, s:I, s:I, s:I, s:f, s:s}", "rank", w->rank, "host",
                               w->hello.host ? w->hello.host : "", "pages", (json_int_t)w->pages,
                               "errors", (json_int_t)w->errors, "bytes", (json_int_t)w->bytes,
                               "pages_per_s", worker_rate(w, secs), "state",
                               scr_peer_state_name(w->state)));
    }
    const struct scr_tally *t = &co->tally;
    json_t *sum;

    sum = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:o}",
                     "pages", (json_int_t)t->stored, "records", (json_int_t)t->records,
                     "errors", (json_int_t)t->errors, "failed", (json_int_t)t->failed,
                     "retried", (json_int_t)t->retried, "lost_urls", (json_int_t)t->lost_urls,
                     "quarantined", (json_int_t)t->quarantined, "bytes",
                     (json_int_t)t->bytes, "new_urls",
                     (json_int_t)t->new_urls, "seconds", secs, "pages_per_s",
                     secs > 0 ? (double)t->stored / secs : 0.0, "coordinator_cpu_ms_per_page",
                     t->stored ? (double)cpu_us / 1000.0 / (double)t->stored : 0.0, "workers",
                     workers);
    if (sum && t->hosts_down) { /* outages.h */
        json_object_set_new(sum, "hosts_down", json_integer((json_int_t)t->hosts_down));
        json_object_set_new(sum, "hosts_failed", json_integer((json_int_t)t->hosts_failed));
    }
    return sum;
}

static void print_summary(const struct coord *co, const char *status, double secs)
{
    printf("scrape: run %lld of job '%s' (island %s) %s in %.1f s\n", (long long)co->run_id,
           co->s->job, co->island, status, secs);
    printf("  pages %llu, records %llu, errors %llu (failed %llu, retried %llu), bytes %llu, "
           "%.1f pages/s\n",
           (unsigned long long)co->tally.stored, (unsigned long long)co->tally.records,
           (unsigned long long)co->tally.errors, (unsigned long long)co->tally.failed,
           (unsigned long long)co->tally.retried, (unsigned long long)co->tally.bytes,
           secs > 0 ? (double)co->tally.stored / secs : 0.0);
    {
        char d[256];
        scr_scope_drops_format(&co->scope.drops, d, sizeof(d));
        printf("  skipped %llu; links dropped: %s\n", (unsigned long long)co->tally.skipped, d);
        if (co->tally.lost_urls)
            printf("  %llu URLs were in flight on lost workers (an attempt each); %llu of them "
                   "quarantined\n", (unsigned long long)co->tally.lost_urls,
                   (unsigned long long)co->tally.quarantined);
        if (co->tally.hosts_down)
            printf("  hosts unreachable: %llu (robots.txt got no answer)%s%s\n",
                   (unsigned long long)co->tally.hosts_down,
                   co->tally.hosts_failed ? "; URLs failed for good: " : "",
                   co->tally.host_failed);
        if (co->interrupted)
            printf("  the run was interrupted (SIGINT or SIGTERM) before the crawl ended; "
                   "run the same command again to resume it\n");
        else if (co->lease.outlook.queued_later || co->lease.outlook.queued_ready)
            printf("  %lld URLs wait for a later run (retries or hosts put off)\n",
                   (long long)(co->lease.outlook.queued_later + co->lease.outlook.queued_ready));
    }
    printf("  %-5s %-24s %8s %9s %7s  %s\n", "rank", "host", "pages", "pages/s", "errors",
           "state");
    for (int i = 1; i < co->peers.n; i++) {
        const struct scr_peer *w = &co->peers.p[i];
        printf("  %-5d %-24s %8llu %9.1f %7llu  %s\n", w->rank,
               w->hello.host ? w->hello.host : "?", (unsigned long long)w->pages,
               worker_rate(w, secs), (unsigned long long)w->errors, scr_peer_state_name(w->state));
    }
    scr_rulestats_print(&co->rulestats, stdout);
    fflush(stdout);
}

void scr_summary_store_workers(const struct scr_peers *peers, PGconn *db, int64_t run_id,
                               double secs)
{
    char err[512];

    for (int i = 1; i < peers->n; i++) {
        const struct scr_peer *w = &peers->p[i];
        struct scr_run_worker rw = {
            .rank = w->rank,
            .host = w->hello.host ? w->hello.host : "?",
            .arch = w->hello.arch,
            .os = w->hello.os,
            .version = w->hello.version,
            .build_id = w->hello.build_id,
            .state = scr_peer_state_name(w->state),
            .cores = w->hello.cores,
            .pages = w->pages,
            .bytes = w->bytes,
            .errors = w->errors,
            .records = w->records,
            .has_bye = w->has_bye,
            .busy_ms = w->bye.busy_ms,
            .idle_ms = w->bye.idle_ms,
            .cpu_ms = w->bye.cpu_us / 1000,
            .max_rss_kb = w->bye.max_rss_kb,
            .pages_per_s = worker_rate(w, secs),
        };
        if (scr_runs_worker(db, run_id, &rw, err, sizeof(err)))
            scr_warn("%s", err);
    }
}

void scr_summary_finish(struct coord *co, PGconn *db, const char *status, int exit_code,
                        double secs)
{
    json_t *sum = summary_json(co, secs), *nodes = nodes_json(co);
    char *sum_txt, *nodes_txt = json_dumps(nodes, JSON_COMPACT);
    char err[1024];

    scr_rulestats_put(&co->rulestats, sum);
    sum_txt = json_dumps(sum, JSON_COMPACT);
    if (db) {
        if (scr_frontier_release(db, co->run_id, err, sizeof(err)) ||
            scr_runs_end(db, co->run_id, status, exit_code, sum_txt ? sum_txt : "{}",
                         nodes_txt ? nodes_txt : "[]", err, sizeof(err)))
            scr_error("%s", err);
        scr_summary_store_workers(&co->peers, db, co->run_id, secs);
    }
    print_summary(co, status, secs);
    free(sum_txt);
    free(nodes_txt);
    json_decref(sum);
    json_decref(nodes);
}
