/*
 * fw_conninfo_parse_params through the public header only: what a program
 * (the fraiseql-wire command among them) relies on.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "fraiseql_wire.h"

static void
expect_value(const fw_conninfo *ci, const char *kw, const char *value)
{
    const char *got = fw_conninfo_get(ci, kw);

    if (value == NULL) {
        cr_assert_null(got, "%s is [%s], expected unset", kw, got);
        return;
    }
    cr_assert_not_null(got, "%s is unset, expected [%s]", kw, value);
    cr_assert_str_eq(got, value, "%s", kw);
}

Test(conninfo_params_public, pairs_in_order_last_wins)
{
    const char *kw[] = {"host", "port", "user", "port", NULL};
    const char *val[] = {"db.example.com", "5433", "alice", "6543", NULL};
    fw_conninfo *ci = NULL;

    cr_assert_eq(fw_conninfo_parse_params(kw, val, 0, FW_CONNINFO_NO_ENV, &ci), FW_OK);
    cr_assert_null(fw_conninfo_error(ci));
    expect_value(ci, "host", "db.example.com");
    expect_value(ci, "port", "6543");
    expect_value(ci, "user", "alice");
    fw_conninfo_free(ci);
}

Test(conninfo_params_public, null_and_empty_values_are_skipped)
{
    const char *kw[] = {"port", "port", "user", "password", "application_name", NULL};
    const char *val[] = {"5433", NULL, "", NULL, "app", NULL};
    fw_conninfo *ci = NULL;

    cr_assert_eq(fw_conninfo_parse_params(kw, val, 1, FW_CONNINFO_NO_ENV, &ci), FW_OK);
    expect_value(ci, "port", "5433");   /* a NULL later does not unset it */
    expect_value(ci, "password", NULL);
    expect_value(ci, "application_name", "app");
    /* user: the default (the OS user), not "" */
    cr_assert_not_null(fw_conninfo_get(ci, "user"));
    cr_assert_neq(fw_conninfo_get(ci, "user")[0], '\0');
    fw_conninfo_free(ci);
}

Test(conninfo_params_public, unknown_keyword_is_config_error_with_message)
{
    const char *kw[] = {"host", "colour", NULL};
    const char *val[] = {"h", "blue", NULL};
    fw_conninfo *ci = NULL;

    cr_assert_eq(fw_conninfo_parse_params(kw, val, 0, FW_CONNINFO_NO_ENV, &ci), FW_ERR_CONFIG);
    cr_assert_not_null(ci, "a failed parse still returns a handle with the error");
    cr_assert_str_eq(fw_conninfo_error(ci), "invalid connection option \"colour\"");
    fw_conninfo_free(ci);

    /* a bad value of a known keyword, too */
    const char *kw2[] = {"sslmode", NULL};
    const char *val2[] = {"sometimes", NULL};
    cr_assert_eq(fw_conninfo_parse_params(kw2, val2, 0, FW_CONNINFO_NO_ENV, &ci), FW_ERR_CONFIG);
    cr_assert_not_null(strstr(fw_conninfo_error(ci), "sometimes"), "%s", fw_conninfo_error(ci));
    fw_conninfo_free(ci);
}

Test(conninfo_params_public, expand_dbname_as_psql_d)
{
    const char *kw[] = {"host", "port", "dbname", "fallback_application_name", NULL};
    const char *val[] = {"cli-host", "1111", "host=kv-host dbname=realdb", "tool", NULL};
    fw_conninfo *ci = NULL;

    /* expanded: the string's settings override the entries before it */
    cr_assert_eq(fw_conninfo_parse_params(kw, val, 1, FW_CONNINFO_NO_ENV, &ci), FW_OK);
    expect_value(ci, "host", "kv-host");
    expect_value(ci, "port", "1111");
    expect_value(ci, "dbname", "realdb");
    expect_value(ci, "fallback_application_name", "tool");
    fw_conninfo_free(ci);

    /* not expanded: dbname is a (strange) database name */
    cr_assert_eq(fw_conninfo_parse_params(kw, val, 0, FW_CONNINFO_NO_ENV, &ci), FW_OK);
    expect_value(ci, "host", "cli-host");
    expect_value(ci, "dbname", "host=kv-host dbname=realdb");
    fw_conninfo_free(ci);

    /* a URI is expanded too; an error in it is the parse error */
    const char *val2[] = {NULL, NULL, "postgresql://u@urihost:2222/d", NULL, NULL};
    cr_assert_eq(fw_conninfo_parse_params(kw, val2, 1, FW_CONNINFO_NO_ENV, &ci), FW_OK);
    expect_value(ci, "host", "urihost");
    expect_value(ci, "port", "2222");
    expect_value(ci, "user", "u");
    fw_conninfo_free(ci);
    const char *val3[] = {NULL, NULL, "host=a nope=1", NULL, NULL};
    cr_assert_eq(fw_conninfo_parse_params(kw, val3, 1, FW_CONNINFO_NO_ENV, &ci), FW_ERR_CONFIG);
    cr_assert_str_eq(fw_conninfo_error(ci), "invalid connection option \"nope\"");
    fw_conninfo_free(ci);
}

Test(conninfo_params_public, misuse)
{
    const char *kw[] = {"host", NULL};
    fw_conninfo *ci = (fw_conninfo *)0x1;

    cr_assert_eq(fw_conninfo_parse_params(kw, NULL, 0, FW_CONNINFO_NO_ENV, &ci), FW_ERR_USAGE);
    cr_assert_null(ci);
    cr_assert_eq(fw_conninfo_parse_params(kw, kw, 0, FW_CONNINFO_NO_ENV, NULL), FW_ERR_USAGE);
    /* no keywords at all: the defaults */
    cr_assert_eq(fw_conninfo_parse_params(NULL, NULL, 0, FW_CONNINFO_NO_ENV, &ci), FW_OK);
    cr_assert_not_null(fw_conninfo_get(ci, "port"));
    fw_conninfo_free(ci);
}
