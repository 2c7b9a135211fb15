/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The working half of the D-Bus front (see sspid-service-private.h):
 * answering calls exactly once, the per-context FIFO of calls, the worker
 * pool that runs handshake steps and record protection off the main
 * thread, and the reaper of handshakes that never finish.
 *
 * A call on a context waits in the context's queue until the call before
 * it is answered; then it runs on a worker, which touches only that
 * context's SspidTls and hands the call back through an async queue that a
 * GSource drains on the main thread.  Everything else happens on the main
 * thread.  Contexts are reference counted, so one whose caller vanished
 * while a step ran is freed when the step is back.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sspid-describe.h"
#include "sspid-proto.h"
#include "sspid-service-private.h"
#include "sspi.h"
#include "schannel.h"

static void context_run_next (SspidContext *ctx);
static void work_run (SspidCall *call);
static void work_queue (SspidService *service, SspidCall *call);

/* Run a record channel's EncryptMessage / DecryptMessage on the main
 * thread when its context is free, rather than on a worker (measured in
 * BENCHMARKS.md: B1). */
#ifndef INLINE_CHANNEL_RECORDS
#define INLINE_CHANNEL_RECORDS 1
#endif

/* --- answers ------------------------------------------------------------ */

static SspidContext *context_ref (SspidContext *ctx);
static void context_unref (SspidContext *ctx);

void
sspid_call_free (SspidCall *call)
{
  g_assert (call->invocation == NULL);
  if (call->caller != NULL)
    {
      sspid_caller_pending_end (call->caller);
      sspid_caller_unref (call->caller);
    }
  g_clear_pointer (&call->ctx, context_unref);
  g_clear_pointer (&call->channel, sspid_channel_unref);
  g_clear_pointer (&call->params, g_variant_unref);
  sspid_request_clear (&call->request);
  sspid_tls_step_clear (&call->step);
  g_clear_pointer (&call->info, g_variant_unref);
  g_clear_pointer (&call->record, g_bytes_unref);
  sspid_tls_decrypt_clear (&call->decrypt);
  g_free (call->established);
  g_free (call);
}

static GVariant *
bytes_variant (GBytes *bytes)
{
  if (bytes == NULL)
    return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, NULL, 0, 1);
  return g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, bytes, TRUE);
}

/* A cleanup sent with NO_REPLY_EXPECTED and call_id 0: nobody reads its
 * answer (proto/org.sspid1.xml), so none is sent. */
static gboolean
is_unanswered (const SspidCall *call)
{
  return call->no_reply && call->call_id == 0
         && (call->kind == SSPID_CALL_DELETE || call->kind == SSPID_CALL_FREE);
}

/* A call sent with NO_REPLY_EXPECTED gets the Completed signal, addressed
 * to its sender alone; returning the invocation then sends nothing. */
