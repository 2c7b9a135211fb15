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
 *   3. sspid_request_decode(), the daemon's own decoding and checks of
 *      every method's arguments (daemon/sspid-request.c), and
 *      sspid_request_check_control_token();
 *   4. what the handlers hand the engine: AcquireCredentialsHandle's
 *      principal, use, protocols and flags to the credential store;
 *      ISC/ASC's target name, context_req, ALPN ids and input token to a
 *      new session and its steps; Encrypt/DecryptMessage's bytes to an
 *      established session; an alert to ApplyControlToken's engine call.
 *
 * Handles are not looked up: there is no caller registry without a bus
 * (tests/test-dbus-input.c sends hostile messages to a real daemon).
 */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "fuzz-common.h"
#include "sspid-config.h"
#include "sspid-dbus-generated.h"
#include "sspid-proto.h"
#include "sspid-request.h"


static GDBusInterfaceInfo *iface;
static SspidCredential *anonymous, *client_cred, *server_cred;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_logging ();
  iface = sspid_dbus_sspi_interface_info ();
  anonymous = fuzz_acquire (NULL, SECPKG_CRED_OUTBOUND, 0);
  client_cred = fuzz_acquire ("client", SECPKG_CRED_OUTBOUND, 0);
  server_cred = fuzz_acquire ("server", SECPKG_CRED_INBOUND, 0);

  /* The daemon's method table and the interface must not drift apart. */
  for (guint i = 0; iface->methods[i] != NULL; i++)
    if (sspid_method_lookup (iface->methods[i]->name) == NULL)
      {
        g_printerr ("fuzz-dbus-request: %s is not in proto/sspid-method.c's method table\n",
                    iface->methods[i]->name);
        abort ();
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

static void
acquire (const SspidRequest *request)
{
  g_autoptr (SspidCredential) cred = NULL;

  if (sspid_credential_store_acquire (fuzz_store (), request->principal, request->use,
                                      request->protocols, request->flags, fuzz_identity (),
                                      &cred) != SEC_E_OK)
    {
      FUZZ_CHECK (cred == NULL);
      return;
    }
  FUZZ_CHECK (cred != NULL);
  /* What a first step of a context on it would do with the credential. */
  {
    g_autoptr (SspidTls) tls = NULL;
    if ((request->use & SECPKG_CRED_OUTBOUND) &&
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
security_context (const SspidRequest *request, gboolean is_server)
{
  g_autoptr (SspidTls) tls = NULL;
  SECURITY_STATUS status;
  SspidTlsStep st;
  const guint8 *data;
  gsize len;

  data = g_variant_get_fixed_array (request->input, &len, 1);

  if (is_server)
    status = sspid_tls_new_server (server_cred, request->context_req, request->alpn, &tls);
  else
    status = sspid_tls_new_client (request->cred_handle & 1 ? client_cred : anonymous,
                                   request->target_name, request->context_req, request->alpn,
                                   &tls);
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

/* sspid-context.c apply_control_token(), on a session in its handshake. */
static void
apply_control_token (const SspidRequest *request)
{
  g_autoptr (SspidTls) tls = NULL;
  SspidTlsStep st;

  if (sspid_request_check_control_token (request) != SEC_E_OK)
    return;
  FUZZ_CHECK (sspid_tls_new_client (anonymous, NULL, 0, NULL, &tls) == SEC_E_OK);
  if (request->token_type == SCHANNEL_SHUTDOWN)
    sspid_tls_queue_alert (tls, TLS1_ALERT_WARNING, TLS1_ALERT_CLOSE_NOTIFY);
  else
    sspid_tls_queue_alert (tls, (int) request->alert_type, (int) request->alert_number);
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
  const SspidMethod *known;
  SspidRequest request;

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

  /* The method table must know every method of the interface. */
  known = sspid_method_lookup (member);
  FUZZ_CHECK (known != NULL);
  if (sspid_request_decode (known->kind, params, SSPID_DEFAULT_MAX_TOKEN_SIZE, &request) == SEC_E_OK)
    switch (known->kind)
      {
      case SSPID_CALL_ACQUIRE:       acquire (&request); break;
      case SSPID_CALL_INITIALIZE:    security_context (&request, FALSE); break;
      case SSPID_CALL_ACCEPT:        security_context (&request, TRUE); break;
      case SSPID_CALL_ENCRYPT:
      case SSPID_CALL_DECRYPT:       fuzz_record_request (known->kind, &request); break;
      case SSPID_CALL_APPLY_CONTROL: apply_control_token (&request); break;
      default:                       break;   /* handles only: nothing to drive */
      }
  sspid_request_clear (&request);
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
  fuzz_input_done ();
  return 0;
}
