/* settings.h - every run-time setting, in one table.
 *
 * The command line (--name value), the config file (name = value) and the wire (rank 0 sends
 * the settings to the workers as name/value pairs) all go through scr_settings_set(), so a
 * setting is parsed and checked in exactly one place.  Each field has one row in the table in
 * settings.c: its name, type, default, whether it travels to the workers, and its help text.
 */
#ifndef SCR_SETTINGS_H
#define SCR_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

struct scr_settings {
    /* what to crawl */
    char *seed;             /* seed file path (rank 0 only) */
    char *db;               /* libpq conninfo; never logged */
    char *db_file;          /* --db-file: the conninfo's file, read into db on rank 0 */
    char *job;              /* job name */
    int max_depth;
    int64_t max_pages;      /* 0 = unlimited */
    /* scope (coordinator; see coordinator/scope.h) */
    char *allow_domain;     /* comma list: crawl these domains instead of the seed hosts */
    char *deny_domain;      /* comma list: never crawl these domains */
    int allow_private;      /* non-seed hosts may be on non-public addresses (worker/addrguard.h) */
    char *include;          /* PCRE2: a link must match (when set) */
    char *exclude;          /* PCRE2: a link must not match */
    int max_query_variants; /* distinct query strings per host+path per run; 0 = no limit */
    int64_t max_pages_per_host; /* 0 = unlimited */
    /* URL normalization (workers and coordinator; see common/urlopts.h) */
    int strip_tracking;     /* drop utm_* and strip_param parameters */
    char *strip_param;      /* comma list of query parameter names */
    int sort_query;
    int max_url_length;
    /* fetching (workers) */
    int concurrency;        /* transfers in flight per worker */
    int64_t max_body;       /* decoded body cap, bytes */
    int64_t connect_timeout_ms;
    int64_t timeout_ms;
    int max_redirects;
    char *user_agent;
    int insecure;           /* skip TLS verification */
    char *proxy;            /* http, https, socks5 or socks5h URL, no credentials; NULL = none
                             * (the *_proxy environment variables are always ignored) */
    char *no_proxy;         /* comma list of hosts fetched directly despite proxy */
    char *proxy_user_file;  /* rank 0 reads "user:password" from it into proxy_user */
    char *proxy_user;       /* secret: sent to the workers, never printed or stored */
    char *header;           /* --header lines "Name: value", '\n'-joined (a list); secret */
    char *cookie_file;      /* rank 0 reads the Netscape cookie file into cookies */
    char *cookies;          /* secret: the cookie lines (common/reqopts.h) */
    char *netrc_file;       /* rank 0 reads the netrc file into credentials */
    char *credentials;      /* secret: per-host login and password (common/reqopts.h) */
    /* extraction (workers) */
    char *parsers;          /* comma list, NULL = default */
    char *content_types;    /* media types that are parsed (comma list) */
    char *rules;            /* rules file path (rank 0 reads it) */
    int64_t text_max;
    int max_links;
    int64_t parse_timeout_ms; /* CPU time for parsing one page and running its parsers */
    int64_t parse_memory;   /* bytes libxml2 may hold for one page */
    int parse_threads;      /* threads per worker that parse pages (worker/parsepool.h) */
    /* politeness (coordinator) */
    int64_t delay_ms;
    int host_concurrency;
    int max_attempts;
    int host_down_runs;         /* runs a host may be unreachable before its URLs fail */
    int64_t host_down_after_ms; /* ... and the least time since the first of them */
    int64_t max_crawl_delay_ms;
    int64_t robots_ttl_ms;
    int64_t max_retry_wait_ms; /* a run waits this long for retries; later ones are the next run's */
    int sitemaps;           /* queue sitemaps from robots.txt and /sitemap.xml */
    int max_sitemaps_per_host; /* sitemaps of one host fetched per run; 0 = no limit */
    int ignore_robots;
    int if_idle;            /* exit SCR_EXIT_BUSY when another run of the job is alive */
    char *island;           /* label of this run's island (runs.island); NULL = host name */
    int64_t recrawl_after_ms; /* requeue pages fetched longer ago (0 = never) */
    /* archiving (coordinator/warc.h) */
    char *warc_dir;         /* keep every response in WARC files here (rank 0); NULL = off.
                             * Sent to the workers, which only test it: set = send what a
                             * record needs (request, response head, body) in each RESULT */
    int64_t warc_max_size;  /* a WARC file is closed and the next one started past this */
    int warc_gzip_level;    /* zlib level of the WARC records (1 fastest .. 9 smallest) */
    /* machinery */
    int local_workers;      /* worker threads when run without mpiexec; 0 = cores */
    int64_t lease_ttl_ms;
    int64_t db_retry_ms;    /* how long to keep reconnecting to PostgreSQL */
    int64_t heartbeat_ms;
    int64_t peer_timeout_ms;
    int64_t progress_interval_ms;
    char *log_level;
    int quiet;
    /* not a setting: the names given on the command line or in --config, each followed by
     * '\n' (scr_settings_mark_given), so that a job's stored settings (coordinator/jobs.h)
     * apply only to the others; NULL = none */
    char *given;
};

