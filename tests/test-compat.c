/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Windows programs' calling conventions through libsspi and the real
 * daemon, written the way those programs call the API:
 *
 *   - curl's Schannel backend (lib/vtls/schannel.c): the first
 *     InitializeSecurityContext and the shutdown call pass one
 *     SECBUFFER_EMPTY output buffer with ISC_REQ_ALLOCATE_MEMORY, which
 *     Windows fills and turns into SECBUFFER_TOKEN; later steps pass
 *     [TOKEN, ALERT, EMPTY]; after the handshake the returned attributes
 *     must equal the requested flags exactly.  With and without
 *     ISC_REQ_MANUAL_CRED_VALIDATION, and with the credential's
 *     SCH_CRED_MANUAL_CRED_VALIDATION (curl's --cacert and -k), sync and
 *     async, client and server.
 *   - protocol masks: only a credential's own direction's SP_PROT bits
 *     count (SCH_CREDENTIALS grbitDisabledProtocols, SCHANNEL_CRED
 *     grbitEnabledProtocols), against a peer with the default versions.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sspi.h"
#include "schannel.h"
#include "testutil.h"

/* curl's request flags (auto_client_cert off, its default). */
#define CURL_REQ (ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | \
                  ISC_REQ_CONFIDENTIALITY | ISC_REQ_ALLOCATE_MEMORY | \
                  ISC_REQ_STREAM | ISC_REQ_USE_SUPPLIED_CREDS)
#define SERVER_REQ (ASC_REQ_SEQUENCE_DETECT | ASC_REQ_REPLAY_DETECT | \
                    ASC_REQ_CONFIDENTIALITY | ASC_REQ_STREAM | \
                    ASC_REQ_ALLOCATE_MEMORY)

typedef struct {
  CredHandle  cred;
  CtxtHandle  ctx;
  gboolean    is_server;
  gboolean    has_context;
  ULONG       req;
  ULONG       attrs;          /* what the last step returned */
  GByteArray *inbox;          /* received, not consumed yet */
} Peer;

static void
acquire (const char *principal, ULONG use, void *auth, CredHandle *cred)
{
  SecInvalidateHandle (cred);
  ck_assert_int_eq (AcquireCredentialsHandleA ((SEC_CHAR *) principal, (SEC_CHAR *) UNISP_NAME_A,
                                               use, NULL, auth, NULL, NULL, cred, NULL),
                    SEC_E_OK);
}

static void
peer_init (Peer *p, gboolean is_server, const char *principal, void *auth, ULONG req)
{
  memset (p, 0, sizeof *p);
  p->is_server = is_server;
  p->req = req;
  p->inbox = g_byte_array_new ();
  SecInvalidateHandle (&p->ctx);
  acquire (principal, is_server ? SECPKG_CRED_INBOUND : SECPKG_CRED_OUTBOUND, auth, &p->cred);
}

static void
peer_clear (Peer *p)
{
  if (p->has_context)
    ck_assert_int_eq (DeleteSecurityContext (&p->ctx), SEC_E_OK);
  ck_assert_int_eq (FreeCredentialsHandle (&p->cred), SEC_E_OK);
  g_byte_array_unref (p->inbox);
}

/* A single SECBUFFER_EMPTY with nothing in it: what curl passes. */
static SecBuffer
empty_buffer (void)
{
  return (SecBuffer) { 0, SECBUFFER_EMPTY, NULL };
}

/* The output Windows hands back in a lone EMPTY buffer: a token it
 * allocated, typed SECBUFFER_TOKEN; appended to @wire and freed. */
static void
take_allocated_token (SecBuffer *out, GByteArray *wire)
{
  ck_assert_uint_eq (out->BufferType, SECBUFFER_TOKEN);
  ck_assert_ptr_nonnull (out->pvBuffer);
  ck_assert_uint_gt (out->cbBuffer, 0);
  g_byte_array_append (wire, out->pvBuffer, out->cbBuffer);
  ck_assert_int_eq (FreeContextBuffer (out->pvBuffer), SEC_E_OK);
}

