/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Peer-to-peer connections (see sspid-peers.h): the daemon makes an
 * AF_UNIX socket pair, serves its end as a GDBusConnection of its own
 * (GDBus's server side of the SASL exchange, no bus), and the front sends
 * the other end to the caller in the OpenConnection reply.
 *
 * Why: over the bus every call and every Completed signal crosses
 * dbus-daemon, two more socket hops and a process that all callers
 * share.  On a peer connection the same messages go straight between
 * libsspi and the daemon.
 *
 * Who calls was settled by the bus before the connection existed: it gets
 * a caller of its own (sspid_caller_new_peer()) with the identity of the
 * bus caller that asked, and the SASL exchange only has to finish (any
 * uid may authenticate, ANONYMOUS included; the mechanisms that would
 * touch the daemon's files, DBUS_COOKIE_SHA1, are refused).  It is tied
 * to that bus connection as a record channel is: it closes with it.  When
 * it closes, its caller is dropped with everything it owned.
 *
 * File descriptors: the kernel refuses those sent to our end
 * (SO_PASSRIGHTS); where it cannot, no peer connection is handed out,
 * since GDBus would close whatever came along on its own thread, which
 * every connection of the daemon shares (a close can block).
 *
 * A caller that never authenticates holds one of GLib's threads (GDBus
 * authenticates on one): at most SSPID_PEER_MAX_HANDSHAKES_PER_USER at
 * once per user, for SSPID_PEER_HANDSHAKE_SEC at most.  Main thread only.
 */
#include "config.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sspid-counts.h"
#include "sspid-fds.h"
#include "sspid-peers.h"
#include "sspid-proto.h"

struct _SspidPeers {
  GDBusInterfaceInfo *interface_info;
  SspidPeerCallFunc   call;
  gpointer            call_data;
  GHashTable         *open;         /* Peer * (the set's reference) */
  GHashTable         *per_opener;   /* SspidCaller * -> peers open */
  GHashTable         *per_uid;      /* uid -> peers open */
  GHashTable         *handshaking;  /* uid -> peers authenticating */
  guint64             calls;        /* method calls received */
};

typedef struct {
  gint             ref;
  SspidPeers      *set;            /* NULL once closed */
  SspidCaller     *opener;         /* ref: the bus caller it was handed to */
  SspidCaller     *caller;         /* ref: the connection's own */
  uid_t            uid;
  GCancellable    *cancellable;    /* the authentication */
  guint            deadline_id;    /* while authenticating */
  GDBusConnection *connection;     /* once authenticated */
  guint            registration_id;
  gulong           closed_id;
} Peer;

static void peer_close (Peer *peer, const char *why);

static Peer *
peer_ref (Peer *peer)
{
  peer->ref++;
  return peer;
}

static void
peer_unref (Peer *peer)
{
  if (--peer->ref > 0)
    return;
  g_assert (peer->set == NULL);
  g_clear_object (&peer->connection);
  g_object_unref (peer->cancellable);
  sspid_caller_unref (peer->caller);
  sspid_caller_unref (peer->opener);
  g_free (peer);
}


char *
sspid_peers_check_limits (SspidPeers *set, SspidCaller *opener)
{
  uid_t uid = sspid_caller_peek_identity (opener)->uid;

  if (sspid_counts_get (set->per_opener, opener) >= SSPID_PEER_MAX_PER_CONNECTION)
    return g_strdup_printf ("peer connections per connection=%d",
                            SSPID_PEER_MAX_PER_CONNECTION);
  if (sspid_counts_get (set->per_uid, SSPID_UID_KEY (uid)) >= SSPID_PEER_MAX_PER_USER)
    return g_strdup_printf ("peer connections per user=%d", SSPID_PEER_MAX_PER_USER);
  if (sspid_counts_get (set->handshaking, SSPID_UID_KEY (uid)) >= SSPID_PEER_MAX_HANDSHAKES_PER_USER)
    return g_strdup_printf ("peer connections authenticating per user=%d",
                            SSPID_PEER_MAX_HANDSHAKES_PER_USER);
  return NULL;
}

/* --- serving -------------------------------------------------------------- */

static void
peer_method_call (GDBusConnection *connection, const char *sender, const char *object_path,
                  const char *interface_name, const char *method_name, GVariant *parameters,
                  GDBusMethodInvocation *invocation, gpointer user_data)
{
  Peer *peer = user_data;

  /* Registered only while open: GDBus calls nothing after the object is
   * unregistered, which closing does first. */
  peer->set->calls++;
  peer->set->call (peer->caller, invocation, peer->set->call_data);
}

static const GDBusInterfaceVTable peer_vtable = {
  .method_call = peer_method_call,
};

static void
closed_cb (GDBusConnection *connection, gboolean remote_peer_vanished, GError *error,
           gpointer user_data)
{
  peer_close (user_data, NULL);
}

/* Authenticating is over, either way. */
static void
handshake_end (Peer *peer)
{
  if (peer->deadline_id == 0)
    return;
  g_source_remove (peer->deadline_id);
  peer->deadline_id = 0;
  sspid_counts_add (peer->set->handshaking, SSPID_UID_KEY (peer->uid), -1);
}

/* The SASL exchange is done: serve the interface, then let messages in. */
static void
serve (Peer *peer, GDBusConnection *connection)
{
  g_autoptr(GError) error = NULL;

  peer->connection = connection;
  peer->closed_id = g_signal_connect (connection, "closed", G_CALLBACK (closed_cb), peer);
  peer->registration_id =
    g_dbus_connection_register_object (connection, SSPID_OBJECT_PATH, peer->set->interface_info,
                                       &peer_vtable, peer_ref (peer),
                                       (GDestroyNotify) peer_unref, &error);
  if (peer->registration_id == 0)
    {
      peer_close (peer, error->message);
      return;
    }
  /* Closed before the handler was connected: "closed" will not come. */
  if (g_dbus_connection_is_closed (connection))
    {
      peer_close (peer, NULL);
      return;
    }
  g_dbus_connection_start_message_processing (connection);
  sspid_caller_log (peer->caller, G_LOG_LEVEL_DEBUG, NULL, 0, "peer connection %s ready",
                    sspid_caller_peek_name (peer->caller));
}

static void
connected_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Peer *peer = user_data;
  g_autoptr(GError) error = NULL;
  GDBusConnection *connection = g_dbus_connection_new_finish (result, &error);

  if (peer->set == NULL)
    {
      /* Closed meanwhile (its opener went, or the deadline passed). */
      if (connection != NULL)
        {
          g_dbus_connection_close (connection, NULL, NULL, NULL);
          g_object_unref (connection);
        }
    }
  else if (connection == NULL)
    peer_close (peer, error->message);
  else
    {
      handshake_end (peer);
      serve (peer, connection);
    }
  peer_unref (peer);   /* the authentication's */
}

