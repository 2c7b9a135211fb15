/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A private key in a PKCS#11 token serves handshakes: the test server key
 * is imported into a fresh SoftHSM2 token (its own softhsm2.conf and token
 * directory, in a temp dir), the daemon is configured with
 * key=pkcs11:...;pin-value=..., and handshakes run through libsspi with
 * the daemon as the server.  A wrong PIN leaves the credential out, with
 * a log line that does not repeat the PIN.
 *
 * Needs softhsm2 (softhsm2-util, with its p11-kit module registration),
 * p11tool and openssl; tools/check installs them.  Missing tools fail the
 * test rather than skip it: a skipped key-isolation test reads as a pass.
 */
#include "config.h"

#include <check.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dbus-raw.h"
#include "softhsm-token.h"
#include "testutil.h"
#include "tls-pair.h"

#define PIN    SOFTHSM_PIN
#define LABEL  SOFTHSM_LABEL

static char *token_dir;    /* temp dir: softhsm2.conf, tokens/ */

static void
make_token (void)
{
  token_dir = softhsm_make_token ();
  /* The daemon inherits our environment (tu_env_start), so it finds the
   * token too. */
  softhsm_use_token (token_dir);
}

/* A credential "NAME" whose key is the token's object @object, with
 * @pin, and whose certificate is the test PKI's @object.pem. */
static char *
credential_config (const char *name, const char *object, const char *pin)
{
  g_autofree char *file = g_strconcat (object, ".pem", NULL);
  g_autofree char *pem = tu_pki_path (file);

  return g_strdup_printf ("[credential %s]\ncertificate=%s\n"
                          "key=pkcs11:token=" LABEL ";object=%s;type=private;pin-value=%s\n"
                          "usage=inbound\nusers=%u\n", name, pem, object, pin,
                          (guint) getuid ());
}

static void
setup (void)
{
  g_autofree char *extra = NULL;

  g_autofree char *ecdsa = NULL, *rsa = NULL;

  make_token ();
  ecdsa = credential_config ("hsm", "server", PIN);
  rsa = credential_config ("hsm-rsa", "rsa", PIN);
  extra = g_strconcat (ecdsa, rsa, NULL);
  tu_fixture_setup_with (extra);
}

/* Alone: once a credential logged in to the token, PKCS#11 considers the
 * whole application logged in and a second PIN is never checked. */
static void
setup_wrong_pin (void)
{
  g_autofree char *extra = NULL;

  make_token ();
  extra = credential_config ("badpin", "server", "9999");
  tu_fixture_setup_with (extra);
}

static void
teardown (void)
{
  tu_fixture_teardown ();
  if (token_dir != NULL)
    tu_remove_tree (token_dir);
  g_clear_pointer (&token_dir, g_free);
}

static void
assert_handshake (const TlsPairResult *r, const char *what)
{
  ck_assert_msg (r->client.status == SEC_E_OK && r->server.status == SEC_E_OK,
                 "%s: client 0x%08x, server 0x%08x", what, (guint32) r->client.status,
                 (guint32) r->server.status);
  ck_assert_msg (r->client.peer_cert != NULL, "%s: no server certificate", what);
}

/* Full handshakes with @credential as the server, in TLS 1.3 and 1.2. */
static void
assert_serves_both_versions (const char *credential)
{
  const guint32 versions[][2] = {
    { SP_PROT_TLS1_3_CLIENT, SP_PROT_TLS1_3_SERVER },
    { SP_PROT_TLS1_2_CLIENT, SP_PROT_TLS1_2_SERVER },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (versions); i++)
    {
      TlsPairOptions opts = { .server_credential = credential,
                              .client_protocols = versions[i][0],
                              .server_protocols = versions[i][1],
                              .client_cred_flags = SCH_CRED_DISABLE_RECONNECTS };
      g_autoptr(TlsPair) pair = tls_pair_run (&opts);

      assert_handshake (tls_pair_peek_result (pair), i == 0 ? "TLS 1.3" : "TLS 1.2");
    }
}

