/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's side of a record channel's mailbox (proto/sspid-channel.h):
 * a sealed memfd shared with one caller, through which its requests and
 * their answers travel without a system call while both sides watch it.
 * Everything the caller can write there is treated as hostile.  Used by
 * the channel that owns it (sspid-channels.c), on the main thread.
 */
#pragma once

#include <glib.h>

typedef struct _SspidMailbox SspidMailbox;

/* A new mailbox, mapped; *@caller_fd is the descriptor to hand the caller
 * (the caller of this function closes it once sent).  NULL and @error if
 * the kernel cannot make one.  Free with sspid_mailbox_free(). */
SspidMailbox *sspid_mailbox_new (int *caller_fd, GError **error);
void sspid_mailbox_free (SspidMailbox *mailbox);

/* Whether a request is posted and not taken. */
gboolean sspid_mailbox_has_request (SspidMailbox *mailbox);

/* Takes the posted request: a copy of its packet (free with g_free()),
 * its size in *@size; *@is_oversize if the caller claimed more than the
 * mailbox holds (the copy is then header-sized).  NULL if none is posted. */
guint8 *sspid_mailbox_take_request (SspidMailbox *mailbox, gsize *size,
                                    gboolean *is_oversize);

/* How the caller learned of an answer. */
typedef enum {
  SSPID_MAILBOX_WAKE_NONE,    /* it watched: nothing to do */
  SSPID_MAILBOX_WAKE_FUTEX,   /* it slept on the futex, and was woken */
  SSPID_MAILBOX_WAKE_RING,    /* it sleeps on the socket: owed a RING */
} SspidMailboxWake;

/* Posts an answer packet: @header, then @body serialised straight into
 * the mailbox (it must fit: SSPID_CHANNEL_MAX_PACKET in all), and wakes
 * a caller asleep on the futex; says whether it slept, and whether it
 * is owed a RING. */
SspidMailboxWake sspid_mailbox_post_answer (SspidMailbox *mailbox, const void *header,
                                            gsize header_size, GVariant *body);

/* The daemon watches the mailbox (a caller that posts need not ring), or
 * stops watching it (a caller that posts from now on rings).  A request
 * posted before the stop may come with no RING: look at
 * sspid_mailbox_has_request() after stopping. */
void sspid_mailbox_watch (SspidMailbox *mailbox);
void sspid_mailbox_unwatch (SspidMailbox *mailbox);

/* Waits up to @usec for a posted request, watching memory (no system
 * call); TRUE if one came. */
gboolean sspid_mailbox_wait_request (SspidMailbox *mailbox, gint64 usec);
