/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A private key in a PKCS#11 token that outlives the connection to its
 * token (see sspid-token-key.h).
 */
#include "config.h"

#include "sspid-token-key.h"
#include "sspid-pkcs11.h"

#include <glib.h>
#include <gnutls/pkcs11.h>
#include <p11-kit/pkcs11.h>
#include <string.h>

typedef struct {
  char                 *uri;         /* holds the PIN: wiped when freed, never logged */
  char                 *credential;
  gnutls_pk_algorithm_t pk;          /* of the certificate's key */
  unsigned int          bits;
  gboolean              can_rsa_pss; /* the token signs RSA-PSS (CKM_RSA_PKCS_PSS) */
  GMutex                lock;        /* opening and letting go of inner */
  gnutls_privkey_t      inner;       /* GnuTLS's key in the token; NULL when let go */
  gint                  has_failed;  /* atomic: a failure was logged, no success since */
} TokenKey;

typedef enum { SIGN_DATA, SIGN_HASH, DECRYPT } OperationKind;

typedef struct {
  OperationKind          kind;
  gnutls_sign_algorithm_t algo;
  unsigned int           flags;
  const gnutls_datum_t  *in;
  gnutls_datum_t        *out;
} Operation;

/* GnuTLS's key, opened unless it is; called between
 * sspid_pkcs11_operation_begin() and _end(), so it stays open until
 * then. */
static int
open_inner (TokenKey *key, gnutls_privkey_t *out)
{
  int ret = 0;

  g_mutex_lock (&key->lock);
  if (key->inner == NULL)
    {
      gnutls_privkey_t inner = NULL;

      ret = gnutls_privkey_init (&inner);
      if (ret >= 0)
        ret = gnutls_privkey_import_url (inner, key->uri, 0);
      if (ret >= 0)
        key->inner = g_steal_pointer (&inner);
      else if (inner != NULL)
        gnutls_privkey_deinit (inner);
    }
  *out = key->inner;
  g_mutex_unlock (&key->lock);
  return ret;
}

/* SspidPkcs11ReleaseFunc: closes the key's session (its module is about
 * to reconnect). */
static void
release_inner (gpointer data)
{
  TokenKey *key = data;

  g_mutex_lock (&key->lock);
  g_clear_pointer (&key->inner, gnutls_privkey_deinit);
  g_mutex_unlock (&key->lock);
}

static int
attempt (TokenKey *key, const Operation *op)
{
  gnutls_privkey_t inner;
  int ret;

  sspid_pkcs11_operation_begin ();
  ret = open_inner (key, &inner);
  if (ret >= 0)
    switch (op->kind)
      {
      case SIGN_DATA:
        ret = gnutls_privkey_sign_data2 (inner, op->algo, op->flags, op->in, op->out);
        break;
      case SIGN_HASH:
        ret = gnutls_privkey_sign_hash2 (inner, op->algo, op->flags, op->in, op->out);
        break;
      case DECRYPT:
        ret = gnutls_privkey_decrypt_data (inner, 0, op->in, op->out);
        break;
      }
  sspid_pkcs11_operation_end ();
  return ret;
}

/* Errors of the token rather than of the request: the key service went
 * away, or its module lost its connection. */
static gboolean
is_token_failure (int ret)
{
  return ret == GNUTLS_E_PK_SIGN_FAILED || ret == GNUTLS_E_PKCS11_ERROR
         || (ret <= GNUTLS_E_PKCS11_LOAD_ERROR
             && ret >= GNUTLS_E_PKCS11_REQUESTED_OBJECT_NOT_AVAILBLE);
}

static int
run (TokenKey *key, const Operation *op)
{
  int ret = attempt (key, op);

  if (ret < 0 && is_token_failure (ret))
    {
      if (g_atomic_int_compare_and_exchange (&key->has_failed, 0, 1))
        g_warning ("credential '%s': its key failed (%s): is the key service down? "
                   "Handshakes with it fail until it is back", key->credential,
                   gnutls_strerror (ret));
      /* The service may be back: reconnect and try once more, so that
       * this handshake need not fail too. */
      if (sspid_pkcs11_recover ())
        ret = attempt (key, op);
    }
  if (ret >= 0 && g_atomic_int_compare_and_exchange (&key->has_failed, 1, 0))
    g_message ("credential '%s': its key service is back", key->credential);
  return ret;
}

