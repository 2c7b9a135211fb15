/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the library remembers about live handles, so that some questions
 * need no round trip to the daemon:
 *
 * - per credential, the protocols it was acquired with (the daemon does not
 *   expose them; QueryCredentialsAttributes(SECPKG_ATTR_SUPPORTED_PROTOCOLS)
 *   answers from here);
 * - per context, its record sizes (SECPKG_ATTR_STREAM_SIZES), learnt the
 *   first time they are asked for, so that EncryptMessage can refuse buffers
 *   that are too small BEFORE the daemon protects a record.  A record the
 *   daemon made and the caller could not take would have used up a sequence
 *   number, and the stream would be broken for good.
 *
 * Entries carry the generation of the session their handle belongs to;
 * when the session dies (a new generation), the whole cache is dropped.
 *
 * Locking: a mutex of its own, taken after the library lock (sspi_lock) when
 * both are held, never before it.  Nothing here calls back into the rest of
 * the library.
 */

#include "config.h"

#include "sspi-private.h"

typedef struct {
  guint32                   protocols;   /* credentials */
  char                     *principal;   /* a GRefString, or NULL */
  gboolean                  has_sizes;   /* contexts */
  SecPkgContext_StreamSizes sizes;
} Entry;

static GMutex cache_lock;
static guint cache_generation;
static GHashTable *credentials;   /* guint64 handle -> Entry */
static GHashTable *contexts;

static void
entry_free (gpointer data)
{
  Entry *entry = data;

  g_clear_pointer (&entry->principal, g_ref_string_release);
  g_free (entry);
}

static GHashTable *
table_for (SspiHandleKind kind)
{
  GHashTable **table = kind == SSPI_HANDLE_CREDENTIAL ? &credentials : &contexts;

  if (*table == NULL)
    *table = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, entry_free);
  return *table;
}

/* Drops everything from before @generation.  FALSE if @generation is
 * itself from before (a late answer of a dead session). Lock held. */
static gboolean
enter_generation_locked (guint generation)
{
  if (generation < cache_generation)
    return FALSE;
  if (generation > cache_generation)
    {
      if (credentials != NULL)
        g_hash_table_remove_all (credentials);
      if (contexts != NULL)
        g_hash_table_remove_all (contexts);
      cache_generation = generation;
    }
  return TRUE;
}

/* The entry of @handle, created if @create.  Lock held. */
static Entry *
lookup_locked (SspiHandleKind kind, guint64 handle, guint generation,
               gboolean create)
{
  GHashTable *table;
  Entry *entry;
  guint64 *key;

  if (!enter_generation_locked (generation))
    return NULL;
  table = table_for (kind);
  entry = g_hash_table_lookup (table, &handle);
  if (entry != NULL || !create)
    return entry;
  key = g_new (guint64, 1);
  *key = handle;
  entry = g_new0 (Entry, 1);
  g_hash_table_insert (table, key, entry);
  return entry;
}

void
sspi_cache_set_credential (guint64 credential, guint generation, guint32 protocols,
                           const char *principal)
{
  Entry *entry;

  g_mutex_lock (&cache_lock);
  entry = lookup_locked (SSPI_HANDLE_CREDENTIAL, credential, generation, TRUE);
  if (entry != NULL)
    {
      entry->protocols = protocols;
      g_clear_pointer (&entry->principal, g_ref_string_release);
      entry->principal = principal != NULL ? g_ref_string_acquire ((char *) principal) : NULL;
    }
  g_mutex_unlock (&cache_lock);
}

gboolean
sspi_cache_get_credential (guint64 credential, guint generation, guint32 *protocols,
                           char **principal)
{
  Entry *entry;

  g_mutex_lock (&cache_lock);
  entry = lookup_locked (SSPI_HANDLE_CREDENTIAL, credential, generation, FALSE);
  if (entry != NULL)
    {
      *protocols = entry->protocols;
      *principal = g_strdup (entry->principal);
    }
  g_mutex_unlock (&cache_lock);
  return entry != NULL;
}

void
sspi_cache_set_sizes (guint64 context, guint generation,
                      const SecPkgContext_StreamSizes *sizes)
{
  Entry *entry;

  g_mutex_lock (&cache_lock);
  entry = lookup_locked (SSPI_HANDLE_CONTEXT, context, generation, TRUE);
  if (entry != NULL)
    {
      entry->sizes = *sizes;
      entry->has_sizes = TRUE;
    }
  g_mutex_unlock (&cache_lock);
}

gboolean
sspi_cache_get_sizes (guint64 context, guint generation,
                      SecPkgContext_StreamSizes *sizes)
{
  Entry *entry;
  gboolean found;

  g_mutex_lock (&cache_lock);
  entry = lookup_locked (SSPI_HANDLE_CONTEXT, context, generation, FALSE);
  found = entry != NULL && entry->has_sizes;
  if (found)
    *sizes = entry->sizes;
  g_mutex_unlock (&cache_lock);
  return found;
}

void
sspi_cache_forget (SspiHandleKind kind, guint64 handle)
{
  g_mutex_lock (&cache_lock);
  g_hash_table_remove (table_for (kind), &handle);
  g_mutex_unlock (&cache_lock);
}

void
sspi_cache_atfork_prepare (void)
{
  g_mutex_lock (&cache_lock);
}

void
sspi_cache_atfork_parent (void)
{
  g_mutex_unlock (&cache_lock);
}

void
sspi_cache_atfork_child (void)
{
  /* The child's generation moved on: the next use drops what is here. */
  g_mutex_unlock (&cache_lock);
}
