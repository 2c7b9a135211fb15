/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * D-Bus activation: with no daemon running, the first libsspi call starts
 * sspid through the bus, and succeeds.
 *
 * The bus is a private dbus-daemon configured like the system bus (nobody
 * owns or calls anything unless a policy says so) with the project's real
 * policy file and a <servicedir> holding the activation file the build
 * generates for `make install` (data/org.sspid1.service).  The file is
 * checked (name, SystemdService=) and used as is, except for its Exec=
 * line: it names the installed sspid, which a test cannot run, so it is
 * pointed at the built daemon, with --address (sspid serves the system bus
 * unless told otherwise) and --config.  Nothing else in this test starts
 * sspid.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <gio/gio.h>

#include <sspi.h>
#include <schannel.h>

#include "sspid-proto.h"
#include "testbus.h"
#include "testutil.h"

#ifndef SSPID_ACTIVATION_FILE
#error "SSPID_ACTIVATION_FILE must name the built data/org.sspid1.service"
#endif

#define WAIT_MS 30000

typedef struct {
  char *dir;
  char *address;
  GPid  bus_pid;
} Bus;

static Bus bus;

static void
write_file (const char *dir, const char *name, const char *contents)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;

  ck_assert_msg (g_file_set_contents (path, contents, -1, &error), "%s: %s", path,
                 error ? error->message : "");
}

/* The built activation file, checked, with Exec= pointing at @exec. */
static void
write_activation_file (const char *exec)
{
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  g_autofree char *services = g_build_filename (bus.dir, "services", NULL);
  gboolean has_exec = FALSE;

  ck_assert_msg (g_file_get_contents (SSPID_ACTIVATION_FILE, &contents, NULL, NULL),
                 "%s is missing (make data/org.sspid1.service)", SSPID_ACTIVATION_FILE);
  ck_assert_msg (strstr (contents, "\n[D-BUS Service]\n") != NULL, "%s", contents);
  ck_assert_msg (strstr (contents, "\nName=" SSPID_BUS_NAME "\n") != NULL, "%s", contents);
  ck_assert_msg (strstr (contents, "\nSystemdService=sspid.service\n") != NULL, "%s", contents);
  ck_assert_msg (strstr (contents, "@") == NULL, "unsubstituted template:\n%s", contents);

  lines = g_strsplit (contents, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], "Exec="))
        {
          ck_assert_msg (g_str_has_suffix (lines[i], "/sspid"), "%s", lines[i]);
          g_string_append_printf (out, "Exec=%s\n", exec);
          has_exec = TRUE;
        }
      else if (lines[i + 1] != NULL || lines[i][0] != '\0')
        g_string_append_printf (out, "%s\n", lines[i]);
    }
  ck_assert (has_exec);
  ck_assert_int_eq (g_mkdir (services, 0755), 0);
  write_file (services, "org.sspid1.service", out->str);
}

/* Starts the tests' bus (testbus) with the project's policy and no daemon,
 * activating from bus.dir/services an activation file whose Exec= runs
 * @binary on it, and points libsspi at it.  The bus and what it activates
 * write to bus.dir/bus.log. */
