/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Whether a record channel's ends may watch its mailbox for long (see
 * sspid-channel-watch.h): the tasks runnable right now against the CPUs,
 * looked up four times a second and averaged over about a second.
 *
 * Not the 1-minute load average, as before: it said "idle" for the whole
 * first minute of a burst, and for a caller whose two threads and the
 * daemon want three CPUs of two (B2, BENCHMARKS.md) it allowed long
 * watches that cost more than the wake-ups they saved.
 */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "sspid-channel-watch.h"

/* How often to look at the runnable tasks (reading /proc/loadavg is
 * three system calls, ~7 µs here; a record takes a few µs). */
#define SAMPLE_USEC (250 * 1000)

/* Monotonic µs (+1, so that 0 means never) of the last look, and the
 * runnable tasks seen, averaged over the last few looks (in 16ths). */
static gint64 sampled_at;
static gint runnable_x16;

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

/* The tasks runnable (on a CPU or waiting for one) on the whole machine
 * now: /proc/loadavg's fourth field, "R/T"; -1 if unknown. */
static gint
read_runnable (void)
{
  char buf[128];
  const char *slash;
  ssize_t n;
  int fd = open ("/proc/loadavg", O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    return -1;
  n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  slash = strchr (buf, '/');
  if (slash == NULL)
    return -1;
  while (slash > buf && g_ascii_isdigit (slash[-1]))
    slash--;
  return (gint) g_ascii_strtoll (slash, NULL, 10);
}

gboolean
sspid_channel_has_idle_cpu (void)
{
  gint64 now = g_get_monotonic_time () + 1;
  gint64 last = __atomic_load_n (&sampled_at, __ATOMIC_RELAXED);
  gint forced = forced_answer ();
  gint runnable, avg;

  if (forced != 1)
    return forced == 2;
  /* Two threads that race here only both look. */
  if (last == 0 || now - last >= SAMPLE_USEC)
    {
      __atomic_store_n (&sampled_at, now, __ATOMIC_RELAXED);
      runnable = read_runnable ();
      if (runnable >= 0)
        {
          avg = g_atomic_int_get (&runnable_x16);
          g_atomic_int_set (&runnable_x16, last == 0 ? 16 * runnable
                                                     : (3 * avg + 16 * runnable) / 4);
        }
    }
  /* We count ourselves: both ends of a streaming channel are runnable
   * while they watch, and then there must be no third. */
  return g_atomic_int_get (&runnable_x16) <= 16 * (gint) g_get_num_processors ();
}
