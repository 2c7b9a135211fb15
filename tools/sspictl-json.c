/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The JSON writer of `sspictl --json` (see sspictl-json.h).  The output is
 * meant for scripts, so correctness of the escaping matters more than
 * speed: every string goes through sspictl_json_append_string(), which
 * repairs invalid UTF-8 first (a certificate subject is not guaranteed to
 * be UTF-8) and escapes quotes, backslashes and control characters.
 */
#include "config.h"

#include <math.h>

#include "sspictl-json.h"

typedef struct {
  gboolean is_object;
  guint    n_members;
} Level;

struct _SspictlJson {
  GString *out;
  GArray  *levels;       /* of Level: the open objects and arrays */
  gboolean after_key;    /* a key was written; its value comes next */
  gboolean is_done;      /* the top-level value is complete */
};

SspictlJson *
sspictl_json_new (void)
{
  SspictlJson *json = g_new0 (SspictlJson, 1);

  json->out = g_string_new (NULL);
  json->levels = g_array_new (FALSE, FALSE, sizeof (Level));
  return json;
}

void
sspictl_json_free (SspictlJson *json)
{
  if (json == NULL)
    return;
  g_string_free (json->out, TRUE);
  g_array_unref (json->levels);
  g_free (json);
}

char *
sspictl_json_finish (SspictlJson *json)
{
  char *text;

  g_return_val_if_fail (json->levels->len == 0 && json->is_done, NULL);
  g_string_append_c (json->out, '\n');
  text = g_string_free (json->out, FALSE);
  json->out = NULL;
  g_array_unref (json->levels);
  g_free (json);
  return text;
}

static void
indent (SspictlJson *json, guint depth)
{
  g_string_append_c (json->out, '\n');
  for (guint i = 0; i < depth; i++)
    g_string_append (json->out, "  ");
}

static Level *
current_level (SspictlJson *json)
{
  if (json->levels->len == 0)
    return NULL;
  return &g_array_index (json->levels, Level, json->levels->len - 1);
}

/* Separators before a value: none after a key (the key wrote them), a
 * comma and a new line between array elements. */
static gboolean
begin_value (SspictlJson *json)
{
  Level *level = current_level (json);

  if (json->after_key)
    {
      json->after_key = FALSE;
      return TRUE;
    }
  if (level == NULL)
    {
      g_return_val_if_fail (!json->is_done, FALSE);
      return TRUE;
    }
  g_return_val_if_fail (!level->is_object, FALSE);   /* a member needs a key */
  if (level->n_members++ > 0)
    g_string_append_c (json->out, ',');
  indent (json, json->levels->len);
  return TRUE;
}

static void
end_value (SspictlJson *json)
{
  if (json->levels->len == 0)
    json->is_done = TRUE;
}

void
sspictl_json_key (SspictlJson *json, const char *key)
{
  Level *level = current_level (json);

  g_return_if_fail (level != NULL && level->is_object && !json->after_key);
  if (level->n_members++ > 0)
    g_string_append_c (json->out, ',');
  indent (json, json->levels->len);
  sspictl_json_append_string (json->out, key);
  g_string_append (json->out, ": ");
  json->after_key = TRUE;
}

static void
begin_container (SspictlJson *json, gboolean is_object)
{
  Level level = { is_object, 0 };

  if (!begin_value (json))
    return;
  g_string_append_c (json->out, is_object ? '{' : '[');
  g_array_append_val (json->levels, level);
}

static void
end_container (SspictlJson *json, gboolean is_object)
{
  Level *level = current_level (json);
  guint n_members;

  g_return_if_fail (level != NULL && level->is_object == is_object && !json->after_key);
  n_members = level->n_members;
  g_array_set_size (json->levels, json->levels->len - 1);
  if (n_members > 0)
    indent (json, json->levels->len);
  g_string_append_c (json->out, is_object ? '}' : ']');
  end_value (json);
}

void
sspictl_json_begin_object (SspictlJson *json)
{
  begin_container (json, TRUE);
}

void
sspictl_json_end_object (SspictlJson *json)
{
  end_container (json, TRUE);
}

void
sspictl_json_begin_array (SspictlJson *json)
{
  begin_container (json, FALSE);
}

void
sspictl_json_end_array (SspictlJson *json)
{
  end_container (json, FALSE);
}

