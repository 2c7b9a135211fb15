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
#include <gio/gunixfdlist.h>
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "child-process.h"
#include "schannel.h"
#include "sspi.h"
#include "sspid-channel.h"
#include "sspid-proto.h"

/* A bounded flood still ends if the daemon stops answering. */
#define DRAIN_TIMEOUT_US (60 * G_USEC_PER_SEC)
/* Plaintext per record of the records mode: a full TLS record. */
#define RECORD_SIZE 16384
#define CONTINUE_NEEDED ((guint32) SEC_I_CONTINUE_NEEDED)

/* --- tallies of answers ------------------------------------------------- */

/* How often each answer came: "0x80090300" or a D-Bus error name -> count. */
typedef GHashTable Tally;

static Tally *
tally_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

static void
tally_add (Tally *t, const char *key)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (t, key));

  g_hash_table_insert (t, g_strdup (key), GUINT_TO_POINTER (n + 1));
}

static void
tally_add_status (Tally *t, guint32 status)
{
  char key[16];

  g_snprintf (key, sizeof key, "0x%08x", status);
  tally_add (t, key);
}

/* The error of a failed call: its D-Bus name, or what GIO said. */
static void
tally_add_error (Tally *t, GError *error)
{
  g_autofree char *name = g_dbus_error_get_remote_error (error);

  if (name == NULL)
    name = g_strdup_printf ("local-%s-%d", g_quark_to_string (error->domain), error->code);
  tally_add (t, name);
}

static guint
tally_get (Tally *t, const char *key)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (t, key));
}

/* "KEY:N,KEY:N" in key order, "-" if empty.  g_free() it. */
static char *
tally_format (Tally *t)
{
  g_autoptr(GList) keys = g_list_sort (g_hash_table_get_keys (t), (GCompareFunc) strcmp);
  GString *text = g_string_new (NULL);

  for (GList *l = keys; l != NULL; l = l->next)
    g_string_append_printf (text, "%s%s:%u", text->len > 0 ? "," : "", (const char *) l->data,
                            tally_get (t, l->data));
  if (text->len == 0)
    g_string_append (text, "-");
  return g_string_free (text, FALSE);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Tally, g_hash_table_unref)

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
  Tally     *tally;
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
  g_variant_get (params, "(tut@ayuxuu)", &call_id, &status, &handle, NULL, NULL, NULL, NULL,
                 NULL);
  lane->in_flight--;
  pump->answered++;
  tally_add_status (pump->tally, status);
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
  pump->tally = tally_new ();
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

