/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `sspictl status`, `sspictl credentials`, `sspictl contexts`: what the
 * running daemon says about itself, through its read-only introspection
 * methods (GetStatus, ListCredentials, ListContexts of
 * proto/org.sspid1.xml).  These are not part of the SSPI API, so they are
 * plain D-Bus calls on a private connection of sspictl's own (never
 * libsspi's); everything else sspictl does goes through libsspi.
 *
 * The daemon decides what the caller may see (its own credentials and
 * contexts; everyone's contexts for root), so nothing here filters.
 */
#include "config.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <gio/gio.h>

#include "sspid-bus.h"
#include "sspid-proto.h"
#include "sspictl.h"
#include "sspid-json.h"
#include "sspictl-table.h"

/* Allows for D-Bus activation of the daemon by the call. */
#define CALL_TIMEOUT_MS 30000
/* A credential expiring within this many days is flagged. */
#define EXPIRY_WARNING_DAYS 30

/* ---- the bus ----------------------------------------------------------- */

/* Where sspid is: libsspi's rule (sspid-bus.h).  A private connection,
 * so that nothing else in the process shares it.  Returns NULL with a
 * message printed and *exit_code set. */
static GDBusConnection *
bus_connect (const char **label, int *exit_code)
{
  gboolean is_from_env = FALSE;
  g_autoptr (GError) error = NULL;
  g_autofree char *address = sspid_bus_dup_address (&is_from_env, &error);
  GDBusConnection *connection = NULL;

  /* The variable's value outlives the call: the environment keeps it. */
  *label = is_from_env ? g_getenv (SSPID_BUS_ADDRESS_ENV) : "system";
  if (address != NULL)
    connection = g_dbus_connection_new_for_address_sync (
        address,
        G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
        G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
        NULL, NULL, &error);
  if (connection == NULL)
    {
      g_printerr ("sspictl: cannot connect to the %s bus%s: %s\n",
                  is_from_env ? "$SSPID_BUS_ADDRESS" : "system",
                  is_from_env ? "" : " (is D-Bus running?)", error->message);
      *exit_code = SSPICTL_EXIT_UNREACHABLE;
      return NULL;
    }
  return connection;
}

/* Errors that mean "no daemon to talk to", as opposed to "the daemon (or
 * the bus policy) said no". */
static gboolean
is_unreachable (const GError *error)
{
  static const GDBusError unreachable[] = {
    G_DBUS_ERROR_SERVICE_UNKNOWN, G_DBUS_ERROR_NAME_HAS_NO_OWNER,
    G_DBUS_ERROR_NO_REPLY, G_DBUS_ERROR_TIMEOUT, G_DBUS_ERROR_TIMED_OUT,
    G_DBUS_ERROR_DISCONNECTED, G_DBUS_ERROR_NO_SERVER,
    G_DBUS_ERROR_SPAWN_EXEC_FAILED, G_DBUS_ERROR_SPAWN_FORK_FAILED,
    G_DBUS_ERROR_SPAWN_CHILD_EXITED, G_DBUS_ERROR_SPAWN_CHILD_SIGNALED,
    G_DBUS_ERROR_SPAWN_FAILED, G_DBUS_ERROR_SPAWN_SETUP_FAILED,
    G_DBUS_ERROR_SPAWN_CONFIG_INVALID, G_DBUS_ERROR_SPAWN_SERVICE_INVALID,
    G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND, G_DBUS_ERROR_SPAWN_PERMISSIONS_INVALID,
    G_DBUS_ERROR_SPAWN_FILE_INVALID, G_DBUS_ERROR_SPAWN_NO_MEMORY,
  };

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return TRUE;
  for (gsize i = 0; i < G_N_ELEMENTS (unreachable); i++)
    if (g_error_matches (error, G_DBUS_ERROR, unreachable[i]))
      return TRUE;
  return FALSE;
}

/* Calls @method (no arguments) on sspid.  Returns the reply, or NULL with
 * a message printed and *exit_code set. */
static GVariant *
call_daemon (const char *method, const char *reply_type, const char **bus_label,
             int *exit_code)
{
  g_autoptr (GDBusConnection) connection = bus_connect (bus_label, exit_code);
  g_autoptr (GError) error = NULL;
  g_autofree char *remote = NULL;
  GVariant *reply;

  if (connection == NULL)
    return NULL;
  reply = g_dbus_connection_call_sync (connection, SSPID_BUS_NAME, SSPID_OBJECT_PATH,
                                       SSPID_INTERFACE, method, NULL,
                                       G_VARIANT_TYPE (reply_type),
                                       G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS,
                                       NULL, &error);
  g_dbus_connection_close_sync (connection, NULL, NULL);
  if (reply != NULL)
    return reply;

  remote = g_dbus_error_get_remote_error (error);
  g_dbus_error_strip_remote_error (error);
  if (is_unreachable (error))
    {
      g_printerr ("sspictl: cannot reach sspid (%s) on the %s bus: %s\n", SSPID_BUS_NAME,
                  *bus_label, error->message);
      g_printerr ("sspictl: is sspid installed, and may it be started (journalctl -u sspid)?\n");
      *exit_code = SSPICTL_EXIT_UNREACHABLE;
    }
  else
    {
      g_printerr ("sspictl: sspid refused %s: %s%s%s%s\n", method, error->message,
                  remote ? " (" : "", remote ? remote : "", remote ? ")" : "");
      *exit_code = SSPICTL_EXIT_FAILED;
    }
  return NULL;
}

/* ---- options ----------------------------------------------------------- */

/* The options of the introspection verbs: --json only.  Returns FALSE on a
 * usage error (printed). */
static gboolean
parse_json_option (int argc, char **argv, const char *summary, const char *description,
                   gboolean *json)
{
  const GOptionEntry entries[] = {
    { "json", 'j', 0, G_OPTION_ARG_NONE, json, "Print one JSON document instead of text", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *full = g_strconcat (description, "\n\n", SSPICTL_HELP_BUS, "\n",
                                       SSPICTL_HELP_EXIT_CODES, NULL);

  g_option_context_set_summary (context, summary);
  g_option_context_set_description (context, full);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s: %s\n", g_get_prgname (), error->message);
      return FALSE;
    }
  if (argc > 1)
    {
      g_printerr ("%s: unexpected argument '%s'\n", g_get_prgname (), argv[1]);
      return FALSE;
    }
  return TRUE;
}

static void
print_json_and_free (SspidJson *json)
{
  g_autofree char *text = sspid_json_finish (json);

  fputs (text, stdout);
}

/* ---- the verbs' common part -------------------------------------------- */

/* An introspection verb: one method without arguments, whose reply holds
 * one value, printed as text or JSON.  All three verbs parse, call and
 * fail the same way (same options, same exit codes); only the method and
 * the printing differ. */
typedef struct {
  const char *summary;       /* --help */
  const char *description;   /* --help, before the bus and exit code text */
  const char *method;
  const char *reply_type;    /* "(T)": one value of type T */
  void (*print) (GVariant *value, const char *bus_label, gboolean json);
} IntrospectionVerb;

static int
run_introspection_verb (const IntrospectionVerb *verb, int argc, char **argv)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) value = NULL;
  const char *bus_label = NULL;
  gboolean json = FALSE;
  int exit_code = SSPICTL_EXIT_OK;

  if (!parse_json_option (argc, argv, verb->summary, verb->description, &json))
    return SSPICTL_EXIT_USAGE;
  reply = call_daemon (verb->method, verb->reply_type, &bus_label, &exit_code);
  if (reply == NULL)
    return exit_code;
  value = g_variant_get_child_value (reply, 0);
  verb->print (value, bus_label, json);
  return SSPICTL_EXIT_OK;
}

