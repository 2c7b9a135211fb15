/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The process-wide session with sspid: libsspi's own bus connection
 * (sspi-transport.c: never the application's bus connection, and usable
 * again after fork()), the daemon's unique name learnt from Hello, and the
 * transport's reader thread, on which Completed signals are handled and
 * notify callbacks run.
 *
 * A session lives until the daemon goes away (its name loses its owner),
 * the bus connection closes, or the process forks.  Then the generation is
 * bumped so every handle issued before becomes invalid, every pending call
 * completes at once with SEC_E_NO_AUTHENTICATING_AUTHORITY (on the
 * session's reader thread, where callbacks belong), and the next call
 * connects afresh; in a forked child that is a new connection of its own.
 */

#include "config.h"

#include <pthread.h>
#include <string.h>

#include <gio/gunixfdlist.h>

#include "sspi-private.h"
#include "sspi-transport.h"
#include "sspid-channel.h"

/* Hello may start the daemon by D-Bus activation: allow for that. */
#define HELLO_TIMEOUT_MS 25000
/* A synchronous step can queue behind other callers' work in the daemon's
 * worker pool; the daemon enforces its own handshake timeout, and if it dies
 * the bus answers at once, so this only guards against a hung daemon. */
#define CALL_TIMEOUT_MS 120000

struct _SspiSession {
  gint           ref_count;
  SspiTransport *transport;
  char          *daemon_name;   /* unique name of the daemon that said Hello */
  guint64        instance;
  guint          generation;
  /* Calls taken from the session by a caller that found it closed before
   * its reader thread did; the reader fails them in on_closed. */
  GPtrArray     *orphaned;
  /* The record channel: opened at the first record call, used by one
   * thread at a time (channel_lock; state_lock, taken inside it, guards
   * the pointer against fork()). */
  GMutex         channel_lock;
  SspiChannel   *channel;
  gboolean       is_channel_unavailable;  /* stay on the bus */
};

/* Protects current, generation, the pending table and async contexts. */
static GMutex state_lock;
/* Serialises connecting, so that two threads never build two sessions.  Never
 * taken while state_lock is held. */
static GMutex connect_lock;

static SspiSession *current;      /* owns a reference */
static guint generation = 1;      /* 0 is never a valid generation */
static guint64 last_call_id;

void
sspi_lock (void)
{
  g_mutex_lock (&state_lock);
}

void
sspi_unlock (void)
{
  g_mutex_unlock (&state_lock);
}

guint
sspi_generation_get (void)
{
  guint g;

  sspi_lock ();
  g = generation;
  sspi_unlock ();
  return g;
}

guint64
sspi_call_id_next (void)
{
  return __atomic_add_fetch (&last_call_id, 1, __ATOMIC_RELAXED);
}

SECURITY_STATUS
sspi_handle_unpack (const SecHandle *h, SspiHandleKind kind, guint64 *value,
                    guint *gen)
{
  guint g;

  if (h == NULL || h->dwLower == 0)
    return SEC_E_INVALID_HANDLE;
  if ((h->dwUpper & 0xff) != (ULONG_PTR) kind)
    return SEC_E_INVALID_HANDLE;
  g = (guint) (h->dwUpper >> 8);
  if ((ULONG_PTR) g != (h->dwUpper >> 8) || g != sspi_generation_get ())
    return SEC_E_INVALID_HANDLE;
  *value = (guint64) h->dwLower;
  *gen = g;
  return SEC_E_OK;
}

void
sspi_handle_pack (SecHandle *h, SspiHandleKind kind, guint64 value,
                  guint gen)
{
  G_STATIC_ASSERT (sizeof (ULONG_PTR) >= sizeof (guint64));

  h->dwLower = (ULONG_PTR) value;
  h->dwUpper = ((ULONG_PTR) gen << 8) | (ULONG_PTR) kind;
}

SspiSession *
sspi_session_ref (SspiSession *s)
{
  g_atomic_int_inc (&s->ref_count);
  return s;
}

void
sspi_session_unref (SspiSession *s)
{
  if (!g_atomic_int_dec_and_test (&s->ref_count))
    return;
  g_clear_pointer (&s->transport, sspi_transport_unref);
  g_clear_pointer (&s->orphaned, g_ptr_array_unref);
  g_clear_pointer (&s->channel, sspi_channel_free);
  g_mutex_clear (&s->channel_lock);
  g_free (s->daemon_name);
  g_free (s);
}

guint
sspi_session_get_generation (SspiSession *s)
{
  return s->generation;
}

gboolean
sspi_session_is_current_locked (SspiSession *s)
{
  return s == current;
}

/* Detaches @s if it is the live session: from now on no call can be
 * registered on it and its handles are stale.  Returns its pending calls,
 * or NULL if @s was not live (already detached).  Lock held. */
static GPtrArray *
session_detach_locked (SspiSession *s)
{
  if (current != s)
    return NULL;
  current = NULL;
  generation++;
  return sspi_async_steal_pending_locked ();
}

/* Completes a detached session's calls and closes it.  Runs on @s's reader
 * thread; consumes the reference current had. */
static void
session_finish (SspiSession *s, GPtrArray *pending)
{
  g_debug ("session with %s ended; failing %u pending call(s)",
           s->daemon_name, pending->len);
  sspi_transport_close (s->transport);
  /* Callbacks may start the next session right here. */
  sspi_async_fail_pending (pending, SEC_E_NO_AUTHENTICATING_AUTHORITY);
  sspi_session_unref (s);
}

/* The daemon or the bus went away: the session is dead.  Runs on @s's
 * reader thread. */
static void
session_teardown (SspiSession *s)
{
  GPtrArray *pending;

  sspi_lock ();
  pending = session_detach_locked (s);
  if (pending == NULL && s->orphaned != NULL)
    pending = g_steal_pointer (&s->orphaned);
  sspi_unlock ();
  if (pending != NULL)
    session_finish (s, pending);
}

static void
on_closed (SspiTransport *t, gpointer user_data)
{
  SspiSession *s = user_data;

  session_teardown (s);
  sspi_session_unref (s);   /* the transport's reference */
}

static void
on_message (SspiTransport *t, GDBusMessage *m, gpointer user_data)
{
  SspiSession *s = user_data;
  const char *member = g_dbus_message_get_member (m);
  const char *sender = g_dbus_message_get_sender (m);
  GVariant *body = g_dbus_message_get_body (m);

  if (g_dbus_message_get_message_type (m) != G_DBUS_MESSAGE_TYPE_SIGNAL || body == NULL)
    return;
  if (g_strcmp0 (member, SSPID_SIGNAL_COMPLETED) == 0)
    {
      /* Any peer on the bus can address a signal to us: believe only the
       * daemon we said Hello to. */
      if (g_strcmp0 (sender, s->daemon_name) == 0 &&
          g_strcmp0 (g_dbus_message_get_path (m), SSPID_OBJECT_PATH) == 0 &&
          g_strcmp0 (g_dbus_message_get_interface (m), SSPID_INTERFACE) == 0 &&
          g_variant_is_of_type (body, G_VARIANT_TYPE (SSPID_COMPLETED_TYPE)))
        sspi_async_dispatch_completed (s, body);
      return;
    }
  if (g_strcmp0 (member, "NameOwnerChanged") == 0 &&
      g_strcmp0 (sender, "org.freedesktop.DBus") == 0 &&
      g_variant_is_of_type (body, G_VARIANT_TYPE ("(sss)")))
    {
      const char *name, *old_owner, *new_owner;

      g_variant_get (body, "(&s&s&s)", &name, &old_owner, &new_owner);
      /* Exit, crash and --replace all take the name from the daemon we know. */
      if (g_strcmp0 (name, SSPID_BUS_NAME) == 0 && s->daemon_name != NULL &&
          g_strcmp0 (old_owner, s->daemon_name) == 0)
        sspi_transport_close (s->transport);   /* on_closed tears down */
    }
}

static GDBusMessage *
bus_call (SspiSession *s, const char *destination, const char *path,
          const char *interface, const char *method, GVariant *params,
          gint timeout_ms, GError **error)
{
  g_autoptr(GDBusMessage) call = g_dbus_message_new_method_call (destination, path, interface, method);

  if (params != NULL)
    g_dbus_message_set_body (call, params);
  return sspi_transport_call_sync (s->transport, call, timeout_ms, error);
}

static gboolean
session_hello (SspiSession *s, GError **error)
{
  g_autoptr(GDBusMessage) watch = NULL;
  g_autoptr(GDBusMessage) reply = NULL;
  GVariant *body;
  const char *sender;

  /* Before Hello, so a daemon that dies right after answering is seen.  A
   * unicast Completed needs no match rule; NameOwnerChanged does. */
  watch = bus_call (s, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                    "AddMatch", g_variant_new ("(s)", "type='signal',sender='org.freedesktop.DBus',"
                                               "interface='org.freedesktop.DBus',member='NameOwnerChanged',"
                                               "path='/org/freedesktop/DBus',arg0='" SSPID_BUS_NAME "'"),
                    HELLO_TIMEOUT_MS, error);
  if (watch == NULL)
    return FALSE;

  /* To the well-known name, so that the bus activates the daemon; the
   * reply's sender is the daemon's unique name. */
  reply = bus_call (s, SSPID_BUS_NAME, SSPID_OBJECT_PATH, SSPID_INTERFACE, "Hello", NULL,
                    HELLO_TIMEOUT_MS, error);
  if (reply == NULL)
    return FALSE;
  body = g_dbus_message_get_body (reply);
  sender = g_dbus_message_get_sender (reply);
  if (body == NULL || !g_variant_is_of_type (body, G_VARIANT_TYPE ("(st)"))
      || sender == NULL || sender[0] != ':')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "malformed Hello reply");
      return FALSE;
    }
  g_variant_get (body, "(&st)", NULL, &s->instance);
  sspi_lock ();
  s->daemon_name = g_strdup (sender);
  sspi_unlock ();
  return TRUE;
}