/* Until the deadline, or (without one) until every call was answered. */
static void
pump_run (Pump *pump)
{
  gint64 give_up = g_get_monotonic_time () + DRAIN_TIMEOUT_US;
  guint tick = g_timeout_add (50, wake_up, NULL);

  for (guint i = 0; i < pump->lanes->len; i++)
    lane_fill (g_ptr_array_index (pump->lanes, i));
  for (;;)
    {
      gint64 now = g_get_monotonic_time ();

      /* Time is up, or every call there was to make is answered. */
      if ((pump->deadline != 0 && now >= pump->deadline)
          || (!pump_may_send (pump) && pump->answered == pump->sent))
        break;
      if (now > give_up)
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
  return tally_format (pump->tally);
}

/* A cleanup nobody waits for: call_id 0 with NO_REPLY_EXPECTED gets no
 * answer at all (proto/org.sspid1.xml). */
static void
send_cleanup (GDBusConnection *conn, const char *method, guint64 handle)
{
  cr_send_no_reply (conn, method, g_variant_new ("(tt)", (guint64) 0, handle));
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

/* A ClientHello from an anonymous client context of @conn. */
static GVariant *
client_hello (GDBusConnection *conn, guint64 cred)
{
  g_autoptr(GVariant) first = cr_call (conn, "InitializeSecurityContext",
                                       cr_isc_params (cred, 0, "localhost", NULL, 0));

  if (cr_status_of (first) != CONTINUE_NEEDED)
    cr_die ("first client step: 0x%08x", cr_status_of (first));
  return g_variant_get_child_value (first, 2);
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
  Tally  *lists;
  Tally  *statuses;
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
  Tally *tally = is_list ? in->lists : in->statuses;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result,
                                                             &error);

  if (reply == NULL)
    tally_add_error (tally, error);
  else
    {
      tally_add (tally, "ok");
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
                          NULL, NULL, G_DBUS_CALL_FLAGS_NONE, DRAIN_TIMEOUT_US / 1000, NULL,
                          introspected, call);
}

static int
mode_introspection (const char *address, guint seconds, guint contexts, guint outstanding,
                    guint conns)
{
  Pump *pump = pump_new (address, MAX (conns, 1), 64);
  g_autofree char *made = NULL;
  g_autofree char *lists = NULL, *statuses = NULL;
  g_autoptr(Tally) list_tally = tally_new ();
  g_autoptr(Tally) status_tally = tally_new ();
  Introspection in = { pump, 0, 0, list_tally, status_tally, 0 };
  guint tick;

  for (guint i = 0; i < pump->lanes->len; i++)
    {
      Lane *lane = g_ptr_array_index (pump->lanes, i);
      lane->cred = cr_acquire_ok (lane->conn, "", SECPKG_CRED_OUTBOUND);
    }
  pump->issue = issue_client_step;
  pump->limit = contexts;
  pump_run (pump);
  made = pump_format (pump);
  cr_report ("ready contexts=%u statuses=%s", tally_get (pump->tally, "0x00090312"), made);

  in.deadline = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
  for (guint i = 0; i < outstanding; i++)
    introspect (&in, "ListContexts");
  for (guint i = 0; i < MAX (outstanding / 4, 1); i++)
    introspect (&in, "GetStatus");
  tick = g_timeout_add (50, wake_up, NULL);
  while (g_get_monotonic_time () < in.deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
  lists = tally_format (list_tally);
  statuses = tally_format (status_tally);
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
  Tally      *tally;
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
    tally_add_status (call->tally, cr_status_of (reply));
  else
    tally_add (call->tally, error_name);
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
      g_variant_new ("(tttsu@ay@as)", (guint64) 2, cred, (guint64) 0, "localhost", isc_req,
                     cr_bytes (NULL, 0), big_alpn (divisor)) },
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
      calls[k].tally = tally_new ();
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
      g_autofree char *text = tally_format (calls[k].tally);

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
                    g_variant_new ("(tttu@ay@as)", call_id, lane->cred, (guint64) 0,
                                   (guint32) (ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_STREAM),
                                   hello, g_variant_new_strv (NULL, 0)));
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
  g_autoptr(GVariant) hello = client_hello (first->conn, client);
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

/* --- record floods ------------------------------------------------------- */

/* A whole handshake between a client and a server context of @conn, tokens
 * passed by hand (what dbus-raw.h's raw_handshake does, without check). */
static void
handshake (GDBusConnection *conn, guint64 ccred, guint64 scred, guint64 *cctx, guint64 *sctx)
{
  g_autoptr(GVariant) r = cr_call (conn, "InitializeSecurityContext",
                                   cr_isc_params (ccred, 0, "localhost", NULL, 0));
  guint32 cs = cr_status_of (r), ss = CONTINUE_NEEDED;

  g_variant_get_child (r, 1, "t", cctx);
  *sctx = 0;
  for (int round = 0; round < 10 && !(cs == SEC_E_OK && ss == SEC_E_OK); round++)
    {
      g_autoptr(GVariant) token = g_variant_get_child_value (r, 2);
      gsize len;
      const guint8 *data = g_variant_get_fixed_array (token, &len, 1);

      if (cs != SEC_E_OK && cs != CONTINUE_NEEDED)
        cr_die ("client step: 0x%08x", cs);
      if (ss == SEC_E_OK)
        len = 0;    /* the client goes on with nothing from the server */
      else
        {
          g_autoptr(GVariant) s = cr_call (conn, "AcceptSecurityContext",
                                           cr_asc_params (scred, *sctx, data, len));

          ss = cr_status_of (s);
          g_variant_get_child (s, 1, "t", sctx);
          if (ss != SEC_E_OK && ss != CONTINUE_NEEDED)
            cr_die ("server step: 0x%08x", ss);
          g_clear_pointer (&token, g_variant_unref);
          token = g_variant_get_child_value (s, 2);
          data = g_variant_get_fixed_array (token, &len, 1);
        }
      if (cs != SEC_E_OK)
        {
          GVariant *next = cr_call (conn, "InitializeSecurityContext",
                                    cr_isc_params (ccred, *cctx, "localhost", data, len));

          g_clear_pointer (&r, g_variant_unref);
          r = next;
          cs = cr_status_of (r);
        }
    }
  if (cs != SEC_E_OK || ss != SEC_E_OK)
    cr_die ("handshake: client 0x%08x, server 0x%08x", cs, ss);
}

typedef struct _Records Records;

/* A record channel, written without blocking: a blocked write would stop
 * us reading the answers the daemon is waiting to write. */
typedef struct {
  int     fd;
  GQueue *out;        /* of GBytes *, whole packets not sent yet */
  guint   out_watch;
} Channel;

/* A session streaming records one way: encrypted on its client context,
 * each record then decrypted on its server context, in order (answers on
 * one context come in request order, on the bus as on a channel). */
typedef struct {
  Records         *records;
  guint            index;
  GDBusConnection *conn;
  Channel         *channel;    /* NULL: over the bus */
  guint64          cctx, sctx;
  guint            in_flight;
} Stream;

struct _Records {
  GPtrArray *streams;          /* of Stream *, owned */
  guint      window;
  gint64     deadline;
  guint8     plaintext[RECORD_SIZE];
  Tally     *channel_tally;
  Tally     *bus_tally;
};

static void stream_fill (Stream *s);

/* FALSE if the socket is full. */
static gboolean
channel_write (Channel *c, GBytes *packet)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (packet, &len);
  ssize_t n = send (c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);

  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return FALSE;
  if (n != (ssize_t) len)
    cr_die ("record channel: %s", n < 0 ? g_strerror (errno) : "short write");
  return TRUE;
}

