/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A test's other processes (see child-process.h): first the child's side,
 * a small raw-GDBus toolkit that reports and never asserts, then the
 * parent's: starting `SELF --child MODE ...` (as nobody if asked) and
 * reading what it says.
 */
#include "config.h"

#include "child-process.h"

#include <errno.h>
#include <glib/gstdio.h>

#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "schannel.h"
#include "sspi.h"
#include "sspid-args.h"
#include "sspid-proto.h"
#include "testutil.h"

/* --- child side ---------------------------------------------------------- */

void
cr_die (const char *format, ...)
{
  va_list args;

  va_start (args, format);
  fprintf (stderr, "%s: ", g_get_prgname () != NULL ? g_get_prgname () : "child");
  vfprintf (stderr, format, args);
  fprintf (stderr, "\n");
  va_end (args);
  exit (2);
}

void
cr_report (const char *format, ...)
{
  va_list args;

  va_start (args, format);
  vprintf (format, args);
  va_end (args);
  putchar ('\n');
  fflush (stdout);
}


GDBusConnection *
cr_open_bus (const char *address)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *conn;

  conn = g_dbus_connection_new_for_address_sync (address,
                                                 G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                                                 | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                 NULL, NULL, &error);
  if (conn == NULL)
    cr_die ("cannot connect to %s: %s", address, error->message);
  return conn;
}

/* A call that may fail with a D-Bus error (returned as its name). */
GVariant *
cr_try_call (GDBusConnection *conn, const char *dest, const char *path, const char *iface,
          const char *method, GVariant *params, char **error_name)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply = g_dbus_connection_call_sync (conn, dest, path, iface, method, params,
                                                 NULL, G_DBUS_CALL_FLAGS_NONE, CR_TIMEOUT_MS,
                                                 NULL, &error);

  if (reply == NULL)
    {
      *error_name = g_dbus_error_get_remote_error (error);
      if (*error_name == NULL)
        *error_name = g_strdup_printf ("local error: %s", error->message);
    }
  return reply;
}

GVariant *
cr_call (GDBusConnection *conn, const char *method, GVariant *params)
{
  g_autofree char *error_name = NULL;
  GVariant *reply = cr_try_call (conn, SSPID_BUS_NAME, SSPID_OBJECT_PATH, SSPID_INTERFACE,
                              method, params, &error_name);

  if (reply == NULL)
    cr_die ("%s: %s", method, error_name);
  return reply;
}

guint32
cr_status_of (GVariant *reply)
{
  guint32 status;

  g_variant_get_child (reply, 0, "u", &status);
  return status;
}

GVariant *
cr_bytes (const guint8 *data, gsize len)
{
  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, len, 1);
}

GVariant *
cr_acquire_params (const char *principal, guint32 use)
{
  return sspid_acquire_args_encode (&(SspidAcquireArgs) {
    1, principal, SCHANNEL_NAME_A, use, NULL });
}

GVariant *
cr_isc_params (guint64 cred, guint64 ctx, const char *target, const guint8 *in, gsize len)
{
  return sspid_step_args_encode (SSPID_CALL_INITIALIZE, &(SspidStepArgs) {
    2, cred, ctx, target, ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM | ISC_REQ_CONFIDENTIALITY,
    cr_bytes (in, len), NULL });
}

GVariant *
cr_asc_params (guint64 cred, guint64 ctx, const guint8 *in, gsize len)
{
  return sspid_step_args_encode (SSPID_CALL_ACCEPT, &(SspidStepArgs) {
    3, cred, ctx, NULL, ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_STREAM, cr_bytes (in, len), NULL });
}

guint64
cr_acquire_ok (GDBusConnection *conn, const char *principal, guint32 use)
{
  g_autoptr(GVariant) reply = cr_call (conn, "AcquireCredentialsHandle",
                                    cr_acquire_params (principal, use));
  guint64 handle;

  if (cr_status_of (reply) != (guint32) SEC_E_OK)
    cr_die ("acquire %s: 0x%08x", principal, cr_status_of (reply));
  g_variant_get_child (reply, 1, "t", &handle);
  return handle;
}

GVariant *
cr_client_hello (GDBusConnection *conn, guint64 cred)
{
  g_autoptr(GVariant) first = cr_call (conn, "InitializeSecurityContext",
                                       cr_isc_params (cred, 0, "localhost", NULL, 0));

  if (cr_status_of (first) != (guint32) SEC_I_CONTINUE_NEEDED)
    cr_die ("first client step: 0x%08x", cr_status_of (first));
  return g_variant_get_child_value (first, 2);
}

void
cr_send_no_reply (GDBusConnection *conn, const char *method, GVariant *params)
{
  g_autoptr(GDBusMessage) message = g_dbus_message_new_method_call (SSPID_BUS_NAME,
                                                                    SSPID_OBJECT_PATH,
                                                                    SSPID_INTERFACE, method);
  g_autoptr(GError) error = NULL;

  g_dbus_message_set_body (message, params);
  g_dbus_message_set_flags (message, G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED);
  if (!g_dbus_connection_send_message (conn, message, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL,
                                       &error))
    cr_die ("send %s: %s", method, error->message);
}

guint64
cr_parse_u64 (const char *text)
{
  guint64 value;
  g_autoptr(GError) error = NULL;

  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, &value, &error))
    cr_die ("%s: %s", text, error->message);
  return value;
}

void
cr_wait_stdin_closed (void)
{
  char line[64];

  while (fgets (line, sizeof line, stdin) != NULL)
    ;
}

/* --- parent side --------------------------------------------------------- */

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
/* Under ASan (tools/check's asan step), LSAN_OPTIONS names a suppressions
 * file in the tree, which nobody may not be able to read (a clone under a
 * 0700 directory), and LSan aborts a process at exit when it cannot read
 * it.  A copy would not do: the stage is gone before the child exits.  So
 * the staged child (a small client; the daemon and the test itself are
 * still checked) runs without the leak check. */
static char **
staged_lsan_options (char **env)
{
  const char *asan = g_environ_getenv (env, "ASAN_OPTIONS");
  g_autofree char *options = NULL;

  if (g_environ_getenv (env, "LSAN_OPTIONS") == NULL)
    return env;
  options = asan != NULL && *asan != '\0' ? g_strconcat (asan, ":detect_leaks=0", NULL)
                                          : g_strdup ("detect_leaks=0");
  env = g_environ_unsetenv (env, "LSAN_OPTIONS");
  return g_environ_setenv (env, "ASAN_OPTIONS", options, TRUE);
}

static char **
staged_environ (const char *stage)
{
  char **env = g_get_environ ();
  const char *old = g_environ_getenv (env, "LD_LIBRARY_PATH");
  g_autofree char *path = old != NULL && *old != '\0' ? g_strconcat (stage, ":", old, NULL)
                                                      : g_strdup (stage);

  env = g_environ_setenv (env, "LD_LIBRARY_PATH", path, TRUE);
  return staged_lsan_options (env);
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
                     "child said no \"%s\" in time; it said:\n%s", prefix, tu_tail (c->seen->str));
      if (poll (&pfd, 1, 100) <= 0)
        continue;
      n = read (c->out_fd, buf, sizeof buf);
      ck_assert_msg (n > 0, "child ended before saying \"%s\"; it said:\n%s", prefix,
                     tu_tail (c->seen->str));
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
                 tu_tail (c->seen->str));
  child_free (c);
}
