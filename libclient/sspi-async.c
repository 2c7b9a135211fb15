/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The asynchronous SSPI API (Sspi*Async): async contexts, and queueing a
 * call on the session.
 *
 * A call is validated, added to the session's pending table (call id -> the
 * caller's output pointers, and an AsyncCall holding a reference on its
 * async context), and sent with NO_REPLY_EXPECTED: one message out, and one
 * back, the daemon's Completed signal, which the session's thread turns
 * into written outputs, a DONE status and the notify callback, in that
 * order, through the AsyncCall functions given with the call
 * (sspi-connection.c owns that path).  If the session dies first, every
 * pending call completes at once with SEC_E_NO_AUTHENTICATING_AUTHORITY.
 * Either way each queued call completes exactly once, and a call that
 * failed to queue never does.  (A delete with no callback is the
 * exception: fire and forget, no answer at all.)
 *
 * Every async context's state is protected by the library lock
 * (sspi_lock), as is the pending table; outputs are written under it too,
 * so that SspiFreeAsyncContext() on a pending call either happens before
 * them (and nothing is written) or after.  Callbacks always run without
 * the lock.
 */

#include "config.h"

#include "sspi-private.h"

typedef enum {
  ASYNC_IDLE,
  ASYNC_PENDING,
  ASYNC_DONE,
} AsyncState;

struct _SspiAsyncContext {
  gint                    ref_count;
  AsyncState              state;
  SECURITY_STATUS         status;
  SspiAsyncNotifyCallback callback;
  void                   *callback_data;
  gboolean                freed;       /* the caller let go of it */
};

/* One queued call, as the async API sees it.  The session holds it (as the
 * owner of its pending entry) until the answer is written, then this runs
 * the callback captured with the answer. */
typedef struct {
  SspiAsyncContext       *async;          /* owns a reference */
  SspiAsyncNotifyCallback callback;
  void                   *callback_data;
} AsyncCall;

static SspiAsyncContext *
async_ref (SspiAsyncContext *a)
{
  g_atomic_int_inc (&a->ref_count);
  return a;
}

static void
async_unref (SspiAsyncContext *a)
{
  if (g_atomic_int_dec_and_test (&a->ref_count))
    g_free (a);
}

/* ---- completion (called by the session) -------------------------------- */

static gboolean
call_is_wanted_locked (gpointer owner)
{
  AsyncCall *call = owner;

  return !call->async->freed;
}

static void
call_finish_locked (gpointer owner, SECURITY_STATUS status)
{
  AsyncCall *call = owner;
  SspiAsyncContext *a = call->async;

  a->status = status;
  a->state = ASYNC_DONE;
  /* Taken with the result: the context may be reused before notify runs. */
  call->callback = a->callback;
  call->callback_data = a->callback_data;
}

static void
call_notify (gpointer owner)
{
  AsyncCall *call = owner;

  if (call->callback != NULL)
    call->callback (call->async, call->callback_data);
}

static void
call_free (gpointer owner)
{
  AsyncCall *call = owner;

  async_unref (call->async);
  g_free (call);
}

static const SspiCallOwnerFuncs async_call_funcs = {
  .is_wanted_locked = call_is_wanted_locked,
  .finish_locked = call_finish_locked,
  .notify = call_notify,
  .free = call_free,
};

/* ---- queueing --------------------------------------------------------- */

static gboolean
is_idle (SspiAsyncContext *a)
{
  gboolean idle;

  sspi_lock ();
  idle = a->state == ASYNC_IDLE && !a->freed;
  sspi_unlock ();
  return idle;
}

/* Makes @call @a's pending call on @s, unless @a is busy or @s died since
 * the prologue.  Lock held. */
