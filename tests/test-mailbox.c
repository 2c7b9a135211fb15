/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A record channel's mailbox (proto/sspid-channel.h): the shared memory
 * through which libsspi's records travel without system calls, on the
 * real daemon.
 *
 * - libsspi maps it and its records go through it, and a fork()ed child
 *   does not inherit the mapping (it would act for the parent);
 * - the protocol by hand: a record sealed and opened through a mailbox
 *   posted and rung, the memfd sealed (the caller cannot shrink it under
 *   the daemon), a second ask answered without one;
 * - hostile posts (an oversize or short length, junk, RINGs with nothing
 *   posted) get an error answer or a closed channel, never a crash, and
 *   the daemon keeps serving;
 * - a caller that wants every RING and never reads its socket neither
 *   grows the daemon nor stalls other callers;
 * - a caller that says it sleeps on the futex is woken through it, and
 *   gets no RING.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "channel-raw.h"
#include "dbus-raw.h"
#include "sspid-channel.h"
#include "sync-pair.h"
#include "testutil.h"

static const SyncPairOptions no_options = { 0 };

/* --- helpers ------------------------------------------------------------- */

static gboolean
maps_a_mailbox (void)
{
  g_autofree char *maps = NULL;

  ck_assert (g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL));
  return strstr (maps, "sspid-record-mailbox") != NULL;
}

/* Asks @fd's daemon for the mailbox: its memfd, or -1 if the answer
 * carried none. */
static int
ask_mailbox (int fd)
{
  SspidChannelHeader h = { 1, SSPID_CHANNEL_OP_MAILBOX, 0 };
  union {
    char           bytes[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { &h, sizeof h };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = &control, .msg_controllen = sizeof control };
  struct cmsghdr *cmsg;
  int memfd = -1;

  ck_assert_int_eq (send (fd, &h, sizeof h, MSG_NOSIGNAL), sizeof h);
  ck_assert_int_eq (recvmsg (fd, &msg, MSG_CMSG_CLOEXEC), sizeof h);
  ck_assert_uint_eq (h.op, SSPID_CHANNEL_OP_MAILBOX);
  cmsg = CMSG_FIRSTHDR (&msg);
  if (cmsg != NULL && cmsg->cmsg_type == SCM_RIGHTS)
    memcpy (&memfd, CMSG_DATA (cmsg), sizeof memfd);
  return memfd;
}

static SspidChannelMailbox *
map_mailbox (int memfd)
{
  void *shared = mmap (NULL, sizeof (SspidChannelMailbox), PROT_READ | PROT_WRITE, MAP_SHARED,
                       memfd, 0);

  ck_assert (shared != MAP_FAILED);
  return shared;
}

/* A new channel of @conn (its fd in *@fd) and its mailbox, mapped. */
static SspidChannelMailbox *
open_mailbox (GDBusConnection *conn, int *fd)
{
  SspidChannelMailbox *mb;
  int memfd;

  *fd = open_channel_ok (conn);
  memfd = ask_mailbox (*fd);
  ck_assert_int_ge (memfd, 0);
  mb = map_mailbox (memfd);
  close (memfd);
  return mb;
}

/* Posts @len bytes of @body behind a header, claiming @length bytes in
 * all, as a caller does, and rings if the daemon asks for it. */
static void
post_claiming (int fd, SspidChannelMailbox *mb, guint32 serial, guint16 op, const void *body,
               gsize len, guint32 length)
{
  SspidChannelHeader h = { serial, op, 0 };
  SspidChannelHeader ring = { 0, SSPID_CHANNEL_OP_RING, 0 };

  memcpy (mb->data, &h, sizeof h);
  memcpy (mb->data + sizeof h, body, len);
  g_atomic_int_set ((gint *) &mb->length, (gint) length);
  g_atomic_int_set ((gint *) &mb->state, SSPID_CHANNEL_MAILBOX_REQUEST);
  if (g_atomic_int_exchange ((gint *) &mb->daemon_waiting, 0) == 1)
    ck_assert_int_eq (send (fd, &ring, sizeof ring, MSG_NOSIGNAL), sizeof ring);
}

static void
post (int fd, SspidChannelMailbox *mb, guint32 serial, guint16 op, const void *body, gsize len)
{
  post_claiming (fd, mb, serial, op, body, len, sizeof (SspidChannelHeader) + len);
}

/* The daemon closes the channel within 10 s: EOF, or a reset if it had
 * not read a RING of ours (it took the post straight from memory). */
static void
assert_closed_or_reset (int fd)
{
  struct pollfd p = { .fd = fd, .events = POLLIN };
  ssize_t n;
  char c;

  ck_assert_msg (poll (&p, 1, (int) tu_scaled_ms (10000)) == 1, "channel not closed in time");
  n = recv (fd, &c, 1, MSG_DONTWAIT);
  ck_assert_msg (n == 0 || (n < 0 && errno == ECONNRESET), "recv: %zd (%s)", n,
                 g_strerror (errno));
}

static void
post_record (int fd, SspidChannelMailbox *mb, guint32 serial, guint16 op, guint64 handle,
             const void *data, gsize len)
{
  g_autoptr(GVariant) body = g_variant_ref_sink (
    sspid_record_args_encode (&(SspidRecordArgs) { handle, bytes_variant (data, len) }));

  post (fd, mb, serial, op, g_variant_get_data (body), g_variant_get_size (body));
}

/* Waits (by watching memory, up to 10 s) for the answer to @serial; its
 * body as a GVariant of @type. */
static GVariant *
await_answer (SspidChannelMailbox *mb, guint32 serial, const char *type)
{
  gint64 until = g_get_monotonic_time () + (gint64) tu_scaled_ms (10000) * 1000;
  g_autoptr(GBytes) body = NULL;
  SspidChannelHeader h;
  guint32 length;

  while ((guint) g_atomic_int_get ((gint *) &mb->state) != SSPID_CHANNEL_MAILBOX_ANSWER)
    {
      ck_assert_msg (g_get_monotonic_time () < until, "no answer in the mailbox in time");
      g_usleep (50);
    }
  length = (guint32) g_atomic_int_get ((gint *) &mb->length);
  ck_assert_uint_ge (length, sizeof h);
  ck_assert_uint_le (length, sizeof mb->data);
  memcpy (&h, mb->data, sizeof h);
  ck_assert_uint_eq (h.serial, serial);
  body = g_bytes_new (mb->data + sizeof h, length - sizeof h);
  g_atomic_int_set ((gint *) &mb->state, SSPID_CHANNEL_MAILBOX_IDLE);
  return g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (type), body, FALSE));
}

