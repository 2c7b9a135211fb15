/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What tlsfuzzer found (issue 13), seen from real peers of `sspictl serve`
 * (libsspi's Windows API over the real sspid): what a careful TLS server
 * does where sspid once did not.
 *
 *   - TLS 1.2 CBC suites carry data (openssl s_client -cipher AES128-SHA:
 *     STREAM_SIZES once had no room for the IV, MAC and padding), and DHE
 *     suites are offered (the server had no DH parameters);
 *   - a TLS 1.2 client resumes by session ID, without tickets;
 *   - a failed handshake sends the alert GnuTLS would (openssl sees
 *     handshake_failure when no suite is shared, no_application_protocol
 *     when no ALPN id is);
 *   - a record the server cannot accept after the handshake (a flipped bit,
 *     an oversized record) is answered with bad_record_mac or
 *     record_overflow, read by a GnuTLS client in this process.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>

#include "interop-util.h"

static void
setup (void)
{
  iu_require_program ("openssl");
  iu_setup ();
}

/* Starts `sspictl serve PORT --credential @cred @extra...`. */
static GPid
start_serve (const char *cred, const char *const *extra)
{
  const char *const fixed[] = { "--credential", cred, "--once", NULL };

  return iu_start_serve ("sspictl-serve", fixed, extra);
}

/* ---- CBC suites --------------------------------------------------------- */

static const struct {
  const char *credential;
  const char *openssl;      /* s_client -cipher */
  const char *report;       /* sspictl serve's cipher line */
  const char *frag;         /* s_client -max_send_frag, NULL: none */
} cbc_suites[] = {
  { "rsa", "AES128-SHA", "cipher: TLS_RSA_WITH_AES_128_CBC_SHA", NULL },
  { "rsa", "ECDHE-RSA-AES128-SHA", "cipher: TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "512" },
  { "server", "ECDHE-ECDSA-AES256-SHA", "cipher: TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", NULL },
  { "rsa", "DHE-RSA-AES128-SHA", "cipher: TLS_DHE_RSA_WITH_AES_128_CBC_SHA", NULL },
};

/* The reproduction of the issue: s_client on a CBC suite asks for a page
 * and gets it (the first EncryptMessage used to fail with
 * SEC_E_BUFFER_TOO_SMALL).  One variant sends in 512-byte fragments, so
 * the handshake spans many records too. */
START_TEST (test_cbc_http)
{
  const char *const serve_extra[] = { "--http", "--tls1.2", NULL };
  const char *client_argv[] = {
    "openssl", "s_client", "-connect", iu_address, "-tls1_2", "-cipher", cbc_suites[_i].openssl,
    "-CAfile", iu_ca, "-verify_return_error", "-servername", "localhost", "-ign_eof",
    cbc_suites[_i].frag != NULL ? "-max_send_frag" : NULL, cbc_suites[_i].frag, NULL
  };
  const char request[] = "GET /cbc HTTP/1.0\r\nHost: localhost\r\n\r\n";
  g_autofree char *client_out = NULL, *serve_out = NULL, *cipher = NULL;
  int stdin_fd = -1;
  GPid serve, client;

  serve = start_serve (cbc_suites[_i].credential, serve_extra);
  client = tu_spawn (iu_env, "s_client", client_argv, &stdin_fd);
  ck_assert_int_eq (write (stdin_fd, request, strlen (request)), (gssize) strlen (request));
  close (stdin_fd);
  client_out = iu_finish (client, "s_client", "s_client");
  serve_out = iu_finish (serve, "sspictl-serve", "sspictl serve");

  tu_assert_contains_all (client_out, "s_client", "HTTP/1.0 200 OK\r\n",
                          "\nrequest: GET /cbc HTTP/1.0\n", NULL);
  cipher = g_strdup_printf ("Cipher is %s", cbc_suites[_i].openssl);
  tu_assert_contains (client_out, cipher, "s_client");
  tu_assert_contains_all (serve_out, "sspictl serve", cbc_suites[_i].report,
                          "close_notify sent: yes", NULL);
}
END_TEST

/* ---- session-ID resumption ------------------------------------------------ */

/* s_client without tickets saves its TLS 1.2 session and offers its ID on
 * the next connection: the server finds it (GnuTLS's session database, in
 * the daemon) and resumes. */
START_TEST (test_session_id_resumption)
{
  g_autofree char *session = g_build_filename (iu_env->dir, "s_client.session", NULL);
  const char *const fixed[] = { "--credential", "rsa", "--count", "2", "--tls1.2", NULL };
  const char *first_argv[] = {
    "openssl", "s_client", "-connect", iu_address, "-tls1_2", "-no_ticket", "-CAfile", iu_ca,
    "-sess_out", session, NULL
  };
  const char *second_argv[] = {
    "openssl", "s_client", "-connect", iu_address, "-tls1_2", "-no_ticket", "-CAfile", iu_ca,
    "-sess_in", session, NULL
  };
  g_autofree char *first = NULL, *second = NULL, *serve_out = NULL;
  GPid serve;

  serve = iu_start_serve ("sspictl-serve", fixed, NULL);
  iu_run ("s_client1", first_argv, &first);
  iu_run ("s_client2", second_argv, &second);
  serve_out = iu_finish (serve, "sspictl-serve", "sspictl serve");

  tu_assert_contains (first, "New, TLSv1.2", "s_client (first)");
  tu_assert_contains (second, "Reused, TLSv1.2", "s_client (second)");
  tu_assert_contains_all (serve_out, "sspictl serve", "resumed: no", "resumed: yes", NULL);
}
END_TEST

/* ---- a failed handshake -------------------------------------------------- */

/* No suite in common: sspictl serve (ASC_REQ_EXTENDED_ERROR) sends the
 * handshake_failure alert AcceptSecurityContext returned with its error. */
START_TEST (test_handshake_failure_alert)
{
  const char *const serve_extra[] = { "--tls1.2", NULL };
  const char *client_argv[] = {
    "openssl", "s_client", "-connect", iu_address, "-tls1_2", "-cipher", "AES256-SHA256",
    "-CAfile", iu_ca, NULL
  };
  g_autofree char *client_out = NULL, *serve_out = NULL;
  GPid serve;
  int code;

  serve = start_serve ("rsa", serve_extra);
  ck_assert_int_ne (iu_run ("s_client", client_argv, &client_out), 0);
  code = iu_wait_output (serve, "sspictl-serve", &serve_out);
  ck_assert_msg (code == 2, "sspictl serve exited %d:\n%s", code, tu_tail (serve_out));
  tu_assert_contains (serve_out, "SEC_E_ALGORITHM_MISMATCH", "sspictl serve");
  tu_assert_contains (client_out, "alert handshake failure", "s_client");
}
END_TEST

/* ALPN with nothing in common: sspictl serve, accepting http/1.1 and h2,
 * gets SEC_E_APPLICATION_PROTOCOL_MISMATCH from AcceptSecurityContext and
 * sends the no_application_protocol alert that came with it (RFC 7301
 * section 3.2); s_client offering one of them is served. */
START_TEST (test_no_application_protocol_alert)
{
  const char *const serve_extra[] = { "--alpn", "http/1.1", "--alpn", "h2", NULL };
  gboolean shared = _i == 1;
  const char *client_argv[] = {
    "openssl", "s_client", "-connect", iu_address, "-alpn", shared ? "foo,h2" : "foo,http/1.",
    "-CAfile", iu_ca, "-verify_return_error", "-servername", "localhost", NULL
  };
  g_autofree char *client_out = NULL, *serve_out = NULL;
  GPid serve;
  int code;

  serve = start_serve ("rsa", serve_extra);
  code = iu_run ("s_client", client_argv, &client_out);
  if (shared)
    {
      ck_assert_msg (code == 0, "s_client exited %d:\n%s", code, tu_tail (client_out));
      serve_out = iu_finish (serve, "sspictl-serve", "sspictl serve");
      tu_assert_contains (client_out, "ALPN protocol: h2", "s_client");
      tu_assert_contains (serve_out, "alpn: h2", "sspictl serve");
      return;
    }
  ck_assert_int_ne (code, 0);
  code = iu_wait_output (serve, "sspictl-serve", &serve_out);
  ck_assert_msg (code == 2, "sspictl serve exited %d:\n%s", code, tu_tail (serve_out));
  tu_assert_contains (serve_out, "SEC_E_APPLICATION_PROTOCOL_MISMATCH", "sspictl serve");
  tu_assert_contains (client_out, "no application protocol", "s_client");
}
END_TEST

/* ---- after the handshake: a GnuTLS client that misbehaves ---------------- */

typedef struct {
  int      fd;
  gboolean corrupt_next;   /* flip a bit of the next record sent */
} RawPeer;

static ssize_t
raw_push (gnutls_transport_ptr_t ptr, const void *buf, size_t len)
{
  RawPeer *peer = ptr;
  g_autofree guint8 *copy = g_memdup2 (buf, len);

  if (peer->corrupt_next && len > 5)
    {
      copy[len - 1] ^= 0x01;   /* inside the tag or MAC */
      peer->corrupt_next = FALSE;
    }
  return send (peer->fd, copy, len, MSG_NOSIGNAL);
}

static ssize_t
raw_pull (gnutls_transport_ptr_t ptr, void *buf, size_t len)
{
  RawPeer *peer = ptr;

  return recv (peer->fd, buf, len, 0);
}

static int
connect_loopback (guint16 port)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (port) };
  struct timeval tv = { .tv_sec = 20 };
  int fd = socket (AF_INET, SOCK_STREAM, 0);

  ck_assert_int_ge (fd, 0);
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  ck_assert_msg (connect (fd, (struct sockaddr *) &sa, sizeof sa) == 0, "connect: %s",
                 g_strerror (errno));
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

/* The fatal alert the server sends after what @misbehave does on an
 * established session (a data record first, so the handshake is surely
 * over on both sides). */
static int
alert_after (const char *priority, void (*misbehave) (gnutls_session_t, RawPeer *))
{
  gnutls_certificate_credentials_t creds;
  gnutls_session_t session;
  RawPeer peer = { .fd = connect_loopback (iu_port) };
  char buf[256];
  ssize_t n;
  int alert;

  ck_assert_int_eq (gnutls_certificate_allocate_credentials (&creds), 0);
  ck_assert_int_ge (gnutls_certificate_set_x509_trust_file (creds, iu_ca, GNUTLS_X509_FMT_PEM), 1);
  ck_assert_int_eq (gnutls_init (&session, GNUTLS_CLIENT), 0);
  ck_assert_int_eq (gnutls_priority_set_direct (session, priority, NULL), 0);
  ck_assert_int_eq (gnutls_credentials_set (session, GNUTLS_CRD_CERTIFICATE, creds), 0);
  gnutls_server_name_set (session, GNUTLS_NAME_DNS, "localhost", 9);
  gnutls_session_set_verify_cert (session, "localhost", 0);
  gnutls_transport_set_ptr (session, &peer);
  gnutls_transport_set_push_function (session, raw_push);
  gnutls_transport_set_pull_function (session, raw_pull);
  ck_assert_int_eq (gnutls_handshake (session), 0);

  ck_assert_int_eq (gnutls_record_send (session, "ping\n", 5), 5);
  do
    n = gnutls_record_recv (session, buf, sizeof buf);
  while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
  ck_assert_int_eq (n, 5);

  misbehave (session, &peer);
  do
    n = gnutls_record_recv (session, buf, sizeof buf);
  while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED || n > 0);
  ck_assert_msg (n == GNUTLS_E_FATAL_ALERT_RECEIVED, "no alert from sspictl serve: %s",
                 gnutls_strerror ((int) n));
  alert = (int) gnutls_alert_get (session);
  gnutls_deinit (session);
  gnutls_certificate_free_credentials (creds);
  close (peer.fd);
  return alert;
}

