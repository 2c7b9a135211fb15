/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's D-Bus front against malformed and hostile messages, spoken
 * raw (no libsspi): wrong argument types, unknown methods, random handles,
 * another connection's handles, limits, oversized tokens, and the Completed
 * signal of a call sent with NO_REPLY_EXPECTED.  After each of them the
 * daemon must still answer Hello and hand out a credential.
 */
#include "config.h"

#include <check.h>
#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dbus-raw.h"
#include "sspid-user.h"

static void
setup_limits (void)
{
  tu_fixture_setup_with ("[daemon]\nmax-token-size=4096\nmax-contexts-per-user=4\n");
}

/* --- wrong argument types ----------------------------------------------- */

START_TEST (test_wrong_types)
{
  g_autoptr(GDBusConnection) conn = connect_bus (tu_fixture_env);
  const char *invalid = "org.freedesktop.DBus.Error.InvalidArgs";
  const struct {
    const char *method;
    const char *args;     /* GVariant text, NULL for no arguments */
  } cases[] = {
    { "Hello", "(uint32 1,)" },
    { "AcquireCredentialsHandle", NULL },
    { "AcquireCredentialsHandle", "(uint64 1, '', 'Schannel', uint32 2, 'x')" },
    { "AcquireCredentialsHandle", "(uint64 1, '', 'Schannel', 2, @a{sv} {})" },
    { "AcquireCredentialsHandle", "(uint64 1, '', 'Schannel', uint32 2, @a{sv} {}, 1)" },
    { "InitializeSecurityContext", "(uint64 1, uint64 1, uint64 0, '', uint32 0, 'x', @as [])" },
    { "InitializeSecurityContext", "(uint64 1, uint64 1, uint64 0, '', uint32 0, @ay [])" },
    { "InitializeSecurityContext", "(uint64 1, uint64 1, uint64 0, uint32 0, @ay [], @as [])" },
    { "AcceptSecurityContext", "(uint64 1, uint64 1, uint64 0, '', uint32 0, @ay [], @as [])" },
    { "AcceptSecurityContext", "(uint64 1, uint64 1, uint64 0, uint32 0, @ay [], @ay [])" },
    { "DeleteSecurityContext", "(uint64 1,)" },
    { "DeleteSecurityContext", "(uint64 1, 'x')" },
    { "DeleteSecurityContext", "(uint32 1, uint64 1)" },
    { "FreeCredentialsHandle", "(uint64 1, int64 1)" },
    { "FreeCredentialsHandle", NULL },
    { "QueryContext", "(uint32 1,)" },
    { "QueryContext", "(uint64 1, uint64 2)" },
    { "EncryptMessage", "(uint64 1, 'data')" },
    { "EncryptMessage", "(uint64 1,)" },
    { "DecryptMessage", "(uint64 1, @ay [], @ay [])" },
    { "DecryptMessage", "(int64 1, @ay [])" },
    { "ApplyControlToken", "(uint64 1, uint32 1, uint32 1)" },
    { "ApplyControlToken", "(uint64 1, uint32 1, uint32 1, int32 0)" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      /* g_variant_parse() returns a full (not floating) reference, which
       * the call only borrows. */
      g_autoptr(GVariant) params = NULL;

      if (cases[i].args != NULL)
        {
          g_autoptr(GError) error = NULL;
          params = g_variant_parse (NULL, cases[i].args, NULL, NULL, &error);
          ck_assert_msg (params != NULL, "%s: %s", cases[i].args,
                         error != NULL ? error->message : "?");
        }
      assert_dbus_error (conn, SSPID_INTERFACE, cases[i].method, params, invalid);
      /* After each: still alive. */
      g_variant_unref (call_ok (conn, "Hello", NULL, "(st)"));
    }
  assert_daemon_healthy (conn);
}
END_TEST

START_TEST (test_unknown_method)
{
  g_autoptr(GDBusConnection) conn = connect_bus (tu_fixture_env);

  assert_dbus_error (conn, SSPID_INTERFACE, "NoSuchMethod", NULL,
                     "org.freedesktop.DBus.Error.UnknownMethod");
  assert_dbus_error (conn, SSPID_INTERFACE, "EncryptMessages",
                     g_variant_new ("(t)", (guint64) 1),
                     "org.freedesktop.DBus.Error.UnknownMethod");
  /* Another interface: the bus policy lets nothing else through. */
  assert_dbus_error (conn, "org.sspid1.NoSuchInterface", "Hello", NULL,
                     "org.freedesktop.DBus.Error.AccessDenied");
  assert_daemon_healthy (conn);
}
END_TEST

/* No method takes a descriptor, and closing one can block (a lingering
 * socket, a stalled FUSE file): the bus policy keeps messages that carry
 * any from reaching the daemon. */
START_TEST (test_fds_refused_by_bus)
{
  g_autoptr(GDBusConnection) conn = connect_bus (tu_fixture_env);
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;

  int pipe_fds[2];

  ck_assert (g_dbus_connection_get_capabilities (conn) & G_DBUS_CAPABILITY_FLAGS_UNIX_FD_PASSING);
  ck_assert_int_eq (pipe (pipe_fds), 0);
  ck_assert_int_eq (g_unix_fd_list_append (fds, pipe_fds[0], NULL), 0);
  close (pipe_fds[0]);
  close (pipe_fds[1]);
  reply = g_dbus_connection_call_with_unix_fd_list_sync (
    conn, SSPID_BUS_NAME, SSPID_OBJECT_PATH, SSPID_INTERFACE, "GetStatus", NULL, NULL,
    G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, fds, NULL, NULL, &error);
  ck_assert_ptr_null (reply);
  name = g_dbus_error_get_remote_error (error);
  ck_assert_str_eq (name, "org.freedesktop.DBus.Error.AccessDenied");
  assert_daemon_healthy (conn);
}
END_TEST

/* --- handles ------------------------------------------------------------ */

START_TEST (test_unknown_handles)
{
  g_autoptr(GDBusConnection) conn = connect_bus (tu_fixture_env);
  const guint32 invalid = (guint32) SEC_E_INVALID_HANDLE;
  guint64 cred = acquire_ok (conn, "", SECPKG_CRED_OUTBOUND);
  guint64 server_cred = acquire_ok (conn, "server", SECPKG_CRED_INBOUND);

  for (int round = 0; round < 8; round++)
    {
      guint64 h = random_handle ();
      g_autoptr(GVariant) r1 = initialize (conn, h, 0, NULL, 0);
      g_autoptr(GVariant) r2 = initialize (conn, cred, h, NULL, 0);
      g_autoptr(GVariant) r3 = accept_ctx (conn, h, 0, NULL, 0);
      g_autoptr(GVariant) r4 = accept_ctx (conn, server_cred, h, NULL, 0);
      g_autoptr(GVariant) r5 = delete_ctx (conn, h);
      g_autoptr(GVariant) r6 = free_cred (conn, h);
      g_autoptr(GVariant) r7 = query (conn, h);
      g_autoptr(GVariant) r8 = encrypt (conn, h, (const guint8 *) "x", 1);
      g_autoptr(GVariant) r9 = decrypt (conn, h, (const guint8 *) "\x17\x03\x03\x00\x01x", 6);
      g_autoptr(GVariant) r10 = apply_control (conn, h, SCHANNEL_SHUTDOWN, 0, 0);

      ck_assert_uint_eq (step_status (r1), invalid);
      ck_assert_uint_eq (step_status (r2), invalid);
      ck_assert_uint_eq (step_status (r3), invalid);
      ck_assert_uint_eq (step_status (r4), invalid);
      ck_assert_uint_eq (step_status (r5), invalid);
      ck_assert_uint_eq (step_status (r6), invalid);
      ck_assert_uint_eq (step_status (r7), invalid);
      ck_assert_uint_eq (step_status (r8), invalid);
      ck_assert_uint_eq (step_status (r9), invalid);
      ck_assert_uint_eq (step_status (r10), invalid);
      ck_assert_uint_eq (step_handle (r1), 0);
      ck_assert_uint_eq (step_handle (r2), 0);
    }

  /* A handle of the wrong kind is not found either. */
  {
    guint64 ctx = start_client (conn, cred);
    g_autoptr(GVariant) as_cred = free_cred (conn, ctx);
    g_autoptr(GVariant) as_ctx = delete_ctx (conn, cred);
    g_autoptr(GVariant) as_cred_isc = initialize (conn, ctx, 0, NULL, 0);
    g_autoptr(GVariant) client_as_server = accept_ctx (conn, server_cred, ctx, NULL, 0);

    ck_assert_uint_eq (step_status (as_cred), invalid);
    ck_assert_uint_eq (step_status (as_ctx), invalid);
    ck_assert_uint_eq (step_status (as_cred_isc), invalid);
    ck_assert_uint_eq (step_status (client_as_server), invalid);
  }

  /* Freed and deleted handles are gone. */
  {
    guint64 ctx = start_client (conn, cred);
    g_autoptr(GVariant) del = delete_ctx (conn, ctx);
    g_autoptr(GVariant) del2 = delete_ctx (conn, ctx);
    g_autoptr(GVariant) q = query (conn, ctx);
    g_autoptr(GVariant) fr = free_cred (conn, cred);
    g_autoptr(GVariant) fr2 = free_cred (conn, cred);

    ck_assert_uint_eq (step_status (del), (guint32) SEC_E_OK);
    ck_assert_uint_eq (step_status (del2), invalid);
    ck_assert_uint_eq (step_status (q), invalid);
    ck_assert_uint_eq (step_status (fr), (guint32) SEC_E_OK);
    ck_assert_uint_eq (step_status (fr2), invalid);
  }
  assert_daemon_healthy (conn);
}
END_TEST

/* Another connection's handles are answered exactly like handles that were
 * never issued: compare the full replies. */
START_TEST (test_foreign_handles)
{
  g_autoptr(GDBusConnection) a = connect_bus (tu_fixture_env);
  g_autoptr(GDBusConnection) b = connect_bus (tu_fixture_env);
  guint64 cred_a = acquire_ok (a, "", SECPKG_CRED_OUTBOUND);
  guint64 server_a = acquire_ok (a, "server", SECPKG_CRED_INBOUND);
  guint64 ctx_a = start_client (a, cred_a);
  guint64 cred_b = acquire_ok (b, "", SECPKG_CRED_OUTBOUND);
  guint64 server_b = acquire_ok (b, "server", SECPKG_CRED_INBOUND);
  guint64 unknown = random_handle ();
  const guint8 junk[16] = { 0x16, 0x03, 0x03 };

  {
    g_autoptr(GVariant) foreign = initialize (b, cred_a, 0, NULL, 0);
    g_autoptr(GVariant) never = initialize (b, unknown, 0, NULL, 0);
    ck_assert_uint_eq (step_status (foreign), (guint32) SEC_E_INVALID_HANDLE);
    ck_assert (g_variant_equal (foreign, never));
  }
  {
    g_autoptr(GVariant) foreign = initialize (b, cred_b, ctx_a, junk, sizeof junk);
    g_autoptr(GVariant) never = initialize (b, cred_b, unknown, junk, sizeof junk);
    ck_assert_uint_eq (step_status (foreign), (guint32) SEC_E_INVALID_HANDLE);
    ck_assert (g_variant_equal (foreign, never));
  }
  {
    g_autoptr(GVariant) foreign = accept_ctx (b, server_a, 0, junk, sizeof junk);
    g_autoptr(GVariant) never = accept_ctx (b, unknown, 0, junk, sizeof junk);
    ck_assert (g_variant_equal (foreign, never));
  }
  {
    g_autoptr(GVariant) foreign = accept_ctx (b, server_b, ctx_a, junk, sizeof junk);
    g_autoptr(GVariant) never = accept_ctx (b, server_b, unknown, junk, sizeof junk);
    ck_assert (g_variant_equal (foreign, never));
  }
  {
    g_autoptr(GVariant) foreign = query (b, ctx_a);
    g_autoptr(GVariant) never = query (b, unknown);
    ck_assert_uint_eq (step_status (foreign), (guint32) SEC_E_INVALID_HANDLE);
    ck_assert (g_variant_equal (foreign, never));
  }
  {
    g_autoptr(GVariant) foreign = delete_ctx (b, ctx_a);
    g_autoptr(GVariant) never = delete_ctx (b, unknown);
    ck_assert (g_variant_equal (foreign, never));
  }
  {
    g_autoptr(GVariant) foreign = free_cred (b, cred_a);
    g_autoptr(GVariant) never = free_cred (b, unknown);
    ck_assert (g_variant_equal (foreign, never));
  }

  {
    g_autoptr(GVariant) foreign = encrypt (b, ctx_a, junk, sizeof junk);
    g_autoptr(GVariant) never = encrypt (b, unknown, junk, sizeof junk);
    ck_assert_uint_eq (step_status (foreign), (guint32) SEC_E_INVALID_HANDLE);
    ck_assert (g_variant_equal (foreign, never));
  }
  {
    g_autoptr(GVariant) foreign = decrypt (b, ctx_a, junk, sizeof junk);
    g_autoptr(GVariant) never = decrypt (b, unknown, junk, sizeof junk);
    ck_assert (g_variant_equal (foreign, never));
  }
  {
    g_autoptr(GVariant) foreign = apply_control (b, ctx_a, SCHANNEL_SHUTDOWN, 0, 0);
    g_autoptr(GVariant) never = apply_control (b, unknown, SCHANNEL_SHUTDOWN, 0, 0);
    ck_assert (g_variant_equal (foreign, never));
  }

  /* B's attempts changed nothing for A. */
  {
    g_autoptr(GVariant) q = query (a, ctx_a);
    g_autoptr(GVariant) info = g_variant_get_child_value (q, 1);
    const char *state = NULL;

    ck_assert_uint_eq (step_status (q), (guint32) SEC_E_OK);
    ck_assert (g_variant_lookup (info, "state", "&s", &state));
    ck_assert_str_eq (state, "handshake");
  }
  {
    g_autoptr(GVariant) del = delete_ctx (a, ctx_a);
    g_autoptr(GVariant) fr = free_cred (a, cred_a);
    ck_assert_uint_eq (step_status (del), (guint32) SEC_E_OK);
    ck_assert_uint_eq (step_status (fr), (guint32) SEC_E_OK);
  }
  assert_daemon_healthy (a);
  assert_daemon_healthy (b);
}
END_TEST

/* --- limits ------------------------------------------------------------- */

static void
assert_context_refused (GDBusConnection *conn, guint64 cred)
{
  g_autoptr(GVariant) r = initialize (conn, cred, 0, NULL, 0);

  ck_assert_uint_eq (step_status (r), (guint32) SEC_E_INSUFFICIENT_MEMORY);
  ck_assert_uint_eq (step_handle (r), 0);
}

static void
name_gone_cb (GDBusConnection *conn, const char *sender, const char *path,
              const char *interface, const char *member, GVariant *params,
              gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

/* max-contexts-per-user counts across the user's connections, and a
 * connection that closes gives its contexts back at once. */
START_TEST (test_context_limit)
{
  g_autoptr(GDBusConnection) b = connect_bus (tu_fixture_env);
  g_autoptr(GDBusConnection) a = connect_bus (tu_fixture_env);
  g_autofree char *a_name = g_strdup (g_dbus_connection_get_unique_name (a));
  guint64 cred_a = acquire_ok (a, "", SECPKG_CRED_OUTBOUND);
  guint64 cred_b = acquire_ok (b, "", SECPKG_CRED_OUTBOUND);
  guint64 ctx_a[4];
  gboolean gone = FALSE, timed_out = FALSE;
  guint sub_id, timeout_id;

  for (gsize i = 0; i < G_N_ELEMENTS (ctx_a); i++)
    ctx_a[i] = start_client (a, cred_a);
  assert_context_refused (a, cred_a);
  assert_context_refused (b, cred_b);

  /* Deleting one makes room, for any connection of the user. */
  {
    g_autoptr(GVariant) del = delete_ctx (a, ctx_a[0]);
    ck_assert_uint_eq (step_status (del), (guint32) SEC_E_OK);
  }
  start_client (b, cred_b);
  assert_context_refused (a, cred_a);

  /* A goes away.  The bus tells the daemon before it passes on anything B
   * sends after B itself heard of it. */
  sub_id = g_dbus_connection_signal_subscribe (b, "org.freedesktop.DBus", "org.freedesktop.DBus",
                                               "NameOwnerChanged", "/org/freedesktop/DBus",
                                               a_name, G_DBUS_SIGNAL_FLAGS_NONE, name_gone_cb,
                                               &gone, NULL);
  /* A round trip to the bus, so our match rule is in place before A goes. */
  {
    g_autoptr(GVariant) id = g_dbus_connection_call_sync (b, "org.freedesktop.DBus",
                                                          "/org/freedesktop/DBus",
                                                          "org.freedesktop.DBus", "GetId", NULL,
                                                          G_VARIANT_TYPE ("(s)"),
                                                          G_DBUS_CALL_FLAGS_NONE,
                                                          CALL_TIMEOUT_MS, NULL, NULL);
    ck_assert (id != NULL);
  }
  g_dbus_connection_close_sync (a, NULL, NULL);
  timeout_id = g_timeout_add (SIGNAL_WAIT_MS, timeout_cb, &timed_out);
  while (!gone && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout_id);
  g_dbus_connection_signal_unsubscribe (b, sub_id);
  ck_assert_msg (gone, "the bus did not report the closed connection");

  for (int i = 0; i < 3; i++)
    start_client (b, cred_b);
  assert_context_refused (b, cred_b);
  {
    g_autoptr(GVariant) q = query (b, ctx_a[1]);
    ck_assert_uint_eq (step_status (q), (guint32) SEC_E_INVALID_HANDLE);
  }
  assert_daemon_healthy (b);
}
END_TEST

START_TEST (test_token_too_big)
{
  g_autoptr(GDBusConnection) conn = connect_bus (tu_fixture_env);
  guint64 cred = acquire_ok (conn, "", SECPKG_CRED_OUTBOUND);
  guint64 server = acquire_ok (conn, "server", SECPKG_CRED_INBOUND);
  g_autofree guint8 *big = g_malloc0 (4097);
  guint64 ctx;

  big[0] = 0x16;
  big[1] = 0x03;
  big[2] = 0x03;
  {
    g_autoptr(GVariant) r = initialize (conn, cred, 0, big, 4097);
    ck_assert_uint_eq (step_status (r), (guint32) SEC_E_INVALID_TOKEN);
    ck_assert_uint_eq (step_handle (r), 0);
  }
  {
    g_autoptr(GVariant) r = accept_ctx (conn, server, 0, big, 4097);
    ck_assert_uint_eq (step_status (r), (guint32) SEC_E_INVALID_TOKEN);
    ck_assert_uint_eq (step_handle (r), 0);
  }

  /* On a live context: refused without touching the session. */
  ctx = start_client (conn, cred);
  {
    g_autoptr(GVariant) r = initialize (conn, cred, ctx, big, 4097);
    g_autoptr(GVariant) q = query (conn, ctx);
    g_autoptr(GVariant) info = g_variant_get_child_value (q, 1);
    const char *state = NULL;

    ck_assert_uint_eq (step_status (r), (guint32) SEC_E_INVALID_TOKEN);
    ck_assert_uint_eq (step_status (q), (guint32) SEC_E_OK);
    ck_assert (g_variant_lookup (info, "state", "&s", &state));
    ck_assert_str_eq (state, "handshake");
  }
  assert_daemon_healthy (conn);
}
END_TEST

/* Every string and array a request carries has a maximum (sspid.conf(5),
 * LIMITS), checked before anything is kept: at the limit it is taken,
 * one byte or entry over it is SEC_E_INVALID_PARAMETER. */
static GVariant *
initialize_with (GDBusConnection *conn, guint64 cred, const char *target, GVariant *alpn)
{
  return call_ok (conn, "InitializeSecurityContext",
                  g_variant_new ("(tttsu@ay@asa{sv})", (guint64) 2, cred, (guint64) 0, target,
                                 (guint32) (ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM),
                                 bytes_variant (NULL, 0), alpn, NULL),
                  SSPID_STEP_RESULT_TYPE);
}

/* @n names of @len bytes each. */
static GVariant *
alpn_list (guint n, gsize len)
{
  g_autofree char *name = g_strnfill (len, 'p');
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_STRING_ARRAY);
  for (guint i = 0; i < n; i++)
    g_variant_builder_add (&b, "s", name);
  return g_variant_builder_end (&b);
}

static GVariant *
auth_data_of (guint n)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *key = g_strdup_printf ("key-%u", i);

      g_variant_builder_add (&b, "{sv}", key, g_variant_new_uint32 (i));
    }
  return g_variant_builder_end (&b);
}

