/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The child processes of tests/test-security.c (see security-client.h):
 * plain GDBus and sockets, no libsspi and no check, so that what runs as
 * `nobody`, what gets SIGKILLed and whose memory is searched for secrets
 * is a small, ordinary client.  The child side reports; nothing there
 * asserts.  The toolkit and the parent's side are child-process.c.
 */
#include "config.h"

#include "security-client.h"

#include <errno.h>
#include <gio/gio.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "schannel.h"
#include "sspi.h"
#include "sspid-args.h"
#include "sspid-proto.h"

/* With SCH_CREDENTIALS-like choices: protocol mask and SCH_CRED_* flags. */
static GVariant *
acquire_params_with (const char *principal, guint32 use, guint32 protocols, guint32 flags)
{
  return sspid_acquire_args_encode (&(SspidAcquireArgs) {
    1, principal, SCHANNEL_NAME_A, use, sspid_auth_data_new (TRUE, protocols, flags) });
}

static guint64
acquire_ok_with (GDBusConnection *conn, GVariant *params)
{
  /* Kept for the error message: GDBus takes its own reference of a
   * parameter that is not floating. */
  g_autoptr(GVariant) owned = g_variant_ref_sink (params);
  g_autoptr(GVariant) reply = cr_call (conn, "AcquireCredentialsHandle", owned);
  const char *principal;
  guint64 handle;

  g_variant_get_child (owned, 1, "&s", &principal);
  if (cr_status_of (reply) != (guint32) SEC_E_OK)
    cr_die ("acquire %s: 0x%08x", principal, cr_status_of (reply));
  g_variant_get_child (reply, 1, "t", &handle);
  return handle;
}

/* --- nobody ------------------------------------------------------------ */

/* "STATUS REPLY": the status in hex and the whole reply, so the parent can
 * compare two answers byte for byte. */
static void
report_reply (const char *key, GVariant *reply)
{
  g_autofree char *text = g_variant_print (reply, TRUE);

  cr_report ("%s 0x%08x %s", key, cr_status_of (reply), text);
}

static void
report_call (GDBusConnection *conn, const char *key, const char *method, GVariant *params)
{
  g_autoptr(GVariant) reply = cr_call (conn, method, params);

  report_reply (key, reply);
}

static guint64
random_handle (void)
{
  return ((guint64) g_random_int () << 32) | g_random_int () | 1;
}

char *
security_join_names (GVariant *entries)
{
  g_autoptr(GString) names = g_string_new (NULL);

  for (gsize i = 0; i < g_variant_n_children (entries); i++)
    {
      g_autoptr(GVariant) entry = g_variant_get_child_value (entries, i);
      const char *name = "?";

      g_variant_lookup (entry, "name", "&s", &name);
      g_string_append_printf (names, "%s%s", i > 0 ? "," : "", name);
    }
  return g_string_free (g_steal_pointer (&names), FALSE);
}

/* "-" for none, so that the report line always has a value. */
static char *
credential_names (GDBusConnection *conn)
{
  g_autoptr(GVariant) reply = cr_call (conn, "ListCredentials", NULL);
  g_autoptr(GVariant) list = g_variant_get_child_value (reply, 0);
  g_autofree char *names = security_join_names (list);

  return g_strdup (*names != '\0' ? names : "-");
}

/* Introspection is paced per user (every uid but root): with 300
 * contexts each ListContexts reports the 256 oldest and costs 257 of the
 * 4000 a burst may spend, so 40 in a row cannot all be served. */
