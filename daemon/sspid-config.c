/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sspid.conf parsing.  The file and its drop-ins are merged into one
 * GKeyFile, then every group and key is validated: an unknown key or a bad
 * value is an error naming the file, group and key, because a typo in a
 * security config must never silently mean "default".
 */
#include "config.h"

#include "sspid-config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#define CREDENTIAL_PREFIX "credential "

/* Defaults: generous for real services, finite for abusers. */
#define DEFAULT_MAX_CONTEXTS_PER_USER        4096
#define DEFAULT_MAX_CONTEXTS_PER_CONNECTION  4096
#define DEFAULT_MAX_CREDENTIALS_PER_USER     1024
#define DEFAULT_MAX_CREDENTIALS_PER_CONNECTION 256
#define DEFAULT_MAX_PENDING_PER_USER         4096
#define DEFAULT_MAX_PENDING_PER_CONNECTION   1024
#define DEFAULT_HANDSHAKE_TIMEOUT_SEC        60

static const char *const daemon_keys[] = {
  "default-trust", "max-contexts-per-user", "max-contexts-per-connection",
  "max-credentials-per-user", "max-credentials-per-connection",
  "max-pending-per-user", "max-pending-per-connection",
  "max-token-size", "handshake-timeout-sec", "watch-files", "pkcs11-remote", NULL
};

static const char *const credential_keys[] = {
  "certificate", "key", "usage", "users", "groups", "trust", "client-auth", "ocsp-response",
  "max-key-operations", "quic", NULL
};

static void
credential_config_free (SspidCredentialConfig *cred)
{
  if (cred == NULL)
    return;
  g_free (cred->name);
  g_free (cred->certificate);
  g_free (cred->key);
  g_free (cred->trust);
  g_free (cred->ocsp_response);
  g_clear_pointer (&cred->uids, g_array_unref);
  g_clear_pointer (&cred->gids, g_array_unref);
  g_free (cred);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SspidCredentialConfig, credential_config_free)

void
sspid_config_free (SspidConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->default_trust);
  g_free (config->pkcs11_remote);
  g_clear_pointer (&config->credentials, g_ptr_array_unref);
  g_free (config);
}

static gboolean
check_known_keys (GKeyFile *kf, const char *group, const char *const *known,
                  const char *origin, GError **error)
{
  g_auto (GStrv) keys = g_key_file_get_keys (kf, group, NULL, NULL);

  for (gsize i = 0; keys != NULL && keys[i] != NULL; i++)
    {
      if (!g_strv_contains (known, keys[i]))
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                       "%s: [%s]: unknown key '%s'", origin, group, keys[i]);
          return FALSE;
        }
    }
  return TRUE;
}

/* A positive integer key, or @fallback when absent. */
static gboolean
get_limit (GKeyFile *kf, const char *group, const char *key, guint fallback,
           guint *out, const char *origin, GError **error)
{
  g_autofree char *value = g_key_file_get_string (kf, group, key, NULL);
  char *end = NULL;
  guint64 n;

  if (value == NULL)
    {
      *out = fallback;
      return TRUE;
    }
  g_strstrip (value);
  errno = 0;
  n = g_ascii_strtoull (value, &end, 10);
  if (errno != 0 || end == value || *end != '\0' || n == 0 || n > G_MAXINT32)
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "%s: [%s] %s: '%s' is not a positive integer",
                   origin, group, key, value);
      return FALSE;
    }
  *out = (guint) n;
  return TRUE;
}

