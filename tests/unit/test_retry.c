/* test_retry.c - coordinator/retry.h: done, retry later, or failed.
 *
 * HTTP statuses (2xx/3xx/304 done, 4xx failed, 5xx/408/429 retried with a backoff of 2 s
 * doubled per attempt up to 10 min, failed at the last attempt), curl codes (transient ones
 * retried, others failed), truncated bodies failed, and the state names.
 */
#include <curl/curl.h>
#include <stdint.h>

#include "coordinator/retry.h"
#include "test.h"

static enum scr_outcome classify(int status, int curl_code, int truncated, int attempts,
                                 int max_attempts, int64_t *delay)
{
    struct scr_result r;

    scr_result_init(&r);
    r.http_status = status;
    r.curl_code = curl_code;
    r.truncated = (uint32_t)truncated;
    *delay = -1;
    return scr_retry_classify(&r, attempts, max_attempts, delay);
}

TEST(done)
{
    static const int ok[] = {200, 201, 204, 206, 299, 301, 302, 303, 304, 307, 308, 399};
    int64_t d;

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (classify(ok[i], CURLE_OK, 0, 1, 3, &d) != SCR_OUTCOME_DONE)
            TEST_FAIL_("status %d is not done", ok[i]);
        ASSERT_EQ(d, 0);
        /* done even at the last attempt */
        ASSERT_EQ(classify(ok[i], CURLE_OK, 0, 3, 3, &d), SCR_OUTCOME_DONE);
    }
}

TEST(permanent_http)
{
    static const int bad[] = {400, 401, 403, 404, 405, 410, 414, 451, 499};
    int64_t d;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (classify(bad[i], CURLE_OK, 0, 1, 3, &d) != SCR_OUTCOME_FAILED)
            TEST_FAIL_("status %d is not failed", bad[i]);
        ASSERT_EQ(d, 0);
    }
    /* no response at all and no curl error: nothing usable, nothing to retry */
    ASSERT_EQ(classify(0, CURLE_OK, 0, 1, 3, &d), SCR_OUTCOME_FAILED);
}

TEST(transient_http_backoff)
{
    int64_t d;

    ASSERT_EQ(classify(500, CURLE_OK, 0, 1, 3, &d), SCR_OUTCOME_RETRY);
    ASSERT_EQ(d, 2000);
    ASSERT_EQ(classify(500, CURLE_OK, 0, 2, 3, &d), SCR_OUTCOME_RETRY);
    ASSERT_EQ(d, 4000);
    ASSERT_EQ(classify(500, CURLE_OK, 0, 3, 3, &d), SCR_OUTCOME_FAILED);
    ASSERT_EQ(d, 0);
    ASSERT_EQ(classify(500, CURLE_OK, 0, 4, 3, &d), SCR_OUTCOME_FAILED);

    static const int transient[] = {408, 429, 500, 502, 503, 504, 599};
    for (size_t i = 0; i < sizeof(transient) / sizeof(transient[0]); i++) {
        if (classify(transient[i], CURLE_OK, 0, 1, 3, &d) != SCR_OUTCOME_RETRY)
            TEST_FAIL_("status %d is not retried", transient[i]);
        ASSERT_EQ(d, 2000);
        ASSERT_EQ(classify(transient[i], CURLE_OK, 0, 3, 3, &d), SCR_OUTCOME_FAILED);
    }

    /* max_attempts 1: never retried */
    ASSERT_EQ(classify(503, CURLE_OK, 0, 1, 1, &d), SCR_OUTCOME_FAILED);

    /* doubling up to the 10 minute cap */
    {
        static const int64_t want[] = {2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000,
                                       512000, 600000, 600000, 600000};
        for (int a = 1; a <= 12; a++) {
            ASSERT_EQ(classify(503, CURLE_OK, 0, a, 100, &d), SCR_OUTCOME_RETRY);
            if (d != want[a - 1])
                TEST_FAIL_("attempt %d: delay %lld, want %lld", a, (long long)d,
                           (long long)want[a - 1]);
        }
        ASSERT_EQ(classify(503, CURLE_OK, 0, 99, 100, &d), SCR_OUTCOME_RETRY);
        ASSERT_EQ(d, 600000);
        ASSERT_EQ(classify(503, CURLE_OK, 0, 100, 100, &d), SCR_OUTCOME_FAILED);
    }
}

