/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Handshakes through libsspi's asynchronous API (see bench-sspi.h).
 *
 * One lock guards every slot: the notify callbacks all run on the
 * library's one thread, and the main thread only starts the slots and
 * waits, so finer locking would buy nothing.
 */
#include "config.h"

#include "bench-sspi.h"

#include <string.h>
#include <schannel.h>

#include "bench-tls.h"
#include "bench-util.h"

#define CLIENT_REQ (ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | \
                    ISC_REQ_CONFIDENTIALITY | ISC_REQ_STREAM | ISC_REQ_ALLOCATE_MEMORY)
#define SERVER_REQ (ASC_REQ_SEQUENCE_DETECT | ASC_REQ_REPLAY_DETECT | \
                    ASC_REQ_CONFIDENTIALITY | ASC_REQ_STREAM | ASC_REQ_ALLOCATE_MEMORY)

typedef struct _Slot Slot;
typedef struct _End End;

/* One end of a handshake: libsspi (async calls) or in-process GnuTLS. */
struct _End {
  Slot             *slot;
  End              *peer;
  gboolean          is_server;
  gboolean          is_sspi;
  gboolean          is_done;
  gboolean          is_in_flight;
  GByteArray       *input;       /* from the peer, not consumed yet */
  /* libsspi */
  SspiAsyncContext *ac;
  guint             calls;
  CtxtHandle        ctx;
  CtxtHandle        new_ctx;
  gboolean          has_ctx;
  gsize             issued_len;  /* input bytes handed to the call in flight */
  SecBuffer         in_bufs[2];
  SecBufferDesc     in_desc;
  SecBuffer         out_buf;
  SecBufferDesc     out_desc;
  ULONG             attrs;
  TimeStamp         expiry;
  /* GnuTLS */
  BenchTls         *tls;
};

struct _Slot {
  End client;
  End server;
};

typedef struct {
  const BenchHsOptions *opts;
  BenchHsResult        *result;
  gint64                start;
  gint64                deadline;
  gint64                last_finish;
  guint                 started;
  guint                 active;
} Run;

static GMutex hs_lock;
static GCond  hs_cond;
static Run   *run;
static CredHandle server_cred;
static CredHandle client_cred;

static void end_step (End *e);
static void slot_start (Slot *slot);

void
bench_hs_init (void)
{
  TimeStamp expiry;
  SECURITY_STATUS status;

  bench_tls_init ();
  if (SecIsValidHandle (&server_cred) && server_cred.dwLower != 0)
    return;
  status = AcquireCredentialsHandleA ((SEC_CHAR *) "server", (SEC_CHAR *) UNISP_NAME_A,
                                      SECPKG_CRED_INBOUND, NULL, NULL, NULL, NULL,
                                      &server_cred, &expiry);
  if (status != SEC_E_OK)
    bench_die ("AcquireCredentialsHandle(server): 0x%08x", (guint32) status);
  status = AcquireCredentialsHandleA (NULL, (SEC_CHAR *) UNISP_NAME_A, SECPKG_CRED_OUTBOUND,
                                      NULL, NULL, NULL, NULL, &client_cred, &expiry);
  if (status != SEC_E_OK)
    bench_die ("AcquireCredentialsHandle(anonymous client): 0x%08x", (guint32) status);
}

CredHandle *
bench_hs_peek_server_credential (void)
{
  return &server_cred;
}

/* ---- moving bytes ------------------------------------------------------- */

/* Bytes @from produced for its peer.  A peer that is done only gets them if
 * it is the GnuTLS client and a ticket is wanted (a TLS 1.3 server sends
 * its tickets after its last step). */
static void
deliver (End *from, const void *data, gsize len)
{
  End *to = from->peer;

  if (len == 0)
    return;
  if (!to->is_done)
    {
      g_byte_array_append (to->input, data, (guint) len);
      return;
    }
  if (!to->is_sspi && run->opts->wants_ticket)
    bench_tls_feed (to->tls, data, len);
}

/* A GnuTLS client that is done reads what came after its handshake: the
 * server's tickets may have come with its last flight or after it. */
static void
take_ticket (End *client)
{
  BenchHsResult *result = run->result;

  if (client->is_sspi || !run->opts->wants_ticket || result->ticket.data != NULL)
    return;
  bench_tls_read_all (client->tls);
  bench_tls_get_resume_data (client->tls, &result->ticket);
}

static gboolean
is_handle_set (const CtxtHandle *h)
{
  return SecIsValidHandle (h) && !(h->dwLower == 0 && h->dwUpper == 0);
}

/* ---- the state machine (hs_lock held) ------------------------------------ */

static void
delete_context (CtxtHandle *ctx)
{
  SspiAsyncContext *ac = SspiCreateAsyncContext ();
  SECURITY_STATUS status = SspiDeleteSecurityContextAsync (ac, ctx);

  /* No callback: fire and forget, and the async context may go at once. */
  SspiFreeAsyncContext (ac);
  if (status != SEC_E_OK)
    bench_die ("SspiDeleteSecurityContextAsync: 0x%08x", (guint32) status);
}

