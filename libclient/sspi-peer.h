/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The session's peer-to-peer connection to the daemon (sspi-peer.c).
 */
#pragma once

#include "sspi-transport.h"

/* The environment variable that keeps libsspi on the bus ("1"). */
#define SSPI_NO_PEER_ENV "SSPI_NO_PEER"

/* Asks the daemon, over @bus (on which it said Hello as @daemon_name),
 * for a peer-to-peer connection and connects it, with @on_message,
 * @on_closed and @user_data as for sspi_transport_connect().  NULL when
 * there is none to be had ($SSPI_NO_PEER=1, a bus without fd passing, a
 * daemon or kernel that cannot give one, a limit): the caller stays on
 * the bus, and the functions will never be called.  Free with
 * sspi_transport_unref() after sspi_transport_close(). */
SspiTransport *sspi_peer_open (SspiTransport            *bus,
                               const char               *daemon_name,
                               SspiTransportMessageFunc  on_message,
                               SspiTransportClosedFunc   on_closed,
                               gpointer                  user_data);
