/* test_alloc.c - common/alloc.h: the scr_x* helpers never return NULL, SCR_GROW keeps the
 * contents and doubles from its minimum (with overflow checks that hold on 32-bit nodes), and
 * an impossible size ends the process with one line on stderr and SIGABRT (in a child).
 */
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/alloc.h"
#include "test.h"

TEST(grow_cap)
{
    ASSERT_EQ(scr_grow_cap(0, 1, 16, 8), 16);
    ASSERT_EQ(scr_grow_cap(0, 17, 16, 8), 32);
    ASSERT_EQ(scr_grow_cap(16, 17, 16, 8), 32);
    ASSERT_EQ(scr_grow_cap(32, 1000, 16, 8), 1024);
    ASSERT_EQ(scr_grow_cap(0, 3, 0, 1), 4);
    /* near the top doubling would overflow: exactly what is needed */
    ASSERT_EQ(scr_grow_cap(SIZE_MAX / 2 + 1, SIZE_MAX / 2 + 2, 1, 1), SIZE_MAX / 2 + 2);
}

TEST(grow_keeps_contents)
{
    int *a = NULL;
    size_t cap = 0;

    for (int i = 0; i < 1000; i++) {
        SCR_GROW(a, cap, (size_t)i + 1, 4);
        ASSERT_GE(cap, (size_t)i + 1);
        a[i] = i * 3;
    }
    ASSERT_EQ(cap, 1024);
    for (int i = 0; i < 1000; i++)
        ASSERT_EQ(a[i], i * 3);
    /* asking for less never shrinks */
    SCR_GROW(a, cap, 10, 4);
    ASSERT_EQ(cap, 1024);
    free(a);
}

TEST(strings)
{
    char *s = scr_xstrdup("hello");
    char *t = scr_xstrndup("hello", 3);
    char *u = scr_xstrndup("hi", 10);
    char *m = scr_xmemdup0("a\0b", 3);
    char *z = scr_xmalloc(0);
    int *c = scr_xcalloc(4, sizeof(int));

    ASSERT_STR_EQ(s, "hello");
    ASSERT_STR_EQ(t, "hel");
    ASSERT_STR_EQ(u, "hi");
    ASSERT_MEM_EQ(m, "a\0b\0", 4);
    ASSERT(z != NULL);
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(c[i], 0);
    free(s);
    free(t);
    free(u);
    free(m);
    free(z);
    free(c);
}

/* Runs fn in a child; the child must die of SIGABRT after writing the OOM line. */
static void expect_oom(void (*fn)(void))
{
    int pfd[2], status = 0;
    char out[256];
    ssize_t n, got = 0;
    pid_t pid;

    ASSERT_EQ(pipe(pfd), 0);
    pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        dup2(pfd[1], STDERR_FILENO);
        close(pfd[0]);
        fn();
        _exit(0); /* not reached when fn aborts */
    }
    close(pfd[1]);
    while ((n = read(pfd[0], out + got, sizeof(out) - 1 - (size_t)got)) > 0)
        got += n;
    out[got] = '\0';
    close(pfd[0]);
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT(WIFSIGNALED(status));
    ASSERT_EQ(WTERMSIG(status), SIGABRT);
    ASSERT(strstr(out, "scrape: out of memory (") != NULL);
}

static void overflow_array(void)
{
    void *p = scr_xreallocarray(NULL, SIZE_MAX / 2 + 1, 2);
    free(p);
}

static void overflow_grow(void)
{
    uint64_t *a = NULL;
    size_t cap = 0;
    SCR_GROW(a, cap, SIZE_MAX / 4, 16);
    free(a);
}

static void oom_direct(void)
{
    scr_oom(12345);
}

TEST(oom_aborts)
{
    expect_oom(overflow_array);
    expect_oom(overflow_grow);
    expect_oom(oom_direct);
}

int main(void)
{
    RUN(grow_cap);
    RUN(grow_keeps_contents);
    RUN(strings);
    RUN(oom_aborts);
    fprintf(stderr, "test_alloc: all passed\n");
    return 0;
}
