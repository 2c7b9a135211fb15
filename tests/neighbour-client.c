/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hostile neighbour of tests/test-neighbour.c (see neighbour-client.h):
 * user A, an ordinary raw-GDBus client running as nobody, that stays inside
 * what the daemon lets a user do and tries to make that cost everybody
 * else.  It reports what the daemon answered and never judges it: that is
 * the parent's job.
 *
 * Most floods are a window of asynchronous calls per connection (a Pump):
 * each sent with NO_REPLY_EXPECTED, so the daemon answers with a Completed
 * signal, and each answer sends the next call until time is up.
 */
#include "config.h"

#include "neighbour-client.h"

#include <errno.h>
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "child-process.h"
#include "schannel.h"
#include "sspi.h"
#include "sspid-args.h"
#include "sspid-proto.h"

#define CONTINUE_NEEDED ((guint32) SEC_I_CONTINUE_NEEDED)

/* --- tallies of answers ------------------------------------------------- */

NbTally *
nb_tally_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

void
nb_tally_add (NbTally *t, const char *key)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (t, key));

  g_hash_table_insert (t, g_strdup (key), GUINT_TO_POINTER (n + 1));
}

void
nb_tally_add_status (NbTally *t, guint32 status)
{
  char key[16];

  g_snprintf (key, sizeof key, "0x%08x", status);
  nb_tally_add (t, key);
}

/* The error of a failed call: its D-Bus name, or what GIO said. */
void
nb_tally_add_error (NbTally *t, GError *error)
{
  g_autofree char *name = g_dbus_error_get_remote_error (error);

  if (name == NULL)
    name = g_strdup_printf ("local-%s-%d", g_quark_to_string (error->domain), error->code);
  nb_tally_add (t, name);
}

guint
nb_tally_get (NbTally *t, const char *key)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (t, key));
}

/* "KEY:N,KEY:N" in key order, "-" if empty.  g_free() it. */
char *
nb_tally_format (NbTally *t)
{
  g_autoptr(GList) keys = g_list_sort (g_hash_table_get_keys (t), (GCompareFunc) strcmp);
  GString *text = g_string_new (NULL);

  for (GList *l = keys; l != NULL; l = l->next)
    g_string_append_printf (text, "%s%s:%u", text->len > 0 ? "," : "", (const char *) l->data,
                            nb_tally_get (t, l->data));
  if (text->len == 0)
    g_string_append (text, "-");
  return g_string_free (text, FALSE);
}

/* --- the pump: a window of asynchronous calls per connection ------------ */

typedef struct _Pump Pump;

typedef struct {
  Pump            *pump;
  GDBusConnection *conn;
  guint64          cred;
  guint            in_flight;
} Lane;

struct _Pump {
  GPtrArray *lanes;       /* of Lane *, owned */
  guint      window;      /* calls in flight per lane */
  gint64     deadline;    /* no new call after it; 0: none */
  guint      limit;       /* calls in all; 0: no limit */
  guint      sent, answered;
  NbTally     *tally;
  /* Sends one call on @lane with NO_REPLY_EXPECTED and @call_id. */
  void     (*issue) (Pump *pump, Lane *lane, guint64 call_id);
  /* Optional: what to do with an answer (e.g. free what it made). */
  void     (*answered_cb) (Pump *pump, Lane *lane, guint32 status, guint64 handle);
  gpointer   data;
};

static gboolean
pump_may_send (Pump *pump)
{
  return (pump->deadline == 0 || g_get_monotonic_time () < pump->deadline)
         && (pump->limit == 0 || pump->sent < pump->limit);
}

static void
lane_fill (Lane *lane)
{
  Pump *pump = lane->pump;

  while (lane->in_flight < pump->window && pump_may_send (pump))
    {
      pump->sent++;
      lane->in_flight++;
      pump->issue (pump, lane, pump->sent);
    }
}

