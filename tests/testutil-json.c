/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tu_assert_json(): what a program's --json printed, parsed by python3
 * (which gdbus-codegen already needs: GLib has no JSON parser) and judged
 * by a Python expression, so a test checks a document field by field
 * rather than by its text.
 */
#include "config.h"

#include <check.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "testutil.h"

void
tu_assert_json (const char *json, const char *expr)
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
  int fd = g_file_open_tmp ("sspid-test-XXXXXX.json", &path, &error);
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
                 "JSON check failed: %s\n%s\ndocument:\n%s", expr, tu_tail (err),
                 tu_tail (json));
}
