/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The part of sspictl that talks TLS: acquiring a credential and the
 * Schannel handshake loop over a TCP socket, or DTLS's over a connected
 * UDP socket.  The session report is in sspictl-report.c, application data
 * in sspictl-stream.c.
 *
 * Every SSPI call that makes or continues a handshake goes through the
 * asynchronous API (Sspi*Async): the main thread issues one step, waits for
 * its notify callback (which only wakes it up), then does what Schannel's
 * loop rules say: send the output token, keep SECBUFFER_EXTRA bytes for the
 * next call, read more on SEC_E_INCOMPLETE_MESSAGE.  The socket is only
 * touched on the main thread.  sspictl never holds a key: it moves opaque
 * tokens.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "sspictl-tls.h"

/* How long one step may take before sspictl gives up on the daemon, and how
 * long the socket may stay silent.  Generous: they only bound a hang. */
#define STEP_TIMEOUT_SEC 120
#define SOCKET_TIMEOUT_SEC 30
/* A handshake read takes what has arrived, up to several records: a step
 * consumes every whole record it is given, and each step is a round trip
 * to the daemon (a peer's 16 MiB handshake message in 16 KiB reads took
 * two steps per record, longer than handshake-timeout-sec). */
#define READ_CHUNK (64 * 1024)
/* When closing: how long to wait for the peer to close first. */
#define LINGER_MS 2000
/* DTLS: the retransmission timer, which Windows leaves to the caller:
 * RFC 6347 4.2.4.1's, 1 s to start with, doubled at each timeout.  The
 * doubling matters: a GnuTLS client waiting for the server's last flight
 * restarts its own timer whenever a datagram arrives, so a server that
 * resent faster would keep it from ever resending a lost flight of its
 * own.  A handshake gives up after SOCKET_TIMEOUT_SEC without a datagram. */
#define RETRANSMIT_MS 1000
#define RETRANSMIT_MAX_MS 8000
/* DTLS: the largest datagram (UDP's); a shorter buffer would cut one. */
#define DATAGRAM_MAX 65535

#define STATUS(x) { x, #x }
static const struct {
  SECURITY_STATUS status;
  const char *name;
} status_names[] = {
  STATUS (SEC_E_OK),
  STATUS (SEC_E_INSUFFICIENT_MEMORY),
  STATUS (SEC_E_INVALID_HANDLE),
  STATUS (SEC_E_UNSUPPORTED_FUNCTION),
  STATUS (SEC_E_TARGET_UNKNOWN),
  STATUS (SEC_E_INTERNAL_ERROR),
  STATUS (SEC_E_SECPKG_NOT_FOUND),
  STATUS (SEC_E_NOT_OWNER),
  STATUS (SEC_E_INVALID_TOKEN),
  STATUS (SEC_E_QOP_NOT_SUPPORTED),
  STATUS (SEC_E_LOGON_DENIED),
  STATUS (SEC_E_UNKNOWN_CREDENTIALS),
  STATUS (SEC_E_NO_CREDENTIALS),
  STATUS (SEC_E_MESSAGE_ALTERED),
  STATUS (SEC_E_OUT_OF_SEQUENCE),
  STATUS (SEC_E_NO_AUTHENTICATING_AUTHORITY),
  STATUS (SEC_E_CONTEXT_EXPIRED),
  STATUS (SEC_E_INCOMPLETE_MESSAGE),
  STATUS (SEC_E_INCOMPLETE_CREDENTIALS),
  STATUS (SEC_E_BUFFER_TOO_SMALL),
  STATUS (SEC_E_WRONG_PRINCIPAL),
  STATUS (SEC_E_TIME_SKEW),
  STATUS (SEC_E_UNTRUSTED_ROOT),
  STATUS (SEC_E_ILLEGAL_MESSAGE),
  STATUS (SEC_E_CERT_UNKNOWN),
  STATUS (SEC_E_CERT_EXPIRED),
  STATUS (SEC_E_ENCRYPT_FAILURE),
  STATUS (SEC_E_DECRYPT_FAILURE),
  STATUS (SEC_E_ALGORITHM_MISMATCH),
  STATUS (SEC_E_UNFINISHED_CONTEXT_DELETED),
  STATUS (SEC_E_WRONG_CREDENTIAL_HANDLE),
  STATUS (SEC_E_SHUTDOWN_IN_PROGRESS),
  STATUS (SEC_E_CERT_WRONG_USAGE),
  STATUS (SEC_E_DOWNGRADE_DETECTED),
  STATUS (SEC_E_ISSUING_CA_UNTRUSTED),
  STATUS (SEC_E_INVALID_PARAMETER),
  STATUS (SEC_E_NO_CONTEXT),
  STATUS (SEC_E_MUTUAL_AUTH_FAILED),
  STATUS (SEC_E_APPLICATION_PROTOCOL_MISMATCH),
  STATUS (SEC_I_CONTINUE_NEEDED),
  STATUS (SEC_I_COMPLETE_NEEDED),
  STATUS (SEC_I_COMPLETE_AND_CONTINUE),
  STATUS (SEC_I_CONTEXT_EXPIRED),
  STATUS (SEC_I_INCOMPLETE_CREDENTIALS),
  STATUS (SEC_I_RENEGOTIATE),
  STATUS (SEC_I_NO_RENEGOTIATION),
  STATUS (SEC_I_MESSAGE_FRAGMENT),
  STATUS (SEC_I_ASYNC_CALL_PENDING),
};
#undef STATUS

