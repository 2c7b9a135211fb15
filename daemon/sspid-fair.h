/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A fair queue: items wait in one lane per key (a uid), and lanes take
 * turns.  Whoever has work waiting gets the next turn after every other
 * key with work waiting has had one, however much work each has queued:
 * one user's backlog delays another's item by at most one item per lane
 * ahead of it, never by the backlog itself.
 *
 * Thread-safe: the main thread pushes, workers pop.
 */
#pragma once

#include <glib.h>

typedef struct _SspidFairQueue SspidFairQueue;

/* Free with sspid_fair_queue_free(), once empty. */
SspidFairQueue *sspid_fair_queue_new (void);
void sspid_fair_queue_free (SspidFairQueue *queue);

/* Queues @item (not NULL) behind the items of @key. */
void sspid_fair_queue_push (SspidFairQueue *queue, guint key, gpointer item);

/* The head of the next lane in turn, or NULL if nothing waits. */
gpointer sspid_fair_queue_pop (SspidFairQueue *queue);

gboolean sspid_fair_queue_is_empty (SspidFairQueue *queue);
