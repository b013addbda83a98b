/*
 * Parallel streams (fw_query_set_parallel) against the cluster: the parallel
 * result equals the serial one as a multiset (v_ and tv_, json and jsonb,
 * with filters and client predicates), one snapshot (rows written during the
 * stream never appear, updated rows keep their old version), a terminated
 * part's backend (the error once, naming the part; the others cancelled; no
 * hang), cancel, ORDER BY the split key (in order, both directions), refused
 * ORDER BY and OFFSET, global LIMIT, SCRAM over TCP for the extra
 * connections, and a connection already in a transaction; the multiplexer
 * tries a part again only after poll(2) reported its socket ready; the
 * extra connections are made together, and one that fails is reported
 * (naming its part) with every other connection closed; a successful open
 * sends no CancelRequest; the connections made for parts the split does
 * not give are closed.
 *
 * Each test creates its own database (fwp_<test>_<pid>).
 */
#define _GNU_SOURCE   /* memmem */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fw_proxy.h"
#include "fw_test.h"
#include "internal.h"   /* fw_par_get_counters */

#define PT_ROWS 10000

typedef struct pt_db {
    char name[64];
    fw_conn *c;
} pt_db;

/* A database with the extension and entities pj (json) and pb (jsonb),
 * each with a v_ view and a tv_ table over par_src (PT_ROWS rows), analyzed. */
static void
pt_db_create(pt_db *d, const char *tag)
{
    char sql[512];
    fw_conn *admin;

    FWT_REQUIRE_SERVER();
    snprintf(d->name, sizeof d->name, "fwp_%s_%d", tag, (int)getpid());
    admin = fwt_connect(fwt_sock("postgres", NULL));
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", d->name);
    fwt_exec(admin, sql);
    fw_conn_free(admin);
    d->c = fwt_connect(fwt_postgres_db(d->name));
    fwt_exec(d->c, "CREATE EXTENSION fraiseql_wire");
    snprintf(sql, sizeof sql,
             "CREATE TABLE par_src (id bigint PRIMARY KEY, name text NOT NULL, score integer); "
             "INSERT INTO par_src SELECT g, 'name ' || g, g %% 10 FROM generate_series(1, %d) g",
             PT_ROWS);
    fwt_exec(d->c, sql);
    fwt_exec(d->c, "SELECT fraiseql_wire.create_view('pj', 'par_src', format => 'json'); "
                  "SELECT fraiseql_wire.create_table_view('pj'); "
                  "SELECT fraiseql_wire.create_view('pb', 'par_src'); "
                  "SELECT fraiseql_wire.create_table_view('pb'); "
                  "ANALYZE par_src");
}

static void
pt_db_drop(pt_db *d)
{
    char sql[160];
    fw_conn *admin;

    fw_conn_free(d->c);
    d->c = NULL;
    admin = fwt_connect(fwt_sock("postgres", NULL));
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", d->name);
    fwt_exec(admin, sql);
    fw_conn_free(admin);
}

typedef struct pt_rows {
    char **v;
    size_t n, cap;
    int parts;
} pt_rows;

static void
pt_rows_free(pt_rows *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i]);
    free(r->v);
    memset(r, 0, sizeof *r);
}

static int
pt_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every row of q (read with `parts` parts), in the order received. */
static pt_rows
pt_read(fw_conn *c, fw_query *q, int parts)
{
    pt_rows r = {0};
    fw_stream *s = NULL;
    const char *json;
    size_t len;
    fw_status st;

    cr_assert_eq(fw_query_set_parallel(q, parts), FW_OK, "%s", fw_query_error_message(q));
    st = fw_stream_open(c, q, &s);
    cr_assert_eq(st, FW_OK, "open: %s: %s (SQLSTATE %s)", fw_status_name(st), fw_conn_error_message(c),
                 fw_conn_error_sqlstate(c));
    r.parts = fw_stream_parts(s);
    while ((st = fw_stream_next(s, &json, &len)) == FW_OK) {
        if (r.n == r.cap) {
            r.cap = r.cap ? r.cap * 2 : 1024;
            r.v = realloc(r.v, r.cap * sizeof *r.v);
            cr_assert_not_null(r.v);
        }
        r.v[r.n] = json ? strndup(json, len) : strdup("NULL");
        cr_assert_not_null(r.v[r.n]);
        r.n++;
    }
    cr_assert_eq(st, FW_DONE, "next: %s: %s", fw_status_name(st), fw_conn_error_message(c));
    cr_assert_eq(fw_stream_rows(s), r.n);
    cr_assert_eq(fw_stream_close(s), FW_OK, "close: %s", fw_conn_error_message(c));
    return r;
}

static void
pt_assert_same_multiset(pt_rows *a, pt_rows *b, const char *what)
{
    cr_assert_eq(a->n, b->n, "%s: %zu rows against %zu", what, a->n, b->n);
    qsort(a->v, a->n, sizeof *a->v, pt_cmp);
    qsort(b->v, b->n, sizeof *b->v, pt_cmp);
    for (size_t i = 0; i < a->n; i++)
        cr_assert_str_eq(a->v[i], b->v[i], "%s: row %zu differs", what, i);
}

/* The connection is idle outside any transaction (our ROLLBACK ran):
 * SAVEPOINT is an error (25P01) only outside a transaction block. */
