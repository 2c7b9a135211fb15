/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Application data and resumption against real peers (issue 3, item 6):
 * sspictl moves data through EncryptMessage / DecryptMessage, and what it
 * did is checked from the other side, by what the peer saw.
 *
 *   sspictl connect --get   ->  openssl s_server -www, gnutls-serv --http
 *   sspictl serve --echo    <-  openssl s_client (a line, a TLS 1.3 KeyUpdate)
 *   sspictl serve           <-  openssl s_client -reconnect (TLS 1.2),
 *                               gnutls-cli --resume, s_client -sess_out/-sess_in
 *   sspictl connect --stdin ->  sspictl serve --echo, --http (both ends)
 *
 * Resumption is asserted on both sides: sspictl's "resumed:" line (from
 * SECPKG_ATTR_SESSION_INFO) and the peer's own report ("Reused, TLSv1.x",
 * "*** This is a resumed session").  OpenSSL 3.0's s_client -reconnect
 * does not wait for TLS 1.3 tickets and so never resumes TLS 1.3, against
 * any server; TLS 1.3 server-side resumption is shown with gnutls-cli
 * --resume and s_client -sess_out / -sess_in instead.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "interop-util.h"

static void
setup (void)
{
  /* The peers are required: tools/check installs them. */
  const char *programs[] = { "openssl", "gnutls-serv", "gnutls-cli", "stdbuf" };

  for (gsize i = 0; i < G_N_ELEMENTS (programs); i++)
    iu_require_program (programs[i]);
  iu_setup ();
}

typedef struct {
  const char *openssl;        /* s_server / s_client flag */
  const char *gnutls;         /* priority string */
  const char *sspictl;        /* connect / serve flag */
  const char *report;         /* sspictl's protocol line */
  const char *openssl_name;   /* "TLSv1.3", in s_server's and s_client's reports */
  const char *gnutls_name;    /* "TLS1.3", in gnutls-serv's page */
} Version;

static const Version versions[] = {
  { "-tls1_2", "NORMAL:-VERS-ALL:+VERS-TLS1.2", "--tls1.2", "protocol: TLS 1.2",
    "TLSv1.2", "TLS1.2" },
  { "-tls1_3", "NORMAL:-VERS-ALL:+VERS-TLS1.3", "--tls1.3", "protocol: TLS 1.3",
    "TLSv1.3", "TLS1.3" },
};

/* ---- helpers ------------------------------------------------------------ */

/* Starts `sspictl serve PORT --credential server EXTRA...` as "serve". */
static GPid
start_serve (const char *const *extra)
{
  static const char *const credential[] = { "--credential", "server", NULL };

  return iu_start_serve ("serve", credential, extra);
}

/* Waits for `sspictl serve` to end with status 0; returns its output. */
static char *
finish_serve (GPid serve)
{
  return iu_finish (serve, "serve", "sspictl serve");
}

/* What a process spawned as @tag wrote on stdout alone. */
static char *
spawn_stdout (const char *tag, gsize *len)
{
  g_autofree char *name = g_strconcat (tag, ".out", NULL);
  g_autofree char *path = g_build_filename (iu_env->dir, name, NULL);
  char *contents = NULL;

  ck_assert_msg (g_file_get_contents (path, &contents, len, NULL), "no %s", path);
  return contents;
}

static void
assert_lacks (const char *haystack, const char *needle, const char *who)
{
  ck_assert_msg (strstr (haystack, needle) == NULL,
                 "%s: did not expect \"%s\" in:\n%s", who, needle, tu_tail (haystack));
}

