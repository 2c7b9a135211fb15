/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The audit trail's records (see sspid-audit.h).  Peer-supplied text (the
 * subject, the server name) is escaped like every caller string in a log
 * line (sspid-log.h), so a record cannot be forged from the other end of a
 * TLS connection.
 */
#include "config.h"

#include <syslog.h>

#include "sspid-audit.h"
#include "sspid-log.h"

/* Room for a distinguished name or a DNS name in a record. */
#define AUDIT_TEXT_MAX 255

static char *
quoted (const char *text)
{
  g_autofree char *escaped = NULL;

  if (text == NULL || text[0] == '\0')
    return g_strdup ("-");
  escaped = sspid_log_escape_max (text, AUDIT_TEXT_MAX);
  return g_strdup_printf ("\"%s\"", escaped);
}

void
sspid_audit_handshake (SspidCaller *caller, guint64 handle, const char *credential,
                       gboolean is_server, guint32 status, const SspidTlsAudit *facts)
{
  const SspidIdentity *who = sspid_caller_peek_identity (caller);
  gboolean done = (status & 0x80000000u) == 0;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *time = g_date_time_format_iso8601 (now);
  g_autofree char *unit = quoted (sspid_caller_peek_unit (caller));
  g_autofree char *cred = quoted (credential);
  g_autofree char *peer = quoted (facts->peer_subject);
  g_autofree char *server_name = quoted (facts->server_name);
  g_autofree char *message = NULL;
  char uid[16], pid[16], status_text[16], handle_text[24], priority[4];
  GLogField fields[16];
  gsize n = 0;

  g_snprintf (uid, sizeof uid, "%u", who != NULL ? (guint) who->uid : G_MAXUINT);
  g_snprintf (pid, sizeof pid, "%d", who != NULL ? (int) who->pid : 0);
  g_snprintf (status_text, sizeof status_text, "0x%08x", status);
  g_snprintf (handle_text, sizeof handle_text, "0x%" G_GINT64_MODIFIER "x", handle);
  g_snprintf (priority, sizeof priority, "%d", done ? LOG_INFO : LOG_NOTICE);
  message = g_strdup_printf ("audit %s time=%s uid=%s pid=%s unit=%s credential=%s role=%s "
                             "peer=%s server-name=%s protocol=%s cipher=%s resumed=%s "
                             "status=%s ctx=%s",
                             done ? "handshake-done" : "handshake-failed", time, uid, pid, unit,
                             cred, is_server ? "server" : "client", peer, server_name,
                             facts->protocol != NULL ? facts->protocol : "-",
                             facts->cipher != NULL ? facts->cipher : "-",
                             facts->resumed ? "yes" : "no", status_text, handle_text);

#define FIELD(k, v) fields[n++] = (GLogField) { (k), (v), -1 }
  FIELD ("MESSAGE_ID", done ? SSPID_AUDIT_HANDSHAKE_DONE_ID : SSPID_AUDIT_HANDSHAKE_FAILED_ID);
  FIELD ("PRIORITY", priority);
  FIELD ("GLIB_DOMAIN", G_LOG_DOMAIN);
  FIELD ("MESSAGE", message);
  FIELD ("SSPID_UID", uid);
  FIELD ("SSPID_PID", pid);
  FIELD ("SSPID_UNIT", sspid_caller_peek_unit (caller));
  FIELD ("SSPID_HANDLE", handle_text);
  FIELD ("SSPID_CREDENTIAL", credential != NULL ? credential : "");
  FIELD ("SSPID_ROLE", is_server ? "server" : "client");
  FIELD ("SSPID_STATUS", status_text);
  FIELD ("SSPID_RESUMED", facts->resumed ? "1" : "0");
  if (facts->protocol != NULL)
    FIELD ("SSPID_PROTOCOL", facts->protocol);
  if (facts->cipher != NULL)
    FIELD ("SSPID_CIPHER", facts->cipher);
  if (facts->peer_subject != NULL)
    FIELD ("SSPID_PEER", facts->peer_subject);
  if (facts->server_name != NULL)
    FIELD ("SSPID_SERVER_NAME", facts->server_name);
#undef FIELD
  g_assert (n <= G_N_ELEMENTS (fields));
  /* MESSAGE level: an audit record is never dropped as debug output is. */
  g_log_structured_array (G_LOG_LEVEL_MESSAGE, fields, n);
}
