/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The record channel: the framing shared by sspid (daemon/sspid-channel.c)
 * and libsspi (libclient/sspi-channel.c).
 *
 * Why: a record (EncryptMessage / DecryptMessage of up to 16 KiB) sent as a
 * D-Bus method call crosses dbus-daemon twice and four threads in sspid,
 * which costs ~40x the AES-GCM work itself.  So a caller may ask, over the
 * bus, for a channel of its own (OpenRecordChannel, see
 * proto/org.sspid1.xml): the daemon makes an AF_UNIX SOCK_SEQPACKET
 * socketpair, ties its end to that caller (the bus authenticated it, exactly
 * as for every method call: the channel acts with the caller's handles,
 * limits and log identity, and dies with the caller's bus connection), and
 * returns the other end as a unix fd in the method reply.
 *
 * Framing: one SEQPACKET packet per request and one per answer, never
 * split, never merged.  Both ends are on one machine: integers are in host
 * byte order, the body is a GVariant in its serialised form
 * (g_variant_get_data), native endian, starting 8 bytes into the packet (so
 * it is 8-aligned in a malloc'd buffer).
 *
 *   request:  SspidChannelHeader { serial, op, flags = 0 }
 *             + the body of the bus method of the same name, parameters
 *               (EncryptMessage: "(tay)", DecryptMessage: "(tay)")
 *   answer:   SspidChannelHeader { serial of the request, op, flags = 0 }
 *             + the body of that method's reply
 *               (EncryptMessage: "(uayu)", DecryptMessage: "(uayuuuu)")
 *
 * Answers come in request order per context; requests on different
 * contexts may be answered out of order (a busy context queues), hence the
 * serial.  A packet longer than SSPID_CHANNEL_MAX_PACKET is refused.  The
 * daemon treats every byte as hostile: a header it does not understand
 * (short, unknown op, flags set) closes the channel; a body that is not a
 * normal-form GVariant of the op's type is answered with
 * SEC_E_INVALID_TOKEN; an oversize body is answered as the bus method
 * answers oversize input.  File descriptors cannot be sent along (refused
 * by the kernel where it can, else the channel is closed).
 *
 * The caller's end is a bearer capability: whoever holds it acts as the
 * bus connection that opened it (its handles, limits and log identity)
 * until that connection closes.  libsspi keeps it close-on-exec and closes
 * it in forked children; do not pass it to another process.
 */
#pragma once

#include <stdint.h>

typedef struct {
  uint32_t serial;   /* chosen by the caller, echoed in the answer */
  uint16_t op;       /* SspidChannelOp */
  uint16_t flags;    /* 0; anything else is refused */
} SspidChannelHeader;

typedef enum {
  SSPID_CHANNEL_OP_ENCRYPT = 1,   /* EncryptMessage */
  SSPID_CHANNEL_OP_DECRYPT = 2,   /* DecryptMessage */
} SspidChannelOp;

#define SSPID_CHANNEL_REQUEST_ENCRYPT_TYPE "(tay)"
#define SSPID_CHANNEL_REQUEST_DECRYPT_TYPE "(tay)"
#define SSPID_CHANNEL_ANSWER_ENCRYPT_TYPE  "(uayu)"
#define SSPID_CHANNEL_ANSWER_DECRYPT_TYPE  "(uayuuuu)"

/* Largest packet either way: a header, a 16 KiB plaintext or a whole TLS
 * record (at most 5 + 16384 + 2048 bytes), and room to spare. */
#define SSPID_CHANNEL_MAX_PACKET (64 * 1024)

/* Channels one bus connection, and all of one user's, may hold open at
 * once. */
#define SSPID_CHANNEL_MAX_PER_CONNECTION 4
#define SSPID_CHANNEL_MAX_PER_USER 64
/* Descriptors callers sent along that the daemon is still closing (closes
 * that hang) past which it hands out no channel (kernels without
 * SO_PASSRIGHTS only: elsewhere none ever arrives). */
#define SSPID_CHANNEL_MAX_CLOSING 1024

/* The bus method that hands out a channel. */
#define SSPID_METHOD_OPEN_RECORD_CHANNEL "OpenRecordChannel"
