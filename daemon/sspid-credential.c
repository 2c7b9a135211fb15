/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Credentials.  Each [credential NAME] of the config is loaded once into a
 * "source": a GnuTLS certificate credential holding the chain, the private
 * key and the trust anchors used to verify peers.  Acquiring a credential
 * gives the caller a small object that references a source and records the
 * caller's protocol choices.  Sources are refcounted so a config reload never
 * pulls keys from under a live session.
 *
 * A key is a PEM file or a pkcs11: URI that GnuTLS opens through p11-kit
 * (the token's module registered with p11-kit, or named by the URI's
 * module-path), behind a key of ours that reopens it after its token's
 * module reconnected (sspid-token-key.h).  GnuTLS reads the PIN from the
 * URI's pin-value or pin-source itself; no PIN callback is set because
 * there is nobody to ask.  Such a URI holds a secret, so it is only ever
 * logged with the PIN cut out.
 */
#include "config.h"

#include "sspid-credential.h"
#include "sspid-pkcs11.h"
#include "sspid-token-key.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gnutls/x509.h>

#include "schannel.h"

/* Most resumable sessions (a client's, or a server's by session ID) a
 * source keeps, and for how long.  Each entry is a few hundred bytes;
 * GnuTLS still checks the session's own life. */
#define SESSION_CACHE_MAX      512
#define SESSION_CACHE_LIFETIME (6 * 3600)

typedef struct {
  GBytes *data;        /* gnutls_session_get_data2(): holds a secret, never logged */
  gint64  stored;      /* monotonic seconds */
} CachedSession;

typedef struct {
  gint                              refcount;
  char                             *name;        /* "" for the anonymous client */
  SspidUsage                        usage;
  SspidClientAuth                   client_auth;
  gboolean                          is_quic_allowed; /* quic=allow */
  gboolean                          has_certificate;
  gint64                            expiry;
  SspidCredentialConfig            *access;      /* users/groups; NULL = anyone (anonymous) */
  SspidCredentialInfo               info;        /* for ListCredentials; unset if anonymous */
  gnutls_certificate_credentials_t  gnutls;
  gnutls_datum_t                    ticket_key;  /* server: TLS session ticket master key */
  GMutex                            sessions_lock;
  GHashTable                       *sessions;    /* "uid/priority/target" (client) or
                                                  * "server/ID" -> CachedSession */
  gboolean                          key_on_token; /* key= is a pkcs11: URI */
  guint                             max_key_operations;
  guint64                           handshakes_done;    /* main thread, since loaded */
  guint64                           handshakes_failed;
} CredentialSource;

struct _SspidCredentialStore {
  GHashTable       *sources;     /* name -> CredentialSource */
  CredentialSource *anonymous;   /* outbound, no certificate, default trust */
};

struct _SspidCredential {
  gint              refcount;
  CredentialSource *source;
  uid_t             uid;        /* who acquired it: resumption is per user */
  guint32           use;
  guint32           flags;
  /* GnuTLS priorities for the versions enabled in each direction; NULL
   * when the credential cannot be used that way or enables none. */
  char             *client_priority;
  char             *server_priority;
  char             *client_dtls_priority;  /* ISC_REQ_DATAGRAM contexts, or NULL */
  char             *server_dtls_priority;  /* ASC_REQ_DATAGRAM contexts, or NULL */
};

G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gnutls_certificate_credentials_t,
                                 gnutls_certificate_free_credentials, NULL)

static CredentialSource *
source_ref (CredentialSource *source)
{
  g_atomic_int_inc (&source->refcount);
  return source;
}

static void
source_unref (CredentialSource *source)
{
  if (source == NULL || !g_atomic_int_dec_and_test (&source->refcount))
    return;
  g_free (source->name);
  if (source->access != NULL)
    {
      g_clear_pointer (&source->access->uids, g_array_unref);
      g_clear_pointer (&source->access->gids, g_array_unref);
      g_free (source->access);
    }
  g_free (source->info.subject);
  g_free (source->info.issuer);
  g_free (source->info.key_type);
  gnutls_certificate_free_credentials (source->gnutls);
  if (source->ticket_key.data != NULL)
    {
      gnutls_memset (source->ticket_key.data, 0, source->ticket_key.size);
      gnutls_free (source->ticket_key.data);
    }
  g_hash_table_unref (source->sessions);
  g_mutex_clear (&source->sessions_lock);
  g_free (source);
}

/* Secret bytes: a copy that is wiped before its memory goes back to the
 * allocator, whoever drops the last reference. */
typedef struct {
  gsize  size;
  guint8 data[];
} SecretBlock;

static void
secret_block_free (gpointer data)
{
  SecretBlock *block = data;

  gnutls_memset (block->data, 0, block->size);
  g_free (block);
}

