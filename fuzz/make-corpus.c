/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writes the seeds that the project's own code can make (run by
 * `tools/fuzz --make-corpus` through fuzz/make-corpus.sh, which adds the
 * gnutls-cli traces):
 *
 *   fuzz-handshake-server  what the engine's client sends, per conversation
 *   fuzz-handshake-client  what the engine's server sends, per conversation
 *   fuzz-dtls              both sides of a DTLS conversation (see fuzz-dtls.c)
 *   fuzz-record            scripts (see fuzz-record.c)
 *   fuzz-dbus-request      D-Bus messages as libsspi marshals them
 *   fuzz-channel           record-channel packets as libsspi writes them
 *   fuzz-sspi-marshal      calls and answers (see fuzz-sspi-marshal.c)
 *   fuzz-config            a configuration naming the test PKI
 *
 * Usage: make-corpus OUTDIR   (with SSPID_TEST_PKI set)
 */
#include "config.h"

#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "sspi-private.h"
#include "sspid-channel.h"
#include "sspid-proto.h"
#include "sspid-tls-quic.h"

static const char *outdir;

static void
save (const char *target, const char *name, const void *data, gsize len)
{
  g_autofree char *dir = g_build_filename (outdir, target, NULL);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;

  g_mkdir_with_parents (dir, 0755);
  if (!g_file_set_contents (path, data, (gssize) len, &error))
    {
      fprintf (stderr, "make-corpus: %s\n", error->message);
      exit (1);
    }
  printf ("  %s/%s (%" G_GSIZE_FORMAT " bytes)\n", target, name, len);
}

/* ---- handshakes through the engine -------------------------------------- */

static void
conversation (const char *name, const char *client_cred, const char *server_cred,
              guint32 protocols, guint32 isc_req, const char *const *alpn)
{
  g_autoptr (SspidCredential) c = fuzz_acquire (client_cred, SECPKG_CRED_OUTBOUND, protocols);
  g_autoptr (SspidCredential) s = fuzz_acquire (server_cred, SECPKG_CRED_INBOUND, 0);
  g_autoptr (GByteArray) c_in = g_byte_array_new (), s_in = g_byte_array_new ();
  g_autoptr (GByteArray) c_sent = g_byte_array_new (), s_sent = g_byte_array_new ();
  FuzzSide cs = { .inbox = c_in, .sent = c_sent, .status = SEC_I_CONTINUE_NEEDED };
  FuzzSide ss = { .inbox = s_in, .sent = s_sent, .status = SEC_I_CONTINUE_NEEDED };
  g_autofree char *file = g_strdup_printf ("engine-%s", name);

  FUZZ_CHECK (sspid_tls_new_client (c, "localhost", isc_req, alpn, &cs.tls) == SEC_E_OK);
  FUZZ_CHECK (sspid_tls_new_server (s, 0, alpn, &ss.tls) == SEC_E_OK);
  if (!fuzz_converse (&cs, &ss))
    {
      fprintf (stderr, "make-corpus: handshake %s failed (0x%08x, 0x%08x)\n", name,
               (unsigned) cs.status, (unsigned) ss.status);
      exit (1);
    }
  save ("fuzz-handshake-server", file, c_sent->data, c_sent->len);
  save ("fuzz-handshake-client", file, s_sent->data, s_sent->len);
  sspid_tls_free (cs.tls);
  sspid_tls_free (ss.tls);
}

/* ---- QUIC mode: a handshake of bare messages ---------------------------- */

/* One step on all of @inbox (again after SEC_I_GENERIC_EXTENSION_RECEIVED):
 * what it wrote goes to @sent and @peer_inbox. */
static SECURITY_STATUS
quic_step (SspidTls *tls, GByteArray *inbox, GByteArray *sent, GByteArray *peer_inbox)
{
  SspidTlsStep st;
  SECURITY_STATUS status;
  gsize len;
  const guint8 *data;

  sspid_tls_step (tls, inbox->data, inbox->len, &st);
  if (st.status == SEC_I_GENERIC_EXTENSION_RECEIVED)
    {
      sspid_tls_step_clear (&st);
      sspid_tls_step (tls, inbox->data, inbox->len, &st);
    }
  status = st.status;
  data = g_bytes_get_data (st.token, &len);
  g_byte_array_append (sent, data, (guint) len);
  g_byte_array_append (peer_inbox, data, (guint) len);
  g_byte_array_remove_range (inbox, 0, inbox->len - st.extra);
  sspid_tls_step_clear (&st);
  return status;
}