static guint32
acquire_status (GDBusConnection *conn, const char *principal, GVariant *auth_data)
{
  g_autoptr(GVariant) r = call_ok (conn, "AcquireCredentialsHandle",
                                   g_variant_new ("(tssu@a{sv})", (guint64) 1, principal,
                                                  SCHANNEL_NAME_A,
                                                  (guint32) SECPKG_CRED_OUTBOUND, auth_data),
                                   SSPID_STEP_RESULT_TYPE);
  return step_status (r);
}

START_TEST (test_strings_bounded)
{
  g_autoptr(GDBusConnection) conn = connect_bus (tu_fixture_env);
  guint64 cred = acquire_ok (conn, "", SECPKG_CRED_OUTBOUND);
  guint64 server = acquire_ok (conn, "server", SECPKG_CRED_INBOUND);
  g_autofree char *label = g_strnfill (63, 'a');
  /* 4 labels of 63 and 3 dots: 255 bytes, as long as a DNS name gets. */
  g_autofree char *target = g_strjoin (".", label, label, label, label, NULL);
  g_autofree char *over = g_strconcat (target, "a", NULL);
  /* 10 MB (1 MB under valgrind, where GDBus's parse of 10 MB in the daemon
   * takes longer than a call may). */
  g_autofree char *huge = g_strnfill ((tu_is_wrapped () ? 1 : 10) * 1024 * 1024, 'x');
  g_autofree char *principal = g_strnfill (255, 'c');
  g_autofree char *principal_over = g_strnfill (256, 'c');

  ck_assert_uint_eq (strlen (target), 255);
  {
    g_autoptr(GVariant) r = initialize_with (conn, cred, target, no_alpn ());
    ck_assert_uint_eq (step_status (r), (guint32) SEC_I_CONTINUE_NEEDED);
  }
  for (gsize i = 0; i < 2; i++)
    {
      g_autoptr(GVariant) r = initialize_with (conn, cred, i == 0 ? over : huge, no_alpn ());
      ck_assert_uint_eq (step_status (r), (guint32) SEC_E_INVALID_PARAMETER);
      ck_assert_uint_eq (step_handle (r), 0);
    }

  /* ALPN: a ProtocolNameList holds 65,535 bytes, a name 1-255; 257 names
   * of 255 bytes, a longer name or an empty one are refused by the
   * decoder. */
  {
    /* GnuTLS itself takes up to 8 names of up to 31 bytes. */
    g_autoptr(GVariant) r = initialize_with (conn, cred, "localhost", alpn_list (8, 31));
    ck_assert_uint_eq (step_status (r), (guint32) SEC_I_CONTINUE_NEEDED);
  }
  {
    GVariant *bad[] = { alpn_list (257, 255), alpn_list (1, 256), alpn_list (1, 0),
                        alpn_list (tu_is_wrapped () ? 30000 : 100000, 1) };

    for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autoptr(GVariant) r = initialize_with (conn, cred, "localhost", bad[i]);
        ck_assert_msg (step_status (r) == (guint32) SEC_E_INVALID_PARAMETER,
                       "ALPN list %" G_GSIZE_FORMAT ": 0x%08x", i, step_status (r));
      }
  }
  {
    g_autoptr(GVariant) r = call_ok (conn, "AcceptSecurityContext",
                                     g_variant_new ("(tttu@ay@asa{sv})", (guint64) 3, server,
                                                    (guint64) 0, (guint32) ASC_REQ_STREAM,
                                                    bytes_variant (NULL, 0), alpn_list (1, 256),
                                                    NULL),
                                     SSPID_STEP_RESULT_TYPE);
    ck_assert_uint_eq (step_status (r), (guint32) SEC_E_INVALID_PARAMETER);
  }

  /* A principal of 255 bytes is looked up (and not found); longer is not. */
  ck_assert_uint_eq (acquire_status (conn, principal, empty_dict ()),
                     (guint32) SEC_E_UNKNOWN_CREDENTIALS);
  ck_assert_uint_eq (acquire_status (conn, principal_over, empty_dict ()),
                     (guint32) SEC_E_INVALID_PARAMETER);
  ck_assert_uint_eq (acquire_status (conn, huge, empty_dict ()),
                     (guint32) SEC_E_INVALID_PARAMETER);
  ck_assert_uint_eq (acquire_status (conn, "", auth_data_of (16)), (guint32) SEC_E_OK);
  ck_assert_uint_eq (acquire_status (conn, "", auth_data_of (17)),
                     (guint32) SEC_E_INVALID_PARAMETER);
  ck_assert_uint_eq (acquire_status (conn, "", auth_data_of (tu_is_wrapped () ? 20000 : 200000)),
                     (guint32) SEC_E_INVALID_PARAMETER);

  /* ISC/ASC options: 8 entries taken, 9 not; "dtls-mtu" must be a u. */
  {
    GVariant *options[] = { auth_data_of (8), auth_data_of (9),
                            g_variant_new_parsed ("{'dtls-mtu': <'1200'>}") };
    const guint32 expect[] = { SEC_I_CONTINUE_NEEDED, SEC_E_INVALID_PARAMETER,
                               SEC_E_INVALID_PARAMETER };

    for (gsize i = 0; i < G_N_ELEMENTS (options); i++)
      {
        g_autoptr(GVariant) r = call_ok (conn, "InitializeSecurityContext",
                                         g_variant_new ("(tttsu@ay@as@a{sv})", (guint64) 4, cred,
                                                        (guint64) 0, "localhost",
                                                        (guint32) ISC_REQ_STREAM,
                                                        bytes_variant (NULL, 0), no_alpn (),
                                                        options[i]),
                                         SSPID_STEP_RESULT_TYPE);
        ck_assert_msg (step_status (r) == expect[i], "options %" G_GSIZE_FORMAT ": 0x%08x", i,
                       step_status (r));
      }
  }
  assert_daemon_healthy (conn);
}
END_TEST

