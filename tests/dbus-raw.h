/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers for the tests that talk to sspid in raw D-Bus (no libsspi):
 * one call per method with its exact signature, the step result's fields,
 * a listener for the Completed signals addressed to a connection, and a
 * whole handshake played through the daemon.  Header-only (static inline)
 * so each test program takes what it uses.
 */
#pragma once

#include <check.h>
#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <string.h>

#include "schannel.h"
#include "sspi.h"
#include "sspid-args.h"
#include "sspid-proto.h"
#include "testutil.h"

#define CALL_TIMEOUT_MS  20000
#define SIGNAL_WAIT_MS   20000

static inline GDBusConnection *
connect_bus (TuEnv *env)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *conn;

  conn = g_dbus_connection_new_for_address_sync (env->bus_address,
                                                 G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                                                 | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                 NULL, NULL, &error);
  ck_assert_msg (conn != NULL, "cannot connect to the test bus: %s",
                 error != NULL ? error->message : "?");
  return conn;
}

/* Where calls to the daemon go on @conn: its bus name, or nowhere on a
 * peer-to-peer connection (OpenConnection), which has no bus. */
static inline const char *
daemon_destination (GDBusConnection *conn)
{
  return (g_dbus_connection_get_flags (conn) & G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION)
         ? SSPID_BUS_NAME : NULL;
}

/* The GetStatus @key (a "u" or a "t") of the daemon of tu_fixture_env,
 * through a bus connection of its own. */
static inline guint64
status_value (const char *key)
{
  g_autoptr(GDBusConnection) conn = connect_bus (tu_fixture_env);
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync (
    conn, SSPID_BUS_NAME, SSPID_OBJECT_PATH, SSPID_INTERFACE, "GetStatus", NULL,
    G_VARIANT_TYPE ("(a{sv})"), G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, NULL);
  g_autoptr(GVariant) dict = NULL;
  g_autoptr(GVariant) v = NULL;

  ck_assert_msg (reply != NULL, "GetStatus failed");
  dict = g_variant_get_child_value (reply, 0);
  v = g_variant_lookup_value (dict, key, NULL);
  ck_assert_msg (v != NULL, "GetStatus has no %s", key);
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_UINT32))
    return g_variant_get_uint32 (v);
  return g_variant_get_uint64 (v);
}

/* A call on the sspid object (over the bus or a peer connection); NULL
 * (and @error) for a D-Bus error. */
static inline GVariant *
call_raw (GDBusConnection *conn, const char *interface, const char *method,
          GVariant *params, GError **error)
{
  return g_dbus_connection_call_sync (conn, daemon_destination (conn), SSPID_OBJECT_PATH, interface,
                                      method, params, NULL, G_DBUS_CALL_FLAGS_NONE,
                                      CALL_TIMEOUT_MS, NULL, error);
}

/* A method answered with one fd (OpenRecordChannel, OpenConnection): the
 * fd, or -1 and @error. */
static inline int
call_for_fd (GDBusConnection *conn, const char *method, GError **error)
{
  g_autoptr(GUnixFDList) fds = NULL;
  g_autoptr(GVariant) reply = NULL;
  gint32 index;

  reply = g_dbus_connection_call_with_unix_fd_list_sync (
    conn, daemon_destination (conn), SSPID_OBJECT_PATH, SSPID_INTERFACE, method, NULL,
    G_VARIANT_TYPE ("(h)"), G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, &fds, NULL, error);
  if (reply == NULL)
    return -1;
  ck_assert (fds != NULL);
  g_variant_get (reply, "(h)", &index);
  return g_unix_fd_list_get (fds, index, error);
}

/* A well-formed call that must get a reply of @type. */
static inline GVariant *
call_ok (GDBusConnection *conn, const char *method, GVariant *params, const char *type)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply = call_raw (conn, SSPID_INTERFACE, method, params, &error);

  ck_assert_msg (reply != NULL, "%s: %s", method, error != NULL ? error->message : "?");
  ck_assert_msg (g_variant_is_of_type (reply, G_VARIANT_TYPE (type)),
                 "%s answered %s, not %s", method, g_variant_get_type_string (reply), type);
  return reply;
}

