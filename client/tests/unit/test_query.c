/*
 * The query builder: names validated and quoted, values only as parameters.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "fraiseql_wire.h"

static fw_query *
new_ok(const char *entity)
{
    fw_query *q = NULL;
    cr_assert_eq(fw_query_new(entity, &q), FW_OK, "fw_query_new(%s): %s", entity,
                 fw_query_error_message(q));
    return q;
}

Test(query, plain_entity_reads_its_v_view)
{
    fw_query *q = new_ok("user");
    cr_assert_str_eq(fw_query_sql(q), "SELECT data FROM \"v_user\"");
    cr_assert_eq(fw_query_nparams(q), 0);
    fw_query_free(q);
}

Test(query, schema_qualified_entity_and_table_view)
{
    fw_query *q = new_ok("app.Order_2");
    cr_assert_str_eq(fw_query_sql(q), "SELECT data FROM \"app\".\"v_Order_2\"");
    cr_assert_eq(fw_query_use_table(q), FW_OK);
    cr_assert_str_eq(fw_query_sql(q), "SELECT data FROM \"app\".\"tv_Order_2\"");
    fw_query_free(q);
}

Test(query, hostile_entity_names_are_config_errors)
{
    static const char *const bad[] = {
        "x\"; DROP TABLE t; --", "x;y", "x--", "x/*", "a\\b", "$$x", "1abc", "é", "caf\xc3\xa9",
        "a b", "a.b.c", "\"quoted\"", "", "x'y", ".x", "x.", "a\nb",
        "user; DROP TABLE x", "us\"er", "1user", ".user", "user.", "us--er", "us er", "user\n",
        "$user",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 61 bytes */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        fw_query *q = NULL;
        fw_status st = fw_query_new(bad[i], &q);

        cr_assert_eq(st, FW_ERR_CONFIG, "entity \"%s\" was accepted", bad[i]);
        cr_assert_not_null(q, "a failed fw_query_new still returns a handle");
        cr_assert_not_null(fw_query_error_message(q));
        cr_assert(strstr(fw_query_error_message(q), "entity") != NULL, "%s", fw_query_error_message(q));
        fw_query_free(q);
    }
    /* Relations given explicitly: any name, but well-formed. */
    static const char *const bad_rel[] = {"x; DROP TABLE t", "\"unterminated", "\"\"", "a.b.c",
                                          "x--", "x/*", "\"a\"b"};
    for (size_t i = 0; i < sizeof bad_rel / sizeof *bad_rel; i++) {
        fw_query *q = new_ok("ok");

        cr_assert_eq(fw_query_set_relation(q, bad_rel[i]), FW_ERR_CONFIG, "relation %s accepted",
                     bad_rel[i]);
        cr_assert(strstr(fw_query_error_message(q), "relation") != NULL, "%s", fw_query_error_message(q));
        fw_query_free(q);
    }
}

/* The extension's limit (tv_<entity>_sync fits 63 bytes); the shell test
 * client/tests/shell/45_entity_name_max.sh checks that it agrees. */
Test(query, entity_length_is_fw_entity_name_max)
{
    char name[64], msg[64];
    cr_assert_eq(FW_ENTITY_NAME_MAX, 55);
    memset(name, 'a', FW_ENTITY_NAME_MAX + 1);
    name[FW_ENTITY_NAME_MAX + 1] = 0;
    fw_query *q = NULL;
    cr_assert_eq(fw_query_new(name, &q), FW_ERR_CONFIG);
    snprintf(msg, sizeof msg, "longer than %d bytes", FW_ENTITY_NAME_MAX);
    cr_assert(strstr(fw_query_error_message(q), msg) != NULL, "%s", fw_query_error_message(q));
    fw_query_free(q);
    name[FW_ENTITY_NAME_MAX] = 0;
    q = new_ok(name);
    fw_query_free(q);
}

