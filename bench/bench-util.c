/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared benchmark plumbing (see bench-util.h).  The private bus is set up
 * the way tests/testutil.c sets it up (system-bus default policy plus the
 * project's real policy), so the bus does the policy work a system bus
 * would; its connection limits are raised for S1's thousand connections,
 * and one extra name, org.sspid1.Bench, may be owned and called: the
 * trivial GDBus server that L1 compares sspid with.
 */
#include "config.h"

#include "bench-util.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sspid-proto.h"

#ifndef SSPID_BINARY
#error "SSPID_BINARY must name the built daemon (see bench/Makefile.inc)"
#endif
#ifndef SSPID_BUS_POLICY
#error "SSPID_BUS_POLICY must name data/org.sspid1.conf.in (see bench/Makefile.inc)"
#endif

#define START_TIMEOUT_US (10 * G_USEC_PER_SEC)

/* The env running now, so that dying does not leave a bus and a daemon
 * behind (the temp dir stays, with their logs). */
static BenchEnv *current_env;

void
bench_die (const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "bench: %s\n", message);
  if (current_env != NULL)
    {
      fprintf (stderr, "bench: logs are in %s\n", current_env->dir);
      if (current_env->daemon_pid > 0)
        kill (current_env->daemon_pid, SIGTERM);
      if (current_env->bus_pid > 0)
        kill (current_env->bus_pid, SIGTERM);
    }
  exit (1);
}

gint64
bench_now_us (void)
{
  return g_get_monotonic_time ();
}

double
bench_seconds (double fallback)
{
  const char *s = g_getenv ("BENCH_SECONDS");
  double v = s != NULL ? g_ascii_strtod (s, NULL) : 0;

  return v > 0 ? v : fallback;
}

gboolean
bench_is_wanted (const char *name)
{
  const char *only = g_getenv ("BENCH_ONLY");
  g_auto(GStrv) names = NULL;

  if (only == NULL || *only == '\0')
    return TRUE;
  names = g_strsplit (only, ",", -1);
  return g_strv_contains ((const char *const *) names, name);
}

/* ---- output ------------------------------------------------------------ */

void
bench_report (const char *name, double value, const char *unit)
{
  printf ("%s %.6g %s\n", name, value, unit);
  fflush (stdout);
}

void
bench_note (const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  printf ("# %s\n", message);
  fflush (stdout);
}

static gint
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

double
bench_percentile (GArray *samples, double p)
{
  gsize i;

  if (samples->len == 0)
    return 0;
  g_array_sort (samples, compare_double);
  i = (gsize) (p / 100.0 * (samples->len - 1) + 0.5);
  return g_array_index (samples, double, MIN (i, samples->len - 1));
}

/* ---- /proc ------------------------------------------------------------- */

static char *
proc_file (GPid pid, const char *name)
{
  g_autofree char *path = pid > 0 ? g_strdup_printf ("/proc/%d/%s", (int) pid, name)
                                  : g_strdup_printf ("/proc/self/%s", name);
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;
  return contents;
}

/* utime + stime of a /proc stat file's contents, in µs; *@comm (may be
 * NULL) gets the command name. */
static guint64
stat_cpu_us (const char *stat, char **comm)
{
  unsigned long long utime = 0, stime = 0;
  const char *open_paren, *after_comm;

  if (stat == NULL || (open_paren = strchr (stat, '(')) == NULL
      || (after_comm = strrchr (stat, ')')) == NULL)
    return 0;
  if (comm != NULL)
    *comm = g_strndup (open_paren + 1, after_comm - open_paren - 1);
  /* Fields 14 and 15, counted after the parenthesised command name. */
  if (sscanf (after_comm + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
              &utime, &stime) != 2)
    return 0;
  return (utime + stime) * G_USEC_PER_SEC / (guint64) sysconf (_SC_CLK_TCK);
}

guint64
bench_proc_cpu_us (GPid pid)
{
  g_autofree char *stat = proc_file (pid, "stat");

  return stat_cpu_us (stat, NULL);
}

guint64
bench_proc_threads_cpu_us (GPid pid, const char *comm)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/task", (int) pid);
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *tid;
  guint64 total = 0;

  while (dir != NULL && (tid = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *stat_path = g_build_filename (path, tid, "stat", NULL);
      g_autofree char *stat = NULL;
      g_autofree char *name = NULL;
      guint64 us;

      if (!g_file_get_contents (stat_path, &stat, NULL, NULL))
        continue;
      us = stat_cpu_us (stat, &name);
      if (g_strcmp0 (name, comm) == 0)
        total += us;
    }
  return total;
}

