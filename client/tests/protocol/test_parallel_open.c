/*
 * Opening a parallel stream against a scripted server on 127.0.0.1 that
 * plays every connection of the stream (the caller's and the extra ones):
 * the split goes out as one batch (BEGIN, parallel_parts(),
 * pg_export_snapshot(), one Sync) while the extra connections are made;
 * each part's snapshot import and query go out together, before any reply;
 * no CancelRequest; an import that fails, or a connection refused while the
 * split still runs, fails the open once, naming the part, with the
 * server's SQLSTATE, and leaves the caller's connection usable; a
 * connection the split does not need may fail; a silent split ends at the
 * caller's timeout.  Needs no cluster.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_fake_server.h"
#include "fw_test.h"

/* Backend bytes built at run time (the steps point into them). */
typedef struct pbuf {
    uint8_t b[1024];
    size_t n;
} pbuf;

static void
put_msg(pbuf *p, char type, const void *body, size_t n)
{
    uint32_t len = (uint32_t)n + 4;

    cr_assert_leq(p->n + 5 + n, sizeof p->b);
    p->b[p->n++] = (uint8_t)type;
    p->b[p->n++] = (uint8_t)(len >> 24);
    p->b[p->n++] = (uint8_t)(len >> 16);
    p->b[p->n++] = (uint8_t)(len >> 8);
    p->b[p->n++] = (uint8_t)len;
    if (n)
        memcpy(p->b + p->n, body, n);
    p->n += n;
}

static void
put_complete(pbuf *p, const char *tag)
{
    put_msg(p, 'C', tag, strlen(tag) + 1);
}

static void
put_ready(pbuf *p, char tx)
{
    put_msg(p, 'Z', &tx, 1);
}

static void
put_parsed(pbuf *p)
{
    put_msg(p, '1', NULL, 0);
    put_msg(p, '2', NULL, 0);
}

/* A DataRow of one text column. */
static void
put_row(pbuf *p, const char *text)
{
    uint8_t body[256];
    size_t n = strlen(text);

    cr_assert_leq(n + 6, sizeof body);
    body[0] = 0;
    body[1] = 1;
    body[2] = (uint8_t)(n >> 24);
    body[3] = (uint8_t)(n >> 16);
    body[4] = (uint8_t)(n >> 8);
    body[5] = (uint8_t)n;
    memcpy(body + 6, text, n);
    put_msg(p, 'D', body, n + 6);
}

/* An ErrorResponse (or FATAL) with a SQLSTATE and a message. */
static void
put_error(pbuf *p, const char *severity, const char *sqlstate, const char *message)
{
    uint8_t body[256];
    size_t n = 0;

    n += (size_t)snprintf((char *)body + n, sizeof body - n, "S%s", severity) + 1;
    n += (size_t)snprintf((char *)body + n, sizeof body - n, "C%s", sqlstate) + 1;
    n += (size_t)snprintf((char *)body + n, sizeof body - n, "M%s", message) + 1;
    body[n++] = 0;
    put_msg(p, 'E', body, n);
}

static void
put_hello(pbuf *p)
{
    static const uint8_t hello[] = {FWT_MSG_AUTH_OK, FWT_MSG_BACKEND_KEY, FWT_MSG_READY};

    memcpy(p->b + p->n, hello, sizeof hello);
    p->n += sizeof hello;
}

/* The split's replies: BEGIN, two block-range parts, the snapshot. */
static void
put_split(pbuf *p)
{
    put_complete(p, "BEGIN");
    put_ready(p, 'T');
    put_parsed(p);
    put_row(p, "[1, \"ctid\", \"tid\", null, null, \"(5,0)\"]");
    put_row(p, "[2, \"ctid\", \"tid\", null, \"(5,0)\", null]");
    put_complete(p, "SELECT 2");
    put_parsed(p);
    put_row(p, "00000003-0000001B-1");
    put_complete(p, "SELECT 1");
    put_ready(p, 'T');
}

/* A part's query described: the setup statement's and the query's replies. */
static void
put_described(pbuf *p)
{
    static const uint8_t rowdesc[] = {FWT_MSG_ROW_DESC_JSONB};

    put_parsed(p);
    put_complete(p, "SELECT 1");
    put_parsed(p);
    memcpy(p->b + p->n, rowdesc, sizeof rowdesc);
    p->n += sizeof rowdesc;
}

