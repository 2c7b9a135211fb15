/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's worker pool (sspid-pool.h), without a bus: freeing it runs
 * every job queued and hands each back, and its threads have ended when
 * it returns.  The daemon frees its pools before it exits; a worker still
 * exiting then would run its thread-exit destructors (OpenSSL's per-thread
 * state, made by SoftHSM2 signing on a key worker) while exit() frees the
 * same state, which once crashed sspid at shutdown.
 */
#include "config.h"

#include <check.h>

#include "sspid-pool.h"
#include "testutil.h"

#define N_WORKERS 4
#define N_JOBS    64

/* Long enough that a thread told to stop but not waited for is still in
 * its destructor when the pool's free returns. */
#define DESTRUCTOR_MS 200

static gint threads_used;    /* atomic: workers that ran a job */
static gint threads_ended;   /* atomic: their thread-exit destructors done */
static gint jobs_run;        /* atomic */
static guint jobs_done;      /* main thread */

/* Per-thread state with a destructor, as a library's thread-local state
 * has. */
static void
thread_state_free (gpointer state)
{
  g_usleep (DESTRUCTOR_MS * 1000);
  g_atomic_int_inc (&threads_ended);
}

static GPrivate thread_state = G_PRIVATE_INIT (thread_state_free);

static void
run (gpointer job, gpointer user_data)
{
  if (g_private_get (&thread_state) == NULL)
    {
      g_private_set (&thread_state, GINT_TO_POINTER (1));
      g_atomic_int_inc (&threads_used);
    }
  g_usleep (1000);
  g_atomic_int_inc (&jobs_run);
}

static void
done (gpointer job, gpointer user_data)
{
  jobs_done++;
}

static SspidPool *
pool_with_jobs (void)
{
  g_autoptr (GError) error = NULL;
  SspidPool *pool;

  g_atomic_int_set (&threads_used, 0);
  g_atomic_int_set (&threads_ended, 0);
  g_atomic_int_set (&jobs_run, 0);
  jobs_done = 0;
  pool = sspid_pool_new (g_main_context_default (), N_WORKERS, run, done, NULL, &error);

  ck_assert_msg (pool != NULL, "sspid_pool_new: %s", error != NULL ? error->message : "?");
  for (guint i = 0; i < N_JOBS; i++)
    sspid_pool_push (pool, i % 3, GUINT_TO_POINTER (i + 1));
  return pool;
}

/* Freed with jobs still queued: each runs, and each is handed to the
 * done function, before the free returns. */
START_TEST (test_free_runs_what_is_queued)
{
  sspid_pool_free (pool_with_jobs ());
  ck_assert_int_eq (g_atomic_int_get (&jobs_run), N_JOBS);
  ck_assert_uint_eq (jobs_done, N_JOBS);
}
END_TEST

/* Once freed, no worker is left: each has run its thread-exit
 * destructors. */
START_TEST (test_free_ends_the_workers)
{
  int used, ended;

  sspid_pool_free (pool_with_jobs ());
  used = g_atomic_int_get (&threads_used);
  ended = g_atomic_int_get (&threads_ended);
  ck_assert_int_gt (used, 0);
  ck_assert_msg (ended == used, "%d of the %d workers that ran a job had ended", ended, used);
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "pool", NULL, tu_fixture_teardown, 60, { { test_free_runs_what_is_queued },
                                               { test_free_ends_the_workers } } },
  };

  return tu_run_cases ("pool", cases, G_N_ELEMENTS (cases));
}
