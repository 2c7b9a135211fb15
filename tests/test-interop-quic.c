/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A real QUIC connection through sspid's QUIC mode (issue 16 item 2):
 * ngtcp2 is the QUIC stack at both ends (tests/quic-ngtcp2.c), the
 * packets pass in memory; one end's TLS is sspid (ISC or ASC with
 * ISC_REQ_MESSAGES, driven msquic's way: messages in, messages and
 * traffic secrets out, keys installed with ngtcp2's crypto helpers,
 * transport parameters through the generic TLS extension buffers), the
 * other end's is a plain GnuTLS session under ngtcp2_crypto_gnutls.  The
 * handshake must complete, a session ticket pass after it, and a stream
 * carry a payload each way, checked byte for byte, across a 1-RTT key
 * update the sspid end starts: for each TLS 1.3 suite
 * QUIC uses (the GnuTLS end is held to one at a time, so the sspid end's
 * keys are made from each suite's secrets), with an RSA server, with a
 * HelloRetryRequest, and with a client certificate (see the scenario
 * tables).  The policy refusal (no quic=allow) is tests/test-quic.
 *
 * Skipped (77) when configure found no libngtcp2_crypto_gnutls.
 */
#include "config.h"

#include <stdlib.h>

#ifndef HAVE_NGTCP2

int
main (void)
{
  return 77;
}

#else

#include <check.h>
#include <string.h>

#include "quic-ngtcp2.h"
#include "testutil.h"

static const char quic_config[] =
  "[credential server]\nquic=allow\n"
  "[credential client]\nquic=allow\n"
  "[credential rsa]\nquic=allow\n"
  "[credential mtls]\nquic=allow\n";

/* One connection: the suite the GnuTLS end is held to (RFC 9001 5.3:
 * CCM_8 is out, and sspid's default priorities offer no CCM), and what
 * else makes the handshake differ. */
typedef struct {
  const char *suite;                /* GnuTLS's name of the AEAD */
  gnutls_cipher_algorithm_t cipher;
  const char *gnutls_groups;        /* NULL, or the only groups the GnuTLS end allows */
  const char *server_files;         /* the server's certificate: test PKI stem */
  gboolean    is_mutual;            /* the server requires a client certificate */
} Scenario;

#define AES128 "AES-128-GCM", GNUTLS_CIPHER_AES_128_GCM
#define AES256 "AES-256-GCM", GNUTLS_CIPHER_AES_256_GCM
#define CHACHA "CHACHA20-POLY1305", GNUTLS_CIPHER_CHACHA20_POLY1305

/* ngtcp2 on sspid as client: each suite; an RSA server, whose flight is
 * more than a packet holds, so messages reach ISC cut across CRYPTO
 * frames; a server that wants a group the client sent no key share for
 * (a HelloRetryRequest and a second ClientHello, both at the Initial
 * level); a server that requires the client's certificate. */
static const Scenario client_scenarios[] = {
  { AES128, NULL, "server", FALSE },
  { AES256, NULL, "server", FALSE },
  { CHACHA, NULL, "server", FALSE },
  { AES128, NULL, "rsa", FALSE },
  { AES128, "-GROUP-ALL:+GROUP-SECP384R1", "server", FALSE },
  { AES128, NULL, "server", TRUE },
};

/* ngtcp2 on sspid as server: each suite; the RSA credential (a larger
 * flight); the credential with client-auth=require (mtls). */
static const Scenario server_scenarios[] = {
  { AES128, NULL, "server", FALSE },
  { AES256, NULL, "server", FALSE },
  { CHACHA, NULL, "server", FALSE },
  { AES128, NULL, "rsa", FALSE },
  { AES128, NULL, "server", TRUE },
};

static void
setup (void)
{
  tu_fixture_setup_with (quic_config);
}

static char *
gnutls_priority (const Scenario *sc)
{
  return g_strdup_printf ("NORMAL:-VERS-ALL:+VERS-TLS1.3:%%DISABLE_TLS13_COMPAT_MODE:"
                          "-CIPHER-ALL:+%s%s%s", sc->suite, sc->gnutls_groups ? ":" : "",
                          sc->gnutls_groups ? sc->gnutls_groups : "");
}

/* A payload of @len bytes that differs from the other end's (@seed). */
static GBytes *
payload_new (gsize len, guint32 seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  guint8 *data = g_malloc (len);

  for (gsize i = 0; i < len; i++)
    data[i] = (guint8) g_rand_int (rand);
  return g_bytes_new_take (data, len);
}

static void
assert_received (const QnEnd *end, GBytes *expected)
{
  ck_assert_uint_eq (end->received->len, g_bytes_get_size (expected));
  ck_assert_msg (memcmp (end->received->data, g_bytes_get_data (expected, NULL),
                         end->received->len) == 0, "the %s got other bytes than were sent",
                 end->is_server ? "server" : "client");
}

/* The client certificate the GnuTLS server verified is the test PKI's. */
static void
assert_client_cert (const QnEnd *gnutls_server)
{
  g_autoptr(GBytes) expected = tu_pki_cert_der ("client.pem");
  const gnutls_datum_t *peers;
  unsigned int n = 0, status = 1;

  peers = gnutls_certificate_get_peers (gnutls_server->session, &n);
  ck_assert_uint_ge (n, 1);
  ck_assert_uint_eq (peers[0].size, g_bytes_get_size (expected));
  ck_assert_mem_eq (peers[0].data, g_bytes_get_data (expected, NULL), peers[0].size);
  ck_assert_int_eq (gnutls_certificate_verify_peers2 (gnutls_server->session, &status), 0);
  ck_assert_uint_eq (status, 0);
}

/* What each end saw of the other's TLS: the suite the GnuTLS end was held
 * to, ALPN h3, and on the sspid end keys for both epochs both ways, every
 * message taken, and a session ticket after the handshake each way. */
static void
assert_tls (const QnEnd *gnutls_end, const QnEnd *sspid_end, const Scenario *sc)
{
  gnutls_datum_t alpn;

  ck_assert_int_eq (gnutls_cipher_get (gnutls_end->session), sc->cipher);
  ck_assert_int_eq (gnutls_alpn_get_selected_protocol (gnutls_end->session, &alpn), 0);
  ck_assert_uint_eq (alpn.size, 2);
  ck_assert_mem_eq (alpn.data, "h3", 2);
  ck_assert (sspid_end->is_tls_done && sspid_end->has_peer_params);
  for (int epoch = QE_HANDSHAKE; epoch < QE_N_EPOCHS; epoch++)
    ck_assert (sspid_end->installed[epoch][0] && sspid_end->installed[epoch][1]);
  ck_assert_uint_eq (sspid_end->sspi.inbox->len, 0);
  /* The keys ngtcp2 derived from sspid's 1-RTT secrets were updated
   * while stream data was still to go, which then arrived whole. */
  ck_assert (sspid_end->is_key_updated);
  ck_assert_uint_lt (sspid_end->sent_at_key_update, g_bytes_get_size (sspid_end->payload));
  if (gnutls_end->is_server)
    /* The GnuTLS server's ticket, in 1-RTT CRYPTO data. */
    ck_assert_uint_gt (sspid_end->crypto_received[QE_ONE_RTT], 0);
  else
    {
      /* sspid's ticket reached the GnuTLS client, which took it. */
      ck_assert_uint_gt (sspid_end->sspi.produced[QE_ONE_RTT]->len, 0);
      ck_assert_uint_eq (sspid_end->sspi.produced[QE_ONE_RTT]->data[0], 4);
      ck_assert (gnutls_session_get_flags (gnutls_end->session) & GNUTLS_SFLAGS_SESSION_TICKET);
    }
}

/* What made @sc's handshake differ, seen happen. */
static void
assert_scenario (const QnEnd *client, const QnEnd *server, const Scenario *sc)
{
  const QnEnd *sspid_end = client->tls == QN_TLS_SSPID ? client : server;
  g_autofree char *client_initial = NULL;

  if (g_str_equal (sc->server_files, "rsa") && sspid_end == client)
    /* The server's flight came in pieces, a message cut at least once. */
    ck_assert_msg (client->crypto_calls[QE_HANDSHAKE] >= 2 && client->cut_rounds >= 1,
                   "%u CRYPTO calls, %u cut", client->crypto_calls[QE_HANDSHAKE],
                   client->cut_rounds);
  if (sc->gnutls_groups != NULL && sspid_end == client)
    {
      client_initial = quic_end_message_types (client->sspi.produced[QE_INITIAL]);
      ck_assert_str_eq (client_initial, "1 1");
    }
  if (sc->is_mutual && sspid_end == client)
    assert_client_cert (server);
}

static void
run_exchange (gboolean is_sspid_client, const Scenario *sc)
{
  g_autofree char *priority = gnutls_priority (sc);
  g_autoptr(GBytes) request = payload_new (150000, 1);
  g_autoptr(GBytes) response = payload_new (70000, 2);
  QnEnd client, server;

  if (is_sspid_client)
    {
      qn_end_init_sspid (&client, FALSE, "client", request);
      qn_end_init_gnutls (&server, TRUE, priority, sc->server_files, sc->is_mutual, response);
    }
  else
    {
      qn_end_init_gnutls (&client, FALSE, priority, sc->is_mutual ? "client" : NULL, FALSE,
                          request);
      qn_end_init_sspid (&server, TRUE, sc->is_mutual ? "mtls" : sc->server_files, response);
    }
  qn_run (&client, &server);
  assert_received (&server, request);
  assert_received (&client, response);
  if (is_sspid_client)
    assert_tls (&server, &client, sc);
  else
    assert_tls (&client, &server, sc);
  assert_scenario (&client, &server, sc);
  qn_end_clear (&client);
  qn_end_clear (&server);
}

/* ngtcp2 on GnuTLS resumes its QUIC connection to ngtcp2 on sspid with
 * the ticket sspid's server sent in the first: the second handshake is a
 * PSK one, and the stream works as in the first. */
START_TEST (test_sspid_server_resumption)
{
  g_autofree char *priority = gnutls_priority (&server_scenarios[0]);
  g_autoptr(GBytes) request = payload_new (150000, 1);
  g_autoptr(GBytes) response = payload_new (70000, 2);
  g_autoptr(GBytes) session = NULL;

  for (int round = 0; round < 2; round++)
    {
      QnEnd client, server;

      qn_end_init_gnutls (&client, FALSE, priority, NULL, FALSE, request);
      if (session != NULL)
        qn_end_gnutls_resume (&client, session);
      qn_end_init_sspid (&server, TRUE, "server", response);
      qn_run (&client, &server);
      assert_received (&server, request);
      assert_received (&client, response);
      ck_assert_int_eq (gnutls_session_is_resumed (client.session), round == 1);
      if (round == 0)
        session = qn_end_gnutls_session_data (&client);
      qn_end_clear (&client);
      qn_end_clear (&server);
    }
}
END_TEST

/* (a) ngtcp2 client on sspid (ISC), ngtcp2 server on GnuTLS. */
START_TEST (test_sspid_client)
{
  run_exchange (TRUE, &client_scenarios[_i]);
}
END_TEST

/* (b) ngtcp2 server on sspid (ASC), ngtcp2 client on GnuTLS. */
START_TEST (test_sspid_server)
{
  run_exchange (FALSE, &server_scenarios[_i]);
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "ngtcp2", setup, tu_fixture_teardown, 60,
      { { test_sspid_client, G_N_ELEMENTS (client_scenarios) },
        { test_sspid_server, G_N_ELEMENTS (server_scenarios) },
        { test_sspid_server_resumption } } },
  };

  return tu_run_cases ("interop-quic", cases, G_N_ELEMENTS (cases));
}

#endif
