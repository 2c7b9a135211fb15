/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one place GnuTLS results become SSPI statuses.  The GnuTLS detail is
 * logged by the engine; the caller gets the Schannel code.
 */
#pragma once

#include <glib.h>
#include "sspi.h"

/* Status for a failed gnutls_handshake() / record call: @ret is the GnuTLS
 * error, @alert the alert received when @ret says one was. */
SECURITY_STATUS sspid_tls_status_from_gnutls (int ret, int alert);

/* Status for a failed certificate verification (gnutls_certificate_status_t
 * flags).  Untrusted beats expired beats wrong name, as Schannel reports the
 * most fundamental problem first. */
SECURITY_STATUS sspid_tls_status_from_verify (unsigned int verify_status);

/* "SEC_E_UNTRUSTED_ROOT" etc., for logs; "unknown status" otherwise. */
const char *sspid_status_to_string (SECURITY_STATUS status);