Test(query, explicit_relation_is_quoted_as_given)
{
    fw_query *q = new_ok("user");
    cr_assert_eq(fw_query_set_relation(q, "\"My Schema\".\"odd\"\"name\""), FW_OK, "%s",
                 fw_query_error_message(q));
    cr_assert_str_eq(fw_query_sql(q), "SELECT data FROM \"My Schema\".\"odd\"\"name\"");
    cr_assert_eq(fw_query_use_table(q), FW_ERR_CONFIG, "tv_ of an explicit relation");
    cr_assert_eq(fw_query_set_relation(q, "x; DELETE FROM y"), FW_ERR_CONFIG);
    cr_assert_eq(fw_query_set_relation(q, "\"unterminated"), FW_ERR_CONFIG);
    cr_assert_eq(fw_query_set_relation(q, "\"\""), FW_ERR_CONFIG);
    cr_assert(strstr(fw_query_error_message(q), "empty identifier") != NULL, "%s", fw_query_error_message(q));
    /* A failed call leaves the previous relation in place. */
    cr_assert_str_eq(fw_query_sql(q), "SELECT data FROM \"My Schema\".\"odd\"\"name\"");
    fw_query_free(q);
}

Test(query, filter_travels_as_a_jsonb_parameter)
{
    fw_query *q = new_ok("user");
    const char *filter = "{\"name\": {\"eq\": \"O'Brien; --\"}}";
    cr_assert_eq(fw_query_set_filter(q, filter), FW_OK, "%s", fw_query_error_message(q));
    cr_assert_str_eq(fw_query_sql(q),
                     "SELECT data FROM \"v_user\" WHERE fraiseql_wire.matches(data, $1::jsonb)");
    cr_assert_eq(fw_query_nparams(q), 1);
    cr_assert_str_eq(fw_query_param(q, 0), filter);
    cr_assert_null(fw_query_param(q, 1));
    fw_query_free(q);
}

Test(query, filter_must_be_a_json_object)
{
    fw_query *q = new_ok("user");
    cr_assert_eq(fw_query_set_filter(q, "[1,2]"), FW_ERR_CONFIG);
    cr_assert(strstr(fw_query_error_message(q), "JSON object") != NULL, "%s", fw_query_error_message(q));
    cr_assert_eq(fw_query_set_filter(q, "{\"a\": "), FW_ERR_CONFIG);
    cr_assert_eq(fw_query_set_filter(q, "{} trailing"), FW_ERR_CONFIG);
    cr_assert_eq(fw_query_set_filter(q, "{\"a\": \"\xff\"}"), FW_ERR_CONFIG, "invalid UTF-8");
    cr_assert_str_eq(fw_query_sql(q), "SELECT data FROM \"v_user\"");
    fw_query_free(q);
}

Test(query, order_limit_offset_are_parameters)
{
    fw_query *q = new_ok("user");
    cr_assert_eq(fw_query_set_filter(q, "{}"), FW_OK);
    cr_assert_eq(fw_query_add_order_by(q, "author.name", FW_ORDER_TEXT, FW_ORDER_DESC | FW_ORDER_NULLS_LAST),
                 FW_OK);
    cr_assert_eq(fw_query_add_order_by(q, "score", FW_ORDER_NUMERIC, 0), FW_OK);
    cr_assert_eq(fw_query_add_order_by(q, "id", FW_ORDER_JSONB, FW_ORDER_NULLS_FIRST), FW_OK);
    cr_assert_eq(fw_query_set_limit(q, 10), FW_OK);
    cr_assert_eq(fw_query_set_offset(q, 20), FW_OK);
    cr_assert_str_eq(fw_query_sql(q),
                     "SELECT data FROM \"v_user\" WHERE fraiseql_wire.matches(data, $1::jsonb)"
                     " ORDER BY fraiseql_wire.sort_key_text(data, $2::text, $3::text) COLLATE \"C\""
                     " DESC NULLS LAST,"
                     " fraiseql_wire.sort_key_numeric(data, $4::text) ASC,"
                     " (data->$5::text) ASC NULLS FIRST"
                     " LIMIT $6::bigint OFFSET $7::bigint");
    const char *expect[] = {"{}", "author", "name", "score", "id", "10", "20"};
    cr_assert_eq(fw_query_nparams(q), 7);
    for (int i = 0; i < 7; i++)
        cr_assert_str_eq(fw_query_param(q, i), expect[i], "param %d", i + 1);
    cr_assert_eq(fw_query_set_limit(q, -1), FW_OK);
    cr_assert(strstr(fw_query_sql(q), "LIMIT") == NULL);
    fw_query_free(q);
}

