/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An in-process client/server pair over libsspi's async API (see
 * tls-pair.h).
 *
 * All state of all pairs is guarded by one lock: the notify callbacks run on
 * the library's thread and the main thread only starts, opens and collects,
 * so there is nothing to gain from finer locking, and a global lock (with
 * its condition) outlives every pair, so a callback that has just finished
 * a pair never touches freed memory while the main thread frees it.
 *
 * A side's async context is freed inside the callback of its last step
 * (the msquic pattern the design promises to support); after that no call
 * of the side is in flight.
 */
#include "config.h"

#include <string.h>
#include <check.h>

#include "tls-pair.h"

typedef enum {
  SIDE_WAITING,    /* needs bytes from the peer, none yet */
  SIDE_PARKED,     /* a server held back by its group */
  SIDE_IN_FLIGHT,  /* one async call queued */
  SIDE_BUSY,       /* its callback is deciding what comes next */
  SIDE_DONE,
} SideState;

typedef struct _Side Side;
struct _Side {
  TlsPair          *pair;
  Side             *peer;
  gboolean          is_server;
  SspiAsyncContext *ac;
  CredHandle       *cred;
  CtxtHandle        ctx;
  CtxtHandle        new_ctx;
  gboolean          has_context;
  GByteArray       *inbox;   /* sent by the peer, not read yet */
  GByteArray       *input;   /* read, not consumed yet: the TOKEN buffer */
  GBytes           *alpn;
  SecBuffer         in_bufs[3];
  SecBufferDesc     in_desc;
  SecBuffer         out_buf;
  SecBufferDesc     out_desc;
  guint8           *out_storage;
  ULONG             attrs;
  TimeStamp         expiry;
  SideState         state;
  TlsPairSide      *res;
};

struct _TlsPair {
  TlsPairOptions opts;
  Side           client;
  Side           server;
  CredHandle     own_cred[2];     /* [0] client, [1] server */
  gboolean       owns_cred[2];
  SECURITY_STATUS acquire_status[2];
  TlsPairResult  result;
  gboolean       is_finished;
};

struct _TlsPairGroup {
  gboolean   is_open;
  GPtrArray *parked;    /* of Side * */
  guint      finished;
};

static GMutex tp_lock;
static GCond  tp_cond;

static void side_issue (Side *s);
static void side_read_or_wait (Side *s);

/* ---- helpers ----------------------------------------------------------- */

GBytes *
tp_alpn_buffer (const char *const *ids)
{
  g_autoptr (GByteArray) list = g_byte_array_new ();
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  SEC_APPLICATION_PROTOCOL_NEGOTIATION_EXT ext = SecApplicationProtocolNegotiationExt_ALPN;
  ULONG lists_size;
  USHORT list_size;

  for (gsize i = 0; ids != NULL && ids[i] != NULL; i++)
    {
      guint8 len = (guint8) strlen (ids[i]);
      g_byte_array_append (list, &len, 1);
      g_byte_array_append (list, (const guint8 *) ids[i], len);
    }
  list_size = (USHORT) list->len;
  lists_size = (ULONG) (offsetof (SEC_APPLICATION_PROTOCOL_LIST, ProtocolList) + list->len);
  g_byte_array_append (buf, (const guint8 *) &lists_size, sizeof lists_size);
  g_byte_array_append (buf, (const guint8 *) &ext, sizeof ext);
  g_byte_array_append (buf, (const guint8 *) &list_size, sizeof list_size);
  g_byte_array_append (buf, list->data, list->len);
  return g_byte_array_free_to_bytes (g_steal_pointer (&buf));
}

/* Whether the library wrote a handle (we preset new handles to invalid). */
static gboolean
is_handle_set (const CtxtHandle *h)
{
  return SecIsValidHandle (h) && !(h->dwLower == 0 && h->dwUpper == 0);
}

static gboolean
is_same_handle (const CtxtHandle *a, const CtxtHandle *b)
{
  return a->dwLower == b->dwLower && a->dwUpper == b->dwUpper;
}

/* ---- single waited-for calls ------------------------------------------- */

