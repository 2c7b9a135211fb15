/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Two ngtcp2 connections joined in memory (see quic-ngtcp2.h): the
 * connections, their GnuTLS side through ngtcp2_crypto_gnutls, the
 * stream, and the loop that carries packets and advances the clock.
 */
#include "config.h"

#include "quic-ngtcp2.h"

#include <arpa/inet.h>
#include <check.h>
#include <gnutls/crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <string.h>

#include "quic-ngtcp2-sspi.h"
#include "testutil.h"

#define CLIENT_PORT   50000
#define SERVER_PORT   4433
#define CID_LEN       16
#define MAX_PACKET    1452
#define MAX_ROUNDS    2000
/* Virtual time: a handshake and a few hundred kilobytes without loss
 * take milliseconds of it; a connection that needs seconds is stuck. */
#define MAX_VIRTUAL_NS (10 * NGTCP2_SECONDS)

static const char alpn_h3[] = "h3";

static void
set_address (struct sockaddr_in *sin, guint16 port)
{
  memset (sin, 0, sizeof *sin);
  sin->sin_family = AF_INET;
  sin->sin_port = htons (port);
  sin->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
}

static ngtcp2_path
end_path (QnEnd *end)
{
  ngtcp2_path path = {
    .local = { (ngtcp2_sockaddr *) &end->local, sizeof end->local },
    .remote = { (ngtcp2_sockaddr *) &end->remote, sizeof end->remote },
  };

  return path;
}

/* --- callbacks both TLS sides share -------------------------------------- */

static void
rand_cb (uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx)
{
  (void) ctx;
  ck_assert_int_eq (gnutls_rnd (GNUTLS_RND_RANDOM, dest, len), 0);
}

static int
get_new_connection_id (ngtcp2_conn *conn, ngtcp2_cid *cid, uint8_t *token, size_t cidlen,
                       void *user_data)
{
  (void) conn;
  (void) user_data;
  if (gnutls_rnd (GNUTLS_RND_NONCE, cid->data, cidlen) != 0 ||
      gnutls_rnd (GNUTLS_RND_RANDOM, token, NGTCP2_STATELESS_RESET_TOKENLEN) != 0)
    return NGTCP2_ERR_CALLBACK_FAILURE;
  cid->datalen = cidlen;
  return 0;
}

static int
handshake_completed (ngtcp2_conn *conn, void *user_data)
{
  QnEnd *end = user_data;

  (void) conn;
  end->is_handshake_done = TRUE;
  /* RFC 9001 4.1.2: a server's handshake is confirmed once complete
   * (ngtcp2 calls handshake_confirmed for clients only). */
  if (end->is_server)
    end->is_handshake_confirmed = TRUE;
  return 0;
}

static int
handshake_confirmed (ngtcp2_conn *conn, void *user_data)
{
  QnEnd *end = user_data;

  (void) conn;
  end->is_handshake_confirmed = TRUE;
  return 0;
}

static int
recv_stream_data (ngtcp2_conn *conn, uint32_t flags, int64_t stream_id, uint64_t offset,
                  const uint8_t *data, size_t len, void *user_data, void *stream_user_data)
{
  QnEnd *end = user_data;

  (void) stream_user_data;
  if (end->stream_id < 0 && end->is_server)
    end->stream_id = stream_id;
  if (stream_id != end->stream_id || offset != end->received->len)
    {
      qn_fail (end, "stream %" G_GINT64_FORMAT " data at %" G_GUINT64_FORMAT ", expected %"
               G_GINT64_FORMAT " at %u", stream_id, offset, end->stream_id, end->received->len);
      return NGTCP2_ERR_CALLBACK_FAILURE;
    }
  g_byte_array_append (end->received, data, (guint) len);
  if ((flags & NGTCP2_STREAM_DATA_FLAG_FIN) != 0)
    end->is_fin_received = TRUE;
  /* Consumed at once: give the window back. */
  ngtcp2_conn_extend_max_stream_offset (conn, stream_id, len);
  ngtcp2_conn_extend_max_offset (conn, len);
  return 0;
}

