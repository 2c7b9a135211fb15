/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The floor under a record's trip to the daemon: what one request-answer
 * handoff between two processes costs on this machine, with nothing else
 * in it (no crypto, no copy, no GLib).  Three ways, as the record channel
 * can do it (proto/sspid-channel.h):
 *
 *   futex      both sides sleep on a word in shared memory (FUTEX_WAIT /
 *              FUTEX_WAKE): what a mailbox costs when neither side watches;
 *   seqpacket  a packet each way on an AF_UNIX SOCK_SEQPACKET pair: the
 *              RING packets, or a channel without a mailbox;
 *   spin       both sides watch the word (no system call): a mailbox
 *              whose ends both run on CPUs of their own.
 *
 * Prints `HANDOFF-<way>-wall`, `-cpu-client` and `-cpu-server` lines (µs
 * per round trip).  A record pair (EncryptMessage + DecryptMessage) is two
 * round trips, so twice the sleeping figures is what B1 pays beyond the
 * work when the machine has no CPU to spare for watching (BENCHMARKS.md).
 * Not run by bench/run: a reference for reading B1 and B2.
 *
 * Usage: bench-handoff [ROUND_TRIPS]   (default 50,000)
 */
#include "config.h"

#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "sspid-channel-watch.h"

typedef enum { WAY_FUTEX, WAY_SEQPACKET, WAY_SPIN } Way;

static const char *const way_names[] = { "futex", "seqpacket", "spin" };

static double
cpu_seconds (void)
{
  struct rusage r;

  getrusage (RUSAGE_SELF, &r);
  return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec
         + r.ru_stime.tv_usec / 1e6;
}

static void
futex_wait (guint32 *word, guint32 seen)
{
  syscall (SYS_futex, word, FUTEX_WAIT, seen, NULL, NULL, 0);
}

static void
futex_wake (guint32 *word)
{
  syscall (SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* Waits until *@word is @want, by @way. */
static void
await_word (Way way, guint32 *word, guint32 want)
{
  guint32 seen;

  while ((seen = (guint32) g_atomic_int_get ((gint *) word)) != want)
    {
      if (way == WAY_FUTEX)
        futex_wait (word, seen);
      else
        sspid_channel_cpu_relax ();
    }
}

static void
post_word (Way way, guint32 *word, guint32 value)
{
  g_atomic_int_set ((gint *) word, (gint) value);
  if (way == WAY_FUTEX)
    futex_wake (word);
}

/* The server: answers @n requests, then reports its CPU on @report. */
static void
serve (Way way, guint32 *word, int sock, guint n, int report)
{
  char byte[8] = { 0 };
  double cpu;

  for (guint i = 0; i < n; i++)
    {
      if (way == WAY_SEQPACKET)
        {
          if (recv (sock, byte, sizeof byte, 0) != sizeof byte
              || send (sock, byte, sizeof byte, 0) != sizeof byte)
            _exit (1);
          continue;
        }
      await_word (way, word, 2 * i + 1);
      post_word (way, word, 2 * i + 2);
    }
  cpu = cpu_seconds ();
  if (write (report, &cpu, sizeof cpu) != sizeof cpu)
    _exit (1);
  _exit (0);
}

static void
measure (Way way, guint n)
{
  guint32 *word = mmap (NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  char byte[8] = { 0 };
  int socks[2], report[2];
  double cpu0, cpu, server_cpu = 0;
  gint64 start, wall;
  pid_t pid;

  if (word == MAP_FAILED || socketpair (AF_UNIX, SOCK_SEQPACKET, 0, socks) < 0
      || pipe (report) < 0)
    {
      perror ("bench-handoff");
      exit (1);
    }
  pid = fork ();
  if (pid < 0)
    {
      perror ("fork");
      exit (1);
    }
  if (pid == 0)
    serve (way, word, socks[1], n, report[1]);

  cpu0 = cpu_seconds ();
  start = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    {
      if (way == WAY_SEQPACKET)
        {
          if (send (socks[0], byte, sizeof byte, 0) != sizeof byte
              || recv (socks[0], byte, sizeof byte, 0) != sizeof byte)
            exit (1);
          continue;
        }
      post_word (way, word, 2 * i + 1);
      await_word (way, word, 2 * i + 2);
    }
  wall = g_get_monotonic_time () - start;
  cpu = cpu_seconds () - cpu0;
  if (read (report[0], &server_cpu, sizeof server_cpu) != sizeof server_cpu)
    exit (1);
  waitpid (pid, NULL, 0);
  printf ("HANDOFF-%s-wall %.2f us\n", way_names[way], (double) wall / n);
  printf ("HANDOFF-%s-cpu-client %.2f us\n", way_names[way], cpu * 1e6 / n);
  printf ("HANDOFF-%s-cpu-server %.2f us\n", way_names[way], server_cpu * 1e6 / n);
  munmap (word, 4096);
  close (socks[0]);
  close (socks[1]);
  close (report[0]);
  close (report[1]);
}

int
main (int argc, char **argv)
{
  guint n = argc > 1 ? (guint) strtoul (argv[1], NULL, 10) : 50000;

  if (n == 0)
    n = 50000;
  printf ("# load average before: ");
  fflush (stdout);
  if (system ("cut -d' ' -f1-4 /proc/loadavg") != 0)
    printf ("\n");
  for (Way way = WAY_FUTEX; way <= WAY_SPIN; way++)
    measure (way, way == WAY_SPIN ? 4 * n : n);
  return 0;
}
