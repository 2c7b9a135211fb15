/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The org.sspid1.Error domain: the D-Bus errors of the contract as a GError
 * domain registered with GDBus, so the daemon answers with
 * g_dbus_method_invocation_return_error (invocation, SSPID_ERROR, code, ...)
 * and libsspi reads the code back from the GError of a reply, with the
 * names on the wire (SSPID_ERROR_NAME_* in sspid-proto.h) written once in
 * the table of sspid-error.c.  The daemon answers most refusals with an
 * SSPI status, not an error: these are for messages that cannot be served
 * at all (proto/org.sspid1.xml says which).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Registers the domain on first use: evaluate it before a reply is turned
 * into a GError, or the error arrives unmapped (G_IO_ERROR_DBUS_ERROR). */
#define SSPID_ERROR (sspid_error_quark ())

typedef enum {
  SSPID_ERROR_INVALID_ARGS,     /* the message is malformed */
  SSPID_ERROR_ACCESS_DENIED,    /* the caller could not be identified */
  SSPID_ERROR_LIMIT_EXCEEDED,   /* a per-user or per-connection limit */
  SSPID_ERROR_INTERNAL,         /* the daemon failed (or is stopping) */
  SSPID_ERROR_N_ERRORS          /* not an error: the size of the table */
} SspidError;

GQuark sspid_error_quark (void);

G_END_DECLS
