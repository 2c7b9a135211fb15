/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: what a caller writes on its record channel
 * (proto/sspid-channel.h), driven without a socket.  The input is a
 * max-token-size (byte 0: 0 for none, else that many 64-byte units, so
 * that refusals are reached) and a stream of packets, each behind a 2-byte
 * big-endian length, as
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
 * and bytes read back from the packet itself; a request is refused exactly
 * when its bytes are over the limit, with the bus method's status.
 */
#include "config.h"

#include <string.h>

#include "fuzz-common.h"
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
one_packet (const guint8 *data, gsize size, guint max_token_size)
{
  /* An exact copy, so that reading past the packet is caught. */
  g_autoptr (GBytes) packet = g_bytes_new (data, size);
  g_autoptr (GVariant) params = NULL;
  SspidChannelHeader header;
  SspidChannelPacket parsed;
  SspidCallKind kind;
  SspidRequest request;
  SECURITY_STATUS status;
  guint64 handle;
  gsize len;
  const guint8 *bytes;

  parsed = sspid_request_parse_channel (packet, &header, &kind, &params);
  FUZZ_CHECK ((parsed == SSPID_CHANNEL_PACKET_SHORT) == (size < sizeof header));
  FUZZ_CHECK ((parsed != SSPID_CHANNEL_PACKET_SHORT && parsed != SSPID_CHANNEL_PACKET_BAD_HEADER)
              == header_is_good (data, size));
  if (parsed != SSPID_CHANNEL_PACKET_OK)
    {
      FUZZ_CHECK (params == NULL);
      return;
    }
  FUZZ_CHECK (g_variant_is_of_type (params, G_VARIANT_TYPE ("(tay)")));
  FUZZ_CHECK (kind == (header.op == SSPID_CHANNEL_OP_ENCRYPT ? SSPID_CALL_ENCRYPT
                                                             : SSPID_CALL_DECRYPT));

  status = sspid_request_decode (kind, params, max_token_size, &request);
  FUZZ_CHECK (request.input != NULL);
  bytes = g_variant_get_fixed_array (request.input, &len, 1);
  if (status != SEC_E_OK)
    {
      /* What the bus method answers, and only for input over the limit
       * (sspid_call_dispatch's log relies on that). */
      FUZZ_CHECK (max_token_size > 0 && len > max_token_size);
      FUZZ_CHECK (status == (kind == SSPID_CALL_ENCRYPT ? SEC_E_INVALID_PARAMETER
                                                        : SEC_E_INVALID_TOKEN));
    }
  else
    {
      /* Every body of 8 bytes or more is a normal-form "(tay)" (why the
       * daemon need not check more): the handle is its first 8 bytes, the
       * array all that follows. */
      FUZZ_CHECK (max_token_size == 0 || len <= max_token_size);
      FUZZ_CHECK (g_variant_is_normal_form (params));
      memcpy (&handle, data + sizeof header, sizeof handle);
      FUZZ_CHECK (request.ctx_handle == handle);
      FUZZ_CHECK (len == size - sizeof header - sizeof handle &&
                  (len == 0 || memcmp (bytes, data + sizeof header + sizeof handle, len) == 0));
      fuzz_record_request (kind, &request);
    }
  sspid_request_clear (&request);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  guint max_token_size;

  if (size == 0)
    return 0;
  max_token_size = data[0] * 64u;
  data++;
  size--;
  for (guint n = 0; n < 16 && size >= 2; n++)
    {
      gsize len = MIN ((gsize) data[0] << 8 | data[1], size - 2);

      one_packet (data + 2, len, max_token_size);
      data += 2 + len;
      size -= 2 + len;
    }
  fuzz_input_done ();
  return 0;
}
