/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `sspictl connect HOST:PORT`: a TLS client.  It connects over TCP, runs the
 * handshake through sspid with an outbound credential (anonymous unless
 * --credential names one) and prints what was negotiated.  Application
 * data is not exchanged: the connection is closed after the report.
 */
#include "config.h"

#include <stdio.h>

#include "sspictl-tls.h"

#define CONNECT_TIMEOUT_SEC 30

typedef struct {
  char   *credential;
  char  **alpn;
  char   *target;
  gboolean tls12;
  gboolean tls13;
  int      read_size;
  gboolean manual_validation;
  gboolean json;
} ConnectArgs;

static void
connect_args_clear (ConnectArgs *a)
{
  g_free (a->credential);
  g_strfreev (a->alpn);
  g_free (a->target);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ConnectArgs, connect_args_clear)

/* Parses the options; on success leaves "HOST:PORT" in *address. */
static gboolean
parse_args (int argc, char **argv, ConnectArgs *a, const char **address)
{
  const GOptionEntry entries[] = {
    { "credential", 'c', 0, G_OPTION_ARG_STRING, &a->credential,
      "Present the client certificate of [credential NAME]", "NAME" },
    { "alpn", 'a', 0, G_OPTION_ARG_STRING_ARRAY, &a->alpn,
      "Offer application protocol ID (repeat for more, in preference order)", "ID" },
    { "target", 't', 0, G_OPTION_ARG_STRING, &a->target,
      "Server name for SNI and the certificate check (default: HOST)", "NAME" },
    { "tls1.2", 0, 0, G_OPTION_ARG_NONE, &a->tls12, "Allow only TLS 1.2", NULL },
    { "tls1.3", 0, 0, G_OPTION_ARG_NONE, &a->tls13, "Allow only TLS 1.3", NULL },
    { "read-size", 0, 0, G_OPTION_ARG_INT, &a->read_size,
      "Read the socket BYTES at a time (exercises partial records)", "BYTES" },
    { "manual-validation", 0, 0, G_OPTION_ARG_NONE, &a->manual_validation,
      "Do not verify the server certificate (ISC_REQ_MANUAL_CRED_VALIDATION)", NULL },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &a->json,
      "Print the report as one JSON document", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("HOST:PORT");
  g_autoptr (GError) error = NULL;

  g_option_context_set_summary (context,
                                "Connect to a TLS server and run the handshake through sspid.");
  g_option_context_set_description (context,
      "The client is anonymous unless --credential names an outbound (or both)\n"
      "credential; the server is verified against the daemon's default-trust.\n"
      "Prints handshake, role, protocol, cipher, alpn, peer certificate, steps,\n"
      "pid; no application data is exchanged.\n\n"
      SSPICTL_HELP_BUS "\n" SSPICTL_HELP_EXIT_CODES);
  g_option_context_add_main_entries (context, entries, NULL);
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
  if (a->read_size < 0)
    {
      g_printerr ("sspictl: --read-size must not be negative\n");
      return FALSE;
    }
  if (a->tls12 && a->tls13)
    {
      g_printerr ("sspictl connect: --tls1.2 and --tls1.3 exclude each other\n");
      return FALSE;
    }
  *address = argv[1];
  return TRUE;
}

/* Resolves and connects; prints why not and returns NULL on failure.
 * Sets *host to the host part of @address (caller frees). */
static GSocketConnection *
tcp_connect (const char *address, char **host)
{
  g_autoptr (GSocketConnectable) connectable = NULL;
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) conn = NULL;
  g_autoptr (GError) error = NULL;

  connectable = g_network_address_parse (address, 0, &error);
  if (connectable == NULL || g_network_address_get_port (G_NETWORK_ADDRESS (connectable)) == 0)
    {
      g_printerr ("sspictl connect: '%s' is not HOST:PORT%s%s\n", address,
                  error ? ": " : "", error ? error->message : "");
      return NULL;
    }
  *host = g_strdup (g_network_address_get_hostname (G_NETWORK_ADDRESS (connectable)));
  g_socket_client_set_timeout (client, CONNECT_TIMEOUT_SEC);
  conn = g_socket_client_connect (client, connectable, NULL, &error);
  if (conn == NULL)
    {
      g_printerr ("sspictl connect: %s: %s\n", address, error->message);
      return NULL;
    }
  return g_steal_pointer (&conn);
}

int
sspictl_connect (int argc, char **argv)
{
  g_auto (ConnectArgs) a = { 0 };
  g_autoptr (GSocketConnection) conn = NULL;
  g_autofree char *host = NULL;
  const char *address = NULL;
  SspictlTlsOptions opts = { 0 };
  CredHandle cred;
  CtxtHandle ctx;
  SECURITY_STATUS status;
  SspictlTlsStats stats;
  int ret;

  if (!parse_args (argc, argv, &a, &address))
    return SSPICTL_EXIT_USAGE;

  conn = tcp_connect (address, &host);
  if (conn == NULL)
    return SSPICTL_EXIT_NETWORK;

  opts.is_server = FALSE;
  opts.credential = a.credential;
  opts.target = a.target ? a.target : host;
  opts.alpn = (const char *const *) a.alpn;
  opts.protocols = sspictl_protocols_from_flags (a.tls12, a.tls13, FALSE);
  opts.context_req = a.manual_validation ? ISC_REQ_MANUAL_CRED_VALIDATION : 0;
  opts.read_size = a.read_size;

  status = sspictl_tls_acquire (&opts, &cred);
  if (status != SEC_E_OK)
    {
      sspictl_print_status ("acquiring the client credential", status);
      return sspictl_exit_for_acquire (status);
    }

  ret = sspictl_tls_handshake (g_socket_connection_get_socket (conn), &cred, &opts,
                               &ctx, &status, &stats);
  if (ret == SSPICTL_EXIT_OK)
    sspictl_tls_print_report (&ctx, FALSE, &stats, a.json);
  else if (ret == SSPICTL_EXIT_HANDSHAKE)
    sspictl_tls_print_failure (status, FALSE, a.json);

  sspictl_tls_delete_context (&ctx);
  sspictl_tls_free_credential (&cred);
  sspictl_socket_close_gently (g_socket_connection_get_socket (conn));
  g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
  return ret;
}
