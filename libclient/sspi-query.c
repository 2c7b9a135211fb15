/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QueryContextAttributes: one QueryContext round trip for the daemon's
 * public facts about a session (an a{sv}, see proto/org.sspid1.xml), turned
 * into the Windows structure the attribute asks for.  Also the release
 * function for the certificate contexts it hands out.  Everything handed
 * out is allocated with malloc(), so FreeContextBuffer() (free()) and
 * CertFreeCertificateContext() release it.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sspi-private.h"

typedef struct {
  const char *prefix;
  ALG_ID      alg;
} AlgName;

/* GnuTLS algorithm names (as the daemon reports them) -> ALG_ID.  Windows
 * has none for ChaCha20-Poly1305 or for an AEAD's MAC: those map to 0. */
static const AlgName ciphers[] = {
  { "AES-128", CALG_AES_128 },
  { "AES-192", CALG_AES_192 },
  { "AES-256", CALG_AES_256 },
  { "3DES", CALG_3DES },
  { "NULL", CALG_NULLCIPHER },
};

static const AlgName hashes[] = {
  { "SHA256", CALG_SHA_256 }, { "SHA-256", CALG_SHA_256 },
  { "SHA384", CALG_SHA_384 }, { "SHA-384", CALG_SHA_384 },
  { "SHA512", CALG_SHA_512 }, { "SHA-512", CALG_SHA_512 },
  { "SHA1", CALG_SHA1 }, { "SHA-1", CALG_SHA1 },
  { "MD5", CALG_MD5 },
};

/* "ECDHE-RSA", "ECDHE-ECDSA", "DHE-RSA", "RSA", ... */
static const AlgName exchanges[] = {
  { "ECDHE", CALG_ECDHE },
  { "DHE", CALG_DH_EPHEM },
  { "RSA", CALG_RSA_KEYX },
};

/* Schannel's names in SecPkgContext_CipherInfo for GnuTLS's: the cipher
 * without its key size or mode ("AES", not "AES-256-GCM"), the key
 * exchange by its primitive ("ECDH" for ECDHE, as Windows 10 says; "DH"
 * for DHE). */
typedef struct {
  const char *prefix;
  const char *schannel;
} NameMap;

static const NameMap cipher_names[] = {
  { "AES-", "AES" },
  { "CHACHA20-POLY1305", "CHACHA20_POLY1305" },
  { "3DES", "3DES" },
  { "NULL", "NULL" },
};

static const NameMap exchange_names[] = {
  { "ECDHE", "ECDH" },
  { "DHE", "DH" },
  { "RSA", "RSA" },
};

/* Borrowed: the Schannel name for @name, or @name itself. */
static const char *
schannel_name (const NameMap *table, gsize n, const char *name)
{
  if (name == NULL)
    return NULL;
  for (gsize i = 0; i < n; i++)
    if (g_ascii_strncasecmp (name, table[i].prefix, strlen (table[i].prefix)) == 0)
      return table[i].schannel;
  return name;
}

static ALG_ID
alg_from_name (const AlgName *table, gsize n, const char *name)
{
  if (name == NULL)
    return 0;
  for (gsize i = 0; i < n; i++)
    if (g_ascii_strncasecmp (name, table[i].prefix, strlen (table[i].prefix)) == 0)
      return table[i].alg;
  return 0;
}

/* What a certificate signs with: "RSA", "ECDSA", "DSA" (the daemon's
 * names).  Windows has no ALG_ID for EdDSA. */
static const AlgName signatures[] = {
  { "RSA", CALG_RSA_SIGN },
  { "ECDSA", CALG_ECDSA },
  { "DSA", CALG_DSS_SIGN },
};