const char *
sspictl_status_name (SECURITY_STATUS status)
{
  for (gsize i = 0; i < G_N_ELEMENTS (status_names); i++)
    if (status_names[i].status == status)
      return status_names[i].name;
  return NULL;
}

void
sspictl_print_status (const char *what, SECURITY_STATUS status)
{
  const char *name = sspictl_status_name (status);

  fprintf (stderr, "sspictl: %s: %s (0x%08" G_GINT32_MODIFIER "X)\n",
           what, name ? name : "unknown status", (guint32) status);
}

/* SEC_E_NO_AUTHENTICATING_AUTHORITY means sspid could not be reached (a
 * hint is printed), anything else that the daemon refused. */
static int
exit_for_acquire (SECURITY_STATUS status)
{
  if (status != SEC_E_NO_AUTHENTICATING_AUTHORITY)
    return SSPICTL_EXIT_FAILED;
  fprintf (stderr, "sspictl: sspid is not running and could not be started on %s\n",
           g_getenv ("SSPID_BUS_ADDRESS") ? "$SSPID_BUS_ADDRESS" : "the system bus");
  return SSPICTL_EXIT_UNREACHABLE;
}

void
sspictl_tls_args_clear (SspictlTlsArgs *args)
{
  g_clear_pointer (&args->credential, g_free);
  g_clear_pointer (&args->alpn, g_strfreev);
}

void
sspictl_tls_args_add_entries (GOptionContext *context, SspictlTlsArgs *args)
{
  const GOptionEntry entries[] = {
    { "tls1.2", 0, 0, G_OPTION_ARG_NONE, &args->tls12, "Allow only TLS 1.2", NULL },
    { "tls1.3", 0, 0, G_OPTION_ARG_NONE, &args->tls13, "Allow only TLS 1.3", NULL },
    { "read-size", 0, 0, G_OPTION_ARG_INT, &args->read_size,
      "Read the socket BYTES at a time (exercises partial records)", "BYTES" },
    { "dtls", 0, 0, G_OPTION_ARG_NONE, &args->dtls,
      "DTLS 1.2 over UDP instead of TLS over TCP", NULL },
    { "mtu", 0, 0, G_OPTION_ARG_INT, &args->mtu,
      "With --dtls: the largest datagram to send (SECBUFFER_DTLS_MTU; sspid's default 1096)",
      "BYTES" },
    { NULL }
  };

  /* GLib copies the entries; their targets are in @args. */
  g_option_context_add_main_entries (context, entries, NULL);
}