/* Every member of the a{sv} @dict, as members of the open JSON object:
 * the daemon's own names and values, so new ones show up unchanged. */
static void
json_members_of_dict (SspidJson *j, GVariant *dict)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      sspid_json_key (j, key);
      sspid_json_variant (j, value);
      g_variant_unref (value);
    }
}

/* A table of @list (aa{sv}), a row each by @add_row, or @empty_message if
 * the list is empty. */
static void
print_list_table (GVariant *list, const char *const *headers, const char *empty_message,
                  void (*add_row) (SspictlTable *table, GVariant *item, gpointer data),
                  gpointer data)
{
  g_autoptr (SspictlTable) table = NULL;

  if (g_variant_n_children (list) == 0)
    {
      g_print ("%s\n", empty_message);
      return;
    }
  table = sspictl_table_new (headers, TRUE);
  for (gsize i = 0; i < g_variant_n_children (list); i++)
    {
      g_autoptr (GVariant) item = g_variant_get_child_value (list, i);
      add_row (table, item, data);
    }
  sspictl_table_print (table, stdout);
}

/* ---- a{sv} lookups with defaults ---------------------------------------- */

static const char *
dict_string (GVariant *dict, const char *key)
{
  const char *value = NULL;

  if (!g_variant_lookup (dict, key, "&s", &value))
    return NULL;
  return value;
}

