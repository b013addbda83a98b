/*
 * fuzz_conninfo — libFuzzer target for connection-string parsing: the input
 * as a whole connection string (URI or keyword=value), and as the dbname of
 * a keyword/value array (which expands a connection string inside it).
 * The environment is ignored so that runs are reproducible.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conninfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    fw_conninfo *ci = NULL;
    fw_conninfo_parse(s, FW_CONNINFO_NO_ENV, &ci);
    if (ci && !fw_conninfo_error_message(ci)) {
        for (size_t i = 0; i < ci->nhosts; i++)
            if (!ci->hosts[i].host)
                abort();   /* every parsed host entry has a name or address */
        for (size_t k = 0; k < fw_conninfo_count(ci); k++) {
            const char *value;
            (void)fw_conninfo_keyword(ci, k, &value);
        }
    }
    fw_conninfo_free(ci);

    const char *keywords[] = {"host", "dbname", NULL};
    const char *values[] = {"h", s, NULL};
    ci = NULL;
    fw_conninfo_parse_params(keywords, values, 1, FW_CONNINFO_NO_ENV, &ci);
    fw_conninfo_free(ci);
    free(s);
    return 0;
}
