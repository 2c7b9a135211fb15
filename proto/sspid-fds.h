/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * File descriptors that came along a message (SCM_RIGHTS), for both ends
 * of a socket: the daemon's record channels (daemon/sspid-channel.c), which
 * take none, and libsspi's bus transport (libclient/sspi-transport.c).
 * Every descriptor a recvmsg() delivered must be kept or closed by its
 * receiver; this walks them all.  Header-only: the two sides share no
 * library.
 */
#pragma once

#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

/* Calls @take (fd, @data) for each descriptor in @msg's SCM_RIGHTS control
 * messages, in order; returns how many there were. */
static inline unsigned
sspid_passed_fds_foreach (struct msghdr *msg, void (*take) (int fd, void *data), void *data)
{
  unsigned count = 0;

  for (struct cmsghdr *c = CMSG_FIRSTHDR (msg); c != NULL; c = CMSG_NXTHDR (msg, c))
    {
      size_t n;

      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
        continue;
      n = (c->cmsg_len - CMSG_LEN (0)) / sizeof (int);
      for (size_t i = 0; i < n; i++, count++)
        {
          int fd;

          memcpy (&fd, CMSG_DATA (c) + i * sizeof fd, sizeof fd);
          take (fd, data);
        }
    }
  return count;
}
