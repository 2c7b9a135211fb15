/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sspi.h - the Windows SSPI API as libsspi provides it on Linux.
 *
 * This is the subset of the Windows SDK's <sspi.h> that sspid implements:
 * the handle, buffer and attribute types, the status codes and request
 * flags, the synchronous entry points, the security function table and the
 * asynchronous (Sspi*Async) interface.  Names, constant values and struct
 * layouts are those of the Windows SDK, so that code written for Windows
 * Schannel compiles here with few or no changes.  Package-specific types
 * (SCHANNEL_CRED, SP_PROT_*, ...) live in <schannel.h>, as on Windows.
 *
 * Windows is LLP64: its "unsigned long" is 32 bits.  Linux is LP64, so every
 * Windows "unsigned long" -- struct members AND function parameters such as
 * fContextReq, fCredentialUse, Reserved1, TargetDataRep, Reserved2 and
 * pfContextAttr -- is declared here as ULONG, a 32-bit type, exactly as
 * mingw-w64 does with "unsigned __LONG32".  A caller's "ULONG attrs;" then
 * has the same type as the pointer the library writes through.
 *
 * The header needs nothing but <stdint.h> and <stddef.h>.  Define
 * SSPID_NO_WINDOWS_BASE_TYPES before including it if you bring your own
 * definitions of the Windows base types (ULONG, DWORD, WCHAR, ...).
 */

#ifndef SSPID_SSPI_H
#define SSPID_SSPI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Windows base types (LLP64 model on an LP64 host)
 * ------------------------------------------------------------------------ */

#ifndef SSPID_NO_WINDOWS_BASE_TYPES
typedef uint32_t ULONG, *PULONG;
typedef int32_t LONG, *PLONG;
typedef uint16_t USHORT, *PUSHORT;
typedef uint8_t UCHAR, *PUCHAR;
typedef uint8_t BOOLEAN, *PBOOLEAN;
typedef uint8_t BYTE, *PBYTE;
typedef uint16_t WCHAR;
typedef char CHAR;
typedef WCHAR *LPWSTR, *PWSTR;
typedef CHAR *LPSTR, *PSTR;
typedef const WCHAR *LPCWSTR, *PCWSTR;
typedef const CHAR *LPCSTR, *PCSTR;
typedef uintptr_t ULONG_PTR;
typedef intptr_t INT_PTR;
typedef int32_t NTSTATUS;
typedef uint32_t DWORD, *PDWORD;
typedef uint16_t WORD, *PWORD;
typedef int32_t BOOL;
typedef void *PVOID;
typedef void *HANDLE;
typedef uint32_t ALG_ID;
#ifndef VOID
#define VOID void
#endif
#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif
#endif /* SSPID_NO_WINDOWS_BASE_TYPES */

#ifndef ANYSIZE_ARRAY
#define ANYSIZE_ARRAY 1
#endif

/* Calling convention and pointer decorations: nothing on Linux. */
#ifndef SEC_ENTRY
#define SEC_ENTRY
#endif
#ifndef SEC_FAR
#define SEC_FAR
#endif

typedef WCHAR SEC_WCHAR;
typedef CHAR SEC_CHAR;

#ifndef __SECSTATUS_DEFINED__
typedef int32_t SECURITY_STATUS;
#define __SECSTATUS_DEFINED__
#endif

/* ------------------------------------------------------------------------
 * Status codes (winerror.h / ntstatus.h values)
 * ------------------------------------------------------------------------ */

#define SEC_SUCCESS(Status) ((Status) >= 0)

#define SEC_E_OK                            ((SECURITY_STATUS)0x00000000L)
#define SEC_E_INSUFFICIENT_MEMORY           ((SECURITY_STATUS)0x80090300L)
#define SEC_E_INVALID_HANDLE                ((SECURITY_STATUS)0x80090301L)
#define SEC_E_UNSUPPORTED_FUNCTION          ((SECURITY_STATUS)0x80090302L)
#define SEC_E_TARGET_UNKNOWN                ((SECURITY_STATUS)0x80090303L)
#define SEC_E_INTERNAL_ERROR                ((SECURITY_STATUS)0x80090304L)
#define SEC_E_SECPKG_NOT_FOUND              ((SECURITY_STATUS)0x80090305L)
#define SEC_E_NOT_OWNER                     ((SECURITY_STATUS)0x80090306L)
#define SEC_E_CANNOT_INSTALL                ((SECURITY_STATUS)0x80090307L)
#define SEC_E_INVALID_TOKEN                 ((SECURITY_STATUS)0x80090308L)
#define SEC_E_CANNOT_PACK                   ((SECURITY_STATUS)0x80090309L)
#define SEC_E_QOP_NOT_SUPPORTED             ((SECURITY_STATUS)0x8009030AL)
#define SEC_E_NO_IMPERSONATION              ((SECURITY_STATUS)0x8009030BL)
#define SEC_E_LOGON_DENIED                  ((SECURITY_STATUS)0x8009030CL)
#define SEC_E_UNKNOWN_CREDENTIALS           ((SECURITY_STATUS)0x8009030DL)
#define SEC_E_NO_CREDENTIALS                ((SECURITY_STATUS)0x8009030EL)
#define SEC_E_MESSAGE_ALTERED               ((SECURITY_STATUS)0x8009030FL)
#define SEC_E_OUT_OF_SEQUENCE               ((SECURITY_STATUS)0x80090310L)
#define SEC_E_NO_AUTHENTICATING_AUTHORITY   ((SECURITY_STATUS)0x80090311L)
#define SEC_E_BAD_PKGID                     ((SECURITY_STATUS)0x80090316L)
#define SEC_E_CONTEXT_EXPIRED               ((SECURITY_STATUS)0x80090317L)
#define SEC_E_INCOMPLETE_MESSAGE            ((SECURITY_STATUS)0x80090318L)
#define SEC_E_INCOMPLETE_CREDENTIALS        ((SECURITY_STATUS)0x80090320L)
#define SEC_E_BUFFER_TOO_SMALL              ((SECURITY_STATUS)0x80090321L)
#define SEC_E_WRONG_PRINCIPAL               ((SECURITY_STATUS)0x80090322L)
#define SEC_E_TIME_SKEW                     ((SECURITY_STATUS)0x80090324L)
#define SEC_E_UNTRUSTED_ROOT                ((SECURITY_STATUS)0x80090325L)
#define SEC_E_ILLEGAL_MESSAGE               ((SECURITY_STATUS)0x80090326L)
#define SEC_E_CERT_UNKNOWN                  ((SECURITY_STATUS)0x80090327L)
#define SEC_E_CERT_EXPIRED                  ((SECURITY_STATUS)0x80090328L)
#define SEC_E_ENCRYPT_FAILURE               ((SECURITY_STATUS)0x80090329L)
#define SEC_E_DECRYPT_FAILURE               ((SECURITY_STATUS)0x80090330L)
#define SEC_E_ALGORITHM_MISMATCH            ((SECURITY_STATUS)0x80090331L)
#define SEC_E_SECURITY_QOS_FAILED           ((SECURITY_STATUS)0x80090332L)
#define SEC_E_UNFINISHED_CONTEXT_DELETED    ((SECURITY_STATUS)0x80090333L)
#define SEC_E_WRONG_CREDENTIAL_HANDLE       ((SECURITY_STATUS)0x80090336L)
#define SEC_E_CRYPTO_SYSTEM_INVALID         ((SECURITY_STATUS)0x80090337L)
#define SEC_E_STRONG_CRYPTO_NOT_SUPPORTED   ((SECURITY_STATUS)0x8009033AL)
#define SEC_E_SHUTDOWN_IN_PROGRESS          ((SECURITY_STATUS)0x8009033FL)
#define SEC_E_BAD_BINDINGS                  ((SECURITY_STATUS)0x80090346L)
#define SEC_E_MULTIPLE_ACCOUNTS             ((SECURITY_STATUS)0x80090347L)
#define SEC_E_CERT_WRONG_USAGE              ((SECURITY_STATUS)0x80090349L)
#define SEC_E_DOWNGRADE_DETECTED            ((SECURITY_STATUS)0x80090350L)
#define SEC_E_ISSUING_CA_UNTRUSTED          ((SECURITY_STATUS)0x80090352L)
#define SEC_E_REVOCATION_OFFLINE_C          ((SECURITY_STATUS)0x80090353L)
#define SEC_E_INVALID_PARAMETER             ((SECURITY_STATUS)0x8009035DL)
#define SEC_E_NO_CONTEXT                    ((SECURITY_STATUS)0x80090361L)
#define SEC_E_MUTUAL_AUTH_FAILED            ((SECURITY_STATUS)0x80090363L)
#define SEC_E_ONLY_HTTPS_ALLOWED            ((SECURITY_STATUS)0x80090365L)
#define SEC_E_APPLICATION_PROTOCOL_MISMATCH ((SECURITY_STATUS)0x80090367L)

