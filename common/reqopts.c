/* reqopts.c - checks and encodings for --header, --cookie-file and --netrc-file (see
 * reqopts.h).
 *
 * Invariants: nothing here prints or logs a value it was given (a header value, a cookie, a
 * password): messages name the file, the line and the header's name only.  Buffers that held
 * secrets are wiped before they are freed.  Bookkeeping allocations abort on out-of-memory
 * (common/alloc.h).
 */
#include "common/reqopts.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"

static int is_tchar(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

int scr_reqopts_check_header(const char *h, char *err, size_t errlen)
{
    static const struct { const char *name, *why; } refused[] = {
        {"Host", "the crawler sets it from each URL"},
        {"User-Agent", "use --user-agent"},
        {"Cookie", "use --cookie-file, whose cookies go only to their own domains"},
        {"Accept-Encoding", "the crawler asks for every encoding it decodes"},
        {"If-None-Match", "the crawler sends it for pages it has an ETag of"},
        {"If-Modified-Since", "the crawler sends it for pages it has a date of"},
        {"Content-Length", "the crawler sends no request bodies"},
        {"Transfer-Encoding", "the crawler sends no request bodies"},
        {"Connection", "libcurl manages connections"},
    };
    size_t n = 0;

    while (is_tchar((unsigned char)h[n]))
        n++;
    if (n == 0 || h[n] != ':') {
        snprintf(err, errlen, "--header: expected 'Name: value' with a name of letters, digits "
                              "and !#$%%&'*+-.^_`|~");
        return SCR_EINVAL;
    }
    if (strpbrk(h, "\r\n")) {
        snprintf(err, errlen, "--header %.*s: no line breaks in a header", (int)n, h);
        return SCR_EINVAL;
    }
    for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
        if (strlen(refused[i].name) == n && strncasecmp(h, refused[i].name, n) == 0) {
            snprintf(err, errlen, "--header %s: not taken (%s)", refused[i].name,
                     refused[i].why);
            return SCR_EINVAL;
        }
    }
    return SCR_OK;
}

char *scr_reqopts_read_private(const char *path, const char *option, char *err, size_t errlen)
{
    struct scr_buf raw;
    struct stat st;
    char chunk[4096], *out = NULL;
    ssize_t n;
    int fd;

    scr_buf_init(&raw);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK); /* a FIFO must not block */
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s %s: %s", option, path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s %s: not a regular file", option, path);
        goto out;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        /* like ssh with a private key: secrets others can read are refused, not used */
        snprintf(err, errlen,
                 "%s %s: group or others may access it (mode %04o); it may hold secrets: "
                 "chmod 600 %s",
                 option, path, (unsigned)(st.st_mode & 07777), path);
        goto out;
    }
    while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "%s %s: %s", option, path, strerror(errno));
            goto out;
        }
        if (raw.len + (size_t)n > SCR_REQOPTS_FILE_MAX) {
            snprintf(err, errlen, "%s %s: larger than %d bytes", option, path,
                     SCR_REQOPTS_FILE_MAX);
            goto out;
        }
        scr_buf_append(&raw, chunk, (size_t)n);
    }
    if (raw.len && memchr(raw.data, '\0', raw.len)) {
        snprintf(err, errlen, "%s %s: binary data (NUL byte)", option, path);
        goto out;
    }
    scr_buf_putc(&raw, '\0');
    out = raw.data;
    raw.data = NULL;
    raw.len = raw.cap = 0;
out:
    if (fd >= 0)
        close(fd);
    if (raw.data)
        memset(raw.data, 0, raw.cap);
    scr_buf_release(&raw);
    memset(chunk, 0, sizeof(chunk));
    return out;
}

char *scr_reqopts_cookies(const char *text, const char *path, char *err, size_t errlen)
{
    struct scr_buf b;
    long lineno = 0;
    char *out = NULL;

    scr_buf_init(&b);
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n"), tabs = 0;
        const char *line = p;
        p += n + (p[n] == '\n');
        lineno++;
        if (n && line[n - 1] == '\r')
            n--;
        if (strspn(line, " \t") >= n)
            continue;
        if (line[0] == '#' && strncmp(line, "#HttpOnly_", 10) != 0)
            continue;
        for (size_t i = 0; i < n; i++)
            tabs += line[i] == '\t';
        if (tabs != 6) {
            snprintf(err, errlen,
                     "%s:%ld: not a Netscape cookie line (7 fields separated by tabs: domain, "
                     "subdomains, path, secure, expiry, name, value)",
                     path, lineno);
            goto out;
        }
        if (b.len)
            scr_buf_putc(&b, '\n');
        scr_buf_append(&b, line, n);
    }
    scr_buf_putc(&b, '\0');
    out = b.data;
    b.data = NULL;
    b.len = b.cap = 0;
