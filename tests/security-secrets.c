/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Part of tests/test-security: secrets never leave the daemon.
 *
 * A child client (tests/security-client.c, mode "secrets") runs three TLS
 * sessions through sspid over TCP with real OpenSSL peers that write key
 * logs: twice as a client with a client certificate (TLS 1.3, the second
 * session resumed), once as a server (TLS 1.2), with records both ways.
 * Meanwhile a monitor connection records every message on the bus.  Then
 * the bus traffic, the child's whole memory (/proc/PID/mem, read while it
 * is still alive) and the daemon's log are searched for the private keys
 * the daemon used (their raw scalars) and for every secret in the peers'
 * key logs.  None may appear.  So that the search cannot pass by seeing
 * nothing, it must find what must be there: a random marker the peer sent
 * (in the child's memory and, as DecryptMessage's answer, on the bus) and
 * the ClientHello's random (on the bus, in the handshake tokens).
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "security-client.h"
#include "testutil.h"

/* --- a monitor on the bus ------------------------------------------------ */

typedef struct {
  GDBusConnection *conn;
  const char      *name;
  guint            filter_id;
  GMutex           lock;
  GByteArray      *bytes;     /* every message seen, serialized */
  guint            messages;
} Monitor;

/* Runs on GDBus's worker thread.  Only the answer to our BecomeMonitor
 * goes on to GDBus: a monitor must not answer what it sees. */
static GDBusMessage *
monitor_filter (GDBusConnection *conn, GDBusMessage *message, gboolean incoming,
                gpointer user_data)
{
  Monitor *m = user_data;
  GDBusMessageType type = g_dbus_message_get_message_type (message);
  guchar *blob;
  gsize size;

  if (!incoming)
    return message;
  if ((type == G_DBUS_MESSAGE_TYPE_METHOD_RETURN || type == G_DBUS_MESSAGE_TYPE_ERROR)
      && g_strcmp0 (g_dbus_message_get_destination (message), m->name) == 0)
    return message;
  blob = g_dbus_message_to_blob (message, &size, G_DBUS_CAPABILITY_FLAGS_UNIX_FD_PASSING,
                                 NULL);
  g_mutex_lock (&m->lock);
  if (blob != NULL)
    g_byte_array_append (m->bytes, blob, (guint) size);
  m->messages++;
  g_mutex_unlock (&m->lock);
  g_free (blob);
  g_object_unref (message);
  return NULL;
}

static Monitor *
monitor_start (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  Monitor *m = g_new0 (Monitor, 1);

  m->conn = g_dbus_connection_new_for_address_sync (tu_fixture_env->bus_address,
                                                    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                                                    | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                    NULL, NULL, &error);
  ck_assert_msg (m->conn != NULL, "monitor: %s", error != NULL ? error->message : "?");
  m->name = g_dbus_connection_get_unique_name (m->conn);
  g_mutex_init (&m->lock);
  m->bytes = g_byte_array_new ();
  m->filter_id = g_dbus_connection_add_filter (m->conn, monitor_filter, m, NULL);
  reply = g_dbus_connection_call_sync (m->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus.Monitoring", "BecomeMonitor",
                                       g_variant_new ("(@asu)", g_variant_new_strv (NULL, 0),
                                                      (guint32) 0),
                                       NULL, G_DBUS_CALL_FLAGS_NONE, 20000, NULL, &error);
  ck_assert_msg (reply != NULL, "BecomeMonitor: %s", error != NULL ? error->message : "?");
  return m;
}

/* Stops and returns what was seen. */
static GBytes *
monitor_stop (Monitor *m, guint *messages)
{
  GBytes *bytes;

  g_dbus_connection_remove_filter (m->conn, m->filter_id);
  g_dbus_connection_close_sync (m->conn, NULL, NULL);
  g_object_unref (m->conn);
  g_mutex_lock (&m->lock);
  *messages = m->messages;
  bytes = g_byte_array_free_to_bytes (m->bytes);
  g_mutex_unlock (&m->lock);
  g_mutex_clear (&m->lock);
  g_free (m);
  return bytes;
}

/* --- what to look for ---------------------------------------------------- */

typedef struct {
  char   *what;
  GBytes *bytes;
} Needle;

static void
needle_free (Needle *n)
{
  g_free (n->what);
  g_bytes_unref (n->bytes);
  g_free (n);
}

static void
add_needle (GPtrArray *needles, GBytes *bytes, const char *format, ...) G_GNUC_PRINTF (3, 4);

