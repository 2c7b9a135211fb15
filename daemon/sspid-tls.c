/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The TLS engine: a GnuTLS session behind Schannel's token interface.
 *
 * GnuTLS reads from and writes to memory through custom transport
 * functions.  The subtle part is input: Schannel lets a caller hand over
 * any prefix of the byte stream and tells it how many bytes were left
 * unused (SECBUFFER_EXTRA) or are still missing (SECBUFFER_MISSING).  GnuTLS
 * would happily swallow half a record into its own buffer, after which we
 * could no longer say "nothing consumed, come back with more".  So the
 * engine frames records itself and only ever lets GnuTLS read whole
 * records; GnuTLS reads exactly a header and then exactly its body, so
 * whatever it did not read is the caller's EXTRA.
 */
#include "config.h"

#include "sspid-tls.h"

#include <errno.h>
#include <string.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "schannel.h"
#include "sspid-tls-errors.h"
#include "sspid-log.h"
#include "sspid-tls-private.h"

static ssize_t
transport_pull (gnutls_transport_ptr_t ptr, void *buf, size_t len)
{
  SspidTls *tls = ptr;
  gsize avail = tls->in_limit - tls->in_pos;

  if (avail == 0)
    {
      gnutls_transport_set_errno (tls->session, EAGAIN);
      return -1;
    }
  len = MIN (len, avail);
  memcpy (buf, tls->in + tls->in_pos, len);
  tls->in_pos += len;
  return (ssize_t) len;
}

static int
transport_pull_timeout (gnutls_transport_ptr_t ptr, unsigned int ms)
{
  SspidTls *tls = ptr;

  if (tls->in_limit > tls->in_pos)
    return 1;
  gnutls_transport_set_errno (tls->session, EAGAIN);
  return -1;
}

static ssize_t
transport_push (gnutls_transport_ptr_t ptr, const void *buf, size_t len)
{
  SspidTls *tls = ptr;

  g_byte_array_append (tls->out, buf, (guint) len);
  return (ssize_t) len;
}

/* Verifies the peer's chain (and, for a client, the name) the moment the
 * certificate arrives, so a bad server is refused before the client sends
 * anything more.  With manual validation the result is only recorded: the
 * caller checks the remote certificate itself (ISC_REQ_MANUAL_CRED_VALIDATION). */
static int
verify_peer (gnutls_session_t session)
{
  SspidTls *tls = gnutls_session_get_ptr (session);
  unsigned int status = 0;
  int ret;

  if (tls->is_server && gnutls_certificate_get_peers (session, NULL) == NULL)
    return 0;   /* client sent none; GnuTLS enforces "require" itself */

  ret = gnutls_certificate_verify_peers3 (session, tls->target_name, &status);
  if (ret < 0)
    {
      g_debug ("certificate verification failed to run: %s", gnutls_strerror (ret));
      tls->verify_failure = SEC_E_CERT_UNKNOWN;
      return tls->manual_validation ? 0 : GNUTLS_E_CERTIFICATE_ERROR;
    }
  if (status != 0)
    {
      gnutls_datum_t text = { NULL, 0 };

      tls->verify_failure = sspid_tls_status_from_verify (status);
      if (gnutls_certificate_verification_status_print (status, GNUTLS_CRT_X509, &text, 0) >= 0)
        {
          /* The target name is the caller's text: escaped (sspid-log.h). */
          g_autofree char *name = tls->target_name ? sspid_log_escape (tls->target_name) : NULL;

          g_debug ("peer certificate (%s): %s%s", name ? name : "no name check",
                   (const char *) text.data, tls->manual_validation ? " (manual validation: caller decides)" : "");
          gnutls_free (text.data);
        }
      return tls->manual_validation ? 0 : GNUTLS_E_CERTIFICATE_ERROR;
    }
  return 0;
}

/* A TLS 1.3 peer's KeyUpdate with update_requested: GnuTLS would answer
 * it in front of the next record we encrypt, which would make that
 * EncryptMessage two records.  Note it, so the record layer answers at
 * once instead (see sspid_tls_decrypt). */
static int
on_key_update (gnutls_session_t session, unsigned int htype, unsigned int when,
               unsigned int incoming, const gnutls_datum_t *msg)
{
  SspidTls *tls = gnutls_session_get_ptr (session);

  if (incoming && msg != NULL && msg->size >= 1 && msg->data[0] == 1)
    tls->key_update_requested = TRUE;
  return 0;
}

/* The ALPN ids of ISC's or ASC's SECBUFFER_APPLICATION_PROTOCOLS.  A
 * server that has a list refuses a client whose list shares none of its
 * ids: RFC 7301 section 3.2 has it answer no_application_protocol, as
 * GnuTLS does with GNUTLS_ALPN_MANDATORY (gnutls-serv --alpn-fatal), and
 * Microsoft documents SEC_E_APPLICATION_PROTOCOL_MISMATCH for ASC ("no
 * common application protocol exists between the client and the
 * server"); the alert comes back in ASC's output with
 * ASC_REQ_EXTENDED_ERROR, like every failed handshake's.  A client that
 * offers no ALPN at all is served without it, as before.  A client's
 * list only says what it offers: what the server picks is the caller's
 * to check (SECPKG_ATTR_APPLICATION_PROTOCOL), as on Windows. */
static SECURITY_STATUS
set_alpn (SspidTls *tls, const char *const *alpn)
{
  gnutls_datum_t protocols[16];
  guint n = 0;
  int ret;

  if (alpn == NULL || alpn[0] == NULL)
    return SEC_E_OK;
  for (; alpn[n] != NULL; n++)
    {
      gsize len = strlen (alpn[n]);
      if (n == G_N_ELEMENTS (protocols) || len == 0 || len > 255)
        return SEC_E_INVALID_PARAMETER;
      protocols[n].data = (unsigned char *) alpn[n];
      protocols[n].size = (unsigned int) len;
    }
  ret = gnutls_alpn_set_protocols (tls->session, protocols, n,
                                   tls->is_server ? GNUTLS_ALPN_SERVER_PRECEDENCE |
                                                    GNUTLS_ALPN_MANDATORY : 0);
  return ret < 0 ? SEC_E_INVALID_PARAMETER : SEC_E_OK;
}

