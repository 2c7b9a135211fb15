/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DTLS 1.2 interoperability on loopback UDP: an sspid end (tests/dtls-end.c
 * on a UDP socket: a datagram per ISC/ASC call, a call with no input when
 * nothing came within the retransmission timeout) against real peers:
 *
 *   sspid client  ->  openssl s_server -dtls1_2, gnutls-serv --udp --echo
 *   sspid server  <-  openssl s_client -dtls1_2, gnutls-cli --udp
 *
 * and application data both ways through EncryptMessage/DecryptMessage.
 * The sspid server meets each peer's cookie round trip (HelloVerifyRequest
 * before any context), and a server flight the sspid side drops on
 * purpose is recovered by the peer's retransmission or ours.
 */

#include "config.h"

#include <check.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "dtls-end.h"
#include "interop-util.h"

/* The retransmission timer of the sspid side (Windows leaves it to the
 * caller): RFC 6347 4.2.4.1's, 1 s to start with, doubled at each
 * timeout.  The doubling matters: a GnuTLS client that waits for the
 * server's last flight restarts its own timer whenever a datagram
 * arrives, so a server resending faster than that timer would keep it
 * from ever resending a lost flight of its own. */
#define RETRANSMIT_MS 1000
#define RETRANSMIT_MAX_MS 8000

static int
udp_socket (void)
{
  int fd = socket (AF_INET, SOCK_DGRAM, 0);

  ck_assert_int_ge (fd, 0);
  return fd;
}

static struct sockaddr_in
loopback (guint16 port)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (port) };

  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  return sa;
}

static void
send_all (int fd, GPtrArray *out)
{
  for (guint i = 0; i < out->len; i++)
    {
      gsize len;
      const void *data = g_bytes_get_data (out->pdata[i], &len);

      ck_assert_int_eq (send (fd, data, len, 0), (ssize_t) len);
    }
  g_ptr_array_set_size (out, 0);
}

/* The next datagram on @fd (connected), or NULL after @timeout_ms. */
static GBytes *
receive (int fd, int timeout_ms)
{
  struct pollfd p = { .fd = fd, .events = POLLIN };
  guint8 buf[65536];
  ssize_t n;

  if (poll (&p, 1, timeout_ms) <= 0)
    return NULL;
  n = recv (fd, buf, sizeof buf, 0);
  ck_assert_int_ge (n, 0);
  return g_bytes_new (buf, (gsize) n);
}

/* Drives @end's handshake over @fd until SEC_E_OK: each datagram that
 * arrives is a step, a timeout a step with no input.  @drop_first_reply:
 * lose the first datagram the peer sends after its HelloVerifyRequest (the
 * start of its server flight, or its second flight as a client), so that
 * retransmission must recover it. */
static void
handshake_over_udp (DtlsEnd *end, int fd, GBytes *first, gboolean drop_first_reply)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  gint64 deadline = g_get_monotonic_time () + (gint64) IU_WAIT_MS * 1000;
  SECURITY_STATUS status;
  guint received = 0, timer = RETRANSMIT_MS;
  gboolean dropped = FALSE;

  status = dtls_end_step (end, first, out);
  send_all (fd, out);
  while (status != SEC_E_OK)
    {
      g_autoptr(GBytes) in = receive (fd, (int) timer);

      ck_assert_msg (status == SEC_I_CONTINUE_NEEDED, "handshake step: 0x%08x", (guint) status);
      ck_assert_msg (g_get_monotonic_time () < deadline, "no handshake within %u ms", IU_WAIT_MS);
      if (in != NULL)
        received++;
      else
        timer = MIN (timer * 2, RETRANSMIT_MAX_MS);
      /* The client's second datagram in is the server flight after the
       * HelloVerifyRequest; the server's second is the client's flight
       * after the ClientHello with the cookie. */
      if (in != NULL && drop_first_reply && !dropped && received == 2)
        {
          dropped = TRUE;
          continue;
        }
      status = dtls_end_step (end, in, out);
      send_all (fd, out);
    }
  ck_assert (!drop_first_reply || dropped);
}

