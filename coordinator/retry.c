/* retry.c - transient versus permanent failures (see retry.h).  The table of transient curl
 * codes is the one place to look when a failure is retried that should not be, or not
 * retried that should.  The same rule (scr_retry_transient) decides whether a result counts
 * against its host (error streak, backoff, parking in hosts.c), so a failure is never
 * "the host's fault" without being worth a retry, or the other way round.
 *
 * TLS: a failed handshake (CURLE_SSL_CONNECT_ERROR: a reset or an overloaded server in the
 * middle of it) is transient for the URL and for the host; a certificate that does not verify
 * (CURLE_PEER_FAILED_VERIFICATION and friends) is permanent for both: another try gets the
 * same certificate, and it says nothing about the host's load. */
#include "coordinator/retry.h"

#include <curl/curl.h>

static int curl_transient(int code)
{
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
}

int scr_retry_transient(const struct scr_result *r)
{
    _Static_assert(SCR_RESULT_REFUSED == CURLE_REMOTE_ACCESS_DENIED, "see common/wire.h");
    _Static_assert(SCR_RESULT_PARSE_LIMIT == CURLE_OBSOLETE40, "see common/wire.h");
    if (r->curl_code == SCR_RESULT_REFUSED) /* the address guard: the same every time */
        return 0;
    /* over the parse budget (a poison page): the same on every node, never retried, and not
     * the host's fault (it answered), so it does not count towards parking it */
    if (r->curl_code == SCR_RESULT_PARSE_LIMIT)
        return 0;
    if (r->curl_code != CURLE_OK || r->truncated)
        return !r->truncated && curl_transient(r->curl_code);
    return r->http_status >= 500 || r->http_status == 408 || r->http_status == 429;
}

/* A transient failure of the attempts-th attempt: retried after 2 s doubled per attempt (at
 * most 10 min), or failed on the last attempt. */
static enum scr_outcome transient(int attempts, int max_attempts, int64_t *delay_ms)
{
    if (attempts >= max_attempts)
        return SCR_OUTCOME_FAILED;
    *delay_ms = 2000;
    for (int i = 1; i < attempts && *delay_ms < 600000; i++)
        *delay_ms *= 2;
    if (*delay_ms > 600000)
        *delay_ms = 600000;
    return SCR_OUTCOME_RETRY;
}

enum scr_outcome scr_retry_classify(const struct scr_result *r, int attempts, int max_attempts,
                                    int64_t *delay_ms)
{
    *delay_ms = 0;
    if (r->curl_code == CURLE_OK && !r->truncated && r->http_status > 0 &&
        r->http_status < 400)
        return SCR_OUTCOME_DONE;
    if (!scr_retry_transient(r))
        return SCR_OUTCOME_FAILED;
    return transient(attempts, max_attempts, delay_ms);
}

enum scr_outcome scr_retry_lost(int attempts, int max_attempts, int64_t *delay_ms)
{
    *delay_ms = 0;
    return transient(attempts, max_attempts, delay_ms);
}

enum scr_url_state scr_retry_state(enum scr_outcome o)
{
    switch (o) {
    case SCR_OUTCOME_DONE: return SCR_URL_DONE;
    case SCR_OUTCOME_RETRY: return SCR_URL_QUEUED;
    case SCR_OUTCOME_FAILED: return SCR_URL_FAILED;
    }
    return SCR_URL_FAILED;
}
