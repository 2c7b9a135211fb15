/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fault injection against the real sspid on a private bus: the promises of
 * the lifecycle (issue 4) and of robustness (issue 6) under the faults a
 * deployed daemon meets.
 *
 * - the daemon SIGKILLed with 100 handshakes in flight in this process:
 *   every pending call completes with an error within a second, old
 *   handles are dead, a restarted daemon serves new handshakes;
 * - client processes (tests/soak-client) SIGKILLed at random points of
 *   1,000 handshakes: the daemon's counts return to their baseline;
 * - a peer that stalls mid-handshake: its context becomes a tombstone at
 *   the handshake timeout (sspid-context.c's reaper: the session is freed,
 *   the handle stays and counts until deleted, every call on it answers
 *   SEC_E_CONTEXT_EXPIRED), while an established context is left alone;
 * - hostile input: a 16 MiB token, 100,000 tiny records from a real TLS
 *   peer (in-process GnuTLS), random and mangled bytes at every position
 *   of the handshake: clean errors, no growth, the daemon keeps serving;
 * - the bus itself killed and restarted at the same address: pending calls
 *   fail at once, the next call after the restart works.
 *
 * The daemon's state is read with the raw GetStatus and ListContexts calls
 * (proto/org.sspid1.xml).  Timings that are asserted are printed too.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "async-side.h"
#include "dbus-raw.h"
#include "testutil.h"
#include "tls-pair.h"

#ifndef SOAK_CLIENT
#error "SOAK_CLIENT must name tests/soak-client (see tests/Makefile.inc)"
#endif

#define MS(us) ((us) / 1000.0)

/* ---- the daemon's state --------------------------------------------------- */

/* Polls GetStatus until it says @want; the µs that took, or -1 after
 * @timeout_ms (*last says what it said last). */
static gint64
wait_for_counts (GDBusConnection *conn, const TuCounts *want, guint timeout_ms, TuCounts *last)
{
  gint64 start = g_get_monotonic_time ();

  for (;;)
    {
      gint64 now;

      *last = tu_get_counts (conn);
      now = g_get_monotonic_time ();
      if (tu_counts_equal (last, want))
        return now - start;
      if (now - start > (gint64) timeout_ms * 1000)
        return -1;
      g_usleep (5000);
    }
}

