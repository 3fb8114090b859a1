/* test_hosts.c - coordinator/hosts.h: the hosts table, per-host limits and the pool.
 *
 * One URL per host at a time with host-concurrency 1, starts at least --delay apart, the
 * delay measured from the result (recv - transfer + delay), host-concurrency 2, hosts without
 * a delay only for n_later, round robin across hosts, next_us, defer, saturated and drain,
 * the robots.txt gate in front of a host's URLs, that an idle host keeps no FIFO memory; the
 * settle decisions for leased URLs (lookup, pooled, skipped, put back) and their resettling,
 * parking, robots.txt fetch attempts and unavailability, the error streak, and the transient
 * rule shared with retry.c.  Items are built the way the frontier builds them: every string
 * strdup'd, owned by the pool once added; hosts are marked READY (no rules, no Crawl-delay)
 * unless a case is about the gate.
 */
#include <stdint.h>

#include "common/error.h"
#include "coordinator/hosts.h"
#include "coordinator/retry.h"
#include "test.h"

#define T0 INT64_C(1000000000) /* an arbitrary "now", microseconds */
#define SEC INT64_C(1000000)
#define MAX_CRAWL_DELAY_MS 60000

static int64_t next_id = 1;

static enum scr_robots_state robots_state(struct scr_hosts *p, const char *host)
{
    struct scr_host *h = scr_hosts_find(p, host);
    return h ? h->robots_state : SCR_ROBOTS_UNKNOWN;
}

/* FIFO slots allocated over all hosts (>= pooled; only active hosts have any). */
static size_t slots(struct scr_hosts *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->hosts.cap; i++)
        if (p->hosts.slots[i].key)
            n += ((struct scr_host *)p->hosts.slots[i].value)->qcap;
    return n;
}

/* scr_hosts_saturated, ' '-joined ("" for none). */
static const char *saturated(struct scr_hosts *p)
{
    static char buf[1024];
    struct scr_strvec sv;
    size_t used = 0;

    scr_strvec_init(&sv);
    scr_hosts_saturated(p, &sv);
    buf[0] = '\0';
    for (size_t i = 0; i < sv.n; i++)
        used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s", i ? " " : "", sv.v[i]);
    scr_strvec_release(&sv);
    return buf;
}

/* Adds a URL "http://<host>/<n>" (the item's strings strdup'd, as from the frontier),
 * leaving the host's robots state as it is. */
static void add_raw(struct scr_hosts *p, const char *host, int n)
{
    struct scr_lease_item it;
    char url[128];

    snprintf(url, sizeof(url), "http://%s/%d", host, n);
    memset(&it, 0, sizeof(it));
    it.url_id = next_id++;
    it.url = strdup(url);
    it.host = strdup(host);
    it.depth = 1;
    it.attempts = 1;
    it.etag = strdup("");
    it.last_modified = strdup("");
    ASSERT(it.url && it.host && it.etag && it.last_modified);
    scr_hosts_add(p, &it);
    ASSERT(it.url == NULL && it.host == NULL); /* ownership moved: zeroed */
}

/* Adds a URL of a host whose robots.txt is known to allow everything (no Crawl-delay), so
 * only the politeness limits decide. */
static void add(struct scr_hosts *p, const char *host, int n)
{
    add_raw(p, host, n);
    if (robots_state(p, host) != SCR_ROBOTS_READY)
        scr_hosts_robots_set(p, host, NULL, -1.0);
    ASSERT_EQ(robots_state(p, host), SCR_ROBOTS_READY);
}

/* Takes and returns the URLs handed out, ' '-joined, in order ("" for none); releases them. */
static char *take(struct scr_hosts *p, int64_t now, size_t n_now, size_t n_later)
{
    static char got[4096];
    struct scr_lease_item out[64];
    size_t n;

    ASSERT_LE(n_now + n_later, 64);
    memset(out, 0, sizeof(out));
    n = scr_hosts_take(p, now, n_now, n_later, out);
    ASSERT_LE(n, n_now + n_later);
    size_t used = 0;

    got[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        /* the URL path without "http://" keeps the expectations short */
        int w;
        ASSERT(strncmp(out[i].url, "http://", 7) == 0);
        w = snprintf(got + used, sizeof(got) - used, "%s%s", i ? " " : "", out[i].url + 7);
        ASSERT(w >= 0 && (size_t)w < sizeof(got) - used);
        used += (size_t)w;
        scr_lease_item_release(&out[i]);
    }
    return got;
}

