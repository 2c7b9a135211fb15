/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which bus a client finds sspid on: the address in $SSPID_BUS_ADDRESS if
 * it is set and not empty, else the system bus (DESIGN.md, "Client library
 * bus selection").  Written once for libsspi and for sspictl's
 * introspection calls, which open a connection of their own
 * (proto/libsspid-bus.la).
 */
#pragma once

#include <glib.h>

/* Returns the D-Bus address to connect to, or NULL with @error set (no
 * system bus address can be worked out).  @is_from_env, if not NULL, says
 * whether it came from $SSPID_BUS_ADDRESS, for messages.  Caller frees the
 * result with g_free(). */
char *sspid_bus_dup_address (gboolean *is_from_env, GError **error);
