/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the handshake messages a QUIC peer sends to a QUIC-mode
 * context (ISC_REQ_MESSAGES / ASC_REQ_MESSAGES, daemon/sspid-tls-quic.c).
 * The first byte picks the side that reads them: even, a server that takes
 * a client's messages (ClientHello, Finished); odd, a client that has sent
 * its ClientHello and takes a server's (ServerHello to Finished, session
 * tickets).  The rest is the messages, taken as msquic hands them over:
 * each step on what is left, again after SEC_I_GENERIC_EXTENSION_RECEIVED.
 * Both ends send and subscribe to the QUIC transport parameters, so the
 * peer's extension goes through the registered extension's parser too.
 */
#include "config.h"

#include "fuzz-common.h"
#include "sspid-tls-quic.h"

static SspidCredential *server_cred, *client_cred;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_logging ();
  server_cred = fuzz_acquire ("server", SECPKG_CRED_INBOUND, 0);
  client_cred = fuzz_acquire ("client", SECPKG_CRED_OUTBOUND, 0);
  return 0;
}

static SspidTls *
quic_session (gboolean is_server)
{
  static const char *const alpn[] = { "h3", NULL };
  g_autoptr (SspidTls) tls = NULL;
  g_autoptr (GBytes) params = g_bytes_new_static ("fuzz transport parameters", 25);
  SspidQuicArgs args = {
    .is_messages = TRUE, .has_extension = TRUE, .extension_type = 0x39,
    .extension_handshake = is_server ? 8 : 1, .extension_data = params,
    .has_subscription = TRUE, .subscription_type = 0x39,
    .subscription_handshake = is_server ? 1 : 8,
  };

  if (is_server)
    FUZZ_CHECK (sspid_tls_new_server (server_cred, 0, alpn, &tls) == SEC_E_OK);
  else
    FUZZ_CHECK (sspid_tls_new_client (client_cred, "localhost", 0, alpn, &tls) == SEC_E_OK);
  FUZZ_CHECK (sspid_tls_quic_enable (tls, &args) == SEC_E_OK);
  return g_steal_pointer (&tls);
}

static SECURITY_STATUS
step (SspidTls *tls, const guint8 *data, gsize size, gsize *used)
{
  SspidTlsStep st;
  SECURITY_STATUS status;

  sspid_tls_step (tls, data, size, &st);
  FUZZ_CHECK (st.token != NULL);
  FUZZ_CHECK (st.extra <= size);
  status = st.status;
  if (status == SEC_E_INCOMPLETE_MESSAGE)
    FUZZ_CHECK (st.missing > 0);
  if (status == SEC_I_GENERIC_EXTENSION_RECEIVED)
    FUZZ_CHECK (st.quic != NULL && st.quic->extension != NULL);
  *used = size - st.extra;
  sspid_tls_step_clear (&st);
  return status;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (SspidTls) tls = NULL;
  gboolean is_server;
  gsize used = 0;

  if (size < 1)
    return 0;
  is_server = (data[0] & 1) == 0;
  data++;
  size--;
  tls = quic_session (is_server);
  if (!is_server)
    FUZZ_CHECK (step (tls, NULL, 0, &used) == SEC_I_CONTINUE_NEEDED);

  for (guint round = 0; round < 64 && size > 0; round++)
    {
      SECURITY_STATUS status = step (tls, data, size, &used);

      if (status == SEC_I_GENERIC_EXTENSION_RECEIVED)
        status = step (tls, data, size, &used);
      if (status != SEC_E_OK && status != SEC_I_CONTINUE_NEEDED)
        break;
      if (used == 0)
        break;
      data += used;
      size -= used;
    }
  return 0;
}
