/* test_seen.c - SipHash against the published vectors, and the seen cache's contract. */
#include <stdio.h>
#include <string.h>

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

/* Splits a '\n'-joined list into sv (empty string: no entries). */
static void split(struct scr_strvec *sv, const char *s)
{
    scr_strvec_init(sv);
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        char *e = strndup(s, n);
        ASSERT(e != NULL);
        scr_strvec_push_owned(sv, e);
        s += n + (nl ? 1 : 0);
    }
}

/* sv '\n'-joined, in a static buffer (four in turn). */
static const char *join(const struct scr_strvec *sv)
{
    static char buf[4][512];
    static int k;
    char *b = buf[k++ % 4];
    size_t used = 0;

    b[0] = '\0';
    for (size_t i = 0; i < sv->n; i++)
        used += (size_t)snprintf(b + used, 512 - used, "%s%s", i ? "\n" : "", sv->v[i]);
    return b;
}

TEST(filter_lists)
{
    struct scr_seen c;
    struct scr_strvec links, hosts, all, allh, known;

    split(&links, "http://a/1\nhttp://b/2\nhttp://a/3\nhttp://c/4");
    split(&hosts, "a\nb\na\nc");
    split(&all, "http://a/1\nhttp://a/3");
    split(&allh, "a\na");
    split(&known, "http://a/1\nhttp://c/4");
    ASSERT_EQ(scr_seen_init(&c, 64), 0);
    ASSERT_EQ(scr_seen_filter(&c, &links, &hosts), 0);   /* nothing known: unchanged */
    ASSERT_STR_EQ(join(&links), "http://a/1\nhttp://b/2\nhttp://a/3\nhttp://c/4");
    scr_seen_add_list(&c, &known);
    ASSERT_EQ(scr_seen_filter(&c, &links, &hosts), 2);
    ASSERT_STR_EQ(join(&links), "http://b/2\nhttp://a/3");
    ASSERT_STR_EQ(join(&hosts), "b\na");
    scr_seen_add_list(&c, &links);
    ASSERT_EQ(scr_seen_filter(&c, &all, &allh), 2);       /* everything known: empty lists */
    ASSERT_EQ(all.n, 0);
    ASSERT_EQ(allh.n, 0);
    scr_seen_release(&c);
    scr_strvec_release(&links);
    scr_strvec_release(&hosts);
    scr_strvec_release(&all);
    scr_strvec_release(&allh);
    scr_strvec_release(&known);
}

TEST(disabled_cache)
{
    struct scr_seen c;
    struct scr_strvec links, hosts;

    split(&links, "http://a/1");
    split(&hosts, "a");
    ASSERT_EQ(scr_seen_init(&c, 0), 0);
    scr_seen_add(&c, "http://a/1", 10);
    ASSERT_EQ(scr_seen_has(&c, "http://a/1", 10), 0);
    ASSERT_EQ(scr_seen_filter(&c, &links, &hosts), 0);
    ASSERT_STR_EQ(join(&links), "http://a/1");
    scr_seen_release(&c);
    scr_strvec_release(&links);
    scr_strvec_release(&hosts);
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
