/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The record layer: EncryptMessage and DecryptMessage on an established
 * session, one record at a time, with Schannel's accounting of the bytes
 * (the record opened, EXTRA after it, MISSING when it is not whole yet).
 * Plaintext is the caller's data and may cross the bus; the keys never do.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "schannel.h"
#include "sspid-tls-errors.h"
#include "sspid-tls-private.h"

void
sspid_tls_decrypt_clear (SspidTlsDecrypt *out)
{
  g_clear_pointer (&out->plaintext, g_bytes_unref);
}

void
sspid_tls_queue_alert (SspidTls *tls, int level, int description)
{
  tls->alert_pending = TRUE;
  tls->alert_level = level;
  tls->alert_description = description;
}

SECURITY_STATUS
sspid_tls_encrypt (SspidTls *tls, const guint8 *data, gsize len, GBytes **record)
{
  ssize_t ret;

  *record = NULL;
  if (tls->state != STATE_ESTABLISHED || tls->closed)
    return SEC_E_CONTEXT_EXPIRED;
  if (len > (tls->is_datagram ? sspid_tls_dtls_max_message (tls)
                              : gnutls_record_get_max_size (tls->session)))
    return SEC_E_INVALID_PARAMETER;
  /* A KeyUpdate reply must reach the peer before data under the new key. */
  if (tls->out->len > 0)
    return SEC_E_OUT_OF_SEQUENCE;

  /* GnuTLS refuses to send an empty record unless asked to pad it;
   * Schannel encrypts zero bytes, and peers use empty records.  One byte of
   * padding (TLS 1.3 only; AEAD in TLS 1.2 ignores it) fits the trailer
   * size reported in STREAM_SIZES. */
  if (len == 0 && gnutls_protocol_get_version (tls->session) != GNUTLS_TLS1_3)
    {
      /* TLS 1.2 AEAD records cannot be padded, so GnuTLS has no way to
       * write an empty one: encrypting nothing produces nothing to send. */
      *record = g_bytes_new (NULL, 0);
      return SEC_E_OK;
    }
  if (len == 0)
    ret = gnutls_record_send2 (tls->session, "", 0, 1, 0);
  else
    ret = gnutls_record_send (tls->session, data, len);
  if (ret < 0)
    {
      g_byte_array_set_size (tls->out, 0);
      g_debug ("encrypt: %s", gnutls_strerror ((int) ret));
      return sspid_tls_status_from_gnutls ((int) ret, 0);
    }
  *record = sspid_tls_take_output (tls);
  return SEC_E_OK;
}

/* Answers a peer's KeyUpdate request now: GnuTLS sends its KeyUpdate in
 * front of the next record it protects, so have it protect an empty,
 * padded record (legal in TLS 1.3).  The bytes go out through
 * SEC_I_RENEGOTIATE and the caller's next ISC/ASC, as on Windows, and
 * EncryptMessage stays one record. */
static void
answer_key_update (SspidTls *tls)
{
  ssize_t ret;

  tls->key_update_requested = FALSE;
  ret = gnutls_record_send2 (tls->session, "", 0, 1, 0);
  if (ret < 0)
    g_debug ("answering a KeyUpdate: %s", gnutls_strerror ((int) ret));
}

/* A fatal error @err (GnuTLS's, or the framing's) ends the session: from
 * now on both directions say SEC_E_CONTEXT_EXPIRED and the context's state
 * is "closed".  GnuTLS invalidates the session for most of these but not
 * all (not for a bad post-handshake message, nor for framing it never
 * saw), so we keep track.  The alert GnuTLS would send for @err waits in
 * the output for the caller's next ISC/ASC step, the way Schannel hands
 * out every alert (see established_step). */
static void
end_session (SspidTls *tls, int err)
{
  tls->closed = tls->broken = TRUE;
  sspid_tls_write_alert_for (tls, err);
}

void
sspid_tls_decrypt (SspidTls *tls, const guint8 *input, gsize len, SspidTlsDecrypt *out)
{
  g_autoptr (GByteArray) plain = g_byte_array_new ();
  gsize whole = 0;
  guint32 missing = 0;
  gsize record_size;
  int ret;

  memset (out, 0, sizeof *out);
  if (tls->state != STATE_ESTABLISHED)
    {
      out->status = tls->state == STATE_FAILED ? tls->failure : SEC_E_CONTEXT_EXPIRED;
      goto done;
    }
  /* Not tls->closed: after sending our close_notify the peer's last
   * records and its close_notify must still open. */
  if (tls->broken)
    {
      out->status = SEC_E_CONTEXT_EXPIRED;
      goto done;
    }
  if (tls->is_datagram)
    {
      sspid_tls_dtls_decrypt (tls, input, len, out);
      return;
    }
  ret = sspid_tls_frame_records (input, len, &whole, &missing);
  if (ret < 0)
    {
      /* Not a TLS record: the stream cannot be followed any further. */
      g_debug ("decrypt: %s", gnutls_strerror (ret));
      out->status = SEC_E_INVALID_TOKEN;
      end_session (tls, ret);
      goto done;
    }
  if (whole == 0)
    {
      out->status = SEC_E_INCOMPLETE_MESSAGE;
      out->missing = missing;
      goto done;
    }
  /* One record per call, as Schannel: the rest is EXTRA. */
  record_size = 5 + (((gsize) input[3] << 8) | input[4]);

  tls->in = input;
  tls->in_limit = record_size;
  tls->in_pos = 0;
  g_byte_array_set_size (plain, (guint) gnutls_record_get_max_size (tls->session) + 256);
  do
    ret = (int) gnutls_record_recv (tls->session, plain->data, plain->len);
  while (ret == GNUTLS_E_INTERRUPTED);
  tls->in = NULL;
  tls->in_limit = 0;

  if (ret > 0)
    {
      g_byte_array_set_size (plain, (guint) ret);
      out->status = SEC_E_OK;
    }
  else
    {
      g_byte_array_set_size (plain, 0);
      if (ret == 0)
        {
          tls->closed = TRUE;
          out->status = SEC_I_CONTEXT_EXPIRED;        /* peer's close_notify */
        }
      else if (ret == GNUTLS_E_AGAIN)
        {
          /* A post-handshake message was consumed (a TLS 1.3 ticket, which
           * makes the session resumable), or an empty record. */
          sspid_tls_remember_session (tls);
          if (tls->key_update_requested)
            answer_key_update (tls);
          out->status = tls->out->len > 0 ? SEC_I_RENEGOTIATE : SEC_E_OK;
        }
      else if (ret == GNUTLS_E_REHANDSHAKE)
        out->status = sspid_tls_renegotiation_requested (tls);
      else
        {
          g_debug ("decrypt: %s", gnutls_strerror (ret));
          out->status = sspid_tls_status_from_gnutls (ret, gnutls_alert_get (tls->session));
          /* A bad record MAC, an oversized record, a fatal alert, a
           * KeyUpdate flood ... */
          if (gnutls_error_is_fatal (ret))
            end_session (tls, ret);
        }
    }
  out->record_size = (guint32) tls->in_pos;
  out->extra = (guint32) (len - tls->in_pos);
  tls->in_pos = 0;

done:
  out->plaintext = g_byte_array_free_to_bytes (g_steal_pointer (&plain));
}
