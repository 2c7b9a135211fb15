/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The caller registry (see sspid-caller.h): callers keyed by unique bus
 * name, their identity from GetConnectionCredentials (asked once, calls
 * queued meanwhile), their credential and context handles, and the counters
 * behind the limits.  A caller is dropped with everything it owns as soon as
 * the bus says its connection closed.  A peer-to-peer connection's caller
 * takes its identity from the bus caller it was handed to, and is dropped
 * by whoever watches that connection (sspid-peers.c).
 *
 * Main-thread only.  A caller is reference counted so that work still in
 * flight for it (a handshake step on a worker) can finish safely after the
 * caller is gone; everything it owned is released at once all the same.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "sspid-caller.h"
#include "sspid-user.h"

typedef enum {
  CALLER_RESOLVING,   /* GetConnectionCredentials in flight; calls queue */
  CALLER_READY,       /* identity known */
  CALLER_FAILED,      /* could not learn the identity: every call is denied */
  CALLER_GONE,        /* connection closed, or the registry is gone */
} CallerState;

typedef struct {
  GDBusMethodInvocation *invocation;
  SspidCallerFunc        func;
  gpointer               user_data;
} QueuedCall;

struct _SspidCaller {
  gint                 ref;          /* main thread only */
  SspidCallerRegistry *registry;     /* NULL once dropped from it */
  char                *name;
  char                *log_tag;
  char                *unit;         /* its systemd unit, learned at first need */
  CallerState          state;
  gboolean             has_identity; /* identity learned (it stays once gone) */
  gboolean             is_peer;      /* a peer-to-peer connection's */
  SspidIdentity        identity;
  GQueue               queued;       /* QueuedCall *, while resolving */
  GHashTable          *credentials;  /* guint64 * -> SspidCredential * */
  GHashTable          *contexts;     /* guint64 * -> opaque context */
  GArray              *attached;     /* Attached: closed when the caller goes */
  guint                n_pending;
  SspidUser           *user;         /* its uid's, once identified; NULL once gone */
};

typedef struct {
  gpointer       object;
  GDestroyNotify close;
} Attached;

struct _SspidCallerRegistry {
  GDBusConnection        *connection;
  GCancellable           *cancellable;
  GHashTable             *callers;       /* unique name -> SspidCaller * (ref) */
  GHashTable             *users;         /* uid -> SspidUser *, kept while we live */
  guint                   name_owner_changed_id;
  guint                   refusals_timer;  /* tells the counts of ended minutes */
  SspidUser             *unidentified;    /* refusals of callers not yet known */
  SspidContextReleaseFunc release;

  SspidLimits limits;

  guint n_contexts;
  guint n_credentials;
  guint n_pending;
  guint n_peers;        /* callers that are peer connections' */
  guint peers_made;     /* names them apart */
};

static void caller_drop (SspidCaller *caller);
static SspidUser *registry_user (SspidCallerRegistry *registry, uid_t uid);

guint64
sspid_random_u64 (void)
{
  static gboolean warned;
  guint64 value = 0;

  while (value == 0 || value == G_MAXUINT64)
    {
      ssize_t n = getrandom (&value, sizeof value, 0);

      if (n == (ssize_t) sizeof value)
        continue;
      if (n < 0 && errno == EINTR)
        continue;
      /* Only a kernel without getrandom() gets here.  Handles are scoped
       * to their connection anyway; unguessable values are defence in
       * depth, so keep serving. */
      if (!warned)
        g_warning ("getrandom() failed (%s); using GLib's generator",
                   g_strerror (errno));
      warned = TRUE;
      value = ((guint64) g_random_int () << 32) | g_random_int ();
    }
  return value;
}

/* --- identity ----------------------------------------------------------- */

/* Groups of @uid from the user database, for a bus that does not report
 * UnixGroupIDs (dbus-daemon and dbus-broker both do).  A uid without a
 * passwd entry has no groups.  Synchronous: NSS lookups are local on the
 * systems this runs on, and it happens once per connection at most. */
