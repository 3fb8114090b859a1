/* fetch.h - many transfers at once with libcurl's multi interface.
 *
 * The fetcher owns one CURLM and a pool of easy handles.  The worker adds tasks (each starts
 * at once), lets libcurl run with scr_fetcher_perform(), waits in curl_multi_poll() on
 * scr_fetcher_multi(), and takes finished transfers with scr_fetcher_next().
 */
#ifndef SCR_FETCH_H
#define SCR_FETCH_H

#include <curl/curl.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/settings.h"
#include "common/wire.h"

/* A finished transfer.  Owned by the caller of scr_fetcher_next(); free with
 * scr_fetch_done_free(). */
struct scr_fetch_done {
    struct scr_task task;      /* what was asked (moved in from the batch) */
    long status;               /* HTTP status of the last response, 0 if none */
    CURLcode code;             /* CURLE_OK when the transfer completed */
    char error[CURL_ERROR_SIZE + 64];
    char *final_url;           /* effective URL after redirects (as libcurl reports it) */
    char *content_type;
    char *etag, *last_modified;
    struct scr_buf body;       /* decoded body, at most --max-body bytes */
    int truncated;             /* the body exceeded --max-body and the transfer was cut */
    int refused;               /* not connected: every address was non-public and the task
                                * lacks SCR_TASK_F_ALLOW_PRIVATE; error says why ("refused: ...") */
    long redirects;
    char *location;            /* a 3xx answer's target (absolute), when not followed */
    long retry_after_s;        /* Retry-After in seconds (0 = none) */
    int64_t queued_us, start_us, end_us; /* monotonic: receipt, start, end */
    /* --warc-dir only (else empty): the last request's line and headers as libcurl sent
     * them, and the last response's status line and headers as received (ending in the
     * empty line), for the WARC record rank 0 writes */
    struct scr_buf http_request, http_head;
};

void scr_fetch_done_free(struct scr_fetch_done *d);

struct scr_fetcher;

/* Reads concurrency, timeouts, body cap, user agent, redirects and TLS settings from s
 * (borrowed for the fetcher's life).  Call curl_global_init() before. */
int scr_fetcher_new(struct scr_fetcher **out, const struct scr_settings *s);
void scr_fetcher_free(struct scr_fetcher *f);

/* robots.txt bodies are cut here (RFC 9309 lets a crawler ignore the rest). */
#define SCR_ROBOTS_BODY_MAX (500 * 1024)

/* Starts fetching task now.  Page tasks do not follow redirects (the coordinator queues the
 * target, so a URL is fetched once however many pages redirect to it); robots and sitemap
 * tasks follow up to --max-redirects.  Unless the task's flags allow it, every connection
 * (also a redirect's) goes to a public address only (worker/addrguard.h): libcurl's
 * opensocket callback refuses the others, and the transfer ends with refused set.  Takes
 * ownership of the task's strings (task is zeroed). */
int scr_fetcher_add(struct scr_fetcher *f, struct scr_task *task, int64_t queued_us);

/* Transfers in flight. */
int scr_fetcher_active(const struct scr_fetcher *f);

CURLM *scr_fetcher_multi(struct scr_fetcher *f);

/* Lets libcurl do whatever it can without waiting. */
int scr_fetcher_perform(struct scr_fetcher *f);

/* Returns the next finished transfer or NULL. */
struct scr_fetch_done *scr_fetcher_next(struct scr_fetcher *f);

#endif
