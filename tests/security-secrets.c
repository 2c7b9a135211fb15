/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Part of tests/test-security: secrets never leave the daemon.
 *
 * A child client (tests/security-client.c, mode "secrets") runs five TLS
 * sessions through sspid over TCP with real OpenSSL peers that write key
 * logs: twice as a client with a client certificate (TLS 1.3, the second
 * session resumed), as a server (TLS 1.2, s3), as a TLS 1.2 client that
 * keeps no session for resumption (s4), and as a server again (s5,
 * resumed from s3's ticket), with records both ways, each ended with
 * close_notify and DeleteSecurityContext.  Meanwhile a monitor connection
 * records every message on the bus.  Then the bus traffic, the child's
 * whole memory (/proc/PID/mem, read while it is still alive) and the
 * daemon's log are searched for the private keys the daemon used (their
 * raw scalars) and for every secret in the peers' key logs.  None may
 * appear.  So that the search cannot pass by seeing nothing, it must find
 * what must be there: a random marker the peer sent (in the child's memory
 * and, as DecryptMessage's answer, on the bus) and the ClientHello's
 * random (on the bus, in the handshake tokens).
 *
 * The daemon's own memory (as root: it is not dumpable) must not keep the
 * secrets of sessions whose contexts were deleted either (issue 12): after
 * each deletion it is searched for every key log secret so far (at the end
 * only, a later session's allocations would have overwritten most of what
 * an earlier one left).  Resumption data the daemon keeps as a client
 * holds no key log secret (a TLS 1.3 ticket holds the resumption secret,
 * which key logs do not carry; the TLS 1.2 client keeps no session), so
 * none may be found.  Here too the search must find what must be there:
 * the master secret of each TLS 1.2 server session while it is open, and
 * at every search the target name of a context the child keeps.  Under a
 * wrapper (valgrind) the daemon's allocator is the wrapper's, which keeps
 * freed blocks as they were: what is found is printed, not asserted.
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
#include "sspid-proto.h"
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

/* Whether this process may read @pid's memory: the daemon is not
 * dumpable, so that takes root (CAP_SYS_PTRACE), and a container may
 * deny even that. */
static gboolean
memory_is_readable (GPid pid)
{
  g_autofree char *mem_path = g_strdup_printf ("/proc/%d/mem", (int) pid);
  g_autofree char *smaps_path = g_strdup_printf ("/proc/%d/smaps", (int) pid);
  g_autofree char *smaps = NULL;
  int fd = open (mem_path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    return FALSE;
  close (fd);
  return g_file_get_contents (smaps_path, &smaps, NULL, NULL) && *smaps != '\0';
}

/* Searches every mapping of @pid that holds data for @needles (found[i]
 * set for each one seen; where[i], if @where is not NULL, the address of
 * its first sighting).  Returns the bytes read. */
static gsize
scan_memory_at (GPid pid, GPtrArray *needles, gboolean *found, unsigned long *where)
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
            {
              GBytes *needle = ((Needle *) needles->pdata[j])->bytes;
              const guint8 *at;

              if (found[j])
                continue;
              at = memmem (buf, (gsize) n, g_bytes_get_data (needle, NULL),
                           g_bytes_get_size (needle));
              if (at == NULL)
                continue;
              found[j] = TRUE;
              if (where != NULL)
                where[j] = off + (unsigned long) (at - buf);
            }
          if ((unsigned long) n < MIN (chunk, m->end - off) || off + n >= m->end)
            break;
        }
    }
  close (fd);
  return total;
}

static gsize
scan_memory (GPid pid, GPtrArray *needles, gboolean *found)
{
  return scan_memory_at (pid, needles, found, NULL);
}

/* --- the daemon's memory -------------------------------------------------- */

/* The pid of org.sspid1's owner as the bus knows it: under a wrapper the
 * daemon need not be the process the fixture started. */
static GPid
daemon_pid (GDBusConnection *conn)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  guint32 pid;

  reply = g_dbus_connection_call_sync (conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "GetConnectionUnixProcessID",
                                       g_variant_new ("(s)", SSPID_BUS_NAME),
                                       G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, 20000,
                                       NULL, &error);
  ck_assert_msg (reply != NULL, "GetConnectionUnixProcessID: %s", error->message);
  g_variant_get (reply, "(u)", &pid);
  return (GPid) pid;
}

/* How many contexts the daemon holds.  GetStatus is answered on the
 * daemon's main thread after everything sent before it, so this is also a
 * barrier: a context whose deletion was answered before is freed by now. */