static inline void
assert_dbus_error (GDBusConnection *conn, const char *interface, const char *method,
                   GVariant *params, const char *error_name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *remote = NULL;
  g_autofree char *params_text = params != NULL ? g_variant_print (params, TRUE) : NULL;

  reply = call_raw (conn, interface, method, params, &error);
  ck_assert_msg (reply == NULL, "%s%s was accepted", method,
                 params_text != NULL ? params_text : "()");
  remote = g_dbus_error_get_remote_error (error);
  ck_assert_msg (g_strcmp0 (remote, error_name) == 0, "%s%s: got %s (%s), not %s",
                 method, params_text != NULL ? params_text : "()",
                 remote != NULL ? remote : "a local error", error->message, error_name);
}

static inline guint32
step_status (GVariant *reply)
{
  guint32 status;

  g_variant_get_child (reply, 0, "u", &status);
  return status;
}

static inline guint64
step_handle (GVariant *reply)
{
  guint64 handle;

  g_variant_get_child (reply, 1, "t", &handle);
  return handle;
}

static inline GVariant *
empty_dict (void)
{
  return g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0);
}

static inline GVariant *
bytes_variant (const guint8 *data, gsize len)
{
  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, len, 1);
}

static inline GVariant *
no_alpn (void)
{
  return g_variant_new_strv (NULL, 0);
}

static inline GVariant *
acquire (GDBusConnection *conn, const char *principal, guint32 use)
{
  return call_ok (conn, "AcquireCredentialsHandle",
                  sspid_acquire_args_encode (&(SspidAcquireArgs) {
                    1, principal, SCHANNEL_NAME_A, use, NULL }),
                  SSPID_STEP_RESULT_TYPE);
}

static inline guint64
acquire_ok (GDBusConnection *conn, const char *principal, guint32 use)
{
  g_autoptr(GVariant) reply = acquire (conn, principal, use);

  ck_assert_uint_eq (step_status (reply), (guint32) SEC_E_OK);
  ck_assert_uint_ne (step_handle (reply), 0);
  return step_handle (reply);
}

static inline GVariant *
initialize (GDBusConnection *conn, guint64 cred, guint64 ctx, const guint8 *input, gsize len)
{
  return call_ok (conn, "InitializeSecurityContext",
                  sspid_step_args_encode (SSPID_CALL_INITIALIZE, &(SspidStepArgs) {
                    2, cred, ctx, "localhost",
                    ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM | ISC_REQ_CONFIDENTIALITY,
                    bytes_variant (input, len), NULL }),
                  SSPID_STEP_RESULT_TYPE);
}

static inline GVariant *
accept_ctx (GDBusConnection *conn, guint64 cred, guint64 ctx, const guint8 *input, gsize len)
{
  return call_ok (conn, "AcceptSecurityContext",
                  sspid_step_args_encode (SSPID_CALL_ACCEPT, &(SspidStepArgs) {
                    3, cred, ctx, NULL, ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_STREAM,
                    bytes_variant (input, len), NULL }),
                  SSPID_STEP_RESULT_TYPE);
}

static inline GVariant *
delete_ctx (GDBusConnection *conn, guint64 ctx)
{
  return call_ok (conn, "DeleteSecurityContext",
                  sspid_release_args_encode (&(SspidReleaseArgs) { 4, ctx }),
                  SSPID_STEP_RESULT_TYPE);
}

static inline GVariant *
free_cred (GDBusConnection *conn, guint64 cred)
{
  return call_ok (conn, "FreeCredentialsHandle",
                  sspid_release_args_encode (&(SspidReleaseArgs) { 5, cred }),
                  SSPID_STEP_RESULT_TYPE);
}

static inline GVariant *
query (GDBusConnection *conn, guint64 ctx)
{
  return call_ok (conn, "QueryContext", sspid_context_args_encode (ctx), "(ua{sv})");
}

static inline gboolean
timeout_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static inline GVariant *
encrypt (GDBusConnection *conn, guint64 ctx, const guint8 *data, gsize len)
{
  return call_ok (conn, "EncryptMessage",
                  sspid_record_args_encode (&(SspidRecordArgs) { ctx, bytes_variant (data, len) }),
                  "(uayu)");
}

static inline GVariant *
decrypt (GDBusConnection *conn, guint64 ctx, const guint8 *data, gsize len)
{
  return call_ok (conn, "DecryptMessage",
                  sspid_record_args_encode (&(SspidRecordArgs) { ctx, bytes_variant (data, len) }),
                  "(uayuuuu)");
}

