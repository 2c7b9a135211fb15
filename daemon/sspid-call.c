/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A method call and its one answer (see sspid-call.h): every reply shape
 * of proto/org.sspid1.xml is encoded in this file.
 */
#include "config.h"

#include <string.h>
#include <gio/gunixfdlist.h>

#include "sspid-call.h"
#include "sspid-describe.h"
#include "sspid-error.h"
#include "sspid-proto.h"
#include "sspid-results.h"
#include "schannel.h"

struct _SspidCall {
  SspidCaller           *caller;        /* ref, counted as pending; NULL for Hello */
  GDBusMethodInvocation *invocation;    /* a bus call's, owned until answered */
  SspidCallSinkFunc      sink;          /* or where the answer goes */
  gpointer               sink_data;
  GDestroyNotify         sink_destroy;
  guint32                serial;        /* given back to the sink */
  GVariant              *params;        /* ref: the method's parameters */
  SspidCallKind          kind;
  const char            *method;
  guint64                call_id;       /* asynchronous methods */
  gboolean               no_reply;      /* answer with the Completed signal */
  SspidRequest           request;       /* borrows from @params */
  GVariant              *prepared;      /* the answer encoded by a worker */
  gboolean               prepared_is_step;
};

#define STATUS_IS_ERROR(s) ((gint32) (s) < 0)

SspidCall *
sspid_call_new_for_bus (const SspidMethod *method, GDBusMethodInvocation *invocation,
                        GVariant *params)
{
  SspidCall *call = g_new0 (SspidCall, 1);
  GDBusMessage *message = g_dbus_method_invocation_get_message (invocation);

  call->invocation = invocation;
  call->params = g_variant_ref (params);
  call->kind = method->kind;
  call->method = method->name;
  call->no_reply = (g_dbus_message_get_flags (message)
                    & G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED) != 0;
  if (method->is_async)
    g_variant_get_child (params, 0, "t", &call->call_id);
  return call;
}

SspidCall *
sspid_call_new_for_sink (SspidCallKind kind, guint32 serial, GVariant *params,
                         SspidCallSinkFunc sink, gpointer sink_data,
                         GDestroyNotify sink_destroy)
{
  SspidCall *call = g_new0 (SspidCall, 1);

  g_assert (kind == SSPID_CALL_ENCRYPT || kind == SSPID_CALL_DECRYPT);
  call->sink = sink;
  call->sink_data = sink_data;
  call->sink_destroy = sink_destroy;
  call->serial = serial;
  call->params = params;
  call->kind = kind;
  call->method = kind == SSPID_CALL_ENCRYPT ? "EncryptMessage" : "DecryptMessage";
  return call;
}

void
sspid_call_set_caller (SspidCall *call, SspidCaller *caller)
{
  g_assert (call->caller == NULL);
  call->caller = sspid_caller_ref (caller);
  sspid_caller_pending_begin (caller);
}

SspidCallKind
sspid_call_get_kind (SspidCall *call)
{
  return call->kind;
}

const char *
sspid_call_peek_method (SspidCall *call)
{
  return call->method;
}

SspidCaller *
sspid_call_peek_caller (SspidCall *call)
{
  return call->caller;
}

gboolean
sspid_call_has_sink (SspidCall *call)
{
  return call->sink != NULL;
}

SECURITY_STATUS
sspid_call_decode (SspidCall *call, guint max_token_size)
{
  return sspid_request_decode (call->kind, call->params, max_token_size, &call->request);
}

const SspidRequest *
sspid_call_peek_request (SspidCall *call)
{
  return &call->request;
}

static void
call_free (SspidCall *call)
{
  g_assert (call->invocation == NULL);
  if (call->caller != NULL)
    {
      sspid_caller_pending_end (call->caller);
      sspid_caller_unref (call->caller);
    }
  if (call->sink_destroy != NULL)
    call->sink_destroy (call->sink_data);
  g_clear_pointer (&call->params, g_variant_unref);
  sspid_request_clear (&call->request);
  g_clear_pointer (&call->prepared, g_variant_unref);
  g_free (call);
}

/* --- the sinks ------------------------------------------------------------ */

/* @reply (floating or not) is the body of the method's reply. */
static void
deliver (SspidCall *call, GVariant *reply)
{
  if (call->sink != NULL)
    call->sink (call->sink_data, call->serial, call->kind, reply);
  else
    g_dbus_method_invocation_return_value (g_steal_pointer (&call->invocation), reply);
  call_free (call);
}

/* A cleanup sent with NO_REPLY_EXPECTED and call_id 0: nobody reads its
 * answer (proto/org.sspid1.xml), so none is sent. */
static gboolean
is_unanswered (const SspidCall *call)
{
  return call->no_reply && call->call_id == 0
         && (call->kind == SSPID_CALL_DELETE || call->kind == SSPID_CALL_FREE);
}

