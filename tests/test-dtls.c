/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DTLS 1.2 through sspid, both ends in this process on the real daemon
 * (tests/dtls-end.c), datagrams passed by hand so that the test can lose
 * them: the cookie exchange (a HelloVerifyRequest and no context for a
 * ClientHello without a valid cookie), a handshake whose flights come a
 * datagram per token (SEC_I_MESSAGE_FRAGMENT), the DATAGRAM attributes,
 * application data both ways, replayed and tampered records, a lost
 * flight resent by a call with no input, and a flood of ClientHellos that
 * must leave no context in the daemon.
 */

#include "config.h"

#include <check.h>
#include <string.h>

#include "dtls-end.h"
#include "testutil.h"

static GPtrArray *
datagrams (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
}

/* Each datagram of @in to @end, in order; what it sends goes to @out.
 * Returns the last status. */
static SECURITY_STATUS
deliver (DtlsEnd *end, GPtrArray *in, GPtrArray *out)
{
  SECURITY_STATUS status = SEC_I_CONTINUE_NEEDED;

  for (guint i = 0; i < in->len; i++)
    {
      status = dtls_end_step (end, in->pdata[i], out);
      ck_assert_msg (status == SEC_E_OK || status == SEC_I_CONTINUE_NEEDED,
                     "step on datagram %u of %u: 0x%08x", i, in->len, (guint) status);
    }
  return status;
}

/* ClientHello, then the cookie round trip: the server's first answer is a
 * HelloVerifyRequest with no context.  Returns the client's second
 * ClientHello (with the cookie). */
static GPtrArray *
cookie_round_trip (DtlsEnd *client, DtlsEnd *server)
{
  g_autoptr(GPtrArray) hello = datagrams ();
  g_autoptr(GPtrArray) verify = datagrams ();
  GPtrArray *hello2 = datagrams ();

  ck_assert_int_eq (dtls_end_step (client, NULL, hello), SEC_I_CONTINUE_NEEDED);
  ck_assert_uint_eq (hello->len, 1);
  ck_assert_int_eq (dtls_end_step (server, hello->pdata[0], verify), SEC_I_CONTINUE_NEEDED);
  ck_assert_uint_eq (verify->len, 1);
  ck_assert (!server->has_ctx);
  /* HelloVerifyRequest: handshake record, message type 3. */
  ck_assert_uint_eq (((const guint8 *) g_bytes_get_data (verify->pdata[0], NULL))[0], 22);
  ck_assert_uint_eq (((const guint8 *) g_bytes_get_data (verify->pdata[0], NULL))[13], 3);
  ck_assert_int_eq (dtls_end_step (client, verify->pdata[0], hello2), SEC_I_CONTINUE_NEEDED);
  ck_assert_uint_eq (hello2->len, 1);
  return hello2;
}

/* The server's last flight (ChangeCipherSpec, Finished) is lost: the
 * server is done, the client is not.  The client's timer resends its
 * flight; the server's DecryptMessage meets it, says SEC_I_RENEGOTIATE,
 * and its next ASC with no input resends the last flight. */
static void
recover_last_flight (DtlsEnd *client, DtlsEnd *server, GPtrArray *flight3)
{
  g_autoptr(GPtrArray) resent = datagrams ();
  g_autoptr(GPtrArray) flight4 = datagrams ();
  g_autoptr(GPtrArray) none = datagrams ();
  gboolean renegotiate = FALSE;

  ck_assert_int_eq (dtls_end_step (client, NULL, resent), SEC_I_CONTINUE_NEEDED);
  ck_assert_uint_eq (resent->len, flight3->len);
  for (guint i = 0; i < resent->len; i++)
    {
      SECURITY_STATUS status = dtls_end_open (server, resent->pdata[i], NULL);

      ck_assert_msg (status == SEC_I_RENEGOTIATE || status == SEC_E_OK ||
                     status == SEC_E_OUT_OF_SEQUENCE, "resent datagram %u: 0x%08x", i,
                     (guint) status);
      if (status == SEC_I_RENEGOTIATE)
        {
          renegotiate = TRUE;
          ck_assert_int_eq (dtls_end_step (server, NULL, flight4), SEC_E_OK);
        }
    }
  ck_assert (renegotiate);
  ck_assert_uint_ge (flight4->len, 1);
  ck_assert_int_eq (deliver (client, flight4, none), SEC_E_OK);
}