TEST(one_per_host_with_delay)
{
    struct scr_hosts p;

    scr_hosts_init(&p, 1, 1000, MAX_CRAWL_DELAY_MS, "scrape");
    for (int i = 1; i <= 3; i++) {
        add(&p, "a.test", i);
        add(&p, "b.test", i);
    }
    ASSERT_EQ(p.pooled, 6);

    /* one URL per host, however many are asked for */
    ASSERT_STR_EQ(take(&p, T0, 10, 0), "a.test/1 b.test/1");
    ASSERT_EQ(p.pooled, 4);
    /* same instant: both hosts are busy */
    ASSERT_STR_EQ(take(&p, T0, 10, 0), "");
    /* the delay passed but nothing came back: host-concurrency 1 still holds */
    ASSERT_STR_EQ(take(&p, T0 + 5 * SEC, 10, 0), "");

    /* a's result comes back at T0+0.5s after a 0.4s transfer: next start T0+0.1s+1s */
    scr_hosts_done(&p, "a.test", T0 + SEC / 2, 4 * SEC / 10);
    ASSERT_STR_EQ(take(&p, T0 + SEC / 2, 10, 0), "");
    ASSERT_STR_EQ(take(&p, T0 + SEC + SEC / 10 - 1, 10, 0), "");
    ASSERT_STR_EQ(take(&p, T0 + SEC + SEC / 10, 10, 0), "a.test/2");
    ASSERT_STR_EQ(take(&p, T0 + SEC + SEC / 10, 10, 0), "");

    /* b's result: without a transfer time (lost), the host is only freed; its dispatch time
     * plus the delay still holds */
    scr_hosts_done(&p, "b.test", T0 + 2 * SEC, -1);
    ASSERT_STR_EQ(take(&p, T0 + 2 * SEC, 10, 0), "b.test/2");

    /* done for an unknown host is ignored */
    scr_hosts_done(&p, "nowhere.test", T0, 0);
    ASSERT_EQ(p.pooled, 2);
    scr_hosts_release(&p);
    ASSERT_EQ(p.pooled, 0);
}

TEST(delay_from_dispatch)
{
    /* recv - transfer before the dispatch (clock skew, rounding) does not let the next start
     * come sooner than dispatch + delay */
    struct scr_hosts p;

    scr_hosts_init(&p, 1, 1000, MAX_CRAWL_DELAY_MS, "scrape");
    add(&p, "a.test", 1);
    add(&p, "a.test", 2);
    ASSERT_STR_EQ(take(&p, T0, 1, 0), "a.test/1");
    scr_hosts_done(&p, "a.test", T0 + 10, 20);
    ASSERT_STR_EQ(take(&p, T0 + SEC - 1, 1, 0), "");
    ASSERT_STR_EQ(take(&p, T0 + SEC, 1, 0), "a.test/2");
    scr_hosts_release(&p);
}

TEST(host_concurrency_two)
{
    struct scr_hosts p;

    /* with a delay: two in flight, but their starts still a delay apart */
    scr_hosts_init(&p, 2, 1000, MAX_CRAWL_DELAY_MS, "scrape");
    for (int i = 1; i <= 3; i++)
        add(&p, "a.test", i);
    ASSERT_STR_EQ(take(&p, T0, 10, 0), "a.test/1");
    ASSERT_STR_EQ(take(&p, T0 + SEC, 10, 0), "a.test/2");
    ASSERT_STR_EQ(take(&p, T0 + 2 * SEC, 10, 0), ""); /* two in flight */
    scr_hosts_done(&p, "a.test", T0 + 2 * SEC, 0);
    ASSERT_STR_EQ(take(&p, T0 + 3 * SEC, 10, 0), "a.test/3");
    scr_hosts_release(&p);

    /* without a delay: two go at once, the third waits for a result */
    scr_hosts_init(&p, 2, 0, MAX_CRAWL_DELAY_MS, "scrape");
    for (int i = 1; i <= 3; i++)
        add(&p, "a.test", i);
    ASSERT_STR_EQ(take(&p, T0, 10, 0), "a.test/1 a.test/2");
    ASSERT_STR_EQ(take(&p, T0, 10, 0), "");
    scr_hosts_done(&p, "a.test", T0, 100);
    ASSERT_STR_EQ(take(&p, T0, 10, 0), "a.test/3");
    scr_hosts_release(&p);

    /* host-concurrency 1 without a delay: one at a time, the next right after a result */
    scr_hosts_init(&p, 1, 0, MAX_CRAWL_DELAY_MS, "scrape");
    add(&p, "a.test", 1);
    add(&p, "a.test", 2);
    ASSERT_STR_EQ(take(&p, T0, 10, 0), "a.test/1");
    ASSERT_STR_EQ(take(&p, T0, 10, 0), "");
    scr_hosts_done(&p, "a.test", T0, 100);
    ASSERT_STR_EQ(take(&p, T0, 10, 0), "a.test/2");
    scr_hosts_release(&p);
}

TEST(n_later_only_without_delay)
{
    struct scr_hosts p;

    /* delay > 0: n_later gives nothing; only free slots (n_now) are filled */
    scr_hosts_init(&p, 4, 1000, MAX_CRAWL_DELAY_MS, "scrape");
    add(&p, "a.test", 1);
    add(&p, "b.test", 1);
    ASSERT_STR_EQ(take(&p, T0, 0, 10), "");
    ASSERT_EQ(p.pooled, 2);
    ASSERT_STR_EQ(take(&p, T0, 1, 10), "a.test/1");
    scr_hosts_release(&p);

    /* delay 0: n_later is filled too, up to host-concurrency */
    scr_hosts_init(&p, 4, 0, MAX_CRAWL_DELAY_MS, "scrape");
    for (int i = 1; i <= 3; i++) {
        add(&p, "a.test", i);
        add(&p, "b.test", i);
    }
    ASSERT_STR_EQ(take(&p, T0, 0, 3), "a.test/1 b.test/1 a.test/2");
    ASSERT_STR_EQ(take(&p, T0, 1, 1), "b.test/2 a.test/3");
    ASSERT_STR_EQ(take(&p, T0, 0, 10), "b.test/3");
    ASSERT_EQ(p.pooled, 0);
    scr_hosts_release(&p);
}

