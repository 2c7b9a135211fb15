/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Counts per key (see sspid-counts.h): the count is the value itself,
 * stored as a pointer-sized integer.
 */
#include "config.h"

#include "sspid-counts.h"

GHashTable *
sspid_counts_new (void)
{
  return g_hash_table_new (NULL, NULL);
}

guint
sspid_counts_get (GHashTable *counts, gconstpointer key)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (counts, key));
}

void
sspid_counts_add (GHashTable *counts, gconstpointer key, int delta)
{
  guint n = sspid_counts_get (counts, key) + delta;

  if (n == 0)
    g_hash_table_remove (counts, key);
  else
    g_hash_table_insert (counts, (gpointer) key, GUINT_TO_POINTER (n));
}