static guint32
daemon_contexts (GDBusConnection *conn)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) status = NULL;
  guint32 contexts;

  reply = g_dbus_connection_call_sync (conn, SSPID_BUS_NAME, SSPID_OBJECT_PATH,
                                       SSPID_INTERFACE, "GetStatus", NULL,
                                       G_VARIANT_TYPE ("(a{sv})"), G_DBUS_CALL_FLAGS_NONE,
                                       20000, NULL, &error);
  ck_assert_msg (reply != NULL, "GetStatus: %s", error->message);
  status = g_variant_get_child_value (reply, 0);
  ck_assert (g_variant_lookup (status, "contexts", "u", &contexts));
  return contexts;
}

static GDBusConnection *
open_bus (void)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *conn;

  conn = g_dbus_connection_new_for_address_sync (tu_fixture_env->bus_address,
                                                 G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                                                 | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                 NULL, NULL, &error);
  ck_assert_msg (conn != NULL, "bus: %s", error != NULL ? error->message : "?");
  return conn;
}

/* While TLS 1.2 session s3 is open, its master secret (the one line of
 * @log) must be in the daemon's memory: GnuTLS keeps it for the life of
 * the session (exporters and renegotiation need it).  Finding it proves
 * that the scan reads where the daemon keeps sessions, so that finding no
 * secret after the contexts are gone means something. */
static void
assert_daemon_holds_live_secret (GPid pid, const char *log)
{
  g_autoptr(GPtrArray) live = g_ptr_array_new_with_free_func ((GDestroyNotify) needle_free);
  g_autoptr(GPtrArray) randoms = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autofree gboolean *found = NULL;

  ck_assert_uint_eq (add_key_log (live, randoms, log), 1);
  found = g_new0 (gboolean, live->len);
  scan_memory (pid, live, found);
  ck_assert_msg (found[0], "%s of the open session is not in the daemon's memory: "
                 "the scan of the daemon is blind", ((Needle *) live->pdata[0])->what);
}

/* What the daemon's memory showed after each deletion. */
typedef struct {
  GDBusConnection *conn;
  GPid             pid;
  gboolean         readable;
  const char      *logs[3];    /* the peers' key logs (any may not exist yet) */
  const char      *target;     /* the held context's target name */
  GString         *left;       /* secrets found after their context was deleted */
  GString         *blind;      /* scans that did not find the target */
  guint            scans;
  guint            secrets;    /* searched for in the last scan */
  gsize            scanned;    /* bytes read by the last scan */
} DaemonWatch;

/* After "TAG deleted": the daemon's memory must hold none of the secrets
 * the key logs have so far, and must hold the held context's target name.
 * Then the child goes on. */
static void
daemon_watch_deleted (DaemonWatch *w, Child *c, const char *tag)
{
  g_autofree char *prefix = g_strconcat (tag, " deleted", NULL);

  g_free (child_expect (c, prefix));
  if (w->readable)
    {
      g_autoptr(GPtrArray) secrets = g_ptr_array_new_with_free_func ((GDestroyNotify) needle_free);
      g_autoptr(GPtrArray) randoms = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
      g_autoptr(GPtrArray) controls = g_ptr_array_new_with_free_func ((GDestroyNotify) needle_free);
      g_autofree gboolean *found = NULL;
      g_autofree unsigned long *where = NULL;
      gboolean target_found = FALSE;

      ck_assert_uint_eq (daemon_contexts (w->conn), 1);
      for (guint i = 0; i < G_N_ELEMENTS (w->logs); i++)
        if (g_file_test (w->logs[i], G_FILE_TEST_EXISTS))
          add_key_log (secrets, randoms, w->logs[i]);
      add_needle (controls, g_bytes_new (w->target, strlen (w->target)), "target");
      found = g_new0 (gboolean, secrets->len);
      where = g_new0 (unsigned long, secrets->len);
      w->scanned = scan_memory_at (w->pid, secrets, found, where);
      w->secrets = secrets->len;
      w->scans++;
      scan_memory (w->pid, controls, &target_found);
      if (!target_found)
        g_string_append_printf (w->blind, " %s", tag);
      for (guint i = 0; i < secrets->len; i++)
        if (found[i])
          g_string_append_printf (w->left, "\n  after %s: %s (at 0x%lx)", tag,
                                  ((Needle *) secrets->pdata[i])->what, where[i]);
    }
  ck_assert_int_eq (write (c->in_fd, "\n", 1), 1);
}

