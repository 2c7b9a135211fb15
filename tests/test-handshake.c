/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Handshakes through one real sspid on a private bus, client and server in
 * this process, driven only through libsspi's asynchronous API
 * (tests/tls-pair.c): TLS 1.2 and 1.3, ALPN, client certificates, small
 * reads, the certificate errors Schannel reports, the token-level rules of
 * the Schannel loop (EXTRA, MISSING, garbage, output buffers, context
 * handles), and a thousand handshakes in flight at once.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "testutil.h"
#include "tls-pair.h"

#define STREAM_ATTRS_ISC (ISC_RET_REPLAY_DETECT | ISC_RET_SEQUENCE_DETECT | \
                          ISC_RET_CONFIDENTIALITY | ISC_RET_STREAM)
#define STREAM_ATTRS_ASC (ASC_RET_REPLAY_DETECT | ASC_RET_SEQUENCE_DETECT | \
                          ASC_RET_CONFIDENTIALITY | ASC_RET_STREAM)

static void
assert_peer_cert (const TlsPairSide *side, const char *file)
{
  g_autoptr (GBytes) expected = tu_pki_cert_der (file);

  ck_assert_msg (side->peer_cert != NULL, "no peer certificate (expected %s)", file);
  ck_assert_msg (g_bytes_equal (side->peer_cert, expected),
                 "peer certificate is not %s", file);
}

/* What every side of every handshake must satisfy, whatever its outcome. */
static void
assert_side_sane (const TlsPairSide *s, const char *who)
{
  ck_assert_msg (s->callbacks == s->calls && s->stray_callbacks == 0,
                 "%s: %u calls queued but %u callbacks (%u stray)", who,
                 s->calls, s->callbacks, s->stray_callbacks);
  ck_assert_msg (!s->context_changed, "%s: *phNewContext changed on a continue", who);
  ck_assert_msg (!s->allocation_wrong,
                 "%s: allocated token without *_RET_ALLOCATED_MEMORY, or FreeContextBuffer failed",
                 who);
}

/* Runs a pair that must succeed and checks what any success must have. */
static TlsPair *
run_ok (const TlsPairOptions *opts)
{
  TlsPair *pair = tls_pair_run (opts);
  const TlsPairResult *r = tls_pair_peek_result (pair);

  ck_assert_msg (r->client.status == SEC_E_OK && r->server.status == SEC_E_OK,
                 "handshake failed: client 0x%08x%s, server 0x%08x%s",
                 (guint32) r->client.status, r->client.is_stalled ? " (stalled)" : "",
                 (guint32) r->server.status, r->server.is_stalled ? " (stalled)" : "");
  assert_side_sane (&r->client, "client");
  assert_side_sane (&r->server, "server");
  ck_assert_uint_eq (r->client.attributes & STREAM_ATTRS_ISC, STREAM_ATTRS_ISC);
  ck_assert_uint_eq (r->server.attributes & STREAM_ATTRS_ASC, STREAM_ATTRS_ASC);
  assert_peer_cert (&r->client, opts->server_credential &&
                                g_str_equal (opts->server_credential, "untrusted")
                                ? "untrusted.pem" : "server.pem");
  return pair;
}

static const guint32 protocols[][2] = {
  { SP_PROT_TLS1_2_CLIENT, SP_PROT_TLS1_2_SERVER },
  { SP_PROT_TLS1_3_CLIENT, SP_PROT_TLS1_3_SERVER },
};

/* ---- successful handshakes ---------------------------------------------- */

START_TEST (test_protocol)
{
  TlsPairOptions opts = {
    .client_protocols = protocols[_i][0],
    .server_protocols = protocols[_i][1],
  };
  g_autoptr (TlsPair) pair = run_ok (&opts);
  const TlsPairResult *r = tls_pair_peek_result (pair);

  ck_assert_uint_eq (r->client.protocol, protocols[_i][0]);
  ck_assert_uint_eq (r->server.protocol, protocols[_i][1]);
  ck_assert_ptr_null (r->client.alpn);
  ck_assert_ptr_null (r->server.alpn);
  ck_assert_ptr_null (r->server.peer_cert);   /* nobody asked the client */
  ck_assert_uint_eq (r->client.attributes & ISC_RET_ALLOCATED_MEMORY, ISC_RET_ALLOCATED_MEMORY);
  ck_assert_uint_eq (r->server.attributes & ASC_RET_ALLOCATED_MEMORY, ASC_RET_ALLOCATED_MEMORY);
}
END_TEST

