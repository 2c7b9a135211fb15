/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * M1: what an established, idle security context costs the daemon in
 * memory.  The daemon's resident set is read before and after 10,000 full
 * handshakes whose server contexts are kept (the clients are in-process
 * GnuTLS and go away), and once more after deleting them all, which shows
 * what the allocator keeps.
 */
#include "config.h"

#include <sspi.h>

#include "bench-sspi.h"
#include "bench-util.h"
#include "sspid-proto.h"

#define CONTEXTS  10000

/* The daemon's own count of contexts (GetStatus), or -1 if it has no
 * GetStatus yet. */
static gint64
daemon_contexts (GDBusConnection *connection)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) status = NULL;
  guint32 contexts = 0;

  reply = g_dbus_connection_call_sync (connection, SSPID_BUS_NAME, SSPID_OBJECT_PATH,
                                       SSPID_INTERFACE, "GetStatus", NULL,
                                       G_VARIANT_TYPE ("(a{sv})"), G_DBUS_CALL_FLAGS_NONE,
                                       10000, NULL, NULL);
  if (reply == NULL)
    return -1;
  g_variant_get (reply, "(@a{sv})", &status);
  if (!g_variant_lookup (status, "contexts", "u", &contexts))
    return -1;
  return contexts;
}

/* Checks the daemon's count where it can tell. */
static void
check_contexts (GDBusConnection *connection, guint32 wanted)
{
  gint64 held = daemon_contexts (connection);

  if (held >= 0 && held != wanted)
    bench_die ("the daemon holds %" G_GINT64_FORMAT " contexts, not %u", held, wanted);
}

/* Deletes every context of @contexts: all but the last fire and forget,
 * the last one waited for.  The daemon answers one connection's calls in
 * order, so when that answer is here every delete has been done. */
static void
delete_all (GArray *contexts)
{
  for (guint i = 0; i + 1 < contexts->len; i++)
    {
      SspiAsyncContext *ac = SspiCreateAsyncContext ();

      SspiDeleteSecurityContextAsync (ac, &g_array_index (contexts, CtxtHandle, i));
      SspiFreeAsyncContext (ac);
    }
  if (contexts->len > 0
      && DeleteSecurityContext (&g_array_index (contexts, CtxtHandle, contexts->len - 1))
         != SEC_E_OK)
    bench_die ("DeleteSecurityContext failed");
}

int
main (int argc, char **argv)
{
  BenchLimits limits = { .max_contexts = 2 * CONTEXTS };
  BenchEnv *env = bench_env_start (&limits);
  g_autoptr(GDBusConnection) connection = bench_env_connect (env);
  BenchHsOptions warm = { .in_flight = 64, .seconds = 60, .max_handshakes = 512 };
  BenchHsOptions keep = { .in_flight = 64, .seconds = 600, .max_handshakes = CONTEXTS,
                          .is_keeping_contexts = TRUE };
  g_auto(BenchHsResult) result = { 0 };
  guint64 before, after, deleted;

  bench_hs_init ();
  /* Steady state first: worker threads, caches and the allocator's arenas. */
  bench_hs_run (&warm, &result);
  bench_hs_result_clear (&result);
  g_usleep (200000);   /* the warm-up's fire-and-forget deletes */
  check_contexts (connection, 0);
  before = bench_proc_rss_kib (env->daemon_pid);

  /* Every handshake ended with the daemon's answer: its contexts exist. */
  bench_hs_run (&keep, &result);
  check_contexts (connection, CONTEXTS);
  after = bench_proc_rss_kib (env->daemon_pid);

  delete_all (result.server_contexts);
  check_contexts (connection, 0);
  deleted = bench_proc_rss_kib (env->daemon_pid);

  bench_report ("M1-sspid-rss-idle", before / 1024.0, "MiB");
  bench_report ("M1-sspid-rss-10k", after / 1024.0, "MiB");
  bench_report ("M1-per-context", (double) (after - before) / CONTEXTS, "KiB");
  bench_report ("M1-kept-after-delete", (double) (deleted - before) / CONTEXTS, "KiB");
  bench_env_stop (env);
  return 0;
}
