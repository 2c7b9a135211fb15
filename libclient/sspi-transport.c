/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libsspi's own D-Bus connection: a blocking unix socket, the EXTERNAL
 * authentication, Hello, and a reader thread that hands every message to
 * the library directly; or, on a socket the daemon handed out, the same
 * without a bus (ANONYMOUS, no Hello).  See sspi-transport.h for why it is not a
 * GDBusConnection.  Message encoding and decoding are GDBusMessage's; only
 * the socket handling and the reply bookkeeping live here.
 */
#include "config.h"

#include "sspi-transport.h"
#include "sspid-error.h"
#include "sspid-fds.h"

#include <gio/gunixfdlist.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

/* The fixed part of a D-Bus message header plus the header array length:
 * enough for g_dbus_message_bytes_needed(). */
#define HEADER_PEEK 16
/* The D-Bus specification's limit on a message. */
#define MAX_MESSAGE (128 * 1024 * 1024)
/* ... and on the fds of one message (dbus-daemon's default is 16). */
#define MAX_MESSAGE_FDS 16
/* What one read can bring (the kernel's SCM_MAX_FD): room for all, so that
 * the kernel never closes the excess in our reader thread. */
#define MAX_PASSED_FDS 253

typedef struct {
  GDBusMessage *reply;
  gboolean      done;
} Waiter;

struct _SspiTransport {
  gint                      refcount;
  int                       fd;
  char                     *unique_name;
  SspiTransportMessageFunc  on_message;
  SspiTransportClosedFunc   on_closed;
  gpointer                  user_data;
  GThread                  *reader;      /* NULL until started */
  gboolean                  has_unix_fds;/* the bus agreed to pass fds */

  GMutex                    write_lock;  /* serials and whole-message writes */
  guint32                   next_serial;

  GMutex                    lock;        /* waiters and closed */
  GCond                     cond;
  GHashTable               *waiters;     /* serial -> Waiter (owned by the caller's stack) */
  gboolean                  closed;

  GQueue                    deferred;    /* reader thread only: read by an inline call */
};

static gboolean
write_all (int fd, const guint8 *data, gsize len, GError **error)
{
  while (len > 0)
    {
      ssize_t n = send (fd, data, len, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                       "write to bus: %s", g_strerror (errno));
          return FALSE;
        }
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}

/* An fd of an SCM_RIGHTS message: into the GArray @data (closed if it is
 * NULL or already full). */
static void
take_fd (int fd, void *data)
{
  GArray *fds = data;

  /* Anyone on the bus may send us a signal with fds, which we close
   * unread, in the reader thread.  (The one fd we expect, a record
   * channel, is an AF_UNIX socket, which does not linger.) */
  sspid_fd_no_linger (fd);
  if (fds != NULL && fds->len < MAX_MESSAGE_FDS)
    g_array_append_val (fds, fd);
  else
    close (fd);
}

/* Reads exactly @len bytes; fds that come along go to @fds (NULL: closed).
 * The kernel never merges the fds of two messages into one read, and we
 * never read past the message we are in. */
static gboolean
read_all_fds (int fd, guint8 *data, gsize len, GArray *fds, GError **error)
{
  while (len > 0)
    {
      union {
        struct cmsghdr align;
        char buf[CMSG_SPACE (sizeof (int) * MAX_PASSED_FDS)];
      } control;
      struct iovec iov = { data, len };
      struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                            .msg_control = control.buf, .msg_controllen = sizeof control.buf };
      ssize_t n = recvmsg (fd, &msg, MSG_CMSG_CLOEXEC);

      if (n < 0 && errno == EINTR)
        continue;
      if (n > 0 || msg.msg_controllen > 0)
        sspid_passed_fds_foreach (&msg, take_fd, fds);
      if (n <= 0)
        {
          g_set_error (error, G_IO_ERROR, n == 0 ? G_IO_ERROR_CLOSED : g_io_error_from_errno (errno),
                       "bus connection closed");
          return FALSE;
        }
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}