static void
pt_assert_no_transaction(fw_conn *c)
{
    fw_status st = fw_conn_exec(c, "SAVEPOINT fw_probe");

    cr_assert_eq(st, FW_ERR_SQL, "the connection is still inside the stream's transaction");
    cr_assert_str_eq(fw_conn_error_sqlstate(c), "25P01");
}

static int
keep_odd_score(void *arg, const char *json, size_t len)
{
    (void)arg;
    /* "score": 1 (jsonb) or "score" : 1 (json): keep odd scores */
    for (size_t i = 0; json && i + 7 < len; i++)
        if (memcmp(json + i, "\"score\"", 7) == 0) {
            size_t j = i + 7;

            while (j < len && (json[j] == ' ' || json[j] == ':'))
                j++;
            return j < len && (json[j] - '0') % 2 == 1;
        }
    return 0;
}

Test(parallel, equals_serial_as_multiset, .timeout = 120)
{
    pt_db d;
    const char *rels[] = {"pj", "pb"};

    pt_db_create(&d, "multiset");
    for (int e = 0; e < 2; e++)
        for (int table = 0; table < 2; table++)
            for (int filtered = 0; filtered < 3; filtered++) {
                char what[96];
                fw_query *q = NULL;
                pt_rows serial, par;

                snprintf(what, sizeof what, "%s%s%s", table ? "tv_" : "v_", rels[e],
                         filtered == 1 ? " with a filter" : filtered == 2 ? " with a predicate" : "");
                cr_assert_eq(fw_query_new(rels[e], &q), FW_OK);
                if (table)
                    cr_assert_eq(fw_query_use_table(q), FW_OK);
                if (filtered == 1)
                    cr_assert_eq(fw_query_set_filter(q, "{\"score\": {\"lt\": 3}}"), FW_OK);
                if (filtered == 2)
                    cr_assert_eq(fw_query_add_predicate(q, keep_odd_score, NULL), FW_OK);
                cr_assert_eq(fw_query_set_chunk_size(q, 500), FW_OK);
                serial = pt_read(d.c, q, 1);
                par = pt_read(d.c, q, 4);
                cr_assert_eq(serial.parts, 1);
                cr_assert_eq(par.parts, 4, "%s: %d parts", what, par.parts);
                cr_assert_eq(serial.n, filtered == 1 ? PT_ROWS * 3 / 10
                                       : filtered == 2 ? PT_ROWS / 2 : PT_ROWS, "%s", what);
                pt_assert_same_multiset(&serial, &par, what);
                pt_rows_free(&serial);
                pt_rows_free(&par);
                /* Three parts too (uneven split). */
                serial = pt_read(d.c, q, 1);
                par = pt_read(d.c, q, 3);
                pt_assert_same_multiset(&serial, &par, what);
                pt_rows_free(&serial);
                pt_rows_free(&par);
                fw_query_free(q);
                pt_assert_no_transaction(d.c);
            }
    pt_db_drop(&d);
}

/* Rows inserted, updated or deleted after the stream started: the stream
 * sees the database as it was when it started, in every part. */
Test(parallel, one_snapshot_for_every_part, .timeout = 120)
{
    pt_db d;

    pt_db_create(&d, "snapshot");
    for (int table = 0; table < 2; table++) {
        fw_conn *writer = fwt_connect(fwt_postgres_db(d.name));
        fw_query *q = NULL;
        fw_stream *s = NULL;
        const char *json;
        size_t len;
        long n = 0, changed = 0, added = 0;
        fw_status st;

        cr_assert_eq(fw_query_new("pb", &q), FW_OK);
        if (table)
            cr_assert_eq(fw_query_use_table(q), FW_OK);
        cr_assert_eq(fw_query_set_chunk_size(q, 50), FW_OK);
        cr_assert_eq(fw_query_set_parallel(q, 4), FW_OK);
        st = fw_stream_open(d.c, q, &s);
        cr_assert_eq(st, FW_OK, "%s", fw_conn_error_message(d.c));
        cr_assert_eq(fw_stream_parts(s), 4);
        for (int i = 0; i < 10; i++) {
            cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK, "%s", fw_conn_error_message(d.c));
            n++;
        }
        /* Committed while the parts are still running (each is at most two
         * chunks of 50 ahead). */
        fwt_exec(writer, "INSERT INTO par_src SELECT g, 'late ' || g, 0 "
                        "FROM generate_series(100001, 102000) g");
        fwt_exec(writer, "UPDATE par_src SET name = 'changed' WHERE id % 7 = 0");
        fwt_exec(writer, "DELETE FROM par_src WHERE id % 11 = 0");
        while ((st = fw_stream_next(s, &json, &len)) == FW_OK) {
            n++;
            if (memmem(json, len, "changed", 7))
                changed++;
            if (memmem(json, len, "late ", 5))
                added++;
        }
        cr_assert_eq(st, FW_DONE, "%s", fw_conn_error_message(d.c));
        cr_assert_eq(n, PT_ROWS, "%s: %ld rows, not the %d of the snapshot", table ? "tv_" : "v_",
                     n, PT_ROWS);
        cr_assert_eq(changed, 0, "updated rows showed their new version");
        cr_assert_eq(added, 0, "rows inserted after the start appeared");
        cr_assert_eq(fw_stream_close(s), FW_OK);
        /* Afterwards the connection sees the writes. */
        fw_query_free(q);
        cr_assert_eq(fw_query_new("pb", &q), FW_OK);
        if (table)
            cr_assert_eq(fw_query_use_table(q), FW_OK);
        pt_rows now = pt_read(d.c, q, 4);
        char *count = fwt_one_row(d.c, "SELECT count(*)::text::json AS data FROM par_src", 0, NULL);
        cr_assert_eq(now.n, (size_t)atol(count), "after: %zu rows, %s in the table", now.n, count);
        cr_assert_neq(now.n, (size_t)PT_ROWS);
        free(count);
        pt_rows_free(&now);
        fw_query_free(q);
        char restore[320];
        snprintf(restore, sizeof restore,
                 "DELETE FROM par_src WHERE id > 100000; UPDATE par_src SET name = 'name ' || id; "
                 "INSERT INTO par_src SELECT g, 'name ' || g, g %% 10 FROM generate_series(1, %d) g "
                 "WHERE g %% 11 = 0", PT_ROWS);
        fwt_exec(writer, restore);
        fw_conn_free(writer);
    }
    pt_db_drop(&d);
}

