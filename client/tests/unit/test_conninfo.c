/*
 * Connection strings: keyword=value and URI syntax, errors with their exact
 * messages, derived values, multi-host lists.  Every parse here ignores the
 * environment (FW_CONNINFO_NO_ENV); test_conninfo_env.c covers it.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "conninfo.h"

static fw_conninfo *
parse_ok(const char *s)
{
    fw_conninfo *ci = NULL;
    fw_status st = fw_conninfo_parse(s, FW_CONNINFO_NO_ENV, &ci);
    cr_assert_not_null(ci, "no handle for [%s]", s);
    cr_assert_eq(st, FW_OK, "[%s] failed: %s", s, fw_conninfo_error_message(ci));
    cr_assert_null(fw_conninfo_error_message(ci));
    return ci;
}

static void
parse_err(const char *s, const char *message)
{
    fw_conninfo *ci = NULL;
    fw_status st = fw_conninfo_parse(s, FW_CONNINFO_NO_ENV, &ci);
    cr_assert_not_null(ci, "no handle for [%s]", s);
    cr_assert_eq(st, FW_ERR_CONFIG, "[%s] parsed (status %d)", s, st);
    cr_assert_not_null(fw_conninfo_error_message(ci));
    cr_assert_str_eq(fw_conninfo_error_message(ci), message, "[%s]", s);
    /* A failed parse carries only the message. */
    cr_assert_null(fw_conninfo_get(ci, "host"));
    cr_assert_null(fw_conninfo_get(ci, "user"));
    fw_conninfo_free(ci);
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

static const char *
default_host(void)
{
    struct stat st;
    return stat(FW_CI_DEFAULT_SOCKET_DIR, &st) == 0 && S_ISDIR(st.st_mode)
        ? FW_CI_DEFAULT_SOCKET_DIR : "localhost";
}

/* ------------------------------------------------------------ keyword=value */

Test(conninfo_kv, simple_pairs)
{
    fw_conninfo *ci = parse_ok("host=db.example.com port=5433 dbname=mydb user=alice connect_timeout=10");
    expect(ci, "host", "db.example.com");
    expect(ci, "port", "5433");
    expect(ci, "dbname", "mydb");
    expect(ci, "user", "alice");
    expect(ci, "connect_timeout", "10");
    cr_assert_eq(ci->connect_timeout, 10);
    cr_assert_eq(ci->nhosts, 1);
    cr_assert_str_eq(ci->hosts[0].host, "db.example.com");
    cr_assert_eq(ci->hosts[0].port, 5433);
    cr_assert_eq(ci->hosts[0].is_unix, 0);
    fw_conninfo_free(ci);
}

Test(conninfo_kv, whitespace_around_equals_and_between_pairs)
{
    fw_conninfo *ci = parse_ok("  host =  h1 \t port= 5433\n\ndbname =x  ");
    expect(ci, "host", "h1");
    expect(ci, "port", "5433");
    expect(ci, "dbname", "x");
    fw_conninfo_free(ci);
}

Test(conninfo_kv, quoted_values_and_escapes)
{
    fw_conninfo *ci = parse_ok("application_name='a value' options='-c search_path=\\'s\\'' "
                               "user='back\\\\slash' password=it\\'s\\ ok dbname=a\\\\b");
    expect(ci, "application_name", "a value");
    expect(ci, "options", "-c search_path='s'");
    expect(ci, "user", "back\\slash");
    expect(ci, "password", "it's ok");
    expect(ci, "dbname", "a\\b");
    fw_conninfo_free(ci);
}

Test(conninfo_kv, quoted_value_needs_no_space_after_it)
{
    fw_conninfo *ci = parse_ok("host='h'port=6000");
    expect(ci, "host", "h");
    expect(ci, "port", "6000");
    fw_conninfo_free(ci);
}

