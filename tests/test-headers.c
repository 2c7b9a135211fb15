/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-headers.c - pins the ABI of the public headers <sspi.h> and
 * <schannel.h> to the Windows SDK.
 *
 * Every expected value below is written as a literal: constants are the
 * Windows SDK values, and struct sizes and member offsets are the Windows x64
 * (LLP64) layouts, worked out by hand from the SDK member lists with natural
 * alignment (unsigned long and enums 4 bytes, pointers and ULONG_PTR 8).  If
 * one of these fails, the header no longer matches Windows: fix the header,
 * not the number.  Function prototypes are compared with explicit
 * fixed-width types so that no Windows "unsigned long" parameter can slip
 * back to a 64-bit type.  Nothing here calls into libsspi.
 */

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schannel.h"

#ifdef NDEBUG
#error "tests must not be built with NDEBUG"
#endif

#define SIZE(type, n)             ck_assert_uint_eq (sizeof (type), (n))
#define OFFSET(type, member, n)   ck_assert_uint_eq (offsetof (type, member), (n))
#define VALUE(constant, n)        ck_assert_uint_eq ((uint32_t) (constant), (n))
#define SAME_TYPE(a, b)           __builtin_types_compatible_p (a, b)
#define CHECK_TYPE(a, b) \
  ck_assert_msg (SAME_TYPE (a, b), "type mismatch: %s vs %s", #a, #b)

/* Status codes are 32-bit signed; compare their bit patterns. */
#define STATUS(code, n) \
  do { \
    ck_assert_msg (SAME_TYPE (__typeof__ (code), SECURITY_STATUS), \
                   "%s is not a SECURITY_STATUS", #code); \
    ck_assert_uint_eq ((uint32_t) (code), (n)); \
  } while (0)

/* ------------------------------------------------------------------------
 * sspi.h
 * ------------------------------------------------------------------------ */

START_TEST (test_base_types)
{
  SIZE (ULONG, 4);
  SIZE (LONG, 4);
  SIZE (USHORT, 2);
  SIZE (UCHAR, 1);
  SIZE (BOOLEAN, 1);
  SIZE (BYTE, 1);
  SIZE (WCHAR, 2);
  SIZE (CHAR, 1);
  SIZE (DWORD, 4);
  SIZE (BOOL, 4);
  SIZE (ALG_ID, 4);
  SIZE (ULONG_PTR, 8);
  SIZE (PVOID, 8);
  SIZE (SECURITY_STATUS, 4);
  SIZE (NTSTATUS, 4);
  SIZE (SEC_WCHAR, 2);
  SIZE (SEC_CHAR, 1);

  CHECK_TYPE (ULONG, uint32_t);
  CHECK_TYPE (LONG, int32_t);
  CHECK_TYPE (DWORD, uint32_t);
  CHECK_TYPE (WCHAR, uint16_t);
  CHECK_TYPE (SECURITY_STATUS, int32_t);
  CHECK_TYPE (NTSTATUS, int32_t);
  CHECK_TYPE (LPWSTR, uint16_t *);
  CHECK_TYPE (LPSTR, char *);
  CHECK_TYPE (LPCWSTR, const uint16_t *);
  CHECK_TYPE (LPCSTR, const char *);
  ck_assert (!SAME_TYPE (ULONG, unsigned long));

  ck_assert_uint_eq (ANYSIZE_ARRAY, 1);
  ck_assert_uint_eq (SZ_ALG_MAX_SIZE, 64);
  ck_assert_uint_eq (MAX_PROTOCOL_ID_SIZE, 255);
}
END_TEST

START_TEST (test_status_codes)
{
  STATUS (SEC_E_OK, 0x00000000);
  STATUS (SEC_E_INSUFFICIENT_MEMORY, 0x80090300);
  STATUS (SEC_E_INVALID_HANDLE, 0x80090301);
  STATUS (SEC_E_UNSUPPORTED_FUNCTION, 0x80090302);
  STATUS (SEC_E_TARGET_UNKNOWN, 0x80090303);
  STATUS (SEC_E_INTERNAL_ERROR, 0x80090304);
  STATUS (SEC_E_SECPKG_NOT_FOUND, 0x80090305);
  STATUS (SEC_E_NOT_OWNER, 0x80090306);
  STATUS (SEC_E_CANNOT_INSTALL, 0x80090307);
  STATUS (SEC_E_INVALID_TOKEN, 0x80090308);
  STATUS (SEC_E_CANNOT_PACK, 0x80090309);
  STATUS (SEC_E_QOP_NOT_SUPPORTED, 0x8009030A);
  STATUS (SEC_E_NO_IMPERSONATION, 0x8009030B);
  STATUS (SEC_E_LOGON_DENIED, 0x8009030C);
  STATUS (SEC_E_UNKNOWN_CREDENTIALS, 0x8009030D);
  STATUS (SEC_E_NO_CREDENTIALS, 0x8009030E);
  STATUS (SEC_E_MESSAGE_ALTERED, 0x8009030F);
  STATUS (SEC_E_OUT_OF_SEQUENCE, 0x80090310);
  STATUS (SEC_E_NO_AUTHENTICATING_AUTHORITY, 0x80090311);
  STATUS (SEC_E_BAD_PKGID, 0x80090316);
  STATUS (SEC_E_CONTEXT_EXPIRED, 0x80090317);
  STATUS (SEC_E_INCOMPLETE_MESSAGE, 0x80090318);
  STATUS (SEC_E_INCOMPLETE_CREDENTIALS, 0x80090320);
  STATUS (SEC_E_BUFFER_TOO_SMALL, 0x80090321);
  STATUS (SEC_E_WRONG_PRINCIPAL, 0x80090322);
  STATUS (SEC_E_TIME_SKEW, 0x80090324);
  STATUS (SEC_E_UNTRUSTED_ROOT, 0x80090325);
  STATUS (SEC_E_ILLEGAL_MESSAGE, 0x80090326);
  STATUS (SEC_E_CERT_UNKNOWN, 0x80090327);
  STATUS (SEC_E_CERT_EXPIRED, 0x80090328);
  STATUS (SEC_E_ENCRYPT_FAILURE, 0x80090329);
  STATUS (SEC_E_DECRYPT_FAILURE, 0x80090330);
  STATUS (SEC_E_ALGORITHM_MISMATCH, 0x80090331);
  STATUS (SEC_E_SECURITY_QOS_FAILED, 0x80090332);
  STATUS (SEC_E_UNFINISHED_CONTEXT_DELETED, 0x80090333);
  STATUS (SEC_E_WRONG_CREDENTIAL_HANDLE, 0x80090336);
  STATUS (SEC_E_CRYPTO_SYSTEM_INVALID, 0x80090337);
  STATUS (SEC_E_STRONG_CRYPTO_NOT_SUPPORTED, 0x8009033A);
  STATUS (SEC_E_SHUTDOWN_IN_PROGRESS, 0x8009033F);
  STATUS (SEC_E_BAD_BINDINGS, 0x80090346);
  STATUS (SEC_E_MULTIPLE_ACCOUNTS, 0x80090347);
  STATUS (SEC_E_CERT_WRONG_USAGE, 0x80090349);
  STATUS (SEC_E_DOWNGRADE_DETECTED, 0x80090350);
  STATUS (SEC_E_ISSUING_CA_UNTRUSTED, 0x80090352);
  STATUS (SEC_E_REVOCATION_OFFLINE_C, 0x80090353);
  STATUS (SEC_E_INVALID_PARAMETER, 0x8009035D);
  STATUS (SEC_E_NO_CONTEXT, 0x80090361);
  STATUS (SEC_E_MUTUAL_AUTH_FAILED, 0x80090363);
  STATUS (SEC_E_ONLY_HTTPS_ALLOWED, 0x80090365);
  STATUS (SEC_E_APPLICATION_PROTOCOL_MISMATCH, 0x80090367);

  STATUS (SEC_I_CONTINUE_NEEDED, 0x00090312);
  STATUS (SEC_I_COMPLETE_NEEDED, 0x00090313);
  STATUS (SEC_I_COMPLETE_AND_CONTINUE, 0x00090314);
  STATUS (SEC_I_LOCAL_LOGON, 0x00090315);
  STATUS (SEC_I_CONTEXT_EXPIRED, 0x00090317);
  STATUS (SEC_I_INCOMPLETE_CREDENTIALS, 0x00090320);
  STATUS (SEC_I_RENEGOTIATE, 0x00090321);
  STATUS (SEC_I_NO_LSA_CONTEXT, 0x00090323);
  STATUS (SEC_I_SIGNATURE_NEEDED, 0x0009035C);
  STATUS (SEC_I_NO_RENEGOTIATION, 0x00090360);
  STATUS (SEC_I_MESSAGE_FRAGMENT, 0x00090364);
  STATUS (SEC_I_CONTINUE_NEEDED_MESSAGE_OK, 0x00090366);
  STATUS (SEC_I_ASYNC_CALL_PENDING, 0x00090368);

  /* Errors are negative, informational codes positive, as on Windows. */
  ck_assert_int_lt (SEC_E_INTERNAL_ERROR, 0);
  ck_assert_int_gt (SEC_I_CONTINUE_NEEDED, 0);
  ck_assert (SEC_SUCCESS (SEC_E_OK));
  ck_assert (SEC_SUCCESS (SEC_I_CONTINUE_NEEDED));
  ck_assert (SEC_SUCCESS (SEC_I_ASYNC_CALL_PENDING));
  ck_assert (!SEC_SUCCESS (SEC_E_INVALID_TOKEN));
  ck_assert (!SEC_SUCCESS (SEC_E_INVALID_PARAMETER));

  CHECK_TYPE (__typeof__ (STATUS_SUCCESS), NTSTATUS);
  CHECK_TYPE (__typeof__ (STATUS_INVALID_PARAMETER), NTSTATUS);
  ck_assert_uint_eq ((uint32_t) STATUS_SUCCESS, 0x00000000);
  ck_assert_uint_eq ((uint32_t) STATUS_INVALID_HANDLE, 0xC0000008);
  ck_assert_uint_eq ((uint32_t) STATUS_INVALID_PARAMETER, 0xC000000D);
  ck_assert_int_lt (STATUS_INVALID_PARAMETER, 0);
}
END_TEST

START_TEST (test_handles)
{
  SecHandle h = { 1, 2 };
  CtxtHandle c;
  const ULONG_PTR all_ones = ~(ULONG_PTR) 0;

  SIZE (SecHandle, 16);
  OFFSET (SecHandle, dwLower, 0);
  OFFSET (SecHandle, dwUpper, 8);
  SIZE (CredHandle, 16);
  SIZE (CtxtHandle, 16);
  CHECK_TYPE (PCredHandle, SecHandle *);
  CHECK_TYPE (PCtxtHandle, SecHandle *);

  SIZE (SECURITY_INTEGER, 8);
  OFFSET (SECURITY_INTEGER, LowPart, 0);
  OFFSET (SECURITY_INTEGER, HighPart, 4);
  SIZE (TimeStamp, 8);
  CHECK_TYPE (PTimeStamp, SECURITY_INTEGER *);

  ck_assert (SecIsValidHandle (&h));
  SecInvalidateHandle (&h);
  ck_assert (h.dwLower == all_ones);
  ck_assert (h.dwUpper == all_ones);
  ck_assert (!SecIsValidHandle (&h));

  /* As in the SDK, either half being -1 makes the handle invalid. */
  h.dwUpper = 0;
  ck_assert (!SecIsValidHandle (&h));
  h.dwLower = 0;
  ck_assert (SecIsValidHandle (&h));

  /* Usable as an expression statement in an unbraced if/else. */
  if (h.dwUpper == 0)
    SecInvalidateHandle (&c);
  else
    c = h;
  ck_assert (!SecIsValidHandle (&c));

  ck_assert (SEC_DELETED_HANDLE == all_ones - 1);
}
END_TEST

START_TEST (test_buffers)
{
  SIZE (SecBuffer, 16);
  OFFSET (SecBuffer, cbBuffer, 0);
  OFFSET (SecBuffer, BufferType, 4);
  OFFSET (SecBuffer, pvBuffer, 8);

  SIZE (SecBufferDesc, 16);
  OFFSET (SecBufferDesc, ulVersion, 0);
  OFFSET (SecBufferDesc, cBuffers, 4);
  OFFSET (SecBufferDesc, pBuffers, 8);

  VALUE (SECBUFFER_VERSION, 0);
  VALUE (SECBUFFER_EMPTY, 0);
  VALUE (SECBUFFER_DATA, 1);
  VALUE (SECBUFFER_TOKEN, 2);
  VALUE (SECBUFFER_PKG_PARAMS, 3);
  VALUE (SECBUFFER_MISSING, 4);
  VALUE (SECBUFFER_EXTRA, 5);
  VALUE (SECBUFFER_STREAM_TRAILER, 6);
  VALUE (SECBUFFER_STREAM_HEADER, 7);
  VALUE (SECBUFFER_NEGOTIATION_INFO, 8);
  VALUE (SECBUFFER_PADDING, 9);
  VALUE (SECBUFFER_STREAM, 10);
  VALUE (SECBUFFER_MECHLIST, 11);
  VALUE (SECBUFFER_MECHLIST_SIGNATURE, 12);
  VALUE (SECBUFFER_TARGET, 13);
  VALUE (SECBUFFER_CHANNEL_BINDINGS, 14);
  VALUE (SECBUFFER_CHANGE_PASS_RESPONSE, 15);
  VALUE (SECBUFFER_TARGET_HOST, 16);
  VALUE (SECBUFFER_ALERT, 17);
  VALUE (SECBUFFER_APPLICATION_PROTOCOLS, 18);
  VALUE (SECBUFFER_SRTP_PROTECTION_PROFILES, 19);
  VALUE (SECBUFFER_SRTP_MASTER_KEY_IDENTIFIER, 20);
  VALUE (SECBUFFER_TOKEN_BINDING, 21);
  VALUE (SECBUFFER_PRESHARED_KEY, 22);
  VALUE (SECBUFFER_PRESHARED_KEY_IDENTITY, 23);
  VALUE (SECBUFFER_DTLS_MTU, 24);
  VALUE (SECBUFFER_SEND_GENERIC_TLS_EXTENSION, 25);
  VALUE (SECBUFFER_SUBSCRIBE_GENERIC_TLS_EXTENSION, 26);
  VALUE (SECBUFFER_FLAGS, 27);
  VALUE (SECBUFFER_TRAFFIC_SECRETS, 28);
  VALUE (SECBUFFER_ATTRMASK, 0xF0000000);
  VALUE (SECBUFFER_READONLY, 0x80000000);
  VALUE (SECBUFFER_READONLY_WITH_CHECKSUM, 0x10000000);
  VALUE (SECBUFFER_RESERVED, 0x60000000);

  SIZE (SEC_CHANNEL_BINDINGS, 32);
  OFFSET (SEC_CHANNEL_BINDINGS, dwInitiatorAddrType, 0);
  OFFSET (SEC_CHANNEL_BINDINGS, cbInitiatorLength, 4);
  OFFSET (SEC_CHANNEL_BINDINGS, dwInitiatorOffset, 8);
  OFFSET (SEC_CHANNEL_BINDINGS, dwAcceptorAddrType, 12);
  OFFSET (SEC_CHANNEL_BINDINGS, cbAcceptorLength, 16);
  OFFSET (SEC_CHANNEL_BINDINGS, dwAcceptorOffset, 20);
  OFFSET (SEC_CHANNEL_BINDINGS, cbApplicationDataLength, 24);
  OFFSET (SEC_CHANNEL_BINDINGS, dwApplicationDataOffset, 28);

  SIZE (SEC_DTLS_MTU, 2);
  OFFSET (SEC_DTLS_MTU, PathMTU, 0);
  SIZE (SEC_FLAGS, 8);
  OFFSET (SEC_FLAGS, Flags, 0);

  SIZE (SEC_TRAFFIC_SECRET_TYPE, 4);
  VALUE (SecTrafficSecret_None, 0);
  VALUE (SecTrafficSecret_Client, 1);
  VALUE (SecTrafficSecret_Server, 2);
  SIZE (SEC_TRAFFIC_SECRETS, 400);
  OFFSET (SEC_TRAFFIC_SECRETS, SymmetricAlgId, 0);
  OFFSET (SEC_TRAFFIC_SECRETS, ChainingMode, 128);
  OFFSET (SEC_TRAFFIC_SECRETS, HashAlgId, 256);
  OFFSET (SEC_TRAFFIC_SECRETS, KeySize, 384);
  OFFSET (SEC_TRAFFIC_SECRETS, IvSize, 386);
  OFFSET (SEC_TRAFFIC_SECRETS, MsgSequenceStart, 388);
  OFFSET (SEC_TRAFFIC_SECRETS, MsgSequenceEnd, 390);
  OFFSET (SEC_TRAFFIC_SECRETS, TrafficSecretType, 392);
  OFFSET (SEC_TRAFFIC_SECRETS, TrafficSecretSize, 396);
  OFFSET (SEC_TRAFFIC_SECRETS, TrafficSecret, 398);
}
END_TEST

START_TEST (test_alpn)
{
  SIZE (SEC_APPLICATION_PROTOCOL_NEGOTIATION_EXT, 4);
  VALUE (SecApplicationProtocolNegotiationExt_None, 0);
  VALUE (SecApplicationProtocolNegotiationExt_NPN, 1);
  VALUE (SecApplicationProtocolNegotiationExt_ALPN, 2);

  SIZE (SEC_APPLICATION_PROTOCOL_NEGOTIATION_STATUS, 4);
  VALUE (SecApplicationProtocolNegotiationStatus_None, 0);
  VALUE (SecApplicationProtocolNegotiationStatus_Success, 1);
  VALUE (SecApplicationProtocolNegotiationStatus_SelectedClientOnly, 2);

  SIZE (SEC_APPLICATION_PROTOCOL_LIST, 8);
  OFFSET (SEC_APPLICATION_PROTOCOL_LIST, ProtoNegoExt, 0);
  OFFSET (SEC_APPLICATION_PROTOCOL_LIST, ProtocolListSize, 4);
  OFFSET (SEC_APPLICATION_PROTOCOL_LIST, ProtocolList, 6);

  SIZE (SEC_APPLICATION_PROTOCOLS, 12);
  OFFSET (SEC_APPLICATION_PROTOCOLS, ProtocolListsSize, 0);
  OFFSET (SEC_APPLICATION_PROTOCOLS, ProtocolLists, 4);

  SIZE (SecPkgContext_ApplicationProtocol, 264);
  OFFSET (SecPkgContext_ApplicationProtocol, ProtoNegoStatus, 0);
  OFFSET (SecPkgContext_ApplicationProtocol, ProtoNegoExt, 4);
  OFFSET (SecPkgContext_ApplicationProtocol, ProtocolIdSize, 8);
  OFFSET (SecPkgContext_ApplicationProtocol, ProtocolId, 9);
}
END_TEST

START_TEST (test_context_flags)
{
  VALUE (SECURITY_NATIVE_DREP, 0x10);
  VALUE (SECURITY_NETWORK_DREP, 0x0);

  VALUE (SECPKG_CRED_INBOUND, 1);
  VALUE (SECPKG_CRED_OUTBOUND, 2);
  VALUE (SECPKG_CRED_BOTH, 3);
  VALUE (SECPKG_CRED_DEFAULT, 4);
  VALUE (SECPKG_CRED_RESERVED, 0xF0000000);
  VALUE (SECPKG_CRED_AUTOLOGON_RESTRICTED, 0x10);
  VALUE (SECPKG_CRED_PROCESS_POLICY_ONLY, 0x20);

  VALUE (ISC_REQ_DELEGATE, 0x00000001);
  VALUE (ISC_REQ_MUTUAL_AUTH, 0x00000002);
  VALUE (ISC_REQ_REPLAY_DETECT, 0x00000004);
  VALUE (ISC_REQ_SEQUENCE_DETECT, 0x00000008);
  VALUE (ISC_REQ_CONFIDENTIALITY, 0x00000010);
  VALUE (ISC_REQ_USE_SESSION_KEY, 0x00000020);
  VALUE (ISC_REQ_PROMPT_FOR_CREDS, 0x00000040);
  VALUE (ISC_REQ_USE_SUPPLIED_CREDS, 0x00000080);
  VALUE (ISC_REQ_ALLOCATE_MEMORY, 0x00000100);
  VALUE (ISC_REQ_USE_DCE_STYLE, 0x00000200);
  VALUE (ISC_REQ_DATAGRAM, 0x00000400);
  VALUE (ISC_REQ_CONNECTION, 0x00000800);
  VALUE (ISC_REQ_CALL_LEVEL, 0x00001000);
  VALUE (ISC_REQ_FRAGMENT_SUPPLIED, 0x00002000);
  VALUE (ISC_REQ_EXTENDED_ERROR, 0x00004000);
  VALUE (ISC_REQ_STREAM, 0x00008000);
  VALUE (ISC_REQ_INTEGRITY, 0x00010000);
  VALUE (ISC_REQ_IDENTIFY, 0x00020000);
  VALUE (ISC_REQ_NULL_SESSION, 0x00040000);
  VALUE (ISC_REQ_MANUAL_CRED_VALIDATION, 0x00080000);
  VALUE (ISC_REQ_RESERVED1, 0x00100000);
  VALUE (ISC_REQ_FRAGMENT_TO_FIT, 0x00200000);
  VALUE (ISC_REQ_FORWARD_CREDENTIALS, 0x00400000);
  VALUE (ISC_REQ_NO_INTEGRITY, 0x00800000);
  VALUE (ISC_REQ_USE_HTTP_STYLE, 0x01000000);
  VALUE (ISC_REQ_UNVERIFIED_TARGET_NAME, 0x20000000);
  VALUE (ISC_REQ_CONFIDENTIALITY_ONLY, 0x40000000);

  VALUE (ISC_RET_DELEGATE, 0x00000001);
  VALUE (ISC_RET_MUTUAL_AUTH, 0x00000002);
  VALUE (ISC_RET_REPLAY_DETECT, 0x00000004);
  VALUE (ISC_RET_SEQUENCE_DETECT, 0x00000008);
  VALUE (ISC_RET_CONFIDENTIALITY, 0x00000010);
  VALUE (ISC_RET_USE_SESSION_KEY, 0x00000020);
  VALUE (ISC_RET_USED_COLLECTED_CREDS, 0x00000040);
  VALUE (ISC_RET_USED_SUPPLIED_CREDS, 0x00000080);
  VALUE (ISC_RET_ALLOCATED_MEMORY, 0x00000100);
  VALUE (ISC_RET_USED_DCE_STYLE, 0x00000200);
  VALUE (ISC_RET_DATAGRAM, 0x00000400);
  VALUE (ISC_RET_CONNECTION, 0x00000800);
  VALUE (ISC_RET_INTERMEDIATE_RETURN, 0x00001000);
  VALUE (ISC_RET_CALL_LEVEL, 0x00002000);
  VALUE (ISC_RET_EXTENDED_ERROR, 0x00004000);
  VALUE (ISC_RET_STREAM, 0x00008000);
  VALUE (ISC_RET_INTEGRITY, 0x00010000);
  VALUE (ISC_RET_IDENTIFY, 0x00020000);
  VALUE (ISC_RET_NULL_SESSION, 0x00040000);
  VALUE (ISC_RET_MANUAL_CRED_VALIDATION, 0x00080000);
  VALUE (ISC_RET_RESERVED1, 0x00100000);
  VALUE (ISC_RET_FRAGMENT_ONLY, 0x00200000);
  VALUE (ISC_RET_FORWARD_CREDENTIALS, 0x00400000);
  VALUE (ISC_RET_USED_HTTP_STYLE, 0x01000000);
  VALUE (ISC_RET_NO_ADDITIONAL_TOKEN, 0x02000000);
  VALUE (ISC_RET_REAUTHENTICATION, 0x08000000);
  VALUE (ISC_RET_CONFIDENTIALITY_ONLY, 0x40000000);

  VALUE (ASC_REQ_DELEGATE, 0x00000001);
  VALUE (ASC_REQ_MUTUAL_AUTH, 0x00000002);
  VALUE (ASC_REQ_REPLAY_DETECT, 0x00000004);
  VALUE (ASC_REQ_SEQUENCE_DETECT, 0x00000008);
  VALUE (ASC_REQ_CONFIDENTIALITY, 0x00000010);
  VALUE (ASC_REQ_USE_SESSION_KEY, 0x00000020);
  VALUE (ASC_REQ_SESSION_TICKET, 0x00000040);
  VALUE (ASC_REQ_ALLOCATE_MEMORY, 0x00000100);
  VALUE (ASC_REQ_USE_DCE_STYLE, 0x00000200);
  VALUE (ASC_REQ_DATAGRAM, 0x00000400);
  VALUE (ASC_REQ_CONNECTION, 0x00000800);
  VALUE (ASC_REQ_CALL_LEVEL, 0x00001000);
  VALUE (ASC_REQ_FRAGMENT_SUPPLIED, 0x00002000);
  VALUE (ASC_REQ_EXTENDED_ERROR, 0x00008000);
  VALUE (ASC_REQ_STREAM, 0x00010000);
  VALUE (ASC_REQ_INTEGRITY, 0x00020000);
  VALUE (ASC_REQ_LICENSING, 0x00040000);
  VALUE (ASC_REQ_IDENTIFY, 0x00080000);
  VALUE (ASC_REQ_ALLOW_NULL_SESSION, 0x00100000);
  VALUE (ASC_REQ_ALLOW_NON_USER_LOGONS, 0x00200000);
  VALUE (ASC_REQ_ALLOW_CONTEXT_REPLAY, 0x00400000);
  VALUE (ASC_REQ_FRAGMENT_TO_FIT, 0x00800000);
  VALUE (ASC_REQ_NO_TOKEN, 0x01000000);
  VALUE (ASC_REQ_PROXY_BINDINGS, 0x04000000);
  VALUE (ASC_REQ_ALLOW_MISSING_BINDINGS, 0x10000000);

  VALUE (ASC_RET_DELEGATE, 0x00000001);
  VALUE (ASC_RET_MUTUAL_AUTH, 0x00000002);
  VALUE (ASC_RET_REPLAY_DETECT, 0x00000004);
  VALUE (ASC_RET_SEQUENCE_DETECT, 0x00000008);
  VALUE (ASC_RET_CONFIDENTIALITY, 0x00000010);
  VALUE (ASC_RET_USE_SESSION_KEY, 0x00000020);
  VALUE (ASC_RET_SESSION_TICKET, 0x00000040);
  VALUE (ASC_RET_ALLOCATED_MEMORY, 0x00000100);
  VALUE (ASC_RET_USED_DCE_STYLE, 0x00000200);
  VALUE (ASC_RET_DATAGRAM, 0x00000400);
  VALUE (ASC_RET_CONNECTION, 0x00000800);
  VALUE (ASC_RET_CALL_LEVEL, 0x00002000);
  VALUE (ASC_RET_THIRD_LEG_FAILED, 0x00004000);
  VALUE (ASC_RET_EXTENDED_ERROR, 0x00008000);
  VALUE (ASC_RET_STREAM, 0x00010000);
  VALUE (ASC_RET_INTEGRITY, 0x00020000);
  VALUE (ASC_RET_LICENSING, 0x00040000);
  VALUE (ASC_RET_IDENTIFY, 0x00080000);
  VALUE (ASC_RET_NULL_SESSION, 0x00100000);
  VALUE (ASC_RET_ALLOW_NON_USER_LOGONS, 0x00200000);
  VALUE (ASC_RET_ALLOW_CONTEXT_REPLAY, 0x00400000);
  VALUE (ASC_RET_FRAGMENT_ONLY, 0x00800000);
  VALUE (ASC_RET_NO_TOKEN, 0x01000000);
  VALUE (ASC_RET_NO_ADDITIONAL_TOKEN, 0x02000000);

  VALUE (SECQOP_WRAP_NO_ENCRYPT, 0x80000001);
  VALUE (SECQOP_WRAP_OOB_DATA, 0x40000000);
}
END_TEST

START_TEST (test_context_attributes)
{
  VALUE (SECPKG_ATTR_SIZES, 0);
  VALUE (SECPKG_ATTR_NAMES, 1);
  VALUE (SECPKG_ATTR_LIFESPAN, 2);
  VALUE (SECPKG_ATTR_DCE_INFO, 3);
  VALUE (SECPKG_ATTR_STREAM_SIZES, 4);
  VALUE (SECPKG_ATTR_KEY_INFO, 5);
  VALUE (SECPKG_ATTR_AUTHORITY, 6);
  VALUE (SECPKG_ATTR_PROTO_INFO, 7);
  VALUE (SECPKG_ATTR_PASSWORD_EXPIRY, 8);
  VALUE (SECPKG_ATTR_SESSION_KEY, 9);
  VALUE (SECPKG_ATTR_PACKAGE_INFO, 10);
  VALUE (SECPKG_ATTR_USER_FLAGS, 11);
  VALUE (SECPKG_ATTR_NEGOTIATION_INFO, 12);
  VALUE (SECPKG_ATTR_NATIVE_NAMES, 13);
  VALUE (SECPKG_ATTR_FLAGS, 14);
  VALUE (SECPKG_ATTR_USE_VALIDATED, 15);
  VALUE (SECPKG_ATTR_CREDENTIAL_NAME, 16);
  VALUE (SECPKG_ATTR_TARGET_INFORMATION, 17);
  VALUE (SECPKG_ATTR_ACCESS_TOKEN, 18);
  VALUE (SECPKG_ATTR_TARGET, 19);
  VALUE (SECPKG_ATTR_AUTHENTICATION_ID, 20);
  VALUE (SECPKG_ATTR_LOGOFF_TIME, 21);
  VALUE (SECPKG_ATTR_NEGO_KEYS, 22);
  VALUE (SECPKG_ATTR_PROMPTING_NEEDED, 24);
  VALUE (SECPKG_ATTR_UNIQUE_BINDINGS, 25);
  VALUE (SECPKG_ATTR_ENDPOINT_BINDINGS, 26);
  VALUE (SECPKG_ATTR_CLIENT_SPECIFIED_TARGET, 27);
  VALUE (SECPKG_ATTR_LAST_CLIENT_TOKEN_STATUS, 30);
  VALUE (SECPKG_ATTR_NEGO_PKG_INFO, 31);
  VALUE (SECPKG_ATTR_NEGO_STATUS, 32);
  VALUE (SECPKG_ATTR_CONTEXT_DELETED, 33);
  VALUE (SECPKG_ATTR_DTLS_MTU, 34);
  VALUE (SECPKG_ATTR_DATAGRAM_SIZES, 4);
  VALUE (SECPKG_ATTR_APPLICATION_PROTOCOL, 35);
  VALUE (SECPKG_ATTR_NEGOTIATED_TLS_EXTENSIONS, 36);
  VALUE (SECPKG_ATTR_IS_LOOPBACK, 37);
  VALUE (SECPKG_CRED_ATTR_NAMES, 1);

  SIZE (SecPkgContext_Sizes, 16);
  OFFSET (SecPkgContext_Sizes, cbMaxToken, 0);
  OFFSET (SecPkgContext_Sizes, cbMaxSignature, 4);
  OFFSET (SecPkgContext_Sizes, cbBlockSize, 8);
  OFFSET (SecPkgContext_Sizes, cbSecurityTrailer, 12);

  SIZE (SecPkgContext_StreamSizes, 20);
  OFFSET (SecPkgContext_StreamSizes, cbHeader, 0);
  OFFSET (SecPkgContext_StreamSizes, cbTrailer, 4);
  OFFSET (SecPkgContext_StreamSizes, cbMaximumMessage, 8);
  OFFSET (SecPkgContext_StreamSizes, cBuffers, 12);
  OFFSET (SecPkgContext_StreamSizes, cbBlockSize, 16);
  SIZE (SecPkgContext_DatagramSizes, 20);

  SIZE (SecPkgContext_Lifespan, 16);
  OFFSET (SecPkgContext_Lifespan, tsStart, 0);
  OFFSET (SecPkgContext_Lifespan, tsExpiry, 8);

  SIZE (SecPkgContext_Flags, 4);
  OFFSET (SecPkgContext_Flags, Flags, 0);

  SIZE (SecPkgContext_PackageInfoW, 8);
  SIZE (SecPkgContext_PackageInfoA, 8);
  OFFSET (SecPkgContext_PackageInfoW, PackageInfo, 0);

  SIZE (SecPkgContext_Bindings, 16);
  OFFSET (SecPkgContext_Bindings, BindingsLength, 0);
  OFFSET (SecPkgContext_Bindings, Bindings, 8);
}
END_TEST

START_TEST (test_package_info)
{
  SIZE (SecPkgInfoW, 32);
  OFFSET (SecPkgInfoW, fCapabilities, 0);
  OFFSET (SecPkgInfoW, wVersion, 4);
  OFFSET (SecPkgInfoW, wRPCID, 6);
  OFFSET (SecPkgInfoW, cbMaxToken, 8);
  OFFSET (SecPkgInfoW, Name, 16);
  OFFSET (SecPkgInfoW, Comment, 24);

  SIZE (SecPkgInfoA, 32);
  OFFSET (SecPkgInfoA, fCapabilities, 0);
  OFFSET (SecPkgInfoA, wVersion, 4);
  OFFSET (SecPkgInfoA, wRPCID, 6);
  OFFSET (SecPkgInfoA, cbMaxToken, 8);
  OFFSET (SecPkgInfoA, Name, 16);
  OFFSET (SecPkgInfoA, Comment, 24);

  VALUE (SECPKG_FLAG_INTEGRITY, 0x00000001);
  VALUE (SECPKG_FLAG_PRIVACY, 0x00000002);
  VALUE (SECPKG_FLAG_TOKEN_ONLY, 0x00000004);
  VALUE (SECPKG_FLAG_DATAGRAM, 0x00000008);
  VALUE (SECPKG_FLAG_CONNECTION, 0x00000010);
  VALUE (SECPKG_FLAG_MULTI_REQUIRED, 0x00000020);
  VALUE (SECPKG_FLAG_CLIENT_ONLY, 0x00000040);
  VALUE (SECPKG_FLAG_EXTENDED_ERROR, 0x00000080);
  VALUE (SECPKG_FLAG_IMPERSONATION, 0x00000100);
  VALUE (SECPKG_FLAG_ACCEPT_WIN32_NAME, 0x00000200);
  VALUE (SECPKG_FLAG_STREAM, 0x00000400);
  VALUE (SECPKG_FLAG_NEGOTIABLE, 0x00000800);
  VALUE (SECPKG_FLAG_GSS_COMPATIBLE, 0x00001000);
  VALUE (SECPKG_FLAG_LOGON, 0x00002000);
  VALUE (SECPKG_FLAG_ASCII_BUFFERS, 0x00004000);
  VALUE (SECPKG_FLAG_FRAGMENT, 0x00008000);
  VALUE (SECPKG_FLAG_MUTUAL_AUTH, 0x00010000);
  VALUE (SECPKG_FLAG_DELEGATION, 0x00020000);
  VALUE (SECPKG_FLAG_READONLY_WITH_CHECKSUM, 0x00040000);
  VALUE (SECPKG_FLAG_RESTRICTED_TOKENS, 0x00080000);
  VALUE (SECPKG_FLAG_NEGO_EXTENDER, 0x00100000);
  VALUE (SECPKG_FLAG_NEGOTIABLE2, 0x00200000);
  VALUE (SECPKG_FLAG_APPCONTAINER_PASSTHROUGH, 0x00400000);
  VALUE (SECPKG_FLAG_APPCONTAINER_CHECKS, 0x00800000);
  VALUE (SECPKG_ID_NONE, 0xFFFF);

  /* Without UNICODE the unsuffixed names map to the A forms. */
  CHECK_TYPE (SecPkgInfo, SecPkgInfoA);
  CHECK_TYPE (SecurityFunctionTable, SecurityFunctionTableA);
}
END_TEST

START_TEST (test_function_table)
{
  SIZE (SecurityFunctionTableW, 256);
  OFFSET (SecurityFunctionTableW, dwVersion, 0);
  OFFSET (SecurityFunctionTableW, EnumerateSecurityPackagesW, 8);
  OFFSET (SecurityFunctionTableW, QueryCredentialsAttributesW, 16);
  OFFSET (SecurityFunctionTableW, AcquireCredentialsHandleW, 24);
  OFFSET (SecurityFunctionTableW, FreeCredentialsHandle, 32);
  OFFSET (SecurityFunctionTableW, Reserved2, 40);
  OFFSET (SecurityFunctionTableW, InitializeSecurityContextW, 48);
  OFFSET (SecurityFunctionTableW, AcceptSecurityContext, 56);
  OFFSET (SecurityFunctionTableW, CompleteAuthToken, 64);
  OFFSET (SecurityFunctionTableW, DeleteSecurityContext, 72);
  OFFSET (SecurityFunctionTableW, ApplyControlToken, 80);
  OFFSET (SecurityFunctionTableW, QueryContextAttributesW, 88);
  OFFSET (SecurityFunctionTableW, ImpersonateSecurityContext, 96);
  OFFSET (SecurityFunctionTableW, RevertSecurityContext, 104);
  OFFSET (SecurityFunctionTableW, MakeSignature, 112);
  OFFSET (SecurityFunctionTableW, VerifySignature, 120);
  OFFSET (SecurityFunctionTableW, FreeContextBuffer, 128);
  OFFSET (SecurityFunctionTableW, QuerySecurityPackageInfoW, 136);
  OFFSET (SecurityFunctionTableW, Reserved3, 144);
  OFFSET (SecurityFunctionTableW, Reserved4, 152);
  OFFSET (SecurityFunctionTableW, ExportSecurityContext, 160);
  OFFSET (SecurityFunctionTableW, ImportSecurityContextW, 168);
  OFFSET (SecurityFunctionTableW, AddCredentialsW, 176);
  OFFSET (SecurityFunctionTableW, Reserved8, 184);
  OFFSET (SecurityFunctionTableW, QuerySecurityContextToken, 192);
  OFFSET (SecurityFunctionTableW, EncryptMessage, 200);
  OFFSET (SecurityFunctionTableW, DecryptMessage, 208);
  OFFSET (SecurityFunctionTableW, SetContextAttributesW, 216);
  OFFSET (SecurityFunctionTableW, SetCredentialsAttributesW, 224);
  OFFSET (SecurityFunctionTableW, ChangeAccountPasswordW, 232);
  OFFSET (SecurityFunctionTableW, QueryContextAttributesExW, 240);
  OFFSET (SecurityFunctionTableW, QueryCredentialsAttributesExW, 248);

  SIZE (SecurityFunctionTableA, 256);
  OFFSET (SecurityFunctionTableA, dwVersion, 0);
  OFFSET (SecurityFunctionTableA, EnumerateSecurityPackagesA, 8);
  OFFSET (SecurityFunctionTableA, QueryCredentialsAttributesA, 16);
  OFFSET (SecurityFunctionTableA, AcquireCredentialsHandleA, 24);
  OFFSET (SecurityFunctionTableA, FreeCredentialsHandle, 32);
  OFFSET (SecurityFunctionTableA, FreeCredentialHandle, 32);  /* old name */
  OFFSET (SecurityFunctionTableA, InitializeSecurityContextA, 48);
  OFFSET (SecurityFunctionTableA, AcceptSecurityContext, 56);
  OFFSET (SecurityFunctionTableA, DeleteSecurityContext, 72);
  OFFSET (SecurityFunctionTableA, ApplyControlToken, 80);
  OFFSET (SecurityFunctionTableA, QueryContextAttributesA, 88);
  OFFSET (SecurityFunctionTableA, FreeContextBuffer, 128);
  OFFSET (SecurityFunctionTableA, QuerySecurityPackageInfoA, 136);
  OFFSET (SecurityFunctionTableA, EncryptMessage, 200);
  OFFSET (SecurityFunctionTableA, DecryptMessage, 208);
  OFFSET (SecurityFunctionTableA, ChangeAccountPasswordA, 232);
  OFFSET (SecurityFunctionTableA, QueryCredentialsAttributesExA, 248);

  VALUE (SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION, 1);
  VALUE (SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_2, 2);
  VALUE (SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_3, 3);
  VALUE (SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_4, 4);
  VALUE (SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_5, 5);
  ck_assert_str_eq (SECURITY_ENTRYPOINT_ANSIW, "InitSecurityInterfaceW");
  ck_assert_str_eq (SECURITY_ENTRYPOINT_ANSIA, "InitSecurityInterfaceA");

  /* Every function libsspi declares fits its slot in the table. */
#define SLOT(table, member, fn) \
  CHECK_TYPE (__typeof__ (((table *) NULL)->member), __typeof__ (&fn))
  SLOT (SecurityFunctionTableW, EnumerateSecurityPackagesW, EnumerateSecurityPackagesW);
  SLOT (SecurityFunctionTableW, QueryCredentialsAttributesW, QueryCredentialsAttributesW);
  SLOT (SecurityFunctionTableW, AcquireCredentialsHandleW, AcquireCredentialsHandleW);
  SLOT (SecurityFunctionTableW, FreeCredentialsHandle, FreeCredentialsHandle);
  SLOT (SecurityFunctionTableW, InitializeSecurityContextW, InitializeSecurityContextW);
  SLOT (SecurityFunctionTableW, AcceptSecurityContext, AcceptSecurityContext);
  SLOT (SecurityFunctionTableW, DeleteSecurityContext, DeleteSecurityContext);
  SLOT (SecurityFunctionTableW, ApplyControlToken, ApplyControlToken);
  SLOT (SecurityFunctionTableW, QueryContextAttributesW, QueryContextAttributesW);
  SLOT (SecurityFunctionTableW, FreeContextBuffer, FreeContextBuffer);
  SLOT (SecurityFunctionTableW, QuerySecurityPackageInfoW, QuerySecurityPackageInfoW);
  SLOT (SecurityFunctionTableW, EncryptMessage, EncryptMessage);
  SLOT (SecurityFunctionTableW, DecryptMessage, DecryptMessage);
  SLOT (SecurityFunctionTableA, EnumerateSecurityPackagesA, EnumerateSecurityPackagesA);
  SLOT (SecurityFunctionTableA, QueryCredentialsAttributesA, QueryCredentialsAttributesA);
  SLOT (SecurityFunctionTableA, AcquireCredentialsHandleA, AcquireCredentialsHandleA);
  SLOT (SecurityFunctionTableA, InitializeSecurityContextA, InitializeSecurityContextA);
  SLOT (SecurityFunctionTableA, QueryContextAttributesA, QueryContextAttributesA);
  SLOT (SecurityFunctionTableA, QuerySecurityPackageInfoA, QuerySecurityPackageInfoA);
#undef SLOT
}
END_TEST

/* Prototypes, spelled out with fixed-width types.  __typeof__ does not
 * evaluate its operand, so nothing here needs libsspi at link time. */
typedef SecHandle *H;
typedef SecBufferDesc *D;
typedef SECURITY_INTEGER *T;
typedef void (*GetKeyFn) (void *, void *, uint32_t, void **, int32_t *);
typedef void (*NotifyFn) (SspiAsyncContext *, void *);

START_TEST (test_prototypes)
{
  CHECK_TYPE (SEC_GET_KEY_FN, GetKeyFn);
  CHECK_TYPE (SspiAsyncNotifyCallback, NotifyFn);

  /* Asynchronous API */
  CHECK_TYPE (__typeof__ (&SspiCreateAsyncContext),
              SspiAsyncContext *(*) (void));
  CHECK_TYPE (__typeof__ (&SspiFreeAsyncContext),
              void (*) (SspiAsyncContext *));
  CHECK_TYPE (__typeof__ (&SspiReinitAsyncContext),
              int32_t (*) (SspiAsyncContext *));
  CHECK_TYPE (__typeof__ (&SspiSetAsyncNotifyCallback),
              int32_t (*) (SspiAsyncContext *, NotifyFn, void *));
  CHECK_TYPE (__typeof__ (&SspiAsyncContextRequiresNotify),
              uint8_t (*) (SspiAsyncContext *));
  CHECK_TYPE (__typeof__ (&SspiGetAsyncCallStatus),
              int32_t (*) (SspiAsyncContext *));
  CHECK_TYPE (__typeof__ (&SspiAcquireCredentialsHandleAsyncW),
              int32_t (*) (SspiAsyncContext *, uint16_t *, uint16_t *,
                           uint32_t, void *, void *, GetKeyFn, void *, H, T));
  CHECK_TYPE (__typeof__ (&SspiAcquireCredentialsHandleAsyncA),
              int32_t (*) (SspiAsyncContext *, char *, char *,
                           uint32_t, void *, void *, GetKeyFn, void *, H, T));
  CHECK_TYPE (__typeof__ (&SspiInitializeSecurityContextAsyncW),
              int32_t (*) (SspiAsyncContext *, H, H, uint16_t *, uint32_t,
                           uint32_t, uint32_t, D, uint32_t, H, D, uint32_t *,
                           T));
  CHECK_TYPE (__typeof__ (&SspiInitializeSecurityContextAsyncA),
              int32_t (*) (SspiAsyncContext *, H, H, char *, uint32_t,
                           uint32_t, uint32_t, D, uint32_t, H, D, uint32_t *,
                           T));
  CHECK_TYPE (__typeof__ (&SspiAcceptSecurityContextAsync),
              int32_t (*) (SspiAsyncContext *, H, H, D, uint32_t, uint32_t,
                           H, D, uint32_t *, T));
  CHECK_TYPE (__typeof__ (&SspiFreeCredentialsHandleAsync),
              int32_t (*) (SspiAsyncContext *, H));
  CHECK_TYPE (__typeof__ (&SspiDeleteSecurityContextAsync),
              int32_t (*) (SspiAsyncContext *, H));

  /* Without UNICODE, the generic async names map to the A forms. */
  CHECK_TYPE (__typeof__ (&SspiAcquireCredentialsHandleAsync),
              __typeof__ (&SspiAcquireCredentialsHandleAsyncA));
  CHECK_TYPE (__typeof__ (&SspiInitializeSecurityContextAsync),
              __typeof__ (&SspiInitializeSecurityContextAsyncA));

  /* Synchronous API */
  CHECK_TYPE (__typeof__ (&AcquireCredentialsHandleW),
              int32_t (*) (uint16_t *, uint16_t *, uint32_t, void *, void *,
                           GetKeyFn, void *, H, T));
  CHECK_TYPE (__typeof__ (&AcquireCredentialsHandleA),
              int32_t (*) (char *, char *, uint32_t, void *, void *,
                           GetKeyFn, void *, H, T));
  CHECK_TYPE (__typeof__ (&InitializeSecurityContextW),
              int32_t (*) (H, H, uint16_t *, uint32_t, uint32_t, uint32_t, D,
                           uint32_t, H, D, uint32_t *, T));
  CHECK_TYPE (__typeof__ (&InitializeSecurityContextA),
              int32_t (*) (H, H, char *, uint32_t, uint32_t, uint32_t, D,
                           uint32_t, H, D, uint32_t *, T));
  CHECK_TYPE (__typeof__ (&AcceptSecurityContext),
              int32_t (*) (H, H, D, uint32_t, uint32_t, H, D, uint32_t *, T));
  CHECK_TYPE (__typeof__ (&DeleteSecurityContext), int32_t (*) (H));
  CHECK_TYPE (__typeof__ (&FreeCredentialsHandle), int32_t (*) (H));
  CHECK_TYPE (__typeof__ (&FreeContextBuffer), int32_t (*) (void *));
  CHECK_TYPE (__typeof__ (&EncryptMessage),
              int32_t (*) (H, uint32_t, D, uint32_t));
  CHECK_TYPE (__typeof__ (&DecryptMessage),
              int32_t (*) (H, D, uint32_t, uint32_t *));
  CHECK_TYPE (__typeof__ (&QueryContextAttributesW),
              int32_t (*) (H, uint32_t, void *));
  CHECK_TYPE (__typeof__ (&QueryContextAttributesA),
              int32_t (*) (H, uint32_t, void *));
  CHECK_TYPE (__typeof__ (&QueryCredentialsAttributesW),
              int32_t (*) (H, uint32_t, void *));
  CHECK_TYPE (__typeof__ (&QueryCredentialsAttributesA),
              int32_t (*) (H, uint32_t, void *));
  CHECK_TYPE (__typeof__ (&ApplyControlToken), int32_t (*) (H, D));
  CHECK_TYPE (__typeof__ (&QuerySecurityPackageInfoW),
              int32_t (*) (uint16_t *, SecPkgInfoW **));
  CHECK_TYPE (__typeof__ (&QuerySecurityPackageInfoA),
              int32_t (*) (char *, SecPkgInfoA **));
  CHECK_TYPE (__typeof__ (&EnumerateSecurityPackagesW),
              int32_t (*) (uint32_t *, SecPkgInfoW **));
  CHECK_TYPE (__typeof__ (&EnumerateSecurityPackagesA),
              int32_t (*) (uint32_t *, SecPkgInfoA **));
  CHECK_TYPE (__typeof__ (&InitSecurityInterfaceW),
              SecurityFunctionTableW *(*) (void));
  CHECK_TYPE (__typeof__ (&InitSecurityInterfaceA),
              SecurityFunctionTableA *(*) (void));
  CHECK_TYPE (__typeof__ (&CertFreeCertificateContext),
              int32_t (*) (const CERT_CONTEXT *));

  CHECK_TYPE (__typeof__ (&AcquireCredentialsHandle),
              __typeof__ (&AcquireCredentialsHandleA));
  CHECK_TYPE (__typeof__ (&InitializeSecurityContext),
              __typeof__ (&InitializeSecurityContextA));
}
END_TEST

/* ------------------------------------------------------------------------
 * schannel.h
 * ------------------------------------------------------------------------ */

static void
check_utf16 (const WCHAR *w, const char *ascii)
{
  size_t i;

  for (i = 0; ascii[i] != '\0'; i++)
    ck_assert_uint_eq (w[i], (unsigned char) ascii[i]);
  ck_assert_uint_eq (w[i], 0);
}

START_TEST (test_schannel_names)
{
  LPWSTR as_lpwstr = UNISP_NAME_W;  /* usable where LPWSTR is expected */

  ck_assert_str_eq (UNISP_NAME_A, "Microsoft Unified Security Protocol Provider");
  ck_assert_str_eq (SCHANNEL_NAME_A, "Schannel");
  check_utf16 (as_lpwstr, "Microsoft Unified Security Protocol Provider");
  check_utf16 (SCHANNEL_NAME_W, "Schannel");
  ck_assert_str_eq (UNISP_NAME, UNISP_NAME_A);      /* no UNICODE here */
  ck_assert_str_eq (SCHANNEL_NAME, SCHANNEL_NAME_A);
  VALUE (UNISP_RPC_ID, 14);
}
END_TEST

START_TEST (test_schannel_wincrypt)
{
  SIZE (UNICODE_STRING, 16);
  OFFSET (UNICODE_STRING, Length, 0);
  OFFSET (UNICODE_STRING, MaximumLength, 2);
  OFFSET (UNICODE_STRING, Buffer, 8);

  SIZE (CERT_NAME_BLOB, 16);
  OFFSET (CERT_NAME_BLOB, cbData, 0);
  OFFSET (CERT_NAME_BLOB, pbData, 8);

  SIZE (HCERTSTORE, 8);
  SIZE (CERT_CONTEXT, 40);
  OFFSET (CERT_CONTEXT, dwCertEncodingType, 0);
  OFFSET (CERT_CONTEXT, pbCertEncoded, 8);
  OFFSET (CERT_CONTEXT, cbCertEncoded, 16);
  OFFSET (CERT_CONTEXT, pCertInfo, 24);
  OFFSET (CERT_CONTEXT, hCertStore, 32);
  CHECK_TYPE (PCCERT_CONTEXT, const CERT_CONTEXT *);

  VALUE (X509_ASN_ENCODING, 0x00000001);
  VALUE (PKCS_7_ASN_ENCODING, 0x00010000);

  VALUE (CALG_NULLCIPHER, 0x6000);
  VALUE (CALG_3DES, 0x6603);
  VALUE (CALG_AES_128, 0x660e);
  VALUE (CALG_AES_192, 0x660f);
  VALUE (CALG_AES_256, 0x6610);
  VALUE (CALG_AES, 0x6611);
  VALUE (CALG_MD5, 0x8003);
  VALUE (CALG_SHA1, 0x8004);
  VALUE (CALG_SHA_256, 0x800c);
  VALUE (CALG_SHA_384, 0x800d);
  VALUE (CALG_SHA_512, 0x800e);
  VALUE (CALG_RSA_SIGN, 0x2400);
  VALUE (CALG_DSS_SIGN, 0x2200);
  VALUE (CALG_ECDSA, 0x2203);
  VALUE (CALG_RSA_KEYX, 0xa400);
  VALUE (CALG_DH_EPHEM, 0xaa02);
  VALUE (CALG_ECDH, 0xaa05);
  VALUE (CALG_ECDHE, 0xae06);
}
END_TEST

START_TEST (test_schannel_cred)
{
  VALUE (SCH_CRED_V1, 1);
  VALUE (SCH_CRED_V2, 2);
  VALUE (SCH_CRED_VERSION, 2);
  VALUE (SCH_CRED_V3, 3);
  VALUE (SCHANNEL_CRED_VERSION, 4);
  VALUE (SCH_CREDENTIALS_VERSION, 5);
  VALUE (SCH_CRED_FORMAT_CERT_CONTEXT, 0);
  VALUE (SCH_CRED_FORMAT_CERT_HASH, 1);
  VALUE (SCH_CRED_FORMAT_CERT_HASH_STORE, 2);
  VALUE (SCH_CRED_MAX_SUPPORTED_ALGS, 256);
  VALUE (SCH_CRED_MAX_SUPPORTED_CERTS, 100);
  VALUE (TLS_PARAMS_OPTIONAL, 1);

  SIZE (SCHANNEL_CRED, 80);
  OFFSET (SCHANNEL_CRED, dwVersion, 0);
  OFFSET (SCHANNEL_CRED, cCreds, 4);
  OFFSET (SCHANNEL_CRED, paCred, 8);
  OFFSET (SCHANNEL_CRED, hRootStore, 16);
  OFFSET (SCHANNEL_CRED, cMappers, 24);
  OFFSET (SCHANNEL_CRED, aphMappers, 32);
  OFFSET (SCHANNEL_CRED, cSupportedAlgs, 40);
  OFFSET (SCHANNEL_CRED, palgSupportedAlgs, 48);
  OFFSET (SCHANNEL_CRED, grbitEnabledProtocols, 56);
  OFFSET (SCHANNEL_CRED, dwMinimumCipherStrength, 60);
  OFFSET (SCHANNEL_CRED, dwMaximumCipherStrength, 64);
  OFFSET (SCHANNEL_CRED, dwSessionLifespan, 68);
  OFFSET (SCHANNEL_CRED, dwFlags, 72);
  OFFSET (SCHANNEL_CRED, dwCredFormat, 76);

  SIZE (SCH_CREDENTIALS, 72);
  OFFSET (SCH_CREDENTIALS, dwVersion, 0);
  OFFSET (SCH_CREDENTIALS, dwCredFormat, 4);
  OFFSET (SCH_CREDENTIALS, cCreds, 8);
  OFFSET (SCH_CREDENTIALS, paCred, 16);
  OFFSET (SCH_CREDENTIALS, hRootStore, 24);
  OFFSET (SCH_CREDENTIALS, cMappers, 32);
  OFFSET (SCH_CREDENTIALS, aphMappers, 40);
  OFFSET (SCH_CREDENTIALS, dwSessionLifespan, 48);
  OFFSET (SCH_CREDENTIALS, dwFlags, 52);
  OFFSET (SCH_CREDENTIALS, cTlsParameters, 56);
  OFFSET (SCH_CREDENTIALS, pTlsParameters, 64);

  SIZE (TLS_PARAMETERS, 40);
  OFFSET (TLS_PARAMETERS, cAlpnIds, 0);
  OFFSET (TLS_PARAMETERS, rgstrAlpnIds, 8);
  OFFSET (TLS_PARAMETERS, grbitDisabledProtocols, 16);
  OFFSET (TLS_PARAMETERS, cDisabledCrypto, 20);
  OFFSET (TLS_PARAMETERS, pDisabledCrypto, 24);
  OFFSET (TLS_PARAMETERS, dwFlags, 32);

  SIZE (eTlsAlgorithmUsage, 4);
  VALUE (TlsParametersCngAlgUsageKeyExchange, 0);
  VALUE (TlsParametersCngAlgUsageSignature, 1);
  VALUE (TlsParametersCngAlgUsageCipher, 2);
  VALUE (TlsParametersCngAlgUsageDigest, 3);
  VALUE (TlsParametersCngAlgUsageCertSig, 4);

  SIZE (CRYPTO_SETTINGS, 48);
  OFFSET (CRYPTO_SETTINGS, eAlgorithmUsage, 0);
  OFFSET (CRYPTO_SETTINGS, strCngAlgId, 8);
  OFFSET (CRYPTO_SETTINGS, cChainingModes, 24);
  OFFSET (CRYPTO_SETTINGS, rgstrChainingModes, 32);
  OFFSET (CRYPTO_SETTINGS, dwMinBitLength, 40);
  OFFSET (CRYPTO_SETTINGS, dwMaxBitLength, 44);

  VALUE (SCH_CRED_NO_SYSTEM_MAPPER, 0x00000002);
  VALUE (SCH_CRED_NO_SERVERNAME_CHECK, 0x00000004);
  VALUE (SCH_CRED_MANUAL_CRED_VALIDATION, 0x00000008);
  VALUE (SCH_CRED_NO_DEFAULT_CREDS, 0x00000010);
  VALUE (SCH_CRED_AUTO_CRED_VALIDATION, 0x00000020);
  VALUE (SCH_CRED_USE_DEFAULT_CREDS, 0x00000040);
  VALUE (SCH_CRED_DISABLE_RECONNECTS, 0x00000080);
  VALUE (SCH_CRED_REVOCATION_CHECK_END_CERT, 0x00000100);
  VALUE (SCH_CRED_REVOCATION_CHECK_CHAIN, 0x00000200);
  VALUE (SCH_CRED_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT, 0x00000400);
  VALUE (SCH_CRED_IGNORE_NO_REVOCATION_CHECK, 0x00000800);
  VALUE (SCH_CRED_IGNORE_REVOCATION_OFFLINE, 0x00001000);
  VALUE (SCH_CRED_RESTRICTED_ROOTS, 0x00002000);
  VALUE (SCH_CRED_REVOCATION_CHECK_CACHE_ONLY, 0x00004000);
  VALUE (SCH_CRED_CACHE_ONLY_URL_RETRIEVAL, 0x00008000);
  VALUE (SCH_CRED_MEMORY_STORE_CERT, 0x00010000);
  VALUE (SCH_CRED_CACHE_ONLY_URL_RETRIEVAL_ON_CREATE, 0x00020000);
  VALUE (SCH_SEND_ROOT_CERT, 0x00040000);
  VALUE (SCH_CRED_SNI_CREDENTIAL, 0x00080000);
  VALUE (SCH_CRED_SNI_ENABLE_OCSP, 0x00100000);
  VALUE (SCH_SEND_AUX_RECORD, 0x00200000);
  VALUE (SCH_USE_STRONG_CRYPTO, 0x00400000);
  VALUE (SCH_USE_PRESHAREDKEY_ONLY, 0x00800000);
  VALUE (SCH_USE_DTLS_ONLY, 0x01000000);
  VALUE (SCH_ALLOW_NULL_ENCRYPTION, 0x02000000);
  VALUE (SCH_CRED_DEFERRED_CRED_VALIDATION, 0x04000000);
}
END_TEST

START_TEST (test_schannel_protocols)
{
  VALUE (SP_PROT_NONE, 0x00000000);
  VALUE (SP_PROT_ALL, 0xffffffff);
  VALUE (SP_PROT_PCT1_SERVER, 0x00000001);
  VALUE (SP_PROT_PCT1_CLIENT, 0x00000002);
  VALUE (SP_PROT_PCT1, 0x00000003);
  VALUE (SP_PROT_SSL2_SERVER, 0x00000004);
  VALUE (SP_PROT_SSL2_CLIENT, 0x00000008);
  VALUE (SP_PROT_SSL2, 0x0000000c);
  VALUE (SP_PROT_SSL3_SERVER, 0x00000010);
  VALUE (SP_PROT_SSL3_CLIENT, 0x00000020);
  VALUE (SP_PROT_SSL3, 0x00000030);
  VALUE (SP_PROT_TLS1_SERVER, 0x00000040);
  VALUE (SP_PROT_TLS1_CLIENT, 0x00000080);
  VALUE (SP_PROT_TLS1, 0x000000c0);
  VALUE (SP_PROT_TLS1_0_SERVER, 0x00000040);
  VALUE (SP_PROT_TLS1_0_CLIENT, 0x00000080);
  VALUE (SP_PROT_TLS1_0, 0x000000c0);
  VALUE (SP_PROT_TLS1_1_SERVER, 0x00000100);
  VALUE (SP_PROT_TLS1_1_CLIENT, 0x00000200);
  VALUE (SP_PROT_TLS1_1, 0x00000300);
  VALUE (SP_PROT_TLS1_2_SERVER, 0x00000400);
  VALUE (SP_PROT_TLS1_2_CLIENT, 0x00000800);
  VALUE (SP_PROT_TLS1_2, 0x00000c00);
  VALUE (SP_PROT_TLS1_3_SERVER, 0x00001000);
  VALUE (SP_PROT_TLS1_3_CLIENT, 0x00002000);
  VALUE (SP_PROT_TLS1_3, 0x00003000);
  VALUE (SP_PROT_DTLS_SERVER, 0x00010000);
  VALUE (SP_PROT_DTLS_CLIENT, 0x00020000);
  VALUE (SP_PROT_DTLS, 0x00030000);
  VALUE (SP_PROT_DTLS1_0_SERVER, 0x00010000);
  VALUE (SP_PROT_DTLS1_0_CLIENT, 0x00020000);
  VALUE (SP_PROT_DTLS1_0, 0x00030000);
  VALUE (SP_PROT_DTLS1_2_SERVER, 0x00040000);
  VALUE (SP_PROT_DTLS1_2_CLIENT, 0x00080000);
  VALUE (SP_PROT_DTLS1_2, 0x000c0000);
  VALUE (SP_PROT_UNI_SERVER, 0x40000000);
  VALUE (SP_PROT_UNI_CLIENT, 0x80000000);
  VALUE (SP_PROT_UNI, 0xc0000000);
  VALUE (SP_PROT_TLS1_X_SERVER, 0x00001540);
  VALUE (SP_PROT_TLS1_X_CLIENT, 0x00002a80);
  VALUE (SP_PROT_TLS1_X, 0x00003fc0);
  VALUE (SP_PROT_TLS1_1PLUS_SERVER, 0x00001500);
  VALUE (SP_PROT_TLS1_1PLUS_CLIENT, 0x00002a00);
  VALUE (SP_PROT_TLS1_1PLUS, 0x00003f00);
  VALUE (SP_PROT_DTLS1_X_SERVER, 0x00050000);
  VALUE (SP_PROT_DTLS1_X_CLIENT, 0x000a0000);
  VALUE (SP_PROT_DTLS1_X, 0x000f0000);
  VALUE (SP_PROT_SSL3TLS1_CLIENTS, 0x000000a0);
  VALUE (SP_PROT_SSL3TLS1_SERVERS, 0x00000050);
  VALUE (SP_PROT_SSL3TLS1, 0x000000f0);
  VALUE (SP_PROT_CLIENTS, 0x800000aa);
  VALUE (SP_PROT_SERVERS, 0x40000055);
}
END_TEST

START_TEST (test_schannel_attributes)
{
  VALUE (SECPKG_ATTR_ISSUER_LIST, 0x50);
  VALUE (SECPKG_ATTR_REMOTE_CRED, 0x51);
  VALUE (SECPKG_ATTR_LOCAL_CRED, 0x52);
  VALUE (SECPKG_ATTR_REMOTE_CERT_CONTEXT, 0x53);
  VALUE (SECPKG_ATTR_LOCAL_CERT_CONTEXT, 0x54);
  VALUE (SECPKG_ATTR_ROOT_STORE, 0x55);
  VALUE (SECPKG_ATTR_SUPPORTED_ALGS, 0x56);
  VALUE (SECPKG_ATTR_CIPHER_STRENGTHS, 0x57);
  VALUE (SECPKG_ATTR_SUPPORTED_PROTOCOLS, 0x58);
  VALUE (SECPKG_ATTR_ISSUER_LIST_EX, 0x59);
  VALUE (SECPKG_ATTR_CONNECTION_INFO, 0x5a);
  VALUE (SECPKG_ATTR_EAP_KEY_BLOCK, 0x5b);
  VALUE (SECPKG_ATTR_MAPPED_CRED_ATTR, 0x5c);
  VALUE (SECPKG_ATTR_SESSION_INFO, 0x5d);
  VALUE (SECPKG_ATTR_APP_DATA, 0x5e);
  VALUE (SECPKG_ATTR_CIPHER_INFO, 0x64);

  SIZE (SecPkgContext_ConnectionInfo, 28);
  OFFSET (SecPkgContext_ConnectionInfo, dwProtocol, 0);
  OFFSET (SecPkgContext_ConnectionInfo, aiCipher, 4);
  OFFSET (SecPkgContext_ConnectionInfo, dwCipherStrength, 8);
  OFFSET (SecPkgContext_ConnectionInfo, aiHash, 12);
  OFFSET (SecPkgContext_ConnectionInfo, dwHashStrength, 16);
  OFFSET (SecPkgContext_ConnectionInfo, aiExch, 20);
  OFFSET (SecPkgContext_ConnectionInfo, dwExchStrength, 24);

  VALUE (SECPKGCONTEXT_CIPHERINFO_V1, 1);
  SIZE (SecPkgContext_CipherInfo, 680);
  OFFSET (SecPkgContext_CipherInfo, dwVersion, 0);
  OFFSET (SecPkgContext_CipherInfo, dwProtocol, 4);
  OFFSET (SecPkgContext_CipherInfo, dwCipherSuite, 8);
  OFFSET (SecPkgContext_CipherInfo, dwBaseCipherSuite, 12);
  OFFSET (SecPkgContext_CipherInfo, szCipherSuite, 16);
  OFFSET (SecPkgContext_CipherInfo, szCipher, 144);
  OFFSET (SecPkgContext_CipherInfo, dwCipherLen, 272);
  OFFSET (SecPkgContext_CipherInfo, dwCipherBlockLen, 276);
  OFFSET (SecPkgContext_CipherInfo, szHash, 280);
  OFFSET (SecPkgContext_CipherInfo, dwHashLen, 408);
  OFFSET (SecPkgContext_CipherInfo, szExchange, 412);
  OFFSET (SecPkgContext_CipherInfo, dwMinExchangeLen, 540);
  OFFSET (SecPkgContext_CipherInfo, dwMaxExchangeLen, 544);
  OFFSET (SecPkgContext_CipherInfo, szCertificate, 548);
  OFFSET (SecPkgContext_CipherInfo, dwKeyType, 676);

  VALUE (SSL_SESSION_RECONNECT, 1);
  SIZE (SecPkgContext_SessionInfo, 40);
  OFFSET (SecPkgContext_SessionInfo, dwFlags, 0);
  OFFSET (SecPkgContext_SessionInfo, cbSessionId, 4);
  OFFSET (SecPkgContext_SessionInfo, rgbSessionId, 8);

  SIZE (SecPkgContext_IssuerListInfoEx, 16);
  OFFSET (SecPkgContext_IssuerListInfoEx, aIssuers, 0);
  OFFSET (SecPkgContext_IssuerListInfoEx, cIssuers, 8);

  SIZE (SecPkgCred_SupportedAlgs, 16);
  OFFSET (SecPkgCred_SupportedAlgs, cSupportedAlgs, 0);
  OFFSET (SecPkgCred_SupportedAlgs, palgSupportedAlgs, 8);

  SIZE (SecPkgCred_CipherStrengths, 8);
  OFFSET (SecPkgCred_CipherStrengths, dwMinimumCipherStrength, 0);
  OFFSET (SecPkgCred_CipherStrengths, dwMaximumCipherStrength, 4);

  SIZE (SecPkgCred_SupportedProtocols, 4);
  OFFSET (SecPkgCred_SupportedProtocols, grbitProtocol, 0);
}
END_TEST

START_TEST (test_schannel_tokens)
{
  VALUE (SCHANNEL_RENEGOTIATE, 0);
  VALUE (SCHANNEL_SHUTDOWN, 1);
  VALUE (SCHANNEL_ALERT, 2);
  VALUE (SCHANNEL_SESSION, 3);

  SIZE (SCHANNEL_ALERT_TOKEN, 12);
  OFFSET (SCHANNEL_ALERT_TOKEN, dwTokenType, 0);
  OFFSET (SCHANNEL_ALERT_TOKEN, dwAlertType, 4);
  OFFSET (SCHANNEL_ALERT_TOKEN, dwAlertNumber, 8);

  SIZE (SCHANNEL_SESSION_TOKEN, 8);
  OFFSET (SCHANNEL_SESSION_TOKEN, dwTokenType, 0);
  OFFSET (SCHANNEL_SESSION_TOKEN, dwFlags, 4);
  VALUE (SSL_SESSION_ENABLE_RECONNECTS, 1);
  VALUE (SSL_SESSION_DISABLE_RECONNECTS, 2);

  VALUE (TLS1_ALERT_WARNING, 1);
  VALUE (TLS1_ALERT_FATAL, 2);
  VALUE (TLS1_ALERT_CLOSE_NOTIFY, 0);
  VALUE (TLS1_ALERT_UNEXPECTED_MESSAGE, 10);
  VALUE (TLS1_ALERT_BAD_RECORD_MAC, 20);
  VALUE (TLS1_ALERT_DECRYPTION_FAILED, 21);
  VALUE (TLS1_ALERT_RECORD_OVERFLOW, 22);
  VALUE (TLS1_ALERT_DECOMPRESSION_FAIL, 30);
  VALUE (TLS1_ALERT_HANDSHAKE_FAILURE, 40);
  VALUE (TLS1_ALERT_BAD_CERTIFICATE, 42);
  VALUE (TLS1_ALERT_UNSUPPORTED_CERT, 43);
  VALUE (TLS1_ALERT_CERTIFICATE_REVOKED, 44);
  VALUE (TLS1_ALERT_CERTIFICATE_EXPIRED, 45);
  VALUE (TLS1_ALERT_CERTIFICATE_UNKNOWN, 46);
  VALUE (TLS1_ALERT_ILLEGAL_PARAMETER, 47);
  VALUE (TLS1_ALERT_UNKNOWN_CA, 48);
  VALUE (TLS1_ALERT_ACCESS_DENIED, 49);
  VALUE (TLS1_ALERT_DECODE_ERROR, 50);
  VALUE (TLS1_ALERT_DECRYPT_ERROR, 51);
  VALUE (TLS1_ALERT_EXPORT_RESTRICTION, 60);
  VALUE (TLS1_ALERT_PROTOCOL_VERSION, 70);
  VALUE (TLS1_ALERT_INSUFFIENT_SECURITY, 71);
  VALUE (TLS1_ALERT_INTERNAL_ERROR, 80);
  VALUE (TLS1_ALERT_USER_CANCELED, 90);
  VALUE (TLS1_ALERT_NO_RENEGOTIATION, 100);
  VALUE (TLS1_ALERT_UNSUPPORTED_EXT, 110);
  VALUE (TLS1_ALERT_UNKNOWN_PSK_IDENTITY, 115);
  VALUE (TLS1_ALERT_NO_APP_PROTOCOL, 120);
}
END_TEST

static Suite *
headers_suite (void)
{
  Suite *s = suite_create ("headers");
  TCase *tc;

  tc = tcase_create ("sspi.h");
  tcase_add_test (tc, test_base_types);
  tcase_add_test (tc, test_status_codes);
  tcase_add_test (tc, test_handles);
  tcase_add_test (tc, test_buffers);
  tcase_add_test (tc, test_alpn);
  tcase_add_test (tc, test_context_flags);
  tcase_add_test (tc, test_context_attributes);
  tcase_add_test (tc, test_package_info);
  tcase_add_test (tc, test_function_table);
  tcase_add_test (tc, test_prototypes);
  suite_add_tcase (s, tc);

  tc = tcase_create ("schannel.h");
  tcase_add_test (tc, test_schannel_names);
  tcase_add_test (tc, test_schannel_wincrypt);
  tcase_add_test (tc, test_schannel_cred);
  tcase_add_test (tc, test_schannel_protocols);
  tcase_add_test (tc, test_schannel_attributes);
  tcase_add_test (tc, test_schannel_tokens);
  suite_add_tcase (s, tc);

  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (headers_suite ());
  int failed;

  srunner_run_all (sr, CK_ENV);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);

  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
