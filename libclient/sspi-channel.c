/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The client end of a record channel (framing: proto/sspid-channel.h): a
 * SOCK_SEQPACKET socket the daemon handed us in its OpenRecordChannel
 * reply, over which EncryptMessage and DecryptMessage travel as one packet
 * each way, without the bus.  One request at a time per channel: the
 * session serialises its users (sspi-connection.c).
 *
 * When the daemon gives one, requests and answers go through the
 * channel's mailbox instead (shared memory, same packets): a system call
 * on this kind of virtual machine costs more than the AES of the record,
 * and while both sides watch the mailbox a record takes none.  The socket
 * then carries only RINGs to wake a side that sleeps, and its closing
 * still says that the daemon is gone.  The mapping is not inherited by
 * fork(): the channel acts for this process's connection only.
 */
#include "config.h"

#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sspi-private.h"
#include "sspid-channel.h"
#include "sspid-channel-watch.h"
#include "sspid-fds.h"

/* How long to wait for an answer before sleeping in recv(): the daemon
 * answers a record in ~15-30 µs, and on a virtual machine waking an idle
 * CPU costs more than that. */
#define SPIN_USEC 50
/* With a mailbox, on a machine without an idle CPU, how long to watch it:
 * for a daemon that watched it when we posted to take the request, and
 * for one that took it to answer (a 16 KiB record is ~5 µs of AES; a
 * system call alone costs ~2.3 µs on this VM, a sleep and a wakeup
 * several).  With an idle CPU, SPIN_USEC for both, rung or not. */
#define PICK_USEC 3
#define WORK_USEC 20
/* Asleep on the mailbox's futex, how often to look whether the daemon
 * went away (its end of the socket closed): a dead daemon wakes nobody. */
#define FUTEX_CHECK_MS 50

struct _SspiChannel {
  int                  fd;
  gint                 timeout_ms;  /* for an answer, as the socket's */
  guint32              last_serial;
  SspidChannelMailbox *mailbox;     /* mapped, or NULL: packets */
  gboolean             sleeps_on_futex;  /* the daemon wakes us so */
};

/* Keeps the first descriptor an SCM_RIGHTS message carried in *(int *)
 * @data (-1 before it); closes any others. */
static void
keep_first_fd (int fd, void *data)
{
  int *kept = data;

  if (*kept < 0)
    *kept = fd;
  else
    close (fd);
}

/* Asks for the channel's mailbox and maps it; FALSE if the channel broke
 * (an older daemon closes it at the unknown op).  Without a mailbox (the
 * daemon gave none, or it cannot be mapped) the channel carries packets. */
static gboolean
map_mailbox (SspiChannel *c)
{
  SspidChannelHeader header = { ++c->last_serial, SSPID_CHANNEL_OP_MAILBOX, 0 };
  SspidChannelHeader answer;
  union {
    char           bytes[CMSG_SPACE (sizeof (int) * 4)];
    struct cmsghdr align;
  } control;
  struct iovec iov = { &answer, sizeof answer };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = &control, .msg_controllen = sizeof control };
  struct stat st;
  void *shared;
  ssize_t n;
  int fd = -1;

  if (send (c->fd, &header, sizeof header, MSG_NOSIGNAL) != (ssize_t) sizeof header)
    return FALSE;
  do
    n = recvmsg (c->fd, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n > 0)
    sspid_passed_fds_foreach (&msg, keep_first_fd, &fd);
  if (n != (ssize_t) sizeof answer || answer.op != SSPID_CHANNEL_OP_MAILBOX)
    {
      if (fd >= 0)
        close (fd);
      return FALSE;
    }
  if (fd < 0)
    return TRUE;
  if (fstat (fd, &st) == 0 && st.st_size >= (off_t) sizeof *c->mailbox)
    {
      shared = mmap (NULL, sizeof *c->mailbox, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      /* Not inherited: a forked child must not act for us. */
      if (shared != MAP_FAILED && madvise (shared, sizeof *c->mailbox, MADV_DONTFORK) != 0)
        {
          munmap (shared, sizeof *c->mailbox);
          shared = MAP_FAILED;
        }
      if (shared != MAP_FAILED)
        c->mailbox = shared;
    }
  /* A daemon that can wake us with a futex learns that we sleep on one
   * before our first post. */
  if (c->mailbox != NULL
      && g_atomic_int_get ((gint *) &c->mailbox->daemon_wakes_by_futex) == 1)
    {
      g_atomic_int_set ((gint *) &c->mailbox->caller_sleeps_on_futex, 1);
      c->sleeps_on_futex = TRUE;
    }
  close (fd);
  return TRUE;
}

