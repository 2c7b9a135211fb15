/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared by the two halves of the D-Bus front: sspid-service.c (the object,
 * one handler per method) and sspid-work.c (answering calls, the
 * per-context queues, the worker pool, the handshake timeout).
 *
 * Threads: the main thread owns D-Bus, the caller registry and everything
 * below, except that a worker running a call may use that call's context's
 * SspidTls (and header_size): a context runs at most one call at a time.
 */
#pragma once

#include <gio/gio.h>
#include "sspid-caller.h"
#include "sspid-config.h"
#include "sspid-credential.h"
#include "sspid-fair.h"
#include "sspid-request.h"
#include "sspid-service.h"
#include "sspid-tls.h"

typedef struct _SspidContext SspidContext;
typedef struct _SspidChannel SspidChannel;

struct _SspidService {
  GDBusConnection      *connection;
  GMainContext         *main_context;
  guint                 registration_id;
  SspidConfig          *config;
  SspidCredentialStore *store;
  SspidCallerRegistry  *registry;
  guint64               instance;
  gint64                started;      /* monotonic, µs: uptime */
  SspidFairQueue       *intake;       /* SspidCall * for their handlers, per uid */
  guint                 intake_id;    /* the idle source that runs them */
  GThreadPool          *pool;         /* a token per call in @waiting */
  SspidFairQueue       *waiting;      /* SspidCall * for the workers, per uid */
  GAsyncQueue          *done;         /* SspidCall * back from the workers */
  gint                  handing_back; /* answered by a worker, not in done yet */
  GSource              *done_source;
  guint                 reaper_id;
  gboolean              shutting_down;
  GHashTable           *channels;     /* SspidChannel * open (sspid-channel.c) */
  GHashTable           *channel_uids; /* uid -> channels open for it */
  guint64               channel_requests; /* answered over channels */
};

/* One method call, from its arrival to its one answer.  It came either
 * over the bus (@invocation) or over a record channel (@channel): then it
 * is an EncryptMessage or DecryptMessage, answered on the channel. */
typedef struct {
  SspidService          *service;
  SspidCaller           *caller;       /* ref, counted as pending; NULL for Hello */
  GDBusMethodInvocation *invocation;   /* owned until answered */
  GVariant              *params;       /* ref: the method's parameters */
  SspidChannel          *channel;      /* ref, or NULL for a bus call */
  guint32                serial;       /* of the channel request */
  SspidCallKind          kind;
  const char            *method;
  guint64                call_id;
  gboolean               no_reply;     /* answer with the Completed signal */

  /* A call queued on a context, and what the worker needs. */
  SspidContext          *ctx;          /* ref */
  gboolean               create;       /* the step that creates the session */
  SspidRequest           request;      /* its arguments, borrowing from @params */

  /* What the worker produced. */
  SspidTlsStep           step;
  GVariant              *info;
  GBytes                *record;       /* EncryptMessage */
  SspidTlsDecrypt        decrypt;
  guint32                header_size;
  char                  *established;  /* "TLS1.3 AES-256-GCM" when the step finished
                                        * the handshake (only if that gets logged) */
  gboolean               audited;      /* the step ended a handshake: audit it */
  SspidTlsAudit          audit;        /* ... with these facts */
} SspidCall;

/* A security context: what a context handle points to.  The caller's
 * handle table holds one reference, each call queued or running on it
 * another; main thread only. */
struct _SspidContext {
  gint             ref;
  SspidService    *service;
  SspidCaller     *caller;       /* ref */
  uid_t            uid;          /* of the caller: its lane for the workers */
  guint64          handle;
  gboolean         is_server;
  SspidCredential *cred;         /* ref: the credential handle may go first */
  SspidTls        *tls;          /* made by the first step; NULL once expired */
  gint64           created;      /* monotonic, µs */
  char            *target;       /* client: the target name of the first step */
  /* For ListContexts, learned once the session is established (main
   * thread, never while a call runs): protocol, cipher, peer subject. */
  gboolean         described;
  char            *protocol;
  char            *cipher;
  char            *peer;
  guint32          header_size;  /* of a record, once known; worker side */
  GQueue           queue;        /* SspidCall * waiting for the one running */
  gboolean         running;      /* a call is on a worker */
  gboolean         released;     /* no longer in the caller's table */
  gboolean         expired;      /* handshake timed out: a tombstone */
  gboolean         draining;     /* inside context_run_next() */
};

#define SSPID_STATUS_IS_ERROR(s) ((gint32) (s) < 0)

/* Answers: each sends the one answer of @call and frees it. */
void sspid_call_free (SspidCall *call);
void sspid_call_answer_value (SspidCall *call, GVariant *reply);
void sspid_call_answer_step (SspidCall *call, SECURITY_STATUS status, guint64 handle,
                             GBytes *token, guint32 attributes, gint64 expiry,
                             guint32 extra, guint32 missing);
/* Nothing but @status, in the shape of the call's method. */
void sspid_call_answer_status (SspidCall *call, SECURITY_STATUS status);
/* SEC_E_INSUFFICIENT_MEMORY, logging the @limit hit (freed). */
void sspid_call_answer_limit (SspidCall *call, char *limit);

/* Runs the handler of a call whose caller is identified (sspid-service.c):
 * how a request read from a channel enters the same path as a bus call. */
void sspid_call_dispatch (SspidCall *call);

/* The one answer of a channel call that came back from its work
 * (sspid-work.c); @reply is consumed if floating. */
void sspid_channel_answer (SspidChannel *channel, guint32 serial, SspidCallKind kind,
                           GVariant *reply);
SspidChannel *sspid_channel_ref (SspidChannel *channel);
void sspid_channel_unref (SspidChannel *channel);
/* A new channel for @caller (identified, not gone): returns the caller's
 * end, a file descriptor for the method reply, or -1 and @error. */
int sspid_channel_open (SspidService *service, SspidCaller *caller, GError **error);
/* Record channels open for callers of @uid. */
guint sspid_channel_count_for_uid (SspidService *service, uid_t uid);
/* Whether too many descriptors wait to be closed (some closes hang) for
 * another channel to be handed out. */
gboolean sspid_channel_is_closer_backed_up (void);

/* A new context (one reference, for the caller's table). */
SspidContext *sspid_context_new (SspidService *service, SspidCaller *caller,
                                 SspidCredential *cred, gboolean is_server);
/* The registry's SspidContextReleaseFunc. */
void sspid_context_release (gpointer context);
/* Queues @call behind what runs on @ctx; it is answered in its turn. */
void sspid_context_enqueue (SspidContext *ctx, SspidCall *call);

/* The worker pool, its way back to the main thread and the handshake
 * reaper.  Stop answers what the workers still run (before the registry
 * goes); clear frees what is left (after). */
gboolean sspid_work_start (SspidService *service, GError **error);
/* Does the main thread's part of every call the workers have finished.
 * Workers answer callers themselves, so a caller can ask about a context
 * before that happened: introspection drains first (waiting for workers
 * between their answer and their hand-back, a few µs) so what it reports
 * is at least as new as every answer already sent. */
void sspid_work_drain (SspidService *service);
void sspid_work_stop (SspidService *service);
void sspid_work_clear (SspidService *service);
