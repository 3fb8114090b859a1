/* test_dispatch.c - coordinator/dispatch.h: how many tasks one REQUEST may get.
 *
 * A REQUEST carries two uint32 counts.  Their sum in a size_t wraps on a 32-bit node, and
 * an unclamped count would let scr_hosts_take write past the array it fills: the clamp must
 * never exceed the array, never wrap, and keep the `now` count first.
 *
 * A pending REQUEST's `now` grows as the worker's tasks come back: a worker that asked while
 * every slot was busy (now = 0) must get URLs of delayed hosts once its transfers end, or a
 * crawl with --delay and --concurrency 1 stalls after its first page.
 */
#include <stdint.h>

#include "coordinator/dispatch.h"
#include "test.h"

TEST(ordinary_requests_pass_unchanged)
{
    size_t now, later;

    ASSERT_EQ(scr_dispatch_want(0, 0, SCR_DISPATCH_MAX, &now, &later), 0);
    ASSERT_EQ(scr_dispatch_want(16, 16, SCR_DISPATCH_MAX, &now, &later), 32);
    ASSERT_EQ(now, 16);
    ASSERT_EQ(later, 16);
    ASSERT_EQ(scr_dispatch_want(3, 0, SCR_DISPATCH_MAX, &now, &later), 3);
    ASSERT_EQ(later, 0);
}

TEST(huge_requests_are_bounded_by_the_array)
{
    size_t now, later;

    /* the case that wrapped: UINT32_MAX + UINT32_MAX */
    ASSERT_EQ(scr_dispatch_want(UINT32_MAX, UINT32_MAX, SCR_DISPATCH_MAX, &now, &later),
              SCR_DISPATCH_MAX);
    ASSERT_EQ(now, SCR_DISPATCH_MAX);
    ASSERT_EQ(later, 0);
    ASSERT_EQ(scr_dispatch_want(10, UINT32_MAX, 64, &now, &later), 64);
    ASSERT_EQ(now, 10);
    ASSERT_EQ(later, 54);
    ASSERT_EQ(scr_dispatch_want(UINT32_MAX, 5, 64, &now, &later), 64);
    ASSERT_EQ(now, 64);
    ASSERT_EQ(later, 0);
    /* a cap of 0 gives nothing */
    ASSERT_EQ(scr_dispatch_want(UINT32_MAX, UINT32_MAX, 0, &now, &later), 0);
    /* the sum never exceeds the cap, for any pair around the edges */
    {
        static const uint32_t v[] = {0, 1, 2, 4095, 4096, 4097, UINT32_MAX / 2,
                                     UINT32_MAX - 1, UINT32_MAX};
        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
            for (size_t j = 0; j < sizeof(v) / sizeof(v[0]); j++) {
                size_t n = scr_dispatch_want(v[i], v[j], SCR_DISPATCH_MAX, &now, &later);
                ASSERT_LE(n, SCR_DISPATCH_MAX);
                ASSERT_EQ(n, now + later);
                ASSERT_LE(now, v[i]);
                ASSERT_LE(later, v[j]);
            }
    }
}

TEST(free_slots_grow_as_results_come_back)
{
    /* --concurrency 1: asked with its slot busy; the RESULT came back, it holds nothing */
    ASSERT_EQ(scr_dispatch_free_now(0, 1, 1), 0);
    ASSERT_EQ(scr_dispatch_free_now(0, 0, 1), 1);
    /* --concurrency 2, 2 running and 1 queued when it asked: a RESULT starts the queued
     * task, so no slot is free until a second one */
    ASSERT_EQ(scr_dispatch_free_now(0, 3, 2), 0);
    ASSERT_EQ(scr_dispatch_free_now(0, 2, 2), 0);
    ASSERT_EQ(scr_dispatch_free_now(0, 1, 2), 1);
    ASSERT_EQ(scr_dispatch_free_now(0, 0, 2), 2);
    /* the worker's own count is kept when it is larger (never smaller: held counts at least
     * what it runs and queues) */
    ASSERT_EQ(scr_dispatch_free_now(4, 2, 4), 4);
    ASSERT_EQ(scr_dispatch_free_now(UINT32_MAX, 0, 16), UINT32_MAX);
    /* a held count above --concurrency (a full prefetch queue) gives nothing, never wraps */
    ASSERT_EQ(scr_dispatch_free_now(0, 32, 16), 0);
    ASSERT_EQ(scr_dispatch_free_now(0, SIZE_MAX, 16), 0);
    ASSERT_EQ(scr_dispatch_free_now(0, 0, 0), 0);
    ASSERT_EQ(scr_dispatch_free_now(0, 0, -1), 0);
}

int main(void)
{
    RUN(ordinary_requests_pass_unchanged);
    RUN(huge_requests_are_bounded_by_the_array);
    RUN(free_slots_grow_as_results_come_back);
    fprintf(stderr, "test_dispatch: all passed\n");
    return 0;
}
