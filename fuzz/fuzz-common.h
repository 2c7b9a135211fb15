/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the fuzz targets share: credentials from the test PKI
 * ($SSPID_TEST_PKI, made by tests/pki/gen-pki.sh), quiet logging with
 * criticals fatal, a checked way to walk untrusted bytes through the
 * engine (a whole input, or one step), a QUIC-mode session, and a
 * client/server pair driven to the end of a handshake.
 *
 * Each target defines LLVMFuzzerInitialize() and LLVMFuzzerTestOneInput().
 * Built with clang -fsanitize=fuzzer by tools/fuzz; built with the normal
 * compiler and fuzz-main.c by `make check`, which replays the committed
 * corpus (fuzz/corpus/<target>/) so a fixed crash stays fixed.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "sspi.h"
#include "schannel.h"
#include "sspid-credential.h"
#include "sspid-request.h"
#include "sspid-tls.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* A broken promise of the code under test: says where and aborts, which
 * libFuzzer and the replay both report as a crash. */
#define FUZZ_CHECK(cond) \
  do { if (G_UNLIKELY (!(cond))) fuzz_fail (__FILE__, __LINE__, #cond); } while (0)
G_NORETURN void fuzz_fail (const char *file, int line, const char *what);

/* Drops the daemon's log output (fuzzing makes a lot of it) but keeps
 * g_critical() and g_error() fatal: reaching one from input is a bug.
 * Call first thing in LLVMFuzzerInitialize(). */
void fuzz_init_logging (void);

/* A newly allocated path to @file of the test PKI; aborts with a hint when
 * $SSPID_TEST_PKI is not set. */
char *fuzz_pki_path (const char *file);

/* The credential store, made once from the test PKI: "server" (inbound,
 * client-auth=request), "mtls" (inbound, client-auth=require), "rsa"
 * (inbound, RSA key) and "client" (outbound), all usable by us.  Borrowed. */
SspidCredentialStore *fuzz_store (void);

/* A new reference to credential @name (NULL: anonymous outbound); aborts if
 * it cannot be acquired, since then the target would fuzz nothing. */
SspidCredential *fuzz_acquire (const char *name, guint32 use, guint32 protocols);

/* Our identity, as the caller registry would know it. */
const SspidIdentity *fuzz_identity (void);

/* Feeds @data to @tls as its peer's bytes, token after token: every step
 * gets what the one before left as EXTRA, and once the handshake is done
 * the rest goes through the record layer.  Checks the engine's accounting
 * (EXTRA, MISSING, sticky failure) on the way. */
void fuzz_walk (SspidTls *tls, const guint8 *data, gsize size);

/* One handshake step of @tls on @data, then the rest of its flight while
 * it says SEC_I_MESSAGE_FRAGMENT (DTLS), checking what every step must
 * give: a token (maybe empty), EXTRA within the input, the peer's
 * extension with SEC_I_GENERIC_EXTENSION_RECEIVED.  Returns the last
 * status; sets *@used (may be NULL) to the bytes the first step took and
 * *@missing (may be NULL) to its MISSING count. */
SECURITY_STATUS fuzz_step (SspidTls *tls, const guint8 *data, gsize size,
                           gsize *used, guint32 *missing);

/* A new QUIC-mode session (sspid_tls_quic_enable) on @cred, as msquic
 * makes one: bare handshake messages, ALPN "h3", and both ends sending and
 * subscribing to the QUIC transport parameters extension (0x39).  Aborts
 * if it cannot be made.  Free with sspid_tls_free(). */
SspidTls *fuzz_quic_session (SspidCredential *cred, gboolean is_server);

/* Opens records from @data with sspid_tls_decrypt() until an error, an
 * incomplete record or the end, checking the byte accounting.  Returns the
 * bytes consumed. */
gsize fuzz_decrypt_all (SspidTls *tls, const guint8 *data, gsize size);

/* A client and a server session that finished their handshake through the
 * engine (client credential @client_cred may be NULL; @protocols as for
 * AcquireCredentialsHandle).  Any bytes the server sent after its last
 * flight (TLS 1.3 tickets) are appended to @to_client.  FALSE if the
 * handshake failed. */
gboolean fuzz_pair (const char *client_cred, const char *server_cred, guint32 protocols,
                    SspidTls **client, SspidTls **server, GByteArray *to_client);

/* One side's view of a conversation, for fuzz_converse(). */
typedef struct {
  SspidTls       *tls;
  GByteArray     *inbox;    /* received, not yet consumed */
  GByteArray     *sent;     /* everything it sent, in order (may be NULL) */
  SECURITY_STATUS status;
  guint           steps;
} FuzzSide;

/* Runs the handshake of @client and @server to its end; TRUE if both are
 * established. */
gboolean fuzz_converse (FuzzSide *client, FuzzSide *server);

/* What EncryptMessage (@kind SSPID_CALL_ENCRYPT) or DecryptMessage does
 * with a decoded request's bytes, on an established client session made
 * at the first such request of the input. */
void fuzz_record_request (SspidCallKind kind, const SspidRequest *request);

/* Drops what the input made (fuzz_record_request()'s session), so that an
 * input replays alike.  Call at the end of LLVMFuzzerTestOneInput(). */
void fuzz_input_done (void);
