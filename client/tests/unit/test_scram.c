/*
 * SCRAM-SHA-256 against RFC 7677's test vector (user "user", password
 * "pencil"), its PostgreSQL flavour (empty n=) and channel binding, and
 * the refusals: bad signature, foreign nonce, iteration counts, malformed
 * server messages, server errors.
 *
 * The PostgreSQL-flavour expected values were computed independently
 * (Python hashlib/hmac) from the same inputs.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "scram.h"

#define RFC_NONCE "rOprNGfwEbeRWgbNEkqO"
#define RFC_SERVER_FIRST \
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define RFC_CLIENT_FINAL                                          \
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," \
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define RFC_SERVER_FINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

/* With PostgreSQL's empty n= the AuthMessage differs, so do proof and signature. */
#define PG_CLIENT_FINAL                                           \
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," \
    "p=qvT2SWdEH5Q06albL+hjSYuUhCG7VndFyzIb7CK4n9k="
#define PG_SERVER_FINAL "v=3HO6Qt1M4MKJrmlKaoOqLAI0/0TV0HZe7J9H3MBtSOg="

static fw_scram *
begin_pg(const char **first)
{
    fw_scram *s = NULL;
    char err[256];

    cr_assert_eq(fw_scram_begin("pencil", FW_SCRAM_CBIND_NONE, NULL, 0, RFC_NONCE, &s, first,
                                err, sizeof(err)),
                 FW_OK);
    return s;
}

/* Runs server-first and expects a refusal with a message containing want. */
static void
expect_continue_fails(const char *server_first, fw_status want_st, const char *want)
{
    const char *first, *final = "x";
    char err[256] = "";
    fw_scram *s = begin_pg(&first);

    cr_assert_eq(fw_scram_continue(s, server_first, strlen(server_first), &final, err, sizeof(err)),
                 want_st, "server-first \"%s\": %s", server_first, err);
    cr_assert_null(final);
    cr_assert(strstr(err, want) != NULL, "error \"%s\" lacks \"%s\"", err, want);
    cr_assert(strstr(err, "pencil") == NULL);
    /* A failed exchange accepts nothing more. */
    cr_assert_eq(fw_scram_finish(s, RFC_SERVER_FINAL, strlen(RFC_SERVER_FINAL), err, sizeof(err)),
                 FW_ERR_USAGE);
    fw_scram_free(s);
}

Test(scram, rfc7677_vector_with_user_name)
{
    fw_scram *s = NULL;
    const char *first, *final;
    char err[256];

    cr_assert_eq(fw_scram_begin_user("pencil", "user", FW_SCRAM_CBIND_NONE, NULL, 0, RFC_NONCE,
                                     &s, &first, err, sizeof(err)),
                 FW_OK);
    cr_assert_str_eq(first, "n,,n=user,r=" RFC_NONCE);
    cr_assert_eq(fw_scram_continue(s, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), &final, err,
                                   sizeof(err)),
                 FW_OK, "%s", err);
    cr_assert_str_eq(final, RFC_CLIENT_FINAL);
    cr_assert_eq(fw_scram_finish(s, RFC_SERVER_FINAL, strlen(RFC_SERVER_FINAL), err, sizeof(err)),
                 FW_OK, "%s", err);
    fw_scram_free(s);
}

Test(scram, postgresql_flavour_empty_user)
{
    const char *first, *final;
    char err[256];
    fw_scram *s = begin_pg(&first);

    cr_assert_str_eq(first, "n,,n=,r=" RFC_NONCE);
    cr_assert_eq(fw_scram_continue(s, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), &final, err,
                                   sizeof(err)),
                 FW_OK, "%s", err);
    cr_assert_str_eq(final, PG_CLIENT_FINAL);
    cr_assert_eq(fw_scram_finish(s, PG_SERVER_FINAL, strlen(PG_SERVER_FINAL), err, sizeof(err)),
                 FW_OK, "%s", err);
    /* Finished: no second finish. */
    cr_assert_eq(fw_scram_finish(s, PG_SERVER_FINAL, strlen(PG_SERVER_FINAL), err, sizeof(err)),
                 FW_ERR_USAGE);
    fw_scram_free(s);
}

Test(scram, server_messages_need_not_be_nul_terminated)
{
    const char *first, *final;
    char err[256];
    char sf[sizeof(RFC_SERVER_FIRST) + 4], sfin[sizeof(PG_SERVER_FINAL) + 4];
    fw_scram *s = begin_pg(&first);

    memcpy(sf, RFC_SERVER_FIRST "XXXX", sizeof(sf));
    memcpy(sfin, PG_SERVER_FINAL "YYYY", sizeof(sfin));
    cr_assert_eq(fw_scram_continue(s, sf, strlen(RFC_SERVER_FIRST), &final, err, sizeof(err)),
                 FW_OK, "%s", err);
    cr_assert_str_eq(final, PG_CLIENT_FINAL);
    cr_assert_eq(fw_scram_finish(s, sfin, strlen(PG_SERVER_FINAL), err, sizeof(err)), FW_OK,
                 "%s", err);
    fw_scram_free(s);
}

