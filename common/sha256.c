/* sha256.c - SHA-256 through libcrypto's EVP interface (see sha256.h).
 *
 * The one-shot hex form is what the hot path uses (one call per fetched page); the streaming
 * form exists for callers that hash in pieces, and for the FIPS vectors in the unit test.
 */
#include "common/sha256.h"

#include <openssl/evp.h>
#include <string.h>

#include "common/error.h"

int scr_sha256_init(struct scr_sha256 *c)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    c->ctx = NULL;
    if (!ctx)
        return SCR_ENOMEM;
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        return SCR_ENOMEM;
    }
    c->ctx = ctx;
    return SCR_OK;
}

void scr_sha256_update(struct scr_sha256 *c, const void *data, size_t len)
{
    if (c->ctx && len)
        EVP_DigestUpdate(c->ctx, data, len);
}

void scr_sha256_final(struct scr_sha256 *c, uint8_t out[32])
{
    unsigned int n = 0;

    memset(out, 0, 32);
    if (c->ctx)
        EVP_DigestFinal_ex(c->ctx, out, &n);
    EVP_MD_CTX_free(c->ctx);
    c->ctx = NULL;
}

void scr_sha256_hex(const void *data, size_t len, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char d[32] = {0};
    unsigned int n = 0;

    EVP_Digest(data, len, d, &n, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
}