static void
add_needle (GPtrArray *needles, GBytes *bytes, const char *format, ...)
{
  Needle *n = g_new0 (Needle, 1);
  va_list args;

  va_start (args, format);
  n->what = g_strdup_vprintf (format, args);
  va_end (args);
  n->bytes = bytes;
  g_ptr_array_add (needles, n);
}

/* The private scalar of an EC key of the test PKI, without leading zeros
 * (the daemon may hold it padded either way). */
static GBytes *
key_scalar (const char *file)
{
  g_autofree char *path = tu_pki_path (file);
  g_autofree char *pem = NULL;
  gsize len;
  gnutls_datum_t data, x = { 0 }, y = { 0 }, k = { 0 };
  gnutls_x509_privkey_t key;
  gnutls_ecc_curve_t curve;
  unsigned int skip = 0;
  GBytes *scalar;

  ck_assert_msg (g_file_get_contents (path, &pem, &len, NULL), "cannot read %s", path);
  data.data = (unsigned char *) pem;
  data.size = (unsigned int) len;
  ck_assert_int_ge (gnutls_x509_privkey_init (&key), 0);
  ck_assert_int_ge (gnutls_x509_privkey_import (key, &data, GNUTLS_X509_FMT_PEM), 0);
  ck_assert_int_ge (gnutls_x509_privkey_export_ecc_raw (key, &curve, &x, &y, &k), 0);
  while (skip < k.size && k.data[skip] == 0)
    skip++;
  ck_assert_uint_ge (k.size - skip, 24);
  scalar = g_bytes_new (k.data + skip, k.size - skip);
  gnutls_free (x.data);
  gnutls_free (y.data);
  gnutls_memset (k.data, 0, k.size);
  gnutls_free (k.data);
  gnutls_x509_privkey_deinit (key);
  return scalar;
}

static GBytes *
hex_bytes (const char *hex)
{
  gsize len = strlen (hex) / 2;
  guint8 *out = g_malloc (len);

  for (gsize i = 0; i < len; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]), lo = g_ascii_xdigit_value (hex[2 * i + 1]);

      ck_assert_msg (hi >= 0 && lo >= 0, "bad hex in a key log: %s", hex);
      out[i] = (guint8) (hi << 4 | lo);
    }
  return g_bytes_new_take (out, len);
}

/* NSS key log lines: "LABEL <client random> <secret>".  Secrets become
 * needles; the client randoms (public, in every ClientHello) are returned
 * as controls.  Returns the number of secrets. */
static guint
add_key_log (GPtrArray *needles, GPtrArray *randoms, const char *path)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  guint n = 0;

  ck_assert_msg (g_file_get_contents (path, &text, NULL, NULL), "no key log %s", path);
  lines = g_strsplit (text, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = g_strsplit (lines[i], " ", 3);

      if (lines[i][0] == '#' || g_strv_length (f) != 3)
        continue;
      add_needle (needles, hex_bytes (f[2]), "%s of %s", f[0], path);
      g_ptr_array_add (randoms, hex_bytes (f[1]));
      n++;
    }
  return n;
}

static gboolean
contains (const guint8 *hay, gsize len, GBytes *needle)
{
  gsize n;
  const guint8 *data = g_bytes_get_data (needle, &n);

  return memmem (hay, len, data, n) != NULL;
}

/* One line of /proc/PID/smaps that starts a mapping, and its resident and
 * swapped kilobytes. */
typedef struct {
  unsigned long start, end;
  gboolean      readable;
  gboolean      special;    /* [vvar], [vsyscall]: not readable through mem */
  gulong        kib_in_memory;
} Mapping;

static GArray *
read_mappings (GPid pid)
{
  g_autofree char *smaps_path = g_strdup_printf ("/proc/%d/smaps", (int) pid);
  g_autofree char *smaps = NULL;
  g_auto(GStrv) lines = NULL;
  GArray *mappings = g_array_new (FALSE, TRUE, sizeof (Mapping));

  ck_assert_msg (g_file_get_contents (smaps_path, &smaps, NULL, NULL), "cannot read %s",
                 smaps_path);
  lines = g_strsplit (smaps, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      Mapping m = { 0 };
      char perms[5];
      gulong kib;

      if (sscanf (lines[i], "%lx-%lx %4s", &m.start, &m.end, perms) == 3)
        {
          m.readable = perms[0] == 'r';
          m.special = strstr (lines[i], "[vvar]") != NULL
                      || strstr (lines[i], "[vsyscall]") != NULL;
          g_array_append_val (mappings, m);
        }
      else if (mappings->len > 0
               && (sscanf (lines[i], "Rss: %lu kB", &kib) == 1
                   || sscanf (lines[i], "Swap: %lu kB", &kib) == 1))
        g_array_index (mappings, Mapping, mappings->len - 1).kib_in_memory += kib;
    }
  return mappings;
}