static void
identity_groups_from_uid (SspidIdentity *identity)
{
  struct passwd pwd, *result = NULL;
  long size_max = sysconf (_SC_GETPW_R_SIZE_MAX);
  gsize buf_size = size_max > 0 ? (gsize) size_max : 16384;
  g_autofree char *buf = g_malloc (buf_size);
  int ngroups = 32;
  g_autofree gid_t *groups = NULL;

  while (getpwuid_r (identity->uid, &pwd, buf, buf_size, &result) == ERANGE
         && buf_size < 1024 * 1024)
    {
      buf_size *= 2;
      buf = g_realloc (buf, buf_size);
    }
  if (result == NULL)
    return;

  for (;;)
    {
      int n = ngroups;

      groups = g_renew (gid_t, groups, ngroups);
      if (getgrouplist (pwd.pw_name, pwd.pw_gid, groups, &n) >= 0)
        {
          ngroups = n;
          break;
        }
      if (n <= ngroups)         /* no progress: give up rather than spin */
        return;
      ngroups = n;
    }
  identity->gids = g_steal_pointer (&groups);
  identity->n_gids = (guint) ngroups;
}

static gboolean
identity_parse (GVariant *reply, SspidIdentity *identity, GError **error)
{
  g_autoptr(GVariant) creds = g_variant_get_child_value (reply, 0);
  g_autoptr(GVariant) gids = NULL;
  guint32 uid, pid;

  if (!g_variant_lookup (creds, "UnixUserID", "u", &uid))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           "the bus did not tell the caller's uid");
      return FALSE;
    }
  identity->uid = (uid_t) uid;
  identity->pid = g_variant_lookup (creds, "ProcessID", "u", &pid) ? (pid_t) pid : 0;

  gids = g_variant_lookup_value (creds, "UnixGroupIDs", G_VARIANT_TYPE ("au"));
  if (gids != NULL)
    {
      gsize n = 0;
      const guint32 *values = g_variant_get_fixed_array (gids, &n, sizeof (guint32));

      identity->gids = g_new (gid_t, MAX (n, 1));
      for (gsize i = 0; i < n; i++)
        identity->gids[i] = (gid_t) values[i];
      identity->n_gids = (guint) n;
    }
  else
    identity_groups_from_uid (identity);
  return TRUE;
}

static void
caller_flush_queue (SspidCaller *caller)
{
  QueuedCall *q;

  sspid_caller_ref (caller);
  while ((q = g_queue_pop_head (&caller->queued)) != NULL)
    {
      q->func (caller, q->invocation, q->user_data);
      g_free (q);
    }
  sspid_caller_unref (caller);
}

static void
identity_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(SspidCaller) caller = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  gboolean sender_vanished;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);

  /* Gone meanwhile (or the registry is shutting down): the queue was
   * already answered. */
  if (caller->state != CALLER_RESOLVING)
    return;

  if (reply == NULL || !identity_parse (reply, &caller->identity, &error))
    {
      sspid_caller_log_refusal (caller, "identity", NULL, 0,
                                "could not identify caller, denying its calls: %s",
                                error->message);
      caller->state = CALLER_FAILED;
      sender_vanished = g_error_matches (error, G_DBUS_ERROR,
                                         G_DBUS_ERROR_NAME_HAS_NO_OWNER);
      caller_flush_queue (caller);
      /* Its NameOwnerChanged may have come before we knew the caller;
       * nothing else would ever drop it. */
      if (sender_vanished && caller->registry != NULL)
        caller_drop (caller);
      return;
    }

  g_clear_pointer (&caller->unit, g_free);
  g_free (caller->log_tag);
  caller->log_tag = g_strdup_printf ("uid=%u pid=%d", (guint) caller->identity.uid,
                                     (int) caller->identity.pid);
  caller->state = CALLER_READY;
  caller->has_identity = TRUE;
  if (caller->registry != NULL)
    {
      /* Calls received while we asked the bus count from now on. */
      caller->user = registry_user (caller->registry, caller->identity.uid);
      caller->user->pending += caller->n_pending;
    }
  sspid_caller_log (caller, G_LOG_LEVEL_DEBUG, NULL, 0, "caller %s identified (%u groups)",
                    caller->name, caller->identity.n_gids);
  caller_flush_queue (caller);
}

