/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `sspictl connect HOST:PORT`: a TLS client.  It connects over TCP, runs the
 * handshake through sspid with an outbound credential (anonymous unless
 * --credential names one) and prints what was negotiated, including
 * whether the session was resumed from sspid's client session cache.
 * With --get PATH it then sends an HTTP/1.0 GET and prints the response;
 * with --stdin it copies standard input to the server and what comes back
 * to standard output, like nc.  Either way the data goes through EncryptMessage /
 * DecryptMessage (sspictl-stream.c) and the connection ends with
 * close_notify both ways.  With --dtls the same runs as DTLS 1.2 over UDP
 * (a datagram context: ISC_REQ_DATAGRAM, SECBUFFER_DTLS_MTU with --mtu).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sspictl-stream.h"

#define CONNECT_TIMEOUT_SEC 30
/* Without data: how long to wait for the server's close after ours. */
#define CLOSE_TIMEOUT_SEC 2
/* --get: a diagnostic, not a downloader. */
#define MAX_RESPONSE (64 * 1024 * 1024)

typedef struct {
  SspictlTlsArgs tls;
  char    *target;
  gboolean manual_validation;
  char    *get;
  gboolean use_stdin;
} ConnectArgs;

static void
connect_args_clear (ConnectArgs *a)
{
  sspictl_tls_args_clear (&a->tls);
  g_free (a->target);
  g_free (a->get);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ConnectArgs, connect_args_clear)

/* Parses the options; on success leaves "HOST:PORT" in *address. */
static gboolean
parse_args (int argc, char **argv, ConnectArgs *a, const char **address)
{
  const GOptionEntry entries[] = {
    { "credential", 'c', 0, G_OPTION_ARG_STRING, &a->tls.credential,
      "Present the client certificate of [credential NAME]", "NAME" },
    { "alpn", 'a', 0, G_OPTION_ARG_STRING_ARRAY, &a->tls.alpn,
      "Offer application protocol ID (repeat for more, in preference order)", "ID" },
    { "target", 't', 0, G_OPTION_ARG_STRING, &a->target,
      "Server name for SNI and the certificate check (default: HOST)", "NAME" },
    { "manual-validation", 0, 0, G_OPTION_ARG_NONE, &a->manual_validation,
      "Do not verify the server certificate (ISC_REQ_MANUAL_CRED_VALIDATION)", NULL },
    { "get", 'g', 0, G_OPTION_ARG_STRING, &a->get,
      "Send an HTTP/1.0 GET for PATH (e.g. /) and print the response's body", "PATH" },
    { "stdin", 0, 0, G_OPTION_ARG_NONE, &a->use_stdin,
      "Copy standard input to the server and its data to standard output; "
      "close_notify at the end of the input (the report goes to stderr)", NULL },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &a->tls.json,
      "Print the report as one JSON document", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("HOST:PORT");
  g_autoptr (GError) error = NULL;

  g_option_context_set_summary (context,
                                "Connect to a TLS server and run the handshake through sspid;\n"
                                "with --get or --stdin, exchange data over it.");
  g_option_context_set_description (context,
      "The client is anonymous unless --credential names an outbound (or both)\n"
      "credential; the server is verified against the daemon's default-trust.\n"
      "Prints handshake, role, protocol, cipher, alpn, resumed (whether sspid's\n"
      "client session cache resumed an earlier session with this server),\n"
      "peer certificate, steps, pid.  Without --get or --stdin no application\n"
      "data is exchanged.  With them, the report adds what was received and\n"
      "sent and how the server ended (close_notify or eof); --get then prints\n"
      "the HTTP status line ('http:'), an empty line and the body (with\n"
      "--json: the members exchange.http and exchange.body).  Every connection\n"
      "ends with close_notify; without data, connect then reads until the\n"
      "server closes (2 s at most), so that a TLS 1.3 server's session\n"
      "tickets reach sspid's cache and the next connect can resume.\n"
      "With --dtls the connection is DTLS 1.2 over UDP: each record is a\n"
      "datagram, and a silent server gets our last flight again after 1 s,\n"
      "2 s, 4 s, 8 s ... (the report counts these retransmits).\n\n"
      SSPICTL_HELP_BUS "\n" SSPICTL_HELP_EXIT_CODES);
  g_option_context_add_main_entries (context, entries, NULL);
  sspictl_tls_args_add_entries (context, &a->tls);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("sspictl connect: %s\n", error->message);
      return FALSE;
    }
  if (argc != 2)
    {
      g_printerr ("sspictl connect: expected one HOST:PORT argument\n");
      return FALSE;
    }
  if (!sspictl_tls_args_check (&a->tls, "connect"))
    return FALSE;
  if (a->get != NULL && a->use_stdin)
    {
      g_printerr ("sspictl connect: --get and --stdin exclude each other\n");
      return FALSE;
    }
  if (a->get != NULL && (a->get[0] != '/' || strpbrk (a->get, " \r\n") != NULL))
    {
      g_printerr ("sspictl connect: --get wants a PATH starting with '/', without spaces\n");
      return FALSE;
    }
  *address = argv[1];
  return TRUE;
}

