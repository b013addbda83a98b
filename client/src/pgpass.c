/*
 * pgpass.c — passwords from the password file (libpq-pgpass.html).
 *
 * hostname:port:database:username:password, one entry a line; each of the
 * first four fields is a literal or '*'; '\' escapes ':' and '\'.  The first
 * matching line wins.  Lines starting with '#' are comments.  A file that
 * group or others can access is ignored, with a warning, as libpq does.
 * No message ever contains a password.
 */
#include "conninfo.h"
#include "crypto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

__attribute__((format(printf, 2, 3))) static void
pgpass_warn(char **warning, const char *fmt, ...)
{
    if (warning == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    char *msg = malloc((size_t)n + 1);
    if (msg == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
    va_end(ap);
    *warning = msg;
}

/*
 * Matches one field at `field` against `token`: '*' alone matches anything;
 * otherwise the unescaped field must equal token.  Returns the start of the
 * next field, or NULL when the field does not match (or the line ends).
 */
static const char *
pgpass_match_field(const char *field, const char *token)
{
    if (field[0] == '*' && field[1] == ':')
        return field + 2;
    const char *f = field, *t = token;
    for (;;) {
        if (*f == '\0')
            return NULL;     /* a line with too few fields */
        if (*f == ':')
            return *t == '\0' ? f + 1 : NULL;
        if (*f == '\\' && f[1] != '\0')
            f++;
        if (*t == '\0' || *f != *t)
            return NULL;
        f++;
        t++;
    }
}

/* The password field, unescaped, up to an unescaped ':' or the end. */
static char *
pgpass_unescape(const char *field)
{
    char *out = malloc(strlen(field) + 1);
    if (out == NULL)
        return NULL;
    char *o = out;
    for (const char *f = field; *f != '\0' && *f != ':'; f++) {
        if (*f == '\\' && f[1] != '\0')
            f++;
        *o++ = *f;
    }
    *o = '\0';
    return out;
}

/* One line of any length, without its line end; NULL at EOF or on error. */
static char *
pgpass_read_line(FILE *fp)
{
    size_t cap = 128, len = 0;
    char *line = malloc(cap);
    if (line == NULL)
        return NULL;
    int c;
    while ((c = getc(fp)) != EOF && c != '\n') {
        if (len + 1 >= cap) {
            /* Not realloc: the old block holds part of a password. */
            char *n = malloc(cap * 2);
            if (n == NULL) {
                fw_secure_zero(line, len);
                free(line);
                return NULL;
            }
            memcpy(n, line, len);
            fw_secure_zero(line, len);
            free(line);
            line = n;
            cap *= 2;
        }
        line[len++] = (char)c;
    }
    if (c == EOF && len == 0) {
        free(line);
        return NULL;
    }
    if (len > 0 && line[len - 1] == '\r')
        len--;
    line[len] = '\0';
    return line;
}

static void
pgpass_wipe_free(char *s)
{
    if (s == NULL)
        return;
    fw_secure_zero(s, strlen(s));   /* memset before free is a dead store */
    free(s);
}

char *
fw_pgpass_lookup(const char *passfile, const char *host, int port, const char *dbname,
                 const char *user, char **warning)
{
    if (warning != NULL)
        *warning = NULL;
    if (dbname == NULL || dbname[0] == '\0' || user == NULL || user[0] == '\0')
        return NULL;

    char *path = NULL;
    if (passfile != NULL && passfile[0] != '\0') {
        path = strdup(passfile);
    } else {
        char *home = fw_ci_home_dir();
        if (home == NULL)
            return NULL;
        size_t n = strlen(home) + sizeof "/.pgpass";
        path = malloc(n);
        if (path != NULL)
            snprintf(path, n, "%s/.pgpass", home);
        free(home);
    }
    if (path == NULL)
        return NULL;

    /* 'localhost' stands for no host and for the default socket directory. */
    if (host == NULL || host[0] == '\0' || strcmp(host, FW_CI_DEFAULT_SOCKET_DIR) == 0)
        host = "localhost";
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port > 0 ? port : FW_CI_DEFAULT_PORT);

    char *password = NULL;
    char iobuf[BUFSIZ];
    struct stat st;
    if (stat(path, &st) != 0)
        goto done;    /* no file, no password, no warning */
    if (!S_ISREG(st.st_mode)) {
        pgpass_warn(warning, "password file \"%s\" is not a plain file", path);
        goto done;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        pgpass_warn(warning, "password file \"%s\" has group or world access; "
                             "permissions should be u=rw (0600) or less", path);
        goto done;
    }
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        goto done;
    /* Our own stdio buffer, so that the file's contents can be wiped. */
    setvbuf(fp, iobuf, _IOFBF, sizeof iobuf);
    char *line;
    while ((line = pgpass_read_line(fp)) != NULL) {
        const char *f = line;
        if (line[0] != '#' &&
            (f = pgpass_match_field(f, host)) != NULL &&
            (f = pgpass_match_field(f, portstr)) != NULL &&
            (f = pgpass_match_field(f, dbname)) != NULL &&
            (f = pgpass_match_field(f, user)) != NULL) {
            password = pgpass_unescape(f);
            pgpass_wipe_free(line);
            break;
        }
        pgpass_wipe_free(line);
    }
    fclose(fp);
    fw_secure_zero(iobuf, sizeof iobuf);
    if (password != NULL && password[0] == '\0') {
        free(password);
        password = NULL;
    }
done:
    free(path);
    return password;
}

char *
fw_pgpass_for_host(const fw_conninfo *ci, const fw_ci_host *h, char **warning)
{
    if (warning != NULL)
        *warning = NULL;
    if (ci == NULL || h == NULL)
        return NULL;
    const char *pw = ci->values[FW_CI_PASSWORD];
    if (pw != NULL && pw[0] != '\0')
        return NULL;
    const char *host = h->host != NULL && h->host[0] != '\0' ? h->host : h->hostaddr;
    const char *user = ci->values[FW_CI_USER];
    const char *db = ci->values[FW_CI_DBNAME];
    return fw_pgpass_lookup(ci->values[FW_CI_PASSFILE], host, h->port,
                            db != NULL && db[0] != '\0' ? db : user, user, warning);
}
