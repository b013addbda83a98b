/*
 * pgmsg.h — the PostgreSQL v3 protocol messages this client uses.
 *
 * Decoding is pure: bytes in, messages out, no I/O (pgmsg_decode.c).  The
 * framer tells "need more bytes" from "malformed"; every parser checks every
 * length against the message body before reading, and returns views into
 * the body (valid while the bytes are).  Encoding appends complete messages
 * to an fw_buf (pgmsg_encode.c).  docs/protocol.md lists the subset.
 */
#ifndef FW_PGMSG_H
#define FW_PGMSG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "fraiseql_wire.h"

/* Default cap on one backend message (length field), in bytes. */
#define FW_MSG_DEFAULT_MAX (256u * 1024 * 1024)
/* The largest message body the server accepts from a client
 * (PQ_LARGE_MESSAGE_LIMIT, MaxAllocSize - 1): a bigger one makes it end
 * the session, so the encoder refuses it and the connection stays usable. */
#define FW_MSG_SEND_MAX (0x3fffffffu - 1)
/* Caps on counts inside messages. */
#define FW_MSG_MAX_FIELDS 1664          /* MaxTupleAttributeNumber */
#define FW_MSG_MAX_SASL_MECHS 16

/* ---- names for the protocol's codes ----
 * Every type byte, authentication code and status byte this client sends
 * or dispatches on, named as in the PostgreSQL documentation ("Message
 * Formats"), so that no file spells them as bare literals. */

/* The first int32 of the packets sent before the startup is done. */
#define FW_PROTOCOL_3_0 196608            /* 3 << 16 */
#define FW_SSL_REQUEST_CODE 80877103      /* 1234 << 16 | 5679 */
#define FW_CANCEL_REQUEST_CODE 80877102   /* 1234 << 16 | 5678 */

/* The one byte that answers an SSLRequest ('E' is an ErrorResponse from
 * a server too old to know SSLRequest). */
#define FW_SSL_REPLY_ACCEPT 'S'
#define FW_SSL_REPLY_REFUSE 'N'

/* Backend message types. */
#define FW_BE_NOTIFICATION_RESPONSE 'A'
#define FW_BE_COMMAND_COMPLETE 'C'
#define FW_BE_DATA_ROW 'D'
#define FW_BE_ERROR_RESPONSE 'E'
#define FW_BE_COPY_IN_RESPONSE 'G'
#define FW_BE_COPY_OUT_RESPONSE 'H'
#define FW_BE_EMPTY_QUERY_RESPONSE 'I'
#define FW_BE_BACKEND_KEY_DATA 'K'
#define FW_BE_NOTICE_RESPONSE 'N'
#define FW_BE_AUTHENTICATION 'R'
#define FW_BE_PARAMETER_STATUS 'S'
#define FW_BE_ROW_DESCRIPTION 'T'
#define FW_BE_COPY_BOTH_RESPONSE 'W'
#define FW_BE_READY_FOR_QUERY 'Z'
#define FW_BE_PARSE_COMPLETE '1'
#define FW_BE_BIND_COMPLETE '2'
#define FW_BE_CLOSE_COMPLETE '3'
#define FW_BE_NO_DATA 'n'
#define FW_BE_PORTAL_SUSPENDED 's'
#define FW_BE_NEGOTIATE_PROTOCOL_VERSION 'v'

/* Frontend message types. */
#define FW_FE_BIND 'B'
#define FW_FE_CLOSE 'C'
#define FW_FE_DESCRIBE 'D'
#define FW_FE_EXECUTE 'E'
#define FW_FE_FLUSH 'H'
#define FW_FE_PARSE 'P'
#define FW_FE_QUERY 'Q'
#define FW_FE_SYNC 'S'
#define FW_FE_TERMINATE 'X'
#define FW_FE_COPY_FAIL 'f'
#define FW_FE_PASSWORD 'p'   /* PasswordMessage, SASLInitialResponse, SASLResponse */

/* The kind byte of Describe and Close. */
#define FW_KIND_STATEMENT 'S'
#define FW_KIND_PORTAL 'P'

/* ReadyForQuery's transaction status. */
#define FW_TX_IDLE 'I'
#define FW_TX_IN_BLOCK 'T'
#define FW_TX_FAILED 'E'

/* The code of an AuthenticationRequest ('R').  This client answers OK,
 * CleartextPassword, MD5Password and SASL (SCRAM-SHA-256[-PLUS]); it
 * refuses the others. */
