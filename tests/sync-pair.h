/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An in-process TLS client and server driven through libsspi's synchronous
 * API, the way a Windows Schannel program drives one connection: each side
 * passes everything it has received to InitializeSecurityContext /
 * AcceptSecurityContext, keeps what SECBUFFER_EXTRA says was not consumed,
 * and appends its output to the peer's inbox.  After the handshake the
 * inboxes keep whatever arrived behind it (a TLS 1.3 server's
 * NewSessionTicket records), for DecryptMessage.
 *
 * Also helpers for records: seal (EncryptMessage into a contiguous record)
 * and open (one DecryptMessage on the front of an inbox).  They assert
 * Windows' buffer conventions as they go, so every test that moves a record
 * checks them.
 */
#pragma once

#include <glib.h>
#include <sspi.h>
#include <schannel.h>

typedef struct {
  const char *server_credential;   /* NULL: "server" */
  const char *client_credential;   /* NULL: anonymous */
  guint32     client_protocols;    /* SCHANNEL_CRED grbitEnabledProtocols */
  guint32     client_flags;        /* SCHANNEL_CRED dwFlags */
  void       *client_auth;         /* non-NULL: pAuthData instead of those */
  const char *target;              /* NULL: "localhost" */
} SyncPairOptions;

typedef struct {
  CredHandle  ccred, scred;
  CtxtHandle  cctx, sctx;
  GByteArray *to_client;           /* sent by the server, not read yet */
  GByteArray *to_server;
} SyncPair;

/* Acquires both credentials and runs a full handshake, asserting that both
 * sides end with SEC_E_OK.  Release with sync_pair_clear(). */
void sync_pair_handshake (SyncPair *p, const SyncPairOptions *opts);
/* Deletes the contexts (if still valid) and frees the credentials. */
void sync_pair_clear (SyncPair *p);
/* Reads every record waiting in p->to_client (TLS 1.3 session tickets),
 * asserting each gives SEC_E_OK and no data.  Returns how many. */
guint sync_pair_read_tickets (SyncPair *p);

/* The client protocol for iteration @i of a test looping over 0..2
 * (tcase_add_loop_test): TLS 1.3 for 0, TLS 1.2 for 1. */
guint32 sp_loop_protocol (int i);

/* Records through libsspi: 16 KiB from client to server, 100 bytes back;
 * asserts every byte. */
void sync_pair_exchange_records (SyncPair *p);
/* A new pair's handshake, its tickets and a record exchange: the daemon
 * still serves handshakes and records (after a test's hostile caller). */
void sync_pair_assert_serves_records (void);

/* The context's STREAM_SIZES (asserted to succeed). */
SecPkgContext_StreamSizes sp_stream_sizes (CtxtHandle *ctx);
/* EncryptMessage of @len bytes as [STREAM_HEADER, DATA, STREAM_TRAILER,
 * EMPTY] in one contiguous buffer sized from STREAM_SIZES; asserts SEC_E_OK
 * and appends the record (header, data, trailer) to @wire. */
void sp_seal (CtxtHandle *ctx, const void *data, gsize len, GByteArray *wire);
/* EncryptMessage's status; on SEC_E_OK the record is checked and appended. */
SECURITY_STATUS sp_try_seal (CtxtHandle *ctx, const void *data, gsize len, GByteArray *wire);
/* One DecryptMessage on the front of @wire; on success appends the
 * plaintext to @plain (may be NULL) and removes the record from @wire.
 * Asserts the shape of the buffers for every successful status. */
SECURITY_STATUS sp_open (CtxtHandle *ctx, GByteArray *wire, GByteArray *plain);
/* ApplyControlToken with a DWORD @token_type (SCHANNEL_SHUTDOWN) or an
 * alert; returns its status. */
SECURITY_STATUS sp_control (CtxtHandle *ctx, DWORD token_type, DWORD alert_type,
                            DWORD alert_number);
/* One synchronous ISC (client) or ASC (server) step with no input on an
 * established context; returns its status and appends its token to @wire. */
SECURITY_STATUS sp_empty_step (SyncPair *p, gboolean server, GByteArray *wire);

#define SP_CLIENT_REQ (ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | \
                       ISC_REQ_CONFIDENTIALITY | ISC_REQ_STREAM | \
                       ISC_REQ_ALLOCATE_MEMORY)
#define SP_SERVER_REQ (ASC_REQ_SEQUENCE_DETECT | ASC_REQ_REPLAY_DETECT | \
                       ASC_REQ_CONFIDENTIALITY | ASC_REQ_STREAM | \
                       ASC_REQ_ALLOCATE_MEMORY)
