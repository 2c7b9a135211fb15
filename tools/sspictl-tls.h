/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the sspictl verbs share: TCP sockets, the Schannel handshake loop
 * driven through libsspi's asynchronous API, the session report, and names
 * for SSPI status codes.  Nothing here ever sees a key: the daemon holds
 * them, sspictl only moves opaque tokens between the socket and libsspi.
 */
#pragma once

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
} SspictlTlsOptions;

/* How the Schannel loop went, for the report. */
typedef struct {
  guint steps;       /* ISC/ASC calls */
  guint incomplete;  /* answers SEC_E_INCOMPLETE_MESSAGE (read more) */
  guint extra;       /* answers with SECBUFFER_EXTRA (call again, no read) */
} SspictlTlsStats;

/* "SEC_E_UNTRUSTED_ROOT", or NULL for a status the table does not know. */
const char *sspictl_status_name (SECURITY_STATUS status);
/* Prints "sspictl: WHAT: NAME (0xVALUE)" on stderr. */
void sspictl_print_status (const char *what, SECURITY_STATUS status);

/* Closes a TCP connection without resetting it: shutdown, drain until the
 * peer closes (2 s at most), close. */
void sspictl_socket_close_gently (GSocket *socket);

/* The exit code for a failed credential acquisition: SEC_E_NO_AUTHENTICATING_AUTHORITY
 * means sspid could not be reached (a hint is printed), anything else that
 * the daemon refused. */
int sspictl_exit_for_acquire (SECURITY_STATUS status);

/* --tls1.2 / --tls1.3 to an SP_PROT_* mask for the given side; 0 if neither. */
guint32 sspictl_protocols_from_flags (gboolean tls12, gboolean tls13,
                                      gboolean is_server);

/* Acquires the credential @opts names, through SspiAcquireCredentialsHandleAsyncA.
 * On SEC_E_OK the caller owns @cred and releases it with
 * sspictl_tls_free_credential(). */
SECURITY_STATUS sspictl_tls_acquire (const SspictlTlsOptions *opts, CredHandle *cred);
void sspictl_tls_free_credential (CredHandle *cred);

/* Runs a whole handshake on @socket with @cred: every step is one
 * Sspi{Initialize,Accept}SecurityContextAsync call, issued after the
 * previous one completed; the socket is read and written on the calling
 * thread.  Returns SSPICTL_EXIT_OK (and the caller owns @ctx: release it
 * with sspictl_tls_delete_context()), SSPICTL_EXIT_HANDSHAKE (and *status
 * says why) or SSPICTL_EXIT_NETWORK (an error was printed).  @ctx may need
 * deleting even on failure: sspictl_tls_delete_context() accepts an
 * invalid handle. */
int sspictl_tls_handshake (GSocket *socket, CredHandle *cred,
                           const SspictlTlsOptions *opts, CtxtHandle *ctx,
                           SECURITY_STATUS *status, SspictlTlsStats *stats);
void sspictl_tls_delete_context (CtxtHandle *ctx);

/* Prints the session report (protocol, cipher, ALPN, peer subject, loop
 * statistics, pid) on stdout, as "field: value" lines or, with @json, as
 * one JSON document. */
void sspictl_tls_print_report (CtxtHandle *ctx, gboolean is_server,
                               const SspictlTlsStats *stats, gboolean json);
/* Reports a failed handshake: "handshake: failed" (or a JSON document)
 * on stdout, the status on stderr. */
void sspictl_tls_print_failure (SECURITY_STATUS status, gboolean is_server, gboolean json);
