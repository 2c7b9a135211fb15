/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A worker pool for jobs that must not run on the main thread (handshake
 * steps: a millisecond of crypto each), with its way back: a job's answer
 * leaves from the worker that ran it, and every finished job is then
 * handed to a function on the main thread, in the order the jobs
 * finished.  The pool knows nothing of what a job or an answer is.
 *
 * Jobs wait in a fair queue (sspid-fair.h), one lane per user, so users
 * take turns at the workers however many jobs each has queued; a worker
 * running a job of a user with more waiting lowers its own priority a
 * little (see WORKER_NICE in sspid-pool.c).
 *
 * The main thread sees a job after its answer has left, so before it
 * handles anything that may have come in reply to an answer it calls
 * sspid_pool_sync(): what it reports about a job is then never older
 * than what a caller was told.
 */
#pragma once

#include <glib.h>

typedef struct _SspidPool SspidPool;

/* @run: on a worker.  @answer: right after it, on the same worker: what
 * may leave at once (the done function does not run before it returns).
 * @done: on the main context, once per job, in the order the jobs
 * finished. */
typedef void (*SspidPoolFunc) (gpointer job, gpointer user_data);

/* A pool of @n_workers (0: one per processor) whose results come back on
 * @main_context.  NULL and @error if the threads cannot be made.  Free
 * with sspid_pool_free(). */
SspidPool *sspid_pool_new (GMainContext *main_context, guint n_workers, SspidPoolFunc run,
                           SspidPoolFunc answer, SspidPoolFunc done, gpointer user_data,
                           GError **error);

/* Queues @job in the lane of @lane (a uid).  Main thread. */
void sspid_pool_push (SspidPool *pool, guint lane, gpointer job);

/* Hands every job whose answer has left to the done function now,
 * waiting for the workers that are sending one at this moment.  Jobs
 * still running are not waited for.  Main thread, not from the done
 * function. */
void sspid_pool_sync (SspidPool *pool);

/* Runs every job queued, waits for them, hands each to the done function
 * (which must push no more), and frees the pool.  Its threads have ended
 * (joined, their thread-exit destructors run) when it returns.  Main
 * thread. */
void sspid_pool_free (SspidPool *pool);