static gboolean
parse_daemon_group (GKeyFile *kf, SspidConfig *config, const char *origin,
                    GError **error)
{
  const char *g = "daemon";
  g_autofree char *trust = NULL;

  if (g_key_file_has_group (kf, g) &&
      !check_known_keys (kf, g, daemon_keys, origin, error))
    return FALSE;

  trust = g_key_file_get_string (kf, g, "default-trust", NULL);
  config->default_trust = trust != NULL ? g_strstrip (g_steal_pointer (&trust))
                                        : g_strdup ("system");
  if (config->default_trust[0] == '\0')
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "%s: [daemon] default-trust: empty", origin);
      return FALSE;
    }

  config->pkcs11_remote = g_key_file_get_string (kf, g, "pkcs11-remote", NULL);
  if (config->pkcs11_remote != NULL && g_strstrip (config->pkcs11_remote)[0] == '\0')
    g_clear_pointer (&config->pkcs11_remote, g_free);
  config->watch_files = TRUE;
  if (g_key_file_has_key (kf, g, "watch-files", NULL))
    {
      g_autoptr (GError) bad = NULL;

      config->watch_files = g_key_file_get_boolean (kf, g, "watch-files", &bad);
      if (bad != NULL)
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       "%s: [daemon] watch-files: true or false", origin);
          return FALSE;
        }
    }

  return get_limit (kf, g, "max-contexts-per-user", DEFAULT_MAX_CONTEXTS_PER_USER,
                    &config->limits.max_contexts_per_user, origin, error) &&
         get_limit (kf, g, "max-contexts-per-connection", DEFAULT_MAX_CONTEXTS_PER_CONNECTION,
                    &config->limits.max_contexts_per_connection, origin, error) &&
         get_limit (kf, g, "max-credentials-per-user", DEFAULT_MAX_CREDENTIALS_PER_USER,
                    &config->limits.max_credentials_per_user, origin, error) &&
         get_limit (kf, g, "max-credentials-per-connection", DEFAULT_MAX_CREDENTIALS_PER_CONNECTION,
                    &config->limits.max_credentials_per_connection, origin, error) &&
         get_limit (kf, g, "max-pending-per-user", DEFAULT_MAX_PENDING_PER_USER,
                    &config->limits.max_pending_per_user, origin, error) &&
         get_limit (kf, g, "max-pending-per-connection", DEFAULT_MAX_PENDING_PER_CONNECTION,
                    &config->limits.max_pending_per_connection, origin, error) &&
         get_limit (kf, g, "max-token-size", SSPID_DEFAULT_MAX_TOKEN_SIZE,
                    &config->max_token_size, origin, error) &&
         get_limit (kf, g, "handshake-timeout-sec", DEFAULT_HANDSHAKE_TIMEOUT_SEC,
                    &config->handshake_timeout_sec, origin, error);
}

/* Looks a user or group name up: its id in *@id, or FALSE if there is none. */
typedef gboolean (*IdLookup) (const char *name, guint32 *id);

static gboolean
lookup_user (const char *name, guint32 *id)
{
  struct passwd pw, *res = NULL;
  char buf[4096];

  if (getpwnam_r (name, &pw, buf, sizeof buf, &res) != 0 || res == NULL)
    return FALSE;
  *id = pw.pw_uid;
  return TRUE;
}

static gboolean
lookup_group (const char *name, guint32 *id)
{
  struct group gr, *res = NULL;
  char buf[8192];

  if (getgrnam_r (name, &gr, buf, sizeof buf, &res) != 0 || res == NULL)
    return FALSE;
  *id = gr.gr_gid;
  return TRUE;
}

/* users= and groups= (@key, whose entries are @kind names or numeric ids):
 * each id is appended to @ids (of uid_t or gid_t); names are looked up
 * with @lookup.  Where @everyone is not NULL (users=), "*" sets it. */
static gboolean
parse_id_list (GKeyFile *kf, const char *group, const char *key, const char *kind,
               IdLookup lookup, GArray *ids, gboolean *everyone, const char *origin,
               GError **error)
{
  g_auto (GStrv) names = g_key_file_get_string_list (kf, group, key, NULL, NULL);

  G_STATIC_ASSERT (sizeof (uid_t) == sizeof (guint32) && sizeof (gid_t) == sizeof (guint32));
  for (gsize i = 0; names != NULL && names[i] != NULL; i++)
    {
      const char *name = g_strstrip (names[i]);
      char *end = NULL;
      guint64 number;
      guint32 id;

      if (*name == '\0')
        continue;
      if (everyone != NULL && g_str_equal (name, "*"))
        {
          *everyone = TRUE;
          continue;
        }
      number = g_ascii_strtoull (name, &end, 10);
      if (end != name && *end == '\0' && number < G_MAXUINT32)
        id = (guint32) number;
      else if (!lookup (name, &id))
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       "%s: [%s] %s: no such %s '%s'", origin, group, key, kind, name);
          return FALSE;
        }
      g_array_append_val (ids, id);
    }
  return TRUE;
}

static gboolean
parse_enum (GKeyFile *kf, const char *group, const char *key,
            const char *const *names, const int *values, int fallback,
            int *out, const char *origin, GError **error)
{
  g_autofree char *value = g_key_file_get_string (kf, group, key, NULL);

  if (value == NULL)
    {
      *out = fallback;
      return TRUE;
    }
  g_strstrip (value);
  for (gsize i = 0; names[i] != NULL; i++)
    {
      if (g_str_equal (value, names[i]))
        {
          *out = values[i];
          return TRUE;
        }
    }
  g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
               "%s: [%s] %s: '%s' is not one of the allowed values",
               origin, group, key, value);
  return FALSE;
}