static GBytes *
secret_bytes_new (const guint8 *data, gsize size)
{
  SecretBlock *block = g_malloc (sizeof (SecretBlock) + size);

  block->size = size;
  memcpy (block->data, data, size);
  return g_bytes_new_with_free_func (block->data, size, secret_block_free, block);
}

static void
cached_session_free (CachedSession *entry)
{
  g_bytes_unref (entry->data);
  g_free (entry);
}

static CredentialSource *
source_new (const char *name, gnutls_certificate_credentials_t creds)
{
  CredentialSource *source = g_new0 (CredentialSource, 1);

  source->refcount = 1;
  source->name = g_strdup (name);
  source->gnutls = creds;
  g_mutex_init (&source->sessions_lock);
  source->sessions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify) cached_session_free);
  return source;
}

/* Who the store loads keys for, and where what goes wrong is told: the
 * daemon's log, or sspid --check-config (sspid_credential_store_load). */
typedef struct {
  uid_t                      daemon_uid;
  SspidCredentialProblemFunc problem;     /* NULL: the log */
  gpointer                   user_data;
} Loader;

/* Tells a problem of @credential (NULL: the default trust) with its
 * @setting (certificate, key, trust). */
static void G_GNUC_PRINTF (5, 6)
complain (const Loader *loader, const char *credential, const char *setting, gboolean is_fatal,
          const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list ap;

  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);
  if (loader->problem != NULL)
    loader->problem (credential, setting, is_fatal, message, loader->user_data);
  else if (credential != NULL)
    g_warning ("credential '%s': %s", credential, message);
  else
    g_warning ("default-trust: %s", message);
}

static gboolean
load_trust (const Loader *loader, gnutls_certificate_credentials_t creds, const char *trust,
            const char *credential)
{
  int ret;

  if (g_str_equal (trust, "system"))
    ret = gnutls_certificate_set_x509_system_trust (creds);
  else
    ret = gnutls_certificate_set_x509_trust_file (creds, trust, GNUTLS_X509_FMT_PEM);
  if (ret < 0)
    {
      complain (loader, credential, "trust", TRUE,
                "cannot load trust anchors from '%s': %s", trust, gnutls_strerror (ret));
      return FALSE;
    }
  if (ret == 0)
    complain (loader, credential, "trust", FALSE,
              "no trust anchors in '%s'; peers cannot be verified", trust);
  return TRUE;
}

/* A private key must be readable by the daemon alone: a key others can
 * read is already compromised, and serving it would hide that. */
SspidKeyFileProblems
sspid_key_file_problems (const struct stat *st, uid_t daemon_uid)
{
  SspidKeyFileProblems problems = 0;

  if ((st->st_mode & (S_IRWXG | S_IRWXO)) != 0)
    problems |= SSPID_KEY_FILE_READABLE_BY_OTHERS;
  if (st->st_uid != daemon_uid && st->st_uid != 0)
    problems |= SSPID_KEY_FILE_FOREIGN_OWNER;
  return problems;
}

static gboolean
key_file_is_private (const Loader *loader, const char *credential, const char *path)
{
  SspidKeyFileProblems problems;
  struct stat st;

  if (stat (path, &st) != 0)
    {
      complain (loader, credential, "key", TRUE, "key file '%s': %s", path, g_strerror (errno));
      return FALSE;
    }
  problems = sspid_key_file_problems (&st, loader->daemon_uid);
  if (problems & SSPID_KEY_FILE_READABLE_BY_OTHERS)
    {
      complain (loader, credential, "key", TRUE,
                "refusing key file '%s': mode %04o lets other users "
                "read it (chmod 600 and owned by the daemon's user)",
                path, (unsigned) (st.st_mode & 07777));
      return FALSE;
    }
  if (problems & SSPID_KEY_FILE_FOREIGN_OWNER)
    {
      complain (loader, credential, "key", TRUE,
                "refusing key file '%s': owned by uid %u, not by the daemon's user",
                path, (unsigned) st.st_uid);
      return FALSE;
    }
  return TRUE;
}

/* @key as it may appear in a log line: a pkcs11: URI without its PIN.
 * Attributes are separated by ';' (path) or '?' and '&' (query). */
char *
sspid_key_for_log (const char *key)
{
  GString *out;
  const char *p;

  if (!g_str_has_prefix (key, "pkcs11:"))
    return g_strdup (key);
  out = g_string_new ("pkcs11:");
  p = key + strlen ("pkcs11:");
  while (*p != '\0')
    {
      gsize len = strcspn (p, ";?&");

      if (g_str_has_prefix (p, "pin-value="))
        g_string_append (out, "pin-value=(hidden)");
      else
        g_string_append_len (out, p, (gssize) len);
      p += len;
      if (*p != '\0')
        g_string_append_c (out, *p++);
    }
  return g_string_free (out, FALSE);
}