/* --- callers ------------------------------------------------------------ */

static SspidCaller *
caller_new (SspidCallerRegistry *registry, const char *name)
{
  SspidCaller *caller = g_new0 (SspidCaller, 1);

  caller->ref = 1;
  caller->registry = registry;
  caller->name = g_strdup (name);
  caller->log_tag = g_strdup (name);
  caller->state = CALLER_RESOLVING;
  g_queue_init (&caller->queued);
  caller->credentials = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                               (GDestroyNotify) sspid_credential_unref);
  caller->contexts = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  caller->attached = g_array_new (FALSE, FALSE, sizeof (Attached));
  return caller;
}

SspidCaller *
sspid_caller_ref (SspidCaller *caller)
{
  g_return_val_if_fail (caller->ref > 0, NULL);
  caller->ref++;
  return caller;
}

void
sspid_caller_unref (SspidCaller *caller)
{
  g_return_if_fail (caller->ref > 0);
  if (--caller->ref > 0)
    return;

  /* Dropped from the registry before the last reference goes, so what it
   * owned was already released through the registry. */
  g_assert (caller->registry == NULL);
  g_assert (g_queue_is_empty (&caller->queued));
  g_hash_table_unref (caller->credentials);
  g_hash_table_unref (caller->contexts);
  g_assert (caller->attached->len == 0);
  g_array_unref (caller->attached);
  g_free (caller->identity.gids);
  g_free (caller->unit);
  g_free (caller->log_tag);
  g_free (caller->name);
  g_free (caller);
}

/* The counts of @uid, made on first use. */
static SspidUser *
registry_user (SspidCallerRegistry *registry, uid_t uid)
{
  gpointer key = GUINT_TO_POINTER ((guint) uid);
  SspidUser *user = g_hash_table_lookup (registry->users, key);

  if (user == NULL)
    {
      user = sspid_user_new (uid);
      g_hash_table_insert (registry->users, key, user);
    }
  return user;
}

/* Releases every context of @caller.  The table is swapped out first
 * because releasing a context may answer queued calls, which must find the
 * caller in a consistent state. */
static void
caller_release_contexts (SspidCaller *caller)
{
  SspidCallerRegistry *registry = caller->registry;
  g_autoptr(GHashTable) old = caller->contexts;
  GHashTableIter iter;
  gpointer value;

  caller->contexts = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_hash_table_iter_init (&iter, old);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      registry->n_contexts--;
      caller->user->contexts--;
      registry->release (value);
    }
}

/* Closes what was attached to @caller (its record channels).  The array
 * is swapped out first: a close function may detach. */
static void
caller_close_attached (SspidCaller *caller)
{
  g_autoptr(GArray) old = caller->attached;

  caller->attached = g_array_new (FALSE, FALSE, sizeof (Attached));
  for (guint i = 0; i < old->len; i++)
    {
      Attached *a = &g_array_index (old, Attached, i);

      a->close (a->object);
    }
}

/* Removes @caller from its registry and releases everything it owned. */
static void
caller_drop (SspidCaller *caller)
{
  SspidCallerRegistry *registry = caller->registry;

  g_assert (registry != NULL);
  sspid_caller_log (caller, G_LOG_LEVEL_DEBUG, NULL, 0,
                    "caller %s gone: %u credentials, %u contexts freed", caller->name,
                    g_hash_table_size (caller->credentials),
                    g_hash_table_size (caller->contexts));

  caller->state = CALLER_GONE;
  if (caller->is_peer)
    registry->n_peers--;
  registry->n_credentials -= g_hash_table_size (caller->credentials);
  if (caller->user != NULL)
    caller->user->credentials -= g_hash_table_size (caller->credentials);
  g_hash_table_remove_all (caller->credentials);
  /* Only an identified caller has contexts. */
  if (caller->user != NULL)
    caller_release_contexts (caller);
  caller_close_attached (caller);

  /* Its pending invocations still get answered (into the void) later;
   * they are no longer the registry's business. */
  registry->n_pending -= caller->n_pending;
  if (caller->user != NULL)
    caller->user->pending -= caller->n_pending;
  caller->user = NULL;
  caller->registry = NULL;
  caller_flush_queue (caller);

  /* The table's reference, last: the lines above may still use @caller. */
  g_hash_table_remove (registry->callers, caller->name);
}

