/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * schannel.h - the Windows Schannel package definitions for libsspi.
 *
 * This is the subset of the Windows SDK's <schannel.h> (plus the few
 * <wincrypt.h> and <ntdef.h> types it depends on) that sspid supports: the
 * package names, the SCHANNEL_CRED and SCH_CREDENTIALS credential
 * descriptions, protocol and credential flags, ApplyControlToken tokens and
 * Schannel's QueryContextAttributes results.  Values and layouts are those
 * of the Windows SDK (x64), so Windows Schannel code compiles unchanged.
 *
 * sspid keeps every private key in the daemon: a credential's paCred list
 * must be empty, and the certificate contexts the library hands out (e.g.
 * SECPKG_ATTR_REMOTE_CERT_CONTEXT) carry only the encoded certificate.
 *
 * Define SSPID_NO_WINDOWS_BASE_TYPES before including this header if you
 * bring your own Windows base and wincrypt types.
 */

#ifndef SSPID_SCHANNEL_H
#define SSPID_SCHANNEL_H

#include "sspi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Types from <ntdef.h> and <wincrypt.h>
 * ------------------------------------------------------------------------ */

#ifndef SSPID_NO_WINDOWS_BASE_TYPES
typedef struct _UNICODE_STRING {
  USHORT Length;         /* in bytes, without a terminator */
  USHORT MaximumLength;  /* in bytes */
  WCHAR *Buffer;
} UNICODE_STRING, *PUNICODE_STRING;

typedef void *HCERTSTORE;

typedef struct _CRYPTOAPI_BLOB {
  DWORD cbData;
  BYTE *pbData;
} CRYPT_DATA_BLOB, *PCRYPT_DATA_BLOB, CERT_NAME_BLOB, *PCERT_NAME_BLOB;

/* Opaque here: libsspi never fills pCertInfo. */
typedef struct _CERT_INFO CERT_INFO, *PCERT_INFO;

typedef struct _CERT_CONTEXT {
  DWORD dwCertEncodingType;
  BYTE *pbCertEncoded;
  DWORD cbCertEncoded;
  PCERT_INFO pCertInfo;
  HCERTSTORE hCertStore;
} CERT_CONTEXT, *PCERT_CONTEXT;
typedef const CERT_CONTEXT *PCCERT_CONTEXT;

#define X509_ASN_ENCODING   0x00000001
#define PKCS_7_ASN_ENCODING 0x00010000

/* ALG_ID values (wincrypt.h), as reported in SecPkgContext_ConnectionInfo.
 * Windows has no ALG_ID for ChaCha20-Poly1305. */
#define CALG_NULLCIPHER 0x00006000
#define CALG_3DES       0x00006603
#define CALG_AES_128    0x0000660e
#define CALG_AES_192    0x0000660f
#define CALG_AES_256    0x00006610
#define CALG_AES        0x00006611
#define CALG_MD5        0x00008003
#define CALG_SHA1       0x00008004
#define CALG_SHA_256    0x0000800c
#define CALG_SHA_384    0x0000800d
#define CALG_SHA_512    0x0000800e
#define CALG_RSA_SIGN   0x00002400
#define CALG_DSS_SIGN   0x00002200
#define CALG_ECDSA      0x00002203
#define CALG_RSA_KEYX   0x0000a400
#define CALG_DH_EPHEM   0x0000aa02
#define CALG_ECDH       0x0000aa05
#define CALG_ECDHE      0x0000ae06

/* Releases a certificate context returned by libsspi (for example by
 * QueryContextAttributes(SECPKG_ATTR_REMOTE_CERT_CONTEXT)).  Always returns
 * TRUE; NULL is accepted. */
BOOL CertFreeCertificateContext (PCCERT_CONTEXT pCertContext);
#endif /* SSPID_NO_WINDOWS_BASE_TYPES */

