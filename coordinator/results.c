/* results.c - what a RESULT does, and the URLs settled without one.
 *
 * A RESULT takes its task off the worker's in-flight list, updates the host (timing, error
 * streak, parking: hosts.c), classifies the outcome (retry.c), filters the outlinks through
 * the scope, queues a redirect's target, and becomes a store item.  A robots.txt answer
 * installs the host's rules and settles its pooled URLs again.  URLs that are not fetched
 * (skipped by robots.txt, put back for a parked or down host) become store items here too, and
 * so do the URLs of a lost worker (an attempt counted; quarantined at their second loss).
 *
 * Invariant: every store item that carries a leased URL is counted in co->leased_in_store
 * from scr_results_submit until the store hands it back.  Dispatcher thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "common/url.h"
#include "common/wire.h"
#include "coordinator/coord_internal.h"
#include "coordinator/retry.h"
#include "coordinator/robots.h"

struct scr_store_item *scr_results_item_new(void)
{
    struct scr_store_item *it = scr_xcalloc(1, sizeof(*it));
    scr_result_init(&it->res);
    return it;
}

void scr_results_submit(struct coord *co, struct scr_store_item *it, int leased)
{
    it->leased = leased;
    co->leased_in_store += leased;
    scr_store_submit(co->st, it);
    co->submitted++;
}

void scr_results_unfetched(struct coord *co, struct scr_lease_item *li,
                           enum scr_url_state state, const char *reason, int64_t retry_ms)
{
    struct scr_store_item *it = scr_results_item_new();

    it->res.url_id = (uint64_t)li->url_id;
    it->new_state = state;
    it->retry_delay_ms = retry_ms;
    it->no_fetch = 1;
    it->res.final_url = scr_xstrdup("");
    it->res.content_type = scr_xstrdup("");
    it->res.error = scr_xstrdup(reason);
    it->res.etag = scr_xstrdup("");
    it->res.last_modified = scr_xstrdup("");
    it->res.content_hash = scr_xstrdup("");
    it->records_json = scr_xstrdup("[]");
    scr_lease_item_release(li);
    if (state == SCR_URL_SKIPPED)
        co->tally.skipped++;
    scr_results_submit(co, it, 1);
}

/* A URL that was in flight on w when w was lost: the lease counts as an attempt, and the URL
 * goes back to the frontier (not to the pool: a page that silences the worker fetching it must
 * not be handed to the next one at once) to be retried after the transient backoff, or failed
 * at --max-attempts; the store statement quarantines it at its second loss over all runs.
 * Takes li's strings. */
static void lost_url(struct coord *co, const struct scr_peer *w, struct scr_lease_item *li)
{
    struct scr_store_item *it = scr_results_item_new();
    int64_t delay;
    char reason[256];

    snprintf(reason, sizeof(reason), "worker rank %d on %s was lost while fetching this URL",
             w->rank, w->hello.host ? w->hello.host : "?");
    it->res.url_id = (uint64_t)li->url_id;
    it->new_state = scr_retry_state(scr_retry_lost(li->attempts, co->s->max_attempts, &delay));
    it->retry_delay_ms = delay;
    it->no_fetch = 1;
    it->lost = 1;
    it->quarantine_losses = SCR_RETRY_QUARANTINE_LOSSES;
    it->worker_rank = w->rank;
    snprintf(it->worker_host, sizeof(it->worker_host), "%s", w->hello.host ? w->hello.host : "?");
    it->res.final_url = scr_xstrdup("");
    it->res.content_type = scr_xstrdup("");
    it->res.error = scr_xstrdup(reason);
    it->res.etag = scr_xstrdup("");
    it->res.last_modified = scr_xstrdup("");
    it->res.content_hash = scr_xstrdup("");
    it->records_json = scr_xstrdup("[]");
    scr_debug("%s: attempt %d of URL %lld (%s) counted", reason, li->attempts,
              (long long)li->url_id, li->url);
    scr_lease_item_release(li);
    co->tally.lost_urls++;
    scr_results_submit(co, it, 1);
}

