/* test_sha256.c - common/sha256.h against the FIPS 180-4 example vectors.
 *
 * The short vectors, the 448-bit and 896-bit messages, one million 'a' fed in uneven chunks,
 * and the padding boundaries (55, 56, 63, 64, 65, 119, 120 bytes), whole and byte by byte.
 * Expected digests for the boundary cases come from Python's hashlib.
 */
#include <stdint.h>

#include "common/sha256.h"
#include "test.h"

static void hex_of(const uint8_t d[32], char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
}

/* Hashes data fed in chunks of the given sizes, cycling through them. */
static void hash_chunked(const void *data, size_t len, const size_t *chunks, size_t nchunks,
                         char hex[65])
{
    struct scr_sha256 c;
    const uint8_t *p = data;
    uint8_t d[32];
    size_t k = 0;

    ASSERT_EQ(scr_sha256_init(&c), 0);
    while (len > 0) {
        size_t n = chunks[k++ % nchunks];
        if (n > len)
            n = len;
        scr_sha256_update(&c, p, n);
        p += n;
        len -= n;
    }
    scr_sha256_final(&c, d);
    hex_of(d, hex);
}

static void check(const char *msg, const char *want)
{
    static const size_t one[] = {1}, odd[] = {0, 3, 61, 64, 1, 127, 5};
    char hex[65];

    scr_sha256_hex(msg, strlen(msg), hex);
    ASSERT_STR_EQ(hex, want);
    hash_chunked(msg, strlen(msg), one, 1, hex);
    ASSERT_STR_EQ(hex, want);
    hash_chunked(msg, strlen(msg), odd, sizeof(odd) / sizeof(odd[0]), hex);
    ASSERT_STR_EQ(hex, want);
}

TEST(empty)
{
    check("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(abc)
{
    check("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(two_blocks_448)
{
    check("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(two_blocks_896)
{
    check("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmno"
          "pqrlmnopqrsmnopqrstnopqrstu",
          "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(million_a)
{
    static const char want[] = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    static const size_t uneven[] = {1, 7, 63, 64, 65, 1000, 4095, 3, 128, 55};
    size_t len = 1000000;
    char *a = malloc(len), hex[65];

    ASSERT(a != NULL);
    memset(a, 'a', len);
    hash_chunked(a, len, uneven, sizeof(uneven) / sizeof(uneven[0]), hex);
    ASSERT_STR_EQ(hex, want);
    scr_sha256_hex(a, len, hex);
    ASSERT_STR_EQ(hex, want);
    free(a);
}

TEST(padding_boundaries)
{
    static const struct {
        size_t n;
        const char *want;
    } cases[] = {
        {55, "463eb28e72f82e0a96c0a4cc53690c571281131f672aa229e0d45ae59b598b59"},
        {56, "da2ae4d6b36748f2a318f23e7ab1dfdf45acdc9d049bd80e59de82a60895f562"},
        {63, "29af2686fd53374a36b0846694cc342177e428d1647515f078784d69cdb9e488"},
        {64, "fdeab9acf3710362bd2658cdc9a29e8f9c757fcf9811603a8c447cd1d9151108"},
        {65, "4bfd2c8b6f1eec7a2afeb48b934ee4b2694182027e6d0fc075074f2fabb31781"},
        {119, "da18797ed7c3a777f0847f429724a2d8cd5138e6ed2895c3fa1a6d39d18f7ec6"},
        {120, "f52b23db1fbb6ded89ef42a23ce0c8922c45f25c50b568a93bf1c075420bbb7c"},
    };
    static const size_t one[] = {1}, two[] = {17, 2};
    uint8_t buf[128];
    char hex[65];

    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i % 251);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        scr_sha256_hex(buf, cases[i].n, hex);
        if (strcmp(hex, cases[i].want) != 0)
            TEST_FAIL_("%zu bytes: %s, want %s", cases[i].n, hex, cases[i].want);
        hash_chunked(buf, cases[i].n, one, 1, hex);
        ASSERT_STR_EQ(hex, cases[i].want);
        hash_chunked(buf, cases[i].n, two, 2, hex);
        ASSERT_STR_EQ(hex, cases[i].want);
    }
}

TEST(binary_and_reuse)
{
    /* a NUL byte is data, not an end; a context can be re-initialized and reused */
    struct scr_sha256 c;
    uint8_t d1[32], d2[32];
    char hex[65];

    scr_sha256_hex("a\0b", 3, hex);
    ASSERT(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") != 0);
    ASSERT_EQ(scr_sha256_init(&c), 0);
    scr_sha256_update(&c, "a\0b", 3);
    scr_sha256_final(&c, d1);
    ASSERT_EQ(scr_sha256_init(&c), 0);
    scr_sha256_update(&c, "a", 1);
    scr_sha256_update(&c, "", 0);
    scr_sha256_update(&c, "\0b", 2);
    scr_sha256_final(&c, d2);
    ASSERT_MEM_EQ(d1, d2, 32);
    hex_of(d1, hex);
    {
        char whole[65];
        scr_sha256_hex("a\0b", 3, whole);
        ASSERT_STR_EQ(hex, whole);
    }
    ASSERT_EQ(scr_sha256_init(&c), 0);
    scr_sha256_update(&c, "abc", 3);
    scr_sha256_final(&c, d1);
    hex_of(d1, hex);
    ASSERT_STR_EQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int main(void)
{
    RUN(empty);
    RUN(abc);
    RUN(two_blocks_448);
    RUN(two_blocks_896);
    RUN(million_a);
    RUN(padding_boundaries);
    RUN(binary_and_reuse);
    fprintf(stderr, "test_sha256: all passed\n");
    return 0;
}
