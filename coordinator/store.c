/* store.c - the coordinator's database thread (see store.h).
 *
 * Lock discipline: `lock` guards the in/out queues and flags only; SQL runs unlocked.  The
 * thread takes the whole input queue and the lease request under one lock acquisition, which
 * is what makes the ordering guarantee of store.h hold.
 *
 * Failure handling: a group whose transaction fails is rolled back.  If the connection broke,
 * the thread reconnects (with backoff, for up to --db-retry), takes the run's lock again and
 * retries the group.  If a statement itself failed, each item is retried in a transaction of
 * its own, and an item that still fails is stored as a failed fetch without its records; if
 * even that fails, it is dropped with an error and its URL stays leased until the next run.
 */
#include "coordinator/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "common/strmap.h"
#include "coordinator/archive.h"
#include "coordinator/db.h"
#include "coordinator/hostdb.h"
#include "coordinator/outages.h"
#include "coordinator/runs.h"
#include "coordinator/seen.h"

#define GROUP_MAX 256
/* dead runs are looked for at least this often (and every --lease-ttl/4 when sooner) */
#define RECLAIM_EVERY_MS 5000
#define GROUP_MAX_LEASING 16
/* URLs the seen cache remembers: 4 MiB, whatever the size of the frontier */
#define SEEN_SLOTS (1u << 19)
/* the group's outlink set: 64 KiB; beyond ~8,000 distinct links a duplicate may go to the
 * database twice, where ON CONFLICT drops it */
#define DEDUP_SLOTS (1u << 13)

struct scr_store {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int efd;
    PGconn *db;
    char *conninfo;
    int64_t job_id, run_id;
    const struct scr_settings *s;
    /* input */
    struct scr_store_item *in_head, *in_tail;
    int lease_n;          /* > 0: a lease is requested */
    struct scr_strvec lease_exclude;
    int stop;
    /* output */
    struct scr_store_item *out_head, *out_tail;
    int lease_done;
    struct scr_lease_item *leased;
    size_t nleased;
    struct scr_claim *claims;
    size_t nclaims;
    int64_t lease_t0_ms;
    struct scr_outlook outlook;
    int reclaimed;        /* the periodic reclaim returned URLs or ended claims */
    int fatal;
    char error[1024];
    char last_error[1024];  /* the last statement error (store thread only) */
    struct scr_seen seen;   /* outlinks known to be stored (store thread only) */
    struct scr_seen dedup;  /* the outlinks of the group being stored (store thread only) */
    struct scr_store_item **grp; /* the results of a group that go in one statement */
    size_t grp_cap;
    int64_t url_count;      /* the job's URLs as of the last commit; -1 = not counted yet
                               (store thread only; used for --max-pages) */
    struct scr_warc *warc;  /* --warc-dir: the writer (store thread only; archive.h) */
};

static void wake(struct scr_store *st)
{
    uint64_t one = 1;
    if (write(st->efd, &one, sizeof(one)) < 0) {
        /* cannot overflow in practice */
    }
}

static void set_fatal(struct scr_store *st, const char *msg)
{
    pthread_mutex_lock(&st->lock);
    st->fatal = 1;
    snprintf(st->error, sizeof(st->error), "%s", msg);
    pthread_mutex_unlock(&st->lock);
    wake(st);
}

/* Reconnects for up to --db-retry; SCR_OK with the run's lock held again. */
static int reconnect(struct scr_store *st)
{
    char err[512];
    int rc;

    scr_db_redact(PQerrorMessage(st->db), err, sizeof(err));
    scr_warn("lost the database connection: %s", err);
    PQfinish(st->db);
    st->db = NULL;
    rc = scr_db_connect(&st->db, st->conninfo, st->s->db_retry_ms, err, sizeof(err));
    if (rc == SCR_OK)
        rc = scr_runs_lock(st->db, st->run_id, err, sizeof(err));
    if (rc == SCR_OK)
        rc = scr_frontier_prepare(st->db, err, sizeof(err));
    if (rc) {
        scr_error("%s", err);
        set_fatal(st, err);
        return rc;
    }
    scr_info("reconnected to the database");
    return SCR_OK;
}

