/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Marshalling shared by the async and the sync API: validating the caller's
 * arguments the way Schannel does and turning them into the parameters of an
 * org.sspid1.Sspi method (SspiRequest), and writing a step result back into
 * the caller's handles, buffers, attributes and time stamp (SspiOutputs).
 *
 * Handles are packed and unpacked here too (SecHandle <-> the daemon's
 * value and the session generation it belongs to).
 *
 * Nothing here talks to the bus or takes a lock, so the same code serves a
 * completion on the library thread and a synchronous call on the caller's.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sspi-private.h"

/* Seconds from 1601-01-01 (FILETIME epoch) to 1970-01-01. */
#define FILETIME_UNIX_EPOCH G_GINT64_CONSTANT (11644473600)
/* The protocols the daemon supports, as SP_PROT bits. */
#define SUPPORTED_PROTOCOLS (SP_PROT_TLS1_2 | SP_PROT_TLS1_3)

G_STATIC_ASSERT (ISC_REQ_ALLOCATE_MEMORY == ASC_REQ_ALLOCATE_MEMORY);
G_STATIC_ASSERT (ISC_RET_ALLOCATED_MEMORY == ASC_RET_ALLOCATED_MEMORY);

void
sspi_request_clear (SspiRequest *r)
{
  g_clear_pointer (&r->principal, g_free);
  g_clear_pointer (&r->package, g_free);
  g_clear_pointer (&r->auth_data, g_variant_unref);
  g_clear_pointer (&r->target, g_free);
  g_clear_pointer (&r->input, g_bytes_unref);
  g_clear_pointer (&r->alpn, g_strfreev);
  g_clear_pointer (&r->out.principal, g_ref_string_release);
  sspid_quic_args_clear (&r->quic);
}

gboolean
sspi_utf16_to_utf8 (const WCHAR *s, char **out)
{
  G_STATIC_ASSERT (sizeof (WCHAR) == sizeof (gunichar2));

  *out = NULL;
  if (s == NULL)
    return TRUE;
  *out = g_utf16_to_utf8 ((const gunichar2 *) s, -1, NULL, NULL, NULL);
  return *out != NULL;
}

SECURITY_STATUS
sspi_acquire_names_to_utf8 (const WCHAR *principal, const WCHAR *package, char **principal8,
                            char **package8)
{
  *principal8 = NULL;
  if (!sspi_utf16_to_utf8 (package, package8))
    return SEC_E_SECPKG_NOT_FOUND;
  if (!sspi_utf16_to_utf8 (principal, principal8))
    return SEC_E_UNKNOWN_CREDENTIALS;
  return SEC_E_OK;
}

/* ---- handles ------------------------------------------------------------ */

/* The generation of handles: advanced by the session whenever the session
 * with the daemon dies, so a handle from before is refused here without a
 * round trip.  Atomic, so that packing and unpacking take no lock; 0 is
 * never a valid generation. */
static gint handle_generation = 1;

guint
sspi_generation_get (void)
{
  return (guint) g_atomic_int_get (&handle_generation);
}

void
sspi_generation_advance (void)
{
  g_atomic_int_inc (&handle_generation);
}

SECURITY_STATUS
sspi_handle_unpack (const SecHandle *h, SspiHandleKind kind, guint64 *value,
                    guint *gen)
{
  guint g;

  if (h == NULL || h->dwLower == 0)
    return SEC_E_INVALID_HANDLE;
  if ((h->dwUpper & 0xff) != (ULONG_PTR) kind)
    return SEC_E_INVALID_HANDLE;
  g = (guint) (h->dwUpper >> 8);
  if ((ULONG_PTR) g != (h->dwUpper >> 8) || g != sspi_generation_get ())
    return SEC_E_INVALID_HANDLE;
  *value = (guint64) h->dwLower;
  *gen = g;
  return SEC_E_OK;
}

void
sspi_handle_pack (SecHandle *h, SspiHandleKind kind, guint64 value,
                  guint gen)
{
  G_STATIC_ASSERT (sizeof (ULONG_PTR) >= sizeof (guint64));

  h->dwLower = (ULONG_PTR) value;
  h->dwUpper = ((ULONG_PTR) gen << 8) | (ULONG_PTR) kind;
}

/* ---- requests ----------------------------------------------------------- */

static gboolean
is_schannel_package (const char *package)
{
  return package != NULL
         && (g_ascii_strcasecmp (package, SCHANNEL_NAME_A) == 0
             || g_ascii_strcasecmp (package, UNISP_NAME_A) == 0);
}