/* ------------------------------------------------------------------------
 * Package names
 *
 * The W forms are UTF-16 literals cast to WCHAR *, so that they can be
 * passed straight to LPWSTR / SEC_WCHAR * parameters from C and C++ alike.
 * ------------------------------------------------------------------------ */

#define UNISP_NAME_A    "Microsoft Unified Security Protocol Provider"
#define UNISP_NAME_W    ((WCHAR *) u"Microsoft Unified Security Protocol Provider")
#define SCHANNEL_NAME_A "Schannel"
#define SCHANNEL_NAME_W ((WCHAR *) u"Schannel")

#ifdef UNICODE
#define UNISP_NAME    UNISP_NAME_W
#define SCHANNEL_NAME SCHANNEL_NAME_W
#else
#define UNISP_NAME    UNISP_NAME_A
#define SCHANNEL_NAME SCHANNEL_NAME_A
#endif

#define UNISP_RPC_ID 14

/* ------------------------------------------------------------------------
 * Schannel context and credential attributes
 * ------------------------------------------------------------------------ */

#define SECPKG_ATTR_ISSUER_LIST         0x50
#define SECPKG_ATTR_REMOTE_CRED         0x51
#define SECPKG_ATTR_LOCAL_CRED          0x52
#define SECPKG_ATTR_REMOTE_CERT_CONTEXT 0x53
#define SECPKG_ATTR_LOCAL_CERT_CONTEXT  0x54
#define SECPKG_ATTR_ROOT_STORE          0x55
#define SECPKG_ATTR_SUPPORTED_ALGS      0x56
#define SECPKG_ATTR_CIPHER_STRENGTHS    0x57
#define SECPKG_ATTR_SUPPORTED_PROTOCOLS 0x58
#define SECPKG_ATTR_ISSUER_LIST_EX      0x59
#define SECPKG_ATTR_CONNECTION_INFO     0x5a
#define SECPKG_ATTR_EAP_KEY_BLOCK       0x5b
#define SECPKG_ATTR_MAPPED_CRED_ATTR    0x5c
#define SECPKG_ATTR_SESSION_INFO        0x5d
#define SECPKG_ATTR_APP_DATA            0x5e
#define SECPKG_ATTR_CIPHER_INFO         0x64

typedef struct _SecPkgContext_ConnectionInfo {
  DWORD dwProtocol;        /* one SP_PROT_* bit */
  ALG_ID aiCipher;
  DWORD dwCipherStrength;
  ALG_ID aiHash;
  DWORD dwHashStrength;
  ALG_ID aiExch;
  DWORD dwExchStrength;
} SecPkgContext_ConnectionInfo, *PSecPkgContext_ConnectionInfo;

#define SECPKGCONTEXT_CIPHERINFO_V1 1

typedef struct _SecPkgContext_CipherInfo {
  DWORD dwVersion;          /* SECPKGCONTEXT_CIPHERINFO_V1 */
  DWORD dwProtocol;         /* wire version, e.g. 0x0304 */
  DWORD dwCipherSuite;      /* IANA cipher suite number */
  DWORD dwBaseCipherSuite;
  WCHAR szCipherSuite[SZ_ALG_MAX_SIZE];
  WCHAR szCipher[SZ_ALG_MAX_SIZE];
  DWORD dwCipherLen;
  DWORD dwCipherBlockLen;
  WCHAR szHash[SZ_ALG_MAX_SIZE];
  DWORD dwHashLen;
  WCHAR szExchange[SZ_ALG_MAX_SIZE];
  DWORD dwMinExchangeLen;
  DWORD dwMaxExchangeLen;
  WCHAR szCertificate[SZ_ALG_MAX_SIZE];
  DWORD dwKeyType;
} SecPkgContext_CipherInfo, *PSecPkgContext_CipherInfo;

#define SSL_SESSION_RECONNECT 1