static guint64
dict_uint (GVariant *dict, const char *key)
{
  g_autoptr (GVariant) value = g_variant_lookup_value (dict, key, NULL);

  if (value == NULL)
    return 0;
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    return g_variant_get_uint32 (value);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
    return g_variant_get_uint64 (value);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT64))
    return (guint64) MAX (g_variant_get_int64 (value), 0);
  return 0;
}

static gint64
dict_int64 (GVariant *dict, const char *key)
{
  gint64 value = 0;

  g_variant_lookup (dict, key, "x", &value);
  return value;
}

static char *
dict_count (GVariant *dict, const char *key)
{
  g_autoptr (GVariant) value = g_variant_lookup_value (dict, key, NULL);

  if (value == NULL)
    return g_strdup ("unknown");
  return g_strdup_printf ("%" G_GUINT64_FORMAT, dict_uint (dict, key));
}

/* ---- status ------------------------------------------------------------ */

static void
print_status (GVariant *status, const char *bus_label, gboolean json)
{
  g_autoptr (SspictlTable) table = NULL;
  const char *const fields[] = { "field", "value", NULL };

  if (json)
    {
      SspidJson *j = sspid_json_new ();

      sspid_json_begin_object (j);
      sspid_json_member_string (j, "bus", bus_label);
      json_members_of_dict (j, status);
      sspid_json_end_object (j);
      print_json_and_free (j);
      return;
    }

  {
    g_autofree char *version = g_strdup_printf ("sspid %s", dict_string (status, "version")
                                                            ? dict_string (status, "version") : "?");
    g_autofree char *instance = g_strdup_printf ("%016" G_GINT64_MODIFIER "x",
                                                 dict_uint (status, "instance"));
    g_autofree char *uptime = sspictl_format_duration (dict_uint (status, "uptime-sec"));
    g_autofree char *clients = dict_count (status, "clients");
    g_autofree char *contexts = dict_count (status, "contexts");
    g_autofree char *credentials = dict_count (status, "credentials");
    g_autofree char *pending = dict_count (status, "pending");
    g_autofree char *configured = dict_count (status, "configured-credentials");

    table = sspictl_table_new (fields, FALSE);
    sspictl_table_add_row (table, "daemon:", version);
    sspictl_table_add_row (table, "GnuTLS:", dict_string (status, "gnutls-version"));
    sspictl_table_add_row (table, "bus:", bus_label);
    sspictl_table_add_row (table, "instance:", instance);
    sspictl_table_add_row (table, "uptime:", uptime);
    sspictl_table_add_row (table, "bus clients:", clients);
    sspictl_table_add_row (table, "security contexts:", contexts);
    sspictl_table_add_row (table, "credential handles:", credentials);
    sspictl_table_add_row (table, "pending operations:", pending);
    sspictl_table_add_row (table, "configured credentials:", configured);
    sspictl_table_print (table, stdout);
  }
}

