/*
 * FW_ERR_LIMIT against the real server: a Bind with more parameters than
 * the protocol's int16 count is refused before anything is sent, with the
 * connection left usable.  (The other limit sites are asserted where their
 * behaviour is tested: max_row_bytes, oversized server messages, the 1 GiB
 * message cap, row nesting; `grep -rn FW_ERR_LIMIT client/tests`.)
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "fw_test.h"

Test(api_limits, more_bind_parameters_than_the_protocol_allows, .timeout = 60)
{
    enum { N = 32768 };
    const char **params;
    fw_conn *c;
    fw_stream *s = NULL;
    fw_status st;
    char *v;

    FWT_REQUIRE_SERVER();
    params = calloc(N, sizeof *params);
    cr_assert_not_null(params);
    for (int i = 0; i < N; i++)
        params[i] = "1";
    c = fwt_connect(fwt_sock("postgres", NULL));
    st = fw_stream_open_sql(c, "SELECT $1::jsonb AS data", N, params, 0, &s);
    cr_assert_eq(st, FW_ERR_LIMIT, "%s: %s", fw_status_name(st), fw_conn_error_message(c));
    cr_assert_null(s);
    cr_assert_eq(fw_conn_error_class(c), FW_ERR_LIMIT);
    cr_assert(strstr(fw_conn_error_message(c), "32767") != NULL, "%s", fw_conn_error_message(c));
    /* Nothing was sent: the connection answers the next query. */
    v = fwt_one_row(c, "SELECT $1::jsonb AS data", 1, params);
    cr_assert_str_eq(v, "1");
    free(v);
    free(params);
    fw_conn_free(c);
}
