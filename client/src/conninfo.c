/*
 * conninfo.c — connection strings with libpq's syntax and meaning.
 *
 * A string is either a postgresql:// (or postgres://) URI or keyword=value
 * pairs (libpq-connect.html, 34.1.1).  Parsing fills a set of raw values
 * where the last setting of a keyword wins; then the PG* environment
 * variables fill what is still unset, then the built-in defaults; last, the
 * values that the connection code needs are checked and derived (host list,
 * ports, enums, timeouts).  Any error leaves a handle with only the message.
 *
 * Messages follow libpq's wording, except that nothing that may be a
 * password is ever quoted back.
 */
#include "conninfo.h"
#include "crypto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- keywords */

typedef struct ci_keyword {
    const char *name;
    const char *envvar;   /* NULL: no environment variable */
} ci_keyword;

static const ci_keyword ci_keywords[FW_CI__COUNT] = {
    [FW_CI_HOST] = {"host", "PGHOST"},
    [FW_CI_HOSTADDR] = {"hostaddr", "PGHOSTADDR"},
    [FW_CI_PORT] = {"port", "PGPORT"},
    [FW_CI_DBNAME] = {"dbname", "PGDATABASE"},
    [FW_CI_USER] = {"user", "PGUSER"},
    [FW_CI_PASSWORD] = {"password", "PGPASSWORD"},
    [FW_CI_PASSFILE] = {"passfile", "PGPASSFILE"},
    [FW_CI_CONNECT_TIMEOUT] = {"connect_timeout", "PGCONNECT_TIMEOUT"},
    [FW_CI_APPLICATION_NAME] = {"application_name", "PGAPPNAME"},
    [FW_CI_FALLBACK_APPLICATION_NAME] = {"fallback_application_name", NULL},
    [FW_CI_OPTIONS] = {"options", "PGOPTIONS"},
    [FW_CI_KEEPALIVES] = {"keepalives", NULL},
    [FW_CI_KEEPALIVES_IDLE] = {"keepalives_idle", NULL},
    [FW_CI_KEEPALIVES_INTERVAL] = {"keepalives_interval", NULL},
    [FW_CI_KEEPALIVES_COUNT] = {"keepalives_count", NULL},
    [FW_CI_TCP_USER_TIMEOUT] = {"tcp_user_timeout", NULL},
    [FW_CI_SSLMODE] = {"sslmode", "PGSSLMODE"},
    [FW_CI_SSLROOTCERT] = {"sslrootcert", "PGSSLROOTCERT"},
    [FW_CI_SSLCERT] = {"sslcert", "PGSSLCERT"},
    [FW_CI_SSLKEY] = {"sslkey", "PGSSLKEY"},
    [FW_CI_SSLCRL] = {"sslcrl", "PGSSLCRL"},
    [FW_CI_SSLSNI] = {"sslsni", "PGSSLSNI"},
    [FW_CI_CHANNEL_BINDING] = {"channel_binding", "PGCHANNELBINDING"},
    [FW_CI_TARGET_SESSION_ATTRS] = {"target_session_attrs", "PGTARGETSESSIONATTRS"},
};

/*
 * libpq keywords we accept without storing them, because what they ask for
 * is what this client does anyway (no GSSAPI, always UTF8, never
 * replication, no compression).  A value that asks for something else is an
 * error.
 */
static const char *const ci_ignored[] = {
    "gssencmode", "krbsrvname", "gsslib", "sslcompression", "client_encoding", "replication",
    "requiressl", NULL
};

/* libpq keywords whose meaning we do not implement: an error, not silence. */
static const char *const ci_unsupported[] = {
    "service", "sslpassword", "sslcrldir", "requirepeer", "ssl_min_protocol_version",
    "ssl_max_protocol_version", NULL
};

const char *
fw_ci_key_name(fw_ci_key key)
{
    if ((int)key < 0 || key >= FW_CI__COUNT)
        return NULL;
    return ci_keywords[key].name;
}

int
fw_ci_key_lookup(const char *name)
{
    if (name == NULL)
        return -1;
    for (int k = 0; k < FW_CI__COUNT; k++)
        if (strcmp(ci_keywords[k].name, name) == 0)
            return k;
    return -1;
}

static int
ci_in_list(const char *const *list, const char *name)
{
    for (; *list != NULL; list++)
        if (strcmp(*list, name) == 0)
            return 1;
    return 0;
}

/* ------------------------------------------------------------- raw values */

typedef struct ci_raw {
    char *vals[FW_CI__COUNT];
    int requiressl;      /* requiressl=1 was given */
    char *err;           /* first error, malloc'd */
    int oom;
} ci_raw;

static void
ci_raw_free(ci_raw *r)
{
    for (int k = 0; k < FW_CI__COUNT; k++) {
        if (k == FW_CI_PASSWORD && r->vals[k] != NULL)
            fw_secure_zero(r->vals[k], strlen(r->vals[k]));
        free(r->vals[k]);
        r->vals[k] = NULL;
    }
    free(r->err);
    r->err = NULL;
}