static SECURITY_STATUS
start_locked (SspiSession *s, SspiAsyncContext *a, guint64 call_id,
              const SspiRequest *r, AsyncCall *call)
{
  SECURITY_STATUS status;

  if (a->state != ASYNC_IDLE || a->freed)
    return SEC_E_INVALID_PARAMETER;
  status = sspi_session_add_pending_locked (s, call_id, r->generation, &r->out,
                                            &async_call_funcs, call);
  if (status != SEC_E_OK)
    return status;
  a->state = ASYNC_PENDING;
  a->status = SEC_I_ASYNC_CALL_PENDING;
  /* Under the lock: a teardown may complete the call before we send. */
  sspi_outputs_reset (&r->out);
  return SEC_E_OK;
}

/* Takes call @call_id of @a back after a failed send.  FALSE if it already
 * completed (the session died meanwhile and failed it, callback
 * included). */
static gboolean
take_back (SspiSession *s, SspiAsyncContext *a, guint64 call_id)
{
  gboolean found;

  sspi_lock ();
  found = sspi_session_remove_pending_locked (s, call_id);
  if (found)
    {
      a->state = ASYNC_IDLE;
      a->status = SEC_E_OK;
    }
  sspi_unlock ();
  return found;
}

static SECURITY_STATUS
queue_request (SspiAsyncContext *a, SspiRequest *r)
{
  g_autoptr(SspiSession) s = NULL;
  g_autoptr(GVariant) params = NULL;
  AsyncCall *call;
  SECURITY_STATUS status;
  guint64 call_id;

  status = sspi_session_get_for (r->generation, &s);
  if (status != SEC_E_OK)
    return status;

  call_id = sspi_call_id_next ();
  params = g_variant_ref_sink (sspi_request_build_params (r, call_id));
  call = g_new0 (AsyncCall, 1);
  call->async = async_ref (a);

  sspi_lock ();
  status = start_locked (s, a, call_id, r, call);
  sspi_unlock ();
  if (status != SEC_E_OK)
    {
      call_free (call);
      return status;
    }
  if (sspi_session_send (s, sspi_request_get_method (r), params))
    return SEC_E_OK;
  if (!take_back (s, a, call_id))
    return SEC_E_OK;
  call_free (call);
  return SEC_E_NO_AUTHENTICATING_AUTHORITY;
}

/* SspiDeleteSecurityContextAsync with no callback: the caller opted out
 * of notification (the one call Windows allows that for) and may free the
 * async context at once, so nobody reads the answer.  The daemon is asked
 * for none (call_id 0) and the call completes here, at once, with
 * SEC_E_OK: one bus message less per delete. */
static SECURITY_STATUS
queue_unanswered (SspiAsyncContext *a, SspiRequest *r)
{
  g_autoptr(SspiSession) s = NULL;
  SECURITY_STATUS status;

  status = sspi_session_get_for (r->generation, &s);
  if (status != SEC_E_OK)
    return status;

  sspi_lock ();
  if (a->state != ASYNC_IDLE || a->freed)
    status = SEC_E_INVALID_PARAMETER;
  else if (!sspi_session_is_current_locked (s))
    status = SEC_E_INVALID_HANDLE;
  else
    {
      a->state = ASYNC_DONE;
      a->status = SEC_E_OK;
    }
  sspi_unlock ();
  if (status != SEC_E_OK)
    return status;

  if (!sspi_session_send (s, sspi_request_get_method (r),
                          sspi_request_build_params (r, 0)))
    {
      sspi_lock ();
      a->state = ASYNC_IDLE;
      sspi_unlock ();
      return SEC_E_NO_AUTHENTICATING_AUTHORITY;
    }
  sspi_outputs_forget (&r->out);
  return SEC_E_OK;
}

/* Common front of every Sspi*Async call: @status is the validation result
 * of @r, which is only queued if that and the context are fine. */
static SECURITY_STATUS
queue (SspiAsyncContext *a, SECURITY_STATUS status, SspiRequest *r)
{
  gboolean has_callback;

  if (a == NULL || !is_idle (a))
    return SEC_E_INVALID_PARAMETER;
  if (status != SEC_E_OK)
    return status;
  sspi_lock ();
  has_callback = a->callback != NULL;
  sspi_unlock ();
  if (r->kind == SSPI_CALL_DELETE_CONTEXT && !has_callback)
    return queue_unanswered (a, r);
  return queue_request (a, r);
}

