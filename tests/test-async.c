/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libsspi's asynchronous contract against the real daemon on a private bus:
 * a queued call returns at once and completes exactly once, on a library
 * thread, after its outputs are written; async contexts can be freed,
 * reinitialised and reused from inside their callback; busy contexts, bad
 * handles and bad packages are refused at queue time; a daemon that dies
 * fails every pending call promptly and invalidates every handle; forged
 * Completed signals from other peers are ignored; a fork child starts clean.
 * (The marshalling both APIs share is tests/test-client.c's business.)
 *
 * Calls are kept pending deterministically by stopping the daemon with
 * SIGSTOP (after the library has connected) and resuming it with SIGCONT.
 * Handshake behaviour itself is tests/test-handshake.c's business.
 */

#include "config.h"

#include <check.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>

#include "sspi.h"
#include "schannel.h"
#include "sspid-proto.h"
#include "testutil.h"

/* A deadline for something that must happen (never for an absence). */
#define WAIT_MS tu_scaled_ms (15000)
/* Long enough for a wrongly delivered answer to show up. */
/* "Promptly" when the daemon dies: far below D-Bus's 25 s call timeout,
 * with room for a busy machine. */
#define PROMPT_MS tu_scaled_ms (3000)
#define SETTLE_MS 300

/* ---- a callback recorder ------------------------------------------------ */

typedef struct Waiter Waiter;
typedef void (*WaiterHook) (Waiter *w, SspiAsyncContext *ctx);

struct Waiter {
  GMutex            lock;
  GCond             cond;
  int               calls;
  GThread          *thread;     /* where the callback last ran */
  SECURITY_STATUS   status;     /* SspiGetAsyncCallStatus inside it */
  WaiterHook        hook;       /* extra work inside the callback */
  /* what the hook saw or did */
  SECURITY_STATUS   hook_status[4];
  /* the caller's outputs (must stay valid until completion) */
  CredHandle        cred;
  CtxtHandle        ctxt;
  TimeStamp         expiry;
  ULONG             attr;
  SecBuffer         out_buf;
  SecBufferDesc     out_desc;
  /* copies of the outputs taken inside the callback */
  CredHandle        cred_seen;
  CtxtHandle        ctxt_seen;
  ULONG             out_size_seen;
  guint8            out_first_byte_seen;
  ULONG             attr_seen;
};

static Waiter *
waiter_new (WaiterHook hook)
{
  Waiter *w = g_new0 (Waiter, 1);

  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  w->hook = hook;
  SecInvalidateHandle (&w->cred);
  SecInvalidateHandle (&w->ctxt);
  w->out_buf = (SecBuffer) { 0, SECBUFFER_TOKEN, NULL };
  w->out_desc = (SecBufferDesc) { SECBUFFER_VERSION, 1, &w->out_buf };
  return w;
}

static void
waiter_free (Waiter *w)
{
  free (w->out_buf.pvBuffer);
  g_mutex_clear (&w->lock);
  g_cond_clear (&w->cond);
  g_free (w);
}

static void
on_done (SspiAsyncContext *ctx, void *data)
{
  Waiter *w = data;

  g_mutex_lock (&w->lock);
  w->thread = g_thread_self ();
  w->status = SspiGetAsyncCallStatus (ctx);
  w->cred_seen = w->cred;
  w->ctxt_seen = w->ctxt;
  w->out_size_seen = w->out_buf.cbBuffer;
  w->out_first_byte_seen = w->out_buf.pvBuffer != NULL && w->out_buf.cbBuffer > 0
                           ? ((guint8 *) w->out_buf.pvBuffer)[0] : 0;
  w->attr_seen = w->attr;
  g_mutex_unlock (&w->lock);

  /* Without the lock: the hook may call anything, sync calls included. */
  if (w->hook != NULL)
    w->hook (w, ctx);

  g_mutex_lock (&w->lock);
  w->calls++;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
}

/* TRUE once the callback has run @n times, FALSE after @timeout_ms. */
static gboolean
waiter_wait (Waiter *w, int n, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
  gboolean ok = TRUE;

  g_mutex_lock (&w->lock);
  while (w->calls < n && ok)
    ok = g_cond_wait_until (&w->cond, &w->lock, deadline);
  ok = w->calls >= n;
  g_mutex_unlock (&w->lock);
  return ok;
}

static int
waiter_calls (Waiter *w)
{
  int n;

  g_mutex_lock (&w->lock);
  n = w->calls;
  g_mutex_unlock (&w->lock);
  return n;
}

static SspiAsyncContext *
new_context (Waiter *w)
{
  SspiAsyncContext *ctx = SspiCreateAsyncContext ();

  ck_assert_ptr_nonnull (ctx);
  ck_assert_int_eq (SspiSetAsyncNotifyCallback (ctx, w != NULL ? on_done : NULL, w),
                    SEC_E_OK);
  return ctx;
}

/* ---- helpers ------------------------------------------------------------ */

#define ISC_FLAGS (ISC_REQ_CONFIDENTIALITY | ISC_REQ_REPLAY_DETECT \
                   | ISC_REQ_SEQUENCE_DETECT | ISC_REQ_STREAM)

