/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The table that ties each SspidError code to its org.sspid1.Error.* name,
 * registered with GDBus (as udisks and realmd register theirs), so both
 * directions of the mapping are GLib's and no side compares names.
 */
#include "config.h"

#include <gio/gio.h>

#include "sspid-error.h"
#include "sspid-proto.h"

static const GDBusErrorEntry error_entries[] = {
  { SSPID_ERROR_INVALID_ARGS, SSPID_ERROR_NAME_INVALID_ARGS },
  { SSPID_ERROR_ACCESS_DENIED, SSPID_ERROR_NAME_ACCESS_DENIED },
  { SSPID_ERROR_LIMIT_EXCEEDED, SSPID_ERROR_NAME_LIMIT_EXCEEDED },
  { SSPID_ERROR_INTERNAL, SSPID_ERROR_NAME_INTERNAL },
};

/* A code added to the enum without a name would go on the wire as
 * org.gtk.GDBus.UnmappedGError.*. */
G_STATIC_ASSERT (G_N_ELEMENTS (error_entries) == SSPID_ERROR_N_ERRORS);

GQuark
sspid_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("sspid-error-quark", &quark, error_entries,
                                      G_N_ELEMENTS (error_entries));
  return (GQuark) quark;
}