typedef struct _SecPkgContext_SessionInfo {
  DWORD dwFlags;            /* SSL_SESSION_RECONNECT if resumed */
  DWORD cbSessionId;
  BYTE rgbSessionId[32];
} SecPkgContext_SessionInfo, *PSecPkgContext_SessionInfo;

/* sspid extension (not in Windows): every certificate the peer sent, leaf
 * first, for QueryContextAttributes(SECPKG_ATTR_SSPID_PEER_CHAIN).  Windows
 * code reaches the chain through the leaf's hCertStore, which libsspi does
 * not have.  The array, the CERT_CONTEXTs and their DER are one allocation:
 * release it with FreeContextBuffer(rgpCerts), never the certificates one by
 * one with CertFreeCertificateContext().  SEC_E_NO_CREDENTIALS if the peer
 * sent no certificate.  The value is in the range Windows leaves unused. */
#define SECPKG_ATTR_SSPID_PEER_CHAIN 0x80000001

typedef struct _SecPkgContext_SspidPeerChain {
  DWORD cCerts;
  PCCERT_CONTEXT *rgpCerts;
} SecPkgContext_SspidPeerChain, *PSecPkgContext_SspidPeerChain;

typedef struct _SecPkgContext_IssuerListInfoEx {
  PCERT_NAME_BLOB aIssuers;
  DWORD cIssuers;
} SecPkgContext_IssuerListInfoEx, *PSecPkgContext_IssuerListInfoEx;

typedef struct _SecPkgCred_SupportedAlgs {
  DWORD cSupportedAlgs;
  ALG_ID *palgSupportedAlgs;
} SecPkgCred_SupportedAlgs, *PSecPkgCred_SupportedAlgs;

typedef struct _SecPkgCred_CipherStrengths {
  DWORD dwMinimumCipherStrength;
  DWORD dwMaximumCipherStrength;
} SecPkgCred_CipherStrengths, *PSecPkgCred_CipherStrengths;

typedef struct _SecPkgCred_SupportedProtocols {
  DWORD grbitProtocol;
} SecPkgCred_SupportedProtocols, *PSecPkgCred_SupportedProtocols;

/* ------------------------------------------------------------------------
 * Credentials (pAuthData of AcquireCredentialsHandle)
 * ------------------------------------------------------------------------ */

#define SCH_CRED_V1             0x00000001
#define SCH_CRED_V2             0x00000002
#define SCH_CRED_VERSION        0x00000002
#define SCH_CRED_V3             0x00000003
#define SCHANNEL_CRED_VERSION   0x00000004
#define SCH_CREDENTIALS_VERSION 0x00000005

struct _HMAPPER;

typedef struct _SCHANNEL_CRED {
  DWORD dwVersion;                  /* SCHANNEL_CRED_VERSION */
  DWORD cCreds;                     /* must be 0 with sspid */
  PCCERT_CONTEXT *paCred;
  HCERTSTORE hRootStore;
  DWORD cMappers;
  struct _HMAPPER **aphMappers;
  DWORD cSupportedAlgs;
  ALG_ID *palgSupportedAlgs;
  DWORD grbitEnabledProtocols;      /* SP_PROT_*, 0 = system default */
  DWORD dwMinimumCipherStrength;
  DWORD dwMaximumCipherStrength;
  DWORD dwSessionLifespan;          /* milliseconds, 0 = default */
  DWORD dwFlags;                    /* SCH_CRED_*, SCH_* */
  DWORD dwCredFormat;               /* SCH_CRED_FORMAT_* */
} SCHANNEL_CRED, *PSCHANNEL_CRED;

#define SCH_CRED_FORMAT_CERT_CONTEXT    0x00000000
#define SCH_CRED_FORMAT_CERT_HASH       0x00000001
#define SCH_CRED_FORMAT_CERT_HASH_STORE 0x00000002

#define SCH_CRED_MAX_SUPPORTED_ALGS  256
#define SCH_CRED_MAX_SUPPORTED_CERTS 100

