/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libsspi's own bus transport against a real dbus-daemon and sspid: calls,
 * signals, a sync call from inside the reader thread, closing, and the
 * reason it exists: a fork()ed child connects afresh.
 */
#include "config.h"

#include <check.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sspi-transport.h"
#include "sspid-proto.h"
#include "testutil.h"

static GDBusMessage *
sspid_hello (SspiTransport *t, GError **error)
{
  g_autoptr (GDBusMessage) m = g_dbus_message_new_method_call (SSPID_BUS_NAME, SSPID_OBJECT_PATH,
                                                               SSPID_INTERFACE, "Hello");
  return sspi_transport_call_sync (t, m, 10000, error);
}

START_TEST (test_call)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SspiTransport) t = sspi_transport_connect (tu_fixture_env->bus_address, NULL, NULL, NULL, &error);
  g_autoptr (GDBusMessage) reply = NULL;
  const char *version = NULL;
  guint64 instance = 0;

  ck_assert_msg (t != NULL, "%s", error ? error->message : "");
  ck_assert (sspi_transport_get_unique_name (t)[0] == ':');
  reply = sspid_hello (t, &error);
  ck_assert_msg (reply != NULL, "%s", error ? error->message : "");
  g_variant_get (g_dbus_message_get_body (reply), "(&st)", &version, &instance);
  ck_assert_str_eq (version, PACKAGE_VERSION);
  ck_assert_uint_ne (instance, 0);

  /* An error reply becomes a GError. */
  {
    g_autoptr (GDBusMessage) m = g_dbus_message_new_method_call (SSPID_BUS_NAME, SSPID_OBJECT_PATH,
                                                                 SSPID_INTERFACE, "NoSuchMethod");
    g_autoptr (GDBusMessage) r = sspi_transport_call_sync (t, m, 10000, &error);
    ck_assert_ptr_null (r);
    ck_assert_ptr_nonnull (error);
    g_clear_error (&error);
  }
  sspi_transport_close (t);
}
END_TEST

typedef struct {
  GMutex        lock;
  GCond         cond;
  gboolean      saw_owner_change;
  gboolean      nested_ok;
  gboolean      closed;
} Events;

/* On the reader thread: on the daemon's name going away, make a nested
 * sync call (to the bus itself) before returning. */
static void
on_message (SspiTransport *t, GDBusMessage *m, gpointer user_data)
{
  Events *ev = user_data;
  const char *name = NULL, *old_owner = NULL, *new_owner = NULL;
  GVariant *body = g_dbus_message_get_body (m);

  if (g_strcmp0 (g_dbus_message_get_member (m), "NameOwnerChanged") != 0 || body == NULL)
    return;
  g_variant_get (body, "(&s&s&s)", &name, &old_owner, &new_owner);
  if (!g_str_equal (name, SSPID_BUS_NAME) || new_owner[0] != '\0')
    return;
  {
    g_autoptr (GDBusMessage) q = g_dbus_message_new_method_call ("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                                                 "org.freedesktop.DBus", "GetId");
    g_autoptr (GDBusMessage) r = sspi_transport_call_sync (t, q, 5000, NULL);
    g_mutex_lock (&ev->lock);
    ev->nested_ok = r != NULL;
    ev->saw_owner_change = TRUE;
    g_cond_broadcast (&ev->cond);
    g_mutex_unlock (&ev->lock);
  }
}

static void
on_closed (SspiTransport *t, gpointer user_data)
{
  Events *ev = user_data;

  g_mutex_lock (&ev->lock);
  ev->closed = TRUE;
  g_cond_broadcast (&ev->cond);
  g_mutex_unlock (&ev->lock);
}

static void
wait_for (Events *ev, gboolean *flag)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  g_mutex_lock (&ev->lock);
  while (!*flag && g_cond_wait_until (&ev->cond, &ev->lock, deadline))
    ;
  g_mutex_unlock (&ev->lock);
}

START_TEST (test_signals_nested_call_and_close)
{
  Events ev = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (SspiTransport) t = sspi_transport_connect (tu_fixture_env->bus_address, on_message, on_closed, &ev, &error);
  g_autoptr (GDBusMessage) add = NULL;
  g_autoptr (GDBusMessage) r = NULL;

  ck_assert_msg (t != NULL, "%s", error ? error->message : "");
  add = g_dbus_message_new_method_call ("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                        "org.freedesktop.DBus", "AddMatch");
  g_dbus_message_set_body (add, g_variant_new ("(s)", "type='signal',sender='org.freedesktop.DBus',"
                                                      "member='NameOwnerChanged',arg0='" SSPID_BUS_NAME "'"));
  r = sspi_transport_call_sync (t, add, 5000, &error);
  ck_assert_msg (r != NULL, "%s", error ? error->message : "");

  tu_env_kill_daemon (tu_fixture_env, SIGKILL);
  wait_for (&ev, &ev.saw_owner_change);
  ck_assert (ev.saw_owner_change);
  ck_assert (ev.nested_ok);

  sspi_transport_close (t);
  wait_for (&ev, &ev.closed);
  ck_assert (ev.closed);
  ck_assert (sspi_transport_is_closed (t));
  {
    g_autoptr (GError) e2 = NULL;
    g_autoptr (GDBusMessage) m = g_dbus_message_new_method_call ("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                                                 "org.freedesktop.DBus", "GetId");
    ck_assert_ptr_null (sspi_transport_call_sync (t, m, 1000, &e2));
    ck_assert_ptr_nonnull (e2);
  }
  tu_env_start_daemon (tu_fixture_env);
}
END_TEST

/* The parent is connected; a forked child opens its own connection and
 * talks to the daemon; the parent's connection is untouched. */
START_TEST (test_fork)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SspiTransport) t = sspi_transport_connect (tu_fixture_env->bus_address, NULL, NULL, NULL, &error);
  g_autoptr (GDBusMessage) before = NULL;
  g_autoptr (GDBusMessage) after = NULL;
  int status = 0;
  pid_t pid;

  ck_assert_msg (t != NULL, "%s", error ? error->message : "");
  before = sspid_hello (t, &error);
  ck_assert_ptr_nonnull (before);

  pid = tu_fork_quiet ();
  ck_assert_int_ge (pid, 0);
  if (pid == 0)
    {
      SspiTransport *child;
      GDBusMessage *reply;

      sspi_transport_abandon_after_fork (t);
      child = sspi_transport_connect (tu_fixture_env->bus_address, NULL, NULL, NULL, NULL);
      if (child == NULL)
        _exit (2);
      if (g_strcmp0 (sspi_transport_get_unique_name (child), sspi_transport_get_unique_name (t)) == 0)
        _exit (3);
      reply = sspid_hello (child, NULL);
      _exit (reply != NULL ? 0 : 4);
    }
  ck_assert_int_eq (waitpid (pid, &status, 0), pid);
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0, "child status %d", status);

  after = sspid_hello (t, &error);
  ck_assert_msg (after != NULL, "parent after fork: %s", error ? error->message : "");
  sspi_transport_close (t);
}
END_TEST

START_TEST (test_bad_address)
{
  g_autoptr (GError) error = NULL;
  SspiTransport *t = sspi_transport_connect ("unix:path=/nonexistent/sspid-bus", NULL, NULL, NULL, &error);

  ck_assert_ptr_null (t);
  ck_assert_ptr_nonnull (error);
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "bus", tu_fixture_setup, tu_fixture_teardown, 60, { { test_call },
                                                          { test_signals_nested_call_and_close },
                                                          { test_fork }, { test_bad_address } } },
  };

  return tu_run_cases ("transport", cases, G_N_ELEMENTS (cases));
}
