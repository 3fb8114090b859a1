/* test_check.c - `scrape check`'s library part (check/check.h).
 *
 * The messages: round trips of START, REPORT, PING, PONG and DONE; the exact bytes of a PING;
 * a REPORT from another layout decoded as far as its fixed prefix; hostile input (every
 * truncation, trailing bytes, wrong type bytes, a damaged or oversized payload, 5,000 random
 * corruptions), always decoded from a malloc'd copy of exactly its length so a sanitizer
 * build catches any overread or leak.  The arithmetic: RTT, NTP offset, median.  The verdict:
 * which differences make a rank unusable and which are warnings.  The probe against a
 * listening and a closed port on 127.0.0.1.  And the whole exchange (START, REPORT, pings,
 * DONE) between a thread running scr_check_serve and scr_check_measure, over the local
 * transport.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check/check.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/host.h"
#include "test.h"

#define S(x) ((char *)(x))

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;
static uint64_t rng(void)
{
    return test_rng(&rng_state);
}

static void fill_report(struct scr_check_report *r)
{
    memset(r, 0, sizeof(*r));
    r->layout = SCR_CHECK_LAYOUT;
    r->node.protocol = 2;
    r->node.version = strdup("0.1.0");
    r->node.build_id = strdup("78ecb38c030f-dirty");
    r->node.host = strdup("pi3");
    r->node.arch = strdup("aarch64");
    r->node.os = strdup("Debian GNU/Linux 12 (bookworm)");
    r->node.curl_version = strdup("7.88.1");
    r->node.libxml2_version = strdup("2.9.14");
    r->node.pcre2_version = strdup("10.42 2022-12-11");
    r->node.mpi_version = strdup("MPICH Version:\t4.0.2");
    r->node.cores = 4;
    r->node.mem_bytes = 0x1F0000000ULL; /* above 4 GiB: needs the u64 */
    r->node.pid = 4242;
    r->probe.stage = SCR_PROBE_CONNECT;
    r->probe.resolve_us = 1200;
    r->probe.connect_us = 0xFFFFFFFFu;
    r->probe.tls_us = 0;
    r->probe.ip = strdup("192.0.2.7");
    r->probe.error = strdup("Failed to connect to example.org port 80: Connection refused");
}

static void encode_report(struct scr_buf *b, uint32_t layout)
{
    struct scr_check_report r;
    fill_report(&r);
    r.layout = layout;
    scr_buf_init(b);
    ASSERT_EQ(scr_check_report_encode(b, &r), SCR_OK);
    scr_check_report_release(&r);
}

static void encode_start(struct scr_buf *b)
{
    struct scr_check_start m = {SCR_CHECK_LAYOUT, S("https://example.org/robots.txt"), 5000, 1};
    scr_buf_init(b);
    ASSERT_EQ(scr_check_start_encode(b, &m), SCR_OK);
}

static void encode_ping(struct scr_buf *b, int type, uint32_t payload)
{
    struct scr_check_ping m = {7, 0x0102030405060708ULL, (uint64_t)-5, 42, payload};
    scr_buf_init(b);
    ASSERT_EQ(scr_check_ping_encode(b, type, &m), SCR_OK);
}

/* Decodes bytes as each message kind; returns the rc for `kind`. */
static int decode_as(int kind, const uint8_t *p, size_t n)
{
    int rc;
    if (kind == SCR_MSG_CHECK_START) {
        struct scr_check_start m;
        rc = scr_check_start_decode(&m, p, n);
        scr_check_start_release(&m);
    } else if (kind == SCR_MSG_CHECK_REPORT) {
        struct scr_check_report m;
        rc = scr_check_report_decode(&m, p, n);
        scr_check_report_release(&m);
    } else {
        struct scr_check_ping m;
        rc = scr_check_ping_decode(&m, kind, p, n);
    }
    return rc;
}

/* --- messages -------------------------------------------------------------------------- */