/* fuzz-quic's seeds: a first byte for the side, then what the peer sent. */
static void
quic_conversation (void)
{
  g_autoptr (SspidCredential) c = fuzz_acquire ("client", SECPKG_CRED_OUTBOUND, 0);
  g_autoptr (SspidCredential) s = fuzz_acquire ("server", SECPKG_CRED_INBOUND, 0);
  g_autoptr (SspidTls) ct = fuzz_quic_session (c, FALSE);
  g_autoptr (SspidTls) st = fuzz_quic_session (s, TRUE);
  g_autoptr (GByteArray) c_in = g_byte_array_new (), s_in = g_byte_array_new ();
  g_autoptr (GByteArray) c_sent = g_byte_array_new (), s_sent = g_byte_array_new ();
  SECURITY_STATUS cs = SEC_I_CONTINUE_NEEDED, ss = SEC_I_CONTINUE_NEEDED;

  g_byte_array_append (c_sent, (const guint8 *) "\0", 1);
  g_byte_array_append (s_sent, (const guint8 *) "\1", 1);
  cs = quic_step (ct, c_in, c_sent, s_in);
  for (guint round = 0; round < 8 && (cs != SEC_E_OK || ss != SEC_E_OK); round++)
    {
      if (s_in->len > 0)
        ss = quic_step (st, s_in, s_sent, c_in);
      if (c_in->len > 0)
        cs = quic_step (ct, c_in, c_sent, s_in);
      FUZZ_CHECK (cs == SEC_E_OK || cs == SEC_I_CONTINUE_NEEDED);
      FUZZ_CHECK (ss == SEC_E_OK || ss == SEC_I_CONTINUE_NEEDED);
    }
  FUZZ_CHECK (cs == SEC_E_OK && ss == SEC_E_OK);
  save ("fuzz-quic", "engine-server", c_sent->data, c_sent->len);
  save ("fuzz-quic", "engine-client", s_sent->data, s_sent->len);
}

/* ---- a DTLS conversation (fuzz-dtls) ------------------------------------ */

/* One step on @in, its datagrams (the whole flight) appended to @seed and
 * @out, each behind its 16-bit length as fuzz-dtls.c reads them. */
static SECURITY_STATUS
dtls_step (SspidTls *tls, const guint8 *in, gsize len, GByteArray *seed, GPtrArray *out)
{
  SECURITY_STATUS status = SEC_I_MESSAGE_FRAGMENT;

  /* SEC_I_INCOMPLETE_CREDENTIALS (the server asks for a certificate):
   * the same datagram again, going on without one. */
  for (gboolean first = TRUE; status == SEC_I_MESSAGE_FRAGMENT ||
                              status == SEC_I_INCOMPLETE_CREDENTIALS; first = FALSE)
    {
      SspidTlsStep st;
      gsize n;
      const guint8 *bytes;

      if (status == SEC_I_INCOMPLETE_CREDENTIALS)
        first = TRUE;
      sspid_tls_step (tls, first ? in : NULL, first ? len : 0, &st);
      status = st.status;
      bytes = g_bytes_get_data (st.token, &n);
      if (n > 0)
        {
          guint8 prefix[2] = { (guint8) (n >> 8), (guint8) n };

          g_byte_array_append (seed, prefix, 2);
          g_byte_array_append (seed, bytes, (guint) n);
          g_ptr_array_add (out, g_bytes_ref (st.token));
        }
      sspid_tls_step_clear (&st);
    }
  return status;
}