/* curl's schannel_connect_step1: no input, one EMPTY output buffer. */
static void
client_first_step (Peer *c, GByteArray *to_server)
{
  SecBuffer out = empty_buffer ();
  SecBufferDesc out_desc = { SECBUFFER_VERSION, 1, &out };
  TimeStamp expiry;

  ck_assert_int_eq (InitializeSecurityContextA (&c->cred, NULL, (SEC_CHAR *) "localhost", c->req,
                                                0, 0, NULL, 0, &c->ctx, &out_desc, &c->attrs,
                                                &expiry),
                    SEC_I_CONTINUE_NEEDED);
  c->has_context = TRUE;
  take_allocated_token (&out, to_server);
  /* Windows reports the request's attributes from the first step on. */
  ck_assert_uint_eq (c->attrs, c->req);
}

/* Keeps what SECBUFFER_EXTRA says was not consumed. */
static void
keep_extra (GByteArray *inbox, const SecBuffer *second)
{
  if (second->BufferType == SECBUFFER_EXTRA && second->cbBuffer > 0)
    g_byte_array_remove_range (inbox, 0, inbox->len - second->cbBuffer);
  else
    g_byte_array_set_size (inbox, 0);
}

/* curl's schannel_connect_step2 (client), or a server in the same style
 * whose output is a lone EMPTY buffer (the ASC path of the same rule). */
static SECURITY_STATUS
handshake_step (Peer *p, GByteArray *outbox)
{
  g_autofree guint8 *copy = g_memdup2 (p->inbox->data, p->inbox->len);
  SecBuffer in[2] = { { p->inbox->len, SECBUFFER_TOKEN, copy }, empty_buffer () };
  SecBufferDesc in_desc = { SECBUFFER_VERSION, 2, in };
  SecBuffer out[3] = { { 0, SECBUFFER_TOKEN, NULL }, { 0, SECBUFFER_ALERT, NULL },
                       empty_buffer () };
  SecBufferDesc out_desc = { SECBUFFER_VERSION, 3, out };
  gboolean first = !p->has_context;
  TimeStamp expiry;
  SECURITY_STATUS status;

  if (p->is_server)
    {
      /* One EMPTY output buffer only, allocated by the package. */
      out[0] = empty_buffer ();
      out_desc.cBuffers = 1;
      status = AcceptSecurityContext (&p->cred, first ? NULL : &p->ctx, &in_desc, p->req,
                                      SECURITY_NATIVE_DREP, &p->ctx, &out_desc, &p->attrs,
                                      &expiry);
    }
  else
    status = InitializeSecurityContextA (&p->cred, &p->ctx, (SEC_CHAR *) "localhost", p->req,
                                         0, 0, &in_desc, 0, NULL, &out_desc, &p->attrs,
                                         &expiry);
  ck_assert_msg (status == SEC_E_OK || status == SEC_I_CONTINUE_NEEDED,
                 "%s step: 0x%08x", p->is_server ? "server" : "client", (unsigned) status);
  if (first)
    p->has_context = TRUE;
  /* As curl does: send every TOKEN with bytes, free whatever was given. */
  for (ULONG i = 0; i < out_desc.cBuffers; i++)
    {
      if (out[i].BufferType == SECBUFFER_TOKEN && out[i].cbBuffer > 0)
        g_byte_array_append (outbox, out[i].pvBuffer, out[i].cbBuffer);
      if (out[i].pvBuffer != NULL)
        ck_assert_int_eq (FreeContextBuffer (out[i].pvBuffer), SEC_E_OK);
    }
  keep_extra (p->inbox, &in[1]);
  /* On every successful step, not only the last (Windows). */
  ck_assert_msg (p->attrs == p->req, "%s attributes 0x%x, requested 0x%x",
                 p->is_server ? "server" : "client", (unsigned) p->attrs, (unsigned) p->req);
  return status;
}

/* Runs a whole handshake; asserts both sides end with SEC_E_OK. */
static void
handshake (Peer *c, Peer *s)
{
  gboolean c_done = FALSE, s_done = FALSE;

  client_first_step (c, s->inbox);
  for (int round = 0; round < 10 && !(c_done && s_done); round++)
    {
      if (!s_done && s->inbox->len > 0)
        s_done = handshake_step (s, c->inbox) == SEC_E_OK;
      if (!c_done && c->inbox->len > 0)
        c_done = handshake_step (c, s->inbox) == SEC_E_OK;
    }
  ck_assert_msg (c_done && s_done, "handshake did not finish");
}

static DWORD
negotiated_protocol (CtxtHandle *ctx)
{
  SecPkgContext_ConnectionInfo info;

  ck_assert_int_eq (QueryContextAttributesA (ctx, SECPKG_ATTR_CONNECTION_INFO, &info), SEC_E_OK);
  return info.dwProtocol;
}

