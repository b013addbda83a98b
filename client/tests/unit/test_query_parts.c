/*
 * One part of a parallel query (query.c, fw_query_render_part): the range
 * is ANDed into WHERE, bounds only as parameters — key ranges as untyped
 * parameters, block ranges through fraiseql_wire.in_blocks() with typed ones.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "fraiseql_wire.h"
#include "query.h"

static void
render(fw_query *q, fw_query_part part, const char *sql, int nparams, const char *const *params)
{
    char *out = NULL, **ps = NULL;
    int n = -1;

    cr_assert_eq(fw_query_render_part(q, &part, &out, &ps, &n), FW_OK);
    cr_assert_str_eq(out, sql);
    cr_assert_eq(n, nparams);
    for (int i = 0; i < nparams; i++)
        cr_assert_str_eq(ps[i], params[i], "parameter %d", i + 1);
    free(out);
    fw_query_free_params(ps, n);
}

Test(query_parts, key_range_with_untyped_bounds)
{
    fw_query *q = NULL;
    cr_assert_eq(fw_query_new("item", &q), FW_OK);
    render(q, (fw_query_part){.key_column = "id", .lower = "10", .upper = "20"},
           "SELECT data FROM \"v_item\" WHERE \"id\" >= $1 AND \"id\" < $2", 2,
           (const char *const[]){"10", "20"});
    render(q, (fw_query_part){.key_column = "we\"ird", .lower = NULL, .upper = "x'y"},
           "SELECT data FROM \"v_item\" WHERE \"we\"\"ird\" < $1", 1, (const char *const[]){"x'y"});
    fw_query_free(q);
}

Test(query_parts, block_range_through_in_blocks)
{
    fw_query *q = NULL;
    cr_assert_eq(fw_query_new("item", &q), FW_OK);
    render(q, (fw_query_part){.key_column = "ctid", .lower = "(5,0)", .upper = "(9,0)", .blocks = 1},
           "SELECT data FROM \"v_item\" WHERE fraiseql_wire.in_blocks(data, $1::tid, $2::tid)", 2,
           (const char *const[]){"(5,0)", "(9,0)"});
    /* The first and the last part: the open side is a NULL literal. */
    render(q, (fw_query_part){.key_column = "ctid", .upper = "(5,0)", .blocks = 1},
           "SELECT data FROM \"v_item\" WHERE fraiseql_wire.in_blocks(data, NULL, $1::tid)", 1,
           (const char *const[]){"(5,0)"});
    render(q, (fw_query_part){.key_column = "ctid", .lower = "(9,0)", .blocks = 1},
           "SELECT data FROM \"v_item\" WHERE fraiseql_wire.in_blocks(data, $1::tid, NULL)", 1,
           (const char *const[]){"(9,0)"});
    /* One part: no condition at all. */
    render(q, (fw_query_part){.key_column = "ctid", .blocks = 1}, "SELECT data FROM \"v_item\"", 0,
           NULL);
    fw_query_free(q);
}

Test(query_parts, block_range_after_the_filter_and_before_order_and_limit)
{
    fw_query *q = NULL;
    cr_assert_eq(fw_query_new("item", &q), FW_OK);
    cr_assert_eq(fw_query_use_table(q), FW_OK);
    cr_assert_eq(fw_query_set_filter(q, "{\"status\":{\"eq\":\"a\"}}"), FW_OK);
    cr_assert_eq(fw_query_set_limit(q, 7), FW_OK);
    render(q, (fw_query_part){.key_column = "ctid", .lower = "(1,0)", .upper = "(2,0)", .blocks = 1},
           "SELECT data FROM \"tv_item\" WHERE fraiseql_wire.matches(data, $1::jsonb) AND "
           "fraiseql_wire.in_blocks(data, $2::tid, $3::tid) LIMIT $4::bigint",
           4, (const char *const[]){"{\"status\":{\"eq\":\"a\"}}", "(1,0)", "(2,0)", "7"});
    fw_query_free(q);
}
