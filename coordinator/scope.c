/* scope.c - the scope filter for outlinks (see scope.h).
 *
 * Runs on rank 0 for every link of every page, so the per-link work is a few string scans,
 * a hash lookup or two and, when --include/--exclude are given, one JIT-compiled regex match
 * each.  The settings are parsed once, in scr_scope_init(), by the same functions
 * scr_scope_check() uses, so what the check accepts is exactly what the filter runs.
 *
 * The trap guard's memory is two fixed open-addressing tables of 64-bit hashes, allocated on
 * first use and sized so SCR_SCOPE_GUARD_MAX entries keep them under 40% full: a few MB
 * whatever the crawl.  A 64-bit collision (about 1 in 10^9 per run at the limit) can at worst
 * keep one extra variant or miscount one URL.
 */
#include "coordinator/scope.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/url.h"
#include "common/urlopts.h"
#include "coordinator/db.h"

/* 2^18 slots: SCR_SCOPE_GUARD_MAX entries fill 38%. */
#define GUARD_SLOTS ((size_t)1 << 18)
/* Backtracking budget per regex match: a user's pathological pattern against a hostile URL
 * must not stall rank 0.  PCRE2's default is 10,000,000. */
#define MATCH_LIMIT 1000000

/* A map from non-zero 64-bit hashes to counts, fixed capacity, linear probing. */
struct u64map {
    uint64_t *keys; /* 0 = empty slot */
    uint32_t *vals;
    size_t count;
};

struct scr_scope_rules {
    struct scr_strvec allow, deny; /* domain names, lower case, punycode */
    pcre2_code *include, *exclude;
    pcre2_match_data *md;          /* for both regexes; rank 0 is single-threaded */
    pcre2_match_context *mctx;
    size_t max_url_length;
    int max_query_variants;        /* 0 = no limit */
    int64_t max_pages_per_host;    /* 0 = no limit */
    struct scr_strmap host_counts; /* authority -> int64_t * (malloc'd) */
    int guard_off;                 /* the tables could not be allocated */
    struct u64map seen;            /* hash(URL) -> 1: URLs kept by this run */
    struct u64map variants;        /* hash(URL before '?') -> distinct queries kept */
};

/* --- hashing and the fixed maps ---------------------------------------------------------- */

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);

    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= UINT64_C(0x100000001b3);
    }
    /* splitmix64 finalizer: FNV's low bits alone probe badly */
    h ^= h >> 30;
    h *= UINT64_C(0xbf58476d1ce4e5b9);
    h ^= h >> 27;
    h *= UINT64_C(0x94d049bb133111eb);
    h ^= h >> 31;
    return h ? h : 1;
}

static int u64map_alloc(struct u64map *m)
{
    m->keys = scr_xcalloc(GUARD_SLOTS, sizeof(*m->keys));
    m->vals = scr_xcalloc(GUARD_SLOTS, sizeof(*m->vals));
    m->count = 0;
    return SCR_OK;
}

static void u64map_free(struct u64map *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof(*m));
}

static void u64map_clear(struct u64map *m)
{
    memset(m->keys, 0, GUARD_SLOTS * sizeof(*m->keys));
    m->count = 0;
}

/* Returns the slot of key, or of the empty slot where it would go. */
static size_t u64map_slot(const struct u64map *m, uint64_t key)
{
    size_t i = (size_t)key & (GUARD_SLOTS - 1);

    while (m->keys[i] && m->keys[i] != key)
        i = (i + 1) & (GUARD_SLOTS - 1);
    return i;
}

/* Returns the value of key, 0 when absent. */
static uint32_t u64map_get(const struct u64map *m, uint64_t key)
{
    size_t i = u64map_slot(m, key);

    return m->keys[i] ? m->vals[i] : 0;
}

/* Adds one to the value of key (inserting it at 1).  The caller keeps count far below
 * GUARD_SLOTS. */
static void u64map_incr(struct u64map *m, uint64_t key)
{
    size_t i = u64map_slot(m, key);

    if (!m->keys[i]) {
        m->keys[i] = key;
        m->vals[i] = 0;
        m->count++;
    }
    if (m->vals[i] < UINT32_MAX)
        m->vals[i]++;
}

/* --- parsing the settings ---------------------------------------------------------------- */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Splits a comma list of domains into out, each normalized as a URL host is (lower case,
 * punycode), so it compares with the hosts of normalized URLs by plain string equality.  A
 * leading '.' is accepted and dropped (".example.com" = "example.com"). */
