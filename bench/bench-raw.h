/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's methods called directly over GDBus with the contract's
 * message shapes (proto/org.sspid1.xml), as ordinary method calls with a
 * reply.  For what libsspi cannot do (a thousand connections from one
 * process, S1) and to tell the library's cost from the daemon's.
 */
#pragma once

#include <gio/gio.h>

/* A step result (SSPID_STEP_RESULT_TYPE). */
typedef struct {
  guint32  status;
  guint64  handle;
  GBytes  *token;
  guint32  extra;
} BenchRawStep;

void bench_raw_step_clear (BenchRawStep *step);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (BenchRawStep, bench_raw_step_clear)

/* Reads a step result reply into @step. */
void bench_raw_step_parse (GVariant *reply, BenchRawStep *step);

/* AcquireCredentialsHandle(@principal, "Schannel", @use); dies unless it
 * succeeds.  Returns the credential handle. */
guint64 bench_raw_acquire (GDBusConnection *connection, const char *principal, guint32 use);

/* The parameters of one InitializeSecurityContext (@is_server FALSE,
 * target "localhost") or AcceptSecurityContext step (floating). */
GVariant *bench_raw_step_params (gboolean is_server, guint64 cred, guint64 ctx,
                                 const void *input, gsize len);
#define BENCH_RAW_METHOD(is_server) \
  ((is_server) ? "AcceptSecurityContext" : "InitializeSecurityContext")

/* One step, waited for; dies if the call itself fails. */
void bench_raw_step_sync (GDBusConnection *connection, gboolean is_server, guint64 cred,
                          guint64 ctx, const void *input, gsize len, BenchRawStep *step);

/* A whole handshake between two contexts of @connection, both in the
 * daemon, step by step; dies unless both end SEC_E_OK. */
void bench_raw_handshake_sync (GDBusConnection *connection, guint64 client_cred,
                               guint64 server_cred, guint64 *client_ctx,
                               guint64 *server_ctx);

/* DeleteSecurityContext(@ctx) with a reply: the cheapest call that goes
 * through the daemon's caller registry.  Returns the status. */
guint32 bench_raw_delete_sync (GDBusConnection *connection, guint64 ctx);
