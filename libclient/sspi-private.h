/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internals of libsspi shared by its source files: the session with the
 * daemon, which owns the table of queued calls and their completion
 * (sspi-connection.c), and the handles and request/answer marshalling
 * common to the async and sync APIs (sspi-marshal.c).  Calls go one way:
 * the API files (async, sync, record, query, package) call the session and
 * marshalling, the session calls marshalling and its transport, and the
 * session reaches the async API only through the functions it was given
 * with each call.  Nothing here is exported from the library.
 *
 * Locking: one process-wide mutex (sspi_lock/sspi_unlock) protects the
 * current session, its pending-call table and every async context's state;
 * the handle generation advances under it (with the session) but is read
 * atomically, without it.  It is only ever held for short, non-blocking
 * sections; D-Bus round trips and user callbacks always run without it.
 */
#pragma once

#include <gio/gio.h>

#include "sspi.h"
#include "schannel.h"
#include "sspid-args.h"
#include "sspid-method.h"
#include "sspid-proto.h"
#include "sspid-quic.h"
#include "sspid-results.h"

/* The library is built with -fvisibility=hidden; public entry points are
 * marked with this (and listed in libsspi.sym). */
#define SSPI_PUBLIC __attribute__ ((visibility ("default")))

/* ------------------------------------------------------------------------
 * Handles
 *
 * SecHandle.dwLower is the daemon's 64-bit handle, dwUpper is
 * (generation << 8) | kind.  The generation changes whenever the session
 * with the daemon dies (daemon exit or restart, bus gone, fork), so a handle
 * from before is recognised and refused locally.  (sspi-marshal.c)
 * ------------------------------------------------------------------------ */

typedef enum {
  SSPI_HANDLE_CREDENTIAL = 1,
  SSPI_HANDLE_CONTEXT = 2,
} SspiHandleKind;

/* The current generation (atomic: takes no lock). */
guint sspi_generation_get (void);
/* The session died: every handle packed before is stale from now on.  Only
 * the session calls this, with the library lock held, so that the
 * generation and the live session change together. */
void sspi_generation_advance (void);

/* Checks that @h is a live handle of @kind from the current generation.
 * Returns SEC_E_OK with the daemon's value and the generation, or
 * SEC_E_INVALID_HANDLE. */
SECURITY_STATUS sspi_handle_unpack (const SecHandle *h, SspiHandleKind kind,
                                    guint64 *value, guint *generation);
void sspi_handle_pack (SecHandle *h, SspiHandleKind kind, guint64 value,
                       guint generation);

/* ------------------------------------------------------------------------
 * Connection (sspi-connection.c)
 * ------------------------------------------------------------------------ */

typedef struct _SspiSession SspiSession;

void sspi_lock (void);
void sspi_unlock (void);

/* A process-unique call id (never 0). */
guint64 sspi_call_id_next (void);

/* Every call's prologue: the live session (connecting first if there is
 * none) for a call whose handles are of @handle_generation (0: it uses no
 * handle).  Returns SEC_E_OK and a new reference, SEC_E_INVALID_HANDLE if
 * the session those handles belong to has died since they were unpacked,
 * or SEC_E_NO_AUTHENTICATING_AUTHORITY. */
SECURITY_STATUS sspi_session_get_for (guint handle_generation, SspiSession **out);
SspiSession *sspi_session_ref (SspiSession *s);
void sspi_session_unref (SspiSession *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SspiSession, sspi_session_unref)

guint sspi_session_get_generation (SspiSession *s);
/* TRUE while @s is the live session.  Call with the lock held. */
gboolean sspi_session_is_current_locked (SspiSession *s);

/* Sends @method with NO_REPLY_EXPECTED (the answer is a Completed signal).
 * A floating @params is consumed; otherwise the caller keeps its reference.  FALSE if the message could not be sent. */
gboolean sspi_session_send (SspiSession *s, const char *method,
                            GVariant *params);