/* @address parsed; prints why not and returns NULL if it is no HOST:PORT.
 * Sets *host to its host part (caller frees). */
static GSocketConnectable *
parse_address (const char *address, char **host)
{
  g_autoptr (GSocketConnectable) connectable = NULL;
  g_autoptr (GError) error = NULL;

  connectable = g_network_address_parse (address, 0, &error);
  if (connectable == NULL || g_network_address_get_port (G_NETWORK_ADDRESS (connectable)) == 0)
    {
      g_printerr ("sspictl connect: '%s' is not HOST:PORT%s%s\n", address,
                  error ? ": " : "", error ? error->message : "");
      return NULL;
    }
  *host = g_strdup (g_network_address_get_hostname (G_NETWORK_ADDRESS (connectable)));
  return g_steal_pointer (&connectable);
}

/* Resolves and connects; prints why not and returns NULL on failure.
 * Sets *host to the host part of @address (caller frees). */
static GSocketConnection *
tcp_connect (const char *address, char **host)
{
  g_autoptr (GSocketConnectable) connectable = parse_address (address, host);
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) conn = NULL;
  g_autoptr (GError) error = NULL;

  if (connectable == NULL)
    return NULL;
  g_socket_client_set_timeout (client, CONNECT_TIMEOUT_SEC);
  conn = g_socket_client_connect (client, connectable, NULL, &error);
  if (conn == NULL)
    {
      g_printerr ("sspictl connect: %s: %s\n", address, error->message);
      return NULL;
    }
  return g_steal_pointer (&conn);
}

/* --dtls: a UDP socket connected to @server (connected: the kernel drops
 * datagrams from anyone else, and reports a port where nothing listens).
 * Prints why not and returns NULL. */
static GSocket *
udp_connect (GSocketAddress *server, const char *address)
{
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GError) error = NULL;

  socket = g_socket_new (g_socket_address_get_family (server), G_SOCKET_TYPE_DATAGRAM,
                         G_SOCKET_PROTOCOL_UDP, &error);
  if (socket == NULL || !g_socket_connect (socket, server, NULL, &error))
    {
      g_printerr ("sspictl connect: %s: %s\n", address, error->message);
      return NULL;
    }
  return g_steal_pointer (&socket);
}

/* --dtls: the handshake with the first address of @connectable (parsed
 * from @address) where something listens.  UDP has no connection to refuse, but the kernel's
 * ICMP port unreachable ends a handshake at once (stats->is_refused), and
 * then the next address is tried: "localhost" is ::1 first, and a server
 * may listen on 127.0.0.1 alone.  Returns what sspictl_tls_handshake()
 * does, with *@socket (owned: unref it) the socket it ran on, or
 * SSPICTL_EXIT_NETWORK with *@socket NULL if there was none. */
static int
udp_handshake (GSocketConnectable *connectable, const char *address, CredHandle *cred,
               const SspictlTlsOptions *opts, GSocket **socket, CtxtHandle *ctx,
               SECURITY_STATUS *status, SspictlTlsStats *stats, GByteArray *leftover)
{
  g_autoptr (GSocketAddressEnumerator) addresses = g_socket_connectable_enumerate (connectable);
  int ret = SSPICTL_EXIT_NETWORK;

  *socket = NULL;
  SecInvalidateHandle (ctx);
  for (;;)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GSocketAddress) server = g_socket_address_enumerator_next (addresses, NULL,
                                                                            &error);

      if (server == NULL)
        {
          if (error != NULL)
            g_printerr ("sspictl connect: %s: %s\n", address, error->message);
          return ret;
        }
      /* What the refused attempt left. */
      sspictl_tls_delete_context (ctx);
      g_clear_object (socket);
      *socket = udp_connect (server, address);
      if (*socket == NULL)
        return SSPICTL_EXIT_NETWORK;
      ret = sspictl_tls_handshake (*socket, cred, opts, ctx, status, stats, leftover);
      if (ret != SSPICTL_EXIT_NETWORK || !stats->is_refused)
        return ret;
    }
}

