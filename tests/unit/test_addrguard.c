/* test_addrguard.c - worker/addrguard.c: which addresses are public.  The cases are data: an
 * address as text and the class expected (NULL = public). */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "test.h"
#include "worker/addrguard.h"

struct addr_case {
    const char *addr;
    const char *cls; /* NULL: public */
};

static const struct addr_case cases[] = {
    /* IPv4: public */
    {"8.8.8.8", NULL},
    {"1.1.1.1", NULL},
    {"93.184.216.34", NULL},
    {"9.255.255.255", NULL},
    {"11.0.0.0", NULL},
    {"100.63.255.255", NULL},
    {"100.128.0.0", NULL},
    {"126.255.255.255", NULL},
    {"128.0.0.0", NULL},
    {"169.253.255.255", NULL},
    {"169.255.0.0", NULL},
    {"172.15.255.255", NULL},
    {"172.32.0.0", NULL},
    {"192.0.1.0", NULL},
    {"192.88.98.255", NULL},
    {"192.167.255.255", NULL},
    {"192.169.0.0", NULL},
    {"198.17.255.255", NULL},
    {"198.20.0.0", NULL},
    {"223.255.255.255", NULL},
    /* IPv4: not public */
    {"0.0.0.0", "unspecified"},
    {"0.1.2.3", "unspecified"},
    {"0.255.255.255", "unspecified"},
    {"10.0.0.0", "private"},
    {"10.0.0.5", "private"},
    {"10.255.255.255", "private"},
    {"100.64.0.0", "shared (CGNAT)"},
    {"100.127.255.255", "shared (CGNAT)"},
    {"127.0.0.1", "loopback"},
    {"127.0.0.2", "loopback"},
    {"127.255.255.255", "loopback"},
    {"169.254.0.1", "link-local"},
    {"169.254.169.254", "link-local"},
    {"172.16.0.0", "private"},
    {"172.31.255.255", "private"},
    {"192.0.0.8", "reserved (IETF)"},
    {"192.0.2.1", "documentation"},
    {"192.88.99.1", "reserved (6to4 relay)"},
    {"192.168.0.1", "private"},
    {"192.168.255.255", "private"},
    {"198.18.0.1", "benchmarking"},
    {"198.19.255.255", "benchmarking"},
    {"198.51.100.7", "documentation"},
    {"203.0.113.9", "documentation"},
    {"224.0.0.1", "multicast"},
    {"239.255.255.250", "multicast"},
    {"240.0.0.1", "reserved"},
    {"255.255.255.255", "reserved"},
    /* IPv6: public */
    {"2001:4860:4860::8888", NULL},
    {"2606:4700:4700::1111", NULL},
    {"2a00:1450:4001:80b::200e", NULL},
    {"2001:200::1", NULL},            /* just past 2001::/23 */
    {"3ffe::1", NULL},                /* 2000::/3, not in 3fff::/20 */
    /* IPv6: not public */
    {"::", "unspecified"},
    {"::1", "loopback"},
    {"::2", "reserved (IPv4-compatible)"},
    {"::127.0.0.1", "reserved (IPv4-compatible)"},
    {"::8.8.8.8", "reserved (IPv4-compatible)"},
    {"fe80::1", "link-local"},
    {"febf:ffff::1", "link-local"},
    {"fec0::1", "site-local"},
    {"fc00::1", "private"},
    {"fd12:3456:789a::1", "private"},
    {"fdff:ffff::1", "private"},
    {"ff02::1", "multicast"},
    {"ff05::1:3", "multicast"},
    {"2001:db8::1", "documentation"},
    {"3fff::1", "documentation"},
    {"100::1", "reserved (discard)"},
    {"2001::1", "reserved (Teredo)"},
    {"2001:0:4136:e378:8000:63bf:3fff:fdd2", "reserved (Teredo)"},
    {"2001:2::1", "reserved (IETF)"},
    {"2001:1ff::1", "reserved (IETF)"},
    {"5f00::1", "reserved (SRv6)"},
    {"64:ff9b:1::a00:5", "private (local NAT64)"},
    {"4000::1", "reserved (not global unicast)"},
    {"e000::1", "reserved (not global unicast)"},
    {"::ffff:0:808:808", "reserved (IPv4-translated)"},
    /* IPv6 with an IPv4 address inside: judged as that address */
    {"::ffff:8.8.8.8", NULL},
    {"::ffff:127.0.0.1", "loopback"},
    {"::ffff:10.1.2.3", "private"},
    {"::ffff:169.254.169.254", "link-local"},
    {"::ffff:0.0.0.0", "unspecified"},
    {"::ffff:100.64.1.1", "shared (CGNAT)"},
    {"64:ff9b::8.8.8.8", NULL},
    {"64:ff9b::127.0.0.1", "loopback"},
    {"64:ff9b::192.168.1.1", "private"},
    {"64:ff9b::169.254.169.254", "link-local"},
    {"2002:808:808::1", NULL},        /* 6to4 of 8.8.8.8 */
    {"2002:7f00:1::1", "loopback"},   /* 6to4 of 127.0.0.1 */
    {"2002:a00:5::", "private"},      /* 6to4 of 10.0.0.5 */
    {"2002:a9fe:a9fe::1", "link-local"},
    {"2002:e000:1::", "multicast"},
};

static void check(const struct addr_case *c)
{
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
    const struct sockaddr *sa;
    const char *got;
    char back[64];

    memset(&in, 0, sizeof(in));
    memset(&in6, 0, sizeof(in6));
    if (inet_pton(AF_INET, c->addr, &in.sin_addr) == 1) {
        in.sin_family = AF_INET;
        in.sin_port = htons(80);
        sa = (const struct sockaddr *)&in;
    } else if (inet_pton(AF_INET6, c->addr, &in6.sin6_addr) == 1) {
        in6.sin6_family = AF_INET6;
        in6.sin6_port = htons(443);
        sa = (const struct sockaddr *)&in6;
    } else {
        TEST_FAIL_("bad test address %s", c->addr);
    }
    got = scr_addr_class(sa);
    if (c->cls == NULL && got != NULL)
        TEST_FAIL_("%s: expected public, got \"%s\"", c->addr, got);
    if (c->cls != NULL && (got == NULL || strcmp(got, c->cls) != 0))
        TEST_FAIL_("%s: expected \"%s\", got \"%s\"", c->addr, c->cls, got ? got : "public");
    ASSERT_EQ(scr_addr_is_public(sa), c->cls == NULL);
    scr_addr_format(sa, back, sizeof(back));
    ASSERT(strcmp(back, "?") != 0);
}

TEST(table)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check(&cases[i]);
}

TEST(other_families)
{
    struct sockaddr_storage ss;
    char buf[8];

    memset(&ss, 0, sizeof(ss));
    ss.ss_family = AF_UNIX;
    ASSERT_EQ(scr_addr_is_public((struct sockaddr *)&ss), 0);
    ASSERT_EQ(scr_addr_is_public(NULL), 0);
    scr_addr_format((struct sockaddr *)&ss, buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "?");
}

TEST(format)
{
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
    char buf[64];

    memset(&in, 0, sizeof(in));
    in.sin_family = AF_INET;
    inet_pton(AF_INET, "10.0.0.5", &in.sin_addr);
    scr_addr_format((struct sockaddr *)&in, buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "10.0.0.5");
    memset(&in6, 0, sizeof(in6));
    in6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "fe80::1", &in6.sin6_addr);
    scr_addr_format((struct sockaddr *)&in6, buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "fe80::1");
}

int main(void)
{
    RUN(table);
    RUN(other_families);
    RUN(format);
    return 0;
}
