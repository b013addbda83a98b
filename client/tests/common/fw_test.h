/*
 * fw_test.h — helpers shared by the integration and protocol tests.
 *
 * The cluster is described by the environment scripts/check.sh exports
 * (scripts/cluster.sh env): PGHOST (socket directory), PGPORT,
 * FW_TEST_TCP_HOST, FW_TEST_TLS_DIR, FW_TEST_IPV6, and FW_TEST_SERVER=1.
 * Without FW_TEST_SERVER=1 every integration test skips, loudly.
 */
#ifndef FW_TEST_H
#define FW_TEST_H

#include <criterion/criterion.h>
#include <stddef.h>
#include <stdint.h>

#include "fraiseql_wire.h"

/* Skips the current test unless a cluster is there. */
#define FWT_REQUIRE_SERVER()                                                              \
    do {                                                                                  \
        if (!fwt_have_server())                                                           \
            cr_skip_test("SKIPPED: integration test needs the throw-away cluster "         \
                         "(FW_TEST_SERVER=1, PGHOST, PGPORT): run scripts/check.sh");      \
    } while (0)

int fwt_have_server(void);
int fwt_have_ipv6(void);
const char *fwt_port(void);
const char *fwt_socket_dir(void);
const char *fwt_tcp_host(void);
/* $FW_TEST_TLS_DIR/name in a static buffer (one of four rotating). */
const char *fwt_tls_file(const char *name);

/* Connection strings (static buffers, rotating): over the socket, over TCP
 * to 127.0.0.1, over TCP to ::1; `extra` is appended (keyword=value …). */
const char *fwt_sock(const char *user, const char *extra);
const char *fwt_tcp(const char *user, const char *extra);
const char *fwt_tcp6(const char *user, const char *extra);

/* "host=<socket dir> port=… user=postgres dbname=<dbname>" (static buffer). */
const char *fwt_postgres_db(const char *dbname);
/* fw_exec_simple or fails the test with the error, naming the SQLSTATE. */
void fwt_exec(fw_conn *c, const char *sql);

/* Connects or fails the test with the error message. */
fw_conn *fwt_connect(const char *conninfo);
/* Runs a stream that must yield exactly one row; returns it as a malloc'd
 * NUL-terminated string ("(null)" text for SQL NULL is not used: NULL). */
char *fwt_one_row(fw_conn *c, const char *sql, int nparams, const char *const *params);
/* Streams every row, returning the count; fails the test on any error. */
long fwt_count_rows(fw_conn *c, const char *sql, size_t chunk);

/* CLOCK_MONOTONIC in milliseconds. */
int64_t fwt_now_ms(void);

#endif /* FW_TEST_H */
