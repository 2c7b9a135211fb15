/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sspictl over DTLS 1.2 (--dtls: UDP on loopback) against real peers, a
 * line of application data each way, checked at the other end:
 *
 *   sspictl connect --dtls --stdin  ->  gnutls-serv --udp --echo,
 *                                       openssl s_server -dtls1_2
 *   sspictl serve --dtls --echo     <-  gnutls-cli --udp,
 *                                       openssl s_client -dtls1_2,
 *                                       sspictl connect --dtls
 *
 * the last with a small MTU, so that flights take several datagrams
 * (SEC_I_MESSAGE_FRAGMENT) on both sides.
 * While each association is up, `sspictl contexts --json` must list its
 * context as an established DTLS one ("mode": "datagram").  The peers'
 * own DTLS stacks are the judges: their handshake and their printing of
 * our line say that sspictl's datagrams were right.
 */
#include "config.h"

#include <check.h>
#include <string.h>
#include <unistd.h>

#include "interop-util.h"
#include "sspictl-run.h"

static const char from_sspictl[] = "hello from sspictl over DTLS\n";
static const char from_peer[] = "hello from the peer over DTLS\n";

/* The established DTLS context of sspictl @role ("client" or "server")
 * must be listed with mode "datagram", as its owner (the same uid) sees it. */
static void
assert_listed_as_datagram (const char *role)
{
  const char *args[] = { "contexts", "--json", NULL };
  g_autofree char *out = NULL, *err = NULL, *expr = NULL;
  int code = sspictl_run (args, &out, &err);

  ck_assert_msg (code == 0, "sspictl contexts --json exited %d: %s", code, err);
  expr = g_strdup_printf ("[(c['mode'], c['state'], c['protocol']) for c in d['contexts'] "
                          "if c['role'] == '%s'] == [('datagram', 'established', 'DTLS1.2')]",
                          role);
  tu_assert_json (out, expr);
}

/* ---- sspictl connect --dtls ------------------------------------------------ */

/* Starts sspictl connect --dtls --stdin on iu_port; its stdin in *@stdin_fd. */
static GPid
start_connect (int *stdin_fd)
{
  static const char *const extra[] = { "--dtls", "--stdin", NULL };
  g_autoptr (GPtrArray) argv = iu_connect_argv (extra);

  return tu_spawn (iu_env, "connect", (const char *const *) argv->pdata, stdin_fd);
}

/* After the peer said it is up: connect, our line to the server, and
 * @reply back; then the end of our input (close_notify) ends connect,
 * whose report must say what moved. */
static void
connect_session (const char *server_tag, int server_stdin, const char *reply)
{
  g_autofree char *out = NULL;
  int connect_stdin = -1;
  GPid connect = start_connect (&connect_stdin);

  ck_assert_msg (iu_wait_printed ("connect", "handshake: ok"), "connect --dtls: no handshake");
  assert_listed_as_datagram ("client");
  iu_write_all (connect_stdin, from_sspictl, strlen (from_sspictl));
  ck_assert_msg (iu_wait_printed (server_tag, from_sspictl), "%s did not get our line",
                 server_tag);
  if (server_stdin >= 0)
    iu_write_all (server_stdin, reply, strlen (reply));
  ck_assert_msg (iu_wait_printed ("connect", reply), "connect did not print the reply");
  close (connect_stdin);
  out = iu_finish (connect, "connect", "sspictl connect --dtls");
  tu_assert_contains_all (out, "sspictl connect --dtls", "protocol: DTLS 1.2", "role: client",
                          "peer certificate: CN=localhost", "close_notify sent: yes", NULL);
}

START_TEST (test_connect_gnutls)
{
  const char *argv[] = { "gnutls-serv", "--udp", "--echo", "-p", iu_port_s,
                         "--x509certfile", iu_server_pem, "--x509keyfile", iu_server_key,
                         NULL };
  GPid server;

  iu_require_program (argv[0]);
  server = tu_spawn (iu_env, "gnutls-serv", argv, NULL);
  ck_assert_msg (iu_wait_printed ("gnutls-serv", "listening"), "gnutls-serv did not start");
  /* --echo: our own line comes back. */
  connect_session ("gnutls-serv", -1, from_sspictl);
  tu_kill (server);
}
END_TEST

START_TEST (test_connect_openssl)
{
  const char *argv[] = { "openssl", "s_server", "-dtls1_2", "-accept", iu_port_s,
                         "-cert", iu_server_pem, "-key", iu_server_key, NULL };
  int server_stdin = -1;
  GPid server;

  iu_require_program (argv[0]);
  server = tu_spawn (iu_env, "s_server", argv, &server_stdin);
  ck_assert_msg (iu_wait_printed ("s_server", "ACCEPT"), "s_server did not start");
  connect_session ("s_server", server_stdin, from_peer);
  close (server_stdin);
  tu_kill (server);
}
END_TEST

/* ---- sspictl serve --dtls -------------------------------------------------- */

/* sspictl serve --dtls --echo --once on iu_port, and the peer client
 * @argv, which prints @ready after its handshake: the peer's line must
 * come back to it, and serve's report must say what moved. */
