/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Application data over an established Schannel context (see
 * sspictl-stream.h): the record loop of a Windows Schannel program, on
 * libsspi's synchronous API.  The keys stay in sspid: EncryptMessage and
 * DecryptMessage send each record to the daemon and copy the result into
 * the caller's buffers in place, exactly as Schannel's stream mode does.
 *
 * A DTLS context (--dtls) on a connected UDP socket goes through the same
 * loop with what datagrams change: a record goes out as one datagram, a
 * datagram is read whole and its records opened one by one (EXTRA), a
 * record that does not open (damaged, replayed, of an old epoch) is
 * dropped and the association goes on (RFC 6347 4.1.2.7), the peer's
 * resent last flight (ours was lost) is answered by an ISC/ASC call with no
 * input, which resends ours, and there is no end of stream: a peer is
 * gone when it said close_notify, when the kernel says nobody listens, or
 * when it stays silent for DATAGRAM_LINGER_SEC after our close_notify.
 */
#include "config.h"

#include <string.h>

#include "sspictl-stream.h"

/* How long the peer may stay silent once the data flows: generous, it only
 * bounds a hang (connections are served one at a time). */
#define STREAM_TIMEOUT_SEC 120
/* DTLS has no end of stream: after our close_notify, a peer silent this
 * long has ended too (many never answer one over UDP). */
#define DATAGRAM_LINGER_SEC 2
#define READ_CHUNK 16384

/* The largest datagram (UDP's): a shorter read would cut one. */
#define DATAGRAM_MAX 65535

#define ISC_FLAGS (ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | ISC_REQ_CONFIDENTIALITY | \
                   ISC_REQ_EXTENDED_ERROR | ISC_REQ_ALLOCATE_MEMORY)
#define ASC_FLAGS (ASC_REQ_SEQUENCE_DETECT | ASC_REQ_REPLAY_DETECT | ASC_REQ_CONFIDENTIALITY | \
                   ASC_REQ_EXTENDED_ERROR | ASC_REQ_ALLOCATE_MEMORY)

struct _SspictlStream {
  GSocket                   *socket;
  CredHandle                *cred;
  CtxtHandle                *ctx;
  const SspictlTlsOptions   *opts;
  GByteArray                *in;         /* received, not yet decrypted */
  gboolean                   has_sizes;
  SecPkgContext_StreamSizes  sizes;
  GByteArray                *record;     /* EncryptMessage's in-place buffer */
  SspictlTlsExchange         exchange;
  gboolean                   is_quiet;   /* closing: socket errors are expected */
};

SspictlStream *
sspictl_stream_new (GSocket *socket, CredHandle *cred, CtxtHandle *ctx,
                    const SspictlTlsOptions *opts, const GByteArray *leftover)
{
  SspictlStream *s = g_new0 (SspictlStream, 1);

  s->socket = socket;
  s->cred = cred;
  s->ctx = ctx;
  s->opts = opts;
  s->in = g_byte_array_new ();
  s->record = g_byte_array_new ();
  if (leftover != NULL)
    g_byte_array_append (s->in, leftover->data, leftover->len);
  g_socket_set_timeout (socket, STREAM_TIMEOUT_SEC);
  return s;
}

void
sspictl_stream_free (SspictlStream *s)
{
  if (s == NULL)
    return;
  g_byte_array_unref (s->in);
  g_byte_array_unref (s->record);
  sspictl_tls_exchange_clear (&s->exchange);
  g_free (s);
}

SspictlTlsExchange *
sspictl_stream_peek_exchange (SspictlStream *s)
{
  return &s->exchange;
}

/* ---- ISC/ASC after the handshake ------------------------------------- */

/* One InitializeSecurityContext / AcceptSecurityContext call on the
 * established context (a KeyUpdate answer, a close_notify): @input may be
 * NULL.  Sends the output token; *sent says whether that worked. */