START_TEST (test_default_protocol_is_tls13)
{
  TlsPairOptions opts = { 0 };
  g_autoptr (TlsPair) pair = run_ok (&opts);

  ck_assert_uint_eq (tls_pair_peek_result (pair)->client.protocol, SP_PROT_TLS1_3_CLIENT);
}
END_TEST

START_TEST (test_alpn)
{
  const char *const offer[] = { "h2", "http/1.1", NULL };
  const char *const accept[] = { "http/1.1", "h2", NULL };
  TlsPairOptions opts = {
    .client_protocols = protocols[_i][0],
    .server_protocols = protocols[_i][1],
    .client_alpn = offer,
    .server_alpn = accept,
  };
  g_autoptr (TlsPair) pair = run_ok (&opts);
  const TlsPairResult *r = tls_pair_peek_result (pair);

  /* The server's preference wins. */
  ck_assert_str_eq (r->client.alpn, "http/1.1");
  ck_assert_str_eq (r->server.alpn, "http/1.1");
}
END_TEST

START_TEST (test_alpn_client_only)
{
  const char *const offer[] = { "h2", NULL };
  TlsPairOptions opts = { .client_alpn = offer };
  g_autoptr (TlsPair) pair = run_ok (&opts);
  const TlsPairResult *r = tls_pair_peek_result (pair);

  ck_assert_ptr_null (r->client.alpn);
  ck_assert_ptr_null (r->server.alpn);
}
END_TEST

START_TEST (test_client_certificate)
{
  TlsPairOptions opts = {
    .client_protocols = protocols[_i][0],
    .server_protocols = protocols[_i][1],
    .server_credential = "mtls",
    .client_credential = "client",
  };
  g_autoptr (TlsPair) pair = run_ok (&opts);
  const TlsPairResult *r = tls_pair_peek_result (pair);

  assert_peer_cert (&r->server, "client.pem");
  ck_assert (!r->client.saw_incomplete_credentials);
}
END_TEST

START_TEST (test_client_certificate_on_request)
{
  /* A plain server credential asks for a certificate only with ASC_REQ_MUTUAL_AUTH. */
  TlsPairOptions opts = {
    .server_credential = "server",
    .client_credential = "client",
    .server_req = ASC_REQ_MUTUAL_AUTH,
  };
  g_autoptr (TlsPair) pair = run_ok (&opts);

  assert_peer_cert (&tls_pair_peek_result (pair)->server, "client.pem");
}
END_TEST

START_TEST (test_client_certificate_not_sent_unasked)
{
  TlsPairOptions opts = { .client_credential = "client" };
  g_autoptr (TlsPair) pair = run_ok (&opts);

  ck_assert_ptr_null (tls_pair_peek_result (pair)->server.peer_cert);
}
END_TEST

/* Small reads: every record arrives in pieces. */
static const gsize chunks[] = { 1, 7, 100, 333 };

START_TEST (test_small_chunks)
{
  for (gsize p = 0; p < G_N_ELEMENTS (protocols); p++)
    {
      TlsPairOptions opts = {
        .client_protocols = protocols[p][0],
        .server_protocols = protocols[p][1],
        .chunk = chunks[_i],
      };
      g_autoptr (TlsPair) pair = run_ok (&opts);
      const TlsPairResult *r = tls_pair_peek_result (pair);

      printf ("chunk %zu, %s: client %u calls (%u missing, %u extra), "
              "server %u calls (%u missing, %u extra)\n",
              chunks[_i], p ? "TLS 1.3" : "TLS 1.2",
              r->client.calls, r->client.missing_seen, r->client.extra_seen,
              r->server.calls, r->server.missing_seen, r->server.extra_seen);
      ck_assert_uint_gt (r->client.missing_seen, 0);
      /* A whole ClientHello or client Finished may fit in a bigger piece. */
      if (chunks[_i] <= 100)
        ck_assert_uint_gt (r->server.missing_seen, 0);
      /* Pieces that end inside the next record leave it as EXTRA. */
      if (chunks[_i] > 1 && chunks[_i] <= 100)
        ck_assert_uint_gt (r->client.extra_seen, 0);
      ck_assert_uint_eq (r->client.protocol, protocols[p][0]);
    }
}
END_TEST