static void
dtls_conversation (void)
{
  static const guint8 client_role = 0, server_role = 1;
  g_autoptr (SspidCredential) c = fuzz_acquire (NULL, SECPKG_CRED_OUTBOUND, SP_PROT_DTLS1_2_CLIENT);
  g_autoptr (SspidCredential) s = fuzz_acquire ("server", SECPKG_CRED_INBOUND, SP_PROT_DTLS1_2_SERVER);
  g_autoptr (SspidTls) client = NULL;
  g_autoptr (SspidTls) server = NULL;
  g_autoptr (GByteArray) to_client = g_byte_array_new ();   /* the client's seed */
  g_autoptr (GByteArray) to_server = g_byte_array_new ();
  g_autoptr (GPtrArray) c_out = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr (GBytes) record = NULL;
  SECURITY_STATUS cs, ss = SEC_I_CONTINUE_NEEDED;

  g_byte_array_append (to_client, &client_role, 1);
  g_byte_array_append (to_server, &server_role, 1);
  FUZZ_CHECK (sspid_tls_new_client (c, "localhost", ISC_REQ_DATAGRAM, NULL, &client) == SEC_E_OK);
  FUZZ_CHECK (sspid_tls_new_server (s, ASC_REQ_DATAGRAM, NULL, &server) == SEC_E_OK);
  cs = dtls_step (client, NULL, 0, to_server, c_out);
  for (guint round = 0; round < 16 && (cs != SEC_E_OK || ss != SEC_E_OK); round++)
    {
      g_autoptr (GPtrArray) s_out = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
      g_autoptr (GPtrArray) in = g_steal_pointer (&c_out);

      c_out = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
      for (guint i = 0; i < in->len; i++)
        ss = dtls_step (server, g_bytes_get_data (in->pdata[i], NULL),
                        g_bytes_get_size (in->pdata[i]), to_client, s_out);
      for (guint i = 0; i < s_out->len; i++)
        cs = dtls_step (client, g_bytes_get_data (s_out->pdata[i], NULL),
                        g_bytes_get_size (s_out->pdata[i]), to_server, c_out);
    }
  if (cs != SEC_E_OK || ss != SEC_E_OK)
    {
      fprintf (stderr, "make-corpus: DTLS handshake failed (0x%08x, 0x%08x)\n",
               (unsigned) cs, (unsigned) ss);
      exit (1);
    }
  /* Then a record each way. */
  FUZZ_CHECK (sspid_tls_encrypt (server, (const guint8 *) "hello", 5, &record) == SEC_E_OK);
  {
    guint8 prefix[2] = { 0, (guint8) g_bytes_get_size (record) };

    g_byte_array_append (to_client, prefix, 2);
    g_byte_array_append (to_client, g_bytes_get_data (record, NULL), (guint) g_bytes_get_size (record));
  }
  save ("fuzz-dtls", "engine-client", to_client->data, to_client->len);
  save ("fuzz-dtls", "engine-server", to_server->data, to_server->len);
}

/* ---- fuzz-record scripts ------------------------------------------------ */

static void
records (void)
{
  /* setup, then operations (fuzz-record.c) */
  static const guint8 send_deliver[] = { 0, 0, 4, 'h', 'e', 'l', 'l', 'o', 6, 0xff, 0xff };
  static const guint8 tls12[] = { 1, 0, 2, 'a', 'b', 'c', 0, 0, 'd', 6, 0xff, 0xff, 7, 1, 'x', 'y' };
  static const guint8 big[] = { 0, 1, 0x40, 0x00, 1, 0x40, 0x01, 6, 0x01, 0x00, 6, 0xff, 0xff };
  static const guint8 flip[] = { 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 2, 0, 9, 0x01, 6, 0xff, 0xff };
  static const guint8 raw[] = { 0, 3, 5, 0x17, 0x03, 0x03, 0x00, 0x10, 6, 0xff, 0xff };
  static const guint8 alerts[] = { 0, 0, 1, 'a', 4, 0, 6, 0xff, 0xff, 7, 0, 'z' };
  static const guint8 fatal[] = { 2, 0, 1, 'a', 4, 40, 6, 0xff, 0xff };
  static const guint8 keyupdate[] = { 0, 5, 0, 0, 0, 'k', 6, 0xff, 0xff, 7, 2, 'a', 'b', 'c', 5, 0, 6, 0, 5 };
  static const guint8 partial[] = { 0, 0, 31, 'p', 'a', 'r', 't', 'i', 'a', 'l', ' ', 'r', 'e', 'c', 'o', 'r',
                                    'd', 's', ' ', 'a', 'r', 'e', ' ', 'c', 'u', 't', ' ', 'h', 'e', 'r', 'e',
                                    '.', '.', 6, 0, 3, 6, 0, 20, 6, 0xff, 0xff };
  static const guint8 empty[] = { 0, 1, 0, 0, 0, 0, 'e', 6, 0xff, 0xff, 7, 0, 0 };
  static const struct { const char *name; const guint8 *data; gsize len; } scripts[] = {
    { "send-deliver", send_deliver, sizeof send_deliver },
    { "tls12", tls12, sizeof tls12 },
    { "big", big, sizeof big },
    { "flip", flip, sizeof flip },
    { "raw", raw, sizeof raw },
    { "close-notify", alerts, sizeof alerts },
    { "fatal-alert-rsa", fatal, sizeof fatal },
    { "keyupdate", keyupdate, sizeof keyupdate },
    { "partial", partial, sizeof partial },
    { "empty", empty, sizeof empty },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (scripts); i++)
    save ("fuzz-record", scripts[i].name, scripts[i].data, scripts[i].len);
}

