/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Record channels (proto/sspid-channel.h): EncryptMessage/DecryptMessage
 * over the socket OpenRecordChannel hands out, on the real daemon.
 *
 * - libsspi's records really take the channel (the daemon's counter of
 *   channel requests moves, and with SSPI_RECORD_CHANNEL=0 it does not);
 * - the framing by hand: a record sealed and opened over a raw channel;
 * - hostile packets (short, bad header, bad body, oversize, random) get an
 *   error answer or a closed channel, and the daemon keeps serving;
 * - scoping: another connection's handle is SEC_E_INVALID_HANDLE, exactly
 *   like a handle that never existed; the per-connection channel limit;
 * - a caller that writes and never reads neither grows the daemon nor
 *   stalls other callers;
 * - a fork()ed child opens its own channel; the parent's keeps working;
 * - the daemon dying under a record call gives
 *   SEC_E_NO_AUTHENTICATING_AUTHORITY.
 *
 * Also the other saving of issue 7's IPC budget: a DeleteSecurityContext
 * with call_id 0 gets no Completed, and libsspi sends its fire-and-forget
 * deletes (no callback) that way, completing them at once.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <gio/gunixfdlist.h>

#include "channel-raw.h"
#include "dbus-raw.h"
#include "sspid-channel.h"
#include "sync-pair.h"
#include "testutil.h"

static const SyncPairOptions no_options = { 0 };

/* --- helpers ------------------------------------------------------------- */

/* --- libsspi ------------------------------------------------------------- */

START_TEST (test_records_use_channel)
{
  SyncPair p = { 0 };
  guint64 before;

  sync_pair_handshake (&p, &no_options);
  sync_pair_read_tickets (&p);   /* the tickets: records too */
  before = status_value ("channel-requests");
  for (int i = 0; i < 10; i++)
    sync_pair_exchange_records (&p);
  /* 2 EncryptMessage + 2 DecryptMessage per round trip, all on the channel. */
  ck_assert_uint_eq (status_value ("channel-requests") - before, 40);
  ck_assert_uint_eq (status_value ("channels"), 1);
  sync_pair_clear (&p);
}
END_TEST