/* ---- async contexts ----------------------------------------------------- */

/* Creates an async context (idle, status SEC_E_OK, no callback).  Returns
 * NULL only if memory runs out.  Caller must release it with
 * SspiFreeAsyncContext(). */
SSPI_PUBLIC SspiAsyncContext *
SspiCreateAsyncContext (void)
{
  SspiAsyncContext *a = g_try_new0 (SspiAsyncContext, 1);

  if (a == NULL)
    return NULL;
  a->ref_count = 1;
  a->state = ASYNC_IDLE;
  a->status = SEC_E_OK;
  return a;
}

/* Releases @Handle (NULL is ignored).  If its call is still pending the
 * late result is dropped: no output is written, the callback does not run,
 * and a handle the call created is freed in the daemon. */
SSPI_PUBLIC void
SspiFreeAsyncContext (SspiAsyncContext *Handle)
{
  if (Handle == NULL)
    return;
  sspi_lock ();
  Handle->freed = TRUE;
  sspi_unlock ();
  async_unref (Handle);
}

/* Makes a completed (or unused) context idle again, status SEC_E_OK, keeping
 * its callback.  Returns STATUS_SUCCESS, or STATUS_INVALID_PARAMETER for a
 * NULL context or one whose call is still pending. */
SSPI_PUBLIC NTSTATUS
SspiReinitAsyncContext (SspiAsyncContext *Handle)
{
  NTSTATUS status = STATUS_SUCCESS;

  if (Handle == NULL)
    return STATUS_INVALID_PARAMETER;
  sspi_lock ();
  if (Handle->state == ASYNC_PENDING)
    status = STATUS_INVALID_PARAMETER;
  else
    {
      Handle->state = ASYNC_IDLE;
      Handle->status = SEC_E_OK;
    }
  sspi_unlock ();
  return status;
}

/* Sets the callback run (once, on a library thread) when the context's call
 * completes.  NULL means no notification; that suits
 * SspiDeleteSecurityContextAsync, other calls then need polling with
 * SspiGetAsyncCallStatus().  Returns SEC_E_INVALID_PARAMETER for a NULL
 * context. */
SSPI_PUBLIC SECURITY_STATUS
SspiSetAsyncNotifyCallback (SspiAsyncContext *Context,
                            SspiAsyncNotifyCallback Callback,
                            void *CallbackData)
{
  if (Context == NULL)
    return SEC_E_INVALID_PARAMETER;
  sspi_lock ();
  Context->callback = Callback;
  Context->callback_data = CallbackData;
  sspi_unlock ();
  return SEC_E_OK;
}

/* TRUE if a completion of @AsyncContext's call will run a callback. */
SSPI_PUBLIC BOOLEAN
SspiAsyncContextRequiresNotify (SspiAsyncContext *AsyncContext)
{
  BOOLEAN notify;

  if (AsyncContext == NULL)
    return FALSE;
  sspi_lock ();
  notify = AsyncContext->callback != NULL;
  sspi_unlock ();
  return notify;
}

/* SEC_I_ASYNC_CALL_PENDING while the call is in flight, then its result
 * (SEC_E_OK for an idle context).  SEC_E_INVALID_PARAMETER for NULL. */
SSPI_PUBLIC SECURITY_STATUS
SspiGetAsyncCallStatus (SspiAsyncContext *Handle)
{
  SECURITY_STATUS status;

  if (Handle == NULL)
    return SEC_E_INVALID_PARAMETER;
  sspi_lock ();
  status = Handle->status;
  sspi_unlock ();
  return status;
}

/* ---- the calls ---------------------------------------------------------- */