typedef enum _eTlsAlgorithmUsage {
  TlsParametersCngAlgUsageKeyExchange = 0,
  TlsParametersCngAlgUsageSignature = 1,
  TlsParametersCngAlgUsageCipher = 2,
  TlsParametersCngAlgUsageDigest = 3,
  TlsParametersCngAlgUsageCertSig = 4
} eTlsAlgorithmUsage;

typedef struct _CRYPTO_SETTINGS {
  eTlsAlgorithmUsage eAlgorithmUsage;
  UNICODE_STRING strCngAlgId;
  DWORD cChainingModes;
  PUNICODE_STRING rgstrChainingModes;
  DWORD dwMinBitLength;
  DWORD dwMaxBitLength;
} CRYPTO_SETTINGS, *PCRYPTO_SETTINGS;

#define TLS_PARAMS_OPTIONAL 0x00000001

typedef struct _TLS_PARAMETERS {
  DWORD cAlpnIds;
  PUNICODE_STRING rgstrAlpnIds;
  DWORD grbitDisabledProtocols;     /* SP_PROT_* to turn off */
  DWORD cDisabledCrypto;
  PCRYPTO_SETTINGS pDisabledCrypto;
  DWORD dwFlags;                    /* TLS_PARAMS_OPTIONAL */
} TLS_PARAMETERS, *PTLS_PARAMETERS;

typedef struct _SCH_CREDENTIALS {
  DWORD dwVersion;                  /* SCH_CREDENTIALS_VERSION */
  DWORD dwCredFormat;
  DWORD cCreds;                     /* must be 0 with sspid */
  PCCERT_CONTEXT *paCred;
  HCERTSTORE hRootStore;
  DWORD cMappers;
  struct _HMAPPER **aphMappers;
  DWORD dwSessionLifespan;
  DWORD dwFlags;
  DWORD cTlsParameters;
  PTLS_PARAMETERS pTlsParameters;
} SCH_CREDENTIALS, *PSCH_CREDENTIALS;

/* dwFlags of SCHANNEL_CRED and SCH_CREDENTIALS */
#define SCH_CRED_NO_SYSTEM_MAPPER                    0x00000002
#define SCH_CRED_NO_SERVERNAME_CHECK                 0x00000004
#define SCH_CRED_MANUAL_CRED_VALIDATION              0x00000008
#define SCH_CRED_NO_DEFAULT_CREDS                    0x00000010
#define SCH_CRED_AUTO_CRED_VALIDATION                0x00000020
#define SCH_CRED_USE_DEFAULT_CREDS                   0x00000040
#define SCH_CRED_DISABLE_RECONNECTS                  0x00000080
#define SCH_CRED_REVOCATION_CHECK_END_CERT           0x00000100
#define SCH_CRED_REVOCATION_CHECK_CHAIN              0x00000200
#define SCH_CRED_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT 0x00000400
#define SCH_CRED_IGNORE_NO_REVOCATION_CHECK          0x00000800
#define SCH_CRED_IGNORE_REVOCATION_OFFLINE           0x00001000
#define SCH_CRED_RESTRICTED_ROOTS                    0x00002000
#define SCH_CRED_REVOCATION_CHECK_CACHE_ONLY         0x00004000
#define SCH_CRED_CACHE_ONLY_URL_RETRIEVAL            0x00008000
#define SCH_CRED_MEMORY_STORE_CERT                   0x00010000
#define SCH_CRED_CACHE_ONLY_URL_RETRIEVAL_ON_CREATE  0x00020000
#define SCH_SEND_ROOT_CERT                           0x00040000
#define SCH_CRED_SNI_CREDENTIAL                      0x00080000
#define SCH_CRED_SNI_ENABLE_OCSP                     0x00100000
#define SCH_SEND_AUX_RECORD                          0x00200000
#define SCH_USE_STRONG_CRYPTO                        0x00400000
#define SCH_USE_PRESHAREDKEY_ONLY                    0x00800000
#define SCH_USE_DTLS_ONLY                            0x01000000
#define SCH_ALLOW_NULL_ENCRYPTION                    0x02000000
#define SCH_CRED_DEFERRED_CRED_VALIDATION            0x04000000

