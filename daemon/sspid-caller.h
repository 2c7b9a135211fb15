/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The caller registry: who is calling (one SspidCaller per unique bus name,
 * its identity learned once from the bus, and one per peer-to-peer
 * connection, with the identity of the bus caller it was handed to), what
 * each caller owns (credential and context handles, kept in separate
 * per-caller tables so a handle of the wrong kind or of another connection
 * is simply not found), and the counters that the per-connection and
 * per-user limits are checked against.
 *
 * Everything here is main-thread only.  The registry does not know what a
 * context is: the service hands it opaque pointers and a function that
 * releases them.
 */
#pragma once

#include <gio/gio.h>
#include "sspid-config.h"
#include "sspid-credential.h"
#include "sspid-log.h"
#include "sspid-user.h"

typedef struct _SspidCaller SspidCaller;
typedef struct _SspidCallerRegistry SspidCallerRegistry;

/* Runs for a queued invocation once the caller's identity is settled (see
 * sspid_caller_run_identified()).  Owns @invocation: must answer it. */
typedef void (*SspidCallerFunc) (SspidCaller           *caller,
                                 GDBusMethodInvocation *invocation,
                                 gpointer               user_data);

/* Called when the registry drops a context (its handle was removed or its
 * caller went away).  Receives the pointer given to
 * sspid_caller_add_context(). */
typedef void (*SspidContextReleaseFunc) (gpointer context);

/* Diagnostics: what the registry holds right now. */
typedef struct {
  guint callers;        /* bus connections (a peer connection is its opener's) */
  guint contexts;       /* including expired ones still holding their handle */
  guint credentials;
  guint pending;        /* invocations received and not yet answered */
} SspidCounts;

/* A registry over @connection (a message bus connection): subscribes to
 * NameOwnerChanged once to learn about disconnects.  @release is how
 * contexts are dropped.  Free with sspid_caller_registry_free(), which drops
 * every caller and everything it owns. */
SspidCallerRegistry *sspid_caller_registry_new (GDBusConnection         *connection,
                                                const SspidConfig       *config,
                                                SspidContextReleaseFunc  release);
void sspid_caller_registry_free (SspidCallerRegistry *registry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SspidCallerRegistry, sspid_caller_registry_free)

/* Copies the limits of @config (after a reload).  Existing handles stay. */
void sspid_caller_registry_set_limits (SspidCallerRegistry *registry,
                                       const SspidConfig   *config);

/* The caller for @sender, created (and its identity requested from the bus)
 * if it is not known yet.  Borrowed: valid until control returns to the
 * main loop unless the caller takes a reference. */
SspidCaller *sspid_caller_registry_peek (SspidCallerRegistry *registry,
                                         const char          *sender);

/* A caller for a peer-to-peer connection handed to @opener (identified,
 * not gone): @opener's identity, bound now, and its user (the per-user
 * limits count both), with handles and per-connection limits of its own
 * as any other connection.  No bus event ever drops it: drop it with
 * sspid_caller_drop() when its connection closes.  Caller must release
 * it with sspid_caller_unref(). */
SspidCaller *sspid_caller_new_peer (SspidCaller *opener);
/* Whether @caller is a peer-to-peer connection's. */
gboolean sspid_caller_is_peer (SspidCaller *caller);
/* @caller's connection closed: drops it from its registry and frees
 * everything it owned at once, as when a bus connection closes.  Does
 * nothing if it is gone already. */
void sspid_caller_drop (SspidCaller *caller);

/* The users @asking may see, sorted by uid: root sees every uid that
 * called, others their own.  SspidUser * borrowed (they live as long as
 * the registry); g_ptr_array_unref() the array. */
GPtrArray *sspid_caller_registry_get_users (SspidCallerRegistry *registry, uid_t asking);
void sspid_caller_registry_get_counts (SspidCallerRegistry *registry,
                                       SspidCounts         *counts);

/* Calls @func for every context of every caller (e.g. to reap stale ones).
 * @func must not add or remove handles. */
void sspid_caller_registry_foreach_context (SspidCallerRegistry *registry,
                                            GHFunc               func,
                                            gpointer             user_data);

SspidCaller *sspid_caller_ref (SspidCaller *caller);
void sspid_caller_unref (SspidCaller *caller);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SspidCaller, sspid_caller_unref)

/* Runs @func (@caller, @invocation, @user_data) once the identity is known,
 * at once if it already is, and otherwise when the bus answers; calls of one
 * caller run in the order they were queued.  If the identity could not be
 * learned or the caller went away first, @func still runs exactly once and
 * sspid_caller_peek_identity() returns NULL: it must deny the call. */
void sspid_caller_run_identified (SspidCaller           *caller,
                                  GDBusMethodInvocation *invocation,
                                  SspidCallerFunc        func,
                                  gpointer               user_data);

/* The bus's word on who the caller is, or NULL while unknown, after a
 * failure to learn it, or once the caller is gone.  Borrowed. */
const SspidIdentity *sspid_caller_peek_identity (SspidCaller *caller);
/* The caller's unique bus name.  Borrowed. */
const char *sspid_caller_peek_name (SspidCaller *caller);
/* The systemd unit the caller's process runs in ("nginx.service",
 * "session-3.scope"), or "-": read from its cgroup once.  Borrowed. */