/* The state ListContexts gives for our context @handle (NULL if absent). */
static char *
dup_context_state (GDBusConnection *conn, guint64 handle)
{
  g_autoptr (GVariant) reply = call_ok (conn, "ListContexts", NULL, "(aa{sv})");
  g_autoptr (GVariant) list = g_variant_get_child_value (reply, 0);
  GVariantIter iter;
  GVariant *dict;

  g_variant_iter_init (&iter, list);
  while ((dict = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr (GVariant) d = dict;
      guint64 h = 0;
      const char *state;

      if (g_variant_lookup (d, "handle", "t", &h) && h == handle &&
          g_variant_lookup (d, "state", "&s", &state))
        return g_strdup (state);
    }
  return NULL;
}

/* ---- handshake chains through libsspi's async API -------------------------- */

/* Both ends of a handshake in this process; each step is queued from the
 * callback of the step before (as an msquic-style caller does), and the
 * time of the last callback is kept to measure how fast failures come. */

enum { CLIENT, SERVER };

typedef struct {
  AsyncSide        side[2];
  gboolean         done[2];
  guint            calls, callbacks;
  gboolean         is_finished, is_queue_failure;
  SECURITY_STATUS  status;
  gint64           finished_at;
} Chain;

static GMutex chain_lock;
static GCond chain_cond;
static guint chain_callbacks;
/* When non-zero: the daemon is stopped (SIGSTOP) from the callback that
 * makes chain_callbacks reach chain_stop_at, so that the handshakes are
 * caught mid-way however late a waiting thread would have woken. */
static pid_t chain_stop_pid;
static guint chain_stop_at;

static void chain_issue (Chain *c, int side, GBytes *input);

static void
chain_finish (Chain *c, SECURITY_STATUS status)
{
  c->status = status;
  c->is_finished = TRUE;
  c->finished_at = g_get_monotonic_time ();
  g_cond_broadcast (&chain_cond);
}

static void
chain_on_step (SspiAsyncContext *ac, void *data)
{
  Chain *c = data;
  int side = ac == c->side[SERVER].ac ? SERVER : CLIENT;
  SECURITY_STATUS status = SspiGetAsyncCallStatus (ac);
  g_autoptr (GBytes) out = NULL;

  g_mutex_lock (&chain_lock);
  c->callbacks++;
  chain_callbacks++;
  if (chain_stop_pid != 0 && chain_callbacks == chain_stop_at)
    {
      ck_assert_int_eq (kill (chain_stop_pid, SIGSTOP), 0);
      g_cond_broadcast (&chain_cond);
    }
  g_clear_pointer (&c->side[side].input, g_bytes_unref);
  (void) async_side_step_done (&c->side[side], &out);
  c->done[side] = status == SEC_E_OK;
  if (status != SEC_E_OK && status != SEC_I_CONTINUE_NEEDED)
    chain_finish (c, status);
  else if (c->done[CLIENT] && c->done[SERVER])
    chain_finish (c, SEC_E_OK);
  else if (c->done[!side] || out == NULL || g_bytes_get_size (out) == 0)
    chain_finish (c, SEC_E_INTERNAL_ERROR);   /* stalled: a bug */
  else
    chain_issue (c, !side, out);
  g_mutex_unlock (&chain_lock);
}

/* Under chain_lock. */
static void
chain_issue (Chain *c, int side, GBytes *input)
{
  SECURITY_STATUS status;

  ck_assert_int_eq (SspiReinitAsyncContext (c->side[side].ac), STATUS_SUCCESS);
  c->calls++;
  status = async_side_issue (&c->side[side], input);
  if (status != SEC_E_OK)
    {
      /* Not queued: no callback will come, and none is owed. */
      c->calls--;
      c->is_queue_failure = TRUE;
      chain_finish (c, status);
    }
}

static Chain *
chains_start (guint n, CredHandle *client_cred, CredHandle *server_cred)
{
  Chain *chains = g_new0 (Chain, n);

  g_mutex_lock (&chain_lock);
  chain_callbacks = 0;
  for (guint i = 0; i < n; i++)
    {
      Chain *c = &chains[i];

      c->side[CLIENT] = (AsyncSide) { .cred = client_cred,
                                      .req = TP_CLIENT_REQ | ISC_REQ_ALLOCATE_MEMORY };
      c->side[SERVER] = (AsyncSide) { .cred = server_cred, .is_server = TRUE,
                                      .req = TP_SERVER_REQ | ASC_REQ_ALLOCATE_MEMORY };
      for (int side = CLIENT; side <= SERVER; side++)
        {
          c->side[side].ac = SspiCreateAsyncContext ();
          ck_assert_ptr_nonnull (c->side[side].ac);
          ck_assert_int_eq (SspiSetAsyncNotifyCallback (c->side[side].ac, chain_on_step, c),
                            SEC_E_OK);
        }
      chain_issue (c, CLIENT, NULL);
    }
  g_mutex_unlock (&chain_lock);
  return chains;
}

static guint
chains_count_finished (Chain *chains, guint n)
{
  guint finished = 0;

  g_mutex_lock (&chain_lock);
  for (guint i = 0; i < n; i++)
    finished += chains[i].is_finished;
  g_mutex_unlock (&chain_lock);
  return finished;
}

static gboolean
chains_wait (Chain *chains, guint n, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  gboolean all = FALSE;

  g_mutex_lock (&chain_lock);
  for (;;)
    {
      guint finished = 0;

      for (guint i = 0; i < n; i++)
        finished += chains[i].is_finished;
      all = finished == n;
      if (all || !g_cond_wait_until (&chain_cond, &chain_lock, deadline))
        break;
    }
  g_mutex_unlock (&chain_lock);
  return all;
}

/* Frees what the chains hold; with @delete, their contexts too (only while
 * the session they were made on lives). */
static void
chains_free (Chain *chains, guint n, gboolean delete)
{
  for (guint i = 0; i < n; i++)
    for (int side = CLIENT; side <= SERVER; side++)
      {
        AsyncSide *end = &chains[i].side[side];

        if (delete && end->has_ctx)
          ck_assert_int_eq (DeleteSecurityContext (&end->ctx), SEC_E_OK);
        SspiFreeAsyncContext (end->ac);
      }
  g_free (chains);
}

static void
run_good_chains (guint n, CredHandle *client_cred, CredHandle *server_cred)
{
  Chain *chains = chains_start (n, client_cred, server_cred);

  ck_assert_msg (chains_wait (chains, n, 60000), "handshakes did not finish in 60 s");
  for (guint i = 0; i < n; i++)
    {
      ck_assert_msg (chains[i].status == SEC_E_OK, "handshake %u: 0x%08x", i,
                     (guint32) chains[i].status);
      ck_assert_uint_eq (chains[i].calls, chains[i].callbacks);
    }
  chains_free (chains, n, TRUE);
}

/* ---- (a) the daemon killed under 100 handshakes ----------------------------- */

#define N_KILL_CHAINS 100

/* Handles of a dead session: refused at once, whatever the daemon.
 * Returns how many context handles were tried. */
static guint
assert_handles_dead (CredHandle *client_cred, CredHandle *server_cred, Chain *chains, guint n)
{
  CtxtHandle new_ctx;
  SecBuffer out_buf = { 0, SECBUFFER_TOKEN, NULL };
  SecBufferDesc out = { SECBUFFER_VERSION, 1, &out_buf };
  SecPkgContext_StreamSizes sizes;
  ULONG attrs;
  gboolean queued = TRUE;
  guint contexts = 0;

  ck_assert_int_eq (tp_isc (client_cred, NULL, "localhost", TP_CLIENT_REQ | ISC_REQ_ALLOCATE_MEMORY,
                            NULL, &new_ctx, &out, &attrs, &queued), SEC_E_INVALID_HANDLE);
  ck_assert (!queued);
  for (guint i = 0; i < n; i++)
    for (int side = CLIENT; side <= SERVER; side++)
      if (chains[i].side[side].has_ctx)
        {
          CtxtHandle *ctx = &chains[i].side[side].ctx;

          contexts++;
          ck_assert_int_eq (QueryContextAttributesA (ctx, SECPKG_ATTR_STREAM_SIZES, &sizes),
                            SEC_E_INVALID_HANDLE);
          ck_assert_int_eq (DeleteSecurityContext (ctx), SEC_E_INVALID_HANDLE);
        }
  ck_assert_int_eq (FreeCredentialsHandle (server_cred), SEC_E_INVALID_HANDLE);
  return contexts;
}

START_TEST (test_daemon_killed)
{
  gboolean is_mid_handshake = _i == 1;
  CredHandle client_cred, server_cred, new_client, new_server;
  Chain *chains;
  guint pending = 0, refused = 0, at_kill;
  gint64 killed_at, latest = 0;

  tu_fixture_setup ();
  ck_assert_int_eq (tp_acquire (NULL, SECPKG_CRED_OUTBOUND, 0, 0, &client_cred), SEC_E_OK);
  ck_assert_int_eq (tp_acquire ("server", SECPKG_CRED_INBOUND, 0, 0, &server_cred), SEC_E_OK);

  /* Stopped, the daemon holds every call sent to it: all are pending when
   * it dies.  Either every handshake is at its first step, or they are
   * spread over all steps (stopped once a quarter of the steps are done). */
  if (!is_mid_handshake)
    ck_assert_int_eq (kill (tu_fixture_env->daemon_pid, SIGSTOP), 0);
  else
    {
      chain_stop_pid = tu_fixture_env->daemon_pid;
      chain_stop_at = N_KILL_CHAINS;
    }
  chains = chains_start (N_KILL_CHAINS, &client_cred, &server_cred);
  if (is_mid_handshake)
    {
      g_mutex_lock (&chain_lock);
      while (chain_callbacks < N_KILL_CHAINS)
        g_cond_wait (&chain_cond, &chain_lock);
      chain_stop_pid = 0;
      g_mutex_unlock (&chain_lock);
    }
  g_usleep (200 * 1000);   /* answers already sent are in, no more can come */
  at_kill = N_KILL_CHAINS - chains_count_finished (chains, N_KILL_CHAINS);
  ck_assert_uint_ge (at_kill, is_mid_handshake ? N_KILL_CHAINS / 4 : N_KILL_CHAINS);

  killed_at = g_get_monotonic_time ();
  ck_assert_int_eq (kill (tu_fixture_env->daemon_pid, SIGKILL), 0);
  ck_assert_msg (chains_wait (chains, N_KILL_CHAINS, tu_scaled_ms (10000)),
                 "%u handshakes still pending 10 s after the daemon died",
                 N_KILL_CHAINS - chains_count_finished (chains, N_KILL_CHAINS));

  for (guint i = 0; i < N_KILL_CHAINS; i++)
    {
      Chain *c = &chains[i];

      ck_assert_uint_eq (c->calls, c->callbacks);
      if (c->finished_at < killed_at)
        {
          ck_assert_int_eq (c->status, SEC_E_OK);
          continue;
        }
      latest = MAX (latest, c->finished_at - killed_at);
      /* A pending call fails; a step issued from a callback after the
       * session died is refused at once (its handles are stale). */
      if (c->is_queue_failure)
        {
          refused++;
          ck_assert_msg (c->status == SEC_E_INVALID_HANDLE ||
                         c->status == SEC_E_NO_AUTHENTICATING_AUTHORITY,
                         "refused with 0x%08x", (guint32) c->status);
        }
      else
        {
          pending++;
          ck_assert_int_eq (c->status, SEC_E_NO_AUTHENTICATING_AUTHORITY);
        }
    }
  printf ("daemon killed %s: %u handshakes in flight, %u pending calls failed, %u refused, "
          "last callback %.1f ms after the kill\n",
          is_mid_handshake ? "mid-handshake" : "at the first step", at_kill, pending, refused,
          MS (latest));
  printf ("daemon_kill_fail_ms %.1f\n", MS (latest));
  ck_assert_uint_eq (pending + refused, at_kill);
  ck_assert_uint_gt (pending, 0);
  ck_assert_msg (latest < G_USEC_PER_SEC, "the last callback came %.1f ms after the kill",
                 MS (latest));

  tu_env_kill_daemon (tu_fixture_env, SIGKILL);   /* reaps it, waits for the name to go */
  /* Mid-handshake, contexts existed; at the first step none had yet. */
  ck_assert_uint_eq (assert_handles_dead (&client_cred, &server_cred, chains, N_KILL_CHAINS) > 0,
                     is_mid_handshake);
  tu_env_start_daemon (tu_fixture_env);
  assert_handles_dead (&client_cred, &server_cred, chains, N_KILL_CHAINS);
  chains_free (chains, N_KILL_CHAINS, FALSE);

  ck_assert_int_eq (tp_acquire (NULL, SECPKG_CRED_OUTBOUND, 0, 0, &new_client), SEC_E_OK);
  ck_assert_int_eq (tp_acquire ("server", SECPKG_CRED_INBOUND, 0, 0, &new_server), SEC_E_OK);
  run_good_chains (20, &new_client, &new_server);
  ck_assert_int_eq (tp_free_credential (&new_client), SEC_E_OK);
  ck_assert_int_eq (tp_free_credential (&new_server), SEC_E_OK);
}
END_TEST

/* ---- (b) clients killed at random points of 1,000 handshakes ----------------- */

#define KILL_HANDSHAKES         1000
#define WRAPPED_KILL_HANDSHAKES 100
#define KILL_CLIENTS            8

typedef struct {
  GPid  pid;
  char *tag;
  guint kill_at;   /* handshakes done before it is killed */
} Victim;

static guint spawned_clients;

static void
victim_spawn (Victim *v, GRand *rand)
{
  g_autofree char *seed = g_strdup_printf ("%u", g_rand_int (rand) | 1);
  const char *argv[] = { SOAK_CLIENT, "--parallel", "8", "--seed", seed, NULL };

  g_free (v->tag);
  v->tag = g_strdup_printf ("victim-%u", spawned_clients++);
  v->kill_at = (guint) g_rand_int_range (rand, 1, 60);
  v->pid = tu_spawn (tu_fixture_env, v->tag, argv, NULL);
}

/* Handshakes the client has reported (one 'h' each). */
static guint
victim_done (Victim *v)
{
  g_autofree char *name = g_strconcat (v->tag, ".out", NULL);
  g_autofree char *path = g_build_filename (tu_fixture_env->dir, name, NULL);
  struct stat st;

  return stat (path, &st) == 0 ? (guint) st.st_size : 0;
}

/* Fails the test if the client ended by itself: it never should. */
static void
victim_check_alive (Victim *v)
{
  int status;

  if (waitpid (v->pid, &status, WNOHANG) != v->pid)
    return;
  g_printerr ("%s", tu_spawn_output (tu_fixture_env, v->tag));
  ck_abort_msg ("%s ended by itself (wait status 0x%x)", v->tag, (unsigned) status);
}

static void
victim_kill (Victim *v)
{
  int status;

  ck_assert_int_eq (kill (v->pid, SIGKILL), 0);
  ck_assert_int_eq (waitpid (v->pid, &status, 0), v->pid);
  if (!WIFSIGNALED (status) || WTERMSIG (status) != SIGKILL)
    {
      g_printerr ("%s", tu_spawn_output (tu_fixture_env, v->tag));
      ck_abort_msg ("%s ended by itself (wait status 0x%x)", v->tag, (unsigned) status);
    }
  g_spawn_close_pid (v->pid);
  v->pid = 0;
}

START_TEST (test_clients_killed)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (6);
  g_autoptr (GDBusConnection) conn = NULL;
  Victim victims[KILL_CLIENTS] = { { 0 } };
  guint target = tu_is_wrapped () ? WRAPPED_KILL_HANDSHAKES : KILL_HANDSHAKES;
  guint done_killed = 0, done_live, kills = 0;
  gint64 deadline = g_get_monotonic_time () + 120 * G_TIME_SPAN_SECOND;
  gint64 took;
  TuCounts baseline, before, last;

  tu_fixture_setup ();
  conn = connect_bus (tu_fixture_env);
  baseline = tu_get_counts (conn);

  for (guint i = 0; i < KILL_CLIENTS; i++)
    victim_spawn (&victims[i], rand);
  for (;;)
    {
      done_live = 0;
      for (guint i = 0; i < KILL_CLIENTS; i++)
        {
          Victim *v = &victims[i];
          guint done = victim_done (v);

          victim_check_alive (v);
          if (done < v->kill_at)
            {
              done_live += done;
              continue;
            }
          /* Somewhere inside its next handshakes. */
          g_usleep (g_rand_int_range (rand, 0, 10000));
          victim_kill (v);
          kills++;
          done_killed += victim_done (v);
          victim_spawn (v, rand);
        }
      if (done_killed + done_live >= target)
        break;
      ck_assert_msg (g_get_monotonic_time () < deadline, "only %u handshakes in 120 s",
                     done_killed + done_live);
      g_usleep (2000);
    }

  /* The last ones die together, with their handshakes in flight. */
  before = tu_get_counts (conn);
  ck_assert_msg (before.contexts > baseline.contexts && before.clients > baseline.clients,
                 "nothing in flight before the last kill: " TU_COUNTS_FORMAT, TU_COUNTS_ARGS (before));
  for (guint i = 0; i < KILL_CLIENTS; i++)
    {
      victim_kill (&victims[i]);
      kills++;
      done_killed += victim_done (&victims[i]);
      g_free (victims[i].tag);
    }
  took = wait_for_counts (conn, &baseline, tu_is_wrapped () ? 30000 : 2000, &last);
  printf ("clients killed: %u processes killed over %u handshakes; before the last kill "
          TU_COUNTS_FORMAT "; back to baseline in %.1f ms\n", kills, done_killed,
          TU_COUNTS_ARGS (before), MS (took));
  ck_assert_msg (took >= 0, "after the kill: " TU_COUNTS_FORMAT ", baseline " TU_COUNTS_FORMAT,
                 TU_COUNTS_ARGS (last), TU_COUNTS_ARGS (baseline));
  ck_assert_uint_ge (done_killed, target);
  assert_daemon_healthy (conn);
}
END_TEST