/* ---- curl's call shapes ------------------------------------------------- */

/* _i: bit 0 ISC_REQ_MANUAL_CRED_VALIDATION requested; bit 1 the
 * credential's SCH_CRED_MANUAL_CRED_VALIDATION (curl's --cacert and -k);
 * bit 2 TLS 1.2 instead of 1.3.  The attributes equal the request in
 * every case: nothing the call did not ask for comes back. */
START_TEST (test_curl_handshake_attributes)
{
  SCHANNEL_CRED auth = { .dwVersion = SCHANNEL_CRED_VERSION };
  Peer c, s;

  auth.dwFlags = SCH_CRED_NO_DEFAULT_CREDS |
                 ((_i & 2) ? SCH_CRED_MANUAL_CRED_VALIDATION : 0);
  auth.grbitEnabledProtocols = (_i & 4) ? SP_PROT_TLS1_2_CLIENT : SP_PROT_TLS1_3_CLIENT;
  peer_init (&c, FALSE, NULL, &auth, CURL_REQ | ((_i & 1) ? ISC_REQ_MANUAL_CRED_VALIDATION : 0));
  peer_init (&s, TRUE, "server", NULL, SERVER_REQ);
  handshake (&c, &s);
  ck_assert_uint_eq (c.attrs, c.req);
  ck_assert_uint_eq (s.attrs, s.req);
  ck_assert_uint_eq (negotiated_protocol (&c.ctx),
                     (_i & 4) ? SP_PROT_TLS1_2_CLIENT : SP_PROT_TLS1_3_CLIENT);
  peer_clear (&c);
  peer_clear (&s);
}
END_TEST

/* Requests beyond curl's come back as their RET bits, and only those. */
START_TEST (test_extra_requests_echoed)
{
  Peer c, s;

  peer_init (&c, FALSE, NULL, NULL, (CURL_REQ & ~ISC_REQ_USE_SUPPLIED_CREDS) |
                                    ISC_REQ_EXTENDED_ERROR | ISC_REQ_CONNECTION);
  peer_init (&s, TRUE, "server", NULL, SERVER_REQ | ASC_REQ_EXTENDED_ERROR);
  handshake (&c, &s);
  ck_assert_uint_eq (c.attrs, ISC_RET_SEQUENCE_DETECT | ISC_RET_REPLAY_DETECT |
                              ISC_RET_CONFIDENTIALITY | ISC_RET_ALLOCATED_MEMORY |
                              ISC_RET_STREAM | ISC_RET_EXTENDED_ERROR | ISC_RET_CONNECTION);
  ck_assert_uint_eq (s.attrs, ASC_RET_SEQUENCE_DETECT | ASC_RET_REPLAY_DETECT |
                              ASC_RET_CONFIDENTIALITY | ASC_RET_ALLOCATED_MEMORY |
                              ASC_RET_STREAM | ASC_RET_EXTENDED_ERROR);
  peer_clear (&c);
  peer_clear (&s);
}
END_TEST

/* Opens what the server sent after its last handshake message (TLS 1.3
 * session tickets), so the client's record sequence is where the
 * server's is. */
static void
read_tickets (Peer *c)
{
  while (c->inbox->len > 0)
    {
      SecBuffer msg[4] = { { c->inbox->len, SECBUFFER_DATA, c->inbox->data },
                           empty_buffer (), empty_buffer (), empty_buffer () };
      SecBufferDesc msg_desc = { SECBUFFER_VERSION, 4, msg };

      ck_assert_int_eq (DecryptMessage (&c->ctx, &msg_desc, 0, NULL), SEC_E_OK);
      keep_extra (c->inbox, &msg[3]);
    }
}

/* ApplyControlToken(SCHANNEL_SHUTDOWN), then ISC/ASC with a lone EMPTY
 * output: SEC_E_OK and the close_notify record in a TOKEN buffer, which
 * the peer's DecryptMessage reads as SEC_I_CONTEXT_EXPIRED.  _i: 0 the
 * client shuts down (curl's schannel_shutdown), 1 the server. */
