/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's D-Bus front over time, spoken raw (no libsspi): calls
 * queued while the caller is being identified, the per-context order of
 * calls (a delete waits for the step before it), callers vanishing with
 * work in flight, whole handshakes and records through the daemon, the
 * handshake timeout, and SIGHUP reloads.
 */
#include "config.h"

#include <check.h>
#include <gio/gio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "dbus-raw.h"

/* Short, so that the test is quick; under a wrapper (valgrind) long enough
 * for the handshake that must finish in time. */
static guint
handshake_timeout_sec (void)
{
  return tu_is_wrapped () ? 5 : 1;
}

static void
setup_timeout (void)
{
  g_autofree char *config = g_strdup_printf ("[daemon]\nhandshake-timeout-sec=%u\n",
                                             handshake_timeout_sec ());

  tu_fixture_setup_with (config);
}

/* --- order ------------------------------------------------------------- */

/* A burst sent before the daemon knows who we are is queued while it asks
 * the bus, then answered in order. */
START_TEST (test_burst_in_order)
{
  g_autoptr(GDBusConnection) conn = connect_bus (tu_fixture_env);
  Listener *l = listener_new (conn);
  g_autoptr(GHashTable) handles = g_hash_table_new_full (g_int64_hash, g_int64_equal,
                                                         g_free, NULL);
  const guint n = 50;

  for (guint64 i = 0; i < n; i++)
    send_no_reply (conn, "AcquireCredentialsHandle",
                   g_variant_new ("(tssu@a{sv})", 100 + i, i % 2 ? "client" : "",
                                  SCHANNEL_NAME_A, (guint32) SECPKG_CRED_OUTBOUND,
                                  empty_dict ()));
  listener_wait (l, n);
  for (guint i = 0; i < n; i++)
    {
      guint64 got_id, handle;
      guint32 status;

      completed_get (l, i, &got_id, &status, &handle);
      ck_assert_uint_eq (got_id, 100 + i);
      ck_assert_uint_eq (status, (guint32) SEC_E_OK);
      ck_assert_msg (g_hash_table_add (handles, g_memdup2 (&handle, sizeof handle)),
                     "handle issued twice");
    }
  listener_free (l);
  assert_daemon_healthy (conn);
}
END_TEST

/* DeleteSecurityContext waits for the step running on the context, whose
 * result is still delivered first. */
START_TEST (test_delete_behind_step)
{
  g_autoptr(GDBusConnection) conn = connect_bus (tu_fixture_env);
  guint64 cred = acquire_ok (conn, "", SECPKG_CRED_OUTBOUND);
  guint64 ctx = start_client (conn, cred);
  const guint8 junk[64] = { 0x16, 0x03, 0x03, 0x00, 0x3b, 0x02 };
  Listener *l = listener_new (conn);
  guint64 got_id, handle;
  guint32 status;

  send_no_reply (conn, "InitializeSecurityContext",
                 g_variant_new ("(tttsu@ay@asa{sv})", (guint64) 10, cred, ctx, "localhost",
                                (guint32) ISC_REQ_ALLOCATE_MEMORY,
                                bytes_variant (junk, sizeof junk), no_alpn (), NULL));
  send_no_reply (conn, "DeleteSecurityContext", g_variant_new ("(tt)", (guint64) 11, ctx));
  listener_wait (l, 2);

  completed_get (l, 0, &got_id, &status, &handle);
  ck_assert_uint_eq (got_id, 10);
  ck_assert_uint_ne (status, (guint32) SEC_E_INVALID_HANDLE);
  ck_assert_uint_ne (status, (guint32) SEC_E_OK);
  completed_get (l, 1, &got_id, &status, &handle);
  ck_assert_uint_eq (got_id, 11);
  ck_assert_uint_eq (status, (guint32) SEC_E_OK);
  {
    g_autoptr(GVariant) q = query (conn, ctx);
    ck_assert_uint_eq (step_status (q), (guint32) SEC_E_INVALID_HANDLE);
  }
  listener_free (l);
  assert_daemon_healthy (conn);
}
END_TEST

