/* check.c - `scrape check`: the check's messages, the probe, the ping-pong and the verdict
 * (see check.h; the command itself is cli/cmd_check.c, the database part
 * coordinator/dbcheck.c).
 *
 * Invariants: a decoder never reads past the message (the wire.h primitives check every
 * length); no wait blocks inside MPI: waits go through scr_comm_wait's poll-and-probe
 * backoff.  The times in PING/PONG are patched into the encoded message just before it is
 * sent, so encoding a 1 MiB payload is not counted as network time.
 */
#include "common/check.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/host.h"
#include "common/log.h"

/* Byte offsets of the times in an encoded PING/PONG: type u8, seq u32, t1 u64, t2, t3. */
#define PING_T1_AT 5
#define PING_T3_AT 21

static int64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void patch_u64(char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (char)(uint8_t)v;
}


/* --- START ----------------------------------------------------------------------------- */

int scr_check_start_encode(struct scr_buf *b, const struct scr_check_start *m)
{
    struct scr_wire_writer w;

    scr_wire_writer_init(&w, b);
    scr_wire_put_u8(&w, SCR_MSG_CHECK_START);
    scr_wire_put_u32(&w, m->layout);
    scr_wire_put_str(&w, m->probe_url);
    scr_wire_put_u32(&w, m->probe_timeout_ms);
    scr_wire_put_u32(&w, m->insecure);
    return w.err;
}

int scr_check_start_decode(struct scr_check_start *m, const void *p, size_t len)
{
    struct scr_wire_reader r;

    memset(m, 0, sizeof(*m));
    scr_wire_begin(&r, p, len, SCR_MSG_CHECK_START);
    m->layout = scr_wire_get_u32(&r);
    if (r.err == SCR_OK && m->layout != SCR_CHECK_LAYOUT)
        return SCR_EVERSION;
    m->probe_url = scr_wire_get_str(&r);
    m->probe_timeout_ms = scr_wire_get_u32(&r);
    m->insecure = scr_wire_get_u32(&r);
    return scr_wire_end(&r);
}

void scr_check_start_release(struct scr_check_start *m)
{
    free(m->probe_url);
    memset(m, 0, sizeof(*m));
}

/* --- REPORT ---------------------------------------------------------------------------- */

int scr_check_report_encode(struct scr_buf *b, const struct scr_check_report *m)
{
    struct scr_wire_writer w;
    const struct scr_msg_hello *h = &m->node;

    scr_wire_writer_init(&w, b);
    scr_wire_put_u8(&w, SCR_MSG_CHECK_REPORT);
    /* the prefix every layout keeps */
    scr_wire_put_u32(&w, m->layout);
    scr_wire_put_u32(&w, h->protocol);
    scr_wire_put_str(&w, h->version);
    scr_wire_put_str(&w, h->build_id);
    scr_wire_put_str(&w, h->host);
    /* layout 1 */
    scr_wire_put_str(&w, h->arch);
    scr_wire_put_str(&w, h->os);
    scr_wire_put_str(&w, h->curl_version);
    scr_wire_put_str(&w, h->libxml2_version);
    scr_wire_put_str(&w, h->pcre2_version);
    scr_wire_put_str(&w, h->mpi_version);
    scr_wire_put_u32(&w, h->cores);
    scr_wire_put_u64(&w, h->mem_bytes);
    scr_wire_put_u32(&w, h->pid);
    scr_wire_put_u32(&w, m->probe.stage);
    scr_wire_put_u32(&w, m->probe.resolve_us);
    scr_wire_put_u32(&w, m->probe.connect_us);
    scr_wire_put_u32(&w, m->probe.tls_us);
    scr_wire_put_str(&w, m->probe.ip);
    scr_wire_put_str(&w, m->probe.error);
    return w.err;
}