/* ---- (c) a peer that stalls mid-handshake ------------------------------------ */

START_TEST (test_stalled_handshake)
{
  g_autoptr (GDBusConnection) conn = NULL;
  g_autoptr (GVariant) hello = NULL, flight = NULL, r = NULL;
  g_autoptr (GBytes) hello_token = NULL, flight_token = NULL;
  guint64 client_cred, server_cred, client, server, est_client, est_server;
  gint64 latest_reap = (tu_is_wrapped () ? 10000 : 3800) * G_TIME_SPAN_MILLISECOND;
  gint64 created, reaped_after = -1;
  TuCounts baseline, now;

  tu_fixture_setup_with ("[daemon]\nhandshake-timeout-sec=2\n");
  conn = connect_bus (tu_fixture_env);
  baseline = tu_get_counts (conn);
  client_cred = acquire_ok (conn, "", SECPKG_CRED_OUTBOUND);
  server_cred = acquire_ok (conn, "server", SECPKG_CRED_INBOUND);

  /* Both ends half way, then nobody feeds them. */
  created = g_get_monotonic_time ();
  hello = initialize (conn, client_cred, 0, NULL, 0);
  ck_assert_uint_eq (step_status (hello), (guint32) SEC_I_CONTINUE_NEEDED);
  client = step_handle (hello);
  hello_token = child_bytes (hello, 2);
  flight = accept_ctx (conn, server_cred, 0, g_bytes_get_data (hello_token, NULL),
                       g_bytes_get_size (hello_token));
  ck_assert_uint_eq (step_status (flight), (guint32) SEC_I_CONTINUE_NEEDED);
  server = step_handle (flight);
  flight_token = child_bytes (flight, 2);
  /* One that finished in time stays. */
  raw_handshake (conn, &est_client, &est_server);
  now = tu_get_counts (conn);
  ck_assert_uint_eq (now.contexts, baseline.contexts + 4);

  /* The reaper looks once a second: expired between 2 and 3 s old (and a
   * little later by our clock, which polls every 50 ms). */
  while (g_get_monotonic_time () - created < latest_reap + G_TIME_SPAN_SECOND / 2)
    {
      g_autofree char *state = dup_context_state (conn, client);

      ck_assert_ptr_nonnull (state);
      if (reaped_after < 0 && g_str_equal (state, "expired"))
        reaped_after = g_get_monotonic_time () - created;
      if (reaped_after < 0)
        ck_assert_str_eq (state, "handshake");
      g_usleep (50 * 1000);
    }
  printf ("stalled handshake reaped %.0f ms after it started (timeout 2 s)\n", MS (reaped_after));
  ck_assert_msg (reaped_after >= 2 * G_TIME_SPAN_SECOND && reaped_after <= latest_reap,
                 "reaped after %.0f ms", MS (reaped_after));

  /* Tombstones: listed as expired and still counted, until deleted; the
   * established pair is untouched. */
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *state = dup_context_state (conn, i ? server : client);
      ck_assert_str_eq (state, "expired");
    }
  assert_state (conn, est_client, "established");
  assert_state (conn, est_server, "established");
  now = tu_get_counts (conn);
  ck_assert_uint_eq (now.contexts, baseline.contexts + 4);

  r = initialize (conn, client_cred, client, g_bytes_get_data (flight_token, NULL),
                  g_bytes_get_size (flight_token));
  ck_assert_uint_eq (step_status (r), (guint32) SEC_E_CONTEXT_EXPIRED);
  g_clear_pointer (&r, g_variant_unref);
  r = accept_ctx (conn, server_cred, server, NULL, 0);
  ck_assert_uint_eq (step_status (r), (guint32) SEC_E_CONTEXT_EXPIRED);
  g_clear_pointer (&r, g_variant_unref);
  r = query (conn, client);
  ck_assert_uint_eq (step_status (r), (guint32) SEC_E_CONTEXT_EXPIRED);
  g_clear_pointer (&r, g_variant_unref);
  r = encrypt (conn, est_client, (const guint8 *) "still here", 10);
  ck_assert_uint_eq (step_status (r), (guint32) SEC_E_OK);
  g_clear_pointer (&r, g_variant_unref);

  for (guint i = 0; i < 2; i++)
    {
      r = delete_ctx (conn, i ? server : client);
      ck_assert_uint_eq (step_status (r), (guint32) SEC_E_OK);
      g_clear_pointer (&r, g_variant_unref);
    }
  now = tu_get_counts (conn);
  ck_assert_uint_eq (now.contexts, baseline.contexts + 2);
  ck_assert_ptr_null (dup_context_state (conn, client));
}
END_TEST