static char *
bus_address (GError **error)
{
  const char *env = g_getenv (SSPID_BUS_ADDRESS_ENV);

  if (env != NULL && env[0] != '\0')
    return g_strdup (env);
  return g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SYSTEM, NULL, error);
}

/* Connects and says Hello.  Runs on the connecting thread with
 * connect_lock held. */
static SspiSession *
session_connect (GError **error)
{
  g_autoptr(SspiSession) s = NULL;
  g_autofree char *address = bus_address (error);

  if (address == NULL)
    return NULL;

  s = g_new0 (SspiSession, 1);
  s->ref_count = 1;
  g_mutex_init (&s->channel_lock);
  /* A debugging knob: records over the bus, as before the channel. */
  s->is_channel_unavailable = g_strcmp0 (g_getenv ("SSPI_RECORD_CHANNEL"), "0") == 0;
  /* The transport holds a reference until its on_closed has run. */
  s->transport = sspi_transport_connect (address, on_message, on_closed,
                                         sspi_session_ref (s), error);
  if (s->transport == NULL)
    {
      sspi_session_unref (s);
      return NULL;
    }
  if (!session_hello (s, error))
    {
      sspi_transport_close (s->transport);
      return NULL;
    }
  return g_steal_pointer (&s);
}

static void
atfork_prepare (void)
{
  /* So that the child inherits a consistent table and session pointer. */
  g_mutex_lock (&state_lock);
  sspi_cache_atfork_prepare ();
}