ALG_ID
sspi_alg_id_of (SspiAlgKind kind, const char *name)
{
  switch (kind)
    {
    case SSPI_ALG_CIPHER:
      return alg_from_name (ciphers, G_N_ELEMENTS (ciphers), name);
    case SSPI_ALG_HASH:
      return alg_from_name (hashes, G_N_ELEMENTS (hashes), name);
    case SSPI_ALG_EXCHANGE:
      return alg_from_name (exchanges, G_N_ELEMENTS (exchanges), name);
    case SSPI_ALG_SIGNATURE:
      return alg_from_name (signatures, G_N_ELEMENTS (signatures), name);
    }
  return 0;
}

static guint32
dict_u (GVariantDict *info, const char *key)
{
  guint32 v = 0;

  g_variant_dict_lookup (info, key, "u", &v);
  return v;
}

static gboolean
dict_b (GVariantDict *info, const char *key)
{
  gboolean v = FALSE;

  g_variant_dict_lookup (info, key, "b", &v);
  return v;
}

/* Borrowed from @info, or NULL. */
static const char *
dict_s (GVariantDict *info, const char *key)
{
  g_autoptr(GVariant) v = g_variant_dict_lookup_value (info, key,
                                                       G_VARIANT_TYPE_STRING);

  /* The dict holds its own reference, so the string outlives @v. */
  return v != NULL ? g_variant_get_string (v, NULL) : NULL;
}

/* UTF-8 -> a fixed WCHAR[SZ_ALG_MAX_SIZE] field, truncated, terminated. */
static void
copy_wide (WCHAR *dest, gsize size, const char *s)
{
  g_autofree gunichar2 *w = NULL;
  glong len = 0;

  memset (dest, 0, size * sizeof *dest);
  if (s == NULL)
    return;
  w = g_utf8_to_utf16 (s, -1, NULL, &len, NULL);
  if (w != NULL)
    memcpy (dest, w, MIN ((gsize) len, size - 1) * sizeof *dest);
}

SECURITY_STATUS
sspi_stream_sizes_from_info (GVariantDict *info, guint64 context,
                             guint generation, SecPkgContext_StreamSizes *out)
{
  /* No sizes before the record layer exists (handshake unfinished). */
  if (!g_variant_dict_contains (info, "header-size"))
    return SEC_E_INVALID_HANDLE;
  out->cbHeader = dict_u (info, "header-size");
  out->cbTrailer = dict_u (info, "trailer-size");
  out->cbMaximumMessage = dict_u (info, "max-message");
  out->cBuffers = 4;   /* header, data, trailer, empty */
  out->cbBlockSize = dict_u (info, "block-size");
  /* Fixed for the life of the session: EncryptMessage checks against them. */
  sspi_cache_set_sizes (context, generation, out);
  return SEC_E_OK;
}

static SECURITY_STATUS
connection_info (GVariantDict *info, SecPkgContext_ConnectionInfo *out)
{
  if (!g_variant_dict_contains (info, "protocol"))
    return SEC_E_INVALID_HANDLE;
  memset (out, 0, sizeof *out);
  out->dwProtocol = dict_u (info, "protocol");
  out->aiCipher = alg_from_name (ciphers, G_N_ELEMENTS (ciphers),
                                 dict_s (info, "cipher"));
  out->dwCipherStrength = dict_u (info, "cipher-bits");
  out->aiHash = alg_from_name (hashes, G_N_ELEMENTS (hashes),
                               dict_s (info, "mac"));
  /* An AEAD suite has no MAC: Windows reports no hash strength. */
  out->dwHashStrength = dict_b (info, "aead") ? 0 : dict_u (info, "mac-bits");
  out->aiExch = alg_from_name (exchanges, G_N_ELEMENTS (exchanges),
                               dict_s (info, "kx"));
  out->dwExchStrength = dict_u (info, "kx-bits");
  return SEC_E_OK;
}

/* SP_PROT bit -> the version as on the wire. */
static DWORD
wire_version (guint32 protocol)
{
  if (protocol & SP_PROT_TLS1_3)
    return 0x0304;
  if (protocol & SP_PROT_TLS1_2)
    return 0x0303;
  if (protocol & SP_PROT_TLS1_1)
    return 0x0302;
  if (protocol & SP_PROT_TLS1_0)
    return 0x0301;
  return 0;
}

