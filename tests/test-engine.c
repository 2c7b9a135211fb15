/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The TLS engine on its own, without a bus: a client and a server session
 * from the daemon's credential store talk through Schannel's token
 * interface, and every token rule of REFERENCE.md is checked at the byte
 * level (EXTRA, MISSING, garbage, certificate errors, client certificates).
 */
#include "config.h"

#include <check.h>
#include <string.h>

#include "engine-store.h"
#include "schannel.h"
#include "sspid-config.h"
#include "sspid-credential.h"
#include "sspid-describe.h"
#include "sspid-tls.h"
#include "sspid-tls-private.h"
#include "testutil.h"

static void
setup (void)
{
  g_autoptr (GString) conf = es_config_new ();
  const char *inbound[] = { "server", "expired", "wrongname", "untrusted" };

  for (gsize i = 0; i < G_N_ELEMENTS (inbound); i++)
    es_config_add (conf, inbound[i], inbound[i], "inbound", "");
  es_config_add (conf, "client", "client", "outbound", "");
  /* The server's certificate again, asking for the client's. */
  es_config_add (conf, "mtls", "server", "inbound", "client-auth=require\n");
  es_setup (conf);
}

static SspidCredential *
acquire (const char *name, guint32 use, guint32 protocols)
{
  SspidCredential *cred = NULL;
  SECURITY_STATUS st = sspid_credential_store_acquire (es_store, name, use, protocols, 0, &es_me, &cred);

  ck_assert_msg (st == SEC_E_OK, "acquire %s: 0x%08x", name ? name : "(anonymous)", (unsigned) st);
  return cred;
}

/* One side of a conversation: the bytes it has received and not consumed. */
typedef struct {
  SspidTls       *tls;
  GByteArray     *inbox;
  SECURITY_STATUS status;
  guint           steps;
} Side;

/* Runs one step of @self on its inbox and delivers the output to @peer. */
static void
step (Side *self, Side *peer)
{
  SspidTlsStep st;

  sspid_tls_step (self->tls, self->inbox->data, self->inbox->len, &st);
  self->status = st.status;
  self->steps++;
  if (st.status == SEC_E_INCOMPLETE_MESSAGE)
    {
      ck_assert_uint_gt (st.missing, 0);
      sspid_tls_step_clear (&st);
      return;
    }
  ck_assert_uint_le (st.extra, self->inbox->len);
  g_byte_array_remove_range (self->inbox, 0, self->inbox->len - st.extra);
  g_byte_array_append (peer->inbox, g_bytes_get_data (st.token, NULL), (guint) g_bytes_get_size (st.token));
  sspid_tls_step_clear (&st);
}

static gboolean
is_running (SECURITY_STATUS st)
{
  return st == SEC_I_CONTINUE_NEEDED || st == SEC_E_INCOMPLETE_MESSAGE;
}

/* Drives both sides to the end; returns when neither can make progress. */
static void
converse (Side *client, Side *server)
{
  step (client, server);
  for (int round = 0; round < 20; round++)
    {
      if (server->inbox->len > 0 && (server->steps == 0 || is_running (server->status)))
        step (server, client);
      if (client->inbox->len > 0 && is_running (client->status))
        step (client, server);
      else if (!(server->inbox->len > 0 && is_running (server->status)))
        break;
    }
}

static void
side_init (Side *side, SspidTls *tls)
{
  side->tls = tls;
  side->inbox = g_byte_array_new ();
  side->status = SEC_I_CONTINUE_NEEDED;
  side->steps = 0;
}

static void
side_clear (Side *side)
{
  g_clear_pointer (&side->tls, sspid_tls_free);
  g_clear_pointer (&side->inbox, g_byte_array_unref);
}

/* QueryContext's dictionary of @tls: the engine's facts as the D-Bus
 * front encodes them. */
static GVariant *
query_info (SspidTls *tls)
{
  g_autoptr (SspidTlsInfo) info = sspid_tls_get_info (tls);

  return sspid_describe_tls (info);
}

static void
pair (Side *client, Side *server, const char *client_cred, const char *server_cred,
      const char *target, guint32 protocols, guint32 isc_req,
      const char *const *client_alpn, const char *const *server_alpn)
{
  g_autoptr (SspidCredential) c = acquire (client_cred, SECPKG_CRED_OUTBOUND, protocols);
  g_autoptr (SspidCredential) s = acquire (server_cred, SECPKG_CRED_INBOUND, 0);
  SspidTls *ct = NULL, *stls = NULL;

  ck_assert_int_eq (sspid_tls_new_client (c, target, isc_req, client_alpn, &ct), SEC_E_OK);
  ck_assert_int_eq (sspid_tls_new_server (s, 0, server_alpn, &stls), SEC_E_OK);
  side_init (client, ct);
  side_init (server, stls);
}

static guint32
info_u32 (SspidTls *tls, const char *key)
{
  g_autoptr (GVariant) info = g_variant_ref_sink (query_info (tls));
  guint32 v = 0;

  ck_assert_msg (g_variant_lookup (info, key, "u", &v), "no %s", key);
  return v;
}

static gboolean
info_resumed (SspidTls *tls)
{
  g_autoptr (GVariant) info = g_variant_ref_sink (query_info (tls));
  gboolean resumed = FALSE;

  ck_assert (g_variant_lookup (info, "resumed", "b", &resumed));
  return resumed;
}

/* Feeds whatever the server sent after the handshake (TLS 1.3 tickets)
 * through the client's record layer. */
static void
drain_client (Side *c)
{
  while (c->inbox->len > 0)
    {
      SspidTlsDecrypt d;
      sspid_tls_decrypt (c->tls, c->inbox->data, c->inbox->len, &d);
      ck_assert_int_eq (d.status, SEC_E_OK);
      ck_assert_uint_eq (g_bytes_get_size (d.plaintext), 0);
      g_byte_array_remove_range (c->inbox, 0, d.record_size);
      sspid_tls_decrypt_clear (&d);
    }
}