static void
lane_completed (GDBusConnection *conn, const char *sender, const char *path,
                const char *iface, const char *member, GVariant *params, gpointer data)
{
  Lane *lane = data;
  Pump *pump = lane->pump;
  guint64 call_id, handle;
  guint32 status;

  if (!g_variant_is_of_type (params, G_VARIANT_TYPE (SSPID_COMPLETED_TYPE)))
    return;
  g_variant_get (params, "(tut@ayuxuu@a{sv})", &call_id, &status, &handle, NULL, NULL, NULL,
                 NULL, NULL, NULL);
  lane->in_flight--;
  pump->answered++;
  nb_tally_add_status (pump->tally, status);
  if (pump->answered_cb != NULL)
    pump->answered_cb (pump, lane, status, handle);
  lane_fill (lane);
}

/* @n lanes, each on a connection of its own. */
static Pump *
pump_new (const char *address, guint n, guint window)
{
  Pump *pump = g_new0 (Pump, 1);

  pump->lanes = g_ptr_array_new ();
  pump->window = window;
  pump->tally = nb_tally_new ();
  for (guint i = 0; i < n; i++)
    {
      Lane *lane = g_new0 (Lane, 1);

      lane->pump = pump;
      lane->conn = cr_open_bus (address);
      g_dbus_connection_signal_subscribe (lane->conn, NULL, SSPID_INTERFACE,
                                          SSPID_SIGNAL_COMPLETED, SSPID_OBJECT_PATH, NULL,
                                          G_DBUS_SIGNAL_FLAGS_NO_MATCH_RULE, lane_completed,
                                          lane, NULL);
      g_ptr_array_add (pump->lanes, lane);
    }
  return pump;
}