static int parse_domains(const char *opt, const char *list, struct scr_strvec *out, char *err,
                         size_t errlen)
{
    const char *p = list;
    char url[600], why[200], *norm = NULL, *host = NULL;
    int rc;

    for (;;) {
        const char *end = p + strcspn(p, ","), *a = p, *b = end;
        int n;

        while (a < b && is_space(*a))
            a++;
        while (b > a && is_space(b[-1]))
            b--;
        if (a < b && *a == '.')
            a++;
        if (a == b) {
            snprintf(err, errlen, "--%s: empty domain name in '%s'", opt, list);
            return SCR_EINVAL;
        }
        n = (int)(b - a);
        if (b - a > 253 || strcspn(a, ":/?#@[]*\\ \t") < (size_t)n) {
            snprintf(err, errlen, "--%s: '%.*s' is not a domain name (no port, path or "
                     "wildcard: a domain already matches its subdomains)", opt, n > 80 ? 80 : n,
                     a);
            return SCR_EINVAL;
        }
        snprintf(url, sizeof(url), "http://%.*s/", n, a);
        if (scr_url_normalize(NULL, url, NULL, &norm, &host, why, sizeof(why)) != SCR_OK) {
            snprintf(err, errlen, "--%s: '%.*s' is not a domain name: %s", opt, n, a, why);
            return SCR_EINVAL;
        }
        free(norm);
        rc = scr_strvec_push_owned(out, host);
        if (rc) {
            snprintf(err, errlen, "--%s: out of memory", opt);
            return rc;
        }
        if (!*end)
            return SCR_OK;
        p = end + 1;
    }
}

/* Compiles one regex option; *out stays NULL when pattern is NULL. */
static int compile_regex(const char *opt, const char *pattern, pcre2_code **out, char *err,
                         size_t errlen)
{
    PCRE2_UCHAR msg[256];
    PCRE2_SIZE off;
    int code;

    *out = NULL;
    if (!pattern)
        return SCR_OK;
    *out = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &code, &off, NULL);
    if (!*out) {
        if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
            snprintf((char *)msg, sizeof(msg), "error %d", code);
        snprintf(err, errlen, "--%s: %s at offset %zu", opt, (const char *)msg, (size_t)off);
        return code == PCRE2_ERROR_NOMEMORY ? SCR_ENOMEM : SCR_EINVAL;
    }
    /* JIT is an optimisation: without it (not built in, no executable memory) the
     * interpreter gives the same answers. */
    (void)pcre2_jit_compile(*out, PCRE2_JIT_COMPLETE);
    return SCR_OK;
}

static void rules_free(struct scr_scope_rules *r)
{
    if (!r)
        return;
    scr_strvec_release(&r->allow);
    scr_strvec_release(&r->deny);
    pcre2_code_free(r->include);
    pcre2_code_free(r->exclude);
    pcre2_match_data_free(r->md);
    pcre2_match_context_free(r->mctx);
    for (size_t i = 0; i < r->host_counts.cap; i++)
        if (r->host_counts.slots[i].key)
            free(r->host_counts.slots[i].value);
    scr_strmap_release(&r->host_counts);
    u64map_free(&r->seen);
    u64map_free(&r->variants);
    free(r);
}

/* Builds the rules from the settings; the one parser behind scr_scope_init() and
 * scr_scope_check().  On success *out is the caller's (rules_free). */
static int rules_new(const struct scr_settings *s, struct scr_scope_rules **out, char *err,
                     size_t errlen)
{
    struct scr_scope_rules *r = scr_xcalloc(1, sizeof(*r));
    int rc = SCR_OK;

    *out = NULL;
    scr_strvec_init(&r->allow);
    scr_strvec_init(&r->deny);
    scr_strmap_init(&r->host_counts);
    r->max_url_length = s->max_url_length > 0 ? (size_t)s->max_url_length : SCR_URL_MAX_LEN;
    r->max_query_variants = s->max_query_variants;
    r->max_pages_per_host = s->max_pages_per_host;
    if (s->allow_domain)
        rc = parse_domains("allow-domain", s->allow_domain, &r->allow, err, errlen);
    if (!rc && s->deny_domain)
        rc = parse_domains("deny-domain", s->deny_domain, &r->deny, err, errlen);
    if (!rc)
        rc = compile_regex("include", s->include, &r->include, err, errlen);
    if (!rc)
        rc = compile_regex("exclude", s->exclude, &r->exclude, err, errlen);
    if (!rc && (r->include || r->exclude)) {
        r->md = pcre2_match_data_create(1, NULL);
        r->mctx = pcre2_match_context_create(NULL);
        if (!r->md || !r->mctx) {
            snprintf(err, errlen, "out of memory");
            rc = SCR_ENOMEM;
        } else {
            pcre2_set_match_limit(r->mctx, MATCH_LIMIT);
        }
    }
    if (rc) {
        rules_free(r);
        return rc;
    }
    *out = r;
    return SCR_OK;
}

