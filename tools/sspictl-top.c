/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sspictl top: the daemon's load as it happens, per user and per
 * credential: handshakes a second (done and failed), contexts, credential
 * handles and pending calls, refreshed in the terminal.  Each screen is
 * the difference of two GetStatus answers ("users", "credential-use":
 * counts since the daemon or the credential started), so the daemon keeps
 * no rates and no history.  --once prints one sample and exits, which is
 * also how scripts and tests use it (with --json).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sspictl.h"
#include "sspictl-json.h"
#include "sspictl-table.h"

typedef struct {
  guint32 contexts, credentials, pending;
  guint64 done, failed;
} Use;

/* One GetStatus answer, as counts by key: "uid:N" and "cred:NAME". */
typedef struct {
  GVariant   *status;     /* a{sv} */
  GHashTable *use;        /* key -> Use * */
  gint64      taken;      /* monotonic µs */
} Sample;

static void
sample_free (Sample *sample)
{
  if (sample == NULL)
    return;
  g_clear_pointer (&sample->status, g_variant_unref);
  g_clear_pointer (&sample->use, g_hash_table_unref);
  g_free (sample);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Sample, sample_free)

static Sample *
take_sample (const char **bus_label, int *exit_code)
{
  g_autoptr (GVariant) reply = sspictl_get_status (bus_label, exit_code);
  g_autoptr (GVariant) users = NULL;
  g_autoptr (GVariant) creds = NULL;
  Sample *sample;
  GVariantIter iter;
  guint32 uid;
  const char *name;
  Use use;

  if (reply == NULL)
    return NULL;
  sample = g_new0 (Sample, 1);
  sample->taken = g_get_monotonic_time ();
  sample->status = g_variant_get_child_value (reply, 0);
  sample->use = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  users = g_variant_lookup_value (sample->status, "users", G_VARIANT_TYPE ("a(uuuutt)"));
  creds = g_variant_lookup_value (sample->status, "credential-use", G_VARIANT_TYPE ("a(stt)"));
  if (users == NULL || creds == NULL)
    {
      g_printerr ("sspictl top: this sspid does not report its use per user (too old?)\n");
      *exit_code = SSPICTL_EXIT_FAILED;
      sample_free (sample);
      return NULL;
    }
  g_variant_iter_init (&iter, users);
  while (g_variant_iter_next (&iter, "(uuuutt)", &uid, &use.contexts, &use.credentials,
                              &use.pending, &use.done, &use.failed))
    g_hash_table_insert (sample->use, g_strdup_printf ("uid:%u", uid), g_memdup2 (&use, sizeof use));
  g_variant_iter_init (&iter, creds);
  memset (&use, 0, sizeof use);
  while (g_variant_iter_next (&iter, "(&stt)", &name, &use.done, &use.failed))
    g_hash_table_insert (sample->use, g_strconcat ("cred:", name, NULL), g_memdup2 (&use, sizeof use));
  return sample;
}

/* Events a second of a counter between two samples; a counter that went
 * back (the daemon restarted, a credential was reloaded) counts from 0. */
static double
rate (guint64 now, guint64 before, gboolean had_before, double seconds)
{
  if (seconds <= 0)
    return 0;
  if (!had_before || now < before)
    before = 0;
  return (double) (now - before) / seconds;
}

typedef struct {
  const char *key;
  const Use  *now;
  double      done_per_sec;
  double      failed_per_sec;
} Row;

static gint
compare_keys (gconstpointer a, gconstpointer b)
{
  const Row *ra = a, *rb = b;

  /* Users by uid, then credentials by name. */
  if (g_str_has_prefix (ra->key, "uid:") && g_str_has_prefix (rb->key, "uid:"))
    {
      guint64 ua = g_ascii_strtoull (ra->key + 4, NULL, 10), ub = g_ascii_strtoull (rb->key + 4, NULL, 10);

      return ua < ub ? -1 : ua > ub;
    }
  return g_strcmp0 (ra->key, rb->key);
}

