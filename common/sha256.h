/* sha256.h - SHA-256 (FIPS 180-4) for page content hashes. */
#ifndef SCR_SHA256_H
#define SCR_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct scr_sha256 {
    uint32_t h[8];
    uint64_t bytes;
    uint8_t block[64];
    size_t used;
};

void scr_sha256_init(struct scr_sha256 *c);
void scr_sha256_update(struct scr_sha256 *c, const void *data, size_t len);
void scr_sha256_final(struct scr_sha256 *c, uint8_t out[32]);
/* Hashes data and writes 64 lower-case hex digits and a NUL into hex. */
void scr_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
