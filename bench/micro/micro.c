/*
 * micro.c — micro benchmarks of the client's hot paths, no server needed.
 *
 * Each benchmark is calibrated to about MICRO_TARGET_MS per run, run
 * MICRO_RUNS times (environment, defaults 40 ms and 15), and reported as the
 * minimum and the median time per operation, one JSON line each:
 *   {"name":…,"op":"row","ns_min":…,"ns_median":…,"runs":…,"iters":…,
 *    "bytes_per_op":…,"gbps_median":…}
 * A benchmark whose code is not in the client library yet prints
 *   {"name":…,"status":"not run","reason":…}
 * The HAVE_FW_* macros come from bench/Makefile, which looks for the
 * functions in client/build/libfraiseql_wire.a.
 *
 * The documents are the ones bench/setup.sql builds (same hash, same
 * fields), rendered here in C.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "fraiseql_wire.h"
#if HAVE_FW_DECODER
#include "pgmsg.h"
#endif
#if HAVE_FW_SCRAM
#include "scram.h"
#endif
#include "../clients/common.h"

#define NDOCS 1000

static volatile uint64_t sink;

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef void (*op_fn)(void *arg, size_t iters);

static void
measure(const char *name, const char *op, double bytes_per_op, op_fn fn, void *arg)
{
    const char *e = getenv("MICRO_TARGET_MS");
    double target = (e ? atof(e) : 40.0) / 1000.0;
    e = getenv("MICRO_RUNS");
    int runs = e ? atoi(e) : 15;
    if (runs < 1 || runs > 1000)
        runs = 15;
    size_t iters = 1;
    for (;;) {
        double t = now_s();
        fn(arg, iters);
        t = now_s() - t;
        if (t >= target / 4 || iters > ((size_t)1 << 40))
            break;
        iters *= 2;
    }
    {   /* one calibrated warm run, then scale to the target */
        double t = now_s();
        fn(arg, iters);
        t = now_s() - t;
        if (t > 0)
            iters = (size_t)((double)iters * target / t) + 1;
    }
    double *ns = malloc(sizeof(double) * (size_t)runs);
    if (!ns)
        exit(1);
    for (int r = 0; r < runs; r++) {
        double t = now_s();
        fn(arg, iters);
        ns[r] = (now_s() - t) * 1e9 / (double)iters;
    }
    qsort(ns, (size_t)runs, sizeof(double), cmp_double);
    double med = runs % 2 ? ns[runs / 2] : (ns[runs / 2 - 1] + ns[runs / 2]) / 2;
    printf("{\"name\":\"%s\",\"op\":\"%s\",\"ns_min\":%.2f,\"ns_median\":%.2f,\"runs\":%d,"
           "\"iters\":%zu,\"bytes_per_op\":%.1f,\"gbps_median\":%.4f}\n",
           name, op, ns[0], med, runs, iters, bytes_per_op,
           bytes_per_op > 0 ? bytes_per_op / med : 0.0);
    fflush(stdout);
    free(ns);
}

static void
not_run(const char *name, const char *reason)
{
    printf("{\"name\":\"%s\",\"status\":\"not run\",\"reason\":\"%s\"}\n", name, reason);
    fflush(stdout);
}

/* ------------------------------------------------------------ documents */

typedef struct doc {
    char *text;
    size_t len;
} doc;

static doc docs[NDOCS];
static double docs_avg;
static doc large;

static void
make_docs(void)
{
    static const char *status[] = {"active", "pending", "archived", "deleted"};
    size_t total = 0;
    for (int i = 0; i < NDOCS; i++) {
        long long id = 1 + (long long)i * 997;     /* spread over 1..1M */
        unsigned long long h = ((unsigned long long)id * 2654435761ULL) % 4294967296ULL;
        time_t t = (time_t)(1704067200LL + (long long)(h % 31536000ULL));
        struct tm tm;
        gmtime_r(&t, &tm);
        char ts[32];
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
        char buf[512];
        int n = snprintf(buf, sizeof buf,
            "{\"id\": %lld, \"pct\": %lld, \"name\": \"item-%07lld\", \"tags\": [\"t%llu\", "
            "\"t%llu\"], \"owner\": {\"name\": \"user-%llu\", \"email\": \"user-%llu@example.com\"}, "
            "\"score\": %.2f, \"bucket\": %lld, \"status\": \"%s\", \"created_at\": \"%s\"}",
            id, id % 100, id, h % 17, h % 23, h % 5000, h % 5000, (double)(h % 100000) / 100.0,
            id % 10000, status[h % 4], ts);
        docs[i].text = strdup(buf);
        docs[i].len = (size_t)n;
        total += (size_t)n;
    }
    docs_avg = (double)total / NDOCS;

    /* one ~100 KB document like bench.tv_large */
    size_t cap = 200000, len = 0;
    char *l = malloc(cap);
    len += (size_t)snprintf(l + len, cap - len, "{\"id\": 1, \"items\": [");
    for (int g = 1; g <= 1800; g++)
        len += (size_t)snprintf(l + len, cap - len,
                                "%s{\"n\": %d, \"label\": \"label-001-%04d\", \"value\": %llu}",
                                g > 1 ? ", " : "", g, g,
                                ((unsigned long long)g * 2654435761ULL) % 1000003ULL);
    len += (size_t)snprintf(l + len, cap - len, "]}");
    large.text = l;
    large.len = len;
}