gboolean
sspictl_tls_args_check (const SspictlTlsArgs *args, const char *verb)
{
  if (args->read_size < 0)
    {
      g_printerr ("sspictl: --read-size must not be negative\n");
      return FALSE;
    }
  if (args->tls12 && args->tls13)
    {
      g_printerr ("sspictl %s: --tls1.2 and --tls1.3 exclude each other\n", verb);
      return FALSE;
    }
  if (args->dtls && (args->tls12 || args->tls13 || args->read_size != 0))
    {
      g_printerr ("sspictl %s: --dtls is DTLS 1.2 with whole datagrams: "
                  "no --tls1.2, --tls1.3 or --read-size\n", verb);
      return FALSE;
    }
  if (args->mtu != 0 && (!args->dtls || args->mtu < 0 || args->mtu > G_MAXUINT16))
    {
      g_printerr ("sspictl %s: --mtu wants --dtls and a datagram size (BYTES, at most 65535)\n",
                  verb);
      return FALSE;
    }
  return TRUE;
}

guint32
sspictl_protocols_from_flags (gboolean tls12, gboolean tls13, gboolean is_server)
{
  guint32 mask = 0;

  if (tls12)
    mask |= is_server ? SP_PROT_TLS1_2_SERVER : SP_PROT_TLS1_2_CLIENT;
  if (tls13)
    mask |= is_server ? SP_PROT_TLS1_3_SERVER : SP_PROT_TLS1_3_CLIENT;
  return mask;
}

void
sspictl_tls_options_init (SspictlTlsOptions *opts, const SspictlTlsArgs *args,
                          gboolean is_server)
{
  *opts = (SspictlTlsOptions) { 0 };
  opts->is_server = is_server;
  opts->credential = args->credential;
  opts->alpn = (const char *const *) args->alpn;
  opts->protocols = sspictl_protocols_from_flags (args->tls12, args->tls13, is_server);
  opts->read_size = args->read_size;
  opts->is_datagram = args->dtls;
  opts->mtu = (guint16) args->mtu;
  if (args->dtls)
    opts->protocols = is_server ? SP_PROT_DTLS1_2_SERVER : SP_PROT_DTLS1_2_CLIENT;
}

/* ---- waiting for one async call ---------------------------------------- */

/* The notify callback only wakes the main thread: the next step is issued
 * there, after this one has completed, so that the socket stays on one
 * thread. */
typedef struct {
  GMutex lock;
  GCond  cond;
  gboolean is_done;
} Waiter;

static void
on_notify (SspiAsyncContext *async_context, void *data)
{
  Waiter *w = data;

  g_mutex_lock (&w->lock);
  w->is_done = TRUE;
  g_cond_signal (&w->cond);
  g_mutex_unlock (&w->lock);
}

/* A fresh async context whose callback wakes @w.  Free with SspiFreeAsyncContext(). */
static SspiAsyncContext *
waiter_context_new (Waiter *w)
{
  SspiAsyncContext *ac = SspiCreateAsyncContext ();

  if (ac != NULL && SspiSetAsyncNotifyCallback (ac, on_notify, w) != SEC_E_OK)
    {
      SspiFreeAsyncContext (ac);
      return NULL;
    }
  return ac;
}

/* Waits for the call queued on @ac (whose queueing returned @queued) and
 * returns its result. */
static SECURITY_STATUS
waiter_finish (Waiter *w, SspiAsyncContext *ac, SECURITY_STATUS queued)
{
  gint64 deadline = g_get_monotonic_time () + STEP_TIMEOUT_SEC * G_TIME_SPAN_SECOND;
  gboolean is_done;

  if (queued != SEC_E_OK)
    return queued;

  g_mutex_lock (&w->lock);
  while (!w->is_done && g_cond_wait_until (&w->cond, &w->lock, deadline))
    ;
  is_done = w->is_done;
  w->is_done = FALSE;
  g_mutex_unlock (&w->lock);

  if (!is_done)
    {
      g_printerr ("sspictl: no answer from sspid after %d s\n", STEP_TIMEOUT_SEC);
      return SEC_E_NO_AUTHENTICATING_AUTHORITY;
    }
  return SspiGetAsyncCallStatus (ac);
}

/* ---- credentials ------------------------------------------------------- */