TEST(round_robin)
{
    struct scr_hosts p;

    /* one at a time: a b c a b c a b c, even as hosts run dry */
    scr_hosts_init(&p, 100, 0, MAX_CRAWL_DELAY_MS, "scrape");
    for (int i = 1; i <= 3; i++) {
        add(&p, "a", i);
        add(&p, "b", i);
        add(&p, "c", i);
    }
    ASSERT_STR_EQ(take(&p, T0, 1, 0), "a/1");
    ASSERT_STR_EQ(take(&p, T0, 1, 0), "b/1");
    ASSERT_STR_EQ(take(&p, T0, 1, 0), "c/1");
    ASSERT_STR_EQ(take(&p, T0, 1, 0), "a/2");
    ASSERT_STR_EQ(take(&p, T0, 1, 0), "b/2");
    ASSERT_STR_EQ(take(&p, T0, 1, 0), "c/2");
    ASSERT_STR_EQ(take(&p, T0, 1, 0), "a/3");
    ASSERT_STR_EQ(take(&p, T0, 1, 0), "b/3"); /* a ran dry: b is still next */
    ASSERT_STR_EQ(take(&p, T0, 1, 0), "c/3");
    ASSERT_STR_EQ(take(&p, T0, 1, 0), "");
    scr_hosts_release(&p);

    /* two at a time: the next call goes on where the last stopped */
    scr_hosts_init(&p, 100, 0, MAX_CRAWL_DELAY_MS, "scrape");
    for (int i = 1; i <= 3; i++) {
        add(&p, "a", i);
        add(&p, "b", i);
        add(&p, "c", i);
    }
    ASSERT_STR_EQ(take(&p, T0, 2, 0), "a/1 b/1");
    ASSERT_STR_EQ(take(&p, T0, 2, 0), "c/1 a/2");
    ASSERT_STR_EQ(take(&p, T0, 2, 0), "b/2 c/2");
    ASSERT_STR_EQ(take(&p, T0, 2, 0), "a/3 b/3");
    ASSERT_STR_EQ(take(&p, T0, 2, 0), "c/3");
    scr_hosts_release(&p);

    /* all at once: interleaved, never one host's whole FIFO first */
    scr_hosts_init(&p, 100, 0, MAX_CRAWL_DELAY_MS, "scrape");
    for (int i = 1; i <= 3; i++) {
        add(&p, "a", i);
        add(&p, "b", i);
        add(&p, "c", i);
    }
    ASSERT_STR_EQ(take(&p, T0, 9, 0), "a/1 b/1 c/1 a/2 b/2 c/2 a/3 b/3 c/3");
    scr_hosts_release(&p);

    /* a host that is not ready is skipped, not waited for */
    scr_hosts_init(&p, 1, 1000, MAX_CRAWL_DELAY_MS, "scrape");
    add(&p, "a", 1);
    add(&p, "a", 2);
    add(&p, "b", 1);
    add(&p, "c", 1);
    ASSERT_STR_EQ(take(&p, T0, 1, 0), "a/1");
    ASSERT_STR_EQ(take(&p, T0, 1, 0), "b/1");
    ASSERT_STR_EQ(take(&p, T0, 1, 0), "c/1");
    ASSERT_STR_EQ(take(&p, T0, 1, 0), "");
    scr_hosts_release(&p);

    /* many hosts, fewer slots than hosts, no delay: every host is served once before any
     * host is served twice */
    scr_hosts_init(&p, 100, 0, MAX_CRAWL_DELAY_MS, "scrape");
    for (int h = 0; h < 10; h++) {
        char name[8];
        snprintf(name, sizeof(name), "h%d", h);
        for (int i = 1; i <= 5; i++)
            add(&p, name, i);
    }
    {
        int served[10] = {0};
        for (int call = 0; call < 5; call++) {
            struct scr_lease_item out[4];
            size_t n = scr_hosts_take(&p, T0, 4, 0, out);
            ASSERT_EQ(n, 4);
            for (size_t i = 0; i < n; i++) {
                served[out[i].host[1] - '0']++;
                scr_lease_item_release(&out[i]);
            }
        }
        /* 20 URLs over 10 hosts: exactly 2 each */
        for (int h = 0; h < 10; h++)
            if (served[h] != 2)
                TEST_FAIL_("host h%d served %d times of 20, want 2", h, served[h]);
    }
    scr_hosts_release(&p);
}