#define SEC_I_CONTINUE_NEEDED               ((SECURITY_STATUS)0x00090312L)
#define SEC_I_COMPLETE_NEEDED               ((SECURITY_STATUS)0x00090313L)
#define SEC_I_COMPLETE_AND_CONTINUE         ((SECURITY_STATUS)0x00090314L)
#define SEC_I_LOCAL_LOGON                   ((SECURITY_STATUS)0x00090315L)
#define SEC_I_CONTEXT_EXPIRED               ((SECURITY_STATUS)0x00090317L)
#define SEC_I_INCOMPLETE_CREDENTIALS        ((SECURITY_STATUS)0x00090320L)
#define SEC_I_RENEGOTIATE                   ((SECURITY_STATUS)0x00090321L)
#define SEC_I_NO_LSA_CONTEXT                ((SECURITY_STATUS)0x00090323L)
#define SEC_I_SIGNATURE_NEEDED              ((SECURITY_STATUS)0x0009035CL)
#define SEC_I_NO_RENEGOTIATION              ((SECURITY_STATUS)0x00090360L)
#define SEC_I_MESSAGE_FRAGMENT              ((SECURITY_STATUS)0x00090364L)
#define SEC_I_CONTINUE_NEEDED_MESSAGE_OK    ((SECURITY_STATUS)0x00090366L)
#define SEC_I_ASYNC_CALL_PENDING            ((SECURITY_STATUS)0x00090368L)
/* QUIC mode: a subscribed TLS extension arrived (SUBSCRIBE_GENERIC_TLS_EXTENSION). */
#define SEC_I_GENERIC_EXTENSION_RECEIVED    ((SECURITY_STATUS)0x00090316L)

#define STATUS_SUCCESS                      ((NTSTATUS)0x00000000L)
#define STATUS_INVALID_HANDLE               ((NTSTATUS)0xC0000008L)
#define STATUS_INVALID_PARAMETER            ((NTSTATUS)0xC000000DL)

/* ------------------------------------------------------------------------
 * Handles and time stamps
 * ------------------------------------------------------------------------ */

#ifndef __SECHANDLE_DEFINED__
typedef struct _SecHandle {
  ULONG_PTR dwLower;
  ULONG_PTR dwUpper;
} SecHandle, *PSecHandle;
#define __SECHANDLE_DEFINED__
#endif

typedef SecHandle CredHandle;
typedef PSecHandle PCredHandle;
typedef SecHandle CtxtHandle;
typedef PSecHandle PCtxtHandle;

/* An invalid handle has both halves set to -1.  (The SDK's version of
 * SecInvalidateHandle ends in a stray ';'; this one is a plain expression so
 * it can be used in an if/else without braces.) */
#define SecInvalidateHandle(x) \
  (((PSecHandle) (x))->dwLower = ((PSecHandle) (x))->dwUpper = \
     ((ULONG_PTR) ((INT_PTR) -1)))
#define SecIsValidHandle(x) \
  ((((PSecHandle) (x))->dwLower != ((ULONG_PTR) ((INT_PTR) -1))) && \
   (((PSecHandle) (x))->dwUpper != ((ULONG_PTR) ((INT_PTR) -1))))

#define SEC_DELETED_HANDLE ((ULONG_PTR) (-2))

/* 100 ns units since 1601-01-01 (FILETIME), split as in the non-kernel SDK. */
typedef struct _SECURITY_INTEGER {
  ULONG LowPart;
  LONG HighPart;
} SECURITY_INTEGER, *PSECURITY_INTEGER;

typedef SECURITY_INTEGER TimeStamp;
typedef SECURITY_INTEGER *PTimeStamp;

/* ------------------------------------------------------------------------
 * Packages
 * ------------------------------------------------------------------------ */

typedef struct _SecPkgInfoW {
  ULONG fCapabilities;
  USHORT wVersion;
  USHORT wRPCID;
  ULONG cbMaxToken;
  SEC_WCHAR *Name;
  SEC_WCHAR *Comment;
} SecPkgInfoW, *PSecPkgInfoW;

typedef struct _SecPkgInfoA {
  ULONG fCapabilities;
  USHORT wVersion;
  USHORT wRPCID;
  ULONG cbMaxToken;
  SEC_CHAR *Name;
  SEC_CHAR *Comment;
} SecPkgInfoA, *PSecPkgInfoA;

#define SECPKG_FLAG_INTEGRITY                   0x00000001
#define SECPKG_FLAG_PRIVACY                     0x00000002
#define SECPKG_FLAG_TOKEN_ONLY                  0x00000004
#define SECPKG_FLAG_DATAGRAM                    0x00000008
#define SECPKG_FLAG_CONNECTION                  0x00000010
#define SECPKG_FLAG_MULTI_REQUIRED              0x00000020
#define SECPKG_FLAG_CLIENT_ONLY                 0x00000040
#define SECPKG_FLAG_EXTENDED_ERROR              0x00000080
#define SECPKG_FLAG_IMPERSONATION               0x00000100
#define SECPKG_FLAG_ACCEPT_WIN32_NAME           0x00000200
#define SECPKG_FLAG_STREAM                      0x00000400
#define SECPKG_FLAG_NEGOTIABLE                  0x00000800
#define SECPKG_FLAG_GSS_COMPATIBLE              0x00001000
#define SECPKG_FLAG_LOGON                       0x00002000
#define SECPKG_FLAG_ASCII_BUFFERS               0x00004000
#define SECPKG_FLAG_FRAGMENT                    0x00008000
#define SECPKG_FLAG_MUTUAL_AUTH                 0x00010000
#define SECPKG_FLAG_DELEGATION                  0x00020000
#define SECPKG_FLAG_READONLY_WITH_CHECKSUM      0x00040000
#define SECPKG_FLAG_RESTRICTED_TOKENS           0x00080000
#define SECPKG_FLAG_NEGO_EXTENDER               0x00100000
#define SECPKG_FLAG_NEGOTIABLE2                 0x00200000
#define SECPKG_FLAG_APPCONTAINER_PASSTHROUGH    0x00400000
#define SECPKG_FLAG_APPCONTAINER_CHECKS         0x00800000

#define SECPKG_ID_NONE 0xFFFF

/* ------------------------------------------------------------------------
 * Buffers
 * ------------------------------------------------------------------------ */

typedef struct _SecBuffer {
  ULONG cbBuffer;
  ULONG BufferType;
  void *pvBuffer;
} SecBuffer, *PSecBuffer;

typedef struct _SecBufferDesc {
  ULONG ulVersion;
  ULONG cBuffers;
  PSecBuffer pBuffers;
} SecBufferDesc, *PSecBufferDesc;

#define SECBUFFER_VERSION 0

#define SECBUFFER_EMPTY                          0
#define SECBUFFER_DATA                           1
#define SECBUFFER_TOKEN                          2
#define SECBUFFER_PKG_PARAMS                     3
#define SECBUFFER_MISSING                        4
#define SECBUFFER_EXTRA                          5
#define SECBUFFER_STREAM_TRAILER                 6
#define SECBUFFER_STREAM_HEADER                  7
#define SECBUFFER_NEGOTIATION_INFO               8
#define SECBUFFER_PADDING                        9
#define SECBUFFER_STREAM                         10
#define SECBUFFER_MECHLIST                       11
#define SECBUFFER_MECHLIST_SIGNATURE             12
#define SECBUFFER_TARGET                         13
#define SECBUFFER_CHANNEL_BINDINGS               14
#define SECBUFFER_CHANGE_PASS_RESPONSE           15
#define SECBUFFER_TARGET_HOST                    16
#define SECBUFFER_ALERT                          17
#define SECBUFFER_APPLICATION_PROTOCOLS          18
#define SECBUFFER_SRTP_PROTECTION_PROFILES       19
#define SECBUFFER_SRTP_MASTER_KEY_IDENTIFIER     20
#define SECBUFFER_TOKEN_BINDING                  21
#define SECBUFFER_PRESHARED_KEY                  22
#define SECBUFFER_PRESHARED_KEY_IDENTITY         23
#define SECBUFFER_DTLS_MTU                       24
#define SECBUFFER_SEND_GENERIC_TLS_EXTENSION     25
#define SECBUFFER_SUBSCRIBE_GENERIC_TLS_EXTENSION 26
#define SECBUFFER_FLAGS                          27
#define SECBUFFER_TRAFFIC_SECRETS                28

#define SECBUFFER_ATTRMASK                       0xF0000000
#define SECBUFFER_READONLY                       0x80000000
#define SECBUFFER_READONLY_WITH_CHECKSUM         0x10000000
#define SECBUFFER_RESERVED                       0x60000000

