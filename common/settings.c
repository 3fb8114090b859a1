/* settings.c - the settings table and its parsers (see settings.h).
 *
 * Adding a setting: a field in struct scr_settings and a row in `defs` below.  Rows marked
 * wire=1 travel to the workers; their names and meaning are part of the protocol, so a
 * renamed wire setting needs a protocol version bump.  String values are bookkeeping copies:
 * out of memory aborts (common/alloc.h).
 */
#include "common/settings.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/file.h"
#include "common/reqopts.h"
#include "common/suggest.h"
#include "common/version.h"

#define OFF(f) offsetof(struct scr_settings, f)
#define UA_DEFAULT "scrape/" SCR_VERSION " (+https://example.invalid/scrape)"

static const struct scr_setting_def defs[] = {
    {"seed", SCR_SET_STRING, OFF(seed), NULL, 0, 0, 0, 0, "seed file: one URL per line, # comments (also after a URL: URL  # note)"},
    {"db", SCR_SET_STRING, OFF(db), NULL, 0, 0, 0, 1,
     "PostgreSQL conninfo or URI (else --db-file, $SCRAPE_DB, libpq defaults); read on rank 0 "
     "only. Under mpiexec every node sees the command line: keep the password out of it "
     "(--db-file, --db service=NAME with ~/.pg_service.conf, or ~/.pgpass)"},
    {"db-file", SCR_SET_STRING, OFF(db_file), NULL, 0, 0, 0, 0,
     "file holding the conninfo (lines joined, # comments), read on rank 0 only; refused "
     "unless mode 600 or stricter"},
    {"job", SCR_SET_STRING, OFF(job), "default", 0, 0, 0, 0, "job name: each job has its own frontier"},
    {"max-depth", SCR_SET_INT, OFF(max_depth), "3", 0, 1000, 0, 0, "follow links up to this depth"},
    {"max-pages", SCR_SET_INT64, OFF(max_pages), "0", 0, INT64_MAX, 0, 0,
     "stop queueing new URLs (pages and sitemaps) once the job has this many (0 = no limit)"},
    {"allow-domain", SCR_SET_STRING, OFF(allow_domain), NULL, 0, 0, 0, 0,
     "comma list: follow links on these domains and their subdomains (instead of the seed "
     "hosts)"},
    {"deny-domain", SCR_SET_STRING, OFF(deny_domain), NULL, 0, 0, 0, 0,
     "comma list: never follow links on these domains or their subdomains (wins over "
     "--allow-domain)"},
    {"allow-private", SCR_SET_BOOL, OFF(allow_private), "false", 0, 1, 0, 0,
     "also fetch URLs of other hosts than the seeds' on loopback, private, link-local and "
     "other non-public addresses (for crawls of your own network)"},
    {"include", SCR_SET_STRING, OFF(include), NULL, 0, 0, 0, 0,
     "PCRE2 regex: follow only links whose normalized URL matches"},
    {"exclude", SCR_SET_STRING, OFF(exclude), NULL, 0, 0, 0, 0,
     "PCRE2 regex: never follow links whose normalized URL matches (wins over --include)"},
    {"max-query-variants", SCR_SET_INT, OFF(max_query_variants), "100", 0, 1000000, 0, 0,
     "distinct query strings followed per host and path in one run (0 = no limit)"},
    {"max-pages-per-host", SCR_SET_INT64, OFF(max_pages_per_host), "0", 0, INT64_MAX, 0, 0,
     "stop queueing new URLs on a host once the job has this many there (0 = no limit)"},
    {"strip-tracking", SCR_SET_BOOL, OFF(strip_tracking), "false", 0, 1, 1, 0,
     "drop utm_* and --strip-param parameters"},
    {"strip-param", SCR_SET_STRING, OFF(strip_param), NULL, 0, 0, 1, 0,
     "comma list: more query parameters --strip-tracking drops (e.g. fbclid,gclid)"},
    {"sort-query", SCR_SET_BOOL, OFF(sort_query), "false", 0, 1, 1, 0,
     "sort query parameters by name, so reordered queries are one URL"},
    {"max-url-length", SCR_SET_INT, OFF(max_url_length), "2048", 64, 65536, 1, 0,
     "longest normalized URL kept; longer links are dropped"},
    {"concurrency", SCR_SET_INT, OFF(concurrency), "16", 1, 1024, 1, 0,
     "transfers in flight per worker"},
    {"max-body", SCR_SET_SIZE, OFF(max_body), "8M", 1024, INT64_C(1) << 32, 1, 0,
     "largest decoded body kept, bytes (K, M, G suffixes)"},
    {"connect-timeout", SCR_SET_DURATION, OFF(connect_timeout_ms), "10s", 1, 3600000, 1, 0,
     "TCP/TLS connect timeout"},
    {"timeout", SCR_SET_DURATION, OFF(timeout_ms), "30s", 1, 3600000, 1, 0,
     "whole-transfer timeout"},
    {"max-redirects", SCR_SET_INT, OFF(max_redirects), "5", 0, 50, 1, 0, "redirects followed"},
    {"user-agent", SCR_SET_STRING, OFF(user_agent), UA_DEFAULT, 0, 0, 1, 0, "User-Agent header"},
    {"insecure", SCR_SET_BOOL, OFF(insecure), "false", 0, 1, 1, 0,
     "do not verify TLS certificates (recorded on the run)"},
    {"proxy", SCR_SET_STRING, OFF(proxy), NULL, 0, 0, 1, 0,
     "fetch through this proxy: http://, https://, socks5:// or socks5h://HOST:PORT, without "
     "credentials (recorded on the run); http_proxy and the other *_proxy variables are "
     "always ignored"},
    {"no-proxy", SCR_SET_STRING, OFF(no_proxy), NULL, 0, 0, 1, 0,
     "comma list of hosts (and their subdomains) fetched directly despite --proxy; * = all"},
    {"proxy-user-file", SCR_SET_STRING, OFF(proxy_user_file), NULL, 0, 0, 0, 0,
     "file holding the proxy's user:password on its first line (read on rank 0, sent to the "
     "workers, never stored)"},
    {"proxy-user", SCR_SET_STRING, OFF(proxy_user), NULL, 0, 0, 1, 1,
     "set from --proxy-user-file only, never on the command line or in --config"},
    {"header", SCR_SET_LIST, OFF(header), NULL, 0, 0, 1, 1,
     "'Name: value' added to every request (pages, robots.txt, sitemaps); repeatable. Values "
     "are secret: sent to the workers, never printed or stored; under mpiexec give a secret "
     "one in a --config file (header = Name: value), as every node sees the command line. "
     "Host, User-Agent "
     "(--user-agent), Cookie (--cookie-file), Accept-Encoding, If-None-Match, "
     "If-Modified-Since, Content-Length, Transfer-Encoding and Connection are refused"},
    {"cookie-file", SCR_SET_STRING, OFF(cookie_file), NULL, 0, 0, 0, 0,
     "Netscape cookie file (as curl -c writes it; mode 600), read on rank 0: its cookies go "
     "with the requests to their own domains, and cookies the sites set are kept for the "
     "rest of the run by each worker; never stored"},
    {"cookies", SCR_SET_STRING, OFF(cookies), NULL, 0, 0, 1, 1,
     "set from --cookie-file only, never on the command line or in --config"},
    {"netrc-file", SCR_SET_STRING, OFF(netrc_file), NULL, 0, 0, 0, 0,
     "netrc file (machine, login, password, default; mode 600), read on rank 0: HTTP "
     "authentication (Basic or Digest) for the hosts it names, never sent to other hosts "
     "and never stored"},
    {"credentials", SCR_SET_STRING, OFF(credentials), NULL, 0, 0, 1, 1,
     "set from --netrc-file only, never on the command line or in --config"},
    {"parsers", SCR_SET_STRING, OFF(parsers), NULL, 0, 0, 1, 0,
     "comma-separated parsers to run (default links,meta)"},
    {"content-types", SCR_SET_STRING, OFF(content_types), "text/html,application/xhtml+xml", 0,
     0, 1, 0, "media types that are parsed; others are recorded, not parsed"},
    {"rules", SCR_SET_STRING, OFF(rules), NULL, 0, 0, 0, 0,
     "extraction rules file (read on rank 0, sent to the workers)"},
    {"text-max", SCR_SET_SIZE, OFF(text_max), "1M", 1, INT64_C(1) << 30, 1, 0,
     "cap on the text parser's output"},
    {"max-links", SCR_SET_INT, OFF(max_links), "10000", 0, INT_MAX, 1, 0,
     "cap on links taken from one page (0 = no cap)"},
    {"parse-timeout", SCR_SET_DURATION, OFF(parse_timeout_ms), "10s", 0, 3600000, 1, 0,
     "CPU time for parsing one page and running its parsers and rules; past it the page "
     "fails with the reason in its fetch row, and is not retried (0 = no limit)"},
    {"parse-memory", SCR_SET_SIZE, OFF(parse_memory), "256M", 0, INT64_C(1) << 40, 1, 0,
     "memory libxml2 may hold for one page (document, XPath results); past it the page "
     "fails like --parse-timeout (0 = no limit)"},
    {"parse-threads", SCR_SET_INT, OFF(parse_threads), "1", 1, 64, 1, 0,
     "threads per worker that parse pages, beside the loop that fetches and keeps in touch "
     "with rank 0"},
    {"delay", SCR_SET_DURATION, OFF(delay_ms), "1s", 0, 3600000, 0, 0,
     "minimum time between request starts on one host, cluster-wide"},
    {"host-concurrency", SCR_SET_INT, OFF(host_concurrency), "1", 1, 1024, 0, 0,
     "requests in flight per host, cluster-wide"},
    {"max-attempts", SCR_SET_INT, OFF(max_attempts), "3", 1, 100, 0, 0,
     "fetch attempts per URL for transient failures"},
    {"host-down-runs", SCR_SET_INT, OFF(host_down_runs), "3", 0, 1000, 0, 0,
     "a host whose robots.txt gets no answer in this many runs (and --host-down-after) has "
     "its queued URLs failed (0 = never: they wait)"},
    {"host-down-after", SCR_SET_DURATION, OFF(host_down_after_ms), "1h", 0,
     INT64_C(31536000000), 0, 0,
     "... and only once this long has passed since its first such run"},
    {"max-crawl-delay", SCR_SET_DURATION, OFF(max_crawl_delay_ms), "30s", 0, 3600000, 0, 0,
     "robots.txt Crawl-delay is honoured up to this"},
    {"robots-ttl", SCR_SET_DURATION, OFF(robots_ttl_ms), "24h", 0, INT64_C(31536000000), 0, 0,
     "how long a fetched robots.txt stays valid"},
    {"max-retry-wait", SCR_SET_DURATION, OFF(max_retry_wait_ms), "5m", 0, INT64_C(86400000), 0,
     0, "a run waits for retries due within this; later ones are left to the next run"},
    {"sitemaps", SCR_SET_BOOL, OFF(sitemaps), "false", 0, 1, 0, 0,
     "queue URLs from robots.txt Sitemap lines and /sitemap.xml of the seed hosts (sitemap "
     "indexes are followed 3 levels deep)"},
    {"max-sitemaps-per-host", SCR_SET_INT, OFF(max_sitemaps_per_host), "50", 0, 1000000, 0, 0,
     "sitemaps of one host fetched in one run; the rest wait for later runs (0 = no limit)"},
    {"ignore-robots", SCR_SET_BOOL, OFF(ignore_robots), "false", 0, 1, 0, 0,
     "do not fetch or obey robots.txt (only for your own sites)"},
    {"if-idle", SCR_SET_BOOL, OFF(if_idle), "false", 0, 1, 0, 0,
     "exit at once (code 4) when another run of the same job is active"},
    {"island", SCR_SET_STRING, OFF(island), NULL, 0, 0, 0, 0,
     "name of this run's island, when several mpiexec jobs crawl one job together (stored "
     "on the run; default: rank 0's host name)"},
    {"recrawl-after", SCR_SET_DURATION, OFF(recrawl_after_ms), "0", 0, INT64_C(3153600000000),
     0, 0, "queue again pages fetched longer ago than this (e.g. 12h, 7d; 0 = never)"},
    {"warc-dir", SCR_SET_STRING, OFF(warc_dir), NULL, 0, 0, 1, 0,
     "keep every fetched response (request, status line, headers, body) in WARC/1.1 files "
     "(ISO 28500, gzip per record) in this directory on rank 0's node; each fetch row "
     "records its file and offset (fetches.warc_file, warc_offset; docs/warc.md)"},
    {"warc-max-size", SCR_SET_SIZE, OFF(warc_max_size), "1G", 1024 * 1024, INT64_C(1) << 40, 0,
     0, "a WARC file is completed (renamed from .part) and the next one started once it is "
     "this large (K, M, G suffixes)"},
    {"warc-gzip-level", SCR_SET_INT, OFF(warc_gzip_level), "1", 1, 9, 0, 0,
     "gzip level of the WARC records: 1 is fastest (rank 0 compresses every page), 9 "
     "smallest; docs/performance.md has the figures"},
    {"local-workers", SCR_SET_INT, OFF(local_workers), "0", 0, 256, 0, 0,
     "worker threads when run without mpiexec (0 = number of cores)"},
    {"lease-ttl", SCR_SET_DURATION, OFF(lease_ttl_ms), "10m", 1000, INT64_C(86400000), 0, 0,
     "a leased URL returns to the queue if its run stops renewing it this long"},
    {"db-retry", SCR_SET_DURATION, OFF(db_retry_ms), "2m", 0, INT64_C(86400000), 0, 0,
     "keep reconnecting to PostgreSQL this long before giving up"},
    {"heartbeat", SCR_SET_DURATION, OFF(heartbeat_ms), "2s", 100, 600000, 1, 0,
     "keep-alive interval between ranks"},
    {"peer-timeout", SCR_SET_DURATION, OFF(peer_timeout_ms), "60s", 1000, 86400000, 1, 0,
     "a rank silent this long is declared lost"},
    {"progress-interval", SCR_SET_DURATION, OFF(progress_interval_ms), "10s", 100, 86400000, 0, 0,
     "time between progress lines on stderr"},
    {"log-level", SCR_SET_STRING, OFF(log_level), "info", 0, 0, 1, 0, "error, warn, info or debug"},
    {"quiet", SCR_SET_BOOL, OFF(quiet), "false", 0, 1, 0, 0, "no progress output"},
};

