/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One user's accounting (see sspid-user.h): its counts, its refusals per
 * minute and class, its introspection budget.
 */
#include "config.h"

#include "sspid-user.h"

/* One minute of refusals of one class. */
typedef struct {
  gint64 since;      /* monotonic µs: the minute being counted */
  guint  logged;     /* in that minute */
  guint  unlogged;
} RefusalCount;

#define REFUSALS_WINDOW (60 * G_USEC_PER_SEC)

SspidUser *
sspid_user_new (uid_t uid)
{
  SspidUser *user = g_new0 (SspidUser, 1);

  user->uid = uid;
  user->refusals = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  return user;
}

void
sspid_user_free (SspidUser *user)
{
  if (user == NULL)
    return;
  g_hash_table_unref (user->refusals);
  g_free (user);
}

/* --- refusals ------------------------------------------------------------ */

/* The line that sums up a minute's unlogged refusals of @what, if any,
 * and a new minute. */
static void
refusals_new_window (const SspidUser *user, const char *what, RefusalCount *count,
                     gint64 now)
{
  if (count->unlogged > 0)
    {
      if (user->uid == (uid_t) -1)
        g_message ("... and %u more refusals (%s) for callers not yet identified in the "
                   "last minute", count->unlogged, what);
      else
        g_message ("... and %u more refusals (%s) for uid %u in the last minute",
                   count->unlogged, what, (guint) user->uid);
    }
  count->since = now;
  count->logged = 0;
  count->unlogged = 0;
}

gboolean
sspid_user_count_refusal (SspidUser *user, const char *what)
{
  RefusalCount *count = g_hash_table_lookup (user->refusals, what);
  gint64 now = g_get_monotonic_time ();

  if (count == NULL)
    {
      count = g_new0 (RefusalCount, 1);
      count->since = now;
      g_hash_table_insert (user->refusals, (gpointer) what, count);
    }
  if (now - count->since >= REFUSALS_WINDOW)
    refusals_new_window (user, what, count, now);
  if (count->logged >= SSPID_REFUSALS_LOGGED)
    {
      count->unlogged++;
      return FALSE;
    }
  count->logged++;
  return TRUE;
}

void
sspid_user_tell_refusals (SspidUser *user, gboolean at_exit)
{
  gint64 now = g_get_monotonic_time ();
  GHashTableIter iter;
  gpointer what, value;

  g_hash_table_iter_init (&iter, user->refusals);
  while (g_hash_table_iter_next (&iter, &what, &value))
    {
      RefusalCount *count = value;

      if (count->unlogged > 0 && (at_exit || now - count->since >= REFUSALS_WINDOW))
        refusals_new_window (user, what, count, now);
    }
}

/* --- introspection budget ------------------------------------------------ */

/* A generic cell rate: introspection_due runs ahead of now by what was
 * charged and not yet paid for at SSPID_INTROSPECTION_RATE; the user may
 * ask while that is within the burst. */
char *
sspid_user_check_introspection (SspidUser *user)
{
  if (user->introspection_due - g_get_monotonic_time ()
      <= SSPID_INTROSPECTION_BURST_SEC * G_USEC_PER_SEC)
    return NULL;
  return g_strdup_printf ("introspection=%d entries/s per user", SSPID_INTROSPECTION_RATE);
}

void
sspid_user_charge_introspection (SspidUser *user, guint entries)
{
  user->introspection_due = MAX (user->introspection_due, g_get_monotonic_time ())
                            + (gint64) (1 + entries) * G_USEC_PER_SEC / SSPID_INTROSPECTION_RATE;
}