/* The callback reads the result and frees the async context itself, so the
 * waiting thread never races the library over it. */
typedef struct {
  gboolean        is_done;
  SECURITY_STATUS status;
} Waiter;

static void
on_single_done (SspiAsyncContext *ac, void *data)
{
  Waiter *w = data;
  SECURITY_STATUS status = SspiGetAsyncCallStatus (ac);

  SspiFreeAsyncContext (ac);
  g_mutex_lock (&tp_lock);
  w->status = status;
  w->is_done = TRUE;
  g_cond_broadcast (&tp_cond);
  g_mutex_unlock (&tp_lock);
}

static SspiAsyncContext *
single_context (Waiter *w)
{
  SspiAsyncContext *ac = SspiCreateAsyncContext ();

  ck_assert_ptr_nonnull (ac);
  ck_assert_int_eq (SspiSetAsyncNotifyCallback (ac, on_single_done, w), SEC_E_OK);
  return ac;
}

static SECURITY_STATUS
single_finish (Waiter *w, SspiAsyncContext *ac, SECURITY_STATUS queued, gboolean *is_queued)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;
  SECURITY_STATUS status;

  if (is_queued != NULL)
    *is_queued = (queued == SEC_E_OK);
  if (queued != SEC_E_OK)
    {
      SspiFreeAsyncContext (ac);
      return queued;
    }
  g_mutex_lock (&tp_lock);
  while (!w->is_done)
    if (!g_cond_wait_until (&tp_cond, &tp_lock, deadline))
      {
        g_mutex_unlock (&tp_lock);
        ck_abort_msg ("an async call got no callback within 60 s");
      }
  status = w->status;
  g_mutex_unlock (&tp_lock);
  return status;
}

SECURITY_STATUS
tp_acquire (const char *principal, ULONG use, guint32 protocols, guint32 flags,
            CredHandle *cred)
{
  Waiter w = { 0 };
  SspiAsyncContext *ac = single_context (&w);
  SCHANNEL_CRED sc = { 0 };
  TimeStamp expiry;

  sc.dwVersion = SCHANNEL_CRED_VERSION;
  sc.grbitEnabledProtocols = protocols;
  sc.dwFlags = flags;
  SecInvalidateHandle (cred);
  return single_finish (&w, ac,
                        SspiAcquireCredentialsHandleAsyncA (ac, (LPSTR) principal,
                                                            (LPSTR) SCHANNEL_NAME_A, use,
                                                            NULL, &sc, NULL, NULL,
                                                            cred, &expiry),
                        NULL);
}

SECURITY_STATUS
tp_free_credential (CredHandle *cred)
{
  Waiter w = { 0 };
  SspiAsyncContext *ac = single_context (&w);

  return single_finish (&w, ac, SspiFreeCredentialsHandleAsync (ac, cred), NULL);
}

SECURITY_STATUS
tp_isc (CredHandle *cred, CtxtHandle *ctx, const char *target, ULONG req,
        SecBufferDesc *in, CtxtHandle *new_ctx, SecBufferDesc *out, ULONG *attrs,
        gboolean *queued)
{
  Waiter w = { 0 };
  SspiAsyncContext *ac = single_context (&w);
  TimeStamp expiry;

  return single_finish (&w, ac,
                        SspiInitializeSecurityContextAsyncA (ac, cred, ctx, (LPSTR) target,
                                                             req, 0, SECURITY_NATIVE_DREP,
                                                             in, 0, new_ctx, out, attrs,
                                                             &expiry),
                        queued);
}

SECURITY_STATUS
tp_asc (CredHandle *cred, CtxtHandle *ctx, SecBufferDesc *in, ULONG req,
        CtxtHandle *new_ctx, SecBufferDesc *out, ULONG *attrs, gboolean *queued)
{
  Waiter w = { 0 };
  SspiAsyncContext *ac = single_context (&w);
  TimeStamp expiry;

  return single_finish (&w, ac,
                        SspiAcceptSecurityContextAsync (ac, cred, ctx, in, req,
                                                        SECURITY_NATIVE_DREP, new_ctx,
                                                        out, attrs, &expiry),
                        queued);
}

