/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Aligned tables and formatters for sspictl's human output (see
 * sspictl-table.h).  Rows are kept until printing so every column can be
 * as wide as its widest cell.
 */
#include "config.h"

#include <pwd.h>
#include <stdarg.h>

#include "sspictl-table.h"

struct _SspictlTable {
  guint      n_columns;
  gboolean   show_headers;
  GPtrArray *rows;   /* of GStrv, the first one the headers */
};

SspictlTable *
sspictl_table_new (const char *const *headers, gboolean show_headers)
{
  SspictlTable *table = g_new0 (SspictlTable, 1);

  table->n_columns = g_strv_length ((char **) headers);
  table->show_headers = show_headers;
  table->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_ptr_array_add (table->rows, g_strdupv ((char **) headers));
  return table;
}

void
sspictl_table_free (SspictlTable *table)
{
  if (table == NULL)
    return;
  g_ptr_array_unref (table->rows);
  g_free (table);
}

void
sspictl_table_add_rowv (SspictlTable *table, const char *const *cells)
{
  GStrv row = g_new0 (char *, table->n_columns + 1);

  for (guint i = 0; i < table->n_columns; i++)
    {
      /* A cell is one line of valid UTF-8, whatever a certificate says. */
      row[i] = g_utf8_make_valid (cells[i] != NULL && cells[i][0] != '\0' ? cells[i] : "-", -1);
      for (char *p = row[i]; *p != '\0'; p++)
        if ((guchar) *p < 0x20 || *p == 0x7f)
          *p = '?';
    }
  g_ptr_array_add (table->rows, row);
}

void
sspictl_table_add_row (SspictlTable *table, ...)
{
  g_autofree const char **cells = g_new0 (const char *, table->n_columns + 1);
  va_list ap;

  va_start (ap, table);
  for (guint i = 0; i < table->n_columns; i++)
    cells[i] = va_arg (ap, const char *);
  va_end (ap);
  sspictl_table_add_rowv (table, cells);
}

guint
sspictl_table_get_n_rows (SspictlTable *table)
{
  return table->rows->len - 1;
}

/* Display width in characters (cells are valid UTF-8, see add_rowv). */
static gsize
width_of (const char *s)
{
  return (gsize) g_utf8_strlen (s, -1);
}

void
sspictl_table_print (SspictlTable *table, FILE *out)
{
  g_autofree gsize *widths = g_new0 (gsize, table->n_columns);
  guint first = table->show_headers ? 0 : 1;

  for (guint r = first; r < table->rows->len; r++)
    {
      char **row = table->rows->pdata[r];
      for (guint c = 0; c < table->n_columns; c++)
        widths[c] = MAX (widths[c], width_of (row[c]));
    }
  for (guint r = first; r < table->rows->len; r++)
    {
      char **row = table->rows->pdata[r];
      for (guint c = 0; c < table->n_columns; c++)
        {
          gboolean is_last = (c + 1 == table->n_columns);

          fputs (row[c], out);
          if (!is_last)
            fprintf (out, "%*s", (int) (widths[c] - width_of (row[c]) + 2), "");
        }
      fputc ('\n', out);
    }
}

char *
sspictl_format_duration (guint64 s)
{
  if (s >= 86400)
    return g_strdup_printf ("%" G_GUINT64_FORMAT "d %02uh", s / 86400, (guint) (s % 86400 / 3600));
  if (s >= 3600)
    return g_strdup_printf ("%uh %02um", (guint) (s / 3600), (guint) (s % 3600 / 60));
  if (s >= 60)
    return g_strdup_printf ("%um %02us", (guint) (s / 60), (guint) (s % 60));
  return g_strdup_printf ("%us", (guint) s);
}

static char *
format_utc (gint64 unix_seconds, const char *format)
{
  g_autoptr (GDateTime) dt = NULL;

  if (unix_seconds == 0)
    return g_strdup ("-");
  dt = g_date_time_new_from_unix_utc (unix_seconds);
  if (dt == NULL)
    return g_strdup_printf ("@%" G_GINT64_FORMAT, unix_seconds);
  return g_date_time_format (dt, format);
}

char *
sspictl_format_date (gint64 unix_seconds)
{
  return format_utc (unix_seconds, "%Y-%m-%d");
}

char *
sspictl_format_time (gint64 unix_seconds)
{
  return format_utc (unix_seconds, "%Y-%m-%d %H:%M:%S UTC");
}

char *
sspictl_format_user (guint32 uid)
{
  struct passwd pw, *res = NULL;
  char buf[4096];

  if (getpwuid_r ((uid_t) uid, &pw, buf, sizeof buf, &res) == 0 && res != NULL)
    return g_strdup_printf ("%s (%u)", pw.pw_name, uid);
  return g_strdup_printf ("%u", uid);
}