/* The leaf of the chain, parsed; NULL if there is none. */
static gnutls_x509_crt_t
leaf_certificate (gnutls_certificate_credentials_t creds)
{
  gnutls_datum_t der = { NULL, 0 };
  gnutls_x509_crt_t crt = NULL;

  if (gnutls_certificate_get_crt_raw (creds, 0, 0, &der) < 0)
    return NULL;
  if (gnutls_x509_crt_init (&crt) < 0)
    return NULL;
  if (gnutls_x509_crt_import (crt, &der, GNUTLS_X509_FMT_DER) < 0)
    {
      gnutls_x509_crt_deinit (crt);
      return NULL;
    }
  return crt;
}

char *
sspid_certificate_dup_dn (gnutls_x509_crt_t crt, gboolean issuer)
{
  gnutls_datum_t dn = { NULL, 0 };
  char *text;
  int ret = issuer ? gnutls_x509_crt_get_issuer_dn3 (crt, &dn, 0)
                   : gnutls_x509_crt_get_dn3 (crt, &dn, 0);

  if (ret < 0)
    return g_strdup ("");
  text = g_strndup ((const char *) dn.data, dn.size);
  gnutls_free (dn.data);
  return text;
}

char *
sspid_certificate_dup_subject (const guint8 *der, gsize len)
{
  gnutls_datum_t datum = { (unsigned char *) der, (unsigned int) len };
  gnutls_x509_crt_t crt = NULL;
  char *subject = NULL;

  if (len > G_MAXUINT || gnutls_x509_crt_init (&crt) < 0)
    return NULL;
  if (gnutls_x509_crt_import (crt, &datum, GNUTLS_X509_FMT_DER) >= 0)
    subject = sspid_certificate_dup_dn (crt, FALSE);
  gnutls_x509_crt_deinit (crt);
  return subject;
}

/* "ECDSA P-256", "RSA 2048", "Ed25519": what an administrator compares
 * with policy, from the certificate's public key. */
static char *
key_type_name (gnutls_x509_crt_t crt)
{
  unsigned int bits = 0;
  int algo = gnutls_x509_crt_get_pk_algorithm (crt, &bits);
  gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
  gnutls_datum_t x = { NULL, 0 }, y = { NULL, 0 };
  const char *name;

  switch (algo)
    {
    case GNUTLS_PK_RSA:
      return g_strdup_printf ("RSA %u", bits);
    case GNUTLS_PK_RSA_PSS:
      return g_strdup_printf ("RSA-PSS %u", bits);
    case GNUTLS_PK_EDDSA_ED25519:
      return g_strdup ("Ed25519");
    case GNUTLS_PK_EDDSA_ED448:
      return g_strdup ("Ed448");
    case GNUTLS_PK_ECDSA:
      if (gnutls_x509_crt_get_pk_ecc_raw (crt, &curve, &x, &y) < 0)
        return g_strdup_printf ("ECDSA %u", bits);
      gnutls_free (x.data);
      gnutls_free (y.data);
      switch (curve)
        {
        case GNUTLS_ECC_CURVE_SECP256R1: return g_strdup ("ECDSA P-256");
        case GNUTLS_ECC_CURVE_SECP384R1: return g_strdup ("ECDSA P-384");
        case GNUTLS_ECC_CURVE_SECP521R1: return g_strdup ("ECDSA P-521");
        default:
          name = gnutls_ecc_curve_get_name (curve);
          return g_strdup_printf ("ECDSA %s", name != NULL ? name : "?");
        }
    default:
      name = gnutls_pk_get_name (algo);
      return g_strdup_printf ("%s %u", name != NULL ? name : "unknown", bits);
    }
}

/* What ListCredentials says of @source, worked out once at load; also
 * gives the expiry.  Public facts of the certificate only. */
static void
source_describe (CredentialSource *source, const SspidCredentialConfig *conf)
{
  gnutls_x509_crt_t crt = leaf_certificate (source->gnutls);
  SspidCredentialInfo *info = &source->info;

  if (crt != NULL)
    {
      info->subject = sspid_certificate_dup_dn (crt, FALSE);
      info->issuer = sspid_certificate_dup_dn (crt, TRUE);
      info->key_type = key_type_name (crt);
      info->not_before = (gint64) gnutls_x509_crt_get_activation_time (crt);
      source->expiry = (gint64) gnutls_x509_crt_get_expiration_time (crt);
      gnutls_x509_crt_deinit (crt);
    }
  info->name = source->name;
  info->usage = conf->usage;
  info->not_after = source->expiry;
  info->is_pkcs11 = g_str_has_prefix (conf->key, "pkcs11:");
  info->client_auth = conf->client_auth;
}

/* A server staples the OCSP response in @path (DER, as `openssl ocsp
 * -respout` writes it) to its certificate.  GnuTLS checks that it is about
 * that certificate and sends it only while it is current, so a response
 * that is wrong or out of date costs the stapling, not the credential:
 * a warning, and the credential serves without it. */
