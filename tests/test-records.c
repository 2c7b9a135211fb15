/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Records through libsspi, with Schannel's stream-mode conventions, between
 * an in-process client and server (tests/sync-pair.c) on the real daemon:
 * EncryptMessage / DecryptMessage in place for records of 0, 1, 1,000 and
 * 16,384 bytes both ways over TLS 1.3 and 1.2; several records in one read
 * (SECBUFFER_EXTRA pointing into the caller's buffer); a record split
 * across reads (SECBUFFER_MISSING, answered without the daemon); tampering;
 * close_notify and alerts through ApplyControlToken from either side; TLS
 * 1.3 session tickets after the handshake; session resumption and
 * SCH_CRED_DISABLE_RECONNECTS; wrong buffer shapes; dead handles.
 *
 * Most tests loop over the protocol: _i == 0 is TLS 1.3, 1 is TLS 1.2.
 */

#include "config.h"

#include <check.h>
#include <signal.h>
#include <string.h>

#include "sspi.h"
#include "schannel.h"
#include "sync-pair.h"
#include "testutil.h"
#include "tls-pair.h"

/* A handshake over the loop's protocol, the server's tickets read. */
static void
handshake (SyncPair *p, int i)
{
  SyncPairOptions opts = { .client_protocols = sp_loop_protocol (i) };

  sync_pair_handshake (p, &opts);
  sync_pair_read_tickets (p);
}

/* @len bytes that no record header or key could produce by chance. */
static guint8 *
pattern (gsize len, guint8 seed)
{
  guint8 *data = g_malloc (len + 1);

  for (gsize i = 0; i < len; i++)
    data[i] = (guint8) (seed + i * 7 + (i >> 8));
  return data;
}

/* Seals @len bytes on @from and opens them on @to, checking the bytes. */
static void
round_trip (CtxtHandle *from, CtxtHandle *to, gsize len, guint8 seed,
            gboolean tls13)
{
  g_autofree guint8 *data = pattern (len, seed);
  g_autoptr(GByteArray) wire = g_byte_array_new ();
  g_autoptr(GByteArray) plain = g_byte_array_new ();

  sp_seal (from, data, len, wire);
  if (len == 0 && !tls13)
    {
      /* TLS 1.2 AEAD has no empty record: nothing to send, nothing to open. */
      ck_assert_uint_eq (wire->len, 0);
      return;
    }
  ck_assert_uint_gt (wire->len, len);
  /* Encrypted: the plaintext is nowhere on the wire. */
  if (len >= 16)
    ck_assert_ptr_null (memmem (wire->data, wire->len, data, 16));
  ck_assert_int_eq (sp_open (to, wire, plain), SEC_E_OK);
  ck_assert_uint_eq (wire->len, 0);
  ck_assert_uint_eq (plain->len, len);
  if (len > 0)
    ck_assert_mem_eq (plain->data, data, len);
}

/* ---- records ---------------------------------------------------------- */

START_TEST (test_record_sizes)
{
  static const gsize sizes[] = { 0, 1, 1000, 16384 };
  SyncPair p;

  handshake (&p, _i);
  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      round_trip (&p.cctx, &p.sctx, sizes[i], (guint8) i, _i == 0);
      round_trip (&p.sctx, &p.cctx, sizes[i], (guint8) (i + 100), _i == 0);
    }
  sync_pair_clear (&p);
}
END_TEST

/* Too much data, or header/trailer buffers smaller than STREAM_SIZES, are
 * refused before anything is encrypted: the stream goes on undisturbed. */