static gboolean
wake_up (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

void
nb_iterate_until (gint64 deadline)
{
  guint tick = g_timeout_add (50, wake_up, NULL);

  while (g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
}

/* Sends until the deadline (or the limit), then waits for the answers to
 * what it sent: every call is answered (a refusal too, with a Completed
 * signal), and the tally counts them all.  Counting only the answers that
 * came before the deadline made "no answer to an oversize target" a
 * matter of CPU time, not of the daemon: this process runs at nice 19 (see
 * neighbour_client_main), and on a busy machine building and writing one
 * 10 MB call took it 1-5 s, so the first answer to the big target names
 * came after the 4 s window (the daemon had refused every one within
 * 0.05-0.4 s of reading it).  A call never answered ends the flooder
 * (cr_die) after NEIGHBOUR_DRAIN_TIMEOUT_US, so no "done" line. */
static void
pump_run (Pump *pump)
{
  gint64 give_up = (pump->deadline != 0 ? pump->deadline : g_get_monotonic_time ())
                   + NEIGHBOUR_DRAIN_TIMEOUT_US;
  guint tick = g_timeout_add (50, wake_up, NULL);

  for (guint i = 0; i < pump->lanes->len; i++)
    lane_fill (g_ptr_array_index (pump->lanes, i));
  while (pump_may_send (pump) || pump->answered < pump->sent)
    {
      if (g_get_monotonic_time () > give_up)
        cr_die ("%u of %u calls answered", pump->answered, pump->sent);
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (tick);
}

/* Frees nothing the daemon holds: the connections stay open (and with
 * them whatever was made on them) until the process ends. */
static char *
pump_format (Pump *pump)
{
  return nb_tally_format (pump->tally);
}

/* A cleanup nobody waits for: call_id 0 with NO_REPLY_EXPECTED gets no
 * answer at all (proto/org.sspid1.xml). */
static void
send_cleanup (GDBusConnection *conn, const char *method, guint64 handle)
{
  cr_send_no_reply (conn, method, sspid_release_args_encode (&(SspidReleaseArgs) { 0, handle }));
}

static GVariant *
with_call_id (GVariant *params, guint64 call_id)
{
  /* cr_*_params use a fixed call_id: put ours in its place. */
  g_autoptr(GVariant) sunk = g_variant_ref_sink (params);
  gsize n = g_variant_n_children (sunk);
  g_autofree GVariant **children = g_new (GVariant *, n);

  children[0] = g_variant_new_uint64 (call_id);
  for (gsize i = 1; i < n; i++)
    children[i] = g_variant_get_child_value (sunk, i);
  return g_variant_new_tuple (children, n);
}

/* --- introspection ------------------------------------------------------- */

static void
issue_client_step (Pump *pump, Lane *lane, guint64 call_id)
{
  cr_send_no_reply (lane->conn, "InitializeSecurityContext",
                    with_call_id (cr_isc_params (lane->cred, 0, "localhost", NULL, 0), call_id));
}

typedef struct {
  Pump   *pump;       /* its connections */
  gint64  deadline;
  guint   next_lane;
  NbTally  *lists;
  NbTally  *statuses;
  gsize   entries_max;
} Introspection;

typedef struct {
  Introspection *in;
  const char    *method;
} IntrospectCall;

static void introspect (Introspection *in, const char *method);

static void
introspected (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autofree IntrospectCall *call = data;
  Introspection *in = call->in;
  gboolean is_list = g_str_equal (call->method, "ListContexts");
  NbTally *tally = is_list ? in->lists : in->statuses;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result,
                                                             &error);

  if (reply == NULL)
    nb_tally_add_error (tally, error);
  else
    {
      nb_tally_add (tally, "ok");
      if (is_list && g_variant_is_of_type (reply, G_VARIANT_TYPE ("(aa{sv})")))
        {
          g_autoptr(GVariant) entries = g_variant_get_child_value (reply, 0);
          in->entries_max = MAX (in->entries_max, g_variant_n_children (entries));
        }
    }
  if (g_get_monotonic_time () < in->deadline)
    introspect (in, call->method);
}

/* One more call of @method, on the next connection. */
static void
introspect (Introspection *in, const char *method)
{
  Lane *lane = g_ptr_array_index (in->pump->lanes, in->next_lane++ % in->pump->lanes->len);
  IntrospectCall *call = g_new0 (IntrospectCall, 1);

  call->in = in;
  call->method = method;
  g_dbus_connection_call (lane->conn, SSPID_BUS_NAME, SSPID_OBJECT_PATH, SSPID_INTERFACE, method,
                          NULL, NULL, G_DBUS_CALL_FLAGS_NONE, NEIGHBOUR_DRAIN_TIMEOUT_US / 1000, NULL,
                          introspected, call);
}

static int
mode_introspection (const char *address, guint seconds, guint contexts, guint outstanding,
                    guint conns)
{
  Pump *pump = pump_new (address, MAX (conns, 1), 64);
  g_autofree char *made = NULL;
  g_autofree char *lists = NULL, *statuses = NULL;
  g_autoptr(NbTally) list_tally = nb_tally_new ();
  g_autoptr(NbTally) status_tally = nb_tally_new ();
  Introspection in = { pump, 0, 0, list_tally, status_tally, 0 };

  for (guint i = 0; i < pump->lanes->len; i++)
    {
      Lane *lane = g_ptr_array_index (pump->lanes, i);
      lane->cred = cr_acquire_ok (lane->conn, "", SECPKG_CRED_OUTBOUND);
    }
  pump->issue = issue_client_step;
  pump->limit = contexts;
  pump_run (pump);
  made = pump_format (pump);
  cr_report ("ready contexts=%u statuses=%s", nb_tally_get (pump->tally, "0x00090312"), made);

  in.deadline = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
  for (guint i = 0; i < outstanding; i++)
    introspect (&in, "ListContexts");
  for (guint i = 0; i < MAX (outstanding / 4, 1); i++)
    introspect (&in, "GetStatus");
  nb_iterate_until (in.deadline);
  lists = nb_tally_format (list_tally);
  statuses = nb_tally_format (status_tally);
  cr_report ("done list=%s status=%s entries_max=%" G_GSIZE_FORMAT, lists, statuses,
             in.entries_max);
  cr_wait_stdin_closed ();
  return 0;
}

/* --- big strings --------------------------------------------------------- */

#define BIG_STRING_SIZE (10 * 1024 * 1024)
#define BIG_AUTH_DATA_ENTRIES 200000
#define BIG_ALPN_ENTRIES 100000

static char *
big_string (const char *prefix, gsize size)
{
  char *s = g_malloc (size + 1);

  memset (s, 'a', size);
  memcpy (s, prefix, strlen (prefix));
  s[size] = '\0';
  return s;
}

static GVariant *
big_auth_data (guint divisor)
{
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{sv}"));

  for (guint i = 0; i < BIG_AUTH_DATA_ENTRIES / divisor; i++)
    {
      char key[32];

      g_snprintf (key, sizeof key, "nb-key-%06u", i);
      g_variant_builder_add (&b, "{sv}", key, g_variant_new_uint32 (i));
    }
  return g_variant_builder_end (&b);
}

static GVariant *
big_alpn (guint divisor)
{
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("as"));

  for (guint i = 0; i < BIG_ALPN_ENTRIES / divisor; i++)
    {
      char id[32];

      g_snprintf (id, sizeof id, "nb-proto-%06u", i);
      g_variant_builder_add (&b, "s", id);
    }
  return g_variant_builder_end (&b);
}

typedef struct {
  const char *name;
  const char *method;
  GVariant   *params;   /* owned, not floating */
  NbTally      *tally;
  gint64      usec;     /* waited for the answers, in all */
} BigCall;

static void
big_call (GDBusConnection *conn, BigCall *call)
{
  g_autofree char *error_name = NULL;
  gint64 start = g_get_monotonic_time ();
  g_autoptr(GVariant) reply = cr_try_call (conn, SSPID_BUS_NAME, SSPID_OBJECT_PATH,
                                           SSPID_INTERFACE, call->method, call->params,
                                           &error_name);

  call->usec += g_get_monotonic_time () - start;
  if (reply != NULL)
    nb_tally_add_status (call->tally, cr_status_of (reply));
  else
    nb_tally_add (call->tally, error_name);
}

/* A first client step with a huge target name, kept. */
static void
issue_big_target (Pump *pump, Lane *lane, guint64 call_id)
{
  cr_send_no_reply (lane->conn, "InitializeSecurityContext",
                    with_call_id (cr_isc_params (lane->cred, 0, pump->data, NULL, 0), call_id));
}

static int
mode_bigstrings (const char *address, guint seconds, guint max, guint divisor)
{
  g_autoptr(GDBusConnection) conn = cr_open_bus (address);
  guint64 cred = cr_acquire_ok (conn, "", SECPKG_CRED_OUTBOUND);
  g_autofree char *target = big_string ("nb-target-", BIG_STRING_SIZE / divisor);
  g_autofree char *principal = big_string ("nb-principal-", BIG_STRING_SIZE / divisor);
  guint32 isc_req = ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM | ISC_REQ_CONFIDENTIALITY;
  /* Once each (the arrays cost seconds each to send and decode); then
   * the target names, which cost memory as long as they are kept, go on
   * in a pipeline. */
  BigCall calls[] = {
    { "alpn", "InitializeSecurityContext",
      g_variant_new ("(tttsu@ay@asa{sv})", (guint64) 2, cred, (guint64) 0, "localhost", isc_req,
                     cr_bytes (NULL, 0), big_alpn (divisor), NULL) },
    { "authdata", "AcquireCredentialsHandle",
      g_variant_new ("(tssu@a{sv})", (guint64) 1, "", SCHANNEL_NAME_A,
                     (guint32) SECPKG_CRED_OUTBOUND, big_auth_data (divisor)) },
    { "principal", "AcquireCredentialsHandle",
      g_variant_new ("(tssu@a{sv})", (guint64) 1, principal, SCHANNEL_NAME_A,
                     (guint32) SECPKG_CRED_OUTBOUND,
                     g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0)) },
  };
  Pump *targets = pump_new (address, 1, 4);
  Lane *lane = g_ptr_array_index (targets->lanes, 0);
  g_autofree char *target_tally = NULL;
  gint64 start;
  g_autoptr(GString) done = g_string_new ("done");

  for (gsize k = 0; k < G_N_ELEMENTS (calls); k++)
    {
      g_variant_ref_sink (calls[k].params);
      calls[k].tally = nb_tally_new ();
    }
  g_clear_pointer (&principal, g_free);
  lane->cred = cr_acquire_ok (lane->conn, "", SECPKG_CRED_OUTBOUND);
  targets->issue = issue_big_target;
  targets->data = target;
  targets->limit = max;
  cr_report ("ready");

  for (gsize k = 0; k < G_N_ELEMENTS (calls); k++)
    big_call (conn, &calls[k]);
  start = g_get_monotonic_time ();
  targets->deadline = start + (gint64) seconds * G_USEC_PER_SEC;
  pump_run (targets);
  for (gsize k = 0; k < G_N_ELEMENTS (calls); k++)
    {
      g_autofree char *text = nb_tally_format (calls[k].tally);

      g_string_append_printf (done, " %s=%s %s_ms=%" G_GINT64_FORMAT, calls[k].name, text,
                              calls[k].name, calls[k].usec / 1000);
      g_hash_table_unref (calls[k].tally);
      g_variant_unref (calls[k].params);
    }
  target_tally = pump_format (targets);
  g_string_append_printf (done, " target=%s target_ms=%" G_GINT64_FORMAT, target_tally,
                          (g_get_monotonic_time () - start) / 1000);
  cr_report ("%s", done->str);
  cr_wait_stdin_closed ();
  return 0;
}