/* One part's backend is terminated while the stream runs: the error comes
 * once, naming the part; the other parts are cancelled (no query left
 * running), nothing hangs, and the caller's connection ends its transaction. */
Test(parallel, terminated_part_is_reported_once, .timeout = 60)
{
    pt_db d;
    fw_conn *admin;
    fw_query *q = NULL;
    fw_stream *s = NULL;
    const char *json;
    size_t len;
    fw_status st;
    char sql[256];
    char *v;
    long n = 0;

    pt_db_create(&d, "terminate");
    admin = fwt_connect(fwt_postgres_db(d.name));
    cr_assert_eq(fw_query_new("pb", &q), FW_OK);
    cr_assert_eq(fw_query_set_chunk_size(q, 50), FW_OK);
    cr_assert_eq(fw_query_set_parallel(q, 4), FW_OK);
    cr_assert_eq(fw_stream_open(d.c, q, &s), FW_OK, "%s", fw_conn_error_message(d.c));
    for (int i = 0; i < 5; i++)
        cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK);
    /* A part on one of the stream's own connections (not the caller's). */
    snprintf(sql, sizeof sql,
             "SELECT pg_terminate_backend(pid)::text::json AS data FROM pg_stat_activity "
             "WHERE datname = current_database() AND pid NOT IN (pg_backend_pid(), %d) "
             "AND query LIKE 'SELECT data FROM%%' ORDER BY pid LIMIT 1",
             fw_conn_backend_pid(d.c));
    v = fwt_one_row(admin, sql, 0, NULL);
    cr_assert_str_eq(v, "true");
    free(v);
    while ((st = fw_stream_next(s, &json, &len)) == FW_OK)
        n++;
    cr_assert(st == FW_ERR_SQL || st == FW_ERR_IO, "%s", fw_status_name(st));
    cr_assert(n < PT_ROWS, "every row arrived although a part died");
    cr_assert_not_null(fw_conn_error_message(d.c));
    cr_assert(strncmp(fw_conn_error_message(d.c), "part ", 5) == 0 &&
                  strstr(fw_conn_error_message(d.c), " of 4: ") != NULL,
              "the error does not name the part: %s", fw_conn_error_message(d.c));
    if (st == FW_ERR_SQL)
        cr_assert_str_eq(fw_conn_error_sqlstate(d.c), "57P01");
    /* Reported once: the stream stays failed with the same status. */
    cr_assert_eq(fw_stream_next(s, &json, &len), st);
    cr_assert_eq(fw_stream_next(s, &json, &len), st);
    fw_stream_close(s);
    fw_query_free(q);
    /* No part's query is still running, and the caller's connection works.
     * Close does not wait for the other backends to exit (their cancel and
     * Terminate are sent, the sockets closed): give them 10 s to go. */
    for (int tries = 0;; tries++) {
        v = fwt_one_row(admin,
                        "SELECT count(*)::text::json AS data FROM pg_stat_activity WHERE datname = "
                        "current_database() AND state = 'active' AND pid <> pg_backend_pid()",
                        0, NULL);
        if (strcmp(v, "0") == 0 || tries == 100)
            break;
        free(v);
        usleep(100 * 1000);
    }
    cr_assert_str_eq(v, "0", "a part's query is still active 10 s after the close");
    free(v);
    cr_assert(fw_conn_ok(d.c));
    pt_assert_no_transaction(d.c);
    fw_conn_free(admin);
    pt_db_drop(&d);
}

/* The caller's own part's backend is terminated: the caller's connection
 * is lost (reported), the other parts are cancelled, nothing hangs. */