Test(scram, channel_binding_supported_but_not_used)
{
    fw_scram *s = NULL;
    const char *first, *final;
    char err[256];

    cr_assert_eq(fw_scram_begin("pencil", FW_SCRAM_CBIND_NOT_USED, NULL, 0, RFC_NONCE, &s, &first,
                                err, sizeof(err)),
                 FW_OK);
    cr_assert_str_eq(first, "y,,n=,r=" RFC_NONCE);
    cr_assert_eq(fw_scram_continue(s, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), &final, err,
                                   sizeof(err)),
                 FW_OK);
    cr_assert_str_eq(final, "c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                            "p=VpuC5DGQa5ro9tXE9MnKs69NH1nxnuregZZcclqIGfM=");
    cr_assert_eq(fw_scram_finish(s, "v=FOmOj9BpTGwvnzwBtWQjBaPmVxT9I8IeHBOhcIPu3us=", 46, err,
                                 sizeof(err)),
                 FW_OK, "%s", err);
    fw_scram_free(s);
}

Test(scram, tls_server_end_point_binding)
{
    fw_scram *s = NULL;
    const char *first, *final;
    char err[256];
    uint8_t hash[32];
    int i;

    for (i = 0; i < 32; i++)
        hash[i] = (uint8_t)i;
    cr_assert_eq(fw_scram_begin("pencil", FW_SCRAM_CBIND_TLS_SERVER_END_POINT, hash, sizeof(hash),
                                RFC_NONCE, &s, &first, err, sizeof(err)),
                 FW_OK);
    cr_assert_str_eq(first, "p=tls-server-end-point,,n=,r=" RFC_NONCE);
    cr_assert_eq(fw_scram_continue(s, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), &final, err,
                                   sizeof(err)),
                 FW_OK);
    cr_assert_str_eq(final,
                     "c=cD10bHMtc2VydmVyLWVuZC1wb2ludCwsAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=,"
                     "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                     "p=Q8h71kjaoMzNI7dPksDrhRE/5mTUObF0fUHVIgBOWQg=");
    cr_assert_eq(fw_scram_finish(s, "v=ykwoqH8mLqO5AQCeuwwf6lsj9f8zyJZT/CcvAbN4Ssc=", 46, err,
                                 sizeof(err)),
                 FW_OK, "%s", err);
    fw_scram_free(s);
}

Test(scram, plus_without_certificate_hash_is_usage_error)
{
    fw_scram *s = (fw_scram *)1;
    const char *first = "x";
    char err[256];

    cr_assert_eq(fw_scram_begin("pencil", FW_SCRAM_CBIND_TLS_SERVER_END_POINT, NULL, 0, NULL, &s,
                                &first, err, sizeof(err)),
                 FW_ERR_USAGE);
    cr_assert_null(s);
    cr_assert_null(first);
}

Test(scram, random_nonce)
{
    fw_scram *a = NULL, *b = NULL;
    const char *fa, *fb;
    char err[256];

    cr_assert_eq(fw_scram_begin("pw", FW_SCRAM_CBIND_NONE, NULL, 0, NULL, &a, &fa, err, sizeof(err)),
                 FW_OK);
    cr_assert_eq(fw_scram_begin("pw", FW_SCRAM_CBIND_NONE, NULL, 0, NULL, &b, &fb, err, sizeof(err)),
                 FW_OK);
    cr_assert_eq(strncmp(fa, "n,,n=,r=", 8), 0);
    cr_assert_eq(strlen(fa), 8 + 32);       /* 24 random bytes in base64 */
    cr_assert_str_neq(fa, fb);
    cr_assert_null(strchr(fa + 8, ','));
    fw_scram_free(a);
    fw_scram_free(b);
    fw_scram_free(NULL);
}

Test(scram, user_name_is_escaped)
{
    fw_scram *s = NULL;
    const char *first;
    char err[256];

    cr_assert_eq(fw_scram_begin_user("pw", "a,b=c", FW_SCRAM_CBIND_NONE, NULL, 0, "abc", &s, &first,
                                     err, sizeof(err)),
                 FW_OK);
    cr_assert_str_eq(first, "n,,n=a=2Cb=3Dc,r=abc");
    fw_scram_free(s);
}

