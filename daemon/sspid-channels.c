/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Record channels (framing: proto/sspid-channel.h): a caller's private
 * SOCK_SEQPACKET path for EncryptMessage and DecryptMessage, opened with
 * the OpenRecordChannel bus method.
 *
 * Everything here runs on the main thread, like the registry it serves: a
 * GSource watches each channel's fd on the main context, each request
 * packet becomes an SspidCall whose reply sink is its channel and goes to
 * the dispatch function the front gave the channel set (the very handler a
 * bus call enters: same decoding, same limits, same handle scoping); its
 * answer comes back through the sink and is written here.  Nothing blocks: the fd is
 * non-blocking, answers the socket cannot take wait in a per-channel queue,
 * and while anything waits there (or too many requests are unanswered) the
 * channel is not read, so a caller that writes and never reads stalls only
 * itself and costs the daemon a bounded amount of memory.
 *
 * A caller may also ask for a mailbox (sspid-mailbox.c): the same packets
 * in shared memory, announced by RING packets only when the other side
 * does not watch.  A mailbox request is a request in flight like any
 * other, one at a time; its answer overwrites it, so a caller that never
 * reads costs no more memory than the mailbox itself.
 *
 * Packet bytes are hostile: a bad header closes the channel, a bad body is
 * answered with an error status, and a channel never outlives its caller's
 * bus connection (the registry closes it with everything else).
 *
 * So are file descriptors sent along (SCM_RIGHTS): closing one can block
 * (a socket with SO_LINGER and unsent data, a file on a stalled FUSE
 * mount), and the last close of whatever the kernel discards happens in
 * the thread that made it.  Where the kernel can (SO_PASSRIGHTS, Linux
 * 6.16) our end refuses them outright; elsewhere a packet that carries any
 * closes the channel, and those descriptors, and our end of a closed
 * channel (whose unread packets may carry more), are closed on a thread of
 * their own, never on the main thread.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sspid-channel.h"
#include "sspid-channel-watch.h"
#include "sspid-channels.h"
#include "sspid-counts.h"
#include "sspid-fds.h"
#include "sspid-mailbox.h"
#include "sspi.h"

/* Descriptors one message can carry (the kernel's SCM_MAX_FD): the control
 * buffer takes them all, so that none is closed by the kernel in recvmsg. */
#define MAX_PASSED_FDS 253

/* Requests read and not answered yet, per channel, before it stops being
 * read: enough to keep a pipelining caller busy, small enough that a
 * flood costs little (the per-connection pending limit applies as well). */
#define MAX_IN_FLIGHT 16
/* Packets read per wakeup, so one busy channel cannot starve the bus;
 * shared among the channels of one user, so that one with many channels
 * does not get that many times the main thread's time (fairness between
 * users, DESIGN.md). */
#define MAX_READ_BATCH 8
/* next_request_soon(): how long to wait for a streaming caller's next
 * request, and how many requests to serve without waiting after a wait
 * found nothing (so a caller that does not stream costs at most
 * SPIN_USEC / SPIN_BACKOFF µs per request). */
#define SPIN_USEC 50
/* The same for a caller on the mailbox on a machine without an idle CPU,
 * and only if it watched for our answer (did not need a RING): a caller
 * that slept takes longer to wake and post than watching is worth.  It
 * posts its next request a few µs after our answer when it streams.  With
 * an idle CPU, SPIN_USEC whatever the caller did: waking an idle CPU is
 * what costs most there (proto/sspid-channel-watch.h). */
#define MAILBOX_SPIN_USEC 10
#define SPIN_BACKOFF 16

struct _SspidChannels {
  GMainContext             *main_context;
  SspidChannelDispatchFunc  dispatch;
  gpointer                  dispatch_data;
  GHashTable               *open;      /* SspidChannel * */
  GHashTable               *uids;      /* uid -> channels open for it */
  guint64                   answered;  /* requests answered over channels */
};

typedef struct _SspidChannel SspidChannel;

