/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the sspictl verbs share: sockets (TCP, or UDP for --dtls), the
 * Schannel handshake loop driven through libsspi's asynchronous API
 * (sspictl-tls.c: a stream's and a datagram context's), the session
 * report (sspictl-report.c), and names for SSPI status codes.  Nothing
 * here ever sees a key: the daemon holds them, sspictl only moves opaque
 * tokens between the socket and libsspi.
 */
#pragma once

#include <stdio.h>
#include <gio/gio.h>
#include <sspi.h>
#include <schannel.h>

#include "sspictl.h"

typedef struct {
  gboolean           is_server;
  const char        *credential;  /* [credential NAME]; NULL: anonymous client */
  const char        *target;      /* client: SNI and name check; NULL: none */
  const char *const *alpn;        /* NULL-terminated ids, or NULL for no ALPN */
  guint32            protocols;   /* SP_PROT_* mask; 0 leaves the daemon's default */
  ULONG              context_req; /* ISC_REQ_* / ASC_REQ_* added to the defaults */
  gsize              read_size;   /* bytes per socket read; 0: what is there */
  gboolean           is_datagram; /* DTLS on a connected UDP socket: a token is
                                   * one datagram, and so is a record */
  guint16            mtu;         /* SECBUFFER_DTLS_MTU; 0: the daemon's default */
} SspictlTlsOptions;

/* How the Schannel loop went, for the report. */
typedef struct {
  guint steps;       /* ISC/ASC calls */
  guint incomplete;  /* answers SEC_E_INCOMPLETE_MESSAGE (read more) */
  guint extra;       /* answers with SECBUFFER_EXTRA (call again, no read) */
  guint retransmits; /* datagram: steps with no input after the peer was silent */
  gboolean is_refused; /* datagram: the kernel said nothing listens at the
                        * peer's port (ICMP), which ended the handshake */
} SspictlTlsStats;

/* "SEC_E_UNTRUSTED_ROOT", or NULL for a status the table does not know. */
const char *sspictl_status_name (SECURITY_STATUS status);
/* Prints "sspictl: WHAT: NAME (0xVALUE)" on stderr. */
void sspictl_print_status (const char *what, SECURITY_STATUS status);

/* Closes a TCP connection without resetting it: shutdown, drain until the
 * peer closes (2 s at most), close.  A UDP socket is just closed. */
void sspictl_socket_close_gently (GSocket *socket);
/* Sends all of @data.  On failure prints why (unless @is_quiet) and
 * returns FALSE. */
gboolean sspictl_socket_send_all (GSocket *socket, const guint8 *data, gsize len,
                                  gboolean is_quiet);

/* The options connect and serve both take, kept in one struct (the
 * first member of each verb's own) so that both check them, free them and
 * turn them into SspictlTlsOptions the same way. */
typedef struct {
  char     *credential;  /* --credential NAME */
  char    **alpn;        /* --alpn ID, repeated */
  gboolean  tls12;       /* --tls1.2 */
  gboolean  tls13;       /* --tls1.3 */
  int       read_size;   /* --read-size BYTES */
  gboolean  dtls;        /* --dtls: DTLS 1.2 over UDP */
  int       mtu;         /* --mtu BYTES (with --dtls) */
  gboolean  json;        /* --json */
} SspictlTlsArgs;

/* Adds to @context the options both verbs take the same way, into @args:
 * --tls1.2, --tls1.3, --read-size, --dtls, --mtu (the verb adds its own,
 * --credential, --alpn and --json among them, whose help differs). */
void sspictl_tls_args_add_entries (GOptionContext *context, SspictlTlsArgs *args);
/* Frees what @args owns (credential, alpn). */
void sspictl_tls_args_clear (SspictlTlsArgs *args);
/* The checks both verbs make at the same point: --read-size not
 * negative, not both --tls1.2 and --tls1.3, --dtls with neither of them
 * nor --read-size (a datagram is read whole), --mtu only with --dtls.
 * Prints why ("sspictl @verb: ...") and returns FALSE on a usage error. */
gboolean sspictl_tls_args_check (const SspictlTlsArgs *args, const char *verb);
/* Sets @opts from @args for the given side; the caller adds what only
 * its side has (target, context_req).  @opts borrows @args' strings. */
void sspictl_tls_options_init (SspictlTlsOptions *opts, const SspictlTlsArgs *args,
                               gboolean is_server);

/* --tls1.2 / --tls1.3 to an SP_PROT_* mask for the given side; 0 if neither. */
guint32 sspictl_protocols_from_flags (gboolean tls12, gboolean tls13,
                                      gboolean is_server);

/* Acquires the credential @opts names, through SspiAcquireCredentialsHandleAsyncA.
 * On SEC_E_OK the caller owns @cred and releases it with
 * sspictl_tls_free_credential(). */
SECURITY_STATUS sspictl_tls_acquire (const SspictlTlsOptions *opts, CredHandle *cred);
/* sspictl_tls_acquire() as connect and serve need it: on failure prints why
 * and returns the verb's exit code (SSPICTL_EXIT_UNREACHABLE, with a hint,
 * if sspid could not be reached (SEC_E_NO_AUTHENTICATING_AUTHORITY);
 * SSPICTL_EXIT_FAILED if it refused).  On SSPICTL_EXIT_OK the caller owns
 * @cred as with sspictl_tls_acquire(). */