static void
load_ocsp_response (const Loader *loader, gnutls_certificate_credentials_t creds,
                    const char *credential, const char *path)
{
  int ret = gnutls_certificate_set_ocsp_status_request_file2 (creds, path, 0, GNUTLS_X509_FMT_DER);

  if (ret < 0)
    complain (loader, credential, "ocsp-response", FALSE,
              "OCSP response '%s' not stapled: %s", path, gnutls_strerror (ret));
}

/* The longest certificate chain a credential may present. */
#define MAX_CHAIN 16

/* @conf's chain with its key in a token (the key given to the
 * credentials only if it matches the chain's first certificate).  The
 * error says what failed, as gnutls_certificate_set_x509_key_file2()
 * does. */
static int
set_token_key (gnutls_certificate_credentials_t creds, const SspidCredentialConfig *conf)
{
  gnutls_pcert_st chain[MAX_CHAIN];
  unsigned int n = MAX_CHAIN;
  gnutls_privkey_t key = NULL;
  int ret;

  ret = gnutls_pcert_list_import_x509_file (chain, &n, conf->certificate, GNUTLS_X509_FMT_PEM,
                                            NULL, NULL, 0);
  if (ret < 0)
    return ret;
  ret = sspid_token_key_open (conf->key, conf->name, chain[0].pubkey, &key);
  if (ret >= 0)
    ret = gnutls_certificate_set_key (creds, NULL, 0, chain, (int) n, key);
  if (ret < 0)
    {
      /* Not taken by the credentials on failure. */
      for (unsigned int i = 0; i < n; i++)
        gnutls_pcert_deinit (&chain[i]);
      if (key != NULL)
        gnutls_privkey_deinit (key);
    }
  return ret;
}

static CredentialSource *
load_source (const Loader *loader, const SspidCredentialConfig *conf, const char *default_trust)
{
  g_auto (gnutls_certificate_credentials_t) creds = NULL;
  g_autofree char *what = g_strdup_printf ("credential '%s'", conf->name);
  CredentialSource *source;
  int ret;

  /* GnuTLS would only say "Error while reading file", and not which. */
  if (access (conf->certificate, R_OK) != 0)
    {
      complain (loader, conf->name, "certificate", TRUE, "certificate '%s': %s",
                conf->certificate, g_strerror (errno));
      return NULL;
    }
  if (!g_str_has_prefix (conf->key, "pkcs11:") &&
      !key_file_is_private (loader, conf->name, conf->key))
    return NULL;

  if (gnutls_certificate_allocate_credentials (&creds) < 0)
    return NULL;
  if (g_str_has_prefix (conf->key, "pkcs11:"))
    ret = set_token_key (creds, conf);
  else
    ret = gnutls_certificate_set_x509_key_file2 (creds, conf->certificate, conf->key,
                                                 GNUTLS_X509_FMT_PEM, NULL, 0);
  if (ret < 0)
    {
      g_autofree char *key = sspid_key_for_log (conf->key);

      if (ret == GNUTLS_E_CERTIFICATE_KEY_MISMATCH)
        complain (loader, conf->name, "key", TRUE, "key '%s' does not match certificate '%s'",
                  key, conf->certificate);
      else
        complain (loader, conf->name, "key", TRUE,
                  "cannot load certificate '%s' with key '%s': %s%s",
                  conf->certificate, key, gnutls_strerror (ret),
                  ret == GNUTLS_E_PKCS11_PIN_ERROR
                  ? " (give the PIN with the URI's pin-value or pin-source)" : "");
      return NULL;
    }
  if (!load_trust (loader, creds, conf->trust != NULL ? conf->trust : default_trust,
                   conf->name))
    return NULL;
  if (conf->ocsp_response != NULL)
    load_ocsp_response (loader, creds, conf->name, conf->ocsp_response);
  /* A server offers the DHE suites of its priority only with DH
   * parameters: the RFC 7919 group of 2048 bits (nothing to generate),
   * used when the client names no group of its own, as gnutls-serv does. */
  if ((conf->usage & SSPID_USAGE_INBOUND) &&
      gnutls_certificate_set_known_dh_params (creds, GNUTLS_SEC_PARAM_MEDIUM) < 0)
    g_debug ("%s: no DH parameters: DHE suites off", what);

  source = source_new (conf->name, g_steal_pointer (&creds));
  source->key_on_token = g_str_has_prefix (conf->key, "pkcs11:");
  source->max_key_operations = MAX (conf->max_key_operations, 1);
  source->usage = conf->usage;
  source->client_auth = conf->client_auth;
  source->is_quic_allowed = conf->is_quic_allowed;
  source->has_certificate = TRUE;
  source_describe (source, conf);
  source->access = g_new0 (SspidCredentialConfig, 1);
  source->access->uids = g_array_ref (conf->uids);
  source->access->gids = g_array_ref (conf->gids);
  source->access->allow_everyone = conf->allow_everyone;
  /* The ticket key never leaves the daemon; GnuTLS derives the keys that
   * actually encrypt tickets from it and rotates them over time. */
  if ((conf->usage & SSPID_USAGE_INBOUND) &&
      gnutls_session_ticket_key_generate (&source->ticket_key) < 0)
    source->ticket_key.data = NULL;

  if (source->expiry != 0 && source->expiry < (gint64) time (NULL))
    complain (loader, conf->name, "certificate", FALSE, "certificate '%s' has expired",
              conf->certificate);
  return source;
}