/* ------------------------------------------------------------- json-c */

static void
op_jsonc_items(void *arg, size_t iters)
{
    struct json_tokener *tok = arg;
    uint64_t s = 0;
    for (size_t i = 0; i < iters; i++) {
        const doc *d = &docs[i % NDOCS];
        json_tokener_reset(tok);
        struct json_object *o = json_tokener_parse_ex(tok, d->text, (int)d->len);
        s += (uint64_t)json_object_object_length(o);
        json_object_put(o);
    }
    sink += s;
}

static void
op_jsonc_large(void *arg, size_t iters)
{
    struct json_tokener *tok = arg;
    uint64_t s = 0;
    for (size_t i = 0; i < iters; i++) {
        json_tokener_reset(tok);
        struct json_object *o = json_tokener_parse_ex(tok, large.text, (int)large.len);
        s += (uint64_t)json_object_object_length(o);
        json_object_put(o);
    }
    sink += s;
}

/* ----------------------------------------------------- client predicates */

static void
op_pred_jsonc(void *arg, size_t iters)
{
    bench_state *st = arg;
    uint64_t kept = 0;
    for (size_t i = 0; i < iters; i++) {
        const doc *d = &docs[i % NDOCS];
        kept += (uint64_t)bench_predicate(st, d->text, d->len);
    }
    sink += kept;
}

/* A text scan: find "pct": and read the integer after it.  Only correct for
 * documents whose key "pct" appears once at the top level, which is why a
 * real client predicate parses; this shows the floor a parser competes with. */
static void
op_pred_scan(void *arg, size_t iters)
{
    (void)arg;
    uint64_t kept = 0;
    static const char key[] = "\"pct\": ";
    for (size_t i = 0; i < iters; i++) {
        const doc *d = &docs[i % NDOCS];
        const char *p = memmem(d->text, d->len, key, sizeof key - 1);
        if (p) {
            long v = strtol(p + sizeof key - 1, NULL, 10);
            kept += v < 10;
        }
    }
    sink += kept;
}

/* -------------------------------------------------------- the decoder */
#if HAVE_FW_DECODER
typedef struct rowbuf {
    uint8_t *data;
    size_t len;
    size_t nrows;
} rowbuf;

static void
put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static rowbuf
make_datarows(const doc *d, size_t ndocs)
{
    rowbuf rb = {0};
    size_t cap = 0;
    for (size_t i = 0; i < ndocs; i++)
        cap += 1 + 4 + 2 + 4 + d[i].len;
    rb.data = malloc(cap);
    for (size_t i = 0; i < ndocs; i++) {
        uint8_t *p = rb.data + rb.len;
        p[0] = 'D';
        put_u32(p + 1, (uint32_t)(4 + 2 + 4 + d[i].len));
        p[5] = 0;
        p[6] = 1;
        put_u32(p + 7, (uint32_t)d[i].len);
        memcpy(p + 11, d[i].text, d[i].len);
        rb.len += 11 + d[i].len;
    }
    rb.nrows = ndocs;
    return rb;
}

static void
op_decode(void *arg, size_t iters)
{
    const rowbuf *rb = arg;
    uint64_t s = 0;
    size_t off = 0;
    for (size_t i = 0; i < iters; i++) {
        if (off >= rb->len)
            off = 0;
        fw_msg m;
        size_t used;
        if (fw_msg_frame(rb->data + off, rb->len - off, FW_MSG_DEFAULT_MAX, &m, &used) !=
            FW_FRAME_OK) {
            fprintf(stderr, "micro: the decoder refused a valid DataRow\n");
            exit(1);
        }
        const uint8_t *v;
        uint32_t vlen;
        if (fw_parse_data_row1(&m, &v, &vlen) != FW_OK) {
            fprintf(stderr, "micro: fw_parse_data_row1 refused a valid DataRow\n");
            exit(1);
        }
        s += vlen + (v ? v[0] : 0);
        off += used;
    }
    sink += s;
}
#endif

