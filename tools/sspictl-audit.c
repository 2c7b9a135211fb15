/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sspictl audit: the daemon's audit trail read back.  sspid writes one
 * record per handshake that used a credential (sspid(8), AUDIT): a journal
 * entry with a MESSAGE_ID under systemd, a line on standard error
 * elsewhere.  Both carry the same message text, "audit handshake-done
 * key=value ...", so one parser reads either source: the journal through
 * journalctl's JSON output, or a log file named with --log.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "sspictl.h"
#include "sspictl-json.h"

/* sspid-audit.h's MESSAGE_IDs (sspid(8)); tools/ shares no daemon header. */
#define AUDIT_DONE_ID   "9f2d5612475a423aa8581422b2f948ec"
#define AUDIT_FAILED_ID "a06016c0fa0847f8bb1e86c13bab1645"
#define AUDIT_PREFIX    "audit handshake-"

/* The keys of a record, in the order the daemon writes them. */
static const char *const record_keys[] = {
  "time", "uid", "pid", "unit", "credential", "role", "peer", "server-name",
  "protocol", "cipher", "resumed", "status", "ctx",
};

typedef struct {
  gboolean    done;                 /* handshake-done, else -failed */
  GHashTable *fields;               /* key -> value (unescaped, "-" kept) */
} Record;

static void
record_free (Record *record)
{
  g_hash_table_unref (record->fields);
  g_free (record);
}

static const char *
record_get (const Record *record, const char *key)
{
  const char *value = g_hash_table_lookup (record->fields, key);

  return value != NULL ? value : "-";
}

/* A value as the daemon wrote it: bare up to the next space, or quoted
 * with \xNN escapes (sspid-log.h).  Returns where the value ends. */
static const char *
parse_value (const char *p, char **value)
{
  GString *out = g_string_new (NULL);

  if (*p != '"')
    {
      size_t len = strcspn (p, " \n");

      g_string_append_len (out, p, len);
      *value = g_string_free (out, FALSE);
      return p + len;
    }
  for (p++; *p != '\0' && *p != '"'; p++)
    {
      unsigned int byte;

      if (p[0] == '\\' && p[1] == 'x' && sscanf (p + 2, "%2x", &byte) == 1)
        {
          g_string_append_c (out, (char) byte);
          p += 3;
          continue;
        }
      g_string_append_c (out, *p);
    }
  *value = g_string_free (out, FALSE);
  return *p == '"' ? p + 1 : p;
}

/* A record from the text of a log line or journal message; NULL if the
 * text holds none. */
static Record *
parse_record (const char *text)
{
  const char *p = strstr (text, AUDIT_PREFIX);
  Record *record;

  if (p == NULL)
    return NULL;
  p += strlen (AUDIT_PREFIX);
  record = g_new0 (Record, 1);
  if (g_str_has_prefix (p, "done "))
    record->done = TRUE;
  else if (!g_str_has_prefix (p, "failed "))
    {
      g_free (record);
      return NULL;
    }
  record->fields = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  p = strchr (p, ' ');
  while (p != NULL && *p == ' ')
    {
      const char *eq;
      char *value;

      p++;
      eq = strchr (p, '=');
      if (eq == NULL || memchr (p, ' ', eq - p) != NULL)
        break;
      {
        char *key = g_strndup (p, eq - p);

        p = parse_value (eq + 1, &value);
        g_hash_table_replace (record->fields, key, value);
      }
    }
  return record;
}

/* Seconds since the epoch of a record's ISO 8601 time; 0 if none. */
static gint64
record_time (const Record *record)
{
  g_autoptr (GDateTime) time = g_date_time_new_from_iso8601 (record_get (record, "time"), NULL);

  return time != NULL ? g_date_time_to_unix (time) : 0;
}

/* --since: an ISO 8601 time ("2026-12-07T10:00:00Z"; no zone: local), a
 * date ("2026-12-07"), or an age: "30s", "15m", "2h", "7d" ago. */