void scr_results_lost_peer(struct coord *co, struct scr_peer *w)
{
    for (size_t i = 0; i < w->nfl; i++) {
        struct scr_lease_item *li = &w->fl[i].it;
        if (li->kind == SCR_TASK_ROBOTS) {
            scr_dispatch_requeue(co, li); /* asked again; no URL of the frontier */
            continue;
        }
        scr_hosts_done(&co->hosts, li->host, 0, -1);
        lost_url(co, w, li);
    }
    w->nfl = 0;
}

/* scr_hosts_resettle's drop: a pooled URL that no longer goes to a worker. */
static void resettle_drop(struct scr_lease_item *it, enum scr_settle how, const char *reason,
                          void *ctx)
{
    struct coord *co = ctx;
    struct scr_lease_item copy = *it;

    memset(it, 0, sizeof(*it));
    if (how == SCR_SETTLE_PUT_BACK)
        scr_results_unfetched(co, &copy, SCR_URL_QUEUED, reason, SCR_HOSTS_PUT_BACK_MS);
    else if (how == SCR_SETTLE_FAILED)
        scr_results_unfetched(co, &copy, SCR_URL_FAILED, reason, 0);
    else
        scr_results_unfetched(co, &copy, SCR_URL_SKIPPED, reason, 0);
}

/* Applies what became known of host (robots rules, unavailability, parking) to its pooled
 * URLs. */
void scr_results_resettle(struct coord *co, const char *host)
{
    scr_hosts_resettle(&co->hosts, host, resettle_drop, co);
}

/* Queues the sitemaps of a seed host once per run (--sitemaps). */
static void queue_sitemaps(struct coord *co, const char *host, const char *scheme)
{
    const struct scr_robots *r = scr_hosts_robots(&co->hosts, host);
    struct scr_strvec cand;
    struct scr_store_item *it;
    char url[600];

    if (!co->s->sitemaps || !scr_strmap_get(&co->scope.hosts, host) ||
        !scr_hosts_sitemaps_once(&co->hosts, host))
        return;
    scr_strvec_init(&cand);
    snprintf(url, sizeof(url), "%s://%s/sitemap.xml", scheme, host);
    scr_strvec_push(&cand, url);
    for (size_t i = 0; r && i < scr_robots_sitemap_count(r); i++) {
        char *norm = NULL, why[128];
        if (scr_url_normalize(NULL, scr_robots_sitemap(r, i), &co->uo.opts, &norm, NULL, why,
                              sizeof(why)) == SCR_OK)
            scr_strvec_push_owned(&cand, norm);
    }
    it = scr_results_item_new();
    it->op = SCR_STORE_SITEMAPS;
    it->new_state = SCR_URL_DONE;
    it->max_urls = co->s->max_pages;
    scr_scope_filter(&co->scope, -1, &cand, &it->sitemap_links, &it->sitemap_hosts);
    scr_results_submit(co, it, 0);
    scr_strvec_release(&cand);
}

