/* test_parsepool.c - the worker's parse threads (worker/parsepool.c): jobs come back through
 * the eventfd, each with its records, in any order but all of them; a page over its budget
 * comes back with SCR_ELIMIT and the reason while the other threads go on; freeing a pool with
 * jobs in it leaks nothing (run under ASan). */
#include <libxml/parser.h>
#include <poll.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "worker/parsepool.h"
#include "test.h"

static struct scr_parse_job *job_for(const char *url, const char *body, size_t len)
{
    struct scr_parse_job *job = scr_xcalloc(1, sizeof(*job));

    job->d = scr_xcalloc(1, sizeof(*job->d));
    scr_buf_init(&job->d->body);
    ASSERT_EQ(scr_buf_append(&job->d->body, body, len), 0);
    job->d->content_type = scr_xstrdup("text/html");
    scr_result_init(&job->r);
    job->r.final_url = scr_xstrdup(url);
    return job;
}

/* Waits for the pool's fd and takes what is finished; returns how many jobs came back and
 * checks each (a page "/slow" must be over budget, the others must have their link). */
static int take_some(struct scr_parsepool *p, int *limited)
{
    struct pollfd pfd = {.fd = scr_parsepool_fd(p), .events = POLLIN};
    struct scr_parse_job *job, *next;
    int n = 0;

    ASSERT_EQ(poll(&pfd, 1, 10000), 1);
    for (job = scr_parsepool_take(p); job; job = next) {
        next = job->next;
        if (strstr(job->r.final_url, "/slow")) {
            ASSERT_EQ(job->rc, SCR_ELIMIT);
            ASSERT(job->error && strstr(job->error, "parse took over 50 ms of CPU time"));
            ASSERT_EQ(job->r.records.n, 0);
            (*limited)++;
        } else {
            ASSERT_EQ(job->rc, 0);
            ASSERT(job->error == NULL);
            ASSERT_EQ(job->r.links.n, 1);
            ASSERT_STR_EQ(job->r.links.v[0], "http://h.test/next");
        }
        scr_parse_job_free(job);
        n++;
    }
    return n;
}

TEST(jobs_come_back)
{
    static const char page[] = "<title>t</title><a href=/next>n</a>";
    struct scr_parser_env env;
    struct scr_parsepool *p = NULL;
    struct scr_buf slow;
    char err[256];
    int back = 0, limited = 0;

    memset(&env, 0, sizeof(env));
    env.parse_timeout_ms = 50;
    env.parse_memory = 64 << 20;
    ASSERT_EQ(scr_parsepool_new(&p, 2, "links,meta", &env, err, sizeof(err)), 0);
    scr_buf_init(&slow);
    for (int i = 0; i < 300000; i++)
        ASSERT_EQ(scr_buf_printf(&slow, "<p>%d</p>", i), 0);
    scr_parsepool_submit(p, job_for("http://h.test/slow", slow.data, slow.len));
    for (int i = 0; i < 40; i++)
        scr_parsepool_submit(p, job_for("http://h.test/", page, sizeof(page) - 1));
    ASSERT_EQ(scr_parsepool_pending(p), 41);
    while (back < 41)
        back += take_some(p, &limited);
    ASSERT_EQ(back, 41);
    ASSERT_EQ(limited, 1);
    ASSERT_EQ(scr_parsepool_pending(p), 0);
    ASSERT(scr_parsepool_take(p) == NULL);

    /* freed with jobs queued and finished: all released */
    for (int i = 0; i < 10; i++)
        scr_parsepool_submit(p, job_for("http://h.test/", page, sizeof(page) - 1));
    scr_parsepool_free(p);
    scr_buf_release(&slow);
}

/* A parser list that does not set up is reported, and nothing is left running. */
TEST(bad_parser_list)
{
    struct scr_parsepool *p = NULL;
    char err[256];

    ASSERT_NE(scr_parsepool_new(&p, 3, "links,nosuch", NULL, err, sizeof(err)), 0);
    ASSERT(p == NULL);
    ASSERT(strstr(err, "unknown parser 'nosuch'") != NULL);
}

/* The loop's watchdog sees how much CPU time the page being parsed has taken, on the parse
 * thread's own clock, and which page it is; an idle pool reports 0. */
TEST(longest_parse)
{
    struct scr_parsepool *p = NULL;
    struct scr_buf slow;
    const char *url = NULL;
    char err[256];
    int64_t seen = 0;
    struct scr_parse_job *job;

    ASSERT_EQ(scr_parsepool_new(&p, 1, "links", NULL, err, sizeof(err)), 0);
    ASSERT_EQ(scr_parsepool_longest_us(p, &url), 0);
    ASSERT(url == NULL);
    scr_buf_init(&slow);
    for (int i = 0; i < 600000; i++)
        ASSERT_EQ(scr_buf_printf(&slow, "<p>%d</p>", i), 0);
    scr_parsepool_submit(p, job_for("http://h.test/long", slow.data, slow.len));
    while (!(job = scr_parsepool_take(p))) {
        int64_t us = scr_parsepool_longest_us(p, &url);
        if (us > seen) {
            seen = us;
            ASSERT_STR_EQ(url, "http://h.test/long");
        }
        poll(NULL, 0, 5);
    }
    ASSERT_GT(seen, 20000);
    ASSERT_EQ(job->rc, 0);
    scr_parse_job_free(job);
    ASSERT_EQ(scr_parsepool_longest_us(p, NULL), 0);
    scr_parsepool_free(p);
    scr_buf_release(&slow);
}

int main(void)
{
    xmlInitParser();
    RUN(jobs_come_back);
    RUN(bad_parser_list);
    RUN(longest_parse);
    return 0;
}
