/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The session report of the TLS verbs (connect, serve): what
 * QueryContextAttributes says of an established context (protocol, cipher,
 * ALPN, SECPKG_ATTR_SESSION_INFO's resumption flag, the peer certificate's
 * subject), and what moved after the handshake, as "field: value" lines
 * (which tools/demo and the tests read) or one JSON document.  GnuTLS is
 * used only to decode the peer's public certificate.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "sspid-json.h"
#include "sspictl-tls.h"

static const char *
protocol_name (DWORD protocol)
{
  if (protocol & SP_PROT_TLS1_3)
    return "TLS 1.3";
  if (protocol & SP_PROT_TLS1_2)
    return "TLS 1.2";
  if (protocol & SP_PROT_TLS1_1)
    return "TLS 1.1";
  if (protocol & SP_PROT_TLS1_0)
    return "TLS 1.0";
  if (protocol & SP_PROT_DTLS1_2)
    return "DTLS 1.2";
  if (protocol & SP_PROT_DTLS1_0)
    return "DTLS 1.0";
  return "unknown";
}

static char *
utf16_to_utf8 (const WCHAR *s, gsize max)
{
  glong len = 0;

  while ((gsize) len < max && s[len] != 0)
    len++;
  return g_utf16_to_utf8 ((const gunichar2 *) s, len, NULL, NULL, NULL);
}

/* The subject DN of a DER certificate, or NULL. */
static char *
subject_of_der (const guint8 *der, gsize len)
{
  gnutls_x509_crt_t crt;
  gnutls_datum_t in = { (unsigned char *) der, (unsigned int) len };
  gnutls_datum_t dn = { NULL, 0 };
  char *subject = NULL;

  if (gnutls_x509_crt_init (&crt) < 0)
    return NULL;
  if (gnutls_x509_crt_import (crt, &in, GNUTLS_X509_FMT_DER) >= 0 &&
      gnutls_x509_crt_get_dn2 (crt, &dn) >= 0)
    subject = g_strndup ((const char *) dn.data, dn.size);
  gnutls_free (dn.data);
  gnutls_x509_crt_deinit (crt);
  return subject;
}

/* What the report says, collected once for the text and the JSON form. */
struct _SspictlTlsReport {
  gboolean        is_server;
  SspictlTlsStats stats;
  const char     *protocol;   /* static */
  char           *cipher;
  char           *alpn;       /* NULL: none negotiated */
  gboolean        is_resumed;
  gboolean        has_peer;
  char           *peer;       /* subject; NULL with has_peer: undecodable */
};

void
sspictl_tls_report_free (SspictlTlsReport *r)
{
  if (r == NULL)
    return;
  g_free (r->cipher);
  g_free (r->alpn);
  g_free (r->peer);
  g_free (r);
}

static char *
cipher_of (CtxtHandle *ctx)
{
  SecPkgContext_CipherInfo ci = { 0 };
  SecPkgContext_ConnectionInfo conn = { 0 };
  g_autofree char *suite = NULL;

  if (QueryContextAttributesA (ctx, SECPKG_ATTR_CIPHER_INFO, &ci) == SEC_E_OK)
    suite = utf16_to_utf8 (ci.szCipherSuite, G_N_ELEMENTS (ci.szCipherSuite));
  if (suite != NULL && suite[0] != '\0')
    return g_steal_pointer (&suite);
  if (QueryContextAttributesA (ctx, SECPKG_ATTR_CONNECTION_INFO, &conn) == SEC_E_OK)
    return g_strdup_printf ("ALG_ID 0x%04x, %u bits", conn.aiCipher, conn.dwCipherStrength);
  return g_strdup ("unknown");
}

static char *
alpn_of (CtxtHandle *ctx)
{
  SecPkgContext_ApplicationProtocol ap = { 0 };

  if (QueryContextAttributesA (ctx, SECPKG_ATTR_APPLICATION_PROTOCOL, &ap) == SEC_E_OK &&
      ap.ProtoNegoStatus == SecApplicationProtocolNegotiationStatus_Success &&
      ap.ProtocolIdSize > 0)
    return g_strndup ((const char *) ap.ProtocolId, ap.ProtocolIdSize);
  return NULL;
}

static gboolean
is_resumed (CtxtHandle *ctx)
{
  SecPkgContext_SessionInfo si = { 0 };

  return QueryContextAttributesA (ctx, SECPKG_ATTR_SESSION_INFO, &si) == SEC_E_OK &&
         (si.dwFlags & SSL_SESSION_RECONNECT) != 0;
}

