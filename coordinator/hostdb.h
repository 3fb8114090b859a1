/* hostdb.h - the hosts the database knows: the robots.txt cache (table hosts, shared by every
 * job) and the host claims of a job's runs (table host_claims, docs/internals/islands.md).
 *
 * The invariants:
 *  - a cached robots.txt is served only while younger than --robots-ttl, and only when its
 *    fetch got an answer (status 1..499): an unreachable or 5xx robots.txt is fetched again;
 *  - every statement on host_claims locks the claim rows in (job, host) order, so claimants
 *    never deadlock; a released claim keeps the last request start the database knows of,
 *    which the next owner waits --delay after.
 * The lease statement, which claims the hosts of the URLs it leases, is scr_frontier_lease
 * (frontier.c); the dispatcher's side of the claims is claims.c.  Called by the store thread
 * and, at the end of the run, by the coordinator, with the connection the caller owns.
 */
#ifndef SCR_HOSTDB_H
#define SCR_HOSTDB_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strvec.h"

/* A cached robots.txt.  Strings owned. */
struct scr_robots_cache {
    char *host;
    int status;   /* HTTP status of the fetch, 0 when it failed */
    char *body;
};

/* Reads the cached robots.txt of hosts fetched within max_age_ms.
 * *out is a malloc'd array of *count entries; free with scr_hostdb_robots_free. */
int scr_hostdb_robots_get(PGconn *db, const struct scr_strvec *hosts, int64_t max_age_ms,
                          struct scr_robots_cache **out, size_t *count, char *err,
                          size_t errlen);

/* Frees the count entries of c and the array itself.  NULL with count 0 is a no-op. */
void scr_hostdb_robots_free(struct scr_robots_cache *c, size_t count);

/* Saves a fetched robots.txt (status 0 = unreachable, with error).  Strings borrowed. */
int scr_hostdb_robots_put(PGconn *db, const char *host, const char *url, int status,
                          const char *body, const char *error, char *err, size_t errlen);

/* A host this run claimed (host_claims, docs/internals/islands.md).  Strings owned. */
struct scr_claim {
    char *host;
    int64_t age_ms; /* ms since the last request start the database knows of (the previous
                       owner's or this run's), on the database's clock; -1 = none */
};

/* Frees the n claims of c and the array itself.  NULL with n 0 is a no-op. */
void scr_hostdb_claims_free(struct scr_claim *c, size_t n);

/* Inside the caller's transaction: releases this run's claims of the hosts in release (ages:
 * for each, the ms since this run's last request start there as decimal text, "" = none),
 * then, when renew, extends by ttl_ms the claims of the hosts in keep that this run still
 * holds, appending those to *held.  *others gets the number of other live runs of the job
 * (heartbeat within ttl_ms).  Locks claim rows in (job, host) order, as every statement on
 * host_claims does, so claimants never deadlock. */
int scr_hostdb_claims_update(PGconn *db, int64_t job_id, int64_t run_id, int64_t ttl_ms,
                             const struct scr_strvec *release, const struct scr_strvec *ages,
                             int renew, const struct scr_strvec *keep, struct scr_strvec *held,
                             int64_t *others, char *err, size_t errlen);

/* Releases every claim this run holds (end of a run): hosts[i] was last started ages[i] ms
 * ago ("" = not by this run); claims of hosts not listed are released with the last start
 * the database has. */
int scr_hostdb_claims_release_all(PGconn *db, int64_t job_id, int64_t run_id,
                                  const struct scr_strvec *hosts, const struct scr_strvec *ages,
                                  char *err, size_t errlen);

#endif
