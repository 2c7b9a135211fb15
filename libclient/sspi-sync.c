/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The synchronous SSPI handshake API: the same daemon methods as the async
 * API, validated and answered by the same marshalling code, but sent as
 * ordinary method calls whose reply is the step result.  These block the
 * calling thread for one round trip and work on any thread, including the
 * library's own inside a notify callback (the reply is awaited on a private
 * main context, not on the library's).
 */

#include "config.h"

#include <stdlib.h>

#include "sspi-private.h"

/* Sends @r and writes its answer.  @status is @r's validation result. */
static SECURITY_STATUS
call (SECURITY_STATUS status, SspiRequest *r)
{
  g_autoptr(SspiSession) s = NULL;
  g_autoptr(GVariant) reply = NULL;
  SspiStep step;
  guint generation;
  guint64 unclaimed;

  if (status != SEC_E_OK)
    return status;
  status = sspi_session_get_for (r->generation, &s);
  if (status != SEC_E_OK)
    return status;
  generation = sspi_session_get_generation (s);

  reply = sspi_session_call (s, sspi_request_get_method (r),
                             sspi_request_build_params (r, sspi_call_id_next ()),
                             SSPID_STEP_RESULT_TYPE, &status);
  if (reply != NULL)
    sspi_step_parse (reply, 0, &step);
  else
    sspi_step_init_error (&step, status);
  /* Even a failure is written: no stale token or attributes are left. */
  status = sspi_outputs_write (&r->out, generation, &step);
  unclaimed = sspi_outputs_unclaimed_handle (&r->out, &step, status);
  if (unclaimed != 0)
    /* A failed first step leaves no context. */
    sspi_session_release_handle (s, SSPI_HANDLE_CONTEXT, unclaimed);
  sspi_step_clear (&step);
  return status;
}

/* Acquires the credential @pszPrincipal names in the daemon's configuration
 * (NULL or "": an anonymous outbound credential) for @fCredentialUse
 * (SECPKG_CRED_INBOUND / OUTBOUND / BOTH).  @pszPackage must be "Schannel"
 * or UNISP_NAME.  @pAuthData is NULL, a SCHANNEL_CRED or a SCH_CREDENTIALS
 * whose certificate list is empty.  On success writes *phCredential (free it
 * with FreeCredentialsHandle()) and *ptsExpiry.  Errors:
 * SEC_E_SECPKG_NOT_FOUND, SEC_E_INVALID_PARAMETER, SEC_E_ALGORITHM_MISMATCH,
 * SEC_E_UNKNOWN_CREDENTIALS (unknown or not allowed: the same answer),
 * SEC_E_NO_CREDENTIALS, SEC_E_NO_AUTHENTICATING_AUTHORITY (no daemon). */
SSPI_PUBLIC SECURITY_STATUS
AcquireCredentialsHandleA (SEC_CHAR *pszPrincipal, SEC_CHAR *pszPackage,
                           ULONG fCredentialUse, void *pvLogonId,
                           void *pAuthData, SEC_GET_KEY_FN pGetKeyFn,
                           void *pvGetKeyArgument, PCredHandle phCredential,
                           PTimeStamp ptsExpiry)
{
  g_auto(SspiRequest) r = { 0 };

  return call (sspi_request_init_acquire (&r, pszPrincipal, pszPackage,
                                          fCredentialUse, pAuthData,
                                          phCredential, ptsExpiry),
               &r);
}

/* As AcquireCredentialsHandleA, with UTF-16 strings. */
SSPI_PUBLIC SECURITY_STATUS
AcquireCredentialsHandleW (SEC_WCHAR *pszPrincipal, SEC_WCHAR *pszPackage,
                           ULONG fCredentialUse, void *pvLogonId,
                           void *pAuthData, SEC_GET_KEY_FN pGetKeyFn,
                           void *pvGetKeyArgument, PCredHandle phCredential,
                           PTimeStamp ptsExpiry)
{
  g_autofree char *principal = NULL;
  g_autofree char *package = NULL;
  SECURITY_STATUS status = sspi_acquire_names_to_utf8 (pszPrincipal, pszPackage, &principal,
                                                       &package);

  if (status != SEC_E_OK)
    return status;
  return AcquireCredentialsHandleA (principal, package, fCredentialUse,
                                    pvLogonId, pAuthData, pGetKeyFn,
                                    pvGetKeyArgument, phCredential, ptsExpiry);
}

/* Releases a credential in the daemon.  Contexts made from it keep working.
 * SEC_E_INVALID_HANDLE for a handle that is not a live credential. */
