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
 * (SEC_I_MESSAGE_FRAGMENT) on both sides.  Through a relay that loses one
 * flight on purpose, sspictl's own retransmission timer (a step with no
 * input) and its answer to a peer that resends its last flight after the
 * handshake (SEC_I_RENEGOTIATE on a datagram context) must recover.
 * While each association is up, `sspictl contexts --json` must list its
 * context as an established DTLS one ("mode": "datagram").  The peers'
 * own DTLS stacks are the judges: their handshake and their printing of
 * our line say that sspictl's datagrams were right.
 */
#include "config.h"

#include <check.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

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

/* ---- a relay that loses one datagram ----------------------------------------- */

/* Between a client (which sends to the relay's port) and a server on
 * iu_port, on its own thread: every datagram is passed on, except the
 * first from the server whose first record has content type
 * @drop_type and, for a handshake record (22), message type
 * @drop_message. */
typedef struct {
  int           front;          /* bound to port; the client's side */
  int           back;           /* connected to iu_port */
  guint16       port;
  guint8        drop_type;
  guint8        drop_message;
  gint          dropped;        /* atomic: the datagram was lost */
  gint          stop;           /* atomic */
  GThread      *thread;
} Relay;

static gboolean
is_dropped (Relay *r, const guint8 *d, ssize_t n)
{
  if (g_atomic_int_get (&r->dropped) || n < 14 || d[0] != r->drop_type)
    return FALSE;
  return r->drop_type != 22 || d[13] == r->drop_message;
}

static gpointer
relay_run (gpointer data)
{
  Relay *r = data;
  struct sockaddr_in client;
  socklen_t client_len = 0;
  guint8 buf[65536];

  while (!g_atomic_int_get (&r->stop))
    {
      struct pollfd p[2] = { { r->front, POLLIN, 0 }, { r->back, POLLIN, 0 } };
      ssize_t n;

      if (poll (p, 2, 100) <= 0)
        continue;
      if (p[0].revents != 0)
        {
          client_len = sizeof client;
          n = recvfrom (r->front, buf, sizeof buf, 0, (struct sockaddr *) &client, &client_len);
          if (n > 0)
            send (r->back, buf, (size_t) n, 0);
        }
      /* Errors (the server not there yet: ICMP) are a lost datagram too. */
      if (p[1].revents != 0 && (n = recv (r->back, buf, sizeof buf, 0)) > 0 && client_len > 0)
        {
          if (is_dropped (r, buf, n))
            g_atomic_int_set (&r->dropped, TRUE);
          else
            sendto (r->front, buf, (size_t) n, 0, (struct sockaddr *) &client, client_len);
        }
    }
  return NULL;
}

static void
relay_start (Relay *r, guint8 drop_type, guint8 drop_message)
{
  memset (r, 0, sizeof *r);
  r->port = tu_free_port ();
  r->front = iu_udp_socket (r->port, TRUE);
  r->back = iu_udp_socket (iu_port, FALSE);
  r->drop_type = drop_type;
  r->drop_message = drop_message;
  r->thread = g_thread_new ("relay", relay_run, r);
}