/* A caller's refusals cannot write the log: the name it asks for is
 * escaped and cut short, and past SSPID_REFUSALS_LOGGED lines a minute
 * the rest are only counted, and told in one line (at the latest when
 * the daemon stops). */
START_TEST (test_refusals_do_not_write_the_log)
{
  g_autoptr(GDBusConnection) conn = connect_bus (tu_fixture_env);
  g_autofree char *long_tail = g_strnfill (200, 'z');
  g_autofree char *name = g_strconcat ("nope\nsspid-Message: forged-line\r", long_tail, NULL);
  g_autofree char *log = NULL;
  g_auto(GStrv) lines = NULL;
  guint refusal_lines = 0;

  for (guint i = 0; i < 300; i++)
    ck_assert_uint_eq (acquire_status (conn, name, empty_dict ()),
                       (guint32) SEC_E_UNKNOWN_CREDENTIALS);
  assert_daemon_healthy (conn);
  tu_env_kill_daemon (tu_fixture_env, SIGTERM);

  log = tu_env_daemon_log (tu_fixture_env);
  lines = g_strsplit (log, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      ck_assert_msg (!g_str_has_prefix (lines[i], "sspid-Message: forged-line"),
                     "a forged log line: %s", lines[i]);
      ck_assert_msg (strstr (lines[i], long_tail) == NULL, "a caller's name logged whole");
      if (strstr (lines[i], "credential \"nope\\x0asspid-Message: forged-line\\x0dzzz") != NULL)
        refusal_lines++;
    }
  ck_assert_uint_eq (refusal_lines, SSPID_REFUSALS_LOGGED);
  tu_assert_contains (log, "... and 290 more refusals (credential) for uid ", "daemon log");
}
END_TEST