SspictlTlsReport *
sspictl_tls_report_new (CtxtHandle *ctx, gboolean is_server, const SspictlTlsStats *stats)
{
  SspictlTlsReport *r = g_new0 (SspictlTlsReport, 1);
  SecPkgContext_ConnectionInfo conn = { 0 };
  PCCERT_CONTEXT cert = NULL;

  r->is_server = is_server;
  r->stats = *stats;
  if (QueryContextAttributesA (ctx, SECPKG_ATTR_CONNECTION_INFO, &conn) == SEC_E_OK)
    r->protocol = protocol_name (conn.dwProtocol);
  else
    r->protocol = "unknown";
  r->cipher = cipher_of (ctx);
  r->alpn = alpn_of (ctx);
  r->is_resumed = is_resumed (ctx);
  if (QueryContextAttributesA (ctx, SECPKG_ATTR_REMOTE_CERT_CONTEXT, &cert) == SEC_E_OK &&
      cert != NULL)
    {
      r->has_peer = TRUE;
      r->peer = subject_of_der (cert->pbCertEncoded, cert->cbCertEncoded);
      CertFreeCertificateContext (cert);
    }
  return r;
}

const char *
sspictl_tls_report_peek_protocol (const SspictlTlsReport *r)
{
  return r->protocol;
}

const char *
sspictl_tls_report_peek_cipher (const SspictlTlsReport *r)
{
  return r->cipher;
}

const char *
sspictl_tls_report_peek_alpn (const SspictlTlsReport *r)
{
  return r->alpn;
}

const char *
sspictl_tls_report_peek_peer (const SspictlTlsReport *r)
{
  return r->peer;
}

gboolean
sspictl_tls_report_is_resumed (const SspictlTlsReport *r)
{
  return r->is_resumed;
}

void
sspictl_tls_exchange_clear (SspictlTlsExchange *x)
{
  g_clear_pointer (&x->http_line, g_free);
  g_clear_pointer (&x->body, g_bytes_unref);
}

static void
print_json (SspidJson *j, FILE *out)
{
  g_autofree char *text = sspid_json_finish (j);

  fputs (text, out);
  fflush (out);
}

static void
exchange_json (SspidJson *j, const SspictlTlsExchange *x)
{
  sspid_json_key (j, "exchange");
  sspid_json_begin_object (j);
  sspid_json_key (j, "bytes-received");
  sspid_json_uint (j, x->bytes_received);
  sspid_json_member_int (j, "records-received", x->records_received);
  sspid_json_member_int (j, "records-without-data", x->empty_records);
  sspid_json_key (j, "bytes-sent");
  sspid_json_uint (j, x->bytes_sent);
  sspid_json_member_int (j, "records-sent", x->records_sent);
  sspid_json_member_int (j, "renegotiations", x->renegotiations);
  sspid_json_member_int (j, "records-dropped", x->dropped);
  sspid_json_member_int (j, "flights-resent", x->flights_resent);
  sspid_json_member_string (j, "end", x->end);
  sspid_json_member_bool (j, "close-notify-sent", x->sent_close_notify);
  sspid_json_member_string (j, "http", x->http_line);
  if (x->body != NULL)
    {
      gsize len = 0;
      const char *data = g_bytes_get_data (x->body, &len);
      /* The writer repairs invalid UTF-8; a NUL would end the string. */
      g_autofree char *text = g_strndup (data, len);

      sspid_json_member_string (j, "body", text);
    }
  sspid_json_end_object (j);
}

static void
report_json (const SspictlTlsReport *r, const SspictlTlsExchange *x, FILE *out)
{
  SspidJson *j = sspid_json_new ();

  sspid_json_begin_object (j);
  sspid_json_member_string (j, "handshake", "ok");
  sspid_json_member_string (j, "role", r->is_server ? "server" : "client");
  sspid_json_member_string (j, "protocol", r->protocol);
  sspid_json_member_string (j, "cipher", r->cipher);
  sspid_json_member_string (j, "alpn", r->alpn);
  sspid_json_member_bool (j, "resumed", r->is_resumed);
  sspid_json_key (j, "peer-certificate");
  if (r->has_peer)
    {
      sspid_json_begin_object (j);
      sspid_json_member_string (j, "subject", r->peer);
      sspid_json_end_object (j);
    }
  else
    sspid_json_null (j);
  sspid_json_member_int (j, "steps", r->stats.steps);
  sspid_json_member_int (j, "incomplete", r->stats.incomplete);
  sspid_json_member_int (j, "extra", r->stats.extra);
  sspid_json_member_int (j, "retransmits", r->stats.retransmits);
  sspid_json_member_int (j, "pid", getpid ());
  if (x != NULL)
    exchange_json (j, x);
  sspid_json_end_object (j);
  print_json (j, out);
}