SECURITY_STATUS
sspictl_tls_acquire (const SspictlTlsOptions *opts, CredHandle *cred)
{
  Waiter w = { 0 };
  SCHANNEL_CRED sc = { 0 };
  TimeStamp expiry;
  SspiAsyncContext *ac;
  SECURITY_STATUS status;

  sc.dwVersion = SCHANNEL_CRED_VERSION;
  sc.grbitEnabledProtocols = opts->protocols;
  if (!opts->is_server)
    sc.dwFlags = SCH_CRED_NO_DEFAULT_CREDS;

  ac = waiter_context_new (&w);
  if (ac == NULL)
    return SEC_E_INSUFFICIENT_MEMORY;
  SecInvalidateHandle (cred);
  status = SspiAcquireCredentialsHandleAsyncA (ac, (LPSTR) opts->credential,
                                               (LPSTR) UNISP_NAME_A,
                                               opts->is_server ? SECPKG_CRED_INBOUND
                                                               : SECPKG_CRED_OUTBOUND,
                                               NULL, &sc, NULL, NULL, cred, &expiry);
  status = waiter_finish (&w, ac, status);
  SspiFreeAsyncContext (ac);
  return status;
}

int
sspictl_tls_acquire_for_verb (const SspictlTlsOptions *opts, CredHandle *cred)
{
  SECURITY_STATUS status = sspictl_tls_acquire (opts, cred);

  if (status == SEC_E_OK)
    return SSPICTL_EXIT_OK;
  sspictl_print_status (opts->is_server ? "acquiring the server credential"
                                        : "acquiring the client credential", status);
  return exit_for_acquire (status);
}

void
sspictl_tls_free_credential (CredHandle *cred)
{
  Waiter w = { 0 };
  SspiAsyncContext *ac;

  if (!SecIsValidHandle (cred))
    return;
  ac = waiter_context_new (&w);
  if (ac == NULL)
    return;
  /* Nothing useful to do if it fails: the daemon frees what a connection
   * owned when it goes away. */
  waiter_finish (&w, ac, SspiFreeCredentialsHandleAsync (ac, cred));
  SspiFreeAsyncContext (ac);
  SecInvalidateHandle (cred);
}

void
sspictl_tls_delete_context (CtxtHandle *ctx)
{
  SspiAsyncContext *ac;

  if (!SecIsValidHandle (ctx))
    return;
  /* Fire and forget, as on Windows: nobody waits for the answer. */
  ac = SspiCreateAsyncContext ();
  if (ac == NULL)
    return;
  SspiDeleteSecurityContextAsync (ac, ctx);
  SspiFreeAsyncContext (ac);
  SecInvalidateHandle (ctx);
}

/* ---- the socket -------------------------------------------------------- */

/* Reads what is available (at least one byte) and appends it to @in.
 * Returns FALSE, with a message printed, on error or end of stream. */
static gboolean
read_more (GSocket *socket, GByteArray *in, gsize read_size)
{
  g_autoptr (GError) error = NULL;
  guint old_len = in->len;
  gsize want = read_size ? read_size : READ_CHUNK;
  gssize n;

  g_byte_array_set_size (in, old_len + want);
  n = g_socket_receive (socket, (char *) in->data + old_len, want, NULL, &error);
  g_byte_array_set_size (in, old_len + MAX (n, 0));
  if (n < 0)
    {
      g_printerr ("sspictl: receiving: %s\n", error->message);
      return FALSE;
    }
  if (n == 0)
    {
      g_printerr ("sspictl: the peer closed the connection during the handshake\n");
      return FALSE;
    }
  return TRUE;
}

gboolean
sspictl_socket_send_all (GSocket *socket, const guint8 *data, gsize len, gboolean is_quiet)
{
  g_autoptr (GError) error = NULL;

  while (len > 0)
    {
      gssize n = g_socket_send (socket, (const char *) data, len, NULL, &error);
      if (n < 0)
        {
          if (!is_quiet)
            g_printerr ("sspictl: sending: %s\n", error->message);
          return FALSE;
        }
      data += n;
      len -= n;
    }
  return TRUE;
}

/* Closing while the peer's last bytes (a TLS 1.3 session ticket, or the
 * rest of a Finished it is still reading) are in flight would make the
 * kernel answer with a reset, which the peer may see before it has read
 * what we sent.  So: stop sending, read and discard until the peer closes
 * too (or LINGER_MS pass), then close. */