Test(conninfo_kv, empty_values)
{
    /* An empty host, port, user or dbname means the default, as in libpq. */
    fw_conninfo *ci = parse_ok("host='' port='' user=alice dbname='' application_name=''");
    expect(ci, "host", default_host());
    expect(ci, "port", "5432");
    expect(ci, "dbname", "alice");
    expect(ci, "application_name", "");
    fw_conninfo_free(ci);
    /* libpq skips spaces after '=', so an empty unquoted value swallows the next word. */
    ci = parse_ok("application_name= port=5433");
    expect(ci, "application_name", "port=5433");
    expect(ci, "port", "5432");
    fw_conninfo_free(ci);
    ci = parse_ok("user=bob application_name=");
    expect(ci, "application_name", "");
    fw_conninfo_free(ci);
}

Test(conninfo_kv, last_setting_wins)
{
    fw_conninfo *ci = parse_ok("host=a port=1 host=b port=2");
    expect(ci, "host", "b");
    expect(ci, "port", "2");
    fw_conninfo_free(ci);
}

Test(conninfo_kv, empty_and_null_strings_give_the_defaults)
{
    fw_conninfo *ci = parse_ok("");
    expect(ci, "host", default_host());
    expect(ci, "port", "5432");
    fw_conninfo_free(ci);
    ci = parse_ok("   ");
    expect(ci, "port", "5432");
    fw_conninfo_free(ci);
    ci = NULL;
    cr_assert_eq(fw_conninfo_parse(NULL, FW_CONNINFO_NO_ENV, &ci), FW_OK);
    expect(ci, "sslmode", "prefer");
    fw_conninfo_free(ci);
}

Test(conninfo_kv, errors)
{
    parse_err("host=a bogus=1", "invalid connection option \"bogus\"");
    parse_err("host", "missing \"=\" after \"host\" in connection info string");
    parse_err("host=a port", "missing \"=\" after \"port\" in connection info string");
    parse_err("host='abc", "unterminated quoted string in connection info string");
    parse_err("host='abc\\'", "unterminated quoted string in connection info string");
    parse_err("=x", "missing keyword before \"=\" in connection info string");
    parse_err("Host=a", "invalid connection option \"Host\"");
}

Test(conninfo_kv, a_password_word_is_never_echoed)
{
    parse_err("password=secret word user=x",
              "missing \"=\" after the password value in connection info string "
              "(quote a value that contains spaces)");
    parse_err("password=my secret=word user=x",
              "invalid connection option after the password value "
              "(quote a value that contains spaces)");
    /* A known keyword after a password is fine; an unknown one elsewhere is named. */
    fw_conninfo *ci = parse_ok("password=pw user=x");
    expect(ci, "user", "x");
    fw_conninfo_free(ci);
    parse_err("user=x secret=word", "invalid connection option \"secret\"");
}

Test(conninfo_kv, dbname_holding_a_connection_string_is_not_expanded)
{
    /* As PQconnectdb: only PQconnectdbParams-style callers expand dbname. */
    fw_conninfo *ci = parse_ok("dbname='host=h port=1'");
    expect(ci, "dbname", "host=h port=1");
    expect(ci, "port", "5432");
    fw_conninfo_free(ci);
}

/* --------------------------------------------------------------------- URI */

Test(conninfo_uri, full_uri)
{
    fw_conninfo *ci = parse_ok("postgresql://alice:s3cret@db.example.com:5433/mydb"
                               "?connect_timeout=10&application_name=myapp");
    expect(ci, "user", "alice");
    expect(ci, "password", "s3cret");
    expect(ci, "host", "db.example.com");
    expect(ci, "port", "5433");
    expect(ci, "dbname", "mydb");
    expect(ci, "connect_timeout", "10");
    expect(ci, "application_name", "myapp");
    fw_conninfo_free(ci);
}

