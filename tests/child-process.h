/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A test's other processes: the test binary started again as `SELF --child
 * MODE ARGS...`, so that a client can run as another uid (through setpriv),
 * be killed with SIGKILL or have its memory read.  Used by test-security
 * (security-client.c) and test-neighbour (neighbour-client.c).
 *
 * Child side (cr_*): plain GDBus, no libsspi and no check.  A mode reports
 * on stdout, one "key value" line per fact; it never asserts (that is the
 * parent's job) and exits non-zero with a message on stderr when something
 * it needs fails.  Don't include dbus-raw.h next to it: that is the
 * parent's side, which asserts.
 *
 * Parent side (child_*): start a child, read what it says; these fail the
 * running check test on error.
 */
#pragma once

#include <check.h>
#include <gio/gio.h>
#include <glib.h>

/* --- child side ---------------------------------------------------------- */

/* How long a child's synchronous call may take. */
#define CR_TIMEOUT_MS 20000

G_NORETURN G_GNUC_PRINTF (1, 2) void cr_die (const char *format, ...);
/* One line on stdout, flushed. */
G_GNUC_PRINTF (1, 2) void cr_report (const char *format, ...);
guint64 cr_parse_u64 (const char *text);
/* Returns once stdin is closed: how the parent tells a child to end. */
void cr_wait_stdin_closed (void);

/* A bus connection of our own to @address; dies if there is none.
 * Caller must release it with g_object_unref(). */
GDBusConnection *cr_open_bus (const char *address);
/* A call that may fail with a D-Bus error, whose name is then returned in
 * @error_name (g_free() it).  Returns the reply or NULL. */
GVariant *cr_try_call (GDBusConnection *conn, const char *dest, const char *path,
                       const char *iface, const char *method, GVariant *params,
                       char **error_name);
/* A call on the sspid object that must get a reply; dies otherwise. */
GVariant *cr_call (GDBusConnection *conn, const char *method, GVariant *params);
/* Sent with NO_REPLY_EXPECTED: answered by a Completed signal (the async
 * methods) or not at all. */
void cr_send_no_reply (GDBusConnection *conn, const char *method, GVariant *params);

/* The first child of @reply, a "u" (every step result starts with one). */
guint32 cr_status_of (GVariant *reply);
/* A floating "ay" of @data, copied. */
GVariant *cr_bytes (const guint8 *data, gsize len);

/* Floating parameters of the methods, with @call_id 1, 2 and 3. */
GVariant *cr_acquire_params (const char *principal, guint32 use);
GVariant *cr_isc_params (guint64 cred, guint64 ctx, const char *target, const guint8 *in,
                         gsize len);
GVariant *cr_asc_params (guint64 cred, guint64 ctx, const guint8 *in, gsize len);
/* A credential handle; dies if the acquire fails. */
guint64 cr_acquire_ok (GDBusConnection *conn, const char *principal, guint32 use);
/* A ClientHello (the token of the first step's result, an "ay") from a new
 * client context of @cred; dies unless that step asks to continue. */
GVariant *cr_client_hello (GDBusConnection *conn, guint64 cred);

/* --- parent side --------------------------------------------------------- */

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
