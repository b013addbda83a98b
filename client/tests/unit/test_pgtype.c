/*
 * pgtype.c: the names schema errors give for a result column's type.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "pgtype.h"

Test(pgtype, builtin_names_as_format_type)
{
    cr_assert_str_eq(fw_pg_type_name(25), "text");
    cr_assert_str_eq(fw_pg_type_name(23), "integer");
    cr_assert_str_eq(fw_pg_type_name(114), "json");
    cr_assert_str_eq(fw_pg_type_name(3802), "jsonb");
    cr_assert_str_eq(fw_pg_type_name(1184), "timestamp with time zone");
    cr_assert_str_eq(fw_pg_type_name(16), "boolean");
    cr_assert_str_eq(fw_pg_type_name(4072), "jsonpath");
    cr_assert_str_eq(fw_pg_type_name(1009), "text[]");
}

Test(pgtype, every_entry_is_found)
{
    /* The lookup is a binary search: an entry out of order would be missed. */
    static const unsigned oids[] = {16, 17, 18, 19, 20, 21, 23, 24, 25, 26, 114, 142, 199, 600,
                                    650, 700, 701, 705, 790, 829, 869, 1000, 1005, 1007, 1009,
                                    1015, 1016, 1021, 1022, 1042, 1043, 1082, 1083, 1114, 1115,
                                    1182, 1184, 1185, 1186, 1231, 1266, 1560, 1562, 1700, 2205,
                                    2206, 2249, 2278, 2287, 2950, 2951, 3614, 3802, 3807, 3904,
                                    3906, 3910, 3912, 4072};
    for (size_t i = 0; i < sizeof oids / sizeof oids[0]; i++)
        cr_assert_not_null(fw_pg_type_name(oids[i]), "oid %u", oids[i]);
}

Test(pgtype, unknown_oid_is_described_with_its_number)
{
    char buf[64];

    cr_assert_null(fw_pg_type_name(16384));
    cr_assert_null(fw_pg_type_name(0));
    cr_assert_str_eq(fw_pg_type_describe(16384, buf, sizeof buf),
                     "a type unknown to the client (type oid 16384)");
    cr_assert_str_eq(fw_pg_type_describe(25, buf, sizeof buf), "text");
    /* truncated, still terminated */
    cr_assert_str_eq(fw_pg_type_describe(16384, buf, 7), "a type");
}