static CredentialSource *
anonymous_source (const Loader *loader, const char *default_trust)
{
  g_auto (gnutls_certificate_credentials_t) creds = NULL;
  CredentialSource *source;

  if (gnutls_certificate_allocate_credentials (&creds) < 0)
    return NULL;
  /* A failure to load the default trust still leaves an anonymous client
   * that refuses every server it cannot verify: safe, and logged. */
  load_trust (loader, creds, default_trust, NULL);

  source = source_new ("", g_steal_pointer (&creds));
  source->usage = SSPID_USAGE_OUTBOUND;
  return source;
}

static SspidCredentialStore *store_build (const SspidConfig *config, const Loader *loader,
                                          SspidCredentialStore *previous);

SspidCredentialStore *
sspid_credential_store_new (const SspidConfig *config)
{
  return sspid_credential_store_load (config, geteuid (), NULL, NULL);
}

SspidCredentialStore *
sspid_credential_store_reload (const SspidConfig *config, SspidCredentialStore *previous)
{
  const Loader loader = { geteuid (), NULL, NULL };

  return store_build (config, &loader, previous);
}

SspidCredentialStore *
sspid_credential_store_load (const SspidConfig *config, uid_t daemon_uid,
                             SspidCredentialProblemFunc problem, gpointer user_data)
{
  const Loader loader = { daemon_uid, problem, user_data };

  return store_build (config, &loader, NULL);
}

/* The store of @config; a credential that does not load keeps @previous's
 * (a reload) when it has one. */
static SspidCredentialStore *
store_build (const SspidConfig *config, const Loader *loader, SspidCredentialStore *previous)
{
  SspidCredentialStore *store = g_new0 (SspidCredentialStore, 1);
  g_autoptr (GError) error = NULL;

  store->sources = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                          (GDestroyNotify) source_unref);
  if (config->pkcs11_remote != NULL && !sspid_pkcs11_use_remote (config->pkcs11_remote, &error))
    g_warning ("pkcs11-remote: %s", error->message);
  for (guint i = 0; i < config->credentials->len; i++)
    {
      const SspidCredentialConfig *conf = config->credentials->pdata[i];
      CredentialSource *source = load_source (loader, conf, config->default_trust);
      CredentialSource *before = previous != NULL && source == NULL
                                 ? g_hash_table_lookup (previous->sources, conf->name) : NULL;

      /* A replaced file caught half-written, or a key that does not match
       * its new certificate, must not take a working credential away. */
      if (before != NULL)
        {
          g_warning ("credential '%s': keeping what was loaded before until the problem "
                     "above is fixed", conf->name);
          source = source_ref (before);
        }
      if (source != NULL)
        g_hash_table_insert (store->sources, source->name, source);
      else if (loader->problem == NULL)
        g_warning ("credential '%s' is unavailable until the problem above is fixed "
                   "and the configuration reloaded", conf->name);
    }
  store->anonymous = anonymous_source (loader, config->default_trust);
  return store;
}

void
sspid_credential_store_free (SspidCredentialStore *store)
{
  if (store == NULL)
    return;
  g_hash_table_unref (store->sources);
  g_clear_pointer (&store->anonymous, source_unref);
  g_free (store);
}

