/* wire.h - the messages between rank 0 and the workers, and their byte layout.
 *
 * Portable across CPU architectures and word sizes: every integer is written big-endian with
 * an explicit width, every string as a u32 length then its bytes; no struct is ever sent raw.
 * Messages start with a u8 type.  The decoder checks every length against what is left, so a
 * corrupted or hostile message gives SCR_EPROTO, never a crash.  Layout: docs/protocol.md.
 *
 * Ownership: encoders append to a caller-owned scr_buf; decoders fill a caller-owned struct
 * whose strings they allocate; *_release() frees them (also after a failed decode).
 */
#ifndef SCR_WIRE_H
#define SCR_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/strvec.h"

enum scr_msg_type {
    SCR_MSG_HELLO = 1,     /* worker -> coordinator: who I am */
    SCR_MSG_WELCOME = 2,   /* coordinator -> worker: accepted or refused, settings, rules */
    SCR_MSG_REQUEST = 3,   /* worker -> coordinator: room for N URLs now, M queued */
    SCR_MSG_BATCH = 4,     /* coordinator -> worker: URLs to fetch */
    SCR_MSG_RESULT = 5,    /* worker -> coordinator: one URL's outcome, records, outlinks */
    SCR_MSG_HEARTBEAT = 6, /* either way: still alive */
    SCR_MSG_STOP = 7,      /* coordinator -> worker: finish in-flight work and say goodbye */
    SCR_MSG_BYE = 8,       /* worker -> coordinator: final statistics; nothing follows */
    SCR_MSG_RECALL = 9,    /* coordinator -> worker: give back up to N tasks not yet started */
    SCR_MSG_RETURN = 10,   /* worker -> coordinator: these tasks were given back, unstarted */
    SCR_MSG_PAGES = 11     /* coordinator -> worker: stored pages to parse (scrape reextract) */
};

/* --- primitives ------------------------------------------------------------------------ */

struct scr_wire_reader {
    const uint8_t *p;
    size_t len;
    size_t pos;
    int err; /* sticky: SCR_EPROTO once anything was out of bounds */
};

/* Appends to a caller-owned buffer; the first allocation failure sticks in err, so a message
 * is encoded without a check per field and tested once at the end. */
struct scr_wire_writer {
    struct scr_buf *buf;
    int err;
};

void scr_wire_writer_init(struct scr_wire_writer *w, struct scr_buf *buf);
void scr_wire_put_u8(struct scr_wire_writer *w, uint8_t v);
void scr_wire_put_u32(struct scr_wire_writer *w, uint32_t v);
void scr_wire_put_u64(struct scr_wire_writer *w, uint64_t v);
void scr_wire_put_str(struct scr_wire_writer *w, const char *s); /* NULL is sent as empty */

void scr_wire_reader_init(struct scr_wire_reader *r, const void *p, size_t len);
uint8_t scr_wire_get_u8(struct scr_wire_reader *r);
uint32_t scr_wire_get_u32(struct scr_wire_reader *r);
uint64_t scr_wire_get_u64(struct scr_wire_reader *r);
/* Returns a malloc'd NUL-terminated copy (caller frees); NULL when r->err is set.  Strings
 * holding a NUL byte are refused (SCR_EPROTO): nothing on the wire is binary. */
char *scr_wire_get_str(struct scr_wire_reader *r);
/* Binary bytes (NUL allowed): a u32 length then the bytes.  put_bytes with n 0 (p may be NULL)
 * sends an empty field; get_bytes returns a malloc'd copy with a NUL after its *n bytes (the
 * caller frees), NULL for an empty field or when r->err is set. */
void scr_wire_put_bytes(struct scr_wire_writer *w, const void *p, size_t n);
char *scr_wire_get_bytes(struct scr_wire_reader *r, size_t *n);
/* The same field appended to out (for bodies kept in a buffer); returns r->err. */
int scr_wire_get_bytes_into(struct scr_wire_reader *r, struct scr_buf *out);
/* A u32 count of items of at least min_item bytes each; 0 with SCR_EPROTO in r->err when the
 * bytes left cannot hold that many. */
uint32_t scr_wire_get_count(struct scr_wire_reader *r, size_t min_item);

/* Starts decoding a message of the given type (SCR_EPROTO in r->err if the type byte
 * differs), and finishes it: a message must be consumed exactly, so trailing bytes mean a
 * layout mismatch.  scr_wire_end returns r->err.  Shared by every message family. */
void scr_wire_begin(struct scr_wire_reader *r, const void *p, size_t len, int type);
int scr_wire_end(struct scr_wire_reader *r);

/* Peeks the type byte of an encoded message; 0 when empty. */
int scr_wire_type(const void *p, size_t len);

