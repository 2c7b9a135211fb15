/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Peer-to-peer connections (OpenConnection, daemon/sspid-peers.c): the
 * calls that skip dbus-daemon, on the real daemon and bus.
 *
 * - libsspi's calls really take the peer connection (the daemon's counter
 *   of calls received over peer connections moves), and with
 *   SSPI_NO_PEER=1 they stay on the bus and still work;
 * - by hand: a handshake's calls and their Completed signal on a peer
 *   connection; a handle made on it is unknown on the bus connection that
 *   opened it and the other way round;
 * - closing it frees everything made on it, and it closes with the bus
 *   connection that opened it;
 * - per-user limits count both connections; OpenConnection is served over
 *   the bus only, once per bus connection;
 * - a peer that never authenticates is closed, and only a few of a user's
 *   may wait at once; a descriptor sent along never reaches the daemon.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gunixfdlist.h>

#include "dbus-raw.h"
#include "sspid-results.h"
#include "sspid-peers.h"
#include "sync-pair.h"
#include "testutil.h"

static const SyncPairOptions no_options = { 0 };

/* --- helpers ------------------------------------------------------------- */

/* Waits up to 5 s (scaled) until GetStatus's @key is @want. */
static void
wait_status (const char *key, guint64 want)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) tu_scaled_ms (5000) * 1000;
  guint64 now;

  while ((now = status_value (key)) != want)
    {
      ck_assert_msg (g_get_monotonic_time () < deadline, "%s is %" G_GUINT64_FORMAT
                     ", not %" G_GUINT64_FORMAT, key, now, want);
      g_usleep (10000);
    }
}

/* OpenConnection on @bus: the fd, or -1 and @error. */
static int
open_connection (GDBusConnection *bus, GError **error)
{
  return call_for_fd (bus, SSPID_METHOD_OPEN_CONNECTION, error);
}

/* The D-Bus error name of OpenConnection on @conn, which must fail. */
static char *
open_connection_error (GDBusConnection *conn)
{
  g_autoptr(GError) error = NULL;
  int fd = open_connection (conn, &error);

  ck_assert_msg (fd < 0, "OpenConnection was served");
  return g_dbus_error_get_remote_error (error);
}

/* A peer connection for @bus's caller, authenticated (as a GDBus client
 * would: EXTERNAL first). */
static GDBusConnection *
connect_peer (GDBusConnection *bus)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketConnection) stream = NULL;
  GDBusConnection *peer;
  int fd = open_connection (bus, &error);

  ck_assert_msg (fd >= 0, "OpenConnection: %s", error != NULL ? error->message : "?");
  socket = g_socket_new_from_fd (fd, &error);
  ck_assert_msg (socket != NULL, "%s", error != NULL ? error->message : "?");
  stream = g_socket_connection_factory_create_connection (socket);
  peer = g_dbus_connection_new_sync (G_IO_STREAM (stream), NULL,
                                     G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL, NULL,
                                     &error);
  ck_assert_msg (peer != NULL, "peer connection: %s", error != NULL ? error->message : "?");
  return peer;
}

static void
on_completed (GDBusConnection *conn, const char *sender, const char *path,
              const char *interface, const char *member, GVariant *params,
              gpointer user_data)
{
  g_ptr_array_add (user_data, g_variant_ref (params));
}