typedef struct _SEC_CHANNEL_BINDINGS {
  ULONG dwInitiatorAddrType;
  ULONG cbInitiatorLength;
  ULONG dwInitiatorOffset;
  ULONG dwAcceptorAddrType;
  ULONG cbAcceptorLength;
  ULONG dwAcceptorOffset;
  ULONG cbApplicationDataLength;
  ULONG dwApplicationDataOffset;
} SEC_CHANNEL_BINDINGS, *PSEC_CHANNEL_BINDINGS;

/* ALPN: the contents of a SECBUFFER_APPLICATION_PROTOCOLS buffer. */
typedef enum _SEC_APPLICATION_PROTOCOL_NEGOTIATION_EXT {
  SecApplicationProtocolNegotiationExt_None = 0,
  SecApplicationProtocolNegotiationExt_NPN = 1,
  SecApplicationProtocolNegotiationExt_ALPN = 2
} SEC_APPLICATION_PROTOCOL_NEGOTIATION_EXT,
  *PSEC_APPLICATION_PROTOCOL_NEGOTIATION_EXT;

typedef struct _SEC_APPLICATION_PROTOCOL_LIST {
  SEC_APPLICATION_PROTOCOL_NEGOTIATION_EXT ProtoNegoExt;
  USHORT ProtocolListSize;
  UCHAR ProtocolList[ANYSIZE_ARRAY];  /* 8-bit length-prefixed ids */
} SEC_APPLICATION_PROTOCOL_LIST, *PSEC_APPLICATION_PROTOCOL_LIST;

typedef struct _SEC_APPLICATION_PROTOCOLS {
  ULONG ProtocolListsSize;
  SEC_APPLICATION_PROTOCOL_LIST ProtocolLists[ANYSIZE_ARRAY];
} SEC_APPLICATION_PROTOCOLS, *PSEC_APPLICATION_PROTOCOLS;

typedef struct _SEC_DTLS_MTU {
  USHORT PathMTU;
} SEC_DTLS_MTU, *PSEC_DTLS_MTU;

typedef struct _SEC_FLAGS {
  uint64_t Flags;
} SEC_FLAGS, *PSEC_FLAGS;

typedef enum _SEC_TRAFFIC_SECRET_TYPE {
  SecTrafficSecret_None = 0,
  SecTrafficSecret_Client = 1,
  SecTrafficSecret_Server = 2
} SEC_TRAFFIC_SECRET_TYPE, *PSEC_TRAFFIC_SECRET_TYPE;

#ifndef SZ_ALG_MAX_SIZE
#define SZ_ALG_MAX_SIZE 64
#endif

typedef struct _SEC_TRAFFIC_SECRETS {
  WCHAR SymmetricAlgId[SZ_ALG_MAX_SIZE];
  WCHAR ChainingMode[SZ_ALG_MAX_SIZE];
  WCHAR HashAlgId[SZ_ALG_MAX_SIZE];
  USHORT KeySize;
  USHORT IvSize;
  USHORT MsgSequenceStart;
  USHORT MsgSequenceEnd;
  SEC_TRAFFIC_SECRET_TYPE TrafficSecretType;
  USHORT TrafficSecretSize;
  UCHAR TrafficSecret[ANYSIZE_ARRAY];
} SEC_TRAFFIC_SECRETS, *PSEC_TRAFFIC_SECRETS;

/* ------------------------------------------------------------------------
 * Data representation, credential use, context requirements
 * ------------------------------------------------------------------------ */

#define SECURITY_NATIVE_DREP  0x00000010
#define SECURITY_NETWORK_DREP 0x00000000

#define SECPKG_CRED_INBOUND   0x00000001
#define SECPKG_CRED_OUTBOUND  0x00000002
#define SECPKG_CRED_BOTH      0x00000003
#define SECPKG_CRED_DEFAULT   0x00000004
#define SECPKG_CRED_RESERVED  0xF0000000
#define SECPKG_CRED_AUTOLOGON_RESTRICTED 0x00000010
#define SECPKG_CRED_PROCESS_POLICY_ONLY  0x00000020

#define ISC_REQ_DELEGATE                0x00000001
#define ISC_REQ_MUTUAL_AUTH             0x00000002
#define ISC_REQ_REPLAY_DETECT           0x00000004
#define ISC_REQ_SEQUENCE_DETECT         0x00000008
#define ISC_REQ_CONFIDENTIALITY         0x00000010
#define ISC_REQ_USE_SESSION_KEY         0x00000020
#define ISC_REQ_PROMPT_FOR_CREDS        0x00000040
#define ISC_REQ_USE_SUPPLIED_CREDS      0x00000080
#define ISC_REQ_ALLOCATE_MEMORY         0x00000100
#define ISC_REQ_USE_DCE_STYLE           0x00000200
#define ISC_REQ_DATAGRAM                0x00000400
#define ISC_REQ_CONNECTION              0x00000800
#define ISC_REQ_CALL_LEVEL              0x00001000
#define ISC_REQ_FRAGMENT_SUPPLIED       0x00002000
#define ISC_REQ_EXTENDED_ERROR          0x00004000
#define ISC_REQ_STREAM                  0x00008000
#define ISC_REQ_INTEGRITY               0x00010000
#define ISC_REQ_IDENTIFY                0x00020000
#define ISC_REQ_NULL_SESSION            0x00040000
#define ISC_REQ_MANUAL_CRED_VALIDATION  0x00080000
#define ISC_REQ_RESERVED1               0x00100000
#define ISC_REQ_FRAGMENT_TO_FIT         0x00200000
#define ISC_REQ_FORWARD_CREDENTIALS     0x00400000
#define ISC_REQ_NO_INTEGRITY            0x00800000
#define ISC_REQ_USE_HTTP_STYLE          0x01000000
#define ISC_REQ_UNVERIFIED_TARGET_NAME  0x20000000
#define ISC_REQ_CONFIDENTIALITY_ONLY    0x40000000
/* The 64-bit requests, passed in a SECBUFFER_FLAGS input buffer (SEC_FLAGS):
 * ISC_REQ_MESSAGES takes and produces TLS handshake messages instead of
 * records (QUIC, RFC 9001). */
#define ISC_REQ_MESSAGES                0x0000000100000000ULL
#define ISC_REQ_DEFERRED_CRED_VALIDATION 0x0000000200000000ULL
#define ISC_REQ_NO_POST_HANDSHAKE_AUTH  0x0000000400000000ULL

#define ISC_RET_DELEGATE                0x00000001
#define ISC_RET_MUTUAL_AUTH             0x00000002
#define ISC_RET_REPLAY_DETECT           0x00000004
#define ISC_RET_SEQUENCE_DETECT         0x00000008
#define ISC_RET_CONFIDENTIALITY         0x00000010
#define ISC_RET_USE_SESSION_KEY         0x00000020
#define ISC_RET_USED_COLLECTED_CREDS    0x00000040
#define ISC_RET_USED_SUPPLIED_CREDS     0x00000080
#define ISC_RET_ALLOCATED_MEMORY        0x00000100
#define ISC_RET_USED_DCE_STYLE          0x00000200
#define ISC_RET_DATAGRAM                0x00000400
#define ISC_RET_CONNECTION              0x00000800
#define ISC_RET_INTERMEDIATE_RETURN     0x00001000
#define ISC_RET_CALL_LEVEL              0x00002000
#define ISC_RET_EXTENDED_ERROR          0x00004000
#define ISC_RET_STREAM                  0x00008000
#define ISC_RET_INTEGRITY               0x00010000
#define ISC_RET_IDENTIFY                0x00020000
#define ISC_RET_NULL_SESSION            0x00040000
#define ISC_RET_MANUAL_CRED_VALIDATION  0x00080000
#define ISC_RET_RESERVED1               0x00100000
#define ISC_RET_FRAGMENT_ONLY           0x00200000
#define ISC_RET_FORWARD_CREDENTIALS     0x00400000
#define ISC_RET_USED_HTTP_STYLE         0x01000000
#define ISC_RET_NO_ADDITIONAL_TOKEN     0x02000000
#define ISC_RET_REAUTHENTICATION        0x08000000
#define ISC_RET_CONFIDENTIALITY_ONLY    0x40000000