SSPI_PUBLIC SECURITY_STATUS
FreeCredentialsHandle (PCredHandle phCredential)
{
  g_auto(SspiRequest) r = { 0 };

  return call (sspi_request_init_free_credentials (&r, phCredential), &r);
}

/* One client handshake step (Windows Schannel semantics): SEC_I_CONTINUE_NEEDED
 * with a token to send until SEC_E_OK; SEC_E_INCOMPLETE_MESSAGE with
 * SECBUFFER_MISSING in pInput->pBuffers[1]; unconsumed input reported as
 * SECBUFFER_EXTRA there.  On the first call @phContext is NULL and the new
 * context is written to *phNewContext (delete it with
 * DeleteSecurityContext()); afterwards *phNewContext equals *phContext.
 * With ISC_REQ_ALLOCATE_MEMORY the output token is allocated (release with
 * FreeContextBuffer()); otherwise it is copied into the caller's
 * SECBUFFER_TOKEN buffer (SEC_E_BUFFER_TOO_SMALL if it does not fit;
 * SEC_E_INSUFFICIENT_MEMORY, before any input is read, if that buffer has
 * no room at all). */
SSPI_PUBLIC SECURITY_STATUS
InitializeSecurityContextA (PCredHandle phCredential, PCtxtHandle phContext,
                            SEC_CHAR *pszTargetName, ULONG fContextReq,
                            ULONG Reserved1, ULONG TargetDataRep,
                            PSecBufferDesc pInput, ULONG Reserved2,
                            PCtxtHandle phNewContext, PSecBufferDesc pOutput,
                            ULONG *pfContextAttr, PTimeStamp ptsExpiry)
{
  g_auto(SspiRequest) r = { 0 };

  return call (sspi_request_init_initialize (&r, phCredential, phContext,
                                             pszTargetName, fContextReq,
                                             pInput, phNewContext, pOutput,
                                             pfContextAttr, ptsExpiry),
               &r);
}

/* As InitializeSecurityContextA, with a UTF-16 target name. */
SSPI_PUBLIC SECURITY_STATUS
InitializeSecurityContextW (PCredHandle phCredential, PCtxtHandle phContext,
                            SEC_WCHAR *pszTargetName, ULONG fContextReq,
                            ULONG Reserved1, ULONG TargetDataRep,
                            PSecBufferDesc pInput, ULONG Reserved2,
                            PCtxtHandle phNewContext, PSecBufferDesc pOutput,
                            ULONG *pfContextAttr, PTimeStamp ptsExpiry)
{
  g_autofree char *target = NULL;

  if (!sspi_utf16_to_utf8 (pszTargetName, &target))
    return SEC_E_INVALID_PARAMETER;
  return InitializeSecurityContextA (phCredential, phContext, target,
                                     fContextReq, Reserved1, TargetDataRep,
                                     pInput, Reserved2, phNewContext, pOutput,
                                     pfContextAttr, ptsExpiry);
}

/* One server handshake step; the same contract as
 * InitializeSecurityContextA (ASC_REQ_MUTUAL_AUTH asks for a client
 * certificate; ALPN ids in pInput list the protocols the server accepts). */
SSPI_PUBLIC SECURITY_STATUS
AcceptSecurityContext (PCredHandle phCredential, PCtxtHandle phContext,
                       PSecBufferDesc pInput, ULONG fContextReq,
                       ULONG TargetDataRep, PCtxtHandle phNewContext,
                       PSecBufferDesc pOutput, ULONG *pfContextAttr,
                       PTimeStamp ptsExpiry)
{
  g_auto(SspiRequest) r = { 0 };

  return call (sspi_request_init_accept (&r, phCredential, phContext, pInput,
                                         fContextReq, phNewContext, pOutput,
                                         pfContextAttr, ptsExpiry),
               &r);
}

/* Deletes a context in the daemon; any later use of the handle gives
 * SEC_E_INVALID_HANDLE. */
SSPI_PUBLIC SECURITY_STATUS
DeleteSecurityContext (PCtxtHandle phContext)
{
  g_auto(SspiRequest) r = { 0 };

  return call (sspi_request_init_delete (&r, phContext), &r);
}

/* Releases memory the library allocated for the caller (tokens with
 * *_REQ_ALLOCATE_MEMORY).  NULL is accepted.  Always SEC_E_OK. */
SSPI_PUBLIC SECURITY_STATUS
FreeContextBuffer (void *pvContextBuffer)
{
  free (pvContextBuffer);
  return SEC_E_OK;
}