SspiChannel *
sspi_channel_new (int fd, gint timeout_ms)
{
  SspiChannel *c = g_new0 (SspiChannel, 1);
  struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

  c->fd = fd;
  c->timeout_ms = timeout_ms;
  /* Only a hung daemon hits this: a dead one closes its end. */
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  /* SSPI_RECORD_MAILBOX=0: packets, as before the mailbox (a knob for
   * measuring and testing both paths). */
  if (g_strcmp0 (g_getenv ("SSPI_RECORD_MAILBOX"), "0") != 0 && !map_mailbox (c))
    {
      sspi_channel_free (c);
      return NULL;
    }
  return c;
}

void
sspi_channel_free (SspiChannel *c)
{
  if (c == NULL)
    return;
  if (c->mailbox != NULL)
    munmap (c->mailbox, sizeof *c->mailbox);
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

/* The answer packet @packet of @n bytes (taken) to the request just sent
 * (its serial and @op), as a GVariant of @reply_type that owns the packet
 * (no copy). */
static GVariant *
parse_answer (SspiChannel *c, guint16 op, const char *reply_type, guint8 *packet, gssize n,
              GError **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GBytes) body = NULL;
  SspidChannelHeader header;
  GVariant *answer;

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

static gboolean
set_closed_error (GError **error, gssize n)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "record channel: %s",
               n < 0 ? g_strerror (errno) : "closed by the daemon");
  return FALSE;
}

/* The answer to the request just sent (its serial and @op), over the
 * socket. */
static GVariant *
receive_answer (SspiChannel *c, guint16 op, const char *reply_type, GError **error)
{
  guint8 *packet = g_malloc (SSPID_CHANNEL_MAX_PACKET);
  ssize_t n;

  n = spin_receive (c->fd, packet);
  if (n < 0 && errno == EAGAIN)
    do
      n = recv (c->fd, packet, SSPID_CHANNEL_MAX_PACKET, MSG_TRUNC);
    while (n < 0 && errno == EINTR);
  if (n <= 0)
    {
      g_free (packet);
      set_closed_error (error, n);
      return NULL;
    }
  return parse_answer (c, op, reply_type, packet, n, error);
}

/* --- the mailbox --------------------------------------------------------- */

static gboolean
send_ring (SspiChannel *c, GError **error)
{
  SspidChannelHeader ring = { 0, SSPID_CHANNEL_OP_RING, 0 };
  ssize_t n;

  do
    n = send (c->fd, &ring, sizeof ring, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == (ssize_t) sizeof ring || set_closed_error (error, n);
}

/* Sleeps until the daemon's RING (or its end, or the timeout). */
static gboolean
receive_ring (SspiChannel *c, GError **error)
{
  SspidChannelHeader ring;
  ssize_t n;

  do
    n = recv (c->fd, &ring, sizeof ring, MSG_TRUNC);
  while (n < 0 && errno == EINTR);
  if (n <= 0)
    return set_closed_error (error, n);
  if (n != (ssize_t) sizeof ring || ring.op != SSPID_CHANNEL_OP_RING)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "record channel: unexpected packet");
      return FALSE;
    }
  return TRUE;
}

static gboolean
is_answered (SspidChannelMailbox *mailbox)
{
  return (guint) g_atomic_int_get ((gint *) &mailbox->state) == SSPID_CHANNEL_MAILBOX_ANSWER;
}

/* Whether the daemon's end of the socket is still open (nothing should
 * come on it while it wakes us with the futex: anything readable is its
 * close, or a protocol error); an error if not. */
static gboolean
check_daemon_alive (SspiChannel *c, GError **error)
{
  struct pollfd p = { c->fd, POLLIN, 0 };
  int n = poll (&p, 1, 0);

  if (n == 0 || (n < 0 && errno == EINTR))
    return TRUE;
  return set_closed_error (error, 0);
}

/* Sleeps on the mailbox's futex until the answer is posted (protocol:
 * proto/sspid-channel.h), looking every FUTEX_CHECK_MS whether the daemon
 * is gone, and giving up after the channel's timeout (a hung daemon). */
static gboolean
sleep_on_futex (SspiChannel *c, GError **error)
{
  SspidChannelMailbox *mailbox = c->mailbox;
  gint64 deadline = g_get_monotonic_time () + (gint64) c->timeout_ms * 1000;
  struct timespec check = { 0, FUTEX_CHECK_MS * 1000000L };

  g_atomic_int_set ((gint *) &mailbox->caller_waiting, 1);
  for (;;)
    {
      guint state = (guint) g_atomic_int_get ((gint *) &mailbox->state);

      if (state == SSPID_CHANNEL_MAILBOX_ANSWER)
        break;
      /* Returns at once if state is no longer what we saw.  A signal
       * (EINTR) is checked like a timeout, so that a process whose
       * signals come faster than the check still sees a dead daemon. */
      if (syscall (SYS_futex, &mailbox->state, FUTEX_WAIT, state, &check, NULL, 0) == 0
          || errno == EAGAIN)
        continue;
      if (!check_daemon_alive (c, error))
        return FALSE;
      if (g_get_monotonic_time () >= deadline)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               "record channel: no answer from the daemon");
          return FALSE;
        }
    }
  /* Ours to clear: the daemon only reads it (a wake is no token). */
  g_atomic_int_set ((gint *) &mailbox->caller_waiting, 0);
  return TRUE;
}