Test(parallel, terminated_caller_part, .timeout = 60)
{
    pt_db d;
    fw_conn *admin;
    fw_query *q = NULL;
    fw_stream *s = NULL;
    const char *json;
    size_t len;
    fw_status st;
    char sql[160];
    char *v;

    pt_db_create(&d, "terminate_caller");
    admin = fwt_connect(fwt_postgres_db(d.name));
    cr_assert_eq(fw_query_new("pj", &q), FW_OK);
    cr_assert_eq(fw_query_use_table(q), FW_OK);
    cr_assert_eq(fw_query_set_chunk_size(q, 50), FW_OK);
    cr_assert_eq(fw_query_set_parallel(q, 2), FW_OK);
    cr_assert_eq(fw_stream_open(d.c, q, &s), FW_OK, "%s", fw_conn_error_message(d.c));
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK);
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%d)::text::json AS data", fw_conn_backend_pid(d.c));
    v = fwt_one_row(admin, sql, 0, NULL);
    cr_assert_str_eq(v, "true");
    free(v);
    while ((st = fw_stream_next(s, &json, &len)) == FW_OK)
        ;
    cr_assert(st == FW_ERR_SQL || st == FW_ERR_IO, "%s", fw_status_name(st));
    cr_assert(strstr(fw_conn_error_message(d.c), " of 2: ") != NULL, "%s",
              fw_conn_error_message(d.c));
    cr_assert_neq(fw_stream_close(s), FW_OK);
    cr_assert(!fw_conn_ok(d.c));
    fw_query_free(q);
    v = fwt_one_row(admin, "SELECT count(*)::text::json AS data FROM pg_stat_activity WHERE datname = "
                           "current_database() AND state = 'active' AND pid <> pg_backend_pid()",
                    0, NULL);
    cr_assert_str_eq(v, "0");
    free(v);
    fw_conn_free(admin);
    pt_db_drop(&d);
}

Test(parallel, cancel_stops_every_part, .timeout = 60)
{
    pt_db d;
    fw_query *q = NULL;
    fw_stream *s = NULL;
    const char *json;
    size_t len;
    long n = 0;
    fw_status st;

    pt_db_create(&d, "cancel");
    cr_assert_eq(fw_query_new("pb", &q), FW_OK);
    cr_assert_eq(fw_query_set_chunk_size(q, 50), FW_OK);
    cr_assert_eq(fw_query_set_parallel(q, 4), FW_OK);
    cr_assert_eq(fw_stream_open(d.c, q, &s), FW_OK, "%s", fw_conn_error_message(d.c));
    for (int i = 0; i < 3; i++)
        cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK);
    cr_assert_eq(fw_stream_cancel(s), FW_OK);
    while ((st = fw_stream_next(s, &json, &len)) == FW_OK)
        n++;
    cr_assert_eq(st, FW_ERR_CANCELLED, "%s: %s", fw_status_name(st), fw_conn_error_message(d.c));
    cr_assert_eq(fw_conn_error_class(d.c), FW_ERR_CANCELLED);
    cr_assert(n < PT_ROWS);
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_ERR_CANCELLED);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    fw_query_free(q);
    cr_assert(fw_conn_ok(d.c));
    pt_assert_no_transaction(d.c);
    pt_db_drop(&d);
}

/* Closing a stream early (rows left in every part) cancels the rest and
 * leaves the caller's connection ready. */
Test(parallel, close_early, .timeout = 60)
{
    pt_db d;
    fw_query *q = NULL;
    fw_stream *s = NULL;
    const char *json;
    size_t len;

    pt_db_create(&d, "close_early");
    cr_assert_eq(fw_query_new("pj", &q), FW_OK);
    cr_assert_eq(fw_query_set_parallel(q, 3), FW_OK);
    cr_assert_eq(fw_stream_open(d.c, q, &s), FW_OK, "%s", fw_conn_error_message(d.c));
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK);
    cr_assert_eq(fw_stream_close(s), FW_OK, "%s", fw_conn_error_message(d.c));
    fw_query_free(q);
    pt_assert_no_transaction(d.c);
    pt_db_drop(&d);
}

/* ORDER BY the split key: in order (partitions concatenated), both ways. */
Test(parallel, order_by_the_key, .timeout = 60)
{
    pt_db d;

    pt_db_create(&d, "order");
    for (int desc = 0; desc < 2; desc++)
        for (int type = 0; type < 2; type++) {
            fw_query *q = NULL;
            pt_rows r;

            cr_assert_eq(fw_query_new("pb", &q), FW_OK);
            cr_assert_eq(fw_query_use_table(q), FW_OK);
            cr_assert_eq(fw_query_add_order_by(q, "id", type ? FW_ORDER_NUMERIC : FW_ORDER_JSONB,
                                               desc ? FW_ORDER_DESC : FW_ORDER_ASC), FW_OK);
            r = pt_read(d.c, q, 4);
            cr_assert_eq(r.parts, 4);
            cr_assert_eq(r.n, (size_t)PT_ROWS);
            for (size_t i = 0; i < r.n; i++) {
                long want = desc ? PT_ROWS - (long)i : (long)i + 1;
                char prefix[32];

                snprintf(prefix, sizeof prefix, "{\"id\": %ld,", want);
                cr_assert(strncmp(r.v[i], prefix, strlen(prefix)) == 0, "row %zu: %s", i, r.v[i]);
            }
            pt_rows_free(&r);
            fw_query_free(q);
        }
    pt_db_drop(&d);
}

static void
pt_expect_refused(fw_conn *c, fw_query *q, fw_status want, const char *needle)
{
    fw_stream *s = NULL;
    fw_status st;

    cr_assert_eq(fw_query_set_parallel(q, 4), FW_OK);
    st = fw_stream_open(c, q, &s);
    cr_assert_eq(st, want, "%s: %s", fw_status_name(st), fw_conn_error_message(c));
    cr_assert_null(s);
    cr_assert_not_null(fw_conn_error_message(c));
    cr_assert(strstr(fw_conn_error_message(c), needle) != NULL, "%s", fw_conn_error_message(c));
    cr_assert(fw_conn_ok(c));
}

