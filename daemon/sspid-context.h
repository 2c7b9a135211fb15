/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Security contexts: what a context handle points to, the FIFO of calls
 * on each (one operation at a time per context, in the order they came),
 * running them on the engine (handshake steps on the worker pool; a record
 * channel's records inline), and the reaper of handshakes that never
 * finish.
 *
 * A context is reference counted: the caller's handle table holds one
 * reference, the call running on a worker another, so one whose caller
 * vanished while a step ran is freed when the step is back.  Main thread,
 * except the running call's work on the context's session.
 */
#pragma once

#include <gio/gio.h>

#include "sspid-call.h"
#include "sspid-caller.h"
#include "sspid-credential.h"

typedef struct _SspidContext SspidContext;
/* What runs the contexts' calls: the worker pool, and whether the daemon
 * is stopping. */
typedef struct _SspidContextRunner SspidContextRunner;

/* Results come back on @main_context.  NULL and @error if the workers
 * cannot be started.  Free with sspid_context_runner_free() after
 * sspid_context_runner_stop() and after every context is gone. */
SspidContextRunner *sspid_context_runner_new (GMainContext *main_context, GError **error);
/* Waits for the calls on workers and answers them; from then on every
 * call that comes to its turn is answered SEC_E_NO_AUTHENTICATING_AUTHORITY. */
void sspid_context_runner_stop (SspidContextRunner *runner);
void sspid_context_runner_free (SspidContextRunner *runner);

/* A new context on @cred for @caller (identified, not gone), stored in the
 * caller's handle table (which holds its reference).  @first_step: the
 * ISC/ASC request that makes it, borrowed: its target name and the mode it
 * asks for (stream, datagram, QUIC messages) are kept for ListContexts. */
SspidContext *sspid_context_new (SspidContextRunner *runner, SspidCaller *caller,
                                 SspidCredential *cred, gboolean is_server,
                                 const SspidRequest *first_step);
/* The registry's SspidContextReleaseFunc. */
void sspid_context_release (gpointer context);

guint64 sspid_context_get_handle (SspidContext *ctx);
gboolean sspid_context_is_server (SspidContext *ctx);
/* The caller that made it.  Borrowed. */
SspidCaller *sspid_context_peek_caller (SspidContext *ctx);
/* When it was made: monotonic µs. */
gint64 sspid_context_get_created (SspidContext *ctx);

/* Queues @call (an ISC/ASC step, Delete, Query, Encrypt, Decrypt or
 * ApplyControlToken on @ctx) behind what runs on @ctx; it is answered in
 * its turn.  The first step queued on a new context makes its session. */
void sspid_context_enqueue (SspidContext *ctx, SspidCall *call);

/* Expires every context of @registry whose handshake has taken longer
 * than @timeout_sec: its session is freed, its handle stays (and counts),
 * and the next call says SEC_E_CONTEXT_EXPIRED. */
void sspid_context_reap_stale (SspidCallerRegistry *registry, guint timeout_sec);

/* What ListContexts reports of a context.  Strings borrowed from @ctx. */
typedef struct {
  SspidCaller *owner;
  guint64      handle;
  gboolean     is_server;
  const char  *state;       /* "expired", "busy", "handshake" or the engine's */
  const char  *mode;        /* "stream", "datagram" (DTLS) or "quic" (messages) */
  const char  *credential;
  const char  *target;      /* client; "" if none */
  const char  *protocol;    /* once established, else NULL */
  const char  *cipher;
  const char  *peer;        /* the peer certificate's subject, or NULL */
  gint64       created;     /* monotonic µs */
} SspidContextFacts;

/* Learns the session's facts once established (never while a call runs
 * on a worker: the session is the running call's). */
void sspid_context_get_facts (SspidContext *ctx, SspidContextFacts *facts);