Test(conninfo_uri, both_schemes_and_empty_parts)
{
    fw_conninfo *ci = parse_ok("postgres://h");
    expect(ci, "host", "h");
    expect(ci, "port", "5432");
    fw_conninfo_free(ci);
    ci = parse_ok("postgresql://");
    expect(ci, "host", default_host());
    fw_conninfo_free(ci);
    ci = parse_ok("postgresql:///mydb");
    expect(ci, "dbname", "mydb");
    expect(ci, "host", default_host());
    fw_conninfo_free(ci);
    ci = parse_ok("postgresql://h/?");
    expect(ci, "host", "h");
    fw_conninfo_free(ci);
    ci = parse_ok("postgresql://bob@");
    expect(ci, "user", "bob");
    expect(ci, "dbname", "bob");
    fw_conninfo_free(ci);
    ci = parse_ok("postgresql://bob:@h");
    expect(ci, "password", NULL);
    fw_conninfo_free(ci);
    ci = parse_ok("postgresql://:pw@h:");
    expect(ci, "password", "pw");
    expect(ci, "port", "5432");
    fw_conninfo_free(ci);
    /* As libpq, the user part runs to an '@' before any '/', even past a '?'. */
    ci = parse_ok("postgresql://h?x@y");
    expect(ci, "user", "h?x");
    expect(ci, "host", "y");
    fw_conninfo_free(ci);
    /* The scheme is case-sensitive, as in libpq: this is a keyword string. */
    parse_err("POSTGRESQL://h", "missing \"=\" after \"POSTGRESQL://h\" in connection info string");
}

Test(conninfo_uri, percent_decoding_everywhere)
{
    fw_conninfo *ci = parse_ok("postgresql://us%65r%40corp:p%3Aw%2Fd@%2Fvar%2Flib%2Fpostgresql:5433/my%20db"
                               "?options=-c%20synchronous_commit%3Doff&application%5Fname=a%26b");
    expect(ci, "user", "user@corp");
    expect(ci, "password", "p:w/d");
    expect(ci, "host", "/var/lib/postgresql");
    expect(ci, "dbname", "my db");
    expect(ci, "options", "-c synchronous_commit=off");
    expect(ci, "application_name", "a&b");
    cr_assert_eq(ci->hosts[0].is_unix, 1);
    fw_conninfo_free(ci);
    /* '+' is not a space in this syntax. */
    ci = parse_ok("postgresql:///a+b");
    expect(ci, "dbname", "a+b");
    fw_conninfo_free(ci);
}

Test(conninfo_uri, percent_errors)
{
    parse_err("postgresql://h/%zz", "invalid percent-encoded token: \"%zz\"");
    parse_err("postgresql://h/ab%4", "invalid percent-encoded token: \"ab%4\"");
    parse_err("postgresql://h/a%00b", "forbidden value %00 in percent-encoded value: \"a%00b\"");
    parse_err("postgresql://h/d?application_name=%g1",
              "invalid percent-encoded token: \"%g1\"");
}

Test(conninfo_uri, password_never_in_messages)
{
    parse_err("postgresql://u:top%zzsecret@h/d",
              "invalid percent-encoded token in the password of the URI");
    parse_err("postgresql://u:top%00secret@h/d", "forbidden value %00 in the password of the URI");
    parse_err("postgresql://h/d?password=%zztopsecret",
              "invalid percent-encoded token in the password of the URI");
    parse_err("postgresql://u:topsecret@[::1/d",
              "end of string reached when looking for matching \"]\" in IPv6 host address "
              "in URI: \"postgresql://u:********@[::1/d\"");
}

Test(conninfo_uri, ipv6_literals)
{
    fw_conninfo *ci = parse_ok("postgresql://[2001:db8::1234]:5433/database");
    expect(ci, "host", "2001:db8::1234");
    expect(ci, "port", "5433");
    cr_assert_str_eq(ci->hosts[0].host, "2001:db8::1234");
    fw_conninfo_free(ci);
    ci = parse_ok("postgresql://[::1],[fe80::1]:6000/d");
    expect(ci, "host", "::1,fe80::1");
    expect(ci, "port", ",6000");
    cr_assert_eq(ci->nhosts, 2);
    cr_assert_eq(ci->hosts[0].port, 5432);
    cr_assert_eq(ci->hosts[1].port, 6000);
    fw_conninfo_free(ci);
    parse_err("postgresql://[::1/d", "end of string reached when looking for matching \"]\" in "
                                     "IPv6 host address in URI: \"postgresql://[::1/d\"");
    parse_err("postgresql://[]/d", "IPv6 host address may not be empty in URI: \"postgresql://[]/d\"");
    parse_err("postgresql://[::1]x/d", "unexpected character \"x\" at position 19 in URI "
                                       "(expected \":\" or \"/\"): \"postgresql://[::1]x/d\"");
}