static void
start_bus (const char *binary)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TbBus) started = NULL;
  g_autofree char *exec = NULL;
  g_autofree char *quoted_binary = NULL, *quoted_conf = NULL;
  g_autofree char *sspid_conf = NULL;
  g_autofree char *ca = tu_pki_path ("ca.pem");
  g_autofree char *conf_text = g_strdup_printf ("[daemon]\ndefault-trust=%s\n", ca);
  g_autofree char *socket = NULL;
  g_autofree char *services = NULL;
  g_autofree char *policy = NULL;
  TbBusOptions options = { 0 };

  bus.dir = g_dir_make_tmp ("sspid-activation-XXXXXX", &error);
  ck_assert_msg (bus.dir != NULL, "%s", error ? error->message : "");
  /* The activation file needs the address before the bus runs: the socket
   * the bus's config listens on. */
  socket = g_build_filename (bus.dir, TB_BUS_SOCKET_FILE, NULL);
  sspid_conf = g_build_filename (bus.dir, "sspid.conf", NULL);
  write_file (bus.dir, "sspid.conf", conf_text);
  /* dbus-daemon splits Exec= like a shell: the tree may sit under a path
   * with spaces. */
  quoted_binary = g_shell_quote (binary);
  quoted_conf = g_shell_quote (sspid_conf);
  exec = g_strdup_printf ("%s --address unix:path=%s --config %s", quoted_binary, socket,
                          quoted_conf);
  write_activation_file (exec);

  policy = tu_write_bus_policy (bus.dir);
  ck_assert_msg (policy != NULL, "the project's bus policy is missing");
  services = g_build_filename (bus.dir, "services", NULL);
  options.policy_path = policy;
  options.servicedir = services;
  started = tb_bus_start (bus.dir, &options, WAIT_MS, &error);
  ck_assert_msg (started != NULL, "%s", error ? error->message : "");
  bus.bus_pid = started->pid;
  bus.address = g_steal_pointer (&started->address);
  g_setenv (SSPID_BUS_ADDRESS_ENV, bus.address, TRUE);
}

/* What the bus and the daemon it activated printed, for failure messages.
 * Caller frees. */
static char *
bus_log (void)
{
  g_autofree char *path = g_build_filename (bus.dir, TB_BUS_LOG_FILE, NULL);
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return g_strdup ("(no bus log)");
  return contents;
}

static GDBusConnection *
connect_bus (void)
{
  g_autoptr (GError) error = NULL;
  GDBusConnection *c = tb_connect (bus.address, &error);

  ck_assert_msg (c != NULL, "%s", error ? error->message : "");
  return c;
}

/* The pid owning org.sspid1, 0 if none. */
static guint32
owner_pid (GDBusConnection *c)
{
  g_autoptr (GError) error = NULL;
  guint32 pid;

  ck_assert_msg (tb_peek_name_owner_pid (c, SSPID_BUS_NAME, &pid, &error), "%s",
                 error ? error->message : "");
  return pid;
}

static gboolean
is_activatable (GDBusConnection *c)
{
  g_autoptr (GVariant) reply = NULL;
  g_autofree const char **names = NULL;
  gboolean found = FALSE;

  reply = g_dbus_connection_call_sync (c, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "ListActivatableNames", NULL,
                                       G_VARIANT_TYPE ("(as)"), G_DBUS_CALL_FLAGS_NONE, 5000,
                                       NULL, NULL);
  ck_assert (reply != NULL);
  g_variant_get (reply, "(^a&s)", &names);
  for (gsize i = 0; names[i] != NULL; i++)
    found = found || g_str_equal (names[i], SSPID_BUS_NAME);
  return found;
}

static void
stop_all (void)
{
  g_autoptr (GDBusConnection) c = connect_bus ();
  guint32 pid = owner_pid (c);
  int status;

  /* The daemon is the bus's child, not ours: stop it by its pid, then the bus. */
  if (pid != 0)
    kill ((pid_t) pid, SIGTERM);
  for (int i = 0; i < 500 && pid != 0 && kill ((pid_t) pid, 0) == 0; i++)
    g_usleep (10000);
  g_dbus_connection_close_sync (c, NULL, NULL);
  tb_stop_process (bus.bus_pid, SIGTERM, WAIT_MS, &status);
  g_spawn_close_pid (bus.bus_pid);
  if (g_getenv ("SSPID_TEST_KEEP") == NULL)
    tb_remove_tree (bus.dir);
  g_clear_pointer (&bus.dir, g_free);
  g_clear_pointer (&bus.address, g_free);
}

/* ---- one async acquisition, waited for --------------------------------- */

static void
on_notify (SspiAsyncContext *ac, void *data)
{
  tu_flag_raise (data);
}

/* Acquires an anonymous client credential; returns the call's result, and
 * how long it took in *ms. */