#define ASC_REQ_DELEGATE                0x00000001
#define ASC_REQ_MUTUAL_AUTH             0x00000002
#define ASC_REQ_REPLAY_DETECT           0x00000004
#define ASC_REQ_SEQUENCE_DETECT         0x00000008
#define ASC_REQ_CONFIDENTIALITY         0x00000010
#define ASC_REQ_USE_SESSION_KEY         0x00000020
#define ASC_REQ_SESSION_TICKET          0x00000040
#define ASC_REQ_ALLOCATE_MEMORY         0x00000100
#define ASC_REQ_USE_DCE_STYLE           0x00000200
#define ASC_REQ_DATAGRAM                0x00000400
#define ASC_REQ_CONNECTION              0x00000800
#define ASC_REQ_CALL_LEVEL              0x00001000
#define ASC_REQ_FRAGMENT_SUPPLIED       0x00002000
#define ASC_REQ_EXTENDED_ERROR          0x00008000
#define ASC_REQ_STREAM                  0x00010000
#define ASC_REQ_INTEGRITY               0x00020000
#define ASC_REQ_LICENSING               0x00040000
#define ASC_REQ_IDENTIFY                0x00080000
#define ASC_REQ_ALLOW_NULL_SESSION      0x00100000
#define ASC_REQ_ALLOW_NON_USER_LOGONS   0x00200000
#define ASC_REQ_ALLOW_CONTEXT_REPLAY    0x00400000
#define ASC_REQ_FRAGMENT_TO_FIT         0x00800000
#define ASC_REQ_NO_TOKEN                0x01000000
#define ASC_REQ_PROXY_BINDINGS          0x04000000
#define ASC_REQ_ALLOW_MISSING_BINDINGS  0x10000000
/* In a SECBUFFER_FLAGS input buffer, like ISC_REQ_MESSAGES. */
#define ASC_REQ_MESSAGES                0x0000000100000000ULL

#define ASC_RET_DELEGATE                0x00000001
#define ASC_RET_MUTUAL_AUTH             0x00000002
#define ASC_RET_REPLAY_DETECT           0x00000004
#define ASC_RET_SEQUENCE_DETECT         0x00000008
#define ASC_RET_CONFIDENTIALITY         0x00000010
#define ASC_RET_USE_SESSION_KEY         0x00000020
#define ASC_RET_SESSION_TICKET          0x00000040
#define ASC_RET_ALLOCATED_MEMORY        0x00000100
#define ASC_RET_USED_DCE_STYLE          0x00000200
#define ASC_RET_DATAGRAM                0x00000400
#define ASC_RET_CONNECTION              0x00000800
#define ASC_RET_CALL_LEVEL              0x00002000
#define ASC_RET_THIRD_LEG_FAILED        0x00004000
#define ASC_RET_EXTENDED_ERROR          0x00008000
#define ASC_RET_STREAM                  0x00010000
#define ASC_RET_INTEGRITY               0x00020000
#define ASC_RET_LICENSING               0x00040000
#define ASC_RET_IDENTIFY                0x00080000
#define ASC_RET_NULL_SESSION            0x00100000
#define ASC_RET_ALLOW_NON_USER_LOGONS   0x00200000
#define ASC_RET_ALLOW_CONTEXT_REPLAY    0x00400000
#define ASC_RET_FRAGMENT_ONLY           0x00800000
#define ASC_RET_NO_TOKEN                0x01000000
#define ASC_RET_NO_ADDITIONAL_TOKEN     0x02000000

/* Quality of protection for EncryptMessage / DecryptMessage. */
#define SECQOP_WRAP_NO_ENCRYPT          0x80000001
#define SECQOP_WRAP_OOB_DATA            0x40000000

/* ------------------------------------------------------------------------
 * Context attributes (QueryContextAttributes).  Schannel's own attributes
 * (0x50 and up: REMOTE_CERT_CONTEXT, CONNECTION_INFO, CIPHER_INFO, ...) are
 * in <schannel.h>, as on Windows.
 * ------------------------------------------------------------------------ */

#define SECPKG_ATTR_SIZES                    0
#define SECPKG_ATTR_NAMES                    1
#define SECPKG_ATTR_LIFESPAN                 2
#define SECPKG_ATTR_DCE_INFO                 3
#define SECPKG_ATTR_STREAM_SIZES             4
#define SECPKG_ATTR_KEY_INFO                 5
#define SECPKG_ATTR_AUTHORITY                6
#define SECPKG_ATTR_PROTO_INFO               7
#define SECPKG_ATTR_PASSWORD_EXPIRY          8
#define SECPKG_ATTR_SESSION_KEY              9
#define SECPKG_ATTR_PACKAGE_INFO             10
#define SECPKG_ATTR_USER_FLAGS               11
#define SECPKG_ATTR_NEGOTIATION_INFO         12
#define SECPKG_ATTR_NATIVE_NAMES             13
#define SECPKG_ATTR_FLAGS                    14
#define SECPKG_ATTR_USE_VALIDATED            15
#define SECPKG_ATTR_CREDENTIAL_NAME          16
#define SECPKG_ATTR_TARGET_INFORMATION       17
#define SECPKG_ATTR_ACCESS_TOKEN             18
#define SECPKG_ATTR_TARGET                   19
#define SECPKG_ATTR_AUTHENTICATION_ID        20
#define SECPKG_ATTR_LOGOFF_TIME              21
#define SECPKG_ATTR_NEGO_KEYS                22
#define SECPKG_ATTR_PROMPTING_NEEDED         24
#define SECPKG_ATTR_UNIQUE_BINDINGS          25
#define SECPKG_ATTR_ENDPOINT_BINDINGS        26
#define SECPKG_ATTR_CLIENT_SPECIFIED_TARGET  27
#define SECPKG_ATTR_LAST_CLIENT_TOKEN_STATUS 30
#define SECPKG_ATTR_NEGO_PKG_INFO            31
#define SECPKG_ATTR_NEGO_STATUS              32
#define SECPKG_ATTR_CONTEXT_DELETED          33
#define SECPKG_ATTR_DTLS_MTU                 34
#define SECPKG_ATTR_DATAGRAM_SIZES           SECPKG_ATTR_STREAM_SIZES
#define SECPKG_ATTR_APPLICATION_PROTOCOL     35
#define SECPKG_ATTR_NEGOTIATED_TLS_EXTENSIONS 36
#define SECPKG_ATTR_IS_LOOPBACK              37

/* Credential attributes (QueryCredentialsAttributes). */
#define SECPKG_CRED_ATTR_NAMES               1

typedef struct _SecPkgContext_Sizes {
  ULONG cbMaxToken;
  ULONG cbMaxSignature;
  ULONG cbBlockSize;
  ULONG cbSecurityTrailer;
} SecPkgContext_Sizes, *PSecPkgContext_Sizes;

typedef struct _SecPkgContext_StreamSizes {
  ULONG cbHeader;
  ULONG cbTrailer;
  ULONG cbMaximumMessage;
  ULONG cBuffers;
  ULONG cbBlockSize;
} SecPkgContext_StreamSizes, *PSecPkgContext_StreamSizes;

typedef SecPkgContext_StreamSizes SecPkgContext_DatagramSizes;
typedef PSecPkgContext_StreamSizes PSecPkgContext_DatagramSizes;

typedef struct _SecPkgContext_Lifespan {
  TimeStamp tsStart;
  TimeStamp tsExpiry;
} SecPkgContext_Lifespan, *PSecPkgContext_Lifespan;

typedef struct _SecPkgContext_Flags {
  ULONG Flags;
} SecPkgContext_Flags, *PSecPkgContext_Flags;

typedef struct _SecPkgContext_PackageInfoW {
  PSecPkgInfoW PackageInfo;
} SecPkgContext_PackageInfoW, *PSecPkgContext_PackageInfoW;

typedef struct _SecPkgContext_PackageInfoA {
  PSecPkgInfoA PackageInfo;
} SecPkgContext_PackageInfoA, *PSecPkgContext_PackageInfoA;

/* SECPKG_ATTR_KEY_INFO: the two names are allocated by the package; the
 * caller releases each with FreeContextBuffer(). */
typedef struct _SecPkgContext_KeyInfoA {
  SEC_CHAR *sSignatureAlgorithmName;
  SEC_CHAR *sEncryptAlgorithmName;
  ULONG KeySize;
  ULONG SignatureAlgorithm;
  ULONG EncryptAlgorithm;
} SecPkgContext_KeyInfoA, *PSecPkgContext_KeyInfoA;

typedef struct _SecPkgContext_KeyInfoW {
  SEC_WCHAR *sSignatureAlgorithmName;
  SEC_WCHAR *sEncryptAlgorithmName;
  ULONG KeySize;
  ULONG SignatureAlgorithm;
  ULONG EncryptAlgorithm;
} SecPkgContext_KeyInfoW, *PSecPkgContext_KeyInfoW;

/* SECPKG_CRED_ATTR_NAMES (QueryCredentialsAttributes). */
typedef struct _SecPkgCredentials_NamesA {
  SEC_CHAR *sUserName;
} SecPkgCredentials_NamesA, *PSecPkgCredentials_NamesA;

typedef struct _SecPkgCredentials_NamesW {
  SEC_WCHAR *sUserName;
} SecPkgCredentials_NamesW, *PSecPkgCredentials_NamesW;

#ifdef UNICODE
typedef SecPkgContext_KeyInfoW SecPkgContext_KeyInfo;
typedef SecPkgCredentials_NamesW SecPkgCredentials_Names;
#else
typedef SecPkgContext_KeyInfoA SecPkgContext_KeyInfo;
typedef SecPkgCredentials_NamesA SecPkgCredentials_Names;
#endif