static void
report_introspection_pace (GDBusConnection *conn)
{
  guint64 cred = cr_acquire_ok (conn, "", SECPKG_CRED_OUTBOUND);
  guint served = 0, limited = 0;
  gsize most = 0;

  for (guint i = 0; i < 300; i++)
    g_variant_unref (cr_call (conn, "InitializeSecurityContext",
                              cr_isc_params (cred, 0, "localhost", NULL, 0)));
  for (guint i = 0; i < 40; i++)
    {
      g_autofree char *error_name = NULL;
      g_autoptr(GVariant) reply = cr_try_call (conn, SSPID_BUS_NAME, SSPID_OBJECT_PATH,
                                               SSPID_INTERFACE, "ListContexts", NULL,
                                               &error_name);

      if (reply != NULL)
        {
          g_autoptr(GVariant) list = g_variant_get_child_value (reply, 0);

          most = MAX (most, g_variant_n_children (list));
          served++;
        }
      else if (g_strcmp0 (error_name, SSPID_ERROR_NAME_LIMIT_EXCEEDED) == 0)
        limited++;
      else
        cr_die ("ListContexts: %s", error_name);
    }
  cr_report ("introspection served=%u limited=%u most=%" G_GSIZE_FORMAT, served, limited, most);
}

static int
mode_nobody (const char *address, guint64 cred, guint64 ctx)
{
  g_autoptr(GDBusConnection) conn = cr_open_bus (address);
  g_autoptr(GVariant) contexts = NULL;
  g_autoptr(GVariant) owned = NULL;
  g_autofree char *names = credential_names (conn);
  g_autofree char *error_name = NULL;
  const guint8 data[16] = { 0 };
  guint64 fake = random_handle ();

  cr_report ("uid %u", (guint) getuid ());
  report_call (conn, "acquire-listed-for-others", "AcquireCredentialsHandle",
               cr_acquire_params ("server", SECPKG_CRED_INBOUND));
  report_call (conn, "acquire-unknown", "AcquireCredentialsHandle",
               cr_acquire_params ("no-such-credential", SECPKG_CRED_INBOUND));
  report_call (conn, "acquire-listed-for-me", "AcquireCredentialsHandle",
               cr_acquire_params ("for-nobody", SECPKG_CRED_INBOUND));
  cr_report ("list-credentials %s", names);
  contexts = cr_call (conn, "ListContexts", NULL);
  {
    g_autoptr(GVariant) list = g_variant_get_child_value (contexts, 0);
    cr_report ("list-contexts %" G_GSIZE_FORMAT, g_variant_n_children (list));
  }

  /* The other connection's handles, next to a made-up value. */
  report_call (conn, "isc-foreign", "InitializeSecurityContext",
               cr_isc_params (cred, 0, "localhost", NULL, 0));
  report_call (conn, "isc-random", "InitializeSecurityContext",
               cr_isc_params (fake, 0, "localhost", NULL, 0));
  report_call (conn, "query-foreign", "QueryContext", g_variant_new ("(t)", ctx));
  report_call (conn, "query-random", "QueryContext", g_variant_new ("(t)", fake));
  report_call (conn, "query-credential-foreign", "QueryCredential", g_variant_new ("(t)", cred));
  report_call (conn, "query-credential-random", "QueryCredential", g_variant_new ("(t)", fake));
  report_call (conn, "encrypt-foreign", "EncryptMessage",
               g_variant_new ("(t@ay)", ctx, cr_bytes (data, sizeof data)));
  report_call (conn, "encrypt-random", "EncryptMessage",
               g_variant_new ("(t@ay)", fake, cr_bytes (data, sizeof data)));
  report_call (conn, "delete-foreign", "DeleteSecurityContext",
               g_variant_new ("(tt)", (guint64) 9, ctx));
  report_call (conn, "delete-random", "DeleteSecurityContext",
               g_variant_new ("(tt)", (guint64) 9, fake));
  report_call (conn, "free-foreign", "FreeCredentialsHandle",
               g_variant_new ("(tt)", (guint64) 9, cred));
  report_call (conn, "free-random", "FreeCredentialsHandle",
               g_variant_new ("(tt)", (guint64) 9, fake));

  /* What the bus policy says. */
  owned = cr_try_call (conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                       "org.freedesktop.DBus", "RequestName",
                       g_variant_new ("(su)", SSPID_BUS_NAME, (guint32) 0), &error_name);
  cr_report ("request-name %s", owned != NULL ? "granted" : error_name);
  g_clear_pointer (&error_name, g_free);
  g_clear_pointer (&owned, g_variant_unref);
  owned = cr_try_call (conn, SSPID_BUS_NAME, SSPID_OBJECT_PATH, "org.sspid1.NotAnInterface",
                       "Hello", NULL, &error_name);
  cr_report ("other-interface %s", owned != NULL ? "delivered" : error_name);
  report_introspection_pace (conn);
  return 0;
}