START_TEST (test_caller_output_buffers)
{
  /* Without ALLOCATE_MEMORY the tokens go into the caller's buffers. */
  TlsPairOptions opts = { .output_size = 32768, .client_credential = "client",
                          .server_credential = "mtls" };
  g_autoptr (TlsPair) pair = tls_pair_run (&opts);
  const TlsPairResult *r = tls_pair_peek_result (pair);

  ck_assert_int_eq (r->client.status, SEC_E_OK);
  ck_assert_int_eq (r->server.status, SEC_E_OK);
  ck_assert_uint_eq (r->client.attributes & ISC_RET_ALLOCATED_MEMORY, 0);
  ck_assert_uint_eq (r->server.attributes & ASC_RET_ALLOCATED_MEMORY, 0);
  assert_side_sane (&r->client, "client");
  assert_side_sane (&r->server, "server");
}
END_TEST

/* ---- certificate errors ------------------------------------------------- */

static const struct {
  const char     *credential;
  SECURITY_STATUS expected;
} cert_errors[] = {
  { "untrusted", SEC_E_UNTRUSTED_ROOT },
  { "wrongname", SEC_E_WRONG_PRINCIPAL },
  { "expired",   SEC_E_CERT_EXPIRED },
};

START_TEST (test_certificate_error)
{
  /* Each error with each protocol. */
  guint e = _i / 2;
  TlsPairOptions opts = {
    .server_credential = cert_errors[e].credential,
    .target = "localhost",
    .client_protocols = protocols[_i % 2][0],
  };
  g_autoptr (TlsPair) pair = tls_pair_run (&opts);
  const TlsPairResult *r = tls_pair_peek_result (pair);

  ck_assert_msg (r->client.status == cert_errors[e].expected,
                 "%s: client got 0x%08x, expected 0x%08x", cert_errors[e].credential,
                 (guint32) r->client.status, (guint32) cert_errors[e].expected);
  ck_assert (!r->client.is_queue_failure);
  ck_assert_int_ne (r->server.status, SEC_E_OK);
  assert_side_sane (&r->client, "client");
  assert_side_sane (&r->server, "server");
}
END_TEST

START_TEST (test_manual_validation)
{
  TlsPairOptions opts = {
    .server_credential = "untrusted",
    .client_req = ISC_REQ_MANUAL_CRED_VALIDATION,
  };
  g_autoptr (TlsPair) pair = run_ok (&opts);

  /* The caller can now check the certificate itself. */
  assert_peer_cert (&tls_pair_peek_result (pair)->client, "untrusted.pem");
}
END_TEST

START_TEST (test_client_certificate_missing)
{
  TlsPairOptions opts = {
    .client_protocols = protocols[_i][0],
    .server_credential = "mtls",
  };
  g_autoptr (TlsPair) pair = tls_pair_run (&opts);
  const TlsPairResult *r = tls_pair_peek_result (pair);

  ck_assert_msg (r->client.status == SEC_I_INCOMPLETE_CREDENTIALS,
                 "client got 0x%08x", (guint32) r->client.status);
  assert_side_sane (&r->client, "client");
}
END_TEST

START_TEST (test_client_continues_anonymously)
{
  TlsPairOptions opts = {
    .client_protocols = protocols[_i][0],
    .server_credential = "mtls",
    .continue_anonymously = TRUE,
  };
  g_autoptr (TlsPair) pair = tls_pair_run (&opts);
  const TlsPairResult *r = tls_pair_peek_result (pair);

  ck_assert (r->client.saw_incomplete_credentials);
  /* The server requires a certificate: it refuses the handshake itself. */
  ck_assert_msg (!SEC_SUCCESS (r->server.status) && !r->server.is_stalled,
                 "server got 0x%08x%s", (guint32) r->server.status,
                 r->server.is_stalled ? " (stalled)" : "");
  ck_assert_int_ne (r->client.status, SEC_I_INCOMPLETE_CREDENTIALS);
  assert_side_sane (&r->client, "client");
  assert_side_sane (&r->server, "server");
}
END_TEST

/* ---- the token rules, step by step -------------------------------------- */

typedef struct {
  CredHandle client_cred;
  CredHandle server_cred;
  CtxtHandle client;
  CtxtHandle server;
} Manual;