/* A whole handshake; @drop_server_flight: lose the server's first flight
 * once, and let the client's timer (a call with no input) recover; and
 * its last flight too. */
static void
handshake (DtlsEnd *client, DtlsEnd *server, gboolean drop_server_flight)
{
  g_autoptr(GPtrArray) hello2 = cookie_round_trip (client, server);
  g_autoptr(GPtrArray) flight2 = datagrams ();
  g_autoptr(GPtrArray) flight3 = datagrams ();
  g_autoptr(GPtrArray) flight4 = datagrams ();
  g_autoptr(GPtrArray) none = datagrams ();

  ck_assert_int_eq (deliver (server, hello2, flight2), SEC_I_CONTINUE_NEEDED);
  ck_assert (server->has_ctx);
  /* ServerHello, Certificate, ServerKeyExchange, ServerHelloDone: more
   * than one datagram of the default MTU, none larger. */
  ck_assert_uint_ge (flight2->len, 1);
  for (guint i = 0; i < flight2->len; i++)
    ck_assert_uint_le (g_bytes_get_size (flight2->pdata[i]), server->mtu ? server->mtu : 1096);
  /* A flight larger than the MTU came a datagram per call. */
  if (server->mtu != 0)
    ck_assert_uint_ge (flight2->len, 3);

  if (drop_server_flight)
    {
      g_autoptr(GPtrArray) resent = datagrams ();
      g_autoptr(GPtrArray) flight2b = datagrams ();

      /* The client's timer: a call with no input resends its ClientHello,
       * the same message under a new record sequence number. */
      ck_assert_int_eq (dtls_end_step (client, NULL, resent), SEC_I_CONTINUE_NEEDED);
      ck_assert_uint_eq (resent->len, 1);
      ck_assert_uint_eq (g_bytes_get_size (resent->pdata[0]), g_bytes_get_size (hello2->pdata[0]));
      ck_assert (!g_bytes_equal (resent->pdata[0], hello2->pdata[0]));
      ck_assert_mem_eq ((const guint8 *) g_bytes_get_data (resent->pdata[0], NULL) + 13,
                        (const guint8 *) g_bytes_get_data (hello2->pdata[0], NULL) + 13,
                        g_bytes_get_size (hello2->pdata[0]) - 13);
      /* The server sees its peer's flight again and resends its own. */
      ck_assert_int_eq (deliver (server, resent, flight2b), SEC_I_CONTINUE_NEEDED);
      ck_assert_uint_eq (flight2b->len, flight2->len);
      g_ptr_array_set_size (flight2, 0);
      g_ptr_array_extend_and_steal (flight2, g_steal_pointer (&flight2b));
    }

  ck_assert_int_eq (deliver (client, flight2, flight3), SEC_I_CONTINUE_NEEDED);
  ck_assert_uint_ge (flight3->len, 1);
  ck_assert_int_eq (deliver (server, flight3, flight4), SEC_E_OK);
  ck_assert_uint_ge (flight4->len, 1);
  if (drop_server_flight)
    {
      recover_last_flight (client, server, flight3);
      return;
    }
  ck_assert_int_eq (deliver (client, flight4, none), SEC_E_OK);
  ck_assert_uint_eq (none->len, 0);
}