/* --- hold -------------------------------------------------------------- */

/* A server's first step on @cred for @hello, a whole ECDHE and signature
 * on a worker, sent without waiting: answered by a Completed signal with
 * @call_id. */
static void
send_server_first_step (GDBusConnection *conn, guint64 call_id, guint64 cred, GVariant *hello)
{
  cr_send_no_reply (conn, "AcceptSecurityContext",
                    g_variant_new ("(tttu@ay@asa{sv})", call_id, cred, (guint64) 0,
                                   (guint32) ASC_REQ_ALLOCATE_MEMORY, hello,
                                   g_variant_new_strv (NULL, 0), NULL));
}

/* N contexts mid-handshake: half clients after their ClientHello, half
 * servers whose first step is still being sent or run when we are killed. */
static int
mode_hold (const char *address, guint n)
{
  g_autoptr(GDBusConnection) conn = cr_open_bus (address);
  guint64 ccred = cr_acquire_ok (conn, "", SECPKG_CRED_OUTBOUND);
  guint64 scred = cr_acquire_ok (conn, "server", SECPKG_CRED_INBOUND);
  g_autoptr(GVariant) hello = cr_client_hello (conn, ccred);

  for (guint i = 1; i < n / 2; i++)
    {
      g_autoptr(GVariant) r = cr_call (conn, "InitializeSecurityContext",
                                       cr_isc_params (ccred, 0, "localhost", NULL, 0));
      if (cr_status_of (r) != (guint32) SEC_I_CONTINUE_NEEDED)
        cr_die ("client step: 0x%08x", cr_status_of (r));
    }
  for (guint i = n / 2; i < n; i++)
    send_server_first_step (conn, i, scred, hello);
  g_dbus_connection_flush_sync (conn, NULL, NULL);
  cr_report ("ready");
  /* Until killed (or the parent goes away). */
  cr_wait_stdin_closed ();
  return 0;
}

/* --- flood ------------------------------------------------------------- */

typedef struct {
  guint cont, limit, other, seen;
} FloodCounts;

static void
flood_completed (GDBusConnection *conn, const char *sender, const char *path,
                 const char *iface, const char *member, GVariant *params, gpointer data)
{
  FloodCounts *counts = data;
  guint32 status;

  g_variant_get_child (params, 1, "u", &status);
  if (status == (guint32) SEC_I_CONTINUE_NEEDED)
    counts->cont++;
  else if (status == (guint32) SEC_E_INSUFFICIENT_MEMORY)
    counts->limit++;
  else
    counts->other++;
  counts->seen++;
}

/* Waits until @sent calls were answered. */
static void
flood_wait (FloodCounts *counts, guint sent)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) CR_TIMEOUT_MS * 1000;

  while (counts->seen < sent && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  if (counts->seen < sent)
    cr_die ("%u of %u calls answered", counts->seen, sent);
}

/* Bursts of server first steps, each a whole ECDHE and signature on a
 * worker: the daemon reads them far faster than its workers run them, so
 * the pending limit bites, and the context limit once enough exist.  Every
 * burst is waited for, so the flood is as fast as the daemon answers. */
static int
mode_flood (const char *address, guint seconds, guint burst)
{
  g_autoptr(GDBusConnection) conn = cr_open_bus (address);
  guint64 client = cr_acquire_ok (conn, "", SECPKG_CRED_OUTBOUND);
  guint64 server = cr_acquire_ok (conn, "server", SECPKG_CRED_INBOUND);
  g_autoptr(GVariant) hello = cr_client_hello (conn, client);
  gint64 end = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
  FloodCounts counts = { 0 };
  guint sent = 0, bursts = 0;

  g_dbus_connection_signal_subscribe (conn, NULL, SSPID_INTERFACE, SSPID_SIGNAL_COMPLETED,
                                      SSPID_OBJECT_PATH, NULL,
                                      G_DBUS_SIGNAL_FLAGS_NO_MATCH_RULE, flood_completed,
                                      &counts, NULL);
  while (g_get_monotonic_time () < end)
    {
      for (guint i = 0; i < burst; i++, sent++)
        send_server_first_step (conn, sent, server, hello);
      flood_wait (&counts, sent);
      bursts++;
    }
  cr_report ("flood continue=%u limit=%u other=%u bursts=%u", counts.cont, counts.limit,
             counts.other, bursts);
  return 0;
}

