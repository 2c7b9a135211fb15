/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A small JSON writer for `sspictl VERB --json`: one document, pretty
 * printed, strings escaped per RFC 8259 and always valid UTF-8.  GLib has
 * no JSON and sspid takes no new dependency for this, so this is all there
 * is: no parser, only what the verbs need to write.
 *
 * Usage: begin an object or array, add members with sspictl_json_key()
 * followed by one value, end it, then take the text with
 * sspictl_json_finish().  Nesting mistakes are programming errors
 * (g_return_if_fail).
 */
#pragma once

#include <glib.h>

typedef struct _SspictlJson SspictlJson;

SspictlJson *sspictl_json_new (void);
/* Returns the document, newline-terminated, and frees @json.  Caller frees
 * the string with g_free(). */
char *sspictl_json_finish (SspictlJson *json);
void sspictl_json_free (SspictlJson *json);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SspictlJson, sspictl_json_free)

void sspictl_json_begin_object (SspictlJson *json);
void sspictl_json_end_object (SspictlJson *json);
void sspictl_json_begin_array (SspictlJson *json);
void sspictl_json_end_array (SspictlJson *json);
/* Inside an object: the next value is the member @key. */
void sspictl_json_key (SspictlJson *json, const char *key);

/* Values.  A NULL string is written as null. */
void sspictl_json_string (SspictlJson *json, const char *value);
void sspictl_json_int (SspictlJson *json, gint64 value);
void sspictl_json_uint (SspictlJson *json, guint64 value);
/* A number with @decimals (0, 1 or 3) digits after the point. */
void sspictl_json_double (SspictlJson *json, double value, int decimals);
void sspictl_json_bool (SspictlJson *json, gboolean value);
void sspictl_json_null (SspictlJson *json);
/* A GVariant: dictionaries with string keys (a{sv}, a{ss}, ...) become
 * objects, other arrays and tuples arrays, numbers and booleans
 * themselves, strings strings, byte arrays hexadecimal strings. */
void sspictl_json_variant (SspictlJson *json, GVariant *value);

/* key + value in one call, for objects. */
void sspictl_json_member_string (SspictlJson *json, const char *key, const char *value);
void sspictl_json_member_int (SspictlJson *json, const char *key, gint64 value);
void sspictl_json_member_bool (SspictlJson *json, const char *key, gboolean value);

/* Appends @value (NUL-terminated) to @out as a JSON string literal, with
 * its quotes.  Bytes that are not UTF-8 become U+FFFD. */
void sspictl_json_append_string (GString *out, const char *value);
