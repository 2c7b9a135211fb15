/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The child processes of tests/test-security.c (see security-client.h):
 * plain GDBus and sockets, no libsspi and no check, so that what runs as
 * `nobody`, what gets SIGKILLed and whose memory is searched for secrets
 * is a small, ordinary client.  The child side reports; nothing there
 * asserts.  At the end, the parent's side: starting a child and reading
 * what it says.
 */
#include "config.h"

#include "security-client.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "schannel.h"
#include "sspi.h"
#include "sspid-proto.h"

#define TIMEOUT_MS 20000

static G_NORETURN G_GNUC_PRINTF (1, 2) void
die (const char *format, ...)
{
  va_list args;

  va_start (args, format);
  fprintf (stderr, "security-client: ");
  vfprintf (stderr, format, args);
  fprintf (stderr, "\n");
  va_end (args);
  exit (2);
}

static G_GNUC_PRINTF (1, 2) void
report (const char *format, ...)
{
  va_list args;

  va_start (args, format);
  vprintf (format, args);
  va_end (args);
  putchar ('\n');
  fflush (stdout);
}

/* --- D-Bus ------------------------------------------------------------- */

static GDBusConnection *
open_bus (const char *address)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *conn;

  conn = g_dbus_connection_new_for_address_sync (address,
                                                 G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                                                 | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                 NULL, NULL, &error);
  if (conn == NULL)
    die ("cannot connect to %s: %s", address, error->message);
  return conn;
}

/* A call that may fail with a D-Bus error (returned as its name). */
static GVariant *
try_call (GDBusConnection *conn, const char *dest, const char *path, const char *iface,
          const char *method, GVariant *params, char **error_name)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply = g_dbus_connection_call_sync (conn, dest, path, iface, method, params,
                                                 NULL, G_DBUS_CALL_FLAGS_NONE, TIMEOUT_MS,
                                                 NULL, &error);

  if (reply == NULL)
    {
      *error_name = g_dbus_error_get_remote_error (error);
      if (*error_name == NULL)
        *error_name = g_strdup_printf ("local error: %s", error->message);
    }
  return reply;
}

static GVariant *
call (GDBusConnection *conn, const char *method, GVariant *params)
{
  g_autofree char *error_name = NULL;
  GVariant *reply = try_call (conn, SSPID_BUS_NAME, SSPID_OBJECT_PATH, SSPID_INTERFACE,
                              method, params, &error_name);

  if (reply == NULL)
    die ("%s: %s", method, error_name);
  return reply;
}

static guint32
status_of (GVariant *reply)
{
  guint32 status;

  g_variant_get_child (reply, 0, "u", &status);
  return status;
}

static GVariant *
bytes_variant (const guint8 *data, gsize len)
{
  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, len, 1);
}

static GVariant *
acquire_params (const char *principal, guint32 use)
{
  return g_variant_new ("(tssu@a{sv})", (guint64) 1, principal, SCHANNEL_NAME_A, use,
                        g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));
}

/* With SCH_CREDENTIALS-like choices: protocol mask and SCH_CRED_* flags. */
static GVariant *
acquire_params_with (const char *principal, guint32 use, guint32 protocols, guint32 flags)
{
  GVariantDict auth;

  g_variant_dict_init (&auth, NULL);
  g_variant_dict_insert (&auth, "enabled-protocols", "u", protocols);
  g_variant_dict_insert (&auth, "flags", "u", flags);
  return g_variant_new ("(tssu@a{sv})", (guint64) 1, principal, SCHANNEL_NAME_A, use,
                        g_variant_dict_end (&auth));
}

static GVariant *
isc_params (guint64 cred, guint64 ctx, const char *target, const guint8 *in, gsize len)
{
  return g_variant_new ("(tttsu@ay@as)", (guint64) 2, cred, ctx, target,
                        (guint32) (ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM
                                   | ISC_REQ_CONFIDENTIALITY),
                        bytes_variant (in, len), g_variant_new_strv (NULL, 0));
}

