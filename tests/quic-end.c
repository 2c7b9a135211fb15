/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One QUIC-mode end driven as msquic drives Schannel (see quic-end.h).
 */
#include "config.h"

#include "quic-end.h"

#include <check.h>
#include <stddef.h>
#include <string.h>

#include "tls-pair.h"

#define OUTPUT_ROOM       65536
#define N_SECRET_BUFFERS  4
/* msquic's MAX_SEC_TRAFFIC_SECRETS_SIZE: room for a 64-byte secret. */
#define SECRET_BUFFER_SIZE (sizeof (SEC_TRAFFIC_SECRETS) + 0x40)

SECURITY_STATUS
quic_end_init (QuicEnd *end, gboolean is_server, const char *credential, const char *params)
{
  SCH_CREDENTIALS auth = { .dwVersion = SCH_CREDENTIALS_VERSION,
                           .dwFlags = SCH_CRED_NO_DEFAULT_CREDS };
  TimeStamp expiry;
  SECURITY_STATUS status;

  memset (end, 0, sizeof *end);
  end->is_server = is_server;
  end->transport_params = g_bytes_new (params, strlen (params));
  end->inbox = g_byte_array_new ();
  for (int i = 0; i < QE_N_EPOCHS; i++)
    end->produced[i] = g_byte_array_new ();
  status = AcquireCredentialsHandleA ((char *) credential, (char *) UNISP_NAME_A,
                                      is_server ? SECPKG_CRED_INBOUND : SECPKG_CRED_OUTBOUND,
                                      NULL, &auth, NULL, NULL, &end->cred, &expiry);
  end->has_credential = status == SEC_E_OK;
  return status;
}

void
quic_end_clear (QuicEnd *end)
{
  if (end->has_context)
    DeleteSecurityContext (&end->ctx);
  if (end->has_credential)
    FreeCredentialsHandle (&end->cred);
  g_clear_pointer (&end->transport_params, g_bytes_unref);
  g_clear_pointer (&end->peer_transport_params, g_bytes_unref);
  g_clear_pointer (&end->inbox, g_byte_array_unref);
  for (int i = 0; i < QE_N_EPOCHS; i++)
    {
      g_clear_pointer (&end->produced[i], g_byte_array_unref);
      g_clear_pointer (&end->secrets[i][0], g_bytes_unref);
      g_clear_pointer (&end->secrets[i][1], g_bytes_unref);
    }
}

void
quic_end_set_transport_params (QuicEnd *end, GBytes *params)
{
  g_bytes_unref (end->transport_params);
  end->transport_params = g_bytes_ref (params);
}

const SEC_TRAFFIC_SECRETS *
quic_end_peek_secret (const QuicEnd *end, int epoch, gboolean is_peer)
{
  GBytes *b = end->secrets[epoch][is_peer ? 1 : 0];

  return b != NULL ? g_bytes_get_data (b, NULL) : NULL;
}

/* A SEND_GENERIC_TLS_EXTENSION with our transport parameters, in the
 * handshake message each role carries them in (RFC 9001 8.2). */
static GBytes *
send_extension (const QuicEnd *end)
{
  gsize len = g_bytes_get_size (end->transport_params);
  gsize at = offsetof (SEND_GENERIC_TLS_EXTENSION, Buffer);
  guint8 *buf = g_malloc0 (at + len);
  SEND_GENERIC_TLS_EXTENSION head = {
    .ExtensionType = TLS_EXTENSION_TYPE_QUIC_TRANSPORT_PARAMETERS,
    .HandshakeType = end->is_server ? 8 : 1,
    .BufferSize = (WORD) len,
  };

  memcpy (buf, &head, at);
  memcpy (buf + at, g_bytes_get_data (end->transport_params, NULL), len);
  return g_bytes_new_take (buf, at + len);
}

/* The epoch of the first own (@is_peer FALSE) or peer secret not yet had. */
static int
next_epoch (const QuicEnd *end, gboolean is_peer)
{
  return end->secrets[QE_HANDSHAKE][is_peer ? 1 : 0] == NULL ? QE_HANDSHAKE : QE_ONE_RTT;
}

/* What msquic does with each SECBUFFER_TRAFFIC_SECRETS: skip the
 * SecTrafficSecret_None ones, sort the rest into ours and the peer's, and
 * learn where in its stream of messages each of its own epochs starts. */