static SECURITY_STATUS
parse_schannel_cred (const SCHANNEL_CRED *cred, guint32 *enabled,
                     guint32 *flags)
{
  /* Keys come from the daemon's configuration, never from the caller:
   * answered as Windows answers a certificate it cannot use. */
  if (cred->cCreds != 0)
    return SEC_E_UNKNOWN_CREDENTIALS;
  *enabled = cred->grbitEnabledProtocols;
  *flags = cred->dwFlags;
  return SEC_E_OK;
}

static SECURITY_STATUS
parse_sch_credentials (const SCH_CREDENTIALS *cred, guint32 *enabled,
                       guint32 *flags)
{
  guint32 disabled = 0;

  if (cred->cCreds != 0)
    return SEC_E_UNKNOWN_CREDENTIALS;
  if (cred->cTlsParameters != 0 && cred->pTlsParameters == NULL)
    return SEC_E_INVALID_PARAMETER;
  for (DWORD i = 0; i < cred->cTlsParameters; i++)
    {
      /* Parameters restricted to some ALPN ids are not supported: they
       * neither apply to every connection nor may be silently widened. */
      if (cred->pTlsParameters[i].cAlpnIds == 0)
        disabled |= cred->pTlsParameters[i].grbitDisabledProtocols;
    }
  /* SCH_USE_DTLS_ONLY selects the datagram versions instead (Windows
   * has no other way to ask for DTLS through SCH_CREDENTIALS). */
  if (cred->dwFlags & SCH_USE_DTLS_ONLY)
    *enabled = SP_PROT_DTLS1_2 & ~disabled;
  else
    *enabled = SUPPORTED_PROTOCOLS & ~disabled;
  /* 0 would mean "the default" on the wire, i.e. everything. */
  if (*enabled == 0)
    return SEC_E_ALGORITHM_MISMATCH;
  *flags = cred->dwFlags;
  return SEC_E_OK;
}

/* pAuthData -> the a{sv} of AcquireCredentialsHandle, and the SP_PROT_*
 * mask it enables (0: the default). */
static SECURITY_STATUS
parse_auth_data (const void *auth_data, GVariant **out, guint32 *enabled_out)
{
  guint32 enabled = 0, flags = 0;
  SECURITY_STATUS status;

  if (auth_data != NULL)
    {
      DWORD version;

      memcpy (&version, auth_data, sizeof version);
      /* SCH_CRED_V3 is SCHANNEL_CRED without dwCredFormat, which is not
       * read; an older or unknown version is refused as Windows refuses
       * it (SEC_E_UNKNOWN_CREDENTIALS, Wine's schannel test). */
      if (version == SCHANNEL_CRED_VERSION || version == SCH_CRED_V3)
        status = parse_schannel_cred (auth_data, &enabled, &flags);
      else if (version == SCH_CREDENTIALS_VERSION)
        status = parse_sch_credentials (auth_data, &enabled, &flags);
      else
        status = SEC_E_UNKNOWN_CREDENTIALS;
      if (status != SEC_E_OK)
        return status;
    }
  *out = g_variant_ref_sink (sspid_auth_data_new (auth_data != NULL, enabled, flags));
  *enabled_out = enabled;
  return SEC_E_OK;
}

/* What QueryCredentialsAttributes(SECPKG_ATTR_SUPPORTED_PROTOCOLS) says for
 * a credential: the bits of @enabled for the direction(s) of @use (only a
 * direction's own bit turns a version on for it, as in the daemon; 0 means
 * its default, TLS 1.2 and 1.3). */
static guint32
credential_protocols (guint32 enabled, guint32 use)
{
  static const struct { guint32 client, server; } versions[] = {
    { SP_PROT_TLS1_0_CLIENT, SP_PROT_TLS1_0_SERVER },
    { SP_PROT_TLS1_1_CLIENT, SP_PROT_TLS1_1_SERVER },
    { SP_PROT_TLS1_2_CLIENT, SP_PROT_TLS1_2_SERVER },
    { SP_PROT_TLS1_3_CLIENT, SP_PROT_TLS1_3_SERVER },
    { SP_PROT_DTLS1_2_CLIENT, SP_PROT_DTLS1_2_SERVER },
  };
  guint32 protocols = 0;

  if (enabled == 0)
    enabled = SUPPORTED_PROTOCOLS;
  for (gsize i = 0; i < G_N_ELEMENTS (versions); i++)
    {
      if (use & SECPKG_CRED_OUTBOUND)
        protocols |= enabled & versions[i].client;
      if (use & SECPKG_CRED_INBOUND)
        protocols |= enabled & versions[i].server;
    }
  return protocols;
}

/* Whether @enabled (a SCHANNEL_CRED mask, 0: the default) leaves the
 * credential a protocol to speak in the direction(s) of @use.  Windows
 * refuses a mask with only the other direction's bits, and a DTLS bit it
 * does not speak, with SEC_E_ALGORITHM_MISMATCH (Wine's schannel test);
 * sspid speaks DTLS 1.2 (for ISC_REQ_DATAGRAM/ASC_REQ_DATAGRAM contexts)
 * but not DTLS 1.0. */