guint64
bench_proc_rss_kib (GPid pid)
{
  g_autofree char *status = proc_file (pid, "status");
  const char *line;
  unsigned long long kib = 0;

  if (status == NULL || (line = strstr (status, "\nVmRSS:")) == NULL)
    return 0;
  if (sscanf (line + 7, "%llu", &kib) != 1)
    return 0;
  return kib;
}

void
bench_cpu_sample (BenchEnv *env, BenchCpu *cpu)
{
  memset (cpu, 0, sizeof *cpu);
  cpu->self_us = bench_proc_cpu_us (0);
  if (env == NULL)
    return;
  cpu->daemon_us = bench_proc_cpu_us (env->daemon_pid);
  cpu->bus_us = bench_proc_cpu_us (env->bus_pid);
  /* The main thread has the program's name. */
  cpu->daemon_main_us = bench_proc_threads_cpu_us (env->daemon_pid, "sspid");
  cpu->daemon_gdbus_us = bench_proc_threads_cpu_us (env->daemon_pid, "gdbus");
}

void
bench_cpu_accumulate (BenchEnv *env, const BenchCpu *before, BenchCpu *total)
{
  BenchCpu now;

  bench_cpu_sample (env, &now);
  total->self_us += now.self_us - before->self_us;
  total->daemon_us += now.daemon_us - before->daemon_us;
  total->bus_us += now.bus_us - before->bus_us;
  total->daemon_main_us += now.daemon_main_us - before->daemon_main_us;
  total->daemon_gdbus_us += now.daemon_gdbus_us - before->daemon_gdbus_us;
}

static void
report_per_op (const char *prefix, const char *what, guint64 us, guint ops)
{
  g_autofree char *name = g_strconcat (prefix, what, NULL);

  bench_report (name, (double) us / ops, "us");
}

double
bench_cpu_report (const BenchCpu *total, guint ops, const char *prefix, gboolean with_daemon)
{
  guint64 front;

  if (ops == 0)
    return 0;
  report_per_op (prefix, "-cpu-client", total->self_us, ops);
  if (!with_daemon)
    return (double) total->self_us / ops;
  front = total->daemon_main_us + total->daemon_gdbus_us;
  report_per_op (prefix, "-cpu-sspid", total->daemon_us, ops);
  report_per_op (prefix, "-cpu-sspid-main", total->daemon_main_us, ops);
  report_per_op (prefix, "-cpu-sspid-gdbus", total->daemon_gdbus_us, ops);
  report_per_op (prefix, "-cpu-sspid-workers",
                 total->daemon_us > front ? total->daemon_us - front : 0, ops);
  report_per_op (prefix, "-cpu-bus", total->bus_us, ops);
  return (double) (total->self_us + total->daemon_us + total->bus_us) / ops;
}

/* ---- the private bus ----------------------------------------------------- */

char *
bench_pki_path (const char *file)
{
  const char *dir = g_getenv ("SSPID_TEST_PKI");

  if (dir == NULL || *dir == '\0' || !g_file_test (dir, G_FILE_TEST_IS_DIR))
    bench_die ("SSPID_TEST_PKI does not name the test PKI: run `make bench`, "
               "or `make tests/pki/.stamp` and set SSPID_TEST_PKI=$PWD/tests/pki");
  return g_build_filename (dir, file, NULL);
}

static char *
dup_user_name (void)
{
  struct passwd *pw = getpwuid (getuid ());

  if (pw == NULL)
    bench_die ("no passwd entry for uid %u", (unsigned) getuid ());
  return g_strdup (pw->pw_name);
}

static void
write_file (const char *path, const char *contents)
{
  g_autoptr(GError) error = NULL;

  if (!g_file_set_contents (path, contents, -1, &error))
    bench_die ("cannot write %s: %s", path, error->message);
}

static char *
write_bus_policy (const char *dir, const char *user)
{
  g_autofree char *policy = NULL;
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (dir, "org.sspid1.conf", NULL);
  GString *text;

  if (!g_file_get_contents (SSPID_BUS_POLICY, &policy, NULL, &error))
    bench_die ("cannot read the bus policy %s: %s", SSPID_BUS_POLICY, error->message);
  text = g_string_new (policy);
  g_string_replace (text, "@SSPID_USER@", user, 0);
  write_file (path, text->str);
  g_string_free (text, TRUE);
  return path;
}