/* --- messages -------------------------------------------------------------------------- */

struct scr_msg_hello {
    uint32_t protocol;
    char *version, *build_id, *host, *arch, *os;
    char *curl_version, *libxml2_version, *pcre2_version, *mpi_version;
    uint32_t cores;
    uint64_t mem_bytes;
    uint32_t pid;
};

struct scr_msg_welcome {
    uint32_t accepted;        /* 0 = refused: the worker logs reason and exits */
    char *reason;
    struct scr_strvec names;  /* settings marked wire=1, as text */
    struct scr_strvec values;
    char *rules_name;         /* may be "" */
    char *rules_text;         /* may be "" */
    uint32_t not_started;     /* with accepted 0: 1 = the run did not start (rank 0 logged why:
                                 a usage error, the database, --if-idle); the worker exits
                                 quietly.  0 = a real refusal (another build): it logs ERROR */
};

/* What a task asks the worker to do with its URL. */
enum scr_task_kind {
    SCR_TASK_PAGE = 0,    /* fetch without following redirects, parse, extract */
    SCR_TASK_ROBOTS = 1,  /* fetch robots.txt (redirects followed), return the body */
    SCR_TASK_SITEMAP = 2  /* fetch a sitemap (gzip or not), return its <loc> URLs */
};

/* Task flags, decided by the coordinator. */
enum scr_task_flag {
    /* The task's own host may be on any address, private or not (a seed host, or
     * --allow-private).  Without it the worker connects only to public addresses. */
    SCR_TASK_F_ALLOW_PRIVATE = 1u << 0,
    /* --allow-private: every address is allowed, also where the task's redirects lead. */
    SCR_TASK_F_ALLOW_PRIVATE_ALL = 1u << 1
};

/* The curl_code of a RESULT whose fetch the worker refused by policy (a non-public address
 * for a task without SCR_TASK_F_ALLOW_PRIVATE); its error starts with "refused:".  It is
 * libcurl's CURLE_REMOTE_ACCESS_DENIED (9), which an http(s) transfer never gives otherwise,
 * and the coordinator treats it as permanent (coordinator/retry.c). */
#define SCR_RESULT_REFUSED 9

/* The curl_code of a RESULT whose page was fetched (http_status, content_hash and bytes are
 * the response's) but could not be parsed within the worker's page budget (--parse-timeout,
 * --parse-memory); its error says which ("parse took over 10 s of CPU time (in the HTML
 * parser; --parse-timeout)") and it carries no records or links.  It is libcurl's
 * CURLE_OBSOLETE40 (40), which no libcurl returns.  Permanent: the same page exceeds the same
 * budget on every node, so it must never be retried (an older coordinator already treats an
 * unknown non-transient code as failed). */
#define SCR_RESULT_PARSE_LIMIT 40

struct scr_task {
    uint64_t url_id;
    char *url;
    uint32_t kind;            /* enum scr_task_kind */
    uint32_t flags;           /* SCR_TASK_F_* bits */
    uint32_t depth;
    char *etag;               /* for conditional requests; may be "" */
    char *last_modified;
};

struct scr_msg_batch {
    uint32_t count;
    struct scr_task *tasks;
};

struct scr_result {
    uint64_t url_id;
    uint32_t kind;            /* the task's kind */
    int32_t http_status;      /* 0 when no response */
    int32_t curl_code;        /* CURLcode; 0 = transfer ok */
    char *final_url;          /* after redirects, normalized; may be "" */
    char *content_type;
    char *error;              /* "" when none */
    char *etag, *last_modified;
    char *content_hash;       /* hex digest of the body */
    uint64_t bytes;           /* decoded body bytes */
    uint32_t elapsed_ms;      /* transfer start to end */
    uint32_t wait_ms;         /* batch receipt to transfer start */
    uint32_t redirects;
    uint32_t truncated;       /* body hit --max-body */
    uint32_t retry_after_s;   /* Retry-After of a 429/503, seconds (0 = none) */
    char *location;           /* a redirect's target (absolute, as libcurl resolved it) */
    char *body;               /* robots tasks: the body (NUL bytes replaced); else "" */
    struct scr_strvec records; /* compact JSON objects */
    struct scr_strvec links;   /* outlinks (pages: <a href>; sitemaps: <url><loc>) */
    struct scr_strvec sitemaps; /* sitemap tasks: nested <sitemap><loc> URLs */
    char *encoding;           /* parsed pages: what the body was decoded from ("UTF-8",
                               * "windows-1252", ...: parsers/decode.h); else "" */
    char *rules_stats;        /* parsed pages: what each matched rule set did, a JSON array
                               * (parsers/parser.h, scr_emit.rules_stats); else "" or NULL */
    /* --warc-dir only (protocol 6; empty otherwise, and for robots tasks): what rank 0 needs
     * to archive the exchange (coordinator/warc.h).  Binary, may hold NUL bytes; each is
     * NULL when empty, else malloc'd with a NUL after its length. */
    char *http_request;       /* the request line and headers libcurl sent (last request) */
    size_t http_request_len;
    char *http_head;          /* the status line and headers of the last response, as received */
    size_t http_head_len;
    char *payload;            /* the decoded body (at most --max-body bytes; see truncated) */
    size_t payload_len;
};