static gboolean
is_ip_address (const char *name)
{
  return g_hostname_is_ip_address (name);
}

static SECURITY_STATUS
session_new (SspidCredential *cred, gboolean is_server, guint32 context_req,
             const char *const *alpn, SspidTls **out)
{
  g_autoptr (SspidTls) tls = g_new0 (SspidTls, 1);
  gboolean is_datagram = (context_req & (is_server ? ASC_REQ_DATAGRAM : ISC_REQ_DATAGRAM)) != 0;
  unsigned int flags = GNUTLS_NONBLOCK | (is_server ? GNUTLS_SERVER : GNUTLS_CLIENT) |
                       (is_datagram ? GNUTLS_DATAGRAM : 0);
  const char *err_pos = NULL;
  const char *priority_text;
  gnutls_priority_t priority;
  SECURITY_STATUS status;
  int ret;

  /* Tickets only where resumption is on: a server without a ticket key
   * (reconnects disabled) must not promise one. */
  if (sspid_credential_get_flags (cred) & SCH_CRED_DISABLE_RECONNECTS ||
      (is_server && sspid_credential_peek_ticket_key (cred) == NULL))
    flags |= GNUTLS_NO_TICKETS;

  tls->cred = sspid_credential_ref (cred);
  tls->is_server = is_server;
  tls->is_datagram = is_datagram;
  tls->context_req = context_req;
  tls->out = g_byte_array_new ();
  tls->verify_failure = SEC_E_OK;

  ret = gnutls_init (&tls->session, flags);
  if (ret < 0)
    {
      g_warning ("gnutls_init: %s", gnutls_strerror (ret));
      return SEC_E_INTERNAL_ERROR;
    }
  gnutls_session_set_ptr (tls->session, tls);
  gnutls_transport_set_ptr (tls->session, tls);
  gnutls_transport_set_pull_function (tls->session, transport_pull);
  gnutls_transport_set_pull_timeout_function (tls->session, transport_pull_timeout);
  gnutls_transport_set_push_function (tls->session, transport_push);
  /* The daemon reaps stalled handshakes itself; GnuTLS must never wait. */
  gnutls_handshake_set_timeout (tls->session, 0);
  if (is_datagram)
    sspid_tls_dtls_setup (tls);

  priority_text = is_datagram ? sspid_credential_peek_dtls_priority (cred, is_server)
                              : sspid_credential_peek_priority (cred, is_server);
  if (priority_text == NULL)
    return SEC_E_ALGORITHM_MISMATCH;   /* no version enabled this way */
  priority = sspid_tls_lookup_priority (priority_text, &err_pos, &ret);
  if (priority == NULL)
    {
      g_warning ("priority '%s' rejected at '%s': %s", priority_text,
                 err_pos ? err_pos : "?", gnutls_strerror (ret));
      return SEC_E_ALGORITHM_MISMATCH;
    }
  ret = gnutls_priority_set (tls->session, priority);
  if (ret < 0)
    return SEC_E_INTERNAL_ERROR;
  ret = gnutls_credentials_set (tls->session, GNUTLS_CRD_CERTIFICATE,
                                sspid_credential_peek_gnutls (cred));
  if (ret < 0)
    return SEC_E_INTERNAL_ERROR;
  gnutls_session_set_verify_function (tls->session, verify_peer);
  gnutls_handshake_set_hook_function (tls->session, GNUTLS_HANDSHAKE_KEY_UPDATE,
                                      GNUTLS_HOOK_POST, on_key_update);

  status = set_alpn (tls, alpn);
  if (status != SEC_E_OK)
    return status;

  *out = g_steal_pointer (&tls);
  return SEC_E_OK;
}

SECURITY_STATUS
sspid_tls_new_client (SspidCredential *cred, const char *target_name,
                      guint32 context_req, const char *const *alpn,
                      SspidTls **out)
{
  g_autoptr (SspidTls) tls = NULL;
  guint32 cred_flags = sspid_credential_get_flags (cred);
  SECURITY_STATUS status;

  *out = NULL;
  if ((sspid_credential_get_use (cred) & SECPKG_CRED_OUTBOUND) == 0)
    return SEC_E_NO_CREDENTIALS;
  status = session_new (cred, FALSE, context_req, alpn, &tls);
  if (status != SEC_E_OK)
    return status;

  if (target_name != NULL && target_name[0] != '\0')
    {
      /* RFC 6066: SNI carries host names only, never address literals. */
      if (!is_ip_address (target_name))
        gnutls_server_name_set (tls->session, GNUTLS_NAME_DNS, target_name, strlen (target_name));
      if ((cred_flags & SCH_CRED_NO_SERVERNAME_CHECK) == 0)
        tls->target_name = g_strdup (target_name);
    }
  tls->manual_validation = (context_req & ISC_REQ_MANUAL_CRED_VALIDATION) != 0 ||
                           (cred_flags & SCH_CRED_MANUAL_CRED_VALIDATION) != 0;

  /* Resume the last session with this target if this user has one. */
  tls->cache_target = g_strdup (target_name != NULL ? target_name : "");
  {
    g_autoptr (GBytes) saved = sspid_credential_take_session (cred, tls->cache_target);
    if (saved != NULL)
      {
        gnutls_datum_t d = { (unsigned char *) g_bytes_get_data (saved, NULL),
                             (unsigned int) g_bytes_get_size (saved) };
        if (gnutls_session_set_data (tls->session, d.data, d.size) < 0)
          {
            g_autofree char *key = sspid_log_escape (tls->cache_target);

            g_debug ("cached session for '%s' not usable", key);
          }
      }
  }

  *out = g_steal_pointer (&tls);
  return SEC_E_OK;
}