static SECURITY_STATUS
queue_anonymous_acquire (SspiAsyncContext *ctx, Waiter *w)
{
  return SspiAcquireCredentialsHandleAsyncA (ctx, NULL, SCHANNEL_NAME_A,
                                             SECPKG_CRED_OUTBOUND, NULL, NULL,
                                             NULL, NULL, &w->cred, &w->expiry);
}

static SECURITY_STATUS
queue_first_isc (SspiAsyncContext *ctx, Waiter *w, CredHandle *cred)
{
  return SspiInitializeSecurityContextAsyncA (ctx, cred, NULL, "localhost",
                                              ISC_FLAGS | ISC_REQ_ALLOCATE_MEMORY,
                                              0, 0, NULL, 0, &w->ctxt,
                                              &w->out_desc, &w->attr,
                                              &w->expiry);
}

static CredHandle
acquire_sync (void)
{
  CredHandle cred;
  TimeStamp expiry;

  SecInvalidateHandle (&cred);
  ck_assert_int_eq (AcquireCredentialsHandleA (NULL, SCHANNEL_NAME_A,
                                               SECPKG_CRED_OUTBOUND, NULL, NULL,
                                               NULL, NULL, &cred, &expiry),
                    SEC_E_OK);
  ck_assert (SecIsValidHandle (&cred));
  return cred;
}

/* A first ISC step done synchronously: a context in handshake state. */
static CtxtHandle
first_isc_sync (CredHandle *cred)
{
  SecBuffer out = { 0, SECBUFFER_TOKEN, NULL };
  SecBufferDesc out_desc = { SECBUFFER_VERSION, 1, &out };
  CtxtHandle ctxt;
  ULONG attr = 0;
  TimeStamp expiry;

  SecInvalidateHandle (&ctxt);
  ck_assert_int_eq (InitializeSecurityContextA (cred, NULL, "localhost",
                                                ISC_FLAGS | ISC_REQ_ALLOCATE_MEMORY,
                                                0, 0, NULL, 0, &ctxt, &out_desc,
                                                &attr, &expiry),
                    SEC_I_CONTINUE_NEEDED);
  ck_assert (SecIsValidHandle (&ctxt));
  FreeContextBuffer (out.pvBuffer);
  return ctxt;
}

static void
daemon_signal (int signo)
{
  ck_assert_int_eq (kill (tu_fixture_env->daemon_pid, signo), 0);
}

static gint64
ms_since (gint64 start)
{
  return (g_get_monotonic_time () - start) / G_TIME_SPAN_MILLISECOND;
}

/* ---- queueing and completion ------------------------------------------ */

START_TEST (test_acquire_completes_once_on_library_thread)
{
  Waiter *w = waiter_new (NULL);
  SspiAsyncContext *ctx = new_context (w);
  SECURITY_STATUS right_after;

  ck_assert (SspiAsyncContextRequiresNotify (ctx));
  ck_assert_int_eq (SspiGetAsyncCallStatus (ctx), SEC_E_OK);   /* idle */
  ck_assert_int_eq (queue_anonymous_acquire (ctx, w), SEC_E_OK);
  right_after = SspiGetAsyncCallStatus (ctx);
  /* The first call connects (Hello), the answer may not be back yet; if it
   * is, the callback ran and recorded the result. */
  ck_assert (right_after == SEC_I_ASYNC_CALL_PENDING
             || (right_after == SEC_E_OK && waiter_calls (w) == 1));

  ck_assert (waiter_wait (w, 1, WAIT_MS));
  ck_assert_ptr_ne (w->thread, g_thread_self ());
  ck_assert_int_eq (w->status, SEC_E_OK);
  /* The handle was written before the callback ran. */
  ck_assert (SecIsValidHandle (&w->cred_seen));
  ck_assert_uint_ne (w->cred_seen.dwLower, 0);

  g_usleep (SETTLE_MS * 1000);
  ck_assert_int_eq (waiter_calls (w), 1);
  ck_assert_int_eq (SspiGetAsyncCallStatus (ctx), SEC_E_OK);
  /* DONE is not IDLE: a second call needs a reinit. */
  ck_assert_int_eq (queue_anonymous_acquire (ctx, w), SEC_E_INVALID_PARAMETER);
  ck_assert_int_eq (SspiReinitAsyncContext (ctx), STATUS_SUCCESS);
  ck_assert_int_eq (SspiGetAsyncCallStatus (ctx), SEC_E_OK);

  ck_assert_int_eq (FreeCredentialsHandle (&w->cred), SEC_E_OK);
  ck_assert_int_eq (FreeCredentialsHandle (&w->cred), SEC_E_INVALID_HANDLE);
  SspiFreeAsyncContext (ctx);
  waiter_free (w);
}
END_TEST