static void
set_callbacks (QnEnd *end, ngtcp2_callbacks *cb)
{
  memset (cb, 0, sizeof *cb);
  cb->encrypt = ngtcp2_crypto_encrypt_cb;
  cb->decrypt = ngtcp2_crypto_decrypt_cb;
  cb->hp_mask = ngtcp2_crypto_hp_mask_cb;
  cb->update_key = ngtcp2_crypto_update_key_cb;
  cb->delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
  cb->delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
  cb->get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
  cb->version_negotiation = ngtcp2_crypto_version_negotiation_cb;
  cb->rand = rand_cb;
  cb->get_new_connection_id = get_new_connection_id;
  cb->handshake_completed = handshake_completed;
  cb->handshake_confirmed = handshake_confirmed;
  cb->recv_stream_data = recv_stream_data;
  if (end->is_server)
    cb->recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
  else
    {
      cb->recv_retry = ngtcp2_crypto_recv_retry_cb;
      cb->client_initial = end->tls == QN_TLS_SSPID ? qn_sspi_client_initial
                                                    : ngtcp2_crypto_client_initial_cb;
    }
  cb->recv_crypto_data = end->tls == QN_TLS_SSPID ? qn_sspi_recv_crypto_data
                                                  : ngtcp2_crypto_recv_crypto_data_cb;
}

static void
set_params (ngtcp2_settings *settings, ngtcp2_transport_params *params, ngtcp2_tstamp now)
{
  ngtcp2_settings_default (settings);
  settings->initial_ts = now;
  ngtcp2_transport_params_default (params);
  params->initial_max_streams_bidi = 4;
  params->initial_max_stream_data_bidi_local = 256 * 1024;
  params->initial_max_stream_data_bidi_remote = 256 * 1024;
  params->initial_max_data = 1024 * 1024;
  params->max_idle_timeout = 30 * NGTCP2_SECONDS;
}

/* --- the GnuTLS side ------------------------------------------------------ */

static ngtcp2_conn *
get_conn (ngtcp2_crypto_conn_ref *ref)
{
  QnEnd *end = ref->user_data;

  return end->conn;
}

/* A GnuTLS session as an ngtcp2 application sets one up: QUIC's hooks
 * and transport parameters extension from ngtcp2_crypto_gnutls, ALPN h3,
 * session tickets from the server; certificates from the test PKI,
 * verified against its CA. */
static void
gnutls_start (QnEnd *end)
{
  gnutls_datum_t alpn = { (unsigned char *) alpn_h3, sizeof alpn_h3 - 1 };
  g_autofree char *ca = tu_pki_path ("ca.pem");
  const char *err_pos = NULL;

  ck_assert_int_eq (gnutls_init (&end->session, (end->is_server ? GNUTLS_SERVER : GNUTLS_CLIENT) |
                                 GNUTLS_NO_END_OF_EARLY_DATA), 0);
  ck_assert_msg (gnutls_priority_set_direct (end->session, end->priority, &err_pos) == 0,
                 "priority %s at %s", end->priority, err_pos);
  ck_assert_int_eq (gnutls_certificate_allocate_credentials (&end->gnutls_cred), 0);
  ck_assert_int_gt (gnutls_certificate_set_x509_trust_file (end->gnutls_cred, ca,
                                                            GNUTLS_X509_FMT_PEM), 0);
  if (end->pki_files != NULL)
    {
      g_autofree char *pem = g_strconcat (end->pki_files, ".pem", NULL);
      g_autofree char *key = g_strconcat (end->pki_files, ".key", NULL);
      g_autofree char *pem_path = tu_pki_path (pem);
      g_autofree char *key_path = tu_pki_path (key);

      ck_assert_int_eq (gnutls_certificate_set_x509_key_file (end->gnutls_cred, pem_path, key_path,
                                                              GNUTLS_X509_FMT_PEM), 0);
    }
  if (end->is_server)
    {
      ck_assert_int_eq (ngtcp2_crypto_gnutls_configure_server_session (end->session), 0);
      /* As ngtcp2's own servers do: the client then gets a
       * NewSessionTicket in 1-RTT CRYPTO data after the handshake. */
      ck_assert_int_eq (gnutls_session_ticket_key_generate (&end->ticket_key), 0);
      ck_assert_int_eq (gnutls_session_ticket_enable_server (end->session, &end->ticket_key), 0);
      if (end->requires_peer_cert)
        {
          gnutls_certificate_server_set_request (end->session, GNUTLS_CERT_REQUIRE);
          gnutls_session_set_verify_cert (end->session, NULL, 0);
        }
    }
  else
    {
      ck_assert_int_eq (ngtcp2_crypto_gnutls_configure_client_session (end->session), 0);
      if (end->resume_from != NULL)
        ck_assert_int_eq (gnutls_session_set_data (end->session,
                                                   g_bytes_get_data (end->resume_from, NULL),
                                                   g_bytes_get_size (end->resume_from)), 0);
      gnutls_session_set_verify_cert (end->session, "localhost", 0);
      ck_assert_int_eq (gnutls_server_name_set (end->session, GNUTLS_NAME_DNS, "localhost",
                                                strlen ("localhost")), 0);
    }
  ck_assert_int_eq (gnutls_credentials_set (end->session, GNUTLS_CRD_CERTIFICATE,
                                            end->gnutls_cred), 0);
  ck_assert_int_eq (gnutls_alpn_set_protocols (end->session, &alpn, 1, 0), 0);
  end->conn_ref.get_conn = get_conn;
  end->conn_ref.user_data = end;
  gnutls_session_set_ptr (end->session, &end->conn_ref);
  ngtcp2_conn_set_tls_native_handle (end->conn, end->session);
}