/* GnuTLS's session database for a server: TLS 1.2 clients that resume by
 * session ID.  GnuTLS stores only sessions it issued no ticket for (a
 * ticket-capable client resumes with its ticket, and the daemon keeps
 * nothing of it); what it stores holds the master secret, kept per
 * credential in the daemon until resumed away, evicted or expired, and
 * wiped then. */
static int
db_store (void *ptr, gnutls_datum_t key, gnutls_datum_t data)
{
  SspidTls *tls = ptr;

  sspid_credential_store_server_session (tls->cred, key.data, key.size, data.data, data.size);
  return 0;
}

static gnutls_datum_t
db_retrieve (void *ptr, gnutls_datum_t key)
{
  SspidTls *tls = ptr;
  g_autoptr (GBytes) found = sspid_credential_lookup_server_session (tls->cred, key.data,
                                                                     key.size);
  gnutls_datum_t out = { NULL, 0 };
  gsize len;
  const guint8 *bytes;

  if (found == NULL)
    return out;
  bytes = g_bytes_get_data (found, &len);
  out.data = gnutls_malloc (len);   /* GnuTLS frees (and wipes) it */
  if (out.data == NULL)
    return out;
  memcpy (out.data, bytes, len);
  out.size = (unsigned int) len;
  return out;
}

static int
db_remove (void *ptr, gnutls_datum_t key)
{
  SspidTls *tls = ptr;

  sspid_credential_forget_server_session (tls->cred, key.data, key.size);
  return 0;
}

SECURITY_STATUS
sspid_tls_new_server (SspidCredential *cred, guint32 context_req,
                      const char *const *alpn, SspidTls **out)
{
  g_autoptr (SspidTls) tls = NULL;
  SspidClientAuth auth = sspid_credential_get_client_auth (cred);
  SECURITY_STATUS status;

  *out = NULL;
  if ((sspid_credential_get_use (cred) & SECPKG_CRED_INBOUND) == 0 ||
      !sspid_credential_has_certificate (cred))
    return SEC_E_NO_CREDENTIALS;
  status = session_new (cred, TRUE, context_req, alpn, &tls);
  if (status != SEC_E_OK)
    return status;

  if (auth == SSPID_CLIENT_AUTH_REQUIRE)
    gnutls_certificate_server_set_request (tls->session, GNUTLS_CERT_REQUIRE);
  else if (auth == SSPID_CLIENT_AUTH_REQUEST || (context_req & ASC_REQ_MUTUAL_AUTH))
    gnutls_certificate_server_set_request (tls->session, GNUTLS_CERT_REQUEST);
  tls->manual_validation = (sspid_credential_get_flags (cred) & SCH_CRED_MANUAL_CRED_VALIDATION) != 0;
  if (sspid_credential_peek_ticket_key (cred) != NULL &&
      gnutls_session_ticket_enable_server (tls->session, sspid_credential_peek_ticket_key (cred)) < 0)
    g_debug ("session tickets unavailable");
  if ((sspid_credential_get_flags (cred) & SCH_CRED_DISABLE_RECONNECTS) == 0)
    {
      gnutls_db_set_ptr (tls->session, tls);
      gnutls_db_set_store_function (tls->session, db_store);
      gnutls_db_set_retrieve_function (tls->session, db_retrieve);
      gnutls_db_set_remove_function (tls->session, db_remove);
    }

  *out = g_steal_pointer (&tls);
  return SEC_E_OK;
}

/* gnutls_deinit() wipes the TLS 1.3 key schedule but frees the session
 * with its TLS 1.2 master secret as it was (GnuTLS 3.7): wipe that first,
 * where GnuTLS shows it to us. */
static void
session_wipe_deinit (gnutls_session_t session)
{
  gnutls_datum_t master = { NULL, 0 };

  gnutls_session_get_master_secret (session, &master);
  if (master.data != NULL)
    gnutls_memset (master.data, 0, master.size);
  gnutls_deinit (session);
}

void
sspid_tls_free (SspidTls *tls)
{
  if (tls == NULL)
    return;
  if (tls->session != NULL)
    session_wipe_deinit (tls->session);
  g_clear_pointer (&tls->cred, sspid_credential_unref);
  g_clear_pointer (&tls->out, g_byte_array_unref);
  g_clear_pointer (&tls->held_token, g_bytes_unref);
  g_clear_pointer (&tls->held_input, g_bytes_unref);
  g_clear_pointer (&tls->quic, sspid_tls_quic_free);
  g_clear_pointer (&tls->datagram_ends, g_array_unref);
  g_queue_clear_full (&tls->fragments, (GDestroyNotify) g_bytes_unref);
  g_free (tls->target_name);
  g_free (tls->cache_target);
  g_free (tls);
}

/* How much of @input is whole records.  Sets *@missing when not even one
 * record is whole.  Returns 0, or for bytes that cannot be TLS the error
 * GnuTLS's own record layer gives them (gnutls-serv answers these headers
 * with exactly those alerts), so that the alert the peer is owed is the
 * one GnuTLS would send: unexpected_message for an unknown content type
 * (SSLv2 hellos included), protocol_version for a major version other than
 * 3, record_overflow for a body longer than any TLS record. */
