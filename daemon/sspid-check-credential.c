/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `sspid --check-config`: the checks of one [credential NAME] that say
 * more, and say it at the line at fault, than the credential store would
 * (what the store itself refuses is sspid-check.c's last word), plus what
 * only shows later (an expired certificate loads, but peers refuse it).
 *
 *  - the certificate file exists and holds PEM certificates; none of the
 *    chain has expired (error) or expires within 30 days (warning);
 *  - the key file exists and obeys the daemon's rule: no access for group
 *    or others, owned by the daemon's user (or root); plus what the rule
 *    cannot see: a root-owned key a non-root daemon cannot read, and a
 *    key this process cannot read (so the store cannot try it);
 *  - the trust bundle, if any, loads and holds CA certificates;
 *  - somebody may acquire it (users= or groups=).
 *
 * Whether the key matches the certificate is the store's to say: it loads
 * both, as the daemon does.
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <gnutls/ocsp.h>
#include <gnutls/x509.h>

#include "sspid-check.h"
#include "sspid-credential.h"

void
sspid_check_finding_free (SspidCheckFinding *finding)
{
  g_free (finding->text);
  g_free (finding);
}

/* Adds a finding about @setting (NULL: the section itself). */
static void G_GNUC_PRINTF (4, 5)
find (GPtrArray *findings, SspidCheckSeverity severity, const char *setting,
      const char *format, ...)
{
  SspidCheckFinding *finding = g_new0 (SspidCheckFinding, 1);
  va_list ap;

  va_start (ap, format);
  finding->text = g_strdup_vprintf (format, ap);
  va_end (ap);
  finding->severity = severity;
  finding->setting = setting;
  g_ptr_array_add (findings, finding);
}

static void
free_certificates (gnutls_x509_crt_t *crts, unsigned int n)
{
  for (unsigned int i = 0; i < n; i++)
    gnutls_x509_crt_deinit (crts[i]);
  gnutls_free (crts);
}

static char *
format_date (gint64 t)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (t);

  return dt != NULL ? g_date_time_format (dt, "%Y-%m-%d %H:%M UTC") : g_strdup ("?");
}

/* Validity of the certificate at position @index of the chain. */
static void
check_validity (GPtrArray *findings, SspidCheckCredential *report, const char *setting,
                gnutls_x509_crt_t crt, unsigned int index)
{
  gint64 now = (gint64) time (NULL);
  gint64 not_before = gnutls_x509_crt_get_activation_time (crt);
  gint64 not_after = gnutls_x509_crt_get_expiration_time (crt);
  g_autofree char *which = NULL;
  g_autofree char *date = NULL;

  if (index == 0)
    which = g_strdup_printf ("certificate '%s'", report->certificate);
  else
    {
      g_autofree char *subject = sspid_certificate_dup_dn (crt, FALSE);
      which = g_strdup_printf ("certificate '%s': chain certificate %u (%s)",
                               report->certificate, index, subject ? subject : "?");
    }

  if (not_after != -1 && not_after <= now)
    {
      date = format_date (not_after);
      find (findings, SSPID_CHECK_ERROR, setting,
            "%s expired on %s: peers will refuse it", which, date);
    }
  else if (not_after != -1 && (not_after - now) / 86400 < SSPID_CHECK_EXPIRY_WARNING_DAYS)
    {
      date = format_date (not_after);
      find (findings, SSPID_CHECK_WARNING, setting,
            "%s expires on %s, in %" G_GINT64_FORMAT " days", which, date,
            (not_after - now) / 86400);
    }
  if (not_before != -1 && not_before > now)
    {
      g_free (date);
      date = format_date (not_before);
      find (findings, SSPID_CHECK_WARNING, setting,
            "%s is not valid before %s", which, date);
    }
}

/* Reads the chain; fills the report's subject, issuer and validity.
 * Returns FALSE (reported) if there is no usable certificate. */
