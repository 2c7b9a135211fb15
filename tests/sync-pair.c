/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A synchronous in-process client/server pair over libsspi (see
 * sync-pair.h).
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sync-pair.h"

static void
acquire (const char *principal, ULONG use, void *auth, CredHandle *cred)
{
  TimeStamp expiry;

  SecInvalidateHandle (cred);
  ck_assert_int_eq (AcquireCredentialsHandleA ((SEC_CHAR *) principal,
                                               (SEC_CHAR *) UNISP_NAME_A, use,
                                               NULL, auth, NULL, NULL, cred,
                                               &expiry),
                    SEC_E_OK);
  ck_assert (SecIsValidHandle (cred));
}

/* One handshake step on everything in @inbox.  What was not consumed stays
 * in @inbox; the output goes to @outbox. */
static SECURITY_STATUS
step (SyncPair *p, gboolean server, gboolean first, const char *target,
      GByteArray *inbox, GByteArray *outbox)
{
  SecBuffer in[2] = { { inbox->len, SECBUFFER_TOKEN, inbox->data },
                      { 0, SECBUFFER_EMPTY, NULL } };
  SecBufferDesc in_desc = { SECBUFFER_VERSION, 2, in };
  SecBuffer out = { 0, SECBUFFER_TOKEN, NULL };
  SecBufferDesc out_desc = { SECBUFFER_VERSION, 1, &out };
  CtxtHandle before = server ? p->sctx : p->cctx;
  ULONG attrs = 0;
  TimeStamp expiry;
  SECURITY_STATUS status;

  if (server)
    status = AcceptSecurityContext (&p->scred, first ? NULL : &p->sctx, &in_desc,
                                    SP_SERVER_REQ, SECURITY_NATIVE_DREP, &p->sctx,
                                    &out_desc, &attrs, &expiry);
  else
    status = InitializeSecurityContextA (&p->ccred, first ? NULL : &p->cctx,
                                         (SEC_CHAR *) target, SP_CLIENT_REQ, 0,
                                         SECURITY_NATIVE_DREP, first ? NULL : &in_desc,
                                         0, &p->cctx, &out_desc, &attrs, &expiry);
  ck_assert_msg (status == SEC_E_OK || status == SEC_I_CONTINUE_NEEDED
                 || status == SEC_E_INCOMPLETE_MESSAGE,
                 "%s step failed: 0x%08x", server ? "server" : "client",
                 (unsigned) status);
  if (!first)
    {
      CtxtHandle *now = server ? &p->sctx : &p->cctx;
      ck_assert (now->dwLower == before.dwLower && now->dwUpper == before.dwUpper);
    }
  if (out.cbBuffer > 0)
    {
      ck_assert (attrs & ISC_RET_ALLOCATED_MEMORY);
      g_byte_array_append (outbox, out.pvBuffer, out.cbBuffer);
    }
  ck_assert_int_eq (FreeContextBuffer (out.pvBuffer), SEC_E_OK);
  if (status == SEC_E_INCOMPLETE_MESSAGE)
    ck_assert_uint_eq (in[1].BufferType, SECBUFFER_MISSING);
  else if (in[1].BufferType == SECBUFFER_EXTRA)
    {
      ck_assert_uint_lt (in[1].cbBuffer, inbox->len);
      g_byte_array_remove_range (inbox, 0, inbox->len - in[1].cbBuffer);
    }
  else if (server || !first)   /* a client's first step reads nothing */
    g_byte_array_set_size (inbox, 0);
  if (status == SEC_E_OK)
    ck_assert (attrs & (server ? ASC_RET_CONFIDENTIALITY : ISC_RET_CONFIDENTIALITY));
  return status;
}