/* ------------------------------------------------------------------------
 * Protocols (grbitEnabledProtocols, grbitDisabledProtocols, dwProtocol)
 * ------------------------------------------------------------------------ */

#define SP_PROT_NONE           0x00000000
#define SP_PROT_ALL            0xffffffff

#define SP_PROT_PCT1_SERVER    0x00000001
#define SP_PROT_PCT1_CLIENT    0x00000002
#define SP_PROT_SSL2_SERVER    0x00000004
#define SP_PROT_SSL2_CLIENT    0x00000008
#define SP_PROT_SSL3_SERVER    0x00000010
#define SP_PROT_SSL3_CLIENT    0x00000020
#define SP_PROT_TLS1_SERVER    0x00000040
#define SP_PROT_TLS1_CLIENT    0x00000080
#define SP_PROT_TLS1_0_SERVER  SP_PROT_TLS1_SERVER
#define SP_PROT_TLS1_0_CLIENT  SP_PROT_TLS1_CLIENT
#define SP_PROT_TLS1_1_SERVER  0x00000100
#define SP_PROT_TLS1_1_CLIENT  0x00000200
#define SP_PROT_TLS1_2_SERVER  0x00000400
#define SP_PROT_TLS1_2_CLIENT  0x00000800
#define SP_PROT_TLS1_3_SERVER  0x00001000
#define SP_PROT_TLS1_3_CLIENT  0x00002000
#define SP_PROT_DTLS_SERVER    0x00010000
#define SP_PROT_DTLS_CLIENT    0x00020000
#define SP_PROT_DTLS1_0_SERVER SP_PROT_DTLS_SERVER
#define SP_PROT_DTLS1_0_CLIENT SP_PROT_DTLS_CLIENT
#define SP_PROT_DTLS1_2_SERVER 0x00040000
#define SP_PROT_DTLS1_2_CLIENT 0x00080000
#define SP_PROT_UNI_SERVER     0x40000000
#define SP_PROT_UNI_CLIENT     0x80000000

#define SP_PROT_PCT1    (SP_PROT_PCT1_SERVER | SP_PROT_PCT1_CLIENT)
#define SP_PROT_SSL2    (SP_PROT_SSL2_SERVER | SP_PROT_SSL2_CLIENT)
#define SP_PROT_SSL3    (SP_PROT_SSL3_SERVER | SP_PROT_SSL3_CLIENT)
#define SP_PROT_TLS1    (SP_PROT_TLS1_SERVER | SP_PROT_TLS1_CLIENT)
#define SP_PROT_TLS1_0  (SP_PROT_TLS1_0_SERVER | SP_PROT_TLS1_0_CLIENT)
#define SP_PROT_TLS1_1  (SP_PROT_TLS1_1_SERVER | SP_PROT_TLS1_1_CLIENT)
#define SP_PROT_TLS1_2  (SP_PROT_TLS1_2_SERVER | SP_PROT_TLS1_2_CLIENT)
#define SP_PROT_TLS1_3  (SP_PROT_TLS1_3_SERVER | SP_PROT_TLS1_3_CLIENT)
#define SP_PROT_DTLS    (SP_PROT_DTLS_SERVER | SP_PROT_DTLS_CLIENT)
#define SP_PROT_DTLS1_0 (SP_PROT_DTLS1_0_SERVER | SP_PROT_DTLS1_0_CLIENT)
#define SP_PROT_DTLS1_2 (SP_PROT_DTLS1_2_SERVER | SP_PROT_DTLS1_2_CLIENT)
#define SP_PROT_UNI     (SP_PROT_UNI_SERVER | SP_PROT_UNI_CLIENT)

