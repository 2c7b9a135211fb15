/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * GnuTLS result -> SSPI status, in one switch (tlshd keeps exactly one such
 * map too).  Where Schannel has no exact equivalent the closest documented
 * meaning is used and the GnuTLS name is logged by the caller.
 */
#include "config.h"

#include "sspid-tls-errors.h"

#include <gnutls/gnutls.h>

static SECURITY_STATUS
status_from_alert (int alert)
{
  switch (alert)
    {
    case GNUTLS_A_PROTOCOL_VERSION:
      return SEC_E_UNSUPPORTED_FUNCTION;
    case GNUTLS_A_HANDSHAKE_FAILURE:
    case GNUTLS_A_INSUFFICIENT_SECURITY:
      return SEC_E_ALGORITHM_MISMATCH;
    case GNUTLS_A_NO_APPLICATION_PROTOCOL:
      return SEC_E_APPLICATION_PROTOCOL_MISMATCH;
    case GNUTLS_A_CERTIFICATE_EXPIRED:
      return SEC_E_CERT_EXPIRED;
    case GNUTLS_A_BAD_CERTIFICATE:
    case GNUTLS_A_UNSUPPORTED_CERTIFICATE:
    case GNUTLS_A_CERTIFICATE_REVOKED:
    case GNUTLS_A_CERTIFICATE_UNKNOWN:
    case GNUTLS_A_UNKNOWN_CA:
    case GNUTLS_A_ACCESS_DENIED:
    case GNUTLS_A_CERTIFICATE_REQUIRED:
      return SEC_E_CERT_UNKNOWN;
    case GNUTLS_A_BAD_RECORD_MAC:
    case GNUTLS_A_DECRYPT_ERROR:
      return SEC_E_DECRYPT_FAILURE;
    default:
      return SEC_E_ILLEGAL_MESSAGE;
    }
}

SECURITY_STATUS
sspid_tls_status_from_gnutls (int ret, int alert)
{
  switch (ret)
    {
    case 0:
      return SEC_E_OK;
    case GNUTLS_E_AGAIN:
    case GNUTLS_E_INTERRUPTED:
      return SEC_I_CONTINUE_NEEDED;
    case GNUTLS_E_MEMORY_ERROR:
      return SEC_E_INSUFFICIENT_MEMORY;
    case GNUTLS_E_FATAL_ALERT_RECEIVED:
    case GNUTLS_E_WARNING_ALERT_RECEIVED:
      return status_from_alert (alert);
    case GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
      return SEC_E_UNSUPPORTED_FUNCTION;
    case GNUTLS_E_NO_CIPHER_SUITES:
    case GNUTLS_E_UNKNOWN_CIPHER_SUITE:
    case GNUTLS_E_NO_COMMON_KEY_SHARE:
    case GNUTLS_E_UNSUPPORTED_SIGNATURE_ALGORITHM:
    case GNUTLS_E_INSUFFICIENT_CREDENTIALS:
    case GNUTLS_E_UNKNOWN_PK_ALGORITHM:
    case GNUTLS_E_NO_PRIORITIES_WERE_SET:
      return SEC_E_ALGORITHM_MISMATCH;
    case GNUTLS_E_NO_APPLICATION_PROTOCOL:
      return SEC_E_APPLICATION_PROTOCOL_MISMATCH;
    case GNUTLS_E_NO_CERTIFICATE_FOUND:
    case GNUTLS_E_CERTIFICATE_REQUIRED:
      /* A server that requires a client certificate got none. */
      return SEC_E_INCOMPLETE_CREDENTIALS;
    case GNUTLS_E_CERTIFICATE_ERROR:
    case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
    case GNUTLS_E_CERTIFICATE_KEY_MISMATCH:
      return SEC_E_CERT_UNKNOWN;
    case GNUTLS_E_EXPIRED:
      return SEC_E_CERT_EXPIRED;
    case GNUTLS_E_DECRYPTION_FAILED:
      return SEC_E_DECRYPT_FAILURE;
    case GNUTLS_E_INVALID_SESSION:
      /* A session an earlier fatal error ended. */
      return SEC_E_CONTEXT_EXPIRED;
    case GNUTLS_E_UNEXPECTED_PACKET_LENGTH:
    case GNUTLS_E_UNEXPECTED_PACKET:
    case GNUTLS_E_UNEXPECTED_HANDSHAKE_PACKET:
    case GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER:
    case GNUTLS_E_RECEIVED_DISALLOWED_NAME:
    case GNUTLS_E_ILLEGAL_PARAMETER:
    case GNUTLS_E_RECORD_OVERFLOW:
    case GNUTLS_E_UNEXPECTED_EXTENSIONS_LENGTH:
    case GNUTLS_E_PARSING_ERROR:
    case GNUTLS_E_HANDSHAKE_TOO_LARGE:
    case GNUTLS_E_TOO_MANY_HANDSHAKE_PACKETS:
    case GNUTLS_E_UNKNOWN_COMPRESSION_ALGORITHM:
    case GNUTLS_E_PREMATURE_TERMINATION:
    case GNUTLS_E_PK_SIG_VERIFY_FAILED:
    case GNUTLS_E_ECC_UNSUPPORTED_CURVE:
    case GNUTLS_E_UNSAFE_RENEGOTIATION_DENIED:
    case GNUTLS_E_REHANDSHAKE:
      return SEC_E_ILLEGAL_MESSAGE;
    default:
      return SEC_E_INTERNAL_ERROR;
    }
}

