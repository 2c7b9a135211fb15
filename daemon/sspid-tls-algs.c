/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a credential's sessions may negotiate, as QueryCredentialsAttributes
 * reports it (SECPKG_ATTR_SUPPORTED_ALGS, SECPKG_ATTR_CIPHER_STRENGTHS):
 * the cipher suites of the GnuTLS priority the credential was acquired
 * with, in each direction it may be used, read back from GnuTLS rather
 * than assumed, so the answer follows the system's priority file, the
 * protocol versions the caller enabled, and the GnuTLS the daemon runs on.
 *
 * A suite counts when its key exchange, cipher and MAC are in the
 * priority and one of the priority's protocol versions can carry it.
 * TLS 1.3 suites name no key exchange: their groups say which (ECDHE, or
 * DHE for the RFC 7919 FFDHE groups).
 */
#include "config.h"

#include <string.h>

#include "sspid-tls-private.h"

void
sspid_tls_algorithms_clear (SspidTlsAlgorithms *algs)
{
  g_clear_pointer (&algs->ciphers, g_ptr_array_unref);
  g_clear_pointer (&algs->hashes, g_ptr_array_unref);
  g_clear_pointer (&algs->key_exchanges, g_ptr_array_unref);
  g_clear_pointer (&algs->signatures, g_ptr_array_unref);
}

static void
add_once (GPtrArray *names, const char *name)
{
  if (name == NULL || *name == '\0')
    return;
  for (guint i = 0; i < names->len; i++)
    if (g_str_equal (names->pdata[i], name))
      return;
  g_ptr_array_add (names, g_strdup (name));
}

static gboolean
has_value (const unsigned int *list, int n, unsigned int value)
{
  for (int i = 0; i < n; i++)
    if (list[i] == value)
      return TRUE;
  return FALSE;
}

/* The priority's protocol versions. */
typedef struct {
  gboolean tls13;
  gnutls_protocol_t max_tls12;   /* highest of TLS 1.0-1.2, 0: none */
  gnutls_protocol_t min_tls12;   /* lowest of them */
} Versions;

static Versions
versions_of (gnutls_priority_t priority)
{
  const unsigned int *list = NULL;
  int n = gnutls_priority_protocol_list (priority, &list);
  Versions v = { FALSE, 0, 0 };

  for (int i = 0; i < n; i++)
    {
      gnutls_protocol_t p = list[i];

      if (p == GNUTLS_TLS1_3)
        v.tls13 = TRUE;
      else if (p >= GNUTLS_TLS1_0 && p <= GNUTLS_TLS1_2)
        {
          if (v.max_tls12 == 0 || p > v.max_tls12)
            v.max_tls12 = p;
          if (v.min_tls12 == 0 || p < v.min_tls12)
            v.min_tls12 = p;
        }
    }
  return v;
}

/* A suite's hash: its MAC, or for an AEAD suite the hash of its PRF, which
 * GnuTLS's suite table does not expose but every AEAD suite's name ends
 * with ("..._AES_128_GCM_SHA256"). */
static const char *
suite_hash (const char *suite_name, gnutls_mac_algorithm_t mac)
{
  const char *tail;

  if (mac != GNUTLS_MAC_AEAD)
    return gnutls_mac_get_name (mac);
  tail = strrchr (suite_name, '_');
  return tail != NULL && g_str_has_prefix (tail + 1, "SHA") ? tail + 1 : NULL;
}

/* The key exchanges of TLS 1.3, by the priority's groups. */
static void
add_tls13_exchanges (gnutls_priority_t priority, SspidTlsAlgorithms *algs)
{
  const unsigned int *groups = NULL;
  int n = gnutls_priority_group_list (priority, &groups);

  for (int i = 0; i < n; i++)
    {
      const char *name = gnutls_group_get_name (groups[i]);

      add_once (algs->key_exchanges,
                name != NULL && g_str_has_prefix (name, "FFDHE") ? "DHE" : "ECDHE");
    }
}

