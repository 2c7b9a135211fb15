/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `sspid --check-config [FILE]`: validates an sspid configuration without
 * serving it, so an administrator learns before a restart (or a SIGHUP)
 * what sspid would refuse and why (see sspid-check.h).
 *
 * The syntax and every value are checked by the daemon's own parser
 * (sspid-config.c).  That parser stops at the first error and knows
 * files, sections and keys but not lines, so this file also indexes every
 * file it reads (the main file, then the *.conf files of sspid.conf.d as
 * the parser reads them) to put a line number on each message, and
 * catches lines that are no key file syntax at all, all of them, with
 * their line.  Each credential is then checked closely
 * (sspid-check-credential.c) and finally loaded by the daemon's own
 * credential store, whose refusal of one the close checks did not explain
 * is reported too: the store, not this file, has the last word.
 *
 * Messages read like a compiler's: FILE:LINE: error: credential 'NAME': ...
 */
#include "config.h"

#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sspid-check.h"
#include "sspid-credential.h"
#include "sspid-json.h"

#define CREDENTIAL_PREFIX "credential "

typedef struct {
  guint file;      /* index into files */
  guint line;
  char *group;     /* normalised, see normalise_group() */
  char *key;       /* NULL for the [group] line itself */
} Entry;

typedef struct {
  SspidCheckSeverity severity;
  SspidCheckWhere    where;        /* file borrowed from the check */
  char              *credential;   /* NULL: not about one */
  char              *text;
} Message;

typedef struct {
  const char *path;
  GPtrArray  *files;            /* char *, in the order the daemon reads them */
  GArray     *entries;          /* Entry */
  GPtrArray  *messages;         /* Message * */
  GPtrArray  *reports;          /* SspidCheckCredential * */
  guint       n_errors;
  guint       n_warnings;
  gboolean    is_loadable;      /* the daemon's parser accepts it */
  SspidCheckDaemonUser daemon_user;
} SspidCheck;

static void
entry_clear (Entry *e)
{
  g_free (e->group);
  g_free (e->key);
}

static void
message_free (Message *m)
{
  g_free (m->credential);
  g_free (m->text);
  g_free (m);
}

static void
report_free (SspidCheckCredential *r)
{
  g_free (r->name);
  g_free (r->certificate);
  g_free (r->key);
  g_free (r->subject);
  g_free (r->issuer);
  g_free (r);
}

static SspidCheck *
check_new (const char *path, const char *daemon_user)
{
  SspidCheck *check = g_new0 (SspidCheck, 1);
  struct passwd pw, *res = NULL;
  char buf[4096];

  check->path = path;
  check->files = g_ptr_array_new_with_free_func (g_free);
  check->entries = g_array_new (FALSE, TRUE, sizeof (Entry));
  g_array_set_clear_func (check->entries, (GDestroyNotify) entry_clear);
  check->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) message_free);
  check->reports = g_ptr_array_new_with_free_func ((GDestroyNotify) report_free);
  check->daemon_user.name = daemon_user;
  if (getpwnam_r (daemon_user, &pw, buf, sizeof buf, &res) == 0 && res != NULL)
    {
      check->daemon_user.uid = pw.pw_uid;
      check->daemon_user.exists = TRUE;
    }
  return check;
}

static void
check_free (SspidCheck *check)
{
  g_ptr_array_unref (check->files);
  g_array_unref (check->entries);
  g_ptr_array_unref (check->messages);
  g_ptr_array_unref (check->reports);
  g_free (check);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SspidCheck, check_free)

/* Records a problem.  @where may be NULL; @credential may be NULL. */
static void G_GNUC_PRINTF (5, 6)
add_message (SspidCheck *check, SspidCheckSeverity severity, const SspidCheckWhere *where,
             SspidCheckCredential *credential, const char *format, ...)
{
  Message *m = g_new0 (Message, 1);
  va_list ap;

  va_start (ap, format);
  m->text = g_strdup_vprintf (format, ap);
  va_end (ap);
  m->severity = severity;
  if (where != NULL)
    m->where = *where;
  if (credential != NULL)
    {
      m->credential = g_strdup (credential->name);
      if (severity == SSPID_CHECK_ERROR)
        credential->n_errors++;
      else
        credential->n_warnings++;
    }
  if (severity == SSPID_CHECK_ERROR)
    check->n_errors++;
  else
    check->n_warnings++;
  g_ptr_array_add (check->messages, m);
}

