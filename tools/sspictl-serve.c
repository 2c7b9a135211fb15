/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `sspictl serve PORT --credential NAME`: a TLS server.  It listens on
 * loopback (or --bind ADDR), and for each connection, one at a time, runs
 * the handshake through sspid with the inbound credential NAME and prints
 * the session report (with the client certificate's subject, if one was
 * sent, and whether the client resumed a session).  By default it then
 * closes the connection; with --echo it sends back every record's
 * plaintext until the client closes, with --http it answers one HTTP
 * request with a page describing the connection.  The data goes through
 * EncryptMessage / DecryptMessage (sspictl-stream.c).
 *
 * With --dtls it serves DTLS 1.2 over UDP the same way: a ClientHello
 * starts an association with its sender (the socket is connected to it, so
 * that only its datagrams come in), sspid answers it with a
 * HelloVerifyRequest before it makes a context, and the association ends
 * as a connection does; then the port is bound afresh for the next client.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "sspictl-stream.h"

/* --http: the largest request header read before answering 400. */
#define MAX_REQUEST 16384

typedef struct {
  SspictlTlsArgs tls;
  char    *bind;
  gboolean require_client_cert;
  gboolean once;
  int      count;
  gboolean echo;
  gboolean http;
} ServeArgs;

static void
serve_args_clear (ServeArgs *a)
{
  sspictl_tls_args_clear (&a->tls);
  g_free (a->bind);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ServeArgs, serve_args_clear)

static gboolean
parse_args (int argc, char **argv, ServeArgs *a, guint16 *port)
{
  const GOptionEntry entries[] = {
    { "credential", 'c', 0, G_OPTION_ARG_STRING, &a->tls.credential,
      "Serve with the certificate of [credential NAME] (required)", "NAME" },
    { "alpn", 'a', 0, G_OPTION_ARG_STRING_ARRAY, &a->tls.alpn,
      "Accept application protocol ID (repeat for more, in preference order)", "ID" },
    { "bind", 'b', 0, G_OPTION_ARG_STRING, &a->bind,
      "Listen on ADDR (default 127.0.0.1)", "ADDR" },
    { "require-client-cert", 0, 0, G_OPTION_ARG_NONE, &a->require_client_cert,
      "Ask for a client certificate and refuse clients without one", NULL },
    { "once", 0, 0, G_OPTION_ARG_NONE, &a->once,
      "Exit after one connection (status 0 if it succeeded); --count 1", NULL },
    { "count", 'n', 0, G_OPTION_ARG_INT, &a->count,
      "Exit after N connections (status 0 if all succeeded)", "N" },
    { "echo", 'e', 0, G_OPTION_ARG_NONE, &a->echo,
      "Send every record's data back until the client closes", NULL },
    { "http", 0, 0, G_OPTION_ARG_NONE, &a->http,
      "Answer an HTTP request with a page describing the connection", NULL },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &a->tls.json,
      "Print each connection's report as one JSON document", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("PORT");
  g_autoptr (GError) error = NULL;
  guint64 value;

  g_option_context_set_summary (context,
                                "Accept TLS connections and run each handshake through sspid;\n"
                                "with --echo or --http, exchange data over it.\n"
                                "PORT 0 picks a free port (printed on the 'listening on' line).");
  g_option_context_set_description (context,
      "NAME is an inbound (or both) credential of sspid.conf that you may use\n"
      "(see 'sspictl credentials').  Connections are served one at a time;\n"
      "each gets a report like connect's (with the client certificate's\n"
      "subject and 'resumed: yes' for a resumed session).  Without --echo or\n"
      "--http the connection is then closed.  With them, the report adds what\n"
      "was received and sent and how the client ended (close_notify or eof).\n"
      "With --json the 'listening on' line goes to stderr and each report is\n"
      "one JSON document on stdout.  With --dtls it listens on UDP: each\n"
      "client's ClientHello starts an association, served like a connection\n"
      "(sspid's cookie exchange first), ended by close_notify.\n\n"
      SSPICTL_HELP_BUS "\n" SSPICTL_HELP_EXIT_CODES);
  g_option_context_add_main_entries (context, entries, NULL);
  sspictl_tls_args_add_entries (context, &a->tls);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("sspictl serve: %s\n", error->message);
      return FALSE;
    }
  if (argc != 2 || !g_ascii_string_to_unsigned (argv[1], 10, 0, G_MAXUINT16, &value, NULL))
    {
      g_printerr ("sspictl serve: expected one PORT argument (0-65535)\n");
      return FALSE;
    }
  if (a->tls.credential == NULL)
    {
      g_printerr ("sspictl serve: --credential NAME is required\n");
      return FALSE;
    }
  if (!sspictl_tls_args_check (&a->tls, "serve"))
    return FALSE;
  if (a->echo && a->http)
    {
      g_printerr ("sspictl serve: --echo and --http exclude each other\n");
      return FALSE;
    }
  if (a->count < 0 || (a->once && a->count > 1))
    {
      g_printerr ("sspictl serve: --count wants a positive number (--once is --count 1)\n");
      return FALSE;
    }
  if (a->once)
    a->count = 1;
  *port = (guint16) value;
  return TRUE;
}

