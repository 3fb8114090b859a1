/* test_json_escape.c - scr_json_escape() writes exactly what jansson writes (compact), for
 * hand-written cases and 20,000 random strings of control characters, quotes, backslashes,
 * ASCII and multi-byte UTF-8. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/json.h"
#include "test.h"

static void same_as_jansson(const char *s, size_t len)
{
    struct scr_buf b;
    json_t *j = json_stringn(s, len);
    char *want;

    ASSERT(j != NULL);
    want = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    ASSERT(want != NULL);
    scr_buf_init(&b);
    ASSERT_EQ(scr_json_escape(&b, s, len), 0);
    ASSERT_STR_EQ(b.data, want);
    scr_buf_release(&b);
    free(want);
    json_decref(j);
}

TEST(cases)
{
    static const char *const cases[] = {
        "", "plain", "quote \" inside", "back\\slash", "\b\f\n\r\t", "\x01\x1f\x7f",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "/slash/not/escaped", "\"\\\"\\",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        same_as_jansson(cases[i], strlen(cases[i]));
}

TEST(random_strings)
{
    static const char *const pieces[] = {"a", " ", "\"", "\\", "\n", "\t", "\x01", "\x1f",
                                         "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                         "/", "<>", "\xef\xbf\xbd"};
    unsigned seed = 12345;
    char buf[512];

    for (int n = 0; n < 20000; n++) {
        size_t len = 0;
        int parts = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 40;
        for (int k = 0; k < parts; k++) {
            const char *p = pieces[((seed = seed * 1103515245u + 12345u) >> 16) % 15];
            size_t pl = strlen(p);
            if (len + pl >= sizeof(buf))
                break;
            memcpy(buf + len, p, pl);
            len += pl;
        }
        same_as_jansson(buf, len);
    }
}

int main(void)
{
    RUN(cases);
    RUN(random_strings);
    return 0;
}