/* Records the first error; returns -1 so that callers can `return ci_fail(…)`. */
__attribute__((format(printf, 2, 3))) static int
ci_fail(ci_raw *r, const char *fmt, ...)
{
    if (r->err != NULL || r->oom)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        r->oom = 1;
        return -1;
    }
    r->err = malloc((size_t)n + 1);
    if (r->err == NULL) {
        r->oom = 1;
        return -1;
    }
    va_start(ap, fmt);
    vsnprintf(r->err, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return -1;
}

/* Frees a copy of the input, which may hold a password. */
static void
ci_wipe_free(char *s)
{
    if (s == NULL)
        return;
    fw_secure_zero(s, strlen(s));   /* memset before free is a dead store */
    free(s);
}

static int
ci_oom(ci_raw *r)
{
    r->oom = 1;
    return -1;
}

static int
ci_set(ci_raw *r, int k, const char *val)
{
    char *copy = strdup(val);
    if (copy == NULL)
        return ci_oom(r);
    free(r->vals[k]);
    r->vals[k] = copy;
    return 0;
}

/* The value checks of the accepted-and-ignored keywords. */
static int
ci_check_ignored(ci_raw *r, const char *kw, const char *val)
{
    if (strcmp(kw, "gssencmode") == 0) {
        if (strcmp(val, "require") == 0)
            return ci_fail(r, "gssencmode value \"require\" is not supported: "
                              "this client has no GSSAPI support");
        if (strcmp(val, "disable") != 0 && strcmp(val, "prefer") != 0)
            return ci_fail(r, "invalid gssencmode value: \"%s\"; "
                              "valid values are disable, prefer, require", val);
    } else if (strcmp(kw, "client_encoding") == 0) {
        if (strcasecmp(val, "UTF8") != 0 && strcasecmp(val, "UTF-8") != 0 &&
            strcasecmp(val, "UNICODE") != 0 && strcasecmp(val, "auto") != 0)
            return ci_fail(r, "client_encoding \"%s\" is not supported: "
                              "this client always uses UTF8", val);
    } else if (strcmp(kw, "replication") == 0) {
        if (strcasecmp(val, "false") != 0 && strcasecmp(val, "off") != 0 &&
            strcasecmp(val, "no") != 0 && strcmp(val, "0") != 0)
            return ci_fail(r, "replication connections are not supported "
                              "(replication=\"%s\")", val);
    } else if (strcmp(kw, "requiressl") == 0) {
        /* Deprecated; libpq's tradition: a value starting with 1 means require. */
        r->requiressl = val[0] == '1';
    }
    return 0;
}

/* Stores one keyword's value: known, ignored, unsupported or unknown. */
static int
ci_store(ci_raw *r, const char *kw, const char *val, int from_uri)
{
    int k = fw_ci_key_lookup(kw);
    if (k >= 0)
        return ci_set(r, k, val);
    if (ci_in_list(ci_ignored, kw))
        return ci_check_ignored(r, kw, val);
    if (ci_in_list(ci_unsupported, kw))
        return ci_fail(r, "connection option \"%s\" is not supported by fraiseql_wire", kw);
    if (from_uri)
        return ci_fail(r, "invalid URI query parameter: \"%s\"", kw);
    return ci_fail(r, "invalid connection option \"%s\"", kw);
}

/* ------------------------------------------------------ keyword=value form */

static int
ci_isspace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * keyword = value pairs separated by whitespace; values may be single-quoted;
 * a backslash escapes the next character in quoted and unquoted values alike.
 */
static int
ci_parse_kv(ci_raw *r, const char *conninfo)
{
    size_t buflen = strlen(conninfo);
    char *buf = strdup(conninfo);
    if (buf == NULL)
        return ci_oom(r);
    char *cp = buf;
    int after_password = 0;
    int rc = 0;

    while (*cp != '\0') {
        if (ci_isspace(*cp)) {
            cp++;
            continue;
        }
        char *kw = cp;
        while (*cp != '\0' && *cp != '=' && !ci_isspace(*cp))
            cp++;
        char *kwend = cp;
        while (ci_isspace(*cp))
            cp++;
        if (*cp != '=') {
            *kwend = '\0';
            /* An unquoted password with a space in it would be echoed here. */
            if (after_password)
                rc = ci_fail(r, "missing \"=\" after the password value in connection info "
                                "string (quote a value that contains spaces)");
            else
                rc = ci_fail(r, "missing \"=\" after \"%s\" in connection info string", kw);
            break;
        }
        *kwend = '\0';
        cp++;
        while (ci_isspace(*cp))
            cp++;

        char *val = cp, *out = cp;
        if (*cp == '\'') {
            cp++;
            for (;;) {
                if (*cp == '\0') {
                    rc = ci_fail(r, "unterminated quoted string in connection info string");
                    break;
                }
                if (*cp == '\\') {
                    cp++;
                    if (*cp != '\0')
                        *out++ = *cp++;
                    continue;
                }
                if (*cp == '\'') {
                    cp++;
                    break;
                }
                *out++ = *cp++;
            }
            if (rc != 0)
                break;
            *out = '\0';
        } else {
            while (*cp != '\0' && !ci_isspace(*cp)) {
                if (*cp == '\\') {
                    cp++;
                    if (*cp != '\0')
                        *out++ = *cp++;
                } else {
                    *out++ = *cp++;
                }
            }
            if (*cp != '\0')
                cp++;   /* the separating space; `out` may sit on it */
            *out = '\0';
        }
        if (kw[0] == '\0') {
            rc = ci_fail(r, "missing keyword before \"=\" in connection info string");
            break;
        }
        /* After an unquoted password, an unknown "keyword" is likely the
         * rest of that password: do not quote it. */
        if (after_password && fw_ci_key_lookup(kw) < 0 && !ci_in_list(ci_ignored, kw) &&
            !ci_in_list(ci_unsupported, kw)) {
            rc = ci_fail(r, "invalid connection option after the password value "
                            "(quote a value that contains spaces)");
            break;
        }
        if (ci_store(r, kw, val, 0) != 0) {
            rc = -1;
            break;
        }
        after_password = strcmp(kw, "password") == 0;
    }
    /* The parse wrote NULs into buf: wipe all of it, not up to the first. */
    fw_secure_zero(buf, buflen);
    free(buf);
    return rc;
}

