/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the bytes a TLS client sends to AcceptSecurityContext.  The
 * input is the client's side of a connection (records, as
 * `gnutls-cli --save-client-trace` writes them); a fresh server session
 * takes it token by token (fuzz_walk) and, if the handshake ever finishes,
 * the rest through DecryptMessage.
 *
 * The server asks for a client certificate and offers ALPN and session
 * tickets, so those parsers see the input too.
 */
#include "config.h"

#include "fuzz-common.h"

static SspidCredential *server_cred;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_logging ();
  server_cred = fuzz_acquire ("server", SECPKG_CRED_INBOUND, 0);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const char *const alpn[] = { "h2", "http/1.1", NULL };
  g_autoptr (SspidTls) tls = NULL;

  FUZZ_CHECK (sspid_tls_new_server (server_cred, ASC_REQ_EXTENDED_ERROR, alpn, &tls) == SEC_E_OK);
  fuzz_walk (tls, data, size);
  return 0;
}
