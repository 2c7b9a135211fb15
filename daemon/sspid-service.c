/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The D-Bus front (see sspid-service.h): the org.sspid1.Sspi object, one
 * handle_<method> per method, dispatched from a table.
 *
 * GDBus checks every call against the generated interface info first (an
 * unknown method or a wrong signature gets a D-Bus error without reaching
 * us).  Each call then becomes an SspidCall (sspid-call.c), counted as
 * pending for its connection until its one answer; calls wait for the
 * caller's identity (sspid-caller.c) and then their user's turn (the
 * intake) before their handler runs.  Calls on a context queue there
 * (sspid-context.c); a record channel's requests (sspid-channels.c) come
 * in through service_dispatch(), which the channel set is given, and a
 * peer connection's method calls (sspid-peers.c) through serve_call(), as
 * the bus's do, with the peer connection's caller.
 *
 * The calls go one way: main -> this file -> {call, context, caller,
 * channels, peers, request} -> {worker pool, engine, credentials}.
 *
 * The read-only diagnostics (GetStatus, ListCredentials, ListContexts) run
 * on the main thread and never touch a session a worker is using: such a
 * context is listed as "busy".
 */
#include "config.h"

#include <gnutls/gnutls.h>

#include "sspid-call.h"
#include "sspid-caller.h"
#include "sspid-channel.h"
#include "sspid-channels.h"
#include "sspid-context.h"
#include "sspid-dbus-generated.h"
#include "sspid-error.h"
#include "sspid-describe.h"
#include "sspid-fair.h"
#include "sspid-peers.h"
#include "sspid-proto.h"
#include "sspid-request.h"
#include "sspid-service.h"
#include "sspi.h"
#include "schannel.h"

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
  SspidContextRunner   *runner;       /* the worker pool behind the contexts */
  guint                 reaper_id;
  SspidChannels        *channels;
  SspidPeers           *peers;
  gboolean              shutting_down;
};

#define STATUS_IS_ERROR(s) ((gint32) (s) < 0)

/* --- handlers ----------------------------------------------------------- */

/* Queues @call on the caller's context @handle, or answers that there is
 * no such context. */
static void
queue_on_context (SspidCall *call, guint64 handle)
{
  SspidContext *ctx = sspid_caller_peek_context (sspid_call_peek_caller (call), handle);

  if (ctx == NULL)
    {
      sspid_call_answer_status (call, SEC_E_INVALID_HANDLE);
      return;
    }
  sspid_context_enqueue (ctx, call);
}

static void
handle_hello (SspidService *service, SspidCall *call)
{
  sspid_call_answer_hello (call, PACKAGE_VERSION, service->instance);
}

static void
handle_acquire_credentials_handle (SspidService *service, SspidCall *call)
{
  SspidCaller *caller = sspid_call_peek_caller (call);
  const SspidRequest *request = sspid_call_peek_request (call);
  SspidCredential *cred = NULL;
  SECURITY_STATUS status;
  char *limit;
  guint64 handle;

  if ((limit = sspid_caller_check_credential_limit (caller)) != NULL)
    {
      sspid_call_answer_limit (call, limit);
      return;
    }

  status = sspid_credential_store_acquire (service->store, request->principal, request->use,
                                           request->protocols, request->flags,
                                           sspid_caller_peek_identity (caller), &cred);
  if (status != SEC_E_OK)
    {
      g_autofree char *name = sspid_log_escape (request->principal);

      sspid_caller_log_refusal (caller, "credential", NULL, 0,
                                "credential \"%s\" (use %u) refused: 0x%08x",
                                name, request->use, (guint32) status);
      sspid_call_answer_status (call, status);
      return;
    }

  handle = sspid_caller_add_credential (caller, cred);
  sspid_caller_log (caller, G_LOG_LEVEL_INFO, "cred", handle, "acquired \"%s\" (use %u)",
                    sspid_credential_peek_name (cred), request->use);
  sspid_call_answer_step (call, SEC_E_OK, handle, NULL, 0, sspid_credential_get_expiry (cred),
                          0, 0);
}