const struct scr_setting_def *scr_settings_table(size_t *count)
{
    *count = sizeof(defs) / sizeof(defs[0]);
    return defs;
}

const struct scr_setting_def *scr_settings_find(const char *name)
{
    for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
        if (strcmp(defs[i].name, name) == 0)
            return &defs[i];
    return NULL;
}

const char *scr_settings_suggest(const char *name)
{
    const char *names[sizeof(defs) / sizeof(defs[0])];

    for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
        names[i] = defs[i].name;
    return scr_suggest(name, names, sizeof(defs) / sizeof(defs[0]));
}

static int parse_int64(const char *s, int64_t *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s)
        return SCR_EINVAL;
    while (isspace((unsigned char)*end))
        end++;
    if (*end)
        return SCR_EINVAL;
    *out = v;
    return SCR_OK;
}

/* Reads "<number><unit>" where number may have a fraction; returns the number and unit. */
static int split_number(const char *s, double *num, const char **unit)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    if (*s == '-' || *s == '+')
        return SCR_EINVAL;
    errno = 0;
    *num = strtod(s, &end);
    if (errno || end == s || !isfinite(*num) || *num < 0)
        return SCR_EINVAL;
    while (isspace((unsigned char)*end))
        end++;
    *unit = end;
    return SCR_OK;
}