TEST(next_us)
{
    struct scr_hosts p;

    scr_hosts_init(&p, 1, 1000, MAX_CRAWL_DELAY_MS, "scrape");
    ASSERT_EQ(scr_hosts_next_us(&p, T0), -1); /* nothing waits */
    add(&p, "a.test", 1);
    add(&p, "a.test", 2);
    add(&p, "b.test", 1);
    ASSERT_EQ(scr_hosts_next_us(&p, T0), 0); /* ready now */
    ASSERT_STR_EQ(take(&p, T0, 10, 0), "a.test/1 b.test/1");
    /* b is empty; a waits for its result: nothing can go until a message arrives */
    ASSERT_EQ(scr_hosts_next_us(&p, T0), -1);
    scr_hosts_done(&p, "a.test", T0 + 200000, 100000);
    /* next start: T0 + 0.1s + 1s */
    ASSERT_EQ(scr_hosts_next_us(&p, T0 + 200000), 900000);
    ASSERT_EQ(scr_hosts_next_us(&p, T0 + SEC), 100000);
    ASSERT_EQ(scr_hosts_next_us(&p, T0 + 2 * SEC), 0);

    /* defer pushes the start later, never earlier */
    scr_hosts_defer(&p, "a.test", T0 + 5 * SEC);
    ASSERT_EQ(scr_hosts_next_us(&p, T0 + 2 * SEC), 3 * SEC);
    scr_hosts_defer(&p, "a.test", T0 + 3 * SEC);
    ASSERT_EQ(scr_hosts_next_us(&p, T0 + 2 * SEC), 3 * SEC);
    ASSERT_STR_EQ(take(&p, T0 + 5 * SEC - 1, 10, 0), "");
    ASSERT_STR_EQ(take(&p, T0 + 5 * SEC, 10, 0), "a.test/2");
    ASSERT_EQ(scr_hosts_next_us(&p, T0 + 5 * SEC), -1);

    /* defer of a host not yet seen holds its first URL back */
    scr_hosts_defer(&p, "c.test", T0 + 9 * SEC);
    add(&p, "c.test", 1);
    ASSERT_EQ(scr_hosts_next_us(&p, T0 + 5 * SEC), 4 * SEC);
    ASSERT_STR_EQ(take(&p, T0 + 5 * SEC, 10, 0), "");
    ASSERT_STR_EQ(take(&p, T0 + 9 * SEC, 10, 0), "c.test/1");
    scr_hosts_release(&p);
}

TEST(saturated)
{
    struct scr_hosts p;

    /* with a delay, a host's pool cap is host_concurrency * 2 + 2 = 4 */
    scr_hosts_init(&p, 1, 1000, MAX_CRAWL_DELAY_MS, "scrape");
    ASSERT_STR_EQ(saturated(&p), "");
    for (int i = 1; i <= 3; i++)
        add(&p, "a.test", i);
    for (int i = 1; i <= 4; i++)
        add(&p, "b.test", i);
    for (int i = 1; i <= 9; i++)
        add(&p, "c.test", i);
    add(&p, "d.test", 1);
    ASSERT_STR_EQ(saturated(&p), "b.test c.test");
    /* taking one from b brings it under its cap */
    ASSERT_STR_EQ(take(&p, T0, 10, 0), "a.test/1 b.test/1 c.test/1 d.test/1");
    ASSERT_STR_EQ(saturated(&p), "c.test");
    scr_hosts_release(&p);

    /* without a delay a host may fill the pool: never saturated */
    scr_hosts_init(&p, 1, 0, MAX_CRAWL_DELAY_MS, "scrape");
    for (int i = 1; i <= 100; i++)
        add(&p, "a.test", i);
    ASSERT_STR_EQ(saturated(&p), "");
    scr_hosts_release(&p);
}

TEST(drain)
{
    struct scr_hosts p;
    struct scr_lease_item *v = NULL;
    size_t n;
    int seen[3][6] = {{0}};

    scr_hosts_init(&p, 1, 1000, MAX_CRAWL_DELAY_MS, "scrape");
    n = scr_hosts_drain(&p, &v);
    ASSERT_EQ(n, 0);
    ASSERT(v == NULL);
    for (int i = 1; i <= 5; i++) {
        add(&p, "a.test", i);
        add(&p, "b.test", i);
        add(&p, "c.test", i);
    }
    ASSERT_STR_EQ(take(&p, T0, 10, 0), "a.test/1 b.test/1 c.test/1");
    n = scr_hosts_drain(&p, &v);
    ASSERT_EQ(n, 12);
    ASSERT(v != NULL);
    for (size_t i = 0; i < n; i++) {
        int h = v[i].host[0] - 'a', k = (int)strtol(strrchr(v[i].url, '/') + 1, NULL, 10);
        ASSERT(h >= 0 && h < 3 && k >= 2 && k <= 5);
        ASSERT_EQ(seen[h][k], 0);
        seen[h][k] = 1;
        ASSERT_EQ(v[i].depth, 1);
        scr_lease_item_release(&v[i]);
    }
    free(v);
    ASSERT_EQ(p.pooled, 0);
    ASSERT_EQ(p.nactive, 0);
    ASSERT_EQ(scr_hosts_next_us(&p, T0), -1);
    ASSERT_STR_EQ(take(&p, T0 + 100 * SEC, 10, 0), "");
    n = scr_hosts_drain(&p, &v);
    ASSERT_EQ(n, 0);
    /* the pool is usable after a drain */
    add(&p, "a.test", 9);
    scr_hosts_done(&p, "a.test", T0, -1);
    ASSERT_STR_EQ(take(&p, T0 + 100 * SEC, 10, 0), "a.test/9");
    scr_hosts_release(&p);
}

TEST(fifo_growth)
{
    /* many URLs of one host, taken and added interleaved: FIFO order holds across the
     * queue's compaction and growth */
    struct scr_hosts p;
    int next_add = 1, next_take = 1;

    scr_hosts_init(&p, 1000, 0, MAX_CRAWL_DELAY_MS, "scrape");
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 7; i++)
            add(&p, "a.test", next_add++);
        for (int i = 0; i < 5; i++) {
            struct scr_lease_item out[1];
            char want[32];
            ASSERT_EQ(scr_hosts_take(&p, T0, 1, 0, out), 1);
            snprintf(want, sizeof(want), "http://a.test/%d", next_take++);
            ASSERT_STR_EQ(out[0].url, want);
            scr_lease_item_release(&out[0]);
            scr_hosts_done(&p, "a.test", T0, 0);
        }
    }
    ASSERT_EQ(p.pooled, (size_t)(next_add - next_take));
    scr_hosts_release(&p); /* frees the 100 still waiting */
}

