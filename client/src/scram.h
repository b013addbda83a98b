/*
 * scram.h — the client side of SCRAM-SHA-256 and SCRAM-SHA-256-PLUS
 * (RFC 5802, RFC 7677), as PostgreSQL speaks it (empty user name in the
 * client-first message; the server takes the startup packet's user).
 *
 * Pure: messages in, messages out, no I/O.  The server's signature is
 * verified in fw_scram_finish(): a server that cannot prove it knows the
 * password is refused (FW_ERR_AUTH).
 */
#ifndef FW_SCRAM_H
#define FW_SCRAM_H

#include <stddef.h>
#include <stdint.h>

#include "fraiseql_wire.h"

/* Iteration counts above this are refused (a hostile server could otherwise
 * make the client spin); PostgreSQL's default is 4096. */
#define FW_SCRAM_MAX_ITERATIONS 1000000

typedef struct fw_scram fw_scram;

typedef enum fw_scram_cbind {
    FW_SCRAM_CBIND_NONE,        /* "n,,": client does not support it */
    FW_SCRAM_CBIND_NOT_USED,    /* "y,,": client supports it, server did not offer -PLUS */
    FW_SCRAM_CBIND_TLS_SERVER_END_POINT  /* "p=tls-server-end-point,," (-PLUS) */
} fw_scram_cbind;

/*
 * Starts an exchange.  cbind_data is the tls-server-end-point hash of the
 * server certificate (FW_SCRAM_CBIND_TLS_SERVER_END_POINT only).  nonce is
 * NULL in real use (24 random bytes, base64); tests pass the RFC's nonce.
 * On success *out is the state and *client_first (malloc'd, NUL-terminated;
 * owned by the state, valid until fw_scram_free) the message to send.
 * Errors are written to err (errlen bytes), never containing the password.
 */
fw_status fw_scram_begin(const char *password, fw_scram_cbind cbind,
                         const uint8_t *cbind_data, size_t cbind_len, const char *nonce,
                         fw_scram **out, const char **client_first, char *err, size_t errlen);
/*
 * fw_scram_begin with a user name for n= (escaped as saslname: ',' and '='
 * become =2C and =3D).  PostgreSQL ignores n= and fw_scram_begin sends it
 * empty; this exists so the unit tests can run the RFC 7677 vector
 * (n=user) through the same code.
 */
fw_status fw_scram_begin_user(const char *password, const char *user, fw_scram_cbind cbind,
                              const uint8_t *cbind_data, size_t cbind_len, const char *nonce,
                              fw_scram **out, const char **client_first, char *err,
                              size_t errlen);
/*
 * Takes server-first (len bytes, need not be NUL-terminated), produces
 * client-final (owned by the state).  Malformed server messages are
 * FW_ERR_PROTOCOL; a server nonce that does not extend ours or an iteration
 * count over FW_SCRAM_MAX_ITERATIONS is FW_ERR_AUTH.  Calls out of order
 * are FW_ERR_USAGE; after any failure the state only accepts free.
 */
fw_status fw_scram_continue(fw_scram *s, const char *server_first, size_t len,
                            const char **client_final, char *err, size_t errlen);
/* Takes server-final and verifies the server signature (constant-time):
 * FW_OK, FW_ERR_AUTH on a mismatch or a server error (e=, whose value is
 * quoted in err), FW_ERR_PROTOCOL when malformed. */
fw_status fw_scram_finish(fw_scram *s, const char *server_final, size_t len,
                          char *err, size_t errlen);
/* Frees and wipes the state.  NULL is fine. */
void fw_scram_free(fw_scram *s);

#endif /* FW_SCRAM_H */
