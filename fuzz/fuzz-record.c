/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: DecryptMessage (and EncryptMessage) on established sessions.
 *
 * Records are only worth fuzzing under the session's keys, and the keys
 * are new on every handshake, so the input is not records but a small
 * script run against a pair freshly established through the engine (fast
 * enough per input: see tools/fuzz's statistics).  The peer (the server
 * session) writes real records, the script tampers with them, cuts them,
 * mixes in raw bytes, alerts and KeyUpdates, and the client opens what
 * arrives.  While nothing was tampered with, what the client opens must be
 * exactly what was sent, in order.
 *
 * Byte 0: bit 0 TLS 1.2 (else the default, TLS 1.3); bit 1 the RSA server.
 * Then operations, one byte each (low 3 bits) with their arguments:
 *   0 SEND n       server encrypts the next n+1 input bytes
 *   1 SEND_BIG hi lo  server encrypts a (hi<<8|lo)-byte message (may be too big)
 *   2 FLIP hi lo x  XOR byte (hi<<8|lo) mod len of what is in flight with x
 *   3 RAW n        the next n input bytes go on the wire as they are
 *   4 ALERT d      server sends close_notify (d = 0) or fatal alert d
 *   5 KEYUPDATE r  server sends a TLS 1.3 KeyUpdate (r & 1: update requested)
 *   6 DELIVER hi lo client opens records from the first (hi<<8|lo) bytes in flight
 *   7 REVERSE n    client encrypts the next n+1 input bytes, server opens them
 * Whatever is still in flight at the end is delivered.
 */
#include "config.h"

#include <string.h>

#include "fuzz-common.h"
#include "sspid-tls-private.h"   /* the GnuTLS session, to start a KeyUpdate */

typedef struct {
  SspidTls   *client;
  SspidTls   *server;
  GByteArray *wire;       /* server -> client, in flight */
  GByteArray *expected;   /* plaintext sent and not yet opened */
  gboolean    tampered;   /* the wire no longer carries only what was sent
                           * (or a fatal alert ends it) */
  guint       key_updates;
  gboolean    client_closed;   /* the client opened the server's close_notify */
  const guint8 *in;
  gsize       left;
} Run;

static guint
take_byte (Run *r)
{
  if (r->left == 0)
    return 0;
  r->left--;
  return *r->in++;
}

static guint
take_u16 (Run *r)
{
  guint hi = take_byte (r);
  return (hi << 8) | take_byte (r);
}

static void
append_bytes (GByteArray *to, GBytes *bytes)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  g_byte_array_append (to, data, (guint) len);
}

/* EncryptMessage's promise (sspid-tls.h): exactly one record, which the
 * library splits into the caller's header, data and trailer buffers. */
static void
check_one_record (GBytes *record)
{
  gsize len;
  const guint8 *p = g_bytes_get_data (record, &len);

  if (len == 0)
    return;   /* nothing to send: an empty message under TLS 1.2 */
  FUZZ_CHECK (len >= 5 && 5 + (((gsize) p[3] << 8) | p[4]) == len);
}

/* The server's EncryptMessage of @len bytes at @data. */
static void
server_send (Run *r, const guint8 *data, gsize len)
{
  g_autoptr (GBytes) record = NULL;
  SECURITY_STATUS status = sspid_tls_encrypt (r->server, data, len, &record);

  if (status != SEC_E_OK)
    {
      FUZZ_CHECK (record == NULL);
      FUZZ_CHECK (len > gnutls_record_get_max_size (r->server->session) || r->server->closed ||
                  r->server->out->len > 0 || status == SEC_E_CONTEXT_EXPIRED);
      return;
    }
  FUZZ_CHECK (record != NULL);
  check_one_record (record);
  append_bytes (r->wire, record);
  g_byte_array_append (r->expected, data, (guint) len);
}

/* Runs the step that hands over what a session owes its peer (alert,
 * KeyUpdate) and returns its bytes. */
