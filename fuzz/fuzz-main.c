/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A main() for the fuzz targets without libFuzzer: runs each file named on
 * the command line (a directory: each file in it, in name order) through
 * LLVMFuzzerTestOneInput() once.  Without arguments it replays the target's
 * committed corpus (FUZZ_CORPUS_DIR), which is how `make check` keeps every
 * seed and every fixed crash (fuzz/corpus/<target>/crash-*) passing under
 * the normal compiler, the sanitizer build and valgrind.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "fuzz-common.h"

static int
run_file (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &data, &len, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  /* Says which input a crash came from. */
  fprintf (stderr, "replaying %s\n", path);
  /* An exact-size copy, so that reading past the end is caught. */
  {
    g_autofree guint8 *copy = g_memdup2 (data, len);
    LLVMFuzzerTestOneInput (copy, len);
  }
  return 0;
}

static gint
compare_paths (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

static int
run_path (const char *path, guint *n_files)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GPtrArray) names = NULL;
  const char *name;
  int failures = 0;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      (*n_files)++;
      return run_file (path);
    }
  dir = g_dir_open (path, 0, &error);
  if (dir == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (name[0] != '.')
      g_ptr_array_add (names, g_build_filename (path, name, NULL));
  g_ptr_array_sort (names, compare_paths);
  for (guint i = 0; i < names->len; i++)
    {
      (*n_files)++;
      failures += run_file (g_ptr_array_index (names, i));
    }
  return failures;
}

int
main (int argc, char **argv)
{
  const char *default_paths[] = { FUZZ_CORPUS_DIR, NULL };
  guint n_files = 0;
  int failures = 0;

  LLVMFuzzerInitialize (&argc, &argv);
  if (argc > 1)
    for (int i = 1; i < argc; i++)
      failures += run_path (argv[i], &n_files);
  else
    failures += run_path (default_paths[0], &n_files);

  printf ("%s: %u inputs replayed, %d unreadable\n", argv[0], n_files, failures);
  /* An empty corpus would make this test pass without testing anything. */
  return failures > 0 || n_files == 0 ? 1 : 0;
}
