/* budget.c - the per-page budget of CPU time and libxml2 memory (see budget.h), and the page
 * arena libxml2 allocates from while a budget is open.
 *
 * Invariants: a thread's budget pointer is set only between scr_budget_begin() and
 * scr_budget_end() on that thread, and budgets nest (outer is restored).  The allocator
 * wrappers are installed once for the process and never removed; with no budget open they
 * cost one thread-local load and a range compare.  Sizes are malloc_usable_size() for a
 * malloc'd block and the rounded size in its header for an arena block, so a block is added
 * and subtracted by the same amount whatever size it was asked with.
 *
 * The arena: libxml2 allocates a page's document node by node (a few thousand malloc and free
 * calls per page, about 15 % of the extraction's instructions with glibc).  While a budget is
 * open, the wrappers hand out blocks of the thread's arena instead: a slice of one region
 * reserved (not committed) at install, bumped forward, each block after a 16-byte header with
 * its size and the arena's generation.  Freeing an arena block only subtracts its size from
 * the budget; the outermost scr_budget_end() rewinds the slice (and returns its pages above
 * ARENA_KEEP to the kernel).  So nothing libxml2 allocates during a page may outlive it: the
 * extractor makes and frees its parser context, dictionary, XPath contexts and document inside
 * the page.  A block that does outlive it (libxml2's thread-global last error) is never read
 * again, only freed: a free of an arena block from an older generation, or of another
 * thread's slice, changes nothing.  Blocks over ARENA_BIG, and any block once a slice is
 * full, come from malloc as before; so does everything under AddressSanitizer (which then
 * keeps seeing libxml2's blocks) or when the region cannot be reserved.
 *
 * Called by the extractor (extract.c), the rules evaluator (rules_eval.c) and the tests.
 */
#include "parsers/budget.h"

#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <libxml/xmlmemory.h>

#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ENABLED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ENABLED 0
#endif
#endif
#ifndef ARENA_ENABLED
#define ARENA_ENABLED 1
#endif

#define ARENA_SLICE ((size_t)64 << 20) /* address space per thread */
#define ARENA_SLICES 64                /* threads that can have one at a time */
#define ARENA_BIG ((size_t)1 << 20)    /* larger blocks come from malloc */
#define ARENA_KEEP ((size_t)4 << 20)   /* bytes of a slice kept committed between pages */
#define ARENA_HDR 16

struct arena_hdr {
    size_t size;  /* usable bytes after the header, a multiple of 16 */
    uint64_t gen; /* the slice's generation when it was handed out */
};

struct arena {
    char *base, *cur, *end; /* the thread's slice; NULL when it has none */
    char *high;             /* highest cur since the last rewind of the pages */
    uint64_t gen;           /* bumped at each rewind */
    int slot;               /* index of the slice in the region, -1 for none */
};

static char *region;        /* ARENA_SLICES slices, or NULL */
static char *region_end;
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char slot_used[ARENA_SLICES];
static pthread_key_t arena_key; /* its destructor gives a thread's slice back */

static _Thread_local struct scr_budget *cur;
/* cur when it has a memory limit, else NULL: the allocator wrappers count only then, so
 * --parse-memory 0 costs them one thread-local load per call. */
static _Thread_local struct scr_budget *mem_cur;
/* the thread's arena, and whether blocks come from it now (a budget is open) */
static _Thread_local struct arena arena = {NULL, NULL, NULL, NULL, 0, -1};
static _Thread_local int arena_on;

static int in_region(const void *p)
{
    return (const char *)p >= region && (const char *)p < region_end;
}

static void slot_release(void *arg)
{
    int slot = (int)(intptr_t)arg - 1;

    if (slot < 0 || !region)
        return;
    madvise(region + (size_t)slot * ARENA_SLICE, ARENA_SLICE, MADV_DONTNEED);
    pthread_mutex_lock(&slots_lock);
    slot_used[slot] = 0;
    pthread_mutex_unlock(&slots_lock);
}

/* Gives the thread a slice if it has none and one is free; 1 when it has one. */
static int arena_ready(void)
{
    int slot = -1;

    if (arena.base)
        return 1;
    if (!region || arena.slot == -2)
        return 0;
    pthread_mutex_lock(&slots_lock);
    for (int i = 0; i < ARENA_SLICES; i++)
        if (!slot_used[i]) {
            slot_used[i] = 1;
            slot = i;
            break;
        }
    pthread_mutex_unlock(&slots_lock);
    if (slot < 0) {
        arena.slot = -2; /* none free: this thread uses malloc */
        return 0;
    }
    pthread_setspecific(arena_key, (void *)(intptr_t)(slot + 1));
    arena.slot = slot;
    arena.base = arena.cur = arena.high = region + (size_t)slot * ARENA_SLICE;
    arena.end = arena.base + ARENA_SLICE;
    return 1;
}

