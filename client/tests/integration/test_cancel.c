/*
 * Cancelling a running query (from another thread, as a caller with a
 * deadline would), and a backend killed in the middle of a stream.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fw_test.h"

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct canceller {
    fw_stream *s;
    double at;
    fw_status st;
} canceller;

static void *
cancel_later(void *arg)
{
    canceller *k = arg;

    usleep(500 * 1000);
    k->at = now_s();
    k->st = fw_stream_cancel(k->s);
    return NULL;
}

/* The backend's state, or "gone"; malloc'd. */
static char *
backend_state(int pid)
{
    fw_conn *c = fwt_connect(fwt_sock("postgres", NULL));
    char num[16];
    const char *p[1] = {num};
    fw_stream *s = NULL;
    const char *json;
    size_t len;
    char *out;

    snprintf(num, sizeof num, "%d", pid);
    cr_assert_eq(fw_stream_open_sql(c, "SELECT to_jsonb(state) AS data FROM pg_stat_activity "
                                  "WHERE pid = $1::int", 1, p, 0, &s), FW_OK);
    if (fw_stream_next(s, &json, &len) == FW_OK) {
        out = strndup(json, len);
    } else {
        out = strdup("gone");
    }
    fw_stream_close(s);
    fw_conn_free(c);
    return out;
}

Test(cancel, long_query_cancelled_within_a_second, .timeout = 60)
{
    fw_conn *c;
    fw_stream *s = NULL;
    const char *json;
    size_t len;
    fw_status st;
    pthread_t th;
    canceller k = {0};
    double done;
    char *state;

    FWT_REQUIRE_SERVER();
    c = fwt_connect(fwt_tcp("fw_scram", "password=fw_scram_pw sslmode=require"));
    st = fw_stream_open_sql(c, "SELECT '{}'::jsonb AS data FROM pg_sleep(30)", 0, NULL, 0, &s);
    cr_assert_eq(st, FW_OK, "%s", fw_conn_error_message(c));
    k.s = s;
    cr_assert_eq(pthread_create(&th, NULL, cancel_later, &k), 0);
    st = fw_stream_next(s, &json, &len);
    done = now_s();
    pthread_join(th, NULL);
    cr_assert_eq(k.st, FW_OK);
    cr_assert_eq(st, FW_ERR_CANCELLED, "%s: %s", fw_status_name(st), fw_conn_error_message(c));
    cr_assert_str_eq(fw_conn_error_sqlstate(c), "57014");
    cr_assert_leq(done - k.at, 1.0, "returned %.3f s after the cancel", done - k.at);
    cr_assert(fw_conn_ok(c), "the connection stays usable");
    cr_assert_eq(fw_stream_close(s), FW_OK);

    state = backend_state(fw_conn_backend_pid(c));
    cr_assert(strcmp(state, "\"idle\"") == 0 || strcmp(state, "gone") == 0, "backend is %s", state);
    free(state);
    cr_assert_eq(fwt_count_rows(c, "SELECT to_jsonb(1) AS data", 0), 1);
    fw_conn_free(c);
}

Test(cancel, cancel_between_chunks_and_close_with_rows_left, .timeout = 60)
{
    fw_conn *c;
    fw_stream *s = NULL;
    const char *json;
    size_t len;
    char *state;

    FWT_REQUIRE_SERVER();
    c = fwt_connect(fwt_sock("fw_trust", NULL));
    cr_assert_eq(fw_stream_open_sql(c, "SELECT to_jsonb(g) AS data FROM generate_series(1, 1000000) g",
                                    0, NULL, 10, &s),
                 FW_OK);
    for (int i = 0; i < 15; i++)
        cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK);
    cr_assert_eq(fw_stream_cancel(s), FW_OK);
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_ERR_CANCELLED, "%s", fw_conn_error_message(c));
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_ERR_CANCELLED);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    cr_assert(fw_conn_ok(c));

    /* a stream of a slow query closed while it runs */
    cr_assert_eq(fw_stream_open_sql(c, "SELECT '{}'::jsonb AS data FROM pg_sleep(30)", 0, NULL, 0, &s),
                 FW_OK);
    {
        double t0 = now_s();

        cr_assert_eq(fw_stream_close(s), FW_OK, "%s", fw_conn_error_message(c));
        cr_assert_lt(now_s() - t0, 10.0, "close cancels rather than waits");
    }
    state = backend_state(fw_conn_backend_pid(c));
    cr_assert_str_eq(state, "\"idle\"");
    free(state);
    cr_assert_eq(fwt_count_rows(c, "SELECT to_jsonb(1) AS data", 0), 1);
    fw_conn_free(c);
}