Test(scram, invalid_test_nonce_is_usage_error)
{
    fw_scram *s = NULL;
    const char *first;
    char err[256];

    cr_assert_eq(fw_scram_begin("pw", FW_SCRAM_CBIND_NONE, NULL, 0, "a,b", &s, &first, err,
                                sizeof(err)),
                 FW_ERR_USAGE);
    cr_assert_eq(fw_scram_begin("pw", FW_SCRAM_CBIND_NONE, NULL, 0, "", &s, &first, err,
                                sizeof(err)),
                 FW_ERR_USAGE);
    cr_assert_null(s);
}

Test(scram, server_signature_mismatch_is_refused)
{
    const char *first, *final;
    char err[256] = "";
    fw_scram *s = begin_pg(&first);

    cr_assert_eq(fw_scram_continue(s, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), &final, err,
                                   sizeof(err)),
                 FW_OK);
    /* The RFC's signature is for n=user: a server that did not see our
     * exact messages, or does not know the password, cannot produce ours. */
    cr_assert_eq(fw_scram_finish(s, RFC_SERVER_FINAL, strlen(RFC_SERVER_FINAL), err, sizeof(err)),
                 FW_ERR_AUTH);
    cr_assert(strstr(err, "server signature does not match") != NULL, "%s", err);
    fw_scram_free(s);
}

Test(scram, server_final_variants)
{
    static const struct {
        const char *msg;
        fw_status st;
        const char *text;
    } cases[] = {
        {"e=invalid-proof", FW_ERR_AUTH, "the server reported \"invalid-proof\""},
        {"e=other-error,x=1", FW_ERR_AUTH, "other-error"},
        {"", FW_ERR_PROTOCOL, "malformed"},
        {"v=", FW_ERR_PROTOCOL, "invalid server signature"},
        {"v=3HO6Qt1M4MKJrmlKaoOqLAI0/0TV0HZe7J9H3MBtSOg", FW_ERR_PROTOCOL, "invalid server signature"},
        {"v=3HO6Qt1M4MKJrmlKaoOqLAI0/0TV0HZe7J9H3MBtSOg=,x=y", FW_ERR_PROTOCOL, "malformed"},
        {"v=3HO6Qt1M4MKJrmlKaoOqLAI0/0TV0HZe7J9H3MBtSOg=,", FW_ERR_PROTOCOL, "malformed"},
        {"v=3HO6Qt1M4MKJrmlKaoOqLAI0/0TV0HZe7J9H3MBtSOgAAAA=", FW_ERR_PROTOCOL, "invalid server signature"},
        {"x=3HO6Qt1M4MKJrmlKaoOqLAI0/0TV0HZe7J9H3MBtSOg=", FW_ERR_PROTOCOL, "malformed"},
        {"v=4HO6Qt1M4MKJrmlKaoOqLAI0/0TV0HZe7J9H3MBtSOg=", FW_ERR_AUTH, "does not match"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *first, *final;
        char err[256] = "";
        fw_scram *s = begin_pg(&first);

        cr_assert_eq(fw_scram_continue(s, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), &final, err,
                                       sizeof(err)),
                     FW_OK);
        cr_assert_eq(fw_scram_finish(s, cases[i].msg, strlen(cases[i].msg), err, sizeof(err)),
                     cases[i].st, "server-final \"%s\": %s", cases[i].msg, err);
        cr_assert(strstr(err, cases[i].text) != NULL, "\"%s\" lacks \"%s\"", err, cases[i].text);
        fw_scram_free(s);
    }
}

Test(scram, server_error_text_is_sanitised_and_bounded)
{
    const char *first, *final;
    char err[1024] = "";
    char msg[600];
    fw_scram *s = begin_pg(&first);

    memset(msg, 'A', sizeof(msg));
    memcpy(msg, "e=\x1b[31m", 7);
    cr_assert_eq(fw_scram_continue(s, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), &final, err,
                                   sizeof(err)),
                 FW_OK);
    cr_assert_eq(fw_scram_finish(s, msg, sizeof(msg), err, sizeof(err)), FW_ERR_AUTH);
    cr_assert_null(strchr(err, '\x1b'));
    cr_assert_lt(strlen(err), 300);
    fw_scram_free(s);
}

Test(scram, nonce_not_extending_ours_is_refused)
{
    expect_continue_fails("r=XOprNGfwEbeRWgbNEkqO%hvYDpW,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
                          FW_ERR_AUTH, "does not extend");
    /* Equal to ours: the server added nothing. */
    expect_continue_fails("r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", FW_ERR_AUTH,
                          "does not extend");
    /* A prefix of ours. */
    expect_continue_fails("r=rOprNG,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", FW_ERR_AUTH,
                          "does not extend");
}