static void
send_step (SspidCall *call, SECURITY_STATUS status, guint64 handle, GBytes *token,
           guint32 attributes, gint64 expiry, guint32 extra, guint32 missing)
{
  GDBusMethodInvocation *invocation = g_steal_pointer (&call->invocation);

  if (is_unanswered (call))
    g_dbus_method_invocation_return_value (invocation, NULL);
  else if (call->no_reply)
    {
      g_autoptr(GError) error = NULL;
      GVariant *signal = g_variant_new ("(tut@ayuxuu)", call->call_id, (guint32) status,
                                        handle, bytes_variant (token), attributes,
                                        expiry, extra, missing);

      if (!g_dbus_connection_emit_signal (call->service->connection,
                                          g_dbus_method_invocation_get_sender (invocation),
                                          SSPID_OBJECT_PATH, SSPID_INTERFACE,
                                          SSPID_SIGNAL_COMPLETED, signal, &error))
        sspid_caller_log (call->caller, G_LOG_LEVEL_DEBUG, NULL, 0,
                          "cannot send Completed: %s", error->message);
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else
    g_dbus_method_invocation_return_value (invocation,
                                           g_variant_new ("(ut@ayuxuu)", (guint32) status,
                                                          handle, bytes_variant (token),
                                                          attributes, expiry, extra,
                                                          missing));
}

void
sspid_call_answer_step (SspidCall *call, SECURITY_STATUS status, guint64 handle,
                        GBytes *token, guint32 attributes, gint64 expiry, guint32 extra,
                        guint32 missing)
{
  send_step (call, status, handle, token, attributes, expiry, extra, missing);
  sspid_call_free (call);
}

void
sspid_call_answer_value (SspidCall *call, GVariant *reply)
{
  if (call->channel != NULL)
    sspid_channel_answer (call->channel, call->serial, call->kind, reply);
  else
    g_dbus_method_invocation_return_value (g_steal_pointer (&call->invocation), reply);
  sspid_call_free (call);
}

/* The reply of a call that ran on a worker, sent from that worker: GDBus
 * sends from any thread, so the caller does not wait for the main loop to
 * come round.  The call itself is freed on the main thread (it touches
 * the caller registry). */
/* The reply of a synchronous call that did its work (floating), or NULL
 * for a handshake step, which answers with a step result. */
static GVariant *
work_reply (SspidCall *call)
{
  const SspidTlsDecrypt *d = &call->decrypt;

  switch (call->kind)
    {
    case SSPID_CALL_QUERY:
      return g_variant_new ("(u@a{sv})", (guint32) SEC_E_OK, call->info);
    case SSPID_CALL_ENCRYPT:
      return g_variant_new ("(u@ayu)", (guint32) call->step.status,
                            bytes_variant (call->record), call->header_size);
    case SSPID_CALL_DECRYPT:
      return g_variant_new ("(u@ayuuuu)", (guint32) d->status, bytes_variant (d->plaintext),
                            call->header_size, d->record_size, d->extra, d->missing);
    default:
      return NULL;
    }
}

static void
send_worker_answer (SspidCall *call)
{
  SspidTlsStep *step = &call->step;
  GVariant *reply = work_reply (call);

  switch (call->kind)
    {
    case SSPID_CALL_QUERY:
    case SSPID_CALL_ENCRYPT:
    case SSPID_CALL_DECRYPT:
      break;
    default:
      /* As on Windows, a failed first call leaves no context behind. */
      send_step (call, step->status,
                 call->create && SSPID_STATUS_IS_ERROR (step->status) ? 0 : call->ctx->handle,
                 step->token, step->attributes, step->expiry, step->extra, step->missing);
      return;
    }
  g_dbus_method_invocation_return_value (g_steal_pointer (&call->invocation), reply);
}

/* @info is borrowed; NULL answers an empty dictionary. */
static void
answer_query (SspidCall *call, SECURITY_STATUS status, GVariant *info)
{
  if (info == NULL)
    info = g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0);
  sspid_call_answer_value (call, g_variant_new ("(u@a{sv})", (guint32) status, info));
}

static void
answer_encrypt (SspidCall *call, SECURITY_STATUS status, GBytes *record, guint32 header_size)
{
  sspid_call_answer_value (call, g_variant_new ("(u@ayu)", (guint32) status,
                                                bytes_variant (record), header_size));
}

static void
answer_decrypt (SspidCall *call, SECURITY_STATUS status, const SspidTlsDecrypt *d,
                guint32 header_size)
{
  sspid_call_answer_value (call,
                           g_variant_new ("(u@ayuuuu)", (guint32) status,
                                          bytes_variant (d != NULL ? d->plaintext : NULL),
                                          header_size, d != NULL ? d->record_size : 0,
                                          d != NULL ? d->extra : 0,
                                          d != NULL ? d->missing : 0));
}

/* The diagnostic methods have no status to answer with: what keeps them
 * from being served is a D-Bus error.  @limit: the limit hit, if that
 * was it. */
static void
answer_dbus_error (SspidCall *call, SECURITY_STATUS status, const char *limit)
{
  GDBusMethodInvocation *invocation = g_steal_pointer (&call->invocation);

  if (status == SEC_E_INSUFFICIENT_MEMORY)
    {
      g_autofree char *text = g_strdup_printf ("Limit %s reached",
                                               limit != NULL ? limit : "?");

      g_dbus_method_invocation_return_dbus_error (invocation, SSPID_ERROR_LIMIT, text);
    }
  else if (status == SEC_E_NO_AUTHENTICATING_AUTHORITY)
    g_dbus_method_invocation_return_dbus_error (invocation, SSPID_ERROR_INTERNAL,
                                                "The daemon is stopping");
  else
    g_dbus_method_invocation_return_dbus_error (invocation, SSPID_ERROR_ACCESS_DENIED,
                                                "The caller could not be identified");
  sspid_call_free (call);
}

