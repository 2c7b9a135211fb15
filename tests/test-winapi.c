/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A program written only against the synchronous Windows API
 * (tests/winapi-client.c, shaped like Microsoft's WebClient sample) builds
 * the way an application would, with `pkg-config --cflags --libs sspi`, and
 * fetches a page from `openssl s_server -www` through sspid.
 *
 * The build uses an install-shaped tree made in a temporary directory
 * (headers under include/sspid, the library under lib, and the project's
 * real sspi.pc.in turned into lib/pkgconfig/sspi.pc for that prefix), so the
 * .pc file's Cflags and Libs are tested as well as the headers.
 */

#include "config.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "testutil.h"

#define CLIENT_TIMEOUT_MS 60000
/* Optional command prepended to the client's command line. */
#define CLIENT_WRAPPER_ENV "SSPID_TEST_CLIENT_WRAPPER"

static void
make_link (const char *target, const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  ck_assert_msg (symlink (target, path) == 0, "symlink %s: %s", path, g_strerror (errno));
}

/* sspi.pc.in with the prefix at @prefix, as `make install` would write it. */
static void
write_pc (const char *prefix, const char *path)
{
  g_autofree char *in = NULL;
  g_autoptr(GString) pc = NULL;

  ck_assert (g_file_get_contents (SSPI_PC_IN, &in, NULL, NULL));
  pc = g_string_new (in);
  g_string_replace (pc, "@prefix@", prefix, 0);
  g_string_replace (pc, "@exec_prefix@", "${prefix}", 0);
  g_string_replace (pc, "@libdir@", "${exec_prefix}/lib", 0);
  g_string_replace (pc, "@includedir@", "${prefix}/include", 0);
  g_string_replace (pc, "@VERSION@", PACKAGE_VERSION, 0);
  ck_assert (g_file_set_contents (path, pc->str, -1, NULL));
}

/* Makes @root/prefix look like an installed libsspi; returns the prefix. */
static char *
make_prefix (const char *root)
{
  char *prefix = g_build_filename (root, "prefix", NULL);
  g_autofree char *inc = g_build_filename (prefix, "include", "sspid", NULL);
  g_autofree char *lib = g_build_filename (prefix, "lib", NULL);
  g_autofree char *pcdir = g_build_filename (lib, "pkgconfig", NULL);
  g_autofree char *pc = g_build_filename (pcdir, "sspi.pc", NULL);
  g_autofree char *so = g_build_filename (SSPI_LIB_DIR, "libsspi.so.0", NULL);

  ck_assert_int_eq (g_mkdir_with_parents (inc, 0700), 0);
  ck_assert_int_eq (g_mkdir_with_parents (pcdir, 0700), 0);
  make_link (SSPI_HEADERS_DIR "/sspi.h", inc, "sspi.h");
  make_link (SSPI_HEADERS_DIR "/schannel.h", inc, "schannel.h");
  make_link (so, lib, "libsspi.so.0");
  make_link ("libsspi.so.0", lib, "libsspi.so");
  write_pc (prefix, pc);
  return prefix;
}

/* Runs @argv to completion; returns its stdout, asserting it succeeded. */
static char *
run_ok (const char *const *argv, const char *const *envp)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  char *out = NULL;
  int status = 0;

  ck_assert_msg (g_spawn_sync (NULL, (char **) argv, (char **) envp, G_SPAWN_SEARCH_PATH,
                               NULL, NULL, &out, &err, &status, &error),
                 "cannot run %s: %s", argv[0], error != NULL ? error->message : "");
  ck_assert_msg (g_spawn_check_wait_status (status, NULL), "%s failed:\n%s%s", argv[0],
                 out, err);
  return out;
}

/* `pkg-config --cflags --libs sspi` with only @pcdir searched, then the
 * compiler; returns the executable's path. */
