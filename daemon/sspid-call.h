/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One method call, from its arrival to its one answer, and every shape of
 * answer the contract has (proto/org.sspid1.xml), encoded here and nowhere
 * else.
 *
 * A call answers into its reply sink: the bus (a method reply, or the
 * unicast Completed signal for a call sent with NO_REPLY_EXPECTED, or a
 * D-Bus error for the diagnostics) or whatever function its maker gave it
 * (a record channel's answer).  Each sspid_call_answer_*() sends the one
 * answer and frees the call.
 *
 * A call whose work runs on a worker has its answer encoded there
 * (sspid_call_prepare_*: any thread) and sent later on the main thread
 * (sspid_call_answer_prepared), after the bookkeeping that goes with it.
 * Everything else: main thread.
 */
#pragma once

#include <gio/gio.h>

#include "sspid-caller.h"
#include "sspid-error.h"
#include "sspid-request.h"
#include "sspid-tls.h"

typedef struct _SspidCall SspidCall;

/* Where a call that did not come over the bus is answered: @reply is the
 * body of the method's reply (floating), @serial and @kind as the call was
 * made with. */
typedef void (*SspidCallSinkFunc) (gpointer       sink_data,
                                   guint32        serial,
                                   SspidCallKind  kind,
                                   GVariant      *reply);

/* A call of @method that came over the bus: owns @invocation until it is
 * answered. */
SspidCall *sspid_call_new_for_bus (const SspidMethod     *method,
                                   GDBusMethodInvocation *invocation,
                                   GVariant              *params);
/* An EncryptMessage or DecryptMessage that came some other way: @params
 * (taken; NULL if it could not be parsed) and its answer to @sink, which
 * gets @sink_data (freed with @sink_destroy along with the call). */
SspidCall *sspid_call_new_for_sink (SspidCallKind      kind,
                                    guint32            serial,
                                    GVariant          *params,
                                    SspidCallSinkFunc  sink,
                                    gpointer           sink_data,
                                    GDestroyNotify     sink_destroy);

/* The caller the call counts against as pending until it is answered
 * (takes a reference).  Not for Hello, which needs none. */
void sspid_call_set_caller (SspidCall *call, SspidCaller *caller);

SspidCallKind sspid_call_get_kind (SspidCall *call);
/* "AcceptSecurityContext": for log lines.  Static. */
const char *sspid_call_peek_method (SspidCall *call);
/* Borrowed; NULL for Hello. */
SspidCaller *sspid_call_peek_caller (SspidCall *call);
/* Whether its answer goes to a sink rather than the bus (a record
 * channel's request). */
gboolean sspid_call_has_sink (SspidCall *call);

/* Decodes the call's parameters (sspid_request_decode()); the result is
 * then sspid_call_peek_request(). */
SECURITY_STATUS sspid_call_decode (SspidCall *call, guint max_token_size);
const SspidRequest *sspid_call_peek_request (SspidCall *call);

/* --- answers: each sends the one answer and frees @call ---------------- */

/* Nothing but @status, in the shape of the call's method (a D-Bus error
 * for the diagnostics, which have no status). */
void sspid_call_answer_status (SspidCall *call, SECURITY_STATUS status);
/* SEC_E_INSUFFICIENT_MEMORY (a LimitReached error for the diagnostics),
 * logging the @limit hit as a refusal (freed). */
void sspid_call_answer_limit (SspidCall *call, char *limit);
/* Hello. */
void sspid_call_answer_hello (SspidCall *call, const char *version, guint64 instance);
/* A handshake step or credential (ISC, ASC, ACH; Delete and Free answer
 * with sspid_call_answer_status()). */
void sspid_call_answer_step (SspidCall *call, SECURITY_STATUS status, guint64 handle,
                             GBytes *token, guint32 attributes, gint64 expiry,
                             guint32 extra, guint32 missing);
/* GetStatus (@dict an a{sv}), ListCredentials and ListContexts (@list an
 * aa{sv}); floating references are sunk. */
void sspid_call_answer_dict (SspidCall *call, GVariant *dict);
/* QueryContext's and QueryCredential's shape: SEC_E_OK and @facts (a{sv},
 * floating). */
void sspid_call_answer_facts (SspidCall *call, GVariant *facts);
void sspid_call_answer_list (SspidCall *call, GVariant *list);
/* OpenRecordChannel, OpenConnection: @fd is taken. */
void sspid_call_answer_fd (SspidCall *call, int fd);
/* An Internal D-Bus error saying @message. */
void sspid_call_answer_internal_error (SspidCall *call, const char *message);
/* A D-Bus error of the contract's domain saying @message, for a call
 * without a status to answer with. */
void sspid_call_answer_error (SspidCall *call, SspidError code, const char *message);

/* --- answers encoded off the main thread -------------------------------- */

/* Each encodes the answer of the work the call asked for; the call is sent
 * later with sspid_call_answer_prepared().  Any thread, but one at a time
 * per call. */
void sspid_call_prepare_step (SspidCall *call, const SspidTlsStep *step, guint64 handle);
void sspid_call_prepare_query (SspidCall *call, const SspidTlsInfo *info);
void sspid_call_prepare_encrypt (SspidCall *call, SECURITY_STATUS status, GBytes *record,
                                 guint32 header_size);
void sspid_call_prepare_decrypt (SspidCall *call, const SspidTlsDecrypt *decrypt,
                                 guint32 header_size);
/* Sends what was prepared and frees @call.  Main thread. */
void sspid_call_answer_prepared (SspidCall *call);