/* ---- D-Bus messages ----------------------------------------------------- */

static void
add_message (GByteArray *stream, const char *method, GVariant *params)
{
  g_autoptr (GDBusMessage) m = g_dbus_message_new_method_call (SSPID_BUS_NAME, SSPID_OBJECT_PATH,
                                                               SSPID_INTERFACE, method);
  g_autoptr (GError) error = NULL;
  g_autofree guchar *blob = NULL;
  gsize len = 0;

  g_dbus_message_set_sender (m, ":1.42");
  g_dbus_message_set_serial (m, stream->len + 1);
  if (params != NULL)
    g_dbus_message_set_body (m, params);
  blob = g_dbus_message_to_blob (m, &len, G_DBUS_CAPABILITY_FLAGS_UNIX_FD_PASSING, &error);
  FUZZ_CHECK (blob != NULL);
  g_byte_array_append (stream, blob, (guint) len);
}

/* The parameters libsspi builds for @r. */
static GVariant *
built (SspiRequest *r, SECURITY_STATUS status)
{
  FUZZ_CHECK (status == SEC_E_OK);
  return sspi_request_build_params (r, 7);
}

static void
dbus_requests (const guint8 *hello, gsize hello_len)
{
  static const guint8 alpn_list[] = {
    /* SEC_APPLICATION_PROTOCOLS: ProtocolListsSize, then one ALPN list */
    18, 0, 0, 0, 2, 0, 0, 0, 12, 0, 2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1',
  };
  SecHandle cred, ctx, new_ctx = { 0 };
  SecBuffer in_bufs[2] = { { 0, SECBUFFER_TOKEN, NULL }, { 0, SECBUFFER_EMPTY, NULL } };
  SecBuffer alpn_buf = { sizeof alpn_list, SECBUFFER_APPLICATION_PROTOCOLS, (void *) alpn_list };
  /* Room for a token: without it (and without ALLOCATE_MEMORY) libsspi
   * answers SEC_E_INSUFFICIENT_MEMORY before it builds a request, as
   * Schannel does. */
  static guint8 token_room[16384];
  SecBuffer out_buf = { sizeof token_room, SECBUFFER_TOKEN, token_room };
  SecBufferDesc in = { SECBUFFER_VERSION, 2, in_bufs }, alpn = { SECBUFFER_VERSION, 1, &alpn_buf };
  SecBufferDesc out = { SECBUFFER_VERSION, 1, &out_buf };
  SCHANNEL_CRED sc = { .dwVersion = SCHANNEL_CRED_VERSION, .grbitEnabledProtocols = SP_PROT_TLS1_2_CLIENT };
  ULONG attrs;
  TimeStamp ts;
  g_autoptr (GByteArray) one = g_byte_array_new ();
  g_autoptr (GByteArray) stream = g_byte_array_new ();

  sspi_handle_pack (&cred, SSPI_HANDLE_CREDENTIAL, 1, sspi_generation_get ());
  sspi_handle_pack (&ctx, SSPI_HANDLE_CONTEXT, 2, sspi_generation_get ());
  in_bufs[0].pvBuffer = (void *) hello;
  in_bufs[0].cbBuffer = (ULONG) hello_len;

  {
    g_auto (SspiRequest) r = { 0 };
    add_message (one, "AcquireCredentialsHandle",
                 built (&r, sspi_request_init_acquire (&r, "server", "Schannel", SECPKG_CRED_INBOUND,
                                                       NULL, &cred, &ts)));
    save ("fuzz-dbus-request", "acquire", one->data, one->len);
    g_byte_array_append (stream, one->data, one->len);
  }
  {
    g_auto (SspiRequest) r = { 0 };
    g_byte_array_set_size (one, 0);
    add_message (one, "AcquireCredentialsHandle",
                 built (&r, sspi_request_init_acquire (&r, NULL, "Microsoft Unified Security Protocol Provider",
                                                       SECPKG_CRED_OUTBOUND, &sc, &cred, &ts)));
    save ("fuzz-dbus-request", "acquire-schannel-cred", one->data, one->len);
  }
  {
    g_auto (SspiRequest) r = { 0 };
    g_byte_array_set_size (one, 0);
    add_message (one, "InitializeSecurityContext",
                 built (&r, sspi_request_init_initialize (&r, &cred, NULL, "localhost",
                                                          ISC_REQ_CONFIDENTIALITY, &alpn, &new_ctx,
                                                          &out, &attrs, &ts)));
    save ("fuzz-dbus-request", "initialize-alpn", one->data, one->len);
    g_byte_array_append (stream, one->data, one->len);
  }
  {
    g_auto (SspiRequest) r = { 0 };
    g_byte_array_set_size (one, 0);
    add_message (one, "AcceptSecurityContext",
                 built (&r, sspi_request_init_accept (&r, &cred, NULL, &in, ASC_REQ_MUTUAL_AUTH,
                                                      &new_ctx, &out, &attrs, &ts)));
    save ("fuzz-dbus-request", "accept-clienthello", one->data, one->len);
    g_byte_array_append (stream, one->data, one->len);
  }
  g_byte_array_set_size (one, 0);
  add_message (one, "DecryptMessage",
               sspid_record_args_encode (&(SspidRecordArgs) {
                 2, g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, "\x17\x03\x03\x00\x01x", 6, 1) }));
  add_message (one, "EncryptMessage",
               sspid_record_args_encode (&(SspidRecordArgs) {
                 2, g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, "data", 4, 1) }));
  save ("fuzz-dbus-request", "records", one->data, one->len);
  g_byte_array_append (stream, one->data, one->len);
  add_message (stream, "ApplyControlToken", sspid_control_args_encode (&(SspidControlArgs) {
                 2, SCHANNEL_ALERT, TLS1_ALERT_FATAL, 40 }));
  add_message (stream, "QueryContext", sspid_context_args_encode (2));
  add_message (stream, "QueryCredential", sspid_context_args_encode (1));
  {
    g_auto (SspiRequest) r = { 0 };
    add_message (stream, "DeleteSecurityContext", built (&r, sspi_request_init_delete (&r, &ctx)));
  }
  {
    g_auto (SspiRequest) r = { 0 };
    add_message (stream, "FreeCredentialsHandle",
                 built (&r, sspi_request_init_free_credentials (&r, &cred)));
  }
  add_message (stream, "Hello", NULL);
  save ("fuzz-dbus-request", "stream", stream->data, stream->len);
}