static GVariant *
asc_params (guint64 cred, guint64 ctx, const guint8 *in, gsize len)
{
  return g_variant_new ("(tttu@ay@as)", (guint64) 3, cred, ctx,
                        (guint32) (ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_STREAM),
                        bytes_variant (in, len), g_variant_new_strv (NULL, 0));
}

static guint64
acquire_ok_with (GDBusConnection *conn, GVariant *params)
{
  /* Kept for the error message: GDBus takes its own reference of a
   * parameter that is not floating. */
  g_autoptr(GVariant) owned = g_variant_ref_sink (params);
  g_autoptr(GVariant) reply = call (conn, "AcquireCredentialsHandle", owned);
  const char *principal;
  guint64 handle;

  g_variant_get_child (owned, 1, "&s", &principal);
  if (status_of (reply) != (guint32) SEC_E_OK)
    die ("acquire %s: 0x%08x", principal, status_of (reply));
  g_variant_get_child (reply, 1, "t", &handle);
  return handle;
}

static guint64
acquire_ok (GDBusConnection *conn, const char *principal, guint32 use)
{
  return acquire_ok_with (conn, acquire_params (principal, use));
}

static void
send_no_reply (GDBusConnection *conn, const char *method, GVariant *params)
{
  g_autoptr(GDBusMessage) message = g_dbus_message_new_method_call (SSPID_BUS_NAME,
                                                                    SSPID_OBJECT_PATH,
                                                                    SSPID_INTERFACE, method);
  g_autoptr(GError) error = NULL;

  g_dbus_message_set_body (message, params);
  g_dbus_message_set_flags (message, G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED);
  if (!g_dbus_connection_send_message (conn, message, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL,
                                       &error))
    die ("send %s: %s", method, error->message);
}

/* --- nobody ------------------------------------------------------------ */

/* "STATUS REPLY": the status in hex and the whole reply, so the parent can
 * compare two answers byte for byte. */
static void
report_reply (const char *key, GVariant *reply)
{
  g_autofree char *text = g_variant_print (reply, TRUE);

  report ("%s 0x%08x %s", key, status_of (reply), text);
}

static void
report_call (GDBusConnection *conn, const char *key, const char *method, GVariant *params)
{
  g_autoptr(GVariant) reply = call (conn, method, params);

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
  g_autoptr(GVariant) reply = call (conn, "ListCredentials", NULL);
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
  guint64 cred = acquire_ok (conn, "", SECPKG_CRED_OUTBOUND);
  guint served = 0, limited = 0;
  gsize most = 0;

  for (guint i = 0; i < 300; i++)
    g_variant_unref (call (conn, "InitializeSecurityContext",
                           isc_params (cred, 0, "localhost", NULL, 0)));
  for (guint i = 0; i < 40; i++)
    {
      g_autofree char *error_name = NULL;
      g_autoptr(GVariant) reply = try_call (conn, SSPID_BUS_NAME, SSPID_OBJECT_PATH,
                                            SSPID_INTERFACE, "ListContexts", NULL, &error_name);

      if (reply != NULL)
        {
          g_autoptr(GVariant) list = g_variant_get_child_value (reply, 0);

          most = MAX (most, g_variant_n_children (list));
          served++;
        }
      else if (g_strcmp0 (error_name, SSPID_ERROR_LIMIT) == 0)
        limited++;
      else
        die ("ListContexts: %s", error_name);
    }
  report ("introspection served=%u limited=%u most=%" G_GSIZE_FORMAT, served, limited, most);
}