void scr_results_robots_ready(struct coord *co, const char *host, const char *body,
                              int status)
{
    struct scr_robots *r = NULL;
    double cd = -1;

    if (status >= 200 && status < 300 && body) {
        if (scr_robots_parse(body, strlen(body), &r) != SCR_OK)
            r = NULL;
        cd = scr_robots_crawl_delay(r, co->s->user_agent);
    }
    scr_hosts_robots_set(&co->hosts, host, r, cd);
    scr_results_resettle(co, host);
    queue_sitemaps(co, host, scr_hosts_scheme(&co->hosts, host));
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
    it->robots_host = scr_xstrdup(li->host);
    free(it->res.final_url);
    it->res.final_url = scr_xstrdup(li->url);
    if (usable) {
        /* 2xx: the rules; 4xx: no rules, everything allowed (RFC 9309 2.3.1.3) */
        scr_results_robots_ready(co, li->host, it->res.body, status);
    } else if (scr_hosts_robots_failed(&co->hosts, li->host, now_us, co->s->max_attempts)) {
        /* down in this run: the store counts the runs it has been down (outages.h) */
        char why[400];
        struct scr_store_item *d = scr_results_item_new();
        if (it->res.error && *it->res.error)
            snprintf(why, sizeof(why), "%s", it->res.error);
        else if (status)
            snprintf(why, sizeof(why), "HTTP %d", status);
        else
            snprintf(why, sizeof(why), "no answer");
        d->op = SCR_STORE_HOST_DOWN;
        d->robots_host = scr_xstrdup(li->host);
        free(d->res.error);
        d->res.error = scr_xstrdup(why);
        d->down_max_runs = co->s->host_down_runs;
        d->down_after_ms = co->s->host_down_after_ms;
        scr_results_submit(co, it, 0);
        scr_results_submit(co, d, 0);
        return;
    }
    scr_results_submit(co, it, 0);
}

void scr_results_host_down(struct coord *co, struct scr_store_item *it)
{
    const struct scr_outage *o = &it->outage;
    const char *host = it->robots_host;
    char reason[600], after[32];
    size_t n;

    scr_summary_fmt_secs(after, sizeof(after), (double)co->s->host_down_after_ms / 1000.0);
    co->tally.hosts_down++;
    if (!it->stored) {
        /* the count could not be kept (the database): put back, as before outages.h */
        snprintf(reason, sizeof(reason), "robots.txt unavailable (%s)", it->res.error);
        scr_warn("%s: %s; its URLs wait for a later run", host, reason);
        scr_hosts_set_down(&co->hosts, host, reason, 0);
    } else if (o->final) {
        if (!co->tally.hosts_failed++)
            snprintf(co->tally.host_failed, sizeof(co->tally.host_failed), "%s: %s", host,
                     o->reason);
        co->tally.failed += (uint64_t)o->failed;
        co->tally.settled += o->failed;
        scr_hosts_set_down(&co->hosts, host, o->reason, 1);
        n = scr_hosts_resettle(&co->hosts, host, resettle_drop, co);
        scr_warn("%s unreachable in %d runs since %s (robots.txt: %s): its URLs fail "
                 "(--host-down-runs %d, --host-down-after %s): %lld failed now",
                 host, o->runs, o->since, it->res.error, co->s->host_down_runs, after,
                 (long long)o->failed + (long long)n);
        return;
    } else {
        snprintf(reason, sizeof(reason), "host unreachable in %d run%s since %s: %s", o->runs,
                 o->runs == 1 ? "" : "s", o->since, it->res.error);
        if (co->s->host_down_runs > 0)
            scr_warn("%s unreachable in %d run%s since %s (robots.txt: %s); its URLs wait for "
                     "the next run, and fail once it has been down in %d runs and for %s "
                     "(--host-down-runs, --host-down-after)",
                     host, o->runs, o->runs == 1 ? "" : "s", o->since, it->res.error,
                     co->s->host_down_runs, after);
        else
            scr_warn("%s unreachable in %d run%s since %s (robots.txt: %s); its URLs wait for "
                     "the next run (--host-down-runs 0: they never fail for it)",
                     host, o->runs, o->runs == 1 ? "" : "s", o->since, it->res.error);
        scr_hosts_set_down(&co->hosts, host, reason, 0);
    }
    scr_results_resettle(co, host);
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
        it->res.error = scr_xstrdup(msg);
        it->new_state = SCR_URL_FAILED;
        return;
    }
    free(it->res.final_url);
    it->res.final_url = target;
    if (li->hops + 1 > co->s->max_redirects) {
        char msg[128];
        snprintf(msg, sizeof(msg), "more than %d redirects in a row", co->s->max_redirects);
        free(it->res.error);
        it->res.error = scr_xstrdup(msg);
        it->new_state = SCR_URL_FAILED;
        return;
    }
    scr_strvec_init(&one);
    scr_strvec_push(&one, target);
    scr_strvec_release(&it->links);
    scr_strvec_release(&it->link_hosts);
    scr_scope_filter(&co->scope, li->depth - 1, &one, &it->links, &it->link_hosts);
    it->link_depth_delta = 0;
    it->link_hops = li->hops + 1;
    scr_strvec_release(&one);
}

