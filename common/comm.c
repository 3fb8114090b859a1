/* comm.c - what both transports share: the backoff and the wait loop (see comm.h). */
#include "common/comm.h"

#include <errno.h>
#include <time.h>

#include "common/clock.h"
#include "common/error.h"

void scr_backoff_init(struct scr_backoff *b, int64_t min_us, int64_t max_us)
{
    b->min_us = min_us;
    b->max_us = max_us;
    b->cur_us = min_us;
}

void scr_backoff_reset(struct scr_backoff *b)
{
    b->cur_us = b->min_us;
}

int64_t scr_backoff_next(struct scr_backoff *b)
{
    int64_t v = b->cur_us;
    b->cur_us = b->cur_us * 2 > b->max_us ? b->max_us : b->cur_us * 2;
    return v;
}

int scr_comm_send_buf(struct scr_comm *c, int peer, struct scr_buf *b)
{
    size_t len;
    char *data = scr_buf_detach(b, &len); /* never NULL */

    return scr_comm_send(c, peer, data, len);
}

static int poll_us(struct pollfd *fds, nfds_t nfds, int64_t us)
{
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
    int n = ppoll(fds, nfds, &ts, NULL);
    return n < 0 ? 0 : n;
}

int scr_comm_wait(struct scr_comm *c, struct pollfd *fds, nfds_t nfds, int64_t timeout_us,
                  struct scr_backoff *bo)
{
    struct pollfd all[16];
    int64_t deadline = scr_now_us() + timeout_us;
    int cfd = c->ops->fd(c);
    nfds_t n = 0;

    for (nfds_t i = 0; i < nfds && n < 15; i++)
        all[n++] = fds[i];
    if (cfd >= 0) {
        /* Local transport: one poll covers messages and fds alike. */
        int ready;
        all[n].fd = cfd;
        all[n].events = POLLIN;
        all[n].revents = 0;
        ready = poll_us(all, n + 1, timeout_us > 0 ? timeout_us : 0);
        for (nfds_t i = 0; i < nfds && i < n; i++)
            fds[i].revents = all[i].revents;
        return ready - (all[n].revents ? 1 : 0);
    }
    for (;;) {
        int64_t now, step;
        int ready;
        c->ops->progress(c);
        if (scr_comm_probe(c))
            return 0;
        now = scr_now_us();
        if (now >= deadline)
            return 0;
        step = scr_backoff_next(bo);
        if (step > deadline - now)
            step = deadline - now;
        ready = poll_us(all, n, step);
        if (ready > 0) {
            for (nfds_t i = 0; i < n; i++)
                fds[i].revents = all[i].revents;
            return ready;
        }
    }
}
