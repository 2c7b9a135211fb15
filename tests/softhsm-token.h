/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A SoftHSM2 token for the PKCS#11 tests: a fresh token in a temp dir
 * (its own softhsm2.conf and token directory) labelled SOFTHSM_LABEL with
 * the test PKI's server key as object "server" (id 01) and its RSA key
 * as object "rsa" (id 02).  Needs softhsm2,
 * p11tool and openssl; missing tools fail the test (tools/check installs
 * them): a skipped key-isolation test reads as a pass.
 */
#pragma once

#include <glib.h>

#define SOFTHSM_PIN    "1234"
#define SOFTHSM_SO_PIN "5678"
#define SOFTHSM_LABEL  "sspid"

/* Makes the token; returns its directory (softhsm2.conf, tokens/).  The
 * caller removes it with tu_remove_tree() and g_free()s the name. */
char *softhsm_make_token (void);
/* The path of @dir's softhsm2.conf.  g_free() it. */
char *softhsm_conf_path (const char *dir);
/* Makes the token visible to this process and what it starts through
 * p11-kit's registered softhsm2 module (SOFTHSM2_CONF), and checks that
 * p11-kit sees it. */
void softhsm_use_token (const char *dir);
/* Fails the test unless @name is on $PATH (from Debian package @package). */
void softhsm_require_program (const char *name, const char *package);
/* Runs @argv, failing the test with its output if it fails; returns what
 * it printed.  g_free() it. */
char *softhsm_run (const char *const *argv);
