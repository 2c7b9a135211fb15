/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The process-wide session with sspid: a private D-Bus connection (never the
 * application's shared bus connection), the daemon's unique name learnt from
 * Hello, and a library-owned thread running a private GMainContext on which
 * Completed signals are dispatched and notify callbacks run.
 *
 * A session lives until the daemon goes away (its name loses its owner),
 * the bus connection closes, or the process forks.  Then the generation is
 * bumped so every handle issued before becomes invalid, every pending call
 * completes at once with SEC_E_NO_AUTHENTICATING_AUTHORITY, and the next
 * call connects afresh.
 *
 * Why a thread (and context) per session rather than one for the life of
 * the process: GDBus emits a connection's "closed" signal and dispatches its
 * signal subscriptions in the thread-default context current when they were
 * made, and g_main_context_push_thread_default() refuses a context another
 * thread is running.  So everything is set up on the connecting thread with
 * a fresh, not yet running context pushed, and only then is the thread
 * started.  A session's thread exits once the session is torn down.
 */

#include "config.h"

#include <pthread.h>
#include <string.h>

#include "sspi-private.h"

/* Hello may start the daemon by D-Bus activation: allow for that. */
#define HELLO_TIMEOUT_MS 25000
/* A synchronous step can queue behind other callers' work in the daemon's
 * worker pool; the daemon enforces its own handshake timeout, and if it dies
 * the bus answers at once, so this only guards against a hung daemon. */
#define CALL_TIMEOUT_MS 120000

struct _SspiSession {
  gint             ref_count;
  GDBusConnection *connection;
  GMainContext    *context;
  GMainLoop       *loop;
  char            *daemon_name;   /* unique name of the daemon that said Hello */
  guint64          instance;
  guint            generation;
  guint            owner_subscription;
  guint            completed_subscription;
  gulong           closed_handler;
};

/* Protects current, generation, the pending table and async contexts. */
static GMutex state_lock;
/* Serialises connecting, so that two threads never build two sessions.  Never
 * taken while state_lock is held. */
static GMutex connect_lock;

static SspiSession *current;      /* owns a reference */
static guint generation = 1;      /* 0 is never a valid generation */
static guint64 last_call_id;
/* GDBus cannot be used in the child of a fork once the parent used it (see
 * atfork_child): these say whether that is the case. */
static gboolean gdbus_used;
static gboolean gdbus_unusable;

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
  g_clear_object (&s->connection);
  g_clear_pointer (&s->loop, g_main_loop_unref);
  g_clear_pointer (&s->context, g_main_context_unref);
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

/* Stops every dispatch to @s and closes its connection.  Runs on the thread
 * that made the subscriptions or on @s's own thread. */
static void
session_disconnect (SspiSession *s)
{
  if (s->connection == NULL)
    return;
  if (s->completed_subscription != 0)
    g_dbus_connection_signal_unsubscribe (s->connection, s->completed_subscription);
  if (s->owner_subscription != 0)
    g_dbus_connection_signal_unsubscribe (s->connection, s->owner_subscription);
  if (s->closed_handler != 0)
    g_signal_handler_disconnect (s->connection, s->closed_handler);
  s->completed_subscription = s->owner_subscription = 0;
  s->closed_handler = 0;
  g_dbus_connection_close (s->connection, NULL, NULL, NULL);
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

/* Completes a detached session's calls, closes it and stops its thread.
 * Runs on @s's thread; consumes the reference current had. */
static void
session_finish (SspiSession *s, GPtrArray *pending)
{
  g_debug ("session with %s ended; failing %u pending call(s)",
           s->daemon_name, pending->len);
  session_disconnect (s);
  /* Callbacks may start the next session (on a new thread) right here. */
  sspi_async_fail_pending (pending, SEC_E_NO_AUTHENTICATING_AUTHORITY);
  g_main_loop_quit (s->loop);
  sspi_session_unref (s);
}

/* The daemon or the bus went away: the session is dead.  Runs on @s's
 * thread (the only place its signals are dispatched). */
static void
session_teardown (SspiSession *s)
{
  GPtrArray *pending;

  sspi_lock ();
  pending = session_detach_locked (s);
  sspi_unlock ();
  if (pending != NULL)
    session_finish (s, pending);
}

typedef struct {
  SspiSession *s;
  GPtrArray   *pending;
} Finish;

static gboolean
finish_in_idle (gpointer data)
{
  Finish *f = data;

  session_finish (f->s, f->pending);
  g_free (f);
  return G_SOURCE_REMOVE;
}

/* A caller found current's connection closed before its thread handled
 * "closed" (e.g. the bus restarted): detach it now so this caller can
 * connect afresh, and leave the rest to the session's thread, where
 * callbacks belong.  Lock held. */
static void
session_detach_closed_locked (SspiSession *s)
{
  g_autoptr(GSource) idle = NULL;
  Finish *f;

  f = g_new0 (Finish, 1);
  f->s = s;
  f->pending = session_detach_locked (s);
  idle = g_idle_source_new ();
  g_source_set_callback (idle, finish_in_idle, f, NULL);
  g_source_attach (idle, s->context);
}

static void
on_closed (GDBusConnection *connection, gboolean remote_peer_vanished,
           GError *error, gpointer user_data)
{
  session_teardown (user_data);
}

static void
on_name_owner_changed (GDBusConnection *connection, const char *sender,
                       const char *path, const char *interface,
                       const char *signal, GVariant *params,
                       gpointer user_data)
{
  SspiSession *s = user_data;
  const char *name, *old_owner, *new_owner;

  if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(sss)")))
    return;
  g_variant_get (params, "(&s&s&s)", &name, &old_owner, &new_owner);
  /* Exit, crash and --replace all take the name from the daemon we know. */
  if (g_strcmp0 (name, SSPID_BUS_NAME) == 0
      && g_strcmp0 (old_owner, s->daemon_name) == 0)
    session_teardown (s);
}

static void
on_completed (GDBusConnection *connection, const char *sender,
              const char *path, const char *interface, const char *signal,
              GVariant *params, gpointer user_data)
{
  SspiSession *s = user_data;

  /* Any peer on the bus can address a signal to us: believe only the daemon
   * we said Hello to.  (GDBus filters on these too; this is cheap.) */
  if (g_strcmp0 (sender, s->daemon_name) != 0
      || g_strcmp0 (path, SSPID_OBJECT_PATH) != 0
      || g_strcmp0 (interface, SSPID_INTERFACE) != 0
      || !g_variant_is_of_type (params, G_VARIANT_TYPE (SSPID_COMPLETED_TYPE)))
    return;
  sspi_async_dispatch_completed (s, params);
}

static gboolean
session_hello (SspiSession *s, GError **error)
{
  g_autoptr(GDBusMessage) call = NULL;
  g_autoptr(GDBusMessage) reply = NULL;
  GVariant *body;
  const char *sender;

  /* To the well-known name, so that the bus activates the daemon; the
   * reply's sender is the daemon's unique name. */
  call = g_dbus_message_new_method_call (SSPID_BUS_NAME, SSPID_OBJECT_PATH,
                                         SSPID_INTERFACE, "Hello");
  reply = g_dbus_connection_send_message_with_reply_sync (
      s->connection, call, G_DBUS_SEND_MESSAGE_FLAGS_NONE, HELLO_TIMEOUT_MS,
      NULL, NULL, error);
  if (reply == NULL || g_dbus_message_to_gerror (reply, error))
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
  s->daemon_name = g_strdup (sender);
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

/* Builds a session up to (not including) its thread.  Runs on the
 * connecting thread with connect_lock held. */
static SspiSession *
session_connect (GError **error)
{
  g_autoptr(SspiSession) s = NULL;
  g_autofree char *address = bus_address (error);
  gboolean ok;

  if (address == NULL)
    return NULL;

  s = g_new0 (SspiSession, 1);
  s->ref_count = 1;
  s->context = g_main_context_new ();
  s->loop = g_main_loop_new (s->context, FALSE);

  sspi_lock ();
  gdbus_used = TRUE;
  sspi_unlock ();

  /* Pushed so that "closed" and the subscriptions dispatch on s->context. */
  g_main_context_push_thread_default (s->context);
  s->connection = g_dbus_connection_new_for_address_sync (
      address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
      | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, error);
  if (s->connection != NULL)
    {
      g_dbus_connection_set_exit_on_close (s->connection, FALSE);
      s->closed_handler = g_signal_connect (s->connection, "closed",
                                            G_CALLBACK (on_closed), s);
      /* Before Hello, so a daemon that dies right after answering is seen. */
      s->owner_subscription = g_dbus_connection_signal_subscribe (
          s->connection, "org.freedesktop.DBus", "org.freedesktop.DBus",
          "NameOwnerChanged", "/org/freedesktop/DBus", SSPID_BUS_NAME,
          G_DBUS_SIGNAL_FLAGS_NONE, on_name_owner_changed, s, NULL);
    }
  g_main_context_pop_thread_default (s->context);
  if (s->connection == NULL)
    return NULL;

  ok = session_hello (s, error);
  if (ok)
    {
      /* A unicast signal reaches us without a match rule; adding one would
       * only make the bus do more work for every Completed. */
      g_main_context_push_thread_default (s->context);
      s->completed_subscription = g_dbus_connection_signal_subscribe (
          s->connection, s->daemon_name, SSPID_INTERFACE,
          SSPID_SIGNAL_COMPLETED, SSPID_OBJECT_PATH, NULL,
          G_DBUS_SIGNAL_FLAGS_NO_MATCH_RULE, on_completed, s, NULL);
      g_main_context_pop_thread_default (s->context);
    }
  else
    session_disconnect (s);
  return ok ? g_steal_pointer (&s) : NULL;
}

static gpointer
session_thread (gpointer data)
{
  SspiSession *s = data;

  g_main_context_push_thread_default (s->context);
  g_main_loop_run (s->loop);
  g_main_context_pop_thread_default (s->context);
  sspi_session_unref (s);
  return NULL;
}

static void
atfork_prepare (void)
{
  /* So that the child inherits a consistent table and session pointer. */
  g_mutex_lock (&state_lock);
}

static void
atfork_parent (void)
{
  g_mutex_unlock (&state_lock);
}

static void
atfork_child (void)
{
  /* The parent's connection and thread are not ours: the thread does not
   * exist here, and the connection's socket is shared with the parent, so
   * closing it or even unreferencing it (which may touch locks held by
   * threads that no longer exist) could break the parent's session.  Leak
   * them on purpose. */
  current = NULL;
  generation++;
  /* Those calls belong to the parent; it gets their answers. */
  sspi_async_forget_pending_locked ();
  /* GDBus runs all connections' I/O on one private GLib thread that does
   * not exist in a child, and cannot be restarted: once the parent has used
   * GDBus, a new connection in the child would hang until its timeout.
   * Fail fast instead (SEC_E_NO_AUTHENTICATING_AUTHORITY). */
  if (gdbus_used)
    gdbus_unusable = TRUE;
  /* Another thread may have been connecting when we forked. */
  g_mutex_init (&connect_lock);
  g_mutex_unlock (&state_lock);
}

static gpointer
install_atfork (gpointer data)
{
  pthread_atfork (atfork_prepare, atfork_parent, atfork_child);
  return NULL;
}

/* TRUE if the answer is known without connecting: the live session in
 * *out (SEC_E_OK), or a child of a fork that cannot connect. */
static gboolean
peek_current (SspiSession **out, SECURITY_STATUS *status)
{
  gboolean known;

  sspi_lock ();
  if (current != NULL && g_dbus_connection_is_closed (current->connection))
    session_detach_closed_locked (current);
  *out = current != NULL ? sspi_session_ref (current) : NULL;
  *status = *out != NULL ? SEC_E_OK : SEC_E_NO_AUTHENTICATING_AUTHORITY;
  known = *out != NULL || gdbus_unusable;
  sspi_unlock ();
  return known;
}

/* Makes @s the live session and starts its thread.  connect_lock held. */
static gboolean
session_install (SspiSession *s)
{
  GThread *thread;
  g_autoptr(GError) error = NULL;

  sspi_lock ();
  s->generation = generation;
  current = sspi_session_ref (s);
  sspi_unlock ();

  /* After installing: a teardown dispatched at once must find it current. */
  thread = g_thread_try_new ("sspi-client", session_thread,
                             sspi_session_ref (s), &error);
  if (thread != NULL)
    {
      g_thread_unref (thread);
      return TRUE;
    }
  g_warning ("cannot start the libsspi thread: %s", error->message);
  sspi_session_unref (s);   /* the thread's reference */
  sspi_lock ();
  current = NULL;
  generation++;
  sspi_unlock ();
  sspi_session_unref (s);   /* current's reference */
  session_disconnect (s);
  return FALSE;
}

SECURITY_STATUS
sspi_session_get (SspiSession **out)
{
  static GOnce atfork_once = G_ONCE_INIT;
  g_autoptr(GError) error = NULL;
  SspiSession *s;
  SECURITY_STATUS status;

  g_once (&atfork_once, install_atfork, NULL);

  if (peek_current (out, &status))
    return status;

  g_mutex_lock (&connect_lock);
  if (peek_current (out, &status))   /* another thread connected meanwhile */
    {
      g_mutex_unlock (&connect_lock);
      return status;
    }
  s = session_connect (&error);
  if (s != NULL && !session_install (s))
    g_clear_pointer (&s, sspi_session_unref);
  g_mutex_unlock (&connect_lock);
  if (s == NULL)
    {
      if (error != NULL)
        g_debug ("cannot reach %s: %s", SSPID_BUS_NAME, error->message);
      return SEC_E_NO_AUTHENTICATING_AUTHORITY;
    }
  g_debug ("connected to %s (instance %" G_GINT64_MODIFIER "x)",
           s->daemon_name, s->instance);
  *out = s;
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
  if (!g_dbus_connection_send_message (s->connection, message,
                                       G_DBUS_SEND_MESSAGE_FLAGS_NONE,
                                       NULL, &error))
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
  GVariant *reply;

  /* call_sync iterates a private context of its own, so this works on any
   * thread, the session's thread (inside a notify callback) included. */
  reply = g_dbus_connection_call_sync (s->connection, s->daemon_name,
                                       SSPID_OBJECT_PATH, SSPID_INTERFACE,
                                       method, params,
                                       G_VARIANT_TYPE (reply_type),
                                       G_DBUS_CALL_FLAGS_NO_AUTO_START,
                                       CALL_TIMEOUT_MS, NULL, &error);
  if (reply == NULL)
    {
      g_debug ("%s failed: %s", method, error->message);
      *status = status_from_error (error);
    }
  return reply;
}