/* One row, then the end of the query (the Sync's reply comes later). */
static void
put_one_row(pbuf *p)
{
    put_row(p, "{\"a\": 1}");
    put_complete(p, "SELECT 1");
}

#define SEND_BUF(pb) FWT_SEND_N((pb).b, (pb).n)

static fw_conn *
connect_caller(fwt_fake *f)
{
    fw_conn *c = NULL;
    fw_status st = fw_conn_connect(fwt_fake_conninfo(f, "sslmode=disable"), &c);

    cr_assert_eq(st, FW_OK, "%s: %s", fw_status_name(st), fw_conn_error_message(c));
    fw_conn_set_timeout(c, 5000);
    return c;
}

static fw_query *
parallel_query(int parts)
{
    fw_query *q = NULL;

    cr_assert_eq(fw_query_new("things", &q), FW_OK);
    cr_assert_eq(fw_query_set_parallel(q, parts), FW_OK);
    return q;
}

/* Opens, reads every row, closes; the open must succeed with two parts. */
static void
read_two_parts(fw_conn *c, fw_query *q)
{
    fw_stream *s = NULL;
    const char *json;
    size_t len;
    int rows = 0;
    fw_status st = fw_stream_open(c, q, &s);

    cr_assert_eq(st, FW_OK, "%s: %s", fw_status_name(st), fw_conn_error_message(c));
    cr_assert_eq(fw_stream_parts(s), 2);
    while ((st = fw_stream_next(s, &json, &len)) == FW_OK)
        rows++;
    cr_assert_eq(st, FW_DONE, "%s: %s", fw_status_name(st), fw_conn_error_message(c));
    cr_assert_eq(rows, 2);
    cr_assert_eq(fw_stream_close(s), FW_OK, "%s", fw_conn_error_message(c));
    cr_assert(fw_conn_ok(c));
}

/* Every reply the scripts send, built once per test (the steps point into
 * them). */
typedef struct replies {
    pbuf hello;          /* authentication ok, parameters, ReadyForQuery */
    pbuf split;          /* the split's batch answered: two block-range parts */
    pbuf b_described;    /* an extra part: the import's replies, its query described */
    pbuf a_described;    /* the caller's part: its query described */
    pbuf row;            /* one row and the end of the query */
    pbuf ready_t;        /* ReadyForQuery in a transaction */
    pbuf rollback;       /* ROLLBACK's replies */
    pbuf refused;        /* FATAL 53300 */
    pbuf fatal;          /* FATAL 57P01 */
    pbuf import_failed;  /* the import's ERROR 22023, then the query's 25P02 */
} replies;

static void
replies_make(replies *r)
{
    memset(r, 0, sizeof *r);
    put_hello(&r->hello);
    put_split(&r->split);
    put_complete(&r->b_described, "BEGIN");
    put_complete(&r->b_described, "SET");
    put_ready(&r->b_described, 'T');
    put_described(&r->b_described);
    put_described(&r->a_described);
    put_one_row(&r->row);
    put_ready(&r->ready_t, 'T');
    put_complete(&r->rollback, "ROLLBACK");
    put_ready(&r->rollback, 'I');
    put_error(&r->refused, "FATAL", "53300", "too many connections for role \"alice\"");
    put_error(&r->fatal, "FATAL", "57P01", "terminating connection due to administrator command");
    put_complete(&r->import_failed, "BEGIN");
    put_error(&r->import_failed, "ERROR", "22023",
              "invalid snapshot identifier: \"00000003-0000001B-1\"");
    put_ready(&r->import_failed, 'E');
    put_error(&r->import_failed, "ERROR", "25P02", "current transaction is aborted");
}

/*
 * Two parts.  The caller's connection sends the split as one batch (Query,
 * then Parse/Bind/Execute twice, one Sync) without waiting for the BEGIN;
 * the extra connection is made meanwhile (the script accepts it only after
 * the batch came, and answers the split only after that connection is
 * up); then the extra connection gets the snapshot import and its query in
 * one flight (Query, the setup and the query's Parse/Bind/Describe, Flush)
 * before anything is answered; no CancelRequest anywhere.
 */
