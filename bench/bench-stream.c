/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * B2: 256 MiB one way over a TCP loopback connection, as a server moves a
 * download: a sender thread on EncryptMessage + send(), a receiver on
 * recv() + DecryptMessage (the Windows loop: SEC_E_INCOMPLETE_MESSAGE,
 * SECBUFFER_EXTRA), against two in-process GnuTLS sessions over the same
 * kind of socket (gnutls_record_send / gnutls_record_recv).  Unlike B1,
 * the two ends run at the same time on their own threads, and the bytes
 * cross a real socket, so the figure is what a caller's stream gets.
 *
 * The contexts come from one handshake through sspid (both sides through
 * libsspi, H2's shape); the in-process pair handshakes over memory and is
 * then moved onto its socket.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sspi.h>
#include <schannel.h>

#include "bench-sspi.h"
#include "bench-tls.h"
#include "bench-util.h"

#define TOTAL      (256u << 20)
#define CHUNK      16384

/* A connected TCP pair on 127.0.0.1: @fds[0] sends, @fds[1] receives. */
static void
tcp_pair (int fds[2])
{
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof addr;
  int listener = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;

  if (listener < 0 || bind (listener, (struct sockaddr *) &addr, sizeof addr) != 0
      || listen (listener, 1) != 0
      || getsockname (listener, (struct sockaddr *) &addr, &len) != 0)
    bench_die ("tcp listener: %s", g_strerror (errno));
  fds[0] = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fds[0] < 0 || connect (fds[0], (struct sockaddr *) &addr, sizeof addr) != 0)
    bench_die ("tcp connect: %s", g_strerror (errno));
  fds[1] = accept4 (listener, NULL, NULL, SOCK_CLOEXEC);
  if (fds[1] < 0)
    bench_die ("tcp accept: %s", g_strerror (errno));
  setsockopt (fds[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  close (listener);
}

static void
send_all (int fd, const guint8 *data, gsize len)
{
  while (len > 0)
    {
      ssize_t n = send (fd, data, len, MSG_NOSIGNAL);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        bench_die ("send: %s", g_strerror (errno));
      data += n;
      len -= (gsize) n;
    }
}

typedef struct {
  int         fd;
  CtxtHandle *ctx;          /* sspid */
  BenchTls   *tls;          /* in-process */
  SecPkgContext_StreamSizes sizes;
} Sender;

/* ---- in-process --------------------------------------------------------------- */

static ssize_t
fd_push (gnutls_transport_ptr_t ptr, const void *buf, size_t len)
{
  return send (GPOINTER_TO_INT (ptr), buf, len, MSG_NOSIGNAL);
}

static ssize_t
fd_pull (gnutls_transport_ptr_t ptr, void *buf, size_t len)
{
  return recv (GPOINTER_TO_INT (ptr), buf, len, 0);
}

static int
fd_pull_timeout (gnutls_transport_ptr_t ptr, unsigned int ms)
{
  struct pollfd p = { .fd = GPOINTER_TO_INT (ptr), .events = POLLIN };

  return poll (&p, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int) ms);
}

/* Moves an established session from memory onto @fd. */
static void
onto_socket (BenchTls *t, int fd)
{
  gnutls_transport_set_ptr (t->session, GINT_TO_POINTER (fd));
  gnutls_transport_set_push_function (t->session, fd_push);
  gnutls_transport_set_pull_function (t->session, fd_pull);
  gnutls_transport_set_pull_timeout_function (t->session, fd_pull_timeout);
}

static gpointer
send_gnutls (gpointer data)
{
  Sender *s = data;
  g_autofree guint8 *chunk = g_malloc0 (CHUNK);

  for (guint64 sent = 0; sent < TOTAL; sent += CHUNK)
    {
      ssize_t n = gnutls_record_send (s->tls->session, chunk, CHUNK);

      if (n != CHUNK)
        bench_die ("gnutls_record_send: %s", n < 0 ? gnutls_strerror ((int) n) : "short");
    }
  return NULL;
}

static double
run_baseline (BenchCpu *cpu)
{
  BenchTls *client, *server;
  g_autofree guint8 *buf = g_malloc (CHUNK);
  int fds[2];
  guint64 got = 0;
  BenchCpu before;
  Sender sender;
  GThread *thread;
  gint64 start;

  bench_tls_pair_establish (&client, &server);
  tcp_pair (fds);
  onto_socket (client, fds[0]);
  onto_socket (server, fds[1]);
  sender = (Sender) { .fd = fds[0], .tls = client };

  bench_cpu_sample (NULL, &before);
  start = bench_now_us ();
  thread = g_thread_new ("b2-send", send_gnutls, &sender);
  while (got < TOTAL)
    {
      ssize_t n = gnutls_record_recv (server->session, buf, CHUNK);

      if (n <= 0)
        bench_die ("gnutls_record_recv: %s", gnutls_strerror ((int) n));
      got += (guint64) n;
    }
  g_thread_join (thread);
  bench_cpu_accumulate (NULL, &before, cpu);
  close (fds[0]);
  close (fds[1]);
  bench_tls_free (client);
  bench_tls_free (server);
  return TOTAL / 1048576.0 / ((bench_now_us () - start) / 1e6);
}

/* ---- through libsspi ------------------------------------------------------------ */

static gpointer
send_sspi (gpointer data)
{
  Sender *s = data;
  gsize size = s->sizes.cbHeader + CHUNK + s->sizes.cbTrailer;
  g_autofree guint8 *buf = g_malloc0 (size);

  for (guint64 sent = 0; sent < TOTAL; sent += CHUNK)
    {
      SecBuffer b[4] = {
        { s->sizes.cbHeader, SECBUFFER_STREAM_HEADER, buf },
        { CHUNK, SECBUFFER_DATA, buf + s->sizes.cbHeader },
        { s->sizes.cbTrailer, SECBUFFER_STREAM_TRAILER, buf + s->sizes.cbHeader + CHUNK },
        { 0, SECBUFFER_EMPTY, NULL },
      };
      SecBufferDesc d = { SECBUFFER_VERSION, 4, b };
      SECURITY_STATUS status = EncryptMessage (s->ctx, 0, &d, 0);

      if (status != SEC_E_OK)
        bench_die ("EncryptMessage: 0x%08x", (guint32) status);
      /* The record is header, data and trailer, back to back. */
      send_all (s->fd, buf, b[0].cbBuffer + b[1].cbBuffer + b[2].cbBuffer);
    }
  return NULL;
}

/* The receiver's loop: what recv() brought, decrypted in place record by
 * record; an incomplete record waits for more bytes. */
static guint64
receive_sspi (int fd, CtxtHandle *ctx, gsize record_max)
{
  gsize cap = 4 * record_max, have = 0;
  g_autofree guint8 *buf = g_malloc (cap);
  guint64 got = 0;

  while (got < TOTAL)
    {
      SecBuffer b[4];
      SecBufferDesc d = { SECBUFFER_VERSION, 4, b };
      SECURITY_STATUS status;
      ssize_t n;

      if (have > 0)
        {
          b[0] = (SecBuffer) { (ULONG) have, SECBUFFER_DATA, buf };
          for (int i = 1; i < 4; i++)
            b[i] = (SecBuffer) { 0, SECBUFFER_EMPTY, NULL };
          status = DecryptMessage (ctx, &d, 0, NULL);
          if (status == SEC_E_OK)
            {
              gsize extra = 0;

              for (int i = 1; i < 4; i++)
                {
                  if (b[i].BufferType == SECBUFFER_DATA)
                    got += b[i].cbBuffer;
                  else if (b[i].BufferType == SECBUFFER_EXTRA)
                    extra = b[i].cbBuffer;
                }
              memmove (buf, buf + have - extra, extra);
              have = extra;
              continue;
            }
          if (status != SEC_E_INCOMPLETE_MESSAGE)
            bench_die ("DecryptMessage: 0x%08x", (guint32) status);
        }
      if (have == cap)
        bench_die ("DecryptMessage wants more than %zu bytes", cap);
      n = recv (fd, buf + have, cap - have, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        bench_die ("recv: %s", n == 0 ? "end of stream" : g_strerror (errno));
      have += (gsize) n;
    }
  return got;
}

static double
run_sspi (BenchEnv *env, BenchCpu *cpu)
{
  CtxtHandle client, server;
  BenchCpu before;
  Sender sender = { 0 };
  GThread *thread;
  gint64 start;
  int fds[2];
  guint64 got;

  bench_hs_pair (&client, &server, &sender.sizes);
  tcp_pair (fds);
  sender.fd = fds[0];
  sender.ctx = &client;

  bench_cpu_sample (env, &before);
  start = bench_now_us ();
  thread = g_thread_new ("b2-send", send_sspi, &sender);
  got = receive_sspi (fds[1], &server,
                      sender.sizes.cbHeader + sender.sizes.cbMaximumMessage + sender.sizes.cbTrailer);
  g_thread_join (thread);
  bench_cpu_accumulate (env, &before, cpu);
  if (got != TOTAL)
    bench_die ("received %" G_GUINT64_FORMAT " bytes of %u", got, TOTAL);
  close (fds[0]);
  close (fds[1]);
  DeleteSecurityContext (&client);
  DeleteSecurityContext (&server);
  return TOTAL / 1048576.0 / ((bench_now_us () - start) / 1e6);
}

int
main (int argc, char **argv)
{
  BenchEnv *env = bench_env_start (NULL);
  BenchCpu base_cpu = { 0 }, sspi_cpu = { 0 };
  double base, sspi, base_per, sspi_per;
  guint records = TOTAL / CHUNK;

  bench_note ("B2: %u MiB one way over TCP loopback in %u-byte records, sender and "
              "receiver on their own threads", TOTAL >> 20, CHUNK);
  bench_tls_init ();
  bench_hs_init ();
  base = run_baseline (&base_cpu);
  sspi = run_sspi (env, &sspi_cpu);
  bench_report ("B2-baseline", base, "MiB/s");
  bench_report ("B2-sspid", sspi, "MiB/s");
  bench_report ("B2-ratio", sspi / base, "x");
  base_per = bench_cpu_report (&base_cpu, records, "B2-baseline", FALSE);
  sspi_per = bench_cpu_report (&sspi_cpu, records, "B2-sspid", TRUE);
  bench_report ("B2-cpu-ratio", base_per / sspi_per, "x");
  bench_env_stop (env);
  return 0;
}