static int
mode_nobody (const char *address, guint64 cred, guint64 ctx)
{
  g_autoptr(GDBusConnection) conn = open_bus (address);
  g_autoptr(GVariant) contexts = NULL;
  g_autoptr(GVariant) owned = NULL;
  g_autofree char *names = credential_names (conn);
  g_autofree char *error_name = NULL;
  const guint8 data[16] = { 0 };
  guint64 fake = random_handle ();

  report ("uid %u", (guint) getuid ());
  report_call (conn, "acquire-listed-for-others", "AcquireCredentialsHandle",
               acquire_params ("server", SECPKG_CRED_INBOUND));
  report_call (conn, "acquire-unknown", "AcquireCredentialsHandle",
               acquire_params ("no-such-credential", SECPKG_CRED_INBOUND));
  report_call (conn, "acquire-listed-for-me", "AcquireCredentialsHandle",
               acquire_params ("for-nobody", SECPKG_CRED_INBOUND));
  report ("list-credentials %s", names);
  contexts = call (conn, "ListContexts", NULL);
  {
    g_autoptr(GVariant) list = g_variant_get_child_value (contexts, 0);
    report ("list-contexts %" G_GSIZE_FORMAT, g_variant_n_children (list));
  }

  /* The other connection's handles, next to a made-up value. */
  report_call (conn, "isc-foreign", "InitializeSecurityContext",
               isc_params (cred, 0, "localhost", NULL, 0));
  report_call (conn, "isc-random", "InitializeSecurityContext",
               isc_params (fake, 0, "localhost", NULL, 0));
  report_call (conn, "query-foreign", "QueryContext", g_variant_new ("(t)", ctx));
  report_call (conn, "query-random", "QueryContext", g_variant_new ("(t)", fake));
  report_call (conn, "encrypt-foreign", "EncryptMessage",
               g_variant_new ("(t@ay)", ctx, bytes_variant (data, sizeof data)));
  report_call (conn, "encrypt-random", "EncryptMessage",
               g_variant_new ("(t@ay)", fake, bytes_variant (data, sizeof data)));
  report_call (conn, "delete-foreign", "DeleteSecurityContext",
               g_variant_new ("(tt)", (guint64) 9, ctx));
  report_call (conn, "delete-random", "DeleteSecurityContext",
               g_variant_new ("(tt)", (guint64) 9, fake));
  report_call (conn, "free-foreign", "FreeCredentialsHandle",
               g_variant_new ("(tt)", (guint64) 9, cred));
  report_call (conn, "free-random", "FreeCredentialsHandle",
               g_variant_new ("(tt)", (guint64) 9, fake));

  /* What the bus policy says. */
  owned = try_call (conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                    "org.freedesktop.DBus", "RequestName",
                    g_variant_new ("(su)", SSPID_BUS_NAME, (guint32) 0), &error_name);
  report ("request-name %s", owned != NULL ? "granted" : error_name);
  g_clear_pointer (&error_name, g_free);
  g_clear_pointer (&owned, g_variant_unref);
  owned = try_call (conn, SSPID_BUS_NAME, SSPID_OBJECT_PATH, "org.sspid1.NotAnInterface",
                    "Hello", NULL, &error_name);
  report ("other-interface %s", owned != NULL ? "delivered" : error_name);
  report_introspection_pace (conn);
  return 0;
}

/* --- hold -------------------------------------------------------------- */

/* N contexts mid-handshake: half clients after their ClientHello, half
 * servers whose first step is still being sent or run when we are killed. */
