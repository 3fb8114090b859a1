/* test_comm_local.c - common/comm.h's local transport (comm_local.c) and the shared wait loop.
 *
 * Three endpoints: messages in order between pairs, sender ranks, SCR_EAGAIN when empty, bad
 * peers refused (and the data freed), scr_comm_probe, the fd readable exactly while a message
 * may wait (poll with timeout 0), scr_comm_wait waking within a few ms on a message sent from
 * another thread, on a ready extra fd, and on its timeout; two threads ping-pong 10,000
 * messages; undelivered messages are freed with the hub (a sanitizer build checks).
 */
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/comm.h"
#include "common/error.h"
#include "test.h"

static void send_str(struct scr_comm *c, int peer, const char *s)
{
    char *d = strdup(s);
    ASSERT(d != NULL);
    ASSERT_EQ(scr_comm_send(c, peer, d, strlen(s)), SCR_OK);
}

/* Receives one message and checks its sender and text. */
static void expect(struct scr_comm *c, int from, const char *text)
{
    char *data = NULL;
    size_t len = 0;
    int peer = -1, rc = scr_comm_recv(c, &peer, &data, &len);

    if (rc != SCR_OK)
        TEST_FAIL_("rank %d: recv rc %d, want \"%s\" from %d", c->rank, rc, text, from);
    ASSERT_EQ(peer, from);
    ASSERT_EQ(len, strlen(text));
    ASSERT_MEM_EQ(data, text, len);
    free(data);
}

static void expect_none(struct scr_comm *c)
{
    char *data = (char *)"untouched";
    size_t len = 7;
    int peer = -7;
    ASSERT_EQ(scr_comm_recv(c, &peer, &data, &len), SCR_EAGAIN);
    ASSERT_EQ(peer, -7);
}

static int fd_readable(struct scr_comm *c)
{
    struct pollfd pfd = {scr_comm_fd(c), POLLIN, 0};
    int n = poll(&pfd, 1, 0);
    ASSERT(n >= 0);
    return n > 0 && (pfd.revents & POLLIN);
}

TEST(create)
{
    struct scr_comm *ep[3];

    ASSERT_EQ(scr_comm_local_new(0, ep), SCR_EINVAL);
    ASSERT_EQ(scr_comm_local_new(3, ep), SCR_OK);
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(ep[i]->rank, i);
        ASSERT_EQ(ep[i]->size, 3);
        ASSERT_STR_EQ(ep[i]->ops->name, "local");
        ASSERT(scr_comm_fd(ep[i]) >= 0);
        for (int j = 0; j < i; j++)
            ASSERT_NE(scr_comm_fd(ep[i]), scr_comm_fd(ep[j]));
        ASSERT_EQ(ep[i]->ops->progress(ep[i]), 0);
        ASSERT_EQ(scr_comm_probe(ep[i]), 0);
    }
    /* freed in any order: the hub goes with the last one */
    scr_comm_free(ep[1]);
    scr_comm_free(ep[0]);
    scr_comm_free(ep[2]);
    scr_comm_free(NULL);
}

