/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One end of a handshake driven through libsspi's async API, a step per
 * queued call: the buffers a queued Initialize/AcceptSecurityContext
 * writes into (they must live until its callback), and the context handle
 * the end learns.  tests/test-faults.c and tests/soak-client.c chain two of
 * them from their notify callbacks, each step's output token the other
 * end's next input.  Plain libsspi and GLib: soak-client links no check.
 */
#pragma once

#include <glib.h>

#include "sspi.h"

typedef struct {
  SspiAsyncContext *ac;          /* the caller's; reinitialised before each step */
  CredHandle       *cred;
  gboolean          is_server;
  ULONG             req;         /* ISC_REQ_* or ASC_REQ_*, ALLOCATE_MEMORY among them */
  CtxtHandle        ctx;
  gboolean          has_ctx;
  CtxtHandle        new_ctx;
  GBytes           *input;       /* the token of the call in flight */
  SecBuffer         in_bufs[2];  /* the token, then EMPTY (SECBUFFER_EXTRA comes back here) */
  SecBufferDesc     in_desc;
  SecBuffer         out_buf;
  SecBufferDesc     out_desc;
  ULONG             attrs;
  TimeStamp         expiry;
} AsyncSide;

/* Queues @side's next step on its idle (reinitialised) async context with
 * @input, which it keeps until the callback (NULL: a client's first
 * step).  Returns what the Sspi*Async call returned; unless SEC_E_OK,
 * nothing was queued, no callback will come and @input was let go. */
SECURITY_STATUS async_side_issue (AsyncSide *side, GBytes *input);

/* In the step's callback: moves the output token into *@out (NULL if there
 * was none) and frees the library's buffer, and takes the context handle a
 * first step made.  Returns FALSE if FreeContextBuffer refused the buffer.
 * The step's input stays in side->input for the caller to inspect and drop. */
gboolean async_side_step_done (AsyncSide *side, GBytes **out);