/* Values as Windows gives them (Wine's dlls/secur32/tests/schannel.c,
 * TLS 1.2 ECDHE-RSA-AES256-GCM-SHA384 against Windows 10): szCipher "AES",
 * dwCipherLen 256, dwCipherBlockLen 16, no hash for an AEAD suite,
 * szExchange "ECDH" with dwMinExchangeLen 0 and dwMaxExchangeLen 65536,
 * szCertificate "RSA", dwKeyType the named group (0x1d x25519, 0x17
 * P-256), szCipherSuite the IANA name. */
static SECURITY_STATUS
cipher_info (GVariantDict *info, SecPkgContext_CipherInfo *out)
{
  const char *exchange;
  gboolean aead = dict_b (info, "aead");

  if (!g_variant_dict_contains (info, "protocol"))
    return SEC_E_INVALID_HANDLE;
  memset (out, 0, sizeof *out);
  out->dwVersion = SECPKGCONTEXT_CIPHERINFO_V1;
  out->dwProtocol = wire_version (dict_u (info, "protocol"));
  out->dwCipherSuite = dict_u (info, "cipher-suite");
  out->dwBaseCipherSuite = out->dwCipherSuite;
  copy_wide (out->szCipherSuite, G_N_ELEMENTS (out->szCipherSuite),
             dict_s (info, "cipher-suite-name"));
  copy_wide (out->szCipher, G_N_ELEMENTS (out->szCipher),
             schannel_name (cipher_names, G_N_ELEMENTS (cipher_names),
                            dict_s (info, "cipher")));
  out->dwCipherLen = dict_u (info, "cipher-bits");
  out->dwCipherBlockLen = dict_u (info, "block-size");
  if (!aead)
    {
      copy_wide (out->szHash, G_N_ELEMENTS (out->szHash), dict_s (info, "mac"));
      out->dwHashLen = dict_u (info, "mac-bits");
    }
  exchange = schannel_name (exchange_names, G_N_ELEMENTS (exchange_names),
                            dict_s (info, "kx"));
  copy_wide (out->szExchange, G_N_ELEMENTS (out->szExchange), exchange);
  if (g_strcmp0 (exchange, "ECDH") == 0)
    {
      /* Windows 10 gives the range it accepts, not the group's size. */
      out->dwMinExchangeLen = 0;
      out->dwMaxExchangeLen = 65536;
    }
  else
    out->dwMinExchangeLen = out->dwMaxExchangeLen = dict_u (info, "kx-bits");
  out->dwKeyType = dict_u (info, "group");
  copy_wide (out->szCertificate, G_N_ELEMENTS (out->szCertificate),
             dict_s (info, "server-key"));
  return SEC_E_OK;
}

/* A malloc()ed copy of @s (FreeContextBuffer releases it), UTF-16 if
 * @wide. */
static void *
dup_for_caller (const char *s, gboolean wide)
{
  g_autofree gunichar2 *w = NULL;
  glong len = 0;
  void *copy;

  if (!wide)
    return strdup (s);
  w = g_utf8_to_utf16 (s, -1, NULL, &len, NULL);
  if (w == NULL)
    return NULL;
  copy = malloc ((len + 1) * sizeof *w);
  if (copy != NULL)
    memcpy (copy, w, (len + 1) * sizeof *w);
  return copy;
}

/* SECPKG_ATTR_KEY_INFO: the server's signature algorithm and the session
 * cipher (Windows: "RSA" and CALG_RSA_SIGN for an RSA server, KeySize the
 * cipher's key bits).  The A and W structures differ only in the width of
 * their two names, which the caller frees with FreeContextBuffer(). */