/* usage= values: what the parser accepts and what the daemon and
 * sspid --check-config call each usage. */
static const char *const usage_names[] = { "inbound", "outbound", "both", NULL };
static const int usage_values[] = { SSPID_USAGE_INBOUND, SSPID_USAGE_OUTBOUND, SSPID_USAGE_BOTH };

const char *
sspid_usage_to_string (SspidUsage usage)
{
  for (gsize i = 0; usage_names[i] != NULL; i++)
    if (usage_values[i] == (int) usage)
      return usage_names[i];
  return "?";
}

/* quic=: whether a QUIC-mode context (ISC_REQ_MESSAGES) may take the
 * session's traffic secrets out of the daemon (sspid-tls-quic.c). */
static const char *const quic_names[] = { "deny", "allow", NULL };
static const int quic_values[] = { FALSE, TRUE };

static const char *const auth_names[] = { "none", "request", "require", NULL };
static const int auth_values[] = { SSPID_CLIENT_AUTH_NONE, SSPID_CLIENT_AUTH_REQUEST,
                                   SSPID_CLIENT_AUTH_REQUIRE };

const char *
sspid_client_auth_to_string (SspidClientAuth auth)
{
  for (gsize i = 0; auth_names[i] != NULL; i++)
    if (auth_values[i] == (int) auth)
      return auth_names[i];
  return "none";
}

static SspidCredentialConfig *
parse_credential_group (GKeyFile *kf, const char *group, const char *origin,
                        GError **error)
{
  g_autoptr (SspidCredentialConfig) cred = g_new0 (SspidCredentialConfig, 1);
  int usage, client_auth, quic;

  cred->name = g_strstrip (g_strdup (group + strlen (CREDENTIAL_PREFIX)));
  cred->uids = g_array_new (FALSE, FALSE, sizeof (uid_t));
  cred->gids = g_array_new (FALSE, FALSE, sizeof (gid_t));
  if (cred->name[0] == '\0')
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "%s: [%s]: a credential needs a name", origin, group);
      return NULL;
    }
  if (!check_known_keys (kf, group, credential_keys, origin, error))
    return NULL;

  cred->certificate = g_key_file_get_string (kf, group, "certificate", NULL);
  cred->key = g_key_file_get_string (kf, group, "key", NULL);
  cred->trust = g_key_file_get_string (kf, group, "trust", NULL);
  cred->ocsp_response = g_key_file_get_string (kf, group, "ocsp-response", NULL);
  if (cred->certificate == NULL || cred->key == NULL)
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                   "%s: [%s]: 'certificate' and 'key' are required",
                   origin, group);
      return NULL;
    }
  g_strstrip (cred->certificate);
  g_strstrip (cred->key);
  if (cred->trust != NULL)
    g_strstrip (cred->trust);
  if (cred->ocsp_response != NULL)
    g_strstrip (cred->ocsp_response);

  if (!parse_enum (kf, group, "usage", usage_names, usage_values,
                   SSPID_USAGE_INBOUND, &usage, origin, error) ||
      !parse_enum (kf, group, "client-auth", auth_names, auth_values,
                   SSPID_CLIENT_AUTH_NONE, &client_auth, origin, error) ||
      !parse_enum (kf, group, "quic", quic_names, quic_values, FALSE, &quic, origin, error) ||
      !parse_id_list (kf, group, "users", "user", lookup_user, cred->uids,
                      &cred->allow_everyone, origin, error) ||
      !parse_id_list (kf, group, "groups", "group", lookup_group, cred->gids, NULL, origin,
                      error))
    return NULL;
  cred->usage = (SspidUsage) usage;
  cred->client_auth = (SspidClientAuth) client_auth;
  cred->is_quic_allowed = quic;
  if (!get_limit (kf, group, "max-key-operations", SSPID_DEFAULT_MAX_KEY_OPERATIONS,
                  &cred->max_key_operations, origin, error))
    return NULL;

  return g_steal_pointer (&cred);
}

