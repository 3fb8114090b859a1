/* test_buf.c - common/buf.h: the growable, always NUL-terminated byte buffer.
 *
 * Detach of an untouched buffer ("" NUL-terminated, never NULL), append of text and binary,
 * printf growth across many doublings, reset keeping memory, puts/putc, and detach handing
 * over the bytes and leaving the buffer empty and reusable.
 */
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"
#include "test.h"

TEST(detach_untouched)
{
    struct scr_buf b;
    size_t len = 99;
    char *s;

    scr_buf_init(&b);
    ASSERT(b.data == NULL);
    ASSERT_EQ(b.len, 0);
    s = scr_buf_detach(&b, &len);
    ASSERT(s != NULL);
    ASSERT_EQ(len, 0);
    ASSERT_EQ(s[0], '\0');
    ASSERT_STR_EQ(s, "");
    ASSERT(b.data == NULL); /* the buffer is empty again */
    ASSERT_EQ(b.len, 0);
    ASSERT_EQ(b.cap, 0);
    free(s);
    s = scr_buf_detach(&b, NULL); /* len may be NULL */
    ASSERT_STR_EQ(s, "");
    free(s);
    scr_buf_release(&b);
}

TEST(append)
{
    static const char bin[] = {'a', '\0', 'b', '\xff'};
    struct scr_buf b;
    size_t len = 0;
    char *s;

    scr_buf_init(&b);
    ASSERT_EQ(scr_buf_append(&b, "", 0), SCR_OK); /* an empty append still makes a string */
    ASSERT(b.data != NULL);
    ASSERT_STR_EQ(b.data, "");
    ASSERT_EQ(scr_buf_append(&b, "hello", 5), SCR_OK);
    ASSERT_EQ(b.len, 5);
    ASSERT_STR_EQ(b.data, "hello");
    ASSERT_EQ(scr_buf_puts(&b, ", "), SCR_OK);
    ASSERT_EQ(scr_buf_putc(&b, 'w'), SCR_OK);
    ASSERT_EQ(scr_buf_puts(&b, "orld"), SCR_OK);
    ASSERT_STR_EQ(b.data, "hello, world");
    ASSERT_EQ(b.len, 12);
    ASSERT_EQ(scr_buf_append(&b, bin, sizeof(bin)), SCR_OK);
    ASSERT_EQ(b.len, 16);
    ASSERT_MEM_EQ(b.data + 12, bin, sizeof(bin));
    ASSERT_EQ(b.data[16], '\0');
    ASSERT_LT(b.len, b.cap);
    s = scr_buf_detach(&b, &len);
    ASSERT_EQ(len, 16);
    ASSERT_MEM_EQ(s, "hello, world", 12);
    ASSERT_EQ(s[16], '\0');
    free(s);
    ASSERT(b.data == NULL);
    /* reusable after detach */
    ASSERT_EQ(scr_buf_puts(&b, "again"), SCR_OK);
    ASSERT_STR_EQ(b.data, "again");
    scr_buf_release(&b);
    ASSERT(b.data == NULL);
}

TEST(growth)
{
    struct scr_buf b;
    size_t want = 0;

    scr_buf_init(&b);
    for (int i = 0; i < 20000; i++) {
        ASSERT_EQ(scr_buf_putc(&b, (char)('a' + i % 26)), SCR_OK);
        want++;
        ASSERT_EQ(b.len, want);
        ASSERT_EQ(b.data[b.len], '\0');
        ASSERT_LT(b.len, b.cap);
    }
    for (size_t i = 0; i < b.len; i++)
        if (b.data[i] != (char)('a' + i % 26))
            TEST_FAIL_("byte %zu is '%c'", i, b.data[i]);
    /* doubling: a 20000-byte buffer has at most twice what it needs */
    ASSERT_LE(b.cap, 2 * (b.len + 1));
    scr_buf_release(&b);
}