START_TEST (test_curl_shutdown)
{
  Peer c, s;
  Peer *closer, *other;
  DWORD shutdown_token = SCHANNEL_SHUTDOWN;
  SecBuffer control = { sizeof shutdown_token, SECBUFFER_TOKEN, &shutdown_token };
  SecBufferDesc control_desc = { SECBUFFER_VERSION, 1, &control };
  SecBuffer out = empty_buffer ();
  SecBufferDesc out_desc = { SECBUFFER_VERSION, 1, &out };
  g_autoptr(GByteArray) wire = g_byte_array_new ();
  SecBuffer msg[4];
  SecBufferDesc msg_desc = { SECBUFFER_VERSION, 4, msg };
  TimeStamp expiry;
  SECURITY_STATUS status;

  peer_init (&c, FALSE, NULL, NULL, CURL_REQ);
  peer_init (&s, TRUE, "server", NULL, SERVER_REQ);
  handshake (&c, &s);
  read_tickets (&c);
  closer = _i == 0 ? &c : &s;
  other = _i == 0 ? &s : &c;

  ck_assert_int_eq (ApplyControlToken (&closer->ctx, &control_desc), SEC_E_OK);
  if (closer->is_server)
    status = AcceptSecurityContext (&closer->cred, &closer->ctx, NULL, closer->req,
                                    SECURITY_NATIVE_DREP, &closer->ctx, &out_desc,
                                    &closer->attrs, &expiry);
  else
    status = InitializeSecurityContextA (&closer->cred, &closer->ctx, (SEC_CHAR *) "localhost",
                                         closer->req, 0, 0, NULL, 0, &closer->ctx, &out_desc,
                                         &closer->attrs, &expiry);
  ck_assert_int_eq (status, SEC_E_OK);
  take_allocated_token (&out, wire);
  /* An alert record (under TLS 1.3 keys its outer type is 23): the
   * peer's DecryptMessage below says which. */
  ck_assert (wire->data[0] == 21 || wire->data[0] == 23);
  ck_assert_uint_eq (closer->attrs, closer->req);

  msg[0] = (SecBuffer) { wire->len, SECBUFFER_DATA, wire->data };
  msg[1] = msg[2] = msg[3] = empty_buffer ();
  ck_assert_int_eq (DecryptMessage (&other->ctx, &msg_desc, 0, NULL), SEC_I_CONTEXT_EXPIRED);
  peer_clear (&c);
  peer_clear (&s);
}
END_TEST

/* ---- the same through the async API ------------------------------------- */

static void
on_done (SspiAsyncContext *async, void *data)
{
  tu_flag_raise (data);
}

static SECURITY_STATUS
wait_done (TuFlag *done, SspiAsyncContext *async)
{
  ck_assert_msg (tu_flag_wait (done, 30000), "no completion");
  return SspiGetAsyncCallStatus (async);
}

/* SspiInitializeSecurityContextAsync and SspiAcceptSecurityContextAsync
 * with a lone EMPTY output buffer: the token comes back allocated and
 * typed TOKEN, and the attributes equal the request. */
START_TEST (test_async_empty_output)
{
  SspiAsyncContext *async = SspiCreateAsyncContext ();
  TuFlag d = { 0 };
  Peer c, s;
  SecBuffer out = empty_buffer ();
  SecBufferDesc out_desc = { SECBUFFER_VERSION, 1, &out };
  SecBuffer in[2];
  SecBufferDesc in_desc = { SECBUFFER_VERSION, 2, in };
  TimeStamp expiry;

  g_mutex_init (&d.lock);
  g_cond_init (&d.cond);
  ck_assert_int_eq (SspiSetAsyncNotifyCallback (async, on_done, &d), SEC_E_OK);
  peer_init (&c, FALSE, NULL, NULL, CURL_REQ | ISC_REQ_MANUAL_CRED_VALIDATION);
  peer_init (&s, TRUE, "server", NULL, SERVER_REQ);

  ck_assert_int_eq (SspiInitializeSecurityContextAsyncA (async, &c.cred, NULL,
                                                         (SEC_CHAR *) "localhost", c.req, 0, 0,
                                                         NULL, 0, &c.ctx, &out_desc, &c.attrs,
                                                         &expiry),
                    SEC_E_OK);
  ck_assert_int_eq (wait_done (&d, async), SEC_I_CONTINUE_NEEDED);
  c.has_context = TRUE;
  take_allocated_token (&out, s.inbox);
  ck_assert_uint_eq (c.attrs, c.req);

  ck_assert_int_eq (SspiReinitAsyncContext (async), 0);
  in[0] = (SecBuffer) { s.inbox->len, SECBUFFER_TOKEN, s.inbox->data };
  in[1] = empty_buffer ();
  out = empty_buffer ();
  ck_assert_int_eq (SspiAcceptSecurityContextAsync (async, &s.cred, NULL, &in_desc, s.req,
                                                    SECURITY_NATIVE_DREP, &s.ctx, &out_desc,
                                                    &s.attrs, &expiry),
                    SEC_E_OK);
  ck_assert_int_eq (wait_done (&d, async), SEC_I_CONTINUE_NEEDED);
  s.has_context = TRUE;
  take_allocated_token (&out, c.inbox);
  ck_assert_uint_eq (s.attrs, s.req);

  SspiFreeAsyncContext (async);
  g_mutex_clear (&d.lock);
  g_cond_clear (&d.cond);
  peer_clear (&c);
  peer_clear (&s);
}
END_TEST