static SECURITY_STATUS
key_info (GVariantDict *info, SecPkgContext_KeyInfoA *out, gboolean wide)
{
  const char *sign = dict_s (info, "server-key");
  const char *cipher;

  memset (out, 0, sizeof *out);
  if (!g_variant_dict_contains (info, "protocol"))
    return SEC_E_INVALID_HANDLE;
  if (sign == NULL)
    sign = "";
  cipher = schannel_name (cipher_names, G_N_ELEMENTS (cipher_names),
                          dict_s (info, "cipher"));
  out->sSignatureAlgorithmName = dup_for_caller (sign, wide);
  out->sEncryptAlgorithmName = dup_for_caller (cipher != NULL ? cipher : "", wide);
  if (out->sSignatureAlgorithmName == NULL || out->sEncryptAlgorithmName == NULL)
    {
      free (out->sSignatureAlgorithmName);
      free (out->sEncryptAlgorithmName);
      memset (out, 0, sizeof *out);
      return SEC_E_INSUFFICIENT_MEMORY;
    }
  out->KeySize = dict_u (info, "cipher-bits");
  out->SignatureAlgorithm = g_str_equal (sign, "RSA") ? CALG_RSA_SIGN :
                            g_str_equal (sign, "ECDSA") ? CALG_ECDSA : 0;
  out->EncryptAlgorithm = alg_from_name (ciphers, G_N_ELEMENTS (ciphers),
                                         dict_s (info, "cipher"));
  return SEC_E_OK;
}

static SECURITY_STATUS
application_protocol (GVariantDict *info,
                      SecPkgContext_ApplicationProtocol *out)
{
  g_autoptr(GVariant) alpn = NULL;
  const void *id;
  gsize len = 0;

  memset (out, 0, sizeof *out);
  alpn = g_variant_dict_lookup_value (info, "alpn", G_VARIANT_TYPE_BYTESTRING);
  if (alpn == NULL)
    return SEC_E_OK;   /* ProtoNegoStatus_None */
  id = g_variant_get_fixed_array (alpn, &len, 1);
  if (len == 0 || len > sizeof out->ProtocolId)
    return SEC_E_OK;
  out->ProtoNegoStatus = SecApplicationProtocolNegotiationStatus_Success;
  out->ProtoNegoExt = SecApplicationProtocolNegotiationExt_ALPN;
  out->ProtocolIdSize = (UCHAR) len;
  memcpy (out->ProtocolId, id, len);
  return SEC_E_OK;
}

/* A copy of @der in a CERT_CONTEXT at @cert, its bytes at @bytes. */
static void
cert_context_init (CERT_CONTEXT *cert, guint8 *bytes, const void *der,
                   gsize len)
{
  memset (cert, 0, sizeof *cert);
  cert->dwCertEncodingType = X509_ASN_ENCODING;
  cert->pbCertEncoded = bytes;
  cert->cbCertEncoded = (DWORD) len;
  memcpy (bytes, der, len);
}

static SECURITY_STATUS
remote_cert_context (GVariantDict *info, PCCERT_CONTEXT *out)
{
  g_autoptr(GVariant) chain = NULL;
  g_autoptr(GVariant) leaf = NULL;
  CERT_CONTEXT *cert;
  const void *der;
  gsize len = 0;

  *out = NULL;
  chain = g_variant_dict_lookup_value (info, "peer-certificates",
                                       G_VARIANT_TYPE ("aay"));
  if (chain == NULL || g_variant_n_children (chain) == 0)
    return SEC_E_NO_CREDENTIALS;   /* the peer sent no certificate */
  leaf = g_variant_get_child_value (chain, 0);
  der = g_variant_get_fixed_array (leaf, &len, 1);
  if (len == 0 || len > G_MAXUINT32)
    return SEC_E_NO_CREDENTIALS;

  /* One block: the context followed by its own copy of the DER, so that
   * CertFreeCertificateContext() is a single free(). */
  cert = malloc (sizeof *cert + len);
  if (cert == NULL)
    return SEC_E_INSUFFICIENT_MEMORY;
  cert_context_init (cert, (guint8 *) (cert + 1), der, len);
  *out = cert;
  return SEC_E_OK;
}