static void
handle_free_credentials_handle (SspidService *service, SspidCall *call)
{
  SspidCaller *caller = sspid_call_peek_caller (call);
  guint64 handle = sspid_call_peek_request (call)->cred_handle;

  if (!sspid_caller_remove_credential (caller, handle))
    {
      sspid_call_answer_status (call, SEC_E_INVALID_HANDLE);
      return;
    }
  sspid_caller_log (caller, G_LOG_LEVEL_DEBUG, "cred", handle, "freed");
  sspid_call_answer_status (call, SEC_E_OK);
}

/* A first ISC/ASC: a new context on credential @cred_handle. */
static SspidContext *
new_context (SspidService *service, SspidCall *call, guint64 cred_handle, gboolean is_server)
{
  SspidCaller *caller = sspid_call_peek_caller (call);
  SspidCredential *cred = sspid_caller_peek_credential (caller, cred_handle);
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
  if ((limit = sspid_caller_check_context_limit (caller)) != NULL)
    {
      sspid_call_answer_limit (call, limit);
      return NULL;
    }

  ctx = sspid_context_new (service->runner, caller, cred, is_server,
                           sspid_call_peek_request (call));
  sspid_caller_log (caller, G_LOG_LEVEL_DEBUG, "ctx", sspid_context_get_handle (ctx),
                    "new %s context with cred=0x%016" G_GINT64_MODIFIER "x (\"%s\")",
                    is_server ? "server" : "client", cred_handle,
                    sspid_credential_peek_name (cred));
  return ctx;
}

/* A DTLS server's first ASC: a ClientHello without our cookie is answered
 * here with a HelloVerifyRequest (SEC_I_CONTINUE_NEEDED, no context
 * handle), anything else that is no ClientHello with SEC_E_INVALID_TOKEN,
 * before a context, a session or a worker is spent on a source address
 * nobody proved (sspid-tls-dtls.c).  The client answers with the cookie,
 * and the server's next ASC, again without a context, makes one.  TRUE
 * when the call goes on. */
static gboolean
is_cookie_checked (SspidCall *call)
{
  const SspidRequest *request = sspid_call_peek_request (call);
  g_autoptr (GBytes) hello_verify = NULL;
  gsize len = 0;
  const guint8 *input = request->input != NULL
                        ? g_variant_get_fixed_array (request->input, &len, 1) : NULL;

  SspidCredential *cred = sspid_caller_peek_credential (sspid_call_peek_caller (call),
                                                        request->cred_handle);

  /* No such credential, or one without DTLS: new_context() and the
   * first step answer that, as for any first call. */
  if (cred == NULL || sspid_credential_peek_dtls_priority (cred, TRUE) == NULL)
    return TRUE;
  if (sspid_tls_dtls_check_cookie (input, len, &hello_verify))
    return TRUE;
  sspid_call_answer_step (call, hello_verify != NULL ? SEC_I_CONTINUE_NEEDED : SEC_E_INVALID_TOKEN,
                          0, hello_verify, 0, 0, 0, 0);
  return FALSE;
}

