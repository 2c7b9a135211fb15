/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sspid: the SSPI handshake daemon.  Options, configuration, the bus
 * connection and the name; the work is in sspid-service.c.
 *
 * Order matters: the object is registered before the name is owned, so the
 * first call that reaches org.sspid1 (possibly the one that activated us)
 * finds it.  SIGHUP reloads the configuration; SIGTERM and SIGINT stop
 * cleanly, answering whatever is still pending.
 *
 * Logging is GLib's structured logging (G_LOG_USE_STRUCTURED): under
 * systemd, where stderr is the journal's stream, GLib's default writer
 * sends each entry to the journal with its fields (lines about a caller
 * carry SSPID_UID, SSPID_PID and SSPID_HANDLE, see sspid-caller.h);
 * otherwise lines go to stderr.  Info and debug lines need --verbose.
 */
#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <malloc.h>
#include <gnutls/gnutls.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "sspid-config.h"
#include "sspid-credential.h"
#include "sspid-proto.h"
#include "sspid-service.h"
#include "sspid-watch.h"

typedef struct {
  GMainLoop       *loop;
  GDBusConnection *connection;
  SspidService    *service;
  const char      *config_path;
  const char      *bus_label;
  SspidWatch      *watch;        /* the credentials' files, if watch-files */
  int              exit_code;
} Daemon;

static void
daemon_quit (Daemon *daemon, int exit_code)
{
  if (daemon->exit_code == 0)
    daemon->exit_code = exit_code;
  g_main_loop_quit (daemon->loop);
}

static char *
store_describe (SspidCredentialStore *store)
{
  g_auto(GStrv) names = sspid_credential_store_dup_names (store);
  g_autofree char *joined = NULL;

  if (names == NULL || names[0] == NULL)
    return g_strdup ("0 credentials loaded");
  joined = g_strjoinv (", ", names);
  return g_strdup_printf ("%u credentials loaded: %s", g_strv_length (names), joined);
}

static void
name_acquired_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
  Daemon *daemon = user_data;

  g_message ("serving %s on the %s bus as %s", name, daemon->bus_label,
             g_dbus_connection_get_unique_name (connection));
}

static void
name_lost_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
  Daemon *daemon = user_data;

  /* Also the answer when someone else owns it and did not allow
   * replacement, or when another sspid --replace took it over. */
  g_message ("lost (or could not own) the name %s on the %s bus; exiting", name,
             daemon->bus_label);
  daemon_quit (daemon, EXIT_FAILURE);
}

static void
connection_closed_cb (GDBusConnection *connection, gboolean remote_peer_vanished,
                      GError *error, gpointer user_data)
{
  Daemon *daemon = user_data;

  g_message ("connection to the %s bus closed%s%s; exiting", daemon->bus_label,
             error != NULL ? ": " : "", error != NULL ? error->message : "");
  daemon_quit (daemon, EXIT_FAILURE);
}

static gboolean
quit_signal_cb (gpointer user_data)
{
  Daemon *daemon = user_data;

  g_message ("stopping on signal");
  daemon_quit (daemon, EXIT_SUCCESS);
  return G_SOURCE_CONTINUE;
}

/* A reload settles a second after the last change to a watched file. */
#define WATCH_SETTLE_MS 1000

static void daemon_reload (Daemon *daemon, const char *why);

static void
files_changed_cb (gpointer user_data)
{
  daemon_reload (user_data, "credential files changed");
}

/* Watches the files @config's credentials name, if it asks for that. */
static void
daemon_watch (Daemon *daemon, const SspidConfig *config)
{
  g_clear_pointer (&daemon->watch, sspid_watch_free);
  if (config->watch_files)
    daemon->watch = sspid_watch_new (config, WATCH_SETTLE_MS, files_changed_cb, daemon);
}

/* The configuration and every credential read again: new handshakes use
 * what the files hold now, established sessions keep what they have. */
static void
daemon_reload (Daemon *daemon, const char *why)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SspidConfig) config = NULL;
  g_autoptr(SspidCredentialStore) store = NULL;
  g_autofree char *described = NULL;

  config = sspid_config_load (daemon->config_path, &error);
  if (config == NULL)
    {
      g_warning ("reload (%s): %s; keeping the current configuration", why, error->message);
      return;
    }
  store = sspid_credential_store_reload (config, sspid_service_peek_store (daemon->service));
  described = store_describe (store);
  daemon_watch (daemon, config);
  sspid_service_reload (daemon->service, g_steal_pointer (&config), g_steal_pointer (&store));
  g_message ("configuration reloaded from %s (%s): %s", daemon->config_path, why, described);
}

static gboolean
reload_signal_cb (gpointer user_data)
{
  daemon_reload (user_data, "SIGHUP");
  return G_SOURCE_CONTINUE;
}

static GDBusConnection *
connect_bus (const char *address, gboolean session, GError **error)
{
  if (address != NULL)
    return g_dbus_connection_new_for_address_sync (address,
                                                   G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                                                   | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                   NULL, NULL, error);
  return g_bus_get_sync (session ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM, NULL, error);
}

/* Every client connection and record channel holds a descriptor: take
 * the hard limit (systemd's soft default is 1024, its hard one far
 * higher).  Safe, because GLib polls with poll(), never select(). */
static void
raise_fd_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max)
    {
      limit.rlim_cur = limit.rlim_max;
      if (setrlimit (RLIMIT_NOFILE, &limit) != 0)
        g_debug ("cannot raise the descriptor limit: %s", g_strerror (errno));
    }
}

