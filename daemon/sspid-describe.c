/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The contract's dictionaries from the engine's typed structs (see
 * sspid-describe.h).
 */
#include "config.h"

#include "sspid-describe.h"

static void
add_string (GVariantBuilder *b, const char *key, const char *value)
{
  g_variant_builder_add (b, "{sv}", key, g_variant_new_string (value != NULL ? value : ""));
}

static void
add_u32 (GVariantBuilder *b, const char *key, guint32 value)
{
  g_variant_builder_add (b, "{sv}", key, g_variant_new_uint32 (value));
}

/* Absent when @bytes is NULL. */
static void
add_bytes (GVariantBuilder *b, const char *key, GBytes *bytes)
{
  if (bytes != NULL)
    g_variant_builder_add (b, "{sv}", key,
                           g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, bytes, TRUE));
}

static GVariant *
certificate_chain (GPtrArray *chain)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("aay"));
  for (guint i = 0; i < chain->len; i++)
    g_variant_builder_add_value (&b, g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING,
                                                               chain->pdata[i], TRUE));
  return g_variant_builder_end (&b);
}

static void
add_established (GVariantBuilder *b, const SspidTlsInfo *info)
{
  add_u32 (b, "protocol", info->protocol);
  add_string (b, "protocol-name", info->protocol_name);
  add_string (b, "cipher", info->cipher);
  add_u32 (b, "cipher-bits", info->cipher_bits);
  add_string (b, "mac", info->mac);
  add_u32 (b, "mac-bits", info->mac_bits);
  add_string (b, "kx", info->kx);
  add_u32 (b, "kx-bits", info->kx_bits);
  add_u32 (b, "group", info->group);
  add_string (b, "server-key", info->server_key);
  g_variant_builder_add (b, "{sv}", "aead", g_variant_new_boolean (info->is_aead));
  add_u32 (b, "cipher-suite", info->cipher_suite);
  add_string (b, "cipher-suite-name", info->cipher_suite_name);
  add_bytes (b, "alpn", info->alpn);
  if (info->peer_certificates != NULL)
    g_variant_builder_add (b, "{sv}", "peer-certificates",
                           certificate_chain (info->peer_certificates));
  add_bytes (b, "tls-unique", info->tls_unique);
  add_bytes (b, "tls-server-end-point", info->tls_server_end_point);
  add_bytes (b, "tls-exporter", info->tls_exporter);
  g_variant_builder_add (b, "{sv}", "resumed", g_variant_new_boolean (info->is_resumed));
  add_bytes (b, "session-id", info->session_id);
  add_u32 (b, "header-size", info->header_size);
  add_u32 (b, "trailer-size", info->trailer_size);
  add_u32 (b, "max-message", info->max_message);
  add_u32 (b, "block-size", info->block_size);
  g_variant_builder_add (b, "{sv}", "expiry", g_variant_new_int64 (info->expiry));
}

GVariant *
sspid_describe_tls (const SspidTlsInfo *info)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  add_string (&b, "state", info->state);
  add_string (&b, "role", info->role);
  add_string (&b, "credential", info->credential);
  if (info->is_established)
    add_established (&b, info);
  return g_variant_builder_end (&b);
}

static GVariant *
describe_credential (const SspidCredentialInfo *info)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  add_string (&b, "name", info->name);
  add_string (&b, "usage", sspid_usage_to_string (info->usage));
  add_string (&b, "subject", info->subject);
  add_string (&b, "issuer", info->issuer);
  g_variant_builder_add (&b, "{sv}", "not-before", g_variant_new_int64 (info->not_before));
  g_variant_builder_add (&b, "{sv}", "not-after", g_variant_new_int64 (info->not_after));
  add_string (&b, "key-type", info->key_type != NULL ? info->key_type : "unknown");
  add_string (&b, "key-storage", info->is_pkcs11 ? "pkcs11" : "file");
  add_string (&b, "client-auth", sspid_client_auth_to_string (info->client_auth));
  return g_variant_builder_end (&b);
}

GVariant *
sspid_describe_credentials (GPtrArray *infos)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < infos->len; i++)
    g_variant_builder_add_value (&b, describe_credential (infos->pdata[i]));
  return g_variant_builder_end (&b);
}

static GVariant *
string_array (GPtrArray *names)
{
  return g_variant_new_strv ((const char *const *) names->pdata, (gssize) names->len);
}

GVariant *
sspid_describe_algorithms (const SspidTlsAlgorithms *algs)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "ciphers", string_array (algs->ciphers));
  g_variant_builder_add (&b, "{sv}", "hashes", string_array (algs->hashes));
  g_variant_builder_add (&b, "{sv}", "key-exchanges", string_array (algs->key_exchanges));
  g_variant_builder_add (&b, "{sv}", "signatures", string_array (algs->signatures));
  g_variant_builder_add (&b, "{sv}", "min-cipher-bits", g_variant_new_uint32 (algs->min_cipher_bits));
  g_variant_builder_add (&b, "{sv}", "max-cipher-bits", g_variant_new_uint32 (algs->max_cipher_bits));
  return g_variant_builder_end (&b);
}