/* The process's SOCK_SEQPACKET fds: only a record channel is one. */
static GArray *
seqpacket_fds (void)
{
  GArray *fds = g_array_new (FALSE, FALSE, sizeof (int));

  for (int fd = 0; fd < 1024; fd++)
    {
      int type;
      socklen_t len = sizeof type;

      if (getsockopt (fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_SEQPACKET)
        g_array_append_val (fds, fd);
    }
  return fds;
}

START_TEST (test_channel_fd_is_cloexec)
{
  SyncPair p = { 0 };
  g_autoptr(GArray) before = NULL;
  g_autoptr(GArray) after = NULL;
  int fd;

  sync_pair_handshake (&p, &no_options);
  before = seqpacket_fds ();
  ck_assert_uint_eq (before->len, 0);
  sync_pair_read_tickets (&p);
  sync_pair_exchange_records (&p);
  after = seqpacket_fds ();
  ck_assert_uint_eq (after->len, 1);
  fd = g_array_index (after, int, 0);
  /* Never inherited by a program the caller runs. */
  ck_assert (fcntl (fd, F_GETFD) & FD_CLOEXEC);
  /* Blocking on our side (the daemon's end is the non-blocking one). */
  ck_assert (!(fcntl (fd, F_GETFL) & O_NONBLOCK));
  sync_pair_clear (&p);
}
END_TEST

typedef struct {
  SyncPair pair;
  guint    rounds;
} Worker;

static gpointer
records_thread (gpointer data)
{
  Worker *w = data;

  for (guint i = 0; i < w->rounds; i++)
    sync_pair_exchange_records (&w->pair);
  return NULL;
}

START_TEST (test_records_from_threads)
{
  Worker w[4];
  GThread *t[G_N_ELEMENTS (w)];
  guint64 before;

  for (gsize i = 0; i < G_N_ELEMENTS (w); i++)
    {
      memset (&w[i], 0, sizeof w[i]);
      sync_pair_handshake (&w[i].pair, &no_options);
      sync_pair_read_tickets (&w[i].pair);
      w[i].rounds = 25;
    }
  before = status_value ("channel-requests");
  /* One channel for the process: requests of every thread share it, each
   * answer reaching the thread that asked (the round trips check bytes). */
  for (gsize i = 0; i < G_N_ELEMENTS (w); i++)
    t[i] = g_thread_new ("records", records_thread, &w[i]);
  for (gsize i = 0; i < G_N_ELEMENTS (w); i++)
    g_thread_join (t[i]);
  ck_assert_uint_eq (status_value ("channel-requests") - before, 4 * 25 * 4);
  ck_assert_uint_eq (status_value ("channels"), 1);
  for (gsize i = 0; i < G_N_ELEMENTS (w); i++)
    sync_pair_clear (&w[i].pair);
}
END_TEST

START_TEST (test_records_without_channel)
{
  SyncPair p = { 0 };
  guint64 before;

  /* Read when the library connects: this process has not yet. */
  g_setenv ("SSPI_RECORD_CHANNEL", "0", TRUE);
  sync_pair_handshake (&p, &no_options);
  sync_pair_read_tickets (&p);
  before = status_value ("channel-requests");
  sync_pair_exchange_records (&p);
  ck_assert_uint_eq (status_value ("channel-requests"), before);
  ck_assert_uint_eq (status_value ("channels"), 0);
  sync_pair_clear (&p);
  g_unsetenv ("SSPI_RECORD_CHANNEL");
}
END_TEST

/* --- the framing by hand ------------------------------------------------- */

START_TEST (test_raw_round_trip)
{
  g_autoptr(GDBusConnection) conn = connect_bus (tu_fixture_env);
  guint64 cctx, sctx;
  int fd;
  SspidChannelHeader h;
  g_autoptr(GVariant) sealed = NULL;
  g_autoptr(GVariant) record = NULL;
  g_autoptr(GVariant) opened = NULL;
  const guint8 msg[] = "hello over the channel";
  const guint8 *bytes;
  gsize len;
  guint32 status;

  raw_handshake (conn, &cctx, &sctx);
  fd = open_channel_ok (conn);

  send_request (fd, 7, SSPID_CHANNEL_OP_ENCRYPT, cctx, msg, sizeof msg);
  sealed = recv_answer (fd, SSPID_CHANNEL_ANSWER_ENCRYPT_TYPE, &h);
  ck_assert (sealed != NULL);
  ck_assert_uint_eq (h.serial, 7);
  g_variant_get (sealed, "(u@ayu)", &status, &record, NULL);
  ck_assert_uint_eq (status, (guint32) SEC_E_OK);
  bytes = g_variant_get_fixed_array (record, &len, 1);
  ck_assert_uint_gt (len, sizeof msg);

  send_request (fd, 8, SSPID_CHANNEL_OP_DECRYPT, sctx, bytes, len);
  opened = recv_answer (fd, SSPID_CHANNEL_ANSWER_DECRYPT_TYPE, &h);
  ck_assert (opened != NULL);
  ck_assert_uint_eq (h.serial, 8);
  ck_assert_uint_eq (h.op, SSPID_CHANNEL_OP_DECRYPT);
  {
    g_autoptr(GVariant) plain = NULL;
    guint32 used, extra;

    g_variant_get (opened, "(u@ayuuuu)", &status, &plain, NULL, &used, &extra, NULL);
    ck_assert_uint_eq (status, (guint32) SEC_E_OK);
    ck_assert_uint_eq (used, len);
    ck_assert_uint_eq (extra, 0);
    bytes = g_variant_get_fixed_array (plain, &len, 1);
    ck_assert_uint_eq (len, sizeof msg);
    ck_assert (memcmp (bytes, msg, sizeof msg) == 0);
  }
  close (fd);
}
END_TEST

/* --- hostile packets ----------------------------------------------------- */

START_TEST (test_hostile_packets)
{
  g_autoptr(GDBusConnection) conn = connect_bus (tu_fixture_env);
  g_autofree guint8 *big = g_malloc0 (SSPID_CHANNEL_MAX_PACKET + 4096);
  guint64 cctx, sctx;
  int fd;

  raw_handshake (conn, &cctx, &sctx);

  /* Shorter than a header: closed. */
  fd = open_channel_ok (conn);
  ck_assert_int_eq (send (fd, "abc", 3, MSG_NOSIGNAL), 3);
  assert_closed (fd);
  close (fd);

  /* An unknown op, or flags set: closed. */
  fd = open_channel_ok (conn);
  ck_assert_int_eq (send_packet (fd, 1, 99, 0, "12345678", 8, 0), 16);
  assert_closed (fd);
  close (fd);
  fd = open_channel_ok (conn);
  ck_assert_int_eq (send_packet (fd, 1, SSPID_CHANNEL_OP_ENCRYPT, 1, "12345678", 8, 0), 16);
  assert_closed (fd);
  close (fd);

  /* A body too short for "(tay)": an error status, and the channel serves on. */
  fd = open_channel_ok (conn);
  ck_assert_int_eq (send_packet (fd, 2, SSPID_CHANNEL_OP_ENCRYPT, 0, "1234", 4, 0), 12);
  ck_assert_uint_eq (answer_status (fd, 2, SSPID_CHANNEL_OP_ENCRYPT),
                     (guint32) SEC_E_INVALID_TOKEN);
  ck_assert_int_eq (send_packet (fd, 3, SSPID_CHANNEL_OP_DECRYPT, 0, "", 0, 0), 8);
  ck_assert_uint_eq (answer_status (fd, 3, SSPID_CHANNEL_OP_DECRYPT),
                     (guint32) SEC_E_INVALID_TOKEN);

  /* Oversize: what the bus method answers for too much input. */
  ck_assert_int_gt (send_packet (fd, 4, SSPID_CHANNEL_OP_ENCRYPT, 0, big,
                                 SSPID_CHANNEL_MAX_PACKET + 4096, 0), 0);
  ck_assert_uint_eq (answer_status (fd, 4, SSPID_CHANNEL_OP_ENCRYPT),
                     (guint32) SEC_E_INVALID_PARAMETER);
  ck_assert_int_gt (send_packet (fd, 5, SSPID_CHANNEL_OP_DECRYPT, 0, big,
                                 SSPID_CHANNEL_MAX_PACKET + 4096, 0), 0);
  ck_assert_uint_eq (answer_status (fd, 5, SSPID_CHANNEL_OP_DECRYPT),
                     (guint32) SEC_E_INVALID_TOKEN);

  /* Garbage as a record on a real context: refused, the context lives. */
  send_request (fd, 6, SSPID_CHANNEL_OP_DECRYPT, sctx, "\x17\x03\x03\x00\x05hello", 10);
  ck_assert_uint_ne (answer_status (fd, 6, SSPID_CHANNEL_OP_DECRYPT), (guint32) SEC_E_OK);

  /* Random bodies behind valid headers: each answered (or the channel
   * closed), never a crash. */
  for (guint32 i = 0; i < 200; i++)
    {
      guint8 junk[256];
      gsize len = g_random_int_range (0, sizeof junk);
      guint16 op = (i & 1) ? SSPID_CHANNEL_OP_ENCRYPT : SSPID_CHANNEL_OP_DECRYPT;
      SspidChannelHeader h;
      g_autoptr(GVariant) a = NULL;

      for (gsize k = 0; k < len; k++)
        junk[k] = (guint8) g_random_int ();
      /* Sometimes a live handle, so the engine sees the junk too. */
      if (len >= 8 && (i % 3) == 0)
        memcpy (junk, op == SSPID_CHANNEL_OP_ENCRYPT ? &cctx : &sctx, 8);
      ck_assert_int_eq (send_packet (fd, 100 + i, op, 0, junk, len, 0),
                        (ssize_t) (sizeof h + len));
      a = recv_answer (fd, op == SSPID_CHANNEL_OP_ENCRYPT ? SSPID_CHANNEL_ANSWER_ENCRYPT_TYPE
                                                         : SSPID_CHANNEL_ANSWER_DECRYPT_TYPE,
                       &h);
      ck_assert (a != NULL);
      ck_assert_uint_eq (h.serial, 100 + i);
    }
  close (fd);

  /* The daemon serves everyone as before, records included. */
  assert_daemon_healthy (conn);
  sync_pair_assert_serves_records ();
}
END_TEST

/* --- scoping and limits -------------------------------------------------- */

START_TEST (test_other_connection_handle)
{
  g_autoptr(GDBusConnection) owner = connect_bus (tu_fixture_env);
  g_autoptr(GDBusConnection) other = connect_bus (tu_fixture_env);
  guint64 cctx, sctx;
  int fd;

  raw_handshake (owner, &cctx, &sctx);
  fd = open_channel_ok (other);
  send_request (fd, 1, SSPID_CHANNEL_OP_ENCRYPT, cctx, "x", 1);
  ck_assert_uint_eq (answer_status (fd, 1, SSPID_CHANNEL_OP_ENCRYPT),
                     (guint32) SEC_E_INVALID_HANDLE);
  send_request (fd, 2, SSPID_CHANNEL_OP_DECRYPT, sctx, "\x17\x03\x03\x00\x01x", 6);
  ck_assert_uint_eq (answer_status (fd, 2, SSPID_CHANNEL_OP_DECRYPT),
                     (guint32) SEC_E_INVALID_HANDLE);
  /* Exactly what a handle that never existed gets. */
  send_request (fd, 3, SSPID_CHANNEL_OP_ENCRYPT, random_handle (), "x", 1);
  ck_assert_uint_eq (answer_status (fd, 3, SSPID_CHANNEL_OP_ENCRYPT),
                     (guint32) SEC_E_INVALID_HANDLE);
  close (fd);

  /* The owner's own channel works with it. */
  fd = open_channel_ok (owner);
  send_request (fd, 4, SSPID_CHANNEL_OP_ENCRYPT, cctx, "x", 1);
  ck_assert_uint_eq (answer_status (fd, 4, SSPID_CHANNEL_OP_ENCRYPT), (guint32) SEC_E_OK);
  close (fd);
}
END_TEST

START_TEST (test_channel_limit_and_lifetime)
{
  g_autoptr(GDBusConnection) conn = connect_bus (tu_fixture_env);
  g_autoptr(GError) error = NULL;
  int fds[SSPID_CHANNEL_MAX_PER_CONNECTION];

  for (int i = 0; i < SSPID_CHANNEL_MAX_PER_CONNECTION; i++)
    fds[i] = open_channel_ok (conn);
  ck_assert_int_eq (open_channel (conn, &error), -1);
  ck_assert_msg (g_dbus_error_is_remote_error (error), "%s", error->message);
  {
    g_autofree char *name = g_dbus_error_get_remote_error (error);

    ck_assert_str_eq (name, SSPID_ERROR_NAME_LIMIT_EXCEEDED);
  }
  ck_assert_uint_eq (status_value ("channels"), SSPID_CHANNEL_MAX_PER_CONNECTION);

  /* Closing one makes room. */
  close (fds[0]);
  for (int i = 0; i < 100 && status_value ("channels") != SSPID_CHANNEL_MAX_PER_CONNECTION - 1;
       i++)
    g_usleep (20000);
  fds[0] = open_channel_ok (conn);

  /* The connection goes: the daemon closes every channel of it. */
  g_dbus_connection_close_sync (conn, NULL, NULL);
  for (int i = 0; i < SSPID_CHANNEL_MAX_PER_CONNECTION; i++)
    {
      assert_closed (fds[i]);
      close (fds[i]);
    }
  ck_assert_uint_eq (status_value ("channels"), 0);
}
END_TEST

/* A user's channels over all its connections are limited too: each holds
 * a descriptor of the daemon's. */
START_TEST (test_channel_limit_per_user)
{
  enum { CONNECTIONS = SSPID_CHANNEL_MAX_PER_USER / SSPID_CHANNEL_MAX_PER_CONNECTION };
  GDBusConnection *conns[CONNECTIONS];
  g_autoptr(GDBusConnection) extra = connect_bus (tu_fixture_env);
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  int fds[SSPID_CHANNEL_MAX_PER_USER];

  for (int c = 0; c < CONNECTIONS; c++)
    {
      conns[c] = connect_bus (tu_fixture_env);
      for (int i = 0; i < SSPID_CHANNEL_MAX_PER_CONNECTION; i++)
        fds[c * SSPID_CHANNEL_MAX_PER_CONNECTION + i] = open_channel_ok (conns[c]);
    }
  ck_assert_uint_eq (status_value ("channels"), SSPID_CHANNEL_MAX_PER_USER);
  ck_assert_int_eq (open_channel (extra, &error), -1);
  name = g_dbus_error_get_remote_error (error);
  ck_assert_str_eq (name, SSPID_ERROR_NAME_LIMIT_EXCEEDED);

  /* One connection goes: its channels make room. */
  g_dbus_connection_close_sync (conns[0], NULL, NULL);
  for (int i = 0; i < (tu_is_wrapped () ? 500 : 100)
                  && status_value ("channels") > SSPID_CHANNEL_MAX_PER_USER -
                                                 SSPID_CHANNEL_MAX_PER_CONNECTION; i++)
    g_usleep (20000);
  close (open_channel_ok (extra));
  for (int c = 0; c < CONNECTIONS; c++)
    g_object_unref (conns[c]);
  for (int i = 0; i < SSPID_CHANNEL_MAX_PER_USER; i++)
    close (fds[i]);
}
END_TEST

/* --- descriptors sent along ---------------------------------------------- */

/* A TCP socket whose close() blocks for @linger_sec: unsent data (the peer,
 * a listener that never accepts, does not read) and SO_LINGER.  *@listener
 * is its peer's listening socket. */
static int
lingering_socket (int linger_sec, int *listener)
{
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof addr;
  struct linger linger = { 1, linger_sec };
  static const char junk[4096];
  int fd;

  *listener = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge (*listener, 0);
  ck_assert_int_eq (bind (*listener, (struct sockaddr *) &addr, sizeof addr), 0);
  ck_assert_int_eq (listen (*listener, 1), 0);
  ck_assert_int_eq (getsockname (*listener, (struct sockaddr *) &addr, &len), 0);
  fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_eq (connect (fd, (struct sockaddr *) &addr, sizeof addr), 0);
  ck_assert_int_eq (fcntl (fd, F_SETFL, O_NONBLOCK), 0);
  while (send (fd, junk, sizeof junk, MSG_NOSIGNAL) > 0)
    ;
  ck_assert_int_eq (errno, EAGAIN);
  ck_assert_int_eq (setsockopt (fd, SOL_SOCKET, SO_LINGER, &linger, sizeof linger), 0);
  return fd;
}

/* A request with a descriptor attached (SCM_RIGHTS). */
static ssize_t
send_with_fd (int channel, guint64 handle, int fd)
{
  g_autoptr(GVariant) body = g_variant_ref_sink (
    g_variant_new ("(t@ay)", handle, bytes_variant ((const guint8 *) "x", 1)));
  SspidChannelHeader h = { 1, SSPID_CHANNEL_OP_ENCRYPT, 0 };
  struct iovec iov[2] = {
    { &h, sizeof h }, { (void *) g_variant_get_data (body), g_variant_get_size (body) },
  };
  union { char bytes[CMSG_SPACE (sizeof (int))]; struct cmsghdr align; } control = { 0 };
  struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2,
                        .msg_control = &control, .msg_controllen = sizeof control };
  struct cmsghdr *c = CMSG_FIRSTHDR (&msg);

  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (c), &fd, sizeof fd);
  return sendmsg (channel, &msg, MSG_NOSIGNAL);
}

