/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Handshakes through libsspi's asynchronous API, many in flight.
 *
 * Each slot runs one handshake at a time between a client and a server
 * over memory.  The server side is always libsspi
 * (SspiAcceptSecurityContextAsync chains); the client is either an
 * in-process GnuTLS session (H1) or libsspi too
 * (SspiInitializeSecurityContextAsyncA chains, H2).  Every step is issued
 * from the notify callback of the step before it, as a real async server
 * would, so the library's thread runs the whole state machine (and, in H1,
 * the GnuTLS clients).
 */
#pragma once

#include <glib.h>
#include <gnutls/gnutls.h>
#include <sspi.h>

typedef struct {
  gboolean              is_client_sspi;  /* H2: the client through libsspi too */
  guint                 in_flight;       /* slots */
  double                seconds;         /* start no handshake after this ... */
  guint                 max_handshakes;  /* ... or after this many (0: no cap) */
  const gnutls_datum_t *resume;          /* GnuTLS clients resume this session */
  gboolean              is_keeping_contexts; /* M1: no delete; handles collected */
  gboolean              wants_ticket;    /* resumption data from a handshake */
} BenchHsOptions;

typedef struct {
  guint          done;            /* handshakes completed */
  guint          resumed;         /* of which the GnuTLS client saw resumed */
  double         seconds;         /* from the first start to the last finish */
  guint64        client_tls_us;   /* thread CPU in the GnuTLS clients' steps (H1) */
  GArray        *server_contexts; /* CtxtHandle, with is_keeping_contexts */
  GArray        *client_contexts; /* the same, of libsspi clients (H2) */
  gnutls_datum_t ticket;          /* with wants_ticket (gnutls_free it) */
} BenchHsResult;

/* Acquires the credentials (once per process): the "server" credential
 * (inbound) and an anonymous outbound one that trusts the test CA. */
void bench_hs_init (void);
/* Runs handshakes as @opts says; dies on any failure. */
void bench_hs_run (const BenchHsOptions *opts, BenchHsResult *result);
void bench_hs_result_clear (BenchHsResult *result);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (BenchHsResult, bench_hs_result_clear)
/* One handshake through libsspi at both ends (H2) whose contexts are kept
 * for records: *@client and *@server (delete both with
 * DeleteSecurityContext), and the client's STREAM_SIZES in *@sizes.  Dies
 * on any failure. */
void bench_hs_pair (CtxtHandle *client, CtxtHandle *server, SecPkgContext_StreamSizes *sizes);
/* The server credential, for benchmarks that need one. */
CredHandle *bench_hs_peek_server_credential (void);
