/* fetch.c - the worker's HTTP engine on libcurl's multi interface (see fetch.h).
 *
 * Invariants: a transfer never keeps more than --max-body decoded bytes (the write callback
 * counts what libcurl hands it after Content-Encoding, so a gzip bomb stops at the cap);
 * only http and https are spoken, on the first request and on every redirect; easy handles
 * are reused (curl_easy_reset) so connections and DNS stay warm in the multi's caches.
 *
 * Address guard: libcurl opens every socket through on_opensocket(), which sees the address
 * it is about to connect to (after DNS, for the first request and each redirect) and
 * refuses a non-public one unless the task's flags allow it.  A task flagged
 * SCR_TASK_F_ALLOW_PRIVATE (a seed host) is allowed its own host only: a robots.txt or
 * sitemap that redirects elsewhere is guarded again.  libcurl tries a host's next address
 * after a refused one, so a host with public and private addresses is reached on a public
 * one.
 *
 * Proxies: the *_proxy environment variables are ignored (CURLOPT_PROXY "" and CURLOPT_NOPROXY
 * "" on every handle): mpiexec hands the environment to every rank, and through a proxy the
 * guard would see the proxy's address, not the target's.  With --proxy, a transfer goes
 * either all through the proxy or all direct (--no-proxy, matched here, not by libcurl), so
 * on_opensocket knows which: a direct one is guarded as above; a proxied one may connect to
 * the proxy (the operator named it), and its target is resolved here with getaddrinfo and
 * refused, before anything is handed to the proxy, when any of its addresses is not public
 * (check_target) -- the first URL before the transfer starts, and every redirect a robots or
 * sitemap task would follow in on_header, before libcurl follows it.  The proxy resolves the
 * name again itself, so a name whose answers change between the two lookups is the one case
 * the guard cannot see through a proxy.
 *
 * Request options (common/reqopts.h): --header lines go on every request (pages, robots.txt,
 * sitemaps); with --cookie-file the fetcher's easy handles share one cookie jar (a CURLSH
 * used by this thread only, so no locks), loaded from the cookies setting and kept up to date
 * by the responses' Set-Cookie for the rest of the run; libcurl's cookie engine sends a
 * cookie only to its own domain and path.  With --netrc-file, a transfer to a host that has
 * credentials gets CURLOPT_USERNAME/PASSWORD (Basic or Digest, whichever the server asks
 * for); CURLOPT_UNRESTRICTED_AUTH stays off, so libcurl never sends them on a redirect to
 * another host or port.  HTTP/2 is asked for over TLS (CURL_HTTP_VERSION_2TLS).
 *
 * --warc-dir: the worker also keeps, for rank 0's WARC records, the last response's status
 * line and headers as received (on_header) and the last request's head as sent (on_debug,
 * libcurl's debug callback, which needs CURLOPT_VERBOSE; only then).  Robots tasks keep
 * neither (robots.txt is not archived).
 *
 * Bookkeeping (transfers, finished list, header copies) aborts on out-of-memory
 * (common/alloc.h); only libcurl's own failures (curl_multi_init, curl_easy_init) are
 * returned.  The finished FIFO is finished[headfinished, nfinished), and active counts the
 * transfers on the running list.
 */
#include "worker/fetch.h"

#include <assert.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "common/reqopts.h"
#include "worker/addrguard.h"

struct transfer {
    struct transfer *prev, *next; /* the running list */
    CURL *easy;
    struct curl_slist *headers;
    struct scr_fetch_done *done;
    int64_t max_body;
    char *own_host;          /* "host:port" a SCR_TASK_F_ALLOW_PRIVATE task may reach anywhere */
    char refused[160];       /* the last address refused by on_opensocket(), as a message */
    int via_proxy;           /* this transfer goes through --proxy (all its connections) */
    int follows;             /* libcurl follows its redirects (robots and sitemap tasks) */
    int blocked;             /* proxied, target refused (1) or not resolvable (2): refused
                              * says why; on_opensocket opens nothing */
    int keep_http;           /* --warc-dir: keep the request and response heads (done->http_*) */
};