/* Connections that vanish with steps queued and running on workers: the
 * daemon frees their contexts (a valgrind run of this test catches a use
 * after free) and keeps serving. */
START_TEST (test_disconnect_in_flight)
{
  g_autoptr(GDBusConnection) keeper = connect_bus (tu_fixture_env);
  guint64 cred = acquire_ok (keeper, "", SECPKG_CRED_OUTBOUND);
  g_autoptr(GVariant) hello = initialize (keeper, cred, 0, NULL, 0);
  g_autoptr(GVariant) client_hello = g_variant_get_child_value (hello, 2);

  for (int round = 0; round < 20; round++)
    {
      g_autoptr(GDBusConnection) conn = connect_bus (tu_fixture_env);
      guint64 server = acquire_ok (conn, "server", SECPKG_CRED_INBOUND);

      for (guint64 i = 0; i < 8; i++)
        send_no_reply (conn, "AcceptSecurityContext",
                       g_variant_new ("(tttu@ay@asa{sv})", i, server, (guint64) 0,
                                      (guint32) ASC_REQ_ALLOCATE_MEMORY, client_hello,
                                      no_alpn (), NULL));
      g_dbus_connection_close_sync (conn, NULL, NULL);
    }
  assert_daemon_healthy (keeper);
}
END_TEST

/* --- handshakes and records --------------------------------------------- */

START_TEST (test_handshake_and_direction)
{
  g_autoptr(GDBusConnection) conn = connect_bus (tu_fixture_env);
  guint64 client_ctx, server_ctx;
  guint64 outbound = acquire_ok (conn, "", SECPKG_CRED_OUTBOUND);
  guint64 inbound = acquire_ok (conn, "server", SECPKG_CRED_INBOUND);

  raw_handshake (conn, &client_ctx, &server_ctx);
  assert_state (conn, client_ctx, "established");
  assert_state (conn, server_ctx, "established");

  /* A credential used the wrong way round. */
  {
    g_autoptr(GVariant) isc = initialize (conn, inbound, 0, NULL, 0);
    g_autoptr(GVariant) asc = accept_ctx (conn, outbound, 0, NULL, 0);
    ck_assert_uint_eq (step_status (isc), (guint32) SEC_E_NO_CREDENTIALS);
    ck_assert_uint_eq (step_status (asc), (guint32) SEC_E_NO_CREDENTIALS);
  }
  /* Refusals of AcquireCredentialsHandle. */
  {
    g_autoptr(GVariant) pkg = call_ok (conn, "AcquireCredentialsHandle",
                                       g_variant_new ("(tssu@a{sv})", (guint64) 1, "",
                                                      "Kerberos", (guint32) SECPKG_CRED_OUTBOUND,
                                                      empty_dict ()),
                                       SSPID_STEP_RESULT_TYPE);
    g_autoptr(GVariant) name = acquire (conn, "no-such-credential", SECPKG_CRED_OUTBOUND);
    g_autoptr(GVariantBuilder) b = g_variant_builder_new (G_VARIANT_TYPE ("a{sv}"));
    g_autoptr(GVariant) typed = NULL;

    g_variant_builder_add (b, "{sv}", "flags", g_variant_new_string ("x"));
    typed = call_ok (conn, "AcquireCredentialsHandle",
                     g_variant_new ("(tssua{sv})", (guint64) 1, "", SCHANNEL_NAME_A,
                                    (guint32) SECPKG_CRED_OUTBOUND, b),
                     SSPID_STEP_RESULT_TYPE);
    ck_assert_uint_eq (step_status (pkg), (guint32) SEC_E_SECPKG_NOT_FOUND);
    ck_assert_uint_eq (step_status (name), (guint32) SEC_E_UNKNOWN_CREDENTIALS);
    ck_assert_uint_eq (step_status (typed), (guint32) SEC_E_INVALID_PARAMETER);
  }
  assert_daemon_healthy (conn);
}
END_TEST

