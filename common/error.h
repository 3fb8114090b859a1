/* error.h - the project's one error enum.
 *
 * Every function that can fail returns int: 0 (SCR_OK) on success, a negative SCR_E* code on
 * failure.  The list is an X-macro so the enum and scr_strerror() can never drift apart (after
 * libuv's UV_ERRNO_MAP).  SCR_EAGAIN means "not yet", for the non-blocking loops.  Values
 * are never reused: -17 and -20 (EINTR, EEOF) were retired unused.
 */
#ifndef SCR_ERROR_H
#define SCR_ERROR_H

#define SCR_ERRNO_MAP(X)                                          \
    X(OK, 0, "success")                                           \
    X(ENOMEM, -1, "out of memory")                                \
    X(EINVAL, -2, "invalid argument")                             \
    X(EAGAIN, -3, "not ready yet")                                \
    X(EIO, -4, "input/output error")                              \
    X(EDB, -5, "database error")                                  \
    X(EPROTO, -6, "protocol error")                               \
    X(EMPI, -7, "MPI error")                                      \
    X(EFETCH, -8, "fetch error")                                  \
    X(EPARSE, -9, "parse error")                                  \
    X(ETOOBIG, -10, "too large")                                  \
    X(ENOTFOUND, -11, "not found")                                \
    X(EEXIST, -12, "already exists")                              \
    X(EUSAGE, -13, "usage error")                                 \
    X(ESCHEMA, -14, "database schema version mismatch")           \
    X(EVERSION, -15, "version mismatch")                          \
    X(EBUSY, -16, "another run is active")                        \
    X(ELOST, -18, "peer lost")                                    \
    X(EDBCONN, -19, "database unreachable")                       \
    X(ELIMIT, -20, "over the page's budget")                      \
    X(ESTOPPED, -21, "stopped by a signal")

enum scr_error {
#define SCR_ERR_ENUM_(name, value, text) SCR_##name = value,
    SCR_ERRNO_MAP(SCR_ERR_ENUM_)
#undef SCR_ERR_ENUM_
};

/* Returns a static, human-readable string for an SCR_* code (never NULL). */
const char *scr_strerror(int err);

/* Process exit codes, documented in docs/cron.md.  Distinct so cron can tell them apart. */
enum scr_exit {
    SCR_EXIT_OK = 0,          /* the crawl finished and every URL succeeded */
    SCR_EXIT_FAILURE = 1,     /* an internal error */
    SCR_EXIT_USAGE = 2,       /* bad command line, configuration, seeds or rules */
    SCR_EXIT_DB = 3,          /* the database is unreachable or unusable */
    SCR_EXIT_BUSY = 4,        /* --if-idle and another run of the job is active */
    SCR_EXIT_PARTIAL = 5,     /* the crawl finished, some URLs failed */
    SCR_EXIT_INTERRUPTED = 6, /* stopped by SIGINT/SIGTERM; the next run resumes */
    SCR_EXIT_CLUSTER = 7,     /* a worker was lost or runs a different build */
    SCR_EXIT_ISLANDS = 8      /* scrape doctor: every host usable, but not in one MPI job */
};

#endif
