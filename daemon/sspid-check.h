/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `sspid --check-config [--json] [FILE]` (as nginx -t, sshd -t): the
 * daemon's own config loader and credential store judge a configuration,
 * and every problem is reported, not just the first, at the file, line
 * and credential at fault.  `sspictl check-config` runs it.
 *
 * sspid_check_config() is the entry point (sspid-main.c); the rest is
 * shared between this module's two files: the run's state (the files
 * read, where every section and key is, the problems found) in
 * sspid-check.c and the checks of one credential in
 * sspid-check-credential.c, which need GnuTLS but not the file
 * bookkeeping.
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

typedef struct _SspidCheck SspidCheck;

/* Records a problem.  @where may be NULL; @credential may be NULL. */
void sspid_check_report (SspidCheck *check, SspidCheckSeverity severity,
                         const SspidCheckWhere *where, SspidCheckCredential *credential,
                         const char *format, ...) G_GNUC_PRINTF (5, 6);

/* The line of KEY= in [GROUP] that is in effect (drop-ins override the
 * main file), else the [GROUP] line.  @group is the full section name,
 * e.g. "credential web". */
SspidCheckWhere sspid_check_locate (SspidCheck *check, const char *group, const char *key);

/* The daemon's user: uid, and name for messages.  FALSE if it does not
 * exist on this machine. */
gboolean sspid_check_get_daemon_user (SspidCheck *check, uid_t *uid, const char **name);

/* Checks one credential closely: files, permissions, validity, trust,
 * who may use it (sspid-check-credential.c); whether its key matches its
 * certificate is left to the credential store (sspid-check.c). */
void sspid_check_credential (SspidCheck *check, const SspidCredentialConfig *cred,
                             const char *group, SspidCheckCredential *report);
/* Checks a trust setting ("system" or a CA bundle) found at @where. */
void sspid_check_trust (SspidCheck *check, const char *trust, const SspidCheckWhere *where,
                        SspidCheckCredential *report);

/* Days before expiry from which a certificate is flagged. */
#define SSPID_CHECK_EXPIRY_WARNING_DAYS 30