static gboolean
is_protocol_mask_usable (guint32 enabled, guint32 use)
{
  guint32 wanted = 0;

  if (enabled == 0)
    return TRUE;
  if (enabled & SP_PROT_DTLS1_0)
    return FALSE;
  if (use & SECPKG_CRED_OUTBOUND)
    wanted |= SP_PROT_TLS1_X_CLIENT | SP_PROT_SSL3_CLIENT | SP_PROT_DTLS1_2_CLIENT;
  if (use & SECPKG_CRED_INBOUND)
    wanted |= SP_PROT_TLS1_X_SERVER | SP_PROT_SSL3_SERVER | SP_PROT_DTLS1_2_SERVER;
  return (enabled & wanted) != 0;
}

SECURITY_STATUS
sspi_request_init_acquire (SspiRequest *r, const char *principal,
                           const char *package, ULONG credential_use,
                           void *auth_data, PCredHandle credential,
                           PTimeStamp expiry)
{
  SECURITY_STATUS status;
  guint32 enabled = 0;

  if (!is_schannel_package (package))
    return SEC_E_SECPKG_NOT_FOUND;
  /* Windows checks in this order (Wine's schannel test): the direction,
   * the auth data, then the handle; no direction, or a server side with
   * nothing to serve with, is SEC_E_NO_CREDENTIALS. */
  if ((credential_use & SECPKG_CRED_BOTH) == 0)
    return SEC_E_NO_CREDENTIALS;
  /* Credential names are UTF-8 (the A entry points take UTF-8): no
   * configured credential has a name that is not. */
  if (principal != NULL && !g_utf8_validate (principal, -1, NULL))
    return SEC_E_UNKNOWN_CREDENTIALS;
  status = parse_auth_data (auth_data, &r->auth_data, &enabled);
  if (status != SEC_E_OK)
    return status;
  if (!is_protocol_mask_usable (enabled, credential_use & SECPKG_CRED_BOTH))
    return SEC_E_ALGORITHM_MISMATCH;
  if (credential == NULL)
    return (credential_use & SECPKG_CRED_INBOUND) && (principal == NULL || *principal == '\0')
           ? SEC_E_NO_CREDENTIALS : SEC_E_INVALID_PARAMETER;

  r->kind = SSPI_CALL_ACQUIRE_CREDENTIALS;
  r->principal = g_strdup (principal != NULL ? principal : "");
  r->package = g_strdup (package);
  r->credential_use = credential_use & SECPKG_CRED_BOTH;
  r->out.kind = r->kind;
  r->out.handle = credential;
  r->out.expiry = expiry;
  r->out.protocols = credential_protocols (enabled, r->credential_use);
  /* Reference-counted: the answer outlives the request (async).  Not a
   * GQuark: a program may name any number of credentials over its life,
   * and interned strings are never freed. */
  r->out.principal = *r->principal != '\0' ? g_ref_string_new (r->principal) : NULL;
  return SEC_E_OK;
}

/* One SEC_APPLICATION_PROTOCOL_LIST's ids (8-bit length-prefixed). */
static gboolean
parse_alpn_ids (const guint8 *p, gsize len, GPtrArray *ids)
{
  while (len > 0)
    {
      gsize n = p[0];

      if (n == 0 || n + 1 > len
          || memchr (p + 1, '\0', n) != NULL
          || !g_utf8_validate_len ((const char *) p + 1, n, NULL))
        return FALSE;
      g_ptr_array_add (ids, g_strndup ((const char *) p + 1, n));
      p += n + 1;
      len -= n + 1;
    }
  return TRUE;
}

/* A SECBUFFER_APPLICATION_PROTOCOLS buffer (SEC_APPLICATION_PROTOCOLS) ->
 * the ids of its (first) ALPN list.  The lists follow each other packed,
 * each offsetof(ProtocolList) + ProtocolListSize bytes long. */
