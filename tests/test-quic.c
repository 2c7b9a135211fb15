/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QUIC mode (ISC_REQ_MESSAGES / ASC_REQ_MESSAGES) through one real sspid
 * on a private bus: a client and a server in this process, each driven as
 * msquic drives Schannel (tests/quic-end.c), complete a TLS 1.3 handshake
 * made of bare handshake messages; each receives the other's transport
 * parameters, both derive the same traffic secrets at the handshake and
 * 1-RTT epochs, and the secrets' offsets put each message in the epoch
 * RFC 9001 puts it in.  A credential without quic=allow, and the
 * anonymous client, are refused with SEC_E_UNSUPPORTED_FUNCTION and a log
 * line.
 */
#include "config.h"

#include <check.h>
#include <stddef.h>
#include <string.h>

#include "quic-end.h"
#include "testutil.h"

#define CLIENT_PARAMS "client transport parameters"
#define SERVER_PARAMS "server transport parameters, somewhat longer"

static const char quic_config[] =
  "[credential server]\nquic=allow\n"
  "[credential client]\nquic=allow\n";

static void
setup (void)
{
  tu_fixture_setup_with (quic_config);
}

static char *
utf16_name (const WCHAR *name)
{
  g_autoptr(GString) s = g_string_new ("");

  for (gsize i = 0; i < SZ_ALG_MAX_SIZE && name[i] != 0; i++)
    g_string_append_c (s, (char) name[i]);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
assert_same_secret (const SEC_TRAFFIC_SECRETS *a, const SEC_TRAFFIC_SECRETS *b, guint32 type)
{
  g_autofree char *cipher = NULL;
  g_autofree char *hash = NULL;

  ck_assert_ptr_nonnull (a);
  ck_assert_ptr_nonnull (b);
  ck_assert_uint_eq (a->TrafficSecretType, type);
  ck_assert_uint_eq (b->TrafficSecretType, type);
  ck_assert_uint_eq (a->TrafficSecretSize, b->TrafficSecretSize);
  ck_assert_mem_eq (a->TrafficSecret, b->TrafficSecret, a->TrafficSecretSize);
  ck_assert_mem_eq (a->SymmetricAlgId, b->SymmetricAlgId, sizeof a->SymmetricAlgId);
  ck_assert_mem_eq (a->HashAlgId, b->HashAlgId, sizeof a->HashAlgId);
  cipher = utf16_name (a->SymmetricAlgId);
  hash = utf16_name (a->HashAlgId);
  /* The default priorities pick an AEAD QUIC can use; its sizes as BCrypt
   * names them (RFC 9001 5.3: 12-byte nonces). */
  ck_assert_msg (g_str_equal (cipher, "AES") || g_str_equal (cipher, "CHACHA20_POLY1305"),
                 "cipher %s", cipher);
  ck_assert_msg (g_str_equal (hash, "SHA256") || g_str_equal (hash, "SHA384"), "hash %s", hash);
  ck_assert_uint_eq (a->TrafficSecretSize, g_str_equal (hash, "SHA256") ? 32 : 48);
  ck_assert_uint_eq (a->IvSize, 12);
  ck_assert_msg (a->KeySize == 16 || a->KeySize == 32, "key size %u", a->KeySize);
}

static gboolean
secrets_equal (const SEC_TRAFFIC_SECRETS *a, const SEC_TRAFFIC_SECRETS *b)
{
  return a->TrafficSecretSize == b->TrafficSecretSize &&
         memcmp (a->TrafficSecret, b->TrafficSecret, a->TrafficSecretSize) == 0;
}

START_TEST (test_handshake)
{
  QuicEnd client, server;
  g_autofree char *client_initial = NULL, *client_handshake = NULL;
  g_autofree char *server_initial = NULL, *server_handshake = NULL, *server_1rtt = NULL;
  SecPkgContext_ApplicationProtocol alpn;

  ck_assert_int_eq (quic_end_init (&client, FALSE, "client", CLIENT_PARAMS), SEC_E_OK);
  ck_assert_int_eq (quic_end_init (&server, TRUE, "server", SERVER_PARAMS), SEC_E_OK);
  quic_end_run_pair (&client, &server);
  ck_assert_msg (client.is_complete && server.is_complete, "client 0x%08x, server 0x%08x",
                 (guint32) client.status, (guint32) server.status);

  /* Each side got the other's transport parameters, once. */
  ck_assert_uint_eq (client.extension_events, 1);
  ck_assert_uint_eq (server.extension_events, 1);
  ck_assert_uint_eq (g_bytes_get_size (server.peer_transport_params), strlen (CLIENT_PARAMS));
  ck_assert_mem_eq (g_bytes_get_data (server.peer_transport_params, NULL), CLIENT_PARAMS,
                    strlen (CLIENT_PARAMS));
  ck_assert_uint_eq (g_bytes_get_size (client.peer_transport_params), strlen (SERVER_PARAMS));
  ck_assert_mem_eq (g_bytes_get_data (client.peer_transport_params, NULL), SERVER_PARAMS,
                    strlen (SERVER_PARAMS));

  /* Both ends derived the same secrets at each epoch, four different ones. */
  for (int epoch = QE_HANDSHAKE; epoch <= QE_ONE_RTT; epoch++)
    {
      assert_same_secret (quic_end_peek_secret (&client, epoch, FALSE),
                          quic_end_peek_secret (&server, epoch, TRUE), SecTrafficSecret_Client);
      assert_same_secret (quic_end_peek_secret (&server, epoch, FALSE),
                          quic_end_peek_secret (&client, epoch, TRUE), SecTrafficSecret_Server);
      ck_assert (!secrets_equal (quic_end_peek_secret (&client, epoch, FALSE),
                                 quic_end_peek_secret (&server, epoch, FALSE)));
    }
  ck_assert (!secrets_equal (quic_end_peek_secret (&client, QE_HANDSHAKE, FALSE),
                             quic_end_peek_secret (&client, QE_ONE_RTT, FALSE)));

  /* Messages, not records, each in its epoch: ClientHello in Initial
   * packets, Finished in Handshake ones; ServerHello in Initial,
   * EncryptedExtensions to Finished in Handshake, session tickets (if
   * any) in 1-RTT. */
  client_initial = quic_end_message_types (client.produced[QE_INITIAL]);
  client_handshake = quic_end_message_types (client.produced[QE_HANDSHAKE]);
  server_initial = quic_end_message_types (server.produced[QE_INITIAL]);
  server_handshake = quic_end_message_types (server.produced[QE_HANDSHAKE]);
  server_1rtt = quic_end_message_types (server.produced[QE_ONE_RTT]);
  ck_assert_str_eq (client_initial, "1");
  ck_assert_str_eq (client_handshake, "20");
  ck_assert_uint_eq (client.produced[QE_ONE_RTT]->len, 0);
  ck_assert_str_eq (server_initial, "2");
  ck_assert_str_eq (server_handshake, "8 11 15 20");
  ck_assert_msg (server_1rtt[0] == '\0' || g_str_has_prefix (server_1rtt, "4"),
                 "server 1-RTT messages: %s", server_1rtt);

  /* ALPN as msquic checks it once the handshake is done. */
  ck_assert_int_eq (QueryContextAttributesA (&client.ctx, SECPKG_ATTR_APPLICATION_PROTOCOL, &alpn),
                    SEC_E_OK);
  ck_assert_int_eq (alpn.ProtoNegoStatus, SecApplicationProtocolNegotiationStatus_Success);
  ck_assert_uint_eq (alpn.ProtocolIdSize, 2);
  ck_assert_mem_eq (alpn.ProtocolId, "h3", 2);

  quic_end_clear (&client);
  quic_end_clear (&server);
}
END_TEST

/* QUIC protects its packets itself: a QUIC-mode context seals and opens
 * no TLS records, either way. */
START_TEST (test_no_records)
{
  QuicEnd client, server;
  guint8 header[64], data[16] = "0123456789abcdef", trailer[64];
  guint8 record[] = { 0x17, 0x03, 0x03, 0x00, 0x01, 0x00 };
  SecBuffer enc[4] = { { sizeof header, SECBUFFER_STREAM_HEADER, header },
                       { sizeof data, SECBUFFER_DATA, data },
                       { sizeof trailer, SECBUFFER_STREAM_TRAILER, trailer },
                       { 0, SECBUFFER_EMPTY, NULL } };
  SecBuffer dec[4] = { { sizeof record, SECBUFFER_DATA, record },
                       { 0, SECBUFFER_EMPTY, NULL }, { 0, SECBUFFER_EMPTY, NULL },
                       { 0, SECBUFFER_EMPTY, NULL } };
  SecBufferDesc enc_desc = { SECBUFFER_VERSION, 4, enc };
  SecBufferDesc dec_desc = { SECBUFFER_VERSION, 4, dec };

  ck_assert_int_eq (quic_end_init (&client, FALSE, "client", CLIENT_PARAMS), SEC_E_OK);
  ck_assert_int_eq (quic_end_init (&server, TRUE, "server", SERVER_PARAMS), SEC_E_OK);
  quic_end_run_pair (&client, &server);
  ck_assert (client.is_complete && server.is_complete);
  ck_assert_int_eq (EncryptMessage (&client.ctx, 0, &enc_desc, 0), SEC_E_UNSUPPORTED_FUNCTION);
  ck_assert_int_eq (DecryptMessage (&server.ctx, &dec_desc, 0, NULL), SEC_E_UNSUPPORTED_FUNCTION);
  quic_end_clear (&client);
  quic_end_clear (&server);
}
END_TEST

/* Half a ClientHello is SEC_E_INCOMPLETE_MESSAGE with the bytes missing,
 * and the whole of it then goes on as if given at once. */
START_TEST (test_partial_message)
{
  QuicEnd client, server;
  guint full;

  ck_assert_int_eq (quic_end_init (&client, FALSE, "client", CLIENT_PARAMS), SEC_E_OK);
  ck_assert_int_eq (quic_end_init (&server, TRUE, "server", SERVER_PARAMS), SEC_E_OK);
  ck_assert_int_eq (quic_end_process (&client, &server), SEC_I_CONTINUE_NEEDED);
  full = server.inbox->len;
  g_byte_array_set_size (server.inbox, full / 2);
  ck_assert_int_eq (quic_end_process (&server, &client), SEC_E_INCOMPLETE_MESSAGE);
  ck_assert_uint_eq (server.inbox->len, full / 2);
  ck_assert_uint_eq (client.inbox->len, 0);
  quic_end_clear (&server);
  quic_end_clear (&client);
}
END_TEST

/* The side whose credential lacks quic=allow fails its first call. */
static void
assert_refused (const char *client_cred, const char *server_cred, gboolean is_server_refused,
                const char *log_text)
{
  QuicEnd client, server;
  g_autofree char *log = NULL;
  SECURITY_STATUS status;

  ck_assert_int_eq (quic_end_init (&client, FALSE, client_cred, CLIENT_PARAMS), SEC_E_OK);
  ck_assert_int_eq (quic_end_init (&server, TRUE, server_cred, SERVER_PARAMS), SEC_E_OK);
  status = quic_end_process (&client, &server);
  if (is_server_refused)
    {
      ck_assert_int_eq (status, SEC_I_CONTINUE_NEEDED);
      status = quic_end_process (&server, &client);
    }
  ck_assert_int_eq (status, SEC_E_UNSUPPORTED_FUNCTION);
  ck_assert (!client.is_complete && !server.is_complete);
  log = tu_env_daemon_log (tu_fixture_env);
  ck_assert_msg (strstr (log, log_text) != NULL, "no '%s' in the daemon's log", log_text);
  quic_end_clear (&client);
  quic_end_clear (&server);
}

START_TEST (test_refused_client)
{
  assert_refused ("both", "server", FALSE,
                  "QUIC mode refused for credential 'both': its traffic secrets would leave");
}
END_TEST

START_TEST (test_refused_server)
{
  assert_refused ("client", "both", TRUE,
                  "QUIC mode refused for credential 'both': its traffic secrets would leave");
}
END_TEST

START_TEST (test_refused_anonymous)
{
  assert_refused (NULL, "server", FALSE, "QUIC mode refused: the anonymous client credential");
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "handshake", setup, tu_fixture_teardown, 60, { { test_handshake },
                                                     { test_no_records },
                                                     { test_partial_message } } },
    { "policy", setup, tu_fixture_teardown, 60, { { test_refused_client },
                                                  { test_refused_server },
                                                  { test_refused_anonymous } } },
  };

  return tu_run_cases ("quic", cases, G_N_ELEMENTS (cases));
}