static GBytes *
owed_bytes (SspidTls *tls)
{
  SspidTlsStep st;
  GBytes *token;

  sspid_tls_step (tls, NULL, 0, &st);
  token = g_steal_pointer (&st.token);
  sspid_tls_step_clear (&st);
  return token;
}

/* The client answers a KeyUpdate: the reply goes to the server. */
static void
client_reply (Run *r)
{
  g_autoptr (GBytes) reply = owed_bytes (r->client);
  gsize len;
  const guint8 *data = g_bytes_get_data (reply, &len);

  FUZZ_CHECK (r->client->out->len == 0);
  if (len > 0 && !r->tampered)
    FUZZ_CHECK (fuzz_decrypt_all (r->server, data, len) == len);
}

/* The client opens what the first @limit bytes in flight hold. */
static void
deliver (Run *r, gsize limit)
{
  if (r->client_closed)
    {
      /* After close_notify the context is expired, whatever follows. */
      gsize len = MIN (limit, r->wire->len);
      SspidTlsDecrypt d;

      sspid_tls_decrypt (r->client, r->wire->data, len, &d);
      if (!r->tampered)
        FUZZ_CHECK (d.status == SEC_I_CONTEXT_EXPIRED || d.status == SEC_E_CONTEXT_EXPIRED ||
                    d.status == SEC_E_INCOMPLETE_MESSAGE);
      sspid_tls_decrypt_clear (&d);
      return;
    }
  for (guint round = 0; round < 64 && r->wire->len > 0; round++)
    {
      gsize len = MIN (limit, r->wire->len);
      SspidTlsDecrypt d;
      SECURITY_STATUS status;
      gsize plain_len;
      const guint8 *plain;

      sspid_tls_decrypt (r->client, r->wire->data, len, &d);
      status = d.status;
      plain = g_bytes_get_data (d.plaintext, &plain_len);
      if (status == SEC_E_INCOMPLETE_MESSAGE)
        FUZZ_CHECK (d.missing > 0 && (len < r->wire->len || r->tampered));
      if (status == SEC_E_OK || status == SEC_I_RENEGOTIATE || status == SEC_I_CONTEXT_EXPIRED)
        {
          FUZZ_CHECK (d.record_size > 0 && (gsize) d.record_size + d.extra == len);
          if (!r->tampered)
            {
              FUZZ_CHECK (plain_len <= r->expected->len);
              FUZZ_CHECK (plain_len == 0 || memcmp (plain, r->expected->data, plain_len) == 0);
              g_byte_array_remove_range (r->expected, 0, (guint) plain_len);
            }
          g_byte_array_remove_range (r->wire, 0, d.record_size);
          limit -= MIN (limit, d.record_size);
        }
      else if (!r->tampered)
        FUZZ_CHECK (status == SEC_E_INCOMPLETE_MESSAGE);
      sspid_tls_decrypt_clear (&d);
      r->client_closed |= status == SEC_I_CONTEXT_EXPIRED;
      /* SEC_I_RENEGOTIATE: the reply waits for the client's next
       * EncryptMessage, which must refuse until it is sent (REVERSE). */
      if (status != SEC_E_OK && status != SEC_I_RENEGOTIATE)
        break;
    }
}

/* The other direction: client encrypts, the server opens it at once. */
static void
reverse (Run *r, const guint8 *data, gsize len)
{
  g_autoptr (GBytes) record = NULL;
  SECURITY_STATUS status = sspid_tls_encrypt (r->client, data, len, &record);
  SspidTlsDecrypt d;
  gsize rec_len, plain_len;
  const guint8 *rec, *plain;

  if (status == SEC_E_OUT_OF_SEQUENCE)
    {
      FUZZ_CHECK (r->client->out->len > 0);
      client_reply (r);
      return;
    }
  if (status != SEC_E_OK)
    return;
  check_one_record (record);
  rec = g_bytes_get_data (record, &rec_len);
  if (rec_len == 0)
    return;   /* TLS 1.2 has no empty records */
  sspid_tls_decrypt (r->server, rec, rec_len, &d);
  plain = g_bytes_get_data (d.plaintext, &plain_len);
  if (!r->tampered && !r->server->closed)
    FUZZ_CHECK (d.status == SEC_E_OK && plain_len == len &&
                (len == 0 || memcmp (plain, data, len) == 0));
  sspid_tls_decrypt_clear (&d);
}

