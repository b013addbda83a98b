/*
 * fw_fake_server.h — a scripted PostgreSQL server for the tests that need
 * no cluster (client/tests/protocol/).
 *
 * A thread listens on 127.0.0.1 (an ephemeral port), accepts one
 * connection and plays a script: steps that read what the client must
 * send (the startup packet, an SSLRequest, typed messages up to a given
 * type, a CancelRequest on a second connection) and steps that send canned
 * backend bytes, optionally inside TLS with a throw-away self-signed
 * certificate.  It records what the client sent; read it after
 * fwt_fake_stop.  When a read step does not get what it expects the script
 * stops there (failed_step says which).  After the last step the thread
 * waits for the clients to close (at most 5 s).
 *
 * Several client connections (a parallel stream's): FWT_ACCEPT takes the
 * next one, and later steps talk to it until FWT_USE(i) goes back to
 * connection i (0: the first).  A connection nobody accepted (say, an
 * unexpected CancelRequest) is counted by fwt_fake_stop in `unexpected`.
 */
#ifndef FW_FAKE_SERVER_H
#define FW_FAKE_SERVER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

typedef enum fwt_fake_kind {
    FWT_FAKE_END = 0,   /* the script ends */
    FWT_FAKE_SEND,      /* send data/len */
    FWT_FAKE_STARTUP,   /* read the startup packet (kept in startup[]) */
    FWT_FAKE_EXPECT,    /* read client messages until one of type `type` */
    FWT_FAKE_SSLREQUEST, /* read an SSLRequest, answer nothing (send what you want) */
    FWT_FAKE_TLS,       /* read an SSLRequest, answer 'S', accept TLS */
    FWT_FAKE_NOTLS,     /* read an SSLRequest, answer 'N' */
    FWT_FAKE_CANCEL,    /* accept one more connection: a CancelRequest, kept */
    FWT_FAKE_DROP,      /* close the socket at once (no close_notify under TLS) */
    FWT_FAKE_FLOOD,     /* send data/len again and again until the client goes (or 20 s) */
    FWT_FAKE_ACCEPT,    /* accept the next client connection; later steps talk to it */
    FWT_FAKE_USE,       /* later steps talk to client connection n (0: the first) */
    FWT_FAKE_SLEEP      /* pause n milliseconds */
} fwt_fake_kind;

#define FWT_FAKE_MAX_CONNS 4

typedef struct fwt_fake_step {
    fwt_fake_kind k;
    const uint8_t *data;
    size_t len;
    char type;
    int n;
} fwt_fake_step;

/* Steps; `a` is an array (its sizeof is the length). */
#define FWT_SEND(a) {.k = FWT_FAKE_SEND, .data = (a), .len = sizeof(a)}
#define FWT_SEND_N(p, n) {.k = FWT_FAKE_SEND, .data = (p), .len = (n)}
#define FWT_STARTUP {.k = FWT_FAKE_STARTUP}
#define FWT_EXPECT(t) {.k = FWT_FAKE_EXPECT, .type = (t)}
#define FWT_SSLREQUEST {.k = FWT_FAKE_SSLREQUEST}
#define FWT_TLS {.k = FWT_FAKE_TLS}
#define FWT_NOTLS {.k = FWT_FAKE_NOTLS}
#define FWT_CANCEL {.k = FWT_FAKE_CANCEL}
#define FWT_DROP {.k = FWT_FAKE_DROP}
#define FWT_FLOOD(a) {.k = FWT_FAKE_FLOOD, .data = (a), .len = sizeof(a)}
#define FWT_ACCEPT {.k = FWT_FAKE_ACCEPT}
#define FWT_USE(i) {.k = FWT_FAKE_USE, .n = (i)}
#define FWT_SLEEP(ms) {.k = FWT_FAKE_SLEEP, .n = (ms)}
#define FWT_END {.k = FWT_FAKE_END}

