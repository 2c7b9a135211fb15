/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a step of the engine hands back, whichever kind of session made it
 * (stream in sspid-tls.c, datagram in sspid-tls-dtls.c, QUIC messages in
 * sspid-tls-quic.c): the bytes GnuTLS wrote into the session's output, the
 * alert owed to the peer after an error, and the step's result.  The
 * session kinds call down to it, never to each other.
 */
#include "config.h"

#include "sspid-tls-private.h"

void
sspid_tls_step_clear (SspidTlsStep *step)
{
  g_clear_pointer (&step->token, g_bytes_unref);
  if (step->quic != NULL)
    {
      sspid_quic_result_clear (step->quic);
      g_clear_pointer (&step->quic, g_free);
    }
}

/* Writes the fatal alert GnuTLS owes a peer for its error @err
 * (gnutls_alert_send_appropriate: GnuTLS leaves sending it to the
 * application) into the session's output, for the caller to send.  Nothing
 * for an alert the peer sent us.  GnuTLS sends alerts even on a session an
 * error invalidated. */
void
sspid_tls_write_alert_for (SspidTls *tls, int err)
{
  int ret;

  if (err >= 0)
    return;
  ret = gnutls_alert_send_appropriate (tls->session, err);
  if (ret < 0)
    g_debug ("no alert for '%s': %s", gnutls_strerror (err), gnutls_strerror (ret));
}

/* Hands over what GnuTLS wrote without copying it: the buffer becomes the
 * token and the session starts a new one. */
GBytes *
sspid_tls_take_output (SspidTls *tls)
{
  GBytes *bytes = g_byte_array_free_to_bytes (tls->out);

  tls->out = g_byte_array_new ();
  if (tls->datagram_ends != NULL)
    {
      g_array_unref (tls->datagram_ends);
      tls->datagram_ends = g_array_new (FALSE, FALSE, sizeof (guint));
    }
  return bytes;
}