/* Queues AcquireCredentialsHandle for the credential @pszPrincipal names in
 * the daemon's configuration (NULL or "": anonymous outbound).  Returns
 * SEC_E_OK once queued, else (and then nothing happens): SEC_E_INVALID_PARAMETER
 * (busy or NULL context, bad use, certificates in pAuthData),
 * SEC_E_SECPKG_NOT_FOUND, SEC_E_ALGORITHM_MISMATCH (every protocol
 * disabled), SEC_E_NO_AUTHENTICATING_AUTHORITY (no daemon).  On completion
 * *phCredential (on success) and *ptsExpiry are written, then the callback
 * runs.  pvLogonId, pGetKeyFn and pvGetKeyArgument are ignored. */
SSPI_PUBLIC SECURITY_STATUS
SspiAcquireCredentialsHandleAsyncA (SspiAsyncContext *AsyncContext,
                                    LPSTR pszPrincipal, LPSTR pszPackage,
                                    ULONG fCredentialUse, void *pvLogonId,
                                    void *pAuthData, SEC_GET_KEY_FN pGetKeyFn,
                                    void *pvGetKeyArgument,
                                    PCredHandle phCredential,
                                    PTimeStamp ptsExpiry)
{
  g_auto(SspiRequest) r = { 0 };

  return queue (AsyncContext,
                sspi_request_init_acquire (&r, pszPrincipal, pszPackage,
                                           fCredentialUse, pAuthData,
                                           phCredential, ptsExpiry),
                &r);
}

/* As SspiAcquireCredentialsHandleAsyncA, with UTF-16 strings. */
SSPI_PUBLIC SECURITY_STATUS
SspiAcquireCredentialsHandleAsyncW (SspiAsyncContext *AsyncContext,
                                    LPWSTR pszPrincipal, LPWSTR pszPackage,
                                    ULONG fCredentialUse, void *pvLogonId,
                                    void *pAuthData, SEC_GET_KEY_FN pGetKeyFn,
                                    void *pvGetKeyArgument,
                                    PCredHandle phCredential,
                                    PTimeStamp ptsExpiry)
{
  g_autofree char *principal = NULL;
  g_autofree char *package = NULL;
  SECURITY_STATUS status = sspi_acquire_names_to_utf8 (pszPrincipal, pszPackage, &principal,
                                                       &package);

  if (status != SEC_E_OK)
    return status;
  return SspiAcquireCredentialsHandleAsyncA (AsyncContext, principal, package,
                                             fCredentialUse, pvLogonId,
                                             pAuthData, pGetKeyFn,
                                             pvGetKeyArgument, phCredential,
                                             ptsExpiry);
}

/* Queues one InitializeSecurityContext step.  Input: the first
 * SECBUFFER_TOKEN of pInput (absent or empty on the first call) and ALPN ids
 * from a SECBUFFER_APPLICATION_PROTOCOLS buffer.  pOutput needs a
 * SECBUFFER_TOKEN buffer (or ISC_REQ_ALLOCATE_MEMORY).  *pfContextAttr and
 * *ptsExpiry are zeroed when queued.  Returns SEC_E_OK once queued, else:
 * SEC_E_INVALID_HANDLE (unknown, wrong kind, or stale handle),
 * SEC_E_INVALID_TOKEN (malformed buffers), SEC_E_INSUFFICIENT_MEMORY (a
 * token buffer with no room, without ISC_REQ_ALLOCATE_MEMORY),
 * SEC_E_INVALID_PARAMETER (busy context, missing phNewContext on a first
 * call or pOutput),
 * SEC_E_NO_AUTHENTICATING_AUTHORITY.  On completion *phNewContext, the output
 * token (SEC_E_BUFFER_TOO_SMALL if it does not fit), SECBUFFER_EXTRA / SECBUFFER_MISSING in pInput->pBuffers[1],
 * *pfContextAttr and *ptsExpiry are written, then the callback runs. */