int scr_parse_duration_ms(const char *s, int64_t *out)
{
    static const struct { const char *u; double ms; } units[] = {
        {"ms", 1}, {"s", 1000}, {"m", 60000}, {"min", 60000},
        {"h", 3600000}, {"d", 86400000}, {"w", 604800000},
    };
    double num, v;
    const char *unit;
    char u[8];
    size_t n;

    if (split_number(s, &num, &unit))
        return SCR_EINVAL;
    n = strcspn(unit, " \t");
    if (n >= sizeof(u) || unit[n + strspn(unit + n, " \t")] != '\0')
        return SCR_EINVAL;
    memcpy(u, unit, n);
    u[n] = '\0';
    /* a bare number used to mean seconds, and --delay 500 waited 500 s: only 0 goes
     * without a unit */
    if (n == 0 && num == 0) {
        *out = 0;
        return SCR_OK;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(u, units[i].u) == 0) {
            v = num * units[i].ms;
            if (v > 9.0e15)
                return SCR_EINVAL;
            *out = (int64_t)llround(v);
            return SCR_OK;
        }
    }
    return SCR_EINVAL;
}

int scr_parse_size(const char *s, int64_t *out)
{
    double num, mult = 1;
    const char *unit;

    if (split_number(s, &num, &unit))
        return SCR_EINVAL;
    switch (toupper((unsigned char)*unit)) {
    case '\0': mult = 1; break;
    case 'K': mult = 1024.0; break;
    case 'M': mult = 1024.0 * 1024; break;
    case 'G': mult = 1024.0 * 1024 * 1024; break;
    default: return SCR_EINVAL;
    }
    if (*unit) {
        unit++;
        if (*unit == 'i' || *unit == 'I')
            unit++;
        if (*unit == 'B' || *unit == 'b')
            unit++;
        if (*unit)
            return SCR_EINVAL;
    }
    if (num * mult > 9.0e15)
        return SCR_EINVAL;
    *out = (int64_t)llround(num * mult);
    return SCR_OK;
}