Test(parallel, refused_orders_offset_and_transactions, .timeout = 60)
{
    pt_db d;
    fw_query *q = NULL;

    pt_db_create(&d, "refused");
    /* Another field. */
    cr_assert_eq(fw_query_new("pb", &q), FW_OK);
    cr_assert_eq(fw_query_add_order_by(q, "name", FW_ORDER_TEXT, 0), FW_OK);
    pt_expect_refused(d.c, q, FW_ERR_CONFIG, "ORDER BY \"name\" cannot be used with parallel");
    pt_assert_no_transaction(d.c);
    fw_query_free(q);
    /* The key, but sorted as text (10 before 9). */
    cr_assert_eq(fw_query_new("pb", &q), FW_OK);
    cr_assert_eq(fw_query_add_order_by(q, "id", FW_ORDER_TEXT, 0), FW_OK);
    pt_expect_refused(d.c, q, FW_ERR_CONFIG, "does not sort in the same order");
    fw_query_free(q);
    /* Two keys; a nested path; a trusted ORDER BY; OFFSET. */
    cr_assert_eq(fw_query_new("pb", &q), FW_OK);
    cr_assert_eq(fw_query_add_order_by(q, "id", FW_ORDER_NUMERIC, 0), FW_OK);
    cr_assert_eq(fw_query_add_order_by(q, "name", FW_ORDER_TEXT, 0), FW_OK);
    pt_expect_refused(d.c, q, FW_ERR_CONFIG, "exactly the split key");
    fw_query_free(q);
    cr_assert_eq(fw_query_new("pb", &q), FW_OK);
    cr_assert_eq(fw_query_set_order_by_sql_trusted(q, "data->>'id'"), FW_OK);
    pt_expect_refused(d.c, q, FW_ERR_CONFIG, "trusted ORDER BY");
    fw_query_free(q);
    cr_assert_eq(fw_query_new("pb", &q), FW_OK);
    cr_assert_eq(fw_query_set_offset(q, 10), FW_OK);
    pt_expect_refused(d.c, q, FW_ERR_CONFIG, "OFFSET");
    fw_query_free(q);
    /* A connection inside a transaction: refused, the transaction kept. */
    cr_assert_eq(fw_query_new("pb", &q), FW_OK);
    fwt_exec(d.c, "BEGIN");
    pt_expect_refused(d.c, q, FW_ERR_USAGE, "inside one");
    fwt_exec(d.c, "ROLLBACK");
    fw_query_free(q);
    /* Parts out of range. */
    cr_assert_eq(fw_query_new("pb", &q), FW_OK);
    cr_assert_eq(fw_query_set_parallel(q, 0), FW_ERR_CONFIG);
    cr_assert_eq(fw_query_set_parallel(q, 1025), FW_ERR_CONFIG);
    cr_assert(strstr(fw_query_error_message(q), "between 1 and 1024") != NULL);
    fw_query_free(q);
    /* A relation with no key (a plain view): the server's error, once. */
    fwt_exec(d.c, "CREATE VIEW plain AS SELECT to_jsonb(s) AS data FROM par_src s");
    cr_assert_eq(fw_query_new("x", &q), FW_OK);
    cr_assert_eq(fw_query_set_relation(q, "plain"), FW_OK);
    pt_expect_refused(d.c, q, FW_ERR_SQL, "has no key to split on");
    cr_assert_str_eq(fw_conn_error_sqlstate(d.c), "55000");
    pt_assert_no_transaction(d.c);
    fw_query_free(q);
    pt_db_drop(&d);
}

/* LIMIT is global: exactly LIMIT rows (distinct), and with ORDER BY the key
 * the first LIMIT rows in order. */
Test(parallel, limit_is_global, .timeout = 60)
{
    pt_db d;
    fw_query *q = NULL;
    pt_rows r;

    pt_db_create(&d, "limit");
    cr_assert_eq(fw_query_new("pb", &q), FW_OK);
    cr_assert_eq(fw_query_set_limit(q, 777), FW_OK);
    cr_assert_eq(fw_query_set_chunk_size(q, 100), FW_OK);
    r = pt_read(d.c, q, 4);
    cr_assert_eq(r.n, 777u);
    qsort(r.v, r.n, sizeof *r.v, pt_cmp);
    for (size_t i = 1; i < r.n; i++)
        cr_assert_str_neq(r.v[i - 1], r.v[i]);
    pt_rows_free(&r);
    cr_assert_eq(fw_query_add_order_by(q, "id", FW_ORDER_NUMERIC, 0), FW_OK);
    r = pt_read(d.c, q, 4);
    cr_assert_eq(r.n, 777u);
    cr_assert(strncmp(r.v[0], "{\"id\": 1,", 9) == 0, "%s", r.v[0]);
    cr_assert(strncmp(r.v[776], "{\"id\": 777,", 11) == 0, "%s", r.v[776]);
    pt_rows_free(&r);
    cr_assert_eq(fw_query_set_limit(q, 0), FW_OK);
    r = pt_read(d.c, q, 4);
    cr_assert_eq(r.n, 0u);
    pt_rows_free(&r);
    fw_query_free(q);
    pt_assert_no_transaction(d.c);
    pt_db_drop(&d);
}