Test(parallel_open, every_message_goes_out_before_its_reply, .timeout = 30)
{
    replies r;
    fwt_fake_step steps[40];
    int n = 0;
    fwt_fake f;
    fw_conn *c;
    fw_query *q;

    replies_make(&r);
    steps[n++] = (fwt_fake_step)FWT_STARTUP;
    steps[n++] = (fwt_fake_step)SEND_BUF(r.hello);
    steps[n++] = (fwt_fake_step)FWT_EXPECT('S');   /* the split, whole */
    steps[n++] = (fwt_fake_step)FWT_ACCEPT;        /* the extra connection */
    steps[n++] = (fwt_fake_step)FWT_STARTUP;
    steps[n++] = (fwt_fake_step)SEND_BUF(r.hello);
    steps[n++] = (fwt_fake_step)FWT_USE(0);
    steps[n++] = (fwt_fake_step)SEND_BUF(r.split);
    steps[n++] = (fwt_fake_step)FWT_USE(1);
    steps[n++] = (fwt_fake_step)FWT_EXPECT('H');   /* import and query, unanswered */
    steps[n++] = (fwt_fake_step)SEND_BUF(r.b_described);
    steps[n++] = (fwt_fake_step)FWT_USE(0);
    steps[n++] = (fwt_fake_step)FWT_EXPECT('H');   /* part 1's query */
    steps[n++] = (fwt_fake_step)SEND_BUF(r.a_described);
    for (int conn = 0; conn < 2; conn++) {
        steps[n++] = (fwt_fake_step)FWT_USE(conn);
        steps[n++] = (fwt_fake_step)FWT_EXPECT('H');   /* the Executes */
        steps[n++] = (fwt_fake_step)SEND_BUF(r.row);
        steps[n++] = (fwt_fake_step)FWT_EXPECT('S');
        steps[n++] = (fwt_fake_step)SEND_BUF(r.ready_t);
    }
    steps[n++] = (fwt_fake_step)FWT_USE(0);
    steps[n++] = (fwt_fake_step)FWT_EXPECT('Q');   /* ROLLBACK */
    steps[n++] = (fwt_fake_step)SEND_BUF(r.rollback);
    steps[n++] = (fwt_fake_step)FWT_END;
    cr_assert_leq(n, (int)(sizeof steps / sizeof steps[0]));

    fwt_fake_start(&f, steps, 0);
    c = connect_caller(&f);
    q = parallel_query(2);
    read_two_parts(c, q);
    fw_query_free(q);
    fw_conn_free(c);
    fwt_fake_stop(&f);
    cr_assert_eq(f.failed_step, -1, "the script stopped at step %d (caller: %s, extra: %s)",
                 f.failed_step, f.conn_types[0], f.conn_types[1]);
    cr_assert_eq(strncmp(f.conn_types[0], "QPBEPBES", 8), 0, "the split: %s", f.conn_types[0]);
    cr_assert_eq(strncmp(f.conn_types[1], "QPBEPBDH", 8), 0,
                 "the import and the query are not sent together: %s", f.conn_types[1]);
    cr_assert_eq(f.nconns, 2);
    cr_assert_eq(f.unexpected, 0, "%d connection(s) more: a CancelRequest", f.unexpected);
}

/*
 * Three parts asked, two given by the split, and one of the two extra
 * connections refused while the split runs (too many connections): the
 * part takes the one that was made, whichever was started first, and the
 * open succeeds with two parts.  `refused` is the extra connection the
 * server refuses, in the order they arrive (1: the first started).
 */