/* SECPKG_ATTR_SSPID_PEER_CHAIN: every certificate the peer sent, leaf
 * first, in one block (the pointer array, then the CERT_CONTEXTs, then the
 * DER of each) so that one FreeContextBuffer(rgpCerts) releases it all. */
static SECURITY_STATUS
peer_chain (GVariantDict *info, SecPkgContext_SspidPeerChain *out)
{
  g_autoptr(GVariant) chain = NULL;
  gsize n, total, der_total = 0;
  PCCERT_CONTEXT *array;
  CERT_CONTEXT *certs;
  guint8 *bytes;

  memset (out, 0, sizeof *out);
  chain = g_variant_dict_lookup_value (info, "peer-certificates",
                                       G_VARIANT_TYPE ("aay"));
  n = chain != NULL ? g_variant_n_children (chain) : 0;
  if (n == 0 || n > 1024)
    return SEC_E_NO_CREDENTIALS;
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) der = g_variant_get_child_value (chain, i);
      gsize len = g_variant_get_size (der);

      if (len == 0 || len > G_MAXUINT32)
        return SEC_E_NO_CREDENTIALS;
      der_total += len;
    }
  total = n * (sizeof *array + sizeof *certs) + der_total;
  array = malloc (total);
  if (array == NULL)
    return SEC_E_INSUFFICIENT_MEMORY;
  certs = (CERT_CONTEXT *) (array + n);
  bytes = (guint8 *) (certs + n);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) der = g_variant_get_child_value (chain, i);
      gsize len = 0;
      const void *data = g_variant_get_fixed_array (der, &len, 1);

      cert_context_init (&certs[i], bytes, data, len);
      array[i] = &certs[i];
      bytes += len;
    }
  out->cCerts = (DWORD) n;
  out->rgpCerts = array;
  return SEC_E_OK;
}

/* SECPKG_ATTR_ENDPOINT_BINDINGS / _UNIQUE_BINDINGS: as Windows builds them,
 * a SEC_CHANNEL_BINDINGS header followed by the application data
 * "<prefix>:<binding bytes>" (RFC 5929 names), in one allocation that the
 * caller releases with FreeContextBuffer(out->Bindings). */
static SECURITY_STATUS
bindings (GVariantDict *info, const char *key, SecPkgContext_Bindings *out)
{
  g_autoptr(GVariant) value = NULL;
  SEC_CHANNEL_BINDINGS *cb;
  gsize len = 0, prefix_len = strlen (key) + 1, app_len, total;
  const void *data;
  guint8 *app;

  memset (out, 0, sizeof *out);
  if (!g_variant_dict_contains (info, "protocol"))
    return SEC_E_INVALID_HANDLE;   /* handshake unfinished */
  value = g_variant_dict_lookup_value (info, key, G_VARIANT_TYPE_BYTESTRING);
  /* Not defined for this session (tls-unique in TLS 1.3). */
  if (value == NULL)
    return SEC_E_UNSUPPORTED_FUNCTION;
  data = g_variant_get_fixed_array (value, &len, 1);
  if (len == 0 || len > 4096)
    return SEC_E_UNSUPPORTED_FUNCTION;
  app_len = prefix_len + len;
  total = sizeof *cb + app_len;
  cb = malloc (total);
  if (cb == NULL)
    return SEC_E_INSUFFICIENT_MEMORY;
  memset (cb, 0, sizeof *cb);
  cb->cbApplicationDataLength = (ULONG) app_len;
  cb->dwApplicationDataOffset = sizeof *cb;
  app = (guint8 *) (cb + 1);
  memcpy (app, key, prefix_len - 1);
  app[prefix_len - 1] = ':';
  memcpy (app + prefix_len, data, len);
  out->BindingsLength = (ULONG) total;
  out->Bindings = cb;
  return SEC_E_OK;
}