START_TEST (test_encrypt_refusals)
{
  SecPkgContext_StreamSizes sizes;
  g_autofree guint8 *buf = NULL;
  SecBuffer b[4];
  SecBufferDesc desc = { SECBUFFER_VERSION, 4, b };
  gsize len = 100;
  SyncPair p;

  handshake (&p, _i);
  sizes = sp_stream_sizes (&p.cctx);
  buf = g_malloc0 (sizes.cbHeader + sizes.cbMaximumMessage + 1 + sizes.cbTrailer);
  b[0] = (SecBuffer) { sizes.cbHeader - 1, SECBUFFER_STREAM_HEADER, buf };
  b[1] = (SecBuffer) { (ULONG) len, SECBUFFER_DATA, buf + sizes.cbHeader };
  b[2] = (SecBuffer) { sizes.cbTrailer, SECBUFFER_STREAM_TRAILER, buf + sizes.cbHeader + len };
  b[3] = (SecBuffer) { 0, SECBUFFER_EMPTY, NULL };
  memset (buf + sizes.cbHeader, 'x', len);
  ck_assert_int_eq (EncryptMessage (&p.cctx, 0, &desc, 0), SEC_E_BUFFER_TOO_SMALL);
  b[0].cbBuffer = sizes.cbHeader;
  b[2].cbBuffer = sizes.cbTrailer - 1;
  ck_assert_int_eq (EncryptMessage (&p.cctx, 0, &desc, 0), SEC_E_BUFFER_TOO_SMALL);
  /* Untouched: still the plaintext, still the caller's sizes. */
  ck_assert_uint_eq (b[1].cbBuffer, len);
  ck_assert_uint_eq (buf[sizes.cbHeader], 'x');
  ck_assert_uint_eq (b[2].cbBuffer, sizes.cbTrailer - 1);
  b[1].cbBuffer = sizes.cbMaximumMessage + 1;
  b[2] = (SecBuffer) { sizes.cbTrailer, SECBUFFER_STREAM_TRAILER,
                       buf + sizes.cbHeader + sizes.cbMaximumMessage + 1 };
  ck_assert_int_eq (EncryptMessage (&p.cctx, 0, &desc, 0), SEC_E_INVALID_PARAMETER);

  /* No sequence number was used up: the next records open fine. */
  round_trip (&p.cctx, &p.sctx, 1000, 1, _i == 0);
  round_trip (&p.sctx, &p.cctx, 10, 2, _i == 0);
  sync_pair_clear (&p);
}
END_TEST

/* Three records in one read: each DecryptMessage opens one and points
 * SECBUFFER_EXTRA at the next, inside the caller's buffer. */
START_TEST (test_several_records_in_one_read)
{
  static const gsize lens[] = { 10, 3000, 1 };
  g_autoptr(GByteArray) wire = g_byte_array_new ();
  g_autofree guint8 *buf = NULL;
  gsize offset = 0, total;
  SyncPair p;

  handshake (&p, _i);
  for (gsize i = 0; i < G_N_ELEMENTS (lens); i++)
    {
      g_autofree guint8 *data = pattern (lens[i], (guint8) (i * 31));

      sp_seal (&p.cctx, data, lens[i], wire);
    }
  total = wire->len;
  buf = g_memdup2 (wire->data, total);

  for (gsize i = 0; i < G_N_ELEMENTS (lens); i++)
    {
      g_autofree guint8 *data = pattern (lens[i], (guint8) (i * 31));
      guint8 *start = buf + offset;
      SecBuffer b[4] = { { (ULONG) (total - offset), SECBUFFER_DATA, start },
                         { 0, SECBUFFER_EMPTY, NULL }, { 0, SECBUFFER_EMPTY, NULL },
                         { 0, SECBUFFER_EMPTY, NULL } };
      SecBufferDesc desc = { SECBUFFER_VERSION, 4, b };
      gsize record;

      ck_assert_int_eq (DecryptMessage (&p.sctx, &desc, 0, NULL), SEC_E_OK);
      ck_assert_uint_eq (b[0].BufferType, SECBUFFER_STREAM_HEADER);
      ck_assert_ptr_eq (b[0].pvBuffer, start);
      ck_assert_uint_eq (b[1].BufferType, SECBUFFER_DATA);
      ck_assert_uint_eq (b[1].cbBuffer, lens[i]);
      ck_assert_ptr_eq (b[1].pvBuffer, start + b[0].cbBuffer);
      ck_assert_mem_eq (b[1].pvBuffer, data, lens[i]);
      record = b[0].cbBuffer + b[1].cbBuffer + b[2].cbBuffer;
      offset += record;
      if (i + 1 < G_N_ELEMENTS (lens))
        {
          ck_assert_uint_eq (b[3].BufferType, SECBUFFER_EXTRA);
          ck_assert_ptr_eq (b[3].pvBuffer, buf + offset);
          ck_assert_uint_eq (b[3].cbBuffer, total - offset);
        }
      else
        {
          ck_assert_uint_eq (b[3].BufferType, SECBUFFER_EMPTY);
          ck_assert_uint_eq (offset, total);
        }
    }
  sync_pair_clear (&p);
}
END_TEST