static void
name_owner_changed_cb (GDBusConnection *connection, const char *sender_name,
                       const char *object_path, const char *interface_name,
                       const char *signal_name, GVariant *parameters,
                       gpointer user_data)
{
  SspidCallerRegistry *registry = user_data;
  const char *name, *old_owner, *new_owner;
  SspidCaller *caller;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(sss)")))
    return;
  g_variant_get (parameters, "(&s&s&s)", &name, &old_owner, &new_owner);
  if (*new_owner != '\0')
    return;
  caller = g_hash_table_lookup (registry->callers, name);
  if (caller != NULL)
    caller_drop (caller);
}

SspidCaller *
sspid_caller_registry_peek (SspidCallerRegistry *registry, const char *sender)
{
  SspidCaller *caller = g_hash_table_lookup (registry->callers, sender);

  if (caller != NULL)
    return caller;

  caller = caller_new (registry, sender);
  g_hash_table_insert (registry->callers, caller->name, caller);
  g_dbus_connection_call (registry->connection, "org.freedesktop.DBus",
                          "/org/freedesktop/DBus", "org.freedesktop.DBus",
                          "GetConnectionCredentials", g_variant_new ("(s)", sender),
                          G_VARIANT_TYPE ("(a{sv})"), G_DBUS_CALL_FLAGS_NONE, -1,
                          registry->cancellable, identity_cb, sspid_caller_ref (caller));
  return caller;
}

SspidCaller *
sspid_caller_new_peer (SspidCaller *opener)
{
  SspidCallerRegistry *registry = opener->registry;
  g_autofree char *name = NULL;
  SspidCaller *caller;

  g_return_val_if_fail (opener->state == CALLER_READY && registry != NULL, NULL);
  /* Not a bus name ('/' is not allowed in one), so no NameOwnerChanged
   * can ever name it. */
  name = g_strdup_printf ("%s/peer%u", opener->name, ++registry->peers_made);
  caller = caller_new (registry, name);
  caller->is_peer = TRUE;
  caller->identity = opener->identity;
  caller->identity.gids = g_memdup2 (opener->identity.gids,
                                     sizeof (gid_t) * MAX (opener->identity.n_gids, 1));
  caller->has_identity = TRUE;
  caller->state = CALLER_READY;
  caller->user = opener->user;
  g_free (caller->log_tag);
  caller->log_tag = g_strdup (opener->log_tag);
  g_hash_table_insert (registry->callers, caller->name, caller);
  registry->n_peers++;
  return sspid_caller_ref (caller);
}

gboolean
sspid_caller_is_peer (SspidCaller *caller)
{
  return caller->is_peer;
}

void
sspid_caller_drop (SspidCaller *caller)
{
  if (caller->registry != NULL)
    caller_drop (caller);
}

void
sspid_caller_run_identified (SspidCaller *caller, GDBusMethodInvocation *invocation,
                             SspidCallerFunc func, gpointer user_data)
{
  QueuedCall *q;

  if (caller->state != CALLER_RESOLVING)
    {
      func (caller, invocation, user_data);
      return;
    }
  q = g_new (QueuedCall, 1);
  q->invocation = invocation;
  q->func = func;
  q->user_data = user_data;
  g_queue_push_tail (&caller->queued, q);
}

