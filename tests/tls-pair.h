/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An in-process TLS client and server talking to each other through
 * libsspi's asynchronous API over an in-memory transport (no sockets).
 *
 * Each side is a small state machine: every handshake step is an
 * Sspi{Initialize,Accept}SecurityContextAsync call issued from the notify
 * callback of the step before it (its own, or the peer's when the peer's
 * output is what it was waiting for).  Output tokens go to the other side's
 * inbox; a side reads from its inbox in pieces of at most `chunk` bytes, so
 * with a small chunk SEC_E_INCOMPLETE_MESSAGE / SECBUFFER_MISSING and
 * SECBUFFER_EXTRA paths run just as they do over a real network.
 *
 * Also: waited-for single calls (acquire, one ISC/ASC step) for tests that
 * drive a handshake by hand.
 */
#pragma once

#include <glib.h>
#include <sspi.h>
#include <schannel.h>

typedef struct _TlsPair TlsPair;
typedef struct _TlsPairGroup TlsPairGroup;

typedef struct {
  const char        *server_credential;  /* NULL: "server" */
  const char        *client_credential;  /* NULL: anonymous client */
  const char        *target;             /* NULL: "localhost"; "": no target name */
  guint32            client_protocols;   /* SP_PROT_* (grbitEnabledProtocols), 0: default */
  guint32            server_protocols;
  guint32            client_cred_flags;  /* SCH_CRED_* */
  const char *const *client_alpn;        /* NULL-terminated, NULL: no ALPN buffer */
  const char *const *server_alpn;
  ULONG              client_req;         /* ISC_REQ_* added to the defaults */
  ULONG              server_req;         /* ASC_REQ_* added to the defaults */
  gsize              chunk;              /* bytes per read; 0: whatever is there */
  gsize              output_size;        /* >0: caller-supplied output buffers of this
                                          * size instead of ALLOCATE_MEMORY */
  gboolean           continue_anonymously; /* on SEC_I_INCOMPLETE_CREDENTIALS (else stop) */
  CredHandle        *client_cred;        /* pre-acquired and shared; NULL: acquire */
  CredHandle        *server_cred;
  TlsPairGroup      *group;              /* NULL: a pair of its own */
} TlsPairOptions;

/* What one side saw. */
typedef struct {
  SECURITY_STATUS status;        /* last result: SEC_E_OK, or why it stopped */
  gboolean        is_stalled;    /* stopped waiting for bytes that never came */
  gboolean        is_queue_failure; /* status is a queueing failure */
  ULONG           attributes;    /* *pfContextAttr of the last step */
  guint           calls;         /* async calls queued */
  guint           callbacks;     /* notify callbacks received */
  guint           stray_callbacks; /* callbacks with no call in flight */
  guint           extra_seen;    /* steps that returned SECBUFFER_EXTRA */
  guint           missing_seen;  /* steps that returned SEC_E_INCOMPLETE_MESSAGE */
  gboolean        saw_incomplete_credentials;
  gboolean        context_changed; /* *phNewContext differed on a continue */
  gboolean        allocation_wrong; /* an allocated token without *_RET_ALLOCATED_MEMORY,
                                     * or FreeContextBuffer failed */
  guint           tokens_sent;
  gsize           bytes_sent;
  /* Filled by tls_pair_query() after a successful handshake. */
  DWORD           protocol;      /* SecPkgContext_ConnectionInfo.dwProtocol */
  char           *alpn;          /* negotiated id, NULL if none */
  GBytes         *peer_cert;     /* the peer's certificate (DER), NULL if none */
} TlsPairSide;

typedef struct {
  TlsPairSide client;
  TlsPairSide server;
} TlsPairResult;

/* Makes a pair (acquiring credentials unless @opts gives them; failures to
 * acquire show up as the side's status).  @opts and what it points to must
 * outlive the pair.  Free with tls_pair_free(). */
TlsPair *tls_pair_new (const TlsPairOptions *opts);
/* Queues the client's first step.  The server starts when the ClientHello
 * arrives (and, in a group, once the group is opened). */
void tls_pair_start (TlsPair *pair);
/* Waits until both sides have stopped; FALSE on timeout. */
gboolean tls_pair_wait (TlsPair *pair, guint timeout_ms);
/* After a successful handshake: reads protocol, ALPN and peer certificate of
 * each side into the result with QueryContextAttributes. */
void tls_pair_query (TlsPair *pair);
/* Borrowed; valid until tls_pair_free(). */
const TlsPairResult *tls_pair_peek_result (TlsPair *pair);
CtxtHandle *tls_pair_peek_context (TlsPair *pair, gboolean server);
/* Deletes both contexts (SspiDeleteSecurityContextAsync, no callback) and
 * frees credentials the pair acquired.  Only once tls_pair_wait() said done. */
void tls_pair_free (TlsPair *pair);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TlsPair, tls_pair_free)

/* new + start + wait (aborting on timeout) + query.  Free with tls_pair_free(). */
TlsPair *tls_pair_run (const TlsPairOptions *opts);

/* A group holds every server back until tls_pair_group_open(), so that all
 * handshakes of the group are in flight before any can complete. */
TlsPairGroup *tls_pair_group_new (void);
void tls_pair_group_open (TlsPairGroup *group);
guint tls_pair_group_get_finished (TlsPairGroup *group);
/* Waits until @n pairs of the group have finished; FALSE on timeout. */
gboolean tls_pair_group_wait (TlsPairGroup *group, guint n, guint timeout_ms);
void tls_pair_group_free (TlsPairGroup *group);

/* ---- single calls through the async API, waited for --------------------- */

/* SspiAcquireCredentialsHandleAsyncA with a SCHANNEL_CRED.  Returns the
 * queueing failure or the call's result. */
SECURITY_STATUS tp_acquire (const char *principal, ULONG use, guint32 protocols,
                            guint32 flags, CredHandle *cred);
/* SspiFreeCredentialsHandleAsync, waited for. */
SECURITY_STATUS tp_free_credential (CredHandle *cred);
/* One SspiInitializeSecurityContextAsyncA step, waited for.  *queued is set to
 * whether the call was queued (if @queued is non-NULL). */
SECURITY_STATUS tp_isc (CredHandle *cred, CtxtHandle *ctx, const char *target,
                        ULONG req, SecBufferDesc *in, CtxtHandle *new_ctx,
                        SecBufferDesc *out, ULONG *attrs, gboolean *queued);
/* One SspiAcceptSecurityContextAsync step, waited for. */
SECURITY_STATUS tp_asc (CredHandle *cred, CtxtHandle *ctx, SecBufferDesc *in,
                        ULONG req, CtxtHandle *new_ctx, SecBufferDesc *out,
                        ULONG *attrs, gboolean *queued);
/* SspiDeleteSecurityContextAsync without a callback. */
void tp_delete_context (CtxtHandle *ctx);

/* The SEC_APPLICATION_PROTOCOLS structure for @ids (ALPN). */
GBytes *tp_alpn_buffer (const char *const *ids);
/* Default request flags of the pair's sides. */
#define TP_CLIENT_REQ (ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | \
                       ISC_REQ_CONFIDENTIALITY | ISC_REQ_STREAM)
#define TP_SERVER_REQ (ASC_REQ_SEQUENCE_DETECT | ASC_REQ_REPLAY_DETECT | \
                       ASC_REQ_CONFIDENTIALITY | ASC_REQ_STREAM)