/* Whether a mapping can hold what the process wrote.  Not one with no page
 * in memory or swap (an untouched reservation reads as zeros, a file
 * mapping as the file), nor one of a terabyte or more: no process maps its
 * data that large, but AddressSanitizer reserves ~15 TiB of shadow (a
 * sparse bitmap of its own, never a copy of the data), whose reading
 * alone would take hours. */
static gboolean
mapping_holds_data (const Mapping *m)
{
  const unsigned long too_big = 1UL << 40;

  return m->readable && !m->special && m->kib_in_memory > 0 && m->end - m->start < too_big;
}

/* Searches every mapping of @pid that holds data for @needles (found[i]
 * set for each one seen).  Returns the bytes read. */
static gsize
scan_memory (GPid pid, GPtrArray *needles, gboolean *found)
{
  g_autofree char *mem_path = g_strdup_printf ("/proc/%d/mem", (int) pid);
  g_autoptr(GArray) mappings = read_mappings (pid);
  const gsize chunk = 1 << 20, overlap = 256;
  g_autofree guint8 *buf = g_malloc (chunk);
  gsize total = 0;
  int fd;

  fd = open (mem_path, O_RDONLY | O_CLOEXEC);
  ck_assert_msg (fd >= 0, "cannot open %s: %s", mem_path, g_strerror (errno));
  for (guint i = 0; i < mappings->len; i++)
    {
      const Mapping *m = &g_array_index (mappings, Mapping, i);

      if (!mapping_holds_data (m))
        continue;
      /* Chunks overlap so that nothing straddling a boundary is missed. */
      for (unsigned long off = m->start; off < m->end; off += chunk - overlap)
        {
          ssize_t n = pread (fd, buf, MIN (chunk, m->end - off), (off_t) off);

          if (n <= 0)
            break;
          total += (gsize) n;
          for (guint j = 0; j < needles->len; j++)
            if (contains (buf, (gsize) n, ((Needle *) needles->pdata[j])->bytes))
              found[j] = TRUE;
          if ((unsigned long) n < MIN (chunk, m->end - off) || off + n >= m->end)
            break;
        }
    }
  close (fd);
  return total;
}

/* --- the test ------------------------------------------------------------ */

