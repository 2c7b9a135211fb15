/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The dictionaries (a{sv}) of the D-Bus contract, built from the typed
 * structs the engine and the credential store return: QueryContext's
 * session facts and ListCredentials' entries (proto/org.sspid1.xml names
 * every key).  Only the D-Bus front calls these; the engine never builds
 * a dictionary, so nothing parses one again.  No bus needed: the fuzzers
 * link it with the engine.
 */
#pragma once

#include <glib.h>

#include "sspid-credential.h"
#include "sspid-tls.h"

/* QueryContext's a{sv}.  Floating reference. */
GVariant *sspid_describe_tls (const SspidTlsInfo *info);

/* ListCredentials' aa{sv}, from an array of SspidCredentialInfo *.
 * Floating reference. */
GVariant *sspid_describe_credentials (GPtrArray *infos);
/* QueryCredential's a{sv}: the suites' parts a credential's priorities
 * allow (names), and its cipher strengths.  Floating. */
GVariant *sspid_describe_algorithms (const SspidTlsAlgorithms *algs);
