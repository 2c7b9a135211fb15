/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The worker pool and its completion source (see sspid-pool.h).
 *
 * The main thread pushes a job into its lane of the fair queue and a token
 * onto the workers' queue; each worker takes whichever job is next in turn
 * (not the one its token came with), runs it, and pushes it onto an async
 * queue that a GSource on the main context drains, in order.
 *
 * The workers are our own threads, not a GThreadPool's: freeing a
 * GThreadPool only tells its threads to stop, and they exit after it
 * returns, maybe while the daemon is already in exit().  A thread that
 * exits then runs its thread-exit destructors (OpenSSL's per-thread state,
 * created by SoftHSM2 signing on a key worker) at the same time as the
 * main thread's atexit handlers free the same state (OPENSSL_cleanup): a
 * double free at shutdown.  So sspid_pool_free() joins every worker.
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

/* On the workers' queue after the last job: a worker that pops it ends. */
#define STOP_TOKEN GINT_TO_POINTER (1)
#define JOB_TOKEN  GINT_TO_POINTER (2)

struct _SspidPool {
  GAsyncQueue    *tokens;     /* JOB_TOKEN per job in @waiting, then STOP_TOKENs */
  GPtrArray      *threads;    /* GThread*, joined when the pool is freed */
  SspidFairQueue *waiting;    /* jobs, per lane */
  GAsyncQueue    *finished;   /* jobs back from the workers, in order */
  GSource        *done_source;
  GMainContext   *main_context;
  SspidPoolFunc   run;
  SspidPoolFunc   done;
  gpointer        user_data;
};

/* Linux keeps a nice value per thread, and the pool's threads are ours
 * alone.  A syscall only when the value changes.  A failure is harmless:
 * the job runs at the priority it has.  (Under the
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
worker_run_one (SspidPool *pool)
{
  gboolean backlogged;
  gpointer job = sspid_fair_queue_pop_full (pool->waiting, &backlogged);

  /* One token per job pushed: there is always one. */
  g_assert (job != NULL);
  worker_set_nice (backlogged);
  pool->run (job, pool->user_data);
  g_async_queue_push (pool->finished, job);
  g_main_context_wakeup (pool->main_context);
}

static gpointer
worker_main (gpointer user_data)
{
  SspidPool *pool = user_data;

  while (g_async_queue_pop (pool->tokens) != STOP_TOKEN)
    worker_run_one (pool);
  return NULL;
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

  pool->tokens = g_async_queue_new ();
  pool->threads = g_ptr_array_new ();
  if (n_workers == 0)
    n_workers = g_get_num_processors ();
  /* The threads are ours for good (worker_set_nice). */
  for (guint i = 0; i < n_workers; i++)
    {
      GThread *thread = g_thread_try_new ("sspid-worker", worker_main, pool, error);

      if (thread == NULL)
        {
          sspid_pool_free (pool);
          return NULL;
        }
      g_ptr_array_add (pool->threads, thread);
    }
  return pool;
}

void
sspid_pool_push (SspidPool *pool, guint lane, gpointer job)
{
  sspid_fair_queue_push (pool->waiting, lane, job);
  g_async_queue_push (pool->tokens, JOB_TOKEN);
}

void
sspid_pool_free (SspidPool *pool)
{
  if (pool == NULL)
    return;
  /* The stop tokens queue behind every job's: each worker runs what is
   * queued, then ends; joined, it has run its thread-exit destructors
   * before this returns (and so before exit()). */
  for (guint i = 0; i < pool->threads->len; i++)
    g_async_queue_push (pool->tokens, STOP_TOKEN);
  for (guint i = 0; i < pool->threads->len; i++)
    g_thread_join (g_ptr_array_index (pool->threads, i));
  g_ptr_array_free (pool->threads, TRUE);
  g_async_queue_unref (pool->tokens);
  deliver_finished (pool);
  g_source_destroy (pool->done_source);
  g_source_unref (pool->done_source);
  g_async_queue_unref (pool->finished);
  sspid_fair_queue_free (pool->waiting);
  g_main_context_unref (pool->main_context);
  g_free (pool);
}
