/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the tests (see testutil.h), the part that reads how
 * things are rather than starting them: how the tests run (a daemon
 * wrapper such as valgrind, AddressSanitizer), what the daemon says it
 * holds (GetStatus), and a process's memory and CPU time from /proc.
 */
#include "config.h"

#include "testutil.h"

#include <check.h>
#include <dirent.h>
#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sspid-proto.h"

/* ---- how the tests run ------------------------------------------------- */

gboolean
tu_is_wrapped (void)
{
  const char *wrapper = g_getenv (TU_DAEMON_WRAPPER_ENV);
  return wrapper != NULL && *wrapper != '\0';
}

/* The tests are built with the same flags as the daemon, so this unit's
 * own instrumentation says. */
#if defined(__SANITIZE_ADDRESS__)
#define TU_ASAN 1
#elif defined(__has_feature)
#if __has_feature (address_sanitizer)
#define TU_ASAN 1
#endif
#endif
#ifndef TU_ASAN
#define TU_ASAN 0
#endif

gboolean
tu_is_sanitized (void)
{
  return TU_ASAN;
}

/* Whether every thread of this process but the calling one is asleep in
 * the kernel (state S or D in /proc/self/task/TID/stat). */
static gboolean
other_threads_asleep (void)
{
  pid_t self = (pid_t) syscall (SYS_gettid);
  gboolean asleep = TRUE;
  struct dirent *e;
  DIR *dir = opendir ("/proc/self/task");

  if (dir == NULL)
    return TRUE;
  while (asleep && (e = readdir (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *stat = NULL;
      const char *state;

      if (e->d_name[0] == '.' || atoi (e->d_name) == self)
        continue;
      path = g_strdup_printf ("/proc/self/task/%s/stat", e->d_name);
      /* A thread that exited meanwhile has no stat: it allocates nothing. */
      if (!g_file_get_contents (path, &stat, NULL, NULL))
        continue;
      /* "TID (COMM) STATE ...": COMM may hold spaces and parentheses. */
      state = strrchr (stat, ')');
      asleep = state != NULL && (state[2] == 'S' || state[2] == 'D');
    }
  closedir (dir);
  return asleep;
}

pid_t
tu_fork_quiet (void)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_TIME_SPAN_SECOND;
  int quiet_checks = 0;

  /* Twice in a row, a millisecond apart: a thread between two system
   * calls is seen running at least once. */
  while (quiet_checks < 2 && g_get_monotonic_time () < deadline)
    {
      quiet_checks = other_threads_asleep () ? quiet_checks + 1 : 0;
      g_usleep (1000);
    }
  return fork ();
}

guint
tu_slowdown (void)
{
  if (tu_is_wrapped ())
    return 6;
  return tu_is_sanitized () ? 4 : 1;
}

guint
tu_scaled_ms (guint ms)
{
  return ms * tu_slowdown ();
}

/* Before main() builds its suite: check reads CK_TIMEOUT_MULTIPLIER when
 * a test case's timeout is set, so every tcase_set_timeout() of a slow
 * build is scaled at once, the ones to come included. */
__attribute__((constructor)) static void
scale_check_timeouts (void)
{
  g_autofree char *factor = NULL;

  if (tu_slowdown () == 1 || g_getenv ("CK_TIMEOUT_MULTIPLIER") != NULL)
    return;
  factor = g_strdup_printf ("%u", tu_slowdown ());
  g_setenv ("CK_TIMEOUT_MULTIPLIER", factor, FALSE);
}

/* ---- the daemon's counts ------------------------------------------------ */

TuCounts
tu_fixture_counts (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) c = NULL;

  c = g_dbus_connection_new_for_address_sync (tu_fixture_env->bus_address,
                                              G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                                              | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                              NULL, NULL, &error);
  ck_assert_ptr_nonnull (c);
  return tu_get_counts (c);
}

TuCounts
tu_get_counts (GDBusConnection *conn)
{
  static const char *const keys[] = { "clients", "contexts", "credentials", "pending" };
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) status = NULL;
  guint32 values[G_N_ELEMENTS (keys)];
  TuCounts c;

  reply = g_dbus_connection_call_sync (conn, SSPID_BUS_NAME, SSPID_OBJECT_PATH,
                                       SSPID_INTERFACE, "GetStatus", NULL,
                                       G_VARIANT_TYPE ("(a{sv})"), G_DBUS_CALL_FLAGS_NONE,
                                       -1, NULL, &error);
  if (reply == NULL)
    ck_abort_msg ("GetStatus: %s", error->message);
  status = g_variant_get_child_value (reply, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (!g_variant_lookup (status, keys[i], "u", &values[i]))
      ck_abort_msg ("GetStatus: no u \"%s\"", keys[i]);
  c.clients = values[0];
  c.contexts = values[1];
  c.credentials = values[2];
  c.pending = values[3];
  return c;
}

gboolean
tu_counts_equal (const TuCounts *a, const TuCounts *b)
{
  return a->clients == b->clients && a->contexts == b->contexts &&
         a->credentials == b->credentials && a->pending == b->pending;
}

/* ---- /proc figures ------------------------------------------------------ */

guint64
tu_process_rss_kib (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int) pid);
  g_autofree char *text = NULL;
  const char *line;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    ck_abort_msg ("cannot read %s", path);
  line = strstr (text, "VmRSS:");
  if (line == NULL)
    ck_abort_msg ("no VmRSS in %s", path);
  return g_ascii_strtoull (line + strlen ("VmRSS:"), NULL, 10);
}

double
tu_process_cpu_seconds (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *stat = NULL;
  g_auto (GStrv) fields = NULL;
  const char *after_comm;

  if (!g_file_get_contents (path, &stat, NULL, NULL) ||
      (after_comm = strrchr (stat, ')')) == NULL)
    return -1;
  fields = g_strsplit (after_comm + 2, " ", 0);
  if (g_strv_length (fields) < 13)
    return -1;
  /* utime and stime are fields 14 and 15 of proc(5)'s stat; field 3 is
   * fields[0]. */
  return (g_ascii_strtod (fields[11], NULL) + g_ascii_strtod (fields[12], NULL)) /
         sysconf (_SC_CLK_TCK);
}
