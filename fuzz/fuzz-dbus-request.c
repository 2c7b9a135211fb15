/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: what a D-Bus client can send the daemon, driven without a
 * bus.  The input is a stream of D-Bus messages on the wire, as the
 * daemon's connection reads them.  Each message goes the way a method call
 * goes in sspid:
 *
 *   1. GDBus frames and parses it (g_dbus_message_bytes_needed,
 *      g_dbus_message_new_from_blob);
 *   2. GDBus dispatches it against the generated interface info of
 *      proto/org.sspid1.xml: object path, interface, method name and the
 *      body's signature (a mismatch never reaches a handler);
 *   3. the handler's unpacking and checks (daemon/sspid-service.c:
 *      g_variant_get with the handler's format, package name, auth_data,
 *      max-token-size; sspid-work.c: ApplyControlToken's alert);
 *   4. what the handler hands the engine: AcquireCredentialsHandle's
 *      principal, use, protocols and flags to the credential store;
 *      ISC/ASC's target name, context_req, ALPN ids and input token to a
 *      new session and its steps; Encrypt/DecryptMessage's bytes to an
 *      established session; an alert to ApplyControlToken's engine call.
 *
 * Steps 3 and 4 repeat the handlers' formats and checks, which are static
 * in sspid-service.c and sspid-work.c (keep them in step; see
 * /work/notes/requests.md for a shared decoding function).  Handles are
 * not looked up: there is no caller registry without a bus.
 */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "fuzz-common.h"
#include "sspid-dbus-generated.h"
#include "sspid-proto.h"

/* The daemon's default max-token-size (sspid-config.c). */
#define MAX_TOKEN_SIZE (256 * 1024)

static GDBusInterfaceInfo *iface;
static SspidCredential *anonymous, *client_cred, *server_cred;
static SspidTls *established;      /* client side of a pair made for this input */
static SspidTls *established_peer;

/* The methods the harness decodes, as sspid-service.c's table. */
static const char *const known_methods[] = {
  "Hello", "AcquireCredentialsHandle", "InitializeSecurityContext",
  "AcceptSecurityContext", "DeleteSecurityContext", "FreeCredentialsHandle",
  "QueryContext", "EncryptMessage", "DecryptMessage", "ApplyControlToken", NULL
};

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_logging ();
  iface = sspid_dbus_sspi_interface_info ();
  anonymous = fuzz_acquire (NULL, SECPKG_CRED_OUTBOUND, 0);
  client_cred = fuzz_acquire ("client", SECPKG_CRED_OUTBOUND, 0);
  server_cred = fuzz_acquire ("server", SECPKG_CRED_INBOUND, 0);

  /* A method with arguments the harness does not decode would go unfuzzed. */
  for (guint i = 0; iface->methods[i] != NULL; i++)
    {
      GDBusMethodInfo *m = iface->methods[i];
      if (m->in_args != NULL && m->in_args[0] != NULL &&
          !g_strv_contains (known_methods, m->name))
        {
          g_printerr ("fuzz-dbus-request: method %s has arguments this harness does not "
                      "decode: add it to fuzz/fuzz-dbus-request.c\n", m->name);
          abort ();
        }
    }
  return 0;
}

/* The complete in-signature of @method, as GDBus checks the body against. */
static GVariantType *
in_type (const GDBusMethodInfo *method)
{
  g_autoptr (GString) sig = g_string_new ("(");

  for (guint i = 0; method->in_args != NULL && method->in_args[i] != NULL; i++)
    g_string_append (sig, method->in_args[i]->signature);
  g_string_append_c (sig, ')');
  return g_variant_type_new (sig->str);
}

/* sspid-service.c lookup_u32(). */
static gboolean
lookup_u32 (GVariant *dict, const char *key, guint32 *value)
{
  g_autoptr (GVariant) v = g_variant_lookup_value (dict, key, NULL);

  *value = 0;
  if (v == NULL)
    return TRUE;
  if (!g_variant_is_of_type (v, G_VARIANT_TYPE_UINT32))
    return FALSE;
  *value = g_variant_get_uint32 (v);
  return TRUE;
}