/* ---- where things are -------------------------------------------------- */

/* "credential  web " and "credential web" are the same credential to the
 * daemon (it strips the name). */
static char *
normalise_group (const char *group)
{
  g_autofree char *name = NULL;

  if (!g_str_has_prefix (group, CREDENTIAL_PREFIX))
    return g_strdup (group);
  /* In bounds: @group starts with the prefix (cppcheck cannot see that). */
  // cppcheck-suppress pointerOutOfBounds
  name = g_strstrip (g_strdup (group + strlen (CREDENTIAL_PREFIX)));
  return g_strconcat (CREDENTIAL_PREFIX, name, NULL);
}

/* The line of KEY= in [GROUP] that is in effect (drop-ins override the
 * main file), else the [GROUP] line.  @group is the full section name,
 * e.g. "credential web". */
static SspidCheckWhere
locate (SspidCheck *check, const char *group, const char *key)
{
  g_autofree char *wanted = normalise_group (group);
  SspidCheckWhere header = { NULL, 0 }, found = { NULL, 0 };

  for (guint i = 0; i < check->entries->len; i++)
    {
      const Entry *e = &g_array_index (check->entries, Entry, i);

      if (!g_str_equal (e->group, wanted))
        continue;
      if (e->key == NULL && header.file == NULL)
        header = (SspidCheckWhere) { check->files->pdata[e->file], e->line };
      /* Later files override earlier ones: the last assignment counts. */
      if (key != NULL && e->key != NULL && g_str_equal (e->key, key))
        found = (SspidCheckWhere) { check->files->pdata[e->file], e->line };
    }
  if (found.file != NULL)
    return found;
  if (header.file != NULL)
    return header;
  return (SspidCheckWhere) { check->path, 0 };
}

static void
add_entry (SspidCheck *check, guint file, guint line, const char *group, const char *key)
{
  Entry e = { file, line, normalise_group (group), g_strdup (key) };

  g_array_append_val (check->entries, e);
}

/* Records where every section and key of @contents is, and reports lines
 * that GKeyFile would reject (it would stop at the first; every one is
 * reported here).  Returns the number of such lines. */
static guint
index_file (SspidCheck *check, guint file, const char *contents)
{
  g_auto (GStrv) lines = g_strsplit (contents, "\n", -1);
  g_autofree char *group = NULL;
  guint n_bad = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *p = g_strstrip (lines[i]);   /* GKeyFile ignores surrounding blanks too */
      SspidCheckWhere where = { check->files->pdata[file], i + 1 };
      char *end, *eq;

      if (*p == '\0' || *p == '#')
        continue;
      if (*p == '[')
        {
          end = strrchr (p, ']');
          if (end == NULL || end[1] != '\0' || end == p + 1)
            {
              add_message (check, SSPID_CHECK_ERROR, &where, NULL,
                           "not a valid [section] line: '%.60s'", p);
              n_bad++;
              continue;
            }
          g_free (group);
          group = g_strndup (p + 1, end - p - 1);
          add_entry (check, file, i + 1, group, NULL);
          continue;
        }
      eq = strchr (p, '=');
      if (eq == NULL || eq == p)
        {
          add_message (check, SSPID_CHECK_ERROR, &where, NULL,
                       "not a [section], a key=value or a # comment: '%.60s'", p);
          n_bad++;
          continue;
        }
      if (group == NULL)
        {
          add_message (check, SSPID_CHECK_ERROR, &where, NULL,
                       "'%.60s' comes before any [section]", p);
          n_bad++;
          continue;
        }
      *eq = '\0';
      add_entry (check, file, i + 1, group, g_strstrip (p));
    }
  return n_bad;
}

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The files the daemon reads for @path, in its order: @path, then the
 * *.conf files of the drop-in directory beside it, sspid.conf.d/, in name
 * order (sspid-config.c). */
