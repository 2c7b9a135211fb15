/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Whether a record channel's ends may watch its mailbox for long (see
 * sspid-channel-watch.h): the 1-minute load average and the tasks
 * runnable right now (averaged over about a second) against the CPUs,
 * looked up four times a second.
 *
 * The load average alone, as before, said "idle" for the whole first
 * minute of a burst, and for a caller whose two threads and the daemon
 * want three CPUs of two (B2, BENCHMARKS.md) it allowed long watches that
 * cost more than the wake-ups they saved; the runnable tasks alone said
 * "idle" in a busy machine's lulls, where long watches cost the client
 * twice its CPU (paired runs at load 5-9, BENCHMARKS.md).
 */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "sspid-channel-watch.h"

/* How often to look at the load (reading /proc/loadavg is three system
 * calls, ~7 µs here; a record takes a few µs). */
#define SAMPLE_USEC (250 * 1000)

/* Monotonic µs (+1, so that 0 means never) of the last look; the runnable
 * tasks seen, averaged over the last few looks (in 16ths); and whether
 * the 1-minute load average was below the CPUs. */
static gint64 sampled_at;
static gint runnable_x16;
static gint has_low_load_average;
/* The CPUs, as of the last look: g_get_num_processors() reads sysfs
 * (three system calls) each time. */
static gint cpus_x16;

/* SSPID_CHANNEL_WATCH=long or short: that answer whatever the load (a
 * knob for measuring either policy on a machine that is not in the state
 * the policy expects); read once. */
static gint
forced_answer (void)
{
  static gint forced;   /* 0: not read yet, 1: no, 2: long, 3: short */

  if (g_atomic_int_get (&forced) == 0)
    {
      const char *watch = g_getenv ("SSPID_CHANNEL_WATCH");

      g_atomic_int_set (&forced, g_strcmp0 (watch, "long") == 0 ? 2
                                 : g_strcmp0 (watch, "short") == 0 ? 3 : 1);
    }
  return g_atomic_int_get (&forced);
}

/* /proc/loadavg ("L1 L5 L15 R/T last"): the 1-minute load average in
 * *@load and the tasks runnable now (on a CPU or waiting for one) in
 * *@runnable; FALSE if it cannot be read. */
static gboolean
read_load (double *load, gint *runnable)
{
  char buf[128];
  const char *slash;
  ssize_t n;
  int fd = open ("/proc/loadavg", O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    return FALSE;
  n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    return FALSE;
  buf[n] = '\0';
  slash = strchr (buf, '/');
  if (slash == NULL)
    return FALSE;
  while (slash > buf && g_ascii_isdigit (slash[-1]))
    slash--;
  *load = g_ascii_strtod (buf, NULL);
  *runnable = (gint) g_ascii_strtoll (slash, NULL, 10);
  return TRUE;
}

gboolean
sspid_channel_has_idle_cpu (void)
{
  gint64 now = g_get_monotonic_time () + 1;
  gint64 last = __atomic_load_n (&sampled_at, __ATOMIC_RELAXED);
  gint forced = forced_answer ();
  gint runnable, avg, cpus;
  double load;

  if (forced != 1)
    return forced == 2;
  /* Two threads that race here only both look. */
  if (last == 0 || now - last >= SAMPLE_USEC)
    {
      __atomic_store_n (&sampled_at, now, __ATOMIC_RELAXED);
      cpus = (gint) g_get_num_processors ();
      g_atomic_int_set (&cpus_x16, 16 * cpus);
      if (read_load (&load, &runnable))
        {
          avg = g_atomic_int_get (&runnable_x16);
          g_atomic_int_set (&runnable_x16, last == 0 ? 16 * runnable
                                                     : (3 * avg + 16 * runnable) / 4);
          g_atomic_int_set (&has_low_load_average, load < (double) cpus);
        }
    }
  /* Both: a busy machine's runnable tasks come and go (they sleep on
   * I/O, on each other), and a second of them often looks idle while the
   * load average says otherwise; and the load average takes a minute to
   * see the tasks that run now.  We count ourselves: both ends of a
   * streaming channel are runnable while they watch, and then there must
   * be no third. */
  return g_atomic_int_get (&has_low_load_average)
         && g_atomic_int_get (&runnable_x16) <= g_atomic_int_get (&cpus_x16);
}
