/*
 * saslprep.c — SASLprep (RFC 4013) for SCRAM passwords, with NFKC.
 *
 * The tables are generated (client/tools/gen_saslprep_tables.py): NFKC data
 * of Unicode 14.0.0, the version PostgreSQL 15 uses, and RFC 3454's tables.
 * Every intermediate copy of the password is wiped before it is freed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "saslprep.h"

typedef struct fw_cp_range {
    uint32_t first, last;
} fw_cp_range;
typedef struct fw_cp_class {
    uint32_t cp;
    uint8_t ccc;
} fw_cp_class;
typedef struct fw_cp_decomp {
    uint32_t cp;
    uint16_t offset;
    uint8_t len;
} fw_cp_decomp;
typedef struct fw_cp_compose {
    uint32_t first, second, composite;
} fw_cp_compose;

#include "saslprep_tables.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Hangul syllables are composed and decomposed by arithmetic (Unicode §3.12). */
#define SBASE 0xAC00
#define LBASE 0x1100
#define VBASE 0x1161
#define TBASE 0x11A7
#define LCOUNT 19
#define VCOUNT 21
#define TCOUNT 28
#define NCOUNT (VCOUNT * TCOUNT)
#define SCOUNT (LCOUNT * NCOUNT)

/* The longest full decomposition (U+FDFA) is 18 code points. */
#define MAX_DECOMP 18

static int
in_ranges(uint32_t cp, const fw_cp_range *r, size_t n)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (cp < r[mid].first)
            hi = mid;
        else if (cp > r[mid].last)
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

static uint8_t
ccc_of(uint32_t cp)
{
    size_t lo = 0, hi = NELEM(fw_ccc_table);

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (cp < fw_ccc_table[mid].cp)
            hi = mid;
        else if (cp > fw_ccc_table[mid].cp)
            lo = mid + 1;
        else
            return fw_ccc_table[mid].ccc;
    }
    return 0;
}

static const fw_cp_decomp *
decomp_of(uint32_t cp)
{
    size_t lo = 0, hi = NELEM(fw_decomp_table);

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (cp < fw_decomp_table[mid].cp)
            hi = mid;
        else if (cp > fw_decomp_table[mid].cp)
            lo = mid + 1;
        else
            return &fw_decomp_table[mid];
    }
    return NULL;
}

/* The primary composite of a + b, or 0. */
static uint32_t
compose_pair(uint32_t a, uint32_t b)
{
    size_t lo = 0, hi = NELEM(fw_compose_table);

    if (a >= LBASE && a < LBASE + LCOUNT && b >= VBASE && b < VBASE + VCOUNT)
        return SBASE + ((a - LBASE) * VCOUNT + (b - VBASE)) * TCOUNT;
    if (a >= SBASE && a < SBASE + SCOUNT && (a - SBASE) % TCOUNT == 0 && b > TBASE &&
        b < TBASE + TCOUNT)
        return a + (b - TBASE);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const fw_cp_compose *c = &fw_compose_table[mid];

        if (a < c->first || (a == c->first && b < c->second))
            hi = mid;
        else if (a > c->first || b > c->second)
            lo = mid + 1;
        else
            return c->composite;
    }
    return 0;
}

/* Strict UTF-8 (no overlong forms, surrogates or values over U+10FFFF)
 * into code points; returns the count, or -1. */
static long
utf8_decode(const unsigned char *s, size_t len, uint32_t *out)
{
    size_t i = 0;
    long n = 0;

    while (i < len) {
        unsigned char c = s[i];
        uint32_t cp;
        size_t k, need;

        if (c < 0x80) {
            out[n++] = c;
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            cp = c & 0x1F;
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            cp = c & 0x0F;
            need = 2;
        } else if (c >= 0xF0 && c <= 0xF4) {
            cp = c & 0x07;
            need = 3;
        } else {
            return -1;
        }
        if (len - i <= need)
            return -1;
        for (k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return -1;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return -1;
        out[n++] = cp;
        i += need + 1;
    }
    return n;
}

static size_t
utf8_encode(const uint32_t *cps, size_t n, char *out)
{
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        uint32_t c = cps[i];

        if (c < 0x80) {
            out[o++] = (char)c;
        } else if (c < 0x800) {
            out[o++] = (char)(0xC0 | (c >> 6));
            out[o++] = (char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            out[o++] = (char)(0xE0 | (c >> 12));
            out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (c & 0x3F));
        } else {
            out[o++] = (char)(0xF0 | (c >> 18));
            out[o++] = (char)(0x80 | ((c >> 12) & 0x3F));
            out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (c & 0x3F));
        }
    }
    out[o] = '\0';
    return o;
}