TEST(start_roundtrip)
{
    struct scr_buf b;
    struct scr_check_start m;

    encode_start(&b);
    ASSERT_EQ(scr_wire_type(b.data, b.len), SCR_MSG_CHECK_START);
    ASSERT_EQ(scr_check_start_decode(&m, b.data, b.len), SCR_OK);
    ASSERT_EQ(m.layout, SCR_CHECK_LAYOUT);
    ASSERT_STR_EQ(m.probe_url, "https://example.org/robots.txt");
    ASSERT_EQ(m.probe_timeout_ms, 5000);
    ASSERT_EQ(m.insecure, 1);
    scr_check_start_release(&m);
    ASSERT(m.probe_url == NULL);
    scr_buf_release(&b);
}

TEST(report_roundtrip)
{
    struct scr_buf b;
    struct scr_check_report m;

    encode_report(&b, SCR_CHECK_LAYOUT);
    ASSERT_EQ(scr_check_report_decode(&m, b.data, b.len), SCR_OK);
    ASSERT_EQ(m.layout, SCR_CHECK_LAYOUT);
    ASSERT_EQ(m.node.protocol, 2);
    ASSERT_STR_EQ(m.node.version, "0.1.0");
    ASSERT_STR_EQ(m.node.build_id, "78ecb38c030f-dirty");
    ASSERT_STR_EQ(m.node.host, "pi3");
    ASSERT_STR_EQ(m.node.arch, "aarch64");
    ASSERT_STR_EQ(m.node.os, "Debian GNU/Linux 12 (bookworm)");
    ASSERT_STR_EQ(m.node.curl_version, "7.88.1");
    ASSERT_STR_EQ(m.node.libxml2_version, "2.9.14");
    ASSERT_STR_EQ(m.node.pcre2_version, "10.42 2022-12-11");
    ASSERT_STR_EQ(m.node.mpi_version, "MPICH Version:\t4.0.2");
    ASSERT_EQ(m.node.cores, 4);
    ASSERT(m.node.mem_bytes == 0x1F0000000ULL);
    ASSERT_EQ(m.node.pid, 4242);
    ASSERT_EQ(m.probe.stage, SCR_PROBE_CONNECT);
    ASSERT_EQ(m.probe.resolve_us, 1200);
    ASSERT(m.probe.connect_us == 0xFFFFFFFFu);
    ASSERT_EQ(m.probe.tls_us, 0);
    ASSERT_STR_EQ(m.probe.ip, "192.0.2.7");
    ASSERT_STR_EQ(m.probe.error, "Failed to connect to example.org port 80: Connection refused");
    scr_check_report_release(&m);
    ASSERT(m.node.host == NULL && m.probe.error == NULL);
    scr_buf_release(&b);
}

/* A report from a build with another layout: the fixed prefix is still read. */
TEST(report_other_layout_keeps_the_prefix)
{
    struct scr_buf b;
    struct scr_check_report m;

    encode_report(&b, SCR_CHECK_LAYOUT + 1);
    ASSERT_EQ(scr_check_report_decode(&m, b.data, b.len), SCR_EVERSION);
    ASSERT_EQ(m.layout, SCR_CHECK_LAYOUT + 1);
    ASSERT_EQ(m.node.protocol, 2);
    ASSERT_STR_EQ(m.node.version, "0.1.0");
    ASSERT_STR_EQ(m.node.build_id, "78ecb38c030f-dirty");
    ASSERT_STR_EQ(m.node.host, "pi3");
    ASSERT(m.node.arch == NULL && m.probe.ip == NULL);
    scr_check_report_release(&m);
    scr_buf_release(&b);

    /* a START of another layout is refused as such, not as damage */
    {
        struct scr_check_start s = {SCR_CHECK_LAYOUT + 1, S("http://x/"), 1, 0}, d;
        scr_buf_init(&b);
        ASSERT_EQ(scr_check_start_encode(&b, &s), SCR_OK);
        ASSERT_EQ(scr_check_start_decode(&d, b.data, b.len), SCR_EVERSION);
        scr_check_start_release(&d);
        scr_buf_release(&b);
    }
}

