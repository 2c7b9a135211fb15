/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sspid.conf: the [daemon] limits and the [credential NAME] sections,
 * parsed and validated once.  Nothing here touches GnuTLS; loading the
 * certificates and keys is sspid-credential.c's job.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

/* Values are SECPKG_CRED_INBOUND/OUTBOUND/BOTH. */
typedef enum {
  SSPID_USAGE_INBOUND  = 1,
  SSPID_USAGE_OUTBOUND = 2,
  SSPID_USAGE_BOTH     = 3,
} SspidUsage;

/* "inbound", "outbound", "both", as usage= writes them; "?" for another
 * value.  Static string. */
const char *sspid_usage_to_string (SspidUsage usage);

/* Whether a server asks the client for a certificate. */
typedef enum {
  SSPID_CLIENT_AUTH_NONE,     /* only if the caller asks (ASC_REQ_MUTUAL_AUTH) */
  SSPID_CLIENT_AUTH_REQUEST,  /* always ask; a client without one still gets in */
  SSPID_CLIENT_AUTH_REQUIRE,  /* always ask; a client without one is refused */
} SspidClientAuth;

/* The client-auth= word of @auth ("none", "request", "require"). */
const char *sspid_client_auth_to_string (SspidClientAuth auth);

/* Who is calling, as the bus told us.  Owned by the caller registry. */
typedef struct {
  uid_t  uid;
  pid_t  pid;
  gid_t *gids;       /* supplementary and primary groups, as known */
  guint  n_gids;
} SspidIdentity;

typedef struct {
  char           *name;          /* the NAME of [credential NAME] */
  char           *certificate;   /* PEM chain, leaf first */
  char           *key;           /* key file path or pkcs11: URI */
  char           *trust;         /* CA bundle for verifying peers; NULL = daemon default */
  char           *ocsp_response; /* DER OCSP response to staple, or NULL */
  guint           max_key_operations; /* a key on a token: handshake steps at once */
  SspidUsage      usage;
  SspidClientAuth client_auth;
  GArray         *uids;          /* uid_t allowed, from users= */
  GArray         *gids;          /* gid_t allowed, from groups= */
  gboolean        allow_everyone;/* users=* */
  gboolean        is_quic_allowed;/* quic=allow: QUIC mode may hand out traffic secrets */
} SspidCredentialConfig;

/* max-key-operations when the config does not set it. */
#define SSPID_DEFAULT_MAX_KEY_OPERATIONS 4
/* max-token-size when the config does not set it. */
#define SSPID_DEFAULT_MAX_TOKEN_SIZE (256 * 1024)

/* What one user and one connection may hold at once ([daemon]
 * max-*-per-*): one struct, which the caller registry takes whole. */
typedef struct {
  guint max_contexts_per_user;
  guint max_contexts_per_connection;
  guint max_credentials_per_user;
  guint max_credentials_per_connection;
  guint max_pending_per_user;
  guint max_pending_per_connection;
} SspidLimits;

typedef struct {
  char   *default_trust;                  /* "system" or a CA bundle path */
  SspidLimits limits;
  guint   max_token_size;                 /* bytes, input and output of a step */
  guint   handshake_timeout_sec;
  gboolean watch_files;                   /* reload when a credential's files change */
  char   *pkcs11_remote;                  /* p11-kit server address, or NULL */
  GPtrArray *credentials;                 /* of SspidCredentialConfig *, owned */
} SspidConfig;

/* Reads @path (e.g. sspid.conf) and then every *.conf of the drop-in
 * directory beside it (sspid.conf.d/) in name order; later files override
 * earlier keys.  A missing @path is an empty config (all
 * defaults), a syntax error or a bad value is an error naming the file,
 * section and key.  Caller frees the result with sspid_config_free(). */
SspidConfig *sspid_config_load (const char *path, GError **error);

/* The same from a string, for tests and fuzzing; @origin names it in errors. */
SspidConfig *sspid_config_load_data (const char *data, gsize length,
                                     const char *origin, GError **error);

void sspid_config_free (SspidConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SspidConfig, sspid_config_free)

/* Borrowed pointer into @config, or NULL. */
const SspidCredentialConfig *sspid_config_peek_credential (const SspidConfig *config,
                                                           const char *name);

/* Whether @who is listed in users= or groups= of @cred. */
gboolean sspid_credential_config_allows (const SspidCredentialConfig *cred,
                                         const SspidIdentity *who);