/* ---------------------------------------------------------------- URI form */

static const char *const ci_uri_prefixes[] = {"postgresql://", "postgres://", NULL};

static size_t
ci_uri_prefix_len(const char *s)
{
    for (int i = 0; ci_uri_prefixes[i] != NULL; i++) {
        size_t n = strlen(ci_uri_prefixes[i]);
        if (strncmp(s, ci_uri_prefixes[i], n) == 0)
            return n;
    }
    return 0;
}

static int
ci_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Percent-decodes s into a malloc'd string.  `what` names the part for
 * messages; a secret part (the password) is never quoted.
 */
static char *
ci_uri_decode(ci_raw *r, const char *s, int secret)
{
    char *out = malloc(strlen(s) + 1);
    if (out == NULL) {
        ci_oom(r);
        return NULL;
    }
    char *o = out;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p != '%') {
            *o++ = *p;
            continue;
        }
        int hi = ci_hexval(p[1]);
        int lo = hi < 0 ? -1 : ci_hexval(p[2]);
        if (hi < 0 || lo < 0) {
            if (secret)
                ci_fail(r, "invalid percent-encoded token in the password of the URI");
            else
                ci_fail(r, "invalid percent-encoded token: \"%s\"", s);
            free(out);
            return NULL;
        }
        int c = hi * 16 + lo;
        if (c == 0) {
            if (secret)
                ci_fail(r, "forbidden value %%00 in the password of the URI");
            else
                ci_fail(r, "forbidden value %%00 in percent-encoded value: \"%s\"", s);
            free(out);
            return NULL;
        }
        *o++ = (char)c;
        p += 2;
    }
    *o = '\0';
    return out;
}

static int
ci_store_decoded(ci_raw *r, const char *kw, const char *val, int secret)
{
    char *d = ci_uri_decode(r, val, secret);
    if (d == NULL)
        return -1;
    int rc = ci_store(r, kw, d, 1);
    ci_wipe_free(d);
    return rc;
}

/*
 * The URI for messages: the password (between ':' and '@' in the userinfo)
 * replaced by asterisks, and the query part (which may carry password=…)
 * replaced by "?...": the messages that show it are about the host part.
 * Malloc'd, or NULL when memory ran out.
 */
static char *
ci_uri_redacted(const char *uri, size_t prefix)
{
    const char *start = uri + prefix;
    const char *at = start;
    while (*at != '\0' && *at != '@' && *at != '/')
        at++;
    const char *colon = NULL;
    if (*at == '@')
        colon = memchr(start, ':', (size_t)(at - start));
    const char *mask = "********";
    size_t head = colon != NULL ? (size_t)(colon + 1 - uri) : 0;
    const char *rest = colon != NULL ? at : uri;
    const char *query = strchr(colon != NULL ? at : start, '?');
    size_t tail = query != NULL ? (size_t)(query - rest) : strlen(rest);
    char *out = malloc(head + strlen(mask) + tail + sizeof "?...");
    if (out == NULL)
        return NULL;
    char *o = out;
    if (colon != NULL) {
        memcpy(o, uri, head);
        o += head;
        memcpy(o, mask, strlen(mask));
        o += strlen(mask);
    }
    memcpy(o, rest, tail);
    o += tail;
    if (query != NULL) {
        memcpy(o, "?...", 4);
        o += 4;
    }
    *o = '\0';
    return out;
}

