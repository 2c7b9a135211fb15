/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Decoding and checking a request's arguments (see sspid-request.h): the
 * one place the daemon reads what a caller sent, whether it came over the
 * bus or a record channel.
 */
#include "config.h"

#include <string.h>

#include "sspid-args.h"
#include "sspid-request.h"
#include "schannel.h"

/* SEC_E_INVALID_PARAMETER, saying why in @request. */
static SECURITY_STATUS
refuse (SspidRequest *request, const char *why)
{
  request->refused = why;
  return SEC_E_INVALID_PARAMETER;
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

static SECURITY_STATUS
decode_acquire (GVariant *params, SspidRequest *request)
{
  SspidAcquireArgs args;
  g_autoptr(GVariant) auth_data = NULL;

  /* Counted before decoding, which serialises the whole call: 200,000
   * entries cost the main thread 0.36 s idle, about 1 s on a busy machine. */
  if (sspid_acquire_args_count_auth_data (params) > SSPID_MAX_AUTH_DATA)
    return refuse (request, "auth_data over " G_STRINGIFY (SSPID_MAX_AUTH_DATA) " entries");
  sspid_acquire_args_decode (params, &args);
  request->principal = args.principal;
  request->package = args.package;
  request->use = args.use;
  auth_data = g_steal_pointer (&args.auth_data);
  if (g_ascii_strcasecmp (request->package, SCHANNEL_NAME_A) != 0
      && g_ascii_strcasecmp (request->package, UNISP_NAME_A) != 0)
    return SEC_E_SECPKG_NOT_FOUND;
  if (strlen (request->principal) > SSPID_MAX_PRINCIPAL)
    return refuse (request, "principal over " G_STRINGIFY (SSPID_MAX_PRINCIPAL) " bytes");
  if ((request->use & SECPKG_CRED_BOTH) == 0
      || !lookup_u32 (auth_data, SSPID_AUTH_DATA_ENABLED_PROTOCOLS, &request->protocols)
      || !lookup_u32 (auth_data, SSPID_AUTH_DATA_FLAGS, &request->flags))
    return SEC_E_INVALID_PARAMETER;
  return SEC_E_OK;
}

/* @status when @input is over @max (0: no limit). */
static SECURITY_STATUS
check_size (GVariant *input, guint max, SECURITY_STATUS status)
{
  return max > 0 && g_variant_get_size (input) > max ? status : SEC_E_OK;
}

/* ALPN protocol names as TLS carries them: 1-255 bytes each, the whole
 * list within a ProtocolNameList.  The engine hands them to GnuTLS. */
static gboolean
is_alpn_list_valid (const char *const *alpn)
{
  gsize total = 0;

  for (gsize i = 0; alpn[i] != NULL; i++)
    {
      gsize len = strlen (alpn[i]);

      if (len == 0 || len > SSPID_MAX_ALPN_NAME)
        return FALSE;
      total += 1 + len;
      if (total > SSPID_MAX_ALPN_LIST)
        return FALSE;
    }
  return TRUE;
}

/* The checks of a handshake step's arguments (ISC's target name and
 * ALPN list, ASC's ALPN list, the token's size). */
static SECURITY_STATUS
check_step (SspidRequest *request, guint max_token_size)
{
  if (request->target_name != NULL && strlen (request->target_name) > SSPID_MAX_TARGET_NAME)
    return refuse (request, "target name over " G_STRINGIFY (SSPID_MAX_TARGET_NAME) " bytes");
  if (!is_alpn_list_valid (request->alpn))
    return refuse (request, "ALPN list not a TLS ProtocolNameList (names of 1-"
                   G_STRINGIFY (SSPID_MAX_ALPN_NAME) " bytes, at most "
                   G_STRINGIFY (SSPID_MAX_ALPN_LIST) " bytes in all)");
  return check_size (request->input, max_token_size, SEC_E_INVALID_TOKEN);
}

static SECURITY_STATUS
decode_step (SspidCallKind kind, GVariant *params, guint max_token_size,
             SspidRequest *request)
{
  SspidStepArgs args;
  g_autoptr(GVariant) options = NULL;

  /* Each name takes 2 bytes of a ProtocolNameList at least: a list of
   * more names is refused before they are read (a 32 MB message holds
   * millions of them; reading them costs the main thread seconds). */
  if (sspid_step_args_count_alpn (kind, params) > SSPID_MAX_ALPN_LIST / 2)
    return refuse (request, "ALPN list over " G_STRINGIFY (SSPID_MAX_ALPN_LIST) " bytes");
  /* Counted before decoding too, as auth_data (decode_acquire). */
  if (sspid_step_args_count_options (kind, params) > SSPID_MAX_STEP_OPTIONS)
    return refuse (request, "options over " G_STRINGIFY (SSPID_MAX_STEP_OPTIONS) " entries");
  sspid_step_args_decode (kind, params, &args);
  options = g_steal_pointer (&args.options);
  request->cred_handle = args.credential;
  request->ctx_handle = args.context;
  request->target_name = args.target_name;
  request->context_req = args.context_req;
  request->input = g_steal_pointer (&args.input);
  request->alpn = g_steal_pointer (&args.alpn);
  if (!lookup_u32 (options, SSPID_STEP_OPTION_DTLS_MTU, &request->dtls_mtu))
    return refuse (request, "options: dtls-mtu not a u");
  sspid_quic_args_decode (options, &request->quic);
  return check_step (request, max_token_size);
}

/* The record's bytes, and what the engine says for more than a record
 * holds (@too_large). */
static SECURITY_STATUS
decode_record (GVariant *params, guint max_token_size, SECURITY_STATUS too_large,
               SspidRequest *request)
{
  SspidRecordArgs args;

  sspid_record_args_decode (params, &args);
  request->ctx_handle = args.context;
  request->input = g_steal_pointer (&args.data);
  return check_size (request->input, max_token_size, too_large);
}

static void
decode_control (GVariant *params, SspidRequest *request)
{
  SspidControlArgs args;

  sspid_control_args_decode (params, &args);
  request->ctx_handle = args.context;
  request->token_type = args.token_type;
  request->alert_type = args.alert_type;
  request->alert_number = args.alert_number;
}

SECURITY_STATUS
sspid_request_decode (SspidCallKind kind, GVariant *params, guint max_token_size,
                      SspidRequest *request)
{
  SspidReleaseArgs release;

  memset (request, 0, sizeof *request);
  switch (kind)
    {
    case SSPID_CALL_ACQUIRE:
      return decode_acquire (params, request);
    case SSPID_CALL_INITIALIZE:
    case SSPID_CALL_ACCEPT:
      return decode_step (kind, params, max_token_size, request);
    case SSPID_CALL_DELETE:
      sspid_release_args_decode (params, &release);
      request->ctx_handle = release.handle;
      return SEC_E_OK;
    case SSPID_CALL_FREE:
      sspid_release_args_decode (params, &release);
      request->cred_handle = release.handle;
      return SEC_E_OK;
    case SSPID_CALL_QUERY:
      request->ctx_handle = sspid_context_args_decode (params);
      return SEC_E_OK;
    case SSPID_CALL_QUERY_CREDENTIAL:
      g_variant_get (params, "(t)", &request->cred_handle);
      return SEC_E_OK;
    case SSPID_CALL_ENCRYPT:
      return decode_record (params, max_token_size, SEC_E_INVALID_PARAMETER, request);
    case SSPID_CALL_DECRYPT:
      return decode_record (params, max_token_size, SEC_E_INVALID_TOKEN, request);
    case SSPID_CALL_APPLY_CONTROL:
      decode_control (params, request);
      return SEC_E_OK;
    case SSPID_CALL_HELLO:
    case SSPID_CALL_GET_STATUS:
    case SSPID_CALL_LIST_CREDENTIALS:
    case SSPID_CALL_LIST_CONTEXTS:
    case SSPID_CALL_OPEN_CHANNEL:
    case SSPID_CALL_OPEN_CONNECTION:
      return SEC_E_OK;   /* no arguments */
    }
  g_return_val_if_reached (SEC_E_INTERNAL_ERROR);
}

void
sspid_request_clear (SspidRequest *request)
{
  g_clear_pointer (&request->input, g_variant_unref);
  g_clear_pointer ((char ***) &request->alpn, g_strfreev);
  sspid_quic_args_clear (&request->quic);
}

SECURITY_STATUS
sspid_request_check_control_token (const SspidRequest *request)
{
  if (request->token_type == SCHANNEL_SHUTDOWN)
    return SEC_E_OK;
  if (request->token_type != SCHANNEL_ALERT)
    return SEC_E_UNSUPPORTED_FUNCTION;
  /* Schannel's values are the TLS wire values, as GnuTLS's are. */
  if ((request->alert_type != TLS1_ALERT_WARNING && request->alert_type != TLS1_ALERT_FATAL)
      || request->alert_number > 255)
    return SEC_E_INVALID_PARAMETER;
  return SEC_E_OK;
}

SspidChannelPacket
sspid_request_parse_channel (GBytes *packet, SspidChannelHeader *header, SspidCallKind *kind,
                             GVariant **params)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (packet, &size);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GVariant) variant = NULL;

  *params = NULL;
  if (size < sizeof *header)
    return SSPID_CHANNEL_PACKET_SHORT;
  memcpy (header, data, sizeof *header);
  if ((header->op != SSPID_CHANNEL_OP_ENCRYPT && header->op != SSPID_CHANNEL_OP_DECRYPT)
      || header->flags != 0)
    return SSPID_CHANNEL_PACKET_BAD_HEADER;
  *kind = header->op == SSPID_CHANNEL_OP_ENCRYPT ? SSPID_CALL_ENCRYPT : SSPID_CALL_DECRYPT;

  /* Not trusted: GLib checks offsets as it reads.  A body not in normal
   * form (the only form an honest sender produces) is refused before any
   * handler sees it.  For "(tay)" that is one test, the 8 bytes of the
   * handle: g_variant_is_normal_form() would look at every byte of the
   * array, which costs 20 times the AES of the record. */
  body = g_bytes_new_from_bytes (packet, sizeof *header, size - sizeof *header);
  variant = g_variant_ref_sink (g_variant_new_from_bytes (
    G_VARIANT_TYPE (*kind == SSPID_CALL_ENCRYPT ? SSPID_CHANNEL_REQUEST_ENCRYPT_TYPE
                                                : SSPID_CHANNEL_REQUEST_DECRYPT_TYPE),
    body, FALSE));
  if (g_variant_get_size (variant) < sizeof (guint64))
    return SSPID_CHANNEL_PACKET_BAD_BODY;
  *params = g_steal_pointer (&variant);
  return SSPID_CHANNEL_PACKET_OK;
}