TEST(order_between_pairs)
{
    struct scr_comm *ep[3];

    ASSERT_EQ(scr_comm_local_new(3, ep), SCR_OK);
    expect_none(ep[0]);
    send_str(ep[1], 0, "1->0 first");
    send_str(ep[2], 0, "2->0 first");
    send_str(ep[1], 0, "1->0 second");
    send_str(ep[1], 2, "1->2 only");
    send_str(ep[2], 0, "2->0 second");
    send_str(ep[0], 0, "0->0 to self");
    send_str(ep[1], 0, "1->0 third");

    expect(ep[0], 1, "1->0 first");
    expect(ep[0], 2, "2->0 first");
    expect(ep[0], 1, "1->0 second");
    expect(ep[0], 2, "2->0 second");
    expect(ep[0], 0, "0->0 to self");
    expect(ep[0], 1, "1->0 third");
    expect_none(ep[0]);
    expect(ep[2], 1, "1->2 only");
    expect_none(ep[2]);
    expect_none(ep[1]);

    /* 1000 messages on one pair keep their order */
    for (int i = 0; i < 1000; i++) {
        char t[16];
        snprintf(t, sizeof(t), "m%d", i);
        send_str(ep[2], 1, t);
    }
    for (int i = 0; i < 1000; i++) {
        char t[16];
        snprintf(t, sizeof(t), "m%d", i);
        expect(ep[1], 2, t);
    }
    expect_none(ep[1]);

    /* binary and empty messages travel as they are */
    {
        char *bin = malloc(5), *e = malloc(1), *data;
        size_t len;
        int peer;
        memcpy(bin, "a\0b\0c", 5);
        ASSERT_EQ(scr_comm_send(ep[0], 1, bin, 5), SCR_OK);
        ASSERT_EQ(scr_comm_send(ep[0], 1, e, 0), SCR_OK);
        ASSERT_EQ(scr_comm_recv(ep[1], &peer, &data, &len), SCR_OK);
        ASSERT_EQ(len, 5);
        ASSERT_MEM_EQ(data, "a\0b\0c", 5);
        free(data);
        ASSERT_EQ(scr_comm_recv(ep[1], &peer, &data, &len), SCR_OK);
        ASSERT_EQ(len, 0);
        ASSERT_EQ(peer, 0);
        free(data);
    }

    /* a bad peer is refused and the data freed (a leak would show in a sanitizer build) */
    ASSERT_EQ(scr_comm_send(ep[0], 3, strdup("x"), 1), SCR_EINVAL);
    ASSERT_EQ(scr_comm_send(ep[0], -1, strdup("x"), 1), SCR_EINVAL);
    expect_none(ep[0]);

    /* scr_comm_send_buf detaches the buffer */
    {
        struct scr_buf b;
        scr_buf_init(&b);
        ASSERT_EQ(scr_buf_puts(&b, "from a buffer"), SCR_OK);
        ASSERT_EQ(scr_comm_send_buf(ep[2], 0, &b), SCR_OK);
        ASSERT(b.data == NULL);
        ASSERT_EQ(b.len, 0);
        expect(ep[0], 2, "from a buffer");
    }

    /* undelivered messages are freed with the hub */
    send_str(ep[0], 1, "never read");
    send_str(ep[0], 2, "never read either");
    ASSERT_EQ(ep[0]->ops->finish(ep[0], 1000), SCR_OK);
    for (int i = 0; i < 3; i++)
        scr_comm_free(ep[i]);
}

TEST(probe_and_fd)
{
    struct scr_comm *ep[3];

    ASSERT_EQ(scr_comm_local_new(3, ep), SCR_OK);
    ASSERT_EQ(scr_comm_probe(ep[0]), 0);
    ASSERT_EQ(fd_readable(ep[0]), 0);

    send_str(ep[1], 0, "a");
    send_str(ep[2], 0, "b");
    ASSERT_EQ(scr_comm_probe(ep[0]), 1);
    ASSERT_EQ(fd_readable(ep[0]), 1);
    /* other mailboxes are not woken */
    ASSERT_EQ(scr_comm_probe(ep[1]), 0);
    ASSERT_EQ(fd_readable(ep[1]), 0);
    ASSERT_EQ(fd_readable(ep[2]), 0);
    /* probing does not consume */
    ASSERT_EQ(scr_comm_probe(ep[0]), 1);

    expect(ep[0], 1, "a");
    ASSERT_EQ(scr_comm_probe(ep[0]), 1);
    ASSERT_EQ(fd_readable(ep[0]), 1);
    expect(ep[0], 2, "b");
    ASSERT_EQ(scr_comm_probe(ep[0]), 0);
    /* the fd may stay readable until a receive finds the mailbox empty, then it clears */
    expect_none(ep[0]);
    ASSERT_EQ(fd_readable(ep[0]), 0);
    ASSERT_EQ(scr_comm_probe(ep[0]), 0);

    /* and becomes readable again on the next message */
    send_str(ep[2], 0, "c");
    ASSERT_EQ(fd_readable(ep[0]), 1);
    expect(ep[0], 2, "c");
    expect_none(ep[0]);
    ASSERT_EQ(fd_readable(ep[0]), 0);
    for (int i = 0; i < 3; i++)
        scr_comm_free(ep[i]);
}