static guint32
await_status (SspidChannelMailbox *mb, guint32 serial, guint16 op)
{
  g_autoptr(GVariant) a = await_answer (mb, serial, op == SSPID_CHANNEL_OP_ENCRYPT
                                                    ? SSPID_CHANNEL_ANSWER_ENCRYPT_TYPE
                                                    : SSPID_CHANNEL_ANSWER_DECRYPT_TYPE);
  guint32 status;

  g_variant_get_child (a, 0, "u", &status);
  return status;
}

/* --- libsspi ------------------------------------------------------------- */

START_TEST (test_library_uses_mailbox)
{
  SyncPair p = { 0 };
  guint64 before;
  pid_t pid;
  int wstatus;

  sync_pair_handshake (&p, &no_options);
  sync_pair_read_tickets (&p);
  before = status_value ("channel-requests");
  for (int i = 0; i < 10; i++)
    sync_pair_exchange_records (&p);
  /* 2 EncryptMessage + 2 DecryptMessage per round trip. */
  ck_assert_uint_eq (status_value ("channel-requests") - before, 40);
  ck_assert (maps_a_mailbox ());

  /* A child must not post into the parent's mailbox: it has none. */
  pid = tu_fork_quiet ();
  ck_assert_int_ge (pid, 0);
  if (pid == 0)
    _exit (maps_a_mailbox () ? 1 : 0);
  ck_assert_int_eq (waitpid (pid, &wstatus, 0), pid);
  ck_assert_msg (WIFEXITED (wstatus) && WEXITSTATUS (wstatus) == 0,
                 "a forked child inherited the mailbox");
  sync_pair_exchange_records (&p);
  sync_pair_clear (&p);
}
END_TEST

/* --- the protocol by hand ------------------------------------------------ */