static gboolean
parse_since (const char *text, gint64 *since, GError **error)
{
  g_autoptr (GTimeZone) local = g_time_zone_new_local ();
  g_autoptr (GDateTime) when = NULL;
  char *end = NULL;
  guint64 n = g_ascii_strtoull (text, &end, 10);

  if (end != text && end != NULL && end[0] != '\0' && end[1] == '\0' && strchr ("smhd", end[0]))
    {
      static const gint64 unit[] = { 1, 60, 3600, 86400 };

      *since = g_get_real_time () / G_USEC_PER_SEC
               - (gint64) n * unit[strchr ("smhd", end[0]) - "smhd"];
      return TRUE;
    }
  when = g_date_time_new_from_iso8601 (text, local);
  if (when == NULL)
    {
      g_autofree char *midnight = g_strconcat (text, "T00:00:00", NULL);

      when = g_date_time_new_from_iso8601 (midnight, local);
    }
  if (when == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--since: \"%s\" is neither a time (2026-12-07T10:00:00Z), a date nor an "
                   "age (30s, 15m, 2h, 7d)", text);
      return FALSE;
    }
  *since = g_date_time_to_unix (when);
  return TRUE;
}

/* Every record in the log file at @path. */
static GPtrArray *
read_log_file (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  GPtrArray *records;

  if (!g_file_get_contents (path, &text, NULL, error))
    return NULL;
  records = g_ptr_array_new_with_free_func ((GDestroyNotify) record_free);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      Record *record = parse_record (lines[i]);

      if (record != NULL)
        g_ptr_array_add (records, record);
    }
  return records;
}

/* The MESSAGE of a journalctl -o json line.  GLib has no JSON parser; a
 * scan suffices because the daemon escapes every control character in a
 * record (\xNN), so the only JSON escapes in its messages are \\ and \". */
static char *
journal_message (const char *line)
{
  const char *p = strstr (line, "\"MESSAGE\":\"");
  GString *out;

  if (p == NULL)
    return NULL;
  out = g_string_new (NULL);
  for (p += strlen ("\"MESSAGE\":\""); *p != '\0' && *p != '"'; p++)
    {
      if (p[0] == '\\' && p[1] != '\0')
        p++;
      g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

/* Every record in the journal, through journalctl.  FALSE (with @error)
 * when there is no journal to read. */
static GPtrArray *
read_journal (GError **error)
{
  const char *argv[] = { "journalctl", "--no-pager", "-q", "-o", "json",
                         "MESSAGE_ID=" AUDIT_DONE_ID, "+", "MESSAGE_ID=" AUDIT_FAILED_ID, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_auto (GStrv) lines = NULL;
  GPtrArray *records;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                     &status, error))
    return NULL;
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_set_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED, "journalctl failed: %s",
                   g_strstrip (err));
      return NULL;
    }
  records = g_ptr_array_new_with_free_func ((GDestroyNotify) record_free);
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *message = journal_message (lines[i]);
      Record *record = message != NULL ? parse_record (message) : NULL;

      if (record != NULL)
        g_ptr_array_add (records, record);
    }
  return records;
}

static void
print_json (GPtrArray *records)
{
  SspictlJson *json = sspictl_json_new ();
  g_autofree char *text = NULL;

  sspictl_json_begin_object (json);
  sspictl_json_key (json, "records");
  sspictl_json_begin_array (json);
  for (guint i = 0; i < records->len; i++)
    {
      const Record *record = records->pdata[i];

      sspictl_json_begin_object (json);
      sspictl_json_member_string (json, "event", record->done ? "handshake-done"
                                                              : "handshake-failed");
      for (gsize k = 0; k < G_N_ELEMENTS (record_keys); k++)
        {
          const char *value = record_get (record, record_keys[k]);

          if (g_str_equal (record_keys[k], "uid") || g_str_equal (record_keys[k], "pid"))
            sspictl_json_member_int (json, record_keys[k], g_ascii_strtoll (value, NULL, 10));
          else if (g_str_equal (record_keys[k], "resumed"))
            sspictl_json_member_bool (json, "resumed", g_str_equal (value, "yes"));
          else if (g_str_equal (value, "-"))
            {
              sspictl_json_key (json, record_keys[k]);
              sspictl_json_null (json);
            }
          else
            sspictl_json_member_string (json, record_keys[k], value);
        }
      sspictl_json_end_object (json);
    }
  sspictl_json_end_array (json);
  sspictl_json_end_object (json);
  text = sspictl_json_finish (json);
  fputs (text, stdout);
}

