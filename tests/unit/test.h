/* test.h - the unit tests' assertion macros (after libuv's test/task.h).
 *
 * Each macro evaluates its arguments once and prints both sides on failure, then exits 1.
 * A test file defines its cases with TEST(name) and lists them in main() with RUN(name).
 */
#ifndef SCR_TEST_H
#define SCR_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_FAIL_(...)                                               \
    do {                                                              \
        fprintf(stderr, "%s:%d: assertion failed: ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__);                                 \
        fputc('\n', stderr);                                          \
        exit(1);                                                      \
    } while (0)

#define ASSERT(expr)                                                  \
    do {                                                              \
        if (!(expr))                                                  \
            TEST_FAIL_("%s", #expr);                                  \
    } while (0)

#define ASSERT_INT_OP_(a, op, b)                                      \
    do {                                                              \
        long long a_ = (long long)(a), b_ = (long long)(b);           \
        if (!(a_ op b_))                                              \
            TEST_FAIL_("%s %s %s (%lld vs %lld)", #a, #op, #b, a_, b_); \
    } while (0)

#define ASSERT_EQ(a, b) ASSERT_INT_OP_(a, ==, b)
#define ASSERT_NE(a, b) ASSERT_INT_OP_(a, !=, b)
#define ASSERT_LT(a, b) ASSERT_INT_OP_(a, <, b)
#define ASSERT_LE(a, b) ASSERT_INT_OP_(a, <=, b)
#define ASSERT_GT(a, b) ASSERT_INT_OP_(a, >, b)
#define ASSERT_GE(a, b) ASSERT_INT_OP_(a, >=, b)

#define ASSERT_STR_EQ(a, b)                                           \
    do {                                                              \
        const char *a_ = (a), *b_ = (b);                              \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                        \
            TEST_FAIL_("%s == %s (\"%s\" vs \"%s\")", #a, #b,         \
                       a_ ? a_ : "(null)", b_ ? b_ : "(null)");       \
    } while (0)

#define ASSERT_MEM_EQ(a, b, n)                                        \
    do {                                                              \
        if (memcmp((a), (b), (n)) != 0)                               \
            TEST_FAIL_("%s == %s (%zu bytes differ)", #a, #b, (size_t)(n)); \
    } while (0)

#define TEST(name) static void test_##name(void)
#define RUN(name)                                                     \
    do {                                                              \
        fprintf(stderr, "-- %s\n", #name);                            \
        test_##name();                                                \
    } while (0)

/* A copy of n bytes in a buffer of its own (at least 1 byte), so that ASan sees a read past
 * the end of a message.  Caller frees. */
static inline uint8_t *test_dup_bytes(const void *p, size_t n)
{
    uint8_t *q = malloc(n ? n : 1);
    ASSERT(q != NULL);
    if (n)
        memcpy(q, p, n);
    return q;
}

/* How much slower than a native build this test runs: SCR_TEST_TIME_SCALE (tests/CMakeLists.txt
 * sets it for cross builds, whose tests run under qemu-user), else 1.  Wall-clock bounds in the
 * tests are multiplied by it: they prove a limit cuts work off, not how fast a machine is. */
static inline double test_time_scale(void)
{
    const char *v = getenv("SCR_TEST_TIME_SCALE");
    double f = v ? strtod(v, NULL) : 1.0;
    return f >= 1.0 ? f : 1.0;
}

/* xorshift64*: deterministic, so a failure reproduces.  *state must not be 0. */
static inline uint64_t test_rng(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545F4914F6CDD1DULL;
}

#endif
