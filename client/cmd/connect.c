/*
 * connect.c — what every subcommand of fraiseql-wire shares: psql's
 * connection options, usage errors, exit statuses, the connection itself
 * with psql's password prompt (-W, -w), and error reports with libpq's hints.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cmd.h"

/* The longest password the prompt takes (psql's simple_prompt has no
 * limit; a longer line is refused, not cut). */
#define FWC_PASSWORD_MAX 1024

int
fwc_conn_option(int c, const char *arg, fwc_conn_opts *opts)
{
    switch (c) {
    case 'd': opts->dbname = arg; return 1;
    case 'h': opts->host = arg; return 1;
    case 'p': opts->port = arg; return 1;
    case 'U': opts->user = arg; return 1;
    case 'W': opts->prompt = FWC_PROMPT_ALWAYS; return 1;
    case 'w': opts->prompt = FWC_PROMPT_NEVER; return 1;
    default: return 0;
    }
}

void
fwc_getopt_reset(void)
{
    optind = 0;   /* glibc: start over, and read the optstring's flags again */
    opterr = 1;
}

int
fwc_try_help(const char *cmd)
{
    fprintf(stderr, "Try 'fraiseql-wire%s%s --help' for more information.\n", cmd ? " " : "",
            cmd ? cmd : "");
    return FWC_EXIT_ERROR;
}

int
fwc_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "fraiseql-wire%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return fwc_try_help(cmd);
}

int
fwc_exit_status(fw_status st, const char *sqlstate)
{
    if (st == FW_ERR_IO || st == FW_ERR_TLS || st == FW_ERR_AUTH || st == FW_ERR_TIMEOUT)
        return FWC_EXIT_CONNECTION;
    /* The server ended the session (admin shutdown, crash, terminate). */
    if (sqlstate && (strncmp(sqlstate, "08", 2) == 0 || strcmp(sqlstate, "57P01") == 0 ||
                     strcmp(sqlstate, "57P02") == 0 || strcmp(sqlstate, "57P03") == 0))
        return FWC_EXIT_CONNECTION;
    return FWC_EXIT_ERROR;
}

fw_conninfo *
fwc_conninfo(const fwc_conn_opts *opts, const char *password, int *exit_status)
{
    /* dbname is expanded in place: entries after it (the password typed,
     * the fallback name) still apply over a connection string. */
    const char *keywords[] = {"host", "port", "user", "dbname", "password",
                              "fallback_application_name", NULL};
    const char *values[] = {opts->host, opts->port, opts->user, opts->dbname, password,
                            "fraiseql-wire", NULL};
    fw_conninfo *ci = NULL;
    fw_status st = fw_conninfo_parse_params(keywords, values, 1, 0, &ci);

    if (st == FW_OK) {
        *exit_status = FWC_EXIT_OK;
        return ci;
    }
    if (st == FW_ERR_MEMORY || ci == NULL)
        fprintf(stderr, "fraiseql-wire: out of memory\n");
    else
        fprintf(stderr, "fraiseql-wire: invalid connection string: %s\n", fw_conninfo_error(ci));
    *exit_status = FWC_EXIT_ERROR;
    fw_conninfo_free(ci);
    return NULL;
}

int
fwc_report_error(fw_conn *conn, fw_status st)
{
    const char *msg = fw_conn_error_message(conn);
    const char *state = fw_conn_error_sqlstate(conn);
    const char *hint = fw_conn_error_hint(conn);

    fprintf(stderr, "fraiseql-wire: %s error", fw_strerror(st));
    if (state)
        fprintf(stderr, " (SQLSTATE %s)", state);
    fprintf(stderr, ": %s\n", msg ? msg : fw_strerror(st));
    if (fw_conn_error_detail(conn))
        fprintf(stderr, "DETAIL:  %s\n", fw_conn_error_detail(conn));
    if (hint && !state)
        fprintf(stderr, "\t%s\n", hint);   /* the client's own hint, as libpq prints it */
    else if (hint)
        fprintf(stderr, "HINT:  %s\n", hint);
    return fwc_exit_status(st, state);
}

/* ------------------------------------------------------------ the prompt */

static volatile sig_atomic_t prompt_signal;

static void
on_prompt_signal(int sig)
{
    prompt_signal = sig;
}

/* Wipes memory the compiler may not skip. */
static void
wipe(char *p, size_t n)
{
    volatile char *v = p;
    while (n--)
        *v++ = 0;
}

/*
 * Asks for a password on the terminal (/dev/tty, whatever stdin and stdout
 * are) with echo off.  Returns 1 with the password in buf, 0 when there is
 * no terminal, -1 after a message (EOF, too long, an error), or 128 + the
 * signal when Ctrl-C or SIGTERM interrupted it (the terminal is restored
 * first).  buf is read a byte at a time: no stdio buffer keeps a copy.
 */
