/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: sspid.conf.  The input is a configuration file as
 * sspid_config_load_data() reads it; whatever it accepts must be
 * consistent (every credential named, found by its name, usable in the
 * policy check).
 */
#include "config.h"

#include <unistd.h>

#include "fuzz-common.h"
#include "sspid-config.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_logging ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SspidConfig) config = NULL;
  gid_t gids[] = { getgid (), 0 };
  SspidIdentity who = { .uid = getuid (), .pid = getpid (), .gids = gids, .n_gids = 2 };

  config = sspid_config_load_data ((const char *) data, size, "fuzz", &error);
  if (config == NULL)
    {
      FUZZ_CHECK (error != NULL && error->message != NULL);
      return 0;
    }
  FUZZ_CHECK (error == NULL);
  FUZZ_CHECK (config->credentials != NULL);
  for (guint i = 0; i < config->credentials->len; i++)
    {
      const SspidCredentialConfig *cred = g_ptr_array_index (config->credentials, i);

      FUZZ_CHECK (cred->name != NULL);
      FUZZ_CHECK (sspid_config_peek_credential (config, cred->name) != NULL);
      FUZZ_CHECK (cred->usage >= SSPID_USAGE_INBOUND && cred->usage <= SSPID_USAGE_BOTH);
      (void) sspid_credential_config_allows (cred, &who);
    }
  return 0;
}
