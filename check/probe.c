/* probe.c - `scrape check --probe URL`: can this node resolve and connect? (check.h)
 *
 * One libcurl easy handle with CURLOPT_CONNECT_ONLY: name resolution, TCP connect and, for
 * https, the TLS handshake; no request is sent.  A failed probe is data (the stage where it
 * stopped and libcurl's message), never an error of the check.  scr_check_self() adds the
 * node's description (common/host.c) to make this rank's REPORT.  Called by serve.c (a
 * worker's START) and cli/cmd_check.c (rank 0's own row).
 */
#include "check/check.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/host.h"

/* --- the probe ------------------------------------------------------------------------- */

const char *scr_check_probe_stage_name(uint32_t stage)
{
    switch (stage) {
    case SCR_PROBE_NONE: return "not asked";
    case SCR_PROBE_OK: return "ok";
    case SCR_PROBE_URL: return "bad URL";
    case SCR_PROBE_RESOLVE: return "cannot resolve";
    case SCR_PROBE_CONNECT: return "cannot connect";
    case SCR_PROBE_TLS: return "TLS failed";
    default: return "failed";
    }
}

static uint32_t clamp_us(curl_off_t v)
{
    return v < 0 ? 0 : v > (curl_off_t)UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static uint32_t probe_stage(CURLcode cc, curl_off_t resolve_us, curl_off_t connect_us)
{
    switch (cc) {
    case CURLE_OK:
        return SCR_PROBE_OK;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return SCR_PROBE_URL;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return SCR_PROBE_RESOLVE;
    case CURLE_COULDNT_CONNECT:
        return SCR_PROBE_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        /* the timeout hit during whichever step had not finished */
        if (resolve_us <= 0)
            return SCR_PROBE_RESOLVE;
        return connect_us <= 0 ? SCR_PROBE_CONNECT : SCR_PROBE_TLS;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
        return SCR_PROBE_TLS;
    default:
        return SCR_PROBE_OTHER;
    }
}

static int probe_with(struct scr_check_probe *out, const char *url, int64_t timeout_ms,
                      int insecure)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_off_t resolve_us = 0, connect_us = 0, tls_us = 0;
    char *ip = NULL;
    CURLcode cc;
    CURL *h;

    memset(out, 0, sizeof(*out));
    if (!url || !*url) {
        out->stage = SCR_PROBE_NONE;
        out->ip = scr_xstrdup("");
        out->error = scr_xstrdup("");
        return SCR_OK;
    }
    h = curl_easy_init();
    if (!h)
        return SCR_ENOMEM;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L); /* resolve, connect, TLS; no request */
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
    /* like the crawl (worker/fetch.c): the *_proxy variables mpiexec hands every rank are
     * ignored, so the probe measures the node's own route to the site */
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_NOPROXY, "");
    if (insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_NAMELOOKUP_TIME_T, &resolve_us);
    curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connect_us);
    curl_easy_getinfo(h, CURLINFO_APPCONNECT_TIME_T, &tls_us);
    curl_easy_getinfo(h, CURLINFO_PRIMARY_IP, &ip);
    out->stage = probe_stage(cc, resolve_us, connect_us);
    out->resolve_us = clamp_us(resolve_us);
    out->connect_us = clamp_us(connect_us);
    out->tls_us = clamp_us(tls_us);
    out->ip = scr_xstrdup(ip ? ip : "");
    out->error = scr_xstrdup(cc == CURLE_OK ? "" : *errbuf ? errbuf : curl_easy_strerror(cc));
    curl_easy_cleanup(h);
    return SCR_OK;
}

int scr_check_probe_run(struct scr_check_probe *out, const char *url, int64_t timeout_ms,
                        int insecure)
{
    return probe_with(out, url, timeout_ms, insecure);
}

void scr_check_probe_release(struct scr_check_probe *p)
{
    free(p->ip);
    free(p->error);
    memset(p, 0, sizeof(*p));
}

int scr_check_self(struct scr_check_report *r, const char *url, int64_t timeout_ms,
                   int insecure)
{
    int rc;

    memset(r, 0, sizeof(*r));
    r->layout = SCR_CHECK_LAYOUT;
    rc = scr_host_describe(&r->node);
    if (rc == SCR_OK)
        rc = probe_with(&r->probe, url, timeout_ms, insecure);
    if (rc != SCR_OK)
        scr_check_report_release(r);
    return rc;
}