int scr_check_report_decode(struct scr_check_report *m, const void *p, size_t len)
{
    struct scr_wire_reader r;
    struct scr_msg_hello *h = &m->node;

    memset(m, 0, sizeof(*m));
    scr_wire_begin(&r, p, len, SCR_MSG_CHECK_REPORT);
    m->layout = scr_wire_get_u32(&r);
    h->protocol = scr_wire_get_u32(&r);
    h->version = scr_wire_get_str(&r);
    h->build_id = scr_wire_get_str(&r);
    h->host = scr_wire_get_str(&r);
    if (r.err == SCR_OK && m->layout != SCR_CHECK_LAYOUT)
        return SCR_EVERSION;
    h->arch = scr_wire_get_str(&r);
    h->os = scr_wire_get_str(&r);
    h->curl_version = scr_wire_get_str(&r);
    h->libxml2_version = scr_wire_get_str(&r);
    h->pcre2_version = scr_wire_get_str(&r);
    h->mpi_version = scr_wire_get_str(&r);
    h->cores = scr_wire_get_u32(&r);
    h->mem_bytes = scr_wire_get_u64(&r);
    h->pid = scr_wire_get_u32(&r);
    m->probe.stage = scr_wire_get_u32(&r);
    m->probe.resolve_us = scr_wire_get_u32(&r);
    m->probe.connect_us = scr_wire_get_u32(&r);
    m->probe.tls_us = scr_wire_get_u32(&r);
    m->probe.ip = scr_wire_get_str(&r);
    m->probe.error = scr_wire_get_str(&r);
    return scr_wire_end(&r);
}

void scr_check_report_release(struct scr_check_report *m)
{
    scr_msg_hello_release(&m->node);
    scr_check_probe_release(&m->probe);
    m->layout = 0;
}

/* --- PING / PONG / DONE ---------------------------------------------------------------- */

int scr_check_ping_encode(struct scr_buf *b, int type, const struct scr_check_ping *m)
{
    struct scr_wire_writer w;

    if (type != SCR_MSG_CHECK_PING && type != SCR_MSG_CHECK_PONG)
        return SCR_EINVAL;
    scr_wire_writer_init(&w, b);
    scr_wire_put_u8(&w, (uint8_t)type);
    scr_wire_put_u32(&w, m->seq);
    scr_wire_put_u64(&w, m->t1);
    if (type == SCR_MSG_CHECK_PONG) {
        scr_wire_put_u64(&w, m->t2);
        scr_wire_put_u64(&w, m->t3);
    }
    /* the payload is a str of m->payload 'x' bytes, written in place */
    scr_wire_put_u32(&w, m->payload);
    if (w.err == SCR_OK && m->payload) {
        w.err = scr_buf_reserve(b, m->payload);
        if (w.err == SCR_OK) {
            memset(b->data + b->len, 'x', m->payload);
            b->len += m->payload;
            b->data[b->len] = '\0';
        }
    }
    return w.err;
}

int scr_check_ping_decode(struct scr_check_ping *m, int type, const void *p, size_t len)
{
    struct scr_wire_reader r;
    uint32_t n;

    memset(m, 0, sizeof(*m));
    if (type != SCR_MSG_CHECK_PING && type != SCR_MSG_CHECK_PONG)
        return SCR_EINVAL;
    scr_wire_begin(&r, p, len, type);
    m->seq = scr_wire_get_u32(&r);
    m->t1 = scr_wire_get_u64(&r);
    if (type == SCR_MSG_CHECK_PONG) {
        m->t2 = scr_wire_get_u64(&r);
        m->t3 = scr_wire_get_u64(&r);
    }
    n = scr_wire_get_u32(&r);
    if (r.err == SCR_OK && n > r.len - r.pos)
        r.err = SCR_EPROTO;
    /* the payload must arrive intact: a link that damages data is not one to crawl over */
    for (uint32_t i = 0; r.err == SCR_OK && i < n; i++)
        if (r.p[r.pos + i] != 'x')
            r.err = SCR_EPROTO;
    if (r.err == SCR_OK) {
        r.pos += n;
        m->payload = n;
    }
    return scr_wire_end(&r);
}

int scr_check_done_encode(struct scr_buf *b)
{
    struct scr_wire_writer w;

    scr_wire_writer_init(&w, b);
    scr_wire_put_u8(&w, SCR_MSG_CHECK_DONE);
    return w.err;
}

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
        out->ip = strdup("");
        out->error = strdup("");
        goto done;
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
    out->ip = strdup(ip ? ip : "");
    if (cc == CURLE_OK)
        out->error = strdup("");
    else
        out->error = strdup(*errbuf ? errbuf : curl_easy_strerror(cc));
    curl_easy_cleanup(h);
