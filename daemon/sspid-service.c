/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The D-Bus front (see sspid-service.h): the org.sspid1.Sspi object, one
 * handle_<method> per method, dispatched from a table.
 *
 * GDBus checks every call against the generated interface info first (an
 * unknown method or a wrong signature gets a D-Bus error without reaching
 * us).  Each call then becomes an SspidCall, counted as pending for its
 * connection until its one answer (sspid-work.c); calls wait for the
 * caller's identity (sspid-caller.c) before their handler runs.
 *
 * The read-only diagnostics (GetStatus, ListCredentials, ListContexts) run
 * on the main thread and never touch a session a worker is using: such a
 * context is listed as "busy".
 */
#include "config.h"

#include <gio/gunixfdlist.h>
#include <gnutls/gnutls.h>

#include "sspid-channel.h"
#include "sspid-dbus-generated.h"
#include "sspid-describe.h"
#include "sspid-proto.h"
#include "sspid-service-private.h"
#include "sspi.h"
#include "schannel.h"

/* --- handlers ----------------------------------------------------------- */

/* Queues @call on the caller's context @handle, or answers that there is
 * no such context. */
static void
queue_on_context (SspidCall *call, guint64 handle)
{
  SspidContext *ctx = sspid_caller_peek_context (call->caller, handle);

  if (ctx == NULL)
    {
      sspid_call_answer_status (call, SEC_E_INVALID_HANDLE);
      return;
    }
  sspid_context_enqueue (ctx, call);
}

static void
handle_hello (SspidCall *call)
{
  sspid_call_answer_value (call, g_variant_new ("(st)", PACKAGE_VERSION,
                                                call->service->instance));
}

static void
handle_acquire_credentials_handle (SspidCall *call)
{
  SspidService *service = call->service;
  const SspidRequest *request = &call->request;
  SspidCredential *cred = NULL;
  SECURITY_STATUS status;
  char *limit;
  guint64 handle;

  if ((limit = sspid_caller_check_credential_limit (call->caller)) != NULL)
    {
      sspid_call_answer_limit (call, limit);
      return;
    }

  status = sspid_credential_store_acquire (service->store, request->principal, request->use,
                                           request->protocols, request->flags,
                                           sspid_caller_peek_identity (call->caller), &cred);
  if (status != SEC_E_OK)
    {
      g_autofree char *name = sspid_log_escape (request->principal);

      sspid_caller_log_refusal (call->caller, "credential", NULL, 0, "credential \"%s\" (use %u) refused: 0x%08x",
                                name, request->use, (guint32) status);
      sspid_call_answer_status (call, status);
      return;
    }

  handle = sspid_caller_add_credential (call->caller, cred);
  sspid_caller_log (call->caller, G_LOG_LEVEL_INFO, "cred", handle, "acquired \"%s\" (use %u)",
                    sspid_credential_peek_name (cred), request->use);
  sspid_call_answer_step (call, SEC_E_OK, handle, NULL, 0, sspid_credential_get_expiry (cred),
                          0, 0);
}

static void
handle_free_credentials_handle (SspidCall *call)
{
  guint64 handle = call->request.cred_handle;

  if (!sspid_caller_remove_credential (call->caller, handle))
    {
      sspid_call_answer_status (call, SEC_E_INVALID_HANDLE);
      return;
    }
  sspid_caller_log (call->caller, G_LOG_LEVEL_DEBUG, "cred", handle, "freed");
  sspid_call_answer_status (call, SEC_E_OK);
}

/* A first ISC/ASC: a new context on credential @cred_handle. */
static SspidContext *
new_context (SspidCall *call, guint64 cred_handle, gboolean is_server)
{
  SspidCredential *cred = sspid_caller_peek_credential (call->caller, cred_handle);
  guint32 needed = is_server ? SECPKG_CRED_INBOUND : SECPKG_CRED_OUTBOUND;
  SspidContext *ctx;
  char *limit;

  if (cred == NULL)
    {
      sspid_call_answer_status (call, SEC_E_INVALID_HANDLE);
      return NULL;
    }
  if ((sspid_credential_get_use (cred) & needed) == 0)
    {
      sspid_call_answer_status (call, SEC_E_NO_CREDENTIALS);
      return NULL;
    }
  if ((limit = sspid_caller_check_context_limit (call->caller)) != NULL)
    {
      sspid_call_answer_limit (call, limit);
      return NULL;
    }

  ctx = sspid_context_new (call->service, call->caller, cred, is_server);
  ctx->handle = sspid_caller_add_context (call->caller, ctx);   /* the table's ref */
  if (!is_server)
    ctx->target = g_strdup (call->request.target_name);
  call->create = TRUE;
  sspid_caller_log (call->caller, G_LOG_LEVEL_DEBUG, "ctx", ctx->handle,
                    "new %s context with cred=0x%016" G_GINT64_MODIFIER "x (\"%s\")",
                    is_server ? "server" : "client", cred_handle,
                    sspid_credential_peek_name (cred));
  return ctx;
}