Test(conninfo_uri, several_hosts)
{
    fw_conninfo *ci = parse_ok("postgresql://host1:123,host2:456/somedb?target_session_attrs=primary");
    expect(ci, "host", "host1,host2");
    expect(ci, "port", "123,456");
    cr_assert_eq(ci->nhosts, 2);
    cr_assert_str_eq(ci->hosts[0].host, "host1");
    cr_assert_eq(ci->hosts[0].port, 123);
    cr_assert_str_eq(ci->hosts[1].host, "host2");
    cr_assert_eq(ci->hosts[1].port, 456);
    cr_assert_eq(ci->target, FW_TARGET_PRIMARY);
    fw_conninfo_free(ci);
    /* An empty entry is the default host. */
    ci = parse_ok("postgresql://h1,,h3/d");
    cr_assert_eq(ci->nhosts, 3);
    cr_assert_str_eq(ci->hosts[1].host, default_host());
    cr_assert_eq(ci->hosts[1].port, 5432);
    fw_conninfo_free(ci);
}

Test(conninfo_uri, query_parameters)
{
    fw_conninfo *ci = parse_ok("postgresql:///mydb?host=localhost&port=5433&sslmode=verify-full");
    expect(ci, "host", "localhost");
    expect(ci, "port", "5433");
    expect(ci, "sslmode", "verify-full");
    cr_assert_eq(ci->sslmode, FW_SSL_VERIFY_FULL);
    fw_conninfo_free(ci);
    ci = parse_ok("postgresql://h/d?ssl=true");
    expect(ci, "sslmode", "require");
    cr_assert_eq(ci->sslmode, FW_SSL_REQUIRE);
    fw_conninfo_free(ci);
    /* Query parameters come after the path: they win. */
    ci = parse_ok("postgresql://a:1/x?dbname=y&host=b");
    expect(ci, "dbname", "y");
    expect(ci, "host", "b");
    expect(ci, "port", "1");
    fw_conninfo_free(ci);
    /* Empty parameters are skipped (libpq rejects them). */
    ci = parse_ok("postgresql://h/d?&port=5&&user=x&");
    expect(ci, "port", "5");
    expect(ci, "user", "x");
    fw_conninfo_free(ci);
}

Test(conninfo_uri, query_errors)
{
    parse_err("postgresql://h/d?bogus=1", "invalid URI query parameter: \"bogus\"");
    parse_err("postgresql://h/d?ssl=false", "invalid URI query parameter: \"ssl\"");
    parse_err("postgresql://h/d?port", "missing key/value separator \"=\" in URI query parameter: \"port\"");
    parse_err("postgresql://h/d?port=1=2", "extra key/value separator \"=\" in URI query parameter: \"port\"");
    parse_err("postgresql://h/d?x%3D=1", "invalid URI query parameter: \"x=\"");
}

/* ---------------------------------------------------- derived, checked values */

Test(conninfo_values, defaults_without_environment)
{
    fw_conninfo *ci = parse_ok("user=alice");
    expect(ci, "host", default_host());
    expect(ci, "port", "5432");
    expect(ci, "dbname", "alice");
    expect(ci, "sslmode", "prefer");
    expect(ci, "channel_binding", "prefer");
    expect(ci, "target_session_attrs", "any");
    expect(ci, "keepalives", "1");
    expect(ci, "sslsni", "1");
    expect(ci, "password", NULL);
    expect(ci, "hostaddr", NULL);
    expect(ci, "connect_timeout", NULL);
    cr_assert_eq(ci->sslmode, FW_SSL_PREFER);
    cr_assert_eq(ci->channel_binding, FW_CBIND_PREFER);
    cr_assert_eq(ci->target, FW_TARGET_ANY);
    cr_assert_eq(ci->keepalives, 1);
    cr_assert_eq(ci->sslsni, 1);
    cr_assert_eq(ci->connect_timeout, 0);
    cr_assert_eq(ci->nhosts, 1);
    cr_assert_str_eq(ci->hosts[0].host, default_host());
    cr_assert_eq(ci->hosts[0].is_unix, default_host()[0] == '/');
    cr_assert_eq(ci->hosts[0].port, 5432);
    fw_conninfo_free(ci);
}