static int
sign_data (gnutls_privkey_t outer, gnutls_sign_algorithm_t algo, void *data, unsigned int flags,
           const gnutls_datum_t *in, gnutls_datum_t *signature)
{
  const Operation op = { SIGN_DATA, algo, flags, in, signature };

  return run (data, &op);
}

static int
sign_hash (gnutls_privkey_t outer, gnutls_sign_algorithm_t algo, void *data, unsigned int flags,
           const gnutls_datum_t *hash, gnutls_datum_t *signature)
{
  const Operation op = { SIGN_HASH, algo, flags, hash, signature };

  return run (data, &op);
}

static int
decrypt (gnutls_privkey_t outer, void *data, const gnutls_datum_t *ciphertext,
         gnutls_datum_t *plaintext)
{
  const Operation op = { DECRYPT, GNUTLS_SIGN_UNKNOWN, 0, ciphertext, plaintext };

  return run (data, &op);
}

/* What GnuTLS asks of an external key before it picks a signature
 * algorithm, answered from the certificate and the token's mechanisms
 * (learned when the key was first opened), so that it is answered while
 * the key service is away too. */
static int
key_info (gnutls_privkey_t outer, unsigned int flags, void *data)
{
  TokenKey *key = data;

  if (flags & GNUTLS_PRIVKEY_INFO_HAVE_SIGN_ALGO)
    {
      gnutls_sign_algorithm_t sign = GNUTLS_FLAGS_TO_SIGN_ALGO (flags);

      if (gnutls_sign_get_pk_algorithm (sign) == GNUTLS_PK_RSA_PSS && !key->can_rsa_pss)
        return 0;
      return gnutls_sign_supports_pk_algorithm (sign, key->pk) ? 1 : 0;
    }
  if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO)
    return key->pk;
  if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO_BITS)
    return (int) key->bits;
  return -1;
}

static void
token_key_free (TokenKey *key)
{
  sspid_pkcs11_remove_session_holder (key);
  /* As an operation: its session must not be closed while the module
   * reconnects (the handle could name a session of the new connection). */
  sspid_pkcs11_operation_begin ();
  release_inner (key);
  sspid_pkcs11_operation_end ();
  gnutls_memset (key->uri, 0, strlen (key->uri));
  g_free (key->uri);
  g_free (key->credential);
  g_mutex_clear (&key->lock);
  g_free (key);
}

static void
key_deinit (gnutls_privkey_t outer, void *data)
{
  token_key_free (data);
}

int
sspid_token_key_open (const char *uri, const char *credential, gnutls_pubkey_t public,
                      gnutls_privkey_t *out)
{
  TokenKey *key = g_new0 (TokenKey, 1);
  gnutls_privkey_t inner, outer = NULL;
  int ret;

  *out = NULL;
  key->uri = g_strdup (uri);
  key->credential = g_strdup (credential);
  g_mutex_init (&key->lock);
  key->pk = gnutls_pubkey_get_pk_algorithm (public, &key->bits);

  sspid_pkcs11_operation_begin ();
  ret = open_inner (key, &inner);
  if (ret >= 0 && key->pk == GNUTLS_PK_RSA)
    key->can_rsa_pss = gnutls_pkcs11_token_check_mechanism (uri, CKM_RSA_PKCS_PSS, NULL, 0, 0) != 0;
  sspid_pkcs11_operation_end ();
  if (ret >= 0)
    ret = gnutls_privkey_init (&outer);
  if (ret >= 0)
    ret = gnutls_privkey_import_ext4 (outer, key, sign_data, sign_hash, decrypt, key_deinit,
                                      key_info, GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE);
  if (ret < 0)
    {
      if (outer != NULL)
        gnutls_privkey_deinit (outer);
      token_key_free (key);
      return ret;
    }
  sspid_pkcs11_add_session_holder (key, release_inner);
  *out = outer;
  return 0;
}