/* The extra connections use the caller's parameters: SCRAM over TCP (TLS
 * with sslmode=prefer), and a role that may read only the v_ view. */
Test(parallel, extra_connections_authenticate_like_the_first, .timeout = 60)
{
    pt_db d;
    fw_conn *c;
    fw_query *q = NULL;
    char extra[160];
    pt_rows serial, par;

    pt_db_create(&d, "scram");
    fwt_exec(d.c, "GRANT USAGE ON SCHEMA public TO fw_scram; GRANT SELECT ON v_pb TO fw_scram");
    snprintf(extra, sizeof extra, "password=fw_scram_pw dbname=%s", d.name);
    c = fwt_connect(fwt_tcp("fw_scram", extra));
    cr_assert_eq(fw_query_new("pb", &q), FW_OK);
    serial = pt_read(c, q, 1);
    par = pt_read(c, q, 4);
    cr_assert_gt(par.parts, 1);
    pt_assert_same_multiset(&serial, &par, "fw_scram over TCP");
    pt_rows_free(&serial);
    pt_rows_free(&par);
    fw_query_free(q);
    fw_conn_free(c);
    pt_db_drop(&d);
}

/* The unordered multiplexer reads a part's socket only when it may have
 * data: a try that finds nothing (FW_AGAIN, which costs a recv that fails)
 * happens at most once per part at the start, once per time poll(2)
 * reported the part ready, and once per read that filled the part's
 * buffer; never on the parts poll did not report.  Many
 * small chunks over 4 parts: many waits. */
Test(parallel, tries_only_parts_poll_reported, .timeout = 60)
{
    pt_db d;
    fw_query *q = NULL;
    fw_stream *s = NULL;
    fw_par_counters n;
    const char *json;
    size_t len;
    fw_status st;
    long rows = 0;

    pt_db_create(&d, "tries");
    for (int rel = 0; rel < 2; rel++) {
        cr_assert_eq(fw_query_new(rel == 0 ? "pb" : "pj", &q), FW_OK);
        if (rel == 1)
            cr_assert_eq(fw_query_use_table(q), FW_OK);
        cr_assert_eq(fw_query_set_chunk_size(q, 20), FW_OK);
        cr_assert_eq(fw_query_set_parallel(q, 4), FW_OK);
        cr_assert_eq(fw_stream_open(d.c, q, &s), FW_OK, "%s", fw_conn_error_message(d.c));
        cr_assert_eq(fw_stream_parts(s), 4);
        rows = 0;
        while ((st = fw_stream_next(s, &json, &len)) == FW_OK)
            rows++;
        cr_assert_eq(st, FW_DONE, "%s", fw_conn_error_message(d.c));
        cr_assert_eq(rows, PT_ROWS);
        fw_par_get_counters(s, &n);
        cr_assert_gt(n.polls, 0, "no wait at all: the test shows nothing");
        cr_assert_leq(n.tries_again, 4 + n.ready + n.tries_filled,
                      "%s: %llu tries found nothing, but poll reported only %llu parts ready "
                      "(%llu polls, %llu tries, %llu after a full read)",
                      rel == 0 ? "v_" : "tv_", (unsigned long long)n.tries_again,
                      (unsigned long long)n.ready, (unsigned long long)n.polls,
                      (unsigned long long)n.tries, (unsigned long long)n.tries_filled);
        cr_assert_eq(fw_stream_close(s), FW_OK);
        fw_query_free(q);
    }
    pt_db_drop(&d);
}

/* fw_conn_set_statement_timeout holds for every part, not only the
 * caller's: a part whose backend runs without it would give no row here. */
Test(parallel, statement_timeout_holds_for_every_part, .timeout = 60)
{
    pt_db d;
    fw_query *q = NULL;
    pt_rows r;

    pt_db_create(&d, "stmt_timeout");
    fw_conn_set_statement_timeout(d.c, 54321);
    cr_assert_eq(fw_query_new("pb", &q), FW_OK);
    cr_assert_eq(fw_query_set_where_sql_trusted(
                     q, "pg_catalog.current_setting('statement_timeout') = '54321ms'"),
                 FW_OK);
    r = pt_read(d.c, q, 4);
    cr_assert_eq(r.parts, 4);
    cr_assert_eq(r.n, PT_ROWS, "%zu rows: a part ran without the statement timeout", r.n);
    pt_rows_free(&r);
    fw_query_free(q);
    pt_db_drop(&d);
}

/* Wake-ups are coalesced: poll(2) runs at most once per FW_PAR_NAP_US after
 * a wake-up (internal.h), so the polls of a stream are bounded by its time
 * (plus the 100 ms slices of a silent wait); a stream with small chunks is
 * never made to sleep (its servers would wait for the next Execute). */