/* A socket bound to @addr:@port: TCP and listening, or with @is_datagram
 * UDP (for --dtls: bound afresh for each association).  Prints why not
 * and returns NULL. */
static GSocket *
bind_socket (const char *addr, guint16 port, gboolean is_datagram)
{
  g_autoptr (GInetAddress) inet = g_inet_address_new_from_string (addr);
  g_autoptr (GSocketAddress) sa = NULL;
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GError) error = NULL;

  if (inet == NULL)
    {
      g_printerr ("sspictl serve: '%s' is not an IP address\n", addr);
      return NULL;
    }
  sa = g_inet_socket_address_new (inet, port);
  socket = g_socket_new (g_inet_address_get_family (inet),
                         is_datagram ? G_SOCKET_TYPE_DATAGRAM : G_SOCKET_TYPE_STREAM,
                         is_datagram ? G_SOCKET_PROTOCOL_UDP : G_SOCKET_PROTOCOL_TCP, &error);
  /* Address reuse is for TCP's TIME_WAIT; for UDP it would let another
   * socket share the port. */
  if (socket == NULL ||
      !g_socket_bind (socket, sa, !is_datagram, &error) ||
      (!is_datagram && !g_socket_listen (socket, &error)))
    {
      g_printerr ("sspictl serve: listening on %s:%u%s: %s\n", addr, port,
                  is_datagram ? " (UDP)" : "", error->message);
      return NULL;
    }
  return g_steal_pointer (&socket);
}

/* --dtls: waits for a datagram that starts a DTLS handshake (a record of
 * type handshake, 22, whose message is a ClientHello, 1) and connects
 * @socket to its sender, leaving the datagram queued for the handshake.
 * Anything else (a late datagram of the previous association) is read and
 * dropped.  FALSE, with a message printed, on a socket error. */
static gboolean
accept_datagram_client (GSocket *socket)
{
  for (;;)
    {
      g_autoptr (GSocketAddress) from = NULL;
      g_autoptr (GError) error = NULL;
      guint8 head[14];
      GInputVector vector = { head, sizeof head };
      int flags = G_SOCKET_MSG_PEEK;
      gssize n = g_socket_receive_message (socket, &from, &vector, 1, NULL, NULL, &flags,
                                           NULL, &error);

      if (n < 0)
        {
          g_printerr ("sspictl serve: receiving: %s\n", error->message);
          return FALSE;
        }
      if (n == sizeof head && head[0] == 22 && head[13] == 1)
        {
          if (g_socket_connect (socket, from, NULL, &error))
            return TRUE;
          g_printerr ("sspictl serve: %s\n", error->message);
          return FALSE;
        }
      g_socket_receive (socket, (char *) head, sizeof head, NULL, NULL);
    }
}

static guint16
local_port (GSocket *socket)
{
  g_autoptr (GSocketAddress) sa = g_socket_get_local_address (socket, NULL);

  return sa ? g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (sa)) : 0;
}

static gboolean
has_client_certificate (CtxtHandle *ctx)
{
  PCCERT_CONTEXT cert = NULL;

  if (QueryContextAttributesA (ctx, SECPKG_ATTR_REMOTE_CERT_CONTEXT, &cert) != SEC_E_OK ||
      cert == NULL)
    return FALSE;
  CertFreeCertificateContext (cert);
  return TRUE;
}

/* --echo: every record's data goes back as it came, until the client
 * ends; its close_notify is answered with ours. */
static int
run_echo (SspictlStream *stream)
{
  g_autoptr (GByteArray) data = g_byte_array_new ();
  SspictlStreamResult r;

  while ((r = sspictl_stream_receive (stream, data)) == SSPICTL_STREAM_DATA)
    {
      if (!sspictl_stream_send (stream, data->data, data->len))
        return SSPICTL_EXIT_FAILED;
      g_byte_array_set_size (data, 0);
    }
  return sspictl_stream_end (stream, r);
}

