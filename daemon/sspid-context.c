/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Security contexts and the calls queued on them (see sspid-context.h).
 *
 * A call on a context waits in the context's queue until the call before
 * it is answered; then it runs on a worker (the context is the pool's
 * job), which touches only that context's SspidTls and encodes the
 * answer; the pool hands the context back to the main thread, which does
 * the bookkeeping, sends the answer and starts the next call.  So anything
 * the main thread reports (ListContexts, GetStatus) is at least as new as
 * every answer already sent.
 */
#include "config.h"

#include "sspid-audit.h"
#include "sspid-context.h"
#include "sspid-pool.h"
#include "sspid-tls.h"
#include "sspid-tls-quic.h"
#include "sspi.h"
#include "schannel.h"

/* Run a record channel's EncryptMessage / DecryptMessage on the main
 * thread when its context is free, rather than on a worker (measured in
 * BENCHMARKS.md: B1). */
#ifndef INLINE_CHANNEL_RECORDS
#define INLINE_CHANNEL_RECORDS 1
#endif

#define STATUS_IS_ERROR(s) ((gint32) (s) < 0)

/* Steps on a key in a token (PKCS#11, maybe behind p11-kit server on
 * another host) block while the key signs, for as long as that key
 * service takes.  They run on workers of their own, at most
 * max-key-operations of a credential at once, so a slow or stalled key
 * service holds only its credential's steps: never the workers the other
 * credentials' handshakes need.  Threads blocked on a socket cost no CPU. */
#define KEY_WORKERS 16

/* One credential's steps on its key: running, and waiting their turn. */
typedef struct {
  guint  running;
  GQueue waiting;     /* SspidContext * (the running call's reference) */
} KeySlot;

struct _SspidContextRunner {
  SspidPool  *pool;
  SspidPool  *key_pool;    /* steps on keys in tokens */
  GHashTable *key_slots;   /* credential key slot -> KeySlot * */
  gboolean    stopping;
};

struct _SspidContext {
  gint                ref;
  SspidContextRunner *runner;
  SspidCaller        *caller;       /* ref */
  uid_t               uid;          /* of the caller: its lane for the workers */
  guint64             handle;
  gboolean            is_server;
  SspidCredential    *cred;         /* ref: the credential handle may go first */
  gpointer            key_slot;     /* running on the key pool, in this slot */
  SspidTls           *tls;          /* made by the first step; NULL once expired */
  gint64              created;      /* monotonic, µs */
  char               *target;       /* client: the target name of the first step */
  const char         *mode;         /* what the first step asked for: mode_name() */
  /* For ListContexts, learned once the session is established (main
   * thread, never while a call runs): protocol, cipher, peer subject. */
  gboolean            described;
  char               *protocol;
  char               *cipher;
  char               *peer;
  guint32             header_size;  /* of a record, once known; worker side */
  GQueue              queue;        /* SspidCall * waiting for the one running */
  /* The call running (on a worker, or inline), and what the main thread
   * needs of its result. */
  SspidCall          *running;
  gboolean            creating;     /* it is the step that makes the session */
  SECURITY_STATUS     step_status;
  char               *established;  /* "TLS1.3 AES-256-GCM" when the step finished
                                     * the handshake (only if that gets logged) */
  gboolean            audited;      /* the step ended a handshake: audit it */
  SspidTlsAudit       audit;        /* ... with these facts */
  gboolean            released;     /* no longer in the caller's table */
  gboolean            expired;      /* handshake timed out: a tombstone */
  gboolean            draining;     /* inside context_run_next() */
};

static void context_run_next (SspidContext *ctx);

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
  g_assert (ctx->running == NULL && g_queue_is_empty (&ctx->queue));
  g_clear_pointer (&ctx->tls, sspid_tls_free);
  g_free (ctx->target);
  g_free (ctx->protocol);
  g_free (ctx->cipher);
  g_free (ctx->peer);
  sspid_credential_unref (ctx->cred);
  sspid_caller_unref (ctx->caller);
  g_free (ctx);
}

