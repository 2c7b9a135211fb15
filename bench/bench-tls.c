/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * In-process GnuTLS endpoints over memory (see bench-tls.h).
 */
#include "config.h"

#include "bench-tls.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "bench-util.h"

/* The priority sspid derives from a credential with no protocol mask
 * (daemon/sspid-credential.c), so both sides negotiate the same thing. */
#define PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

static gnutls_certificate_credentials_t client_creds;
static gnutls_certificate_credentials_t server_creds;
static gnutls_priority_t priority;
static gnutls_datum_t ticket_key;

void
bench_tls_init (void)
{
  g_autofree char *ca = bench_pki_path ("ca.pem");
  g_autofree char *pem = bench_pki_path ("server.pem");
  g_autofree char *key = bench_pki_path ("server.key");
  int ret;

  if (client_creds != NULL)
    return;
  if (gnutls_certificate_allocate_credentials (&client_creds) < 0
      || gnutls_certificate_set_x509_trust_file (client_creds, ca, GNUTLS_X509_FMT_PEM) <= 0)
    bench_die ("cannot load the trust anchor %s", ca);
  if (gnutls_certificate_allocate_credentials (&server_creds) < 0
      || (ret = gnutls_certificate_set_x509_key_file2 (server_creds, pem, key,
                                                        GNUTLS_X509_FMT_PEM, NULL, 0)) < 0)
    bench_die ("cannot load %s / %s", pem, key);
  if (gnutls_priority_init (&priority, PRIORITY, NULL) < 0)
    bench_die ("priority %s refused", PRIORITY);
  if (gnutls_session_ticket_key_generate (&ticket_key) < 0)
    bench_die ("cannot make a ticket key");
}

static ssize_t
pull (gnutls_transport_ptr_t ptr, void *buf, size_t len)
{
  BenchTls *t = ptr;
  gsize avail = t->in->len - t->in_pos;

  if (avail == 0)
    {
      gnutls_transport_set_errno (t->session, EAGAIN);
      return -1;
    }
  len = MIN (len, avail);
  memcpy (buf, t->in->data + t->in_pos, len);
  t->in_pos += len;
  if (t->in_pos == t->in->len)
    {
      g_byte_array_set_size (t->in, 0);
      t->in_pos = 0;
    }
  return (ssize_t) len;
}

static int
pull_timeout (gnutls_transport_ptr_t ptr, unsigned int ms)
{
  BenchTls *t = ptr;

  return t->in->len > t->in_pos ? 1 : 0;
}

static ssize_t
push (gnutls_transport_ptr_t ptr, const void *buf, size_t len)
{
  BenchTls *t = ptr;

  g_byte_array_append (t->out, buf, (guint) len);
  return (ssize_t) len;
}

static BenchTls *
endpoint_new (unsigned int flags)
{
  BenchTls *t = g_new0 (BenchTls, 1);

  t->in = g_byte_array_new ();
  t->out = g_byte_array_new ();
  if (gnutls_init (&t->session, flags | GNUTLS_NONBLOCK) < 0)
    bench_die ("gnutls_init failed");
  gnutls_priority_set (t->session, priority);
  gnutls_transport_set_ptr (t->session, t);
  gnutls_transport_set_pull_function (t->session, pull);
  gnutls_transport_set_pull_timeout_function (t->session, pull_timeout);
  gnutls_transport_set_push_function (t->session, push);
  gnutls_handshake_set_timeout (t->session, 0);
  return t;
}

BenchTls *
bench_tls_new_client (const gnutls_datum_t *resume)
{
  BenchTls *t = endpoint_new (GNUTLS_CLIENT);

  gnutls_credentials_set (t->session, GNUTLS_CRD_CERTIFICATE, client_creds);
  gnutls_server_name_set (t->session, GNUTLS_NAME_DNS, "localhost", strlen ("localhost"));
  gnutls_session_set_verify_cert (t->session, "localhost", 0);
  if (resume != NULL && resume->size > 0)
    gnutls_session_set_data (t->session, resume->data, resume->size);
  return t;
}

BenchTls *
bench_tls_new_server (void)
{
  BenchTls *t = endpoint_new (GNUTLS_SERVER);

  gnutls_credentials_set (t->session, GNUTLS_CRD_CERTIFICATE, server_creds);
  gnutls_session_ticket_enable_server (t->session, &ticket_key);
  return t;
}

void
bench_tls_free (BenchTls *t)
{
  if (t == NULL)
    return;
  gnutls_deinit (t->session);
  g_byte_array_unref (t->in);
  g_byte_array_unref (t->out);
  g_free (t);
}

void
bench_tls_feed (BenchTls *t, const void *data, gsize len)
{
  g_byte_array_append (t->in, data, (guint) len);
}

int
bench_tls_handshake (BenchTls *t)
{
  int ret;

  do
    ret = gnutls_handshake (t->session);
  while (ret == GNUTLS_E_INTERRUPTED || ret == GNUTLS_E_WARNING_ALERT_RECEIVED);
  return ret;
}

