/* addrguard.c - public versus non-public IP addresses (see addrguard.h).
 *
 * Two tables, searched in order, first match wins; an address that matches nothing is
 * public.  They follow the IANA special-purpose registries (RFC 6890 and its updates) and
 * err on the side of refusing: a crawler has no business on a documentation, benchmarking or
 * protocol-assignment range, even where IANA marks a single address inside it global.
 *
 * Decisions on addresses that carry an IPv4 address inside an IPv6 one:
 *   ::ffff:0:0/96      IPv4-mapped: the kernel connects to the IPv4 address, so it is judged
 *                      as that IPv4 address (::ffff:127.0.0.1 is loopback).
 *   64:ff9b::/96       NAT64 well-known prefix (RFC 6052): a NAT64 gateway connects to the
 *                      embedded IPv4 address, so that address is judged.
 *   64:ff9b:1::/48     local-use NAT64 (RFC 8215): refused (the operator's own network).
 *   2002::/16          6to4: a 6to4 router sends the packets to the embedded IPv4 address
 *                      (bits 16-47), so that address is judged (2002:7f00:1:: is loopback).
 *   2001::/32          Teredo: refused outright.  The client address is hidden (XOR-ed) in
 *                      the low bits and the relay path is outside our control; Teredo is
 *                      all but dead, so nothing of value is lost.
 *   ::/96              IPv4-compatible (deprecated, RFC 4291) including :: and ::1: refused.
 *   ::ffff:0:0:0/96    SIIT IPv4-translated (RFC 2765): refused.
 * Every IPv6 address outside 2000::/3 (global unicast) that no row names is refused too.
 */
#include "worker/addrguard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct v4_range {
    uint32_t net;
    int bits;
    const char *cls;
};

#define V4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

static const struct v4_range v4_ranges[] = {
    {V4(0, 0, 0, 0), 8, "unspecified"},           /* "this network" (RFC 791) */
    {V4(10, 0, 0, 0), 8, "private"},              /* RFC 1918 */
    {V4(100, 64, 0, 0), 10, "shared (CGNAT)"},    /* RFC 6598 */
    {V4(127, 0, 0, 0), 8, "loopback"},
    {V4(169, 254, 0, 0), 16, "link-local"},       /* incl. 169.254.169.254, cloud metadata */
    {V4(172, 16, 0, 0), 12, "private"},
    {V4(192, 0, 0, 0), 24, "reserved (IETF)"},    /* RFC 6890 */
    {V4(192, 0, 2, 0), 24, "documentation"},      /* TEST-NET-1 */
    {V4(192, 88, 99, 0), 24, "reserved (6to4 relay)"}, /* RFC 7526 */
    {V4(192, 168, 0, 0), 16, "private"},
    {V4(198, 18, 0, 0), 15, "benchmarking"},      /* RFC 2544 */
    {V4(198, 51, 100, 0), 24, "documentation"},   /* TEST-NET-2 */
    {V4(203, 0, 113, 0), 24, "documentation"},    /* TEST-NET-3 */
    {V4(224, 0, 0, 0), 4, "multicast"},
    {V4(240, 0, 0, 0), 4, "reserved"},            /* incl. 255.255.255.255, broadcast */
};

/* How an IPv6 row hands over to the IPv4 table. */
enum embed { EMBED_NONE, EMBED_LOW32, EMBED_6TO4 };

struct v6_range {
    uint8_t net[16];
    int bits;
    const char *cls;      /* used when embed is EMBED_NONE */
    enum embed embed;
};

static const struct v6_range v6_ranges[] = {
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0}, 96, NULL, EMBED_LOW32},
    {{0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 96, NULL, EMBED_LOW32},
    {{0x20, 0x02}, 16, NULL, EMBED_6TO4},
    {{0}, 128, "unspecified", EMBED_NONE},
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, "loopback", EMBED_NONE},
    {{0}, 96, "reserved (IPv4-compatible)", EMBED_NONE},
    {{0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0}, 96, "reserved (IPv4-translated)", EMBED_NONE},
    {{0, 0x64, 0xff, 0x9b, 0, 1}, 48, "private (local NAT64)", EMBED_NONE},
    {{0x01, 0x00, 0, 0, 0, 0, 0, 0}, 64, "reserved (discard)", EMBED_NONE},  /* RFC 6666 */
    {{0x20, 0x01, 0, 0}, 32, "reserved (Teredo)", EMBED_NONE},
    {{0x20, 0x01, 0, 0}, 23, "reserved (IETF)", EMBED_NONE},                 /* RFC 2928 */
    {{0x20, 0x01, 0x0d, 0xb8}, 32, "documentation", EMBED_NONE},
    {{0x3f, 0xff, 0}, 20, "documentation", EMBED_NONE},                      /* RFC 9637 */
    {{0x5f, 0x00}, 16, "reserved (SRv6)", EMBED_NONE},                       /* RFC 9602 */
    {{0xfc}, 7, "private", EMBED_NONE},                                       /* unique local */
    {{0xfe, 0x80}, 10, "link-local", EMBED_NONE},
    {{0xfe, 0xc0}, 10, "site-local", EMBED_NONE},                             /* deprecated */
    {{0xff}, 8, "multicast", EMBED_NONE},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *v4_class(uint32_t a)
{
    for (size_t i = 0; i < COUNT(v4_ranges); i++) {
        uint32_t mask = v4_ranges[i].bits ? ~(uint32_t)0 << (32 - v4_ranges[i].bits) : 0;
        if ((a & mask) == v4_ranges[i].net)
            return v4_ranges[i].cls;
    }
    return NULL;
}

static int v6_match(const uint8_t *a, const struct v6_range *r)
{
    int full = r->bits / 8, rest = r->bits % 8;

    if (memcmp(a, r->net, (size_t)full) != 0)
        return 0;
    if (rest) {
        uint8_t mask = (uint8_t)(0xff << (8 - rest));
        if ((a[full] & mask) != (r->net[full] & mask))
            return 0;
    }
    return 1;
}

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static const char *v6_class(const uint8_t *a)
{
    for (size_t i = 0; i < COUNT(v6_ranges); i++) {
        const struct v6_range *r = &v6_ranges[i];
        if (!v6_match(a, r))
            continue;
        switch (r->embed) {
        case EMBED_LOW32: return v4_class(be32(a + 12));
        case EMBED_6TO4: return v4_class(be32(a + 2));
        case EMBED_NONE: return r->cls;
        }
    }
    if ((a[0] & 0xe0) != 0x20)
        return "reserved (not global unicast)";
    return NULL;
}

const char *scr_addr_class(const struct sockaddr *sa)
{
    if (!sa)
        return "not an IP address";
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in in;
        memcpy(&in, sa, sizeof(in));
        return v4_class(ntohl(in.sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof(in6));
        return v6_class(in6.sin6_addr.s6_addr);
    }
    return "not an IP address";
}

int scr_addr_is_public(const struct sockaddr *sa)
{
    return scr_addr_class(sa) == NULL;
}

void scr_addr_format(const struct sockaddr *sa, char *buf, size_t len)
{
    const char *ok = NULL;

    if (len == 0)
        return;
    if (sa && sa->sa_family == AF_INET) {
        struct sockaddr_in in;
        memcpy(&in, sa, sizeof(in));
        ok = inet_ntop(AF_INET, &in.sin_addr, buf, (socklen_t)len);
    } else if (sa && sa->sa_family == AF_INET6) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof(in6));
        ok = inet_ntop(AF_INET6, &in6.sin6_addr, buf, (socklen_t)len);
    }
    if (!ok)
        snprintf(buf, len, "?");
}