/* Records through the daemon: encrypt on one side, decrypt on the other,
 * then a shutdown whose close_notify the peer sees. */
START_TEST (test_records)
{
  g_autoptr(GDBusConnection) conn = connect_bus (tu_fixture_env);
  const char message[] = "GET / HTTP/1.0\r\n\r\n";
  guint64 client_ctx, server_ctx;

  raw_handshake (conn, &client_ctx, &server_ctx);
  {
    g_autoptr(GVariant) e = encrypt (conn, client_ctx, (const guint8 *) message,
                                     strlen (message));
    g_autoptr(GBytes) record = child_bytes (e, 1);
    g_autoptr(GVariant) d = NULL;
    g_autoptr(GBytes) plain = NULL;
    guint32 header_size, d_header, record_size, extra, missing;

    ck_assert_uint_eq (step_status (e), (guint32) SEC_E_OK);
    g_variant_get_child (e, 2, "u", &header_size);
    ck_assert_uint_ge (header_size, 5);
    ck_assert_uint_gt (g_bytes_get_size (record), strlen (message) + header_size);

    d = decrypt (conn, server_ctx, g_bytes_get_data (record, NULL), g_bytes_get_size (record));
    ck_assert_uint_eq (step_status (d), (guint32) SEC_E_OK);
    plain = child_bytes (d, 1);
    g_variant_get (d, "(u@ayuuuu)", NULL, NULL, &d_header, &record_size, &extra, &missing);
    ck_assert_uint_eq (g_bytes_get_size (plain), strlen (message));
    ck_assert (memcmp (g_bytes_get_data (plain, NULL), message, strlen (message)) == 0);
    ck_assert_uint_eq (d_header, header_size);
    ck_assert_uint_eq (record_size, g_bytes_get_size (record));
    ck_assert_uint_eq (extra, 0);

    /* Half a record: incomplete, nothing consumed. */
    g_clear_pointer (&d, g_variant_unref);
    d = decrypt (conn, server_ctx, g_bytes_get_data (record, NULL), 3);
    ck_assert_uint_eq (step_status (d), (guint32) SEC_E_INCOMPLETE_MESSAGE);
  }
  {
    g_autoptr(GVariant) bad = apply_control (conn, client_ctx, 77, 0, 0);
    g_autoptr(GVariant) ok = apply_control (conn, client_ctx, SCHANNEL_SHUTDOWN, 0, 0);
    g_autoptr(GVariant) alert = NULL;
    g_autoptr(GVariant) d = NULL;
    g_autoptr(GBytes) token = NULL;

    ck_assert_uint_eq (step_status (bad), (guint32) SEC_E_UNSUPPORTED_FUNCTION);
    ck_assert_uint_eq (step_status (ok), (guint32) SEC_E_OK);
    alert = initialize (conn, 0, client_ctx, NULL, 0);
    ck_assert_uint_eq (step_status (alert), (guint32) SEC_E_OK);
    token = child_bytes (alert, 2);
    /* (Its outer content type is 23 under TLS 1.3: the peer tells.) */
    ck_assert_uint_gt (g_bytes_get_size (token), 0);
    d = decrypt (conn, server_ctx, g_bytes_get_data (token, NULL), g_bytes_get_size (token));
    ck_assert_uint_eq (step_status (d), (guint32) SEC_I_CONTEXT_EXPIRED);
  }
  assert_daemon_healthy (conn);
}
END_TEST

/* --- over time ---------------------------------------------------------- */

/* A handshake left unfinished past handshake-timeout-sec expires; its
 * handle answers SEC_E_CONTEXT_EXPIRED until deleted.  A finished one stays. */
