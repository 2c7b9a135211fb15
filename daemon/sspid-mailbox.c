/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A record channel's mailbox, daemon side (protocol: proto/sspid-channel.h).
 *
 * Why: on this kind of (virtual) machine a system call costs more than
 * the AES of a 16 KiB record, and a record over the socket took five of
 * them in the daemon (poll, recvmsg, sendmsg, and the polls that look for
 * the next one).  In shared memory a streaming caller's request is seen by
 * reading a word.
 *
 * Safety: the memfd is sealed against shrinking before the caller sees it,
 * so no access of ours can fault (SIGBUS) whatever the caller does to its
 * descriptor; it is never grown, so its memory is fixed (one packet's worth
 * per channel, and channels are limited per connection and per user).
 * Every word the caller writes is read once into a local and checked, and
 * a request is copied out before anything looks at it.
 */
#include "config.h"

#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gio/gio.h>

#include "sspid-channel.h"
#include "sspid-channel-watch.h"
#include "sspid-mailbox.h"

struct _SspidMailbox {
  SspidChannelMailbox *shared;
};

static gboolean
set_errno_error (GError **error, const char *what)
{
  int e = errno;

  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "%s: %s", what, g_strerror (e));
  return FALSE;
}

SspidMailbox *
sspid_mailbox_new (int *caller_fd, GError **error)
{
  SspidMailbox *mailbox;
  void *shared;
  int fd = memfd_create ("sspid-record-mailbox", MFD_CLOEXEC | MFD_ALLOW_SEALING);

  if (fd < 0)
    {
      set_errno_error (error, "memfd_create");
      return NULL;
    }
  if (ftruncate (fd, sizeof (SspidChannelMailbox)) < 0
      || fcntl (fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
    {
      set_errno_error (error, "sealing the mailbox");
      close (fd);
      return NULL;
    }
  shared = mmap (NULL, sizeof (SspidChannelMailbox), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (shared == MAP_FAILED)
    {
      set_errno_error (error, "mmap");
      close (fd);
      return NULL;
    }
  mailbox = g_new0 (SspidMailbox, 1);
  mailbox->shared = shared;
  /* Until it watches, the daemon must be rung. */
  g_atomic_int_set ((gint *) &mailbox->shared->daemon_waiting, 1);
  g_atomic_int_set ((gint *) &mailbox->shared->daemon_wakes_by_futex, 1);
  *caller_fd = fd;
  return mailbox;
}

void
sspid_mailbox_free (SspidMailbox *mailbox)
{
  if (mailbox == NULL)
    return;
  munmap (mailbox->shared, sizeof (SspidChannelMailbox));
  g_free (mailbox);
}

gboolean
sspid_mailbox_has_request (SspidMailbox *mailbox)
{
  return (guint) g_atomic_int_get ((gint *) &mailbox->shared->state)
         == SSPID_CHANNEL_MAILBOX_REQUEST;
}

guint8 *
sspid_mailbox_take_request (SspidMailbox *mailbox, gsize *size, gboolean *is_oversize)
{
  SspidChannelMailbox *shared = mailbox->shared;
  guint32 length;

  if (!g_atomic_int_compare_and_exchange ((gint *) &shared->state,
                                          SSPID_CHANNEL_MAILBOX_REQUEST,
                                          SSPID_CHANNEL_MAILBOX_TAKEN))
    return NULL;
  /* Read once: the caller may change it while we copy. */
  length = (guint32) g_atomic_int_get ((gint *) &shared->length);
  *is_oversize = length > sizeof shared->data;
  if (*is_oversize)
    length = sizeof (SspidChannelHeader);
  *size = length;
  /* Never NULL, even for a length of 0: a post is always answered (or
   * closes the channel). */
  return memcpy (g_malloc (MAX (length, 1)), shared->data, length);
}

SspidMailboxWake
sspid_mailbox_post_answer (SspidMailbox *mailbox, const void *header, gsize header_size,
                           GVariant *body)
{
  SspidChannelMailbox *shared = mailbox->shared;
  gsize body_size = g_variant_get_size (body);

  g_assert (header_size + body_size <= sizeof shared->data);
  memcpy (shared->data, header, header_size);
  /* A reply is built as a tree (a record's bytes by reference): storing
   * it serialises it once, here, instead of once more on the heap. */
  g_variant_store (body, shared->data + header_size);
  g_atomic_int_set ((gint *) &shared->length, (gint) (header_size + body_size));
  g_atomic_int_set ((gint *) &shared->state, SSPID_CHANNEL_MAILBOX_ANSWER);
  /* Whatever the caller wrote there only chooses how it is woken. */
  if (g_atomic_int_get ((gint *) &shared->caller_sleeps_on_futex) == 1)
    {
      /* Read, never cleared: a futex wake is no token to account for, and
       * a clear could come late (this thread preempted between state and
       * flag) and take the flag of the caller's next sleep, whose wake
       * would then be lost until its timeout.  A wake for nobody (the
       * caller looked again before sleeping, or already sleeps for a later
       * answer) costs one system call, and a wait only looks again. */
      if (g_atomic_int_get ((gint *) &shared->caller_waiting) != 1)
        return SSPID_MAILBOX_WAKE_NONE;
      syscall (SYS_futex, &shared->state, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
      return SSPID_MAILBOX_WAKE_FUTEX;
    }
  if (g_atomic_int_exchange ((gint *) &shared->caller_waiting, 0) != 1)
    return SSPID_MAILBOX_WAKE_NONE;
  return SSPID_MAILBOX_WAKE_RING;
}

void
sspid_mailbox_watch (SspidMailbox *mailbox)
{
  /* If the caller cleared it first, a RING is on its way: harmless. */
  g_atomic_int_set ((gint *) &mailbox->shared->daemon_waiting, 0);
}

void
sspid_mailbox_unwatch (SspidMailbox *mailbox)
{
  /* Sequentially consistent, as the caller's post then exchange: either
   * it sees this flag and rings, or our next look at state sees it. */
  g_atomic_int_set ((gint *) &mailbox->shared->daemon_waiting, 1);
}

gboolean
sspid_mailbox_wait_request (SspidMailbox *mailbox, gint64 usec)
{
  gint64 until = g_get_monotonic_time () + usec;

  do
    {
      for (guint i = 0; i < 16; i++)
        {
          if (sspid_mailbox_has_request (mailbox))
            return TRUE;
          sspid_channel_cpu_relax ();
        }
    }
  while (g_get_monotonic_time () < until);
  return sspid_mailbox_has_request (mailbox);
}