TEST(backoff)
{
    struct scr_backoff bo;

    scr_backoff_init(&bo, 100, 1000);
    ASSERT_EQ(scr_backoff_next(&bo), 100);
    ASSERT_EQ(scr_backoff_next(&bo), 200);
    ASSERT_EQ(scr_backoff_next(&bo), 400);
    ASSERT_EQ(scr_backoff_next(&bo), 800);
    ASSERT_EQ(scr_backoff_next(&bo), 1000);
    ASSERT_EQ(scr_backoff_next(&bo), 1000);
    scr_backoff_reset(&bo);
    ASSERT_EQ(scr_backoff_next(&bo), 100);
}

struct delayed {
    struct scr_comm *from;
    int to;
    int64_t delay_us;
    int64_t sent_us;
};

static void *send_later(void *arg)
{
    struct delayed *d = arg;
    scr_sleep_us(d->delay_us);
    d->sent_us = scr_now_us();
    send_str(d->from, d->to, "wake up");
    return NULL;
}

TEST(wait_wakes_on_message)
{
    struct scr_comm *ep[3];
    struct scr_backoff bo;
    struct delayed d;
    pthread_t t;
    int64_t start, woke, worst = 0;

    ASSERT_EQ(scr_comm_local_new(3, ep), SCR_OK);
    for (int round = 0; round < 5; round++) {
        d.from = ep[1 + round % 2];
        d.to = 0;
        d.delay_us = 30000;
        d.sent_us = 0;
        scr_backoff_init(&bo, 1000, 200000);
        start = scr_now_us();
        ASSERT_EQ(pthread_create(&t, NULL, send_later, &d), 0);
        ASSERT_EQ(scr_comm_wait(ep[0], NULL, 0, 5000000, &bo), 0);
        woke = scr_now_us();
        ASSERT_EQ(pthread_join(t, NULL), 0);
        ASSERT_EQ(scr_comm_probe(ep[0]), 1);
        ASSERT_GE(woke - start, 25000); /* it did wait for the message... */
        if (woke - d.sent_us > worst)
            worst = woke - d.sent_us;
        expect(ep[0], 1 + round % 2, "wake up");
        expect_none(ep[0]);
    }
    /* ...and woke within a few ms of it (the wait was up to 5 s) */
    if (worst > 20000)
        TEST_FAIL_("scr_comm_wait woke %lld us after the send", (long long)worst);

    /* a message already waiting: returns at once */
    send_str(ep[1], 0, "early");
    start = scr_now_us();
    ASSERT_EQ(scr_comm_wait(ep[0], NULL, 0, 5000000, &bo), 0);
    ASSERT_LT(scr_now_us() - start, 20000);
    expect(ep[0], 1, "early");
    expect_none(ep[0]);

    /* nothing comes: returns after the timeout */
    start = scr_now_us();
    ASSERT_EQ(scr_comm_wait(ep[0], NULL, 0, 30000, &bo), 0);
    ASSERT_GE(scr_now_us() - start, 29000);
    ASSERT_EQ(scr_comm_probe(ep[0]), 0);
    for (int i = 0; i < 3; i++)
        scr_comm_free(ep[i]);
}

TEST(wait_on_extra_fds)
{
    struct scr_comm *ep[2];
    struct scr_backoff bo;
    struct pollfd fds[2];
    int p1[2], p2[2];
    int64_t start;

    ASSERT_EQ(scr_comm_local_new(2, ep), SCR_OK);
    ASSERT_EQ(pipe(p1), 0);
    ASSERT_EQ(pipe(p2), 0);
    scr_backoff_init(&bo, 1000, 200000);

    /* the second fd is ready: counted and its revents set, the comm fd is not counted */
    ASSERT_EQ(write(p2[1], "x", 1), 1);
    fds[0] = (struct pollfd){p1[0], POLLIN, 0};
    fds[1] = (struct pollfd){p2[0], POLLIN, 0};
    start = scr_now_us();
    ASSERT_EQ(scr_comm_wait(ep[0], fds, 2, 5000000, &bo), 1);
    ASSERT_LT(scr_now_us() - start, 20000);
    ASSERT_EQ(fds[0].revents, 0);
    ASSERT(fds[1].revents & POLLIN);

    /* a ready fd and a message: one fd counted, the message seen by probe */
    send_str(ep[1], 0, "msg");
    fds[0].revents = fds[1].revents = 0;
    ASSERT_EQ(scr_comm_wait(ep[0], fds, 2, 5000000, &bo), 1);
    ASSERT(fds[1].revents & POLLIN);
    ASSERT_EQ(scr_comm_probe(ep[0]), 1);
    expect(ep[0], 1, "msg");
    expect_none(ep[0]);

    /* nothing ready: timeout, no revents */
    {
        char c;
        ASSERT_EQ(read(p2[0], &c, 1), 1);
    }
    fds[0].revents = fds[1].revents = 0;
    ASSERT_EQ(scr_comm_wait(ep[0], fds, 2, 10000, &bo), 0);
    ASSERT_EQ(fds[0].revents, 0);
    ASSERT_EQ(fds[1].revents, 0);

    close(p1[0]);
    close(p1[1]);
    close(p2[0]);
    close(p2[1]);
    scr_comm_free(ep[0]);
    scr_comm_free(ep[1]);
}