/* ISC or ASC: a first call makes the context, a later one continues it. */
static void
handle_step (SspidService *service, SspidCall *call)
{
  const SspidRequest *request = sspid_call_peek_request (call);
  gboolean is_server = sspid_call_get_kind (call) == SSPID_CALL_ACCEPT;
  SspidContext *ctx;

  if (request->ctx_handle == 0)
    {
      if (is_server && (request->context_req & ASC_REQ_DATAGRAM) &&
          !is_cookie_checked (call))
        return;
      ctx = new_context (service, call, request->cred_handle, is_server);
      if (ctx == NULL)
        return;
    }
  else
    {
      /* As on Windows, the credential argument of a continuation is not
       * looked at: the context holds its own. */
      ctx = sspid_caller_peek_context (sspid_call_peek_caller (call), request->ctx_handle);
      if (ctx == NULL || sspid_context_is_server (ctx) != is_server)
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
handle_on_context (SspidService *service, SspidCall *call)
{
  queue_on_context (call, sspid_call_peek_request (call)->ctx_handle);
}

/* QueryCredential: on the main thread, as AcquireCredentialsHandle (no
 * session is touched; the priorities it reads are parsed once). */
static void
handle_query_credential (SspidService *service, SspidCall *call)
{
  SspidCredential *cred = sspid_caller_peek_credential (sspid_call_peek_caller (call),
                                                        sspid_call_peek_request (call)->cred_handle);
  SspidTlsAlgorithms algs;
  SECURITY_STATUS status;

  if (cred == NULL)
    {
      sspid_call_answer_status (call, SEC_E_INVALID_HANDLE);
      return;
    }
  status = sspid_tls_describe_credential (cred, &algs);
  if (status != SEC_E_OK)
    {
      sspid_tls_algorithms_clear (&algs);
      sspid_call_answer_status (call, status);
      return;
    }
  sspid_call_answer_facts (call, sspid_describe_algorithms (&algs));
  sspid_tls_algorithms_clear (&algs);
}

/* --- diagnostics (sspictl) ---------------------------------------------- */

/* GetStatus's "users" and "credential-use" (what sspictl top shows): per
 * uid what it holds and its handshakes, per credential its handshakes;
 * each caller sees its own uid and the credentials it may use, root all.
 * Returns the entries reported. */
static guint
add_use (GVariantBuilder *b, SspidService *service, const SspidIdentity *who)
{
  g_autoptr (GPtrArray) users = sspid_caller_registry_get_users (service->registry, who->uid);
  g_autoptr (GArray) uses = sspid_credential_store_get_use (service->store, who);
  GVariantBuilder list;

  g_variant_builder_init (&list, G_VARIANT_TYPE ("a(uuuutt)"));
  for (guint i = 0; i < users->len; i++)
    {
      const SspidUser *user = users->pdata[i];
      /* Not counting this very call. */
      guint pending = user->pending - (user->uid == who->uid && user->pending > 0);

      g_variant_builder_add (&list, "(uuuutt)", (guint32) user->uid, user->contexts,
                             user->credentials, pending, user->handshakes_done,
                             user->handshakes_failed);
    }
  g_variant_builder_add (b, "{sv}", "users", g_variant_builder_end (&list));
  g_variant_builder_init (&list, G_VARIANT_TYPE ("a(stt)"));
  for (guint i = 0; i < uses->len; i++)
    {
      const SspidCredentialUse *use = &g_array_index (uses, SspidCredentialUse, i);

      g_variant_builder_add (&list, "(stt)", use->name, use->handshakes_done,
                             use->handshakes_failed);
    }
  g_variant_builder_add (b, "{sv}", "credential-use", g_variant_builder_end (&list));
  return users->len + uses->len;
}

/* What the main thread reports is never older than an answer a caller
 * got: every answer is sent from here, after its bookkeeping (sspid-pool.h). */
static void
handle_get_status (SspidService *service, SspidCall *call)
{
  SspidCaller *caller = sspid_call_peek_caller (call);
  SspidCounts counts;
  GVariantBuilder b;
  guint n_entries;

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
                         g_variant_new_uint32 (sspid_channels_get_n_open (service->channels)));
  g_variant_builder_add (&b, "{sv}", "channel-requests",
                         g_variant_new_uint64 (sspid_channels_get_n_answered (service->channels)));
  g_variant_builder_add (&b, "{sv}", "peers",
                         g_variant_new_uint32 (sspid_peers_get_n_open (service->peers)));
  g_variant_builder_add (&b, "{sv}", "peer-calls",
                         g_variant_new_uint64 (sspid_peers_get_n_calls (service->peers)));
  n_entries = sspid_caller_peek_identity (caller) != NULL
              ? add_use (&b, service, sspid_caller_peek_identity (caller)) : 0;
  sspid_caller_charge_introspection (caller, n_entries);
  sspid_call_answer_dict (call, g_variant_builder_end (&b));
}

static void
handle_list_credentials (SspidService *service, SspidCall *call)
{
  SspidCaller *caller = sspid_call_peek_caller (call);
  g_autoptr(GPtrArray) infos = sspid_credential_store_list (service->store,
                                                            sspid_caller_peek_identity (caller));

  sspid_caller_charge_introspection (caller, infos->len);
  sspid_call_answer_list (call, sspid_describe_credentials (infos));
}

/* ListContexts: the contexts to describe, oldest first. */
typedef struct {
  uid_t      uid;        /* of the caller asking */
  GPtrArray *contexts;   /* SspidContext *, borrowed */
} ListContexts;

static void
collect_context (gpointer key, gpointer value, gpointer user_data)
{
  ListContexts *list = user_data;
  const SspidIdentity *owner = sspid_caller_peek_identity (sspid_context_peek_caller (value));

  /* A uid sees what its own processes hold (it could read their memory
   * anyway); root sees everything. */
  if (owner != NULL && (list->uid == 0 || owner->uid == list->uid))
    g_ptr_array_add (list->contexts, value);
}

static int
compare_created (gconstpointer a, gconstpointer b)
{
  gint64 x = sspid_context_get_created (*(SspidContext *const *) a);
  gint64 y = sspid_context_get_created (*(SspidContext *const *) b);

  return x < y ? -1 : x > y;
}

static void
add_string (GVariantBuilder *b, const char *key, const char *value)
{
  if (value != NULL)
    g_variant_builder_add (b, "{sv}", key, g_variant_new_string (value));
}

static GVariant *
describe_context (const SspidContextFacts *facts, SspidCaller *asker, gint64 now)
{
  const SspidIdentity *owner = sspid_caller_peek_identity (facts->owner);
  gboolean own = facts->owner == asker;
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "owner-uid", g_variant_new_uint32 ((guint32) owner->uid));
  g_variant_builder_add (&b, "{sv}", "owner-pid", g_variant_new_uint32 ((guint32) owner->pid));
  g_variant_builder_add (&b, "{sv}", "own", g_variant_new_boolean (own));
  if (own)
    g_variant_builder_add (&b, "{sv}", "handle", g_variant_new_uint64 (facts->handle));
  g_variant_builder_add (&b, "{sv}", "role",
                         g_variant_new_string (facts->is_server ? "server" : "client"));
  g_variant_builder_add (&b, "{sv}", "state", g_variant_new_string (facts->state));
  g_variant_builder_add (&b, "{sv}", "mode", g_variant_new_string (facts->mode));
  g_variant_builder_add (&b, "{sv}", "credential", g_variant_new_string (facts->credential));
  if (!facts->is_server)
    g_variant_builder_add (&b, "{sv}", "target", g_variant_new_string (facts->target));
  add_string (&b, "protocol", facts->protocol);
  add_string (&b, "cipher", facts->cipher);
  add_string (&b, "peer", facts->peer);
  g_variant_builder_add (&b, "{sv}", "age-sec",
                         g_variant_new_uint64 ((guint64) (now - facts->created) / G_USEC_PER_SEC));
  return g_variant_builder_end (&b);
}

