/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The audit trail (issue 17): a record per handshake that used a
 * credential, done or failed, with the caller's uid and pid, the
 * credential, role, peer, protocol, cipher and resumption, in the daemon's
 * log under a stable MESSAGE_ID; and `sspictl audit` reading them back
 * from that log with its filters and --json.  The daemon here runs without
 * the journal (its standard error is the test's log file), which is the
 * path `sspictl audit --log` reads; the journal carries the same message.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "sspictl-run.h"
#include "testutil.h"
#include "tls-pair.h"

/* The lines of the daemon's log that are audit records, once there are
 * at least @n: a record is written after the caller has its answer. */
static GPtrArray *audit_lines (void);

static GPtrArray *
audit_lines_n (guint n)
{
  gint64 give_up = g_get_monotonic_time () + (gint64) tu_scaled_ms (10000) * 1000;

  for (;;)
    {
      GPtrArray *lines = audit_lines ();

      if (lines->len >= n || g_get_monotonic_time () > give_up)
        return lines;
      g_ptr_array_unref (lines);
      g_usleep (20 * 1000);
    }
}

/* The lines of the daemon's log that are audit records. */
static GPtrArray *
audit_lines (void)
{
  g_autofree char *log = tu_env_daemon_log (tu_fixture_env);
  g_auto (GStrv) lines = g_strsplit (log, "\n", -1);
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; lines[i] != NULL; i++)
    if (strstr (lines[i], "audit handshake-") != NULL)
      g_ptr_array_add (out, g_strdup (strstr (lines[i], "audit handshake-")));
  return out;
}

/* The one record of @event ("handshake-done"...) for @role ("server"...)
 * whose text has @needle too; fails unless exactly one does. */
static const char *
find_record (GPtrArray *lines, const char *event, const char *role, const char *needle)
{
  g_autofree char *event_text = g_strdup_printf ("audit %s ", event);
  g_autofree char *role_text = g_strdup_printf (" role=%s ", role);
  const char *found = NULL;
  guint n = 0;

  for (guint i = 0; i < lines->len; i++)
    {
      const char *line = lines->pdata[i];

      if (g_str_has_prefix (line, event_text) && strstr (line, role_text) != NULL
          && (needle == NULL || strstr (line, needle) != NULL))
        {
          found = line;
          n++;
        }
    }
  ck_assert_msg (n == 1, "%u %s records for role %s with \"%s\"", n, event, role,
                 needle ? needle : "");
  return found;
}

/* A handshake through the daemon; returns the client's status. */
static SECURITY_STATUS
run_pair (const char *target)
{
  TlsPairOptions opts = { .target = target };
  g_autoptr (TlsPair) pair = tls_pair_new (&opts);

  tls_pair_start (pair);
  ck_assert (tls_pair_wait (pair, tu_scaled_ms (20000)));
  return tls_pair_peek_result (pair)->client.status;
}

START_TEST (test_records_in_the_log)
{
  g_autoptr (GPtrArray) lines = NULL;
  g_autofree char *me = g_strdup_printf (" uid=%u pid=%d ", (guint) getuid (), (int) getpid ());
  const char *line;

  ck_assert_int_eq (run_pair (NULL), SEC_E_OK);
  ck_assert_int_eq (run_pair ("wrong.example"), SEC_E_WRONG_PRINCIPAL);

  lines = audit_lines_n (3);
  for (guint i = 0; i < lines->len; i++)
    printf ("record: %s\n", (char *) lines->pdata[i]);
  /* The server's handshake: who, which credential, the name the client
   * asked for, what was negotiated. */
  line = find_record (lines, "handshake-done", "server", "server-name=\"localhost\"");
  ck_assert_ptr_nonnull (strstr (line, me));
  ck_assert_ptr_nonnull (strstr (line, " credential=\"server\" "));
  ck_assert_ptr_nonnull (strstr (line, " protocol=TLS1.3 "));
  ck_assert_ptr_nonnull (strstr (line, " cipher=AES-"));
  ck_assert_ptr_nonnull (strstr (line, " resumed=no "));
  ck_assert_ptr_nonnull (strstr (line, " status=0x00000000 "));
  ck_assert_ptr_nonnull (strstr (line, " peer=- "));   /* no client certificate */
  /* The client's: the server's certificate subject is its peer. */
  line = find_record (lines, "handshake-done", "client", "server-name=\"localhost\"");
  ck_assert_ptr_nonnull (strstr (line, me));
  ck_assert_ptr_nonnull (strstr (line, " peer=\"CN="));
  /* The client that refused the server's name: a failed record with the
   * status its caller got. */
  line = find_record (lines, "handshake-failed", "client", "server-name=\"wrong.example\"");
  ck_assert_ptr_nonnull (strstr (line, " status=0x80090322 "));
  ck_assert_ptr_nonnull (strstr (line, me));
}
END_TEST