static void
atfork_parent (void)
{
  sspi_cache_atfork_parent ();
  g_mutex_unlock (&state_lock);
}

static void
atfork_child (void)
{
  /* The parent's session is not ours: its reader thread does not exist
   * here and its locks may be held by threads that vanished.  Close only
   * our copy of its socket (the parent's stream stays intact) and leak the
   * rest on purpose; the next call connects afresh. */
  if (current != NULL)
    {
      sspi_transport_abandon_after_fork (current->transport);
      /* The channel acts for the parent's connection: never ours. */
      sspi_channel_abandon_after_fork (current->channel);
    }
  current = NULL;
  generation++;
  /* Those calls belong to the parent; it gets their answers. */
  sspi_async_forget_pending_locked ();
  /* Another thread may have been connecting when we forked. */
  g_mutex_init (&connect_lock);
  sspi_cache_atfork_child ();
  g_mutex_unlock (&state_lock);
}

static gpointer
install_atfork (gpointer data)
{
  pthread_atfork (atfork_prepare, atfork_parent, atfork_child);
  return NULL;
}

/* The live session in *out, if there is one.  A session whose connection
 * closed (the bus went away) is detached here so this caller can connect
 * afresh; its calls are failed by its own reader thread. */
static gboolean
peek_current (SspiSession **out)
{
  sspi_lock ();
  if (current != NULL && sspi_transport_is_closed (current->transport))
    {
      SspiSession *s = current;
      GPtrArray *pending = session_detach_locked (s);

      /* current's reference goes with them: session_finish drops it. */
      if (pending != NULL)
        s->orphaned = pending;
    }
  *out = current != NULL ? sspi_session_ref (current) : NULL;
  sspi_unlock ();
  return *out != NULL;
}

