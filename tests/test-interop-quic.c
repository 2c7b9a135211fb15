/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A real QUIC connection through sspid's QUIC mode (issue 16 item 2):
 * ngtcp2 is the QUIC stack at both ends (tests/quic-ngtcp2.c), the
 * packets pass in memory; one end's TLS is sspid (ISC or ASC with
 * ISC_REQ_MESSAGES, driven msquic's way: messages in, messages and
 * traffic secrets out, keys installed with ngtcp2's crypto helpers,
 * transport parameters through the generic TLS extension buffers), the
 * other end's is a plain GnuTLS session under ngtcp2_crypto_gnutls.  The
 * handshake must complete and a stream carry a payload each way, checked
 * byte for byte, for each TLS 1.3 suite QUIC uses: the GnuTLS end is held
 * to one suite at a time, so the sspid end's keys are made from each
 * suite's secrets.  The policy refusal (no quic=allow) is tests/test-quic.
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
  "[credential client]\nquic=allow\n";

/* What the GnuTLS end allows, one AEAD each (RFC 9001 5.3: CCM_8 is out,
 * and CCM is not offered by sspid's default priorities). */
static const struct {
  const char *name;
  gnutls_cipher_algorithm_t cipher;
} suites[] = {
  { "AES-128-GCM", GNUTLS_CIPHER_AES_128_GCM },
  { "AES-256-GCM", GNUTLS_CIPHER_AES_256_GCM },
  { "CHACHA20-POLY1305", GNUTLS_CIPHER_CHACHA20_POLY1305 },
};

static void
setup (void)
{
  tu_fixture_setup_with (quic_config);
}

static char *
gnutls_priority (int suite)
{
  return g_strdup_printf ("NORMAL:-VERS-ALL:+VERS-TLS1.3:%%DISABLE_TLS13_COMPAT_MODE:"
                          "-CIPHER-ALL:+%s", suites[suite].name);
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

/* What each end saw of the other's TLS: the suite the GnuTLS end was held
 * to, ALPN h3, and on the sspid end keys for both epochs both ways. */
static void
assert_tls (const QnEnd *gnutls_end, const QnEnd *sspid_end, int suite)
{
  gnutls_datum_t alpn;

  ck_assert_int_eq (gnutls_cipher_get (gnutls_end->session), suites[suite].cipher);
  ck_assert_int_eq (gnutls_alpn_get_selected_protocol (gnutls_end->session, &alpn), 0);
  ck_assert_uint_eq (alpn.size, 2);
  ck_assert_mem_eq (alpn.data, "h3", 2);
  ck_assert (sspid_end->is_tls_done && sspid_end->has_peer_params);
  for (int epoch = QE_HANDSHAKE; epoch < QE_N_EPOCHS; epoch++)
    ck_assert (sspid_end->installed[epoch][0] && sspid_end->installed[epoch][1]);
  /* Every message the peer sent was taken whole; a GnuTLS server's
   * session ticket came after the handshake, in 1-RTT CRYPTO data. */
  ck_assert_uint_eq (sspid_end->sspi.inbox->len, 0);
  if (gnutls_end->is_server)
    ck_assert_uint_gt (sspid_end->crypto_received[QE_ONE_RTT], 0);
  /* And sspid's ticket (a NewSessionTicket in 1-RTT) reached the GnuTLS
   * client, which took it. */
  else
    {
      ck_assert_uint_gt (sspid_end->sspi.produced[QE_ONE_RTT]->len, 0);
      ck_assert_uint_eq (sspid_end->sspi.produced[QE_ONE_RTT]->data[0], 4);
      ck_assert (gnutls_session_get_flags (gnutls_end->session) & GNUTLS_SFLAGS_SESSION_TICKET);
    }
  /* The client's payload needs more than the first flight's congestion
   * window and flow control credit of many packets: real traffic. */
  ck_assert_uint_gt (gnutls_end->received->len + sspid_end->received->len, 100000);
}

static void
run_exchange (gboolean is_sspid_client, int suite)
{
  g_autofree char *priority = gnutls_priority (suite);
  g_autoptr(GBytes) request = payload_new (150000, 1);
  g_autoptr(GBytes) response = payload_new (70000, 2);
  QnEnd client, server;

  qn_end_init (&client, FALSE, is_sspid_client ? QN_TLS_SSPID : QN_TLS_GNUTLS,
               is_sspid_client ? "client" : priority, request);
  qn_end_init (&server, TRUE, is_sspid_client ? QN_TLS_GNUTLS : QN_TLS_SSPID,
               is_sspid_client ? priority : "server", response);
  qn_run (&client, &server);
  assert_received (&server, request);
  assert_received (&client, response);
  if (is_sspid_client)
    assert_tls (&server, &client, suite);
  else
    assert_tls (&client, &server, suite);
  qn_end_clear (&client);
  qn_end_clear (&server);
}

/* (a) ngtcp2 client on sspid (ISC), ngtcp2 server on GnuTLS. */
START_TEST (test_sspid_client)
{
  run_exchange (TRUE, _i);
}
END_TEST

/* (b) ngtcp2 server on sspid (ASC), ngtcp2 client on GnuTLS. */
START_TEST (test_sspid_server)
{
  run_exchange (FALSE, _i);
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "ngtcp2", setup, tu_fixture_teardown, 60,
      { { test_sspid_client, G_N_ELEMENTS (suites) },
        { test_sspid_server, G_N_ELEMENTS (suites) } } },
  };

  return tu_run_cases ("interop-quic", cases, G_N_ELEMENTS (cases));
}

#endif
