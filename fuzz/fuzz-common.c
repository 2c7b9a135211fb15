/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the fuzz targets (see fuzz-common.h).
 */
#include "config.h"

#include "fuzz-common.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sspid-config.h"
#include "sspid-describe.h"
#include "sspid-tls-quic.h"

G_NORETURN void
fuzz_fail (const char *file, int line, const char *what)
{
  fprintf (stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
  abort ();
}

static GLogWriterOutput
writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  static int verbose = -1;

  if (verbose < 0)
    verbose = g_getenv ("SSPID_FUZZ_VERBOSE") != NULL;
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    {
      g_log_writer_standard_streams (level, fields, n_fields, user_data);
      abort ();
    }
  if (verbose)
    return g_log_writer_standard_streams (level, fields, n_fields, user_data);
  return G_LOG_WRITER_HANDLED;
}

void
fuzz_init_logging (void)
{
  static gboolean done;

  if (done)
    return;
  done = TRUE;
  /* A structured writer decides itself what is fatal. */
  g_log_set_writer_func (writer, NULL, NULL);
}

char *
fuzz_pki_path (const char *file)
{
  const char *dir = g_getenv ("SSPID_TEST_PKI");

  if (dir == NULL || *dir == '\0')
    {
      fprintf (stderr, "fuzz: set SSPID_TEST_PKI to a test PKI "
                       "(tests/pki/gen-pki.sh tests/pki DIR); tools/fuzz does this\n");
      exit (2);
    }
  return g_build_filename (dir, file, NULL);
}

static void
add_credential (GString *conf, const char *name, const char *files, const char *extra)
{
  g_autofree char *pem_name = g_strdup_printf ("%s.pem", files);
  g_autofree char *key_name = g_strdup_printf ("%s.key", files);
  g_autofree char *pem = fuzz_pki_path (pem_name);
  g_autofree char *key = fuzz_pki_path (key_name);

  g_string_append_printf (conf, "[credential %s]\ncertificate=%s\nkey=%s\nusers=%u\n%s",
                          name, pem, key, (unsigned) getuid (), extra);
}

SspidCredentialStore *
fuzz_store (void)
{
  static SspidCredentialStore *store;
  g_autoptr (GString) conf = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SspidConfig) config = NULL;
  g_autofree char *ca = NULL;
  g_auto (GStrv) names = NULL;

  if (store != NULL)
    return store;

  ca = fuzz_pki_path ("ca.pem");
  conf = g_string_new (NULL);
  g_string_append_printf (conf, "[daemon]\ndefault-trust=%s\n", ca);
  add_credential (conf, "server", "server", "usage=inbound\nclient-auth=request\nquic=allow\n");
  add_credential (conf, "mtls", "server", "usage=inbound\nclient-auth=require\n");
  add_credential (conf, "rsa", "rsa", "usage=inbound\n");
  add_credential (conf, "client", "client", "usage=outbound\nquic=allow\n");
  config = sspid_config_load_data (conf->str, conf->len, "fuzz", &error);
  if (config == NULL)
    {
      fprintf (stderr, "fuzz: config: %s\n", error->message);
      abort ();
    }
  store = sspid_credential_store_new (config);
  /* A credential left out (bad PKI) would silently fuzz less. */
  names = sspid_credential_store_dup_names (store);
  FUZZ_CHECK (g_strv_length (names) == 4);
  return store;
}

const SspidIdentity *
fuzz_identity (void)
{
  static SspidIdentity me;

  me.uid = getuid ();
  me.pid = getpid ();
  return &me;
}

SspidCredential *
fuzz_acquire (const char *name, guint32 use, guint32 protocols)
{
  SspidCredential *cred = NULL;
  SECURITY_STATUS status;

  status = sspid_credential_store_acquire (fuzz_store (), name, use, protocols, 0,
                                           fuzz_identity (), &cred);
  if (status != SEC_E_OK)
    {
      fprintf (stderr, "fuzz: acquiring %s: 0x%08x\n", name ? name : "(anonymous)",
               (unsigned) status);
      abort ();
    }
  return cred;
}

