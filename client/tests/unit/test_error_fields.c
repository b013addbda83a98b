/*
 * The fields of a server's ErrorResponse become the connection's error:
 * the position is a number from 1 or 0, whatever the server wrote.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "internal.h"

static int
position_of(const char *p)
{
    fw_pg_fields f;
    fw_error e = {.cls = FW_OK};
    int pos;

    memset(&f, 0, sizeof f);
    f.message = "m";
    f.sqlstate = "42601";
    f.position = p;
    fw_error_set_fields(&e, FW_ERR_SQL, &f);
    cr_assert_eq(e.cls, FW_ERR_SQL);
    cr_assert_str_eq(e.message, "m");
    pos = e.position;
    fw_error_clear(&e);
    return pos;
}

Test(error_fields, error_position_from_a_hostile_server)
{
    cr_assert_eq(position_of("8"), 8);
    cr_assert_eq(position_of("2147483647"), 2147483647);
    cr_assert_eq(position_of(NULL), 0);
    cr_assert_eq(position_of(""), 0);
    cr_assert_eq(position_of("0"), 0);
    cr_assert_eq(position_of("-5"), 0);
    cr_assert_eq(position_of("2147483648"), 0);
    cr_assert_eq(position_of("99999999999"), 0);
    cr_assert_eq(position_of("99999999999999999999999"), 0);
    cr_assert_eq(position_of("12abc"), 0);
    cr_assert_eq(position_of(" 12"), 0);
}
