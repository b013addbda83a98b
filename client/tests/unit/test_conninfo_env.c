/*
 * The PG* environment variables and the built-in defaults.  Each test starts
 * from an environment without PG* variables and with HOME in a fresh
 * directory; the suite's fini puts the original environment back.
 */
#include <criterion/criterion.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conninfo.h"

extern char **environ;

/* The environment this test process started with (PG* and HOME). */
static char **saved_env;
static char home_dir[64];

static void
save_env(void)
{
    size_t n = 0;
    for (char **e = environ; *e != NULL; e++)
        n++;
    saved_env = calloc(n + 1, sizeof *saved_env);
    cr_assert_not_null(saved_env);
    size_t k = 0;
    for (char **e = environ; *e != NULL; e++)
        if (strncmp(*e, "PG", 2) == 0 || strncmp(*e, "HOME=", 5) == 0)
            saved_env[k++] = strdup(*e);
    /* Now a clean slate: no PG* variable, HOME in an empty directory. */
    for (;;) {
        char **e = environ;
        while (*e != NULL && strncmp(*e, "PG", 2) != 0)
            e++;
        if (*e == NULL)
            break;
        char name[256];
        size_t len = strcspn(*e, "=");
        cr_assert_lt(len, sizeof name);
        memcpy(name, *e, len);
        name[len] = '\0';
        unsetenv(name);
    }
    strcpy(home_dir, "/tmp/fw-ci-home-XXXXXX");
    cr_assert_not_null(mkdtemp(home_dir));
    setenv("HOME", home_dir, 1);
}