struct scr_msg_bye {
    uint64_t pages, bytes, errors, records;
    uint64_t busy_ms, idle_ms, cpu_us, max_rss_kb;
};

int scr_msg_hello_encode(struct scr_buf *b, const struct scr_msg_hello *m);
int scr_msg_hello_decode(struct scr_msg_hello *m, const void *p, size_t len);
void scr_msg_hello_release(struct scr_msg_hello *m);

int scr_msg_welcome_encode(struct scr_buf *b, const struct scr_msg_welcome *m);
int scr_msg_welcome_decode(struct scr_msg_welcome *m, const void *p, size_t len);
void scr_msg_welcome_release(struct scr_msg_welcome *m);

/* now: free transfer slots (tasks sent for them start on arrival); later: room in the
 * worker's prefetch queue (only for hosts without a politeness delay). */
int scr_msg_request_encode(struct scr_buf *b, uint32_t now, uint32_t later);
int scr_msg_request_decode(uint32_t *now, uint32_t *later, const void *p, size_t len);

int scr_msg_batch_encode(struct scr_buf *b, const struct scr_task *tasks, uint32_t count);
int scr_msg_batch_decode(struct scr_msg_batch *m, const void *p, size_t len);
void scr_msg_batch_release(struct scr_msg_batch *m);
void scr_task_release(struct scr_task *t);

int scr_result_encode(struct scr_buf *b, const struct scr_result *r);
int scr_result_decode(struct scr_result *r, const void *p, size_t len);
void scr_result_init(struct scr_result *r);
void scr_result_release(struct scr_result *r);

/* HEARTBEAT and STOP carry only their type byte. */
int scr_msg_simple_encode(struct scr_buf *b, enum scr_msg_type type);

int scr_msg_bye_encode(struct scr_buf *b, const struct scr_msg_bye *m);
int scr_msg_bye_decode(struct scr_msg_bye *m, const void *p, size_t len);

/* RECALL: the coordinator asks for up to max tasks back from the worker's prefetch queue
 * (tasks whose transfer has not started), to hand them to a faster worker at the end of the
 * frontier.  The worker always answers with one RETURN, possibly empty. */
int scr_msg_recall_encode(struct scr_buf *b, uint32_t max);
int scr_msg_recall_decode(uint32_t *max, const void *p, size_t len);

/* RETURN: the url_ids of the tasks the worker took out of its queue; it never starts them
 * and sends no RESULT for them. */
struct scr_msg_return {
    uint32_t count;
    uint64_t *ids;            /* malloc'd; NULL when count is 0 */
};

int scr_msg_return_encode(struct scr_buf *b, const uint64_t *ids, uint32_t count);
/* Fills a caller-owned m; the caller frees m->ids with scr_msg_return_release, also after a
 * failed decode. */
int scr_msg_return_decode(struct scr_msg_return *m, const void *p, size_t len);
void scr_msg_return_release(struct scr_msg_return *m);

/* PAGES (scrape reextract): stored pages for the worker to parse as if it had just fetched
 * them; each is answered with one RESULT whose url_id is the page's id.  The worker queues
 * them like tasks and parses them on its parse threads with the settings and rules of
 * WELCOME. */
struct scr_stored_page {
    uint64_t id;              /* the coordinator's handle (the fetch row's id) */
    char *url;                /* the page's URL, normalized: the base of its links */
    char *content_type;       /* the response's Content-Type ("" = none) */
    uint32_t http_status;
    struct scr_buf body;      /* the decoded body */
};

struct scr_msg_pages {
    uint32_t count;
    struct scr_stored_page *pages;
};

int scr_msg_pages_encode(struct scr_buf *b, const struct scr_stored_page *pages, uint32_t count);
/* Fills a caller-owned m; release with scr_msg_pages_release, also after a failed decode. */
int scr_msg_pages_decode(struct scr_msg_pages *m, const void *p, size_t len);
void scr_msg_pages_release(struct scr_msg_pages *m);
void scr_stored_page_release(struct scr_stored_page *pg);

#endif