void scr_results_on_result(struct coord *co, struct scr_peer *w, const char *data, size_t len)
{
    struct scr_store_item *it = scr_xcalloc(1, sizeof(*it));
    struct scr_inflight fl;
    enum scr_outcome outcome;
    int64_t now_us = scr_now_us();

    if (scr_result_decode(&it->res, data, len) != SCR_OK) {
        scr_error("rank %d sent a malformed RESULT (%zu bytes); ignored", w->rank, len);
        scr_store_item_free(it);
        return;
    }
    if (!scr_peer_take(w, it->res.url_id, &fl)) {
        scr_warn("rank %d returned URL %llu, which it was not given; ignored", w->rank,
                 (unsigned long long)it->res.url_id);
        scr_store_item_free(it);
        return;
    }
    scr_rate_result(&w->rate, now_us, w->nfl,
                    now_us - fl.dispatched_us - (int64_t)it->res.wait_ms * 1000);
    scr_hosts_done(&co->hosts, fl.it.host, now_us, (int64_t)it->res.elapsed_ms * 1000);
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
    it->records_json = scr_strvec_join_array(&it->res.records);
    it->max_urls = co->s->max_pages;
    it->link_depth_delta = 1;
    {
        int64_t ra_us = it->res.retry_after_s ? now_us + (int64_t)it->res.retry_after_s * 1000000
                                              : 0;
        int streak = scr_hosts_outcome(&co->hosts, fl.it.host, !scr_retry_transient(&it->res),
                                       now_us, ra_us);
        if ((int64_t)it->res.retry_after_s * 1000 > it->retry_delay_ms &&
            outcome == SCR_OUTCOME_RETRY)
            it->retry_delay_ms = (int64_t)it->res.retry_after_s * 1000;
        if (streak >= SCR_HOSTS_PARK_STREAK) {
            char reason[600];
            snprintf(reason, sizeof(reason), "host parked after %d errors in a row (last: %s)",
                     streak, it->res.error && *it->res.error ? it->res.error : "?");
            if (scr_hosts_park(&co->hosts, fl.it.host, reason)) {
                scr_warn("%s: %s; its URLs wait for a later run", fl.it.host, reason);
                scr_results_resettle(co, fl.it.host);
            }
        }
    }
    if (outcome == SCR_OUTCOME_DONE && fl.it.kind == SCR_TASK_SITEMAP) {
        scr_scope_filter(&co->scope, fl.it.depth, &it->res.links, &it->links, &it->link_hosts);
        /* a sitemap's level is in its hops (0 = a root: /sitemap.xml, robots.txt); the
         * indexes below SCR_SITEMAP_MAX_NESTING are not followed */
        if (fl.it.hops < SCR_SITEMAP_MAX_NESTING)
            scr_scope_filter(&co->scope, -1, &it->res.sitemaps, &it->sitemap_links,
                             &it->sitemap_hosts);
        else if (it->res.sitemaps.n)
            scr_info("%s is a sitemap index %d levels below the root sitemap: its %zu "
                     "sitemaps are not followed", fl.it.url, fl.it.hops, it->res.sitemaps.n);
    } else if (outcome == SCR_OUTCOME_DONE) {
        scr_scope_filter(&co->scope, fl.it.depth, &it->res.links, &it->links, &it->link_hosts);
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
        co->tally.retried++;
    scr_results_submit(co, it, 1);
    scr_lease_item_release(&fl.it);
}