static void
remove_tree(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

static void
restore_env(void)
{
    remove_tree(home_dir);
    unsetenv("HOME");
    for (char **e = saved_env; *e != NULL; e++) {
        char *eq = strchr(*e, '=');
        *eq = '\0';
        setenv(*e, eq + 1, 1);
        free(*e);
    }
    free(saved_env);
}

TestSuite(conninfo_env, .init = save_env, .fini = restore_env);

static fw_conninfo *
parse_ok(const char *s, unsigned flags)
{
    fw_conninfo *ci = NULL;
    fw_status st = fw_conninfo_parse(s, flags, &ci);
    cr_assert_not_null(ci);
    cr_assert_eq(st, FW_OK, "[%s] failed: %s", s, fw_conninfo_error_message(ci));
    return ci;
}

static void
expect(const fw_conninfo *ci, const char *kw, const char *value)
{
    const char *got = fw_conninfo_get(ci, kw);
    if (value == NULL) {
        cr_assert_null(got, "%s is [%s], expected unset", kw, got);
        return;
    }
    cr_assert_not_null(got, "%s is unset, expected [%s]", kw, value);
    cr_assert_str_eq(got, value, "%s", kw);
}

static void
parse_err(const char *s, const char *message)
{
    fw_conninfo *ci = NULL;
    cr_assert_eq(fw_conninfo_parse(s, 0, &ci), FW_ERR_CONFIG, "[%s] parsed", s);
    cr_assert_str_eq(fw_conninfo_error_message(ci), message);
    fw_conninfo_free(ci);
}

static const char *
os_user(void)
{
    struct passwd *pw = getpwuid(geteuid());
    cr_assert_not_null(pw);
    return pw->pw_name;
}

static const char *
default_host(void)
{
    struct stat st;
    return stat(FW_CI_DEFAULT_SOCKET_DIR, &st) == 0 && S_ISDIR(st.st_mode)
        ? FW_CI_DEFAULT_SOCKET_DIR : "localhost";
}

static const struct {
    const char *var, *keyword, *value;
} env_table[] = {
    {"PGHOST", "host", "envhost"},
    {"PGPORT", "port", "6543"},
    {"PGDATABASE", "dbname", "envdb"},
    {"PGUSER", "user", "envuser"},
    {"PGPASSWORD", "password", "envpw"},
    {"PGPASSFILE", "passfile", "/nonexistent/pgpass"},
    {"PGCONNECT_TIMEOUT", "connect_timeout", "12"},
    {"PGAPPNAME", "application_name", "envapp"},
    {"PGOPTIONS", "options", "-c work_mem=64MB"},
    {"PGSSLMODE", "sslmode", "verify-ca"},
    {"PGSSLROOTCERT", "sslrootcert", "/env/root.crt"},
    {"PGSSLCERT", "sslcert", "/env/client.crt"},
    {"PGSSLKEY", "sslkey", "/env/client.key"},
    {"PGSSLCRL", "sslcrl", "/env/root.crl"},
    {"PGSSLSNI", "sslsni", "0"},
    {"PGCHANNELBINDING", "channel_binding", "require"},
    {"PGTARGETSESSIONATTRS", "target_session_attrs", "read-write"},
};
#define N_ENV (sizeof env_table / sizeof env_table[0])

Test(conninfo_env, variables_fill_what_the_string_leaves_unset)
{
    for (size_t i = 0; i < N_ENV; i++)
        setenv(env_table[i].var, env_table[i].value, 1);
    fw_conninfo *ci = parse_ok("", 0);
    for (size_t i = 0; i < N_ENV; i++)
        expect(ci, env_table[i].keyword, env_table[i].value);
    cr_assert_eq(ci->connect_timeout, 12);
    cr_assert_eq(ci->sslmode, FW_SSL_VERIFY_CA);
    cr_assert_eq(ci->channel_binding, FW_CBIND_REQUIRE);
    cr_assert_eq(ci->target, FW_TARGET_READ_WRITE);
    cr_assert_eq(ci->sslsni, 0);
    cr_assert_eq(ci->hosts[0].port, 6543);
    fw_conninfo_free(ci);
}

Test(conninfo_env, the_string_wins)
{
    for (size_t i = 0; i < N_ENV; i++)
        setenv(env_table[i].var, env_table[i].value, 1);
    fw_conninfo *ci = parse_ok("host=strhost port=7000 user=struser sslmode=disable", 0);
    expect(ci, "host", "strhost");
    expect(ci, "port", "7000");
    expect(ci, "user", "struser");
    expect(ci, "sslmode", "disable");
    expect(ci, "dbname", "envdb");
    fw_conninfo_free(ci);
    ci = parse_ok("postgresql://u@h:1/d", 0);
    expect(ci, "user", "u");
    expect(ci, "host", "h");
    expect(ci, "application_name", "envapp");
    fw_conninfo_free(ci);
}

Test(conninfo_env, hostaddr_and_lists)
{
    setenv("PGHOST", "a,b", 1);
    setenv("PGHOSTADDR", "10.0.0.1,10.0.0.2", 1);
    setenv("PGPORT", "1,2", 1);
    fw_conninfo *ci = parse_ok("", 0);
    cr_assert_eq(ci->nhosts, 2);
    cr_assert_str_eq(ci->hosts[1].host, "b");
    cr_assert_str_eq(ci->hosts[1].hostaddr, "10.0.0.2");
    cr_assert_eq(ci->hosts[1].port, 2);
    fw_conninfo_free(ci);
}

Test(conninfo_env, an_empty_setting_in_the_string_hides_the_variable)
{
    setenv("PGHOST", "envhost", 1);
    setenv("PGPORT", "6543", 1);
    fw_conninfo *ci = parse_ok("host='' port=''", 0);
    expect(ci, "host", default_host());
    expect(ci, "port", "5432");
    fw_conninfo_free(ci);
}

Test(conninfo_env, empty_variables_mean_the_default)
{
    setenv("PGHOST", "", 1);
    setenv("PGUSER", "", 1);
    fw_conninfo *ci = parse_ok("", 0);
    expect(ci, "host", default_host());
    expect(ci, "user", os_user());
    fw_conninfo_free(ci);
}

Test(conninfo_env, no_env_flag_ignores_them)
{
    for (size_t i = 0; i < N_ENV; i++)
        setenv(env_table[i].var, env_table[i].value, 1);
    setenv("PGREQUIRESSL", "1", 1);
    setenv("PGGSSENCMODE", "require", 1);
    fw_conninfo *ci = parse_ok("", FW_CONNINFO_NO_ENV);
    expect(ci, "host", default_host());
    expect(ci, "port", "5432");
    expect(ci, "user", os_user());
    expect(ci, "dbname", os_user());
    expect(ci, "password", NULL);
    expect(ci, "passfile", NULL);
    expect(ci, "sslmode", "prefer");
    expect(ci, "application_name", NULL);
    fw_conninfo_free(ci);
}

Test(conninfo_env, defaults)
{
    fw_conninfo *ci = parse_ok("", 0);
    expect(ci, "host", default_host());
    expect(ci, "port", "5432");
    expect(ci, "user", os_user());
    expect(ci, "dbname", os_user());
    expect(ci, "sslmode", "prefer");
    expect(ci, "channel_binding", "prefer");
    expect(ci, "target_session_attrs", "any");
    expect(ci, "keepalives", "1");
    expect(ci, "sslrootcert", NULL);
    expect(ci, "sslcert", NULL);
    expect(ci, "sslkey", NULL);
    expect(ci, "sslcrl", NULL);
    fw_conninfo_free(ci);
    /* dbname defaults to the user after PGUSER. */
    setenv("PGUSER", "carol", 1);
    ci = parse_ok("", 0);
    expect(ci, "dbname", "carol");
    fw_conninfo_free(ci);
    ci = parse_ok("user=dave", 0);
    expect(ci, "dbname", "dave");
    fw_conninfo_free(ci);
}

static void
touch(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fclose(f);
}

Test(conninfo_env, certificate_defaults_only_when_the_files_exist)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/.postgresql", home_dir);
    cr_assert_eq(mkdir(dir, 0700), 0);
    touch(dir, "root.crt");
    touch(dir, "postgresql.key");
    fw_conninfo *ci = parse_ok("", 0);
    char want[256];
    snprintf(want, sizeof want, "%s/root.crt", dir);
    expect(ci, "sslrootcert", want);
    expect(ci, "sslcert", NULL);
    snprintf(want, sizeof want, "%s/postgresql.key", dir);
    expect(ci, "sslkey", want);
    expect(ci, "sslcrl", NULL);
    fw_conninfo_free(ci);

    touch(dir, "postgresql.crt");
    touch(dir, "root.crl");
    ci = parse_ok("sslrootcert=/mine/ca.pem", 0);
    expect(ci, "sslrootcert", "/mine/ca.pem");
    snprintf(want, sizeof want, "%s/postgresql.crt", dir);
    expect(ci, "sslcert", want);
    snprintf(want, sizeof want, "%s/root.crl", dir);
    expect(ci, "sslcrl", want);
    fw_conninfo_free(ci);
}