static void
tls_start (QnEnd *end)
{
  if (end->tls == QN_TLS_GNUTLS)
    gnutls_start (end);
  else
    qn_sspi_start (end);
}

/* --- ends ----------------------------------------------------------------- */

static void
end_init (QnEnd *end, gboolean is_server, QnTls tls, GBytes *payload)
{
  memset (end, 0, sizeof *end);
  end->is_server = is_server;
  end->tls = tls;
  end->stream_id = -1;
  end->payload = g_bytes_ref (payload);
  end->received = g_byte_array_new ();
  set_address (&end->local, is_server ? SERVER_PORT : CLIENT_PORT);
  set_address (&end->remote, is_server ? CLIENT_PORT : SERVER_PORT);
}

void
qn_end_init_sspid (QnEnd *end, gboolean is_server, const char *credential, GBytes *payload)
{
  end_init (end, is_server, QN_TLS_SSPID, payload);
  end->credential = g_strdup (credential);
}

void
qn_end_init_gnutls (QnEnd *end, gboolean is_server, const char *priority,
                    const char *pki_files, gboolean requires_peer_cert, GBytes *payload)
{
  end_init (end, is_server, QN_TLS_GNUTLS, payload);
  end->priority = g_strdup (priority);
  end->pki_files = g_strdup (pki_files);
  end->requires_peer_cert = requires_peer_cert;
}

GBytes *
qn_end_gnutls_session_data (QnEnd *end)
{
  gnutls_datum_t data = { NULL, 0 };
  GBytes *bytes;

  ck_assert_int_eq (gnutls_session_get_data2 (end->session, &data), 0);
  bytes = g_bytes_new (data.data, data.size);
  gnutls_free (data.data);
  return bytes;
}

void
qn_end_gnutls_resume (QnEnd *end, GBytes *session_data)
{
  g_clear_pointer (&end->resume_from, g_bytes_unref);
  end->resume_from = g_bytes_ref (session_data);
}

void
qn_end_clear (QnEnd *end)
{
  g_clear_pointer (&end->conn, ngtcp2_conn_del);
  if (end->session != NULL)
    gnutls_deinit (end->session);
  if (end->gnutls_cred != NULL)
    gnutls_certificate_free_credentials (end->gnutls_cred);
  gnutls_free (end->ticket_key.data);
  g_clear_pointer (&end->resume_from, g_bytes_unref);
  if (end->has_sspi)
    quic_end_clear (&end->sspi);
  g_clear_pointer (&end->payload, g_bytes_unref);
  g_clear_pointer (&end->received, g_byte_array_unref);
  g_free (end->priority);
  g_free (end->pki_files);
  g_free (end->credential);
  g_free (end->failure);
}