Test(scram, iteration_counts)
{
    expect_continue_fails("r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0",
                          FW_ERR_PROTOCOL, "invalid iteration count");
    expect_continue_fails("r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1000001",
                          FW_ERR_AUTH, "over the client's limit");
    expect_continue_fails("r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,"
                          "i=99999999999999999999999999999999",
                          FW_ERR_AUTH, "over the client's limit");
    expect_continue_fails("r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-1",
                          FW_ERR_PROTOCOL, "invalid iteration count");
    expect_continue_fails("r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=+5",
                          FW_ERR_PROTOCOL, "invalid iteration count");
    expect_continue_fails("r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096 ",
                          FW_ERR_PROTOCOL, "invalid iteration count");
    expect_continue_fails("r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=",
                          FW_ERR_PROTOCOL, "iteration count expected");
}

Test(scram, the_iteration_cap_itself_is_accepted)
{
    const char *first, *final;
    char err[256];
    const char *sf = "r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1";
    fw_scram *s = begin_pg(&first);

    cr_assert_eq(fw_scram_continue(s, sf, strlen(sf), &final, err, sizeof(err)), FW_OK, "%s", err);
    fw_scram_free(s);
}

Test(scram, malformed_server_first)
{
    static const struct {
        const char *msg;
        const char *text;
    } cases[] = {
        {"", "nonce expected"},
        {"m=ext,r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "m="},
        {"s=W22ZaJ0SNY7soEsUEjb6gQ==,r=rOprNGfwEbeRWgbNEkqOx,i=4096", "nonce expected"},
        {"r=rOprNGfwEbeRWgbNEkqOx,i=4096,s=W22ZaJ0SNY7soEsUEjb6gQ==", "salt expected"},
        {"r=rOprNGfwEbeRWgbNEkqOx", "salt expected"},
        {"r=rOprNGfwEbeRWgbNEkqOx,", "salt expected"},
        {"r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==", "iteration count expected"},
        {"r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,", "iteration count expected"},
        {"r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,x=ext", "iteration count expected"},
        {"r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,", "iteration count expected"},
        {"r=rOprNGfwEbeRWgbNEkqOx,s=,i=4096", "invalid salt"},
        {"r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ=,i=4096", "invalid salt"},
        {"r=rOprNGfwEbeRWgbNEkqOx,s=W22Za J0SNY7soEsUEjb6gQ==,i=4096", "invalid salt"},
        {"r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ=A,i=4096", "invalid salt"},
        {"r=rOprNGfwEbeRWgbNEkqO\x7f,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "invalid nonce"},
        {"r=rOprNGfwEbeRWgbNEkqO x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "invalid nonce"},
        {"R=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "nonce expected"},
        {"r", "nonce expected"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_continue_fails(cases[i].msg, FW_ERR_PROTOCOL, cases[i].text);
}

Test(scram, nul_inside_server_first_is_refused)
{
    const char *first, *final;
    char err[256] = "";
    static const char sf[] = "r=rOprNGfwEbeRWgbNEkqOx\0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    fw_scram *s = begin_pg(&first);

    cr_assert_eq(fw_scram_continue(s, sf, sizeof(sf) - 1, &final, err, sizeof(err)),
                 FW_ERR_PROTOCOL);
    fw_scram_free(s);
}

Test(scram, overlong_server_messages_are_refused)
{
    const char *first, *final;
    char err[256] = "";
    size_t n = 70000;
    char *big = malloc(n);
    fw_scram *s = begin_pg(&first);

    cr_assert_not_null(big);
    memset(big, 'x', n);
    memcpy(big, "r=" RFC_NONCE "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1,", 55);
    cr_assert_eq(fw_scram_continue(s, big, n, &final, err, sizeof(err)), FW_ERR_PROTOCOL);
    cr_assert(strstr(err, "too long") != NULL, "%s", err);
    fw_scram_free(s);
    free(big);
}

Test(scram, out_of_order_calls)
{
    const char *first, *final;
    char err[256];
    fw_scram *s = begin_pg(&first);

    cr_assert_eq(fw_scram_finish(s, PG_SERVER_FINAL, strlen(PG_SERVER_FINAL), err, sizeof(err)),
                 FW_ERR_USAGE);
    fw_scram_free(s);
    s = begin_pg(&first);
    cr_assert_eq(fw_scram_continue(s, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), &final, err,
                                   sizeof(err)),
                 FW_OK);
    cr_assert_eq(fw_scram_continue(s, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), &final, err,
                                   sizeof(err)),
                 FW_ERR_USAGE);
    fw_scram_free(s);
    cr_assert_eq(fw_scram_continue(NULL, RFC_SERVER_FIRST, 1, &final, err, sizeof(err)),
                 FW_ERR_USAGE);
    cr_assert_eq(fw_scram_finish(NULL, "v=", 2, err, sizeof(err)), FW_ERR_USAGE);
}