out:
    if (b.data)
        memset(b.data, 0, b.cap);
    scr_buf_release(&b);
    return out;
}

/* The next netrc token of *p (whitespace separated; "..." with \ escapes; '#' starts a
 * comment, as curl reads it), malloc'd, or NULL at the end.  *line counts the newlines passed. */
static char *next_token(const char **p, long *line)
{
    const char *s = *p;
    struct scr_buf b;

    for (;;) {
        if (*s == '#') /* a comment runs to the end of the line */
            s += strcspn(s, "\n");
        else if (*s == '\n')
            (*line)++, s++;
        else if (*s && isspace((unsigned char)*s))
            s++;
        else
            break;
    }
    if (!*s) {
        *p = s;
        return NULL;
    }
    scr_buf_init(&b);
    if (*s == '"') {
        for (s++; *s && *s != '"'; s++) {
            char c = *s;
            if (c == '\\' && s[1]) {
                c = *++s;
                c = c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : c;
            }
            if (c == '\n')
                (*line)++;
            scr_buf_putc(&b, c);
        }
        if (*s == '"')
            s++;
    } else {
        while (*s && !isspace((unsigned char)*s))
            scr_buf_putc(&b, *s++);
    }
    scr_buf_putc(&b, '\0');
    *p = s;
    return b.data;
}

static void put_encoded(struct scr_buf *b, const char *v, int lower)
{
    for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
        if (*c <= 0x20 || *c == '%' || *c == '*' || *c == 0x7f) {
            char hex[4];
            snprintf(hex, sizeof(hex), "%%%02X", *c);
            scr_buf_append(b, hex, 3);
        } else {
            scr_buf_putc(b, lower ? (char)tolower(*c) : (char)*c);
        }
    }
}