START_TEST (test_mailbox_round_trip)
{
  g_autoptr(GDBusConnection) conn = connect_bus (tu_fixture_env);
  g_autoptr(GVariant) sealed = NULL;
  g_autoptr(GVariant) record = NULL;
  g_autoptr(GVariant) opened = NULL;
  g_autoptr(GVariant) plain = NULL;
  const guint8 msg[] = "hello through the mailbox";
  SspidChannelMailbox *mb;
  guint64 cctx, sctx;
  const guint8 *bytes;
  guint32 status, used;
  gsize len;
  int fd, memfd;

  raw_handshake (conn, &cctx, &sctx);
  fd = open_channel_ok (conn);
  memfd = ask_mailbox (fd);
  ck_assert_int_ge (memfd, 0);
  /* Sealed: the caller cannot make the daemon's accesses fault. */
  ck_assert_int_ne (ftruncate (memfd, 0), 0);
  ck_assert_int_eq (errno, EPERM);
  ck_assert_int_ne (ftruncate (memfd, 1 << 24), 0);
  ck_assert (fcntl (memfd, F_GET_SEALS) & F_SEAL_SEAL);
  mb = map_mailbox (memfd);
  close (memfd);
  /* Asked twice: no second mailbox. */
  ck_assert_int_eq (ask_mailbox (fd), -1);

  post_record (fd, mb, 7, SSPID_CHANNEL_OP_ENCRYPT, cctx, msg, sizeof msg);
  sealed = await_answer (mb, 7, SSPID_CHANNEL_ANSWER_ENCRYPT_TYPE);
  g_variant_get (sealed, "(u@ayu)", &status, &record, NULL);
  ck_assert_uint_eq (status, (guint32) SEC_E_OK);
  bytes = g_variant_get_fixed_array (record, &len, 1);
  ck_assert_uint_gt (len, sizeof msg);

  post_record (fd, mb, 8, SSPID_CHANNEL_OP_DECRYPT, sctx, bytes, len);
  opened = await_answer (mb, 8, SSPID_CHANNEL_ANSWER_DECRYPT_TYPE);
  g_variant_get (opened, "(u@ayuuuu)", &status, &plain, NULL, &used, NULL, NULL);
  ck_assert_uint_eq (status, (guint32) SEC_E_OK);
  ck_assert_uint_eq (used, len);
  bytes = g_variant_get_fixed_array (plain, &len, 1);
  ck_assert_uint_eq (len, sizeof msg);
  ck_assert (memcmp (bytes, msg, sizeof msg) == 0);

  munmap (mb, sizeof *mb);
  close (fd);
}
END_TEST

/* --- hostile posts ------------------------------------------------------- */