/* A method call with a reply of @reply_type.  A floating @params is
 * consumed; otherwise the caller keeps its reference.
 * Returns the reply, or NULL and the SSPI status for the failure. */
GVariant *sspi_session_call (SspiSession *s, const char *method,
                             GVariant *params, const char *reply_type,
                             SECURITY_STATUS *status);

/* EncryptMessage / DecryptMessage (SSPID_CHANNEL_OP_*): over the session's
 * record channel (opened at the first record call), or over the bus as
 * sspi_session_call() when the daemon or the bus cannot give one.
 * @params is consumed if floating.  A dead daemon or channel gives
 * SEC_E_NO_AUTHENTICATING_AUTHORITY. */
GVariant *sspi_session_record_call (SspiSession *s, guint16 op,
                                    const char *method, GVariant *params,
                                    const char *reply_type,
                                    SECURITY_STATUS *status);

/* ------------------------------------------------------------------------
 * Record channel (sspi-channel.c): one request at a time
 * ------------------------------------------------------------------------ */

typedef struct _SspiChannel SspiChannel;

/* Takes @fd (a SOCK_SEQPACKET socket from OpenRecordChannel). */
SspiChannel *sspi_channel_new (int fd, gint timeout_ms);
void sspi_channel_free (SspiChannel *c);
/* In a fork()ed child: closes only the child's copy of the fd. */
void sspi_channel_abandon_after_fork (SspiChannel *c);
/* Sends one request (@params must be non-floating) and waits for its
 * answer, of @reply_type; NULL and @error if the channel broke. */
GVariant *sspi_channel_call (SspiChannel *c, guint16 op, GVariant *params,
                             const char *reply_type, GError **error);

/* ------------------------------------------------------------------------
 * Requests and answers (sspi-marshal.c)
 * ------------------------------------------------------------------------ */

/* The asynchronous methods of proto/sspid-method.h's table. */
typedef enum {
  SSPI_CALL_ACQUIRE_CREDENTIALS = SSPID_CALL_ACQUIRE,
  SSPI_CALL_INITIALIZE_CONTEXT = SSPID_CALL_INITIALIZE,
  SSPI_CALL_ACCEPT_CONTEXT = SSPID_CALL_ACCEPT,
  SSPI_CALL_DELETE_CONTEXT = SSPID_CALL_DELETE,
  SSPI_CALL_FREE_CREDENTIALS = SSPID_CALL_FREE,
} SspiCallKind;

/* Where the answer to a call goes: the caller's pointers (borrowed; the
 * caller keeps them valid until the call completes). */
typedef struct {
  SspiCallKind    kind;
  SecHandle      *handle;      /* phCredential / phNewContext, or NULL */
  guint64         in_context;  /* context passed in, 0 on a first step */
  SecBufferDesc  *input;       /* for SECBUFFER_EXTRA / SECBUFFER_MISSING */
  SecBufferDesc  *output;      /* first SECBUFFER_TOKEN gets the token */
  ULONG          *attributes;
  TimeStamp      *expiry;
  ULONG           context_req; /* for *_REQ_ALLOCATE_MEMORY */
  guint32         protocols;   /* acquire: the SP_PROT_* the credential has */
  char           *principal;   /* acquire: its name (a GRefString, owned by
                                * whoever holds the outputs); NULL if none */
  guint64         released;    /* delete / free: the handle let go of */
} SspiOutputs;

/* One validated call, ready to be sent as a method of org.sspid1.Sspi. */
typedef struct {
  SspiCallKind  kind;
  char         *principal;
  char         *package;
  guint32       credential_use;
  GVariant     *auth_data;     /* a{sv}, sunk */
  guint64       credential;
  guint64       context;
  guint         generation;    /* of the handles used, 0 if none */
  char         *target;
  guint32       context_req;
  GBytes       *input;
  char        **alpn;
  SspidQuicArgs quic;          /* QUIC mode (sspi-quic.c) */
  guint32       dtls_mtu;     /* SECBUFFER_DTLS_MTU's PathMTU, 0 if none */
  SspiOutputs   out;
} SspiRequest;

