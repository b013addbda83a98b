/*
 * fw_stream_next_object against a scripted server on 127.0.0.1 that claims
 * a jsonb column and then sends rows no PostgreSQL would: text that is not
 * JSON, invalid UTF-8, nesting past the cap.  Each bad row is an error of
 * that row only; the rows around it still come, the stream ends normally
 * and the connection runs the next query.  Needs no cluster.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <json.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fw_test.h"

typedef struct out_buf {
    uint8_t data[65536];
    size_t len;
} out_buf;

static void
put_bytes(out_buf *b, const void *p, size_t n)
{
    cr_assert_leq(b->len + n, sizeof b->data);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void
put_i32(out_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

    put_bytes(b, x, 4);
}

static void
put_i16(out_buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};

    put_bytes(b, x, 2);
}

/* One message: type, then a body written by the caller between begin/end. */
static size_t
msg_begin(out_buf *b, char type)
{
    size_t at;

    put_bytes(b, &type, 1);
    at = b->len;
    put_i32(b, 0);
    return at;
}

static void
msg_end(out_buf *b, size_t at)
{
    uint32_t len = (uint32_t)(b->len - at);

    b->data[at] = (uint8_t)(len >> 24);
    b->data[at + 1] = (uint8_t)(len >> 16);
    b->data[at + 2] = (uint8_t)(len >> 8);
    b->data[at + 3] = (uint8_t)len;
}

static void
data_row(out_buf *b, const char *text, size_t len)
{
    size_t at = msg_begin(b, 'D');

    put_i16(b, 1);
    put_i32(b, (uint32_t)len);
    put_bytes(b, text, len);
    msg_end(b, at);
}

typedef struct fake {
    int lfd, port;
    const char *const *rows;   /* NULL-terminated */
    int queries;               /* Execute messages answered */
} fake;

