/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the tests (see testutil.h): the test PKI, a private
 * dbus-daemon configured like the system bus whose config includes the
 * project's real bus policy, the real sspid on that bus, and loopback TCP
 * plumbing for real TLS peers.
 *
 * Tests run under check's fork mode, so every failure here ends the test
 * through ck_abort_msg() after saying what went wrong on stderr.  Nothing
 * relies on atexit(): the processes we spawn stay in the test's process
 * group, which check kills when the test's child process ends, so a
 * failing test does not leave a bus or a daemon behind.
 */
#include "config.h"

#include "testutil.h"
#include "testbus.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sspid-proto.h"

#ifndef SSPID_BINARY
#error "SSPID_BINARY must name the built daemon (see tests/Makefile.inc)"
#endif

/* How long the bus and the daemon get to start or stop.  Generous because
 * CI machines are slow and a daemon wrapper (valgrind) is slower still. */
#define START_TIMEOUT_MS         10000
#define WRAPPED_START_TIMEOUT_MS 60000
#define STOP_TIMEOUT_MS          10000
#define POLL_INTERVAL_US         10000

/* Set to keep the env's temp dir (configs and logs) after tu_env_stop(). */
#define KEEP_ENV           "SSPID_TEST_KEEP"

static G_NORETURN G_GNUC_PRINTF (1, 2) void
tu_die (const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);

  /* Said twice on purpose: check records the message with the test
   * result, stderr puts it next to the logs we may have just printed. */
  g_printerr ("testutil: %s\n", message);
  ck_abort_msg ("%s", message);
  abort (); /* in case check's failure function returns (no-fork mode) */
}

/* ---- test PKI ---------------------------------------------------------- */

char *
tu_pki_path (const char *file)
{
  const char *dir = g_getenv ("SSPID_TEST_PKI");

  if (dir == NULL || *dir == '\0')
    tu_die ("SSPID_TEST_PKI is not set: run the tests through `make check`, "
            "or `make tests/pki/.stamp` and set SSPID_TEST_PKI=$PWD/tests/pki");
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    tu_die ("SSPID_TEST_PKI=%s is not a directory (run `make tests/pki/.stamp`)", dir);
  return g_build_filename (dir, file, NULL);
}

char *
tu_pki_copy_dir (void)
{
  static const char *const files[] = { "ca.pem", "server.pem", "server.key", "client.key",
                                       "expired.pem", "expired.key" };
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("sspid-pki-XXXXXX", &error);

  if (dir == NULL)
    tu_die ("cannot make a directory: %s", error->message);
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *from = tu_pki_path (files[i]);
      g_autofree char *to = g_build_filename (dir, files[i], NULL);
      g_autofree char *data = NULL;
      gsize len;

      if (!g_file_get_contents (from, &data, &len, NULL) ||
          !g_file_set_contents_full (to, data, len, G_FILE_SET_CONTENTS_NONE, 0600, NULL))
        tu_die ("cannot copy %s to %s", from, to);
    }
  return dir;
}

GBytes *
tu_pki_cert_der (const char *file)
{
  static const char begin_line[] = "-----BEGIN CERTIFICATE-----";
  g_autofree char *path = tu_pki_path (file);
  g_autofree char *pem = NULL;
  g_autofree char *b64 = NULL;
  const char *begin, *end;
  guchar *der;
  gsize len;

  if (!g_file_get_contents (path, &pem, NULL, NULL))
    tu_die ("cannot read %s", path);
  begin = strstr (pem, begin_line);
  end = begin != NULL ? strstr (begin, "-----END CERTIFICATE-----") : NULL;
  if (end == NULL)
    tu_die ("no certificate in %s", path);
  begin += strlen (begin_line);
  b64 = g_strndup (begin, end - begin);
  der = g_base64_decode (b64, &len);
  return g_bytes_new_take (der, len);
}

/* ---- small process and file helpers ------------------------------------ */

char *
tu_dup_user_name (void)
{
  g_autoptr(GError) error = NULL;
  char *user = tb_dup_user_name (&error);

  if (user == NULL)
    tu_die ("%s (sspictl needs one too)", error->message);
  return user;
}

/* Whether the process ended the way stopping it with @signo should end it:
 * killed by @signo, or a clean exit (a daemon that handles SIGTERM). */