static void
end_reset (End *e)
{
  BenchHsResult *result = run->result;

  if (e->is_sspi && e->has_ctx)
    {
      if (run->opts->is_keeping_contexts)
        g_array_append_val (e->is_server ? result->server_contexts : result->client_contexts,
                            e->ctx);
      else
        delete_context (&e->ctx);
    }
  g_clear_pointer (&e->tls, bench_tls_free);
  g_byte_array_set_size (e->input, 0);
  e->has_ctx = FALSE;
  e->is_done = FALSE;
  e->is_in_flight = FALSE;
}

static void
slot_finish (Slot *slot)
{
  gint64 now = bench_now_us ();
  const BenchHsOptions *o = run->opts;

  run->result->done++;
  take_ticket (&slot->client);
  if (!slot->client.is_sspi && gnutls_session_is_resumed (slot->client.tls->session))
    run->result->resumed++;
  run->last_finish = now;
  end_reset (&slot->client);
  end_reset (&slot->server);

  if (now < run->deadline && (o->max_handshakes == 0 || run->started < o->max_handshakes))
    {
      slot_start (slot);
      return;
    }
  if (--run->active == 0)
    g_cond_broadcast (&hs_cond);
}

/* After @e's step: wake the peer if it has bytes now, finish when both
 * ends are done. */
static void
after_step (End *e)
{
  End *p = e->peer;

  if (e->is_done && p->is_done)
    {
      slot_finish (e->slot);
      return;
    }
  if (!p->is_done && !p->is_in_flight && p->input->len > 0)
    end_step (p);
  else if (!e->is_done && !e->is_in_flight && e->input->len > 0)
    end_step (e);   /* the peer's bytes came in pieces (TLS 1.2) */
}

static void
gnutls_step (End *e)
{
  guint64 cpu = bench_thread_cpu_us ();
  int ret;

  bench_tls_feed (e->tls, e->input->data, e->input->len);
  g_byte_array_set_size (e->input, 0);
  ret = bench_tls_handshake (e->tls);
  if (ret == 0)
    e->is_done = TRUE;
  else if (ret != GNUTLS_E_AGAIN)
    bench_die ("in-process %s handshake step: %s", e->is_server ? "server" : "client",
               gnutls_strerror (ret));
  deliver (e, e->tls->out->data, e->tls->out->len);
  g_byte_array_set_size (e->tls->out, 0);
  /* Only the TLS work: what follows is the next libsspi call. */
  run->result->client_tls_us += bench_thread_cpu_us () - cpu;
  after_step (e);
}

static void
on_sspi_done (SspiAsyncContext *ac, void *data)
{
  End *e = data;
  SECURITY_STATUS status = SspiGetAsyncCallStatus (ac);
  gsize extra = 0;

  g_mutex_lock (&hs_lock);
  e->is_in_flight = FALSE;
  if (!e->has_ctx && is_handle_set (&e->new_ctx))
    {
      e->ctx = e->new_ctx;
      e->has_ctx = TRUE;
    }
  if (e->in_desc.cBuffers == 2 && e->in_bufs[1].BufferType == SECBUFFER_EXTRA)
    extra = MIN (e->in_bufs[1].cbBuffer, e->issued_len);
  if (status != SEC_E_INCOMPLETE_MESSAGE)
    g_byte_array_remove_range (e->input, 0, (guint) (e->issued_len - extra));
  if (e->out_buf.pvBuffer != NULL)
    {
      deliver (e, e->out_buf.pvBuffer, e->out_buf.cbBuffer);
      FreeContextBuffer (e->out_buf.pvBuffer);
      e->out_buf.pvBuffer = NULL;
    }

  if (status == SEC_E_OK)
    e->is_done = TRUE;
  else if (status != SEC_I_CONTINUE_NEEDED && status != SEC_E_INCOMPLETE_MESSAGE)
    bench_die ("%s step through sspid: 0x%08x", e->is_server ? "AcceptSecurityContext"
               : "InitializeSecurityContext", (guint32) status);
  after_step (e);
  g_mutex_unlock (&hs_lock);
}