struct _SspidChannel {
  gint           ref;
  SspidChannels *set;
  SspidCaller  *caller;      /* ref */
  uid_t         uid;         /* of the caller */
  int           fd;          /* -1 once closed */
  GSource      *source;
  gpointer      tag;         /* of fd in source */
  GIOCondition  events;      /* what tag watches now */
  GQueue        out;         /* GBytes *: whole answer packets not sent yet */
  guint         in_flight;
  guint         spin_backoff; /* requests to serve before waiting again */
  gboolean      refuses_fds;  /* SO_PASSRIGHTS is off on our end */
  SspidMailbox *mailbox;      /* once the caller asked for it */
  gboolean      is_mailbox_busy;  /* its request is in flight */
  gboolean      is_caller_asleep;  /* when its last answer was posted */
};

typedef struct {
  GSource       source;
  SspidChannel *channel;     /* borrowed: the source dies first */
} ChannelSource;

static void channel_close (SspidChannel *channel, const char *why);

static void
count_for_uid_add (SspidChannels *set, uid_t uid, int delta)
{
  sspid_counts_add (set->uids, SSPID_UID_KEY (uid), delta);
}

static SspidChannel *
channel_ref (SspidChannel *channel)
{
  channel->ref++;
  return channel;
}

static void
channel_unref (SspidChannel *channel)
{
  if (--channel->ref > 0)
    return;
  g_assert (channel->fd < 0);
  g_queue_clear_full (&channel->out, (GDestroyNotify) g_bytes_unref);
  sspid_caller_unref (channel->caller);
  g_free (channel);
}

/* Reading stops while answers wait or too many requests are unanswered:
 * the kernel's buffers then push back on the caller. */
static gboolean
is_reading (SspidChannel *channel)
{
  return g_queue_is_empty (&channel->out) && channel->in_flight < MAX_IN_FLIGHT;
}

static void
update_events (SspidChannel *channel)
{
  GIOCondition events = G_IO_HUP | G_IO_ERR;

  if (channel->fd < 0)
    return;
  if (is_reading (channel))
    events |= G_IO_IN;
  if (!g_queue_is_empty (&channel->out))
    events |= G_IO_OUT;
  /* Only on a change: every call wakes the main context (an eventfd
   * write, then a read and one more poll()), which cost more than the
   * record itself when it was done after every request. */
  if (events != channel->events)
    {
      g_source_modify_unix_fd (channel->source, channel->tag, events);
      channel->events = events;
    }
}

/* A request posted while the daemon watched, or while it could not take
 * it, has no RING coming: the next turn of the main loop takes it (the
 * source's prepare and check ask this; a ready time would do the same
 * but wake the main context, an eventfd write and read, at each
 * change). */
static gboolean
has_mailbox_request_to_take (SspidChannel *channel)
{
  return channel->mailbox != NULL && channel->fd >= 0 && !channel->is_mailbox_busy
         && is_reading (channel) && sspid_mailbox_has_request (channel->mailbox);
}

/* --- answers ------------------------------------------------------------- */

static guint16
op_of_kind (SspidCallKind kind)
{
  return kind == SSPID_CALL_ENCRYPT ? SSPID_CHANNEL_OP_ENCRYPT : SSPID_CHANNEL_OP_DECRYPT;
}

/* Writes what waits, in order; FALSE if the channel broke. */
static gboolean
flush_out (SspidChannel *channel)
{
  GBytes *packet;

  while ((packet = g_queue_peek_head (&channel->out)) != NULL)
    {
      gsize size;
      const void *data = g_bytes_get_data (packet, &size);
      ssize_t n = send (channel->fd, data, size, MSG_DONTWAIT | MSG_NOSIGNAL);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return TRUE;
      if (n != (ssize_t) size)
        return FALSE;
      g_bytes_unref (g_queue_pop_head (&channel->out));
    }
  return TRUE;
}

/* A header-only packet of @op, or nothing if the socket is full: RINGs
 * already there wake the caller as well. */
