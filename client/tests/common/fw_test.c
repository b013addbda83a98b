/*
 * fw_test.c — helpers shared by the integration tests (see fw_test.h).
 */
#include "fw_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *
env_or(const char *name, const char *def)
{
    const char *v = getenv(name);

    return v && *v ? v : def;
}

int
fwt_have_server(void)
{
    const char *v = getenv("FW_TEST_SERVER");

    return v && strcmp(v, "1") == 0 && getenv("PGPORT") && getenv("PGHOST");
}

int
fwt_have_ipv6(void)
{
    return strcmp(env_or("FW_TEST_IPV6", "0"), "1") == 0;
}

const char *
fwt_port(void)
{
    return env_or("PGPORT", "5432");
}

const char *
fwt_socket_dir(void)
{
    return env_or("PGHOST", "/tmp");
}

const char *
fwt_tcp_host(void)
{
    return env_or("FW_TEST_TCP_HOST", "127.0.0.1");
}

static char *
rotating(void)
{
    static char bufs[8][2048];
    static unsigned next;

    return bufs[next++ % 8];
}

const char *
fwt_tls_file(const char *name)
{
    char *b = rotating();

    snprintf(b, 2048, "%s/%s", env_or("FW_TEST_TLS_DIR", "/nonexistent"), name);
    return b;
}

static const char *
build(const char *host, const char *user, const char *extra)
{
    char *b = rotating();

    snprintf(b, 2048, "host=%s port=%s user=%s dbname=postgres %s", host, fwt_port(), user,
             extra ? extra : "");
    return b;
}

const char *
fwt_sock(const char *user, const char *extra)
{
    return build(fwt_socket_dir(), user, extra);
}

const char *
fwt_tcp(const char *user, const char *extra)
{
    return build(fwt_tcp_host(), user, extra);
}

const char *
fwt_tcp6(const char *user, const char *extra)
{
    return build("::1", user, extra);
}

fw_conn *
fwt_connect(const char *conninfo)
{
    fw_conn *c = NULL;
    fw_status st = fw_connect(conninfo, &c);

    cr_assert_eq(st, FW_OK, "connect \"%s\": %s: %s", conninfo, fw_strerror(st),
                 fw_conn_error_message(c) ? fw_conn_error_message(c) : "(no message)");
    cr_assert(fw_conn_ok(c));
    return c;
}

const char *
fwt_postgres_db(const char *dbname)
{
    static char buf[512];

    snprintf(buf, sizeof buf, "host=%s port=%s user=postgres dbname=%s", fwt_socket_dir(),
             fwt_port(), dbname);
    return buf;
}

void
fwt_exec(fw_conn *c, const char *sql)
{
    fw_status st = fw_exec_simple(c, sql);

    cr_assert_eq(st, FW_OK, "%s: %s: %s (SQLSTATE %s)", sql, fw_strerror(st),
                 fw_conn_error_message(c), fw_conn_error_sqlstate(c));
}

char *
fwt_one_row(fw_conn *c, const char *sql, int nparams, const char *const *params)
{
    fw_stream *s = NULL;
    const char *json;
    size_t len;
    char *out = NULL;
    fw_status st = fw_stream_sql(c, sql, nparams, params, 0, &s);

    cr_assert_eq(st, FW_OK, "%s: %s: %s", sql, fw_strerror(st), fw_conn_error_message(c));
    st = fw_stream_next(s, &json, &len);
    cr_assert_eq(st, FW_OK, "%s: first row: %s: %s", sql, fw_strerror(st),
                 fw_conn_error_message(c));
    if (json) {
        out = malloc(len + 1);
        cr_assert_not_null(out);
        memcpy(out, json, len);
        out[len] = '\0';
    }
    st = fw_stream_next(s, &json, &len);
    cr_assert_eq(st, FW_DONE, "%s: expected one row: %s", sql, fw_strerror(st));
    cr_assert_eq(fw_stream_close(s), FW_OK);
    return out;
}

long
fwt_count_rows(fw_conn *c, const char *sql, size_t chunk)
{
    fw_stream *s = NULL;
    const char *json;
    size_t len;
    long n = 0;
    fw_status st = fw_stream_sql(c, sql, 0, NULL, chunk, &s);

    cr_assert_eq(st, FW_OK, "%s: %s: %s", sql, fw_strerror(st), fw_conn_error_message(c));
    while ((st = fw_stream_next(s, &json, &len)) == FW_OK)
        n++;
    cr_assert_eq(st, FW_DONE, "%s: %s: %s", sql, fw_strerror(st), fw_conn_error_message(c));
    cr_assert_eq((uint64_t)n, fw_stream_rows(s));
    cr_assert_eq(fw_stream_close(s), FW_OK);
    return n;
}

int64_t
fwt_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
