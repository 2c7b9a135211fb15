/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The D-Bus front of sspid: the org.sspid1.Sspi object at /org/sspid1.
 * One handler per method; handshake steps run on a worker pool, one
 * operation at a time per security context, and every call is answered
 * exactly once (method reply, or the unicast Completed signal for calls
 * sent with NO_REPLY_EXPECTED).  See proto/org.sspid1.xml.
 */
#pragma once

#include <gio/gio.h>
#include "sspid-caller.h"
#include "sspid-config.h"
#include "sspid-credential.h"

typedef struct _SspidService SspidService;

/* Registers the object on @connection (a message bus connection; owning the
 * name is the caller's job, and should come after this) and starts serving.
 * Takes ownership of @config and @store.  Returns NULL and sets @error if the
 * object cannot be registered.  Free with sspid_service_free(), which
 * answers every call still pending and waits for the workers. */
SspidService *sspid_service_new (GDBusConnection      *connection,
                                 SspidConfig          *config,
                                 SspidCredentialStore *store,
                                 GError              **error);
void sspid_service_free (SspidService *service);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SspidService, sspid_service_free)

/* Switches to a new configuration and credential store (takes ownership of
 * both).  Credentials and contexts that exist keep working: they hold their
 * own references.  New limits apply to new calls. */
void sspid_service_reload (SspidService         *service,
                           SspidConfig          *config,
                           SspidCredentialStore *store);

/* What the daemon holds right now, for diagnostics. */
/* The credentials in use now (borrowed: a reload replaces them). */
SspidCredentialStore *sspid_service_peek_store (SspidService *service);
void sspid_service_get_counts (SspidService *service, SspidCounts *counts);

/* The random value Hello answers with, chosen once per daemon start. */
guint64 sspid_service_get_instance (SspidService *service);