static int check_target(struct transfer *t, const char *url);

struct scr_fetcher {
    CURLM *multi;
    CURLSH *share;           /* the cookie jar with --cookie-file, else NULL */
    const struct scr_settings *s;
    struct transfer **idle;  /* reusable easy handles */
    size_t nidle, capidle;
    int active;
    struct transfer *running;          /* transfers in the multi handle */
    struct scr_fetch_done **finished; /* FIFO: [headfinished, nfinished) */
    size_t nfinished, capfinished, headfinished;
};

void scr_fetch_done_free(struct scr_fetch_done *d)
{
    if (!d)
        return;
    scr_task_release(&d->task);
    free(d->final_url);
    free(d->content_type);
    free(d->etag);
    free(d->last_modified);
    free(d->location);
    scr_buf_release(&d->body);
    scr_buf_release(&d->http_request);
    scr_buf_release(&d->http_head);
    free(d);
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct transfer *t = userdata;
    size_t n = size * nmemb;

    if ((int64_t)(t->done->body.len + n) > t->max_body) {
        t->done->truncated = 1;
        if (t->done->task.kind == SCR_TASK_ROBOTS) /* keep the first 500 KiB */
            scr_buf_append(&t->done->body, ptr, (size_t)(t->max_body - (int64_t)t->done->body.len));
        return 0; /* CURLE_WRITE_ERROR: stop reading */
    }
    if (scr_buf_append(&t->done->body, ptr, n))
        return 0;
    return n;
}

/* Keeps the value of a header of the last response (a redirect's headers are replaced). */
static void keep_header(char **slot, const char *v, size_t n)
{
    while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
        n--;
    while (n && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    free(*slot);
    *slot = scr_xstrndup(v, n); /* n is bounded by libcurl's header size limit */
}

/* Retry-After is seconds or an HTTP date (RFC 9110 10.2.3); capped at a day. */
static long parse_retry_after(const char *v)
{
    char *end;
    long secs = strtol(v, &end, 10);
    time_t when;

    if (end != v && *end == '\0')
        return secs < 0 ? 0 : secs > 86400 ? 86400 : secs;
    when = curl_getdate(v, NULL);
    if (when < 0)
        return 0;
    secs = (long)(when - time(NULL));
    return secs < 0 ? 0 : secs > 86400 ? 86400 : secs;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    struct transfer *t = userdata;
    size_t n = size * nitems;

    if (t->keep_http) { /* the head as received; a new status line starts it again */
        if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0)
            scr_buf_reset(&t->done->http_head);
        scr_buf_append(&t->done->http_head, buf, n);
    }
    if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
        /* a new response (after a redirect or 100-continue): forget the previous headers */
        free(t->done->etag);
        free(t->done->last_modified);
        t->done->etag = t->done->last_modified = NULL;
    } else if (n > 5 && strncasecmp(buf, "ETag:", 5) == 0) {
        keep_header(&t->done->etag, buf + 5, n - 5);
    } else if (n > 14 && strncasecmp(buf, "Last-Modified:", 14) == 0) {
        keep_header(&t->done->last_modified, buf + 14, n - 14);
    } else if (n > 12 && strncasecmp(buf, "Retry-After:", 12) == 0) {
        char *v = NULL;
        keep_header(&v, buf + 12, n - 12);
        t->done->retry_after_s = parse_retry_after(v);
        free(v);
    } else if (n > 9 && strncasecmp(buf, "Location:", 9) == 0 && t->via_proxy && t->follows) {
        /* a redirect libcurl may follow through the proxy: check its target first */
        char *v = NULL, *base = NULL, *target = NULL;
        long status = 0;
        CURLU *u = curl_url();
        int stop = 0;

        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
        keep_header(&v, buf + 9, n - 9);
        if (u && v && status >= 300 && status < 400 &&
            curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &base) == CURLE_OK && base &&
            curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
            curl_url_set(u, CURLUPART_URL, v, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_URL, &target, 0) == CURLUE_OK)
            stop = check_target(t, target) != 0;
        curl_free(target);
        curl_url_cleanup(u);
        free(v);
        if (stop)
            return 0; /* CURLE_WRITE_ERROR; finish_transfer reports t->refused */
    }
    return n;
}