static void
collect_files (SspidCheck *check)
{
  g_autofree char *dropin_dir = g_strconcat (check->path, ".d", NULL);
  g_autoptr (GDir) dir = g_dir_open (dropin_dir, 0, NULL);
  g_autoptr (GPtrArray) dropins = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (g_file_test (check->path, G_FILE_TEST_EXISTS))
    g_ptr_array_add (check->files, g_strdup (check->path));
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".conf"))
      g_ptr_array_add (dropins, g_build_filename (dropin_dir, name, NULL));
  g_ptr_array_sort (dropins, compare_paths);
  for (guint i = 0; i < dropins->len; i++)
    g_ptr_array_add (check->files, g_strdup (dropins->pdata[i]));
}

/* Indexes every file; returns the number of lines the key file syntax
 * rejects, and of files that cannot be read. */
static guint
index_files (SspidCheck *check)
{
  guint n_bad = 0;

  for (guint i = 0; i < check->files->len; i++)
    {
      const char *file = check->files->pdata[i];
      g_autofree char *contents = NULL;
      g_autoptr (GError) error = NULL;
      SspidCheckWhere where = { file, 0 };

      if (!g_file_get_contents (file, &contents, NULL, &error))
        {
          add_message (check, SSPID_CHECK_ERROR, &where, NULL, "%s",
                       error->message);
          n_bad++;
          continue;
        }
      n_bad += index_file (check, i, contents);
    }
  return n_bad;
}

/* ---- the daemon's parser ----------------------------------------------- */

/* The parser's messages start with the file they are about ("FILE: ...");
 * the report says it separately. */
static const char *
strip_origin (SspidCheck *check, const char *message, const char **file)
{
  *file = check->path;
  for (guint i = 0; i <= check->files->len; i++)
    {
      /* The files read, and the main file even if it does not exist: the
       * parser names it in errors about the merged configuration. */
      const char *f = i < check->files->len ? check->files->pdata[i] : check->path;
      gsize len = strlen (f);

      if (strncmp (message, f, len) == 0 && strncmp (message + len, ": ", 2) == 0)
        {
          *file = f;
          return message + len + 2;
        }
    }
  return message;
}

/* Where the parser's @message points: "[GROUP] KEY: ...", "[GROUP]:
 * unknown key 'KEY'", "unknown section [GROUP]", "credential 'NAME'
 * defined twice", or GKeyFile's "... line “TEXT” ...". */
static SspidCheckWhere
locate_message (SspidCheck *check, const char *message, const char *file)
{
  const char *open = strchr (message, '[');
  const char *close = open != NULL ? strchr (open, ']') : NULL;
  const char *quote = strstr (message, "\xe2\x80\x9c");   /* “ */
  const char *unquote = quote != NULL ? strstr (quote, "\xe2\x80\x9d") : NULL;  /* ” */
  const char *twice = strstr (message, "credential '");

  if (open != NULL && close != NULL)
    {
      g_autofree char *group = g_strndup (open + 1, close - open - 1);
      g_autofree char *key = NULL;
      const char *unknown = strstr (close, "unknown key '");

      if (unknown != NULL)
        key = g_strndup (unknown + strlen ("unknown key '"),
                         strcspn (unknown + strlen ("unknown key '"), "'"));
      else if (close[1] == ' ' && strchr (close + 2, ':') != NULL)
        key = g_strndup (close + 2, strcspn (close + 2, ":"));
      return locate (check, group, key);
    }
  if (twice != NULL && strstr (twice, "' defined twice") != NULL)
    {
      g_autofree char *name = g_strndup (twice + strlen ("credential '"),
                                         strcspn (twice + strlen ("credential '"), "'"));
      g_autofree char *group = g_strconcat (CREDENTIAL_PREFIX, name, NULL);
      return locate (check, group, NULL);
    }
  if (quote != NULL && unquote != NULL)
    {
      g_autofree char *text = g_strndup (quote + 3, unquote - quote - 3);
      g_autofree char *contents = NULL;

      if (g_file_get_contents (file, &contents, NULL, NULL))
        {
          g_auto (GStrv) lines = g_strsplit (contents, "\n", -1);
          for (guint i = 0; lines[i] != NULL; i++)
            if (g_str_equal (g_strstrip (lines[i]), g_strstrip (text)))
              return (SspidCheckWhere) { file, i + 1 };
        }
    }
  return (SspidCheckWhere) { file, 0 };
}