/* --- per-user limits ---------------------------------------------------- */

static void
setup_user_limits (void)
{
  tu_fixture_setup_with ("[daemon]\nmax-credentials-per-connection=2\n"
                         "max-credentials-per-user=3\nmax-pending-per-user=8\n");
}

/* max-credentials-per-user counts the handles of all of a user's
 * connections; freeing one makes room on any of them. */
START_TEST (test_credential_limit_per_user)
{
  g_autoptr(GDBusConnection) a = connect_bus (tu_fixture_env);
  g_autoptr(GDBusConnection) b = connect_bus (tu_fixture_env);
  guint64 a1 = acquire_ok (a, "", SECPKG_CRED_OUTBOUND);
  guint64 a2 = acquire_ok (a, "", SECPKG_CRED_OUTBOUND);
  g_autofree char *log = NULL;

  /* The connection's limit. */
  ck_assert_uint_eq (acquire_status (a, "", empty_dict ()), (guint32) SEC_E_INSUFFICIENT_MEMORY);
  acquire_ok (b, "", SECPKG_CRED_OUTBOUND);
  /* The user's: b holds one of two. */
  ck_assert_uint_eq (acquire_status (b, "", empty_dict ()), (guint32) SEC_E_INSUFFICIENT_MEMORY);
  {
    g_autoptr(GVariant) r = free_cred (a, a1);
    ck_assert_uint_eq (step_status (r), (guint32) SEC_E_OK);
  }
  acquire_ok (b, "", SECPKG_CRED_OUTBOUND);
  log = tu_env_daemon_log (tu_fixture_env);
  tu_assert_contains_all (log, "daemon log", "limit max-credentials-per-connection=2 reached",
                          "limit max-credentials-per-user=3 reached", NULL);
  {
    g_autoptr(GVariant) r = free_cred (a, a2);
    ck_assert_uint_eq (step_status (r), (guint32) SEC_E_OK);
  }
  assert_daemon_healthy (a);
}
END_TEST

