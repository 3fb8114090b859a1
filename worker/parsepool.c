/* parsepool.c - the worker's parse threads (see parsepool.h).
 *
 * Two lists under one mutex: `todo` (submitted, FIFO) and `done` (finished, FIFO).  A thread
 * sleeps on the condition variable while todo is empty, takes the oldest job, parses it with
 * the mutex released, appends it to done and writes 1 to the eventfd.  The loop reads the
 * eventfd before it takes the done list, so a job finished after the read leaves the fd
 * readable for the next poll: no wake-up is lost.  `pending` counts jobs from submit to take,
 * so the loop can count pages being parsed against its transfer slots (memory stays bounded
 * by --concurrency x --max-body, as before).
 *
 * Each thread notes its CPU clock when it takes a job, so the loop can see how long the page
 * being parsed has run (scr_parsepool_longest_us), from the thread's own clock
 * (pthread_getcpuclockid).
 */
#include "worker/parsepool.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "parsers/budget.h"
#include "parsers/extract.h"

struct parse_thread {
    struct scr_parsepool *pool;
    struct scr_extractor *x;
    pthread_t tid;
    int started;
    clockid_t clock;             /* the thread's CPU clock */
    int has_clock;
    struct scr_parse_job *current; /* being parsed (under the pool's mutex), or NULL */
    int64_t current_start_us;    /* the thread's CPU time when it took current */
};

struct scr_parsepool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct scr_parse_job *todo_head, *todo_tail, *done_head, *done_tail;
    size_t pending;
    int stop;
    int efd;
    struct parse_thread *threads;
    int nthreads;
};

void scr_parse_job_free(struct scr_parse_job *job)
{
    if (!job)
        return;
    scr_fetch_done_free(job->d);
    scr_result_release(&job->r);
    free(job->error);
    free(job);
}

static void append(struct scr_parse_job **head, struct scr_parse_job **tail,
                   struct scr_parse_job *job)
{
    job->next = NULL;
    if (*tail)
        (*tail)->next = job;
    else
        *head = job;
    *tail = job;
}

/* Runs the extractor on one page; the RESULT gets what it produced. */
static void parse_one(struct scr_extractor *x, struct scr_parse_job *job)
{
    struct scr_fetch_done *d = job->d;
    struct scr_emit emit;

    scr_emit_init(&emit);
    job->rc = scr_extractor_run(x, job->r.final_url, d->content_type,
                                d->body.data ? d->body.data : "", d->body.len, &emit);
    if (job->rc != SCR_OK && job->rc != SCR_ELIMIT)
        scr_debug("a parser failed on %s", job->r.final_url);
    job->r.records = emit.records;
    job->r.links = emit.links;
    job->error = emit.error;
    free(job->r.encoding);
    job->r.encoding = scr_xstrdup(emit.encoding ? emit.encoding : "");
    free(job->r.rules_stats);
    job->r.rules_stats = emit.rules_stats; /* taken */
    emit.rules_stats = NULL;
    scr_strvec_init(&emit.records);
    scr_strvec_init(&emit.links);
    emit.error = NULL;
    scr_emit_release(&emit);
}

static void *thread_main(void *arg)
{
    struct parse_thread *t = arg;
    struct scr_parsepool *p = t->pool;
    const uint64_t one = 1;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        struct scr_parse_job *job;
        while (!p->stop && !p->todo_head)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->stop)
            break;
        job = p->todo_head;
        p->todo_head = job->next;
        if (!p->todo_head)
            p->todo_tail = NULL;
        t->current = job;
        t->current_start_us = scr_thread_cpu_us();
        pthread_mutex_unlock(&p->mu);

        parse_one(t->x, job);

        pthread_mutex_lock(&p->mu);
        t->current = NULL;
        append(&p->done_head, &p->done_tail, job);
        /* the counter cannot overflow: the loop reads it at least every few ms */
        if (write(p->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
            scr_error("parse thread: cannot wake the worker loop: %s", strerror(errno));
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int scr_parsepool_new(struct scr_parsepool **out, int threads, const char *parser_list,
                      const struct scr_parser_env *env, char *err, size_t errlen)
{
    struct scr_parsepool *p = scr_xcalloc(1, sizeof(*p));
    int rc = SCR_OK;

    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->efd < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        rc = SCR_EIO;
        goto out;
    }
    if (threads < 1)
        threads = 1;
    p->threads = scr_xcalloc((size_t)threads, sizeof(*p->threads));
    p->nthreads = threads;
    for (int i = 0; i < threads; i++) {
        p->threads[i].pool = p;
        rc = scr_extractor_new(&p->threads[i].x, parser_list, env, err, errlen);
        if (rc)
            goto out;
    }
    for (int i = 0; i < threads; i++) {
        int e = pthread_create(&p->threads[i].tid, NULL, thread_main, &p->threads[i]);
        if (e) {
            snprintf(err, errlen, "cannot start a parse thread: %s", strerror(e));
            rc = SCR_EIO;
            goto out;
        }
        p->threads[i].started = 1;
        p->threads[i].has_clock =
            pthread_getcpuclockid(p->threads[i].tid, &p->threads[i].clock) == 0;
    }
    *out = p;
    p = NULL;
out:
    scr_parsepool_free(p);
    return rc;
}

void scr_parsepool_free(struct scr_parsepool *p)
{
    struct scr_parse_job *job, *next;

    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++) {
        if (p->threads[i].started)
            pthread_join(p->threads[i].tid, NULL);
        scr_extractor_free(p->threads[i].x);
    }
    for (job = p->todo_head; job; job = next) {
        next = job->next;
        scr_parse_job_free(job);
    }
    for (job = p->done_head; job; job = next) {
        next = job->next;
        scr_parse_job_free(job);
    }
    if (p->efd >= 0)
        close(p->efd);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p);
}

void scr_parsepool_submit(struct scr_parsepool *p, struct scr_parse_job *job)
{
    pthread_mutex_lock(&p->mu);
    append(&p->todo_head, &p->todo_tail, job);
    p->pending++;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

int scr_parsepool_fd(const struct scr_parsepool *p)
{
    return p->efd;
}

struct scr_parse_job *scr_parsepool_take(struct scr_parsepool *p)
{
    struct scr_parse_job *list, *j;
    uint64_t n;

    /* first the fd, then the list: a job finished after this read makes it readable again */
    if (read(p->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
        scr_error("parse pool: reading its eventfd: %s", strerror(errno));
    pthread_mutex_lock(&p->mu);
    list = p->done_head;
    p->done_head = p->done_tail = NULL;
    for (j = list; j; j = j->next)
        p->pending--;
    pthread_mutex_unlock(&p->mu);
    return list;
}

int64_t scr_parsepool_longest_us(struct scr_parsepool *p, const char **url)
{
    int64_t longest = 0;

    if (url)
        *url = NULL;
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->nthreads; i++) {
        struct parse_thread *t = &p->threads[i];
        struct timespec ts;
        int64_t used;
        if (!t->current || !t->has_clock || clock_gettime(t->clock, &ts) != 0)
            continue;
        used = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - t->current_start_us;
        if (used > longest) {
            longest = used;
            if (url)
                *url = t->current->r.final_url;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return longest;
}

size_t scr_parsepool_pending(const struct scr_parsepool *p)
{
    /* read by the loop thread, which alone changes it upwards (submit) and downwards (take):
     * the threads never touch it, so no lock is needed for an exact value */
    return p->pending;
}