static void
one_extra_refused(int refused_one)
{
    replies r;
    fwt_fake_step steps[48];
    int n = 0, used = refused_one == 1 ? 2 : 1;
    fwt_fake f;
    fw_conn *c;
    fw_query *q;

    replies_make(&r);
    steps[n++] = (fwt_fake_step)FWT_STARTUP;
    steps[n++] = (fwt_fake_step)SEND_BUF(r.hello);
    steps[n++] = (fwt_fake_step)FWT_EXPECT('S');
    for (int k = 1; k <= 2; k++) {
        steps[n++] = (fwt_fake_step)FWT_ACCEPT;
        steps[n++] = (fwt_fake_step)FWT_STARTUP;
        if (k == refused_one) {
            steps[n++] = (fwt_fake_step)SEND_BUF(r.refused);
            steps[n++] = (fwt_fake_step)FWT_DROP;
        } else {
            steps[n++] = (fwt_fake_step)SEND_BUF(r.hello);
        }
    }
    steps[n++] = (fwt_fake_step)FWT_SLEEP(200);
    steps[n++] = (fwt_fake_step)FWT_USE(0);
    steps[n++] = (fwt_fake_step)SEND_BUF(r.split);
    steps[n++] = (fwt_fake_step)FWT_USE(used);
    steps[n++] = (fwt_fake_step)FWT_EXPECT('H');
    steps[n++] = (fwt_fake_step)SEND_BUF(r.b_described);
    steps[n++] = (fwt_fake_step)FWT_USE(0);
    steps[n++] = (fwt_fake_step)FWT_EXPECT('H');
    steps[n++] = (fwt_fake_step)SEND_BUF(r.a_described);
    for (int k = 0; k < 2; k++) {
        steps[n++] = (fwt_fake_step)FWT_USE(k == 0 ? 0 : used);
        steps[n++] = (fwt_fake_step)FWT_EXPECT('H');
        steps[n++] = (fwt_fake_step)SEND_BUF(r.row);
        steps[n++] = (fwt_fake_step)FWT_EXPECT('S');
        steps[n++] = (fwt_fake_step)SEND_BUF(r.ready_t);
    }
    steps[n++] = (fwt_fake_step)FWT_USE(0);
    steps[n++] = (fwt_fake_step)FWT_EXPECT('Q');
    steps[n++] = (fwt_fake_step)SEND_BUF(r.rollback);
    steps[n++] = (fwt_fake_step)FWT_END;
    cr_assert_leq(n, (int)(sizeof steps / sizeof steps[0]));

    fwt_fake_start(&f, steps, 0);
    c = connect_caller(&f);
    q = parallel_query(3);
    read_two_parts(c, q);
    fw_query_free(q);
    fw_conn_free(c);
    fwt_fake_stop(&f);
    cr_assert_eq(f.failed_step, -1, "the script stopped at step %d (caller: %s, extra: %s)",
                 f.failed_step, f.conn_types[0], f.conn_types[used]);
    cr_assert_eq(f.nconns, 3);
    cr_assert_eq(f.unexpected, 0);
}

Test(parallel_open, unneeded_connection_may_fail, .timeout = 30)
{
    one_extra_refused(2);
}

/* The first extra connection refused, the second made: the part uses the
 * second (the connections are not tied to part numbers). */
Test(parallel_open, a_part_takes_whichever_connection_was_made, .timeout = 30)
{
    one_extra_refused(1);
}

/* Opens and expects the failure of part 2 of 2 with `sqlstate`; the
 * caller's connection is usable afterwards. */
static void
expect_part_failure(fwt_fake *f, const char *sqlstate, const char *text)
{
    fw_conn *c = connect_caller(f);
    fw_query *q = parallel_query(2);
    fw_stream *s = NULL;
    fw_status st = fw_stream_open(c, q, &s);
    const char *msg = fw_conn_error_message(c);

    cr_assert_eq(st, FW_ERR_SQL, "%s: %s", fw_status_name(st), msg);
    cr_assert_null(s);
    cr_assert_not_null(msg);
    cr_assert(strncmp(msg, "part 2 of 2: ", 13) == 0 && strstr(msg, text) != NULL,
              "the error does not name the part, or is not the server's: %s", msg);
    cr_assert_str_eq(fw_conn_error_sqlstate(c), sqlstate);
    cr_assert(fw_conn_ok(c), "the caller's connection is lost");
    fw_query_free(q);
    fw_conn_free(c);
    fwt_fake_stop(f);
    cr_assert_eq(f->failed_step, -1, "the script stopped at step %d (caller: %s, extra: %s)",
                 f->failed_step, f->conn_types[0], f->conn_types[1]);
    cr_assert_eq(f->unexpected, 0, "%d connection(s) more: a CancelRequest", f->unexpected);
}

/* The script of an import that fails: part 2's import is answered with
 * `answer` (then the connection is dropped when `drop`); part 1's query on
 * the caller's connection is closed with a Sync, then the transaction is
 * rolled back.  Runs the open and checks the failure. */