START_TEST (test_mailbox_hostile)
{
  g_autoptr(GDBusConnection) conn = connect_bus (tu_fixture_env);
  SspidChannelHeader ring = { 0, SSPID_CHANNEL_OP_RING, 0 };
  SspidChannelMailbox *mb;
  guint64 cctx, sctx;
  int fd;

  raw_handshake (conn, &cctx, &sctx);
  mb = open_mailbox (conn, &fd);

  /* RINGs with nothing posted: ignored. */
  for (int i = 0; i < 50; i++)
    ck_assert_int_eq (send (fd, &ring, sizeof ring, MSG_NOSIGNAL), sizeof ring);

  /* A length past the mailbox: what the bus method answers for too much
   * input (the daemon copies only what the mailbox holds). */
  post_claiming (fd, mb, 2, SSPID_CHANNEL_OP_ENCRYPT, "12345678", 8, G_MAXINT32);
  ck_assert_uint_eq (await_status (mb, 2, SSPID_CHANNEL_OP_ENCRYPT),
                     (guint32) SEC_E_INVALID_PARAMETER);

  /* A body too short for "(tay)": an error status. */
  post (fd, mb, 3, SSPID_CHANNEL_OP_DECRYPT, "1234", 4);
  ck_assert_uint_eq (await_status (mb, 3, SSPID_CHANNEL_OP_DECRYPT),
                     (guint32) SEC_E_INVALID_TOKEN);

  /* Junk bodies behind valid headers, sometimes on a live handle. */
  for (guint32 i = 0; i < 200; i++)
    {
      guint8 junk[512];
      gsize len = g_random_int_range (0, sizeof junk);
      guint16 op = (i & 1) ? SSPID_CHANNEL_OP_ENCRYPT : SSPID_CHANNEL_OP_DECRYPT;

      for (gsize k = 0; k < len; k++)
        junk[k] = (guint8) g_random_int ();
      if (len >= 8 && (i % 3) == 0)
        memcpy (junk, op == SSPID_CHANNEL_OP_ENCRYPT ? &cctx : &sctx, 8);
      post (fd, mb, 100 + i, op, junk, len);
      g_variant_unref (await_answer (mb, 100 + i, op == SSPID_CHANNEL_OP_ENCRYPT
                                                  ? SSPID_CHANNEL_ANSWER_ENCRYPT_TYPE
                                                  : SSPID_CHANNEL_ANSWER_DECRYPT_TYPE));
    }

  /* A real record still goes through. */
  {
    const guint8 msg[] = "still here";

    post_record (fd, mb, 400, SSPID_CHANNEL_OP_ENCRYPT, cctx, msg, sizeof msg);
    ck_assert_uint_eq (await_status (mb, 400, SSPID_CHANNEL_OP_ENCRYPT), (guint32) SEC_E_OK);
  }

  /* Shorter than a header: the channel closes, as for such a packet. */
  post_claiming (fd, mb, 5, SSPID_CHANNEL_OP_ENCRYPT, "", 0, 3);
  assert_closed_or_reset (fd);
  munmap (mb, sizeof *mb);
  close (fd);

  /* An unknown op posted: closed too. */
  mb = open_mailbox (conn, &fd);
  post (fd, mb, 6, 99, "12345678", 8);
  assert_closed_or_reset (fd);
  munmap (mb, sizeof *mb);
  close (fd);

  assert_daemon_healthy (conn);
  sync_pair_assert_serves_records ();
}
END_TEST

/* --- a caller that never reads ------------------------------------------- */

START_TEST (test_mailbox_never_reads)
{
  g_autoptr(GDBusConnection) conn = connect_bus (tu_fixture_env);
  g_autofree guint8 *data = g_malloc0 (16384);
  SspidChannelMailbox *mb;
  guint64 cctx, sctx;
  SyncPair p = { 0 };
  /* Enough RINGs to fill the socket (~300 of 8 bytes) several times. */
  guint32 records = tu_is_wrapped () ? 600 : 2000;
  long rss_before, rss_after;
  gint64 start;
  int fd;

  raw_handshake (conn, &cctx, &sctx);
  mb = open_mailbox (conn, &fd);
  rss_before = (long) tu_process_rss_kib (tu_fixture_env->daemon_pid);

  /* Every answer owes us a RING, and we never read one: the socket fills
   * and the daemon drops the rest instead of keeping them. */
  for (guint32 i = 0; i < records; i++)
    {
      g_atomic_int_set ((gint *) &mb->caller_waiting, 1);
      post_record (fd, mb, i, SSPID_CHANNEL_OP_ENCRYPT, cctx, data, 16384);
      ck_assert_uint_eq (await_status (mb, i, SSPID_CHANNEL_OP_ENCRYPT), (guint32) SEC_E_OK);
    }

  /* The channel serves on (rings it could not send are not an error). */
  g_atomic_int_set ((gint *) &mb->caller_waiting, 0);
  post_record (fd, mb, 5000, SSPID_CHANNEL_OP_ENCRYPT, cctx, data, 100);
  ck_assert_uint_eq (await_status (mb, 5000, SSPID_CHANNEL_OP_ENCRYPT), (guint32) SEC_E_OK);

  start = g_get_monotonic_time ();
  sync_pair_handshake (&p, &no_options);
  sync_pair_read_tickets (&p);
  sync_pair_exchange_records (&p);
  sync_pair_clear (&p);
  ck_assert_int_lt (g_get_monotonic_time () - start, (gint64) tu_scaled_ms (10000) * 1000);

  rss_after = (long) tu_process_rss_kib (tu_fixture_env->daemon_pid);
  printf ("mailbox caller that never reads its RINGs: daemon RSS %+ld KiB after %u "
          "records\n", rss_after - rss_before, records);
  /* AddressSanitizer's quarantine and valgrind's queue of freed blocks
   * (20 MB) keep what is freed: no figure there. */
  if (!tu_is_sanitized () && !tu_is_wrapped ())
    ck_assert_msg (rss_after - rss_before < 16 * 1024, "daemon RSS grew by %ld KiB",
                   rss_after - rss_before);
  assert_daemon_healthy (conn);
  munmap (mb, sizeof *mb);
  close (fd);
}
END_TEST

