/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A small JSON writer for every --json document (`sspictl VERB --json`,
 * `sspid --check-config --json`): one document, pretty printed, strings
 * escaped per RFC 8259 and always valid UTF-8.  GLib has no JSON and sspid
 * takes no new dependency for this, so this is all there is: no parser,
 * only what the documents need.  It lives beside the contract because
 * those documents are one too (sspictl relays sspid's as it is), and both
 * sides link it (proto/libsspid-json.la).
 *
 * Usage: begin an object or array, add members with sspid_json_key()
 * followed by one value, end it, then take the text with
 * sspid_json_finish().  Nesting mistakes are programming errors
 * (g_return_if_fail).
 */
#pragma once

#include <glib.h>

typedef struct _SspidJson SspidJson;

SspidJson *sspid_json_new (void);
/* Returns the document, newline-terminated, and frees @json.  Caller frees
 * the string with g_free(). */
char *sspid_json_finish (SspidJson *json);
void sspid_json_free (SspidJson *json);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SspidJson, sspid_json_free)

void sspid_json_begin_object (SspidJson *json);
void sspid_json_end_object (SspidJson *json);
void sspid_json_begin_array (SspidJson *json);
void sspid_json_end_array (SspidJson *json);
/* Inside an object: the next value is the member @key. */
void sspid_json_key (SspidJson *json, const char *key);

/* Values.  A NULL string is written as null. */
void sspid_json_string (SspidJson *json, const char *value);
void sspid_json_int (SspidJson *json, gint64 value);
void sspid_json_uint (SspidJson *json, guint64 value);
/* A number with @decimals (0, 1 or 3) digits after the point. */
void sspid_json_double (SspidJson *json, double value, int decimals);
void sspid_json_bool (SspidJson *json, gboolean value);
void sspid_json_null (SspidJson *json);
/* A GVariant: dictionaries with string keys (a{sv}, a{ss}, ...) become
 * objects, other arrays and tuples arrays, numbers and booleans
 * themselves, strings strings, byte arrays hexadecimal strings. */
void sspid_json_variant (SspidJson *json, GVariant *value);

/* key + value in one call, for objects. */
void sspid_json_member_string (SspidJson *json, const char *key, const char *value);
void sspid_json_member_int (SspidJson *json, const char *key, gint64 value);
void sspid_json_member_bool (SspidJson *json, const char *key, gboolean value);

/* Appends @value (NUL-terminated) to @out as a JSON string literal, with
 * its quotes.  Bytes that are not UTF-8 become U+FFFD. */
void sspid_json_append_string (GString *out, const char *value);