guint
sspid_credential_store_get_n_loaded (SspidCredentialStore *store)
{
  return g_hash_table_size (store->sources);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

GPtrArray *
sspid_credential_store_list (SspidCredentialStore *store, const SspidIdentity *who)
{
  g_auto(GStrv) names = sspid_credential_store_dup_names (store);
  GPtrArray *list = g_ptr_array_new ();

  qsort (names, g_strv_length (names), sizeof (char *), compare_names);
  for (gsize i = 0; names[i] != NULL; i++)
    {
      CredentialSource *source = g_hash_table_lookup (store->sources, names[i]);

      if (sspid_credential_config_allows (source->access, who))
        g_ptr_array_add (list, &source->info);
    }
  return list;
}

static void
credential_use_clear (gpointer data)
{
  g_free (((SspidCredentialUse *) data)->name);
}

GArray *
sspid_credential_store_get_use (SspidCredentialStore *store, const SspidIdentity *who)
{
  g_auto(GStrv) names = sspid_credential_store_dup_names (store);
  GArray *uses = g_array_new (FALSE, FALSE, sizeof (SspidCredentialUse));

  g_array_set_clear_func (uses, credential_use_clear);
  qsort (names, g_strv_length (names), sizeof (char *), compare_names);
  for (gsize i = 0; names[i] != NULL; i++)
    {
      CredentialSource *source = g_hash_table_lookup (store->sources, names[i]);
      SspidCredentialUse use = { g_strdup (names[i]), source->handshakes_done,
                                 source->handshakes_failed };

      if (who->uid == 0 || sspid_credential_config_allows (source->access, who))
        g_array_append_val (uses, use);
      else
        g_free (use.name);
    }
  return uses;
}

gpointer
sspid_credential_peek_key_slot (SspidCredential *cred, guint *max_operations)
{
  if (!cred->source->key_on_token)
    return NULL;
  *max_operations = cred->source->max_key_operations;
  return cred->source;
}

void
sspid_credential_count_handshake (SspidCredential *cred, gboolean done)
{
  if (done)
    cred->source->handshakes_done++;
  else
    cred->source->handshakes_failed++;
}

GStrv
sspid_credential_store_dup_names (SspidCredentialStore *store)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_autofree gpointer *keys = g_hash_table_get_keys_as_array (store->sources, NULL);

  for (gsize i = 0; keys[i] != NULL; i++)
    g_strv_builder_add (builder, keys[i]);
  return g_strv_builder_end (builder);
}

#define SUPPORTED_PROTOCOLS (SP_PROT_TLS1_0_CLIENT | SP_PROT_TLS1_0_SERVER | \
                             SP_PROT_TLS1_1_CLIENT | SP_PROT_TLS1_1_SERVER | \
                             SP_PROT_TLS1_2_CLIENT | SP_PROT_TLS1_2_SERVER | \
                             SP_PROT_TLS1_3_CLIENT | SP_PROT_TLS1_3_SERVER | \
                             SP_PROT_DTLS1_2_CLIENT | SP_PROT_DTLS1_2_SERVER)

/* The GnuTLS priority for the versions an SP_PROT_* mask enables in one
 * direction, or NULL for none.  Only that direction's bits count, as in
 * Schannel: a mask with TLS 1.3 disabled for the client still has the TLS
 * 1.3 server bit (SCH_CREDENTIALS says what is disabled, not what is on),
 * and that must not turn TLS 1.3 back on for the client. */
static char *
priority_for_protocols (guint32 enabled, gboolean is_server)
{
  static const struct { guint32 client, server; const char *name; } versions[] = {
    { SP_PROT_TLS1_3_CLIENT, SP_PROT_TLS1_3_SERVER, "VERS-TLS1.3" },
    { SP_PROT_TLS1_2_CLIENT, SP_PROT_TLS1_2_SERVER, "VERS-TLS1.2" },
    { SP_PROT_TLS1_1_CLIENT, SP_PROT_TLS1_1_SERVER, "VERS-TLS1.1" },
    { SP_PROT_TLS1_0_CLIENT, SP_PROT_TLS1_0_SERVER, "VERS-TLS1.0" },
  };
  g_autoptr (GString) prio = g_string_new ("NORMAL:-VERS-ALL");
  gboolean any = FALSE;

  if (enabled == 0)
    enabled = SP_PROT_TLS1_2_CLIENT | SP_PROT_TLS1_2_SERVER |
              SP_PROT_TLS1_3_CLIENT | SP_PROT_TLS1_3_SERVER;
  for (gsize i = 0; i < G_N_ELEMENTS (versions); i++)
    {
      if ((enabled & (is_server ? versions[i].server : versions[i].client)) == 0)
        continue;
      g_string_append_printf (prio, ":+%s", versions[i].name);
      any = TRUE;
    }
  return any ? g_string_free (g_steal_pointer (&prio), FALSE) : NULL;
}

/* The GnuTLS priority of datagram contexts (ISC_REQ_DATAGRAM,
 * ASC_REQ_DATAGRAM) in one direction: DTLS 1.2 when the mask enables it
 * there, or when the mask is 0 (the default, which on Windows includes
 * DTLS for datagram contexts); NULL otherwise. */
static char *
dtls_priority_for_protocols (guint32 enabled, gboolean is_server)
{
  guint32 bit = is_server ? SP_PROT_DTLS1_2_SERVER : SP_PROT_DTLS1_2_CLIENT;

  if (enabled != 0 && (enabled & bit) == 0)
    return NULL;
  return g_strdup ("NORMAL:-VERS-ALL:+VERS-DTLS1.2");
}