static void
sspi_step (End *e)
{
  gboolean is_first_client_call = !e->is_server && !e->has_ctx;
  SECURITY_STATUS status;

  e->in_desc = (SecBufferDesc) { SECBUFFER_VERSION, 0, e->in_bufs };
  e->issued_len = 0;
  if (!is_first_client_call)
    {
      e->issued_len = e->input->len;
      e->in_bufs[0] = (SecBuffer) { (ULONG) e->input->len, SECBUFFER_TOKEN, e->input->data };
      e->in_bufs[1] = (SecBuffer) { 0, SECBUFFER_EMPTY, NULL };
      e->in_desc.cBuffers = 2;
    }
  e->out_buf = (SecBuffer) { 0, SECBUFFER_TOKEN, NULL };
  e->out_desc = (SecBufferDesc) { SECBUFFER_VERSION, 1, &e->out_buf };
  SecInvalidateHandle (&e->new_ctx);
  if (e->calls++ > 0 && SspiReinitAsyncContext (e->ac) != STATUS_SUCCESS)
    bench_die ("SspiReinitAsyncContext failed");
  e->is_in_flight = TRUE;

  if (e->is_server)
    status = SspiAcceptSecurityContextAsync (e->ac, &server_cred, e->has_ctx ? &e->ctx : NULL,
                                             &e->in_desc, SERVER_REQ, SECURITY_NATIVE_DREP,
                                             &e->new_ctx, &e->out_desc, &e->attrs, &e->expiry);
  else
    status = SspiInitializeSecurityContextAsyncA (e->ac, &client_cred,
                                                  e->has_ctx ? &e->ctx : NULL,
                                                  (LPSTR) "localhost", CLIENT_REQ, 0,
                                                  SECURITY_NATIVE_DREP,
                                                  is_first_client_call ? NULL : &e->in_desc,
                                                  0, &e->new_ctx, &e->out_desc, &e->attrs,
                                                  &e->expiry);
  if (status != SEC_E_OK)
    bench_die ("queueing a handshake step failed: 0x%08x", (guint32) status);
}

static void
end_step (End *e)
{
  if (e->is_sspi)
    sspi_step (e);
  else
    gnutls_step (e);
}

static void
slot_start (Slot *slot)
{
  run->started++;
  if (!slot->client.is_sspi)
    {
      guint64 cpu = bench_thread_cpu_us ();

      slot->client.tls = bench_tls_new_client (run->opts->resume);
      run->result->client_tls_us += bench_thread_cpu_us () - cpu;
    }
  end_step (&slot->client);
}

/* ---- running ------------------------------------------------------------- */

static void
end_init (End *e, Slot *slot, End *peer, gboolean is_server, gboolean is_sspi)
{
  e->slot = slot;
  e->peer = peer;
  e->is_server = is_server;
  e->is_sspi = is_sspi;
  e->input = g_byte_array_new ();
  if (is_sspi)
    {
      e->ac = SspiCreateAsyncContext ();
      SspiSetAsyncNotifyCallback (e->ac, on_sspi_done, e);
    }
}

static void
end_clear (End *e)
{
  g_clear_pointer (&e->ac, SspiFreeAsyncContext);
  g_clear_pointer (&e->tls, bench_tls_free);
  g_byte_array_unref (e->input);
}

void
bench_hs_run (const BenchHsOptions *opts, BenchHsResult *result)
{
  guint n = MAX (opts->in_flight, 1);
  g_autofree Slot *slots = g_new0 (Slot, n);
  Run r = { 0 };

  memset (result, 0, sizeof *result);
  if (opts->is_keeping_contexts)
    {
      result->server_contexts = g_array_new (FALSE, FALSE, sizeof (CtxtHandle));
      result->client_contexts = g_array_new (FALSE, FALSE, sizeof (CtxtHandle));
    }
  for (guint i = 0; i < n; i++)
    {
      end_init (&slots[i].client, &slots[i], &slots[i].server, FALSE, opts->is_client_sspi);
      end_init (&slots[i].server, &slots[i], &slots[i].client, TRUE, TRUE);
    }

  g_mutex_lock (&hs_lock);
  run = &r;
  r.opts = opts;
  r.result = result;
  r.start = bench_now_us ();
  r.last_finish = r.start;
  r.deadline = r.start + (gint64) (opts->seconds * G_USEC_PER_SEC);
  r.active = n;
  for (guint i = 0; i < n; i++)
    slot_start (&slots[i]);
  while (r.active > 0)
    if (!g_cond_wait_until (&hs_cond, &hs_lock, r.deadline + 120 * G_USEC_PER_SEC))
      bench_die ("handshakes did not finish (%u of %u slots still busy)", r.active, n);
  result->seconds = (r.last_finish - r.start) / (double) G_USEC_PER_SEC;
  run = NULL;
  g_mutex_unlock (&hs_lock);

  for (guint i = 0; i < n; i++)
    {
      end_clear (&slots[i].client);
      end_clear (&slots[i].server);
    }
}

void
bench_hs_pair (CtxtHandle *client, CtxtHandle *server, SecPkgContext_StreamSizes *sizes)
{
  BenchHsOptions opts = { .is_client_sspi = TRUE, .in_flight = 1, .seconds = 60,
                          .max_handshakes = 1, .is_keeping_contexts = TRUE };
  g_auto(BenchHsResult) result = { 0 };

  bench_hs_run (&opts, &result);
  *client = g_array_index (result.client_contexts, CtxtHandle, 0);
  *server = g_array_index (result.server_contexts, CtxtHandle, 0);
  if (QueryContextAttributesA (client, SECPKG_ATTR_STREAM_SIZES, sizes) != SEC_E_OK)
    bench_die ("QueryContextAttributes(STREAM_SIZES) failed");
}

void
bench_hs_result_clear (BenchHsResult *result)
{
  g_clear_pointer (&result->server_contexts, g_array_unref);
  g_clear_pointer (&result->client_contexts, g_array_unref);
  if (result->ticket.data != NULL)
    gnutls_free (result->ticket.data);
  result->ticket.data = NULL;
}
