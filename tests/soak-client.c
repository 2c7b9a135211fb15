/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * soak-client: a libsspi client process for the fault and soak tests
 * (tests/test-faults.c, tests/test-soak.c), which need many real client
 * processes to kill: a plain program using only the public API, started
 * afresh each time (spawned, not forked from a test that used libsspi).
 *
 * It plays both ends of TLS handshakes through the daemon, --parallel of
 * them in flight at once, each a chain of Sspi*Async calls issued from the
 * notify callbacks (the client's output token is the server's next input
 * and so on).  After a handshake the main thread exchanges --records
 * records each way (EncryptMessage/DecryptMessage), deletes both contexts
 * and starts the next handshake.  With --exit-percent it leaves at random:
 * after a finished handshake, with that probability, it starts one more,
 * waits a few milliseconds so that calls are in flight, and _exit()s like a
 * process that dies without tidying up.
 *
 * Progress goes to stdout one byte at a time with write(2), so that it is
 * on record even if the parent SIGKILLs us the next instant: 'h' per
 * handshake done, 'r' per record round trip, 'x' just before a deliberate
 * exit.  Exit status 0 for a planned end, 2 (and a line on stderr) for
 * anything unexpected: no handshake may fail while the process lives.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "async-side.h"
#include "schannel.h"
#include "sspi.h"

#ifdef NDEBUG
#error "soak-client relies on assertions"
#endif

#define ISC_FLAGS (ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | \
                   ISC_REQ_CONFIDENTIALITY | ISC_REQ_STREAM | ISC_REQ_ALLOCATE_MEMORY)
#define ASC_FLAGS (ASC_REQ_SEQUENCE_DETECT | ASC_REQ_REPLAY_DETECT | \
                   ASC_REQ_CONFIDENTIALITY | ASC_REQ_STREAM | ASC_REQ_ALLOCATE_MEMORY)
/* A handshake makes progress well within this, or something is wrong. */
#define PROGRESS_TIMEOUT_S 60
#define MAX_RECORD_DATA 1024

enum { CLIENT, SERVER };

typedef struct {
  AsyncSide         side[2];
  gboolean          done[2];
  GByteArray       *leftover[2];   /* received by a side after its handshake: the
                                    * start of its record stream (tickets) */
  SECURITY_STATUS   status;        /* how it ended; valid once queued as finished */
} Hs;

static struct {
  int      parallel;
  int      handshakes;    /* 0: until killed */
  int      records;
  double   exit_percent;
  gint64   seed;
} opt = { 2, 0, 0, 0, 0 };

static CredHandle client_cred, server_cred;
static GMutex lock;
static GCond cond;
static GQueue finished = G_QUEUE_INIT;   /* Hs *, under lock */

static void
mark (char c)
{
  /* Straight to the fd: no buffer for a SIGKILL to lose. */
  if (write (STDOUT_FILENO, &c, 1) != 1)
    _exit (3);
}

static G_NORETURN G_GNUC_PRINTF (1, 2) void
die (const char *format, ...)
{
  va_list args;

  va_start (args, format);
  fprintf (stderr, "soak-client[%d]: ", (int) getpid ());
  vfprintf (stderr, format, args);
  fputc ('\n', stderr);
  va_end (args);
  _exit (2);
}

/* ---- handshakes ----------------------------------------------------------- */

static void issue (Hs *hs, int side, GBytes *input);

static void
finish (Hs *hs, SECURITY_STATUS status)
{
  g_mutex_lock (&lock);
  hs->status = status;
  g_queue_push_tail (&finished, hs);
  g_cond_signal (&cond);
  g_mutex_unlock (&lock);
}

/* The input bytes the step left unconsumed (SECBUFFER_EXTRA), or NULL. */
static GBytes *
take_extra (Hs *hs, int side)
{
  AsyncSide *end = &hs->side[side];
  SecBuffer *second = &end->in_bufs[1];
  gsize len = end->input != NULL ? g_bytes_get_size (end->input) : 0;

  if (second->BufferType != SECBUFFER_EXTRA || second->cbBuffer == 0)
    return NULL;
  if (second->cbBuffer > len)
    die ("SECBUFFER_EXTRA of %u bytes for an input of %zu", second->cbBuffer, len);
  return g_bytes_new_from_bytes (end->input, len - second->cbBuffer, second->cbBuffer);
}