static int
mode_hold (const char *address, guint n)
{
  g_autoptr(GDBusConnection) conn = open_bus (address);
  guint64 ccred = acquire_ok (conn, "", SECPKG_CRED_OUTBOUND);
  guint64 scred = acquire_ok (conn, "server", SECPKG_CRED_INBOUND);
  g_autoptr(GVariant) first = call (conn, "InitializeSecurityContext",
                                    isc_params (ccred, 0, "localhost", NULL, 0));
  g_autoptr(GVariant) hello = g_variant_get_child_value (first, 2);
  char line[16];

  for (guint i = 1; i < n / 2; i++)
    {
      g_autoptr(GVariant) r = call (conn, "InitializeSecurityContext",
                                    isc_params (ccred, 0, "localhost", NULL, 0));
      if (status_of (r) != (guint32) SEC_I_CONTINUE_NEEDED)
        die ("client step: 0x%08x", status_of (r));
    }
  for (guint i = n / 2; i < n; i++)
    send_no_reply (conn, "AcceptSecurityContext",
                   g_variant_new ("(tttu@ay@as)", (guint64) i, scred, (guint64) 0,
                                  (guint32) ASC_REQ_ALLOCATE_MEMORY, hello,
                                  g_variant_new_strv (NULL, 0)));
  g_dbus_connection_flush_sync (conn, NULL, NULL);
  report ("ready");
  /* Until killed (or the parent goes away). */
  while (fgets (line, sizeof line, stdin) != NULL)
    ;
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
  gint64 deadline = g_get_monotonic_time () + (gint64) TIMEOUT_MS * 1000;

  while (counts->seen < sent && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  if (counts->seen < sent)
    die ("%u of %u calls answered", counts->seen, sent);
}

/* Bursts of server first steps, each a whole ECDHE and signature on a
 * worker: the daemon reads them far faster than its workers run them, so
 * the pending limit bites, and the context limit once enough exist.  Every
 * burst is waited for, so the flood is as fast as the daemon answers. */
static int
mode_flood (const char *address, guint seconds, guint burst)
{
  g_autoptr(GDBusConnection) conn = open_bus (address);
  guint64 client = acquire_ok (conn, "", SECPKG_CRED_OUTBOUND);
  guint64 server = acquire_ok (conn, "server", SECPKG_CRED_INBOUND);
  g_autoptr(GVariant) first = call (conn, "InitializeSecurityContext",
                                    isc_params (client, 0, "localhost", NULL, 0));
  g_autoptr(GVariant) hello = g_variant_get_child_value (first, 2);
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
        send_no_reply (conn, "AcceptSecurityContext",
                       g_variant_new ("(tttu@ay@as)", (guint64) sent, server, (guint64) 0,
                                      (guint32) ASC_REQ_ALLOCATE_MEMORY, hello,
                                      g_variant_new_strv (NULL, 0)));
      flood_wait (&counts, sent);
      bursts++;
    }
  report ("flood continue=%u limit=%u other=%u bursts=%u", counts.cont, counts.limit,
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
        die ("write: %s", g_strerror (errno));
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

  if (poll (&pfd, 1, TIMEOUT_MS) <= 0)
    die ("no data from the peer in %u ms", TIMEOUT_MS);
  n = read (s->fd, buf, sizeof buf);
  if (n <= 0)
    die ("the peer closed the connection (%s)", n < 0 ? g_strerror (errno) : "EOF");
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
          ? call (s->conn, "AcceptSecurityContext", asc_params (cred, s->ctx, s->in->data, s->in->len))
          : call (s->conn, "InitializeSecurityContext",
                  isc_params (cred, s->ctx, target, s->in->data, s->in->len));
      g_variant_get (r, "(ut@ayuxuu)", &status, &handle, &token, NULL, NULL, &extra, NULL);
      if (s->ctx == 0)
        s->ctx = handle;
      write_variant (s, token);
      if (status == (guint32) SEC_E_INCOMPLETE_MESSAGE)
        {
          read_more (s);
          continue;
        }
      if (status != (guint32) SEC_E_OK && status != (guint32) SEC_I_CONTINUE_NEEDED)
        die ("handshake step: 0x%08x", status);
      g_byte_array_remove_range (s->in, 0, s->in->len - MIN (extra, s->in->len));
      if (status == (guint32) SEC_E_OK)
        return;
      if (s->in->len == 0)
        read_more (s);
    }
  die ("handshake did not finish");
}