void
sspictl_socket_close_gently (GSocket *socket)
{
  char buf[4096];

  /* A datagram socket has no connection to drain. */
  if (g_socket_get_socket_type (socket) != G_SOCKET_TYPE_STREAM)
    {
      g_socket_close (socket, NULL);
      return;
    }
  g_socket_shutdown (socket, FALSE, TRUE, NULL);
  g_socket_set_timeout (socket, 0);
  while (g_socket_condition_timed_wait (socket, G_IO_IN, (gint64) LINGER_MS * 1000, NULL, NULL) &&
         g_socket_receive (socket, buf, sizeof buf, NULL, NULL) > 0)
    ;
  g_socket_close (socket, NULL);
}

/* ---- the handshake loop ------------------------------------------------ */

/* The SEC_APPLICATION_PROTOCOLS structure for a SECBUFFER_APPLICATION_PROTOCOLS
 * input buffer, or NULL for no ALPN. */
static GBytes *
build_alpn (const char *const *alpn)
{
  g_autoptr (GByteArray) list = g_byte_array_new ();
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  ULONG lists_size;
  SEC_APPLICATION_PROTOCOL_NEGOTIATION_EXT ext = SecApplicationProtocolNegotiationExt_ALPN;
  USHORT list_size;

  if (alpn == NULL || alpn[0] == NULL)
    return NULL;
  for (gsize i = 0; alpn[i] != NULL; i++)
    {
      guint8 len = (guint8) MIN (strlen (alpn[i]), 255);
      g_byte_array_append (list, &len, 1);
      g_byte_array_append (list, (const guint8 *) alpn[i], len);
    }
  list_size = (USHORT) list->len;
  lists_size = (ULONG) (offsetof (SEC_APPLICATION_PROTOCOL_LIST, ProtocolList) + list->len);
  g_byte_array_append (buf, (const guint8 *) &lists_size, sizeof lists_size);
  g_byte_array_append (buf, (const guint8 *) &ext, sizeof ext);
  g_byte_array_append (buf, (const guint8 *) &list_size, sizeof list_size);
  g_byte_array_append (buf, list->data, list->len);
  return g_byte_array_free_to_bytes (g_steal_pointer (&buf));
}

typedef struct {
  GSocket                 *socket;
  CredHandle              *cred;
  const SspictlTlsOptions *opts;
  CtxtHandle              *ctx;
  gboolean                 has_context;
  GByteArray              *in;      /* received bytes not yet consumed */
  GBytes                  *alpn;
  SspiAsyncContext        *ac;
  Waiter                   waiter;
  SspictlTlsStats         *stats;
  GByteArray              *leftover;  /* NULL: the caller wants no data */
} Handshake;

/* What one step left for the loop. */
typedef struct {
  SECURITY_STATUS status;
  ULONG extra;
  ULONG missing;
} StepResult;

static SECURITY_STATUS
issue_step (Handshake *hs, SecBufferDesc *in_desc, SecBufferDesc *out_desc,
            CtxtHandle *new_ctx, ULONG *attrs, TimeStamp *expiry)
{
  const SspictlTlsOptions *o = hs->opts;
  CtxtHandle *ctx = hs->has_context ? hs->ctx : NULL;

  if (o->is_server)
    return SspiAcceptSecurityContextAsync (hs->ac, hs->cred, ctx, in_desc,
                                           ASC_REQ_SEQUENCE_DETECT | ASC_REQ_REPLAY_DETECT |
                                           ASC_REQ_CONFIDENTIALITY | ASC_REQ_EXTENDED_ERROR |
                                           ASC_REQ_ALLOCATE_MEMORY |
                                           (o->is_datagram ? ASC_REQ_DATAGRAM : ASC_REQ_STREAM) |
                                           o->context_req,
                                           SECURITY_NATIVE_DREP, new_ctx, out_desc,
                                           attrs, expiry);
  return SspiInitializeSecurityContextAsyncA (hs->ac, hs->cred, ctx, (LPSTR) o->target,
                                              ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT |
                                              ISC_REQ_CONFIDENTIALITY | ISC_REQ_EXTENDED_ERROR |
                                              ISC_REQ_ALLOCATE_MEMORY |
                                              (o->is_datagram ? ISC_REQ_DATAGRAM
                                                              : ISC_REQ_STREAM) |
                                              o->context_req,
                                              0, SECURITY_NATIVE_DREP, in_desc, 0, new_ctx,
                                              out_desc, attrs, expiry);
}