static void
check_data_both_ways (DtlsEnd *client, DtlsEnd *server)
{
  static const char ping[] = "ping over DTLS", pong[] = "pong";
  g_autoptr(GBytes) sealed = dtls_end_seal (client, ping, sizeof ping);
  g_autoptr(GBytes) back = dtls_end_seal (server, pong, sizeof pong);
  g_autoptr(GBytes) plain = NULL;
  g_autoptr(GBytes) plain2 = NULL;
  g_autoptr(GBytes) later = dtls_end_seal (client, "later", 5);
  g_autoptr(GBytes) plain3 = NULL;
  g_autoptr(GByteArray) tampered = NULL;

  ck_assert_int_eq (dtls_end_open (server, sealed, &plain), SEC_E_OK);
  ck_assert_uint_eq (g_bytes_get_size (plain), sizeof ping);
  ck_assert_mem_eq (g_bytes_get_data (plain, NULL), ping, sizeof ping);
  ck_assert_int_eq (dtls_end_open (client, back, &plain2), SEC_E_OK);
  ck_assert_mem_eq (g_bytes_get_data (plain2, NULL), pong, sizeof pong);

  /* A replayed datagram is refused, and the association goes on. */
  ck_assert_int_eq (dtls_end_open (server, sealed, NULL), SEC_E_OUT_OF_SEQUENCE);
  /* So is a tampered one. */
  tampered = g_byte_array_new ();
  g_byte_array_append (tampered, g_bytes_get_data (later, NULL), (guint) g_bytes_get_size (later));
  tampered->data[tampered->len - 1] ^= 1;
  {
    g_autoptr(GBytes) bad = g_bytes_new (tampered->data, tampered->len);
    ck_assert_int_eq (dtls_end_open (server, bad, NULL), SEC_E_DECRYPT_FAILURE);
  }
  ck_assert_int_eq (dtls_end_open (server, later, &plain3), SEC_E_OK);
  ck_assert_mem_eq (g_bytes_get_data (plain3, NULL), "later", 5);
}

START_TEST (test_dtls_handshake_and_data)
{
  DtlsEnd client, server;
  SecPkgContext_ConnectionInfo info;

  dtls_end_init (&client, FALSE, NULL);
  dtls_end_init (&server, TRUE, "server");
  handshake (&client, &server, FALSE);
  ck_assert_int_eq (QueryContextAttributesA (&client.ctx, SECPKG_ATTR_CONNECTION_INFO, &info),
                    SEC_E_OK);
  ck_assert_uint_eq (info.dwProtocol, SP_PROT_DTLS1_2_CLIENT);
  ck_assert_int_eq (QueryContextAttributesA (&server.ctx, SECPKG_ATTR_CONNECTION_INFO, &info),
                    SEC_E_OK);
  ck_assert_uint_eq (info.dwProtocol, SP_PROT_DTLS1_2_SERVER);
  check_data_both_ways (&client, &server);
  dtls_end_clear (&client);
  dtls_end_clear (&server);
}
END_TEST

/* SECBUFFER_DTLS_MTU: no datagram larger, on either side, handshake and
 * records; the server's flight of some 800 bytes takes several. */
START_TEST (test_dtls_mtu)
{
  DtlsEnd client, server;
  SecPkgContext_StreamSizes sizes;
  g_autoptr(GBytes) sealed = NULL;
  g_autoptr(GBytes) plain = NULL;
  guint8 big[400];

  dtls_end_init (&client, FALSE, NULL);
  dtls_end_init (&server, TRUE, "server");
  client.mtu = server.mtu = 300;
  handshake (&client, &server, FALSE);
  ck_assert_int_eq (QueryContextAttributesA (&client.ctx, SECPKG_ATTR_STREAM_SIZES, &sizes),
                    SEC_E_OK);
  ck_assert_uint_le (sizes.cbHeader + sizes.cbMaximumMessage + sizes.cbTrailer, 300);
  ck_assert_uint_gt (sizes.cbMaximumMessage, 200);
  memset (big, 'x', sizeof big);
  sealed = dtls_end_seal (&client, big, sizes.cbMaximumMessage);
  ck_assert_uint_le (g_bytes_get_size (sealed), 300);
  ck_assert_int_eq (dtls_end_open (&server, sealed, &plain), SEC_E_OK);
  ck_assert_uint_eq (g_bytes_get_size (plain), sizes.cbMaximumMessage);
  dtls_end_clear (&client);
  dtls_end_clear (&server);
}
END_TEST