START_TEST (test_first_isc_outputs_before_callback)
{
  CredHandle cred = acquire_sync ();
  Waiter *w = waiter_new (NULL);
  SspiAsyncContext *ctx = new_context (w);

  ck_assert_int_eq (queue_first_isc (ctx, w, &cred), SEC_E_OK);
  ck_assert (waiter_wait (w, 1, WAIT_MS));
  ck_assert_ptr_ne (w->thread, g_thread_self ());
  ck_assert_int_eq (w->status, SEC_I_CONTINUE_NEEDED);
  /* Seen from inside the callback: a ClientHello record, a new context, and
   * the allocated-memory attribute. */
  ck_assert (SecIsValidHandle (&w->ctxt_seen));
  ck_assert_uint_gt (w->out_size_seen, 5);
  ck_assert_uint_eq (w->out_first_byte_seen, 0x16);
  ck_assert_uint_ne (w->attr_seen & ISC_RET_ALLOCATED_MEMORY, 0);

  ck_assert_int_eq (DeleteSecurityContext (&w->ctxt), SEC_E_OK);
  ck_assert_int_eq (DeleteSecurityContext (&w->ctxt), SEC_E_INVALID_HANDLE);
  ck_assert_int_eq (FreeCredentialsHandle (&cred), SEC_E_OK);
  SspiFreeAsyncContext (ctx);
  waiter_free (w);
}
END_TEST

/* The caller's buffer without ISC_REQ_ALLOCATE_MEMORY: copied if it fits,
 * refused as Schannel does otherwise. */
START_TEST (test_output_buffer_sizes)
{
  CredHandle cred = acquire_sync ();
  guint8 small[8], big[16384];
  SecBuffer out = { sizeof small, SECBUFFER_TOKEN, small };
  SecBufferDesc out_desc = { SECBUFFER_VERSION, 1, &out };
  CtxtHandle ctxt;
  ULONG attr;
  TimeStamp expiry;

  SecInvalidateHandle (&ctxt);
  ck_assert_int_eq (InitializeSecurityContextA (&cred, NULL, "localhost", ISC_FLAGS,
                                                0, 0, NULL, 0, &ctxt, &out_desc,
                                                &attr, &expiry),
                    SEC_E_BUFFER_TOO_SMALL);
  ck_assert_uint_eq (out.cbBuffer, 0);
  if (SecIsValidHandle (&ctxt))
    DeleteSecurityContext (&ctxt);

  out = (SecBuffer) { 0, SECBUFFER_TOKEN, NULL };
  SecInvalidateHandle (&ctxt);
  ck_assert_int_eq (InitializeSecurityContextA (&cred, NULL, "localhost", ISC_FLAGS,
                                                0, 0, NULL, 0, &ctxt, &out_desc,
                                                &attr, &expiry),
                    SEC_E_INSUFFICIENT_MEMORY);
  if (SecIsValidHandle (&ctxt))
    DeleteSecurityContext (&ctxt);

  out = (SecBuffer) { sizeof big, SECBUFFER_TOKEN, big };
  attr = 0xffffffff;
  SecInvalidateHandle (&ctxt);
  ck_assert_int_eq (InitializeSecurityContextA (&cred, NULL, "localhost", ISC_FLAGS,
                                                0, 0, NULL, 0, &ctxt, &out_desc,
                                                &attr, &expiry),
                    SEC_I_CONTINUE_NEEDED);
  ck_assert_uint_gt (out.cbBuffer, 5);
  ck_assert_uint_lt (out.cbBuffer, sizeof big);
  ck_assert_uint_eq (big[0], 0x16);
  ck_assert_uint_eq (attr & ISC_RET_ALLOCATED_MEMORY, 0);
  ck_assert_int_eq (DeleteSecurityContext (&ctxt), SEC_E_OK);
  ck_assert_int_eq (FreeCredentialsHandle (&cred), SEC_E_OK);
}
END_TEST

/* A first async step whose token does not fit the caller's buffer fails
 * (as the sync call does) and leaves no context behind in the daemon: the
 * caller never gets its handle, so the library deletes it. */
START_TEST (test_failed_first_async_step_leaves_no_context)
{
  CredHandle cred = acquire_sync ();
  Waiter *w = waiter_new (NULL);
  SspiAsyncContext *ctx = new_context (w);
  guint8 small[8];
  TuCounts before = tu_fixture_counts ();
  TuCounts now = before;
  gint64 start;

  w->out_buf = (SecBuffer) { sizeof small, SECBUFFER_TOKEN, small };
  ck_assert_int_eq (SspiInitializeSecurityContextAsyncA (ctx, &cred, NULL, "localhost",
                                                         ISC_FLAGS, 0, 0, NULL, 0, &w->ctxt,
                                                         &w->out_desc, &w->attr, &w->expiry),
                    SEC_E_OK);
  ck_assert (waiter_wait (w, 1, WAIT_MS));
  ck_assert_int_eq (w->status, SEC_E_BUFFER_TOO_SMALL);
  ck_assert (!SecIsValidHandle (&w->ctxt));

  start = g_get_monotonic_time ();
  while (ms_since (start) < WAIT_MS)
    {
      now = tu_fixture_counts ();
      if (now.contexts == before.contexts)
        break;
      g_usleep (20 * 1000);
    }
  ck_assert_uint_eq (now.contexts, before.contexts);

  w->out_buf = (SecBuffer) { 0, SECBUFFER_TOKEN, NULL };   /* not ours to free */
  ck_assert_int_eq (FreeCredentialsHandle (&cred), SEC_E_OK);
  SspiFreeAsyncContext (ctx);
  waiter_free (w);
}
END_TEST

/* ---- inside the callback ------------------------------------------------ */