void
sspictl_tls_exchange_print (const SspictlTlsExchange *x, FILE *out)
{
  /* The tests and scripts read these "field: value" lines too. */
  fprintf (out, "received: %" G_GUINT64_FORMAT " bytes in %u records (%u without data)\n",
           x->bytes_received, x->records_received, x->empty_records);
  fprintf (out, "sent: %" G_GUINT64_FORMAT " bytes in %u records\n",
           x->bytes_sent, x->records_sent);
  fprintf (out, "renegotiations: %u\n", x->renegotiations);
  /* Only DTLS drops records or resends a flight after its handshake. */
  if (x->dropped > 0 || x->flights_resent > 0)
    fprintf (out, "datagrams: %u records dropped, %u flights resent\n", x->dropped,
             x->flights_resent);
  fprintf (out, "end: %s\n", x->end ? x->end : "none");
  fprintf (out, "close_notify sent: %s\n", x->sent_close_notify ? "yes" : "no");
  if (x->http_line != NULL)
    fprintf (out, "http: %s\n", x->http_line);
  fflush (out);
}

void
sspictl_tls_report_print (const SspictlTlsReport *r, const SspictlTlsExchange *x,
                          gboolean json, FILE *out)
{
  const char *label = r->is_server ? "client certificate" : "peer certificate";

  if (json)
    {
      report_json (r, x, out);
      return;
    }
  /* tools/demo and the tests read these "field: value" lines. */
  fprintf (out, "handshake: ok\n");
  fprintf (out, "role: %s\n", r->is_server ? "server" : "client");
  fprintf (out, "protocol: %s\n", r->protocol);
  fprintf (out, "cipher: %s\n", r->cipher);
  fprintf (out, "alpn: %s\n", r->alpn ? r->alpn : "none");
  fprintf (out, "resumed: %s\n", r->is_resumed ? "yes" : "no");
  if (!r->has_peer)
    fprintf (out, "%s: none\n", label);
  else
    fprintf (out, "%s: %s\n", label, r->peer ? r->peer : "(undecodable)");
  fprintf (out, "steps: %u (%u incomplete, %u extra)\n", r->stats.steps, r->stats.incomplete,
           r->stats.extra);
  if (r->stats.retransmits > 0)
    fprintf (out, "retransmits: %u (steps with no input: the peer was silent)\n",
             r->stats.retransmits);
  fprintf (out, "pid: %d\n", (int) getpid ());
  fflush (out);
  if (x != NULL)
    sspictl_tls_exchange_print (x, out);
}

void
sspictl_tls_report_print_before_data (const SspictlTlsReport *r, gboolean json, FILE *out)
{
  /* The JSON document waits for the exchange: it is one document. */
  if (!json)
    sspictl_tls_report_print (r, NULL, FALSE, out);
}

void
sspictl_tls_report_print_after_data (const SspictlTlsReport *r, const SspictlTlsExchange *x,
                                     gboolean json, FILE *out)
{
  if (json)
    sspictl_tls_report_print (r, x, TRUE, out);
  else
    sspictl_tls_exchange_print (x, out);
}

void
sspictl_tls_print_failure (SECURITY_STATUS status, gboolean is_server, gboolean json)
{
  const char *name = sspictl_status_name (status);

  if (json)
    {
      SspidJson *j = sspid_json_new ();
      g_autofree char *code = g_strdup_printf ("0x%08" G_GINT32_MODIFIER "X", (guint32) status);

      sspid_json_begin_object (j);
      sspid_json_member_string (j, "handshake", "failed");
      sspid_json_member_string (j, "role", is_server ? "server" : "client");
      sspid_json_member_string (j, "status", name ? name : "unknown");
      sspid_json_member_string (j, "status-code", code);
      sspid_json_member_int (j, "pid", getpid ());
      sspid_json_end_object (j);
      print_json (j, stdout);
    }
  else
    {
      g_print ("handshake: failed\n");
      fflush (stdout);
    }
  sspictl_print_status ("handshake failed", status);
}