/* Whether s is a number without a unit ("500", " 1.5 "): for the message that asks for one. */
static int bare_number(const char *s)
{
    double num;
    const char *unit;

    return split_number(s, &num, &unit) == SCR_OK && *unit == '\0';
}

static int parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return SCR_OK;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return SCR_OK;
        }
    }
    return SCR_EINVAL;
}

static const char *type_hint(enum scr_setting_type t)
{
    switch (t) {
    case SCR_SET_INT:
    case SCR_SET_INT64: return "a whole number";
    case SCR_SET_SIZE: return "a size such as 512K or 8M";
    case SCR_SET_DURATION: return "a duration such as 500ms, 2s, 12h or 7d";
    case SCR_SET_BOOL: return "true or false";
    case SCR_SET_STRING: return "text";
    case SCR_SET_LIST: return "text";
    }
    return "a value";
}

/* A --proxy URL: one of the schemes libcurl's proxy support takes here, a host, and no
 * user:password (which would be printed, stored on the run and seen in ps). */
static int check_proxy(const char *v, char *err, size_t errlen)
{
    static const char *const schemes[] = {"http://", "https://", "socks5://", "socks5h://"};
    const char *rest = NULL;
    size_t auth;

    for (size_t i = 0; i < sizeof(schemes) / sizeof(*schemes) && !rest; i++)
        if (strncasecmp(v, schemes[i], strlen(schemes[i])) == 0)
            rest = v + strlen(schemes[i]);
    if (!rest) {
        snprintf(err, errlen, "--proxy: '%s' is not an http://, https://, socks5:// or "
                              "socks5h:// URL", v);
        return SCR_EINVAL;
    }
    auth = strcspn(rest, "/?#");
    if (memchr(rest, '@', auth)) {
        snprintf(err, errlen, "--proxy: no credentials in the URL: put user:password in a file "
                              "and give --proxy-user-file FILE");
        return SCR_EINVAL;
    }
    if (auth == 0 || rest[0] == ':') {
        snprintf(err, errlen, "--proxy: '%s' names no host", v);
        return SCR_EINVAL;
    }
    return SCR_OK;
}