static char *
build_client (const char *root, const char *prefix)
{
  g_autofree char *pcdir = g_build_filename (prefix, "lib", "pkgconfig", NULL);
  g_autofree char *exe = g_build_filename (root, "winapi-client", NULL);
  g_auto(GStrv) envp = g_get_environ ();
  g_auto(GStrv) cc = NULL;
  g_auto(GStrv) san_flags = NULL;
  g_auto(GStrv) flags = NULL;
  g_autofree char *flags_text = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  const char *pkg_argv[] = { TEST_PKG_CONFIG, "--cflags", "--libs", "sspi", NULL };

  envp = g_environ_setenv (envp, "PKG_CONFIG_PATH", pcdir, TRUE);
  envp = g_environ_setenv (envp, "PKG_CONFIG_LIBDIR", pcdir, TRUE);
  flags_text = run_ok (pkg_argv, (const char *const *) envp);
  ck_assert_ptr_nonnull (strstr (flags_text, "-lsspi"));
  ck_assert (g_shell_parse_argv (g_strstrip (flags_text), NULL, &flags, NULL));
  ck_assert (g_shell_parse_argv (TEST_CC, NULL, &cc, NULL));
  /* In a sanitizer build the program is instrumented like the library
   * it loads, so that the sanitizers' runtime comes first. */
  if (*TEST_SAN_CFLAGS != '\0')
    ck_assert (g_shell_parse_argv (TEST_SAN_CFLAGS, NULL, &san_flags, NULL));

  for (gsize i = 0; cc[i] != NULL; i++)
    g_ptr_array_add (argv, cc[i]);
  for (gsize i = 0; san_flags != NULL && san_flags[i] != NULL; i++)
    g_ptr_array_add (argv, san_flags[i]);
  g_ptr_array_add (argv, "-Wall");
  g_ptr_array_add (argv, "-Wextra");
  g_ptr_array_add (argv, "-Werror");
  g_ptr_array_add (argv, "-o");
  g_ptr_array_add (argv, exe);
  g_ptr_array_add (argv, WINAPI_CLIENT_SOURCE);
  for (gsize i = 0; flags[i] != NULL; i++)
    g_ptr_array_add (argv, flags[i]);
  g_ptr_array_add (argv, NULL);
  g_free (run_ok ((const char *const *) argv->pdata, NULL));
  ck_assert (g_file_test (exe, G_FILE_TEST_IS_EXECUTABLE));
  return g_steal_pointer (&exe);
}

/* Waits for @pid up to @timeout_ms (killing it then); returns its status. */
static int
wait_exit (GPid pid, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
  int status = 0;

  while (waitpid (pid, &status, WNOHANG) == 0)
    {
      if (g_get_monotonic_time () > deadline)
        {
          kill (pid, SIGKILL);
          waitpid (pid, &status, 0);
          ck_abort_msg ("winapi-client did not finish in %u ms", timeout_ms);
        }
      g_usleep (20 * 1000);
    }
  g_spawn_close_pid (pid);
  return status;
}

/* What the server of each iteration offers: TLS 1.3, TLS 1.2 (AES-GCM),
 * and TLS 1.2 CBC suites, whose records carry an explicit IV in front and a
 * MAC plus padding behind, so the program's buffers sized from
 * STREAM_SIZES must hold them (they once did not: SEC_E_BUFFER_TOO_SMALL). */
typedef struct {
  const char *pki;       /* certificate and key name */
  const char *version;   /* s_server flag, NULL: its default */
  const char *cipher;    /* s_server -cipher, NULL: its default */
  const char *cipher_id; /* what the client must report, NULL: anything */
} WebServer;

static const WebServer web_servers[] = {
  { "server", NULL, NULL, NULL },
  { "server", "-tls1_2", NULL, NULL },
  { "rsa", "-tls1_2", "AES128-SHA", "cipher: 0x660e" },
  { "server", "-tls1_2", "ECDHE-ECDSA-AES256-SHA", "cipher: 0x6610" },
};

