/* budget.h - the per-page budget: CPU time and memory for parsing one page.
 *
 * A hostile page must not stop a crawl: libxml2 2.9's HTML parser is quadratic in the
 * attributes of one tag, a rule's XPath can be quadratic in a sibling list, a regex can
 * backtrack for ever.  The extractor (extract.c) opens a budget for each page with
 * scr_budget_begin(), and the slow parts ask scr_budget_check() at points where they can stop
 * cleanly: the HTML parser's SAX callbacks, between parsers, between the rules' fields and
 * records.  Once the budget is spent every later check fails too, so the page ends quickly
 * and fails with the reason scr_budget_reason() writes ("parse took over 10 s of CPU time (in
 * the HTML parser)").
 *
 * CPU time is the calling thread's own clock (CLOCK_THREAD_CPUTIME_ID), so time spent
 * waiting for a core on a busy node does not count.  Memory is what libxml2 holds for the
 * page: scr_budget_install() routes libxml2's allocator (xmlGcMemSetup) through counting
 * wrappers that add the size of each block to the current thread's budget and subtract it on
 * free.  While a budget is open those blocks come from the thread's page arena (budget.c),
 * rewound when the outermost budget ends: nothing libxml2 allocates inside a budget may be
 * used after it.  That covers the document, XPath node sets and serialized strings,
 * which is where a page's memory goes; the parsers' own small copies (scr_x*, jansson) are not
 * counted.  Only a budget with a memory limit counts (the wrappers cost about 3 % of a
 * typical page's extraction; with no limit, one thread-local load per call).  The memory limit is soft: the flag is set by the allocation that crosses it and
 * the work stops at the next check, so it overshoots by at most what one SAX callback or one
 * XPath evaluation allocates.
 *
 * The budget in force is a thread-local pointer, so several parse threads have budgets of
 * their own and a thread without one (the worker's main loop, libxml2 work outside a page)
 * pays one thread-local load per allocation.
 */
#ifndef SCR_BUDGET_H
#define SCR_BUDGET_H

#include <stddef.h>
#include <stdint.h>

enum scr_budget_state {
    SCR_BUDGET_OK = 0,
    SCR_BUDGET_CPU, /* the CPU time ran out */
    SCR_BUDGET_MEM  /* libxml2 held more than the memory limit */
};

struct scr_budget {
    int64_t cpu_limit_us;     /* 0 = no limit */
    int64_t mem_limit;        /* bytes; 0 = no limit */
    int64_t cpu_start_us;     /* the thread's CPU clock at scr_budget_begin() */
    int64_t mem_live;         /* bytes allocated by libxml2 since begin, minus those freed
                               * (counted only when mem_limit is set) */
    int64_t mem_peak;         /* highest mem_live */
    enum scr_budget_state state;
    const char *stage;        /* where it ran out: "the HTML parser", "rule 'x'" (static) */
    struct scr_budget *outer; /* the budget this one replaced on the thread */
};

/* Routes libxml2's allocations through the counting wrappers.  Idempotent and thread-safe
 * (pthread_once); scr_extractor_new() calls it before xmlInitParser(), so before the first
 * libxml2 allocation in practice.  Blocks allocated before remain valid: the wrappers call the
 * same malloc and free. */
void scr_budget_install(void);

/* Opens b (owned by the caller, typically on its stack) as the calling thread's budget for
 * one page: cpu_limit_us of CPU time and mem_limit bytes of libxml2 memory, 0 = unlimited.
 * Pair with scr_budget_end() on the same thread. */
void scr_budget_begin(struct scr_budget *b, int64_t cpu_limit_us, int64_t mem_limit);
void scr_budget_end(struct scr_budget *b);

/* The calling thread's open budget, or NULL. */
struct scr_budget *scr_budget_current(void);

/* Checks the current thread's budget (reads its CPU clock: about a system call, so hot loops
 * call it every few hundred iterations).  Returns SCR_BUDGET_OK, or the reason it ran out,
 * remembering stage (a static string) as where.  No open budget: SCR_BUDGET_OK. */
enum scr_budget_state scr_budget_check(const char *stage);

/* Like scr_budget_check() without reading the clock: the state so far (the memory flag is
 * set by the allocator as it happens). */
enum scr_budget_state scr_budget_state(void);

/* Writes why b ran out into buf: "parse took over 10 s of CPU time (in the HTML parser)" or
 * "parse used over 256 MiB of memory (in rule 'price')"; "" when it did not. */
void scr_budget_reason(const struct scr_budget *b, char *buf, size_t len);

/* The thread's CPU time in microseconds (CLOCK_THREAD_CPUTIME_ID). */
int64_t scr_thread_cpu_us(void);

#endif