/* ListContexts' "mode": fixed by the first step (the engine makes the
 * session from its flags and never changes it), so known on the main
 * thread from the start, also while that step runs on a worker. */
static const char *
mode_name (const SspidRequest *first_step, gboolean is_server)
{
  guint32 datagram = is_server ? ASC_REQ_DATAGRAM : ISC_REQ_DATAGRAM;

  if (first_step->quic.is_messages)
    return "quic";
  return (first_step->context_req & datagram) != 0 ? "datagram" : "stream";
}

SspidContext *
sspid_context_new (SspidContextRunner *runner, SspidCaller *caller, SspidCredential *cred,
                   gboolean is_server, const SspidRequest *first_step)
{
  SspidContext *ctx = g_new0 (SspidContext, 1);

  ctx->ref = 1;                     /* the caller's table's */
  ctx->runner = runner;
  ctx->caller = sspid_caller_ref (caller);
  ctx->uid = sspid_caller_peek_identity (caller)->uid;
  ctx->cred = sspid_credential_ref (cred);
  ctx->is_server = is_server;
  ctx->created = g_get_monotonic_time ();
  ctx->target = is_server ? NULL : g_strdup (first_step->target_name);
  ctx->mode = mode_name (first_step, is_server);
  g_queue_init (&ctx->queue);
  ctx->handle = sspid_caller_add_context (caller, ctx);
  return ctx;
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

guint64
sspid_context_get_handle (SspidContext *ctx)
{
  return ctx->handle;
}

gboolean
sspid_context_is_server (SspidContext *ctx)
{
  return ctx->is_server;
}

SspidCaller *
sspid_context_peek_caller (SspidContext *ctx)
{
  return ctx->caller;
}

gint64
sspid_context_get_created (SspidContext *ctx)
{
  return ctx->created;
}

void
sspid_context_enqueue (SspidContext *ctx, SspidCall *call)
{
  g_queue_push_tail (&ctx->queue, call);
  context_run_next (ctx);
}

/* --- the work on the session (a worker, or inline) ----------------------- */

static gboolean
is_step (SspidCallKind kind)
{
  return kind == SSPID_CALL_INITIALIZE || kind == SSPID_CALL_ACCEPT;
}

/* For the log line of a finished handshake: what was negotiated. */
static char *
describe_established (SspidTls *tls)
{
  g_autoptr(SspidTlsInfo) info = sspid_tls_get_info (tls);

  return g_strdup_printf ("%s %s", info->protocol_name, info->cipher);
}

static SECURITY_STATUS
make_session (SspidContext *ctx, const SspidRequest *request)
{
  SECURITY_STATUS status;

  if (ctx->is_server)
    status = sspid_tls_new_server (ctx->cred, request->context_req, request->alpn, &ctx->tls);
  else
    status = sspid_tls_new_client (ctx->cred, request->target_name, request->context_req,
                                   request->alpn, &ctx->tls);
  if (status == SEC_E_OK && request->quic.is_messages)
    status = sspid_tls_quic_enable (ctx->tls, &request->quic);
  if (status != SEC_E_OK)
    g_clear_pointer (&ctx->tls, sspid_tls_free);
  return status;
}

static void
run_step (SspidContext *ctx, SspidCall *call, const guint8 *input, gsize input_len)
{
  SspidTlsStep step = { 0 };
  gboolean was_established;

  if (ctx->creating)
    step.status = make_session (ctx, sspid_call_peek_request (call));
  else
    sspid_tls_quic_update (ctx->tls, &sspid_call_peek_request (call)->quic);
  if (step.status == SEC_E_OK)
    {
      was_established = sspid_tls_is_established (ctx->tls);
      /* SECBUFFER_DTLS_MTU holds for this call and the ones after it. */
      if (sspid_call_peek_request (call)->dtls_mtu != 0)
        sspid_tls_set_mtu (ctx->tls, sspid_call_peek_request (call)->dtls_mtu);
      sspid_tls_step (ctx->tls, input, input_len, &step);
      /* The audit trail has a record per handshake that ended, done or
       * failed (a step that only waits for more bytes ended nothing). */
      if (!was_established && (sspid_tls_is_established (ctx->tls)
                               || (STATUS_IS_ERROR (step.status)
                                   && step.status != SEC_E_INCOMPLETE_MESSAGE)))
        {
          ctx->audited = TRUE;
          sspid_tls_get_audit (ctx->tls, &ctx->audit);
        }
      /* Only worth the query when the line is logged (--verbose). */
      if (!was_established && sspid_tls_is_established (ctx->tls)
          && !g_log_writer_default_would_drop (G_LOG_LEVEL_INFO, G_LOG_DOMAIN))
        ctx->established = describe_established (ctx->tls);
    }
  ctx->step_status = step.status;
  /* As on Windows, a failed first call leaves no context behind. */
  sspid_call_prepare_step (call, &step,
                           ctx->creating && STATUS_IS_ERROR (step.status) ? 0 : ctx->handle);
  sspid_tls_step_clear (&step);
}

/* Bytes of a record before its ciphertext: fixed once the session is
 * established, so learned once per context. */
static guint32
context_header_size (SspidContext *ctx)
{
  if (ctx->header_size == 0)
    ctx->header_size = sspid_tls_get_header_size (ctx->tls);
  return ctx->header_size;
}

/* The work of the running call on the context's session; its answer is
 * encoded, not sent. */
static void
context_work (SspidContext *ctx)
{
  SspidCall *call = ctx->running;
  const SspidRequest *request = sspid_call_peek_request (call);
  SspidTls *tls = ctx->tls;
  gsize len = 0;
  const guint8 *bytes = request->input != NULL
    ? g_variant_get_fixed_array (request->input, &len, 1) : NULL;

  switch (sspid_call_get_kind (call))
    {
    case SSPID_CALL_QUERY:
      {
        g_autoptr(SspidTlsInfo) info = sspid_tls_get_info (tls);

        sspid_call_prepare_query (call, info);
      }
      break;
    case SSPID_CALL_ENCRYPT:
      {
        g_autoptr(GBytes) record = NULL;
        /* QUIC protects its packets itself: a QUIC-mode context has no
         * records to seal or open. */
        SECURITY_STATUS status = sspid_tls_is_quic (tls) ? SEC_E_UNSUPPORTED_FUNCTION
                                 : sspid_tls_encrypt (tls, bytes, len, &record);

        sspid_call_prepare_encrypt (call, status, record, context_header_size (ctx));
      }
      break;
    case SSPID_CALL_DECRYPT:
      {
        SspidTlsDecrypt d = { SEC_E_UNSUPPORTED_FUNCTION, NULL };

        if (sspid_tls_is_quic (tls))
          d.plaintext = g_bytes_new (NULL, 0);
        else
          sspid_tls_decrypt (tls, bytes, len, &d);
        sspid_call_prepare_decrypt (call, &d, context_header_size (ctx));
        sspid_tls_decrypt_clear (&d);
      }
      break;
    default:
      run_step (ctx, call, bytes, len);
      break;
    }
}

static void
pool_run (gpointer job, gpointer user_data)
{
  context_work (job);
}

static void key_slot_done (SspidContextRunner *runner, SspidContext *ctx);

/* Back on the main thread: log, answer, drop a context whose first step
 * failed, start the next call. */
static void
pool_done (gpointer job, gpointer user_data)
{
  SspidContext *ctx = job;          /* the running call's reference */
  SspidCall *call = g_steal_pointer (&ctx->running);

  if (ctx->key_slot != NULL)
    key_slot_done (ctx->runner, ctx);
  gboolean was_step = is_step (sspid_call_get_kind (call));
  gboolean failed = was_step && STATUS_IS_ERROR (ctx->step_status);
  gboolean first_failed = failed && ctx->creating;
  g_autofree char *established = g_steal_pointer (&ctx->established);

  if (failed)
    sspid_caller_log (ctx->caller, G_LOG_LEVEL_INFO, "ctx", ctx->handle,
                      "%s %s step failed: 0x%08x", ctx->is_server ? "server" : "client",
                      first_failed ? "first" : "later", (guint32) ctx->step_status);
  else if (was_step && established != NULL)
    sspid_caller_log (ctx->caller, G_LOG_LEVEL_INFO, "ctx", ctx->handle,
                      "%s handshake done with credential \"%s\": %s",
                      ctx->is_server ? "server" : "client",
                      sspid_credential_peek_name (ctx->cred), established);
  if (ctx->audited)
    {
      gboolean done = !STATUS_IS_ERROR (ctx->step_status);

      sspid_audit_handshake (ctx->caller, ctx->handle, sspid_credential_peek_name (ctx->cred),
                             ctx->is_server, (guint32) ctx->step_status, &ctx->audit);
      sspid_caller_count_handshake (ctx->caller, done);
      sspid_credential_count_handshake (ctx->cred, done);
      sspid_tls_audit_clear (&ctx->audit);
      ctx->audited = FALSE;
    }
  ctx->creating = FALSE;
  sspid_call_answer_prepared (call);

  if (first_failed && !ctx->released)
    sspid_caller_remove_context (ctx->caller, ctx->handle);
  context_run_next (ctx);
  context_unref (ctx);
}

/* --- the queue ------------------------------------------------------------ */

/* ApplyControlToken, at its turn in the context's queue (so no worker is
 * using the session).  The alert goes out with the next ISC/ASC step. */
static SECURITY_STATUS
apply_control_token (SspidContext *ctx, SspidCall *call)
{
  const SspidRequest *request = sspid_call_peek_request (call);
  SECURITY_STATUS status = sspid_request_check_control_token (request);

  if (status != SEC_E_OK)
    return status;
  if (request->token_type == SCHANNEL_SHUTDOWN)
    sspid_tls_queue_alert (ctx->tls, TLS1_ALERT_WARNING, TLS1_ALERT_CLOSE_NOTIFY);
  else
    sspid_tls_queue_alert (ctx->tls, (int) request->alert_type, (int) request->alert_number);
  return SEC_E_OK;
}

/* A step of a context whose key is in a token goes to the key pool, or
 * waits while its credential has max-key-operations running.  FALSE for
 * a key file: the ordinary workers. */
static gboolean
key_slot_push (SspidContextRunner *runner, SspidContext *ctx)
{
  guint max_operations = 0;
  gpointer id = sspid_credential_peek_key_slot (ctx->cred, &max_operations);
  KeySlot *slot;

  if (id == NULL)
    return FALSE;
  slot = g_hash_table_lookup (runner->key_slots, id);
  if (slot == NULL)
    {
      slot = g_new0 (KeySlot, 1);
      g_queue_init (&slot->waiting);
      g_hash_table_insert (runner->key_slots, id, slot);
    }
  ctx->key_slot = id;
  if (slot->running >= max_operations)
    {
      g_queue_push_tail (&slot->waiting, context_ref (ctx));
      return TRUE;
    }
  slot->running++;
  sspid_pool_push (runner->key_pool, (guint) ctx->uid, context_ref (ctx));
  return TRUE;
}

/* @ctx's step on the key pool is back: the next waiting one of its
 * credential takes its place. */
static void
key_slot_done (SspidContextRunner *runner, SspidContext *ctx)
{
  gpointer id = g_steal_pointer (&ctx->key_slot);
  KeySlot *slot = g_hash_table_lookup (runner->key_slots, id);
  SspidContext *next;

  g_assert (slot != NULL && slot->running > 0);
  /* Stopping: what waits is answered by sspid_context_runner_stop(). */
  next = runner->stopping ? NULL : g_queue_pop_head (&slot->waiting);
  if (next != NULL)
    {
      sspid_pool_push (runner->key_pool, (guint) next->uid, next);
      return;
    }
  slot->running--;
  if (slot->running == 0 && g_queue_is_empty (&slot->waiting))
    g_hash_table_remove (runner->key_slots, id);
}

/* Starts @call, the context's next: on a worker, or inline for a record
 * channel's record. */
static void
context_start (SspidContext *ctx, SspidCall *call)
{
  ctx->running = call;
  /* Only the first step of a context runs before its session exists. */
  ctx->creating = ctx->tls == NULL;
  if (sspid_call_has_sink (call) && INLINE_CHANNEL_RECORDS)
    {
      /* A record is a few µs of AES; the trip to a worker and back costs
       * more, and nothing else runs on this context now. */
      context_work (ctx);
      ctx->running = NULL;
      sspid_call_answer_prepared (call);
      return;
    }
  if (!key_slot_push (ctx->runner, ctx))
    sspid_pool_push (ctx->runner->pool, (guint) ctx->uid, context_ref (ctx));
}

/* Answers or starts what waits on @ctx, in order, until one call runs on a
 * worker or the queue is empty. */
static void
context_run_next (SspidContext *ctx)
{
  SspidCall *call;

  /* Deleting the context below re-enters through sspid_context_release(). */
  if (ctx->draining)
    return;
  ctx->draining = TRUE;
  context_ref (ctx);

  while (ctx->running == NULL && (call = g_queue_pop_head (&ctx->queue)) != NULL)
    {
      SspidCallKind kind = sspid_call_get_kind (call);

      if (ctx->runner->stopping)
        sspid_call_answer_status (call, SEC_E_NO_AUTHENTICATING_AUTHORITY);
      else if (ctx->released)
        sspid_call_answer_status (call, SEC_E_INVALID_HANDLE);
      else if (kind == SSPID_CALL_DELETE)
        {
          sspid_caller_log (ctx->caller, G_LOG_LEVEL_DEBUG, "ctx", ctx->handle, "deleted");
          sspid_caller_remove_context (ctx->caller, ctx->handle);
          sspid_call_answer_status (call, SEC_E_OK);
        }
      else if (ctx->expired)
        sspid_call_answer_status (call, SEC_E_CONTEXT_EXPIRED);
      else if (ctx->tls == NULL && !is_step (kind))
        sspid_call_answer_status (call, SEC_E_INVALID_HANDLE);  /* no session yet */
      else if (kind == SSPID_CALL_APPLY_CONTROL)
        sspid_call_answer_status (call, apply_control_token (ctx, call));
      else
        context_start (ctx, call);
    }

  ctx->draining = FALSE;
  context_unref (ctx);
}

/* --- the runner ----------------------------------------------------------- */

SspidContextRunner *
sspid_context_runner_new (GMainContext *main_context, GError **error)
{
  g_autofree SspidContextRunner *runner = g_new0 (SspidContextRunner, 1);

  runner->key_slots = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  runner->pool = sspid_pool_new (main_context, 0, pool_run, pool_done, runner, error);
  if (runner->pool == NULL)
    return NULL;
  runner->key_pool = sspid_pool_new (main_context, KEY_WORKERS, pool_run, pool_done, runner,
                                     error);
  if (runner->key_pool == NULL)
    {
      sspid_context_runner_stop (runner);
      g_hash_table_unref (runner->key_slots);
      return NULL;
    }
  return g_steal_pointer (&runner);
}

void
sspid_context_runner_stop (SspidContextRunner *runner)
{
  /* Let running calls finish (they use sessions about to be freed), then
   * answer them; what waits behind them is answered, not started. */
  runner->stopping = TRUE;
  g_clear_pointer (&runner->pool, sspid_pool_free);
  g_clear_pointer (&runner->key_pool, sspid_pool_free);
  /* Steps still waiting for their credential's key: answered, not run. */
  if (runner->key_slots != NULL)
    {
      GHashTableIter iter;
      gpointer value;

      g_hash_table_iter_init (&iter, runner->key_slots);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        {
          KeySlot *slot = value;
          SspidContext *ctx;

          while ((ctx = g_queue_pop_head (&slot->waiting)) != NULL)
            {
              ctx->key_slot = NULL;
              sspid_call_answer_status (g_steal_pointer (&ctx->running),
                                        SEC_E_NO_AUTHENTICATING_AUTHORITY);
              context_unref (ctx);
            }
        }
    }
}

void
sspid_context_runner_free (SspidContextRunner *runner)
{
  if (runner == NULL)
    return;
  g_assert (runner->pool == NULL && runner->key_pool == NULL);
  g_clear_pointer (&runner->key_slots, g_hash_table_unref);
  g_free (runner);
}

/* --- the handshake timeout ------------------------------------------------ */

/* Turns a context stuck in its handshake into a tombstone: the session is
 * freed but the handle stays (and counts), so the caller's next call says
 * SEC_E_CONTEXT_EXPIRED rather than a puzzling SEC_E_INVALID_HANDLE. */
static void
reap_one (gpointer key, gpointer value, gpointer user_data)
{
  SspidContext *ctx = value;
  guint timeout_sec = GPOINTER_TO_UINT (user_data);

  if (ctx->running != NULL || ctx->expired || ctx->tls == NULL)
    return;
  if (g_get_monotonic_time () - ctx->created < (gint64) timeout_sec * G_USEC_PER_SEC)
    return;
  if (sspid_tls_is_established (ctx->tls))
    return;

  sspid_caller_log_refusal (ctx->caller, "handshake timeout", "ctx", ctx->handle,
                            "handshake not done after %u s, context expired", timeout_sec);
  ctx->expired = TRUE;
  g_clear_pointer (&ctx->tls, sspid_tls_free);
}

void
sspid_context_reap_stale (SspidCallerRegistry *registry, guint timeout_sec)
{
  sspid_caller_registry_foreach_context (registry, reap_one, GUINT_TO_POINTER (timeout_sec));
}

/* --- ListContexts --------------------------------------------------------- */

/* Protocol, cipher and peer of an established session, learned once:
 * asking the engine costs more than a listing should, over thousands of
 * contexts. */
static void
describe_session (SspidContext *ctx)
{
  g_autoptr(SspidTlsInfo) info = sspid_tls_get_info (ctx->tls);

  ctx->protocol = g_strdup (info->protocol_name);
  ctx->cipher = g_strdup (info->cipher);
  if (info->peer_certificates != NULL && info->peer_certificates->len > 0)
    {
      gsize len;
      const guint8 *der = g_bytes_get_data (info->peer_certificates->pdata[0], &len);

      ctx->peer = sspid_certificate_dup_subject (der, len);
    }
  ctx->described = TRUE;
}

void
sspid_context_get_facts (SspidContext *ctx, SspidContextFacts *facts)
{
  gboolean is_busy = ctx->running != NULL;

  if (!ctx->described && !is_busy && !ctx->expired && ctx->tls != NULL
      && sspid_tls_is_established (ctx->tls))
    describe_session (ctx);

  facts->owner = ctx->caller;
  facts->handle = ctx->handle;
  facts->is_server = ctx->is_server;
  if (ctx->expired)
    facts->state = "expired";
  else if (is_busy)
    facts->state = "busy";
  else if (ctx->tls == NULL)
    facts->state = "handshake";
  else
    facts->state = sspid_tls_get_state_name (ctx->tls);
  facts->mode = ctx->mode;
  facts->credential = sspid_credential_peek_name (ctx->cred);
  facts->target = ctx->target != NULL ? ctx->target : "";
  facts->protocol = ctx->protocol;
  facts->cipher = ctx->cipher;
  facts->peer = ctx->peer;
  facts->created = ctx->created;
}