static void
acquire (GVariant *params)
{
  const char *principal, *package;
  guint32 use, protocols, flags;
  g_autoptr (GVariant) auth_data = NULL;
  g_autoptr (SspidCredential) cred = NULL;

  g_variant_get (params, "(t&s&su@a{sv})", NULL, &principal, &package, &use, &auth_data);
  if (g_ascii_strcasecmp (package, SCHANNEL_NAME_A) != 0 &&
      g_ascii_strcasecmp (package, UNISP_NAME_A) != 0)
    return;
  if ((use & SECPKG_CRED_BOTH) == 0 || !lookup_u32 (auth_data, "enabled-protocols", &protocols) ||
      !lookup_u32 (auth_data, "flags", &flags))
    return;
  if (sspid_credential_store_acquire (fuzz_store (), principal, use, protocols, flags,
                                      fuzz_identity (), &cred) != SEC_E_OK)
    {
      FUZZ_CHECK (cred == NULL);
      return;
    }
  FUZZ_CHECK (cred != NULL);
  /* What a first step of a context on it would do with the credential. */
  {
    g_autoptr (SspidTls) tls = NULL;
    if ((use & SECPKG_CRED_OUTBOUND) &&
        sspid_tls_new_client (cred, "localhost", 0, NULL, &tls) == SEC_E_OK)
      {
        SspidTlsStep st;
        sspid_tls_step (tls, NULL, 0, &st);
        sspid_tls_step_clear (&st);
      }
  }
}

/* ISC or ASC: a session from the call's arguments, stepped on its input. */
static void
security_context (GVariant *params, gboolean is_server)
{
  guint64 cred_handle, ctx_handle;
  const char *target = NULL;
  guint32 context_req;
  g_autoptr (GVariant) input = NULL;
  g_autofree const char **alpn = NULL;
  g_autoptr (SspidTls) tls = NULL;
  SECURITY_STATUS status;
  SspidTlsStep st;
  const guint8 *data;
  gsize len;

  if (is_server)
    g_variant_get (params, "(tttu@ay^a&s)", NULL, &cred_handle, &ctx_handle, &context_req,
                   &input, &alpn);
  else
    g_variant_get (params, "(ttt&su@ay^a&s)", NULL, &cred_handle, &ctx_handle, &target,
                   &context_req, &input, &alpn);
  if (g_variant_get_size (input) > MAX_TOKEN_SIZE)
    return;
  data = g_variant_get_fixed_array (input, &len, 1);

  if (is_server)
    status = sspid_tls_new_server (server_cred, context_req, alpn, &tls);
  else
    status = sspid_tls_new_client (cred_handle & 1 ? client_cred : anonymous, target,
                                   context_req, alpn, &tls);
  if (status != SEC_E_OK)
    {
      FUZZ_CHECK (tls == NULL);
      return;
    }
  if (!is_server)
    {
      /* The ClientHello, with this call's SNI and ALPN. */
      sspid_tls_step (tls, NULL, 0, &st);
      FUZZ_CHECK (st.status == SEC_I_CONTINUE_NEEDED);
      sspid_tls_step_clear (&st);
      if (len == 0)
        return;
    }
  fuzz_walk (tls, data, len);
}

/* One pair per input (not per process), so that an input replays alike. */
static void
ensure_established (void)
{
  if (established != NULL)
    return;
  FUZZ_CHECK (fuzz_pair (NULL, "server", 0, &established, &established_peer, NULL));
}

static void
record (GVariant *params, gboolean encrypt)
{
  g_autoptr (GVariant) bytes = NULL;
  const guint8 *data;
  gsize len;

  g_variant_get (params, "(t@ay)", NULL, &bytes);
  if (g_variant_get_size (bytes) > MAX_TOKEN_SIZE)
    return;
  data = g_variant_get_fixed_array (bytes, &len, 1);
  ensure_established ();
  if (encrypt)
    {
      g_autoptr (GBytes) rec = NULL;
      SECURITY_STATUS status = sspid_tls_encrypt (established, data, len, &rec);
      FUZZ_CHECK ((status == SEC_E_OK) == (rec != NULL));
    }
  else
    fuzz_decrypt_all (established, data, len);
}

