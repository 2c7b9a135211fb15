/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers for the tests that talk to sspid over a record channel by hand
 * (framing: proto/sspid-channel.h): open one with OpenRecordChannel, send
 * packets well-formed or not, read answers.  Header-only (static inline),
 * like dbus-raw.h, so each test program takes what it uses.
 */
#pragma once

#include <check.h>
#include <errno.h>
#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "dbus-raw.h"
#include "sspid-channel.h"

/* OpenRecordChannel on @conn: the fd, or -1 and @error. */
static inline int
open_channel (GDBusConnection *conn, GError **error)
{
  return call_for_fd (conn, SSPID_METHOD_OPEN_RECORD_CHANNEL, error);
}

static inline int
open_channel_ok (GDBusConnection *conn)
{
  g_autoptr(GError) error = NULL;
  int fd = open_channel (conn, &error);

  ck_assert_msg (fd >= 0, "OpenRecordChannel: %s", error != NULL ? error->message : "?");
  return fd;
}

/* One packet: a header and @len bytes of body. */
static inline ssize_t
send_packet (int fd, guint32 serial, guint16 op, guint16 flags, const void *body, gsize len,
             int send_flags)
{
  SspidChannelHeader h = { serial, op, flags };
  struct iovec iov[2] = { { &h, sizeof h }, { (void *) body, len } };
  struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

  return sendmsg (fd, &msg, MSG_NOSIGNAL | send_flags);
}

/* A well-formed request: @op on @handle with @data. */
static inline void
send_request (int fd, guint32 serial, guint16 op, guint64 handle, const void *data, gsize len)
{
  g_autoptr(GVariant) body = g_variant_ref_sink (
    sspid_record_args_encode (&(SspidRecordArgs) { handle, bytes_variant (data, len) }));

  ck_assert_int_eq (send_packet (fd, serial, op, 0, g_variant_get_data (body),
                                 g_variant_get_size (body), 0),
                    (ssize_t) (sizeof (SspidChannelHeader) + g_variant_get_size (body)));
}

/* Waits up to 10 s for a packet: returns it (header stripped into @h) as
 * a GVariant of @type, or NULL if the daemon closed the channel. */
static inline GVariant *
recv_answer (int fd, const char *type, SspidChannelHeader *h)
{
  struct pollfd p = { .fd = fd, .events = POLLIN };
  g_autofree guint8 *buf = g_malloc (SSPID_CHANNEL_MAX_PACKET);
  g_autoptr(GBytes) body = NULL;
  ssize_t n;

  ck_assert_msg (poll (&p, 1, 10000) == 1, "no answer from the channel in 10 s");
  n = recv (fd, buf, SSPID_CHANNEL_MAX_PACKET, 0);
  ck_assert_msg (n >= 0, "recv: %s", g_strerror (errno));
  if (n == 0)
    return NULL;
  ck_assert_uint_ge ((gsize) n, sizeof *h);
  memcpy (h, buf, sizeof *h);
  ck_assert_uint_eq (h->flags, 0);
  body = g_bytes_new (buf + sizeof *h, (gsize) n - sizeof *h);
  return g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (type), body, FALSE));
}

/* The status of an answer that must come, to request @serial. */
static inline guint32
answer_status (int fd, guint32 serial, guint16 op)
{
  SspidChannelHeader h;
  g_autoptr(GVariant) a = recv_answer (fd, op == SSPID_CHANNEL_OP_ENCRYPT
                                           ? SSPID_CHANNEL_ANSWER_ENCRYPT_TYPE
                                           : SSPID_CHANNEL_ANSWER_DECRYPT_TYPE, &h);
  guint32 status;

  ck_assert_msg (a != NULL, "the daemon closed the channel instead of answering");
  ck_assert_uint_eq (h.serial, serial);
  ck_assert_uint_eq (h.op, op);
  g_variant_get_child (a, 0, "u", &status);
  return status;
}

/* The daemon closes the channel: EOF within 10 s. */
static inline void
assert_closed (int fd)
{
  struct pollfd p = { .fd = fd, .events = POLLIN };
  char c;

  ck_assert_msg (poll (&p, 1, 10000) == 1, "channel not closed in 10 s");
  ck_assert_int_eq (recv (fd, &c, 1, MSG_DONTWAIT), 0);
}
