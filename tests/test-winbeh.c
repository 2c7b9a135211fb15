/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Windows behaviours that ported Schannel code checks, against the real
 * daemon on a private bus.  The expected values are facts about Windows:
 * Microsoft's documentation and the expectations of Wine's Schannel test
 * (dlls/secur32/tests/schannel.c), which was written against real Windows.
 * Each test names where its facts come from; where sspid deliberately
 * differs (an inbound credential needs a principal, keys never come from
 * the caller) the test pins sspid's answer and says so.
 *
 * Covered: QueryContextAttributes CIPHER_INFO / CONNECTION_INFO / KEY_INFO
 * values; what ISC/ASC leave untouched on SEC_E_INCOMPLETE_MESSAGE and on a
 * failed first call; AcquireCredentialsHandle's status codes for bad
 * arguments; QueryCredentialsAttributes (names, supported algorithms,
 * cipher strengths); DecryptMessage's buffer shapes;
 * ApplyControlToken's argument checks and the alert records it leads to.
 */

#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sspi.h"
#include "schannel.h"
#include "sync-pair.h"
#include "testbus.h"
#include "testutil.h"

static gboolean
wide_equals (const WCHAR *w, const char *s)
{
  gsize i;

  for (i = 0; s[i] != '\0'; i++)
    if (w[i] != (WCHAR) s[i])
      return FALSE;
  return w[i] == 0;
}

static char *
wide_dup (const WCHAR *w)
{
  GString *s = g_string_new (NULL);

  for (gsize i = 0; w[i] != 0 && i < 256; i++)
    g_string_append_c (s, w[i] < 128 ? (char) w[i] : '?');
  return g_string_free (s, FALSE);
}