TEST(ping_layout)
{
    struct scr_buf b;
    static const uint8_t want[] = {
        SCR_MSG_CHECK_PING, 0, 0, 0, 7,          /* type, seq */
        1, 2, 3, 4, 5, 6, 7, 8,                  /* t1 big-endian */
        0, 0, 0, 3, 'x', 'x', 'x'};              /* payload as a str */

    encode_ping(&b, SCR_MSG_CHECK_PING, 3);
    ASSERT_EQ(b.len, sizeof(want));
    ASSERT_MEM_EQ(b.data, want, sizeof(want));
    scr_buf_release(&b);
    /* PONG adds t2 and t3 after t1; a negative time survives as two's complement */
    encode_ping(&b, SCR_MSG_CHECK_PONG, 0);
    ASSERT_EQ(b.len, 1 + 4 + 8 + 8 + 8 + 4);
    ASSERT_MEM_EQ(b.data + 13, "\xff\xff\xff\xff\xff\xff\xff\xfb", 8);
    ASSERT_MEM_EQ(b.data + 21, "\0\0\0\0\0\0\0\x2a", 8);
    scr_buf_release(&b);
    scr_buf_init(&b);
    ASSERT_EQ(scr_check_ping_encode(&b, SCR_MSG_CHECK_DONE, &(struct scr_check_ping){0}),
              SCR_EINVAL);
    scr_buf_release(&b);
}

TEST(ping_pong_roundtrip)
{
    struct scr_buf b;
    struct scr_check_ping m;

    encode_ping(&b, SCR_MSG_CHECK_PONG, 1024 * 1024);
    ASSERT_EQ(b.len, 33 + 1024 * 1024);
    ASSERT_EQ(scr_check_ping_decode(&m, SCR_MSG_CHECK_PONG, b.data, b.len), SCR_OK);
    ASSERT_EQ(m.seq, 7);
    ASSERT(m.t1 == 0x0102030405060708ULL);
    ASSERT_EQ((int64_t)m.t2, -5);
    ASSERT_EQ(m.t3, 42);
    ASSERT_EQ(m.payload, 1024 * 1024);
    /* a PONG is not a PING */
    ASSERT_EQ(scr_check_ping_decode(&m, SCR_MSG_CHECK_PING, b.data, b.len), SCR_EPROTO);
    scr_buf_release(&b);

    scr_buf_init(&b);
    ASSERT_EQ(scr_check_done_encode(&b), SCR_OK);
    ASSERT_EQ(b.len, 1);
    ASSERT_EQ(scr_wire_type(b.data, b.len), SCR_MSG_CHECK_DONE);
    scr_buf_release(&b);
}

/* Every message type is >= 64: none can be mistaken for a crawl message. */
TEST(types_apart_from_the_crawl)
{
    ASSERT_GE(SCR_MSG_CHECK_START, 64);
    ASSERT_GT((int)SCR_MSG_CHECK_START, (int)SCR_MSG_RETURN);
}

TEST(truncations)
{
    struct scr_buf b[4];
    int kinds[4] = {SCR_MSG_CHECK_START, SCR_MSG_CHECK_REPORT, SCR_MSG_CHECK_PING,
                    SCR_MSG_CHECK_PONG};

    encode_start(&b[0]);
    encode_report(&b[1], SCR_CHECK_LAYOUT);
    encode_ping(&b[2], SCR_MSG_CHECK_PING, 100);
    encode_ping(&b[3], SCR_MSG_CHECK_PONG, 100);
    for (int k = 0; k < 4; k++) {
        for (size_t n = 0; n < b[k].len; n++) {
            uint8_t *p = test_dup_bytes(b[k].data, n);
            int rc = decode_as(kinds[k], p, n);
            if (rc != SCR_EPROTO)
                TEST_FAIL_("type %d cut to %zu of %zu bytes: rc %d", kinds[k], n, b[k].len, rc);
            free(p);
        }
        /* one byte too many */
        {
            uint8_t *p = malloc(b[k].len + 1);
            ASSERT(p != NULL);
            memcpy(p, b[k].data, b[k].len);
            p[b[k].len] = 0;
            ASSERT_EQ(decode_as(kinds[k], p, b[k].len + 1), SCR_EPROTO);
            free(p);
        }
        scr_buf_release(&b[k]);
    }
}