static gboolean
deadline_cb (gpointer user_data)
{
  Peer *peer = user_data;

  peer->deadline_id = 0;
  sspid_counts_add (peer->set->handshaking, SSPID_UID_KEY (peer->uid), -1);
  peer_close (peer, "not authenticated in time");
  return G_SOURCE_REMOVE;
}

/* GDBus's server offers EXTERNAL, DBUS_COOKIE_SHA1 and ANONYMOUS; the
 * cookie mechanism would read and write a keyring in the daemon's home. */
static gboolean
allow_mechanism_cb (GDBusAuthObserver *observer, const char *mechanism, gpointer user_data)
{
  return g_str_equal (mechanism, "ANONYMOUS") || g_str_equal (mechanism, "EXTERNAL");
}

/* --- open and close ------------------------------------------------------- */

/* Closes the daemon's side: everything made on the connection is freed
 * at once.  @why is logged (NULL: the caller closed it or its opener went
 * away, nothing to say). */
static void
peer_close (Peer *peer, const char *why)
{
  SspidPeers *set = peer->set;

  if (set == NULL)
    return;
  if (why != NULL)
    sspid_caller_log_refusal (peer->caller, "peer connection", NULL, 0,
                              "peer connection closed: %s", why);
  else
    sspid_caller_log (peer->caller, G_LOG_LEVEL_DEBUG, NULL, 0, "peer connection closed");
  handshake_end (peer);
  g_cancellable_cancel (peer->cancellable);
  sspid_caller_detach (peer->opener, peer);
  /* Answers of calls still queued go out on the connection, still open. */
  sspid_caller_drop (peer->caller);
  if (peer->connection != NULL)
    {
      g_signal_handler_disconnect (peer->connection, peer->closed_id);
      if (peer->registration_id != 0)
        g_dbus_connection_unregister_object (peer->connection, peer->registration_id);
      g_dbus_connection_close (peer->connection, NULL, NULL, NULL);
    }
  g_hash_table_remove (set->open, peer);
  sspid_counts_add (set->per_opener, peer->opener, -1);
  sspid_counts_add (set->per_uid, SSPID_UID_KEY (peer->uid), -1);
  peer->set = NULL;
  peer_unref (peer);   /* the set's */
}

