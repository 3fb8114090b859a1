/* machinefile.c - MPICH Hydra's machinefile format, for `scrape doctor` (see doctor.h).
 *
 * Hydra (4.0.2, utils/args) reads each line as whitespace-separated tokens, '#' starting a
 * comment: the first token is host[:N[:ignored]], the rest are key=value, of which it knows
 * only user=NAME (measured: "ifhn=lo", "foo=bar" or a second host on the line make mpiexec
 * exit 255, "token ... not supported at this time").  This parser accepts exactly that and
 * refuses the rest with the line number, so a typo is caught before any ssh.  Slots must be a
 * positive decimal number: Hydra 4.0.2 reads them with atoi() and dies of SIGFPE (exit 136)
 * on "host:0" and "host:x".  An IPv6 address cannot be written (Hydra splits at ':').
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/file.h"
#include "doctor/doctor.h"

#define MF_MAX_BYTES (1024 * 1024)
#define MF_MAX_SLOTS 100000

/* Letters, digits, '-', '.', '_', starting with a letter, digit or '_': what a host or
 * user name needs, and nothing ssh could take for an option ("-oProxyCommand=...") or a
 * terminal for a control sequence. */
static int host_ok(const char *h, size_t n)
{
    if (n == 0 || n > 253 || h[0] == '-' || h[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)h[i];
        if (!isalnum(c) && c != '-' && c != '.' && c != '_')
            return 0;
    }
    return 1;
}

/* Parses the first token, host[:N], into e. */
static int parse_host(struct scr_mf_entry *e, const char *tok, size_t len, char *err,
                      size_t errlen)
{
    const char *colon = memchr(tok, ':', len);
    size_t hlen = colon ? (size_t)(colon - tok) : len;

    if (!host_ok(tok, hlen)) {
        snprintf(err, errlen, "'%.*s' is not a host name", (int)(len > 80 ? 80 : len), tok);
        return SCR_EUSAGE;
    }
    e->slots = 1;
    if (colon) {
        const char *s = colon + 1;
        size_t slen = len - hlen - 1;
        const char *colon2 = memchr(s, ':', slen);
        long v = 0;
        if (colon2 && colon2 > s)
            slen = (size_t)(colon2 - s); /* host:N:more - Hydra ignores the rest, so do we */
        if (slen == 0 || slen > 6) {
            snprintf(err, errlen, "'%.*s': the slots after ':' must be a number from 1 to %d",
                     (int)(len > 80 ? 80 : len), tok, MF_MAX_SLOTS);
            return SCR_EUSAGE;
        }
        for (size_t i = 0; i < slen; i++) {
            if (!isdigit((unsigned char)s[i])) {
                snprintf(err, errlen,
                         "'%.*s': the slots after ':' must be a number (Hydra takes no "
                         "IPv6 address or interface here)",
                         (int)(len > 80 ? 80 : len), tok);
                return SCR_EUSAGE;
            }
            v = v * 10 + (s[i] - '0');
        }
        if (v < 1 || v > MF_MAX_SLOTS) {
            snprintf(err, errlen, "'%.*s': the slots must be from 1 to %d",
                     (int)(len > 80 ? 80 : len), tok, MF_MAX_SLOTS);
            return SCR_EUSAGE;
        }
        e->slots = (int)v;
    }
    e->host = scr_xstrndup(tok, hlen);
    return SCR_OK;
}

/* Parses one line (without its newline) into e; *empty is set for a blank or comment line. */
static int parse_line(struct scr_mf_entry *e, const char *p, size_t len, int *empty,
                      char *err, size_t errlen)
{
    const char *hash = memchr(p, '#', len);
    const char *end = hash ? hash : p + len;
    int first = 1, rc = SCR_OK;

    *empty = 1;
    while (p < end) {
        const char *tok;
        size_t tlen;
        while (p < end && isspace((unsigned char)*p))
            p++;
        if (p == end)
            break;
        tok = p;
        while (p < end && !isspace((unsigned char)*p))
            p++;
        tlen = (size_t)(p - tok);
        if (first) {
            rc = parse_host(e, tok, tlen, err, errlen);
            if (rc != SCR_OK)
                goto out;
            first = 0;
            *empty = 0;
        } else if (tlen > 5 && strncmp(tok, "user=", 5) == 0 && !e->user) {
            /* it becomes ssh's -l argument and is printed: portable user names only */
            if (!host_ok(tok + 5, tlen - 5)) {
                snprintf(err, errlen, "'%.*s' is not a user name", (int)(tlen > 80 ? 80 : tlen),
                         tok);
                rc = SCR_EUSAGE;
                goto out;
            }
            e->user = scr_xstrndup(tok + 5, tlen - 5);
        } else {
            snprintf(err, errlen, "'%.*s': Hydra accepts only host[:N] and user=NAME on a line",
                     (int)(tlen > 80 ? 80 : tlen), tok);
            rc = SCR_EUSAGE;
            goto out;
        }
    }
out:
    return rc;
}

static void entry_release(struct scr_mf_entry *e)
{
    free(e->host);
    free(e->user);
    free(e->text);
    memset(e, 0, sizeof(*e));
}

int scr_machinefile_parse(struct scr_machinefile *mf, const char *text, size_t len,
                          char *err, size_t errlen)
{
    const char *p = text, *end = text + len;
    int line = 0, rc = SCR_OK;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t llen = nl ? (size_t)(nl - p) : (size_t)(end - p);
        struct scr_mf_entry e = {0};
        char why[256];
        int empty = 1;

        line++;
        if (memchr(p, '\0', llen)) {
            snprintf(err, errlen, "line %d: binary data (NUL byte)", line);
            rc = SCR_EUSAGE;
            goto out;
        }
        rc = parse_line(&e, p, llen, &empty, why, sizeof(why));
        if (rc != SCR_OK) {
            entry_release(&e);
            snprintf(err, errlen, "line %d: %s", line, why);
            goto out;
        }
        if (!empty) {
            const char *t = p, *hash = memchr(p, '#', llen);
            size_t tlen = hash ? (size_t)(hash - p) : llen;
            while (tlen > 0 && isspace((unsigned char)*t)) {
                t++;
                tlen--;
            }
            while (tlen > 0 && isspace((unsigned char)t[tlen - 1]))
                tlen--;
            e.text = scr_xstrndup(t, tlen);
            e.line = line;
            SCR_GROW(mf->v, mf->cap, mf->n + 1, 8);
            mf->v[mf->n++] = e;
        }
        p = nl ? nl + 1 : end;
    }
out:
    return rc;
}

int scr_machinefile_load(struct scr_machinefile *mf, const char *path, char *err,
                         size_t errlen)
{
    char why[512];
    size_t len = 0;
    char *text = scr_file_read(path, MF_MAX_BYTES, 0, &len, why, sizeof(why));
    int rc = SCR_OK;

    if (!text) {
        snprintf(err, errlen, "%s", why);
        rc = SCR_EUSAGE;
        goto out;
    }
    rc = scr_machinefile_parse(mf, text, len, why, sizeof(why));
    if (rc != SCR_OK) {
        snprintf(err, errlen, "%s: %s", path, why);
        goto out;
    }
    if (mf->n == 0) {
        snprintf(err, errlen, "%s: no hosts", path);
        rc = SCR_EUSAGE;
    }
out:
    free(text);
    return rc;
}

void scr_machinefile_release(struct scr_machinefile *mf)
{
    for (size_t i = 0; i < mf->n; i++)
        entry_release(&mf->v[i]);
    free(mf->v);
    memset(mf, 0, sizeof(*mf));
}
