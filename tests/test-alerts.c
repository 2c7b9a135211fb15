/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The alerts the engine owes a peer, without a bus: what a failed
 * handshake step returns with ISC/ASC_REQ_EXTENDED_ERROR, what the step
 * after a fatal DecryptMessage error returns, and that each alert is the
 * one GnuTLS chooses (gnutls-serv sends the same).  Also the handshake
 * messages GnuTLS accepts that once were refused: a ClientHello of
 * several records, up to the size GnuTLS takes.  And a server's ALPN list
 * that a client's does not meet: no_application_protocol.
 */
#include "config.h"

#include <check.h>
#include <string.h>

#include "engine-store.h"
#include "schannel.h"
#include "sspid-config.h"
#include "sspid-credential.h"
#include "sspid-tls.h"
#include "sspid-tls-private.h"
#include "testutil.h"

#define ALERT_NONE (-1)

static void
setup (void)
{
  g_autoptr (GString) conf = es_config_new ();

  es_config_add (conf, "server", "server", "inbound", "");
  es_config_add (conf, "untrusted", "untrusted", "inbound", "");
  es_setup (conf);
}

/* A server session on credential @name accepting the ALPN ids @alpn
 * (NULL: no ALPN). */
static SspidTls *
new_server_alpn (const char *name, guint32 asc_req, const char *const *alpn)
{
  SspidCredential *cred = NULL;
  SspidTls *tls = NULL;

  ck_assert_int_eq (sspid_credential_store_acquire (es_store, name, SECPKG_CRED_INBOUND, 0, 0, &es_me,
                                                    &cred), SEC_E_OK);
  ck_assert_int_eq (sspid_tls_new_server (cred, asc_req, alpn, &tls), SEC_E_OK);
  sspid_credential_unref (cred);
  return tls;
}

static SspidTls *
new_server (const char *name, guint32 asc_req)
{
  return new_server_alpn (name, asc_req, NULL);
}

static SspidTls *
new_client_alpn (guint32 protocols, guint32 isc_req, const char *const *alpn)
{
  SspidCredential *cred = NULL;
  SspidTls *tls = NULL;

  ck_assert_int_eq (sspid_credential_store_acquire (es_store, NULL, SECPKG_CRED_OUTBOUND, protocols, 0,
                                                    &es_me, &cred), SEC_E_OK);
  ck_assert_int_eq (sspid_tls_new_client (cred, "localhost", isc_req, alpn, &tls), SEC_E_OK);
  sspid_credential_unref (cred);
  return tls;
}

static SspidTls *
new_client (guint32 protocols, guint32 isc_req)
{
  return new_client_alpn (protocols, isc_req, NULL);
}

/* The client's first flight (its ClientHello), as one byte array. */
static GByteArray *
client_hello (SspidTls *client)
{
  SspidTlsStep st;
  GByteArray *hello = g_byte_array_new ();

  sspid_tls_step (client, NULL, 0, &st);
  ck_assert_int_eq (st.status, SEC_I_CONTINUE_NEEDED);
  g_byte_array_append (hello, g_bytes_get_data (st.token, NULL), (guint) g_bytes_get_size (st.token));
  sspid_tls_step_clear (&st);
  return hello;
}

/* The description of the one plaintext fatal alert record in @token, or
 * ALERT_NONE for an empty token. */
static int
plain_alert (GBytes *token)
{
  gsize n;
  const guint8 *p = g_bytes_get_data (token, &n);

  if (n == 0)
    return ALERT_NONE;
  ck_assert_uint_eq (n, 7);
  ck_assert_uint_eq (p[0], 21);
  ck_assert_uint_eq (p[1], 3);
  ck_assert_uint_eq (p[3], 0);
  ck_assert_uint_eq (p[4], 2);
  ck_assert_uint_eq (p[5], GNUTLS_AL_FATAL);
  return p[6];
}

/* Feeds @token (a protected alert) to @peer's record layer and returns the
 * fatal alert it read. */
static int
read_alert (SspidTls *peer, GBytes *token)
{
  SspidTlsDecrypt d;

  ck_assert_uint_gt (g_bytes_get_size (token), 0);
  sspid_tls_decrypt (peer, g_bytes_get_data (token, NULL), g_bytes_get_size (token), &d);
  ck_assert_msg (!SEC_SUCCESS (d.status), "the alert opened as 0x%08x", (unsigned) d.status);
  ck_assert_uint_eq (g_bytes_get_size (d.plaintext), 0);
  sspid_tls_decrypt_clear (&d);
  return (int) gnutls_alert_get (peer->session);
}

