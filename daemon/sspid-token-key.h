/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A private key in a PKCS#11 token that outlives the connection to its
 * token: GnuTLS's own key object, opened from the pkcs11: URI, sits
 * behind a key of ours (gnutls_privkey_import_ext4) that the credential
 * holds.  Ours opens GnuTLS's when it is first needed, lets it go when
 * the token's module must reconnect (sspid-pkcs11.h: its sessions die
 * with the connection) and opens it again on the next use.  So a
 * credential, and every handle and session holding it, goes on through
 * the key service going away and coming back.
 *
 * A failure of the key is logged once ("its key failed") and its return
 * once ("its key service is back").  Once the key has failed, each use
 * asks sspid_pkcs11_recover() to reconnect (at most once a second) and
 * then tries again, so the first handshake after the service returns
 * already succeeds.
 */
#pragma once

#include <gnutls/abstract.h>

/* Opens the key at @uri (a pkcs11: URI, its PIN in it: never logged) for
 * the credential named @credential (in log lines), whose certificate has
 * the public key @public.  Returns 0 and a new key in @out (free it with
 * gnutls_privkey_deinit(), or hand it to gnutls_certificate_set_key()),
 * or GnuTLS's error for opening it. */
int sspid_token_key_open (const char *uri, const char *credential, gnutls_pubkey_t public,
                          gnutls_privkey_t *out);