static void
manual_start (Manual *m, guint32 client_protocols)
{
  ck_assert_int_eq (tp_acquire (NULL, SECPKG_CRED_OUTBOUND, client_protocols, 0,
                                &m->client_cred), SEC_E_OK);
  ck_assert_int_eq (tp_acquire ("server", SECPKG_CRED_INBOUND, 0, 0, &m->server_cred),
                    SEC_E_OK);
  SecInvalidateHandle (&m->client);
  SecInvalidateHandle (&m->server);
}

static void
manual_finish (Manual *m)
{
  if (SecIsValidHandle (&m->client))
    tp_delete_context (&m->client);
  if (SecIsValidHandle (&m->server))
    tp_delete_context (&m->server);
  ck_assert_int_eq (tp_free_credential (&m->client_cred), SEC_E_OK);
  ck_assert_int_eq (tp_free_credential (&m->server_cred), SEC_E_OK);
}

/* One client step on @in_data (NULL: the first call).  Returns the status;
 * *out gets the token (caller frees), in_bufs[1] is left in @second. */
static SECURITY_STATUS
client_step (Manual *m, const guint8 *in_data, gsize in_len, GBytes **out, SecBuffer *second)
{
  static const guint8 empty[1];
  SecBuffer in_bufs[2] = {
    { (ULONG) in_len, SECBUFFER_TOKEN, (void *) (in_data ? in_data : empty) },
    { 0, SECBUFFER_EMPTY, NULL },
  };
  SecBufferDesc in = { SECBUFFER_VERSION, 2, in_bufs };
  SecBuffer out_buf = { 0, SECBUFFER_TOKEN, NULL };
  SecBufferDesc out_desc = { SECBUFFER_VERSION, 1, &out_buf };
  gboolean is_first = !SecIsValidHandle (&m->client);
  CtxtHandle new_ctx;
  ULONG attrs = 0;
  SECURITY_STATUS status;

  SecInvalidateHandle (&new_ctx);
  status = tp_isc (&m->client_cred, is_first ? NULL : &m->client, "localhost",
                   TP_CLIENT_REQ | ISC_REQ_ALLOCATE_MEMORY, is_first ? NULL : &in,
                   &new_ctx, &out_desc, &attrs, NULL);
  if (is_first && status == SEC_I_CONTINUE_NEEDED)
    m->client = new_ctx;
  else if (!is_first && (status == SEC_I_CONTINUE_NEEDED || status == SEC_E_OK))
    ck_assert_msg (new_ctx.dwLower == m->client.dwLower && new_ctx.dwUpper == m->client.dwUpper,
                   "*phNewContext differs from the context passed in");
  *out = g_bytes_new (out_buf.pvBuffer, out_buf.cbBuffer);
  if (out_buf.pvBuffer != NULL)
    ck_assert_int_eq (FreeContextBuffer (out_buf.pvBuffer), SEC_E_OK);
  if (second != NULL)
    *second = in_bufs[1];
  return status;
}

/* The server's answer to @client_hello. */
static GBytes *
server_first_flight (Manual *m, GBytes *client_hello)
{
  SecBuffer in_bufs[2] = {
    { (ULONG) g_bytes_get_size (client_hello), SECBUFFER_TOKEN,
      (void *) g_bytes_get_data (client_hello, NULL) },
    { 0, SECBUFFER_EMPTY, NULL },
  };
  SecBufferDesc in = { SECBUFFER_VERSION, 2, in_bufs };
  SecBuffer out_buf = { 0, SECBUFFER_TOKEN, NULL };
  SecBufferDesc out_desc = { SECBUFFER_VERSION, 1, &out_buf };
  ULONG attrs = 0;
  GBytes *flight;

  ck_assert_int_eq (tp_asc (&m->server_cred, NULL, &in,
                            TP_SERVER_REQ | ASC_REQ_ALLOCATE_MEMORY, &m->server,
                            &out_desc, &attrs, NULL), SEC_I_CONTINUE_NEEDED);
  ck_assert_uint_gt (out_buf.cbBuffer, 5);
  flight = g_bytes_new (out_buf.pvBuffer, out_buf.cbBuffer);
  ck_assert_int_eq (FreeContextBuffer (out_buf.pvBuffer), SEC_E_OK);
  return flight;
}