static void
serve_session (const char *tag, const char *const *argv, const char *ready)
{
  static const char *const fixed[] = { "--credential", "server", "--dtls", "--echo", "--once",
                                       NULL };
  g_autoptr (GPtrArray) serve_argv = iu_sspictl_argv ("serve", iu_port_s, fixed, NULL);
  g_autofree char *out = NULL;
  int client_stdin = -1;
  GPid serve, client;

  iu_require_program (argv[0]);
  serve = tu_spawn (iu_env, "serve", (const char *const *) serve_argv->pdata, NULL);
  ck_assert_msg (iu_wait_printed ("serve", "listening on"), "serve --dtls did not start");
  client = tu_spawn (iu_env, tag, argv, &client_stdin);
  ck_assert_msg (iu_wait_printed (tag, ready), "%s: no handshake", tag);
  ck_assert_msg (iu_wait_printed ("serve", "handshake: ok"), "serve --dtls: no report");
  assert_listed_as_datagram ("server");
  /* The peers do not print their own input (a pipe): what they print is
   * the echo. */
  iu_write_all (client_stdin, from_peer, strlen (from_peer));
  ck_assert_msg (iu_wait_printed (tag, from_peer), "%s did not get the echo", tag);
  close (client_stdin);
  out = iu_finish (serve, "serve", "sspictl serve --dtls");
  tu_assert_contains_all (out, "sspictl serve --dtls", "protocol: DTLS 1.2", "role: server",
                          "end: close_notify", NULL);
  tu_kill (client);
}

START_TEST (test_serve_gnutls)
{
  const char *argv[] = { "gnutls-cli", "--udp", "-p", iu_port_s, "--x509cafile", iu_ca,
                         "--sni-hostname", "localhost", "--verify-hostname", "localhost",
                         "127.0.0.1", NULL };

  serve_session ("gnutls-cli", argv, "Handshake was completed");
}
END_TEST

START_TEST (test_serve_openssl)
{
  const char *argv[] = { "openssl", "s_client", "-dtls1_2", "-connect", iu_address,
                         "-CAfile", iu_ca, "-verify_return_error", "-servername", "localhost",
                         NULL };

  serve_session ("s_client", argv, "Verify return code: 0 (ok)");
}
END_TEST

/* Both ends sspictl, each through its own contexts in sspid, with
 * datagrams of at most 300 bytes: the server's certificate flight is
 * several, each from an AcceptSecurityContext call with no input. */
START_TEST (test_both_sspictl_small_mtu)
{
  static const char *const fixed[] = { "--credential", "server", "--dtls", "--mtu", "300",
                                       "--echo", "--once", NULL };
  static const char *const extra[] = { "--dtls", "--mtu", "300", "--stdin", NULL };
  g_autoptr (GPtrArray) serve_argv = iu_sspictl_argv ("serve", iu_port_s, fixed, NULL);
  g_autoptr (GPtrArray) connect_argv = iu_connect_argv (extra);
  g_autofree char *serve_out = NULL, *connect_out = NULL, *received = NULL, *sent = NULL;
  int connect_stdin = -1;
  GPid serve, connect;

  serve = tu_spawn (iu_env, "serve", (const char *const *) serve_argv->pdata, NULL);
  ck_assert_msg (iu_wait_printed ("serve", "listening on"), "serve --dtls did not start");
  connect = tu_spawn (iu_env, "connect", (const char *const *) connect_argv->pdata,
                      &connect_stdin);
  /* The whole input at once: the line, then close_notify behind it. */
  iu_write_all (connect_stdin, from_sspictl, strlen (from_sspictl));
  close (connect_stdin);
  connect_out = iu_finish (connect, "connect", "sspictl connect --dtls --mtu 300");
  serve_out = iu_finish (serve, "serve", "sspictl serve --dtls --mtu 300");
  tu_assert_contains_all (connect_out, "sspictl connect --dtls --mtu 300", from_sspictl,
                          "protocol: DTLS 1.2", "end: close_notify", NULL);
  received = g_strdup_printf ("received: %zu bytes in 1 records", strlen (from_sspictl));
  sent = g_strdup_printf ("sent: %zu bytes in 1 records", strlen (from_sspictl));
  tu_assert_contains_all (serve_out, "sspictl serve --dtls --mtu 300", "protocol: DTLS 1.2",
                          received, sent, "end: close_notify", NULL);
}
END_TEST

/* What --dtls excludes, and an --mtu no datagram can have, are usage
 * errors (exit 1), found before anything runs. */
START_TEST (test_usage)
{
  /* Rows end with NULL: the rest of each is zero. */
  static const char *const bad[][8] = {
    { "connect", "127.0.0.1:1", "--dtls", "--tls1.3" },
    { "connect", "127.0.0.1:1", "--dtls", "--read-size", "10" },
    { "connect", "127.0.0.1:1", "--mtu", "500" },
    { "serve", "0", "--credential", "server", "--dtls", "--tls1.2" },
    { "serve", "0", "--credential", "server", "--dtls", "--mtu", "70000" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *out = NULL, *err = NULL;
      int code = sspictl_run (bad[i], &out, &err);

      ck_assert_msg (code == 1, "%s %s: sspictl exited %d (expected 1): %s", bad[i][2],
                     bad[i][3], code, err);
    }
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "dtls", iu_setup, iu_teardown, 90, { { test_connect_gnutls }, { test_connect_openssl },
                                           { test_serve_gnutls }, { test_serve_openssl },
                                           { test_both_sspictl_small_mtu } } },
    { "usage", NULL, NULL, 30, { { test_usage } } },
  };

  return tu_run_cases ("sspictl-dtls", cases, G_N_ELEMENTS (cases));
}