/* ---- fuzz-channel packets -------------------------------------------------- */

/* One request packet (header + the "(tay)" body, as sspi-channel.c sends
 * it) behind fuzz-channel.c's 2-byte length. */
static void
add_packet (GByteArray *to, guint16 op, guint64 handle, const void *data, gsize len)
{
  SspidChannelHeader header = { (guint32) to->len + 1, op, 0 };
  g_autoptr (GVariant) params = g_variant_ref_sink (
    sspid_record_args_encode (&(SspidRecordArgs) {
      handle, g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, len, 1) }));
  gsize size = sizeof header + g_variant_get_size (params);
  guint8 prefix[2] = { (guint8) (size >> 8), (guint8) size };

  g_byte_array_append (to, prefix, 2);
  g_byte_array_append (to, (const guint8 *) &header, sizeof header);
  g_byte_array_append (to, g_variant_get_data (params), (guint) g_variant_get_size (params));
}

static void
channel_requests (void)
{
  g_autoptr (SspidTls) client = NULL;
  g_autoptr (SspidTls) server = NULL;
  g_autoptr (GBytes) record = NULL;
  g_autoptr (GByteArray) one = g_byte_array_new ();
  g_autoptr (GByteArray) stream = g_byte_array_new ();

  /* A real record (under keys the fuzzer will not have: its framing is
   * what counts). */
  FUZZ_CHECK (fuzz_pair (NULL, "server", 0, &client, &server, NULL));
  FUZZ_CHECK (sspid_tls_encrypt (server, (const guint8 *) "GET / HTTP/1.0\r\n\r\n", 18,
                                 &record) == SEC_E_OK);

  /* Byte 0 is max-token-size in 64-byte units (0: none). */
  g_byte_array_append (one, (const guint8 *) "\0", 1);
  add_packet (one, SSPID_CHANNEL_OP_ENCRYPT, 2, "hello", 5);
  save ("fuzz-channel", "encrypt", one->data, one->len);
  g_byte_array_append (stream, (const guint8 *) "\1", 1);   /* 64 bytes */
  g_byte_array_append (stream, one->data + 1, one->len - 1);
  g_byte_array_set_size (one, 1);
  add_packet (one, SSPID_CHANNEL_OP_DECRYPT, 2, g_bytes_get_data (record, NULL),
              g_bytes_get_size (record));
  save ("fuzz-channel", "decrypt", one->data, one->len);
  g_byte_array_append (stream, one->data + 1, one->len - 1);
  add_packet (stream, SSPID_CHANNEL_OP_ENCRYPT, 2, NULL, 0);
  add_packet (stream, SSPID_CHANNEL_OP_ENCRYPT, 2, g_bytes_get_data (record, NULL),
              g_bytes_get_size (record));   /* over the 64 bytes */
  save ("fuzz-channel", "stream", stream->data, stream->len);
}