static SECURITY_STATUS
acquire_anonymous (CredHandle *cred, gint64 *ms)
{
  TuFlag done = { 0 };
  SCHANNEL_CRED sc = { 0 };
  TimeStamp expiry;
  SspiAsyncContext *ac = SspiCreateAsyncContext ();
  gint64 start = g_get_monotonic_time ();
  SECURITY_STATUS status;

  ck_assert (ac != NULL);
  ck_assert_int_eq (SspiSetAsyncNotifyCallback (ac, on_notify, &done), SEC_E_OK);
  sc.dwVersion = SCHANNEL_CRED_VERSION;
  sc.dwFlags = SCH_CRED_NO_DEFAULT_CREDS;
  SecInvalidateHandle (cred);
  status = SspiAcquireCredentialsHandleAsyncA (ac, NULL, (LPSTR) UNISP_NAME_A,
                                               SECPKG_CRED_OUTBOUND, NULL, &sc, NULL, NULL,
                                               cred, &expiry);
  if (status == SEC_E_OK)
    {
      ck_assert_msg (tu_flag_wait (&done, WAIT_MS), "no completion after %d ms", WAIT_MS);
      status = SspiGetAsyncCallStatus (ac);
    }
  *ms = (g_get_monotonic_time () - start) / 1000;
  SspiFreeAsyncContext (ac);
  return status;
}

/* ---- tests ------------------------------------------------------------- */

START_TEST (test_activation_starts_daemon)
{
  g_autoptr (GDBusConnection) c = NULL;
  g_autofree char *cmdline_path = NULL;
  g_autofree char *cmdline = NULL;
  CredHandle cred;
  SECURITY_STATUS status;
  gint64 ms;
  guint32 pid;

  start_bus (SSPID_BINARY_PATH);
  c = connect_bus ();
  ck_assert_msg (is_activatable (c), "the bus does not list %s as activatable", SSPID_BUS_NAME);
  ck_assert_msg (owner_pid (c) == 0, "sspid already runs");

  /* The call that reaches the name starts the daemon, and succeeds. */
  status = acquire_anonymous (&cred, &ms);
  if (status != SEC_E_OK)
    {
      g_autofree char *log = bus_log ();
      ck_abort_msg ("the first call returned 0x%08x; the bus log:\n%s", (unsigned) status, tu_tail (log));
    }
  ck_assert (SecIsValidHandle (&cred));
  pid = owner_pid (c);
  ck_assert_msg (pid != 0, "nobody owns %s after the call", SSPID_BUS_NAME);
  cmdline_path = g_strdup_printf ("/proc/%u/cmdline", pid);
  ck_assert (g_file_get_contents (cmdline_path, &cmdline, NULL, NULL));
  ck_assert_str_eq (cmdline, SSPID_BINARY_PATH);   /* argv[0]: the activated binary */

  /* And keeps serving: a second call reaches the same daemon. */
  {
    CredHandle again;
    ck_assert_int_eq (acquire_anonymous (&again, &ms), SEC_E_OK);
    ck_assert_uint_eq (owner_pid (c), pid);
    ck_assert_int_eq (FreeCredentialsHandle (&again), SEC_E_OK);
  }
  ck_assert_int_eq (FreeCredentialsHandle (&cred), SEC_E_OK);
  g_dbus_connection_close_sync (c, NULL, NULL);
  stop_all ();
}
END_TEST

START_TEST (test_activation_failure_is_prompt)
{
  /* A service that cannot start: the call fails with the "no daemon"
   * status as soon as the bus gives up, not after the library's timeout. */
  CredHandle cred;
  gint64 ms;

  start_bus ("/nonexistent/sspid");
  ck_assert_int_eq (acquire_anonymous (&cred, &ms), SEC_E_NO_AUTHENTICATING_AUTHORITY);
  ck_assert_msg (ms < 10000, "the failure took %" G_GINT64_FORMAT " ms", ms);
  stop_all ();
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "activation", NULL, NULL, 90, { { test_activation_starts_daemon },
                                      { test_activation_failure_is_prompt } } },
  };

  return tu_run_cases ("activation", cases, G_N_ELEMENTS (cases));
}
