/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One user (uid) as the daemon accounts for it, across all its bus
 * connections: what it holds (the counts the per-user limits are checked
 * against), how many of its refusals were logged this minute, and what is
 * left of its introspection budget.  The caller registry keeps one per uid
 * that ever called, for as long as it lives, so that reconnecting resets
 * nothing.  Main thread only.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

typedef struct _SspidUser SspidUser;
struct _SspidUser {
  uid_t  uid;           /* (uid_t) -1: callers not identified yet */
  guint  contexts;
  guint  credentials;
  guint  pending;       /* calls of its identified connections */
  guint64 handshakes_done;    /* since the daemon started */
  guint64 handshakes_failed;
  /* private */
  GHashTable *refusals;           /* what -> RefusalCount * */
  gint64      introspection_due;  /* monotonic µs when what was charged is paid for */
};

SspidUser *sspid_user_new (uid_t uid);
void sspid_user_free (SspidUser *user);

/* A refusal of class @what (a string that lives as long as the process)
 * by @user: whether it may be logged, at most SSPID_REFUSALS_LOGGED a
 * minute per class; the rest are counted. */
#define SSPID_REFUSALS_LOGGED 10
gboolean sspid_user_count_refusal (SspidUser *user, const char *what);
/* Logs one line per class whose minute ended with refusals not logged
 * ("... and 56999 more refusals (credential) for uid 1002 in the last
 * minute"); @at_exit: of every class, ended or not. */
void sspid_user_tell_refusals (SspidUser *user, gboolean at_exit);

/* Introspection (GetStatus, ListCredentials, ListContexts) costs the main
 * thread per entry it reports, so each uid but root gets a budget of
 * SSPID_INTROSPECTION_RATE entries a second, with bursts of up to
 * SSPID_INTROSPECTION_BURST_SEC seconds' worth: NULL if @user may ask
 * now, else the limit for the log line (g_free() it).  A call is charged
 * once its answer is built, for 1 + the entries in it. */
#define SSPID_INTROSPECTION_RATE      2000
#define SSPID_INTROSPECTION_BURST_SEC 2
char *sspid_user_check_introspection (SspidUser *user);
void sspid_user_charge_introspection (SspidUser *user, guint entries);
