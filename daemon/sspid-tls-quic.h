/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QUIC mode of the TLS engine (ISC_REQ_MESSAGES / ASC_REQ_MESSAGES, as
 * Windows Schannel has it for msquic): a session whose steps take and
 * produce TLS 1.3 handshake messages instead of records, carry one TLS
 * extension of the caller's (the QUIC transport parameters) each way, and
 * hand the caller the traffic secrets of each epoch, since QUIC protects
 * its packets itself (RFC 9001).  Handing out secrets is the one exception
 * to "no session secret leaves the daemon", so only a credential whose
 * config says quic=allow may do it.
 */
#pragma once

#include "sspid-quic.h"
#include "sspid-tls.h"

/* Makes @tls, a session that has made no step yet, a QUIC-mode one with
 * the extension to send and the subscription of @args.  SEC_E_OK;
 * SEC_E_UNSUPPORTED_FUNCTION when the credential's policy does not allow
 * QUIC mode (logged); SEC_E_ALGORITHM_MISMATCH when the credential does
 * not enable TLS 1.3 in this direction.  Then @tls must be freed. */
SECURITY_STATUS sspid_tls_quic_enable (SspidTls *tls, const SspidQuicArgs *args);

/* A later step's arguments: a subscription made now (msquic subscribes
 * from its second call on).  Nothing on a stream session. */
void sspid_tls_quic_update (SspidTls *tls, const SspidQuicArgs *args);

/* Whether @tls is in QUIC mode. */
gboolean sspid_tls_is_quic (SspidTls *tls);