SECURITY_STATUS
sspi_session_get (SspiSession **out)
{
  static GOnce atfork_once = G_ONCE_INIT;
  g_autoptr(GError) error = NULL;
  SspiSession *s;

  g_once (&atfork_once, install_atfork, NULL);

  if (peek_current (out))
    return SEC_E_OK;

  g_mutex_lock (&connect_lock);
  if (peek_current (out))   /* another thread connected meanwhile */
    {
      g_mutex_unlock (&connect_lock);
      return SEC_E_OK;
    }
  s = session_connect (&error);
  if (s != NULL)
    {
      sspi_lock ();
      s->generation = generation;
      current = sspi_session_ref (s);
      sspi_unlock ();
    }
  g_mutex_unlock (&connect_lock);
  if (s == NULL)
    {
      if (error != NULL)
        g_debug ("cannot reach %s: %s", SSPID_BUS_NAME, error->message);
      return SEC_E_NO_AUTHENTICATING_AUTHORITY;
    }
  /* The daemon may have gone between Hello and now: then the reader has
   * already closed the transport and the next call starts over. */
  g_debug ("connected to %s (instance %" G_GINT64_MODIFIER "x)",
           s->daemon_name, s->instance);
  *out = s;
  return SEC_E_OK;
}

SECURITY_STATUS
sspi_context_session (const SecHandle *h, SspiSession **s, guint64 *context,
                      guint *gen)
{
  return sspi_handle_session (h, SSPI_HANDLE_CONTEXT, s, context, gen);
}

SECURITY_STATUS
sspi_handle_session (const SecHandle *h, SspiHandleKind kind, SspiSession **s,
                     guint64 *value, guint *gen)
{
  g_autoptr(SspiSession) session = NULL;
  SECURITY_STATUS status;

  status = sspi_handle_unpack (h, kind, value, gen);
  if (status != SEC_E_OK)
    return status;
  status = sspi_session_get (&session);
  if (status != SEC_E_OK)
    return status;
  /* The session died (and a new one began) since the handle was checked. */
  if (*gen != sspi_session_get_generation (session))
    return SEC_E_INVALID_HANDLE;
  *s = g_steal_pointer (&session);
  return SEC_E_OK;
}

gboolean
sspi_session_send (SspiSession *s, const char *method, GVariant *params)
{
  g_autoptr(GDBusMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  message = g_dbus_message_new_method_call (s->daemon_name, SSPID_OBJECT_PATH,
                                            SSPID_INTERFACE, method);
  g_dbus_message_set_body (message, params);
  /* The answer is the Completed signal: one message each way. */
  g_dbus_message_set_flags (message, G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED);
  if (!sspi_transport_send (s->transport, message, &error))
    {
      g_debug ("cannot send %s: %s", method, error->message);
      return FALSE;
    }
  return TRUE;
}

static SECURITY_STATUS
status_from_error (const GError *error)
{
  g_autofree char *name = NULL;

  if (g_dbus_error_is_remote_error (error))
    name = g_dbus_error_get_remote_error (error);
  if (g_strcmp0 (name, SSPID_ERROR_LIMIT) == 0)
    return SEC_E_INSUFFICIENT_MEMORY;
  if (g_strcmp0 (name, SSPID_ERROR_INVALID_ARGS) == 0)
    return SEC_E_INVALID_PARAMETER;
  if (g_strcmp0 (name, SSPID_ERROR_INTERNAL) == 0)
    return SEC_E_INTERNAL_ERROR;
  /* Daemon gone, refused by policy, timed out, connection closed. */
  return SEC_E_NO_AUTHENTICATING_AUTHORITY;
}

GVariant *
sspi_session_call (SspiSession *s, const char *method, GVariant *params,
                   const char *reply_type, SECURITY_STATUS *status)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusMessage) reply = NULL;
  g_autoptr(GDBusMessage) call = NULL;
  GVariant *body;

  /* Works on any thread, the reader thread (inside a notify callback)
   * included: the transport then reads the reply inline. */
  call = g_dbus_message_new_method_call (s->daemon_name, SSPID_OBJECT_PATH,
                                         SSPID_INTERFACE, method);
  if (params != NULL)
    g_dbus_message_set_body (call, params);
  g_dbus_message_set_flags (call, G_DBUS_MESSAGE_FLAGS_NO_AUTO_START);
  reply = sspi_transport_call_sync (s->transport, call, CALL_TIMEOUT_MS, &error);
  if (reply == NULL)
    {
      g_debug ("%s failed: %s", method, error->message);
      *status = status_from_error (error);
      return NULL;
    }
  body = g_dbus_message_get_body (reply);
  if (body == NULL || !g_variant_is_of_type (body, G_VARIANT_TYPE (reply_type)))
    {
      g_debug ("%s: unexpected reply type", method);
      *status = SEC_E_INTERNAL_ERROR;
      return NULL;
    }
  return g_variant_ref (body);
}

