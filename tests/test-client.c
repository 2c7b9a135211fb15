/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libsspi's client side of the Windows API, against the real daemon on a
 * private bus: the marshalling both APIs share (SCH_CREDENTIALS, ALPN
 * buffers), QueryContextAttributes for every attribute it answers (after
 * in-process handshakes over TLS 1.3 and 1.2), QueryCredentialsAttributes,
 * the package list and the security function table.
 *
 * Records (EncryptMessage / DecryptMessage / ApplyControlToken) are
 * tests/test-records.c's business, the async contract tests/test-async.c's.
 */

#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "sspi.h"
#include "schannel.h"
#include "sync-pair.h"
#include "testutil.h"
#include "tls-pair.h"

#define ISC_FLAGS (ISC_REQ_CONFIDENTIALITY | ISC_REQ_REPLAY_DETECT \
                   | ISC_REQ_SEQUENCE_DETECT | ISC_REQ_STREAM)

/* The protocol of loop test @i: 0 is TLS 1.3, 1 is TLS 1.2. */
static void
handshake (SyncPair *p, guint32 client_protocols)
{
  SyncPairOptions opts = { .client_protocols = client_protocols };

  sync_pair_handshake (p, &opts);
}

static gboolean
wide_has_prefix (const WCHAR *w, const char *prefix)
{
  for (gsize i = 0; prefix[i] != '\0'; i++)
    if (w[i] != (WCHAR) prefix[i])
      return FALSE;
  return TRUE;
}

static gboolean
wide_equals (const WCHAR *w, const char *s)
{
  return wide_has_prefix (w, s) && w[strlen (s)] == 0;
}

/* ---- marshalling: auth data, ALPN ---------------------------------------- */

START_TEST (test_sch_credentials_protocols)
{
  TLS_PARAMETERS no13 = { .grbitDisabledProtocols = SP_PROT_TLS1_3 };
  TLS_PARAMETERS none = { .grbitDisabledProtocols = SP_PROT_TLS1_2 | SP_PROT_TLS1_3 };
  SCH_CREDENTIALS sc = { .dwVersion = SCH_CREDENTIALS_VERSION, .cTlsParameters = 1,
                         .pTlsParameters = &no13 };
  SCHANNEL_CRED old = { .dwVersion = SCH_CRED_V1 };
  SyncPairOptions opts = { .client_auth = &sc };
  SecPkgContext_ConnectionInfo conn;
  SecPkgCred_SupportedProtocols protocols;
  SyncPair p;
  CredHandle cred;
  TimeStamp expiry;

  sync_pair_handshake (&p, &opts);
  ck_assert_int_eq (QueryContextAttributesA (&p.cctx, SECPKG_ATTR_CONNECTION_INFO, &conn),
                    SEC_E_OK);
  ck_assert_uint_eq (conn.dwProtocol, SP_PROT_TLS1_2_CLIENT);
  ck_assert_uint_eq (conn.aiExch, CALG_ECDHE);
  ck_assert_int_eq (QueryCredentialsAttributesA (&p.ccred, SECPKG_ATTR_SUPPORTED_PROTOCOLS,
                                                 &protocols), SEC_E_OK);
  ck_assert_uint_eq (protocols.grbitProtocol, SP_PROT_TLS1_2_CLIENT);
  sync_pair_clear (&p);

  sc.pTlsParameters = &none;
  ck_assert_int_eq (AcquireCredentialsHandleA (NULL, SCHANNEL_NAME_A, SECPKG_CRED_OUTBOUND,
                                               NULL, &sc, NULL, NULL, &cred, &expiry),
                    SEC_E_ALGORITHM_MISMATCH);
  ck_assert_int_eq (AcquireCredentialsHandleA (NULL, SCHANNEL_NAME_A, SECPKG_CRED_OUTBOUND,
                                               NULL, &old, NULL, NULL, &cred, &expiry),
                    SEC_E_UNKNOWN_CREDENTIALS);   /* as Windows */
}
END_TEST