typedef struct _SecPkgContext_Bindings {
  ULONG BindingsLength;
  SEC_CHANNEL_BINDINGS *Bindings;
} SecPkgContext_Bindings, *PSecPkgContext_Bindings;

typedef enum _SEC_APPLICATION_PROTOCOL_NEGOTIATION_STATUS {
  SecApplicationProtocolNegotiationStatus_None = 0,
  SecApplicationProtocolNegotiationStatus_Success = 1,
  SecApplicationProtocolNegotiationStatus_SelectedClientOnly = 2
} SEC_APPLICATION_PROTOCOL_NEGOTIATION_STATUS,
  *PSEC_APPLICATION_PROTOCOL_NEGOTIATION_STATUS;

#define MAX_PROTOCOL_ID_SIZE 0xff

typedef struct _SecPkgContext_ApplicationProtocol {
  SEC_APPLICATION_PROTOCOL_NEGOTIATION_STATUS ProtoNegoStatus;
  SEC_APPLICATION_PROTOCOL_NEGOTIATION_EXT ProtoNegoExt;
  UCHAR ProtocolIdSize;
  UCHAR ProtocolId[MAX_PROTOCOL_ID_SIZE];
} SecPkgContext_ApplicationProtocol, *PSecPkgContext_ApplicationProtocol;

/* ------------------------------------------------------------------------
 * Function pointer types (also the members of the security function table)
 * ------------------------------------------------------------------------ */

typedef void (SEC_ENTRY *SEC_GET_KEY_FN) (void *Arg, void *Principal,
                                          ULONG KeyVer, void **Key,
                                          SECURITY_STATUS *Status);

typedef SECURITY_STATUS (SEC_ENTRY *ENUMERATE_SECURITY_PACKAGES_FN_W) (
    ULONG *, PSecPkgInfoW *);
typedef SECURITY_STATUS (SEC_ENTRY *ENUMERATE_SECURITY_PACKAGES_FN_A) (
    ULONG *, PSecPkgInfoA *);
typedef SECURITY_STATUS (SEC_ENTRY *QUERY_CREDENTIALS_ATTRIBUTES_FN_W) (
    PCredHandle, ULONG, void *);
typedef SECURITY_STATUS (SEC_ENTRY *QUERY_CREDENTIALS_ATTRIBUTES_FN_A) (
    PCredHandle, ULONG, void *);
typedef SECURITY_STATUS (SEC_ENTRY *ACQUIRE_CREDENTIALS_HANDLE_FN_W) (
    SEC_WCHAR *, SEC_WCHAR *, ULONG, void *, void *, SEC_GET_KEY_FN, void *,
    PCredHandle, PTimeStamp);
typedef SECURITY_STATUS (SEC_ENTRY *ACQUIRE_CREDENTIALS_HANDLE_FN_A) (
    SEC_CHAR *, SEC_CHAR *, ULONG, void *, void *, SEC_GET_KEY_FN, void *,
    PCredHandle, PTimeStamp);
typedef SECURITY_STATUS (SEC_ENTRY *FREE_CREDENTIALS_HANDLE_FN) (PCredHandle);
typedef SECURITY_STATUS (SEC_ENTRY *INITIALIZE_SECURITY_CONTEXT_FN_W) (
    PCredHandle, PCtxtHandle, SEC_WCHAR *, ULONG, ULONG, ULONG, PSecBufferDesc,
    ULONG, PCtxtHandle, PSecBufferDesc, ULONG *, PTimeStamp);
typedef SECURITY_STATUS (SEC_ENTRY *INITIALIZE_SECURITY_CONTEXT_FN_A) (
    PCredHandle, PCtxtHandle, SEC_CHAR *, ULONG, ULONG, ULONG, PSecBufferDesc,
    ULONG, PCtxtHandle, PSecBufferDesc, ULONG *, PTimeStamp);
typedef SECURITY_STATUS (SEC_ENTRY *ACCEPT_SECURITY_CONTEXT_FN) (
    PCredHandle, PCtxtHandle, PSecBufferDesc, ULONG, ULONG, PCtxtHandle,
    PSecBufferDesc, ULONG *, PTimeStamp);
typedef SECURITY_STATUS (SEC_ENTRY *COMPLETE_AUTH_TOKEN_FN) (PCtxtHandle,
                                                             PSecBufferDesc);
typedef SECURITY_STATUS (SEC_ENTRY *DELETE_SECURITY_CONTEXT_FN) (PCtxtHandle);
typedef SECURITY_STATUS (SEC_ENTRY *APPLY_CONTROL_TOKEN_FN) (PCtxtHandle,
                                                             PSecBufferDesc);
typedef SECURITY_STATUS (SEC_ENTRY *QUERY_CONTEXT_ATTRIBUTES_FN_W) (
    PCtxtHandle, ULONG, void *);
typedef SECURITY_STATUS (SEC_ENTRY *QUERY_CONTEXT_ATTRIBUTES_FN_A) (
    PCtxtHandle, ULONG, void *);
typedef SECURITY_STATUS (SEC_ENTRY *IMPERSONATE_SECURITY_CONTEXT_FN) (
    PCtxtHandle);
typedef SECURITY_STATUS (SEC_ENTRY *REVERT_SECURITY_CONTEXT_FN) (PCtxtHandle);
typedef SECURITY_STATUS (SEC_ENTRY *MAKE_SIGNATURE_FN) (
    PCtxtHandle, ULONG, PSecBufferDesc, ULONG);
typedef SECURITY_STATUS (SEC_ENTRY *VERIFY_SIGNATURE_FN) (
    PCtxtHandle, PSecBufferDesc, ULONG, ULONG *);
typedef SECURITY_STATUS (SEC_ENTRY *FREE_CONTEXT_BUFFER_FN) (void *);
typedef SECURITY_STATUS (SEC_ENTRY *QUERY_SECURITY_PACKAGE_INFO_FN_W) (
    SEC_WCHAR *, PSecPkgInfoW *);
typedef SECURITY_STATUS (SEC_ENTRY *QUERY_SECURITY_PACKAGE_INFO_FN_A) (
    SEC_CHAR *, PSecPkgInfoA *);
typedef SECURITY_STATUS (SEC_ENTRY *EXPORT_SECURITY_CONTEXT_FN) (
    PCtxtHandle, ULONG, PSecBuffer, void **);
typedef SECURITY_STATUS (SEC_ENTRY *IMPORT_SECURITY_CONTEXT_FN_W) (
    SEC_WCHAR *, PSecBuffer, void *, PCtxtHandle);
typedef SECURITY_STATUS (SEC_ENTRY *IMPORT_SECURITY_CONTEXT_FN_A) (
    SEC_CHAR *, PSecBuffer, void *, PCtxtHandle);
typedef SECURITY_STATUS (SEC_ENTRY *ADD_CREDENTIALS_FN_W) (
    PCredHandle, SEC_WCHAR *, SEC_WCHAR *, ULONG, void *, SEC_GET_KEY_FN,
    void *, PTimeStamp);
typedef SECURITY_STATUS (SEC_ENTRY *ADD_CREDENTIALS_FN_A) (
    PCredHandle, SEC_CHAR *, SEC_CHAR *, ULONG, void *, SEC_GET_KEY_FN,
    void *, PTimeStamp);
typedef SECURITY_STATUS (SEC_ENTRY *QUERY_SECURITY_CONTEXT_TOKEN_FN) (
    PCtxtHandle, HANDLE *);
typedef SECURITY_STATUS (SEC_ENTRY *ENCRYPT_MESSAGE_FN) (
    PCtxtHandle, ULONG, PSecBufferDesc, ULONG);
typedef SECURITY_STATUS (SEC_ENTRY *DECRYPT_MESSAGE_FN) (
    PCtxtHandle, PSecBufferDesc, ULONG, ULONG *);
typedef SECURITY_STATUS (SEC_ENTRY *SET_CONTEXT_ATTRIBUTES_FN_W) (
    PCtxtHandle, ULONG, void *, ULONG);
typedef SECURITY_STATUS (SEC_ENTRY *SET_CONTEXT_ATTRIBUTES_FN_A) (
    PCtxtHandle, ULONG, void *, ULONG);
typedef SECURITY_STATUS (SEC_ENTRY *SET_CREDENTIALS_ATTRIBUTES_FN_W) (
    PCredHandle, ULONG, void *, ULONG);
typedef SECURITY_STATUS (SEC_ENTRY *SET_CREDENTIALS_ATTRIBUTES_FN_A) (
    PCredHandle, ULONG, void *, ULONG);
typedef SECURITY_STATUS (SEC_ENTRY *CHANGE_PASSWORD_FN_W) (
    SEC_WCHAR *, SEC_WCHAR *, SEC_WCHAR *, SEC_WCHAR *, SEC_WCHAR *, BOOLEAN,
    ULONG, PSecBufferDesc);