static gboolean
is_diagnostic (SspidCallKind kind)
{
  return kind == SSPID_CALL_GET_STATUS || kind == SSPID_CALL_LIST_CREDENTIALS
         || kind == SSPID_CALL_LIST_CONTEXTS || kind == SSPID_CALL_OPEN_CHANNEL;
}

void
sspid_call_answer_status (SspidCall *call, SECURITY_STATUS status)
{
  if (is_diagnostic (call->kind))
    {
      answer_dbus_error (call, status, NULL);
      return;
    }
  switch (call->kind)
    {
    case SSPID_CALL_QUERY:
      answer_query (call, status, NULL);
      break;
    case SSPID_CALL_ENCRYPT:
      answer_encrypt (call, status, NULL, 0);
      break;
    case SSPID_CALL_DECRYPT:
      answer_decrypt (call, status, NULL, 0);
      break;
    case SSPID_CALL_APPLY_CONTROL:
      sspid_call_answer_value (call, g_variant_new ("(u)", (guint32) status));
      break;
    default:
      sspid_call_answer_step (call, status, 0, NULL, 0, 0, 0, 0);
      break;
    }
}

/* The class of a limit's refusals: its name, without the value. */
static const char *
limit_class (const char *limit)
{
  g_autofree char *name = g_strndup (limit, strcspn (limit, "="));

  return g_intern_string (name);
}

void
sspid_call_answer_limit (SspidCall *call, char *limit)
{
  sspid_caller_log_refusal (call->caller, limit_class (limit), NULL, 0,
                            "%s refused: limit %s reached",
                            call->method, limit);
  if (is_diagnostic (call->kind))
    answer_dbus_error (call, SEC_E_INSUFFICIENT_MEMORY, limit);
  else
    sspid_call_answer_status (call, SEC_E_INSUFFICIENT_MEMORY);
  g_free (limit);
}

/* --- contexts ----------------------------------------------------------- */

SspidContext *
sspid_context_new (SspidService *service, SspidCaller *caller, SspidCredential *cred,
                   gboolean is_server)
{
  SspidContext *ctx = g_new0 (SspidContext, 1);

  ctx->ref = 1;
  ctx->service = service;
  ctx->caller = sspid_caller_ref (caller);
  ctx->uid = sspid_caller_peek_identity (caller)->uid;
  ctx->cred = sspid_credential_ref (cred);
  ctx->is_server = is_server;
  ctx->created = g_get_monotonic_time ();
  g_queue_init (&ctx->queue);
  return ctx;
}

static SspidContext *
context_ref (SspidContext *ctx)
{
  ctx->ref++;
  return ctx;
}

static void
context_unref (SspidContext *ctx)
{
  if (--ctx->ref > 0)
    return;
  g_assert (!ctx->running && g_queue_is_empty (&ctx->queue));
  g_clear_pointer (&ctx->tls, sspid_tls_free);
  g_free (ctx->target);
  g_free (ctx->protocol);
  g_free (ctx->cipher);
  g_free (ctx->peer);
  sspid_credential_unref (ctx->cred);
  sspid_caller_unref (ctx->caller);
  g_free (ctx);
}

/* The registry dropped the context (deleted, first step failed, or the
 * caller is gone): calls still queued are answered now, a running one when
 * it comes back. */
void
sspid_context_release (gpointer context)
{
  SspidContext *ctx = context;

  ctx->released = TRUE;
  context_run_next (ctx);
  context_unref (ctx);
}

void
sspid_context_enqueue (SspidContext *ctx, SspidCall *call)
{
  call->ctx = context_ref (ctx);
  g_queue_push_tail (&ctx->queue, call);
  context_run_next (ctx);
}

/* ApplyControlToken, at its turn in the context's queue (so no worker is
 * using the session).  The alert goes out with the next ISC/ASC step. */
static SECURITY_STATUS
apply_control_token (SspidContext *ctx, SspidCall *call)
{
  SECURITY_STATUS status = sspid_request_check_control_token (&call->request);

  if (status != SEC_E_OK)
    return status;
  if (call->request.token_type == SCHANNEL_SHUTDOWN)
    sspid_tls_queue_alert (ctx->tls, TLS1_ALERT_WARNING, TLS1_ALERT_CLOSE_NOTIFY);
  else
    sspid_tls_queue_alert (ctx->tls, (int) call->request.alert_type,
                           (int) call->request.alert_number);
  return SEC_E_OK;
}

/* Answers or starts what waits on @ctx, in order, until one call runs on a
 * worker or the queue is empty. */
