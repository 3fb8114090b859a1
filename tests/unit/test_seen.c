/* test_seen.c - SipHash against the published vectors, and the seen cache's contract. */
#include <stdio.h>

#include "common/siphash.h"
#include "coordinator/seen.h"
#include "test.h"

/* SipHash-2-4, key 00..0f, message 00..(len-1): the reference implementation's vectors */
TEST(siphash24_vectors)
{
    static const struct {
        size_t len;
        uint64_t want;
    } v[] = {{0, 0x726fdb47dd0e0e31ULL}, {1, 0x74f839c593dc67fdULL},
             {7, 0xab0200f58b01d137ULL}, {8, 0x93f5f5799a932462ULL},
             {15, 0xa129ca6149be45e5ULL}, {63, 0x958a324ceb064572ULL}};
    const uint64_t k[2] = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
    unsigned char m[64];

    for (int i = 0; i < 64; i++)
        m[i] = (unsigned char)i;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        ASSERT_EQ(scr_siphash24(k, m, v[i].len), v[i].want);
}

/* SipHash-1-3 with a zero key: the values Rust's siphasher gives */
TEST(siphash13_vectors)
{
    const uint64_t k[2] = {0, 0};

    ASSERT_EQ(scr_siphash13(k, "", 0), 0xd1fba762150c532cULL);
    ASSERT_EQ(scr_siphash13(k, "siphash", 7), 0x8264ceeccb16bcbeULL);
}

TEST(add_and_has)
{
    struct scr_seen c;

    ASSERT_EQ(scr_seen_init(&c, 1000), 0);
    ASSERT_EQ(c.nsets * 4, 1024);
    ASSERT_EQ(scr_seen_has(&c, "http://a/x", 10), 0);
    scr_seen_add(&c, "http://a/x", 10);
    ASSERT_EQ(scr_seen_has(&c, "http://a/x", 10), 1);
    ASSERT_EQ(scr_seen_has(&c, "http://a/y", 10), 0);
    ASSERT_EQ(scr_seen_has(&c, "http://a/x", 9), 0);   /* a prefix is another URL */
    scr_seen_add(&c, "http://a/x", 10);                 /* adding twice keeps one entry */
    ASSERT_EQ(c.hits, 1);
    scr_seen_release(&c);
    ASSERT(c.slot == NULL);
}

/* A full cache forgets (answers "don't know"), never invents: no URL that was not added is
 * ever reported as stored, and memory stays at its fixed size. */
TEST(bounded_and_never_wrong)
{
    struct scr_seen c;
    char url[64];
    int kept = 0;

    ASSERT_EQ(scr_seen_init(&c, 4096), 0);
    for (int i = 0; i < 100000; i++) {
        int n = snprintf(url, sizeof(url), "https://shop.example/p/%d", i);
        scr_seen_add(&c, url, (size_t)n);
    }
    ASSERT_EQ(c.nsets * 4, 4096);
    for (int i = 0; i < 100000; i++) {
        int n = snprintf(url, sizeof(url), "https://shop.example/p/%d", i);
        kept += scr_seen_has(&c, url, (size_t)n);
    }
    ASSERT_LE(kept, 4096);
    ASSERT_GE(kept, 2048);   /* the most recent entries of each set survive */
    for (int i = 100000; i < 200000; i++) {
        int n = snprintf(url, sizeof(url), "https://shop.example/p/%d", i);
        ASSERT_EQ(scr_seen_has(&c, url, (size_t)n), 0);
    }
    /* the latest additions are all still there */
    for (int i = 99990; i < 100000; i++) {
        int n = snprintf(url, sizeof(url), "https://shop.example/p/%d", i);
        ASSERT_EQ(scr_seen_has(&c, url, (size_t)n), 1);
    }
    scr_seen_release(&c);
}

TEST(filter_lists)
{
    struct scr_seen c;
    char links[] = "http://a/1\nhttp://b/2\nhttp://a/3\nhttp://c/4";
    char hosts[] = "a\nb\na\nc";
    char all[] = "http://a/1\nhttp://a/3";
    char allh[] = "a\na";

    ASSERT_EQ(scr_seen_init(&c, 64), 0);
    ASSERT_EQ(scr_seen_filter(&c, links, hosts), 0);   /* nothing known: unchanged */
    ASSERT_STR_EQ(links, "http://a/1\nhttp://b/2\nhttp://a/3\nhttp://c/4");
    scr_seen_add_list(&c, "http://a/1\nhttp://c/4");
    ASSERT_EQ(scr_seen_filter(&c, links, hosts), 2);
    ASSERT_STR_EQ(links, "http://b/2\nhttp://a/3");
    ASSERT_STR_EQ(hosts, "b\na");
    scr_seen_add_list(&c, links);
    ASSERT_EQ(scr_seen_filter(&c, all, allh), 2);       /* everything known: empty lists */
    ASSERT_STR_EQ(all, "");
    ASSERT_STR_EQ(allh, "");
    scr_seen_release(&c);
}

TEST(disabled_cache)
{
    struct scr_seen c;
    char links[] = "http://a/1";
    char hosts[] = "a";

    ASSERT_EQ(scr_seen_init(&c, 0), 0);
    scr_seen_add(&c, "http://a/1", 10);
    ASSERT_EQ(scr_seen_has(&c, "http://a/1", 10), 0);
    ASSERT_EQ(scr_seen_filter(&c, links, hosts), 0);
    ASSERT_STR_EQ(links, "http://a/1");
    scr_seen_release(&c);
}

int main(void)
{
    RUN(siphash24_vectors);
    RUN(siphash13_vectors);
    RUN(add_and_has);
    RUN(bounded_and_never_wrong);
    RUN(filter_lists);
    RUN(disabled_cache);
    return 0;
}