static void
hook_free (Waiter *w, SspiAsyncContext *ctx)
{
  SspiFreeAsyncContext (ctx);
}

START_TEST (test_free_inside_callback)
{
  Waiter *w = waiter_new (hook_free);
  SspiAsyncContext *ctx = new_context (w);

  ck_assert_int_eq (queue_anonymous_acquire (ctx, w), SEC_E_OK);
  ck_assert (waiter_wait (w, 1, WAIT_MS));
  ck_assert_int_eq (w->status, SEC_E_OK);
  g_usleep (SETTLE_MS * 1000);
  ck_assert_int_eq (waiter_calls (w), 1);
  ck_assert_int_eq (FreeCredentialsHandle (&w->cred), SEC_E_OK);
  waiter_free (w);
}
END_TEST

/* ACH's callback reinits its context and queues the first ISC step on it. */
static void
hook_chain (Waiter *w, SspiAsyncContext *ctx)
{
  if (w->calls > 0)
    return;   /* the second completion: nothing more to queue */
  w->hook_status[0] = SspiReinitAsyncContext (ctx);
  w->hook_status[1] = SspiGetAsyncCallStatus (ctx);
  w->hook_status[2] = queue_first_isc (ctx, w, &w->cred);
}

START_TEST (test_reinit_and_next_call_inside_callback)
{
  Waiter *w = waiter_new (hook_chain);
  SspiAsyncContext *ctx = new_context (w);

  ck_assert_int_eq (queue_anonymous_acquire (ctx, w), SEC_E_OK);
  ck_assert (waiter_wait (w, 2, WAIT_MS));
  ck_assert_int_eq (w->hook_status[0], STATUS_SUCCESS);
  ck_assert_int_eq (w->hook_status[1], SEC_E_OK);
  ck_assert_int_eq (w->hook_status[2], SEC_E_OK);
  ck_assert_int_eq (w->status, SEC_I_CONTINUE_NEEDED);
  ck_assert_uint_eq (w->out_first_byte_seen, 0x16);
  ck_assert_int_eq (SspiGetAsyncCallStatus (ctx), SEC_I_CONTINUE_NEEDED);

  ck_assert_int_eq (DeleteSecurityContext (&w->ctxt), SEC_E_OK);
  ck_assert_int_eq (FreeCredentialsHandle (&w->cred), SEC_E_OK);
  SspiFreeAsyncContext (ctx);
  waiter_free (w);
}
END_TEST

/* Synchronous calls from the library thread must not deadlock. */
static void
hook_sync_calls (Waiter *w, SspiAsyncContext *ctx)
{
  CredHandle cred;
  TimeStamp expiry;

  w->hook_status[0] = AcquireCredentialsHandleA (NULL, UNISP_NAME_A,
                                                 SECPKG_CRED_OUTBOUND, NULL,
                                                 NULL, NULL, NULL, &cred,
                                                 &expiry);
  w->hook_status[1] = FreeCredentialsHandle (&cred);
  w->hook_status[2] = FreeCredentialsHandle (&w->cred);
}

START_TEST (test_sync_calls_inside_callback)
{
  Waiter *w = waiter_new (hook_sync_calls);
  SspiAsyncContext *ctx = new_context (w);

  ck_assert_int_eq (queue_anonymous_acquire (ctx, w), SEC_E_OK);
  ck_assert (waiter_wait (w, 1, WAIT_MS));
  ck_assert_int_eq (w->hook_status[0], SEC_E_OK);
  ck_assert_int_eq (w->hook_status[1], SEC_E_OK);
  ck_assert_int_eq (w->hook_status[2], SEC_E_OK);
  SspiFreeAsyncContext (ctx);
  waiter_free (w);
}
END_TEST

/* ---- pending calls ------------------------------------------------------- */

START_TEST (test_pending_context_refuses_second_call)
{
  CredHandle cred = acquire_sync ();   /* connected before the daemon stops */
  Waiter *w = waiter_new (NULL);
  SspiAsyncContext *ctx = new_context (w);

  w->attr = 0xdeadbeef;
  w->expiry = (TimeStamp) { 0xdeadbeef, 0x0badf00d };
  daemon_signal (SIGSTOP);
  ck_assert_int_eq (queue_first_isc (ctx, w, &cred), SEC_E_OK);
  ck_assert_int_eq (SspiGetAsyncCallStatus (ctx), SEC_I_ASYNC_CALL_PENDING);
  /* Zeroed when queued, as on Windows. */
  ck_assert_uint_eq (w->attr, 0);
  ck_assert_uint_eq (w->expiry.LowPart, 0);
  ck_assert_int_eq (w->expiry.HighPart, 0);

  ck_assert_int_eq (queue_first_isc (ctx, w, &cred), SEC_E_INVALID_PARAMETER);
  ck_assert_int_eq (queue_anonymous_acquire (ctx, w), SEC_E_INVALID_PARAMETER);
  ck_assert_int_eq (SspiReinitAsyncContext (ctx), STATUS_INVALID_PARAMETER);
  g_usleep (SETTLE_MS * 1000);
  ck_assert_int_eq (waiter_calls (w), 0);
  ck_assert_int_eq (SspiGetAsyncCallStatus (ctx), SEC_I_ASYNC_CALL_PENDING);

  daemon_signal (SIGCONT);
  ck_assert (waiter_wait (w, 1, WAIT_MS));
  ck_assert_int_eq (w->status, SEC_I_CONTINUE_NEEDED);
  g_usleep (SETTLE_MS * 1000);
  ck_assert_int_eq (waiter_calls (w), 1);   /* refused calls never complete */

  ck_assert_int_eq (DeleteSecurityContext (&w->ctxt), SEC_E_OK);
  ck_assert_int_eq (FreeCredentialsHandle (&cred), SEC_E_OK);
  SspiFreeAsyncContext (ctx);
  waiter_free (w);
}
END_TEST