static gboolean
read_all (int fd, guint8 *data, gsize len, GError **error)
{
  return read_all_fds (fd, data, len, NULL, error);
}

static void
close_fds (GArray *fds)
{
  for (guint i = 0; i < fds->len; i++)
    close (g_array_index (fds, int, i));
  g_array_set_size (fds, 0);
}

/* Hands the fds that came with @m to it, if it declares exactly that many
 * (a GUnixFDList closes them when the message goes); else closes them. */
static void
attach_fds (GDBusMessage *m, GArray *fds)
{
  if (fds->len == 0)
    return;
  if (g_dbus_message_get_num_unix_fds (m) != fds->len)
    {
      close_fds (fds);
      return;
    }
  {
    g_autoptr(GUnixFDList) list = g_unix_fd_list_new_from_array ((int *) (void *) fds->data,
                                                                 (gint) fds->len);

    g_array_set_size (fds, 0);    /* the list owns them now */
    g_dbus_message_set_unix_fd_list (m, list);
  }
}

/* Waits until @fd is readable or @deadline (monotonic µs, -1 = forever). */
static gboolean
wait_readable (int fd, gint64 deadline, GError **error)
{
  for (;;)
    {
      struct pollfd p = { .fd = fd, .events = POLLIN };
      int timeout = -1;
      int r;

      if (deadline >= 0)
        {
          gint64 left = deadline - g_get_monotonic_time ();
          if (left <= 0)
            break;
          timeout = (int) MIN (left / 1000 + 1, G_MAXINT);
        }
      r = poll (&p, 1, timeout);
      if (r > 0)
        return TRUE;
      if (r < 0 && errno != EINTR)
        {
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "poll: %s", g_strerror (errno));
          return FALSE;
        }
    }
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "no reply from the bus in time");
  return FALSE;
}

static GDBusMessage *
read_message (SspiTransport *t, GError **error)
{
  guint8 head[HEADER_PEEK];
  g_autofree guint8 *blob = NULL;
  g_autoptr(GArray) fds = g_array_new (FALSE, FALSE, sizeof (int));
  GDBusMessage *m;
  gssize needed;

  if (!read_all_fds (t->fd, head, sizeof head, fds, error))
    goto fail;
  needed = g_dbus_message_bytes_needed (head, sizeof head, error);
  if (needed < 0)
    goto fail;
  if (needed < HEADER_PEEK || needed > MAX_MESSAGE)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "bad message size from the bus");
      goto fail;
    }
  blob = g_malloc ((gsize) needed);
  memcpy (blob, head, sizeof head);
  if (!read_all_fds (t->fd, blob + sizeof head, (gsize) needed - sizeof head, fds, error))
    goto fail;
  m = g_dbus_message_new_from_blob (blob, (gsize) needed,
                                    t->has_unix_fds ? G_DBUS_CAPABILITY_FLAGS_UNIX_FD_PASSING
                                                    : G_DBUS_CAPABILITY_FLAGS_NONE, error);
  if (m == NULL)
    goto fail;
  attach_fds (m, fds);
  return m;

fail:
  close_fds (fds);
  return NULL;
}

/* Assigns a serial, registers @waiter under it (if any) and writes. */
static gboolean
send_internal (SspiTransport *t, GDBusMessage *message, Waiter *waiter,
               guint32 *serial_out, GError **error)
{
  g_autofree guchar *blob = NULL;
  gsize size = 0;
  guint32 serial;
  gboolean ok;

  g_mutex_lock (&t->write_lock);
  serial = ++t->next_serial;
  if (serial == 0)
    serial = ++t->next_serial;
  g_dbus_message_set_serial (message, serial);
  blob = g_dbus_message_to_blob (message, &size, G_DBUS_CAPABILITY_FLAGS_NONE, error);
  if (blob == NULL)
    {
      g_mutex_unlock (&t->write_lock);
      return FALSE;
    }
  if (waiter != NULL)
    {
      g_mutex_lock (&t->lock);
      g_hash_table_insert (t->waiters, GUINT_TO_POINTER (serial), waiter);
      g_mutex_unlock (&t->lock);
    }
  ok = write_all (t->fd, blob, size, error);
  g_mutex_unlock (&t->write_lock);
  if (serial_out != NULL)
    *serial_out = serial;
  return ok;
}

