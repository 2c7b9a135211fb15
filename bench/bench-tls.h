/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * In-process GnuTLS endpoints over memory (no sockets), for the clients the
 * handshake benchmarks drive against sspid and for the in-process
 * baselines sspid is compared with.  Both ends use what a careful
 * application would: credentials and the priority loaded once, the
 * server's certificate verified against the test CA for "localhost",
 * session tickets on.  TLS 1.3 (1.2 allowed, as sspid's default), ECDSA
 * P-256 certificate.
 */
#pragma once

#include <glib.h>
#include <gnutls/gnutls.h>

typedef struct {
  gnutls_session_t session;
  GByteArray      *in;      /* from the peer, not read yet (from in_pos) */
  gsize            in_pos;
  GByteArray      *out;     /* written for the peer */
} BenchTls;

/* Loads the credentials from the test PKI; once per process. */
void bench_tls_init (void);

/* A client, resuming @resume (may be NULL) if the server accepts it. */
BenchTls *bench_tls_new_client (const gnutls_datum_t *resume);
/* A server with the PKI's ECDSA certificate and session tickets. */
BenchTls *bench_tls_new_server (void);
void      bench_tls_free (BenchTls *t);

/* Appends bytes from the peer. */
void bench_tls_feed (BenchTls *t, const void *data, gsize len);
/* One handshake step on what was fed: 0 once done, GNUTLS_E_AGAIN while it
 * needs more, else an error.  What it wrote is in t->out (caller empties). */
int  bench_tls_handshake (BenchTls *t);
/* After the handshake: reads what was fed (a TLS 1.3 server's tickets, or
 * application data) and returns how many plaintext bytes it got. */
gsize bench_tls_read_all (BenchTls *t);
/* Client: the data to resume this session later (gnutls_free it). */
gboolean bench_tls_get_resume_data (BenchTls *t, gnutls_datum_t *data);

/* One handshake between an in-process client and server; @resume as for
 * bench_tls_new_client().  *@ticket (may be NULL) gets resumption data.
 * Returns whether it succeeded; *@resumed says if it was resumed.  Adds
 * the thread CPU time of the server's part (µs) to *@server_us (may be
 * NULL). */
gboolean bench_tls_pair_handshake (const gnutls_datum_t *resume, gnutls_datum_t *ticket,
                                   gboolean *resumed, guint64 *server_us);

/* An established pair over memory, for record benchmarks: a client and a
 * server that have done a full handshake, the client having read the
 * server's tickets.  Dies on failure. */
void bench_tls_pair_establish (BenchTls **client, BenchTls **server);

/* Thread CPU time of the caller, µs. */
guint64 bench_thread_cpu_us (void);

/* Runs in-process handshakes on @threads threads for @seconds; returns
 * handshakes per second, the handshakes done in *@count and the CPU of
 * their server parts in *@server_us. */
double bench_tls_baseline_rate (guint threads, double seconds, const gnutls_datum_t *resume,
                                guint *count, guint64 *server_us);