typedef enum fw_auth_code {
    FW_AUTH_OK = 0,
    FW_AUTH_KERBEROS_V5 = 2,
    FW_AUTH_CLEARTEXT_PASSWORD = 3,
    FW_AUTH_MD5_PASSWORD = 5,
    FW_AUTH_SCM_CREDENTIAL = 6,
    FW_AUTH_GSS = 7,
    FW_AUTH_GSS_CONTINUE = 8,
    FW_AUTH_SSPI = 9,
    FW_AUTH_SASL = 10,
    FW_AUTH_SASL_CONTINUE = 11,
    FW_AUTH_SASL_FINAL = 12
} fw_auth_code;

typedef enum fw_frame_result {
    FW_FRAME_OK = 0,
    FW_FRAME_NEED_MORE = 1,   /* not a whole message yet: read more */
    FW_FRAME_MALFORMED = -1,  /* length field < 4 */
    FW_FRAME_TOO_LARGE = -2   /* length field over the cap */
} fw_frame_result;

/* One backend message: type byte and body (without type and length). */
typedef struct fw_msg {
    char type;
    const uint8_t *body;
    uint32_t len;
} fw_msg;

/*
 * Frames the message at the start of buf[0..avail).  On FW_FRAME_OK sets *msg
 * (body points into buf) and *consumed (5 + body length).  On NEED_MORE sets
 * *consumed to the total size needed when the header is complete (so the
 * caller can size its buffer), else 0.  max_len caps the length field
 * (0 means FW_MSG_DEFAULT_MAX); the length field is read as the protocol's
 * signed int32, so a "negative" length is MALFORMED.
 *
 * Any type byte is framed, known or not: the caller dispatches on m->type
 * and refuses what it does not expect.  In particular the COPY responses
 * CopyInResponse 'G', CopyOutResponse 'H' and CopyBothResponse 'W' are
 * framed like any other message and have no parser here: this client
 * does not speak COPY, and the caller refuses them (FW_ERR_PROTOCOL or a
 * clear usage error), then resynchronises or closes the connection.
 */
fw_frame_result fw_msg_frame(const uint8_t *buf, size_t avail, uint32_t max_len,
                             fw_msg *msg, size_t *consumed);

/* The bodiless messages — EmptyQueryResponse 'I', PortalSuspended 's',
 * NoData 'n', ParseComplete '1', BindComplete '2', CloseComplete '3' —
 * have no parser: the caller checks the body is empty with this (FW_OK, or
 * FW_ERR_PROTOCOL when m->len != 0). */
fw_status fw_msg_expect_empty(const fw_msg *m);

/* ---- parsers: FW_OK, or FW_ERR_PROTOCOL when the body is malformed ----
 * Every parser consumes the body exactly: missing bytes, a string without
 * its NUL inside the body, a count that is negative or larger than the
 * body can hold, and trailing bytes are all FW_ERR_PROTOCOL.  Outputs are
 * views into m->body; on failure they are unspecified. */

/* ErrorResponse 'E' / NoticeResponse 'N': fields by code, NULL if absent.
 * Other field codes are skipped; a field repeated keeps its last value. */
typedef struct fw_pg_fields {
    const char *severity;      /* 'V' (non-localised) or else 'S' */
    const char *sqlstate;      /* 'C' */
    const char *message;       /* 'M' */
    const char *detail;        /* 'D' */
    const char *hint;          /* 'H' */
    const char *position;      /* 'P' */
} fw_pg_fields;
fw_status fw_parse_fields(const fw_msg *m, fw_pg_fields *out);

/* 'R' Authentication*: the code (fw_auth_code) and what it carries: the
 * salt of MD5Password, the mechanism list of SASL, the data of
 * SASLContinue and SASLFinal; codes this client refuses are returned as
 * they are for the caller to refuse.  OK, KerberosV5, CleartextPassword,
 * GSS and SSPI must have no more bytes, MD5Password exactly the salt; SASL
 * needs 1..FW_MSG_MAX_SASL_MECHS names then the empty terminator; the
 * other codes (GSSContinue, SASLContinue, SASLFinal, SCMCredential,
 * unknown) give the rest of the body as data (NULL when empty). */
typedef struct fw_auth_msg {
    int32_t code;               /* an fw_auth_code, or an unknown one */
    const uint8_t *data;        /* MD5Password: 4-byte salt; SASLContinue/Final: SASL data */
    uint32_t data_len;
    const char *mechs[FW_MSG_MAX_SASL_MECHS]; /* SASL */
    int nmechs;
} fw_auth_msg;
fw_status fw_parse_auth(const fw_msg *m, fw_auth_msg *out);

fw_status fw_parse_parameter_status(const fw_msg *m, const char **name, const char **value);
fw_status fw_parse_backend_key(const fw_msg *m, int32_t *pid, int32_t *key);
fw_status fw_parse_ready(const fw_msg *m, char *tx_status);        /* 'I', 'T', 'E' */
fw_status fw_parse_command_complete(const fw_msg *m, const char **tag);
fw_status fw_parse_notification(const fw_msg *m, int32_t *pid, const char **channel,
                                const char **payload);