int
sspictl_status (int argc, char **argv)
{
  static const IntrospectionVerb verb = {
    "Show the running sspid: versions, uptime and load.",
    "Fields: daemon and GnuTLS versions, the bus, the instance (it\n"
    "changes when sspid restarts, and every handle dies with it),\n"
    "uptime, bus clients, security contexts, credential handles,\n"
    "operations queued or running, credentials loaded from the\n"
    "configuration.  Counts are daemon-wide.  Calling this starts\n"
    "sspid by D-Bus activation if it is not running.",
    "GetStatus", "(a{sv})", print_status
  };

  return run_introspection_verb (&verb, argc, argv);
}

/* ---- credentials ------------------------------------------------------- */

/* "2027-01-01", with "(expired)" or "(N days left)" when it matters. */
static char *
format_not_after (gint64 not_after, gint64 now)
{
  g_autofree char *date = sspictl_format_date (not_after);
  gint64 days;

  if (not_after == 0)
    return g_steal_pointer (&date);
  if (not_after <= now)
    return g_strdup_printf ("%s (expired)", date);
  days = (not_after - now) / 86400;
  if (days < EXPIRY_WARNING_DAYS)
    return g_strdup_printf ("%s (%" G_GINT64_FORMAT " days left)", date, days);
  return g_steal_pointer (&date);
}

/* @data: the time now, a gint64 *. */
static void
add_credential_row (SspictlTable *table, GVariant *cred, gpointer data)
{
  gint64 now = *(const gint64 *) data;
  g_autofree char *not_before = sspictl_format_date (dict_int64 (cred, "not-before"));
  g_autofree char *not_after = format_not_after (dict_int64 (cred, "not-after"), now);
  const char *storage = dict_string (cred, "key-storage");
  g_autofree char *key = g_strdup_printf ("%s%s%s%s",
                                          dict_string (cred, "key-type") ? dict_string (cred, "key-type") : "?",
                                          storage ? " (" : "", storage ? storage : "",
                                          storage ? ")" : "");
  const char *usage = dict_string (cred, "usage");
  const char *client_auth = dict_string (cred, "client-auth");
  g_autofree char *usage_text = NULL;

  /* client-auth only means something for a server. */
  if (usage != NULL && !g_str_equal (usage, "outbound") && client_auth != NULL &&
      !g_str_equal (client_auth, "none"))
    usage_text = g_strdup_printf ("%s, client-auth=%s", usage, client_auth);
  else
    usage_text = g_strdup (usage);

  sspictl_table_add_row (table, dict_string (cred, "name"), usage_text, key, not_before,
                         not_after, dict_string (cred, "subject"), dict_string (cred, "issuer"));
}

static void
print_credentials (GVariant *list, const char *bus_label, gboolean json)
{
  const char *const headers[] = { "NAME", "USAGE", "KEY", "VALID FROM", "VALID UNTIL",
                                  "SUBJECT", "ISSUER", NULL };
  gint64 now = (gint64) time (NULL);

  if (json)
    {
      SspidJson *j = sspid_json_new ();

      sspid_json_begin_object (j);
      sspid_json_key (j, "credentials");
      sspid_json_variant (j, list);
      sspid_json_end_object (j);
      print_json_and_free (j);
      return;
    }
  print_list_table (list, headers, "No credential of sspid may be acquired by you.",
                    add_credential_row, &now);
}

int
sspictl_credentials (int argc, char **argv)
{
  static const IntrospectionVerb verb = {
    "List the credentials you may acquire from sspid.",
    "Only the configured credentials whose users= or groups= admit\n"
    "you are listed (run it as the service's user to see what that\n"
    "service may use).  Columns: the [credential NAME], its usage\n"
    "(inbound: servers, outbound: clients), key type and storage,\n"
    "certificate validity, subject and issuer.  No key material is\n"
    "ever shown: sspictl never sees any.",
    "ListCredentials", "(aa{sv})", print_credentials
  };

  return run_introspection_verb (&verb, argc, argv);
}