/* ISC or ASC: a first call makes the context, a later one continues it. */
static void
handle_step (SspidCall *call)
{
  const SspidRequest *request = &call->request;
  gboolean is_server = call->kind == SSPID_CALL_ACCEPT;
  SspidContext *ctx;

  if (request->ctx_handle == 0)
    {
      ctx = new_context (call, request->cred_handle, is_server);
      if (ctx == NULL)
        return;
    }
  else
    {
      /* As on Windows, the credential argument of a continuation is not
       * looked at: the context holds its own. */
      ctx = sspid_caller_peek_context (call->caller, request->ctx_handle);
      if (ctx == NULL || ctx->is_server != is_server)
        {
          sspid_call_answer_status (call, SEC_E_INVALID_HANDLE);
          return;
        }
    }
  sspid_context_enqueue (ctx, call);
}

/* Delete (behind a running step, whose result is still delivered first),
 * Query, Encrypt, Decrypt, ApplyControlToken: in order on the context. */
static void
handle_on_context (SspidCall *call)
{
  queue_on_context (call, call->request.ctx_handle);
}

/* --- diagnostics (sspictl) ---------------------------------------------- */

static void
handle_get_status (SspidCall *call)
{
  SspidService *service = call->service;
  SspidCounts counts;
  GVariantBuilder b;

  sspid_work_drain (service);
  sspid_caller_registry_get_counts (service->registry, &counts);
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "version", g_variant_new_string (PACKAGE_VERSION));
  g_variant_builder_add (&b, "{sv}", "gnutls-version",
                         g_variant_new_string (gnutls_check_version (NULL)));
  g_variant_builder_add (&b, "{sv}", "instance", g_variant_new_uint64 (service->instance));
  g_variant_builder_add (&b, "{sv}", "uptime-sec",
                         g_variant_new_uint64 ((guint64) (g_get_monotonic_time () - service->started)
                                               / G_USEC_PER_SEC));
  g_variant_builder_add (&b, "{sv}", "clients", g_variant_new_uint32 (counts.callers));
  g_variant_builder_add (&b, "{sv}", "contexts", g_variant_new_uint32 (counts.contexts));
  g_variant_builder_add (&b, "{sv}", "credentials", g_variant_new_uint32 (counts.credentials));
  /* Not counting this very call. */
  g_variant_builder_add (&b, "{sv}", "pending",
                         g_variant_new_uint32 (counts.pending > 0 ? counts.pending - 1 : 0));
  g_variant_builder_add (&b, "{sv}", "configured-credentials",
                         g_variant_new_uint32 (sspid_credential_store_get_n_loaded (service->store)));
  g_variant_builder_add (&b, "{sv}", "channels",
                         g_variant_new_uint32 (g_hash_table_size (service->channels)));
  g_variant_builder_add (&b, "{sv}", "channel-requests",
                         g_variant_new_uint64 (service->channel_requests));
  sspid_caller_charge_introspection (call->caller, 0);
  sspid_call_answer_value (call, g_variant_new ("(a{sv})", &b));
}

static void
handle_list_credentials (SspidCall *call)
{
  g_autoptr(GPtrArray) infos = sspid_credential_store_list (call->service->store,
                                                            sspid_caller_peek_identity (call->caller));
  GVariant *list = sspid_describe_credentials (infos);

  sspid_caller_charge_introspection (call->caller, infos->len);
  sspid_call_answer_value (call, g_variant_new_tuple (&list, 1));
}

/* ListContexts: the contexts to describe, oldest first. */
typedef struct {
  uid_t      uid;        /* of the caller asking */
  GPtrArray *contexts;   /* SspidContext *, borrowed */
} ListContexts;

