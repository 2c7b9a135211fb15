/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * TLS 1.2 renegotiation against real peers, through sspictl (whose record
 * loop, tools/sspictl-stream.c, does what a Windows Schannel program does
 * on SEC_I_RENEGOTIATE: call InitializeSecurityContext / AcceptSecurityContext
 * with the bytes after the record, send the token, and go on like a
 * handshake while SEC_I_CONTINUE_NEEDED says so).
 *
 *   sspictl connect --stdin          ->  openssl s_server, 'r' (HelloRequest)
 *                                        and 'R' (asking for a client
 *                                        certificate this time)
 *   sspictl connect --get /reneg     ->  openssl s_server -www, which sends
 *                                        its page behind the HelloRequest
 *   sspictl serve --echo             <-  openssl s_client, 'R' (secure
 *                                        renegotiation: accepted)
 *   sspictl serve --echo             <-  gnutls-cli --rehandshake, with and
 *                                        without RFC 5746: the server
 *                                        refuses the insecure one, as GnuTLS
 *                                        does
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "interop-util.h"

static void
setup (void)
{
  const char *programs[] = { "openssl", "gnutls-cli" };

  for (gsize i = 0; i < G_N_ELEMENTS (programs); i++)
    iu_require_program (programs[i]);
  iu_setup ();
}


/* ---- the server asks (HelloRequest) -------------------------------------- */

/* Waits until the daemon's log (--verbose) contains @needle. */
static gboolean
wait_daemon_log (const char *needle)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) IU_WAIT_MS * 1000;

  while (g_get_monotonic_time () < deadline)
    {
      g_autofree char *log = tu_env_daemon_log (iu_env);

      if (strstr (log, needle) != NULL)
        return TRUE;
      g_usleep (20000);
    }
  return FALSE;
}

/* sspictl connect --stdin as the client of an interactive s_server, whose
 * 'r' command renegotiates (HelloRequest) and 'R' does so asking for a
 * client certificate.  DecryptMessage says SEC_I_RENEGOTIATE; the next ISC
 * returns SEC_I_CONTINUE_NEEDED with a new ClientHello, and the handshake
 * goes on to SEC_E_OK; then data flows both ways.  _i: 0 'r'; 1 'R',
 * anonymous (SEC_I_INCOMPLETE_CREDENTIALS in the renegotiation, and on
 * without a certificate); 2 'R' with [credential client]. */
START_TEST (test_server_initiated)
{
  const char *server_argv[] = {
    "openssl", "s_server", "-accept", iu_port_s, "-cert", iu_server_pem, "-key", iu_server_key,
    "-tls1_2", "-CAfile", iu_ca, "-naccept", "1", NULL
  };
  const char *const connect_extra[] = { "--stdin", "--tls1.2",
                                        _i == 2 ? "--credential" : NULL, "client", NULL };
  g_autoptr (GPtrArray) argv = iu_connect_argv (connect_extra);
  const char from_server[] = "from the server, after the renegotiation\n";
  const char from_client[] = "from the client, after the renegotiation\n";
  g_autofree char *connect_out = NULL, *server_out = NULL;
  IuLinePair p;

  iu_line_pair_start (&p, server_argv, argv);
  iu_write_all (p.server_stdin, _i == 0 ? "r\n" : "R\n", 2);
  ck_assert_msg (iu_wait_printed ("s_server", "SSL_do_handshake -> 1"), "s_server sent no HelloRequest");
  ck_assert_msg (wait_daemon_log ("client: renegotiation complete"), "no renegotiation");
  iu_line_pair_exchange (&p, from_server, from_client);
  iu_line_pair_finish (&p, &connect_out, &server_out);

  tu_assert_contains_all (connect_out, "sspictl connect", "protocol: TLS 1.2",
                          "\nrenegotiations: 1\n", "\nend: close_notify\n", NULL);
  if (_i == 1)
    tu_assert_contains (connect_out, "asks for a client certificate", "sspictl connect");
  tu_assert_contains (server_out, "Secure Renegotiation IS supported", "s_server");
}
END_TEST

/* s_server -www answers "GET /reneg" with a HelloRequest and then, without
 * waiting for the new handshake, the page and close_notify.  The
 * renegotiation's ISC steps hand those records back (SECBUFFER_EXTRA) for
 * DecryptMessage, so the page arrives whole and the end is clean. */
START_TEST (test_server_initiated_www)
{
  const char *server_argv[] = {
    "openssl", "s_server", "-accept", iu_port_s, "-cert", iu_server_pem, "-key", iu_server_key,
    "-tls1_2", "-www", NULL
  };
  const char *const extra[] = { "--tls1.2", "--get", "/reneg", NULL };
  g_autofree char *out = NULL, *server_out = NULL;
  GPid server;

  server = iu_start_server ("s_server", server_argv);
  out = iu_connect_ok ("connect", extra);
  tu_kill (server);
  server_out = tu_spawn_output (iu_env, "s_server");

  tu_assert_contains (out, "\nhttp: HTTP/1.0 200 ok\n", "sspictl connect");
  tu_assert_contains (out, "</pre></BODY></HTML>", "s_server's page");
  tu_assert_contains (out, "\nend: close_notify\n", "sspictl connect");
  ck_assert_msg (wait_daemon_log ("client: the peer asked for a renegotiation (secure)"),
                 "no renegotiation was asked for");
}
END_TEST

