/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Interoperability: sspictl (libsspi + the real sspid) against the TLS
 * stacks people actually run, over loopback TCP.
 *
 *   sspictl connect  ->  openssl s_server, gnutls-serv
 *   sspictl serve    <-  openssl s_client, gnutls-cli
 *
 * TLS 1.2 and 1.3, ALPN, client certificates both ways, and small record
 * fragments (openssl -max_send_frag) so the EXTRA/MISSING paths run over a
 * real network.  The peers are required: tools/check installs them, and a
 * missing one fails the test rather than skipping it.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "interop-util.h"

/* Runs `sspictl connect 127.0.0.1:PORT --target localhost EXTRA...` to
 * completion; returns its exit status and its output in *output. */
static int
run_connect (const char *const *extra, char **output)
{
  return iu_run_connect ("sspictl-connect", extra, output);
}

/* ---- sspictl connect against other servers ------------------------------ */

typedef struct {
  const char *name;
  const char *openssl_version;   /* s_server flag */
  const char *gnutls_priority;
  const char *sspictl_flag;
  const char *report;            /* sspictl's protocol line */
} Version;

static const Version versions[] = {
  { "TLS 1.2", "-tls1_2", "NORMAL:-VERS-ALL:+VERS-TLS1.2", "--tls1.2", "protocol: TLS 1.2" },
  { "TLS 1.3", "-tls1_3", "NORMAL:-VERS-ALL:+VERS-TLS1.3", "--tls1.3", "protocol: TLS 1.3" },
};

/* _i: bit 0 picks the version, bit 1 small fragments. */
START_TEST (test_connect_openssl)
{
  const Version *v = &versions[_i & 1];
  gboolean is_fragmented = (_i & 2) != 0;
  const char *server_argv[] = {
    "openssl", "s_server", "-accept", iu_port_s, "-cert", iu_server_pem, "-key", iu_server_key,
    v->openssl_version, "-naccept", "1", "-www", "-alpn", "h2",
    is_fragmented ? "-max_send_frag" : NULL, "512", NULL
  };
  /* With 512-byte records, also read 100 bytes at a time: records arrive
   * split (SEC_E_INCOMPLETE_MESSAGE) and reads end inside the next record
   * (SECBUFFER_EXTRA). */
  const char *const extra[] = { v->sspictl_flag, "--alpn", "h2",
                                is_fragmented ? "--read-size" : NULL, "100", NULL };
  g_autofree char *out = NULL;
  GPid server;

  server = iu_start_server ("s_server", server_argv);
  out = iu_connect_ok ("sspictl-connect", extra);
  tu_assert_contains_all (out, "sspictl", "handshake: ok", v->report, "alpn: h2",
                          "peer certificate: CN=localhost", NULL);
  if (is_fragmented)
    {
      guint steps = 0, incomplete = 0, extra_seen = 0;
      const char *line = strstr (out, "steps: ");

      ck_assert_ptr_nonnull (line);
      ck_assert_int_eq (sscanf (line, "steps: %u (%u incomplete, %u extra)",
                                &steps, &incomplete, &extra_seen), 3);
      ck_assert_uint_gt (incomplete, 0);
      ck_assert_uint_gt (extra_seen, 0);
    }
  tu_kill (server);
}
END_TEST

START_TEST (test_connect_gnutls)
{
  const Version *v = &versions[_i];
  g_autofree char *priority = g_strconcat ("--priority=", v->gnutls_priority, NULL);
  const char *server_argv[] = {
    "gnutls-serv", "--port", iu_port_s, "--x509certfile", iu_server_pem,
    "--x509keyfile", iu_server_key, priority, "--alpn", "http/1.1", NULL
  };
  const char *const extra[] = { "--alpn", "h2", "--alpn", "http/1.1", NULL };
  g_autofree char *out = NULL;
  GPid server;

  server = iu_start_server ("gnutls-serv", server_argv);
  out = iu_connect_ok ("sspictl-connect", extra);
  tu_assert_contains_all (out, "sspictl", v->report, "alpn: http/1.1", NULL);
  tu_kill (server);
}
END_TEST