/* ---- (e) the bus restarted ------------------------------------------------------ */

/* A new dbus-daemon with the env's config, so at the same socket path. */
static void
restart_bus (void)
{
  g_autofree char *config = g_build_filename (tu_fixture_env->dir, "bus.conf", NULL);
  g_autofree char *config_arg = g_strconcat ("--config-file=", config, NULL);
  g_autofree char *out_path = g_build_filename (tu_fixture_env->dir, "bus-restarted.out", NULL);
  const char *argv[] = { "dbus-daemon", config_arg, "--nofork", "--print-address=1", NULL };
  gint64 deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;
  g_autofree char *address = NULL;

  tu_fixture_env->bus_pid = tu_spawn (tu_fixture_env, "bus-restarted", argv, NULL);
  while (address == NULL || strchr (address, '\n') == NULL)
    {
      g_clear_pointer (&address, g_free);
      ck_assert_msg (g_get_monotonic_time () < deadline, "the new bus did not say its address");
      g_usleep (10 * 1000);
      g_file_get_contents (out_path, &address, NULL, NULL);
    }
  g_free (tu_fixture_env->bus_address);
  tu_fixture_env->bus_address = g_strdup (g_strstrip (address));
}

/* The daemon leaves when its bus goes: reap it. */
static void
reap_daemon_gone_with_bus (void)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;
  int status;

  while (waitpid (tu_fixture_env->daemon_pid, &status, WNOHANG) != tu_fixture_env->daemon_pid)
    {
      ck_assert_msg (g_get_monotonic_time () < deadline, "sspid outlived its bus by 10 s");
      g_usleep (10 * 1000);
    }
  ck_assert_msg (WIFEXITED (status), "sspid did not exit cleanly (0x%x)", (unsigned) status);
  tu_fixture_env->daemon_pid = 0;
}