/* libcurl's CURLOPT_DEBUGFUNCTION (--warc-dir only): keeps the last request's head as sent.
 * A block that follows a complete head (one ending in an empty line) starts a new request. */
static int on_debug(CURL *easy, curl_infotype type, char *data, size_t size, void *userp)
{
    struct transfer *t = userp;
    struct scr_buf *b = &t->done->http_request;

    (void)easy;
    if (type != CURLINFO_HEADER_OUT)
        return 0;
    if (b->len >= 4 && memcmp(b->data + b->len - 4, "\r\n\r\n", 4) == 0)
        scr_buf_reset(b);
    scr_buf_append(b, data, size);
    return 0;
}

/* "host:port" of url (lower case, default port filled in), or NULL; caller frees. */
static char *url_authority(const char *url)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL, *out = NULL;

    if (!u)
        return NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
        size_t n = strlen(host) + strlen(port) + 2;
        out = scr_xmalloc(n);
        snprintf(out, n, "%s:%s", host, port);
    }
    for (char *p = out; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return out;
}

/* url's host (lower case, IPv6 without brackets) and port (default filled in), malloc'd (the
 * caller frees both), or SCR_EINVAL. */
static int url_host_port(const char *url, char **host, char **port)
{
    CURLU *u = curl_url();
    char *h = NULL, *p = NULL;
    int rc = SCR_EINVAL;

    *host = *port = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) == CURLUE_OK) {
        size_t n = strlen(h);
        if (n >= 2 && h[0] == '[' && h[n - 1] == ']')
            *host = strndup(h + 1, n - 2);
        else
            *host = strdup(h);
        *port = strdup(p);
        rc = *host && *port ? SCR_OK : SCR_ENOMEM;
        for (char *c = *host; c && *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
    }
    curl_free(h);
    curl_free(p);
    curl_url_cleanup(u);
    if (rc) {
        free(*host);
        free(*port);
        *host = *port = NULL;
    }
    return rc;
}

/* Is host in the --no-proxy list (comma or space separated; "*" = every host; an entry
 * matches the host itself and its subdomains, a leading dot ignored)? */
static int no_proxy_match(const char *list, const char *host)
{
    size_t hl = strlen(host);

    for (const char *p = list ? list : ""; *p;) {
        size_t n;
        const char *e;
        p += strspn(p, ", \t");
        n = strcspn(p, ", \t");
        e = p;
        p += n;
        if (n == 1 && *e == '*')
            return 1;
        if (n && *e == '.') {
            e++;
            n--;
        }
        if (n && ((hl == n && strncasecmp(host, e, n) == 0) ||
                  (hl > n && host[hl - n - 1] == '.' && strncasecmp(host + hl - n, e, n) == 0)))
            return 1;
    }
    return 0;
}

/* A proxied transfer's target (see the top of this file): 0 when url may be handed to the
 * proxy; 1 when an address of its host is not public and the task may not reach it, 2 when
 * its host does not resolve here, both with the reason in t->refused. */