/* --stdin: what arrived goes to standard output at once, and is dropped. */
static void
write_stdout (GByteArray *data)
{
  fwrite (data->data, 1, data->len, stdout);
  fflush (stdout);
  g_byte_array_set_size (data, 0);
}

/* Reads until the server ends; the server's close_notify is answered with
 * ours.  Returns an SSPICTL_EXIT_* code (a failure was printed). */
static int
receive_all (SspictlStream *stream, GByteArray *into, gboolean to_stdout)
{
  SspictlStreamResult r;

  while ((r = sspictl_stream_receive (stream, into)) == SSPICTL_STREAM_DATA)
    {
      if (to_stdout)
        write_stdout (into);
      else if (into->len > MAX_RESPONSE)
        {
          g_printerr ("sspictl connect: the response is larger than %d MiB\n",
                      MAX_RESPONSE / (1024 * 1024));
          return SSPICTL_EXIT_FAILED;
        }
    }
  return sspictl_stream_end (stream, r);
}

/* HTTP/1.0: the server closes the connection after the response, so the
 * response is everything until close_notify (or, from sloppy servers, the
 * end of the TCP stream, which the report shows as "end: eof"). */
static int
run_get (SspictlStream *stream, const char *path, const char *host)
{
  SspictlTlsExchange *x = sspictl_stream_peek_exchange (stream);
  g_autofree char *request = g_strdup_printf ("GET %s HTTP/1.0\r\n"
                                              "Host: %s\r\n"
                                              "User-Agent: sspictl/" PACKAGE_VERSION "\r\n"
                                              "Accept: */*\r\n"
                                              "Connection: close\r\n\r\n", path, host);
  g_autoptr (GByteArray) response = g_byte_array_new ();
  const char *end_of_header, *end_of_line;
  gsize body_at = 0;
  int ret;

  if (!sspictl_stream_send (stream, request, strlen (request)))
    return SSPICTL_EXIT_FAILED;
  ret = receive_all (stream, response, FALSE);
  if (ret != SSPICTL_EXIT_OK)
    return ret;
  if (response->len == 0)
    {
      g_printerr ("sspictl connect: the server sent no response\n");
      return SSPICTL_EXIT_FAILED;
    }
  end_of_header = memmem (response->data, response->len, "\r\n\r\n", 4);
  if (end_of_header != NULL)
    {
      end_of_line = memchr (response->data, '\r', response->len);
      x->http_line = g_strndup ((const char *) response->data,
                                end_of_line - (const char *) response->data);
      body_at = end_of_header + 4 - (const char *) response->data;
    }
  else
    x->http_line = g_strdup ("(no HTTP header)");
  x->body = g_bytes_new (response->data + body_at, response->len - body_at);
  return SSPICTL_EXIT_OK;
}

/* One read of standard input, sent as it came.  *is_open turns FALSE at
 * its end, after which close_notify went out. */
static gboolean
forward_stdin (SspictlStream *stream, gboolean *is_open)
{
  char buf[16384];
  ssize_t n;

  do
    n = read (STDIN_FILENO, buf, sizeof buf);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      g_printerr ("sspictl connect: reading standard input: %s\n", g_strerror (errno));
      return FALSE;
    }
  if (n > 0)
    return sspictl_stream_send (stream, buf, (gsize) n);
  *is_open = FALSE;
  return sspictl_stream_shutdown (stream);
}

/* Copies standard input to the server and the server's data to standard
 * output, both at once (a poll on both; the socket read only as far as
 * what it signalled, so neither side waits for the other).  At the end of
 * standard input, close_notify (a TLS half-close: "no more from me"); then
 * the server's data until it closes. */
static int
run_stdin (SspictlStream *stream, GSocket *socket)
{
  g_autoptr (GByteArray) data = g_byte_array_new ();
  gboolean is_stdin_open = TRUE;

  while (is_stdin_open)
    {
      GPollFD fds[2] = {
        { g_socket_get_fd (socket), G_IO_IN | G_IO_HUP | G_IO_ERR, 0 },
        { STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR, 0 },
      };

      /* Bytes already received (the handshake's EXTRA) never make the
       * socket readable again: use them first. */
      if (!sspictl_stream_has_pending (stream) &&
          g_poll (fds, G_N_ELEMENTS (fds), -1) < 0)
        {
          if (errno == EINTR)
            continue;
          g_printerr ("sspictl connect: poll: %s\n", g_strerror (errno));
          return SSPICTL_EXIT_FAILED;
        }
      if (sspictl_stream_has_pending (stream) || fds[0].revents != 0)
        {
          SspictlStreamResult r = sspictl_stream_receive_some (stream, data);

          if (r == SSPICTL_STREAM_DATA)
            write_stdout (data);
          else if (r != SSPICTL_STREAM_AGAIN)
            /* The server is done before us (closed, or failed). */
            return sspictl_stream_end (stream, r);
          continue;
        }
      if (fds[1].revents != 0 && !forward_stdin (stream, &is_stdin_open))
        return SSPICTL_EXIT_FAILED;
    }
  return receive_all (stream, data, TRUE);
}