/* A descriptor sent along a request never reaches the main thread's
 * close(): the kernel refuses it (SO_PASSRIGHTS, Linux >= 6.16), or the
 * daemon closes the channel and the descriptor elsewhere.  The one sent
 * here would block a close() for 30 s; another caller is answered at once
 * (within 2 s; 10 under valgrind).
 * Loop 1 makes the daemon accept descriptors (the path of older kernels). */
START_TEST (test_fds_sent_along)
{
  g_autoptr(GDBusConnection) conn = NULL;
  g_autoptr(GDBusConnection) other = NULL;
  g_autoptr(GVariant) status = NULL;
  int fd, listener, tcp;
  ssize_t n;
  gint64 start;

  if (_i == 1)
    {
      g_setenv ("SSPID_TEST_ACCEPT_FDS", "1", TRUE);
      tu_env_kill_daemon (tu_fixture_env, SIGTERM);
      tu_env_start_daemon (tu_fixture_env);
      g_unsetenv ("SSPID_TEST_ACCEPT_FDS");   /* the daemon has it */
    }
  conn = connect_bus (tu_fixture_env);
  other = connect_bus (tu_fixture_env);
  fd = open_channel_ok (conn);
  tcp = lingering_socket (30, &listener);

  n = send_with_fd (fd, 42, tcp);
  if (n < 0)
    {
      /* Refused by the kernel: ours is the last reference. */
      struct linger now = { 1, 0 };

      ck_assert_msg (_i == 0 && errno == EPERM, "sendmsg: %s", g_strerror (errno));
      ck_assert_int_eq (setsockopt (tcp, SOL_SOCKET, SO_LINGER, &now, sizeof now), 0);
      close (tcp);
    }
  else
    {
      /* At once, so that (unless the daemon is faster) its reference is
       * the last. */
      close (tcp);
      assert_closed (fd);
    }

  /* Far below the 30 s a blocked main thread would take, even under
   * valgrind. */
  start = g_get_monotonic_time ();
  status = call_ok (other, "GetStatus", NULL, "(a{sv})");
  ck_assert_msg (g_get_monotonic_time () - start < (tu_is_wrapped () ? 10 : 2) * G_USEC_PER_SEC,
                 "GetStatus took %" G_GINT64_FORMAT " ms",
                 (g_get_monotonic_time () - start) / 1000);
  close (fd);
  close (listener);
}
END_TEST

