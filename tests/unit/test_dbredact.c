/* test_dbredact.c - coordinator/db.h: no password in any message about a conninfo.
 *
 * scr_db_redact on keyword strings and URIs (quoted values, escapes, spaces around '=',
 * sslpassword, a URI query, a password with '@' or ':'), scr_db_has_password, and
 * scr_db_connect on malformed conninfos whose libpq messages quote the conninfo (a URI is
 * quoted whole): the error never holds the password, and a malformed conninfo fails at once
 * (no retry) with SCR_EDBCONN.  No server is needed: the well-formed case points at a socket
 * directory that does not exist.
 */
#include <time.h>

#include "common/error.h"
#include "coordinator/db.h"
#include "test.h"

#define ASSERT_NO_SECRET(text)                                                    \
    do {                                                                          \
        const char *t_ = (text);                                                  \
        if (strstr(t_, "hunter2") || strstr(t_, "nter2") || strstr(t_, "s3cr"))   \
            TEST_FAIL_("a password in \"%s\"", t_);                               \
    } while (0)

static const char *red(const char *in)
{
    static char out[512];
    scr_db_redact(in, out, sizeof(out));
    return out;
}

TEST(redact)
{
    ASSERT_STR_EQ(red("host=db password=hunter2 user=c"), "host=db password=*** user=c");
    ASSERT_STR_EQ(red("password = hunter2"), "password = ***");
    ASSERT_STR_EQ(red("password='hun ter\\'2' host=x"), "password=*** host=x");
    ASSERT_STR_EQ(red("password='unterminated"), "password=***");
    ASSERT_STR_EQ(red("sslpassword=s3cret dbname=x"), "sslpassword=*** dbname=x");
    ASSERT_STR_EQ(red("postgresql://crawler:hunter2@db.lan:5432/crawl"),
                  "postgresql://crawler:***@db.lan:5432/crawl");
    ASSERT_STR_EQ(red("postgres://u:hu@nter2@h/d?sslmode=require"),
                  "postgres://u:***@h/d?sslmode=require");
    ASSERT_STR_EQ(red("postgresql://h/d?user=u&password=hunter2&sslmode=disable"),
                  "postgresql://h/d?user=u&password=***&sslmode=disable");
    ASSERT_STR_EQ(red("unexpected spaces found in \"postgresql://u:hunter2@h /d\""),
                  "unexpected spaces found in \"postgresql://u:***@h /d\"");
    /* nothing to hide */
    ASSERT_STR_EQ(red("postgresql://crawler@[::1]:5432/crawl"),
                  "postgresql://crawler@[::1]:5432/crawl");
    ASSERT_STR_EQ(red("host=/tmp dbname=crawl"), "host=/tmp dbname=crawl");
    ASSERT_STR_EQ(red("invalid connection option \"password\""),
                  "invalid connection option \"password\"");
    ASSERT_STR_EQ(red(""), "");

    ASSERT_EQ(scr_db_has_password("host=x password=y"), 1);
    ASSERT_EQ(scr_db_has_password("postgresql://a:b@h/d"), 1);
    ASSERT_EQ(scr_db_has_password("postgresql://a@h/d"), 0);
    ASSERT_EQ(scr_db_has_password("service=crawl"), 0);
    ASSERT_EQ(scr_db_has_password(NULL), 0);
}

TEST(connect_messages)
{
    static const char *const bad[] = {
        "password=hunter2 host",
        "password=hunter2 bogus=1",
        "host=x password='hunter2",
        "postgresql://crawler:hunter2@db.lan/crawl?bogus=1",
        "postgresql://crawler:hunter2@[::1/crawl",
        "postgresql://crawler:hunter2@db.lan/crawl?password=hunter2&x",
    };
    char err[512];
    PGconn *db = NULL;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        err[0] = '\0';
        ASSERT_EQ(scr_db_connect(&db, bad[i], 60000, err, sizeof(err)), SCR_EUSAGE);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        fprintf(stderr, "   %s\n", err);
        ASSERT(err[0] != '\0');
        ASSERT_NO_SECRET(err);
        ASSERT_LT(t1.tv_sec - t0.tv_sec, 2); /* malformed: no retry for a minute */
    }
    /* well-formed, but values libpq refuses when connecting: one try, as retry_ms says */
    err[0] = '\0';
    ASSERT_EQ(scr_db_connect(&db, "postgresql://crawler:hunter2@db.lan:notaport/crawl", 60000, err,
                             sizeof(err)),
              SCR_EUSAGE); /* a mistake: not retried either */
    fprintf(stderr, "   %s\n", err);
    ASSERT_NO_SECRET(err);
    err[0] = '\0';
    ASSERT_EQ(scr_db_connect(&db, "postgresql://crawler:hunter2@db lan/crawl", 0, err,
                             sizeof(err)),
              SCR_EDBCONN);
    fprintf(stderr, "   %s\n", err);
    ASSERT_NO_SECRET(err);
    err[0] = '\0';
    ASSERT_EQ(scr_db_connect(&db, "host=/nonexistent-dir user=u password=hunter2 dbname=d", 0,
                             err, sizeof(err)),
              SCR_EDBCONN);
    fprintf(stderr, "   %s\n", err);
    ASSERT_NO_SECRET(err);
}

int main(void)
{
    RUN(redact);
    RUN(connect_messages);
    fprintf(stderr, "test_dbredact: all passed\n");
    return 0;
}
