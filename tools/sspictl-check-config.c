/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `sspictl check-config [FILE]`: validates an sspid configuration without
 * a daemon, so an administrator learns before a restart (or a SIGHUP)
 * what sspid would refuse and why.
 *
 * The syntax and every value are checked by the daemon's own parser
 * (daemon/sspid-config.c, linked in), so check-config and sspid cannot
 * disagree on what is valid.  That parser stops at the first error and
 * knows files, sections and keys but not lines, so this file also indexes
 * every file it reads (the main file, then the *.conf files of sspid.conf.d as the
 * daemon reads them) to put a line number on each message, and catches
 * lines that are no key file syntax at all, all of them, with their line.
 * Each credential is then checked as the daemon would load it
 * (sspictl-check-credential.c).
 *
 * Messages read like a compiler's: FILE:LINE: error: credential 'NAME': ...
 */
#include "config.h"

#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sspictl.h"
#include "sspictl-check.h"
#include "sspictl-json.h"

#define CREDENTIAL_PREFIX "credential "

typedef struct {
  guint file;      /* index into files */
  guint line;
  char *group;     /* normalised, see normalise_group() */
  char *key;       /* NULL for the [group] line itself */
} Entry;

typedef struct {
  SspictlSeverity severity;
  SspictlWhere    where;        /* file borrowed from the check */
  char           *credential;   /* NULL: not about one */
  char           *text;
} Message;

struct _SspictlCheck {
  const char *path;
  GPtrArray  *files;            /* char *, in the order the daemon reads them */
  GArray     *entries;          /* Entry */
  GPtrArray  *messages;         /* Message * */
  GPtrArray  *reports;          /* SspictlCredentialReport * */
  guint       n_errors;
  guint       n_warnings;
  gboolean    is_loadable;      /* the daemon's parser accepts it */
  const char *daemon_user;
  uid_t       daemon_uid;
  gboolean    has_daemon_uid;
};

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
report_free (SspictlCredentialReport *r)
{
  g_free (r->name);
  g_free (r->certificate);
  g_free (r->key);
  g_free (r->subject);
  g_free (r->issuer);
  g_free (r);
}

static SspictlCheck *
check_new (const char *path, const char *daemon_user)
{
  SspictlCheck *check = g_new0 (SspictlCheck, 1);
  struct passwd pw, *res = NULL;
  char buf[4096];

  check->path = path;
  check->files = g_ptr_array_new_with_free_func (g_free);
  check->entries = g_array_new (FALSE, TRUE, sizeof (Entry));
  g_array_set_clear_func (check->entries, (GDestroyNotify) entry_clear);
  check->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) message_free);
  check->reports = g_ptr_array_new_with_free_func ((GDestroyNotify) report_free);
  check->daemon_user = daemon_user;
  if (getpwnam_r (daemon_user, &pw, buf, sizeof buf, &res) == 0 && res != NULL)
    {
      check->daemon_uid = pw.pw_uid;
      check->has_daemon_uid = TRUE;
    }
  return check;
}

static void
check_free (SspictlCheck *check)
{
  g_ptr_array_unref (check->files);
  g_array_unref (check->entries);
  g_ptr_array_unref (check->messages);
  g_ptr_array_unref (check->reports);
  g_free (check);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SspictlCheck, check_free)

gboolean
sspictl_check_get_daemon_user (SspictlCheck *check, uid_t *uid, const char **name)
{
  *uid = check->daemon_uid;
  *name = check->daemon_user;
  return check->has_daemon_uid;
}

void
sspictl_check_report (SspictlCheck *check, SspictlSeverity severity, const SspictlWhere *where,
                      SspictlCredentialReport *credential, const char *format, ...)
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
      if (severity == SSPICTL_SEVERITY_ERROR)
        credential->n_errors++;
      else
        credential->n_warnings++;
    }
  if (severity == SSPICTL_SEVERITY_ERROR)
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

SspictlWhere
sspictl_check_locate (SspictlCheck *check, const char *group, const char *key)
{
  g_autofree char *wanted = normalise_group (group);
  SspictlWhere header = { NULL, 0 }, found = { NULL, 0 };

  for (guint i = 0; i < check->entries->len; i++)
    {
      const Entry *e = &g_array_index (check->entries, Entry, i);

      if (!g_str_equal (e->group, wanted))
        continue;
      if (e->key == NULL && header.file == NULL)
        header = (SspictlWhere) { check->files->pdata[e->file], e->line };
      /* Later files override earlier ones: the last assignment counts. */
      if (key != NULL && e->key != NULL && g_str_equal (e->key, key))
        found = (SspictlWhere) { check->files->pdata[e->file], e->line };
    }
  if (found.file != NULL)
    return found;
  if (header.file != NULL)
    return header;
  return (SspictlWhere) { check->path, 0 };
}

static void
add_entry (SspictlCheck *check, guint file, guint line, const char *group, const char *key)
{
  Entry e = { file, line, normalise_group (group), g_strdup (key) };

  g_array_append_val (check->entries, e);
}

