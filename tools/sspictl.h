/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every sspictl verb shares: the exit codes (documented in
 * sspictl(1) and `sspictl --help`, so scripts can rely on them) and the
 * verbs' entry points, one file each.
 */
#pragma once

#include <glib.h>

/* Exit codes of every verb. */
enum {
  SSPICTL_EXIT_OK          = 0,  /* done; check-config: no errors (warnings allowed) */
  SSPICTL_EXIT_USAGE       = 1,  /* bad options or arguments */
  SSPICTL_EXIT_FAILED      = 2,  /* the operation failed: handshake, refused call, ... */
  SSPICTL_EXIT_UNREACHABLE = 3,  /* cannot reach sspid (or, for connect/serve, the peer) */
  SSPICTL_EXIT_CONFIG      = 4,  /* check-config found errors */
};

/* The names connect and serve were written with. */
#define SSPICTL_EXIT_HANDSHAKE SSPICTL_EXIT_FAILED
#define SSPICTL_EXIT_NETWORK   SSPICTL_EXIT_UNREACHABLE

/* The verbs: each parses its own options (argv[0] is the verb's name) and
 * returns an SSPICTL_EXIT_* code. */
int sspictl_connect (int argc, char **argv);
int sspictl_serve (int argc, char **argv);
int sspictl_status (int argc, char **argv);
int sspictl_credentials (int argc, char **argv);
int sspictl_contexts (int argc, char **argv);
int sspictl_check_config (int argc, char **argv);
int sspictl_audit (int argc, char **argv);
int sspictl_top (int argc, char **argv);

/* GetStatus's reply "(a{sv})", or NULL with the reason printed and
 * *@exit_code set; *@bus_label says which bus (sspictl-daemon.c). */
GVariant *sspictl_get_status (const char **bus_label, int *exit_code);

/* The text every verb's --help ends with. */
#define SSPICTL_HELP_EXIT_CODES \
  "Exit status: 0 ok, 1 usage error, 2 operation failed, 3 cannot reach sspid\n" \
  "(connect/serve: or the network peer), 4 configuration errors (check-config)."
#define SSPICTL_HELP_BUS \
  "sspid is reached on the system bus, or on the bus at $SSPID_BUS_ADDRESS if set."