START_TEST (test_pkcs11_key_serves)
{
  g_autoptr(GDBusConnection) conn = connect_bus (tu_fixture_env);
  g_autoptr(GVariant) reply = call_ok (conn, "ListCredentials", NULL, "(aa{sv})");
  g_autoptr(GVariant) entries = g_variant_get_child_value (reply, 0);
  gboolean listed = FALSE;

  for (gsize i = 0; i < g_variant_n_children (entries); i++)
    {
      g_autoptr(GVariant) e = g_variant_get_child_value (entries, i);
      const char *name, *storage;

      if (g_variant_lookup (e, "name", "&s", &name) && g_str_equal (name, "hsm"))
        {
          ck_assert (g_variant_lookup (e, "key-storage", "&s", &storage));
          ck_assert_str_eq (storage, "pkcs11");
          listed = TRUE;
        }
    }
  ck_assert_msg (listed, "credential \"hsm\" did not load");

  /* Both versions sign with the token's key: the CertificateVerify of
   * TLS 1.3, the ServerKeyExchange of TLS 1.2 (ECDHE-ECDSA). */
  assert_serves_both_versions ("hsm");
}
END_TEST

/* An RSA key in the token: TLS 1.3 signs with RSA-PSS (the daemon's key
 * tells GnuTLS the token can, CKM_RSA_PKCS_PSS), TLS 1.2 with ECDHE-RSA. */
START_TEST (test_pkcs11_rsa_key_serves)
{
  assert_serves_both_versions ("hsm-rsa");
}
END_TEST

/* Several at once: the workers share one token session. */
START_TEST (test_pkcs11_concurrent)
{
  enum { N = 16 };
  TlsPairGroup *group = tls_pair_group_new ();
  TlsPair *pairs[N];
  TlsPairOptions opts = { .server_credential = "hsm",
                          .client_cred_flags = SCH_CRED_DISABLE_RECONNECTS, .group = group };

  for (guint i = 0; i < N; i++)
    {
      pairs[i] = tls_pair_new (&opts);
      tls_pair_start (pairs[i]);
    }
  tls_pair_group_open (group);
  ck_assert_msg (tls_pair_group_wait (group, N, 60000), "only %u of %u handshakes finished",
                 tls_pair_group_get_finished (group), N);
  for (guint i = 0; i < N; i++)
    {
      tls_pair_query (pairs[i]);
      assert_handshake (tls_pair_peek_result (pairs[i]), "concurrent");
      tls_pair_free (pairs[i]);
    }
  tls_pair_group_free (group);
}
END_TEST

START_TEST (test_pkcs11_wrong_pin)
{
  g_autoptr(GDBusConnection) conn = connect_bus (tu_fixture_env);
  g_autoptr(GVariant) r = acquire (conn, "badpin", SECPKG_CRED_INBOUND);
  g_autofree char *log = tu_env_daemon_log (tu_fixture_env);

  ck_assert_uint_eq (step_status (r), (guint32) SEC_E_UNKNOWN_CREDENTIALS);
  ck_assert_msg (strstr (log, "credential 'badpin'") != NULL, "no log line for badpin:\n%s",
                 tu_tail (log));
  ck_assert_msg (strstr (log, "pin-value=(hidden)") != NULL, "the URI is not in the log");
  ck_assert_msg (strstr (log, "9999") == NULL && strstr (log, "pin-value=" PIN) == NULL,
                 "a PIN is in the daemon's log:\n%s", tu_tail (log));
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "softhsm2", setup, teardown, 120, { { test_pkcs11_key_serves },
                                          { test_pkcs11_rsa_key_serves },
                                          { test_pkcs11_concurrent } } },
    { "wrong-pin", setup_wrong_pin, teardown, 120, { { test_pkcs11_wrong_pin } } },
  };

  return tu_run_cases ("pkcs11", cases, G_N_ELEMENTS (cases));
}