START_TEST (test_connect_client_certificate)
{
  const Version *v = &versions[_i];
  const char *server_argv[] = {
    "openssl", "s_server", "-accept", iu_port_s, "-cert", iu_server_pem, "-key", iu_server_key,
    "-CAfile", iu_ca, "-Verify", "1", "-verify_return_error", v->openssl_version,
    "-naccept", "1", "-www", NULL
  };
  const char *const extra[] = { v->sspictl_flag, "--credential", "client", NULL };
  g_autofree char *out = NULL;
  g_autofree char *server_out = NULL;
  GPid server;

  server = iu_start_server ("s_server", server_argv);
  out = iu_connect_ok ("sspictl-connect", extra);
  tu_assert_contains (out, v->report, "sspictl");
  /* s_server ends after its one connection; it verified our certificate. */
  server_out = iu_finish (server, "s_server", "s_server");
  tu_assert_contains (server_out, "sspid test client", "s_server");
}
END_TEST

START_TEST (test_connect_client_certificate_refused)
{
  /* TLS 1.2: the server refuses before the client can finish. */
  const char *server_argv[] = {
    "openssl", "s_server", "-accept", iu_port_s, "-cert", iu_server_pem, "-key", iu_server_key,
    "-CAfile", iu_ca, "-Verify", "1", "-tls1_2", "-naccept", "1", "-www", NULL
  };
  const char *const extra[] = { "--tls1.2", NULL };
  g_autofree char *out = NULL;
  GPid server;
  int code;

  server = iu_start_server ("s_server", server_argv);
  code = run_connect (extra, &out);
  ck_assert_msg (code == 2, "sspictl connect exited %d (expected 2):\n%s", code, tu_tail (out));
  tu_assert_contains (out, "handshake failed: SEC_E_", "sspictl");
  tu_kill (server);
}
END_TEST

START_TEST (test_connect_untrusted)
{
  /* A server whose certificate chains to a CA nobody trusts: refused, or,
   * with --manual-validation, accepted for the caller to check. */
  gboolean is_manual = (_i == 1);
  g_autofree char *untrusted_pem = tu_pki_path ("untrusted.pem");
  g_autofree char *untrusted_key = tu_pki_path ("untrusted.key");
  const char *server_argv[] = {
    "openssl", "s_server", "-accept", iu_port_s, "-cert", untrusted_pem,
    "-key", untrusted_key, "-naccept", "1", "-www", NULL
  };
  const char *const extra[] = { is_manual ? "--manual-validation" : NULL, NULL };
  g_autofree char *out = NULL;
  GPid server;
  int code;

  server = iu_start_server ("s_server", server_argv);
  code = run_connect (extra, &out);
  if (is_manual)
    {
      ck_assert_msg (code == 0, "sspictl connect exited %d:\n%s", code, tu_tail (out));
      tu_assert_contains (out, "peer certificate: CN=localhost", "sspictl");
    }
  else
    {
      ck_assert_msg (code == 2, "sspictl connect exited %d (expected 2):\n%s", code, tu_tail (out));
      tu_assert_contains (out, "SEC_E_UNTRUSTED_ROOT (0x80090325)", "sspictl");
    }
  tu_kill (server);
}
END_TEST

/* ---- other clients against sspictl serve -------------------------------- */

/* Starts `sspictl serve PORT --once` with @extra options. */
static GPid
start_serve (const char *const *extra)
{
  static const char *const once[] = { "--once", NULL };

  return iu_start_serve ("sspictl-serve", once, extra);
}

/* Waits for `sspictl serve --once` to end well and returns its output. */
static char *
finish_serve (GPid serve)
{
  return iu_finish (serve, "sspictl-serve", "sspictl serve");
}