static gboolean
is_reply_to (GDBusMessage *m, guint32 serial)
{
  GDBusMessageType type = g_dbus_message_get_message_type (m);

  return (type == G_DBUS_MESSAGE_TYPE_METHOD_RETURN || type == G_DBUS_MESSAGE_TYPE_ERROR) &&
         g_dbus_message_get_reply_serial (m) == serial;
}

static GDBusMessage *
finish_reply (GDBusMessage *reply, GError **error)
{
  if (reply == NULL)
    return NULL;
  /* The domain must be registered before the reply becomes a GError, or
   * an org.sspid1.Error.* would arrive as G_IO_ERROR_DBUS_ERROR. */
  (void) SSPID_ERROR;
  if (g_dbus_message_to_gerror (reply, error))
    {
      g_object_unref (reply);
      return NULL;
    }
  return reply;
}

/* A call answered by reading the socket on this very thread: before the
 * reader thread exists (Hello), or on the reader thread itself (a sync call
 * from inside a callback).  Other messages read meanwhile are kept for the
 * reader loop, in order. */
static GDBusMessage *
call_inline (SspiTransport *t, GDBusMessage *message, gint timeout_ms, GError **error)
{
  gint64 deadline = timeout_ms < 0 ? -1 : g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  guint32 serial;

  if (!send_internal (t, message, NULL, &serial, error))
    return NULL;
  for (;;)
    {
      GDBusMessage *m;

      if (!wait_readable (t->fd, deadline, error))
        return NULL;
      m = read_message (t, error);
      if (m == NULL)
        return NULL;
      if (is_reply_to (m, serial))
        return finish_reply (m, error);
      g_queue_push_tail (&t->deferred, m);
    }
}

static void
dispatch (SspiTransport *t, GDBusMessage *m)
{
  GDBusMessageType type = g_dbus_message_get_message_type (m);

  if (type == G_DBUS_MESSAGE_TYPE_METHOD_RETURN || type == G_DBUS_MESSAGE_TYPE_ERROR)
    {
      Waiter *w;

      g_mutex_lock (&t->lock);
      w = g_hash_table_lookup (t->waiters, GUINT_TO_POINTER (g_dbus_message_get_reply_serial (m)));
      if (w != NULL)
        {
          g_hash_table_remove (t->waiters, GUINT_TO_POINTER (g_dbus_message_get_reply_serial (m)));
          w->reply = m;
          w->done = TRUE;
          g_cond_broadcast (&t->cond);
          g_mutex_unlock (&t->lock);
          return;
        }
      g_mutex_unlock (&t->lock);
    }
  if (t->on_message != NULL)
    t->on_message (t, m, t->user_data);
  g_object_unref (m);
}

static gpointer
reader_main (gpointer data)
{
  SspiTransport *t = data;
  GHashTableIter iter;
  gpointer value;

  for (;;)
    {
      GDBusMessage *m = g_queue_pop_head (&t->deferred);

      if (m == NULL)
        m = read_message (t, NULL);
      if (m == NULL)
        break;
      dispatch (t, m);
    }

  /* The end: no reply will come for anything still waiting. */
  g_mutex_lock (&t->lock);
  t->closed = TRUE;
  g_hash_table_iter_init (&iter, t->waiters);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    ((Waiter *) value)->done = TRUE;
  g_hash_table_remove_all (t->waiters);
  g_cond_broadcast (&t->cond);
  g_mutex_unlock (&t->lock);
  g_queue_clear_full (&t->deferred, g_object_unref);

  if (t->on_closed != NULL)
    t->on_closed (t, t->user_data);
  sspi_transport_unref (t);
  return NULL;
}