enum scr_setting_type {
    SCR_SET_INT,      /* int */
    SCR_SET_INT64,    /* int64_t count */
    SCR_SET_SIZE,     /* int64_t bytes: 512, 64K, 10M, 1G */
    SCR_SET_DURATION, /* int64_t milliseconds: 250ms, 2s, 1.5s, 5m, 12h, 7d; a bare
                       * number is refused, but for 0 */
    SCR_SET_STRING,   /* char *, owned */
    SCR_SET_BOOL,     /* int 0/1: true/false/yes/no/1/0/on/off */
    SCR_SET_LIST      /* char *, owned: items joined with '\n'; setting a value appends its
                       * lines (each checked), "" empties the list; given more than once */
};

struct scr_setting_def {
    const char *name;
    enum scr_setting_type type;
    size_t offset;
    const char *defval;   /* NULL = unset (NULL string / 0) */
    int64_t min, max;     /* bounds for numbers */
    int wire;             /* sent to the workers */
    int secret;           /* never printed or stored */
    const char *help;
};

/* Fills s with the defaults.  The caller owns s and calls scr_settings_release().  Returns
 * SCR_OK (SCR_EINVAL only if a default in the table failed to parse: a bug, asserted). */
int scr_settings_init(struct scr_settings *s);
void scr_settings_release(struct scr_settings *s);

/* Sets one setting from text.  Returns SCR_ENOTFOUND for an unknown name and SCR_EINVAL for
 * a bad value, with the reason in err ("--concurrency: must be between 1 and 1024"); s is
 * unchanged on failure. */
int scr_settings_set(struct scr_settings *s, const char *name, const char *value, char *err,
                     size_t errlen);

/* Notes that the setting name was given explicitly (command line, --config file); once per
 * name.  scr_settings_was_given() asks. */
void scr_settings_mark_given(struct scr_settings *s, const char *name);
int scr_settings_was_given(const struct scr_settings *s, const char *name);

/* The table, for --help, the config file, the wire and the run's row. */
const struct scr_setting_def *scr_settings_table(size_t *count);
const struct scr_setting_def *scr_settings_find(const char *name);
/* The setting name nearest to a mistyped one (common/suggest.h: max_depth, max-dept and
 * mxa-depth all find max-depth), or NULL.  Points into the table. */
const char *scr_settings_suggest(const char *name);

/* The current value of one setting as text that scr_settings_set() reads back ("" when unset),
 * whole, however long (a --strip-param list may be kilobytes): malloc'd, the caller frees.
 * Never NULL (aborts when out of memory, common/alloc.h). */
char *scr_settings_format(const struct scr_settings *s, const struct scr_setting_def *d);

/* Reads "key = value" lines ('#' comments, blank lines) from path; keys are the long option
 * names.  Errors name "path:LINE: ...".  Values already set on the command line win: the
 * caller applies the file first, then the command line. */
int scr_settings_load_file(struct scr_settings *s, const char *path, char *err, size_t errlen);

/* Why a setting that only a file may give (proxy-user, cookies, credentials) is refused on
 * the command line or in a --config file; NULL for every other setting. */
const char *scr_settings_file_only(const char *name);

/* Why --proxy-user is refused on the command line and in --config files. */
#define SCR_PROXY_USER_REFUSED                                                                 \
    "proxy credentials are not taken on the command line or in --config: put user:password "  \
    "in a file (mode 0600) and give --proxy-user-file FILE"

/* Rank 0, before the run: reads the first line of --proxy-user-file ("user:password") into
 * proxy_user, which travels to the workers in WELCOME and is never printed or stored.
 * Nothing to do without the file.  SCR_EINVAL with the reason, naming the file, in err. */
int scr_settings_read_proxy_user(struct scr_settings *s, char *err, size_t errlen);

/* Rank 0, before the run: scr_settings_read_proxy_user(), then --cookie-file into cookies
 * and --netrc-file into credentials (common/reqopts.h: both files must be mode 600 or
 * stricter).  SCR_EINVAL with the reason, naming the option and the file, in err. */
int scr_settings_read_secrets(struct scr_settings *s, char *err, size_t errlen);

/* Parsers for the typed values, shared with the CLI. */
int scr_parse_duration_ms(const char *s, int64_t *out);
int scr_parse_size(const char *s, int64_t *out);

#endif
