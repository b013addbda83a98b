/*
 * API hygiene: every public function accepts NULL handles and pointers
 * without crashing and with a documented answer; every failure carries an
 * error class (a failed connect still returns a handle with it);
 * fw_strerror names every status; the shared library exports only fw_*
 * symbols, and exactly those the header declares.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fraiseql_wire.h"

static int
keep_all(void *arg, const char *json, size_t len)
{
    (void)arg;
    (void)json;
    (void)len;
    return 1;
}

Test(api, every_function_accepts_null_handles)
{
    const char *json = "x", *value = "x";
    size_t len = 7;
    fw_conninfo *ci = (fw_conninfo *)1;
    fw_conn *c = (fw_conn *)1;
    fw_stream *s = (fw_stream *)1;
    fw_query *q = (fw_query *)1;
    const char *params[1] = {"1"};

    /* conninfo */
    cr_assert_eq(fw_conninfo_parse(NULL, 0, NULL), FW_ERR_USAGE);
    fw_conninfo_free(NULL);
    cr_assert_null(fw_conninfo_error(NULL));
    cr_assert_null(fw_conninfo_get(NULL, "host"));
    cr_assert_null(fw_conninfo_get(NULL, NULL));
    cr_assert_eq(fw_conninfo_count(NULL), 0);
    cr_assert_null(fw_conninfo_keyword(NULL, 0, NULL));
    cr_assert_null(fw_conninfo_keyword(NULL, 0, &value));
    cr_assert_eq(fw_conninfo_parse("host=h", 0, &ci), FW_OK);
    cr_assert_null(fw_conninfo_get(ci, NULL));
    cr_assert_null(fw_conninfo_keyword(ci, SIZE_MAX, &value));
    cr_assert_not_null(fw_conninfo_keyword(ci, 0, NULL));
    fw_conninfo_free(ci);

    /* connections */
    cr_assert_eq(fw_connect(NULL, NULL), FW_ERR_USAGE);
    cr_assert_eq(fw_connect("host=h", NULL), FW_ERR_USAGE);
    cr_assert_eq(fw_connect_info(NULL, NULL), FW_ERR_USAGE);
    cr_assert_eq(fw_connect_info(NULL, &c), FW_ERR_USAGE);
    cr_assert_not_null(c, "a failed connect returns a handle with the error");
    cr_assert_eq(fw_conn_error_class(c), FW_ERR_USAGE);
    cr_assert_not_null(fw_conn_error_message(c));
    cr_assert_eq(fw_conn_ok(c), 0);
    /* a handle that never connected */
    cr_assert_eq(fw_exec_simple(c, "SELECT 1"), FW_ERR_IO);
    cr_assert_eq(fw_conn_error_class(c), FW_ERR_IO);
    cr_assert_eq(fw_exec_simple(c, NULL), FW_ERR_IO);
    cr_assert_eq(fw_stream_sql(c, "SELECT 1", 0, NULL, 0, &s), FW_ERR_IO);
    cr_assert_null(s);
    cr_assert_null(fw_conn_parameter(c, NULL));
    fw_conn_free(c);
    fw_conn_free(NULL);
    cr_assert_eq(fw_conn_ok(NULL), 0);
    cr_assert_null(fw_conn_parameter(NULL, "server_version"));
    cr_assert_eq(fw_conn_backend_pid(NULL), 0);
    cr_assert_eq(fw_conn_tls(NULL), 0);
    fw_conn_set_notice_callback(NULL, NULL, NULL);
    fw_conn_set_max_row_bytes(NULL, 1);
    fw_conn_set_timeout(NULL, 1);
    cr_assert_eq(fw_conn_error_class(NULL), FW_ERR_USAGE);
    cr_assert_null(fw_conn_error_message(NULL));
    cr_assert_null(fw_conn_error_sqlstate(NULL));
    cr_assert_null(fw_conn_error_detail(NULL));
    cr_assert_null(fw_conn_error_hint(NULL));
    cr_assert_eq(fw_conn_error_position(NULL), 0);
    cr_assert_eq(fw_conn_error_retriable(NULL), 0);
    cr_assert_eq(fw_exec_simple(NULL, "SELECT 1"), FW_ERR_USAGE);

    /* streams */
    s = (fw_stream *)1;
    cr_assert_eq(fw_stream_sql(NULL, "SELECT 1", 0, NULL, 0, &s), FW_ERR_USAGE);
    cr_assert_null(s, "*out is cleared on failure");
    s = (fw_stream *)1;
    cr_assert_eq(fw_stream_sql_text(NULL, "SELECT 1", 1, params, 0, &s), FW_ERR_USAGE);
    cr_assert_null(s);
    cr_assert_eq(fw_stream_sql(NULL, NULL, 0, NULL, 0, NULL), FW_ERR_USAGE);
    s = (fw_stream *)1;
    cr_assert_eq(fw_stream_open(NULL, NULL, &s), FW_ERR_USAGE);
    cr_assert_null(s);
    cr_assert_eq(fw_stream_open(NULL, NULL, NULL), FW_ERR_USAGE);
    cr_assert_eq(fw_stream_next(NULL, &json, &len), FW_ERR_USAGE);
    cr_assert_null(json);
    cr_assert_eq(len, 0);
    cr_assert_eq(fw_stream_next(NULL, NULL, NULL), FW_ERR_USAGE);
    cr_assert_eq(fw_stream_cancel(NULL), FW_ERR_USAGE);
    cr_assert_eq(fw_stream_close(NULL), FW_OK);
    cr_assert_eq(fw_stream_rows(NULL), 0);
    cr_assert_eq(fw_stream_bytes(NULL), 0);
    cr_assert_eq(fw_stream_rows_dropped(NULL), 0);
    cr_assert_eq(fw_stream_first_row_usec(NULL), -1);
    cr_assert_eq(fw_stream_duration_usec(NULL), -1);
    cr_assert_null(fw_stream_data_type(NULL));

    /* queries */
    q = (fw_query *)1;
    cr_assert_neq(fw_query_new(NULL, &q), FW_OK);
    fw_query_free(q);   /* NULL, or a handle carrying the error */
    cr_assert_eq(fw_query_new("users", NULL), FW_ERR_USAGE);
    fw_query_free(NULL);
    cr_assert_null(fw_query_error(NULL));
    cr_assert_eq(fw_query_use_table(NULL), FW_ERR_USAGE);
    cr_assert_eq(fw_query_set_relation(NULL, "x"), FW_ERR_USAGE);
    cr_assert_eq(fw_query_where(NULL, "{}"), FW_ERR_USAGE);
    cr_assert_eq(fw_query_order_by(NULL, "a", FW_ORDER_TEXT, 0), FW_ERR_USAGE);
    cr_assert_eq(fw_query_limit(NULL, 1), FW_ERR_USAGE);
    cr_assert_eq(fw_query_offset(NULL, 1), FW_ERR_USAGE);
    cr_assert_eq(fw_query_chunk_size(NULL, 1), FW_ERR_USAGE);
    cr_assert_eq(fw_query_where_sql_trusted(NULL, "true"), FW_ERR_USAGE);
    cr_assert_eq(fw_query_order_by_sql_trusted(NULL, "1"), FW_ERR_USAGE);
    cr_assert_eq(fw_query_add_predicate(NULL, keep_all, NULL), FW_ERR_USAGE);
    cr_assert_null(fw_query_sql(NULL));
    cr_assert_eq(fw_query_nparams(NULL), 0);
    cr_assert_null(fw_query_param(NULL, 0));

    /* a real query handle with NULL arguments */
    cr_assert_eq(fw_query_new("users", &q), FW_OK);
    cr_assert_neq(fw_query_set_relation(q, NULL), FW_OK);
    cr_assert_eq(fw_query_where(q, NULL), FW_OK);   /* NULL removes the filter */
    cr_assert_neq(fw_query_order_by(q, NULL, FW_ORDER_TEXT, 0), FW_OK);
    cr_assert_eq(fw_query_where_sql_trusted(q, NULL), FW_OK);   /* NULL removes it */
    cr_assert_eq(fw_query_order_by_sql_trusted(q, NULL), FW_OK);   /* NULL removes it */
    cr_assert_neq(fw_query_add_predicate(q, NULL, NULL), FW_OK);
    cr_assert_null(fw_query_param(q, -1));
    cr_assert_null(fw_query_param(q, INT_MAX));
    fw_query_free(q);
}