void
tp_delete_context (CtxtHandle *ctx)
{
  SspiAsyncContext *ac = SspiCreateAsyncContext ();

  ck_assert_ptr_nonnull (ac);
  /* No callback: fire and forget, and the context may go at once. */
  ck_assert_int_eq (SspiDeleteSecurityContextAsync (ac, ctx), SEC_E_OK);
  SspiFreeAsyncContext (ac);
}

/* ---- the state machine (all under tp_lock) ----------------------------- */

static void
pair_check_finished (TlsPair *pair)
{
  if (pair->is_finished || pair->client.state != SIDE_DONE ||
      pair->server.state != SIDE_DONE)
    return;
  pair->is_finished = TRUE;
  if (pair->opts.group != NULL)
    pair->opts.group->finished++;
  g_cond_broadcast (&tp_cond);
}

/* Stops @s.  Called from @s's own last callback, or when no call of @s is
 * in flight, so freeing its async context here is safe. */
static void
side_done (Side *s)
{
  s->state = SIDE_DONE;
  g_clear_pointer (&s->ac, SspiFreeAsyncContext);
  /* A peer waiting for bytes from us will never get them. */
  if (s->peer->state == SIDE_WAITING && s->peer->inbox->len == 0)
    {
      s->peer->res->is_stalled = TRUE;
      side_done (s->peer);
    }
  pair_check_finished (s->pair);
}

static void
side_read_or_wait (Side *s)
{
  TlsPairGroup *group = s->pair->opts.group;
  gsize n;

  if (s->inbox->len == 0)
    {
      s->state = SIDE_WAITING;
      /* Both waiting, or the peer gone: nobody will ever send. */
      if (s->peer->state == SIDE_DONE ||
          (s->peer->state == SIDE_WAITING && s->peer->inbox->len == 0))
        {
          s->res->is_stalled = TRUE;
          side_done (s);
        }
      return;
    }
  if (s->is_server && !s->has_context && group != NULL && !group->is_open)
    {
      s->state = SIDE_PARKED;
      g_ptr_array_add (group->parked, s);
      return;
    }
  n = s->pair->opts.chunk ? MIN (s->pair->opts.chunk, s->inbox->len) : s->inbox->len;
  g_byte_array_append (s->input, s->inbox->data, n);
  g_byte_array_remove_range (s->inbox, 0, n);
  side_issue (s);
}

static void
side_deliver_output (Side *s)
{
  gboolean is_allocated = (s->pair->opts.output_size == 0);

  if (s->out_buf.cbBuffer > 0 && s->out_buf.pvBuffer != NULL)
    {
      g_byte_array_append (s->peer->inbox, s->out_buf.pvBuffer, s->out_buf.cbBuffer);
      s->res->tokens_sent++;
      s->res->bytes_sent += s->out_buf.cbBuffer;
      /* ISC_RET_ALLOCATED_MEMORY and ASC_RET_ALLOCATED_MEMORY are the same bit. */
      if (is_allocated && !(s->attrs & ISC_RET_ALLOCATED_MEMORY))
        s->res->allocation_wrong = TRUE;
    }
  if (is_allocated && s->out_buf.pvBuffer != NULL &&
      FreeContextBuffer (s->out_buf.pvBuffer) != SEC_E_OK)
    s->res->allocation_wrong = TRUE;
  s->out_buf.pvBuffer = NULL;

  if (s->peer->state == SIDE_WAITING && s->peer->inbox->len > 0)
    side_read_or_wait (s->peer);
}