START_TEST (test_malformed_alpn_refused)
{
  /* ProtocolListsSize 8: one ALPN list of 2 bytes claiming an id of 5. */
  guint8 bad[12] = { 8, 0, 0, 0, 2, 0, 0, 0, 2, 0, 5, 'h' };
  /* The same, well formed: "h2". */
  guint8 good[13] = { 9, 0, 0, 0, 2, 0, 0, 0, 3, 0, 2, 'h', '2' };
  SecBuffer in_buf = { sizeof bad, SECBUFFER_APPLICATION_PROTOCOLS, bad };
  SecBufferDesc in_desc = { SECBUFFER_VERSION, 1, &in_buf };
  SecBuffer out = { 0, SECBUFFER_TOKEN, NULL };
  SecBufferDesc out_desc = { SECBUFFER_VERSION, 1, &out };
  CredHandle cred;
  CtxtHandle ctx;
  ULONG attrs;
  gboolean queued = TRUE;

  ck_assert_int_eq (tp_acquire (NULL, SECPKG_CRED_OUTBOUND, 0, 0, &cred), SEC_E_OK);
  SecInvalidateHandle (&ctx);
  ck_assert_int_eq (tp_isc (&cred, NULL, "localhost", ISC_FLAGS | ISC_REQ_ALLOCATE_MEMORY,
                            &in_desc, &ctx, &out_desc, &attrs, &queued),
                    SEC_E_INVALID_TOKEN);
  ck_assert (!queued);
  in_buf.cbBuffer = 7;   /* shorter than the lists it announces */
  ck_assert_int_eq (tp_isc (&cred, NULL, "localhost", ISC_FLAGS | ISC_REQ_ALLOCATE_MEMORY,
                            &in_desc, &ctx, &out_desc, &attrs, &queued),
                    SEC_E_INVALID_TOKEN);
  ck_assert (!queued);
  ck_assert (!SecIsValidHandle (&ctx));

  in_buf = (SecBuffer) { sizeof good, SECBUFFER_APPLICATION_PROTOCOLS, good };
  ck_assert_int_eq (tp_isc (&cred, NULL, "localhost", ISC_FLAGS | ISC_REQ_ALLOCATE_MEMORY,
                            &in_desc, &ctx, &out_desc, &attrs, &queued),
                    SEC_I_CONTINUE_NEEDED);
  ck_assert (queued);
  /* The ClientHello carries the ALPN extension with "h2". */
  ck_assert_ptr_nonnull (memmem (out.pvBuffer, out.cbBuffer, "\x02h2", 3));
  FreeContextBuffer (out.pvBuffer);
  ck_assert_int_eq (DeleteSecurityContext (&ctx), SEC_E_OK);
  ck_assert_int_eq (FreeCredentialsHandle (&cred), SEC_E_OK);
}
END_TEST

/* ---- QueryContextAttributes ------------------------------------------------ */

/* Asserts @b is Windows' channel bindings for @prefix and returns the
 * binding bytes (after "prefix:"). */
static GBytes *
check_bindings (const SecPkgContext_Bindings *b, const char *prefix)
{
  const SEC_CHANNEL_BINDINGS *cb = b->Bindings;
  const guint8 *app;
  gsize plen = strlen (prefix);

  ck_assert_ptr_nonnull (cb);
  ck_assert_uint_eq (cb->dwApplicationDataOffset, sizeof (SEC_CHANNEL_BINDINGS));
  ck_assert_uint_eq (b->BindingsLength, sizeof (SEC_CHANNEL_BINDINGS)
                                        + cb->cbApplicationDataLength);
  ck_assert_uint_eq (cb->dwInitiatorAddrType + cb->cbInitiatorLength
                     + cb->dwInitiatorOffset + cb->dwAcceptorAddrType
                     + cb->cbAcceptorLength + cb->dwAcceptorOffset, 0);
  ck_assert_uint_gt (cb->cbApplicationDataLength, plen + 1);
  app = (const guint8 *) cb + cb->dwApplicationDataOffset;
  ck_assert_mem_eq (app, prefix, plen);
  ck_assert_uint_eq (app[plen], ':');
  return g_bytes_new (app + plen + 1, cb->cbApplicationDataLength - plen - 1);
}

static GBytes *
query_bindings (CtxtHandle *ctx, ULONG attribute, const char *prefix)
{
  SecPkgContext_Bindings b;
  GBytes *bytes;

  ck_assert_int_eq (QueryContextAttributesA (ctx, attribute, &b), SEC_E_OK);
  bytes = check_bindings (&b, prefix);
  ck_assert_int_eq (FreeContextBuffer (b.Bindings), SEC_E_OK);
  return bytes;
}

