/* test_worker.c - the worker loop (worker/worker.c) driven message by message, as rank 0 drives
 * it, through the in-process transport (common/comm_local.c, the one `scrape` uses without
 * mpiexec): the same scr_worker_run() and the same encoded bytes as over MPI.
 *
 * A malformed BATCH: docs/protocol.md says the worker leaves its loop with the error, without
 * BYE, and rank 0 declares it lost after --peer-timeout.  Before, the worker logged it and
 * went on, while rank 0 kept that BATCH's URLs in flight on it for the rest of the run.
 */
#include <curl/curl.h>
#include <libxml/parser.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/comm.h"
#include "common/error.h"
#include "common/log.h"
#include "common/wire.h"
#include "test.h"
#include "worker/worker.h"

struct run {
    struct scr_comm *c;
    int rc;
    int done;
    pthread_mutex_t mu;
};

static void *worker_thread(void *arg)
{
    struct run *r = arg;
    int rc = scr_worker_run(r->c);

    pthread_mutex_lock(&r->mu);
    r->rc = rc;
    r->done = 1;
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static int is_done(struct run *r)
{
    int d;

    pthread_mutex_lock(&r->mu);
    d = r->done;
    pthread_mutex_unlock(&r->mu);
    return d;
}

/* Receives the next message on c within timeout_ms, skipping HEARTBEATs; returns its type, or
 * -1 on timeout.  Counts BYEs seen in *byes. */
static int next_type(struct scr_comm *c, int64_t timeout_ms, int *byes)
{
    int64_t deadline = scr_now_ms() + timeout_ms;

    for (;;) {
        char *data;
        size_t len;
        int peer, type;
        struct pollfd pfd = {scr_comm_fd(c), POLLIN, 0};

        if (scr_comm_recv(c, &peer, &data, &len) == SCR_OK) {
            type = scr_wire_type(data, len);
            free(data);
            if (type == SCR_MSG_BYE)
                ++*byes;
            if (type != SCR_MSG_HEARTBEAT)
                return type;
            continue;
        }
        if (scr_now_ms() >= deadline)
            return -1;
        poll(&pfd, 1, 50);
    }
}

static void send_msg(struct scr_comm *c, struct scr_buf *b)
{
    ASSERT_EQ(scr_comm_send_buf(c, 1, b), SCR_OK);
}

TEST(malformed_batch_ends_the_worker_without_bye)
{
    struct scr_comm *ep[2];
    struct run r = {NULL, 0, 0, PTHREAD_MUTEX_INITIALIZER};
    struct scr_msg_welcome wel;
    struct scr_task t;
    struct scr_buf b;
    pthread_t th;
    int byes = 0, type;
    int64_t deadline;

    ASSERT_EQ(scr_comm_local_new(2, ep), SCR_OK);
    r.c = ep[1];
    ASSERT_EQ(pthread_create(&th, NULL, worker_thread, &r), 0);
    ASSERT_EQ(next_type(ep[0], 10000, &byes), SCR_MSG_HELLO);

    memset(&wel, 0, sizeof(wel));
    wel.accepted = 1;
    wel.reason = (char *)"";
    wel.rules_name = wel.rules_text = (char *)"";
    scr_strvec_init(&wel.names);
    scr_strvec_init(&wel.values);
    scr_strvec_push(&wel.names, "concurrency");
    scr_strvec_push(&wel.values, "2");
    scr_buf_init(&b);
    ASSERT_EQ(scr_msg_welcome_encode(&b, &wel), SCR_OK);
    scr_strvec_release(&wel.names);
    scr_strvec_release(&wel.values);
    send_msg(ep[0], &b);
    ASSERT_EQ(next_type(ep[0], 10000, &byes), SCR_MSG_REQUEST);

    /* a one-task BATCH cut short by one byte: the decoder refuses it (SCR_EPROTO) */
    memset(&t, 0, sizeof(t));
    t.url_id = 1;
    t.url = (char *)"http://127.0.0.1:9/never";
    t.etag = t.last_modified = (char *)"";
    ASSERT_EQ(scr_msg_batch_encode(&b, &t, 1), SCR_OK);
    b.len--;
    send_msg(ep[0], &b);

    /* the worker leaves at once (not after --peer-timeout) and says no BYE */
    deadline = scr_now_ms() + 5000;
    while (!is_done(&r) && scr_now_ms() < deadline) {
        type = next_type(ep[0], 50, &byes);
        ASSERT(type != SCR_MSG_RESULT);
    }
    if (!is_done(&r)) {
        /* the old behaviour: still running; stop it so the test ends, then fail */
        ASSERT_EQ(scr_msg_simple_encode(&b, SCR_MSG_STOP), SCR_OK);
        send_msg(ep[0], &b);
        pthread_join(th, NULL);
        TEST_FAIL_("the worker went on after a malformed BATCH (it returned %d after STOP)",
                   r.rc);
    }
    pthread_join(th, NULL);
    ASSERT_EQ(r.rc, SCR_EPROTO);
    while (next_type(ep[0], 100, &byes) >= 0)
        ;
    ASSERT_EQ(byes, 0);
    scr_buf_release(&b);
    scr_comm_free(ep[0]);
    scr_comm_free(ep[1]);
}

/* Receives the next RESULT within timeout_ms into r (other messages but BYE skipped). */
static int next_result(struct scr_comm *c, int64_t timeout_ms, struct scr_result *r)
{
    int64_t deadline = scr_now_ms() + timeout_ms;

    for (;;) {
        char *data;
        size_t len;
        int peer, rc;
        struct pollfd pfd = {scr_comm_fd(c), POLLIN, 0};

        if (scr_comm_recv(c, &peer, &data, &len) == SCR_OK) {
            if (scr_wire_type(data, len) != SCR_MSG_RESULT) {
                free(data);
                continue;
            }
            rc = scr_result_decode(r, data, len);
            free(data);
            return rc;
        }
        if (scr_now_ms() >= deadline)
            return SCR_EAGAIN;
        poll(&pfd, 1, 50);
    }
}

/* PAGES (scrape reextract): stored pages are parsed like fetched ones, more of them than
 * --concurrency wait in the queue, each gets one RESULT under its id, and only 2xx pages are
 * parsed. */
TEST(pages_are_parsed_without_a_fetch)
{
    struct scr_comm *ep[2];
    struct run r = {NULL, 0, 0, PTHREAD_MUTEX_INITIALIZER};
    struct scr_msg_welcome wel;
    struct scr_stored_page pg[3];
    struct scr_result res;
    struct scr_buf b;
    pthread_t th;
    int byes = 0, seen[3] = {0, 0, 0};
    const char *html = "<html><head><title>Caf\xe9</title></head>"
                       "<body><a href='/next'>n</a></body></html>";

    ASSERT_EQ(scr_comm_local_new(2, ep), SCR_OK);
    r.c = ep[1];
    ASSERT_EQ(pthread_create(&th, NULL, worker_thread, &r), 0);
    ASSERT_EQ(next_type(ep[0], 10000, &byes), SCR_MSG_HELLO);
    memset(&wel, 0, sizeof(wel));
    wel.accepted = 1;
    wel.reason = (char *)"";
    wel.rules_name = wel.rules_text = (char *)"";
    scr_strvec_init(&wel.names);
    scr_strvec_init(&wel.values);
    scr_strvec_push(&wel.names, "concurrency");
    scr_strvec_push(&wel.values, "1");
    scr_strvec_push(&wel.names, "parsers");
    scr_strvec_push(&wel.values, "links,meta");
    scr_buf_init(&b);
    ASSERT_EQ(scr_msg_welcome_encode(&b, &wel), SCR_OK);
    scr_strvec_release(&wel.names);
    scr_strvec_release(&wel.values);
    send_msg(ep[0], &b);
    ASSERT_EQ(next_type(ep[0], 10000, &byes), SCR_MSG_REQUEST);

    memset(pg, 0, sizeof(pg));
    for (int i = 0; i < 3; i++) {
        pg[i].id = 100 + (uint64_t)i;
        pg[i].url = (char *)"http://a.test/dir/page";
        pg[i].content_type = (char *)"text/html; charset=windows-1252";
        pg[i].http_status = i == 1 ? 404 : 200;
        scr_buf_init(&pg[i].body);
        scr_buf_puts(&pg[i].body, html);
    }
    ASSERT_EQ(scr_msg_pages_encode(&b, pg, 3), SCR_OK);
    send_msg(ep[0], &b);
    for (int n = 0; n < 3; n++) {
        scr_result_init(&res);
        ASSERT_EQ(next_result(ep[0], 10000, &res), SCR_OK);
        ASSERT(res.url_id >= 100 && res.url_id <= 102);
        seen[res.url_id - 100]++;
        ASSERT_EQ(res.http_status, res.url_id == 101 ? 404 : 200);
        ASSERT_EQ(res.bytes, strlen(html));
        if (res.url_id == 101) {
            ASSERT_EQ(res.records.n, 0);
        } else {
            int links = 0, title = 0;
            ASSERT_EQ(res.records.n, 2);
            for (size_t k = 0; k < res.records.n; k++) {
                links += strstr(res.records.v[k], "\"http://a.test/next\"") != NULL;
                title += strstr(res.records.v[k], "Caf\xc3\xa9") != NULL; /* decoded */
            }
            ASSERT_EQ(links, 1);
            ASSERT_EQ(title, 1);
            ASSERT_STR_EQ(res.encoding, "windows-1252");
        }
        scr_result_release(&res);
    }
    ASSERT_EQ(seen[0] + seen[1] + seen[2], 3);
    ASSERT_EQ(seen[0] * seen[1] * seen[2], 1);
    ASSERT_EQ(scr_msg_simple_encode(&b, SCR_MSG_STOP), SCR_OK);
    send_msg(ep[0], &b);
    pthread_join(th, NULL);
    ASSERT_EQ(r.rc, SCR_OK);
    while (next_type(ep[0], 100, &byes) >= 0)
        ;
    ASSERT_EQ(byes, 1);
    for (int i = 0; i < 3; i++)
        scr_buf_release(&pg[i].body);
    scr_buf_release(&b);
    scr_comm_free(ep[0]);
    scr_comm_free(ep[1]);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    xmlInitParser();
    RUN(malformed_batch_ends_the_worker_without_bye);
    RUN(pages_are_parsed_without_a_fetch);
    curl_global_cleanup();
    return 0;
}