static gboolean
is_expected_end (int status, int signo)
{
  if (WIFEXITED (status))
    return WEXITSTATUS (status) == 0;
  return WIFSIGNALED (status) && WTERMSIG (status) == signo;
}

/* Sends @signo and reaps; a process that outlives the timeout gets SIGKILL
 * and the answer FALSE.  *status is -1 when it could not be known. */
static gboolean
stop_process (GPid pid, int signo, int *status)
{
  return tb_stop_process (pid, signo, STOP_TIMEOUT_MS, status);
}

static int
open_log (const char *path)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

  if (fd < 0)
    tu_die ("cannot open %s: %s", path, g_strerror (errno));
  return fd;
}

static void
dump_file (const char *what, const char *path)
{
  g_autofree char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    contents = g_strdup ("(no log)\n");
  g_printerr ("---- %s (%s) ----\n%s---- end of %s ----\n", what, path,
              contents, what);
}

void
tu_remove_tree (const char *path)
{
  tb_remove_tree (path);
}

static void
write_file (const char *path, const char *contents)
{
  g_autoptr(GError) error = NULL;

  if (!g_file_set_contents (path, contents, -1, &error))
    tu_die ("cannot write %s: %s", path, error->message);
}

/* ---- the private bus --------------------------------------------------- */

char *
tu_write_bus_policy (const char *dir)
{
  static gboolean warned;
  g_autoptr(GError) error = NULL;
  char *path = tb_write_bus_policy (dir, &error);

  if (path != NULL)
    return path;
  if (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    tu_die ("cannot write the bus policy: %s", error->message);
  if (!warned)
    g_printerr ("testutil: WARNING: %s; the test bus runs WITHOUT the project's "
                "policy, so sspid cannot own its name\n", error->message);
  warned = TRUE;
  return NULL;
}

static void
start_bus (TuEnv *env)
{
  g_autofree char *policy = tu_write_bus_policy (env->dir);
  TbBusOptions options = { .policy_path = policy };
  g_autoptr(TbBus) bus = NULL;
  g_autoptr(GError) error = NULL;

  bus = tb_bus_start (env->dir, &options, START_TIMEOUT_MS, &error);
  if (bus == NULL)
    {
      g_autofree char *log_path = g_build_filename (env->dir, TB_BUS_LOG_FILE, NULL);

      dump_file ("dbus-daemon log", log_path);
      tu_die ("%s", error->message);
    }
  env->bus_pid = bus->pid;
  env->bus_address = g_steal_pointer (&bus->address);
}

/* ---- the daemon -------------------------------------------------------- */

static GDBusConnection *
connect_bus (TuEnv *env)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *connection = tb_connect (env->bus_address, &error);

  if (connection == NULL)
    tu_die ("%s", error->message);
  return connection;
}

/* The pid of whoever owns org.sspid1, 0 if nobody does. */
static guint32
peek_name_owner_pid (GDBusConnection *connection)
{
  g_autoptr(GError) error = NULL;
  guint32 pid;

  if (!tb_peek_name_owner_pid (connection, SSPID_BUS_NAME, &pid, &error))
    tu_die ("%s", error->message);
  return pid;
}

static char *
daemon_log_path (TuEnv *env)
{
  return g_build_filename (env->dir, "sspid.log", NULL);
}

char **
tu_sspid_argv (const char *const *args)
{
  const char *wrapper = g_getenv (TU_DAEMON_WRAPPER_ENV);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) wrapper_argv = NULL;

  if (wrapper != NULL && *wrapper != '\0')
    {
      if (!g_shell_parse_argv (wrapper, NULL, &wrapper_argv, &error))
        tu_die ("%s: %s", TU_DAEMON_WRAPPER_ENV, error->message);
      g_strv_builder_addv (builder, (const char **) wrapper_argv);
    }
  g_strv_builder_add (builder, SSPID_BINARY);
  g_strv_builder_addv (builder, (const char **) args);
  return g_strv_builder_end (builder);
}

static char **
daemon_argv (TuEnv *env)
{
  const char *const args[] = { "--address", env->bus_address, "--config", env->config_path,
                               "--verbose", NULL };

  return tu_sspid_argv (args);
}

/* The daemon's environment: ours, with criticals fatal so that a
 * g_critical() in sspid fails the test instead of scrolling past. */
