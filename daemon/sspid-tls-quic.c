/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QUIC mode of the TLS engine (see sspid-tls-quic.h) on GnuTLS's QUIC
 * hooks: gnutls_handshake_set_read_function() hands us each handshake
 * message GnuTLS would have put in a record, with its encryption level;
 * gnutls_handshake_write() feeds it the peer's messages at the level it
 * reads at; gnutls_handshake_set_secret_function() gives the traffic
 * secrets of each level as the key schedule makes them; the caller's
 * extension is one registered on the session
 * (gnutls_session_ext_register()).
 *
 * Schannel's input in this mode is a run of handshake messages with no
 * level attached: the level is the one the peer's last secret opened for
 * reading, and the engine feeds one whole message at a time, since a
 * message can open the next level (a ServerHello opens the handshake
 * level for the EncryptedExtensions after it).  What is left of a message
 * cut short is the caller's EXTRA, or SEC_E_INCOMPLETE_MESSAGE with the
 * bytes still MISSING when not one message is whole, as for records.
 */
#include "config.h"

#include "sspid-tls-quic.h"

#include <string.h>
#include <gnutls/crypto.h>

#include "schannel.h"
#include "sspid-log.h"
#include "sspid-tls-errors.h"
#include "sspid-tls-private.h"

/* A handshake message's header: type (1 byte), length (3 bytes). */
#define MESSAGE_HEADER_SIZE 4
#define N_LEVELS 4

struct _SspidTlsQuic {
  gnutls_record_encryption_level_t read_level;   /* of the peer's next message */

  /* This step's output: where each level's messages start and end in it. */
  gboolean          level_written[N_LEVELS];
  guint             level_start[N_LEVELS];
  guint             level_end[N_LEVELS];
  GPtrArray        *secrets;                     /* SspidTrafficSecret *: this step's */

  /* Our extension (the transport parameters) and the peer's. */
  guint16           extension_type;
  GBytes           *extension_data;              /* NULL: none to send */
  GBytes           *peer_extension;              /* type, length, data: as received */
  gboolean          is_subscribed;
  gboolean          is_peer_extension_reported;

  /* SEC_I_GENERIC_EXTENSION_RECEIVED holds the step's own result back
   * until the next call. */
  gboolean          has_held;
  SspidTlsStep      held;
};

gboolean
sspid_tls_is_quic (SspidTls *tls)
{
  return tls->quic != NULL;
}

void
sspid_tls_quic_free (SspidTlsQuic *quic)
{
  if (quic == NULL)
    return;
  g_clear_pointer (&quic->secrets, g_ptr_array_unref);
  g_clear_pointer (&quic->extension_data, g_bytes_unref);
  g_clear_pointer (&quic->peer_extension, g_bytes_unref);
  sspid_tls_step_clear (&quic->held);
  g_free (quic);
}

/* --- GnuTLS's hooks ------------------------------------------------------ */

/* An outgoing handshake message at @level: into this step's token. */
static int
on_message (gnutls_session_t session, gnutls_record_encryption_level_t level,
            gnutls_handshake_description_t htype, const void *data, size_t size)
{
  SspidTls *tls = gnutls_session_get_ptr (session);
  SspidTlsQuic *quic = tls->quic;

  /* No middlebox compatibility in QUIC (RFC 9001 8.4), but never pass one on. */
  if (htype == GNUTLS_HANDSHAKE_CHANGE_CIPHER_SPEC || level >= N_LEVELS)
    return 0;
  if (!quic->level_written[level])
    {
      quic->level_written[level] = TRUE;
      quic->level_start[level] = tls->out->len;
    }
  g_byte_array_append (tls->out, data, (guint) size);
  quic->level_end[level] = tls->out->len;
  return 0;
}

/* Alerts have no record either: QUIC sends them in CONNECTION_CLOSE
 * (RFC 9001 4.8).  The failed step's status says what went wrong. */