done:
    if (!out->ip || !out->error) {
        scr_check_probe_release(out);
        return SCR_ENOMEM;
    }
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
            rep.probe.error = strdup("the check request could not be read");
            rep.probe.stage = SCR_PROBE_OTHER;
            rc = rep.probe.error ? SCR_OK : SCR_ENOMEM;
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
    int64_t t2 = realtime_ns();
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
        patch_u64(b.data + PING_T3_AT, (uint64_t)realtime_ns());
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

/* --- rank 0's side: the ping-pong ------------------------------------------------------ */

struct measure_state {
    int peer;
    uint32_t seq;
    int64_t t4;
    struct scr_check_ping pong;
};

static int measure_msg(void *arg, int peer, const char *data, size_t len)
{
    int64_t t4 = realtime_ns();
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
    t1 = realtime_ns();
    patch_u64(b.data + PING_T1_AT, (uint64_t)t1);
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
    rtt = calloc((size_t)(n > 0 ? n : 1), sizeof(*rtt));
    rate = calloc((size_t)(n > 0 ? n : 1), sizeof(*rate));
    if (!rtt || !rate) {
        rc = SCR_ENOMEM;
        snprintf(out->error, sizeof(out->error), "out of memory");
        goto out;
    }
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

/* --- the verdict ----------------------------------------------------------------------- */

static int same(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static void add_mark(struct scr_check_row *r, int fatal, const char *mark)
{
    size_t n = strlen(r->marks);

    if (fatal)
        r->unusable = 1;
    else
        r->warnings++;
    snprintf(r->marks + n, sizeof(r->marks) - n, "%s%s", n ? ", " : "", mark);
}

int scr_check_judge(struct scr_check_row *rows, size_t n, const struct scr_check_limits *lim)
{
    static const struct scr_msg_hello none;
    const struct scr_msg_hello *ref = n ? &rows[0].report.node : &none;
    int unusable = 0;

    for (size_t i = 0; i < n; i++) {
        struct scr_check_row *r = &rows[i];
        const struct scr_msg_hello *h = &r->report.node;

        r->unusable = 0;
        r->warnings = 0;
        r->marks[0] = '\0';
        if (r->report_rc == SCR_ELOST) {
            add_mark(r, 1, "NO REPORT");
        } else if (r->report_rc == SCR_EPROTO) {
            add_mark(r, 1, "BAD REPORT");
        } else {
            if (r->report_rc == SCR_EVERSION)
                add_mark(r, 1, "CHECK LAYOUT DIFFERS");
            if (h->protocol != ref->protocol)
                add_mark(r, 1, "PROTOCOL DIFFERS");
            if (!same(h->version, ref->version) || !same(h->build_id, ref->build_id))
                add_mark(r, 1, "BUILD DIFFERS");
        }
        if (r->report_rc == SCR_OK) {
            uint32_t st = r->report.probe.stage;
            if (lim->probe_asked && st != SCR_PROBE_OK) {
                char m[64];
                snprintf(m, sizeof(m), "PROBE: %s", scr_check_probe_stage_name(st));
                for (char *p = m + 7; *p; p++)
                    if (*p >= 'a' && *p <= 'z')
                        *p = (char)(*p - 'a' + 'A');
                add_mark(r, 1, m);
            }
        }
        if (r->measured && !r->net.ok)
            add_mark(r, 1, "NO ANSWER");
        if (r->measured && r->net.ok) {
            if (r->net.rtt_ns > lim->max_rtt_ns || r->net.mbps < lim->min_mbps)
                add_mark(r, 0, "slow link");
            if (lim->max_offset_ns > 0 && (r->net.offset_ns > lim->max_offset_ns ||
                                           r->net.offset_ns < -lim->max_offset_ns))
                add_mark(r, 0, "clock skew");
        }
        /* other libcurl/libxml2/PCRE2 versions are normal in a mixed cluster: the table's
         * versions section shows them, without a mark */
        if (r->report_rc == SCR_OK && i > 0 && !same(h->mpi_version, ref->mpi_version))
            add_mark(r, 0, "MPI differs");
        unusable += r->unusable;
    }
    return unusable;
}