static SECURITY_STATUS
parse_alpn (const SecBuffer *b, char ***out)
{
  const gsize lists_at = offsetof (SEC_APPLICATION_PROTOCOLS, ProtocolLists);
  const gsize ids_at = offsetof (SEC_APPLICATION_PROTOCOL_LIST, ProtocolList);
  const gsize size_at = offsetof (SEC_APPLICATION_PROTOCOL_LIST, ProtocolListSize);
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  const guint8 *p = b->pvBuffer;
  ULONG lists_size;
  gsize end, pos;

  if (p == NULL || b->cbBuffer < lists_at)
    return SEC_E_INVALID_TOKEN;
  memcpy (&lists_size, p, sizeof lists_size);
  if (lists_size > b->cbBuffer - lists_at)
    return SEC_E_INVALID_TOKEN;
  end = lists_at + lists_size;

  for (pos = lists_at; pos < end;)
    {
      SEC_APPLICATION_PROTOCOL_NEGOTIATION_EXT ext;
      USHORT list_size;

      if (end - pos < ids_at)
        return SEC_E_INVALID_TOKEN;
      memcpy (&ext, p + pos, sizeof ext);
      memcpy (&list_size, p + pos + size_at, sizeof list_size);
      if (list_size > end - pos - ids_at)
        return SEC_E_INVALID_TOKEN;
      if (ext == SecApplicationProtocolNegotiationExt_ALPN && *out == NULL)
        {
          if (!parse_alpn_ids (p + pos + ids_at, list_size, ids))
            return SEC_E_INVALID_TOKEN;
          g_ptr_array_add (ids, NULL);
          *out = (char **) g_ptr_array_free (g_steal_pointer (&ids), FALSE);
        }
      pos += ids_at + list_size;
    }
  return SEC_E_OK;
}

/* pInput -> the token bytes, the ALPN ids and the DTLS MTU. */
static SECURITY_STATUS
parse_input (SspiRequest *r, const SecBufferDesc *input)
{
  const SecBuffer *token, *alpn, *mtu;
  SECURITY_STATUS status;

  if (input != NULL && input->cBuffers > 0 && input->pBuffers == NULL)
    return SEC_E_INVALID_TOKEN;
  /* An EMPTY buffer that claims bytes at no address: refused before the
   * daemon sees the step, so the context goes on (as on Windows, which
   * answers [TOKEN, EMPTY of 0xdeadbeef bytes] so in Wine's test). */
  for (ULONG i = 0; input != NULL && i < input->cBuffers; i++)
    if (sspi_buffer_is (&input->pBuffers[i], SECBUFFER_EMPTY) &&
        input->pBuffers[i].cbBuffer != 0 && input->pBuffers[i].pvBuffer == NULL)
      return SEC_E_INVALID_TOKEN;
  token = sspi_buffer_find (input, SECBUFFER_TOKEN);
  if (token != NULL && token->cbBuffer > 0 && token->pvBuffer == NULL)
    return SEC_E_INVALID_TOKEN;
  r->input = token != NULL ? g_bytes_new (token->pvBuffer, token->cbBuffer)
                           : g_bytes_new (NULL, 0);
  /* SECBUFFER_DTLS_MTU: a SEC_DTLS_MTU, whose PathMTU the daemon clamps
   * to Windows' range (200 to 64 KiB); not looked at by stream contexts. */
  mtu = sspi_buffer_find (input, SECBUFFER_DTLS_MTU);
  if (mtu != NULL)
    {
      SEC_DTLS_MTU value;

      if (mtu->cbBuffer < sizeof value || mtu->pvBuffer == NULL)
        return SEC_E_INVALID_PARAMETER;
      memcpy (&value, mtu->pvBuffer, sizeof value);
      r->dtls_mtu = value.PathMTU;
    }
  alpn = sspi_buffer_find (input, SECBUFFER_APPLICATION_PROTOCOLS);
  if (alpn != NULL && (status = parse_alpn (alpn, &r->alpn)) != SEC_E_OK)
    return status;
  return sspi_quic_parse_input (input, &r->quic);
}

/* Where the output token goes: the first SECBUFFER_TOKEN of pOutput, or,
 * when the package allocates, its first SECBUFFER_EMPTY (curl's Schannel
 * backend passes a lone EMPTY buffer; Windows turns it into the token). */
static SecBuffer *
output_token_buffer (const SecBufferDesc *output, ULONG context_req)
{
  SecBuffer *buf = sspi_buffer_find (output, SECBUFFER_TOKEN);

  if (buf == NULL && (context_req & ISC_REQ_ALLOCATE_MEMORY))
    buf = sspi_buffer_find (output, SECBUFFER_EMPTY);
  return buf;
}

