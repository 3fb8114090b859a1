/* setup.c - before the loop: checks, the job, the run, the seeds, the scope.
 *
 * Preflight checks what can be checked without the database (URL options, scope settings,
 * the seed file, the rules file and the parsers) and writes nothing: bad input is exit code
 * 2.  Then the job is found or created, the run's row inserted under its advisory lock, what
 * dead runs left reclaimed, the seeds inserted 5000 at a time, --recrawl-after applied and
 * the scope loaded.  Called once by scr_coordinator_run, before the store thread starts.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/file.h"
#include "common/log.h"
#include "common/url.h"
#include "coordinator/coord_internal.h"
#include "coordinator/coordinator.h"
#include "coordinator/db.h"
#include "coordinator/outages.h"
#include "coordinator/runs.h"
#include "coordinator/seeds.h"
#include "coordinator/warc.h"
#include "parsers/extract.h"

struct seed_batch {
    struct scr_peers *peers;  /* held while the seeds go in (scr_peers_hold) */
    int64_t seen;
    PGconn *db;
    int64_t job_id;
    struct scr_strvec urls, hosts;  /* hosts[i] is the authority of urls[i] */
    int64_t added;
    char *err;
    size_t errlen;
};

/* The preflight's pass over the seeds: only keeps the workers waiting. */
static int seed_hold(const char *url, const char *host, void *ctx)
{
    struct seed_batch *sb = ctx;

    (void)url;
    (void)host;
    if ((++sb->seen & 1023) == 0)
        scr_peers_hold(sb->peers);
    return SCR_OK;
}

static int seed_flush(struct seed_batch *sb)
{
    int64_t added = 0;
    int rc;

    if (sb->urls.n == 0)
        return SCR_OK;
    rc = scr_frontier_seed(sb->db, sb->job_id, &sb->urls, &sb->hosts, &added, sb->err,
                           sb->errlen);
    sb->added += added;
    scr_strvec_reset(&sb->urls);
    scr_strvec_reset(&sb->hosts);
    return rc;
}

static int seed_one(const char *url, const char *host, void *ctx)
{
    struct seed_batch *sb = ctx;
    char auth[512];

    (void)host;
    if ((++sb->seen & 1023) == 0)
        scr_peers_hold(sb->peers);
    if (scr_url_authority(url, auth, sizeof(auth)) != SCR_OK)
        return SCR_OK;
    scr_strvec_push(&sb->urls, url);
    scr_strvec_push(&sb->hosts, auth);
    if (sb->urls.n >= 5000)
        return seed_flush(sb);
    return SCR_OK;
}

/* Checks what can be checked before touching the database: seeds and rules.  Exit code 2 on
 * bad input, with nothing written. */
int scr_setup_preflight(struct coord *co, int64_t *nseeds)
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
        struct seed_batch hold;
        memset(&hold, 0, sizeof(hold));
        hold.peers = &co->peers;
        if (scr_seeds_read(co->s->seed, &co->uo.opts, 1, seed_hold, &hold, &valid, &invalid,
                           err, sizeof(err))) {
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
    /* --warc-dir: found unusable now, before the workers are welcomed (docs/warc.md) */
    if (co->s->warc_dir && scr_warc_check_dir(co->s->warc_dir, err, sizeof(err))) {
        scr_error("%s", err);
        return SCR_EXIT_USAGE;
    }
    if (co->s->rules) {
        co->rules_text = scr_file_read(co->s->rules, (size_t)16 << 20, SCR_FILE_TEXT, NULL, err,
                                       sizeof(err));
        if (!co->rules_text) {
            scr_error("%s", err);
            return SCR_EXIT_USAGE;
        }
    }
    scr_extract_env_from_settings(&env, co->s, &co->uo.opts, co->rules_text, co->s->rules);
    if (scr_extractor_new(&x, co->s->parsers, &env, err, sizeof(err)) != SCR_OK) {
        scr_error("%s", err);
        return SCR_EXIT_USAGE;
    }
    scr_extractor_free(x);
    return SCR_EXIT_OK;
}