const SspidIdentity *
sspid_caller_peek_identity (SspidCaller *caller)
{
  return caller->state == CALLER_READY ? &caller->identity : NULL;
}

/* The unit is the last name of the process's cgroup path that ends in
 * .service or .scope (systemd's convention), e.g. "nginx.service" or
 * "session-3.scope"; "-" outside systemd or when the process is gone. */
static char *
unit_of_pid (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/cgroup", (int) pid);
  g_autofree char *text = NULL;
  g_auto(GStrv) parts = NULL;
  char *line, *cgroup;

  if (pid <= 0 || !g_file_get_contents (path, &text, NULL, NULL))
    return g_strdup ("-");
  /* cgroup v2: "0::/system.slice/nginx.service"; v1: the name=systemd line. */
  line = strstr (text, "0::/");
  if (line == NULL)
    line = strstr (text, ":name=systemd:/");
  if (line == NULL)
    return g_strdup ("-");
  cgroup = strchr (line, '/');
  cgroup[strcspn (cgroup, "\n")] = '\0';
  parts = g_strsplit (cgroup, "/", -1);
  for (guint i = g_strv_length (parts); i > 0; i--)
    if (g_str_has_suffix (parts[i - 1], ".service") || g_str_has_suffix (parts[i - 1], ".scope"))
      return g_strdup (parts[i - 1]);
  return g_strdup ("-");
}

const char *
sspid_caller_peek_unit (SspidCaller *caller)
{
  if (!caller->has_identity)
    return "-";
  if (caller->unit == NULL)
    caller->unit = unit_of_pid (caller->identity.pid);
  return caller->unit;
}

const char *
sspid_caller_peek_name (SspidCaller *caller)
{
  return caller->name;
}

gboolean
sspid_caller_is_gone (SspidCaller *caller)
{
  return caller->state == CALLER_GONE;
}

const char *
sspid_caller_peek_log_tag (SspidCaller *caller)
{
  return caller->log_tag;
}

/* --- logging ------------------------------------------------------------ */

/* syslog priorities, as g_log_structured() would set them. */
static const char *
level_priority (GLogLevelFlags level)
{
  if (level & G_LOG_LEVEL_ERROR)
    return "3";
  if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    return "4";
  if (level & G_LOG_LEVEL_MESSAGE)
    return "5";
  if (level & G_LOG_LEVEL_INFO)
    return "6";
  return "7";
}

static void
caller_log_valist (SspidCaller *caller, GLogLevelFlags level, const char *file,
                   const char *line, const char *func, const char *kind, guint64 handle,
                   const char *format, va_list args)
{
  g_autofree char *text = NULL;
  g_autofree char *message = NULL;
  g_autofree char *handle_text = NULL;
  char uid[16], pid[16];
  GLogField fields[9];
  gsize n = 0;

  text = g_strdup_vprintf (format, args);
  if (handle != 0)
    {
      handle_text = g_strdup_printf ("0x%016" G_GINT64_MODIFIER "x", handle);
      message = g_strdup_printf ("%s %s=%s: %s", caller->log_tag, kind, handle_text, text);
    }
  else
    message = g_strdup_printf ("%s: %s", caller->log_tag, text);

#define FIELD(k, v) fields[n++] = (GLogField) { (k), (v), -1 }
  FIELD ("PRIORITY", level_priority (level));
  FIELD ("GLIB_DOMAIN", G_LOG_DOMAIN);
  FIELD ("MESSAGE", message);
  FIELD ("CODE_FILE", file);
  FIELD ("CODE_LINE", line);
  FIELD ("CODE_FUNC", func);
  if (caller->has_identity)
    {
      g_snprintf (uid, sizeof uid, "%u", (guint) caller->identity.uid);
      g_snprintf (pid, sizeof pid, "%d", (int) caller->identity.pid);
      FIELD ("SSPID_UID", uid);
      FIELD ("SSPID_PID", pid);
    }
  if (handle_text != NULL)
    FIELD ("SSPID_HANDLE", handle_text);
#undef FIELD
  g_log_structured_array (level, fields, n);
}