static void
side_handle_result (Side *s)
{
  SECURITY_STATUS status = SspiGetAsyncCallStatus (s->ac);
  ULONG extra = 0;

  for (ULONG i = 0; i < s->in_desc.cBuffers; i++)
    if (s->in_bufs[i].BufferType == SECBUFFER_EXTRA)
      extra = s->in_bufs[i].cbBuffer;

  if (s->has_context)
    {
      if (!is_same_handle (&s->new_ctx, &s->ctx) &&
          (status == SEC_E_OK || status == SEC_I_CONTINUE_NEEDED ||
           status == SEC_I_INCOMPLETE_CREDENTIALS))
        s->res->context_changed = TRUE;
    }
  else if (is_handle_set (&s->new_ctx))
    {
      s->ctx = s->new_ctx;
      s->has_context = TRUE;
    }

  s->res->status = status;
  s->res->attributes = s->attrs;
  s->state = SIDE_BUSY;   /* so the peer, run from here, neither stalls nor wakes us */
  side_deliver_output (s);

  if (extra > 0 && extra <= s->input->len)
    {
      s->res->extra_seen++;
      g_byte_array_remove_range (s->input, 0, s->input->len - extra);
    }
  else if (status != SEC_E_INCOMPLETE_MESSAGE && status != SEC_I_INCOMPLETE_CREDENTIALS)
    g_byte_array_set_size (s->input, 0);

  switch (status)
    {
    case SEC_E_OK:
      side_done (s);
      break;
    case SEC_I_CONTINUE_NEEDED:
      if (extra > 0)
        side_issue (s);             /* the next record is already here */
      else
        side_read_or_wait (s);
      break;
    case SEC_E_INCOMPLETE_MESSAGE:
      s->res->missing_seen++;
      side_read_or_wait (s);        /* read more, append */
      break;
    case SEC_I_INCOMPLETE_CREDENTIALS:
      s->res->saw_incomplete_credentials = TRUE;
      if (s->pair->opts.continue_anonymously)
        side_issue (s);             /* as Windows callers do: same input again */
      else
        side_done (s);
      break;
    default:
      side_done (s);
      break;
    }
}

static void
on_step_done (SspiAsyncContext *ac, void *data)
{
  Side *s = data;

  g_mutex_lock (&tp_lock);
  s->res->callbacks++;
  if (s->state != SIDE_IN_FLIGHT || ac != s->ac)
    s->res->stray_callbacks++;
  else
    side_handle_result (s);
  g_mutex_unlock (&tp_lock);
}

static void
side_issue (Side *s)
{
  const TlsPairOptions *o = &s->pair->opts;
  gboolean is_first_client_call = !s->is_server && s->res->calls == 0;
  const char *target = o->target ? o->target : "localhost";
  SECURITY_STATUS queued;

  s->in_desc = (SecBufferDesc) { SECBUFFER_VERSION, 0, s->in_bufs };
  if (!is_first_client_call)
    {
      s->in_bufs[s->in_desc.cBuffers++] = (SecBuffer) { s->input->len, SECBUFFER_TOKEN, s->input->data };
      s->in_bufs[s->in_desc.cBuffers++] = (SecBuffer) { 0, SECBUFFER_EMPTY, NULL };
    }
  if (s->alpn != NULL)
    s->in_bufs[s->in_desc.cBuffers++] = (SecBuffer) {
      g_bytes_get_size (s->alpn), SECBUFFER_APPLICATION_PROTOCOLS,
      (void *) g_bytes_get_data (s->alpn, NULL) };

  s->out_desc = (SecBufferDesc) { SECBUFFER_VERSION, 1, &s->out_buf };
  s->out_buf = (SecBuffer) { o->output_size, SECBUFFER_TOKEN, s->out_storage };
  SecInvalidateHandle (&s->new_ctx);
  s->attrs = 0;

  if (s->res->calls > 0)
    ck_assert_int_eq (SspiReinitAsyncContext (s->ac), STATUS_SUCCESS);
  s->state = SIDE_IN_FLIGHT;
  s->res->calls++;

  if (s->is_server)
    queued = SspiAcceptSecurityContextAsync (s->ac, s->cred, s->has_context ? &s->ctx : NULL,
                                             &s->in_desc,
                                             TP_SERVER_REQ | o->server_req |
                                             (o->output_size ? 0 : ASC_REQ_ALLOCATE_MEMORY),
                                             SECURITY_NATIVE_DREP, &s->new_ctx, &s->out_desc,
                                             &s->attrs, &s->expiry);
  else
    queued = SspiInitializeSecurityContextAsyncA (s->ac, s->cred, s->has_context ? &s->ctx : NULL,
                                                  *target ? (LPSTR) target : NULL,
                                                  TP_CLIENT_REQ | o->client_req |
                                                  (o->output_size ? 0 : ISC_REQ_ALLOCATE_MEMORY),
                                                  0, SECURITY_NATIVE_DREP,
                                                  s->in_desc.cBuffers ? &s->in_desc : NULL, 0,
                                                  &s->new_ctx, &s->out_desc, &s->attrs,
                                                  &s->expiry);
  if (queued != SEC_E_OK)
    {
      s->res->status = queued;
      s->res->is_queue_failure = TRUE;
      side_done (s);
    }
}

