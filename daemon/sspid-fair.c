/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fair queue (see sspid-fair.h): round-robin over keys.  Lanes with
 * items wait in a ring; popping takes one item from the lane at the head
 * and puts that lane at the tail if it still has items.  A lane that runs
 * empty is freed, so a key that comes back later queues at the tail like
 * any newcomer.
 */
#include "config.h"

#include "sspid-fair.h"

typedef struct {
  guint  key;
  GQueue items;
} Lane;

struct _SspidFairQueue {
  GMutex      lock;
  GHashTable *lanes;   /* key -> Lane *, for the lanes in the ring */
  GQueue      ring;    /* Lane *, whose turn comes next at the head */
};

SspidFairQueue *
sspid_fair_queue_new (void)
{
  SspidFairQueue *queue = g_new0 (SspidFairQueue, 1);

  g_mutex_init (&queue->lock);
  queue->lanes = g_hash_table_new (NULL, NULL);
  g_queue_init (&queue->ring);
  return queue;
}

void
sspid_fair_queue_free (SspidFairQueue *queue)
{
  if (queue == NULL)
    return;
  g_assert (g_queue_is_empty (&queue->ring));
  g_hash_table_unref (queue->lanes);
  g_mutex_clear (&queue->lock);
  g_free (queue);
}

void
sspid_fair_queue_push (SspidFairQueue *queue, guint key, gpointer item)
{
  Lane *lane;

  g_return_if_fail (item != NULL);
  g_mutex_lock (&queue->lock);
  lane = g_hash_table_lookup (queue->lanes, GUINT_TO_POINTER (key));
  if (lane == NULL)
    {
      lane = g_new0 (Lane, 1);
      lane->key = key;
      g_queue_init (&lane->items);
      g_hash_table_insert (queue->lanes, GUINT_TO_POINTER (key), lane);
      g_queue_push_tail (&queue->ring, lane);
    }
  g_queue_push_tail (&lane->items, item);
  g_mutex_unlock (&queue->lock);
}

gpointer
sspid_fair_queue_pop (SspidFairQueue *queue)
{
  gpointer item = NULL;
  Lane *lane;

  g_mutex_lock (&queue->lock);
  lane = g_queue_pop_head (&queue->ring);
  if (lane != NULL)
    {
      item = g_queue_pop_head (&lane->items);
      if (!g_queue_is_empty (&lane->items))
        g_queue_push_tail (&queue->ring, lane);
      else
        {
          g_hash_table_remove (queue->lanes, GUINT_TO_POINTER (lane->key));
          g_free (lane);
        }
    }
  g_mutex_unlock (&queue->lock);
  return item;
}

gboolean
sspid_fair_queue_is_empty (SspidFairQueue *queue)
{
  gboolean empty;

  g_mutex_lock (&queue->lock);
  empty = g_queue_is_empty (&queue->ring);
  g_mutex_unlock (&queue->lock);
  return empty;
}