Test(conninfo_values, enums)
{
    static const char *const modes[] = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"};
    for (int i = 0; i < 6; i++) {
        char s[64];
        snprintf(s, sizeof s, "sslmode=%s", modes[i]);
        fw_conninfo *ci = parse_ok(s);
        cr_assert_eq((int)ci->sslmode, i, "%s", s);
        fw_conninfo_free(ci);
    }
    static const char *const attrs[] = {"any", "read-write", "read-only", "primary", "standby", "prefer-standby"};
    for (int i = 0; i < 6; i++) {
        char s[64];
        snprintf(s, sizeof s, "target_session_attrs=%s", attrs[i]);
        fw_conninfo *ci = parse_ok(s);
        cr_assert_eq((int)ci->target, i, "%s", s);
        fw_conninfo_free(ci);
    }
    fw_conninfo *ci = parse_ok("channel_binding=require");
    cr_assert_eq(ci->channel_binding, FW_CBIND_REQUIRE);
    fw_conninfo_free(ci);
    ci = parse_ok("channel_binding=disable");
    cr_assert_eq(ci->channel_binding, FW_CBIND_DISABLE);
    fw_conninfo_free(ci);
}

Test(conninfo_values, bad_enum_values_name_the_keyword_and_the_choices)
{
    parse_err("sslmode=always", "invalid sslmode value: \"always\"; valid values are disable, "
                                "allow, prefer, require, verify-ca, verify-full");
    parse_err("sslmode=Require", "invalid sslmode value: \"Require\"; valid values are disable, "
                                 "allow, prefer, require, verify-ca, verify-full");
    parse_err("sslmode=''", "invalid sslmode value: \"\"; valid values are disable, "
                            "allow, prefer, require, verify-ca, verify-full");
    parse_err("channel_binding=yes", "invalid channel_binding value: \"yes\"; valid values are "
                                     "disable, prefer, require");
    parse_err("target_session_attrs=master", "invalid target_session_attrs value: \"master\"; "
              "valid values are any, read-write, read-only, primary, standby, prefer-standby");
}

Test(conninfo_values, integers)
{
    fw_conninfo *ci = parse_ok("connect_timeout=' 7 ' keepalives=0 keepalives_idle=30 "
                               "keepalives_interval=5 keepalives_count=3");
    cr_assert_eq(ci->connect_timeout, 7);
    cr_assert_eq(ci->keepalives, 0);
    cr_assert_eq(ci->keepalives_idle, 30);
    cr_assert_eq(ci->keepalives_interval, 5);
    cr_assert_eq(ci->keepalives_count, 3);
    fw_conninfo_free(ci);
    /* libpq: 1 second is 2, zero or negative waits forever. */
    ci = parse_ok("connect_timeout=1 keepalives_idle=-4 keepalives=7");
    cr_assert_eq(ci->connect_timeout, 2);
    cr_assert_eq(ci->keepalives_idle, 0);
    cr_assert_eq(ci->keepalives, 1);
    fw_conninfo_free(ci);
    ci = parse_ok("connect_timeout=-5");
    cr_assert_eq(ci->connect_timeout, 0);
    fw_conninfo_free(ci);
    parse_err("connect_timeout=ten", "invalid integer value \"ten\" for connection option \"connect_timeout\"");
    parse_err("connect_timeout=10s", "invalid integer value \"10s\" for connection option \"connect_timeout\"");
    parse_err("connect_timeout=''", "invalid integer value \"\" for connection option \"connect_timeout\"");
    parse_err("connect_timeout=99999999999", "invalid integer value \"99999999999\" for connection option \"connect_timeout\"");
    parse_err("keepalives=on", "invalid integer value \"on\" for connection option \"keepalives\"");
    parse_err("keepalives_count=x", "invalid integer value \"x\" for connection option \"keepalives_count\"");
}

