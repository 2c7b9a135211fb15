/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a caller's request says: its arguments decoded and checked, before
 * anything looks at the caller, its handles or its limits.
 *
 * Every byte of a request is hostile.  Bus calls reach us only after GDBus
 * has checked the body against proto/org.sspid1.xml; record-channel packets
 * (proto/sspid-channel.h) only after sspid_request_parse_channel().  From
 * there both take the same path: sspid_request_decode() unpacks the
 * parameters and refuses what no state could make valid (an unknown
 * package, auth_data of the wrong type, input over max-token-size).
 *
 * Nothing here needs a bus, a registry or a session, so the fuzzers
 * (fuzz/fuzz-dbus-request.c, fuzz/fuzz-channel.c) drive exactly this code.
 */
#pragma once

#include <glib.h>

#include "sspi.h"
#include "sspid-channel.h"
#include "sspid-method.h"
#include "sspid-quic.h"

/* The most a request may carry besides its input (whose limit is the
 * config's max-token-size), so that no call can make the daemon hold more
 * than a fixed amount per context or credential (sspid.conf(5), LIMITS).
 * Over any of them a call is answered SEC_E_INVALID_PARAMETER. */
#define SSPID_MAX_TARGET_NAME   255     /* bytes: a DNS name's limit */
#define SSPID_MAX_PRINCIPAL     255     /* bytes: a [credential NAME]'s name */
#define SSPID_MAX_ALPN_NAME     255     /* bytes per protocol name, as TLS allows */
#define SSPID_MAX_ALPN_LIST     65535   /* bytes, each name with its length byte:
                                         * a TLS ProtocolNameList */
#define SSPID_MAX_AUTH_DATA     16      /* auth_data entries (libsspi sends 2) */
#define SSPID_MAX_STEP_OPTIONS  8       /* ISC/ASC options entries (libsspi sends 1) */

/* A request's arguments (the call id of an asynchronous method, its first
 * argument, is read when the call arrives).  Strings are borrowed from the parameters the
 * request was decoded from, which must outlive it. */
typedef struct {
  guint64      cred_handle;   /* ISC/ASC (first call), FreeCredentialsHandle,
                               * QueryCredential */
  guint64      ctx_handle;    /* the context the call names; 0: a first ISC/ASC */
  const char  *principal;     /* AcquireCredentialsHandle */
  const char  *package;
  guint32      use;
  guint32      protocols;     /* auth_data "enabled-protocols" (0 if absent) */
  guint32      flags;         /* auth_data "flags" (0 if absent) */
  const char  *target_name;   /* InitializeSecurityContext */
  guint32      context_req;   /* ISC/ASC */
  GVariant    *input;         /* "ay", owned: token, plaintext or records */
  const char **alpn;          /* owned, strings too (g_strfreev) */
  SspidQuicArgs quic;         /* ISC/ASC: QUIC mode's options, owned */
  guint32      dtls_mtu;      /* ISC/ASC option "dtls-mtu", 0 if absent */
  guint32      token_type;    /* ApplyControlToken */
  guint32      alert_type;
  guint32      alert_number;
  const char  *refused;       /* why decoding refused it, for the log; static */
} SspidRequest;

/* Decodes @params, which must already be of the in-type of the method of
 * @kind, into @request (cleared first; clear it with sspid_request_clear()
 * whatever this returns).  @max_token_size: the config's, 0 for none.
 *
 * Returns SEC_E_OK, or what the method answers for arguments no caller
 * state could make valid: SEC_E_SECPKG_NOT_FOUND (package), or
 * SEC_E_INVALID_PARAMETER (credential use, auth_data types, a string or
 * array over its SSPID_MAX_*, plaintext over @max_token_size), or
 * SEC_E_INVALID_TOKEN (a handshake token or records over @max_token_size). */
SECURITY_STATUS sspid_request_decode (SspidCallKind kind, GVariant *params,
                                      guint max_token_size, SspidRequest *request);
void sspid_request_clear (SspidRequest *request);

/* ApplyControlToken's token: SEC_E_OK for SCHANNEL_SHUTDOWN or a
 * well-formed SCHANNEL_ALERT, else SEC_E_UNSUPPORTED_FUNCTION (another
 * token type) or SEC_E_INVALID_PARAMETER (a bad alert type or number).
 * Checked when the call runs, after its handle: as on Windows, a bad
 * handle is reported first. */
SECURITY_STATUS sspid_request_check_control_token (const SspidRequest *request);

typedef enum {
  SSPID_CHANNEL_PACKET_OK,
  SSPID_CHANNEL_PACKET_SHORT,        /* shorter than a header: close the channel */
  SSPID_CHANNEL_PACKET_BAD_HEADER,   /* unknown op, flags set: close the channel */
  SSPID_CHANNEL_PACKET_BAD_BODY,     /* answer SEC_E_INVALID_TOKEN */
} SspidChannelPacket;

/* Parses a record-channel request packet.  On BAD_BODY and OK, @header and
 * @kind (SSPID_CALL_ENCRYPT or _DECRYPT) are set; on OK also @params (a
 * new ref, sharing @packet's memory), of the method's in-type. */
SspidChannelPacket sspid_request_parse_channel (GBytes *packet, SspidChannelHeader *header,
                                                SspidCallKind *kind, GVariant **params);
