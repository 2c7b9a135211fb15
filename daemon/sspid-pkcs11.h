/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Keys on another host: a credential's key=pkcs11:... can live in a token
 * that `p11-kit server` exports over a socket (the HSM machine, or a
 * process of another user), reached through p11-kit's own client module
 * (p11-kit-client.so) instead of a module loaded in the daemon.  Nothing
 * here talks PKCS#11 itself: GnuTLS opens the key through the module as
 * it opens a local token's.
 *
 * p11-kit's client module dials its server once, in C_Initialize, and
 * never again: once the server went away every call fails, even after
 * the server is back.  Finalizing and initializing the module (GnuTLS's
 * instance of it, through p11-kit) dials again.  Every PKCS#11 session
 * opened on the old connection must be closed first, or its handle would
 * name someone else's session on the new one (the new server numbers its
 * sessions from the start again), so whoever holds sessions registers a
 * release function here, and key operations run between
 * sspid_pkcs11_operation_begin() and _end() so that a reconnect waits for
 * the running ones and holds new ones back.
 */
#pragma once

#include <glib.h>

/* Adds p11-kit's client module, connected to @address (p11-kit's form,
 * e.g. "unix:path=/run/p11-kit/pkcs11"), to the tokens GnuTLS searches,
 * beside the modules p11-kit registers.  Once per process: a different
 * address later is refused (the module reads it when it is loaded), so a
 * reload that changes it needs a restart.  Called again with the same
 * address (a reload) while the server has never been reached, it tries
 * to reach it again.  FALSE with @error on failure. */
gboolean sspid_pkcs11_use_remote (const char *address, GError **error);

/* A key operation (opening a key, signing, decrypting) on any token runs
 * between these two; any thread; not nested. */
void sspid_pkcs11_operation_begin (void);
void sspid_pkcs11_operation_end (void);

/* @release closes every PKCS#11 session @data holds; it is called with no
 * key operation running, before the client module reconnects.  Remove
 * @data before it goes. */
typedef void (*SspidPkcs11ReleaseFunc) (gpointer data);
void sspid_pkcs11_add_session_holder (gpointer data, SspidPkcs11ReleaseFunc release);
void sspid_pkcs11_remove_session_holder (gpointer data);

/* After a key operation failed (outside begin/end): at most once a
 * second, waits for the running key operations, has every session holder
 * release its sessions, and (with pkcs11-remote=) makes the client module
 * dial its server again.  TRUE when it did so, and a new try may succeed;
 * FALSE when another try was made less than a second ago. */
gboolean sspid_pkcs11_recover (void);
