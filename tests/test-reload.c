/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Credentials that change without a restart (issue 17): a certificate and
 * key replaced on disk are picked up by the file watch, new handshakes get
 * them and an established session goes on; a replacement that does not
 * load keeps what was loaded before; and an OCSP response per credential
 * (ocsp-response=) is stapled, as `openssl s_client -status` sees it.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "sync-pair.h"
#include "testutil.h"
#include "tls-pair.h"

#ifndef SSPICTL_BINARY
#error "SSPICTL_BINARY must name the built sspictl (see tests/Makefile.inc)"
#endif

static TuEnv *env;
static char *dir;           /* where the rotating credential's files are */

static void
copy_file (const char *from, const char *to, int mode)
{
  g_autofree char *data = NULL;
  g_autofree char *tmp = g_strconcat (to, ".new", NULL);
  gsize len = 0;

  ck_assert (g_file_get_contents (from, &data, &len, NULL));
  ck_assert (g_file_set_contents_full (tmp, data, (gssize) len, G_FILE_SET_CONTENTS_NONE, mode,
                                       NULL));
  /* Replaced the way an administrator's tools do it: renamed over. */
  ck_assert_int_eq (g_rename (tmp, to), 0);
}

/* Starts the daemon with credential "rot" whose files are copies of the
 * test PKI's @cert and @key in a directory of the test's own. */
static void
start_with_rotating (const char *cert, const char *key)
{
  g_autofree char *me = tu_dup_user_name ();
  g_autofree char *pem = NULL, *priv = NULL, *extra = NULL;
  g_autofree char *from_pem = tu_pki_path (cert);
  g_autofree char *from_key = tu_pki_path (key);

  dir = g_dir_make_tmp ("sspid-reload-XXXXXX", NULL);
  ck_assert_ptr_nonnull (dir);
  pem = g_build_filename (dir, "rot.pem", NULL);
  priv = g_build_filename (dir, "rot.key", NULL);
  copy_file (from_pem, pem, 0644);
  copy_file (from_key, priv, 0600);
  extra = g_strdup_printf ("[credential rot]\ncertificate=%s\nkey=%s\nusage=inbound\nusers=%s\n",
                           pem, priv, me);
  env = tu_env_start (extra);
}

static void
stop (void)
{
  g_clear_pointer (&env, tu_env_stop);
  if (dir != NULL)
    tu_remove_tree (dir);
  g_clear_pointer (&dir, g_free);
}

/* Waits until the daemon has logged its @n-th reload by the file watch. */
static void
wait_for_reloads (guint n)
{
  gint64 give_up = g_get_monotonic_time () + (gint64) tu_scaled_ms (15000) * 1000;

  for (;;)
    {
      g_autofree char *log = tu_env_daemon_log (env);
      guint seen = 0;

      for (const char *p = log; (p = strstr (p, "(credential files changed)")) != NULL; p++)
        seen++;
      if (seen >= n)
        return;
      ck_assert_msg (g_get_monotonic_time () < give_up,
                     "no reload after the files changed; the daemon said:\n%s", tu_tail (log));
      g_usleep (50 * 1000);
    }
}

/* A handshake with "rot" as the server: the certificate the client saw. */
static TlsPair *
handshake_with_rot (GBytes **peer_cert)
{
  static const TlsPairOptions opts = { .server_credential = "rot" };
  TlsPair *pair = tls_pair_run (&opts);
  const TlsPairResult *result = tls_pair_peek_result (pair);

  ck_assert_int_eq (result->client.status, SEC_E_OK);
  ck_assert_int_eq (result->server.status, SEC_E_OK);
  ck_assert_ptr_nonnull (result->client.peer_cert);
  *peer_cert = g_bytes_ref (result->client.peer_cert);
  return pair;
}

/* A record from the client to the server of an established pair (the
 * other way the client would first read the server's session tickets,
 * which the pair leaves unread). */
static void
assert_session_works (TlsPair *pair)
{
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  g_autoptr (GByteArray) plain = g_byte_array_new ();
  static const char hello[] = "still here";

  sp_seal (tls_pair_peek_context (pair, FALSE), hello, sizeof hello, wire);
  ck_assert_int_eq (sp_open (tls_pair_peek_context (pair, TRUE), wire, plain), SEC_E_OK);
  ck_assert_uint_eq (plain->len, sizeof hello);
  ck_assert_mem_eq (plain->data, hello, sizeof hello);
}