/* A block of n bytes from the arena, or NULL when it does not fit (the caller mallocs). */
static void *arena_alloc(size_t n)
{
    size_t size = (n + 15) & ~(size_t)15;
    struct arena_hdr *h;

    if (n > ARENA_BIG || (size_t)(arena.end - arena.cur) < size + ARENA_HDR)
        return NULL;
    h = (struct arena_hdr *)arena.cur;
    h->size = size;
    h->gen = arena.gen;
    arena.cur += ARENA_HDR + size;
    return (char *)h + ARENA_HDR;
}

/* The header of arena block p when it is a live block of this thread's arena, else NULL. */
static struct arena_hdr *arena_live(void *p)
{
    struct arena_hdr *h;

    if (!arena.base || (char *)p < arena.base + ARENA_HDR || (char *)p >= arena.cur)
        return NULL; /* another thread's slice, or this one's above the live blocks */
    h = (struct arena_hdr *)((char *)p - ARENA_HDR);
    return h->gen == arena.gen ? h : NULL;
}

/* Rewinds the arena after the outermost budget: every block of the page is gone. */
static void arena_rewind(void)
{
    if (!arena.base)
        return;
    if (arena.cur > arena.high)
        arena.high = arena.cur;
    if ((size_t)(arena.high - arena.base) > ARENA_KEEP) {
        madvise(arena.base + ARENA_KEEP, (size_t)(arena.high - arena.base) - ARENA_KEEP,
                MADV_DONTNEED);
        arena.high = arena.base + ARENA_KEEP;
    }
    arena.cur = arena.base;
    arena.gen++;
}

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
    struct scr_budget *b = mem_cur;
    void *p;

    if (arena_on && (p = arena_alloc(n)) != NULL) {
        if (b)
            grow(b, (int64_t)((struct arena_hdr *)((char *)p - ARENA_HDR))->size);
        return p;
    }
    p = malloc(n);
    if (b && p)
        grow(b, (int64_t)malloc_usable_size(p));
    return p;
}

static void counted_free(void *p)
{
    struct scr_budget *b = mem_cur;

    if (!p)
        return;
    if (in_region(p)) {
        struct arena_hdr *h = arena_live(p);

        if (b && h)
            b->mem_live -= (int64_t)h->size;
        return; /* the rewind frees it */
    }
    if (b)
        b->mem_live -= (int64_t)malloc_usable_size(p);
    free(p);
}

static void *counted_realloc(void *p, size_t n)
{
    struct scr_budget *b = mem_cur;
    int64_t old;
    void *q;

    if (p && in_region(p)) {
        struct arena_hdr *h = arena_live(p);
        size_t size = h ? h->size : 0, want = (n + 15) & ~(size_t)15;

        if (h && n <= size)
            return p; /* it fits */
        if (h && (char *)p + size == arena.cur && n <= ARENA_BIG &&
            (size_t)(arena.end - (char *)p) >= want) {
            arena.cur = (char *)p + want; /* the last block grows in place */
            h->size = want;
            if (b)
                grow(b, (int64_t)(want - size));
            return p;
        }
        q = counted_malloc(n);
        if (!q)
            return NULL;
        if (h)
            memcpy(q, p, size);
        counted_free(p);
        return q;
    }
    old = b && p ? (int64_t)malloc_usable_size(p) : 0;
    if (arena_on && !p)
        return counted_malloc(n);
    q = realloc(p, n);
    if (b && q)
        grow(b, (int64_t)malloc_usable_size(q) - old);
    return q;
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
    if (ARENA_ENABLED && pthread_key_create(&arena_key, slot_release) == 0) {
        void *r = mmap(NULL, ARENA_SLICE * ARENA_SLICES, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (r != MAP_FAILED) {
            region = r;
            region_end = region + ARENA_SLICE * ARENA_SLICES;
        }
    }
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
    arena_on = arena_ready();
}

void scr_budget_end(struct scr_budget *b)
{
    if (cur == b) {
        cur = b->outer;
        mem_cur = cur && cur->mem_limit ? cur : NULL;
        if (!cur) {
            arena_on = 0;
            arena_rewind();
        }
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
