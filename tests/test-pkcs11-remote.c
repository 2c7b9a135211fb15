/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Keys on another host (issue 17): the server key lives only in a SoftHSM2
 * token that `p11-kit server` exports over a unix socket, run as another
 * user when the test is root (standing for the HSM machine); sspid reaches
 * it through p11-kit's client module ([daemon] pkcs11-remote=).  The
 * daemon cannot see the token itself (no SOFTHSM2_CONF in its
 * environment).  Handshakes sign through the socket; with the key service
 * stopped they fail cleanly, with one log line, while a credential with a
 * local key keeps serving; once the service is back on the same socket,
 * handshakes with the key succeed again without a restart of sspid, with
 * a credential handle acquired before the outage too.
 */
#include "config.h"

#include <check.h>
#include <glib/gstdio.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "softhsm-token.h"
#include "testutil.h"
#include "tls-pair.h"

static char *token_dir;
static char *socket_path;
static GPid server_pid;

/* SoftHSM2's module, as Debian installs it. */
static const char *
softhsm_module (void)
{
  static const char *const candidates[] = {
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (candidates); i++)
    if (g_file_test (candidates[i], G_FILE_TEST_EXISTS))
      return candidates[i];
  ck_abort_msg ("libsofthsm2.so not found (Debian: softhsm2)");
  return NULL;
}

/* A process group of its own: the service is the server and the
 * p11-kit-remote it forks for each connection. */
static void
own_group (gpointer data)
{
  setpgid (0, 0);
}

/* `p11-kit server` in the foreground exporting the token at socket_path;
 * as nobody when we are root (the token directory is given to nobody). */
static void
start_key_service (void)
{
  g_autofree char *conf = softhsm_conf_path (token_dir);
  g_autofree char *conf_env = g_strconcat ("SOFTHSM2_CONF=", conf, NULL);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  const char *envp[] = { conf_env, "PATH=/usr/bin:/bin", NULL };
  gint64 give_up = g_get_monotonic_time () + (gint64) tu_scaled_ms (15000) * 1000;

  g_ptr_array_add (argv, (char *) "p11-kit");
  g_ptr_array_add (argv, (char *) "server");
  g_ptr_array_add (argv, (char *) "-f");
  g_ptr_array_add (argv, (char *) "--provider");
  g_ptr_array_add (argv, (char *) softhsm_module ());
  g_ptr_array_add (argv, (char *) "-n");
  g_ptr_array_add (argv, socket_path);
  if (getuid () == 0)
    {
      /* Its own user: the daemon reaches the key only through the socket. */
      g_ptr_array_add (argv, (char *) "--run-as-user=nobody");
      g_ptr_array_add (argv, (char *) "--user=root");
    }
  g_ptr_array_add (argv, (char *) "pkcs11:token=" SOFTHSM_LABEL);
  g_ptr_array_add (argv, NULL);
  g_unlink (socket_path);
  ck_assert_msg (g_spawn_async (NULL, (char **) argv->pdata, (char **) envp,
                                G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD
                                | G_SPAWN_STDOUT_TO_DEV_NULL,
                                own_group, NULL, &server_pid, &error),
                 "cannot run p11-kit server: %s", error ? error->message : "?");
  while (!g_file_test (socket_path, G_FILE_TEST_EXISTS))
    {
      ck_assert_msg (g_get_monotonic_time () < give_up, "p11-kit server made no socket");
      g_usleep (20 * 1000);
    }
}

static void
stop_key_service (void)
{
  if (server_pid <= 0)
    return;
  /* All of it, as when the key host goes away. */
  kill (-server_pid, SIGKILL);
  waitpid (server_pid, NULL, 0);
  g_spawn_close_pid (server_pid);
  server_pid = 0;
  g_unlink (socket_path);
}

/* The token, served by `p11-kit server` unless @is_late (a test starts
 * it later), and sspid with the key only behind it. */
static void
setup_with_service (gboolean is_late)
{
  g_autofree char *pem = tu_pki_path ("server.pem");
  g_autofree char *extra = NULL;

  softhsm_require_program ("p11-kit", "p11-kit");
  ck_assert_msg (g_file_test (SSPID_PKCS11_MODULE_DIR "/p11-kit-client.so", G_FILE_TEST_EXISTS),
                 "p11-kit's client module is missing (Debian: p11-kit-modules)");
  token_dir = softhsm_make_token ();
  socket_path = g_build_filename (token_dir, "pkcs11.sock", NULL);
  if (getuid () == 0)
    {
      struct passwd *nobody = getpwnam ("nobody");
      g_autofree char *cmd = NULL;

      ck_assert_ptr_nonnull (nobody);
      cmd = g_strdup_printf ("chown -R nobody '%s'", token_dir);
      ck_assert_int_eq (system (cmd), 0);
    }
  if (!is_late)
    start_key_service ();
  /* The daemon (our environment) must not find the token on its own. */
  g_unsetenv ("SOFTHSM2_CONF");
  extra = g_strdup_printf ("[daemon]\npkcs11-remote=unix:path=%s\n"
                           "[credential remote]\ncertificate=%s\n"
                           "key=pkcs11:token=" SOFTHSM_LABEL ";object=server;type=private;"
                           "pin-value=" SOFTHSM_PIN "\nusage=inbound\nusers=%u\n"
                           "max-key-operations=2\n",
                           socket_path, pem, (guint) getuid ());
  tu_fixture_setup_with (extra);
}