static SspidConfig *
config_from_keyfile (GKeyFile *kf, const char *origin, GError **error)
{
  g_autoptr (SspidConfig) config = g_new0 (SspidConfig, 1);
  g_auto (GStrv) groups = g_key_file_get_groups (kf, NULL);

  config->credentials = g_ptr_array_new_with_free_func ((GDestroyNotify) credential_config_free);
  if (!parse_daemon_group (kf, config, origin, error))
    return NULL;

  for (gsize i = 0; groups[i] != NULL; i++)
    {
      SspidCredentialConfig *cred;

      if (g_str_equal (groups[i], "daemon"))
        continue;
      if (!g_str_has_prefix (groups[i], CREDENTIAL_PREFIX))
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND,
                       "%s: unknown section [%s]", origin, groups[i]);
          return NULL;
        }
      cred = parse_credential_group (kf, groups[i], origin, error);
      if (cred == NULL)
        return NULL;
      if (sspid_config_peek_credential (config, cred->name) != NULL)
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       "%s: credential '%s' defined twice", origin, cred->name);
          credential_config_free (cred);
          return NULL;
        }
      g_ptr_array_add (config->credentials, cred);
    }
  return g_steal_pointer (&config);
}

/* Copies every key of @from into @into: later files override earlier keys. */
static void
merge_keyfile (GKeyFile *into, GKeyFile *from)
{
  g_auto (GStrv) groups = g_key_file_get_groups (from, NULL);

  for (gsize i = 0; groups[i] != NULL; i++)
    {
      g_auto (GStrv) keys = g_key_file_get_keys (from, groups[i], NULL, NULL);

      for (gsize k = 0; keys != NULL && keys[k] != NULL; k++)
        {
          g_autofree char *v = g_key_file_get_value (from, groups[i], keys[k], NULL);
          g_key_file_set_value (into, groups[i], keys[k], v);
        }
      if (keys == NULL || keys[0] == NULL)
        g_key_file_set_comment (into, groups[i], NULL, "", NULL); /* creates the group */
    }
}

static gboolean
load_file_into (GKeyFile *merged, const char *path, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local))
    {
      g_set_error (error, local->domain, local->code, "%s: %s", path, local->message);
      return FALSE;
    }
  merge_keyfile (merged, kf);
  return TRUE;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

SspidConfig *
sspid_config_load (const char *path, GError **error)
{
  g_autoptr (GKeyFile) merged = g_key_file_new ();
  g_autofree char *dropin_dir = g_strconcat (path, ".d", NULL);
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GPtrArray) dropins = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *base = NULL;

  if (g_file_test (path, G_FILE_TEST_EXISTS) && !load_file_into (merged, path, error))
    return NULL;

  /* sspid.conf.d/ sits beside sspid.conf (DESIGN.md): derive it from the
   * file name without its ".conf", as systemd does for its drop-ins. */
  if (g_str_has_suffix (path, ".conf"))
    {
      base = g_strndup (path, strlen (path) - strlen (".conf"));
      g_free (dropin_dir);
      dropin_dir = g_strconcat (base, ".conf.d", NULL);
    }
  dir = g_dir_open (dropin_dir, 0, NULL);
  if (dir != NULL)
    {
      const char *name;

      while ((name = g_dir_read_name (dir)) != NULL)
        if (g_str_has_suffix (name, ".conf"))
          g_ptr_array_add (dropins, g_build_filename (dropin_dir, name, NULL));
      g_ptr_array_sort (dropins, compare_strings);
      for (guint i = 0; i < dropins->len; i++)
        if (!load_file_into (merged, dropins->pdata[i], error))
          return NULL;
    }

  return config_from_keyfile (merged, path, error);
}

SspidConfig *
sspid_config_load_data (const char *data, gsize length, const char *origin,
                        GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;

  if (!g_key_file_load_from_data (kf, data, length, G_KEY_FILE_NONE, &local))
    {
      g_set_error (error, local->domain, local->code, "%s: %s", origin, local->message);
      return NULL;
    }
  return config_from_keyfile (kf, origin, error);
}

const SspidCredentialConfig *
sspid_config_peek_credential (const SspidConfig *config, const char *name)
{
  for (guint i = 0; i < config->credentials->len; i++)
    {
      const SspidCredentialConfig *cred = config->credentials->pdata[i];
      if (g_str_equal (cred->name, name))
        return cred;
    }
  return NULL;
}

gboolean
sspid_credential_config_allows (const SspidCredentialConfig *cred,
                                const SspidIdentity *who)
{
  if (cred->allow_everyone)
    return TRUE;
  for (guint i = 0; i < cred->uids->len; i++)
    if (g_array_index (cred->uids, uid_t, i) == who->uid)
      return TRUE;
  for (guint i = 0; i < cred->gids->len; i++)
    for (guint j = 0; j < who->n_gids; j++)
      if (g_array_index (cred->gids, gid_t, i) == who->gids[j])
        return TRUE;
  return FALSE;
}