START_TEST (test_query_attributes)
{
  SecPkgContext_CipherInfo cipher;
  SecPkgContext_SessionInfo session;
  SecPkgContext_ApplicationProtocol alpn;
  SecPkgContext_ConnectionInfo conn;
  PCCERT_CONTEXT cert = NULL;
  SyncPair p;

  handshake (&p, 0);
  ck_assert_int_eq (QueryContextAttributesW (&p.cctx, SECPKG_ATTR_CONNECTION_INFO, &conn),
                    SEC_E_OK);
  ck_assert_uint_eq (conn.dwProtocol, SP_PROT_TLS1_3_CLIENT);
  ck_assert (conn.aiCipher == CALG_AES_128 || conn.aiCipher == CALG_AES_256);
  ck_assert_uint_eq (conn.dwCipherStrength, conn.aiCipher == CALG_AES_128 ? 128 : 256);
  ck_assert (conn.aiHash == CALG_SHA_256 || conn.aiHash == CALG_SHA_384);
  ck_assert_uint_eq (conn.aiExch, CALG_ECDHE);

  ck_assert_int_eq (QueryContextAttributesA (&p.cctx, SECPKG_ATTR_CIPHER_INFO, &cipher),
                    SEC_E_OK);
  ck_assert_uint_eq (cipher.dwVersion, SECPKGCONTEXT_CIPHERINFO_V1);
  ck_assert_uint_eq (cipher.dwProtocol, 0x0304);
  ck_assert_uint_eq (cipher.dwCipherSuite >> 8, 0x13);   /* a TLS 1.3 suite */
  ck_assert (wide_has_prefix (cipher.szCipherSuite, "TLS_"));
  ck_assert (wide_equals (cipher.szCipher, "AES"));   /* Schannel: no size or mode */
  ck_assert_uint_eq (cipher.szCipher[SZ_ALG_MAX_SIZE - 1], 0);

  ck_assert_int_eq (QueryContextAttributesA (&p.cctx, SECPKG_ATTR_SESSION_INFO, &session),
                    SEC_E_OK);
  ck_assert_uint_eq (session.dwFlags & SSL_SESSION_RECONNECT, 0);
  ck_assert_uint_le (session.cbSessionId, 32);

  ck_assert_int_eq (QueryContextAttributesA (&p.cctx, SECPKG_ATTR_APPLICATION_PROTOCOL,
                                             &alpn), SEC_E_OK);
  ck_assert_int_eq (alpn.ProtoNegoStatus, SecApplicationProtocolNegotiationStatus_None);

  ck_assert_int_eq (QueryContextAttributesA (&p.cctx, SECPKG_ATTR_REMOTE_CERT_CONTEXT,
                                             &cert), SEC_E_OK);
  ck_assert_ptr_nonnull (cert);
  ck_assert_uint_eq (cert->dwCertEncodingType, X509_ASN_ENCODING);
  ck_assert_uint_gt (cert->cbCertEncoded, 100);
  ck_assert_uint_eq (cert->pbCertEncoded[0], 0x30);   /* a DER SEQUENCE */
  ck_assert (CertFreeCertificateContext (cert));
  /* The client sent no certificate. */
  cert = (PCCERT_CONTEXT) &conn;
  ck_assert_int_eq (QueryContextAttributesA (&p.sctx, SECPKG_ATTR_REMOTE_CERT_CONTEXT,
                                             &cert), SEC_E_NO_CREDENTIALS);
  ck_assert_ptr_null (cert);

  /* Unknown and unsupported attributes, on a live context. */
  ck_assert_int_eq (QueryContextAttributesA (&p.cctx, SECPKG_ATTR_NAMES, &conn),
                    SEC_E_UNSUPPORTED_FUNCTION);
  ck_assert_int_eq (QueryContextAttributesW (&p.cctx, 0x7fff, &conn),
                    SEC_E_UNSUPPORTED_FUNCTION);
  ck_assert_int_eq (QueryContextAttributesA (&p.cctx, SECPKG_ATTR_SSPID_PEER_CHAIN + 1,
                                             &conn), SEC_E_UNSUPPORTED_FUNCTION);
  sync_pair_clear (&p);
}
END_TEST