static SECURITY_STATUS
context_step (SspictlStream *s, SecBufferDesc *input, gboolean is_quiet, gboolean *sent)
{
  SecBuffer out_buf = { 0, SECBUFFER_TOKEN, NULL };
  SecBufferDesc out_desc = { SECBUFFER_VERSION, 1, &out_buf };
  ULONG attrs = 0;
  TimeStamp expiry;
  SECURITY_STATUS status;

  if (s->opts->is_server)
    status = AcceptSecurityContext (s->cred, s->ctx, input,
                                    ASC_FLAGS | s->opts->context_req |
                                    (s->opts->is_datagram ? ASC_REQ_DATAGRAM : ASC_REQ_STREAM),
                                    SECURITY_NATIVE_DREP, s->ctx, &out_desc, &attrs, &expiry);
  else
    status = InitializeSecurityContextA (s->cred, s->ctx, (SEC_CHAR *) s->opts->target,
                                         ISC_FLAGS | s->opts->context_req |
                                         (s->opts->is_datagram ? ISC_REQ_DATAGRAM
                                                               : ISC_REQ_STREAM), 0,
                                         SECURITY_NATIVE_DREP, input, 0, s->ctx, &out_desc,
                                         &attrs, &expiry);
  *sent = TRUE;
  if (out_buf.pvBuffer != NULL)
    {
      if (out_buf.cbBuffer > 0)
        *sent = sspictl_socket_send_all (s->socket, out_buf.pvBuffer, out_buf.cbBuffer,
                                         is_quiet);
      FreeContextBuffer (out_buf.pvBuffer);
    }
  return status;
}

static gssize read_socket (SspictlStream *s);

/* Keeps in s->in only what SECBUFFER_EXTRA says was not consumed. */
static void
keep_extra (SspictlStream *s, const SecBuffer *second)
{
  if (s->in->len > 0 && second->BufferType == SECBUFFER_EXTRA && second->cbBuffer <= s->in->len)
    g_byte_array_remove_range (s->in, 0, s->in->len - second->cbBuffer);
  else
    g_byte_array_set_size (s->in, 0);
}

static SECURITY_STATUS decrypt_one (SspictlStream *s, GByteArray *plain, gsize *plain_len);

/* During a renegotiation the peer may still send records for the record
 * layer (TLS 1.2 allows data until its ChangeCipherSpec; `openssl s_server
 * -www` sends the page, even close_notify, right behind its HelloRequest).
 * ISC/ASC hands them back untouched as EXTRA; DecryptMessage opens them. */
static SspictlStreamResult
open_interleaved (SspictlStream *s, GByteArray *plain)
{
  gsize len;
  SECURITY_STATUS status = decrypt_one (s, plain, &len);

  switch (status)
    {
    case SEC_E_OK:
      return SSPICTL_STREAM_DATA;
    case SEC_E_INCOMPLETE_MESSAGE:
      return SSPICTL_STREAM_AGAIN;
    case SEC_I_CONTEXT_EXPIRED:
      s->exchange.end = "close_notify";
      return SSPICTL_STREAM_CLOSED;
    default:
      sspictl_print_status ("DecryptMessage during a renegotiation", status);
      return SSPICTL_STREAM_FAILED;
    }
}

/* SEC_I_RENEGOTIATE: the peer sent a message that needs an answer.  As on
 * Windows, the received bytes after that record go to ISC/ASC as its input
 * token (no input at all when there are none, which libsspi documents),
 * and its output is the answer.  A TLS 1.3 KeyUpdate is answered at once
 * (SEC_E_OK, everything handed back as EXTRA for the record layer).  A TLS
 * 1.2 renegotiation (a server's HelloRequest, a client's new ClientHello)
 * is a handshake: SEC_I_CONTINUE_NEEDED, read, call again, until SEC_E_OK;
 * what follows its last message (the peer's data) is EXTRA.  Data that
 * arrives in the middle is appended to @plain.  Returns DATA when the
 * renegotiation is done (whether or not data came), CLOSED if the peer
 * closed instead, FAILED. */
