/* comm_local.c - the in-process transport (see comm.h), for runs without mpiexec.
 *
 * n endpoints share a hub of n mailboxes.  A mailbox is a mutex-protected FIFO plus an
 * eventfd that is readable while the FIFO may be non-empty, so a waiting thread sleeps in
 * poll() (or curl_multi_poll()) and wakes the moment a message arrives.  Messages are the
 * same encoded bytes the MPI transport carries, so both runs take the same code paths.
 * The hub is freed by whichever endpoint is freed last.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/comm.h"
#include "common/error.h"

struct local_msg {
    struct local_msg *next;
    int from;
    char *data;
    size_t len;
};

struct mailbox {
    pthread_mutex_t lock;
    struct local_msg *head, *tail;
    int efd;
};

struct hub {
    pthread_mutex_t lock;
    int n;
    int refs;
    struct mailbox *boxes;
};

struct comm_local {
    struct scr_comm base;
    struct hub *hub;
};

static int local_send(struct scr_comm *c, int peer, char *data, size_t len)
{
    struct hub *h = ((struct comm_local *)c)->hub;
    struct local_msg *msg;
    struct mailbox *box;
    uint64_t one = 1;

    if (peer < 0 || peer >= h->n) {
        free(data);
        return SCR_EINVAL;
    }
    msg = scr_xmalloc(sizeof(*msg));
    msg->next = NULL;
    msg->from = c->rank;
    msg->data = data;
    msg->len = len;
    box = &h->boxes[peer];
    pthread_mutex_lock(&box->lock);
    if (box->tail)
        box->tail->next = msg;
    else
        box->head = msg;
    box->tail = msg;
    pthread_mutex_unlock(&box->lock);
    if (write(box->efd, &one, sizeof(one)) < 0) {
        /* the counter cannot overflow in practice; a failed wake-up only delays the reader */
    }
    return SCR_OK;
}

static int local_recv(struct scr_comm *c, int *peer, char **data, size_t *len)
{
    struct mailbox *box = &((struct comm_local *)c)->hub->boxes[c->rank];
    struct local_msg *msg;
    uint64_t v;

    pthread_mutex_lock(&box->lock);
    msg = box->head;
    if (msg) {
        box->head = msg->next;
        if (!box->head)
            box->tail = NULL;
    } else if (read(box->efd, &v, sizeof(v)) < 0) {
        /* EAGAIN: already clear */
    }
    pthread_mutex_unlock(&box->lock);
    if (!msg)
        return SCR_EAGAIN;
    *peer = msg->from;
    *data = msg->data;
    *len = msg->len;
    free(msg);
    return SCR_OK;
}

static int local_probe(struct scr_comm *c)
{
    struct mailbox *box = &((struct comm_local *)c)->hub->boxes[c->rank];
    int any;

    pthread_mutex_lock(&box->lock);
    any = box->head != NULL;
    pthread_mutex_unlock(&box->lock);
    return any;
}

static size_t local_progress(struct scr_comm *c)
{
    (void)c;
    return 0;
}

static int local_fd(struct scr_comm *c)
{
    return ((struct comm_local *)c)->hub->boxes[c->rank].efd;
}

static int local_finish(struct scr_comm *c, int64_t timeout_ms)
{
    (void)c;
    (void)timeout_ms;
    return SCR_OK;
}

static void hub_free(struct hub *h)
{
    for (int i = 0; i < h->n; i++) {
        struct mailbox *box = &h->boxes[i];
        struct local_msg *m = box->head;
        while (m) {
            struct local_msg *next = m->next;
            free(m->data);
            free(m);
            m = next;
        }
        if (box->efd >= 0)
            close(box->efd);
        pthread_mutex_destroy(&box->lock);
    }
    pthread_mutex_destroy(&h->lock);
    free(h->boxes);
    free(h);
}

static void local_free(struct scr_comm *c)
{
    struct hub *h = ((struct comm_local *)c)->hub;
    int last;

    pthread_mutex_lock(&h->lock);
    last = --h->refs == 0;
    pthread_mutex_unlock(&h->lock);
    if (last)
        hub_free(h);
    free(c);
}

static const struct scr_comm_ops local_ops = {
    .name = "local",
    .send = local_send,
    .recv = local_recv,
    .progress = local_progress,
    .probe = local_probe,
    .fd = local_fd,
    .finish = local_finish,
    .free = local_free,
};

int scr_comm_local_new(int n, struct scr_comm **endpoints)
{
    struct hub *h;
    int i;

    if (n < 1)
        return SCR_EINVAL;
    h = scr_xcalloc(1, sizeof(*h));
    h->boxes = scr_xcalloc((size_t)n, sizeof(*h->boxes));
    pthread_mutex_init(&h->lock, NULL);
    h->n = n;
    for (i = 0; i < n; i++)
        h->boxes[i].efd = -1;
    for (i = 0; i < n; i++) {
        pthread_mutex_init(&h->boxes[i].lock, NULL);
        h->boxes[i].efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (h->boxes[i].efd < 0)
            goto fail;
    }
    for (i = 0; i < n; i++) {
        struct comm_local *c = scr_xcalloc(1, sizeof(*c));
        c->base.ops = &local_ops;
        c->base.rank = i;
        c->base.size = n;
        c->hub = h;
        endpoints[i] = &c->base;
    }
    h->refs = n;
    return SCR_OK;
fail: /* an eventfd could not be made: out of file descriptors */
    hub_free(h);
    return SCR_EIO;
}