TEST(robots_gate)
{
    /* a host's URLs wait for its robots.txt: UNKNOWN gives nothing, NEEDED gives the robots
     * task first, FETCHING nothing, READY its URLs */
    struct scr_hosts p;
    struct scr_lease_item out[4];

    scr_hosts_init(&p, 1, 0, MAX_CRAWL_DELAY_MS, "scrape");
    add_raw(&p, "r.test", 1);
    add_raw(&p, "r.test", 2);
    ASSERT_EQ(robots_state(&p, "r.test"), SCR_ROBOTS_UNKNOWN);
    ASSERT_STR_EQ(take(&p, T0, 4, 4), "");
    ASSERT_EQ(scr_hosts_next_us(&p, T0), -1);
    scr_hosts_robots_missing(&p, "r.test"); /* the cache has no robots.txt */
    ASSERT_EQ(robots_state(&p, "r.test"), SCR_ROBOTS_NEEDED);
    /* not for n_later: the robots task goes only into a free slot */
    ASSERT_EQ(scr_hosts_take(&p, T0, 0, 4, out), 0);
    ASSERT_EQ(scr_hosts_take(&p, T0, 4, 4, out), 1);
    ASSERT_STR_EQ(out[0].url, "http://r.test/robots.txt");
    ASSERT_STR_EQ(out[0].host, "r.test");
    ASSERT_EQ(out[0].kind, SCR_TASK_ROBOTS);
    ASSERT((uint64_t)out[0].url_id & SCR_ROBOTS_TASK_BIT);
    scr_lease_item_release(&out[0]);
    ASSERT_EQ(robots_state(&p, "r.test"), SCR_ROBOTS_FETCHING);
    ASSERT_EQ(p.pooled, 2);
    scr_hosts_done(&p, "r.test", T0, 0);
    ASSERT_STR_EQ(take(&p, T0, 4, 4), "");
    scr_hosts_robots_set(&p, "r.test", NULL, -1.0);
    ASSERT(scr_hosts_robots(&p, "r.test") == NULL); /* no rules: everything allowed */
    ASSERT_STR_EQ(take(&p, T0, 4, 4), "r.test/1");
    scr_hosts_release(&p);
}

TEST(crawl_delay)
{
    /* the host's delay is max(--delay, min(Crawl-delay, --max-crawl-delay)) */
    struct scr_hosts p;

    scr_hosts_init(&p, 1, 1000, 3000, "scrape");
    for (int i = 1; i <= 2; i++) {
        add_raw(&p, "slow.test", i);
        add_raw(&p, "capped.test", i);
        add_raw(&p, "fast.test", i);
    }
    scr_hosts_robots_set(&p, "slow.test", NULL, 2.5);
    scr_hosts_robots_set(&p, "capped.test", NULL, 3600.0);
    scr_hosts_robots_set(&p, "fast.test", NULL, 0.25);
    ASSERT_STR_EQ(take(&p, T0, 10, 0), "slow.test/1 capped.test/1 fast.test/1");
    scr_hosts_done(&p, "slow.test", T0, -1);
    scr_hosts_done(&p, "capped.test", T0, -1);
    scr_hosts_done(&p, "fast.test", T0, -1);
    ASSERT_STR_EQ(take(&p, T0 + SEC, 10, 0), "fast.test/2");
    ASSERT_STR_EQ(take(&p, T0 + 5 * SEC / 2 - 1, 10, 0), "");
    ASSERT_STR_EQ(take(&p, T0 + 5 * SEC / 2, 10, 0), "slow.test/2");
    ASSERT_STR_EQ(take(&p, T0 + 3 * SEC - 1, 10, 0), "");
    ASSERT_STR_EQ(take(&p, T0 + 3 * SEC, 10, 0), "capped.test/2");
    scr_hosts_release(&p);
}

TEST(idle_host_keeps_no_fifo)
{
    /* A run meets hosts without bound; one that had many URLs waiting once must not keep
     * their slots once its FIFO is empty (1000 hosts x 300 URLs would otherwise keep
     * 1000 x 512 slots, 28 MiB).  Only active hosts hold slots, at most twice what waits. */
    struct scr_hosts p;
    char host[32];
    size_t total = 0;

    scr_hosts_init(&p, 1000, 0, MAX_CRAWL_DELAY_MS, "scrape");
    for (int h = 0; h < 1000; h++) {
        snprintf(host, sizeof(host), "h%d.test", h);
        for (int i = 1; i <= 300; i++)
            add(&p, host, i);
        ASSERT_LE(slots(&p), 2 * p.pooled + 8);
        /* drain it, a batch at a time, as workers would */
        while (p.pooled > 0) {
            struct scr_lease_item out[64];
            size_t n = scr_hosts_take(&p, T0, 64, 0, out);
            ASSERT_GT(n, 0);
            for (size_t k = 0; k < n; k++) {
                scr_hosts_done(&p, out[k].host, T0, 0);
                scr_lease_item_release(&out[k]);
            }
            total += n;
        }
        ASSERT_EQ(slots(&p), 0);
        ASSERT_EQ(p.nactive, 0);
    }
    ASSERT_EQ(total, 1000 * 300);
    /* an idle host that gets URLs again works as before, in FIFO order */
    add(&p, "h7.test", 301);
    add(&p, "h7.test", 302);
    ASSERT_EQ(slots(&p), 8);
    ASSERT_STR_EQ(take(&p, T0, 10, 0), "h7.test/301 h7.test/302");
    ASSERT_EQ(slots(&p), 0);
    /* drain of a pool spread over many hosts frees them all */
    for (int h = 0; h < 50; h++) {
        snprintf(host, sizeof(host), "d%d.test", h);
        for (int i = 1; i <= 20; i++)
            add(&p, host, i);
    }
    {
        struct scr_lease_item *v = NULL;
        size_t n = scr_hosts_drain(&p, &v);
        ASSERT_EQ(n, 1000);
        for (size_t k = 0; k < n; k++)
            scr_lease_item_release(&v[k]);
        free(v);
    }
    ASSERT_EQ(slots(&p), 0);
    scr_hosts_release(&p);
}