/* The part of ISC and ASC that is the same. */
static SECURITY_STATUS
init_step (SspiRequest *r, SspiCallKind kind, PCredHandle credential,
           PCtxtHandle context, ULONG context_req, PSecBufferDesc input,
           PCtxtHandle new_context, PSecBufferDesc output, ULONG *attributes,
           PTimeStamp expiry)
{
  guint cred_gen = 0, ctx_gen = 0;
  const SecBuffer *alert;
  SecBuffer *token;
  SECURITY_STATUS status;

  if (context != NULL)
    {
      status = sspi_handle_unpack (context, SSPI_HANDLE_CONTEXT, &r->context,
                                   &ctx_gen);
      if (status != SEC_E_OK)
        return status;
    }
  /* The credential is needed to start; afterwards the context has it. */
  if (credential != NULL || context == NULL)
    {
      status = sspi_handle_unpack (credential, SSPI_HANDLE_CREDENTIAL,
                                   &r->credential, &cred_gen);
      if (status != SEC_E_OK)
        return status;
    }
  /* No output descriptor at all: Windows says SEC_E_INVALID_TOKEN. */
  if (output == NULL)
    return SEC_E_INVALID_TOKEN;

  /* A first step must be able to hand back the new context. */
  if (context == NULL && new_context == NULL)
    return SEC_E_INVALID_PARAMETER;
  if (output == NULL || (output->cBuffers > 0 && output->pBuffers == NULL))
    return SEC_E_INVALID_PARAMETER;
  token = output_token_buffer (output, context_req);
  if (token == NULL)
    return SEC_E_INVALID_TOKEN;
  /* Schannel looks at the room for its output before it reads the input
   * (Wine's schannel test and implementation): a token buffer with none,
   * unless the package may allocate, is SEC_E_INSUFFICIENT_MEMORY with
   * cbBuffer 0, and nothing was consumed: the caller may call again, with
   * room, on the same input.  Asking the daemon first would run the step
   * and lose its token (on a later step, the handshake with it). */
  if (!(context_req & ISC_REQ_ALLOCATE_MEMORY) &&
      (token->cbBuffer == 0 || token->pvBuffer == NULL))
    {
      token->cbBuffer = 0;
      return SEC_E_INSUFFICIENT_MEMORY;
    }
  /* Windows: a SECBUFFER_ALERT output with no room, unless the package
   * may allocate, is SEC_E_INSUFFICIENT_MEMORY (Wine's schannel test). */
  alert = sspi_buffer_find (output, SECBUFFER_ALERT);
  if (alert != NULL && alert->cbBuffer == 0 && !(context_req & ISC_REQ_ALLOCATE_MEMORY))
    return SEC_E_INSUFFICIENT_MEMORY;
  status = parse_input (r, input);
  if (status != SEC_E_OK)
    return status;

  r->kind = kind;
  r->generation = ctx_gen != 0 ? ctx_gen : cred_gen;
  r->context_req = context_req;
  r->out.kind = kind;
  r->out.handle = new_context;
  r->out.in_context = r->context;
  r->out.input = input;
  r->out.output = output;
  r->out.attributes = attributes;
  r->out.expiry = expiry;
  r->out.context_req = context_req;
  return SEC_E_OK;
}

SECURITY_STATUS
sspi_request_init_initialize (SspiRequest *r, PCredHandle credential,
                              PCtxtHandle context, const char *target,
                              ULONG context_req, PSecBufferDesc input,
                              PCtxtHandle new_context, PSecBufferDesc output,
                              ULONG *attributes, PTimeStamp expiry)
{
  SECURITY_STATUS status;

  /* A host name is UTF-8 here (IDNs in their Unicode or ASCII form). */
  if (target != NULL && !g_utf8_validate (target, -1, NULL))
    return SEC_E_TARGET_UNKNOWN;
  status = init_step (r, SSPI_CALL_INITIALIZE_CONTEXT, credential, context,
                      context_req, input, new_context, output, attributes,
                      expiry);
  if (status == SEC_E_OK)
    r->target = g_strdup (target != NULL ? target : "");
  return status;
}

SECURITY_STATUS
sspi_request_init_accept (SspiRequest *r, PCredHandle credential,
                          PCtxtHandle context, PSecBufferDesc input,
                          ULONG context_req, PCtxtHandle new_context,
                          PSecBufferDesc output, ULONG *attributes,
                          PTimeStamp expiry)
{
  return init_step (r, SSPI_CALL_ACCEPT_CONTEXT, credential, context,
                    context_req, input, new_context, output, attributes,
                    expiry);
}

SECURITY_STATUS
sspi_request_init_delete (SspiRequest *r, PCtxtHandle context)
{
  SECURITY_STATUS status;

  status = sspi_handle_unpack (context, SSPI_HANDLE_CONTEXT, &r->context,
                               &r->generation);
  r->kind = r->out.kind = SSPI_CALL_DELETE_CONTEXT;
  r->out.released = r->context;
  return status;
}

SECURITY_STATUS
sspi_request_init_free_credentials (SspiRequest *r, PCredHandle credential)
{
  SECURITY_STATUS status;

  status = sspi_handle_unpack (credential, SSPI_HANDLE_CREDENTIAL,
                               &r->credential, &r->generation);
  r->kind = r->out.kind = SSPI_CALL_FREE_CREDENTIALS;
  r->out.released = r->credential;
  return status;
}

