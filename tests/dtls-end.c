/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One DTLS end on libsspi's synchronous API (see dtls-end.h).  Every call
 * asserts Windows' buffer conventions for datagram contexts as it goes.
 */
#include "config.h"

#include "dtls-end.h"

#include <check.h>
#include <string.h>

void
dtls_end_init (DtlsEnd *end, gboolean is_server, const char *name)
{
  SCHANNEL_CRED auth = { .dwVersion = SCHANNEL_CRED_VERSION,
                         .grbitEnabledProtocols = is_server ? SP_PROT_DTLS1_2_SERVER
                                                            : SP_PROT_DTLS1_2_CLIENT };
  TimeStamp expiry;

  memset (end, 0, sizeof *end);
  end->is_server = is_server;
  SecInvalidateHandle (&end->ctx);
  ck_assert_int_eq (AcquireCredentialsHandleA ((char *) name, (char *) UNISP_NAME,
                                               is_server ? SECPKG_CRED_INBOUND
                                                         : SECPKG_CRED_OUTBOUND,
                                               NULL, &auth, NULL, NULL, &end->cred, &expiry),
                    SEC_E_OK);
}

void
dtls_end_clear (DtlsEnd *end)
{
  if (end->has_ctx)
    DeleteSecurityContext (&end->ctx);
  end->has_ctx = FALSE;
  FreeCredentialsHandle (&end->cred);
}

/* One ISC/ASC call; its output datagram (if any) appended to @out. */
static SECURITY_STATUS
one_step (DtlsEnd *end, GBytes *in, GPtrArray *out)
{
  gsize in_len = 0;
  const void *in_data = in != NULL ? g_bytes_get_data (in, &in_len) : NULL;
  g_autofree guint8 *copy = g_memdup2 (in_data, in_len);
  SEC_DTLS_MTU mtu = { (USHORT) end->mtu };
  SecBuffer ib[3] = {
    { (ULONG) in_len, SECBUFFER_TOKEN, copy },
    { 0, SECBUFFER_EMPTY, NULL },
    { sizeof mtu, SECBUFFER_DTLS_MTU, &mtu },
  };
  SecBufferDesc idesc = { SECBUFFER_VERSION, end->mtu != 0 ? 3 : 2, ib };
  SecBuffer ob[1] = { { 0, SECBUFFER_TOKEN, NULL } };
  SecBufferDesc odesc = { SECBUFFER_VERSION, 1, ob };
  CtxtHandle next = end->ctx;
  ULONG attrs = 0;
  TimeStamp expiry;
  SECURITY_STATUS status;

  if (end->is_server)
    status = AcceptSecurityContext (&end->cred, end->has_ctx ? &end->ctx : NULL, &idesc,
                                    DTLS_SERVER_REQ, 0, &next, &odesc, &attrs, &expiry);
  else
    status = InitializeSecurityContextA (&end->cred, end->has_ctx ? &end->ctx : NULL,
                                         (char *) "localhost", DTLS_CLIENT_REQ, 0, 0,
                                         &idesc, 0, &next, &odesc, &attrs, &expiry);
  if (SEC_SUCCESS (status) && SecIsValidHandle (&next))
    {
      if (end->has_ctx)
        ck_assert_mem_eq (&next, &end->ctx, sizeof next);
      end->ctx = next;
      end->has_ctx = TRUE;
    }
  end->attributes = attrs;
  if (ob[0].cbBuffer > 0)
    {
      ck_assert_uint_eq (ob[0].BufferType, SECBUFFER_TOKEN);
      if (end->mtu != 0)
        ck_assert_uint_le (ob[0].cbBuffer, end->mtu);
      g_ptr_array_add (out, g_bytes_new (ob[0].pvBuffer, ob[0].cbBuffer));
      FreeContextBuffer (ob[0].pvBuffer);
    }
  return status;
}

SECURITY_STATUS
dtls_end_step (DtlsEnd *end, GBytes *in, GPtrArray *out)
{
  SECURITY_STATUS status = one_step (end, in, out);

  /* A server that asks for a client certificate: go on without one, the
   * same datagram again (as Windows programs do). */
  if (status == SEC_I_INCOMPLETE_CREDENTIALS)
    status = one_step (end, in, out);
  while (status == SEC_I_MESSAGE_FRAGMENT)
    status = one_step (end, NULL, out);
  if (status == SEC_E_OK || status == SEC_I_CONTINUE_NEEDED)
    {
      /* A datagram context says so, and never STREAM. */
      ck_assert_uint_ne (end->attributes & ISC_RET_DATAGRAM, 0);
      ck_assert_uint_eq (end->attributes & (end->is_server ? ASC_RET_STREAM : ISC_RET_STREAM), 0);
    }
  return status;
}