int scr_setup_db(struct coord *co, const char *command, PGconn **dbp)
{
    const char *conninfo = scr_db_conninfo(co->s->db);
    struct seed_batch sb;
    char err[1024], host[256] = "?", *sj = NULL;
    int64_t valid, invalid, reclaimed = 0;
    PGconn *db = NULL;
    int rc = SCR_EXIT_DB;

    memset(&sb, 0, sizeof(sb));
    scr_strvec_init(&sb.urls);
    scr_strvec_init(&sb.hosts);
    /* a mistake (no such database or role, a bad password, a malformed conninfo) exits 2 at
     * once; a server that does not answer is waited for, --db-retry long */
    if (scr_db_connect(&db, conninfo, co->s->db_retry_ms, err, sizeof(err)) == SCR_EUSAGE) {
        scr_error("%s", err);
        rc = SCR_EXIT_USAGE;
        goto out;
    } else if (!db) {
        scr_error("%s", err);
        goto out;
    }
    if (scr_db_ensure_schema(db, 0, err, sizeof(err)) ||
        scr_runs_job(db, co->s->job, &co->job_id, err, sizeof(err))) {
        scr_error("%s", err);
        goto out;
    }
    gethostname(host, sizeof(host) - 1);
    snprintf(co->island, sizeof(co->island), "%.*s", (int)sizeof(co->island) - 1,
             co->s->island && *co->s->island ? co->s->island : host);
    sj = scr_runs_settings_json(co->s);
    rc = scr_runs_begin(db, co->job_id, command, sj ? sj : "{}", co->s->insecure, host,
                        co->s->island, co->s->if_idle, &co->run_id, err, sizeof(err));
    if (rc == SCR_EBUSY) {
        scr_warn("--if-idle: %s", err);
        rc = SCR_EXIT_BUSY;
        goto out;
    }
    rc = SCR_EXIT_DB;
    if (co->run_id == 0 || scr_frontier_reclaim(db, co->run_id, &reclaimed, NULL, err, sizeof(err))) {
        scr_error("%s", err);
        goto out;
    }
    {
        /* hosts unreachable in earlier runs are tried again in every run (outages.h) */
        int64_t down_hosts = 0, due = 0;
        if (scr_outages_due(db, co->job_id, &down_hosts, &due, err, sizeof(err))) {
            scr_error("%s", err);
            goto out;
        }
        if (due)
            scr_info("%lld hosts were unreachable in earlier runs: trying them again "
                     "(%lld URLs made due)", (long long)down_hosts, (long long)due);
    }
    if (co->s->insecure)
        scr_warn("--insecure: TLS certificates are NOT verified in this run (recorded on run %lld)",
                 (long long)co->run_id);
    if (reclaimed)
        scr_info("%lld URLs leased by runs that died are back in the queue",
                 (long long)reclaimed);
    if (co->s->seed) {
        sb.peers = &co->peers;
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
    if (scr_frontier_count_settled(db, co->job_id, &co->tally.settled_at_start, err,
                                   sizeof(err)))
        scr_warn("%s", err); /* only the progress line's "left" suffers */
    if (co->scope.hosts.count == 0) {
        scr_error("job '%s' has no seed URLs: give --seed FILE", co->s->job);
        rc = SCR_EXIT_USAGE;
        scr_runs_end(db, co->run_id, "failed", rc, "{}", "[]", err, sizeof(err));
        goto out;
    }
    scr_info("run %lld of job '%s' started (%d workers, island %s)", (long long)co->run_id,
             co->s->job, co->peers.n - 1, co->island);
    *dbp = db;
    db = NULL;
    rc = SCR_EXIT_OK;
out:
    if (rc == SCR_EXIT_DB && scr_coordinator_stop) /* a database wait ended by a signal */
        rc = SCR_EXIT_INTERRUPTED;
    free(sj);
    scr_strvec_release(&sb.urls);
    scr_strvec_release(&sb.hosts);
    PQfinish(db);
    return rc;
}
