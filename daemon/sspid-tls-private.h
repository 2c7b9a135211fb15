/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine's session state, shared by the handshake (sspid-tls.c) and the
 * record layer (sspid-tls-record.c).  Nothing outside the engine includes it.
 */
#pragma once

#include <gnutls/gnutls.h>
#include "sspid-tls.h"

#define RECORD_HEADER_SIZE 5
/* RFC 8446 5.2 / RFC 5246 6.2.3: the largest record a peer may send. */
#define RECORD_MAX_BODY    (16384 + 2048)

/* QUIC mode's state (sspid-tls-quic.c); NULL on a stream session. */
typedef struct _SspidTlsQuic SspidTlsQuic;

typedef enum {
  STATE_HANDSHAKE,
  STATE_ESTABLISHED,
  STATE_FAILED,
} TlsState;

struct _SspidTls {
  gnutls_session_t  session;
  SspidCredential  *cred;
  gboolean          is_server;
  guint32           context_req;
  TlsState          state;
  SECURITY_STATUS   failure;         /* with STATE_FAILED */
  gboolean          started;         /* first gnutls_handshake() call made */
  char             *target_name;     /* NULL: no name check */
  char             *cache_target;    /* client: key of the resumption cache */
  gboolean          manual_validation;
  SECURITY_STATUS   verify_failure;  /* why our verify callback refused */

  /* Transport, valid during one step. */
  const guint8     *in;
  gsize             in_limit;        /* end of the whole records GnuTLS may read */
  gsize             in_pos;
  GByteArray       *out;
  gint64            expiry;          /* peer_expiry(), once established */
  gboolean          expiry_known;

  /* SEC_I_INCOMPLETE_CREDENTIALS: what the step produced is held back until
   * the caller calls again (Schannel does not consume the input then, so
   * callers pass the same bytes again; we skip them). */
  gboolean          incomplete_creds_reported;
  GBytes           *held_token;
  SECURITY_STATUS   held_status;
  GBytes           *held_input;

  /* ApplyControlToken: an alert for the next step to send (close_notify
   * for SCHANNEL_SHUTDOWN); alert_pending says whether there is one. */
  gboolean          alert_pending;
  int               alert_level;
  int               alert_description;
  gboolean          closed;          /* close_notify sent or received, or
                                      * broken */
  gboolean          broken;          /* a fatal error in DecryptMessage ended
                                      * the session: nothing more either way
                                      * but the alert it owes the peer */
  gboolean          key_update_requested; /* the peer's KeyUpdate asked for ours */

  /* TLS 1.2 renegotiation (sspid-tls-reneg.c): asked for by the peer, run
   * by the next ISC/ASC steps on the established session. */
  gboolean          renegotiating;
  gboolean          reneg_started;   /* its first step was made */

  SspidTlsQuic     *quic;            /* QUIC mode, or NULL */
  /* DTLS (sspid-tls-dtls.c): ISC_REQ_DATAGRAM / ASC_REQ_DATAGRAM. */
  gboolean          is_datagram;
  guint             mtu;             /* bytes of a datagram we send */
  GArray           *datagram_ends;   /* guint: where each push ended in out */
  GQueue            fragments;       /* GBytes *: datagrams of this flight
                                      * not handed out yet */
  SECURITY_STATUS   flight_status;   /* the step's status, for the last one */
  gboolean          retransmit_due;  /* a step without input: the caller's
                                      * timer says resend the last flight */
  guint64           max_opened;      /* epoch and sequence number of the
                                      * newest record DecryptMessage opened */
};

/* The parsed GnuTLS priority @text (kept for the life of the process, do
 * not free), or NULL with GnuTLS's error in *@ret and where in *@err_pos. */
gnutls_priority_t sspid_tls_lookup_priority (const char *text, const char **err_pos, int *ret);
/* Frames @input into whole records; 0 or a GnuTLS error (see sspid-tls.c). */
int sspid_tls_frame_records (const guint8 *input, gsize len,
                             gsize *whole, guint32 *missing);
/* Writes the alert GnuTLS owes the peer for @err into the output. */
void sspid_tls_write_alert_for (SspidTls *tls, int err);
GBytes *sspid_tls_take_output (SspidTls *tls);
/* Client resumption, per mode (sspid-tls-resume.c): offers the saved
 * session at the first step; saves the session when there is one to
 * save. */
void sspid_tls_resume_saved (SspidTls *tls);
void sspid_tls_remember_session (SspidTls *tls);


/* QUIC mode (sspid-tls-quic.c): a step of a session in QUIC mode, which
 * takes and gives handshake messages instead of records. */
void sspid_tls_quic_step (SspidTls *tls, const guint8 *input, gsize input_len,
                          SspidTlsStep *step);
void sspid_tls_quic_free (SspidTlsQuic *quic);

/* DTLS (sspid-tls-dtls.c). */

#define DTLS_RECORD_HEADER_SIZE 13
/* SECBUFFER_DTLS_MTU's default on Windows, and its range. */
#define DTLS_DEFAULT_MTU        1096
#define DTLS_MIN_MTU            200
#define DTLS_MAX_MTU            65535

/* Makes a new session (GNUTLS_DATAGRAM) a DTLS one: transport, MTU,
 * retransmission driven by the caller's steps. */
void sspid_tls_dtls_setup (SspidTls *tls);
/* Called as a handshake step starts.  FALSE when the step is answered
 * already (a server's first datagram without a valid cookie: the
 * HelloVerifyRequest, or not a ClientHello at all). */
gboolean sspid_tls_dtls_begin_step (SspidTls *tls, const guint8 *input, gsize input_len,
                                    SspidTlsStep *step);
/* Puts what GnuTLS wrote in this step into @step, a datagram per token:
 * the first now, the others by the next steps (SEC_I_MESSAGE_FRAGMENT). */
void sspid_tls_dtls_take_flight (SspidTls *tls, SspidTlsStep *step);
/* If datagrams of the last flight wait, hands out the next one and
 * returns TRUE. */
gboolean sspid_tls_dtls_next_fragment (SspidTls *tls, gsize input_len, SspidTlsStep *step);
/* DecryptMessage of one DTLS record (the first of @input). */
void sspid_tls_dtls_decrypt (SspidTls *tls, const guint8 *input, gsize len,
                             SspidTlsDecrypt *out);
/* The most plaintext one record (one datagram) may carry. */
guint32 sspid_tls_dtls_max_message (SspidTls *tls);

/* Renegotiation (sspid-tls-reneg.c).  DecryptMessage met GNUTLS_E_REHANDSHAKE:
 * note it (TLS 1.2 and older) and return the status for the caller,
 * SEC_I_RENEGOTIATE. */
SECURITY_STATUS sspid_tls_renegotiation_requested (SspidTls *tls);
/* Whether the next ISC/ASC step continues a renegotiation. */
gboolean sspid_tls_is_renegotiating (SspidTls *tls);
/* Called as a step starts: TRUE for a renegotiation's first step, which
 * may run with no input (the peer's request was consumed already). */
gboolean sspid_tls_reneg_start_step (SspidTls *tls);
/* Of the @whole bytes of records at @input, how many the handshake may
 * read: during a renegotiation, those before the first application data
 * record. */
gsize sspid_tls_reneg_handshake_bytes (SspidTls *tls, const guint8 *input, gsize whole);
/* The renegotiation's handshake finished. */
void sspid_tls_renegotiation_done (SspidTls *tls);