/* One step of one side is done: hand its token to the other side, or end. */
static void
on_step (SspiAsyncContext *ac, void *data)
{
  Hs *hs = data;
  int side = ac == hs->side[SERVER].ac ? SERVER : CLIENT;
  int peer = !side;
  SECURITY_STATUS status = SspiGetAsyncCallStatus (ac);
  g_autoptr (GBytes) out = NULL;
  g_autoptr (GBytes) extra = NULL;
  gboolean has_out;

  if (!async_side_step_done (&hs->side[side], &out))
    die ("FreeContextBuffer failed");
  extra = take_extra (hs, side);
  has_out = out != NULL && g_bytes_get_size (out) > 0;
  g_clear_pointer (&hs->side[side].input, g_bytes_unref);
  if (status == SEC_E_OK)
    {
      hs->done[side] = TRUE;
      /* Records already here, as over TCP: a TLS 1.3 server sends its
       * tickets right behind its Finished when it wants no certificate. */
      if (extra != NULL)
        g_byte_array_append (hs->leftover[side], g_bytes_get_data (extra, NULL),
                             g_bytes_get_size (extra));
    }
  else if (status != SEC_I_CONTINUE_NEEDED)
    {
      finish (hs, status);
      return;
    }
  else if (extra != NULL && !has_out)
    {
      issue (hs, side, extra);   /* the next handshake record is already here */
      return;
    }

  if (hs->done[CLIENT] && hs->done[SERVER])
    {
      if (has_out)
        g_byte_array_append (hs->leftover[peer], g_bytes_get_data (out, NULL),
                             g_bytes_get_size (out));
      finish (hs, SEC_E_OK);
    }
  else if (hs->done[peer] || !has_out || (extra != NULL && status != SEC_E_OK))
    finish (hs, SEC_E_INTERNAL_ERROR);   /* nobody will ever speak again */
  else
    issue (hs, peer, out);
}

static void
issue (Hs *hs, int side, GBytes *input)
{
  SECURITY_STATUS status;

  if (SspiReinitAsyncContext (hs->side[side].ac) != STATUS_SUCCESS)
    die ("SspiReinitAsyncContext refused an idle context");
  status = async_side_issue (&hs->side[side], input);
  if (status != SEC_E_OK)
    finish (hs, status);
}

static void
hs_start (Hs *hs)
{
  for (int side = CLIENT; side <= SERVER; side++)
    {
      AsyncSide *end = &hs->side[side];

      if (end->ac == NULL)
        {
          end->ac = SspiCreateAsyncContext ();
          if (end->ac == NULL || SspiSetAsyncNotifyCallback (end->ac, on_step, hs) != SEC_E_OK)
            die ("cannot make an async context");
          end->cred = side == SERVER ? &server_cred : &client_cred;
          end->is_server = side == SERVER;
          end->req = side == SERVER ? ASC_FLAGS : ISC_FLAGS;
        }
      end->has_ctx = hs->done[side] = FALSE;
      if (hs->leftover[side] == NULL)
        hs->leftover[side] = g_byte_array_new ();
      g_byte_array_set_size (hs->leftover[side], 0);
    }
  issue (hs, CLIENT, NULL);
}

static void
hs_delete_contexts (Hs *hs)
{
  for (int side = CLIENT; side <= SERVER; side++)
    if (hs->side[side].has_ctx)
      {
        SECURITY_STATUS status = DeleteSecurityContext (&hs->side[side].ctx);

        if (status != SEC_E_OK)
          die ("DeleteSecurityContext: 0x%08x", (guint32) status);
        hs->side[side].has_ctx = FALSE;
      }
}

/* ---- records ---------------------------------------------------------------- */