/* The rows of @now against @before (NULL: rates of 0), sorted. */
static GArray *
make_rows (const Sample *now, const Sample *before)
{
  GArray *rows = g_array_new (FALSE, TRUE, sizeof (Row));
  double seconds = before != NULL ? (now->taken - before->taken) / 1e6 : 0;
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, now->use);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const Use *was = before != NULL ? g_hash_table_lookup (before->use, key) : NULL;
      const Use *is = value;
      Row row = { key, is,
                  rate (is->done, was ? was->done : 0, was != NULL, seconds),
                  rate (is->failed, was ? was->failed : 0, was != NULL, seconds) };

      g_array_append_val (rows, row);
    }
  g_array_sort (rows, compare_keys);
  return rows;
}

static char *
format_rate (double per_sec)
{
  return g_strdup_printf ("%.1f", per_sec);
}

static void
print_screen (const Sample *now, const Sample *before, const char *bus_label)
{
  g_autoptr (GArray) rows = make_rows (now, before);
  const char *const user_headers[] = { "USER", "HS/S", "FAILED/S", "CONTEXTS", "HANDLES",
                                       "PENDING", "DONE", "FAILED", NULL };
  const char *const cred_headers[] = { "CREDENTIAL", "HS/S", "FAILED/S", "DONE", "FAILED", NULL };
  g_autoptr (SspictlTable) users = sspictl_table_new (user_headers, TRUE);
  g_autoptr (SspictlTable) creds = sspictl_table_new (cred_headers, TRUE);
  double total = 0;
  guint64 uptime = 0, contexts = 0, pending = 0;

  g_variant_lookup (now->status, "uptime-sec", "t", &uptime);
  for (guint i = 0; i < rows->len; i++)
    {
      const Row *row = &g_array_index (rows, Row, i);
      g_autofree char *done_rate = format_rate (row->done_per_sec);
      g_autofree char *failed_rate = format_rate (row->failed_per_sec);
      g_autofree char *done = g_strdup_printf ("%" G_GUINT64_FORMAT, row->now->done);
      g_autofree char *failed = g_strdup_printf ("%" G_GUINT64_FORMAT, row->now->failed);

      if (g_str_has_prefix (row->key, "uid:"))
        {
          g_autofree char *user = sspictl_format_user ((guint32) g_ascii_strtoull (row->key + 4, NULL, 10));
          g_autofree char *n_contexts = g_strdup_printf ("%u", row->now->contexts);
          g_autofree char *n_handles = g_strdup_printf ("%u", row->now->credentials);
          g_autofree char *n_pending = g_strdup_printf ("%u", row->now->pending);

          total += row->done_per_sec;
          contexts += row->now->contexts;
          pending += row->now->pending;
          sspictl_table_add_row (users, user, done_rate, failed_rate, n_contexts, n_handles,
                                 n_pending, done, failed);
        }
      else
        sspictl_table_add_row (creds, row->key + 5, done_rate, failed_rate, done, failed);
    }
  {
    g_autofree char *up = sspictl_format_duration (uptime);

    printf ("sspid on the %s bus, up %s: %.1f handshakes/s, %" G_GUINT64_FORMAT
            " contexts, %" G_GUINT64_FORMAT " pending (the users you may see)\n\n",
            bus_label, up, total, contexts, pending);
  }
  sspictl_table_print (users, stdout);
  printf ("\n");
  if (sspictl_table_get_n_rows (creds) > 0)
    sspictl_table_print (creds, stdout);
  else
    printf ("(no configured credential you may use)\n");
  fflush (stdout);
}