static gboolean
check_certificate (GPtrArray *findings, const SspidCredentialConfig *cred,
                   const char *setting, SspidCheckCredential *report)
{
  g_autofree char *contents = NULL;
  g_autoptr (GError) error = NULL;
  gnutls_x509_crt_t *crts = NULL;
  unsigned int n = 0;
  gnutls_datum_t data;
  gsize len = 0;
  int ret;

  if (access (cred->certificate, R_OK) != 0)
    {
      find (findings, SSPID_CHECK_ERROR, setting,
            "certificate '%s': %s", cred->certificate, g_strerror (errno));
      return FALSE;
    }
  if (!g_file_get_contents (cred->certificate, &contents, &len, &error))
    {
      find (findings, SSPID_CHECK_ERROR, setting,
            "certificate '%s' cannot be read: %s", cred->certificate,
            error->message);
      return FALSE;
    }
  data.data = (unsigned char *) contents;
  data.size = (unsigned int) len;
  ret = gnutls_x509_crt_list_import2 (&crts, &n, &data, GNUTLS_X509_FMT_PEM, 0);
  if (ret < 0 || n == 0)
    {
      find (findings, SSPID_CHECK_ERROR, setting,
            "certificate '%s' holds no PEM certificate: %s",
            cred->certificate, ret < 0 ? gnutls_strerror (ret) : "empty");
      return FALSE;
    }
  report->subject = sspid_certificate_dup_dn (crts[0], FALSE);
  report->issuer = sspid_certificate_dup_dn (crts[0], TRUE);
  report->not_before = gnutls_x509_crt_get_activation_time (crts[0]);
  report->not_after = gnutls_x509_crt_get_expiration_time (crts[0]);
  for (unsigned int i = 0; i < n; i++)
    check_validity (findings, report, setting, crts[i], i);
  free_certificates (crts, n);
  return TRUE;
}

static char *
user_name (uid_t uid)
{
  struct passwd pw, *res = NULL;
  char buf[4096];

  if (getpwuid_r (uid, &pw, buf, sizeof buf, &res) == 0 && res != NULL)
    return g_strdup_printf ("'%s' (uid %u)", pw.pw_name, (unsigned) uid);
  return g_strdup_printf ("uid %u", (unsigned) uid);
}

/* The daemon's rule for key files (sspid-credential.c key_file_is_private):
 * nothing for group and others, owned by the daemon's user or root.
 * Returns whether the daemon would accept the file (reported if not). */
static gboolean
check_key_file (GPtrArray *findings, const SspidCredentialConfig *cred,
                const char *setting, const SspidCheckDaemonUser *user)
{
  const char *daemon_name = user->name;
  uid_t daemon_uid = user->uid;
  gboolean has_daemon_user = user->exists;
  SspidKeyFileProblems problems;
  struct stat st;
  gboolean ok = TRUE;

  if (stat (cred->key, &st) != 0)
    {
      find (findings, SSPID_CHECK_ERROR, setting,
            "key '%s': %s", cred->key, g_strerror (errno));
      return FALSE;
    }
  /* The daemon's own rule; with no daemon user known, only root may own it. */
  problems = sspid_key_file_problems (&st, has_daemon_user ? daemon_uid : 0);
  if (problems & SSPID_KEY_FILE_READABLE_BY_OTHERS)
    {
      find (findings, SSPID_CHECK_ERROR, setting,
            "key '%s' has mode %04o: other users can read it, so sspid "
            "refuses it (chmod 600 '%s')", cred->key,
            (unsigned) (st.st_mode & 07777), cred->key);
      ok = FALSE;
    }
  if (problems & SSPID_KEY_FILE_FOREIGN_OWNER)
    {
      g_autofree char *owner = user_name (st.st_uid);

      find (findings, SSPID_CHECK_ERROR, setting,
            "key '%s' is owned by %s, not by the daemon's user '%s', so "
            "sspid refuses it (chown %s '%s')", cred->key, owner,
            daemon_name, daemon_name, cred->key);
      ok = FALSE;
    }
  else if (st.st_uid == 0 && has_daemon_user && daemon_uid != 0 && (st.st_mode & S_IROTH) == 0)
    {
      /* Allowed by the rule, but a daemon running as its own user cannot
       * open it. */
      find (findings, SSPID_CHECK_ERROR, setting,
            "key '%s' is owned by root: the daemon's user '%s' cannot read "
            "it (chown %s '%s')", cred->key, daemon_name, daemon_name,
            cred->key);
      ok = FALSE;
    }
  return ok;
}

/* The store can only judge a key this process may read. */
static void
check_key_readable (GPtrArray *findings, const SspidCredentialConfig *cred,
                    const char *setting)
{
  if (access (cred->key, R_OK) != 0)
    find (findings, SSPID_CHECK_ERROR, setting,
          "key '%s' cannot be read by sspid --check-config (%s), so whether it "
          "matches the certificate is unknown: run it as root",
          cred->key, g_strerror (errno));
}