/* ---- the client asks ------------------------------------------------------ */

/* s_client's 'R' renegotiates (secure: OpenSSL always uses RFC 5746):
 * sspictl serve's DecryptMessage says SEC_I_RENEGOTIATE, ASC runs the new
 * handshake, and lines still come back after it. */
START_TEST (test_client_initiated_openssl)
{
  const char *const serve_fixed[] = { "--credential", "server", NULL };
  const char *const serve_extra[] = { "--echo", "--once", "--tls1.2", NULL };
  const char *client_argv[] = {
    "openssl", "s_client", "-connect", iu_address, "-tls1_2", "-CAfile", iu_ca,
    "-verify_return_error", "-servername", "localhost", NULL
  };
  const char line1[] = "before the renegotiation\n";
  const char line2[] = "after the renegotiation\n";
  g_autofree char *client_out = NULL, *serve_out = NULL;
  GPid serve, client;
  int stdin_fd = -1;

  serve = iu_start_serve ("serve", serve_fixed, serve_extra);
  client = tu_spawn (iu_env, "s_client", client_argv, &stdin_fd);
  ck_assert_msg (iu_wait_printed ("s_client", "Verify return code: 0 (ok)"),
                 "s_client did not connect");
  iu_send_and_wait (stdin_fd, line1, "s_client", line1, "the first line did not come back");
  iu_send_and_wait (stdin_fd, "R\n", "s_client", "RENEGOTIATING", "s_client did not renegotiate");
  iu_send_and_wait (stdin_fd, line2, "s_client", line2, "no echo after the renegotiation");
  close (stdin_fd);
  client_out = iu_finish (client, "s_client", "s_client");
  serve_out = iu_finish (serve, "serve", "sspictl serve");

  tu_assert_contains_all (serve_out, "sspictl serve", "protocol: TLS 1.2", "\nrenegotiations: 1\n",
                          "\nend: close_notify\n", NULL);
  tu_assert_contains (client_out, "Secure Renegotiation IS supported", "s_client");
}
END_TEST

/* gnutls-cli --rehandshake renegotiates right after the handshake.  _i ==
 * 0: with RFC 5746 (GnuTLS's default), accepted; 1: with
 * %DISABLE_SAFE_RENEGOTIATION, refused, as a GnuTLS server refuses it. */
START_TEST (test_client_initiated_gnutls)
{
  gboolean is_safe = _i == 0;
  const char *const serve_fixed[] = { "--credential", "server", NULL };
  const char *const serve_extra[] = { "--echo", "--once", "--tls1.2", NULL };
  const char *client_argv[] = {
    "gnutls-cli", "--x509cafile", iu_ca, "-p", iu_port_s, "127.0.0.1", "--sni-hostname",
    "localhost", "--verify-hostname", "localhost", "--rehandshake", "--priority",
    is_safe ? "NORMAL:-VERS-ALL:+VERS-TLS1.2"
            : "NORMAL:-VERS-ALL:+VERS-TLS1.2:%DISABLE_SAFE_RENEGOTIATION",
    NULL
  };
  g_autofree char *client_out = NULL, *serve_out = NULL;
  GPid serve, client;
  int stdin_fd = -1;

  serve = iu_start_serve ("serve", serve_fixed, serve_extra);
  client = tu_spawn (iu_env, "gnutls-cli", client_argv, &stdin_fd);
  ck_assert_msg (iu_wait_printed ("gnutls-cli", is_safe ? "ReHandshake was completed"
                                                    : "ReHandshake has failed"),
                 "gnutls-cli did not renegotiate as expected");
  close (stdin_fd);
  iu_wait_output (client, "gnutls-cli", &client_out);
  iu_wait_output (serve, "serve", &serve_out);

  if (is_safe)
    {
      tu_assert_contains (client_out, "safe renegotiation,", "gnutls-cli");
      tu_assert_contains_all (serve_out, "sspictl serve", "\nrenegotiations: 1\n",
                              "\nend: close_notify\n", NULL);
    }
  else
    {
      ck_assert_msg (strstr (client_out, "safe renegotiation,") == NULL,
                     "gnutls-cli used RFC 5746 after all:\n%s", tu_tail (client_out));
      /* AcceptSecurityContext fails the context (GnuTLS's
       * GNUTLS_E_UNSAFE_RENEGOTIATION_DENIED). */
      tu_assert_contains_all (serve_out, "sspictl serve", "renegotiating: SEC_E_ILLEGAL_MESSAGE",
                              "\nrenegotiations: 0\n", NULL);
    }
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "tls12", setup, iu_teardown, 90, { { test_server_initiated, 3 },
                                         { test_server_initiated_www },
                                         { test_client_initiated_openssl },
                                         { test_client_initiated_gnutls, 2 } } },
  };

  return tu_run_cases ("renegotiate", cases, G_N_ELEMENTS (cases));
}