void
sspi_request_init_release (SspiRequest *r, SspiHandleKind kind, guint64 handle)
{
  /* Nothing to write back: the caller never had the handle. */
  if (kind == SSPI_HANDLE_CREDENTIAL)
    {
      r->kind = SSPI_CALL_FREE_CREDENTIALS;
      r->credential = handle;
    }
  else
    {
      r->kind = SSPI_CALL_DELETE_CONTEXT;
      r->context = handle;
    }
}

const char *
sspi_request_get_method (const SspiRequest *r)
{
  return sspid_method_get ((SspidCallKind) r->kind)->name;
}

static GVariant *
bytes_variant (GBytes *bytes)
{
  gsize len;
  const void *data = g_bytes_get_data (bytes, &len);

  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, len, 1);
}

GVariant *
sspi_request_build_params (const SspiRequest *r, guint64 call_id)
{
  switch (r->kind)
    {
    case SSPI_CALL_ACQUIRE_CREDENTIALS:
      return sspid_acquire_args_encode (&(SspidAcquireArgs) {
        call_id, r->principal, r->package, r->credential_use, r->auth_data });
    case SSPI_CALL_INITIALIZE_CONTEXT:
    case SSPI_CALL_ACCEPT_CONTEXT:
      return sspid_step_args_encode ((SspidCallKind) r->kind, &(SspidStepArgs) {
        call_id, r->credential, r->context, r->target, r->context_req,
        bytes_variant (r->input), (const char **) r->alpn,
        sspid_step_options_new (r->dtls_mtu, &r->quic) });
    case SSPI_CALL_DELETE_CONTEXT:
      return sspid_release_args_encode (&(SspidReleaseArgs) { call_id, r->context });
    case SSPI_CALL_FREE_CREDENTIALS:
      return sspid_release_args_encode (&(SspidReleaseArgs) { call_id, r->credential });
    default:
      g_assert_not_reached ();
    }
}

void
sspi_step_parse (GVariant *tuple, gsize first, SspiStep *step)
{
  sspid_step_result_decode (tuple, first, step);
}

void
sspi_step_init_error (SspiStep *step, SECURITY_STATUS status)
{
  memset (step, 0, sizeof *step);
  step->status = status;
}

void
sspi_step_clear (SspiStep *step)
{
  sspid_step_result_clear (step);
}

void
sspi_timestamp_from_unix (TimeStamp *ts, gint64 unix_seconds)
{
  guint64 filetime = 0;

  if (unix_seconds > 0 && unix_seconds < G_MAXINT64 / 10000000 - FILETIME_UNIX_EPOCH)
    filetime = (guint64) (unix_seconds + FILETIME_UNIX_EPOCH) * 10000000u;
  ts->LowPart = (ULONG) (filetime & 0xffffffffu);
  ts->HighPart = (LONG) (filetime >> 32);
}

void
sspi_outputs_reset (const SspiOutputs *o)
{
  if (o->attributes != NULL)
    *o->attributes = 0;
  if (o->expiry != NULL)
    sspi_timestamp_from_unix (o->expiry, 0);
}

/* A failure of our own only replaces a success: an error from the daemon
 * says more than "and its token did not fit either". */
static SECURITY_STATUS
worse (SECURITY_STATUS status, SECURITY_STATUS ours)
{
  return SEC_SUCCESS (status) ? ours : status;
}

/* The step's token into the first SECBUFFER_TOKEN of pOutput. */
static SECURITY_STATUS
write_token (const SspiOutputs *o, const SspiStep *step, guint32 *attributes)
{
  gboolean allocate = (o->context_req & ISC_REQ_ALLOCATE_MEMORY) != 0;
  SecBuffer *buf = output_token_buffer (o->output, o->context_req);
  gsize len = 0;
  const void *data = NULL;
  void *copy;

  if (allocate)
    *attributes |= ISC_RET_ALLOCATED_MEMORY;
  else
    *attributes &= ~(guint32) ISC_RET_ALLOCATED_MEMORY;
  if (step->token != NULL)
    data = g_variant_get_fixed_array (step->token, &len, 1);
  if (buf == NULL)
    return len == 0 ? step->status : worse (step->status, SEC_E_INVALID_TOKEN);
  if (len == 0)
    {
      buf->cbBuffer = 0;
      if (allocate)
        buf->pvBuffer = NULL;
      return step->status;
    }
  if (allocate)
    {
      /* The caller releases it with FreeContextBuffer(), i.e. free(). */
      copy = malloc (len);
      buf->pvBuffer = copy;
      buf->cbBuffer = copy != NULL ? (ULONG) len : 0;
      if (copy == NULL)
        return worse (step->status, SEC_E_INSUFFICIENT_MEMORY);
      memcpy (copy, data, len);
      /* An EMPTY buffer we allocated into is now the token (Windows). */
      buf->BufferType = SECBUFFER_TOKEN | (buf->BufferType & SECBUFFER_ATTRMASK);
      return step->status;
    }
  if (buf->cbBuffer == 0 || buf->pvBuffer == NULL)
    {
      buf->cbBuffer = 0;
      return worse (step->status, SEC_E_INSUFFICIENT_MEMORY);
    }
  if (buf->cbBuffer < len)
    {
      buf->cbBuffer = 0;
      return worse (step->status, SEC_E_BUFFER_TOO_SMALL);
    }
  memcpy (buf->pvBuffer, data, len);
  buf->cbBuffer = (ULONG) len;
  return step->status;
}

