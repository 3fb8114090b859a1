/* test_suggest.c - "did you mean" (common/suggest.h): the distance, '_' == '-', the cap,
 * and which names are close enough to suggest. */
#include <string.h>

#include "common/settings.h"
#include "common/suggest.h"
#include "test.h"

TEST(distance)
{
    ASSERT_EQ(scr_suggest_distance("max-depth", "max-depth", 2), 0);
    ASSERT_EQ(scr_suggest_distance("max_depth", "max-depth", 2), 0);
    ASSERT_EQ(scr_suggest_distance("max-dept", "max-depth", 2), 1);
    ASSERT_EQ(scr_suggest_distance("exprot", "export", 2), 1);  /* a swap is one edit */
    ASSERT_EQ(scr_suggest_distance("", "abc", 5), 3);
    ASSERT_EQ(scr_suggest_distance("delay", "concurrency", 2), 3); /* capped at cap + 1 */
}

TEST(suggest)
{
    static const char *const cmds[] = {"crawl", "check", "export", "report", "url"};

    ASSERT_STR_EQ(scr_suggest("exprot", cmds, 5), "export");
    ASSERT_STR_EQ(scr_suggest("chek", cmds, 5), "check");
    ASSERT(scr_suggest("frobnicate", cmds, 5) == NULL);
    ASSERT(scr_suggest("u", cmds, 5) == NULL); /* too short to mean anything */
    ASSERT_STR_EQ(scr_settings_suggest("max_depth"), "max-depth");
    ASSERT_STR_EQ(scr_settings_suggest("max-dept"), "max-depth");
    ASSERT_STR_EQ(scr_settings_suggest("dealy"), "delay");
    ASSERT(scr_settings_suggest("nothing-like-it") == NULL);
}

int main(void)
{
    RUN(distance);
    RUN(suggest);
    return 0;
}