static void terminated_mid_stream(const char *conninfo);

Test(cancel, backend_terminated_mid_stream, .timeout = 60)
{
    FWT_REQUIRE_SERVER();
    terminated_mid_stream(fwt_tcp("fw_trust", "sslmode=disable"));
}

/* Over TLS the writes after the server left must not raise SIGPIPE. */
Test(cancel, backend_terminated_mid_stream_tls, .timeout = 60)
{
    FWT_REQUIRE_SERVER();
    terminated_mid_stream(fwt_tcp("fw_trust", "sslmode=require"));
}

static void
terminated_mid_stream(const char *conninfo)
{
    fw_conn *c, *admin;
    fw_stream *s = NULL;
    const char *json;
    size_t len;
    fw_status st;
    char num[16];
    const char *p[1] = {num};
    char *v;
    double t0;
    long rows = 0;

    c = fwt_connect(conninfo);
    /* In the target list the set-returning function is lazy (in FROM it
     * would be materialised first). */
    cr_assert_eq(fw_stream_open_sql(c, "SELECT jsonb_build_object('i', generate_series(1, 100000000)) "
                                  "AS data", 0, NULL, 100, &s),
                 FW_OK);
    for (int i = 0; i < 50; i++)
        cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK);
    admin = fwt_connect(fwt_sock("postgres", NULL));
    snprintf(num, sizeof num, "%d", fw_conn_backend_pid(c));
    v = fwt_one_row(admin, "SELECT to_jsonb(pg_terminate_backend($1::int)) AS data", 1, p);
    cr_assert_str_eq(v, "true");
    free(v);
    fw_conn_free(admin);
    t0 = now_s();
    while ((st = fw_stream_next(s, &json, &len)) == FW_OK)
        rows++;
    cr_assert_lt(now_s() - t0, 20.0, "not a hang");
    cr_assert(st == FW_ERR_IO || (st == FW_ERR_SQL && fw_conn_error_sqlstate(c) &&
                                  strcmp(fw_conn_error_sqlstate(c), "57P01") == 0),
              "%s: %s", fw_status_name(st), fw_conn_error_message(c));
    cr_assert_eq(fw_conn_error_retriable(c), 1);
    cr_assert_eq(fw_conn_ok(c), 0);
    cr_assert_neq(fw_stream_close(s), FW_OK);
    cr_assert_eq(fw_conn_exec(c, "SELECT 1"), FW_ERR_IO);
    fw_conn_free(c);
}

/* The server goes away while the connection is idle: the next query and
 * fw_conn_free (Terminate) write to a dead socket. */
Test(cancel, backend_terminated_while_idle_tls, .timeout = 60)
{
    fw_conn *c, *admin;
    char num[16];
    const char *p[1] = {num};
    char *v;
    fw_status st;

    FWT_REQUIRE_SERVER();
    c = fwt_connect(fwt_tcp("fw_trust", "sslmode=require"));
    admin = fwt_connect(fwt_sock("postgres", NULL));
    snprintf(num, sizeof num, "%d", fw_conn_backend_pid(c));
    v = fwt_one_row(admin, "SELECT to_jsonb(pg_terminate_backend($1::int, 10000)) AS data", 1, p);
    cr_assert_str_eq(v, "true");
    free(v);
    fw_conn_free(admin);
    for (int i = 0; i < 3; i++) {
        st = fw_conn_exec(c, "SELECT 1");
        cr_assert_neq(st, FW_OK);
    }
    cr_assert_eq(fw_conn_ok(c), 0);
    fw_conn_free(c);
}
