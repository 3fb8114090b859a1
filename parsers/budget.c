/* budget.c - the per-page budget of CPU time and libxml2 memory (see budget.h).
 *
 * Invariants: a thread's budget pointer is set only between scr_budget_begin() and
 * scr_budget_end() on that thread, and budgets nest (outer is restored).  The allocator
 * wrappers are installed once for the process and never removed; with no budget open they
 * cost one thread-local load.  Sizes are malloc_usable_size(), so a block is added and
 * subtracted by the same amount whatever size it was asked with.
 *
 * Called by the extractor (extract.c), the rules evaluator (rules_eval.c) and the tests.
 */
#include "parsers/budget.h"

#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/xmlmemory.h>

static _Thread_local struct scr_budget *cur;
/* cur when it has a memory limit, else NULL: the allocator wrappers count only then, so
 * --parse-memory 0 costs them one thread-local load per call. */
static _Thread_local struct scr_budget *mem_cur;

/* A block of `size` usable bytes came into being on b's thread. */
static inline void grow(struct scr_budget *b, int64_t size)
{
    b->mem_live += size;
    if (b->mem_live > b->mem_peak) {
        b->mem_peak = b->mem_live;
        if (b->mem_limit && b->mem_live > b->mem_limit && b->state == SCR_BUDGET_OK)
            b->state = SCR_BUDGET_MEM; /* the next scr_budget_check() names the stage */
    }
}

static void *counted_malloc(size_t n)
{
    void *p = malloc(n);
    struct scr_budget *b = mem_cur;

    if (b && p)
        grow(b, (int64_t)malloc_usable_size(p));
    return p;
}

static void *counted_realloc(void *p, size_t n)
{
    struct scr_budget *b = mem_cur;
    int64_t old = b && p ? (int64_t)malloc_usable_size(p) : 0;
    void *q = realloc(p, n);

    if (b && q)
        grow(b, (int64_t)malloc_usable_size(q) - old);
    return q;
}

static void counted_free(void *p)
{
    struct scr_budget *b = mem_cur;

    if (b && p)
        b->mem_live -= (int64_t)malloc_usable_size(p);
    free(p);
}

static char *counted_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = counted_malloc(n);

    if (p)
        memcpy(p, s, n);
    return p;
}

static pthread_once_t install_once = PTHREAD_ONCE_INIT;

static void install(void)
{
    /* xmlGcMemSetup sets xmlMallocAtomic too (the large text buffers); xmlMemSetup would
     * leave it at plain malloc, uncounted. */
    xmlGcMemSetup(counted_free, counted_malloc, counted_malloc, counted_realloc, counted_strdup);
}

void scr_budget_install(void)
{
    pthread_once(&install_once, install);
}

int64_t scr_thread_cpu_us(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void scr_budget_begin(struct scr_budget *b, int64_t cpu_limit_us, int64_t mem_limit)
{
    memset(b, 0, sizeof(*b));
    b->cpu_limit_us = cpu_limit_us > 0 ? cpu_limit_us : 0;
    b->mem_limit = mem_limit > 0 ? mem_limit : 0;
    b->cpu_start_us = scr_thread_cpu_us();
    b->outer = cur;
    cur = b;
    mem_cur = b->mem_limit ? b : NULL;
}

void scr_budget_end(struct scr_budget *b)
{
    if (cur == b) {
        cur = b->outer;
        mem_cur = cur && cur->mem_limit ? cur : NULL;
    }
}

struct scr_budget *scr_budget_current(void)
{
    return cur;
}

enum scr_budget_state scr_budget_state(void)
{
    return cur ? cur->state : SCR_BUDGET_OK;
}

enum scr_budget_state scr_budget_check(const char *stage)
{
    struct scr_budget *b = cur;

    if (!b)
        return SCR_BUDGET_OK;
    if (b->state != SCR_BUDGET_OK) {
        if (!b->stage)
            b->stage = stage;
        return b->state;
    }
    if (b->cpu_limit_us && scr_thread_cpu_us() - b->cpu_start_us > b->cpu_limit_us) {
        b->state = SCR_BUDGET_CPU;
        b->stage = stage;
    }
    return b->state;
}

/* "10 s", "1.5 s", "250 ms" */
static void fmt_duration(int64_t us, char *buf, size_t len)
{
    if (us >= 1000000 && us % 1000000 == 0)
        snprintf(buf, len, "%lld s", (long long)(us / 1000000));
    else if (us >= 1000000)
        snprintf(buf, len, "%.1f s", (double)us / 1e6);
    else
        snprintf(buf, len, "%lld ms", (long long)(us / 1000));
}

/* "256 MiB", "64 KiB", "1000 bytes" */
static void fmt_size(int64_t n, char *buf, size_t len)
{
    if (n >= (1 << 20) && n % (1 << 20) == 0)
        snprintf(buf, len, "%lld MiB", (long long)(n >> 20));
    else if (n >= 1024 && n % 1024 == 0)
        snprintf(buf, len, "%lld KiB", (long long)(n >> 10));
    else
        snprintf(buf, len, "%lld bytes", (long long)n);
}

void scr_budget_reason(const struct scr_budget *b, char *buf, size_t len)
{
    char v[32];

    if (!len)
        return;
    buf[0] = '\0';
    switch (b->state) {
    case SCR_BUDGET_OK:
        return;
    case SCR_BUDGET_CPU:
        fmt_duration(b->cpu_limit_us, v, sizeof(v));
        snprintf(buf, len, "parse took over %s of CPU time (in %s; --parse-timeout)", v,
                 b->stage ? b->stage : "the parsers");
        return;
    case SCR_BUDGET_MEM:
        fmt_size(b->mem_limit, v, sizeof(v));
        snprintf(buf, len, "parse used over %s of memory (in %s; --parse-memory)", v,
                 b->stage ? b->stage : "the parsers");
        return;
    }
}