static void
collect_context (gpointer key, gpointer value, gpointer user_data)
{
  SspidContext *ctx = value;
  ListContexts *list = user_data;
  const SspidIdentity *owner = sspid_caller_peek_identity (ctx->caller);

  /* A uid sees what its own processes hold (it could read their memory
   * anyway); root sees everything. */
  if (owner != NULL && (list->uid == 0 || owner->uid == list->uid))
    g_ptr_array_add (list->contexts, ctx);
}

static int
compare_created (gconstpointer a, gconstpointer b)
{
  const SspidContext *x = *(SspidContext *const *) a, *y = *(SspidContext *const *) b;

  return x->created < y->created ? -1 : x->created > y->created;
}

/* Protocol, cipher and peer of an established session, learned once:
 * asking the engine costs more than a listing should, over thousands of
 * contexts.  Main thread, and only for a context with no call on a
 * worker: the session is the running call's until it comes back. */
static void
describe_session (SspidContext *ctx)
{
  g_autoptr(SspidTlsInfo) info = sspid_tls_get_info (ctx->tls);

  ctx->protocol = g_strdup (info->protocol_name);
  ctx->cipher = g_strdup (info->cipher);
  if (info->peer_certificates != NULL && info->peer_certificates->len > 0)
    {
      gsize len;
      const guint8 *der = g_bytes_get_data (info->peer_certificates->pdata[0], &len);

      ctx->peer = sspid_certificate_dup_subject (der, len);
    }
  ctx->described = TRUE;
}

static void
add_string (GVariantBuilder *b, const char *key, const char *value)
{
  if (value != NULL)
    g_variant_builder_add (b, "{sv}", key, g_variant_new_string (value));
}

static GVariant *
describe_context (SspidContext *ctx, SspidCaller *asker, gint64 now)
{
  const SspidIdentity *owner = sspid_caller_peek_identity (ctx->caller);
  gboolean own = ctx->caller == asker;
  const char *state;
  GVariantBuilder b;

  if (ctx->expired)
    state = "expired";
  else if (ctx->running)
    state = "busy";
  else if (ctx->tls == NULL)
    state = "handshake";
  else
    state = sspid_tls_get_state_name (ctx->tls);

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "owner-uid", g_variant_new_uint32 ((guint32) owner->uid));
  g_variant_builder_add (&b, "{sv}", "owner-pid", g_variant_new_uint32 ((guint32) owner->pid));
  g_variant_builder_add (&b, "{sv}", "own", g_variant_new_boolean (own));
  if (own)
    g_variant_builder_add (&b, "{sv}", "handle", g_variant_new_uint64 (ctx->handle));
  g_variant_builder_add (&b, "{sv}", "role",
                         g_variant_new_string (ctx->is_server ? "server" : "client"));
  g_variant_builder_add (&b, "{sv}", "state", g_variant_new_string (state));
  g_variant_builder_add (&b, "{sv}", "credential",
                         g_variant_new_string (sspid_credential_peek_name (ctx->cred)));
  if (!ctx->is_server)
    g_variant_builder_add (&b, "{sv}", "target",
                           g_variant_new_string (ctx->target != NULL ? ctx->target : ""));
  if (!ctx->described && !ctx->running && !ctx->expired && ctx->tls != NULL
      && sspid_tls_is_established (ctx->tls))
    describe_session (ctx);
  add_string (&b, "protocol", ctx->protocol);
  add_string (&b, "cipher", ctx->cipher);
  add_string (&b, "peer", ctx->peer);
  g_variant_builder_add (&b, "{sv}", "age-sec",
                         g_variant_new_uint64 ((guint64) (now - ctx->created) / G_USEC_PER_SEC));
  return g_variant_builder_end (&b);
}

static void
handle_list_contexts (SspidCall *call)
{
  g_autoptr(GPtrArray) contexts = g_ptr_array_new ();
  ListContexts list = { sspid_caller_peek_identity (call->caller)->uid, contexts };
  gint64 now = g_get_monotonic_time ();
  GVariantBuilder b;

  sspid_work_drain (call->service);
  sspid_caller_registry_foreach_context (call->service->registry, collect_context, &list);
  g_ptr_array_sort (contexts, compare_created);

  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < MIN (contexts->len, SSPID_LIST_CONTEXTS_MAX); i++)
    g_variant_builder_add_value (&b, describe_context (contexts->pdata[i], call->caller, now));
  sspid_caller_charge_introspection (call->caller, MIN (contexts->len, SSPID_LIST_CONTEXTS_MAX));
  sspid_call_answer_value (call, g_variant_new ("(aa{sv})", &b));
}

