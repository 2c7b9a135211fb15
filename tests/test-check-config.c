/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `sspid --check-config`, the daemon judging a configuration as nginx -t
 * and sshd -t do: the real sspid binary (under the daemon wrapper when
 * one is set) on configurations written next to copies of the test PKI.
 * A good configuration exits 0; one with several different problems
 * reports every one of them, at its file and line, and exits 1, in text
 * and in JSON (parsed by python3); what only the credential store finds
 * (a key that does not match its certificate) is reported too; usage
 * errors exit 2.  sspictl check-config's own view is test-sspictl's.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "testutil.h"

/* Runs sspid with @args (NULL-terminated); returns its exit status, and
 * what it printed on stdout and on stderr. */
static int
run_sspid (const char *const *args, char **out, char **err)
{
  g_auto (GStrv) argv = tu_sspid_argv (args);
  g_autoptr (GError) error = NULL;
  int status = -1;

  if (!g_spawn_sync (NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, out, err, &status,
                     &error))
    ck_abort_msg ("cannot run %s: %s", argv[0], error->message);
  ck_assert_msg (WIFEXITED (status), "sspid %s did not exit normally", args[0]);
  return WEXITSTATUS (status);
}

/* sspid --check-config [--json] FILE for a daemon running as us; it must
 * print nothing on stderr. */
static int
check_config (const char *path, gboolean json, char **out)
{
  g_autofree char *user = tu_dup_user_name ();
  const char *args[] = { "--check-config", "--daemon-user", user, path,
                         json ? "--json" : NULL, NULL };
  g_autofree char *err = NULL;
  int code = run_sspid (args, out, &err);

  ck_assert_msg (err[0] == '\0', "sspid --check-config wrote to stderr: %s", err);
  return code;
}

/* Writes @conf as @dir/sspid.conf; returns its path. */
static char *
write_config (const char *dir, const char *conf)
{
  char *path = g_build_filename (dir, "sspid.conf", NULL);

  ck_assert (g_file_set_contents (path, conf, -1, NULL));
  return path;
}

/* [credential @name] with @dir's @cert and @key, for root. */
static char *
credential (const char *dir, const char *name, const char *cert, const char *key)
{
  return g_strdup_printf ("[credential %s]\ncertificate=%s/%s\nkey=%s/%s\nusers=root\n\n",
                          name, dir, cert, dir, key);
}

START_TEST (test_good)
{
  g_autofree char *dir = tu_pki_copy_dir ();
  g_autofree char *web = credential (dir, "web", "server.pem", "server.key");
  g_autofree char *conf = g_strdup_printf ("[daemon]\ndefault-trust=%s/ca.pem\n\n%s", dir, web);
  g_autofree char *path = write_config (dir, conf);
  g_autofree char *out = NULL, *json = NULL, *expr = NULL;

  ck_assert_int_eq (check_config (path, FALSE, &out), 0);
  expr = g_strdup_printf ("%s:4: credential 'web': ok (inbound; CN=localhost;", path);
  tu_assert_contains (out, expr, "sspid --check-config");
  tu_assert_contains (out, ": 1 file, 1 credential: 0 errors, 0 warnings\n",
                      "sspid --check-config");

  ck_assert_int_eq (check_config (path, TRUE, &json), 0);
  tu_assert_json (json, "d['ok'] and d['loadable'] and d['errors'] == 0 and d['messages'] == []");
  tu_assert_json (json, "[(c['name'], c['line'], c['subject'], c['issuer'], c['usage']) "
                        "for c in d['credentials']] == "
                        "[('web', 4, 'CN=localhost', 'CN=sspid test CA,O=sspid tests', "
                        "'inbound')]");
  tu_remove_tree (dir);
}
END_TEST

/* Three credentials, three different problems (lines 4-7, 9-12, 14-17),
 * beside a good one: each is reported at its line, none hides another.
 * The mismatch is the credential store's own finding. */
