/*
 * cmd.h — what the subcommands of fraiseql-wire share: the psql-style
 * connection options (-d -h -p -U) and the exit statuses.
 */
#ifndef FW_CMD_H
#define FW_CMD_H

#include "fraiseql_wire.h"

#define FWC_EXIT_OK 0
#define FWC_EXIT_RUNTIME 1   /* the server or the network said no */
#define FWC_EXIT_USAGE 2     /* bad arguments or connection string */

/* psql's connection options; NULL = not given.  Values are borrowed from argv. */
typedef struct fwc_conn_opts {
    const char *dbname;   /* -d/--dbname: a database name or a whole connection string */
    const char *host;     /* -h/--host */
    const char *port;     /* -p/--port */
    const char *user;     /* -U/--username */
} fwc_conn_opts;

/*
 * If argv[*i] is a connection option, stores it (consuming its value, which
 * may be attached: -hHOST, --host=HOST) and advances *i past it.
 * Returns 1 when it took an option, 0 when argv[*i] is something else, -1
 * (with a message on stderr) when the option's value is missing.
 */
int fwc_conn_option(int argc, char **argv, int *i, fwc_conn_opts *opts);

/*
 * The connection parameters as psql builds them: host, port, user, then
 * dbname (a connection string in it is expanded, so its settings override
 * -h/-p/-U, as in psql), fallback_application_name=fraiseql-wire; then the
 * PG* variables and the defaults.  On a parse error prints
 * "fraiseql-wire: invalid connection string: …" and returns NULL with
 * *exit_status = 2 (1 when memory ran out).  Owned: fw_conninfo_free().
 */
fw_conninfo *fwc_conninfo(const fwc_conn_opts *opts, int *exit_status);

/* Subcommands: argv[0] is the subcommand's name; returns the exit status. */
int fwc_cmd_conninfo(int argc, char **argv, fwc_conn_opts *opts);

#endif /* FW_CMD_H */