static void
daemon_watch_report (DaemonWatch *w)
{
  if (!w->readable)
    {
      printf ("SKIP: cannot read the daemon's memory (needs root): not searched for secrets\n");
      fflush (stdout);
      return;
    }
  printf ("searched the daemon's memory after each of %u deletions (%" G_GSIZE_FORMAT
          " bytes the last time) for the %u session secrets so far: %s\n", w->scans,
          w->scanned, w->secrets, w->left->len == 0 ? "none found" : "FOUND");
  fflush (stdout);
  ck_assert_msg (w->blind->len == 0, "the held context's target name is not in the daemon's "
                 "memory after%s: the scan of the daemon is blind", w->blind->str);
  /* A wrapper's allocator (valgrind's) replaces the daemon's free(), which
   * wipes (daemon/sspid-wipe.c), and keeps freed blocks as they were. */
  if (tu_is_wrapped ())
    {
      printf ("NOTE: the daemon runs under a wrapper whose allocator keeps freed blocks "
              "unwiped: what was found is not held against it:%s\n", w->left->str);
      fflush (stdout);
      return;
    }
  ck_assert_msg (w->left->len == 0, "secrets of deleted contexts left in the daemon's memory:%s",
                 w->left->str);
}

/* --- the test ------------------------------------------------------------ */

/* The daemon as a TLS 1.2 server (the child's session @tag) for `openssl
 * s_client` (@peer_tag), which logs its keys to @keylog and, with
 * @sess_opt, writes or reads its session to or from @sess_file; the peer
 * sends @marker, the child reports it back.  While the session is open its
 * master secret must be in the daemon; once deleted, no secret so far.
 * Returns the child's "resumed=" and the peer's pid and stdin. */
static char *
run_server_session (Child *c, DaemonWatch *w, const char *tag, const char *peer_tag,
                    const char *keylog, const char *sess_opt, const char *sess_file,
                    const char *marker, GPid *pid, int *in_fd)
{
  g_autofree char *ca = tu_pki_path ("ca.pem");
  g_autofree char *listening = child_expect (c, "listening ");
  g_autofree char *connect = g_strdup_printf ("127.0.0.1:%s", listening);
  g_autofree char *marker_line = g_strconcat (marker, "\n", NULL);
  g_autofree char *prefix = g_strconcat (tag, " resumed=", NULL);
  g_autofree char *established = g_strconcat (tag, " established", NULL);
  g_autofree char *got_prefix = g_strconcat (tag, " got ", NULL);
  g_autofree char *open_prefix = g_strconcat (tag, " open", NULL);
  const char *const client_argv[] = { "openssl", "s_client", "-connect", connect,
                                      "-servername", "localhost", "-CAfile", ca, "-tls1_2",
                                      "-keylogfile", keylog, sess_opt, sess_file, "-quiet",
                                      NULL };
  g_autofree char *got = NULL;
  char *resumed;

  *pid = tu_spawn (tu_fixture_env, peer_tag, client_argv, in_fd);
  resumed = child_expect (c, prefix);
  g_free (child_expect (c, established));
  ck_assert_int_eq (write (*in_fd, marker_line, strlen (marker_line)),
                    (int) strlen (marker_line));
  got = child_expect (c, got_prefix);
  ck_assert_str_eq (got, marker);
  g_free (child_expect (c, open_prefix));
  if (w->readable)
    assert_daemon_holds_live_secret (w->pid, keylog);
  ck_assert_int_eq (write (c->in_fd, "\n", 1), 1);
  daemon_watch_deleted (w, c, tag);
  return resumed;
}