/* --- record channels ---------------------------------------------------- */

static void
handle_open_record_channel (SspidCall *call)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GUnixFDList) fds = NULL;
  int fd;

  if (sspid_caller_count_attached (call->caller) >= SSPID_CHANNEL_MAX_PER_CONNECTION)
    {
      sspid_call_answer_limit (call, g_strdup_printf ("record channels per connection=%d",
                                                      SSPID_CHANNEL_MAX_PER_CONNECTION));
      return;
    }
  if (sspid_channel_is_closer_backed_up ())
    {
      sspid_call_answer_limit (call, g_strdup_printf ("descriptors being closed=%d",
                                                      SSPID_CHANNEL_MAX_CLOSING));
      return;
    }
  /* Each holds a descriptor of ours: a user with many connections must
   * not use up the daemon's. */
  if (sspid_channel_count_for_uid (call->service, sspid_caller_peek_identity (call->caller)->uid)
      >= SSPID_CHANNEL_MAX_PER_USER)
    {
      sspid_call_answer_limit (call, g_strdup_printf ("record channels per user=%d",
                                                      SSPID_CHANNEL_MAX_PER_USER));
      return;
    }
  fd = sspid_channel_open (call->service, call->caller, &error);
  if (fd < 0)
    {
      sspid_caller_log (call->caller, G_LOG_LEVEL_WARNING, NULL, 0,
                        "cannot open a record channel: %s", error->message);
      g_dbus_method_invocation_return_dbus_error (g_steal_pointer (&call->invocation),
                                                  SSPID_ERROR_INTERNAL,
                                                  "Cannot open a record channel");
      sspid_call_free (call);
      return;
    }
  fds = g_unix_fd_list_new_from_array (&fd, 1);   /* takes fd */
  g_dbus_method_invocation_return_value_with_unix_fd_list (
    g_steal_pointer (&call->invocation), g_variant_new ("(h)", 0), fds);
  sspid_call_free (call);
}

/* --- dispatch ----------------------------------------------------------- */

/* Indexed by SspidCallKind. */
static void (*const handlers[]) (SspidCall *call) = {
  [SSPID_CALL_HELLO] = handle_hello,
  [SSPID_CALL_ACQUIRE] = handle_acquire_credentials_handle,
  [SSPID_CALL_INITIALIZE] = handle_step,
  [SSPID_CALL_ACCEPT] = handle_step,
  [SSPID_CALL_DELETE] = handle_on_context,
  [SSPID_CALL_FREE] = handle_free_credentials_handle,
  [SSPID_CALL_QUERY] = handle_on_context,
  [SSPID_CALL_ENCRYPT] = handle_on_context,
  [SSPID_CALL_DECRYPT] = handle_on_context,
  [SSPID_CALL_APPLY_CONTROL] = handle_on_context,
  [SSPID_CALL_GET_STATUS] = handle_get_status,
  [SSPID_CALL_LIST_CREDENTIALS] = handle_list_credentials,
  [SSPID_CALL_LIST_CONTEXTS] = handle_list_contexts,
  [SSPID_CALL_OPEN_CHANNEL] = handle_open_record_channel,
};
G_STATIC_ASSERT (G_N_ELEMENTS (handlers) == SSPID_CALL_OPEN_CHANNEL + 1);

static gboolean
is_introspection (SspidCallKind kind)
{
  return kind == SSPID_CALL_GET_STATUS || kind == SSPID_CALL_LIST_CREDENTIALS
         || kind == SSPID_CALL_LIST_CONTEXTS;
}

/* Why the decoder refused @call.  A refused record is the caller's own
 * business: debug level; anything else is a refusal. */