/* --- a caller that never reads ------------------------------------------- */

START_TEST (test_writer_never_reads)
{
  g_autoptr(GDBusConnection) conn = connect_bus (tu_fixture_env);
  g_autofree guint8 *data = g_malloc0 (16384);
  g_autoptr(GVariant) body = NULL;
  SyncPair p = { 0 };
  guint64 cctx, sctx;
  long rss_before, rss_after;
  guint sent = 0;
  gint64 start;
  int fd;

  raw_handshake (conn, &cctx, &sctx);
  body = g_variant_ref_sink (g_variant_new ("(t@ay)", cctx, bytes_variant (data, 16384)));
  fd = open_channel_ok (conn);
  rss_before = (long) tu_process_rss_kib (tu_fixture_env->daemon_pid);

  /* Write 16 KiB requests (each answered by a 16 KiB record) and never
   * read: unbounded, this would be 64 MiB of answers in the daemon. */
  for (guint i = 0, refused = 0; i < 4000 && refused < 20; i++)
    {
      ssize_t n = send_packet (fd, i, SSPID_CHANNEL_OP_ENCRYPT, 0, g_variant_get_data (body),
                               g_variant_get_size (body), MSG_DONTWAIT);

      if (n < 0)
        {
          ck_assert_msg (errno == EAGAIN || errno == EWOULDBLOCK, "send: %s", g_strerror (errno));
          /* Pushed back: give the daemon time to drain, and try again. */
          refused++;
          g_usleep (20000);
          continue;
        }
      refused = 0;
      sent++;
    }
  ck_assert_uint_lt (sent, 4000);   /* the push-back happened */

  /* Others are served at once, records included. */
  start = g_get_monotonic_time ();
  sync_pair_handshake (&p, &no_options);
  sync_pair_read_tickets (&p);
  sync_pair_exchange_records (&p);
  sync_pair_clear (&p);
  ck_assert_int_lt (g_get_monotonic_time () - start, 10 * G_USEC_PER_SEC);

  rss_after = (long) tu_process_rss_kib (tu_fixture_env->daemon_pid);
  printf ("never-reading caller: %u requests of 16 KiB taken before the push-back, "
          "daemon RSS %+ld KiB\n", sent, rss_after - rss_before);
  ck_assert_msg (rss_after - rss_before < 16 * 1024,
                 "daemon RSS grew by %ld KiB with %u requests unread", rss_after - rss_before,
                 sent);
  close (fd);
}
END_TEST