static int exec_simple(struct scr_store *st, const char *sql)
{
    char err[512];
    return scr_db_command(st->db, sql, sql, 0, NULL, err, sizeof(err));
}

/* 1 when the result can go in the group's set-based statement (scr_frontier_store_group):
 * no --max-pages room to count, not a lost worker's URL, no nested sitemaps, and its URL not
 * already in the group (n items so far). */
static int groupable(const struct scr_store *st, const struct scr_store_item *it, size_t n)
{
    if (it->op != SCR_STORE_RESULT || it->max_urls > 0 || it->lost || it->sitemap_links.n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (st->grp[i]->res.url_id == it->res.url_id)
            return 0;
    return 1;
}

/* Commits a group in one transaction.  SCR_OK, SCR_EDBCONN (connection broken) or SCR_EDB
 * (a statement failed; the transaction was rolled back), or SCR_EIO (--warc-dir: the WARC
 * file could not be written; rolled back, and the run stops: set_fatal).  The plain results
 * of the group go in one set-based statement after the other items; the rest one statement
 * each. */
static int store_group(struct scr_store *st, struct scr_store_item *head)
{
    char err[1024];
    int64_t count;
    int rc;
    size_t ngrp = 0;

    if (exec_simple(st, "BEGIN"))
        return scr_db_broken(st->db) ? SCR_EDBCONN : SCR_EDB;
    /* --warc-dir: the records are on disk before anything that points at them commits */
    if (st->warc && (rc = scr_archive_write(st->db, st->warc, head, err, sizeof(err)))) {
        if (rc == SCR_EIO) {
            exec_simple(st, "ROLLBACK");
            scr_error("%s", err);
            set_fatal(st, err);
            return SCR_EIO;
        }
        if (scr_db_broken(st->db))
            return SCR_EDBCONN;
        snprintf(st->last_error, sizeof(st->last_error), "%s", err);
        exec_simple(st, "ROLLBACK");
        return SCR_EDB;
    }
    count = st->url_count;
    for (struct scr_store_item *it = head; it; it = it->next) {
        if (groupable(st, it, ngrp)) {
            /* links the frontier certainly has need not travel (see seen.h) */
            scr_seen_filter(&st->seen, &it->links, &it->link_hosts);
            if (ngrp == st->grp_cap) {
                st->grp_cap = st->grp_cap ? 2 * st->grp_cap : GROUP_MAX;
                st->grp = scr_xreallocarray(st->grp, st->grp_cap, sizeof(*st->grp));
            }
            st->grp[ngrp++] = it;
            continue;
        }
        switch (it->op) {
        case SCR_STORE_ROBOTS:
            rc = scr_hostdb_robots_put(st->db, it->robots_host, it->res.final_url,
                                       it->res.http_status, it->res.body ? it->res.body : "",
                                       it->res.error ? it->res.error : "", err, sizeof(err));
            /* an answer below 500 ends the host's outage */
            if (rc == SCR_OK && it->res.curl_code == 0 && it->res.http_status > 0 &&
                it->res.http_status < 500)
                rc = scr_outages_clear(st->db, st->job_id, it->robots_host, err, sizeof(err));
            it->stored = rc == SCR_OK;
            break;
        case SCR_STORE_HOST_DOWN:
            rc = scr_outages_record(st->db, st->job_id, st->run_id, it->robots_host,
                                    it->res.error, it->down_max_runs, it->down_after_ms,
                                    &it->outage, err, sizeof(err));
            it->stored = rc == SCR_OK;
            break;
        case SCR_STORE_SITEMAPS:
            /* --max-pages counts sitemaps too */
            rc = SCR_OK;
            if (it->max_urls > 0 && count < 0)
                rc = scr_frontier_count(st->db, st->job_id, &count, err, sizeof(err));
            if (rc == SCR_OK)
                rc = scr_frontier_add_sitemaps(
                    st->db, st->job_id, &it->sitemap_links, &it->sitemap_hosts,
                    it->max_urls > 0 ? (it->max_urls > count ? it->max_urls - count : 0) : -1,
                    &it->new_urls, err, sizeof(err));
            it->stored = rc == SCR_OK;
            if (rc == SCR_OK && count >= 0)
                count += it->new_urls;
            break;
        case SCR_STORE_ROBOTS_GET:
            rc = scr_hostdb_robots_get(st->db, &it->robots_hosts, st->s->robots_ttl_ms,
                                       &it->robots, &it->nrobots, err, sizeof(err));
            it->stored = rc == SCR_OK;
            break;
        case SCR_STORE_CLAIMS:
            /* a retried group starts again from an empty answer */
            scr_strvec_reset(&it->claims_held);
            it->claims_t0_ms = scr_now_ms();
            rc = scr_hostdb_claims_update(st->db, st->job_id, st->run_id, st->s->lease_ttl_ms,
                                          &it->claims_release, &it->claims_ages, it->claims_renew,
                                          &it->claims_keep, &it->claims_held, &it->claims_others,
                                          err, sizeof(err));
            it->stored = rc == SCR_OK;
            break;
        default:
            /* links the frontier certainly has need not travel (see seen.h) */
            if (it->max_urls == 0)
                scr_seen_filter(&st->seen, &it->links, &it->link_hosts);
            /* --max-pages: the room left is counted here, not by the statement (a count of
             * the job's URLs per stored page would cost O(frontier) each time) */
            rc = SCR_OK;
            if (it->max_urls > 0 && count < 0)
                rc = scr_frontier_count(st->db, st->job_id, &count, err, sizeof(err));
            if (rc == SCR_OK) {
                it->url_room = it->max_urls > count ? it->max_urls - count : 0;
                rc = scr_frontier_store(st->db, st->run_id, it, err, sizeof(err));
            }
            if (rc == SCR_OK && count >= 0)
                count += it->new_urls;
            break;
        }
        if (rc)
            goto failed;
    }
    if (ngrp) {
        rc = scr_frontier_store_group(st->db, st->run_id, st->grp, ngrp, &st->dedup, err,
                                      sizeof(err));
        if (rc)
            goto failed;
        for (size_t i = 0; i < ngrp && count >= 0; i++)
            count += st->grp[i]->new_urls;
    }
    if (st->warc && scr_archive_link(st->db, st->run_id, head, err, sizeof(err))) {
        if (scr_db_broken(st->db))
            return SCR_EDBCONN;
        snprintf(st->last_error, sizeof(st->last_error), "%s", err);
        exec_simple(st, "ROLLBACK");
        return SCR_EDB;
    }
    if (exec_simple(st, "COMMIT"))
        return scr_db_broken(st->db) ? SCR_EDBCONN : SCR_EDB;
    st->url_count = count;
    /* committed: the outlinks of every stored result are in the frontier now (a result whose
     * lease was lost stored nothing, so its links are not remembered) */
    for (struct scr_store_item *it = head; it; it = it->next)
        if (it->op == SCR_STORE_RESULT && it->stored && it->max_urls == 0)
            scr_seen_add_list(&st->seen, &it->links);
    return SCR_OK;
failed:
    if (scr_db_broken(st->db))
        return SCR_EDBCONN;
    snprintf(st->last_error, sizeof(st->last_error), "%s", err);
    scr_debug("%s", err);
    exec_simple(st, "ROLLBACK");
    return SCR_EDB;
}

/* Stores items one by one after a group failed; keeps what can be kept. */
static void store_singly(struct scr_store *st, struct scr_store_item *head)
{
    char err[1024];

    for (struct scr_store_item *it = head; it; it = it->next) {
        struct scr_store_item *next = it->next;
        int rc;
        it->next = NULL;
        rc = store_group(st, it);
        if (rc == SCR_OK || rc == SCR_EIO) { /* SCR_EIO: the run stops (set_fatal) */
            it->next = next;
            continue;
        }
        if (it->op != SCR_STORE_RESULT) {
            /* a robots.txt save or read, or sitemap URLs: stored stays 0 (the loop says so) */
            it->next = next;
            continue;
        }
        snprintf(err, sizeof(err), "%s", st->last_error);
        scr_error("cannot store the result of URL %llu: %s; storing it without records",
                  (unsigned long long)it->res.url_id, err);
        free(it->records_json);
        it->records_json = scr_xstrdup("[]");
        scr_strvec_release(&it->res.records);
        scr_strvec_release(&it->links);
        scr_strvec_release(&it->link_hosts);
        free(it->res.error);
        it->res.error = scr_xstrdup("could not store this result in the database");
        it->new_state = SCR_URL_FAILED;
        if (store_group(st, it) != SCR_OK)
            scr_error("dropped the result of URL %llu; the next run fetches it again",
                      (unsigned long long)it->res.url_id);
        it->next = next;
    }
}

static void do_store(struct scr_store *st, struct scr_store_item *head)
{
    int rc;

    for (;;) {
        rc = store_group(st, head);
        if (rc != SCR_EDBCONN)
            break;
        if (reconnect(st))
            return;
    }
    if (rc == SCR_EDB)
        store_singly(st, head);
}

static void do_lease(struct scr_store *st, int n, const struct scr_strvec *exclude,
                     struct scr_lease_item **items, size_t *count, struct scr_claim **claims,
                     size_t *nclaims, int64_t *t0_ms, struct scr_outlook *o)
{
    char err[1024];
    int retries = 0;

    memset(o, 0, sizeof(*o));
    for (;;) {
        /* a retry after a reconnect: claims of the lost answer expire unrenewed */
        scr_hostdb_claims_free(*claims, *nclaims);
        *claims = NULL;
        *nclaims = 0;
        /* the claims last until at least this + --lease-ttl: now() is later */
        *t0_ms = scr_now_ms();
        if (scr_frontier_lease(st->db, st->job_id, st->run_id, n, st->s->lease_ttl_ms, exclude,
                               items, count, claims, nclaims, err, sizeof(err)) == SCR_OK) {
            if (*count > 0)
                return;
            /* Nothing due: reclaim what dead runs left, then look at what remains. */
            if (scr_frontier_reclaim(st->db, st->run_id, NULL, NULL, err, sizeof(err)) ==
                    SCR_OK &&
                scr_frontier_outlook(st->db, st->job_id, st->run_id, o, err, sizeof(err)) ==
                    SCR_OK)
                return;
        }
        if (!scr_db_broken(st->db) && scr_db_retryable() && ++retries <= 5) {
            /* two runs' claim rows (islands), or a schema change: rolled back, try again */
            scr_warn("%s; leasing again", err);
            continue;
        }
        if (!scr_db_broken(st->db)) {
            scr_error("%s", err);
            set_fatal(st, err);
            return;
        }
        if (reconnect(st))
            return;
    }
}

static void *store_main(void *arg)
{
    struct scr_store *st = arg;
    int64_t renew_every = st->s->lease_ttl_ms / 4, next_renew = scr_now_ms() + renew_every;
    /* Dead runs are also looked for on this cadence, not only when a lease finds nothing: an
     * island that died holds host claims its survivors want while they still have work. */
    int64_t reclaim_every = renew_every < RECLAIM_EVERY_MS ? renew_every : RECLAIM_EVERY_MS;
    int64_t next_reclaim = scr_now_ms() + reclaim_every;
    char err[1024];

    pthread_mutex_lock(&st->lock);
    for (;;) {
        struct scr_store_item *items, *tail;
        int lease_n, n = 0;
        struct scr_strvec exclude;
        struct scr_lease_item *leased = NULL;
        size_t nleased = 0, nclaims = 0;
        struct scr_claim *claims = NULL;
        int64_t t0_ms = 0;
        struct scr_outlook o;

        while (!st->in_head && !st->lease_n && !st->stop && !st->fatal &&
               scr_now_ms() < next_renew && scr_now_ms() < next_reclaim) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            pthread_cond_timedwait(&st->cond, &st->lock, &ts);
        }
        if (st->fatal || (st->stop && !st->in_head))
            break;
        /* take a group of items and the lease request together */
        /* While a lease waits, commit small groups and serve it in between: the dispatcher
         * must not wait for a long queue to drain before it gets new URLs (a site whose
         * pages chain level by level would otherwise crawl one level per queue drain). */
        items = tail = st->in_head;
        while (tail && tail->next && ++n < (st->lease_n ? GROUP_MAX_LEASING : GROUP_MAX))
            tail = tail->next;
        if (tail) {
            st->in_head = tail->next;
            if (!st->in_head)
                st->in_tail = NULL;
            tail->next = NULL;
        }
        lease_n = st->lease_n; /* served after this group is committed */
        exclude = st->lease_exclude; /* moved out: the dispatcher may ask again */
        scr_strvec_init(&st->lease_exclude);
        st->lease_n = 0;
        pthread_mutex_unlock(&st->lock);

        if (items)
            do_store(st, items);
        if (lease_n)
            do_lease(st, lease_n, &exclude, &leased, &nleased, &claims, &nclaims, &t0_ms, &o);
        scr_strvec_release(&exclude);
        if (scr_now_ms() >= next_renew && st->db) {
            if (scr_frontier_renew(st->db, st->run_id, st->s->lease_ttl_ms, err, sizeof(err)))
                scr_warn("%s", err);
            next_renew = scr_now_ms() + renew_every;
        }
        if (scr_now_ms() >= next_reclaim && st->db) {
            int64_t back = 0, ended = 0;
            if (scr_frontier_reclaim(st->db, st->run_id, &back, &ended, err, sizeof(err)))
                scr_warn("%s", err);
            if (back)
                scr_info("%lld URLs leased by runs that died are back in the queue",
                         (long long)back);
            if (back || ended) {
                /* a dead island's URLs and hosts: worth a lease now, full pool or not */
                pthread_mutex_lock(&st->lock);
                st->reclaimed = 1;
                pthread_mutex_unlock(&st->lock);
                wake(st);
            }
            next_reclaim = scr_now_ms() + reclaim_every;
        }

        pthread_mutex_lock(&st->lock);
        if (items) {
            if (st->out_tail)
                st->out_tail->next = items;
            else
                st->out_head = items;
            st->out_tail = tail;
        }
        if (lease_n) {
            st->lease_done = 1;
            st->leased = leased;
            st->nleased = nleased;
            st->claims = claims;
            st->nclaims = nclaims;
            st->lease_t0_ms = t0_ms;
            st->outlook = o;
        }
        if (items || lease_n)
            wake(st);
    }
    pthread_mutex_unlock(&st->lock);
    wake(st);
    return NULL;
}