/* name=value[&…]: every name must be a keyword; ssl=true means sslmode=require. */
static int
ci_parse_uri_params(ci_raw *r, char *params)
{
    char *p = params;
    while (*p != '\0') {
        char *seg = p;
        while (*p != '\0' && *p != '&')
            p++;
        if (*p == '&')
            *p++ = '\0';
        if (*seg == '\0')
            continue;   /* empty parameter (a&&b, a trailing &) */
        char *eq = strchr(seg, '=');
        if (eq == NULL)
            return ci_fail(r, "missing key/value separator \"=\" in URI query parameter: \"%s\"",
                           seg);
        *eq = '\0';
        char *val = eq + 1;
        if (strchr(val, '=') != NULL)
            return ci_fail(r, "extra key/value separator \"=\" in URI query parameter: \"%s\"",
                           seg);
        char *kw = ci_uri_decode(r, seg, 0);
        if (kw == NULL)
            return -1;
        int secret = strcmp(kw, "password") == 0;
        char *dv = ci_uri_decode(r, val, secret);
        if (dv == NULL) {
            free(kw);
            return -1;
        }
        int rc;
        if (strcmp(kw, "ssl") == 0 && strcmp(dv, "true") == 0)
            rc = ci_store(r, "sslmode", "require", 1);
        else
            rc = ci_store(r, kw, dv, 1);
        free(kw);
        ci_wipe_free(dv);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* A growable string for the host and port lists of a URI. */
typedef struct ci_sbuf {
    char *s;
    size_t len, cap;
} ci_sbuf;

static int
ci_sbuf_add(ci_sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *ns = realloc(b->s, cap);
        if (ns == NULL)
            return -1;
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
    return 0;
}

/*
 * postgresql://[user[:password]@][host[:port][,…]][/dbname][?name=value[&…]]
 * Every part is percent-decoded; host lists become host=h1,h2 port=p1,p2.
 */
static int
ci_parse_uri(ci_raw *r, const char *uri, size_t prefix)
{
    size_t buflen = strlen(uri + prefix);
    char *buf = strdup(uri + prefix);
    char *shown = ci_uri_redacted(uri, prefix);
    ci_sbuf hosts = {0}, ports = {0};
    int rc = -1;
    if (buf == NULL || shown == NULL) {
        ci_oom(r);
        goto done;
    }

    char *p = buf;
    /* userinfo: everything up to an '@' that comes before any '/' (libpq
     * does not stop at '?': postgresql://h?x@y has the user "h?x"). */
    while (*p != '\0' && *p != '@' && *p != '/')
        p++;
    if (*p == '@') {
        char *user = buf;
        *p++ = '\0';
        char *colon = strchr(user, ':');
        if (colon != NULL)
            *colon = '\0';
        if (*user != '\0' && ci_store_decoded(r, "user", user, 0) != 0)
            goto done;
        if (colon != NULL && colon[1] != '\0' && ci_store_decoded(r, "password", colon + 1, 1) != 0)
            goto done;
    } else {
        p = buf;
    }

    /* host[:port] pairs separated by commas; an IPv6 literal in brackets. */
    char prevchar;
    for (;;) {
        char *host;
        if (*p == '[') {
            host = ++p;
            while (*p != '\0' && *p != ']')
                p++;
            if (*p == '\0') {
                ci_fail(r, "end of string reached when looking for matching \"]\" in IPv6 host "
                           "address in URI: \"%s\"", shown);
                goto done;
            }
            if (p == host) {
                ci_fail(r, "IPv6 host address may not be empty in URI: \"%s\"", shown);
                goto done;
            }
            *p++ = '\0';
            if (*p != '\0' && *p != ':' && *p != '/' && *p != '?' && *p != ',') {
                ci_fail(r, "unexpected character \"%c\" at position %d in URI (expected \":\" "
                           "or \"/\"): \"%s\"", *p, (int)(p - buf + prefix + 1), shown);
                goto done;
            }
        } else {
            host = p;
            while (*p != '\0' && *p != ':' && *p != '/' && *p != '?' && *p != ',')
                p++;
        }
        prevchar = *p;
        *p = '\0';
        if (ci_sbuf_add(&hosts, host, strlen(host)) != 0) {
            ci_oom(r);
            goto done;
        }
        if (prevchar == ':') {
            char *port = ++p;
            while (*p != '\0' && *p != '/' && *p != '?' && *p != ',')
                p++;
            prevchar = *p;
            *p = '\0';
            if (ci_sbuf_add(&ports, port, strlen(port)) != 0) {
                ci_oom(r);
                goto done;
            }
        }
        if (prevchar != ',')
            break;
        p++;
        if (ci_sbuf_add(&hosts, ",", 1) != 0 || ci_sbuf_add(&ports, ",", 1) != 0) {
            ci_oom(r);
            goto done;
        }
    }
    if (hosts.len > 0 && hosts.s[0] != '\0' && ci_store_decoded(r, "host", hosts.s, 0) != 0)
        goto done;
    if (ports.len > 0 && ports.s[0] != '\0' && ci_store_decoded(r, "port", ports.s, 0) != 0)
        goto done;

    if (prevchar != '\0' && prevchar != '?') {
        /* prevchar is '/': the database name runs to '?' or the end. */
        char *dbname = ++p;
        while (*p != '\0' && *p != '?')
            p++;
        prevchar = *p;
        *p = '\0';
        if (*dbname != '\0' && ci_store_decoded(r, "dbname", dbname, 0) != 0)
            goto done;
    }
    if (prevchar != '\0') {
        if (ci_parse_uri_params(r, p + 1) != 0)
            goto done;
    }
    rc = 0;
done:
    if (buf != NULL)
        fw_secure_zero(buf, buflen);
    free(buf);
    free(shown);
    free(hosts.s);
    free(ports.s);
    return rc;
}

/* A string is a URI when it starts with one of the schemes, else keyword=value. */
static int
ci_parse_string(ci_raw *r, const char *conninfo)
{
    size_t n = ci_uri_prefix_len(conninfo);
    if (n > 0)
        return ci_parse_uri(r, conninfo, n);
    return ci_parse_kv(r, conninfo);
}

/* libpq's test for a dbname that is really a connection string. */
static int
ci_is_connection_string(const char *s)
{
    return ci_uri_prefix_len(s) > 0 || strchr(s, '=') != NULL;
}

/* --------------------------------------------------- environment, defaults */

char *
fw_ci_home_dir(void)
{
    const char *home = getenv("HOME");
    if (home != NULL && home[0] != '\0')
        return strdup(home);
    struct passwd pw, *res = NULL;
    char buf[4096];
    if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &res) != 0 || res == NULL)
        return NULL;
    return strdup(pw.pw_dir);
}