typedef SECURITY_STATUS (SEC_ENTRY *CHANGE_PASSWORD_FN_A) (
    SEC_CHAR *, SEC_CHAR *, SEC_CHAR *, SEC_CHAR *, SEC_CHAR *, BOOLEAN,
    ULONG, PSecBufferDesc);
typedef SECURITY_STATUS (SEC_ENTRY *QUERY_CONTEXT_ATTRIBUTES_EX_FN_W) (
    PCtxtHandle, ULONG, void *, ULONG);
typedef SECURITY_STATUS (SEC_ENTRY *QUERY_CONTEXT_ATTRIBUTES_EX_FN_A) (
    PCtxtHandle, ULONG, void *, ULONG);
typedef SECURITY_STATUS (SEC_ENTRY *QUERY_CREDENTIALS_ATTRIBUTES_EX_FN_W) (
    PCredHandle, ULONG, void *, ULONG);
typedef SECURITY_STATUS (SEC_ENTRY *QUERY_CREDENTIALS_ATTRIBUTES_EX_FN_A) (
    PCredHandle, ULONG, void *, ULONG);

/* ------------------------------------------------------------------------
 * Synchronous API
 *
 * Windows Schannel semantics (see REFERENCE.md).  Output buffers that the
 * package allocates (ISC_REQ_ALLOCATE_MEMORY / ASC_REQ_ALLOCATE_MEMORY,
 * EnumerateSecurityPackages, QuerySecurityPackageInfo, some attributes) are
 * owned by the caller and must be released with FreeContextBuffer().
 * ------------------------------------------------------------------------ */

SECURITY_STATUS SEC_ENTRY AcquireCredentialsHandleW (
    SEC_WCHAR *pszPrincipal, SEC_WCHAR *pszPackage, ULONG fCredentialUse,
    void *pvLogonId, void *pAuthData, SEC_GET_KEY_FN pGetKeyFn,
    void *pvGetKeyArgument, PCredHandle phCredential, PTimeStamp ptsExpiry);
SECURITY_STATUS SEC_ENTRY AcquireCredentialsHandleA (
    SEC_CHAR *pszPrincipal, SEC_CHAR *pszPackage, ULONG fCredentialUse,
    void *pvLogonId, void *pAuthData, SEC_GET_KEY_FN pGetKeyFn,
    void *pvGetKeyArgument, PCredHandle phCredential, PTimeStamp ptsExpiry);

SECURITY_STATUS SEC_ENTRY FreeCredentialsHandle (PCredHandle phCredential);

SECURITY_STATUS SEC_ENTRY InitializeSecurityContextW (
    PCredHandle phCredential, PCtxtHandle phContext, SEC_WCHAR *pszTargetName,
    ULONG fContextReq, ULONG Reserved1, ULONG TargetDataRep,
    PSecBufferDesc pInput, ULONG Reserved2, PCtxtHandle phNewContext,
    PSecBufferDesc pOutput, ULONG *pfContextAttr, PTimeStamp ptsExpiry);
SECURITY_STATUS SEC_ENTRY InitializeSecurityContextA (
    PCredHandle phCredential, PCtxtHandle phContext, SEC_CHAR *pszTargetName,
    ULONG fContextReq, ULONG Reserved1, ULONG TargetDataRep,
    PSecBufferDesc pInput, ULONG Reserved2, PCtxtHandle phNewContext,
    PSecBufferDesc pOutput, ULONG *pfContextAttr, PTimeStamp ptsExpiry);

SECURITY_STATUS SEC_ENTRY AcceptSecurityContext (
    PCredHandle phCredential, PCtxtHandle phContext, PSecBufferDesc pInput,
    ULONG fContextReq, ULONG TargetDataRep, PCtxtHandle phNewContext,
    PSecBufferDesc pOutput, ULONG *pfContextAttr, PTimeStamp ptsExpiry);

SECURITY_STATUS SEC_ENTRY DeleteSecurityContext (PCtxtHandle phContext);

/* pInput's SECBUFFER_TOKEN holds a DWORD SCHANNEL_SHUTDOWN or a
 * SCHANNEL_ALERT_TOKEN; the next ISC/ASC call (no input) returns SEC_E_OK
 * and the alert record to send.  Other tokens: SEC_E_UNSUPPORTED_FUNCTION. */
SECURITY_STATUS SEC_ENTRY ApplyControlToken (PCtxtHandle phContext,
                                             PSecBufferDesc pInput);

/* Schannel attributes: STREAM_SIZES, CONNECTION_INFO, CIPHER_INFO,
 * APPLICATION_PROTOCOL, REMOTE_CERT_CONTEXT (release with
 * CertFreeCertificateContext), SESSION_INFO, ENDPOINT_BINDINGS and
 * UNIQUE_BINDINGS (release Bindings with FreeContextBuffer;
 * SEC_E_UNSUPPORTED_FUNCTION where the binding is not defined, as
 * tls-unique in TLS 1.3), and sspid's SECPKG_ATTR_SSPID_PEER_CHAIN (see
 * <schannel.h>).  Others: SEC_E_UNSUPPORTED_FUNCTION. */
SECURITY_STATUS SEC_ENTRY QueryContextAttributesW (PCtxtHandle phContext,
                                                   ULONG ulAttribute,
                                                   void *pBuffer);
SECURITY_STATUS SEC_ENTRY QueryContextAttributesA (PCtxtHandle phContext,
                                                   ULONG ulAttribute,
                                                   void *pBuffer);

/* Only SECPKG_ATTR_SUPPORTED_PROTOCOLS (SecPkgCred_SupportedProtocols):
 * the SP_PROT_* bits the credential was acquired with, in its direction. */
SECURITY_STATUS SEC_ENTRY QueryCredentialsAttributesW (PCredHandle phCredential,
                                                       ULONG ulAttribute,
                                                       void *pBuffer);
SECURITY_STATUS SEC_ENTRY QueryCredentialsAttributesA (PCredHandle phCredential,
                                                       ULONG ulAttribute,
                                                       void *pBuffer);

/* Stream mode, in place.  EncryptMessage: [STREAM_HEADER, DATA,
 * STREAM_TRAILER, EMPTY] sized from STREAM_SIZES; each cbBuffer is set to
 * what was written.  DecryptMessage: [DATA, EMPTY, EMPTY, EMPTY] becomes
 * [STREAM_HEADER, DATA (plaintext), STREAM_TRAILER, EXTRA or EMPTY], one
 * record per call; SEC_E_INCOMPLETE_MESSAGE turns the first EMPTY buffer
 * into SECBUFFER_MISSING.  No error ever hands out plaintext. */
SECURITY_STATUS SEC_ENTRY EncryptMessage (PCtxtHandle phContext, ULONG fQOP,
                                          PSecBufferDesc pMessage,
                                          ULONG MessageSeqNo);
SECURITY_STATUS SEC_ENTRY DecryptMessage (PCtxtHandle phContext,
                                          PSecBufferDesc pMessage,
                                          ULONG MessageSeqNo, ULONG *pfQOP);

SECURITY_STATUS SEC_ENTRY FreeContextBuffer (void *pvContextBuffer);

SECURITY_STATUS SEC_ENTRY QuerySecurityPackageInfoW (SEC_WCHAR *pszPackageName,
                                                     PSecPkgInfoW *ppPackageInfo);
SECURITY_STATUS SEC_ENTRY QuerySecurityPackageInfoA (SEC_CHAR *pszPackageName,
                                                     PSecPkgInfoA *ppPackageInfo);

SECURITY_STATUS SEC_ENTRY EnumerateSecurityPackagesW (ULONG *pcPackages,
                                                      PSecPkgInfoW *ppPackageInfo);
SECURITY_STATUS SEC_ENTRY EnumerateSecurityPackagesA (ULONG *pcPackages,
                                                      PSecPkgInfoA *ppPackageInfo);

/* ------------------------------------------------------------------------
 * Security function table
 *
 * Member order is that of the Windows SDK (user mode).  Entries libsspi does
 * not implement are NULL in the table it returns.
 * ------------------------------------------------------------------------ */

#define FreeCredentialHandle FreeCredentialsHandle

