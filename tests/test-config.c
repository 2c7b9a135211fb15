/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sspid.conf parsing: defaults, every kind of bad value named precisely,
 * drop-in directories, access lists, and the key-file permission rule of
 * the credential store.
 */
#include "config.h"

#include <check.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sspid-config.h"
#include "sspid-credential.h"
#include "testutil.h"

static SspidConfig *
parse (const char *text, GError **error)
{
  return sspid_config_load_data (text, strlen (text), "test.conf", error);
}

START_TEST (test_defaults)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SspidConfig) c = parse ("", &error);

  ck_assert_ptr_nonnull (c);
  ck_assert_str_eq (c->default_trust, "system");
  ck_assert_uint_eq (c->limits.max_contexts_per_user, 4096);
  ck_assert_uint_eq (c->handshake_timeout_sec, 60);
  ck_assert_uint_gt (c->max_token_size, 16384);
  ck_assert_uint_eq (c->credentials->len, 0);
}
END_TEST

START_TEST (test_credential)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SspidConfig) c = parse ("[daemon]\nmax-contexts-per-user=7\nhandshake-timeout-sec=5\n"
                                     "[credential web]\ncertificate=/a.pem\nkey=/a.key\n"
                                     "usage=both\nusers=root;12345\ngroups=0\nclient-auth=require\n", &error);
  const SspidCredentialConfig *web;
  gid_t root_gid = 0;
  SspidIdentity root = { .uid = 0 }, other = { .uid = 999 }, in_group = { .uid = 999, .gids = &root_gid, .n_gids = 1 },
                listed = { .uid = 12345 };

  ck_assert_msg (c != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (c->limits.max_contexts_per_user, 7);
  ck_assert_uint_eq (c->handshake_timeout_sec, 5);
  web = sspid_config_peek_credential (c, "web");
  ck_assert_ptr_nonnull (web);
  ck_assert_ptr_null (sspid_config_peek_credential (c, "nope"));
  ck_assert_str_eq (web->certificate, "/a.pem");
  ck_assert_int_eq (web->usage, SSPID_USAGE_BOTH);
  ck_assert_int_eq (web->client_auth, SSPID_CLIENT_AUTH_REQUIRE);
  ck_assert (sspid_credential_config_allows (web, &root));
  ck_assert (sspid_credential_config_allows (web, &listed));
  ck_assert (sspid_credential_config_allows (web, &in_group));
  ck_assert (!sspid_credential_config_allows (web, &other));
}
END_TEST

/* Each broken config is refused with a message naming what is wrong. */
START_TEST (test_errors)
{
  static const struct { const char *text; const char *mention; } cases[] = {
    { "[daemon]\nmax-contexts-per-user=-1\n", "max-contexts-per-user" },
    { "[daemon]\nmax-contexts-per-user=lots\n", "max-contexts-per-user" },
    { "[daemon]\nmax-token-size=0\n", "max-token-size" },
    { "[daemon]\nfrobnicate=1\n", "frobnicate" },
    { "[credentail web]\ncertificate=/a\nkey=/b\n", "credentail web" },
    { "[credential web]\nkey=/b\n", "certificate" },
    { "[credential web]\ncertificate=/a\nkey=/b\nusage=sideways\n", "usage" },
    { "[credential web]\ncertificate=/a\nkey=/b\nclient-auth=maybe\n", "client-auth" },
    { "[credential web]\ncertificate=/a\nkey=/b\nusers=no-such-user-sspid\n", "no-such-user-sspid" },
    { "[credential web]\ncertificate=/a\nkey=/b\ngroups=no-such-group-sspid\n", "no-such-group-sspid" },
    { "[credential web]\ncertificate=/a\nkey=/b\nkye=/c\n", "kye" },
    { "[credential  ]\ncertificate=/a\nkey=/b\n", "name" },
    { "not a key file", "test.conf" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SspidConfig) c = parse (cases[i].text, &error);

      ck_assert_msg (c == NULL, "case %zu accepted", i);
      ck_assert_ptr_nonnull (error);
      ck_assert_msg (strstr (error->message, cases[i].mention) != NULL,
                     "case %zu: '%s' does not mention '%s'", i, error->message, cases[i].mention);
      ck_assert_msg (strstr (error->message, "test.conf") != NULL, "case %zu: no file name in '%s'", i, error->message);
    }
}
END_TEST

