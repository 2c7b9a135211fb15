/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The record layer as Schannel's stream mode presents it: EncryptMessage
 * and DecryptMessage working in place on the caller's buffers, and
 * ApplyControlToken for shutdown and alerts.  The keys stay in the daemon;
 * each record call is one request and one answer on the session's record
 * channel (a socket the daemon hands out, see proto/sspid-channel.h), or a
 * method call over the bus if there is no channel, and the library does
 * what it can without one:
 *
 * - DecryptMessage frames the first record itself, so a partial record is
 *   answered (SEC_E_INCOMPLETE_MESSAGE with its SECBUFFER_MISSING count)
 *   without a round trip, and only that one whole record crosses the bus;
 * - EncryptMessage checks the caller's header and trailer buffers against
 *   the context's STREAM_SIZES (cached, see sspi-cache.c) before the daemon
 *   protects anything, because a record made and then not taken would use
 *   up a sequence number and break the stream.
 */

#include "config.h"

#include <string.h>

#include "sspi-private.h"
#include "sspid-channel.h"

/* TLS record framing (RFC 8446 5.1): type, version, 16-bit length. */
#define RECORD_HEADER_SIZE 5
/* DTLS (RFC 6347 4.1): type, version {254, x}, epoch, 48-bit sequence
 * number, 16-bit length. */
#define DTLS_RECORD_HEADER_SIZE 13
#define DTLS_VERSION_MAJOR      254
/* The largest body any version allows (TLS 1.2's ciphertext limit). */
#define RECORD_MAX_BODY    (16384 + 2048)

/* ---- EncryptMessage ------------------------------------------------------ */

/* The context's record sizes, asked of the daemon once per context.
 * FALSE (and SEC_E_OK) if it has none yet: the daemon then answers the
 * EncryptMessage itself (the handshake is not finished). */
static gboolean
peek_sizes (SspiSession *s, guint64 context, guint generation,
            SecPkgContext_StreamSizes *sizes, SECURITY_STATUS *status)
{
  g_auto(GVariantDict) info = G_VARIANT_DICT_INIT (NULL);

  *status = SEC_E_OK;
  if (sspi_cache_get_sizes (context, generation, sizes))
    return TRUE;
  *status = sspi_query_context (s, context, &info);
  if (*status != SEC_E_OK)
    return FALSE;
  return sspi_stream_sizes_from_info (&info, context, generation, sizes)
         == SEC_E_OK;
}

static gboolean
is_bad_buffer (const SecBuffer *b)
{
  return b == NULL || (b->cbBuffer > 0 && b->pvBuffer == NULL);
}

/* Splits @record into the caller's three buffers: header_size bytes, then
 * the DATA buffer's worth (the ciphertext, in place), then the rest. */
static SECURITY_STATUS
write_record (GVariant *record, guint32 header_size, SecBuffer *header,
              SecBuffer *data, SecBuffer *trailer)
{
  gsize len = 0, trailer_size;
  const guint8 *bytes = g_variant_get_fixed_array (record, &len, 1);

  if (len == 0)
    {
      /* TLS 1.2 cannot carry an empty record: nothing to send. */
      header->cbBuffer = data->cbBuffer = trailer->cbBuffer = 0;
      return SEC_E_OK;
    }
  if (header_size > len || len - header_size < data->cbBuffer)
    return SEC_E_INTERNAL_ERROR;
  trailer_size = len - header_size - data->cbBuffer;
  /* Cannot happen after the STREAM_SIZES check; if it does, say so. */
  if (header_size > header->cbBuffer || trailer_size > trailer->cbBuffer)
    return SEC_E_BUFFER_TOO_SMALL;
  memcpy (header->pvBuffer, bytes, header_size);
  if (data->cbBuffer > 0)
    memcpy (data->pvBuffer, bytes + header_size, data->cbBuffer);
  memcpy (trailer->pvBuffer, bytes + header_size + data->cbBuffer,
          trailer_size);
  header->cbBuffer = header_size;
  trailer->cbBuffer = (ULONG) trailer_size;
  return SEC_E_OK;
}