/* _i indexes web_servers: 0 is TLS 1.3, the others TLS 1.2. */
START_TEST (test_winapi_client_https_get)
{
  const WebServer *web = &web_servers[_i];
  /* Inside the env's directory, which tu_env_stop() removes. */
  g_autofree char *root = g_build_filename (tu_fixture_env->dir, "winapi", NULL);
  g_autofree char *prefix = NULL;
  g_autofree char *exe = NULL;
  g_autofree char *lib = NULL;
  g_autofree char *cert_name = g_strdup_printf ("%s.pem", web->pki);
  g_autofree char *key_name = g_strdup_printf ("%s.key", web->pki);
  g_autofree char *cert = tu_pki_path (cert_name);
  g_autofree char *key = tu_pki_path (key_name);
  g_autofree char *out = NULL;
  g_autofree char *port_s = NULL;
  guint16 port = tu_free_port ();
  gboolean tls12 = web->version != NULL;
  const char *server_argv[] = { "openssl", "s_server", "-www", "-accept", NULL,
                                "-cert", cert, "-key", key,
                                web->cipher != NULL ? "-cipher" : web->version, web->cipher,
                                web->cipher != NULL ? web->version : NULL, NULL };
  g_autoptr(GPtrArray) client_argv = g_ptr_array_new ();
  g_auto(GStrv) wrapper = NULL;
  GPid server, client;
  int server_stdin = -1, status;

  ck_assert_int_eq (g_mkdir (root, 0700), 0);
  prefix = make_prefix (root);
  exe = build_client (root, prefix);
  lib = g_build_filename (prefix, "lib", NULL);
  port_s = g_strdup_printf ("%u", port);
  server_argv[4] = port_s;
  /* e.g. "valgrind --error-exitcode=99 --leak-check=full" */
  if (g_getenv (CLIENT_WRAPPER_ENV) != NULL)
    ck_assert (g_shell_parse_argv (g_getenv (CLIENT_WRAPPER_ENV), NULL, &wrapper, NULL));
  for (gsize i = 0; wrapper != NULL && wrapper[i] != NULL; i++)
    g_ptr_array_add (client_argv, wrapper[i]);
  g_ptr_array_add (client_argv, exe);
  g_ptr_array_add (client_argv, "localhost");
  g_ptr_array_add (client_argv, port_s);
  g_ptr_array_add (client_argv, NULL);
  server = tu_spawn (tu_fixture_env, "s_server", server_argv, &server_stdin);
  ck_assert_msg (tu_wait_port (port, 10000), "s_server did not start");

  /* The program runs against the install-shaped tree, on the test's bus. */
  g_setenv ("LD_LIBRARY_PATH", lib, TRUE);
  client = tu_spawn (tu_fixture_env, "winapi-client", (const char *const *) client_argv->pdata, NULL);
  status = wait_exit (client, CLIENT_TIMEOUT_MS);
  out = tu_spawn_output (tu_fixture_env, "winapi-client");
  tu_kill (server);
  close (server_stdin);

  ck_assert_msg (g_spawn_check_wait_status (status, NULL), "winapi-client failed:\n%s", tu_tail (out));
  ck_assert_msg (strstr (out, "HTTP/1.0 200 ok") != NULL, "no HTTP response:\n%s", tu_tail (out));
  /* s_server -www describes the session it served. */
  ck_assert_msg (strstr (out, tls12 ? "TLSv1.2" : "TLSv1.3") != NULL, "%s", out);
  ck_assert_msg (strstr (out, tls12 ? "protocol: 0x800," : "protocol: 0x2000,") != NULL,
                 "%s", out);
  if (web->cipher_id != NULL)
    ck_assert_msg (strstr (out, web->cipher_id) != NULL, "not %s:\n%s", web->cipher, tu_tail (out));
  ck_assert_msg (strstr (out, "</HTML>") != NULL || strstr (out, "</html>") != NULL,
                 "response cut short:\n%s", tu_tail (out));
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "webclient", tu_fixture_setup, tu_fixture_teardown, 90, { { test_winapi_client_https_get, G_N_ELEMENTS (web_servers) } } },
  };

  return tu_run_cases ("winapi", cases, G_N_ELEMENTS (cases));
}
