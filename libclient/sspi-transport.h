/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A minimal D-Bus client connection owned entirely by libsspi: a socket,
 * the SASL handshake, and one reader thread; to a bus, or to a peer (the
 * daemon's peer-to-peer connection).
 *
 * Why not GDBusConnection: every GDBusConnection in a process shares one
 * hidden GLib worker thread, which does not exist in a fork()ed child, so a
 * child can never connect again; and every incoming message takes a hop
 * from that worker to a main context before our code sees it.  Here the
 * reader thread is ours: it parses each message (GDBusMessage's pure
 * (de)serialisation) and hands it straight to the caller's function.  After
 * fork() the child simply opens a new transport.
 *
 * Unix fds: negotiated during authentication; an fd arrives with the
 * message that declares it (recvmsg, SCM_RIGHTS, close-on-exec), and any
 * fd beyond what a message declares is closed at once.
 *
 * Thread-safety: send and call_sync may be used from any thread, including
 * the reader thread itself from inside the message function (a sync call
 * made there reads the socket inline and defers other messages).
 */
#pragma once

#include <gio/gio.h>

typedef struct _SspiTransport SspiTransport;

/* Runs on the reader thread for every message that is not a reply to a
 * call_sync: signals, and replies nobody waits for. */
typedef void (*SspiTransportMessageFunc) (SspiTransport *t, GDBusMessage *message,
                                          gpointer user_data);
/* Runs once on the reader thread when the connection is gone. */
typedef void (*SspiTransportClosedFunc) (SspiTransport *t, gpointer user_data);

/* Connects to the bus at @address (unix:path=, unix:abstract=, or anything
 * GIO's D-Bus address parser accepts), authenticates, says Hello and starts
 * the reader thread.  The functions are not called before this returns.
 * Free with sspi_transport_unref() after sspi_transport_close(). */
SspiTransport *sspi_transport_connect (const char *address,
                                       SspiTransportMessageFunc on_message,
                                       SspiTransportClosedFunc on_closed,
                                       gpointer user_data,
                                       GError **error);

/* A peer-to-peer connection on @fd (taken, closed on failure too), a
 * socket whose other end is a D-Bus server: authenticates (ANONYMOUS,
 * waiting at most @auth_timeout_ms for the server) and starts the reader
 * thread.  No bus: messages need no destination, signals come without a
 * sender, and the unique name is NULL.  Free as above. */
SspiTransport *sspi_transport_new_for_peer (int fd, guint auth_timeout_ms,
                                            SspiTransportMessageFunc on_message,
                                            SspiTransportClosedFunc on_closed,
                                            gpointer user_data,
                                            GError **error);

SspiTransport *sspi_transport_ref (SspiTransport *t);
void sspi_transport_unref (SspiTransport *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SspiTransport, sspi_transport_unref)

/* Our unique name on the bus (borrowed; NULL on a peer connection). */
const char *sspi_transport_get_unique_name (SspiTransport *t);
gboolean sspi_transport_is_closed (SspiTransport *t);
/* Whether the bus agreed to pass unix fds (NEGOTIATE_UNIX_FD): replies
 * then carry theirs as a GUnixFDList (g_dbus_message_get_unix_fd_list);
 * fds a message does not declare are closed. */
gboolean sspi_transport_has_unix_fds (SspiTransport *t);

/* Sends @message (its serial is assigned here).  FALSE if the connection
 * is closed or the write failed. */
gboolean sspi_transport_send (SspiTransport *t, GDBusMessage *message,
                              GError **error);

/* Sends a method call and waits up to @timeout_ms for its reply.  Returns
 * the reply (an error reply is turned into @error), or NULL. */
GDBusMessage *sspi_transport_call_sync (SspiTransport *t, GDBusMessage *message,
                                        gint timeout_ms, GError **error);

/* Calls a method whose reply is one unix fd, "(h)": returns it
 * (close-on-exec; the caller owns it), or -1 and @error. */
int sspi_transport_call_for_fd (SspiTransport *t, GDBusMessage *message,
                                gint timeout_ms, GError **error);

/* Shuts the socket down: the reader thread sees the end, fails every
 * waiting call, runs on_closed, and exits.  Safe to call more than once and
 * from the reader thread. */
void sspi_transport_close (SspiTransport *t);

/* In a fork()ed child: forget @t without touching its thread or locks (they
 * belong to the parent), closing only the child's copy of the socket so the
 * parent's stream is never written to.  @t's memory is deliberately leaked. */
void sspi_transport_abandon_after_fork (SspiTransport *t);
