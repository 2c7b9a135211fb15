/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The records mode of the hostile neighbour (neighbour-client.h):
 * established sessions streaming 16 KiB records through sspid, half over
 * record channels (written without blocking, read as answers come), half
 * over the bus, each record encrypted on a session's client context and
 * then decrypted on its server context.
 */
#include "config.h"

#include "neighbour-client.h"

#include <errno.h>
#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "child-process.h"
#include "schannel.h"
#include "sspi.h"
#include "sspid-channel.h"
#include "sspid-proto.h"

/* Plaintext per record: a full TLS record. */
#define RECORD_SIZE 16384
#define CONTINUE_NEEDED ((guint32) SEC_I_CONTINUE_NEEDED)

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
  NbTally     *channel_tally;
  NbTally     *bus_tally;
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
                            G_DBUS_CALL_FLAGS_NONE, NEIGHBOUR_DRAIN_TIMEOUT_US / 1000, NULL,
                            bus_answered, s);
}

/* An encrypted record goes on to be decrypted. */
static void
stream_answered (Stream *s, gboolean is_encrypt, GVariant *answer, GError *error)
{
  NbTally *tally = s->channel != NULL ? s->records->channel_tally : s->records->bus_tally;

  s->in_flight--;
  if (answer == NULL)
    nb_tally_add_error (tally, error);
  else
    {
      guint32 status = cr_status_of (answer);

      nb_tally_add_status (tally, status);
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

int
neighbour_mode_records (const char *address, guint seconds, guint sessions, guint window)
{
  Records records = { g_ptr_array_new_with_free_func (g_free), MAX (window, 1), 0 };
  GDBusConnection *conns[RECORD_CONNECTIONS];
  Channel channels[RECORD_CONNECTIONS] = { { 0 } };
  guint64 ccreds[RECORD_CONNECTIONS], screds[RECORD_CONNECTIONS];
  g_autofree char *on_channel = NULL, *on_bus = NULL;

  records.channel_tally = nb_tally_new ();
  records.bus_tally = nb_tally_new ();
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
  nb_iterate_until (records.deadline);
  on_channel = nb_tally_format (records.channel_tally);
  on_bus = nb_tally_format (records.bus_tally);
  cr_report ("done channel=%s bus=%s", on_channel, on_bus);
  cr_wait_stdin_closed ();
  return 0;
}
