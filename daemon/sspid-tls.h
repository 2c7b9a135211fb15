/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The TLS engine: one GnuTLS session driven through Schannel's token
 * interface (bytes in, bytes out).  It knows nothing of D-Bus, so it can be
 * tested and fuzzed on its own.
 *
 * Not thread-safe per session: the caller runs at most one function at a
 * time on a given SspidTls (any thread).  Different sessions are independent.
 */
#pragma once

#include <glib.h>
#include "sspi.h"
#include "sspid-credential.h"
#include "sspid-quic.h"

typedef struct _SspidTls SspidTls;

/* What one handshake step produced. */
typedef struct {
  SECURITY_STATUS status;     /* SEC_E_OK, SEC_I_CONTINUE_NEEDED, SEC_E_INCOMPLETE_MESSAGE, ... */
  GBytes         *token;      /* bytes to send to the peer; never NULL, may be empty */
  guint32         attributes; /* ISC_RET_* or ASC_RET_* */
  gint64          expiry;     /* Unix seconds, 0 if unknown */
  guint32         extra;      /* input bytes not consumed: the tail of the input */
  guint32         missing;    /* with SEC_E_INCOMPLETE_MESSAGE: bytes still needed */
  SspidQuicResult *quic;      /* QUIC mode (sspid-tls-quic.h): new traffic
                               * secrets, the peer's extension; or NULL */
} SspidTlsStep;

void sspid_tls_step_clear (SspidTlsStep *step);

/* A client session for @target_name ("" or NULL: no SNI, no name check)
 * with ISC_REQ_* @context_req and ALPN ids @alpn (NULL or empty: none).
 * Returns SEC_E_OK and the session, or why not. */
SECURITY_STATUS sspid_tls_new_client (SspidCredential *cred,
                                      const char *target_name,
                                      guint32 context_req,
                                      const char *const *alpn,
                                      SspidTls **out);

/* A server session with ASC_REQ_* @context_req, accepting ALPN ids @alpn. */
SECURITY_STATUS sspid_tls_new_server (SspidCredential *cred,
                                      guint32 context_req,
                                      const char *const *alpn,
                                      SspidTls **out);

void sspid_tls_free (SspidTls *tls);

/* SECBUFFER_DTLS_MTU: the largest datagram a DTLS session sends (clamped
 * to 200..65535 bytes as Windows does; 1096 until set).  Nothing on a
 * stream session. */
void sspid_tls_set_mtu (SspidTls *tls, guint mtu);

/* A DTLS server's first datagram (ASC_REQ_DATAGRAM, no context yet),
 * before anything is allocated for it: TRUE if it is a ClientHello with a
 * valid cookie (make the context and step on it).  FALSE otherwise, with
 * *@hello_verify the HelloVerifyRequest datagram to send back (caller
 * must unref it) for a ClientHello without a valid cookie, or NULL when
 * the datagram is no ClientHello.  Costs an HMAC; any thread. */
gboolean sspid_tls_dtls_check_cookie (const guint8 *input, gsize len, GBytes **hello_verify);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SspidTls, sspid_tls_free)

/* One InitializeSecurityContext / AcceptSecurityContext step on @input
 * (the caller's SECBUFFER_TOKEN bytes; may be empty): every whole record
 * the handshake can use is consumed.  On a datagram (DTLS) session @input
 * is one datagram and the token one datagram to send: SEC_I_MESSAGE_FRAGMENT
 * says the next step (with no input) has the next of the flight, and a
 * handshake step with no input otherwise resends the last flight
 * (sspid-tls-dtls.c).  A failed step's token is the alert
 * for the peer when the context asked for extended errors (empty
 * otherwise).  On a session DecryptMessage ended, the status is
 * SEC_I_CONTEXT_EXPIRED and the token, once, the alert owed to the peer.
 * Fills @step; free its contents with sspid_tls_step_clear(). */
void sspid_tls_step (SspidTls *tls, const guint8 *input, gsize input_len,
                     SspidTlsStep *step);

/* What sessions on a credential may negotiate (sspid-tls-algs.c), by
 * GnuTLS's names, each once, for QueryCredentialsAttributes. */
typedef struct {
  GPtrArray *ciphers;        /* char *: "AES-256-GCM", "CHACHA20-POLY1305", ... */
  GPtrArray *hashes;         /* the suites' MACs, or their PRF hashes when
                              * AEAD: "SHA256", "SHA1", ... */
  GPtrArray *key_exchanges;  /* TLS 1.2's ("ECDHE-RSA", "RSA", "DHE-RSA"),
                              * TLS 1.3's by group ("ECDHE", "DHE") */
  GPtrArray *signatures;     /* "RSA", "ECDSA", "EdDSA", "DSA" */
  guint32    min_cipher_bits;   /* key sizes of those ciphers; 0: none */
  guint32    max_cipher_bits;
} SspidTlsAlgorithms;

/* Fills @algs for @cred, the union of its directions' priorities; clear
 * it with sspid_tls_algorithms_clear() whatever this returns.  SEC_E_OK,
 * or SEC_E_ALGORITHM_MISMATCH if GnuTLS refuses a priority. */
SECURITY_STATUS sspid_tls_describe_credential (SspidCredential *cred,
                                               SspidTlsAlgorithms *algs);
void sspid_tls_algorithms_clear (SspidTlsAlgorithms *algs);