static void wipe_free(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

struct entry {
    char *host; /* NULL = default */
    char *login, *password;
    long line;
    int used;
};

/* Appends a finished entry to the wire text unless its host already has one; checks it. */
static int flush_entry(struct entry *e, struct scr_buf *b, struct scr_buf *seen,
                       const char *path, char *err, size_t errlen)
{
    int rc = SCR_OK;
    char key[1024];

    if (!e->used)
        return SCR_OK;
    if (!e->login || !e->password) {
        snprintf(err, errlen, "%s:%ld: the entry for %.200s has no %s", path, e->line,
                 e->host ? e->host : "default", e->login ? "password" : "login");
        rc = SCR_EINVAL;
        goto out;
    }
    snprintf(key, sizeof(key), "\n%s\n", e->host ? e->host : "*");
    for (char *c = key; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    scr_buf_putc(seen, '\0');
    seen->len--;
    if (strstr(seen->data, key) == NULL) { /* the first entry for a host wins */
        scr_buf_append(seen, key + 1, strlen(key + 1)); /* seen starts with '\n' */
        if (b->len)
            scr_buf_putc(b, '\n');
        if (e->host)
            put_encoded(b, e->host, 1);
        else
            scr_buf_putc(b, '*');
        scr_buf_putc(b, ' ');
        put_encoded(b, e->login, 0);
        scr_buf_putc(b, ' ');
        put_encoded(b, e->password, 0);
    }
out:
    free(e->host);
    wipe_free(e->login);
    wipe_free(e->password);
    memset(e, 0, sizeof(*e));
    return rc;
}

char *scr_reqopts_netrc(const char *text, const char *path, char *err, size_t errlen)
{
    struct scr_buf b, seen;
    struct entry e;
    const char *p = text;
    char *tok, *out = NULL;
    long line = 1;
    int rc = SCR_OK;

    memset(&e, 0, sizeof(e));
    scr_buf_init(&b);
    scr_buf_init(&seen);
    scr_buf_putc(&seen, '\n');
    while (rc == SCR_OK && (tok = next_token(&p, &line)) != NULL) {
        if (strcmp(tok, "machine") == 0 || strcmp(tok, "default") == 0) {
            int is_default = tok[0] == 'd';
            rc = flush_entry(&e, &b, &seen, path, err, errlen);
            e.used = 1;
            e.line = line;
            if (rc == SCR_OK && !is_default && !(e.host = next_token(&p, &line))) {
                snprintf(err, errlen, "%s:%ld: 'machine' without a host name", path, line);
                rc = SCR_EINVAL;
            }
        } else if (strcmp(tok, "login") == 0 || strcmp(tok, "password") == 0 ||
                   strcmp(tok, "account") == 0) {
            char **slot = tok[0] == 'l' ? &e.login : tok[0] == 'p' ? &e.password : NULL;
            char *v = next_token(&p, &line);
            if (!e.used || !v) {
                snprintf(err, errlen, "%s:%ld: '%s' %s", path, line, tok,
                         !v ? "without a value" : "before any 'machine' or 'default'");
                rc = SCR_EINVAL;
            } else if (slot && !*slot) {
                *slot = v;
                v = NULL;
            }
            wipe_free(v);
        } else if (strcmp(tok, "macdef") == 0) {
            /* a macro runs to the next blank line: skip it */
            const char *end = strstr(p, "\n\n");
            for (const char *c = p; c < (end ? end : p + strlen(p)); c++)
                line += *c == '\n';
            p = end ? end : p + strlen(p);
        } else {
            snprintf(err, errlen, "%s:%ld: unknown netrc keyword (machine, default, login, "
                                  "password, account or macdef expected)", path, line);
            rc = SCR_EINVAL;
        }
        wipe_free(tok);
    }
    if (rc == SCR_OK)
        rc = flush_entry(&e, &b, &seen, path, err, errlen);
    else
        flush_entry(&e, &b, &seen, path, err, 0);
    if (rc == SCR_OK) {
        scr_buf_putc(&b, '\0');
        out = b.data;
        b.data = NULL;
        b.len = b.cap = 0;
    }
    if (b.data)
        memset(b.data, 0, b.cap);
    scr_buf_release(&b);
    scr_buf_release(&seen);
    return out;
}

/* Decodes n bytes of a percent-encoded field; NULL when malformed. */
static char *decode_field(const char *s, size_t n)
{
    char *out = scr_xmalloc(n + 1), *o = out;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            unsigned v;
            if (i + 2 >= n) {
                free(out);
                return NULL;
            }
            if (!isxdigit((unsigned char)s[i + 1]) || !isxdigit((unsigned char)s[i + 2]) ||
                sscanf(s + i + 1, "%2x", &v) != 1 || v == 0) {
                free(out);
                return NULL;
            }
            *o++ = (char)v;
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

int scr_reqopts_credentials(const char *wire, const char *host, char **login, char **password)
{
    struct scr_buf want;
    int rc = SCR_ENOTFOUND;

    *login = *password = NULL;
    scr_buf_init(&want);
    put_encoded(&want, host, 1);
    scr_buf_putc(&want, '\0');
    for (int pass = 0; pass < 2 && rc == SCR_ENOTFOUND; pass++) {
        for (const char *p = wire ? wire : ""; *p;) {
            size_t n = strcspn(p, "\n");
            const char *line = p, *sp1, *sp2;
            p += n + (p[n] == '\n');
            sp1 = memchr(line, ' ', n);
            sp2 = sp1 ? memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - line)) : NULL;
            if (!sp2) {
                rc = SCR_EINVAL;
                break;
            }
            if (pass == 0 && !((size_t)(sp1 - line) == strlen(want.data) &&
                               strncasecmp(line, want.data, (size_t)(sp1 - line)) == 0))
                continue;
            if (pass == 1 && !(sp1 - line == 1 && line[0] == '*'))
                continue;
            *login = decode_field(sp1 + 1, (size_t)(sp2 - sp1 - 1));
            *password = decode_field(sp2 + 1, (size_t)(line + n - sp2 - 1));
            rc = *login && *password ? SCR_OK : SCR_EINVAL;
            break;
        }
    }
    if (rc != SCR_OK) {
        wipe_free(*login);
        wipe_free(*password);
        *login = *password = NULL;
    }
    scr_buf_release(&want);
    return rc;
}