/* A lease item as the frontier gives it (strings strdup'd). */
static struct scr_lease_item leased(const char *host, const char *path)
{
    struct scr_lease_item it;
    char url[128];

    snprintf(url, sizeof(url), "http://%s%s", host, path);
    memset(&it, 0, sizeof(it));
    it.url_id = next_id++;
    it.url = strdup(url);
    it.host = strdup(host);
    it.kind = SCR_TASK_PAGE;
    it.depth = 1;
    it.attempts = 1;
    it.etag = strdup("");
    it.last_modified = strdup("");
    ASSERT(it.url && it.host && it.etag && it.last_modified);
    return it;
}

struct dropped {
    int skipped, put_back;
    char last_reason[256];
};

static void count_drop(struct scr_lease_item *it, enum scr_settle how, const char *reason,
                       void *ctx)
{
    struct dropped *d = ctx;
    ASSERT(how == SCR_SETTLE_SKIPPED || how == SCR_SETTLE_PUT_BACK);
    if (how == SCR_SETTLE_SKIPPED)
        d->skipped++;
    else
        d->put_back++;
    snprintf(d->last_reason, sizeof(d->last_reason), "%s", reason);
    scr_lease_item_release(it);
}

TEST(settle_decisions)
{
    /* unknown host: pooled and looked up once; robots known: allowed pooled, disallowed
     * skipped; URLs pooled before the rules arrived are settled again; parked and down
     * hosts: put back, item left with the caller */
    struct scr_hosts p;
    struct scr_lease_item it;
    struct scr_robots *r = NULL;
    struct dropped d;
    const char *why, *rules = "User-agent: *\nDisallow: /private/\n";

    memset(&d, 0, sizeof(d));
    scr_hosts_init(&p, 1, 0, MAX_CRAWL_DELAY_MS, "scrape");
    it = leased("a.test", "/1");
    ASSERT_EQ(scr_hosts_settle(&p, &it, &why), SCR_SETTLE_LOOKUP);
    ASSERT_STR_EQ(why, "a.test");
    ASSERT(it.url == NULL); /* taken */
    it = leased("a.test", "/private/2");
    ASSERT_EQ(scr_hosts_settle(&p, &it, &why), SCR_SETTLE_POOLED); /* looked up already */
    ASSERT(why == NULL);
    ASSERT_EQ(robots_state(&p, "a.test"), SCR_ROBOTS_LOOKUP);
    ASSERT_STR_EQ(take(&p, T0, 4, 4), ""); /* waits for its robots.txt */
    ASSERT_EQ(scr_hosts_next_us(&p, T0), -1);
    ASSERT_EQ(p.pooled, 2);

    /* the cache had rules: READY, and the pooled disallowed URL is settled again */
    ASSERT_EQ(scr_robots_parse(rules, strlen(rules), &r), SCR_OK);
    scr_hosts_robots_set(&p, "a.test", r, -1.0);
    ASSERT_EQ(scr_hosts_resettle(&p, "a.test", count_drop, &d), 1);
    ASSERT_EQ(d.skipped, 1);
    ASSERT_STR_EQ(d.last_reason, "disallowed by robots.txt");
    ASSERT_EQ(p.pooled, 1);

    /* later leases of a READY host are decided at once, without a lookup */
    it = leased("a.test", "/private/3");
    ASSERT_EQ(scr_hosts_settle(&p, &it, &why), SCR_SETTLE_SKIPPED);
    ASSERT_STR_EQ(why, "disallowed by robots.txt");
    ASSERT(it.url != NULL); /* left with the caller */
    scr_lease_item_release(&it);
    it = leased("a.test", "/4");
    ASSERT_EQ(scr_hosts_settle(&p, &it, &why), SCR_SETTLE_POOLED);
    /* a sitemap task is not a page: robots rules do not skip it */
    it = leased("a.test", "/private/sitemap.xml");
    it.kind = SCR_TASK_SITEMAP;
    ASSERT_EQ(scr_hosts_settle(&p, &it, &why), SCR_SETTLE_POOLED);
    ASSERT_EQ(p.pooled, 3);
    ASSERT_STR_EQ(take(&p, T0, 1, 0), "a.test/1");

    /* parked: the pooled URLs are put back, and so are later ones */
    ASSERT_EQ(scr_hosts_park(&p, "a.test", "host parked after 8 errors in a row (last: x)"), 1);
    ASSERT_EQ(scr_hosts_park(&p, "a.test", "again"), 0); /* once */
    ASSERT_EQ(scr_hosts_resettle(&p, "a.test", count_drop, &d), 2);
    ASSERT_EQ(d.put_back, 2);
    ASSERT_STR_EQ(d.last_reason, "host parked after 8 errors in a row (last: x)");
    ASSERT_EQ(p.pooled, 0);
    ASSERT_EQ(p.nactive, 0);
    it = leased("a.test", "/5");
    ASSERT_EQ(scr_hosts_settle(&p, &it, &why), SCR_SETTLE_PUT_BACK);
    ASSERT_STR_EQ(why, "host parked after 8 errors in a row (last: x)");
    scr_lease_item_release(&it);
    /* another host is not affected */
    it = leased("b.test", "/1");
    ASSERT_EQ(scr_hosts_settle(&p, &it, &why), SCR_SETTLE_LOOKUP);
    scr_hosts_release(&p);
}