/* A caller that closes its channel while answers wait for room in it: the
 * daemon's write fails, the channel closes in the middle of its turn, and
 * the daemon goes on serving (it used to divide by the user's count of
 * channels, by then 0). */
START_TEST (test_writer_closes_with_answers_waiting)
{
  g_autoptr(GDBusConnection) conn = connect_bus (tu_fixture_env);
  g_autofree guint8 *data = g_malloc0 (16384);
  g_autoptr(GVariant) body = NULL;
  guint64 cctx, sctx;
  guint refused = 0;
  int fd;

  raw_handshake (conn, &cctx, &sctx);
  body = g_variant_ref_sink (g_variant_new ("(t@ay)", cctx, bytes_variant (data, 16384)));
  fd = open_channel_ok (conn);
  for (guint i = 0; i < 4000 && refused < 5; i++)
    {
      if (send_packet (fd, i, SSPID_CHANNEL_OP_ENCRYPT, 0, g_variant_get_data (body),
                       g_variant_get_size (body), MSG_DONTWAIT) >= 0)
        continue;
      ck_assert_msg (errno == EAGAIN || errno == EWOULDBLOCK, "send: %s", g_strerror (errno));
      refused++;
      g_usleep (20000);
    }
  ck_assert_uint_eq (refused, 5);   /* answers are waiting in the daemon */
  close (fd);
  g_usleep (200000);
  assert_daemon_healthy (conn);
}
END_TEST