void sspi_request_clear (SspiRequest *r);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SspiRequest, sspi_request_clear)

/* Each validates its arguments as Schannel does and fills @r, or returns
 * the error (nothing else happens).  Strings are UTF-8. */
SECURITY_STATUS sspi_request_init_acquire (SspiRequest *r,
                                           const char *principal,
                                           const char *package,
                                           ULONG credential_use,
                                           void *auth_data,
                                           PCredHandle credential,
                                           PTimeStamp expiry);
SECURITY_STATUS sspi_request_init_initialize (SspiRequest *r,
                                              PCredHandle credential,
                                              PCtxtHandle context,
                                              const char *target,
                                              ULONG context_req,
                                              PSecBufferDesc input,
                                              PCtxtHandle new_context,
                                              PSecBufferDesc output,
                                              ULONG *attributes,
                                              PTimeStamp expiry);
SECURITY_STATUS sspi_request_init_accept (SspiRequest *r,
                                          PCredHandle credential,
                                          PCtxtHandle context,
                                          PSecBufferDesc input,
                                          ULONG context_req,
                                          PCtxtHandle new_context,
                                          PSecBufferDesc output,
                                          ULONG *attributes,
                                          PTimeStamp expiry);
SECURITY_STATUS sspi_request_init_delete (SspiRequest *r, PCtxtHandle context);
SECURITY_STATUS sspi_request_init_free_credentials (SspiRequest *r,
                                                    PCredHandle credential);
/* A FreeCredentialsHandle (@kind SSPI_HANDLE_CREDENTIAL) or a
 * DeleteSecurityContext of a handle the caller never got, so there is no
 * SecHandle to unpack (the library cleans up after a call). */
void sspi_request_init_release (SspiRequest *r, SspiHandleKind kind,
                                guint64 handle);

const char *sspi_request_get_method (const SspiRequest *r);
/* The method's parameters for @call_id (floating). */
GVariant *sspi_request_build_params (const SspiRequest *r, guint64 call_id);

/* Whether @b is of @type, ignoring the SECBUFFER_ATTRMASK flags. */
gboolean sspi_buffer_is (const SecBuffer *b, ULONG type);
/* The first buffer of @desc of @type (flags ignored), or NULL. */
SecBuffer *sspi_buffer_find (const SecBufferDesc *desc, ULONG type);

/* UTF-16 (NUL-terminated) to a newly allocated UTF-8 string; NULL stays
 * NULL.  FALSE if @s is not valid UTF-16. */
gboolean sspi_utf16_to_utf8 (const WCHAR *s, char **out);
/* AcquireCredentialsHandleW's names in UTF-8 (for the A function): SEC_E_OK,
 * or what ACH answers for one that is not UTF-16: SEC_E_SECPKG_NOT_FOUND
 * (package), SEC_E_UNKNOWN_CREDENTIALS (principal). */
SECURITY_STATUS sspi_acquire_names_to_utf8 (const WCHAR *principal, const WCHAR *package,
                                            char **principal8, char **package8);

/* A step result as the daemon sent it (SSPID_STEP_RESULT_TYPE); token
 * NULL for none. */
typedef SspidStepResult SspiStep;

/* Reads the step result starting at child @first of @tuple. */
void sspi_step_parse (GVariant *tuple, gsize first, SspiStep *step);
/* A step that carries only a failure @status. */
void sspi_step_init_error (SspiStep *step, SECURITY_STATUS status);
void sspi_step_clear (SspiStep *step);

/* What Windows does when a call is queued: *pfContextAttr = 0,
 * *ptsExpiry = 0. */