/* --- secrets: TLS over TCP through the daemon --------------------------- */

typedef struct {
  GDBusConnection *conn;
  int              fd;
  gboolean         is_server;
  GByteArray      *in;      /* received, not yet consumed */
  guint64          ctx;
} Session;

static void
write_all (int fd, const guint8 *data, gsize len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        cr_die ("write: %s", g_strerror (errno));
      data += n;
      len -= (gsize) n;
    }
}

static void
read_more (Session *s)
{
  struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
  guint8 buf[16384];
  ssize_t n;

  if (poll (&pfd, 1, CR_TIMEOUT_MS) <= 0)
    cr_die ("no data from the peer in %u ms", CR_TIMEOUT_MS);
  n = read (s->fd, buf, sizeof buf);
  if (n <= 0)
    cr_die ("the peer closed the connection (%s)", n < 0 ? g_strerror (errno) : "EOF");
  g_byte_array_append (s->in, buf, (guint) n);
}

static void
write_variant (Session *s, GVariant *bytes)
{
  gsize len;
  const guint8 *data = g_variant_get_fixed_array (bytes, &len, 1);

  write_all (s->fd, data, len);
}

/* The Schannel loop: tokens out, bytes in, EXTRA kept, MISSING read. */
static void
session_handshake (Session *s, guint64 cred, const char *target)
{
  if (s->is_server)
    read_more (s);
  for (int round = 0; round < 64; round++)
    {
      g_autoptr(GVariant) r = NULL;
      g_autoptr(GVariant) token = NULL;
      guint32 status, extra;
      guint64 handle;

      r = s->is_server
          ? cr_call (s->conn, "AcceptSecurityContext", cr_asc_params (cred, s->ctx, s->in->data, s->in->len))
          : cr_call (s->conn, "InitializeSecurityContext",
                     cr_isc_params (cred, s->ctx, target, s->in->data, s->in->len));
      g_variant_get (r, "(ut@ayuxuu@a{sv})", &status, &handle, &token, NULL, NULL, &extra, NULL,
                     NULL);
      if (s->ctx == 0)
        s->ctx = handle;
      write_variant (s, token);
      if (status == (guint32) SEC_E_INCOMPLETE_MESSAGE)
        {
          read_more (s);
          continue;
        }
      if (status != (guint32) SEC_E_OK && status != (guint32) SEC_I_CONTINUE_NEEDED)
        cr_die ("handshake step: 0x%08x", status);
      g_byte_array_remove_range (s->in, 0, s->in->len - MIN (extra, s->in->len));
      if (status == (guint32) SEC_E_OK)
        return;
      if (s->in->len == 0)
        read_more (s);
    }
  cr_die ("handshake did not finish");
}

static void
session_send (Session *s, const char *text)
{
  g_autoptr(GVariant) r = cr_call (s->conn, "EncryptMessage",
                                   g_variant_new ("(t@ay)", s->ctx,
                                                  cr_bytes ((const guint8 *) text,
                                                            strlen (text))));
  g_autoptr(GVariant) record = g_variant_get_child_value (r, 1);

  if (cr_status_of (r) != (guint32) SEC_E_OK)
    cr_die ("EncryptMessage: 0x%08x", cr_status_of (r));
  write_variant (s, record);
}