void
sspid_check_trust (const char *trust, GPtrArray *findings)
{
  const char *setting = "trust";
  gnutls_certificate_credentials_t creds = NULL;
  int ret;

  if (trust == NULL || g_str_equal (trust, "system"))
    return;
  if (access (trust, R_OK) != 0)
    {
      find (findings, SSPID_CHECK_ERROR, setting,
            "trust '%s': %s", trust, g_strerror (errno));
      return;
    }
  if (gnutls_certificate_allocate_credentials (&creds) < 0)
    return;
  ret = gnutls_certificate_set_x509_trust_file (creds, trust, GNUTLS_X509_FMT_PEM);
  gnutls_certificate_free_credentials (creds);
  if (ret < 0)
    find (findings, SSPID_CHECK_ERROR, setting,
          "trust '%s' cannot be loaded: %s", trust, gnutls_strerror (ret));
  else if (ret == 0)
    find (findings, SSPID_CHECK_WARNING, setting,
          "trust '%s' holds no CA certificate: no peer can be verified", trust);
}

/* An OCSP response is stale once its nextUpdate has passed (GnuTLS then
 * stops stapling it) and worth renewing a day before. */
#define OCSP_RENEW_BEFORE_SEC (24 * 3600)

static void
check_ocsp_response (GPtrArray *findings, const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  gnutls_datum_t der;
  gnutls_ocsp_resp_t resp = NULL;
  time_t this_update = 0, next_update = 0;
  unsigned int status = 0;
  g_autoptr (GError) error = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (!g_file_get_contents (path, &data, &len, &error))
    {
      find (findings, SSPID_CHECK_WARNING, "ocsp-response", "%s: nothing to staple",
            error->message);
      return;
    }
  der.data = (unsigned char *) data;
  der.size = (unsigned int) len;
  if (gnutls_ocsp_resp_init (&resp) < 0 || gnutls_ocsp_resp_import (resp, &der) < 0
      || gnutls_ocsp_resp_get_single (resp, 0, NULL, NULL, NULL, NULL, &status, &this_update,
                                      &next_update, NULL, NULL) < 0)
    find (findings, SSPID_CHECK_WARNING, "ocsp-response",
          "'%s' is not a DER OCSP response: nothing to staple", path);
  else if (status != GNUTLS_OCSP_CERT_GOOD)
    find (findings, SSPID_CHECK_WARNING, "ocsp-response",
          "'%s' says the certificate is %s", path,
          status == GNUTLS_OCSP_CERT_REVOKED ? "revoked" : "of unknown status");
  else if (next_update != (time_t) -1 && next_update <= now)
    {
      g_autofree char *date = format_date (next_update);

      find (findings, SSPID_CHECK_WARNING, "ocsp-response",
            "'%s' is stale since %s: it is not stapled; fetch a new one", path, date);
    }
  else if (next_update != (time_t) -1 && next_update - now < OCSP_RENEW_BEFORE_SEC)
    {
      g_autofree char *date = format_date (next_update);

      find (findings, SSPID_CHECK_WARNING, "ocsp-response",
            "'%s' goes stale on %s: fetch a new one", path, date);
    }
  if (resp != NULL)
    gnutls_ocsp_resp_deinit (resp);
}

void
sspid_check_credential (const SspidCredentialConfig *cred, const SspidCheckDaemonUser *user,
                        SspidCheckCredential *report, GPtrArray *findings)
{
  gboolean has_certificate;

  report->usage = sspid_usage_to_string (cred->usage);
  report->certificate = g_strdup (cred->certificate);
  report->key = sspid_key_for_log (cred->key);
  report->is_pkcs11 = g_str_has_prefix (cred->key, "pkcs11:");

  has_certificate = check_certificate (findings, cred, "certificate", report);
  if (!report->is_pkcs11 && check_key_file (findings, cred, "key", user) && has_certificate)
    check_key_readable (findings, cred, "key");
  if (cred->trust != NULL)
    sspid_check_trust (cred->trust, findings);
  if (cred->ocsp_response != NULL)
    check_ocsp_response (findings, cred->ocsp_response);
  if (!cred->allow_everyone && cred->uids->len == 0 && cred->gids->len == 0)
    find (findings, SSPID_CHECK_WARNING, NULL, "no users= or groups=: no caller may acquire it");
}
