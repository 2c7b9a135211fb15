/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the bytes a TLS server answers to InitializeSecurityContext.
 * A fresh client session writes its ClientHello (first step, no input);
 * the input is then the server's side of the connection (records, as
 * `gnutls-cli --save-server-trace` writes them), taken token by token
 * (fuzz_walk).
 *
 * Every input is answered to two clients: an anonymous one that validates
 * the server (and meets SEC_I_INCOMPLETE_CREDENTIALS when asked for a
 * certificate), and one with a certificate and manual validation, which
 * gets past the certificate check to what follows it.
 *
 * Our ClientHello differs on every run, and a TLS 1.3 server must echo its
 * legacy_session_id; a recorded ServerHello gets the one of this run's
 * ClientHello so that it is not refused at once, keeping the fuzzer's
 * coverage of what comes after the ServerHello stable.
 */
#include "config.h"

#include <string.h>

#include "fuzz-common.h"

/* Record header, handshake header, legacy_version, random. */
#define SESSION_ID_AT (5 + 4 + 2 + 32)

static SspidCredential *anonymous;
static SspidCredential *with_cert;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_logging ();
  anonymous = fuzz_acquire (NULL, SECPKG_CRED_OUTBOUND, 0);
  with_cert = fuzz_acquire ("client", SECPKG_CRED_OUTBOUND, 0);
  return 0;
}

/* Copies the session id of @hello (our ClientHello) over the one of the
 * ServerHello at the start of @input when both have the same length. */
static void
echo_session_id (GBytes *hello, guint8 *input, gsize size)
{
  gsize hello_len;
  const guint8 *h = g_bytes_get_data (hello, &hello_len);
  gsize n;

  if (hello_len <= SESSION_ID_AT || size <= SESSION_ID_AT)
    return;
  n = h[SESSION_ID_AT];
  if (input[0] != 22 || input[5] != 2 || input[SESSION_ID_AT] != n ||
      hello_len < SESSION_ID_AT + 1 + n || size < SESSION_ID_AT + 1 + n)
    return;
  memcpy (input + SESSION_ID_AT + 1, h + SESSION_ID_AT + 1, n);
}

static void
run_client (SspidCredential *cred, guint32 context_req, const uint8_t *data, size_t size)
{
  static const char *const alpn[] = { "h2", "http/1.1", NULL };
  g_autoptr (SspidTls) tls = NULL;
  g_autofree guint8 *input = g_memdup2 (data, size);
  SspidTlsStep hello;

  FUZZ_CHECK (sspid_tls_new_client (cred, "localhost", context_req, alpn, &tls) == SEC_E_OK);
  sspid_tls_step (tls, NULL, 0, &hello);
  FUZZ_CHECK (hello.status == SEC_I_CONTINUE_NEEDED);
  FUZZ_CHECK (g_bytes_get_size (hello.token) > SESSION_ID_AT);
  echo_session_id (hello.token, input, size);
  sspid_tls_step_clear (&hello);

  fuzz_walk (tls, input, size);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  run_client (anonymous, ISC_REQ_EXTENDED_ERROR, data, size);
  run_client (with_cert, ISC_REQ_MANUAL_CRED_VALIDATION, data, size);
  return 0;
}