static void
context_run_next (SspidContext *ctx)
{
  SspidService *service = ctx->service;
  SspidCall *call;

  /* Deleting the context below re-enters through sspid_context_release(). */
  if (ctx->draining)
    return;
  ctx->draining = TRUE;
  context_ref (ctx);

  while (!ctx->running && (call = g_queue_pop_head (&ctx->queue)) != NULL)
    {
      if (service->shutting_down)
        sspid_call_answer_status (call, SEC_E_NO_AUTHENTICATING_AUTHORITY);
      else if (ctx->released)
        sspid_call_answer_status (call, SEC_E_INVALID_HANDLE);
      else if (call->kind == SSPID_CALL_DELETE)
        {
          sspid_caller_log (ctx->caller, G_LOG_LEVEL_DEBUG, "ctx", ctx->handle, "deleted");
          sspid_caller_remove_context (ctx->caller, ctx->handle);
          sspid_call_answer_status (call, SEC_E_OK);
        }
      else if (ctx->expired)
        sspid_call_answer_status (call, SEC_E_CONTEXT_EXPIRED);
      else if (call->kind == SSPID_CALL_APPLY_CONTROL)
        sspid_call_answer_status (call, apply_control_token (ctx, call));
      else if (call->channel != NULL && INLINE_CHANNEL_RECORDS)
        {
          /* A record is a few µs of AES; the trip to a worker and back
           * costs more, and nothing else runs on this context now. */
          ctx->running = TRUE;
          work_run (call);
          ctx->running = FALSE;
          sspid_call_answer_value (call, work_reply (call));
        }
      else
        {
          ctx->running = TRUE;
          work_queue (service, call);
        }
    }

  ctx->draining = FALSE;
  context_unref (ctx);
}

/* --- the worker side ---------------------------------------------------- */

/* For the log line of a finished handshake: what was negotiated. */
static char *
describe_established (SspidTls *tls)
{
  g_autoptr(SspidTlsInfo) info = sspid_tls_get_info (tls);

  return g_strdup_printf ("%s %s", info->protocol_name, info->cipher);
}

static void
worker_run_step (SspidCall *call, const guint8 *input, gsize input_len)
{
  SspidContext *ctx = call->ctx;
  gboolean was_established;

  if (call->create)
    {
      const SspidRequest *request = &call->request;
      SECURITY_STATUS status;

      if (ctx->is_server)
        status = sspid_tls_new_server (ctx->cred, request->context_req, request->alpn,
                                       &ctx->tls);
      else
        status = sspid_tls_new_client (ctx->cred, request->target_name, request->context_req,
                                       request->alpn, &ctx->tls);
      if (status != SEC_E_OK)
        {
          g_clear_pointer (&ctx->tls, sspid_tls_free);
          call->step.status = status;
          return;
        }
    }
  was_established = sspid_tls_is_established (ctx->tls);
  sspid_tls_step (ctx->tls, input, input_len, &call->step);
  /* Only worth the query when the line is logged (--verbose). */
  if (!was_established && sspid_tls_is_established (ctx->tls)
      && !g_log_writer_default_would_drop (G_LOG_LEVEL_INFO, G_LOG_DOMAIN))
    call->established = describe_established (ctx->tls);
}

/* Bytes of a record before its ciphertext: fixed once the session is
 * established (5, plus the explicit nonce of TLS 1.2 AEAD suites), so it
 * is learned once per context. */
static guint32
context_header_size (SspidContext *ctx)
{
  if (ctx->header_size == 0)
    ctx->header_size = sspid_tls_get_header_size (ctx->tls);
  return ctx->header_size;
}

/* The work of @call on its context's session: on a worker, or inline on
 * the main thread for a record channel's call (see context_run_next). */
static void
work_run (SspidCall *call)
{
  SspidTls *tls = call->ctx->tls;
  gsize len = 0;
  const guint8 *bytes = call->request.input != NULL
    ? g_variant_get_fixed_array (call->request.input, &len, 1) : NULL;

  switch (call->kind)
    {
    case SSPID_CALL_QUERY:
      {
        g_autoptr(SspidTlsInfo) info = sspid_tls_get_info (tls);

        call->info = g_variant_ref_sink (sspid_describe_tls (info));
      }
      break;
    case SSPID_CALL_ENCRYPT:
      call->step.status = sspid_tls_encrypt (tls, bytes, len, &call->record);
      call->header_size = context_header_size (call->ctx);
      break;
    case SSPID_CALL_DECRYPT:
      sspid_tls_decrypt (tls, bytes, len, &call->decrypt);
      call->header_size = context_header_size (call->ctx);
      break;
    default:
      worker_run_step (call, bytes, len);
      break;
    }
}

