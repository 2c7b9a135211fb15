/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's pieces that keep one user from hurting another, without a
 * bus: the fair queue the workers take calls from (users take turns), and
 * the escaping of caller-supplied text in log lines.
 */
#include "config.h"

#include <check.h>
#include <string.h>

#include "sspid-fair.h"
#include "sspid-log.h"
#include "testutil.h"

#define ITEM(key, i) GUINT_TO_POINTER (((key) << 16) | ((i) + 1))
#define KEY_OF(item) (GPOINTER_TO_UINT (item) >> 16)

/* A user with a thousand calls queued and one with a single call: the
 * single call is the second taken, not the thousand-and-first. */
START_TEST (test_backlog_does_not_delay_others)
{
  SspidFairQueue *q = sspid_fair_queue_new ();
  gpointer item;
  guint position = 0, found = 0;

  for (guint i = 0; i < 1000; i++)
    sspid_fair_queue_push (q, 1002, ITEM (1002, i));
  sspid_fair_queue_push (q, 1003, ITEM (1003, 0));
  while ((item = sspid_fair_queue_pop (q)) != NULL)
    {
      position++;
      if (KEY_OF (item) == 1003)
        found = position;
    }
  ck_assert_uint_eq (position, 1001);
  ck_assert_uint_eq (found, 2);
  sspid_fair_queue_free (q);
}
END_TEST

/* Three users with work: turns go round, and each user's own calls stay
 * in the order they came. */
START_TEST (test_round_robin_in_order)
{
  SspidFairQueue *q = sspid_fair_queue_new ();
  guint next[3] = { 0 }, last_key = G_MAXUINT;
  gpointer item;

  for (guint i = 0; i < 5; i++)
    for (guint key = 0; key < 3; key++)
      sspid_fair_queue_push (q, key, ITEM (key, i));
  while ((item = sspid_fair_queue_pop (q)) != NULL)
    {
      guint key = KEY_OF (item);

      ck_assert_uint_ne (key, last_key);
      ck_assert_uint_eq (GPOINTER_TO_UINT (item) & 0xffff, next[key] + 1);
      next[key]++;
      last_key = key;
    }
  for (guint key = 0; key < 3; key++)
    ck_assert_uint_eq (next[key], 5);

  /* A user whose lane ran empty queues behind those already waiting. */
  sspid_fair_queue_push (q, 0, ITEM (0, 0));
  sspid_fair_queue_push (q, 1, ITEM (1, 0));
  sspid_fair_queue_push (q, 0, ITEM (0, 1));
  ck_assert_uint_eq (KEY_OF (sspid_fair_queue_pop (q)), 0);
  ck_assert_uint_eq (KEY_OF (sspid_fair_queue_pop (q)), 1);
  ck_assert_uint_eq (KEY_OF (sspid_fair_queue_pop (q)), 0);
  ck_assert_ptr_null (sspid_fair_queue_pop (q));
  sspid_fair_queue_free (q);
}
END_TEST

typedef struct {
  SspidFairQueue *q;
  guint           key;
} Pusher;

static gpointer
push_many (gpointer data)
{
  Pusher *p = data;

  for (guint i = 0; i < 10000; i++)
    sspid_fair_queue_push (p->q, p->key, ITEM (p->key, i % 0xffff));
  return NULL;
}

/* Pushed from threads while popped: nothing lost, nothing twice. */
START_TEST (test_threads)
{
  SspidFairQueue *q = sspid_fair_queue_new ();
  Pusher pushers[4];
  GThread *threads[4];
  guint popped = 0;

  for (guint i = 0; i < 4; i++)
    {
      pushers[i] = (Pusher) { q, i };
      threads[i] = g_thread_new ("push", push_many, &pushers[i]);
    }
  while (popped < 40000)
    if (sspid_fair_queue_pop (q) != NULL)
      popped++;
  for (guint i = 0; i < 4; i++)
    g_thread_join (threads[i]);
  ck_assert_ptr_null (sspid_fair_queue_pop (q));
  sspid_fair_queue_free (q);
}
END_TEST

/* What a caller names (a credential, a target) cannot forge a log line,
 * nor make one long. */
START_TEST (test_log_escape)
{
  static const struct {
    const char *in;
    const char *out;
  } cases[] = {
    { "web", "web" },
    { "", "" },
    { "a\nsspid-Message: uid=0: forged", "a\\x0asspid-Message: uid=0: forged" },
    { "cr\rtab\tesc\x1b[31m", "cr\\x0dtab\\x09esc\\x1b[31m" },
    { "quote\" back\\slash", "quote\\x22 back\\x5cslash" },
    { "bad \xff utf8", "bad \\xff utf8" },
    { "line\xe2\x80\xa8sep", "line\\xe2\\x80\\xa8sep" },
    { "del\x7f c1\xc2\x85", "del\\x7f c1\\xc2\\x85" },
    { "caf\xc3\xa9", "caf\xc3\xa9" },
  };
  g_autofree char *huge = g_strnfill (20 * 1024 * 1024, 'n');
  g_autofree char *escaped = sspid_log_escape (huge);
  g_autofree char *newlines = g_strnfill (1000, '\n');
  g_autofree char *escaped_newlines = sspid_log_escape (newlines);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = sspid_log_escape (cases[i].in);

      ck_assert_str_eq (got, cases[i].out);
    }
  ck_assert_uint_le (strlen (escaped), SSPID_LOG_TEXT_MAX + 3);
  ck_assert (g_str_has_suffix (escaped, "..."));
  /* Escapes are four bytes each; the cap holds for them too. */
  ck_assert_uint_le (strlen (escaped_newlines), SSPID_LOG_TEXT_MAX + 4 + 3);
  ck_assert (strchr (escaped_newlines, '\n') == NULL);
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "fair-queue", NULL, tu_fixture_teardown, 60, { { test_backlog_does_not_delay_others },
                                                     { test_round_robin_in_order },
                                                     { test_threads } } },
    { "log", NULL, tu_fixture_teardown, 60, { { test_log_escape } } },
  };

  return tu_run_cases ("fairness", cases, G_N_ELEMENTS (cases));
}