/* Encrypts, in place, the SECBUFFER_DATA buffer of @pMessage, whose
 * SECBUFFER_STREAM_HEADER and SECBUFFER_STREAM_TRAILER buffers must be at
 * least STREAM_SIZES' cbHeader and cbTrailer long (Schannel's stream mode;
 * the usual shape is [STREAM_HEADER, DATA, STREAM_TRAILER, EMPTY]).  On
 * SEC_E_OK the header, data and trailer buffers, in that order, hold the
 * record to send, each cbBuffer set to its part.  An empty DATA buffer on
 * TLS 1.2 gives nothing to send (all three sizes 0).  Errors:
 * SEC_E_INVALID_HANDLE, SEC_E_INVALID_TOKEN (a buffer missing),
 * SEC_E_BUFFER_TOO_SMALL (nothing was encrypted), SEC_E_INVALID_PARAMETER
 * (more than cbMaximumMessage), SEC_E_CONTEXT_EXPIRED (closed, or not
 * established).  @fQOP and @MessageSeqNo are not used by Schannel. */
SSPI_PUBLIC SECURITY_STATUS
EncryptMessage (PCtxtHandle phContext, ULONG fQOP, PSecBufferDesc pMessage,
                ULONG MessageSeqNo)
{
  g_autoptr(SspiSession) s = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_auto(SspidEncryptResult) answer = { 0 };
  SecPkgContext_StreamSizes sizes;
  SecBuffer *header, *data, *trailer;
  SECURITY_STATUS status;
  guint64 context;
  guint generation;

  status = sspi_handle_unpack (phContext, SSPI_HANDLE_CONTEXT, &context,
                               &generation);
  if (status != SEC_E_OK)
    return status;
  if (pMessage == NULL)
    return SEC_E_INVALID_PARAMETER;
  header = sspi_buffer_find (pMessage, SECBUFFER_STREAM_HEADER);
  data = sspi_buffer_find (pMessage, SECBUFFER_DATA);
  trailer = sspi_buffer_find (pMessage, SECBUFFER_STREAM_TRAILER);
  if (is_bad_buffer (header) || is_bad_buffer (data) || is_bad_buffer (trailer))
    return SEC_E_INVALID_TOKEN;

  status = sspi_session_get_for (generation, &s);
  if (status != SEC_E_OK)
    return status;
  if (peek_sizes (s, context, generation, &sizes, &status))
    {
      if (header->cbBuffer < sizes.cbHeader || trailer->cbBuffer < sizes.cbTrailer)
        return SEC_E_BUFFER_TOO_SMALL;
      if (data->cbBuffer > sizes.cbMaximumMessage)
        return SEC_E_INVALID_PARAMETER;
    }
  else if (status != SEC_E_OK)
    return status;

  /* The plaintext is serialised once, straight from the caller's buffer. */
  reply = sspi_session_record_call (s, SSPID_CHANNEL_OP_ENCRYPT,
                                    sspid_method_get (SSPID_CALL_ENCRYPT)->name,
                                    sspid_record_args_encode (&(SspidRecordArgs) {
                                      context, g_variant_new_from_data (
                                                 G_VARIANT_TYPE_BYTESTRING, data->pvBuffer,
                                                 data->cbBuffer, TRUE, NULL, NULL) }),
                                    SSPID_CHANNEL_ANSWER_ENCRYPT_TYPE, &status);
  if (reply == NULL)
    return status;
  sspid_encrypt_result_decode (reply, &answer);
  if (answer.status != SEC_E_OK)
    return answer.status;
  return write_record (answer.record, answer.header_size, header, data, trailer);
}

/* ---- DecryptMessage ------------------------------------------------------ */

