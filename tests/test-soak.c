/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A bounded soak of one daemon: 50 client processes (tests/soak-client)
 * doing handshakes (both roles), records and random disconnects (leaving
 * mid-handshake on their own, and SIGKILL from here), each one replaced as
 * soon as it is gone, for SSPID_SOAK_SECONDS (60 by default; tools/soak
 * runs it longer).  Afterwards the daemon's contexts, credentials and
 * pending calls must be back to zero and its RSS within 5% of the
 * warmed-up level: the highest RSS seen in the 10 s that follow a 10 s
 * warm-up (a single sample varies by a few percent with what the clients
 * hold at that instant).
 *
 * Only invariants are asserted, never throughput: how many handshakes a
 * slow or busy machine manages does not matter, that no client ever sees
 * a failure and that nothing is left behind does.  The figures are printed
 * for the record (soak_rss_kib_warm, soak_rss_kib_end, soak_handshakes,
 * soak_records, soak_disconnects).
 */
#include "config.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dbus-raw.h"
#include "testutil.h"

#ifndef SOAK_CLIENT
#error "SOAK_CLIENT must name tests/soak-client (see tests/Makefile.inc)"
#endif

#define N_CLIENTS          50
/* A daemon under valgrind runs one thread at a time, many times slower:
 * fewer clients, killed less often, so that handshakes still finish. */
#define WRAPPED_CLIENTS    8
#define DEFAULT_SECONDS    60
#define WARMUP_SECONDS     10
#define KILLS_PER_SECOND   4
#define WRAPPED_KILL_EVERY_S 2
#define RSS_GROWTH_PERCENT 5
#define POLL_US            (20 * 1000)
#define REPORT_EVERY_S     30

typedef struct {
  GPid  pid;
  char *tag;
} Client;

static TuEnv *env;
static GRand *soak_rand;
static struct {
  guint spawned, handshakes, records, exits, kills;
} tally;

/* SSPID_SOAK_SECONDS, or 0 if it is not a number of seconds (5 or more).
 * No check assertions here: it is also read outside the test. */
static guint
soak_seconds (void)
{
  const char *value = g_getenv ("SSPID_SOAK_SECONDS");
  guint64 seconds;

  if (value == NULL || *value == '\0')
    return DEFAULT_SECONDS;
  if (!g_ascii_string_to_unsigned (value, 10, 5, 7 * 24 * 3600, &seconds, NULL))
    return 0;
  return (guint) seconds;
}

/* ---- clients ---------------------------------------------------------------- */

static void
client_spawn (Client *c)
{
  g_autofree char *seed = g_strdup_printf ("%u", g_rand_int (soak_rand) | 1);
  const char *argv[] = { SOAK_CLIENT, "--parallel", "2", "--records", "2",
                         "--exit-percent", "2", "--seed", seed, NULL };

  c->tag = g_strdup_printf ("soak-%u", tally.spawned++);
  c->pid = tu_spawn (env, c->tag, argv, NULL);
}

static char *
client_path (Client *c, const char *stream)
{
  g_autofree char *name = g_strconcat (c->tag, ".", stream, NULL);
  return g_build_filename (env->dir, name, NULL);
}

/* Adds up what a client that is gone reported, then drops its files (a
 * long soak spawns thousands).  Returns whether it ended with a planned
 * exit ('x'). */
static gboolean
client_account (Client *c)
{
  g_autofree char *out_path = client_path (c, "out");
  g_autofree char *err_path = client_path (c, "err");
  g_autofree char *out = NULL;
  gsize len = 0;
  gboolean has_exited = FALSE;

  g_file_get_contents (out_path, &out, &len, NULL);
  for (gsize i = 0; i < len; i++)
    switch (out[i])
      {
      case 'h': tally.handshakes++; break;
      case 'r': tally.records++; break;
      case 'x': has_exited = TRUE; break;
      default: ck_abort_msg ("%s printed %c", c->tag, out[i]);
      }
  unlink (out_path);
  unlink (err_path);
  g_clear_pointer (&c->tag, g_free);
  g_spawn_close_pid (c->pid);
  c->pid = 0;
  return has_exited;
}