static int check_target(struct transfer *t, const char *url)
{
    const struct scr_task *task = &t->done->task;
    struct addrinfo hints, *res = NULL;
    char *host = NULL, *port = NULL, *auth;
    int rc = 0, g;

    if (task->flags & SCR_TASK_F_ALLOW_PRIVATE_ALL)
        return 0;
    auth = url_authority(url);
    if ((task->flags & SCR_TASK_F_ALLOW_PRIVATE) && t->own_host && auth &&
        strcmp(auth, t->own_host) == 0) {
        free(auth);
        return 0; /* a seed host */
    }
    free(auth);
    if (url_host_port(url, &host, &port)) {
        snprintf(t->refused, sizeof(t->refused), "refused: no host in %.100s", url);
        return 1;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    g = getaddrinfo(host, port, &hints, &res);
    if (g != 0) {
        snprintf(t->refused, sizeof(t->refused),
                 "cannot resolve %.80s to check its address before using the proxy: %s", host,
                 gai_strerror(g));
        rc = 2;
    }
    for (struct addrinfo *a = res; a && !rc; a = a->ai_next) {
        const char *cls = scr_addr_class(a->ai_addr);
        if (cls) {
            char ip[64];
            scr_addr_format(a->ai_addr, ip, sizeof(ip));
            snprintf(t->refused, sizeof(t->refused),
                     "refused: %s is a %s address (--allow-private to allow)", ip, cls);
            rc = 1;
        }
    }
    if (res)
        freeaddrinfo(res);
    free(host);
    free(port);
    return rc;
}

/* May this transfer connect to a non-public address right now? */
static int private_allowed(struct transfer *t)
{
    const struct scr_task *task = &t->done->task;
    char *now = NULL, *auth;
    int ok;

    if (task->flags & SCR_TASK_F_ALLOW_PRIVATE_ALL)
        return 1;
    if (!(task->flags & SCR_TASK_F_ALLOW_PRIVATE) || !t->own_host)
        return 0;
    if (task->kind == SCR_TASK_PAGE) /* no redirects followed: always the task's own host */
        return 1;
    /* robots and sitemaps follow redirects: EFFECTIVE_URL is the one being connected to */
    if (curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &now) != CURLE_OK || !now)
        return 0;
    auth = url_authority(now);
    ok = auth && strcmp(auth, t->own_host) == 0;
    free(auth);
    return ok;
}

/* libcurl's CURLOPT_OPENSOCKETFUNCTION: the address guard (see the top of this file). */
static curl_socket_t on_opensocket(void *clientp, curlsocktype purpose,
                                   struct curl_sockaddr *address)
{
    struct transfer *t = clientp;
    const char *cls;

    if (purpose != CURLSOCKTYPE_IPCXN || t->blocked)
        return CURL_SOCKET_BAD;
    if (t->via_proxy) /* the proxy's own address; the target was checked (check_target) */
        return socket(address->family, address->socktype, address->protocol);
    cls = scr_addr_class(&address->addr);
    if (cls && !private_allowed(t)) {
        char ip[64];
        scr_addr_format(&address->addr, ip, sizeof(ip));
        snprintf(t->refused, sizeof(t->refused),
                 "refused: %s is a %s address (--allow-private to allow)", ip, cls);
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype, address->protocol);
}

/* The cookie jar: a share handle holding the cookies of the cookies setting, one Netscape
 * line at a time (CURLOPT_COOKIELIST on a scratch handle attached to the share).  SCR_ENOMEM
 * when libcurl cannot allocate; f->share is then left for scr_fetcher_free. */
static int load_cookies(struct scr_fetcher *f)
{
    CURL *e;
    int rc = SCR_OK;

    if (!(f->share = curl_share_init()) ||
        curl_share_setopt(f->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE) != CURLSHE_OK)
        return SCR_ENOMEM;
    if (!(e = curl_easy_init()))
        return SCR_ENOMEM;
    curl_easy_setopt(e, CURLOPT_SHARE, f->share);
    curl_easy_setopt(e, CURLOPT_COOKIEFILE, "");
    for (const char *p = f->s->cookies; *p;) {
        size_t n = strcspn(p, "\n");
        char *line = scr_xstrndup(p, n);
        if (curl_easy_setopt(e, CURLOPT_COOKIELIST, line) != CURLE_OK)
            rc = SCR_ENOMEM;
        memset(line, 0, n);
        free(line);
        p += n + (p[n] == '\n');
    }
    curl_easy_cleanup(e); /* the cookies stay in the share */
    return rc;
}

