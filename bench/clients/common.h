/*
 * common.h — what every benchmark client shares: the command line, the
 * clocks, the optional client-side predicate, and the one JSON line of
 * measurements each run prints, so that the harness treats all methods alike.
 *
 *   CLIENT --conninfo STR --sql SQL [--chunk N] [--repeat N]
 *          [--client-filter FIELD:OP:VALUE]
 *
 * Phases of one pass: connect (connect_s), then the query from the moment it
 * is sent until the last row is in hand (query_s); ttfr_s is the time from
 * sending the query to the first row handed to the caller.  CPU is the
 * client process's own user+system time (getrusage); query_cpu_s covers the
 * query phase only.  maxrss_kb is the client process's peak RSS (VmHWM; for
 * psql, ru_maxrss of the psql child from wait4).
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_MAX_PASSES 8

typedef struct bench_opts {
    const char *conninfo;
    const char *sql;
    size_t chunk;            /* 0 = the method's default */
    int repeat;              /* passes over the same query, one connection */
    const char *filter;      /* FIELD:OP:VALUE, or NULL */
} bench_opts;

typedef struct bench_pass {
    uint64_t rows;           /* rows received */
    uint64_t bytes;          /* bytes of the data values */
    uint64_t kept;           /* rows the client-side predicate kept */
    double query_s, ttfr_s, query_cpu_s;
    long maxrss_kb;          /* ru_maxrss after this pass */
} bench_pass;

typedef struct bench_state {
    const char *client;
    bench_opts opts;
    double t0;               /* process start of measurement */
    double connect_s;
    int npasses;
    bench_pass pass[BENCH_MAX_PASSES];
    /* the pass being measured */
    double q_start, q_cpu_start;
    int first_seen;
    /* predicate */
    char field[64];
    int op;                  /* 0 eq, 1 lt, 2 gt */
    long long value;
    void *tok;               /* json_tokener */
    /* set when the measured work ran in a child process (psql) */
    int child;
    double child_cpu_s;
    long child_maxrss_kb;
} bench_state;

double bench_now(void);
double bench_cpu(void);
long bench_maxrss_kb(void);

/* Parses argv; exits with status 2 and a message on bad usage. */
void bench_init(bench_state *st, const char *client, int argc, char **argv);
void bench_connected(bench_state *st);           /* after the connection is ready */
void bench_query_start(bench_state *st);         /* just before the query is sent */
/* One row handed to the caller: counts it (and applies the predicate). */
void bench_row(bench_state *st, const char *json, size_t len);
void bench_query_end(bench_state *st);           /* after the last row */
/* The same for work done by a child process: its CPU and peak RSS replace
 * this process's (ru from wait4 of that child). */
struct rusage;
void bench_query_end_child(bench_state *st, const struct rusage *ru);
/* Prints the JSON line and returns the exit status (0). */
int bench_report(bench_state *st);
/* Prints {"client":…,"ok":false,"error":…} and exits 1. */
void bench_fail(bench_state *st, const char *what, const char *detail);

/* The predicate on one document: 1 keep, 0 drop (missing/non-integer = drop). */
int bench_predicate(bench_state *st, const char *json, size_t len);

#endif