int
sspid_tls_frame_records (const guint8 *input, gsize len, gsize *whole, guint32 *missing)
{
  gsize pos = 0;

  *whole = 0;
  *missing = 0;
  while (len - pos >= 1)
    {
      const guint8 *h = input + pos;
      gsize have = len - pos;
      gsize body;

      /* change_cipher_spec .. heartbeat */
      if (h[0] < 20 || h[0] > 24)
        return GNUTLS_E_UNEXPECTED_PACKET;
      if (have >= 2 && h[1] != 3)
        return GNUTLS_E_UNSUPPORTED_VERSION_PACKET;
      if (have < RECORD_HEADER_SIZE)
        {
          *missing = (guint32) (RECORD_HEADER_SIZE - have);
          break;
        }
      body = ((gsize) h[3] << 8) | h[4];
      if (body > RECORD_MAX_BODY)
        return GNUTLS_E_RECORD_OVERFLOW;
      if (have < RECORD_HEADER_SIZE + body)
        {
          *missing = (guint32) (RECORD_HEADER_SIZE + body - have);
          break;
        }
      pos += RECORD_HEADER_SIZE + body;
    }
  *whole = pos;
  if (pos == 0 && *missing == 0)
    *missing = RECORD_HEADER_SIZE;   /* nothing arrived at all */
  return 0;
}

static guint32
established_attributes (SspidTls *tls)
{
  guint32 attrs;

  if (tls->is_server)
    {
      attrs = ASC_RET_REPLAY_DETECT | ASC_RET_SEQUENCE_DETECT | ASC_RET_CONFIDENTIALITY |
              (tls->is_datagram ? ASC_RET_DATAGRAM : ASC_RET_STREAM);
      if (gnutls_certificate_get_peers (tls->session, NULL) != NULL)
        attrs |= ASC_RET_MUTUAL_AUTH;
    }
  else
    {
      attrs = ISC_RET_REPLAY_DETECT | ISC_RET_SEQUENCE_DETECT | ISC_RET_CONFIDENTIALITY |
              (tls->is_datagram ? ISC_RET_DATAGRAM : ISC_RET_STREAM);
      /* Asked for in this context, not implied by the credential's
       * SCH_CRED_MANUAL_CRED_VALIDATION: Windows reports only requests. */
      if (tls->context_req & ISC_REQ_MANUAL_CRED_VALIDATION)
        attrs |= ISC_RET_MANUAL_CRED_VALIDATION;
      if (tls->context_req & ISC_REQ_USE_SUPPLIED_CREDS)
        attrs |= ISC_RET_USED_SUPPLIED_CREDS;
      if (tls->context_req & ISC_REQ_MUTUAL_AUTH)
        attrs |= ISC_RET_MUTUAL_AUTH;
    }
  return attrs;
}

/* The expiry a caller sees: the peer certificate's, else our own.  Parsed
 * once: it cannot change after the handshake, and every later step and
 * query asks for it. */
static gint64
peer_expiry (SspidTls *tls)
{
  const gnutls_datum_t *certs;
  unsigned int n = 0;
  gnutls_x509_crt_t crt = NULL;
  gint64 expiry = 0;

  if (tls->expiry_known)
    return tls->expiry;
  certs = gnutls_certificate_get_peers (tls->session, &n);
  if (certs == NULL || n == 0)
    expiry = sspid_credential_get_expiry (tls->cred);
  else if (gnutls_x509_crt_init (&crt) >= 0 &&
           gnutls_x509_crt_import (crt, &certs[0], GNUTLS_X509_FMT_DER) >= 0)
    expiry = (gint64) gnutls_x509_crt_get_expiration_time (crt);
  if (crt != NULL)
    gnutls_x509_crt_deinit (crt);
  if (tls->state == STATE_ESTABLISHED)
    {
      tls->expiry = expiry;
      tls->expiry_known = TRUE;
    }
  return expiry;
}

static gboolean
wants_extended_error (SspidTls *tls)
{
  return tls->is_server ? (tls->context_req & ASC_REQ_EXTENDED_ERROR) != 0
                        : (tls->context_req & ISC_REQ_EXTENDED_ERROR) != 0;
}

/* A failed handshake step: @status for the caller, @ret the GnuTLS error
 * (or the framing's) behind it.  As Schannel does, the alert that tells
 * the peer why comes back in the output token, with the error status, when
 * the caller asked for extended errors (ISC_REQ_EXTENDED_ERROR /
 * ASC_REQ_EXTENDED_ERROR: "when errors occur, the remote party will be
 * notified"); otherwise the output is empty. */
static void
fail (SspidTls *tls, SspidTlsStep *step, SECURITY_STATUS status, int ret)
{
  tls->state = STATE_FAILED;
  tls->failure = status;
  step->status = status;
  g_debug ("%s handshake failed: %s (%s)", tls->is_server ? "server" : "client",
           sspid_status_to_string (status), ret < 0 ? gnutls_strerror (ret) : "no detail");
  if (wants_extended_error (tls))
    {
      sspid_tls_write_alert_for (tls, ret);
      step->token = sspid_tls_take_output (tls);
    }
  else
    g_byte_array_set_size (tls->out, 0);
}

/* The step after SEC_I_INCOMPLETE_CREDENTIALS: the caller chose to go on
 * without a certificate.  Hand over what was held back, skipping the input
 * bytes that were already consumed if the caller passed them again. */
static void
release_held (SspidTls *tls, const guint8 *input, gsize input_len, SspidTlsStep *step)
{
  gsize held_len = g_bytes_get_size (tls->held_input);
  gsize skip = 0;

  if (input_len >= held_len && memcmp (input, g_bytes_get_data (tls->held_input, NULL), held_len) == 0)
    skip = held_len;
  step->status = tls->held_status;
  if (tls->is_datagram)
    {
      g_clear_pointer (&tls->held_token, g_bytes_unref);
      sspid_tls_dtls_take_flight (tls, step);
    }
  else
    step->token = g_steal_pointer (&tls->held_token);
  step->extra = (guint32) (input_len - skip);
  g_clear_pointer (&tls->held_input, g_bytes_unref);
}

/* A step on an established session: send the alert ApplyControlToken asked
 * for (close_notify for SCHANNEL_SHUTDOWN), or hand over what the record
 * layer had to answer (a TLS 1.3 KeyUpdate reply after SEC_I_RENEGOTIATE). */