int scr_fetcher_new(struct scr_fetcher **out, const struct scr_settings *s)
{
    struct scr_fetcher *f = scr_xcalloc(1, sizeof(*f));

    f->multi = curl_multi_init();
    if (!f->multi) { /* libcurl's own allocation */
        free(f);
        return SCR_ENOMEM;
    }
    f->s = s;
    curl_multi_setopt(f->multi, CURLMOPT_MAXCONNECTS, (long)s->concurrency * 2 + 4);
    if (s->cookies && load_cookies(f) != SCR_OK) {
        scr_fetcher_free(f);
        return SCR_ENOMEM;
    }
    *out = f;
    return SCR_OK;
}

static void transfer_free(struct transfer *t)
{
    if (!t)
        return;
    if (t->easy)
        curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    scr_fetch_done_free(t->done);
    free(t->own_host);
    free(t);
}

void scr_fetcher_free(struct scr_fetcher *f)
{
    if (!f)
        return;
    /* Transfers still running belong to an abandoned run. */
    while (f->running) {
        struct transfer *t = f->running;
        f->running = t->next;
        curl_multi_remove_handle(f->multi, t->easy);
        transfer_free(t);
    }
    for (size_t i = 0; i < f->nidle; i++)
        transfer_free(f->idle[i]);
    for (size_t i = f->headfinished; i < f->nfinished; i++)
        scr_fetch_done_free(f->finished[i]);
    free(f->idle);
    free(f->finished);
    curl_multi_cleanup(f->multi);
    if (f->share)
        curl_share_cleanup(f->share);
    free(f);
}

/* --netrc-file: the credentials of the task's host, if it has any (see the top of this
 * file).  libcurl copies the strings. */
static void set_credentials(const struct scr_settings *s, struct transfer *t)
{
    char *host = NULL, *port = NULL, *login = NULL, *password = NULL;

    if (!s->credentials || url_host_port(t->done->task.url, &host, &port) != SCR_OK)
        goto out;
    if (scr_reqopts_credentials(s->credentials, host, &login, &password) == SCR_OK) {
        curl_easy_setopt(t->easy, CURLOPT_USERNAME, login);
        curl_easy_setopt(t->easy, CURLOPT_PASSWORD, password);
        curl_easy_setopt(t->easy, CURLOPT_HTTPAUTH, (long)(CURLAUTH_BASIC | CURLAUTH_DIGEST));
        curl_easy_setopt(t->easy, CURLOPT_UNRESTRICTED_AUTH, 0L);
    }
out:
    if (login)
        memset(login, 0, strlen(login));
    if (password)
        memset(password, 0, strlen(password));
    free(login);
    free(password);
    free(host);
    free(port);
}

