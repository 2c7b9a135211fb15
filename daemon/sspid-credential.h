/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Credentials: the configured certificates and keys loaded into GnuTLS
 * (a store, built from the config), and the credentials callers acquire
 * from it (what a credential handle points to).
 */
#pragma once

#include <glib.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include "sspi.h"
#include "sspid-config.h"

#include <sys/stat.h>

typedef struct _SspidCredentialStore SspidCredentialStore;

/* The key-file rule, shared by the daemon and `sspictl check-config`: what
 * is wrong with a key file of status @st for a daemon running as
 * @daemon_uid (0 = none: nothing is wrong). */
typedef enum {
  SSPID_KEY_FILE_READABLE_BY_OTHERS = 1 << 0,  /* group or others have any access */
  SSPID_KEY_FILE_FOREIGN_OWNER      = 1 << 1,  /* owned by neither root nor the daemon */
} SspidKeyFileProblems;

SspidKeyFileProblems sspid_key_file_problems (const struct stat *st, uid_t daemon_uid);

/* A key reference as logs and sspictl show it: a pkcs11: URI loses its
 * pin-value (the daemon and `sspictl check-config` use this one rule). */
char *sspid_key_for_log (const char *key);
typedef struct _SspidCredential SspidCredential;

/* Loads every [credential] of @config.  key= is a PEM file or a pkcs11: URI
 * (RFC 7512; a PIN comes from its pin-value or pin-source attribute, since
 * a daemon cannot prompt).  One that cannot be loaded (missing file, key
 * readable by others, key not matching the certificate, token absent or
 * PIN wrong) is logged and left out; the others still serve.  The store keeps its own copy of
 * what it needs from @config.  Free with sspid_credential_store_free(). */
SspidCredentialStore *sspid_credential_store_new (const SspidConfig *config);
/* The same for a reload: a configured credential that no longer loads
 * but did in @previous keeps @previous's certificate and key (with a
 * warning); @previous is left as it is. */
SspidCredentialStore *sspid_credential_store_reload (const SspidConfig *config,
                                                     SspidCredentialStore *previous);

/* What goes wrong while a store loads: about [credential @credential], or
 * the default trust when @credential is NULL; @setting is the key of the
 * config at fault (certificate, key, trust); @is_fatal when it leaves the
 * credential out.  @message names the file at fault. */
typedef void (*SspidCredentialProblemFunc) (const char *credential, const char *setting,
                                            gboolean is_fatal, const char *message,
                                            gpointer user_data);

/* sspid_credential_store_new() as a daemon running as @daemon_uid would
 * load it (the key-file rule is checked for that uid), telling each
 * problem to @problem instead of the log: sspid --check-config's view of
 * the store. */
SspidCredentialStore *sspid_credential_store_load (const SspidConfig *config, uid_t daemon_uid,
                                                   SspidCredentialProblemFunc problem,
                                                   gpointer user_data);
void sspid_credential_store_free (SspidCredentialStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SspidCredentialStore, sspid_credential_store_free)

/* Names of the credentials that loaded, for diagnostics. */
GStrv sspid_credential_store_dup_names (SspidCredentialStore *store);
/* How many configured credentials loaded. */
guint sspid_credential_store_get_n_loaded (SspidCredentialStore *store);

/* What ListCredentials tells of a configured credential: public facts of
 * its certificate and configuration, never key material.  The D-Bus front
 * turns it into the a{sv} of proto/org.sspid1.xml. */
typedef struct {
  const char     *name;
  SspidUsage      usage;
  char           *subject;      /* RFC 4514; NULL if there is no certificate */
  char           *issuer;
  gint64          not_before;   /* Unix seconds, 0 if unknown */
  gint64          not_after;
  char           *key_type;     /* "ECDSA P-256", "RSA 2048"; NULL if unknown */
  gboolean        is_pkcs11;    /* the key is on a token, not in a file */
  SspidClientAuth client_auth;
} SspidCredentialInfo;

/* ListCredentials: the configured credentials @who may acquire (the rule of
 * sspid_credential_store_acquire(), so nothing else is revealed), sorted by
 * name.  Returns an array of borrowed SspidCredentialInfo *, valid while
 * @store lives; free the array with g_ptr_array_unref(). */
GPtrArray *sspid_credential_store_list (SspidCredentialStore *store,
                                        const SspidIdentity  *who);

/* How much a configured credential has been used since it was loaded. */
typedef struct {
  char   *name;
  guint64 handshakes_done;
  guint64 handshakes_failed;
} SspidCredentialUse;
/* The use of each configured credential @who may acquire (root: every
 * one), sorted by name.  Free with g_array_unref(). */
GArray *sspid_credential_store_get_use (SspidCredentialStore *store, const SspidIdentity *who);

/* The subject DN (RFC 4514 string) of the DER certificate @der, or NULL if
 * it does not parse.  Free with g_free(). */