int scr_store_start(struct scr_store **out, PGconn *db, const char *conninfo, int64_t job_id,
                    int64_t run_id, const struct scr_settings *s)
{
    struct scr_store *st = scr_xcalloc(1, sizeof(*st));
    char err[512];
    int rc;

    st->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (st->efd < 0) {
        free(st);
        return SCR_ENOMEM; /* out of file descriptors or kernel memory */
    }
    st->conninfo = scr_xstrdup(conninfo);
    pthread_mutex_init(&st->lock, NULL);
    pthread_cond_init(&st->cond, NULL);
    st->db = db;
    st->job_id = job_id;
    st->run_id = run_id;
    st->s = s;
    scr_seen_init(&st->seen, SEEN_SLOTS);
    scr_seen_init(&st->dedup, DEDUP_SLOTS);
    st->url_count = -1;
    rc = scr_frontier_prepare(db, err, sizeof(err));
    if (rc)
        scr_error("%s", err);
    if (rc == SCR_OK && s->warc_dir) {
        char info[1024];
        snprintf(info, sizeof(info), "http-header-user-agent: %s\r\nrobots: %s\r\n",
                 s->user_agent ? s->user_agent : "", s->ignore_robots ? "ignore" : "obey");
        rc = scr_warc_open(&st->warc, s->warc_dir, s->job, run_id, s->warc_max_size,
                           s->warc_gzip_level, info, err, sizeof(err));
        if (rc)
            scr_error("%s", err);
    }
    if (rc == SCR_OK && pthread_create(&st->thread, NULL, store_main, st) != 0)
        rc = SCR_ENOMEM;
    if (rc) {
        scr_warc_close(st->warc, err, sizeof(err));
        scr_seen_release(&st->seen);
        scr_seen_release(&st->dedup);
        pthread_cond_destroy(&st->cond);
        pthread_mutex_destroy(&st->lock);
        close(st->efd);
        free(st->conninfo);
        free(st);
        return rc;
    }
    *out = st;
    return SCR_OK;
}