static void
handle_list_contexts (SspidService *service, SspidCall *call)
{
  SspidCaller *caller = sspid_call_peek_caller (call);
  g_autoptr(GPtrArray) contexts = g_ptr_array_new ();
  ListContexts list = { sspid_caller_peek_identity (caller)->uid, contexts };
  gint64 now = g_get_monotonic_time ();
  guint n;
  GVariantBuilder b;

  sspid_caller_registry_foreach_context (service->registry, collect_context, &list);
  g_ptr_array_sort (contexts, compare_created);

  n = MIN (contexts->len, SSPID_LIST_CONTEXTS_MAX);
  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < n; i++)
    {
      SspidContextFacts facts;

      sspid_context_get_facts (contexts->pdata[i], &facts);
      g_variant_builder_add_value (&b, describe_context (&facts, caller, now));
    }
  sspid_caller_charge_introspection (caller, n);
  sspid_call_answer_list (call, g_variant_builder_end (&b));
}

/* --- record channels ---------------------------------------------------- */

static void
handle_open_record_channel (SspidService *service, SspidCall *call)
{
  SspidCaller *caller = sspid_call_peek_caller (call);
  g_autoptr(GError) error = NULL;
  int fd;

  if (sspid_caller_count_attached (caller) >= SSPID_CHANNEL_MAX_PER_CONNECTION)
    {
      sspid_call_answer_limit (call, g_strdup_printf ("record channels per connection=%d",
                                                      SSPID_CHANNEL_MAX_PER_CONNECTION));
      return;
    }
  if (sspid_channels_is_closer_backed_up ())
    {
      sspid_call_answer_limit (call, g_strdup_printf ("descriptors being closed=%d",
                                                      SSPID_CHANNEL_MAX_CLOSING));
      return;
    }
  /* Each holds a descriptor of ours: a user with many connections must
   * not use up the daemon's. */
  if (sspid_channels_count_for_uid (service->channels, sspid_caller_peek_identity (caller)->uid)
      >= SSPID_CHANNEL_MAX_PER_USER)
    {
      sspid_call_answer_limit (call, g_strdup_printf ("record channels per user=%d",
                                                      SSPID_CHANNEL_MAX_PER_USER));
      return;
    }
  fd = sspid_channels_open (service->channels, caller, &error);
  if (fd < 0)
    {
      sspid_caller_log (caller, G_LOG_LEVEL_WARNING, NULL, 0,
                        "cannot open a record channel: %s", error->message);
      sspid_call_answer_internal_error (call, "Cannot open a record channel");
      return;
    }
  sspid_call_answer_fd (call, fd);
}