static void
ci_apply_env(ci_raw *r)
{
    for (int k = 0; k < FW_CI__COUNT; k++) {
        if (r->vals[k] != NULL || ci_keywords[k].envvar == NULL)
            continue;
        const char *v = getenv(ci_keywords[k].envvar);
        if (v != NULL && ci_set(r, k, v) != 0)
            return;
    }
    /* PGSSLMODE (applied above) wins over the deprecated PGREQUIRESSL. */
    const char *req = getenv("PGREQUIRESSL");
    if (r->vals[FW_CI_SSLMODE] == NULL && req != NULL && req[0] == '1')
        ci_set(r, FW_CI_SSLMODE, "require");
    /* We cannot do GSSAPI encryption: PGGSSENCMODE=require must not pass silently. */
    const char *gss = getenv("PGGSSENCMODE");
    if (gss != NULL)
        ci_check_ignored(r, "gssencmode", gss);
}

static int
ci_is_empty(const char *s)
{
    return s == NULL || s[0] == '\0';
}

static int
ci_default_socket_dir_exists(void)
{
    struct stat st;
    return stat(FW_CI_DEFAULT_SOCKET_DIR, &st) == 0 && S_ISDIR(st.st_mode);
}

static const char *
ci_default_host(void)
{
    return ci_default_socket_dir_exists() ? FW_CI_DEFAULT_SOCKET_DIR : "localhost";
}

/* Sets key k to ~/.postgresql/file when that file exists (libpq's rule). */
static int
ci_default_file(ci_raw *r, int k, const char *home, const char *file)
{
    if (r->vals[k] != NULL || home == NULL)
        return 0;
    size_t n = strlen(home) + strlen("/.postgresql/") + strlen(file) + 1;
    char *path = malloc(n);
    if (path == NULL)
        return ci_oom(r);
    snprintf(path, n, "%s/.postgresql/%s", home, file);
    struct stat st;
    if (stat(path, &st) == 0)
        r->vals[k] = path;
    else
        free(path);
    return 0;
}