gsize
fuzz_decrypt_all (SspidTls *tls, const guint8 *data, gsize size)
{
  gsize used = 0;

  for (guint round = 0; round < 256 && used < size; round++)
    {
      SspidTlsDecrypt d;
      SECURITY_STATUS status;
      gsize len = size - used;

      sspid_tls_decrypt (tls, data + used, len, &d);
      status = d.status;
      FUZZ_CHECK (d.plaintext != NULL);
      if (status == SEC_E_INCOMPLETE_MESSAGE)
        FUZZ_CHECK (d.missing > 0);
      else if (status == SEC_E_OK || status == SEC_I_RENEGOTIATE || status == SEC_I_CONTEXT_EXPIRED)
        {
          FUZZ_CHECK (d.record_size > 0);
          FUZZ_CHECK ((gsize) d.record_size + d.extra == len);
          /* A record never yields more than it carried. */
          FUZZ_CHECK (g_bytes_get_size (d.plaintext) <= d.record_size);
          used += d.record_size;
        }
      sspid_tls_decrypt_clear (&d);
      if (status != SEC_E_OK && status != SEC_I_RENEGOTIATE)
        break;
      if (status == SEC_I_RENEGOTIATE)
        {
          /* The answer (a KeyUpdate) goes out with the next step. */
          SspidTlsStep st;
          sspid_tls_step (tls, NULL, 0, &st);
          FUZZ_CHECK (st.token != NULL);
          sspid_tls_step_clear (&st);
        }
    }
  return used;
}

SECURITY_STATUS
fuzz_step (SspidTls *tls, const guint8 *data, gsize size, gsize *used, guint32 *missing)
{
  SspidTlsStep st;
  SECURITY_STATUS status;

  sspid_tls_step (tls, data, size, &st);
  FUZZ_CHECK (st.token != NULL);
  FUZZ_CHECK (st.extra <= size);
  status = st.status;
  if (status == SEC_I_GENERIC_EXTENSION_RECEIVED)
    FUZZ_CHECK (st.quic != NULL && st.quic->extension != NULL);
  if (used != NULL)
    *used = size - st.extra;
  if (missing != NULL)
    *missing = st.missing;
  sspid_tls_step_clear (&st);
  for (guint i = 0; status == SEC_I_MESSAGE_FRAGMENT && i < 256; i++)
    {
      sspid_tls_step (tls, NULL, 0, &st);
      FUZZ_CHECK (st.token != NULL);
      status = st.status;
      sspid_tls_step_clear (&st);
    }
  FUZZ_CHECK (status != SEC_I_MESSAGE_FRAGMENT);
  return status;
}

SspidTls *
fuzz_quic_session (SspidCredential *cred, gboolean is_server)
{
  static const char *const alpn[] = { "h3", NULL };
  g_autoptr (SspidTls) tls = NULL;
  g_autoptr (GBytes) params = g_bytes_new_static ("fuzz transport parameters", 25);
  SspidQuicArgs args = {
    .is_messages = TRUE, .has_extension = TRUE, .extension_type = 0x39,
    .extension_handshake = is_server ? 8 : 1, .extension_data = params,
    .has_subscription = TRUE, .subscription_type = 0x39,
    .subscription_handshake = is_server ? 1 : 8,
  };

  if (is_server)
    FUZZ_CHECK (sspid_tls_new_server (cred, 0, alpn, &tls) == SEC_E_OK);
  else
    FUZZ_CHECK (sspid_tls_new_client (cred, "localhost", 0, alpn, &tls) == SEC_E_OK);
  FUZZ_CHECK (sspid_tls_quic_enable (tls, &args) == SEC_E_OK);
  return g_steal_pointer (&tls);
}

void
fuzz_walk (SspidTls *tls, const guint8 *data, gsize size)
{
  for (guint round = 0; round < 64; round++)
    {
      SspidTlsStep st;
      SECURITY_STATUS status;
      gsize used;

      sspid_tls_step (tls, data, size, &st);
      FUZZ_CHECK (st.token != NULL);
      status = st.status;
      used = size - MIN (st.extra, size);
      FUZZ_CHECK (st.extra <= size);
      if (status == SEC_E_INCOMPLETE_MESSAGE)
        FUZZ_CHECK (st.missing > 0);
      sspid_tls_step_clear (&st);

      if (status == SEC_I_INCOMPLETE_CREDENTIALS)
        continue;   /* going on without a certificate: the same bytes again */
      if (status == SEC_I_CONTINUE_NEEDED && used > 0 && used < size)
        {
          data += used;
          size -= used;
          continue;
        }
      if (status == SEC_E_OK && sspid_tls_is_established (tls))
        {
          fuzz_decrypt_all (tls, data + used, size - used);
          break;
        }
      if ((gint32) status < 0 && status != SEC_E_INCOMPLETE_MESSAGE)
        {
          /* A failed context stays failed, whatever comes next. */
          sspid_tls_step (tls, data, size, &st);
          FUZZ_CHECK (st.status == status);
          sspid_tls_step_clear (&st);
        }
      break;
    }

  /* What QueryContext would report on whatever state the input left. */
  {
    g_autoptr (SspidTlsInfo) facts = sspid_tls_get_info (tls);
    g_autoptr (GVariant) info = g_variant_ref_sink (sspid_describe_tls (facts));
    FUZZ_CHECK (g_variant_is_of_type (info, G_VARIANT_TYPE_VARDICT));
  }
}

