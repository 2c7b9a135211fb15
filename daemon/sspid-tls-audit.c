/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine's part of an audit record (sspid-audit.h): who the peer was
 * and what was negotiated, read from the GnuTLS session once a handshake
 * ends.  Only public facts: names, never keys.
 */
#include "config.h"

#include <string.h>

#include "sspid-credential.h"
#include "sspid-tls-private.h"

/* The server name: the client asked for its target name; a server reads
 * what the client sent (the first host name of the extension). */
static char *
dup_server_name (SspidTls *tls)
{
  char name[256];
  size_t len = sizeof name;
  unsigned int type = 0;

  if (!tls->is_server)
    return g_strdup (tls->target_name);
  if (gnutls_server_name_get (tls->session, name, &len, &type, 0) != GNUTLS_E_SUCCESS
      || type != GNUTLS_NAME_DNS)
    return NULL;
  return g_strndup (name, len);
}

void
sspid_tls_get_audit (SspidTls *tls, SspidTlsAudit *out)
{
  gnutls_session_t s = tls->session;
  const gnutls_datum_t *peers;
  unsigned int n_peers = 0;
  const char *name;

  memset (out, 0, sizeof *out);
  out->server_name = dup_server_name (tls);
  if (!sspid_tls_is_established (tls))
    return;
  name = gnutls_protocol_get_name (gnutls_protocol_get_version (s));
  out->protocol = g_strdup (name != NULL ? name : "?");
  name = gnutls_cipher_get_name (gnutls_cipher_get (s));
  out->cipher = g_strdup (name != NULL ? name : "?");
  out->resumed = gnutls_session_is_resumed (s) != 0;
  peers = gnutls_certificate_get_peers (s, &n_peers);
  if (peers != NULL && n_peers > 0)
    out->peer_subject = sspid_certificate_dup_subject (peers[0].data, peers[0].size);
}

void
sspid_tls_audit_clear (SspidTlsAudit *audit)
{
  g_clear_pointer (&audit->protocol, g_free);
  g_clear_pointer (&audit->cipher, g_free);
  g_clear_pointer (&audit->peer_subject, g_free);
  g_clear_pointer (&audit->server_name, g_free);
}