static gboolean
channel_writable (int fd, GIOCondition condition, gpointer data)
{
  Channel *c = data;

  while (!g_queue_is_empty (c->out))
    {
      if (!channel_write (c, g_queue_peek_head (c->out)))
        return G_SOURCE_CONTINUE;
      g_bytes_unref (g_queue_pop_head (c->out));
    }
  c->out_watch = 0;
  return G_SOURCE_REMOVE;
}

static void
channel_send (Stream *s, guint16 op, guint64 handle, const guint8 *data, gsize len)
{
  g_autoptr(GVariant) body = g_variant_ref_sink (g_variant_new ("(t@ay)", handle,
                                                                cr_bytes (data, len)));
  SspidChannelHeader h = { s->index, op, 0 };
  GByteArray *packet = g_byte_array_sized_new (sizeof h + g_variant_get_size (body));
  g_autoptr(GBytes) bytes = NULL;
  Channel *c = s->channel;

  g_byte_array_append (packet, (const guint8 *) &h, sizeof h);
  g_byte_array_append (packet, g_variant_get_data (body), g_variant_get_size (body));
  bytes = g_byte_array_free_to_bytes (packet);
  if (g_queue_is_empty (c->out) && channel_write (c, bytes))
    return;
  g_queue_push_tail (c->out, g_steal_pointer (&bytes));
  if (c->out_watch == 0)
    c->out_watch = g_unix_fd_add (c->fd, G_IO_OUT, channel_writable, c);
}

