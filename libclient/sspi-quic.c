/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QUIC mode's buffers, as msquic passes them to Schannel: the input
 * SECBUFFER_FLAGS with ISC_REQ_MESSAGES / ASC_REQ_MESSAGES (a 64-bit
 * request that does not fit fContextReq), SECBUFFER_SEND_GENERIC_TLS_EXTENSION
 * (the transport parameters), SECBUFFER_SUBSCRIBE_GENERIC_TLS_EXTENSION
 * (asks for the peer's); and the outputs: a SEC_TRAFFIC_SECRETS per
 * SECBUFFER_TRAFFIC_SECRETS buffer, and the peer's extension in the output
 * SECBUFFER_SUBSCRIBE_GENERIC_TLS_EXTENSION buffer.  The daemon does the
 * rest (daemon/sspid-tls-quic.c); this file only turns buffers into the
 * wire's structs (proto/sspid-quic.h) and back.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "schannel.h"
#include "sspi-private.h"

G_STATIC_ASSERT (ISC_REQ_MESSAGES == ASC_REQ_MESSAGES);
/* The layouts msquic relies on (its QuicTlsTPHeaderSize is this offset). */
G_STATIC_ASSERT (offsetof (SEND_GENERIC_TLS_EXTENSION, Buffer) == 10);
G_STATIC_ASSERT (offsetof (SUBSCRIBE_GENERIC_TLS_EXTENSION, Subscriptions) == 8);

static gboolean
is_messages_requested (const SecBufferDesc *input)
{
  const SecBuffer *b = sspi_buffer_find (input, SECBUFFER_FLAGS);
  SEC_FLAGS flags;

  if (b == NULL || b->pvBuffer == NULL || b->cbBuffer < sizeof flags)
    return FALSE;
  memcpy (&flags, b->pvBuffer, sizeof flags);
  return (flags.Flags & ISC_REQ_MESSAGES) != 0;
}

static SECURITY_STATUS
parse_send_extension (const SecBuffer *b, SspidQuicArgs *args)
{
  const gsize at = offsetof (SEND_GENERIC_TLS_EXTENSION, Buffer);
  SEND_GENERIC_TLS_EXTENSION head;

  if (b->pvBuffer == NULL || b->cbBuffer < at)
    return SEC_E_INVALID_TOKEN;
  memcpy (&head, b->pvBuffer, at);
  if (head.Flags != 0)
    return SEC_E_INVALID_PARAMETER;
  if (head.BufferSize > b->cbBuffer - at)
    return SEC_E_INVALID_TOKEN;
  args->has_extension = TRUE;
  args->extension_type = head.ExtensionType;
  args->extension_handshake = head.HandshakeType;
  args->extension_data = g_bytes_new ((const guint8 *) b->pvBuffer + at, head.BufferSize);
  return SEC_E_OK;
}

/* The first subscription counts: sspid follows one extension, the one the
 * caller sends (QUIC's transport parameters). */
static SECURITY_STATUS
parse_subscription (const SecBuffer *b, SspidQuicArgs *args)
{
  const gsize at = offsetof (SUBSCRIBE_GENERIC_TLS_EXTENSION, Subscriptions);
  SUBSCRIBE_GENERIC_TLS_EXTENSION head;
  TLS_EXTENSION_SUBSCRIPTION first;

  if (b->pvBuffer == NULL || b->cbBuffer < at)
    return SEC_E_INVALID_TOKEN;
  memcpy (&head, b->pvBuffer, at);
  if (head.Flags != 0)
    return SEC_E_INVALID_PARAMETER;
  if (head.SubscriptionsCount == 0)
    return SEC_E_OK;
  if (b->cbBuffer - at < sizeof first)
    return SEC_E_INVALID_TOKEN;
  memcpy (&first, (const guint8 *) b->pvBuffer + at, sizeof first);
  args->has_subscription = TRUE;
  args->subscription_type = first.ExtensionType;
  args->subscription_handshake = first.HandshakeType;
  return SEC_E_OK;
}

SECURITY_STATUS
sspi_quic_parse_input (const SecBufferDesc *input, SspidQuicArgs *args)
{
  const SecBuffer *b;
  SECURITY_STATUS status;

  if (input == NULL || !is_messages_requested (input))
    return SEC_E_OK;
  args->is_messages = TRUE;
  b = sspi_buffer_find (input, SECBUFFER_SEND_GENERIC_TLS_EXTENSION);
  if (b != NULL && (status = parse_send_extension (b, args)) != SEC_E_OK)
    return status;
  b = sspi_buffer_find (input, SECBUFFER_SUBSCRIBE_GENERIC_TLS_EXTENSION);
  if (b != NULL && (status = parse_subscription (b, args)) != SEC_E_OK)
    return status;
  return SEC_E_OK;
}

/* An ASCII name into a WCHAR[SZ_ALG_MAX_SIZE] (BCrypt's names are ASCII). */
static void
put_name (WCHAR *dst, const char *name)
{
  gsize i = 0;

  for (; name != NULL && name[i] != '\0' && i < SZ_ALG_MAX_SIZE - 1; i++)
    dst[i] = (WCHAR) (guchar) name[i];
  dst[i] = 0;
}

static void
fill_secret (SEC_TRAFFIC_SECRETS *out, const SspidTrafficSecret *s)
{
  gsize len = 0;
  const void *bytes = g_bytes_get_data (s->secret, &len);

  memset (out, 0, offsetof (SEC_TRAFFIC_SECRETS, TrafficSecret));
  put_name (out->SymmetricAlgId, s->cipher);
  put_name (out->ChainingMode, s->chaining_mode);
  put_name (out->HashAlgId, s->hash);
  out->KeySize = s->key_size;
  out->IvSize = s->iv_size;
  out->MsgSequenceStart = s->msg_start;
  out->MsgSequenceEnd = s->msg_end;
  out->TrafficSecretType = (SEC_TRAFFIC_SECRET_TYPE) s->type;
  out->TrafficSecretSize = (USHORT) len;
  memcpy (out->TrafficSecret, bytes, len);
}

/* Each secret into the next SECBUFFER_TRAFFIC_SECRETS output buffer, and
 * SecTrafficSecret_None into those left over (msquic reuses its buffers
 * and reads the type of each). */
static SECURITY_STATUS
write_secrets (const SecBufferDesc *output, GPtrArray *secrets)
{
  const gsize head = offsetof (SEC_TRAFFIC_SECRETS, TrafficSecret);
  guint next = 0;

  for (ULONG i = 0; i < output->cBuffers; i++)
    {
      SecBuffer *b = &output->pBuffers[i];
      const SspidTrafficSecret *s;

      if (!sspi_buffer_is (b, SECBUFFER_TRAFFIC_SECRETS) || b->pvBuffer == NULL || b->cbBuffer < head)
        continue;
      if (secrets == NULL || next >= secrets->len)
        {
          ((SEC_TRAFFIC_SECRETS *) b->pvBuffer)->TrafficSecretType = SecTrafficSecret_None;
          continue;
        }
      s = secrets->pdata[next++];
      if (b->cbBuffer < head + g_bytes_get_size (s->secret))
        return SEC_E_BUFFER_TOO_SMALL;
      fill_secret (b->pvBuffer, s);
    }
  /* A secret with nowhere to go would leave the caller without the keys
   * of an epoch: the handshake could not go on. */
  return secrets != NULL && next < secrets->len ? SEC_E_BUFFER_TOO_SMALL : SEC_E_OK;
}

static SECURITY_STATUS
write_extension (const SecBufferDesc *output, GBytes *extension)
{
  SecBuffer *b = sspi_buffer_find (output, SECBUFFER_SUBSCRIBE_GENERIC_TLS_EXTENSION);
  gsize len = 0;
  const void *data = g_bytes_get_data (extension, &len);

  if (b == NULL || b->pvBuffer == NULL || b->cbBuffer < len)
    return SEC_E_BUFFER_TOO_SMALL;
  memmove (b->pvBuffer, data, len);
  b->cbBuffer = (ULONG) len;
  return SEC_E_OK;
}

SECURITY_STATUS
sspi_quic_write_outputs (const SecBufferDesc *output, const SspiStep *step)
{
  g_auto(SspidQuicResult) result = { NULL, NULL };
  SECURITY_STATUS status = SEC_E_OK;

  if (output == NULL || output->pBuffers == NULL)
    return SEC_E_OK;
  sspid_quic_result_decode (step->extras, &result);
  if (result.extension != NULL)
    status = write_extension (output, result.extension);
  if (status == SEC_E_OK)
    status = write_secrets (output, result.secrets);
  return status;
}