void
sspid_caller_log_full (SspidCaller *caller, GLogLevelFlags level, const char *refusal,
                       const char *file, const char *line, const char *func, const char *kind,
                       guint64 handle, const char *format, ...)
{
  va_list args;

  if (refusal != NULL)
    {
      SspidUser *user = caller->user;

      /* Counted even when the line would be dropped: the minute's tally
       * says how many there were. */
      if (user == NULL && caller->registry != NULL)
        user = caller->registry->unidentified;
      if (user != NULL && !sspid_user_count_refusal (user, refusal))
        return;
    }
  /* Formatting costs more than the check, and debug lines are many. */
  if (g_log_writer_default_would_drop (level, G_LOG_DOMAIN))
    return;
  va_start (args, format);
  caller_log_valist (caller, level, file, line, func, kind, handle, format, args);
  va_end (args);
}

static void
registry_tell_refusals (SspidCallerRegistry *registry, gboolean at_exit)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, registry->users);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    sspid_user_tell_refusals (value, at_exit);
  sspid_user_tell_refusals (registry->unidentified, at_exit);
}

/* Every few seconds: the refusals of minutes that ended, so that the
 * count is told even when the refusals stopped. */
static gboolean
refusals_timer_cb (gpointer user_data)
{
  registry_tell_refusals (user_data, FALSE);
  return G_SOURCE_CONTINUE;
}

/* --- counters and limits ------------------------------------------------ */

void
sspid_caller_pending_begin (SspidCaller *caller)
{
  caller->n_pending++;
  if (caller->registry != NULL)
    caller->registry->n_pending++;
  if (caller->user != NULL)
    caller->user->pending++;
}

void
sspid_caller_pending_end (SspidCaller *caller)
{
  g_return_if_fail (caller->n_pending > 0);
  caller->n_pending--;
  if (caller->registry != NULL)
    caller->registry->n_pending--;
  if (caller->user != NULL)
    caller->user->pending--;
}

/* A limit of 0 means "no limit". */
static char *
check_limit (guint count, guint limit, const char *name)
{
  if (limit == 0 || count < limit)
    return NULL;
  return g_strdup_printf ("%s=%u", name, limit);
}

/* The connection's limit first, then (once the caller is identified) its
 * user's, across all of that user's connections. */
static char *
check_limits (guint per_connection, guint connection_limit, const char *connection_name,
              const guint *per_user, guint user_limit, const char *user_name)
{
  char *hit = check_limit (per_connection, connection_limit, connection_name);

  if (hit == NULL && per_user != NULL)
    hit = check_limit (*per_user, user_limit, user_name);
  return hit;
}

char *
sspid_caller_check_pending_limit (SspidCaller *caller)
{
  if (caller->registry == NULL)
    return NULL;
  return check_limits (caller->n_pending, caller->registry->limits.max_pending_per_connection,
                       "max-pending-per-connection",
                       caller->user != NULL ? &caller->user->pending : NULL,
                       caller->registry->limits.max_pending_per_user, "max-pending-per-user");
}

char *
sspid_caller_check_credential_limit (SspidCaller *caller)
{
  if (caller->registry == NULL)
    return NULL;
  return check_limits (g_hash_table_size (caller->credentials),
                       caller->registry->limits.max_credentials_per_connection,
                       "max-credentials-per-connection",
                       caller->user != NULL ? &caller->user->credentials : NULL,
                       caller->registry->limits.max_credentials_per_user,
                       "max-credentials-per-user");
}

char *
sspid_caller_check_context_limit (SspidCaller *caller)
{
  if (caller->registry == NULL)
    return NULL;
  return check_limits (g_hash_table_size (caller->contexts),
                       caller->registry->limits.max_contexts_per_connection,
                       "max-contexts-per-connection",
                       caller->user != NULL ? &caller->user->contexts : NULL,
                       caller->registry->limits.max_contexts_per_user, "max-contexts-per-user");
}