/* Records where every section and key of @contents is, and reports lines
 * that GKeyFile would reject (it would stop at the first; every one is
 * reported here).  Returns the number of such lines. */
static guint
index_file (SspictlCheck *check, guint file, const char *contents)
{
  g_auto (GStrv) lines = g_strsplit (contents, "\n", -1);
  g_autofree char *group = NULL;
  guint n_bad = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *p = g_strstrip (lines[i]);   /* GKeyFile ignores surrounding blanks too */
      SspictlWhere where = { check->files->pdata[file], i + 1 };
      char *end, *eq;

      if (*p == '\0' || *p == '#')
        continue;
      if (*p == '[')
        {
          end = strrchr (p, ']');
          if (end == NULL || end[1] != '\0' || end == p + 1)
            {
              sspictl_check_report (check, SSPICTL_SEVERITY_ERROR, &where, NULL,
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
          sspictl_check_report (check, SSPICTL_SEVERITY_ERROR, &where, NULL,
                                "not a [section], a key=value or a # comment: '%.60s'", p);
          n_bad++;
          continue;
        }
      if (group == NULL)
        {
          sspictl_check_report (check, SSPICTL_SEVERITY_ERROR, &where, NULL,
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
collect_files (SspictlCheck *check)
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
index_files (SspictlCheck *check)
{
  guint n_bad = 0;

  for (guint i = 0; i < check->files->len; i++)
    {
      const char *file = check->files->pdata[i];
      g_autofree char *contents = NULL;
      g_autoptr (GError) error = NULL;
      SspictlWhere where = { file, 0 };

      if (!g_file_get_contents (file, &contents, NULL, &error))
        {
          sspictl_check_report (check, SSPICTL_SEVERITY_ERROR, &where, NULL, "%s",
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
strip_origin (SspictlCheck *check, const char *message, const char **file)
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
static SspictlWhere
locate_message (SspictlCheck *check, const char *message, const char *file)
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
      return sspictl_check_locate (check, group, key);
    }
  if (twice != NULL && strstr (twice, "' defined twice") != NULL)
    {
      g_autofree char *name = g_strndup (twice + strlen ("credential '"),
                                         strcspn (twice + strlen ("credential '"), "'"));
      g_autofree char *group = g_strconcat (CREDENTIAL_PREFIX, name, NULL);
      return sspictl_check_locate (check, group, NULL);
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
              return (SspictlWhere) { file, i + 1 };
        }
    }
  return (SspictlWhere) { file, 0 };
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
parse_config (SspictlCheck *check)
{
  g_autoptr (GError) error = NULL;
  SspidConfig *config = sspid_config_load (check->path, &error);
  const char *file = NULL;
  const char *text;
  SspictlWhere where;

  if (config != NULL)
    return config;
  text = strip_origin (check, error->message, &file);
  where = locate_message (check, text, file);
  sspictl_check_report (check, SSPICTL_SEVERITY_ERROR, &where, NULL, "%s", text);
  credential_of_message (check->messages->pdata[check->messages->len - 1]);
  return NULL;
}

/* ---- checking ---------------------------------------------------------- */

static void
check_config (SspictlCheck *check, gboolean is_default_path)
{
  g_autoptr (SspidConfig) config = NULL;
  SspictlWhere nowhere = { check->path, 0 };

  if (!check->has_daemon_uid)
    sspictl_check_report (check, SSPICTL_SEVERITY_WARNING, NULL, NULL,
                          "the daemon's user '%s' does not exist on this machine "
                          "(systemd-sysusers creates it from sysusers.d/sspid.conf); "
                          "key owners are checked against root only", check->daemon_user);

  collect_files (check);
  if (!g_file_test (check->path, G_FILE_TEST_EXISTS))
    sspictl_check_report (check, is_default_path ? SSPICTL_SEVERITY_WARNING
                                                 : SSPICTL_SEVERITY_ERROR,
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

  {
    SspictlWhere at = sspictl_check_locate (check, "daemon", "default-trust");
    sspictl_check_trust (check, config->default_trust, &at, NULL);
  }
  for (guint i = 0; i < config->credentials->len; i++)
    {
      const SspidCredentialConfig *cred = config->credentials->pdata[i];
      SspictlCredentialReport *report = g_new0 (SspictlCredentialReport, 1);
      g_autofree char *group = g_strconcat (CREDENTIAL_PREFIX, cred->name, NULL);

      report->name = g_strdup (cred->name);
      report->where = sspictl_check_locate (check, group, NULL);
      g_ptr_array_add (check->reports, report);
      sspictl_check_credential (check, cred, group, report);
    }
}

/* ---- output ------------------------------------------------------------ */

static const char *
severity_name (SspictlSeverity severity)
{
  return severity == SSPICTL_SEVERITY_ERROR ? "error" : "warning";
}

static void
print_where (const SspictlWhere *where)
{
  if (where->file != NULL && where->line > 0)
    g_print ("%s:%u: ", where->file, where->line);
  else if (where->file != NULL)
    g_print ("%s: ", where->file);
}

static void
print_text (SspictlCheck *check)
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
      const SspictlCredentialReport *r = check->reports->pdata[i];
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
json_where (SspictlJson *j, const SspictlWhere *where)
{
  sspictl_json_member_string (j, "file", where->file);
  if (where->line > 0)
    sspictl_json_member_int (j, "line", where->line);
  else
    {
      sspictl_json_key (j, "line");
      sspictl_json_null (j);
    }
}

static void
json_report (SspictlJson *j, const SspictlCredentialReport *r)
{
  sspictl_json_begin_object (j);
  sspictl_json_member_string (j, "name", r->name);
  json_where (j, &r->where);
  sspictl_json_member_string (j, "usage", r->usage);
  sspictl_json_member_string (j, "certificate", r->certificate);
  sspictl_json_member_string (j, "key", r->key);
  sspictl_json_member_string (j, "key-storage", r->is_pkcs11 ? "pkcs11" : "file");
  sspictl_json_member_string (j, "subject", r->subject);
  sspictl_json_member_string (j, "issuer", r->issuer);
  sspictl_json_member_int (j, "not-before", r->not_before);
  sspictl_json_member_int (j, "not-after", r->not_after);
  sspictl_json_member_int (j, "errors", r->n_errors);
  sspictl_json_member_int (j, "warnings", r->n_warnings);
  sspictl_json_end_object (j);
}

static void
print_json (SspictlCheck *check)
{
  SspictlJson *j = sspictl_json_new ();
  g_autofree char *text = NULL;

  sspictl_json_begin_object (j);
  sspictl_json_member_string (j, "file", check->path);
  sspictl_json_key (j, "files");
  sspictl_json_begin_array (j);
  for (guint i = 0; i < check->files->len; i++)
    sspictl_json_string (j, check->files->pdata[i]);
  sspictl_json_end_array (j);
  sspictl_json_member_bool (j, "loadable", check->is_loadable);
  sspictl_json_member_bool (j, "ok", check->n_errors == 0);
  sspictl_json_member_int (j, "errors", check->n_errors);
  sspictl_json_member_int (j, "warnings", check->n_warnings);
  sspictl_json_key (j, "credentials");
  sspictl_json_begin_array (j);
  for (guint i = 0; i < check->reports->len; i++)
    json_report (j, check->reports->pdata[i]);
  sspictl_json_end_array (j);
  sspictl_json_key (j, "messages");
  sspictl_json_begin_array (j);
  for (guint i = 0; i < check->messages->len; i++)
    {
      const Message *m = check->messages->pdata[i];

      sspictl_json_begin_object (j);
      sspictl_json_member_string (j, "severity", severity_name (m->severity));
      json_where (j, &m->where);
      sspictl_json_member_string (j, "credential", m->credential);
      sspictl_json_member_string (j, "message", m->text);
      sspictl_json_end_object (j);
    }
  sspictl_json_end_array (j);
  sspictl_json_end_object (j);
  text = sspictl_json_finish (j);
  fputs (text, stdout);
}

/* ---- the verb ---------------------------------------------------------- */

int
sspictl_check_config (int argc, char **argv)
{
  gboolean json = FALSE;
  g_autofree char *daemon_user = NULL;
  const GOptionEntry entries[] = {
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print one JSON document instead of text", NULL },
    { "daemon-user", 'u', 0, G_OPTION_ARG_STRING, &daemon_user,
      "Check key ownership against USER (default: " SSPID_DAEMON_USER ")", "USER" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("[FILE]");
  g_autoptr (GError) error = NULL;
  g_autoptr (SspictlCheck) check = NULL;
  const char *path;

  g_option_context_set_summary (context,
      "Check an sspid configuration without starting the daemon.\n"
      "FILE defaults to " SYSCONFDIR "/sspid/sspid.conf; its drop-ins (FILE.d/*.conf)\n"
      "are read too, as sspid reads them.");
  g_option_context_set_description (context,
      "Checks: syntax and every value (with sspid's own parser), users and groups\n"
      "exist, certificate and key files exist, key permissions (mode 600, owned by\n"
      "the daemon's user: sspid refuses other keys), key matches certificate,\n"
      "certificates not expired (error) nor expiring within 30 days (warning),\n"
      "trust bundles load, and someone may use each credential.  Every message\n"
      "names the file, line and credential at fault.  Run it as root, or as the\n"
      "daemon's user, so the keys can be read.\n\n"
      "Exit status: 0 no errors (warnings allowed), 1 usage error, 4 errors found.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("sspictl check-config: %s\n", error->message);
      return SSPICTL_EXIT_USAGE;
    }
  if (argc > 2)
    {
      g_printerr ("sspictl check-config: expected at most one FILE\n");
      return SSPICTL_EXIT_USAGE;
    }
  path = argc == 2 ? argv[1] : SYSCONFDIR "/sspid/sspid.conf";

  check = check_new (path, daemon_user != NULL ? daemon_user : SSPID_DAEMON_USER);
  check_config (check, argc < 2);
  if (json)
    print_json (check);
  else
    print_text (check);
  return check->n_errors > 0 ? SSPICTL_EXIT_CONFIG : SSPICTL_EXIT_OK;
}