/* The first record of @p: SEC_E_OK and its size, SEC_E_INCOMPLETE_MESSAGE
 * and the bytes still needed, or SEC_E_INVALID_TOKEN for bytes that cannot
 * start a TLS record (the same rules as the daemon's framing). */
static SECURITY_STATUS
frame_record (const guint8 *p, gsize have, gsize *record_size,
              guint32 *missing)
{
  gsize body;

  if (have >= 1 && (p[0] < 20 || p[0] > 24))   /* change_cipher_spec..heartbeat */
    return SEC_E_INVALID_TOKEN;
  /* DTLS records (a datagram context's DecryptMessage input is one
   * datagram): whole or not at all, as datagrams are.  The daemon gets the
   * whole datagram: it opens the first record and says how long that was,
   * and when it drops a record that others follow, it can say so with an
   * empty one and the rest as EXTRA.  What is not whole goes as it is,
   * and the daemon answers SEC_E_INVALID_TOKEN. */
  if (have >= 2 && p[1] == DTLS_VERSION_MAJOR)
    {
      if (have < DTLS_RECORD_HEADER_SIZE ||
          DTLS_RECORD_HEADER_SIZE + (((gsize) p[11] << 8) | p[12]) > have)
        return SEC_E_INVALID_TOKEN;
      *record_size = have;
      return SEC_E_OK;
    }
  if (have >= 2 && p[1] != 3)
    return SEC_E_INVALID_TOKEN;
  if (have < RECORD_HEADER_SIZE)
    {
      *missing = (guint32) (RECORD_HEADER_SIZE - have);
      return SEC_E_INCOMPLETE_MESSAGE;
    }
  body = ((gsize) p[3] << 8) | p[4];
  if (body > RECORD_MAX_BODY)
    return SEC_E_INVALID_TOKEN;
  if (have < RECORD_HEADER_SIZE + body)
    {
      *missing = (guint32) (RECORD_HEADER_SIZE + body - have);
      return SEC_E_INCOMPLETE_MESSAGE;
    }
  *record_size = RECORD_HEADER_SIZE + body;
  return SEC_E_OK;
}

/* The one SECBUFFER_DATA buffer of a well-shaped DecryptMessage input:
 * as on Windows (Wine's schannel test), one DATA buffer and three EMPTY
 * ones for the header, trailer and extra bytes, else SEC_E_INVALID_TOKEN. */
static SECURITY_STATUS
find_input (PSecBufferDesc message, SecBuffer **data)
{
  guint empty = 0;

  *data = NULL;
  if (message == NULL)
    return SEC_E_INVALID_PARAMETER;
  if (message->cBuffers < 4 || message->pBuffers == NULL)
    return SEC_E_INVALID_TOKEN;
  for (ULONG i = 0; i < message->cBuffers; i++)
    {
      if (sspi_buffer_is (&message->pBuffers[i], SECBUFFER_EMPTY))
        empty++;
      if (!sspi_buffer_is (&message->pBuffers[i], SECBUFFER_DATA))
        continue;
      if (*data != NULL)
        return SEC_E_INVALID_TOKEN;   /* two DATA buffers */
      *data = &message->pBuffers[i];
    }
  if (*data == NULL || is_bad_buffer (*data) || empty < 3)
    return SEC_E_INVALID_TOKEN;
  return SEC_E_OK;
}

/* SEC_E_INCOMPLETE_MESSAGE: as on Windows, the DATA buffer itself becomes
 * SECBUFFER_MISSING with the bytes still needed (its pvBuffer, and the
 * bytes, stay as they were). */
static void
write_missing (SecBuffer *data, guint32 missing)
{
  data->BufferType = SECBUFFER_MISSING;
  data->cbBuffer = missing;
}

/* Rewrites the first four buffers of @message as Windows does after a
 * record was opened: [STREAM_HEADER, DATA (the plaintext, copied over the
 * ciphertext), STREAM_TRAILER, EXTRA (the bytes after the record) or
 * EMPTY].  All of them point into the caller's input @base. */