/* SECBUFFER_EXTRA / SECBUFFER_MISSING in the second input buffer. */
static void
write_extra_missing (const SspiOutputs *o, const SspiStep *step)
{
  SecBuffer *second;

  if (o->input == NULL || o->input->cBuffers < 2 || o->input->pBuffers == NULL)
    return;
  second = &o->input->pBuffers[1];
  if (step->status == SEC_E_INCOMPLETE_MESSAGE && step->missing > 0)
    {
      second->BufferType = SECBUFFER_MISSING;
      second->cbBuffer = step->missing;
    }
  else if (step->extra > 0)
    {
      second->BufferType = SECBUFFER_EXTRA;
      second->cbBuffer = step->extra;
    }
}

/* The request flags Schannel answers with the same bit when asked
 * (USE_SUPPLIED_CREDS -> USED_SUPPLIED_CREDS ...), and the attributes every
 * TLS stream context has, which it reports whether asked for or not. */
#define ISC_ECHOED (ISC_REQ_MUTUAL_AUTH | ISC_REQ_USE_SUPPLIED_CREDS | \
                    ISC_REQ_CONNECTION | ISC_REQ_EXTENDED_ERROR | \
                    ISC_REQ_MANUAL_CRED_VALIDATION)
#define ASC_ECHOED (ASC_REQ_MUTUAL_AUTH | ASC_REQ_CONNECTION | \
                    ASC_REQ_EXTENDED_ERROR)
#define ISC_STREAM_ATTRS (ISC_RET_REPLAY_DETECT | ISC_RET_SEQUENCE_DETECT | \
                          ISC_RET_CONFIDENTIALITY | ISC_RET_STREAM)
#define ASC_STREAM_ATTRS (ASC_RET_REPLAY_DETECT | ASC_RET_SEQUENCE_DETECT | \
                          ASC_RET_CONFIDENTIALITY | ASC_RET_STREAM)
G_STATIC_ASSERT (ISC_REQ_MUTUAL_AUTH == ISC_RET_MUTUAL_AUTH);
G_STATIC_ASSERT (ISC_REQ_USE_SUPPLIED_CREDS == ISC_RET_USED_SUPPLIED_CREDS);
G_STATIC_ASSERT (ISC_REQ_CONNECTION == ISC_RET_CONNECTION);
G_STATIC_ASSERT (ISC_REQ_EXTENDED_ERROR == ISC_RET_EXTENDED_ERROR);
G_STATIC_ASSERT (ISC_REQ_MANUAL_CRED_VALIDATION == ISC_RET_MANUAL_CRED_VALIDATION);
G_STATIC_ASSERT (ASC_REQ_MUTUAL_AUTH == ASC_RET_MUTUAL_AUTH);
G_STATIC_ASSERT (ASC_REQ_CONNECTION == ASC_RET_CONNECTION);
G_STATIC_ASSERT (ASC_REQ_EXTENDED_ERROR == ASC_RET_EXTENDED_ERROR);

/* *pfContextAttr as Windows fills it: on a successful step, the stream
 * attributes plus what this call asked for, and nothing it did not ask
 * for (callers such as curl compare the two exactly; a credential's
 * SCH_CRED_MANUAL_CRED_VALIDATION does not show).  Otherwise what the
 * daemon said (nothing, for a failure).  ALLOCATED_MEMORY is write_token's. */
static guint32
returned_attributes (const SspiOutputs *o, const SspiStep *step)
{
  if (step->status != SEC_E_OK && step->status != SEC_I_CONTINUE_NEEDED &&
      step->status != SEC_I_MESSAGE_FRAGMENT)
    return step->attributes;
  /* A datagram context (DTLS) says DATAGRAM where a stream says STREAM. */
  if (o->kind == SSPI_CALL_INITIALIZE_CONTEXT)
    return (o->context_req & ISC_REQ_DATAGRAM
            ? (ISC_STREAM_ATTRS & ~ISC_RET_STREAM) | ISC_RET_DATAGRAM : ISC_STREAM_ATTRS)
           | (o->context_req & ISC_ECHOED);
  return (o->context_req & ASC_REQ_DATAGRAM
          ? (ASC_STREAM_ATTRS & ~ASC_RET_STREAM) | ASC_RET_DATAGRAM : ASC_STREAM_ATTRS)
         | (o->context_req & ASC_ECHOED);
}