/* Asks the daemon for a record channel; NULL if it cannot give one (an
 * older daemon, a bus without fd passing, a limit). */
static SspiChannel *
open_channel (SspiSession *s)
{
  g_autoptr(GDBusMessage) call = NULL;
  g_autoptr(GDBusMessage) reply = NULL;
  g_autoptr(GError) error = NULL;
  GUnixFDList *fds;
  GVariant *body;
  gint32 index;
  int fd;

  if (!sspi_transport_has_unix_fds (s->transport))
    return NULL;
  call = g_dbus_message_new_method_call (s->daemon_name, SSPID_OBJECT_PATH, SSPID_INTERFACE,
                                         SSPID_METHOD_OPEN_RECORD_CHANNEL);
  g_dbus_message_set_flags (call, G_DBUS_MESSAGE_FLAGS_NO_AUTO_START);
  reply = sspi_transport_call_sync (s->transport, call, CALL_TIMEOUT_MS, &error);
  if (reply == NULL)
    {
      g_debug ("no record channel: %s", error->message);
      return NULL;
    }
  body = g_dbus_message_get_body (reply);
  fds = g_dbus_message_get_unix_fd_list (reply);
  if (body == NULL || !g_variant_is_of_type (body, G_VARIANT_TYPE ("(h)")) || fds == NULL)
    {
      g_debug ("no record channel: malformed reply");
      return NULL;
    }
  g_variant_get (body, "(h)", &index);
  fd = g_unix_fd_list_get (fds, index, &error);   /* a close-on-exec dup */
  if (fd < 0)
    {
      g_debug ("no record channel: %s", error->message);
      return NULL;
    }
  return sspi_channel_new (fd, CALL_TIMEOUT_MS);
}

/* Replaces @s's channel (freeing the old one) under state_lock, which
 * fork() holds: a child sees either the old channel, which atfork_child
 * closes, or none, and never one half closed. */
static void
set_channel (SspiSession *s, SspiChannel *channel)
{
  g_mutex_lock (&state_lock);
  g_clear_pointer (&s->channel, sspi_channel_free);
  s->channel = channel;
  g_mutex_unlock (&state_lock);
}

GVariant *
sspi_session_record_call (SspiSession *s, guint16 op, const char *method,
                          GVariant *params, const char *reply_type,
                          SECURITY_STATUS *status)
{
  g_autoptr(GVariant) sunk = g_variant_ref_sink (params);
  g_autoptr(GError) error = NULL;
  GVariant *reply;

  g_mutex_lock (&s->channel_lock);
  if (s->channel == NULL && !s->is_channel_unavailable)
    {
      SspiChannel *channel = open_channel (s);

      set_channel (s, channel);
      s->is_channel_unavailable = channel == NULL;
    }
  if (s->channel == NULL)
    {
      g_mutex_unlock (&s->channel_lock);
      return sspi_session_call (s, method, sunk, reply_type, status);
    }
  reply = sspi_channel_call (s->channel, op, sunk, reply_type, &error);
  if (reply == NULL)
    {
      /* The daemon went away (or broke the channel): this call fails as a
       * bus call would; the next one asks for a new channel. */
      g_debug ("%s failed: %s", method, error->message);
      set_channel (s, NULL);
      *status = SEC_E_NO_AUTHENTICATING_AUTHORITY;
    }
  g_mutex_unlock (&s->channel_lock);
  return reply;
}