static SECURITY_STATUS
decrypt_prefix (CtxtHandle *ctx, guint8 *buf, gsize have, SecBuffer *b)
{
  SecBufferDesc desc = { SECBUFFER_VERSION, 4, b };

  b[0] = (SecBuffer) { (ULONG) have, SECBUFFER_DATA, buf };
  for (int i = 1; i < 4; i++)
    b[i] = (SecBuffer) { 0, SECBUFFER_EMPTY, NULL };
  return DecryptMessage (ctx, &desc, 0, NULL);
}

/* A record that arrives in pieces: SEC_E_INCOMPLETE_MESSAGE with the exact
 * count still needed (the rest of the header, then the rest of the record),
 * decided by the library alone (it answers while the daemon is stopped). */
START_TEST (test_record_split_across_reads)
{
  g_autofree guint8 *data = pattern (1000, 9);
  g_autoptr(GByteArray) wire = g_byte_array_new ();
  g_autofree guint8 *buf = NULL;
  const gsize prefixes[] = { 0, 1, 4, 5, 6, 500 };
  gsize record;
  gint64 start;
  SecBuffer b[4];
  SyncPair p;

  handshake (&p, _i);
  sp_seal (&p.cctx, data, 1000, wire);
  record = wire->len;
  buf = g_memdup2 (wire->data, record);

  ck_assert_int_eq (kill (tu_fixture_env->daemon_pid, SIGSTOP), 0);
  start = g_get_monotonic_time ();
  for (gsize i = 0; i < G_N_ELEMENTS (prefixes); i++)
    {
      gsize have = prefixes[i];

      ck_assert_int_eq (decrypt_prefix (&p.sctx, buf, have, b), SEC_E_INCOMPLETE_MESSAGE);
      /* As on Windows, the DATA buffer says what is missing; its bytes
       * and the other buffers are left alone. */
      ck_assert_uint_eq (b[0].BufferType, SECBUFFER_MISSING);
      ck_assert_uint_eq (b[0].cbBuffer, have < 5 ? 5 - have : record - have);
      ck_assert_ptr_eq (b[0].pvBuffer, buf);
      ck_assert_uint_eq (b[1].BufferType, SECBUFFER_EMPTY);
      ck_assert_uint_eq (b[2].BufferType, SECBUFFER_EMPTY);
    }
  ck_assert_int_eq (decrypt_prefix (&p.sctx, buf, record - 1, b), SEC_E_INCOMPLETE_MESSAGE);
  ck_assert_uint_eq (b[0].cbBuffer, 1);
  /* Each of those would have taken the call timeout with a round trip. */
  ck_assert_int_lt (g_get_monotonic_time () - start, G_TIME_SPAN_SECOND);
  ck_assert_int_eq (kill (tu_fixture_env->daemon_pid, SIGCONT), 0);

  ck_assert_int_eq (decrypt_prefix (&p.sctx, buf, record, b), SEC_E_OK);
  ck_assert_uint_eq (b[1].cbBuffer, 1000);
  ck_assert_mem_eq (b[1].pvBuffer, data, 1000);
  sync_pair_clear (&p);
}
END_TEST

/* After a fatal DecryptMessage error the server's next ASC, with no input
 * (as after ApplyControlToken), hands over the alert the error owes the
 * client: SEC_I_CONTEXT_EXPIRED and one alert record, which the client's
 * DecryptMessage reports as the fatal alert it is (@client_status).  A second ASC has
 * nothing more; the session stays ended both ways. */
static void
assert_owed_alert (SyncPair *p, SECURITY_STATUS client_status)
{
  g_autoptr(GByteArray) wire = g_byte_array_new ();
  SECURITY_STATUS status;

  ck_assert_int_eq (sp_try_seal (&p->sctx, "x", 1, wire), SEC_E_CONTEXT_EXPIRED);
  ck_assert_int_eq (sp_empty_step (p, TRUE, wire), SEC_I_CONTEXT_EXPIRED);
  /* One record, protected under the session's keys (type 23 in TLS 1.3). */
  ck_assert_uint_ge (wire->len, 7);
  ck_assert (wire->data[0] == 21 || wire->data[0] == 23);
  ck_assert_uint_eq (wire->len, 5 + (gsize) (wire->data[3] << 8 | wire->data[4]));
  status = sp_open (&p->cctx, wire, NULL);
  ck_assert_msg (status == client_status, "the client read the alert as 0x%08x, not 0x%08x",
                 (unsigned) status, (unsigned) client_status);
  g_byte_array_set_size (wire, 0);
  ck_assert_int_eq (sp_empty_step (p, TRUE, wire), SEC_I_CONTEXT_EXPIRED);
  ck_assert_uint_eq (wire->len, 0);
}