static SECURITY_STATUS
write_opened (PSecBufferDesc message, guint8 *base, gsize have,
              gsize record_size, guint32 header_size, GVariant *plaintext)
{
  SecBuffer *b = message->pBuffers;
  gsize len = 0;
  const guint8 *plain = g_variant_get_fixed_array (plaintext, &len, 1);
  gsize extra = have - record_size;

  /* A DTLS record the daemon dropped (its datagram goes on) comes back
   * empty, and may be shorter than a protected record's header (a
   * ChangeCipherSpec): all header then. */
  if (len == 0 && header_size > record_size)
    header_size = (guint32) record_size;
  if (header_size > record_size || len > record_size - header_size)
    return SEC_E_INTERNAL_ERROR;
  if (len > 0)
    memcpy (base + header_size, plain, len);
  b[0] = (SecBuffer) { header_size, SECBUFFER_STREAM_HEADER, base };
  b[1] = (SecBuffer) { (ULONG) len, SECBUFFER_DATA, base + header_size };
  b[2] = (SecBuffer) { (ULONG) (record_size - header_size - len),
                       SECBUFFER_STREAM_TRAILER, base + header_size + len };
  if (extra > 0)
    b[3] = (SecBuffer) { (ULONG) extra, SECBUFFER_EXTRA, base + record_size };
  else
    b[3] = (SecBuffer) { 0, SECBUFFER_EMPTY, NULL };
  return SEC_E_OK;
}

/* Sends exactly the record at @base to the daemon and rewrites @message
 * with its answer. */
static SECURITY_STATUS
open_record (SspiSession *s, guint64 context, PSecBufferDesc message,
             guint8 *base, gsize have, gsize record_size)
{
  g_autoptr(GVariant) reply = NULL;
  g_auto(SspidDecryptResult) answer = { 0 };
  SECURITY_STATUS status;

  reply = sspi_session_record_call (s, SSPID_CHANNEL_OP_DECRYPT,
                                    sspid_method_get (SSPID_CALL_DECRYPT)->name,
                                    sspid_record_args_encode (&(SspidRecordArgs) {
                                      context, g_variant_new_from_data (
                                                 G_VARIANT_TYPE_BYTESTRING, base,
                                                 record_size, TRUE, NULL, NULL) }),
                                    SSPID_CHANNEL_ANSWER_DECRYPT_TYPE, &status);
  if (reply == NULL)
    return status;
  sspid_decrypt_result_decode (reply, &answer);
  status = answer.status;
  if (status == SEC_E_INCOMPLETE_MESSAGE && sspi_buffer_find (message, SECBUFFER_DATA) != NULL)
    write_missing (sspi_buffer_find (message, SECBUFFER_DATA), answer.missing);
  /* Errors (tampering included) leave the caller's buffers as they were:
   * no plaintext is ever handed out with one. */
  if (!SEC_SUCCESS (status))
    return status;
  /* OK, CONTEXT_EXPIRED (close_notify) and RENEGOTIATE all consumed the
   * record, which was all we sent (a datagram's first record, of a
   * datagram we sent whole). */
  if (answer.record_size == 0 || answer.record_size > record_size)
    return SEC_E_INTERNAL_ERROR;
  record_size = answer.record_size;
  /* A renegotiation may change the cipher suite, and with it the sizes. */
  if (status == SEC_I_RENEGOTIATE)
    sspi_cache_forget (SSPI_HANDLE_CONTEXT, context);
  if (write_opened (message, base, have, record_size, answer.header_size,
                    answer.plaintext) != SEC_E_OK)
    return SEC_E_INTERNAL_ERROR;
  return status;
}