int scr_store_fd(struct scr_store *st)
{
    return st->efd;
}

void scr_store_submit(struct scr_store *st, struct scr_store_item *it)
{
    it->next = NULL;
    pthread_mutex_lock(&st->lock);
    if (st->in_tail)
        st->in_tail->next = it;
    else
        st->in_head = it;
    st->in_tail = it;
    pthread_cond_signal(&st->cond);
    pthread_mutex_unlock(&st->lock);
}

int scr_store_lease(struct scr_store *st, int n, struct scr_strvec *exclude)
{
    int rc = SCR_OK;

    pthread_mutex_lock(&st->lock);
    if (st->lease_n || st->lease_done) {
        rc = SCR_EBUSY;
        scr_strvec_release(exclude);
    } else {
        st->lease_n = n > 0 ? n : 1;
        scr_strvec_release(&st->lease_exclude);
        st->lease_exclude = *exclude;
        pthread_cond_signal(&st->cond);
    }
    pthread_mutex_unlock(&st->lock);
    scr_strvec_init(exclude);
    return rc;
}

void scr_store_poll(struct scr_store *st, struct scr_store_events *ev)
{
    uint64_t v;

    memset(ev, 0, sizeof(*ev));
    if (read(st->efd, &v, sizeof(v)) < 0) {
        /* nothing signalled; look anyway */
    }
    pthread_mutex_lock(&st->lock);
    ev->done = st->out_head;
    st->out_head = st->out_tail = NULL;
    if (st->lease_done) {
        ev->lease_done = 1;
        ev->leased = st->leased;
        ev->nleased = st->nleased;
        ev->claims = st->claims;
        ev->nclaims = st->nclaims;
        ev->lease_t0_ms = st->lease_t0_ms;
        ev->outlook = st->outlook;
        st->lease_done = 0;
        st->leased = NULL;
        st->nleased = 0;
        st->claims = NULL;
        st->nclaims = 0;
    }
    ev->reclaimed = st->reclaimed;
    st->reclaimed = 0;
    ev->fatal = st->fatal;
    memcpy(ev->error, st->error, sizeof(ev->error));
    pthread_mutex_unlock(&st->lock);
}

