/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The other processes of tests/test-security.c, both ends.
 *
 * Child side: the same binary started again as `test-security --child
 * MODE ARGS...` (child-process.h: so it can run as another uid, be killed
 * with SIGKILL, or have its memory read).  Each mode talks raw D-Bus to
 * sspid and reports on stdout, one "key value" line per fact.
 *
 * Modes:
 *   nobody ADDR CRED CTX  probes as another uid: acquires, handles of the
 *                         parent's connection (CRED, CTX), owning the name
 *   hold ADDR N           opens N contexts mid-handshake, says "ready",
 *                         then waits to be killed
 *   flood ADDR SECONDS BURST  bursts of server first steps, each burst
 *                         sent without waiting, then "flood continue=N
 *                         limit=N other=N bursts=N"
 *   secrets ADDR PORT MARKER  TLS sessions through the daemon over TCP: as
 *                         a client of the peer on PORT (twice: the second
 *                         one resumes), then as a server on a port it
 *                         prints ("listening PORT"; it says "s3 open" and
 *                         waits for a line before closing that one), then
 *                         once more as a TLS 1.2 client that keeps no
 *                         session, then as a server again (s5, "s5 open"
 *                         too); each context is deleted after its
 *                         close_notify, then it says "sN deleted" and
 *                         waits for a line.  Before all that it opens one
 *                         context whose target name is MARKER; it keeps
 *                         it, and the plaintexts it received, until stdin
 *                         closes
 */
#pragma once

#include <check.h>
#include <glib.h>

#include "child-process.h"

/* Both sides: the "name"s of @entries (the aa{sv} of a ListCredentials
 * answer), comma-separated, "" for none, so that what a child reports and
 * what the parent expects are written alike.  g_free() it. */
char *security_join_names (GVariant *entries);

/* Child side: runs the mode named by argv[2]; returns the exit status. */
int security_client_main (int argc, char **argv);

/* The secrets test (tests/security-secrets.c), with its own fixture. */
TCase *security_secrets_tcase (void);