static void
established_step (SspidTls *tls, SspidTlsStep *step)
{
  step->status = SEC_E_OK;
  if (tls->broken)
    {
      /* DecryptMessage met a fatal error and wrote the alert the peer is
       * owed: this step hands it over, once, and says the connection is
       * shut down (the caller sends the output and deletes the context).
       * A close_notify asked for since is dropped: nothing may follow a
       * fatal alert. */
      tls->alert_pending = FALSE;
      step->status = SEC_I_CONTEXT_EXPIRED;
    }
  else if (tls->alert_pending)
    {
      int ret;

      tls->alert_pending = FALSE;
      if (tls->alert_level == GNUTLS_AL_WARNING && tls->alert_description == GNUTLS_A_CLOSE_NOTIFY)
        ret = gnutls_bye (tls->session, GNUTLS_SHUT_WR);
      else
        ret = gnutls_alert_send (tls->session, tls->alert_level, tls->alert_description);
      if (ret < 0 && ret != GNUTLS_E_AGAIN)
        g_debug ("sending alert %d: %s", tls->alert_description, gnutls_strerror (ret));
      if (tls->alert_description == GNUTLS_A_CLOSE_NOTIFY || tls->alert_level == GNUTLS_AL_FATAL)
        tls->closed = TRUE;
    }
  if (tls->is_datagram)
    sspid_tls_dtls_take_flight (tls, step);
  else
    step->token = sspid_tls_take_output (tls);
}

/* A step in the middle of a handshake that a control token ended, as
 * Windows answers it (Wine's schannel test): each SCHANNEL_SHUTDOWN or
 * SCHANNEL_ALERT gives its alert record (in the clear: there are no keys
 * yet), a step with no input in between SEC_E_INCOMPLETE_MESSAGE; what the
 * peer sends afterwards is not read. */
static void
abandoned_handshake_step (SspidTls *tls, gsize input_len, SspidTlsStep *step)
{
  int ret;

  if (tls->alert_pending)
    {
      tls->alert_pending = FALSE;
      ret = gnutls_alert_send (tls->session, tls->alert_level, tls->alert_description);
      if (ret < 0 && ret != GNUTLS_E_AGAIN)
        g_debug ("sending alert %d: %s", tls->alert_description, gnutls_strerror (ret));
      tls->closed = TRUE;
      step->status = SEC_E_OK;
      step->token = sspid_tls_take_output (tls);
    }
  else if (input_len == 0)
    {
      step->status = SEC_E_INCOMPLETE_MESSAGE;
      step->missing = RECORD_HEADER_SIZE;
    }
  else
    step->status = SEC_E_CONTEXT_EXPIRED;
}

/* gnutls_handshake() on the whole records of this step's input.  In
 * non-blocking mode GnuTLS returns GNUTLS_E_AGAIN after each record that
 * holds only part of a handshake message (a ClientHello of 16 KiB spans
 * two records at least), although more records are there to read.
 * Schannel consumes every record it can in one call, and each step costs
 * the caller a round trip to the daemon, so go on while GnuTLS reads. */
static int
run_handshake (SspidTls *tls)
{
  for (;;)
    {
      gsize before = tls->in_pos;
      int ret = gnutls_handshake (tls->session);

      if (ret == GNUTLS_E_WARNING_ALERT_RECEIVED || ret == GNUTLS_E_INTERRUPTED)
        continue;
      if (ret == GNUTLS_E_AGAIN && tls->in_pos < tls->in_limit && tls->in_pos > before)
        continue;
      return ret;
    }
}