START_TEST (test_free_while_pending)
{
  CredHandle cred = acquire_sync ();
  Waiter *w = waiter_new (NULL);
  Waiter *later = waiter_new (NULL);
  SspiAsyncContext *ctx = new_context (w);
  SspiAsyncContext *ctx2 = new_context (later);

  daemon_signal (SIGSTOP);
  ck_assert_int_eq (queue_first_isc (ctx, w, &cred), SEC_E_OK);
  SspiFreeAsyncContext (ctx);
  daemon_signal (SIGCONT);

  /* A later call's completion, plus time for the dropped one to arrive. */
  ck_assert_int_eq (queue_anonymous_acquire (ctx2, later), SEC_E_OK);
  ck_assert (waiter_wait (later, 1, WAIT_MS));
  g_usleep (SETTLE_MS * 1000);
  ck_assert_int_eq (waiter_calls (w), 0);
  /* Nothing written after the free. */
  ck_assert (!SecIsValidHandle (&w->ctxt));
  ck_assert_ptr_null (w->out_buf.pvBuffer);

  ck_assert_int_eq (FreeCredentialsHandle (&later->cred), SEC_E_OK);
  ck_assert_int_eq (FreeCredentialsHandle (&cred), SEC_E_OK);
  SspiFreeAsyncContext (ctx2);
  waiter_free (w);
  waiter_free (later);
}
END_TEST

/* Freeing an async context while its call is pending must not leak: the
 * credential or context the dropped call made in the daemon is freed
 * there, since nobody will ever learn its handle. */
START_TEST (test_free_while_pending_releases_handles)
{
  CredHandle cred = acquire_sync ();
  Waiter *w_acquire = waiter_new (NULL);
  Waiter *w_isc = waiter_new (NULL);
  SspiAsyncContext *acquire_ctx = new_context (w_acquire);
  SspiAsyncContext *isc_ctx = new_context (w_isc);
  TuCounts before = tu_fixture_counts ();
  TuCounts now = before;
  gint64 start;

  daemon_signal (SIGSTOP);
  ck_assert_int_eq (queue_anonymous_acquire (acquire_ctx, w_acquire), SEC_E_OK);
  ck_assert_int_eq (queue_first_isc (isc_ctx, w_isc, &cred), SEC_E_OK);
  SspiFreeAsyncContext (acquire_ctx);
  SspiFreeAsyncContext (isc_ctx);
  daemon_signal (SIGCONT);

  start = g_get_monotonic_time ();
  while (ms_since (start) < WAIT_MS)
    {
      now = tu_fixture_counts ();
      if (now.credentials == before.credentials && now.contexts == before.contexts
          && now.pending == 0)
        break;
      g_usleep (20 * 1000);
    }
  ck_assert_uint_eq (now.credentials, before.credentials);
  ck_assert_uint_eq (now.contexts, before.contexts);
  ck_assert_int_eq (waiter_calls (w_acquire), 0);
  ck_assert_int_eq (waiter_calls (w_isc), 0);

  ck_assert_int_eq (FreeCredentialsHandle (&cred), SEC_E_OK);
  waiter_free (w_acquire);
  waiter_free (w_isc);
}
END_TEST

START_TEST (test_fire_and_forget_delete)
{
  CredHandle cred = acquire_sync ();
  CtxtHandle ctxt = first_isc_sync (&cred);
  SecPkgContext_ApplicationProtocol alpn;
  SspiAsyncContext *ctx = new_context (NULL);
  SECURITY_STATUS status = SEC_E_OK;
  gint64 start;

  ck_assert (!SspiAsyncContextRequiresNotify (ctx));
  ck_assert_int_eq (QueryContextAttributesA (&ctxt, SECPKG_ATTR_APPLICATION_PROTOCOL,
                                             &alpn),
                    SEC_E_OK);
  ck_assert_int_eq (SspiDeleteSecurityContextAsync (ctx, &ctxt), SEC_E_OK);
  SspiFreeAsyncContext (ctx);

  /* The daemon deletes it: the handle dies. */
  start = g_get_monotonic_time ();
  while (ms_since (start) < WAIT_MS)
    {
      status = QueryContextAttributesA (&ctxt, SECPKG_ATTR_APPLICATION_PROTOCOL,
                                        &alpn);
      if (status != SEC_E_OK)
        break;
      g_usleep (10 * 1000);
    }
  ck_assert_int_eq (status, SEC_E_INVALID_HANDLE);
  ck_assert_int_eq (FreeCredentialsHandle (&cred), SEC_E_OK);
}
END_TEST