/* ---- fuzz-sspi-marshal inputs -------------------------------------------- */

static void
put_u32 (GByteArray *a, guint32 v)
{
  guint8 b[4] = { v >> 24, v >> 16, v >> 8, v };
  g_byte_array_append (a, b, 4);
}

/* Starts @a afresh with what every fuzz-sspi-marshal input begins with:
 * the mode byte (which call, in which shape) and the values of the
 * credential and context handles the call is given (1 and 2). */
static void
begin_call (GByteArray *a, guint8 mode)
{
  g_byte_array_set_size (a, 0);
  g_byte_array_append (a, &mode, 1);
  put_u32 (a, 1);
  put_u32 (a, 2);
}

/* A serialised step result, as the daemon answers. */
static void
put_answer (GByteArray *a, guint32 status, const char *token, guint32 extra, guint32 missing)
{
  g_autoptr (GVariant) v = g_variant_ref_sink (
    g_variant_new ("(ut@ayuxuu@a{sv})", status, (guint64) 3,
                   g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, token, strlen (token), 1),
                   (guint32) 0x1c, (gint64) 1900000000, extra, missing,
                   g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0)));
  g_byte_array_append (a, g_variant_get_data (v), (guint) g_variant_get_size (v));
}

static void
marshal_inputs (void)
{
  static const guint8 alpn_list[] = {
    18, 0, 0, 0, 2, 0, 0, 0, 12, 0, 2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1',
  };
  g_autoptr (GByteArray) a = g_byte_array_new ();

  /* ISC: cred 1, first step, target, input (token + ALPN), output token of 64 */
  begin_call (a, 0x00);
  put_u32 (a, ISC_REQ_CONFIDENTIALITY | ISC_REQ_STREAM);
  g_byte_array_append (a, (const guint8 *) "\x09localhost", 10);
  g_byte_array_append (a, (const guint8 *) "\x02\x00\x05\x02hello\x00\x16\x12", 12);
  g_byte_array_append (a, alpn_list, sizeof alpn_list);
  g_byte_array_append (a, (const guint8 *) "\x01\x00\x40\x02", 4);
  put_answer (a, SEC_I_CONTINUE_NEEDED, "client hello bytes", 0, 0);
  save ("fuzz-sspi-marshal", "initialize", a->data, a->len);

  /* ASC continuation with EXTRA, output allocated by the library */
  begin_call (a, 0x09);
  put_u32 (a, ASC_REQ_ALLOCATE_MEMORY);
  g_byte_array_append (a, (const guint8 *) "\x02\x00\x04\x02" "abcd\x00\x00\x00", 11);
  g_byte_array_append (a, (const guint8 *) "\x01\x00\x00\x02", 4);
  put_answer (a, SEC_E_OK, "server finished", 2, 0);
  save ("fuzz-sspi-marshal", "accept-extra", a->data, a->len);

  /* ISC with a too small output buffer and SECBUFFER_MISSING */
  begin_call (a, 0x08);
  put_u32 (a, 0);
  g_byte_array_append (a, (const guint8 *) "\xff\x02\x00\x01\x02x\x00\x00\x00", 9);
  g_byte_array_append (a, (const guint8 *) "\x01\x00\x04\x02", 4);
  put_answer (a, SEC_E_INCOMPLETE_MESSAGE, "too long for four", 0, 100);
  save ("fuzz-sspi-marshal", "initialize-small-buffer", a->data, a->len);

  /* ACH with SCH_CREDENTIALS and two TLS_PARAMETERS */
  begin_call (a, 0x02);
  g_byte_array_append (a, (const guint8 *) "\x06server\x08Schannel\x02", 17);
  put_u32 (a, 0);
  g_byte_array_append (a, (const guint8 *) "\x02\x00", 2);
  put_u32 (a, SP_PROT_TLS1_3_SERVER);
  g_byte_array_append (a, (const guint8 *) "\x01", 1);
  put_u32 (a, 0);
  put_u32 (a, SECPKG_CRED_INBOUND);
  put_answer (a, SEC_E_OK, "", 0, 0);
  save ("fuzz-sspi-marshal", "acquire-sch-credentials", a->data, a->len);

  /* DeleteSecurityContext */
  begin_call (a, 0x07);
  put_answer (a, SEC_E_OK, "", 0, 0);
  save ("fuzz-sspi-marshal", "delete", a->data, a->len);
}

