/*
 * conninfo.h — connection parameters with libpq's syntax and meaning.
 *
 * conninfo.c parses postgresql:// URIs and keyword=value strings, applies the
 * PG* environment variables and the defaults, and splits multi-host lists;
 * pgpass.c finds a password in ~/.pgpass or PGPASSFILE.  No I/O but reading
 * the environment (and, in pgpass.c, the password file).
 */
#ifndef FW_CONNINFO_H
#define FW_CONNINFO_H

#include <stddef.h>

#include "fraiseql_wire.h"

/* Every keyword the client understands; an unknown keyword is an error. */
typedef enum fw_ci_key {
    FW_CI_HOST,
    FW_CI_HOSTADDR,
    FW_CI_PORT,
    FW_CI_DBNAME,
    FW_CI_USER,
    FW_CI_PASSWORD,
    FW_CI_PASSFILE,
    FW_CI_CONNECT_TIMEOUT,
    FW_CI_APPLICATION_NAME,
    FW_CI_FALLBACK_APPLICATION_NAME,
    FW_CI_OPTIONS,
    FW_CI_KEEPALIVES,
    FW_CI_KEEPALIVES_IDLE,
    FW_CI_KEEPALIVES_INTERVAL,
    FW_CI_KEEPALIVES_COUNT,
    FW_CI_TCP_USER_TIMEOUT,
    FW_CI_SSLMODE,
    FW_CI_SSLROOTCERT,
    FW_CI_SSLCERT,
    FW_CI_SSLKEY,
    FW_CI_SSLCRL,
    FW_CI_SSLSNI,
    FW_CI_CHANNEL_BINDING,
    FW_CI_TARGET_SESSION_ATTRS,
    FW_CI__COUNT
} fw_ci_key;

typedef enum fw_sslmode {
    FW_SSL_DISABLE, FW_SSL_ALLOW, FW_SSL_PREFER, FW_SSL_REQUIRE, FW_SSL_VERIFY_CA, FW_SSL_VERIFY_FULL
} fw_sslmode;

typedef enum fw_cbind_mode { FW_CBIND_DISABLE, FW_CBIND_PREFER, FW_CBIND_REQUIRE } fw_cbind_mode;

typedef enum fw_target_attrs {
    FW_TARGET_ANY, FW_TARGET_READ_WRITE, FW_TARGET_READ_ONLY,
    FW_TARGET_PRIMARY, FW_TARGET_STANDBY, FW_TARGET_PREFER_STANDBY
} fw_target_attrs;

/* One entry of the host list after splitting host/hostaddr/port on commas. */
typedef struct fw_ci_host {
    char *host;       /* name, IP literal, or Unix socket directory (starts with '/');
                         never NULL: the hostaddr when only that was given (as
                         libpq's PQhost), the default host when neither was */
    char *hostaddr;   /* NULL unless given */
    int port;
    int is_unix;      /* host is a socket directory */
} fw_ci_host;

struct fw_conninfo {
    char *values[FW_CI__COUNT];  /* after defaults; NULL = unset; owned */
    char *error;                 /* parse error, or NULL; owned */
    /* Derived, checked values: */
    fw_ci_host *hosts;
    size_t nhosts;
    int connect_timeout;         /* seconds, 0 = none */
    fw_sslmode sslmode;
    fw_cbind_mode channel_binding;
    fw_target_attrs target;
    int keepalives;              /* 0/1 */
    int keepalives_idle, keepalives_interval, keepalives_count; /* 0 = system default */
    int tcp_user_timeout;        /* ms of unacknowledged data before the kernel drops the
                                    connection (TCP_USER_TIMEOUT); 0 = system default */
    int sslsni;                  /* 1 = send the server name (SNI) in the TLS hello */
};

/*
 * Built-in defaults.  The host default is the socket directory when it exists
 * (libpq's Debian build uses the same one), else "localhost" over TCP.
 */
#define FW_CI_DEFAULT_PORT 5432
#define FW_CI_DEFAULT_SOCKET_DIR "/var/run/postgresql"

/* The enum value of a keyword name, or -1 when it is not one of ours. */
int fw_ci_key_lookup(const char *name);

/* fw_conninfo_parse_params (PQconnectdbParams' analogue) is public:
 * fraiseql_wire.h. */

/*
 * The user's home directory: $HOME when set and not empty, else the
 * password database's entry for the effective user.  Malloc'd, or NULL.
 */
char *fw_ci_home_dir(void);

/* A deep copy of ci (NULL when memory runs out).  Owned: fw_conninfo_free. */
fw_conninfo *fw_conninfo_dup(const fw_conninfo *ci);

/* The keyword's name ("host", …). */
const char *fw_ci_key_name(fw_ci_key key);

/*
 * The password for one host from the password file: `passfile` (the passfile
 * keyword, which fw_conninfo_parse fills from PGPASSFILE), or ~/.pgpass when
 * it is NULL or empty.  Lines are host:port:database:username:password with
 * '*' matching any field and \: \\ escapes.  host NULL or empty, or equal to
 * FW_CI_DEFAULT_SOCKET_DIR, is looked up as "localhost" (libpq's rule).
 * A missing file is no password and no warning; a file that is not a plain
 * file, or readable by group or others, is ignored with *warning set to a
 * malloc'd message (without a "WARNING: " prefix, never with the password)
 * that the caller prints or frees.  *warning is NULL otherwise (warning may
 * be NULL).  Returns a malloc'd password, or NULL (also for an empty one).
 */
char *fw_pgpass_lookup(const char *passfile, const char *host, int port, const char *dbname,
                       const char *user, char **warning);

/*
 * The password file's password for a connection to h (one of ci->hosts)
 * with ci's parameters, libpq's rule, used by authentication: the host
 * name when given, else the hostaddr, is the key (no host and the default
 * socket directory are "localhost", fw_pgpass_lookup); h's port; the
 * database name, which defaults to the user name; ci's user and passfile.
 * NULL when ci already has a password.
 */
char *fw_pgpass_for_host(const fw_conninfo *ci, const fw_ci_host *h, char **warning);

#endif /* FW_CONNINFO_H */