/* --- pipelined handshakes ------------------------------------------------ */

static void
issue_server_step (Pump *pump, Lane *lane, guint64 call_id)
{
  GVariant *hello = pump->data;

  cr_send_no_reply (lane->conn, "AcceptSecurityContext",
                    sspid_step_args_encode (SSPID_CALL_ACCEPT, &(SspidStepArgs) {
                      call_id, lane->cred, 0, NULL, ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_STREAM,
                      hello, NULL }));
}

/* Each step made a context: delete it, so the flood stays under the
 * context limit and every step costs a full ServerHello. */
static void
delete_context (Pump *pump, Lane *lane, guint32 status, guint64 handle)
{
  if (handle != 0)
    send_cleanup (lane->conn, "DeleteSecurityContext", handle);
}

static int
mode_handshakes (const char *address, guint seconds, guint conns, guint window)
{
  Pump *pump = pump_new (address, MAX (conns, 1), window);
  Lane *first = g_ptr_array_index (pump->lanes, 0);
  guint64 client = cr_acquire_ok (first->conn, "", SECPKG_CRED_OUTBOUND);
  g_autoptr(GVariant) hello = cr_client_hello (first->conn, client);
  g_autofree char *statuses = NULL;

  for (guint i = 0; i < pump->lanes->len; i++)
    {
      Lane *lane = g_ptr_array_index (pump->lanes, i);
      lane->cred = cr_acquire_ok (lane->conn, NEIGHBOUR_CREDENTIAL, SECPKG_CRED_INBOUND);
    }
  pump->issue = issue_server_step;
  pump->answered_cb = delete_context;
  pump->data = hello;
  cr_report ("ready");
  pump->deadline = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
  pump_run (pump);
  statuses = pump_format (pump);
  cr_report ("done steps=%u statuses=%s", pump->answered, statuses);
  cr_wait_stdin_closed ();
  return 0;
}

