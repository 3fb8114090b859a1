/* test_strmap.c - common/strmap.h: the string-keyed hash map.
 *
 * Empty map, insert and get, replace, keys copied (the caller's buffer may change), 100,000
 * keys across many growths with every key found afterwards, absent keys, iteration over the
 * slots, and colliding prefixes.
 */
#include <stdint.h>

#include "common/error.h"
#include "common/strmap.h"
#include "test.h"

static int values[4];

TEST(empty)
{
    struct scr_strmap m;

    scr_strmap_init(&m);
    ASSERT(scr_strmap_get(&m, "a") == NULL);
    ASSERT(scr_strmap_get(&m, "") == NULL);
    ASSERT_EQ(m.count, 0);
    ASSERT_EQ(m.cap, 0);
    scr_strmap_release(&m);
    scr_strmap_release(&m); /* release twice: still fine, the map is re-initialized */
    ASSERT(m.slots == NULL);
}

TEST(put_get_replace)
{
    struct scr_strmap m;
    char key[16];

    scr_strmap_init(&m);
    ASSERT_EQ(scr_strmap_put(&m, "a", &values[0]), SCR_OK);
    ASSERT_EQ(scr_strmap_put(&m, "b", &values[1]), SCR_OK);
    ASSERT_EQ(scr_strmap_put(&m, "", &values[2]), SCR_OK); /* the empty key is a key */
    ASSERT_EQ(m.count, 3);
    ASSERT(scr_strmap_get(&m, "a") == &values[0]);
    ASSERT(scr_strmap_get(&m, "b") == &values[1]);
    ASSERT(scr_strmap_get(&m, "") == &values[2]);
    ASSERT(scr_strmap_get(&m, "c") == NULL);
    ASSERT(scr_strmap_get(&m, "A") == NULL); /* case-sensitive */
    ASSERT(scr_strmap_get(&m, "ab") == NULL);

    /* replace: the value changes, the count does not */
    ASSERT_EQ(scr_strmap_put(&m, "a", &values[3]), SCR_OK);
    ASSERT_EQ(m.count, 3);
    ASSERT(scr_strmap_get(&m, "a") == &values[3]);

    /* keys are copied */
    snprintf(key, sizeof(key), "%s", "host:80");
    ASSERT_EQ(scr_strmap_put(&m, key, &values[1]), SCR_OK);
    snprintf(key, sizeof(key), "%s", "XXXX:XX");
    ASSERT(scr_strmap_get(&m, "host:80") == &values[1]);
    ASSERT(scr_strmap_get(&m, key) == NULL);
    ASSERT_EQ(m.count, 4);
    scr_strmap_release(&m);
    ASSERT_EQ(m.count, 0);
}

TEST(hundred_thousand_keys)
{
    enum { N = 100000 };
    struct scr_strmap m;
    char key[32];
    size_t seen = 0, grows = 0, last_cap = 0;

    scr_strmap_init(&m);
    for (uintptr_t i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "host-%lu.example", (unsigned long)i);
        ASSERT_EQ(scr_strmap_put(&m, key, (void *)(i + 1)), SCR_OK);
        if (m.cap != last_cap) {
            grows++;
            last_cap = m.cap;
        }
        /* the load factor is kept: the table is never full */
        ASSERT_LT(m.count, m.cap);
        /* a key inserted before a growth is still found right after it */
        if (i % 997 == 0) {
            snprintf(key, sizeof(key), "host-%lu.example", (unsigned long)(i / 2));
            ASSERT(scr_strmap_get(&m, key) == (void *)(i / 2 + 1));
        }
    }
    ASSERT_EQ(m.count, N);
    ASSERT_GT(grows, 10);
    ASSERT_EQ(m.cap & (m.cap - 1), 0); /* a power of two */
    ASSERT_LE(m.count * 10, m.cap * 7);
    for (uintptr_t i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "host-%lu.example", (unsigned long)i);
        if (scr_strmap_get(&m, key) != (void *)(i + 1))
            TEST_FAIL_("key %s lost after growth", key);
    }
    for (uintptr_t i = N; i < N + 1000; i++) {
        snprintf(key, sizeof(key), "host-%lu.example", (unsigned long)i);
        ASSERT(scr_strmap_get(&m, key) == NULL);
    }
    /* replace every 10th key; the count stays */
    for (uintptr_t i = 0; i < N; i += 10) {
        snprintf(key, sizeof(key), "host-%lu.example", (unsigned long)i);
        ASSERT_EQ(scr_strmap_put(&m, key, (void *)(i + 7)), SCR_OK);
    }
    ASSERT_EQ(m.count, N);
    for (uintptr_t i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "host-%lu.example", (unsigned long)i);
        ASSERT(scr_strmap_get(&m, key) == (void *)(i % 10 == 0 ? i + 7 : i + 1));
    }
    /* iteration visits every key exactly once */
    for (size_t i = 0; i < m.cap; i++) {
        if (m.slots[i].key) {
            ASSERT(scr_strmap_get(&m, m.slots[i].key) == m.slots[i].value);
            seen++;
        }
    }
    ASSERT_EQ(seen, N);
    scr_strmap_release(&m);
}

TEST(similar_keys)
{
    /* keys that differ in one byte, prefixes of each other, long keys */
    struct scr_strmap m;
    char key[300];

    scr_strmap_init(&m);
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    for (uintptr_t len = 0; len < sizeof(key); len++) {
        char save = key[len];
        key[len] = '\0';
        ASSERT_EQ(scr_strmap_put(&m, key, (void *)(len + 1)), SCR_OK);
        key[len] = save;
    }
    ASSERT_EQ(m.count, sizeof(key));
    for (uintptr_t len = 0; len < sizeof(key); len++) {
        char save = key[len];
        key[len] = '\0';
        ASSERT(scr_strmap_get(&m, key) == (void *)(len + 1));
        key[len] = save;
    }
    scr_strmap_release(&m);
}

int main(void)
{
    RUN(empty);
    RUN(put_get_replace);
    RUN(hundred_thousand_keys);
    RUN(similar_keys);
    fprintf(stderr, "test_strmap: all passed\n");
    return 0;
}
