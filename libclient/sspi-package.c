/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a Windows program asks of the security system before and beside a
 * connection, answered without the daemon: the package list
 * (EnumerateSecurityPackages, QuerySecurityPackageInfo), the function table
 * (InitSecurityInterface, for code that loads SSPI through it), and a
 * credential's attributes (QueryCredentialsAttributes, from what the library
 * remembered when the credential was acquired; the algorithms it may use
 * come from the daemon, sspi-cred-query.c).
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sspi-private.h"

/* What Windows reports for its Schannel packages. */
#define SCHANNEL_CAPABILITIES \
  (SECPKG_FLAG_INTEGRITY | SECPKG_FLAG_PRIVACY | SECPKG_FLAG_CONNECTION | \
   SECPKG_FLAG_MULTI_REQUIRED | SECPKG_FLAG_EXTENDED_ERROR | \
   SECPKG_FLAG_IMPERSONATION | SECPKG_FLAG_ACCEPT_WIN32_NAME | \
   SECPKG_FLAG_STREAM | SECPKG_FLAG_MUTUAL_AUTH)
G_STATIC_ASSERT (SCHANNEL_CAPABILITIES == 0x107b3);
#define SCHANNEL_VERSION   1
#define SCHANNEL_MAX_TOKEN 24576
#define SCHANNEL_COMMENT   "Schannel Security Package"

/* Windows lists both names as packages of their own, backed by the same
 * provider; so does libsspi. */
static const char *const package_names[] = { UNISP_NAME_A, SCHANNEL_NAME_A };

/* The index in package_names of @name (case-insensitive), or -1. */
static int
package_index (const char *name)
{
  for (gsize i = 0; name != NULL && i < G_N_ELEMENTS (package_names); i++)
    if (g_ascii_strcasecmp (name, package_names[i]) == 0)
      return (int) i;
  return -1;
}

/* ---- package info, A and W ---------------------------------------------- */

/* Packages [first, first + n) in one block: the SecPkgInfoA array, then the
 * strings, so that one FreeContextBuffer() releases everything. */
static SecPkgInfoA *
package_info_a (gsize first, gsize n)
{
  gsize size = n * sizeof (SecPkgInfoA);
  SecPkgInfoA *info;
  char *p;

  for (gsize i = first; i < first + n; i++)
    size += strlen (package_names[i]) + 1 + sizeof SCHANNEL_COMMENT;
  info = malloc (size);
  if (info == NULL)
    return NULL;
  p = (char *) (info + n);
  for (gsize i = 0; i < n; i++)
    {
      const char *name = package_names[first + i];

      info[i] = (SecPkgInfoA) { SCHANNEL_CAPABILITIES, SCHANNEL_VERSION,
                                UNISP_RPC_ID, SCHANNEL_MAX_TOKEN, p, NULL };
      p = stpcpy (p, name) + 1;
      info[i].Comment = p;
      p = stpcpy (p, SCHANNEL_COMMENT) + 1;
    }
  return info;
}

/* UTF-8 (ASCII here) @s as UTF-16 at @dest; returns the end of the copy. */
static WCHAR *
copy_utf16 (WCHAR *dest, const char *s)
{
  while (*s != '\0')
    *dest++ = (WCHAR) (unsigned char) *s++;
  *dest++ = 0;
  return dest;
}

static SecPkgInfoW *
package_info_w (gsize first, gsize n)
{
  gsize size = n * sizeof (SecPkgInfoW);
  SecPkgInfoW *info;
  WCHAR *p;

  for (gsize i = first; i < first + n; i++)
    size += (strlen (package_names[i]) + 1 + sizeof SCHANNEL_COMMENT)
            * sizeof (WCHAR);
  info = malloc (size);
  if (info == NULL)
    return NULL;
  p = (WCHAR *) (info + n);
  for (gsize i = 0; i < n; i++)
    {
      info[i] = (SecPkgInfoW) { SCHANNEL_CAPABILITIES, SCHANNEL_VERSION,
                                UNISP_RPC_ID, SCHANNEL_MAX_TOKEN, p, NULL };
      p = copy_utf16 (p, package_names[first + i]);
      info[i].Comment = p;
      p = copy_utf16 (p, SCHANNEL_COMMENT);
    }
  return info;
}

/* Describes the package @pszPackageName ("Microsoft Unified Security
 * Protocol Provider" or "Schannel", any case) in *ppPackageInfo; caller must
 * release it with FreeContextBuffer().  SEC_E_SECPKG_NOT_FOUND for other
 * names. */
SSPI_PUBLIC SECURITY_STATUS
QuerySecurityPackageInfoA (SEC_CHAR *pszPackageName,
                           PSecPkgInfoA *ppPackageInfo)
{
  int i = package_index (pszPackageName);

  if (ppPackageInfo == NULL)
    return SEC_E_INVALID_PARAMETER;
  *ppPackageInfo = NULL;
  if (i < 0)
    return SEC_E_SECPKG_NOT_FOUND;
  *ppPackageInfo = package_info_a ((gsize) i, 1);
  return *ppPackageInfo != NULL ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY;
}