/* Waits for the answer in the mailbox: watching it while the daemon runs
 * (@rang: it did not watch when we posted), then asleep until a RING
 * (protocol: proto/sspid-channel.h).  Measured on a busy 2-core VM, a
 * fixed 50 µs watch cost more CPU than the sleeps it saved (BENCHMARKS.md,
 * B1); with an idle CPU to wake instead, the watch is the cheaper. */
static gboolean
wait_answer (SspiChannel *c, gboolean rang, GError **error)
{
  SspidChannelMailbox *mailbox = c->mailbox;
  gint64 now = g_get_monotonic_time ();
  gboolean is_long = sspid_channel_has_idle_cpu ();
  gint64 pick_until = now + (is_long ? SPIN_USEC : rang ? 0 : PICK_USEC);
  gint64 work_until = now + (is_long ? SPIN_USEC : WORK_USEC);

  /* Watch only a daemon that runs: one that took the request (TAKEN) is
   * sealing or opening it, a few µs; one that watched when we posted takes
   * it at once.  Anything else means a sleeping or preempted daemon, and
   * on a busy machine spinning then only takes the CPU it needs. */
  for (;;)
    {
      guint state = (guint) g_atomic_int_get ((gint *) &mailbox->state);

      if (state == SSPID_CHANNEL_MAILBOX_ANSWER)
        return TRUE;
      now = g_get_monotonic_time ();
      if (state == SSPID_CHANNEL_MAILBOX_TAKEN ? now >= work_until : now >= pick_until)
        break;
      for (guint i = 0; i < 16; i++)
        sspid_channel_cpu_relax ();
    }

  if (c->sleeps_on_futex)
    return sleep_on_futex (c, error);
  for (;;)
    {
      g_atomic_int_set ((gint *) &mailbox->caller_waiting, 1);
      if (is_answered (mailbox))
        {
          /* Whoever clears the flag owes the RING: if the daemon did, it
           * is on its way and must not wake a later wait. */
          if (g_atomic_int_exchange ((gint *) &mailbox->caller_waiting, 0) == 1)
            return TRUE;
          return receive_ring (c, error);
        }
      if (!receive_ring (c, error))
        return FALSE;
    }
}

static GVariant *
mailbox_call (SspiChannel *c, guint16 op, GVariant *params, const char *reply_type,
              GError **error)
{
  SspidChannelMailbox *mailbox = c->mailbox;
  SspidChannelHeader header = { ++c->last_serial, op, 0 };
  gsize size = g_variant_get_size (params);
  guint32 length;
  guint8 *packet;

  if (sizeof header + size > sizeof mailbox->data)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                           "request too large for the record channel");
      return NULL;
    }
  memcpy (mailbox->data, &header, sizeof header);
  g_variant_store (params, mailbox->data + sizeof header);
  g_atomic_int_set ((gint *) &mailbox->length, (gint) (sizeof header + size));
  g_atomic_int_set ((gint *) &mailbox->state, SSPID_CHANNEL_MAILBOX_REQUEST);
  gboolean rang = g_atomic_int_exchange ((gint *) &mailbox->daemon_waiting, 0) == 1;
  if (rang && !send_ring (c, error))
    return NULL;
  if (!wait_answer (c, rang, error))
    return NULL;

  length = (guint32) g_atomic_int_get ((gint *) &mailbox->length);
  if (length > sizeof mailbox->data)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "record channel: unexpected answer");
      return NULL;
    }
  packet = g_memdup2 (mailbox->data, length);
  g_atomic_int_set ((gint *) &mailbox->state, SSPID_CHANNEL_MAILBOX_IDLE);
  return parse_answer (c, op, reply_type, packet, length, error);
}

GVariant *
sspi_channel_call (SspiChannel *c, guint16 op, GVariant *params, const char *reply_type,
                   GError **error)
{
  if (c->mailbox != NULL)
    return mailbox_call (c, op, params, reply_type, error);
  if (!send_request (c, op, params, error))
    return NULL;
  return receive_answer (c, op, reply_type, error);
}
