/*
 * saslprep.h — SASLprep (RFC 4013, the stringprep profile of RFC 3454) for
 * SCRAM passwords, as PostgreSQL applies it (src/common/saslprep.c's
 * behaviour): a pure-ASCII string is left as it is; otherwise map
 * (non-ASCII spaces to U+0020, "commonly mapped to nothing" dropped),
 * normalise to NFKC, then refuse prohibited output, bidi violations and
 * unassigned code points.  An empty result is refused too.
 *
 * When the result is not FW_SASLPREP_OK the caller uses the password's raw
 * bytes, which is what the server does.
 */
#ifndef FW_SASLPREP_H
#define FW_SASLPREP_H

#include <stdint.h>

typedef enum fw_saslprep_result {
    FW_SASLPREP_OK = 0,
    FW_SASLPREP_OOM = -1,
    FW_SASLPREP_INVALID_UTF8 = -2,
    FW_SASLPREP_PROHIBITED = -3
} fw_saslprep_result;

/* On FW_SASLPREP_OK *out is the prepared password (malloc'd,
 * NUL-terminated; the caller wipes and frees it); else *out is NULL. */
fw_saslprep_result fw_saslprep(const char *in, char **out);

#endif /* FW_SASLPREP_H */