SECURITY_STATUS
sspid_credential_store_acquire (SspidCredentialStore *store,
                                const char *principal,
                                guint32 use,
                                guint32 enabled_protocols,
                                guint32 flags,
                                const SspidIdentity *who,
                                SspidCredential **out)
{
  CredentialSource *source;
  SspidCredential *cred;
  g_autofree char *client_priority = NULL;
  g_autofree char *server_priority = NULL;
  g_autofree char *client_dtls_priority = NULL;
  g_autofree char *server_dtls_priority = NULL;

  *out = NULL;
  if (use != SECPKG_CRED_INBOUND && use != SECPKG_CRED_OUTBOUND && use != SECPKG_CRED_BOTH)
    return SEC_E_INVALID_PARAMETER;
  /* Asking only for versions we cannot speak (SSL 2/3, DTLS 1.0), or none in
   * the direction(s) asked for, is an error the caller should see now
   * rather than as a failed handshake. */
  if (enabled_protocols != 0 && (enabled_protocols & SUPPORTED_PROTOCOLS) == 0)
    return SEC_E_ALGORITHM_MISMATCH;
  enabled_protocols &= SUPPORTED_PROTOCOLS;
  client_priority = (use & SECPKG_CRED_OUTBOUND) ? priority_for_protocols (enabled_protocols, FALSE) : NULL;
  server_priority = (use & SECPKG_CRED_INBOUND) ? priority_for_protocols (enabled_protocols, TRUE) : NULL;
  client_dtls_priority = (use & SECPKG_CRED_OUTBOUND) ? dtls_priority_for_protocols (enabled_protocols, FALSE) : NULL;
  server_dtls_priority = (use & SECPKG_CRED_INBOUND) ? dtls_priority_for_protocols (enabled_protocols, TRUE) : NULL;
  if (client_priority == NULL && server_priority == NULL &&
      client_dtls_priority == NULL && server_dtls_priority == NULL)
    return SEC_E_ALGORITHM_MISMATCH;

  if (principal == NULL || principal[0] == '\0')
    {
      if (use != SECPKG_CRED_OUTBOUND)
        return SEC_E_NO_CREDENTIALS;
      if (store->anonymous == NULL)
        return SEC_E_INTERNAL_ERROR;
      source = source_ref (store->anonymous);
    }
  else
    {
      source = g_hash_table_lookup (store->sources, principal);
      /* Not configured, not allowed and not usable this way all give the
       * same answer: a caller must not learn which names exist. */
      if (source == NULL ||
          !sspid_credential_config_allows (source->access, who) ||
          (source->usage & use) != use)
        return SEC_E_UNKNOWN_CREDENTIALS;
      source_ref (source);
    }

  cred = g_new0 (SspidCredential, 1);
  cred->refcount = 1;
  cred->source = source;
  cred->uid = who->uid;
  cred->use = use;
  cred->flags = flags;
  cred->client_priority = g_steal_pointer (&client_priority);
  cred->server_priority = g_steal_pointer (&server_priority);
  cred->client_dtls_priority = g_steal_pointer (&client_dtls_priority);
  cred->server_dtls_priority = g_steal_pointer (&server_dtls_priority);
  *out = cred;
  return SEC_E_OK;
}

SspidCredential *
sspid_credential_ref (SspidCredential *cred)
{
  g_atomic_int_inc (&cred->refcount);
  return cred;
}

void
sspid_credential_unref (SspidCredential *cred)
{
  if (cred == NULL || !g_atomic_int_dec_and_test (&cred->refcount))
    return;
  source_unref (cred->source);
  g_free (cred->client_priority);
  g_free (cred->server_priority);
  g_free (cred->client_dtls_priority);
  g_free (cred->server_dtls_priority);
  g_free (cred);
}

const char *
sspid_credential_peek_name (SspidCredential *cred)
{
  return cred->source->name;
}

gboolean
sspid_credential_is_quic_allowed (SspidCredential *cred)
{
  return cred->source->is_quic_allowed;
}

guint32
sspid_credential_get_use (SspidCredential *cred)
{
  return cred->use;
}

guint32
sspid_credential_get_flags (SspidCredential *cred)
{
  return cred->flags;
}

SspidClientAuth
sspid_credential_get_client_auth (SspidCredential *cred)
{
  return cred->source->client_auth;
}

gboolean
sspid_credential_has_certificate (SspidCredential *cred)
{
  return cred->source->has_certificate;
}

gint64
sspid_credential_get_expiry (SspidCredential *cred)
{
  return cred->source->expiry;
}

const char *
sspid_credential_peek_priority (SspidCredential *cred, gboolean is_server)
{
  return is_server ? cred->server_priority : cred->client_priority;
}

const char *
sspid_credential_peek_dtls_priority (SspidCredential *cred, gboolean is_server)
{
  return is_server ? cred->server_dtls_priority : cred->client_dtls_priority;
}

gnutls_certificate_credentials_t
sspid_credential_peek_gnutls (SspidCredential *cred)
{
  return cred->source->gnutls;
}

const gnutls_datum_t *
sspid_credential_peek_ticket_key (SspidCredential *cred)
{
  if (cred->source->ticket_key.data == NULL ||
      (cred->flags & SCH_CRED_DISABLE_RECONNECTS))
    return NULL;
  return &cred->source->ticket_key;
}

