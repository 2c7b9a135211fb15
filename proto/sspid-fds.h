/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * File descriptors that came along a message (SCM_RIGHTS), for both ends
 * of a socket: the daemon's record channels and peer connections
 * (daemon/sspid-channels.c, daemon/sspid-peers.c), which take none, and
 * libsspi's bus transport (libclient/sspi-transport.c).
 * Every descriptor a recvmsg() delivered must be kept or closed by its
 * receiver; this walks them all.  Header-only: the two sides share no
 * library.
 */
#pragma once

#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

/* Linux >= 6.16; the asm-generic value, so only where that applies (on
 * sparc, say, 83 is another option, which would "succeed"). */
#if !defined(SO_PASSRIGHTS) && (defined(__x86_64__) || defined(__i386__) || \
                                defined(__aarch64__) || defined(__arm__) || defined(__riscv))
#define SO_PASSRIGHTS 83
#endif

/* Makes the kernel refuse descriptors sent to @fd, our end of a socket
 * pair (the sender's sendmsg() fails): nothing then arrives that we would
 * have to close.  Returns whether the kernel can (SO_PASSRIGHTS). */
static inline int
sspid_fd_refuse_passed_fds (int fd)
{
#ifdef SO_PASSRIGHTS
  int off = 0;

  return setsockopt (fd, SOL_SOCKET, SO_PASSRIGHTS, &off, sizeof off) == 0;
#else
  (void) fd;
  return 0;
#endif
}

/* Makes the close of a received @fd immediate if it is a socket that
 * would linger (unsent data and SO_LINGER): anyone who sends us an fd
 * could otherwise hold up the thread that closes it.  AF_UNIX sockets and
 * other files are unaffected. */
static inline void
sspid_fd_no_linger (int fd)
{
  struct linger no_linger = { 1, 0 };

  (void) setsockopt (fd, SOL_SOCKET, SO_LINGER, &no_linger, sizeof no_linger);
}

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