/* The opener's bus connection is gone (or the daemon is stopping). */
static void
peer_close_with_opener (gpointer object)
{
  peer_close (object, NULL);
}

/* A stream socket pair whose end [0] refuses descriptors and learns the
 * peer's credentials as it sends (GDBus reads them with the first byte,
 * which EXTERNAL needs). */
static gboolean
make_socketpair (int fds[2], GError **error)
{
  int on = 1;

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
    {
      int e = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "socketpair: %s",
                   g_strerror (e));
      return FALSE;
    }
  if (!sspid_fd_refuse_passed_fds (fds[0]))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           "the kernel cannot refuse descriptors (SO_PASSRIGHTS)");
      close (fds[0]);
      close (fds[1]);
      return FALSE;
    }
  (void) setsockopt (fds[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
  return TRUE;
}

/* Starts GDBus's side of the SASL exchange on @stream. */
static void
authenticate (Peer *peer, GIOStream *stream)
{
  g_autoptr(GDBusAuthObserver) observer = g_dbus_auth_observer_new ();
  g_autofree char *guid = g_dbus_generate_guid ();

  g_signal_connect (observer, "allow-mechanism", G_CALLBACK (allow_mechanism_cb), NULL);
  g_dbus_connection_new (stream, guid,
                         G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_SERVER
                         | G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_ALLOW_ANONYMOUS
                         | G_DBUS_CONNECTION_FLAGS_DELAY_MESSAGE_PROCESSING,
                         observer, peer->cancellable, connected_cb, peer_ref (peer));
  peer->deadline_id = g_timeout_add_seconds (SSPID_PEER_HANDSHAKE_SEC, deadline_cb, peer);
  sspid_counts_add (peer->set->handshaking, SSPID_UID_KEY (peer->uid), +1);
}

int
sspid_peers_open (SspidPeers *set, SspidCaller *opener, GError **error)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketConnection) stream = NULL;
  Peer *peer;
  int fds[2];

  if (!make_socketpair (fds, error))
    return -1;
  socket = g_socket_new_from_fd (fds[0], error);
  if (socket == NULL)
    {
      close (fds[0]);
      close (fds[1]);
      return -1;
    }
  stream = g_socket_connection_factory_create_connection (socket);

  peer = g_new0 (Peer, 1);
  peer->ref = 1;                  /* the set's, until closed */
  peer->set = set;
  peer->opener = sspid_caller_ref (opener);
  peer->caller = sspid_caller_new_peer (opener);
  peer->uid = sspid_caller_peek_identity (opener)->uid;
  peer->cancellable = g_cancellable_new ();
  g_hash_table_add (set->open, peer);
  sspid_counts_add (set->per_opener, opener, +1);
  sspid_counts_add (set->per_uid, SSPID_UID_KEY (peer->uid), +1);
  sspid_caller_attach (opener, peer, peer_close_with_opener);
  authenticate (peer, G_IO_STREAM (stream));
  sspid_caller_log (opener, G_LOG_LEVEL_DEBUG, NULL, 0, "peer connection %s opened",
                    sspid_caller_peek_name (peer->caller));
  return fds[1];
}

guint
sspid_peers_get_n_open (SspidPeers *set)
{
  return g_hash_table_size (set->open);
}

guint64
sspid_peers_get_n_calls (SspidPeers *set)
{
  return set->calls;
}

SspidPeers *
sspid_peers_new (GDBusInterfaceInfo *interface_info, SspidPeerCallFunc call,
                 gpointer call_data)
{
  SspidPeers *set = g_new0 (SspidPeers, 1);

  set->interface_info = g_dbus_interface_info_ref (interface_info);
  set->call = call;
  set->call_data = call_data;
  set->open = g_hash_table_new (NULL, NULL);
  set->per_opener = sspid_counts_new ();
  set->per_uid = sspid_counts_new ();
  set->handshaking = sspid_counts_new ();
  return set;
}

void
sspid_peers_free (SspidPeers *set)
{
  if (set == NULL)
    return;
  /* Every peer connection belongs to a bus caller, and closes with it. */
  g_assert (g_hash_table_size (set->open) == 0);
  g_hash_table_unref (set->open);
  g_hash_table_unref (set->per_opener);
  g_hash_table_unref (set->per_uid);
  g_hash_table_unref (set->handshaking);
  g_dbus_interface_info_unref (set->interface_info);
  g_free (set);
}