TEST(curl_codes)
{
    static const int transient[] = {
        CURLE_OPERATION_TIMEDOUT, CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST,
        CURLE_SEND_ERROR,         CURLE_RECV_ERROR,      CURLE_GOT_NOTHING,
        CURLE_PARTIAL_FILE,       CURLE_SSL_CONNECT_ERROR};
    static const int permanent[] = {
        CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT,     CURLE_TOO_MANY_REDIRECTS,
        CURLE_PEER_FAILED_VERIFICATION, CURLE_FILESIZE_EXCEEDED, CURLE_WRITE_ERROR,
        CURLE_BAD_CONTENT_ENCODING};
    int64_t d;

    for (size_t i = 0; i < sizeof(transient) / sizeof(transient[0]); i++) {
        if (classify(0, transient[i], 0, 1, 3, &d) != SCR_OUTCOME_RETRY)
            TEST_FAIL_("curl code %d (%s) is not retried", transient[i],
                       curl_easy_strerror((CURLcode)transient[i]));
        ASSERT_EQ(d, 2000);
        ASSERT_EQ(classify(0, transient[i], 0, 2, 3, &d), SCR_OUTCOME_RETRY);
        ASSERT_EQ(d, 4000);
        ASSERT_EQ(classify(0, transient[i], 0, 3, 3, &d), SCR_OUTCOME_FAILED);
    }
    for (size_t i = 0; i < sizeof(permanent) / sizeof(permanent[0]); i++) {
        if (classify(0, permanent[i], 0, 1, 3, &d) != SCR_OUTCOME_FAILED)
            TEST_FAIL_("curl code %d (%s) is not failed", permanent[i],
                       curl_easy_strerror((CURLcode)permanent[i]));
        ASSERT_EQ(d, 0);
    }
    /* a curl error wins over a status already received: a timeout after a 200 header */
    ASSERT_EQ(classify(200, CURLE_OPERATION_TIMEDOUT, 0, 1, 3, &d), SCR_OUTCOME_RETRY);
    ASSERT_EQ(d, 2000);
    ASSERT_EQ(classify(200, CURLE_UNSUPPORTED_PROTOCOL, 0, 1, 3, &d), SCR_OUTCOME_FAILED);
}

TEST(truncated)
{
    int64_t d;

    /* the body hit --max-body: fetching again gives the same; failed at once */
    ASSERT_EQ(classify(200, CURLE_OK, 1, 1, 3, &d), SCR_OUTCOME_FAILED);
    ASSERT_EQ(d, 0);
    ASSERT_EQ(classify(200, CURLE_WRITE_ERROR, 1, 1, 3, &d), SCR_OUTCOME_FAILED);
    /* even with a transient-looking code */
    ASSERT_EQ(classify(200, CURLE_OPERATION_TIMEDOUT, 1, 1, 3, &d), SCR_OUTCOME_FAILED);
    ASSERT_EQ(classify(503, CURLE_OK, 1, 1, 3, &d), SCR_OUTCOME_FAILED);
}

TEST(state_names)
{
    ASSERT_EQ(scr_retry_state(SCR_OUTCOME_DONE), SCR_URL_DONE);
    ASSERT_EQ(scr_retry_state(SCR_OUTCOME_RETRY), SCR_URL_QUEUED);
    ASSERT_EQ(scr_retry_state(SCR_OUTCOME_FAILED), SCR_URL_FAILED);
    ASSERT_STR_EQ(scr_url_state_name(scr_retry_state(SCR_OUTCOME_DONE)), "done");
    ASSERT_STR_EQ(scr_url_state_name(SCR_URL_QUEUED), "queued");
    ASSERT_STR_EQ(scr_url_state_name(SCR_URL_FAILED), "failed");
    ASSERT_STR_EQ(scr_url_state_name(SCR_URL_SKIPPED), "skipped");
}

/* A lost worker's URL: an attempt like a transient failure, whatever it held */
TEST(lost_worker)
{
    int64_t d = -1;

    ASSERT_EQ(scr_retry_lost(1, 3, &d), SCR_OUTCOME_RETRY);
    ASSERT_EQ(d, 2000);
    ASSERT_EQ(scr_retry_lost(2, 3, &d), SCR_OUTCOME_RETRY);
    ASSERT_EQ(d, 4000);
    ASSERT_EQ(scr_retry_lost(3, 3, &d), SCR_OUTCOME_FAILED);
    ASSERT_EQ(d, 0);
    ASSERT_EQ(scr_retry_lost(1, 1, &d), SCR_OUTCOME_FAILED);
    ASSERT_EQ(scr_retry_lost(12, 100, &d), SCR_OUTCOME_RETRY);
    ASSERT_EQ(d, 600000);
    ASSERT_EQ(SCR_RETRY_QUARANTINE_LOSSES, 2);
}

int main(void)
{
    RUN(done);
    RUN(permanent_http);
    RUN(transient_http_backoff);
    RUN(curl_codes);
    RUN(truncated);
    RUN(state_names);
    RUN(lost_worker);
    fprintf(stderr, "test_retry: all passed\n");
    return 0;
}