Test(conninfo_values, tcp_user_timeout)
{
    fw_conninfo *ci = parse_ok("tcp_user_timeout=2500");

    cr_assert_eq(ci->tcp_user_timeout, 2500);
    cr_assert_str_eq(fw_conninfo_get(ci, "tcp_user_timeout"), "2500");
    fw_conninfo_free(ci);
    ci = parse_ok("postgresql://h/d?tcp_user_timeout=-1");
    cr_assert_eq(ci->tcp_user_timeout, 0, "negative: the system default");
    fw_conninfo_free(ci);
    ci = parse_ok("");
    cr_assert_eq(ci->tcp_user_timeout, 0);
    fw_conninfo_free(ci);
    parse_err("tcp_user_timeout=1s", "invalid integer value \"1s\" for connection option \"tcp_user_timeout\"");
}

Test(conninfo_values, sslsni)
{
    fw_conninfo *ci = parse_ok("sslsni=0");
    cr_assert_eq(ci->sslsni, 0);
    fw_conninfo_free(ci);
}

/* ---------------------------------------------------------------- host lists */

Test(conninfo_hosts, one_port_for_all_hosts)
{
    fw_conninfo *ci = parse_ok("host=a,b,c port=6000");
    cr_assert_eq(ci->nhosts, 3);
    for (size_t i = 0; i < 3; i++)
        cr_assert_eq(ci->hosts[i].port, 6000);
    cr_assert_str_eq(ci->hosts[2].host, "c");
    fw_conninfo_free(ci);
}

Test(conninfo_hosts, one_port_per_host_and_empty_entries)
{
    fw_conninfo *ci = parse_ok("host=a,/tmp,,b port=1,2,,4");
    cr_assert_eq(ci->nhosts, 4);
    cr_assert_str_eq(ci->hosts[0].host, "a");
    cr_assert_eq(ci->hosts[0].port, 1);
    cr_assert_eq(ci->hosts[0].is_unix, 0);
    cr_assert_str_eq(ci->hosts[1].host, "/tmp");
    cr_assert_eq(ci->hosts[1].is_unix, 1);
    cr_assert_eq(ci->hosts[1].port, 2);
    cr_assert_str_eq(ci->hosts[2].host, default_host());
    cr_assert_eq(ci->hosts[2].port, 5432);
    cr_assert_eq(ci->hosts[3].port, 4);
    cr_assert_null(ci->hosts[3].hostaddr);
    fw_conninfo_free(ci);
}

Test(conninfo_hosts, hostaddr)
{
    fw_conninfo *ci = parse_ok("host=db1,db2 hostaddr=10.0.0.1,::1 port=5433");
    cr_assert_eq(ci->nhosts, 2);
    cr_assert_str_eq(ci->hosts[0].host, "db1");
    cr_assert_str_eq(ci->hosts[0].hostaddr, "10.0.0.1");
    cr_assert_str_eq(ci->hosts[1].hostaddr, "::1");
    cr_assert_eq(ci->hosts[1].port, 5433);
    fw_conninfo_free(ci);
    /* hostaddr alone: no default host; the address stands for the name. */
    ci = parse_ok("hostaddr=127.0.0.1");
    expect(ci, "host", NULL);
    expect(ci, "hostaddr", "127.0.0.1");
    cr_assert_eq(ci->nhosts, 1);
    cr_assert_str_eq(ci->hosts[0].host, "127.0.0.1");
    cr_assert_eq(ci->hosts[0].is_unix, 0);
    fw_conninfo_free(ci);
    /* An empty hostaddr entry uses that entry's host name. */
    ci = parse_ok("host=a,/tmp hostaddr=10.1.1.1,");
    cr_assert_str_eq(ci->hosts[0].hostaddr, "10.1.1.1");
    cr_assert_null(ci->hosts[1].hostaddr);
    cr_assert_eq(ci->hosts[1].is_unix, 1);
    fw_conninfo_free(ci);
}

