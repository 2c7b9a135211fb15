/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Record channels: a caller's private SOCK_SEQPACKET path for
 * EncryptMessage and DecryptMessage (framing: proto/sspid-channel.h),
 * handed out by the OpenRecordChannel bus method.  The set keeps the
 * channels open and the counts their limits are checked against.
 *
 * A request read from a channel becomes an SspidCall whose reply sink is
 * the channel, and goes to the dispatch function the front gave the set:
 * the channel never calls the front by name.  Main thread only.
 */
#pragma once

#include <gio/gio.h>

#include "sspid-call.h"
#include "sspid-caller.h"

typedef struct _SspidChannels SspidChannels;

/* Runs a request read from a channel, its caller identified: it enters
 * the same path as a bus call and answers @call exactly once. */
typedef void (*SspidChannelDispatchFunc) (SspidCall *call, gpointer user_data);

/* Channels watched on @main_context, whose requests go to @dispatch.  Free
 * with sspid_channels_free() once every channel closed (they close with
 * their callers). */
SspidChannels *sspid_channels_new (GMainContext             *main_context,
                                   SspidChannelDispatchFunc  dispatch,
                                   gpointer                  dispatch_data);
void sspid_channels_free (SspidChannels *set);

/* A new channel for @caller (identified, not gone), closed with its
 * connection: returns the caller's end, a file descriptor for the method
 * reply, or -1 and @error. */
int sspid_channels_open (SspidChannels *set, SspidCaller *caller, GError **error);

/* Channels open, in all and for callers of @uid. */
guint sspid_channels_get_n_open (SspidChannels *set);
guint sspid_channels_count_for_uid (SspidChannels *set, uid_t uid);
/* Requests answered over channels since the start. */
guint64 sspid_channels_get_n_answered (SspidChannels *set);

/* Whether too many descriptors wait to be closed (some closes hang) for
 * another channel to be handed out. */
gboolean sspid_channels_is_closer_backed_up (void);