void sspi_outputs_reset (const SspiOutputs *o);
/* Writes every output of @step through @o (handles stamped with
 * @generation) and returns the call's final status, which differs from
 * step->status when the token does not fit the caller's buffer. */
SECURITY_STATUS sspi_outputs_write (const SspiOutputs *o, guint generation,
                                    const SspiStep *step);
/* The handle @step created that only the caller of @o would have learnt,
 * or 0: an acquired credential, or the context of a first ISC/ASC step. */
guint64 sspi_outputs_new_handle (const SspiOutputs *o, const SspiStep *step);
/* The context a first ISC/ASC step created in the daemon although the call
 * failed in the library (its token did not fit, @written is that status):
 * the caller never got it, as on Windows no context is left after a
 * failed first call, so the library must delete it.  0 if none. */
guint64 sspi_outputs_unclaimed_handle (const SspiOutputs *o, const SspiStep *step,
                                       SECURITY_STATUS written);

/* A delete or free call is over (done, failed, or its async context was
 * freed first): the library forgets what it cached about the handle. */
void sspi_outputs_forget (const SspiOutputs *o);

/* QUIC mode (sspi-quic.c).  The SECBUFFER_FLAGS, SEND_ and
 * SUBSCRIBE_GENERIC_TLS_EXTENSION buffers of an ISC/ASC input into @args
 * (left as it was without ISC_REQ_MESSAGES): SEC_E_OK or why not. */
SECURITY_STATUS sspi_quic_parse_input (const SecBufferDesc *input, SspidQuicArgs *args);
/* A step's traffic secrets and subscribed extension into the caller's
 * output buffers: SEC_E_OK, or SEC_E_BUFFER_TOO_SMALL when one has no room. */
SECURITY_STATUS sspi_quic_write_outputs (const SecBufferDesc *output, const SspiStep *step);

/* Unix seconds to a FILETIME (100 ns since 1601); 0 stays 0. */
void sspi_timestamp_from_unix (TimeStamp *ts, gint64 unix_seconds);

/* ------------------------------------------------------------------------
 * Queued calls of a session (sspi-connection.c)
 * ------------------------------------------------------------------------ */

/* A queued call's answer: the session keeps the call in its pending table
 * until its Completed signal comes (or the session dies), writes the
 * outputs, and hands the result to whoever queued the call (the async API)
 * through these functions, given when the call is added.  So the session
 * never calls its callers by name. */
typedef struct {
  /* Lock held: FALSE if nobody will read the answer any more (the async
   * context was freed).  Then no output is written, and a handle the call
   * created is released in the daemon. */
  gboolean (*is_wanted_locked) (gpointer owner);
  /* Lock held, every output written: the call is over with @status.  Also
   * in a fork()ed child, with SEC_E_NO_AUTHENTICATING_AUTHORITY and no
   * output written: the parent gets the answer. */
  void (*finish_locked) (gpointer owner, SECURITY_STATUS status);
  /* Lock not held, after finish_locked, on the session's thread: tell the
   * caller (its notify callback, which may do anything). */
  void (*notify) (gpointer owner);
  /* Drops @owner (with or without the lock), after the above. */
  void (*free) (gpointer owner);
} SspiCallOwnerFuncs;

/* Adds call @call_id to @s's pending table: its answer is written through
 * @out (copied; the pointers in it stay the caller's) and given to @owner
 * through @funcs, which take @owner.  Lock held.  SEC_E_OK, or, if @s died
 * since the prologue: SEC_E_INVALID_HANDLE for a call on handles of
 * @handle_generation, SEC_E_NO_AUTHENTICATING_AUTHORITY for one on none
 * (0); then nothing was added and the caller keeps @owner. */
SECURITY_STATUS sspi_session_add_pending_locked (SspiSession *s, guint64 call_id,
                                                 guint handle_generation,
                                                 const SspiOutputs *out,
                                                 const SspiCallOwnerFuncs *funcs,
                                                 gpointer owner);