static void
session_send (Session *s, const char *text)
{
  g_autoptr(GVariant) r = call (s->conn, "EncryptMessage",
                                g_variant_new ("(t@ay)", s->ctx,
                                               bytes_variant ((const guint8 *) text,
                                                              strlen (text))));
  g_autoptr(GVariant) record = g_variant_get_child_value (r, 1);

  if (status_of (r) != (guint32) SEC_E_OK)
    die ("EncryptMessage: 0x%08x", status_of (r));
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
      r = call (s->conn, "DecryptMessage",
                g_variant_new ("(t@ay)", s->ctx, bytes_variant (s->in->data, s->in->len)));
      g_variant_get (r, "(u@ayuuuu)", &status, &plain, NULL, &record_size, NULL, NULL);
      if (status == (guint32) SEC_E_INCOMPLETE_MESSAGE)
        {
          read_more (s);
          continue;
        }
      if (status != (guint32) SEC_E_OK)
        die ("DecryptMessage: 0x%08x", status);
      g_byte_array_remove_range (s->in, 0, MIN (record_size, s->in->len));
      if (g_variant_n_children (plain) > 0)
        return g_variant_get_data_as_bytes (plain);
    }
}

static gboolean
session_is_resumed (Session *s)
{
  g_autoptr(GVariant) r = call (s->conn, "QueryContext", g_variant_new ("(t)", s->ctx));
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

  report ("%s %s", tag, what);
  if (fgets (line, sizeof line, stdin) == NULL)
    die ("stdin closed while waiting after \"%s %s\"", tag, what);
}

/* close_notify, then the context goes. */
static void
session_close (Session *s)
{
  g_autoptr(GVariant) shutdown = call (s->conn, "ApplyControlToken",
                                       g_variant_new ("(tuuu)", s->ctx,
                                                      (guint32) SCHANNEL_SHUTDOWN, 0, 0));
  g_autoptr(GVariant) r = s->is_server
                          ? call (s->conn, "AcceptSecurityContext", asc_params (0, s->ctx, NULL, 0))
                          : call (s->conn, "InitializeSecurityContext",
                                  isc_params (0, s->ctx, "", NULL, 0));
  g_autoptr(GVariant) token = g_variant_get_child_value (r, 2);
  g_autoptr(GVariant) deleted = NULL;

  write_variant (s, token);
  close (s->fd);
  deleted = call (s->conn, "DeleteSecurityContext", g_variant_new ("(tt)", (guint64) 4, s->ctx));
  g_byte_array_unref (s->in);
}

static int
tcp_socket (guint16 port, gboolean listen_on)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (port) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (fd < 0)
    die ("socket: %s", g_strerror (errno));
  if (listen_on ? bind (fd, (struct sockaddr *) &sin, sizeof sin) < 0 || listen (fd, 1) < 0
                : connect (fd, (struct sockaddr *) &sin, sizeof sin) < 0)
    die ("%s 127.0.0.1:%u: %s", listen_on ? "listen" : "connect", port, g_strerror (errno));
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
  report ("%s got %.*s", tag, (int) (nl != NULL ? (gsize) (nl - data) : n), data != NULL ? data : "");
}

static void
client_session (GDBusConnection *conn, guint64 cred, guint16 port, const char *tag)
{
  Session s = { conn, tcp_socket (port, FALSE), FALSE, g_byte_array_new (), 0 };
  g_autofree char *text = g_strdup_printf ("hello-%s\n", tag);

  session_handshake (&s, cred, "localhost");
  report ("%s resumed=%d", tag, session_is_resumed (&s));
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
    die ("getsockname: %s", g_strerror (errno));
  report ("listening %u", ntohs (sin.sin_port));
  s.fd = accept (listener, NULL, NULL);
  if (s.fd < 0)
    die ("accept: %s", g_strerror (errno));
  close (listener);

  session_handshake (&s, cred, NULL);
  report ("%s resumed=%d", tag, session_is_resumed (&s));
  report ("%s established", tag);
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
  g_autoptr(GDBusConnection) conn = open_bus (address);
  guint64 client = acquire_ok (conn, "client", SECPKG_CRED_OUTBOUND);
  guint64 server = acquire_ok (conn, "server", SECPKG_CRED_INBOUND);
  /* TLS 1.2 and no session kept for resumption: once the context is
   * deleted, nothing of it may stay in the daemon. */
  guint64 client12 = acquire_ok_with (conn, acquire_params_with ("client", SECPKG_CRED_OUTBOUND,
                                                                 SP_PROT_TLS1_2_CLIENT,
                                                                 SCH_CRED_DISABLE_RECONNECTS));
  /* A context that lives on, named by @marker: the parent must find the
   * name in the daemon's memory, which proves it searched the right
   * process.  Opened first, so that no allocation of its own after the
   * sessions reuses (and so overwrites) what they left behind. */
  g_autoptr(GVariant) held = call (conn, "InitializeSecurityContext",
                                   isc_params (client, 0, marker, NULL, 0));
  char line[64];

  if (status_of (held) != (guint32) SEC_I_CONTINUE_NEEDED)
    die ("held context: 0x%08x", status_of (held));
  client_session (conn, client, port, "s1");
  client_session (conn, client, port, "s2");
  server_session (conn, server, "s3");
  client_session (conn, client12, port, "s4");
  server_session (conn, server, "s5");
  report ("pid %d", (int) getpid ());
  report ("done");
  while (fgets (line, sizeof line, stdin) != NULL)
    ;
  g_clear_pointer (&plaintexts, g_ptr_array_unref);
  return 0;
}

