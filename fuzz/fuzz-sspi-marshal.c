/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: libsspi's marshalling (libclient/sspi-marshal.c), both
 * ways, without a bus.
 *
 * Out: what an application hands AcquireCredentialsHandle and
 * Initialize/AcceptSecurityContext (names, flags, SCHANNEL_CRED and
 * SCH_CREDENTIALS, SecBufferDesc shapes, SEC_APPLICATION_PROTOCOLS lists)
 * is validated and turned into a method's parameters.  Whatever the
 * library accepts must be a body GDBus accepts for that method of
 * proto/org.sspid1.xml.
 *
 * Back: a step result (the daemon's answer) is written into the caller's
 * handles, output buffers (sized exactly, so a write past one is caught),
 * attributes, expiry and EXTRA/MISSING buffers.
 *
 * Input: a mode byte (bits 0-1: ISC, ASC, ACH, Delete/Free; higher bits
 * vary the shape), the call's arguments read from the input in order
 * (see read_* below), and the rest as the serialised (utayuxuua{sv}) answer.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "sspi-private.h"
#include "sspid-dbus-generated.h"

typedef struct {
  const guint8 *p;
  gsize         left;
} Reader;

static guint8
read_u8 (Reader *r)
{
  if (r->left == 0)
    return 0;
  r->left--;
  return *r->p++;
}

static guint32
read_u32 (Reader *r)
{
  guint32 v = 0;

  for (int i = 0; i < 4; i++)
    v = (v << 8) | read_u8 (r);
  return v;
}

/* Up to @n bytes into a new exact-size buffer of @n (zero-filled). */
static guint8 *
read_bytes (Reader *r, gsize n)
{
  guint8 *b = g_malloc0 (MAX (n, 1));
  gsize have = MIN (n, r->left);

  memcpy (b, r->p, have);
  r->p += have;
  r->left -= have;
  return b;
}

/* A length-prefixed string; NULL for length 255.  May be anything but
 * NUL-terminated: the ANSI API takes whatever bytes the application has. */
static char *
read_string (Reader *r)
{
  guint8 n = read_u8 (r);
  g_autofree guint8 *b = NULL;

  if (n == 255)
    return NULL;
  b = read_bytes (r, n);
  return g_strndup ((const char *) b, n);
}

/* A buffer type: the low 5 bits pick the type (TOKEN 2, EXTRA 5, ALPN
 * 18, ...), the top 3 the SECBUFFER_ATTRMASK flags. */
static ULONG
read_buffer_type (Reader *r)
{
  guint8 b = read_u8 (r);

  return (ULONG) (b & 0x1f) | ((ULONG) (b & 0xe0) << 24);
}

/* A SecBufferDesc of up to 4 buffers; each an exact allocation of its
 * cbBuffer (or none).  @with_data fills input buffers from the input. */
static SecBufferDesc *
read_desc (Reader *r, gboolean with_data)
{
  guint8 shape = read_u8 (r);
  SecBufferDesc *desc;

  if (shape & 0x80)
    return NULL;
  desc = g_new0 (SecBufferDesc, 1);
  desc->ulVersion = SECBUFFER_VERSION;
  desc->cBuffers = shape & 3;
  if (desc->cBuffers == 0)
    return desc;
  desc->pBuffers = g_new0 (SecBuffer, desc->cBuffers);
  for (ULONG i = 0; i < desc->cBuffers; i++)
    {
      SecBuffer *b = &desc->pBuffers[i];
      guint len = read_u8 (r);

      len = (len << 8) | read_u8 (r);
      b->BufferType = read_buffer_type (r);
      b->cbBuffer = len & 0x3fff;
      if (len & 0x8000)
        continue;   /* no memory: pvBuffer NULL */
      b->pvBuffer = with_data ? read_bytes (r, b->cbBuffer) : g_malloc0 (MAX (b->cbBuffer, 1));
    }
  return desc;
}

static void
free_desc (SecBufferDesc *desc, void *const *originals)
{
  if (desc == NULL)
    return;
  for (ULONG i = 0; i < desc->cBuffers; i++)
    {
      /* The library allocated what differs (ISC_REQ_ALLOCATE_MEMORY):
       * FreeContextBuffer() is free(). */
      if (desc->pBuffers[i].pvBuffer != originals[i])
        free (desc->pBuffers[i].pvBuffer);
      g_free (originals[i]);
    }
  g_free (desc->pBuffers);
  g_free (desc);
}

static void
remember (const SecBufferDesc *desc, void **originals, ULONG *sizes)
{
  for (ULONG i = 0; desc != NULL && i < desc->cBuffers && i < 4; i++)
    {
      originals[i] = desc->pBuffers[i].pvBuffer;
      sizes[i] = desc->pBuffers[i].cbBuffer;
    }
}

/* SCHANNEL_CRED, SCH_CREDENTIALS or raw bytes as pAuthData. */
static void *
read_auth_data (Reader *r, TLS_PARAMETERS **params)
{
  guint8 kind = read_u8 (r);

  *params = NULL;
  switch (kind & 3)
    {
    case 1:
      {
        SCHANNEL_CRED *c = g_new0 (SCHANNEL_CRED, 1);
        c->dwVersion = SCHANNEL_CRED_VERSION;
        c->cCreds = kind & 4 ? read_u8 (r) : 0;
        c->grbitEnabledProtocols = read_u32 (r);
        c->dwFlags = read_u32 (r);
        return c;
      }
    case 2:
      {
        SCH_CREDENTIALS *c = g_new0 (SCH_CREDENTIALS, 1);
        c->dwVersion = SCH_CREDENTIALS_VERSION;
        c->cCreds = kind & 4 ? read_u8 (r) : 0;
        c->dwFlags = read_u32 (r);
        c->cTlsParameters = read_u8 (r) % 5;
        if (c->cTlsParameters > 0 && !(kind & 8))
          {
            *params = g_new0 (TLS_PARAMETERS, c->cTlsParameters);
            for (DWORD i = 0; i < c->cTlsParameters; i++)
              {
                (*params)[i].cAlpnIds = read_u8 (r) & 1;
                (*params)[i].grbitDisabledProtocols = read_u32 (r);
              }
          }
        c->pTlsParameters = *params;
        return c;
      }
    case 3:
      {
        /* Some other version.  Never one of those the library parses:
         * with those, the caller vouches for the whole structure (the
         * fuzzer once read past 67 bytes labelled SCH_CREDENTIALS). */
        guint8 *blob = read_bytes (r, 4 + (kind >> 2));
        DWORD version;

        memcpy (&version, blob, sizeof version);
        if (version == SCHANNEL_CRED_VERSION || version == SCH_CRED_V3
            || version == SCH_CREDENTIALS_VERSION)
          {
            version |= 0x100;
            memcpy (blob, &version, sizeof version);
          }
        return blob;
      }
    default:
      return NULL;
    }
}

static GDBusInterfaceInfo *iface;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_logging ();
  iface = sspid_dbus_sspi_interface_info ();
  return 0;
}

