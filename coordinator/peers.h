/* peers.h - rank 0's view of the workers: handshake, heartbeats, loss, in-flight lists.
 *
 * One struct scr_peer per rank (index = rank; rank 0 is the coordinator itself and unused).
 * A peer's in-flight list holds every task dispatched to it and not yet answered (RESULT),
 * given back (RETURN) or requeued (loss, BYE): a URL is on at most one peer's list.
 *
 * HELLO is answered with WELCOME (the wire settings and the rules file) or a refusal; a peer
 * silent for --peer-timeout is declared lost; one not written to for --heartbeat gets a
 * HEARTBEAT.  What happens to a lost peer's URLs is the caller's (results.c sends them back to the
 * frontier, an attempt counted).
 */
#ifndef SCR_PEERS_H
#define SCR_PEERS_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/comm.h"
#include "common/settings.h"
#include "common/wire.h"
#include "coordinator/balance.h"
#include "coordinator/frontier.h"

enum scr_peer_state {
    SCR_PEER_WAITING, /* no HELLO yet */
    SCR_PEER_ACTIVE,
    SCR_PEER_STOPPING, /* STOP sent, BYE awaited */
    SCR_PEER_DONE,     /* said BYE */
    SCR_PEER_LOST,     /* silent for --peer-timeout */
    SCR_PEER_REFUSED   /* bad HELLO, or another build */
};

/* "waiting", "active", ... (the run_workers.state and summary names). */
const char *scr_peer_state_name(enum scr_peer_state st);

struct scr_inflight {
    struct scr_lease_item it; /* owned */
    int64_t dispatched_us;
};

struct scr_peer {
    int rank;
    enum scr_peer_state state;
    struct scr_msg_hello hello;
    int64_t last_heard_ms, last_sent_ms;
    int has_request;          /* a REQUEST waits for an answer */
    uint32_t want_now, want_later;
    struct scr_inflight *fl;  /* in-flight list (owned items) */
    size_t nfl, capfl;
    uint64_t pages, bytes, errors, records;
    int64_t first_ms, last_ms;
    struct scr_msg_bye bye;
    int has_bye;
    /* balancing at the tail (balance.c) */
    struct scr_rate rate;
    int recall_out;          /* a RECALL waits for its RETURN */
    int recall_dry;          /* the last RETURN gave back less than asked: nothing queued */
    uint32_t recall_asked;
    uint64_t returned;       /* unstarted tasks it gave back */
};

struct scr_peers {
    struct scr_comm *c;                 /* borrowed */
    const struct scr_settings *s;       /* borrowed: the WELCOME settings, timeouts */
    const char *rules_text;             /* borrowed: sent in WELCOME (NULL = none) */
    struct scr_peer *p;                 /* n entries, index = rank */
    int n;
    int64_t held_ms;                    /* when scr_peers_hold last sent */
};

/* While rank 0 prepares the run (reads and inserts the seeds) before any WELCOME: sends
 * HEARTBEAT to every worker still waiting, at most once a second, so that a worker's wait for
 * WELCOME starts again (docs/protocol.md).  Cheap to call often. */
void scr_peers_hold(struct scr_peers *ps);

/* Rank 0 starts reading messages, its set-up done: every peer's silence (--peer-timeout) is
 * counted from now.  While rank 0 prepared the run it read nothing, so a HELLO waiting in the
 * queue since the start is not silence (a seed file that took longer than --peer-timeout to
 * insert got every worker declared lost before this). */
void scr_peers_listen(struct scr_peers *ps);

/* One peer per rank of c; s is borrowed for the table's life. */
void scr_peers_init(struct scr_peers *ps, struct scr_comm *c, const struct scr_settings *s);
/* Frees every peer, its HELLO and the items of its in-flight list. */
void scr_peers_release(struct scr_peers *ps);

/* Sends b to p (b stays the caller's) and notes the time for the heartbeat. */
int scr_peers_send(struct scr_peers *ps, struct scr_peer *p, struct scr_buf *b);
void scr_peers_send_simple(struct scr_peers *ps, struct scr_peer *p, enum scr_msg_type t);
/* WELCOME with the settings and rules, or a refusal with reason (borrowed). */
void scr_peers_welcome(struct scr_peers *ps, struct scr_peer *p, int accepted,
                       const char *reason);
/* A HELLO: checks version and build, answers WELCOME (then STOP at once when stopping). */
void scr_peers_on_hello(struct scr_peers *ps, struct scr_peer *p, const char *data, size_t len,
                        int stopping);
/* A BYE: records the peer's figures; the peer is DONE.  Its in-flight list is left for the
 * caller to requeue. */
void scr_peers_on_bye(struct scr_peer *p, const char *data, size_t len);

/* Appends it to p's in-flight list (takes its strings; it is zeroed). */
void scr_peer_push(struct scr_peer *p, struct scr_lease_item *it, int64_t now_us);
/* Takes the task url_id off p's list into *out (the caller owns its strings then); 0 if p
 * does not hold it. */
int scr_peer_take(struct scr_peer *p, uint64_t url_id, struct scr_inflight *out);

/* Declares silent peers lost (calling lost() for each: it takes the in-flight list) and sends
 * heartbeats to the quiet ones. */
void scr_peers_check(struct scr_peers *ps, void (*lost)(struct scr_peer *p, void *ctx),
                     void *ctx);
/* Sends STOP to every active peer (they become STOPPING). */
void scr_peers_stop(struct scr_peers *ps);

/* Tasks on every peer's in-flight list. */
size_t scr_peers_inflight(const struct scr_peers *ps);
/* Peers that may still work or answer (waiting, active, stopping). */
int scr_peers_active(const struct scr_peers *ps);
/* 1 when no peer may still answer. */
int scr_peers_all_gone(const struct scr_peers *ps);

#endif