/* --- the parent side ----------------------------------------------------- */

#define CHILD_TIMEOUT_MS 60000

/* The children are this very binary, not the libtool wrapper script. */
static char *
self_path (void)
{
  char *path = g_file_read_link ("/proc/self/exe", NULL);

  ck_assert_msg (path != NULL, "cannot read /proc/self/exe");
  return path;
}

/* Whether every directory above @path lets others through and @path
 * itself lets them read it: then nobody can load it where it is. */
static gboolean
is_reachable_by_others (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  struct stat st;

  if (stat (path, &st) < 0 || !(st.st_mode & S_IROTH))
    return FALSE;
  for (;;)
    {
      g_autofree char *up = NULL;

      if (stat (dir, &st) < 0 || !(st.st_mode & S_IXOTH))
        return FALSE;
      up = g_path_get_dirname (dir);
      if (g_str_equal (up, dir))
        return TRUE;
      g_free (dir);
      dir = g_steal_pointer (&up);
    }
}

static gboolean
copy_file (const char *from, const char *dir, mode_t mode, GError **error)
{
  g_autofree char *base = g_path_get_basename (from);
  g_autofree char *to = g_build_filename (dir, base, NULL);
  g_autofree char *data = NULL;
  gsize len = 0;

  if (!g_file_get_contents (from, &data, &len, error) ||
      !g_file_set_contents (to, data, (gssize) len, error))
    return FALSE;
  if (chmod (to, mode) < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "chmod %s: %s", to,
                   g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

/* libsspi.so.0.0.0 is loaded as libsspi.so.0 (its soname): a link for
 * each shorter version suffix. */
static void
link_version_names (const char *dir, const char *base)
{
  g_autofree char *name = g_strdup (base);
  char *dot;

  while ((dot = strrchr (name, '.')) != NULL && dot[1] != '\0' &&
         strspn (dot + 1, "0123456789") == strlen (dot + 1))
    {
      g_autofree char *link = NULL;

      *dot = '\0';
      link = g_build_filename (dir, name, NULL);
      if (symlink (base, link) < 0 && errno != EEXIST)
        ck_abort_msg ("symlink %s: %s", link, g_strerror (errno));
    }
}

/* Copies into @dir every shared object this process maps that others
 * could not load from where it is. */
static gboolean
stage_libraries (const char *dir, GError **error)
{
  g_autofree char *maps = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GHashTable) done = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  if (!g_file_get_contents ("/proc/self/maps", &maps, NULL, error))
    return FALSE;
  lines = g_strsplit (maps, "\n", -1);
  for (char **l = lines; *l != NULL; l++)
    {
      const char *path = strchr (*l, '/');
      g_autofree char *base = NULL;

      if (path == NULL || strstr (path, ".so") == NULL || g_hash_table_contains (done, path) ||
          is_reachable_by_others (path))
        continue;
      g_hash_table_add (done, g_strdup (path));
      if (!copy_file (path, dir, 0644, error))
        return FALSE;
      base = g_path_get_basename (path);
      link_version_names (dir, base);
    }
  return TRUE;
}

char *
child_stage (char **why)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *self = self_path ();
  g_autofree char *dir = g_dir_make_tmp ("sspid-other-uid-XXXXXX", &error);
  struct statvfs fs;

  if (dir == NULL)
    {
      *why = g_strdup_printf ("cannot make a directory to stage the test in: %s", error->message);
      return NULL;
    }
  if (chmod (dir, 0755) < 0 || !is_reachable_by_others (dir))
    {
      *why = g_strdup_printf ("%s is not reachable by another user (set TMPDIR to a directory "
                              "others may enter)", g_get_tmp_dir ());
      child_unstage (dir);
      return NULL;
    }
  if (statvfs (dir, &fs) == 0 && (fs.f_flag & ST_NOEXEC))
    {
      *why = g_strdup_printf ("%s is mounted noexec (set TMPDIR to a directory on a file "
                              "system that allows programs)", g_get_tmp_dir ());
      child_unstage (dir);
      return NULL;
    }
  if (!copy_file (self, dir, 0755, &error) || !stage_libraries (dir, &error))
    {
      child_unstage (dir);
      ck_abort_msg ("cannot stage the test for another user: %s", error->message);
    }
  return g_steal_pointer (&dir);
}

