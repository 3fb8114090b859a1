/* sha256.h - SHA-256 (FIPS 180-4) for page content hashes and rule-file hashes.
 *
 * A thin wrapper over OpenSSL's libcrypto, which uses the CPU's SHA instructions where it
 * has them (x86 SHA-NI, ARMv8 crypto extensions): about ten times the speed of portable C,
 * which matters because every fetched page is hashed.
 */
#ifndef SCR_SHA256_H
#define SCR_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct scr_sha256 {
    void *ctx;   /* an EVP_MD_CTX, owned */
};

/* Starts a digest.  SCR_ENOMEM leaves c empty (update and final are then no-ops that give
 * an all-zero digest); either way scr_sha256_final releases it. */
int scr_sha256_init(struct scr_sha256 *c);
void scr_sha256_update(struct scr_sha256 *c, const void *data, size_t len);
/* Writes the digest and releases the context. */
void scr_sha256_final(struct scr_sha256 *c, uint8_t out[32]);
/* Hashes data and writes 64 lower-case hex digits and a NUL into hex. */
void scr_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
