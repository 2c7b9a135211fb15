/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * L1 and S1: what one call costs in latency, and whether that holds with a
 * thousand clients.
 *
 *   L1  SspiDeleteSecurityContextAsync on a context that was deleted (the
 *       daemon answers SEC_E_INVALID_HANDLE after a full round trip, no
 *       crypto), one at a time, each issued from the previous callback;
 *       against the same round trip to a trivial GDBus server on the same
 *       bus (this program, re-run with --serve), Peer.Ping to sspid, and
 *       the daemon's DeleteSecurityContext called directly (raw GDBus).
 *   S1  1,000 raw GDBus connections, 10 contexts each (client contexts
 *       after their first step: real contexts, and the cheapest to make,
 *       so the run stays short; M1 measures established ones), then the
 *       latency of that cheap call made directly (raw GDBus) from one more
 *       connection.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sspi.h>
#include <schannel.h>

#include "bench-raw.h"
#include "bench-sspi.h"
#include "bench-util.h"
#include "sspid-dbus-generated.h"
#include "sspid-proto.h"

#define BENCH_NAME       "org.sspid1.Bench"
#define BENCH_PATH       "/org/sspid1/Bench"
#define BENCH_INTERFACE  "org.sspid1.Bench"
#define L1_CALLS         10000
#define S1_CONNECTIONS   1000
#define S1_CONTEXTS      10
#define S1_IN_FLIGHT     32
#define S1_HOLDERS       4
#define S1_CALLS         5000

/* ---- the trivial server (--serve) ---------------------------------------- */

/* The same shapes as DeleteSecurityContext ((tt) in, a step result out),
 * taken from the daemon's own interface description, so the two cannot
 * drift apart as the wire grows. */
static GDBusInterfaceInfo *
trivial_interface (void)
{
  static GDBusMethodInfo step = { -1, (char *) "Step", NULL, NULL, NULL };
  static GDBusMethodInfo *methods[] = { &step, NULL };
  static GDBusInterfaceInfo iface = { -1, (char *) BENCH_INTERFACE, methods, NULL, NULL, NULL };
  GDBusMethodInfo *delete = g_dbus_interface_info_lookup_method (sspid_dbus_sspi_interface_info (),
                                                                 "DeleteSecurityContext");

  step.in_args = delete->in_args;
  step.out_args = delete->out_args;
  return &iface;
}

static void
trivial_call (GDBusConnection *connection, const char *sender, const char *path,
              const char *interface, const char *method, GVariant *params,
              GDBusMethodInvocation *invocation, gpointer user_data)
{
  g_dbus_method_invocation_return_value (
    invocation, g_variant_new ("(ut@ayuxuu@a{sv})", (guint32) SEC_E_INVALID_HANDLE, (guint64) 0,
                               g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, NULL, 0, 1),
                               0, (gint64) 0, 0, 0,
                               g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0)));
}

static int
serve (const char *address)
{
  static const GDBusInterfaceVTable vtable = { .method_call = trivial_call };
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  connection = g_dbus_connection_new_for_address_sync (
    address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
               | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL, NULL, &error);
  if (connection == NULL
      || !g_dbus_connection_register_object (connection, BENCH_PATH, trivial_interface (),
                                             &vtable, NULL, NULL, &error))
    bench_die ("trivial server: %s", error->message);
  reply = g_dbus_connection_call_sync (connection, "org.freedesktop.DBus",
                                       "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "RequestName", g_variant_new ("(su)", BENCH_NAME, 4),
                                       G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, 5000,
                                       NULL, &error);
  if (reply == NULL)
    bench_die ("trivial server: RequestName: %s", error->message);
  g_main_loop_run (loop);
  return 0;
}

static GPid
start_trivial_server (BenchEnv *env, GDBusConnection *connection)
{
  const char *argv[] = { "/proc/self/exe", "--serve", env->bus_address, NULL };
  g_autoptr(GError) error = NULL;
  GPid pid;

  if (!g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                      &pid, &error))
    bench_die ("cannot start the trivial server: %s", error->message);
  for (int i = 0; i < 500; i++)
    {
      g_autoptr(GVariant) reply =
        g_dbus_connection_call_sync (connection, "org.freedesktop.DBus",
                                     "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                     "NameHasOwner", g_variant_new ("(s)", BENCH_NAME),
                                     G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE, 5000,
                                     NULL, NULL);
      gboolean has_owner = FALSE;

      if (reply != NULL)
        g_variant_get (reply, "(b)", &has_owner);
      if (has_owner)
        return pid;
      g_usleep (10000);
    }
  bench_die ("the trivial server did not own %s", BENCH_NAME);
}