static inline GVariant *
apply_control (GDBusConnection *conn, guint64 ctx, guint32 type, guint32 alert_type,
               guint32 alert_number)
{
  return call_ok (conn, "ApplyControlToken",
                  sspid_control_args_encode (&(SspidControlArgs) {
                    ctx, type, alert_type, alert_number }), "(u)");
}

static inline guint64
random_handle (void)
{
  guint64 value;

  do
    value = ((guint64) g_random_int () << 32) | g_random_int ();
  while (value == 0);
  return value;
}

/* The daemon still serves: Hello answers and an anonymous credential can be
 * acquired. */
static inline void
assert_daemon_healthy (GDBusConnection *conn)
{
  g_autoptr(GVariant) hello = call_ok (conn, "Hello", NULL, "(st)");
  const char *version;

  g_variant_get (hello, "(&st)", &version, NULL);
  ck_assert_str_eq (version, PACKAGE_VERSION);
  acquire_ok (conn, "", SECPKG_CRED_OUTBOUND);
}

/* A client context after its first step (the ClientHello went out). */
static inline guint64
start_client (GDBusConnection *conn, guint64 cred)
{
  g_autoptr(GVariant) reply = initialize (conn, cred, 0, NULL, 0);
  g_autoptr(GVariant) token = g_variant_get_child_value (reply, 2);

  ck_assert_uint_eq (step_status (reply), (guint32) SEC_I_CONTINUE_NEEDED);
  ck_assert_uint_ne (step_handle (reply), 0);
  ck_assert_uint_gt (g_variant_n_children (token), 0);
  return step_handle (reply);
}

/* Completed signals addressed to one connection, as they arrive. */
typedef struct {
  GDBusConnection *conn;
  guint            filter_id;
  guint            sub_id;
  GMutex           lock;
  GPtrArray       *destinations;   /* char *, seen by the filter */
  GPtrArray       *completed;      /* GVariant *, from the subscription */
} Listener;

static inline GDBusMessage *
completed_filter (GDBusConnection *conn, GDBusMessage *message, gboolean incoming,
                  gpointer user_data)
{
  Listener *l = user_data;

  if (incoming && g_dbus_message_get_message_type (message) == G_DBUS_MESSAGE_TYPE_SIGNAL
      && g_strcmp0 (g_dbus_message_get_member (message), SSPID_SIGNAL_COMPLETED) == 0)
    {
      g_mutex_lock (&l->lock);
      g_ptr_array_add (l->destinations, g_strdup (g_dbus_message_get_destination (message)));
      g_mutex_unlock (&l->lock);
    }
  return message;
}

static inline void
completed_cb (GDBusConnection *conn, const char *sender, const char *path,
              const char *interface, const char *member, GVariant *params,
              gpointer user_data)
{
  Listener *l = user_data;

  g_ptr_array_add (l->completed, g_variant_ref (params));
}

static inline Listener *
listener_new (GDBusConnection *conn)
{
  Listener *l = g_new0 (Listener, 1);
  g_autoptr(GVariant) owner = NULL;
  const char *daemon_name;

  owner = g_dbus_connection_call_sync (conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "GetNameOwner",
                                       g_variant_new ("(s)", SSPID_BUS_NAME),
                                       G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE,
                                       CALL_TIMEOUT_MS, NULL, NULL);
  ck_assert (owner != NULL);
  g_variant_get (owner, "(&s)", &daemon_name);

  l->conn = g_object_ref (conn);
  g_mutex_init (&l->lock);
  l->destinations = g_ptr_array_new_with_free_func (g_free);
  l->completed = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  l->filter_id = g_dbus_connection_add_filter (conn, completed_filter, l, NULL);
  /* No match rule: only a signal addressed to us can arrive. */
  l->sub_id = g_dbus_connection_signal_subscribe (conn, daemon_name, SSPID_INTERFACE,
                                                  SSPID_SIGNAL_COMPLETED, SSPID_OBJECT_PATH,
                                                  NULL, G_DBUS_SIGNAL_FLAGS_NO_MATCH_RULE,
                                                  completed_cb, l, NULL);
  return l;
}

static inline void
listener_free (Listener *l)
{
  g_dbus_connection_signal_unsubscribe (l->conn, l->sub_id);
  g_dbus_connection_remove_filter (l->conn, l->filter_id);
  g_ptr_array_unref (l->destinations);
  g_ptr_array_unref (l->completed);
  g_mutex_clear (&l->lock);
  g_object_unref (l->conn);
  g_free (l);
}

