/*
 * The password file: matching, wildcards, escapes, the localhost rule,
 * permissions, and the per-host lookup of a parsed conninfo.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conninfo.h"

/* Writes `content` to a new temporary file with `mode`; returns its path (malloc'd). */
static char *
passfile(const char *content, mode_t mode)
{
    char *path = strdup("/tmp/fw-pgpass-XXXXXX");
    cr_assert_not_null(path);
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    size_t n = strlen(content);
    cr_assert_eq(write(fd, content, n), (ssize_t)n);
    cr_assert_eq(fchmod(fd, mode), 0);
    close(fd);
    return path;
}

static void
drop(char *path)
{
    unlink(path);
    free(path);
}

/* The password for (host, port, db, user) from `path`, asserting no warning. */
static void
expect_pw(const char *path, const char *host, int port, const char *db, const char *user,
          const char *want)
{
    char *warning = (char *)"unset";
    char *pw = fw_pgpass_lookup(path, host, port, db, user, &warning);
    cr_assert_null(warning, "unexpected warning: %s", warning);
    if (want == NULL) {
        cr_assert_null(pw, "got [%s] for %s:%d:%s:%s", pw, host, port, db, user);
        return;
    }
    cr_assert_not_null(pw, "no password for %s:%d:%s:%s", host, port, db, user);
    cr_assert_str_eq(pw, want);
    free(pw);
}

Test(pgpass, exact_match_and_first_line_wins)
{
    char *f = passfile("db1:5432:app:alice:first\n"
                       "db1:5432:app:alice:second\n"
                       "db1:5433:app:alice:otherport\n"
                       "db2:5432:app:bob:bobpw\n", 0600);
    expect_pw(f, "db1", 5432, "app", "alice", "first");
    expect_pw(f, "db1", 5433, "app", "alice", "otherport");
    expect_pw(f, "db2", 5432, "app", "bob", "bobpw");
    expect_pw(f, "db2", 5432, "app", "alice", NULL);
    expect_pw(f, "db1", 5432, "other", "alice", NULL);
    expect_pw(f, "db", 5432, "app", "alice", NULL);      /* no prefix matching */
    expect_pw(f, "db1x", 5432, "app", "alice", NULL);
    drop(f);
}

Test(pgpass, wildcards)
{
    char *f = passfile("*:*:*:alice:anyhost\n"
                       "h:*:*:*:anyuser\n"
                       "*:6000:*:*:port6000\n", 0600);
    expect_pw(f, "whatever", 1, "db", "alice", "anyhost");
    expect_pw(f, "h", 2, "db", "zed", "anyuser");
    expect_pw(f, "x", 6000, "db", "zed", "port6000");
    expect_pw(f, "x", 6001, "db", "zed", NULL);
    drop(f);
    /* '*' is a wildcard only as a whole field. */
    f = passfile("h*:5432:d:u:star\n", 0600);
    expect_pw(f, "hx", 5432, "d", "u", NULL);
    expect_pw(f, "h*", 5432, "d", "u", "star");
    drop(f);
}

Test(pgpass, escapes)
{
    char *f = passfile("h:5432:db\\:one:us\\\\er:p\\:w\\\\d\\\\\n"
                       "h:5432:d:u:pw:ignored extra field\n"
                       "h:5432:\\*:u:literalstar\n", 0600);
    expect_pw(f, "h", 5432, "db:one", "us\\er", "p:w\\d\\");
    expect_pw(f, "h", 5432, "d", "u", "pw");
    /* An escaped star is a literal star, not a wildcard. */
    expect_pw(f, "h", 5432, "*", "u", "literalstar");
    expect_pw(f, "h", 5432, "x", "u", NULL);
    drop(f);
}

