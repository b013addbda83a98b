/*
 * Memory is bounded by the chunk, not the result: a million rows stream
 * with a small peak RSS growth (VmHWM; Criterion runs each test in its own
 * process).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_test.h"

static long
vm_hwm_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;

    cr_assert_not_null(f);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    fclose(f);
    return kib;
}

Test(memory, million_rows_bounded_rss, .timeout = 300)
{
    fw_conn *c;
    fw_stream *s = NULL;
    const char *json;
    size_t len;
    fw_status st;
    long before, after;
    long n = 0;

    FWT_REQUIRE_SERVER();
    c = fwt_connect(fwt_tcp("fw_trust", "sslmode=require"));
    before = vm_hwm_kib();
    st = fw_stream_open_sql(c, "SELECT jsonb_build_object('i', g) AS data "
                          "FROM generate_series(1, 1000000) g", 0, NULL, 0, &s);
    cr_assert_eq(st, FW_OK, "%s", fw_conn_error_message(c));
    while ((st = fw_stream_next(s, &json, &len)) == FW_OK) {
        n++;
        cr_assert(len >= 8 && json[0] == '{');
    }
    cr_assert_eq(st, FW_DONE, "%s", fw_conn_error_message(c));
    cr_assert_eq(n, 1000000);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    after = vm_hwm_kib();
    cr_log_info("peak RSS growth over 1M rows: %ld KiB", after - before);
    cr_assert_lt(after - before, 64 * 1024, "peak RSS grew by %ld KiB", after - before);
    fw_conn_free(c);
}