SSPI_PUBLIC SECURITY_STATUS
SspiInitializeSecurityContextAsyncA (SspiAsyncContext *AsyncContext,
                                     PCredHandle phCredential,
                                     PCtxtHandle phContext,
                                     LPSTR pszTargetName, ULONG fContextReq,
                                     ULONG Reserved1, ULONG TargetDataRep,
                                     PSecBufferDesc pInput, ULONG Reserved2,
                                     PCtxtHandle phNewContext,
                                     PSecBufferDesc pOutput,
                                     ULONG *pfContextAttr,
                                     PTimeStamp ptsExpiry)
{
  g_auto(SspiRequest) r = { 0 };

  return queue (AsyncContext,
                sspi_request_init_initialize (&r, phCredential, phContext,
                                              pszTargetName, fContextReq,
                                              pInput, phNewContext, pOutput,
                                              pfContextAttr, ptsExpiry),
                &r);
}

/* As SspiInitializeSecurityContextAsyncA, with a UTF-16 target name. */
SSPI_PUBLIC SECURITY_STATUS
SspiInitializeSecurityContextAsyncW (SspiAsyncContext *AsyncContext,
                                     PCredHandle phCredential,
                                     PCtxtHandle phContext,
                                     LPWSTR pszTargetName, ULONG fContextReq,
                                     ULONG Reserved1, ULONG TargetDataRep,
                                     PSecBufferDesc pInput, ULONG Reserved2,
                                     PCtxtHandle phNewContext,
                                     PSecBufferDesc pOutput,
                                     ULONG *pfContextAttr,
                                     PTimeStamp ptsExpiry)
{
  g_autofree char *target = NULL;

  if (!sspi_utf16_to_utf8 (pszTargetName, &target))
    return SEC_E_INVALID_PARAMETER;
  return SspiInitializeSecurityContextAsyncA (AsyncContext, phCredential,
                                              phContext, target, fContextReq,
                                              Reserved1, TargetDataRep, pInput,
                                              Reserved2, phNewContext, pOutput,
                                              pfContextAttr, ptsExpiry);
}

/* Queues one AcceptSecurityContext step; the same contract as
 * SspiInitializeSecurityContextAsyncA (the ALPN buffer lists the protocols
 * the server accepts). */
SSPI_PUBLIC SECURITY_STATUS
SspiAcceptSecurityContextAsync (SspiAsyncContext *AsyncContext,
                                PCredHandle phCredential,
                                PCtxtHandle phContext, PSecBufferDesc pInput,
                                ULONG fContextReq, ULONG TargetDataRep,
                                PCtxtHandle phNewContext,
                                PSecBufferDesc pOutput, ULONG *pfContextAttr,
                                PTimeStamp ptsExpiry)
{
  g_auto(SspiRequest) r = { 0 };

  return queue (AsyncContext,
                sspi_request_init_accept (&r, phCredential, phContext, pInput,
                                          fContextReq, phNewContext, pOutput,
                                          pfContextAttr, ptsExpiry),
                &r);
}

/* Queues DeleteSecurityContext.  Returns SEC_E_OK once queued, else
 * SEC_E_INVALID_HANDLE, SEC_E_INVALID_PARAMETER (busy context) or
 * SEC_E_NO_AUTHENTICATING_AUTHORITY.  With no callback the caller may free
 * @AsyncContext at once (fire and forget): the daemon is then asked for no
 * answer, and the call is complete (SEC_E_OK) as soon as it is queued. */
SSPI_PUBLIC SECURITY_STATUS
SspiDeleteSecurityContextAsync (SspiAsyncContext *AsyncContext,
                                PCtxtHandle phContext)
{
  g_auto(SspiRequest) r = { 0 };

  return queue (AsyncContext, sspi_request_init_delete (&r, phContext), &r);
}

/* Queues FreeCredentialsHandle.  Returns SEC_E_OK once queued, else
 * SEC_E_INVALID_HANDLE, SEC_E_INVALID_PARAMETER (busy context) or
 * SEC_E_NO_AUTHENTICATING_AUTHORITY.  Contexts made from the credential
 * keep working. */
SSPI_PUBLIC SECURITY_STATUS
SspiFreeCredentialsHandleAsync (SspiAsyncContext *AsyncContext,
                                PCredHandle phCredential)
{
  g_auto(SspiRequest) r = { 0 };

  return queue (AsyncContext,
                sspi_request_init_free_credentials (&r, phCredential), &r);
}