/* Decrypts, in place, the first TLS record of the single SECBUFFER_DATA
 * buffer of @pMessage, which needs at least four buffers (the usual shape:
 * [DATA (bytes received), EMPTY, EMPTY, EMPTY]); else SEC_E_INVALID_TOKEN.
 * On SEC_E_OK the first four buffers become [STREAM_HEADER, DATA (the
 * plaintext, possibly empty: a TLS 1.3 session ticket or an empty record),
 * STREAM_TRAILER, EXTRA (bytes of the next records, pvBuffer pointing at
 * them in the caller's input) or EMPTY].  The same shape comes with
 * SEC_I_CONTEXT_EXPIRED (the peer's close_notify) and SEC_I_RENEGOTIATE (a
 * post-handshake message needs an answer: call InitializeSecurityContext /
 * AcceptSecurityContext with no input and send its output).  A partial
 * record gives SEC_E_INCOMPLETE_MESSAGE with the DATA buffer turned into
 * SECBUFFER_MISSING (bytes still needed; as on Windows), decided locally.
 * Fewer than four buffers, no DATA buffer, two, or fewer than three EMPTY
 * ones: SEC_E_INVALID_TOKEN, the context untouched.  Tampering gives
 * SEC_E_DECRYPT_FAILURE, bytes that cannot be a record SEC_E_INVALID_TOKEN;
 * both end the session, and the next ISC/ASC with no input returns
 * SEC_I_CONTEXT_EXPIRED with the alert the peer is owed.  No error ever
 * changes the DATA buffer.
 * *pfQOP (if given) is set to 0; @MessageSeqNo is not used by Schannel. */
SSPI_PUBLIC SECURITY_STATUS
DecryptMessage (PCtxtHandle phContext, PSecBufferDesc pMessage,
                ULONG MessageSeqNo, ULONG *pfQOP)
{
  g_autoptr(SspiSession) s = NULL;
  SecBuffer *data;
  SECURITY_STATUS status;
  guint64 context;
  guint generation;
  gsize record_size = 0;
  guint32 missing = 0;

  if (pfQOP != NULL)
    *pfQOP = 0;
  status = sspi_handle_unpack (phContext, SSPI_HANDLE_CONTEXT, &context,
                               &generation);
  if (status != SEC_E_OK)
    return status;
  status = find_input (pMessage, &data);
  if (status != SEC_E_OK)
    return status;

  status = frame_record (data->pvBuffer, data->cbBuffer, &record_size,
                         &missing);
  if (status == SEC_E_INCOMPLETE_MESSAGE)
    write_missing (data, missing);
  if (status == SEC_E_INVALID_TOKEN)
    {
      /* Bytes that cannot be a TLS record end the connection (the stream
       * cannot be followed past them).  The daemon must see them to end
       * the session and make the alert the peer is owed (for the next
       * ISC/ASC); the header is all it needs, and it answers
       * SEC_E_INVALID_TOKEN too. */
      record_size = MIN (data->cbBuffer, RECORD_HEADER_SIZE);
      if (data->cbBuffer >= 2 && ((guint8 *) data->pvBuffer)[1] == DTLS_VERSION_MAJOR)
        record_size = data->cbBuffer;   /* a datagram: the daemon judges it whole */
    }
  else if (status != SEC_E_OK)
    return status;

  status = sspi_session_get_for (generation, &s);
  if (status != SEC_E_OK)
    return status;
  return open_record (s, context, pMessage, data->pvBuffer, data->cbBuffer,
                      record_size);
}

/* ---- ApplyControlToken --------------------------------------------------- */

/* The SECBUFFER_TOKEN of @input -> what the daemon's ApplyControlToken
 * takes.  SEC_E_UNSUPPORTED_FUNCTION for tokens other than SCHANNEL_SHUTDOWN
 * and SCHANNEL_ALERT. */
