/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One end of a DTLS association driven through libsspi's synchronous API
 * the way a Windows Schannel DTLS program drives it: a datagram in per
 * InitializeSecurityContext / AcceptSecurityContext call, a datagram out
 * per output token, SEC_I_MESSAGE_FRAGMENT answered by calling again with
 * no input, EncryptMessage / DecryptMessage one datagram each.  Shared by
 * the DTLS tests (test-dtls.c: two ends in one process; test-interop-dtls.c:
 * one end on a UDP socket against openssl and GnuTLS).
 */
#pragma once

#include <glib.h>
#include <sspi.h>
#include <schannel.h>

typedef struct {
  gboolean   is_server;
  CredHandle cred;
  CtxtHandle ctx;
  gboolean   has_ctx;     /* ctx was handed out */
  guint      mtu;         /* 0: do not pass SECBUFFER_DTLS_MTU */
  guint32    attributes;  /* of the last step */
} DtlsEnd;

#define DTLS_CLIENT_REQ (ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | \
                         ISC_REQ_CONFIDENTIALITY | ISC_REQ_DATAGRAM | \
                         ISC_REQ_ALLOCATE_MEMORY)
#define DTLS_SERVER_REQ (ASC_REQ_SEQUENCE_DETECT | ASC_REQ_REPLAY_DETECT | \
                         ASC_REQ_CONFIDENTIALITY | ASC_REQ_DATAGRAM | \
                         ASC_REQ_ALLOCATE_MEMORY)

/* Acquires the credential: a client (anonymous, verifying against the
 * daemon's default trust) or a server on credential @name, with
 * SCHANNEL_CRED grbitEnabledProtocols DTLS 1.2 of that direction.
 * Asserts SEC_E_OK. */
void dtls_end_init (DtlsEnd *end, gboolean is_server, const char *name);
/* Deletes the context if there is one and frees the credential. */
void dtls_end_clear (DtlsEnd *end);

/* One handshake step on datagram @in (NULL: none, as after a timeout),
 * then as many steps with no input as SEC_I_MESSAGE_FRAGMENT asks for.
 * Every datagram to send is appended to @out (GBytes *).  Returns the last
 * status. */
SECURITY_STATUS dtls_end_step (DtlsEnd *end, GBytes *in, GPtrArray *out);

/* EncryptMessage of @len bytes: asserts SEC_E_OK, returns the datagram. */
GBytes *dtls_end_seal (DtlsEnd *end, const void *data, gsize len);
/* DecryptMessage of each record of datagram @in (following SECBUFFER_EXTRA);
 * on SEC_E_OK *@plain (may be NULL) gets the plaintext.  Returns
 * SEC_I_RENEGOTIATE if a record said so, else the last record's status. */
SECURITY_STATUS dtls_end_open (DtlsEnd *end, GBytes *in, GBytes **plain);
