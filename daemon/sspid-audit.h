/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The audit trail: one record per use of a credential, a handshake that
 * completed or failed, with who (uid, pid, systemd unit), which credential
 * in which role, the peer and what was negotiated.  Under systemd each
 * record is a journal entry with a stable MESSAGE_ID and SSPID_* fields
 * (sspid(8) lists them); elsewhere it is one line on standard error.  The
 * message text carries every field as key=value, so `sspictl audit` reads
 * records back the same way from the journal and from a log file.
 */
#pragma once

#include <glib.h>

#include "sspid-caller.h"
#include "sspid-tls.h"

/* journalctl MESSAGE_ID=... finds them (sspid(8)). */
#define SSPID_AUDIT_HANDSHAKE_DONE_ID   "9f2d5612475a423aa8581422b2f948ec"
#define SSPID_AUDIT_HANDSHAKE_FAILED_ID "a06016c0fa0847f8bb1e86c13bab1645"

/* Logs the record of @caller's handshake on context @handle with
 * @credential as a server or client: completed when @status is not an
 * error, failed otherwise.  @facts: what the engine says of the session. */
void sspid_audit_handshake (SspidCaller *caller, guint64 handle, const char *credential,
                            gboolean is_server, guint32 status, const SspidTlsAudit *facts);
