/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The test PKI's credential store for the engine tests (engine-store.h).
 */
#include "config.h"

#include <check.h>
#include <unistd.h>

#include "engine-store.h"
#include "sspid-config.h"
#include "testutil.h"

GString *
es_config_new (void)
{
  g_autofree char *ca = tu_pki_path ("ca.pem");
  GString *conf = g_string_new (NULL);

  g_string_append_printf (conf, "[daemon]\ndefault-trust=%s\n", ca);
  return conf;
}

void
es_config_add (GString *conf, const char *name, const char *files, const char *usage,
               const char *extra)
{
  g_autofree char *pem = g_strdup_printf ("%s.pem", files);
  g_autofree char *key = g_strdup_printf ("%s.key", files);
  g_autofree char *pem_path = tu_pki_path (pem);
  g_autofree char *key_path = tu_pki_path (key);

  g_string_append_printf (conf, "[credential %s]\ncertificate=%s\nkey=%s\nusage=%s\n%susers=%u\n",
                          name, pem_path, key_path, usage, extra, (unsigned) getuid ());
}

SspidCredentialStore *es_store;
SspidIdentity         es_me;

void
es_setup (const GString *conf)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SspidConfig) config = sspid_config_load_data (conf->str, conf->len, "test", &error);

  ck_assert_msg (config != NULL, "%s", error ? error->message : "?");
  es_store = sspid_credential_store_new (config);
  es_me.uid = getuid ();
  es_me.pid = getpid ();
}

void
es_teardown (void)
{
  g_clear_pointer (&es_store, sspid_credential_store_free);
}