GBytes *
dtls_end_seal (DtlsEnd *end, const void *data, gsize len)
{
  SecPkgContext_StreamSizes sizes;
  g_autofree guint8 *buf = NULL;
  SecBuffer b[4];
  SecBufferDesc desc = { SECBUFFER_VERSION, 4, b };

  ck_assert_int_eq (QueryContextAttributesA (&end->ctx, SECPKG_ATTR_STREAM_SIZES, &sizes),
                    SEC_E_OK);
  ck_assert_uint_le (len, sizes.cbMaximumMessage);
  buf = g_malloc0 (sizes.cbHeader + len + sizes.cbTrailer);
  b[0] = (SecBuffer) { sizes.cbHeader, SECBUFFER_STREAM_HEADER, buf };
  b[1] = (SecBuffer) { (ULONG) len, SECBUFFER_DATA, buf + sizes.cbHeader };
  b[2] = (SecBuffer) { sizes.cbTrailer, SECBUFFER_STREAM_TRAILER, buf + sizes.cbHeader + len };
  b[3] = (SecBuffer) { 0, SECBUFFER_EMPTY, NULL };
  memcpy (buf + sizes.cbHeader, data, len);
  ck_assert_int_eq (EncryptMessage (&end->ctx, 0, &desc, 0), SEC_E_OK);
  /* A DTLS record: header of 13 bytes, length over the rest. */
  ck_assert_uint_eq (b[0].cbBuffer, sizes.cbHeader);
  ck_assert_uint_eq (buf[1], 0xfe);
  ck_assert_uint_eq ((guint) (buf[11] << 8 | buf[12]),
                     b[0].cbBuffer - 13 + b[1].cbBuffer + b[2].cbBuffer);
  return g_bytes_new (buf, b[0].cbBuffer + b[1].cbBuffer + b[2].cbBuffer);
}

/* One DecryptMessage on the first record of @data; *@extra gets the bytes
 * after it (SECBUFFER_EXTRA). */
static SECURITY_STATUS
open_one (DtlsEnd *end, const guint8 *data, gsize len, GByteArray *plain, gsize *extra)
{
  g_autofree guint8 *buf = g_malloc0 (len + 1);
  SecBuffer b[4] = {
    { (ULONG) len, SECBUFFER_DATA, buf },
    { 0, SECBUFFER_EMPTY, NULL },
    { 0, SECBUFFER_EMPTY, NULL },
    { 0, SECBUFFER_EMPTY, NULL },
  };
  SecBufferDesc desc = { SECBUFFER_VERSION, 4, b };
  SECURITY_STATUS status;

  *extra = 0;
  memcpy (buf, data, len);
  status = DecryptMessage (&end->ctx, &desc, 0, NULL);
  if (!SEC_SUCCESS (status))
    return status;
  ck_assert_uint_eq (b[1].BufferType, SECBUFFER_DATA);
  g_byte_array_append (plain, b[1].pvBuffer, b[1].cbBuffer);
  if (b[3].BufferType == SECBUFFER_EXTRA)
    {
      ck_assert_ptr_eq (b[3].pvBuffer, buf + len - b[3].cbBuffer);
      *extra = b[3].cbBuffer;
    }
  return status;
}

SECURITY_STATUS
dtls_end_open (DtlsEnd *end, GBytes *in, GBytes **plain)
{
  gsize len, extra;
  const guint8 *data = g_bytes_get_data (in, &len);
  g_autoptr(GByteArray) text = g_byte_array_new ();
  SECURITY_STATUS status, result = SEC_E_OK;

  /* Every record of the datagram, as a program does with EXTRA. */
  do
    {
      status = open_one (end, data, len, text, &extra);
      data += len - extra;
      len = extra;
      if (result != SEC_I_RENEGOTIATE)
        result = status;
    }
  while (SEC_SUCCESS (status) && extra > 0);
  if (result == SEC_E_OK && plain != NULL)
    *plain = g_byte_array_free_to_bytes (g_steal_pointer (&text));
  return result;
}