/* Runs the client @client_argv (its program required; spawned as @tag)
 * against `sspictl serve --once @serve_extra`, both to their end, and
 * returns what each printed.  serve must succeed; the client only has to
 * exit: its status depends on whether it sees our close or its own
 * stdin's end first, what it printed about the handshake does not. */
static void
run_client_of_serve (const char *const *serve_extra, const char *tag,
                     const char *const *client_argv, char **client_out, char **serve_out)
{
  GPid serve;
  int code;

  iu_require_program (client_argv[0]);
  serve = start_serve (serve_extra);
  code = iu_run (tag, client_argv, client_out);
  *serve_out = finish_serve (serve);
  ck_assert_msg (code >= 0, "%s did not exit:\n%s\nsspictl serve:\n%s", tag, tu_tail (*client_out),
                 tu_tail (*serve_out));
}

/* _i: bit 0 picks the version, bit 1 sends a client certificate. */
START_TEST (test_serve_openssl)
{
  const Version *v = &versions[_i & 1];
  gboolean with_cert = (_i & 2) != 0;
  const char *const serve_extra[] = {
    "--credential", "server", "--alpn", "h2",
    with_cert ? "--require-client-cert" : NULL, NULL
  };
  const char *client_argv[] = {
    "openssl", "s_client", "-connect", iu_address, v->openssl_version, "-CAfile", iu_ca,
    "-verify_return_error", "-verify_hostname", "localhost", "-servername", "localhost",
    "-alpn", "h2",
    with_cert ? "-cert" : NULL, iu_client_pem, "-key", iu_client_key, NULL
  };
  g_autofree char *client_out = NULL;
  g_autofree char *serve_out = NULL;
  g_autofree char *protocol_line = NULL;

  run_client_of_serve (serve_extra, "s_client", client_argv, &client_out, &serve_out);
  protocol_line = g_strdup_printf ("Protocol  : %s", _i & 1 ? "TLSv1.3" : "TLSv1.2");
  if (strstr (client_out, protocol_line) == NULL)
    tu_assert_contains (client_out, _i & 1 ? "New, TLSv1.3" : "New, TLSv1.2", "s_client");
  tu_assert_contains_all (client_out, "s_client", "Verify return code: 0 (ok)", "ALPN protocol: h2",
                          NULL);
  tu_assert_contains_all (serve_out, "sspictl serve", v->report, "alpn: h2", NULL);
  if (with_cert)
    tu_assert_contains (serve_out, "client certificate: CN=sspid test client", "sspictl serve");
  else
    tu_assert_contains (serve_out, "client certificate: none", "sspictl serve");
}
END_TEST

START_TEST (test_serve_gnutls)
{
  const Version *v = &versions[_i & 1];
  gboolean with_cert = (_i & 2) != 0;
  g_autofree char *priority = g_strconcat ("--priority=", v->gnutls_priority, NULL);
  const char *const serve_extra[] = {
    "--credential", with_cert ? "mtls" : "server", NULL
  };
  const char *client_argv[] = {
    "gnutls-cli", "--x509cafile", iu_ca, "-p", iu_port_s, "127.0.0.1",
    "--sni-hostname", "localhost", "--verify-hostname", "localhost", priority,
    with_cert ? "--x509certfile" : NULL, iu_client_pem, "--x509keyfile", iu_client_key, NULL
  };
  g_autofree char *client_out = NULL;
  g_autofree char *serve_out = NULL;

  run_client_of_serve (serve_extra, "gnutls-cli", client_argv, &client_out, &serve_out);
  tu_assert_contains_all (client_out, "gnutls-cli", "Handshake was completed",
                          _i & 1 ? "(TLS1.3" : "(TLS1.2", "certificate is trusted", NULL);
  tu_assert_contains (serve_out, v->report, "sspictl serve");
  if (with_cert)
    tu_assert_contains (serve_out, "client certificate: CN=sspid test client", "sspictl serve");
}
END_TEST