static char **
daemon_envp (void)
{
  char **envp = g_get_environ ();
  const char *debug = g_environ_getenv (envp, "G_DEBUG");
  g_autofree char *value = NULL;

  value = debug != NULL && *debug != '\0'
          ? g_strconcat (debug, ",fatal-criticals", NULL)
          : g_strdup ("fatal-criticals");
  return g_environ_setenv (envp, "G_DEBUG", value, TRUE);
}

static G_NORETURN void
daemon_failed (TuEnv *env, const char *what)
{
  g_autofree char *log_path = daemon_log_path (env);

  dump_file ("sspid log", log_path);
  tu_die ("sspid %s (log above; env dir %s)", what, env->dir);
}

/* Waits until the daemon we started owns org.sspid1, failing fast if it
 * dies first. */
static void
wait_for_daemon (TuEnv *env)
{
  g_autoptr(GDBusConnection) connection = connect_bus (env);
  g_autoptr(GError) error = NULL;
  guint timeout_ms = tu_is_wrapped () ? WRAPPED_START_TIMEOUT_MS : START_TIMEOUT_MS;
  int ignored;

  /* A wrapper may run the daemon under another pid: any owner will do. */
  if (tb_wait_for_name_owner (connection, SSPID_BUS_NAME, env->daemon_pid, tu_is_wrapped (),
                              timeout_ms, NULL, &error))
    {
      g_dbus_connection_close_sync (connection, NULL, NULL);
      return;
    }
  if (g_error_matches (error, TB_ERROR, TB_ERROR_TIMEOUT))
    stop_process (env->daemon_pid, SIGKILL, &ignored);
  else if (!g_error_matches (error, TB_ERROR, TB_ERROR_EXITED))
    tu_die ("%s", error->message);
  env->daemon_pid = 0;
  daemon_failed (env, error->message);
}

/* After the daemon died the bus drops its name on its own time; wait for
 * that so the next step sees "no daemon", not a stale owner. */
static void
wait_for_name_gone (TuEnv *env)
{
  g_autoptr(GDBusConnection) connection = connect_bus (env);
  gint64 deadline = tb_deadline_after (STOP_TIMEOUT_MS);

  while (peek_name_owner_pid (connection) != 0)
    {
      if (tb_is_past (deadline))
        tu_die ("%s still has an owner after the daemon died", SSPID_BUS_NAME);
      g_usleep (POLL_INTERVAL_US);
    }
  g_dbus_connection_close_sync (connection, NULL, NULL);
}

void
tu_env_start_daemon (TuEnv *env)
{
  g_autofree char *log_path = daemon_log_path (env);
  g_auto(GStrv) argv = daemon_argv (env);
  g_auto(GStrv) envp = daemon_envp ();
  g_autoptr(GError) error = NULL;
  g_autofree char *banner = NULL;
  int log_fd;

  if (env->daemon_pid > 0)
    tu_die ("tu_env_start_daemon: sspid is already running (pid %d)", (int) env->daemon_pid);
  if (!tu_is_wrapped () && !g_file_test (SSPID_BINARY, G_FILE_TEST_IS_EXECUTABLE))
    tu_die ("%s is not built (make daemon/sspid)", SSPID_BINARY);

  /* The log keeps every run of this env; mark where this one starts. */
  log_fd = open_log (log_path);
  banner = g_strdup_printf ("==== testutil: starting sspid with %s ====\n", env->config_path);
  if (write (log_fd, banner, strlen (banner)) < 0)
    tu_die ("cannot write %s: %s", log_path, g_strerror (errno));

  if (!g_spawn_async_with_pipes_and_fds (env->dir, (const char *const *) argv,
                                         (const char *const *) envp,
                                         G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH,
                                         NULL, NULL, -1, log_fd, log_fd, NULL, NULL, 0,
                                         &env->daemon_pid, NULL, NULL, NULL, &error))
    tu_die ("cannot start %s: %s", argv[0], error->message);
  close (log_fd);

  wait_for_daemon (env);
}