static void
send_tampered (gnutls_session_t session, RawPeer *peer)
{
  peer->corrupt_next = TRUE;
  ck_assert_int_eq (gnutls_record_send (session, "tampered\n", 9), 9);
}

static void
send_oversized (gnutls_session_t session, RawPeer *peer)
{
  static const guint8 header[] = { 23, 3, 3, 0x48, 0x01 };   /* 18433 bytes */

  ck_assert_int_eq (send (peer->fd, header, sizeof header, MSG_NOSIGNAL), sizeof header);
}

static const char *const priorities[] = {
  "NORMAL:-VERS-ALL:+VERS-TLS1.3",
  "NORMAL:-VERS-ALL:+VERS-TLS1.2",
  "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-CBC",
};

/* sspictl's DecryptMessage fails on what @misbehave sends (on a session
 * of priorities[@i]); its AcceptSecurityContext, called as on Windows
 * after the failure, returns the alert @alert, which it sends, and it
 * says @why. */
static void
assert_serve_alerts (int i, void (*misbehave) (gnutls_session_t, RawPeer *), int alert,
                     const char *why)
{
  const char *const serve_extra[] = { "--echo", NULL };
  g_autofree char *serve_out = NULL;
  GPid serve;

  serve = start_serve ("server", serve_extra);
  ck_assert_int_eq (alert_after (priorities[i], misbehave), alert);
  iu_wait_output (serve, "sspictl-serve", &serve_out);
  tu_assert_contains (serve_out, why, "sspictl serve");
}

START_TEST (test_bad_record_mac_alert)
{
  assert_serve_alerts (_i, send_tampered, GNUTLS_A_BAD_RECORD_MAC,
                       "DecryptMessage: SEC_E_DECRYPT_FAILURE");
}
END_TEST

START_TEST (test_record_overflow_alert)
{
  assert_serve_alerts (_i, send_oversized, GNUTLS_A_RECORD_OVERFLOW,
                       "DecryptMessage: SEC_E_INVALID_TOKEN");
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "peers", setup, iu_teardown, 60, { { test_cbc_http, G_N_ELEMENTS (cbc_suites) },
                                         { test_session_id_resumption },
                                         { test_handshake_failure_alert },
                                         { test_no_application_protocol_alert, 2 },
                                         { test_bad_record_mac_alert, G_N_ELEMENTS (priorities) },
                                         { test_record_overflow_alert, G_N_ELEMENTS (priorities) } } },
  };

  return tu_run_cases ("interop-conformance", cases, G_N_ELEMENTS (cases));
}