/* As QuerySecurityPackageInfoA, with UTF-16 strings. */
SSPI_PUBLIC SECURITY_STATUS
QuerySecurityPackageInfoW (SEC_WCHAR *pszPackageName,
                           PSecPkgInfoW *ppPackageInfo)
{
  g_autofree char *name = NULL;
  int i;

  if (ppPackageInfo == NULL)
    return SEC_E_INVALID_PARAMETER;
  *ppPackageInfo = NULL;
  if (!sspi_utf16_to_utf8 (pszPackageName, &name))
    return SEC_E_SECPKG_NOT_FOUND;
  i = package_index (name);
  if (i < 0)
    return SEC_E_SECPKG_NOT_FOUND;
  *ppPackageInfo = package_info_w ((gsize) i, 1);
  return *ppPackageInfo != NULL ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY;
}

/* Lists the packages libsspi provides (the two names of Schannel) in an
 * array of *pcPackages entries; caller must release it with
 * FreeContextBuffer(). */
SSPI_PUBLIC SECURITY_STATUS
EnumerateSecurityPackagesA (ULONG *pcPackages, PSecPkgInfoA *ppPackageInfo)
{
  if (pcPackages == NULL || ppPackageInfo == NULL)
    return SEC_E_INVALID_PARAMETER;
  *pcPackages = 0;
  *ppPackageInfo = package_info_a (0, G_N_ELEMENTS (package_names));
  if (*ppPackageInfo == NULL)
    return SEC_E_INSUFFICIENT_MEMORY;
  *pcPackages = G_N_ELEMENTS (package_names);
  return SEC_E_OK;
}

/* As EnumerateSecurityPackagesA, with UTF-16 strings. */
SSPI_PUBLIC SECURITY_STATUS
EnumerateSecurityPackagesW (ULONG *pcPackages, PSecPkgInfoW *ppPackageInfo)
{
  if (pcPackages == NULL || ppPackageInfo == NULL)
    return SEC_E_INVALID_PARAMETER;
  *pcPackages = 0;
  *ppPackageInfo = package_info_w (0, G_N_ELEMENTS (package_names));
  if (*ppPackageInfo == NULL)
    return SEC_E_INSUFFICIENT_MEMORY;
  *pcPackages = G_N_ELEMENTS (package_names);
  return SEC_E_OK;
}

/* ---- credential attributes ------------------------------------------------ */

/* SECPKG_CRED_ATTR_NAMES: the name of the credential, allocated for the
 * caller (FreeContextBuffer); Windows says SEC_E_NO_CREDENTIALS for a
 * credential without a certificate, as sspid does for an anonymous one. */