static GVariant *
bytes_variant (GBytes *bytes)
{
  if (bytes == NULL)
    return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, NULL, 0, 1);
  return g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, bytes, TRUE);
}

/* A step's answer: the Completed signal's body for a call sent with
 * NO_REPLY_EXPECTED, else the method reply's; NULL when none is sent.
 * @quic: QUIC mode's secrets and extension, or NULL. */
static GVariant *
encode_step (SspidCall *call, SECURITY_STATUS status, guint64 handle, GBytes *token,
             guint32 attributes, gint64 expiry, guint32 extra, guint32 missing,
             const SspidQuicResult *quic)
{
  SspidStepResult result = { status, handle, NULL, attributes, expiry, extra, missing, NULL };

  if (is_unanswered (call))
    return NULL;
  result.token = bytes_variant (token);
  if (quic != NULL)
    result.extras = sspid_quic_result_encode (quic);
  if (call->no_reply)
    return sspid_completed_encode (call->call_id, &result);
  return sspid_step_result_encode (&result);
}

/* The Completed signal goes to the call's sender alone; returning the
 * invocation then sends nothing (it expects no reply). */
static void
deliver_step (SspidCall *call, GVariant *body)
{
  GDBusMethodInvocation *invocation = g_steal_pointer (&call->invocation);

  if (body != NULL && call->no_reply)
    {
      g_autoptr(GError) error = NULL;

      if (!g_dbus_connection_emit_signal (g_dbus_method_invocation_get_connection (invocation),
                                          g_dbus_method_invocation_get_sender (invocation),
                                          SSPID_OBJECT_PATH, SSPID_INTERFACE,
                                          SSPID_SIGNAL_COMPLETED, body, &error))
        sspid_caller_log (call->caller, G_LOG_LEVEL_DEBUG, NULL, 0,
                          "cannot send Completed: %s", error->message);
      body = NULL;
    }
  g_dbus_method_invocation_return_value (invocation, body);
  call_free (call);
}

/* --- answers -------------------------------------------------------------- */

void
sspid_call_answer_step (SspidCall *call, SECURITY_STATUS status, guint64 handle,
                        GBytes *token, guint32 attributes, gint64 expiry, guint32 extra,
                        guint32 missing)
{
  deliver_step (call, encode_step (call, status, handle, token, attributes, expiry, extra,
                                   missing, NULL));
}

static GVariant *
encode_query (SECURITY_STATUS status, GVariant *info)
{
  return sspid_query_result_encode (status, info);
}

static GVariant *
encode_encrypt (SECURITY_STATUS status, GBytes *record, guint32 header_size)
{
  return sspid_encrypt_result_encode (&(SspidEncryptResult) {
    status, bytes_variant (record), header_size });
}

/* @d NULL: nothing but @status. */
static GVariant *
encode_decrypt (SECURITY_STATUS status, const SspidTlsDecrypt *d, guint32 header_size)
{
  return sspid_decrypt_result_encode (&(SspidDecryptResult) {
    status, bytes_variant (d != NULL ? d->plaintext : NULL), header_size,
    d != NULL ? d->record_size : 0, d != NULL ? d->extra : 0, d != NULL ? d->missing : 0 });
}

static gboolean
is_diagnostic (SspidCallKind kind)
{
  return kind == SSPID_CALL_GET_STATUS || kind == SSPID_CALL_LIST_CREDENTIALS
         || kind == SSPID_CALL_LIST_CONTEXTS || kind == SSPID_CALL_OPEN_CHANNEL
         || kind == SSPID_CALL_OPEN_CONNECTION;
}

static void
answer_dbus_error (SspidCall *call, SspidError code, const char *message)
{
  g_dbus_method_invocation_return_error_literal (g_steal_pointer (&call->invocation),
                                                 SSPID_ERROR, code, message);
  call_free (call);
}

/* The diagnostic methods have no status to answer with: what keeps them
 * from being served is a D-Bus error.  @limit: the limit hit, if that
 * was it. */
static void
answer_diagnostic_refusal (SspidCall *call, SECURITY_STATUS status, const char *limit)
{
  if (status == SEC_E_INSUFFICIENT_MEMORY)
    {
      g_autofree char *text = g_strdup_printf ("Limit %s reached",
                                               limit != NULL ? limit : "?");

      answer_dbus_error (call, SSPID_ERROR_LIMIT_EXCEEDED, text);
    }
  else if (status == SEC_E_NO_AUTHENTICATING_AUTHORITY)
    answer_dbus_error (call, SSPID_ERROR_INTERNAL, "The daemon is stopping");
  else
    answer_dbus_error (call, SSPID_ERROR_ACCESS_DENIED, "The caller could not be identified");
}

