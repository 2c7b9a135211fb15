/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: what a caller writes on its record channel
 * (proto/sspid-channel.h), driven without a socket.  The input is a
 * stream of packets, each behind a 2-byte big-endian length, as
 * daemon/sspid-channel.c reads them one SEQPACKET at a time; each goes the
 * way a channel request goes in sspid:
 *
 *   1. sspid_request_parse_channel(): header, op, flags, and the body as a
 *      "(tay)" GVariant over the packet's own bytes (not copied, not
 *      normalised: GLib must read it safely as it is);
 *   2. sspid_request_decode(), exactly as for the same method on the bus;
 *   3. the engine's EncryptMessage or DecryptMessage on an established
 *      session with the request's bytes.
 *
 * Checked promises: a header is refused exactly when it is short, names
 * another op or has flags set; an accepted body is a "(tay)" whose handle
 * and bytes read back from the packet itself.
 */
#include "config.h"

#include <string.h>

#include "fuzz-common.h"
#include "sspid-config.h"
#include "sspid-request.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_logging ();
  return 0;
}

static gboolean
header_is_good (const guint8 *data, gsize size)
{
  SspidChannelHeader h;

  if (size < sizeof h)
    return FALSE;
  memcpy (&h, data, sizeof h);
  return (h.op == SSPID_CHANNEL_OP_ENCRYPT || h.op == SSPID_CHANNEL_OP_DECRYPT) && h.flags == 0;
}

static void
one_packet (const guint8 *data, gsize size)
{
  /* An exact copy, so that reading past the packet is caught. */
  g_autoptr (GBytes) packet = g_bytes_new (data, size);
  g_autoptr (GVariant) params = NULL;
  SspidChannelHeader header;
  SspidChannelPacket parsed;
  SspidCallKind kind;
  SspidRequest request;
  guint64 handle;
  gsize len;
  const guint8 *bytes;

  parsed = sspid_request_parse_channel (packet, &header, &kind, &params);
  FUZZ_CHECK ((parsed != SSPID_CHANNEL_PACKET_BAD_HEADER) == header_is_good (data, size));
  if (parsed != SSPID_CHANNEL_PACKET_OK)
    {
      FUZZ_CHECK (params == NULL);
      return;
    }
  FUZZ_CHECK (g_variant_is_of_type (params, G_VARIANT_TYPE ("(tay)")));
  FUZZ_CHECK (kind == (header.op == SSPID_CHANNEL_OP_ENCRYPT ? SSPID_CALL_ENCRYPT
                                                             : SSPID_CALL_DECRYPT));

  if (sspid_request_decode (kind, params, SSPID_DEFAULT_MAX_TOKEN_SIZE, &request) == SEC_E_OK)
    {
      /* Every body of 8 bytes or more is a normal-form "(tay)" (why the
       * daemon need not check more): the handle is its first 8 bytes, the
       * array all that follows. */
      FUZZ_CHECK (g_variant_is_normal_form (params));
      memcpy (&handle, data + sizeof header, sizeof handle);
      FUZZ_CHECK (request.ctx_handle == handle);
      bytes = g_variant_get_fixed_array (request.input, &len, 1);
      FUZZ_CHECK (len == size - sizeof header - sizeof handle &&
                  (len == 0 || memcmp (bytes, data + sizeof header + sizeof handle, len) == 0));
      fuzz_record_request (kind, &request);
    }
  sspid_request_clear (&request);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  for (guint n = 0; n < 16 && size >= 2; n++)
    {
      gsize len = MIN ((gsize) data[0] << 8 | data[1], size - 2);

      one_packet (data + 2, len);
      data += 2 + len;
      size -= 2 + len;
    }
  fuzz_input_done ();
  return 0;
}
