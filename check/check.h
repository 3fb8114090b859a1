/* check.h - `scrape check`: what each rank reports about itself, the probe, the ping-pong.
 *
 * The check has its own messages, type bytes 64 to 68, so they never mix with a crawl's
 * (wire.h, 1..10).  They use the same primitives (big-endian, length-prefixed), the same
 * transport (comm.h) and the same MPI tag, so a check exercises exactly the path a crawl's
 * messages take (docs/protocol.md, "The messages of `scrape check`"):
 *
 *   rank 0 -> every worker   CHECK_START   probe URL and timeout
 *   worker -> rank 0         CHECK_REPORT  who I am (as HELLO) + the probe's outcome
 *   rank 0 -> one worker     CHECK_PING    sequence, rank 0's send time, a payload
 *   worker -> rank 0         CHECK_PONG    the same, plus the worker's receive and send times
 *   rank 0 -> every worker   CHECK_DONE    nothing follows
 *
 * A REPORT must be readable from a different build, since finding one is the point of the
 * check: it starts with a layout number, then the fields that never move (protocol, version,
 * build id, host).  A decoder that meets another layout reads that prefix and stops.
 *
 * Ownership: as in wire.h, encoders append to a caller-owned scr_buf; decoders fill a
 * caller-owned struct whose strings they allocate; *_release() frees them, also after a
 * failed decode.
 *
 * The files of check/: message.c (the messages), probe.c (the probe and this node's report),
 * serve.c (the wait loop and a worker's side), measure.c (rank 0's ping-pong and its
 * arithmetic), verdict.c (the marks).  The command is cli/cmd_check.c, the database part
 * coordinator/dbcheck.c.
 */
#ifndef SCR_CHECK_H
#define SCR_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/comm.h"
#include "common/wire.h"

/* Bumped whenever a check message's layout changes (apart from the REPORT prefix). */
#define SCR_CHECK_LAYOUT 1

enum scr_check_msg_type {
    SCR_MSG_CHECK_START = 64,
    SCR_MSG_CHECK_REPORT = 65,
    SCR_MSG_CHECK_PING = 66,
    SCR_MSG_CHECK_PONG = 67,
    SCR_MSG_CHECK_DONE = 68
};

struct scr_check_start {
    uint32_t layout;
    char *probe_url;           /* "" = no probe */
    uint32_t probe_timeout_ms;
    uint32_t insecure;         /* 1: do not verify the TLS certificate (--insecure) */
};

/* Where a probe stopped. */
enum scr_probe_stage {
    SCR_PROBE_NONE = 0,    /* not asked */
    SCR_PROBE_OK = 1,      /* resolved and connected (and TLS for https) */
    SCR_PROBE_URL = 2,     /* the URL was refused before any network work */
    SCR_PROBE_RESOLVE = 3, /* the name did not resolve */
    SCR_PROBE_CONNECT = 4, /* resolved, but no TCP connection */
    SCR_PROBE_TLS = 5,     /* connected, the TLS handshake failed */
    SCR_PROBE_OTHER = 6
};

struct scr_check_probe {
    uint32_t stage;           /* enum scr_probe_stage */
    uint32_t resolve_us;      /* start to name resolved */
    uint32_t connect_us;      /* start to TCP connected */
    uint32_t tls_us;          /* start to TLS done; 0 without TLS */
    char *ip;                 /* address connected to; "" when none */
    char *error;              /* libcurl's message; "" when ok or not asked */
};

struct scr_check_report {
    uint32_t layout;
    struct scr_msg_hello node;  /* as scr_host_describe() fills it */
    struct scr_check_probe probe;
};

/* PING and PONG.  Times are CLOCK_REALTIME in nanoseconds, as u64 (two's complement):
 * t1 rank 0 sent the ping, t2 the worker received it, t3 the worker sent the pong. */
struct scr_check_ping {
    uint32_t seq;
    uint64_t t1, t2, t3;      /* t2, t3: PONG only */
    uint32_t payload;         /* payload bytes carried (and echoed back) */
};

int scr_check_start_encode(struct scr_buf *b, const struct scr_check_start *m);
int scr_check_start_decode(struct scr_check_start *m, const void *p, size_t len);
void scr_check_start_release(struct scr_check_start *m);

int scr_check_report_encode(struct scr_buf *b, const struct scr_check_report *m);
/* SCR_EVERSION when the sender uses another layout: then only layout, node.protocol,
 * node.version, node.build_id and node.host are filled.  SCR_EPROTO when damaged. */
int scr_check_report_decode(struct scr_check_report *m, const void *p, size_t len);
void scr_check_report_release(struct scr_check_report *m);

/* type: SCR_MSG_CHECK_PING or SCR_MSG_CHECK_PONG. */
int scr_check_ping_encode(struct scr_buf *b, int type, const struct scr_check_ping *m);
int scr_check_ping_decode(struct scr_check_ping *m, int type, const void *p, size_t len);

int scr_check_done_encode(struct scr_buf *b);

/* CLOCK_REALTIME in nanoseconds: the clock of t1..t4. */
int64_t scr_check_clock_ns(void);
/* Writes t into an encoded message b (from scr_check_ping_encode with the same type), just
 * before it is sent: t1 of a PING, t3 of a PONG. */
void scr_check_ping_stamp(struct scr_buf *b, int type, int64_t t);

/* --- what a rank does ------------------------------------------------------------------ */