/* Bytes that cannot start a TLS record (not even a record header) are
 * refused, and end the connection as in GnuTLS: a stream cannot be
 * followed past them.  The client is owed the alert GnuTLS sends
 * (unexpected_message, protocol_version, record_overflow; which one is
 * checked in test-engine). */
START_TEST (test_garbage_refused)
{
  guint8 http[] = "GET / HTTP/1.1\r\n";
  guint8 bad_version[] = { 23, 2, 0, 0, 1, 0 };
  guint8 too_long[] = { 23, 3, 3, 0x48, 0x01 };   /* 18433 > 16384 + 2048 */
  /* And what the client's DecryptMessage makes of the alert. */
  struct { guint8 *bytes; gsize len; SECURITY_STATUS alert; } garbage[] = {
    { http, sizeof http - 1, SEC_E_ILLEGAL_MESSAGE },            /* unexpected_message */
    { bad_version, 2, SEC_E_UNSUPPORTED_FUNCTION },              /* protocol_version */
    { too_long, sizeof too_long, SEC_E_ILLEGAL_MESSAGE },        /* record_overflow */
  };

  for (gsize g = 0; g < G_N_ELEMENTS (garbage); g++)
    {
      SecBuffer b[4];
      SyncPair p;

      handshake (&p, _i);
      ck_assert_int_eq (decrypt_prefix (&p.sctx, garbage[g].bytes, garbage[g].len, b),
                        SEC_E_INVALID_TOKEN);
      /* The caller's buffers are as they were. */
      ck_assert_uint_eq (b[0].BufferType, SECBUFFER_DATA);
      ck_assert_uint_eq (b[0].cbBuffer, garbage[g].len);
      ck_assert_uint_eq (b[1].BufferType, SECBUFFER_EMPTY);
      assert_owed_alert (&p, garbage[g].alert);
      sync_pair_clear (&p);
    }
}
END_TEST

/* A modified record is an error, and no plaintext comes out. */
START_TEST (test_tampered_record)
{
  g_autofree guint8 *data = pattern (1000, 42);
  g_autoptr(GByteArray) wire = g_byte_array_new ();
  SECURITY_STATUS status;
  SecBuffer b[4];
  SyncPair p;

  handshake (&p, _i);
  sp_seal (&p.cctx, data, 1000, wire);
  wire->data[wire->len / 2] ^= 0x01;
  status = decrypt_prefix (&p.sctx, wire->data, wire->len, b);
  ck_assert_msg (status == SEC_E_DECRYPT_FAILURE || status == SEC_E_MESSAGE_ALTERED,
                 "tampered record gave 0x%08x", (unsigned) status);
  ck_assert_uint_eq (b[0].BufferType, SECBUFFER_DATA);
  ck_assert_uint_eq (b[0].cbBuffer, wire->len);
  for (int i = 1; i < 4; i++)
    ck_assert_uint_eq (b[i].BufferType, SECBUFFER_EMPTY);
  ck_assert_ptr_null (memmem (wire->data, wire->len, data + 100, 32));
  /* The session is dead (a bad record MAC is fatal in TLS), and says so
   * both ways. */
  status = sp_open (&p.sctx, wire, NULL);
  ck_assert_msg (status == SEC_E_CONTEXT_EXPIRED, "DecryptMessage after: 0x%08x", (unsigned) status);
  status = sp_try_seal (&p.sctx, data, 10, wire);
  ck_assert_msg (status == SEC_E_CONTEXT_EXPIRED, "EncryptMessage after: 0x%08x", (unsigned) status);
  /* The client is owed bad_record_mac; a close_notify asked for now is not
   * sent after it (nothing follows a fatal alert). */
  ck_assert_int_eq (sp_control (&p.sctx, SCHANNEL_SHUTDOWN, 0, 0), SEC_E_OK);
  assert_owed_alert (&p, SEC_E_DECRYPT_FAILURE);   /* bad_record_mac */
  sync_pair_clear (&p);
}
END_TEST