SECURITY_STATUS
sspid_tls_status_from_verify (unsigned int verify_status)
{
  if (verify_status == 0)
    return SEC_E_OK;
  if (verify_status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA |
                       GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE))
    return SEC_E_UNTRUSTED_ROOT;
  if (verify_status & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED))
    return SEC_E_CERT_EXPIRED;
  if (verify_status & GNUTLS_CERT_UNEXPECTED_OWNER)
    return SEC_E_WRONG_PRINCIPAL;
  return SEC_E_CERT_UNKNOWN;
}

const char *
sspid_status_to_string (SECURITY_STATUS status)
{
  switch (status)
    {
#define S(x) case x: return #x
    S (SEC_E_OK);
    S (SEC_I_CONTINUE_NEEDED);
    S (SEC_I_MESSAGE_FRAGMENT);
    S (SEC_E_OUT_OF_SEQUENCE);
    S (SEC_I_INCOMPLETE_CREDENTIALS);
    S (SEC_I_CONTEXT_EXPIRED);
    S (SEC_I_RENEGOTIATE);
    S (SEC_I_ASYNC_CALL_PENDING);
    S (SEC_E_INSUFFICIENT_MEMORY);
    S (SEC_E_INVALID_HANDLE);
    S (SEC_E_UNSUPPORTED_FUNCTION);
    S (SEC_E_TARGET_UNKNOWN);
    S (SEC_E_INTERNAL_ERROR);
    S (SEC_E_SECPKG_NOT_FOUND);
    S (SEC_E_INVALID_TOKEN);
    S (SEC_E_UNKNOWN_CREDENTIALS);
    S (SEC_E_NO_CREDENTIALS);
    S (SEC_E_MESSAGE_ALTERED);
    S (SEC_E_NO_AUTHENTICATING_AUTHORITY);
    S (SEC_E_CONTEXT_EXPIRED);
    S (SEC_E_INCOMPLETE_MESSAGE);
    S (SEC_E_INCOMPLETE_CREDENTIALS);
    S (SEC_E_BUFFER_TOO_SMALL);
    S (SEC_E_WRONG_PRINCIPAL);
    S (SEC_E_UNTRUSTED_ROOT);
    S (SEC_E_ILLEGAL_MESSAGE);
    S (SEC_E_CERT_UNKNOWN);
    S (SEC_E_CERT_EXPIRED);
    S (SEC_E_DECRYPT_FAILURE);
    S (SEC_E_ALGORITHM_MISMATCH);
    S (SEC_E_INVALID_PARAMETER);
    S (SEC_E_APPLICATION_PROTOCOL_MISMATCH);
#undef S
    default:
      return "unknown status";
    }
}