/* ---- pairs ------------------------------------------------------------- */

static void
side_init (Side *s, TlsPair *pair, Side *peer, gboolean is_server)
{
  const TlsPairOptions *o = &pair->opts;

  s->pair = pair;
  s->peer = peer;
  s->is_server = is_server;
  s->res = is_server ? &pair->result.server : &pair->result.client;
  s->inbox = g_byte_array_new ();
  s->input = g_byte_array_new ();
  s->state = SIDE_WAITING;
  SecInvalidateHandle (&s->ctx);
  if ((is_server ? o->server_alpn : o->client_alpn) != NULL)
    s->alpn = tp_alpn_buffer (is_server ? o->server_alpn : o->client_alpn);
  if (o->output_size > 0)
    s->out_storage = g_malloc (o->output_size);
  s->ac = SspiCreateAsyncContext ();
  ck_assert_ptr_nonnull (s->ac);
  ck_assert_int_eq (SspiSetAsyncNotifyCallback (s->ac, on_step_done, s), SEC_E_OK);
}

/* Points @s at the given credential or acquires one. */
static void
side_set_credential (TlsPair *pair, int i, CredHandle *given, const char *name,
                     ULONG use, guint32 protocols, guint32 flags)
{
  Side *s = i ? &pair->server : &pair->client;

  pair->acquire_status[i] = SEC_E_OK;
  if (given != NULL)
    {
      s->cred = given;
      return;
    }
  pair->acquire_status[i] = tp_acquire (name, use, protocols, flags, &pair->own_cred[i]);
  pair->owns_cred[i] = (pair->acquire_status[i] == SEC_E_OK);
  s->cred = &pair->own_cred[i];
}

TlsPair *
tls_pair_new (const TlsPairOptions *opts)
{
  TlsPair *pair = g_new0 (TlsPair, 1);

  pair->opts = *opts;
  side_init (&pair->client, pair, &pair->server, FALSE);
  side_init (&pair->server, pair, &pair->client, TRUE);
  side_set_credential (pair, 0, opts->client_cred, opts->client_credential,
                       SECPKG_CRED_OUTBOUND, opts->client_protocols, opts->client_cred_flags);
  side_set_credential (pair, 1, opts->server_cred,
                       opts->server_credential ? opts->server_credential : "server",
                       SECPKG_CRED_INBOUND, opts->server_protocols, 0);
  return pair;
}

void
tls_pair_start (TlsPair *pair)
{
  g_mutex_lock (&tp_lock);
  if (pair->acquire_status[1] != SEC_E_OK)
    {
      pair->server.res->status = pair->acquire_status[1];
      pair->server.res->is_queue_failure = TRUE;
      side_done (&pair->server);
    }
  if (pair->acquire_status[0] != SEC_E_OK)
    {
      pair->client.res->status = pair->acquire_status[0];
      pair->client.res->is_queue_failure = TRUE;
      side_done (&pair->client);
    }
  else
    side_issue (&pair->client);
  g_mutex_unlock (&tp_lock);
}

gboolean
tls_pair_wait (TlsPair *pair, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  gboolean is_finished;

  g_mutex_lock (&tp_lock);
  while (!pair->is_finished && g_cond_wait_until (&tp_cond, &tp_lock, deadline))
    ;
  is_finished = pair->is_finished;
  g_mutex_unlock (&tp_lock);
  return is_finished;
}