static void
take_secrets (QuicEnd *end, SecBuffer *buffers, gsize n)
{
  guint32 own = end->is_server ? SecTrafficSecret_Server : SecTrafficSecret_Client;

  for (gsize i = 0; i < n; i++)
    {
      const SEC_TRAFFIC_SECRETS *s = buffers[i].pvBuffer;
      gboolean is_peer;
      int epoch;

      if (s->TrafficSecretType == SecTrafficSecret_None)
        continue;
      ck_assert_uint_le (s->TrafficSecretSize, 0x40);
      is_peer = s->TrafficSecretType != own;
      epoch = next_epoch (end, is_peer);
      ck_assert_msg (end->secrets[epoch][is_peer] == NULL, "a third secret for one side");
      end->secrets[epoch][is_peer] =
        g_bytes_new (s, offsetof (SEC_TRAFFIC_SECRETS, TrafficSecret) + s->TrafficSecretSize);
      if (is_peer)
        end->read_epoch = epoch;
      else
        {
          end->epoch_start[epoch] = end->total + s->MsgSequenceStart;
          end->write_epoch = epoch;
        }
    }
}

/* The produced messages into the epochs that protect them, and to the peer. */
static void
take_token (QuicEnd *end, const SecBuffer *token, QuicEnd *peer)
{
  const guint8 *bytes = token->pvBuffer;

  for (ULONG i = 0; i < token->cbBuffer; i++)
    {
      gsize at = end->total + i;
      int epoch = QE_INITIAL;

      if (end->secrets[QE_HANDSHAKE][0] != NULL && at >= end->epoch_start[QE_HANDSHAKE])
        epoch = QE_HANDSHAKE;
      if (end->secrets[QE_ONE_RTT][0] != NULL && at >= end->epoch_start[QE_ONE_RTT])
        epoch = QE_ONE_RTT;
      g_byte_array_append (end->produced[epoch], bytes + i, 1);
    }
  end->total += token->cbBuffer;
  if (peer != NULL)
    g_byte_array_append (peer->inbox, token->pvBuffer, token->cbBuffer);
}

/* One ISC/ASC call on @input (consumed bytes come back in *@consumed). */
static SECURITY_STATUS
call_once (QuicEnd *end, guint8 *input, gsize len, QuicEnd *peer, gsize *consumed)
{
  static const char *const alpn[] = { "h3", NULL };
  g_autoptr(GBytes) protocols = tp_alpn_buffer (alpn);
  g_autoptr(GBytes) extension = send_extension (end);
  SEC_FLAGS flags = { ISC_REQ_MESSAGES };
  SUBSCRIBE_GENERIC_TLS_EXTENSION subscribe = {
    .Flags = 0, .SubscriptionsCount = 1,
    .Subscriptions = { { TLS_EXTENSION_TYPE_QUIC_TRANSPORT_PARAMETERS, end->is_server ? 1 : 8 } },
  };
  g_autofree guint8 *room = g_malloc (OUTPUT_ROOM);
  guint8 secrets[N_SECRET_BUFFERS][SECRET_BUFFER_SIZE];
  guint8 alert[2];
  SecBuffer in[8], out[8];
  SecBufferDesc in_desc = { SECBUFFER_VERSION, 0, in };
  SecBufferDesc out_desc = { SECBUFFER_VERSION, 0, out };
  SecBuffer *extension_out = NULL, *token_out, *extra = NULL;
  ULONG req = ISC_REQ_SEQUENCE_DETECT | ISC_REQ_CONFIDENTIALITY | ISC_REQ_EXTENDED_ERROR |
              ISC_REQ_STREAM;
  ULONG attrs = 0;
  SECURITY_STATUS status;

  /* msquic's workspace keeps the last call's secrets: the package must
   * say None for the buffers it does not fill. */
  memset (secrets, 0xA5, sizeof secrets);
  if (len == 0 && !end->is_server)
    in[in_desc.cBuffers++] = (SecBuffer) { (ULONG) g_bytes_get_size (protocols),
                                           SECBUFFER_APPLICATION_PROTOCOLS,
                                           (void *) g_bytes_get_data (protocols, NULL) };
  else
    in[in_desc.cBuffers++] = (SecBuffer) { (ULONG) len, SECBUFFER_TOKEN, input };
  in[in_desc.cBuffers++] = (SecBuffer) { 0, SECBUFFER_EMPTY, NULL };
  in[in_desc.cBuffers++] = (SecBuffer) { 0, SECBUFFER_EMPTY, NULL };
  in[in_desc.cBuffers++] = (SecBuffer) { sizeof flags, SECBUFFER_FLAGS, &flags };
  if (end->is_server && !end->has_context)
    in[in_desc.cBuffers++] = (SecBuffer) { (ULONG) g_bytes_get_size (protocols),
                                           SECBUFFER_APPLICATION_PROTOCOLS,
                                           (void *) g_bytes_get_data (protocols, NULL) };
  out[out_desc.cBuffers++] = (SecBuffer) { OUTPUT_ROOM, SECBUFFER_TOKEN, room };
  out[out_desc.cBuffers++] = (SecBuffer) { sizeof alert, SECBUFFER_EMPTY, alert };
  if (!end->is_complete)
    in[in_desc.cBuffers++] = (SecBuffer) { (ULONG) g_bytes_get_size (extension),
                                           SECBUFFER_SEND_GENERIC_TLS_EXTENSION,
                                           (void *) g_bytes_get_data (extension, NULL) };
  if (len > 0 && end->peer_transport_params == NULL)
    {
      in[in_desc.cBuffers++] = (SecBuffer) { sizeof subscribe,
                                             SECBUFFER_SUBSCRIBE_GENERIC_TLS_EXTENSION,
                                             &subscribe };
      /* Over the input, as msquic does. */
      extension_out = &out[out_desc.cBuffers];
      out[out_desc.cBuffers++] = (SecBuffer) { (ULONG) len,
                                               SECBUFFER_SUBSCRIBE_GENERIC_TLS_EXTENSION,
                                               input };
    }
  for (int i = 0; i < N_SECRET_BUFFERS; i++)
    out[out_desc.cBuffers++] = (SecBuffer) { SECRET_BUFFER_SIZE, SECBUFFER_TRAFFIC_SECRETS,
                                             secrets[i] };

  if (end->is_server)
    status = AcceptSecurityContext (&end->cred, end->has_context ? &end->ctx : NULL, &in_desc,
                                    req, 0, &end->ctx, &out_desc, &attrs, NULL);
  else
    status = InitializeSecurityContextA (&end->cred, end->has_context ? &end->ctx : NULL,
                                         end->has_context ? NULL : (char *) "localhost", req, 0,
                                         SECURITY_NATIVE_DREP, &in_desc, 0, &end->ctx,
                                         &out_desc, &attrs, NULL);
  if (!SEC_SUCCESS (status))
    return status;
  end->has_context = TRUE;
  token_out = &out[0];
  for (ULONG i = 0; i < in_desc.cBuffers; i++)
    if (in[i].BufferType == SECBUFFER_EXTRA)
      extra = &in[i];

  if (status == SEC_I_GENERIC_EXTENSION_RECEIVED)
    {
      ck_assert_msg (extension_out != NULL, "an extension nobody subscribed to");
      ck_assert_uint_ge (extension_out->cbBuffer, 4);
      /* msquic skips the extension's type and length. */
      end->peer_transport_params = g_bytes_new ((guint8 *) extension_out->pvBuffer + 4,
                                                extension_out->cbBuffer - 4);
      end->extension_events++;
      *consumed = 0;
      return status;
    }
  take_secrets (end, out + out_desc.cBuffers - N_SECRET_BUFFERS, N_SECRET_BUFFERS);
  take_token (end, token_out, peer);
  *consumed = len - (extra != NULL ? extra->cbBuffer : 0);
  return status;
}

