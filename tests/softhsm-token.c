/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A SoftHSM2 token for the PKCS#11 tests (see softhsm-token.h).
 */
#include "config.h"

#include <check.h>
#include <glib/gstdio.h>
#include <string.h>

#include "softhsm-token.h"
#include "testutil.h"

void
softhsm_require_program (const char *name, const char *package)
{
  g_autofree char *path = g_find_program_in_path (name);

  ck_assert_msg (path != NULL, "%s not found: install %s (tools/check does) to test "
                 "PKCS#11 keys", name, package);
}

char *
softhsm_run (const char *const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL, *err = NULL;
  int status;

  ck_assert_msg (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                               &out, &err, &status, &error),
                 "cannot run %s: %s", argv[0], error->message);
  ck_assert_msg (g_spawn_check_wait_status (status, NULL), "%s %s failed:\n%s%s", argv[0],
                 argv[1], out, err);
  return g_strconcat (out, err, NULL);
}

char *
softhsm_conf_path (const char *dir)
{
  return g_build_filename (dir, "softhsm2.conf", NULL);
}

char *
softhsm_make_token (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *conf = NULL, *tokens = NULL, *conf_text = NULL, *p8 = NULL;
  g_autofree char *key = tu_pki_path ("server.key");
  g_autofree char *rsa_key = tu_pki_path ("rsa.key");
  g_autofree char *saved = g_strdup (g_getenv ("SOFTHSM2_CONF"));
  char *dir;

  softhsm_require_program ("softhsm2-util", "softhsm2");
  softhsm_require_program ("p11tool", "gnutls-bin");
  softhsm_require_program ("openssl", "openssl");

  dir = g_dir_make_tmp ("sspid-pkcs11-XXXXXX", &error);
  ck_assert_msg (dir != NULL, "%s", error != NULL ? error->message : "?");
  conf = softhsm_conf_path (dir);
  tokens = g_build_filename (dir, "tokens", NULL);
  p8 = g_build_filename (dir, "server.p8", NULL);
  ck_assert_int_eq (g_mkdir (tokens, 0700), 0);
  conf_text = g_strdup_printf ("directories.tokendir = %s\nobjectstore.backend = file\n"
                               "log.level = ERROR\n", tokens);
  ck_assert (g_file_set_contents (conf, conf_text, -1, NULL));
  /* softhsm2-util finds the token directory through the environment. */
  g_setenv ("SOFTHSM2_CONF", conf, TRUE);
  g_free (softhsm_run ((const char *const[]) { "softhsm2-util", "--init-token", "--free",
                                               "--label", SOFTHSM_LABEL, "--pin", SOFTHSM_PIN,
                                               "--so-pin", SOFTHSM_SO_PIN, NULL }));
  /* softhsm2-util imports unencrypted PKCS#8 only. */
  g_free (softhsm_run ((const char *const[]) { "openssl", "pkcs8", "-topk8", "-nocrypt", "-in",
                                               key, "-out", p8, NULL }));
  g_free (softhsm_run ((const char *const[]) { "softhsm2-util", "--import", p8, "--token",
                                               SOFTHSM_LABEL, "--label", "server", "--id", "01",
                                               "--pin", SOFTHSM_PIN, NULL }));
  g_unlink (p8);
  g_free (softhsm_run ((const char *const[]) { "openssl", "pkcs8", "-topk8", "-nocrypt", "-in",
                                               rsa_key, "-out", p8, NULL }));
  g_free (softhsm_run ((const char *const[]) { "softhsm2-util", "--import", p8, "--token",
                                               SOFTHSM_LABEL, "--label", "rsa", "--id", "02",
                                               "--pin", SOFTHSM_PIN, NULL }));
  g_unlink (p8);
  if (saved != NULL)
    g_setenv ("SOFTHSM2_CONF", saved, TRUE);
  else
    g_unsetenv ("SOFTHSM2_CONF");
  return dir;
}

void
softhsm_use_token (const char *dir)
{
  g_autofree char *conf = softhsm_conf_path (dir);
  g_autofree char *listing = NULL;

  g_setenv ("SOFTHSM2_CONF", conf, TRUE);
  /* GnuTLS reaches the token through p11-kit: it must be visible there. */
  listing = softhsm_run ((const char *const[]) { "p11tool", "--list-tokens", NULL });
  ck_assert_msg (strstr (listing, "token=" SOFTHSM_LABEL) != NULL,
                 "p11-kit does not see the SoftHSM2 token (is softhsm2's p11-kit module "
                 "registered? Debian: /usr/share/p11-kit/modules/softhsm2.module):\n%s", listing);
}