/* The signature algorithms' public-key families, as Schannel counts them. */
static void
add_signatures (gnutls_priority_t priority, SspidTlsAlgorithms *algs)
{
  const unsigned int *signs = NULL;
  int n = gnutls_priority_sign_list (priority, &signs);

  for (int i = 0; i < n; i++)
    switch (gnutls_sign_get_pk_algorithm (signs[i]))
      {
      case GNUTLS_PK_RSA:
      case GNUTLS_PK_RSA_PSS:
        add_once (algs->signatures, "RSA");
        break;
      case GNUTLS_PK_ECDSA:
        add_once (algs->signatures, "ECDSA");
        break;
      case GNUTLS_PK_EDDSA_ED25519:
      case GNUTLS_PK_EDDSA_ED448:
        add_once (algs->signatures, "EdDSA");
        break;
      case GNUTLS_PK_DSA:
        add_once (algs->signatures, "DSA");
        break;
      default:
        break;
      }
}

static void
add_cipher (SspidTlsAlgorithms *algs, gnutls_cipher_algorithm_t cipher)
{
  guint32 bits = (guint32) gnutls_cipher_get_key_size (cipher) * 8;

  add_once (algs->ciphers, gnutls_cipher_get_name (cipher));
  if (bits == 0)
    return;   /* the NULL cipher is no strength */
  if (algs->min_cipher_bits == 0 || bits < algs->min_cipher_bits)
    algs->min_cipher_bits = bits;
  algs->max_cipher_bits = MAX (algs->max_cipher_bits, bits);
}

/* Adds the suites @priority enables to @algs. */
static void
add_priority (gnutls_priority_t priority, SspidTlsAlgorithms *algs)
{
  const unsigned int *kxs = NULL, *ciphers = NULL, *macs = NULL;
  int n_kx = gnutls_priority_kx_list (priority, &kxs);
  int n_cipher = gnutls_priority_cipher_list (priority, &ciphers);
  int n_mac = gnutls_priority_mac_list (priority, &macs);
  Versions v = versions_of (priority);
  gboolean any_tls13 = FALSE;

  for (size_t i = 0;; i++)
    {
      unsigned char id[2];
      gnutls_kx_algorithm_t kx;
      gnutls_cipher_algorithm_t cipher;
      gnutls_mac_algorithm_t mac;
      gnutls_protocol_t min_version;
      const char *name = gnutls_cipher_suite_info (i, id, &kx, &cipher, &mac, &min_version);
      gboolean is_tls13;

      if (name == NULL)
        break;
      is_tls13 = min_version == GNUTLS_TLS1_3;
      if (is_tls13 ? !v.tls13 : (v.max_tls12 == 0 || min_version > v.max_tls12 ||
                                 !has_value (kxs, n_kx, kx)))
        continue;
      if (!has_value (ciphers, n_cipher, cipher) || !has_value (macs, n_mac, mac))
        continue;
      add_cipher (algs, cipher);
      add_once (algs->hashes, suite_hash (name, mac));
      if (is_tls13)
        any_tls13 = TRUE;
      else
        add_once (algs->key_exchanges, gnutls_kx_get_name (kx));
    }
  if (any_tls13)
    add_tls13_exchanges (priority, algs);
  add_signatures (priority, algs);
}

SECURITY_STATUS
sspid_tls_describe_credential (SspidCredential *cred, SspidTlsAlgorithms *algs)
{
  const char *texts[] = { sspid_credential_peek_priority (cred, FALSE),
                          sspid_credential_peek_priority (cred, TRUE),
                          sspid_credential_peek_dtls_priority (cred, FALSE),
                          sspid_credential_peek_dtls_priority (cred, TRUE) };

  memset (algs, 0, sizeof *algs);
  algs->ciphers = g_ptr_array_new_with_free_func (g_free);
  algs->hashes = g_ptr_array_new_with_free_func (g_free);
  algs->key_exchanges = g_ptr_array_new_with_free_func (g_free);
  algs->signatures = g_ptr_array_new_with_free_func (g_free);
  for (gsize i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      const char *err_pos = NULL;
      gnutls_priority_t priority;
      int ret = 0;

      if (texts[i] == NULL)
        continue;
      priority = sspid_tls_lookup_priority (texts[i], &err_pos, &ret);
      if (priority == NULL)
        return SEC_E_ALGORITHM_MISMATCH;   /* as a session on it would fail */
      add_priority (priority, algs);
    }
  return SEC_E_OK;
}
