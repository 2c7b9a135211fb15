/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A client session's resumption: the session saved by an earlier one of
 * this user's contexts with the same credential and target is offered at
 * the first step, and a session the server lets us resume (a TLS 1.2
 * session, a TLS 1.3 ticket) is saved for the next.
 *
 * Saved sessions are kept per mode: a stream (TLS), datagram (DTLS) or
 * QUIC session is only offered by a context of the same mode, because
 * the protocols differ (a TLS session is no DTLS session) and a QUIC
 * ticket carries QUIC's own promises (RFC 9001 4.6).  The mode is known
 * at the first step, not when the context is made, hence the lookup then.
 */
#include "config.h"

#include "sspid-credential.h"
#include "sspid-log.h"
#include "sspid-tls-private.h"

static const char *
mode_name (SspidTls *tls)
{
  if (tls->quic != NULL)
    return "quic";
  return tls->is_datagram ? "datagram" : "stream";
}

void
sspid_tls_resume_saved (SspidTls *tls)
{
  g_autoptr (GBytes) saved = NULL;
  gsize size;
  const guint8 *data;

  if (tls->is_server || tls->cache_target == NULL)
    return;
  saved = sspid_credential_take_session (tls->cred, mode_name (tls), tls->cache_target);
  if (saved == NULL)
    return;
  data = g_bytes_get_data (saved, &size);
  if (gnutls_session_set_data (tls->session, data, size) < 0)
    {
      g_autofree char *key = sspid_log_escape (tls->cache_target);

      g_debug ("cached session for '%s' not usable", key);
    }
}

/* After a TLS 1.2 handshake, or once a TLS 1.3 server has sent a ticket
 * (after the handshake, so this is also called when the record layer or
 * QUIC mode consumes one). */
void
sspid_tls_remember_session (SspidTls *tls)
{
  gnutls_datum_t data = { NULL, 0 };

  if (tls->is_server || tls->state != STATE_ESTABLISHED)
    return;
  if (gnutls_protocol_get_version (tls->session) == GNUTLS_TLS1_3 &&
      !(gnutls_session_get_flags (tls->session) & GNUTLS_SFLAGS_SESSION_TICKET))
    return;
  if (gnutls_session_get_data2 (tls->session, &data) < 0 || data.size == 0)
    return;
  sspid_credential_store_session (tls->cred, mode_name (tls), tls->cache_target, &data);
  gnutls_memset (data.data, 0, data.size);
  gnutls_free (data.data);
}