/* One handshake step on hs->in.  Sends the output token, if any; returns
 * FALSE if that failed. */
static gboolean
run_step (Handshake *hs, StepResult *r)
{
  SecBuffer in_bufs[4] = { { 0 } };
  SEC_DTLS_MTU mtu = { hs->opts->mtu };
  SecBuffer out_buf = { 0, SECBUFFER_TOKEN, NULL };
  SecBufferDesc in_desc = { SECBUFFER_VERSION, 0, in_bufs };
  SecBufferDesc out_desc = { SECBUFFER_VERSION, 1, &out_buf };
  SecBufferDesc *in = &in_desc;
  CtxtHandle new_ctx;
  ULONG attrs = 0;
  TimeStamp expiry;
  gboolean ok = TRUE;

  /* A client's first call has no token yet: only the ALPN list, if any. */
  if (hs->opts->is_server || hs->has_context)
    {
      in_bufs[in_desc.cBuffers++] = (SecBuffer) { hs->in->len, SECBUFFER_TOKEN, hs->in->data };
      in_bufs[in_desc.cBuffers++] = (SecBuffer) { 0, SECBUFFER_EMPTY, NULL };
    }
  if (hs->alpn != NULL)
    in_bufs[in_desc.cBuffers++] = (SecBuffer) {
      g_bytes_get_size (hs->alpn), SECBUFFER_APPLICATION_PROTOCOLS,
      (void *) g_bytes_get_data (hs->alpn, NULL) };
  /* Honoured from this call on; passed on every call, as Windows programs do. */
  if (hs->opts->is_datagram && hs->opts->mtu != 0)
    in_bufs[in_desc.cBuffers++] = (SecBuffer) { sizeof mtu, SECBUFFER_DTLS_MTU, &mtu };
  if (in_desc.cBuffers == 0)
    in = NULL;

  SecInvalidateHandle (&new_ctx);
  if (hs->stats->steps++ > 0)
    SspiReinitAsyncContext (hs->ac);
  r->status = waiter_finish (&hs->waiter, hs->ac,
                             issue_step (hs, in, &out_desc, &new_ctx, &attrs, &expiry));

  if (!hs->has_context && SecIsValidHandle (&new_ctx))
    {
      *hs->ctx = new_ctx;
      hs->has_context = TRUE;
    }

  r->extra = r->missing = 0;
  for (ULONG i = 0; in != NULL && i < in_desc.cBuffers; i++)
    {
      if (in_bufs[i].BufferType == SECBUFFER_EXTRA)
        r->extra = in_bufs[i].cbBuffer;
      else if (in_bufs[i].BufferType == SECBUFFER_MISSING)
        r->missing = in_bufs[i].cbBuffer;
    }

  /* Every non-empty token goes to the peer, alerts after a failure too. */
  if (out_buf.pvBuffer != NULL)
    {
      if (out_buf.cbBuffer > 0)
        ok = sspictl_socket_send_all (hs->socket, out_buf.pvBuffer, out_buf.cbBuffer, FALSE);
      FreeContextBuffer (out_buf.pvBuffer);
    }
  return ok;
}

/* After the last step: the bytes behind the last handshake record are
 * records for DecryptMessage (a TLS 1.3 server's session tickets right
 * behind its Finished, a client's first request, or in a datagram the
 * records that came with the Finished).  Kept for the caller, as a Windows
 * Schannel user must. */
static void
keep_leftover (Handshake *hs, const StepResult *r)
{
  if (hs->leftover != NULL && r->extra > 0 && r->extra <= hs->in->len)
    g_byte_array_append (hs->leftover, hs->in->data + hs->in->len - r->extra, r->extra);
}

static void
say_no_client_certificate (void)
{
  g_printerr ("sspictl: the server asks for a client certificate; continuing without one\n");
}

/* What every step's result tells, in either loop: @r's status becomes
 * *@status and the stats count its SECBUFFER_EXTRA.  Returns TRUE when it
 * ended the handshake well (leftover records kept); the caller then is
 * done. */