int scr_settings_set(struct scr_settings *s, const char *name, const char *value, char *err,
                     size_t errlen)
{
    const struct scr_setting_def *d = scr_settings_find(name);
    char *p = (char *)s;
    int64_t v = 0;
    int b = 0, rc = SCR_OK;

    if (!d) {
        snprintf(err, errlen, "unknown setting '%s'", name);
        return SCR_ENOTFOUND;
    }
    if (d->offset == OFF(proxy) && value && *value && check_proxy(value, err, errlen))
        return SCR_EINVAL;
    switch (d->type) {
    case SCR_SET_LIST: {
        /* each line is an item, checked; "" empties the list (how an empty one travels) */
        char **slot = (char **)(p + d->offset);
        size_t old = *slot ? strlen(*slot) : 0, add = value ? strlen(value) : 0;
        char *joined;
        if (!value || !*value) {
            free(*slot);
            *slot = NULL;
            return SCR_OK;
        }
        for (const char *l = value; *l;) {
            size_t n = strcspn(l, "\n");
            char *item = scr_xstrndup(l, n);
            rc = d->offset == OFF(header) ? scr_reqopts_check_header(item, err, errlen)
                                          : SCR_OK;
            free(item);
            if (rc)
                return SCR_EINVAL;
            l += n + (l[n] == '\n');
        }
        joined = scr_xmalloc(old + add + 2);
        if (old)
            memcpy(joined, *slot, old);
        if (old)
            joined[old++] = '\n';
        memcpy(joined + old, value, add + 1);
        free(*slot);
        *slot = joined;
        return SCR_OK;
    }
    case SCR_SET_STRING: {
        /* "" means unset: that is how an unset string travels to the workers */
        char *copy = value && *value ? scr_xstrdup(value) : NULL;
        free(*(char **)(p + d->offset));
        *(char **)(p + d->offset) = copy;
        return SCR_OK;
    }
    case SCR_SET_BOOL:
        rc = parse_bool(value, &b);
        if (rc == SCR_OK)
            *(int *)(p + d->offset) = b;
        break;
    case SCR_SET_INT:
    case SCR_SET_INT64:
        rc = parse_int64(value, &v);
        break;
    case SCR_SET_SIZE:
        rc = scr_parse_size(value, &v);
        break;
    case SCR_SET_DURATION:
        rc = scr_parse_duration_ms(value, &v);
        break;
    }
    if (rc && d->type == SCR_SET_DURATION && bare_number(value)) {
        snprintf(err, errlen, "--%s %s: give a unit, e.g. %sms or 2s", name, value, value);
        return SCR_EINVAL;
    }
    if (rc) {
        snprintf(err, errlen, "--%s: '%s' is not %s", name, value, type_hint(d->type));
        return SCR_EINVAL;
    }
    if (d->type == SCR_SET_BOOL)
        return SCR_OK;
    if (v < d->min || v > d->max) {
        snprintf(err, errlen, "--%s: %s is out of range (%lld to %lld)", name, value,
                 (long long)d->min, (long long)d->max);
        return SCR_EINVAL;
    }
    if (d->type == SCR_SET_INT)
        *(int *)(p + d->offset) = (int)v;
    else
        *(int64_t *)(p + d->offset) = v;
    return SCR_OK;
}

