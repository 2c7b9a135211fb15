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
#include "sspid-proto.h"
#include "sspid-service-private.h"
#include "sspi.h"
#include "schannel.h"

/* --- handlers ----------------------------------------------------------- */

/* From the bus or from a record channel: the same shape either way. */
static GVariant *
call_parameters (SspidCall *call)
{
  return call->params;
}

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

/* Reads an optional "u" from @auth_data; FALSE if present with another type. */
static gboolean
lookup_u32 (GVariant *auth_data, const char *key, guint32 *value)
{
  g_autoptr(GVariant) v = g_variant_lookup_value (auth_data, key, NULL);

  *value = 0;
  if (v == NULL)
    return TRUE;
  if (!g_variant_is_of_type (v, G_VARIANT_TYPE_UINT32))
    return FALSE;
  *value = g_variant_get_uint32 (v);
  return TRUE;
}

static void
handle_acquire_credentials_handle (SspidCall *call)
{
  SspidService *service = call->service;
  const char *principal, *package;
  guint32 use, protocols, flags;
  g_autoptr(GVariant) auth_data = NULL;
  SspidCredential *cred = NULL;
  SECURITY_STATUS status;
  char *limit;
  guint64 handle;

  g_variant_get (call_parameters (call), "(t&s&su@a{sv})", NULL, &principal, &package,
                 &use, &auth_data);

  if (g_ascii_strcasecmp (package, SCHANNEL_NAME_A) != 0
      && g_ascii_strcasecmp (package, UNISP_NAME_A) != 0)
    {
      sspid_call_answer_status (call, SEC_E_SECPKG_NOT_FOUND);
      return;
    }
  if ((use & SECPKG_CRED_BOTH) == 0
      || !lookup_u32 (auth_data, "enabled-protocols", &protocols)
      || !lookup_u32 (auth_data, "flags", &flags))
    {
      sspid_call_answer_status (call, SEC_E_INVALID_PARAMETER);
      return;
    }
  if ((limit = sspid_caller_check_credential_limit (call->caller)) != NULL)
    {
      sspid_call_answer_limit (call, limit);
      return;
    }

  status = sspid_credential_store_acquire (service->store, principal, use, protocols, flags,
                                           sspid_caller_peek_identity (call->caller), &cred);
  if (status != SEC_E_OK)
    {
      sspid_caller_log (call->caller, G_LOG_LEVEL_MESSAGE, NULL, 0,
                        "credential \"%s\" (use %u) refused: 0x%08x", principal, use,
                        (guint32) status);
      sspid_call_answer_status (call, status);
      return;
    }

  handle = sspid_caller_add_credential (call->caller, cred);
  sspid_caller_log (call->caller, G_LOG_LEVEL_INFO, "cred", handle, "acquired \"%s\" (use %u)",
                    principal, use);
  sspid_call_answer_step (call, SEC_E_OK, handle, NULL, 0, sspid_credential_get_expiry (cred),
                          0, 0);
}

static void
handle_free_credentials_handle (SspidCall *call)
{
  guint64 handle;

  g_variant_get (call_parameters (call), "(tt)", NULL, &handle);
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
    ctx->target = g_strdup (call->target_name);
  call->create = TRUE;
  sspid_caller_log (call->caller, G_LOG_LEVEL_DEBUG, "ctx", ctx->handle,
                    "new %s context with cred=0x%016" G_GINT64_MODIFIER "x (\"%s\")",
                    is_server ? "server" : "client", cred_handle,
                    sspid_credential_peek_name (cred));
  return ctx;
}

static void
handle_step (SspidCall *call, guint64 cred_handle, guint64 ctx_handle, gboolean is_server)
{
  guint max = call->service->config->max_token_size;
  SspidContext *ctx;

  if (max > 0 && g_variant_get_size (call->input) > max)
    {
      sspid_caller_log (call->caller, G_LOG_LEVEL_MESSAGE, "ctx", ctx_handle,
                        "%s refused: input of %" G_GSIZE_FORMAT
                        " bytes is over max-token-size=%u", call->method,
                        g_variant_get_size (call->input), max);
      sspid_call_answer_status (call, SEC_E_INVALID_TOKEN);
      return;
    }

  if (ctx_handle == 0)
    {
      ctx = new_context (call, cred_handle, is_server);
      if (ctx == NULL)
        return;
    }
  else
    {
      /* As on Windows, the credential argument of a continuation is not
       * looked at: the context holds its own. */
      ctx = sspid_caller_peek_context (call->caller, ctx_handle);
      if (ctx == NULL || ctx->is_server != is_server)
        {
          sspid_call_answer_status (call, SEC_E_INVALID_HANDLE);
          return;
        }
    }
  sspid_context_enqueue (ctx, call);
}

static void
handle_initialize_security_context (SspidCall *call)
{
  guint64 cred_handle, ctx_handle;

  g_variant_get (call_parameters (call), "(ttt&su@ay^a&s)", NULL, &cred_handle,
                 &ctx_handle, &call->target_name, &call->context_req, &call->input,
                 &call->alpn);
  handle_step (call, cred_handle, ctx_handle, FALSE);
}

static void
handle_accept_security_context (SspidCall *call)
{
  guint64 cred_handle, ctx_handle;

  g_variant_get (call_parameters (call), "(tttu@ay^a&s)", NULL, &cred_handle,
                 &ctx_handle, &call->context_req, &call->input, &call->alpn);
  handle_step (call, cred_handle, ctx_handle, TRUE);
}

static void
handle_delete_security_context (SspidCall *call)
{
  guint64 handle;

  g_variant_get (call_parameters (call), "(tt)", NULL, &handle);
  /* Behind a running step, whose result is still delivered first. */
  queue_on_context (call, handle);
}