char *
sspid_caller_check_introspection_limit (SspidCaller *caller)
{
  if (caller->user == NULL || caller->identity.uid == 0)
    return NULL;
  return sspid_user_check_introspection (caller->user);
}

void
sspid_caller_charge_introspection (SspidCaller *caller, guint entries)
{
  if (caller->user != NULL && caller->identity.uid != 0)
    sspid_user_charge_introspection (caller->user, entries);
}

/* --- handles ------------------------------------------------------------ */

/* A fresh handle, distinct from every live handle of @caller of either
 * kind, so the kinds can never be confused. */
static guint64 *
caller_new_handle (SspidCaller *caller)
{
  guint64 value;

  do
    value = sspid_random_u64 ();
  while (g_hash_table_contains (caller->credentials, &value)
         || g_hash_table_contains (caller->contexts, &value));
  return g_memdup2 (&value, sizeof value);
}

guint64
sspid_caller_add_credential (SspidCaller *caller, SspidCredential *cred)
{
  guint64 *handle;

  g_return_val_if_fail (caller->state == CALLER_READY && caller->registry != NULL, 0);
  handle = caller_new_handle (caller);
  g_hash_table_insert (caller->credentials, handle, cred);
  caller->registry->n_credentials++;
  caller->user->credentials++;
  return *handle;
}

SspidCredential *
sspid_caller_peek_credential (SspidCaller *caller, guint64 handle)
{
  return g_hash_table_lookup (caller->credentials, &handle);
}

gboolean
sspid_caller_remove_credential (SspidCaller *caller, guint64 handle)
{
  if (!g_hash_table_remove (caller->credentials, &handle))
    return FALSE;
  if (caller->registry != NULL)
    caller->registry->n_credentials--;
  if (caller->user != NULL)
    caller->user->credentials--;
  return TRUE;
}

guint64
sspid_caller_add_context (SspidCaller *caller, gpointer context)
{
  guint64 *handle;

  g_return_val_if_fail (caller->state == CALLER_READY && caller->registry != NULL, 0);
  handle = caller_new_handle (caller);
  g_hash_table_insert (caller->contexts, handle, context);
  caller->registry->n_contexts++;
  caller->user->contexts++;
  return *handle;
}

gpointer
sspid_caller_peek_context (SspidCaller *caller, guint64 handle)
{
  return g_hash_table_lookup (caller->contexts, &handle);
}

gboolean
sspid_caller_remove_context (SspidCaller *caller, guint64 handle)
{
  SspidCallerRegistry *registry = caller->registry;
  gpointer context;

  /* A gone caller's table is empty: everything was released at once. */
  if (registry == NULL)
    return FALSE;
  context = g_hash_table_lookup (caller->contexts, &handle);
  if (context == NULL)
    return FALSE;
  g_hash_table_remove (caller->contexts, &handle);
  registry->n_contexts--;
  caller->user->contexts--;
  registry->release (context);
  return TRUE;
}

/* --- attached objects --------------------------------------------------- */

void
sspid_caller_attach (SspidCaller *caller, gpointer object, GDestroyNotify close)
{
  Attached a = { object, close };

  g_return_if_fail (caller->state != CALLER_GONE);
  g_array_append_val (caller->attached, a);
}

void
sspid_caller_detach (SspidCaller *caller, gpointer object)
{
  for (guint i = 0; i < caller->attached->len; i++)
    if (g_array_index (caller->attached, Attached, i).object == object)
      {
        g_array_remove_index_fast (caller->attached, i);
        return;
      }
}

guint
sspid_caller_count_attached (SspidCaller *caller)
{
  return caller->attached->len;
}

/* --- registry ----------------------------------------------------------- */

