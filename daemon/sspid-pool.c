/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The worker pool and its completion source (see sspid-pool.h).
 *
 * The main thread pushes a job into its lane of the fair queue and a token
 * into a GThreadPool; each worker takes whichever job is next in turn
 * (not the one its token came with), runs it, and pushes it onto an async
 * queue that a GSource on the main context drains, in order.
 */
#include "config.h"

#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sspid-fair.h"
#include "sspid-pool.h"

/* How much nicer a worker is while it runs the job of a user who has more
 * jobs waiting.  A step is a millisecond of crypto; taking a call off the
 * bus, queueing it in its user's turn and sending an answer are
 * microseconds that somebody waits on.  So when one user's backlog keeps
 * the workers busy, the front (bus reader, main thread), the bus, the
 * callers and the steps of users without a backlog still get a CPU at
 * once: another user's step waits for its turn at a worker, not for a CPU
 * as well. */
#define WORKER_NICE 5

typedef struct {
  GSource      source;
  GAsyncQueue *finished;
} DoneSource;

struct _SspidPool {
  GThreadPool    *threads;    /* a token per job in @waiting */
  SspidFairQueue *waiting;    /* jobs, per lane */
  GAsyncQueue    *finished;   /* jobs back from the workers, in order */
  GSource        *done_source;
  GMainContext   *main_context;
  SspidPoolFunc   run;
  SspidPoolFunc   done;
  gpointer        user_data;
};

/* Linux keeps a nice value per thread, and the pool's threads are ours
 * alone (an exclusive pool).  A syscall only when the value changes.  A
 * failure is harmless: the job runs at the priority it has.  (Under the
 * shipped unit, SystemCallFilter=~@resources refuses setpriority(), and an
 * unprivileged daemon may raise its nice value but not lower it again, so
 * there the workers keep one priority: a known gap, see the README.) */
static void
worker_set_nice (gboolean backlogged)
{
  static __thread int base = G_MININT;
  static __thread int current = G_MININT;
  int wanted;

  if (base == G_MININT)
    {
      errno = 0;
      base = getpriority (PRIO_PROCESS, 0);
      if (errno != 0)
        base = 0;
      current = base;
    }
  wanted = backlogged ? MIN (base + WORKER_NICE, 19) : base;
  if (wanted != current
      && setpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid), wanted) == 0)
    current = wanted;
}

static void
worker_run (gpointer token, gpointer user_data)
{
  SspidPool *pool = user_data;
  gboolean backlogged;
  gpointer job = sspid_fair_queue_pop_full (pool->waiting, &backlogged);

  /* One token per job pushed: there is always one. */
  g_assert (job != NULL);
  worker_set_nice (backlogged);
  pool->run (job, pool->user_data);
  g_async_queue_push (pool->finished, job);
  g_main_context_wakeup (pool->main_context);
}

/* Ready while jobs are back; a worker wakes the main context up after
 * each push. */
static gboolean
done_source_prepare (GSource *source, gint *timeout)
{
  *timeout = -1;
  return g_async_queue_length (((DoneSource *) source)->finished) > 0;
}

static gboolean
done_source_check (GSource *source)
{
  return g_async_queue_length (((DoneSource *) source)->finished) > 0;
}

static gboolean
done_source_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  return callback (user_data);
}

static GSourceFuncs done_source_funcs = {
  .prepare = done_source_prepare,
  .check = done_source_check,
  .dispatch = done_source_dispatch,
};

static void
deliver_finished (SspidPool *pool)
{
  gpointer job;

  while ((job = g_async_queue_try_pop (pool->finished)) != NULL)
    pool->done (job, pool->user_data);
}

static gboolean
done_cb (gpointer user_data)
{
  deliver_finished (user_data);
  return G_SOURCE_CONTINUE;
}

SspidPool *
sspid_pool_new (GMainContext *main_context, guint n_workers, SspidPoolFunc run,
                SspidPoolFunc done, gpointer user_data, GError **error)
{
  SspidPool *pool = g_new0 (SspidPool, 1);

  pool->main_context = g_main_context_ref (main_context);
  pool->run = run;
  pool->done = done;
  pool->user_data = user_data;
  pool->waiting = sspid_fair_queue_new ();
  pool->finished = g_async_queue_new ();
  pool->done_source = g_source_new (&done_source_funcs, sizeof (DoneSource));
  ((DoneSource *) pool->done_source)->finished = pool->finished;
  g_source_set_callback (pool->done_source, done_cb, pool, NULL);
  g_source_set_name (pool->done_source, "sspid worker results");
  g_source_attach (pool->done_source, main_context);

  /* Exclusive: the threads are ours for good (worker_set_nice). */
  pool->threads = g_thread_pool_new (worker_run, pool,
                                     (gint) (n_workers != 0 ? n_workers : g_get_num_processors ()),
                                     TRUE, error);
  if (pool->threads == NULL)
    {
      sspid_pool_free (pool);
      return NULL;
    }
  return pool;
}

void
sspid_pool_push (SspidPool *pool, guint lane, gpointer job)
{
  sspid_fair_queue_push (pool->waiting, lane, job);
  g_thread_pool_push (pool->threads, pool, NULL);
}

void
sspid_pool_free (SspidPool *pool)
{
  if (pool == NULL)
    return;
  if (pool->threads != NULL)
    g_thread_pool_free (g_steal_pointer (&pool->threads), FALSE, TRUE);
  deliver_finished (pool);
  g_source_destroy (pool->done_source);
  g_source_unref (pool->done_source);
  g_async_queue_unref (pool->finished);
  sspid_fair_queue_free (pool->waiting);
  g_main_context_unref (pool->main_context);
  g_free (pool);
}