static SECURITY_STATUS
session_info (GVariantDict *info, SecPkgContext_SessionInfo *out)
{
  g_autoptr(GVariant) id = NULL;
  gboolean resumed = FALSE;
  const void *data;
  gsize len = 0;

  memset (out, 0, sizeof *out);
  g_variant_dict_lookup (info, "resumed", "b", &resumed);
  out->dwFlags = resumed ? SSL_SESSION_RECONNECT : 0;
  id = g_variant_dict_lookup_value (info, "session-id",
                                    G_VARIANT_TYPE_BYTESTRING);
  if (id != NULL)
    {
      data = g_variant_get_fixed_array (id, &len, 1);
      len = MIN (len, sizeof out->rgbSessionId);
      memcpy (out->rgbSessionId, data, len);
      out->cbSessionId = (DWORD) len;
    }
  return SEC_E_OK;
}

static gboolean
is_supported (ULONG attribute)
{
  switch (attribute)
    {
    case SECPKG_ATTR_STREAM_SIZES:
    case SECPKG_ATTR_CONNECTION_INFO:
    case SECPKG_ATTR_CIPHER_INFO:
    case SECPKG_ATTR_KEY_INFO:
    case SECPKG_ATTR_APPLICATION_PROTOCOL:
    case SECPKG_ATTR_REMOTE_CERT_CONTEXT:
    case SECPKG_ATTR_SESSION_INFO:
    case SECPKG_ATTR_ENDPOINT_BINDINGS:
    case SECPKG_ATTR_UNIQUE_BINDINGS:
    case SECPKG_ATTR_SSPID_PEER_CHAIN:
      return TRUE;
    default:
      return FALSE;
    }
}

static SECURITY_STATUS
fill (ULONG attribute, GVariantDict *info, guint64 context, guint generation,
      void *buffer, gboolean wide)
{
  switch (attribute)
    {
    case SECPKG_ATTR_KEY_INFO:
      return key_info (info, buffer, wide);
    case SECPKG_ATTR_STREAM_SIZES:
      return sspi_stream_sizes_from_info (info, context, generation, buffer);
    case SECPKG_ATTR_CONNECTION_INFO:
      return connection_info (info, buffer);
    case SECPKG_ATTR_CIPHER_INFO:
      return cipher_info (info, buffer);
    case SECPKG_ATTR_APPLICATION_PROTOCOL:
      return application_protocol (info, buffer);
    case SECPKG_ATTR_REMOTE_CERT_CONTEXT:
      return remote_cert_context (info, buffer);
    case SECPKG_ATTR_SESSION_INFO:
      return session_info (info, buffer);
    case SECPKG_ATTR_ENDPOINT_BINDINGS:
      return bindings (info, "tls-server-end-point", buffer);
    case SECPKG_ATTR_UNIQUE_BINDINGS:
      return bindings (info, "tls-unique", buffer);
    case SECPKG_ATTR_SSPID_PEER_CHAIN:
      return peer_chain (info, buffer);
    default:
      return SEC_E_UNSUPPORTED_FUNCTION;
    }
}

SECURITY_STATUS
sspi_query_context (SspiSession *s, guint64 context, GVariantDict *info)
{
  return sspi_query_facts (s, SSPID_CALL_QUERY, context, info);
}

SECURITY_STATUS
sspi_query_facts (SspiSession *s, SspidCallKind kind, guint64 handle, GVariantDict *info)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) dict = NULL;
  SECURITY_STATUS status;

  reply = sspi_session_call (s, sspid_method_get (kind)->name, sspid_context_args_encode (handle),
                             sspid_method_get (kind)->out_type, &status);
  if (reply == NULL)
    return status;
  status = sspid_query_result_decode (reply, &dict);
  if (status != SEC_E_OK)
    return status;
  g_variant_dict_init (info, dict);
  return SEC_E_OK;
}