/* After the handshake with --get or --stdin.  The text report comes first
 * (it is known before any data moves), the JSON one last (it is one
 * document with the exchange in it). */
static int
exchange (GSocket *socket, CredHandle *cred, CtxtHandle *ctx, const SspictlTlsOptions *opts,
          const ConnectArgs *a, const SspictlTlsReport *report, const GByteArray *leftover)
{
  g_autoptr (SspictlStream) stream = sspictl_stream_new (socket, cred, ctx, opts, leftover);
  SspictlTlsExchange *x = sspictl_stream_peek_exchange (stream);
  FILE *out = a->use_stdin ? stderr : stdout;
  int ret;

  sspictl_tls_report_print_before_data (report, a->tls.json, out);
  ret = a->get != NULL ? run_get (stream, a->get, opts->target) : run_stdin (stream, socket);
  sspictl_tls_report_print_after_data (report, x, a->tls.json, out);
  if (!a->tls.json && x->body != NULL)
    {
      gsize len = 0;
      const void *body = g_bytes_get_data (x->body, &len);

      fputc ('\n', stdout);
      fwrite (body, 1, len, stdout);
      fflush (stdout);
    }
  return ret;
}

int
sspictl_connect (int argc, char **argv)
{
  g_auto (ConnectArgs) a = { 0 };
  g_autoptr (GSocketConnection) conn = NULL;
  g_autoptr (GSocketConnectable) udp_address = NULL;
  g_autoptr (GSocket) udp = NULL;
  g_autoptr (GByteArray) leftover = g_byte_array_new ();
  g_autofree char *host = NULL;
  const char *address = NULL;
  SspictlTlsOptions opts = { 0 };
  CredHandle cred;
  CtxtHandle ctx;
  SECURITY_STATUS status;
  SspictlTlsStats stats;
  GSocket *socket;
  int ret;

  if (!parse_args (argc, argv, &a, &address))
    return SSPICTL_EXIT_USAGE;

  /* UDP: the addresses are tried in the handshake (udp_handshake()). */
  if (a.tls.dtls ? (udp_address = parse_address (address, &host)) == NULL
                 : (conn = tcp_connect (address, &host)) == NULL)
    return SSPICTL_EXIT_NETWORK;

  sspictl_tls_options_init (&opts, &a.tls, FALSE);
  opts.target = a.target ? a.target : host;
  opts.context_req = a.manual_validation ? ISC_REQ_MANUAL_CRED_VALIDATION : 0;

  ret = sspictl_tls_acquire_for_verb (&opts, &cred);
  if (ret != SSPICTL_EXIT_OK)
    return ret;

  if (a.tls.dtls)
    {
      ret = udp_handshake (udp_address, address, &cred, &opts, &udp, &ctx, &status, &stats,
                           leftover);
      socket = udp;
    }
  else
    {
      socket = g_socket_connection_get_socket (conn);
      ret = sspictl_tls_handshake (socket, &cred, &opts, &ctx, &status, &stats, leftover);
    }
  if (ret == SSPICTL_EXIT_OK)
    {
      g_autoptr (SspictlTlsReport) report = sspictl_tls_report_new (&ctx, FALSE, &stats);

      if (a.get != NULL || a.use_stdin)
        ret = exchange (socket, &cred, &ctx, &opts, &a, report, leftover);
      else
        {
          g_autoptr (SspictlStream) stream = NULL;

          sspictl_tls_report_print (report, NULL, a.tls.json, stdout);
          /* No data, but a clean end, which also reads a TLS 1.3 server's
           * session tickets into sspid's cache for the next connect. */
          stream = sspictl_stream_new (socket, &cred, &ctx, &opts, leftover);
          sspictl_stream_close (stream, CLOSE_TIMEOUT_SEC);
        }
    }
  else if (ret == SSPICTL_EXIT_HANDSHAKE)
    sspictl_tls_print_failure (status, FALSE, a.tls.json);

  sspictl_tls_delete_context (&ctx);
  sspictl_tls_free_credential (&cred);
  if (socket != NULL)
    sspictl_socket_close_gently (socket);
  if (conn != NULL)
    g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
  return ret;
}