/* Without ALLOCATE_MEMORY a lone EMPTY buffer has nowhere to put the
 * token: still SEC_E_INVALID_TOKEN, before anything is sent. */
START_TEST (test_empty_output_needs_allocate)
{
  CredHandle cred;
  CtxtHandle ctx;
  SecBuffer out = empty_buffer ();
  SecBufferDesc out_desc = { SECBUFFER_VERSION, 1, &out };
  ULONG attrs = 0;

  acquire (NULL, SECPKG_CRED_OUTBOUND, NULL, &cred);
  ck_assert_int_eq (InitializeSecurityContextA (&cred, NULL, (SEC_CHAR *) "localhost",
                                                CURL_REQ & ~ISC_REQ_ALLOCATE_MEMORY, 0, 0, NULL,
                                                0, &ctx, &out_desc, &attrs, NULL),
                    SEC_E_INVALID_TOKEN);
  ck_assert_uint_eq (out.BufferType, SECBUFFER_EMPTY);
  ck_assert_ptr_null (out.pvBuffer);
  FreeCredentialsHandle (&cred);
}
END_TEST

/* ---- protocol masks: each direction's own bits -------------------------- */

/* SCH_CREDENTIALS with TLS_PARAMETERS.grbitDisabledProtocols = @disabled. */
typedef struct {
  SCH_CREDENTIALS cred;
  TLS_PARAMETERS  params;
} SchCredentials;

static void *
sch_credentials (SchCredentials *c, DWORD disabled)
{
  memset (c, 0, sizeof *c);
  c->params.grbitDisabledProtocols = disabled;
  c->cred.dwVersion = SCH_CREDENTIALS_VERSION;
  c->cred.cTlsParameters = 1;
  c->cred.pTlsParameters = &c->params;
  return &c->cred;
}

static void *
schannel_cred (SCHANNEL_CRED *c, DWORD enabled)
{
  memset (c, 0, sizeof *c);
  c->dwVersion = SCHANNEL_CRED_VERSION;
  c->grbitEnabledProtocols = enabled;
  return c;
}

/* One side restricted, the other with the defaults (TLS 1.2 and 1.3).
 * _i: 0 client SCH_CREDENTIALS disables SP_PROT_TLS1_3_CLIENT (the server
 * bit stays in the mask libsspi builds); 1 server SCH_CREDENTIALS disables
 * SP_PROT_TLS1_3_SERVER; 2 client SCHANNEL_CRED enables TLS1_2_CLIENT and
 * TLS1_3_SERVER; 3 server SCHANNEL_CRED enables TLS1_2_SERVER and
 * TLS1_3_CLIENT.  The other direction's 1.3 bit must not enable 1.3:
 * TLS 1.2 is negotiated.  4 and 5: control, the client disables
 * SP_PROT_TLS1_2_CLIENT (SCH_CREDENTIALS) or the server enables both
 * server bits (SCHANNEL_CRED): TLS 1.3. */
START_TEST (test_direction_bits)
{
  SchCredentials sch;
  SCHANNEL_CRED sc;
  void *client_auth = NULL, *server_auth = NULL;
  gboolean want13 = _i >= 4;
  Peer c, s;

  switch (_i)
    {
    case 0: client_auth = sch_credentials (&sch, SP_PROT_TLS1_3_CLIENT); break;
    case 1: server_auth = sch_credentials (&sch, SP_PROT_TLS1_3_SERVER); break;
    case 2: client_auth = schannel_cred (&sc, SP_PROT_TLS1_2_CLIENT | SP_PROT_TLS1_3_SERVER); break;
    case 3: server_auth = schannel_cred (&sc, SP_PROT_TLS1_2_SERVER | SP_PROT_TLS1_3_CLIENT); break;
    case 4: client_auth = sch_credentials (&sch, SP_PROT_TLS1_2_CLIENT); break;
    default: server_auth = schannel_cred (&sc, SP_PROT_TLS1_2_SERVER | SP_PROT_TLS1_3_SERVER); break;
    }
  peer_init (&c, FALSE, NULL, client_auth, CURL_REQ);
  peer_init (&s, TRUE, "server", server_auth, SERVER_REQ);
  handshake (&c, &s);
  ck_assert_uint_eq (negotiated_protocol (&c.ctx), (want13 ? SP_PROT_TLS1_3_CLIENT : SP_PROT_TLS1_2_CLIENT));
  ck_assert_uint_eq (negotiated_protocol (&s.ctx), (want13 ? SP_PROT_TLS1_3_SERVER : SP_PROT_TLS1_2_SERVER));
  peer_clear (&c);
  peer_clear (&s);
}
END_TEST