/* ---- shutdown and alerts --------------------------------------------------- */

/* @closer sends close_notify (ApplyControlToken, then an ISC/ASC step with
 * no input; the client's through the async API), the peer sees
 * SEC_I_CONTEXT_EXPIRED, answers with its own, and the closer sees that. */
static void
close_from (SyncPair *p, gboolean server_closes, gboolean tls13)
{
  CtxtHandle *closer = server_closes ? &p->sctx : &p->cctx;
  CtxtHandle *peer = server_closes ? &p->cctx : &p->sctx;
  g_autoptr(GByteArray) wire = g_byte_array_new ();
  g_autoptr(GByteArray) plain = g_byte_array_new ();
  SecBuffer out = { 0, SECBUFFER_TOKEN, NULL };
  SecBufferDesc out_desc = { SECBUFFER_VERSION, 1, &out };
  CtxtHandle same = *closer;
  ULONG attrs;

  ck_assert_int_eq (sp_control (closer, SCHANNEL_SHUTDOWN, 0, 0), SEC_E_OK);
  if (server_closes)
    ck_assert_int_eq (sp_empty_step (p, TRUE, wire), SEC_E_OK);
  else
    {
      ck_assert_int_eq (tp_isc (&p->ccred, closer, "localhost", SP_CLIENT_REQ, NULL, closer,
                                &out_desc, &attrs, NULL), SEC_E_OK);
      ck_assert (closer->dwLower == same.dwLower && closer->dwUpper == same.dwUpper);
      g_byte_array_append (wire, out.pvBuffer, out.cbBuffer);
      FreeContextBuffer (out.pvBuffer);
    }
  /* One record: an alert (21), or in TLS 1.3 an encrypted one (23). */
  ck_assert_uint_ge (wire->len, 7);
  ck_assert_uint_eq (wire->data[0], tls13 ? 23 : 21);
  ck_assert_uint_eq (wire->len, 5 + (gsize) (wire->data[3] << 8 | wire->data[4]));

  ck_assert_int_eq (sp_open (peer, wire, plain), SEC_I_CONTEXT_EXPIRED);
  ck_assert_uint_eq (plain->len, 0);
  /* The closer sends no more. */
  {
    guint8 hdr[64], body[8] = "late", trl[64];
    SecBuffer b[4] = { { sizeof hdr, SECBUFFER_STREAM_HEADER, hdr },
                       { 4, SECBUFFER_DATA, body },
                       { sizeof trl, SECBUFFER_STREAM_TRAILER, trl },
                       { 0, SECBUFFER_EMPTY, NULL } };
    SecBufferDesc desc = { SECBUFFER_VERSION, 4, b };

    ck_assert_int_eq (EncryptMessage (closer, 0, &desc, 0), SEC_E_CONTEXT_EXPIRED);
  }
  /* The peer answers in kind; the closer still reads it. */
  ck_assert_int_eq (sp_control (peer, SCHANNEL_SHUTDOWN, 0, 0), SEC_E_OK);
  ck_assert_int_eq (sp_empty_step (p, !server_closes, wire), SEC_E_OK);
  ck_assert_uint_gt (wire->len, 0);
  ck_assert_int_eq (sp_open (closer, wire, plain), SEC_I_CONTEXT_EXPIRED);
}

/* A handshake of loop @i, a record to the end that will close, then
 * close_from (). */
static void
close_notify_case (int i, gboolean server_closes)
{
  SyncPair p;

  handshake (&p, i);
  if (server_closes)
    round_trip (&p.cctx, &p.sctx, 100, 1, i == 0);
  else
    round_trip (&p.sctx, &p.cctx, 100, 1, i == 0);
  close_from (&p, server_closes, i == 0);
  sync_pair_clear (&p);
}

START_TEST (test_close_notify_from_client)
{
  close_notify_case (_i, FALSE);
}
END_TEST

START_TEST (test_close_notify_from_server)
{
  close_notify_case (_i, TRUE);
}
END_TEST