static void
setup (void)
{
  setup_with_service (FALSE);
}

static void
setup_late (void)
{
  setup_with_service (TRUE);
}

static void
teardown (void)
{
  tu_fixture_teardown ();
  stop_key_service ();
  if (token_dir != NULL)
    tu_remove_tree (token_dir);
  g_clear_pointer (&token_dir, g_free);
  g_clear_pointer (&socket_path, g_free);
}

/* A full handshake with @credential (or the handle @held, if not NULL). */
static SECURITY_STATUS
handshake_with (const char *credential, CredHandle *held, gint64 *usec)
{
  TlsPairOptions opts = { .server_credential = credential,
                          .client_cred_flags = SCH_CRED_DISABLE_RECONNECTS,
                          .server_cred = held };
  gint64 start = g_get_monotonic_time ();
  g_autoptr (TlsPair) pair = tls_pair_new (&opts);
  SECURITY_STATUS status;

  tls_pair_start (pair);
  ck_assert_msg (tls_pair_wait (pair, tu_scaled_ms (30000)), "a handshake with %s hung",
                 credential);
  status = tls_pair_peek_result (pair)->server.status;
  if (usec != NULL)
    *usec = g_get_monotonic_time () - start;
  return status;
}

static SECURITY_STATUS
handshake (const char *credential, gint64 *usec)
{
  return handshake_with (credential, NULL, usec);
}

/* Handshakes with @credential (or @held) until one succeeds, for at
 * most @timeout_ms; how long it took (ms), or -1. */
static gint64
poll_until_serving (const char *credential, CredHandle *held, guint timeout_ms)
{
  gint64 start = g_get_monotonic_time ();
  gint64 give_up = start + (gint64) timeout_ms * 1000;

  do
    {
      if (handshake_with (credential, held, NULL) == SEC_E_OK)
        return (g_get_monotonic_time () - start) / 1000;
      g_usleep (100 * 1000);
    }
  while (g_get_monotonic_time () < give_up);
  return -1;
}

/* Sequential full handshakes with @credential for the figures (printed,
 * not asserted: a benchmark's number, not a test's). */
static double
handshakes_per_second (const char *credential, guint n)
{
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < n; i++)
    ck_assert_int_eq (handshake (credential, NULL), SEC_E_OK);
  return n / ((g_get_monotonic_time () - start) / 1e6);
}

START_TEST (test_remote_key_serves)
{
  guint n = tu_is_wrapped () ? 3 : 30;
  double remote, local;

  ck_assert_int_eq (handshake ("remote", NULL), SEC_E_OK);
  remote = handshakes_per_second ("remote", n);
  local = handshakes_per_second ("server", n);
  {
    g_autofree char *load = NULL;

    g_file_get_contents ("/proc/loadavg", &load, NULL, NULL);
    printf ("remote key: %.1f full handshakes/s, local key file: %.1f/s (ratio %.2f; "
            "%u sequential each, both sides through sspid; loadavg %.14s)\n", remote, local,
            remote / local, n, load != NULL ? load : "?");
  }
}
END_TEST

START_TEST (test_key_service_down_and_back)
{
  g_autofree char *log = NULL;
  SECURITY_STATUS status;
  CredHandle held;
  gint64 ms;

  /* A server acquires its credential once and serves with it for ever:
   * the handle must outlive the outage. */
  ck_assert_int_eq (tp_acquire ("remote", SECPKG_CRED_INBOUND, 0, 0, &held), SEC_E_OK);
  ck_assert_int_eq (handshake_with (NULL, &held, NULL), SEC_E_OK);
  ck_assert_int_eq (handshake ("remote", NULL), SEC_E_OK);

  /* Down: the remote credential fails, cleanly and at once; the local
   * one does not notice. */
  stop_key_service ();
  status = handshake ("remote", NULL);
  ck_assert_msg (((guint32) status & 0x80000000u) != 0, "signed without the key service: 0x%08x",
                 (guint32) status);
  ck_assert_int_eq (handshake ("server", NULL), SEC_E_OK);
  log = tu_env_daemon_log (tu_fixture_env);
  printf ("key service down: 0x%08x\n", (guint32) status);
  tu_assert_contains (log, "credential 'remote': its key failed", "sspid");

  /* Once logged: the next failure says nothing new. */
  status = handshake ("remote", NULL);
  ck_assert_msg (((guint32) status & 0x80000000u) != 0, "signed without the key service");
  g_free (log);
  log = tu_env_daemon_log (tu_fixture_env);
  ck_assert_ptr_null (strstr (strstr (log, "its key failed") + 1, "its key failed"));
  /* The daemon serves on: the local key, and the bus. */
  ck_assert_int_eq (handshake ("server", NULL), SEC_E_OK);
  ck_assert_msg (handshake_with (NULL, &held, NULL) != SEC_E_OK,
                 "the handle acquired before signed without the key service");

  /* Back, on the same socket (a new p11-kit server, new sessions): the
   * key serves again, through new handles and the old one, without a
   * restart of sspid; said once in the log. */
  start_key_service ();
  ms = poll_until_serving ("remote", NULL, tu_scaled_ms (10000));
  printf ("key service back: handshakes with its key again after %" G_GINT64_FORMAT " ms\n", ms);
  ck_assert_msg (ms >= 0, "the key did not serve again within 10 s of its service's return");
  ck_assert_int_eq (handshake_with (NULL, &held, NULL), SEC_E_OK);
  for (guint i = 0; i < 5; i++)
    ck_assert_int_eq (handshake ("remote", NULL), SEC_E_OK);
  ck_assert_int_eq (handshake ("server", NULL), SEC_E_OK);
  g_free (log);
  log = tu_env_daemon_log (tu_fixture_env);
  tu_assert_contains (log, "credential 'remote': its key service is back", "sspid");
  ck_assert_ptr_null (strstr (strstr (log, "its key service is back") + 1,
                              "its key service is back"));
  ck_assert_int_eq (tp_free_credential (&held), SEC_E_OK);
}
END_TEST