static SspictlStreamResult
answer_renegotiate (SspictlStream *s, GByteArray *plain)
{
  for (;;)
    {
      SecBuffer in_bufs[2] = {
        { s->in->len, SECBUFFER_TOKEN, s->in->data },
        { 0, SECBUFFER_EMPTY, NULL },
      };
      SecBufferDesc in_desc = { SECBUFFER_VERSION, 2, in_bufs };
      guint had = s->in->len;
      SspictlStreamResult r;
      SECURITY_STATUS status;
      gboolean sent;

      status = context_step (s, s->in->len > 0 ? &in_desc : NULL, FALSE, &sent);
      if (!sent)
        return SSPICTL_STREAM_FAILED;
      switch (status)
        {
        case SEC_E_OK:
          s->exchange.renegotiations++;
          keep_extra (s, &in_bufs[1]);
          return SSPICTL_STREAM_DATA;
        case SEC_I_CONTINUE_NEEDED:
          keep_extra (s, &in_bufs[1]);
          break;
        case SEC_I_INCOMPLETE_CREDENTIALS:
          /* Asked for a certificate we lack: go on without one, calling
           * again with the same input (as in the handshake). */
          if (!s->is_quiet)
            g_printerr ("sspictl: the server asks for a client certificate; "
                        "continuing without one\n");
          continue;
        case SEC_E_INCOMPLETE_MESSAGE:
          break;   /* read more and append */
        default:
          sspictl_print_status ("renegotiating", status);
          return SSPICTL_STREAM_FAILED;
        }
      if (status == SEC_I_CONTINUE_NEEDED && s->in->len > 0)
        {
          /* Something consumed: the next message may be here already.
           * Nothing consumed: a record for the record layer is first. */
          if (s->in->len < had)
            continue;
          r = open_interleaved (s, plain);
          if (r == SSPICTL_STREAM_DATA)
            continue;
          if (r != SSPICTL_STREAM_AGAIN)
            return r;
        }
      if (read_socket (s) <= 0)
        {
          s->exchange.end = "eof";
          return SSPICTL_STREAM_FAILED;
        }
    }
}

/* After DecryptMessage failed (a bad record MAC, an oversized record, an
 * unexpected message ...): the connection is over, and the peer is owed an
 * alert that says why.  As on Windows, the next ISC/ASC, with no input,
 * returns it (SEC_I_CONTEXT_EXPIRED: the connection is shut down; send the
 * output, then delete the context).  Best effort: the peer may be gone. */
static void
send_owed_alert (SspictlStream *s)
{
  gboolean sent;

  context_step (s, NULL, TRUE, &sent);
}

gboolean
sspictl_stream_shutdown (SspictlStream *s)
{
  DWORD type = SCHANNEL_SHUTDOWN;
  SecBuffer token = { sizeof type, SECBUFFER_TOKEN, &type };
  SecBufferDesc desc = { SECBUFFER_VERSION, 1, &token };
  SECURITY_STATUS status;
  gboolean sent;

  status = ApplyControlToken (s->ctx, &desc);
  if (status != SEC_E_OK)
    {
      sspictl_print_status ("ApplyControlToken (SCHANNEL_SHUTDOWN)", status);
      return FALSE;
    }
  /* The next ISC/ASC, with no input, returns the close_notify record. */
  status = context_step (s, NULL, TRUE, &sent);
  if (status != SEC_E_OK)
    {
      sspictl_print_status ("making the close_notify record", status);
      return FALSE;
    }
  s->exchange.sent_close_notify = sent;
  return sent;
}

/* ---- sending ---------------------------------------------------------- */

static gboolean
ensure_sizes (SspictlStream *s)
{
  SECURITY_STATUS status;

  if (s->has_sizes)
    return TRUE;
  status = QueryContextAttributesA (s->ctx, SECPKG_ATTR_STREAM_SIZES, &s->sizes);
  if (status != SEC_E_OK)
    {
      sspictl_print_status ("QueryContextAttributes (SECPKG_ATTR_STREAM_SIZES)", status);
      return FALSE;
    }
  if (s->sizes.cbMaximumMessage == 0)
    {
      g_printerr ("sspictl: SECPKG_ATTR_STREAM_SIZES says no record may carry data\n");
      return FALSE;
    }
  s->has_sizes = TRUE;
  g_byte_array_set_size (s->record, s->sizes.cbHeader + s->sizes.cbMaximumMessage +
                                    s->sizes.cbTrailer);
  return TRUE;
}