static gboolean
set_flag (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Waits until @peer is closed (by the daemon), up to 10 s (scaled). */
static void
wait_closed (GDBusConnection *peer)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (tu_scaled_ms (10000), set_flag, &timed_out);

  while (!g_dbus_connection_is_closed (peer) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  ck_assert_msg (g_dbus_connection_is_closed (peer), "the daemon did not close the peer");
}

/* --- libsspi ------------------------------------------------------------- */

START_TEST (test_library_calls_take_peer)
{
  SyncPair p = { 0 };
  guint64 before = status_value ("peer-calls");

  sync_pair_handshake (&p, &no_options);
  /* Two credentials, at least two ISC and two ASC steps. */
  ck_assert_uint_ge (status_value ("peer-calls") - before, 6);
  ck_assert_uint_eq (status_value ("peers"), 1);
  sync_pair_clear (&p);
}
END_TEST

START_TEST (test_library_without_peer)
{
  SyncPair p = { 0 };
  guint64 before;

  g_setenv ("SSPI_NO_PEER", "1", TRUE);
  before = status_value ("peer-calls");
  sync_pair_handshake (&p, &no_options);
  sync_pair_clear (&p);
  ck_assert_uint_eq (status_value ("peer-calls"), before);
  ck_assert_uint_eq (status_value ("peers"), 0);
}
END_TEST

/* --- by hand ------------------------------------------------------------- */

/* A handshake on the peer connection: its calls are answered there,
 * an asynchronous one by a Completed signal on it. */
START_TEST (test_handshake_on_peer)
{
  g_autoptr(GDBusConnection) bus = connect_bus (tu_fixture_env);
  g_autoptr(GDBusConnection) peer = connect_peer (bus);
  g_autoptr(GPtrArray) completed =
    g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  guint64 before = status_value ("peer-calls");
  guint64 client_ctx, server_ctx, call_id = 0;
  g_auto(SspidStepResult) result = { 0 };
  guint sub;

  raw_handshake (peer, &client_ctx, &server_ctx);
  ck_assert_uint_ge (status_value ("peer-calls") - before, 6);
  assert_state (peer, client_ctx, "established");

  sub = g_dbus_connection_signal_subscribe (peer, NULL, SSPID_INTERFACE, SSPID_SIGNAL_COMPLETED,
                                            SSPID_OBJECT_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                            on_completed, completed, NULL);
  send_no_reply (peer, "DeleteSecurityContext",
                 sspid_release_args_encode (&(SspidReleaseArgs) { 77, client_ctx }));
  {
    gboolean timed_out = FALSE;
    guint id = g_timeout_add (SIGNAL_WAIT_MS, set_flag, &timed_out);

    while (completed->len == 0 && !timed_out)
      g_main_context_iteration (NULL, TRUE);
    if (!timed_out)
      g_source_remove (id);
  }
  ck_assert_uint_eq (completed->len, 1);
  g_variant_get_child (completed->pdata[0], 0, "t", &call_id);
  sspid_step_result_decode (completed->pdata[0], 1, &result);
  ck_assert_uint_eq (call_id, 77);
  ck_assert_uint_eq (result.status, (guint32) SEC_E_OK);
  g_dbus_connection_signal_unsubscribe (peer, sub);
}
END_TEST

/* Each connection's handles, answered on the other exactly like one that
 * never existed. */
START_TEST (test_handles_scoped)
{
  g_autoptr(GDBusConnection) bus = connect_bus (tu_fixture_env);
  g_autoptr(GDBusConnection) peer = connect_peer (bus);
  guint64 peer_cred = acquire_ok (peer, "", SECPKG_CRED_OUTBOUND);
  guint64 bus_cred = acquire_ok (bus, "", SECPKG_CRED_OUTBOUND);
  guint64 peer_ctx = start_client (peer, peer_cred);
  guint64 bus_ctx = start_client (bus, bus_cred);
  const guint32 invalid = (guint32) SEC_E_INVALID_HANDLE;
  GDBusConnection *conns[2] = { bus, peer };
  guint64 creds[2] = { peer_cred, bus_cred };   /* of the other connection */
  guint64 ctxs[2] = { peer_ctx, bus_ctx };

  for (int i = 0; i < 2; i++)
    {
      g_autoptr(GVariant) q = query (conns[i], ctxs[i]);
      g_autoptr(GVariant) unknown = query (conns[i], random_handle ());
      g_autoptr(GVariant) step = initialize (conns[i], creds[i], 0, NULL, 0);
      g_autoptr(GVariant) go_on = initialize (conns[i], 0, ctxs[i], NULL, 0);
      g_autoptr(GVariant) del = delete_ctx (conns[i], ctxs[i]);
      g_autoptr(GVariant) fre = free_cred (conns[i], creds[i]);

      ck_assert_uint_eq (step_status (q), invalid);
      ck_assert_uint_eq (step_status (unknown), invalid);
      ck_assert_uint_eq (step_status (step), invalid);
      ck_assert_uint_eq (step_status (go_on), invalid);
      ck_assert_uint_eq (step_status (del), invalid);
      ck_assert_uint_eq (step_status (fre), invalid);
    }
  /* Untouched by all that. */
  assert_state (peer, peer_ctx, "handshake");
  assert_state (bus, bus_ctx, "handshake");
}
END_TEST

/* Closing the peer connection frees what was made on it, at once, and
 * nothing of the bus connection's. */
START_TEST (test_close_frees_its_own)
{
  g_autoptr(GDBusConnection) bus = connect_bus (tu_fixture_env);
  g_autoptr(GDBusConnection) peer = connect_peer (bus);
  guint64 bus_cred = acquire_ok (bus, "", SECPKG_CRED_OUTBOUND);
  guint64 bus_ctx = start_client (bus, bus_cred);
  guint64 contexts = status_value ("contexts");
  guint64 credentials = status_value ("credentials");
  guint64 cred = acquire_ok (peer, "", SECPKG_CRED_OUTBOUND);

  for (int i = 0; i < 10; i++)
    start_client (peer, cred);
  ck_assert_uint_eq (status_value ("contexts"), contexts + 10);
  ck_assert_uint_eq (status_value ("credentials"), credentials + 1);
  ck_assert_uint_eq (status_value ("peers"), 1);

  ck_assert (g_dbus_connection_close_sync (peer, NULL, NULL));
  wait_status ("peers", 0);
  ck_assert_uint_eq (status_value ("contexts"), contexts);
  ck_assert_uint_eq (status_value ("credentials"), credentials);
  assert_state (bus, bus_ctx, "handshake");
  /* The bus connection may open another. */
  g_clear_object (&peer);
  peer = connect_peer (bus);
  acquire_ok (peer, "", SECPKG_CRED_OUTBOUND);
}
END_TEST

/* The daemon closes a peer connection with the bus connection that
 * opened it, and frees what was made on it. */
START_TEST (test_closes_with_opener)
{
  g_autoptr(GDBusConnection) bus = connect_bus (tu_fixture_env);
  g_autoptr(GDBusConnection) peer = connect_peer (bus);
  guint64 contexts = status_value ("contexts");

  start_client (peer, acquire_ok (peer, "", SECPKG_CRED_OUTBOUND));
  ck_assert_uint_eq (status_value ("contexts"), contexts + 1);
  ck_assert (g_dbus_connection_close_sync (bus, NULL, NULL));
  wait_closed (peer);
  wait_status ("contexts", contexts);
  wait_status ("peers", 0);
}
END_TEST

/* Over the bus only, once per bus connection. */
START_TEST (test_open_rules)
{
  g_autoptr(GDBusConnection) bus = connect_bus (tu_fixture_env);
  g_autoptr(GDBusConnection) peer = connect_peer (bus);
  g_autofree char *again = open_connection_error (bus);
  g_autofree char *from_peer = open_connection_error (peer);

  ck_assert_str_eq (again, SSPID_ERROR_NAME_LIMIT_EXCEEDED);
  ck_assert_str_eq (from_peer, SSPID_ERROR_NAME_ACCESS_DENIED);
  assert_daemon_healthy (peer);
}
END_TEST

#define USER_CONTEXTS 4

static void
setup_user_limit (void)
{
  tu_fixture_setup_with ("[daemon]\nmax-contexts-per-user=" G_STRINGIFY (USER_CONTEXTS) "\n");
}

/* A user's limits count its peer connections with its bus connections. */
START_TEST (test_user_limit_across)
{
  g_autoptr(GDBusConnection) bus = connect_bus (tu_fixture_env);
  g_autoptr(GDBusConnection) peer = connect_peer (bus);
  guint64 bus_cred = acquire_ok (bus, "", SECPKG_CRED_OUTBOUND);
  guint64 peer_cred = acquire_ok (peer, "", SECPKG_CRED_OUTBOUND);

  for (int i = 0; i < USER_CONTEXTS / 2; i++)
    {
      start_client (bus, bus_cred);
      start_client (peer, peer_cred);
    }
  {
    g_autoptr(GVariant) on_bus = initialize (bus, bus_cred, 0, NULL, 0);
    g_autoptr(GVariant) on_peer = initialize (peer, peer_cred, 0, NULL, 0);

    ck_assert_uint_eq (step_status (on_bus), (guint32) SEC_E_INSUFFICIENT_MEMORY);
    ck_assert_uint_eq (step_status (on_peer), (guint32) SEC_E_INSUFFICIENT_MEMORY);
  }
}
END_TEST

/* A peer that never authenticates holds a daemon thread: closed after
 * SSPID_PEER_HANDSHAKE_SEC, and only a few of one user's at a time. */
START_TEST (test_unauthenticated_peers)
{
  GDBusConnection *buses[SSPID_PEER_MAX_HANDSHAKES_PER_USER + 1];
  int fds[SSPID_PEER_MAX_HANDSHAKES_PER_USER];
  g_autofree char *refused = NULL;

  for (int i = 0; i <= SSPID_PEER_MAX_HANDSHAKES_PER_USER; i++)
    buses[i] = connect_bus (tu_fixture_env);
  for (int i = 0; i < SSPID_PEER_MAX_HANDSHAKES_PER_USER; i++)
    {
      g_autoptr(GError) error = NULL;

      fds[i] = open_connection (buses[i], &error);
      ck_assert_msg (fds[i] >= 0, "OpenConnection: %s", error != NULL ? error->message : "?");
    }
  refused = open_connection_error (buses[SSPID_PEER_MAX_HANDSHAKES_PER_USER]);
  ck_assert_str_eq (refused, SSPID_ERROR_NAME_LIMIT_EXCEEDED);

  for (int i = 0; i < SSPID_PEER_MAX_HANDSHAKES_PER_USER; i++)
    {
      struct pollfd p = { .fd = fds[i], .events = POLLIN };
      char c;

      ck_assert_msg (poll (&p, 1, (int) tu_scaled_ms ((SSPID_PEER_HANDSHAKE_SEC + 5) * 1000)) == 1,
                     "an unauthenticated peer was not closed");
      ck_assert_int_le (recv (fds[i], &c, 1, MSG_DONTWAIT), 0);
      close (fds[i]);
    }
  wait_status ("peers", 0);
  {
    g_autoptr(GDBusConnection) peer = connect_peer (buses[SSPID_PEER_MAX_HANDSHAKES_PER_USER]);

    assert_daemon_healthy (peer);
  }
  for (int i = 0; i <= SSPID_PEER_MAX_HANDSHAKES_PER_USER; i++)
    g_object_unref (buses[i]);
}
END_TEST

/* A message carrying a descriptor never reaches the daemon: the kernel
 * refuses it (SO_PASSRIGHTS, which the daemon needs to hand out peer
 * connections at all). */
START_TEST (test_fd_sent_along)
{
  g_autoptr(GDBusConnection) bus = connect_bus (tu_fixture_env);
  g_autoptr(GDBusConnection) peer = connect_peer (bus);
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  guint64 before = status_value ("peer-calls");
  int pipe_fds[2];

  ck_assert_int_eq (pipe (pipe_fds), 0);
  ck_assert_int_ge (g_unix_fd_list_append (fds, pipe_fds[0], NULL), 0);
  close (pipe_fds[0]);
  close (pipe_fds[1]);
  reply = g_dbus_connection_call_with_unix_fd_list_sync (
    peer, NULL, SSPID_OBJECT_PATH, SSPID_INTERFACE, "Hello", NULL, G_VARIANT_TYPE ("(st)"),
    G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, fds, NULL, NULL, &error);
  ck_assert_msg (reply == NULL, "a message with a descriptor was answered");
  ck_assert_uint_eq (status_value ("peer-calls"), before);
  assert_daemon_healthy (bus);
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "library", tu_fixture_setup, tu_fixture_teardown, 60, { { test_library_calls_take_peer },
                                                              { test_library_without_peer } } },
    { "raw", tu_fixture_setup, tu_fixture_teardown, 60, { { test_handshake_on_peer },
                                                          { test_handles_scoped },
                                                          { test_close_frees_its_own },
                                                          { test_closes_with_opener },
                                                          { test_open_rules },
                                                          { test_unauthenticated_peers },
                                                          { test_fd_sent_along } } },
    { "limits", setup_user_limit, tu_fixture_teardown, 60, { { test_user_limit_across } } },
  };

  return tu_run_cases ("peer", cases, G_N_ELEMENTS (cases));
}