int scr_scope_check(const struct scr_settings *s, char *err, size_t errlen)
{
    struct scr_scope_rules *r = NULL;
    struct scr_urlopts uo;
    int rc = rules_new(s, &r, err, errlen);

    rules_free(r);
    if (rc)
        return SCR_EINVAL;
    if (scr_urlopts_init(&uo, s, err, errlen))
        return SCR_EINVAL;
    scr_urlopts_release(&uo);
    return SCR_OK;
}

/* --- set-up ------------------------------------------------------------------------------ */

int scr_scope_init(struct scr_scope *sc, const struct scr_settings *s)
{
    char err[512];
    int rc;

    memset(sc, 0, sizeof(*sc));
    scr_strmap_init(&sc->hosts);
    sc->max_depth = s->max_depth;
    sc->max_pages = s->max_pages;
    rc = rules_new(s, &sc->rules, err, sizeof(err));
    return rc == SCR_ENOMEM ? SCR_ENOMEM : rc ? SCR_EINVAL : SCR_OK;
}

void scr_scope_release(struct scr_scope *sc)
{
    scr_strmap_release(&sc->hosts);
    rules_free(sc->rules);
    sc->rules = NULL;
}

int scr_scope_add_host(struct scr_scope *sc, const char *authority)
{
    return scr_strmap_put(&sc->hosts, authority, sc);
}

int scr_scope_set_host_count(struct scr_scope *sc, const char *authority, int64_t count)
{
    struct scr_scope_rules *r = sc->rules;
    int64_t *v;

    if (!r || r->max_pages_per_host <= 0)
        return SCR_OK;
    v = scr_strmap_get(&r->host_counts, authority);
    if (v) {
        *v = count;
        return SCR_OK;
    }
    v = scr_xmalloc(sizeof(*v));
    *v = count;
    if (scr_strmap_put(&r->host_counts, authority, v)) {
        free(v);
        return SCR_ENOMEM;
    }
    return SCR_OK;
}

int scr_scope_load(struct scr_scope *sc, PGconn *db, int64_t job_id, char *err, size_t errlen)
{
    char job[24];
    const char *p[1] = {job};
    PGresult *r;
    int rc = SCR_OK;

    snprintf(job, sizeof(job), "%lld", (long long)job_id);
    r = scr_db_exec(db, "reading the seed hosts",
                    "SELECT DISTINCT host FROM urls WHERE job_id = $1::bigint AND seed", 1,
                    p, err, errlen);
    if (!r)
        return SCR_EDB;
    for (int i = 0; i < PQntuples(r) && rc == SCR_OK; i++)
        rc = scr_scope_add_host(sc, PQgetvalue(r, i, 0));
    PQclear(r);
    if (rc)
        return rc;
    r = scr_db_exec(db, "counting the job's URLs",
                    "SELECT count(*) FROM urls WHERE job_id = $1::bigint", 1, p, err, errlen);
    if (!r)
        return SCR_EDB;
    sc->known = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    if (!sc->rules || sc->rules->max_pages_per_host <= 0)
        return SCR_OK;
    r = scr_db_exec(db, "counting the job's URLs per host",
                    "SELECT host, count(*) FROM urls WHERE job_id = $1::bigint GROUP BY host", 1,
                    p, err, errlen);
    if (!r)
        return SCR_EDB;
    for (int i = 0; i < PQntuples(r) && rc == SCR_OK; i++)
        rc = scr_scope_set_host_count(sc, PQgetvalue(r, i, 0),
                                      strtoll(PQgetvalue(r, i, 1), NULL, 10));
    PQclear(r);
    if (rc)
        snprintf(err, errlen, "out of memory counting the job's URLs per host");
    return rc;
}

/* --- the decision ------------------------------------------------------------------------ */

