/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * TLS 1.2 renegotiation, as Schannel exposes it: DecryptMessage meets the
 * peer's request (a server's HelloRequest, a client's new ClientHello) and
 * says SEC_I_RENEGOTIATE; the caller's next InitializeSecurityContext /
 * AcceptSecurityContext calls then run a handshake on the established
 * session (SEC_I_CONTINUE_NEEDED with tokens to send, until SEC_E_OK),
 * after which records flow again.
 *
 * GnuTLS does the protocol: gnutls_handshake() on the session once
 * gnutls_record_recv() said GNUTLS_E_REHANDSHAKE.  A server refuses a
 * client's renegotiation unless it is secure (RFC 5746), which is GnuTLS's
 * default: gnutls_handshake() fails with GNUTLS_E_UNSAFE_RENEGOTIATION_DENIED
 * and the context fails like any handshake.  This file keeps the state
 * between those calls; sspid-tls.c runs the steps.
 */
#include "config.h"

#include "sspid-tls-private.h"

/* TLS record content types (RFC 5246 6.2.1). */
#define CONTENT_ALERT            21
#define CONTENT_APPLICATION_DATA 23

SECURITY_STATUS
sspid_tls_renegotiation_requested (SspidTls *tls)
{
  /* TLS 1.3 has no renegotiation (its post-handshake messages are handled
   * by the record layer); GnuTLS does not ask for one there. */
  if (gnutls_protocol_get_version (tls->session) != GNUTLS_TLS1_3)
    {
      tls->renegotiating = TRUE;
      tls->reneg_started = FALSE;
      /* A client certificate may be asked for this time (the usual reason
       * a server renegotiates): say so again if we have none. */
      tls->incomplete_creds_reported = FALSE;
      g_debug ("%s: the peer asked for a renegotiation (%s)",
               tls->is_server ? "server" : "client",
               gnutls_safe_renegotiation_status (tls->session) ? "secure" : "not secure");
    }
  return SEC_I_RENEGOTIATE;
}

gboolean
sspid_tls_is_renegotiating (SspidTls *tls)
{
  return tls->renegotiating;
}

gboolean
sspid_tls_reneg_start_step (SspidTls *tls)
{
  gboolean is_first = tls->renegotiating && !tls->reneg_started;

  if (tls->renegotiating)
    tls->reneg_started = TRUE;
  return is_first;
}

gsize
sspid_tls_reneg_handshake_bytes (SspidTls *tls, const guint8 *input, gsize whole)
{
  gsize pos = 0;

  if (!tls->renegotiating)
    return whole;
  /* Records for the record layer belong to DecryptMessage: application
   * data (TLS 1.2 allows it until the peer's ChangeCipherSpec, and
   * `openssl s_server -www` sends its page right behind its HelloRequest)
   * and alerts (close_notify, no_renegotiation).  Hand them back as EXTRA
   * instead of letting GnuTLS take them into the handshake, which would
   * fail it or swallow the data.  TLS 1.2 record types are in the clear. */
  while (pos < whole && input[pos] != CONTENT_APPLICATION_DATA && input[pos] != CONTENT_ALERT)
    pos += RECORD_HEADER_SIZE + (((gsize) input[pos + 3] << 8) | input[pos + 4]);
  return pos;
}

void
sspid_tls_renegotiation_done (SspidTls *tls)
{
  if (tls->renegotiating)
    g_debug ("%s: renegotiation complete", tls->is_server ? "server" : "client");
  tls->renegotiating = FALSE;
  tls->reneg_started = FALSE;
  /* The peer may have presented another certificate this time. */
  tls->expiry_known = FALSE;
}