#define SP_PROT_TLS1_X_SERVER (SP_PROT_TLS1_0_SERVER | SP_PROT_TLS1_1_SERVER | \
                               SP_PROT_TLS1_2_SERVER | SP_PROT_TLS1_3_SERVER)
#define SP_PROT_TLS1_X_CLIENT (SP_PROT_TLS1_0_CLIENT | SP_PROT_TLS1_1_CLIENT | \
                               SP_PROT_TLS1_2_CLIENT | SP_PROT_TLS1_3_CLIENT)
#define SP_PROT_TLS1_X        (SP_PROT_TLS1_X_SERVER | SP_PROT_TLS1_X_CLIENT)
#define SP_PROT_TLS1_1PLUS_SERVER (SP_PROT_TLS1_1_SERVER | \
                                   SP_PROT_TLS1_2_SERVER | \
                                   SP_PROT_TLS1_3_SERVER)
#define SP_PROT_TLS1_1PLUS_CLIENT (SP_PROT_TLS1_1_CLIENT | \
                                   SP_PROT_TLS1_2_CLIENT | \
                                   SP_PROT_TLS1_3_CLIENT)
#define SP_PROT_TLS1_1PLUS    (SP_PROT_TLS1_1PLUS_SERVER | \
                               SP_PROT_TLS1_1PLUS_CLIENT)
#define SP_PROT_DTLS1_X_SERVER (SP_PROT_DTLS1_0_SERVER | SP_PROT_DTLS1_2_SERVER)
#define SP_PROT_DTLS1_X_CLIENT (SP_PROT_DTLS1_0_CLIENT | SP_PROT_DTLS1_2_CLIENT)
#define SP_PROT_DTLS1_X        (SP_PROT_DTLS1_X_SERVER | SP_PROT_DTLS1_X_CLIENT)

#define SP_PROT_SSL3TLS1_CLIENTS (SP_PROT_TLS1_CLIENT | SP_PROT_SSL3_CLIENT)
#define SP_PROT_SSL3TLS1_SERVERS (SP_PROT_TLS1_SERVER | SP_PROT_SSL3_SERVER)
#define SP_PROT_SSL3TLS1         (SP_PROT_SSL3 | SP_PROT_TLS1)

#define SP_PROT_CLIENTS (SP_PROT_PCT1_CLIENT | SP_PROT_SSL2_CLIENT | \
                         SP_PROT_SSL3_CLIENT | SP_PROT_UNI_CLIENT | \
                         SP_PROT_TLS1_CLIENT)
#define SP_PROT_SERVERS (SP_PROT_PCT1_SERVER | SP_PROT_SSL2_SERVER | \
                         SP_PROT_SSL3_SERVER | SP_PROT_UNI_SERVER | \
                         SP_PROT_TLS1_SERVER)

/* ------------------------------------------------------------------------
 * ApplyControlToken
 * ------------------------------------------------------------------------ */

#define SCHANNEL_RENEGOTIATE 0
#define SCHANNEL_SHUTDOWN    1
#define SCHANNEL_ALERT       2
#define SCHANNEL_SESSION     3

typedef struct _SCHANNEL_ALERT_TOKEN {
  DWORD dwTokenType;     /* SCHANNEL_ALERT */
  DWORD dwAlertType;     /* TLS1_ALERT_WARNING or TLS1_ALERT_FATAL */
  DWORD dwAlertNumber;   /* TLS1_ALERT_* */
} SCHANNEL_ALERT_TOKEN;

#define TLS1_ALERT_WARNING 1
#define TLS1_ALERT_FATAL   2

