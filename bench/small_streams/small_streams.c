/*
 * small_streams.c — many one-row streams on one connection: the per-stream
 * overhead of the client (the setup statement of docs/protocol.md,
 * "Per-stream settings").  Not part of make bench; run by hand, two builds
 * side by side, alternating:
 *
 *   cc -O2 -Iclient/include bench/small_streams/small_streams.c \
 *      client/build/libfraiseql_wire.a -ljson-c -lssl -lcrypto -o /tmp/small_new
 *   (the same against another build's libfraiseql_wire.a -o /tmp/small_old)
 *   eval "$(scripts/cluster.sh env build/cluster)"
 *   for i in 1 2 3 4 5; do /tmp/small_old dbname=postgres 10000; \
 *                          /tmp/small_new dbname=postgres 10000; done
 *
 * Prints microseconds per stream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "fraiseql_wire.h"

int
main(int argc, char **argv)
{
    fw_conn *c = NULL;
    struct timespec a, b;
    int n;

    if (argc != 3 || (n = atoi(argv[2])) < 1) {
        fprintf(stderr, "usage: small_streams CONNINFO N\n");
        return 2;
    }
    if (fw_conn_connect(argv[1], &c) != FW_OK) {
        fprintf(stderr, "%s\n", fw_conn_error_message(c));
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < n; i++) {
        fw_stream *s;
        const char *j;
        size_t l;

        if (fw_stream_open_sql(c, "SELECT jsonb_build_object('id', 1) AS data", 0, NULL, 0, &s) != FW_OK) {
            fprintf(stderr, "%s\n", fw_conn_error_message(c));
            return 1;
        }
        while (fw_stream_next(s, &j, &l) == FW_OK)
            ;
        fw_stream_close(s);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.1f us/stream\n",
           ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e3 / n);
    fw_conn_free(c);
    return 0;
}