static void
log_refused_request (SspidCall *call)
{
  const SspidRequest *request = &call->request;
  g_autofree char *why = NULL;

  if (request->refused == NULL && request->input == NULL)
    return;    /* an unknown package or credential use: the answer says it */
  if (request->refused != NULL)
    why = g_strdup (request->refused);
  else
    why = g_strdup_printf ("input of %" G_GSIZE_FORMAT " bytes is over max-token-size=%u",
                           g_variant_get_size (request->input),
                           call->service->config->max_token_size);
  if (call->kind == SSPID_CALL_ENCRYPT || call->kind == SSPID_CALL_DECRYPT)
    sspid_caller_log (call->caller, G_LOG_LEVEL_DEBUG, "ctx", request->ctx_handle,
                      "%s refused: %s", call->method, why);
  else
    sspid_caller_log_refusal (call->caller, "request", "ctx", request->ctx_handle,
                              "%s refused: %s",
                              call->method, why);
}

void
sspid_call_dispatch (SspidCall *call)
{
  SspidCaller *caller = call->caller;
  SECURITY_STATUS status;
  char *limit;

  if (call->service->shutting_down)
    {
      sspid_call_answer_status (call, SEC_E_NO_AUTHENTICATING_AUTHORITY);
      return;
    }
  if (sspid_caller_peek_identity (caller) == NULL)
    {
      /* Logged once, when the identity could not be learned. */
      sspid_caller_log (caller, G_LOG_LEVEL_DEBUG, NULL, 0, "%s denied: caller not identified",
                        call->method);
      sspid_call_answer_status (call, SEC_E_INTERNAL_ERROR);
      return;
    }

  if (is_introspection (call->kind)
      && (limit = sspid_caller_check_introspection_limit (caller)) != NULL)
    {
      sspid_call_answer_limit (call, limit);
      return;
    }
  status = sspid_request_decode (call->kind, call->params,
                                 call->service->config->max_token_size, &call->request);
  if (status != SEC_E_OK)
    {
      log_refused_request (call);
      sspid_call_answer_status (call, status);
      return;
    }
  handlers[call->kind] (call);
}

/* --- intake: users take turns at the main thread ----------------------- */

/* Calls handled per turn of the main loop before the intake lets other
 * sources (the bus, channels, worker results) run. */
#define INTAKE_BATCH 16

/* GDBus hands calls to the main thread in the order they came, whoever
 * sent them.  Handing one over costs little; handling it (an acquire, a
 * free, a context made, a reply serialized) costs more, so a user who
 * keeps hundreds of cheap calls in flight would otherwise stand between
 * every other user's call and its handler.  So calls wait here, in their
 * user's lane of a fair queue, and the main thread handles them in turns
 * (DESIGN.md: fairness). */
