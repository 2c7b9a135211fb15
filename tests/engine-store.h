/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A credential store of the test PKI for the tests that drive the TLS
 * engine directly, without a bus or a daemon (test-engine, test-alerts):
 * the config they load, written once.
 */
#pragma once

#include <glib.h>

#include "sspid-credential.h"

/* A config whose [daemon] section trusts the test CA; add credentials
 * with es_config_add().  Free with g_string_free(). */
GString              *es_config_new (void);
/* Appends [credential @name] with the test PKI's @files.pem and
 * @files.key, @usage ("inbound" or "outbound"), for the caller's uid, and
 * the @extra lines (each ending in a newline; "" for none). */
void                  es_config_add (GString *conf, const char *name, const char *files,
                                     const char *usage, const char *extra);
/* The fixture: es_setup() loads @conf into es_store (failing the test if
 * it does not load) and sets es_me to this process, the identity the
 * tests acquire as; es_teardown() frees es_store. */
extern SspidCredentialStore *es_store;
extern SspidIdentity         es_me;
void                  es_setup (const GString *conf);
void                  es_teardown (void);