Test(pgpass, comments_short_lines_crlf_and_long_lines)
{
    char line[600];
    memset(line, 'x', 400);
    line[400] = '\0';
    char content[1200];
    snprintf(content, sizeof content,
             "# hostname:port:database:username:password\n"
             "#h:5432:d:u:commentpw\n"
             "broken line\n"
             "h:5432:d\n"
             "\n"
             "crlf:5432:d:u:crlfpw\r\n"
             "long:5432:d:u:%s\n"
             "last:5432:d:u:no-newline-at-end", line);
    char *f = passfile(content, 0600);
    expect_pw(f, "#h", 5432, "d", "u", NULL);
    expect_pw(f, "h", 5432, "d", "u", NULL);
    expect_pw(f, "crlf", 5432, "d", "u", "crlfpw");
    expect_pw(f, "long", 5432, "d", "u", line);
    expect_pw(f, "last", 5432, "d", "u", "no-newline-at-end");
    drop(f);
}

Test(pgpass, empty_password_is_none)
{
    char *f = passfile("h:5432:d:u:\nh:5432:d:u:later\n", 0600);
    expect_pw(f, "h", 5432, "d", "u", NULL);
    drop(f);
}

Test(pgpass, localhost_rule)
{
    char *f = passfile("localhost:5432:d:u:localpw\n"
                       "/tmp:5432:d:u:tmppw\n", 0600);
    /* No host, and the default socket directory, are looked up as localhost. */
    expect_pw(f, NULL, 5432, "d", "u", "localpw");
    expect_pw(f, "", 5432, "d", "u", "localpw");
    expect_pw(f, FW_CI_DEFAULT_SOCKET_DIR, 5432, "d", "u", "localpw");
    expect_pw(f, "localhost", 5432, "d", "u", "localpw");
    /* Another socket directory is matched by its path. */
    expect_pw(f, "/tmp", 5432, "d", "u", "tmppw");
    expect_pw(f, "/var/lib/other", 5432, "d", "u", NULL);
    /* Port 0 means the default port. */
    expect_pw(f, "localhost", 0, "d", "u", "localpw");
    drop(f);
}

Test(pgpass, nothing_without_a_database_or_user)
{
    char *f = passfile("*:*:*:*:anything\n", 0600);
    expect_pw(f, "h", 5432, "", "u", NULL);
    expect_pw(f, "h", 5432, "d", NULL, NULL);
    expect_pw(f, "h", 5432, "d", "u", "anything");
    drop(f);
}

Test(pgpass, missing_file_is_silently_nothing)
{
    expect_pw("/nonexistent/dir/pgpass", "h", 5432, "d", "u", NULL);
    /* warning may be NULL. */
    cr_assert_null(fw_pgpass_lookup("/nonexistent/dir/pgpass", "h", 5432, "d", "u", NULL));
}

static void
expect_ignored(const char *path, const char *message)
{
    char *warning = NULL;
    char *pw = fw_pgpass_lookup(path, "h", 5432, "d", "u", &warning);
    cr_assert_null(pw);
    cr_assert_not_null(warning);
    cr_assert_str_eq(warning, message);
    cr_assert_null(strstr(warning, "topsecret"));
    free(warning);
    cr_assert_null(fw_pgpass_lookup(path, "h", 5432, "d", "u", NULL));
}

Test(pgpass, group_or_world_access_is_ignored_with_a_warning)
{
    static const mode_t modes[] = {0644, 0640, 0604, 0660, 0610};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        char *f = passfile("h:5432:d:u:topsecret\n", modes[i]);
        char msg[256];
        snprintf(msg, sizeof msg, "password file \"%s\" has group or world access; "
                                  "permissions should be u=rw (0600) or less", f);
        expect_ignored(f, msg);
        cr_assert_eq(chmod(f, 0400), 0);
        expect_pw(f, "h", 5432, "d", "u", "topsecret");
        drop(f);
    }
}

Test(pgpass, not_a_plain_file)
{
    char dir[] = "/tmp/fw-pgpass-dir-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char msg[256];
    snprintf(msg, sizeof msg, "password file \"%s\" is not a plain file", dir);
    expect_ignored(dir, msg);
    rmdir(dir);
}