/* The attributes whose values depend on the protocol, on both sides. */
START_TEST (test_attributes_by_protocol)
{
  gboolean tls13 = _i == 0;
  SecPkgContext_ConnectionInfo conn;
  SecPkgContext_CipherInfo cipher;
  SecPkgContext_StreamSizes sizes;
  SecPkgContext_Bindings b;
  g_autoptr(GBytes) cep = NULL;
  g_autoptr(GBytes) sep = NULL;
  SyncPair p;

  handshake (&p, sp_loop_protocol (_i));

  ck_assert_int_eq (QueryContextAttributesA (&p.cctx, SECPKG_ATTR_CONNECTION_INFO, &conn),
                    SEC_E_OK);
  ck_assert_uint_eq (conn.dwProtocol, tls13 ? SP_PROT_TLS1_3_CLIENT : SP_PROT_TLS1_2_CLIENT);
  /* The default priorities pick AES-GCM: the sizes below are GCM's. */
  ck_assert (conn.aiCipher == CALG_AES_128 || conn.aiCipher == CALG_AES_256);
  ck_assert_int_eq (QueryContextAttributesA (&p.sctx, SECPKG_ATTR_CONNECTION_INFO, &conn),
                    SEC_E_OK);
  ck_assert_uint_eq (conn.dwProtocol, tls13 ? SP_PROT_TLS1_3_SERVER : SP_PROT_TLS1_2_SERVER);
  ck_assert_int_eq (QueryContextAttributesW (&p.sctx, SECPKG_ATTR_CIPHER_INFO, &cipher),
                    SEC_E_OK);
  ck_assert_uint_eq (cipher.dwProtocol, tls13 ? 0x0304 : 0x0303);

  for (int side = 0; side < 2; side++)
    {
      ck_assert_int_eq (QueryContextAttributesA (side ? &p.sctx : &p.cctx,
                                                 SECPKG_ATTR_STREAM_SIZES, &sizes), SEC_E_OK);
      /* TLS 1.3: the record header; 1.2 GCM: plus the explicit nonce.
       * Trailer: the GCM tag, plus (1.3) the content type and a pad byte. */
      ck_assert_uint_eq (sizes.cbHeader, tls13 ? 5 : 13);
      ck_assert_uint_eq (sizes.cbTrailer, tls13 ? 18 : 16);
      ck_assert_uint_eq (sizes.cbMaximumMessage, 16384);
      ck_assert_uint_eq (sizes.cBuffers, 4);
      ck_assert_uint_eq (sizes.cbBlockSize, 16);
    }

  /* tls-server-end-point: the hash of the server's certificate (ECDSA with
   * SHA-256: 32 bytes), the same on both sides. */
  cep = query_bindings (&p.cctx, SECPKG_ATTR_ENDPOINT_BINDINGS, "tls-server-end-point");
  sep = query_bindings (&p.sctx, SECPKG_ATTR_ENDPOINT_BINDINGS, "tls-server-end-point");
  ck_assert_uint_eq (g_bytes_get_size (cep), 32);
  ck_assert (g_bytes_equal (cep, sep));

  if (tls13)
    {
      /* RFC 9266: tls-unique is not defined for TLS 1.3. */
      b.Bindings = (SEC_CHANNEL_BINDINGS *) &conn;
      ck_assert_int_eq (QueryContextAttributesA (&p.cctx, SECPKG_ATTR_UNIQUE_BINDINGS, &b),
                        SEC_E_UNSUPPORTED_FUNCTION);
      ck_assert_ptr_null (b.Bindings);
    }
  else
    {
      g_autoptr(GBytes) cu = query_bindings (&p.cctx, SECPKG_ATTR_UNIQUE_BINDINGS,
                                             "tls-unique");
      g_autoptr(GBytes) su = query_bindings (&p.sctx, SECPKG_ATTR_UNIQUE_BINDINGS,
                                             "tls-unique");

      ck_assert_uint_eq (g_bytes_get_size (cu), 12);   /* the Finished verify_data */
      ck_assert (g_bytes_equal (cu, su));
      ck_assert (!g_bytes_equal (cu, cep));
    }
  sync_pair_clear (&p);
}
END_TEST

/* Before the handshake ends there are no record sizes or bindings. */
START_TEST (test_attributes_before_established)
{
  SecBuffer out = { 0, SECBUFFER_TOKEN, NULL };
  SecBufferDesc out_desc = { SECBUFFER_VERSION, 1, &out };
  SecPkgContext_StreamSizes sizes;
  SecPkgContext_Bindings b;
  CredHandle cred;
  CtxtHandle ctx;
  TimeStamp expiry;
  ULONG attrs;

  ck_assert_int_eq (AcquireCredentialsHandleA (NULL, UNISP_NAME_A, SECPKG_CRED_OUTBOUND,
                                               NULL, NULL, NULL, NULL, &cred, &expiry),
                    SEC_E_OK);
  ck_assert_int_eq (InitializeSecurityContextA (&cred, NULL, "localhost",
                                                ISC_FLAGS | ISC_REQ_ALLOCATE_MEMORY, 0, 0,
                                                NULL, 0, &ctx, &out_desc, &attrs, &expiry),
                    SEC_I_CONTINUE_NEEDED);
  FreeContextBuffer (out.pvBuffer);
  ck_assert_int_eq (QueryContextAttributesA (&ctx, SECPKG_ATTR_STREAM_SIZES, &sizes),
                    SEC_E_INVALID_HANDLE);
  ck_assert_int_eq (QueryContextAttributesA (&ctx, SECPKG_ATTR_ENDPOINT_BINDINGS, &b),
                    SEC_E_INVALID_HANDLE);
  ck_assert_int_eq (DeleteSecurityContext (&ctx), SEC_E_OK);
  ck_assert_int_eq (QueryContextAttributesA (&ctx, SECPKG_ATTR_STREAM_SIZES, &sizes),
                    SEC_E_INVALID_HANDLE);
  ck_assert_int_eq (FreeCredentialsHandle (&cred), SEC_E_OK);
}
END_TEST

static void
assert_cert_is (PCCERT_CONTEXT cert, GBytes *der)
{
  ck_assert_uint_eq (cert->dwCertEncodingType, X509_ASN_ENCODING);
  ck_assert_uint_eq (cert->cbCertEncoded, g_bytes_get_size (der));
  ck_assert_mem_eq (cert->pbCertEncoded, g_bytes_get_data (der, NULL), cert->cbCertEncoded);
}