Test(query, order_keys_with_sql_are_just_values)
{
    fw_query *q = new_ok("user");
    cr_assert_eq(fw_query_add_order_by(q, "x'); DROP TABLE t; --", FW_ORDER_JSONB, 0), FW_OK);
    cr_assert_str_eq(fw_query_sql(q), "SELECT data FROM \"v_user\" ORDER BY (data->$1::text) ASC");
    cr_assert_str_eq(fw_query_param(q, 0), "x'); DROP TABLE t; --");
    fw_query_free(q);
}

/* Typed keys are the extension's sort keys (which the planner can map to an
 * indexed column of a v_ view); every path key is a parameter. */
Test(query, typed_order_keys_are_sort_key_calls)
{
    fw_query *q = new_ok("user");
    cr_assert_eq(fw_query_add_order_by(q, "flags.active", FW_ORDER_BOOLEAN, FW_ORDER_DESC), FW_OK);
    cr_assert_eq(fw_query_add_order_by(q, "x')) DESC; --", FW_ORDER_NUMERIC, FW_ORDER_NULLS_LAST),
                 FW_OK);
    cr_assert_eq(fw_query_add_order_by(q, "d", FW_ORDER_DATE, 0), FW_OK);
    cr_assert_str_eq(fw_query_sql(q),
                     "SELECT data FROM \"v_user\" ORDER BY"
                     " fraiseql_wire.sort_key_boolean(data, $1::text, $2::text) DESC,"
                     " fraiseql_wire.sort_key_numeric(data, $3::text) ASC NULLS LAST,"
                     " (data->>$4::text)::date ASC");
    cr_assert_eq(fw_query_nparams(q), 4);
    cr_assert_str_eq(fw_query_param(q, 0), "flags");
    cr_assert_str_eq(fw_query_param(q, 1), "active");
    cr_assert_str_eq(fw_query_param(q, 2), "x')) DESC; --");
    cr_assert_str_eq(fw_query_param(q, 3), "d");
    fw_query_free(q);
}

Test(query, bad_order_and_limits_are_refused)
{
    fw_query *q = new_ok("user");
    cr_assert_eq(fw_query_add_order_by(q, "", FW_ORDER_JSONB, 0), FW_ERR_CONFIG);
    cr_assert_eq(fw_query_add_order_by(q, "a..b", FW_ORDER_JSONB, 0), FW_ERR_CONFIG);
    cr_assert_eq(fw_query_add_order_by(q, "a.", FW_ORDER_JSONB, 0), FW_ERR_CONFIG);
    cr_assert_eq(fw_query_add_order_by(q, "a", FW_ORDER_JSONB, FW_ORDER_NULLS_FIRST | FW_ORDER_NULLS_LAST),
                 FW_ERR_CONFIG);
    cr_assert_eq(fw_query_add_order_by(q, "a", (fw_order_type)99, 0), FW_ERR_CONFIG);
    cr_assert_eq(fw_query_set_limit(q, -2), FW_ERR_CONFIG);
    cr_assert_eq(fw_query_set_offset(q, -5), FW_ERR_CONFIG);
    cr_assert_str_eq(fw_query_sql(q), "SELECT data FROM \"v_user\"");
    fw_query_free(q);
}

Test(query, trusted_fragments_are_named_and_used_as_written)
{
    fw_query *q = new_ok("user");
    cr_assert_eq(fw_query_set_filter(q, "{\"a\":{\"eq\":1}}"), FW_OK);
    cr_assert_eq(fw_query_set_where_sql_trusted(q, "data ? 'vip'"), FW_OK);
    cr_assert_eq(fw_query_set_order_by_sql_trusted(q, "data->>'id'"), FW_OK);
    cr_assert_str_eq(fw_query_sql(q),
                     "SELECT data FROM \"v_user\" WHERE fraiseql_wire.matches(data, $1::jsonb)"
                     " AND (data ? 'vip') ORDER BY data->>'id'");
    fw_query_free(q);
}

Test(query, null_handles_are_safe)
{
    fw_query_free(NULL);
    cr_assert_null(fw_query_error_message(NULL));
    cr_assert_null(fw_query_sql(NULL));
    cr_assert_eq(fw_query_nparams(NULL), 0);
    cr_assert_eq(fw_query_set_limit(NULL, 1), FW_ERR_USAGE);
    cr_assert_eq(fw_query_new("x", NULL), FW_ERR_USAGE);
}