int
main (int argc, char **argv)
{
  g_autofree char *opt_config = NULL;
  g_autofree char *opt_address = NULL;
  gboolean opt_session = FALSE, opt_replace = FALSE, opt_verbose = FALSE;
  gboolean opt_version = FALSE;
  const GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config,
      "Configuration file (default " SYSCONFDIR "/sspid/sspid.conf)", "FILE" },
    { "session", 0, 0, G_OPTION_ARG_NONE, &opt_session,
      "Serve on the session bus instead of the system bus", NULL },
    { "address", 0, 0, G_OPTION_ARG_STRING, &opt_address,
      "Serve on the message bus at this D-Bus address", "ADDR" },
    { "replace", 'r', 0, G_OPTION_ARG_NONE, &opt_replace,
      "Take the name over from a running sspid", NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose,
      "Log info and debug messages (every credential, context and handshake)", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &opt_version,
      "Print the version and exit", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) options = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SspidConfig) config = NULL;
  g_autoptr(SspidCredentialStore) store = NULL;
  g_autofree char *described = NULL;
  Daemon daemon = { 0 };
  GBusNameOwnerFlags flags;
  guint owner_id, sigterm_id, sigint_id, sighup_id;

  /* Any caller can send a message of up to the bus's limit (32 MiB) before
   * max-token-size refuses it.  glibc would then raise its mmap threshold
   * to that size and keep such buffers on the heap for good (tens of MB per
   * daemon); a fixed threshold returns them to the system. */
  mallopt (M_MMAP_THRESHOLD, 1 << 20);

  /* Private keys and session secrets live in this process: no core dumps,
   * no ptrace by other processes of the same user. */
  if (prctl (PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
    g_warning ("cannot make the process non-dumpable: %s", g_strerror (errno));
  raise_fd_limit ();

  options = g_option_context_new ("- SSPI (Schannel) handshake daemon");
  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    {
      g_printerr ("sspid: %s\n", error->message);
      return 2;
    }
  if (opt_version)
    {
      g_print ("sspid %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }
  if (opt_session && opt_address != NULL)
    {
      g_printerr ("sspid: --session and --address exclude each other\n");
      return 2;
    }
  if (opt_verbose)
    g_log_set_debug_enabled (TRUE);

  daemon.config_path = opt_config != NULL ? opt_config : SYSCONFDIR "/sspid/sspid.conf";
  daemon.bus_label = opt_address != NULL ? opt_address : opt_session ? "session" : "system";
  g_message ("sspid %s starting (GnuTLS %s)", PACKAGE_VERSION, gnutls_check_version (NULL));

  config = sspid_config_load (daemon.config_path, &error);
  if (config == NULL)
    {
      g_printerr ("sspid: cannot load the configuration: %s\n", error->message);
      return EXIT_FAILURE;
    }
  store = sspid_credential_store_new (config);
  described = store_describe (store);
  g_message ("configuration %s: %s", daemon.config_path, described);
  daemon_watch (&daemon, config);

  daemon.connection = connect_bus (opt_address, opt_session, &error);
  if (daemon.connection == NULL)
    {
      g_printerr ("sspid: cannot connect to the %s bus: %s\n", daemon.bus_label,
                  error->message);
      g_clear_pointer (&daemon.watch, sspid_watch_free);
      return EXIT_FAILURE;
    }
  g_dbus_connection_set_exit_on_close (daemon.connection, FALSE);

  daemon.service = sspid_service_new (daemon.connection, g_steal_pointer (&config),
                                      g_steal_pointer (&store), &error);
  if (daemon.service == NULL)
    {
      g_printerr ("sspid: cannot export %s: %s\n", SSPID_OBJECT_PATH, error->message);
      g_object_unref (daemon.connection);
      g_clear_pointer (&daemon.watch, sspid_watch_free);
      return EXIT_FAILURE;
    }

  daemon.loop = g_main_loop_new (NULL, FALSE);
  g_signal_connect (daemon.connection, "closed", G_CALLBACK (connection_closed_cb), &daemon);
  sigterm_id = g_unix_signal_add (SIGTERM, quit_signal_cb, &daemon);
  sigint_id = g_unix_signal_add (SIGINT, quit_signal_cb, &daemon);
  sighup_id = g_unix_signal_add (SIGHUP, reload_signal_cb, &daemon);

  flags = G_BUS_NAME_OWNER_FLAGS_ALLOW_REPLACEMENT | G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE;
  if (opt_replace)
    flags |= G_BUS_NAME_OWNER_FLAGS_REPLACE;
  owner_id = g_bus_own_name_on_connection (daemon.connection, SSPID_BUS_NAME, flags,
                                           name_acquired_cb, name_lost_cb, &daemon, NULL);

  g_main_loop_run (daemon.loop);

  g_bus_unown_name (owner_id);
  g_source_remove (sigterm_id);
  g_source_remove (sigint_id);
  g_source_remove (sighup_id);
  g_clear_pointer (&daemon.watch, sspid_watch_free);
  g_signal_handlers_disconnect_by_data (daemon.connection, &daemon);

  /* Answers what is pending before the connection goes. */
  sspid_service_free (daemon.service);
  g_dbus_connection_flush_sync (daemon.connection, NULL, NULL);
  g_dbus_connection_close_sync (daemon.connection, NULL, NULL);

  /* Let cancelled calls and GDBus's idles finish, so nothing is left for
   * valgrind to find. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_object_unref (daemon.connection);
  g_main_loop_unref (daemon.loop);

  g_message ("stopped");
  return daemon.exit_code;
}