Test(conninfo_hosts, errors)
{
    parse_err("host=a,b,c port=1,2", "could not match 2 port numbers to 3 hosts");
    parse_err("host=a port=1,2", "could not match 2 port numbers to 1 hosts");
    parse_err("host=a,b hostaddr=10.0.0.1", "could not match 2 host names to 1 hostaddr values");
    parse_err("hostaddr=db.example.com", "could not parse network address \"db.example.com\"");
    parse_err("port=0", "invalid port number: \"0\"");
    parse_err("port=65536", "invalid port number: \"65536\"");
    parse_err("host=a,b port=1,x", "invalid integer value \"x\" for connection option \"port\"");
    parse_err("postgresql://h:54x/d", "invalid integer value \"54x\" for connection option \"port\"");
    parse_err("host=@abstract", "host \"@abstract\": abstract Unix-domain sockets are not supported");
}

/* ------------------------------------------- libpq keywords we do not store */

Test(conninfo_libpq_keywords, accepted_and_ignored)
{
    fw_conninfo *ci = parse_ok("gssencmode=disable krbsrvname=postgres gsslib=gssapi "
                               "sslcompression=0 client_encoding=UTF8 replication=false host=h");
    expect(ci, "host", "h");
    fw_conninfo_free(ci);
    ci = parse_ok("postgresql://h/d?gssencmode=prefer&client_encoding=auto");
    expect(ci, "dbname", "d");
    fw_conninfo_free(ci);
}

Test(conninfo_libpq_keywords, requiressl)
{
    fw_conninfo *ci = parse_ok("requiressl=1");
    expect(ci, "sslmode", "require");
    fw_conninfo_free(ci);
    ci = parse_ok("requiressl=1 sslmode=disable");
    expect(ci, "sslmode", "disable");
    fw_conninfo_free(ci);
    ci = parse_ok("requiressl=0");
    expect(ci, "sslmode", "prefer");
    fw_conninfo_free(ci);
}

Test(conninfo_libpq_keywords, what_we_cannot_honour_is_an_error)
{
    parse_err("gssencmode=require", "gssencmode value \"require\" is not supported: this client "
                                    "has no GSSAPI support");
    parse_err("gssencmode=maybe", "invalid gssencmode value: \"maybe\"; valid values are disable, "
                                  "prefer, require");
    parse_err("client_encoding=LATIN1", "client_encoding \"LATIN1\" is not supported: this client "
                                        "always uses UTF8");
    parse_err("replication=database", "replication connections are not supported "
                                      "(replication=\"database\")");
    parse_err("service=mydb", "connection option \"service\" is not supported by fraiseql_wire");
    parse_err("requirepeer=postgres", "connection option \"requirepeer\" is not supported by fraiseql_wire");
    parse_err("postgresql://h/d?sslpassword=x", "connection option \"sslpassword\" is not supported by fraiseql_wire");
}

/* ------------------------------------------------------------ the accessors */

Test(conninfo_api, iteration_in_enum_order)
{
    fw_conninfo *ci = parse_ok("host=h password=pw");
    cr_assert_eq(fw_conninfo_count(ci), (size_t)FW_CI__COUNT);
    const char *v = "sentinel";
    cr_assert_str_eq(fw_conninfo_keyword(ci, 0, &v), "host");
    cr_assert_str_eq(v, "h");
    cr_assert_str_eq(fw_conninfo_keyword(ci, FW_CI_PASSWORD, &v), "password");
    cr_assert_str_eq(v, "pw");
    cr_assert_str_eq(fw_conninfo_keyword(ci, FW_CI_HOSTADDR, &v), "hostaddr");
    cr_assert_null(v);
    cr_assert_str_eq(fw_conninfo_keyword(ci, FW_CI__COUNT - 1, NULL), "target_session_attrs");
    v = "sentinel";
    cr_assert_null(fw_conninfo_keyword(ci, FW_CI__COUNT, &v));
    cr_assert_null(v);
    for (int k = 0; k < FW_CI__COUNT; k++) {
        cr_assert_str_eq(fw_conninfo_keyword(ci, (size_t)k, NULL), fw_ci_key_name((fw_ci_key)k));
        cr_assert_eq(fw_ci_key_lookup(fw_ci_key_name((fw_ci_key)k)), k);
    }
    cr_assert_null(fw_conninfo_get(ci, "nonsense"));
    cr_assert_null(fw_conninfo_get(ci, NULL));
    cr_assert_eq(fw_ci_key_lookup("gssencmode"), -1);
    fw_conninfo_free(ci);
}