/* --- peer connections -------------------------------------------------- */

static void
handle_open_connection (SspidService *service, SspidCall *call)
{
  SspidCaller *caller = sspid_call_peek_caller (call);
  g_autoptr(GError) error = NULL;
  char *limit;
  int fd;

  /* The bus is the front door: it identified the caller whose identity a
   * peer connection takes. */
  if (sspid_caller_is_peer (caller))
    {
      sspid_call_answer_error (call, SSPID_ERROR_ACCESS_DENIED,
                               "OpenConnection is served over the bus only");
      return;
    }
  if ((limit = sspid_peers_check_limits (service->peers, caller)) != NULL)
    {
      sspid_call_answer_limit (call, limit);
      return;
    }
  fd = sspid_peers_open (service->peers, caller, &error);
  if (fd < 0)
    {
      /* An older kernel: every caller would ask, and stay on the bus. */
      sspid_caller_log (caller, g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED)
                                ? G_LOG_LEVEL_DEBUG : G_LOG_LEVEL_WARNING, NULL, 0,
                        "cannot open a peer connection: %s", error->message);
      sspid_call_answer_internal_error (call, "Cannot open a peer connection");
      return;
    }
  sspid_call_answer_fd (call, fd);
}

/* --- dispatch ----------------------------------------------------------- */

/* Indexed by SspidCallKind. */
static void (*const handlers[]) (SspidService *service, SspidCall *call) = {
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
  [SSPID_CALL_QUERY_CREDENTIAL] = handle_query_credential,
  [SSPID_CALL_OPEN_CHANNEL] = handle_open_record_channel,
  [SSPID_CALL_OPEN_CONNECTION] = handle_open_connection,
};
G_STATIC_ASSERT (G_N_ELEMENTS (handlers) == SSPID_CALL_N_KINDS);