static GByteArray *
seal (CtxtHandle *ctx, const guint8 *data, gsize len)
{
  SecPkgContext_StreamSizes sizes = { 0 };
  GByteArray *record = g_byte_array_new ();
  SecBuffer bufs[4];
  SecBufferDesc desc = { SECBUFFER_VERSION, 4, bufs };
  SECURITY_STATUS status;

  status = QueryContextAttributesA (ctx, SECPKG_ATTR_STREAM_SIZES, &sizes);
  if (status != SEC_E_OK)
    die ("QueryContextAttributes(STREAM_SIZES): 0x%08x", (guint32) status);
  g_byte_array_set_size (record, sizes.cbHeader + len + sizes.cbTrailer);
  memcpy (record->data + sizes.cbHeader, data, len);
  bufs[0] = (SecBuffer) { sizes.cbHeader, SECBUFFER_STREAM_HEADER, record->data };
  bufs[1] = (SecBuffer) { (ULONG) len, SECBUFFER_DATA, record->data + sizes.cbHeader };
  bufs[2] = (SecBuffer) { sizes.cbTrailer, SECBUFFER_STREAM_TRAILER,
                          record->data + sizes.cbHeader + len };
  bufs[3] = (SecBuffer) { 0, SECBUFFER_EMPTY, NULL };
  status = EncryptMessage (ctx, 0, &desc, 0);
  if (status != SEC_E_OK)
    die ("EncryptMessage: 0x%08x", (guint32) status);
  /* The trailer may come out shorter than the maximum. */
  g_byte_array_set_size (record, bufs[0].cbBuffer + bufs[1].cbBuffer + bufs[2].cbBuffer);
  return record;
}

/* Opens records of @stream (consumed from the front) until one carries
 * data, which must be @expected.  Records without data (TLS 1.3 tickets
 * the server sent behind its handshake) are passed over. */
static void
open_and_check (CtxtHandle *ctx, GByteArray *stream, const guint8 *expected, gsize len,
                const char *who)
{
  while (stream->len > 0)
    {
      SecBuffer bufs[4];
      SecBufferDesc desc = { SECBUFFER_VERSION, 4, bufs };
      SecBuffer *data = NULL, *extra = NULL;
      SECURITY_STATUS status;

      bufs[0] = (SecBuffer) { stream->len, SECBUFFER_DATA, stream->data };
      for (int i = 1; i < 4; i++)
        bufs[i] = (SecBuffer) { 0, SECBUFFER_EMPTY, NULL };
      status = DecryptMessage (ctx, &desc, 0, NULL);
      if (status != SEC_E_OK)
        die ("DecryptMessage (%s, %u bytes): 0x%08x", who, stream->len, (guint32) status);
      for (int i = 0; i < 4; i++)
        {
          if (bufs[i].BufferType == SECBUFFER_DATA)
            data = &bufs[i];
          else if (bufs[i].BufferType == SECBUFFER_EXTRA)
            extra = &bufs[i];
        }
      if (data != NULL && data->cbBuffer > 0)
        {
          if (data->cbBuffer != len || memcmp (data->pvBuffer, expected, len) != 0)
            die ("%s: a record came out different from what went in", who);
          if (extra != NULL && extra->cbBuffer > 0)
            die ("%s: bytes left after the only data record", who);
          return;
        }
      if (extra == NULL || extra->cbBuffer == 0)
        break;
      g_byte_array_remove_range (stream, 0, stream->len - extra->cbBuffer);
    }
  die ("%s: no data record in what the peer sent", who);
}

/* A record from one side to the other, behind what the receiving side
 * already has (@before, emptied). */
static void
send_record (CtxtHandle *from, CtxtHandle *to, GByteArray *before, GRand *rand, const char *who)
{
  guint8 data[MAX_RECORD_DATA];
  gsize len = (gsize) g_rand_int_range (rand, 1, MAX_RECORD_DATA + 1);
  g_autoptr (GByteArray) record = NULL;
  g_autoptr (GByteArray) stream = g_byte_array_new ();

  for (gsize i = 0; i < len; i++)
    data[i] = (guint8) g_rand_int (rand);
  record = seal (from, data, len);
  g_byte_array_append (stream, before->data, before->len);
  g_byte_array_set_size (before, 0);
  g_byte_array_append (stream, record->data, record->len);
  open_and_check (to, stream, data, len, who);
}

static void
exchange_records (Hs *hs, GRand *rand)
{
  for (int i = 0; i < opt.records; i++)
    {
      send_record (&hs->side[CLIENT].ctx, &hs->side[SERVER].ctx, hs->leftover[SERVER], rand,
                   "to the server");
      send_record (&hs->side[SERVER].ctx, &hs->side[CLIENT].ctx, hs->leftover[CLIENT], rand,
                   "to the client");
      mark ('r');
    }
}

