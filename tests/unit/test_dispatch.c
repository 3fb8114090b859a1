/* test_dispatch.c - coordinator/dispatch.h: how many tasks one REQUEST may get.
 *
 * A REQUEST carries two uint32 counts.  Their sum in a size_t wraps on a 32-bit node, and
 * an unclamped count would let scr_hosts_take write past the array it fills: the clamp must
 * never exceed the array, never wrap, and keep the `now` count first.
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

int main(void)
{
    RUN(ordinary_requests_pass_unchanged);
    RUN(huge_requests_are_bounded_by_the_array);
    fprintf(stderr, "test_dispatch: all passed\n");
    return 0;
}
