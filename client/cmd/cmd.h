/*
 * cmd.h — what the parts of the fraiseql-wire command share: the exit
 * statuses, the psql-style connection options, the option-parsing and
 * usage-error helpers, the connection with its password prompt, and the
 * subcommands.  The command uses only the library's public header.
 */
#ifndef FW_CMD_H
#define FW_CMD_H

#include <getopt.h>
#include <stdio.h>

#include "fraiseql_wire.h"

/* Exit statuses, psql's (docs/command.md): */
#define FWC_EXIT_OK 0
#define FWC_EXIT_ERROR 1        /* usage, connection string, SQL, schema, output errors */
#define FWC_EXIT_CONNECTION 2   /* could not connect, or the connection was lost */

/* -W / -w / neither (psql's TRI_YES, TRI_NO, TRI_DEFAULT). */
typedef enum fwc_prompt { FWC_PROMPT_AUTO = 0, FWC_PROMPT_ALWAYS, FWC_PROMPT_NEVER } fwc_prompt;

/* psql's connection options; NULL = not given.  Values are borrowed from argv. */
typedef struct fwc_conn_opts {
    const char *dbname;   /* -d/--dbname: a database name or a whole connection string */
    const char *host;     /* -h/--host */
    const char *port;     /* -p/--port */
    const char *user;     /* -U/--username */
    fwc_prompt prompt;    /* -W/--password, -w/--no-password */
} fwc_conn_opts;

/* The connection options for getopt_long: short letters and long entries
 * (every subcommand takes them, as main does). */
#define FWC_CONN_SHORTOPTS "d:h:p:U:Ww"
#define FWC_CONN_LONGOPTS                                  \
    {"dbname", required_argument, NULL, 'd'},              \
    {"host", required_argument, NULL, 'h'},                \
    {"port", required_argument, NULL, 'p'},                \
    {"username", required_argument, NULL, 'U'},            \
    {"password", no_argument, NULL, 'W'},                  \
    {"no-password", no_argument, NULL, 'w'}
#define FWC_CONN_USAGE                                                              \
    "connection options:\n"                                                         \
    "  -d, --dbname=CONNINFO    database name or connection string\n"               \
    "  -h, --host=HOST          server host or socket directory\n"                  \
    "  -p, --port=PORT          server port\n"                                      \
    "  -U, --username=USER      user name\n"                                        \
    "  -w, --no-password        never prompt for a password\n"                      \
    "  -W, --password           prompt for a password before connecting\n"

/* Takes getopt_long's result c when it is a connection option: returns 1
 * (stored), else 0. */
int fwc_conn_option(int c, const char *arg, fwc_conn_opts *opts);

/* Resets getopt for a new argument vector (each subcommand parses its own). */
void fwc_getopt_reset(void);

/* "fraiseql-wire[ CMD]: MESSAGE" and "Try 'fraiseql-wire[ CMD] --help' for
 * more information." on stderr; returns FWC_EXIT_ERROR.  cmd may be NULL. */
int fwc_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Only the "Try …" line (after getopt's own message). */
int fwc_try_help(const char *cmd);

/* FWC_EXIT_CONNECTION for a status (and SQLSTATE) that means the
 * connection went bad, else FWC_EXIT_ERROR. */
int fwc_exit_status(fw_status st, const char *sqlstate);

/*
 * The connection parameters as psql builds them: host, port, user, then
 * dbname (a connection string in it is expanded, so its settings override
 * -h/-p/-U, as in psql), the password when one was typed,
 * fallback_application_name=fraiseql-wire; then the PG* variables and the
 * defaults.  On a parse error prints it and returns NULL with
 * *exit_status = FWC_EXIT_ERROR.  Owned: fw_conninfo_free().
 */
fw_conninfo *fwc_conninfo(const fwc_conn_opts *opts, const char *password, int *exit_status);

/*
 * Connects as psql does: with -W asks for the password first; without -W
 * or -w, asks on the terminal when the server wants a password and none was
 * given, then connects again.  On failure prints the error (with libpq's
 * hints) and returns its exit status; *out is then NULL.  When ci_out is
 * not NULL, *ci_out gets the parameters that connected (owned:
 * fw_conninfo_free; NULL on failure).
 */
int fwc_connect(const fwc_conn_opts *opts, fw_conn **out, fw_conninfo **ci_out);

/* The connection's last error as "fraiseql-wire: CLASS error (SQLSTATE
 * X): message", then DETAIL: and HINT: lines.  Returns the exit status. */
int fwc_report_error(fw_conn *conn, fw_status st);

/* Subcommands: argv[0] is the subcommand's name; returns the exit status.
 * opts holds the connection options given before the subcommand. */
int fwc_cmd_stream(int argc, char **argv, fwc_conn_opts *opts);    /* cmd_stream.c */
int fwc_cmd_explain(int argc, char **argv, fwc_conn_opts *opts);   /* cmd_explain.c */
int fwc_cmd_check(int argc, char **argv, fwc_conn_opts *opts);     /* cmd_check.c */
int fwc_cmd_conninfo(int argc, char **argv, fwc_conn_opts *opts);  /* cmd_conninfo.c */
void fwc_usage_stream(FILE *out);
void fwc_usage_explain(FILE *out);
void fwc_usage_check(FILE *out);
void fwc_usage_conninfo(FILE *out);

#endif /* FW_CMD_H */
