/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The asynchronous SSPI API (Sspi*Async): async contexts, the table of
 * pending calls, and their completion.
 *
 * A call is validated, registered in the pending table (call id -> the
 * caller's output pointers and a reference on its async context), and sent
 * with NO_REPLY_EXPECTED: one message out, and one back, the daemon's
 * Completed signal, which the session's thread turns into written outputs,
 * a DONE status and the notify callback, in that order.  If the session dies
 * first, every pending call completes at once with
 * SEC_E_NO_AUTHENTICATING_AUTHORITY.  Either way each queued call completes
 * exactly once, and a call that failed to queue never does.  (A delete
 * with no callback is the exception: fire and forget, no answer at all.)
 *
 * The pending table and every async context's state are protected by the
 * library lock (sspi_lock); outputs are written under it too, so that
 * SspiFreeAsyncContext() on a pending call either happens before them (and
 * nothing is written) or after.  Callbacks always run without the lock.
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

struct _SspiPending {
  guint64           call_id;
  SspiAsyncContext *async;       /* owns a reference */
  guint             generation;  /* of the session it was sent on */
  SspiOutputs       out;
};

/* call_id -> SspiPending; created on first use, under the lock. */
static GHashTable *pending_calls;

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

static void
pending_free (SspiPending *p)
{
  async_unref (p->async);
  g_free (p);
}

static GHashTable *
pending_table_locked (void)
{
  if (pending_calls == NULL)
    pending_calls = g_hash_table_new (g_int64_hash, g_int64_equal);
  return pending_calls;
}

/* ---- completion ------------------------------------------------------- */

/* The caller freed the async context before the answer came: nobody will
 * ever learn of a handle the call created, so free it in the daemon now. */
static void
release_orphan (SspiSession *s, const SspiPending *p, const SspiStep *step)
{
  guint64 handle = sspi_outputs_new_handle (&p->out, step);
  const char *method;

  if (handle == 0 || s == NULL)
    return;
  method = p->out.kind == SSPI_CALL_ACQUIRE_CREDENTIALS
               ? "FreeCredentialsHandle" : "DeleteSecurityContext";
  /* call_id 0: no answer wanted (proto/org.sspid1.xml). */
  sspi_session_send (s, method, g_variant_new ("(tt)", (guint64) 0, handle));
}

/* Completes @p (already out of the table) with @step and frees it.  @s is
 * the session the answer came from, NULL if it died.  Lock not held. */
static void
complete (SspiSession *s, SspiPending *p, const SspiStep *step)
{
  SspiAsyncContext *a = p->async;
  SspiAsyncNotifyCallback callback = NULL;
  void *callback_data = NULL;
  gboolean orphan;
  guint64 unclaimed = 0;

  sspi_lock ();
  orphan = a->freed;
  if (!orphan)
    {
      /* Every output before the status says DONE, and before the callback. */
      a->status = sspi_outputs_write (&p->out, p->generation, step);
      unclaimed = sspi_outputs_unclaimed_handle (&p->out, step, a->status);
      a->state = ASYNC_DONE;
      callback = a->callback;
      callback_data = a->callback_data;
    }
  sspi_unlock ();

  if (orphan)
    {
      release_orphan (s, p, step);
      sspi_outputs_forget (&p->out);
    }
  else if (unclaimed != 0 && s != NULL)
    /* A failed first step leaves no context (call_id 0: no answer). */
    sspi_session_send (s, "DeleteSecurityContext", g_variant_new ("(tt)", (guint64) 0, unclaimed));
  if (!orphan && callback != NULL)
    callback (a, callback_data);   /* may free, reinit, queue, call anything */
  pending_free (p);
}

void
sspi_async_dispatch_completed (SspiSession *s, GVariant *params)
{
  SspiPending *p = NULL;
  SspiStep step;
  guint64 call_id;

  g_variant_get_child (params, 0, "t", &call_id);
  sspi_lock ();
  if (pending_calls != NULL
      && g_hash_table_steal_extended (pending_calls, &call_id, NULL,
                                      (gpointer *) &p)
      && p->generation != sspi_session_get_generation (s))
    {
      /* Cannot happen (call ids are never reused), but never let one
       * session's answer complete another's call. */
      g_hash_table_insert (pending_calls, &p->call_id, p);
      p = NULL;
    }
  sspi_unlock ();
  if (p == NULL)
    return;   /* a fire-and-forget cleanup's answer, or a stray signal */

  sspi_step_parse (params, 1, &step);
  complete (s, p, &step);
  sspi_step_clear (&step);
}

static gint
compare_call_id (gconstpointer a, gconstpointer b)
{
  const SspiPending *pa = *(SspiPending *const *) a;
  const SspiPending *pb = *(SspiPending *const *) b;

  return pa->call_id < pb->call_id ? -1 : pa->call_id > pb->call_id;
}

GPtrArray *
sspi_async_steal_pending_locked (void)
{
  GPtrArray *list = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  if (pending_calls == NULL)
    return list;
  g_hash_table_iter_init (&iter, pending_calls);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      g_ptr_array_add (list, value);
      g_hash_table_iter_steal (&iter);
    }
  g_ptr_array_sort (list, compare_call_id);
  return list;
}