void
tu_env_kill_daemon (TuEnv *env, int signo)
{
  int status;
  gboolean timely;

  if (env->daemon_pid <= 0)
    tu_die ("tu_env_kill_daemon: sspid is not running");

  timely = stop_process (env->daemon_pid, signo, &status);
  env->daemon_pid = 0;
  if (!timely)
    daemon_failed (env, "did not exit in time and was killed with SIGKILL");
  if (status != -1 && !is_expected_end (status, signo))
    {
      /* It had already died some other way (a crash the test did not cause). */
      g_autofree char *how = tb_describe_status (status);
      daemon_failed (env, how);
    }
  wait_for_name_gone (env);
}

char *
tu_env_daemon_log (TuEnv *env)
{
  g_autofree char *path = daemon_log_path (env);
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return g_strdup ("");
  return contents;
}

/* ---- the daemon's config ----------------------------------------------- */

typedef struct {
  const char *name;
  const char *files;        /* stem of the .pem/.key pair in the test PKI */
  const char *usage;
  const char *client_auth;  /* NULL: the daemon's default */
} StandardCredential;

static const StandardCredential standard_credentials[] = {
  { "server",    "server",    "inbound",  NULL },
  { "client",    "client",    "outbound", NULL },
  { "expired",   "expired",   "inbound",  NULL },
  { "wrongname", "wrongname", "inbound",  NULL },
  { "untrusted", "untrusted", "inbound",  NULL },
  { "rsa",       "rsa",       "inbound",  NULL },
  { "mtls",      "server",    "inbound",  "require" },
  { "both",      "server",    "both",     NULL },
};

static GKeyFile *
standard_config (void)
{
  g_autoptr(GKeyFile) config = g_key_file_new ();
  g_autofree char *ca = tu_pki_path ("ca.pem");
  g_autofree char *uid = g_strdup_printf ("%u", (unsigned) getuid ());

  g_key_file_set_string (config, "daemon", "default-trust", ca);
  for (gsize i = 0; i < G_N_ELEMENTS (standard_credentials); i++)
    {
      const StandardCredential *cred = &standard_credentials[i];
      g_autofree char *group = g_strconcat ("credential ", cred->name, NULL);
      g_autofree char *pem = g_strconcat (cred->files, ".pem", NULL);
      g_autofree char *key = g_strconcat (cred->files, ".key", NULL);
      g_autofree char *pem_path = tu_pki_path (pem);
      g_autofree char *key_path = tu_pki_path (key);

      g_key_file_set_string (config, group, "certificate", pem_path);
      g_key_file_set_string (config, group, "key", key_path);
      g_key_file_set_string (config, group, "usage", cred->usage);
      if (cred->client_auth != NULL)
        g_key_file_set_string (config, group, "client-auth", cred->client_auth);
      g_key_file_set_string (config, group, "users", uid);
    }
  return g_steal_pointer (&config);
}

/* Sets every key of @extra into @config, so a test can override a standard
 * key ([daemon] default-trust) as well as add groups and keys.  Values are
 * copied raw, escapes and lists included. */
static void
merge_config (GKeyFile *config, GKeyFile *extra)
{
  g_auto(GStrv) groups = g_key_file_get_groups (extra, NULL);

  for (gsize i = 0; groups[i] != NULL; i++)
    {
      g_auto(GStrv) keys = g_key_file_get_keys (extra, groups[i], NULL, NULL);

      for (gsize j = 0; keys != NULL && keys[j] != NULL; j++)
        {
          g_autofree char *value = g_key_file_get_value (extra, groups[i], keys[j], NULL);
          g_key_file_set_value (config, groups[i], keys[j], value);
        }
    }
}

void
tu_env_write_config (TuEnv *env, const char *extra_config)
{
  g_autoptr(GKeyFile) config = standard_config ();
  g_autoptr(GKeyFile) extra = g_key_file_new ();
  g_autofree char *data = NULL;
  g_autofree char *merged = NULL;

  if (extra_config == NULL)
    extra_config = "";

  if (g_key_file_load_from_data (extra, extra_config, -1, G_KEY_FILE_NONE, NULL))
    {
      merge_config (config, extra);
      data = g_key_file_to_data (config, NULL, NULL);
      write_file (env->config_path, data);
      return;
    }

  /* Not a key file: the test means to feed the daemon a broken config,
   * so give it exactly that, after the standard part. */
  data = g_key_file_to_data (config, NULL, NULL);
  merged = g_strconcat (data, "\n", extra_config, NULL);
  write_file (env->config_path, merged);
}

/* ---- the env ----------------------------------------------------------- */