static void
run_op (Run *r, guint op)
{
  switch (op & 7)
    {
    case 0:
    case 7:
      {
        gsize want = (gsize) take_byte (r) + 1;
        gsize n = MIN (want, r->left);
        const guint8 *data = r->in;

        r->in += n;
        r->left -= n;
        if ((op & 7) == 0)
          server_send (r, data, n);
        else
          reverse (r, data, n);
        break;
      }
    case 1:
      {
        gsize n = take_u16 (r);
        g_autofree guint8 *data = g_malloc (MAX (n, 1));

        for (gsize i = 0; i < n; i++)
          data[i] = (guint8) i;
        server_send (r, data, n);
        break;
      }
    case 2:
      {
        guint pos = take_u16 (r);
        guint8 x = (guint8) take_byte (r);

        if (r->wire->len > 0 && x != 0)
          {
            r->wire->data[pos % r->wire->len] ^= x;
            r->tampered = TRUE;
          }
        break;
      }
    case 3:
      {
        gsize want = take_byte (r);
        gsize n = MIN (want, r->left);

        g_byte_array_append (r->wire, r->in, (guint) n);
        r->in += n;
        r->left -= n;
        r->tampered |= n > 0;
        break;
      }
    case 4:
      {
        guint d = take_byte (r);
        g_autoptr (GBytes) alert = NULL;

        if (d == 0)
          sspid_tls_queue_alert (r->server, TLS1_ALERT_WARNING, TLS1_ALERT_CLOSE_NOTIFY);
        else
          {
            sspid_tls_queue_alert (r->server, TLS1_ALERT_FATAL, (int) d);
            r->tampered = TRUE;
          }
        alert = owed_bytes (r->server);
        append_bytes (r->wire, alert);
        break;
      }
    case 5:
      {
        guint flags = take_byte (r) & 1 ? GNUTLS_KU_PEER : 0;
        g_autoptr (GBytes) update = NULL;

        if (r->server->closed || r->server->out->len > 0 ||
            gnutls_session_key_update (r->server->session, flags) < 0)
          break;
        update = owed_bytes (r->server);
        append_bytes (r->wire, update);
        /* GnuTLS refuses a ninth KeyUpdate within a second (a DoS guard,
         * GNUTLS_E_TOO_MANY_HANDSHAKE_PACKETS): from then on, a failure
         * is the expected answer. */
        if (++r->key_updates > 8)
          r->tampered = TRUE;
        break;
      }
    case 6:
      deliver (r, take_u16 (r));
      break;
    }
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_logging ();
  fuzz_store ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  g_autoptr (GByteArray) expected = g_byte_array_new ();
  g_autoptr (SspidTls) client = NULL;
  g_autoptr (SspidTls) server = NULL;
  Run r = { .wire = wire, .expected = expected, .in = data, .left = size };
  guint setup = take_byte (&r);

  FUZZ_CHECK (fuzz_pair (NULL, setup & 2 ? "rsa" : "server",
                         setup & 1 ? SP_PROT_TLS1_2_CLIENT : 0, &client, &server, wire));
  r.client = client;
  r.server = server;
  for (guint ops = 0; r.left > 0 && ops < 512; ops++)
    run_op (&r, take_byte (&r));
  deliver (&r, G_MAXSIZE);
  if (!r.tampered && client->out->len > 0)
    client_reply (&r);
  return 0;
}