static void
side_query (Side *s)
{
  SecPkgContext_ConnectionInfo conn = { 0 };
  SecPkgContext_ApplicationProtocol ap = { 0 };
  PCCERT_CONTEXT cert = NULL;

  if (s->res->status != SEC_E_OK || !s->has_context)
    return;
  if (QueryContextAttributesA (&s->ctx, SECPKG_ATTR_CONNECTION_INFO, &conn) == SEC_E_OK)
    s->res->protocol = conn.dwProtocol;
  if (QueryContextAttributesA (&s->ctx, SECPKG_ATTR_APPLICATION_PROTOCOL, &ap) == SEC_E_OK &&
      ap.ProtoNegoStatus == SecApplicationProtocolNegotiationStatus_Success)
    s->res->alpn = g_strndup ((const char *) ap.ProtocolId, ap.ProtocolIdSize);
  if (QueryContextAttributesA (&s->ctx, SECPKG_ATTR_REMOTE_CERT_CONTEXT, &cert) == SEC_E_OK &&
      cert != NULL)
    {
      s->res->peer_cert = g_bytes_new (cert->pbCertEncoded, cert->cbCertEncoded);
      CertFreeCertificateContext (cert);
    }
}

void
tls_pair_query (TlsPair *pair)
{
  side_query (&pair->client);
  side_query (&pair->server);
}

const TlsPairResult *
tls_pair_peek_result (TlsPair *pair)
{
  return &pair->result;
}

CtxtHandle *
tls_pair_peek_context (TlsPair *pair, gboolean server)
{
  return server ? &pair->server.ctx : &pair->client.ctx;
}

TlsPair *
tls_pair_run (const TlsPairOptions *opts)
{
  TlsPair *pair = tls_pair_new (opts);

  tls_pair_start (pair);
  if (!tls_pair_wait (pair, 60000))
    ck_abort_msg ("handshake pair did not finish within 60 s");
  tls_pair_query (pair);
  return pair;
}

static void
side_clear (Side *s)
{
  if (s->has_context)
    tp_delete_context (&s->ctx);
  g_clear_pointer (&s->ac, SspiFreeAsyncContext);
  g_byte_array_unref (s->inbox);
  g_byte_array_unref (s->input);
  g_clear_pointer (&s->alpn, g_bytes_unref);
  g_free (s->out_storage);
  g_free (s->res->alpn);
  g_clear_pointer (&s->res->peer_cert, g_bytes_unref);
}

void
tls_pair_free (TlsPair *pair)
{
  if (pair == NULL)
    return;
  ck_assert_msg (pair->is_finished, "tls_pair_free on a pair still running");
  side_clear (&pair->client);
  side_clear (&pair->server);
  for (int i = 0; i < 2; i++)
    if (pair->owns_cred[i])
      tp_free_credential (&pair->own_cred[i]);
  g_free (pair);
}

/* ---- groups ------------------------------------------------------------ */

TlsPairGroup *
tls_pair_group_new (void)
{
  TlsPairGroup *group = g_new0 (TlsPairGroup, 1);

  group->parked = g_ptr_array_new ();
  return group;
}

void
tls_pair_group_open (TlsPairGroup *group)
{
  g_mutex_lock (&tp_lock);
  group->is_open = TRUE;
  for (guint i = 0; i < group->parked->len; i++)
    {
      Side *s = g_ptr_array_index (group->parked, i);
      if (s->state == SIDE_PARKED)
        side_read_or_wait (s);
    }
  g_ptr_array_set_size (group->parked, 0);
  g_mutex_unlock (&tp_lock);
}

guint
tls_pair_group_get_finished (TlsPairGroup *group)
{
  guint n;

  g_mutex_lock (&tp_lock);
  n = group->finished;
  g_mutex_unlock (&tp_lock);
  return n;
}

gboolean
tls_pair_group_wait (TlsPairGroup *group, guint n, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  gboolean is_reached;

  g_mutex_lock (&tp_lock);
  while (group->finished < n && g_cond_wait_until (&tp_cond, &tp_lock, deadline))
    ;
  is_reached = group->finished >= n;
  g_mutex_unlock (&tp_lock);
  return is_reached;
}

void
tls_pair_group_free (TlsPairGroup *group)
{
  g_ptr_array_unref (group->parked);
  g_free (group);
}