/* ---- latency chains --------------------------------------------------------- */

typedef struct {
  GArray     *samples;     /* µs, doubles */
  guint       wanted;
  gint64      sent;
  GMainLoop  *loop;        /* raw chains */
  GMutex      lock;        /* libsspi chain: its callbacks run on the library's thread */
  GCond       cond;
  /* what to call */
  GDBusConnection *connection;
  const char *dest, *path, *interface, *method;
  guint64     dead;
  CtxtHandle  dead_handle;
  SspiAsyncContext *ac;
} Chain;

static void
report_latency (const char *name, Chain *chain)
{
  g_autofree char *p50 = g_strconcat (name, "-p50", NULL);
  g_autofree char *p99 = g_strconcat (name, "-p99", NULL);

  bench_report (p50, bench_percentile (chain->samples, 50), "us");
  bench_report (p99, bench_percentile (chain->samples, 99), "us");
}

static void raw_next (Chain *chain);

static void
raw_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Chain *chain = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             res, &error);
  double us = (double) (bench_now_us () - chain->sent);

  if (reply == NULL)
    bench_die ("%s: %s", chain->method, error->message);
  g_array_append_val (chain->samples, us);
  if (chain->samples->len < chain->wanted)
    raw_next (chain);
  else
    g_main_loop_quit (chain->loop);
}

static void
raw_next (Chain *chain)
{
  GVariant *params = g_str_equal (chain->method, "Ping") ? NULL
                     : g_variant_new ("(tt)", (guint64) chain->samples->len, chain->dead);

  chain->sent = bench_now_us ();
  g_dbus_connection_call (chain->connection, chain->dest, chain->path, chain->interface,
                          chain->method, params, NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START,
                          10000, NULL, raw_done, chain);
}

static void
run_raw_chain (Chain *chain, guint calls)
{
  chain->samples = g_array_sized_new (FALSE, FALSE, sizeof (double), calls);
  chain->wanted = calls;
  chain->loop = g_main_loop_new (NULL, FALSE);
  raw_next (chain);
  g_main_loop_run (chain->loop);
  g_main_loop_unref (chain->loop);
}

static void sspi_next (Chain *chain);

static void
sspi_done (SspiAsyncContext *ac, void *data)
{
  Chain *chain = data;
  double us = (double) (bench_now_us () - chain->sent);
  SECURITY_STATUS status = SspiGetAsyncCallStatus (ac);

  if (status != SEC_E_INVALID_HANDLE)
    bench_die ("deleting a deleted context said 0x%08x", (guint32) status);
  g_array_append_val (chain->samples, us);
  if (chain->samples->len < chain->wanted)
    {
      SspiReinitAsyncContext (ac);
      sspi_next (chain);
      return;
    }
  g_mutex_lock (&chain->lock);
  g_cond_signal (&chain->cond);
  g_mutex_unlock (&chain->lock);
}

static void
sspi_next (Chain *chain)
{
  SECURITY_STATUS status;

  chain->sent = bench_now_us ();
  status = SspiDeleteSecurityContextAsync (chain->ac, &chain->dead_handle);
  if (status != SEC_E_OK)
    bench_die ("SspiDeleteSecurityContextAsync: 0x%08x", (guint32) status);
}

static void
run_sspi_chain (Chain *chain, guint calls)
{
  chain->samples = g_array_sized_new (FALSE, FALSE, sizeof (double), calls);
  chain->wanted = calls;
  chain->ac = SspiCreateAsyncContext ();
  SspiSetAsyncNotifyCallback (chain->ac, sspi_done, chain);
  g_mutex_lock (&chain->lock);
  sspi_next (chain);
  while (chain->samples->len < chain->wanted)
    g_cond_wait (&chain->cond, &chain->lock);
  g_mutex_unlock (&chain->lock);
  SspiFreeAsyncContext (chain->ac);
}

/* A context handle of this process's libsspi session that no longer
 * exists in the daemon: one handshake, then a delete. */
static void
make_dead_handle (CtxtHandle *dead)
{
  BenchHsOptions opts = { .in_flight = 1, .seconds = 60, .max_handshakes = 1,
                          .is_keeping_contexts = TRUE };
  g_auto(BenchHsResult) result = { 0 };

  bench_hs_run (&opts, &result);
  *dead = g_array_index (result.server_contexts, CtxtHandle, 0);
  if (DeleteSecurityContext (dead) != SEC_E_OK)
    bench_die ("DeleteSecurityContext failed");
}