static int
ci_apply_defaults(ci_raw *r)
{
    if (ci_is_empty(r->vals[FW_CI_USER])) {
        struct passwd pw, *res = NULL;
        char buf[4096];
        int e = getpwuid_r(geteuid(), &pw, buf, sizeof buf, &res);
        if (e != 0 || res == NULL)
            return ci_fail(r, "could not look up local user ID %ld: %s", (long)geteuid(),
                           e != 0 ? strerror(e) : "user does not exist");
        if (ci_set(r, FW_CI_USER, pw.pw_name) != 0)
            return -1;
    }
    if (ci_is_empty(r->vals[FW_CI_DBNAME]) && ci_set(r, FW_CI_DBNAME, r->vals[FW_CI_USER]) != 0)
        return -1;
    if (ci_is_empty(r->vals[FW_CI_HOST])) {
        if (ci_is_empty(r->vals[FW_CI_HOSTADDR])) {
            if (ci_set(r, FW_CI_HOST, ci_default_host()) != 0)
                return -1;
        } else {
            free(r->vals[FW_CI_HOST]);
            r->vals[FW_CI_HOST] = NULL;
        }
    }
    if (r->vals[FW_CI_HOSTADDR] != NULL && r->vals[FW_CI_HOSTADDR][0] == '\0') {
        free(r->vals[FW_CI_HOSTADDR]);
        r->vals[FW_CI_HOSTADDR] = NULL;
    }
    if (ci_is_empty(r->vals[FW_CI_PORT])) {
        char port[16];
        snprintf(port, sizeof port, "%d", FW_CI_DEFAULT_PORT);
        if (ci_set(r, FW_CI_PORT, port) != 0)
            return -1;
    }
    static const struct { int key; const char *value; } fixed[] = {
        {FW_CI_SSLMODE, "prefer"},
        {FW_CI_CHANNEL_BINDING, "prefer"},
        {FW_CI_TARGET_SESSION_ATTRS, "any"},
        {FW_CI_KEEPALIVES, "1"},
        {FW_CI_SSLSNI, "1"},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (r->vals[fixed[i].key] == NULL && ci_set(r, fixed[i].key, fixed[i].value) != 0)
            return -1;

    char *home = fw_ci_home_dir();
    int rc = ci_default_file(r, FW_CI_SSLROOTCERT, home, "root.crt");
    if (rc == 0)
        rc = ci_default_file(r, FW_CI_SSLCERT, home, "postgresql.crt");
    if (rc == 0)
        rc = ci_default_file(r, FW_CI_SSLKEY, home, "postgresql.key");
    if (rc == 0)
        rc = ci_default_file(r, FW_CI_SSLCRL, home, "root.crl");
    free(home);
    return rc;
}

/* ------------------------------------------------------- derived values */

/* libpq's parse_int_param: optional spaces, a decimal integer, optional spaces. */
static int
ci_parse_int(ci_raw *r, const char *value, const char *kw, int *out)
{
    const char *p = value;
    while (ci_isspace(*p))
        p++;
    errno = 0;
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p || errno != 0 || v < INT_MIN || v > INT_MAX)
        goto bad;
    while (ci_isspace(*end))
        end++;
    if (*end != '\0')
        goto bad;
    *out = (int)v;
    return 0;
bad:
    return ci_fail(r, "invalid integer value \"%s\" for connection option \"%s\"", value, kw);
}

static int
ci_parse_enum(ci_raw *r, int k, const char *const *names, int *out)
{
    const char *v = r->vals[k];
    for (int i = 0; names[i] != NULL; i++)
        if (strcmp(v, names[i]) == 0) {
            *out = i;
            return 0;
        }
    char list[256] = "";
    for (int i = 0; names[i] != NULL; i++) {
        if (i > 0)
            strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, names[i], sizeof list - strlen(list) - 1);
    }
    return ci_fail(r, "invalid %s value: \"%s\"; valid values are %s", ci_keywords[k].name, v,
                   list);
}

static size_t
ci_count_elems(const char *s)
{
    size_t n = 1;
    for (; *s != '\0'; s++)
        if (*s == ',')
            n++;
    return n;
}

/* The next comma-separated element of *s (malloc'd), advancing *s past it. */
static char *
ci_next_elem(const char **s)
{
    const char *start = *s, *p = start;
    while (*p != '\0' && *p != ',')
        p++;
    char *e = strndup(start, (size_t)(p - start));
    *s = *p == ',' ? p + 1 : p;
    return e;
}

static int
ci_is_ip_literal(const char *s)
{
    unsigned char addr[16];
    return inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1;
}

static int
ci_parse_port(ci_raw *r, const char *s, int *port)
{
    if (s[0] == '\0') {
        *port = FW_CI_DEFAULT_PORT;
        return 0;
    }
    int v;
    if (ci_parse_int(r, s, "port", &v) != 0)
        return -1;
    if (v < 1 || v > 65535)
        return ci_fail(r, "invalid port number: \"%s\"", s);
    *port = v;
    return 0;
}

/* host, hostaddr and port lists → ci->hosts, with libpq's matching rules. */
static int
ci_split_hosts(ci_raw *r, fw_conninfo *ci)
{
    const char *host = r->vals[FW_CI_HOST];
    const char *addr = r->vals[FW_CI_HOSTADDR];
    const char *port = r->vals[FW_CI_PORT];
    /* After the defaults, host is unset only when hostaddr is set. */
    size_t n = addr != NULL ? ci_count_elems(addr) : host != NULL ? ci_count_elems(host) : 1;
    if (addr != NULL && host != NULL && ci_count_elems(host) != n)
        return ci_fail(r, "could not match %zu host names to %zu hostaddr values",
                       ci_count_elems(host), n);
    size_t nports = ci_count_elems(port);
    if (nports != 1 && nports != n)
        return ci_fail(r, "could not match %zu port numbers to %zu hosts", nports, n);

    ci->hosts = calloc(n, sizeof *ci->hosts);
    if (ci->hosts == NULL)
        return ci_oom(r);
    ci->nhosts = n;
    const char *hs = host, *as = addr, *ps = port;
    int one_port = 0;
    if (nports == 1 && ci_parse_port(r, port, &one_port) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        fw_ci_host *h = &ci->hosts[i];
        char *he = hs != NULL ? ci_next_elem(&hs) : strdup("");
        char *ae = as != NULL ? ci_next_elem(&as) : strdup("");
        if (he == NULL || ae == NULL) {
            free(he);
            free(ae);
            return ci_oom(r);
        }
        if (ae[0] != '\0') {
            if (!ci_is_ip_literal(ae)) {
                ci_fail(r, "could not parse network address \"%s\"", ae);
                free(he);
                free(ae);
                return -1;
            }
            h->hostaddr = ae;
            if (he[0] != '\0') {
                h->host = he;
            } else {
                free(he);
                h->host = strdup(ae);
            }
        } else {
            free(ae);
            if (he[0] == '\0') {
                free(he);
                he = strdup(ci_default_host());
            }
            h->host = he;
        }
        if (h->host == NULL)
            return ci_oom(r);
        if (h->hostaddr == NULL && h->host[0] == '@')
            return ci_fail(r, "host \"%s\": abstract Unix-domain sockets are not supported",
                           h->host);
        h->is_unix = h->hostaddr == NULL && h->host[0] == '/';
        if (nports == 1) {
            h->port = one_port;
        } else {
            char *pe = ci_next_elem(&ps);
            if (pe == NULL)
                return ci_oom(r);
            int rc = ci_parse_port(r, pe, &h->port);
            free(pe);
            if (rc != 0)
                return -1;
        }
    }
    return 0;
}