/* ---- main ------------------------------------------------------------------- */

static Hs *
wait_finished (void)
{
  gint64 deadline = g_get_monotonic_time () + PROGRESS_TIMEOUT_S * G_TIME_SPAN_SECOND;
  Hs *hs;

  g_mutex_lock (&lock);
  while ((hs = g_queue_pop_head (&finished)) == NULL)
    if (!g_cond_wait_until (&cond, &lock, deadline))
      {
        g_mutex_unlock (&lock);
        die ("no handshake finished in %d s", PROGRESS_TIMEOUT_S);
      }
  g_mutex_unlock (&lock);
  return hs;
}

static void
acquire (const char *principal, ULONG use, CredHandle *cred)
{
  TimeStamp expiry;
  SECURITY_STATUS status;

  status = AcquireCredentialsHandleA ((SEC_CHAR *) principal, (SEC_CHAR *) UNISP_NAME_A,
                                      use, NULL, NULL, NULL, NULL, cred, &expiry);
  if (status != SEC_E_OK)
    die ("AcquireCredentialsHandle(%s): 0x%08x", principal ? principal : "(anonymous)",
         (guint32) status);
}

static void
parse_options (int argc, char **argv)
{
  const GOptionEntry entries[] = {
    { "parallel", 0, 0, G_OPTION_ARG_INT, &opt.parallel, "Handshakes in flight", "N" },
    { "handshakes", 0, 0, G_OPTION_ARG_INT, &opt.handshakes, "Stop after N (0: never)", "N" },
    { "records", 0, 0, G_OPTION_ARG_INT, &opt.records, "Round trips per handshake", "N" },
    { "exit-percent", 0, 0, G_OPTION_ARG_DOUBLE, &opt.exit_percent,
      "Chance of leaving mid-handshake after each handshake", "P" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &opt.seed, "Random seed", "S" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- sspid test client");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    die ("%s", error->message);
  if (opt.parallel < 1 || opt.handshakes < 0 || opt.records < 0)
    die ("bad options");
}

int
main (int argc, char **argv)
{
  g_autoptr (GRand) rand = NULL;
  g_autofree Hs *hs = NULL;
  int started = 0, done = 0;

  parse_options (argc, argv);
  rand = opt.seed != 0 ? g_rand_new_with_seed ((guint32) opt.seed) : g_rand_new ();
  acquire (NULL, SECPKG_CRED_OUTBOUND, &client_cred);
  acquire ("server", SECPKG_CRED_INBOUND, &server_cred);

  hs = g_new0 (Hs, opt.parallel);
  for (int i = 0; i < opt.parallel && (opt.handshakes == 0 || started < opt.handshakes); i++, started++)
    hs_start (&hs[i]);

  while (done < started)
    {
      Hs *h = wait_finished ();

      if (h->status != SEC_E_OK)
        die ("handshake failed: 0x%08x", (guint32) h->status);
      exchange_records (h, rand);
      hs_delete_contexts (h);
      done++;
      mark ('h');
      if (opt.handshakes != 0 && started >= opt.handshakes)
        continue;
      started++;
      hs_start (h);
      if (g_rand_double_range (rand, 0, 100) < opt.exit_percent)
        {
          /* Leave with calls in flight, without tidying up. */
          g_usleep (g_rand_int_range (rand, 0, 20000));
          mark ('x');
          _exit (0);
        }
    }

  for (int i = 0; i < opt.parallel; i++)
    for (int side = CLIENT; side <= SERVER; side++)
      SspiFreeAsyncContext (hs[i].side[side].ac);
  for (int i = 0; i < opt.parallel; i++)
    for (int side = CLIENT; side <= SERVER; side++)
      g_clear_pointer (&hs[i].leftover[side], g_byte_array_unref);
  if (FreeCredentialsHandle (&client_cred) != SEC_E_OK ||
      FreeCredentialsHandle (&server_cred) != SEC_E_OK)
    die ("FreeCredentialsHandle failed");
  return EXIT_SUCCESS;
}