/* testutil.c's system-bus-like config, plus the limits and the Bench name. */
static char *
bus_config (const char *dir)
{
  g_autofree char *user = dup_user_name ();
  g_autofree char *policy = write_bus_policy (dir, user);
  g_autofree char *socket = g_build_filename (dir, "bus", NULL);

  return g_markup_printf_escaped (
    "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
    " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
    "<busconfig>\n"
    "  <type>custom</type>\n"
    "  <listen>unix:path=%s</listen>\n"
    "  <auth>EXTERNAL</auth>\n"
    "  <limit name=\"max_connections_per_user\">4096</limit>\n"
    "  <limit name=\"max_completed_connections\">4096</limit>\n"
    "  <limit name=\"max_incomplete_connections\">1024</limit>\n"
    "  <limit name=\"max_replies_per_connection\">16384</limit>\n"
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
    "    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus.Peer\"/>\n"
    "    <allow own=\"org.sspid1.Bench\"/>\n"
    "    <allow send_destination=\"org.sspid1.Bench\"/>\n"
    "  </policy>\n"
    "  <policy user=\"%s\">\n"
    "    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus.Monitoring\"/>\n"
    "  </policy>\n"
    "  <include ignore_missing=\"no\">%s</include>\n"
    "</busconfig>\n",
    socket, user, policy);
}

/* In the bus's and the daemon's child, before exec: they get SIGTERM when
 * we die, however we die (a benchmark interrupted with ^C included). */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static char *
read_line (int fd)
{
  gint64 deadline = bench_now_us () + START_TIMEOUT_US;
  GString *line = g_string_new (NULL);

  while (strchr (line->str, '\n') == NULL && bench_now_us () < deadline)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      char buf[256];
      ssize_t n;

      if (poll (&pfd, 1, 100) <= 0)
        continue;
      n = read (fd, buf, sizeof buf);
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

static void
start_bus (BenchEnv *env)
{
  g_autofree char *config = bus_config (env->dir);
  g_autofree char *config_path = g_build_filename (env->dir, "bus.conf", NULL);
  g_autofree char *config_arg = g_strconcat ("--config-file=", config_path, NULL);
  g_autofree char *log_path = g_build_filename (env->dir, "bus.log", NULL);
  const char *argv[] = { "dbus-daemon", config_arg, "--nofork", "--print-address=3", NULL };
  g_autoptr(GError) error = NULL;
  int address_pipe[2];
  int target_fd = 3;
  int log_fd;

  write_file (config_path, config);
  if (!g_unix_open_pipe (address_pipe, FD_CLOEXEC, &error))
    bench_die ("pipe: %s", error->message);
  log_fd = open (log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log_fd < 0)
    bench_die ("cannot open %s: %s", log_path, g_strerror (errno));
  if (!g_spawn_async_with_pipes_and_fds (NULL, argv, NULL,
                                         G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                                         die_with_parent, NULL, -1, log_fd, log_fd,
                                         &address_pipe[1], &target_fd, 1,
                                         &env->bus_pid, NULL, NULL, NULL, &error))
    bench_die ("cannot start dbus-daemon: %s", error->message);
  close (address_pipe[1]);
  close (log_fd);
  env->bus_address = read_line (address_pipe[0]);
  close (address_pipe[0]);
  if (env->bus_address == NULL || *env->bus_address == '\0')
    bench_die ("dbus-daemon did not print its address (see %s)", log_path);
}

/* ---- the daemon ---------------------------------------------------------- */

static void
write_daemon_config (BenchEnv *env, const char *path, const BenchLimits *limits)
{
  g_autofree char *ca = bench_pki_path ("ca.pem");
  g_autofree char *pem = bench_pki_path ("server.pem");
  g_autofree char *key = bench_pki_path ("server.key");
  guint contexts = limits != NULL && limits->max_contexts ? limits->max_contexts : 100000;
  guint pending = limits != NULL && limits->max_pending ? limits->max_pending : 4096;
  g_autofree char *text = g_strdup_printf (
    "[daemon]\n"
    "default-trust=%s\n"
    "max-contexts-per-user=%u\n"
    "max-contexts-per-connection=%u\n"
    "max-pending-per-connection=%u\n"
    "handshake-timeout-sec=600\n"
    "\n"
    "[credential server]\n"
    "certificate=%s\n"
    "key=%s\n"
    "usage=inbound\n"
    "users=%u\n",
    ca, contexts, contexts, pending, pem, key, (unsigned) getuid ());

  write_file (path, text);
}

GDBusConnection *
bench_env_connect (BenchEnv *env)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *connection;

  connection = g_dbus_connection_new_for_address_sync (
    env->bus_address,
    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
      | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
    NULL, NULL, &error);
  if (connection == NULL)
    bench_die ("cannot connect to %s: %s", env->bus_address, error->message);
  g_dbus_connection_set_exit_on_close (connection, FALSE);
  return connection;
}

