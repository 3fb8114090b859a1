/* siphash.c - SipHash-1-3 and 2-4 (see siphash.h).
 *
 * The reference algorithm with c compression and d finalization rounds: 1-3 as used by
 * Rust's and Python's hash tables, 2-4 (the paper's) to check it against the paper's vectors.  Input bytes are read little-endian whatever the host's
 * byte order, so a key gives the same hash on every node.
 */
#include "common/siphash.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND                                                     \
    do {                                                             \
        v0 += v1;                                                    \
        v1 = ROTL(v1, 13);                                           \
        v1 ^= v0;                                                    \
        v0 = ROTL(v0, 32);                                           \
        v2 += v3;                                                    \
        v3 = ROTL(v3, 16);                                           \
        v3 ^= v2;                                                    \
        v0 += v3;                                                    \
        v3 = ROTL(v3, 21);                                           \
        v3 ^= v0;                                                    \
        v2 += v1;                                                    \
        v1 = ROTL(v1, 17);                                           \
        v1 ^= v2;                                                    \
        v2 = ROTL(v2, 32);                                           \
    } while (0)

static uint64_t load_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t siphash(const uint64_t k[2], const void *data, size_t len, int c, int d)
{
    const unsigned char *p = data;
    uint64_t v0 = 0x736f6d6570736575ULL ^ k[0];
    uint64_t v1 = 0x646f72616e646f6dULL ^ k[1];
    uint64_t v2 = 0x6c7967656e657261ULL ^ k[0];
    uint64_t v3 = 0x7465646279746573ULL ^ k[1];
    uint64_t b = (uint64_t)len << 56, m;
    size_t i, full = len & ~(size_t)7;

    for (i = 0; i < full; i += 8) {
        m = load_le64(p + i);
        v3 ^= m;
        for (int r = 0; r < c; r++)
            SIPROUND;
        v0 ^= m;
    }
    for (size_t j = 0; i + j < len; j++)
        b |= (uint64_t)p[i + j] << (8 * j);
    v3 ^= b;
    for (int r = 0; r < c; r++)
        SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    for (int r = 0; r < d; r++)
        SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t scr_siphash13(const uint64_t k[2], const void *data, size_t len)
{
    return siphash(k, data, len, 1, 3);
}

uint64_t scr_siphash24(const uint64_t k[2], const void *data, size_t len)
{
    return siphash(k, data, len, 2, 4);
}
