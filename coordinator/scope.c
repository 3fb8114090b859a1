/* scope.c - the scope filter for outlinks (see scope.h).  Runs on rank 0 for every link of
 * every page, so it does one hash lookup per link and nothing else. */
#include "coordinator/scope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "coordinator/db.h"

int scr_scope_init(struct scr_scope *sc, const struct scr_settings *s)
{
    scr_strmap_init(&sc->hosts);
    sc->max_depth = s->max_depth;
    sc->max_pages = s->max_pages;
    sc->known = 0;
    return SCR_OK;
}

void scr_scope_release(struct scr_scope *sc)
{
    scr_strmap_release(&sc->hosts);
}

int scr_scope_load(struct scr_scope *sc, PGconn *db, int64_t job_id, char *err, size_t errlen)
{
    char job[24];
    const char *p[1] = {job};
    PGresult *r;
    int rc = SCR_OK;

    snprintf(job, sizeof(job), "%lld", (long long)job_id);
    r = scr_db_exec(db, "reading the seed hosts",
                    "SELECT DISTINCT host FROM urls WHERE job_id = $1::bigint AND depth = 0", 1,
                    p, err, errlen);
    if (!r)
        return SCR_EDB;
    for (int i = 0; i < PQntuples(r) && rc == SCR_OK; i++)
        rc = scr_strmap_put(&sc->hosts, PQgetvalue(r, i, 0), sc);
    PQclear(r);
    if (rc)
        return rc;
    r = scr_db_exec(db, "counting the job's URLs",
                    "SELECT count(*) FROM urls WHERE job_id = $1::bigint", 1, p, err, errlen);
    if (!r)
        return SCR_EDB;
    sc->known = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return SCR_OK;
}

int scr_url_authority(const char *url, char *buf, size_t len)
{
    const char *p = strstr(url, "://"), *end, *at;
    size_t n;

    if (!p)
        return SCR_EINVAL;
    p += 3;
    end = p + strcspn(p, "/?#");
    at = memchr(p, '@', (size_t)(end - p));
    if (at)
        p = at + 1;
    n = (size_t)(end - p);
    if (n == 0 || n >= len)
        return SCR_EINVAL;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return SCR_OK;
}

size_t scr_scope_filter(struct scr_scope *sc, int depth, const struct scr_strvec *in,
                        char **links, char **hosts)
{
    struct scr_buf lb, hb;
    char host[512];
    size_t kept = 0;

    scr_buf_init(&lb);
    scr_buf_init(&hb);
    if (depth + 1 <= sc->max_depth) {
        for (size_t i = 0; i < in->n; i++) {
            if (strchr(in->v[i], '\n'))
                continue;
            if (scr_url_authority(in->v[i], host, sizeof(host)) != SCR_OK)
                continue;
            if (!scr_strmap_get(&sc->hosts, host))
                continue;
            if (kept) {
                scr_buf_putc(&lb, '\n');
                scr_buf_putc(&hb, '\n');
            }
            scr_buf_puts(&lb, in->v[i]);
            scr_buf_puts(&hb, host);
            kept++;
        }
    }
    *links = scr_buf_detach(&lb, NULL);
    *hosts = scr_buf_detach(&hb, NULL);
    return kept;
}
