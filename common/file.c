/* file.c - scr_file_read(), and scr_file_create/commit/discard for output files (see file.h). */
#include "common/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"

char *scr_file_read(const char *path, size_t max, int flags, size_t *len, char *err,
                    size_t errlen)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    struct scr_buf b;
    char chunk[65536], *out = NULL;
    size_t n;

    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    scr_buf_init(&b);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (max && b.len + n > max) {
            if (!(flags & SCR_FILE_CUT)) {
                snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
                goto out;
            }
            n = max - b.len;
        }
        if (scr_buf_append(&b, chunk, n)) {
            snprintf(err, errlen, "%s: too large to hold in memory", path);
            goto out;
        }
        if (max && b.len >= max)
            break;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        goto out;
    }
    if ((flags & SCR_FILE_TEXT) && b.len && memchr(b.data, '\0', b.len)) {
        const char *nul = memchr(b.data, '\0', b.len);
        size_t line = 1;
        for (const char *p = b.data; p < nul; p++)
            line += *p == '\n';
        snprintf(err, errlen, "%s:%zu: binary data (NUL byte)", path, line);
        goto out;
    }
    out = scr_buf_detach(&b, len);
out:
    scr_buf_release(&b);
    if (f != stdin)
        fclose(f);
    return out;
}

FILE *scr_file_create(const char *path, char **tmp, char *err, size_t errlen)
{
    size_t n = strlen(path) + sizeof(".part-XXXXXX");
    char *name = scr_xmalloc(n);
    FILE *f = NULL;
    int fd;

    snprintf(name, n, "%s.part-XXXXXX", path);
    if ((fd = mkstemp(name)) < 0) {
        snprintf(err, errlen, "%s: %s", name, strerror(errno));
        free(name);
        return NULL;
    }
    if (!(f = fdopen(fd, "w"))) {
        snprintf(err, errlen, "%s: %s", name, strerror(errno));
        close(fd);
        unlink(name);
        free(name);
        return NULL;
    }
    *tmp = name;
    return f;
}

int scr_file_commit(FILE *f, const char *tmp, const char *path, char *err, size_t errlen)
{
    int failed = ferror(f), closed = fclose(f);

    if (failed || closed != 0) {
        snprintf(err, errlen, "%s: %s", tmp, failed ? "write error" : strerror(errno));
        unlink(tmp);
        return SCR_EIO;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        unlink(tmp);
        return SCR_EIO;
    }
    return SCR_OK;
}

void scr_file_discard(FILE *f, const char *tmp)
{
    if (f)
        fclose(f);
    if (tmp)
        unlink(tmp);
}