Test(parallel, wake_ups_are_coalesced, .timeout = 60)
{
    pt_db d;
    fw_query *q = NULL;
    fw_stream *s = NULL;
    fw_par_counters n;
    const char *json;
    size_t len;
    fw_status st;
    long rows;
    int64_t t0, us;

    pt_db_create(&d, "naps");
    /* Long enough for many wake-ups: a v_ view whose server is slower
     * than the reader, and its tv_ table. */
    fwt_exec(d.c, "CREATE TABLE nap_src (id bigint PRIMARY KEY, name text NOT NULL, score integer); "
                  "INSERT INTO nap_src SELECT g, 'name ' || g, g % 10 "
                  "FROM generate_series(1, 200000) g; "
                  "SELECT fraiseql_wire.create_view('nap', 'nap_src'); "
                  "SELECT fraiseql_wire.create_table_view('nap'); "
                  "ANALYZE nap_src");
    for (int small = 0; small < 2; small++)
        for (int rel = 0; rel < 2; rel++) {
            cr_assert_eq(fw_query_new("nap", &q), FW_OK);
            if (rel == 1)
                cr_assert_eq(fw_query_use_table(q), FW_OK);
            if (small)
                cr_assert_eq(fw_query_set_chunk_size(q, FW_PAR_NAP_MIN_CHUNK - 1), FW_OK);
            cr_assert_eq(fw_query_set_parallel(q, 4), FW_OK);
            t0 = fw_now_us();
            cr_assert_eq(fw_stream_open(d.c, q, &s), FW_OK, "%s", fw_conn_error_message(d.c));
            rows = 0;
            while ((st = fw_stream_next(s, &json, &len)) == FW_OK)
                rows++;
            us = fw_now_us() - t0;
            cr_assert_eq(st, FW_DONE, "%s", fw_conn_error_message(d.c));
            cr_assert_eq(rows, 200000);
            fw_par_get_counters(s, &n);
            cr_assert_gt(n.polls, 0, "no wait at all: the test shows nothing");
            if (small) {
                cr_assert_eq(n.naps, 0, "chunks of %d rows: %llu naps", FW_PAR_NAP_MIN_CHUNK - 1,
                             (unsigned long long)n.naps);
            } else {
                cr_assert_leq(n.polls, (uint64_t)(us / FW_PAR_NAP_US + us / 100000 + 2),
                              "%s: %llu polls in %lld us (%llu naps)", rel == 0 ? "v_" : "tv_",
                              (unsigned long long)n.polls, (long long)us,
                              (unsigned long long)n.naps);
            }
            cr_assert_eq(fw_stream_close(s), FW_OK);
            fw_query_free(q);
        }
    pt_db_drop(&d);
}

/* The extra connections are made together: when one is refused (a role
 * allowed two connections, four parts), the open fails with that part's
 * error, named, and every connection the stream made is closed; the
 * caller's connection is usable and outside any transaction. */
Test(parallel, connect_failure_closes_every_part, .timeout = 60)
{
    pt_db d;
    fw_conn *c, *admin;
    fw_query *q = NULL;
    fw_stream *s = NULL;
    char role[64], sql[512], extra[160];
    const char *msg;
    fw_status st;
    char *v = NULL;

    pt_db_create(&d, "connfail");
    snprintf(role, sizeof role, "fwp_limited_%d", (int)getpid());
    snprintf(sql, sizeof sql,
             "CREATE ROLE %s LOGIN CONNECTION LIMIT 2; GRANT USAGE ON SCHEMA public TO %s; "
             "GRANT SELECT ON v_pb TO %s",
             role, role, role);
    fwt_exec(d.c, sql);
    snprintf(extra, sizeof extra, "dbname=%s", d.name);
    c = fwt_connect(fwt_sock(role, extra));
    admin = fwt_connect(fwt_postgres_db(d.name));
    cr_assert_eq(fw_query_new("pb", &q), FW_OK);
    cr_assert_eq(fw_query_set_parallel(q, 4), FW_OK);
    st = fw_stream_open(c, q, &s);
    cr_assert_eq(st, FW_ERR_SQL, "%s: %s", fw_status_name(st), fw_conn_error_message(c));
    cr_assert_null(s);
    msg = fw_conn_error_message(c);
    cr_assert_not_null(msg);
    cr_assert(strncmp(msg, "part ", 5) == 0 && strstr(msg, " of 4: ") != NULL,
              "the error does not name the part: %s", msg);
    cr_assert_str_eq(fw_conn_error_sqlstate(c), "53300");
    /* Only the caller's connection is left (a closed connection's backend
     * goes away shortly after). */
    snprintf(sql, sizeof sql,
             "SELECT count(*)::text::json AS data FROM pg_stat_activity WHERE usename = '%s'", role);
    for (int i = 0; i < 100; i++) {
        free(v);
        v = fwt_one_row(admin, sql, 0, NULL);
        if (strcmp(v, "1") == 0)
            break;
        usleep(50 * 1000);
    }
    cr_assert_str_eq(v, "1", "connections of the failed open are still there");
    free(v);
    cr_assert(fw_conn_ok(c));
    pt_assert_no_transaction(c);
    /* Two parts fit in the limit. */
    cr_assert_eq(fw_query_set_parallel(q, 2), FW_OK);
    cr_assert_eq(fw_stream_open(c, q, &s), FW_OK, "%s", fw_conn_error_message(c));
    cr_assert_eq(fw_stream_parts(s), 2);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    fw_query_free(q);
    fw_conn_free(c);
    fw_conn_free(admin);
    pt_db_drop(&d);
    admin = fwt_connect(fwt_sock("postgres", NULL));
    snprintf(sql, sizeof sql, "DROP ROLE %s", role);
    fwt_exec(admin, sql);
    fw_conn_free(admin);
}

