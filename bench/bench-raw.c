/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's methods over raw GDBus (see bench-raw.h).
 */
#include "config.h"

#include "bench-raw.h"

#include <sspi.h>
#include <schannel.h>

#include "bench-util.h"
#include "sspid-args.h"
#include "sspid-proto.h"
#include "sspid-results.h"

#define CALL_TIMEOUT_MS 60000
#define CLIENT_REQ (ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | \
                    ISC_REQ_CONFIDENTIALITY | ISC_REQ_STREAM)
#define SERVER_REQ (ASC_REQ_SEQUENCE_DETECT | ASC_REQ_REPLAY_DETECT | \
                    ASC_REQ_CONFIDENTIALITY | ASC_REQ_STREAM)

static guint64 next_call_id;

void
bench_raw_step_clear (BenchRawStep *step)
{
  g_clear_pointer (&step->token, g_bytes_unref);
}

void
bench_raw_step_parse (GVariant *reply, BenchRawStep *step)
{
  g_auto(SspidStepResult) result = { 0 };

  sspid_step_result_decode (reply, 0, &result);
  step->status = (guint32) result.status;
  step->handle = result.handle;
  step->extra = result.extra;
  step->token = g_variant_get_data_as_bytes (result.token);
}

static GVariant *
call_sync (GDBusConnection *connection, const char *method, GVariant *params,
           const char *reply_type)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply;

  reply = g_dbus_connection_call_sync (connection, SSPID_BUS_NAME, SSPID_OBJECT_PATH,
                                       SSPID_INTERFACE, method, params,
                                       G_VARIANT_TYPE (reply_type), G_DBUS_CALL_FLAGS_NONE,
                                       CALL_TIMEOUT_MS, NULL, &error);
  if (reply == NULL)
    bench_die ("%s: %s", method, error->message);
  return reply;
}

guint64
bench_raw_acquire (GDBusConnection *connection, const char *principal, guint32 use)
{
  g_autoptr(GVariant) reply = NULL;
  g_auto(BenchRawStep) step = { 0 };

  reply = call_sync (connection, "AcquireCredentialsHandle",
                     sspid_acquire_args_encode (&(SspidAcquireArgs) {
                       ++next_call_id, principal, SCHANNEL_NAME_A, use, NULL }),
                     SSPID_STEP_RESULT_TYPE);
  bench_raw_step_parse (reply, &step);
  if (step.status != SEC_E_OK)
    bench_die ("AcquireCredentialsHandle(\"%s\"): 0x%08x", principal, step.status);
  return step.handle;
}

GVariant *
bench_raw_step_params (gboolean is_server, guint64 cred, guint64 ctx, const void *input,
                       gsize len)
{
  GVariant *bytes = g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, input, len, 1);

  if (is_server)
    return sspid_step_args_encode (SSPID_CALL_ACCEPT, &(SspidStepArgs) {
      ++next_call_id, cred, ctx, NULL, SERVER_REQ, bytes, NULL });
  return sspid_step_args_encode (SSPID_CALL_INITIALIZE, &(SspidStepArgs) {
    ++next_call_id, cred, ctx, "localhost", CLIENT_REQ, bytes, NULL });
}

void
bench_raw_step_sync (GDBusConnection *connection, gboolean is_server, guint64 cred,
                     guint64 ctx, const void *input, gsize len, BenchRawStep *step)
{
  g_autoptr(GVariant) reply = NULL;

  reply = call_sync (connection, BENCH_RAW_METHOD (is_server),
                     bench_raw_step_params (is_server, cred, ctx, input, len),
                     SSPID_STEP_RESULT_TYPE);
  bench_raw_step_parse (reply, step);
}

void
bench_raw_handshake_sync (GDBusConnection *connection, guint64 client_cred,
                          guint64 server_cred, guint64 *client_ctx, guint64 *server_ctx)
{
  g_autoptr(GBytes) token = g_bytes_new (NULL, 0);
  gboolean done[2] = { FALSE, FALSE };
  guint64 ctx[2] = { 0, 0 };
  guint64 cred[2] = { client_cred, server_cred };

  /* Client first; then each side answers the other until both are done. */
  for (int i = 0; i < 8 && !(done[0] && done[1]); i++)
    {
      int side = i % 2;
      g_auto(BenchRawStep) step = { 0 };

      if (done[side])
        continue;
      bench_raw_step_sync (connection, side == 1, cred[side], ctx[side],
                           g_bytes_get_data (token, NULL), g_bytes_get_size (token), &step);
      if (step.status != SEC_E_OK && step.status != SEC_I_CONTINUE_NEEDED)
        bench_die ("%s step: 0x%08x", side ? "server" : "client", step.status);
      ctx[side] = step.handle;
      done[side] = step.status == SEC_E_OK;
      g_bytes_unref (token);
      token = g_steal_pointer (&step.token);
    }
  if (!done[0] || !done[1])
    bench_die ("raw handshake did not finish");
  *client_ctx = ctx[0];
  *server_ctx = ctx[1];
}

guint32
bench_raw_delete_sync (GDBusConnection *connection, guint64 ctx)
{
  g_autoptr(GVariant) reply = NULL;
  g_auto(BenchRawStep) step = { 0 };

  reply = call_sync (connection, "DeleteSecurityContext",
                     sspid_release_args_encode (&(SspidReleaseArgs) { ++next_call_id, ctx }),
                     SSPID_STEP_RESULT_TYPE);
  bench_raw_step_parse (reply, &step);
  return step.status;
}
