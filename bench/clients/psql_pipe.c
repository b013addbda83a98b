/*
 * psql_pipe — psql as a user would run it for an export:
 *   psql -X -A -t -q -d CONNINFO -c SQL
 * with its output read from a pipe (one document a line).  psql buffers the
 * whole result before printing (no FETCH_COUNT), so its time to first row is
 * its time to the last row.  CPU and peak RSS are psql's own (wait4; its
 * ru_maxrss also covers this small program's image before the exec, which is
 * far below psql's), and
 * query_s includes psql's start and its connection (connect_s is 0).
 * The psql binary is $BENCH_PSQL, else "psql" on PATH.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

int
main(int argc, char **argv)
{
    bench_state st;
    bench_init(&st, "psql", argc, argv);
    if (st.opts.filter)
        bench_fail(&st, "usage", "psql has no client-side predicate");
    const char *psql = getenv("BENCH_PSQL");
    if (!psql || !*psql)
        psql = "psql";
    bench_connected(&st);
    static char buf[1 << 16];
    for (int pass = 0; pass < st.opts.repeat; pass++) {
        int fds[2];
        if (pipe(fds) != 0)
            bench_fail(&st, "pipe", "failed");
        bench_query_start(&st);
        pid_t pid = fork();
        if (pid < 0)
            bench_fail(&st, "fork", "failed");
        if (pid == 0) {
            dup2(fds[1], 1);
            close(fds[0]);
            close(fds[1]);
            execlp(psql, psql, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-d",
                   st.opts.conninfo, "-c", st.opts.sql, (char *)NULL);
            _exit(127);
        }
        close(fds[1]);
        /* Count lines: each is one document; a document never holds a raw
         * newline (JSON escapes it). */
        uint64_t line_bytes = 0;
        ssize_t n;
        while ((n = read(fds[0], buf, sizeof buf)) > 0) {
            const char *p = buf, *end = buf + n;
            while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                if (!nl) {
                    line_bytes += (uint64_t)(end - p);
                    break;
                }
                line_bytes += (uint64_t)(nl - p);
                bench_row(&st, NULL, (size_t)line_bytes);
                line_bytes = 0;
                p = nl + 1;
            }
        }
        close(fds[0]);
        int status;
        struct rusage ru;
        if (wait4(pid, &status, 0, &ru) != pid)
            bench_fail(&st, "wait", "failed");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            bench_fail(&st, "psql", "psql failed (see its stderr)");
        bench_query_end_child(&st, &ru);
    }
    return bench_report(&st);
}