static const char *const ci_sslmodes[] = {"disable", "allow", "prefer", "require", "verify-ca",
                                          "verify-full", NULL};
static const char *const ci_cbind_modes[] = {"disable", "prefer", "require", NULL};
static const char *const ci_target_attrs[] = {"any", "read-write", "read-only", "primary",
                                              "standby", "prefer-standby", NULL};

static int
ci_derive(ci_raw *r, fw_conninfo *ci)
{
    int v;
    if (ci_parse_enum(r, FW_CI_SSLMODE, ci_sslmodes, &v) != 0)
        return -1;
    ci->sslmode = (fw_sslmode)v;
    if (ci_parse_enum(r, FW_CI_CHANNEL_BINDING, ci_cbind_modes, &v) != 0)
        return -1;
    ci->channel_binding = (fw_cbind_mode)v;
    if (ci_parse_enum(r, FW_CI_TARGET_SESSION_ATTRS, ci_target_attrs, &v) != 0)
        return -1;
    ci->target = (fw_target_attrs)v;

    /* libpq: zero or negative waits forever; the minimum is 2 seconds. */
    ci->connect_timeout = 0;
    if (r->vals[FW_CI_CONNECT_TIMEOUT] != NULL) {
        if (ci_parse_int(r, r->vals[FW_CI_CONNECT_TIMEOUT], "connect_timeout", &v) != 0)
            return -1;
        ci->connect_timeout = v <= 0 ? 0 : v == 1 ? 2 : v;
    }
    if (ci_parse_int(r, r->vals[FW_CI_KEEPALIVES], "keepalives", &v) != 0)
        return -1;
    ci->keepalives = v != 0;
    static const struct { int key; size_t off; } ka[] = {
        {FW_CI_KEEPALIVES_IDLE, offsetof(fw_conninfo, keepalives_idle)},
        {FW_CI_KEEPALIVES_INTERVAL, offsetof(fw_conninfo, keepalives_interval)},
        {FW_CI_KEEPALIVES_COUNT, offsetof(fw_conninfo, keepalives_count)},
        {FW_CI_TCP_USER_TIMEOUT, offsetof(fw_conninfo, tcp_user_timeout)},
    };
    for (size_t i = 0; i < sizeof ka / sizeof ka[0]; i++) {
        int *field = (int *)((char *)ci + ka[i].off);
        *field = 0;
        if (r->vals[ka[i].key] == NULL)
            continue;
        if (ci_parse_int(r, r->vals[ka[i].key], ci_keywords[ka[i].key].name, &v) != 0)
            return -1;
        *field = v < 0 ? 0 : v;
    }
    ci->sslsni = r->vals[FW_CI_SSLSNI][0] == '1';
    return ci_split_hosts(r, ci);
}

/* ------------------------------------------------------------ public API */

static void
ci_free_hosts(fw_conninfo *ci)
{
    for (size_t i = 0; i < ci->nhosts; i++) {
        free(ci->hosts[i].host);
        free(ci->hosts[i].hostaddr);
    }
    free(ci->hosts);
    ci->hosts = NULL;
    ci->nhosts = 0;
}

