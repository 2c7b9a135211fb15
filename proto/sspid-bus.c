/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The client's bus selection (see sspid-bus.h).  An empty variable counts
 * as unset, so `SSPID_BUS_ADDRESS= prog` means the system bus, as a shell
 * user expects.
 */
#include "config.h"

#include <gio/gio.h>

#include "sspid-bus.h"
#include "sspid-proto.h"

char *
sspid_bus_dup_address (gboolean *is_from_env, GError **error)
{
  const char *env = g_getenv (SSPID_BUS_ADDRESS_ENV);
  gboolean from_env = env != NULL && env[0] != '\0';

  if (is_from_env != NULL)
    *is_from_env = from_env;
  if (from_env)
    return g_strdup (env);
  return g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SYSTEM, NULL, error);
}