#define TLS1_ALERT_CLOSE_NOTIFY         0
#define TLS1_ALERT_UNEXPECTED_MESSAGE   10
#define TLS1_ALERT_BAD_RECORD_MAC       20
#define TLS1_ALERT_DECRYPTION_FAILED    21
#define TLS1_ALERT_RECORD_OVERFLOW      22
#define TLS1_ALERT_DECOMPRESSION_FAIL   30
#define TLS1_ALERT_HANDSHAKE_FAILURE    40
#define TLS1_ALERT_BAD_CERTIFICATE      42
#define TLS1_ALERT_UNSUPPORTED_CERT     43
#define TLS1_ALERT_CERTIFICATE_REVOKED  44
#define TLS1_ALERT_CERTIFICATE_EXPIRED  45
#define TLS1_ALERT_CERTIFICATE_UNKNOWN  46
#define TLS1_ALERT_ILLEGAL_PARAMETER    47
#define TLS1_ALERT_UNKNOWN_CA           48
#define TLS1_ALERT_ACCESS_DENIED        49
#define TLS1_ALERT_DECODE_ERROR         50
#define TLS1_ALERT_DECRYPT_ERROR        51
#define TLS1_ALERT_EXPORT_RESTRICTION   60
#define TLS1_ALERT_PROTOCOL_VERSION     70
#define TLS1_ALERT_INSUFFIENT_SECURITY  71  /* sic, SDK spelling */
#define TLS1_ALERT_INTERNAL_ERROR       80
#define TLS1_ALERT_USER_CANCELED        90
#define TLS1_ALERT_NO_RENEGOTIATION     100
#define TLS1_ALERT_UNSUPPORTED_EXT      110
#define TLS1_ALERT_UNKNOWN_PSK_IDENTITY 115
#define TLS1_ALERT_NO_APP_PROTOCOL      120

#define SSL_SESSION_ENABLE_RECONNECTS  1
#define SSL_SESSION_DISABLE_RECONNECTS 2

typedef struct _SCHANNEL_SESSION_TOKEN {
  DWORD dwTokenType;     /* SCHANNEL_SESSION */
  DWORD dwFlags;         /* SSL_SESSION_*_RECONNECTS */
} SCHANNEL_SESSION_TOKEN;

/* Generic TLS extensions (QUIC mode): SECBUFFER_SEND_GENERIC_TLS_EXTENSION
 * sends one in the handshake message HandshakeType (ClientHello 1,
 * EncryptedExtensions 8); SECBUFFER_SUBSCRIBE_GENERIC_TLS_EXTENSION asks
 * for the peer's, which comes back (type, length, data as on the wire) in
 * the output buffer of that type with SEC_I_GENERIC_EXTENSION_RECEIVED. */
#define TLS_EXTENSION_TYPE_QUIC_TRANSPORT_PARAMETERS 0x39

typedef struct _SEND_GENERIC_TLS_EXTENSION {
  WORD  ExtensionType;
  WORD  HandshakeType;
  DWORD Flags;                 /* must be 0 */
  WORD  BufferSize;
  UCHAR Buffer[ANYSIZE_ARRAY];
} SEND_GENERIC_TLS_EXTENSION, *PSEND_GENERIC_TLS_EXTENSION;

typedef struct _TLS_EXTENSION_SUBSCRIPTION {
  WORD ExtensionType;
  WORD HandshakeType;
} TLS_EXTENSION_SUBSCRIPTION, *PTLS_EXTENSION_SUBSCRIPTION;

typedef struct _SUBSCRIBE_GENERIC_TLS_EXTENSION {
  DWORD Flags;                 /* must be 0 */
  DWORD SubscriptionsCount;
  TLS_EXTENSION_SUBSCRIPTION Subscriptions[ANYSIZE_ARRAY];
} SUBSCRIBE_GENERIC_TLS_EXTENSION, *PSUBSCRIBE_GENERIC_TLS_EXTENSION;

#ifdef __cplusplus
}
#endif

#endif /* SSPID_SCHANNEL_H */