void
sspid_tls_step (SspidTls *tls, const guint8 *input, gsize input_len,
                SspidTlsStep *step)
{
  gsize whole = 0;
  guint32 missing = 0;
  gboolean is_first_reneg_step;
  int ret, alert;

  memset (step, 0, sizeof *step);
  if (input == NULL)
    input_len = 0;
  if (tls->quic != NULL)
    {
      sspid_tls_quic_step (tls, input, input_len, step);
      return;
    }

  if (sspid_tls_dtls_next_fragment (tls, input_len, step))
    {
      if (tls->state == STATE_ESTABLISHED && step->status == SEC_E_OK)
        {
          step->attributes = established_attributes (tls);
          step->expiry = peer_expiry (tls);
        }
      goto out;
    }

  switch (tls->state)
    {
    case STATE_FAILED:
      step->status = tls->failure;
      goto out;
    case STATE_ESTABLISHED:
      /* A TLS 1.2 renegotiation runs like the handshake, below. */
      if (tls->held_token == NULL && !tls->alert_pending && !tls->broken &&
          sspid_tls_is_renegotiating (tls))
        break;
      if (tls->held_token != NULL)
        release_held (tls, input, input_len, step);
      else
        {
          established_step (tls, step);
          /* Records that followed a post-handshake message (the caller
           * passes its EXTRA after SEC_I_RENEGOTIATE) belong to the record
           * layer: hand them back untouched. */
          step->extra = (guint32) input_len;
        }
      step->attributes = established_attributes (tls);
      step->expiry = peer_expiry (tls);
      goto out;
    case STATE_HANDSHAKE:
      if (tls->alert_pending || tls->closed)
        {
          abandoned_handshake_step (tls, input_len, step);
          goto out;
        }
      break;
    }

  if (tls->held_token != NULL)
    {
      release_held (tls, input, input_len, step);
      goto out;
    }

  /* A client's first step has no input: it writes the ClientHello.  Nor
   * need a renegotiation's first step: DecryptMessage consumed the peer's
   * request, and the answer (a ClientHello, a ServerHello) is due now. */
  is_first_reneg_step = sspid_tls_reneg_start_step (tls);
  if (tls->is_datagram)
    {
      /* A token is one datagram, whole or lost: no framing to do. */
      if (!sspid_tls_dtls_begin_step (tls, input, input_len, step))
        goto out;
      whole = input_len;
    }
  else if (tls->started || tls->is_server)
    {
      ret = sspid_tls_frame_records (input, input_len, &whole, &missing);
      if (ret < 0)
        {
          fail (tls, step, SEC_E_INVALID_TOKEN, ret);
          goto out;
        }
      if (whole == 0 && !is_first_reneg_step)
        {
          step->status = SEC_E_INCOMPLETE_MESSAGE;
          step->missing = missing;
          goto out;
        }
      whole = sspid_tls_reneg_handshake_bytes (tls, input, whole);
    }

  tls->in = input;
  tls->in_limit = whole;
  tls->in_pos = 0;
  tls->started = TRUE;
  ret = run_handshake (tls);
  alert = gnutls_alert_get (tls->session);
  step->extra = (guint32) (input_len - tls->in_pos);
  tls->in = NULL;
  tls->in_limit = tls->in_pos = 0;

  if (ret == 0)
    {
      tls->state = STATE_ESTABLISHED;
      sspid_tls_renegotiation_done (tls);
      sspid_tls_remember_session (tls);
      step->status = SEC_E_OK;
      step->attributes = established_attributes (tls);
      step->expiry = peer_expiry (tls);
    }
  else if (ret == GNUTLS_E_AGAIN)
    {
      step->status = SEC_I_CONTINUE_NEEDED;
    }
  else
    {
      SECURITY_STATUS status;

      if (tls->verify_failure != SEC_E_OK && !tls->manual_validation)
        status = tls->verify_failure;
      else
        status = sspid_tls_status_from_gnutls (ret, alert);
      fail (tls, step, status, ret);
      step->extra = 0;
      goto out;
    }
  tls->retransmit_due = FALSE;
  if (!tls->is_datagram)
    step->token = sspid_tls_take_output (tls);

  /* The server asked for a certificate we do not have: say so once, and
   * hold back what GnuTLS wrote (an empty Certificate) until the caller
   * decides to continue anonymously. */
  if (!tls->is_server && !tls->incomplete_creds_reported &&
      !sspid_credential_has_certificate (tls->cred) &&
      gnutls_certificate_client_get_request_status (tls->session))
    {
      tls->incomplete_creds_reported = TRUE;
      tls->held_status = step->status;
      /* A datagram flight stays in the output, cut into datagrams when
       * it is handed over. */
      tls->held_token = tls->is_datagram ? g_bytes_new (NULL, 0) : g_steal_pointer (&step->token);
      tls->held_input = g_bytes_new (input, input_len - step->extra);
      step->status = SEC_I_INCOMPLETE_CREDENTIALS;
      step->extra = 0;
      step->attributes = 0;
      goto out;
    }
  if (tls->is_datagram)
    sspid_tls_dtls_take_flight (tls, step);

out:
  if (step->token == NULL)
    step->token = g_bytes_new (NULL, 0);
}

/* A client keeps what it needs to resume: after a TLS 1.2 handshake, or
 * once a TLS 1.3 server has sent a ticket (after the handshake, so this is
 * also called when the record layer consumes one). */
void
sspid_tls_remember_session (SspidTls *tls)
{
  gnutls_datum_t data = { NULL, 0 };

  if (tls->is_server || tls->state != STATE_ESTABLISHED)
    return;
  if (gnutls_protocol_get_version (tls->session) == GNUTLS_TLS1_3 &&
      !(gnutls_session_get_flags (tls->session) & GNUTLS_SFLAGS_SESSION_TICKET))
    return;
  if (gnutls_session_get_data2 (tls->session, &data) < 0 || data.size == 0)
    return;
  sspid_credential_store_session (tls->cred, tls->cache_target, &data);
  gnutls_memset (data.data, 0, data.size);
  gnutls_free (data.data);
}

gboolean
sspid_tls_is_established (SspidTls *tls)
{
  return tls->state == STATE_ESTABLISHED;
}

const char *
sspid_tls_get_state_name (SspidTls *tls)
{
  if (tls->closed)
    return "closed";
  switch (tls->state)
    {
    case STATE_HANDSHAKE:   return "handshake";
    case STATE_ESTABLISHED: return "established";
    case STATE_FAILED:      return "failed";
    default:                return "unknown";
    }
}

const char *
sspid_tls_get_role_name (SspidTls *tls)
{
  return tls->is_server ? "server" : "client";
}

static guint32
protocol_bit (gnutls_protocol_t version, gboolean is_server)
{
  switch (version)
    {
    case GNUTLS_TLS1_0: return is_server ? SP_PROT_TLS1_0_SERVER : SP_PROT_TLS1_0_CLIENT;
    case GNUTLS_TLS1_1: return is_server ? SP_PROT_TLS1_1_SERVER : SP_PROT_TLS1_1_CLIENT;
    case GNUTLS_TLS1_2: return is_server ? SP_PROT_TLS1_2_SERVER : SP_PROT_TLS1_2_CLIENT;
    case GNUTLS_TLS1_3: return is_server ? SP_PROT_TLS1_3_SERVER : SP_PROT_TLS1_3_CLIENT;
    case GNUTLS_DTLS1_0: return is_server ? SP_PROT_DTLS1_0_SERVER : SP_PROT_DTLS1_0_CLIENT;
    case GNUTLS_DTLS1_2: return is_server ? SP_PROT_DTLS1_2_SERVER : SP_PROT_DTLS1_2_CLIENT;
    default:            return 0;
    }
}

/* The IANA number of the negotiated suite, from GnuTLS's suite table:
 * TLS 1.3 suites are named by cipher and hash alone, older ones also by
 * key exchange. */