/* Envs not stopped yet, for the exit-time safety net below. */
static GSList *live_envs;
static pid_t live_envs_owner;

/* A test that fails without fork mode (CK_FORK=no, e.g. under valgrind)
 * ends by exit() with its env still running; check's process-group kill
 * does not happen then, so kill the bus and daemon here.  The files stay
 * for the post-mortem.  Only in the process that started the envs: a
 * forked child of a test exiting must not take the parent's env down. */
static void
kill_live_envs (void)
{
  if (getpid () != live_envs_owner)
    return;
  for (GSList *l = live_envs; l != NULL; l = l->next)
    {
      TuEnv *env = l->data;

      if (env->daemon_pid > 0)
        kill (env->daemon_pid, SIGKILL);
      if (env->bus_pid > 0)
        kill (env->bus_pid, SIGKILL);
      g_printerr ("testutil: test ended without tu_env_stop(); files left in %s\n",
                  env->dir);
    }
}

static void
track_env (TuEnv *env)
{
  static gboolean registered;

  if (live_envs_owner != getpid ())
    {
      /* A fresh test process (check forks one per test): what the list
       * held belongs to the parent. */
      g_slist_free (live_envs);
      live_envs = NULL;
      live_envs_owner = getpid ();
    }
  if (!registered)
    atexit (kill_live_envs);
  registered = TRUE;
  live_envs = g_slist_prepend (live_envs, env);
}

TuEnv *
tu_env_start (const char *extra_config)
{
  g_autoptr(GError) error = NULL;
  TuEnv *env = g_new0 (TuEnv, 1);

  env->dir = g_dir_make_tmp ("sspid-test-XXXXXX", &error);
  if (env->dir == NULL)
    tu_die ("cannot make a temp dir: %s", error->message);
  track_env (env);
  /* Others may reach the bus socket (tests that switch to another uid to
   * prove the policy) but not list what else is here. */
  if (chmod (env->dir, 0711) < 0)
    tu_die ("chmod %s: %s", env->dir, g_strerror (errno));

  start_bus (env);
  g_setenv (SSPID_BUS_ADDRESS_ENV, env->bus_address, TRUE);

  env->config_path = g_build_filename (env->dir, "sspid.conf", NULL);
  tu_env_write_config (env, extra_config);
  tu_env_start_daemon (env);
  return env;
}

void
tu_env_stop (TuEnv *env)
{
  g_autofree char *problem = NULL;
  int status;

  if (env == NULL)
    return;
  live_envs = g_slist_remove (live_envs, env);

  if (env->daemon_pid > 0)
    {
      if (!stop_process (env->daemon_pid, SIGTERM, &status))
        problem = g_strdup ("sspid did not exit after SIGTERM and was killed with SIGKILL");
      else if (status != -1 && !is_expected_end (status, SIGTERM))
        {
          g_autofree char *how = tb_describe_status (status);
          problem = g_strdup_printf ("sspid %s", how);
        }
      env->daemon_pid = 0;
    }
  if (problem != NULL)
    {
      g_autofree char *log_path = daemon_log_path (env);
      dump_file ("sspid log", log_path);
    }

  if (env->bus_pid > 0)
    stop_process (env->bus_pid, SIGTERM, &status);

  if (g_strcmp0 (g_getenv (SSPID_BUS_ADDRESS_ENV), env->bus_address) == 0)
    g_unsetenv (SSPID_BUS_ADDRESS_ENV);

  if (g_getenv (KEEP_ENV) != NULL)
    g_printerr ("testutil: keeping %s\n", env->dir);
  else
    tu_remove_tree (env->dir);

  g_free (env->dir);
  g_free (env->bus_address);
  g_free (env->config_path);
  g_free (env);

  /* Last, so that a failing shutdown still cleans up. */
  if (problem != NULL)
    tu_die ("%s", problem);
}

/* ---- the shared fixture and suite plumbing ---------------------------- */

TuEnv *tu_fixture_env;

void
tu_fixture_setup (void)
{
  tu_fixture_setup_with (NULL);
}

void
tu_fixture_setup_with (const char *extra_config)
{
  tu_fixture_env = tu_env_start (extra_config);
}

void
tu_fixture_teardown (void)
{
  g_clear_pointer (&tu_fixture_env, tu_env_stop);
}