static int
on_alert (gnutls_session_t session, gnutls_record_encryption_level_t level,
          gnutls_alert_level_t alert_level, gnutls_alert_description_t alert_desc)
{
  g_debug ("QUIC mode: TLS alert %d (%s) at level %d", (int) alert_desc,
           gnutls_alert_get_strname (alert_desc), (int) level);
  return 0;
}

static void
cipher_names (gnutls_cipher_algorithm_t cipher, const char **symmetric, const char **chaining)
{
  switch (cipher)
    {
    case GNUTLS_CIPHER_AES_128_GCM:
    case GNUTLS_CIPHER_AES_256_GCM:
      *symmetric = "AES";
      *chaining = "ChainingModeGCM";
      break;
    case GNUTLS_CIPHER_AES_128_CCM:
    case GNUTLS_CIPHER_AES_256_CCM:
      *symmetric = "AES";
      *chaining = "ChainingModeCCM";
      break;
    case GNUTLS_CIPHER_CHACHA20_POLY1305:
      *symmetric = "CHACHA20_POLY1305";
      *chaining = "";
      break;
    default:
      *symmetric = gnutls_cipher_get_name (cipher);
      *chaining = "";
      break;
    }
}

static void
add_secret (SspidTls *tls, gnutls_record_encryption_level_t level, guint32 type,
            const void *secret, size_t size)
{
  gnutls_cipher_algorithm_t cipher = gnutls_cipher_get (tls->session);
  SspidTrafficSecret *s = g_new0 (SspidTrafficSecret, 1);
  const char *symmetric, *chaining;

  cipher_names (cipher, &symmetric, &chaining);
  s->type = type;
  s->level = (guint32) level;
  s->cipher = g_strdup (symmetric != NULL ? symmetric : "");
  s->chaining_mode = g_strdup (chaining);
  s->hash = g_strdup (gnutls_digest_get_name (gnutls_prf_hash_get (tls->session)));
  s->key_size = (guint16) gnutls_cipher_get_key_size (cipher);
  s->iv_size = (guint16) gnutls_cipher_get_iv_size (cipher);
  s->secret = g_bytes_new (secret, size);
  g_ptr_array_add (tls->quic->secrets, s);
}

/* The secrets of a new level.  A read secret moves the level the peer's
 * next messages are fed at; where a write secret's messages sit in the
 * token is known at the end of the step (step_secrets()). */
static int
on_secret (gnutls_session_t session, gnutls_record_encryption_level_t level,
           const void *secret_read, const void *secret_write, size_t size)
{
  SspidTls *tls = gnutls_session_get_ptr (session);
  guint32 own = tls->is_server ? SecTrafficSecret_Server : SecTrafficSecret_Client;
  guint32 peer = tls->is_server ? SecTrafficSecret_Client : SecTrafficSecret_Server;

  /* 0-RTT is not offered (no early data), so no early secrets matter. */
  if (level == GNUTLS_ENCRYPTION_LEVEL_EARLY || size > SSPID_QUIC_MAX_SECRET)
    return 0;
  if (secret_write != NULL)
    add_secret (tls, level, own, secret_write, size);
  if (secret_read != NULL)
    {
      add_secret (tls, level, peer, secret_read, size);
      tls->quic->read_level = level;
    }
  return 0;
}

static int
extension_send (gnutls_session_t session, gnutls_buffer_t extdata)
{
  SspidTls *tls = gnutls_session_get_ptr (session);
  gsize len = 0;
  const void *data;

  if (tls->quic->extension_data == NULL)
    return 0;
  data = g_bytes_get_data (tls->quic->extension_data, &len);
  return gnutls_buffer_append_data (extdata, data, len) < 0 ? GNUTLS_E_MEMORY_ERROR : 0;
}

/* The peer's extension, kept as the subscription's output shows it: the
 * extension as on the wire (type, length, data). */
