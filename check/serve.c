/* serve.c - receiving in `scrape check`: the wait loop, and a worker's side of the check.
 *
 * scr_check_wait() is the only way the check receives: scr_comm_recv, then scr_comm_wait's
 * poll-and-probe backoff, so no wait blocks inside MPI (MPICH busy-polls in blocking calls).
 * scr_check_serve() is a worker's whole check: START -> REPORT, each PING -> PONG, until
 * DONE or until rank 0 stays silent for the idle time.  Called by cli/cmd_check.c (workers),
 * measure.c and cli/cmd_check.c (rank 0 waiting for reports).
 */
#include "check/check.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"

/* --- waiting --------------------------------------------------------------------------- */

int scr_check_wait(struct scr_comm *c, int64_t timeout_ms,
                   int (*on_msg)(void *arg, int peer, const char *data, size_t len), void *arg)
{
    int64_t deadline = scr_now_us() + timeout_ms * 1000;
    struct scr_backoff bo;

    /* short sleeps first, so a ping-pong measures the link and not the sleep; 2 ms at most,
     * so an idle rank costs about 1 % of a core (netns-kit section 6) */
    scr_backoff_init(&bo, 5, 2000);
    for (;;) {
        char *data = NULL;
        size_t len = 0;
        int peer = -1, rc;
        int64_t left;

        rc = scr_comm_recv(c, &peer, &data, &len);
        if (rc == SCR_OK) {
            rc = on_msg(arg, peer, data, len);
            free(data);
            if (rc != 0)
                return rc > 0 ? SCR_OK : rc;
            scr_backoff_reset(&bo);
            continue;
        }
        if (rc != SCR_EAGAIN)
            return rc;
        left = deadline - scr_now_us();
        if (left <= 0)
            return SCR_EAGAIN;
        scr_comm_wait(c, NULL, 0, left, &bo);
    }
}

/* --- the worker's side ----------------------------------------------------------------- */

struct serve_state {
    struct scr_comm *c;
    int done; /* DONE arrived */
};

static void send_or_log(struct scr_comm *c, int peer, struct scr_buf *b, int rc,
                        const char *what)
{
    if (rc == SCR_OK)
        rc = scr_comm_send_buf(c, peer, b);
    if (rc != SCR_OK)
        scr_error("check: cannot send %s to rank %d: %s", what, peer, scr_strerror(rc));
}

static void serve_start(struct serve_state *st, const char *data, size_t len)
{
    struct scr_check_start m;
    struct scr_check_report rep;
    struct scr_buf b;
    int rc = scr_check_start_decode(&m, data, len);

    if (rc == SCR_OK) {
        rc = scr_check_self(&rep, m.probe_url, m.probe_timeout_ms, (int)m.insecure);
    } else {
        /* another layout (or damage): answer anyway, so rank 0 can name this build */
        scr_warn("check: rank 0 sent a START this build cannot read (%s)", scr_strerror(rc));
        rc = scr_check_self(&rep, NULL, 0, 0);
        if (rc == SCR_OK) {
            free(rep.probe.error);
            rep.probe.error = scr_xstrdup("the check request could not be read");
            rep.probe.stage = SCR_PROBE_OTHER;
        }
    }
    scr_check_start_release(&m);
    scr_buf_init(&b);
    if (rc == SCR_OK)
        rc = scr_check_report_encode(&b, &rep);
    send_or_log(st->c, 0, &b, rc, "the check report");
    scr_buf_release(&b);
    scr_check_report_release(&rep);
}

static void serve_ping(struct serve_state *st, const char *data, size_t len)
{
    int64_t t2 = scr_check_clock_ns();
    struct scr_check_ping m;
    struct scr_buf b;
    int rc = scr_check_ping_decode(&m, SCR_MSG_CHECK_PING, data, len);

    if (rc != SCR_OK) {
        scr_warn("check: malformed PING from rank 0 (%zu bytes)", len);
        return;
    }
    m.t2 = (uint64_t)t2;
    scr_buf_init(&b);
    rc = scr_check_ping_encode(&b, SCR_MSG_CHECK_PONG, &m);
    if (rc == SCR_OK)
        scr_check_ping_stamp(&b, SCR_MSG_CHECK_PONG, scr_check_clock_ns());
    send_or_log(st->c, 0, &b, rc, "a PONG");
    scr_buf_release(&b);
}

static int serve_msg(void *arg, int peer, const char *data, size_t len)
{
    struct serve_state *st = arg;
    int type = scr_wire_type(data, len);

    if (peer != 0) {
        scr_warn("check: ignoring a message from rank %d", peer);
        return 1;
    }
    switch (type) {
    case SCR_MSG_CHECK_START:
        serve_start(st, data, len);
        break;
    case SCR_MSG_CHECK_PING:
        serve_ping(st, data, len);
        break;
    case SCR_MSG_CHECK_DONE:
        st->done = 1;
        break;
    default:
        scr_warn("check: ignoring a message of type %d from rank 0", type);
        break;
    }
    return 1; /* one message per scr_check_wait: the idle timeout restarts */
}

int scr_check_serve(struct scr_comm *c, int64_t idle_ms)
{
    struct serve_state st = {c, 0};

    while (!st.done) {
        int rc = scr_check_wait(c, idle_ms, serve_msg, &st);
        if (rc == SCR_EAGAIN) {
            scr_error("check: rank 0 was silent for %g s; giving up", (double)idle_ms / 1000);
            return SCR_ELOST;
        }
        if (rc != SCR_OK)
            return rc;
    }
    return SCR_OK;
}