typedef struct _SECURITY_FUNCTION_TABLE_W {
  ULONG dwVersion;
  ENUMERATE_SECURITY_PACKAGES_FN_W EnumerateSecurityPackagesW;
  QUERY_CREDENTIALS_ATTRIBUTES_FN_W QueryCredentialsAttributesW;
  ACQUIRE_CREDENTIALS_HANDLE_FN_W AcquireCredentialsHandleW;
  FREE_CREDENTIALS_HANDLE_FN FreeCredentialsHandle;
  void *Reserved2;
  INITIALIZE_SECURITY_CONTEXT_FN_W InitializeSecurityContextW;
  ACCEPT_SECURITY_CONTEXT_FN AcceptSecurityContext;
  COMPLETE_AUTH_TOKEN_FN CompleteAuthToken;
  DELETE_SECURITY_CONTEXT_FN DeleteSecurityContext;
  APPLY_CONTROL_TOKEN_FN ApplyControlToken;
  QUERY_CONTEXT_ATTRIBUTES_FN_W QueryContextAttributesW;
  IMPERSONATE_SECURITY_CONTEXT_FN ImpersonateSecurityContext;
  REVERT_SECURITY_CONTEXT_FN RevertSecurityContext;
  MAKE_SIGNATURE_FN MakeSignature;
  VERIFY_SIGNATURE_FN VerifySignature;
  FREE_CONTEXT_BUFFER_FN FreeContextBuffer;
  QUERY_SECURITY_PACKAGE_INFO_FN_W QuerySecurityPackageInfoW;
  void *Reserved3;
  void *Reserved4;
  EXPORT_SECURITY_CONTEXT_FN ExportSecurityContext;
  IMPORT_SECURITY_CONTEXT_FN_W ImportSecurityContextW;
  ADD_CREDENTIALS_FN_W AddCredentialsW;
  void *Reserved8;
  QUERY_SECURITY_CONTEXT_TOKEN_FN QuerySecurityContextToken;
  ENCRYPT_MESSAGE_FN EncryptMessage;
  DECRYPT_MESSAGE_FN DecryptMessage;
  SET_CONTEXT_ATTRIBUTES_FN_W SetContextAttributesW;
  SET_CREDENTIALS_ATTRIBUTES_FN_W SetCredentialsAttributesW;
  CHANGE_PASSWORD_FN_W ChangeAccountPasswordW;  /* Reserved9 in kernel mode */
  QUERY_CONTEXT_ATTRIBUTES_EX_FN_W QueryContextAttributesExW;
  QUERY_CREDENTIALS_ATTRIBUTES_EX_FN_W QueryCredentialsAttributesExW;
} SecurityFunctionTableW, *PSecurityFunctionTableW;

typedef struct _SECURITY_FUNCTION_TABLE_A {
  ULONG dwVersion;
  ENUMERATE_SECURITY_PACKAGES_FN_A EnumerateSecurityPackagesA;
  QUERY_CREDENTIALS_ATTRIBUTES_FN_A QueryCredentialsAttributesA;
  ACQUIRE_CREDENTIALS_HANDLE_FN_A AcquireCredentialsHandleA;
  FREE_CREDENTIALS_HANDLE_FN FreeCredentialsHandle;
  void *Reserved2;
  INITIALIZE_SECURITY_CONTEXT_FN_A InitializeSecurityContextA;
  ACCEPT_SECURITY_CONTEXT_FN AcceptSecurityContext;
  COMPLETE_AUTH_TOKEN_FN CompleteAuthToken;
  DELETE_SECURITY_CONTEXT_FN DeleteSecurityContext;
  APPLY_CONTROL_TOKEN_FN ApplyControlToken;
  QUERY_CONTEXT_ATTRIBUTES_FN_A QueryContextAttributesA;
  IMPERSONATE_SECURITY_CONTEXT_FN ImpersonateSecurityContext;
  REVERT_SECURITY_CONTEXT_FN RevertSecurityContext;
  MAKE_SIGNATURE_FN MakeSignature;
  VERIFY_SIGNATURE_FN VerifySignature;
  FREE_CONTEXT_BUFFER_FN FreeContextBuffer;
  QUERY_SECURITY_PACKAGE_INFO_FN_A QuerySecurityPackageInfoA;
  void *Reserved3;
  void *Reserved4;
  EXPORT_SECURITY_CONTEXT_FN ExportSecurityContext;
  IMPORT_SECURITY_CONTEXT_FN_A ImportSecurityContextA;
  ADD_CREDENTIALS_FN_A AddCredentialsA;
  void *Reserved8;
  QUERY_SECURITY_CONTEXT_TOKEN_FN QuerySecurityContextToken;
  ENCRYPT_MESSAGE_FN EncryptMessage;
  DECRYPT_MESSAGE_FN DecryptMessage;
  SET_CONTEXT_ATTRIBUTES_FN_A SetContextAttributesA;
  SET_CREDENTIALS_ATTRIBUTES_FN_A SetCredentialsAttributesA;
  CHANGE_PASSWORD_FN_A ChangeAccountPasswordA;  /* Reserved9 in kernel mode */
  QUERY_CONTEXT_ATTRIBUTES_EX_FN_A QueryContextAttributesExA;
  QUERY_CREDENTIALS_ATTRIBUTES_EX_FN_A QueryCredentialsAttributesExA;
} SecurityFunctionTableA, *PSecurityFunctionTableA;

#define SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION   1
#define SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_2 2
#define SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_3 3
#define SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_4 4
#define SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_5 5

#define SECURITY_ENTRYPOINT_ANSIW "InitSecurityInterfaceW"
#define SECURITY_ENTRYPOINT_ANSIA "InitSecurityInterfaceA"

/* Returns a pointer to a static table owned by the library; do not free. */
PSecurityFunctionTableW SEC_ENTRY InitSecurityInterfaceW (void);
PSecurityFunctionTableA SEC_ENTRY InitSecurityInterfaceA (void);

typedef PSecurityFunctionTableW (SEC_ENTRY *INIT_SECURITY_INTERFACE_W) (void);
typedef PSecurityFunctionTableA (SEC_ENTRY *INIT_SECURITY_INTERFACE_A) (void);

/* ------------------------------------------------------------------------
 * Asynchronous API
 *
 * The sspid contract, common to every Sspi*Async call below:
 *  - The return value is only the status of queueing the call (SEC_E_OK, or
 *    why it could not be queued: bad argument, no daemon, quota).  It never
 *    waits for the daemon and never runs the callback itself.
 *  - Until the call completes, SspiGetAsyncCallStatus() returns
 *    SEC_I_ASYNC_CALL_PENDING; afterwards it returns the call's result.
 *  - If a callback is set, it runs exactly once per queued call, on a thread
 *    owned by the library, after every output (handles, output buffers,
 *    *pfContextAttr, *ptsExpiry) has been written.
 *  - Every pointer the caller passes must stay valid until then.
 *  - Inside the callback the caller may free the async context, reinit it and
 *    queue the next call, or call any other SSPI function.
 * ------------------------------------------------------------------------ */

typedef struct _SspiAsyncContext SspiAsyncContext;

typedef void (*SspiAsyncNotifyCallback) (SspiAsyncContext *Handle,
                                         void *CallbackData);

/* Creates an async context for one operation.  Returns NULL on failure.
 * Caller must release it with SspiFreeAsyncContext(). */
SspiAsyncContext *SEC_ENTRY SspiCreateAsyncContext (void);

/* Frees an async context.  Safe while a call is still pending: the late
 * result is dropped and the callback does not run. */
void SEC_ENTRY SspiFreeAsyncContext (SspiAsyncContext *Handle);

/* Makes a completed context reusable for another call, keeping its callback.
 * Fails on a context whose call is still pending.  Note: returns NTSTATUS. */
NTSTATUS SEC_ENTRY SspiReinitAsyncContext (SspiAsyncContext *Handle);

/* Sets the completion callback.  A NULL callback is allowed only for
 * SspiDeleteSecurityContextAsync (fire and forget). */
SECURITY_STATUS SEC_ENTRY SspiSetAsyncNotifyCallback (
    SspiAsyncContext *Context, SspiAsyncNotifyCallback Callback,
    void *CallbackData);

/* TRUE if completion of the queued call will be notified by the callback. */
BOOLEAN SEC_ENTRY SspiAsyncContextRequiresNotify (SspiAsyncContext *AsyncContext);

/* SEC_I_ASYNC_CALL_PENDING while in flight, then the call's result. */
SECURITY_STATUS SEC_ENTRY SspiGetAsyncCallStatus (SspiAsyncContext *Handle);

/* Queues AcquireCredentialsHandle.  Returns only the queueing status; the
 * callback runs once, on a library thread, after *phCredential and
 * *ptsExpiry are written.  All pointers must remain valid until then. */
SECURITY_STATUS SEC_ENTRY SspiAcquireCredentialsHandleAsyncW (
    SspiAsyncContext *AsyncContext, LPWSTR pszPrincipal, LPWSTR pszPackage,
    ULONG fCredentialUse, void *pvLogonId, void *pAuthData,
    SEC_GET_KEY_FN pGetKeyFn, void *pvGetKeyArgument,
    PCredHandle phCredential, PTimeStamp ptsExpiry);
SECURITY_STATUS SEC_ENTRY SspiAcquireCredentialsHandleAsyncA (
    SspiAsyncContext *AsyncContext, LPSTR pszPrincipal, LPSTR pszPackage,
    ULONG fCredentialUse, void *pvLogonId, void *pAuthData,
    SEC_GET_KEY_FN pGetKeyFn, void *pvGetKeyArgument,
    PCredHandle phCredential, PTimeStamp ptsExpiry);