/* One record: the plaintext is copied behind the header space and
 * encrypted in place, as in Microsoft's Schannel samples. */
static gboolean
send_record (SspictlStream *s, const guint8 *data, gsize len)
{
  guint8 *base = s->record->data;
  SecBuffer bufs[4] = {
    { s->sizes.cbHeader, SECBUFFER_STREAM_HEADER, base },
    { (ULONG) len, SECBUFFER_DATA, base + s->sizes.cbHeader },
    { s->sizes.cbTrailer, SECBUFFER_STREAM_TRAILER, base + s->sizes.cbHeader + len },
    { 0, SECBUFFER_EMPTY, NULL },
  };
  SecBufferDesc desc = { SECBUFFER_VERSION, 4, bufs };
  SECURITY_STATUS status;
  gsize total;

  memcpy (bufs[1].pvBuffer, data, len);
  status = EncryptMessage (s->ctx, 0, &desc, 0);
  if (status != SEC_E_OK)
    {
      sspictl_print_status ("EncryptMessage", status);
      return FALSE;
    }
  /* The header may be shorter than cbHeader: close the gap so the record
   * goes out in one send (one TCP segment for a small one). */
  if (bufs[0].cbBuffer < s->sizes.cbHeader)
    memmove (base + bufs[0].cbBuffer, bufs[1].pvBuffer, bufs[1].cbBuffer + bufs[2].cbBuffer);
  total = bufs[0].cbBuffer + bufs[1].cbBuffer + bufs[2].cbBuffer;
  if (total == 0)
    return TRUE;   /* TLS 1.2 has no empty records: nothing to send */
  if (!sspictl_socket_send_all (s->socket, base, total, FALSE))
    return FALSE;
  s->exchange.records_sent++;
  s->exchange.bytes_sent += len;
  return TRUE;
}

gboolean
sspictl_stream_send (SspictlStream *s, const void *data, gsize len)
{
  const guint8 *p = data;

  if (!ensure_sizes (s))
    return FALSE;
  do
    {
      gsize chunk = MIN (len, s->sizes.cbMaximumMessage);

      if (!send_record (s, p, chunk))
        return FALSE;
      p += chunk;
      len -= chunk;
    }
  while (len > 0);
  return TRUE;
}

/* ---- receiving -------------------------------------------------------- */

/* Appends what the socket has (at least a byte: a whole datagram on a
 * datagram socket) to s->in.  Returns the byte count, 0 at the end of the
 * stream (a datagram socket's: the kernel says nobody listens at the
 * peer's port any more), -1 on error (printed). */
static gssize
read_socket (SspictlStream *s)
{
  g_autoptr (GError) error = NULL;
  guint old_len = s->in->len;
  gsize want = s->opts->is_datagram ? DATAGRAM_MAX
                                    : s->opts->read_size ? s->opts->read_size : READ_CHUNK;
  gssize n;

  if (s->opts->is_datagram && s->exchange.sent_close_notify)
    g_socket_set_timeout (s->socket, DATAGRAM_LINGER_SEC);
  do
    {
      g_byte_array_set_size (s->in, old_len + want);
      n = g_socket_receive (s->socket, (char *) s->in->data + old_len, want, NULL, &error);
      g_byte_array_set_size (s->in, old_len + MAX (n, 0));
    }
  while (n == 0 && s->opts->is_datagram);   /* an empty datagram is no end */
  if (n < 0 && s->opts->is_datagram &&
      (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ||
       (s->exchange.sent_close_notify && g_error_matches (error, G_IO_ERROR,
                                                          G_IO_ERROR_TIMED_OUT))))
    return 0;
  if (n < 0 && !s->is_quiet)
    g_printerr ("sspictl: receiving: %s\n", error->message);
  return n;
}