/* SECPKG_ATTR_SSPID_PEER_CHAIN: a server sending leaf + CA gives both, leaf
 * first, as REMOTE_CERT_CONTEXT's leaf; a client certificate shows on the
 * server; no certificate is SEC_E_NO_CREDENTIALS. */
START_TEST (test_peer_chain)
{
  g_autofree char *dir = g_dir_make_tmp ("sspid-chain-XXXXXX", NULL);
  g_autofree char *chain_path = g_build_filename (dir, "chain.pem", NULL);
  g_autofree char *server_pem = tu_pki_path ("server.pem");
  g_autofree char *ca_pem = tu_pki_path ("ca.pem");
  g_autofree char *server_key = tu_pki_path ("server.key");
  g_autofree char *a = NULL, *b = NULL, *chain = NULL, *extra = NULL;
  g_autoptr(GBytes) leaf = tu_pki_cert_der ("server.pem");
  g_autoptr(GBytes) ca = tu_pki_cert_der ("ca.pem");
  g_autoptr(GBytes) client = tu_pki_cert_der ("client.pem");
  SecPkgContext_SspidPeerChain pc;
  PCCERT_CONTEXT cert = NULL;
  SyncPairOptions opts = { .server_credential = "chain" };
  SyncPair p;
  TuEnv *env;

  ck_assert (g_file_get_contents (server_pem, &a, NULL, NULL));
  ck_assert (g_file_get_contents (ca_pem, &b, NULL, NULL));
  chain = g_strconcat (a, b, NULL);
  ck_assert (g_file_set_contents (chain_path, chain, -1, NULL));
  extra = g_strdup_printf ("[credential chain]\ncertificate=%s\nkey=%s\nusage=inbound\n"
                           "users=%u\n", chain_path, server_key, (unsigned) getuid ());
  env = tu_env_start (extra);

  sync_pair_handshake (&p, &opts);
  ck_assert_int_eq (QueryContextAttributesA (&p.cctx, SECPKG_ATTR_SSPID_PEER_CHAIN, &pc),
                    SEC_E_OK);
  ck_assert_uint_eq (pc.cCerts, 2);
  assert_cert_is (pc.rgpCerts[0], leaf);
  assert_cert_is (pc.rgpCerts[1], ca);
  ck_assert_int_eq (QueryContextAttributesA (&p.cctx, SECPKG_ATTR_REMOTE_CERT_CONTEXT,
                                             &cert), SEC_E_OK);
  assert_cert_is (cert, leaf);
  CertFreeCertificateContext (cert);
  ck_assert_int_eq (FreeContextBuffer (pc.rgpCerts), SEC_E_OK);
  pc.rgpCerts = (PCCERT_CONTEXT *) &pc;
  ck_assert_int_eq (QueryContextAttributesW (&p.sctx, SECPKG_ATTR_SSPID_PEER_CHAIN, &pc),
                    SEC_E_NO_CREDENTIALS);
  ck_assert_ptr_null (pc.rgpCerts);
  ck_assert_uint_eq (pc.cCerts, 0);
  sync_pair_clear (&p);

  /* Mutual authentication: the server sees the client's certificate. */
  opts = (SyncPairOptions) { .server_credential = "mtls", .client_credential = "client" };
  sync_pair_handshake (&p, &opts);
  ck_assert_int_eq (QueryContextAttributesA (&p.sctx, SECPKG_ATTR_SSPID_PEER_CHAIN, &pc),
                    SEC_E_OK);
  ck_assert_uint_eq (pc.cCerts, 1);
  assert_cert_is (pc.rgpCerts[0], client);
  FreeContextBuffer (pc.rgpCerts);
  sync_pair_clear (&p);

  tu_env_stop (env);
  g_unlink (chain_path);
  g_rmdir (dir);
}
END_TEST

/* ---- QueryCredentialsAttributes ------------------------------------------- */

static guint32
supported_protocols (CredHandle *cred, gboolean wide)
{
  SecPkgCred_SupportedProtocols sp = { 0xdeadbeef };

  ck_assert_int_eq (wide ? QueryCredentialsAttributesW (cred, SECPKG_ATTR_SUPPORTED_PROTOCOLS, &sp)
                         : QueryCredentialsAttributesA (cred, SECPKG_ATTR_SUPPORTED_PROTOCOLS, &sp),
                    SEC_E_OK);
  return sp.grbitProtocol;
}

static CredHandle
acquire (const char *principal, ULONG use, void *auth)
{
  CredHandle cred;
  TimeStamp expiry;

  ck_assert_int_eq (AcquireCredentialsHandleA ((SEC_CHAR *) principal, UNISP_NAME_A, use,
                                               NULL, auth, NULL, NULL, &cred, &expiry),
                    SEC_E_OK);
  return cred;
}