Test(conninfo_api, null_handles)
{
    fw_conninfo_free(NULL);
    cr_assert_null(fw_conninfo_error_message(NULL));
    cr_assert_null(fw_conninfo_get(NULL, "host"));
    cr_assert_eq(fw_conninfo_count(NULL), 0);
    const char *v = "x";
    cr_assert_null(fw_conninfo_keyword(NULL, 0, &v));
    cr_assert_null(v);
    cr_assert_eq(fw_conninfo_parse("host=h", 0, NULL), FW_ERR_USAGE);
}

/* ------------------------------------------ PQconnectdbParams-style parsing */

static fw_conninfo *
params_ok(const char *const *kw, const char *const *val, int expand)
{
    fw_conninfo *ci = NULL;
    fw_status st = fw_conninfo_parse_params(kw, val, expand, FW_CONNINFO_NO_ENV, &ci);
    cr_assert_not_null(ci);
    cr_assert_eq(st, FW_OK, "%s", fw_conninfo_error_message(ci));
    return ci;
}

Test(conninfo_params, expanded_dbname_overrides_earlier_entries_only)
{
    const char *kw[] = {"host", "port", "dbname", "user", NULL};
    const char *val[] = {"early", "1111", "postgresql://uri-host:2222/uridb?user=uriuser", "late", NULL};
    fw_conninfo *ci = params_ok(kw, val, 1);
    expect(ci, "host", "uri-host");
    expect(ci, "port", "2222");
    expect(ci, "dbname", "uridb");
    expect(ci, "user", "late");
    fw_conninfo_free(ci);

    const char *val2[] = {"h", NULL, "host=kv port=3333", "", NULL};
    ci = params_ok(kw, val2, 1);
    expect(ci, "host", "kv");
    expect(ci, "port", "3333");
    fw_conninfo_free(ci);

    /* Without expansion, or a plain name, dbname is just a name. */
    ci = params_ok(kw, val2, 0);
    expect(ci, "dbname", "host=kv port=3333");
    expect(ci, "host", "h");
    fw_conninfo_free(ci);

    /* Only the first dbname is expanded. */
    const char *kw3[] = {"dbname", "dbname", NULL};
    const char *val3[] = {"plain", "host=x", NULL};
    ci = params_ok(kw3, val3, 1);
    expect(ci, "dbname", "host=x");
    expect(ci, "host", default_host());
    fw_conninfo_free(ci);
}

Test(conninfo_params, errors)
{
    const char *kw[] = {"host", "dbname", NULL};
    const char *val[] = {"h", "host=a nope=1", NULL};
    fw_conninfo *ci = NULL;
    cr_assert_eq(fw_conninfo_parse_params(kw, val, 1, FW_CONNINFO_NO_ENV, &ci), FW_ERR_CONFIG);
    cr_assert_str_eq(fw_conninfo_error_message(ci), "invalid connection option \"nope\"");
    fw_conninfo_free(ci);
    const char *kw2[] = {"colour", NULL};
    const char *val2[] = {"blue", NULL};
    cr_assert_eq(fw_conninfo_parse_params(kw2, val2, 1, FW_CONNINFO_NO_ENV, &ci), FW_ERR_CONFIG);
    cr_assert_str_eq(fw_conninfo_error_message(ci), "invalid connection option \"colour\"");
    fw_conninfo_free(ci);
}