TEST(wrong_type_bytes)
{
    struct scr_buf b;
    uint8_t *p;

    encode_report(&b, SCR_CHECK_LAYOUT);
    p = test_dup_bytes(b.data, b.len);
    for (int t = 0; t < 256; t++) {
        if (t == SCR_MSG_CHECK_REPORT)
            continue;
        p[0] = (uint8_t)t;
        ASSERT_EQ(decode_as(SCR_MSG_CHECK_REPORT, p, b.len), SCR_EPROTO);
        ASSERT_EQ(decode_as(SCR_MSG_CHECK_START, p, b.len), SCR_EPROTO);
    }
    free(p);
    scr_buf_release(&b);
}

TEST(damaged_payload)
{
    struct scr_buf b;
    struct scr_check_ping m;
    uint8_t *p;

    encode_ping(&b, SCR_MSG_CHECK_PING, 64);
    p = test_dup_bytes(b.data, b.len);
    p[b.len - 10] = 'y'; /* one byte changed in transit */
    ASSERT_EQ(scr_check_ping_decode(&m, SCR_MSG_CHECK_PING, p, b.len), SCR_EPROTO);
    p[b.len - 10] = 'x';
    ASSERT_EQ(scr_check_ping_decode(&m, SCR_MSG_CHECK_PING, p, b.len), SCR_OK);
    /* a payload length larger than the message */
    p[13] = 0xff;
    ASSERT_EQ(scr_check_ping_decode(&m, SCR_MSG_CHECK_PING, p, b.len), SCR_EPROTO);
    free(p);
    scr_buf_release(&b);
}

TEST(random_corruptions)
{
    struct scr_buf b[3];
    int kinds[3] = {SCR_MSG_CHECK_START, SCR_MSG_CHECK_REPORT, SCR_MSG_CHECK_PONG};

    encode_start(&b[0]);
    encode_report(&b[1], SCR_CHECK_LAYOUT);
    encode_ping(&b[2], SCR_MSG_CHECK_PONG, 16);
    for (int i = 0; i < 5000; i++) {
        int k = (int)(rng() % 3);
        size_t n = b[k].len;
        uint8_t *p = test_dup_bytes(b[k].data, n);
        int flips = 1 + (int)(rng() % 4), rc;
        for (int f = 0; f < flips; f++)
            p[rng() % n] ^= (uint8_t)(1u << (rng() % 8));
        if (rng() % 4 == 0)
            n = rng() % n; /* and cut */
        rc = decode_as(kinds[k], p, n);
        ASSERT(rc == SCR_OK || rc == SCR_EPROTO || rc == SCR_EVERSION);
        free(p);
    }
    for (int k = 0; k < 3; k++)
        scr_buf_release(&b[k]);
}

/* --- arithmetic ------------------------------------------------------------------------ */