static void
handle_query_context (SspidCall *call)
{
  guint64 handle;

  g_variant_get (call_parameters (call), "(t)", &handle);
  queue_on_context (call, handle);
}

static void
handle_encrypt_message (SspidCall *call)
{
  guint max = call->service->config->max_token_size;
  guint64 handle;

  g_variant_get (call_parameters (call), "(t@ay)", &handle, &call->input);
  /* What the engine says for more than a record holds. */
  if (max > 0 && g_variant_get_size (call->input) > max)
    {
      sspid_call_answer_status (call, SEC_E_INVALID_PARAMETER);
      return;
    }
  queue_on_context (call, handle);
}

static void
handle_decrypt_message (SspidCall *call)
{
  guint max = call->service->config->max_token_size;
  guint64 handle;

  g_variant_get (call_parameters (call), "(t@ay)", &handle, &call->input);
  if (max > 0 && g_variant_get_size (call->input) > max)
    {
      sspid_call_answer_status (call, SEC_E_INVALID_TOKEN);
      return;
    }
  queue_on_context (call, handle);
}

static void
handle_apply_control_token (SspidCall *call)
{
  guint64 handle;

  g_variant_get (call_parameters (call), "(tuuu)", &handle, &call->token_type,
                 &call->alert_type, &call->alert_number);
  queue_on_context (call, handle);
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
  sspid_call_answer_value (call, g_variant_new ("(a{sv})", &b));
}

static void
handle_list_credentials (SspidCall *call)
{
  GVariant *list = sspid_credential_store_describe (call->service->store,
                                                    sspid_caller_peek_identity (call->caller));

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
  g_autoptr(GVariant) info = g_variant_ref_sink (sspid_tls_query_info (ctx->tls));
  g_autoptr(GVariant) peers = g_variant_lookup_value (info, "peer-certificates",
                                                      G_VARIANT_TYPE ("aay"));

  g_variant_lookup (info, "protocol-name", "s", &ctx->protocol);
  g_variant_lookup (info, "cipher", "s", &ctx->cipher);
  if (peers != NULL && g_variant_n_children (peers) > 0)
    {
      g_autoptr(GVariant) leaf = g_variant_get_child_value (peers, 0);
      gsize len;
      const guint8 *der = g_variant_get_fixed_array (leaf, &len, 1);

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
  for (guint i = 0; i < contexts->len; i++)
    g_variant_builder_add_value (&b, describe_context (contexts->pdata[i], call->caller, now));
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

typedef struct {
  const char   *name;
  SspidCallKind kind;
  gboolean      has_call_id;   /* an asynchronous method: answers a step result */
  void        (*handle) (SspidCall *call);
} Method;

static const Method methods[] = {
  { "Hello", SSPID_CALL_HELLO, FALSE, handle_hello },
  { "AcquireCredentialsHandle", SSPID_CALL_ACQUIRE, TRUE, handle_acquire_credentials_handle },
  { "InitializeSecurityContext", SSPID_CALL_INITIALIZE, TRUE,
    handle_initialize_security_context },
  { "AcceptSecurityContext", SSPID_CALL_ACCEPT, TRUE, handle_accept_security_context },
  { "DeleteSecurityContext", SSPID_CALL_DELETE, TRUE, handle_delete_security_context },
  { "FreeCredentialsHandle", SSPID_CALL_FREE, TRUE, handle_free_credentials_handle },
  { "QueryContext", SSPID_CALL_QUERY, FALSE, handle_query_context },
  { "EncryptMessage", SSPID_CALL_ENCRYPT, FALSE, handle_encrypt_message },
  { "DecryptMessage", SSPID_CALL_DECRYPT, FALSE, handle_decrypt_message },
  { "ApplyControlToken", SSPID_CALL_APPLY_CONTROL, FALSE, handle_apply_control_token },
  { "GetStatus", SSPID_CALL_GET_STATUS, FALSE, handle_get_status },
  { "ListCredentials", SSPID_CALL_LIST_CREDENTIALS, FALSE, handle_list_credentials },
  { "ListContexts", SSPID_CALL_LIST_CONTEXTS, FALSE, handle_list_contexts },
  { SSPID_METHOD_OPEN_RECORD_CHANNEL, SSPID_CALL_OPEN_CHANNEL, FALSE,
    handle_open_record_channel },
};

void
sspid_call_dispatch (SspidCall *call)
{
  SspidCaller *caller = call->caller;
  const Method *method = NULL;

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

  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++)
    if (methods[i].kind == call->kind)
      method = &methods[i];
  g_assert (method != NULL);
  method->handle (call);
}

/* Runs once the caller's identity is settled (sspid-caller.h). */
static void
dispatch_identified (SspidCaller *caller, GDBusMethodInvocation *invocation,
                     gpointer user_data)
{
  sspid_call_dispatch (user_data);
}

static void
method_call (GDBusConnection *connection, const char *sender, const char *object_path,
             const char *interface_name, const char *method_name, GVariant *parameters,
             GDBusMethodInvocation *invocation, gpointer user_data)
{
  SspidService *service = user_data;
  const Method *method = NULL;
  GDBusMessage *message = g_dbus_method_invocation_get_message (invocation);
  SspidCall *call;
  char *limit;

  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++)
    if (g_str_equal (methods[i].name, method_name))
      method = &methods[i];
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
      method->handle (call);
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
  service->channels = g_hash_table_new (NULL, NULL);
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
  sspid_work_stop (service);
  /* Releases every caller, context and credential, answering what waits. */
  sspid_caller_registry_free (service->registry);
  sspid_work_clear (service);
  /* Every channel belonged to a caller, and closed with it. */
  if (service->channels != NULL)
    {
      g_assert (g_hash_table_size (service->channels) == 0);
      g_hash_table_unref (service->channels);
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
