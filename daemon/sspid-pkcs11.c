/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * p11-kit's remoting for keys on another host (see sspid-pkcs11.h).
 */
#include "config.h"

#include <gio/gio.h>
#include <gnutls/pkcs11.h>
#include <stdlib.h>

#include "sspid-pkcs11.h"

/* configure.ac sets it from p11-kit's pkg-config; builds outside autotools
 * (tools/fuzz) never load the module. */
#ifndef SSPID_PKCS11_MODULE_DIR
#define SSPID_PKCS11_MODULE_DIR "/usr/lib/pkcs11"
#endif
#define CLIENT_MODULE SSPID_PKCS11_MODULE_DIR "/p11-kit-client.so"

gboolean
sspid_pkcs11_use_remote (const char *address, GError **error)
{
  static char *loaded;   /* the address the module was loaded with */
  int ret;

  if (loaded != NULL)
    {
      if (g_str_equal (loaded, address))
        return TRUE;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "pkcs11-remote changed from %s to %s: restart sspid to use it", loaded,
                   address);
      return FALSE;
    }
  /* The registered modules first (a local token stays usable), then the
   * client module, which reads its server's address from the
   * environment when it is initialised. */
  ret = gnutls_pkcs11_init (GNUTLS_PKCS11_FLAG_AUTO, NULL);
  if (ret < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "PKCS#11 initialisation: %s",
                   gnutls_strerror (ret));
      return FALSE;
    }
  g_setenv ("P11_KIT_SERVER_ADDRESS", address, TRUE);
  ret = gnutls_pkcs11_add_provider (CLIENT_MODULE, NULL);
  if (ret < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "cannot load p11-kit's client module %s for %s: %s", CLIENT_MODULE,
                   address, gnutls_strerror (ret));
      return FALSE;
    }
  loaded = g_strdup (address);
  g_message ("keys on PKCS#11 tokens are also looked for at %s (p11-kit server)", address);
  return TRUE;
}