SspidCallerRegistry *
sspid_caller_registry_new (GDBusConnection *connection, const SspidConfig *config,
                           SspidContextReleaseFunc release)
{
  SspidCallerRegistry *registry = g_new0 (SspidCallerRegistry, 1);

  registry->connection = g_object_ref (connection);
  registry->cancellable = g_cancellable_new ();
  registry->callers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                             (GDestroyNotify) sspid_caller_unref);
  registry->users = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                           (GDestroyNotify) sspid_user_free);
  registry->release = release;
  registry->unidentified = sspid_user_new ((uid_t) -1);
  registry->refusals_timer = g_timeout_add_seconds (5, refusals_timer_cb, registry);
  sspid_caller_registry_set_limits (registry, config);

  /* One subscription for every disconnect, rather than one per caller. */
  registry->name_owner_changed_id =
    g_dbus_connection_signal_subscribe (connection, "org.freedesktop.DBus",
                                        "org.freedesktop.DBus", "NameOwnerChanged",
                                        "/org/freedesktop/DBus", NULL,
                                        G_DBUS_SIGNAL_FLAGS_NONE, name_owner_changed_cb,
                                        registry, NULL);
  return registry;
}

void
sspid_caller_registry_set_limits (SspidCallerRegistry *registry, const SspidConfig *config)
{
  registry->limits = config->limits;
}

void
sspid_caller_registry_free (SspidCallerRegistry *registry)
{
  GHashTableIter iter;
  gpointer value;

  if (registry == NULL)
    return;

  g_dbus_connection_signal_unsubscribe (registry->connection,
                                        registry->name_owner_changed_id);
  g_source_remove (registry->refusals_timer);
  /* Identity requests still in flight find their caller gone. */
  g_cancellable_cancel (registry->cancellable);

  /* Drop callers one by one: dropping one may answer calls, which must see
   * the registry whole. */
  for (;;)
    {
      g_hash_table_iter_init (&iter, registry->callers);
      if (!g_hash_table_iter_next (&iter, NULL, &value))
        break;
      caller_drop (value);
    }

  g_assert (registry->n_contexts == 0 && registry->n_credentials == 0);
  /* The daemon is stopping: what was not logged is told now. */
  registry_tell_refusals (registry, TRUE);
  g_hash_table_unref (registry->callers);
  g_hash_table_unref (registry->users);
  sspid_user_free (registry->unidentified);
  g_object_unref (registry->cancellable);
  g_object_unref (registry->connection);
  g_free (registry);
}

void
sspid_caller_registry_get_counts (SspidCallerRegistry *registry, SspidCounts *counts)
{
  counts->callers = g_hash_table_size (registry->callers) - registry->n_peers;
  counts->contexts = registry->n_contexts;
  counts->credentials = registry->n_credentials;
  counts->pending = registry->n_pending;
}

static gint
compare_users (gconstpointer a, gconstpointer b)
{
  uid_t ua = (*(SspidUser *const *) a)->uid, ub = (*(SspidUser *const *) b)->uid;

  return ua < ub ? -1 : ua > ub;
}

GPtrArray *
sspid_caller_registry_get_users (SspidCallerRegistry *registry, uid_t asking)
{
  GPtrArray *users = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, registry->users);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      SspidUser *user = value;

      if (user->uid != (uid_t) -1 && (asking == 0 || user->uid == asking))
        g_ptr_array_add (users, user);
    }
  g_ptr_array_sort (users, compare_users);
  return users;
}

void
sspid_caller_count_handshake (SspidCaller *caller, gboolean done)
{
  if (caller->user == NULL)
    return;
  if (done)
    caller->user->handshakes_done++;
  else
    caller->user->handshakes_failed++;
}

typedef struct {
  GHFunc   func;
  gpointer user_data;
} ForeachData;

static void
foreach_caller (gpointer key, gpointer value, gpointer user_data)
{
  SspidCaller *caller = value;
  ForeachData *data = user_data;

  g_hash_table_foreach (caller->contexts, data->func, data->user_data);
}

void
sspid_caller_registry_foreach_context (SspidCallerRegistry *registry, GHFunc func,
                                       gpointer user_data)
{
  ForeachData data = { func, user_data };

  g_hash_table_foreach (registry->callers, foreach_caller, &data);
}