static void
check_handshake (guint32 protocols, guint32 expect_bit)
{
  Side c, s;

  pair (&c, &s, NULL, "server", "localhost", protocols, 0, NULL, NULL);
  converse (&c, &s);
  ck_assert_int_eq (c.status, SEC_E_OK);
  ck_assert_int_eq (s.status, SEC_E_OK);
  ck_assert (sspid_tls_is_established (c.tls));
  ck_assert (sspid_tls_is_established (s.tls));
  drain_client (&c);   /* TLS 1.3 tickets follow the handshake */
  ck_assert_uint_eq (s.inbox->len, 0);
  ck_assert_uint_eq (info_u32 (c.tls, "protocol"), expect_bit);
  /* Both ends derive the same channel bindings. */
  {
    g_autoptr (GVariant) ci = g_variant_ref_sink (query_info (c.tls));
    g_autoptr (GVariant) si = g_variant_ref_sink (query_info (s.tls));
    const char *keys[] = { "tls-server-end-point", "tls-exporter" };
    for (gsize k = 0; k < G_N_ELEMENTS (keys); k++)
      {
        g_autoptr (GVariant) a = g_variant_lookup_value (ci, keys[k], G_VARIANT_TYPE_BYTESTRING);
        g_autoptr (GVariant) b = g_variant_lookup_value (si, keys[k], G_VARIANT_TYPE_BYTESTRING);
        ck_assert_msg (a != NULL && b != NULL, "%s missing", keys[k]);
        ck_assert (g_variant_equal (a, b));
      }
  }
  side_clear (&c);
  side_clear (&s);
}

START_TEST (test_tls13)
{
  check_handshake (SP_PROT_TLS1_3_CLIENT, SP_PROT_TLS1_3_CLIENT);
}
END_TEST

START_TEST (test_tls12)
{
  check_handshake (SP_PROT_TLS1_2_CLIENT, SP_PROT_TLS1_2_CLIENT);
}
END_TEST

START_TEST (test_alpn)
{
  const char *client_alpn[] = { "h2", "http/1.1", NULL };
  const char *server_alpn[] = { "http/1.1", NULL };
  g_autoptr (GVariant) info = NULL;
  const guint8 *id;
  gsize len;
  Side c, s;

  pair (&c, &s, NULL, "server", "localhost", 0, 0, client_alpn, server_alpn);
  converse (&c, &s);
  ck_assert_int_eq (c.status, SEC_E_OK);
  info = g_variant_ref_sink (query_info (c.tls));
  {
    g_autoptr (GVariant) alpn = g_variant_lookup_value (info, "alpn", G_VARIANT_TYPE_BYTESTRING);
    ck_assert (alpn != NULL);
    id = g_variant_get_fixed_array (alpn, &len, 1);
    ck_assert_uint_eq (len, 8);
    ck_assert (memcmp (id, "http/1.1", 8) == 0);
  }
  side_clear (&c);
  side_clear (&s);
}
END_TEST

/* Bytes arriving one at a time: INCOMPLETE_MESSAGE with exactly the count
 * still missing, then the step goes through once the record is whole. */
START_TEST (test_incomplete_and_missing)
{
  SspidTlsStep st;
  g_autoptr (GBytes) hello = NULL;
  const guint8 *data;
  gsize len, record_len;
  Side c, s;

  pair (&c, &s, NULL, "server", "localhost", 0, 0, NULL, NULL);
  sspid_tls_step (c.tls, NULL, 0, &st);
  ck_assert_int_eq (st.status, SEC_I_CONTINUE_NEEDED);
  hello = g_bytes_ref (st.token);
  sspid_tls_step_clear (&st);
  data = g_bytes_get_data (hello, &len);
  ck_assert_uint_gt (len, 5);
  record_len = 5 + (((gsize) data[3] << 8) | data[4]);
  ck_assert_uint_eq (record_len, len);   /* the ClientHello is one record */

  /* Nothing at all: 5 bytes missing (a record header). */
  sspid_tls_step (s.tls, data, 0, &st);
  ck_assert_int_eq (st.status, SEC_E_INCOMPLETE_MESSAGE);
  ck_assert_uint_eq (st.missing, 5);
  ck_assert_uint_eq (g_bytes_get_size (st.token), 0);
  sspid_tls_step_clear (&st);

  for (gsize have = 1; have < len; have++)
    {
      sspid_tls_step (s.tls, data, have, &st);
      ck_assert_int_eq (st.status, SEC_E_INCOMPLETE_MESSAGE);
      ck_assert_uint_eq (st.missing, have < 5 ? 5 - have : record_len - have);
      sspid_tls_step_clear (&st);
    }
  sspid_tls_step (s.tls, data, len, &st);
  ck_assert_int_eq (st.status, SEC_I_CONTINUE_NEEDED);
  ck_assert_uint_eq (st.extra, 0);
  ck_assert_uint_gt (g_bytes_get_size (st.token), 0);
  sspid_tls_step_clear (&st);
  side_clear (&c);
  side_clear (&s);
}
END_TEST

/* Whatever follows the last handshake record comes back as EXTRA, byte
 * exact, whether it is a whole record or the start of one. */
START_TEST (test_extra)
{
  static const guint8 app_record[] = { 23, 3, 3, 0, 3, 'a', 'b', 'c', 23, 3 };
  g_autoptr (SspidCredential) cc = acquire (NULL, SECPKG_CRED_OUTBOUND, SP_PROT_TLS1_3_CLIENT);
  g_autoptr (SspidCredential) sc = NULL;
  SspidTls *ct = NULL, *stls = NULL;
  Side c, s;

  /* No tickets, so the server's flight is exactly its handshake. */
  ck_assert_int_eq (sspid_credential_store_acquire (es_store, "server", SECPKG_CRED_INBOUND, 0,
                                                    SCH_CRED_DISABLE_RECONNECTS, &es_me, &sc), SEC_E_OK);
  ck_assert_int_eq (sspid_tls_new_client (cc, "localhost", 0, NULL, &ct), SEC_E_OK);
  ck_assert_int_eq (sspid_tls_new_server (sc, 0, NULL, &stls), SEC_E_OK);
  side_init (&c, ct);
  side_init (&s, stls);
  step (&c, &s);                       /* ClientHello */
  step (&s, &c);                       /* ServerHello .. Finished */
  g_byte_array_append (c.inbox, app_record, sizeof app_record);
  {
    SspidTlsStep st;
    sspid_tls_step (c.tls, c.inbox->data, c.inbox->len, &st);
    ck_assert_int_eq (st.status, SEC_E_OK);
    ck_assert_uint_eq (st.extra, sizeof app_record);
    ck_assert_uint_gt (g_bytes_get_size (st.token), 0);   /* client Finished */
    sspid_tls_step_clear (&st);
  }
  side_clear (&c);
  side_clear (&s);
}
END_TEST

