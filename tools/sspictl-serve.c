/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `sspictl serve PORT --credential NAME`: a TLS server.  It listens on
 * loopback (or --bind ADDR), and for each connection, one at a time, runs
 * the handshake through sspid with the inbound credential NAME, prints the
 * session report (with the client certificate's subject, if one was sent)
 * and closes the connection.  Application data is not exchanged.
 */
#include "config.h"

#include <stdio.h>

#include "sspictl-tls.h"

typedef struct {
  char    *credential;
  char   **alpn;
  char    *bind;
  gboolean require_client_cert;
  gboolean once;
  gboolean tls12;
  gboolean tls13;
  int      read_size;
  gboolean json;
} ServeArgs;

static void
serve_args_clear (ServeArgs *a)
{
  g_free (a->credential);
  g_strfreev (a->alpn);
  g_free (a->bind);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ServeArgs, serve_args_clear)

static gboolean
parse_args (int argc, char **argv, ServeArgs *a, guint16 *port)
{
  const GOptionEntry entries[] = {
    { "credential", 'c', 0, G_OPTION_ARG_STRING, &a->credential,
      "Serve with the certificate of [credential NAME] (required)", "NAME" },
    { "alpn", 'a', 0, G_OPTION_ARG_STRING_ARRAY, &a->alpn,
      "Accept application protocol ID (repeat for more, in preference order)", "ID" },
    { "bind", 'b', 0, G_OPTION_ARG_STRING, &a->bind,
      "Listen on ADDR (default 127.0.0.1)", "ADDR" },
    { "require-client-cert", 0, 0, G_OPTION_ARG_NONE, &a->require_client_cert,
      "Ask for a client certificate and refuse clients without one", NULL },
    { "once", 0, 0, G_OPTION_ARG_NONE, &a->once,
      "Exit after one connection (status 0 if its handshake succeeded)", NULL },
    { "tls1.2", 0, 0, G_OPTION_ARG_NONE, &a->tls12, "Allow only TLS 1.2", NULL },
    { "tls1.3", 0, 0, G_OPTION_ARG_NONE, &a->tls13, "Allow only TLS 1.3", NULL },
    { "read-size", 0, 0, G_OPTION_ARG_INT, &a->read_size,
      "Read the socket BYTES at a time (exercises partial records)", "BYTES" },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &a->json,
      "Print each connection's report as one JSON document", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("PORT");
  g_autoptr (GError) error = NULL;
  guint64 value;

  g_option_context_set_summary (context,
                                "Accept TLS connections and run each handshake through sspid.\n"
                                "PORT 0 picks a free port (printed on the 'listening on' line).");
  g_option_context_set_description (context,
      "NAME is an inbound (or both) credential of sspid.conf that you may use\n"
      "(see 'sspictl credentials').  Connections are served one at a time;\n"
      "each gets a report like connect's (with the client certificate's\n"
      "subject), then is closed: no application data is exchanged.  With\n"
      "--json the 'listening on' line goes to stderr and each report is one\n"
      "JSON document on stdout.\n\n"
      SSPICTL_HELP_BUS "\n" SSPICTL_HELP_EXIT_CODES);
  g_option_context_add_main_entries (context, entries, NULL);
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
  if (a->credential == NULL)
    {
      g_printerr ("sspictl serve: --credential NAME is required\n");
      return FALSE;
    }
  if (a->read_size < 0)
    {
      g_printerr ("sspictl: --read-size must not be negative\n");
      return FALSE;
    }
  if (a->tls12 && a->tls13)
    {
      g_printerr ("sspictl serve: --tls1.2 and --tls1.3 exclude each other\n");
      return FALSE;
    }
  *port = (guint16) value;
  return TRUE;
}

/* A listening socket on @addr:@port; prints why not and returns NULL. */
static GSocket *
tcp_listen (const char *addr, guint16 port)
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
  socket = g_socket_new (g_inet_address_get_family (inet), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, &error);
  if (socket == NULL ||
      !g_socket_bind (socket, sa, TRUE, &error) ||
      !g_socket_listen (socket, &error))
    {
      g_printerr ("sspictl serve: listening on %s:%u: %s\n", addr, port, error->message);
      return NULL;
    }
  return g_steal_pointer (&socket);
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

/* One connection: handshake and report.  Returns an SSPICTL_EXIT_* code. */
static int
serve_one (GSocket *client, CredHandle *cred, const SspictlTlsOptions *opts,
           gboolean require_client_cert, gboolean json)
{
  g_autoptr (GSocketAddress) peer = g_socket_get_remote_address (client, NULL);
  g_autofree char *peer_str = NULL;
  CtxtHandle ctx;
  SECURITY_STATUS status;
  SspictlTlsStats stats;
  int ret;

  if (peer != NULL)
    peer_str = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (peer));
  if (json)
    g_printerr ("connection from %s\n", peer_str ? peer_str : "?");
  else
    {
      g_print ("connection from %s\n", peer_str ? peer_str : "?");
      fflush (stdout);
    }

  ret = sspictl_tls_handshake (client, cred, opts, &ctx, &status, &stats);
  if (ret == SSPICTL_EXIT_OK && require_client_cert && !has_client_certificate (&ctx))
    {
      g_printerr ("sspictl serve: the client sent no certificate\n");
      status = SEC_E_NO_CREDENTIALS;
      ret = SSPICTL_EXIT_HANDSHAKE;
    }
  if (ret == SSPICTL_EXIT_OK)
    sspictl_tls_print_report (&ctx, TRUE, &stats, json);
  else if (ret == SSPICTL_EXIT_HANDSHAKE)
    sspictl_tls_print_failure (status, TRUE, json);
  sspictl_tls_delete_context (&ctx);
  sspictl_socket_close_gently (client);
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
  SECURITY_STATUS status;
  guint16 port = 0;
  int ret = SSPICTL_EXIT_OK;

  if (!parse_args (argc, argv, &a, &port))
    return SSPICTL_EXIT_USAGE;

  opts.is_server = TRUE;
  opts.credential = a.credential;
  opts.alpn = (const char *const *) a.alpn;
  opts.protocols = sspictl_protocols_from_flags (a.tls12, a.tls13, TRUE);
  opts.context_req = a.require_client_cert ? ASC_REQ_MUTUAL_AUTH : 0;
  opts.read_size = a.read_size;

  status = sspictl_tls_acquire (&opts, &cred);
  if (status != SEC_E_OK)
    {
      sspictl_print_status ("acquiring the server credential", status);
      return sspictl_exit_for_acquire (status);
    }

  addr = a.bind ? a.bind : "127.0.0.1";
  listener = tcp_listen (addr, port);
  if (listener == NULL)
    {
      sspictl_tls_free_credential (&cred);
      return SSPICTL_EXIT_NETWORK;
    }
  /* Tests and scripts wait for this line before connecting. */
  if (a.json)
    g_printerr ("listening on %s:%u\n", addr, local_port (listener));
  else
    {
      g_print ("listening on %s:%u\n", addr, local_port (listener));
      fflush (stdout);
    }

  do
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GSocket) client = g_socket_accept (listener, NULL, &error);

      if (client == NULL)
        {
          g_printerr ("sspictl serve: accept: %s\n", error->message);
          ret = SSPICTL_EXIT_NETWORK;
          continue;
        }
      ret = serve_one (client, &cred, &opts, a.require_client_cert, a.json);
    }
  while (!a.once);

  sspictl_tls_free_credential (&cred);
  return ret;
}