static guint32
peek_name_owner_pid (GDBusConnection *connection)
{
  g_autoptr(GVariant) reply = NULL;
  guint32 pid = 0;

  reply = g_dbus_connection_call_sync (connection, "org.freedesktop.DBus",
                                       "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "GetConnectionUnixProcessID",
                                       g_variant_new ("(s)", SSPID_BUS_NAME),
                                       G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE,
                                       5000, NULL, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(u)", &pid);
  return pid;
}

static void
start_daemon (BenchEnv *env, const BenchLimits *limits)
{
  g_autofree char *config_path = g_build_filename (env->dir, "sspid.conf", NULL);
  g_autofree char *log_path = g_build_filename (env->dir, "sspid.log", NULL);
  const char *argv[] = { SSPID_BINARY, "--address", env->bus_address,
                         "--config", config_path, NULL };
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  gint64 deadline = bench_now_us () + START_TIMEOUT_US;
  int log_fd;

  write_daemon_config (env, config_path, limits);
  log_fd = open (log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log_fd < 0)
    bench_die ("cannot open %s: %s", log_path, g_strerror (errno));
  if (!g_spawn_async_with_pipes_and_fds (env->dir, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                         die_with_parent, NULL, -1, log_fd, log_fd, NULL, NULL, 0,
                                         &env->daemon_pid, NULL, NULL, NULL, &error))
    bench_die ("cannot start %s: %s", SSPID_BINARY, error->message);
  close (log_fd);

  connection = bench_env_connect (env);
  while (peek_name_owner_pid (connection) != (guint32) env->daemon_pid)
    {
      int status;

      if (waitpid (env->daemon_pid, &status, WNOHANG) == env->daemon_pid)
        bench_die ("sspid exited before owning its name (see %s)", log_path);
      if (bench_now_us () > deadline)
        bench_die ("sspid did not own its name in time (see %s)", log_path);
      g_usleep (10000);
    }
  g_dbus_connection_close_sync (connection, NULL, NULL);
}

/* Enough descriptors for S1's thousand connections. */
static void
raise_fd_limit (void)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }
}

BenchEnv *
bench_env_start (const BenchLimits *limits)
{
  g_autoptr(GError) error = NULL;
  BenchEnv *env = g_new0 (BenchEnv, 1);

  raise_fd_limit ();
  env->dir = g_dir_make_tmp ("sspid-bench-XXXXXX", &error);
  if (env->dir == NULL)
    bench_die ("cannot make a temp dir: %s", error->message);
  current_env = env;
  start_bus (env);
  g_setenv (SSPID_BUS_ADDRESS_ENV, env->bus_address, TRUE);
  start_daemon (env, limits);
  return env;
}

static void
stop_process (GPid pid)
{
  int status;

  if (pid <= 0)
    return;
  kill (pid, SIGTERM);
  for (int i = 0; i < 500; i++)
    {
      if (waitpid (pid, &status, WNOHANG) == pid)
        return;
      g_usleep (10000);
    }
  kill (pid, SIGKILL);
  waitpid (pid, &status, 0);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      g_unlink (child);
    }
  g_rmdir (path);
}

void
bench_env_stop (BenchEnv *env)
{
  if (env == NULL)
    return;
  current_env = NULL;
  stop_process (env->daemon_pid);
  stop_process (env->bus_pid);
  if (g_getenv ("BENCH_KEEP") != NULL)
    bench_note ("keeping %s", env->dir);
  else
    remove_tree (env->dir);
  g_free (env->dir);
  g_free (env->bus_address);
  g_free (env);
}