static gboolean
note_step (Handshake *hs, const StepResult *r, SECURITY_STATUS *status)
{
  *status = r->status;
  if (r->extra > 0)
    hs->stats->extra++;
  if (r->status != SEC_E_OK)
    return FALSE;
  keep_leftover (hs, r);
  return TRUE;
}

/* SECBUFFER_EXTRA after a step that wants more: the next record (or
 * datagram) is already here, the input's last r->extra bytes; keeps only
 * them and returns TRUE (call again without reading), else FALSE. */
static gboolean
keep_extra_input (Handshake *hs, const StepResult *r)
{
  if (r->extra == 0 || r->extra > hs->in->len)
    return FALSE;
  g_byte_array_remove_range (hs->in, 0, hs->in->len - r->extra);
  return TRUE;
}

/* The Schannel loop.  Returns an SSPICTL_EXIT_* code. */
static int
handshake_loop (Handshake *hs, SECURITY_STATUS *status)
{
  gboolean need_read = hs->opts->is_server;   /* the client speaks first */

  for (;;)
    {
      StepResult r;

      if (need_read && !read_more (hs->socket, hs->in, hs->opts->read_size))
        return SSPICTL_EXIT_NETWORK;
      if (!run_step (hs, &r))
        return SSPICTL_EXIT_NETWORK;
      if (r.status == SEC_E_INCOMPLETE_MESSAGE)
        hs->stats->incomplete++;
      if (note_step (hs, &r, status))
        return SSPICTL_EXIT_OK;

      switch (r.status)
        {
        case SEC_I_CONTINUE_NEEDED:
        case SEC_I_INCOMPLETE_CREDENTIALS:
          if (r.status == SEC_I_INCOMPLETE_CREDENTIALS)
            say_no_client_certificate ();
          /* SEC_I_INCOMPLETE_CREDENTIALS without EXTRA: Windows callers
           * repeat the call with the same input. */
          if (keep_extra_input (hs, &r))
            need_read = FALSE;
          else if (r.status == SEC_I_INCOMPLETE_CREDENTIALS)
            need_read = FALSE;
          else
            {
              g_byte_array_set_size (hs->in, 0);
              need_read = TRUE;
            }
          break;

        case SEC_E_INCOMPLETE_MESSAGE:
          need_read = TRUE;   /* append to what we have */
          break;

        default:
          return SSPICTL_EXIT_HANDSHAKE;
        }
    }
}

/* ---- the DTLS handshake loop ------------------------------------------- */

/* Waits up to @timeout_ms for the next datagram and puts it in hs->in (in
 * place of what was there).  Returns 1 for a datagram, 0 if none came in
 * time, -1 on an error (printed), -2 if the kernel got an ICMP "port
 * unreachable" for one of ours: nothing listens there (any more). */
static int
receive_datagram (Handshake *hs, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  gint64 left;

  while ((left = deadline - g_get_monotonic_time ()) > 0)
    {
      g_autoptr (GError) error = NULL;
      gssize n;

      if (!g_socket_condition_timed_wait (hs->socket, G_IO_IN, left, NULL, &error))
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
            break;
          g_printerr ("sspictl: waiting for a datagram: %s\n", error->message);
          return -1;
        }
      g_byte_array_set_size (hs->in, DATAGRAM_MAX);
      n = g_socket_receive (hs->socket, (char *) hs->in->data, DATAGRAM_MAX, NULL, &error);
      g_byte_array_set_size (hs->in, MAX (n, 0));
      if (n > 0)
        return 1;
      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
        return -2;
      if (n < 0 && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          g_printerr ("sspictl: receiving: %s\n", error->message);
          return -1;
        }
    }
  g_byte_array_set_size (hs->in, 0);
  return 0;
}

/* DTLS's loop: each datagram that arrives is a step; the peer's silence
 * for the retransmission timer a step with no input (sspid resends our
 * last flight), the timer doubling each time.  Returns an SSPICTL_EXIT_*
 * code. */