void
sync_pair_handshake (SyncPair *p, const SyncPairOptions *opts)
{
  SCHANNEL_CRED client_auth = { .dwVersion = SCHANNEL_CRED_VERSION };
  const char *target = opts->target != NULL ? opts->target : "localhost";
  gboolean c_done, s_done = FALSE;

  memset (p, 0, sizeof *p);
  p->to_client = g_byte_array_new ();
  p->to_server = g_byte_array_new ();
  SecInvalidateHandle (&p->cctx);
  SecInvalidateHandle (&p->sctx);
  client_auth.grbitEnabledProtocols = opts->client_protocols;
  client_auth.dwFlags = opts->client_flags;
  acquire (opts->client_credential, SECPKG_CRED_OUTBOUND,
           opts->client_auth != NULL ? opts->client_auth : &client_auth, &p->ccred);
  acquire (opts->server_credential != NULL ? opts->server_credential : "server",
           SECPKG_CRED_INBOUND, NULL, &p->scred);

  c_done = step (p, FALSE, TRUE, target, p->to_client, p->to_server) == SEC_E_OK;
  ck_assert (!c_done);
  for (int round = 0; round < 10 && !(c_done && s_done); round++)
    {
      if (!s_done && p->to_server->len > 0)
        s_done = step (p, TRUE, round == 0, target, p->to_server, p->to_client) == SEC_E_OK;
      if (!c_done && p->to_client->len > 0)
        c_done = step (p, FALSE, FALSE, target, p->to_client, p->to_server) == SEC_E_OK;
    }
  ck_assert_msg (c_done && s_done, "handshake did not finish");
}

void
sync_pair_clear (SyncPair *p)
{
  if (SecIsValidHandle (&p->cctx))
    DeleteSecurityContext (&p->cctx);
  if (SecIsValidHandle (&p->sctx))
    DeleteSecurityContext (&p->sctx);
  ck_assert_int_eq (FreeCredentialsHandle (&p->ccred), SEC_E_OK);
  ck_assert_int_eq (FreeCredentialsHandle (&p->scred), SEC_E_OK);
  g_clear_pointer (&p->to_client, g_byte_array_unref);
  g_clear_pointer (&p->to_server, g_byte_array_unref);
}

guint
sync_pair_read_tickets (SyncPair *p)
{
  g_autoptr(GByteArray) plain = g_byte_array_new ();
  guint n = 0;

  while (p->to_client->len > 0)
    {
      ck_assert_int_eq (sp_open (&p->cctx, p->to_client, plain), SEC_E_OK);
      n++;
    }
  ck_assert_uint_eq (plain->len, 0);
  return n;
}

guint32
sp_loop_protocol (int i)
{
  return i == 0 ? SP_PROT_TLS1_3_CLIENT : SP_PROT_TLS1_2_CLIENT;
}

SecPkgContext_StreamSizes
sp_stream_sizes (CtxtHandle *ctx)
{
  SecPkgContext_StreamSizes sizes;

  ck_assert_int_eq (QueryContextAttributesA (ctx, SECPKG_ATTR_STREAM_SIZES, &sizes),
                    SEC_E_OK);
  return sizes;
}