/* 'v' NegotiateProtocolVersion: the newest protocol version the server
 * supports and the number of unrecognised protocol options (both >= 0; the
 * option names are checked, not returned).  Note: PostgreSQL 15 sends the
 * whole version number here, (3 << 16) | minor = 196608 for 3.0, although
 * the documentation calls it the minor version; the caller compares the
 * value as sent (a capture from a real server is in the fuzz corpus). */
fw_status fw_parse_negotiate(const fw_msg *m, int32_t *minor, int32_t *n_unrecognized);

/* 'T' RowDescription. */
typedef struct fw_field_desc {
    const char *name;
    uint32_t table_oid;
    int16_t attnum;
    uint32_t type_oid;
    int16_t typlen;
    int32_t typmod;
    int16_t format;
} fw_field_desc;
/* Parses the field count (0..FW_MSG_MAX_FIELDS) and validates every field
 * and the end of the body; then fw_parse_row_description_field() walks the
 * fields (pass the offset back in; starts at 2), which cannot fail on a
 * message this accepted. */
fw_status fw_parse_row_description(const fw_msg *m, int16_t *nfields);
fw_status fw_parse_row_description_field(const fw_msg *m, size_t *offset, fw_field_desc *out);

/* 'D' DataRow with exactly one column: *value points into the body (NULL for
 * SQL NULL), *value_len its length.  A row with another column count is
 * FW_ERR_PROTOCOL. */
fw_status fw_parse_data_row1(const fw_msg *m, const uint8_t **value, uint32_t *value_len);
/* 'D' DataRow, any column count (0..FW_MSG_MAX_FIELDS): validates the whole
 * row first (length -1 = NULL, other negatives and lengths past the body
 * are malformed), then calls fn for each column (value NULL and len -1 for
 * SQL NULL); stops with fn's non-FW_OK status. */
typedef fw_status (*fw_column_fn)(void *arg, int index, const uint8_t *value, int32_t len);
fw_status fw_parse_data_row(const fw_msg *m, fw_column_fn fn, void *arg);

/* ---- encoders: append one complete message; FW_OK or FW_ERR_MEMORY ----
 * FW_ERR_LIMIT when the message would be over FW_MSG_SEND_MAX (or the
 * protocol's int32 length); FW_ERR_USAGE for a NULL string, a negative
 * count, a bad kind.
 * On failure the buffer is left as it was. */

/* StartupMessage, protocol 3.0; params: NULL-terminated name/value pairs
 * (NULL = none; a name without a value or an empty name is FW_ERR_USAGE). */
fw_status fw_enc_startup(fw_buf *b, const char *const *params);
fw_status fw_enc_ssl_request(fw_buf *b);
fw_status fw_enc_cancel_request(fw_buf *b, int32_t pid, int32_t key);
fw_status fw_enc_password(fw_buf *b, const char *password);          /* 'p' */
/* data NULL (len 0) sends length -1: no initial response. */
fw_status fw_enc_sasl_initial(fw_buf *b, const char *mechanism,
                              const uint8_t *data, size_t len);      /* 'p' */
fw_status fw_enc_sasl_response(fw_buf *b, const uint8_t *data, size_t len); /* 'p' */
fw_status fw_enc_query(fw_buf *b, const char *sql);                  /* 'Q' */
/* 'P' with no parameter type OIDs unless types != NULL (ntypes of them). */
fw_status fw_enc_parse(fw_buf *b, const char *stmt, const char *sql, int16_t ntypes,
                       const uint32_t *types);
/* 'B': text-format parameters (NULL value = SQL NULL), results in text. */
fw_status fw_enc_bind(fw_buf *b, const char *portal, const char *stmt, int16_t nparams,
                      const char *const *values);
fw_status fw_enc_describe(fw_buf *b, char kind, const char *name);   /* 'D', kind 'S'/'P' */
fw_status fw_enc_execute(fw_buf *b, const char *portal, int32_t max_rows); /* 'E', 0 = all */
fw_status fw_enc_close(fw_buf *b, char kind, const char *name);      /* 'C' */
fw_status fw_enc_copy_fail(fw_buf *b, const char *reason);           /* 'f' */
fw_status fw_enc_sync(fw_buf *b);                                    /* 'S' */
fw_status fw_enc_flush(fw_buf *b);                                   /* 'H' */
fw_status fw_enc_terminate(fw_buf *b);                               /* 'X' */

#endif /* FW_PGMSG_H */