void
sspi_async_fail_pending (GPtrArray *pending, SECURITY_STATUS status)
{
  SspiStep step;

  sspi_step_init_error (&step, status);
  for (guint i = 0; i < pending->len; i++)
    complete (NULL, g_ptr_array_index (pending, i), &step);
  g_ptr_array_free (pending, TRUE);
}

void
sspi_async_forget_pending_locked (void)
{
  g_autoptr(GPtrArray) list = sspi_async_steal_pending_locked ();

  for (guint i = 0; i < list->len; i++)
    {
      SspiPending *p = g_ptr_array_index (list, i);

      /* Not PENDING forever: the child may reinit or free the context. */
      p->async->state = ASYNC_DONE;
      p->async->status = SEC_E_NO_AUTHENTICATING_AUTHORITY;
      pending_free (p);
    }
}

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

/* Registers @p unless @a is busy or @s died since we got it. */
static SECURITY_STATUS
register_pending (SspiSession *s, SspiAsyncContext *a, SspiPending *p,
                  const SspiRequest *r)
{
  SECURITY_STATUS status = SEC_E_OK;

  sspi_lock ();
  if (a->state != ASYNC_IDLE || a->freed)
    status = SEC_E_INVALID_PARAMETER;
  else if (!sspi_session_is_current_locked (s))
    status = r->generation != 0 ? SEC_E_INVALID_HANDLE
                                : SEC_E_NO_AUTHENTICATING_AUTHORITY;
  if (status == SEC_E_OK)
    {
      a->state = ASYNC_PENDING;
      a->status = SEC_I_ASYNC_CALL_PENDING;
      g_hash_table_insert (pending_table_locked (), &p->call_id, p);
      /* Under the lock: a teardown may complete the call before we send. */
      sspi_outputs_reset (&r->out);
    }
  sspi_unlock ();
  return status;
}

/* Takes @p back after a failed send.  FALSE if it already completed (the
 * session died meanwhile and failed it, callback included). */
static gboolean
unregister_pending (SspiAsyncContext *a, SspiPending *p)
{
  gboolean found;

  sspi_lock ();
  found = g_hash_table_steal (pending_calls, &p->call_id);
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
  SspiPending *p;
  SECURITY_STATUS status;

  status = sspi_session_get (&s);
  if (status != SEC_E_OK)
    return status;
  if (r->generation != 0 && r->generation != sspi_session_get_generation (s))
    return SEC_E_INVALID_HANDLE;

  p = g_new0 (SspiPending, 1);
  p->call_id = sspi_call_id_next ();
  p->async = async_ref (a);
  p->generation = sspi_session_get_generation (s);
  p->out = r->out;
  params = g_variant_ref_sink (sspi_request_build_params (r, p->call_id));

  status = register_pending (s, a, p, r);
  if (status != SEC_E_OK)
    {
      pending_free (p);
      return status;
    }
  if (sspi_session_send (s, sspi_request_get_method (r), params))
    return SEC_E_OK;
  if (!unregister_pending (a, p))
    return SEC_E_OK;
  pending_free (p);
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

  status = sspi_session_get (&s);
  if (status != SEC_E_OK)
    return status;
  if (r->generation != 0 && r->generation != sspi_session_get_generation (s))
    return SEC_E_INVALID_HANDLE;

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
