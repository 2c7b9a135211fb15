/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `sspid --check-config [--json] [FILE]` (as nginx -t, sshd -t): the
 * daemon's own config loader and credential store judge a configuration,
 * and every problem is reported, not just the first, at the file, line
 * and credential at fault.  `sspictl check-config` runs it.
 *
 * sspid_check_config() is the entry point (sspid-main.c).  The rest is
 * between this module's two files, called one way: sspid-check.c (the
 * run: the files read, where every section and key is, the problems
 * found, the output) calls sspid-check-credential.c, the close checks of
 * one credential, which need GnuTLS but know no files or lines: they
 * return findings, which sspid-check.c puts at their lines.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "sspid-config.h"

/* Checks the configuration at @path (and its drop-ins) for a daemon
 * running as @daemon_user, and prints every problem, as text or as one
 * JSON document, on stdout.  @is_default_path: @path was not asked for,
 * so its absence is only a warning.  Returns the exit status: 0 no errors
 * (warnings allowed), 1 errors. */
int sspid_check_config (const char *path, gboolean is_default_path, const char *daemon_user,
                        gboolean json);

typedef enum {
  SSPID_CHECK_ERROR,
  SSPID_CHECK_WARNING,
} SspidCheckSeverity;

/* Where something is: a line of one of the files read.  line 0: unknown. */
typedef struct {
  const char *file;   /* borrowed from the check */
  guint       line;
} SspidCheckWhere;

/* What was learnt of one [credential NAME]. */
typedef struct {
  char           *name;
  SspidCheckWhere where;         /* its [credential NAME] line */
  const char     *usage;         /* static */
  char           *certificate;
  char           *key;           /* as it may be shown: a pkcs11: PIN hidden */
  gboolean        is_pkcs11;
  char           *subject;       /* leaf certificate (RFC 4514), NULL if unreadable */
  char           *issuer;
  gint64          not_before;    /* Unix seconds, 0 if unknown */
  gint64          not_after;
  guint           n_errors;
  guint           n_warnings;
} SspidCheckCredential;

/* What the close checks of a credential found: a problem and the setting
 * at fault (certificate, key, trust; NULL: the section itself), for
 * sspid-check.c to put at its line.  Free with sspid_check_finding_free(). */
typedef struct {
  SspidCheckSeverity severity;
  const char        *setting;     /* static */
  char              *text;
} SspidCheckFinding;

void sspid_check_finding_free (SspidCheckFinding *finding);

/* The daemon's user the keys are judged for. */
typedef struct {
  const char *name;      /* for messages */
  uid_t       uid;
  gboolean    exists;    /* FALSE: no such user here; only root may own keys */
} SspidCheckDaemonUser;

/* Checks one credential closely: files, permissions, validity, trust, who
 * may use it; fills @report's certificate facts and appends to @findings
 * (of SspidCheckFinding *).  Whether its key matches its certificate is
 * left to the credential store (sspid-check.c). */
void sspid_check_credential (const SspidCredentialConfig *cred, const SspidCheckDaemonUser *user,
                             SspidCheckCredential *report, GPtrArray *findings);
/* Checks a trust setting ("system" or a CA bundle); the findings' setting
 * is "trust". */
void sspid_check_trust (const char *trust, GPtrArray *findings);

/* Days before expiry from which a certificate is flagged. */
#define SSPID_CHECK_EXPIRY_WARNING_DAYS 30