int scr_url_authority(const char *url, char *buf, size_t len)
{
    const char *p = strstr(url, "://"), *end, *at;
    size_t n;

    if (!p)
        return SCR_EINVAL;
    p += 3;
    end = p + strcspn(p, "/?#");
    at = memchr(p, '@', (size_t)(end - p));
    if (at)
        p = at + 1;
    n = (size_t)(end - p);
    if (n == 0 || n >= len)
        return SCR_EINVAL;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return SCR_OK;
}

/* Length of the host name in an authority: without ":port"; an IPv6 literal keeps its
 * brackets, as scr_url_normalize() writes hosts. */
static size_t host_name_len(const char *authority)
{
    const char *c;

    if (authority[0] == '[') {
        c = strchr(authority, ']');
        return c ? (size_t)(c - authority) + 1 : strlen(authority);
    }
    c = strchr(authority, ':');
    return c ? (size_t)(c - authority) : strlen(authority);
}

/* Does the host name (n bytes) equal one of the domains or end in ".domain"? */
static int on_domain(const struct scr_strvec *domains, const char *host, size_t n)
{
    for (size_t i = 0; i < domains->n; i++) {
        const char *d = domains->v[i];
        size_t dn = strlen(d);

        if (dn == n && memcmp(host, d, n) == 0)
            return 1;
        if (dn < n && host[n - dn - 1] == '.' && memcmp(host + n - dn, d, dn) == 0)
            return 1;
    }
    return 0;
}

/* Returns 1 on a match, 0 on none, -1 when matching fails (the backtracking limit): the
 * caller then drops the URL, whichever option it is (fail closed). */