int scr_settings_init(struct scr_settings *s)
{
    char err[256];

    memset(s, 0, sizeof(*s));
    for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
        if (!defs[i].defval)
            continue;
        if (scr_settings_set(s, defs[i].name, defs[i].defval, err, sizeof(err))) {
            assert(!"a default in the settings table does not parse");
            scr_settings_release(s);
            return SCR_EINVAL;
        }
    }
    return SCR_OK;
}

void scr_settings_release(struct scr_settings *s)
{
    char *p = (char *)s;

    for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
        if (defs[i].type == SCR_SET_STRING || defs[i].type == SCR_SET_LIST) {
            free(*(char **)(p + defs[i].offset));
            *(char **)(p + defs[i].offset) = NULL;
        }
    }
    free(s->given);
    s->given = NULL;
}

int scr_settings_was_given(const struct scr_settings *s, const char *name)
{
    size_t n = strlen(name);

    for (const char *g = s->given; g && *g; g = strchr(g, '\n') + 1)
        if (strncmp(g, name, n) == 0 && g[n] == '\n')
            return 1;
    return 0;
}

void scr_settings_mark_given(struct scr_settings *s, const char *name)
{
    size_t old = s->given ? strlen(s->given) : 0, n = strlen(name);

    if (scr_settings_was_given(s, name))
        return;
    s->given = scr_xreallocarray(s->given, old + n + 2, 1);
    memcpy(s->given + old, name, n);
    s->given[old + n] = '\n';
    s->given[old + n + 1] = '\0';
}