Test(conninfo_env, requiressl)
{
    setenv("PGREQUIRESSL", "1", 1);
    fw_conninfo *ci = parse_ok("", 0);
    expect(ci, "sslmode", "require");
    fw_conninfo_free(ci);
    ci = parse_ok("sslmode=allow", 0);
    expect(ci, "sslmode", "allow");
    fw_conninfo_free(ci);
    /* PGSSLMODE wins over PGREQUIRESSL. */
    setenv("PGSSLMODE", "disable", 1);
    ci = parse_ok("", 0);
    expect(ci, "sslmode", "disable");
    fw_conninfo_free(ci);
    /* ... but the string's requiressl=1 wins over PGSSLMODE. */
    ci = parse_ok("requiressl=1", 0);
    expect(ci, "sslmode", "require");
    fw_conninfo_free(ci);
    setenv("PGREQUIRESSL", "0", 1);
    unsetenv("PGSSLMODE");
    ci = parse_ok("", 0);
    expect(ci, "sslmode", "prefer");
    fw_conninfo_free(ci);
}

Test(conninfo_env, bad_values_are_errors)
{
    setenv("PGSSLMODE", "sometimes", 1);
    parse_err("", "invalid sslmode value: \"sometimes\"; valid values are disable, allow, "
                  "prefer, require, verify-ca, verify-full");
    unsetenv("PGSSLMODE");
    setenv("PGPORT", "fivefour", 1);
    parse_err("", "invalid integer value \"fivefour\" for connection option \"port\"");
    unsetenv("PGPORT");
    setenv("PGGSSENCMODE", "require", 1);
    parse_err("", "gssencmode value \"require\" is not supported: this client has no GSSAPI support");
    setenv("PGGSSENCMODE", "disable", 1);
    fw_conninfo_free(parse_ok("", 0));
}

Test(conninfo_env, unsupported_variables_are_ignored)
{
    setenv("PGSERVICE", "nosuchservice", 1);
    setenv("PGCLIENTENCODING", "LATIN1", 1);
    setenv("PGSSLCOMPRESSION", "1", 1);
    fw_conninfo *ci = parse_ok("host=h", 0);
    expect(ci, "host", "h");
    fw_conninfo_free(ci);
}

Test(conninfo_env, params_with_the_environment)
{
    setenv("PGHOST", "envhost", 1);
    setenv("PGUSER", "envuser", 1);
    const char *kw[] = {"host", "dbname", NULL};
    const char *val[] = {NULL, "user=fromdb", NULL};
    fw_conninfo *ci = NULL;
    cr_assert_eq(fw_conninfo_parse_params(kw, val, 1, 0, &ci), FW_OK);
    expect(ci, "host", "envhost");
    expect(ci, "user", "fromdb");
    expect(ci, "dbname", "fromdb");
    fw_conninfo_free(ci);
}

Test(conninfo_env, home_directory)
{
    char *h = fw_ci_home_dir();
    cr_assert_str_eq(h, home_dir);
    free(h);
    unsetenv("HOME");
    h = fw_ci_home_dir();
    cr_assert_not_null(h);
    cr_assert_str_eq(h, getpwuid(geteuid())->pw_dir);
    free(h);
    setenv("HOME", home_dir, 1);
}
