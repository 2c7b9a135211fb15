/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * User A of tests/test-neighbour.c: the hostile neighbour, started as
 * `test-neighbour --child MODE ADDR SECONDS ARGS...` as nobody
 * (child-process.h).  Each mode sets up, says "ready ...", floods sspid for
 * SECONDS (every count bounded as well), says "done ...", and then holds
 * what it made (contexts, credentials, connections) until its stdin
 * closes.  A flood of asynchronous calls stops sending at SECONDS and
 * says "done" once every call it sent is answered.  Counts of answers come as "statuses=S:N,S:N..." where S is the
 * SECURITY_STATUS in hex or a D-Bus error name.
 *
 * Modes:
 *   introspection ADDR SECONDS CONTEXTS OUTSTANDING CONNS
 *       opens CONTEXTS client contexts mid-handshake over CONNS connections,
 *       then keeps OUTSTANDING ListContexts calls and OUTSTANDING/4
 *       GetStatus calls in flight: "done list=... status=... entries_max=N"
 *   bigstrings ADDR SECONDS MAX DIVISOR
 *       keeping whatever the calls create: once InitializeSecurityContext
 *       with 100,000 ALPN ids ("alpn") and AcquireCredentialsHandle with
 *       200,000 auth_data entries ("authdata"), then for SECONDS (up to MAX
 *       rounds) AcquireCredentialsHandle with a 10 MB principal
 *       ("principal") and InitializeSecurityContext with a 10 MB target name
 *       ("target"); every size divided by DIVISOR (all still over any sane
 *       limit at 10): "done alpn=... alpn_ms=N authdata=... ..."
 *   handshakes ADDR SECONDS CONNS WINDOW
 *       AcceptSecurityContext first steps with a real ClientHello, WINDOW in
 *       flight on each of CONNS connections, each new context deleted once
 *       answered: "done steps=N statuses=..."
 *   records ADDR SECONDS SESSIONS WINDOW
 *       SESSIONS established sessions over 4 connections; half of them
 *       stream 16 KiB records (EncryptMessage on the client side,
 *       DecryptMessage of that record on the server side) over a record
 *       channel, half over the bus, WINDOW requests in flight each:
 *       "done channel=... bus=..."
 *   credentials ADDR SECONDS CONNS WINDOW
 *       AcquireCredentialsHandle then FreeCredentialsHandle, WINDOW acquires
 *       in flight on each of CONNS connections: "done acquires=N statuses=..."
 *   refusals ADDR SECONDS COUNT
 *       up to COUNT AcquireCredentialsHandle calls for names it may not
 *       use, every name containing NEIGHBOUR_REFUSAL_TAG: unknown ones,
 *       one listed for another user, ones with a newline, carriage return
 *       or escape followed by NEIGHBOUR_FORGED_TAG (a forged log line if
 *       written verbatim), and a few of 1 MiB: "done sent=N statuses=..."
 */
#pragma once

#include <gio/gio.h>
#include <glib.h>

/* In every name the refusals mode asks for. */
#define NEIGHBOUR_REFUSAL_TAG "nb-refused"
/* What follows a control character in those names: a log line that starts
 * with it was forged. */
#define NEIGHBOUR_FORGED_TAG "FORGED-BY-NEIGHBOUR"
/* The credential the fixture lists for nobody (an inbound one). */
#define NEIGHBOUR_CREDENTIAL "for-nobody"

/* Child side: runs the mode named by argv[2]; returns the exit status. */
int neighbour_client_main (int argc, char **argv);

/* --- child side, shared by neighbour-client.c and neighbour-records.c ---- */

/* A bounded flood still ends if the daemon stops answering. */
#define NEIGHBOUR_DRAIN_TIMEOUT_US (60 * G_USEC_PER_SEC)

/* How often each answer came: "0x80090300" or a D-Bus error name -> count.
 * Free with g_hash_table_unref(). */
typedef GHashTable NbTally;
NbTally *nb_tally_new (void);
void     nb_tally_add (NbTally *t, const char *key);
void     nb_tally_add_status (NbTally *t, guint32 status);
/* The D-Bus name of @error, or what GIO said. */
void     nb_tally_add_error (NbTally *t, GError *error);
guint    nb_tally_get (NbTally *t, const char *key);
/* "KEY:N,KEY:N" in key order, "-" if empty.  g_free() it. */
char    *nb_tally_format (NbTally *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NbTally, g_hash_table_unref)

/* Runs the default main context until @deadline (monotonic µs). */
void nb_iterate_until (gint64 deadline);

/* The records mode (neighbour-records.c). */
int neighbour_mode_records (const char *address, guint seconds, guint sessions, guint window);
