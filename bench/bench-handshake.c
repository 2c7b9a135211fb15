/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * H1 and H2: TLS 1.3 ECDSA P-256 handshakes per second through sspid, 64 in
 * flight, against the same handshakes done in-process with GnuTLS on every
 * core (the best a process can do alone), in the same run.
 *
 *   H1  server side through libsspi, clients in-process GnuTLS;
 *       full handshakes, and resumed ones (the daemon's session tickets)
 *   H2  both sides through libsspi
 *   H1s H1 from the server's side only: the baseline's server CPU per
 *       handshake over what a server through sspid pays (its process's
 *       libsspi part, sspid, dbus-daemon): the handshakes per core a
 *       server loses by not holding its keys
 *   H3  one handshake at a time (H1's shape): the wall time one user
 *       waits, against one in-process handshake
 *
 * Also the CPU each process spent per handshake (this one, sspid,
 * dbus-daemon), and what went over the bus per handshake, counted by a
 * monitor connection in a separate short run (a monitor slows the bus).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "bench-sspi.h"
#include "bench-tls.h"
#include "bench-util.h"

#define IN_FLIGHT       64
#define COUNTED_HS      200

/* The machine may be shared: runs of a kind are cut into ROUNDS slices and
 * the baseline's slices alternate with sspid's, so a neighbour's load
 * falls on both alike.  Each kind sums its slices. */
#define ROUNDS          3

typedef struct {
  const char *name;         /* H-full, H1-full, ... */
  gboolean    is_baseline;
  gboolean    is_client_sspi;
  const gnutls_datum_t *resume;
  guint       done;
  double      seconds;
  BenchCpu    cpu;
  guint64     client_tls_us;   /* sspid's H1: its GnuTLS clients' TLS work */
  guint64     server_tls_us;   /* baseline: its servers' part */
} Kind;

static void
run_slice (BenchEnv *env, Kind *k, double seconds)
{
  BenchCpu before;

  bench_cpu_sample (env, &before);
  if (k->is_baseline)
    {
      guint count;
      double rate = bench_tls_baseline_rate (g_get_num_processors (), seconds, k->resume,
                                             &count, &k->server_tls_us);
      k->done += count;
      k->seconds += count / rate;
    }
  else
    {
      BenchHsOptions opts = { .is_client_sspi = k->is_client_sspi, .in_flight = IN_FLIGHT,
                              .seconds = seconds, .resume = k->resume };
      g_auto(BenchHsResult) result = { 0 };

      bench_hs_run (&opts, &result);
      if (k->resume != NULL && result.resumed != result.done)
        bench_die ("%s: only %u of %u handshakes resumed", k->name, result.resumed,
                   result.done);
      k->done += result.done;
      k->seconds += result.seconds;
      k->client_tls_us += result.client_tls_us;
    }
  bench_cpu_accumulate (env, &before, &k->cpu);
}

/* Prints a kind's rate and CPU per handshake; returns the CPU (µs, every
 * process involved) per handshake. */
static double
report_kind (Kind *k)
{
  g_autofree char *name = g_strconcat (k->name, k->is_baseline ? "-baseline" : "-sspid", NULL);
  g_autofree char *tls = g_strconcat (name, "-cpu-client-tls", NULL);
  g_autofree char *server = g_strconcat (name, "-cpu-server-tls", NULL);

  bench_report (name, k->done / k->seconds, "hs/s");
  /* H1's clients: their TLS work, apart from libsspi's; the baseline's
   * servers: theirs, to set against sspid's workers. */
  if (!k->is_baseline && !k->is_client_sspi)
    bench_report (tls, (double) k->client_tls_us / k->done, "us");
  if (k->is_baseline)
    bench_report (server, (double) k->server_tls_us / k->done, "us");
  return bench_cpu_report (&k->cpu, k->done, name, !k->is_baseline);
}

static void report_server_side (const Kind *base, const Kind *k);

/* Runs @kinds (the baseline first) interleaved and reports each, and the
 * ratios of the others to the baseline: throughput, and CPU efficiency
 * (the baseline's CPU per handshake over all that sspid's costs). */
static void
run_kinds (BenchEnv *env, Kind *kinds, guint n, double seconds)
{
  double base_rate, base_cpu;

  /* Warm-up: the daemon's threads and allocator, the library's session. */
  for (guint i = 1; i < n; i++)
    {
      Kind warm = kinds[i];
      run_slice (env, &warm, 0.3);
    }
  for (guint r = 0; r < ROUNDS; r++)
    for (guint i = 0; i < n; i++)
      run_slice (env, &kinds[i], seconds / ROUNDS);

  base_rate = kinds[0].done / kinds[0].seconds;
  base_cpu = report_kind (&kinds[0]);
  for (guint i = 1; i < n; i++)
    {
      g_autofree char *ratio = g_strconcat (kinds[i].name, "-ratio", NULL);
      g_autofree char *cpu_ratio = g_strconcat (kinds[i].name, "-cpu-ratio", NULL);
      double cpu = report_kind (&kinds[i]);

      bench_report (ratio, kinds[i].done / kinds[i].seconds / base_rate, "x");
      bench_report (cpu_ratio, base_cpu / cpu, "x");
      if (!kinds[i].is_client_sspi)
        report_server_side (&kinds[0], &kinds[i]);
    }
}

/* H1s: the baseline's server part against what the server's side of @k
 * costs: its process less its GnuTLS clients (the libsspi part), sspid and
 * dbus-daemon.  Not a CPU sample of the server alone: the benchmark
 * process is both H1's clients and its server, and the clients' steps are
 * timed apart (client_tls_us). */
static void
report_server_side (const Kind *base, const Kind *k)
{
  g_autofree char *name = g_strconcat (k->name, "-server-cpu-ratio", NULL);
  double base_server = (double) base->server_tls_us / base->done;
  guint64 library = k->cpu.self_us > k->client_tls_us ? k->cpu.self_us - k->client_tls_us : 0;
  double server = (double) (library + k->cpu.daemon_us + k->cpu.bus_us) / k->done;

  bench_report (name, base_server / server, "x");
}

/* ---- H3: one handshake at a time ------------------------------------------------ */

/* Mean wall time of handshakes done one after another for @seconds: the
 * in-process pair, or H1's shape through sspid (in_flight 1).  Slices
 * alternate as run_kinds() does. */
static void
run_single (double seconds)
{
  double base_s = 0, sspid_s = 0;
  guint base_n = 0, sspid_n = 0;

  for (guint r = 0; r < ROUNDS; r++)
    {
      gint64 start = bench_now_us (), deadline = start + (gint64) (seconds / ROUNDS * 1e6);
      BenchHsOptions opts = { .in_flight = 1, .seconds = seconds / ROUNDS };
      g_auto(BenchHsResult) result = { 0 };

      while (bench_now_us () < deadline)
        {
          if (!bench_tls_pair_handshake (NULL, NULL, NULL, NULL))
            bench_die ("H3: in-process handshake failed");
          base_n++;
        }
      base_s += (bench_now_us () - start) / 1e6;
      bench_hs_run (&opts, &result);
      sspid_n += result.done;
      sspid_s += result.seconds;
    }
  bench_report ("H3-baseline", base_s / base_n * 1e3, "ms");
  bench_report ("H3-sspid", sspid_s / sspid_n * 1e3, "ms");
  bench_report ("H3-ratio", (sspid_s / sspid_n) / (base_s / base_n), "x");
}

/* ---- what goes over the bus ------------------------------------------------ */

typedef struct {
  GMutex      lock;
  GHashTable *members;    /* "kind member" -> count (GUINT_TO_POINTER) */
  guint       messages;
  guint64     bytes;
} Tally;

static const char *
kind_name (GDBusMessageType type)
{
  switch (type)
    {
    case G_DBUS_MESSAGE_TYPE_METHOD_CALL:   return "call";
    case G_DBUS_MESSAGE_TYPE_METHOD_RETURN: return "return";
    case G_DBUS_MESSAGE_TYPE_ERROR:         return "error";
    case G_DBUS_MESSAGE_TYPE_SIGNAL:        return "signal";
    default:                                return "other";
    }
}

/* Every message the bus routes comes here once; none is for us. */
static GDBusMessage *
monitor_filter (GDBusConnection *connection, GDBusMessage *message, gboolean incoming,
                gpointer user_data)
{
  Tally *tally = user_data;
  const char *member;
  g_autofree char *key = NULL;
  g_autofree guchar *blob = NULL;
  gsize size = 0;
  guint count;

  if (!incoming)
    return message;
  if (g_strcmp0 (g_dbus_message_get_destination (message),
                 g_dbus_connection_get_unique_name (connection)) == 0)
    {
      g_object_unref (message);
      return NULL;   /* the bus talking to the monitor itself */
    }
  member = g_dbus_message_get_member (message);
  key = g_strdup_printf ("%s %s", kind_name (g_dbus_message_get_message_type (message)),
                         member != NULL ? member : "-");
  blob = g_dbus_message_to_blob (message, &size, G_DBUS_CAPABILITY_FLAGS_NONE, NULL);

  g_mutex_lock (&tally->lock);
  count = GPOINTER_TO_UINT (g_hash_table_lookup (tally->members, key)) + 1;
  g_hash_table_insert (tally->members, g_steal_pointer (&key), GUINT_TO_POINTER (count));
  tally->messages++;
  tally->bytes += size;
  g_mutex_unlock (&tally->lock);
  g_object_unref (message);
  return NULL;
}

static void
tally_print (Tally *tally, const char *name, guint handshakes)
{
  g_autofree char *msgs = g_strconcat (name, "-bus-messages", NULL);
  g_autofree char *bytes = g_strconcat (name, "-bus-bytes", NULL);
  GHashTableIter iter;
  gpointer key, value;

  g_mutex_lock (&tally->lock);
  bench_report (msgs, (double) tally->messages / handshakes, "msg/hs");
  bench_report (bytes, (double) tally->bytes / handshakes, "B/hs");
  g_hash_table_iter_init (&iter, tally->members);
  while (g_hash_table_iter_next (&iter, &key, &value))
    bench_note ("%s: %-36s %.2f per handshake", name, (const char *) key,
                GPOINTER_TO_UINT (value) / (double) handshakes);
  g_hash_table_remove_all (tally->members);
  tally->messages = 0;
  tally->bytes = 0;
  g_mutex_unlock (&tally->lock);
}

static void
count_messages (BenchEnv *env)
{
  g_autoptr(GDBusConnection) monitor = bench_env_connect (env);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  BenchHsOptions opts = { .in_flight = 8, .seconds = 60, .max_handshakes = COUNTED_HS };
  g_auto(BenchHsResult) result = { 0 };
  const char *const all[] = { NULL };   /* no match rules: every message */
  Tally tally = { 0 };

  g_mutex_init (&tally.lock);
  tally.members = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  reply = g_dbus_connection_call_sync (monitor, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus.Monitoring", "BecomeMonitor",
                                       g_variant_new ("(^asu)", all, 0), NULL,
                                       G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
  if (reply == NULL)
    {
      bench_note ("cannot count bus messages: BecomeMonitor: %s", error->message);
      return;
    }
  g_dbus_connection_add_filter (monitor, monitor_filter, &tally, NULL);

  for (int h = 1; h <= 2; h++)
    {
      opts.is_client_sspi = h == 2;
      bench_hs_run (&opts, &result);
      bench_hs_result_clear (&result);
      /* Fire-and-forget deletes are answered after the last handshake. */
      g_usleep (200000);
      tally_print (&tally, h == 1 ? "H1-full" : "H2-full", COUNTED_HS);
    }
  g_dbus_connection_remove_filter (monitor, 1);
  g_dbus_connection_close_sync (monitor, NULL, NULL);
  g_hash_table_unref (tally.members);
  g_mutex_clear (&tally.lock);
}

/* ---- main ------------------------------------------------------------------- */

int
main (int argc, char **argv)
{
  double seconds = bench_seconds (4);
  BenchEnv *env = bench_env_start (NULL);
  BenchHsOptions seed = { .in_flight = 1, .seconds = 60, .max_handshakes = 1,
                          .wants_ticket = TRUE };
  g_auto(BenchHsResult) seeded = { 0 };
  gnutls_datum_t ticket = { NULL, 0 };
  gboolean resumed = FALSE;
  Kind full[] = {
    { .name = "H-full", .is_baseline = TRUE },
    { .name = "H1-full" },
    { .name = "H2-full", .is_client_sspi = TRUE },
  };
  Kind again[] = {
    { .name = "H-resumed", .is_baseline = TRUE, .resume = &ticket },
    { .name = "H1-resumed", .resume = &seeded.ticket },
  };

  bench_note ("handshakes: TLS 1.3, ECDSA P-256 server certificate, %d in flight, "
              "%.1f s per kind in %d rounds, %u cores", IN_FLIGHT, seconds, ROUNDS,
              g_get_num_processors ());
  bench_hs_init ();

  if (bench_is_wanted ("full"))
    run_kinds (env, full, G_N_ELEMENTS (full), seconds);

  if (bench_is_wanted ("resumed"))
    {
      if (!bench_tls_pair_handshake (NULL, &ticket, NULL, NULL)
          || !bench_tls_pair_handshake (&ticket, NULL, &resumed, NULL) || !resumed)
        bench_die ("in-process resumption does not work");
      bench_hs_run (&seed, &seeded);
      if (seeded.ticket.data == NULL)
        bench_die ("sspid sent no session ticket");
      run_kinds (env, again, G_N_ELEMENTS (again), seconds);
      gnutls_free (ticket.data);
    }

  if (bench_is_wanted ("single"))
    run_single (seconds);

  if (bench_is_wanted ("messages"))
    count_messages (env);
  bench_env_stop (env);
  return 0;
}