START_TEST (test_rotation_by_file_watch)
{
  g_autoptr (GBytes) first = NULL, second = NULL, third = NULL;
  g_autoptr (GBytes) server_der = tu_pki_cert_der ("server.pem");
  g_autoptr (GBytes) rsa_der = tu_pki_cert_der ("rsa.pem");
  g_autofree char *pem = NULL, *priv = NULL, *new_pem = NULL, *new_key = NULL;
  g_autoptr (TlsPair) before = NULL;
  g_autoptr (TlsPair) after = NULL;
  g_autoptr (TlsPair) kept = NULL;

  start_with_rotating ("server.pem", "server.key");
  before = handshake_with_rot (&first);
  ck_assert (g_bytes_equal (first, server_der));

  /* New key first, then its certificate, as a renewal script writes them:
   * one reload once both are in place. */
  pem = g_build_filename (dir, "rot.pem", NULL);
  priv = g_build_filename (dir, "rot.key", NULL);
  new_pem = tu_pki_path ("rsa.pem");
  new_key = tu_pki_path ("rsa.key");
  copy_file (new_key, priv, 0600);
  copy_file (new_pem, pem, 0644);
  wait_for_reloads (1);

  after = handshake_with_rot (&second);
  ck_assert_msg (g_bytes_equal (second, rsa_der), "a new handshake still got the old certificate");
  /* The session made before the change goes on. */
  assert_session_works (before);
  assert_session_works (after);

  /* A key that cannot be loaded: the credential keeps what it had. */
  ck_assert (g_file_set_contents_full (priv, "not a key\n", -1, G_FILE_SET_CONTENTS_NONE, 0600,
                                       NULL));
  wait_for_reloads (2);
  kept = handshake_with_rot (&third);
  ck_assert (g_bytes_equal (third, rsa_der));
  {
    g_autofree char *log = tu_env_daemon_log (env);

    tu_assert_contains (log, "credential 'rot': keeping what was loaded before", "sspid");
  }
  /* The pairs go first (their contexts are deleted), then the teardown
   * stops the daemon. */
}
END_TEST

/* --- OCSP stapling --------------------------------------------------------- */

static gboolean
run_quiet (const char *const *argv, char **out)
{
  int status = -1;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, out, NULL,
                     &status, NULL))
    return FALSE;
  return g_spawn_check_wait_status (status, NULL);
}

/* An OCSP response ("good", valid a week) for the test PKI's server
 * certificate, signed by the test CA, written to @path with openssl's
 * responder (the index is its one-line certificate database). */
static void
make_ocsp_response_as (const char *path, gboolean revoked, const char *valid_flag,
                       const char *valid_for)
{
  g_autofree char *ca = tu_pki_path ("ca.pem");
  g_autofree char *ca_key = tu_pki_path ("ca.key");
  g_autofree char *cert = tu_pki_path ("server.pem");
  g_autofree char *index = g_build_filename (dir, "index.txt", NULL);
  g_autofree char *request = g_build_filename (dir, "request.der", NULL);
  g_autofree char *serial_out = NULL;
  g_autofree char *line = NULL;
  const char *serial_argv[] = { "openssl", "x509", "-in", cert, "-noout", "-serial", NULL };
  const char *request_argv[] = { "openssl", "ocsp", "-issuer", ca, "-cert", cert, "-no_nonce",
                                 "-reqout", request, NULL };
  const char *respond_argv[] = { "openssl", "ocsp", "-index", index, "-rsigner", ca, "-rkey",
                                 ca_key, "-CA", ca, "-reqin", request, "-respout", path,
                                 valid_flag, valid_for, NULL };

  ck_assert_msg (run_quiet (serial_argv, &serial_out), "openssl x509 -serial failed");
  ck_assert (g_str_has_prefix (serial_out, "serial="));
  line = g_strdup_printf ("%s\t351231000000Z\t%s\t%s\tunknown\t/CN=localhost\n",
                          revoked ? "R" : "V", revoked ? "200101000000Z" : "",
                          g_strstrip (serial_out + strlen ("serial=")));
  ck_assert (g_file_set_contents (index, line, -1, NULL));
  ck_assert_msg (run_quiet (request_argv, NULL), "openssl ocsp (request) failed");
  ck_assert_msg (run_quiet (respond_argv, NULL), "openssl ocsp (response) failed");
}

static void
make_ocsp_response (const char *path)
{
  make_ocsp_response_as (path, FALSE, "-ndays", "7");
}

/* What `openssl s_client -status` says of a server on @port. */
static char *
s_client_status (guint16 port)
{
  g_autofree char *address = g_strdup_printf ("127.0.0.1:%u", port);
  const char *argv[] = { "openssl", "s_client", "-connect", address, "-servername", "localhost",
                         "-status", NULL };
  GPid pid = tu_spawn (env, "s_client", argv, NULL);

  ck_assert_int_ge (tu_wait_exit (pid, tu_scaled_ms (30000)), 0);
  return tu_spawn_output (env, "s_client");
}