void
tu_suite_add_cases (Suite *suite, const TuCase *cases, gsize n_cases)
{
  for (gsize i = 0; i < n_cases; i++)
    {
      TCase *tc = tcase_create (cases[i].name);

      if (cases[i].setup != NULL || cases[i].teardown != NULL)
        tcase_add_checked_fixture (tc, cases[i].setup, cases[i].teardown);
      if (cases[i].timeout_sec > 0)
        tcase_set_timeout (tc, cases[i].timeout_sec);
      for (gsize j = 0; j < G_N_ELEMENTS (cases[i].tests) && cases[i].tests[j].test != NULL; j++)
        {
          const TuTest *t = &cases[i].tests[j];

          if (t->loops > 0)
            tcase_add_loop_test (tc, t->test, 0, t->loops);
          else
            tcase_add_test (tc, t->test);
        }
      suite_add_tcase (suite, tc);
    }
}

int
tu_run_cases (const char *name, const TuCase *cases, gsize n_cases)
{
  Suite *suite = suite_create (name);

  tu_suite_add_cases (suite, cases, n_cases);
  return tu_run_suite (suite);
}

int
tu_run_suite (Suite *suite)
{
  SRunner *sr = srunner_create (suite);
  int failed;

  srunner_run_all (sr, CK_ENV);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ---- a flag across threads --------------------------------------------- */

void
tu_flag_raise (TuFlag *flag)
{
  g_mutex_lock (&flag->lock);
  flag->is_raised = TRUE;
  g_cond_signal (&flag->cond);
  g_mutex_unlock (&flag->lock);
}

gboolean
tu_flag_wait (TuFlag *flag, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  gboolean was_raised;

  g_mutex_lock (&flag->lock);
  while (!flag->is_raised && g_cond_wait_until (&flag->cond, &flag->lock, deadline))
    ;
  was_raised = flag->is_raised;
  flag->is_raised = FALSE;
  g_mutex_unlock (&flag->lock);
  return was_raised;
}

/* ---- TCP --------------------------------------------------------------- */

static struct sockaddr_in
loopback (guint16 port)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (port) };

  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  return sin;
}

guint16
tu_free_port (void)
{
  struct sockaddr_in sin = loopback (0);
  socklen_t len = sizeof sin;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    tu_die ("socket: %s", g_strerror (errno));
  if (bind (fd, (struct sockaddr *) &sin, sizeof sin) < 0
      || getsockname (fd, (struct sockaddr *) &sin, &len) < 0)
    tu_die ("bind 127.0.0.1:0: %s", g_strerror (errno));
  close (fd);
  return ntohs (sin.sin_port);
}

int
tu_connect (guint16 port)
{
  struct sockaddr_in sin = loopback (port);
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return -1;
  while (connect (fd, (struct sockaddr *) &sin, sizeof sin) < 0)
    {
      if (errno == EINTR)
        continue;
      close (fd);
      return -1;
    }
  return fd;
}

/* Whether /proc/net/@table lists a socket listening on @port at an address
 * that takes connections to 127.0.0.1.  -1 if the table cannot be read. */
static int
is_listed_listening (const char *table, guint16 port)
{
  g_autofree char *path = g_build_filename ("/proc/net", table, NULL);
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return -1;
  lines = g_strsplit (contents, "\n", -1);
  for (gsize i = 1; lines[i] != NULL; i++)
    {
      char local[64], remote[64];
      unsigned local_port, remote_port, state;

      if (sscanf (lines[i], " %*u: %63[0-9A-Fa-f]:%x %63[0-9A-Fa-f]:%x %x",
                  local, &local_port, remote, &remote_port, &state) != 5)
        continue;
      if (state != 0x0A /* TCP_LISTEN */ || local_port != port)
        continue;
      if (strcmp (local, "0100007F") == 0 || strcmp (local, "00000000") == 0
          || strcmp (local, "00000000000000000000000000000000") == 0
          || strcmp (local, "0000000000000000FFFF00000100007F") == 0)
        return 1;
    }
  return 0;
}