START_TEST (test_garbage)
{
  static const guint8 garbage[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  static const guint8 oversized[] = { 22, 3, 1, 0xff, 0xff };
  SspidTlsStep st;
  Side c, s;

  pair (&c, &s, NULL, "server", "localhost", 0, 0, NULL, NULL);
  sspid_tls_step (s.tls, garbage, sizeof garbage - 1, &st);
  ck_assert_int_eq (st.status, SEC_E_INVALID_TOKEN);
  ck_assert_uint_eq (g_bytes_get_size (st.token), 0);
  sspid_tls_step_clear (&st);
  /* The context stays failed. */
  sspid_tls_step (s.tls, garbage, 3, &st);
  ck_assert_int_eq (st.status, SEC_E_INVALID_TOKEN);
  sspid_tls_step_clear (&st);
  side_clear (&c);
  side_clear (&s);

  pair (&c, &s, NULL, "server", "localhost", 0, 0, NULL, NULL);
  sspid_tls_step (s.tls, oversized, sizeof oversized, &st);
  ck_assert_int_eq (st.status, SEC_E_INVALID_TOKEN);
  sspid_tls_step_clear (&st);
  side_clear (&c);
  side_clear (&s);
}
END_TEST

/* A well-framed record with nonsense inside is a protocol violation: here
 * a Finished message where the server expects a ClientHello. */
START_TEST (test_illegal_message)
{
  static const guint8 bogus[] = { 22, 3, 1, 0, 4, 20, 0, 0, 0 };
  SspidTlsStep st;
  Side c, s;

  pair (&c, &s, NULL, "server", "localhost", 0, 0, NULL, NULL);
  sspid_tls_step (s.tls, bogus, sizeof bogus, &st);
  ck_assert_msg (st.status == SEC_E_ILLEGAL_MESSAGE || st.status == SEC_E_INVALID_TOKEN,
                 "status 0x%08x", (unsigned) st.status);
  ck_assert_uint_eq (g_bytes_get_size (st.token), 0);
  sspid_tls_step_clear (&st);
  side_clear (&c);
  side_clear (&s);
}
END_TEST

static void
check_server_refused (const char *server_cred, const char *target, SECURITY_STATUS expect)
{
  Side c, s;

  pair (&c, &s, NULL, server_cred, target, 0, 0, NULL, NULL);
  converse (&c, &s);
  ck_assert_msg (c.status == expect, "%s: client status 0x%08x, expected 0x%08x",
                 server_cred, (unsigned) c.status, (unsigned) expect);
  ck_assert (!sspid_tls_is_established (c.tls));
  side_clear (&c);
  side_clear (&s);

  /* With manual validation the same handshake completes. */
  pair (&c, &s, NULL, server_cred, target, 0, ISC_REQ_MANUAL_CRED_VALIDATION, NULL, NULL);
  converse (&c, &s);
  ck_assert_int_eq (c.status, SEC_E_OK);
  ck_assert_int_eq (s.status, SEC_E_OK);
  side_clear (&c);
  side_clear (&s);
}

START_TEST (test_untrusted)
{
  check_server_refused ("untrusted", "localhost", SEC_E_UNTRUSTED_ROOT);
}
END_TEST

START_TEST (test_wrong_name)
{
  check_server_refused ("wrongname", "localhost", SEC_E_WRONG_PRINCIPAL);
}
END_TEST

START_TEST (test_expired)
{
  check_server_refused ("expired", "localhost", SEC_E_CERT_EXPIRED);
}
END_TEST

START_TEST (test_client_certificate)
{
  g_autoptr (GVariant) info = NULL;
  g_autoptr (GVariant) peers = NULL;
  Side c, s;

  pair (&c, &s, "client", "mtls", "localhost", 0, 0, NULL, NULL);
  converse (&c, &s);
  ck_assert_int_eq (c.status, SEC_E_OK);
  ck_assert_int_eq (s.status, SEC_E_OK);
  info = g_variant_ref_sink (query_info (s.tls));
  peers = g_variant_lookup_value (info, "peer-certificates", G_VARIANT_TYPE ("aay"));
  ck_assert (peers != NULL);
  ck_assert_uint_ge (g_variant_n_children (peers), 1);
  side_clear (&c);
  side_clear (&s);
}
END_TEST

/* An anonymous client facing a server that requires a certificate is told
 * SEC_I_INCOMPLETE_CREDENTIALS once; passing the same input again goes on
 * anonymously, and the server then refuses. */
static void
check_incomplete_credentials (guint32 protocols)
{
  SspidTlsStep st;
  Side c, s;

  pair (&c, &s, NULL, "mtls", "localhost", protocols, 0, NULL, NULL);
  step (&c, &s);
  step (&s, &c);
  sspid_tls_step (c.tls, c.inbox->data, c.inbox->len, &st);
  ck_assert_int_eq (st.status, SEC_I_INCOMPLETE_CREDENTIALS);
  ck_assert_uint_eq (g_bytes_get_size (st.token), 0);
  sspid_tls_step_clear (&st);

  /* Same input again, as Schannel callers do. */
  sspid_tls_step (c.tls, c.inbox->data, c.inbox->len, &st);
  ck_assert_msg (st.status == SEC_E_OK || st.status == SEC_I_CONTINUE_NEEDED,
                 "0x%08x", (unsigned) st.status);
  ck_assert_uint_eq (st.extra, 0);
  ck_assert_uint_gt (g_bytes_get_size (st.token), 0);
  g_byte_array_set_size (c.inbox, 0);
  g_byte_array_append (s.inbox, g_bytes_get_data (st.token, NULL), (guint) g_bytes_get_size (st.token));
  sspid_tls_step_clear (&st);

  step (&s, &c);
  ck_assert_int_eq (s.status, SEC_E_INCOMPLETE_CREDENTIALS);
  side_clear (&c);
  side_clear (&s);
}

START_TEST (test_incomplete_credentials_tls13)
{
  check_incomplete_credentials (SP_PROT_TLS1_3_CLIENT);
}
END_TEST

START_TEST (test_incomplete_credentials_tls12)
{
  check_incomplete_credentials (SP_PROT_TLS1_2_CLIENT);
}
END_TEST

START_TEST (test_acquire_rules)
{
  SspidCredential *cred = NULL;
  SspidIdentity stranger = { .uid = 4242, .pid = 1 };

  ck_assert_int_eq (sspid_credential_store_acquire (es_store, "nonexistent", SECPKG_CRED_INBOUND, 0, 0, &es_me, &cred),
                    SEC_E_UNKNOWN_CREDENTIALS);
  /* Not allowed looks exactly like not configured. */
  ck_assert_int_eq (sspid_credential_store_acquire (es_store, "server", SECPKG_CRED_INBOUND, 0, 0, &stranger, &cred),
                    SEC_E_UNKNOWN_CREDENTIALS);
  /* Usage is enforced. */
  ck_assert_int_eq (sspid_credential_store_acquire (es_store, "server", SECPKG_CRED_OUTBOUND, 0, 0, &es_me, &cred),
                    SEC_E_UNKNOWN_CREDENTIALS);
  /* An inbound credential needs a principal. */
  ck_assert_int_eq (sspid_credential_store_acquire (es_store, NULL, SECPKG_CRED_INBOUND, 0, 0, &es_me, &cred),
                    SEC_E_NO_CREDENTIALS);
  /* Only protocols we cannot speak. */
  ck_assert_int_eq (sspid_credential_store_acquire (es_store, NULL, SECPKG_CRED_OUTBOUND, SP_PROT_SSL3_CLIENT, 0, &es_me, &cred),
                    SEC_E_ALGORITHM_MISMATCH);
  ck_assert (cred == NULL);
}
END_TEST

/* Client restricted to TLS 1.2, server to TLS 1.3: no common version. */
START_TEST (test_protocol_mismatch)
{
  g_autoptr (SspidCredential) c = acquire (NULL, SECPKG_CRED_OUTBOUND, SP_PROT_TLS1_2_CLIENT);
  g_autoptr (SspidCredential) sc = NULL;
  SspidTls *ct = NULL, *stls = NULL;
  Side client, server;

  ck_assert_int_eq (sspid_credential_store_acquire (es_store, "server", SECPKG_CRED_INBOUND,
                                                    SP_PROT_TLS1_3_SERVER, 0, &es_me, &sc), SEC_E_OK);
  ck_assert_int_eq (sspid_tls_new_client (c, "localhost", 0, NULL, &ct), SEC_E_OK);
  ck_assert_int_eq (sspid_tls_new_server (sc, 0, NULL, &stls), SEC_E_OK);
  side_init (&client, ct);
  side_init (&server, stls);
  converse (&client, &server);
  ck_assert (!sspid_tls_is_established (client.tls));
  ck_assert (!sspid_tls_is_established (server.tls));
  ck_assert (server.status != SEC_E_OK && !is_running (server.status));
  side_clear (&client);
  side_clear (&server);
}
END_TEST

/* An established TLS 1.3 (or 1.2) pair, ready for records. */
static void
established_pair (Side *c, Side *s, guint32 protocols)
{
  pair (c, s, NULL, "server", "localhost", protocols, 0, NULL, NULL);
  converse (c, s);
  ck_assert_int_eq (c->status, SEC_E_OK);
  ck_assert_int_eq (s->status, SEC_E_OK);
  drain_client (c);
}

static GBytes *
seal (SspidTls *tls, const guint8 *data, gsize len)
{
  GBytes *record = NULL;

  ck_assert_int_eq (sspid_tls_encrypt (tls, data, len, &record), SEC_E_OK);
  return record;
}

/* Decrypting the @n bytes at @p with @tls must succeed with @plain_len
 * bytes of plaintext. */
static void
assert_opens (SspidTls *tls, const guint8 *p, gsize n, gsize plain_len)
{
  SspidTlsDecrypt d;

  sspid_tls_decrypt (tls, p, n, &d);
  ck_assert_int_eq (d.status, SEC_E_OK);
  ck_assert_uint_eq (g_bytes_get_size (d.plaintext), plain_len);
  sspid_tls_decrypt_clear (&d);
}

/* Records of 0, 1, 1000 and 16384 bytes both ways; sizes match STREAM_SIZES. */
static void
check_roundtrip (guint32 protocols)
{
  static const gsize sizes[] = { 0, 1, 1000, 16384 };
  g_autofree guint8 *data = g_malloc (16384);
  Side c, s;

  for (gsize i = 0; i < 16384; i++)
    data[i] = (guint8) (i * 7 + 3);
  established_pair (&c, &s, protocols);
  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    for (int dir = 0; dir < 2; dir++)
      {
        SspidTls *from = dir ? s.tls : c.tls, *to = dir ? c.tls : s.tls;
        g_autoptr (GBytes) record = seal (from, data, sizes[i]);
        SspidTlsDecrypt d;

        if (sizes[i] == 0 && g_bytes_get_size (record) == 0)
          {
            /* TLS 1.2: nothing to send for nothing (GnuTLS cannot write an
             * empty AEAD record); TLS 1.3 sends a real empty record. */
            ck_assert_uint_eq (protocols, SP_PROT_TLS1_2_CLIENT);
            continue;
          }
        /* Fits the STREAM_SIZES layout, at most one byte under it. */
        ck_assert_uint_le (g_bytes_get_size (record),
                           info_u32 (from, "header-size") + sizes[i] + info_u32 (from, "trailer-size"));
        ck_assert_uint_ge (g_bytes_get_size (record) + 1,
                           info_u32 (from, "header-size") + sizes[i] + info_u32 (from, "trailer-size"));
        sspid_tls_decrypt (to, g_bytes_get_data (record, NULL), g_bytes_get_size (record), &d);
        ck_assert_int_eq (d.status, SEC_E_OK);
        ck_assert_uint_eq (g_bytes_get_size (d.plaintext), sizes[i]);
        ck_assert (sizes[i] == 0 || memcmp (g_bytes_get_data (d.plaintext, NULL), data, sizes[i]) == 0);
        ck_assert_uint_eq (d.record_size, g_bytes_get_size (record));
        ck_assert_uint_eq (d.extra, 0);
        sspid_tls_decrypt_clear (&d);
      }
  /* Too much for one record. */
  {
    g_autofree guint8 *big = g_malloc0 (16385);
    GBytes *record = NULL;
    ck_assert_int_eq (sspid_tls_encrypt (c.tls, big, 16385, &record), SEC_E_INVALID_PARAMETER);
    ck_assert_ptr_null (record);
  }
  side_clear (&c);
  side_clear (&s);
}

START_TEST (test_records_tls13)
{
  check_roundtrip (SP_PROT_TLS1_3_CLIENT);
}
END_TEST

START_TEST (test_records_tls12)
{
  check_roundtrip (SP_PROT_TLS1_2_CLIENT);
}
END_TEST

/* Cipher suites whose records are laid out differently: the header has
 * no explicit nonce, an 8-byte one (TLS 1.2 GCM/CCM) or a 16-byte IV (CBC
 * since TLS 1.1); the trailer is a tag, a tag and the TLS 1.3 content type,
 * or a MAC and 1 to 16 bytes of padding (CBC). */
typedef struct {
  const char *priority;
  guint32     header;   /* expected STREAM_SIZES cbHeader */
  guint32     trailer;  /* expected cbTrailer */
} SuiteLayout;

#define TLS12_ONLY "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:-MAC-ALL:"
static const SuiteLayout suite_layouts[] = {
  { TLS12_ONLY "+AES-128-CBC:+SHA1", 5 + 16, 20 + 16 },
  { TLS12_ONLY "+AES-256-CBC:+SHA1", 5 + 16, 20 + 16 },
  { TLS12_ONLY "+AES-128-CBC:+SHA256", 5 + 16, 32 + 16 },
  { TLS12_ONLY "+AES-256-CBC:+SHA384", 5 + 16, 48 + 16 },
  { TLS12_ONLY "+AES-128-GCM:+AEAD", 5 + 8, 16 },
  { TLS12_ONLY "+AES-128-CCM:+AEAD", 5 + 8, 16 },
  { TLS12_ONLY "+CHACHA20-POLY1305:+AEAD", 5, 16 },
  { "NORMAL:-VERS-ALL:+VERS-TLS1.3", 5, 16 + 2 },
};

/* Every record EncryptMessage makes fits the layout STREAM_SIZES reports
 * (a caller sizes its buffers from it), for every suite: CBC suites once
 * got a trailer of 0 and every EncryptMessage failed. */
START_TEST (test_records_layout)
{
  const SuiteLayout *suite = &suite_layouts[_i];
  g_autofree guint8 *data = g_malloc (16384);
  guint32 header, trailer;
  Side c, s;

  for (gsize i = 0; i < 16384; i++)
    data[i] = (guint8) (i * 13 + 1);
  pair (&c, &s, NULL, "server", "localhost", 0, 0, NULL, NULL);
  ck_assert_int_eq (gnutls_priority_set_direct (c.tls->session, suite->priority, NULL), 0);
  ck_assert_int_eq (gnutls_priority_set_direct (s.tls->session, suite->priority, NULL), 0);
  converse (&c, &s);
  ck_assert_int_eq (c.status, SEC_E_OK);
  ck_assert_int_eq (s.status, SEC_E_OK);
  drain_client (&c);

  header = info_u32 (c.tls, "header-size");
  trailer = info_u32 (c.tls, "trailer-size");
  ck_assert_uint_eq (header, suite->header);
  ck_assert_uint_eq (trailer, suite->trailer);
  ck_assert_uint_eq (info_u32 (s.tls, "header-size"), header);
  ck_assert_uint_eq (info_u32 (s.tls, "trailer-size"), trailer);
  /* GnuTLS's own worst case per record agrees. */
  ck_assert_uint_le (gnutls_record_overhead_size (c.tls->session), header + trailer);

  for (gsize len = 0; len <= 16384; len = len < 80 ? len + 1 : len * 2 + 1)
    {
      gsize n = MIN (len, 16384);
      g_autoptr (GBytes) record = seal (c.tls, data, n);
      gsize size = g_bytes_get_size (record);
      SspidTlsDecrypt d;

      if (size == 0)
        {
          ck_assert_uint_eq (n, 0);   /* TLS 1.2: nothing for nothing */
          continue;
        }
      ck_assert_msg (size <= header + n + trailer, "%zu bytes: record %zu > %u + %zu + %u",
                     n, size, header, n, trailer);
      ck_assert_uint_ge (size, header + n);
      sspid_tls_decrypt (s.tls, g_bytes_get_data (record, NULL), size, &d);
      ck_assert_int_eq (d.status, SEC_E_OK);
      ck_assert_uint_eq (g_bytes_get_size (d.plaintext), n);
      ck_assert (n == 0 || memcmp (g_bytes_get_data (d.plaintext, NULL), data, n) == 0);
      sspid_tls_decrypt_clear (&d);
      if (n == 16384)
        break;
    }
  side_clear (&c);
  side_clear (&s);
}
END_TEST

/* Three records in one read: each call opens one, EXTRA counts the rest;
 * a record split across reads: INCOMPLETE_MESSAGE with MISSING. */
START_TEST (test_records_extra_missing)
{
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  const char *msgs[] = { "one", "two!", "three" };
  gsize offset = 0;
  Side c, s;

  established_pair (&c, &s, 0);
  for (gsize i = 0; i < 3; i++)
    {
      g_autoptr (GBytes) r = seal (c.tls, (const guint8 *) msgs[i], strlen (msgs[i]));
      g_byte_array_append (wire, g_bytes_get_data (r, NULL), (guint) g_bytes_get_size (r));
    }
  for (gsize i = 0; i < 3; i++)
    {
      SspidTlsDecrypt d;
      sspid_tls_decrypt (s.tls, wire->data + offset, wire->len - offset, &d);
      ck_assert_int_eq (d.status, SEC_E_OK);
      ck_assert_uint_eq (g_bytes_get_size (d.plaintext), strlen (msgs[i]));
      ck_assert (memcmp (g_bytes_get_data (d.plaintext, NULL), msgs[i], strlen (msgs[i])) == 0);
      offset += d.record_size;
      ck_assert_uint_eq (d.extra, wire->len - offset);
      sspid_tls_decrypt_clear (&d);
    }

  /* Split: every prefix of a record is incomplete, by exactly what's missing. */
  {
    g_autoptr (GBytes) r = seal (c.tls, (const guint8 *) "split", 5);
    gsize n;
    const guint8 *bytes = g_bytes_get_data (r, &n);
    for (gsize have = 0; have < n; have++)
      {
        SspidTlsDecrypt d;
        sspid_tls_decrypt (s.tls, bytes, have, &d);
        ck_assert_int_eq (d.status, SEC_E_INCOMPLETE_MESSAGE);
        ck_assert_uint_eq (d.missing, have < 5 ? 5 - have : n - have);
        ck_assert_uint_eq (g_bytes_get_size (d.plaintext), 0);
        sspid_tls_decrypt_clear (&d);
      }
    assert_opens (s.tls, bytes, n, 5);
  }
  side_clear (&c);
  side_clear (&s);
}
END_TEST

/* A flipped bit anywhere in the ciphertext is an error, never plaintext,
 * and it ends the session: from then on both directions say
 * SEC_E_CONTEXT_EXPIRED (not an internal error) and the state is "closed". */
START_TEST (test_records_tampered)
{
  Side c, s;
  g_autoptr (GBytes) r = NULL;
  g_autoptr (GBytes) good = NULL;
  g_autoptr (GBytes) after = NULL;
  g_autofree guint8 *copy = NULL;
  gsize n;
  SspidTlsDecrypt d;

  established_pair (&c, &s, 0);
  r = seal (c.tls, (const guint8 *) "attack at dawn", 14);
  n = g_bytes_get_size (r);
  copy = g_memdup2 (g_bytes_get_data (r, NULL), n);
  copy[n / 2] ^= 0x01;
  sspid_tls_decrypt (s.tls, copy, n, &d);
  ck_assert_msg (d.status == SEC_E_DECRYPT_FAILURE || d.status == SEC_E_MESSAGE_ALTERED,
                 "0x%08x", (unsigned) d.status);
  ck_assert_uint_eq (g_bytes_get_size (d.plaintext), 0);
  sspid_tls_decrypt_clear (&d);

  ck_assert_str_eq (sspid_tls_get_state_name (s.tls), "closed");
  ck_assert_uint_eq (sspid_tls_encrypt (s.tls, (const guint8 *) "x", 1, &after),
                     SEC_E_CONTEXT_EXPIRED);
  ck_assert_ptr_null (after);
  good = seal (c.tls, (const guint8 *) "retreat", 7);
  sspid_tls_decrypt (s.tls, g_bytes_get_data (good, NULL), g_bytes_get_size (good), &d);
  ck_assert_uint_eq (d.status, SEC_E_CONTEXT_EXPIRED);
  ck_assert_uint_eq (g_bytes_get_size (d.plaintext), 0);
  sspid_tls_decrypt_clear (&d);
  side_clear (&c);
  side_clear (&s);
}
END_TEST

/* SCHANNEL_SHUTDOWN from either side: the next step gives the close_notify
 * record, the peer's DecryptMessage answers SEC_I_CONTEXT_EXPIRED, and the
 * closed side encrypts no more. */
static void
check_close_notify (gboolean from_server, guint32 protocols)
{
  Side c, s;
  SspidTlsStep st;
  SspidTlsDecrypt d;
  SspidTls *closer, *peer;
  GBytes *record = NULL;

  established_pair (&c, &s, protocols);
  closer = from_server ? s.tls : c.tls;
  peer = from_server ? c.tls : s.tls;
  /* A step on an established session gives back any input as EXTRA. */
  {
    static const guint8 next_records[] = { 23, 3, 3, 0, 1, 0 };
    sspid_tls_step (closer, next_records, sizeof next_records, &st);
    ck_assert_int_eq (st.status, SEC_E_OK);
    ck_assert_uint_eq (st.extra, sizeof next_records);
    ck_assert_uint_eq (g_bytes_get_size (st.token), 0);
    sspid_tls_step_clear (&st);
  }
  sspid_tls_queue_alert (closer, GNUTLS_AL_WARNING, GNUTLS_A_CLOSE_NOTIFY);
  sspid_tls_step (closer, NULL, 0, &st);
  ck_assert_int_eq (st.status, SEC_E_OK);
  ck_assert_uint_gt (g_bytes_get_size (st.token), 0);
  /* An alert record; TLS 1.3 hides the type inside (outer type 23). */
  ck_assert_uint_eq (((const guint8 *) g_bytes_get_data (st.token, NULL))[0],
                     protocols == SP_PROT_TLS1_3_CLIENT ? 23 : 21);
  /* Protected: longer than a plaintext alert (5 + 2 bytes). */
  ck_assert_uint_gt (g_bytes_get_size (st.token), 7);
  sspid_tls_decrypt (peer, g_bytes_get_data (st.token, NULL), g_bytes_get_size (st.token), &d);
  ck_assert_int_eq (d.status, SEC_I_CONTEXT_EXPIRED);
  sspid_tls_decrypt_clear (&d);
  sspid_tls_step_clear (&st);
  ck_assert_int_eq (sspid_tls_encrypt (closer, (const guint8 *) "x", 1, &record), SEC_E_CONTEXT_EXPIRED);
  ck_assert_str_eq (sspid_tls_get_state_name (closer), "closed");
  side_clear (&c);
  side_clear (&s);
}

START_TEST (test_close_notify_client)
{
  check_close_notify (FALSE, SP_PROT_TLS1_3_CLIENT);
  check_close_notify (FALSE, SP_PROT_TLS1_2_CLIENT);
}
END_TEST

START_TEST (test_close_notify_server)
{
  check_close_notify (TRUE, SP_PROT_TLS1_3_CLIENT);
  check_close_notify (TRUE, SP_PROT_TLS1_2_CLIENT);
}
END_TEST

static void
check_resumption (guint32 protocols)
{
  Side c, s;

  established_pair (&c, &s, protocols);
  ck_assert (!info_resumed (c.tls));
  drain_client (&c);
  side_clear (&c);
  side_clear (&s);

  /* Same user, credential and target: resumed on both sides. */
  established_pair (&c, &s, protocols);
  ck_assert (info_resumed (c.tls));
  ck_assert (info_resumed (s.tls));
  drain_client (&c);
  side_clear (&c);
  side_clear (&s);

  /* Another target name does not get that session. */
  pair (&c, &s, NULL, "server", "127.0.0.1", protocols, 0, NULL, NULL);
  converse (&c, &s);
  ck_assert_int_eq (c.status, SEC_E_OK);
  ck_assert (!info_resumed (c.tls));
  side_clear (&c);
  side_clear (&s);
}

START_TEST (test_resumption_tls13)
{
  check_resumption (SP_PROT_TLS1_3_CLIENT);
}
END_TEST

START_TEST (test_resumption_tls12)
{
  check_resumption (SP_PROT_TLS1_2_CLIENT);
}
END_TEST

/* SCH_CRED_DISABLE_RECONNECTS on the client: never resumed. */
START_TEST (test_resumption_disabled)
{
  for (int i = 0; i < 2; i++)
    {
      g_autoptr (SspidCredential) cc = NULL;
      g_autoptr (SspidCredential) sc = acquire ("server", SECPKG_CRED_INBOUND, 0);
      SspidTls *ct = NULL, *stls = NULL;
      Side c, s;

      ck_assert_int_eq (sspid_credential_store_acquire (es_store, NULL, SECPKG_CRED_OUTBOUND, 0,
                                                        SCH_CRED_DISABLE_RECONNECTS, &es_me, &cc), SEC_E_OK);
      ck_assert_int_eq (sspid_tls_new_client (cc, "localhost", 0, NULL, &ct), SEC_E_OK);
      ck_assert_int_eq (sspid_tls_new_server (sc, 0, NULL, &stls), SEC_E_OK);
      side_init (&c, ct);
      side_init (&s, stls);
      converse (&c, &s);
      ck_assert_int_eq (c.status, SEC_E_OK);
      ck_assert (!info_resumed (c.tls));
      drain_client (&c);
      side_clear (&c);
      side_clear (&s);
    }
}
END_TEST

/* Each side receives the other's bytes @chunk at a time and follows the
 * Schannel loop: INCOMPLETE_MESSAGE -> read more; EXTRA -> keep the tail
 * and call again without reading. */
static void
chunked_step (Side *self, Side *peer, GByteArray *wire, gsize chunk)
{
  for (;;)
    {
      SspidTlsStep st;

      if (self->inbox->len == 0 && wire->len == 0)
        return;
      if (self->inbox->len == 0 || self->status == SEC_E_INCOMPLETE_MESSAGE)
        {
          gsize n = MIN (chunk, wire->len);
          if (n == 0)
            return;
          g_byte_array_append (self->inbox, wire->data, (guint) n);
          g_byte_array_remove_range (wire, 0, (guint) n);
        }
      sspid_tls_step (self->tls, self->inbox->data, self->inbox->len, &st);
      self->status = st.status;
      if (st.status == SEC_E_INCOMPLETE_MESSAGE)
        {
          ck_assert_uint_gt (st.missing, 0);
          sspid_tls_step_clear (&st);
          continue;
        }
      g_byte_array_remove_range (self->inbox, 0, self->inbox->len - st.extra);
      g_byte_array_append (peer->inbox, g_bytes_get_data (st.token, NULL), (guint) g_bytes_get_size (st.token));
      sspid_tls_step_clear (&st);
      if (st.status != SEC_I_CONTINUE_NEEDED)
        return;
    }
}

static void
check_chunked (guint32 protocols, gsize chunk)
{
  g_autoptr (GByteArray) to_client = g_byte_array_new ();
  g_autoptr (GByteArray) to_server = g_byte_array_new ();
  Side c, s;

  pair (&c, &s, NULL, "server", "localhost", protocols, 0, NULL, NULL);
  step (&c, &s);                          /* ClientHello lands in s.inbox */
  for (int round = 0; round < 50 && (is_running (c.status) || is_running (s.status)); round++)
    {
      g_byte_array_append (to_server, s.inbox->data, s.inbox->len);
      g_byte_array_set_size (s.inbox, 0);
      if (is_running (s.status) || s.steps == 0)
        {
          chunked_step (&s, &c, to_server, chunk);
          s.steps++;
        }
      g_byte_array_append (to_client, c.inbox->data, c.inbox->len);
      g_byte_array_set_size (c.inbox, 0);
      if (is_running (c.status))
        chunked_step (&c, &s, to_client, chunk);
    }
  ck_assert_msg (c.status == SEC_E_OK && s.status == SEC_E_OK,
                 "chunk %zu: client 0x%08x server 0x%08x", chunk, (unsigned) c.status, (unsigned) s.status);
  side_clear (&c);
  side_clear (&s);
}

START_TEST (test_small_chunks)
{
  static const gsize chunks[] = { 1, 7, 100, 512 };

  for (gsize i = 0; i < G_N_ELEMENTS (chunks); i++)
    {
      check_chunked (SP_PROT_TLS1_3_CLIENT, chunks[i]);
      check_chunked (SP_PROT_TLS1_2_CLIENT, chunks[i]);
    }
}
END_TEST

/* Decrypts every record of @wire on @tls, expecting empty plaintexts. */
static void
open_all_empty (SspidTls *tls, GBytes *wire)
{
  gsize n, off = 0;
  const guint8 *p = g_bytes_get_data (wire, &n);

  while (off < n)
    {
      SspidTlsDecrypt d;
      sspid_tls_decrypt (tls, p + off, n - off, &d);
      ck_assert_int_eq (d.status, SEC_E_OK);
      ck_assert_uint_eq (g_bytes_get_size (d.plaintext), 0);
      off += d.record_size;
      sspid_tls_decrypt_clear (&d);
    }
}

/* The server asks for a KeyUpdate: the client's DecryptMessage answers
 * SEC_I_RENEGOTIATE, its next step carries the answer, and from then on
 * each EncryptMessage is still exactly one record, readable by the peer. */
START_TEST (test_key_update_requested)
{
  Side c, s;
  SspidTlsDecrypt d;
  SspidTlsStep st;
  g_autoptr (GBytes) request = NULL;
  g_autoptr (GBytes) record = NULL;
  gsize n;
  const guint8 *p;

  established_pair (&c, &s, SP_PROT_TLS1_3_CLIENT);
  ck_assert_int_ge (gnutls_session_key_update (s.tls->session, GNUTLS_KU_PEER), 0);
  request = sspid_tls_take_output (s.tls);
  sspid_tls_decrypt (c.tls, g_bytes_get_data (request, NULL), g_bytes_get_size (request), &d);
  ck_assert_int_eq (d.status, SEC_I_RENEGOTIATE);
  ck_assert_uint_eq (g_bytes_get_size (d.plaintext), 0);
  sspid_tls_decrypt_clear (&d);

  sspid_tls_step (c.tls, NULL, 0, &st);
  ck_assert_int_eq (st.status, SEC_E_OK);
  ck_assert_uint_gt (g_bytes_get_size (st.token), 0);
  open_all_empty (s.tls, st.token);
  sspid_tls_step_clear (&st);

  record = seal (c.tls, (const guint8 *) "after", 5);
  p = g_bytes_get_data (record, &n);
  ck_assert_uint_eq (n, 5 + (((gsize) p[3] << 8) | p[4]));   /* one record */
  assert_opens (s.tls, p, n, 5);
  side_clear (&c);
  side_clear (&s);
}
END_TEST

/* A peer that floods KeyUpdates: GnuTLS refuses the ninth within a second
 * without invalidating the session, and the engine still ends it: the
 * refusal is an error, and from then on both directions say
 * SEC_E_CONTEXT_EXPIRED, even for a good record. */
START_TEST (test_key_update_flood_ends_session)
{
  Side c, s;
  SECURITY_STATUS refused = SEC_E_OK;
  g_autoptr (GBytes) good = NULL;
  g_autoptr (GBytes) after = NULL;
  SspidTlsDecrypt d;

  established_pair (&c, &s, SP_PROT_TLS1_3_CLIENT);
  for (int i = 0; i < 32 && refused == SEC_E_OK; i++)
    {
      g_autoptr (GBytes) update = NULL;

      ck_assert_int_ge (gnutls_session_key_update (c.tls->session, 0), 0);
      update = sspid_tls_take_output (c.tls);
      sspid_tls_decrypt (s.tls, g_bytes_get_data (update, NULL), g_bytes_get_size (update), &d);
      refused = d.status;
      sspid_tls_decrypt_clear (&d);
    }
  ck_assert_msg ((gint32) refused < 0, "32 KeyUpdates in a row were all accepted");
  ck_assert_str_eq (sspid_tls_get_state_name (s.tls), "closed");

  good = seal (c.tls, (const guint8 *) "data", 4);
  sspid_tls_decrypt (s.tls, g_bytes_get_data (good, NULL), g_bytes_get_size (good), &d);
  ck_assert_int_eq (d.status, SEC_E_CONTEXT_EXPIRED);
  ck_assert_uint_eq (g_bytes_get_size (d.plaintext), 0);
  sspid_tls_decrypt_clear (&d);
  ck_assert_int_eq (sspid_tls_encrypt (s.tls, (const guint8 *) "x", 1, &after),
                    SEC_E_CONTEXT_EXPIRED);
  side_clear (&c);
  side_clear (&s);
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "tokens", setup, es_teardown, 30, { { test_tls13 }, { test_tls12 }, { test_alpn },
                                       { test_incomplete_and_missing }, { test_extra },
                                       { test_garbage }, { test_illegal_message },
                                       { test_untrusted }, { test_wrong_name }, { test_expired },
                                       { test_client_certificate },
                                       { test_incomplete_credentials_tls13 },
                                       { test_incomplete_credentials_tls12 },
                                       { test_acquire_rules }, { test_protocol_mismatch },
                                       { test_small_chunks } } },
    { "records", setup, es_teardown, 30, { { test_records_tls13 }, { test_records_tls12 },
                                        { test_records_layout, G_N_ELEMENTS (suite_layouts) },
                                        { test_records_extra_missing }, { test_records_tampered },
                                        { test_key_update_flood_ends_session },
                                        { test_close_notify_client }, { test_close_notify_server },
                                        { test_resumption_tls13 }, { test_resumption_tls12 },
                                        { test_resumption_disabled },
                                        { test_key_update_requested } } },
  };

  return tu_run_cases ("engine", cases, G_N_ELEMENTS (cases));
}
