#include <criterion/criterion.h>
#include <string.h>

#include "fraiseql_wire.h"

Test(version, loaded_library_matches_header)
{
    cr_assert_eq(fw_version_num(), FW_VERSION_NUM);
    cr_assert_str_eq(fw_version_string(), FW_VERSION_STRING);
    cr_assert_str_eq(FW_VERSION_STRING, FW_VERSION_FROM_CONTROL);
}