START_TEST (test_allocate_memory)
{
  Manual m;
  g_autoptr (GBytes) hello = NULL;

  manual_start (&m, 0);
  ck_assert_int_eq (client_step (&m, NULL, 0, &hello, NULL), SEC_I_CONTINUE_NEEDED);
  ck_assert_uint_gt (g_bytes_get_size (hello), 5);
  ck_assert_uint_eq (((const guint8 *) g_bytes_get_data (hello, NULL))[0], 22); /* handshake */
  manual_finish (&m);
}
END_TEST

START_TEST (test_zero_output_without_allocate)
{
  Manual m;
  SecBuffer out_buf = { 0, SECBUFFER_TOKEN, NULL };
  SecBufferDesc out_desc = { SECBUFFER_VERSION, 1, &out_buf };
  CtxtHandle new_ctx;
  ULONG attrs = 0;
  SECURITY_STATUS status;

  manual_start (&m, 0);
  SecInvalidateHandle (&new_ctx);
  status = tp_isc (&m.client_cred, NULL, "localhost", TP_CLIENT_REQ, NULL, &new_ctx,
                   &out_desc, &attrs, NULL);
  ck_assert_msg (status == SEC_E_INSUFFICIENT_MEMORY, "got 0x%08x", (guint32) status);
  ck_assert_uint_eq (out_buf.cbBuffer, 0);
  manual_finish (&m);
}
END_TEST

/* Bytes that are no TLS a client expects: an unknown record type, and a
 * complete ServerHello message whose 4-byte body cannot be one. */
static const guint8 garbage_bad_type[] = { 0x99, 0x03, 0x03, 0x00, 0x04, 'a', 'b', 'c', 'd' };
static const guint8 garbage_bad_message[] = { 0x16, 0x03, 0x03, 0x00, 0x08,
                                              0x02, 0x00, 0x00, 0x04, 0xff, 0xff, 0xff, 0xff };

START_TEST (test_garbage_server_token)
{
  const guint8 *garbage = _i ? garbage_bad_message : garbage_bad_type;
  gsize len = _i ? sizeof garbage_bad_message : sizeof garbage_bad_type;
  g_autoptr (GBytes) hello = NULL;
  g_autoptr (GBytes) out = NULL;
  SECURITY_STATUS status;
  Manual m;

  manual_start (&m, 0);
  ck_assert_int_eq (client_step (&m, NULL, 0, &hello, NULL), SEC_I_CONTINUE_NEEDED);
  status = client_step (&m, garbage, len, &out, NULL);
  ck_assert_msg (status == SEC_E_INVALID_TOKEN || status == SEC_E_ILLEGAL_MESSAGE,
                 "garbage gave 0x%08x", (guint32) status);
  ck_assert_uint_eq (g_bytes_get_size (out), 0);
  manual_finish (&m);
}
END_TEST

START_TEST (test_truncated_record)
{
  g_autoptr (GBytes) hello = NULL;
  g_autoptr (GBytes) flight = NULL;
  g_autoptr (GBytes) out = NULL;
  const guint8 *f;
  gsize record_len;
  SecBuffer second;
  Manual m;

  manual_start (&m, SP_PROT_TLS1_3_CLIENT);
  ck_assert_int_eq (client_step (&m, NULL, 0, &hello, NULL), SEC_I_CONTINUE_NEEDED);
  flight = server_first_flight (&m, hello);
  f = g_bytes_get_data (flight, NULL);
  record_len = (f[3] << 8) | f[4];

  /* Nothing yet: a record header is 5 bytes. */
  ck_assert_int_eq (client_step (&m, f, 0, &out, &second), SEC_E_INCOMPLETE_MESSAGE);
  ck_assert_uint_eq (second.BufferType, SECBUFFER_MISSING);
  ck_assert_uint_eq (second.cbBuffer, 5);
  ck_assert_uint_eq (g_bytes_get_size (out), 0);
  g_clear_pointer (&out, g_bytes_unref);

  /* Part of the header: the rest of it. */
  ck_assert_int_eq (client_step (&m, f, 3, &out, &second), SEC_E_INCOMPLETE_MESSAGE);
  ck_assert_uint_eq (second.BufferType, SECBUFFER_MISSING);
  ck_assert_uint_eq (second.cbBuffer, 2);
  g_clear_pointer (&out, g_bytes_unref);

  /* Header and part of the body: the rest of the record. */
  ck_assert_int_eq (client_step (&m, f, 15, &out, &second), SEC_E_INCOMPLETE_MESSAGE);
  ck_assert_uint_eq (second.BufferType, SECBUFFER_MISSING);
  ck_assert_uint_eq (second.cbBuffer, record_len + 5 - 15);
  g_clear_pointer (&out, g_bytes_unref);

  /* Nothing was consumed: the whole flight still completes the client. */
  ck_assert_int_eq (client_step (&m, f, g_bytes_get_size (flight), &out, &second), SEC_E_OK);
  ck_assert_uint_gt (g_bytes_get_size (out), 0);   /* the client's Finished */
  manual_finish (&m);
}
END_TEST