Test(pgpass, default_file_in_home)
{
    char home[] = "/tmp/fw-pgpass-home-XXXXXX";
    cr_assert_not_null(mkdtemp(home));
    char *old = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    setenv("HOME", home, 1);
    char path[128];
    snprintf(path, sizeof path, "%s/.pgpass", home);
    FILE *fp = fopen(path, "w");
    cr_assert_not_null(fp);
    fputs("h:5432:d:u:homepw\n", fp);
    fclose(fp);
    cr_assert_eq(chmod(path, 0600), 0);
    expect_pw(NULL, "h", 5432, "d", "u", "homepw");
    expect_pw("", "h", 5432, "d", "u", "homepw");
    unlink(path);
    rmdir(home);
    if (old != NULL) {
        setenv("HOME", old, 1);
        free(old);
    } else {
        unsetenv("HOME");
    }
}

static fw_conninfo *
parse_ok(const char *s)
{
    fw_conninfo *ci = NULL;
    cr_assert_eq(fw_conninfo_parse(s, FW_CONNINFO_NO_ENV, &ci), FW_OK, "%s", fw_conninfo_error_message(ci));
    return ci;
}

/* fw_pgpass_for_host for the i-th host of ci, as authentication asks. */
static char *
for_host(const fw_conninfo *ci, size_t i, char **warning)
{
    cr_assert_lt(i, ci->nhosts);
    return fw_pgpass_for_host(ci, &ci->hosts[i], warning);
}

Test(pgpass, per_host_lookup_of_a_conninfo)
{
    char *f = passfile("a:1:d:u:pw-a\n"
                       "b:2:d:u:pw-b\n"
                       "10.0.0.9:5432:d:u:pw-addr\n"
                       "localhost:5432:d:u:pw-local\n"
                       "/tmp:5432:d:u:pw-tmp\n"
                       "localhost:5432:u:u:pw-db-is-user\n", 0600);
    char s[256];
    snprintf(s, sizeof s, "host=a,b,c port=1,2,3 user=u dbname=d passfile=%s", f);
    fw_conninfo *ci = parse_ok(s);
    char *w = NULL;
    char *pw = for_host(ci, 0, &w);
    cr_assert_str_eq(pw, "pw-a");
    free(pw);
    pw = for_host(ci, 1, &w);
    cr_assert_str_eq(pw, "pw-b");
    free(pw);
    cr_assert_null(for_host(ci, 2, &w));
    cr_assert_null(w);
    fw_conninfo_free(ci);

    /* One host each: the conninfo after "passfile=F ", and the password found. */
    static const struct {
        const char *conninfo, *want;
    } one[] = {
        /* hostaddr alone is the key; a host name given with it is the key instead. */
        {"hostaddr=10.0.0.9 user=u dbname=d", "pw-addr"},
        {"host=a hostaddr=10.0.0.9 port=1 user=u dbname=d", "pw-a"},
        /* The default socket directory is looked up as localhost; another
         * socket directory by its path (libpq's rule). */
        {"host=" FW_CI_DEFAULT_SOCKET_DIR " user=u dbname=d", "pw-local"},
        {"host=/tmp user=u dbname=d", "pw-tmp"},
        /* Without a database name the user name is the database. */
        {"host=" FW_CI_DEFAULT_SOCKET_DIR " user=u", "pw-db-is-user"},
    };
    for (size_t k = 0; k < sizeof one / sizeof one[0]; k++) {
        snprintf(s, sizeof s, "passfile=%s %s", f, one[k].conninfo);
        ci = parse_ok(s);
        pw = for_host(ci, 0, NULL);
        cr_assert_not_null(pw, "%s", one[k].conninfo);
        cr_assert_str_eq(pw, one[k].want, "%s", one[k].conninfo);
        free(pw);
        fw_conninfo_free(ci);
    }

    /* A password in the conninfo means no lookup. */
    snprintf(s, sizeof s, "host=a port=1 user=u dbname=d password=given passfile=%s", f);
    ci = parse_ok(s);
    cr_assert_null(for_host(ci, 0, NULL));
    fw_conninfo_free(ci);
    cr_assert_null(fw_pgpass_for_host(NULL, NULL, NULL));
    drop(f);
}
