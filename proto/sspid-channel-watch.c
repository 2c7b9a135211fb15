/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Whether a record channel's ends may watch its mailbox for long (see
 * sspid-channel-watch.h): the load average against the CPUs, looked up
 * at most once a second, because getloadavg() reads /proc (three system
 * calls) and a record takes a few µs.
 */
#include "config.h"

#include <stdlib.h>

#include "sspid-channel-watch.h"

/* Monotonic seconds (+1, so that 0 means never) of the last look, and
 * what it found. */
static gint checked_at;
static gint has_idle_cpu;

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

gboolean
sspid_channel_has_idle_cpu (void)
{
  gint now = (gint) (g_get_monotonic_time () / G_USEC_PER_SEC) + 1;
  gint forced = forced_answer ();
  double load;

  if (forced != 1)
    return forced == 2;

  /* Two threads that race here only both look. */
  if (g_atomic_int_get (&checked_at) == now)
    return g_atomic_int_get (&has_idle_cpu);
  if (getloadavg (&load, 1) == 1)
    g_atomic_int_set (&has_idle_cpu, load < (double) g_get_num_processors ());
  g_atomic_int_set (&checked_at, now);
  return g_atomic_int_get (&has_idle_cpu);
}