TEST(rtt_and_offset)
{
    /* the peer's clock is 1 s ahead; 2 ms each way; the peer holds the ping 1 ms */
    const int64_t base = 1700000000LL * 1000000000LL, ms = 1000000;
    struct scr_check_sample s = {base, base + 1000 * ms + 2 * ms, base + 1000 * ms + 3 * ms,
                                 base + 5 * ms};

    ASSERT_EQ(scr_check_sample_rtt(&s), 4 * ms);
    ASSERT_EQ(scr_check_sample_offset(&s), 1000 * ms);
    /* behind, with an asymmetric path: the error is at most half the round trip */
    s = (struct scr_check_sample){base, base - 500 * ms + 1 * ms, base - 500 * ms + 1 * ms,
                                  base + 4 * ms};
    ASSERT_EQ(scr_check_sample_rtt(&s), 4 * ms);
    ASSERT_LE(scr_check_sample_offset(&s) - (-500 * ms), 2 * ms);
    ASSERT_GE(scr_check_sample_offset(&s) - (-500 * ms), -2 * ms);
    /* a peer whose clock jumped forward while it held the ping never makes a negative
     * round trip */
    s = (struct scr_check_sample){base, base, base + 5 * ms, base + 1 * ms};
    ASSERT_EQ(scr_check_sample_rtt(&s), 0);
}

TEST(median)
{
    int64_t odd[] = {9, 1, 5, 3, 7}, even[] = {4, 1, 3, 2};
    int64_t big[] = {INT64_MAX, INT64_MAX - 2};

    ASSERT_EQ(scr_check_median(odd, 5), 5);
    ASSERT_EQ(scr_check_median(even, 4), 2); /* (2 + 3) / 2, rounded down */
    ASSERT_EQ(scr_check_median(odd, 0), 0);
    ASSERT_EQ(scr_check_median(big, 2), INT64_MAX - 1); /* no overflow */
}

/* --- the verdict ----------------------------------------------------------------------- */

static void base_rows(struct scr_check_row *rows, int n)
{
    memset(rows, 0, sizeof(*rows) * (size_t)n);
    for (int i = 0; i < n; i++) {
        rows[i].rank = i;
        fill_report(&rows[i].report);
        rows[i].report.probe.stage = SCR_PROBE_OK;
        if (i) {
            rows[i].measured = 1;
            rows[i].net.ok = 1;
            rows[i].net.rtt_ns = 300000;
            rows[i].net.mbps = 90;
        }
    }
}

static void free_rows(struct scr_check_row *rows, int n)
{
    for (int i = 0; i < n; i++)
        scr_check_report_release(&rows[i].report);
}

TEST(judge)
{
    struct scr_check_row rows[8];
    struct scr_check_limits lim = {50000000, 10.0, 1000000000, 1};

    base_rows(rows, 8);
    /* 1: another build; 2: another protocol; 3: probe failed; 4: no answer to pings;
     * 5: slow and skewed; 6: never reported; 7: another MPI (warning) */
    free(rows[1].report.node.build_id);
    rows[1].report.node.build_id = strdup("0123456789ab");
    rows[2].report.node.protocol = 3;
    rows[3].report.probe.stage = SCR_PROBE_RESOLVE;
    rows[4].net.ok = 0;
    rows[5].net.rtt_ns = 120000000;
    rows[5].net.offset_ns = -3000000000LL;
    scr_check_report_release(&rows[6].report);
    rows[6].report_rc = SCR_ELOST;
    rows[6].measured = 0;
    free(rows[7].report.node.mpi_version);
    rows[7].report.node.mpi_version = strdup("Open MPI v4.1.4");

    ASSERT_EQ(scr_check_judge(rows, 8, &lim), 5);
    ASSERT_STR_EQ(rows[0].marks, "");
    ASSERT_STR_EQ(rows[1].marks, "BUILD DIFFERS");
    ASSERT_STR_EQ(rows[2].marks, "PROTOCOL DIFFERS");
    ASSERT_STR_EQ(rows[3].marks, "PROBE: CANNOT RESOLVE");
    ASSERT_STR_EQ(rows[4].marks, "NO ANSWER");
    ASSERT_STR_EQ(rows[5].marks, "slow link, clock skew");
    ASSERT_EQ(rows[5].unusable, 0);
    ASSERT_EQ(rows[5].warnings, 2);
    ASSERT_STR_EQ(rows[6].marks, "NO REPORT");
    ASSERT_STR_EQ(rows[7].marks, "MPI differs");
    ASSERT_EQ(rows[7].unusable, 0);

    /* without --probe, a failed (not asked) probe is no problem; bandwidth alone is slow */
    lim.probe_asked = 0;
    rows[5].net.rtt_ns = 1000;
    rows[5].net.offset_ns = 0;
    rows[5].net.mbps = 2.5;
    ASSERT_EQ(scr_check_judge(rows, 8, &lim), 4);
    ASSERT_STR_EQ(rows[3].marks, "");
    ASSERT_STR_EQ(rows[5].marks, "slow link");
    free_rows(rows, 8);
}