static G_NORETURN void
client_failed (Client *c, int status)
{
  g_autofree char *output = tu_spawn_output (env, c->tag);

  g_printerr ("---- %s ----\n%s\n---- end of %s ----\n", c->tag, output, c->tag);
  ck_abort_msg ("%s ended with wait status 0x%x", c->tag, (unsigned) status);
  abort ();
}

/* A client that left must have left as planned (status 0, after 'x'). */
static void
client_reap_if_gone (Client *c)
{
  int status;

  if (waitpid (c->pid, &status, WNOHANG) != c->pid)
    return;
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    client_failed (c, status);
  ck_assert_msg (client_account (c), "a client ended without being told to");
  tally.exits++;
  client_spawn (c);
}

static void
client_kill (Client *c)
{
  int status;

  ck_assert_int_eq (kill (c->pid, SIGKILL), 0);
  ck_assert_int_eq (waitpid (c->pid, &status, 0), c->pid);
  if (!WIFSIGNALED (status) || WTERMSIG (status) != SIGKILL)
    {
      /* It had left first: a planned exit is fine, anything else is not. */
      if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
        client_failed (c, status);
      tally.exits++;
    }
  else
    tally.kills++;
  client_account (c);
}

/* ---- the soak ---------------------------------------------------------------- */

START_TEST (test_soak)
{
  guint seconds = soak_seconds ();
  guint warmup = MIN (WARMUP_SECONDS, seconds / 3);
  gboolean is_wrapped = tu_is_wrapped ();
  gint64 settle_limit = (is_wrapped ? 60 : 5) * G_TIME_SPAN_SECOND;
  g_autoptr (GDBusConnection) conn = NULL;
  Client clients[N_CLIENTS] = { { 0 } };
  guint n_clients = is_wrapped ? WRAPPED_CLIENTS : N_CLIENTS;
  gint64 kill_every = is_wrapped ? WRAPPED_KILL_EVERY_S * G_USEC_PER_SEC
                                 : G_USEC_PER_SEC / KILLS_PER_SECOND;
  TuCounts baseline, now;
  guint64 rss_warm = 0, rss_end;
  double cpu;
  gint64 start, end, next_kill, next_report, settled;

  ck_assert_msg (seconds > 0, "SSPID_SOAK_SECONDS=%s: not a number of seconds (5 or more)",
                 g_getenv ("SSPID_SOAK_SECONDS"));
  soak_rand = g_rand_new_with_seed (4);
  env = tu_env_start (NULL);
  conn = connect_bus (env);
  baseline = tu_get_counts (conn);
  ck_assert_msg (baseline.contexts == 0 && baseline.credentials == 0 && baseline.pending == 0,
                 "a fresh daemon holds %u contexts, %u credentials, %u pending calls",
                 baseline.contexts, baseline.credentials, baseline.pending);

  cpu = tu_process_cpu_seconds (env->daemon_pid);
  start = g_get_monotonic_time ();
  end = start + seconds * G_TIME_SPAN_SECOND;
  next_kill = start;
  next_report = start + REPORT_EVERY_S * G_TIME_SPAN_SECOND;
  for (guint i = 0; i < n_clients; i++)
    client_spawn (&clients[i]);

  while (g_get_monotonic_time () < end)
    {
      gint64 t = g_get_monotonic_time ();

      for (guint i = 0; i < n_clients; i++)
        client_reap_if_gone (&clients[i]);
      if (t >= next_kill)
        {
          Client *c = &clients[g_rand_int_range (soak_rand, 0, (gint32) n_clients)];

          client_kill (c);
          client_spawn (c);
          next_kill = t + g_rand_int_range (soak_rand, 0, (gint32) (2 * kill_every));
        }
      /* The warmed-up level: the peak of the window after the warm-up, as
       * one sample swings with whatever the clients hold at that instant;
       * at least one sample, should a slow turn of this loop skip it. */
      if (t - start >= warmup * G_TIME_SPAN_SECOND
          && (t - start < 2 * warmup * G_TIME_SPAN_SECOND || rss_warm == 0))
        rss_warm = MAX (rss_warm, tu_process_rss_kib (env->daemon_pid));
      if (t >= next_report)
        {
          /* The trend, for long runs (tools/soak). */
          printf ("soak: %3.0f s: daemon RSS %" G_GUINT64_FORMAT " KiB, %u handshakes\n",
                  (t - start) / 1e6, tu_process_rss_kib (env->daemon_pid), tally.handshakes);
          fflush (stdout);
          next_report += REPORT_EVERY_S * G_TIME_SPAN_SECOND;
        }
      g_usleep (POLL_US);
    }
  for (guint i = 0; i < n_clients; i++)
    client_kill (&clients[i]);

  /* Everything the clients held goes with them. */
  settled = g_get_monotonic_time ();
  for (now = tu_get_counts (conn); !tu_counts_equal (&now, &baseline);
       now = tu_get_counts (conn))
    {
      ck_assert_msg (g_get_monotonic_time () - settled < settle_limit,
                     "%d s after the last client: " TU_COUNTS_FORMAT,
                     (int) (settle_limit / G_TIME_SPAN_SECOND), TU_COUNTS_ARGS (now));
      g_usleep (10 * 1000);
    }
  settled = g_get_monotonic_time () - settled;
  rss_end = tu_process_rss_kib (env->daemon_pid);
  cpu = tu_process_cpu_seconds (env->daemon_pid) - cpu;

  printf ("soak: %u s, %u clients at a time, %u spawned; back to zero %.0f ms after the last\n",
          seconds, n_clients, tally.spawned, settled / 1000.0);
  printf ("soak_seconds %u\nsoak_handshakes %u\nsoak_records %u\n", seconds, tally.handshakes,
          tally.records);
  printf ("soak_disconnects %u (%u exits mid-handshake, %u SIGKILLs)\n",
          tally.exits + tally.kills, tally.exits, tally.kills);
  printf ("soak_rss_kib_warm %" G_GUINT64_FORMAT "\nsoak_rss_kib_end %" G_GUINT64_FORMAT "\n",
          rss_warm, rss_end);
  printf ("soak: the daemon used %.1f s of CPU, %.0f us per handshake (records and "
          "connections included)\n", cpu, tally.handshakes ? cpu * 1e6 / tally.handshakes : 0);
  fflush (stdout);

  ck_assert_uint_gt (tally.handshakes, 0);
  ck_assert_uint_gt (tally.kills, 0);
  ck_assert_uint_gt (tally.records, 0);
  /* The RSS check means nothing with AddressSanitizer, whose quarantine
   * keeps freed memory, nor with the daemon under a wrapper (valgrind). */
  if (is_wrapped || tu_is_sanitized ())
    printf ("soak: the daemon runs under %s: its RSS says nothing, not checked\n",
            is_wrapped ? g_getenv (TU_DAEMON_WRAPPER_ENV) : "AddressSanitizer");
  else
    ck_assert_msg (rss_end * 100 < rss_warm * (100 + RSS_GROWTH_PERCENT),
                   "the daemon's RSS grew from %" G_GUINT64_FORMAT " KiB (after %u s) to %"
                   G_GUINT64_FORMAT " KiB", rss_warm, warmup, rss_end);

  tu_env_stop (env);
  g_rand_free (soak_rand);
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    /* Room for starting, settling and stopping on a slow machine. */
    { "soak", NULL, NULL, soak_seconds () + 120, { { test_soak } } },
  };

  return tu_run_cases ("soak", cases, G_N_ELEMENTS (cases));
}