/* A SECBUFFER_ALERT output comes back empty, as Windows returns it when
 * there is no alert: an alert sspid sends (ISC_REQ_EXTENDED_ERROR) is a
 * record in the output token. */
static void
clear_alert_buffer (const SspiOutputs *o)
{
  SecBuffer *alert = sspi_buffer_find (o->output, SECBUFFER_ALERT);

  if (alert != NULL)
    alert->cbBuffer = 0;
}

static SECURITY_STATUS
write_step (const SspiOutputs *o, guint generation, const SspiStep *step)
{
  guint32 attributes = returned_attributes (o, step);
  SECURITY_STATUS status;

  /* Windows leaves the output buffers and *phNewContext as they were when
   * it needs more input (Wine's schannel test): only the input's
   * SECBUFFER_MISSING says something. */
  if (step->status == SEC_E_INCOMPLETE_MESSAGE)
    {
      write_extra_missing (o, step);
      return step->status;
    }
  status = write_token (o, step, &attributes);
  /* Every success says what each SECBUFFER_TRAFFIC_SECRETS holds, if
   * only SecTrafficSecret_None. */
  if (SEC_SUCCESS (status))
    {
      SECURITY_STATUS quic = sspi_quic_write_outputs (o->output, step);

      if (quic != SEC_E_OK)
        status = quic;
    }
  clear_alert_buffer (o);
  if (o->handle != NULL && sspi_outputs_unclaimed_handle (o, step, status) == 0)
    {
      if (step->handle != 0)
        sspi_handle_pack (o->handle, SSPI_HANDLE_CONTEXT, step->handle,
                          generation);
      else if (SEC_SUCCESS (step->status) && o->in_context != 0)
        sspi_handle_pack (o->handle, SSPI_HANDLE_CONTEXT, o->in_context,
                          generation);
    }
  if (o->attributes != NULL)
    *o->attributes = attributes;
  if (o->expiry != NULL)
    sspi_timestamp_from_unix (o->expiry, step->expiry);
  write_extra_missing (o, step);
  return status;
}

SECURITY_STATUS
sspi_outputs_write (const SspiOutputs *o, guint generation,
                    const SspiStep *step)
{
  switch (o->kind)
    {
    case SSPI_CALL_ACQUIRE_CREDENTIALS:
      if (step->handle != 0 && SEC_SUCCESS (step->status))
        {
          sspi_handle_pack (o->handle, SSPI_HANDLE_CREDENTIAL, step->handle,
                            generation);
          sspi_cache_set_credential (step->handle, generation, o->protocols, o->principal);
        }
      if (o->expiry != NULL)
        sspi_timestamp_from_unix (o->expiry, step->expiry);
      return step->status;
    case SSPI_CALL_INITIALIZE_CONTEXT:
    case SSPI_CALL_ACCEPT_CONTEXT:
      return write_step (o, generation, step);
    case SSPI_CALL_DELETE_CONTEXT:
    case SSPI_CALL_FREE_CREDENTIALS:
    default:
      sspi_outputs_forget (o);
      return step->status;
    }
}

void
sspi_outputs_forget (const SspiOutputs *o)
{
  /* Whatever the daemon said: the caller may not use the handle again. */
  if (o->released == 0)
    return;
  if (o->kind == SSPI_CALL_DELETE_CONTEXT)
    sspi_cache_forget (SSPI_HANDLE_CONTEXT, o->released);
  else if (o->kind == SSPI_CALL_FREE_CREDENTIALS)
    sspi_cache_forget (SSPI_HANDLE_CREDENTIAL, o->released);
}

guint64
sspi_outputs_unclaimed_handle (const SspiOutputs *o, const SspiStep *step,
                               SECURITY_STATUS written)
{
  if (o->kind != SSPI_CALL_INITIALIZE_CONTEXT && o->kind != SSPI_CALL_ACCEPT_CONTEXT)
    return 0;
  if (o->in_context != 0 || !SEC_SUCCESS (step->status) || SEC_SUCCESS (written))
    return 0;
  return step->handle;
}

guint64
sspi_outputs_new_handle (const SspiOutputs *o, const SspiStep *step)
{
  switch (o->kind)
    {
    case SSPI_CALL_ACQUIRE_CREDENTIALS:
      return step->handle;
    case SSPI_CALL_INITIALIZE_CONTEXT:
    case SSPI_CALL_ACCEPT_CONTEXT:
      return o->in_context == 0 ? step->handle : 0;
    case SSPI_CALL_DELETE_CONTEXT:
    case SSPI_CALL_FREE_CREDENTIALS:
    default:
      return 0;
    }
}