/* --- the futex wake-up ---------------------------------------------------- */

/* Sleeps on @mb's state until the answer is posted (up to 10 s), as a
 * caller that set caller_sleeps_on_futex does; TRUE if a FUTEX_WAKE (not
 * a look at a state that had already changed) ended a sleep. */
static gboolean
sleep_until_answer (SspidChannelMailbox *mb)
{
  gint64 until = g_get_monotonic_time () + (gint64) tu_scaled_ms (10000) * 1000;
  struct timespec check = { 0, 50 * 1000 * 1000 };
  gboolean woken = FALSE;
  guint caller_waiting;

  g_atomic_int_set ((gint *) &mb->caller_waiting, 1);
  for (;;)
    {
      guint state = (guint) g_atomic_int_get ((gint *) &mb->state);

      if (state == SSPID_CHANNEL_MAILBOX_ANSWER)
        break;
      ck_assert_msg (g_get_monotonic_time () < until, "no futex wake-up in time");
      if (syscall (SYS_futex, &mb->state, FUTEX_WAIT, state, &check, NULL, 0) == 0
          && (guint) g_atomic_int_get ((gint *) &mb->state) == SSPID_CHANNEL_MAILBOX_ANSWER)
        woken = TRUE;
    }
  /* The flag of a caller that sleeps on the futex is its own to clear:
   * a daemon that cleared it could, late, take the flag of the next
   * sleep and lose its wake. */
  caller_waiting = (guint) g_atomic_int_get ((gint *) &mb->caller_waiting);
  ck_assert_uint_eq (caller_waiting, 1);
  g_atomic_int_set ((gint *) &mb->caller_waiting, 0);
  return woken;
}

START_TEST (test_mailbox_futex_wake)
{
  g_autoptr(GDBusConnection) conn = connect_bus (tu_fixture_env);
  const guint8 msg[] = "woken by the futex";
  struct pollfd p;
  SspidChannelMailbox *mb;
  guint64 cctx, sctx;
  guint woken = 0;
  int fd;

  raw_handshake (conn, &cctx, &sctx);
  mb = open_mailbox (conn, &fd);
  ck_assert_uint_eq (g_atomic_int_get ((gint *) &mb->daemon_wakes_by_futex), 1);
  g_atomic_int_set ((gint *) &mb->caller_sleeps_on_futex, 1);

  for (guint32 serial = 1; serial <= 20; serial++)
    {
      g_autoptr(GVariant) sealed = NULL;
      guint32 status;

      post_record (fd, mb, serial, SSPID_CHANNEL_OP_ENCRYPT, cctx, msg, sizeof msg);
      woken += sleep_until_answer (mb);
      sealed = await_answer (mb, serial, SSPID_CHANNEL_ANSWER_ENCRYPT_TYPE);
      g_variant_get_child (sealed, 0, "u", &status);
      ck_assert_uint_eq (status, (guint32) SEC_E_OK);
    }
  /* The daemon has to be rung awake for each post (it does not watch a
   * caller that sleeps), so the answer comes well after we sleep. */
  ck_assert_uint_gt (woken, 0);
  /* A wake-up by futex owes no RING: nothing waits on the socket. */
  p = (struct pollfd) { .fd = fd, .events = POLLIN };
  ck_assert_int_eq (poll (&p, 1, 0), 0);
  assert_daemon_healthy (conn);
  munmap (mb, sizeof *mb);
  close (fd);
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "library", tu_fixture_setup, tu_fixture_teardown, 60, { { test_library_uses_mailbox } } },
    { "raw", tu_fixture_setup, tu_fixture_teardown, 90, { { test_mailbox_round_trip },
                                                          { test_mailbox_hostile },
                                                          { test_mailbox_never_reads },
                                                          { test_mailbox_futex_wake } } },
  };

  return tu_run_cases ("mailbox", cases, G_N_ELEMENTS (cases));
}