START_TEST (test_secrets_stay_in_daemon)
{
  Monitor *monitor = monitor_start ();
  g_autofree char *ca = tu_pki_path ("ca.pem");
  g_autofree char *peer_pem = tu_pki_path ("server.pem");
  g_autofree char *peer_key = tu_pki_path ("server.key");
  g_autofree char *log1 = g_build_filename (tu_fixture_env->dir, "s_server.keylog", NULL);
  g_autofree char *log2 = g_build_filename (tu_fixture_env->dir, "s_client.keylog", NULL);
  g_autofree char *log3 = g_build_filename (tu_fixture_env->dir, "s_client2.keylog", NULL);
  g_autofree char *sess = g_build_filename (tu_fixture_env->dir, "s_client.session", NULL);
  guint16 port = tu_free_port ();
  g_autofree char *accept = g_strdup_printf ("127.0.0.1:%u", port);
  g_autofree char *port_text = g_strdup_printf ("%u", port);
  g_autofree char *marker = g_strdup_printf ("marker-%08x%08x", g_random_int (),
                                             g_random_int ());
  g_autofree char *target = g_strdup_printf ("held-%08x%08x.invalid", g_random_int (),
                                             g_random_int ());
  g_autoptr(GDBusConnection) conn = open_bus ();
  DaemonWatch watch = { conn, daemon_pid (conn), FALSE, { log1, log2, log3 }, target,
                        g_string_new (NULL), g_string_new (NULL), 0, 0, 0 };
  g_autoptr(GPtrArray) needles = g_ptr_array_new_with_free_func ((GDestroyNotify) needle_free);
  g_autoptr(GPtrArray) randoms = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GPtrArray) controls = g_ptr_array_new_with_free_func ((GDestroyNotify) needle_free);
  g_autoptr(GBytes) bus = NULL;
  g_autofree gboolean *in_memory = NULL;
  g_autofree gboolean *controls_in_memory = NULL;
  g_autofree char *daemon_log = NULL, *peer_output = NULL;
  const char *const server_argv[] = { "openssl", "s_server", "-accept", accept, "-cert", peer_pem,
                                      "-key", peer_key, "-CAfile", ca, "-Verify", "1", "-rev",
                                      "-naccept", "3", "-keylogfile", log1, NULL };
  GPid s_server, s_client, s_client2;
  int s_client_in, s_client2_in;
  guint messages, n_secrets;
  gsize scanned;
  Child *c;

  s_server = tu_spawn (tu_fixture_env, "s_server", server_argv, NULL);
  ck_assert_msg (tu_wait_port (port, 10000), "openssl s_server did not listen");
  c = child_start (NULL, (const char *const[]) { "secrets", tu_fixture_env->bus_address, port_text,
                                                 target, NULL });

  watch.readable = memory_is_readable (watch.pid);
  /* TLS 1.3 with a client certificate: the daemon signs with client.key. */
  {
    g_autofree char *r1 = child_expect (c, "s1 resumed=");
    g_autofree char *got1 = child_expect (c, "s1 got ");
    g_autofree char *r2 = NULL, *got2 = NULL;

    daemon_watch_deleted (&watch, c, "s1");
    r2 = child_expect (c, "s2 resumed=");
    got2 = child_expect (c, "s2 got ");
    daemon_watch_deleted (&watch, c, "s2");
    ck_assert_str_eq (r1, "0");
    ck_assert_str_eq (got1, "1s-olleh");
    ck_assert_str_eq (r2, "1");
    ck_assert_str_eq (got2, "2s-olleh");
  }
  /* TLS 1.2, the daemon as server: it signs with server.key. */
  {
    g_autofree char *r3 = run_server_session (c, &watch, "s3", "s_client", log2, "-sess_out",
                                              sess, marker, &s_client, &s_client_in);

    ck_assert_str_eq (r3, "0");
  }
  /* TLS 1.2, the daemon as a client that keeps no session. */
  {
    g_autofree char *r4 = child_expect (c, "s4 resumed=");
    g_autofree char *got4 = child_expect (c, "s4 got ");

    daemon_watch_deleted (&watch, c, "s4");
    ck_assert_str_eq (r4, "0");
    ck_assert_str_eq (got4, "4s-olleh");
  }
  /* TLS 1.2 again, resumed with s3's ticket: the daemon gets s3's master
   * secret back from the ticket, and must forget it again. */
  {
    g_autofree char *r5 = run_server_session (c, &watch, "s5", "s_client2", log3, "-sess_in",
                                              sess, marker, &s_client2, &s_client2_in);

    ck_assert_str_eq (r5, "1");
  }
  g_free (child_expect (c, "done"));

  /* What must never be found, and what must be. */
  add_needle (needles, key_scalar ("client.key"), "the private key of credential \"client\"");
  add_needle (needles, key_scalar ("server.key"), "the private key of credential \"server\"");
  n_secrets = add_key_log (needles, randoms, log1);
  ck_assert_uint_ge (n_secrets, 11);   /* 5 per TLS 1.3 session, 1 for TLS 1.2 */
  ck_assert_uint_ge (add_key_log (needles, randoms, log2), 1);
  ck_assert_uint_ge (add_key_log (needles, randoms, log3), 1);
  add_needle (controls, g_bytes_new (marker, strlen (marker)), "the peer's marker");

  in_memory = g_new0 (gboolean, needles->len);
  controls_in_memory = g_new0 (gboolean, controls->len);
  scanned = scan_memory (c->pid, needles, in_memory);
  scan_memory (c->pid, controls, controls_in_memory);
  child_finish (c);
  close (s_client_in);
  close (s_client2_in);
  tu_kill (s_client);
  tu_kill (s_client2);
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
  /* The daemon holds its private keys, of course, but the sessions'
   * secrets must go with their contexts. */
  daemon_watch_report (&watch);
  g_string_free (watch.left, TRUE);
  g_string_free (watch.blind, TRUE);
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