/* A datagram's record that did not open: RFC 6347 4.1.2.7 drops it (a
 * damaged or replayed record, one of an epoch gone by) and the
 * association goes on; what was left of its datagram goes with it. */
static gboolean
is_droppable (SspictlStream *s, SECURITY_STATUS status)
{
  if (!s->opts->is_datagram)
    return FALSE;
  return status == SEC_E_DECRYPT_FAILURE || status == SEC_E_MESSAGE_ALTERED ||
         status == SEC_E_OUT_OF_SEQUENCE || status == SEC_E_INVALID_TOKEN;
}

/* Decrypts the first record of s->in in place, appends its plaintext to
 * @plain and keeps only the bytes after it (SECBUFFER_EXTRA) in s->in. */
static SECURITY_STATUS
decrypt_one (SspictlStream *s, GByteArray *plain, gsize *plain_len)
{
  SecBuffer bufs[4] = {
    { s->in->len, SECBUFFER_DATA, s->in->data },
    { 0, SECBUFFER_EMPTY, NULL },
    { 0, SECBUFFER_EMPTY, NULL },
    { 0, SECBUFFER_EMPTY, NULL },
  };
  SecBufferDesc desc = { SECBUFFER_VERSION, 4, bufs };
  SecBuffer *data = NULL, *extra = NULL;
  SECURITY_STATUS status;

  *plain_len = 0;
  status = DecryptMessage (s->ctx, &desc, 0, NULL);
  if (status != SEC_E_OK && status != SEC_I_CONTEXT_EXPIRED && status != SEC_I_RENEGOTIATE)
    return status;   /* SEC_E_INCOMPLETE_MESSAGE included: s->in is untouched */

  for (int i = 1; i < 4; i++)
    {
      if (data == NULL && bufs[i].BufferType == SECBUFFER_DATA)
        data = &bufs[i];
      if (extra == NULL && bufs[i].BufferType == SECBUFFER_EXTRA)
        extra = &bufs[i];
    }
  /* The plaintext points into s->in: take it before moving EXTRA down.
   * The counts are of records that carried data or, without any, were
   * consumed silently (session tickets); a KeyUpdate counts as a
   * renegotiation, close_notify as the end. */
  if (data != NULL && data->cbBuffer > 0)
    {
      g_byte_array_append (plain, data->pvBuffer, data->cbBuffer);
      *plain_len = data->cbBuffer;
      s->exchange.bytes_received += data->cbBuffer;
      s->exchange.records_received++;
    }
  else if (status == SEC_E_OK)
    {
      s->exchange.records_received++;
      s->exchange.empty_records++;
    }
  if (extra != NULL && extra->cbBuffer <= s->in->len)
    g_byte_array_remove_range (s->in, 0, s->in->len - extra->cbBuffer);
  else
    g_byte_array_set_size (s->in, 0);
  return status;
}

/* The receive loop.  @is_blocking: until a record with data arrives (or
 * the end); else, for a caller that polls the socket, return
 * SSPICTL_STREAM_AGAIN once the bytes received so far are used up, reading
 * the socket only when nothing was pending or to complete a record. */