/* Backend messages, as bytes for an array initialiser. */
#define FWT_MSG_AUTH_OK 'R', 0, 0, 0, 8, 0, 0, 0, 0
#define FWT_MSG_AUTH_CLEARTEXT 'R', 0, 0, 0, 8, 0, 0, 0, 3
#define FWT_MSG_AUTH_MD5 'R', 0, 0, 0, 12, 0, 0, 0, 5, 1, 2, 3, 4
/* AuthenticationSASL offering SCRAM-SHA-256 */
#define FWT_MSG_AUTH_SASL 'R', 0, 0, 0, 23, 0, 0, 0, 10, 'S', 'C', 'R', 'A', 'M', '-', 'S', 'H', \
                          'A', '-', '2', '5', '6', 0, 0
/* BackendKeyData: pid 12345, secret key 7 */
#define FWT_MSG_BACKEND_KEY 'K', 0, 0, 0, 12, 0, 0, 0x30, 0x39, 0, 0, 0, 7
#define FWT_BACKEND_PID 12345
#define FWT_BACKEND_SECRET 7
#define FWT_MSG_READY 'Z', 0, 0, 0, 5, 'I'
/* RowDescription: one column "data" of type jsonb */
#define FWT_MSG_ROW_DESC_JSONB 'T', 0, 0, 0, 29, 0, 1, 'd', 'a', 't', 'a', 0, 0, 0, 0, 0, 0, 0, \
                               0, 0, 0x0e, 0xda, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0
/* DataRow: one column, the text "{} " */
#define FWT_MSG_DATA_ROW 'D', 0, 0, 0, 13, 0, 1, 0, 0, 0, 3, '{', '}', ' '

typedef struct fwt_fake {
    /* set by fwt_fake_start */
    int port;
    /* what the client sent (read after fwt_fake_stop) */
    uint8_t startup[1025];   /* the startup packet after its length word, NUL-ended */
    size_t startup_len;
    char types[64];          /* message types read, in order, NUL-terminated */
    size_t ntypes;
    char conn_types[FWT_FAKE_MAX_CONNS][64];  /* the same, for each client connection */
    int nconns;              /* client connections accepted by the script */
    int unexpected;          /* connections left unaccepted (counted by fwt_fake_stop) */
    uint8_t last_p[512];     /* the body of the last 'p' message (first 512 bytes) */
    size_t last_p_len;
    int failed_step;         /* -1 when every step ran */
    int ncancels;
    uint8_t cancel_req[16];  /* the last CancelRequest */
    /* private */
    const fwt_fake_step *steps;
    int lfd;
    int fd;                  /* the current client connection */
    struct ssl_ctx_st *ctx;
    struct ssl_st *ssl;
    int cur;
    int fds[FWT_FAKE_MAX_CONNS];
    struct ssl_st *ssls[FWT_FAKE_MAX_CONNS];
    pthread_t thread;
} fwt_fake;

/* Listens, starts the thread playing `steps` (which must outlive
 * fwt_fake_stop); tls: make a self-signed certificate for FWT_TLS steps.
 * Unsets the PG* environment variables first (PGPASSWORD, PGSSLMODE …), so
 * that the conninfo and the script alone decide (Criterion runs each test
 * in its own process).  Fails the test when it cannot. */
void fwt_fake_start(fwt_fake *f, const fwt_fake_step *steps, int tls);
/* Waits for the thread to end and closes everything (f stays readable). */
void fwt_fake_stop(fwt_fake *f);
/* "host=127.0.0.1 port=<port> user=alice dbname=db connect_timeout=10 <extra>"
 * (a static buffer, one of four rotating). */
const char *fwt_fake_conninfo(const fwt_fake *f, const char *extra);
/* 1 when the recorded startup packet sets `name` to `value`. */
int fwt_fake_startup_has(const fwt_fake *f, const char *name, const char *value);
/* A big-endian 32-bit integer. */
uint32_t fwt_be32(const uint8_t *p);

#endif /* FW_FAKE_SERVER_H */
