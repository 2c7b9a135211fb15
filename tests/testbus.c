/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The private test bus (see testbus.h): one copy of the dbus-daemon config
 * and of how the bus is started, for the tests and the benchmarks alike,
 * so that both measure and test against the same bus.  No `check` here:
 * errors are returned, and the caller decides how to fail.
 */
#include "config.h"

#include "testbus.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SSPID_BUS_POLICY
#error "SSPID_BUS_POLICY must name data/org.sspid1.conf.in (see tests/Makefile.inc)"
#endif

#define POLL_INTERVAL_US 10000

G_DEFINE_QUARK (sspid-testbus-error-quark, tb_error)

gint64
tb_deadline_after (guint timeout_ms)
{
  return g_get_monotonic_time () + (gint64) timeout_ms * 1000;
}

gboolean
tb_is_past (gint64 deadline)
{
  return g_get_monotonic_time () >= deadline;
}

char *
tb_dup_user_name (GError **error)
{
  struct passwd *pw = getpwuid (getuid ());

  if (pw == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED,
                   "no passwd entry for uid %u: the bus policy needs a user name",
                   (unsigned) getuid ());
      return NULL;
    }
  return g_strdup (pw->pw_name);
}

/* ---- the bus's config -------------------------------------------------- */

char *
tb_write_bus_policy (const char *dir, GError **error)
{
  g_autofree char *policy = NULL;
  g_autofree char *user = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GString) text = NULL;

  if (!g_file_get_contents (SSPID_BUS_POLICY, &policy, NULL, error))
    return NULL;
  user = tb_dup_user_name (error);
  if (user == NULL)
    return NULL;
  text = g_string_new (policy);
  g_string_replace (text, "@SSPID_USER@", user, 0);
  path = g_build_filename (dir, "org.sspid1.conf", NULL);
  if (!g_file_set_contents (path, text->str, -1, error))
    return NULL;
  return g_steal_pointer (&path);
}

/* The system bus's default policy (dbus's system.conf): nobody may own a
 * name or call a method unless a policy file says so.  The current user
 * stands in for root as the one who may monitor. */
char *
tb_bus_config (const char *dir, const TbBusOptions *options, GError **error)
{
  static const TbBusOptions none;
  g_autofree char *user = NULL;
  g_autofree char *socket = g_build_filename (dir, TB_BUS_SOCKET_FILE, NULL);
  g_autofree char *esc_socket = g_markup_escape_text (socket, -1);
  g_autofree char *esc_user = NULL;
  g_autofree char *services = NULL;
  g_autofree char *include = NULL;

  if (options == NULL)
    options = &none;
  user = tb_dup_user_name (error);
  if (user == NULL)
    return NULL;
  esc_user = g_markup_escape_text (user, -1);
  services = options->servicedir == NULL ? g_strdup ("")
             : g_markup_printf_escaped ("  <servicedir>%s</servicedir>\n", options->servicedir);
  include = options->policy_path == NULL ? g_strdup ("")
            : g_markup_printf_escaped ("  <include ignore_missing=\"no\">%s</include>\n",
                                       options->policy_path);

  return g_strdup_printf (
    "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
    " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
    "<busconfig>\n"
    "  <type>custom</type>\n"
    "  <listen>unix:path=%s</listen>\n"
    "  <auth>EXTERNAL</auth>\n"
    "%s%s"
    "  <policy context=\"default\">\n"
    "    <allow user=\"*\"/>\n"
    "    <deny own=\"*\"/>\n"
    "    <deny send_type=\"method_call\"/>\n"
    "    <allow send_type=\"signal\"/>\n"
    "    <allow send_requested_reply=\"true\" send_type=\"method_return\"/>\n"
    "    <allow send_requested_reply=\"true\" send_type=\"error\"/>\n"
    "    <allow receive_type=\"method_call\"/>\n"
    "    <allow receive_type=\"method_return\"/>\n"
    "    <allow receive_type=\"error\"/>\n"
    "    <allow receive_type=\"signal\"/>\n"
    "    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus\"/>\n"
    "    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus.Introspectable\"/>\n"
    "    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus.Properties\"/>\n"
    "    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus.Peer\"/>\n"
    "    <deny send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus\"\n"
    "          send_member=\"UpdateActivationEnvironment\"/>\n"
    "    <deny send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus.Debug.Stats\"/>\n"
    "    <deny send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.systemd1.Activator\"/>\n"
    "%s"
    "  </policy>\n"
    "  <policy user=\"%s\">\n"
    "    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus.Monitoring\"/>\n"
    "  </policy>\n"
    "%s"
    "</busconfig>\n",
    esc_socket, services, options->extra_config != NULL ? options->extra_config : "",
    options->extra_policy != NULL ? options->extra_policy : "", esc_user, include);
}

