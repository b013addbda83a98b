/* common.c — see common.h. */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <json-c/json.h>

double
bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
bench_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/*
 * The peak resident set of this program: VmHWM of /proc/self/status.  Not
 * ru_maxrss: Linux carries ru_maxrss across execve, so a client started by a
 * large parent (the Python harness) would report the parent's size.  VmHWM
 * belongs to the address space, which execve replaces.
 */
long
bench_maxrss_kb(void)
{
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "VmHWM:", 6) == 0) {
                kb = strtol(line + 6, NULL, 10);
                break;
            }
        fclose(f);
    }
    if (kb < 0) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        kb = ru.ru_maxrss;
    }
    return kb;
}

static void
usage(const char *client, const char *msg)
{
    fprintf(stderr, "%s: %s\nusage: %s --conninfo STR --sql SQL [--chunk N] [--repeat N] "
            "[--client-filter FIELD:eq|lt|gt:INT]\n", client, msg, client);
    exit(2);
}

static void
parse_filter(bench_state *st)
{
    const char *f = st->opts.filter;
    const char *c1 = strchr(f, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c1 || !c2 || (size_t)(c1 - f) >= sizeof st->field || c1 == f)
        usage(st->client, "bad --client-filter");
    memcpy(st->field, f, (size_t)(c1 - f));
    st->field[c1 - f] = '\0';
    size_t oplen = (size_t)(c2 - c1 - 1);
    if (oplen == 2 && strncmp(c1 + 1, "eq", 2) == 0)
        st->op = 0;
    else if (oplen == 2 && strncmp(c1 + 1, "lt", 2) == 0)
        st->op = 1;
    else if (oplen == 2 && strncmp(c1 + 1, "gt", 2) == 0)
        st->op = 2;
    else
        usage(st->client, "bad --client-filter operator (eq, lt, gt)");
    char *end;
    errno = 0;
    st->value = strtoll(c2 + 1, &end, 10);
    if (errno || *end || end == c2 + 1)
        usage(st->client, "bad --client-filter value (an integer)");
    st->tok = json_tokener_new();
    if (!st->tok)
        usage(st->client, "out of memory");
}

void
bench_init(bench_state *st, const char *client, int argc, char **argv)
{
    memset(st, 0, sizeof *st);
    st->client = client;
    st->opts.repeat = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc)
            usage(client, "missing value");
        const char *v = argv[++i];
        if (strcmp(a, "--conninfo") == 0)
            st->opts.conninfo = v;
        else if (strcmp(a, "--sql") == 0)
            st->opts.sql = v;
        else if (strcmp(a, "--chunk") == 0)
            st->opts.chunk = (size_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--repeat") == 0)
            st->opts.repeat = atoi(v);
        else if (strcmp(a, "--client-filter") == 0)
            st->opts.filter = v;
        else
            usage(client, "unknown option");
    }
    if (!st->opts.conninfo || !st->opts.sql)
        usage(client, "--conninfo and --sql are required");
    if (st->opts.repeat < 1 || st->opts.repeat > BENCH_MAX_PASSES)
        usage(client, "--repeat must be 1..8");
    if (st->opts.filter)
        parse_filter(st);
    st->t0 = bench_now();
}

void
bench_connected(bench_state *st)
{
    st->connect_s = bench_now() - st->t0;
}

void
bench_query_start(bench_state *st)
{
    if (st->npasses >= BENCH_MAX_PASSES)
        bench_fail(st, "internal", "too many passes");
    memset(&st->pass[st->npasses], 0, sizeof st->pass[0]);
    st->first_seen = 0;
    st->q_cpu_start = bench_cpu();
    st->q_start = bench_now();
}

int
bench_predicate(bench_state *st, const char *json, size_t len)
{
    struct json_tokener *tok = st->tok;
    json_tokener_reset(tok);
    struct json_object *doc = json_tokener_parse_ex(tok, json, (int)len);
    if (!doc)
        return 0;
    int keep = 0;
    struct json_object *f;
    if (json_object_object_get_ex(doc, st->field, &f) && json_object_is_type(f, json_type_int)) {
        long long x = json_object_get_int64(f);
        keep = st->op == 0 ? x == st->value : st->op == 1 ? x < st->value : x > st->value;
    }
    json_object_put(doc);
    return keep;
}

void
bench_row(bench_state *st, const char *json, size_t len)
{
    bench_pass *p = &st->pass[st->npasses];
    if (!st->first_seen) {
        p->ttfr_s = bench_now() - st->q_start;
        st->first_seen = 1;
    }
    p->rows++;
    p->bytes += len;
    if (st->tok) {
        if (json && bench_predicate(st, json, len))
            p->kept++;
    } else {
        p->kept++;
    }
}

void
bench_query_end(bench_state *st)
{
    bench_pass *p = &st->pass[st->npasses];
    p->query_s = bench_now() - st->q_start;
    p->query_cpu_s = bench_cpu() - st->q_cpu_start;
    if (!st->first_seen)
        p->ttfr_s = p->query_s;
    p->maxrss_kb = bench_maxrss_kb();
    st->npasses++;
}

void
bench_query_end_child(bench_state *st, const struct rusage *ru)
{
    bench_query_end(st);
    bench_pass *p = &st->pass[st->npasses - 1];
    double cpu = (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6 +
                 (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
    p->query_cpu_s = cpu;
    p->maxrss_kb = ru->ru_maxrss;
    st->child = 1;
    st->child_cpu_s += cpu;
    if (ru->ru_maxrss > st->child_maxrss_kb)
        st->child_maxrss_kb = ru->ru_maxrss;
}

static void
put_json_string(const char *s)
{
    putchar('"');
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

int
bench_report(bench_state *st)
{
    double wall = bench_now() - st->t0;
    const bench_pass *p = &st->pass[0];
    printf("{\"client\":");
    put_json_string(st->client);
    printf(",\"ok\":true,\"rows\":%llu,\"bytes\":%llu,\"kept\":%llu,"
           "\"connect_s\":%.6f,\"ttfr_s\":%.6f,\"query_s\":%.6f,\"wall_s\":%.6f,"
           "\"query_cpu_s\":%.6f,\"cpu_s\":%.6f,\"maxrss_kb\":%ld,\"chunk\":%zu,\"passes\":[",
           (unsigned long long)p->rows, (unsigned long long)p->bytes,
           (unsigned long long)p->kept, st->connect_s, p->ttfr_s, p->query_s, wall,
           p->query_cpu_s, st->child ? st->child_cpu_s : bench_cpu(),
           st->child ? st->child_maxrss_kb : bench_maxrss_kb(), st->opts.chunk);
    for (int i = 0; i < st->npasses; i++) {
        const bench_pass *q = &st->pass[i];
        printf("%s{\"rows\":%llu,\"query_s\":%.6f,\"ttfr_s\":%.6f,\"query_cpu_s\":%.6f,"
               "\"maxrss_kb\":%ld}", i ? "," : "", (unsigned long long)q->rows, q->query_s,
               q->ttfr_s, q->query_cpu_s, q->maxrss_kb);
    }
    printf("]}\n");
    fflush(stdout);
    if (st->tok)
        json_tokener_free(st->tok);
    return 0;
}

void
bench_fail(bench_state *st, const char *what, const char *detail)
{
    printf("{\"client\":");
    put_json_string(st->client);
    printf(",\"ok\":false,\"error\":");
    char msg[1024];
    snprintf(msg, sizeof msg, "%s: %s", what, detail ? detail : "");
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    put_json_string(msg);
    printf("}\n");
    fflush(stdout);
    exit(1);
}