/* ---- a failed handshake ------------------------------------------------ */

/* What a server receives first, and the alert GnuTLS sends for it
 * (gnutls-serv answers each of these with that alert). */
typedef struct {
  const char     *what;
  const guint8   *bytes;
  gsize           len;
  SECURITY_STATUS status;
  int             alert;
} BadHello;

static const guint8 http_request[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
static const guint8 oversized[] = { 22, 3, 1, 0x48, 0x01 };
static const guint8 bad_major[] = { 22, 2, 1, 0, 4, 1, 0, 0, 0 };
static const guint8 finished_first[] = { 22, 3, 1, 0, 4, 20, 0, 0, 0 };
/* A ClientHello that ends after its session id length (no suites), and
 * one whose session id would be 33 bytes long. */
#define HELLO_START 22, 3, 1, 0, 39, 1, 0, 0, 35, 3, 3, \
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, \
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
static const guint8 suiteless_hello[] = { HELLO_START, 0 };
static const guint8 long_id_hello[] = { HELLO_START, 33 };

static const BadHello bad_hellos[] = {
  { "plain HTTP", http_request, sizeof http_request - 1, SEC_E_INVALID_TOKEN,
    GNUTLS_A_UNEXPECTED_MESSAGE },
  { "record over 16384 + 2048", oversized, sizeof oversized, SEC_E_INVALID_TOKEN,
    GNUTLS_A_RECORD_OVERFLOW },
  { "record version 2", bad_major, sizeof bad_major, SEC_E_INVALID_TOKEN,
    GNUTLS_A_PROTOCOL_VERSION },
  { "Finished first", finished_first, sizeof finished_first, SEC_E_ILLEGAL_MESSAGE,
    GNUTLS_A_UNEXPECTED_MESSAGE },
  { "ClientHello without suites", suiteless_hello, sizeof suiteless_hello,
    SEC_E_ILLEGAL_MESSAGE, GNUTLS_A_DECODE_ERROR },
  { "session id of 33 bytes", long_id_hello, sizeof long_id_hello, SEC_E_ILLEGAL_MESSAGE,
    GNUTLS_A_DECODE_ERROR },
};

/* With ASC_REQ_EXTENDED_ERROR the failing step returns its error and the
 * alert; without it, the error and nothing (Schannel: "when errors occur,
 * the remote party will be notified" only when asked). */
START_TEST (test_bad_hello_alert)
{
  const BadHello *bad = &bad_hellos[_i];

  for (int extended = 0; extended < 2; extended++)
    {
      g_autoptr (SspidTls) server = new_server ("server", extended ? ASC_REQ_EXTENDED_ERROR : 0);
      SspidTlsStep st;

      sspid_tls_step (server, bad->bytes, bad->len, &st);
      ck_assert_msg (st.status == bad->status, "%s: 0x%08x", bad->what, (unsigned) st.status);
      ck_assert_msg (plain_alert (st.token) == (extended ? bad->alert : ALERT_NONE),
                     "%s%s: alert %d", bad->what, extended ? "" : " (no extended error)",
                     plain_alert (st.token));
      sspid_tls_step_clear (&st);
      /* The context stays failed, and says nothing more. */
      sspid_tls_step (server, bad->bytes, bad->len, &st);
      ck_assert_int_eq (st.status, bad->status);
      ck_assert_uint_eq (g_bytes_get_size (st.token), 0);
      sspid_tls_step_clear (&st);
    }
}
END_TEST

/* No suite in common: handshake_failure, as GnuTLS sends it. */
START_TEST (test_no_common_suite_alert)
{
  g_autoptr (SspidTls) server = new_server ("server", ASC_REQ_EXTENDED_ERROR);
  g_autoptr (SspidTls) client = new_client (SP_PROT_TLS1_2_CLIENT, 0);
  g_autoptr (GByteArray) hello = NULL;
  SspidTlsStep st;

  ck_assert_int_eq (gnutls_priority_set_direct (client->session,
                                                "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-CBC",
                                                NULL), 0);
  ck_assert_int_eq (gnutls_priority_set_direct (server->session,
                                                "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM",
                                                NULL), 0);
  hello = client_hello (client);
  sspid_tls_step (server, hello->data, hello->len, &st);
  ck_assert_int_eq (st.status, SEC_E_ALGORITHM_MISMATCH);
  ck_assert_int_eq (plain_alert (st.token), GNUTLS_A_HANDSHAKE_FAILURE);
  sspid_tls_step_clear (&st);
}
END_TEST

/* ALPN with nothing in common (RFC 7301 section 3.2; gnutls-serv
 * --alpn-fatal): the server refuses with no_application_protocol and
 * SEC_E_APPLICATION_PROTOCOL_MISMATCH, the alert only when the caller
 * asked for extended errors.  A client offering no ALPN, or an id the
 * server has, goes on.  Both TLS versions: ALPN is read from the
 * ClientHello in each. */
START_TEST (test_no_application_protocol_alert)
{
  static const char *const server_ids[] = { "http/1.1", "h2", NULL };
  static const char *const disjoint[] = { "foo", "http/1.", NULL };
  static const char *const shared[] = { "foo", "h2", NULL };
  guint32 protocols = _i == 0 ? SP_PROT_TLS1_3_CLIENT : SP_PROT_TLS1_2_CLIENT;
  const char *const *offers[] = { disjoint, NULL, shared };

  for (int extended = 0; extended < 2; extended++)
    for (gsize o = 0; o < G_N_ELEMENTS (offers); o++)
      {
        g_autoptr (SspidTls) server = new_server_alpn ("server",
                                                       extended ? ASC_REQ_EXTENDED_ERROR : 0,
                                                       server_ids);
        g_autoptr (SspidTls) client = new_client_alpn (protocols, 0, offers[o]);
        g_autoptr (GByteArray) hello = client_hello (client);
        SspidTlsStep st;

        sspid_tls_step (server, hello->data, hello->len, &st);
        if (offers[o] == disjoint)
          {
            ck_assert_msg (st.status == SEC_E_APPLICATION_PROTOCOL_MISMATCH, "0x%08x",
                           (unsigned) st.status);
            ck_assert_int_eq (plain_alert (st.token),
                              extended ? GNUTLS_A_NO_APPLICATION_PROTOCOL : ALERT_NONE);
          }
        else
          ck_assert_msg (st.status == SEC_I_CONTINUE_NEEDED, "offer %" G_GSIZE_FORMAT ": 0x%08x",
                         o, (unsigned) st.status);
        sspid_tls_step_clear (&st);
      }
}
END_TEST

/* A client that refuses the server's certificate (ISC_REQ_EXTENDED_ERROR)
 * tells it why; in TLS 1.3 the alert is protected with the handshake keys,
 * and the server reads it. */
START_TEST (test_client_refusal_alert)
{
  guint32 protocols = _i == 0 ? SP_PROT_TLS1_3_CLIENT : SP_PROT_TLS1_2_CLIENT;
  g_autoptr (SspidTls) server = new_server ("untrusted", 0);
  g_autoptr (SspidTls) client = new_client (protocols, ISC_REQ_EXTENDED_ERROR);
  g_autoptr (GByteArray) hello = client_hello (client);
  SspidTlsStep st, cst;
  int expected_alert, level;

  sspid_tls_step (server, hello->data, hello->len, &st);
  ck_assert_int_eq (st.status, SEC_I_CONTINUE_NEEDED);
  sspid_tls_step (client, g_bytes_get_data (st.token, NULL), g_bytes_get_size (st.token), &cst);
  sspid_tls_step_clear (&st);
  ck_assert_int_eq (cst.status, SEC_E_UNTRUSTED_ROOT);
  ck_assert_uint_gt (g_bytes_get_size (cst.token), 0);

  /* The server, reading it, fails on that fatal alert. */
  sspid_tls_step (server, g_bytes_get_data (cst.token, NULL), g_bytes_get_size (cst.token), &st);
  ck_assert (!SEC_SUCCESS (st.status));
  expected_alert = gnutls_error_to_alert (GNUTLS_E_CERTIFICATE_ERROR, &level);
  ck_assert_int_eq (gnutls_alert_get (server->session), expected_alert);
  sspid_tls_step_clear (&st);
  sspid_tls_step_clear (&cst);
}
END_TEST

/* ---- after a fatal record-layer error ---------------------------------- */

typedef struct {
  SspidTls *client;
  SspidTls *server;
} Pair;

/* One handshake step of @tls on all of @inbox: what it consumed leaves
 * @inbox, what it wrote goes to @peer_inbox. */
static SECURITY_STATUS
step_on (SspidTls *tls, GByteArray *inbox, GByteArray *peer_inbox)
{
  SspidTlsStep st;
  SECURITY_STATUS status;

  sspid_tls_step (tls, inbox->data, inbox->len, &st);
  status = st.status;
  g_byte_array_remove_range (inbox, 0, inbox->len - st.extra);
  g_byte_array_append (peer_inbox, g_bytes_get_data (st.token, NULL),
                       (guint) g_bytes_get_size (st.token));
  sspid_tls_step_clear (&st);
  return status;
}

/* Drives a full handshake between fresh sessions; the server's tickets
 * are read by the client. */
static void
pair_establish (Pair *p, guint32 protocols)
{
  g_autoptr (GByteArray) to_server = NULL;
  g_autoptr (GByteArray) to_client = g_byte_array_new ();
  SECURITY_STATUS cs = SEC_I_CONTINUE_NEEDED, ss = SEC_I_CONTINUE_NEEDED;

  p->server = new_server ("server", ASC_REQ_EXTENDED_ERROR);
  p->client = new_client (protocols, ISC_REQ_EXTENDED_ERROR);
  to_server = client_hello (p->client);
  for (int round = 0; round < 10 && (cs != SEC_E_OK || ss != SEC_E_OK); round++)
    {
      if (to_server->len > 0 && ss != SEC_E_OK)
        ss = step_on (p->server, to_server, to_client);
      if (to_client->len > 0 && cs != SEC_E_OK)
        cs = step_on (p->client, to_client, to_server);
    }
  ck_assert_int_eq (cs, SEC_E_OK);
  ck_assert_int_eq (ss, SEC_E_OK);
  while (to_client->len > 0)
    {
      SspidTlsDecrypt d;
      sspid_tls_decrypt (p->client, to_client->data, to_client->len, &d);
      ck_assert_int_eq (d.status, SEC_E_OK);
      g_byte_array_remove_range (to_client, 0, d.record_size);
      sspid_tls_decrypt_clear (&d);
    }
}

static void
pair_clear (Pair *p)
{
  g_clear_pointer (&p->client, sspid_tls_free);
  g_clear_pointer (&p->server, sspid_tls_free);
}

/* After the server's DecryptMessage failed: its next step hands over the
 * alert (SEC_I_CONTEXT_EXPIRED), the client reads @alert from it, and the
 * step after that has nothing more. */
static void
assert_server_owes (Pair *p, int alert)
{
  SspidTlsStep st;
  GBytes *record = NULL;

  ck_assert_int_eq (sspid_tls_encrypt (p->server, (const guint8 *) "x", 1, &record),
                    SEC_E_CONTEXT_EXPIRED);
  sspid_tls_step (p->server, NULL, 0, &st);
  ck_assert_int_eq (st.status, SEC_I_CONTEXT_EXPIRED);
  ck_assert_int_eq (read_alert (p->client, st.token), alert);
  sspid_tls_step_clear (&st);
  sspid_tls_step (p->server, NULL, 0, &st);
  ck_assert_int_eq (st.status, SEC_I_CONTEXT_EXPIRED);
  ck_assert_uint_eq (g_bytes_get_size (st.token), 0);
  sspid_tls_step_clear (&st);
}

static void
server_decrypts (Pair *p, const guint8 *bytes, gsize len, SECURITY_STATUS expected)
{
  SspidTlsDecrypt d;

  sspid_tls_decrypt (p->server, bytes, len, &d);
  ck_assert_msg (d.status == expected, "DecryptMessage: 0x%08x, expected 0x%08x",
                 (unsigned) d.status, (unsigned) expected);
  ck_assert_uint_eq (g_bytes_get_size (d.plaintext), 0);
  sspid_tls_decrypt_clear (&d);
}

static guint32
loop_protocol (int i)
{
  return i == 0 ? SP_PROT_TLS1_3_CLIENT : SP_PROT_TLS1_2_CLIENT;
}

/* A flipped bit: bad_record_mac.  A close_notify asked for afterwards is
 * not sent: nothing follows a fatal alert. */
START_TEST (test_bad_mac_alert)
{
  g_autoptr (GBytes) record = NULL;
  g_autofree guint8 *copy = NULL;
  gsize n;
  Pair p;

  pair_establish (&p, loop_protocol (_i));
  ck_assert_int_eq (sspid_tls_encrypt (p.client, (const guint8 *) "attack at dawn", 14, &record),
                    SEC_E_OK);
  copy = g_memdup2 (g_bytes_get_data (record, &n), g_bytes_get_size (record));
  copy[n - 3] ^= 0x40;
  server_decrypts (&p, copy, n, SEC_E_DECRYPT_FAILURE);
  sspid_tls_queue_alert (p.server, GNUTLS_AL_WARNING, GNUTLS_A_CLOSE_NOTIFY);
  assert_server_owes (&p, GNUTLS_A_BAD_RECORD_MAC);
  pair_clear (&p);
}
END_TEST

/* Headers that cannot be a record, after the handshake: the alerts
 * gnutls-serv sends for them. */
START_TEST (test_bad_header_alert)
{
  static const struct { guint8 header[5]; gsize len; int alert; } bad[] = {
    { { 'G', 'E', 'T', ' ', '/' }, 5, GNUTLS_A_UNEXPECTED_MESSAGE },
    { { 30, 3, 3, 0, 1 }, 1, GNUTLS_A_UNEXPECTED_MESSAGE },
    { { 23, 2, 0, 0, 1 }, 2, GNUTLS_A_PROTOCOL_VERSION },
    { { 23, 3, 3, 0xff, 0xff }, 5, GNUTLS_A_RECORD_OVERFLOW },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      Pair p;

      pair_establish (&p, loop_protocol (_i));
      server_decrypts (&p, bad[i].header, bad[i].len, SEC_E_INVALID_TOKEN);
      assert_server_owes (&p, bad[i].alert);
      pair_clear (&p);
    }
}
END_TEST

/* A whole record longer than GnuTLS takes in TLS 1.3 (2^14 + 256 bytes of
 * ciphertext) but short enough for the framing: GnuTLS's record_overflow. */
START_TEST (test_record_overflow_alert)
{
  gsize body = 16384 + 256 + 1;
  g_autofree guint8 *record = g_malloc0 (5 + body);
  Pair p;

  pair_establish (&p, SP_PROT_TLS1_3_CLIENT);
  record[0] = 23;
  record[1] = 3;
  record[2] = 3;
  record[3] = (guint8) (body >> 8);
  record[4] = (guint8) body;
  server_decrypts (&p, record, 5 + body, SEC_E_ILLEGAL_MESSAGE);
  assert_server_owes (&p, GNUTLS_A_RECORD_OVERFLOW);
  pair_clear (&p);
}
END_TEST

/* The peer's own fatal alert is not answered with one. */
START_TEST (test_no_alert_for_an_alert)
{
  SspidTlsStep st;
  SspidTlsDecrypt d;
  Pair p;

  pair_establish (&p, loop_protocol (_i));
  sspid_tls_queue_alert (p.client, GNUTLS_AL_FATAL, GNUTLS_A_INTERNAL_ERROR);
  sspid_tls_step (p.client, NULL, 0, &st);
  ck_assert_int_eq (st.status, SEC_E_OK);
  sspid_tls_decrypt (p.server, g_bytes_get_data (st.token, NULL), g_bytes_get_size (st.token), &d);
  ck_assert (!SEC_SUCCESS (d.status));
  sspid_tls_decrypt_clear (&d);
  sspid_tls_step_clear (&st);
  sspid_tls_step (p.server, NULL, 0, &st);
  ck_assert_int_eq (st.status, SEC_I_CONTEXT_EXPIRED);
  ck_assert_uint_eq (g_bytes_get_size (st.token), 0);
  sspid_tls_step_clear (&st);
  pair_clear (&p);
}
END_TEST

/* ---- large and fragmented handshake messages ------------------------- */

static guint
get_u16 (const guint8 *p)
{
  return ((guint) p[0] << 8) | p[1];
}

static void
put_u16 (guint8 *p, gsize v)
{
  p[0] = (guint8) (v >> 8);
  p[1] = (guint8) v;
}

/* @hello (one ClientHello record from GnuTLS) with a padding extension
 * (RFC 7685) of @pad bytes put first among its extensions, cut into
 * handshake records of at most @frag bytes each. */
static GByteArray *
padded_hello (const GByteArray *hello, gsize pad, gsize frag)
{
  const guint8 *msg = hello->data + 5;
  gsize msg_len = ((gsize) msg[1] << 16) | get_u16 (msg + 2);
  gsize pos = 4 + 2 + 32;
  g_autoptr (GByteArray) body = g_byte_array_new ();
  GByteArray *out = g_byte_array_new ();
  guint8 head[4] = { 1, 0, 0, 0 };
  guint8 ext[4] = { 0, 21, 0, 0 };
  gsize exts;

  ck_assert_uint_eq (hello->len, 5 + 4 + msg_len);   /* one record, one message */
  pos += 1 + msg[pos];                     /* session id */
  pos += 2 + get_u16 (msg + pos);          /* cipher suites */
  pos += 1 + msg[pos];                     /* compression methods */
  exts = get_u16 (msg + pos);
  ck_assert_uint_eq (pos + 2 + exts, 4 + msg_len);
  ck_assert_uint_le (exts + 4 + pad, 0xffff);

  g_byte_array_append (body, msg + 4, (guint) (pos - 4));
  {
    guint8 len[2];
    put_u16 (len, exts + 4 + pad);
    g_byte_array_append (body, len, 2);
  }
  put_u16 (ext + 2, pad);
  g_byte_array_append (body, ext, 4);
  g_byte_array_set_size (body, body->len + (guint) pad);
  memset (body->data + body->len - pad, 0, pad);
  g_byte_array_append (body, msg + pos + 2, (guint) exts);

  head[1] = (guint8) (body->len >> 16);
  put_u16 (head + 2, body->len);
  g_byte_array_prepend (body, head, 4);
  for (gsize off = 0; off < body->len; off += frag)
    {
      gsize n = MIN (frag, body->len - off);
      guint8 rec[5] = { 22, 3, 1, 0, 0 };

      put_u16 (rec + 3, n);
      g_byte_array_append (out, rec, 5);
      g_byte_array_append (out, body->data + off, (guint) n);
    }
  return out;
}

/* ClientHellos of 8, 16 and 64 KiB, in records of 16 KiB, 1000 bytes and 1
 * byte (the last only for the smallest), given to the server all at once
 * or a record per step: the server answers with its ServerHello, as
 * GnuTLS does (a ClientHello's extensions cannot exceed 64 KiB).
 * tlsfuzzer's test-large-hello and test-record-layer-fragmentation send
 * these. */
static const struct { gsize pad, frag; } large_hellos[] = {
  { 8192, 16384 }, { 16384, 16384 }, { 65000, 16384 },
  { 8192, 1000 }, { 16384, 1000 }, { 65000, 1000 }, { 8192, 1 },
};

START_TEST (test_large_hello)
{
  for (int per_record = 0; per_record < 2; per_record++)
    for (int tls13 = 0; tls13 < 2; tls13++)
      {
        g_autoptr (SspidTls) server = new_server ("server", ASC_REQ_EXTENDED_ERROR);
        g_autoptr (SspidTls) client = new_client (tls13 ? SP_PROT_TLS1_3_CLIENT
                                                        : SP_PROT_TLS1_2_CLIENT, 0);
        g_autoptr (GByteArray) hello = client_hello (client);
        g_autoptr (GByteArray) wire = padded_hello (hello, large_hellos[_i].pad,
                                                    large_hellos[_i].frag);
        gsize off = 0;
        SspidTlsStep st = { 0 };

        while (off < wire->len)
          {
            gsize n = per_record ? 5 + get_u16 (wire->data + off + 3) : wire->len - off;

            sspid_tls_step_clear (&st);
            sspid_tls_step (server, wire->data + off, n, &st);
            ck_assert_msg (st.status == SEC_I_CONTINUE_NEEDED,
                           "%zu-byte padding in %zu-byte records: 0x%08x at byte %zu",
                           large_hellos[_i].pad, large_hellos[_i].frag,
                           (unsigned) st.status, off);
            ck_assert_uint_eq (st.extra, 0);
            off += n;
            if (off < wire->len)
              ck_assert_uint_eq (g_bytes_get_size (st.token), 0);
          }
        /* The ServerHello (a handshake record) is the answer. */
        ck_assert_uint_gt (g_bytes_get_size (st.token), 5);
        ck_assert_uint_eq (((const guint8 *) g_bytes_get_data (st.token, NULL))[0], 22);
        sspid_tls_step_clear (&st);
      }
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "handshake", setup, es_teardown, 0, { { test_bad_hello_alert, G_N_ELEMENTS (bad_hellos) },
                                         { test_no_common_suite_alert },
                                         { test_client_refusal_alert, 2 },
                                         { test_no_application_protocol_alert, 2 },
                                         { test_large_hello, G_N_ELEMENTS (large_hellos) } } },
    { "records", setup, es_teardown, 0, { { test_bad_mac_alert, 2 }, { test_bad_header_alert, 2 },
                                       { test_record_overflow_alert },
                                       { test_no_alert_for_an_alert, 2 } } },
  };

  return tu_run_cases ("alerts", cases, G_N_ELEMENTS (cases));
}
