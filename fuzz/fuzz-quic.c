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

static SspidCredential *server_cred, *client_cred;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_logging ();
  server_cred = fuzz_acquire ("server", SECPKG_CRED_INBOUND, 0);
  client_cred = fuzz_acquire ("client", SECPKG_CRED_OUTBOUND, 0);
  return 0;
}

/* fuzz_step(), and a message that is not whole says how much is missing. */
static SECURITY_STATUS
step (SspidTls *tls, const guint8 *data, gsize size, gsize *used)
{
  guint32 missing;
  SECURITY_STATUS status = fuzz_step (tls, data, size, used, &missing);

  if (status == SEC_E_INCOMPLETE_MESSAGE)
    FUZZ_CHECK (missing > 0);
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
  tls = fuzz_quic_session (is_server ? server_cred : client_cred, is_server);
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
