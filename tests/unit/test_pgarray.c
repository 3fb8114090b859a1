/* test_pgarray.c - binary array parameters (coordinator/pgarray.c) byte for byte against
 * array_recv's format: header (ndim, has-null flag, element OID, size, lower bound), then per
 * element a big-endian length (-1 for NULL) and the bytes.  (The integration tests send them
 * to a real PostgreSQL: test_store_group.py, test_crawl.py.) */
#include <string.h>

#include "coordinator/pgarray.h"
#include "test.h"

TEST(int4_elements)
{
    static const unsigned char want[] = {
        0, 0, 0, 1,  0, 0, 0, 0,  0, 0, 0, 23,  0, 0, 0, 2,  0, 0, 0, 1,
        0, 0, 0, 4,  0, 0, 0, 7,
        0, 0, 0, 4,  0xff, 0xff, 0xff, 0xfe};
    struct scr_pgarray a;
    const char *p;
    int len;

    scr_pgarray_init(&a, SCR_PG_INT4);
    scr_pgarray_i32(&a, 7);
    scr_pgarray_i32(&a, -2);
    p = scr_pgarray_bytes(&a, &len);
    ASSERT_EQ(len, (int)sizeof(want));
    ASSERT_MEM_EQ(p, want, sizeof(want));
    scr_pgarray_release(&a);
}

TEST(text_with_null_and_reset)
{
    static const unsigned char want[] = {
        0, 0, 0, 1,  0, 0, 0, 1,  0, 0, 0, 25,  0, 0, 0, 3,  0, 0, 0, 1,
        0, 0, 0, 2,  'a', 'b',
        0xff, 0xff, 0xff, 0xff,
        0, 0, 0, 0};
    static const unsigned char want2[] = {
        0, 0, 0, 1,  0, 0, 0, 0,  0, 0, 0, 25,  0, 0, 0, 1,  0, 0, 0, 1,
        0, 0, 0, 1,  'z'};
    struct scr_pgarray a;
    const char *p;
    int len;

    scr_pgarray_init(&a, SCR_PG_TEXT);
    scr_pgarray_text(&a, "ab");
    scr_pgarray_text(&a, NULL);
    scr_pgarray_text(&a, "");
    p = scr_pgarray_bytes(&a, &len);
    ASSERT_EQ(len, (int)sizeof(want));
    ASSERT_MEM_EQ(p, want, sizeof(want));
    /* reset: no elements, no NULL flag left over */
    scr_pgarray_reset(&a);
    scr_pgarray_text(&a, "z");
    p = scr_pgarray_bytes(&a, &len);
    ASSERT_EQ(len, (int)sizeof(want2));
    ASSERT_MEM_EQ(p, want2, sizeof(want2));
    scr_pgarray_release(&a);
}

TEST(int8_bool_jsonb_and_empty)
{
    static const unsigned char i8[] = {0, 0, 0, 8, 0x01, 0x02, 0x03, 0x04,
                                       0x05, 0x06, 0x07, 0x08};
    static const unsigned char js[] = {0, 0, 0, 3, 1, '{', '}'};
    static const unsigned char empty[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0e, 0xda};
    struct scr_pgarray a;
    const char *p;
    int len;

    scr_pgarray_init(&a, SCR_PG_INT8);
    scr_pgarray_i64(&a, 0x0102030405060708LL);
    p = scr_pgarray_bytes(&a, &len);
    ASSERT_EQ(len, 20 + (int)sizeof(i8));
    ASSERT_MEM_EQ(p + 20, i8, sizeof(i8));
    scr_pgarray_release(&a);

    scr_pgarray_init(&a, SCR_PG_BOOL);
    scr_pgarray_bool(&a, 5);
    p = scr_pgarray_bytes(&a, &len);
    ASSERT_EQ(len, 25);
    ASSERT_EQ((unsigned char)p[24], 1);
    scr_pgarray_release(&a);

    scr_pgarray_init(&a, SCR_PG_JSONB);
    scr_pgarray_jsonb(&a, "{}"); /* jsonb_recv: version byte 1, then the text */
    p = scr_pgarray_bytes(&a, &len);
    ASSERT_EQ(len, 20 + (int)sizeof(js));
    ASSERT_MEM_EQ(p + 20, js, sizeof(js));
    scr_pgarray_release(&a);

    /* no elements: ndim 0 and no dimensions (12 bytes), whatever the OID */
    scr_pgarray_init(&a, SCR_PG_JSONB);
    p = scr_pgarray_bytes(&a, &len);
    ASSERT_EQ(len, 12);
    ASSERT_MEM_EQ(p, empty, sizeof(empty));
    scr_pgarray_release(&a);
}

int main(void)
{
    RUN(int4_elements);
    RUN(text_with_null_and_reset);
    RUN(int8_bool_jsonb_and_empty);
    return 0;
}
