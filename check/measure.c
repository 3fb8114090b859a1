/* measure.c - rank 0's ping-pong with one worker: round trip, bandwidth, clock offset.
 *
 * Small pings give the round trip (median, less the peer's own time) and the clock offset
 * (NTP's formula, from the fastest exchange); large pings give the bandwidth, with a payload
 * that grows from a small start until one exchange takes long enough to measure, so a slow
 * link costs seconds, not minutes.  The arithmetic is exported for the tests.  Waits go
 * through scr_check_wait (serve.c): never inside MPI.  Called by cli/cmd_check.c.
 */
#include "check/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"

/* --- rank 0's side: the ping-pong ------------------------------------------------------ */

struct measure_state {
    int peer;
    uint32_t seq;
    int64_t t4;
    struct scr_check_ping pong;
};

static int measure_msg(void *arg, int peer, const char *data, size_t len)
{
    int64_t t4 = scr_check_clock_ns();
    struct measure_state *ms = arg;
    struct scr_check_ping m;
    int rc;

    if (peer != ms->peer || scr_wire_type(data, len) != SCR_MSG_CHECK_PONG) {
        scr_debug("check: dropping a message of type %d from rank %d while measuring rank %d",
                  scr_wire_type(data, len), peer, ms->peer);
        return 0;
    }
    rc = scr_check_ping_decode(&m, SCR_MSG_CHECK_PONG, data, len);
    if (rc != SCR_OK)
        return rc;
    if (m.seq != ms->seq)
        return 0; /* a late answer to an earlier ping */
    ms->pong = m;
    ms->t4 = t4;
    return 1;
}

/* One exchange of `bytes` payload; fills s.  SCR_EAGAIN when no answer within timeout_ms. */
static int exchange(struct scr_comm *c, struct measure_state *ms, uint32_t bytes,
                    int64_t timeout_ms, struct scr_check_sample *s)
{
    struct scr_check_ping m = {0};
    struct scr_buf b;
    int64_t t1;
    int rc;

    m.seq = ++ms->seq;
    m.payload = bytes;
    scr_buf_init(&b);
    rc = scr_check_ping_encode(&b, SCR_MSG_CHECK_PING, &m);
    if (rc != SCR_OK) {
        scr_buf_release(&b);
        return rc;
    }
    t1 = scr_check_clock_ns();
    scr_check_ping_stamp(&b, SCR_MSG_CHECK_PING, t1);
    rc = scr_comm_send_buf(c, ms->peer, &b);
    scr_buf_release(&b);
    if (rc != SCR_OK)
        return rc;
    rc = scr_check_wait(c, timeout_ms, measure_msg, ms);
    if (rc != SCR_OK)
        return rc;
    if ((int64_t)ms->pong.t1 != t1 || ms->pong.payload != bytes)
        return SCR_EPROTO;
    s->t1 = t1;
    s->t2 = (int64_t)ms->pong.t2;
    s->t3 = (int64_t)ms->pong.t3;
    s->t4 = ms->t4;
    return SCR_OK;
}

int scr_check_measure(struct scr_comm *c, int peer, const struct scr_check_net_opts *o,
                      struct scr_check_net *out)
{
    struct measure_state ms;
    struct scr_check_sample s;
    int64_t *rtt = NULL, *rate = NULL, best_delay = INT64_MAX;
    int n = o->small_pings > o->big_pings ? o->small_pings : o->big_pings, got = 0;
    uint32_t size = o->big_min_bytes && o->big_min_bytes < o->big_bytes ? o->big_min_bytes
                                                                         : o->big_bytes;
    int rc = SCR_OK;

    memset(out, 0, sizeof(*out));
    memset(&ms, 0, sizeof(ms));
    ms.peer = peer;
    rtt = scr_xcalloc((size_t)(n > 0 ? n : 1), sizeof(*rtt));
    rate = scr_xcalloc((size_t)(n > 0 ? n : 1), sizeof(*rate));
    for (int i = 0; i < o->small_pings; i++) {
        rc = exchange(c, &ms, o->small_bytes, o->timeout_ms, &s);
        if (rc != SCR_OK) {
            snprintf(out->error, sizeof(out->error), "%s to ping %d of %u bytes",
                     rc == SCR_EAGAIN ? "no answer" : scr_strerror(rc), i + 1, o->small_bytes);
            goto out;
        }
        rtt[i] = scr_check_sample_rtt(&s);
        scr_debug("check: rank %d ping %d: rtt %lld us (there %lld, back %lld by the clocks), "
                  "peer held it %lld us",
                  peer, i + 1, (long long)(rtt[i] / 1000), (long long)((s.t2 - s.t1) / 1000),
                  (long long)((s.t4 - s.t3) / 1000), (long long)((s.t3 - s.t2) / 1000));
        if (rtt[i] < best_delay) {
            /* NTP: the exchange with the shortest round trip bounds the offset best */
            best_delay = rtt[i];
            out->offset_ns = scr_check_sample_offset(&s);
        }
    }
    out->rtt_ns = scr_check_median(rtt, (size_t)o->small_pings);
    for (int i = 0; got < o->big_pings; i++) {
        int64_t t, xfer;
        rc = exchange(c, &ms, size, o->timeout_ms, &s);
        if (rc != SCR_OK) {
            snprintf(out->error, sizeof(out->error), "%s to ping %d of %u bytes",
                     rc == SCR_EAGAIN ? "no answer" : scr_strerror(rc), i + 1, size);
            goto out;
        }
        t = scr_check_sample_rtt(&s);
        scr_debug("check: rank %d ping %d of %u bytes: rtt %lld us, peer held it %lld us", peer,
                  i + 1, size, (long long)(t / 1000), (long long)((s.t3 - s.t2) / 1000));
        if (got == 0 && size < o->big_bytes && t < o->big_target_ms * 1000000) {
            /* too short to measure a rate well: a larger payload (this one does not count) */
            size = size > o->big_bytes / 4 ? o->big_bytes : size * 4;
            continue;
        }
        /* the latency is the small pings' business: take it out of the transfer time, but
         * by half of it at most, so a round trip made mostly of a loaded machine's wake-ups
         * does not turn into an absurd rate */
        xfer = t - out->rtt_ns;
        if (xfer < t / 2)
            xfer = t / 2;
        if (xfer <= 0)
            xfer = 1;
        /* bytes per second, both directions, scaled to integers for the median */
        rate[got++] = (int64_t)(2.0 * size * 1e9 / (double)xfer);
    }
    out->payload = size;
    out->mbps = (double)scr_check_median(rate, (size_t)o->big_pings) / 1e6;
    out->ok = 1;
out:
    free(rtt);
    free(rate);
    return rc == SCR_ENOMEM ? rc : SCR_OK;
}

/* --- arithmetic ------------------------------------------------------------------------ */

int64_t scr_check_sample_rtt(const struct scr_check_sample *s)
{
    int64_t v = (s->t4 - s->t1) - (s->t3 - s->t2);
    return v < 0 ? 0 : v;
}

int64_t scr_check_sample_offset(const struct scr_check_sample *s)
{
    return ((s->t2 - s->t1) + (s->t3 - s->t4)) / 2;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int64_t scr_check_median(int64_t *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_i64);
    if (n % 2)
        return v[n / 2];
    /* halves first: the sum of two large values must not overflow */
    return v[n / 2 - 1] / 2 + v[n / 2] / 2 + (v[n / 2 - 1] % 2 + v[n / 2] % 2) / 2;
}