#define ck_assert_wide_eq(w, s) \
  do { \
    g_autofree char *got_ = wide_dup (w); \
    ck_assert_msg (wide_equals ((w), (s)), "%s is \"%s\", not \"%s\"", #w, got_, (s)); \
  } while (0)

static void
handshake (SyncPair *p, const char *server, guint32 client_protocols)
{
  SyncPairOptions opts = { .server_credential = server,
                           .client_protocols = client_protocols };

  sync_pair_handshake (p, &opts);
}

/* ---- 1. context attributes ---------------------------------------------- */

/* The AES-GCM suites GnuTLS's default priorities may pick, by key size. */
typedef struct {
  guint32     number;
  const char *name;
} Suite12;

static Suite12
rsa_gcm_suite (DWORD cipher_bits)
{
  if (cipher_bits == 256)
    return (Suite12) { 0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" };
  ck_assert_uint_eq (cipher_bits, 128);
  return (Suite12) { 0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" };
}

static gboolean
is_named_curve (DWORD group)
{
  /* secp256r1, secp384r1, secp521r1, x25519, x448 (RFC 8446 4.2.7) */
  return group == 0x17 || group == 0x18 || group == 0x19 || group == 0x1d || group == 0x1e;
}

/* CIPHER_INFO fields both tests' suites share: the suite is its own base
 * suite, AES-GCM (no separate hash), an (EC)DH exchange on a named group,
 * and a @certificate key. */
static void
assert_aes_gcm_ecdh (const SecPkgContext_CipherInfo *ci, const char *certificate)
{
  ck_assert_uint_eq (ci->dwBaseCipherSuite, ci->dwCipherSuite);
  ck_assert_wide_eq (ci->szCipher, "AES");
  ck_assert_uint_eq (ci->dwCipherBlockLen, 16);
  ck_assert_wide_eq (ci->szHash, "");
  ck_assert_uint_eq (ci->dwHashLen, 0);
  ck_assert_wide_eq (ci->szExchange, "ECDH");
  ck_assert_uint_eq (ci->dwMaxExchangeLen, 65536);
  ck_assert_wide_eq (ci->szCertificate, certificate);
  ck_assert_msg (is_named_curve (ci->dwKeyType), "dwKeyType 0x%x", (guint) ci->dwKeyType);
}

/* Wine's test_communication, TLS 1.2 against an RSA server, on Windows 10:
 * dwProtocol 0x303, dwCipherSuite = dwBaseCipherSuite = the IANA number,
 * szCipherSuite its IANA name, szCipher "AES", dwCipherLen 256 (for the
 * AES-256 suite), dwCipherBlockLen 16, szHash "" and dwHashLen 0 (AEAD),
 * szExchange "ECDH", dwMinExchangeLen 0, dwMaxExchangeLen 65536,
 * szCertificate "RSA", dwKeyType 0x1d or 0x17 (the group);
 * CONNECTION_INFO dwCipherStrength >= 128 and dwHashStrength 0; KEY_INFO
 * SignatureAlgorithm CALG_RSA_SIGN named "RSA", KeySize >= 128;
 * NEGOTIATION_INFO SEC_E_UNSUPPORTED_FUNCTION.  Both ends of the
 * connection answer alike. */
START_TEST (test_cipher_info_tls12_rsa)
{
  SyncPair p;

  handshake (&p, "rsa", SP_PROT_TLS1_2_CLIENT);
  for (int side = 0; side < 2; side++)
    {
      CtxtHandle *ctx = side ? &p.sctx : &p.cctx;
      SecPkgContext_CipherInfo ci;
      SecPkgContext_ConnectionInfo conn;
      SecPkgContext_KeyInfoA key;
      SecPkgContext_KeyInfoW keyw;
      guint8 negotiation[64];
      Suite12 suite;

      memset (&ci, 0xaa, sizeof ci);
      ck_assert_int_eq (QueryContextAttributesA (ctx, SECPKG_ATTR_CIPHER_INFO, &ci), SEC_E_OK);
      ck_assert_uint_eq (ci.dwVersion, SECPKGCONTEXT_CIPHERINFO_V1);
      ck_assert_uint_eq (ci.dwProtocol, 0x0303);
      suite = rsa_gcm_suite (ci.dwCipherLen);
      ck_assert_uint_eq (ci.dwCipherSuite, suite.number);
      ck_assert_wide_eq (ci.szCipherSuite, suite.name);
      assert_aes_gcm_ecdh (&ci, "RSA");
      ck_assert_uint_eq (ci.dwMinExchangeLen, 0);

      ck_assert_int_eq (QueryContextAttributesA (ctx, SECPKG_ATTR_CONNECTION_INFO, &conn),
                        SEC_E_OK);
      ck_assert_uint_ge (conn.dwCipherStrength, 128);
      ck_assert_uint_eq (conn.dwCipherStrength, ci.dwCipherLen);
      ck_assert_uint_eq (conn.dwHashStrength, 0);
      ck_assert_uint_eq (conn.aiExch, CALG_ECDHE);

      ck_assert_int_eq (QueryContextAttributesA (ctx, SECPKG_ATTR_KEY_INFO, &key), SEC_E_OK);
      ck_assert_uint_eq (key.SignatureAlgorithm, CALG_RSA_SIGN);
      ck_assert_str_eq (key.sSignatureAlgorithmName, "RSA");
      ck_assert_uint_ge (key.KeySize, 128);
      ck_assert_uint_eq (key.KeySize, ci.dwCipherLen);
      ck_assert_uint_eq (key.EncryptAlgorithm, ci.dwCipherLen == 256 ? CALG_AES_256 : CALG_AES_128);
      ck_assert_str_eq (key.sEncryptAlgorithmName, "AES");
      ck_assert_int_eq (FreeContextBuffer (key.sSignatureAlgorithmName), SEC_E_OK);
      ck_assert_int_eq (FreeContextBuffer (key.sEncryptAlgorithmName), SEC_E_OK);
      ck_assert_int_eq (QueryContextAttributesW (ctx, SECPKG_ATTR_KEY_INFO, &keyw), SEC_E_OK);
      ck_assert_wide_eq (keyw.sSignatureAlgorithmName, "RSA");
      ck_assert_wide_eq (keyw.sEncryptAlgorithmName, "AES");
      ck_assert_uint_eq (keyw.SignatureAlgorithm, CALG_RSA_SIGN);
      ck_assert_int_eq (FreeContextBuffer (keyw.sSignatureAlgorithmName), SEC_E_OK);
      ck_assert_int_eq (FreeContextBuffer (keyw.sEncryptAlgorithmName), SEC_E_OK);

      ck_assert_int_eq (QueryContextAttributesA (ctx, SECPKG_ATTR_NEGOTIATION_INFO, negotiation),
                        SEC_E_UNSUPPORTED_FUNCTION);
    }
  sync_pair_clear (&p);
}
END_TEST

/* The same fields for TLS 1.3 against the ECDSA server: the suite has no
 * key exchange in its name, the exchange is still (EC)DH, and the
 * certificate and signature are ECDSA (Microsoft's CALG_ECDSA). */
START_TEST (test_cipher_info_tls13_ecdsa)
{
  SecPkgContext_CipherInfo ci;
  SecPkgContext_ConnectionInfo conn;
  SecPkgContext_KeyInfoA key;
  SyncPair p;

  handshake (&p, NULL, SP_PROT_TLS1_3_CLIENT);
  ck_assert_int_eq (QueryContextAttributesW (&p.cctx, SECPKG_ATTR_CIPHER_INFO, &ci), SEC_E_OK);
  ck_assert_uint_eq (ci.dwProtocol, 0x0304);
  if (ci.dwCipherLen == 256)
    {
      ck_assert_uint_eq (ci.dwCipherSuite, 0x1302);
      ck_assert_wide_eq (ci.szCipherSuite, "TLS_AES_256_GCM_SHA384");
    }
  else
    {
      ck_assert_uint_eq (ci.dwCipherLen, 128);
      ck_assert_uint_eq (ci.dwCipherSuite, 0x1301);
      ck_assert_wide_eq (ci.szCipherSuite, "TLS_AES_128_GCM_SHA256");
    }
  assert_aes_gcm_ecdh (&ci, "ECDSA");

  ck_assert_int_eq (QueryContextAttributesA (&p.cctx, SECPKG_ATTR_CONNECTION_INFO, &conn),
                    SEC_E_OK);
  ck_assert_uint_eq (conn.dwHashStrength, 0);

  ck_assert_int_eq (QueryContextAttributesA (&p.sctx, SECPKG_ATTR_KEY_INFO, &key), SEC_E_OK);
  ck_assert_uint_eq (key.SignatureAlgorithm, CALG_ECDSA);
  ck_assert_str_eq (key.sSignatureAlgorithmName, "ECDSA");
  FreeContextBuffer (key.sSignatureAlgorithmName);
  FreeContextBuffer (key.sEncryptAlgorithmName);
  sync_pair_clear (&p);
}
END_TEST

/* ---- 2. what a step leaves untouched ------------------------------------ */

#define BUF_SIZE 16384
#define DEAD 0xdeadbeef

static CredHandle
acquire (const char *principal, ULONG use)
{
  CredHandle cred;

  ck_assert_int_eq (AcquireCredentialsHandleA ((SEC_CHAR *) principal, (SEC_CHAR *) UNISP_NAME_A,
                                               use, NULL, NULL, NULL, NULL, &cred, NULL),
                    SEC_E_OK);
  return cred;
}

static DWORD
daemon_contexts (void)
{
  g_autoptr(GDBusConnection) conn = tb_connect (tu_fixture_env->bus_address, NULL);

  ck_assert_ptr_nonnull (conn);
  return tu_get_counts (conn).contexts;
}

/* A client whose first step is done and a server that answered it: the
 * server's flight is in @flight (the client has not seen it). */
typedef struct {
  CredHandle  ccred, scred;
  CtxtHandle  cctx, sctx;
  guint8     *flight;
  ULONG       flight_len;
} HalfShake;

/* A client step as these tests make them (target "localhost", a stream
 * with confidentiality, and @extra_req), on @ctx (NULL: the first) with
 * input @in (may be NULL). */
static SECURITY_STATUS
client_step (CredHandle *cred, CtxtHandle *ctx, ULONG extra_req, SecBufferDesc *in,
             CtxtHandle *new_ctx, SecBufferDesc *out)
{
  ULONG attrs;

  return InitializeSecurityContextA (cred, ctx, (SEC_CHAR *) "localhost",
                                     ISC_REQ_CONFIDENTIALITY | ISC_REQ_STREAM | extra_req, 0, 0,
                                     in, 0, new_ctx, out, &attrs, NULL);
}

/* A new anonymous client credential in *@ccred and its first step in
 * *@cctx, whose ClientHello fills @hello (BUF_SIZE bytes); returns its
 * size. */
static ULONG
client_hello (CredHandle *ccred, CtxtHandle *cctx, guint8 *hello)
{
  SecBuffer cout = { BUF_SIZE, SECBUFFER_TOKEN, hello };
  SecBufferDesc cout_d = { SECBUFFER_VERSION, 1, &cout };

  *ccred = acquire (NULL, SECPKG_CRED_OUTBOUND);
  ck_assert_int_eq (client_step (ccred, NULL, 0, NULL, cctx, &cout_d),
                    SEC_I_CONTINUE_NEEDED);
  return cout.cbBuffer;
}

static void
half_shake (HalfShake *h)
{
  guint8 *hello = g_malloc (BUF_SIZE);
  SecBuffer sin[2] = { { 0, SECBUFFER_TOKEN, hello }, { 0, SECBUFFER_EMPTY, NULL } };
  SecBufferDesc sin_d = { SECBUFFER_VERSION, 2, sin };
  SecBuffer sout = { BUF_SIZE, SECBUFFER_TOKEN, NULL };
  SecBufferDesc sout_d = { SECBUFFER_VERSION, 1, &sout };
  ULONG attrs;

  sin[0].cbBuffer = client_hello (&h->ccred, &h->cctx, hello);
  h->scred = acquire ("server", SECPKG_CRED_INBOUND);
  h->flight = g_malloc (BUF_SIZE);
  sout.pvBuffer = h->flight;
  ck_assert_int_eq (AcceptSecurityContext (&h->scred, NULL, &sin_d,
                                           ASC_REQ_CONFIDENTIALITY | ASC_REQ_STREAM, 0, &h->sctx,
                                           &sout_d, &attrs, NULL),
                    SEC_I_CONTINUE_NEEDED);
  h->flight_len = sout.cbBuffer;
  ck_assert_uint_gt (h->flight_len, 5);
  g_free (hello);
}

static void
half_shake_clear (HalfShake *h)
{
  DeleteSecurityContext (&h->cctx);
  DeleteSecurityContext (&h->sctx);
  FreeCredentialsHandle (&h->ccred);
  FreeCredentialsHandle (&h->scred);
  g_free (h->flight);
}

/* One client step on @in (NULL: no input) into a caller's BUF_SIZE token
 * buffer, *phNewContext preset to junk; asserts SEC_E_INCOMPLETE_MESSAGE
 * left the output buffer and the new handle alone. */
static void
assert_incomplete_untouched (HalfShake *h, SecBufferDesc *in)
{
  guint8 *out_mem = g_malloc (BUF_SIZE);
  SecBuffer out = { BUF_SIZE, SECBUFFER_TOKEN, out_mem };
  SecBufferDesc out_d = { SECBUFFER_VERSION, 1, &out };
  CtxtHandle ctx2 = { DEAD, DEAD };

  ck_assert_int_eq (client_step (&h->ccred, &h->cctx, 0, in, &ctx2, &out_d),
                    SEC_E_INCOMPLETE_MESSAGE);
  ck_assert_uint_eq (out.cbBuffer, BUF_SIZE);
  ck_assert_uint_eq (out.BufferType, SECBUFFER_TOKEN);
  ck_assert_ptr_eq (out.pvBuffer, out_mem);
  ck_assert_uint_eq (ctx2.dwLower, DEAD);
  ck_assert_uint_eq (ctx2.dwUpper, DEAD);
  g_free (out_mem);
}

/* Wine's test_communication against Windows 10: on a continuation,
 * SEC_E_INCOMPLETE_MESSAGE leaves the output token's size and type and
 * *phNewContext as they were, whether the input is missing (NULL), empty,
 * part of a record header (4 bytes: SECBUFFER_MISSING 1) or a header
 * alone (5 bytes: MISSING is the rest of the record); with no bytes at
 * all MISSING is 5.  Then [TOKEN, EMPTY claiming 0xdeadbeef bytes at NULL]
 * is SEC_E_INVALID_TOKEN, and the context goes on with the same bytes. */
START_TEST (test_incomplete_leaves_outputs)
{
  HalfShake h;
  SecBuffer in[2];
  SecBufferDesc in_d = { SECBUFFER_VERSION, 2, in };
  guint8 *out_mem = g_malloc (BUF_SIZE);
  SecBuffer out = { BUF_SIZE, SECBUFFER_TOKEN, out_mem };
  SecBufferDesc out_d = { SECBUFFER_VERSION, 1, &out };
  CtxtHandle ctx2 = { DEAD, DEAD };
  ULONG record_len;
  SECURITY_STATUS status;

  half_shake (&h);
  record_len = ((ULONG) h.flight[3] << 8) | h.flight[4];

  assert_incomplete_untouched (&h, NULL);

  in[0] = (SecBuffer) { 0, SECBUFFER_TOKEN, h.flight };
  in[1] = (SecBuffer) { 0, SECBUFFER_EMPTY, NULL };
  assert_incomplete_untouched (&h, &in_d);
  ck_assert_uint_eq (in[1].BufferType, SECBUFFER_MISSING);
  ck_assert_uint_eq (in[1].cbBuffer, 5);

  in[0].cbBuffer = 4;
  in[1] = (SecBuffer) { 0, SECBUFFER_EMPTY, NULL };
  assert_incomplete_untouched (&h, &in_d);
  ck_assert_uint_eq (in[1].BufferType, SECBUFFER_MISSING);
  ck_assert_uint_eq (in[1].cbBuffer, 1);

  in[0].cbBuffer = 5;
  in[1] = (SecBuffer) { 0, SECBUFFER_EMPTY, NULL };
  assert_incomplete_untouched (&h, &in_d);
  ck_assert_uint_eq (in[1].BufferType, SECBUFFER_MISSING);
  ck_assert_uint_eq (in[1].cbBuffer, record_len);
  ck_assert_uint_gt (in[1].cbBuffer, 5);

  /* The whole flight, beside an EMPTY buffer with a junk size. */
  in[0].cbBuffer = h.flight_len;
  in[1] = (SecBuffer) { DEAD, SECBUFFER_EMPTY, NULL };
  ck_assert_int_eq (client_step (&h.ccred, &h.cctx, 0, &in_d, &ctx2, &out_d),
                    SEC_E_INVALID_TOKEN);
  ck_assert_uint_eq (ctx2.dwLower, DEAD);

  /* Nothing was consumed: the same bytes go on with the handshake. */
  in[1] = (SecBuffer) { 0, SECBUFFER_EMPTY, NULL };
  out.cbBuffer = BUF_SIZE;
  status = client_step (&h.ccred, &h.cctx, 0, &in_d, &ctx2, &out_d);
  ck_assert_msg (status == SEC_E_OK || status == SEC_I_CONTINUE_NEEDED, "status 0x%08x",
                 (guint) status);
  ck_assert_uint_eq (ctx2.dwLower, h.cctx.dwLower);
  ck_assert_uint_eq (ctx2.dwUpper, h.cctx.dwUpper);
  ck_assert_uint_gt (out.cbBuffer, 0);   /* the client's Finished */

  g_free (out_mem);
  half_shake_clear (&h);
}
END_TEST

/* Wine's test_communication (Windows 10) and its Schannel: a token
 * buffer with no room, without ISC_REQ_ALLOCATE_MEMORY, is
 * SEC_E_INSUFFICIENT_MEMORY with cbBuffer 0 on a later step too, and is
 * checked before the input is read: the input buffers stay as they were
 * (no EXTRA), *phNewContext is not written, and the same bytes, with
 * room, go on with the handshake (the step was not run and its token
 * lost).  A server's ASC the same way. */
START_TEST (test_no_room_later_step)
{
  HalfShake h;
  SecBuffer in[2];
  SecBufferDesc in_d = { SECBUFFER_VERSION, 2, in };
  guint8 *out_mem = g_malloc (BUF_SIZE);
  SecBuffer out = { 0, SECBUFFER_TOKEN, out_mem };
  SecBufferDesc out_d = { SECBUFFER_VERSION, 1, &out };
  CtxtHandle ctx2 = { DEAD, DEAD };
  ULONG attrs;
  SECURITY_STATUS status;

  half_shake (&h);
  for (int no_pointer = 0; no_pointer < 2; no_pointer++)
    {
      in[0] = (SecBuffer) { h.flight_len, SECBUFFER_TOKEN, h.flight };
      in[1] = (SecBuffer) { 0, SECBUFFER_EMPTY, NULL };
      out = no_pointer ? (SecBuffer) { BUF_SIZE, SECBUFFER_TOKEN, NULL }
                       : (SecBuffer) { 0, SECBUFFER_TOKEN, out_mem };
      ck_assert_int_eq (client_step (&h.ccred, &h.cctx, 0, &in_d, &ctx2, &out_d),
                        SEC_E_INSUFFICIENT_MEMORY);
      ck_assert_uint_eq (out.cbBuffer, 0);
      ck_assert_uint_eq (in[0].BufferType, SECBUFFER_TOKEN);
      ck_assert_uint_eq (in[0].cbBuffer, h.flight_len);
      ck_assert_uint_eq (in[1].BufferType, SECBUFFER_EMPTY);
      ck_assert_uint_eq (in[1].cbBuffer, 0);
      ck_assert_uint_eq (ctx2.dwLower, DEAD);
    }

  /* The same flight, with room: the handshake goes on. */
  out = (SecBuffer) { BUF_SIZE, SECBUFFER_TOKEN, out_mem };
  status = client_step (&h.ccred, &h.cctx, 0, &in_d, &ctx2, &out_d);
  ck_assert_msg (status == SEC_E_OK || status == SEC_I_CONTINUE_NEEDED, "status 0x%08x",
                 (guint) status);
  ck_assert_uint_gt (out.cbBuffer, 0);

  /* The server, given the client's flight with no room for its answer. */
  {
    guint8 *reply = g_malloc (BUF_SIZE);
    SecBuffer sin[2] = { { out.cbBuffer, SECBUFFER_TOKEN, out_mem }, { 0, SECBUFFER_EMPTY, NULL } };
    SecBufferDesc sin_d = { SECBUFFER_VERSION, 2, sin };
    SecBuffer sout = { 0, SECBUFFER_TOKEN, reply };
    SecBufferDesc sout_d = { SECBUFFER_VERSION, 1, &sout };

    ck_assert_int_eq (AcceptSecurityContext (&h.scred, &h.sctx, &sin_d, ASC_REQ_CONFIDENTIALITY |
                                             ASC_REQ_STREAM, 0, NULL, &sout_d, &attrs, NULL),
                      SEC_E_INSUFFICIENT_MEMORY);
    sout.cbBuffer = BUF_SIZE;
    status = AcceptSecurityContext (&h.scred, &h.sctx, &sin_d, ASC_REQ_CONFIDENTIALITY |
                                    ASC_REQ_STREAM, 0, NULL, &sout_d, &attrs, NULL);
    ck_assert_msg (status == SEC_E_OK || status == SEC_I_CONTINUE_NEEDED, "status 0x%08x",
                   (guint) status);
    g_free (reply);
  }
  g_free (out_mem);
  half_shake_clear (&h);
}
END_TEST

/* The server side too: a first ASC on part of a ClientHello needs more
 * and leaves no context behind (there is none on Windows to delete). */
START_TEST (test_incomplete_first_accept)
{
  guint8 *hello = g_malloc (BUF_SIZE);
  guint8 *out_mem = g_malloc (BUF_SIZE);
  SecBuffer in[2] = { { 0, SECBUFFER_TOKEN, hello }, { 0, SECBUFFER_EMPTY, NULL } };
  SecBufferDesc in_d = { SECBUFFER_VERSION, 2, in };
  SecBuffer out = { BUF_SIZE, SECBUFFER_TOKEN, out_mem };
  SecBufferDesc out_d = { SECBUFFER_VERSION, 1, &out };
  CredHandle ccred;
  CredHandle scred = acquire ("server", SECPKG_CRED_INBOUND);
  CtxtHandle cctx, sctx = { DEAD, DEAD };
  ULONG attrs, hello_len = client_hello (&ccred, &cctx, hello);
  DWORD before;

  before = daemon_contexts ();
  in[0].cbBuffer = hello_len - 1;
  ck_assert_int_eq (AcceptSecurityContext (&scred, NULL, &in_d, ASC_REQ_CONFIDENTIALITY |
                                           ASC_REQ_STREAM, 0, &sctx, &out_d, &attrs, NULL),
                    SEC_E_INCOMPLETE_MESSAGE);
  ck_assert_uint_eq (in[1].BufferType, SECBUFFER_MISSING);
  ck_assert_uint_eq (in[1].cbBuffer, 1);
  ck_assert_uint_eq (sctx.dwLower, DEAD);
  ck_assert_uint_eq (out.cbBuffer, BUF_SIZE);
  ck_assert_uint_eq (daemon_contexts (), before);

  /* With the rest, a first call again. */
  in[0].cbBuffer = hello_len;
  in[1] = (SecBuffer) { 0, SECBUFFER_EMPTY, NULL };
  ck_assert_int_eq (AcceptSecurityContext (&scred, NULL, &in_d, ASC_REQ_CONFIDENTIALITY |
                                           ASC_REQ_STREAM, 0, &sctx, &out_d, &attrs, NULL),
                    SEC_I_CONTINUE_NEEDED);
  ck_assert_uint_ne (sctx.dwLower, DEAD);
  DeleteSecurityContext (&sctx);
  DeleteSecurityContext (&cctx);
  FreeCredentialsHandle (&ccred);
  FreeCredentialsHandle (&scred);
  g_free (hello);
  g_free (out_mem);
}
END_TEST

/* A failed first call returns no context (Wine's
 * test_context_output_buffer_size: a zero-size output token without
 * ISC_REQ_ALLOCATE_MEMORY is SEC_E_INSUFFICIENT_MEMORY, a token too big
 * for the buffer fails too, and the test goes on without deleting
 * anything), and no output descriptor at all is SEC_E_INVALID_TOKEN.  The
 * daemon holds no context for any of them afterwards. */
START_TEST (test_failed_first_call_no_context)
{
  CredHandle cred = acquire (NULL, SECPKG_CRED_OUTBOUND);
  guint8 small[8];
  SecBuffer out = { 0, SECBUFFER_TOKEN, small };
  SecBufferDesc out_d = { SECBUFFER_VERSION, 1, &out };
  CtxtHandle ctx = { DEAD, DEAD };
  DWORD before = daemon_contexts ();
  gint64 deadline;

  ck_assert_int_eq (client_step (&cred, NULL, 0, NULL, &ctx, &out_d),
                    SEC_E_INSUFFICIENT_MEMORY);
  ck_assert_uint_eq (ctx.dwLower, DEAD);
  ck_assert_uint_eq (ctx.dwUpper, DEAD);

  out.cbBuffer = sizeof small;
  ck_assert_int_ne (client_step (&cred, NULL, 0, NULL, &ctx, &out_d),
                    SEC_I_CONTINUE_NEEDED);
  ck_assert_uint_eq (ctx.dwLower, DEAD);
  ck_assert_uint_eq (ctx.dwUpper, DEAD);

  ck_assert_int_eq (client_step (&cred, NULL, 0, NULL, &ctx, NULL),
                    SEC_E_INVALID_TOKEN);
  ck_assert_uint_eq (ctx.dwLower, DEAD);

  /* A context the daemon made for a step that failed here is deleted
   * without an answer: give the daemon time to get there. */
  deadline = g_get_monotonic_time () + (gint64) tu_scaled_ms (10000) * 1000;
  while (daemon_contexts () != before && g_get_monotonic_time () < deadline)
    g_usleep (20000);
  ck_assert_uint_eq (daemon_contexts (), before);
  FreeCredentialsHandle (&cred);
}
END_TEST

/* Wine's test_context_output_buffer_size on Windows 10, with a
 * SECBUFFER_ALERT output beside the token: an ALERT buffer with no room is
 * SEC_E_INSUFFICIENT_MEMORY without ISC_REQ_ALLOCATE_MEMORY (and no
 * context); with it, the token is allocated over whatever pvBuffer held;
 * with room, the step continues and the ALERT buffer comes back empty. */
START_TEST (test_alert_output_buffer)
{
  CredHandle cred = acquire (NULL, SECPKG_CRED_OUTBOUND);
  guint8 *buf = g_malloc (BUF_SIZE), *buf2 = g_malloc (BUF_SIZE);
  SecBuffer out[2] = { { BUF_SIZE, SECBUFFER_TOKEN, buf }, { 0, SECBUFFER_ALERT, buf2 } };
  SecBufferDesc out_d = { SECBUFFER_VERSION, 2, out };
  CtxtHandle ctx = { DEAD, DEAD };

  ck_assert_int_eq (client_step (&cred, NULL, 0, NULL, &ctx, &out_d),
                    SEC_E_INSUFFICIENT_MEMORY);
  ck_assert_uint_eq (ctx.dwLower, DEAD);

  out[0] = (SecBuffer) { BUF_SIZE, SECBUFFER_TOKEN, (void *) (guintptr) DEAD };
  out[1] = (SecBuffer) { 0, SECBUFFER_ALERT, NULL };
  ck_assert_int_eq (client_step (&cred, NULL, ISC_REQ_ALLOCATE_MEMORY, NULL, &ctx, &out_d),
                    SEC_I_CONTINUE_NEEDED);
  ck_assert_ptr_ne (out[0].pvBuffer, (void *) (guintptr) DEAD);
  ck_assert_uint_gt (out[0].cbBuffer, 0);
  ck_assert_uint_eq (out[1].cbBuffer, 0);
  FreeContextBuffer (out[0].pvBuffer);
  FreeContextBuffer (out[1].pvBuffer);
  DeleteSecurityContext (&ctx);

  out[0] = (SecBuffer) { BUF_SIZE, SECBUFFER_TOKEN, buf };
  out[1] = (SecBuffer) { BUF_SIZE, SECBUFFER_ALERT, buf2 };
  ck_assert_int_eq (client_step (&cred, NULL, 0, NULL, &ctx, &out_d),
                    SEC_I_CONTINUE_NEEDED);
  ck_assert_uint_eq (out[1].BufferType, SECBUFFER_ALERT);
  ck_assert_uint_eq (out[1].cbBuffer, 0);
  ck_assert_uint_gt (out[0].cbBuffer, 0);
  DeleteSecurityContext (&ctx);
  FreeCredentialsHandle (&cred);
  g_free (buf);
  g_free (buf2);
}
END_TEST

/* ---- 3. AcquireCredentialsHandle's status codes ------------------------- */

static SECURITY_STATUS
try_acquire (const char *principal, ULONG use, void *auth, CredHandle *cred)
{
  SECURITY_STATUS status = AcquireCredentialsHandleA ((SEC_CHAR *) principal,
                                                      (SEC_CHAR *) UNISP_NAME_A, use, NULL,
                                                      auth, NULL, NULL, cred, NULL);

  if (status == SEC_E_OK && cred != NULL)
    FreeCredentialsHandle (cred);
  return status;
}

/* Wine's testAcquireSecurityContext on Windows 10:
 * - no package: SEC_E_SECPKG_NOT_FOUND;
 * - no direction, or BOTH / INBOUND with no credential and no handle:
 *   SEC_E_NO_CREDENTIALS; INBOUND with no credential: SEC_E_NO_CREDENTIALS;
 * - grbitEnabledProtocols of only the other direction's versions:
 *   SEC_E_ALGORITHM_MISMATCH (the right direction's: SEC_E_OK);
 * - SCHANNEL_CRED with dwVersion 0, SCH_CRED_V1 or SCH_CRED_V2:
 *   SEC_E_UNKNOWN_CREDENTIALS; SCHANNEL_CRED_VERSION and
 *   SCH_CREDENTIALS_VERSION with nothing else set: SEC_E_OK;
 * - certificates Windows cannot use: SEC_E_UNKNOWN_CREDENTIALS;
 * - DTLS (sspid has none, Wine's test skips on SEC_E_ALGORITHM_MISMATCH)
 *   and DTLS mixed with TLS: SEC_E_ALGORITHM_MISMATCH.
 * sspid differs on purpose where Windows accepts a server credential
 * without a certificate (SCHANNEL_CRED with no cCreds, INBOUND): an
 * inbound credential names a configured one, so that is
 * SEC_E_NO_CREDENTIALS; and it never takes a certificate from the caller,
 * so any cCreds is SEC_E_UNKNOWN_CREDENTIALS, the answer Windows gives to
 * certificates it cannot use. */
START_TEST (test_acquire_status_codes)
{
  SCHANNEL_CRED sc;
  SCH_CREDENTIALS sch;
  CredHandle cred;
  CERT_CONTEXT fake_cert = { 0 };
  PCCERT_CONTEXT certs[1] = { &fake_cert };

  ck_assert_int_eq (AcquireCredentialsHandleA (NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL),
                    SEC_E_SECPKG_NOT_FOUND);
  ck_assert_int_eq (try_acquire (NULL, 0, NULL, NULL), SEC_E_NO_CREDENTIALS);
  ck_assert_int_eq (try_acquire (NULL, SECPKG_CRED_BOTH, NULL, NULL), SEC_E_NO_CREDENTIALS);
  ck_assert_int_eq (try_acquire (NULL, SECPKG_CRED_INBOUND, NULL, NULL), SEC_E_NO_CREDENTIALS);
  ck_assert_int_eq (try_acquire (NULL, SECPKG_CRED_OUTBOUND, NULL, &cred), SEC_E_OK);
  ck_assert_int_eq (try_acquire (NULL, SECPKG_CRED_INBOUND, NULL, &cred), SEC_E_NO_CREDENTIALS);

  memset (&sc, 0, sizeof sc);
  sc.dwVersion = SCHANNEL_CRED_VERSION;
  sc.grbitEnabledProtocols = SP_PROT_TLS1_X_SERVER;
  ck_assert_int_eq (try_acquire (NULL, SECPKG_CRED_OUTBOUND, &sc, &cred),
                    SEC_E_ALGORITHM_MISMATCH);
  ck_assert_int_eq (try_acquire ("server", SECPKG_CRED_INBOUND, &sc, &cred), SEC_E_OK);
  sc.grbitEnabledProtocols = SP_PROT_TLS1_X_CLIENT;
  ck_assert_int_eq (try_acquire (NULL, SECPKG_CRED_OUTBOUND, &sc, &cred), SEC_E_OK);
  ck_assert_int_eq (try_acquire ("server", SECPKG_CRED_INBOUND, &sc, &cred),
                    SEC_E_ALGORITHM_MISMATCH);
  sc.grbitEnabledProtocols = SP_PROT_DTLS1_X_CLIENT;
  ck_assert_int_eq (try_acquire (NULL, SECPKG_CRED_OUTBOUND, &sc, &cred),
                    SEC_E_ALGORITHM_MISMATCH);
  sc.grbitEnabledProtocols = SP_PROT_DTLS1_X_CLIENT | SP_PROT_TLS1_2_CLIENT;
  ck_assert_int_eq (try_acquire (NULL, SECPKG_CRED_OUTBOUND, &sc, &cred),
                    SEC_E_ALGORITHM_MISMATCH);

  memset (&sc, 0, sizeof sc);
  ck_assert_int_eq (try_acquire (NULL, SECPKG_CRED_OUTBOUND, &sc, NULL),
                    SEC_E_UNKNOWN_CREDENTIALS);
  ck_assert_int_eq (try_acquire ("server", SECPKG_CRED_INBOUND, &sc, NULL),
                    SEC_E_UNKNOWN_CREDENTIALS);
  sc.dwVersion = SCH_CRED_V1;
  ck_assert_int_eq (try_acquire (NULL, SECPKG_CRED_OUTBOUND, &sc, &cred),
                    SEC_E_UNKNOWN_CREDENTIALS);
  sc.dwVersion = SCH_CRED_V2;
  ck_assert_int_eq (try_acquire ("server", SECPKG_CRED_INBOUND, &sc, &cred),
                    SEC_E_UNKNOWN_CREDENTIALS);
  sc.dwVersion = SCHANNEL_CRED_VERSION;
  ck_assert_int_eq (try_acquire (NULL, SECPKG_CRED_OUTBOUND, &sc, &cred), SEC_E_OK);
  /* sspid: an inbound credential needs a principal (Windows: SEC_E_OK). */
  ck_assert_int_eq (try_acquire (NULL, SECPKG_CRED_INBOUND, &sc, &cred), SEC_E_NO_CREDENTIALS);
  ck_assert_int_eq (try_acquire ("server", SECPKG_CRED_INBOUND, &sc, &cred), SEC_E_OK);

  sc.cCreds = 1;
  sc.paCred = certs;
  ck_assert_int_eq (try_acquire (NULL, SECPKG_CRED_OUTBOUND, &sc, NULL),
                    SEC_E_UNKNOWN_CREDENTIALS);
  ck_assert_int_eq (try_acquire ("server", SECPKG_CRED_INBOUND, &sc, NULL),
                    SEC_E_UNKNOWN_CREDENTIALS);

  memset (&sch, 0, sizeof sch);
  sch.dwVersion = SCH_CREDENTIALS_VERSION;
  ck_assert_int_eq (try_acquire (NULL, SECPKG_CRED_OUTBOUND, &sch, &cred), SEC_E_OK);
  sch.cCreds = 1;
  sch.paCred = certs;
  ck_assert_int_eq (try_acquire (NULL, SECPKG_CRED_OUTBOUND, &sch, &cred),
                    SEC_E_UNKNOWN_CREDENTIALS);
}
END_TEST

/* Wine's test_cread_attrs and testAcquireSecurityContext on Windows 10:
 * SECPKG_CRED_ATTR_NAMES of a client credential without a certificate is
 * SEC_E_NO_CREDENTIALS, SECPKG_ATTR_SUPPORTED_PROTOCOLS with no buffer
 * SEC_E_INTERNAL_ERROR.  A named credential answers with its name, which
 * sspid takes from its configuration (Windows: from the certificate). */
START_TEST (test_credential_names)
{
  CredHandle anon = acquire (NULL, SECPKG_CRED_OUTBOUND);
  CredHandle named = acquire ("server", SECPKG_CRED_INBOUND);
  SecPkgCredentials_NamesA names = { (SEC_CHAR *) "junk" };
  SecPkgCredentials_NamesW wnames;

  ck_assert_int_eq (QueryCredentialsAttributesA (&anon, SECPKG_CRED_ATTR_NAMES, &names),
                    SEC_E_NO_CREDENTIALS);
  ck_assert_int_eq (QueryCredentialsAttributesW (&anon, SECPKG_CRED_ATTR_NAMES, &wnames),
                    SEC_E_NO_CREDENTIALS);
  ck_assert_int_eq (QueryCredentialsAttributesA (&anon, SECPKG_ATTR_SUPPORTED_PROTOCOLS, NULL),
                    SEC_E_INTERNAL_ERROR);

  ck_assert_int_eq (QueryCredentialsAttributesA (&named, SECPKG_CRED_ATTR_NAMES, &names),
                    SEC_E_OK);
  ck_assert_str_eq (names.sUserName, "server");
  ck_assert_int_eq (FreeContextBuffer (names.sUserName), SEC_E_OK);
  ck_assert_int_eq (QueryCredentialsAttributesW (&named, SECPKG_CRED_ATTR_NAMES, &wnames),
                    SEC_E_OK);
  ck_assert_wide_eq (wnames.sUserName, "server");
  ck_assert_int_eq (FreeContextBuffer (wnames.sUserName), SEC_E_OK);
  FreeCredentialsHandle (&anon);
  FreeCredentialsHandle (&named);
}
END_TEST

/* Whether @alg is among @algs' ALG_IDs. */
static gboolean
has_alg (const SecPkgCred_SupportedAlgs *algs, ALG_ID alg)
{
  for (DWORD i = 0; i < algs->cSupportedAlgs; i++)
    if (algs->palgSupportedAlgs[i] == alg)
      return TRUE;
  return FALSE;
}

/* SECPKG_ATTR_SUPPORTED_ALGS of @cred, each ALG_ID once and none 0; free
 * palgSupportedAlgs with FreeContextBuffer(). */
static SecPkgCred_SupportedAlgs
supported_algs (CredHandle *cred)
{
  SecPkgCred_SupportedAlgs algs = { 0xdeadbeef, NULL };

  ck_assert_int_eq (QueryCredentialsAttributesA (cred, SECPKG_ATTR_SUPPORTED_ALGS, &algs),
                    SEC_E_OK);
  ck_assert_ptr_nonnull (algs.palgSupportedAlgs);
  for (DWORD i = 0; i < algs.cSupportedAlgs; i++)
    {
      ck_assert_uint_ne (algs.palgSupportedAlgs[i], 0);
      for (DWORD j = 0; j < i; j++)
        ck_assert_uint_ne (algs.palgSupportedAlgs[i], algs.palgSupportedAlgs[j]);
    }
  return algs;
}

static SecPkgCred_CipherStrengths
cipher_strengths (CredHandle *cred, gboolean wide)
{
  SecPkgCred_CipherStrengths s = { 0xdeadbeef, 0xdeadbeef };

  ck_assert_int_eq (wide ? QueryCredentialsAttributesW (cred, SECPKG_ATTR_CIPHER_STRENGTHS, &s)
                         : QueryCredentialsAttributesA (cred, SECPKG_ATTR_CIPHER_STRENGTHS, &s),
                    SEC_E_OK);
  return s;
}

static CredHandle
acquire_protocols (const char *principal, ULONG use, DWORD protocols)
{
  SCHANNEL_CRED sc = { .dwVersion = SCHANNEL_CRED_VERSION,
                       .grbitEnabledProtocols = protocols };
  CredHandle cred;

  ck_assert_int_eq (AcquireCredentialsHandleA ((SEC_CHAR *) principal, (SEC_CHAR *) UNISP_NAME_A,
                                               use, NULL, &sc, NULL, NULL, &cred, NULL),
                    SEC_E_OK);
  return cred;
}

/* Wine's test_cread_attrs and test_strength, and Microsoft's
 * SecPkgCred_SupportedAlgs / SecPkgCred_CipherStrengths: SUPPORTED_ALGS
 * answers SEC_E_OK with an ALG_ID array the caller frees with
 * FreeContextBuffer (SEC_E_INTERNAL_ERROR with no buffer), on Windows 10
 * at least four of them with AES-256 and SHA-256 among them;
 * CIPHER_STRENGTHS sets both bounds.  The values are what the daemon's
 * GnuTLS priorities allow (the tests pin GnuTLS's built-in NORMAL): AES
 * of 128 and 256 bits, ECDHE in every version, RSA key transport and
 * SHA-1 MACs in TLS 1.2 only; certificates signed with RSA or ECDSA. */
START_TEST (test_credential_algorithms)
{
  CredHandle any = acquire (NULL, SECPKG_CRED_OUTBOUND);
  CredHandle server = acquire ("server", SECPKG_CRED_INBOUND);
  CredHandle tls13 = acquire_protocols (NULL, SECPKG_CRED_OUTBOUND, SP_PROT_TLS1_3_CLIENT);
  CredHandle tls12 = acquire_protocols ("server", SECPKG_CRED_INBOUND, SP_PROT_TLS1_2_SERVER);
  static const ALG_ID everywhere[] = { CALG_AES_128, CALG_AES_256, CALG_SHA_256, CALG_SHA_384,
                                       CALG_ECDHE, CALG_RSA_SIGN, CALG_ECDSA };
  SecPkgCred_SupportedAlgs algs;
  SecPkgCred_CipherStrengths strengths;
  CredHandle *creds[] = { &any, &server, &tls13, &tls12 };

  ck_assert_int_eq (QueryCredentialsAttributesA (&any, SECPKG_ATTR_SUPPORTED_ALGS, NULL),
                    SEC_E_INTERNAL_ERROR);
  ck_assert_int_eq (QueryCredentialsAttributesA (&any, SECPKG_ATTR_CIPHER_STRENGTHS, NULL),
                    SEC_E_INTERNAL_ERROR);

  for (gsize c = 0; c < G_N_ELEMENTS (creds); c++)
    {
      gboolean has_tls12 = creds[c] != &tls13;

      algs = supported_algs (creds[c]);
      ck_assert_uint_ge (algs.cSupportedAlgs, 4);
      for (gsize i = 0; i < G_N_ELEMENTS (everywhere); i++)
        ck_assert_msg (has_alg (&algs, everywhere[i]), "credential %" G_GSIZE_FORMAT
                       ": no ALG_ID 0x%04x", c, (unsigned) everywhere[i]);
      ck_assert_int_eq (has_alg (&algs, CALG_RSA_KEYX), has_tls12);
      ck_assert_int_eq (has_alg (&algs, CALG_SHA1), has_tls12);
      ck_assert_int_eq (FreeContextBuffer (algs.palgSupportedAlgs), SEC_E_OK);

      strengths = cipher_strengths (creds[c], c % 2 == 1);
      ck_assert_uint_eq (strengths.dwMinimumCipherStrength, 128);
      ck_assert_uint_eq (strengths.dwMaximumCipherStrength, 256);
      FreeCredentialsHandle (creds[c]);
      ck_assert_int_eq (QueryCredentialsAttributesA (creds[c], SECPKG_ATTR_CIPHER_STRENGTHS,
                                                     &strengths), SEC_E_INVALID_HANDLE);
    }
}
END_TEST

/* The strength a handshake negotiates lies within the bounds its
 * credentials reported (SECPKG_ATTR_CONNECTION_INFO's dwCipherStrength). */
START_TEST (test_cipher_strength_bounds_negotiated)
{
  SecPkgContext_ConnectionInfo info;
  SecPkgCred_CipherStrengths bounds;
  SyncPair p;

  handshake (&p, "rsa", SP_PROT_TLS1_2_CLIENT);
  bounds = cipher_strengths (&p.ccred, FALSE);
  ck_assert_int_eq (QueryContextAttributesA (&p.cctx, SECPKG_ATTR_CONNECTION_INFO, &info),
                    SEC_E_OK);
  ck_assert_uint_ge (info.dwCipherStrength, bounds.dwMinimumCipherStrength);
  ck_assert_uint_le (info.dwCipherStrength, bounds.dwMaximumCipherStrength);
  sync_pair_clear (&p);
}
END_TEST

/* ---- 4. records and control tokens -------------------------------------- */

/* Wine's test_communication on Windows 10, DecryptMessage's shapes: three
 * buffers, four with no DATA, two DATA, and [DATA, EXTRA, EMPTY, EMPTY]
 * (too few EMPTY) are SEC_E_INVALID_TOKEN; a DATA buffer holding all but
 * the 5 header bytes' worth of a record gives SEC_E_INCOMPLETE_MESSAGE
 * and the DATA buffer itself becomes SECBUFFER_MISSING with cbBuffer 5. */
START_TEST (test_decrypt_shapes)
{
  g_autoptr(GByteArray) wire = g_byte_array_new ();
  g_autofree guint8 *copy = NULL;
  SecBuffer b[4];
  SecBufferDesc desc = { SECBUFFER_VERSION, 4, b };
  ULONG body;
  SyncPair p;

  handshake (&p, "rsa", SP_PROT_TLS1_2_CLIENT);
  sp_seal (&p.cctx, "hello", 5, wire);
  copy = g_memdup2 (wire->data, wire->len);
  body = ((ULONG) copy[3] << 8) | copy[4];

  for (int i = 0; i < 4; i++)
    b[i] = (SecBuffer) { 0, SECBUFFER_EMPTY, NULL };
  b[0] = (SecBuffer) { wire->len, SECBUFFER_EMPTY, copy };
  desc.cBuffers = 3;
  ck_assert_int_eq (DecryptMessage (&p.sctx, &desc, 0, NULL), SEC_E_INVALID_TOKEN);
  desc.cBuffers = 4;
  ck_assert_int_eq (DecryptMessage (&p.sctx, &desc, 0, NULL), SEC_E_INVALID_TOKEN);
  b[0].BufferType = SECBUFFER_DATA;
  b[1] = (SecBuffer) { wire->len, SECBUFFER_DATA, copy };
  ck_assert_int_eq (DecryptMessage (&p.sctx, &desc, 0, NULL), SEC_E_INVALID_TOKEN);
  b[1] = (SecBuffer) { 0, SECBUFFER_EXTRA, NULL };
  ck_assert_int_eq (DecryptMessage (&p.sctx, &desc, 0, NULL), SEC_E_INVALID_TOKEN);

  b[1] = (SecBuffer) { 0, SECBUFFER_EMPTY, NULL };
  b[0].cbBuffer = body;
  ck_assert_int_eq (DecryptMessage (&p.sctx, &desc, 0, NULL), SEC_E_INCOMPLETE_MESSAGE);
  ck_assert_uint_eq (b[0].BufferType, SECBUFFER_MISSING);
  ck_assert_uint_eq (b[0].cbBuffer, 5);

  /* None of that used the record: it still opens. */
  ck_assert_int_eq (sp_open (&p.sctx, wire, NULL), SEC_E_OK);
  sync_pair_clear (&p);
}
END_TEST

/* Wine's test_connection_shutdown on Windows 10, after a client's first
 * step: ApplyControlToken with two buffers (a second TOKEN or EMPTY),
 * a SECBUFFER_ALERT or SECBUFFER_DATA buffer is SEC_E_INVALID_TOKEN;
 * SCHANNEL_RENEGOTIATE and a 2-byte token SEC_E_UNSUPPORTED_FUNCTION; no
 * handle SEC_E_INVALID_HANDLE; no descriptor SEC_E_INTERNAL_ERROR; a
 * SCHANNEL_SHUTDOWN token of 5 bytes SEC_E_OK, twice too. */
START_TEST (test_control_token_checks)
{
  HalfShake h;
  DWORD token[2] = { SCHANNEL_SHUTDOWN, 0 };
  SecBuffer b[2] = { { sizeof (DWORD), SECBUFFER_TOKEN, token },
                     { sizeof (DWORD), SECBUFFER_TOKEN, token } };
  SecBufferDesc desc = { SECBUFFER_VERSION, 2, b };

  half_shake (&h);
  ck_assert_int_eq (ApplyControlToken (&h.cctx, &desc), SEC_E_INVALID_TOKEN);
  b[1] = (SecBuffer) { 0, SECBUFFER_EMPTY, NULL };
  ck_assert_int_eq (ApplyControlToken (&h.cctx, &desc), SEC_E_INVALID_TOKEN);
  desc.cBuffers = 1;
  token[0] = SCHANNEL_RENEGOTIATE;
  ck_assert_int_eq (ApplyControlToken (&h.cctx, &desc), SEC_E_UNSUPPORTED_FUNCTION);
  ck_assert_int_eq (ApplyControlToken (NULL, &desc), SEC_E_INVALID_HANDLE);
  ck_assert_int_eq (ApplyControlToken (&h.cctx, NULL), SEC_E_INTERNAL_ERROR);
  token[0] = SCHANNEL_SHUTDOWN;
  b[0].BufferType = SECBUFFER_ALERT;
  ck_assert_int_eq (ApplyControlToken (&h.cctx, &desc), SEC_E_INVALID_TOKEN);
  b[0].BufferType = SECBUFFER_DATA;
  ck_assert_int_eq (ApplyControlToken (&h.cctx, &desc), SEC_E_INVALID_TOKEN);
  b[0].BufferType = SECBUFFER_TOKEN;
  b[0].cbBuffer = 2;
  ck_assert_int_eq (ApplyControlToken (&h.cctx, &desc), SEC_E_UNSUPPORTED_FUNCTION);
  b[0].cbBuffer = sizeof (DWORD) + 1;
  ck_assert_int_eq (ApplyControlToken (&h.cctx, &desc), SEC_E_OK);
  ck_assert_int_eq (ApplyControlToken (&h.cctx, &desc), SEC_E_OK);
  half_shake_clear (&h);
}
END_TEST

/* One client step with no input after a control token: SEC_E_OK,
 * *phNewContext the same context, and the alert record (plaintext before
 * the keys exist): content type 21, length 2, then @level, @description. */
static void
assert_alert_step (HalfShake *h, guint8 level, guint8 description)
{
  guint8 out_mem[1000];
  SecBuffer out = { sizeof out_mem, SECBUFFER_TOKEN, out_mem };
  SecBufferDesc out_d = { SECBUFFER_VERSION, 1, &out };
  CtxtHandle ctx2 = { DEAD, DEAD };
  ULONG attrs;

  ck_assert_int_eq (InitializeSecurityContextA (&h->ccred, &h->cctx, NULL, 0, 0, 0, NULL, 0,
                                                &ctx2, &out_d, &attrs, NULL),
                    SEC_E_OK);
  ck_assert_uint_eq (ctx2.dwLower, h->cctx.dwLower);
  ck_assert_uint_eq (ctx2.dwUpper, h->cctx.dwUpper);
  ck_assert_uint_eq (out.cbBuffer, 7);
  ck_assert_uint_eq (out_mem[0], 21);
  ck_assert_uint_eq (out_mem[1], 3);
  ck_assert_uint_eq (out_mem[3], 0);
  ck_assert_uint_eq (out_mem[4], 2);
  ck_assert_uint_eq (out_mem[5], level);
  ck_assert_uint_eq (out_mem[6], description);
}

/* Wine's test_connection_shutdown, what ISC returns around control
 * tokens in the middle of a handshake: after SCHANNEL_SHUTDOWN, SEC_E_OK
 * with the close_notify record (15 03 xx 00 02 01 00); then, with nothing
 * pending and no input, SEC_E_INCOMPLETE_MESSAGE that leaves the output
 * and *phNewContext alone; a second SHUTDOWN gives close_notify again; an
 * ALERT token after it (fatal bad_certificate) gives that alert
 * (15 03 xx 00 02 02 2a). */
START_TEST (test_alerts_after_shutdown)
{
  HalfShake h;

  half_shake (&h);
  ck_assert_int_eq (sp_control (&h.cctx, SCHANNEL_SHUTDOWN, 0, 0), SEC_E_OK);
  assert_alert_step (&h, 1, 0);
  assert_incomplete_untouched (&h, NULL);
  ck_assert_int_eq (sp_control (&h.cctx, SCHANNEL_SHUTDOWN, 0, 0), SEC_E_OK);
  assert_alert_step (&h, 1, 0);
  ck_assert_int_eq (sp_control (&h.cctx, SCHANNEL_ALERT, TLS1_ALERT_FATAL,
                                TLS1_ALERT_BAD_CERTIFICATE), SEC_E_OK);
  assert_alert_step (&h, 2, 42);
  half_shake_clear (&h);
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "context-attributes", tu_fixture_setup, tu_fixture_teardown, 60, { { test_cipher_info_tls12_rsa },
                                                                         { test_cipher_info_tls13_ecdsa } } },
    { "handshake-steps", tu_fixture_setup, tu_fixture_teardown, 60, { { test_incomplete_leaves_outputs },
                                                                      { test_incomplete_first_accept },
                                                                      { test_failed_first_call_no_context },
                                                                      { test_no_room_later_step },
                                                                      { test_alert_output_buffer } } },
    { "credentials", tu_fixture_setup, tu_fixture_teardown, 60, { { test_acquire_status_codes },
                                                                  { test_credential_names },
                                                                  { test_credential_algorithms },
                                                                  { test_cipher_strength_bounds_negotiated } } },
    { "records-control", tu_fixture_setup, tu_fixture_teardown, 60, { { test_decrypt_shapes },
                                                                      { test_control_token_checks },
                                                                      { test_alerts_after_shutdown } } },
  };

  return tu_run_cases ("winbeh", cases, G_N_ELEMENTS (cases));
}