static SECURITY_STATUS
query (PCtxtHandle phContext, ULONG attribute, void *buffer, gboolean wide)
{
  g_autoptr(SspiSession) s = NULL;
  g_auto(GVariantDict) info = G_VARIANT_DICT_INIT (NULL);
  SECURITY_STATUS status;
  guint64 context;
  guint generation;

  status = sspi_handle_unpack (phContext, SSPI_HANDLE_CONTEXT, &context,
                               &generation);
  if (status != SEC_E_OK)
    return status;
  if (!is_supported (attribute))
    return SEC_E_UNSUPPORTED_FUNCTION;
  if (buffer == NULL)
    return SEC_E_INVALID_PARAMETER;
  status = sspi_session_get_for (generation, &s);
  if (status != SEC_E_OK)
    return status;
  status = sspi_query_context (s, context, &info);
  if (status != SEC_E_OK)
    return status;
  return fill (attribute, &info, context, generation, buffer, wide);
}

/* Answers @ulAttribute for a context into @pBuffer, the attribute's
 * structure: SECPKG_ATTR_STREAM_SIZES (SecPkgContext_StreamSizes),
 * SECPKG_ATTR_CONNECTION_INFO (SecPkgContext_ConnectionInfo),
 * SECPKG_ATTR_CIPHER_INFO (SecPkgContext_CipherInfo, with Schannel's names:
 * szCipher "AES", szExchange "ECDH", szCertificate "RSA"; no hash for an
 * AEAD suite), SECPKG_ATTR_KEY_INFO (SecPkgContext_KeyInfoA; caller must
 * release both names with FreeContextBuffer()),
 * SECPKG_ATTR_APPLICATION_PROTOCOL (SecPkgContext_ApplicationProtocol),
 * SECPKG_ATTR_SESSION_INFO (SecPkgContext_SessionInfo) and
 * SECPKG_ATTR_REMOTE_CERT_CONTEXT (a PCCERT_CONTEXT holding the peer's leaf
 * certificate; caller must release it with CertFreeCertificateContext();
 * SEC_E_NO_CREDENTIALS if the peer sent none),
 * SECPKG_ATTR_ENDPOINT_BINDINGS and SECPKG_ATTR_UNIQUE_BINDINGS
 * (SecPkgContext_Bindings: "tls-server-end-point:" / "tls-unique:" and the
 * binding; caller must release Bindings with FreeContextBuffer();
 * SEC_E_UNSUPPORTED_FUNCTION when the session has no such binding, as
 * tls-unique in TLS 1.3) and SECPKG_ATTR_SSPID_PEER_CHAIN
 * (SecPkgContext_SspidPeerChain, see <schannel.h>).  Other attributes:
 * SEC_E_UNSUPPORTED_FUNCTION.  SEC_E_INVALID_HANDLE for a handle that is not
 * a live context, or for sizes and algorithms before the handshake has
 * produced them. */
SSPI_PUBLIC SECURITY_STATUS
QueryContextAttributesA (PCtxtHandle phContext, ULONG ulAttribute,
                         void *pBuffer)
{
  return query (phContext, ulAttribute, pBuffer, FALSE);
}

/* As QueryContextAttributesA; SECPKG_ATTR_KEY_INFO's names are UTF-16
 * (SecPkgContext_KeyInfoW), the other attributes are the same in both
 * forms (CIPHER_INFO is UTF-16 in both). */
SSPI_PUBLIC SECURITY_STATUS
QueryContextAttributesW (PCtxtHandle phContext, ULONG ulAttribute,
                         void *pBuffer)
{
  return query (phContext, ulAttribute, pBuffer, TRUE);
}

/* Releases a certificate context returned by QueryContextAttributes
 * (SECPKG_ATTR_REMOTE_CERT_CONTEXT).  NULL is accepted.  Always TRUE. */
SSPI_PUBLIC BOOL
CertFreeCertificateContext (PCCERT_CONTEXT pCertContext)
{
  free ((void *) pCertContext);
  return TRUE;
}