static gboolean
is_introspection (SspidCallKind kind)
{
  return kind == SSPID_CALL_GET_STATUS || kind == SSPID_CALL_LIST_CREDENTIALS
         || kind == SSPID_CALL_LIST_CONTEXTS;
}

/* Why the decoder refused @call.  A refused record is the caller's own
 * business: debug level; anything else is a refusal. */
static void
log_refused_request (SspidService *service, SspidCall *call)
{
  const SspidRequest *request = sspid_call_peek_request (call);
  SspidCaller *caller = sspid_call_peek_caller (call);
  SspidCallKind kind = sspid_call_get_kind (call);
  const char *method = sspid_call_peek_method (call);
  g_autofree char *why = NULL;

  if (request->refused == NULL && request->input == NULL)
    return;    /* an unknown package or credential use: the answer says it */
  if (request->refused != NULL)
    why = g_strdup (request->refused);
  else
    why = g_strdup_printf ("input of %" G_GSIZE_FORMAT " bytes is over max-token-size=%u",
                           g_variant_get_size (request->input),
                           service->config->max_token_size);
  if (kind == SSPID_CALL_ENCRYPT || kind == SSPID_CALL_DECRYPT)
    sspid_caller_log (caller, G_LOG_LEVEL_DEBUG, "ctx", request->ctx_handle,
                      "%s refused: %s", method, why);
  else
    sspid_caller_log_refusal (caller, "request", "ctx", request->ctx_handle,
                              "%s refused: %s", method, why);
}

/* Runs the handler of a call whose caller is settled: a bus call at its
 * turn in the intake, or a record channel's request (the channel set's
 * SspidChannelDispatchFunc). */