/* ---- refusals ------------------------------------------------------------- */

START_TEST (test_unknown_credential)
{
  Waiter *w = waiter_new (NULL);
  SspiAsyncContext *ctx = new_context (w);

  ck_assert_int_eq (SspiAcquireCredentialsHandleAsyncA (ctx, "no-such-credential",
                                                        SCHANNEL_NAME_A,
                                                        SECPKG_CRED_INBOUND, NULL,
                                                        NULL, NULL, NULL,
                                                        &w->cred, &w->expiry),
                    SEC_E_OK);
  ck_assert (waiter_wait (w, 1, WAIT_MS));
  ck_assert_int_eq (w->status, SEC_E_UNKNOWN_CREDENTIALS);
  ck_assert (!SecIsValidHandle (&w->cred));
  SspiFreeAsyncContext (ctx);
  waiter_free (w);
}
END_TEST

START_TEST (test_wrong_package_at_queue_time)
{
  Waiter *w = waiter_new (NULL);
  SspiAsyncContext *ctx = new_context (w);
  WCHAR kerberos[] = { 'K', 'e', 'r', 'b', 'e', 'r', 'o', 's', 0 };
  SCHANNEL_CRED with_cert = { .dwVersion = SCHANNEL_CRED_VERSION, .cCreds = 1 };
  CredHandle cred;
  TimeStamp expiry;

  ck_assert_int_eq (SspiAcquireCredentialsHandleAsyncA (ctx, NULL, "Kerberos",
                                                        SECPKG_CRED_OUTBOUND, NULL,
                                                        NULL, NULL, NULL,
                                                        &w->cred, &w->expiry),
                    SEC_E_SECPKG_NOT_FOUND);
  ck_assert_int_eq (SspiAcquireCredentialsHandleAsyncW (ctx, NULL, kerberos,
                                                        SECPKG_CRED_OUTBOUND, NULL,
                                                        NULL, NULL, NULL,
                                                        &w->cred, &w->expiry),
                    SEC_E_SECPKG_NOT_FOUND);
  /* Keys come from the daemon, never from the caller: refused as Windows
   * refuses a certificate it cannot use. */
  ck_assert_int_eq (SspiAcquireCredentialsHandleAsyncA (ctx, NULL, SCHANNEL_NAME_A,
                                                        SECPKG_CRED_OUTBOUND, NULL,
                                                        &with_cert, NULL, NULL,
                                                        &w->cred, &w->expiry),
                    SEC_E_UNKNOWN_CREDENTIALS);
  /* Nothing was queued: the context is still idle and usable. */
  ck_assert_int_eq (SspiGetAsyncCallStatus (ctx), SEC_E_OK);
  g_usleep (SETTLE_MS * 1000);
  ck_assert_int_eq (waiter_calls (w), 0);

  /* The W entry point with UNISP_NAME_W works, case-insensitively too. */
  ck_assert_int_eq (SspiAcquireCredentialsHandleAsyncW (ctx, NULL, UNISP_NAME_W,
                                                        SECPKG_CRED_OUTBOUND, NULL,
                                                        NULL, NULL, NULL,
                                                        &w->cred, &w->expiry),
                    SEC_E_OK);
  ck_assert (waiter_wait (w, 1, WAIT_MS));
  ck_assert_int_eq (w->status, SEC_E_OK);
  ck_assert_int_eq (FreeCredentialsHandle (&w->cred), SEC_E_OK);
  ck_assert_int_eq (AcquireCredentialsHandleA (NULL, "SCHANNEL", SECPKG_CRED_OUTBOUND,
                                               NULL, NULL, NULL, NULL, &cred, &expiry),
                    SEC_E_OK);
  ck_assert_int_eq (FreeCredentialsHandle (&cred), SEC_E_OK);
  SspiFreeAsyncContext (ctx);
  waiter_free (w);
}
END_TEST

START_TEST (test_invalid_handles)
{
  CredHandle cred = acquire_sync ();
  CtxtHandle ctxt = first_isc_sync (&cred);
  CredHandle invalid;
  Waiter *w = waiter_new (NULL);
  SspiAsyncContext *ctx = new_context (w);

  SecInvalidateHandle (&invalid);
  ck_assert_int_eq (queue_first_isc (ctx, w, &invalid), SEC_E_INVALID_HANDLE);
  ck_assert_int_eq (SspiFreeCredentialsHandleAsync (ctx, &invalid), SEC_E_INVALID_HANDLE);
  ck_assert_int_eq (SspiDeleteSecurityContextAsync (ctx, &invalid), SEC_E_INVALID_HANDLE);
  /* The wrong kind of handle. */
  ck_assert_int_eq (queue_first_isc (ctx, w, &ctxt), SEC_E_INVALID_HANDLE);
  ck_assert_int_eq (SspiDeleteSecurityContextAsync (ctx, &cred), SEC_E_INVALID_HANDLE);
  ck_assert_int_eq (SspiFreeCredentialsHandleAsync (ctx, &ctxt), SEC_E_INVALID_HANDLE);
  ck_assert_int_eq (SspiGetAsyncCallStatus (ctx), SEC_E_OK);
  g_usleep (SETTLE_MS * 1000);
  ck_assert_int_eq (waiter_calls (w), 0);

  /* The right kinds still work, asynchronously. */
  ck_assert_int_eq (SspiDeleteSecurityContextAsync (ctx, &ctxt), SEC_E_OK);
  ck_assert (waiter_wait (w, 1, WAIT_MS));
  ck_assert_int_eq (w->status, SEC_E_OK);
  ck_assert_int_eq (SspiReinitAsyncContext (ctx), STATUS_SUCCESS);
  ck_assert_int_eq (SspiFreeCredentialsHandleAsync (ctx, &cred), SEC_E_OK);
  ck_assert (waiter_wait (w, 2, WAIT_MS));
  ck_assert_int_eq (w->status, SEC_E_OK);
  ck_assert_int_eq (FreeCredentialsHandle (&cred), SEC_E_INVALID_HANDLE);
  SspiFreeAsyncContext (ctx);
  waiter_free (w);
}
END_TEST