char *scr_settings_format(const struct scr_settings *s, const struct scr_setting_def *d)
{
    const char *p = (const char *)s;
    char buf[32] = "";
    size_t len = sizeof(buf);

    switch (d->type) {
    case SCR_SET_LIST:
    case SCR_SET_STRING: {
        const char *v = *(char *const *)(p + d->offset);
        return scr_xstrdup(v ? v : "");
    }
    case SCR_SET_BOOL:
        snprintf(buf, len, "%s", *(const int *)(p + d->offset) ? "true" : "false");
        break;
    case SCR_SET_INT:
        snprintf(buf, len, "%d", *(const int *)(p + d->offset));
        break;
    case SCR_SET_INT64:
    case SCR_SET_SIZE:
        snprintf(buf, len, "%lld", (long long)*(const int64_t *)(p + d->offset));
        break;
    case SCR_SET_DURATION:
        snprintf(buf, len, "%lldms", (long long)*(const int64_t *)(p + d->offset));
        break;
    }
    return scr_xstrdup(buf);
}

static char *trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

int scr_settings_load_file(struct scr_settings *s, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char *line = NULL, msg[256];
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    int rc = SCR_OK;

    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return SCR_EIO;
    }
    while ((n = getline(&line, &cap, f)) >= 0) {
        char *key, *value, *eq;
        lineno++;
        if (memchr(line, '\0', (size_t)n)) {
            snprintf(err, errlen, "%s:%ld: binary data", path, lineno);
            rc = SCR_EINVAL;
            goto out;
        }
        key = trim(line);
        if (*key == '\0' || *key == '#')
            continue;
        eq = strchr(key, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%ld: expected 'key = value'", path, lineno);
            rc = SCR_EINVAL;
            goto out;
        }
        *eq = '\0';
        value = trim(eq + 1);
        key = trim(key);
        if (strcmp(key, "seed") != 0 && !scr_settings_find(key)) {
            const char *near = scr_settings_suggest(key);
            snprintf(err, errlen, "%s:%ld: unknown setting '%s'%s%s%s", path, lineno, key,
                     near ? " (did you mean " : "", near ? near : "", near ? "?)" : "");
            rc = SCR_EINVAL;
            goto out;
        }
        if (scr_settings_file_only(key)) {
            snprintf(err, errlen, "%s:%ld: %s", path, lineno, scr_settings_file_only(key));
            rc = SCR_EINVAL;
            goto out;
        }
        rc = scr_settings_set(s, key, value, msg, sizeof(msg));
        if (rc) {
            snprintf(err, errlen, "%s:%ld: %s", path, lineno, msg);
            rc = SCR_EINVAL;
            goto out;
        }
        scr_settings_mark_given(s, key);
    }