int sspictl_tls_acquire_for_verb (const SspictlTlsOptions *opts, CredHandle *cred);
void sspictl_tls_free_credential (CredHandle *cred);

/* Runs a whole handshake on @socket with @cred: every step is one
 * Sspi{Initialize,Accept}SecurityContextAsync call, issued after the
 * previous one completed; the socket is read and written on the calling
 * thread.  With @opts->is_datagram, @socket is a connected UDP socket and
 * the loop is DTLS's: a datagram in per step, one out per output token
 * (after SEC_I_MESSAGE_FRAGMENT the next comes from a call with no input),
 * and the retransmission timer is ours, as on Windows: when the peer
 * stays silent, a step with no input resends the last flight.  Returns SSPICTL_EXIT_OK (and the caller owns @ctx: release it
 * with sspictl_tls_delete_context()), SSPICTL_EXIT_HANDSHAKE (and *status
 * says why) or SSPICTL_EXIT_NETWORK (an error was printed).  @ctx may need
 * deleting even on failure: sspictl_tls_delete_context() accepts an
 * invalid handle.  If @leftover is not NULL, the bytes that arrived behind
 * the handshake (the SECBUFFER_EXTRA of the last step: TLS 1.3 session
 * tickets from a server, a client's first application data) are appended
 * to it; they are records for DecryptMessage and must not be dropped. */
int sspictl_tls_handshake (GSocket *socket, CredHandle *cred,
                           const SspictlTlsOptions *opts, CtxtHandle *ctx,
                           SECURITY_STATUS *status, SspictlTlsStats *stats,
                           GByteArray *leftover);
void sspictl_tls_delete_context (CtxtHandle *ctx);

/* ---- the report (sspictl-report.c) ------------------------------------ */

/* What moved after the handshake (connect --get/--stdin, serve
 * --echo/--http), for the report.  Filled by the stream (sspictl-stream.h). */
typedef struct {
  guint64     bytes_sent;
  guint64     bytes_received;
  guint       records_sent;
  guint       records_received;
  guint       empty_records;     /* received with no data: TLS 1.3 session tickets */
  guint       renegotiations;    /* SEC_I_RENEGOTIATE answered (TLS 1.3 KeyUpdate) */
  guint       dropped;           /* datagram: records that did not open, dropped */
  guint       flights_resent;    /* datagram: our last flight again, for the peer's */
  const char *end;               /* "close_notify", "eof" (none), "error"; static */
  gboolean    sent_close_notify;
  char       *http_line;         /* connect: the status line; serve: the request line */
  GBytes     *body;              /* connect --get: the response body (JSON only) */
} SspictlTlsExchange;

/* Frees what the exchange owns (http_line, body). */
void sspictl_tls_exchange_clear (SspictlTlsExchange *exchange);

/* The session report: what QueryContextAttributes says of an established
 * context (protocol, cipher, ALPN, resumed, peer subject), collected once
 * so it can be printed after the context has been closed. */
typedef struct _SspictlTlsReport SspictlTlsReport;

/* Collects the report of @ctx.  Free with sspictl_tls_report_free(). */
SspictlTlsReport *sspictl_tls_report_new (CtxtHandle *ctx, gboolean is_server,
                                          const SspictlTlsStats *stats);
void sspictl_tls_report_free (SspictlTlsReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SspictlTlsReport, sspictl_tls_report_free)

/* Borrowed strings of the report; alpn and peer may be NULL. */
const char *sspictl_tls_report_peek_protocol (const SspictlTlsReport *report);
const char *sspictl_tls_report_peek_cipher (const SspictlTlsReport *report);
const char *sspictl_tls_report_peek_alpn (const SspictlTlsReport *report);
const char *sspictl_tls_report_peek_peer (const SspictlTlsReport *report);
/* SECPKG_ATTR_SESSION_INFO said SSL_SESSION_RECONNECT: an abbreviated
 * (resumed) handshake. */
gboolean sspictl_tls_report_is_resumed (const SspictlTlsReport *report);

/* Prints the report on @out (stdout, or stderr when stdout carries data)
 * as "field: value" lines, followed by the exchange's lines if @exchange
 * is not NULL; with @json, as one JSON document with the exchange as the
 * member "exchange". */
void sspictl_tls_report_print (const SspictlTlsReport *report,
                               const SspictlTlsExchange *exchange,
                               gboolean json, FILE *out);
/* Only the exchange's "field: value" lines, for a text report printed
 * before the data moved. */
void sspictl_tls_exchange_print (const SspictlTlsExchange *exchange, FILE *out);

/* The report of a connection that carries data (connect --get/--stdin,
 * serve --echo/--http), in two halves around the data, so that both verbs
 * print the same thing in the same order: the text report before the data
 * moves (it is known already, and --stdin's user sees it at once), then
 * the exchange's lines; with @json nothing before and, after, one document
 * with the exchange in it. */
void sspictl_tls_report_print_before_data (const SspictlTlsReport *report, gboolean json,
                                           FILE *out);
void sspictl_tls_report_print_after_data (const SspictlTlsReport *report,
                                          const SspictlTlsExchange *exchange,
                                          gboolean json, FILE *out);

/* Reports a failed handshake: "handshake: failed" (or a JSON document)
 * on stdout, the status on stderr. */
void sspictl_tls_print_failure (SECURITY_STATUS status, gboolean is_server, gboolean json);
