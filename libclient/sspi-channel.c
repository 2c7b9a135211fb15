/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The client end of a record channel (framing: proto/sspid-channel.h): a
 * SOCK_SEQPACKET socket the daemon handed us in its OpenRecordChannel
 * reply, over which EncryptMessage and DecryptMessage travel as one packet
 * each way, without the bus.  One request at a time per channel: the
 * session serialises its users (sspi-connection.c).
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sspi-private.h"
#include "sspid-channel.h"

/* How long to wait for an answer before sleeping in recv(): the daemon
 * answers a record in ~15-30 µs, and on a virtual machine waking an idle
 * CPU costs more than that. */
#define SPIN_USEC 50

struct _SspiChannel {
  int     fd;
  guint32 last_serial;
};

SspiChannel *
sspi_channel_new (int fd, gint timeout_ms)
{
  SspiChannel *c = g_new0 (SspiChannel, 1);
  struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

  c->fd = fd;
  /* Only a hung daemon hits this: a dead one closes its end. */
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return c;
}

void
sspi_channel_free (SspiChannel *c)
{
  if (c == NULL)
    return;
  close (c->fd);
  g_free (c);
}

void
sspi_channel_abandon_after_fork (SspiChannel *c)
{
  if (c != NULL)
    close (c->fd);
}

static gboolean
send_request (SspiChannel *c, guint16 op, GVariant *params, GError **error)
{
  SspidChannelHeader header = { ++c->last_serial, op, 0 };
  struct iovec iov[2] = {
    { &header, sizeof header },
    { (void *) g_variant_get_data (params), g_variant_get_size (params) },
  };
  struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
  ssize_t n;

  if (sizeof header + iov[1].iov_len > SSPID_CHANNEL_MAX_PACKET)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                           "request too large for the record channel");
      return FALSE;
    }
  do
    n = sendmsg (c->fd, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n != (ssize_t) (iov[0].iov_len + iov[1].iov_len))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "record channel: %s",
                   n < 0 ? g_strerror (errno) : "short write");
      return FALSE;
    }
  return TRUE;
}

/* recv() of an answer that is about to come, without sleeping; -1 with
 * EAGAIN if it did not come within SPIN_USEC. */
static ssize_t
spin_receive (int fd, guint8 *packet)
{
  gint64 until = g_get_monotonic_time () + SPIN_USEC;
  ssize_t n;

  do
    {
      n = recv (fd, packet, SSPID_CHANNEL_MAX_PACKET, MSG_TRUNC | MSG_DONTWAIT);
      if (n >= 0 || (errno != EAGAIN && errno != EINTR))
        return n;
    }
  while (g_get_monotonic_time () < until);
  errno = EAGAIN;
  return -1;
}

/* The answer to the request just sent (its serial and @op), as a GVariant
 * of @reply_type that owns the packet (no copy). */
static GVariant *
receive_answer (SspiChannel *c, guint16 op, const char *reply_type, GError **error)
{
  guint8 *packet = g_malloc (SSPID_CHANNEL_MAX_PACKET);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GBytes) body = NULL;
  SspidChannelHeader header;
  GVariant *answer;
  ssize_t n;

  n = spin_receive (c->fd, packet);
  if (n < 0 && errno == EAGAIN)
    do
      n = recv (c->fd, packet, SSPID_CHANNEL_MAX_PACKET, MSG_TRUNC);
    while (n < 0 && errno == EINTR);
  if (n <= 0)
    {
      g_free (packet);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "record channel: %s",
                   n < 0 ? g_strerror (errno) : "closed by the daemon");
      return NULL;
    }
  bytes = g_bytes_new_take (packet, MIN ((gsize) n, SSPID_CHANNEL_MAX_PACKET));
  memcpy (&header, packet, MIN ((gsize) n, sizeof header));
  if ((gsize) n < sizeof header || n > SSPID_CHANNEL_MAX_PACKET
      || header.serial != c->last_serial || header.op != op || header.flags != 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "record channel: unexpected answer");
      return NULL;
    }
  body = g_bytes_new_from_bytes (bytes, sizeof header, (gsize) n - sizeof header);
  /* Not trusted, so GLib bounds-checks what we read; sizes are checked
   * again where the bytes are copied out (sspi-record.c).  Not
   * g_variant_is_normal_form(): it visits every byte of the record. */
  answer = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (reply_type), body,
                                                         FALSE));
  return answer;
}

GVariant *
sspi_channel_call (SspiChannel *c, guint16 op, GVariant *params, const char *reply_type,
                   GError **error)
{
  if (!send_request (c, op, params, error))
    return NULL;
  return receive_answer (c, op, reply_type, error);
}
