/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The cache of parsed GnuTLS priority strings that every kind of session
 * (stream, datagram, QUIC) and QueryCredentialsAttributes start from.
 */
#include "config.h"

#include "sspid-tls-private.h"

/* Parsed priorities, by string.  Parsing one costs more than the rest of a
 * session's setup, and there are only as many strings as protocol masks in
 * use (a handful), so they are kept for the life of the process. */
gnutls_priority_t
sspid_tls_lookup_priority (const char *text, const char **err_pos, int *ret)
{
  static GMutex lock;
  static GHashTable *cache;
  gnutls_priority_t priority;

  g_mutex_lock (&lock);
  if (cache == NULL)
    cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  priority = g_hash_table_lookup (cache, text);
  if (priority == NULL)
    {
      *ret = gnutls_priority_init (&priority, text, err_pos);
      if (*ret < 0)
        priority = NULL;
      else
        g_hash_table_insert (cache, g_strdup (text), priority);
    }
  g_mutex_unlock (&lock);
  return priority;
}