/* --- credential churn ---------------------------------------------------- */

static void
issue_acquire (Pump *pump, Lane *lane, guint64 call_id)
{
  cr_send_no_reply (lane->conn, "AcquireCredentialsHandle",
                    with_call_id (cr_acquire_params (NEIGHBOUR_CREDENTIAL, SECPKG_CRED_INBOUND),
                                  call_id));
}

static void
free_credential (Pump *pump, Lane *lane, guint32 status, guint64 handle)
{
  if (status == (guint32) SEC_E_OK && handle != 0)
    send_cleanup (lane->conn, "FreeCredentialsHandle", handle);
}

static int
mode_credentials (const char *address, guint seconds, guint conns, guint window)
{
  Pump *pump = pump_new (address, MAX (conns, 1), window);
  g_autofree char *statuses = NULL;

  pump->issue = issue_acquire;
  pump->answered_cb = free_credential;
  cr_report ("ready");
  pump->deadline = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
  pump_run (pump);
  statuses = pump_format (pump);
  cr_report ("done acquires=%u statuses=%s", pump->answered, statuses);
  cr_wait_stdin_closed ();
  return 0;
}

/* --- refusals ------------------------------------------------------------ */

#define REFUSAL_BIG_NAME_EVERY 10000
#define REFUSAL_BIG_NAME_SIZE  (1024 * 1024)

