/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `sspictl check-config`, shared between its two files: the run's state
 * (the files read, where every section and key is, the problems found)
 * and the checks of one credential (sspictl-check-credential.c), which
 * need GnuTLS but not the file bookkeeping.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "sspid-config.h"

typedef enum {
  SSPICTL_SEVERITY_ERROR,
  SSPICTL_SEVERITY_WARNING,
} SspictlSeverity;

/* Where something is: a line of one of the files read.  line 0: unknown. */
typedef struct {
  const char *file;   /* borrowed from the check */
  guint       line;
} SspictlWhere;

/* What was learnt of one [credential NAME]. */
typedef struct {
  char        *name;
  SspictlWhere where;         /* its [credential NAME] line */
  const char  *usage;         /* static */
  char        *certificate;
  char        *key;           /* as it may be shown: a pkcs11: PIN hidden */
  gboolean     is_pkcs11;
  char        *subject;       /* leaf certificate, NULL if unreadable */
  char        *issuer;
  gint64       not_before;    /* Unix seconds, 0 if unknown */
  gint64       not_after;
  guint        n_errors;
  guint        n_warnings;
} SspictlCredentialReport;

typedef struct _SspictlCheck SspictlCheck;

/* Records a problem.  @where may be NULL; @credential may be NULL. */
void sspictl_check_report (SspictlCheck *check, SspictlSeverity severity,
                           const SspictlWhere *where, SspictlCredentialReport *credential,
                           const char *format, ...) G_GNUC_PRINTF (5, 6);

/* The line of KEY= in [GROUP] that is in effect (drop-ins override the
 * main file), else the [GROUP] line.  @group is the full section name,
 * e.g. "credential web". */
SspictlWhere sspictl_check_locate (SspictlCheck *check, const char *group, const char *key);

/* The daemon's user: uid, and name for messages.  FALSE if it does not
 * exist on this machine. */
gboolean sspictl_check_get_daemon_user (SspictlCheck *check, uid_t *uid, const char **name);

/* Checks one credential: files, permissions, key against certificate,
 * validity, trust, who may use it (sspictl-check-credential.c). */
void sspictl_check_credential (SspictlCheck *check, const SspidCredentialConfig *cred,
                               const char *group, SspictlCredentialReport *report);
/* Checks a trust setting ("system" or a CA bundle) found at @where. */
void sspictl_check_trust (SspictlCheck *check, const char *trust, const SspictlWhere *where,
                          SspictlCredentialReport *report);

/* Days before expiry from which a certificate is flagged. */
#define SSPICTL_EXPIRY_WARNING_DAYS 30