static int
extension_recv (gnutls_session_t session, const unsigned char *data, size_t len)
{
  SspidTls *tls = gnutls_session_get_ptr (session);
  GByteArray *wire;
  guint8 header[4];

  if (tls->quic->peer_extension != NULL)
    return 0;
  header[0] = (guint8) (tls->quic->extension_type >> 8);
  header[1] = (guint8) tls->quic->extension_type;
  header[2] = (guint8) (len >> 8);
  header[3] = (guint8) len;
  wire = g_byte_array_sized_new ((guint) len + 4);
  g_byte_array_append (wire, header, 4);
  g_byte_array_append (wire, data, (guint) len);
  tls->quic->peer_extension = g_byte_array_free_to_bytes (wire);
  return 0;
}

/* --- setting a session up ------------------------------------------------ */

/* The credential's priority for this direction, narrowed to TLS 1.3
 * without the middlebox compatibility mode (RFC 9001 4.2, 8.4).  NULL if
 * the credential does not enable TLS 1.3 this way. */
static gnutls_priority_t
quic_priority (SspidTls *tls)
{
  const char *base = sspid_credential_peek_priority (tls->cred, tls->is_server);
  g_autofree char *text = NULL;
  const char *err_pos = NULL;
  gnutls_priority_t priority;
  int ret;

  if (base == NULL || strstr (base, "+VERS-TLS1.3") == NULL)
    return NULL;
  text = g_strconcat (base, ":-VERS-ALL:+VERS-TLS1.3:%DISABLE_TLS13_COMPAT_MODE", NULL);
  priority = sspid_tls_lookup_priority (text, &err_pos, &ret);
  if (priority == NULL)
    g_warning ("QUIC priority '%s' rejected at '%s': %s", text, err_pos ? err_pos : "?",
               gnutls_strerror (ret));
  return priority;
}

static gboolean
is_policy_allowing (SspidTls *tls)
{
  if (sspid_credential_is_quic_allowed (tls->cred))
    return TRUE;
  /* The credential's name is the config's; the anonymous client has none. */
  if (sspid_credential_peek_name (tls->cred)[0] == '\0')
    g_message ("QUIC mode refused: the anonymous client credential may not hand out "
               "traffic secrets (acquire a [credential] with quic=allow)");
  else
    g_message ("QUIC mode refused for credential '%s': its traffic secrets would leave "
               "the daemon, and its config does not say quic=allow",
               sspid_credential_peek_name (tls->cred));
  return FALSE;
}

SECURITY_STATUS
sspid_tls_quic_enable (SspidTls *tls, const SspidQuicArgs *args)
{
  gnutls_priority_t priority;
  int ret;

  g_return_val_if_fail (!tls->started && tls->quic == NULL, SEC_E_INTERNAL_ERROR);
  if (!is_policy_allowing (tls))
    return SEC_E_UNSUPPORTED_FUNCTION;
  priority = quic_priority (tls);
  if (priority == NULL || gnutls_priority_set (tls->session, priority) < 0)
    return SEC_E_ALGORITHM_MISMATCH;

  tls->quic = g_new0 (SspidTlsQuic, 1);
  tls->quic->secrets = g_ptr_array_new_with_free_func ((GDestroyNotify) sspid_traffic_secret_free);
  gnutls_handshake_set_read_function (tls->session, on_message);
  gnutls_alert_set_read_function (tls->session, on_alert);
  gnutls_handshake_set_secret_function (tls->session, on_secret);
  if (args->has_extension)
    {
      tls->quic->extension_type = args->extension_type;
      tls->quic->extension_data = g_bytes_ref (args->extension_data);
      ret = gnutls_session_ext_register (tls->session, "sspid generic extension",
                                         args->extension_type, GNUTLS_EXT_TLS,
                                         extension_recv, extension_send, NULL, NULL, NULL,
                                         GNUTLS_EXT_FLAG_TLS | GNUTLS_EXT_FLAG_CLIENT_HELLO |
                                         GNUTLS_EXT_FLAG_EE);
      if (ret < 0)
        {
          g_debug ("QUIC mode: extension %u not usable: %s", args->extension_type,
                   gnutls_strerror (ret));
          return SEC_E_INVALID_PARAMETER;
        }
    }
  sspid_tls_quic_update (tls, args);
  return SEC_E_OK;
}