static SECURITY_STATUS
parse_control_token (PSecBufferDesc input, guint32 *type,
                     guint32 *alert_type, guint32 *alert_number)
{
  SecBuffer *token;
  SCHANNEL_ALERT_TOKEN alert;
  DWORD kind;

  /* Windows' answers (Wine's schannel test): no descriptor
   * SEC_E_INTERNAL_ERROR; anything but one SECBUFFER_TOKEN
   * SEC_E_INVALID_TOKEN; a token too short to name its kind
   * SEC_E_UNSUPPORTED_FUNCTION. */
  if (input == NULL)
    return SEC_E_INTERNAL_ERROR;
  if (input->cBuffers != 1 || input->pBuffers == NULL)
    return SEC_E_INVALID_TOKEN;
  token = sspi_buffer_find (input, SECBUFFER_TOKEN);
  if (token == NULL || token->pvBuffer == NULL)
    return SEC_E_INVALID_TOKEN;
  if (token->cbBuffer < sizeof kind)
    return SEC_E_UNSUPPORTED_FUNCTION;
  memcpy (&kind, token->pvBuffer, sizeof kind);
  *type = kind;
  *alert_type = *alert_number = 0;
  if (kind == SCHANNEL_SHUTDOWN)
    return SEC_E_OK;
  if (kind != SCHANNEL_ALERT)
    return SEC_E_UNSUPPORTED_FUNCTION;
  if (token->cbBuffer < sizeof alert)
    return SEC_E_INVALID_TOKEN;
  memcpy (&alert, token->pvBuffer, sizeof alert);
  *alert_type = alert.dwAlertType;
  *alert_number = alert.dwAlertNumber;
  return SEC_E_OK;
}

/* Applies a Schannel control token, in the SECBUFFER_TOKEN buffer of
 * @pInput: a DWORD SCHANNEL_SHUTDOWN, or a SCHANNEL_ALERT_TOKEN
 * {SCHANNEL_ALERT, TLS1_ALERT_WARNING or TLS1_ALERT_FATAL, TLS1_ALERT_*}.
 * The next InitializeSecurityContext / AcceptSecurityContext call on the
 * context (sync or async, with no input) returns SEC_E_OK and the alert
 * record to send (close_notify for a shutdown).  Errors, as on Windows:
 * SEC_E_INVALID_HANDLE, SEC_E_INTERNAL_ERROR (no @pInput),
 * SEC_E_INVALID_TOKEN (not exactly one buffer, or it is not a
 * SECBUFFER_TOKEN), SEC_E_UNSUPPORTED_FUNCTION (a token shorter than a
 * DWORD, or another kind: SCHANNEL_RENEGOTIATE, SCHANNEL_SESSION);
 * SEC_E_INVALID_TOKEN for an alert token shorter than
 * SCHANNEL_ALERT_TOKEN, SEC_E_INVALID_PARAMETER for a bad alert type. */
SSPI_PUBLIC SECURITY_STATUS
ApplyControlToken (PCtxtHandle phContext, PSecBufferDesc pInput)
{
  g_autoptr(SspiSession) s = NULL;
  g_autoptr(GVariant) reply = NULL;
  SECURITY_STATUS status;
  guint64 context;
  guint generation;
  guint32 type, alert_type, alert_number, answer;

  status = sspi_handle_unpack (phContext, SSPI_HANDLE_CONTEXT, &context,
                               &generation);
  if (status != SEC_E_OK)
    return status;
  status = parse_control_token (pInput, &type, &alert_type, &alert_number);
  if (status != SEC_E_OK)
    return status;
  status = sspi_session_get_for (generation, &s);
  if (status != SEC_E_OK)
    return status;
  reply = sspi_session_call (s, sspid_method_get (SSPID_CALL_APPLY_CONTROL)->name,
                             sspid_control_args_encode (&(SspidControlArgs) {
                               context, type, alert_type, alert_number }),
                             sspid_method_get (SSPID_CALL_APPLY_CONTROL)->out_type, &status);
  if (reply == NULL)
    return status;
  g_variant_get (reply, "(u)", &answer);
  return (SECURITY_STATUS) answer;
}