out:
    free(line);
    fclose(f);
    return rc;
}

int scr_settings_read_proxy_user(struct scr_settings *s, char *err, size_t errlen)
{
    char *text, msg[256];
    size_t n;
    int rc;

    if (!s->proxy_user_file)
        return SCR_OK;
    if (!(text = scr_file_read(s->proxy_user_file, 4096, SCR_FILE_TEXT, NULL, err, errlen)))
        return SCR_EINVAL;
    n = strcspn(text, "\r\n");
    text[n] = '\0';
    if (!strchr(text, ':') || text[0] == ':') {
        snprintf(err, errlen, "%s: the first line must be user:password", s->proxy_user_file);
        rc = SCR_EINVAL;
    } else {
        rc = scr_settings_set(s, "proxy-user", text, msg, sizeof(msg));
        if (rc)
            snprintf(err, errlen, "%s: %s", s->proxy_user_file, msg);
    }
    memset(text, 0, n);
    free(text);
    return rc;
}

const char *scr_settings_file_only(const char *name)
{
    if (strcmp(name, "proxy-user") == 0)
        return SCR_PROXY_USER_REFUSED;
    if (strcmp(name, "cookies") == 0)
        return "cookies are not taken on the command line or in --config: put them in a "
               "Netscape cookie file (mode 0600) and give --cookie-file FILE";
    if (strcmp(name, "credentials") == 0)
        return "credentials are not taken on the command line or in --config: put them in a "
               "netrc file (mode 0600) and give --netrc-file FILE";
    return NULL;
}

/* Wipes and frees a string that held a secret. */
static void wipe_free(char *v)
{
    if (v) {
        memset(v, 0, strlen(v));
        free(v);
    }
}

/* Stores v (may be NULL) as setting field, wiping the old value. */
static void put_secret(char **field, char *v)
{
    wipe_free(*field);
    *field = v && *v ? scr_xstrdup(v) : NULL;
}

int scr_settings_read_secrets(struct scr_settings *s, char *err, size_t errlen)
{
    char *text = NULL, *v = NULL, msg[512];
    int rc = SCR_EINVAL;

    if (scr_settings_read_proxy_user(s, msg, sizeof(msg))) {
        snprintf(err, errlen, "--proxy-user-file %s", msg);
        goto out;
    }
    if (s->cookie_file) {
        if (!(text = scr_reqopts_read_private(s->cookie_file, "--cookie-file", err, errlen)))
            goto out;
        if (!(v = scr_reqopts_cookies(text, s->cookie_file, msg, sizeof(msg)))) {
            snprintf(err, errlen, "--cookie-file %s", msg);
            goto out;
        }
        if (!*v) {
            snprintf(err, errlen, "--cookie-file %s: no cookie in it", s->cookie_file);
            goto out;
        }
        put_secret(&s->cookies, v);
        wipe_free(text);
        wipe_free(v);
        text = v = NULL;
    }
    if (s->netrc_file) {
        if (!(text = scr_reqopts_read_private(s->netrc_file, "--netrc-file", err, errlen)))
            goto out;
        if (!(v = scr_reqopts_netrc(text, s->netrc_file, msg, sizeof(msg)))) {
            snprintf(err, errlen, "--netrc-file %s", msg);
            goto out;
        }
        if (!*v) {
            snprintf(err, errlen, "--netrc-file %s: no machine or default entry in it",
                     s->netrc_file);
            goto out;
        }
        put_secret(&s->credentials, v);
    }
    rc = SCR_OK;
out:
    wipe_free(text);
    wipe_free(v);
    return rc;
}