/* GDBus would accept @params as the body of @method. */
static void
check_params (const char *method, GVariant *params)
{
  GDBusMethodInfo *m = g_dbus_interface_info_lookup_method (iface, method);
  g_autoptr (GString) sig = g_string_new ("(");

  FUZZ_CHECK (m != NULL);
  FUZZ_CHECK (params != NULL);
  for (guint i = 0; m->in_args != NULL && m->in_args[i] != NULL; i++)
    g_string_append (sig, m->in_args[i]->signature);
  g_string_append_c (sig, ')');
  FUZZ_CHECK (g_variant_is_of_type (params, G_VARIANT_TYPE (sig->str)));
}

/* The daemon's answer from the rest of the input, as GDBus would hand it
 * over (normal form). */
static void
read_answer (Reader *r, SspiStep *step)
{
  g_autoptr (GBytes) bytes = g_bytes_new (r->p, r->left);
  g_autoptr (GVariant) raw = g_variant_ref_sink (
    g_variant_new_from_bytes (G_VARIANT_TYPE (SSPID_STEP_RESULT_TYPE), bytes, FALSE));
  g_autoptr (GVariant) answer = g_variant_get_normal_form (raw);

  sspi_step_parse (answer, 0, step);
}

static void
pack (SecHandle *h, SspiHandleKind kind, guint64 value, gboolean stale)
{
  sspi_handle_pack (h, kind, value, sspi_generation_get () + (stale ? 1 : 0));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  Reader r = { data, size };
  guint8 mode = read_u8 (&r);
  g_auto (SspiRequest) req = { 0 };
  SecHandle cred = { 0 }, ctx = { 0 }, new_ctx = { 0 };
  g_autofree char *target = NULL, *principal = NULL, *package = NULL;
  g_autofree void *auth_data = NULL;
  g_autofree TLS_PARAMETERS *tls_params = NULL;
  SecBufferDesc *in = NULL, *out = NULL;
  void *in_orig[4] = { 0 }, *out_orig[4] = { 0 };
  ULONG in_size[4] = { 0 }, out_size[4] = { 0 };
  ULONG attrs = 0;
  TimeStamp expiry = { 0 };
  guint32 context_req = 0;
  SECURITY_STATUS status;
  SspiStep step = { 0 };

  pack (&cred, SSPI_HANDLE_CREDENTIAL, read_u32 (&r), mode & 0x80);
  pack (&ctx, SSPI_HANDLE_CONTEXT, read_u32 (&r), FALSE);
  switch (mode & 3)
    {
    case 0:
    case 1:
      context_req = read_u32 (&r);
      if ((mode & 3) == 0)
        target = read_string (&r);
      in = read_desc (&r, TRUE);
      out = read_desc (&r, FALSE);
      remember (in, in_orig, in_size);
      remember (out, out_orig, out_size);
      if ((mode & 3) == 0)
        status = sspi_request_init_initialize (&req, mode & 4 ? NULL : &cred, mode & 8 ? &ctx : NULL,
                                               target, context_req, in, mode & 16 ? NULL : &new_ctx,
                                               out, &attrs, &expiry);
      else
        status = sspi_request_init_accept (&req, mode & 4 ? NULL : &cred, mode & 8 ? &ctx : NULL,
                                           in, context_req, mode & 16 ? NULL : &new_ctx,
                                           out, &attrs, &expiry);
      break;
    case 2:
      principal = read_string (&r);
      package = read_string (&r);
      auth_data = read_auth_data (&r, &tls_params);
      status = sspi_request_init_acquire (&req, principal, package, read_u32 (&r), auth_data,
                                          mode & 4 ? NULL : &cred, &expiry);
      break;
    default:
      if (mode & 4)
        status = sspi_request_init_delete (&req, &ctx);
      else
        status = sspi_request_init_free_credentials (&req, &cred);
      break;
    }

  if (status == SEC_E_OK)
    {
      g_autoptr (GVariant) params = g_variant_ref_sink (sspi_request_build_params (&req, 1));

      check_params (sspi_request_get_method (&req), params);
      read_answer (&r, &step);
      sspi_outputs_reset (&req.out);
      (void) sspi_outputs_write (&req.out, req.generation, &step);
      (void) sspi_outputs_new_handle (&req.out, &step);
      /* As FreeCredentialsHandle would: the library's cache of handles
       * must not grow over millions of inputs. */
      if ((mode & 3) == 2 && step.handle != 0)
        sspi_cache_forget (SSPI_HANDLE_CREDENTIAL, step.handle);

      /* Without ALLOCATE_MEMORY the token lands in the caller's buffer,
       * which never grows. */
      for (ULONG i = 0; out != NULL && i < out->cBuffers; i++)
        if (out->pBuffers[i].pvBuffer == out_orig[i])
          FUZZ_CHECK (out->pBuffers[i].cbBuffer <= out_size[i]);
      sspi_step_clear (&step);
    }
  free_desc (in, in_orig);
  free_desc (out, out_orig);
  return 0;
}