/* ---- the daemon goes away ------------------------------------------------ */

START_TEST (test_daemon_killed_with_calls_pending)
{
  CredHandle cred = acquire_sync ();
  CtxtHandle ctxt = first_isc_sync (&cred);
  Waiter *w[3];
  SspiAsyncContext *ctx[3];
  gint64 start;

  daemon_signal (SIGSTOP);
  for (int i = 0; i < 3; i++)
    {
      w[i] = waiter_new (NULL);
      ctx[i] = new_context (w[i]);
    }
  ck_assert_int_eq (queue_anonymous_acquire (ctx[0], w[0]), SEC_E_OK);
  ck_assert_int_eq (queue_first_isc (ctx[1], w[1], &cred), SEC_E_OK);
  ck_assert_int_eq (SspiDeleteSecurityContextAsync (ctx[2], &ctxt), SEC_E_OK);

  tu_env_kill_daemon (tu_fixture_env, SIGKILL);
  start = g_get_monotonic_time ();
  for (int i = 0; i < 3; i++)
    {
      ck_assert_msg (waiter_wait (w[i], 1, PROMPT_MS), "call %d not failed in time", i);
      ck_assert_int_eq (w[i]->status, SEC_E_NO_AUTHENTICATING_AUTHORITY);
      ck_assert_int_eq (SspiGetAsyncCallStatus (ctx[i]), SEC_E_NO_AUTHENTICATING_AUTHORITY);
    }
  ck_assert_int_le (ms_since (start), PROMPT_MS);

  /* Every handle from before is dead, without asking anyone. */
  ck_assert_int_eq (FreeCredentialsHandle (&cred), SEC_E_INVALID_HANDLE);
  ck_assert_int_eq (DeleteSecurityContext (&ctxt), SEC_E_INVALID_HANDLE);
  /* No daemon: refused promptly, not after a D-Bus timeout. */
  start = g_get_monotonic_time ();
  ck_assert_int_eq (SspiReinitAsyncContext (ctx[0]), STATUS_SUCCESS);
  ck_assert_int_eq (queue_anonymous_acquire (ctx[0], w[0]),
                    SEC_E_NO_AUTHENTICATING_AUTHORITY);
  ck_assert_int_le (ms_since (start), 2000);

  tu_env_start_daemon (tu_fixture_env);
  ck_assert_int_eq (queue_anonymous_acquire (ctx[0], w[0]), SEC_E_OK);
  ck_assert (waiter_wait (w[0], 2, WAIT_MS));
  ck_assert_int_eq (w[0]->status, SEC_E_OK);
  ck_assert_int_eq (FreeCredentialsHandle (&cred), SEC_E_INVALID_HANDLE);
  ck_assert_int_eq (FreeCredentialsHandle (&w[0]->cred), SEC_E_OK);

  for (int i = 0; i < 3; i++)
    {
      ck_assert_int_eq (waiter_calls (w[i]), i == 0 ? 2 : 1);
      SspiFreeAsyncContext (ctx[i]);
      waiter_free (w[i]);
    }
}
END_TEST

/* ---- hostile peers, fork -------------------------------------------------- */

/* Another peer on the bus addresses forged Completed signals to every other
 * connection, for every call id we could have used: none is believed. */
static void
forge_completed (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) c = NULL;
  g_autoptr(GVariant) names = NULL;
  g_autofree const char **list = NULL;

  c = g_dbus_connection_new_for_address_sync (tu_fixture_env->bus_address,
                                              G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                                              | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                              NULL, NULL, &error);
  ck_assert_ptr_nonnull (c);
  names = g_dbus_connection_call_sync (c, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "ListNames", NULL,
                                       G_VARIANT_TYPE ("(as)"), G_DBUS_CALL_FLAGS_NONE,
                                       5000, NULL, &error);
  ck_assert_ptr_nonnull (names);
  g_variant_get (names, "(^a&s)", &list);
  for (gsize i = 0; list[i] != NULL; i++)
    {
      if (list[i][0] != ':' || g_strcmp0 (list[i], g_dbus_connection_get_unique_name (c)) == 0)
        continue;
      for (guint64 id = 1; id <= 64; id++)
        g_dbus_connection_emit_signal (c, list[i], SSPID_OBJECT_PATH, SSPID_INTERFACE,
                                       SSPID_SIGNAL_COMPLETED,
                                       g_variant_new ("(tut@ayuxuu@a{sv})", id, 0u,
                                                      (guint64) 0x4242,
                                                      g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                                 NULL, 0, 1),
                                                      0u, (gint64) 0, 0u, 0u,
                                                      g_variant_new_array (G_VARIANT_TYPE ("{sv}"),
                                                                           NULL, 0)),
                                       NULL);
    }
  g_dbus_connection_flush_sync (c, NULL, NULL);
  g_dbus_connection_close_sync (c, NULL, NULL);
}