static guint32
cipher_suite_number (gnutls_session_t session)
{
  gnutls_protocol_t version = gnutls_protocol_get_version (session);
  gnutls_cipher_algorithm_t cipher = gnutls_cipher_get (session);
  gnutls_mac_algorithm_t mac = gnutls_mac_get (session);
  gnutls_kx_algorithm_t kx = gnutls_kx_get (session);
  gnutls_kx_algorithm_t s_kx;
  gnutls_cipher_algorithm_t s_cipher;
  gnutls_mac_algorithm_t s_mac;
  gnutls_protocol_t s_min;
  unsigned char id[2];

  for (size_t i = 0; gnutls_cipher_suite_info (i, id, &s_kx, &s_cipher, &s_mac, &s_min) != NULL; i++)
    {
      gboolean is13 = s_min == GNUTLS_TLS1_3;
      if (s_cipher != cipher || s_mac != mac || is13 != (version == GNUTLS_TLS1_3))
        continue;
      if (is13 || s_kx == kx)
        return ((guint32) id[0] << 8) | id[1];
    }
  return 0;
}

static guint32
kx_bits (gnutls_session_t session)
{
  gnutls_group_t group = gnutls_group_get (session);

  switch (group)
    {
    case GNUTLS_GROUP_SECP256R1: return 256;
    case GNUTLS_GROUP_SECP384R1: return 384;
    case GNUTLS_GROUP_SECP521R1: return 521;
    case GNUTLS_GROUP_X25519:    return 255;
    case GNUTLS_GROUP_X448:      return 448;
    case GNUTLS_GROUP_FFDHE2048: return 2048;
    case GNUTLS_GROUP_FFDHE3072: return 3072;
    case GNUTLS_GROUP_FFDHE4096: return 4096;
    default:                     return 0;
    }
}

/* The IANA number of the negotiated key exchange group (RFC 8446 4.2.7,
 * RFC 7919), what Schannel reports as the cipher info's dwKeyType; 0 when
 * the key exchange used none (RSA key transport). */
static guint32
group_number (gnutls_session_t session)
{
  switch (gnutls_group_get (session))
    {
    case GNUTLS_GROUP_SECP256R1: return 23;
    case GNUTLS_GROUP_SECP384R1: return 24;
    case GNUTLS_GROUP_SECP521R1: return 25;
    case GNUTLS_GROUP_X25519:    return 29;
    case GNUTLS_GROUP_X448:      return 30;
    case GNUTLS_GROUP_FFDHE2048: return 256;
    case GNUTLS_GROUP_FFDHE3072: return 257;
    case GNUTLS_GROUP_FFDHE4096: return 258;
    default:                     return 0;
    }
}

/* The kind of key the server authenticated with ("RSA", "ECDSA", ...):
 * from the algorithm of its handshake signature, or, with RSA key
 * transport (no signature), from the key exchange. */
static const char *
server_key_type (gnutls_session_t session)
{
  int sign = gnutls_sign_algorithm_get (session);
  gnutls_kx_algorithm_t kx = gnutls_kx_get (session);

  if (sign > 0)
    switch (gnutls_sign_get_pk_algorithm ((gnutls_sign_algorithm_t) sign))
      {
      case GNUTLS_PK_RSA:
      case GNUTLS_PK_RSA_PSS:     return "RSA";
      case GNUTLS_PK_ECDSA:       return "ECDSA";
      case GNUTLS_PK_EDDSA_ED25519:
      case GNUTLS_PK_EDDSA_ED448: return "EdDSA";
      default:                    break;
      }
  switch (kx)
    {
    case GNUTLS_KX_RSA:
    case GNUTLS_KX_DHE_RSA:
    case GNUTLS_KX_ECDHE_RSA:   return "RSA";
    case GNUTLS_KX_ECDHE_ECDSA: return "ECDSA";
    default:                    return "";
    }
}

/* Where a protected record puts the caller's data, as STREAM_SIZES reports
 * it: *@header bytes come before the ciphertext of the data (the record
 * header, plus the explicit nonce of TLS 1.2 AEAD suites or the explicit
 * IV of CBC suites since TLS 1.1), and at most *@trailer bytes after it.
 * The trailer is the AEAD tag, plus in TLS 1.3 the inner content type byte
 * and one byte of padding (an empty record is sent padded); for CBC suites
 * it is the MAC plus the padding GnuTLS adds, 1 to block-size bytes with
 * the length byte.  GnuTLS's own worst case (gnutls_record_overhead_size)
 * is never more than header plus trailer; tests/test-engine checks that. */
static void
record_layout (gnutls_session_t s, guint32 *header, guint32 *trailer)
{
  gnutls_protocol_t version = gnutls_protocol_get_version (s);
  gnutls_cipher_algorithm_t cipher = gnutls_cipher_get (s);
  guint32 tag = (guint32) gnutls_cipher_get_tag_size (cipher);
  guint32 block = (guint32) gnutls_cipher_get_block_size (cipher);

  *header = version == GNUTLS_DTLS1_2 || version == GNUTLS_DTLS1_0 ? DTLS_RECORD_HEADER_SIZE
                                                                    : RECORD_HEADER_SIZE;
  if (version == GNUTLS_TLS1_3)
    *trailer = tag + 2;
  else if (tag > 0)
    {
      /* RFC 5288/6655: GCM and CCM carry an 8-byte explicit nonce;
       * ChaCha20-Poly1305 (RFC 7905) has none. */
      if (cipher != GNUTLS_CIPHER_CHACHA20_POLY1305)
        *header += 8;
      *trailer = tag;
    }
  else
    {
      guint32 mac = (guint32) gnutls_hmac_get_len (gnutls_mac_get (s));

      /* A block cipher (block > 1) in TLS 1.1 and later sends its IV in
       * front of each record (RFC 4346 6.2.3.2); a stream cipher pads
       * nothing. */
      if (block > 1 && version != GNUTLS_TLS1_0 && version != GNUTLS_SSL3)
        *header += block;
      *trailer = mac + (block > 1 ? block : 0);
    }
}

/* Channel bindings (RFC 5929, RFC 9266) are public values derived from the
 * handshake: safe to hand out, and what SECPKG_ATTR_*_BINDINGS carry.
 * NULL when the protocol has none (tls-unique in TLS 1.3). */