static inline void
send_no_reply (GDBusConnection *conn, const char *method, GVariant *params)
{
  g_autoptr(GDBusMessage) message = g_dbus_message_new_method_call (daemon_destination (conn),
                                                                    SSPID_OBJECT_PATH,
                                                                    SSPID_INTERFACE, method);
  g_autoptr(GError) error = NULL;

  g_dbus_message_set_body (message, params);
  g_dbus_message_set_flags (message, G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED);
  ck_assert_msg (g_dbus_connection_send_message (conn, message, G_DBUS_SEND_MESSAGE_FLAGS_NONE,
                                                 NULL, &error),
                 "send: %s", error != NULL ? error->message : "?");
}

/* Waits until @n Completed signals arrived in all. */
static inline void
listener_wait (Listener *l, guint n)
{
  gboolean timed_out = FALSE;
  guint timeout_id = g_timeout_add (SIGNAL_WAIT_MS, timeout_cb, &timed_out);

  while (l->completed->len < n && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout_id);
  ck_assert_msg (l->completed->len >= n, "%u Completed signals, expected %u",
                 l->completed->len, n);
}

static inline void
completed_get (Listener *l, guint i, guint64 *call_id, guint32 *status, guint64 *handle)
{
  GVariant *c = g_ptr_array_index (l->completed, i);

  ck_assert_str_eq (g_variant_get_type_string (c), SSPID_COMPLETED_TYPE);
  g_variant_get (c, "(tut@ayuxuu@a{sv})", call_id, status, handle, NULL, NULL, NULL, NULL, NULL,
                 NULL);
}

/* Plays a whole handshake through the daemon, client and server contexts
 * on @conn, passing tokens by hand. */
static inline void
raw_handshake (GDBusConnection *conn, guint64 *client_ctx, guint64 *server_ctx)
{
  guint64 ccred = acquire_ok (conn, "", SECPKG_CRED_OUTBOUND);
  guint64 scred = acquire_ok (conn, "server", SECPKG_CRED_INBOUND);
  const guint32 ok = (guint32) SEC_E_OK, more = (guint32) SEC_I_CONTINUE_NEEDED;
  g_autoptr(GVariant) r = initialize (conn, ccred, 0, NULL, 0);
  guint32 cs = step_status (r), ss = more;

  *client_ctx = step_handle (r);
  *server_ctx = 0;
  for (int round = 0; round < 10 && !(cs == ok && ss == ok); round++)
    {
      g_autoptr(GVariant) token = g_variant_get_child_value (r, 2);
      gsize len;
      const guint8 *data = g_variant_get_fixed_array (token, &len, 1);

      ck_assert_msg (cs == ok || cs == more, "client step: 0x%08x", cs);
      g_clear_pointer (&r, g_variant_unref);
      if (ss != ok)
        {
          r = accept_ctx (conn, scred, *server_ctx, data, len);
          ss = step_status (r);
          *server_ctx = step_handle (r);
          ck_assert_msg (ss == ok || ss == more, "server step: 0x%08x", ss);
        }
      if (cs != ok)
        {
          g_autoptr(GVariant) s_token = r != NULL ? g_variant_get_child_value (r, 2) : NULL;
          const guint8 *s_data = s_token != NULL ? g_variant_get_fixed_array (s_token, &len, 1)
                                                 : NULL;

          g_clear_pointer (&r, g_variant_unref);
          r = initialize (conn, ccred, *client_ctx, s_data, s_data != NULL ? len : 0);
          cs = step_status (r);
        }
    }
  ck_assert_uint_eq (cs, ok);
  ck_assert_uint_eq (ss, ok);
}

static inline void
assert_state (GDBusConnection *conn, guint64 ctx, const char *expected)
{
  g_autoptr(GVariant) q = query (conn, ctx);
  g_autoptr(GVariant) info = g_variant_get_child_value (q, 1);
  const char *state = NULL;

  ck_assert_uint_eq (step_status (q), (guint32) SEC_E_OK);
  ck_assert (g_variant_lookup (info, "state", "&s", &state));
  ck_assert_str_eq (state, expected);
}

static inline GBytes *
child_bytes (GVariant *reply, gsize i)
{
  g_autoptr(GVariant) v = g_variant_get_child_value (reply, i);

  return g_variant_get_data_as_bytes (v);
}
