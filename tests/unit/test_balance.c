/* test_balance.c - coordinator/balance.c: the per-worker rate, who may take the last tasks at
 * the end of the frontier, and how many queued tasks are asked back from a slow worker.
 *
 * The cases are the ones measured in the namespace cluster (docs/cluster.md): two fast
 * workers at about 19.5 pages/s and a slow one at 5 to 7, --concurrency 4.
 */
#include <math.h>

#include "coordinator/balance.h"
#include "test.h"

#define ASSERT_NEAR(a, b, eps)                                                \
    do {                                                                      \
        double a_ = (a), b_ = (b);                                            \
        if (fabs(a_ - b_) > (eps))                                            \
            TEST_FAIL_("%s ~ %s (%g vs %g)", #a, #b, a_, b_);                \
    } while (0)

/* rank 0 is the coordinator (never active); ranks 1, 2 fast, 3 slow; service times not
 * known (0) unless a test sets them */
static void cluster(struct scr_balance_node *n, size_t h1, size_t h2, size_t h3)
{
    n[0] = (struct scr_balance_node){.rate = 0.0, .held = 0, .active = 0};
    n[1] = (struct scr_balance_node){.rate = 19.5, .held = h1, .active = 1};
    n[2] = (struct scr_balance_node){.rate = 19.5, .held = h2, .active = 1};
    n[3] = (struct scr_balance_node){.rate = 6.0, .held = h3, .active = 1};
}

TEST(rate_counts_busy_time_only)
{
    struct scr_rate r = {0};
    int64_t t = 1000000;

    ASSERT(scr_rate_get(&r) == 0.0);
    scr_rate_busy(&r, t);
    /* 10 results 0.1 s apart while busy: 10 pages/s */
    for (int i = 1; i <= 10; i++)
        scr_rate_result(&r, t + i * 100000, i < 10 ? 5 : 0, 400000);
    ASSERT_NEAR(scr_rate_get(&r), 10.0, 0.5);
    /* 60 s idle, then busy again: the idle time does not lower the rate */
    t += 1000000 + 60000000;
    scr_rate_busy(&r, t);
    scr_rate_result(&r, t + 100000, 3, 400000);
    ASSERT_NEAR(scr_rate_get(&r), 10.0, 0.5);
    /* busy twice as long per result for a while: the rate follows within seconds */
    for (int i = 1; i <= 50; i++)
        scr_rate_result(&r, t + 100000 + i * 200000, 3, 800000);
    ASSERT_NEAR(scr_rate_get(&r), 5.0, 0.5);
    /* and the service time follows the last tasks */
    ASSERT_NEAR(scr_rate_latency(&r), 0.8, 0.01);
}

TEST(rate_unknown_until_enough_results)
{
    struct scr_rate r = {0};

    scr_rate_busy(&r, 5000000);
    scr_rate_result(&r, 5100000, 1, 100000);
    scr_rate_result(&r, 5200000, 1, 100000);
    ASSERT(scr_rate_get(&r) == 0.0);
    ASSERT(scr_rate_latency(&r) == 0.0);
    scr_rate_result(&r, 5300000, 1, 100000);
    ASSERT(scr_rate_get(&r) > 0.0);
    ASSERT_NEAR(scr_rate_latency(&r), 0.1, 1e-9);
}

TEST(take_during_a_big_pool_is_unlimited)
{
    struct scr_balance_node n[4];

    cluster(n, 8, 8, 4);
    ASSERT_EQ(scr_balance_take(n, 4, 3, 1000, 4), 4);
    ASSERT_EQ(scr_balance_take(n, 4, 1, 1000, 8), 8);
    /* never more than the pool holds */
    cluster(n, 0, 8, 4);
    ASSERT_EQ(scr_balance_take(n, 4, 1, 3, 8), 3);
}

TEST(take_keeps_the_slow_worker_from_the_last_tasks)
{
    struct scr_balance_node n[4];

    /* 12 left in the pool, the fast ones hold 8 each: the slow one (4 running) would
     * finish one more after (4+1)/6 = 0.83 s; the others finish the rest in
     * (11+16)/39 = 0.69 s, and one more each in 9/19.5 = 0.46 s: no */
    cluster(n, 8, 8, 4);
    ASSERT_EQ(scr_balance_take(n, 4, 3, 12, 4), 0);
    /* a fast worker takes them */
    ASSERT_EQ(scr_balance_take(n, 4, 1, 12, 4), 4);
    /* an idle slow worker still gets what it finishes before the others are done */
    cluster(n, 8, 8, 0);
    ASSERT_EQ(scr_balance_take(n, 4, 3, 12, 8), 3);
}

TEST(take_always_lets_the_best_worker_drain_the_pool)
{
    struct scr_balance_node n[4];

    /* the very end: one task, everybody idle: the fastest may take it, the slow may not */
    cluster(n, 0, 0, 0);
    n[2].rate = 19.0;
    ASSERT_EQ(scr_balance_take(n, 4, 1, 1, 4), 1);
    ASSERT_EQ(scr_balance_take(n, 4, 3, 1, 4), 0);
    /* the fast ones are full: the idle slow worker is the best place for the task */
    cluster(n, 8, 8, 0);
    ASSERT_EQ(scr_balance_take(n, 4, 3, 1, 4), 1);
}

TEST(take_counts_a_long_service_time)
{
    struct scr_balance_node n[4];

    /* an idle slow CPU: 6 pages/s when full, but one page takes it 1.2 s.  With 12 left and
     * the fast ones full (done in (11+16)/39 = 0.69 s) it gets nothing, although 1/6 s of
     * throughput would have looked fine */
    cluster(n, 8, 8, 0);
    n[3].latency = 1.2;
    ASSERT_EQ(scr_balance_take(n, 4, 3, 12, 4), 0);
    /* with 60 left it still helps */
    ASSERT_GT(scr_balance_take(n, 4, 3, 60, 4), 0);
    /* the fast ones' 0.2 s of service time does not keep an idle one from the last task */
    cluster(n, 0, 8, 0);
    n[1].latency = n[2].latency = 0.2;
    n[3].latency = 1.2;
    ASSERT_EQ(scr_balance_take(n, 4, 1, 1, 4), 1);
    ASSERT_EQ(scr_balance_take(n, 4, 3, 1, 4), 0);
}

TEST(take_without_rates_is_unlimited)
{
    struct scr_balance_node n[4];

    cluster(n, 8, 8, 4);
    n[3].rate = 0.0; /* unknown yet */
    ASSERT_EQ(scr_balance_take(n, 4, 3, 5, 4), 4);
    /* alone (the others lost): no limit either */
    cluster(n, 0, 0, 4);
    n[1].active = n[2].active = 0;
    ASSERT_EQ(scr_balance_take(n, 4, 3, 5, 4), 4);
}

TEST(recall_takes_back_what_the_slow_worker_cannot_finish_in_time)
{
    struct scr_balance_node n[4];

    /* pool empty, the fast ones hold 8 each (0.41 s of work), the slow one 8 (1.3 s): it
     * keeps its 4 running tasks, the 4 queued ones are asked back */
    cluster(n, 8, 8, 8);
    ASSERT_EQ(scr_balance_recall(n, 4, 3, 0, 4), 4);
    /* with 40 left in the pool the others are busy for 1.4 s: it keeps all 8 */
    ASSERT_EQ(scr_balance_recall(n, 4, 3, 40, 4), 0);
    /* in between: 14 in the pool, (14+16)/39 = 0.77 s: it keeps ceil(6 x 0.77) = 5 */
    ASSERT_EQ(scr_balance_recall(n, 4, 3, 14, 4), 3);
    /* nothing beyond its transfer slots can be queued: nothing to ask */
    cluster(n, 0, 0, 4);
    ASSERT_EQ(scr_balance_recall(n, 4, 3, 0, 4), 0);
    /* a fast worker with a full queue while the others have plenty is left alone */
    cluster(n, 8, 8, 4);
    ASSERT_EQ(scr_balance_recall(n, 4, 1, 20, 4), 0);
    /* unknown rate: nothing */
    cluster(n, 8, 8, 8);
    n[3].rate = 0.0;
    ASSERT_EQ(scr_balance_recall(n, 4, 3, 0, 4), 0);
}

TEST(no_ping_pong_between_recall_and_take)
{
    struct scr_balance_node n[4];
    size_t back, again;

    /* what a RECALL leaves the slow worker is not handed straight back to it */
    for (size_t pool = 0; pool <= 40; pool++) {
        cluster(n, 8, 8, 8);
        back = scr_balance_recall(n, 4, 3, pool, 4);
        n[3].held -= back;
        again = scr_balance_take(n, 4, 3, pool + back, 8);
        if (back && again)
            TEST_FAIL_("pool %zu: %zu taken back, then %zu given again", pool, back, again);
    }
}

int main(void)
{
    RUN(rate_counts_busy_time_only);
    RUN(rate_unknown_until_enough_results);
    RUN(take_during_a_big_pool_is_unlimited);
    RUN(take_keeps_the_slow_worker_from_the_last_tasks);
    RUN(take_always_lets_the_best_worker_drain_the_pool);
    RUN(take_counts_a_long_service_time);
    RUN(take_without_rates_is_unlimited);
    RUN(recall_takes_back_what_the_slow_worker_cannot_finish_in_time);
    RUN(no_ping_pong_between_recall_and_take);
    fprintf(stderr, "test_balance: all passed\n");
    return 0;
}