static void
run_l1 (BenchEnv *env)
{
  g_autoptr(GDBusConnection) connection = bench_env_connect (env);
  GPid server = start_trivial_server (env, connection);
  Chain sspi = { 0 }, raw = { 0 }, ping = { 0 }, direct = { 0 };
  int status;

  bench_hs_init ();
  make_dead_handle (&sspi.dead_handle);
  run_sspi_chain (&sspi, 500);             /* warm-up */
  g_array_unref (sspi.samples);

  raw = (Chain) { .connection = connection, .dest = BENCH_NAME, .path = BENCH_PATH,
                  .interface = BENCH_INTERFACE, .method = "Step", .dead = 1 };
  run_raw_chain (&raw, L1_CALLS);
  run_sspi_chain (&sspi, L1_CALLS);
  ping = (Chain) { .connection = connection, .dest = SSPID_BUS_NAME, .path = SSPID_OBJECT_PATH,
                   .interface = "org.freedesktop.DBus.Peer", .method = "Ping" };
  run_raw_chain (&ping, L1_CALLS);
  direct = (Chain) { .connection = connection, .dest = SSPID_BUS_NAME,
                     .path = SSPID_OBJECT_PATH, .interface = SSPID_INTERFACE,
                     .method = "DeleteSecurityContext", .dead = 1 };
  run_raw_chain (&direct, L1_CALLS);

  report_latency ("L1-sspid", &sspi);
  report_latency ("L1-gdbus", &raw);
  report_latency ("L1-sspid-direct", &direct);
  report_latency ("L1-ping", &ping);
  bench_report ("L1-ratio-p50", bench_percentile (sspi.samples, 50)
                                / bench_percentile (raw.samples, 50), "x");
  bench_report ("L1-ratio-p99", bench_percentile (sspi.samples, 99)
                                / bench_percentile (raw.samples, 99), "x");

  kill (server, SIGTERM);
  waitpid (server, &status, 0);
  g_array_unref (sspi.samples);
  g_array_unref (raw.samples);
  g_array_unref (ping.samples);
  g_array_unref (direct.samples);
}

/* ---- S1 ----------------------------------------------------------------------- */

/* The thousand connections are held by HOLDERS helper processes (this
 * program, re-run with --hold), because GDBus polls every connection of a
 * process on one thread: a thousand in one process would measure that
 * process, where real clients are a process each.  The cheap calls are
 * timed from one more connection, in this process. */

typedef struct {
  GPtrArray  *connections;
  guint64    *creds;
  guint       wanted;
  guint       started;
  guint       done;
  guint       active;
  GMainLoop  *loop;
} Scale;

static void context_start (Scale *scale);

static void
context_made (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Scale *scale = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             res, &error);
  g_auto(BenchRawStep) step = { 0 };

  if (reply == NULL)
    bench_die ("InitializeSecurityContext: %s", error->message);
  bench_raw_step_parse (reply, &step);
  if (step.status != SEC_I_CONTINUE_NEEDED || step.handle == 0)
    bench_die ("InitializeSecurityContext: 0x%08x", step.status);
  scale->done++;
  if (scale->started < scale->wanted)
    context_start (scale);
  else if (--scale->active == 0)
    g_main_loop_quit (scale->loop);
}

/* A client context after its first step (its ClientHello written): a
 * real context of the daemon, and the cheapest one to make. */
static void
context_start (Scale *scale)
{
  guint i = scale->started++ % scale->connections->len;

  g_dbus_connection_call (g_ptr_array_index (scale->connections, i), SSPID_BUS_NAME,
                          SSPID_OBJECT_PATH, SSPID_INTERFACE, "InitializeSecurityContext",
                          bench_raw_step_params (FALSE, scale->creds[i], 0, NULL, 0),
                          G_VARIANT_TYPE (SSPID_STEP_RESULT_TYPE), G_DBUS_CALL_FLAGS_NONE,
                          60000, NULL, context_made, scale);
}

static GDBusConnection *
connect_address (const char *address)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *connection;

  connection = g_dbus_connection_new_for_address_sync (
    address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
               | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL, NULL, &error);
  if (connection == NULL)
    bench_die ("cannot connect: %s", error->message);
  return connection;
}

/* --hold: @n connections with @per contexts each, then "ready" on stdout
 * and hold them until stdin closes. */
