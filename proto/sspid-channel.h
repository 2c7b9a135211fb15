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
 * The mailbox (optional, asked for once per channel): a shared memory area
 * that carries the same request and answer packets without the socket's
 * copies and system calls.  The caller sends a header-only packet of op
 * SSPID_CHANNEL_OP_MAILBOX; the daemon answers with a header-only packet
 * of that op which carries, as SCM_RIGHTS, a sealed memfd (it cannot
 * shrink or grow) holding one SspidChannelMailbox, or carries nothing if
 * it gives none.  From then on the caller may post a request there
 * instead of sending it (one at a time: the next only after the answer):
 *
 *   caller:  writes the packet into data and its size into length,
 *            state = REQUEST (release); if exchange (daemon_waiting, 0)
 *            was 1, sends a header-only SSPID_CHANNEL_OP_RING packet.
 *   daemon:  takes a REQUEST (state = TAKEN) when rung or while it
 *            watches, copies it out, and answers the way a packet is
 *            answered; the answer packet goes into data, state = ANSWER
 *            (release); if exchange (caller_waiting, 0) was 1, it sends
 *            a header-only RING packet.
 *   sleeping: a side that stops watching state sets its *_waiting flag,
 *            then looks at state again: whoever clears a flag set to 1
 *            owes exactly one RING, so a side that finds its own flag
 *            cleared after all waits for that RING.
 *   futex:   a daemon that sets daemon_wakes_by_futex (when it makes the
 *            mailbox) wakes a caller that set caller_sleeps_on_futex
 *            (once, after mapping it) with FUTEX_WAKE on state instead
 *            of a RING packet; such a caller sleeps in FUTEX_WAIT on
 *            state (a wake carries no token: it only looks again), with
 *            a timeout after which it looks whether the socket closed.
 *            The daemon only reads such a caller's caller_waiting (the
 *            caller clears its own after the answer): a wake is no token.
 *            A futex wake costs both ends less than a packet (measured:
 *            a sleeping round trip between two processes on this kind
 *            of VM, 13.8 µs of CPU with futexes against 16.3 with
 *            SEQPACKET packets).  Callers that do not set the flag (older
 *            libraries) are rung as before.
 *
 * So a streaming caller and a daemon that watch state (briefly, while it
 * pays) exchange records without a system call.  The daemon trusts
 * nothing in the mailbox: it reads length once, copies the request out
 * before it looks at it, and a RING for which there is no request is
 * ignored.  A mailbox request is one of the channel's requests in flight;
 * an answer that must wake a sleeping caller whose socket is full is not
 * queued (the RINGs already there will wake it).
 *
 * The caller's end is a bearer capability: whoever holds it acts as the
 * bus connection that opened it (its handles, limits and log identity)
 * until that connection closes.  libsspi keeps it close-on-exec and closes
 * it in forked children; do not pass it to another process.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint32_t serial;   /* chosen by the caller, echoed in the answer */
  uint16_t op;       /* SspidChannelOp */
  uint16_t flags;    /* 0; anything else is refused */
} SspidChannelHeader;

typedef enum {
  SSPID_CHANNEL_OP_ENCRYPT = 1,   /* EncryptMessage */
  SSPID_CHANNEL_OP_DECRYPT = 2,   /* DecryptMessage */
  SSPID_CHANNEL_OP_MAILBOX = 3,   /* header only: asks for (gives) the mailbox */
  SSPID_CHANNEL_OP_RING    = 4,   /* header only: look at the mailbox */
} SspidChannelOp;

#define SSPID_CHANNEL_REQUEST_ENCRYPT_TYPE "(tay)"
#define SSPID_CHANNEL_REQUEST_DECRYPT_TYPE "(tay)"
#define SSPID_CHANNEL_ANSWER_ENCRYPT_TYPE  "(uayu)"
#define SSPID_CHANNEL_ANSWER_DECRYPT_TYPE  "(uayuuuu)"

/* Largest packet either way: a header, a 16 KiB plaintext or a whole TLS
 * record (at most 5 + 16384 + 2048 bytes), and room to spare. */
#define SSPID_CHANNEL_MAX_PACKET (64 * 1024)

typedef enum {
  SSPID_CHANNEL_MAILBOX_IDLE    = 0,
  SSPID_CHANNEL_MAILBOX_REQUEST = 1,   /* posted by the caller */
  SSPID_CHANNEL_MAILBOX_TAKEN   = 2,   /* copied out by the daemon */
  SSPID_CHANNEL_MAILBOX_ANSWER  = 3,   /* posted by the daemon */
} SspidChannelMailboxState;

/* The shared area; the flags are accessed with atomic operations only. */
typedef struct {
  uint32_t state;            /* SspidChannelMailboxState */
  uint32_t length;           /* bytes of the packet in data */
  uint32_t daemon_waiting;   /* 1: the daemon does not watch state */
  uint32_t caller_waiting;   /* 1: the caller sleeps until a RING */
  uint32_t daemon_wakes_by_futex;   /* set by the daemon: it can */
  uint32_t caller_sleeps_on_futex;  /* set by the caller: wake it so */
  uint8_t  reserved[40];     /* so that data is 64-aligned */
  uint8_t  data[SSPID_CHANNEL_MAX_PACKET];
} SspidChannelMailbox;

_Static_assert (offsetof (SspidChannelMailbox, data) == 64, "the mailbox's data is 64-aligned");

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