START_TEST (test_credential_attributes)
{
  SCHANNEL_CRED tls12 = { .dwVersion = SCHANNEL_CRED_VERSION,
                          .grbitEnabledProtocols = SP_PROT_TLS1_2_CLIENT };
  SCHANNEL_CRED tls13 = { .dwVersion = SCHANNEL_CRED_VERSION,
                          .grbitEnabledProtocols = SP_PROT_TLS1_3 };
  SecPkgCred_SupportedProtocols sp;
  SecPkgCredentials_NamesA names = { 0 };
  CredHandle cred, ctx_like;

  cred = acquire (NULL, SECPKG_CRED_OUTBOUND, NULL);
  ck_assert_uint_eq (supported_protocols (&cred, FALSE),
                     SP_PROT_TLS1_2_CLIENT | SP_PROT_TLS1_3_CLIENT);
  ck_assert_uint_eq (supported_protocols (&cred, TRUE),
                     SP_PROT_TLS1_2_CLIENT | SP_PROT_TLS1_3_CLIENT);
  /* An anonymous credential has no name (tests/test-winbeh.c). */
  ck_assert_int_eq (QueryCredentialsAttributesA (&cred, SECPKG_CRED_ATTR_NAMES, &sp),
                    SEC_E_NO_CREDENTIALS);
  /* An attribute of contexts only (SUPPORTED_ALGS, once unsupported, is
   * answered now: tests/test-winbeh.c). */
  ck_assert_int_eq (QueryCredentialsAttributesA (&cred, SECPKG_ATTR_STREAM_SIZES, &sp),
                    SEC_E_UNSUPPORTED_FUNCTION);
  ctx_like = cred;
  ctx_like.dwUpper = (cred.dwUpper & ~(ULONG_PTR) 0xff) | 2;   /* a context's kind */
  ck_assert_int_eq (QueryCredentialsAttributesA (&ctx_like, SECPKG_ATTR_SUPPORTED_PROTOCOLS,
                                                 &sp), SEC_E_INVALID_HANDLE);
  ck_assert_int_eq (FreeCredentialsHandle (&cred), SEC_E_OK);
  ck_assert_int_eq (QueryCredentialsAttributesA (&cred, SECPKG_ATTR_SUPPORTED_PROTOCOLS, &sp),
                    SEC_E_INVALID_HANDLE);

  cred = acquire ("server", SECPKG_CRED_INBOUND, NULL);
  ck_assert_uint_eq (supported_protocols (&cred, FALSE),
                     SP_PROT_TLS1_2_SERVER | SP_PROT_TLS1_3_SERVER);
  FreeCredentialsHandle (&cred);
  cred = acquire ("both", SECPKG_CRED_BOTH, NULL);
  ck_assert_uint_eq (supported_protocols (&cred, FALSE), SP_PROT_TLS1_2 | SP_PROT_TLS1_3);
  ck_assert_int_eq (QueryCredentialsAttributesA (&cred, SECPKG_CRED_ATTR_NAMES, &names), SEC_E_OK);
  ck_assert_str_eq (names.sUserName, "both");
  FreeContextBuffer (names.sUserName);
  FreeCredentialsHandle (&cred);
  /* The library keeps names as long as their credentials, no longer: a
   * GQuark (interned for good) per name grew a process that names many. */
  ck_assert_int_eq (AcquireCredentialsHandleA ((SEC_CHAR *) "no-such-credential-to-intern",
                                               UNISP_NAME_A, SECPKG_CRED_INBOUND, NULL, NULL,
                                               NULL, NULL, &cred, NULL),
                    SEC_E_UNKNOWN_CREDENTIALS);
  ck_assert_uint_eq (g_quark_try_string ("no-such-credential-to-intern"), 0);
  cred = acquire (NULL, SECPKG_CRED_OUTBOUND, &tls12);
  ck_assert_uint_eq (supported_protocols (&cred, FALSE), SP_PROT_TLS1_2_CLIENT);
  FreeCredentialsHandle (&cred);
  /* Either direction's bit turns a version on, for the credential's use. */
  cred = acquire (NULL, SECPKG_CRED_OUTBOUND, &tls13);
  ck_assert_uint_eq (supported_protocols (&cred, TRUE), SP_PROT_TLS1_3_CLIENT);
  FreeCredentialsHandle (&cred);

  /* A credential acquired asynchronously is remembered the same way. */
  ck_assert_int_eq (tp_acquire (NULL, SECPKG_CRED_OUTBOUND, SP_PROT_TLS1_2_CLIENT, 0, &cred),
                    SEC_E_OK);
  ck_assert_uint_eq (supported_protocols (&cred, FALSE), SP_PROT_TLS1_2_CLIENT);
  ck_assert_int_eq (tp_free_credential (&cred), SEC_E_OK);
  ck_assert_int_eq (QueryCredentialsAttributesW (&cred, SECPKG_ATTR_SUPPORTED_PROTOCOLS, &sp),
                    SEC_E_INVALID_HANDLE);
}
END_TEST