TEST(printf_growth)
{
    struct scr_buf b;
    char big[5000];
    char want[64];
    size_t total = 0;

    scr_buf_init(&b);
    ASSERT_EQ(scr_buf_printf(&b, "%d-%s", 42, "x"), SCR_OK);
    ASSERT_STR_EQ(b.data, "42-x");
    ASSERT_EQ(b.len, 4);
    ASSERT_EQ(scr_buf_printf(&b, "%s", ""), SCR_OK);
    ASSERT_EQ(b.len, 4);
    ASSERT_STR_EQ(b.data, "42-x");

    /* one printf much larger than the first allocation */
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ASSERT_EQ(scr_buf_printf(&b, "[%s]", big), SCR_OK);
    ASSERT_EQ(b.len, 4 + 2 + sizeof(big) - 1);
    ASSERT_EQ(b.data[4], '[');
    ASSERT_EQ(b.data[5], 'z');
    ASSERT_EQ(b.data[b.len - 2], 'z');
    ASSERT_EQ(b.data[b.len - 1], ']');
    ASSERT_EQ(b.data[b.len], '\0');
    ASSERT_EQ(strlen(b.data), b.len);

    /* many small printfs, each crossing capacity at some point */
    scr_buf_reset(&b);
    for (int i = 0; i < 3000; i++) {
        int n = snprintf(want, sizeof(want), "%d:%lld;", i, (long long)i * 1000003);
        ASSERT_EQ(scr_buf_printf(&b, "%d:%lld;", i, (long long)i * 1000003), SCR_OK);
        total += (size_t)n;
        ASSERT_EQ(b.len, total);
        ASSERT_MEM_EQ(b.data + total - (size_t)n, want, (size_t)n);
        ASSERT_EQ(b.data[b.len], '\0');
    }
    ASSERT_EQ(strlen(b.data), total);
    ASSERT_EQ(strncmp(b.data, "0:0;1:1000003;2:2000006;", 24), 0);
    scr_buf_release(&b);
}

TEST(reset)
{
    struct scr_buf b;
    char *mem;
    size_t cap;

    scr_buf_init(&b);
    scr_buf_reset(&b); /* on an untouched buffer: no crash, still empty */
    ASSERT(b.data == NULL);
    ASSERT_EQ(scr_buf_puts(&b, "some text that is here"), SCR_OK);
    mem = b.data;
    cap = b.cap;
    scr_buf_reset(&b);
    ASSERT_EQ(b.len, 0);
    ASSERT(b.data == mem); /* memory kept */
    ASSERT_EQ(b.cap, cap);
    ASSERT_STR_EQ(b.data, "");
    ASSERT_EQ(scr_buf_puts(&b, "new"), SCR_OK);
    ASSERT_STR_EQ(b.data, "new");
    ASSERT(b.data == mem);
    scr_buf_release(&b);
}

TEST(reserve)
{
    struct scr_buf b;

    scr_buf_init(&b);
    ASSERT_EQ(scr_buf_reserve(&b, 1000), SCR_OK);
    ASSERT_GE(b.cap, 1001);
    ASSERT_EQ(b.len, 0);
    ASSERT_EQ(scr_buf_puts(&b, "ab"), SCR_OK);
    /* an impossible size fails cleanly and leaves the contents alone */
    ASSERT_EQ(scr_buf_reserve(&b, SIZE_MAX), SCR_ENOMEM);
    ASSERT_EQ(scr_buf_reserve(&b, SIZE_MAX / 2), SCR_ENOMEM);
    ASSERT_EQ(scr_buf_append(&b, "x", SIZE_MAX - 1), SCR_ENOMEM);
    ASSERT_EQ(b.len, 2);
    ASSERT_STR_EQ(b.data, "ab");
    scr_buf_release(&b);
}

int main(void)
{
    RUN(detach_untouched);
    RUN(append);
    RUN(growth);
    RUN(printf_growth);
    RUN(reset);
    RUN(reserve);
    fprintf(stderr, "test_buf: all passed\n");
    return 0;
}