/* Queues one InitializeSecurityContext step.  Returns only the queueing
 * status; the callback runs once, on a library thread, after *phNewContext,
 * pOutput's buffers, *pfContextAttr and *ptsExpiry are written.  pInput,
 * pOutput (and their buffers) and every other pointer must remain valid
 * until then. */
SECURITY_STATUS SEC_ENTRY SspiInitializeSecurityContextAsyncW (
    SspiAsyncContext *AsyncContext, PCredHandle phCredential,
    PCtxtHandle phContext, LPWSTR pszTargetName, ULONG fContextReq,
    ULONG Reserved1, ULONG TargetDataRep, PSecBufferDesc pInput,
    ULONG Reserved2, PCtxtHandle phNewContext, PSecBufferDesc pOutput,
    ULONG *pfContextAttr, PTimeStamp ptsExpiry);
SECURITY_STATUS SEC_ENTRY SspiInitializeSecurityContextAsyncA (
    SspiAsyncContext *AsyncContext, PCredHandle phCredential,
    PCtxtHandle phContext, LPSTR pszTargetName, ULONG fContextReq,
    ULONG Reserved1, ULONG TargetDataRep, PSecBufferDesc pInput,
    ULONG Reserved2, PCtxtHandle phNewContext, PSecBufferDesc pOutput,
    ULONG *pfContextAttr, PTimeStamp ptsExpiry);

/* Queues one AcceptSecurityContext step.  Same contract as
 * SspiInitializeSecurityContextAsyncW. */
SECURITY_STATUS SEC_ENTRY SspiAcceptSecurityContextAsync (
    SspiAsyncContext *AsyncContext, PCredHandle phCredential,
    PCtxtHandle phContext, PSecBufferDesc pInput, ULONG fContextReq,
    ULONG TargetDataRep, PCtxtHandle phNewContext, PSecBufferDesc pOutput,
    ULONG *pfContextAttr, PTimeStamp ptsExpiry);

/* Queues FreeCredentialsHandle.  Returns only the queueing status; the
 * callback runs once, on a library thread, when the daemon has released the
 * credential.  phCredential must remain valid until then. */
SECURITY_STATUS SEC_ENTRY SspiFreeCredentialsHandleAsync (
    SspiAsyncContext *AsyncContext, PCredHandle phCredential);

/* Queues DeleteSecurityContext.  Returns only the queueing status.  With a
 * callback, it runs once on a library thread after the context is deleted
 * and phContext must remain valid until then; with no callback the caller
 * opts out of notification and may free AsyncContext at once. */
SECURITY_STATUS SEC_ENTRY SspiDeleteSecurityContextAsync (
    SspiAsyncContext *AsyncContext, PCtxtHandle phContext);

/* ------------------------------------------------------------------------
 * UNICODE mapping
 * ------------------------------------------------------------------------ */

#ifdef UNICODE
#define SecPkgInfo                         SecPkgInfoW
#define PSecPkgInfo                        PSecPkgInfoW
#define SecPkgContext_PackageInfo          SecPkgContext_PackageInfoW
#define PSecPkgContext_PackageInfo         PSecPkgContext_PackageInfoW
#define AcquireCredentialsHandle           AcquireCredentialsHandleW
#define InitializeSecurityContext          InitializeSecurityContextW
#define QueryContextAttributes             QueryContextAttributesW
#define QueryCredentialsAttributes         QueryCredentialsAttributesW
#define QuerySecurityPackageInfo           QuerySecurityPackageInfoW
#define EnumerateSecurityPackages          EnumerateSecurityPackagesW
#define InitSecurityInterface              InitSecurityInterfaceW
#define SecurityFunctionTable              SecurityFunctionTableW
#define PSecurityFunctionTable             PSecurityFunctionTableW
#define SECURITY_ENTRYPOINT_ANSI           SECURITY_ENTRYPOINT_ANSIW
#define ENUMERATE_SECURITY_PACKAGES_FN     ENUMERATE_SECURITY_PACKAGES_FN_W
#define QUERY_CREDENTIALS_ATTRIBUTES_FN    QUERY_CREDENTIALS_ATTRIBUTES_FN_W
#define ACQUIRE_CREDENTIALS_HANDLE_FN      ACQUIRE_CREDENTIALS_HANDLE_FN_W
#define INITIALIZE_SECURITY_CONTEXT_FN     INITIALIZE_SECURITY_CONTEXT_FN_W
#define QUERY_CONTEXT_ATTRIBUTES_FN        QUERY_CONTEXT_ATTRIBUTES_FN_W
#define QUERY_SECURITY_PACKAGE_INFO_FN     QUERY_SECURITY_PACKAGE_INFO_FN_W
#define IMPORT_SECURITY_CONTEXT_FN         IMPORT_SECURITY_CONTEXT_FN_W
#define ADD_CREDENTIALS_FN                 ADD_CREDENTIALS_FN_W
#define SET_CONTEXT_ATTRIBUTES_FN          SET_CONTEXT_ATTRIBUTES_FN_W
#define SET_CREDENTIALS_ATTRIBUTES_FN      SET_CREDENTIALS_ATTRIBUTES_FN_W
#define CHANGE_PASSWORD_FN                 CHANGE_PASSWORD_FN_W
#define QUERY_CONTEXT_ATTRIBUTES_EX_FN     QUERY_CONTEXT_ATTRIBUTES_EX_FN_W
#define QUERY_CREDENTIALS_ATTRIBUTES_EX_FN QUERY_CREDENTIALS_ATTRIBUTES_EX_FN_W
#define INIT_SECURITY_INTERFACE            INIT_SECURITY_INTERFACE_W
#define SspiAcquireCredentialsHandleAsync  SspiAcquireCredentialsHandleAsyncW
#define SspiInitializeSecurityContextAsync SspiInitializeSecurityContextAsyncW
#else
#define SecPkgInfo                         SecPkgInfoA
#define PSecPkgInfo                        PSecPkgInfoA
#define SecPkgContext_PackageInfo          SecPkgContext_PackageInfoA
#define PSecPkgContext_PackageInfo         PSecPkgContext_PackageInfoA
#define AcquireCredentialsHandle           AcquireCredentialsHandleA
#define InitializeSecurityContext          InitializeSecurityContextA
#define QueryContextAttributes             QueryContextAttributesA
#define QueryCredentialsAttributes         QueryCredentialsAttributesA
#define QuerySecurityPackageInfo           QuerySecurityPackageInfoA
#define EnumerateSecurityPackages          EnumerateSecurityPackagesA
#define InitSecurityInterface              InitSecurityInterfaceA
#define SecurityFunctionTable              SecurityFunctionTableA
#define PSecurityFunctionTable             PSecurityFunctionTableA
#define SECURITY_ENTRYPOINT_ANSI           SECURITY_ENTRYPOINT_ANSIA
#define ENUMERATE_SECURITY_PACKAGES_FN     ENUMERATE_SECURITY_PACKAGES_FN_A
#define QUERY_CREDENTIALS_ATTRIBUTES_FN    QUERY_CREDENTIALS_ATTRIBUTES_FN_A
#define ACQUIRE_CREDENTIALS_HANDLE_FN      ACQUIRE_CREDENTIALS_HANDLE_FN_A
#define INITIALIZE_SECURITY_CONTEXT_FN     INITIALIZE_SECURITY_CONTEXT_FN_A
#define QUERY_CONTEXT_ATTRIBUTES_FN        QUERY_CONTEXT_ATTRIBUTES_FN_A
#define QUERY_SECURITY_PACKAGE_INFO_FN     QUERY_SECURITY_PACKAGE_INFO_FN_A
#define IMPORT_SECURITY_CONTEXT_FN         IMPORT_SECURITY_CONTEXT_FN_A
#define ADD_CREDENTIALS_FN                 ADD_CREDENTIALS_FN_A
#define SET_CONTEXT_ATTRIBUTES_FN          SET_CONTEXT_ATTRIBUTES_FN_A
#define SET_CREDENTIALS_ATTRIBUTES_FN      SET_CREDENTIALS_ATTRIBUTES_FN_A
#define CHANGE_PASSWORD_FN                 CHANGE_PASSWORD_FN_A
#define QUERY_CONTEXT_ATTRIBUTES_EX_FN     QUERY_CONTEXT_ATTRIBUTES_EX_FN_A
#define QUERY_CREDENTIALS_ATTRIBUTES_EX_FN QUERY_CREDENTIALS_ATTRIBUTES_EX_FN_A
#define INIT_SECURITY_INTERFACE            INIT_SECURITY_INTERFACE_A
#define SspiAcquireCredentialsHandleAsync  SspiAcquireCredentialsHandleAsyncA
#define SspiInitializeSecurityContextAsync SspiInitializeSecurityContextAsyncA
#endif

#ifdef __cplusplus
}
#endif

#endif /* SSPID_SSPI_H */
