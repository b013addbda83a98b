/*
 * Secrets do not outlive their use: the copies of a connection string that
 * the parser makes, and the lines read from the password file, are wiped
 * before they are freed.
 *
 * How it is observed: glibc hands a freed block straight back to the next
 * allocation of the same size (tcache, unsorted bin), content untouched
 * past the first 16 bytes.  So after the call, we allocate many blocks of
 * the sizes involved and look for the secret in them.  A plain memset
 * before free() is a dead store the compiler removes at -O2, which is the
 * defect this catches.  (Under AddressSanitizer freed blocks are
 * quarantined and new ones filled, so there the test passes trivially.)
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conninfo.h"
#include "crypto.h"
#include "fraiseql_wire.h"

#define MARKER "Zq7SecretMarkerKx9"

/* 1 when MARKER is in one of many fresh blocks of sizes around `size`. */
static int
marker_in_fresh_blocks(size_t size)
{
    enum { N = 64 };
    static const size_t sizes_extra[] = {0, 1, 8, 16, 24, 32};
    int found = 0;

    for (size_t k = 0; k < sizeof sizes_extra / sizeof sizes_extra[0]; k++) {
        unsigned char *blocks[N];
        size_t sz = size + sizes_extra[k];

        for (int i = 0; i < N; i++) {
            blocks[i] = malloc(sz);
            cr_assert_not_null(blocks[i]);
            if (memmem(blocks[i], sz, MARKER, strlen(MARKER)) != NULL)
                found = 1;
        }
        for (int i = 0; i < N; i++)
            free(blocks[i]);
    }
    return found;
}

static void
parse_and_free(const char *conninfo)
{
    fw_conninfo *ci = NULL;

    cr_assert_eq(fw_conninfo_parse(conninfo, 0, &ci), FW_OK, "%s",
                 ci && fw_conninfo_error(ci) ? fw_conninfo_error(ci) : "");
    cr_assert_str_eq(fw_conninfo_get(ci, "password"), MARKER);
    fw_conninfo_free(ci);
}

Test(secrets, keyword_value_string_copies_are_wiped)
{
    const char *conninfo = "host=db.example.com port=5432 dbname=app user=alice "
                           "password=" MARKER " application_name=review sslmode=disable";

    parse_and_free(conninfo);
    cr_assert_not(marker_in_fresh_blocks(strlen(conninfo) + 1),
                  "a freed copy of the connection string still holds the password");
}

Test(secrets, uri_copies_are_wiped)
{
    const char *uri = "postgresql://alice:" MARKER "@db.example.com:5432/app"
                      "?application_name=review&sslmode=disable";

    parse_and_free(uri);
    cr_assert_not(marker_in_fresh_blocks(strlen(uri) + 1),
                  "a freed copy of the URI still holds the password");
    cr_assert_not(marker_in_fresh_blocks(strlen(MARKER) + 1),
                  "a freed decoded copy still holds the password");
}

Test(secrets, uri_query_password_copies_are_wiped)
{
    const char *uri = "postgresql://db.example.com:5432/app?user=alice&password=" MARKER
                      "&sslmode=disable";

    parse_and_free(uri);
    cr_assert_not(marker_in_fresh_blocks(strlen(uri) + 1),
                  "a freed copy of the URI still holds the password");
    cr_assert_not(marker_in_fresh_blocks(strlen(MARKER) + 1),
                  "a freed decoded copy still holds the password");
}

Test(secrets, password_file_lines_are_wiped)
{
    char path[] = "/tmp/fw_review_pgpassXXXXXX";
    /* A line that does not match (read, then dropped) and one that does;
     * written without stdio, whose buffer would leave the marker behind. */
    static const char lines[] = "otherhost:5432:*:*:other-" MARKER "\n"
                                "db.example.com:5432:app:alice:" MARKER "\n";
    int fd = mkstemp(path);
    char *pw, *warning = NULL;

    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, lines, sizeof lines - 1), (ssize_t)(sizeof lines - 1));
    close(fd);
    chmod(path, 0600);
    pw = fw_pgpass_lookup(path, "db.example.com", 5432, "app", "alice", &warning);
    unlink(path);
    cr_assert_not_null(pw, "%s", warning ? warning : "");
    cr_assert_str_eq(pw, MARKER);
    fw_secure_zero(pw, strlen(pw));
    free(pw);
    free(warning);
    cr_assert_not(marker_in_fresh_blocks(128), "a freed password file line still holds the password");
    cr_assert_not(marker_in_fresh_blocks(4096),
                  "the password file's stdio buffer still holds the password");
}

/* An error about the host part of a URI shows the URI, never the password,
 * whether it was in the userinfo or in the query. */
Test(secrets, uri_errors_never_show_the_password)
{
    static const char *const uris[] = {
        "postgresql://[]:5432/app?user=alice&password=" MARKER,
        "postgresql://alice:" MARKER "@[]:5432/app",
        "postgresql://alice:" MARKER "@[::1/app?sslmode=disable",
        "postgresql://[::1]x/app?password=" MARKER "&sslmode=disable",
    };

    for (size_t i = 0; i < sizeof uris / sizeof uris[0]; i++) {
        fw_conninfo *ci = NULL;
        fw_status st = fw_conninfo_parse(uris[i], 0, &ci);

        cr_assert_eq(st, FW_ERR_CONFIG, "%s", uris[i]);
        cr_assert_not_null(fw_conninfo_error(ci));
        cr_assert_null(strstr(fw_conninfo_error(ci), MARKER), "%s", fw_conninfo_error(ci));
        cr_assert(strstr(fw_conninfo_error(ci), "URI") != NULL, "%s", fw_conninfo_error(ci));
        fw_conninfo_free(ci);
    }
}