static void
import_fails(const pbuf *answer, int drop, const char *sqlstate, const char *text)
{
    replies r;
    fwt_fake_step steps[24];
    int n = 0;
    fwt_fake f;

    replies_make(&r);
    steps[n++] = (fwt_fake_step)FWT_STARTUP;
    steps[n++] = (fwt_fake_step)SEND_BUF(r.hello);
    steps[n++] = (fwt_fake_step)FWT_EXPECT('S');
    steps[n++] = (fwt_fake_step)FWT_ACCEPT;
    steps[n++] = (fwt_fake_step)FWT_STARTUP;
    steps[n++] = (fwt_fake_step)SEND_BUF(r.hello);
    steps[n++] = (fwt_fake_step)FWT_USE(0);
    steps[n++] = (fwt_fake_step)SEND_BUF(r.split);
    steps[n++] = (fwt_fake_step)FWT_USE(1);
    steps[n++] = (fwt_fake_step)FWT_EXPECT('H');
    steps[n++] = (fwt_fake_step)FWT_SEND_N(answer->b, answer->n);
    if (drop)
        steps[n++] = (fwt_fake_step)FWT_DROP;
    steps[n++] = (fwt_fake_step)FWT_USE(0);
    steps[n++] = (fwt_fake_step)FWT_EXPECT('S');   /* part 1's query closed */
    steps[n++] = (fwt_fake_step)SEND_BUF(r.ready_t);
    steps[n++] = (fwt_fake_step)FWT_EXPECT('Q');   /* ROLLBACK */
    steps[n++] = (fwt_fake_step)SEND_BUF(r.rollback);
    steps[n++] = (fwt_fake_step)FWT_END;

    fwt_fake_start(&f, steps, 0);
    expect_part_failure(&f, sqlstate, text);
}

/*
 * The snapshot import fails on part 2's connection (its query, sent
 * behind it, would only get 25P02): the open fails with the import's
 * error, naming the part; part 1's query, sent meanwhile on the caller's
 * connection, is closed with a Sync (nothing ran: no cancel), then the
 * transaction is rolled back.
 */
Test(parallel_open, failed_import_is_reported_once_naming_the_part, .timeout = 30)
{
    replies r;

    replies_make(&r);
    import_fails(&r.import_failed, 0, "22023", "invalid snapshot identifier");
}

/*
 * Part 2's backend is terminated during the snapshot import: a FATAL
 * ErrorResponse, then the connection closes.  The open fails with the
 * server's error (57P01), naming the part, not with the end of the
 * connection that follows it.
 */
Test(parallel_open, import_ended_by_a_fatal_error_reports_it, .timeout = 30)
{
    replies r;

    replies_make(&r);
    import_fails(&r.fatal, 1, "57P01", "administrator command");
}

/*
 * Part 2's connection is refused (too many connections) while the split
 * still runs on the caller's connection: the split is read to its end,
 * then the open fails with that error, naming the part, before any part's
 * query is sent; the transaction is rolled back.
 */
Test(parallel_open, connection_refused_during_the_split, .timeout = 30)
{
    replies r;
    fwt_fake_step steps[24];
    int n = 0;
    fwt_fake f;

    replies_make(&r);
    steps[n++] = (fwt_fake_step)FWT_STARTUP;
    steps[n++] = (fwt_fake_step)SEND_BUF(r.hello);
    steps[n++] = (fwt_fake_step)FWT_EXPECT('S');
    steps[n++] = (fwt_fake_step)FWT_ACCEPT;
    steps[n++] = (fwt_fake_step)FWT_STARTUP;
    steps[n++] = (fwt_fake_step)SEND_BUF(r.refused);
    steps[n++] = (fwt_fake_step)FWT_DROP;
    steps[n++] = (fwt_fake_step)FWT_SLEEP(200);   /* the client sees it before the split */
    steps[n++] = (fwt_fake_step)FWT_USE(0);
    steps[n++] = (fwt_fake_step)SEND_BUF(r.split);
    steps[n++] = (fwt_fake_step)FWT_EXPECT('Q');   /* ROLLBACK, and nothing before it */
    steps[n++] = (fwt_fake_step)SEND_BUF(r.rollback);
    steps[n++] = (fwt_fake_step)FWT_END;

    fwt_fake_start(&f, steps, 0);
    expect_part_failure(&f, "53300", "too many connections");
    cr_assert_str_eq(f.conn_types[0], "QPBEPBESQ", "the caller's connection: %s", f.conn_types[0]);
}