static int setup_easy(struct scr_fetcher *f, struct transfer *t)
{
    const struct scr_settings *s = f->s;
    CURL *e = t->easy;
    struct scr_task *task = &t->done->task;

    curl_easy_setopt(e, CURLOPT_URL, task->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)t);
    free(t->own_host);
    t->own_host = task->flags & SCR_TASK_F_ALLOW_PRIVATE ? url_authority(task->url) : NULL;
    t->refused[0] = '\0';
    t->via_proxy = 0;
    if (s->proxy) {
        char *host = NULL, *port = NULL;
        t->via_proxy = url_host_port(task->url, &host, &port) == SCR_OK &&
                       !no_proxy_match(s->no_proxy, host);
        free(host);
        free(port);
    }
    /* "" turns off the *_proxy environment variables; NOPROXY "" keeps no_proxy from making
     * libcurl go direct where we think it goes through the proxy */
    curl_easy_setopt(e, CURLOPT_PROXY, t->via_proxy ? s->proxy : "");
    curl_easy_setopt(e, CURLOPT_NOPROXY, "");
    if (t->via_proxy && s->proxy_user)
        curl_easy_setopt(e, CURLOPT_PROXYUSERPWD, s->proxy_user);
    t->blocked = t->via_proxy ? check_target(t, task->url) : 0;
    if (t->blocked) /* a new connection, so on_opensocket is asked and refuses it */
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_opensocket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    /* --warc-dir: the heads go to rank 0 (robots.txt is not archived: docs/warc.md); the
     * request as sent is only seen through the debug callback, which needs VERBOSE */
    t->keep_http = s->warc_dir && task->kind != SCR_TASK_ROBOTS;
    if (t->keep_http) {
        curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);
        curl_easy_setopt(e, CURLOPT_DEBUGDATA, t);
        curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
    }
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->done->error);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* every encoding this libcurl has */
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    if (f->share) {
        curl_easy_setopt(e, CURLOPT_SHARE, f->share);
        curl_easy_setopt(e, CURLOPT_COOKIEFILE, ""); /* the cookie engine, on the shared jar */
    }
    set_credentials(s, t);
    t->follows = task->kind != SCR_TASK_PAGE && s->max_redirects > 0;
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, t->follows ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)s->max_redirects);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)s->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
    curl_easy_setopt(e, CURLOPT_USERAGENT, s->user_agent);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, s->insecure ? 0L : 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, s->insecure ? 0L : 2L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    if (task->kind != SCR_TASK_ROBOTS)
        curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->max_body);
    curl_slist_free_all(t->headers);
    t->headers = NULL;
    if (task->etag && *task->etag) {
        char h[1024];
        snprintf(h, sizeof(h), "If-None-Match: %s", task->etag);
        t->headers = curl_slist_append(t->headers, h);
    }
    if (task->last_modified && *task->last_modified) {
        char h[256];
        snprintf(h, sizeof(h), "If-Modified-Since: %s", task->last_modified);
        t->headers = curl_slist_append(t->headers, h);
    }
    for (const char *p = s->header ? s->header : ""; *p;) {
        /* "Name: value"; an empty value is sent as "Name;" (libcurl's way) */
        size_t n = strcspn(p, "\n"), colon = strcspn(p, ":");
        char *h = scr_xstrndup(p, n);
        if (colon < n && h[colon + 1 + strspn(h + colon + 1, " \t")] == '\0') {
            h[colon] = ';';
            h[colon + 1] = '\0';
        }
        t->headers = curl_slist_append(t->headers, h);
        free(h);
        p += n + (p[n] == '\n');
    }
    if (t->headers)
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    return SCR_OK;
}

int scr_fetcher_add(struct scr_fetcher *f, struct scr_task *task, int64_t queued_us)
{
    struct transfer *t = NULL;
    int rc = SCR_OK;

    if (f->nidle) {
        t = f->idle[--f->nidle];
        curl_easy_reset(t->easy);
    } else {
        t = scr_xcalloc(1, sizeof(*t));
        if (!(t->easy = curl_easy_init())) { /* libcurl's own allocation */
            rc = SCR_ENOMEM;
            goto out;
        }
    }
    t->done = scr_xcalloc(1, sizeof(*t->done));
    scr_buf_init(&t->done->body);
    scr_buf_init(&t->done->http_request);
    scr_buf_init(&t->done->http_head);
    t->done->task = *task;
    memset(task, 0, sizeof(*task));
    t->done->queued_us = queued_us;
    t->done->start_us = scr_now_us();
    t->max_body = t->done->task.kind == SCR_TASK_ROBOTS ? SCR_ROBOTS_BODY_MAX : f->s->max_body;
    setup_easy(f, t);
    if (curl_multi_add_handle(f->multi, t->easy) != CURLM_OK) {
        rc = SCR_EFETCH;
        goto out;
    }
    f->active++;
    t->prev = NULL;
    t->next = f->running;
    if (f->running)
        f->running->prev = t;
    f->running = t;
    t = NULL;
out:
    if (t) {
        if (t->done)
            *task = t->done->task, memset(&t->done->task, 0, sizeof(t->done->task));
        transfer_free(t);
    }
    return rc;
}

int scr_fetcher_active(const struct scr_fetcher *f)
{
    return f->active;
}

CURLM *scr_fetcher_multi(struct scr_fetcher *f)
{
    return f->multi;
}

