/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DTLS 1.2 behind Schannel's datagram contexts (ISC_REQ_DATAGRAM,
 * ASC_REQ_DATAGRAM): a token is one datagram, in and out.
 *
 * Three things differ from the stream engine in sspid-tls.c:
 *
 * - Output.  GnuTLS writes a flight as datagrams no larger than the MTU
 *   (one push each); consecutive ones that fit together are sent as one
 *   datagram (RFC 6347 4.1.1 allows several records per datagram).  A
 *   flight that needs more than one datagram comes out as Windows gives
 *   it: the first with SEC_I_MESSAGE_FRAGMENT, and each call with no new
 *   input gives the next one, the last with the step's own status.
 *
 * - Retransmission.  The caller owns the timer, as on Windows: a
 *   handshake step with no input (after the caller's timeout) resends the
 *   last flight, with new record sequence numbers.  GnuTLS retransmits
 *   from its own clock, so its retransmission timeout is 0 (a flight is
 *   always "due") and the transport decides: GnuTLS asks whether data
 *   arrived with a 0 ms pull_timeout before it retransmits; only in a step
 *   without input is the answer "no, timed out".  Otherwise we say "yes"
 *   and the read that follows finds nothing (EAGAIN), which never
 *   retransmits and never ends the wait for the peer's flight.
 *
 * - Cookies.  A server's first datagram costs nothing but an HMAC until
 *   the client has proved it receives at its address: a ClientHello
 *   without a valid cookie is answered with a HelloVerifyRequest and no
 *   context or session exists for it (sspid_tls_dtls_check_cookie, called
 *   by the front before it makes a context).  The cookie key is random per
 *   daemon start.  The daemon never sees the peer's address, so the
 *   cookie is bound to the ClientHello's random instead: a blind spoofer
 *   cannot forge one, but a client that received one may replay its
 *   ClientHello from other addresses.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <gnutls/dtls.h>

#include "schannel.h"
#include "sspid-tls-errors.h"
#include "sspid-tls-private.h"

/* A handshake that makes no progress is the daemon's reaper's business
 * (handshake-timeout-sec); GnuTLS's own limit must never fire first. */
#define DTLS_TOTAL_TIMEOUT_MS (24u * 3600u * 1000u)

/* DTLS record header: type, version (2), epoch (2), sequence number (6),
 * length (2).  Handshake header: type, length (3), message_seq (2),
 * fragment_offset (3), fragment_length (3). */
#define DTLS_HANDSHAKE_HEADER_SIZE 12
#define CLIENT_HELLO_RANDOM_AT (DTLS_RECORD_HEADER_SIZE + DTLS_HANDSHAKE_HEADER_SIZE + 2)
#define CLIENT_HELLO_RANDOM_SIZE 32

/* See the top of the file: 0 ("timed out") only when this step is the
 * caller's retransmission timer going off. */
static int
dtls_pull_timeout (gnutls_transport_ptr_t ptr, unsigned int ms)
{
  SspidTls *tls = ptr;

  if (tls->in_limit > tls->in_pos)
    return 1;
  if (ms == 0 && tls->retransmit_due)
    return 0;
  return 1;
}

static ssize_t
dtls_push (gnutls_transport_ptr_t ptr, const void *buf, size_t len)
{
  SspidTls *tls = ptr;
  guint end;

  g_byte_array_append (tls->out, buf, (guint) len);
  end = tls->out->len;
  g_array_append_val (tls->datagram_ends, end);
  return (ssize_t) len;
}

void
sspid_tls_dtls_setup (SspidTls *tls)
{
  tls->mtu = DTLS_DEFAULT_MTU;
  tls->datagram_ends = g_array_new (FALSE, FALSE, sizeof (guint));
  g_queue_init (&tls->fragments);
  gnutls_transport_set_pull_timeout_function (tls->session, dtls_pull_timeout);
  gnutls_transport_set_push_function (tls->session, dtls_push);
  gnutls_dtls_set_timeouts (tls->session, 0, DTLS_TOTAL_TIMEOUT_MS);
  gnutls_dtls_set_mtu (tls->session, tls->mtu);
}

void
sspid_tls_set_mtu (SspidTls *tls, guint mtu)
{
  if (!tls->is_datagram || mtu == 0)
    return;
  tls->mtu = CLAMP (mtu, DTLS_MIN_MTU, DTLS_MAX_MTU);
  gnutls_dtls_set_mtu (tls->session, tls->mtu);
}

/* The daemon's cookie key: random, made once per process. */
static gnutls_datum_t *
cookie_key (void)
{
  static gsize done;
  static gnutls_datum_t key;

  if (g_once_init_enter (&done))
    {
      if (gnutls_key_generate (&key, GNUTLS_COOKIE_KEY_SIZE) < 0)
        g_error ("cannot make the DTLS cookie key");
      g_once_init_leave (&done, 1);
    }
  return &key;
}

/* The ClientHello's random, which the cookie is bound to, if @input
 * starts with the first fragment of a ClientHello in a DTLS record of
 * epoch 0. */
static const guint8 *
client_hello_random (const guint8 *input, gsize len)
{
  const guint8 *h = input + DTLS_RECORD_HEADER_SIZE;
  gsize body;

  if (len < CLIENT_HELLO_RANDOM_AT + CLIENT_HELLO_RANDOM_SIZE)
    return NULL;
  body = ((gsize) input[11] << 8) | input[12];
  if (input[0] != 22 || input[1] != 0xfe || input[3] != 0 || input[4] != 0 ||
      DTLS_RECORD_HEADER_SIZE + body > len ||
      body < DTLS_HANDSHAKE_HEADER_SIZE + 2 + CLIENT_HELLO_RANDOM_SIZE)
    return NULL;
  if (h[0] != 1 || h[6] != 0 || h[7] != 0 || h[8] != 0)
    return NULL;
  return input + CLIENT_HELLO_RANDOM_AT;
}

static ssize_t
collect_push (gnutls_transport_ptr_t ptr, const void *buf, size_t len)
{
  g_byte_array_append (ptr, buf, (guint) len);
  return (ssize_t) len;
}

gboolean
sspid_tls_dtls_check_cookie (const guint8 *input, gsize len, GBytes **hello_verify)
{
  gnutls_dtls_prestate_st prestate;
  const guint8 *random = client_hello_random (input, len);
  g_autoptr (GByteArray) out = NULL;

  *hello_verify = NULL;
  if (random == NULL)
    return FALSE;
  memset (&prestate, 0, sizeof prestate);
  if (gnutls_dtls_cookie_verify (cookie_key (), (void *) random, CLIENT_HELLO_RANDOM_SIZE,
                                 (void *) input, len, &prestate) == 0)
    return TRUE;
  out = g_byte_array_new ();
  if (gnutls_dtls_cookie_send (cookie_key (), (void *) random, CLIENT_HELLO_RANDOM_SIZE,
                               &prestate, out, collect_push) < 0)
    return FALSE;
  *hello_verify = g_byte_array_free_to_bytes (g_steal_pointer (&out));
  return FALSE;
}

gboolean
sspid_tls_dtls_begin_step (SspidTls *tls, const guint8 *input, gsize input_len,
                           SspidTlsStep *step)
{
  tls->retransmit_due = tls->started && input_len == 0;
  if (!tls->is_server || tls->started)
    return TRUE;

  /* A server's first datagram: the ClientHello that carries our cookie.
   * The front checked it already; checking again here gives GnuTLS the
   * sequence numbers the HelloVerifyRequest used, and keeps the engine
   * safe on its own (tests, fuzzers). */
  if (input_len == 0)
    {
      step->status = SEC_E_INCOMPLETE_MESSAGE;
      return FALSE;
    }
  {
    gnutls_dtls_prestate_st prestate;
    const guint8 *random = client_hello_random (input, input_len);
    GBytes *hello_verify = NULL;

    if (!sspid_tls_dtls_check_cookie (input, input_len, &hello_verify))
      {
        step->status = hello_verify != NULL ? SEC_I_CONTINUE_NEEDED : SEC_E_INVALID_TOKEN;
        step->token = hello_verify;
        return FALSE;
      }
    memset (&prestate, 0, sizeof prestate);
    gnutls_dtls_cookie_verify (cookie_key (), (void *) random, CLIENT_HELLO_RANDOM_SIZE,
                               (void *) input, input_len, &prestate);
    gnutls_dtls_prestate_set (tls->session, &prestate);
  }
  return TRUE;
}

void
sspid_tls_dtls_take_flight (SspidTls *tls, SspidTlsStep *step)
{
  g_autoptr (GArray) ends = g_array_ref (tls->datagram_ends);
  g_autoptr (GBytes) all = sspid_tls_take_output (tls);   /* new datagram_ends */
  gsize start = 0, end = 0;
  GQueue datagrams = G_QUEUE_INIT;

  /* Consecutive pushes that fit in one datagram go together. */
  for (guint i = 0; i < ends->len; i++)
    {
      guint next = g_array_index (ends, guint, i);

      if (next - start > tls->mtu && end > start)
        {
          g_queue_push_tail (&datagrams, g_bytes_new_from_bytes (all, start, end - start));
          start = end;
        }
      end = next;
    }
  if (end > start)
    g_queue_push_tail (&datagrams, g_bytes_new_from_bytes (all, start, end - start));

  step->token = g_queue_is_empty (&datagrams) ? g_bytes_new (NULL, 0)
                                              : g_queue_pop_head (&datagrams);
  if (g_queue_is_empty (&datagrams))
    return;
  tls->fragments = datagrams;
  tls->flight_status = step->status;
  step->status = SEC_I_MESSAGE_FRAGMENT;
}

gboolean
sspid_tls_dtls_next_fragment (SspidTls *tls, gsize input_len, SspidTlsStep *step)
{
  if (!tls->is_datagram || g_queue_is_empty (&tls->fragments))
    return FALSE;
  step->token = g_queue_pop_head (&tls->fragments);
  step->status = g_queue_is_empty (&tls->fragments) ? tls->flight_status : SEC_I_MESSAGE_FRAGMENT;
  /* A datagram that arrived meanwhile is the caller's to pass again. */
  step->extra = (guint32) input_len;
  return TRUE;
}

guint32
sspid_tls_dtls_max_message (SspidTls *tls)
{
  return gnutls_dtls_get_data_mtu (tls->session);
}

static guint64
record_number (const guint8 *record)
{
  guint64 n = 0;

  /* epoch (2) and sequence number (6), big-endian: one 64-bit order */
  for (int i = 3; i < 11; i++)
    n = (n << 8) | record[i];
  return n;
}

/* The epoch records are read under now (0 before the handshake's
 * ChangeCipherSpec). */
static guint64
read_epoch (SspidTls *tls)
{
  unsigned char seq[8];

  if (gnutls_record_get_state (tls->session, 1, NULL, NULL, NULL, seq) < 0)
    return 0;
  return ((guint64) seq[0] << 8) | seq[1];
}

void
sspid_tls_dtls_decrypt (SspidTls *tls, const guint8 *input, gsize len, SspidTlsDecrypt *out)
{
  g_autoptr (GByteArray) plain = g_byte_array_new ();
  unsigned int dropped = gnutls_record_get_discarded (tls->session);
  gsize record_size;
  int ret;

  /* A datagram is whole or lost: a short one never completes, so there
   * is no SEC_E_INCOMPLETE_MESSAGE here. */
  if (len < DTLS_RECORD_HEADER_SIZE ||
      (record_size = DTLS_RECORD_HEADER_SIZE + (((gsize) input[11] << 8) | input[12])) > len)
    {
      out->status = SEC_E_INVALID_TOKEN;
      out->plaintext = g_bytes_new (NULL, 0);
      return;
    }

  tls->in = input;
  tls->in_limit = record_size;
  tls->in_pos = 0;
  tls->retransmit_due = FALSE;
  g_byte_array_set_size (plain, gnutls_dtls_get_data_mtu (tls->session) + 256);
  do
    ret = (int) gnutls_record_recv (tls->session, plain->data, plain->len);
  while (ret == GNUTLS_E_INTERRUPTED);
  tls->in = NULL;
  tls->in_limit = tls->in_pos = 0;

  if (ret > 0)
    {
      g_byte_array_set_size (plain, (guint) ret);
      tls->max_opened = MAX (tls->max_opened, record_number (input));
      out->status = SEC_E_OK;
    }
  else
    {
      g_byte_array_set_size (plain, 0);
      if (ret == 0)
        {
          tls->closed = TRUE;
          out->status = SEC_I_CONTEXT_EXPIRED;
        }
      else if (ret == GNUTLS_E_AGAIN && gnutls_record_get_discarded (tls->session) != dropped)
        /* GnuTLS drops a record that does not open, that it has seen
         * (its replay window) or of an epoch gone by, and the association
         * goes on (RFC 6347 4.1.2.7).  Tell the caller which it most
         * likely was. */
        {
          out->status = (record_number (input) >> 48) < read_epoch (tls) ||
                        record_number (input) <= tls->max_opened ? SEC_E_OUT_OF_SEQUENCE
                                                                 : SEC_E_DECRYPT_FAILURE;
          /* More records in the datagram (a peer's flight packed into
           * one): the caller must get on to them, which an error would
           * not tell it (no EXTRA comes with one), so this record is an
           * empty one. */
          if (len > record_size)
            out->status = SEC_E_OK;
        }
      else if (ret == GNUTLS_E_AGAIN)
        {
          /* The peer resent its last flight (ours was lost): GnuTLS
           * answered with our last flight again, which the next ISC/ASC
           * hands over, as after a TLS renegotiation request. */
          out->status = tls->out->len > 0 ? SEC_I_RENEGOTIATE : SEC_E_OK;
        }
      else
        {
          g_debug ("decrypt: %s", gnutls_strerror (ret));
          out->status = sspid_tls_status_from_gnutls (ret, gnutls_alert_get (tls->session));
          if (gnutls_error_is_fatal (ret))
            {
              tls->closed = tls->broken = TRUE;
              sspid_tls_write_alert_for (tls, ret);
            }
        }
    }
  out->record_size = (guint32) record_size;
  out->extra = (guint32) (len - record_size);
  out->plaintext = g_byte_array_free_to_bytes (g_steal_pointer (&plain));
}
