/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Running sspictl from tests (see sspictl-run.h).
 */
#include "config.h"

#include <check.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "sspictl-run.h"

#ifndef SSPICTL_BINARY
#error "SSPICTL_BINARY must name the built sspictl (see tests/Makefile.inc)"
#endif

int
sspictl_run (const char *const *args, char **out, char **err)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *ignored_out = NULL;
  g_autofree char *ignored_err = NULL;
  int status = -1;

  g_ptr_array_add (argv, (char *) SSPICTL_BINARY);
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                     out != NULL ? out : &ignored_out, err != NULL ? err : &ignored_err,
                     &status, &error))
    ck_abort_msg ("cannot run %s: %s", SSPICTL_BINARY, error->message);
  ck_assert_msg (WIFEXITED (status), "sspictl %s did not exit normally", args[0]);
  return WEXITSTATUS (status);
}

void
sspictl_assert_json (const char *json, const char *expr)
{
  static const char script[] =
    "import json, sys, time\n"
    "d = json.load(open(sys.argv[1], encoding='utf-8'))\n"
    "now = time.time()\n"
    "sys.exit(0 if eval(sys.argv[2]) else 1)\n";
  g_autofree char *path = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  int status = -1;
  int fd = g_file_open_tmp ("sspictl-XXXXXX.json", &path, &error);
  const char *argv[] = { "python3", "-c", script, NULL, expr, NULL };

  ck_assert_msg (fd >= 0, "%s", error ? error->message : "");
  close (fd);
  argv[3] = path;
  ck_assert (g_file_set_contents (path, json, -1, NULL));
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                     &err, &status, &error))
    ck_abort_msg ("python3 is needed to parse JSON: %s", error->message);
  g_unlink (path);
  ck_assert_msg (g_spawn_check_wait_status (status, NULL),
                 "JSON check failed: %s\n%s\ndocument:\n%s", expr, err, json);
}

GPid
sspictl_spawn (const char *const *args, int *out_fd)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  GPid pid = 0;

  g_ptr_array_add (argv, (char *) SSPICTL_BINARY);
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  if (!g_spawn_async_with_pipes (NULL, (char **) argv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                 NULL, NULL, &pid, NULL, out_fd, NULL, &error))
    ck_abort_msg ("cannot run %s: %s", SSPICTL_BINARY, error->message);
  return pid;
}

char *
sspictl_finish (GPid pid, int out_fd, int *status)
{
  GString *out = g_string_new (NULL);
  char buf[4096];
  ssize_t n;
  int wstatus = 0;

  while ((n = read (out_fd, buf, sizeof buf)) > 0)
    g_string_append_len (out, buf, n);
  close (out_fd);
  ck_assert_int_eq (waitpid (pid, &wstatus, 0), pid);
  g_spawn_close_pid (pid);
  ck_assert_msg (WIFEXITED (wstatus), "sspictl did not exit normally");
  *status = WEXITSTATUS (wstatus);
  return g_string_free (out, FALSE);
}