START_TEST (test_control_tokens)
{
  g_autoptr(GByteArray) wire = g_byte_array_new ();
  DWORD shutdown = SCHANNEL_SHUTDOWN;
  SecBuffer b = { 2, SECBUFFER_TOKEN, &shutdown };
  SecBufferDesc desc = { SECBUFFER_VERSION, 1, &b };
  SecBuffer empty = { 0, SECBUFFER_EMPTY, NULL };
  SecBufferDesc no_token = { SECBUFFER_VERSION, 1, &empty };
  SECURITY_STATUS status;
  SyncPair p;

  handshake (&p, _i);
  ck_assert_int_eq (sp_control (&p.cctx, SCHANNEL_RENEGOTIATE, 0, 0),
                    SEC_E_UNSUPPORTED_FUNCTION);
  ck_assert_int_eq (sp_control (&p.cctx, SCHANNEL_SESSION, 0, 0), SEC_E_UNSUPPORTED_FUNCTION);
  ck_assert_int_eq (sp_control (&p.cctx, 77, 0, 0), SEC_E_UNSUPPORTED_FUNCTION);
  /* Windows' answers (tests/test-winbeh.c has the rest of its checks). */
  ck_assert_int_eq (ApplyControlToken (&p.cctx, &desc), SEC_E_UNSUPPORTED_FUNCTION);
  ck_assert_int_eq (ApplyControlToken (&p.cctx, &no_token), SEC_E_INVALID_TOKEN);
  ck_assert_int_eq (ApplyControlToken (&p.cctx, NULL), SEC_E_INTERNAL_ERROR);
  ck_assert_int_eq (sp_control (&p.cctx, SCHANNEL_ALERT, 7, TLS1_ALERT_ACCESS_DENIED),
                    SEC_E_INVALID_PARAMETER);
  /* None of those queued anything: the stream is intact. */
  round_trip (&p.cctx, &p.sctx, 50, 5, _i == 0);

  /* A fatal alert ends the session on both sides. */
  ck_assert_int_eq (sp_control (&p.cctx, SCHANNEL_ALERT, TLS1_ALERT_FATAL,
                                TLS1_ALERT_ACCESS_DENIED), SEC_E_OK);
  ck_assert_int_eq (sp_empty_step (&p, FALSE, wire), SEC_E_OK);
  ck_assert_uint_gt (wire->len, 0);
  status = sp_open (&p.sctx, wire, NULL);
  ck_assert_msg (!SEC_SUCCESS (status) && status != SEC_E_INCOMPLETE_MESSAGE,
                 "a fatal alert gave 0x%08x", (unsigned) status);
  {
    g_autoptr(GByteArray) late = g_byte_array_new ();
    guint8 hdr[64], body[4] = "x", trl[64];
    SecBuffer eb[4] = { { sizeof hdr, SECBUFFER_STREAM_HEADER, hdr },
                        { 1, SECBUFFER_DATA, body },
                        { sizeof trl, SECBUFFER_STREAM_TRAILER, trl },
                        { 0, SECBUFFER_EMPTY, NULL } };
    SecBufferDesc edesc = { SECBUFFER_VERSION, 4, eb };

    ck_assert_int_eq (EncryptMessage (&p.cctx, 0, &edesc, 0), SEC_E_CONTEXT_EXPIRED);
  }
  sync_pair_clear (&p);
}
END_TEST

/* ---- session tickets and resumption ----------------------------------------- */

/* A TLS 1.3 server sends its tickets after the handshake: the client reads
 * them with DecryptMessage (SEC_E_OK, no data, EXTRA for the next one),
 * and application data behind them comes out as usual. */
START_TEST (test_tls13_tickets)
{
  SyncPairOptions opts = { .client_protocols = SP_PROT_TLS1_3_CLIENT };
  g_autofree guint8 *data = pattern (200, 77);
  g_autoptr(GByteArray) plain = g_byte_array_new ();
  guint records = 0;
  SyncPair p;

  sync_pair_handshake (&p, &opts);
  ck_assert_uint_gt (p.to_client->len, 0);
  sp_seal (&p.sctx, data, 200, p.to_client);
  /* sp_open asserts EXTRA's exact place and size on each. */
  while (plain->len == 0)
    {
      ck_assert_uint_gt (p.to_client->len, 0);
      ck_assert_int_eq (sp_open (&p.cctx, p.to_client, plain), SEC_E_OK);
      records++;
    }
  ck_assert_uint_ge (records, 2);   /* at least one ticket, then the data */
  ck_assert_uint_eq (p.to_client->len, 0);
  ck_assert_uint_eq (plain->len, 200);
  ck_assert_mem_eq (plain->data, data, 200);
  sync_pair_clear (&p);
}
END_TEST