/* The sspid client against a DTLS server on iu_port: handshake, then
 * @line to the server, and whatever the server sends back must contain
 * @reply. */
static void
client_session (int fd, gboolean drop, const char *line, const char *tag,
                const char *expect_printed, int server_stdin, const char *reply)
{
  DtlsEnd end;
  g_autoptr(GBytes) sealed = NULL;
  g_autoptr(GBytes) plain = NULL;
  gint64 deadline = g_get_monotonic_time () + (gint64) IU_WAIT_MS * 1000;

  dtls_end_init (&end, FALSE, NULL);
  handshake_over_udp (&end, fd, NULL, drop);
  sealed = dtls_end_seal (&end, line, strlen (line));
  ck_assert_int_eq (send (fd, g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed), 0),
                    (ssize_t) g_bytes_get_size (sealed));
  if (expect_printed != NULL)
    ck_assert_msg (iu_wait_printed (tag, expect_printed), "%s did not get the line", tag);
  if (server_stdin >= 0)
    iu_write_all (server_stdin, reply, strlen (reply));
  while (plain == NULL || strstr (g_bytes_get_data (plain, NULL), reply) == NULL)
    {
      g_autoptr(GBytes) in = receive (fd, RETRANSMIT_MS);
      g_autoptr(GBytes) opened = NULL;

      ck_assert_msg (g_get_monotonic_time () < deadline, "no reply from %s", tag);
      if (in == NULL)
        continue;
      if (dtls_end_open (&end, in, &opened) == SEC_E_OK && g_bytes_get_size (opened) > 0)
        {
          g_autoptr(GByteArray) z = g_byte_array_new ();

          g_byte_array_append (z, g_bytes_get_data (opened, NULL), (guint) g_bytes_get_size (opened));
          g_byte_array_append (z, (const guint8 *) "", 1);
          g_clear_pointer (&plain, g_bytes_unref);
          plain = g_byte_array_free_to_bytes (g_steal_pointer (&z));
        }
    }
  dtls_end_clear (&end);
}

static int
connected_socket (guint16 port)
{
  int fd = udp_socket ();
  struct sockaddr_in sa = loopback (port);

  ck_assert_int_eq (connect (fd, (struct sockaddr *) &sa, sizeof sa), 0);
  return fd;
}

/* _i: 1 drops the server's flight once. */
START_TEST (test_client_openssl)
{
  const char *argv[] = { "openssl", "s_server", "-dtls1_2", "-accept", iu_port_s,
                         "-cert", iu_server_pem, "-key", iu_server_key, NULL };
  int server_stdin = -1, fd;
  GPid pid;

  iu_require_program ("openssl");
  pid = tu_spawn (iu_env, "s_server", argv, &server_stdin);
  ck_assert_msg (iu_wait_printed ("s_server", "ACCEPT"), "s_server did not start");
  fd = connected_socket (iu_port);
  client_session (fd, _i == 1, "hello from sspid\n", "s_server", "hello from sspid",
                  server_stdin, "hello from s_server\n");
  close (fd);
  close (server_stdin);
  tu_kill (pid);
}
END_TEST

START_TEST (test_client_gnutls)
{
  const char *argv[] = { "gnutls-serv", "--udp", "--echo", "-p", iu_port_s,
                         "--x509certfile", iu_server_pem, "--x509keyfile", iu_server_key,
                         NULL };
  int fd;
  GPid pid;

  iu_require_program ("gnutls-serv");
  pid = tu_spawn (iu_env, "gnutls-serv", argv, NULL);
  ck_assert_msg (iu_wait_printed ("gnutls-serv", "listening"), "gnutls-serv did not start");
  fd = connected_socket (iu_port);
  /* --echo: the line comes back. */
  client_session (fd, _i == 1, "hello from sspid\n", "gnutls-serv", NULL, -1,
                  "hello from sspid\n");
  close (fd);
  tu_kill (pid);
}
END_TEST