/* max-pending-per-user: two connections send 64 first steps each without
 * waiting; the user may have 8 unanswered, so some are refused (with
 * SEC_E_INSUFFICIENT_MEMORY, and a log line), while each connection alone
 * stays far under its own limit (1,024). */
START_TEST (test_pending_limit_per_user)
{
  g_autoptr(GDBusConnection) a = connect_bus (tu_fixture_env);
  g_autoptr(GDBusConnection) b = connect_bus (tu_fixture_env);
  guint64 cred_a = acquire_ok (a, "", SECPKG_CRED_OUTBOUND);
  guint64 cred_b = acquire_ok (b, "", SECPKG_CRED_OUTBOUND);
  Listener *la = listener_new (a), *lb = listener_new (b);
  guint refused = 0, served = 0;
  g_autofree char *log = NULL;

  for (guint i = 0; i < 64; i++)
    for (guint j = 0; j < 2; j++)
      send_no_reply (j == 0 ? a : b, "InitializeSecurityContext",
                     g_variant_new ("(tttsu@ay@asa{sv})", (guint64) i + 1, j == 0 ? cred_a : cred_b,
                                    (guint64) 0, "localhost", (guint32) ISC_REQ_STREAM,
                                    bytes_variant (NULL, 0), no_alpn (), NULL));
  listener_wait (la, 64);
  listener_wait (lb, 64);
  for (guint i = 0; i < 128; i++)
    {
      guint64 id, handle;
      guint32 status;

      completed_get (i < 64 ? la : lb, i % 64, &id, &status, &handle);
      if (status == (guint32) SEC_E_INSUFFICIENT_MEMORY)
        refused++;
      else
        {
          ck_assert_uint_eq (status, (guint32) SEC_I_CONTINUE_NEEDED);
          served++;
        }
    }
  printf ("pending per user: %u first steps served, %u refused\n", served, refused);
  ck_assert_uint_gt (refused, 0);
  ck_assert_uint_ge (served, 8);
  listener_free (la);
  listener_free (lb);
  log = tu_env_daemon_log (tu_fixture_env);
  tu_assert_contains (log, "limit max-pending-per-user=8 reached", "daemon log");
  assert_daemon_healthy (a);
}
END_TEST