/* --- fork and daemon death ----------------------------------------------- */

START_TEST (test_fork_child_own_channel)
{
  SyncPair p = { 0 };
  pid_t pid;
  int wstatus, ready[2], go[2];

  sync_pair_handshake (&p, &no_options);
  sync_pair_read_tickets (&p);
  sync_pair_exchange_records (&p);
  ck_assert_uint_eq (status_value ("channels"), 1);

  ck_assert_int_eq (pipe (ready), 0);
  ck_assert_int_eq (pipe (go), 0);
  pid = tu_fork_quiet ();
  ck_assert_int_ge (pid, 0);
  if (pid == 0)
    {
      SyncPair q = { 0 };
      SecPkgContext_StreamSizes sizes;
      guint8 buf[64] = { 0 };
      SecBuffer b[4] = { { 5, SECBUFFER_STREAM_HEADER, buf }, { 1, SECBUFFER_DATA, buf + 5 },
                         { 32, SECBUFFER_STREAM_TRAILER, buf + 6 }, { 0, SECBUFFER_EMPTY, NULL } };
      SecBufferDesc d = { SECBUFFER_VERSION, 4, b };

      /* The parent's context is not the child's. */
      if (EncryptMessage (&p.cctx, 0, &d, 0) != SEC_E_INVALID_HANDLE)
        _exit (2);
      sync_pair_handshake (&q, &no_options);
      sync_pair_read_tickets (&q);
      sync_pair_exchange_records (&q);
      /* Its own channel, beside the parent's: the parent counts them (no
       * GDBus here: its thread does not exist in a forked child). */
      if (write (ready[1], "r", 1) != 1 || read (go[0], buf, 1) != 1)
        _exit (3);
      if (QueryContextAttributesA (&q.cctx, SECPKG_ATTR_STREAM_SIZES, &sizes) != SEC_E_OK)
        _exit (4);
      sync_pair_clear (&q);
      _exit (0);
    }
  {
    char c;

    ck_assert_int_eq (read (ready[0], &c, 1), 1);
    ck_assert_uint_eq (status_value ("channels"), 2);
    ck_assert_int_eq (write (go[1], "g", 1), 1);
  }
  ck_assert_int_eq (waitpid (pid, &wstatus, 0), pid);
  ck_assert_msg (WIFEXITED (wstatus) && WEXITSTATUS (wstatus) == 0,
                 "child failed (status 0x%x)", wstatus);

  /* The parent's channel was not disturbed by the child's exit. */
  sync_pair_exchange_records (&p);
  sync_pair_clear (&p);
}
END_TEST