/*
 * The server never answers the split: the open fails at the caller's
 * timeout (FW_ERR_TIMEOUT); the caller's connection, out of step, is
 * closed, and so is the extra connection made meanwhile.
 */
Test(parallel_open, silent_split_times_out, .timeout = 30)
{
    replies r;
    fwt_fake_step steps[8];
    int n = 0;
    fwt_fake f;
    fw_conn *c;
    fw_query *q;
    fw_stream *s = NULL;
    fw_status st;
    int64_t t0, took;

    replies_make(&r);
    steps[n++] = (fwt_fake_step)FWT_STARTUP;
    steps[n++] = (fwt_fake_step)SEND_BUF(r.hello);
    steps[n++] = (fwt_fake_step)FWT_EXPECT('S');
    steps[n++] = (fwt_fake_step)FWT_ACCEPT;
    steps[n++] = (fwt_fake_step)FWT_STARTUP;
    steps[n++] = (fwt_fake_step)SEND_BUF(r.hello);
    steps[n++] = (fwt_fake_step)FWT_END;

    fwt_fake_start(&f, steps, 0);
    c = connect_caller(&f);
    fw_conn_set_timeout(c, 700);
    q = parallel_query(2);
    t0 = fwt_now_ms();
    st = fw_stream_open(c, q, &s);
    took = fwt_now_ms() - t0;
    cr_assert_eq(st, FW_ERR_TIMEOUT, "%s: %s", fw_status_name(st), fw_conn_error_message(c));
    cr_assert_null(s);
    cr_assert(strstr(fw_conn_error_message(c), "timeout expired") != NULL, "%s",
              fw_conn_error_message(c));
    cr_assert_eq(fw_conn_ok(c), 0, "a connection out of step must not be reused");
    cr_assert_geq(took, 600);
    cr_assert_lt(took, 3000, "the open took %lld ms with a 700 ms timeout", (long long)took);
    fw_query_free(q);
    fw_conn_free(c);
    fwt_fake_stop(&f);
    cr_assert_eq(f.failed_step, -1, "the script stopped at step %d", f.failed_step);
    cr_assert_eq(f.unexpected, 0);
}

/*
 * The caller's backend is terminated while the split runs: it sends a FATAL
 * ErrorResponse and closes.  The open reports the server's error (57P01),
 * not the end of the connection that follows it.
 */
Test(parallel_open, split_ended_by_a_fatal_error_reports_it, .timeout = 30)
{
    replies r;
    fwt_fake_step steps[12];
    int n = 0;
    fwt_fake f;
    fw_conn *c;
    fw_query *q;
    fw_stream *s = NULL;
    fw_status st;

    replies_make(&r);
    steps[n++] = (fwt_fake_step)FWT_STARTUP;
    steps[n++] = (fwt_fake_step)SEND_BUF(r.hello);
    steps[n++] = (fwt_fake_step)FWT_EXPECT('S');
    steps[n++] = (fwt_fake_step)SEND_BUF(r.fatal);
    steps[n++] = (fwt_fake_step)FWT_DROP;
    steps[n++] = (fwt_fake_step)FWT_END;

    fwt_fake_start(&f, steps, 0);
    c = connect_caller(&f);
    q = parallel_query(2);
    st = fw_stream_open(c, q, &s);
    cr_assert_eq(st, FW_ERR_SQL, "%s: %s", fw_status_name(st), fw_conn_error_message(c));
    cr_assert_null(s);
    cr_assert_str_eq(fw_conn_error_sqlstate(c), "57P01");
    cr_assert(strstr(fw_conn_error_message(c), "administrator command") != NULL, "%s",
              fw_conn_error_message(c));
    fw_query_free(q);
    fw_conn_free(c);
    fwt_fake_stop(&f);
    cr_assert_eq(f.failed_step, -1, "the script stopped at step %d", f.failed_step);
}

