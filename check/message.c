/* message.c - the messages of `scrape check`: START, REPORT, PING, PONG, DONE (check.h).
 *
 * The byte layouts are in docs/protocol.md ("The messages of `scrape check`").  Invariants: a
 * decoder never reads past the message (the wire.h primitives check every length); a REPORT
 * keeps its prefix (layout, protocol, version, build id, host) in every layout, so another
 * build can still be named.  The times of a PING/PONG are stamped into the encoded message
 * just before it is sent (scr_check_ping_stamp), so encoding a 1 MiB payload is not counted
 * as network time.  Called by serve.c, measure.c and cli/cmd_check.c.
 */
#include "check/check.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"

/* --- times ----------------------------------------------------------------------------- */

/* Byte offsets of the times in an encoded PING/PONG: type u8, seq u32, t1 u64, t2, t3. */
#define PING_T1_AT 5
#define PING_T3_AT 21

int64_t scr_check_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void scr_check_ping_stamp(struct scr_buf *b, int type, int64_t t)
{
    char *p = b->data + (type == SCR_MSG_CHECK_PING ? PING_T1_AT : PING_T3_AT);
    uint64_t v = (uint64_t)t;

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