START_TEST (test_ocsp_stapling)
{
  g_autofree char *me = tu_dup_user_name ();
  g_autofree char *response = NULL, *extra = NULL, *cert = NULL, *key = NULL;
  g_autofree char *port_s = NULL, *out = NULL, *plain_out = NULL;
  guint16 port;
  GPid serve;

  dir = g_dir_make_tmp ("sspid-ocsp-XXXXXX", NULL);
  response = g_build_filename (dir, "server.ocsp", NULL);
  make_ocsp_response (response);
  cert = tu_pki_path ("server.pem");
  key = tu_pki_path ("server.key");
  extra = g_strdup_printf ("[credential stapled]\ncertificate=%s\nkey=%s\nocsp-response=%s\n"
                           "usage=inbound\nusers=%s\n", cert, key, response, me);
  env = tu_env_start (extra);

  port = tu_free_port ();
  port_s = g_strdup_printf ("%u", port);
  {
    const char *argv[] = { SSPICTL_BINARY, "serve", port_s, "--credential", "stapled", "--echo",
                           "--once", NULL };

    serve = tu_spawn_server (env, "serve", argv, port, tu_scaled_ms (30000));
  }
  out = s_client_status (port);
  tu_kill (serve);
  printf ("%s\n", out);
  tu_assert_contains_all (out, "openssl s_client -status", "OCSP Response Status: successful",
                          "Cert Status: good", NULL);

  /* The standard "server" credential has no response to staple. */
  {
    const char *argv[] = { SSPICTL_BINARY, "serve", port_s, "--credential", "server", "--echo",
                           "--once", NULL };

    serve = tu_spawn_server (env, "serve-plain", argv, port, tu_scaled_ms (30000));
  }
  plain_out = s_client_status (port);
  tu_kill (serve);
  tu_assert_contains (plain_out, "OCSP response: no response sent", "openssl s_client -status");
}
END_TEST

/* sspid --check-config on a credential whose response @how: its
 * findings as JSON. */
static char *
check_config_with_response (const char *response)
{
  g_autofree char *me = tu_dup_user_name ();
  g_autofree char *cert = tu_pki_path ("server.pem");
  g_autofree char *key = tu_pki_path ("server.key");
  g_autofree char *conf = g_build_filename (dir, "check.conf", NULL);
  g_autofree char *text = g_strdup_printf ("[credential stapled]\ncertificate=%s\nkey=%s\n"
                                           "ocsp-response=%s\nusage=inbound\nusers=%s\n",
                                           cert, key, response, me);
  const char *args[] = { "--check-config", "--daemon-user", me, "--json", conf, NULL };
  g_auto (GStrv) argv = tu_sspid_argv (args);
  char *out = NULL;
  int status = -1;

  ck_assert (g_file_set_contents (conf, text, -1, NULL));
  ck_assert (g_spawn_sync (NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                           NULL, NULL, &out, NULL, &status, NULL));
  printf ("%s\n", out);
  /* Warnings only: exit 0. */
  ck_assert_msg (g_spawn_check_wait_status (status, NULL), "check-config failed:\n%s", tu_tail (out));
  return out;
}

/* check-config warns about responses that are no use: going stale within
 * a day, saying revoked; a week's "good" one is fine. */
START_TEST (test_ocsp_check_config)
{
  g_autofree char *fresh = NULL, *soon = NULL, *revoked = NULL;
  g_autofree char *out = NULL;

  dir = g_dir_make_tmp ("sspid-ocsp-XXXXXX", NULL);
  fresh = g_build_filename (dir, "fresh.ocsp", NULL);
  soon = g_build_filename (dir, "soon.ocsp", NULL);
  revoked = g_build_filename (dir, "revoked.ocsp", NULL);
  make_ocsp_response (fresh);
  make_ocsp_response_as (soon, FALSE, "-nmin", "60");
  make_ocsp_response_as (revoked, TRUE, "-ndays", "7");

  out = check_config_with_response (fresh);
  ck_assert_ptr_null (strstr (out, "ocsp-response"));
  g_free (out);
  out = check_config_with_response (soon);
  tu_assert_contains (out, "goes stale on", "sspid --check-config");
  g_free (out);
  out = check_config_with_response (revoked);
  tu_assert_contains (out, "says the certificate is revoked", "sspid --check-config");
}
END_TEST

static void
teardown (void)
{
  stop ();
}

int
main (void)
{
  const TuCase cases[] = {
    { "reload", NULL, teardown, 120, { { test_rotation_by_file_watch }, { test_ocsp_stapling },
                                       { test_ocsp_check_config } } },
  };

  return tu_run_cases ("reload", cases, G_N_ELEMENTS (cases));
}