/* Ping-pong: rank 0 sends n, rank 1 answers n+1, rank 0 sends n+2, ... up to 2 * ROUNDS;
 * both wait with scr_comm_wait, never spinning on recv. */
#define ROUNDS 10000

struct player {
    struct scr_comm *c;
    int other;
    int first;     /* sends the first message */
    int received;
    int64_t last;
    int error;
};

static void *play(void *arg)
{
    struct player *pl = arg;
    struct scr_backoff bo;
    char buf[32];
    int64_t want = pl->first ? 1 : 0;

    scr_backoff_init(&bo, 100, 100000);
    if (pl->first) {
        snprintf(buf, sizeof(buf), "%d", 0);
        if (scr_comm_send(pl->c, pl->other, strdup(buf), strlen(buf)) != SCR_OK)
            pl->error = 1;
    }
    while (pl->received < ROUNDS && !pl->error) {
        char *data;
        size_t len;
        int peer;
        int rc = scr_comm_recv(pl->c, &peer, &data, &len);
        if (rc == SCR_EAGAIN) {
            scr_comm_wait(pl->c, NULL, 0, 1000000, &bo);
            continue;
        }
        if (rc != SCR_OK || peer != pl->other || len >= sizeof(buf)) {
            pl->error = 2;
            break;
        }
        memcpy(buf, data, len);
        buf[len] = '\0';
        free(data);
        pl->last = strtoll(buf, NULL, 10);
        if (pl->last != want) {
            pl->error = 3;
            break;
        }
        pl->received++;
        want += 2;
        if (pl->received == ROUNDS && pl->first)
            break; /* the other side has sent its last */
        snprintf(buf, sizeof(buf), "%lld", (long long)(pl->last + 1));
        if (scr_comm_send(pl->c, pl->other, strdup(buf), strlen(buf)) != SCR_OK)
            pl->error = 4;
    }
    return NULL;
}

TEST(ping_pong)
{
    struct scr_comm *ep[2];
    struct player a, b;
    pthread_t ta, tb;
    int64_t start = scr_now_us(), us;

    ASSERT_EQ(scr_comm_local_new(2, ep), SCR_OK);
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    a.c = ep[0];
    a.other = 1;
    a.first = 1;
    b.c = ep[1];
    b.other = 0;
    ASSERT_EQ(pthread_create(&tb, NULL, play, &b), 0);
    ASSERT_EQ(pthread_create(&ta, NULL, play, &a), 0);
    ASSERT_EQ(pthread_join(ta, NULL), 0);
    ASSERT_EQ(pthread_join(tb, NULL), 0);
    us = scr_now_us() - start;
    ASSERT_EQ(a.error, 0);
    ASSERT_EQ(b.error, 0);
    ASSERT_EQ(a.received, ROUNDS);
    ASSERT_EQ(b.received, ROUNDS);
    ASSERT_EQ(b.last, 2 * ROUNDS - 2); /* b saw 0, 2, ..., 19998 */
    ASSERT_EQ(a.last, 2 * ROUNDS - 1); /* a saw 1, 3, ..., 19999 */
    expect_none(ep[0]);
    expect_none(ep[1]);
    fprintf(stderr, "   %d round trips in %lld ms\n", ROUNDS, (long long)(us / 1000));
    scr_comm_free(ep[0]);
    scr_comm_free(ep[1]);
}

int main(void)
{
    RUN(create);
    RUN(order_between_pairs);
    RUN(probe_and_fd);
    RUN(backoff);
    RUN(wait_wakes_on_message);
    RUN(wait_on_extra_fds);
    RUN(ping_pong);
    fprintf(stderr, "test_comm_local: all passed\n");
    return 0;
}