static void
print_json (const Sample *now, const Sample *before)
{
  g_autoptr (GArray) rows = make_rows (now, before);
  SspictlJson *json = sspictl_json_new ();
  g_autofree char *text = NULL;

  sspictl_json_begin_object (json);
  sspictl_json_key (json, "seconds");
  sspictl_json_double (json, before != NULL ? (now->taken - before->taken) / 1e6 : 0, 3);
  for (int pass = 0; pass < 2; pass++)
    {
      sspictl_json_key (json, pass == 0 ? "users" : "credentials");
      sspictl_json_begin_array (json);
      for (guint i = 0; i < rows->len; i++)
        {
          const Row *row = &g_array_index (rows, Row, i);
          gboolean is_user = g_str_has_prefix (row->key, "uid:");

          if (is_user != (pass == 0))
            continue;
          sspictl_json_begin_object (json);
          if (is_user)
            {
              sspictl_json_member_int (json, "uid", g_ascii_strtoll (row->key + 4, NULL, 10));
              sspictl_json_member_int (json, "contexts", row->now->contexts);
              sspictl_json_member_int (json, "handles", row->now->credentials);
              sspictl_json_member_int (json, "pending", row->now->pending);
            }
          else
            sspictl_json_member_string (json, "name", row->key + 5);
          sspictl_json_member_int (json, "handshakes", (gint64) row->now->done);
          sspictl_json_member_int (json, "failed", (gint64) row->now->failed);
          sspictl_json_key (json, "handshakes-per-sec");
          sspictl_json_double (json, row->done_per_sec, 3);
          sspictl_json_key (json, "failed-per-sec");
          sspictl_json_double (json, row->failed_per_sec, 3);
          sspictl_json_end_object (json);
        }
      sspictl_json_end_array (json);
    }
  sspictl_json_end_object (json);
  text = sspictl_json_finish (json);
  fputs (text, stdout);
}

int
sspictl_top (int argc, char **argv)
{
  double interval = 1.0;
  gint count = 0;
  gboolean once = FALSE, as_json = FALSE;
  g_autoptr (GError) error = NULL;
  g_autoptr (Sample) before = NULL;
  const char *bus_label = NULL;
  int exit_code = SSPICTL_EXIT_OK;
  gboolean clear = isatty (STDOUT_FILENO);
  const GOptionEntry entries[] = {
    { "interval", 0, 0, G_OPTION_ARG_DOUBLE, &interval, "Seconds between screens (default 1)",
      "SECONDS" },
    { "count", 0, 0, G_OPTION_ARG_INT, &count, "Stop after N screens", "N" },
    { "once", 0, 0, G_OPTION_ARG_NONE, &once,
      "One screen (two samples INTERVAL apart), then exit", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &as_json, "With --once: print one JSON document", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);

  g_option_context_set_summary (context,
    "Show sspid's load as it happens: handshakes a second (done and failed),\n"
    "contexts, credential handles and pending calls per user, and handshakes\n"
    "a second per credential.  Root sees every user and credential; others\n"
    "their own uid and the credentials they may use.");
  g_option_context_set_description (context, SSPICTL_HELP_BUS "\n" SSPICTL_HELP_EXIT_CODES "\n");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc > 1
      || interval < 0.1 || interval > 3600 || count < 0 || (as_json && !once))
    {
      g_printerr ("sspictl top: %s\n", error != NULL ? error->message
                  : argc > 1 ? "unexpected argument"
                  : as_json ? "--json needs --once"
                  : "--interval takes 0.1 to 3600 seconds, --count a positive number");
      return SSPICTL_EXIT_USAGE;
    }
  if (once)
    count = 1;

  before = take_sample (&bus_label, &exit_code);
  if (before == NULL)
    return exit_code;
  for (gint shown = 0; count == 0 || shown < count; shown++)
    {
      g_autoptr (Sample) now = NULL;

      g_usleep ((gulong) (interval * G_USEC_PER_SEC));
      now = take_sample (&bus_label, &exit_code);
      if (now == NULL)
        return exit_code;
      if (as_json)
        print_json (now, before);
      else
        {
          if (clear)
            printf ("\033[H\033[2J");
          else if (shown > 0)
            printf ("\n");
          print_screen (now, before, bus_label);
        }
      sample_free (g_steal_pointer (&before));
      before = g_steal_pointer (&now);
    }
  return SSPICTL_EXIT_OK;
}