/* Names the credential a parser message is about ("[credential NAME] ..."),
 * for the JSON's "credential" member. */
static void
credential_of_message (Message *m)
{
  const char *open = strstr (m->text, "[" CREDENTIAL_PREFIX);
  const char *close = open != NULL ? strchr (open, ']') : NULL;

  if (close == NULL)
    return;
  open += 1 + strlen (CREDENTIAL_PREFIX);
  m->credential = g_strstrip (g_strndup (open, close - open));
}

/* Runs the daemon's parser.  Returns the config, or NULL with the error
 * reported where it is. */
static SspidConfig *
parse_config (SspidCheck *check)
{
  g_autoptr (GError) error = NULL;
  SspidConfig *config = sspid_config_load (check->path, &error);
  const char *file = NULL;
  const char *text;
  SspidCheckWhere where;

  if (config != NULL)
    return config;
  text = strip_origin (check, error->message, &file);
  where = locate_message (check, text, file);
  add_message (check, SSPID_CHECK_ERROR, &where, NULL, "%s", text);
  credential_of_message (check->messages->pdata[check->messages->len - 1]);
  return NULL;
}

/* ---- checking ---------------------------------------------------------- */

/* Why the credential store left a credential out. */
typedef struct {
  char *setting;          /* certificate, key, trust */
  char *message;
} Refusal;

static void
refusal_free (Refusal *r)
{
  g_free (r->setting);
  g_free (r->message);
  g_free (r);
}

static void
store_problem_cb (const char *credential, const char *setting, gboolean is_fatal,
                  const char *message, gpointer user_data)
{
  GHashTable *refusals = user_data;   /* credential name -> GPtrArray of Refusal */
  GPtrArray *list;
  Refusal *r;

  /* The default trust is checked on its own; what the store loads
   * nonetheless (an expired certificate, an empty bundle) the close
   * checks judge. */
  if (credential == NULL || !is_fatal)
    return;
  list = g_hash_table_lookup (refusals, credential);
  if (list == NULL)
    {
      list = g_ptr_array_new_with_free_func ((GDestroyNotify) refusal_free);
      g_hash_table_insert (refusals, g_strdup (credential), list);
    }
  r = g_new0 (Refusal, 1);
  r->setting = g_strdup (setting);
  r->message = g_strdup (message);
  g_ptr_array_add (list, r);
}

/* Loads every credential with the daemon's credential store, as a daemon
 * running as the daemon's user would, and reports why it leaves out a
 * credential in which the close checks found no error. */
static void
check_with_store (SspidCheck *check, const SspidConfig *config)
{
  g_autoptr (GHashTable) refusals = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                           (GDestroyNotify) g_ptr_array_unref);
  /* As sspid_check_credential() judges keys: no such user, only root. */
  uid_t daemon_uid = check->daemon_user.exists ? check->daemon_user.uid : 0;
  g_autoptr (SspidCredentialStore) store = NULL;

  store = sspid_credential_store_load (config, daemon_uid, store_problem_cb, refusals);
  for (guint i = 0; i < check->reports->len; i++)
    {
      SspidCheckCredential *report = check->reports->pdata[i];
      GPtrArray *list = g_hash_table_lookup (refusals, report->name);
      g_autofree char *group = g_strconcat (CREDENTIAL_PREFIX, report->name, NULL);

      if (list == NULL || report->n_errors > 0)
        continue;
      for (guint j = 0; j < list->len; j++)
        {
          const Refusal *r = list->pdata[j];
          SspidCheckWhere at = locate (check, group, r->setting);

          add_message (check, SSPID_CHECK_ERROR, &at, report, "%s", r->message);
        }
    }
}

static GPtrArray *
findings_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) sspid_check_finding_free);
}