/* unix:path=/x or unix:abstract=x, the addresses buses actually use; the
 * connect is a plain syscall, safe in a forked child. */
static int
connect_unix (const char *address, GError **error)
{
  g_auto (GStrv) entries = g_strsplit (address, ";", -1);

  for (gsize i = 0; entries[i] != NULL; i++)
    {
      g_autofree char *path = NULL;
      gboolean abstract = FALSE;
      g_auto (GStrv) kv = NULL;
      struct sockaddr_un sa = { .sun_family = AF_UNIX };
      socklen_t len;
      int fd;

      if (!g_str_has_prefix (entries[i], "unix:"))
        continue;
      kv = g_strsplit (entries[i] + 5, ",", -1);
      for (gsize k = 0; kv[k] != NULL; k++)
        {
          if (g_str_has_prefix (kv[k], "path="))
            path = g_uri_unescape_string (kv[k] + 5, NULL);
          else if (g_str_has_prefix (kv[k], "abstract="))
            {
              path = g_uri_unescape_string (kv[k] + 9, NULL);
              abstract = TRUE;
            }
        }
      if (path == NULL || strlen (path) + 1 > sizeof sa.sun_path - 1)
        continue;
      if (abstract)
        {
          memcpy (sa.sun_path + 1, path, strlen (path));
          len = (socklen_t) (offsetof (struct sockaddr_un, sun_path) + 1 + strlen (path));
        }
      else
        {
          memcpy (sa.sun_path, path, strlen (path) + 1);
          len = (socklen_t) sizeof sa;
        }
      fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0)
        continue;
      if (connect (fd, (struct sockaddr *) &sa, len) == 0)
        return fd;
      close (fd);
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "cannot connect to the bus at %s", address);
  return -1;
}

/* One line of the SASL exchange, without its CRLF. */
static gboolean
read_line (int fd, char *line, gsize size, GError **error)
{
  gsize n = 0;

  while (n < size - 1)
    {
      if (!read_all (fd, (guint8 *) line + n, 1, error))
        return FALSE;
      if (++n >= 2 && line[n - 2] == '\r' && line[n - 1] == '\n')
        {
          n -= 2;
          break;
        }
    }
  line[n] = '\0';
  return TRUE;
}

/* @mechanism's AUTH line, with @data hex-encoded as SASL wants. */
static char *
auth_line (const char *mechanism, const char *data)
{
  g_autoptr(GString) line = g_string_new ("AUTH ");

  g_string_append_printf (line, "%s ", mechanism);
  for (const char *p = data; *p; p++)
    g_string_append_printf (line, "%02x", (unsigned char) *p);
  g_string_append (line, "\r\n");
  return g_string_free (g_steal_pointer (&line), FALSE);
}

/* The SASL exchange with @auth (an AUTH line).  Then ask for fd passing
 * (a record channel or a peer connection comes as an fd); a bus that
 * does not agree is fine, the library then keeps everything on the bus. */
static gboolean
authenticate (int fd, const char *auth, gboolean *has_unix_fds, GError **error)
{
  char line[512];
  static const char negotiate[] = "NEGOTIATE_UNIX_FD\r\n";

  *has_unix_fds = FALSE;
  if (!write_all (fd, (const guint8 *) "", 1, error) ||
      !write_all (fd, (const guint8 *) auth, strlen (auth), error))
    return FALSE;
  if (!read_line (fd, line, sizeof line, error))
    return FALSE;
  if (!g_str_has_prefix (line, "OK "))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   "the bus refused authentication: %s", line);
      return FALSE;
    }
  if (!write_all (fd, (const guint8 *) negotiate, strlen (negotiate), error) ||
      !read_line (fd, line, sizeof line, error))
    return FALSE;
  *has_unix_fds = g_str_equal (line, "AGREE_UNIX_FD");
  return write_all (fd, (const guint8 *) "BEGIN\r\n", 7, error);
}

