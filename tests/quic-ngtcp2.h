/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A real QUIC connection for the interop test: two ngtcp2 connections in
 * this process whose packets pass in memory (each packet one
 * ngtcp2_conn_read_pkt of the other), on a virtual clock, so the run is
 * deterministic.  Each end's TLS is either sspid in QUIC mode (libsspi's
 * ISC/ASC with ISC_REQ_MESSAGES, driven msquic's way by tests/quic-end.c;
 * the glue to ngtcp2 is tests/quic-ngtcp2-sspi.[ch]) or GnuTLS through
 * ngtcp2_crypto_gnutls, as an ngtcp2 application would use it.
 *
 * Once both handshakes are done the client opens a bidirectional stream
 * and sends its payload with FIN; the server answers on that stream with
 * its own payload and FIN once it has the client's whole.  Halfway
 * through its payload, the sspid end starts a key update (RFC 9001 6):
 * ngtcp2 derives the next 1-RTT keys from those the secrets gave.
 */
#pragma once

#include <glib.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include "quic-end.h"

typedef enum { QN_TLS_SSPID, QN_TLS_GNUTLS } QnTls;

typedef struct {
  gboolean            is_server;
  QnTls               tls;
  ngtcp2_conn        *conn;              /* the server's: made from the first packet */
  ngtcp2_crypto_conn_ref conn_ref;       /* what ngtcp2_crypto_gnutls asks for the conn */
  struct sockaddr_in  local, remote;
  char               *failure;           /* the first thing that went wrong, for the test */

  /* QN_TLS_GNUTLS: a plain GnuTLS session with this priority, presenting
   * the test PKI's @pki_files .pem/.key (the server always; the client if
   * set), the server requiring a client certificate if @requires_peer_cert. */
  char               *priority;
  char               *pki_files;
  gboolean            requires_peer_cert;
  gnutls_session_t    session;
  gnutls_certificate_credentials_t gnutls_cred;
  gnutls_datum_t      ticket_key;        /* the server's: it sends a session ticket */
  GBytes             *resume_from;       /* the client's: a session to resume */

  /* QN_TLS_SSPID: the credential named in sspid.conf, and the glue's state. */
  char               *credential;
  QuicEnd             sspi;
  gboolean            has_sspi;
  gsize               submitted[QE_N_EPOCHS];    /* of sspi.produced[], given to ngtcp2 */
  gboolean            installed[QE_N_EPOCHS][2]; /* keys from sspi.secrets[][] */
  gboolean            has_peer_params;
  gboolean            is_tls_done;               /* ISC/ASC said SEC_E_OK */
  gsize               crypto_received[QE_N_EPOCHS]; /* CRYPTO bytes ngtcp2 gave, by level */
  guint               crypto_calls[QE_N_EPOCHS];    /* in how many recv_crypto_data calls */
  guint               cut_rounds;                   /* ISC/ASC rounds that left part of a
                                                     * message for the next CRYPTO data */

  /* The application. */
  gboolean            is_handshake_done;         /* ngtcp2's handshake_completed */
  gboolean            is_handshake_confirmed;    /* and handshake_confirmed */
  gboolean            is_key_updated;            /* the sspid end started a 1-RTT key update */
  gsize               sent_at_key_update;        /* of the payload, when it did */
  int64_t             stream_id;                 /* -1 until opened (client) or heard (server) */
  GBytes             *payload;                   /* what this end sends on the stream */
  gsize               sent;
  gboolean            is_fin_sent;
  GByteArray         *received;                  /* what came on the stream */
  gboolean            is_fin_received;
} QnEnd;

/* A client or server end with sspid's TLS on the [credential] @credential
 * of sspid.conf, and the @payload it will send.  The client's connection
 * is made in qn_run(); the server's when the first packet reaches it. */
void qn_end_init_sspid (QnEnd *end, gboolean is_server, const char *credential, GBytes *payload);
/* The same with GnuTLS's (see the fields above). */
void qn_end_init_gnutls (QnEnd *end, gboolean is_server, const char *priority,
                         const char *pki_files, gboolean requires_peer_cert, GBytes *payload);
/* A GnuTLS client's session (gnutls_session_get_data2) once the
 * connection has run, and a new GnuTLS client end that offers it. */
GBytes *qn_end_gnutls_session_data (QnEnd *end);
void qn_end_gnutls_resume (QnEnd *end, GBytes *session_data);
void qn_end_clear (QnEnd *end);

/* Runs the connection until both payloads have arrived whole with their
 * FIN, or fails the test (with each end's failure, if any). */
void qn_run (QnEnd *client, QnEnd *server);

/* Keeps the first failure of @end for the test's message (a callback
 * can only tell ngtcp2 that it failed, not why). */
static inline void G_GNUC_PRINTF (2, 3)
qn_fail (QnEnd *end, const char *format, ...)
{
  va_list ap;

  if (end->failure != NULL)
    return;
  va_start (ap, format);
  end->failure = g_strdup_vprintf (format, ap);
  va_end (ap);
}