/* Through the one-byte proxy, which counts the connections made: a
 * CancelRequest is a connection of its own. */
static fwt_proxy *
pt_proxy_connect(const char *dbname, fw_conn **c)
{
    fwt_proxy *px = fwt_proxy_start(fwt_tcp_host(), fwt_port(), 0);
    char ci[256];

    cr_assert_not_null(px, "could not start the proxy");
    snprintf(ci, sizeof ci,
             "host=127.0.0.1 port=%d dbname=%s user=postgres sslmode=disable connect_timeout=30",
             fwt_proxy_port(px), dbname);
    *c = fwt_connect(ci);
    cr_assert_eq(fwt_proxy_connections(px), 1);
    return px;
}

/*
 * A successful open leaves no query running, so it cancels nothing: 4
 * parts make exactly the 3 extra connections, no CancelRequest (the split,
 * the snapshot id included, is read to its end; the proxy hands the
 * replies over a byte at a time, so no completion is ever buffered behind
 * the row read).  The tv_ table and the v_ view (block splits), and ordered by the key.
 */
Test(parallel, open_sends_no_cancel_request, .timeout = 120)
{
    pt_db d;

    pt_db_create(&d, "nocancel");
    for (int kind = 0; kind < 3; kind++) {
        fw_conn *c = NULL;
        fwt_proxy *px = pt_proxy_connect(d.name, &c);
        fw_query *q = NULL;
        fw_stream *s = NULL;
        const char *json;
        size_t len;

        cr_assert_eq(fw_query_new("pb", &q), FW_OK);
        if (kind == 0)
            cr_assert_eq(fw_query_use_table(q), FW_OK);
        if (kind == 2)
            cr_assert_eq(fw_query_add_order_by(q, "id", FW_ORDER_NUMERIC, FW_ORDER_ASC), FW_OK);
        /* Little in flight: the close drains it a byte at a time. */
        cr_assert_eq(fw_query_set_chunk_size(q, 10), FW_OK);
        cr_assert_eq(fw_query_set_parallel(q, 4), FW_OK);
        cr_assert_eq(fw_stream_open(c, q, &s), FW_OK, "%s", fw_conn_error_message(c));
        cr_assert_eq(fw_stream_parts(s), 4);
        cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK, "%s", fw_conn_error_message(c));
        cr_assert_eq(fwt_proxy_connections(px), 4,
                     "kind %d: %d connections for 4 parts: the open sent a CancelRequest", kind,
                     fwt_proxy_connections(px));
        cr_assert_eq(fw_stream_close(s), FW_OK, "%s", fw_conn_error_message(c));
        fw_query_free(q);
        pt_assert_no_transaction(c);
        fw_conn_free(c);
        fwt_proxy_stop(px);
    }
    pt_db_drop(&d);
}

/* The extra connections are made while the split runs, before the number
 * of parts is known: a relation of one block gives one part, and the
 * connections made for the others are closed at once (only the caller's
 * backend is left while the stream runs). */
Test(parallel, fewer_parts_close_the_extra_connections, .timeout = 60)
{
    pt_db d;
    fw_conn *c, *admin;
    fw_query *q = NULL;
    fw_stream *s = NULL;
    const char *json;
    size_t len;
    char sql[256];
    char *v = NULL;
    int rows = 0;
    fw_status st;

    pt_db_create(&d, "fewer");
    fwt_exec(d.c, "CREATE TABLE tiny (id bigint PRIMARY KEY, name text); "
                  "INSERT INTO tiny VALUES (1, 'a'), (2, 'b'), (3, 'c'); "
                  "SELECT fraiseql_wire.create_view('tiny', 'tiny'); "
                  "SELECT fraiseql_wire.create_table_view('tiny'); ANALYZE tiny");
    c = fwt_connect(fwt_postgres_db(d.name));
    admin = fwt_connect(fwt_postgres_db(d.name));
    cr_assert_eq(fw_query_new("tiny", &q), FW_OK);
    cr_assert_eq(fw_query_use_table(q), FW_OK);
    cr_assert_eq(fw_query_set_parallel(q, 4), FW_OK);
    cr_assert_eq(fw_stream_open(c, q, &s), FW_OK, "%s", fw_conn_error_message(c));
    cr_assert_eq(fw_stream_parts(s), 1);
    snprintf(sql, sizeof sql,
             "SELECT count(*)::text::json AS data FROM pg_stat_activity WHERE datname = "
             "current_database() AND pid NOT IN (pg_backend_pid(), %d) AND backend_type = "
             "'client backend'",
             fw_conn_backend_pid(d.c));
    for (int i = 0; i < 100; i++) {
        free(v);
        v = fwt_one_row(admin, sql, 0, NULL);
        if (strcmp(v, "1") == 0)
            break;
        usleep(50 * 1000);
    }
    cr_assert_str_eq(v, "1", "the connections of the parts not needed are still there");
    free(v);
    while ((st = fw_stream_next(s, &json, &len)) == FW_OK)
        rows++;
    cr_assert_eq(st, FW_DONE, "%s", fw_conn_error_message(c));
    cr_assert_eq(rows, 3);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    fw_query_free(q);
    pt_assert_no_transaction(c);
    fw_conn_free(c);
    fw_conn_free(admin);
    pt_db_drop(&d);
}