Test(api, connect_with_bad_conninfo_is_a_config_error)
{
    fw_conn *c = NULL;
    fw_status st = fw_connect("host=x nosuchkeyword=1", &c);

    cr_assert_eq(st, FW_ERR_CONFIG);
    cr_assert_not_null(c);
    cr_assert_not_null(fw_conn_error_message(c));
    cr_assert_eq(fw_conn_ok(c), 0);
    fw_conn_free(c);
}

Test(api, conn_accessors_accept_null)
{
    fw_conn_free(NULL);
    cr_assert_eq(fw_conn_ok(NULL), 0);
    cr_assert_null(fw_conn_parameter(NULL, "x"));
    cr_assert_eq(fw_conn_backend_pid(NULL), 0);
    cr_assert_eq(fw_conn_tls(NULL), 0);
    cr_assert_null(fw_conn_error_message(NULL));
    cr_assert_null(fw_conn_error_sqlstate(NULL));
    cr_assert_eq(fw_conn_error_position(NULL), 0);
    cr_assert_eq(fw_conn_error_retriable(NULL), 0);
    cr_assert_eq(fw_stream_close(NULL), FW_OK);
    cr_assert_eq(fw_stream_rows(NULL), 0);
    cr_assert_str_eq(fw_strerror(FW_ERR_AUTH), "auth");
    cr_assert_str_eq(fw_strerror(FW_DONE), "done");
}

