/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sspid in QUIC mode as the TLS of an ngtcp2 connection (see
 * quic-ngtcp2-sspi.c): what tests/quic-ngtcp2.c gives ngtcp2 in place of
 * ngtcp2_crypto_gnutls's client_initial and recv_crypto_data callbacks.
 */
#pragma once

#include "quic-ngtcp2.h"

/* Acquires the end's credential: its context starts with the first call. */
void qn_sspi_start (QnEnd *end);
int  qn_sspi_client_initial (ngtcp2_conn *conn, void *user_data);
int  qn_sspi_recv_crypto_data (ngtcp2_conn *conn, ngtcp2_crypto_level level, uint64_t offset,
                               const uint8_t *data, size_t len, void *user_data);