gsize
bench_tls_read_all (BenchTls *t)
{
  guint8 buf[16384 + 256];
  gsize total = 0;
  ssize_t n;

  while ((n = gnutls_record_recv (t->session, buf, sizeof buf)) > 0
         || n == GNUTLS_E_INTERRUPTED)
    total += n > 0 ? (gsize) n : 0;
  return total;
}

gboolean
bench_tls_get_resume_data (BenchTls *t, gnutls_datum_t *data)
{
  return gnutls_session_get_data2 (t->session, data) >= 0 && data->size > 0;
}

/* Moves what @from wrote to @to. */
static void
transfer (BenchTls *from, BenchTls *to)
{
  bench_tls_feed (to, from->out->data, from->out->len);
  g_byte_array_set_size (from->out, 0);
}

guint64
bench_thread_cpu_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (guint64) ts.tv_sec * G_USEC_PER_SEC + (guint64) ts.tv_nsec / 1000;
}

gboolean
bench_tls_pair_handshake (const gnutls_datum_t *resume, gnutls_datum_t *ticket,
                          gboolean *resumed, guint64 *server_us)
{
  BenchTls *client = bench_tls_new_client (resume);
  guint64 cpu = bench_thread_cpu_us ();
  BenchTls *server = bench_tls_new_server ();
  guint64 in_server = bench_thread_cpu_us () - cpu;
  int c = GNUTLS_E_AGAIN, s = GNUTLS_E_AGAIN;
  gboolean ok;

  /* Ping-pong until both ends are done or one fails. */
  for (int round = 0; round < 8 && (c == GNUTLS_E_AGAIN || s == GNUTLS_E_AGAIN); round++)
    {
      if (c == GNUTLS_E_AGAIN)
        c = bench_tls_handshake (client);
      transfer (client, server);
      cpu = bench_thread_cpu_us ();
      if (s == GNUTLS_E_AGAIN)
        s = bench_tls_handshake (server);
      in_server += bench_thread_cpu_us () - cpu;
      transfer (server, client);
    }
  ok = c == 0 && s == 0;
  if (ok && ticket != NULL)
    {
      bench_tls_read_all (client);
      ok = bench_tls_get_resume_data (client, ticket);
    }
  if (resumed != NULL)
    *resumed = ok && gnutls_session_is_resumed (client->session);
  bench_tls_free (client);
  cpu = bench_thread_cpu_us ();
  bench_tls_free (server);
  in_server += bench_thread_cpu_us () - cpu;
  if (server_us != NULL)
    *server_us += in_server;
  return ok;
}

void
bench_tls_pair_establish (BenchTls **client, BenchTls **server)
{
  BenchTls *c = bench_tls_new_client (NULL);
  BenchTls *s = bench_tls_new_server ();
  int cr = GNUTLS_E_AGAIN, sr = GNUTLS_E_AGAIN;

  for (int i = 0; i < 8 && (cr != 0 || sr != 0); i++)
    {
      if (cr != 0)
        cr = bench_tls_handshake (c);
      transfer (c, s);
      if (sr != 0)
        sr = bench_tls_handshake (s);
      transfer (s, c);
    }
  if (cr != 0 || sr != 0)
    bench_die ("in-process handshake failed");
  bench_tls_read_all (c);   /* the tickets */
  *client = c;
  *server = s;
}

typedef struct {
  gint64               deadline;
  const gnutls_datum_t *resume;
  guint                count;
  guint                failed;
  guint64              server_us;
} Worker;

static gpointer
baseline_worker (gpointer data)
{
  Worker *w = data;

  while (bench_now_us () < w->deadline)
    {
      gboolean resumed = FALSE;

      if (bench_tls_pair_handshake (w->resume, NULL, &resumed, &w->server_us)
          && (w->resume == NULL || resumed))
        w->count++;
      else
        w->failed++;
    }
  return NULL;
}

double
bench_tls_baseline_rate (guint threads, double seconds, const gnutls_datum_t *resume,
                         guint *count, guint64 *server_us)
{
  g_autofree Worker *workers = g_new0 (Worker, threads);
  g_autofree GThread **ids = g_new0 (GThread *, threads);
  gint64 start = bench_now_us ();
  guint failed = 0;

  *count = 0;
  for (guint i = 0; i < threads; i++)
    {
      workers[i].deadline = start + (gint64) (seconds * G_USEC_PER_SEC);
      workers[i].resume = resume;
      ids[i] = g_thread_new ("baseline", baseline_worker, &workers[i]);
    }
  for (guint i = 0; i < threads; i++)
    {
      g_thread_join (ids[i]);
      *count += workers[i].count;
      *server_us += workers[i].server_us;
      failed += workers[i].failed;
    }
  if (failed > 0)
    bench_die ("%u in-process handshakes failed (or did not resume)", failed);
  return *count / ((bench_now_us () - start) / (double) G_USEC_PER_SEC);
}