/* The next non-empty plaintext (post-handshake messages come empty). */
static GBytes *
session_receive (Session *s)
{
  for (;;)
    {
      g_autoptr(GVariant) r = NULL;
      g_autoptr(GVariant) plain = NULL;
      guint32 status, record_size;

      if (s->in->len == 0)
        read_more (s);
      r = cr_call (s->conn, "DecryptMessage",
                   g_variant_new ("(t@ay)", s->ctx, cr_bytes (s->in->data, s->in->len)));
      g_variant_get (r, "(u@ayuuuu)", &status, &plain, NULL, &record_size, NULL, NULL);
      if (status == (guint32) SEC_E_INCOMPLETE_MESSAGE)
        {
          read_more (s);
          continue;
        }
      if (status != (guint32) SEC_E_OK)
        cr_die ("DecryptMessage: 0x%08x", status);
      g_byte_array_remove_range (s->in, 0, MIN (record_size, s->in->len));
      if (g_variant_n_children (plain) > 0)
        return g_variant_get_data_as_bytes (plain);
    }
}

static gboolean
session_is_resumed (Session *s)
{
  g_autoptr(GVariant) r = cr_call (s->conn, "QueryContext", g_variant_new ("(t)", s->ctx));
  g_autoptr(GVariant) info = g_variant_get_child_value (r, 1);
  gboolean resumed = FALSE;

  g_variant_lookup (info, "resumed", "b", &resumed);
  return resumed;
}

/* Says "TAG WHAT" and waits for the parent's go-ahead (a line on stdin). */
static void
pause_for_parent (const char *tag, const char *what)
{
  char line[64];

  cr_report ("%s %s", tag, what);
  if (fgets (line, sizeof line, stdin) == NULL)
    cr_die ("stdin closed while waiting after \"%s %s\"", tag, what);
}

/* close_notify, then the context goes. */
static void
session_close (Session *s)
{
  g_autoptr(GVariant) shutdown = cr_call (s->conn, "ApplyControlToken",
                                          g_variant_new ("(tuuu)", s->ctx,
                                                         (guint32) SCHANNEL_SHUTDOWN, 0, 0));
  g_autoptr(GVariant) r = s->is_server
                          ? cr_call (s->conn, "AcceptSecurityContext", cr_asc_params (0, s->ctx, NULL, 0))
                          : cr_call (s->conn, "InitializeSecurityContext",
                                     cr_isc_params (0, s->ctx, "", NULL, 0));
  g_autoptr(GVariant) token = g_variant_get_child_value (r, 2);
  g_autoptr(GVariant) deleted = NULL;

  write_variant (s, token);
  close (s->fd);
  deleted = cr_call (s->conn, "DeleteSecurityContext", g_variant_new ("(tt)", (guint64) 4, s->ctx));
  g_byte_array_unref (s->in);
}

static int
tcp_socket (guint16 port, gboolean listen_on)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (port) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (fd < 0)
    cr_die ("socket: %s", g_strerror (errno));
  if (listen_on ? bind (fd, (struct sockaddr *) &sin, sizeof sin) < 0 || listen (fd, 1) < 0
                : connect (fd, (struct sockaddr *) &sin, sizeof sin) < 0)
    cr_die ("%s 127.0.0.1:%u: %s", listen_on ? "listen" : "connect", port, g_strerror (errno));
  return fd;
}

/* Kept until exit: the parent finds them in our memory, which proves the
 * memory scan sees what this process handled. */
static GPtrArray *plaintexts;

/* Receives the peer's plaintext into plaintexts and reports its first
 * line as "TAG got LINE": both session directions end this way. */
static void
receive_and_report (Session *s, const char *tag)
{
  gsize n = 0;
  const char *data;
  const char *nl;
  GBytes *plaintext = session_receive (s);

  if (plaintexts == NULL)
    plaintexts = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_ptr_array_add (plaintexts, plaintext);
  data = g_bytes_get_data (plaintext, &n);
  nl = data != NULL ? memchr (data, '\n', n) : NULL;
  /* The plaintext is bytes, not a string: no NUL to stop at. */
  cr_report ("%s got %.*s", tag, (int) (nl != NULL ? (gsize) (nl - data) : n), data != NULL ? data : "");
}