static void
random_cid (ngtcp2_cid *cid)
{
  ck_assert_int_eq (gnutls_rnd (GNUTLS_RND_NONCE, cid->data, CID_LEN), 0);
  cid->datalen = CID_LEN;
}

static void
client_connect (QnEnd *end, ngtcp2_tstamp now)
{
  ngtcp2_callbacks cb;
  ngtcp2_settings settings;
  ngtcp2_transport_params params;
  ngtcp2_path path = end_path (end);
  ngtcp2_cid dcid, scid;

  set_callbacks (end, &cb);
  set_params (&settings, &params, now);
  random_cid (&dcid);
  random_cid (&scid);
  ck_assert_int_eq (ngtcp2_conn_client_new (&end->conn, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1,
                                            &cb, &settings, &params, NULL, end), 0);
  tls_start (end);
}

/* The server's connection, from the client's first Initial packet. */
static void
server_accept (QnEnd *end, const guint8 *packet, gsize len, ngtcp2_tstamp now)
{
  ngtcp2_callbacks cb;
  ngtcp2_settings settings;
  ngtcp2_transport_params params;
  ngtcp2_path path = end_path (end);
  ngtcp2_pkt_hd hd;
  ngtcp2_cid scid;

  ck_assert_int_eq (ngtcp2_accept (&hd, packet, len), 0);
  set_callbacks (end, &cb);
  set_params (&settings, &params, now);
  params.original_dcid = hd.dcid;
  random_cid (&scid);
  ck_assert_int_eq (ngtcp2_conn_server_new (&end->conn, &hd.scid, &scid, &path, hd.version, &cb,
                                            &settings, &params, NULL, end), 0);
  tls_start (end);
}

/* --- the link -------------------------------------------------------------- */

static void
assert_no_failure (QnEnd *client, QnEnd *server, const char *what, int rv)
{
  ck_assert_msg (client->failure == NULL && server->failure == NULL && rv == 0,
                 "%s: %s; client: %s; server: %s", what, ngtcp2_strerror (rv),
                 client->failure ? client->failure : "-", server->failure ? server->failure : "-");
}

static void
deliver (QnEnd *to, QnEnd *peer, const guint8 *packet, gsize len, ngtcp2_tstamp now)
{
  ngtcp2_path path;
  ngtcp2_pkt_info pi = { 0 };
  int rv;

  if (to->conn == NULL)
    server_accept (to, packet, len, now);
  path = end_path (to);
  rv = ngtcp2_conn_read_pkt (to->conn, &path, &pi, packet, len, now);
  assert_no_failure (to->is_server ? peer : to, to->is_server ? to : peer,
                     to->is_server ? "server read" : "client read", rv);
}

/* Whether @end has stream data to go: the client once its handshake is
 * done, the server once the client's whole payload is in. */
static gboolean
wants_to_send (QnEnd *end)
{
  if (!end->is_handshake_done || end->is_fin_sent)
    return FALSE;
  if (end->is_server)
    return end->is_fin_received;
  if (end->stream_id < 0)
    ck_assert_int_eq (ngtcp2_conn_open_bidi_stream (end->conn, &end->stream_id, NULL), 0);
  return TRUE;
}

/* Halfway through its payload, the sspid end updates its 1-RTT keys
 * (once ngtcp2 allows it: the handshake confirmed, the next keys ready). */
static void
maybe_update_keys (QnEnd *end, QnEnd *peer, ngtcp2_tstamp now)
{
  int rv;

  if (end->tls != QN_TLS_SSPID || end->is_key_updated || !end->is_handshake_confirmed ||
      end->sent < g_bytes_get_size (end->payload) / 2)
    return;
  rv = ngtcp2_conn_initiate_key_update (end->conn, now);
  if (rv == NGTCP2_ERR_INVALID_STATE)
    return;
  assert_no_failure (end->is_server ? peer : end, end->is_server ? end : peer, "key update", rv);
  end->is_key_updated = TRUE;
  end->sent_at_key_update = end->sent;
}