void
child_unstage (const char *stage)
{
  g_autoptr(GDir) d = NULL;
  const char *name;

  if (stage == NULL)
    return;
  d = g_dir_open (stage, 0, NULL);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (stage, name, NULL);
      g_unlink (path);
    }
  g_rmdir (stage);
}

void
child_drop_stage (Child *c)
{
  child_unstage (c->stage);
  g_clear_pointer (&c->stage, g_free);
}

/* The environment of a staged child: its libraries first. */
static char **
staged_environ (const char *stage)
{
  char **env = g_get_environ ();
  const char *old = g_environ_getenv (env, "LD_LIBRARY_PATH");
  g_autofree char *path = old != NULL && *old != '\0' ? g_strconcat (stage, ":", old, NULL)
                                                      : g_strdup (stage);

  return g_environ_setenv (env, "LD_LIBRARY_PATH", path, TRUE);
}

Child *
child_start (char *stage, const char *const *args)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) argv = NULL;
  g_auto(GStrv) envp = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *self = self_path ();
  Child *c = g_new0 (Child, 1);

  c->stage = stage;
  if (stage != NULL)
    {
      /* nobody's own group: "nogroup" on Debian, "nobody" elsewhere. */
      struct passwd *nobody = getpwnam ("nobody");
      g_autofree char *reuid = NULL, *regid = NULL, *base = g_path_get_basename (self);

      ck_assert_msg (nobody != NULL, "no user nobody");
      reuid = g_strdup_printf ("--reuid=%u", (guint) nobody->pw_uid);
      regid = g_strdup_printf ("--regid=%u", (guint) nobody->pw_gid);
      g_strv_builder_add_many (builder, "setpriv", reuid, regid, "--clear-groups", NULL);
      g_free (self);
      self = g_build_filename (stage, base, NULL);
      envp = staged_environ (stage);
    }
  g_strv_builder_add_many (builder, self, "--child", NULL);
  g_strv_builder_addv (builder, (const char **) args);
  argv = g_strv_builder_end (builder);
  ck_assert_msg (g_spawn_async_with_pipes (stage, argv, envp,
                                           G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH,
                                           NULL, NULL, &c->pid, &c->in_fd, &c->out_fd, NULL,
                                           &error),
                 "cannot start %s: %s", argv[0], error->message);
  c->buffer = g_string_new (NULL);
  c->seen = g_string_new (NULL);
  return c;
}