static void
client_session (GDBusConnection *conn, guint64 cred, guint16 port, const char *tag)
{
  Session s = { conn, tcp_socket (port, FALSE), FALSE, g_byte_array_new (), 0 };
  g_autofree char *text = g_strdup_printf ("hello-%s\n", tag);

  session_handshake (&s, cred, "localhost");
  cr_report ("%s resumed=%d", tag, session_is_resumed (&s));
  session_send (&s, text);
  receive_and_report (&s, tag);
  session_close (&s);
  pause_for_parent (tag, "deleted");
}

static void
server_session (GDBusConnection *conn, guint64 cred, const char *tag)
{
  int listener = tcp_socket (0, TRUE);
  struct sockaddr_in sin;
  socklen_t len = sizeof sin;
  Session s = { conn, -1, TRUE, g_byte_array_new (), 0 };

  if (getsockname (listener, (struct sockaddr *) &sin, &len) < 0)
    cr_die ("getsockname: %s", g_strerror (errno));
  cr_report ("listening %u", ntohs (sin.sin_port));
  s.fd = accept (listener, NULL, NULL);
  if (s.fd < 0)
    cr_die ("accept: %s", g_strerror (errno));
  close (listener);

  session_handshake (&s, cred, NULL);
  cr_report ("%s resumed=%d", tag, session_is_resumed (&s));
  cr_report ("%s established", tag);
  session_send (&s, "from-daemon\n");
  receive_and_report (&s, tag);
  /* The parent looks at the daemon while the session is alive, and again
   * once its context is gone. */
  pause_for_parent (tag, "open");
  session_close (&s);
  pause_for_parent (tag, "deleted");
}

static int
mode_secrets (const char *address, guint16 port, const char *marker)
{
  g_autoptr(GDBusConnection) conn = cr_open_bus (address);
  guint64 client = cr_acquire_ok (conn, "client", SECPKG_CRED_OUTBOUND);
  guint64 server = cr_acquire_ok (conn, "server", SECPKG_CRED_INBOUND);
  /* TLS 1.2 and no session kept for resumption: once the context is
   * deleted, nothing of it may stay in the daemon. */
  guint64 client12 = acquire_ok_with (conn, acquire_params_with ("client", SECPKG_CRED_OUTBOUND,
                                                                 SP_PROT_TLS1_2_CLIENT,
                                                                 SCH_CRED_DISABLE_RECONNECTS));
  /* A context that lives on, named by @marker: the parent must find the
   * name in the daemon's memory, which proves it searched the right
   * process.  Opened first, so that no allocation of its own after the
   * sessions reuses (and so overwrites) what they left behind. */
  g_autoptr(GVariant) held = cr_call (conn, "InitializeSecurityContext",
                                   cr_isc_params (client, 0, marker, NULL, 0));

  if (cr_status_of (held) != (guint32) SEC_I_CONTINUE_NEEDED)
    cr_die ("held context: 0x%08x", cr_status_of (held));
  client_session (conn, client, port, "s1");
  client_session (conn, client, port, "s2");
  server_session (conn, server, "s3");
  client_session (conn, client12, port, "s4");
  server_session (conn, server, "s5");
  cr_report ("pid %d", (int) getpid ());
  cr_report ("done");
  cr_wait_stdin_closed ();
  g_clear_pointer (&plaintexts, g_ptr_array_unref);
  return 0;
}

/* --- entry -------------------------------------------------------------- */


int
security_client_main (int argc, char **argv)
{
  const char *mode = argc > 2 ? argv[2] : "";

  if (g_str_equal (mode, "nobody") && argc == 6)
    return mode_nobody (argv[3], cr_parse_u64 (argv[4]), cr_parse_u64 (argv[5]));
  if (g_str_equal (mode, "hold") && argc == 5)
    return mode_hold (argv[3], (guint) cr_parse_u64 (argv[4]));
  if (g_str_equal (mode, "flood") && argc == 6)
    return mode_flood (argv[3], (guint) cr_parse_u64 (argv[4]), (guint) cr_parse_u64 (argv[5]));
  if (g_str_equal (mode, "secrets") && argc == 6)
    return mode_secrets (argv[3], (guint16) cr_parse_u64 (argv[4]), argv[5]);
  cr_die ("usage: %s --child nobody|hold|flood|secrets ARGS...", argv[0]);
}
