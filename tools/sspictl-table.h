/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Human output of the sspictl verbs: tables with aligned columns (widths
 * in characters, not bytes, so subjects with accents line up) and the
 * small formatters for times and durations they show.
 */
#pragma once

#include <stdio.h>
#include <glib.h>

typedef struct _SspictlTable SspictlTable;

/* A table of the columns named by @headers (NULL-terminated).  Headers are
 * printed upper-case as given; pass FALSE for @show_headers for a
 * "field: value" list (two columns, no header line). */
SspictlTable *sspictl_table_new (const char *const *headers, gboolean show_headers);
void sspictl_table_free (SspictlTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SspictlTable, sspictl_table_free)

/* Adds a row of as many cells as there are columns; NULL or "" shows "-". */
void sspictl_table_add_row (SspictlTable *table, ...);
/* Adds a row from an array of the right length. */
void sspictl_table_add_rowv (SspictlTable *table, const char *const *cells);
guint sspictl_table_get_n_rows (SspictlTable *table);
/* Prints with two spaces between columns; the last column is not padded. */
void sspictl_table_print (SspictlTable *table, FILE *out);

/* "2d 03h", "1h 02m", "4m 05s", "42s". */
char *sspictl_format_duration (guint64 seconds);
/* "2026-11-24" (UTC) and "2026-11-24 04:40:00 UTC"; "-" for 0. */
char *sspictl_format_date (gint64 unix_seconds);
char *sspictl_format_time (gint64 unix_seconds);
/* "alice (1000)", or "1000" if the uid has no name here. */
char *sspictl_format_user (guint32 uid);