static GBytes *
channel_binding (gnutls_session_t s, gnutls_channel_binding_t type)
{
  gnutls_datum_t cb = { NULL, 0 };
  GBytes *bytes;

  if (gnutls_session_channel_binding (s, type, &cb) < 0 || cb.size == 0)
    return NULL;
  bytes = g_bytes_new (cb.data, cb.size);
  gnutls_free (cb.data);
  return bytes;
}

/* TLS 1.3 has no kx in the suite: the key exchange is always (EC)DHE. */
static const char *
kx_name (gnutls_protocol_t version, gnutls_kx_algorithm_t kx)
{
  if (version == GNUTLS_TLS1_3 || kx == GNUTLS_KX_ECDHE_ECDSA || kx == GNUTLS_KX_ECDHE_RSA)
    return "ECDHE";
  if (kx == GNUTLS_KX_DHE_RSA || kx == GNUTLS_KX_DHE_DSS)
    return "DHE";
  if (kx == GNUTLS_KX_RSA)
    return "RSA";
  return gnutls_kx_get_name (kx);
}

static GPtrArray *
peer_certificates (gnutls_session_t s)
{
  unsigned int n = 0;
  const gnutls_datum_t *peers = gnutls_certificate_get_peers (s, &n);
  GPtrArray *chain;

  if (peers == NULL || n == 0)
    return NULL;
  chain = g_ptr_array_new_full (n, (GDestroyNotify) g_bytes_unref);
  for (unsigned int i = 0; i < n; i++)
    g_ptr_array_add (chain, g_bytes_new (peers[i].data, peers[i].size));
  return chain;
}

/* The facts of an established session. */
static void
get_established_info (SspidTls *tls, SspidTlsInfo *info)
{
  gnutls_session_t s = tls->session;
  gnutls_protocol_t version = gnutls_protocol_get_version (s);
  gnutls_cipher_algorithm_t cipher = gnutls_cipher_get (s);
  gnutls_mac_algorithm_t mac = gnutls_mac_get (s);
  gnutls_datum_t alpn = { NULL, 0 };
  unsigned char session_id[GNUTLS_MAX_SESSION_ID_SIZE];
  size_t session_id_len = sizeof session_id;

  /* AEAD suites have no separate MAC; Schannel reports the suite's hash. */
  if (mac == GNUTLS_MAC_AEAD)
    {
      gnutls_digest_algorithm_t prf = gnutls_prf_hash_get (s);

      info->mac = gnutls_digest_get_name (prf);
      info->mac_bits = (guint32) gnutls_hash_get_len (prf) * 8;
    }
  else
    {
      info->mac = gnutls_mac_get_name (mac);
      info->mac_bits = (guint32) gnutls_mac_get_key_size (mac) * 8;
    }
  if (info->mac == NULL)
    info->mac = "";
  info->protocol = protocol_bit (version, tls->is_server);
  info->protocol_name = gnutls_protocol_get_name (version);
  info->cipher = gnutls_cipher_get_name (cipher);
  info->cipher_bits = (guint32) gnutls_cipher_get_key_size (cipher) * 8;
  info->kx = kx_name (version, gnutls_kx_get (s));
  info->kx_bits = kx_bits (s);
  info->group = group_number (s);
  info->server_key = server_key_type (s);
  info->is_aead = mac == GNUTLS_MAC_AEAD;
  info->cipher_suite = cipher_suite_number (s);
  info->cipher_suite_name = gnutls_ciphersuite_get (s) ? gnutls_ciphersuite_get (s) : "";
  if (gnutls_alpn_get_selected_protocol (s, &alpn) == 0 && alpn.size > 0)
    info->alpn = g_bytes_new (alpn.data, alpn.size);
  info->peer_certificates = peer_certificates (s);
  info->tls_unique = channel_binding (s, GNUTLS_CB_TLS_UNIQUE);
  info->tls_server_end_point = channel_binding (s, GNUTLS_CB_TLS_SERVER_END_POINT);
  info->tls_exporter = channel_binding (s, GNUTLS_CB_TLS_EXPORTER);
  info->is_resumed = gnutls_session_is_resumed (s) != 0;
  if (gnutls_session_get_id (s, session_id, &session_id_len) == 0)
    info->session_id = g_bytes_new (session_id, session_id_len);
  record_layout (s, &info->header_size, &info->trailer_size);
  info->max_message = tls->is_datagram ? sspid_tls_dtls_max_message (tls)
                                       : (guint32) gnutls_record_get_max_size (s);
  info->block_size = (guint32) gnutls_cipher_get_block_size (cipher);
  info->expiry = peer_expiry (tls);
}

SspidTlsInfo *
sspid_tls_get_info (SspidTls *tls)
{
  SspidTlsInfo *info = g_new0 (SspidTlsInfo, 1);

  info->state = sspid_tls_get_state_name (tls);
  info->role = sspid_tls_get_role_name (tls);
  info->credential = g_strdup (sspid_credential_peek_name (tls->cred));
  info->is_established = tls->state == STATE_ESTABLISHED;
  if (info->is_established)
    get_established_info (tls, info);
  return info;
}

void
sspid_tls_info_free (SspidTlsInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->credential);
  g_clear_pointer (&info->alpn, g_bytes_unref);
  g_clear_pointer (&info->peer_certificates, g_ptr_array_unref);
  g_clear_pointer (&info->tls_unique, g_bytes_unref);
  g_clear_pointer (&info->tls_server_end_point, g_bytes_unref);
  g_clear_pointer (&info->tls_exporter, g_bytes_unref);
  g_clear_pointer (&info->session_id, g_bytes_unref);
  g_free (info);
}

guint32
sspid_tls_get_header_size (SspidTls *tls)
{
  guint32 header, trailer;

  if (tls->state != STATE_ESTABLISHED)
    return 0;
  record_layout (tls->session, &header, &trailer);
  return header;
}
