/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One end of a QUIC handshake whose TLS is sspid in QUIC mode, driven
 * through libsspi's synchronous API exactly the way msquic drives Windows
 * Schannel (src/platform/tls_schannel.c): input [TOKEN, EMPTY, EMPTY,
 * FLAGS(ISC_REQ_MESSAGES), APPLICATION_PROTOCOLS, SEND_GENERIC_TLS_EXTENSION,
 * SUBSCRIBE_GENERIC_TLS_EXTENSION], output [TOKEN, EMPTY (alert),
 * SUBSCRIBE_GENERIC_TLS_EXTENSION over the input, TRAFFIC_SECRETS x 4],
 * the call repeated after SEC_I_GENERIC_EXTENSION_RECEIVED.  It keeps what
 * a QUIC stack needs from it: the handshake messages it produced, split by
 * epoch with the secrets' MsgSequenceStart/End as msquic splits them, the
 * traffic secrets of each epoch, and the peer's transport parameters.
 */
#pragma once

#include <glib.h>
#include <sspi.h>
#include <schannel.h>

/* RFC 9001 epochs, as msquic numbers its keys. */
enum { QE_INITIAL, QE_HANDSHAKE, QE_ONE_RTT, QE_N_EPOCHS };

typedef struct {
  gboolean    is_server;
  CredHandle  cred;
  gboolean    has_credential;
  CtxtHandle  ctx;
  gboolean    has_context;
  GBytes     *transport_params;        /* ours */
  GBytes     *peer_transport_params;   /* the peer's, once received */
  GByteArray *inbox;                   /* the peer's messages not yet consumed */
  GByteArray *produced[QE_N_EPOCHS];   /* our messages, by the epoch that protects them */
  gsize       total;                   /* bytes produced so far */
  gsize       epoch_start[QE_N_EPOCHS];/* where each epoch's messages start in that stream */
  int         write_epoch, read_epoch;
  /* The secrets as SEC_TRAFFIC_SECRETS gave them (a copy each, GBytes of
   * the whole struct), by epoch: [epoch][0] ours, [epoch][1] the peer's. */
  GBytes     *secrets[QE_N_EPOCHS][2];
  SECURITY_STATUS status;              /* of the last call */
  gboolean    is_complete;             /* the handshake said SEC_E_OK */
  guint       extension_events;        /* SEC_I_GENERIC_EXTENSION_RECEIVED seen */
} QuicEnd;

/* Acquires @credential (NULL: the anonymous client) for the end's role and
 * sets its transport parameters to @params. */
SECURITY_STATUS quic_end_init (QuicEnd *end, gboolean is_server, const char *credential,
                               const char *params);
void quic_end_clear (QuicEnd *end);

/* Replaces the transport parameters to send (binary, as a QUIC stack
 * encodes them) before the message that carries them is written. */
void quic_end_set_transport_params (QuicEnd *end, GBytes *params);

/* One round as msquic makes it: hands everything in the inbox to ISC/ASC
 * (the client's first round has nothing), repeating after
 * SEC_I_GENERIC_EXTENSION_RECEIVED, and appends what it produced to
 * @peer's inbox (@peer NULL: a QUIC stack takes it from end->produced
 * instead).  Returns the last status (also in end->status). */
SECURITY_STATUS quic_end_process (QuicEnd *end, QuicEnd *peer);

/* Runs both ends until both are done or one fails (asserting progress). */
void quic_end_run_pair (QuicEnd *client, QuicEnd *server);

/* The SEC_TRAFFIC_SECRETS of @epoch, ours (@is_peer FALSE) or the peer's. */
const SEC_TRAFFIC_SECRETS *quic_end_peek_secret (const QuicEnd *end, int epoch, gboolean is_peer);

/* The types of the handshake messages in @stream, in order, as a string
 * of numbers ("2 8 11 15 20"), asserting the messages tile it exactly.
 * Free with g_free(). */
char *quic_end_message_types (const GByteArray *stream);