static SspiTransport *
transport_new (SspiTransportMessageFunc on_message, SspiTransportClosedFunc on_closed,
               gpointer user_data)
{
  SspiTransport *t = g_new0 (SspiTransport, 1);

  t->refcount = 1;
  t->fd = -1;
  g_mutex_init (&t->write_lock);
  g_mutex_init (&t->lock);
  g_cond_init (&t->cond);
  g_queue_init (&t->deferred);
  t->waiters = g_hash_table_new (NULL, NULL);
  t->on_message = on_message;
  t->on_closed = on_closed;
  t->user_data = user_data;
  return t;
}

/* Starts the reader thread, named @name; FALSE if it could not be. */
static gboolean
transport_start_reader (SspiTransport *t, const char *name, GError **error)
{
  t->reader = g_thread_try_new (name, reader_main, sspi_transport_ref (t), error);
  if (t->reader == NULL)
    {
      sspi_transport_unref (t);   /* the reference meant for the thread */
      return FALSE;
    }
  return TRUE;
}

SspiTransport *
sspi_transport_connect (const char *address, SspiTransportMessageFunc on_message,
                        SspiTransportClosedFunc on_closed, gpointer user_data,
                        GError **error)
{
  g_autoptr (SspiTransport) t = transport_new (on_message, on_closed, user_data);
  g_autoptr (GDBusMessage) hello = NULL;
  g_autoptr (GDBusMessage) reply = NULL;
  g_autofree char *uid = g_strdup_printf ("%u", (unsigned) geteuid ());
  g_autofree char *auth = auth_line ("EXTERNAL", uid);
  GVariant *body;

  /* EXTERNAL: the bus learns who we are from the socket itself. */
  t->fd = connect_unix (address, error);
  if (t->fd < 0 || !authenticate (t->fd, auth, &t->has_unix_fds, error))
    return NULL;

  hello = g_dbus_message_new_method_call ("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                          "org.freedesktop.DBus", "Hello");
  reply = call_inline (t, hello, 25000, error);
  if (reply == NULL)
    return NULL;
  body = g_dbus_message_get_body (reply);
  if (body == NULL || !g_variant_is_of_type (body, G_VARIANT_TYPE ("(s)")))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "bad Hello reply");
      return NULL;
    }
  g_variant_get (body, "(s)", &t->unique_name);

  if (!transport_start_reader (t, "sspi-bus", error))
    return NULL;
  return g_steal_pointer (&t);
}

/* Sets how long a blocking send or receive on @fd may wait (0: forever). */
static void
set_io_timeout (int fd, guint timeout_ms)
{
  struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

  (void) setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void) setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

SspiTransport *
sspi_transport_new_for_peer (int fd, guint auth_timeout_ms,
                             SspiTransportMessageFunc on_message,
                             SspiTransportClosedFunc on_closed, gpointer user_data,
                             GError **error)
{
  g_autoptr (SspiTransport) t = transport_new (on_message, on_closed, user_data);
  g_autofree char *auth = auth_line ("ANONYMOUS", "libsspi");

  /* ANONYMOUS: the server knows who we are from the bus that handed us
   * the socket, and a socket pair's own credentials would be the
   * daemon's.  A server that does not answer in time is given up on. */
  t->fd = fd;
  set_io_timeout (fd, auth_timeout_ms);
  if (!authenticate (t->fd, auth, &t->has_unix_fds, error))
    return NULL;
  set_io_timeout (fd, 0);
  if (!transport_start_reader (t, "sspi-peer", error))
    return NULL;
  return g_steal_pointer (&t);
}

