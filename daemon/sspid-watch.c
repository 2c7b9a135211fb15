/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Watching credential files for changes (see sspid-watch.h), with GIO's
 * file monitors: inotify on Linux, which watches the directory, so a file
 * replaced by a rename is seen like one written in place.
 */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "sspid-watch.h"

struct _SspidWatch {
  GPtrArray *monitors;         /* GFileMonitor * */
  guint      settle_ms;
  guint      settle_id;        /* the pending call of changed, or 0 */
  void     (*changed) (gpointer data);
  gpointer   data;
};

static gboolean
settled_cb (gpointer user_data)
{
  SspidWatch *watch = user_data;

  watch->settle_id = 0;
  watch->changed (watch->data);
  return G_SOURCE_REMOVE;
}

static void
file_changed_cb (GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event,
                 gpointer user_data)
{
  SspidWatch *watch = user_data;

  /* Who may read it is the credential's business, not a new content. */
  if (event == G_FILE_MONITOR_EVENT_ATTRIBUTE_CHANGED)
    return;
  if (watch->settle_id != 0)
    g_source_remove (watch->settle_id);
  watch->settle_id = g_timeout_add (watch->settle_ms, settled_cb, watch);
}

static void
watch_path (SspidWatch *watch, GHashTable *seen, const char *path)
{
  g_autoptr (GFile) file = NULL;
  g_autoptr (GError) error = NULL;
  GFileMonitor *monitor;

  /* Not files: a token's objects, the system trust store. */
  if (path == NULL || g_str_has_prefix (path, "pkcs11:") || g_str_equal (path, "system")
      || !g_hash_table_add (seen, (gpointer) path))
    return;
  file = g_file_new_for_path (path);
  monitor = g_file_monitor_file (file, G_FILE_MONITOR_WATCH_MOVES, NULL, &error);
  if (monitor == NULL)
    {
      g_warning ("cannot watch '%s' for changes (reload with SIGHUP): %s", path,
                 error->message);
      return;
    }
  g_signal_connect (monitor, "changed", G_CALLBACK (file_changed_cb), watch);
  g_ptr_array_add (watch->monitors, monitor);
}

SspidWatch *
sspid_watch_new (const SspidConfig *config, guint settle_ms,
                 void (*changed) (gpointer data), gpointer data)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  SspidWatch *watch = g_new0 (SspidWatch, 1);

  watch->monitors = g_ptr_array_new ();
  watch->settle_ms = settle_ms;
  watch->changed = changed;
  watch->data = data;
  watch_path (watch, seen, config->default_trust);
  for (guint i = 0; i < config->credentials->len; i++)
    {
      const SspidCredentialConfig *cred = config->credentials->pdata[i];

      watch_path (watch, seen, cred->certificate);
      watch_path (watch, seen, cred->key);
      watch_path (watch, seen, cred->trust);
      watch_path (watch, seen, cred->ocsp_response);
    }
  return watch;
}

void
sspid_watch_free (SspidWatch *watch)
{
  if (watch == NULL)
    return;
  if (watch->settle_id != 0)
    g_source_remove (watch->settle_id);
  for (guint i = 0; i < watch->monitors->len; i++)
    {
      GFileMonitor *monitor = watch->monitors->pdata[i];

      g_signal_handlers_disconnect_by_data (monitor, watch);
      g_file_monitor_cancel (monitor);
      g_object_unref (monitor);
    }
  g_ptr_array_unref (watch->monitors);
  g_free (watch);
}
