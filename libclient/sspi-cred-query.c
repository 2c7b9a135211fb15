/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The credential attributes only the daemon can answer: which algorithms
 * and cipher strengths its sessions may negotiate
 * (QueryCredentialsAttributes SECPKG_ATTR_SUPPORTED_ALGS and
 * SECPKG_ATTR_CIPHER_STRENGTHS).  They follow the GnuTLS priority the
 * credential was acquired with, which the daemon builds from the caller's
 * protocol mask and the system's configuration: one QueryCredential round
 * trip (see proto/org.sspid1.xml), turned into Windows' structures.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sspi-private.h"

/* Appends the ALG_IDs of the names under @key, each once, skipping the
 * algorithms Windows has no ALG_ID for. */
static void
add_algs (GArray *algs, GVariantDict *info, const char *key, SspiAlgKind kind)
{
  g_autofree const char **names = NULL;

  if (!g_variant_dict_lookup (info, key, "^a&s", &names))
    return;
  for (gsize i = 0; names[i] != NULL; i++)
    {
      ALG_ID alg = sspi_alg_id_of (kind, names[i]);
      gboolean seen = FALSE;

      for (guint j = 0; j < algs->len && !seen; j++)
        seen = g_array_index (algs, ALG_ID, j) == alg;
      if (alg != 0 && !seen)
        g_array_append_val (algs, alg);
    }
}

static SECURITY_STATUS
supported_algs (GVariantDict *info, SecPkgCred_SupportedAlgs *out)
{
  g_autoptr(GArray) algs = g_array_new (FALSE, FALSE, sizeof (ALG_ID));
  ALG_ID *copy;

  add_algs (algs, info, "key-exchanges", SSPI_ALG_EXCHANGE);
  add_algs (algs, info, "signatures", SSPI_ALG_SIGNATURE);
  add_algs (algs, info, "ciphers", SSPI_ALG_CIPHER);
  add_algs (algs, info, "hashes", SSPI_ALG_HASH);
  /* FreeContextBuffer() is free(); never NULL, even for no algorithms. */
  copy = malloc (MAX (algs->len, 1) * sizeof (ALG_ID));
  if (copy == NULL)
    return SEC_E_INSUFFICIENT_MEMORY;
  memcpy (copy, algs->data, algs->len * sizeof (ALG_ID));
  out->cSupportedAlgs = algs->len;
  out->palgSupportedAlgs = copy;
  return SEC_E_OK;
}

static SECURITY_STATUS
cipher_strengths (GVariantDict *info, SecPkgCred_CipherStrengths *out)
{
  guint32 min = 0, max = 0;

  g_variant_dict_lookup (info, "min-cipher-bits", "u", &min);
  g_variant_dict_lookup (info, "max-cipher-bits", "u", &max);
  out->dwMinimumCipherStrength = min;
  out->dwMaximumCipherStrength = max;
  return SEC_E_OK;
}

SECURITY_STATUS
sspi_query_credential_algorithms (PCredHandle h, ULONG attribute, void *buffer)
{
  g_autoptr(SspiSession) s = NULL;
  g_auto(GVariantDict) info = G_VARIANT_DICT_INIT (NULL);
  SECURITY_STATUS status;
  guint64 credential;
  guint generation;

  status = sspi_handle_unpack (h, SSPI_HANDLE_CREDENTIAL, &credential, &generation);
  if (status != SEC_E_OK)
    return status;
  status = sspi_session_get_for (generation, &s);
  if (status != SEC_E_OK)
    return status;
  status = sspi_query_facts (s, SSPID_CALL_QUERY_CREDENTIAL, credential, &info);
  if (status != SEC_E_OK)
    return status;
  if (attribute == SECPKG_ATTR_SUPPORTED_ALGS)
    return supported_algs (&info, buffer);
  return cipher_strengths (&info, buffer);
}
