/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `sspictl check-config [FILE]`: asks the daemon's own judgement of a
 * configuration by running `sspid --check-config` (daemon/sspid-check.c),
 * as one runs `sshd -t`, and relays what it prints.  sspictl links no part
 * of the daemon, so the two cannot disagree on what is valid.
 *
 * Which sspid: --sspid PATH, else $SSPICTL_SSPID, else the one installed
 * with this sspictl (configure's sbindir).  Its exit status becomes
 * sspictl's: 0 no errors, 4 errors (sspictl's code for them), 1 usage.
 */
#include "config.h"

#include <stdio.h>
#include <sys/wait.h>

#include "sspictl.h"

/* The variable that names the sspid to run (tests point it at the tree). */
#define SSPID_PROGRAM_ENV "SSPICTL_SSPID"

/* sspid --check-config's exit statuses (sspid(8)). */
enum {
  SSPID_CHECK_EXIT_OK     = 0,
  SSPID_CHECK_EXIT_ERRORS = 1,
  SSPID_CHECK_EXIT_USAGE  = 2,
};

static const char *
sspid_program (const char *option)
{
  const char *env = g_getenv (SSPID_PROGRAM_ENV);

  if (option != NULL)
    return option;
  if (env != NULL && env[0] != '\0')
    return env;
  return SSPID_SBINDIR "/sspid";
}

/* sspictl's exit code for what sspid --check-config answered. */
static int
exit_code_of (const char *program, int wait_status)
{
  if (!WIFEXITED (wait_status))
    {
      g_printerr ("sspictl check-config: %s did not finish (wait status %d)\n", program,
                  wait_status);
      return SSPICTL_EXIT_FAILED;
    }
  switch (WEXITSTATUS (wait_status))
    {
    case SSPID_CHECK_EXIT_OK:     return SSPICTL_EXIT_OK;
    case SSPID_CHECK_EXIT_ERRORS: return SSPICTL_EXIT_CONFIG;
    case SSPID_CHECK_EXIT_USAGE:  return SSPICTL_EXIT_USAGE;
    default:
      g_printerr ("sspictl check-config: %s exited with status %d\n", program,
                  WEXITSTATUS (wait_status));
      return SSPICTL_EXIT_FAILED;
    }
}

int
sspictl_check_config (int argc, char **argv)
{
  gboolean json = FALSE;
  g_autofree char *daemon_user = NULL;
  g_autofree char *sspid = NULL;
  const GOptionEntry entries[] = {
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print one JSON document instead of text", NULL },
    { "daemon-user", 'u', 0, G_OPTION_ARG_STRING, &daemon_user,
      "Check key ownership against USER (default: " SSPID_DAEMON_USER ")", "USER" },
    { "sspid", 0, 0, G_OPTION_ARG_FILENAME, &sspid,
      "Run this sspid (default: $" SSPID_PROGRAM_ENV ", else " SSPID_SBINDIR "/sspid)", "PATH" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("[FILE]");
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  const char *program;
  int wait_status = 0;

  g_option_context_set_summary (context,
      "Check an sspid configuration without starting the daemon: runs\n"
      "'sspid --check-config', the daemon's own loader and credential store.\n"
      "FILE defaults to " SYSCONFDIR "/sspid/sspid.conf; its drop-ins (FILE.d/*.conf)\n"
      "are read too, as sspid reads them.");
  g_option_context_set_description (context,
      "Checks: syntax and every value (with sspid's own parser), users and groups\n"
      "exist, certificate and key files exist, key permissions (mode 600, owned by\n"
      "the daemon's user: sspid refuses other keys), key matches certificate,\n"
      "certificates not expired (error) nor expiring within 30 days (warning),\n"
      "trust bundles load, and someone may use each credential.  Every message\n"
      "names the file, line and credential at fault.  Run it as root, or as the\n"
      "daemon's user, so the keys can be read.\n\n"
      "Exit status: 0 no errors (warnings allowed), 1 usage error, 2 sspid failed,\n"
      "3 sspid cannot be run, 4 errors found.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("sspictl check-config: %s\n", error->message);
      return SSPICTL_EXIT_USAGE;
    }
  if (argc > 2)
    {
      g_printerr ("sspictl check-config: expected at most one FILE\n");
      return SSPICTL_EXIT_USAGE;
    }

  program = sspid_program (sspid);
  g_ptr_array_add (args, (char *) program);
  g_ptr_array_add (args, (char *) "--check-config");
  if (json)
    g_ptr_array_add (args, (char *) "--json");
  if (daemon_user != NULL)
    {
      g_ptr_array_add (args, (char *) "--daemon-user");
      g_ptr_array_add (args, daemon_user);
    }
  if (argc == 2)
    {
      /* A FILE that starts with '-' is still a file. */
      g_ptr_array_add (args, (char *) "--");
      g_ptr_array_add (args, argv[1]);
    }
  g_ptr_array_add (args, NULL);

  /* stdout and stderr are sspid's own: its report is relayed as it is. */
  fflush (stdout);
  if (!g_spawn_sync (NULL, (char **) args->pdata, NULL, G_SPAWN_CHILD_INHERITS_STDIN, NULL,
                     NULL, NULL, NULL, &wait_status, &error))
    {
      g_printerr ("sspictl check-config: cannot run %s: %s (give another with --sspid)\n",
                  program, error->message);
      return SSPICTL_EXIT_UNREACHABLE;
    }
  return exit_code_of (program, wait_status);
}
