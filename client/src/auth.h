/*
 * auth.h — the authentication exchange of the startup (auth.c): each
 * AuthenticationRequest answered by the function of its method, and the
 * methods and downgrades this client refuses.
 *
 * Not installed; nothing here is part of the ABI.
 */
#ifndef FW_AUTH_H
#define FW_AUTH_H

#include "conninfo.h"
#include "internal.h"
#include "pgmsg.h"
#include "scram.h"

/* One attempt's exchange. */
typedef struct fw_auth {
    const fw_conninfo *ci;      /* password, user, dbname, passfile, channel_binding */
    const fw_ci_host *host;     /* the server, for the password file */
    fw_scram *scram;            /* a SCRAM exchange under way (SASL) */
    int sasl_started;           /* SASLInitialResponse sent */
    int sasl_done;              /* the server's SCRAM signature checked */
    int cbind_used;             /* SCRAM-SHA-256-PLUS: the TLS channel is bound */
    int password_sent;          /* a cleartext or MD5 password was sent */
} fw_auth;

/* Starts an exchange for one attempt (ending any earlier one). */
void fw_auth_begin(fw_auth *a, const fw_conninfo *ci, const fw_ci_host *host);
/* Frees the exchange's state (the SCRAM secrets are wiped); safe twice. */
void fw_auth_end(fw_auth *a);

/*
 * One message while authenticating, after the caller has dealt with
 * ErrorResponse and NegotiateProtocolVersion: anything but an
 * AuthenticationRequest is FW_ERR_PROTOCOL.  FW_OK to go on: a reply may
 * be queued in c->wbuf (marked secret, wiped once sent), and *done is 1
 * after AuthenticationOk.  Else the error, recorded in c->err: FW_ERR_AUTH
 * for a refused method, a missing password, a failed SCRAM proof or
 * channel_binding=require unmet; FW_ERR_PROTOCOL for a malformed request
 * or a downgrade (a password asked for after SASL began, or twice).
 */
fw_status fw_auth_message(fw_conn *c, fw_auth *a, const fw_msg *m, int *done);

#endif /* FW_AUTH_H */
