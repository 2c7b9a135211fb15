/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Keys on another host: a credential's key=pkcs11:... can live in a token
 * that `p11-kit server` exports over a socket (the HSM machine, or a
 * process of another user), reached through p11-kit's own client module
 * (p11-kit-client.so) instead of a module loaded in the daemon.  Nothing
 * here talks PKCS#11 itself: GnuTLS opens the key through the module as
 * it opens a local token's.
 */
#pragma once

#include <glib.h>

/* Adds p11-kit's client module, connected to @address (p11-kit's form,
 * e.g. "unix:path=/run/p11-kit/pkcs11"), to the tokens GnuTLS searches,
 * beside the modules p11-kit registers.  Once per process: a different
 * address later is refused (the module reads it when it is loaded), so a
 * reload that changes it needs a restart.  FALSE with @error on failure. */
gboolean sspid_pkcs11_use_remote (const char *address, GError **error);
