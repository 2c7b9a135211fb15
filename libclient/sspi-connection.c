/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The process-wide session with sspid: libsspi's own bus connection
 * (sspi-transport.c: never the application's bus connection, and usable
 * again after fork()), the daemon's unique name learnt from Hello, and the
 * peer-to-peer connection the daemon hands out over the bus (sspi-peer.c),
 * which then carries every call; the reader thread of whichever carries
 * the calls is where Completed signals are handled and notify callbacks
 * run.
 *
 * The session owns the table of the calls queued on it and their
 * completion: a Completed signal finds its call here, its outputs are
 * written (sspi-marshal.c), and the caller that queued it (the async API)
 * is told through the functions it gave with the call.  Every call starts
 * with sspi_session_get_for(), the one prologue that connects if needed and
 * refuses handles of a session that died.
 *
 * A session lives until the daemon goes away (its name loses its owner, or
 * it closes the peer connection), the bus connection closes, or the
 * process forks.  Then the generation is
 * bumped so every handle issued before becomes invalid, every pending call
 * completes at once with SEC_E_NO_AUTHENTICATING_AUTHORITY (on the
 * session's reader thread, where callbacks belong), and the next call
 * connects afresh; in a forked child that is a new connection of its own.
 */

#include "config.h"

#include <pthread.h>
#include <string.h>

#include "sspi-peer.h"
#include "sspi-private.h"
#include "sspi-transport.h"
#include "sspid-bus.h"
#include "sspid-error.h"
#include "sspid-channel.h"

/* Hello may start the daemon by D-Bus activation: allow for that. */
#define HELLO_TIMEOUT_MS 25000
/* A synchronous step can queue behind other callers' work in the daemon's
 * worker pool; the daemon enforces its own handshake timeout, and if it dies
 * the bus answers at once, so this only guards against a hung daemon. */
#define CALL_TIMEOUT_MS 120000

struct _SspiSession {
  gint           ref_count;
  SspiTransport *transport;     /* the bus */
  /* The daemon's peer-to-peer connection, or NULL: then calls go on the
   * bus.  Set before the session is shared, never changed. */
  SspiTransport *peer;
  char          *daemon_name;   /* unique name of the daemon that said Hello */
  guint64        instance;
  guint          generation;
  /* call_id -> SspiPending: the calls queued on this session whose answer
   * (a Completed signal) has not come yet.  Under the library lock. */
  GHashTable    *pending;
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

/* Protects current (and the generation advancing with it), the sessions'
 * pending tables and async contexts. */
static GMutex state_lock;
/* Serialises connecting, so that two threads never build two sessions.  Never
 * taken while state_lock is held. */
static GMutex connect_lock;

static SspiSession *current;      /* owns a reference */
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

guint64
sspi_call_id_next (void)
{
  return __atomic_add_fetch (&last_call_id, 1, __ATOMIC_RELAXED);
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
  g_clear_pointer (&s->peer, sspi_transport_unref);
  /* Empty: a session is detached (its calls taken) before its last unref. */
  g_clear_pointer (&s->pending, g_hash_table_unref);
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

/* ---- queued calls and their completion ---------------------------------- */

/* One queued call: where its answer is written, and who queued it. */
typedef struct {
  guint64                   call_id;
  guint                     generation;  /* of the session it was sent on */
  SspiOutputs               out;
  const SspiCallOwnerFuncs *funcs;
  gpointer                  owner;
} SspiPending;

static void
pending_free (SspiPending *p)
{
  p->funcs->free (p->owner);
  g_clear_pointer (&p->out.principal, g_ref_string_release);
  g_free (p);
}

SECURITY_STATUS
sspi_session_add_pending_locked (SspiSession *s, guint64 call_id,
                                 guint handle_generation,
                                 const SspiOutputs *out,
                                 const SspiCallOwnerFuncs *funcs,
                                 gpointer owner)
{
  SspiPending *p;

  /* The session died since the prologue got it. */
  if (current != s)
    return handle_generation != 0 ? SEC_E_INVALID_HANDLE
                                  : SEC_E_NO_AUTHENTICATING_AUTHORITY;
  p = g_new0 (SspiPending, 1);
  p->call_id = call_id;
  p->generation = s->generation;
  p->out = *out;
  if (out->principal != NULL)
    p->out.principal = g_ref_string_acquire (out->principal);
  p->funcs = funcs;
  p->owner = owner;
  g_hash_table_insert (s->pending, &p->call_id, p);
  return SEC_E_OK;
}

gboolean
sspi_session_remove_pending_locked (SspiSession *s, guint64 call_id)
{
  SspiPending *p = NULL;

  if (!g_hash_table_steal_extended (s->pending, &call_id, NULL, (gpointer *) &p))
    return FALSE;
  g_clear_pointer (&p->out.principal, g_ref_string_release);
  g_free (p);   /* the owner goes back to the caller */
  return TRUE;
}

void
sspi_session_release_handle (SspiSession *s, SspiHandleKind kind, guint64 handle)
{
  g_auto(SspiRequest) r = { 0 };

  sspi_request_init_release (&r, kind, handle);
  /* call_id 0: no answer wanted (proto/org.sspid1.xml). */
  sspi_session_send (s, sspi_request_get_method (&r), sspi_request_build_params (&r, 0));
}

/* The caller let go of the call (freed its async context) before the
 * answer came: nobody will ever learn of a handle the call created, so
 * free it in the daemon now. */
static void
release_orphan (SspiSession *s, const SspiPending *p, const SspiStep *step)
{
  guint64 handle = sspi_outputs_new_handle (&p->out, step);

  if (handle == 0 || s == NULL)
    return;
  sspi_session_release_handle (s, p->out.kind == SSPI_CALL_ACQUIRE_CREDENTIALS
                                      ? SSPI_HANDLE_CREDENTIAL : SSPI_HANDLE_CONTEXT,
                               handle);
}

/* Completes @p (already out of the table) with @step and frees it: writes
 * the outputs, tells the owner the call is over, then lets it notify.  @s
 * is the session the answer came from, NULL if it died.  Lock not held. */
static void
complete (SspiSession *s, SspiPending *p, const SspiStep *step)
{
  SECURITY_STATUS status;
  gboolean is_wanted;
  guint64 unclaimed = 0;

  sspi_lock ();
  is_wanted = p->funcs->is_wanted_locked (p->owner);
  if (is_wanted)
    {
      /* Every output before the call is over, and before the notification. */
      status = sspi_outputs_write (&p->out, p->generation, step);
      unclaimed = sspi_outputs_unclaimed_handle (&p->out, step, status);
      p->funcs->finish_locked (p->owner, status);
    }
  sspi_unlock ();

  if (!is_wanted)
    {
      release_orphan (s, p, step);
      sspi_outputs_forget (&p->out);
    }
  else if (unclaimed != 0 && s != NULL)
    /* A failed first step leaves no context. */
    sspi_session_release_handle (s, SSPI_HANDLE_CONTEXT, unclaimed);
  if (is_wanted)
    p->funcs->notify (p->owner);   /* may free, reinit, queue, call anything */
  pending_free (p);
}

/* A Completed signal from @s's daemon: the answer to one of @s's calls.
 * Runs on @s's reader thread. */
static void
dispatch_completed (SspiSession *s, GVariant *params)
{
  SspiPending *p = NULL;
  SspiStep step;
  guint64 call_id;

  g_variant_get_child (params, 0, "t", &call_id);
  sspi_lock ();
  g_hash_table_steal_extended (s->pending, &call_id, NULL, (gpointer *) &p);
  sspi_unlock ();
  if (p == NULL)
    return;   /* a fire-and-forget cleanup's answer, or a stray signal */

  sspi_step_parse (params, 1, &step);
  complete (s, p, &step);
  sspi_step_clear (&step);
}

static gint
compare_call_id (gconstpointer a, gconstpointer b)
{
  const SspiPending *pa = *(SspiPending *const *) a;
  const SspiPending *pb = *(SspiPending *const *) b;

  return pa->call_id < pb->call_id ? -1 : pa->call_id > pb->call_id;
}

/* Takes every call out of @s's table, in call order.  Lock held. */
static GPtrArray *
steal_pending_locked (SspiSession *s)
{
  GPtrArray *list = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, s->pending);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      g_ptr_array_add (list, value);
      g_hash_table_iter_steal (&iter);
    }
  g_ptr_array_sort (list, compare_call_id);
  return list;
}

/* Completes each call of @pending (from the above) with @status, running
 * notifications.  Frees @pending.  Lock not held. */
static void
fail_pending (GPtrArray *pending, SECURITY_STATUS status)
{
  SspiStep step;

  sspi_step_init_error (&step, status);
  for (guint i = 0; i < pending->len; i++)
    complete (NULL, g_ptr_array_index (pending, i), &step);
  g_ptr_array_free (pending, TRUE);
}

/* In a fork child: drops every call of @s without writing outputs or
 * notifying (the parent gets their answers).  Lock held. */
static void
forget_pending_locked (SspiSession *s)
{
  g_autoptr(GPtrArray) list = steal_pending_locked (s);

  for (guint i = 0; i < list->len; i++)
    {
      SspiPending *p = g_ptr_array_index (list, i);

      /* Not pending forever: the child may reinit or free the context. */
      p->funcs->finish_locked (p->owner, SEC_E_NO_AUTHENTICATING_AUTHORITY);
      pending_free (p);
    }
}

/* ---- the session's life ----------------------------------------------- */

/* Detaches @s if it is the live session: from now on no call can be
 * registered on it and its handles are stale.  Returns its pending calls,
 * or NULL if @s was not live (already detached).  Lock held. */
static GPtrArray *
session_detach_locked (SspiSession *s)
{
  if (current != s)
    return NULL;
  current = NULL;
  sspi_generation_advance ();
  return steal_pending_locked (s);
}

/* Completes a detached session's calls and closes it.  Runs on @s's reader
 * thread; consumes the reference current had. */
static void
session_finish (SspiSession *s, GPtrArray *pending)
{
  g_debug ("session with %s ended; failing %u pending call(s)",
           s->daemon_name, pending->len);
  sspi_transport_close (s->transport);
  if (s->peer != NULL)
    sspi_transport_close (s->peer);
  /* Callbacks may start the next session right here. */
  fail_pending (pending, SEC_E_NO_AUTHENTICATING_AUTHORITY);
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

/* Whether @m is a Completed signal (its sender aside). */
static gboolean
is_completed (GDBusMessage *m)
{
  GVariant *body = g_dbus_message_get_body (m);

  return g_dbus_message_get_message_type (m) == G_DBUS_MESSAGE_TYPE_SIGNAL && body != NULL &&
         g_strcmp0 (g_dbus_message_get_member (m), SSPID_SIGNAL_COMPLETED) == 0 &&
         g_strcmp0 (g_dbus_message_get_path (m), SSPID_OBJECT_PATH) == 0 &&
         g_strcmp0 (g_dbus_message_get_interface (m), SSPID_INTERFACE) == 0 &&
         g_variant_is_of_type (body, G_VARIANT_TYPE (SSPID_COMPLETED_TYPE));
}

/* The peer connection's messages: only the daemon is at its other end. */
static void
on_peer_message (SspiTransport *t, GDBusMessage *m, gpointer user_data)
{
  if (is_completed (m))
    dispatch_completed (user_data, g_dbus_message_get_body (m));
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
       * daemon we said Hello to, and only while calls go on the bus. */
      if (s->peer == NULL && g_strcmp0 (sender, s->daemon_name) == 0 && is_completed (m))
        dispatch_completed (s, body);
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

/* Connects and says Hello.  Runs on the connecting thread with
 * connect_lock held. */
static SspiSession *
session_connect (GError **error)
{
  g_autoptr(SspiSession) s = NULL;
  g_autofree char *address = sspid_bus_dup_address (NULL, error);

  if (address == NULL)
    return NULL;

  s = g_new0 (SspiSession, 1);
  s->ref_count = 1;
  s->pending = g_hash_table_new (g_int64_hash, g_int64_equal);
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
  /* Like the bus transport, it holds a reference until its on_closed. */
  s->peer = sspi_peer_open (s->transport, s->daemon_name, on_peer_message, on_closed,
                            sspi_session_ref (s));
  if (s->peer == NULL)
    sspi_session_unref (s);
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
      /* The peer connection acts for the parent's bus connection. */
      sspi_transport_abandon_after_fork (current->peer);
      /* The channel acts for the parent's connection: never ours. */
      sspi_channel_abandon_after_fork (current->channel);
      /* Its calls belong to the parent; it gets their answers. */
      forget_pending_locked (current);
    }
  current = NULL;
  sspi_generation_advance ();
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
  if (current != NULL && (sspi_transport_is_closed (current->transport)
                          || (current->peer != NULL && sspi_transport_is_closed (current->peer))))
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

/* The live session, connecting first if there is none. */
static SECURITY_STATUS
session_get (SspiSession **out)
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
      s->generation = sspi_generation_get ();
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
  g_debug ("connected to %s (instance %" G_GINT64_MODIFIER "x)%s",
           s->daemon_name, s->instance, s->peer != NULL ? ", calls on a peer connection" : "");
  *out = s;
  return SEC_E_OK;
}

SECURITY_STATUS
sspi_session_get_for (guint handle_generation, SspiSession **out)
{
  g_autoptr(SspiSession) s = NULL;
  SECURITY_STATUS status;

  status = session_get (&s);
  if (status != SEC_E_OK)
    return status;
  /* The session died (and a new one began) since the handles were checked. */
  if (handle_generation != 0 && handle_generation != s->generation)
    return SEC_E_INVALID_HANDLE;
  *out = g_steal_pointer (&s);
  return SEC_E_OK;
}

/* The transport that carries @s's calls: the peer connection if there is
 * one, else the bus. */
static SspiTransport *
calls_transport (SspiSession *s)
{
  return s->peer != NULL ? s->peer : s->transport;
}

/* A call of @method to the daemon, on calls_transport(). */
static GDBusMessage *
new_method_call (SspiSession *s, const char *method)
{
  /* A peer connection has no bus to route by name. */
  return g_dbus_message_new_method_call (s->peer != NULL ? NULL : s->daemon_name,
                                         SSPID_OBJECT_PATH, SSPID_INTERFACE, method);
}

gboolean
sspi_session_send (SspiSession *s, const char *method, GVariant *params)
{
  g_autoptr(GDBusMessage) message = new_method_call (s, method);
  g_autoptr(GError) error = NULL;

  g_dbus_message_set_body (message, params);
  /* The answer is the Completed signal: one message each way. */
  g_dbus_message_set_flags (message, G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED);
  if (!sspi_transport_send (calls_transport (s), message, &error))
    {
      g_debug ("cannot send %s: %s", method, error->message);
      return FALSE;
    }
  return TRUE;
}

static SECURITY_STATUS
status_from_error (const GError *error)
{
  /* Anything else: daemon gone, refused by policy, timed out, connection
   * closed. */
  if (error->domain != SSPID_ERROR)
    return SEC_E_NO_AUTHENTICATING_AUTHORITY;
  switch ((SspidError) error->code)
    {
    case SSPID_ERROR_LIMIT_EXCEEDED:
      return SEC_E_INSUFFICIENT_MEMORY;
    case SSPID_ERROR_INVALID_ARGS:
      return SEC_E_INVALID_PARAMETER;
    case SSPID_ERROR_INTERNAL:
      return SEC_E_INTERNAL_ERROR;
    case SSPID_ERROR_ACCESS_DENIED:
    case SSPID_ERROR_N_ERRORS:
    default:
      return SEC_E_NO_AUTHENTICATING_AUTHORITY;
    }
}

GVariant *
sspi_session_call (SspiSession *s, const char *method, GVariant *params,
                   const char *reply_type, SECURITY_STATUS *status)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusMessage) reply = NULL;
  g_autoptr(GDBusMessage) call = new_method_call (s, method);
  GVariant *body;

  /* Works on any thread, the reader thread (inside a notify callback)
   * included: the transport then reads the reply inline. */
  if (params != NULL)
    g_dbus_message_set_body (call, params);
  g_dbus_message_set_flags (call, G_DBUS_MESSAGE_FLAGS_NO_AUTO_START);
  reply = sspi_transport_call_sync (calls_transport (s), call, CALL_TIMEOUT_MS, &error);
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

/* Asks the daemon for a record channel, on the connection that carries
 * the calls (the channel acts for it: its handles); NULL if it cannot give
 * one (an older daemon, a bus without fd passing, a limit). */
static SspiChannel *
open_channel (SspiSession *s)
{
  g_autoptr(GDBusMessage) call = NULL;
  g_autoptr(GError) error = NULL;
  int fd;

  if (!sspi_transport_has_unix_fds (calls_transport (s)))
    return NULL;
  call = new_method_call (s, SSPID_METHOD_OPEN_RECORD_CHANNEL);
  g_dbus_message_set_flags (call, G_DBUS_MESSAGE_FLAGS_NO_AUTO_START);
  fd = sspi_transport_call_for_fd (calls_transport (s), call, CALL_TIMEOUT_MS, &error);
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