/* Stops the relay; asserts that it lost the datagram it was to lose. */
static void
relay_stop (Relay *r)
{
  g_atomic_int_set (&r->stop, TRUE);
  g_thread_join (r->thread);
  close (r->front);
  close (r->back);
  ck_assert_msg (g_atomic_int_get (&r->dropped), "the relay lost nothing");
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
 * several, each from an AcceptSecurityContext call with no input.  The
 * client names "localhost", which resolves to ::1 first where the
 * machine has IPv6: nothing listens there (ICMP port unreachable), and
 * connect must go on to 127.0.0.1, where serve listens. */
START_TEST (test_both_sspictl_small_mtu)
{
  static const char *const fixed[] = { "--credential", "server", "--dtls", "--mtu", "300",
                                       "--echo", "--once", NULL };
  static const char *const extra[] = { "--dtls", "--mtu", "300", "--stdin", NULL };
  g_autoptr (GPtrArray) serve_argv = iu_sspictl_argv ("serve", iu_port_s, fixed, NULL);
  g_autofree char *localhost = g_strdup_printf ("localhost:%u", iu_port);
  g_autoptr (GPtrArray) connect_argv = iu_sspictl_argv ("connect", localhost, extra, NULL);
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

/* The server's HelloVerifyRequest is lost.  A DTLS server keeps no state
 * for it (that is its point), so only the client can recover: sspictl
 * connect's timer must go off and its step with no input resend the
 * ClientHello. */
START_TEST (test_connect_retransmits)
{
  const char *argv[] = { "gnutls-serv", "--udp", "-p", iu_port_s,
                         "--x509certfile", iu_server_pem, "--x509keyfile", iu_server_key,
                         NULL };
  g_autofree char *address = NULL, *out = NULL;
  Relay relay;
  GPid server;

  iu_require_program (argv[0]);
  server = tu_spawn (iu_env, "gnutls-serv", argv, NULL);
  ck_assert_msg (iu_wait_printed ("gnutls-serv", "listening"), "gnutls-serv did not start");
  relay_start (&relay, 22, 3);   /* handshake, HelloVerifyRequest */
  address = g_strdup_printf ("127.0.0.1:%u", relay.port);
  {
    const char *connect_argv[] = { SSPICTL_BINARY, "connect", address, "--target", "localhost",
                                   "--dtls", NULL };

    ck_assert_int_eq (iu_run ("connect", connect_argv, &out), 0);
  }
  relay_stop (&relay);
  tu_assert_contains_all (out, "sspictl connect --dtls through a lossy relay",
                          "protocol: DTLS 1.2", "retransmits: ", NULL);
  tu_kill (server);
}
END_TEST

/* sspictl serve's last flight (NewSessionTicket, ChangeCipherSpec and
 * Finished) is lost after its handshake is done: gnutls-cli resends its
 * own last flight,
 * which reaches serve as records (SEC_I_RENEGOTIATE), and serve must
 * answer it with its last flight again; then the line must come back. */
START_TEST (test_serve_resends_last_flight)
{
  static const char *const fixed[] = { "--credential", "server", "--dtls", "--echo", "--once",
                                       NULL };
  g_autoptr (GPtrArray) serve_argv = iu_sspictl_argv ("serve", iu_port_s, fixed, NULL);
  g_autofree char *port = NULL, *out = NULL;
  int client_stdin = -1;
  Relay relay;
  GPid serve, client;

  iu_require_program ("gnutls-cli");
  serve = tu_spawn (iu_env, "serve", (const char *const *) serve_argv->pdata, NULL);
  ck_assert_msg (iu_wait_printed ("serve", "listening on"), "serve --dtls did not start");
  relay_start (&relay, 22, 4);   /* handshake, NewSessionTicket: the last flight's start */
  port = g_strdup_printf ("%u", relay.port);
  {
    const char *argv[] = { "gnutls-cli", "--udp", "-p", port, "--x509cafile", iu_ca,
                           "--sni-hostname", "localhost", "--verify-hostname", "localhost",
                           "127.0.0.1", NULL };

    client = tu_spawn (iu_env, "gnutls-cli", argv, &client_stdin);
  }
  ck_assert_msg (iu_wait_printed ("gnutls-cli", "Handshake was completed"), "no handshake");
  iu_write_all (client_stdin, from_peer, strlen (from_peer));
  ck_assert_msg (iu_wait_printed ("gnutls-cli", from_peer), "gnutls-cli did not get the echo");
  close (client_stdin);
  out = iu_finish (serve, "serve", "sspictl serve --dtls through a lossy relay");
  relay_stop (&relay);
  tu_assert_contains_all (out, "sspictl serve --dtls through a lossy relay",
                          "end: close_notify", "flights resent", NULL);
  tu_kill (client);
}
END_TEST

/* Nothing listens at the port: UDP cannot refuse a connection, but the
 * kernel's ICMP port unreachable must end connect at once, as a TCP
 * reset would, with the exit status of an unreachable peer. */
START_TEST (test_connect_nobody_listens)
{
  const char *argv[] = { SSPICTL_BINARY, "connect", iu_address, "--target", "localhost",
                         "--dtls", NULL };
  g_autofree char *out = NULL;
  gint64 started = g_get_monotonic_time ();

  ck_assert_int_eq (iu_run ("connect", argv, &out), 3);
  tu_assert_contains (out, "nothing listens at 127.0.0.1:", "connect --dtls to a closed port");
  /* Not the handshake's 30 s without an answer. */
  ck_assert_int_lt (g_get_monotonic_time () - started, 10 * G_USEC_PER_SEC);
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
                                           { test_both_sspictl_small_mtu },
                                           { test_connect_nobody_listens } } },
    { "loss", iu_setup, iu_teardown, 90, { { test_connect_retransmits },
                                           { test_serve_resends_last_flight } } },
    { "usage", NULL, NULL, 30, { { test_usage } } },
  };

  return tu_run_cases ("sspictl-dtls", cases, G_N_ELEMENTS (cases));
}