/* The page --http serves: the connection as sspid reports it. */
static char *
http_page (const SspictlTlsReport *report, const char *request_line)
{
  const char *alpn = sspictl_tls_report_peek_alpn (report);
  const char *peer = sspictl_tls_report_peek_peer (report);

  return g_strdup_printf ("sspictl serve: this connection, as sspid reports it\n"
                          "protocol: %s\n"
                          "cipher: %s\n"
                          "alpn: %s\n"
                          "resumed: %s\n"
                          "client certificate: %s\n"
                          "request: %s\n",
                          sspictl_tls_report_peek_protocol (report),
                          sspictl_tls_report_peek_cipher (report),
                          alpn ? alpn : "none",
                          sspictl_tls_report_is_resumed (report) ? "yes" : "no",
                          peer ? peer : "none", request_line);
}

static gboolean
send_http (SspictlStream *stream, const char *status, const char *body, gboolean with_body)
{
  g_autofree char *response =
      g_strdup_printf ("HTTP/1.0 %s\r\n"
                       "Server: sspictl/" PACKAGE_VERSION "\r\n"
                       "Content-Type: text/plain; charset=utf-8\r\n"
                       "Content-Length: %" G_GSIZE_FORMAT "\r\n"
                       "Connection: close\r\n\r\n%s",
                       status, strlen (body), with_body ? body : "");

  return sspictl_stream_send (stream, response, strlen (response));
}

/* --http: one request (its header; a body is not read), one answer, then
 * close_notify: HTTP/1.0 without keep-alive. */
static int
run_http (SspictlStream *stream, const SspictlTlsReport *report)
{
  SspictlTlsExchange *x = sspictl_stream_peek_exchange (stream);
  /* Sized up front: its data is never NULL, which memmem may not be given. */
  g_autoptr (GByteArray) request = g_byte_array_sized_new (MAX_REQUEST + 1);
  g_autofree char *page = NULL;
  const char *eol;
  gboolean is_get, is_head;

  /* memmem, not g_strstr_len: the bytes are not a string (and may be none). */
  while (memmem (request->data, request->len, "\r\n\r\n", 4) == NULL &&
         memmem (request->data, request->len, "\n\n", 2) == NULL)
    {
      SspictlStreamResult r;

      if (request->len > MAX_REQUEST)
        {
          x->http_line = g_strdup ("(request header too large)");
          send_http (stream, "400 Bad Request", "request header too large\n", TRUE);
          sspictl_stream_shutdown (stream);
          return SSPICTL_EXIT_FAILED;
        }
      r = sspictl_stream_receive (stream, request);
      if (r != SSPICTL_STREAM_DATA)
        return sspictl_stream_end (stream, r);   /* no request: nothing to answer */
    }

  eol = memchr (request->data, '\n', request->len);
  x->http_line = g_strndup ((const char *) request->data, eol - (const char *) request->data);
  g_strchomp (x->http_line);
  is_get = g_str_has_prefix (x->http_line, "GET ");
  is_head = g_str_has_prefix (x->http_line, "HEAD ");
  if (is_get || is_head)
    {
      page = http_page (report, x->http_line);
      if (!send_http (stream, "200 OK", page, is_get))
        return SSPICTL_EXIT_FAILED;
    }
  else if (!send_http (stream, "405 Method Not Allowed", "only GET and HEAD\n", TRUE))
    return SSPICTL_EXIT_FAILED;
  sspictl_stream_shutdown (stream);
  return SSPICTL_EXIT_OK;
}

/* The data part of a connection, with --echo or --http. */
static int
serve_data (GSocket *client, CredHandle *cred, CtxtHandle *ctx, const SspictlTlsOptions *opts,
            const ServeArgs *a, const SspictlTlsReport *report, const GByteArray *leftover)
{
  g_autoptr (SspictlStream) stream = sspictl_stream_new (client, cred, ctx, opts, leftover);
  int ret;

  sspictl_tls_report_print_before_data (report, a->tls.json, stdout);
  ret = a->echo ? run_echo (stream) : run_http (stream, report);
  sspictl_tls_report_print_after_data (report, sspictl_stream_peek_exchange (stream), a->tls.json,
                                       stdout);
  return ret;
}

/* One connection: handshake, report and, with --echo or --http, the data.
 * Returns an SSPICTL_EXIT_* code. */
