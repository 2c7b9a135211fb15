/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The other processes of tests/test-security.c, both ends.
 *
 * Child side: the same binary started again as `test-security --child
 * MODE ARGS...` (so it can run as another uid, be killed with SIGKILL, or
 * have its memory read).  Each mode talks raw D-Bus to sspid and reports
 * on stdout, one "key value" line per fact; it never asserts (that is the
 * parent's job) and exits non-zero with a message on stderr when something
 * it needs fails.
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

/* Both sides: the "name"s of @entries (the aa{sv} of a ListCredentials
 * answer), comma-separated, "" for none, so that what a child reports and
 * what the parent expects are written alike.  g_free() it. */
char *security_join_names (GVariant *entries);

/* Child side: runs the mode named by argv[2]; returns the exit status. */
int security_client_main (int argc, char **argv);

/* Parent side (these fail the running check test on error). */
typedef struct {
  GPid     pid;
  int      in_fd;     /* its stdin; closing it ends the modes that wait */
  int      out_fd;
  GString *buffer;    /* read, not yet returned */
  GString *seen;      /* every line, for failure messages */
  char    *stage;     /* the staged copy it runs from (as nobody), or NULL */
} Child;

/* A copy of this test binary and of every shared library it maps that
 * another user could not reach (the build tree's libsspi when the tree
 * sits under a 0700 directory), in a fresh 0755 directory under the temp
 * dir, for a child that runs as nobody.  NULL with @why set (g_free() it)
 * when that cannot be done: the temp dir is not reachable by others or is
 * mounted noexec.  Remove it with child_unstage(). */
char *child_stage (char **why);
/* Removes what child_stage() made; NULL is accepted. */
void child_unstage (const char *stage);

/* Starts `SELF --child ARGS...`, stdin and stdout piped, stderr shared
 * with ours.  With @stage (from child_stage(), which the Child then owns)
 * it runs the staged copy as nobody through setpriv, from that directory,
 * with the staged libraries first on LD_LIBRARY_PATH. */
Child *child_start (char *stage, const char *const *args);
/* Once the child has said something, its binary and libraries are mapped:
 * the staged copy can go (also done by child_free). */
void child_drop_stage (Child *c);
/* Whether a whole line is ready to read, without waiting. */
gboolean child_has_line (Child *c);
/* The rest of the next line that starts with @prefix (earlier lines are
 * skipped); fails if the child ends or stays silent.  g_free() it. */
char *child_expect (Child *c, const char *prefix);
/* Reaps it (SIGKILL after a timeout); returns the wait status. */
int child_wait (Child *c);
void child_free (Child *c);
/* Closes its stdin, expects a clean exit, frees. */
void child_finish (Child *c);

/* The secrets test (tests/security-secrets.c), with its own fixture. */
TCase *security_secrets_tcase (void);