/* sspictl audit --log: every record back, as JSON and as a table, with
 * --credential and --since filtering. */
START_TEST (test_sspictl_audit)
{
  g_autofree char *log = NULL;
  g_autofree char *path = g_build_filename (tu_fixture_env->dir, "audit-copy.log", NULL);
  g_autofree char *out = NULL;
  g_autofree char *expect_pid = g_strdup_printf ("r['pid'] == %d", (int) getpid ());
  g_autofree char *all_mine = NULL;

  ck_assert_int_eq (run_pair (NULL), SEC_E_OK);
  ck_assert_int_eq (run_pair ("wrong.example"), SEC_E_WRONG_PRINCIPAL);
  g_ptr_array_unref (audit_lines_n (3));
  log = tu_env_daemon_log (tu_fixture_env);
  ck_assert (g_file_set_contents (path, log, -1, NULL));

  {
    const char *args[] = { "audit", "--log", path, "--json", NULL };

    ck_assert_int_eq (sspictl_run (args, &out, NULL), 0);
  }
  all_mine = g_strdup_printf ("all(%s and r['uid'] == %u for r in d['records'])", expect_pid,
                              (guint) getuid ());
  tu_assert_json (out, all_mine);
  tu_assert_json (out, "sum(r['event'] == 'handshake-done' for r in d['records']) == 2");
  tu_assert_json (out, "any(r['event'] == 'handshake-failed' and r['role'] == 'client' and "
                            "r['status'] == '0x80090322' and r['server-name'] == 'wrong.example' "
                            "for r in d['records'])");
  tu_assert_json (out, "any(r['role'] == 'server' and r['credential'] == 'server' and "
                            "r['protocol'] == 'TLS1.3' and r['resumed'] is False and "
                            "r['peer'] is None and abs(time.mktime(time.strptime("
                            "r['time'][:19], '%Y-%m-%dT%H:%M:%S')) - time.timezone - now) < 600 "
                            "for r in d['records'])");
  g_clear_pointer (&out, g_free);

  {
    const char *args[] = { "audit", "--log", path, "--credential", "server", "--json", NULL };

    ck_assert_int_eq (sspictl_run (args, &out, NULL), 0);
  }
  tu_assert_json (out, "len(d['records']) >= 1 and "
                            "all(r['credential'] == 'server' for r in d['records'])");
  g_clear_pointer (&out, g_free);

  {
    const char *args[] = { "audit", "--log", path, "--since", "2999-01-01", "--json", NULL };

    ck_assert_int_eq (sspictl_run (args, &out, NULL), 0);
  }
  tu_assert_json (out, "d['records'] == []");
  g_clear_pointer (&out, g_free);

  {
    const char *args[] = { "audit", "--log", path, "--since", "1h", NULL };

    ck_assert_int_eq (sspictl_run (args, &out, NULL), 0);
  }
  tu_assert_contains_all (out, "sspictl audit", "CREDENTIAL", "TLS1.3", "0x80090322", NULL);
  g_clear_pointer (&out, g_free);

  {
    const char *args[] = { "audit", "--log", path, "--since", "yesterday-ish", NULL };

    ck_assert_int_eq (sspictl_run (args, &out, NULL), 1);
  }
  g_unlink (path);
}
END_TEST

/* A record cannot be forged by the peer: a server name with a quote and
 * a newline (sent by a raw ClientHello would do the same; the client's
 * target name is the easy way in) stays inside one escaped value. */