static DWORD
session_flags (CtxtHandle *ctx)
{
  SecPkgContext_SessionInfo info;

  ck_assert_int_eq (QueryContextAttributesA (ctx, SECPKG_ATTR_SESSION_INFO, &info), SEC_E_OK);
  return info.dwFlags;
}

/* Two connections with fresh credentials of the same kind to the same
 * target: the second resumes (both sides say SSL_SESSION_RECONNECT), and
 * data flows; with SCH_CRED_DISABLE_RECONNECTS it never does. */
START_TEST (test_resumption)
{
  SyncPairOptions opts = { .client_protocols = sp_loop_protocol (_i) };
  SyncPair p;

  for (int round = 0; round < 2; round++)
    {
      handshake (&p, _i);
      ck_assert_uint_eq (session_flags (&p.cctx) & SSL_SESSION_RECONNECT,
                         round == 1 ? SSL_SESSION_RECONNECT : 0);
      ck_assert_uint_eq (session_flags (&p.sctx) & SSL_SESSION_RECONNECT,
                         round == 1 ? SSL_SESSION_RECONNECT : 0);
      round_trip (&p.cctx, &p.sctx, 500, 1, _i == 0);
      round_trip (&p.sctx, &p.cctx, 500, 2, _i == 0);
      sync_pair_clear (&p);
    }

  opts.client_flags = SCH_CRED_DISABLE_RECONNECTS;
  for (int round = 0; round < 2; round++)
    {
      sync_pair_handshake (&p, &opts);
      sync_pair_read_tickets (&p);
      ck_assert_uint_eq (session_flags (&p.cctx) & SSL_SESSION_RECONNECT, 0);
      ck_assert_uint_eq (session_flags (&p.sctx) & SSL_SESSION_RECONNECT, 0);
      sync_pair_clear (&p);
    }
}
END_TEST

/* ---- buffer shapes and dead handles ------------------------------------------ */

START_TEST (test_buffer_shapes)
{
  g_autoptr(GByteArray) wire = g_byte_array_new ();
  guint8 hdr[64], body[16] = "hello", trl[64];
  SecBuffer b[5];
  SecBufferDesc desc = { SECBUFFER_VERSION, 4, b };
  SyncPair p;

  handshake (&p, _i);
  sp_seal (&p.cctx, "abc", 3, wire);

  /* DecryptMessage: fewer than 4 buffers, no DATA, two DATA. */
  b[0] = (SecBuffer) { wire->len, SECBUFFER_DATA, wire->data };
  b[1] = b[2] = b[3] = b[4] = (SecBuffer) { 0, SECBUFFER_EMPTY, NULL };
  desc.cBuffers = 3;
  ck_assert_int_eq (DecryptMessage (&p.sctx, &desc, 0, NULL), SEC_E_INVALID_TOKEN);
  desc.cBuffers = 4;
  b[0].BufferType = SECBUFFER_TOKEN;
  ck_assert_int_eq (DecryptMessage (&p.sctx, &desc, 0, NULL), SEC_E_INVALID_TOKEN);
  b[0].BufferType = SECBUFFER_DATA;
  b[2] = (SecBuffer) { 1, SECBUFFER_DATA, body };
  ck_assert_int_eq (DecryptMessage (&p.sctx, &desc, 0, NULL), SEC_E_INVALID_TOKEN);
  b[2] = (SecBuffer) { 0, SECBUFFER_EMPTY, NULL };
  desc.pBuffers = NULL;
  ck_assert_int_eq (DecryptMessage (&p.sctx, &desc, 0, NULL), SEC_E_INVALID_TOKEN);
  desc.pBuffers = b;
  ck_assert_int_eq (DecryptMessage (&p.sctx, NULL, 0, NULL), SEC_E_INVALID_PARAMETER);
  /* Five buffers (DATA last) are fine. */
  b[0] = (SecBuffer) { 0, SECBUFFER_EMPTY, NULL };
  b[4] = (SecBuffer) { wire->len, SECBUFFER_DATA, wire->data };
  desc.cBuffers = 5;
  ck_assert_int_eq (DecryptMessage (&p.sctx, &desc, 0, NULL), SEC_E_OK);
  ck_assert_uint_eq (b[1].BufferType, SECBUFFER_DATA);
  ck_assert_uint_eq (b[1].cbBuffer, 3);
  ck_assert_mem_eq (b[1].pvBuffer, "abc", 3);

  /* EncryptMessage: each of header, data and trailer is needed. */
  desc.cBuffers = 4;
  b[0] = (SecBuffer) { sizeof hdr, SECBUFFER_STREAM_HEADER, hdr };
  b[1] = (SecBuffer) { 5, SECBUFFER_DATA, body };
  b[2] = (SecBuffer) { sizeof trl, SECBUFFER_STREAM_TRAILER, trl };
  b[3] = (SecBuffer) { 0, SECBUFFER_EMPTY, NULL };
  for (int i = 0; i < 3; i++)
    {
      ULONG type = b[i].BufferType;

      b[i].BufferType = SECBUFFER_EMPTY;
      ck_assert_int_eq (EncryptMessage (&p.cctx, 0, &desc, 0), SEC_E_INVALID_TOKEN);
      b[i].BufferType = type;
    }
  b[1].pvBuffer = NULL;
  ck_assert_int_eq (EncryptMessage (&p.cctx, 0, &desc, 0), SEC_E_INVALID_TOKEN);
  ck_assert_int_eq (EncryptMessage (&p.cctx, 0, NULL, 0), SEC_E_INVALID_PARAMETER);
  round_trip (&p.cctx, &p.sctx, 20, 4, _i == 0);
  sync_pair_clear (&p);
}
END_TEST