static void
send_ring (SspidChannel *channel)
{
  SspidChannelHeader header = { 0, SSPID_CHANNEL_OP_RING, 0 };
  ssize_t n;

  do
    n = send (channel->fd, &header, sizeof header, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    channel_close (channel, g_strerror (errno));
}

/* The reply sink of the channel's mailbox requests (SspidCallSinkFunc). */
static void
mailbox_answer (gpointer sink_data, guint32 serial, SspidCallKind kind, GVariant *reply)
{
  SspidChannel *channel = sink_data;
  g_autoptr(GVariant) body = g_variant_ref_sink (reply);
  SspidChannelHeader header = { serial, op_of_kind (kind), 0 };
  SspidMailboxWake wake;

  channel->in_flight--;
  channel->is_mailbox_busy = FALSE;
  if (channel->fd < 0)
    return;                     /* closed meanwhile: nobody to answer */
  channel->set->answered++;
  /* An answer never outgrows a packet; if one did, the caller would see
   * its channel close rather than a truncated answer. */
  if (sizeof header + g_variant_get_size (body) > SSPID_CHANNEL_MAX_PACKET)
    {
      channel_close (channel, "answer too large");
      return;
    }
  wake = sspid_mailbox_post_answer (channel->mailbox, &header, sizeof header, body);
  channel->is_caller_asleep = wake != SSPID_MAILBOX_WAKE_NONE;
  if (wake == SSPID_MAILBOX_WAKE_RING)
    send_ring (channel);
  update_events (channel);
}

/* The reply sink of the channel's packet requests (SspidCallSinkFunc). */
static void
channel_answer (gpointer sink_data, guint32 serial, SspidCallKind kind, GVariant *reply)
{
  SspidChannel *channel = sink_data;
  g_autoptr(GVariant) body = g_variant_ref_sink (reply);
  SspidChannelHeader header = { serial, op_of_kind (kind), 0 };
  struct iovec iov[2];
  ssize_t n;

  channel->in_flight--;
  if (channel->fd < 0)
    return;                     /* closed meanwhile: nobody to answer */
  channel->set->answered++;

  iov[0] = (struct iovec) { &header, sizeof header };
  iov[1] = (struct iovec) { (void *) g_variant_get_data (body), g_variant_get_size (body) };
  if (g_queue_is_empty (&channel->out))
    {
      struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

      do
        n = sendmsg (channel->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
      while (n < 0 && errno == EINTR);
      if (n >= 0)
        {
          if ((gsize) n == iov[0].iov_len + iov[1].iov_len)
            goto done;
          channel_close (channel, "short write");
          return;
        }
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        {
          channel_close (channel, g_strerror (errno));
          return;
        }
    }

  /* The caller is not reading: keep the answer (bounded by MAX_IN_FLIGHT)
   * and stop reading its requests until it catches up. */
  {
    GByteArray *packet = g_byte_array_sized_new (iov[0].iov_len + iov[1].iov_len);

    g_byte_array_append (packet, iov[0].iov_base, iov[0].iov_len);
    g_byte_array_append (packet, iov[1].iov_base, iov[1].iov_len);
    g_queue_push_tail (&channel->out, g_byte_array_free_to_bytes (packet));
  }
done:
  update_events (channel);
}

/* --- closing what may block ---------------------------------------------- */

/* Descriptors handed to the closer and not closed yet: closes that hang
 * (a stalled FUSE file) keep it up, and past SSPID_CHANNEL_MAX_CLOSING no
 * channel that could bring more is handed out. */
static gint closing;

static void
close_fd_job (gpointer data, gpointer user_data)
{
  close (GPOINTER_TO_INT (data) - 1);
  g_atomic_int_add (&closing, -1);
}

/* Closes @fd on the closer thread (a few, so that one stuck close does not
 * hold up the rest); in place only if there is no such thread. */
static void
close_in_background (int fd)
{
  static GThreadPool *closer;   /* main thread only; lives with the process */

  if (closer == NULL)
    closer = g_thread_pool_new (close_fd_job, NULL, 4, FALSE, NULL);
  g_atomic_int_inc (&closing);
  if (closer == NULL || !g_thread_pool_push (closer, GINT_TO_POINTER (fd + 1), NULL))
    {
      close (fd);
      g_atomic_int_add (&closing, -1);
    }
}

gboolean
sspid_channels_is_closer_backed_up (void)
{
  return g_atomic_int_get (&closing) > SSPID_CHANNEL_MAX_CLOSING;
}

/* A descriptor that came with a packet: to the closer, a socket without
 * lingering first. */
static void
discard_passed_fd (int fd, void *data)
{
  sspid_fd_no_linger (fd);
  close_in_background (fd);
}

/* --- requests ------------------------------------------------------------ */

/* A request of @channel, answered through @sink.  Counted as pending for
 * the caller from here on. */
static SspidCall *
call_new (SspidChannel *channel, guint32 serial, SspidCallKind kind, GVariant *params,
          SspidCallSinkFunc sink)
{
  SspidCall *call = sspid_call_new_for_sink (kind, serial, params, sink,
                                             channel_ref (channel),
                                             (GDestroyNotify) channel_unref);

  sspid_call_set_caller (call, channel->caller);
  channel->in_flight++;
  return call;
}

/* One request packet of @size bytes (@truncated: it was longer than the
 * buffer) in @packet, whose ownership passes here; answered through
 * @sink (a packet, or the mailbox). */
static void
handle_packet (SspidChannel *channel, guint8 *packet, gsize size, gboolean truncated,
               SspidCallSinkFunc sink)
{
  g_autoptr(GBytes) bytes = g_bytes_new_take (packet, size);
  SspidChannelHeader header;
  SspidChannelPacket parsed;
  SspidCallKind kind;
  GVariant *params;
  SspidCall *call;
  char *limit;

  parsed = sspid_request_parse_channel (bytes, &header, &kind, &params);
  if (parsed == SSPID_CHANNEL_PACKET_SHORT || parsed == SSPID_CHANNEL_PACKET_BAD_HEADER)
    {
      channel_close (channel, parsed == SSPID_CHANNEL_PACKET_SHORT ? "short packet"
                                                                     : "bad packet header");
      return;
    }

  limit = sspid_caller_check_pending_limit (channel->caller);
  call = call_new (channel, header.serial, kind, params, sink);
  if (limit != NULL)
    {
      sspid_call_answer_limit (call, limit);
      return;
    }

  /* What the bus method answers for input larger than it takes. */
  if (truncated)
    {
      sspid_caller_log (channel->caller, G_LOG_LEVEL_DEBUG, NULL, 0,
                        "%s refused: record channel packet over %u bytes",
                        sspid_call_peek_method (call), SSPID_CHANNEL_MAX_PACKET);
      sspid_call_answer_status (call, kind == SSPID_CALL_ENCRYPT
                                      ? SEC_E_INVALID_PARAMETER : SEC_E_INVALID_TOKEN);
      return;
    }
  if (parsed == SSPID_CHANNEL_PACKET_BAD_BODY)
    {
      sspid_caller_log (channel->caller, G_LOG_LEVEL_DEBUG, NULL, 0,
                        "%s refused: malformed record channel request",
                        sspid_call_peek_method (call));
      sspid_call_answer_status (call, SEC_E_INVALID_TOKEN);
      return;
    }
  channel->set->dispatch (call, channel->set->dispatch_data);
}

/* --- the mailbox --------------------------------------------------------- */

/* Takes the mailbox's request if one is posted and none is in flight;
 * TRUE if it did. */
static gboolean
take_mailbox_request (SspidChannel *channel)
{
  gboolean is_oversize = FALSE;
  gsize size = 0;
  guint8 *packet;

  if (channel->mailbox == NULL || channel->is_mailbox_busy || !is_reading (channel))
    return FALSE;
  packet = sspid_mailbox_take_request (channel->mailbox, &size, &is_oversize);
  if (packet == NULL)
    return FALSE;
  channel->is_mailbox_busy = TRUE;
  handle_packet (channel, packet, size, is_oversize, mailbox_answer);
  return TRUE;
}

/* Answers SSPID_CHANNEL_OP_MAILBOX: the mailbox's descriptor, or (if the
 * kernel cannot make one) no descriptor, and the caller stays on packets. */
static void
give_mailbox (SspidChannel *channel)
{
  g_autoptr(GError) error = NULL;
  SspidChannelHeader header = { 0, SSPID_CHANNEL_OP_MAILBOX, 0 };
  union {
    char           bytes[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { &header, sizeof header };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
  int fd = -1;
  ssize_t n;

  if (channel->mailbox == NULL)
    channel->mailbox = sspid_mailbox_new (&fd, &error);
  else
    g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_EXISTS, "asked twice");
  if (channel->mailbox == NULL || fd < 0)
    sspid_caller_log (channel->caller, G_LOG_LEVEL_DEBUG, NULL, 0,
                      "record channel without a mailbox: %s", error->message);
  if (fd >= 0)
    {
      struct cmsghdr *cmsg;

      memset (&control, 0, sizeof control);
      msg.msg_control = &control;
      msg.msg_controllen = sizeof control.bytes;
      cmsg = CMSG_FIRSTHDR (&msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN (sizeof (int));
      memcpy (CMSG_DATA (cmsg), &fd, sizeof fd);
    }
  do
    n = sendmsg (channel->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (fd >= 0)
    close (fd);
  /* Only a caller that fills its socket and then asks gets no answer. */
  if (n != (ssize_t) sizeof header)
    channel_close (channel, "cannot answer the mailbox request");
}

/* A header-only packet of the mailbox's ops; FALSE if @packet is not one
 * (it then goes the way of every packet). */
static gboolean
handle_mailbox_packet (SspidChannel *channel, const guint8 *packet)
{
  SspidChannelHeader header;

  memcpy (&header, packet, sizeof header);
  if (header.flags != 0)
    return FALSE;
  if (header.op == SSPID_CHANNEL_OP_MAILBOX)
    give_mailbox (channel);
  else if (header.op == SSPID_CHANNEL_OP_RING)
    take_mailbox_request (channel);   /* no request: a late RING, ignored */
  else
    return FALSE;
  return TRUE;
}

/* FALSE when there is nothing more to read now (or the channel closed). */
static gboolean
read_one (SspidChannel *channel)
{
  /* Every channel reads into this (main thread only), and a request keeps
   * a copy of just its own bytes: a request may wait behind a busy
   * context, and 64 KiB per small request would add up (a 16 KiB copy
   * costs ~1 µs). */
  static guint8 buffer[SSPID_CHANNEL_MAX_PACKET];
  union {
    char           bytes[CMSG_SPACE (sizeof (int) * MAX_PASSED_FDS)];
    struct cmsghdr align;
  } control;
  struct iovec iov = { buffer, sizeof buffer };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
  ssize_t n;

  do
    {
      msg.msg_control = &control;
      msg.msg_controllen = sizeof control;
      n = recvmsg (channel->fd, &msg, MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC);
    }
  while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        channel_close (channel, g_strerror (errno));
      return FALSE;
    }
  /* MSG_CTRUNC: more than fit (only when our descriptor table is full);
   * the kernel closed those itself. */
  if ((msg.msg_controllen > 0 && sspid_passed_fds_foreach (&msg, discard_passed_fd, NULL) > 0)
      || (msg.msg_flags & MSG_CTRUNC))
    {
      channel_close (channel, "file descriptors sent along");
      return FALSE;
    }
  if (n == 0)
    {
      /* The end (or an empty packet, which no honest caller sends). */
      channel_close (channel, NULL);
      return FALSE;
    }
  if (n == sizeof (SspidChannelHeader) && handle_mailbox_packet (channel, buffer))
    return channel->fd >= 0;
  handle_packet (channel, g_memdup2 (buffer, MIN ((gsize) n, sizeof buffer)),
                 MIN ((gsize) n, sizeof buffer), n > (ssize_t) sizeof buffer, channel_answer);
  return channel->fd >= 0;
}

/* A caller streaming records sends its next request a few µs after our
 * answer; waiting for it here, briefly, costs less than going back to
 * poll() and being woken again (on a virtual machine, waking an idle CPU
 * costs ~40 µs, more than the record's AES).  Only while it pays: after a
 * wait that found nothing, the next SPIN_BACKOFF requests go without.
 * And only while this is the one channel open: the wait holds up the main
 * thread, and with several channels one caller's pace must not decide how
 * long the others (and the bus) wait. */
static gboolean
next_request_soon (SspidChannel *channel)
{
  struct pollfd p = { channel->fd, POLLIN, 0 };
  gint64 until;

  if (channel->fd < 0 || !is_reading (channel)
      || g_hash_table_size (channel->set->open) > 1)
    return FALSE;
  if (channel->spin_backoff > 0)
    {
      channel->spin_backoff--;
      return FALSE;
    }
  /* With a mailbox the caller posts there: watching it is a memory read,
   * where looking at the socket is a system call. */
  if (channel->mailbox != NULL)
    {
      gboolean is_long = sspid_channel_has_idle_cpu ();

      if (channel->is_mailbox_busy || (channel->is_caller_asleep && !is_long))
        return FALSE;
      if (sspid_mailbox_wait_request (channel->mailbox,
                                      is_long ? SPIN_USEC : MAILBOX_SPIN_USEC))
        return TRUE;
    }
  else
    {
      until = g_get_monotonic_time () + SPIN_USEC;
      do
        if (poll (&p, 1, 0) > 0)
          return TRUE;
      while (g_get_monotonic_time () < until);
    }
  channel->spin_backoff = SPIN_BACKOFF;
  return FALSE;
}

static gboolean
channel_source_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  SspidChannel *channel = channel_ref (((ChannelSource *) source)->channel);
  GIOCondition revents = g_source_query_unix_fd (source, channel->tag);
  gboolean may_read = (revents & G_IO_IN) != 0;
  guint batch;

  if (revents & G_IO_OUT)
    {
      if (!flush_out (channel))
        channel_close (channel, "write failed");
    }
  /* Requests are read before a hang-up is believed: SEQPACKET delivers
   * what was sent before the close. */
  /* The write above may have closed the channel, and with it the
   * count of its user's channels. */
  batch = MAX (1, MAX_READ_BATCH / MAX (1, sspid_channels_count_for_uid (channel->set,
                                                                         channel->uid)));
  /* A request is a packet on the socket or a post in the mailbox, which
   * the caller need not announce while we watch it. */
  if (channel->mailbox != NULL)
    sspid_mailbox_watch (channel->mailbox);
  for (guint i = 0; i < batch && channel->fd >= 0 && is_reading (channel); i++)
    {
      if (take_mailbox_request (channel))
        continue;
      /* Once the socket said EAGAIN, only the next poll() looks again. */
      if (may_read && read_one (channel))
        continue;
      may_read = FALSE;
      if (!next_request_soon (channel))
        break;
      may_read = channel->mailbox == NULL;
    }
  if (channel->mailbox != NULL && channel->fd >= 0)
    sspid_mailbox_unwatch (channel->mailbox);
  if (channel->fd >= 0 && (revents & (G_IO_HUP | G_IO_ERR)) && !(revents & G_IO_IN))
    channel_close (channel, NULL);
  update_events (channel);
  channel_unref (channel);
  return G_SOURCE_CONTINUE;
}

static gboolean
channel_source_prepare (GSource *source, gint *timeout)
{
  *timeout = -1;
  return has_mailbox_request_to_take (((ChannelSource *) source)->channel);
}

static gboolean
channel_source_check (GSource *source)
{
  return has_mailbox_request_to_take (((ChannelSource *) source)->channel);
}

static GSourceFuncs channel_source_funcs = {
  .prepare = channel_source_prepare,
  .check = channel_source_check,
  .dispatch = channel_source_dispatch,
};

/* --- open and close ------------------------------------------------------ */

/* Closes the daemon's end: requests still running are answered into the
 * void.  @why is logged (NULL: the caller closed it, nothing to say). */
static void
channel_close (SspidChannel *channel, const char *why)
{
  if (channel->fd < 0)
    return;
  if (why != NULL)
    sspid_caller_log_refusal (channel->caller, "record channel", NULL, 0, "record channel closed: %s", why);
  else
    sspid_caller_log (channel->caller, G_LOG_LEVEL_DEBUG, NULL, 0, "record channel closed");
  g_source_destroy (channel->source);
  g_clear_pointer (&channel->source, g_source_unref);
  if (channel->refuses_fds)
    close (channel->fd);
  else
    {
      /* Unread packets may carry descriptors, closed with our end. */
      shutdown (channel->fd, SHUT_RDWR);
      close_in_background (channel->fd);
    }
  channel->fd = -1;
  g_queue_clear_full (&channel->out, (GDestroyNotify) g_bytes_unref);
  g_clear_pointer (&channel->mailbox, sspid_mailbox_free);
  sspid_caller_detach (channel->caller, channel);
  g_hash_table_remove (channel->set->open, channel);
  count_for_uid_add (channel->set, channel->uid, -1);
  channel_unref (channel);          /* the set's */
}

/* The caller's bus connection is gone (or the daemon is stopping). */
static void
channel_close_with_caller (gpointer object)
{
  channel_close (object, NULL);
}

int
sspid_channels_open (SspidChannels *set, SspidCaller *caller, GError **error)
{
  SspidChannel *channel;
  ChannelSource *source;
  int fds[2];

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
    {
      int e = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "socketpair: %s",
                   g_strerror (e));
      return -1;
    }
  /* Only our end: the caller's end blocks, as its owner expects. */
  if (fcntl (fds[0], F_SETFL, O_NONBLOCK) < 0)
    {
      int e = errno;

      close (fds[0]);
      close (fds[1]);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "fcntl: %s",
                   g_strerror (e));
      return -1;
    }

  channel = g_new0 (SspidChannel, 1);
  /* SSPID_TEST_ACCEPT_FDS: the tests' way to exercise the other path on a
   * kernel that has SO_PASSRIGHTS. */
  if (g_getenv ("SSPID_TEST_ACCEPT_FDS") == NULL)
    channel->refuses_fds = sspid_fd_refuse_passed_fds (fds[0]);
  channel->ref = 1;                 /* the set's, until closed */
  channel->set = set;
  channel->caller = sspid_caller_ref (caller);
  channel->fd = fds[0];
  g_queue_init (&channel->out);
  channel->source = g_source_new (&channel_source_funcs, sizeof (ChannelSource));
  source = (ChannelSource *) channel->source;
  source->channel = channel;
  channel->events = G_IO_IN | G_IO_HUP | G_IO_ERR;
  channel->tag = g_source_add_unix_fd (channel->source, channel->fd, channel->events);
  g_source_set_name (channel->source, "sspid record channel");
  /* GLib blocks a source that cannot recurse for the time of its
   * dispatch: it takes the fd out of the poll set and puts it back, and
   * each of the two signals the main context's wakeup, so every dispatch
   * cost an eventfd write, its read and one more poll() (3 system calls,
   * ~7 µs on this kind of VM; perf showed them as write() under
   * g_main_context_dispatch).  Nothing in our dispatch iterates the main
   * context, so there is nothing to guard against. */
  g_source_set_can_recurse (channel->source, TRUE);
  g_source_attach (channel->source, set->main_context);

  g_hash_table_add (set->open, channel);
  channel->uid = sspid_caller_peek_identity (caller)->uid;
  count_for_uid_add (set, channel->uid, +1);
  sspid_caller_attach (caller, channel, channel_close_with_caller);
  sspid_caller_log (caller, G_LOG_LEVEL_DEBUG, NULL, 0, "record channel opened");
  return fds[1];
}

guint
sspid_channels_count_for_uid (SspidChannels *set, uid_t uid)
{
  return sspid_counts_get (set->uids, SSPID_UID_KEY (uid));
}

guint
sspid_channels_get_n_open (SspidChannels *set)
{
  return g_hash_table_size (set->open);
}

guint64
sspid_channels_get_n_answered (SspidChannels *set)
{
  return set->answered;
}

SspidChannels *
sspid_channels_new (GMainContext *main_context, SspidChannelDispatchFunc dispatch,
                    gpointer dispatch_data)
{
  SspidChannels *set = g_new0 (SspidChannels, 1);

  set->main_context = g_main_context_ref (main_context);
  set->dispatch = dispatch;
  set->dispatch_data = dispatch_data;
  set->open = g_hash_table_new (NULL, NULL);
  set->uids = sspid_counts_new ();
  return set;
}

void
sspid_channels_free (SspidChannels *set)
{
  if (set == NULL)
    return;
  /* Every channel belongs to a caller, and closes with it. */
  g_assert (g_hash_table_size (set->open) == 0);
  g_hash_table_unref (set->open);
  g_hash_table_unref (set->uids);
  g_main_context_unref (set->main_context);
  g_free (set);
}
