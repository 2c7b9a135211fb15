/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A worker pool for jobs that must not run on the main thread (handshake
 * steps: a millisecond of crypto each), with its way back: every finished
 * job is handed to a function on the main thread, in the order the jobs
 * finished.  The pool knows nothing of what a job is.
 *
 * Jobs wait in a fair queue (sspid-fair.h), one lane per user, so users
 * take turns at the workers however many jobs each has queued; a worker
 * running a job of a user with more waiting lowers its own priority a
 * little (see WORKER_NICE in sspid-pool.c).
 *
 * Because the main thread sees a job's result before anything of it leaves
 * the daemon (the done function sends the answer), what the main thread
 * reports about a job is never older than what a caller was told.
 */
#pragma once

#include <glib.h>

typedef struct _SspidPool SspidPool;

/* @run: on a worker.  @done: on the main context, once per job, in the
 * order the jobs finished. */
typedef void (*SspidPoolFunc) (gpointer job, gpointer user_data);

/* A pool of @n_workers (0: one per processor) whose results come back on
 * @main_context.  NULL and @error if the threads cannot be made.  Free
 * with sspid_pool_free(). */
SspidPool *sspid_pool_new (GMainContext *main_context, guint n_workers, SspidPoolFunc run,
                           SspidPoolFunc done, gpointer user_data, GError **error);

/* Queues @job in the lane of @lane (a uid).  Main thread. */
void sspid_pool_push (SspidPool *pool, guint lane, gpointer job);

/* Runs every job queued, waits for them, hands each to the done function
 * (which must push no more), and frees the pool.  Its threads have ended
 * (joined, their thread-exit destructors run) when it returns.  Main
 * thread. */
void sspid_pool_free (SspidPool *pool);