START_TEST (test_serve_refuses_client_without_certificate)
{
  const char *const serve_extra[] = { "--credential", "mtls", "--tls1.2", NULL };
  const char *client_argv[] = {
    "openssl", "s_client", "-connect", iu_address, "-tls1_2", "-CAfile", iu_ca, NULL
  };
  g_autofree char *serve_out = NULL;
  GPid serve;
  int code;

  iu_require_program ("openssl");
  serve = start_serve (serve_extra);
  ck_assert_int_ne (iu_run ("s_client", client_argv, NULL), 0);
  code = iu_wait_output (serve, "sspictl-serve", &serve_out);
  ck_assert_msg (code == 2, "sspictl serve exited %d (expected 2):\n%s", code, tu_tail (serve_out));
  tu_assert_contains (serve_out, "handshake: failed", "sspictl serve");
}
END_TEST

START_TEST (test_sspictl_both_ends)
{
  /* Both Schannel loops on small reads, against each other. */
  const char *const serve_extra[] = { "--credential", "server", "--alpn", "h2",
                                      "--read-size", "7", NULL };
  const char *const extra[] = { "--alpn", "h2", "--read-size", "13", NULL };
  g_autofree char *out = NULL;
  g_autofree char *serve_out = NULL;
  GPid serve;

  serve = start_serve (serve_extra);
  out = iu_connect_ok ("sspictl-connect", extra);
  serve_out = finish_serve (serve);
  tu_assert_contains_all (out, "sspictl connect", "protocol: TLS 1.3", "alpn: h2", NULL);
  tu_assert_contains_all (serve_out, "sspictl serve", "protocol: TLS 1.3",
                          "listening on 127.0.0.1:", NULL);
  ck_assert_ptr_null (strstr (out, " (0 incomplete"));
  ck_assert_ptr_null (strstr (serve_out, " (0 incomplete"));
}
END_TEST

START_TEST (test_usage)
{
  const char *argv_help[] = { SSPICTL_BINARY, "--help", NULL };
  const char *argv_verb_help[] = { SSPICTL_BINARY, "connect", "--help", NULL };
  const char *argv_bad[] = { SSPICTL_BINARY, "frobnicate", NULL };
  const char *argv_noarg[] = { SSPICTL_BINARY, "serve", "--once", NULL };
  g_autofree char *out = NULL;

  ck_assert_int_eq (iu_run ("help", argv_help, &out), 0);
  tu_assert_contains_all (out, "sspictl --help", "connect", "serve", NULL);
  g_free (out);
  ck_assert_int_eq (iu_run ("vhelp", argv_verb_help, &out), 0);
  tu_assert_contains (out, "--alpn", "sspictl connect --help");
  ck_assert_int_eq (iu_run ("bad", argv_bad, NULL), 1);
  ck_assert_int_eq (iu_run ("noarg", argv_noarg, NULL), 1);
}
END_TEST

START_TEST (test_connect_refused)
{
  const char *const extra[] = { NULL };
  g_autofree char *out = NULL;

  /* Nobody listens on the fixture's port, just found free. */
  ck_assert_int_eq (run_connect (extra, &out), 3);
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "connect", iu_setup, iu_teardown, 120, { { test_connect_openssl, 4 },
                                               { test_connect_gnutls, 2 },
                                               { test_connect_client_certificate, 2 },
                                               { test_connect_client_certificate_refused },
                                               { test_connect_untrusted, 2 },
                                               { test_connect_refused } } },
    { "serve", iu_setup, iu_teardown, 120, { { test_serve_openssl, 4 }, { test_serve_gnutls, 4 },
                                             { test_serve_refuses_client_without_certificate },
                                             { test_sspictl_both_ends }, { test_usage } } },
  };

  return tu_run_cases ("interop", cases, G_N_ELEMENTS (cases));
}