TEST(robots_attempts)
{
    /* a robots.txt that cannot be fetched: NEEDED again after 2 s, 4 s, ...; at
     * --max-attempts the host is down and its URLs are put back with the reason */
    struct scr_hosts p;
    struct scr_lease_item it, out[4];
    struct dropped d;
    const char *why;

    memset(&d, 0, sizeof(d));
    scr_hosts_init(&p, 1, 0, MAX_CRAWL_DELAY_MS, "scrape");
    it = leased("down.test", "/1");
    ASSERT_EQ(scr_hosts_settle(&p, &it, &why), SCR_SETTLE_LOOKUP);
    scr_hosts_robots_missing(&p, "down.test");
    ASSERT_EQ(robots_state(&p, "down.test"), SCR_ROBOTS_NEEDED);
    for (int n = 1; n <= 2; n++) {
        int64_t now = T0 + (int64_t)n * 100 * SEC;
        ASSERT_EQ(scr_hosts_take(&p, now, 4, 0, out), 1);
        ASSERT_EQ(out[0].kind, SCR_TASK_ROBOTS);
        scr_hosts_done(&p, "down.test", now, -1);
        scr_lease_item_release(&out[0]);
        ASSERT_EQ(scr_hosts_robots_failed(&p, "down.test", now, 3), 0);
        ASSERT_EQ(robots_state(&p, "down.test"), SCR_ROBOTS_NEEDED);
        ASSERT_EQ(scr_hosts_find(&p, "down.test")->robots_attempts, n);
        /* backoff: 2 s, then 4 s */
        ASSERT_EQ(scr_hosts_next_us(&p, now), 2 * SEC << (n - 1));
    }
    ASSERT_EQ(scr_hosts_robots_failed(&p, "down.test", T0 + 300 * SEC, 3), 1);
    /* down: nothing goes out until the store said how many runs it has been down */
    ASSERT_EQ(robots_state(&p, "down.test"), SCR_ROBOTS_LOOKUP);
    ASSERT_EQ(scr_hosts_take(&p, T0 + 400 * SEC, 4, 0, out), 0);
    scr_hosts_set_down(&p, "down.test", "robots.txt unavailable (x)", 0);
    ASSERT_EQ(robots_state(&p, "down.test"), SCR_ROBOTS_READY);
    ASSERT_EQ(scr_hosts_resettle(&p, "down.test", count_drop, &d), 1);
    ASSERT_EQ(d.put_back, 1);
    ASSERT_STR_EQ(d.last_reason, "robots.txt unavailable (x)");
    it = leased("down.test", "/2");
    ASSERT_EQ(scr_hosts_settle(&p, &it, &why), SCR_SETTLE_PUT_BACK);
    /* down in --host-down-runs runs: its URLs fail with the reason */
    scr_hosts_set_down(&p, "down.test", "host unreachable in 3 runs since T: x", 1);
    ASSERT_EQ(scr_hosts_settle(&p, &it, &why), SCR_SETTLE_FAILED);
    ASSERT_STR_EQ(why, "host unreachable in 3 runs since T: x");
    scr_lease_item_release(&it);
    scr_hosts_release(&p);
}

TEST(error_streak_and_sitemaps_once)
{
    /* errors grow the streak and push the host (1 s, 2 s, ...); a success resets it; the
     * park threshold is the caller's to apply; sitemaps are queued once per host */
    struct scr_hosts p;

    scr_hosts_init(&p, 1, 0, MAX_CRAWL_DELAY_MS, "scrape");
    add(&p, "e.test", 1);
    for (int i = 1; i <= SCR_HOSTS_PARK_STREAK; i++)
        ASSERT_EQ(scr_hosts_outcome(&p, "e.test", 0, T0, 0), i);
    ASSERT_EQ(scr_hosts_next_us(&p, T0), 128 * SEC);
    ASSERT_EQ(scr_hosts_outcome(&p, "e.test", 1, T0, 0), 0);
    ASSERT_EQ(scr_hosts_outcome(&p, "e.test", 0, T0, T0 + 900 * SEC), 1); /* Retry-After */
    ASSERT_EQ(scr_hosts_next_us(&p, T0), 900 * SEC);
    ASSERT_EQ(scr_hosts_outcome(&p, "never-seen.test", 0, T0, 0), 0);
    ASSERT_EQ(scr_hosts_sitemaps_once(&p, "e.test"), 1);
    ASSERT_EQ(scr_hosts_sitemaps_once(&p, "e.test"), 0);
    ASSERT(!scr_hosts_find(&p, "e.test")->owned); /* claims off: ownership unused */
    scr_hosts_release(&p);
}

static size_t hand_back_count;

