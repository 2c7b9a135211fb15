/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sspid in QUIC mode as the TLS of an ngtcp2 connection, with ngtcp2's
 * public API only (see quic-ngtcp2.h): CRYPTO data from recv_crypto_data
 * goes to ISC/ASC (tests/quic-end.c, msquic's way); the messages ISC/ASC
 * produce go to ngtcp2_conn_submit_crypto_data at the level their
 * secret's MsgSequenceStart puts them in; each SECBUFFER_TRAFFIC_SECRETS
 * is installed with ngtcp2_crypto_derive_and_install_rx_key/_tx_key; the
 * transport parameters are ngtcp2_conn_encode_local_transport_params in
 * SEND_GENERIC_TLS_EXTENSION (a server's as ngtcp2 will commit them: see
 * encode_params()) and ngtcp2_conn_decode_remote_transport_params of what
 * SUBSCRIBE_GENERIC_TLS_EXTENSION brought.
 *
 * ngtcp2's key helpers would ask a GnuTLS session for the cipher suite
 * (ngtcp2_crypto_ctx_tls) when the connection has no crypto context yet;
 * there is no session on this side, so the context is made from what the
 * secret says (its BCrypt names and key size, as msquic reads them) and
 * set before the first key.  The other calls of theirs that would reach
 * a TLS object do nothing with ngtcp2_crypto_gnutls (it takes transport
 * parameters through a GnuTLS extension, which this side replaces).
 */
#include "config.h"

#include "quic-ngtcp2-sspi.h"

#include <gnutls/crypto.h>
#include <string.h>

/* RFC 9001 6.6: the packets a key may protect and the forgeries it may
 * see, per AEAD (ngtcp2_crypto_gnutls's values; ngtcp2 0.12 does not
 * export them). */
#define AES_GCM_MAX_ENCRYPTION              (1ULL << 23)
#define AES_GCM_MAX_DECRYPTION_FAILURE      (1ULL << 52)
#define CHACHA20_MAX_ENCRYPTION             (1ULL << 62)
#define CHACHA20_MAX_DECRYPTION_FAILURE     (1ULL << 36)

static const ngtcp2_crypto_level epoch_levels[QE_N_EPOCHS] = {
  NGTCP2_CRYPTO_LEVEL_INITIAL, NGTCP2_CRYPTO_LEVEL_HANDSHAKE, NGTCP2_CRYPTO_LEVEL_APPLICATION,
};

static gboolean
name_is (const WCHAR *name, const char *ascii)
{
  gsize i = 0;

  for (; ascii[i] != '\0'; i++)
    if (i >= SZ_ALG_MAX_SIZE || name[i] != (WCHAR) ascii[i])
      return FALSE;
  return i < SZ_ALG_MAX_SIZE && name[i] == 0;
}

/* The AEAD, header protection cipher, hash and limits of @s's suite, as
 * ngtcp2_crypto_gnutls would take them from a session. */
static gboolean
crypto_ctx_from_secret (const SEC_TRAFFIC_SECRETS *s, ngtcp2_crypto_ctx *ctx)
{
  gnutls_cipher_algorithm_t aead, hp;
  gnutls_digest_algorithm_t hash;

  memset (ctx, 0, sizeof *ctx);
  if (name_is (s->SymmetricAlgId, "AES") && name_is (s->ChainingMode, "ChainingModeGCM") &&
      (s->KeySize == 16 || s->KeySize == 32))
    {
      aead = s->KeySize == 16 ? GNUTLS_CIPHER_AES_128_GCM : GNUTLS_CIPHER_AES_256_GCM;
      hp = s->KeySize == 16 ? GNUTLS_CIPHER_AES_128_CBC : GNUTLS_CIPHER_AES_256_CBC;
      ctx->max_encryption = AES_GCM_MAX_ENCRYPTION;
      ctx->max_decryption_failure = AES_GCM_MAX_DECRYPTION_FAILURE;
    }
  else if (name_is (s->SymmetricAlgId, "CHACHA20_POLY1305") && s->KeySize == 32)
    {
      aead = GNUTLS_CIPHER_CHACHA20_POLY1305;
      hp = GNUTLS_CIPHER_CHACHA20_32;
      ctx->max_encryption = CHACHA20_MAX_ENCRYPTION;
      ctx->max_decryption_failure = CHACHA20_MAX_DECRYPTION_FAILURE;
    }
  else
    return FALSE;
  if (name_is (s->HashAlgId, "SHA256"))
    hash = GNUTLS_DIG_SHA256;
  else if (name_is (s->HashAlgId, "SHA384"))
    hash = GNUTLS_DIG_SHA384;
  else
    return FALSE;
  ctx->aead.native_handle = (void *) (intptr_t) aead;
  ctx->aead.max_overhead = gnutls_cipher_get_tag_size (aead);
  ngtcp2_crypto_md_init (&ctx->md, (void *) (intptr_t) hash);
  ctx->hp.native_handle = (void *) (intptr_t) hp;
  return TRUE;
}

/* Our secret (@is_peer FALSE) or the peer's of @epoch into ngtcp2. */
static gboolean
install_secret (QnEnd *end, int epoch, gboolean is_peer)
{
  const SEC_TRAFFIC_SECRETS *s = quic_end_peek_secret (&end->sspi, epoch, is_peer);
  const ngtcp2_crypto_ctx *have = ngtcp2_conn_get_crypto_ctx (end->conn);
  ngtcp2_crypto_ctx ctx;
  int rv;

  if (!crypto_ctx_from_secret (s, &ctx))
    {
      qn_fail (end, "no ngtcp2 crypto context for the secret's suite");
      return FALSE;
    }
  if (have->aead.native_handle == NULL)
    ngtcp2_conn_set_crypto_ctx (end->conn, &ctx);
  else if (have->aead.native_handle != ctx.aead.native_handle ||
           have->md.native_handle != ctx.md.native_handle)
    {
      qn_fail (end, "the %s secret of epoch %d names another suite", is_peer ? "peer" : "own",
               epoch);
      return FALSE;
    }
  if (is_peer)
    rv = ngtcp2_crypto_derive_and_install_rx_key (end->conn, NULL, NULL, NULL,
                                                  epoch_levels[epoch], s->TrafficSecret,
                                                  s->TrafficSecretSize);
  else
    rv = ngtcp2_crypto_derive_and_install_tx_key (end->conn, NULL, NULL, NULL,
                                                  epoch_levels[epoch], s->TrafficSecret,
                                                  s->TrafficSecretSize);
  if (rv != 0)
    {
      qn_fail (end, "installing the %s key of epoch %d failed", is_peer ? "rx" : "tx", epoch);
      return FALSE;
    }
  end->installed[epoch][is_peer ? 1 : 0] = TRUE;
  return TRUE;
}

/* Our transport parameters for SEND_GENERIC_TLS_EXTENSION.  A client's
 * are ngtcp2_conn_encode_local_transport_params.  A server's go with its
 * first ASC call, the one that writes EncryptedExtensions (msquic knows
 * them by then), but ngtcp2 fills in the server's
 * initial_source_connection_id only when its handshake tx key is
 * installed, after that call: so they are ngtcp2's local parameters with
 * the connection's one source connection ID put in, as ngtcp2 will commit
 * them (take_round() checks that it did). */
static GBytes *
encode_params (QnEnd *end)
{
  ngtcp2_transport_params params = *ngtcp2_conn_get_local_transport_params (end->conn);
  guint8 buf[256];
  ngtcp2_ssize len;

  if (!end->is_server)
    len = ngtcp2_conn_encode_local_transport_params (end->conn, buf, sizeof buf);
  else
    {
      if (ngtcp2_conn_get_num_scid (end->conn) != 1)
        {
          qn_fail (end, "a server with %zu connection IDs before its handshake",
                   ngtcp2_conn_get_num_scid (end->conn));
          return NULL;
        }
      ngtcp2_conn_get_scid (end->conn, &params.initial_scid);
      len = ngtcp2_encode_transport_params (buf, sizeof buf,
                                            NGTCP2_TRANSPORT_PARAMS_TYPE_ENCRYPTED_EXTENSIONS,
                                            &params);
    }
  if (len < 0)
    {
      qn_fail (end, "encoding our transport parameters: %s", ngtcp2_strerror ((int) len));
      return NULL;
    }
  return g_bytes_new (buf, (gsize) len);
}

/* Once ngtcp2 has committed a server's transport parameters, they must
 * be the ones the extension carried. */
static gboolean
is_sent_params_committed (QnEnd *end)
{
  g_autoptr(GBytes) committed = NULL;
  guint8 buf[256];
  ngtcp2_ssize len = ngtcp2_conn_encode_local_transport_params (end->conn, buf, sizeof buf);

  if (len < 0)
    return FALSE;
  committed = g_bytes_new (buf, (gsize) len);
  return g_bytes_equal (committed, end->sspi.transport_params);
}

/* What the last ISC/ASC round gave, into ngtcp2: the peer's transport
 * parameters first (ngtcp2 wants them before the keys that use them),
 * then the new keys, then the new messages at their levels. */
static gboolean
take_round (QnEnd *end)
{
  if (!end->has_peer_params && end->sspi.peer_transport_params != NULL)
    {
      gsize len = 0;
      const guint8 *params = g_bytes_get_data (end->sspi.peer_transport_params, &len);
      int rv = ngtcp2_conn_decode_remote_transport_params (end->conn, params, len);

      if (rv != 0)
        {
          qn_fail (end, "the peer's transport parameters: %s", ngtcp2_strerror (rv));
          return FALSE;
        }
      end->has_peer_params = TRUE;
    }
  for (int epoch = QE_HANDSHAKE; epoch < QE_N_EPOCHS; epoch++)
    for (int is_peer = 0; is_peer < 2; is_peer++)
      if (!end->installed[epoch][is_peer] &&
          quic_end_peek_secret (&end->sspi, epoch, is_peer) != NULL &&
          !install_secret (end, epoch, is_peer))
        return FALSE;
  if (end->is_server && end->installed[QE_HANDSHAKE][0] && !is_sent_params_committed (end))
    {
      qn_fail (end, "the transport parameters sent are not those ngtcp2 committed");
      return FALSE;
    }
  for (int epoch = QE_INITIAL; epoch < QE_N_EPOCHS; epoch++)
    {
      GByteArray *produced = end->sspi.produced[epoch];
      int rv;

      if (produced->len == end->submitted[epoch])
        continue;
      rv = ngtcp2_conn_submit_crypto_data (end->conn, epoch_levels[epoch],
                                           produced->data + end->submitted[epoch],
                                           produced->len - end->submitted[epoch]);
      if (rv != 0)
        {
          qn_fail (end, "submitting CRYPTO data at epoch %d: %s", epoch, ngtcp2_strerror (rv));
          return FALSE;
        }
      end->submitted[epoch] = produced->len;
    }
  return TRUE;
}

/* One ISC/ASC round on what the inbox holds. */
static int
drive (QnEnd *end)
{
  SECURITY_STATUS status;

  /* quic_end_init() had none: the first round sends the conn's. */
  if (!end->is_tls_done && g_bytes_get_size (end->sspi.transport_params) == 0)
    {
      g_autoptr(GBytes) params = encode_params (end);

      if (params == NULL)
        return NGTCP2_ERR_CALLBACK_FAILURE;
      quic_end_set_transport_params (&end->sspi, params);
    }
  status = quic_end_process (&end->sspi, NULL);
  /* Part of a message (EXTRA, or not one whole: SEC_E_INCOMPLETE_MESSAGE)
   * stays in the inbox for the rest, in a later CRYPTO frame. */
  if ((status == SEC_E_INCOMPLETE_MESSAGE || SEC_SUCCESS (status)) && end->sspi.inbox->len > 0)
    end->cut_rounds++;
  if (status == SEC_E_INCOMPLETE_MESSAGE)
    return 0;
  if (status != SEC_E_OK && status != SEC_I_CONTINUE_NEEDED)
    {
      qn_fail (end, "%s failed: 0x%08x", end->is_server ? "ASC" : "ISC", (guint32) status);
      return NGTCP2_ERR_CALLBACK_FAILURE;
    }
  if (!take_round (end))
    return NGTCP2_ERR_CALLBACK_FAILURE;
  if (status == SEC_E_OK && !end->is_tls_done)
    {
      end->is_tls_done = TRUE;
      ngtcp2_conn_handshake_completed (end->conn);
    }
  return 0;
}

void
qn_sspi_start (QnEnd *end)
{
  SECURITY_STATUS status;

  /* An empty parameter set: drive() encodes the conn's on the first round. */
  status = quic_end_init (&end->sspi, end->is_server, end->credential, "");
  end->has_sspi = TRUE;
  if (status != SEC_E_OK)
    qn_fail (end, "AcquireCredentialsHandle (%s): 0x%08x", end->credential, (guint32) status);
}

int
qn_sspi_client_initial (ngtcp2_conn *conn, void *user_data)
{
  QnEnd *end = user_data;

  /* The Initial keys (RFC 9001 5.2) come from the DCID alone, no TLS:
   * ngtcp2_crypto's server-side helper derives them for either role (its
   * client_initial_cb would go on to run a GnuTLS handshake, which this
   * end does not have). */
  if (ngtcp2_crypto_recv_client_initial_cb (conn, ngtcp2_conn_get_dcid (conn), user_data) != 0)
    {
      qn_fail (end, "installing the Initial keys failed");
      return NGTCP2_ERR_CALLBACK_FAILURE;
    }
  return drive (end);
}

int
qn_sspi_recv_crypto_data (ngtcp2_conn *conn, ngtcp2_crypto_level level, uint64_t offset,
                          const uint8_t *data, size_t len, void *user_data)
{
  QnEnd *end = user_data;

  /* Schannel's input has no level: sspid reads at the level of the last
   * peer secret it gave.  A QUIC stack hears each message at the level
   * of the packet that carried it; the two must agree. */
  if (level != epoch_levels[end->sspi.read_epoch])
    {
      qn_fail (end, "CRYPTO data at level %d while sspid reads at epoch %d", (int) level,
               end->sspi.read_epoch);
      return NGTCP2_ERR_CALLBACK_FAILURE;
    }
  end->crypto_received[end->sspi.read_epoch] += len;
  end->crypto_calls[end->sspi.read_epoch]++;
  g_byte_array_append (end->sspi.inbox, data, (guint) len);
  return drive (end);
}
