/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Peer-to-peer connections: a caller's private D-Bus connection to the
 * daemon, without dbus-daemon, handed out by the OpenConnection bus
 * method (proto/org.sspid1.xml).  The bus stays the front door: it
 * authenticated the caller and carried OpenConnection; the connection is
 * bound to that caller's identity when it is handed out, and is a
 * connection of its own for handles (sspid_caller_new_peer()).
 *
 * The set serves org.sspid1.Sspi on each connection and hands every method
 * call to the function the front gave it, with the connection's caller:
 * it never calls the front by name.  Main thread only.
 */
#pragma once

#include <gio/gio.h>

#include "sspid-caller.h"

/* At most this many peer connections per bus connection (libsspi opens
 * one per session), per user (each holds a descriptor of the daemon's),
 * and of one user's still authenticating (each holds one of GLib's
 * threads until it is done or SSPID_PEER_HANDSHAKE_SEC have passed). */
#define SSPID_PEER_MAX_PER_CONNECTION 1
#define SSPID_PEER_MAX_PER_USER 256
#define SSPID_PEER_MAX_HANDSHAKES_PER_USER 4
#define SSPID_PEER_HANDSHAKE_SEC 5

typedef struct _SspidPeers SspidPeers;

/* Runs a method call that came over a peer connection, whose caller is
 * @caller (identified; possibly gone since).  Owns @invocation: must
 * answer it. */
typedef void (*SspidPeerCallFunc) (SspidCaller           *caller,
                                   GDBusMethodInvocation *invocation,
                                   gpointer               user_data);

/* Peer connections serving @interface_info at SSPID_OBJECT_PATH, whose
 * method calls go to @call.  Free with sspid_peers_free() once every
 * connection closed (they close with their openers). */
SspidPeers *sspid_peers_new (GDBusInterfaceInfo *interface_info,
                             SspidPeerCallFunc   call,
                             gpointer            call_data);
void sspid_peers_free (SspidPeers *set);

/* NULL if @opener (a bus caller, identified, not gone) may have one more
 * peer connection, else the limit it hit ("peer connections per
 * user=256") for a log line; free with g_free(). */
char *sspid_peers_check_limits (SspidPeers *set, SspidCaller *opener);

/* A new peer connection for @opener (past sspid_peers_check_limits()),
 * closed with its bus connection: returns the caller's end, a file
 * descriptor for the method reply, or -1 and @error.  G_IO_ERROR_NOT_SUPPORTED
 * where the kernel cannot refuse descriptors sent to the daemon's end
 * (SO_PASSRIGHTS): GDBus would close what a caller sent along on a thread
 * the daemon cannot spare (a close can block), so none is handed out. */
int sspid_peers_open (SspidPeers *set, SspidCaller *opener, GError **error);

/* Peer connections open, and method calls received over them since the
 * start (GetStatus). */
guint sspid_peers_get_n_open (SspidPeers *set);
guint64 sspid_peers_get_n_calls (SspidPeers *set);