void
sspictl_json_append_string (GString *out, const char *value)
{
  g_autofree char *valid = g_utf8_make_valid (value, -1);

  g_string_append_c (out, '"');
  for (const char *p = valid; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      switch (c)
        {
        case '"':  g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\b': g_string_append (out, "\\b"); break;
        case '\f': g_string_append (out, "\\f"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        default:
          if (c < 0x20 || c == 0x7f)
            g_string_append_printf (out, "\\u%04x", c);
          else
            g_string_append_c (out, (char) c);   /* UTF-8 passes through */
        }
    }
  g_string_append_c (out, '"');
}

void
sspictl_json_string (SspictlJson *json, const char *value)
{
  if (value == NULL)
    {
      sspictl_json_null (json);
      return;
    }
  if (!begin_value (json))
    return;
  sspictl_json_append_string (json->out, value);
  end_value (json);
}

void
sspictl_json_int (SspictlJson *json, gint64 value)
{
  if (!begin_value (json))
    return;
  g_string_append_printf (json->out, "%" G_GINT64_FORMAT, value);
  end_value (json);
}

void
sspictl_json_double (SspictlJson *json, double value, int decimals)
{
  char text[G_ASCII_DTOSTR_BUF_SIZE];

  if (!begin_value (json))
    return;
  /* JSON has no NaN or infinity; the C locale's point, whatever LC_NUMERIC. */
  if (!isfinite (value))
    value = 0;
  g_ascii_formatd (text, sizeof text, decimals == 0 ? "%.0f" : decimals == 1 ? "%.1f" : "%.3f", value);
  g_string_append (json->out, text);
  end_value (json);
}

void
sspictl_json_uint (SspictlJson *json, guint64 value)
{
  if (!begin_value (json))
    return;
  g_string_append_printf (json->out, "%" G_GUINT64_FORMAT, value);
  end_value (json);
}

void
sspictl_json_bool (SspictlJson *json, gboolean value)
{
  if (!begin_value (json))
    return;
  g_string_append (json->out, value ? "true" : "false");
  end_value (json);
}

void
sspictl_json_null (SspictlJson *json)
{
  if (!begin_value (json))
    return;
  g_string_append (json->out, "null");
  end_value (json);
}

static void
json_double (SspictlJson *json, double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  /* JSON has no NaN or infinity. */
  if (!isfinite (value))
    {
      sspictl_json_null (json);
      return;
    }
  if (!begin_value (json))
    return;
  g_string_append (json->out, g_ascii_dtostr (buf, sizeof buf, value));
  end_value (json);
}

static void
json_bytes (SspictlJson *json, GVariant *value)
{
  gsize len;
  const guint8 *data = g_variant_get_fixed_array (value, &len, 1);
  g_autoptr (GString) hex = g_string_sized_new (len * 2);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (hex, "%02x", data[i]);
  sspictl_json_string (json, hex->str);
}

/* a{s*}: an object. */
static void
json_dict (SspictlJson *json, GVariant *value)
{
  GVariantIter iter;
  GVariant *entry;

  sspictl_json_begin_object (json);
  g_variant_iter_init (&iter, value);
  while ((entry = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr (GVariant) key = g_variant_get_child_value (entry, 0);
      g_autoptr (GVariant) member = g_variant_get_child_value (entry, 1);

      sspictl_json_key (json, g_variant_get_string (key, NULL));
      sspictl_json_variant (json, member);
      g_variant_unref (entry);
    }
  sspictl_json_end_object (json);
}

static void
json_container (SspictlJson *json, GVariant *value)
{
  const GVariantType *type = g_variant_get_type (value);
  GVariantIter iter;
  GVariant *child;

  if (g_variant_type_equal (type, G_VARIANT_TYPE_BYTESTRING))
    {
      json_bytes (json, value);
      return;
    }
  if (g_variant_type_is_array (type) &&
      g_variant_type_is_dict_entry (g_variant_type_element (type)) &&
      g_variant_type_equal (g_variant_type_key (g_variant_type_element (type)),
                            G_VARIANT_TYPE_STRING))
    {
      json_dict (json, value);
      return;
    }
  sspictl_json_begin_array (json);
  g_variant_iter_init (&iter, value);
  while ((child = g_variant_iter_next_value (&iter)) != NULL)
    {
      sspictl_json_variant (json, child);
      g_variant_unref (child);
    }
  sspictl_json_end_array (json);
}

void
sspictl_json_variant (SspictlJson *json, GVariant *value)
{
  switch (g_variant_classify (value))
    {
    case G_VARIANT_CLASS_BOOLEAN: sspictl_json_bool (json, g_variant_get_boolean (value)); break;
    case G_VARIANT_CLASS_BYTE:    sspictl_json_uint (json, g_variant_get_byte (value)); break;
    case G_VARIANT_CLASS_INT16:   sspictl_json_int (json, g_variant_get_int16 (value)); break;
    case G_VARIANT_CLASS_UINT16:  sspictl_json_uint (json, g_variant_get_uint16 (value)); break;
    case G_VARIANT_CLASS_INT32:   sspictl_json_int (json, g_variant_get_int32 (value)); break;
    case G_VARIANT_CLASS_UINT32:  sspictl_json_uint (json, g_variant_get_uint32 (value)); break;
    case G_VARIANT_CLASS_INT64:   sspictl_json_int (json, g_variant_get_int64 (value)); break;
    case G_VARIANT_CLASS_UINT64:  sspictl_json_uint (json, g_variant_get_uint64 (value)); break;
    case G_VARIANT_CLASS_HANDLE:  sspictl_json_int (json, g_variant_get_handle (value)); break;
    case G_VARIANT_CLASS_DOUBLE:  json_double (json, g_variant_get_double (value)); break;
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE:
      sspictl_json_string (json, g_variant_get_string (value, NULL));
      break;
    case G_VARIANT_CLASS_VARIANT:
      {
        g_autoptr (GVariant) inner = g_variant_get_variant (value);
        sspictl_json_variant (json, inner);
        break;
      }
    case G_VARIANT_CLASS_MAYBE:
      {
        g_autoptr (GVariant) inner = g_variant_get_maybe (value);
        if (inner == NULL)
          sspictl_json_null (json);
        else
          sspictl_json_variant (json, inner);
        break;
      }
    case G_VARIANT_CLASS_ARRAY:
    case G_VARIANT_CLASS_TUPLE:
    case G_VARIANT_CLASS_DICT_ENTRY:
      json_container (json, value);
      break;
    default:
      sspictl_json_null (json);
    }
}

void
sspictl_json_member_string (SspictlJson *json, const char *key, const char *value)
{
  sspictl_json_key (json, key);
  sspictl_json_string (json, value);
}

void
sspictl_json_member_int (SspictlJson *json, const char *key, gint64 value)
{
  sspictl_json_key (json, key);
  sspictl_json_int (json, value);
}

void
sspictl_json_member_bool (SspictlJson *json, const char *key, gboolean value)
{
  sspictl_json_key (json, key);
  sspictl_json_bool (json, value);
}