static guint
count (const char *haystack, const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (haystack, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

/* The value of the first "@field: VALUE" line of sspictl's report. */
static char *
field (const char *out, const char *name)
{
  g_autofree char *key = g_strconcat ("\n", name, ": ", NULL);
  const char *p = strstr (out, key);
  const char *end;

  ck_assert_msg (p != NULL, "no '%s:' line in:\n%s", name, tu_tail (out));
  p += strlen (key);
  end = strchr (p, '\n');
  return end ? g_strndup (p, end - p) : g_strdup (p);
}

/* The "sent:" line says @bytes, in @min_records records or more. */
static void
assert_sent (const char *out, guint bytes, guint min_records)
{
  g_autofree char *sent = field (out, "sent");
  guint n_bytes = 0, n_records = 0;

  ck_assert_int_eq (sscanf (sent, "%u bytes in %u records", &n_bytes, &n_records), 2);
  ck_assert_uint_eq (n_bytes, bytes);
  ck_assert_uint_ge (n_records, min_records);
}

/* The report says the conversation ended cleanly both ways: the peer's
 * close_notify arrived, and ours went out. */
static void
assert_closed_both_ways (const char *out, const char *who)
{
  tu_assert_contains (out, "\nend: close_notify\n", who);
  tu_assert_contains (out, "\nclose_notify sent: yes\n", who);
}

/* ---- sspictl connect --get against other servers ------------------------ */

/* _i: bit 0 the version, bit 1 small records (s_server -max_send_frag 512)
 * read 100 bytes at a time: the page arrives split (INCOMPLETE) and with
 * several records per read (EXTRA). */
START_TEST (test_get_openssl)
{
  const Version *v = &versions[_i & 1];
  gboolean is_fragmented = (_i & 2) != 0;
  const char *server_argv[] = {
    "openssl", "s_server", "-accept", iu_port_s, "-cert", iu_server_pem, "-key", iu_server_key,
    v->openssl, "-www", is_fragmented ? "-max_send_frag" : NULL, "512", NULL
  };
  const char *const extra[] = { v->sspictl, "--get", "/",
                                is_fragmented ? "--read-size" : NULL, "100", NULL };
  g_autofree char *first = NULL, *second = NULL, *cipher = NULL, *received = NULL;
  g_autofree char *new_line = NULL, *reused_line = NULL;
  guint bytes = 0, records = 0, empty = 0;
  GPid server;

  server = iu_start_server ("s_server", server_argv);

  first = iu_connect_ok ("connect1", extra);
  tu_assert_contains_all (first, "sspictl connect", v->report, "\nresumed: no\n",
                          "\nhttp: HTTP/1.0 200 ok\n", NULL);
  /* The page is s_server's report on this connection, whole. */
  new_line = g_strdup_printf ("New, %s, Cipher is ", v->openssl_name);
  tu_assert_contains_all (first, "s_server's page", new_line, "</pre></BODY></HTML>", NULL);
  cipher = field (first, "cipher");
  if (_i & 1)
    {
      /* TLS 1.3 suites have one name everywhere: the one sspid reports is
       * the one s_server used. */
      g_autofree char *line = g_strdup_printf ("Cipher is %s", cipher);
      tu_assert_contains (first, line, "s_server's page");
    }
  received = field (first, "received");
  ck_assert_int_eq (sscanf (received, "%u bytes in %u records (%u without data)",
                            &bytes, &records, &empty), 3);
  ck_assert_uint_gt (bytes, 1000);
  /* TLS 1.3: s_server's two session tickets were decrypted (no data), not
   * dropped; TLS 1.2 has none after the handshake. */
  if (_i & 1)
    ck_assert_uint_ge (empty, 2);
  else
    ck_assert_uint_eq (empty, 0);
  if (is_fragmented)
    ck_assert_uint_ge (records, (bytes + 511) / 512);   /* at most 512 bytes a record */

  /* A second process: sspid's client cache (per user, credential and
   * target) resumes, and s_server says so on its page. */
  second = iu_connect_ok ("connect2", extra);
  tu_assert_contains (second, "\nresumed: yes\n", "sspictl connect (second)");
  reused_line = g_strdup_printf ("Reused, %s, Cipher is ", v->openssl_name);
  tu_assert_contains (second, reused_line, "s_server's page (second)");
  assert_lacks (second, new_line, "s_server's page (second)");
  tu_kill (server);
}
END_TEST

START_TEST (test_get_gnutls)
{
  const Version *v = &versions[_i];
  g_autofree char *priority = g_strconcat ("--priority=", v->gnutls, NULL);
  /* stdbuf: gnutls-serv's log is read while it runs. */
  const char *server_argv[] = {
    "stdbuf", "-oL", "gnutls-serv", "--port", iu_port_s, "--x509certfile", iu_server_pem,
    "--x509keyfile", iu_server_key, priority, "--http", NULL
  };
  const char *const extra[] = { "--get", "/index.html", NULL };
  g_autofree char *first = NULL, *second = NULL, *server_out = NULL, *protocol = NULL;
  GPid server;

  server = iu_start_server ("gnutls-serv", server_argv);
  first = iu_connect_ok ("connect1", extra);
  tu_assert_contains (first, "\nhttp: HTTP/1.0 200 OK\n", "sspictl connect");
  tu_assert_contains (first, "This is <a href=\"http://www.gnu.org/software/gnutls\">GnuTLS</a>",
                       "gnutls-serv's page");
  protocol = g_strdup_printf ("Protocol version:</TD><TD>%s</TD>", v->gnutls_name);
  tu_assert_contains (first, protocol, "gnutls-serv's page");
  tu_assert_contains_all (first, "sspictl connect", v->report, "\nresumed: no\n", NULL);

  second = iu_connect_ok ("connect2", extra);
  tu_assert_contains (second, "\nresumed: yes\n", "sspictl connect (second)");
  tu_assert_contains (second, protocol, "gnutls-serv's page (second)");

  /* gnutls-serv logs each connection; only the second was resumed. */
  ck_assert_msg (iu_wait_printed ("gnutls-serv", "*** This is a resumed session"),
                 "gnutls-serv saw no resumption");
  tu_kill (server);
  server_out = tu_spawn_output (iu_env, "gnutls-serv");
  ck_assert_uint_eq (count (server_out, "* Accepted connection"), 2);
  ck_assert_uint_eq (count (server_out, "*** This is a resumed session"), 1);
}
END_TEST

/* Without data too: connect ends with close_notify and reads until the
 * server closes, which brings a TLS 1.3 server's tickets into sspid's
 * cache; the second connect resumes and s_server counts a cache hit. */
START_TEST (test_connect_resumes)
{
  const Version *v = &versions[_i];
  const char *server_argv[] = {
    "openssl", "s_server", "-accept", iu_port_s, "-cert", iu_server_pem, "-key", iu_server_key,
    v->openssl, "-www", NULL
  };
  const char *const extra[] = { v->sspictl, NULL };
  const char *const get[] = { v->sspictl, "--get", "/", NULL };
  g_autofree char *first = NULL, *second = NULL, *page = NULL;
  GPid server;

  server = iu_start_server ("s_server", server_argv);
  first = iu_connect_ok ("connect1", extra);
  tu_assert_contains (first, "\nresumed: no\n", "sspictl connect");
  assert_lacks (first, "\nreceived: ", "sspictl connect (no data)");
  second = iu_connect_ok ("connect2", extra);
  tu_assert_contains (second, "\nresumed: yes\n", "sspictl connect (second)");
  /* s_server's own count, on its page: one hit (the second connect). */
  page = iu_connect_ok ("connect3", get);
  tu_assert_contains (page, "   2 session cache hits", "s_server's page");
  tu_kill (server);
}
END_TEST

/* ---- sspictl serve --echo, --http against other clients ----------------- */

/* A line through s_client's stdin comes back; with TLS 1.3, s_client's 'K'
 * command then sends a KeyUpdate that asks for ours (SEC_I_RENEGOTIATE in
 * sspictl, answered with AcceptSecurityContext), and the next line still
 * comes back, now under the new keys both ways. */
START_TEST (test_echo_openssl)
{
  const Version *v = &versions[_i];
  gboolean is_tls13 = (_i == 1);
  const char *const serve_extra[] = { "--echo", "--once", v->sspictl, NULL };
  const char *client_argv[] = {
    "openssl", "s_client", "-connect", iu_address, v->openssl, "-CAfile", iu_ca,
    "-verify_return_error", "-servername", "localhost", NULL
  };
  const char line1[] = "hello through sspid\n";
  const char line2[] = "after the key update\n";
  g_autofree char *client_out = NULL, *serve_out = NULL, *expected = NULL;
  GPid serve, client;
  int stdin_fd = -1;

  serve = start_serve (serve_extra);
  client = tu_spawn (iu_env, "s_client", client_argv, &stdin_fd);
  ck_assert_msg (iu_wait_printed ("s_client", "Verify return code: 0 (ok)"),
                 "s_client did not connect");
  iu_send_and_wait (stdin_fd, line1, "s_client", line1, "the line did not come back");
  if (is_tls13)
    {
      iu_send_and_wait (stdin_fd, "K\n", "s_client", "KEYUPDATE", "s_client sent no KeyUpdate");
      iu_send_and_wait (stdin_fd, line2, "s_client", line2, "no echo after the key update");
    }
  /* The end of s_client's input: it sends close_notify, sspictl answers. */
  close (stdin_fd);
  client_out = iu_finish (client, "s_client", "s_client");
  serve_out = finish_serve (serve);

  tu_assert_contains (serve_out, v->report, "sspictl serve");
  expected = g_strdup_printf ("\nreceived: %zu bytes in ",
                              strlen (line1) + (is_tls13 ? strlen (line2) : 0));
  tu_assert_contains (serve_out, expected, "sspictl serve");
  g_free (expected);
  expected = g_strdup_printf ("\nsent: %zu bytes in %u records\n",
                              strlen (line1) + (is_tls13 ? strlen (line2) : 0),
                              is_tls13 ? 2 : 1);
  tu_assert_contains (serve_out, expected, "sspictl serve");
  tu_assert_contains (serve_out, is_tls13 ? "\nrenegotiations: 1\n" : "\nrenegotiations: 0\n",
                       "sspictl serve");
  assert_closed_both_ways (serve_out, "sspictl serve");
  tu_assert_contains (client_out, "DONE", "s_client");
}
END_TEST

/* gnutls-cli's inline ^rekey^ sends a KeyUpdate that asks for ours, and
 * the next line follows at once, often in the same read: then the data
 * record comes back as SECBUFFER_EXTRA of the AcceptSecurityContext call
 * that answers the KeyUpdate, and must still be echoed. */
START_TEST (test_echo_gnutls_rekey)
{
  const char *const serve_extra[] = { "--echo", "--once", "--tls1.3", NULL };
  const char *client_argv[] = {
    "gnutls-cli", "--x509cafile", iu_ca, "-p", iu_port_s, "127.0.0.1", "--sni-hostname",
    "localhost", "--verify-hostname", "localhost", "--inline-commands", NULL
  };
  const char input[] = "before the rekey\n^rekey^\nafter the rekey\n";
  g_autofree char *client_out = NULL, *serve_out = NULL;
  int stdin_fd = -1;
  GPid serve, client;

  serve = start_serve (serve_extra);
  client = tu_spawn (iu_env, "gnutls-cli", client_argv, &stdin_fd);
  ck_assert_msg (iu_wait_printed ("gnutls-cli", "Handshake was completed"), "no handshake");
  iu_send_and_wait (stdin_fd, input, "gnutls-cli", "after the rekey\n", "no echo after the rekey");
  close (stdin_fd);
  client_out = iu_finish (client, "gnutls-cli", "gnutls-cli");
  serve_out = finish_serve (serve);

  tu_assert_contains (client_out, "before the rekey\n", "gnutls-cli");
  tu_assert_contains_all (serve_out, "sspictl serve", "\nrenegotiations: 1\n",
                          "\nreceived: 33 bytes in ", "\nend: close_notify\n", NULL);
}
END_TEST

/* s_client -reconnect: one full handshake, then five reconnections with
 * the same session, which s_client reports as "Reused".  TLS 1.2 only:
 * OpenSSL 3.0's -reconnect does not resume TLS 1.3 (see the top). */
START_TEST (test_reconnect_openssl)
{
  const char *const serve_extra[] = { "--echo", "--count", "6", "--tls1.2", NULL };
  const char *client_argv[] = {
    "openssl", "s_client", "-connect", iu_address, "-tls1_2", "-CAfile", iu_ca,
    "-verify_return_error", "-servername", "localhost", "-reconnect", NULL
  };
  g_autofree char *client_out = NULL, *serve_out = NULL;
  GPid serve;

  serve = start_serve (serve_extra);
  client_out = iu_finish (tu_spawn (iu_env, "s_client", client_argv, NULL), "s_client",
                          "s_client");
  serve_out = finish_serve (serve);

  ck_assert_msg (count (client_out, "New, TLSv1.2, Cipher is") == 1 &&
                 count (client_out, "Reused, TLSv1.2, Cipher is") == 5,
                 "s_client:\n%s", tu_tail (client_out));
  ck_assert_msg (count (serve_out, "\nresumed: no\n") == 1 &&
                 count (serve_out, "\nresumed: yes\n") == 5, "sspictl serve:\n%s", tu_tail (serve_out));
  ck_assert_uint_eq (count (serve_out, "\nhandshake: ok\n"), 6);
}
END_TEST

/* gnutls-cli --resume: a second connection that resumes the first one's
 * session (a TLS 1.3 ticket from sspid, or a TLS 1.2 one). */
START_TEST (test_resume_gnutls)
{
  const Version *v = &versions[_i];
  g_autofree char *priority = g_strconcat ("--priority=", v->gnutls, NULL);
  const char *const serve_extra[] = { "--echo", "--count", "2", v->sspictl, NULL };
  const char *client_argv[] = {
    "gnutls-cli", "--x509cafile", iu_ca, "-p", iu_port_s, "127.0.0.1", "--sni-hostname",
    "localhost", "--verify-hostname", "localhost", priority, "--resume", NULL
  };
  g_autofree char *client_out = NULL, *serve_out = NULL;
  GPid serve;
  int code;

  serve = start_serve (serve_extra);
  code = iu_run ("gnutls-cli", client_argv, &client_out);
  serve_out = finish_serve (serve);

  ck_assert_msg (code == 0, "gnutls-cli exited %d:\n%s", code, tu_tail (client_out));
  tu_assert_contains (client_out, "*** This is a resumed session", "gnutls-cli");
  ck_assert_msg (count (serve_out, "\nresumed: no\n") == 1 &&
                 count (serve_out, "\nresumed: yes\n") == 1, "sspictl serve:\n%s", tu_tail (serve_out));
  ck_assert_uint_eq (count (serve_out, v->report), 2);
}
END_TEST

/* Runs s_client as @tag with an HTTP request on its stdin, reading until
 * the server closes (-ign_eof); @sess_flag/@sess_file save or reuse the
 * session.  Returns what it printed. */
static char *
http_with_s_client (const char *tag, const Version *v,
                    const char *sess_flag, const char *sess_file)
{
  const char *client_argv[] = {
    "openssl", "s_client", "-connect", iu_address, v->openssl, "-CAfile", iu_ca,
    "-verify_return_error", "-servername", "localhost", "-ign_eof",
    sess_flag, sess_file, NULL
  };
  const char request[] = "GET /status HTTP/1.0\r\nHost: localhost\r\n\r\n";
  int stdin_fd = -1;
  GPid client;

  client = tu_spawn (iu_env, tag, client_argv, &stdin_fd);
  iu_write_all (stdin_fd, request, strlen (request));
  close (stdin_fd);
  return iu_finish (client, tag, "s_client");
}

/* sspictl serve --http answers s_client's GET with the connection's
 * report, and the second s_client, resuming the first one's saved session,
 * sees "resumed: yes" on the page and "Reused" in its own report. */
START_TEST (test_http_openssl)
{
  const Version *v = &versions[_i];
  g_autofree char *session = g_build_filename (iu_env->dir, "s_client.session", NULL);
  const char *const serve_extra[] = { "--http", "--count", "2", v->sspictl, NULL };
  g_autofree char *first = NULL, *second = NULL, *serve_out = NULL, *reused = NULL;
  g_autofree char *protocol = NULL;
  GPid serve;

  serve = start_serve (serve_extra);
  first = http_with_s_client ("s_client1", v, "-sess_out", session);
  second = http_with_s_client ("s_client2", v, "-sess_in", session);
  serve_out = finish_serve (serve);

  protocol = g_strdup_printf ("\n%s\n", v->report);
  tu_assert_contains (first, "HTTP/1.0 200 OK\r\n", "s_client (first)");
  tu_assert_contains (first, "\nsspictl serve: this connection, as sspid reports it\n",
                       "the page");
  tu_assert_contains_all (first, "the page", protocol, "\nresumed: no\n",
                          "\nrequest: GET /status HTTP/1.0\n", NULL);
  tu_assert_contains (second, "\nresumed: yes\n", "the page (second)");
  reused = g_strdup_printf ("Reused, %s, Cipher is ", v->openssl_name);
  tu_assert_contains (second, reused, "s_client (second)");
  ck_assert_msg (count (serve_out, "\nresumed: no\n") == 1 &&
                 count (serve_out, "\nresumed: yes\n") == 1, "sspictl serve:\n%s", tu_tail (serve_out));
  ck_assert_uint_eq (count (serve_out, "\nhttp: GET /status HTTP/1.0\n"), 2);
}
END_TEST

/* connect --stdin as an interactive client of s_server (no -www: its
 * stdin goes to us, what we send to its stdout).  s_server's 'K' command
 * sends a TLS 1.3 KeyUpdate that asks for ours: DecryptMessage answers
 * SEC_I_RENEGOTIATE, InitializeSecurityContext makes the answer.  Data
 * then flows both ways under the new keys, while our stdin is still open
 * (the socket and stdin are polled together). */
START_TEST (test_stdin_key_update)
{
  const char *server_argv[] = {
    "openssl", "s_server", "-accept", iu_port_s, "-cert", iu_server_pem, "-key", iu_server_key,
    "-tls1_3", "-naccept", "1", NULL
  };
  const char *const connect_extra[] = { "--stdin", NULL };
  g_autoptr (GPtrArray) argv = iu_connect_argv (connect_extra);
  const char from_server[] = "from the server, under new keys\n";
  const char from_client[] = "from the client, under new keys\n";
  g_autofree char *connect_out = NULL, *server_out = NULL, *data = NULL;
  IuLinePair p;
  gsize len = 0;

  iu_line_pair_start (&p, server_argv, argv);
  iu_write_all (p.server_stdin, "K\n", 2);
  /* s_server prints this after its KeyUpdate command. */
  ck_assert_msg (iu_wait_printed ("s_server", "SSL_do_handshake -> 1"), "s_server sent no KeyUpdate");
  iu_line_pair_exchange (&p, from_server, from_client);
  /* The end of our input: close_notify; s_server answers and ends. */
  iu_line_pair_finish (&p, &connect_out, &server_out);

  data = spawn_stdout ("connect", &len);
  ck_assert_str_eq (data, from_server);
  tu_assert_contains (connect_out, "\nrenegotiations: 1\n", "sspictl connect");
  assert_closed_both_ways (connect_out, "sspictl connect");
  tu_assert_contains (server_out, "DONE", "s_server");
}
END_TEST

/* ---- sspictl at both ends ------------------------------------------------ */

/* 40,000 bytes through connect --stdin and serve --echo: at least three
 * records each way (16,384 + 16,384 + 7,232), the server reading 7 bytes
 * at a time, and a TLS half-close: the client's close_notify follows its data,
 * the echo still comes back, then the server's close_notify. */
START_TEST (test_stdin_echo)
{
  const Version *v = &versions[_i];
  const char *const serve_extra[] = { "--echo", "--once", "--read-size", "7", v->sspictl,
                                      NULL };
  const char *const connect_extra[] = { "--stdin", "--read-size", "1000", NULL };
  g_autoptr (GPtrArray) argv = iu_connect_argv (connect_extra);
  g_autoptr (GString) payload = g_string_new (NULL);
  g_autofree char *echoed = NULL, *connect_out = NULL, *serve_out = NULL;
  gsize echoed_len = 0;
  int stdin_fd = -1;
  GPid serve, client;

  for (guint i = 0; payload->len < 40000; i++)
    g_string_append_printf (payload, "line %05u of the payload\n", i);
  g_string_truncate (payload, 40000);

  serve = start_serve (serve_extra);
  client = tu_spawn (iu_env, "connect", (const char *const *) argv->pdata, &stdin_fd);
  iu_write_all (stdin_fd, payload->str, payload->len);
  close (stdin_fd);
  connect_out = iu_finish (client, "connect", "sspictl connect");
  serve_out = finish_serve (serve);

  /* stdout is the data alone; the report went to stderr. */
  echoed = spawn_stdout ("connect", &echoed_len);
  ck_assert_uint_eq (echoed_len, payload->len);
  ck_assert (memcmp (echoed, payload->str, payload->len) == 0);
  tu_assert_contains (connect_out, v->report, "sspictl connect");
  /* Standard input may come in smaller pieces than 16 KiB; never in fewer
   * records than cbMaximumMessage allows. */
  assert_sent (connect_out, 40000, 3);
  tu_assert_contains_all (connect_out, "sspictl connect", "\nreceived: 40000 bytes in ",
                          "\nend: close_notify\n", NULL);
  tu_assert_contains (serve_out, "\nreceived: 40000 bytes in ", "sspictl serve");
  assert_sent (serve_out, 40000, 3);
  assert_closed_both_ways (serve_out, "sspictl serve");
}
END_TEST

/* connect --get against serve --http, twice: both ends report the
 * resumption, and the page (the server's view) agrees with the client. */
START_TEST (test_http_both_ends)
{
  const Version *v = &versions[_i];
  const char *const serve_extra[] = { "--http", "--count", "2", v->sspictl, NULL };
  const char *const extra[] = { "--get", "/", "--json", NULL };
  const char *const extra_text[] = { "--get", "/", NULL };
  g_autofree char *first = NULL, *second = NULL, *serve_out = NULL;
  GPid serve;

  serve = start_serve (serve_extra);
  first = iu_connect_ok ("connect1", extra);
  second = iu_connect_ok ("connect2", extra_text);
  serve_out = finish_serve (serve);

  /* --json: one document, the page in exchange.body (JSON-escaped). */
  tu_assert_contains_all (first, "sspictl connect --json", "\"resumed\": false",
                          "\"http\": \"HTTP/1.0 200 OK\"", NULL);
  tu_assert_contains (first, "\\nresumed: no\\n", "the page in JSON");
  tu_assert_contains (first, "\"end\": \"close_notify\"", "sspictl connect --json");
  tu_assert_contains_all (second, "sspictl connect (second)", "\nresumed: yes\n",
                          "\nhttp: HTTP/1.0 200 OK\n", NULL);
  /* The page: the server's report, after the client's. */
  tu_assert_contains (second, "\n\nsspictl serve: this connection, as sspid reports it\n",
                       "the page");
  ck_assert_uint_eq (count (second, "\nresumed: yes\n"), 2);
  ck_assert_msg (count (serve_out, "\nresumed: no\n") == 1 &&
                 count (serve_out, "\nresumed: yes\n") == 1, "sspictl serve:\n%s", tu_tail (serve_out));
}
END_TEST

START_TEST (test_usage)
{
  const char *both[] = { SSPICTL_BINARY, "connect", "127.0.0.1:1", "--get", "/", "--stdin",
                         NULL };
  const char *bad_path[] = { SSPICTL_BINARY, "connect", "127.0.0.1:1", "--get", "x", NULL };
  const char *echo_http[] = { SSPICTL_BINARY, "serve", "0", "--credential", "server",
                              "--echo", "--http", NULL };
  const char *bad_count[] = { SSPICTL_BINARY, "serve", "0", "--credential", "server",
                              "--count", "-1", NULL };

  ck_assert_int_eq (iu_run ("both", both, NULL), 1);
  ck_assert_int_eq (iu_run ("bad_path", bad_path, NULL), 1);
  ck_assert_int_eq (iu_run ("echo_http", echo_http, NULL), 1);
  ck_assert_int_eq (iu_run ("bad_count", bad_count, NULL), 1);
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "connect", setup, iu_teardown, 120, { { test_get_openssl, 4 }, { test_get_gnutls, 2 },
                                            { test_connect_resumes, 2 } } },
    { "serve", setup, iu_teardown, 120, { { test_echo_openssl, 2 }, { test_echo_gnutls_rekey },
                                          { test_reconnect_openssl }, { test_resume_gnutls, 2 },
                                          { test_http_openssl, 2 }, { test_stdin_key_update } } },
    { "both-ends", setup, iu_teardown, 120, { { test_stdin_echo, 2 }, { test_http_both_ends, 2 },
                                              { test_usage } } },
  };

  return tu_run_cases ("interop-data", cases, G_N_ELEMENTS (cases));
}