static int
datagram_loop (Handshake *hs, SECURITY_STATUS *status)
{
  gboolean need_read = hs->opts->is_server;   /* the client speaks first */
  gint64 heard = g_get_monotonic_time ();
  guint timer_ms = RETRANSMIT_MS;

  for (;;)
    {
      StepResult r;

      if (need_read)
        {
          int got = receive_datagram (hs, timer_ms);

          if (got == -2)
            {
              g_autoptr (GSocketAddress) peer = g_socket_get_remote_address (hs->socket, NULL);
              g_autofree char *name = peer != NULL
                ? g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (peer)) : NULL;

              /* As a TCP reset would: GnuTLS and OpenSSL peers give up too. */
              g_printerr ("sspictl: nothing listens at %s (UDP: ICMP port unreachable)\n",
                          name ? name : "the peer's address");
              hs->stats->is_refused = TRUE;
              return SSPICTL_EXIT_NETWORK;
            }
          if (got < 0)
            return SSPICTL_EXIT_NETWORK;
          if (got > 0)
            heard = g_get_monotonic_time ();
          else
            {
              if (g_get_monotonic_time () - heard > SOCKET_TIMEOUT_SEC * G_USEC_PER_SEC)
                {
                  g_printerr ("sspictl: no datagram from the peer for %d s during the "
                              "handshake\n", SOCKET_TIMEOUT_SEC);
                  return SSPICTL_EXIT_NETWORK;
                }
              timer_ms = MIN (timer_ms * 2, RETRANSMIT_MAX_MS);
              /* A server that has no context yet has sent no flight (a
               * HelloVerifyRequest costs it nothing to forget): the
               * client resends its ClientHello. */
              if (!hs->has_context)
                continue;
              hs->stats->retransmits++;
            }
        }
      if (!run_step (hs, &r))
        return SSPICTL_EXIT_NETWORK;
      /* The rest of a flight larger than a datagram: one per call. */
      while (r.status == SEC_I_MESSAGE_FRAGMENT)
        {
          g_byte_array_set_size (hs->in, 0);
          if (!run_step (hs, &r))
            return SSPICTL_EXIT_NETWORK;
        }
      if (note_step (hs, &r, status))
        return SSPICTL_EXIT_OK;

      switch (r.status)
        {
        case SEC_I_INCOMPLETE_CREDENTIALS:
          say_no_client_certificate ();
          need_read = FALSE;   /* the same datagram again, as Windows callers do */
          break;

        case SEC_I_CONTINUE_NEEDED:
          need_read = !keep_extra_input (hs, &r);
          break;

        case SEC_E_INVALID_TOKEN:
          /* A server's first datagram that is no ClientHello (a late one of
           * an earlier association, or noise): sspid made no context for
           * it; wait for the ClientHello. */
          if (hs->opts->is_server && !hs->has_context)
            {
              need_read = TRUE;
              break;
            }
          return SSPICTL_EXIT_HANDSHAKE;

        default:
          return SSPICTL_EXIT_HANDSHAKE;
        }
    }
}

int
sspictl_tls_handshake (GSocket *socket, CredHandle *cred,
                       const SspictlTlsOptions *opts, CtxtHandle *ctx,
                       SECURITY_STATUS *status, SspictlTlsStats *stats,
                       GByteArray *leftover)
{
  Handshake hs = { 0 };
  int ret;

  *stats = (SspictlTlsStats) { 0 };
  g_socket_set_timeout (socket, SOCKET_TIMEOUT_SEC);
  SecInvalidateHandle (ctx);
  *status = SEC_E_INTERNAL_ERROR;

  hs.socket = socket;
  hs.cred = cred;
  hs.opts = opts;
  hs.ctx = ctx;
  hs.stats = stats;
  hs.leftover = leftover;
  hs.in = g_byte_array_new ();
  hs.alpn = build_alpn (opts->alpn);
  hs.ac = waiter_context_new (&hs.waiter);
  if (hs.ac == NULL)
    ret = SSPICTL_EXIT_HANDSHAKE;
  else
    ret = opts->is_datagram ? datagram_loop (&hs, status) : handshake_loop (&hs, status);

  if (hs.ac != NULL)
    SspiFreeAsyncContext (hs.ac);
  g_clear_pointer (&hs.alpn, g_bytes_unref);
  g_byte_array_unref (hs.in);
  return ret;
}