static int
prompt_password(const char *prompt, char *buf, size_t size)
{
    struct termios saved, quiet;
    struct sigaction sa, old_int, old_term;
    size_t len = 0;
    int have_termios, fd, rc = 1, too_long = 0;

    fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    have_termios = tcgetattr(fd, &saved) == 0;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_prompt_signal;   /* no SA_RESTART: read() returns EINTR */
    sigemptyset(&sa.sa_mask);
    prompt_signal = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    if (have_termios) {
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        quiet.c_lflag |= ICANON;
        tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    if (write(fd, prompt, strlen(prompt)) < 0) { /* nothing to do: read anyway */ }
    for (;;) {
        char ch;
        ssize_t n = read(fd, &ch, 1);

        if (n < 0 && errno == EINTR && !prompt_signal)
            continue;
        if (n < 0 || prompt_signal) {
            rc = prompt_signal ? 128 + prompt_signal : -1;
            break;
        }
        if (n == 0) {
            rc = len > 0 ? 1 : -1;   /* EOF: what was typed, or nothing */
            break;
        }
        if (ch == '\n' || ch == '\r')
            break;
        if (len + 1 >= size)
            too_long = 1;   /* read the rest of the line, keep nothing more */
        else
            buf[len++] = ch;
        ch = 0;
    }
    buf[len] = '\0';
    if (have_termios)
        tcsetattr(fd, TCSAFLUSH, &saved);
    if (write(fd, "\n", 1) < 0) { /* the line after the prompt, as the echo would */ }
    close(fd);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (rc == 1 && too_long) {
        fprintf(stderr, "fraiseql-wire: the password is longer than %d bytes\n",
                FWC_PASSWORD_MAX - 1);
        rc = -1;
    } else if (rc == -1) {
        fprintf(stderr, "fraiseql-wire: no password was read from the terminal\n");
    }
    if (rc != 1)
        wipe(buf, size);
    return rc;
}

/* Prompts for the user the connection will use ("Password for user U: ",
 * psql's words).  Returns prompt_password's result. */
static int
ask(const fw_conninfo *ci, char *buf, size_t size)
{
    char prompt[300];
    const char *user = fw_conninfo_get(ci, "user");

    if (user)
        snprintf(prompt, sizeof prompt, "Password for user %.200s: ", user);
    else
        snprintf(prompt, sizeof prompt, "Password: ");
    return prompt_password(prompt, buf, size);
}

int
fwc_connect(const fwc_conn_opts *opts, fw_conn **out, fw_conninfo **ci_out)
{
    static char password[FWC_PASSWORD_MAX];
    int have_password = 0, no_tty = 0, rc;

    *out = NULL;
    if (ci_out)
        *ci_out = NULL;
    if (opts->prompt == FWC_PROMPT_ALWAYS) {
        fw_conninfo *ci = fwc_conninfo(opts, NULL, &rc);

        if (!ci)
            return rc;
        rc = ask(ci, password, sizeof password);
        fw_conninfo_free(ci);
        if (rc == 0)
            fprintf(stderr, "fraiseql-wire: -W: no terminal to read the password from\n");
        if (rc != 1)
            return rc > 1 ? rc : FWC_EXIT_ERROR;
        have_password = 1;
    }
    for (;;) {
        fw_conn *conn = NULL;
        fw_conninfo *ci = fwc_conninfo(opts, have_password ? password : NULL, &rc);
        fw_status st;

        if (!ci)
            break;
        st = fw_connect_info(ci, &conn);
        if (st == FW_OK) {
            if (ci_out)
                *ci_out = ci;
            else
                fw_conninfo_free(ci);
            *out = conn;
            rc = FWC_EXIT_OK;
            break;
        }
        if (!conn) {
            fw_conninfo_free(ci);
            fprintf(stderr, "fraiseql-wire: out of memory\n");
            rc = FWC_EXIT_ERROR;
            break;
        }
        if (st == FW_ERR_CONFIG) {
            fw_conninfo_free(ci);
            fprintf(stderr, "fraiseql-wire: invalid connection string: %s\n",
                    fw_conn_error_message(conn));
            fw_conn_free(conn);
            rc = FWC_EXIT_ERROR;
            break;
        }
        if (fw_conn_needs_password(conn) && !have_password && opts->prompt == FWC_PROMPT_AUTO) {
            rc = ask(ci, password, sizeof password);
            fw_conninfo_free(ci);
            ci = NULL;
            if (rc == 1) {
                have_password = 1;
                fw_conn_free(conn);
                continue;   /* again, with the password */
            }
            if (rc > 1) {   /* interrupted */
                fw_conn_free(conn);
                break;
            }
            no_tty = rc == 0;   /* else nothing was typed (said): the error as it is */
        }
        fw_conninfo_free(ci);
        fwc_report_error(conn, st);
        if (fw_conn_needs_password(conn) && (no_tty || opts->prompt == FWC_PROMPT_NEVER))
            fprintf(stderr, "\t%s\n", opts->prompt == FWC_PROMPT_NEVER
                    ? "-w/--no-password was given: no prompt.  Give the password in PGPASSWORD, "
                      "~/.pgpass or the connection string."
                    : "No terminal to ask for it on: give the password in PGPASSWORD, ~/.pgpass "
                      "or the connection string.");
        /* Every failure to connect is psql's status 2, whatever its class. */
        rc = FWC_EXIT_CONNECTION;
        fw_conn_free(conn);
        break;
    }
    wipe(password, sizeof password);
    return rc;
}
