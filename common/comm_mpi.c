/* comm_mpi.c - the MPI transport (see comm.h).
 *
 * Sends are MPI_Isend on MPI_COMM_WORLD with scrape's own tag; the buffer and request are
 * kept until MPI_Test says the send completed.  Receives are MPI_Improbe + MPI_Mrecv, so a
 * receive is only posted for a message that has arrived.  Nothing here blocks waiting for a
 * peer except finish(), which waits with MPI_Test + sleep.  Only the main thread calls MPI
 * (MPI_THREAD_FUNNELED).
 */
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/comm.h"
#include "common/error.h"
#include "common/log.h"
#include "common/mpisession.h"

#define SCR_TAG 7

struct pending_send {
    MPI_Request req;
    char *data;
};

struct comm_mpi {
    struct scr_comm base;
    MPI_Comm comm;
    struct pending_send *sends;
    size_t nsends, cap;
};

static size_t mpi_progress(struct scr_comm *c)
{
    struct comm_mpi *m = (struct comm_mpi *)c;
    size_t j = 0;

    for (size_t i = 0; i < m->nsends; i++) {
        int done = 0;
        if (SCR_MPI_CHECK(MPI_Test(&m->sends[i].req, &done, MPI_STATUS_IGNORE)) != SCR_OK)
            done = 0;
        if (done)
            free(m->sends[i].data);
        else
            m->sends[j++] = m->sends[i];
    }
    m->nsends = j;
    return j;
}

static int mpi_send(struct scr_comm *c, int peer, char *data, size_t len)
{
    struct comm_mpi *m = (struct comm_mpi *)c;
    int rc = SCR_OK;

    if (len > (size_t)INT32_MAX) {
        free(data);
        return SCR_ETOOBIG;
    }
    SCR_GROW(m->sends, m->cap, m->nsends + 1, 32);
    rc = SCR_MPI_CHECK(MPI_Isend(data, (int)len, MPI_BYTE, peer, SCR_TAG, m->comm,
                                 &m->sends[m->nsends].req));
    if (rc != SCR_OK)
        goto out;
    m->sends[m->nsends++].data = data;
    data = NULL;
out:
    free(data);
    return rc;
}

static int mpi_probe(struct scr_comm *c)
{
    struct comm_mpi *m = (struct comm_mpi *)c;
    int flag = 0;

    if (SCR_MPI_CHECK(MPI_Iprobe(MPI_ANY_SOURCE, SCR_TAG, m->comm, &flag, MPI_STATUS_IGNORE)) !=
        SCR_OK)
        return 0;
    return flag;
}

static int mpi_recv(struct scr_comm *c, int *peer, char **data, size_t *len)
{
    struct comm_mpi *m = (struct comm_mpi *)c;
    MPI_Message msg;
    MPI_Status st;
    int flag = 0, count = 0, rc = SCR_OK;
    char *buf = NULL;

    rc = SCR_MPI_CHECK(MPI_Improbe(MPI_ANY_SOURCE, SCR_TAG, m->comm, &flag, &msg, &st));
    if (rc != SCR_OK)
        goto out;
    if (!flag)
        return SCR_EAGAIN;
    if ((rc = SCR_MPI_CHECK(MPI_Get_count(&st, MPI_BYTE, &count))) != SCR_OK)
        goto out;
    /* the size comes off the wire: an allocation that fails is this message's error, and
     * the message is taken off the queue anyway */
    buf = malloc((size_t)count + 1);
    if (!buf) {
        /* The message must still be taken off the queue. */
        char dummy;
        (void)SCR_MPI_CHECK(MPI_Mrecv(&dummy, 0, MPI_BYTE, &msg, MPI_STATUS_IGNORE));
        return SCR_ENOMEM;
    }
    rc = SCR_MPI_CHECK(MPI_Mrecv(buf, count, MPI_BYTE, &msg, MPI_STATUS_IGNORE));
    if (rc != SCR_OK)
        goto out;
    buf[count] = '\0';
    *peer = st.MPI_SOURCE;
    *data = buf;
    *len = (size_t)count;
    buf = NULL;
out:
    free(buf);
    return rc;
}

static int mpi_fd(struct scr_comm *c)
{
    (void)c;
    return -1;
}

static int mpi_finish(struct scr_comm *c, int64_t timeout_ms)
{
    struct comm_mpi *m = (struct comm_mpi *)c;
    int64_t deadline = scr_now_ms() + timeout_ms;
    struct scr_backoff bo;
    MPI_Request req;
    int done = 0, rc = SCR_OK;

    scr_backoff_init(&bo, 50, 2000);
    while (mpi_progress(c) > 0) {
        if (scr_now_ms() > deadline)
            return SCR_ELOST;
        scr_sleep_us(scr_backoff_next(&bo));
    }
    if ((rc = SCR_MPI_CHECK(MPI_Ibarrier(m->comm, &req))) != SCR_OK)
        goto out;
    scr_backoff_reset(&bo);
    for (;;) {
        if ((rc = SCR_MPI_CHECK(MPI_Test(&req, &done, MPI_STATUS_IGNORE))) != SCR_OK)
            goto out;
        if (done)
            break;
        if (scr_now_ms() > deadline)
            return SCR_ELOST;
        scr_sleep_us(scr_backoff_next(&bo));
    }
out:
    return rc;
}

static void mpi_free(struct scr_comm *c)
{
    struct comm_mpi *m = (struct comm_mpi *)c;

    /* Outstanding sends at this point belong to a run that is being abandoned. */
    for (size_t i = 0; i < m->nsends; i++)
        free(m->sends[i].data);
    free(m->sends);
    free(m);
}

static const struct scr_comm_ops mpi_ops = {
    .name = "mpi",
    .send = mpi_send,
    .recv = mpi_recv,
    .progress = mpi_progress,
    .probe = mpi_probe,
    .fd = mpi_fd,
    .finish = mpi_finish,
    .free = mpi_free,
};

int scr_comm_mpi_new(struct scr_comm **out)
{
    struct comm_mpi *m = scr_xcalloc(1, sizeof(*m));
    int rc = SCR_OK;

    m->base.ops = &mpi_ops;
    /* MPI_COMM_WORLD itself, not a duplicate: MPI_Comm_dup is a blocking collective, and
     * scrape uses one tag of its own on it. */
    m->comm = MPI_COMM_WORLD;
    if ((rc = SCR_MPI_CHECK(MPI_Comm_rank(m->comm, &m->base.rank))) != SCR_OK ||
        (rc = SCR_MPI_CHECK(MPI_Comm_size(m->comm, &m->base.size))) != SCR_OK)
        goto out;
    *out = &m->base;
    m = NULL;
out:
    free(m);
    return rc;
}