/* NFKC of in[0..n) into out (room for n * MAX_DECOMP); returns the length. */
static size_t
nfkc(const uint32_t *in, size_t n, uint32_t *out)
{
    size_t i, len = 0, starter = 0, comp;
    uint32_t starter_cp;
    int last_class;

    /* Full compatibility decomposition. */
    for (i = 0; i < n; i++) {
        uint32_t c = in[i];
        const fw_cp_decomp *d;

        if (c >= SBASE && c < SBASE + SCOUNT) {
            uint32_t s = c - SBASE;

            out[len++] = LBASE + s / NCOUNT;
            out[len++] = VBASE + (s % NCOUNT) / TCOUNT;
            if (s % TCOUNT != 0)
                out[len++] = TBASE + s % TCOUNT;
        } else if ((d = decomp_of(c)) != NULL) {
            memcpy(out + len, fw_decomp_cps + d->offset, d->len * sizeof(uint32_t));
            len += d->len;
        } else {
            out[len++] = c;
        }
    }

    /* Canonical ordering: a stable sort of each run of non-starters. */
    for (i = 1; i < len; i++) {
        size_t j = i;
        uint8_t cc = ccc_of(out[i]);

        if (cc == 0)
            continue;
        while (j > 0) {
            uint8_t prev = ccc_of(out[j - 1]);

            if (prev == 0 || prev <= cc)
                break;
            {
                uint32_t t = out[j];

                out[j] = out[j - 1];
                out[j - 1] = t;
            }
            j--;
        }
    }

    /* Canonical composition. */
    if (len == 0)
        return 0;
    starter_cp = out[0];
    last_class = ccc_of(starter_cp) != 0 ? 256 : 0;
    comp = 1;
    for (i = 1; i < len; i++) {
        uint32_t c = out[i];
        int cc = ccc_of(c);
        uint32_t composite = compose_pair(starter_cp, c);

        if (composite != 0 && (last_class < cc || last_class == 0)) {
            out[starter] = composite;
            starter_cp = composite;
            continue;
        }
        if (cc == 0) {
            starter = comp;
            starter_cp = c;
        }
        last_class = cc;
        out[comp++] = c;
    }
    return comp;
}

fw_saslprep_result
fw_saslprep(const char *in, char **out)
{
    size_t inlen = strlen(in), i, n, m;
    uint32_t *cps = NULL, *norm = NULL;
    char *res;
    long count;
    fw_saslprep_result rc = FW_SASLPREP_OK;
    int has_randal = 0, has_l = 0;

    *out = NULL;
    for (i = 0; i < inlen; i++) {
        if ((unsigned char)in[i] >= 0x80)
            break;
    }
    if (i == inlen) {
        res = malloc(inlen + 1);
        if (res == NULL)
            return FW_SASLPREP_OOM;
        memcpy(res, in, inlen + 1);
        *out = res;
        return FW_SASLPREP_OK;
    }

    if (inlen > SIZE_MAX / sizeof(uint32_t) / MAX_DECOMP - 1)
        return FW_SASLPREP_OOM;
    cps = malloc((inlen + 1) * sizeof(uint32_t));
    norm = malloc((inlen + 1) * MAX_DECOMP * sizeof(uint32_t));
    if (cps == NULL || norm == NULL) {
        rc = FW_SASLPREP_OOM;
        goto done;
    }
    count = utf8_decode((const unsigned char *)in, inlen, cps);
    if (count < 0) {
        rc = FW_SASLPREP_INVALID_UTF8;
        goto done;
    }

    /* 1. Map. */
    for (i = 0, n = 0; i < (size_t)count; i++) {
        if (in_ranges(cps[i], fw_c12_space, NELEM(fw_c12_space)))
            cps[n++] = 0x20;
        else if (!in_ranges(cps[i], fw_b1_nothing, NELEM(fw_b1_nothing)))
            cps[n++] = cps[i];
    }
    if (n == 0) {
        rc = FW_SASLPREP_PROHIBITED;        /* no empty password */
        goto done;
    }

    /* 2. Normalise. */
    m = nfkc(cps, n, norm);

    /* 3. Prohibit, 4. bidi, and unassigned code points. */
    for (i = 0; i < m; i++) {
        if (in_ranges(norm[i], fw_prohibited, NELEM(fw_prohibited)) ||
            in_ranges(norm[i], fw_a1_unassigned, NELEM(fw_a1_unassigned))) {
            rc = FW_SASLPREP_PROHIBITED;
            goto done;
        }
        if (in_ranges(norm[i], fw_d1_randalcat, NELEM(fw_d1_randalcat)))
            has_randal = 1;
        if (in_ranges(norm[i], fw_d2_lcat, NELEM(fw_d2_lcat)))
            has_l = 1;
    }
    if (m == 0 ||
        (has_randal && (has_l || !in_ranges(norm[0], fw_d1_randalcat, NELEM(fw_d1_randalcat)) ||
                        !in_ranges(norm[m - 1], fw_d1_randalcat, NELEM(fw_d1_randalcat))))) {
        rc = FW_SASLPREP_PROHIBITED;
        goto done;
    }

    res = malloc(m * 4 + 1);
    if (res == NULL) {
        rc = FW_SASLPREP_OOM;
        goto done;
    }
    utf8_encode(norm, m, res);
    *out = res;

done:
    if (cps != NULL) {
        fw_secure_zero(cps, (inlen + 1) * sizeof(uint32_t));
        free(cps);
    }
    if (norm != NULL) {
        fw_secure_zero(norm, (inlen + 1) * MAX_DECOMP * sizeof(uint32_t));
        free(norm);
    }
    return rc;
}