START_TEST (test_handshake_timeout)
{
  g_autoptr(GDBusConnection) conn = connect_bus (tu_fixture_env);
  guint64 cred = acquire_ok (conn, "", SECPKG_CRED_OUTBOUND);
  guint64 stuck = start_client (conn, cred);
  const guint8 junk[8] = { 0x16, 0x03, 0x03 };
  guint64 client_ctx, server_ctx;

  raw_handshake (conn, &client_ctx, &server_ctx);
  g_usleep ((handshake_timeout_sec () + 2) * G_USEC_PER_SEC);
  {
    g_autoptr(GVariant) step = initialize (conn, cred, stuck, junk, sizeof junk);
    g_autoptr(GVariant) q = query (conn, stuck);
    g_autoptr(GVariant) del = delete_ctx (conn, stuck);
    g_autoptr(GVariant) del2 = delete_ctx (conn, stuck);

    ck_assert_uint_eq (step_status (step), (guint32) SEC_E_CONTEXT_EXPIRED);
    ck_assert_uint_eq (step_status (q), (guint32) SEC_E_CONTEXT_EXPIRED);
    ck_assert_uint_eq (step_status (del), (guint32) SEC_E_OK);
    ck_assert_uint_eq (step_status (del2), (guint32) SEC_E_INVALID_HANDLE);
  }
  assert_state (conn, client_ctx, "established");
  assert_daemon_healthy (conn);
}
END_TEST

/* SIGHUP reloads the configuration; what exists keeps working, and a
 * broken configuration leaves the running one in place. */
START_TEST (test_reload)
{
  g_autoptr(GDBusConnection) conn = connect_bus (tu_fixture_env);
  guint64 cred = acquire_ok (conn, "", SECPKG_CRED_OUTBOUND);
  guint64 ctx = start_client (conn, cred);
  g_autofree char *pem = tu_pki_path ("client.pem");
  g_autofree char *key = tu_pki_path ("client.key");
  g_autofree char *extra = g_strdup_printf ("[credential added]\ncertificate=%s\nkey=%s\n"
                                            "usage=outbound\nusers=%u\n", pem, key,
                                            (guint) getuid ());
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  guint32 status;

  {
    g_autoptr(GVariant) r = acquire (conn, "added", SECPKG_CRED_OUTBOUND);
    ck_assert_uint_eq (step_status (r), (guint32) SEC_E_UNKNOWN_CREDENTIALS);
  }
  tu_env_write_config (tu_fixture_env, extra);
  ck_assert_int_eq (kill (tu_fixture_env->daemon_pid, SIGHUP), 0);
  do
    {
      g_autoptr(GVariant) r = acquire (conn, "added", SECPKG_CRED_OUTBOUND);
      status = step_status (r);
      if (status != (guint32) SEC_E_OK)
        g_usleep (50000);
    }
  while (status != (guint32) SEC_E_OK && g_get_monotonic_time () < deadline);
  ck_assert_uint_eq (status, (guint32) SEC_E_OK);

  assert_state (conn, ctx, "handshake");
  start_client (conn, cred);

  /* Broken: logged, and the configuration above stays. */
  tu_env_write_config (tu_fixture_env, "[daemon]\nmax-token-size=not-a-number\n");
  ck_assert_int_eq (kill (tu_fixture_env->daemon_pid, SIGHUP), 0);
  for (;;)
    {
      g_autofree char *log = tu_env_daemon_log (tu_fixture_env);
      if (strstr (log, "keeping the current configuration") != NULL)
        break;
      ck_assert_msg (g_get_monotonic_time () < deadline, "no reload error logged");
      g_usleep (50000);
    }
  acquire_ok (conn, "added", SECPKG_CRED_OUTBOUND);
  assert_daemon_healthy (conn);
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "order", tu_fixture_setup, tu_fixture_teardown, 120, { { test_burst_in_order },
                                                             { test_delete_behind_step },
                                                             { test_disconnect_in_flight } } },
    { "sessions", tu_fixture_setup, tu_fixture_teardown, 120, { { test_handshake_and_direction },
                                                                { test_records } } },
    { "timeout", setup_timeout, tu_fixture_teardown, 120, { { test_handshake_timeout } } },
    { "reload", tu_fixture_setup, tu_fixture_teardown, 120, { { test_reload } } },
  };

  return tu_run_cases ("dbus-service", cases, G_N_ELEMENTS (cases));
}