/* sspid-work.c apply_control_token(), on a session in its handshake. */
static void
apply_control_token (GVariant *params)
{
  guint32 token_type, alert_type, alert_number;
  g_autoptr (SspidTls) tls = NULL;
  SspidTlsStep st;

  g_variant_get (params, "(tuuu)", NULL, &token_type, &alert_type, &alert_number);
  FUZZ_CHECK (sspid_tls_new_client (anonymous, NULL, 0, NULL, &tls) == SEC_E_OK);
  if (token_type == SCHANNEL_SHUTDOWN)
    sspid_tls_queue_alert (tls, TLS1_ALERT_WARNING, TLS1_ALERT_CLOSE_NOTIFY);
  else if (token_type != SCHANNEL_ALERT)
    return;
  else if ((alert_type != TLS1_ALERT_WARNING && alert_type != TLS1_ALERT_FATAL) ||
           alert_number > 255)
    return;
  else
    sspid_tls_queue_alert (tls, (int) alert_type, (int) alert_number);
  sspid_tls_step (tls, NULL, 0, &st);
  FUZZ_CHECK (st.status == SEC_E_OK && !sspid_tls_is_established (tls));
  sspid_tls_step_clear (&st);
}

/* Steps 2-4 for one parsed message. */
static void
dispatch (GDBusMessage *message)
{
  const char *member = g_dbus_message_get_member (message);
  GVariant *body = g_dbus_message_get_body (message);
  g_autoptr (GVariant) params = NULL;
  g_autoptr (GVariantType) type = NULL;
  GDBusMethodInfo *method;

  if (g_dbus_message_get_message_type (message) != G_DBUS_MESSAGE_TYPE_METHOD_CALL ||
      g_strcmp0 (g_dbus_message_get_path (message), SSPID_OBJECT_PATH) != 0 ||
      g_strcmp0 (g_dbus_message_get_interface (message), SSPID_INTERFACE) != 0 ||
      member == NULL)
    return;
  method = g_dbus_interface_info_lookup_method (iface, member);
  if (method == NULL)
    return;
  params = body != NULL ? g_variant_ref (body) : g_variant_ref_sink (g_variant_new_tuple (NULL, 0));
  type = in_type (method);
  if (!g_variant_is_of_type (params, type))
    return;

  if (g_str_equal (member, "AcquireCredentialsHandle"))
    acquire (params);
  else if (g_str_equal (member, "InitializeSecurityContext"))
    security_context (params, FALSE);
  else if (g_str_equal (member, "AcceptSecurityContext"))
    security_context (params, TRUE);
  else if (g_str_equal (member, "EncryptMessage"))
    record (params, TRUE);
  else if (g_str_equal (member, "DecryptMessage"))
    record (params, FALSE);
  else if (g_str_equal (member, "ApplyControlToken"))
    apply_control_token (params);
  else if (g_str_equal (member, "DeleteSecurityContext") ||
           g_str_equal (member, "FreeCredentialsHandle"))
    {
      guint64 call_id, handle;
      g_variant_get (params, "(tt)", &call_id, &handle);
    }
  else if (g_str_equal (member, "QueryContext"))
    {
      guint64 handle;
      g_variant_get (params, "(t)", &handle);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* A connection's stream: one message after the other. */
  for (guint n = 0; n < 16 && size >= 16; n++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GDBusMessage) message = NULL;
      g_autofree guchar *blob = NULL;
      gssize needed;

      needed = g_dbus_message_bytes_needed ((guchar *) data, 16, &error);
      if (needed < 16 || (gsize) needed > size)
        break;
      /* An exact copy, so that reading past the message is caught. */
      blob = g_memdup2 (data, (gsize) needed);
      message = g_dbus_message_new_from_blob (blob, (gsize) needed,
                                              G_DBUS_CAPABILITY_FLAGS_UNIX_FD_PASSING, &error);
      data += needed;
      size -= (gsize) needed;
      if (message == NULL)
        {
          FUZZ_CHECK (error != NULL);
          continue;
        }
      dispatch (message);
    }
  g_clear_pointer (&established, sspid_tls_free);
  g_clear_pointer (&established_peer, sspid_tls_free);
  return 0;
}