static void
print_table (GPtrArray *records)
{
  printf ("%-20s %-7s %6s %7s %-16s %-12s %-6s %-8s %-22s %-3s %s\n", "TIME", "RESULT", "UID",
          "PID", "UNIT", "CREDENTIAL", "ROLE", "PROTOCOL", "CIPHER", "RES", "PEER (OR SERVER NAME)");
  for (guint i = 0; i < records->len; i++)
    {
      const Record *record = records->pdata[i];
      const char *peer = record_get (record, "peer");
      const char *who = g_str_equal (peer, "-") ? record_get (record, "server-name") : peer;
      g_autofree char *time = g_strndup (record_get (record, "time"), 19);

      printf ("%-20s %-7s %6s %7s %-16s %-12s %-6s %-8s %-22s %-3s %s\n", time,
              record->done ? "done" : record_get (record, "status"), record_get (record, "uid"),
              record_get (record, "pid"), record_get (record, "unit"),
              record_get (record, "credential"), record_get (record, "role"),
              record_get (record, "protocol"), record_get (record, "cipher"),
              record_get (record, "resumed"), who);
    }
}

int
sspictl_audit (int argc, char **argv)
{
  g_autofree char *log_path = NULL;
  g_autofree char *since_text = NULL;
  g_autofree char *credential = NULL;
  gboolean as_json = FALSE;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (GPtrArray) shown = g_ptr_array_new ();
  gint64 since = 0;
  const GOptionEntry entries[] = {
    { "log", 0, 0, G_OPTION_ARG_FILENAME, &log_path,
      "Read sspid's log file (its standard error) instead of the journal", "FILE" },
    { "since", 0, 0, G_OPTION_ARG_STRING, &since_text,
      "Only records from this time on: 2026-12-07T10:00:00Z, 2026-12-07, or an age: 15m, 2h, 7d",
      "WHEN" },
    { "credential", 0, 0, G_OPTION_ARG_STRING, &credential,
      "Only records of this credential", "NAME" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &as_json, "Print one JSON document", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);

  g_option_context_set_summary (context,
    "Show sspid's audit trail: one record per handshake that used a credential\n"
    "(done or failed), with the caller's uid, pid and systemd unit, the\n"
    "credential and role, the peer, protocol, cipher and whether it resumed.");
  g_option_context_set_description (context,
    "Records come from the journal (journalctl MESSAGE_ID=" AUDIT_DONE_ID ",\n"
    "MESSAGE_ID=" AUDIT_FAILED_ID "), or with --log from a file\n"
    "holding sspid's standard error when it runs without the journal.\n"
    "Reading another user's records in the journal needs the rights journalctl needs.\n\n"
    SSPICTL_HELP_EXIT_CODES "\n");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc > 1
      || (since_text != NULL && !parse_since (since_text, &since, &error)))
    {
      g_printerr ("sspictl audit: %s\n", error != NULL ? error->message : "unexpected argument");
      return SSPICTL_EXIT_USAGE;
    }

  records = log_path != NULL ? read_log_file (log_path, &error) : read_journal (&error);
  if (records == NULL)
    {
      g_printerr ("sspictl audit: %s%s\n", error->message,
                  log_path == NULL ? " (without a journal, name sspid's log file with --log)"
                                   : "");
      return SSPICTL_EXIT_FAILED;
    }
  for (guint i = 0; i < records->len; i++)
    {
      Record *record = records->pdata[i];

      if (since != 0 && record_time (record) < since)
        continue;
      if (credential != NULL && g_strcmp0 (record_get (record, "credential"), credential) != 0)
        continue;
      g_ptr_array_add (shown, record);
    }
  if (as_json)
    print_json (shown);
  else
    print_table (shown);
  return SSPICTL_EXIT_OK;
}