/* A stalled key service (its processes stopped, as a hung HSM host): the
 * remote credential's steps wait on their own workers, two at a time
 * (max-key-operations=2), the rest queued; handshakes with a local key go
 * on meanwhile; once the service runs again every stalled handshake
 * completes. */
START_TEST (test_stalled_key_service)
{
  enum { STALLED = 6, LOCAL = 5 };
  TlsPairOptions opts = { .server_credential = "remote",
                          .client_cred_flags = SCH_CRED_DISABLE_RECONNECTS };
  TlsPair *stalled[STALLED];
  gint64 usec, worst = 0;

  ck_assert_int_eq (handshake ("remote", NULL), SEC_E_OK);
  ck_assert_int_eq (kill (-server_pid, SIGSTOP), 0);
  for (guint i = 0; i < STALLED; i++)
    {
      stalled[i] = tls_pair_new (&opts);
      tls_pair_start (stalled[i]);
    }
  g_usleep (300 * 1000);   /* they reach the daemon and block on the key */
  for (guint i = 0; i < LOCAL; i++)
    {
      TlsPairOptions local = { .server_credential = "server",
                               .client_cred_flags = SCH_CRED_DISABLE_RECONNECTS };
      gint64 start = g_get_monotonic_time ();
      g_autoptr (TlsPair) pair = tls_pair_new (&local);
      gboolean done;

      tls_pair_start (pair);
      done = tls_pair_wait (pair, tu_scaled_ms (5000));
      usec = g_get_monotonic_time () - start;
      worst = MAX (worst, usec);
      if (!done)
        kill (-server_pid, SIGCONT);   /* so that the stalled ones can end */
      ck_assert_msg (done, "a local-key handshake waited for the stalled key service");
      ck_assert_int_eq (tls_pair_peek_result (pair)->server.status, SEC_E_OK);
    }
  printf ("key service stalled: local-key handshakes took at most %.1f ms\n", worst / 1000.0);
  ck_assert_int_eq (kill (-server_pid, SIGCONT), 0);
  for (guint i = 0; i < STALLED; i++)
    {
      ck_assert_msg (tls_pair_wait (stalled[i], tu_scaled_ms (30000)),
                     "a stalled handshake did not end once the key service ran again");
      ck_assert_int_eq (tls_pair_peek_result (stalled[i])->server.status, SEC_E_OK);
      tls_pair_free (stalled[i]);
    }
}
END_TEST

/* The key service starts after sspid: the credential is left out, with
 * a log line; a reload once the service is up loads it. */
START_TEST (test_key_service_late)
{
  g_autofree char *log = tu_env_daemon_log (tu_fixture_env);
  CredHandle cred;
  gint64 ms;

  tu_assert_contains (log, "nothing answers at", "sspid");
  ck_assert_int_eq (tp_acquire ("remote", SECPKG_CRED_INBOUND, 0, 0, &cred),
                    SEC_E_UNKNOWN_CREDENTIALS);
  ck_assert_int_eq (handshake ("server", NULL), SEC_E_OK);

  start_key_service ();
  ck_assert_int_eq (kill (tu_fixture_env->daemon_pid, SIGHUP), 0);
  ms = poll_until_serving ("remote", NULL, tu_scaled_ms (10000));
  ck_assert_msg (ms >= 0, "the key did not serve within 10 s of a reload with its service up");
  ck_assert_int_eq (handshake ("server", NULL), SEC_E_OK);
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "p11-kit-server", setup, teardown, 120, { { test_remote_key_serves },
                                                { test_key_service_down_and_back },
                                                { test_stalled_key_service } } },
    { "p11-kit-server-late", setup_late, teardown, 120, { { test_key_service_late } } },
  };

  return tu_run_cases ("pkcs11-remote", cases, G_N_ELEMENTS (cases));
}