/* --- the probe ------------------------------------------------------------------------- */

static int listen_local(int *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ASSERT(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ASSERT_EQ(listen(fd, 8), 0);
    ASSERT_EQ(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

TEST(probe)
{
    struct scr_check_probe p;
    char url[64];
    int port, fd = listen_local(&port);

    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
    ASSERT_EQ(scr_check_probe_run(&p, url, 3000, 0), SCR_OK);
    ASSERT_EQ(p.stage, SCR_PROBE_OK);
    ASSERT_STR_EQ(p.ip, "127.0.0.1");
    ASSERT_STR_EQ(p.error, "");
    ASSERT_GE(p.connect_us, p.resolve_us);
    scr_check_probe_release(&p);
    close(fd); /* now nothing listens there */

    ASSERT_EQ(scr_check_probe_run(&p, url, 3000, 0), SCR_OK);
    ASSERT_EQ(p.stage, SCR_PROBE_CONNECT);
    ASSERT(strlen(p.error) > 0);
    scr_check_probe_release(&p);

    ASSERT_EQ(scr_check_probe_run(&p, "ftp://127.0.0.1/", 3000, 0), SCR_OK);
    ASSERT_EQ(p.stage, SCR_PROBE_URL);
    scr_check_probe_release(&p);

    ASSERT_EQ(scr_check_probe_run(&p, NULL, 3000, 0), SCR_OK);
    ASSERT_EQ(p.stage, SCR_PROBE_NONE);
    ASSERT_STR_EQ(p.error, "");
    scr_check_probe_release(&p);
    ASSERT_STR_EQ(scr_check_probe_stage_name(SCR_PROBE_RESOLVE), "cannot resolve");
}

/* --- the whole exchange over the local transport --------------------------------------- */

struct server {
    pthread_t t;
    struct scr_comm *ep;
    int rc;
};

static void *serve_main(void *arg)
{
    struct server *s = arg;
    s->rc = scr_check_serve(s->ep, 10000);
    return NULL;
}

struct gathered {
    int got;
    int rc;
    struct scr_check_report rep;
};

static int on_report(void *arg, int peer, const char *data, size_t len)
{
    struct gathered *g = arg;
    ASSERT_EQ(peer, 1);
    g->rc = scr_check_report_decode(&g->rep, data, len);
    g->got = 1;
    return 1;
}

TEST(serve_and_measure)
{
    struct scr_comm *ep[2];
    struct server srv;
    struct scr_check_start st = {SCR_CHECK_LAYOUT, S(""), 1000, 0};
    struct scr_check_net_opts no = {.small_pings = 20,
                                    .small_bytes = 8,
                                    .big_pings = 3,
                                    .big_bytes = 256 * 1024,
                                    .timeout_ms = 5000};
    struct scr_check_net net;
    struct gathered g;
    struct scr_msg_hello me;
    struct scr_buf b;

    ASSERT_EQ(scr_comm_local_new(2, ep), SCR_OK);
    srv.ep = ep[1];
    srv.rc = -99;
    ASSERT_EQ(pthread_create(&srv.t, NULL, serve_main, &srv), 0);

    scr_buf_init(&b);
    ASSERT_EQ(scr_check_start_encode(&b, &st), SCR_OK);
    ASSERT_EQ(scr_comm_send_buf(ep[0], 1, &b), SCR_OK);
    memset(&g, 0, sizeof(g));
    ASSERT_EQ(scr_check_wait(ep[0], 5000, on_report, &g), SCR_OK);
    ASSERT_EQ(g.got, 1);
    ASSERT_EQ(g.rc, SCR_OK);
    ASSERT_EQ(scr_host_describe(&me), SCR_OK);
    ASSERT_STR_EQ(g.rep.node.host, me.host);
    ASSERT_STR_EQ(g.rep.node.build_id, me.build_id);
    ASSERT_EQ(g.rep.probe.stage, SCR_PROBE_NONE);
    scr_msg_hello_release(&me);
    scr_check_report_release(&g.rep);

    ASSERT_EQ(scr_check_measure(ep[0], 1, &no, &net), SCR_OK);
    if (!net.ok)
        TEST_FAIL_("measure failed: %s", net.error);
    ASSERT_GT(net.rtt_ns, 0);
    ASSERT_LT(net.rtt_ns, 1000000000LL);
    /* one clock: the offset is within the round trip */
    ASSERT_LE(net.offset_ns, 100000000LL);
    ASSERT_GE(net.offset_ns, -100000000LL);
    ASSERT(net.mbps > 0.0);
    ASSERT_EQ(net.payload, 256 * 1024);

    /* a payload that starts small grows x4 while an exchange is quicker than the target
     * (always, here: the local transport takes microseconds), up to big_bytes */
    no.big_min_bytes = 4096;
    no.big_target_ms = 60000;
    ASSERT_EQ(scr_check_measure(ep[0], 1, &no, &net), SCR_OK);
    ASSERT(net.ok);
    ASSERT_EQ(net.payload, 256 * 1024);
    /* and stays where it is once an exchange takes the target (0 ms: at once) */
    no.big_target_ms = 0;
    ASSERT_EQ(scr_check_measure(ep[0], 1, &no, &net), SCR_OK);
    ASSERT(net.ok);
    ASSERT_EQ(net.payload, 4096);
    ASSERT(net.mbps > 0.0);

    scr_buf_init(&b);
    ASSERT_EQ(scr_check_done_encode(&b), SCR_OK);
    ASSERT_EQ(scr_comm_send_buf(ep[0], 1, &b), SCR_OK);
    ASSERT_EQ(pthread_join(srv.t, NULL), 0);
    ASSERT_EQ(srv.rc, SCR_OK);

    /* nobody answers now: a measure gives up after its timeout, and says so */
    no.small_pings = 1;
    no.timeout_ms = 200;
    ASSERT_EQ(scr_check_measure(ep[0], 1, &no, &net), SCR_OK);
    ASSERT_EQ(net.ok, 0);
    ASSERT(strstr(net.error, "no answer") != NULL);
    scr_comm_free(ep[0]);
    scr_comm_free(ep[1]);
}

/* A worker whose rank 0 stays silent gives up after its idle time. */
TEST(serve_gives_up)
{
    struct scr_comm *ep[2];
    int64_t t0 = scr_now_ms();

    ASSERT_EQ(scr_comm_local_new(2, ep), SCR_OK);
    ASSERT_EQ(scr_check_serve(ep[1], 200), SCR_ELOST);
    ASSERT_GE(scr_now_ms() - t0, 190);
    scr_comm_free(ep[0]);
    scr_comm_free(ep[1]);
}

int main(void)
{
    RUN(start_roundtrip);
    RUN(report_roundtrip);
    RUN(report_other_layout_keeps_the_prefix);
    RUN(ping_layout);
    RUN(ping_pong_roundtrip);
    RUN(types_apart_from_the_crawl);
    RUN(truncations);
    RUN(wrong_type_bytes);
    RUN(damaged_payload);
    RUN(random_corruptions);
    RUN(rtt_and_offset);
    RUN(median);
    RUN(judge);
    RUN(probe);
    RUN(serve_and_measure);
    RUN(serve_gives_up);
    return 0;
}