/* Every packet @from has to send now, each read by @to at once.  Returns
 * how many. */
static guint
flush (QnEnd *from, QnEnd *to, ngtcp2_tstamp now)
{
  guint8 packet[MAX_PACKET];
  guint n = 0;
  gboolean is_blocked = FALSE;

  if (from->conn == NULL)
    return 0;
  maybe_update_keys (from, to, now);
  for (;;)
    {
      gsize total = g_bytes_get_size (from->payload);
      gboolean has_stream = !is_blocked && wants_to_send (from);
      ngtcp2_vec data = { (uint8_t *) g_bytes_get_data (from->payload, NULL) + from->sent,
                          total - from->sent };
      ngtcp2_ssize consumed = -1;
      ngtcp2_pkt_info pi = { 0 };
      ngtcp2_ssize len;

      len = ngtcp2_conn_writev_stream (from->conn, NULL, &pi, packet, sizeof packet, &consumed,
                                       has_stream ? NGTCP2_WRITE_STREAM_FLAG_FIN : 0,
                                       has_stream ? from->stream_id : -1,
                                       has_stream ? &data : NULL, has_stream ? 1 : 0, now);
      if (len == NGTCP2_ERR_STREAM_DATA_BLOCKED)
        {
          is_blocked = TRUE;
          continue;
        }
      assert_no_failure (from->is_server ? to : from, from->is_server ? from : to,
                         from->is_server ? "server write" : "client write",
                         len < 0 ? (int) len : 0);
      if (has_stream && consumed >= 0)
        {
          from->sent += (gsize) consumed;
          if (from->sent == total)
            from->is_fin_sent = TRUE;
        }
      if (len == 0)
        return n;
      n++;
      deliver (to, from, packet, (gsize) len, now);
    }
}

static gboolean
is_done (QnEnd *client, QnEnd *server)
{
  return client->is_fin_received && server->is_fin_received && client->is_fin_sent &&
         server->is_fin_sent;
}

/* The earliest timer of the two, handled. */
static ngtcp2_tstamp
expire (QnEnd *client, QnEnd *server)
{
  ngtcp2_tstamp next = MIN (ngtcp2_conn_get_expiry (client->conn),
                            server->conn != NULL ? ngtcp2_conn_get_expiry (server->conn)
                                                 : UINT64_MAX);

  ck_assert_msg (next != UINT64_MAX, "no packet and no timer: the connection is stuck");
  if (ngtcp2_conn_get_expiry (client->conn) <= next)
    assert_no_failure (client, server, "client timer",
                       ngtcp2_conn_handle_expiry (client->conn, next));
  if (server->conn != NULL && ngtcp2_conn_get_expiry (server->conn) <= next)
    assert_no_failure (client, server, "server timer",
                       ngtcp2_conn_handle_expiry (server->conn, next));
  return next;
}

void
qn_run (QnEnd *client, QnEnd *server)
{
  ngtcp2_tstamp start = (ngtcp2_tstamp) g_get_monotonic_time () * NGTCP2_MICROSECONDS;
  ngtcp2_tstamp now = start;

  client_connect (client, now);
  for (int round = 0; round < MAX_ROUNDS && !is_done (client, server); round++)
    {
      guint moved = flush (client, server, now) + flush (server, client, now);

      if (moved == 0 && !is_done (client, server))
        now = MAX (now, expire (client, server));
      ck_assert_msg (now - start < MAX_VIRTUAL_NS,
                     "still not done after %" G_GUINT64_FORMAT " ms of QUIC time",
                     (now - start) / NGTCP2_MILLISECONDS);
    }
  ck_assert_msg (is_done (client, server),
                 "not done: client handshake %d, sent %zu%s, got %u%s; server handshake %d, "
                 "sent %zu%s, got %u%s", client->is_handshake_done, client->sent,
                 client->is_fin_sent ? "+FIN" : "", client->received->len,
                 client->is_fin_received ? "+FIN" : "", server->is_handshake_done, server->sent,
                 server->is_fin_sent ? "+FIN" : "", server->received->len,
                 server->is_fin_received ? "+FIN" : "");
  assert_no_failure (client, server, "after the exchange", 0);
}