void
sspid_tls_quic_update (SspidTls *tls, const SspidQuicArgs *args)
{
  /* Only the extension we send can be subscribed to: it is the one
   * registered with GnuTLS, and the one QUIC has. */
  if (tls->quic != NULL && args->has_subscription &&
      args->subscription_type == tls->quic->extension_type)
    tls->quic->is_subscribed = TRUE;
}

/* --- a step -------------------------------------------------------------- */

/* Of @input, the length of the whole message at @pos, or 0 and the bytes
 * still *@missing to make it whole. */
static gsize
whole_message (const guint8 *input, gsize len, gsize pos, guint32 *missing)
{
  gsize have = len - pos;
  gsize body;

  if (have < MESSAGE_HEADER_SIZE)
    {
      *missing = (guint32) (MESSAGE_HEADER_SIZE - have);
      return 0;
    }
  body = ((gsize) input[pos + 1] << 16) | ((gsize) input[pos + 2] << 8) | input[pos + 3];
  if (have < MESSAGE_HEADER_SIZE + body)
    {
      *missing = (guint32) (MESSAGE_HEADER_SIZE + body - have);
      return 0;
    }
  return MESSAGE_HEADER_SIZE + body;
}

static void
fail (SspidTls *tls, SspidTlsStep *step, int ret)
{
  SECURITY_STATUS status;

  if (tls->verify_failure != SEC_E_OK && !tls->manual_validation)
    status = tls->verify_failure;
  else
    status = sspid_tls_status_from_gnutls (ret, gnutls_alert_get (tls->session));
  g_debug ("%s QUIC handshake failed: %s (%s)", tls->is_server ? "server" : "client",
           sspid_status_to_string (status), gnutls_strerror (ret));
  tls->state = STATE_FAILED;
  tls->failure = status;
  step->status = status;
  g_byte_array_set_size (tls->out, 0);
}

/* Runs the handshake on: SEC_I_CONTINUE_NEEDED while it waits for the
 * peer, SEC_E_OK once done, or fails the session. */
static gboolean
run_handshake (SspidTls *tls, SspidTlsStep *step)
{
  int ret;

  do
    ret = gnutls_handshake (tls->session);
  while (ret == GNUTLS_E_INTERRUPTED || ret == GNUTLS_E_WARNING_ALERT_RECEIVED);
  if (ret == 0)
    {
      tls->state = STATE_ESTABLISHED;
      step->status = SEC_E_OK;
      return TRUE;
    }
  if (ret == GNUTLS_E_AGAIN)
    {
      step->status = SEC_I_CONTINUE_NEEDED;
      return TRUE;
    }
  fail (tls, step, ret);
  return FALSE;
}

/* Feeds every whole message of @input at the level GnuTLS reads at.
 * Returns the bytes consumed, or -1 when the session failed. */
static gssize
feed_messages (SspidTls *tls, const guint8 *input, gsize len, SspidTlsStep *step)
{
  gsize pos = 0;
  guint32 missing = 0;

  for (;;)
    {
      gsize size = whole_message (input, len, pos, &missing);
      int ret;

      if (size == 0)
        break;
      ret = gnutls_handshake_write (tls->session, tls->quic->read_level, input + pos, size);
      if (ret < 0)
        {
          fail (tls, step, ret);
          return -1;
        }
      pos += size;
      if (tls->state == STATE_HANDSHAKE && !run_handshake (tls, step))
        return -1;
    }
  if (pos == 0)
    step->missing = missing;
  return (gssize) pos;
}

/* Where each of our secrets' messages sit in this step's token: from the
 * first message of its level to the end of the last (both the token's
 * end if the step wrote none); msquic reads where the 1-RTT messages
 * start from the handshake secret's end.  The peer's secrets protect no
 * messages of ours: 0 and 0, as SEC_TRAFFIC_SECRETS documents. */
