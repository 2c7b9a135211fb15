/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Whether the two ends of a record channel should watch its mailbox
 * (proto/sspid-channel.h) for long, asked by both ends (libsspi and sspid).
 *
 * Watching (spinning) pays only while the other end runs on a CPU of its
 * own.  On a machine where every runnable task has a CPU that is the usual
 * case, and the alternative, waking an idle virtual CPU, costs ~40 µs,
 * more than the record; on a machine whose CPUs are all taken the other
 * end is often not running, and a long watch only takes the CPU it needs
 * (BENCHMARKS.md, B1 and B2).  So: long watches while the load average
 * is below the CPUs and the runnable tasks (both ends of the channel
 * among them) are no more than the CPUs, short ones otherwise.
 */
#pragma once

#include <glib.h>

/* Whether the machine has a CPU to spare: its 1-minute load average is
 * below its CPUs, and the tasks runnable now (/proc/loadavg), averaged
 * over the last second, are no more than them.  Looked up four times a
 * second; thread-safe.
 * SSPID_CHANNEL_WATCH=long or short in the environment forces the answer
 * (for measuring). */
gboolean sspid_channel_has_idle_cpu (void);

/* One turn of a watch: tells the CPU (and a hypervisor) that we spin. */
static inline void
sspid_channel_cpu_relax (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause ();
#elif defined(__aarch64__)
  __asm__ __volatile__ ("yield");
#endif
}
