/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The session's peer-to-peer connection to the daemon.  Over the bus,
 * every call and every Completed signal crosses dbus-daemon: two more
 * socket hops each way, through a process every caller on the machine
 * shares.  So once the bus has carried Hello, the session asks the daemon
 * over it for a connection of its own (OpenConnection, see
 * proto/org.sspid1.xml): a socket the daemon serves as a D-Bus server.
 * The bus identified us when it carried that call, and the daemon binds
 * the connection to that identity, so the SASL exchange on it is a
 * formality (ANONYMOUS).  Every later call of the session, and its
 * Completed signal, goes over it; the bus connection stays open to watch
 * the daemon's name.  Where there is none to be had, the session simply
 * stays on the bus.
 */
#include "config.h"

#include "sspi-peer.h"
#include "sspid-proto.h"

/* OpenConnection is one round trip to a daemon that already answered
 * Hello; the SASL exchange on the new socket is a few more. */
#define OPEN_TIMEOUT_MS 25000
#define AUTH_TIMEOUT_MS 5000

SspiTransport *
sspi_peer_open (SspiTransport *bus, const char *daemon_name,
                SspiTransportMessageFunc on_message, SspiTransportClosedFunc on_closed,
                gpointer user_data)
{
  g_autoptr(GDBusMessage) call = NULL;
  g_autoptr(GError) error = NULL;
  SspiTransport *peer;
  int fd;

  /* For tests and comparisons: everything over the bus, as before. */
  if (g_strcmp0 (g_getenv (SSPI_NO_PEER_ENV), "1") == 0)
    return NULL;
  if (!sspi_transport_has_unix_fds (bus))
    {
      g_debug ("no peer connection: the bus does not pass file descriptors");
      return NULL;
    }
  call = g_dbus_message_new_method_call (daemon_name, SSPID_OBJECT_PATH, SSPID_INTERFACE,
                                         SSPID_METHOD_OPEN_CONNECTION);
  g_dbus_message_set_flags (call, G_DBUS_MESSAGE_FLAGS_NO_AUTO_START);
  fd = sspi_transport_call_for_fd (bus, call, OPEN_TIMEOUT_MS, &error);
  if (fd < 0)
    {
      g_debug ("no peer connection: %s", error->message);
      return NULL;
    }
  peer = sspi_transport_new_for_peer (fd, AUTH_TIMEOUT_MS, on_message, on_closed, user_data,
                                      &error);
  if (peer == NULL)
    g_debug ("no peer connection: %s", error->message);
  return peer;
}