/* ---- starting the bus -------------------------------------------------- */

/* Reads one line (the bus address) from @fd, up to @timeout_ms; NULL if
 * none came. */
static char *
read_line (int fd, guint timeout_ms)
{
  gint64 deadline = tb_deadline_after (timeout_ms);
  GString *line = g_string_new (NULL);

  while (strchr (line->str, '\n') == NULL)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      gint64 left_ms = (deadline - g_get_monotonic_time ()) / 1000;
      char buf[256];
      ssize_t n;
      int r;

      if (left_ms <= 0)
        break;
      r = poll (&pfd, 1, (int) left_ms);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        break;
      n = read (fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      g_string_append_len (line, buf, n);
    }

  if (strchr (line->str, '\n') == NULL)
    {
      g_string_free (line, TRUE);
      return NULL;
    }
  return g_strstrip (g_string_free (line, FALSE));
}

static gboolean
spawn_bus (TbBus *bus, const char *config_path, const char *log_path, gboolean is_dying_with_parent,
           int *address_fd, GError **error)
{
  g_autofree char *config_arg = g_strconcat ("--config-file=", config_path, NULL);
  const char *argv[] = { "dbus-daemon", config_arg, "--nofork", "--print-address=3", NULL };
  int address_pipe[2];
  int target_fd = 3;
  int log_fd;
  gboolean is_spawned;

  if (!g_unix_open_pipe (address_pipe, FD_CLOEXEC, error))
    return FALSE;
  log_fd = open (log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0)
    {
      int saved = errno;

      close (address_pipe[0]);
      close (address_pipe[1]);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "cannot open %s: %s", log_path, g_strerror (saved));
      return FALSE;
    }

  /* The address comes on its own fd so that nothing else the bus prints
   * can be mistaken for it, and closing our end can never SIGPIPE it. */
  is_spawned = g_spawn_async_with_pipes_and_fds (
    NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
    is_dying_with_parent ? tb_die_with_parent : NULL, NULL, -1, log_fd, log_fd,
    &address_pipe[1], &target_fd, 1, &bus->pid, NULL, NULL, NULL, error);
  close (address_pipe[1]);
  close (log_fd);
  if (!is_spawned)
    {
      close (address_pipe[0]);
      g_prefix_error (error, "cannot start dbus-daemon (Debian: apt-get install dbus-daemon): ");
      return FALSE;
    }
  *address_fd = address_pipe[0];
  return TRUE;
}

TbBus *
tb_bus_start (const char *dir, const TbBusOptions *options, guint timeout_ms, GError **error)
{
  g_autofree char *config = tb_bus_config (dir, options, error);
  g_autofree char *config_path = g_build_filename (dir, TB_BUS_CONFIG_FILE, NULL);
  g_autofree char *log_path = g_build_filename (dir, TB_BUS_LOG_FILE, NULL);
  g_autoptr(TbBus) bus = g_new0 (TbBus, 1);
  int address_fd;
  int status;

  if (config == NULL || !g_file_set_contents (config_path, config, -1, error))
    return NULL;
  if (!spawn_bus (bus, config_path, log_path, options != NULL && options->is_dying_with_parent,
                  &address_fd, error))
    return NULL;

  bus->address = read_line (address_fd, timeout_ms);
  close (address_fd);
  if (bus->address == NULL || *bus->address == '\0')
    {
      tb_stop_process (bus->pid, SIGKILL, timeout_ms, &status);
      bus->pid = 0;
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED,
                   "dbus-daemon did not print its address (config %s, log %s)",
                   config_path, log_path);
      return NULL;
    }
  return g_steal_pointer (&bus);
}

void
tb_bus_free (TbBus *bus)
{
  if (bus == NULL)
    return;
  g_free (bus->address);
  g_free (bus);
}

/* ---- on the bus -------------------------------------------------------- */

GDBusConnection *
tb_connect (const char *address, GError **error)
{
  GDBusConnection *connection;

  connection = g_dbus_connection_new_for_address_sync (
    address,
    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
      | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
    NULL, NULL, error);
  if (connection == NULL)
    g_prefix_error (error, "cannot connect to the test bus %s: ", address);
  return connection;
}