/* ----------------------------------------------------------- conninfo */
#if HAVE_FW_CONNINFO
static void
op_conninfo(void *arg, size_t iters)
{
    const char *s = arg;
    for (size_t i = 0; i < iters; i++) {
        fw_conninfo *ci = NULL;
        if (fw_conninfo_parse(s, FW_CONNINFO_NO_ENV, &ci) != FW_OK) {
            fprintf(stderr, "micro: conninfo parse failed: %s\n", fw_conninfo_error_message(ci));
            exit(1);
        }
        sink += fw_conninfo_count(ci);
        fw_conninfo_free(ci);
    }
}
#endif

/* --------------------------------------------------------------- SCRAM */
#if HAVE_FW_SCRAM
/* RFC 7677's exchange (password "pencil", 4096 iterations).  PostgreSQL's
 * client-first carries an empty user name, so the proof differs from the
 * RFC's; the cost (PBKDF2 with 4096 iterations, then the HMACs) is the same. */
static const char scram_nonce[] = "rOprNGfwEbeRWgbNEkqO";
static const char scram_server_first[] =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";

static void
op_scram(void *arg, size_t iters)
{
    (void)arg;
    for (size_t i = 0; i < iters; i++) {
        fw_scram *s = NULL;
        const char *first = NULL, *final = NULL;
        char err[256];
        if (fw_scram_begin("pencil", FW_SCRAM_CBIND_NONE, NULL, 0, scram_nonce, &s, &first,
                           err, sizeof err) != FW_OK ||
            fw_scram_continue(s, scram_server_first, strlen(scram_server_first), &final, err,
                              sizeof err) != FW_OK) {
            fprintf(stderr, "micro: SCRAM failed: %s\n", err);
            exit(1);
        }
        sink += strlen(final);
        fw_scram_free(s);
    }
}
#endif

int
main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    (void)not_run;      /* unused once every part of the library is there */
    make_docs();

#if HAVE_FW_DECODER
    rowbuf rb = make_datarows(docs, NDOCS);
    measure("DataRow decode (item rows)", "row", (double)rb.len / (double)rb.nrows, op_decode, &rb);
    rowbuf rbl = make_datarows(&large, 1);
    measure("DataRow decode (100 KB row)", "row", (double)rbl.len, op_decode, &rbl);
#else
    not_run("DataRow decode (item rows)", "fw_msg_frame/fw_parse_data_row1 not in the client library yet");
    not_run("DataRow decode (100 KB row)", "fw_msg_frame/fw_parse_data_row1 not in the client library yet");
#endif

#if HAVE_FW_CONNINFO
    measure("conninfo parse (URI)", "parse", 0,
            op_conninfo, (void *)"postgresql://app:secret@db.example.com:6432/orders?"
                                 "sslmode=verify-full&application_name=export&connect_timeout=5");
    measure("conninfo parse (key=value)", "parse", 0,
            op_conninfo, (void *)"host=/var/run/postgresql port=5432 dbname=orders user=app "
                                 "application_name=export sslmode=disable");
#else
    not_run("conninfo parse (URI)", "fw_conninfo_parse not in the client library yet");
    not_run("conninfo parse (key=value)", "fw_conninfo_parse not in the client library yet");
#endif

#if HAVE_FW_SCRAM
    measure("SCRAM-SHA-256 client proof (4096 iterations)", "exchange", 0, op_scram, NULL);
#else
    not_run("SCRAM-SHA-256 client proof (4096 iterations)", "fw_scram_begin/fw_scram_continue not in the client library yet");
#endif

    struct json_tokener *tok = json_tokener_new();
    measure("json-c parse (item row)", "row", docs_avg, op_jsonc_items, tok);
    measure("json-c parse (100 KB document)", "doc", (double)large.len, op_jsonc_large, tok);
    json_tokener_free(tok);

    bench_state st;
    char *pargv[] = {"micro", "--conninfo", "", "--sql", "", "--client-filter", "pct:lt:10", NULL};
    bench_init(&st, "micro", 7, pargv);
    measure("client predicate pct<10 (json-c parse)", "row", docs_avg, op_pred_jsonc, &st);
    measure("client predicate pct<10 (text scan)", "row", docs_avg, op_pred_scan, NULL);
    return 0;
}