/* Whether a whole line is ready (without waiting). */
gboolean
child_has_line (Child *c)
{
  struct pollfd pfd = { .fd = c->out_fd, .events = POLLIN };
  char buf[4096];
  ssize_t n;

  while (strchr (c->buffer->str, '\n') == NULL && poll (&pfd, 1, 0) > 0)
    {
      n = read (c->out_fd, buf, sizeof buf);
      if (n <= 0)
        return TRUE;        /* EOF: the next expect says so */
      g_string_append_len (c->buffer, buf, n);
    }
  return strchr (c->buffer->str, '\n') != NULL;
}

/* The rest of the next line that starts with @prefix; earlier lines are
 * skipped.  Fails the test if the child ends or stays silent. */
char *
child_expect (Child *c, const char *prefix)
{
  gint64 deadline = g_get_monotonic_time () + CHILD_TIMEOUT_MS * 1000;

  for (;;)
    {
      char *nl = strchr (c->buffer->str, '\n');
      struct pollfd pfd = { .fd = c->out_fd, .events = POLLIN };
      char buf[4096];
      ssize_t n;

      if (nl != NULL)
        {
          g_autofree char *line = g_strndup (c->buffer->str, nl - c->buffer->str);

          g_string_erase (c->buffer, 0, nl - c->buffer->str + 1);
          g_string_append_printf (c->seen, "  %s\n", line);
          if (g_str_has_prefix (line, prefix))
            return g_strdup (line + strlen (prefix));
          continue;
        }
      ck_assert_msg (g_get_monotonic_time () < deadline,
                     "child said no \"%s\" in time; it said:\n%s", prefix, c->seen->str);
      if (poll (&pfd, 1, 100) <= 0)
        continue;
      n = read (c->out_fd, buf, sizeof buf);
      ck_assert_msg (n > 0, "child ended before saying \"%s\"; it said:\n%s", prefix,
                     c->seen->str);
      g_string_append_len (c->buffer, buf, n);
    }
}

int
child_wait (Child *c)
{
  int status = -1;
  gint64 deadline = g_get_monotonic_time () + CHILD_TIMEOUT_MS * 1000;

  while (waitpid (c->pid, &status, WNOHANG) == 0)
    {
      if (g_get_monotonic_time () > deadline)
        {
          kill (c->pid, SIGKILL);
          waitpid (c->pid, &status, 0);
          break;
        }
      g_usleep (5000);
    }
  return status;
}

void
child_free (Child *c)
{
  if (c->in_fd >= 0)
    close (c->in_fd);
  close (c->out_fd);
  g_string_free (c->buffer, TRUE);
  g_string_free (c->seen, TRUE);
  child_drop_stage (c);
  g_free (c);
}

/* Closes its stdin and checks that it exits cleanly. */
void
child_finish (Child *c)
{
  int status;

  close (c->in_fd);
  c->in_fd = -1;
  status = child_wait (c);
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0,
                 "child ended with wait status 0x%x; it said:\n%s", (guint) status,
                 c->seen->str);
  child_free (c);
}

/* --- entry -------------------------------------------------------------- */

static guint64
parse_u64 (const char *text)
{
  guint64 value;
  g_autoptr(GError) error = NULL;

  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, &value, &error))
    die ("%s: %s", text, error->message);
  return value;
}

int
security_client_main (int argc, char **argv)
{
  const char *mode = argc > 2 ? argv[2] : "";

  if (g_str_equal (mode, "nobody") && argc == 6)
    return mode_nobody (argv[3], parse_u64 (argv[4]), parse_u64 (argv[5]));
  if (g_str_equal (mode, "hold") && argc == 5)
    return mode_hold (argv[3], (guint) parse_u64 (argv[4]));
  if (g_str_equal (mode, "flood") && argc == 6)
    return mode_flood (argv[3], (guint) parse_u64 (argv[4]), (guint) parse_u64 (argv[5]));
  if (g_str_equal (mode, "secrets") && argc == 6)
    return mode_secrets (argv[3], (guint16) parse_u64 (argv[4]), argv[5]);
  die ("usage: %s --child nobody|hold|flood|secrets ARGS...", argv[0]);
}