typedef struct {
  CtxtHandle      ctx;
  SECURITY_STATUS status;
  gint            tid;       /* the thread's, once it is about to call */
} EncryptJob;

static gpointer
encrypt_thread (gpointer data)
{
  EncryptJob *job = data;
  guint8 buf[256] = { 0 };
  SecBuffer b[4] = { { 64, SECBUFFER_STREAM_HEADER, buf }, { 16, SECBUFFER_DATA, buf + 64 },
                     { 64, SECBUFFER_STREAM_TRAILER, buf + 80 }, { 0, SECBUFFER_EMPTY, NULL } };
  SecBufferDesc d = { SECBUFFER_VERSION, 4, b };

  g_atomic_int_set (&job->tid, (gint) gettid ());
  job->status = EncryptMessage (&job->ctx, 0, &d, 0);
  return NULL;
}

/* Whether thread @tid of ours is asleep (in the kernel, waiting). */
static gboolean
thread_is_asleep (gint tid)
{
  g_autofree char *path = g_strdup_printf ("/proc/self/task/%d/stat", tid);
  g_autofree char *stat = NULL;
  const char *end;

  if (!g_file_get_contents (path, &stat, NULL, NULL) || (end = strrchr (stat, ')')) == NULL)
    return FALSE;
  return end[1] == ' ' && end[2] == 'S';
}

/* Until @job's thread is in EncryptMessage, blocked on the stopped daemon
 * (asleep for a while on end), however long a busy machine takes to get
 * it there. */
static void
wait_until_blocked (EncryptJob *job)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) tu_scaled_ms (20000) * 1000;
  guint asleep = 0;

  while (asleep < 10)
    {
      gint tid = g_atomic_int_get (&job->tid);

      ck_assert_msg (g_get_monotonic_time () < deadline, "the encrypting thread never blocked");
      asleep = tid != 0 && thread_is_asleep (tid) ? asleep + 1 : 0;
      g_usleep (20000);
    }
}