/* ---- contexts ---------------------------------------------------------- */

static void
add_context_row (SspictlTable *table, GVariant *ctx, gpointer data)
{
  g_autofree char *owner = sspictl_format_user ((guint32) dict_uint (ctx, "owner-uid"));
  g_autofree char *pid = g_strdup_printf ("%" G_GUINT64_FORMAT, dict_uint (ctx, "owner-pid"));
  g_autofree char *age = sspictl_format_duration (dict_uint (ctx, "age-sec"));
  const char *role = dict_string (ctx, "role");
  const char *peer = dict_string (ctx, "peer");
  const char *target = dict_string (ctx, "target");
  g_autofree char *peer_text = NULL;

  /* A client knows whom it meant to reach even before the certificate. */
  if (target != NULL && target[0] != '\0' && (peer == NULL || peer[0] == '\0'))
    peer_text = g_strdup_printf ("(target %s)", target);
  else if (target != NULL && target[0] != '\0')
    peer_text = g_strdup_printf ("%s (target %s)", peer, target);
  else
    peer_text = g_strdup (peer);

  sspictl_table_add_row (table, owner, pid, role, dict_string (ctx, "state"),
                         dict_string (ctx, "mode"), dict_string (ctx, "credential"), dict_string (ctx, "protocol"),
                         dict_string (ctx, "cipher"), age, peer_text);
}

static void
contexts_json (GVariant *list)
{
  SspidJson *j = sspid_json_new ();

  sspid_json_begin_object (j);
  sspid_json_key (j, "contexts");
  sspid_json_begin_array (j);
  for (gsize i = 0; i < g_variant_n_children (list); i++)
    {
      g_autoptr (GVariant) ctx = g_variant_get_child_value (list, i);
      g_autofree char *owner = sspictl_format_user ((guint32) dict_uint (ctx, "owner-uid"));

      sspid_json_begin_object (j);
      json_members_of_dict (j, ctx);
      /* The name as this machine knows it, for people reading the JSON. */
      sspid_json_member_string (j, "owner", owner);
      sspid_json_end_object (j);
    }
  sspid_json_end_array (j);
  sspid_json_end_object (j);
  print_json_and_free (j);
}

static void
print_contexts (GVariant *list, const char *bus_label, gboolean json)
{
  const char *const headers[] = { "OWNER", "PID", "ROLE", "STATE", "MODE", "CREDENTIAL",
                                  "PROTOCOL", "CIPHER", "AGE", "PEER", NULL };

  if (json)
    contexts_json (list);
  else
    print_list_table (list, headers,
                      geteuid () == 0 ? "No security contexts." : "No security contexts of yours.",
                      add_context_row, NULL);
  if (!json && g_variant_n_children (list) >= SSPID_LIST_CONTEXTS_MAX)
    printf ("(the daemon lists at most the %d oldest contexts; `sspictl status` counts them all)\n",
            SSPID_LIST_CONTEXTS_MAX);
}

int
sspictl_contexts (int argc, char **argv)
{
  static const IntrospectionVerb verb = {
    "List the TLS sessions (security contexts) sspid holds for you.",
    "A user sees the contexts of all its own processes; root sees\n"
    "everyone's.  Columns: owner user and process, role (client or\n"
    "server), state (handshake, established, busy, closed, failed,\n"
    "expired), mode (stream: TLS over TCP; datagram: DTLS over UDP;\n"
    "quic: QUIC mode's handshake messages), the credential it was made\n"
    "from, protocol and cipher once established, age, and the peer: its\n"
    "certificate's subject and, for a client, the target name it asked for.",
    "ListContexts", "(aa{sv})", print_contexts
  };

  return run_introspection_verb (&verb, argc, argv);
}

/* ---- for sspictl top ---------------------------------------------------- */

GVariant *
sspictl_get_status (const char **bus_label, int *exit_code)
{
  return call_daemon ("GetStatus", "(a{sv})", bus_label, exit_code);
}