static void
side_step (FuzzSide *self, FuzzSide *peer)
{
  SspidTlsStep st;
  gsize len;
  const guint8 *token;

  sspid_tls_step (self->tls, self->inbox->data, self->inbox->len, &st);
  self->status = st.status;
  self->steps++;
  if (st.status != SEC_E_INCOMPLETE_MESSAGE)
    g_byte_array_remove_range (self->inbox, 0, self->inbox->len - MIN (st.extra, self->inbox->len));
  token = g_bytes_get_data (st.token, &len);
  g_byte_array_append (peer->inbox, token, (guint) len);
  if (self->sent != NULL)
    g_byte_array_append (self->sent, token, (guint) len);
  sspid_tls_step_clear (&st);
}

static gboolean
is_running (SECURITY_STATUS st)
{
  return st == SEC_I_CONTINUE_NEEDED || st == SEC_E_INCOMPLETE_MESSAGE ||
         st == SEC_I_INCOMPLETE_CREDENTIALS;
}

gboolean
fuzz_converse (FuzzSide *client, FuzzSide *server)
{
  side_step (client, server);
  for (int round = 0; round < 20; round++)
    {
      if (server->inbox->len > 0 && (server->steps == 0 || is_running (server->status)))
        side_step (server, client);
      if (is_running (client->status) &&
          (client->inbox->len > 0 || client->status == SEC_I_INCOMPLETE_CREDENTIALS))
        side_step (client, server);
      else if (!(server->inbox->len > 0 && is_running (server->status)))
        break;
    }
  return sspid_tls_is_established (client->tls) && sspid_tls_is_established (server->tls);
}

gboolean
fuzz_pair (const char *client_cred, const char *server_cred, guint32 protocols,
           SspidTls **client, SspidTls **server, GByteArray *to_client)
{
  g_autoptr (SspidCredential) c = fuzz_acquire (client_cred, SECPKG_CRED_OUTBOUND, protocols);
  g_autoptr (SspidCredential) s = fuzz_acquire (server_cred, SECPKG_CRED_INBOUND, 0);
  g_autoptr (GByteArray) c_in = g_byte_array_new ();
  g_autoptr (GByteArray) s_in = g_byte_array_new ();
  FuzzSide cs = { .inbox = c_in, .status = SEC_I_CONTINUE_NEEDED };
  FuzzSide ss = { .inbox = s_in, .status = SEC_I_CONTINUE_NEEDED };
  gboolean ok;

  *client = *server = NULL;
  FUZZ_CHECK (sspid_tls_new_client (c, "localhost", 0, NULL, &cs.tls) == SEC_E_OK);
  FUZZ_CHECK (sspid_tls_new_server (s, 0, NULL, &ss.tls) == SEC_E_OK);
  ok = fuzz_converse (&cs, &ss);
  if (!ok)
    {
      sspid_tls_free (cs.tls);
      sspid_tls_free (ss.tls);
      return FALSE;
    }
  if (to_client != NULL)
    g_byte_array_append (to_client, c_in->data, c_in->len);
  *client = cs.tls;
  *server = ss.tls;
  return TRUE;
}

/* fuzz_record_request()'s pair: one per input, not per process. */
static SspidTls *established;
static SspidTls *established_peer;

void
fuzz_record_request (SspidCallKind kind, const SspidRequest *request)
{
  gsize len;
  const guint8 *data = g_variant_get_fixed_array (request->input, &len, 1);

  if (established == NULL)
    FUZZ_CHECK (fuzz_pair (NULL, "server", 0, &established, &established_peer, NULL));
  if (kind == SSPID_CALL_ENCRYPT)
    {
      g_autoptr (GBytes) record = NULL;
      SECURITY_STATUS status = sspid_tls_encrypt (established, data, len, &record);

      FUZZ_CHECK ((status == SEC_E_OK) == (record != NULL));
    }
  else
    fuzz_decrypt_all (established, data, len);
}

void
fuzz_input_done (void)
{
  g_clear_pointer (&established, sspid_tls_free);
  g_clear_pointer (&established_peer, sspid_tls_free);
}