START_TEST (test_dropins)
{
  g_autofree char *dir = g_dir_make_tmp ("sspid-conf-XXXXXX", NULL);
  g_autofree char *main_conf = g_build_filename (dir, "sspid.conf", NULL);
  g_autofree char *dropin_dir = g_build_filename (dir, "sspid.conf.d", NULL);
  g_autofree char *a = g_build_filename (dropin_dir, "10-a.conf", NULL);
  g_autofree char *b = g_build_filename (dropin_dir, "20-b.conf", NULL);
  g_autofree char *ignored = g_build_filename (dropin_dir, "30-c.conf.disabled", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (SspidConfig) c = NULL;

  ck_assert (g_file_set_contents (main_conf, "[daemon]\nmax-token-size=1000\nhandshake-timeout-sec=9\n", -1, NULL));
  ck_assert_int_eq (g_mkdir (dropin_dir, 0700), 0);
  ck_assert (g_file_set_contents (a, "[daemon]\nmax-token-size=2000\n[credential x]\ncertificate=/x\nkey=/y\n", -1, NULL));
  ck_assert (g_file_set_contents (b, "[daemon]\nmax-token-size=3000\n", -1, NULL));
  ck_assert (g_file_set_contents (ignored, "[daemon]\nmax-token-size=4000\n", -1, NULL));

  c = sspid_config_load (main_conf, &error);
  ck_assert_msg (c != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (c->max_token_size, 3000);          /* last drop-in wins */
  ck_assert_uint_eq (c->handshake_timeout_sec, 9);      /* untouched key stays */
  ck_assert_ptr_nonnull (sspid_config_peek_credential (c, "x"));

  /* A broken drop-in names itself. */
  ck_assert (g_file_set_contents (b, "[daemon]\nmax-token-size=x\n", -1, NULL));
  g_clear_pointer (&c, sspid_config_free);
  g_clear_error (&error);
  c = sspid_config_load (main_conf, &error);
  ck_assert_ptr_null (c);
  ck_assert_msg (strstr (error->message, "max-token-size") != NULL, "%s", error->message);

  g_unlink (a);
  g_unlink (b);
  g_unlink (ignored);
  g_rmdir (dropin_dir);
  g_unlink (main_conf);
  g_rmdir (dir);
}
END_TEST

/* A key file that others may read is refused; the other credentials of the
 * same config still load. */
START_TEST (test_world_readable_key_refused)
{
  g_autofree char *dir = g_dir_make_tmp ("sspid-key-XXXXXX", NULL);
  g_autofree char *pem = tu_pki_path ("server.pem");
  g_autofree char *key = tu_pki_path ("server.key");
  g_autofree char *open_key = g_build_filename (dir, "open.key", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *text = NULL;
  g_autoptr (SspidConfig) c = NULL;
  g_autoptr (SspidCredentialStore) store = NULL;
  g_autoptr (SspidCredential) cred = NULL;
  SspidIdentity me = { .uid = getuid () };
  gsize len;

  ck_assert (g_file_get_contents (key, &contents, &len, NULL));
  ck_assert (g_file_set_contents (open_key, contents, (gssize) len, NULL));
  ck_assert_int_eq (g_chmod (open_key, 0644), 0);
  text = g_strdup_printf ("[credential open]\ncertificate=%s\nkey=%s\nusers=*\n"
                          "[credential closed]\ncertificate=%s\nkey=%s\nusers=*\n",
                          pem, open_key, pem, key);
  c = parse (text, NULL);
  ck_assert_ptr_nonnull (c);
  store = sspid_credential_store_new (c);
  ck_assert_int_eq (sspid_credential_store_acquire (store, "open", SECPKG_CRED_INBOUND, 0, 0, &me, &cred),
                    SEC_E_UNKNOWN_CREDENTIALS);
  ck_assert_int_eq (sspid_credential_store_acquire (store, "closed", SECPKG_CRED_INBOUND, 0, 0, &me, &cred),
                    SEC_E_OK);
  g_unlink (open_key);
  g_rmdir (dir);
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "parse", NULL, NULL, 0, { { test_defaults }, { test_credential }, { test_errors },
                                { test_dropins }, { test_world_readable_key_refused } } },
  };

  return tu_run_cases ("config", cases, G_N_ELEMENTS (cases));
}
