/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Text from callers in log lines (see sspid-log.h).
 */
#include "config.h"

#include <string.h>

#include "sspid-log.h"

char *
sspid_log_escape (const char *text)
{
  return sspid_log_escape_max (text, SSPID_LOG_TEXT_MAX);
}

char *
sspid_log_escape_max (const char *text, gsize max)
{
  GString *out = g_string_new (NULL);
  const char *p = text, *end = text + strlen (text);

  while (p < end && out->len < max)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);

      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          g_string_append_printf (out, "\\x%02x", (guint) (guchar) *p);
          p++;
          continue;
        }
      if (g_unichar_iscntrl (c) || c == '\\' || c == '"' || c == 0x2028 || c == 0x2029)
        {
          /* C0, DEL and C1 controls, and Unicode's line separators. */
          gchar *next = g_utf8_next_char (p);

          for (; p < next; p++)
            g_string_append_printf (out, "\\x%02x", (guint) (guchar) *p);
          continue;
        }
      g_string_append_len (out, p, g_utf8_next_char (p) - p);
      p = g_utf8_next_char (p);
    }
  if (p < end)
    g_string_append (out, "...");
  return g_string_free (out, FALSE);
}