START_TEST (test_dtls_lost_flight)
{
  DtlsEnd client, server;

  dtls_end_init (&client, FALSE, NULL);
  dtls_end_init (&server, TRUE, "server");
  handshake (&client, &server, TRUE);
  check_data_both_ways (&client, &server);
  dtls_end_clear (&client);
  dtls_end_clear (&server);
}
END_TEST

/* ClientHellos without a cookie, each with a random of its own (as from
 * spoofed sources), cost the daemon no context: each is answered with a
 * HelloVerifyRequest and the counts stay as they were. */
START_TEST (test_dtls_hello_flood)
{
  DtlsEnd client, server;
  g_autoptr(GPtrArray) hello = datagrams ();
  TuCounts before, after;
  GByteArray *forged;

  dtls_end_init (&client, FALSE, NULL);
  dtls_end_init (&server, TRUE, "server");
  ck_assert_int_eq (dtls_end_step (&client, NULL, hello), SEC_I_CONTINUE_NEEDED);
  forged = g_byte_array_new ();
  g_byte_array_append (forged, g_bytes_get_data (hello->pdata[0], NULL),
                       (guint) g_bytes_get_size (hello->pdata[0]));
  dtls_end_clear (&client);

  before = tu_fixture_counts ();
  for (guint i = 0; i < 2000; i++)
    {
      g_autoptr(GPtrArray) answer = datagrams ();
      g_autoptr(GBytes) one = NULL;

      memcpy (forged->data + 27, &i, sizeof i);   /* the ClientHello's random */
      one = g_bytes_new (forged->data, forged->len);
      ck_assert_int_eq (dtls_end_step (&server, one, answer), SEC_I_CONTINUE_NEEDED);
      ck_assert_uint_eq (answer->len, 1);
      ck_assert (!server.has_ctx);
    }
  after = tu_fixture_counts ();
  ck_assert_msg (tu_counts_equal (&before, &after),
                 "before: " TU_COUNTS_FORMAT ", after: " TU_COUNTS_FORMAT,
                 TU_COUNTS_ARGS (before), TU_COUNTS_ARGS (after));
  /* Not a ClientHello at all: refused, no context either. */
  {
    g_autoptr(GPtrArray) answer = datagrams ();
    g_autoptr(GBytes) junk = g_bytes_new ("\x16\xfe\xfd junk", 9);

    ck_assert_int_eq (dtls_end_step (&server, junk, answer), SEC_E_INVALID_TOKEN);
    ck_assert (!server.has_ctx);
  }
  g_byte_array_unref (forged);
  dtls_end_clear (&server);
}
END_TEST

/* A stream credential cannot make a datagram context, and a DTLS
 * credential no stream context. */