static int
serve_one (GSocket *client, CredHandle *cred, const SspictlTlsOptions *opts, const ServeArgs *a)
{
  g_autoptr (GSocketAddress) peer = g_socket_get_remote_address (client, NULL);
  g_autoptr (GByteArray) leftover = g_byte_array_new ();
  g_autofree char *peer_str = NULL;
  CtxtHandle ctx;
  SECURITY_STATUS status;
  SspictlTlsStats stats;
  int ret;

  if (peer != NULL)
    peer_str = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (peer));
  if (a->tls.json)
    g_printerr ("connection from %s\n", peer_str ? peer_str : "?");
  else
    {
      g_print ("connection from %s\n", peer_str ? peer_str : "?");
      fflush (stdout);
    }

  ret = sspictl_tls_handshake (client, cred, opts, &ctx, &status, &stats, leftover);
  if (ret == SSPICTL_EXIT_OK && a->require_client_cert && !has_client_certificate (&ctx))
    {
      g_printerr ("sspictl serve: the client sent no certificate\n");
      status = SEC_E_NO_CREDENTIALS;
      ret = SSPICTL_EXIT_HANDSHAKE;
    }
  if (ret == SSPICTL_EXIT_OK)
    {
      g_autoptr (SspictlTlsReport) report = sspictl_tls_report_new (&ctx, TRUE, &stats);

      if (a->echo || a->http)
        ret = serve_data (client, cred, &ctx, opts, a, report, leftover);
      else
        sspictl_tls_report_print (report, NULL, a->tls.json, stdout);
    }
  else if (ret == SSPICTL_EXIT_HANDSHAKE)
    sspictl_tls_print_failure (status, TRUE, a->tls.json);
  sspictl_tls_delete_context (&ctx);
  sspictl_socket_close_gently (client);
  return ret;
}

/* The next TCP connection, served.  Returns an SSPICTL_EXIT_* code. */
static int
serve_stream_client (GSocket *listener, CredHandle *cred, const SspictlTlsOptions *opts,
                     const ServeArgs *a)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) client = g_socket_accept (listener, NULL, &error);

  if (client == NULL)
    {
      g_printerr ("sspictl serve: accept: %s\n", error->message);
      return SSPICTL_EXIT_NETWORK;
    }
  return serve_one (client, cred, opts, a);
}

/* --dtls: the next association, served on *@socket, which is connected to
 * that client and closed at its end (*@socket is NULL then: the next
 * association needs a socket bound afresh).  Returns an SSPICTL_EXIT_*
 * code. */
static int
serve_datagram_client (GSocket **socket, CredHandle *cred, const SspictlTlsOptions *opts,
                       const ServeArgs *a)
{
  int ret = accept_datagram_client (*socket) ? serve_one (*socket, cred, opts, a)
                                             : SSPICTL_EXIT_NETWORK;

  g_clear_object (socket);
  return ret;
}

int
sspictl_serve (int argc, char **argv)
{
  g_auto (ServeArgs) a = { 0 };
  g_autoptr (GSocket) listener = NULL;
  SspictlTlsOptions opts = { 0 };
  const char *addr;
  CredHandle cred;
  guint16 port = 0;
  int ret = SSPICTL_EXIT_OK;

  if (!parse_args (argc, argv, &a, &port))
    return SSPICTL_EXIT_USAGE;

  sspictl_tls_options_init (&opts, &a.tls, TRUE);
  opts.context_req = a.require_client_cert ? ASC_REQ_MUTUAL_AUTH : 0;

  ret = sspictl_tls_acquire_for_verb (&opts, &cred);
  if (ret != SSPICTL_EXIT_OK)
    return ret;

  addr = a.bind ? a.bind : "127.0.0.1";
  listener = bind_socket (addr, port, a.tls.dtls);
  if (listener == NULL)
    {
      sspictl_tls_free_credential (&cred);
      return SSPICTL_EXIT_NETWORK;
    }
  /* Tests and scripts wait for this line before connecting. */
  if (a.tls.json)
    g_printerr ("listening on %s:%u\n", addr, local_port (listener));
  else
    {
      g_print ("listening on %s:%u\n", addr, local_port (listener));
      fflush (stdout);
    }

  /* --count N: the exit status says whether all N went well. */
  port = local_port (listener);
  for (int served = 0; a.count == 0 || served < a.count; served++)
    {
      int one;

      if (listener == NULL && (listener = bind_socket (addr, port, TRUE)) == NULL)
        {
          ret = SSPICTL_EXIT_NETWORK;
          break;
        }
      one = a.tls.dtls ? serve_datagram_client (&listener, &cred, &opts, &a)
                       : serve_stream_client (listener, &cred, &opts, &a);
      if (one != SSPICTL_EXIT_OK)
        ret = one;
    }

  sspictl_tls_free_credential (&cred);
  return ret;
}