/* Appends d to the finished FIFO, taking ownership of it. */
static void push_finished(struct scr_fetcher *f, struct scr_fetch_done *d)
{
    assert(f->headfinished <= f->nfinished && f->nfinished <= f->capfinished);
    if (f->headfinished > 0 && f->nfinished == f->capfinished) {
        memmove(f->finished, f->finished + f->headfinished,
                (f->nfinished - f->headfinished) * sizeof(*f->finished));
        f->nfinished -= f->headfinished;
        f->headfinished = 0;
    }
    SCR_GROW(f->finished, f->capfinished, f->nfinished + 1, 32);
    f->finished[f->nfinished++] = d;
}

static void finish_transfer(struct scr_fetcher *f, CURL *easy, CURLcode code)
{
    struct transfer *t = NULL;
    struct scr_fetch_done *d;
    char *s = NULL;
    long status = 0, redirects = 0;

    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
    curl_multi_remove_handle(f->multi, easy);
    assert(f->active > 0);
    f->active--;
    if (t->prev)
        t->prev->next = t->next;
    else
        f->running = t->next;
    if (t->next)
        t->next->prev = t->prev;
    t->prev = t->next = NULL;
    d = t->done;
    d->end_us = scr_now_us();
    d->code = code;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(easy, CURLINFO_REDIRECT_COUNT, &redirects);
    d->status = status;
    d->redirects = redirects;
    if (curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &s) == CURLE_OK && s)
        d->final_url = scr_xstrdup(s);
    s = NULL;
    if (curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &s) == CURLE_OK && s)
        d->content_type = scr_xstrdup(s);
    s = NULL;
    if (status >= 300 && status < 400 &&
        curl_easy_getinfo(easy, CURLINFO_REDIRECT_URL, &s) == CURLE_OK && s)
        d->location = scr_xstrdup(s);
    if (code == CURLE_FILESIZE_EXCEEDED)
        d->truncated = 1;
    if (t->blocked == 2) {
        /* a proxied target that does not resolve here: as a DNS failure (retried) */
        d->code = code = CURLE_COULDNT_RESOLVE_HOST;
        snprintf(d->error, sizeof(d->error), "%s", t->refused);
    } else if ((code == CURLE_COULDNT_CONNECT || code == CURLE_WRITE_ERROR ||
                code == CURLE_COULDNT_RESOLVE_PROXY) &&
               t->refused[0]) {
        /* the guard refused an address (or a redirect's target) and no other one could be
         * reached */
        d->refused = 1;
        snprintf(d->error, sizeof(d->error), "%s", t->refused);
    }
    if (code != CURLE_OK && !d->error[0])
        snprintf(d->error, sizeof(d->error), "%s", curl_easy_strerror(code));
    if (d->truncated && d->task.kind == SCR_TASK_ROBOTS) {
        d->code = CURLE_OK; /* a long robots.txt is read up to the cap */
        d->error[0] = '\0';
    } else if (d->truncated) {
        snprintf(d->error, sizeof(d->error), "body larger than --max-body (%lld bytes)",
                 (long long)f->s->max_body);
    }
    t->done = NULL;
    push_finished(f, d);
    curl_slist_free_all(t->headers);
    t->headers = NULL;
    SCR_GROW(f->idle, f->capidle, f->nidle + 1, 16);
    f->idle[f->nidle++] = t;
}

int scr_fetcher_perform(struct scr_fetcher *f)
{
    int running = 0, left = 0;
    CURLMsg *msg;

    if (curl_multi_perform(f->multi, &running) != CURLM_OK)
        return SCR_EFETCH;
    while ((msg = curl_multi_info_read(f->multi, &left)) != NULL) {
        if (msg->msg == CURLMSG_DONE)
            finish_transfer(f, msg->easy_handle, msg->data.result);
    }
    return SCR_OK;
}

struct scr_fetch_done *scr_fetcher_next(struct scr_fetcher *f)
{
    assert(f->headfinished <= f->nfinished);
    if (f->headfinished == f->nfinished) {
        f->headfinished = f->nfinished = 0;
        return NULL;
    }
    return f->finished[f->headfinished++];
}
