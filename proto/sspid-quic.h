/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QUIC mode on the wire: what an InitializeSecurityContext or
 * AcceptSecurityContext call asks for beyond the stream (its "options"
 * dictionary) and what its answer carries besides the token (the step
 * result's "extras" dictionary), as typed C structs with the one encoder
 * and decoder each side uses.  QUIC mode (ISC_REQ_MESSAGES /
 * ASC_REQ_MESSAGES, as msquic passes it in a SECBUFFER_FLAGS buffer) makes
 * the token TLS handshake messages instead of records; the caller sends one
 * extension of its own (the QUIC transport parameters,
 * SECBUFFER_SEND_GENERIC_TLS_EXTENSION), subscribes to the peer's
 * (SECBUFFER_SUBSCRIBE_GENERIC_TLS_EXTENSION), and gets the traffic secrets
 * of each new epoch (SECBUFFER_TRAFFIC_SECRETS), since QUIC protects its
 * packets itself.
 *
 * Decoders take any a{sv} (a caller's bytes are hostile): a key of the
 * wrong type or out of range is ignored, as if absent.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Keys of the options dictionary. */
#define SSPID_QUIC_OPTION_MESSAGES       "messages"        /* b */
#define SSPID_QUIC_OPTION_SEND_EXTENSION "send-extension"  /* (qqay) type, handshake type, data */
#define SSPID_QUIC_OPTION_SUBSCRIBE      "subscribe"       /* (qq) type, handshake type */
/* Keys of the extras dictionary. */
#define SSPID_QUIC_EXTRA_SECRETS         "traffic-secrets" /* a(uusssqqqqay) */
#define SSPID_QUIC_EXTRA_EXTENSION       "extension"       /* ay: type, length, data */

/* The most extension data a TLS extension can carry. */
#define SSPID_QUIC_MAX_EXTENSION_DATA 65535
/* The largest traffic secret (SHA-384's); msquic sizes its buffers for 64. */
#define SSPID_QUIC_MAX_SECRET 64

typedef struct {
  gboolean is_messages;          /* ISC_REQ_MESSAGES / ASC_REQ_MESSAGES */
  gboolean has_extension;        /* SECBUFFER_SEND_GENERIC_TLS_EXTENSION */
  guint16  extension_type;
  guint16  extension_handshake;  /* 1 ClientHello, 8 EncryptedExtensions */
  GBytes  *extension_data;       /* owned */
  gboolean has_subscription;     /* SECBUFFER_SUBSCRIBE_GENERIC_TLS_EXTENSION */
  guint16  subscription_type;
  guint16  subscription_handshake;
} SspidQuicArgs;

/* One SEC_TRAFFIC_SECRETS, its algorithm names as BCrypt spells them. */
typedef struct {
  guint32 type;            /* SecTrafficSecret_Client or _Server */
  guint32 level;           /* 2 handshake, 3 application (RFC 9001 epochs) */
  char   *cipher;          /* "AES", "CHACHA20_POLY1305" */
  char   *chaining_mode;   /* "ChainingModeGCM", "ChainingModeCCM", "" */
  char   *hash;            /* "SHA256", "SHA384" */
  guint16 key_size;
  guint16 iv_size;
  guint16 msg_start;       /* our own secrets: where in this step's token the */
  guint16 msg_end;         /* messages it protects start and end (0, 0 otherwise) */
  GBytes *secret;
} SspidTrafficSecret;

void sspid_traffic_secret_free (SspidTrafficSecret *secret);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SspidTrafficSecret, sspid_traffic_secret_free)

typedef struct {
  GPtrArray *secrets;     /* of SspidTrafficSecret *, or NULL */
  GBytes    *extension;   /* the subscribed extension as on the wire, or NULL */
} SspidQuicResult;

/* Both return a floating a{sv}, empty when there is nothing to say. */
GVariant *sspid_quic_args_encode (const SspidQuicArgs *args);
GVariant *sspid_quic_result_encode (const SspidQuicResult *result);
/* Fill @args / @result from @dict (NULL: nothing); clear them with the
 * matching _clear() whatever they held. */
void sspid_quic_args_decode (GVariant *dict, SspidQuicArgs *args);
void sspid_quic_result_decode (GVariant *dict, SspidQuicResult *result);
void sspid_quic_args_clear (SspidQuicArgs *args);
void sspid_quic_result_clear (SspidQuicResult *result);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SspidQuicResult, sspid_quic_result_clear)

G_END_DECLS
