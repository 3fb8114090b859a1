/* fuzz_url.c - libFuzzer driver for scr_url_normalize().
 *
 * The input is split at the first NUL into a base and a reference (no NUL: no base).  Checks
 * the contract, not just "no crash": a success is printable ASCII within the length cap and
 * normalizes to itself again (idempotence); a failure leaves the outputs untouched.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 2), *base = NULL, *ref, *out = NULL, *host = NULL, *again = NULL;
    char err[256];
    const char *nul;

    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = buf[size + 1] = '\0';
    nul = memchr(buf, '\0', size);
    if (nul && (size_t)(nul - buf) < size) {
        base = buf;
        ref = buf + (nul - buf) + 1;
    } else {
        ref = buf;
    }
    if (scr_url_normalize(base, ref, NULL, &out, &host, err, sizeof(err)) == 0) {
        size_t n = strlen(out);
        if (n > SCR_URL_MAX_LEN)
            abort();
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)out[i] <= 0x20 || (unsigned char)out[i] >= 0x7f)
                abort();
        if (scr_url_normalize(NULL, out, NULL, &again, NULL, err, sizeof(err)) != 0 ||
            strcmp(again, out) != 0)
            abort();
    } else if (out || host) {
        abort();
    }
    free(again);
    free(out);
    free(host);
    free(buf);
    return 0;
}