/* ---- fuzz-config -------------------------------------------------------- */

static void
configs (void)
{
  g_autofree char *pem = fuzz_pki_path ("server.pem");
  g_autofree char *key = fuzz_pki_path ("server.key");
  g_autofree char *ca = fuzz_pki_path ("ca.pem");
  g_autofree char *conf = g_strdup_printf (
    "[daemon]\ndefault-trust=%s\nmax-token-size=65536\nhandshake-timeout-sec=5\n\n"
    "[credential web]\ncertificate=%s\nkey=%s\nusage=inbound\nusers=root;1000;*\n"
    "groups=root;0\nclient-auth=request\ntrust=%s\n\n"
    "[credential out]\ncertificate=%s\nkey=pkcs11:token=t;object=o\nusage=both\nusers=*\n",
    ca, pem, key, ca, pem);

  save ("fuzz-config", "pki", conf, strlen (conf));
}

int
main (int argc, char **argv)
{
  static const char *const alpn[] = { "h2", "http/1.1", NULL };
  g_autoptr (GByteArray) hello = g_byte_array_new ();

  if (argc != 2)
    {
      fprintf (stderr, "usage: %s OUTDIR\n", argv[0]);
      return 2;
    }
  outdir = argv[1];
  fuzz_init_logging ();

  conversation ("tls13", NULL, "server", 0, 0, NULL);
  conversation ("tls12", NULL, "server", SP_PROT_TLS1_2_CLIENT, 0, alpn);
  conversation ("tls12-rsa", NULL, "rsa", SP_PROT_TLS1_2_CLIENT, 0, NULL);
  conversation ("tls13-mtls", "client", "mtls", 0, 0, alpn);
  dtls_conversation ();
  {
    g_autoptr (SspidCredential) c = fuzz_acquire (NULL, SECPKG_CRED_OUTBOUND, 0);
    g_autoptr (SspidTls) tls = NULL;
    SspidTlsStep st;
    gsize len;
    const guint8 *data;

    FUZZ_CHECK (sspid_tls_new_client (c, "localhost", 0, alpn, &tls) == SEC_E_OK);
    sspid_tls_step (tls, NULL, 0, &st);
    data = g_bytes_get_data (st.token, &len);
    g_byte_array_append (hello, data, (guint) len);
    sspid_tls_step_clear (&st);
  }
  quic_conversation ();
  records ();
  dbus_requests (hello->data, hello->len);
  channel_requests ();
  marshal_inputs ();
  configs ();
  return 0;
}