static void hand_back_drop_fn(struct scr_lease_item *it, enum scr_settle how, const char *reason,
                       void *ctx)
{
    (void)how;
    (void)ctx;
    ASSERT_STR_EQ(reason, "handed over");
    scr_lease_item_release(it);
    hand_back_count++;
}

TEST(claims_gate_hosts)
{
    /* with claims on (islands), only a claimed host is ready, until its claim runs out; the
     * previous owner's last start (age) spaces the first request; a yielding host gives
     * nothing; hand_back empties its FIFO */
    struct scr_hosts p;
    struct scr_lease_item out[4];
    struct scr_host *h;

    scr_hosts_init(&p, 1, 500, MAX_CRAWL_DELAY_MS, "scrape");
    p.claims = 1;
    add(&p, "a.test", 1);
    add(&p, "a.test", 2);
    add(&p, "a.test", 3);
    ASSERT_EQ(scr_hosts_take(&p, T0, 4, 0, out), 0);  /* not claimed */
    ASSERT_EQ(scr_hosts_next_us(&p, T0), -1);
    /* claimed, the previous owner started 200 ms ago: 300 ms to wait */
    h = scr_hosts_claim(&p, "a.test", T0, T0 + 10 * SEC, 200000);
    ASSERT(h->owned);
    ASSERT_EQ(p.nowned, 1);
    ASSERT_EQ(scr_hosts_next_us(&p, T0), 300000);
    ASSERT_EQ(scr_hosts_take(&p, T0, 4, 0, out), 0);
    ASSERT_EQ(scr_hosts_take(&p, T0 + 300000, 4, 0, out), 1);
    scr_lease_item_release(&out[0]);
    scr_hosts_done(&p, "a.test", T0 + 400000, -1);
    /* the claim ran out: nothing more goes */
    ASSERT_EQ(scr_hosts_take(&p, T0 + 11 * SEC, 4, 0, out), 0);
    /* renewed, then yielding: nothing goes either */
    scr_hosts_claim(&p, "a.test", T0 + 11 * SEC, T0 + 20 * SEC, -1);
    ASSERT_EQ(p.nowned, 1);
    h->yielding = 1;
    ASSERT_EQ(scr_hosts_take(&p, T0 + 12 * SEC, 4, 0, out), 0);
    hand_back_count = 0;
    ASSERT_EQ(scr_hosts_hand_back(&p, h, hand_back_drop_fn, "handed over", NULL), 2);
    ASSERT_EQ(hand_back_count, 2);
    ASSERT_EQ(p.pooled, 0);
    scr_hosts_unclaim(&p, h);
    ASSERT(!h->owned);
    ASSERT_EQ(p.nowned, 0);
    scr_hosts_release(&p);
}

static struct scr_result result_of(int curl_code, int status, int truncated)
{
    struct scr_result r;
    memset(&r, 0, sizeof(r));
    r.curl_code = curl_code;
    r.http_status = status;
    r.truncated = (uint32_t)truncated;
    return r;
}

TEST(transient_rule)
{
    /* one rule for the URL (retry) and the host (streak): what is retried counts against
     * the host, and nothing else does */
    static const struct {
        int curl, status, truncated, transient;
    } cases[] = {
        {0, 200, 0, 0},  {0, 304, 0, 0},  {0, 404, 0, 0},  {0, 403, 0, 0},
        {0, 500, 0, 1},  {0, 503, 0, 1},  {0, 408, 0, 1},  {0, 429, 0, 1},
        {0, 200, 1, 0},  /* cut body */
        {6, 0, 0, 1},    /* CURLE_COULDNT_RESOLVE_HOST */
        {7, 0, 0, 1},    /* CURLE_COULDNT_CONNECT */
        {28, 0, 0, 1},   /* CURLE_OPERATION_TIMEDOUT */
        {56, 200, 0, 1}, /* CURLE_RECV_ERROR after the status line */
        {35, 0, 0, 1},   /* CURLE_SSL_CONNECT_ERROR: the handshake failed */
        {60, 0, 0, 0},   /* CURLE_PEER_FAILED_VERIFICATION: the certificate is bad */
        {58, 0, 0, 0},   /* CURLE_SSL_CERTPROBLEM */
        {SCR_RESULT_REFUSED, 0, 0, 0}, /* the address guard */
        {63, 0, 0, 0},   /* CURLE_FILESIZE_EXCEEDED */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct scr_result r = result_of(cases[i].curl, cases[i].status, cases[i].truncated);
        int64_t delay;
        enum scr_outcome o = scr_retry_classify(&r, 1, 3, &delay);
        ASSERT_EQ(scr_retry_transient(&r), cases[i].transient);
        if (cases[i].transient)
            ASSERT_EQ(o, SCR_OUTCOME_RETRY);
        else
            ASSERT(o != SCR_OUTCOME_RETRY);
    }
}

int main(void)
{
    RUN(one_per_host_with_delay);
    RUN(delay_from_dispatch);
    RUN(host_concurrency_two);
    RUN(n_later_only_without_delay);
    RUN(round_robin);
    RUN(next_us);
    RUN(saturated);
    RUN(drain);
    RUN(fifo_growth);
    RUN(robots_gate);
    RUN(crawl_delay);
    RUN(idle_host_keeps_no_fifo);
    RUN(settle_decisions);
    RUN(robots_attempts);
    RUN(error_streak_and_sitemaps_once);
    RUN(claims_gate_hosts);
    RUN(transient_rule);
    fprintf(stderr, "test_hosts: all passed\n");
    return 0;
}