START_TEST (test_deleted_context)
{
  g_autoptr(GByteArray) wire = g_byte_array_new ();
  SecPkgContext_StreamSizes sizes;
  guint8 hdr[64], body[4] = "abc", trl[64];
  SecBuffer b[4] = { { sizeof hdr, SECBUFFER_STREAM_HEADER, hdr }, { 3, SECBUFFER_DATA, body },
                     { sizeof trl, SECBUFFER_STREAM_TRAILER, trl }, { 0, SECBUFFER_EMPTY, NULL } };
  SecBufferDesc desc = { SECBUFFER_VERSION, 4, b };
  CtxtHandle stale;
  SyncPair p;

  handshake (&p, _i);
  sp_seal (&p.cctx, "xyz", 3, wire);
  stale = p.sctx;
  ck_assert_int_eq (DeleteSecurityContext (&p.sctx), SEC_E_OK);
  ck_assert_int_eq (EncryptMessage (&stale, 0, &desc, 0), SEC_E_INVALID_HANDLE);
  ck_assert_int_eq (sp_open (&stale, wire, NULL), SEC_E_INVALID_HANDLE);
  ck_assert_int_eq (QueryContextAttributesA (&stale, SECPKG_ATTR_STREAM_SIZES, &sizes),
                    SEC_E_INVALID_HANDLE);
  ck_assert_int_eq (sp_control (&stale, SCHANNEL_SHUTDOWN, 0, 0), SEC_E_INVALID_HANDLE);
  ck_assert_int_eq (DeleteSecurityContext (&stale), SEC_E_INVALID_HANDLE);
  SecInvalidateHandle (&p.sctx);
  /* The other side is unaffected. */
  ck_assert_int_eq (EncryptMessage (&p.cctx, 0, &desc, 0), SEC_E_OK);
  sync_pair_clear (&p);
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "records", tu_fixture_setup, tu_fixture_teardown, 60, { { test_record_sizes, 2 },
                                                              { test_encrypt_refusals, 2 },
                                                              { test_several_records_in_one_read, 2 },
                                                              { test_record_split_across_reads, 2 },
                                                              { test_garbage_refused, 2 },
                                                              { test_tampered_record, 2 } } },
    { "shutdown", tu_fixture_setup, tu_fixture_teardown, 60, { { test_close_notify_from_client, 2 },
                                                               { test_close_notify_from_server, 2 },
                                                               { test_control_tokens, 2 } } },
    { "sessions", tu_fixture_setup, tu_fixture_teardown, 60, { { test_tls13_tickets },
                                                               { test_resumption, 2 } } },
    { "shapes", tu_fixture_setup, tu_fixture_teardown, 60, { { test_buffer_shapes, 2 },
                                                             { test_deleted_context, 2 } } },
  };

  return tu_run_cases ("records", cases, G_N_ELEMENTS (cases));
}
