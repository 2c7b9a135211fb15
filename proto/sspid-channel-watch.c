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

gboolean
sspid_channel_has_idle_cpu (void)
{
  gint now = (gint) (g_get_monotonic_time () / G_USEC_PER_SEC) + 1;
  double load;

  /* Two threads that race here only both look. */
  if (g_atomic_int_get (&checked_at) == now)
    return g_atomic_int_get (&has_idle_cpu);
  if (getloadavg (&load, 1) == 1)
    g_atomic_int_set (&has_idle_cpu, load < (double) g_get_num_processors ());
  g_atomic_int_set (&checked_at, now);
  return g_atomic_int_get (&has_idle_cpu);
}