static int regex_search(struct scr_scope_rules *r, pcre2_code *re, const char *url, size_t n)
{
    int m = pcre2_match(re, (PCRE2_SPTR)url, n, 0, 0, r->md, r->mctx);

    if (m >= 0)
        return 1;
    return m == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

/* The path-shape half of the trap guard: too many segments, or one repeated too often.
 * Segments are the non-empty pieces between '/' of path (n bytes). */
static int path_is_trap(const char *path, size_t n)
{
    const char *seg[SCR_SCOPE_MAX_SEGMENTS + 1];
    size_t len[SCR_SCOPE_MAX_SEGMENTS + 1], count = 0, i = 0;

    while (i < n) {
        size_t j = i;
        while (j < n && path[j] != '/')
            j++;
        if (j > i) {
            if (count == SCR_SCOPE_MAX_SEGMENTS)
                return 1;
            seg[count] = path + i;
            len[count++] = j - i;
        }
        i = j + 1;
    }
    for (size_t a = 0; a < count; a++) {
        int same = 1;
        for (size_t b = a + 1; b < count; b++)
            if (len[b] == len[a] && memcmp(seg[a], seg[b], len[a]) == 0 &&
                ++same >= SCR_SCOPE_MAX_REPEATS)
                return 1;
    }
    return 0;
}

static int guard_ready(struct scr_scope_rules *r)
{
    if (r->seen.keys)
        return 1;
    if (r->guard_off)
        return 0;
    if (u64map_alloc(&r->seen) || u64map_alloc(&r->variants)) {
        u64map_free(&r->seen);
        u64map_free(&r->variants);
        r->guard_off = 1; /* degrade to no variant cap, rather than fail the crawl */
        return 0;
    }
    return 1;
}

enum scr_scope_reason scr_scope_decide(struct scr_scope *sc, int depth, const char *url,
                                       char *host, size_t len)
{
    struct scr_scope_rules *r = sc->rules;
    const char *rest, *q;
    size_t n, hn;
    uint64_t url_h = 0, path_h = 0;
    int64_t *count = NULL;
    int use_guard;

    if (depth + 1 > sc->max_depth)
        return SCR_SCOPE_TOO_DEEP;
    n = strlen(url);
    if (!r)
        return SCR_SCOPE_OUT_OF_SCOPE; /* a failed init: fail closed */
    if (n > r->max_url_length)
        return SCR_SCOPE_TOO_LONG;
    if ((strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) ||
        strchr(url, '\n') || scr_url_authority(url, host, len) != SCR_OK)
        return SCR_SCOPE_OUT_OF_SCOPE;
    hn = host_name_len(host);
    if (r->deny.n && on_domain(&r->deny, host, hn))
        return SCR_SCOPE_DENIED;
    if (r->allow.n ? !on_domain(&r->allow, host, hn) : !scr_strmap_get(&sc->hosts, host))
        return SCR_SCOPE_OUT_OF_SCOPE;
    if (r->include && regex_search(r, r->include, url, n) <= 0)
        return SCR_SCOPE_EXCLUDED;
    if (r->exclude && regex_search(r, r->exclude, url, n) != 0)
        return SCR_SCOPE_EXCLUDED;
    rest = strstr(url, "://") + 3;
    rest += strcspn(rest, "/?#");
    q = rest + strcspn(rest, "?#");
    if (path_is_trap(rest, (size_t)(q - rest)))
        return SCR_SCOPE_TRAP;

    /* What follows needs memory of this run: a URL kept before passes again, uncounted. */
    use_guard = (r->max_query_variants > 0 || r->max_pages_per_host > 0) && guard_ready(r);
    if (use_guard) {
        url_h = hash_bytes(url, n);
        if (u64map_get(&r->seen, url_h))
            return SCR_SCOPE_KEEP;
        if (*q == '?' && q[1]) {
            path_h = hash_bytes(url, (size_t)(q - url));
            if (r->max_query_variants > 0 &&
                u64map_get(&r->variants, path_h) >= (uint32_t)r->max_query_variants)
                return SCR_SCOPE_TRAP;
        }
    }
    if (r->max_pages_per_host > 0) {
        count = scr_strmap_get(&r->host_counts, host);
        if (count && *count >= r->max_pages_per_host)
            return SCR_SCOPE_HOST_CAP;
        if (!count && scr_scope_set_host_count(sc, host, 0) == SCR_OK)
            count = scr_strmap_get(&r->host_counts, host);
    }
    /* Kept: remember it. */
    if (count)
        (*count)++;
    if (use_guard) {
        if (r->seen.count >= SCR_SCOPE_GUARD_MAX) {
            u64map_clear(&r->seen);
            u64map_clear(&r->variants);
        }
        u64map_incr(&r->seen, url_h);
        if (path_h)
            u64map_incr(&r->variants, path_h);
    }
    return SCR_SCOPE_KEEP;
}

const char *scr_scope_reason_name(enum scr_scope_reason r)
{
    switch (r) {
    case SCR_SCOPE_KEEP: return "kept";
    case SCR_SCOPE_TOO_DEEP: return "too_deep";
    case SCR_SCOPE_TOO_LONG: return "too_long";
    case SCR_SCOPE_OUT_OF_SCOPE: return "out_of_scope";
    case SCR_SCOPE_DENIED: return "denied";
    case SCR_SCOPE_EXCLUDED: return "excluded";
    case SCR_SCOPE_TRAP: return "trap";
    case SCR_SCOPE_HOST_CAP: return "host_cap";
    }
    return "?";
}

int scr_scope_drops_format(const struct scr_scope_drops *d, char *buf, size_t len)
{
    return snprintf(buf, len,
                    "out_of_scope %llu, denied %llu, excluded %llu, too_deep %llu, "
                    "too_long %llu, trap %llu, host_cap %llu",
                    (unsigned long long)d->out_of_scope, (unsigned long long)d->denied,
                    (unsigned long long)d->excluded, (unsigned long long)d->too_deep,
                    (unsigned long long)d->too_long, (unsigned long long)d->trap,
                    (unsigned long long)d->host_cap);
}

static void count_drop(struct scr_scope_drops *d, enum scr_scope_reason r)
{
    switch (r) {
    case SCR_SCOPE_KEEP: break;
    case SCR_SCOPE_TOO_DEEP: d->too_deep++; break;
    case SCR_SCOPE_TOO_LONG: d->too_long++; break;
    case SCR_SCOPE_OUT_OF_SCOPE: d->out_of_scope++; break;
    case SCR_SCOPE_DENIED: d->denied++; break;
    case SCR_SCOPE_EXCLUDED: d->excluded++; break;
    case SCR_SCOPE_TRAP: d->trap++; break;
    case SCR_SCOPE_HOST_CAP: d->host_cap++; break;
    }
}

size_t scr_scope_filter(struct scr_scope *sc, int depth, const struct scr_strvec *in,
                        struct scr_strvec *links, struct scr_strvec *hosts)
{
    char host[512];
    size_t kept = 0;

    for (size_t i = 0; i < in->n; i++) {
        enum scr_scope_reason why = scr_scope_decide(sc, depth, in->v[i], host, sizeof(host));

        if (why != SCR_SCOPE_KEEP) {
            count_drop(&sc->drops, why);
            continue;
        }
        scr_strvec_push(links, in->v[i]);
        scr_strvec_push(hosts, host);
        kept++;
    }
    return kept;
}