START_TEST (test_hostile_names_escaped)
{
  g_autoptr (GPtrArray) lines = NULL;
  g_autofree char *log = NULL;
  g_auto (GStrv) all = NULL;
  guint forged = 0;

  /* Refused or not, it must not forge a record. */
  (void) run_pair ("evil\" role=server credential=\"x\nsspid-Message: audit handshake-done");
  lines = audit_lines_n (1);
  for (guint i = 0; i < lines->len; i++)
    printf ("record: %s\n", (char *) lines->pdata[i]);
  ck_assert_uint_ge (lines->len, 1);
  /* Every line of the log (debug lines too: the test daemon is verbose)
   * that reads as a record is one: the event, then its time. */
  log = tu_env_daemon_log (tu_fixture_env);
  all = g_strsplit (log, "\n", -1);
  for (guint i = 0; all[i] != NULL; i++)
    {
      const char *at = strstr (all[i], "audit handshake-");

      if (at != NULL && !g_str_has_prefix (at, "audit handshake-done time=")
          && !g_str_has_prefix (at, "audit handshake-failed time="))
        {
          printf ("forged: %s\n", all[i]);
          forged++;
        }
    }
  ck_assert_uint_eq (forged, 0);
}
END_TEST

/* sspictl top: per user and per credential, counts since the start and
 * rates over the sample; --count screens; --json only with --once. */
START_TEST (test_sspictl_top)
{
  const char *once[] = { "top", "--once", "--json", "--interval", "2", NULL };
  const char *screens[] = { "top", "--count", "2", "--interval", "0.2", NULL };
  const char *bad[] = { "top", "--json", NULL };
  g_autofree char *me = NULL;
  g_autofree char *out = NULL;
  gint64 until;
  int fd = -1, status = -1;
  GPid pid;
  guint n = 0;

  ck_assert_int_eq (run_pair (NULL), SEC_E_OK);
  ck_assert_int_eq (run_pair ("wrong.example"), SEC_E_WRONG_PRINCIPAL);
  /* Handshakes all through the sample (a failed one is counted at once,
   * its peer's is not: the server was abandoned). */
  pid = sspictl_spawn (once, &fd);
  until = g_get_monotonic_time () + 2500 * 1000;
  while (g_get_monotonic_time () < until)
    {
      ck_assert_int_eq (run_pair (NULL), SEC_E_OK);
      n++;
    }
  out = sspictl_finish (pid, fd, &status);
  printf ("top: %u handshakes during the sample:\n%s", n, out);
  ck_assert_int_eq (status, 0);
  me = g_strdup_printf ("[u for u in d['users'] if u['uid'] == %u][0]", (guint) getuid ());
  {
    g_autofree char *mine = g_strdup_printf (
      "(lambda u: u['handshakes'] >= 4 and u['failed'] >= 1 and u['handshakes-per-sec'] > 0 "
      "and u['contexts'] >= 0 and u['pending'] >= 0)(%s)", me);

    tu_assert_json (out, mine);
  }
  tu_assert_json (out, "d['seconds'] >= 1.9 and "
                            "(lambda c: c['handshakes'] >= 2 and c['handshakes-per-sec'] > 0)"
                            "([c for c in d['credentials'] if c['name'] == 'server'][0])");
  g_clear_pointer (&out, g_free);

  ck_assert_int_eq (sspictl_run (screens, &out, NULL), 0);
  {
    guint headers = 0;

    for (const char *p = out; (p = strstr (p, "CREDENTIAL")) != NULL; p++)
      headers++;
    ck_assert_uint_eq (headers, 2);
  }
  tu_assert_contains (out, "HS/S", "sspictl top");
  g_clear_pointer (&out, g_free);
  ck_assert_int_eq (sspictl_run (bad, NULL, NULL), 1);
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "records", tu_fixture_setup, tu_fixture_teardown, 60, { { test_records_in_the_log },
                                                              { test_sspictl_audit },
                                                              { test_hostile_names_escaped } } },
    { "top", tu_fixture_setup, tu_fixture_teardown, 60, { { test_sspictl_top } } },
  };

  return tu_run_cases ("audit", cases, G_N_ELEMENTS (cases));
}
