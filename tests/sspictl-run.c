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