SECURITY_STATUS
sp_try_seal (CtxtHandle *ctx, const void *data, gsize len, GByteArray *wire)
{
  SecPkgContext_StreamSizes sizes = sp_stream_sizes (ctx);
  g_autofree guint8 *buf = g_malloc0 (sizes.cbHeader + len + sizes.cbTrailer);
  SecBuffer b[4] = {
    { sizes.cbHeader, SECBUFFER_STREAM_HEADER, buf },
    { (ULONG) len, SECBUFFER_DATA, buf + sizes.cbHeader },
    { sizes.cbTrailer, SECBUFFER_STREAM_TRAILER, buf + sizes.cbHeader + len },
    { 0, SECBUFFER_EMPTY, NULL },
  };
  SecBufferDesc desc = { SECBUFFER_VERSION, 4, b };
  SECURITY_STATUS status;

  if (len > 0)
    memcpy (buf + sizes.cbHeader, data, len);
  status = EncryptMessage (ctx, 0, &desc, 0);
  if (status != SEC_E_OK)
    return status;
  /* In place: the pointers stay, the sizes say what was written. */
  ck_assert_ptr_eq (b[0].pvBuffer, buf);
  ck_assert_ptr_eq (b[1].pvBuffer, buf + sizes.cbHeader);
  ck_assert_uint_eq (b[1].cbBuffer, len);
  ck_assert_uint_le (b[2].cbBuffer, sizes.cbTrailer);
  if (b[0].cbBuffer == 0)
    {
      /* Nothing to send (an empty record on TLS 1.2). */
      ck_assert_uint_eq (len, 0);
      ck_assert_uint_eq (b[2].cbBuffer, 0);
      return SEC_E_OK;
    }
  ck_assert_uint_eq (b[0].cbBuffer, sizes.cbHeader);
  ck_assert_uint_gt (b[2].cbBuffer, 0);
  /* A TLS record: its length field covers everything after the header. */
  ck_assert_uint_eq ((guint) (buf[3] << 8 | buf[4]),
                     b[0].cbBuffer - 5 + b[1].cbBuffer + b[2].cbBuffer);
  g_byte_array_append (wire, b[0].pvBuffer, b[0].cbBuffer);
  g_byte_array_append (wire, b[1].pvBuffer, b[1].cbBuffer);
  g_byte_array_append (wire, b[2].pvBuffer, b[2].cbBuffer);
  return SEC_E_OK;
}

void
sp_seal (CtxtHandle *ctx, const void *data, gsize len, GByteArray *wire)
{
  ck_assert_int_eq (sp_try_seal (ctx, data, len, wire), SEC_E_OK);
}

SECURITY_STATUS
sp_open (CtxtHandle *ctx, GByteArray *wire, GByteArray *plain)
{
  /* A copy of its own, one byte longer so that an empty wire still has an
   * address. */
  g_autofree guint8 *buf = g_malloc0 (wire->len + 1);
  gsize have = wire->len, record;
  SecBuffer b[4] = {
    { (ULONG) have, SECBUFFER_DATA, buf },
    { 0, SECBUFFER_EMPTY, NULL },
    { 0, SECBUFFER_EMPTY, NULL },
    { 0, SECBUFFER_EMPTY, NULL },
  };
  SecBufferDesc desc = { SECBUFFER_VERSION, 4, b };
  ULONG qop = 0x55;
  SECURITY_STATUS status;

  memcpy (buf, wire->data, have);
  status = DecryptMessage (ctx, &desc, 0, &qop);
  ck_assert_uint_eq (qop, 0);
  if (!SEC_SUCCESS (status))
    {
      /* Nothing changed but, as on Windows, the DATA buffer turned
       * into a MISSING count for a partial record. */
      ck_assert_uint_eq (b[0].BufferType, status == SEC_E_INCOMPLETE_MESSAGE
                                          ? SECBUFFER_MISSING : SECBUFFER_DATA);
      ck_assert_ptr_eq (b[0].pvBuffer, buf);
      if (status != SEC_E_INCOMPLETE_MESSAGE)
        ck_assert_uint_eq (b[0].cbBuffer, have);
      ck_assert_uint_eq (b[1].BufferType, SECBUFFER_EMPTY);
      ck_assert_mem_eq (buf, wire->data, have);
      return status;
    }
  /* [STREAM_HEADER, DATA, STREAM_TRAILER, EXTRA|EMPTY], all in @buf. */
  ck_assert_uint_eq (b[0].BufferType, SECBUFFER_STREAM_HEADER);
  ck_assert_ptr_eq (b[0].pvBuffer, buf);
  ck_assert_uint_eq (b[1].BufferType, SECBUFFER_DATA);
  ck_assert_ptr_eq (b[1].pvBuffer, buf + b[0].cbBuffer);
  ck_assert_uint_eq (b[2].BufferType, SECBUFFER_STREAM_TRAILER);
  ck_assert_ptr_eq (b[2].pvBuffer, buf + b[0].cbBuffer + b[1].cbBuffer);
  record = b[0].cbBuffer + b[1].cbBuffer + b[2].cbBuffer;
  ck_assert_uint_eq (record, 5 + (gsize) (wire->data[3] << 8 | wire->data[4]));
  if (record < have)
    {
      ck_assert_uint_eq (b[3].BufferType, SECBUFFER_EXTRA);
      ck_assert_ptr_eq (b[3].pvBuffer, buf + record);
      ck_assert_uint_eq (b[3].cbBuffer, have - record);
      ck_assert_mem_eq (b[3].pvBuffer, wire->data + record, have - record);
    }
  else
    ck_assert_uint_eq (b[3].BufferType, SECBUFFER_EMPTY);
  if (plain != NULL)
    g_byte_array_append (plain, b[1].pvBuffer, b[1].cbBuffer);
  g_byte_array_remove_range (wire, 0, (guint) record);
  return status;
}