#define N_BUS_CHAINS 20

START_TEST (test_bus_restarted)
{
  g_autofree char *socket = NULL, *address = NULL;
  CredHandle client_cred, server_cred, old_cred;
  Chain *chains;
  gint64 killed_at, latest = 0, start;
  SECURITY_STATUS status;
  int bus_status;

  tu_fixture_setup ();
  /* Clients know a system bus by its path alone (no guid), which is what
   * lets them reach the bus that replaces it. */
  socket = g_build_filename (tu_fixture_env->dir, "bus", NULL);
  address = g_strdup_printf ("unix:path=%s", socket);
  g_setenv (SSPID_BUS_ADDRESS_ENV, address, TRUE);
  ck_assert_int_eq (tp_acquire (NULL, SECPKG_CRED_OUTBOUND, 0, 0, &client_cred), SEC_E_OK);
  ck_assert_int_eq (tp_acquire ("server", SECPKG_CRED_INBOUND, 0, 0, &server_cred), SEC_E_OK);
  old_cred = client_cred;

  ck_assert_int_eq (kill (tu_fixture_env->daemon_pid, SIGSTOP), 0);
  chains = chains_start (N_BUS_CHAINS, &client_cred, &server_cred);
  g_usleep (200 * 1000);
  ck_assert_uint_eq (chains_count_finished (chains, N_BUS_CHAINS), 0);

  killed_at = g_get_monotonic_time ();
  ck_assert_int_eq (kill (tu_fixture_env->bus_pid, SIGKILL), 0);
  ck_assert_msg (chains_wait (chains, N_BUS_CHAINS, tu_scaled_ms (10000)), "calls still pending 10 s after the bus died");
  for (guint i = 0; i < N_BUS_CHAINS; i++)
    {
      ck_assert_int_eq (chains[i].status, SEC_E_NO_AUTHENTICATING_AUTHORITY);
      ck_assert_uint_eq (chains[i].calls, chains[i].callbacks);
      latest = MAX (latest, chains[i].finished_at - killed_at);
    }
  printf ("bus killed: %u pending calls failed, the last %.1f ms after the kill\n",
          N_BUS_CHAINS, MS (latest));
  printf ("bus_kill_fail_ms %.1f\n", MS (latest));
  ck_assert_msg (latest < G_USEC_PER_SEC, "the last callback came %.1f ms after the kill",
                 MS (latest));
  chains_free (chains, N_BUS_CHAINS, FALSE);
  ck_assert_int_eq (waitpid (tu_fixture_env->bus_pid, &bus_status, 0), tu_fixture_env->bus_pid);
  tu_fixture_env->bus_pid = 0;
  ck_assert_int_eq (kill (tu_fixture_env->daemon_pid, SIGCONT), 0);
  reap_daemon_gone_with_bus ();

  /* No bus: a call says so at once. */
  start = g_get_monotonic_time ();
  status = tp_acquire (NULL, SECPKG_CRED_OUTBOUND, 0, 0, &client_cred);
  ck_assert_int_eq (status, SEC_E_NO_AUTHENTICATING_AUTHORITY);
  ck_assert_msg (g_get_monotonic_time () - start < G_USEC_PER_SEC, "refusing took %.1f ms",
                 MS (g_get_monotonic_time () - start));

  /* Bus and daemon back: the next call gets through; old handles stay dead. */
  restart_bus ();
  tu_env_start_daemon (tu_fixture_env);
  ck_assert_int_eq (tp_acquire (NULL, SECPKG_CRED_OUTBOUND, 0, 0, &client_cred), SEC_E_OK);
  ck_assert_int_eq (tp_acquire ("server", SECPKG_CRED_INBOUND, 0, 0, &server_cred), SEC_E_OK);
  ck_assert_int_eq (FreeCredentialsHandle (&old_cred), SEC_E_INVALID_HANDLE);
  run_good_chains (5, &client_cred, &server_cred);
  ck_assert_int_eq (tp_free_credential (&client_cred), SEC_E_OK);
  ck_assert_int_eq (tp_free_credential (&server_cred), SEC_E_OK);
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "daemon", NULL, tu_fixture_teardown, 120, { { test_daemon_killed, 2 } } },
    { "clients", NULL, tu_fixture_teardown, 180, { { test_clients_killed } } },
    { "timeout", NULL, tu_fixture_teardown, 60, { { test_stalled_handshake } } },
    { "bus", NULL, tu_fixture_teardown, 120, { { test_bus_restarted } } },
  };

  return tu_run_cases ("faults", cases, G_N_ELEMENTS (cases));
}
