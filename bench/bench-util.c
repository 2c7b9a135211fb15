/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared benchmark plumbing (see bench-util.h).  The private bus is the
 * tests' own (tests/testbus.c: system-bus default policy plus the
 * project's real policy), so the bus does the policy work a system bus
 * would; its connection limits are raised for S1's thousand connections,
 * and one extra name, org.sspid1.Bench, may be owned and called: the
 * trivial GDBus server that L1 compares sspid with.
 */
#include "config.h"

#include "bench-util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sspid-proto.h"
#include "testbus.h"

#ifndef SSPID_BINARY
#error "SSPID_BINARY must name the built daemon (see bench/Makefile.inc)"
#endif

#define START_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS  5000

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

static void
write_file (const char *path, const char *contents)
{
  g_autoptr(GError) error = NULL;

  if (!g_file_set_contents (path, contents, -1, &error))
    bench_die ("cannot write %s: %s", path, error->message);
}

/* The tests' bus (tests/testbus.c), with what S1's thousand connections
 * need and the name L1's trivial GDBus server owns. */
static const char bench_bus_limits[] =
  "  <limit name=\"max_connections_per_user\">4096</limit>\n"
  "  <limit name=\"max_completed_connections\">4096</limit>\n"
  "  <limit name=\"max_incomplete_connections\">1024</limit>\n"
  "  <limit name=\"max_replies_per_connection\">16384</limit>\n";
static const char bench_bus_policy[] =
  "    <allow own=\"org.sspid1.Bench\"/>\n"
  "    <allow send_destination=\"org.sspid1.Bench\"/>\n";

static void
start_bus (BenchEnv *env)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *policy = tb_write_bus_policy (env->dir, &error);
  TbBusOptions options = {
    .policy_path = policy,
    .extra_config = bench_bus_limits,
    .extra_policy = bench_bus_policy,
    .is_dying_with_parent = TRUE,
  };
  g_autoptr(TbBus) bus = NULL;

  if (policy == NULL)
    bench_die ("cannot write the bus policy: %s", error->message);
  bus = tb_bus_start (env->dir, &options, START_TIMEOUT_MS, &error);
  if (bus == NULL)
    bench_die ("%s", error->message);
  env->bus_pid = bus->pid;
  env->bus_address = g_steal_pointer (&bus->address);
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
  GDBusConnection *connection = tb_connect (env->bus_address, &error);

  if (connection == NULL)
    bench_die ("%s", error->message);
  return connection;
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
  int log_fd;

  write_daemon_config (env, config_path, limits);
  log_fd = open (log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log_fd < 0)
    bench_die ("cannot open %s: %s", log_path, g_strerror (errno));
  if (!g_spawn_async_with_pipes_and_fds (env->dir, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                         tb_die_with_parent, NULL, -1, log_fd, log_fd,
                                         NULL, NULL, 0, &env->daemon_pid, NULL, NULL, NULL,
                                         &error))
    bench_die ("cannot start %s: %s", SSPID_BINARY, error->message);
  close (log_fd);

  connection = bench_env_connect (env);
  if (!tb_wait_for_name_owner (connection, SSPID_BUS_NAME, env->daemon_pid, FALSE,
                               START_TIMEOUT_MS, NULL, &error))
    {
      if (g_error_matches (error, TB_ERROR, TB_ERROR_EXITED))
        env->daemon_pid = 0;
      bench_die ("sspid %s (see %s)", error->message, log_path);
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

void
bench_env_stop (BenchEnv *env)
{
  int status;

  if (env == NULL)
    return;
  current_env = NULL;
  tb_stop_process (env->daemon_pid, SIGTERM, STOP_TIMEOUT_MS, &status);
  tb_stop_process (env->bus_pid, SIGTERM, STOP_TIMEOUT_MS, &status);
  if (g_getenv ("BENCH_KEEP") != NULL)
    bench_note ("keeping %s", env->dir);
  else
    tb_remove_tree (env->dir);
  g_free (env->dir);
  g_free (env->bus_address);
  g_free (env);
}