static void
place_secrets (SspidTlsQuic *quic, guint32 own, guint token_len)
{
  for (guint i = 0; i < quic->secrets->len; i++)
    {
      SspidTrafficSecret *s = quic->secrets->pdata[i];

      if (s->type != own)
        s->msg_start = s->msg_end = 0;
      else if (s->level >= N_LEVELS || !quic->level_written[s->level])
        s->msg_start = s->msg_end = (guint16) MIN (token_len, G_MAXUINT16);
      else
        {
          s->msg_start = (guint16) MIN (quic->level_start[s->level], G_MAXUINT16);
          s->msg_end = (guint16) MIN (quic->level_end[s->level], G_MAXUINT16);
        }
    }
}

/* This step's token and secrets into @step. */
static void
take_output (SspidTls *tls, SspidTlsStep *step)
{
  SspidTlsQuic *quic = tls->quic;

  step->token = sspid_tls_take_output (tls);
  place_secrets (quic, tls->is_server ? SecTrafficSecret_Server : SecTrafficSecret_Client,
                 (guint) g_bytes_get_size (step->token));
  step->quic = g_new0 (SspidQuicResult, 1);
  step->quic->secrets = g_steal_pointer (&quic->secrets);
  quic->secrets = g_ptr_array_new_with_free_func ((GDestroyNotify) sspid_traffic_secret_free);
  memset (quic->level_written, 0, sizeof quic->level_written);
}

/* The subscribed extension arrived: this step answers
 * SEC_I_GENERIC_EXTENSION_RECEIVED with it alone, and the next call gets
 * what the step produced (msquic calls again at once, with the same
 * input, which is not read again). */
static void
report_extension (SspidTlsQuic *quic, SspidTlsStep *step)
{
  quic->held = *step;
  quic->has_held = TRUE;
  quic->is_peer_extension_reported = TRUE;
  memset (step, 0, sizeof *step);
  step->status = SEC_I_GENERIC_EXTENSION_RECEIVED;
  step->quic = g_new0 (SspidQuicResult, 1);
  step->quic->extension = g_bytes_ref (quic->peer_extension);
}

void
sspid_tls_quic_step (SspidTls *tls, const guint8 *input, gsize input_len,
                     SspidTlsStep *step)
{
  SspidTlsQuic *quic = tls->quic;
  gssize consumed = 0;

  if (quic->has_held)
    {
      *step = quic->held;
      memset (&quic->held, 0, sizeof quic->held);
      quic->has_held = FALSE;
      goto out;
    }
  if (tls->state == STATE_FAILED)
    {
      step->status = tls->failure;
      goto out;
    }
  /* A client's first step writes the ClientHello from no input. */
  if (!tls->started && !tls->is_server)
    {
      tls->started = TRUE;
      sspid_tls_resume_saved (tls);
      if (!run_handshake (tls, step))
        goto out;
    }
  else
    {
      tls->started = TRUE;
      step->status = tls->state == STATE_ESTABLISHED ? SEC_E_OK : SEC_I_CONTINUE_NEEDED;
      consumed = feed_messages (tls, input, input_len, step);
      if (consumed < 0)
        goto out;
      /* Not one whole message: come back with more (step->missing). */
      if (consumed == 0 && tls->state == STATE_HANDSHAKE)
        {
          step->status = SEC_E_INCOMPLETE_MESSAGE;
          goto out;
        }
      step->extra = (guint32) (input_len - (gsize) consumed);
      step->missing = 0;
    }
  /* A ticket the server sent after the handshake, for the next context. */
  if (tls->state == STATE_ESTABLISHED)
    sspid_tls_remember_session (tls);
  take_output (tls, step);
  if (quic->is_subscribed && quic->peer_extension != NULL && !quic->is_peer_extension_reported)
    report_extension (quic, step);

out:
  if (step->token == NULL)
    step->token = g_bytes_new (NULL, 0);
}
