/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One end of a handshake driven through libsspi's async API (see
 * async-side.h).
 */
#include "config.h"

#include "async-side.h"

SECURITY_STATUS
async_side_issue (AsyncSide *side, GBytes *input)
{
  CtxtHandle *ctx = side->has_ctx ? &side->ctx : NULL;
  SECURITY_STATUS status;
  gsize len = 0;

  side->input = input != NULL ? g_bytes_ref (input) : NULL;
  side->in_bufs[0] = (SecBuffer) { 0, SECBUFFER_TOKEN, NULL };
  if (input != NULL)
    side->in_bufs[0].pvBuffer = (void *) g_bytes_get_data (input, &len);
  side->in_bufs[0].cbBuffer = (ULONG) len;
  side->in_bufs[1] = (SecBuffer) { 0, SECBUFFER_EMPTY, NULL };
  side->in_desc = (SecBufferDesc) { SECBUFFER_VERSION, 2, side->in_bufs };
  side->out_buf = (SecBuffer) { 0, SECBUFFER_TOKEN, NULL };
  side->out_desc = (SecBufferDesc) { SECBUFFER_VERSION, 1, &side->out_buf };
  SecInvalidateHandle (&side->new_ctx);

  if (side->is_server)
    status = SspiAcceptSecurityContextAsync (side->ac, side->cred, ctx, &side->in_desc,
                                             side->req, SECURITY_NATIVE_DREP, &side->new_ctx,
                                             &side->out_desc, &side->attrs, &side->expiry);
  else
    status = SspiInitializeSecurityContextAsyncA (side->ac, side->cred, ctx,
                                                  (SEC_CHAR *) "localhost", side->req, 0,
                                                  SECURITY_NATIVE_DREP,
                                                  input != NULL ? &side->in_desc : NULL, 0,
                                                  &side->new_ctx, &side->out_desc,
                                                  &side->attrs, &side->expiry);
  if (status != SEC_E_OK)
    g_clear_pointer (&side->input, g_bytes_unref);
  return status;
}

gboolean
async_side_step_done (AsyncSide *side, GBytes **out)
{
  gboolean freed = TRUE;

  *out = NULL;
  if (side->out_buf.pvBuffer != NULL)
    {
      *out = g_bytes_new (side->out_buf.pvBuffer, side->out_buf.cbBuffer);
      freed = FreeContextBuffer (side->out_buf.pvBuffer) == SEC_E_OK;
      side->out_buf.pvBuffer = NULL;
    }
  if (!side->has_ctx && SecIsValidHandle (&side->new_ctx))
    {
      side->ctx = side->new_ctx;
      side->has_ctx = TRUE;
    }
  return freed;
}