/* Takes call @call_id back (its message could not be sent): TRUE, and the
 * caller has its owner back; FALSE if the call is no longer there (the
 * session died meanwhile and has completed it, or will).  Lock held. */
gboolean sspi_session_remove_pending_locked (SspiSession *s, guint64 call_id);

/* Frees @handle of @kind in the daemon asking for no answer: a handle the
 * library got but the caller never will (a failed first step's context, or
 * the answer to a call whose async context was freed). */
void sspi_session_release_handle (SspiSession *s, SspiHandleKind kind,
                                  guint64 handle);

/* ------------------------------------------------------------------------
 * Client-side facts about live handles (sspi-cache.c)
 *
 * Keyed by the daemon's handle value; @generation is the handle's.  Its own
 * lock, taken after sspi_lock when both are held.
 * ------------------------------------------------------------------------ */

/* What a credential was acquired with: its SP_PROT_* @protocols and the
 * name of the configured credential, @principal (interned, never freed;
 * NULL for an anonymous one).  get: FALSE if the credential is not known;
 * else a copy of the name (g_free it) in *@principal, NULL if it has none. */
void     sspi_cache_set_credential (guint64 credential, guint generation,
                                    guint32 protocols, const char *principal);
gboolean sspi_cache_get_credential (guint64 credential, guint generation,
                                    guint32 *protocols, char **principal);
void     sspi_cache_set_sizes (guint64 context, guint generation,
                               const SecPkgContext_StreamSizes *sizes);
gboolean sspi_cache_get_sizes (guint64 context, guint generation,
                               SecPkgContext_StreamSizes *sizes);
void     sspi_cache_forget (SspiHandleKind kind, guint64 handle);
void     sspi_cache_atfork_prepare (void);
void     sspi_cache_atfork_parent (void);
void     sspi_cache_atfork_child (void);

/* ------------------------------------------------------------------------
 * QueryContext (sspi-query.c)
 * ------------------------------------------------------------------------ */

/* One QueryContext round trip: the daemon's facts about @context as a
 * dictionary the caller must g_variant_dict_clear(), or the failure. */
SECURITY_STATUS sspi_query_context (SspiSession *s, guint64 context,
                                    GVariantDict *info);
/* The same for any "(t) -> (ua{sv})" method: QueryContext, QueryCredential. */
SECURITY_STATUS sspi_query_facts (SspiSession *s, SspidCallKind kind, guint64 handle,
                                  GVariantDict *info);
/* The ALG_ID Windows has for the GnuTLS algorithm @name of @kind (as the
 * daemon reports them), or 0 where Windows has none (ChaCha20-Poly1305,
 * EdDSA, an AEAD's MAC). */
typedef enum {
  SSPI_ALG_CIPHER,
  SSPI_ALG_HASH,
  SSPI_ALG_EXCHANGE,
  SSPI_ALG_SIGNATURE,
} SspiAlgKind;
ALG_ID sspi_alg_id_of (SspiAlgKind kind, const char *name);

/* ------------------------------------------------------------------------
 * QueryCredential (sspi-cred-query.c)
 * ------------------------------------------------------------------------ */

/* SECPKG_ATTR_SUPPORTED_ALGS (SecPkgCred_SupportedAlgs) or
 * SECPKG_ATTR_CIPHER_STRENGTHS (SecPkgCred_CipherStrengths) of the live
 * credential @h into @buffer, from one QueryCredential round trip. */
SECURITY_STATUS sspi_query_credential_algorithms (PCredHandle h, ULONG attribute,
                                                  void *buffer);

/* STREAM_SIZES from those facts; SEC_E_INVALID_HANDLE before the record
 * layer exists.  Caches them for EncryptMessage. */
SECURITY_STATUS sspi_stream_sizes_from_info (GVariantDict *info,
                                             guint64 context, guint generation,
                                             SecPkgContext_StreamSizes *out);