/* Environment, defaults and derived values; hands r's contents over to *out. */
static fw_status
ci_finish(ci_raw *r, unsigned flags, fw_conninfo **out)
{
    fw_conninfo *ci = calloc(1, sizeof *ci);
    if (ci == NULL) {
        ci_raw_free(r);
        *out = NULL;
        return FW_ERR_MEMORY;
    }
    if (r->err == NULL && !r->oom) {
        /* The string's requiressl=1 wins over PGSSLMODE; its sslmode over both. */
        if (r->vals[FW_CI_SSLMODE] == NULL && r->requiressl)
            ci_set(r, FW_CI_SSLMODE, "require");
        if (!r->oom && !(flags & FW_CONNINFO_NO_ENV))
            ci_apply_env(r);
        if (r->err == NULL && !r->oom && ci_apply_defaults(r) == 0)
            ci_derive(r, ci);
    }
    if (r->oom) {
        ci_free_hosts(ci);
        free(ci);
        ci_raw_free(r);
        *out = NULL;
        return FW_ERR_MEMORY;
    }
    if (r->err != NULL) {
        ci_free_hosts(ci);
        ci->error = r->err;
        r->err = NULL;
        ci_raw_free(r);
        *out = ci;
        return FW_ERR_CONFIG;
    }
    memcpy(ci->values, r->vals, sizeof ci->values);
    memset(r->vals, 0, sizeof r->vals);
    *out = ci;
    return FW_OK;
}

FW_API fw_status
fw_conninfo_parse(const char *conninfo, unsigned flags, fw_conninfo **out)
{
    if (out == NULL)
        return FW_ERR_USAGE;
    ci_raw r = {0};
    ci_parse_string(&r, conninfo != NULL ? conninfo : "");
    return ci_finish(&r, flags, out);
}

FW_API fw_status
fw_conninfo_parse_params(const char *const *keywords, const char *const *values,
                         int expand_dbname, unsigned flags, fw_conninfo **out)
{
    if (out == NULL)
        return FW_ERR_USAGE;
    if (keywords != NULL && values == NULL) {
        *out = NULL;
        return FW_ERR_USAGE;
    }
    ci_raw r = {0};
    int seen_dbname = 0;
    for (size_t i = 0; keywords != NULL && keywords[i] != NULL; i++) {
        const char *v = values[i];
        if (v == NULL || v[0] == '\0')
            continue;
        int rc;
        if (strcmp(keywords[i], "dbname") == 0 && expand_dbname && !seen_dbname &&
            ci_is_connection_string(v))
            rc = ci_parse_string(&r, v);
        else
            rc = ci_store(&r, keywords[i], v, 0);
        if (strcmp(keywords[i], "dbname") == 0)
            seen_dbname = 1;
        if (rc != 0)
            break;
    }
    return ci_finish(&r, flags, out);
}

FW_API void
fw_conninfo_free(fw_conninfo *ci)
{
    if (ci == NULL)
        return;
    for (int k = 0; k < FW_CI__COUNT; k++) {
        if (k == FW_CI_PASSWORD && ci->values[k] != NULL)
            fw_secure_zero(ci->values[k], strlen(ci->values[k]));
        free(ci->values[k]);
    }
    ci_free_hosts(ci);
    free(ci->error);
    free(ci);
}

fw_conninfo *
fw_conninfo_dup(const fw_conninfo *ci)
{
    fw_conninfo *d = calloc(1, sizeof *d);

    if (d == NULL)
        return NULL;
    *d = *ci;   /* the scalars; every pointer is replaced below */
    memset(d->values, 0, sizeof d->values);
    d->error = NULL;
    d->hosts = NULL;
    d->nhosts = 0;
    for (int k = 0; k < FW_CI__COUNT; k++)
        if (ci->values[k] != NULL && (d->values[k] = strdup(ci->values[k])) == NULL)
            goto oom;
    if (ci->error != NULL && (d->error = strdup(ci->error)) == NULL)
        goto oom;
    if (ci->nhosts > 0) {
        d->hosts = calloc(ci->nhosts, sizeof *d->hosts);
        if (d->hosts == NULL)
            goto oom;
        for (size_t i = 0; i < ci->nhosts; i++) {
            d->nhosts = i + 1;
            d->hosts[i] = ci->hosts[i];
            d->hosts[i].host = NULL;
            d->hosts[i].hostaddr = NULL;
            if ((ci->hosts[i].host && !(d->hosts[i].host = strdup(ci->hosts[i].host))) ||
                (ci->hosts[i].hostaddr && !(d->hosts[i].hostaddr = strdup(ci->hosts[i].hostaddr))))
                goto oom;
        }
    }
    return d;
oom:
    fw_conninfo_free(d);
    return NULL;
}

FW_API const char *
fw_conninfo_error(const fw_conninfo *ci)
{
    return ci != NULL ? ci->error : NULL;
}

FW_API const char *
fw_conninfo_get(const fw_conninfo *ci, const char *keyword)
{
    int k = fw_ci_key_lookup(keyword);
    if (ci == NULL || k < 0)
        return NULL;
    return ci->values[k];
}

FW_API size_t
fw_conninfo_count(const fw_conninfo *ci)
{
    return ci != NULL ? (size_t)FW_CI__COUNT : 0;
}

FW_API const char *
fw_conninfo_keyword(const fw_conninfo *ci, size_t index, const char **value)
{
    if (ci == NULL || index >= (size_t)FW_CI__COUNT) {
        if (value != NULL)
            *value = NULL;
        return NULL;
    }
    if (value != NULL)
        *value = ci->values[index];
    return ci_keywords[index].name;
}