START_TEST (test_dtls_modes_apart)
{
  DtlsEnd client;
  g_autoptr(GPtrArray) out = datagrams ();
  SCHANNEL_CRED tls12 = { .dwVersion = SCHANNEL_CRED_VERSION,
                          .grbitEnabledProtocols = SP_PROT_TLS1_2_CLIENT };
  SCHANNEL_CRED dtls10 = { .dwVersion = SCHANNEL_CRED_VERSION,
                           .grbitEnabledProtocols = SP_PROT_DTLS1_0_CLIENT };
  CredHandle cred;
  CtxtHandle ctx;
  SecBuffer ob = { 0, SECBUFFER_TOKEN, NULL };
  SecBufferDesc odesc = { SECBUFFER_VERSION, 1, &ob };
  ULONG attrs;
  TimeStamp expiry;

  dtls_end_init (&client, FALSE, NULL);
  ck_assert_int_eq (InitializeSecurityContextA (&client.cred, NULL, (char *) "localhost",
                                                (DTLS_CLIENT_REQ & ~ISC_REQ_DATAGRAM) | ISC_REQ_STREAM,
                                                0, 0, NULL, 0, &ctx, &odesc, &attrs, &expiry),
                    SEC_E_ALGORITHM_MISMATCH);
  dtls_end_clear (&client);

  ck_assert_int_eq (AcquireCredentialsHandleA (NULL, (char *) UNISP_NAME, SECPKG_CRED_OUTBOUND,
                                               NULL, &tls12, NULL, NULL, &cred, &expiry),
                    SEC_E_OK);
  ck_assert_int_eq (InitializeSecurityContextA (&cred, NULL, (char *) "localhost",
                                                DTLS_CLIENT_REQ, 0, 0, NULL, 0, &ctx, &odesc,
                                                &attrs, &expiry),
                    SEC_E_ALGORITHM_MISMATCH);
  FreeCredentialsHandle (&cred);
  /* A TLS-only server credential: no HelloVerifyRequest, no context. */
  {
    SCHANNEL_CRED tls12s = { .dwVersion = SCHANNEL_CRED_VERSION,
                             .grbitEnabledProtocols = SP_PROT_TLS1_2_SERVER };
    DtlsEnd probe;
    g_autoptr(GPtrArray) hello = datagrams ();
    SecBuffer ib[2] = { { 0, SECBUFFER_TOKEN, NULL }, { 0, SECBUFFER_EMPTY, NULL } };
    SecBufferDesc idesc = { SECBUFFER_VERSION, 2, ib };
    TuCounts before = tu_fixture_counts (), after;

    dtls_end_init (&probe, FALSE, NULL);
    ck_assert_int_eq (dtls_end_step (&probe, NULL, hello), SEC_I_CONTINUE_NEEDED);
    ib[0].cbBuffer = (ULONG) g_bytes_get_size (hello->pdata[0]);
    ib[0].pvBuffer = (void *) g_bytes_get_data (hello->pdata[0], NULL);
    ck_assert_int_eq (AcquireCredentialsHandleA ((char *) "server", (char *) UNISP_NAME,
                                                 SECPKG_CRED_INBOUND, NULL, &tls12s, NULL, NULL,
                                                 &cred, &expiry),
                      SEC_E_OK);
    SecInvalidateHandle (&ctx);
    ck_assert_int_eq (AcceptSecurityContext (&cred, NULL, &idesc, DTLS_SERVER_REQ, 0, &ctx,
                                             &odesc, &attrs, &expiry),
                      SEC_E_ALGORITHM_MISMATCH);
    ck_assert (!SecIsValidHandle (&ctx));
    FreeCredentialsHandle (&cred);
    dtls_end_clear (&probe);
    after = tu_fixture_counts ();
    ck_assert_uint_eq (after.contexts, before.contexts);
  }
  /* DTLS 1.0 is not spoken. */
  ck_assert_int_eq (AcquireCredentialsHandleA (NULL, (char *) UNISP_NAME, SECPKG_CRED_OUTBOUND,
                                               NULL, &dtls10, NULL, NULL, &cred, &expiry),
                    SEC_E_ALGORITHM_MISMATCH);
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "dtls", tu_fixture_setup, tu_fixture_teardown, 60, { { test_dtls_handshake_and_data },
                                                           { test_dtls_mtu },
                                                           { test_dtls_lost_flight },
                                                           { test_dtls_hello_flood },
                                                           { test_dtls_modes_apart } } },
  };

  return tu_run_cases ("dtls", cases, G_N_ELEMENTS (cases));
}