void
sspid_call_answer_status (SspidCall *call, SECURITY_STATUS status)
{
  switch (call->kind)
    {
    case SSPID_CALL_GET_STATUS:
    case SSPID_CALL_LIST_CREDENTIALS:
    case SSPID_CALL_LIST_CONTEXTS:
    case SSPID_CALL_OPEN_CHANNEL:
    case SSPID_CALL_OPEN_CONNECTION:
      answer_diagnostic_refusal (call, status, NULL);
      break;
    case SSPID_CALL_QUERY:
    case SSPID_CALL_QUERY_CREDENTIAL:
      deliver (call, encode_query (status, NULL));
      break;
    case SSPID_CALL_ENCRYPT:
      deliver (call, encode_encrypt (status, NULL, 0));
      break;
    case SSPID_CALL_DECRYPT:
      deliver (call, encode_decrypt (status, NULL, 0));
      break;
    case SSPID_CALL_APPLY_CONTROL:
      deliver (call, g_variant_new ("(u)", (guint32) status));
      break;
    default:
      sspid_call_answer_step (call, status, 0, NULL, 0, 0, 0, 0);
      break;
    }
}

/* The class of a limit's refusals: its name, without the value. */
static const char *
limit_class (const char *limit)
{
  g_autofree char *name = g_strndup (limit, strcspn (limit, "="));

  return g_intern_string (name);
}

void
sspid_call_answer_limit (SspidCall *call, char *limit)
{
  sspid_caller_log_refusal (call->caller, limit_class (limit), NULL, 0,
                            "%s refused: limit %s reached", call->method, limit);
  if (is_diagnostic (call->kind))
    answer_diagnostic_refusal (call, SEC_E_INSUFFICIENT_MEMORY, limit);
  else
    sspid_call_answer_status (call, SEC_E_INSUFFICIENT_MEMORY);
  g_free (limit);
}

void
sspid_call_answer_hello (SspidCall *call, const char *version, guint64 instance)
{
  deliver (call, g_variant_new ("(st)", version, instance));
}

void
sspid_call_answer_dict (SspidCall *call, GVariant *dict)
{
  deliver (call, g_variant_new_tuple (&dict, 1));
}

void
sspid_call_answer_facts (SspidCall *call, GVariant *facts)
{
  deliver (call, encode_query (SEC_E_OK, facts));
}

void
sspid_call_answer_list (SspidCall *call, GVariant *list)
{
  deliver (call, g_variant_new_tuple (&list, 1));
}

void
sspid_call_answer_fd (SspidCall *call, int fd)
{
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new_from_array (&fd, 1);   /* takes fd */

  g_dbus_method_invocation_return_value_with_unix_fd_list (
    g_steal_pointer (&call->invocation), g_variant_new ("(h)", 0), fds);
  call_free (call);
}

void
sspid_call_answer_internal_error (SspidCall *call, const char *message)
{
  answer_dbus_error (call, SSPID_ERROR_INTERNAL, message);
}

void
sspid_call_answer_error (SspidCall *call, SspidError code, const char *message)
{
  answer_dbus_error (call, code, message);
}

/* --- answers encoded off the main thread -------------------------------- */

/* Serialised here, on the worker, so that the main thread only copies it
 * into the message. */
static void
prepare (SspidCall *call, GVariant *body, gboolean is_step)
{
  g_assert (call->prepared == NULL);
  if (body != NULL)
    {
      call->prepared = g_variant_ref_sink (body);
      (void) g_variant_get_data (call->prepared);
    }
  call->prepared_is_step = is_step;
}

void
sspid_call_prepare_step (SspidCall *call, const SspidTlsStep *step, guint64 handle)
{
  prepare (call, encode_step (call, step->status, handle, step->token, step->attributes,
                              step->expiry, step->extra, step->missing, step->quic), TRUE);
}

void
sspid_call_prepare_query (SspidCall *call, const SspidTlsInfo *info)
{
  prepare (call, encode_query (SEC_E_OK, sspid_describe_tls (info)), FALSE);
}

void
sspid_call_prepare_encrypt (SspidCall *call, SECURITY_STATUS status, GBytes *record,
                            guint32 header_size)
{
  prepare (call, encode_encrypt (status, record, header_size), FALSE);
}

void
sspid_call_prepare_decrypt (SspidCall *call, const SspidTlsDecrypt *decrypt,
                            guint32 header_size)
{
  prepare (call, encode_decrypt (decrypt->status, decrypt, header_size), FALSE);
}

void
sspid_call_answer_prepared (SspidCall *call)
{
  GVariant *body = g_steal_pointer (&call->prepared);

  if (call->prepared_is_step)
    deliver_step (call, body);
  else
    deliver (call, body);
  g_clear_pointer (&body, g_variant_unref);
}
