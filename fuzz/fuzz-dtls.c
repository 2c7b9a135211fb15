/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: datagrams a DTLS peer sends (ISC_REQ_DATAGRAM /
 * ASC_REQ_DATAGRAM contexts, sspid-tls-dtls.c).  The input's first byte
 * picks the side under test (even: a client, odd: a server); the rest is
 * datagrams, each a 16-bit big-endian length and its bytes.
 *
 * A client takes them as a server's flights, an empty one as its
 * retransmission timer going off, every SEC_I_MESSAGE_FRAGMENT drained,
 * and once established the rest through DecryptMessage.  A server takes
 * each as a first datagram through the cookie check the D-Bus front makes
 * (sspid_tls_dtls_check_cookie) and a fresh session's first step; fuzzed
 * bytes never carry a valid cookie, so this is where a spoofed flood
 * lands.  Seeds: fuzz/make-corpus.c's DTLS conversation.
 */
#include "config.h"

#include "fuzz-common.h"

static SspidCredential *client_cred;
static SspidCredential *server_cred;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_logging ();
  client_cred = fuzz_acquire (NULL, SECPKG_CRED_OUTBOUND, SP_PROT_DTLS1_2_CLIENT);
  server_cred = fuzz_acquire ("server", SECPKG_CRED_INBOUND, SP_PROT_DTLS1_2_SERVER);
  return 0;
}

/* The next datagram of @data, or FALSE at the end. */
static gboolean
next_datagram (const uint8_t **data, size_t *size, const uint8_t **dgram, gsize *len)
{
  if (*size < 2)
    return FALSE;
  *len = MIN ((gsize) ((*data)[0] << 8 | (*data)[1]), *size - 2);
  *dgram = *data + 2;
  *data += 2 + *len;
  *size -= 2 + *len;
  return TRUE;
}

static void
as_client (const uint8_t *data, size_t size)
{
  g_autoptr (SspidTls) tls = NULL;
  const uint8_t *dgram;
  gsize len;

  FUZZ_CHECK (sspid_tls_new_client (client_cred, "localhost",
                                    ISC_REQ_DATAGRAM | ISC_REQ_EXTENDED_ERROR, NULL,
                                    &tls) == SEC_E_OK);
  fuzz_step (tls, NULL, 0, NULL, NULL);
  for (guint round = 0; round < 64 && next_datagram (&data, &size, &dgram, &len); round++)
    {
      if (sspid_tls_is_established (tls) && len > 0)
        {
          SspidTlsDecrypt d;

          sspid_tls_decrypt (tls, dgram, len, &d);
          FUZZ_CHECK (d.plaintext != NULL);
          if (d.status == SEC_E_OK || d.status == SEC_I_RENEGOTIATE)
            FUZZ_CHECK ((gsize) d.record_size + d.extra == len);
          if (d.status == SEC_I_RENEGOTIATE)
            fuzz_step (tls, NULL, 0, NULL, NULL);
          sspid_tls_decrypt_clear (&d);
          continue;
        }
      fuzz_step (tls, dgram, len, NULL, NULL);
    }
  sspid_tls_info_free (sspid_tls_get_info (tls));
}

static void
as_server (const uint8_t *data, size_t size)
{
  const uint8_t *dgram;
  gsize len;

  for (guint round = 0; round < 64 && next_datagram (&data, &size, &dgram, &len); round++)
    {
      g_autoptr (SspidTls) tls = NULL;
      g_autoptr (GBytes) hello_verify = NULL;
      gboolean valid = sspid_tls_dtls_check_cookie (dgram, len, &hello_verify);

      /* No fuzzed bytes carry our (random) cookie key's MAC. */
      FUZZ_CHECK (!valid);
      FUZZ_CHECK (sspid_tls_new_server (server_cred, ASC_REQ_DATAGRAM, NULL, &tls) == SEC_E_OK);
      FUZZ_CHECK (fuzz_step (tls, dgram, len, NULL, NULL) == (hello_verify != NULL ? SEC_I_CONTINUE_NEEDED
                                                                  : len == 0 ? SEC_E_INCOMPLETE_MESSAGE
                                                                             : SEC_E_INVALID_TOKEN));
      FUZZ_CHECK (!sspid_tls_is_established (tls));
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size == 0)
    return 0;
  if (data[0] % 2 == 0)
    as_client (data + 1, size - 1);
  else
    as_server (data + 1, size - 1);
  return 0;
}
