/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Counts per key, for the limits that the record channels and the peer
 * connections keep per user (and per opening connection): how many of
 * something a key has open, where a count of 0 is no entry at all, so a
 * table holds only the keys that have something.  The table is a
 * GHashTable of direct keys made with sspid_counts_new() and freed with
 * g_hash_table_unref().  Not thread-safe: the owner's thread only.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

/* The key of @uid in a table of counts. */
#define SSPID_UID_KEY(uid) GUINT_TO_POINTER ((guint) (uid))

/* A new, empty table of counts. */
GHashTable *sspid_counts_new (void);

/* The count of @key (0 when it has none). */
guint sspid_counts_get (GHashTable *counts, gconstpointer key);

/* Adds @delta (+1 or -1) to the count of @key; a count that falls to 0
 * leaves the table. */
void sspid_counts_add (GHashTable *counts, gconstpointer key, int delta);