char *sspid_certificate_dup_subject (const guint8 *der, gsize len);
/* The subject (or @issuer) DN of @crt as RFC 4514 writes it, the one
 * order the daemon shows names in; "" if it has none.  Free with g_free(). */
char *sspid_certificate_dup_dn (gnutls_x509_crt_t crt, gboolean issuer);

/* AcquireCredentialsHandle.  @principal "" or NULL asks for an anonymous
 * outbound credential.  @use is SECPKG_CRED_*; @enabled_protocols an SP_PROT_*
 * mask (0 = default); @flags SCH_CRED_*.  Returns SEC_E_OK and a new
 * reference in @out, or the SSPI status saying why not: an unknown name and
 * a name @who may not use give the same SEC_E_UNKNOWN_CREDENTIALS.
 * Thread-safe. */
SECURITY_STATUS sspid_credential_store_acquire (SspidCredentialStore *store,
                                                const char *principal,
                                                guint32 use,
                                                guint32 enabled_protocols,
                                                guint32 flags,
                                                const SspidIdentity *who,
                                                SspidCredential **out);

SspidCredential *sspid_credential_ref (SspidCredential *cred);
void sspid_credential_unref (SspidCredential *cred);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SspidCredential, sspid_credential_unref)

/* Borrowed. */
const char *sspid_credential_peek_name (SspidCredential *cred);  /* "" if anonymous */
/* Counts a handshake on @cred that ended, @done or failed (main thread);
 * the store reports the counts per configured credential (GetStatus). */
void sspid_credential_count_handshake (SspidCredential *cred, gboolean done);
/* For a key on a token (a remote key service may be slow or stalled): an
 * identity shared by every handle of the configured credential, and how
 * many of its handshake steps may run at once (max-key-operations); NULL
 * for a key file. */
gpointer sspid_credential_peek_key_slot (SspidCredential *cred, guint *max_operations);
guint32 sspid_credential_get_use (SspidCredential *cred);        /* SECPKG_CRED_* */
/* quic=allow in its [credential]: QUIC mode may hand the caller the
 * session's traffic secrets.  Never for the anonymous client. */
gboolean sspid_credential_is_quic_allowed (SspidCredential *cred);
guint32 sspid_credential_get_flags (SspidCredential *cred);      /* SCH_CRED_* */
SspidClientAuth sspid_credential_get_client_auth (SspidCredential *cred);
/* Whether there is a certificate to present (FALSE for the anonymous client). */
gboolean sspid_credential_has_certificate (SspidCredential *cred);
/* Expiry of the certificate, Unix seconds; 0 if there is none. */
gint64 sspid_credential_get_expiry (SspidCredential *cred);
/* GnuTLS priority string for the protocols enabled in one direction
 * (@is_server: inbound), or NULL when none is (or the credential is not
 * usable that way). */
const char *sspid_credential_peek_priority (SspidCredential *cred, gboolean is_server);
/* The same for datagram (DTLS) contexts: NULL when the credential's
 * protocol mask enables no DTLS version in that direction. */
const char *sspid_credential_peek_dtls_priority (SspidCredential *cred, gboolean is_server);
/* Session resumption.  Server: the ticket master key, or NULL when
 * reconnects are disabled (SCH_CRED_DISABLE_RECONNECTS).  Client: a cache
 * of resumable sessions per (acquiring uid, credential, mode, target name),
 * the mode a fixed name ("stream", "datagram", "quic"); take
 * returns a new reference (and forgets it: tickets are single-use) or NULL;
 * store keeps a copy of @data.  Session data holds the session's secret (a
 * TLS 1.2 master secret, a TLS 1.3 resumption secret): its bytes are wiped
 * when the last reference goes. */
const gnutls_datum_t *sspid_credential_peek_ticket_key (SspidCredential *cred);
GBytes *sspid_credential_take_session (SspidCredential *cred, const char *mode,
                                       const char *target);
void sspid_credential_store_session (SspidCredential *cred, const char *mode,
                                     const char *target, const gnutls_datum_t *data);
/* Server: TLS 1.2 session-ID resumption (GnuTLS's session database), per
 * credential, bounded like the client cache and wiped the same way.
 * lookup returns a new reference or NULL. */
void sspid_credential_store_server_session (SspidCredential *cred, const guint8 *id, gsize id_len,
                                            const guint8 *data, gsize len);
GBytes *sspid_credential_lookup_server_session (SspidCredential *cred, const guint8 *id,
                                                gsize id_len);
void sspid_credential_forget_server_session (SspidCredential *cred, const guint8 *id,
                                             gsize id_len);

/* Borrowed GnuTLS credentials (certificate, key, trust), shared by sessions. */
gnutls_certificate_credentials_t sspid_credential_peek_gnutls (SspidCredential *cred);