static SECURITY_STATUS
credential_names (const char *name, void *buffer, gboolean wide)
{
  SecPkgCredentials_NamesA *names = buffer;

  if (name == NULL || *name == '\0')
    return SEC_E_NO_CREDENTIALS;
  if (wide)
    {
      glong len = 0;
      g_autofree gunichar2 *w = g_utf8_to_utf16 (name, -1, NULL, &len, NULL);
      SEC_WCHAR *copy = w != NULL ? malloc ((len + 1) * sizeof *w) : NULL;

      if (copy == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
      memcpy (copy, w, (len + 1) * sizeof *w);
      ((SecPkgCredentials_NamesW *) buffer)->sUserName = copy;
      return SEC_E_OK;
    }
  names->sUserName = strdup (name);
  return names->sUserName != NULL ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY;
}

static SECURITY_STATUS
query_credential (PCredHandle phCredential, ULONG ulAttribute, void *pBuffer,
                  gboolean wide)
{
  SecPkgCred_SupportedProtocols *protocols = pBuffer;
  SECURITY_STATUS status;
  guint64 credential;
  guint generation;
  guint32 value;
  g_autofree char *principal = NULL;

  status = sspi_handle_unpack (phCredential, SSPI_HANDLE_CREDENTIAL,
                               &credential, &generation);
  if (status != SEC_E_OK)
    return status;
  /* Every live credential was remembered when it was acquired. */
  if (!sspi_cache_get_credential (credential, generation, &value, &principal))
    return SEC_E_INVALID_HANDLE;
  if (ulAttribute != SECPKG_ATTR_SUPPORTED_PROTOCOLS &&
      ulAttribute != SECPKG_CRED_ATTR_NAMES &&
      ulAttribute != SECPKG_ATTR_SUPPORTED_ALGS &&
      ulAttribute != SECPKG_ATTR_CIPHER_STRENGTHS)
    return SEC_E_UNSUPPORTED_FUNCTION;
  /* Windows: SEC_E_INTERNAL_ERROR (Wine's schannel test). */
  if (pBuffer == NULL)
    return SEC_E_INTERNAL_ERROR;
  /* What the daemon's priorities allow: asked of it. */
  if (ulAttribute == SECPKG_ATTR_SUPPORTED_ALGS ||
      ulAttribute == SECPKG_ATTR_CIPHER_STRENGTHS)
    return sspi_query_credential_algorithms (phCredential, ulAttribute, pBuffer);
  if (ulAttribute == SECPKG_CRED_ATTR_NAMES)
    return credential_names (principal, pBuffer, wide);
  protocols->grbitProtocol = value;
  return SEC_E_OK;
}

/* Answers @ulAttribute for a credential into @pBuffer:
 * SECPKG_ATTR_SUPPORTED_PROTOCOLS (SecPkgCred_SupportedProtocols): the
 * SP_PROT_* bits the credential was acquired with, in its direction(s)
 * (SCHANNEL_CRED grbitEnabledProtocols, SCH_CREDENTIALS' disabled
 * protocols removed, or the default TLS 1.2 and 1.3); and
 * SECPKG_CRED_ATTR_NAMES (SecPkgCredentials_NamesA): the name of the
 * configured credential it was acquired with (caller must release
 * sUserName with FreeContextBuffer()), SEC_E_NO_CREDENTIALS for an
 * anonymous one.  Answered from what the library remembers, without a
 * round trip.  SECPKG_ATTR_SUPPORTED_ALGS (SecPkgCred_SupportedAlgs: the
 * ALG_IDs of the ciphers, hashes, key exchanges and signatures the
 * credential's sessions may negotiate; caller must release
 * palgSupportedAlgs with FreeContextBuffer()) and
 * SECPKG_ATTR_CIPHER_STRENGTHS (SecPkgCred_CipherStrengths: the least
 * and greatest cipher key size in bits among them) ask the daemon,
 * whose GnuTLS priorities decide.  Other attributes:
 * SEC_E_UNSUPPORTED_FUNCTION; no @pBuffer:
 * SEC_E_INTERNAL_ERROR (as Windows); a handle that is not a live
 * credential: SEC_E_INVALID_HANDLE. */
SSPI_PUBLIC SECURITY_STATUS
QueryCredentialsAttributesA (PCredHandle phCredential, ULONG ulAttribute,
                             void *pBuffer)
{
  return query_credential (phCredential, ulAttribute, pBuffer, FALSE);
}

/* As QueryCredentialsAttributesA; SECPKG_CRED_ATTR_NAMES is UTF-16
 * (SecPkgCredentials_NamesW). */
SSPI_PUBLIC SECURITY_STATUS
QueryCredentialsAttributesW (PCredHandle phCredential, ULONG ulAttribute,
                             void *pBuffer)
{
  return query_credential (phCredential, ulAttribute, pBuffer, TRUE);
}

/* ---- the function tables -------------------------------------------------- */

static SecurityFunctionTableA table_a = {
  .dwVersion = SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION,
  .EnumerateSecurityPackagesA = EnumerateSecurityPackagesA,
  .QueryCredentialsAttributesA = QueryCredentialsAttributesA,
  .AcquireCredentialsHandleA = AcquireCredentialsHandleA,
  .FreeCredentialsHandle = FreeCredentialsHandle,
  .InitializeSecurityContextA = InitializeSecurityContextA,
  .AcceptSecurityContext = AcceptSecurityContext,
  .DeleteSecurityContext = DeleteSecurityContext,
  .ApplyControlToken = ApplyControlToken,
  .QueryContextAttributesA = QueryContextAttributesA,
  .FreeContextBuffer = FreeContextBuffer,
  .QuerySecurityPackageInfoA = QuerySecurityPackageInfoA,
  .EncryptMessage = EncryptMessage,
  .DecryptMessage = DecryptMessage,
};

static SecurityFunctionTableW table_w = {
  .dwVersion = SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION,
  .EnumerateSecurityPackagesW = EnumerateSecurityPackagesW,
  .QueryCredentialsAttributesW = QueryCredentialsAttributesW,
  .AcquireCredentialsHandleW = AcquireCredentialsHandleW,
  .FreeCredentialsHandle = FreeCredentialsHandle,
  .InitializeSecurityContextW = InitializeSecurityContextW,
  .AcceptSecurityContext = AcceptSecurityContext,
  .DeleteSecurityContext = DeleteSecurityContext,
  .ApplyControlToken = ApplyControlToken,
  .QueryContextAttributesW = QueryContextAttributesW,
  .FreeContextBuffer = FreeContextBuffer,
  .QuerySecurityPackageInfoW = QuerySecurityPackageInfoW,
  .EncryptMessage = EncryptMessage,
  .DecryptMessage = DecryptMessage,
};

/* The security function table of the A (UTF-8) entry points.  Entries
 * libsspi does not implement (CompleteAuthToken, MakeSignature, the
 * impersonation, export/import and *Ex functions, ...) are NULL.  The table
 * is static and owned by the library: do not free or modify it. */
SSPI_PUBLIC PSecurityFunctionTableA
InitSecurityInterfaceA (void)
{
  return &table_a;
}

/* As InitSecurityInterfaceA, for the W (UTF-16) entry points. */
SSPI_PUBLIC PSecurityFunctionTableW
InitSecurityInterfaceW (void)
{
  return &table_w;
}