START_TEST (test_secrets_stay_in_daemon)
{
  Monitor *monitor = monitor_start ();
  g_autofree char *ca = tu_pki_path ("ca.pem");
  g_autofree char *peer_pem = tu_pki_path ("server.pem");
  g_autofree char *peer_key = tu_pki_path ("server.key");
  g_autofree char *log1 = g_build_filename (tu_fixture_env->dir, "s_server.keylog", NULL);
  g_autofree char *log2 = g_build_filename (tu_fixture_env->dir, "s_client.keylog", NULL);
  guint16 port = tu_free_port ();
  g_autofree char *accept = g_strdup_printf ("127.0.0.1:%u", port);
  g_autofree char *port_text = g_strdup_printf ("%u", port);
  g_autofree char *marker = g_strdup_printf ("marker-%08x%08x", g_random_int (),
                                             g_random_int ());
  g_autofree char *marker_line = g_strconcat (marker, "\n", NULL);
  g_autoptr(GPtrArray) needles = g_ptr_array_new_with_free_func ((GDestroyNotify) needle_free);
  g_autoptr(GPtrArray) randoms = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GPtrArray) controls = g_ptr_array_new_with_free_func ((GDestroyNotify) needle_free);
  g_autoptr(GBytes) bus = NULL;
  g_autofree gboolean *in_memory = NULL;
  g_autofree gboolean *controls_in_memory = NULL;
  g_autofree char *daemon_log = NULL, *peer_output = NULL;
  const char *const server_argv[] = { "openssl", "s_server", "-accept", accept, "-cert", peer_pem,
                                      "-key", peer_key, "-CAfile", ca, "-Verify", "1", "-rev",
                                      "-naccept", "2", "-keylogfile", log1, NULL };
  GPid s_server, s_client;
  int s_client_in;
  guint messages, n_secrets;
  gsize scanned;
  Child *c;

  s_server = tu_spawn (tu_fixture_env, "s_server", server_argv, NULL);
  ck_assert_msg (tu_wait_port (port, 10000), "openssl s_server did not listen");
  c = child_start (NULL, (const char *const[]) { "secrets", tu_fixture_env->bus_address, port_text, NULL });

  /* TLS 1.3 with a client certificate: the daemon signs with client.key. */
  {
    g_autofree char *r1 = child_expect (c, "s1 resumed=");
    g_autofree char *got1 = child_expect (c, "s1 got ");
    g_autofree char *r2 = child_expect (c, "s2 resumed=");
    g_autofree char *got2 = child_expect (c, "s2 got ");

    ck_assert_str_eq (r1, "0");
    ck_assert_str_eq (got1, "1s-olleh");
    ck_assert_str_eq (r2, "1");
    ck_assert_str_eq (got2, "2s-olleh");
  }
  /* TLS 1.2, the daemon as server: it signs with server.key. */
  {
    g_autofree char *listening = child_expect (c, "listening ");
    g_autofree char *connect = g_strdup_printf ("127.0.0.1:%s", listening);
    const char *const client_argv[] = { "openssl", "s_client", "-connect", connect,
                                        "-servername", "localhost", "-CAfile", ca, "-tls1_2",
                                        "-keylogfile", log2, "-quiet", NULL };
    g_autofree char *got = NULL;

    s_client = tu_spawn (tu_fixture_env, "s_client", client_argv, &s_client_in);
    g_free (child_expect (c, "s3 established"));
    ck_assert_int_eq (write (s_client_in, marker_line, strlen (marker_line)),
                      (int) strlen (marker_line));
    got = child_expect (c, "s3 got ");
    ck_assert_str_eq (got, marker);
  }
  g_free (child_expect (c, "done"));

  /* What must never be found, and what must be. */
  add_needle (needles, key_scalar ("client.key"), "the private key of credential \"client\"");
  add_needle (needles, key_scalar ("server.key"), "the private key of credential \"server\"");
  n_secrets = add_key_log (needles, randoms, log1);
  ck_assert_uint_ge (n_secrets, 10);   /* 5 secrets per TLS 1.3 session */
  ck_assert_uint_ge (add_key_log (needles, randoms, log2), 1);
  add_needle (controls, g_bytes_new (marker, strlen (marker)), "the peer's marker");

  in_memory = g_new0 (gboolean, needles->len);
  controls_in_memory = g_new0 (gboolean, controls->len);
  scanned = scan_memory (c->pid, needles, in_memory);
  scan_memory (c->pid, controls, controls_in_memory);
  child_finish (c);
  close (s_client_in);
  tu_kill (s_client);
  tu_kill (s_server);
  bus = monitor_stop (monitor, &messages);
  daemon_log = tu_env_daemon_log (tu_fixture_env);
  peer_output = tu_spawn_output (tu_fixture_env, "s_client");

  printf ("searched %u bus messages (%" G_GSIZE_FORMAT " bytes), %" G_GSIZE_FORMAT
          " bytes of client memory and the daemon log for %u secrets: none found\n",
          messages, g_bytes_get_size (bus), scanned, needles->len);
  fflush (stdout);

  ck_assert_msg (strstr (peer_output, "from-daemon") != NULL, "s_client got: %s", peer_output);
  ck_assert_msg (controls_in_memory[0], "the marker is not in the client's memory: "
                 "the memory scan is blind");
  ck_assert_msg (contains (g_bytes_get_data (bus, NULL), g_bytes_get_size (bus),
                           ((Needle *) controls->pdata[0])->bytes),
                 "the marker is not in the bus capture: the monitor is blind");
  ck_assert_msg (contains (g_bytes_get_data (bus, NULL), g_bytes_get_size (bus),
                           randoms->pdata[0]),
                 "the ClientHello random is not in the bus capture");

  for (guint i = 0; i < needles->len; i++)
    {
      Needle *n = needles->pdata[i];
      gsize len;
      const guint8 *data = g_bytes_get_data (n->bytes, &len);
      g_autofree char *hex = g_malloc0 (2 * len + 1);

      for (gsize j = 0; j < len; j++)
        g_snprintf (hex + 2 * j, 3, "%02x", data[j]);
      ck_assert_msg (!contains (g_bytes_get_data (bus, NULL), g_bytes_get_size (bus), n->bytes),
                     "%s crossed the bus", n->what);
      ck_assert_msg (!in_memory[i], "%s is in the client's memory", n->what);
      ck_assert_msg (strstr (daemon_log, hex) == NULL
                     && memmem (daemon_log, strlen (daemon_log), data, len) == NULL,
                     "%s is in the daemon's log", n->what);
    }
}
END_TEST

TCase *
security_secrets_tcase (void)
{
  TCase *tc = tcase_create ("secrets");

  tcase_add_checked_fixture (tc, tu_fixture_setup, tu_fixture_teardown);
  tcase_set_timeout (tc, 180);
  tcase_add_test (tc, test_secrets_stay_in_daemon);
  return tc;
}