START_TEST (test_extra_after_handshake)
{
  /* Bytes after the server's last handshake record (the first application
   * record, as over TCP) come back as SECBUFFER_EXTRA with SEC_E_OK. */
  static const guint8 app_record[] = { 0x17, 0x03, 0x03, 0x00, 0x03, 1, 2, 3 };
  g_autoptr (GBytes) hello = NULL;
  g_autoptr (GBytes) flight = NULL;
  g_autoptr (GBytes) finished = NULL;
  g_autoptr (GByteArray) with_extra = g_byte_array_new ();
  SecBuffer in_bufs[2];
  SecBufferDesc in = { SECBUFFER_VERSION, 2, in_bufs };
  SecBuffer out_buf = { 0, SECBUFFER_TOKEN, NULL };
  SecBufferDesc out_desc = { SECBUFFER_VERSION, 1, &out_buf };
  CtxtHandle new_ctx;
  ULONG attrs = 0;
  Manual m;

  manual_start (&m, SP_PROT_TLS1_3_CLIENT);
  ck_assert_int_eq (client_step (&m, NULL, 0, &hello, NULL), SEC_I_CONTINUE_NEEDED);
  flight = server_first_flight (&m, hello);
  ck_assert_int_eq (client_step (&m, g_bytes_get_data (flight, NULL),
                                 g_bytes_get_size (flight), &finished, NULL), SEC_E_OK);

  g_byte_array_append (with_extra, g_bytes_get_data (finished, NULL), g_bytes_get_size (finished));
  g_byte_array_append (with_extra, app_record, sizeof app_record);
  in_bufs[0] = (SecBuffer) { with_extra->len, SECBUFFER_TOKEN, with_extra->data };
  in_bufs[1] = (SecBuffer) { 0, SECBUFFER_EMPTY, NULL };
  new_ctx = m.server;
  ck_assert_int_eq (tp_asc (&m.server_cred, &m.server, &in,
                            TP_SERVER_REQ | ASC_REQ_ALLOCATE_MEMORY, &new_ctx,
                            &out_desc, &attrs, NULL), SEC_E_OK);
  ck_assert (new_ctx.dwLower == m.server.dwLower && new_ctx.dwUpper == m.server.dwUpper);
  ck_assert_uint_eq (in_bufs[1].BufferType, SECBUFFER_EXTRA);
  ck_assert_uint_eq (in_bufs[1].cbBuffer, sizeof app_record);
  if (out_buf.pvBuffer != NULL)
    ck_assert_int_eq (FreeContextBuffer (out_buf.pvBuffer), SEC_E_OK);
  manual_finish (&m);
}
END_TEST

/* ---- many at once ------------------------------------------------------- */

#define N_PAIRS 1000
/* Under a wrapper (valgrind) a step costs 20-50 times more; a hundred
 * pairs still interleave hundreds of contexts in the daemon. */
#define WRAPPED_N_PAIRS 100