static gboolean
intake_cb (gpointer user_data)
{
  SspidService *service = user_data;
  SspidCall *call;

  for (guint i = 0; i < INTAKE_BATCH && (call = sspid_fair_queue_pop (service->intake)) != NULL;
       i++)
    sspid_call_dispatch (call);
  if (sspid_fair_queue_is_empty (service->intake))
    {
      service->intake_id = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

/* Runs once the caller's identity is settled (sspid-caller.h). */
static void
dispatch_identified (SspidCaller *caller, GDBusMethodInvocation *invocation,
                     gpointer user_data)
{
  SspidService *service = ((SspidCall *) user_data)->service;
  const SspidIdentity *who = sspid_caller_peek_identity (caller);

  /* Not identified: denied at its turn, in a lane of its own. */
  sspid_fair_queue_push (service->intake, who != NULL ? (guint) who->uid : G_MAXUINT,
                         user_data);
  if (service->intake_id == 0)
    service->intake_id = g_idle_add_full (G_PRIORITY_DEFAULT, intake_cb, service, NULL);
}

static void
method_call (GDBusConnection *connection, const char *sender, const char *object_path,
             const char *interface_name, const char *method_name, GVariant *parameters,
             GDBusMethodInvocation *invocation, gpointer user_data)
{
  SspidService *service = user_data;
  const SspidMethod *method = sspid_request_lookup_method (method_name);
  GDBusMessage *message = g_dbus_method_invocation_get_message (invocation);
  SspidCall *call;
  char *limit;

  /* GDBus checks names and signatures against the interface info first;
   * this is for the day the XML and this table drift apart. */
  if (method == NULL)
    {
      g_dbus_method_invocation_return_dbus_error (invocation,
                                                  "org.freedesktop.DBus.Error.UnknownMethod",
                                                  "No such method");
      return;
    }

  call = g_new0 (SspidCall, 1);
  call->service = service;
  call->invocation = invocation;
  call->params = g_variant_ref (parameters);
  call->kind = method->kind;
  call->method = method->name;
  call->no_reply = (g_dbus_message_get_flags (message)
                    & G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED) != 0;
  if (method->has_call_id)
    g_variant_get_child (parameters, 0, "t", &call->call_id);

  /* Hello needs no identity: it answers at once and costs the caller no
   * registry entry. */
  if (method->kind == SSPID_CALL_HELLO)
    {
      handle_hello (call);
      return;
    }

  call->caller = sspid_caller_ref (sspid_caller_registry_peek (service->registry, sender));
  if ((limit = sspid_caller_check_pending_limit (call->caller)) != NULL)
    {
      sspid_caller_pending_begin (call->caller);
      sspid_call_answer_limit (call, limit);
      return;
    }
  sspid_caller_pending_begin (call->caller);
  sspid_caller_run_identified (call->caller, invocation, dispatch_identified, call);
}

static const GDBusInterfaceVTable interface_vtable = {
  .method_call = method_call,
};

/* --- the service -------------------------------------------------------- */

SspidService *
sspid_service_new (GDBusConnection *connection, SspidConfig *config,
                   SspidCredentialStore *store, GError **error)
{
  g_autoptr(SspidService) service = g_new0 (SspidService, 1);

  service->connection = g_object_ref (connection);
  service->main_context = g_main_context_ref_thread_default ();
  service->config = config;
  service->store = store;
  service->instance = sspid_random_u64 ();
  service->started = g_get_monotonic_time ();
  service->registry = sspid_caller_registry_new (connection, config, sspid_context_release);
  service->intake = sspid_fair_queue_new ();
  service->channels = g_hash_table_new (NULL, NULL);
  service->channel_uids = g_hash_table_new (NULL, NULL);
  if (!sspid_work_start (service, error))
    return NULL;

  service->registration_id =
    g_dbus_connection_register_object (connection, SSPID_OBJECT_PATH,
                                       sspid_dbus_sspi_interface_info (),
                                       &interface_vtable, service, NULL, error);
  if (service->registration_id == 0)
    return NULL;
  return g_steal_pointer (&service);
}

void
sspid_service_free (SspidService *service)
{
  if (service == NULL)
    return;

  /* From here on every call still pending is answered, none started. */
  service->shutting_down = TRUE;
  if (service->registration_id != 0)
    g_dbus_connection_unregister_object (service->connection, service->registration_id);
  /* What waits for its turn is answered (the daemon is stopping). */
  if (service->intake_id != 0)
    g_source_remove (service->intake_id);
  service->intake_id = 0;
  while (!sspid_fair_queue_is_empty (service->intake))
    sspid_call_dispatch (sspid_fair_queue_pop (service->intake));
  g_clear_pointer (&service->intake, sspid_fair_queue_free);
  sspid_work_stop (service);
  /* Releases every caller, context and credential, answering what waits. */
  sspid_caller_registry_free (service->registry);
  sspid_work_clear (service);
  /* Every channel belonged to a caller, and closed with it. */
  if (service->channels != NULL)
    {
      g_assert (g_hash_table_size (service->channels) == 0);
      g_hash_table_unref (service->channels);
      g_hash_table_unref (service->channel_uids);
    }

  g_clear_pointer (&service->store, sspid_credential_store_free);
  g_clear_pointer (&service->config, sspid_config_free);
  g_main_context_unref (service->main_context);
  g_object_unref (service->connection);
  g_free (service);
}

void
sspid_service_reload (SspidService *service, SspidConfig *config,
                      SspidCredentialStore *store)
{
  /* Safe to drop at once: ACH runs on this thread, and what acquired
   * credentials need they hold references to. */
  sspid_credential_store_free (service->store);
  sspid_config_free (service->config);
  service->store = store;
  service->config = config;
  sspid_caller_registry_set_limits (service->registry, config);
}

void
sspid_service_get_counts (SspidService *service, SspidCounts *counts)
{
  sspid_caller_registry_get_counts (service->registry, counts);
}

guint64
sspid_service_get_instance (SspidService *service)
{
  return service->instance;
}
