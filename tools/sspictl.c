/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sspictl: a diagnostic command line for sspid.  It uses only libsspi's
 * public API, so every verb is also a small, real user of the library.
 *
 * This file is the entry point: the verb table, global usage and dispatch
 * (in the manner of realmd's tools/realm.c).  Each verb lives in its own
 * file and parses its own options, so `sspictl VERB --help` is the verb's.
 */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "sspictl.h"

typedef struct {
  const char *name;
  int (*run) (int argc, char **argv);
  const char *usage;
  const char *summary;
} Verb;

static const Verb verbs[] = {
  { "status", sspictl_status, "status [--json]",
    "Show the running daemon: versions, uptime, clients, contexts, load" },
  { "credentials", sspictl_credentials, "credentials [--json]",
    "List the credentials you may acquire: usage, subject, issuer, validity" },
  { "contexts", sspictl_contexts, "contexts [--json]",
    "List your TLS sessions in sspid (everyone's for root)" },
  { "check-config", sspictl_check_config,
    "check-config [FILE] [--daemon-user USER] [--sspid PATH] [--json]",
    "Check a configuration with sspid --check-config: syntax, files, permissions, keys" },
  { "audit", sspictl_audit, "audit [--since WHEN] [--credential NAME] [--log FILE] [--json]",
    "Show the audit trail: who used which credential, when, with whom" },
  { "top", sspictl_top, "top [--interval SECONDS] [--count N] [--once [--json]]",
    "Show handshakes/s, contexts and pending calls per user and credential, live" },
  { "connect", sspictl_connect,
    "connect HOST:PORT [--credential NAME] [--alpn ID]... [--target NAME]\n"
    "                  [--tls1.2|--tls1.3|--dtls [--mtu BYTES]] [--get PATH | --stdin] [--json]",
    "Run a TLS or DTLS client through sspid: handshake, optional data, report" },
  { "serve", sspictl_serve,
    "serve PORT --credential NAME [--alpn ID]... [--require-client-cert]\n"
    "                  [--tls1.2|--tls1.3|--dtls [--mtu BYTES]] [--echo | --http]\n"
    "                  [--count N | --once] [--json]",
    "Accept TLS or DTLS connections through sspid: handshake, data, report" },
};

static void
print_usage (FILE *out)
{
  fprintf (out, "Usage: sspictl [--help|--version] VERB [OPTIONS...]\n\n"
                "Inspect and use sspid, the daemon that holds TLS keys and sessions for\n"
                "programs using the SSPI (Schannel) API of libsspi.\n\n"
                "Verbs:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (verbs); i++)
    fprintf (out, "  %-13s %s\n", verbs[i].name, verbs[i].summary);
  fprintf (out, "\nSynopsis:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (verbs); i++)
    fprintf (out, "  sspictl %s\n", verbs[i].usage);
  fprintf (out, "\nEvery verb takes --json (one JSON document on stdout) and --help.\n"
                "Run 'sspictl VERB --help' for a verb's options, 'man sspictl' for more.\n\n"
                "Getting started: 'sspictl check-config' after editing " SYSCONFDIR "/sspid/sspid.conf,\n"
                "'sudo systemctl reload sspid' to apply it, 'sspictl status' and\n"
                "'sspictl credentials' to see what the daemon serves.\n\n"
                SSPICTL_HELP_BUS "\n" SSPICTL_HELP_EXIT_CODES "\n");
}

static const Verb *
find_verb (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (verbs); i++)
    if (g_str_equal (verbs[i].name, name))
      return &verbs[i];
  return NULL;
}

int
main (int argc, char **argv)
{
  const Verb *verb;

  setlocale (LC_ALL, "");
  g_set_prgname ("sspictl");

  if (argc < 2)
    {
      print_usage (stderr);
      return SSPICTL_EXIT_USAGE;
    }
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") ||
      g_str_equal (argv[1], "help"))
    {
      /* `sspictl help VERB` is `sspictl VERB --help`. */
      if (argc > 2 && (verb = find_verb (argv[2])) != NULL)
        {
          g_autofree char *prgname = g_strconcat ("sspictl ", verb->name, NULL);
          char *help_argv[] = { argv[2], (char *) "--help", NULL };

          g_set_prgname (prgname);
          return verb->run (2, help_argv);
        }
      print_usage (stdout);
      return SSPICTL_EXIT_OK;
    }
  if (g_str_equal (argv[1], "--version"))
    {
      printf ("sspictl %s\n", PACKAGE_VERSION);
      return SSPICTL_EXIT_OK;
    }

  verb = find_verb (argv[1]);
  if (verb == NULL)
    {
      fprintf (stderr, "sspictl: unknown verb '%s'\n\n", argv[1]);
      print_usage (stderr);
      return SSPICTL_EXIT_USAGE;
    }
  /* The verb sees itself as argv[0], as if it were its own program, and its
   * --help says "sspictl VERB". */
  {
    g_autofree char *prgname = g_strconcat ("sspictl ", verb->name, NULL);
    g_set_prgname (prgname);
  }
  return verb->run (argc - 1, argv + 1);
}