gboolean
tu_wait_port (guint16 port, guint timeout_ms)
{
  gint64 deadline = tb_deadline_after (tu_scaled_ms (timeout_ms));

  for (;;)
    {
      int v4 = is_listed_listening ("tcp", port);
      int v6 = is_listed_listening ("tcp6", port);

      if (v4 == 1 || v6 == 1)
        return TRUE;
      /* Without /proc, probe by connecting.  Only then: a probe uses up
       * an accept of servers that serve a single connection. */
      if (v4 < 0 && v6 < 0)
        {
          int fd = tu_connect (port);
          if (fd >= 0)
            {
              close (fd);
              return TRUE;
            }
        }
      if (tb_is_past (deadline))
        return FALSE;
      g_usleep (POLL_INTERVAL_US);
    }
}

/* ---- spawned peers ----------------------------------------------------- */

static char *
spawn_log_path (TuEnv *env, const char *tag, const char *stream)
{
  g_autofree char *name = g_strconcat (tag, ".", stream, NULL);
  return g_build_filename (env->dir, name, NULL);
}

static int
open_truncated (const char *path)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

  if (fd < 0)
    tu_die ("cannot open %s: %s", path, g_strerror (errno));
  return fd;
}

GPid
tu_spawn (TuEnv *env, const char *tag, const char *const *argv, int *stdin_fd)
{
  g_autofree char *out_path = NULL;
  g_autofree char *err_path = NULL;
  g_autoptr(GError) error = NULL;
  GPid pid = 0;
  int out_fd, err_fd;

  if (env == NULL || tag == NULL || *tag == '\0' || strchr (tag, '/') != NULL)
    tu_die ("tu_spawn: needs an env and a plain tag");
  out_path = spawn_log_path (env, tag, "out");
  err_path = spawn_log_path (env, tag, "err");
  out_fd = open_truncated (out_path);
  err_fd = open_truncated (err_path);

  if (!g_spawn_async_with_pipes_and_fds (env->dir, argv, NULL,
                                         G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH,
                                         NULL, NULL, -1, out_fd, err_fd, NULL, NULL, 0,
                                         &pid, stdin_fd, NULL, NULL, &error))
    tu_die ("cannot start %s: %s", argv[0], error->message);
  close (out_fd);
  close (err_fd);
  return pid;
}

char *
tu_spawn_output (TuEnv *env, const char *tag)
{
  g_autofree char *out_path = spawn_log_path (env, tag, "out");
  g_autofree char *err_path = spawn_log_path (env, tag, "err");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  if (!g_file_get_contents (out_path, &out, NULL, NULL))
    out = g_strdup ("");
  if (!g_file_get_contents (err_path, &err, NULL, NULL))
    err = g_strdup ("");
  return g_strconcat (out, err, NULL);
}

void
tu_kill (GPid pid)
{
  int status;

  if (pid <= 0)
    return;
  stop_process (pid, SIGTERM, &status);
  g_spawn_close_pid (pid);
}

GPid
tu_spawn_server (TuEnv *env, const char *tag, const char *const *argv, guint16 port,
                 guint timeout_ms)
{
  GPid pid = tu_spawn (env, tag, argv, NULL);

  if (!tu_wait_port (port, timeout_ms))
    {
      g_autofree char *out = tu_spawn_output (env, tag);
      tu_kill (pid);
      ck_abort_msg ("%s did not listen on %u:\n%s", argv[0], port, tu_tail (out));
    }
  return pid;
}

int
tu_wait_exit (GPid pid, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) tu_scaled_ms (timeout_ms) * 1000;
  int status;

  for (;;)
    {
      pid_t r = waitpid (pid, &status, WNOHANG);
      if (r == pid)
        return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
      ck_assert_msg (r == 0, "waitpid: %s", g_strerror (errno));
      if (g_get_monotonic_time () > deadline)
        {
          kill (pid, SIGKILL);
          waitpid (pid, &status, 0);
          return -1;
        }
      g_usleep (10000);
    }
}

void
tu_assert_contains (const char *haystack, const char *needle, const char *who)
{
  ck_assert_msg (strstr (haystack, needle) != NULL,
                 "%s: expected \"%s\" in:\n%s", who, needle, tu_tail (haystack));
}

void
tu_assert_contains_all (const char *haystack, const char *who, ...)
{
  va_list needles;

  va_start (needles, who);
  for (const char *needle = va_arg (needles, const char *); needle != NULL;
       needle = va_arg (needles, const char *))
    tu_assert_contains (haystack, needle, who);
  va_end (needles);
}