static void
check_default_trust (SspidCheck *check, const char *trust)
{
  g_autoptr (GPtrArray) findings = findings_new ();
  SspidCheckWhere at = locate (check, "daemon", "default-trust");

  sspid_check_trust (trust, findings);
  for (guint i = 0; i < findings->len; i++)
    {
      const SspidCheckFinding *f = findings->pdata[i];

      add_message (check, f->severity, &at, NULL, "%s", f->text);
    }
}

/* The close checks of one credential, each finding put at its line. */
static void
check_credential (SspidCheck *check, const SspidCredentialConfig *cred,
                  SspidCheckCredential *report)
{
  g_autoptr (GPtrArray) findings = findings_new ();
  g_autofree char *group = g_strconcat (CREDENTIAL_PREFIX, cred->name, NULL);

  sspid_check_credential (cred, &check->daemon_user, report, findings);
  for (guint i = 0; i < findings->len; i++)
    {
      const SspidCheckFinding *f = findings->pdata[i];
      SspidCheckWhere at = locate (check, group, f->setting);

      add_message (check, f->severity, &at, report, "%s", f->text);
    }
}

static void
check_config (SspidCheck *check, gboolean is_default_path)
{
  g_autoptr (SspidConfig) config = NULL;
  SspidCheckWhere nowhere = { check->path, 0 };

  if (!check->daemon_user.exists)
    add_message (check, SSPID_CHECK_WARNING, NULL, NULL,
                 "the daemon's user '%s' does not exist on this machine "
                 "(systemd-sysusers creates it from sysusers.d/sspid.conf); "
                 "key owners are checked against root only", check->daemon_user.name);

  collect_files (check);
  if (!g_file_test (check->path, G_FILE_TEST_EXISTS))
    add_message (check, is_default_path ? SSPID_CHECK_WARNING
                                        : SSPID_CHECK_ERROR,
                 &nowhere, NULL, "no such file: sspid would run with the defaults%s",
                 check->files->len > 0 ? " and the drop-ins" : "");

  /* Lines that are no key file syntax: the daemon's parser would stop at
   * the first; they are all reported, with their lines, instead. */
  if (index_files (check) > 0)
    return;
  config = parse_config (check);
  if (config == NULL)
    return;
  check->is_loadable = TRUE;

  check_default_trust (check, config->default_trust);
  for (guint i = 0; i < config->credentials->len; i++)
    {
      const SspidCredentialConfig *cred = config->credentials->pdata[i];
      SspidCheckCredential *report = g_new0 (SspidCheckCredential, 1);
      g_autofree char *group = g_strconcat (CREDENTIAL_PREFIX, cred->name, NULL);

      report->name = g_strdup (cred->name);
      report->where = locate (check, group, NULL);
      g_ptr_array_add (check->reports, report);
      check_credential (check, cred, report);
    }
  check_with_store (check, config);
}

/* ---- output ------------------------------------------------------------ */

static const char *
severity_name (SspidCheckSeverity severity)
{
  return severity == SSPID_CHECK_ERROR ? "error" : "warning";
}

static void
print_where (const SspidCheckWhere *where)
{
  if (where->file != NULL && where->line > 0)
    g_print ("%s:%u: ", where->file, where->line);
  else if (where->file != NULL)
    g_print ("%s: ", where->file);
}

static void
print_text (SspidCheck *check)
{
  for (guint i = 0; i < check->messages->len; i++)
    {
      const Message *m = check->messages->pdata[i];

      print_where (&m->where);
      g_print ("%s: ", severity_name (m->severity));
      if (m->credential != NULL)
        g_print ("credential '%s': ", m->credential);
      g_print ("%s\n", m->text);
    }
  for (guint i = 0; i < check->reports->len; i++)
    {
      const SspidCheckCredential *r = check->reports->pdata[i];
      g_autoptr (GDateTime) until = r->not_after > 0 ? g_date_time_new_from_unix_utc (r->not_after)
                                                     : NULL;
      g_autofree char *date = until ? g_date_time_format (until, "%Y-%m-%d") : g_strdup ("?");

      g_autofree char *verdict = NULL;

      if (r->n_errors > 0)
        verdict = g_strdup_printf ("%u error%s", r->n_errors, r->n_errors == 1 ? "" : "s");
      else if (r->n_warnings > 0)
        verdict = g_strdup_printf ("ok, %u warning%s", r->n_warnings,
                                   r->n_warnings == 1 ? "" : "s");
      else
        verdict = g_strdup ("ok");
      print_where (&r->where);
      if (r->subject != NULL)
        g_print ("credential '%s': %s (%s; %s; valid until %s)\n", r->name, verdict,
                 r->usage, r->subject, date);
      else
        g_print ("credential '%s': %s (%s; no certificate)\n", r->name, verdict, r->usage);
    }
  g_print ("%s: %u file%s, %u credential%s: %u error%s, %u warning%s%s\n", check->path,
           check->files->len, check->files->len == 1 ? "" : "s",
           check->reports->len, check->reports->len == 1 ? "" : "s",
           check->n_errors, check->n_errors == 1 ? "" : "s",
           check->n_warnings, check->n_warnings == 1 ? "" : "s",
           check->is_loadable ? "" : "; sspid would refuse to start with it");
}