/* ---- packages and the function table -------------------------------------- */

START_TEST (test_package_info)
{
  static const char *const names[] = { UNISP_NAME_A, SCHANNEL_NAME_A };
  PSecPkgInfoA a = NULL;
  PSecPkgInfoW w = NULL;
  ULONG n = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      ck_assert_int_eq (QuerySecurityPackageInfoA ((SEC_CHAR *) names[i], &a), SEC_E_OK);
      ck_assert_uint_eq (a->fCapabilities, 0x107b3);
      ck_assert_uint_eq (a->wVersion, 1);
      ck_assert_uint_eq (a->wRPCID, UNISP_RPC_ID);
      ck_assert_uint_eq (a->cbMaxToken, 24576);
      ck_assert_str_eq (a->Name, names[i]);
      ck_assert_str_eq (a->Comment, "Schannel Security Package");
      ck_assert_int_eq (FreeContextBuffer (a), SEC_E_OK);
    }
  ck_assert_int_eq (QuerySecurityPackageInfoA ("schannel", &a), SEC_E_OK);
  ck_assert_str_eq (a->Name, SCHANNEL_NAME_A);
  FreeContextBuffer (a);
  a = (PSecPkgInfoA) &n;
  ck_assert_int_eq (QuerySecurityPackageInfoA ("Kerberos", &a), SEC_E_SECPKG_NOT_FOUND);
  ck_assert_ptr_null (a);

  ck_assert_int_eq (QuerySecurityPackageInfoW (UNISP_NAME_W, &w), SEC_E_OK);
  ck_assert_uint_eq (w->fCapabilities, 0x107b3);
  ck_assert_uint_eq (w->wRPCID, UNISP_RPC_ID);
  ck_assert (wide_equals (w->Name, UNISP_NAME_A));
  ck_assert (wide_equals (w->Comment, "Schannel Security Package"));
  FreeContextBuffer (w);
  ck_assert_int_eq (QuerySecurityPackageInfoW ((WCHAR *) u"NTLM", &w), SEC_E_SECPKG_NOT_FOUND);

  ck_assert_int_eq (EnumerateSecurityPackagesA (&n, &a), SEC_E_OK);
  ck_assert_uint_eq (n, 2);
  for (ULONG i = 0; i < n; i++)
    {
      ck_assert_str_eq (a[i].Name, names[i]);
      ck_assert_uint_eq (a[i].fCapabilities, 0x107b3);
      ck_assert_uint_eq (a[i].cbMaxToken, 24576);
    }
  FreeContextBuffer (a);
  ck_assert_int_eq (EnumerateSecurityPackagesW (&n, &w), SEC_E_OK);
  ck_assert_uint_eq (n, 2);
  ck_assert (wide_equals (w[0].Name, UNISP_NAME_A));
  ck_assert (wide_equals (w[1].Name, SCHANNEL_NAME_A));
  ck_assert (wide_equals (w[1].Comment, "Schannel Security Package"));
  FreeContextBuffer (w);
}
END_TEST

