/*
 * The error shape every handle shares (class and message on fw_conninfo
 * and fw_query as on fw_conn), and FW_ERR_LIMIT for the query builder's
 * limits, apart from FW_ERR_MEMORY.  No server needed.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fraiseql_wire.h"

static fw_query *
new_query(void)
{
    fw_query *q = NULL;
    cr_assert_eq(fw_query_new("item", &q), FW_OK);
    return q;
}

Test(api_errors, limit_is_its_own_status)
{
    cr_assert_eq(FW_ERR_LIMIT, -12);
    cr_assert_str_eq(fw_status_name(FW_ERR_LIMIT), "limit");
    cr_assert_str_eq(fw_status_name(FW_ERR_MEMORY), "memory");
}

Test(api_errors, conninfo_error_class_and_message)
{
    fw_conninfo *ci = NULL;

    cr_assert_eq(fw_conninfo_parse("sslmode=bogus", FW_CONNINFO_NO_ENV, &ci), FW_ERR_CONFIG);
    cr_assert_eq(fw_conninfo_error_class(ci), FW_ERR_CONFIG);
    cr_assert_not_null(fw_conninfo_error_message(ci));
    cr_assert(strstr(fw_conninfo_error_message(ci), "sslmode") != NULL, "%s",
              fw_conninfo_error_message(ci));
    fw_conninfo_free(ci);

    cr_assert_eq(fw_conninfo_parse("host=/tmp port=5432", FW_CONNINFO_NO_ENV, &ci), FW_OK);
    cr_assert_eq(fw_conninfo_error_class(ci), FW_OK);
    cr_assert_null(fw_conninfo_error_message(ci));
    fw_conninfo_free(ci);

    cr_assert_eq(fw_conninfo_error_class(NULL), FW_ERR_USAGE);
    cr_assert_null(fw_conninfo_error_message(NULL));
}

Test(api_errors, query_error_class_and_message_follow_the_last_call)
{
    fw_query *q = new_query();

    cr_assert_eq(fw_query_error_class(q), FW_OK);
    cr_assert_null(fw_query_error_message(q));
    cr_assert_eq(fw_query_set_limit(q, -5), FW_ERR_CONFIG);
    cr_assert_eq(fw_query_error_class(q), FW_ERR_CONFIG);
    cr_assert(strstr(fw_query_error_message(q), "LIMIT") != NULL, "%s",
              fw_query_error_message(q));
    /* A call that succeeds clears both. */
    cr_assert_eq(fw_query_set_limit(q, 5), FW_OK);
    cr_assert_eq(fw_query_error_class(q), FW_OK);
    cr_assert_null(fw_query_error_message(q));
    fw_query_free(q);

    cr_assert_eq(fw_query_error_class(NULL), FW_ERR_USAGE);
    cr_assert_null(fw_query_error_message(NULL));

    /* A failed fw_query_new still hands back the handle with the error. */
    q = NULL;
    cr_assert_eq(fw_query_new("1bad", &q), FW_ERR_CONFIG);
    cr_assert_eq(fw_query_error_class(q), FW_ERR_CONFIG);
    cr_assert_not_null(fw_query_error_message(q));
    fw_query_free(q);
}

Test(api_errors, too_many_order_by_fields_is_limit)
{
    fw_query *q = new_query();
    int i;

    for (i = 0; i < 32; i++)
        cr_assert_eq(fw_query_add_order_by(q, "a", FW_ORDER_JSONB, 0), FW_OK);
    cr_assert_eq(fw_query_add_order_by(q, "a", FW_ORDER_JSONB, 0), FW_ERR_LIMIT);
    cr_assert_eq(fw_query_error_class(q), FW_ERR_LIMIT);
    cr_assert(strstr(fw_query_error_message(q), "at most 32") != NULL, "%s",
              fw_query_error_message(q));
    fw_query_free(q);
}

Test(api_errors, order_by_path_deeper_than_32_keys_is_limit)
{
    fw_query *q = new_query();
    char path[128] = "";

    for (int i = 0; i < 32; i++)
        strcat(path, i ? ".k" : "k");
    cr_assert_eq(fw_query_add_order_by(q, path, FW_ORDER_JSONB, 0), FW_OK, "32 keys");
    strcat(path, ".k");
    cr_assert_eq(fw_query_add_order_by(q, path, FW_ORDER_JSONB, 0), FW_ERR_LIMIT, "33 keys");
    cr_assert(strstr(fw_query_error_message(q), "deeper than 32") != NULL, "%s",
              fw_query_error_message(q));
    /* A malformed path stays a configuration error. */
    cr_assert_eq(fw_query_add_order_by(q, "a..b", FW_ORDER_JSONB, 0), FW_ERR_CONFIG);
    fw_query_free(q);
}

static int
keep_all(void *arg, const char *json, size_t len)
{
    (void)arg, (void)json, (void)len;
    return 1;
}

Test(api_errors, too_many_predicates_is_limit)
{
    fw_query *q = new_query();

    for (int i = 0; i < 32; i++)
        cr_assert_eq(fw_query_add_predicate(q, keep_all, NULL), FW_OK);
    cr_assert_eq(fw_query_add_predicate(q, keep_all, NULL), FW_ERR_LIMIT);
    cr_assert_eq(fw_query_error_class(q), FW_ERR_LIMIT);
    fw_query_free(q);
}

/* {"a": {"a": … {"eq": 1} … }} with depth objects in all. */
static char *
nested_filter(int depth)
{
    size_t n = (size_t)depth * 8 + 16;
    char *s = malloc(n), *p = s;

    cr_assert_not_null(s);
    for (int i = 0; i < depth - 1; i++)
        p += sprintf(p, "{\"a\": ");
    p += sprintf(p, "{\"eq\": 1}");
    for (int i = 0; i < depth - 1; i++)
        *p++ = '}';
    *p = '\0';
    return s;
}

Test(api_errors, filter_nesting_over_the_client_limit_is_limit)
{
    fw_query *q = new_query();
    char *ok = nested_filter(10), *deep = nested_filter(200);

    cr_assert_eq(fw_query_set_filter(q, ok), FW_OK, "%s", fw_query_error_message(q));
    cr_assert_eq(fw_query_set_filter(q, deep), FW_ERR_LIMIT);
    cr_assert_eq(fw_query_error_class(q), FW_ERR_LIMIT);
    cr_assert(strstr(fw_query_error_message(q), "nested deeper than 64") != NULL, "%s",
              fw_query_error_message(q));
    /* Malformed JSON stays a configuration error. */
    cr_assert_eq(fw_query_set_filter(q, "{\"a\": "), FW_ERR_CONFIG);
    /* A failed call keeps the previous filter. */
    cr_assert(strstr(fw_query_sql(q), "matches") != NULL, "%s", fw_query_sql(q));
    free(ok);
    free(deep);
    fw_query_free(q);
}