static void
service_dispatch (SspidCall *call, gpointer user_data)
{
  SspidService *service = user_data;
  SspidCaller *caller = sspid_call_peek_caller (call);
  SspidCallKind kind = sspid_call_get_kind (call);
  SECURITY_STATUS status;
  char *limit;

  if (service->shutting_down)
    {
      sspid_call_answer_status (call, SEC_E_NO_AUTHENTICATING_AUTHORITY);
      return;
    }
  if (sspid_caller_peek_identity (caller) == NULL)
    {
      /* Logged once, when the identity could not be learned. */
      sspid_caller_log (caller, G_LOG_LEVEL_DEBUG, NULL, 0, "%s denied: caller not identified",
                        sspid_call_peek_method (call));
      sspid_call_answer_status (call, SEC_E_INTERNAL_ERROR);
      return;
    }

  if (is_introspection (kind)
      && (limit = sspid_caller_check_introspection_limit (caller)) != NULL)
    {
      sspid_call_answer_limit (call, limit);
      return;
    }
  status = sspid_call_decode (call, service->config->max_token_size);
  if (status != SEC_E_OK)
    {
      log_refused_request (service, call);
      sspid_call_answer_status (call, status);
      return;
    }
  handlers[kind] (service, call);
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
    service_dispatch (call, service);
  if (sspid_fair_queue_is_empty (service->intake))
    {
      service->intake_id = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

/* The service and the call waiting for its caller's identity. */
typedef struct {
  SspidService *service;
  SspidCall    *call;
} Waiting;

/* Runs once the caller's identity is settled (sspid-caller.h). */
static void
dispatch_identified (SspidCaller *caller, GDBusMethodInvocation *invocation,
                     gpointer user_data)
{
  g_autofree Waiting *waiting = user_data;
  SspidService *service = waiting->service;
  const SspidIdentity *who = sspid_caller_peek_identity (caller);

  /* Not identified: denied at its turn, in a lane of its own. */
  sspid_fair_queue_push (service->intake, who != NULL ? (guint) who->uid : G_MAXUINT,
                         waiting->call);
  if (service->intake_id == 0)
    service->intake_id = g_idle_add_full (G_PRIORITY_DEFAULT, intake_cb, service, NULL);
}

/* A method call of @peer (a peer connection's caller), or of whoever sent
 * it on the bus if @peer is NULL. */
static void
serve_call (SspidService *service, GDBusMethodInvocation *invocation, SspidCaller *peer)
{
  const char *method_name = g_dbus_method_invocation_get_method_name (invocation);
  const SspidMethod *method = sspid_method_lookup (method_name);
  GVariant *parameters = g_dbus_method_invocation_get_parameters (invocation);
  SspidCaller *caller;
  SspidCall *call;
  Waiting *waiting;
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

  call = sspid_call_new_for_bus (method, invocation, parameters);
  /* Hello needs no identity: it answers at once and costs the caller no
   * registry entry. */
  if (method->kind == SSPID_CALL_HELLO)
    {
      handle_hello (service, call);
      return;
    }

  if (peer != NULL)
    caller = peer;
  else
    caller = sspid_caller_registry_peek (service->registry,
                                         g_dbus_method_invocation_get_sender (invocation));
  limit = sspid_caller_check_pending_limit (caller);
  sspid_call_set_caller (call, caller);
  if (limit != NULL)
    {
      sspid_call_answer_limit (call, limit);
      return;
    }
  waiting = g_new (Waiting, 1);
  waiting->service = service;
  waiting->call = call;
  sspid_caller_run_identified (caller, invocation, dispatch_identified, waiting);
}

static void
method_call (GDBusConnection *connection, const char *sender, const char *object_path,
             const char *interface_name, const char *method_name, GVariant *parameters,
             GDBusMethodInvocation *invocation, gpointer user_data)
{
  serve_call (user_data, invocation, NULL);
}

/* A peer connection's method call (the peer set's SspidPeerCallFunc). */
static void
peer_call (SspidCaller *caller, GDBusMethodInvocation *invocation, gpointer user_data)
{
  serve_call (user_data, invocation, caller);
}

static const GDBusInterfaceVTable interface_vtable = {
  .method_call = method_call,
};

/* --- the service -------------------------------------------------------- */

static gboolean
reaper_cb (gpointer user_data)
{
  SspidService *service = user_data;

  if (service->config->handshake_timeout_sec > 0)
    sspid_context_reap_stale (service->registry, service->config->handshake_timeout_sec);
  return G_SOURCE_CONTINUE;
}

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
  service->channels = sspid_channels_new (service->main_context, service_dispatch, service);
  service->peers = sspid_peers_new (sspid_dbus_sspi_interface_info (), peer_call, service);
  service->runner = sspid_context_runner_new (service->main_context, error);
  if (service->runner == NULL)
    return NULL;
  service->reaper_id = g_timeout_add_seconds (1, reaper_cb, service);

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
  if (service->reaper_id != 0)
    g_source_remove (service->reaper_id);
  /* What waits for its turn is answered (the daemon is stopping). */
  if (service->intake_id != 0)
    g_source_remove (service->intake_id);
  service->intake_id = 0;
  while (!sspid_fair_queue_is_empty (service->intake))
    service_dispatch (sspid_fair_queue_pop (service->intake), service);
  g_clear_pointer (&service->intake, sspid_fair_queue_free);
  if (service->runner != NULL)
    sspid_context_runner_stop (service->runner);
  /* Releases every caller, context and credential, answering what waits;
   * every channel and peer connection belonged to a caller, and closes
   * with it. */
  sspid_caller_registry_free (service->registry);
  g_clear_pointer (&service->runner, sspid_context_runner_free);
  g_clear_pointer (&service->channels, sspid_channels_free);
  g_clear_pointer (&service->peers, sspid_peers_free);

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

SspidCredentialStore *
sspid_service_peek_store (SspidService *service)
{
  return service->store;
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
