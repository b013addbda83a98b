/*
 * The non-blocking API (fw_connect_start / fw_connect_poll,
 * fw_stream_try_next, fw_conn_socket / fw_conn_wants) driven by poll(2),
 * through a proxy that delivers one byte at a time in each direction, so
 * that every state of the connection and stream machines sees partial
 * reads: plain TCP, TLS (require, verify-full), trust, cleartext, MD5,
 * SCRAM, SCRAM-PLUS.  Rows must equal what the blocking API returns on a
 * direct connection; FW_AGAIN must have been seen, never with wants == 0.
 * The blocking API runs through the proxy too (it is the same machine),
 * and the error paths: a wrong password, the server going away mid-stream,
 * and misuse (connect_timeout against a silent server needs no cluster:
 * protocol/test_startup.c).
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fw_proxy.h"
#include "fw_test.h"

/* The rows: short and longer documents, a SQL NULL, several chunks of 16. */
#define ROWS_SQL                                                                         \
    "SELECT CASE WHEN i = 7 THEN NULL ELSE jsonb_build_object('i', i, 'pad', "           \
    "repeat('x', (i * 37) % 90)) END AS data FROM generate_series(1, 40) i ORDER BY i"

typedef struct nb_counts {
    long again;        /* FW_AGAIN returned */
    long want_read;    /* … with FW_WANT_READ */
    long want_write;   /* … with FW_WANT_WRITE */
} nb_counts;

/* Waits as an event loop would after FW_AGAIN, checking the hints. */
static void
wait_for(fw_conn *c, nb_counts *n)
{
    unsigned w = fw_conn_wants(c);
    int fd = fw_conn_socket(c);
    int t = fw_conn_timeout_ms(c);
    struct pollfd pfd;
    int rc;

    n->again++;
    cr_assert_neq(w, 0u, "FW_AGAIN with fw_conn_wants() == 0");
    cr_assert_eq(w & ~(FW_WANT_READ | FW_WANT_WRITE), 0u, "unknown wants bits %#x", w);
    cr_assert_geq(fd, 0, "FW_AGAIN without a socket");
    if (w & FW_WANT_READ)
        n->want_read++;
    if (w & FW_WANT_WRITE)
        n->want_write++;
    pfd.fd = fd;
    pfd.events = (short)(((w & FW_WANT_READ) ? POLLIN : 0) | ((w & FW_WANT_WRITE) ? POLLOUT : 0));
    pfd.revents = 0;
    rc = poll(&pfd, 1, t < 0 || t > 20000 ? 20000 : t);
    cr_assert_geq(rc, 0, "poll failed");
}

/* Connects with fw_connect_start / fw_connect_poll driven by poll(2). */
static fw_status
nb_connect(const char *conninfo, fw_conn **c, nb_counts *n)
{
    fw_status st = fw_connect_start(conninfo, c);

    if (st != FW_OK)
        return st;
    cr_assert_eq(fw_conn_socket(*c), -1, "no socket before the first poll");
    while ((st = fw_connect_poll(*c)) == FW_AGAIN)
        wait_for(*c, n);
    cr_assert_eq(fw_conn_wants(*c), 0u, "wants after the end of connecting");
    return st;
}

/* Appends a row (or "NULL") and a newline to a growing string. */
static void
append_row(char **acc, size_t *used, const char *json, size_t len)
{
    const char *text = json ? json : "NULL";
    size_t n = json ? len : 4;

    *acc = realloc(*acc, *used + n + 2);
    cr_assert_not_null(*acc);
    memcpy(*acc + *used, text, n);
    *used += n;
    (*acc)[(*used)++] = '\n';
    (*acc)[*used] = '\0';
}