Test(api, strerror_names_every_status)
{
    static const struct {
        fw_status st;
        const char *name;
    } all[] = {{FW_OK, "ok"},
               {FW_DONE, "done"},
               {FW_ERR_IO, "io"},
               {FW_ERR_TLS, "tls"},
               {FW_ERR_AUTH, "auth"},
               {FW_ERR_PROTOCOL, "protocol"},
               {FW_ERR_SQL, "sql"},
               {FW_ERR_SCHEMA, "schema"},
               {FW_ERR_CANCELLED, "cancelled"},
               {FW_ERR_TIMEOUT, "timeout"},
               {FW_ERR_CONFIG, "config"},
               {FW_ERR_MEMORY, "memory"},
               {FW_ERR_USAGE, "usage"}};

    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        cr_assert_str_eq(fw_strerror(all[i].st), all[i].name);
    cr_assert_str_eq(fw_strerror((fw_status)-12), "unknown");
    cr_assert_str_eq(fw_strerror((fw_status)42), "unknown");
}

/* The .so next to the test binary (build/ or build-asan/) exports fw_* only,
 * and exactly the functions the header declares with FW_API. */
Test(api, shared_library_exports_only_the_header_api)
{
    char exe[4096], cmd[8400], line[512];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    FILE *p;
    int count = 0;

    cr_assert_gt(n, 0);
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0';   /* .../build/tests */
    *strrchr(exe, '/') = '\0';   /* .../build */
    snprintf(cmd, sizeof cmd,
             "nm -D --defined-only '%s/libfraiseql_wire.so' | awk '{print $3}' | sort", exe);
    p = popen(cmd, "r");
    cr_assert_not_null(p);
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '\0')
            continue;
        cr_assert(strncmp(line, "fw_", 3) == 0, "exported symbol %s is not fw_*", line);
        count++;
    }
    cr_assert_eq(pclose(p), 0, "nm failed");
    cr_assert_geq(count, 50, "only %d symbols read: is %s/libfraiseql_wire.so there?", count, exe);
}
