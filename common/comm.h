/* comm.h - moving encoded messages between ranks, without ever spinning.
 *
 * Two implementations behind one vtable: MPI (comm_mpi.c: ranks are processes placed by
 * mpiexec) and local (comm_local.c: the coordinator and its worker threads in one process,
 * for runs without mpiexec).  Callers never block inside MPI: MPICH busy-polls in blocking
 * calls, so sends are MPI_Isend tested later, receives are MPI_Improbe + MPI_Mrecv, and
 * waiting is poll() with a short, growing timeout (scr_comm_wait).
 *
 * Messages are opaque bytes here (see wire.h).  Order between one pair of ranks is kept.
 */
#ifndef SCR_COMM_H
#define SCR_COMM_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

struct scr_comm;

struct scr_comm_ops {
    const char *name;
    /* Queues data for peer and takes ownership of it (malloc'd; freed even on failure). */
    int (*send)(struct scr_comm *c, int peer, char *data, size_t len);
    /* Returns the next message (caller frees *data) or SCR_EAGAIN when none is waiting. */
    int (*recv)(struct scr_comm *c, int *peer, char **data, size_t *len);
    /* Advances outstanding sends; returns how many are still outstanding. */
    size_t (*progress)(struct scr_comm *c);
    /* Returns 1 when a message is waiting, without receiving it. */
    int (*probe)(struct scr_comm *c);
    /* An fd that becomes readable when a message may be waiting, or -1 (poll with backoff). */
    int (*fd)(struct scr_comm *c);
    /* Ends the communication cleanly: all sends completed, then a barrier with every rank
     * that does not spin.  SCR_ELOST when it cannot complete within timeout_ms. */
    int (*finish)(struct scr_comm *c, int64_t timeout_ms);
    void (*free)(struct scr_comm *c);
};

struct scr_comm {
    const struct scr_comm_ops *ops;
    int rank;
    int size;
};

/* A poll timeout that starts short and doubles up to a cap while nothing happens, so an idle
 * rank wakes rarely (well under 1% of a core) and a busy one answers within microseconds. */
struct scr_backoff {
    int64_t cur_us, min_us, max_us;
};

void scr_backoff_init(struct scr_backoff *b, int64_t min_us, int64_t max_us);
void scr_backoff_reset(struct scr_backoff *b);
/* Returns the next wait and grows the following one. */
int64_t scr_backoff_next(struct scr_backoff *b);

/* Sends the buffer's bytes (detached from b; b is left empty). */
int scr_comm_send_buf(struct scr_comm *c, int peer, struct scr_buf *b);

static inline int scr_comm_send(struct scr_comm *c, int peer, char *data, size_t len)
{
    return c->ops->send(c, peer, data, len);
}

static inline int scr_comm_recv(struct scr_comm *c, int *peer, char **data, size_t *len)
{
    return c->ops->recv(c, peer, data, len);
}

/* Waits until a message may be waiting, one of fds is ready, or timeout_us passed, whichever
 * is first, without spinning: for MPI it polls the fds with the backoff's timeouts and probes
 * MPI in between.  Returns the number of ready fds (revents filled), 0 otherwise. */
int scr_comm_wait(struct scr_comm *c, struct pollfd *fds, nfds_t nfds, int64_t timeout_us,
                  struct scr_backoff *bo);

/* MPI: wraps MPI_COMM_WORLD (MPI must be initialized).  Local: n endpoints sharing
 * mailboxes; endpoint i is rank i; each is freed by its user with scr_comm_free.  Local
 * fails with SCR_EINVAL (n < 1) or SCR_EIO (no eventfd left), writing no endpoint. */
int scr_comm_mpi_new(struct scr_comm **out);
int scr_comm_local_new(int n, struct scr_comm **endpoints);
static inline int scr_comm_fd(struct scr_comm *c)
{
    return c->ops->fd(c);
}

static inline int scr_comm_probe(struct scr_comm *c)
{
    return c->ops->probe(c);
}

static inline void scr_comm_free(struct scr_comm *c)
{
    if (c)
        c->ops->free(c);
}

#endif