/* Hands @call to the workers in its user's lane of the fair queue: the
 * pool gets a token per call and each worker takes whichever call is next
 * in turn, so users are served round-robin, not first come first served
 * (DESIGN.md: fairness). */
static void
work_queue (SspidService *service, SspidCall *call)
{
  sspid_fair_queue_push (service->waiting, (guint) call->ctx->uid, call);
  g_thread_pool_push (service->pool, service, NULL);
}

/* How much nicer a worker is while it runs the step of a user who has
 * more steps waiting.  A step is a millisecond of crypto; taking a call
 * off the bus, queueing it in its user's turn and sending an answer are
 * microseconds that somebody waits on.  So when one user's backlog keeps
 * the workers busy, the front (bus reader, main thread), the bus, the
 * callers and the steps of users without a backlog still get a CPU at
 * once: another user's step waits for its turn at a worker, not for a
 * CPU as well. */
#define WORKER_NICE 5

/* Linux keeps a nice value per thread, and the pool's threads are ours
 * alone (an exclusive pool).  A syscall only when the value changes.  A
 * failure is harmless: the step runs at the priority it has.  (Under the
 * shipped unit, SystemCallFilter=~@resources refuses setpriority(), and an
 * unprivileged daemon may raise its nice value but not lower it again, so
 * there the workers keep one priority: a known gap, see the README.) */
static void
worker_set_nice (gboolean backlogged)
{
  static __thread int base = G_MININT;
  static __thread int current = G_MININT;
  int wanted;

  if (base == G_MININT)
    {
      errno = 0;
      base = getpriority (PRIO_PROCESS, 0);
      if (errno != 0)
        base = 0;
      current = base;
    }
  wanted = backlogged ? MIN (base + WORKER_NICE, 19) : base;
  if (wanted != current
      && setpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid), wanted) == 0)
    current = wanted;
}

static void
worker_run (gpointer token, gpointer user_data)
{
  SspidService *service = user_data;
  gboolean backlogged;
  SspidCall *call = sspid_fair_queue_pop_full (service->waiting, &backlogged);

  worker_set_nice (backlogged);
  /* One token per call pushed: there is always one. */
  g_assert (call != NULL);
  work_run (call);
  /* A channel is the main thread's: its answer goes out in call_finished.
   * handing_back covers the gap between the answer and the push, which
   * sspid_work_drain() waits out. */
  g_atomic_int_inc (&service->handing_back);
  if (call->channel == NULL)
    send_worker_answer (call);
  g_async_queue_push (service->done, call);
  g_atomic_int_add (&service->handing_back, -1);
  g_main_context_wakeup (service->main_context);
}

/* Back on the main thread (the answer already went out from the worker):
 * log, drop a context whose first step failed, start the next call. */
static void
call_finished (SspidCall *call)
{
  SspidContext *ctx = context_ref (call->ctx);
  SspidTlsStep *step = &call->step;
  gboolean is_step = call->kind != SSPID_CALL_QUERY && call->kind != SSPID_CALL_ENCRYPT &&
                     call->kind != SSPID_CALL_DECRYPT;
  gboolean first_failed = is_step && call->create && SSPID_STATUS_IS_ERROR (step->status);

  ctx->running = FALSE;
  if (is_step && SSPID_STATUS_IS_ERROR (step->status))
    sspid_caller_log (ctx->caller, G_LOG_LEVEL_INFO, "ctx", ctx->handle,
                      "%s %s step failed: 0x%08x", ctx->is_server ? "server" : "client",
                      first_failed ? "first" : "later", (guint32) step->status);
  else if (is_step && call->established != NULL)
    sspid_caller_log (ctx->caller, G_LOG_LEVEL_INFO, "ctx", ctx->handle,
                      "%s handshake done with credential \"%s\": %s",
                      ctx->is_server ? "server" : "client",
                      sspid_credential_peek_name (ctx->cred), call->established);
  if (call->channel != NULL)
    sspid_channel_answer (call->channel, call->serial, call->kind, work_reply (call));
  sspid_call_free (call);

  if (first_failed && !ctx->released)
    sspid_caller_remove_context (ctx->caller, ctx->handle);
  context_run_next (ctx);
  context_unref (ctx);
}