int
sspi_transport_call_for_fd (SspiTransport *t, GDBusMessage *message, gint timeout_ms,
                            GError **error)
{
  g_autoptr(GDBusMessage) reply = sspi_transport_call_sync (t, message, timeout_ms, error);
  GUnixFDList *fds;
  GVariant *body;
  gint32 index;

  if (reply == NULL)
    return -1;
  body = g_dbus_message_get_body (reply);
  fds = g_dbus_message_get_unix_fd_list (reply);
  if (body == NULL || !g_variant_is_of_type (body, G_VARIANT_TYPE ("(h)")) || fds == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "malformed reply");
      return -1;
    }
  g_variant_get (body, "(h)", &index);
  return g_unix_fd_list_get (fds, index, error);   /* a close-on-exec dup */
}

SspiTransport *
sspi_transport_ref (SspiTransport *t)
{
  g_atomic_int_inc (&t->refcount);
  return t;
}

void
sspi_transport_unref (SspiTransport *t)
{
  if (t == NULL || !g_atomic_int_dec_and_test (&t->refcount))
    return;
  if (t->reader != NULL)
    g_thread_unref (t->reader);
  if (t->fd >= 0)
    close (t->fd);
  g_queue_clear_full (&t->deferred, g_object_unref);
  g_hash_table_unref (t->waiters);
  g_mutex_clear (&t->write_lock);
  g_mutex_clear (&t->lock);
  g_cond_clear (&t->cond);
  g_free (t->unique_name);
  g_free (t);
}

const char *
sspi_transport_get_unique_name (SspiTransport *t)
{
  return t->unique_name;
}

gboolean
sspi_transport_has_unix_fds (SspiTransport *t)
{
  return t->has_unix_fds;
}

gboolean
sspi_transport_is_closed (SspiTransport *t)
{
  gboolean closed;

  g_mutex_lock (&t->lock);
  closed = t->closed;
  g_mutex_unlock (&t->lock);
  return closed;
}

gboolean
sspi_transport_send (SspiTransport *t, GDBusMessage *message, GError **error)
{
  if (sspi_transport_is_closed (t))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "bus connection closed");
      return FALSE;
    }
  return send_internal (t, message, NULL, NULL, error);
}

GDBusMessage *
sspi_transport_call_sync (SspiTransport *t, GDBusMessage *message, gint timeout_ms,
                          GError **error)
{
  gint64 deadline = timeout_ms < 0 ? G_MAXINT64 : g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  Waiter w = { NULL, FALSE };
  guint32 serial = 0;

  if (g_thread_self () == t->reader)
    return call_inline (t, message, timeout_ms, error);
  if (sspi_transport_is_closed (t))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "bus connection closed");
      return NULL;
    }
  if (!send_internal (t, message, &w, &serial, error))
    {
      g_mutex_lock (&t->lock);
      g_hash_table_remove (t->waiters, GUINT_TO_POINTER (serial));
      g_mutex_unlock (&t->lock);
      return NULL;
    }

  g_mutex_lock (&t->lock);
  while (!w.done)
    if (!g_cond_wait_until (&t->cond, &t->lock, deadline))
      break;
  if (!w.done)
    g_hash_table_remove (t->waiters, GUINT_TO_POINTER (serial));
  g_mutex_unlock (&t->lock);

  if (w.reply == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, w.done ? G_IO_ERROR_CLOSED : G_IO_ERROR_TIMED_OUT,
                           w.done ? "bus connection closed" : "no reply in time");
      return NULL;
    }
  return finish_reply (w.reply, error);
}

void
sspi_transport_close (SspiTransport *t)
{
  /* shutdown() rather than close(): the reader thread still holds the fd
   * and must see the end of the stream, not a recycled descriptor. */
  if (t->fd >= 0)
    shutdown (t->fd, SHUT_RDWR);
}

void
sspi_transport_abandon_after_fork (SspiTransport *t)
{
  if (t != NULL && t->fd >= 0)
    close (t->fd);
}