static SspictlStreamResult
receive (SspictlStream *s, GByteArray *plain, gboolean is_blocking)
{
  /* Bytes kept from before (the handshake's EXTRA, a previous read's next
   * record) are decrypted before the socket is read again. */
  gboolean need_read = s->in->len == 0;

  for (;;)
    {
      SECURITY_STATUS status;
      gsize len;

      if (need_read)
        {
          gssize n = read_socket (s);

          if (n < 0)
            {
              s->exchange.end = "error";
              return SSPICTL_STREAM_FAILED;
            }
          if (n == 0)
            {
              if (s->in->len > 0 && !s->is_quiet)
                g_printerr ("sspictl: the peer closed the connection inside a record\n");
              s->exchange.end = "eof";
              return SSPICTL_STREAM_EOF;
            }
        }

      status = decrypt_one (s, plain, &len);
      switch (status)
        {
        case SEC_E_OK:
          if (len > 0)
            return SSPICTL_STREAM_DATA;
          break;   /* a session ticket, or an empty record */

        case SEC_E_INCOMPLETE_MESSAGE:
          need_read = TRUE;   /* read more, append: the rest is on its way */
          continue;

        case SEC_I_CONTEXT_EXPIRED:
          s->exchange.end = "close_notify";
          return SSPICTL_STREAM_CLOSED;

        case SEC_I_RENEGOTIATE:
          if (s->opts->is_datagram)
            {
              /* The peer resent its last flight: ours was lost.  The next
               * ISC/ASC, with no input, resends it. */
              gboolean sent;
              SECURITY_STATUS resent = context_step (s, NULL, FALSE, &sent);

              if (!sent || !SEC_SUCCESS (resent))
                {
                  sspictl_print_status ("resending the last flight", resent);
                  s->exchange.end = "error";
                  return SSPICTL_STREAM_FAILED;
                }
              s->exchange.flights_resent++;
              if (len > 0)
                return SSPICTL_STREAM_DATA;
              break;
            }
          {
            guint before = plain->len;
            SspictlStreamResult r = answer_renegotiate (s, plain);

            if (r == SSPICTL_STREAM_CLOSED)
              return r;
            if (r != SSPICTL_STREAM_DATA)
              {
                s->exchange.end = "error";
                return SSPICTL_STREAM_FAILED;
              }
            if (len > 0 || plain->len > before)
              return SSPICTL_STREAM_DATA;
          }
          break;

        default:
          if (is_droppable (s, status))
            {
              s->exchange.dropped++;
              g_byte_array_set_size (s->in, 0);
              break;
            }
          sspictl_print_status ("DecryptMessage", status);
          send_owed_alert (s);
          s->exchange.end = "error";
          return SSPICTL_STREAM_FAILED;
        }
      /* A record without data was consumed. */
      if (s->in->len == 0 && !is_blocking)
        return SSPICTL_STREAM_AGAIN;
      need_read = s->in->len == 0;
    }
}

SspictlStreamResult
sspictl_stream_receive (SspictlStream *s, GByteArray *plain)
{
  return receive (s, plain, TRUE);
}

SspictlStreamResult
sspictl_stream_receive_some (SspictlStream *s, GByteArray *plain)
{
  return receive (s, plain, FALSE);
}

int
sspictl_stream_end (SspictlStream *s, SspictlStreamResult result)
{
  switch (result)
    {
    case SSPICTL_STREAM_CLOSED:
      /* Best effort: the peer may be gone already (s_client -reconnect
       * is), and a stream that sent its own close_notify first (connect
       * --stdin at the end of its input) must not send a second. */
      if (!s->exchange.sent_close_notify)
        sspictl_stream_shutdown (s);
      return SSPICTL_EXIT_OK;
    case SSPICTL_STREAM_EOF:
      return SSPICTL_EXIT_OK;
    case SSPICTL_STREAM_DATA:
    case SSPICTL_STREAM_AGAIN:
    case SSPICTL_STREAM_FAILED:
    default:
      return SSPICTL_EXIT_FAILED;
    }
}

gboolean
sspictl_stream_has_pending (SspictlStream *s)
{
  return s->in->len > 0;
}

void
sspictl_stream_close (SspictlStream *s, guint timeout_sec)
{
  g_autoptr (GByteArray) dropped = g_byte_array_new ();

  if (!sspictl_stream_shutdown (s))
    return;
  g_socket_set_timeout (s->socket, timeout_sec);
  /* A timeout or a reset here only means the peer did not close first. */
  s->is_quiet = TRUE;
  while (sspictl_stream_receive (s, dropped) == SSPICTL_STREAM_DATA)
    g_byte_array_set_size (dropped, 0);
}