SECURITY_STATUS
sp_control (CtxtHandle *ctx, DWORD token_type, DWORD alert_type, DWORD alert_number)
{
  SCHANNEL_ALERT_TOKEN alert = { token_type, alert_type, alert_number };
  SecBuffer b = { token_type == SCHANNEL_ALERT ? sizeof alert : sizeof (DWORD),
                  SECBUFFER_TOKEN, &alert };
  SecBufferDesc desc = { SECBUFFER_VERSION, 1, &b };

  return ApplyControlToken (ctx, &desc);
}

SECURITY_STATUS
sp_empty_step (SyncPair *p, gboolean server, GByteArray *wire)
{
  SecBuffer out = { 0, SECBUFFER_TOKEN, NULL };
  SecBufferDesc out_desc = { SECBUFFER_VERSION, 1, &out };
  ULONG attrs = 0;
  TimeStamp expiry;
  SECURITY_STATUS status;

  if (server)
    status = AcceptSecurityContext (&p->scred, &p->sctx, NULL, SP_SERVER_REQ,
                                    SECURITY_NATIVE_DREP, &p->sctx, &out_desc,
                                    &attrs, &expiry);
  else
    status = InitializeSecurityContextA (&p->ccred, &p->cctx, "localhost",
                                         SP_CLIENT_REQ, 0, SECURITY_NATIVE_DREP,
                                         NULL, 0, &p->cctx, &out_desc, &attrs,
                                         &expiry);
  if (out.cbBuffer > 0)
    g_byte_array_append (wire, out.pvBuffer, out.cbBuffer);
  FreeContextBuffer (out.pvBuffer);
  return status;
}

void
sync_pair_exchange_records (SyncPair *p)
{
  g_autofree guint8 *data = g_malloc (16384);
  g_autoptr(GByteArray) wire = g_byte_array_new ();
  g_autoptr(GByteArray) plain = g_byte_array_new ();

  for (gsize i = 0; i < 16384; i++)
    data[i] = (guint8) (i * 13 + 5);
  sp_seal (&p->cctx, data, 16384, wire);
  ck_assert_int_eq (sp_open (&p->sctx, wire, plain), SEC_E_OK);
  ck_assert_uint_eq (plain->len, 16384);
  ck_assert (memcmp (plain->data, data, 16384) == 0);
  g_byte_array_set_size (plain, 0);
  sp_seal (&p->sctx, data, 100, wire);
  ck_assert_int_eq (sp_open (&p->cctx, wire, plain), SEC_E_OK);
  ck_assert_uint_eq (plain->len, 100);
}

void
sync_pair_assert_serves_records (void)
{
  static const SyncPairOptions no_options = { 0 };
  SyncPair p = { 0 };

  sync_pair_handshake (&p, &no_options);
  sync_pair_read_tickets (&p);
  sync_pair_exchange_records (&p);
  sync_pair_clear (&p);
}