/* The sspid server on iu_port: its first datagram decides the peer (the
 * socket is then connected to it), then the handshake, then @line from
 * the peer (written to its stdin) and our reply, which the peer prints. */
static void
server_session (const char *tag, const char *const *argv, const char *ready, gboolean drop)
{
  static const char line[] = "hello from the peer\n", reply[] = "hello from sspid\n";
  struct sockaddr_in sa = loopback (iu_port), peer;
  socklen_t peer_len = sizeof peer;
  int fd = udp_socket (), client_stdin = -1;
  guint8 buf[65536];
  ssize_t n;
  g_autoptr(GBytes) first = NULL;
  g_autoptr(GBytes) sealed = NULL;
  gboolean got_line = FALSE;
  gint64 deadline = g_get_monotonic_time () + (gint64) IU_WAIT_MS * 1000;
  DtlsEnd end;
  GPid pid;

  iu_require_program (argv[0]);
  ck_assert_int_eq (bind (fd, (struct sockaddr *) &sa, sizeof sa), 0);
  pid = tu_spawn (iu_env, tag, argv, &client_stdin);
  n = recvfrom (fd, buf, sizeof buf, 0, (struct sockaddr *) &peer, &peer_len);
  ck_assert_int_gt (n, 0);
  ck_assert_int_eq (connect (fd, (struct sockaddr *) &peer, peer_len), 0);
  first = g_bytes_new (buf, (gsize) n);

  dtls_end_init (&end, TRUE, "server");
  handshake_over_udp (&end, fd, first, drop);
  ck_assert_msg (iu_wait_printed (tag, ready), "%s: no handshake", tag);
  iu_write_all (client_stdin, line, strlen (line));
  while (!got_line)
    {
      g_autoptr(GBytes) in = receive (fd, RETRANSMIT_MS);
      g_autoptr(GBytes) opened = NULL;

      ck_assert_msg (g_get_monotonic_time () < deadline, "no line from %s", tag);
      if (in != NULL && dtls_end_open (&end, in, &opened) == SEC_E_OK)
        got_line = g_bytes_get_size (opened) == strlen (line) &&
                   memcmp (g_bytes_get_data (opened, NULL), line, strlen (line)) == 0;
    }
  sealed = dtls_end_seal (&end, reply, strlen (reply));
  ck_assert_int_eq (send (fd, g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed), 0),
                    (ssize_t) g_bytes_get_size (sealed));
  ck_assert_msg (iu_wait_printed (tag, reply), "%s did not print our reply", tag);
  dtls_end_clear (&end);
  close (client_stdin);
  close (fd);
  tu_kill (pid);
}

START_TEST (test_server_openssl)
{
  const char *argv[] = { "openssl", "s_client", "-dtls1_2", "-connect", iu_address,
                         "-CAfile", iu_ca, "-verify_return_error", "-servername", "localhost",
                         NULL };

  server_session ("s_client", argv, "Verify return code: 0 (ok)", _i == 1);
}
END_TEST

START_TEST (test_server_gnutls)
{
  const char *argv[] = { "gnutls-cli", "--udp", "-p", iu_port_s, "--x509cafile", iu_ca,
                         "--sni-hostname", "localhost", "--verify-hostname", "localhost",
                         "127.0.0.1", NULL };

  server_session ("gnutls-cli", argv, "Handshake was completed", _i == 1);
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "dtls", iu_setup, iu_teardown, 90, { { test_client_openssl, 2 }, { test_client_gnutls, 2 },
                                           { test_server_openssl, 2 },
                                           { test_server_gnutls, 2 } } },
  };

  return tu_run_cases ("interop-dtls", cases, G_N_ELEMENTS (cases));
}