void
sspid_work_drain (SspidService *service)
{
  SspidCall *call;

  while (g_atomic_int_get (&service->handing_back) > 0)
    g_thread_yield ();
  while ((call = g_async_queue_try_pop (service->done)) != NULL)
    call_finished (call);
}

/* Ready while workers have handed calls back; a worker wakes the main
 * context up after each push. */
typedef struct {
  GSource      source;
  GAsyncQueue *queue;
} DoneSource;

static gboolean
done_source_prepare (GSource *source, gint *timeout)
{
  *timeout = -1;
  return g_async_queue_length (((DoneSource *) source)->queue) > 0;
}

static gboolean
done_source_check (GSource *source)
{
  return g_async_queue_length (((DoneSource *) source)->queue) > 0;
}

static gboolean
done_source_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  return callback (user_data);
}

static GSourceFuncs done_source_funcs = {
  .prepare = done_source_prepare,
  .check = done_source_check,
  .dispatch = done_source_dispatch,
};

static gboolean
done_cb (gpointer user_data)
{
  sspid_work_drain (user_data);
  return G_SOURCE_CONTINUE;
}

/* --- the handshake timeout ---------------------------------------------- */

/* Turns a context stuck in its handshake into a tombstone: the session is
 * freed but the handle stays (and counts), so the caller's next call says
 * SEC_E_CONTEXT_EXPIRED rather than a puzzling SEC_E_INVALID_HANDLE. */
static void
reap_one (gpointer key, gpointer value, gpointer user_data)
{
  SspidContext *ctx = value;
  SspidService *service = user_data;
  gint64 limit = (gint64) service->config->handshake_timeout_sec * G_USEC_PER_SEC;

  if (ctx->running || ctx->expired || ctx->tls == NULL)
    return;
  if (g_get_monotonic_time () - ctx->created < limit)
    return;
  if (sspid_tls_is_established (ctx->tls))
    return;

  sspid_caller_log_refusal (ctx->caller, "handshake timeout", "ctx", ctx->handle,
                            "handshake not done after %u s, context expired",
                    service->config->handshake_timeout_sec);
  ctx->expired = TRUE;
  g_clear_pointer (&ctx->tls, sspid_tls_free);
}

static gboolean
reaper_cb (gpointer user_data)
{
  SspidService *service = user_data;

  if (service->config->handshake_timeout_sec > 0)
    sspid_caller_registry_foreach_context (service->registry, reap_one, service);
  return G_SOURCE_CONTINUE;
}

/* --- start and stop ----------------------------------------------------- */

gboolean
sspid_work_start (SspidService *service, GError **error)
{
  service->done = g_async_queue_new ();
  service->done_source = g_source_new (&done_source_funcs, sizeof (DoneSource));
  ((DoneSource *) service->done_source)->queue = service->done;
  g_source_set_callback (service->done_source, done_cb, service, NULL);
  g_source_set_name (service->done_source, "sspid worker results");
  g_source_attach (service->done_source, service->main_context);

  service->waiting = sspid_fair_queue_new ();
  /* Exclusive: the threads are ours for good (worker_set_nice). */
  service->pool = g_thread_pool_new (worker_run, service, (gint) g_get_num_processors (),
                                     TRUE, error);
  if (service->pool == NULL)
    return FALSE;

  service->reaper_id = g_timeout_add_seconds (1, reaper_cb, service);
  return TRUE;
}

void
sspid_work_stop (SspidService *service)
{
  g_assert (service->shutting_down);
  if (service->reaper_id != 0)
    g_source_remove (service->reaper_id);
  service->reaper_id = 0;

  /* Let running calls finish (they use sessions about to be freed), then
   * answer them; what waits behind them is answered, not started. */
  if (service->pool != NULL)
    g_thread_pool_free (service->pool, FALSE, TRUE);
  service->pool = NULL;
  if (service->done != NULL)
    sspid_work_drain (service);
}

void
sspid_work_clear (SspidService *service)
{
  if (service->done_source != NULL)
    {
      g_source_destroy (service->done_source);
      g_clear_pointer (&service->done_source, g_source_unref);
    }
  g_clear_pointer (&service->done, g_async_queue_unref);
  g_clear_pointer (&service->waiting, sspid_fair_queue_free);
}