const char *sspid_caller_peek_unit (SspidCaller *caller);
/* Counts a handshake of @caller's that ended, @done or failed, for its
 * user (GetStatus). */
void sspid_caller_count_handshake (SspidCaller *caller, gboolean done);
/* Whether the caller's connection closed (it owns nothing any more). */
gboolean sspid_caller_is_gone (SspidCaller *caller);
/* "uid=1000 pid=42" (or the bus name if the identity is unknown), for log
 * lines.  Borrowed, valid as long as @caller. */
const char *sspid_caller_peek_log_tag (SspidCaller *caller);

/* Logs one line about @caller and, when @handle is not 0, one of its
 * handles (@kind "ctx" or "cred"): "uid=N pid=N ctx=0x...: <message>".
 * Structured: under systemd the journal also gets the fields SSPID_UID,
 * SSPID_PID and SSPID_HANDLE.  Never pass key material or a PIN. */
#define sspid_caller_log(caller, level, kind, handle, ...) \
  sspid_caller_log_full ((caller), (level), NULL, __FILE__, G_STRINGIFY (__LINE__), G_STRFUNC, \
                         (kind), (handle), __VA_ARGS__)

/* A refusal of what @caller asked for (a credential it may not have, a
 * limit, a malformed request), logged like sspid_caller_log() at message
 * level.  But a caller can repeat a refusal at line rate, so per uid and
 * @what (a class of refusal: a string that lives as long as the process,
 * e.g. from g_intern_string()), at most SSPID_REFUSALS_LOGGED lines a
 * minute; the rest are counted and told in one line ("... and 56999 more
 * refusals (credential) for uid 1002 in the last minute") once the minute
 * is over.  Classes apart, so that one flood does not hide another kind. */
#define sspid_caller_log_refusal(caller, what, kind, handle, ...) \
  sspid_caller_log_full ((caller), G_LOG_LEVEL_MESSAGE, (what), __FILE__, \
                         G_STRINGIFY (__LINE__), G_STRFUNC, (kind), (handle), __VA_ARGS__)

/* What both macros call: @refusal is the class of a refusal to count
 * (sspid_caller_log_refusal()), NULL for a plain line. */
void sspid_caller_log_full (SspidCaller   *caller,
                            GLogLevelFlags level,
                            const char    *refusal,
                            const char    *file,
                            const char    *line,
                            const char    *func,
                            const char    *kind,
                            guint64        handle,
                            const char    *format,
                            ...) G_GNUC_PRINTF (9, 10);

/* Invocations received from the caller and not answered yet.  The service
 * brackets each invocation with begin/end. */
void sspid_caller_pending_begin (SspidCaller *caller);
void sspid_caller_pending_end (SspidCaller *caller);

/* NULL if the caller may have one more pending invocation / credential /
 * context, else a description of the limit it hit ("max-...=N") for a log
 * line; free with g_free(). */
char *sspid_caller_check_pending_limit (SspidCaller *caller);
char *sspid_caller_check_credential_limit (SspidCaller *caller);
char *sspid_caller_check_context_limit (SspidCaller *caller);

/* The introspection budget of @caller's user (sspid-user.h); root has
 * none: NULL if it may ask now, else the limit (g_free() it). */
char *sspid_caller_check_introspection_limit (SspidCaller *caller);
void sspid_caller_charge_introspection (SspidCaller *caller, guint entries);

/* Stores @cred (takes the reference) under a new handle and returns it.
 * The caller must be identified and not gone. */
guint64 sspid_caller_add_credential (SspidCaller *caller, SspidCredential *cred);
/* Borrowed, or NULL if @handle is not a credential of @caller. */
SspidCredential *sspid_caller_peek_credential (SspidCaller *caller, guint64 handle);
/* Drops the credential; FALSE if @handle is not a credential of @caller. */
gboolean sspid_caller_remove_credential (SspidCaller *caller, guint64 handle);

/* Stores @context under a new handle (counted against the caller's uid
 * and connection until removed) and returns it.  The registry releases it
 * with the registry's release function. */
guint64 sspid_caller_add_context (SspidCaller *caller, gpointer context);
/* Borrowed, or NULL if @handle is not a context of @caller. */
gpointer sspid_caller_peek_context (SspidCaller *caller, guint64 handle);
/* Drops the context (calls the release function); FALSE if unknown. */
gboolean sspid_caller_remove_context (SspidCaller *caller, guint64 handle);

/* Ties @object (a record channel) to @caller's connection: @close
 * (@object) runs once when the connection goes away or the registry is
 * freed, unless sspid_caller_detach() came first.  The caller must not be
 * gone. */
void sspid_caller_attach (SspidCaller *caller, gpointer object, GDestroyNotify close);
void sspid_caller_detach (SspidCaller *caller, gpointer object);
guint sspid_caller_count_attached (SspidCaller *caller);

/* A 64-bit value from getrandom(): never 0 nor G_MAXUINT64 (which a client
 * might take for an invalidated SecHandle). */
guint64 sspid_random_u64 (void);