/* CPU time (user + system) of this process, in seconds. */
static double
self_cpu_seconds (void)
{
  struct rusage ru;

  ck_assert_int_eq (getrusage (RUSAGE_SELF, &ru), 0);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static const char many_config[] =
  "[daemon]\n"
  "max-contexts-per-user=10000\n"
  "max-contexts-per-connection=10000\n"
  "max-pending-per-connection=10000\n";

START_TEST (test_thousand_in_flight)
{
  TuEnv *many = tu_env_start (many_config);
  const guint n_pairs = tu_is_wrapped () ? WRAPPED_N_PAIRS : N_PAIRS;
  TlsPairGroup *group = tls_pair_group_new ();
  g_autofree TlsPair **pairs = g_new0 (TlsPair *, n_pairs);
  CredHandle client_cred, server_cred;
  TlsPairOptions opts = { .client_cred = &client_cred, .server_cred = &server_cred,
                          .group = group };
  gint64 start, end;
  guint finished_before_open;
  double rate, cpu_self, cpu_daemon, cpu_bus;

  ck_assert_int_eq (tp_acquire (NULL, SECPKG_CRED_OUTBOUND, 0, 0, &client_cred), SEC_E_OK);
  ck_assert_int_eq (tp_acquire ("server", SECPKG_CRED_INBOUND, 0, 0, &server_cred), SEC_E_OK);

  cpu_self = self_cpu_seconds ();
  cpu_daemon = tu_process_cpu_seconds (many->daemon_pid);
  cpu_bus = tu_process_cpu_seconds (many->bus_pid);
  start = g_get_monotonic_time ();
  for (guint i = 0; i < n_pairs; i++)
    {
      pairs[i] = tls_pair_new (&opts);
      tls_pair_start (pairs[i]);
    }
  finished_before_open = tls_pair_group_get_finished (group);
  tls_pair_group_open (group);
  ck_assert_msg (tls_pair_group_wait (group, n_pairs, 240000),
                 "only %u of %u handshakes finished in 240 s",
                 tls_pair_group_get_finished (group), n_pairs);
  end = g_get_monotonic_time ();
  cpu_self = self_cpu_seconds () - cpu_self;
  cpu_daemon = tu_process_cpu_seconds (many->daemon_pid) - cpu_daemon;
  cpu_bus = tu_process_cpu_seconds (many->bus_pid) - cpu_bus;
  ck_assert_uint_eq (finished_before_open, 0);

  /* Late or duplicate callbacks would show up as counts that move. */
  g_usleep (200 * 1000);
  for (guint i = 0; i < n_pairs; i++)
    {
      const TlsPairResult *r = tls_pair_peek_result (pairs[i]);
      ck_assert_msg (r->client.status == SEC_E_OK && r->server.status == SEC_E_OK,
                     "pair %u: client 0x%08x, server 0x%08x", i,
                     (guint32) r->client.status, (guint32) r->server.status);
      assert_side_sane (&r->client, "client");
      assert_side_sane (&r->server, "server");
      ck_assert_uint_ge (r->client.calls, 2);
    }

  rate = n_pairs / ((end - start) / (double) G_TIME_SPAN_SECOND);
  printf ("handshakes_per_second %.0f\n", rate);
  printf ("%u handshakes (%u contexts) in flight at once, done in %.3f s\n",
          n_pairs, 2 * n_pairs, (end - start) / (double) G_TIME_SPAN_SECOND);
  printf ("cpu per handshake (both ends): %.0f us in this process, %.0f us in sspid, "
          "%.0f us in dbus-daemon\n", cpu_self * 1e6 / n_pairs, cpu_daemon * 1e6 / n_pairs,
          cpu_bus * 1e6 / n_pairs);
  fflush (stdout);

  for (guint i = 0; i < n_pairs; i++)
    tls_pair_free (pairs[i]);
  tls_pair_group_free (group);
  ck_assert_int_eq (tp_free_credential (&client_cred), SEC_E_OK);
  ck_assert_int_eq (tp_free_credential (&server_cred), SEC_E_OK);
  tu_env_stop (many);
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "success", tu_fixture_setup, tu_fixture_teardown, 120, { { test_protocol, 2 },
                                                               { test_default_protocol_is_tls13 },
                                                               { test_alpn, 2 },
                                                               { test_alpn_client_only },
                                                               { test_client_certificate, 2 },
                                                               { test_client_certificate_on_request },
                                                               { test_client_certificate_not_sent_unasked },
                                                               { test_small_chunks, G_N_ELEMENTS (chunks) },
                                                               { test_caller_output_buffers } } },
    { "errors", tu_fixture_setup, tu_fixture_teardown, 120, { { test_certificate_error, 2 * G_N_ELEMENTS (cert_errors) },
                                                              { test_manual_validation },
                                                              { test_client_certificate_missing, 2 },
                                                              { test_client_continues_anonymously, 2 } } },
    { "tokens", tu_fixture_setup, tu_fixture_teardown, 120, { { test_allocate_memory },
                                                              { test_zero_output_without_allocate },
                                                              { test_garbage_server_token, 2 },
                                                              { test_truncated_record },
                                                              { test_extra_after_handshake } } },
    { "many", NULL, NULL, 300, { { test_thousand_in_flight } } },
  };

  return tu_run_cases ("handshake", cases, G_N_ELEMENTS (cases));
}