/* The @i-th name: never one nobody may use. */
static char *
refused_name (guint64 i)
{
  static const char *const forgers[] = { "\n", "\r", "\033[2K\r", "\n\t" };

  if (i % REFUSAL_BIG_NAME_EVERY == 1)
    return big_string (NEIGHBOUR_REFUSAL_TAG "-big-", REFUSAL_BIG_NAME_SIZE);
  switch (i % 4)
    {
    case 0:
      return g_strdup_printf (NEIGHBOUR_REFUSAL_TAG "-unknown-%" G_GUINT64_FORMAT, i);
    case 1:
      /* Listed, but for root only: refused like an unknown name. */
      return g_strdup ("server");
    default:
      return g_strdup_printf (NEIGHBOUR_REFUSAL_TAG "-%" G_GUINT64_FORMAT "%s"
                              NEIGHBOUR_FORGED_TAG " uid=0: credential \"server\" acquired", i,
                              forgers[(i / 4) % G_N_ELEMENTS (forgers)]);
    }
}

static void
issue_refused (Pump *pump, Lane *lane, guint64 call_id)
{
  g_autofree char *name = refused_name (call_id);

  cr_send_no_reply (lane->conn, "AcquireCredentialsHandle",
                    with_call_id (cr_acquire_params (name, SECPKG_CRED_INBOUND), call_id));
}

static int
mode_refusals (const char *address, guint seconds, guint count)
{
  Pump *pump = pump_new (address, 4, 128);
  g_autofree char *statuses = NULL;

  pump->issue = issue_refused;
  pump->answered_cb = free_credential;     /* should one ever be granted */
  pump->limit = count;
  cr_report ("ready");
  pump->deadline = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
  pump_run (pump);
  statuses = pump_format (pump);
  cr_report ("done sent=%u statuses=%s", pump->sent, statuses);
  cr_wait_stdin_closed ();
  return 0;
}

/* --- entry --------------------------------------------------------------- */

int
neighbour_client_main (int argc, char **argv)
{
  const char *mode = argc > 2 ? argv[2] : "";
  guint64 a[4] = { 0 };
  guint seconds;

  if (argc < 5)
    cr_die ("usage: %s --child MODE ADDR SECONDS ARGS...", argv[0]);
  /* Lowest CPU priority, before any thread exists: on a 2-core test
   * machine the flooder's own process would otherwise take a CPU from B
   * and from the daemon alike, and the test would measure how the kernel
   * shares CPUs between processes (its job, with nice and cgroups), not
   * how the daemon shares its queues and its workers between users (ours).
   * What the daemon and the bus do on A's behalf is still A's load. */
  if (setpriority (PRIO_PROCESS, 0, 19) != 0)
    cr_die ("setpriority: %s", g_strerror (errno));
  for (int i = 5; i < argc && i - 5 < (int) G_N_ELEMENTS (a); i++)
    a[i - 5] = cr_parse_u64 (argv[i]);
  seconds = (guint) cr_parse_u64 (argv[4]);

  if (g_str_equal (mode, "introspection") && argc == 8)
    return mode_introspection (argv[3], seconds, (guint) a[0], (guint) a[1], (guint) a[2]);
  if (g_str_equal (mode, "bigstrings") && argc == 7)
    return mode_bigstrings (argv[3], seconds, (guint) a[0], (guint) MAX (a[1], 1));
  if (g_str_equal (mode, "handshakes") && argc == 7)
    return mode_handshakes (argv[3], seconds, (guint) a[0], (guint) a[1]);
  if (g_str_equal (mode, "records") && argc == 7)
    return neighbour_mode_records (argv[3], seconds, (guint) a[0], (guint) a[1]);
  if (g_str_equal (mode, "credentials") && argc == 7)
    return mode_credentials (argv[3], seconds, (guint) a[0], (guint) a[1]);
  if (g_str_equal (mode, "refusals") && argc == 6)
    return mode_refusals (argv[3], seconds, (guint) a[0]);
  cr_die ("usage: %s --child introspection|bigstrings|handshakes|records|credentials|refusals "
          "ADDR SECONDS ARGS...", argv[0]);
}
