/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Watching a configuration's credential files: a certificate, key, trust
 * bundle or OCSP response replaced on disk (written in place or renamed
 * over) is picked up without a signal.  A burst of changes (a new key and
 * certificate written one after the other) is one reload, a second after
 * the last change.  The configuration file itself is not watched: edits to
 * it wait for `systemctl reload` (after `sspictl check-config`).
 */
#pragma once

#include <glib.h>

#include "sspid-config.h"

typedef struct _SspidWatch SspidWatch;

/* Calls @changed(@data) on the main context once files that @config's
 * credentials name have changed and stayed quiet for @settle_ms.  Files
 * on a PKCS#11 token (pkcs11: URIs) cannot be watched: SIGHUP reloads
 * those.  Free with sspid_watch_free(). */
SspidWatch *sspid_watch_new (const SspidConfig *config, guint settle_ms,
                             void (*changed) (gpointer data), gpointer data);
void sspid_watch_free (SspidWatch *watch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SspidWatch, sspid_watch_free)