START_TEST (test_every_problem)
{
  g_autofree char *dir = tu_pki_copy_dir ();
  g_autofree char *open_key = g_build_filename (dir, "open.key", NULL);
  g_autofree char *server_key = g_build_filename (dir, "server.key", NULL);
  g_autofree char *web = credential (dir, "web", "server.pem", "server.key");
  g_autofree char *mixed = credential (dir, "mixed", "server.pem", "client.key");
  g_autofree char *open = credential (dir, "open", "server.pem", "open.key");
  g_autofree char *old = credential (dir, "old", "expired.pem", "expired.key");
  g_autofree char *conf = NULL, *path = NULL, *data = NULL;
  g_autofree char *out = NULL, *json = NULL, *expr = NULL;

  ck_assert (g_file_get_contents (server_key, &data, NULL, NULL));
  ck_assert (g_file_set_contents_full (open_key, data, -1, G_FILE_SET_CONTENTS_NONE, 0644,
                                       NULL));
  ck_assert_int_eq (chmod (open_key, 0644), 0);
  conf = g_strdup_printf ("[daemon]\nmax-contexts-per-user=8\n\n%s%s%s%s", mixed, open, old, web);
  path = write_config (dir, conf);

  ck_assert_int_eq (check_config (path, FALSE, &out), 1);
  expr = g_strdup_printf ("%s:6: error: credential 'mixed': key '%s/client.key' does not match "
                          "certificate '%s/server.pem'", path, dir, dir);
  tu_assert_contains (out, expr, "sspid --check-config");
  g_free (expr);
  expr = g_strdup_printf ("%s:11: error: credential 'open': key '%s' has mode 0644: other "
                          "users can read it", path, open_key);
  tu_assert_contains (out, expr, "sspid --check-config");
  g_free (expr);
  expr = g_strdup_printf ("%s:15: error: credential 'old': certificate '%s/expired.pem' "
                          "expired on 2002-01-01", path, dir);
  tu_assert_contains_all (out, "sspid --check-config", expr, "credential 'web': ok", NULL);
  tu_assert_contains (out, ": 1 file, 4 credentials: 3 errors, 0 warnings\n",
                      "sspid --check-config");

  ck_assert_int_eq (check_config (path, TRUE, &json), 1);
  tu_assert_json (json, "not d['ok'] and d['loadable'] and d['errors'] == 3");
  tu_assert_json (json, "sorted((m['credential'], m['line']) for m in d['messages'] "
                        "if m['severity'] == 'error') == "
                        "[('mixed', 6), ('old', 15), ('open', 11)]");
  tu_assert_json (json, "[(c['name'], c['errors']) for c in d['credentials']] == "
                        "[('mixed', 1), ('open', 1), ('old', 1), ('web', 0)]");
  tu_remove_tree (dir);
}
END_TEST

/* Lines that are no key file syntax stop the daemon's parser at the
 * first; the check reports them all, and says sspid would not start. */
START_TEST (test_every_syntax_error)
{
  g_autofree char *dir = tu_pki_copy_dir ();
  g_autofree char *path = write_config (dir, "[daemon]\nnot a setting\n[broken\n");
  g_autofree char *out = NULL, *json = NULL, *expr = NULL;

  ck_assert_int_eq (check_config (path, FALSE, &out), 1);
  expr = g_strdup_printf ("%s:2: error: not a [section], a key=value or a # comment", path);
  tu_assert_contains (out, expr, "sspid --check-config");
  g_free (expr);
  expr = g_strdup_printf ("%s:3: error: not a valid [section] line", path);
  tu_assert_contains_all (out, "sspid --check-config", expr, "sspid would refuse to start with it",
                          NULL);

  ck_assert_int_eq (check_config (path, TRUE, &json), 1);
  tu_assert_json (json, "not d['loadable'] and d['errors'] == 2 and "
                        "[m['line'] for m in d['messages']] == [2, 3]");
  tu_remove_tree (dir);
}
END_TEST

/* --config FILE names the file as well as FILE does; --json and a FILE
 * without --check-config, or two files, are usage errors (2). */
START_TEST (test_usage)
{
  g_autofree char *dir = tu_pki_copy_dir ();
  g_autofree char *path = write_config (dir, "[daemon]\nmax-contexts-per-user=8\n");
  g_autofree char *user = tu_dup_user_name ();
  const char *by_option[] = { "--check-config", "--daemon-user", user, "--config", path, NULL };
  const char *stray_file[] = { path, NULL };
  const char *stray_json[] = { "--json", NULL };
  const char *two_files[] = { "--check-config", path, path, NULL };
  g_autofree char *out = NULL, *err = NULL, *expr = NULL;

  ck_assert_int_eq (run_sspid (by_option, &out, &err), 0);
  expr = g_strdup_printf ("%s: 1 file, 0 credentials: 0 errors, 0 warnings\n", path);
  tu_assert_contains (out, expr, "sspid --check-config --config");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  ck_assert_int_eq (run_sspid (stray_file, &out, &err), 2);
  tu_assert_contains (err, "--check-config", "sspid FILE");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  ck_assert_int_eq (run_sspid (stray_json, &out, &err), 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  ck_assert_int_eq (run_sspid (two_files, &out, &err), 2);
  tu_remove_tree (dir);
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    /* The daemon may run under valgrind (SSPID_TEST_DAEMON_WRAPPER). */
    { "sspid", NULL, NULL, 120, { { test_good }, { test_every_problem },
                                  { test_every_syntax_error }, { test_usage } } },
  };

  return tu_run_cases ("check-config", cases, G_N_ELEMENTS (cases));
}