/* Every row of sql with fw_stream_try_next in an event loop. */
static char *
nb_rows(fw_conn *c, const char *sql, int nparams, const char *const *params, size_t chunk,
        nb_counts *n)
{
    fw_stream *s = NULL;
    const char *json;
    size_t len, used = 0;
    char *acc = calloc(1, 1);
    fw_status st;

    fw_conn_set_nonblocking(c, 1);
    st = fw_stream_sql(c, sql, nparams, params, chunk, &s);
    cr_assert_eq(st, FW_OK, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    for (;;) {
        st = fw_stream_try_next(s, &json, &len);
        if (st == FW_AGAIN) {
            wait_for(c, n);
            continue;
        }
        if (st != FW_OK)
            break;
        append_row(&acc, &used, json, len);
    }
    cr_assert_eq(st, FW_DONE, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert_eq(fw_stream_try_next(s, &json, &len), FW_DONE, "DONE again after the end");
    cr_assert_eq(fw_stream_close(s), FW_OK);
    cr_assert(fw_conn_ok(c));
    return acc;
}

/* The same with the blocking API. */
static char *
blocking_rows(fw_conn *c, const char *sql, int nparams, const char *const *params, size_t chunk)
{
    fw_stream *s = NULL;
    const char *json;
    size_t len, used = 0;
    char *acc = calloc(1, 1);
    fw_status st = fw_stream_sql(c, sql, nparams, params, chunk, &s);

    cr_assert_eq(st, FW_OK, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    while ((st = fw_stream_next(s, &json, &len)) == FW_OK)
        append_row(&acc, &used, json, len);
    cr_assert_eq(st, FW_DONE, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert_eq(fw_stream_close(s), FW_OK);
    return acc;
}

/* The reference: the blocking API on a direct connection. */
static char *
reference_rows(const char *sql, int nparams, const char *const *params)
{
    fw_conn *c = fwt_connect(fwt_sock("fw_trust", ""));
    char *rows = blocking_rows(c, sql, nparams, params, 0);

    fw_conn_free(c);
    return rows;
}

/* "host=127.0.0.1 port=<proxy> dbname=postgres user=… extra" */
static const char *
via(const fwt_proxy *p, const char *user, const char *extra)
{
    static char buf[2048];

    snprintf(buf, sizeof buf, "host=127.0.0.1 port=%d dbname=postgres user=%s connect_timeout=30 %s",
             fwt_proxy_port(p), user, extra ? extra : "");
    return buf;
}

static fwt_proxy *
proxy(int delay_us)
{
    fwt_proxy *p = fwt_proxy_start(fwt_tcp_host(), fwt_port(), delay_us);

    cr_assert_not_null(p, "could not start the one-byte proxy");
    return p;
}

/* Connects through the proxy without blocking, streams ROWS_SQL with
 * fw_stream_try_next (chunk 16: many PortalSuspended), compares. */
static void
through_proxy(const char *user, const char *extra, int want_tls)
{
    fwt_proxy *p;
    fw_conn *c = NULL;
    nb_counts cn = {0}, sn = {0};
    char *want, *got;
    fw_status st;

    FWT_REQUIRE_SERVER();
    want = reference_rows(ROWS_SQL, 0, NULL);
    p = proxy(0);
    st = nb_connect(via(p, user, extra), &c, &cn);
    cr_assert_eq(st, FW_OK, "%s: %s: %s", via(p, user, extra), fw_strerror(st),
                 fw_conn_error_message(c));
    cr_assert(fw_conn_ok(c));
    cr_assert_eq(fw_conn_tls(c), want_tls);
    /* How often FW_AGAIN comes depends on scheduling (a busy machine lets the
     * proxy run ahead and the client finds several bytes at once), so only
     * its presence is asserted: the exchange cannot complete in one call. */
    cr_assert_gt(cn.again, 0, "connecting never saw FW_AGAIN");
    cr_assert_gt(cn.want_read, 0);
    got = nb_rows(c, ROWS_SQL, 0, NULL, 16, &sn);
    cr_assert_str_eq(got, want);
    cr_assert_gt(sn.again, 0, "streaming never saw FW_AGAIN");
    cr_assert_gt(sn.want_read, 0);
    /* The connection is reusable, and the next stream too. */
    free(got);
    got = nb_rows(c, "SELECT jsonb_build_object('again', true) AS data", 0, NULL, 0, &sn);
    cr_assert_str_eq(got, "{\"again\": true}\n");
    free(got);
    free(want);
    fw_conn_free(c);
    fwt_proxy_stop(p);
}

Test(nonblocking, plain_tcp_trust, .timeout = 120)
{
    through_proxy("fw_trust", "sslmode=disable", 0);
}

Test(nonblocking, tls_require_trust, .timeout = 120)
{
    through_proxy("fw_trust", "sslmode=require", 1);
}

Test(nonblocking, tls_verify_full_scram, .timeout = 120)
{
    char extra[1024];

    snprintf(extra, sizeof extra, "sslmode=verify-full password=fw_tls_pw sslrootcert=%s",
             fwt_tls_file("ca.crt"));
    through_proxy("fw_tls", extra, 1);
}

Test(nonblocking, scram, .timeout = 120)
{
    through_proxy("fw_scram", "sslmode=disable password=fw_scram_pw", 0);
}

Test(nonblocking, scram_plus_channel_binding_required, .timeout = 120)
{
    through_proxy("fw_tls", "sslmode=require channel_binding=require password=fw_tls_pw", 1);
}

Test(nonblocking, md5, .timeout = 120)
{
    through_proxy("fw_md5", "sslmode=disable password=fw_md5_pw", 0);
}

Test(nonblocking, cleartext, .timeout = 120)
{
    through_proxy("fw_password", "sslmode=disable password=fw_password_pw", 0);
}

Test(nonblocking, client_certificate, .timeout = 120)
{
    char extra[1024];

    snprintf(extra, sizeof extra, "sslmode=verify-full sslrootcert=%s sslcert=%s sslkey=%s",
             fwt_tls_file("ca.crt"), fwt_tls_file("client.crt"), fwt_tls_file("client.key"));
    through_proxy("fw_cert", extra, 1);
}

/* The blocking API through the same proxy: the same state machines, waited
 * on with poll(2). */
Test(nonblocking, blocking_api_through_the_proxy, .timeout = 120)
{
    fwt_proxy *p;
    fw_conn *c;
    char *want, *got;

    FWT_REQUIRE_SERVER();
    want = reference_rows(ROWS_SQL, 0, NULL);
    p = proxy(0);
    c = fwt_connect(via(p, "fw_tls", "sslmode=require channel_binding=require password=fw_tls_pw"));
    cr_assert_eq(fw_conn_tls(c), 1);
    got = blocking_rows(c, ROWS_SQL, 0, NULL, 16);
    cr_assert_str_eq(got, want);
    free(got);
    fw_conn_free(c);
    c = fwt_connect(via(p, "fw_md5", "sslmode=disable password=fw_md5_pw"));
    got = blocking_rows(c, ROWS_SQL, 0, NULL, 5);
    cr_assert_str_eq(got, want);
    free(got);
    fw_conn_free(c);
    free(want);
    cr_assert_gt(fwt_proxy_bytes_down(p), 1000);
    fwt_proxy_stop(p);
}

/* A big parameter: the client's writes are partial (its send buffer made
 * small), so FW_WANT_WRITE shows up, together with reads; over TLS. */
Test(nonblocking, partial_writes_of_a_big_parameter, .timeout = 120)
{
    fwt_proxy *p;
    fw_conn *c = NULL;
    nb_counts cn = {0}, sn = {0};
    size_t big = 32 * 1024;
    char *param = malloc(big + 1);
    const char *params[1];
    char *got, *want;
    int small = 4096;
    fw_status st;
    const char *sql = "SELECT jsonb_build_object('len', length($1), 'md5', md5($1)) AS data";

    FWT_REQUIRE_SERVER();
    cr_assert_not_null(param);
    for (size_t i = 0; i < big; i++)
        param[i] = (char)('a' + i % 26);
    param[big] = '\0';
    params[0] = param;
    want = reference_rows(sql, 1, params);
    p = proxy(0);
    st = nb_connect(via(p, "fw_tls", "sslmode=require password=fw_tls_pw"), &c, &cn);
    cr_assert_eq(st, FW_OK, "%s", fw_conn_error_message(c));
    cr_assert_eq(setsockopt(fw_conn_socket(c), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
    got = nb_rows(c, sql, 1, params, 0, &sn);
    cr_assert_str_eq(got, want);
    cr_assert_gt(sn.want_write, 0, "no FW_WANT_WRITE seen (%ld FW_AGAIN)", sn.again);
    free(got);
    free(want);
    free(param);
    fw_conn_free(c);
    fwt_proxy_stop(p);
}

Test(nonblocking, wrong_password_through_the_proxy, .timeout = 120)
{
    fwt_proxy *p;
    fw_conn *c = NULL;
    nb_counts cn = {0};
    fw_status st;

    FWT_REQUIRE_SERVER();
    p = proxy(0);
    st = nb_connect(via(p, "fw_scram", "sslmode=disable password=wrong"), &c, &cn);
    cr_assert_eq(st, FW_ERR_AUTH, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert_str_eq(fw_conn_error_sqlstate(c), "28P01");
    cr_assert_gt(cn.again, 0);
    cr_assert_eq(fw_conn_ok(c), 0);
    cr_assert_eq(fw_conn_socket(c), -1);
    /* Asking again repeats the outcome. */
    cr_assert_eq(fw_connect_poll(c), FW_ERR_AUTH);
    fw_conn_free(c);
    /* The blocking API says the same. */
    st = fw_connect(via(p, "fw_md5", "sslmode=disable password=wrong"), &c);
    cr_assert_eq(st, FW_ERR_AUTH, "%s", fw_conn_error_message(c));
    fw_conn_free(c);
    fwt_proxy_stop(p);
}

/* The server goes away while rows arrive (the proxy cuts the connection). */
Test(nonblocking, server_closing_mid_stream, .timeout = 120)
{
    fwt_proxy *p;
    fw_conn *c = NULL;
    nb_counts cn = {0}, sn = {0};
    fw_stream *s = NULL;
    const char *json;
    size_t len;
    long rows = 0;
    fw_status st;

    FWT_REQUIRE_SERVER();
    p = proxy(0);
    st = nb_connect(via(p, "fw_tls", "sslmode=require password=fw_tls_pw"), &c, &cn);
    cr_assert_eq(st, FW_OK, "%s", fw_conn_error_message(c));
    fw_conn_set_nonblocking(c, 1);
    cr_assert_eq(fw_stream_sql(c, "SELECT to_jsonb(i) AS data FROM generate_series(1, 100000) i",
                               0, NULL, 64, &s), FW_OK);
    for (;;) {
        st = fw_stream_try_next(s, &json, &len);
        if (st == FW_AGAIN) {
            wait_for(c, &sn);
            continue;
        }
        if (st != FW_OK)
            break;
        if (++rows == 10)
            fwt_proxy_cut(p);
    }
    cr_assert_eq(st, FW_ERR_IO, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert(strstr(fw_conn_error_message(c), "closed") != NULL, "%s", fw_conn_error_message(c));
    cr_assert_lt(rows, 100000);
    cr_assert_eq(fw_stream_try_next(s, &json, &len), FW_ERR_IO, "the error again");
    cr_assert_eq(fw_conn_ok(c), 0);
    cr_assert_eq(fw_conn_socket(c), -1);
    cr_assert_eq(fw_stream_close(s), FW_ERR_IO);
    fw_conn_free(c);
    fwt_proxy_stop(p);
}

/* Errors that come from the first fw_stream_try_next in non-blocking mode,
 * an error in the middle, a cancel, a close before anything was sent: the
 * connection stays usable after each.  Through the proxy, over TLS with
 * SCRAM, so that the drain states see partial reads too. */
Test(nonblocking, deferred_errors_keep_the_connection, .timeout = 120)
{
    fwt_proxy *p;
    fw_conn *c = NULL;
    fw_stream *s = NULL;
    const char *json;
    size_t len;
    nb_counts n = {0};
    fw_status st;
    char *rows;

    FWT_REQUIRE_SERVER();
    p = proxy(0);
    st = nb_connect(via(p, "fw_tls", "sslmode=require password=fw_tls_pw"), &c, &n);
    cr_assert_eq(st, FW_OK, "%s", fw_conn_error_message(c));
    fw_conn_set_nonblocking(c, 1);
    cr_assert_eq(fw_conn_is_nonblocking(c), 1);
    /* Wrong shape: never executed. */
    cr_assert_eq(fw_stream_sql(c, "SELECT 1 AS data", 0, NULL, 0, &s), FW_OK);
    while ((st = fw_stream_try_next(s, &json, &len)) == FW_AGAIN)
        wait_for(c, &n);
    cr_assert_eq(st, FW_ERR_SCHEMA, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert_eq(fw_stream_close(s), FW_OK);
    /* SQL error at Describe. */
    cr_assert_eq(fw_stream_sql(c, "SELECT data FROM no_such_table", 0, NULL, 0, &s), FW_OK);
    while ((st = fw_stream_try_next(s, &json, &len)) == FW_AGAIN)
        wait_for(c, &n);
    cr_assert_eq(st, FW_ERR_SQL);
    cr_assert_str_eq(fw_conn_error_sqlstate(c), "42P01");
    cr_assert_eq(fw_stream_close(s), FW_OK);
    /* SQL error in the middle of the rows. */
    cr_assert_eq(fw_stream_sql(c, "SELECT to_jsonb(10 / (5 - i)) AS data FROM generate_series(1, 9) i",
                               0, NULL, 2, &s), FW_OK);
    long got = 0;
    while ((st = fw_stream_try_next(s, &json, &len)) == FW_AGAIN || st == FW_OK) {
        if (st == FW_AGAIN)
            wait_for(c, &n);
        else
            got++;
    }
    cr_assert_eq(st, FW_ERR_SQL);
    cr_assert_str_eq(fw_conn_error_sqlstate(c), "22012");
    cr_assert_eq(got, 4);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    /* Opened and closed at once: nothing was sent yet. */
    cr_assert_eq(fw_stream_sql(c, ROWS_SQL, 0, NULL, 0, &s), FW_OK);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    cr_assert(fw_conn_ok(c));
    /* Cancelled in the middle. */
    cr_assert_eq(fw_stream_sql(c, "SELECT to_jsonb(i) AS data FROM generate_series(1, 1000000) i",
                               0, NULL, 100, &s), FW_OK);
    got = 0;
    while ((st = fw_stream_try_next(s, &json, &len)) == FW_AGAIN || st == FW_OK) {
        if (st == FW_AGAIN)
            wait_for(c, &n);
        else if (++got == 5)
            cr_assert_eq(fw_stream_cancel(s), FW_OK);
    }
    cr_assert_eq(st, FW_ERR_CANCELLED, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert_lt(got, 1000000);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    /* fw_stream_next works on a stream opened in non-blocking mode. */
    cr_assert_eq(fw_stream_sql(c, ROWS_SQL, 0, NULL, 0, &s), FW_OK);
    got = 0;
    while ((st = fw_stream_next(s, &json, &len)) == FW_OK)
        got++;
    cr_assert_eq(st, FW_DONE);
    cr_assert_eq(got, 40);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    /* And the blocking mode again. */
    fw_conn_set_nonblocking(c, 0);
    rows = blocking_rows(c, ROWS_SQL, 0, NULL, 0);
    free(rows);
    fw_conn_free(c);
    cr_assert_gt(n.again, 0, "FW_AGAIN never seen");
    fwt_proxy_stop(p);
}

/* A query: the extension hint comes with the deferred error too. */
Test(nonblocking, fw_stream_open_queues_a_query, .timeout = 60)
{
    fw_conn *c;
    fw_query *q = NULL;
    fw_stream *s = NULL;
    const char *json;
    size_t len;
    nb_counts n = {0};
    fw_status st;

    FWT_REQUIRE_SERVER();
    c = fwt_connect(fwt_sock("fw_trust", ""));
    fw_conn_set_nonblocking(c, 1);
    cr_assert_eq(fw_query_new("nb_no_such_entity", &q), FW_OK);
    cr_assert_eq(fw_stream_open(c, q, &s), FW_OK);
    fw_query_free(q);
    while ((st = fw_stream_try_next(s, &json, &len)) == FW_AGAIN)
        wait_for(c, &n);
    cr_assert_eq(st, FW_ERR_SQL);
    cr_assert_str_eq(fw_conn_error_sqlstate(c), "42P01");
    cr_assert_eq(fw_stream_close(s), FW_OK);
    fw_conn_free(c);
}

/* Several hosts: the first refuses, the second (the proxy) serves. */
Test(nonblocking, next_host_after_a_refused_one, .timeout = 60)
{
    fwt_proxy *p;
    char ci[512];
    fw_conn *c = NULL;
    nb_counts n = {0};
    fw_status st;

    FWT_REQUIRE_SERVER();
    p = proxy(0);
    snprintf(ci, sizeof ci, "host=127.0.0.1,127.0.0.1 port=1,%d user=fw_scram password=fw_scram_pw "
             "dbname=postgres sslmode=prefer", fwt_proxy_port(p));
    st = nb_connect(ci, &c, &n);
    cr_assert_eq(st, FW_OK, "%s", fw_conn_error_message(c));
    cr_assert_eq(fw_conn_tls(c), 1);
    fw_conn_free(c);
    fwt_proxy_stop(p);
}

Test(nonblocking, misuse)
{
    fw_conn *c = NULL;
    fw_stream *s = NULL, *s2 = NULL;
    const char *json;
    size_t len;
    nb_counts n = {0};
    fw_status st;

    cr_assert_eq(fw_connect_poll(NULL), FW_ERR_USAGE);
    cr_assert_eq(fw_connect_start(NULL, NULL), FW_ERR_USAGE);
    cr_assert_eq(fw_conn_socket(NULL), -1);
    cr_assert_eq(fw_conn_wants(NULL), 0u);
    cr_assert_eq(fw_conn_timeout_ms(NULL), -1);
    cr_assert_eq(fw_conn_is_nonblocking(NULL), 0);
    fw_conn_set_nonblocking(NULL, 1);
    cr_assert_eq(fw_stream_try_next(NULL, &json, &len), FW_ERR_USAGE);
    cr_assert_str_eq(fw_strerror(FW_AGAIN), "again");
    /* A bad connection string: the handle carries it, poll repeats it. */
    cr_assert_eq(fw_connect_start("sslmode=bogus", &c), FW_ERR_CONFIG);
    cr_assert_not_null(c);
    cr_assert_eq(fw_connect_poll(c), FW_ERR_CONFIG);
    cr_assert(strstr(fw_conn_error_message(c), "sslmode") != NULL, "%s", fw_conn_error_message(c));
    fw_conn_free(c);
    c = NULL;
    FWT_REQUIRE_SERVER();
    /* A query before the connection is established. */
    cr_assert_eq(fw_connect_start(fwt_tcp("fw_trust", ""), &c), FW_OK);
    cr_assert_eq(fw_stream_sql(c, ROWS_SQL, 0, NULL, 0, &s), FW_ERR_USAGE);
    cr_assert_null(s);
    cr_assert(strstr(fw_conn_error_message(c), "fw_connect_poll") != NULL, "%s",
              fw_conn_error_message(c));
    cr_assert_eq(fw_exec_simple(c, "SELECT 1"), FW_ERR_USAGE);
    while ((st = fw_connect_poll(c)) == FW_AGAIN)
        wait_for(c, &n);
    cr_assert_eq(st, FW_OK, "%s", fw_conn_error_message(c));
    cr_assert_eq(fw_exec_simple(c, "SELECT 1"), FW_OK);
    fw_conn_free(c);
    /* A blocking connection: fw_connect_poll says it is ready. */
    c = fwt_connect(fwt_sock("fw_trust", ""));
    cr_assert_eq(fw_connect_poll(c), FW_OK);
    cr_assert_eq(fw_conn_wants(c), 0u);
    cr_assert_geq(fw_conn_socket(c), 0);
    fw_conn_set_nonblocking(c, 1);
    cr_assert_eq(fw_stream_sql(c, ROWS_SQL, 0, NULL, 0, &s), FW_OK);
    /* One stream at a time, also while the first has not sent anything. */
    st = fw_stream_sql(c, ROWS_SQL, 0, NULL, 0, &s2);
    cr_assert_eq(st, FW_ERR_USAGE);
    cr_assert_null(s2);
    cr_assert_eq(fw_stream_try_next(s, NULL, &len), FW_ERR_USAGE);
    /* Calling again without waiting is allowed: FW_AGAIN or progress. */
    long rows = 0;
    for (;;) {
        st = fw_stream_try_next(s, &json, &len);
        if (st == FW_AGAIN) {
            n.again++;
            cr_assert_neq(fw_conn_wants(c), 0u);
            continue;   /* busy-wait on purpose */
        }
        if (st != FW_OK)
            break;
        cr_assert_eq(fw_conn_wants(c), 0u, "wants is 0 after a row");
        rows++;
    }
    cr_assert_eq(st, FW_DONE, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert_eq(rows, 40);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    fw_conn_free(c);
}