static DWORD
supported_protocols (CredHandle *cred)
{
  SecPkgCred_SupportedProtocols sp = { 0 };

  ck_assert_int_eq (QueryCredentialsAttributesA (cred, SECPKG_ATTR_SUPPORTED_PROTOCOLS, &sp),
                    SEC_E_OK);
  return sp.grbitProtocol;
}

/* What a credential says it supports counts its own direction only, and a
 * mask with nothing left for the direction is refused at acquire. */
START_TEST (test_direction_bits_acquire)
{
  SchCredentials sch;
  SCHANNEL_CRED sc;
  CredHandle cred;

  acquire (NULL, SECPKG_CRED_OUTBOUND, sch_credentials (&sch, SP_PROT_TLS1_3_CLIENT), &cred);
  ck_assert_uint_eq (supported_protocols (&cred), SP_PROT_TLS1_2_CLIENT);
  FreeCredentialsHandle (&cred);
  acquire ("server", SECPKG_CRED_INBOUND, sch_credentials (&sch, SP_PROT_TLS1_3_SERVER), &cred);
  ck_assert_uint_eq (supported_protocols (&cred), SP_PROT_TLS1_2_SERVER);
  FreeCredentialsHandle (&cred);
  acquire (NULL, SECPKG_CRED_OUTBOUND,
           schannel_cred (&sc, SP_PROT_TLS1_2_CLIENT | SP_PROT_TLS1_3_SERVER), &cred);
  ck_assert_uint_eq (supported_protocols (&cred), SP_PROT_TLS1_2_CLIENT);
  FreeCredentialsHandle (&cred);

  /* Nothing left for the client: its versions are all disabled, or only
   * server bits are enabled. */
  ck_assert_int_eq (AcquireCredentialsHandleA (NULL, (SEC_CHAR *) UNISP_NAME_A,
                                               SECPKG_CRED_OUTBOUND, NULL,
                                               sch_credentials (&sch, SP_PROT_TLS1_2_CLIENT |
                                                                      SP_PROT_TLS1_3_CLIENT),
                                               NULL, NULL, &cred, NULL),
                    SEC_E_ALGORITHM_MISMATCH);
  ck_assert_int_eq (AcquireCredentialsHandleA (NULL, (SEC_CHAR *) UNISP_NAME_A,
                                               SECPKG_CRED_OUTBOUND, NULL,
                                               schannel_cred (&sc, SP_PROT_TLS1_2_SERVER |
                                                                   SP_PROT_TLS1_3_SERVER),
                                               NULL, NULL, &cred, NULL),
                    SEC_E_ALGORITHM_MISMATCH);
  ck_assert_int_eq (AcquireCredentialsHandleA ((SEC_CHAR *) "server", (SEC_CHAR *) UNISP_NAME_A,
                                               SECPKG_CRED_INBOUND, NULL,
                                               schannel_cred (&sc, SP_PROT_TLS1_2_CLIENT),
                                               NULL, NULL, &cred, NULL),
                    SEC_E_ALGORITHM_MISMATCH);
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "curl", tu_fixture_setup, tu_fixture_teardown, 60, { { test_curl_handshake_attributes, 8 },
                                                           { test_extra_requests_echoed },
                                                           { test_curl_shutdown, 2 },
                                                           { test_async_empty_output },
                                                           { test_empty_output_needs_allocate } } },
    { "protocols", tu_fixture_setup, tu_fixture_teardown, 60, { { test_direction_bits, 6 },
                                                                { test_direction_bits_acquire } } },
  };

  return tu_run_cases ("compat", cases, G_N_ELEMENTS (cases));
}