static int
read_full(int fd, uint8_t *p, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = recv(fd, p + got, n - got, 0);

        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static void
send_all(int fd, const out_buf *b)
{
    (void)!send(fd, b->data, b->len, MSG_NOSIGNAL);
}

/* A server that speaks just enough: trust, then for each Describe the
 * RowDescription of one jsonb column "data", for each Execute every row of
 * f->rows and CommandComplete, for each Sync ReadyForQuery. */
static void *
serve(void *arg)
{
    fake *f = arg;
    int fd = accept(f->lfd, NULL, NULL);
    uint8_t hdr[5], body[8192];
    out_buf *b = malloc(sizeof *b);
    int want_describe = 0, want_execute = 0;
    int described = 0;   /* Describe seen since the last Sync: an Execute before it is the
                            stream's setup statement, answered with nothing (the client
                            does not require its replies) */

    if (fd < 0 || !b)
        goto out;
    /* Startup: a length and a body. */
    if (read_full(fd, hdr, 4) != 0)
        goto out;
    uint32_t len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
    if (len < 4 || len - 4 > sizeof body || read_full(fd, body, len - 4) != 0)
        goto out;
    b->len = 0;
    size_t at = msg_begin(b, 'R');
    put_i32(b, 0);
    msg_end(b, at);
    at = msg_begin(b, 'K');
    put_i32(b, 4242);
    put_i32(b, 7);
    msg_end(b, at);
    at = msg_begin(b, 'Z');
    put_bytes(b, "I", 1);
    msg_end(b, at);
    send_all(fd, b);

    for (;;) {
        if (read_full(fd, hdr, 5) != 0)
            break;
        len = (uint32_t)hdr[1] << 24 | (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 8 | hdr[4];
        if (len < 4 || len - 4 > sizeof body || read_full(fd, body, len - 4) != 0)
            break;
        b->len = 0;
        switch (hdr[0]) {
        case 'D':
            want_describe = 1;
            described = 1;
            break;
        case 'E':
            want_execute = described;
            break;
        case 'H':
        case 'S':
            if (want_describe) {
                at = msg_begin(b, '1');
                msg_end(b, at);
                at = msg_begin(b, '2');
                msg_end(b, at);
                at = msg_begin(b, 'T');
                put_i16(b, 1);
                put_bytes(b, "data", 5);
                put_i32(b, 0);
                put_i16(b, 0);
                put_i32(b, 3802);   /* jsonb */
                put_i16(b, (uint16_t)-1);
                put_i32(b, (uint32_t)-1);
                put_i16(b, 0);
                msg_end(b, at);
                want_describe = 0;
            }
            if (want_execute) {
                int n = 0;

                for (const char *const *r = f->rows; *r; r++, n++)
                    data_row(b, *r, strlen(*r));
                at = msg_begin(b, 'C');
                char tag[32];
                snprintf(tag, sizeof tag, "SELECT %d", n);
                put_bytes(b, tag, strlen(tag) + 1);
                msg_end(b, at);
                want_execute = 0;
                f->queries++;
            }
            if (hdr[0] == 'S') {
                described = 0;
                at = msg_begin(b, 'Z');
                put_bytes(b, "I", 1);
                msg_end(b, at);
            }
            send_all(fd, b);
            break;
        case 'X':
            goto out;
        default:   /* Parse, Bind: answered with the Describe */
            break;
        }
    }
out:
    if (fd >= 0)
        close(fd);
    free(b);
    return NULL;
}

static fw_conn *
fake_connect(fake *f, pthread_t *th)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    char ci[256];

    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(f->lfd, 0);
    cr_assert_eq(bind(f->lfd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(f->lfd, 1), 0);
    cr_assert_eq(getsockname(f->lfd, (struct sockaddr *)&a, &alen), 0);
    f->port = ntohs(a.sin_port);
    cr_assert_eq(pthread_create(th, NULL, serve, f), 0);
    snprintf(ci, sizeof ci, "host=127.0.0.1 port=%d user=alice dbname=db sslmode=disable "
             "connect_timeout=10", f->port);
    return fwt_connect(ci);
}

Test(query_object, bad_rows_from_a_server_are_per_row_errors, .timeout = 30)
{
    char deep[1300];
    memset(deep, '[', 600);
    memset(deep + 600, ']', 600);
    deep[1200] = '\0';
    const char *const rows[] = {
        "{\"a\": 1}",
        "{\"a\": ",            /* truncated */
        "\"\xff\xfe\"",        /* not UTF-8 */
        "{\"a\": 1} {\"b\": 2}",   /* two values */
        deep,                  /* deeper than 512 */
        "nul",                 /* a truncated literal */
        "  [true, null]  ",    /* whitespace around is fine */
        "42",                  /* a scalar ending at the end of the row */
        "",                    /* empty text */
        "{\"a\": 9}",
        NULL,
    };
    static const fw_status want[] = {FW_OK, FW_ERR_PROTOCOL, FW_ERR_PROTOCOL, FW_ERR_PROTOCOL,
                                     FW_ERR_MEMORY, FW_ERR_PROTOCOL, FW_OK, FW_OK,
                                     FW_ERR_PROTOCOL, FW_OK};
    fake f = {.rows = rows};
    pthread_t th;
    fw_conn *c = fake_connect(&f, &th);
    fw_stream *s = NULL;
    struct json_object *o;
    fw_status st;

    for (int round = 0; round < 2; round++) {   /* the same connection twice */
        st = fw_stream_sql(c, "SELECT data FROM anything", 0, NULL, 0, &s);
        cr_assert_eq(st, FW_OK, "%s", fw_conn_error_message(c));
        cr_assert_str_eq(fw_stream_data_type(s), "jsonb");
        for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
            o = (struct json_object *)&f;
            st = fw_stream_next_object(s, &o);
            cr_assert_eq(st, want[i], "row %zu (%s): %s, %s", i + 1, rows[i], fw_strerror(st),
                         fw_conn_error_message(c));
            if (st != FW_OK) {
                cr_assert_null(o, "no object with an error");
                cr_assert_eq(fw_conn_error_class(c), st);
                cr_assert_not_null(fw_conn_error_message(c));
                cr_assert(strstr(fw_conn_error_message(c), "row") != NULL, "%s",
                          fw_conn_error_message(c));
            }
            if (i == 0 || i == 9)
                cr_assert_eq(json_object_get_int(json_object_object_get(o, "a")), i == 0 ? 1 : 9);
            if (i == 6)
                cr_assert_eq(json_object_array_length(o), 2);
            if (i == 7)
                cr_assert_eq(json_object_get_int(o), 42);
            json_object_put(st == FW_OK ? o : NULL);
        }
        o = (struct json_object *)&f;
        cr_assert_eq(fw_stream_next_object(s, &o), FW_DONE);
        cr_assert_null(o);
        cr_assert_eq(fw_stream_rows(s), 10, "every row was handed out, the bad ones too");
        cr_assert_eq(fw_stream_close(s), FW_OK);
        cr_assert(fw_conn_ok(c));
    }
    cr_assert_eq(f.queries, 2);
    fw_conn_free(c);
    pthread_join(th, NULL);
    close(f.lfd);
}