/* Resolves and connects to url with libcurl (CURLOPT_CONNECT_ONLY: no request is sent; for
 * https the TLS handshake is done too, verifying the certificate unless insecure), giving up
 * after timeout_ms.  url NULL or "" leaves stage SCR_PROBE_NONE.  Fills out (caller releases
 * with scr_check_probe_release); SCR_ENOMEM only: a failed probe is data, not an error. */
int scr_check_probe_run(struct scr_check_probe *out, const char *url, int64_t timeout_ms,
                        int insecure);
void scr_check_probe_release(struct scr_check_probe *p);
/* "ok", "cannot resolve", "cannot connect", ... (static). */
const char *scr_check_probe_stage_name(uint32_t stage);

/* This node's report: scr_host_describe() plus a probe of url (may be NULL).  The caller
 * releases r with scr_check_report_release; on failure r holds nothing. */
int scr_check_self(struct scr_check_report *r, const char *url, int64_t timeout_ms,
                   int insecure);

/* A worker's side of the check: answers START with a REPORT and each PING with a PONG until
 * DONE (SCR_OK).  SCR_ELOST when rank 0 stays silent for idle_ms. */
int scr_check_serve(struct scr_comm *c, int64_t idle_ms);

/* Receives messages for up to timeout_ms and hands each to on_msg (data borrowed for the
 * call).  on_msg returns 0 to go on waiting, > 0 to stop (then SCR_OK is returned) or a
 * negative SCR_E* code to stop with it.  SCR_EAGAIN at the deadline.  Never blocks in MPI. */
int scr_check_wait(struct scr_comm *c, int64_t timeout_ms,
                   int (*on_msg)(void *arg, int peer, const char *data, size_t len), void *arg);

/* What rank 0 measured on its link to one worker. */
struct scr_check_net {
    int ok;                  /* every exchange answered in time */
    int64_t rtt_ns;          /* median round trip of the small pings, less the peer's time */
    int64_t offset_ns;       /* peer clock - rank 0 clock, from the fastest small ping */
    double mbps;             /* median of 2 x payload / (round trip - rtt_ns, at least half
                              * the round trip), in 10^6 bytes/s */
    uint32_t payload;        /* bytes each way of the exchanges mbps was measured with */
    char error[128];         /* why not ok */
};

struct scr_check_net_opts {
    int small_pings;         /* e.g. 20 */
    uint32_t small_bytes;    /* e.g. 8 */
    int big_pings;           /* e.g. 5 */
    uint32_t big_bytes;      /* the largest payload, e.g. 1 MiB */
    int64_t timeout_ms;      /* per exchange */
    /* The payload starts at big_min_bytes and grows x4 (up to big_bytes) while one exchange
     * takes less than big_target_ms, so a slow link is measured in seconds, not minutes.
     * big_min_bytes 0: big_bytes from the start. */
    uint32_t big_min_bytes;  /* e.g. 16 KiB */
    int64_t big_target_ms;   /* e.g. 200 */
};

/* Ping-pongs with peer (rank 0's side; the peer runs scr_check_serve): o->small_pings of
 * o->small_bytes, then o->big_pings of the payload chosen as above (the exchanges that chose
 * it count when they had that size), each answered within o->timeout_ms.  Messages from
 * other ranks that arrive meanwhile are dropped.  Returns SCR_OK with out->ok saying whether
 * every exchange worked (else out->error says which failed), or SCR_ENOMEM. */
int scr_check_measure(struct scr_comm *c, int peer, const struct scr_check_net_opts *o,
                      struct scr_check_net *out);

/* --- the arithmetic (exported for the tests) ------------------------------------------- */

/* One exchange, in ns: t1, t4 on rank 0's clock; t2, t3 on the peer's. */
struct scr_check_sample {
    int64_t t1, t2, t3, t4;
};

/* Round trip without the peer's own time: (t4 - t1) - (t3 - t2), at least 0. */
int64_t scr_check_sample_rtt(const struct scr_check_sample *s);
/* NTP's offset: ((t2 - t1) + (t3 - t4)) / 2, the peer's clock minus rank 0's. */
int64_t scr_check_sample_offset(const struct scr_check_sample *s);
/* Median of n values (sorts v in place); 0 when n is 0. */
int64_t scr_check_median(int64_t *v, size_t n);

/* --- the verdict ----------------------------------------------------------------------- */

struct scr_check_limits {
    int64_t max_rtt_ns;      /* slower: "slow link" (a warning) */
    double min_mbps;         /* less: "slow link" */
    int64_t max_offset_ns;   /* further: "clock skew" (a warning) */
    int probe_asked;         /* a failed probe makes the rank unusable */
};

/* One row of the table. */
struct scr_check_row {
    int rank;
    int report_rc;    /* SCR_OK; SCR_EVERSION: other layout, prefix only; SCR_EPROTO: damaged;
                       * SCR_ELOST: never reported (report empty) */
    struct scr_check_report report;
    int measured;                    /* net is filled (workers only) */
    struct scr_check_net net;
    /* filled by scr_check_judge: */
    int unusable;
    int warnings;
    char marks[256];                 /* "BUILD DIFFERS, slow link" */
};

/* Compares every row with row 0 (rank 0) and the limits; fills unusable, warnings and marks.
 * Upper-case marks make a rank unusable, lower-case ones are warnings.  Returns how many rows
 * are unusable. */
int scr_check_judge(struct scr_check_row *rows, size_t n, const struct scr_check_limits *lim);

#endif