static void stream_answered (Stream *s, gboolean is_encrypt, GVariant *answer, GError *error);

static void
bus_answered (GObject *source, GAsyncResult *result, gpointer data)
{
  Stream *s = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result,
                                                             &error);

  stream_answered (s, reply != NULL && g_variant_is_of_type (reply, G_VARIANT_TYPE ("(uayu)")),
                   reply, error);
}

static void
stream_send (Stream *s, gboolean is_encrypt, const guint8 *data, gsize len)
{
  guint64 handle = is_encrypt ? s->cctx : s->sctx;

  s->in_flight++;
  if (s->channel != NULL)
    channel_send (s, is_encrypt ? SSPID_CHANNEL_OP_ENCRYPT : SSPID_CHANNEL_OP_DECRYPT, handle,
                  data, len);
  else
    g_dbus_connection_call (s->conn, SSPID_BUS_NAME, SSPID_OBJECT_PATH, SSPID_INTERFACE,
                            is_encrypt ? "EncryptMessage" : "DecryptMessage",
                            g_variant_new ("(t@ay)", handle, cr_bytes (data, len)), NULL,
                            G_DBUS_CALL_FLAGS_NONE, DRAIN_TIMEOUT_US / 1000, NULL,
                            bus_answered, s);
}

/* An encrypted record goes on to be decrypted. */
static void
stream_answered (Stream *s, gboolean is_encrypt, GVariant *answer, GError *error)
{
  Tally *tally = s->channel != NULL ? s->records->channel_tally : s->records->bus_tally;

  s->in_flight--;
  if (answer == NULL)
    tally_add_error (tally, error);
  else
    {
      guint32 status = cr_status_of (answer);

      tally_add_status (tally, status);
      if (is_encrypt && status == SEC_E_OK)
        {
          g_autoptr(GVariant) record = g_variant_get_child_value (answer, 1);
          gsize len;
          const guint8 *data = g_variant_get_fixed_array (record, &len, 1);

          stream_send (s, FALSE, data, len);
        }
    }
  stream_fill (s);
}

static void
stream_fill (Stream *s)
{
  while (s->in_flight < s->records->window && g_get_monotonic_time () < s->records->deadline)
    stream_send (s, TRUE, s->records->plaintext, RECORD_SIZE);
}

/* Answers on a channel: the serial is the stream's index. */
static gboolean
channel_readable (int fd, GIOCondition condition, gpointer data)
{
  Records *records = data;
  g_autofree guint8 *buf = g_malloc (SSPID_CHANNEL_MAX_PACKET);

  for (;;)
    {
      ssize_t n = recv (fd, buf, SSPID_CHANNEL_MAX_PACKET, MSG_DONTWAIT);
      SspidChannelHeader h;
      g_autoptr(GBytes) body = NULL;
      g_autoptr(GVariant) answer = NULL;
      gboolean is_encrypt;

      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return G_SOURCE_CONTINUE;
      if (n < (ssize_t) sizeof h)
        cr_die ("record channel closed (%s)", n < 0 ? g_strerror (errno) : "EOF");
      memcpy (&h, buf, sizeof h);
      if (h.serial >= records->streams->len)
        cr_die ("answer to unknown serial %u", h.serial);
      is_encrypt = h.op == SSPID_CHANNEL_OP_ENCRYPT;
      body = g_bytes_new (buf + sizeof h, (gsize) n - sizeof h);
      answer = g_variant_ref_sink (g_variant_new_from_bytes (
        G_VARIANT_TYPE (is_encrypt ? SSPID_CHANNEL_ANSWER_ENCRYPT_TYPE
                                   : SSPID_CHANNEL_ANSWER_DECRYPT_TYPE), body, FALSE));
      stream_answered (g_ptr_array_index (records->streams, h.serial), is_encrypt, answer, NULL);
    }
}

