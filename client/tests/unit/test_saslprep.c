/*
 * SASLprep (RFC 4013) as PostgreSQL applies it to SCRAM passwords: the
 * RFC's examples, NFKC (composition, compatibility, Hangul, reordering),
 * the refusals (where the caller falls back to the raw bytes), and the
 * SCRAM exchange using the prepared password.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "saslprep.h"
#include "scram.h"

static void
expect_prep(const char *in, const char *want)
{
    char *out = NULL;

    cr_assert_eq(fw_saslprep(in, &out), FW_SASLPREP_OK, "input \"%s\"", in);
    cr_assert_str_eq(out, want, "input \"%s\"", in);
    free(out);
}

static void
expect_refused(const char *in, fw_saslprep_result want)
{
    char *out = (char *)"x";

    cr_assert_eq(fw_saslprep(in, &out), want, "input \"%s\"", in);
    cr_assert_null(out);
}

Test(saslprep, rfc4013_examples)
{
    expect_prep("I\xc2\xadX", "IX");                    /* SOFT HYPHEN mapped to nothing */
    expect_prep("user", "user");
    expect_prep("USER", "USER");                        /* case preserved */
    expect_prep("\xc2\xaa", "a");                       /* U+00AA -> a */
    expect_prep("\xe2\x85\xa8", "IX");                  /* U+2168 ROMAN NUMERAL NINE */
    expect_refused("\xd8\xa7" "1", FW_SASLPREP_PROHIBITED); /* bidi: RandAL then L/EN end */
}

Test(saslprep, ascii_is_left_exactly_as_is)
{
    /* PostgreSQL skips SASLprep for pure ASCII, control characters included. */
    expect_prep("\x07", "\x07");
    expect_prep("pass word\x7f", "pass word\x7f");
    expect_prep("", "");
}

Test(saslprep, mapping)
{
    expect_prep("\xc2\xa0pw\xe3\x80\x80", " pw ");      /* U+00A0, U+3000 -> space */
    expect_prep("a\xe2\x80\x8c" "b\xef\xbb\xbf", "ab"); /* U+200C, U+FEFF dropped */
    /* U+200B is in both C.1.2 and B.1: a space, as the server maps it
     * (checked against PostgreSQL 15). */
    expect_prep("a\xe2\x80\x8b" "b", "a b");
    expect_refused("\xc2\xad", FW_SASLPREP_PROHIBITED); /* empty after mapping */
}

Test(saslprep, nfkc)
{
    expect_prep("pa\xcc\x88ss", "p\xc3\xa4ss");         /* a + U+0308 -> U+00E4 */
    expect_prep("\xef\xbd\x90\xef\xbd\x97", "pw");      /* full-width letters */
    expect_prep("\xef\xac\x81", "fi");                  /* U+FB01 ligature */
    expect_prep("\xe2\x84\xab", "\xc3\x85");            /* U+212B ANGSTROM SIGN -> U+00C5 */
    expect_prep("\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8", "\xea\xb0\x81"); /* L V T -> U+AC01 */
    expect_prep("\xea\xb0\x81", "\xea\xb0\x81");        /* stays composed */
    /* d + U+0307 + U+0323: reordered (323 before 307), composed to U+1E0C + U+0307 */
    expect_prep("d\xcc\x87\xcc\xa3", "\xe1\xb8\x8d\xcc\x87");
    /* U+00E9 U+0301: the second accent does not compose (blocked by nothing,
     * but no composite exists) */
    expect_prep("\xc3\xa9\xcc\x81", "\xc3\xa9\xcc\x81");
}

Test(saslprep, refusals)
{
    expect_refused("\xc3\xa9\x07", FW_SASLPREP_PROHIBITED);     /* ASCII control, non-ASCII string */
    expect_refused("\xee\x80\x80x", FW_SASLPREP_PROHIBITED);    /* U+E000 private use */
    expect_refused("\xc8\xa1", FW_SASLPREP_PROHIBITED);         /* U+0221 unassigned in Unicode 3.2 */
    expect_refused("\xd8\xa7" "a" "\xd8\xa8", FW_SASLPREP_PROHIBITED); /* RandAL with L */
    expect_prep("\xd8\xa7\xd8\xa8", "\xd8\xa7\xd8\xa8");        /* RandAL only: fine */
    expect_refused("\xff", FW_SASLPREP_INVALID_UTF8);
    expect_refused("\xc3", FW_SASLPREP_INVALID_UTF8);           /* truncated */
    expect_refused("\xc0\x80", FW_SASLPREP_INVALID_UTF8);       /* overlong */
    expect_refused("\xe0\x80\xaf", FW_SASLPREP_INVALID_UTF8);   /* overlong */
    expect_refused("\xed\xa0\x80", FW_SASLPREP_INVALID_UTF8);   /* surrogate */
    expect_refused("\xf4\x90\x80\x80", FW_SASLPREP_INVALID_UTF8); /* over U+10FFFF */
}

/* The exchange uses the prepared password: "I<SHY>X" proves like "IX". */
Test(saslprep, scram_uses_the_prepared_password)
{
    static const char sf[] =
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    const char *pws[] = {"IX", "I\xc2\xadX", "\xe2\x85\xa8"};
    char finals[3][200];
    int i;

    for (i = 0; i < 3; i++) {
        fw_scram *s = NULL;
        const char *first, *final;
        char err[256];

        cr_assert_eq(fw_scram_begin(pws[i], FW_SCRAM_CBIND_NONE, NULL, 0, "rOprNGfwEbeRWgbNEkqO",
                                    &s, &first, err, sizeof(err)),
                     FW_OK);
        cr_assert_eq(fw_scram_continue(s, sf, strlen(sf), &final, err, sizeof(err)), FW_OK);
        cr_assert_lt(strlen(final), sizeof(finals[i]));
        strcpy(finals[i], final);
        fw_scram_free(s);
    }
    cr_assert_str_eq(finals[1], finals[0]);
    cr_assert_str_eq(finals[2], finals[0]);
}