PGconn *scr_store_stop(struct scr_store *st)
{
    PGconn *db;
    struct scr_store_item *it;

    pthread_mutex_lock(&st->lock);
    st->stop = 1;
    pthread_cond_signal(&st->cond);
    pthread_mutex_unlock(&st->lock);
    pthread_join(st->thread, NULL);
    /* whatever was not handed back is freed here (after a fatal error: not stored) */
    while ((it = st->in_head) != NULL) {
        st->in_head = it->next;
        scr_store_item_free(it);
    }
    while ((it = st->out_head) != NULL) {
        st->out_head = it->next;
        scr_store_item_free(it);
    }
    for (size_t i = 0; i < st->nleased; i++)
        scr_lease_item_release(&st->leased[i]);
    free(st->leased);
    scr_hostdb_claims_free(st->claims, st->nclaims);
    scr_strvec_release(&st->lease_exclude);
    db = st->db;
    if (db && scr_db_broken(db)) {
        PQfinish(db);
        db = NULL;
    }
    if (st->seen.hits + st->seen.misses)
        scr_debug("seen cache: %llu outlinks known, %llu sent to the database",
                  (unsigned long long)st->seen.hits, (unsigned long long)st->seen.misses);
    scr_seen_release(&st->seen);
    scr_seen_release(&st->dedup);
    free(st->grp);
    if (st->warc) {
        char err[512];
        if (scr_warc_close(st->warc, err, sizeof(err)))
            scr_error("%s", err);
    }
    close(st->efd);
    free(st->conninfo);
    pthread_cond_destroy(&st->cond);
    pthread_mutex_destroy(&st->lock);
    free(st);
    return db;
}