static int
open_channel (GDBusConnection *conn)
{
  g_autoptr(GUnixFDList) fds = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  gint32 index;
  int fd;

  reply = g_dbus_connection_call_with_unix_fd_list_sync (
    conn, SSPID_BUS_NAME, SSPID_OBJECT_PATH, SSPID_INTERFACE, SSPID_METHOD_OPEN_RECORD_CHANNEL,
    NULL, G_VARIANT_TYPE ("(h)"), G_DBUS_CALL_FLAGS_NONE, CR_TIMEOUT_MS, NULL, &fds, NULL,
    &error);
  if (reply == NULL || fds == NULL)
    cr_die ("OpenRecordChannel: %s", error != NULL ? error->message : "no fd");
  g_variant_get (reply, "(h)", &index);
  fd = g_unix_fd_list_get (fds, index, &error);
  if (fd < 0)
    cr_die ("OpenRecordChannel: %s", error->message);
  return fd;
}

#define RECORD_CONNECTIONS 4

static int
mode_records (const char *address, guint seconds, guint sessions, guint window)
{
  Records records = { g_ptr_array_new_with_free_func (g_free), MAX (window, 1), 0 };
  GDBusConnection *conns[RECORD_CONNECTIONS];
  Channel channels[RECORD_CONNECTIONS] = { { 0 } };
  guint64 ccreds[RECORD_CONNECTIONS], screds[RECORD_CONNECTIONS];
  g_autofree char *on_channel = NULL, *on_bus = NULL;
  guint tick;

  records.channel_tally = tally_new ();
  records.bus_tally = tally_new ();
  memset (records.plaintext, 'r', sizeof records.plaintext);
  for (guint i = 0; i < RECORD_CONNECTIONS; i++)
    {
      conns[i] = cr_open_bus (address);
      ccreds[i] = cr_acquire_ok (conns[i], "", SECPKG_CRED_OUTBOUND);
      screds[i] = cr_acquire_ok (conns[i], NEIGHBOUR_CREDENTIAL, SECPKG_CRED_INBOUND);
      channels[i].fd = open_channel (conns[i]);
      channels[i].out = g_queue_new ();
      g_unix_fd_add (channels[i].fd, G_IO_IN, channel_readable, &records);
    }
  for (guint i = 0; i < MAX (sessions, 2); i++)
    {
      Stream *s = g_new0 (Stream, 1);
      guint c = i % RECORD_CONNECTIONS;

      s->records = &records;
      s->index = i;
      s->conn = conns[c];
      /* Alternately over a channel and over the bus. */
      s->channel = i % 2 == 0 ? &channels[c] : NULL;
      handshake (s->conn, ccreds[c], screds[c], &s->cctx, &s->sctx);
      g_ptr_array_add (records.streams, s);
    }
  cr_report ("ready sessions=%u", records.streams->len);

  records.deadline = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
  for (guint i = 0; i < records.streams->len; i++)
    stream_fill (g_ptr_array_index (records.streams, i));
  tick = g_timeout_add (50, wake_up, NULL);
  while (g_get_monotonic_time () < records.deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
  on_channel = tally_format (records.channel_tally);
  on_bus = tally_format (records.bus_tally);
  cr_report ("done channel=%s bus=%s", on_channel, on_bus);
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
    return mode_records (argv[3], seconds, (guint) a[0], (guint) a[1]);
  if (g_str_equal (mode, "credentials") && argc == 7)
    return mode_credentials (argv[3], seconds, (guint) a[0], (guint) a[1]);
  if (g_str_equal (mode, "refusals") && argc == 6)
    return mode_refusals (argv[3], seconds, (guint) a[0]);
  cr_die ("usage: %s --child introspection|bigstrings|handshakes|records|credentials|refusals "
          "ADDR SECONDS ARGS...", argv[0]);
}