SECURITY_STATUS
quic_end_process (QuicEnd *end, QuicEnd *peer)
{
  g_autoptr(GByteArray) input = g_byte_array_new ();
  SECURITY_STATUS status;
  gsize consumed = 0;

  g_byte_array_append (input, end->inbox->data, end->inbox->len);
  status = call_once (end, input->data, input->len, peer, &consumed);
  /* QuicTlsProcessData: once more with the same buffer, now overwritten
   * by the extension. */
  if (status == SEC_I_GENERIC_EXTENSION_RECEIVED)
    status = call_once (end, input->data, input->len, peer, &consumed);
  if (status == SEC_E_OK)
    end->is_complete = TRUE;
  if (status == SEC_E_OK || status == SEC_I_CONTINUE_NEEDED)
    g_byte_array_remove_range (end->inbox, 0, (guint) consumed);
  end->status = status;
  return status;
}

void
quic_end_run_pair (QuicEnd *client, QuicEnd *server)
{
  ck_assert_int_eq (quic_end_process (client, server), SEC_I_CONTINUE_NEEDED);
  for (int round = 0; round < 8; round++)
    {
      if (server->inbox->len > 0 && !SEC_SUCCESS (quic_end_process (server, client)))
        return;
      if (client->inbox->len > 0 && !SEC_SUCCESS (quic_end_process (client, server)))
        return;
      if (client->is_complete && server->is_complete &&
          client->inbox->len == 0 && server->inbox->len == 0)
        return;
    }
  ck_abort_msg ("no end to the handshake: client 0x%08x, server 0x%08x",
                (guint32) client->status, (guint32) server->status);
}

/* The handshake message types of @stream, in order, as a string of
 * numbers ("2 8 11 15 20"), asserting the messages tile it exactly. */
char *
quic_end_message_types (const GByteArray *stream)
{
  g_autoptr(GString) types = g_string_new ("");
  gsize pos = 0;

  while (pos < stream->len)
    {
      gsize len;

      ck_assert_uint_ge (stream->len - pos, 4);
      len = ((gsize) stream->data[pos + 1] << 16) | ((gsize) stream->data[pos + 2] << 8) |
            stream->data[pos + 3];
      ck_assert_uint_ge (stream->len - pos - 4, len);
      g_string_append_printf (types, "%s%u", types->len > 0 ? " " : "", stream->data[pos]);
      pos += 4 + len;
    }
  return g_string_free (g_steal_pointer (&types), FALSE);
}