START_TEST (test_function_table)
{
  PSecurityFunctionTableA ta = InitSecurityInterfaceA ();
  PSecurityFunctionTableW tw = InitSecurityInterfaceW ();
  PSecPkgInfoA info = NULL;
  CredHandle cred;
  TimeStamp expiry;

  ck_assert_ptr_nonnull (ta);
  ck_assert_ptr_eq (ta, InitSecurityInterfaceA ());
  ck_assert_uint_eq (ta->dwVersion, SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION);
  ck_assert (ta->EnumerateSecurityPackagesA == EnumerateSecurityPackagesA);
  ck_assert (ta->QueryCredentialsAttributesA == QueryCredentialsAttributesA);
  ck_assert (ta->AcquireCredentialsHandleA == AcquireCredentialsHandleA);
  ck_assert (ta->FreeCredentialsHandle == FreeCredentialsHandle);
  ck_assert (ta->InitializeSecurityContextA == InitializeSecurityContextA);
  ck_assert (ta->AcceptSecurityContext == AcceptSecurityContext);
  ck_assert (ta->DeleteSecurityContext == DeleteSecurityContext);
  ck_assert (ta->ApplyControlToken == ApplyControlToken);
  ck_assert (ta->QueryContextAttributesA == QueryContextAttributesA);
  ck_assert (ta->FreeContextBuffer == FreeContextBuffer);
  ck_assert (ta->QuerySecurityPackageInfoA == QuerySecurityPackageInfoA);
  ck_assert (ta->EncryptMessage == EncryptMessage);
  ck_assert (ta->DecryptMessage == DecryptMessage);
  ck_assert_ptr_null (ta->CompleteAuthToken);
  ck_assert_ptr_null (ta->MakeSignature);
  ck_assert_ptr_null (ta->QueryContextAttributesExA);

  ck_assert_ptr_nonnull (tw);
  ck_assert_uint_eq (tw->dwVersion, SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION);
  ck_assert (tw->EnumerateSecurityPackagesW == EnumerateSecurityPackagesW);
  ck_assert (tw->QueryCredentialsAttributesW == QueryCredentialsAttributesW);
  ck_assert (tw->AcquireCredentialsHandleW == AcquireCredentialsHandleW);
  ck_assert (tw->InitializeSecurityContextW == InitializeSecurityContextW);
  ck_assert (tw->QueryContextAttributesW == QueryContextAttributesW);
  ck_assert (tw->QuerySecurityPackageInfoW == QuerySecurityPackageInfoW);
  ck_assert (tw->EncryptMessage == EncryptMessage);
  ck_assert (tw->DecryptMessage == DecryptMessage);
  ck_assert_ptr_null (tw->ImpersonateSecurityContext);

  /* Used the way Windows code uses it. */
  ck_assert_int_eq (ta->QuerySecurityPackageInfoA (UNISP_NAME_A, &info), SEC_E_OK);
  ck_assert_int_eq (ta->FreeContextBuffer (info), SEC_E_OK);
  ck_assert_int_eq (tw->AcquireCredentialsHandleW (NULL, UNISP_NAME_W, SECPKG_CRED_OUTBOUND,
                                                   NULL, NULL, NULL, NULL, &cred, &expiry),
                    SEC_E_OK);
  ck_assert_int_eq (tw->FreeCredentialsHandle (&cred), SEC_E_OK);
}
END_TEST

/* Names that are not UTF-16 (a lone surrogate) are refused before the
 * daemon is asked, synchronously and asynchronously, with the status the
 * bad name earns: the package first. */
START_TEST (test_acquire_w_bad_utf16)
{
  static const SEC_WCHAR lone_surrogate[] = { 'x', 0xD800, 0 };
  SspiAsyncContext *ac = SspiCreateAsyncContext ();
  CredHandle cred;
  TimeStamp expiry;

  ck_assert_int_eq (AcquireCredentialsHandleW (NULL, (SEC_WCHAR *) lone_surrogate,
                                               SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, NULL,
                                               &cred, &expiry),
                    SEC_E_SECPKG_NOT_FOUND);
  ck_assert_int_eq (AcquireCredentialsHandleW ((SEC_WCHAR *) lone_surrogate, UNISP_NAME_W,
                                               SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, NULL,
                                               &cred, &expiry),
                    SEC_E_UNKNOWN_CREDENTIALS);
  ck_assert_int_eq (AcquireCredentialsHandleW ((SEC_WCHAR *) lone_surrogate,
                                               (SEC_WCHAR *) lone_surrogate,
                                               SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, NULL,
                                               &cred, &expiry),
                    SEC_E_SECPKG_NOT_FOUND);
  ck_assert_ptr_nonnull (ac);
  ck_assert_int_eq (SspiAcquireCredentialsHandleAsyncW (ac, NULL, (SEC_WCHAR *) lone_surrogate,
                                                        SECPKG_CRED_OUTBOUND, NULL, NULL,
                                                        NULL, NULL, &cred, &expiry),
                    SEC_E_SECPKG_NOT_FOUND);
  ck_assert_int_eq (SspiAcquireCredentialsHandleAsyncW (ac, (SEC_WCHAR *) lone_surrogate,
                                                        UNISP_NAME_W, SECPKG_CRED_OUTBOUND,
                                                        NULL, NULL, NULL, NULL, &cred, &expiry),
                    SEC_E_UNKNOWN_CREDENTIALS);
  /* Nothing was queued: the context is still idle. */
  ck_assert_int_eq (SspiGetAsyncCallStatus (ac), SEC_E_OK);
  SspiFreeAsyncContext (ac);
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "marshalling", tu_fixture_setup, tu_fixture_teardown, 60, { { test_sch_credentials_protocols },
                                                                  { test_malformed_alpn_refused } } },
    { "context-attributes", tu_fixture_setup, tu_fixture_teardown, 60, { { test_query_attributes },
                                                                         { test_attributes_by_protocol, 2 },
                                                                         { test_attributes_before_established } } },
    /* Starts its own environment (a credential with a chain). */
    { "peer-chain", NULL, NULL, 60, { { test_peer_chain } } },
    { "credentials-packages", tu_fixture_setup, tu_fixture_teardown, 60, { { test_credential_attributes },
                                                                           { test_package_info },
                                                                           { test_function_table },
                                                                           { test_acquire_w_bad_utf16 } } },
  };

  return tu_run_cases ("client", cases, G_N_ELEMENTS (cases));
}
