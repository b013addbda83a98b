/*
 * version.c — the version of the loaded library, and the compile-time check
 * that the public header agrees with fraiseql_wire.control.
 */
#include <string.h>

#include "fraiseql_wire.h"

#ifdef FW_VERSION_FROM_CONTROL
_Static_assert(sizeof(FW_VERSION_FROM_CONTROL) == sizeof(FW_VERSION_STRING),
               "FW_VERSION_STRING differs from default_version in fraiseql_wire.control");
#endif

FW_API int
fw_version_num(void)
{
    return FW_VERSION_NUM;
}

FW_API const char *
fw_version_string(void)
{
    return FW_VERSION_STRING;
}