/* --- Completed ---------------------------------------------------------- */

START_TEST (test_no_reply_completed)
{
  g_autoptr(GDBusConnection) conn = connect_bus (tu_fixture_env);
  Listener *l = listener_new (conn);
  const guint64 call_id = G_GUINT64_CONSTANT (0xfeedface12345678);
  guint64 got_id, handle;
  guint32 status;

  send_no_reply (conn, "AcquireCredentialsHandle",
                 g_variant_new ("(tssu@a{sv})", call_id, "", SCHANNEL_NAME_A,
                                (guint32) SECPKG_CRED_OUTBOUND, empty_dict ()));
  listener_wait (l, 1);
  completed_get (l, 0, &got_id, &status, &handle);
  ck_assert_uint_eq (got_id, call_id);
  ck_assert_uint_eq (status, (guint32) SEC_E_OK);
  ck_assert_uint_ne (handle, 0);
  g_mutex_lock (&l->lock);
  ck_assert_uint_eq (l->destinations->len, 1);
  ck_assert_str_eq (g_ptr_array_index (l->destinations, 0),
                    g_dbus_connection_get_unique_name (conn));
  g_mutex_unlock (&l->lock);

  send_no_reply (conn, "DeleteSecurityContext",
                 g_variant_new ("(tt)", call_id + 1, random_handle ()));
  listener_wait (l, 2);
  completed_get (l, 1, &got_id, &status, &handle);
  ck_assert_uint_eq (got_id, call_id + 1);
  ck_assert_uint_eq (status, (guint32) SEC_E_INVALID_HANDLE);

  listener_free (l);
  assert_daemon_healthy (conn);
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "malformed", tu_fixture_setup, tu_fixture_teardown, 120, { { test_wrong_types },
                                                                 { test_unknown_method },
                                                                 { test_fds_refused_by_bus } } },
    { "handles", tu_fixture_setup, tu_fixture_teardown, 120, { { test_unknown_handles },
                                                               { test_foreign_handles } } },
    { "limits", setup_limits, tu_fixture_teardown, 120, { { test_token_too_big },
                                                          { test_context_limit } } },
    { "strings", tu_fixture_setup, tu_fixture_teardown, 120, { { test_strings_bounded },
                                                               { test_refusals_do_not_write_the_log } } },
    { "user-limits", setup_user_limits, tu_fixture_teardown, 120, { { test_credential_limit_per_user },
                                                                    { test_pending_limit_per_user } } },
    { "completed", tu_fixture_setup, tu_fixture_teardown, 120, { { test_no_reply_completed } } },
  };

  return tu_run_cases ("dbus-input", cases, G_N_ELEMENTS (cases));
}