gboolean sspid_tls_is_established (SspidTls *tls);
/* "handshake", "established", "failed" or "closed". */
const char *sspid_tls_get_state_name (SspidTls *tls);
/* "client" or "server". */
const char *sspid_tls_get_role_name (SspidTls *tls);

/* Record layer (sspid-tls-record.c), on an established session. */

/* EncryptMessage: protects @len bytes (at most the "max-message" size) as
 * one record in *@record (header, ciphertext, trailer).  SEC_E_OK, or
 * SEC_E_CONTEXT_EXPIRED after close, SEC_E_INVALID_PARAMETER for too much
 * data, SEC_E_OUT_OF_SEQUENCE while a SEC_I_RENEGOTIATE reply is unsent. */
SECURITY_STATUS sspid_tls_encrypt (SspidTls *tls, const guint8 *data, gsize len,
                                   GBytes **record);

/* What one DecryptMessage produced. */
typedef struct {
  SECURITY_STATUS status;     /* SEC_E_OK, SEC_E_INCOMPLETE_MESSAGE, SEC_I_CONTEXT_EXPIRED,
                               * SEC_I_RENEGOTIATE, SEC_E_DECRYPT_FAILURE, ... */
  GBytes         *plaintext;  /* never NULL, may be empty */
  guint32         record_size;/* input bytes of the record that was opened */
  guint32         extra;      /* input bytes after it (the next records) */
  guint32         missing;    /* with SEC_E_INCOMPLETE_MESSAGE */
} SspidTlsDecrypt;

/* DecryptMessage: opens the first record of @input.  Post-handshake
 * messages (TLS 1.3 NewSessionTicket, KeyUpdate) are consumed with an empty
 * plaintext; when they need an answer the status is SEC_I_RENEGOTIATE and
 * the next sspid_tls_step() returns the bytes to send.  A fatal error
 * (bytes that are no record included) ends the session, and the next
 * sspid_tls_step() returns the alert GnuTLS owes the peer for it. */
void sspid_tls_decrypt (SspidTls *tls, const guint8 *input, gsize len,
                        SspidTlsDecrypt *out);
void sspid_tls_decrypt_clear (SspidTlsDecrypt *out);

/* ApplyControlToken: SCHANNEL_SHUTDOWN (close_notify) or SCHANNEL_ALERT
 * (@level GNUTLS_AL_*, @description the TLS alert number); the next
 * sspid_tls_step() returns the alert record to send. */
void sspid_tls_queue_alert (SspidTls *tls, int level, int description);

/* Public facts about a session: what QueryContext, ListContexts and the
 * log line of a finished handshake report (the D-Bus front turns them into
 * the a{sv} of proto/org.sspid1.xml).  Never key material.  Strings not
 * marked owned are static (GnuTLS's names). */
typedef struct {
  const char *state;              /* sspid_tls_get_state_name() */
  const char *role;               /* sspid_tls_get_role_name() */
  char       *credential;         /* owned: its name, "" if anonymous */
  gboolean    is_established;     /* the fields below are set only then */
  guint32     protocol;           /* SP_PROT_* bit of the negotiated version */
  const char *protocol_name;      /* "TLS1.3" */
  const char *cipher;             /* "AES-256-GCM" */
  guint32     cipher_bits;
  const char *mac;                /* AEAD: the suite's hash */
  guint32     mac_bits;
  const char *kx;                 /* "ECDHE", "DHE", "RSA", ... */
  guint32     kx_bits;
  guint32     group;              /* TLS NamedGroup number, 0 if none */
  const char *server_key;         /* "ECDSA", "RSA", "" */
  gboolean    is_aead;
  guint32     cipher_suite;       /* IANA number */
  const char *cipher_suite_name;  /* IANA name, "" if unknown */
  GBytes     *alpn;               /* the selected protocol, or NULL */
  GPtrArray  *peer_certificates;  /* GBytes * DER, leaf first, or NULL */
  GBytes     *tls_unique;         /* channel bindings, NULL when the */
  GBytes     *tls_server_end_point; /* protocol has none */
  GBytes     *tls_exporter;
  gboolean    is_resumed;
  GBytes     *session_id;         /* or NULL */
  guint32     header_size;        /* of a protected record (STREAM_SIZES) */
  guint32     trailer_size;
  guint32     max_message;
  guint32     block_size;
  gint64      expiry;             /* of the peer's certificate, Unix seconds */
} SspidTlsInfo;

/* Caller must free the result with sspid_tls_info_free(). */
SspidTlsInfo *sspid_tls_get_info (SspidTls *tls);
void sspid_tls_info_free (SspidTlsInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SspidTlsInfo, sspid_tls_info_free)

/* Bytes of a protected record before the caller's data, once the session
 * is established (0 before): what EncryptMessage and DecryptMessage
 * report.  Cheaper than the whole sspid_tls_get_info(). */
guint32 sspid_tls_get_header_size (SspidTls *tls);

/* What an audit record says about a session (sspid-audit.h): public facts
 * only.  Strings are owned; sspid_tls_audit_clear() frees them. */
typedef struct {
  char    *protocol;      /* "TLS1.3"; NULL before the handshake is done */
  char    *cipher;        /* "AES-256-GCM" */
  char    *peer_subject;  /* the peer certificate's subject (RFC 4514), or NULL */
  char    *server_name;   /* SNI: asked for (client) or received (server), or NULL */
  gboolean resumed;
} SspidTlsAudit;

void sspid_tls_get_audit (SspidTls *tls, SspidTlsAudit *out);
void sspid_tls_audit_clear (SspidTlsAudit *audit);