START_TEST (test_forged_completed_ignored)
{
  CredHandle cred = acquire_sync ();
  Waiter *w = waiter_new (NULL);
  SspiAsyncContext *ctx = new_context (w);

  daemon_signal (SIGSTOP);
  ck_assert_int_eq (queue_anonymous_acquire (ctx, w), SEC_E_OK);
  forge_completed ();
  g_usleep (SETTLE_MS * 1000);
  ck_assert_int_eq (waiter_calls (w), 0);
  ck_assert (!SecIsValidHandle (&w->cred));
  ck_assert_int_eq (SspiGetAsyncCallStatus (ctx), SEC_I_ASYNC_CALL_PENDING);

  daemon_signal (SIGCONT);
  ck_assert (waiter_wait (w, 1, WAIT_MS));
  ck_assert_int_eq (w->status, SEC_E_OK);
  ck_assert_uint_ne (w->cred.dwLower, 0x4242);
  ck_assert_int_eq (FreeCredentialsHandle (&w->cred), SEC_E_OK);
  ck_assert_int_eq (FreeCredentialsHandle (&cred), SEC_E_OK);
  SspiFreeAsyncContext (ctx);
  waiter_free (w);
}
END_TEST

/* The child of a fork does not inherit the parent's session: the parent's
 * handles are stale there, and the child's calls go over a connection of
 * its own (a new caller for the daemon); the parent is unaffected. */
START_TEST (test_fork_child_starts_clean)
{
  CredHandle cred = acquire_sync ();
  CredHandle child_cred;
  TimeStamp expiry;
  guint8 result = 0xff;
  int fds[2];
  pid_t pid;

  /* The child reports through a pipe, not its exit code, which a memory
   * checker may take over (the parent's threads' data is lost there by
   * design). */
  ck_assert_int_eq (pipe (fds), 0);
  pid = tu_fork_quiet ();
  ck_assert_int_ge (pid, 0);
  if (pid == 0)
    {
      gint64 start = g_get_monotonic_time ();
      guint8 code = 0;

      if (FreeCredentialsHandle (&cred) != SEC_E_INVALID_HANDLE)
        code |= 1;
      if (AcquireCredentialsHandleA (NULL, SCHANNEL_NAME_A, SECPKG_CRED_OUTBOUND,
                                     NULL, NULL, NULL, NULL, &child_cred, &expiry) != SEC_E_OK)
        code |= 2;
      else
        {
          /* Never the parent's handle, and the parent's still is not ours. */
          if (child_cred.dwLower == cred.dwLower)
            code |= 8;
          if (FreeCredentialsHandle (&child_cred) != SEC_E_OK)
            code |= 16;
          if (FreeCredentialsHandle (&cred) != SEC_E_INVALID_HANDLE)
            code |= 32;
        }
      if (ms_since (start) > 5000)
        code |= 4;
      if (write (fds[1], &code, 1) != 1)
        _exit (1);
      _exit (0);
    }
  close (fds[1]);
  ck_assert_int_eq (read (fds[0], &result, 1), 1);
  close (fds[0]);
  ck_assert_int_eq (waitpid (pid, NULL, 0), pid);
  ck_assert_uint_eq (result, 0);
  /* The parent's session survived the child. */
  ck_assert_int_eq (FreeCredentialsHandle (&cred), SEC_E_OK);
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "completion", tu_fixture_setup, tu_fixture_teardown, 60, { { test_acquire_completes_once_on_library_thread },
                                                                 { test_first_isc_outputs_before_callback },
                                                                 { test_output_buffer_sizes },
                                                                 { test_failed_first_async_step_leaves_no_context },
                                                                 { test_free_inside_callback },
                                                                 { test_reinit_and_next_call_inside_callback },
                                                                 { test_sync_calls_inside_callback } } },
    { "pending", tu_fixture_setup, tu_fixture_teardown, 60, { { test_pending_context_refuses_second_call },
                                                              { test_free_while_pending },
                                                              { test_free_while_pending_releases_handles },
                                                              { test_fire_and_forget_delete } } },
    { "refusals", tu_fixture_setup, tu_fixture_teardown, 60, { { test_unknown_credential },
                                                               { test_wrong_package_at_queue_time },
                                                               { test_invalid_handles } } },
    { "failures", tu_fixture_setup, tu_fixture_teardown, 60, { { test_daemon_killed_with_calls_pending },
                                                               { test_forged_completed_ignored },
                                                               { test_fork_child_starts_clean } } },
  };

  return tu_run_cases ("async", cases, G_N_ELEMENTS (cases));
}
