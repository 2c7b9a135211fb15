/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Encoding and decoding the answers (see sspid-results.h).  The format
 * strings are the out-types of sspid-method.c's table, which
 * tests/test-proto holds to the XML.
 */
#include "config.h"

#include "sspid-results.h"

/* @bytes, or an empty "ay" for NULL. */
static GVariant *
bytes_or_empty (GVariant *bytes)
{
  return bytes != NULL ? bytes : g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, NULL, 0, 1);
}

/* @dict, or an empty "a{sv}" for NULL. */
static GVariant *
dict_or_empty (GVariant *dict)
{
  return dict != NULL ? dict : g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0);
}

GVariant *
sspid_step_result_encode (const SspidStepResult *r)
{
  return g_variant_new ("(ut@ayuxuu@a{sv})", (guint32) r->status, r->handle,
                        bytes_or_empty (r->token), r->attributes, r->expiry, r->extra,
                        r->missing, dict_or_empty (r->extras));
}

GVariant *
sspid_completed_encode (guint64 call_id, const SspidStepResult *r)
{
  return g_variant_new ("(tut@ayuxuu@a{sv})", call_id, (guint32) r->status, r->handle,
                        bytes_or_empty (r->token), r->attributes, r->expiry, r->extra,
                        r->missing, dict_or_empty (r->extras));
}

void
sspid_step_result_decode (GVariant *tuple, gsize first, SspidStepResult *r)
{
  guint32 status;

  g_variant_get_child (tuple, first, "u", &status);
  g_variant_get_child (tuple, first + 1, "t", &r->handle);
  r->token = g_variant_get_child_value (tuple, first + 2);
  g_variant_get_child (tuple, first + 3, "u", &r->attributes);
  g_variant_get_child (tuple, first + 4, "x", &r->expiry);
  g_variant_get_child (tuple, first + 5, "u", &r->extra);
  g_variant_get_child (tuple, first + 6, "u", &r->missing);
  r->extras = g_variant_get_child_value (tuple, first + 7);
  r->status = (SECURITY_STATUS) status;
}

void
sspid_step_result_clear (SspidStepResult *r)
{
  g_clear_pointer (&r->token, g_variant_unref);
  g_clear_pointer (&r->extras, g_variant_unref);
}

GVariant *
sspid_query_result_encode (SECURITY_STATUS status, GVariant *info)
{
  if (info == NULL)
    info = g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0);
  return g_variant_new ("(u@a{sv})", (guint32) status, info);
}

SECURITY_STATUS
sspid_query_result_decode (GVariant *reply, GVariant **info)
{
  guint32 status;

  g_variant_get (reply, "(u@a{sv})", &status, info);
  return (SECURITY_STATUS) status;
}

GVariant *
sspid_encrypt_result_encode (const SspidEncryptResult *r)
{
  return g_variant_new ("(u@ayu)", (guint32) r->status, bytes_or_empty (r->record),
                        r->header_size);
}

void
sspid_encrypt_result_decode (GVariant *reply, SspidEncryptResult *r)
{
  guint32 status;

  g_variant_get (reply, "(u@ayu)", &status, &r->record, &r->header_size);
  r->status = (SECURITY_STATUS) status;
}

void
sspid_encrypt_result_clear (SspidEncryptResult *r)
{
  g_clear_pointer (&r->record, g_variant_unref);
}

GVariant *
sspid_decrypt_result_encode (const SspidDecryptResult *r)
{
  return g_variant_new ("(u@ayuuuu)", (guint32) r->status, bytes_or_empty (r->plaintext),
                        r->header_size, r->record_size, r->extra, r->missing);
}

void
sspid_decrypt_result_decode (GVariant *reply, SspidDecryptResult *r)
{
  guint32 status;

  g_variant_get (reply, "(u@ayuuuu)", &status, &r->plaintext, &r->header_size,
                 &r->record_size, &r->extra, &r->missing);
  r->status = (SECURITY_STATUS) status;
}

void
sspid_decrypt_result_clear (SspidDecryptResult *r)
{
  g_clear_pointer (&r->plaintext, g_variant_unref);
}