gboolean
tb_peek_name_owner_pid (GDBusConnection *connection, const char *name, guint32 *pid,
                        GError **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *remote = NULL;

  *pid = 0;
  reply = g_dbus_connection_call_sync (connection, "org.freedesktop.DBus",
                                       "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "GetConnectionUnixProcessID",
                                       g_variant_new ("(s)", name), G_VARIANT_TYPE ("(u)"),
                                       G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &local_error);
  if (reply != NULL)
    {
      g_variant_get (reply, "(u)", pid);
      return TRUE;
    }
  remote = g_dbus_error_get_remote_error (local_error);
  if (g_strcmp0 (remote, "org.freedesktop.DBus.Error.NameHasNoOwner") == 0)
    return TRUE;
  g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                              "GetConnectionUnixProcessID: ");
  return FALSE;
}

gboolean
tb_wait_for_name_owner (GDBusConnection *connection, const char *name, GPid pid,
                        gboolean is_any_owner, guint timeout_ms, int *status, GError **error)
{
  gint64 deadline = tb_deadline_after (timeout_ms);
  int local_status;

  if (status == NULL)
    status = &local_status;
  for (;;)
    {
      guint32 owner;

      if (!tb_peek_name_owner_pid (connection, name, &owner, error))
        return FALSE;
      if (owner != 0 && (owner == (guint32) pid || is_any_owner))
        return TRUE;
      if (waitpid (pid, status, WNOHANG) == pid)
        {
          g_autofree char *how = tb_describe_status (*status);

          g_set_error (error, TB_ERROR, TB_ERROR_EXITED, "%s before owning %s", how, name);
          return FALSE;
        }
      if (tb_is_past (deadline))
        {
          g_set_error (error, TB_ERROR, TB_ERROR_TIMEOUT, "did not own %s in time", name);
          return FALSE;
        }
      g_usleep (POLL_INTERVAL_US);
    }
}

/* ---- processes and files ----------------------------------------------- */

char *
tb_describe_status (int status)
{
  if (WIFEXITED (status))
    return g_strdup_printf ("exited with status %d", WEXITSTATUS (status));
  if (WIFSIGNALED (status))
    return g_strdup_printf ("was killed by signal %d (%s)%s", WTERMSIG (status),
                            g_strsignal (WTERMSIG (status)),
                            WCOREDUMP (status) ? ", core dumped" : "");
  return g_strdup_printf ("ended with wait status 0x%x", (unsigned) status);
}

/* For a process that is not our child (the env was started by another
 * process of the test program): gone once it is a zombie or nothing. */
static gboolean
is_process_gone (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *stat = NULL;
  const char *state;

  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return TRUE;
  state = strrchr (stat, ')');
  return state == NULL || state[1] == '\0' || state[2] == 'Z' || state[2] == 'X';
}

typedef enum {
  REAP_DONE,      /* *status is valid */
  REAP_NOT_CHILD, /* gone, but not ours to wait for: status unknown */
  REAP_TIMEOUT,
} ReapResult;

static ReapResult
reap (GPid pid, guint timeout_ms, int *status)
{
  gint64 deadline = tb_deadline_after (timeout_ms);

  for (;;)
    {
      pid_t r = waitpid (pid, status, WNOHANG);

      if (r == pid)
        return REAP_DONE;
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0 && errno == ECHILD && is_process_gone (pid))
        return REAP_NOT_CHILD;
      if (tb_is_past (deadline))
        return REAP_TIMEOUT;
      g_usleep (POLL_INTERVAL_US);
    }
}

gboolean
tb_stop_process (GPid pid, int signo, guint timeout_ms, int *status)
{
  ReapResult result;

  *status = -1;
  if (pid <= 0 || (kill (pid, signo) < 0 && errno == ESRCH))
    return TRUE;

  result = reap (pid, timeout_ms, status);
  if (result == REAP_NOT_CHILD)
    *status = -1;
  if (result != REAP_TIMEOUT)
    return TRUE;

  kill (pid, SIGKILL);
  if (reap (pid, timeout_ms, status) != REAP_DONE)
    *status = -1;
  return FALSE;
}

/* In the child, before exec: so that a benchmark interrupted with ^C
 * does not leave a bus or a daemon behind. */
void
tb_die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

void
tb_remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR)
          && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        tb_remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}
