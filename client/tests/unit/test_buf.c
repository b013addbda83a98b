#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"

Test(buf, put_and_read_back_network_order)
{
    fw_buf b;
    static const uint8_t want[] = {0x7f, 0xff, 0xfe, 0x12, 0x34, 0x56, 0x78,
                                   0xff, 0xff, 0xff, 0xff, 'h', 'i', 0};

    fw_buf_init(&b, 0);
    cr_assert_eq(fw_buf_put_u8(&b, 0x7f), FW_OK);
    cr_assert_eq(fw_buf_put_i16(&b, -2), FW_OK);
    cr_assert_eq(fw_buf_put_i32(&b, 0x12345678), FW_OK);
    cr_assert_eq(fw_buf_put_i32(&b, -1), FW_OK);
    cr_assert_eq(fw_buf_put_str(&b, "hi"), FW_OK);
    cr_assert_eq(b.len, sizeof(want));
    cr_assert_arr_eq(b.data, want, sizeof(want));
    cr_assert_eq(fw_read_u16(b.data + 1), 0xfffe);
    cr_assert_eq(fw_read_u32(b.data + 3), 0x12345678u);
    fw_buf_free(&b);
    cr_assert_null(b.data);
    cr_assert_eq(b.len, 0);
}

Test(buf, limit_refuses_growth_and_keeps_contents)
{
    fw_buf b;
    uint8_t chunk[100];

    memset(chunk, 'x', sizeof(chunk));
    fw_buf_init(&b, 250);
    cr_assert_eq(fw_buf_put(&b, chunk, 100), FW_OK);
    cr_assert_eq(fw_buf_put(&b, chunk, 100), FW_OK);
    cr_assert_eq(fw_buf_put(&b, chunk, 100), FW_ERR_LIMIT);
    cr_assert_eq(b.len, 200);
    cr_assert_leq(b.cap, 250);
    cr_assert_eq(fw_buf_put(&b, chunk, 50), FW_OK);
    cr_assert_eq(b.len, 250);
    cr_assert_eq(fw_buf_put_u8(&b, 1), FW_ERR_LIMIT);
    fw_buf_free(&b);
}

Test(buf, reserve_overflow_is_memory_error)
{
    fw_buf b;

    fw_buf_init(&b, 0);
    cr_assert_eq(fw_buf_put_u8(&b, 1), FW_OK);
    cr_assert_eq(fw_buf_reserve(&b, SIZE_MAX), FW_ERR_MEMORY);
    cr_assert_eq(fw_buf_reserve(&b, SIZE_MAX - 1), FW_ERR_MEMORY);
    cr_assert_eq(fw_buf_reserve(&b, PTRDIFF_MAX), FW_ERR_MEMORY);
    cr_assert_eq(b.len, 1);
    fw_buf_free(&b);
}

Test(buf, grows_across_many_puts)
{
    fw_buf b;
    int i;

    fw_buf_init(&b, 0);
    for (i = 0; i < 100000; i++)
        cr_assert_eq(fw_buf_put_i32(&b, i), FW_OK);
    cr_assert_eq(b.len, 400000);
    cr_assert_eq(fw_read_u32(b.data + 4 * 99999), 99999u);
    fw_buf_free(&b);
}

Test(buf, consume_moves_the_rest_forward)
{
    fw_buf b;

    fw_buf_init(&b, 0);
    cr_assert_eq(fw_buf_put(&b, "abcdef", 6), FW_OK);
    fw_buf_consume(&b, 2);
    cr_assert_eq(b.len, 4);
    cr_assert_arr_eq(b.data, "cdef", 4);
    fw_buf_consume(&b, 10);
    cr_assert_eq(b.len, 0);
    fw_buf_free(&b);
    fw_buf_free(NULL);
}