static void
json_where (SspidJson *j, const SspidCheckWhere *where)
{
  sspid_json_member_string (j, "file", where->file);
  if (where->line > 0)
    sspid_json_member_int (j, "line", where->line);
  else
    {
      sspid_json_key (j, "line");
      sspid_json_null (j);
    }
}

static void
json_report (SspidJson *j, const SspidCheckCredential *r)
{
  sspid_json_begin_object (j);
  sspid_json_member_string (j, "name", r->name);
  json_where (j, &r->where);
  sspid_json_member_string (j, "usage", r->usage);
  sspid_json_member_string (j, "certificate", r->certificate);
  sspid_json_member_string (j, "key", r->key);
  sspid_json_member_string (j, "key-storage", r->is_pkcs11 ? "pkcs11" : "file");
  sspid_json_member_string (j, "subject", r->subject);
  sspid_json_member_string (j, "issuer", r->issuer);
  sspid_json_member_int (j, "not-before", r->not_before);
  sspid_json_member_int (j, "not-after", r->not_after);
  sspid_json_member_int (j, "errors", r->n_errors);
  sspid_json_member_int (j, "warnings", r->n_warnings);
  sspid_json_end_object (j);
}

static void
print_json (SspidCheck *check)
{
  SspidJson *j = sspid_json_new ();
  g_autofree char *text = NULL;

  sspid_json_begin_object (j);
  sspid_json_member_string (j, "file", check->path);
  sspid_json_key (j, "files");
  sspid_json_begin_array (j);
  for (guint i = 0; i < check->files->len; i++)
    sspid_json_string (j, check->files->pdata[i]);
  sspid_json_end_array (j);
  sspid_json_member_bool (j, "loadable", check->is_loadable);
  sspid_json_member_bool (j, "ok", check->n_errors == 0);
  sspid_json_member_int (j, "errors", check->n_errors);
  sspid_json_member_int (j, "warnings", check->n_warnings);
  sspid_json_key (j, "credentials");
  sspid_json_begin_array (j);
  for (guint i = 0; i < check->reports->len; i++)
    json_report (j, check->reports->pdata[i]);
  sspid_json_end_array (j);
  sspid_json_key (j, "messages");
  sspid_json_begin_array (j);
  for (guint i = 0; i < check->messages->len; i++)
    {
      const Message *m = check->messages->pdata[i];

      sspid_json_begin_object (j);
      sspid_json_member_string (j, "severity", severity_name (m->severity));
      json_where (j, &m->where);
      sspid_json_member_string (j, "credential", m->credential);
      sspid_json_member_string (j, "message", m->text);
      sspid_json_end_object (j);
    }
  sspid_json_end_array (j);
  sspid_json_end_object (j);
  text = sspid_json_finish (j);
  fputs (text, stdout);
}

/* ---- the entry point ---------------------------------------------------- */

int
sspid_check_config (const char *path, gboolean is_default_path, const char *daemon_user,
                    gboolean json)
{
  g_autoptr (SspidCheck) check = check_new (path, daemon_user);

  check_config (check, is_default_path);
  if (json)
    print_json (check);
  else
    print_text (check);
  return check->n_errors > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
