/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Application data over an established Schannel context, the way a Windows
 * Schannel program moves it: EncryptMessage in place into
 * [STREAM_HEADER, DATA, STREAM_TRAILER, EMPTY] sized from STREAM_SIZES,
 * DecryptMessage in place on [DATA, EMPTY, EMPTY, EMPTY] with its
 * SEC_E_INCOMPLETE_MESSAGE, SECBUFFER_EXTRA, SEC_I_CONTEXT_EXPIRED and
 * SEC_I_RENEGOTIATE answers, and ApplyControlToken(SCHANNEL_SHUTDOWN) for
 * close_notify.  Used by `sspictl connect --get/--stdin` and `sspictl
 * serve --echo/--http`; the synchronous Windows API throughout, so the file
 * doubles as example code.
 */
#pragma once

#include "sspictl-tls.h"

typedef struct _SspictlStream SspictlStream;

/* A stream on @socket for the established @ctx, made from @cred with @opts
 * (role, target, read size), all borrowed and kept alive by the caller.
 * @leftover (may be NULL) holds the bytes that arrived behind the
 * handshake (sspictl_tls_handshake()'s @leftover); they are decrypted
 * before the socket is read.  Free with sspictl_stream_free(). */
SspictlStream *sspictl_stream_new (GSocket *socket, CredHandle *cred, CtxtHandle *ctx,
                                   const SspictlTlsOptions *opts, const GByteArray *leftover);
void sspictl_stream_free (SspictlStream *stream);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SspictlStream, sspictl_stream_free)

/* The counters and the end of the conversation so far, for the report;
 * the caller may set its http_line and body. */
SspictlTlsExchange *sspictl_stream_peek_exchange (SspictlStream *stream);

/* Encrypts @data (in records of at most cbMaximumMessage) and sends it.
 * FALSE, with a message printed, on failure. */
gboolean sspictl_stream_send (SspictlStream *stream, const void *data, gsize len);

typedef enum {
  SSPICTL_STREAM_DATA,     /* one record's plaintext (at least a byte) was appended */
  SSPICTL_STREAM_CLOSED,   /* the peer's close_notify (SEC_I_CONTEXT_EXPIRED) */
  SSPICTL_STREAM_EOF,      /* the TCP connection ended without close_notify */
  SSPICTL_STREAM_FAILED,   /* an error, printed */
  SSPICTL_STREAM_AGAIN,    /* sspictl_stream_receive_some(): no data yet */
} SspictlStreamResult;

/* Reads and decrypts until a record with data arrives, and appends its
 * plaintext to @plain.  Records without data (TLS 1.3 session tickets) and
 * post-handshake messages that need an answer (a KeyUpdate: answered with
 * the next ISC/ASC, as Schannel's SEC_I_RENEGOTIATE asks) are handled on
 * the way and only counted. */
SspictlStreamResult sspictl_stream_receive (SspictlStream *stream, GByteArray *plain);
/* The same for a caller that polls the socket (and something else): call
 * it when the socket is readable or sspictl_stream_has_pending(); it
 * returns SSPICTL_STREAM_AGAIN instead of waiting when what arrived so far
 * held no data. */
SspictlStreamResult sspictl_stream_receive_some (SspictlStream *stream, GByteArray *plain);
/* How a record loop ends, the same for every verb: call it with the
 * result that stopped the loop (anything but DATA and AGAIN).  The peer's
 * close_notify is answered with ours, unless ours went out already (best
 * effort: the peer may be gone); the end of the TCP stream without one is
 * a normal end too (the report says "end: eof"); a failure was printed.
 * Returns SSPICTL_EXIT_OK, or SSPICTL_EXIT_FAILED for a failure (or a
 * DATA or AGAIN passed by mistake). */
int sspictl_stream_end (SspictlStream *stream, SspictlStreamResult result);
/* Received bytes wait for decryption (the handshake's EXTRA, the next
 * record of an earlier read): the socket may not become readable for them. */
gboolean sspictl_stream_has_pending (SspictlStream *stream);

/* Sends close_notify: ApplyControlToken(SCHANNEL_SHUTDOWN), then
 * InitializeSecurityContext / AcceptSecurityContext, whose output is the
 * alert record.  Nothing can be sent afterwards; receiving still works
 * (the peer's last data and close_notify).  Send errors are not printed:
 * a peer that already closed is common here.  FALSE if it was not sent. */
gboolean sspictl_stream_shutdown (SspictlStream *stream);

/* Ends a connection that carried no data: close_notify, then whatever the
 * peer still sends is decrypted and dropped until it closes, for
 * @timeout_sec at most.  Decrypting matters: a TLS 1.3 server's session
 * tickets arrive after the handshake, and sspid stores them (for the next
 * connection to resume) only when DecryptMessage opens them. */
void sspictl_stream_close (SspictlStream *stream, guint timeout_sec);