START_TEST (test_daemon_killed)
{
  SyncPair p = { 0 };
  EncryptJob job;
  GThread *thread;

  sync_pair_handshake (&p, &no_options);
  sync_pair_read_tickets (&p);
  sync_pair_exchange_records (&p);

  /* A record call waiting on the channel when the daemon dies. */
  job.ctx = p.cctx;
  job.status = SEC_E_OK;
  job.tid = 0;
  ck_assert_int_eq (kill (tu_fixture_env->daemon_pid, SIGSTOP), 0);
  thread = g_thread_new ("encrypt", encrypt_thread, &job);
  wait_until_blocked (&job);
  tu_env_kill_daemon (tu_fixture_env, SIGKILL);
  g_thread_join (thread);
  ck_assert_int_eq (job.status, SEC_E_NO_AUTHENTICATING_AUTHORITY);

  /* After that the handle is dead, and a new daemon serves new contexts. */
  encrypt_thread (&job);
  ck_assert (job.status == SEC_E_INVALID_HANDLE || job.status == SEC_E_NO_AUTHENTICATING_AUTHORITY);
  /* p's handles died with the daemon: not freed; its buffers are ours. */
  g_clear_pointer (&p.to_client, g_byte_array_unref);
  g_clear_pointer (&p.to_server, g_byte_array_unref);
  tu_env_start_daemon (tu_fixture_env);
  {
    SyncPair q = { 0 };

    sync_pair_handshake (&q, &no_options);
    sync_pair_read_tickets (&q);
    sync_pair_exchange_records (&q);
    sync_pair_clear (&q);
  }
}
END_TEST

/* --- unanswered cleanups (the IPC budget of a handshake) ---------------- */

START_TEST (test_unanswered_delete_raw)
{
  g_autoptr(GDBusConnection) conn = connect_bus (tu_fixture_env);
  Listener *l = listener_new (conn);
  guint64 cred = acquire_ok (conn, "", SECPKG_CRED_OUTBOUND);
  guint64 c1 = start_client (conn, cred), c2 = start_client (conn, cred);
  guint64 call_id, handle;
  guint32 status;

  /* call_id 0: no answer wanted; any other: the Completed as always. */
  send_no_reply (conn, "DeleteSecurityContext", g_variant_new ("(tt)", (guint64) 0, c1));
  send_no_reply (conn, "DeleteSecurityContext", g_variant_new ("(tt)", (guint64) 42, c2));
  listener_wait (l, 1);
  {
    g_autoptr(GVariant) q1 = query (conn, c1);
    g_autoptr(GVariant) q2 = query (conn, c2);

    ck_assert_uint_eq (step_status (q1), (guint32) SEC_E_INVALID_HANDLE);
    ck_assert_uint_eq (step_status (q2), (guint32) SEC_E_INVALID_HANDLE);
  }
  /* A Completed for the first would have come before those replies. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  ck_assert_uint_eq (l->completed->len, 1);
  completed_get (l, 0, &call_id, &status, &handle);
  ck_assert_uint_eq (call_id, 42);
  ck_assert_uint_eq (status, (guint32) SEC_E_OK);
  listener_free (l);
}
END_TEST

START_TEST (test_fire_and_forget_delete)
{
  SyncPair p = { 0 };
  SspiAsyncContext *ac = SspiCreateAsyncContext ();
  guint64 before;

  sync_pair_handshake (&p, &no_options);
  before = status_value ("contexts");
  ck_assert_int_eq (SspiDeleteSecurityContextAsync (ac, &p.cctx), SEC_E_OK);
  /* No callback: complete as soon as queued; nothing will come back. */
  ck_assert_int_eq (SspiGetAsyncCallStatus (ac), SEC_E_OK);
  ck_assert_int_eq (SspiReinitAsyncContext (ac), STATUS_SUCCESS);
  SspiFreeAsyncContext (ac);
  for (int i = 0; i < 250 && status_value ("contexts") != before - 1; i++)
    g_usleep (20000);
  ck_assert_uint_eq (status_value ("contexts"), before - 1);
  SecInvalidateHandle (&p.cctx);
  sync_pair_clear (&p);
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "library", tu_fixture_setup, tu_fixture_teardown, 60, { { test_records_use_channel },
                                                              { test_records_without_channel },
                                                              { test_channel_fd_is_cloexec },
                                                              { test_records_from_threads },
                                                              { test_fork_child_own_channel },
                                                              { test_daemon_killed } } },
    { "raw", tu_fixture_setup, tu_fixture_teardown, 60, { { test_raw_round_trip },
                                                          { test_hostile_packets },
                                                          { test_other_connection_handle },
                                                          { test_channel_limit_and_lifetime },
                                                          { test_channel_limit_per_user },
                                                          { test_fds_sent_along, 2 },
                                                          { test_writer_never_reads },
                                                          { test_writer_closes_with_answers_waiting } } },
    { "unanswered", tu_fixture_setup, tu_fixture_teardown, 60, { { test_unanswered_delete_raw },
                                                                 { test_fire_and_forget_delete } } },
  };

  return tu_run_cases ("channel", cases, G_N_ELEMENTS (cases));
}
