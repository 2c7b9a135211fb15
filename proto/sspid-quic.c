/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QUIC mode's options and extras dictionaries (see sspid-quic.h).
 */
#include "config.h"

#include "sspid-quic.h"

#include <string.h>

void
sspid_traffic_secret_free (SspidTrafficSecret *secret)
{
  if (secret == NULL)
    return;
  g_free (secret->cipher);
  g_free (secret->chaining_mode);
  g_free (secret->hash);
  g_clear_pointer (&secret->secret, g_bytes_unref);
  g_free (secret);
}

static GVariant *
bytes_variant (GBytes *bytes)
{
  gsize len = 0;
  gconstpointer data = bytes != NULL ? g_bytes_get_data (bytes, &len) : NULL;

  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, len, 1);
}

static GBytes *
variant_bytes (GVariant *ay)
{
  gsize len = 0;
  gconstpointer data = g_variant_get_fixed_array (ay, &len, 1);

  return g_bytes_new (data, len);
}

GVariant *
sspid_quic_args_encode (const SspidQuicArgs *args)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);

  if (args == NULL || !args->is_messages)
    return g_variant_dict_end (&dict);
  g_variant_dict_insert (&dict, SSPID_QUIC_OPTION_MESSAGES, "b", TRUE);
  if (args->has_extension)
    g_variant_dict_insert (&dict, SSPID_QUIC_OPTION_SEND_EXTENSION, "(qq@ay)",
                           args->extension_type, args->extension_handshake,
                           bytes_variant (args->extension_data));
  if (args->has_subscription)
    g_variant_dict_insert (&dict, SSPID_QUIC_OPTION_SUBSCRIBE, "(qq)",
                           args->subscription_type, args->subscription_handshake);
  return g_variant_dict_end (&dict);
}

void
sspid_quic_args_decode (GVariant *dict, SspidQuicArgs *args)
{
  g_autoptr(GVariant) data = NULL;
  gboolean messages = FALSE;

  sspid_quic_args_clear (args);
  if (dict == NULL || !g_variant_is_of_type (dict, G_VARIANT_TYPE_VARDICT))
    return;
  if (!g_variant_lookup (dict, SSPID_QUIC_OPTION_MESSAGES, "b", &messages) || !messages)
    return;
  args->is_messages = TRUE;
  if (g_variant_lookup (dict, SSPID_QUIC_OPTION_SEND_EXTENSION, "(qq@ay)",
                        &args->extension_type, &args->extension_handshake, &data) &&
      g_variant_n_children (data) <= SSPID_QUIC_MAX_EXTENSION_DATA)
    {
      args->has_extension = TRUE;
      args->extension_data = variant_bytes (data);
    }
  args->has_subscription = g_variant_lookup (dict, SSPID_QUIC_OPTION_SUBSCRIBE, "(qq)",
                                             &args->subscription_type,
                                             &args->subscription_handshake);
}

void
sspid_quic_args_clear (SspidQuicArgs *args)
{
  g_clear_pointer (&args->extension_data, g_bytes_unref);
  memset (args, 0, sizeof *args);
}

GVariant *
sspid_quic_result_encode (const SspidQuicResult *result)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);

  if (result == NULL)
    return g_variant_dict_end (&dict);
  if (result->secrets != NULL && result->secrets->len > 0)
    {
      g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(uusssqqqqay)"));

      for (guint i = 0; i < result->secrets->len; i++)
        {
          const SspidTrafficSecret *s = result->secrets->pdata[i];

          g_variant_builder_add (&b, "(uusssqqqq@ay)", s->type, s->level, s->cipher,
                                 s->chaining_mode, s->hash, s->key_size, s->iv_size,
                                 s->msg_start, s->msg_end, bytes_variant (s->secret));
        }
      g_variant_dict_insert_value (&dict, SSPID_QUIC_EXTRA_SECRETS, g_variant_builder_end (&b));
    }
  if (result->extension != NULL)
    g_variant_dict_insert_value (&dict, SSPID_QUIC_EXTRA_EXTENSION,
                                 bytes_variant (result->extension));
  return g_variant_dict_end (&dict);
}

static SspidTrafficSecret *
secret_from_variant (GVariant *v)
{
  g_autoptr(SspidTrafficSecret) s = g_new0 (SspidTrafficSecret, 1);
  g_autoptr(GVariant) secret = NULL;

  g_variant_get (v, "(uusssqqqq@ay)", &s->type, &s->level, &s->cipher, &s->chaining_mode,
                 &s->hash, &s->key_size, &s->iv_size, &s->msg_start, &s->msg_end, &secret);
  if (g_variant_n_children (secret) > SSPID_QUIC_MAX_SECRET)
    return NULL;
  s->secret = variant_bytes (secret);
  return g_steal_pointer (&s);
}

void
sspid_quic_result_decode (GVariant *dict, SspidQuicResult *result)
{
  g_autoptr(GVariant) secrets = NULL;
  g_autoptr(GVariant) extension = NULL;

  sspid_quic_result_clear (result);
  if (dict == NULL || !g_variant_is_of_type (dict, G_VARIANT_TYPE_VARDICT))
    return;
  secrets = g_variant_lookup_value (dict, SSPID_QUIC_EXTRA_SECRETS, G_VARIANT_TYPE ("a(uusssqqqqay)"));
  if (secrets != NULL)
    {
      gsize n = g_variant_n_children (secrets);

      result->secrets = g_ptr_array_new_with_free_func ((GDestroyNotify) sspid_traffic_secret_free);
      for (gsize i = 0; i < n; i++)
        {
          g_autoptr(GVariant) child = g_variant_get_child_value (secrets, i);
          SspidTrafficSecret *s = secret_from_variant (child);

          if (s != NULL)
            g_ptr_array_add (result->secrets, s);
        }
    }
  extension = g_variant_lookup_value (dict, SSPID_QUIC_EXTRA_EXTENSION, G_VARIANT_TYPE_BYTESTRING);
  if (extension != NULL)
    result->extension = variant_bytes (extension);
}

void
sspid_quic_result_clear (SspidQuicResult *result)
{
  g_clear_pointer (&result->secrets, g_ptr_array_unref);
  g_clear_pointer (&result->extension, g_bytes_unref);
}