/* A session may only be offered by a client configured like the one that
 * made it: same user, mode and target, and the same protocol versions (a
 * TLS 1.2 session offered by a TLS 1.3-only client breaks the handshake).
 * The mode, a fixed word, stands before the target, which may hold any
 * character. */
static char *
session_key (SspidCredential *cred, const char *mode, const char *target)
{
  return g_strdup_printf ("%u/%s/%s/%s", (unsigned) cred->uid, cred->client_priority, mode,
                          target != NULL ? target : "");
}

/* The data cached under @key, if not older than SESSION_CACHE_LIFETIME
 * (new reference), or NULL; @take: the entry goes, whatever its age. */
static GBytes *
cache_lookup (CredentialSource *source, const char *key, gboolean take)
{
  GBytes *data = NULL;
  CachedSession *entry;

  g_mutex_lock (&source->sessions_lock);
  entry = g_hash_table_lookup (source->sessions, key);
  if (entry != NULL && g_get_monotonic_time () / G_USEC_PER_SEC - entry->stored < SESSION_CACHE_LIFETIME)
    data = g_bytes_ref (entry->data);
  if (take)
    g_hash_table_remove (source->sessions, key);
  g_mutex_unlock (&source->sessions_lock);
  return data;
}

GBytes *
sspid_credential_take_session (SspidCredential *cred, const char *mode, const char *target)
{
  g_autofree char *key = session_key (cred, mode, target);

  if (cred->flags & SCH_CRED_DISABLE_RECONNECTS)
    return NULL;
  /* TLS 1.3 tickets are single-use (RFC 8446 C.4): take, don't peek. */
  return cache_lookup (cred->source, key, TRUE);
}

/* Adds a wiped-when-dropped copy of @data (@len bytes) under @key (taken)
 * to @source's session cache, dropping the oldest entry when it is full. */
static void
cache_insert (CredentialSource *source, char *key, const guint8 *data, gsize len)
{
  CachedSession *entry = g_new0 (CachedSession, 1);

  entry->data = secret_bytes_new (data, len);
  entry->stored = g_get_monotonic_time () / G_USEC_PER_SEC;

  g_mutex_lock (&source->sessions_lock);
  if (g_hash_table_size (source->sessions) >= SESSION_CACHE_MAX)
    {
      /* Full: drop the oldest.  A linear scan of a bounded table is cheaper
       * than keeping an LRU list for something that happens once per
       * handshake at most. */
      GHashTableIter iter;
      gpointer k, v, oldest = NULL;
      gint64 oldest_time = G_MAXINT64;

      g_hash_table_iter_init (&iter, source->sessions);
      while (g_hash_table_iter_next (&iter, &k, &v))
        if (((CachedSession *) v)->stored < oldest_time)
          {
            oldest_time = ((CachedSession *) v)->stored;
            oldest = k;
          }
      if (oldest != NULL)
        g_hash_table_remove (source->sessions, oldest);
    }
  g_hash_table_replace (source->sessions, key, entry);
  g_mutex_unlock (&source->sessions_lock);
}

void
sspid_credential_store_session (SspidCredential *cred, const char *mode, const char *target,
                                const gnutls_datum_t *data)
{
  if (cred->flags & SCH_CRED_DISABLE_RECONNECTS)
    return;
  cache_insert (cred->source, session_key (cred, mode, target), data->data, data->size);
}

/* Server sessions share the cache (its bound and lifetime) under keys no
 * client key can take: client keys start with a uid. */
static char *
server_session_key (const guint8 *id, gsize id_len)
{
  GString *key = g_string_new ("server/");

  for (gsize i = 0; i < id_len; i++)
    g_string_append_printf (key, "%02x", id[i]);
  return g_string_free (key, FALSE);
}

void
sspid_credential_store_server_session (SspidCredential *cred, const guint8 *id, gsize id_len,
                                       const guint8 *data, gsize len)
{
  if (cred->flags & SCH_CRED_DISABLE_RECONNECTS)
    return;
  cache_insert (cred->source, server_session_key (id, id_len), data, len);
}

GBytes *
sspid_credential_lookup_server_session (SspidCredential *cred, const guint8 *id, gsize id_len)
{
  g_autofree char *key = server_session_key (id, id_len);

  if (cred->flags & SCH_CRED_DISABLE_RECONNECTS)
    return NULL;
  /* Not taken: a TLS 1.2 session may be resumed more than once. */
  return cache_lookup (cred->source, key, FALSE);
}

void
sspid_credential_forget_server_session (SspidCredential *cred, const guint8 *id, gsize id_len)
{
  CredentialSource *source = cred->source;
  g_autofree char *key = server_session_key (id, id_len);

  g_mutex_lock (&source->sessions_lock);
  g_hash_table_remove (source->sessions, key);
  g_mutex_unlock (&source->sessions_lock);
}