static int
hold (const char *address, guint n, guint per)
{
  Scale scale = { .connections = g_ptr_array_new_with_free_func (g_object_unref),
                  .creds = g_new0 (guint64, n), .wanted = n * per };
  char buf[16];

  for (guint i = 0; i < n; i++)
    {
      g_ptr_array_add (scale.connections, connect_address (address));
      scale.creds[i] = bench_raw_acquire (g_ptr_array_index (scale.connections, i), "",
                                          SECPKG_CRED_OUTBOUND);
    }
  scale.loop = g_main_loop_new (NULL, FALSE);
  scale.active = MIN (S1_IN_FLIGHT, scale.wanted);
  for (guint i = 0; i < scale.active; i++)
    context_start (&scale);
  if (scale.active > 0)
    g_main_loop_run (scale.loop);
  printf ("ready %u\n", scale.done);
  fflush (stdout);
  while (read (0, buf, sizeof buf) > 0)
    ;
  return 0;
}

typedef struct {
  GPid pid;
  int  in;     /* its stdin: closing it lets it go */
  int  out;
} Holder;

static void
start_holder (BenchEnv *env, Holder *h, guint n, guint per)
{
  g_autofree char *n_arg = g_strdup_printf ("%u", n);
  g_autofree char *per_arg = g_strdup_printf ("%u", per);
  const char *argv[] = { "/proc/self/exe", "--hold", env->bus_address, n_arg, per_arg, NULL };
  g_autoptr(GError) error = NULL;

  if (!g_spawn_async_with_pipes (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                 NULL, &h->pid, &h->in, &h->out, NULL, &error))
    bench_die ("cannot start a holder: %s", error->message);
}

static guint
wait_holder (Holder *h)
{
  char line[64] = "";
  gsize len = 0;
  guint done = 0;

  while (len < sizeof line - 1 && strchr (line, '\n') == NULL)
    {
      ssize_t r = read (h->out, line + len, sizeof line - 1 - len);

      if (r <= 0)
        bench_die ("a holder of S1's connections failed");
      len += (gsize) r;
      line[len] = '\0';
    }
  if (sscanf (line, "ready %u", &done) != 1)
    bench_die ("a holder said: %s", line);
  return done;
}

static void
run_s1 (BenchEnv *env)
{
  g_autoptr(GDBusConnection) probe = bench_env_connect (env);
  g_autoptr(GArray) samples = g_array_new (FALSE, FALSE, sizeof (double));
  Holder holders[S1_HOLDERS];
  guint64 rss_daemon = bench_proc_rss_kib (env->daemon_pid);
  guint64 rss_bus = bench_proc_rss_kib (env->bus_pid);
  gint64 start = bench_now_us ();
  guint done = 0;
  int status;

  for (guint i = 0; i < S1_HOLDERS; i++)
    start_holder (env, &holders[i], S1_CONNECTIONS / S1_HOLDERS, S1_CONTEXTS);
  for (guint i = 0; i < S1_HOLDERS; i++)
    done += wait_holder (&holders[i]);
  if (done != S1_CONNECTIONS * S1_CONTEXTS)
    bench_die ("S1: %u contexts made, not %u", done, S1_CONNECTIONS * S1_CONTEXTS);
  bench_report ("S1-setup", (bench_now_us () - start) / 1e6, "s");
  bench_report ("S1-sspid-rss-per-context",
                (double) (bench_proc_rss_kib (env->daemon_pid) - rss_daemon)
                / (S1_CONNECTIONS * S1_CONTEXTS), "KiB");
  bench_report ("S1-bus-rss-per-conn",
                (double) (bench_proc_rss_kib (env->bus_pid) - rss_bus) / S1_CONNECTIONS, "KiB");

  for (guint i = 0; i < S1_CALLS; i++)
    {
      gint64 sent = bench_now_us ();
      double us;

      if (bench_raw_delete_sync (probe, 1) != (guint32) SEC_E_INVALID_HANDLE)
        bench_die ("S1: deleting an unknown context did not say SEC_E_INVALID_HANDLE");
      us = (double) (bench_now_us () - sent);
      g_array_append_val (samples, us);
    }
  bench_report ("S1-p50", bench_percentile (samples, 50), "us");
  bench_report ("S1-p99", bench_percentile (samples, 99) / 1000.0, "ms");

  for (guint i = 0; i < S1_HOLDERS; i++)
    {
      close (holders[i].in);
      close (holders[i].out);
      waitpid (holders[i].pid, &status, 0);
    }
}

int
main (int argc, char **argv)
{
  BenchEnv *env;

  if (argc == 3 && g_str_equal (argv[1], "--serve"))
    return serve (argv[2]);
  if (argc == 5 && g_str_equal (argv[1], "--hold"))
    return hold (argv[2], (guint) atoi (argv[3]), (guint) atoi (argv[4]));

  env = bench_env_start (NULL);
  if (bench_is_wanted ("L1"))
    run_l1 (env);
  if (bench_is_wanted ("S1"))
    run_s1 (env);
  bench_env_stop (env);
  return 0;
}
