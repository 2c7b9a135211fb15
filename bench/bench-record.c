/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * B1: record protection throughput, 16 KiB records, one stream: an
 * EncryptMessage on the client's context followed by a DecryptMessage of
 * that record on the server's, against gnutls_record_send + recv between
 * two in-process sessions.
 *
 * Through libsspi when the library has EncryptMessage/DecryptMessage
 * (looked up at run time, so this builds before it does): the library's
 * real path, which is the record channel (proto/sspid-channel.h) when the
 * daemon hands one out, else the bus (SSPI_RECORD_CHANNEL=0 forces the
 * bus).  And always the daemon's EncryptMessage/DecryptMessage methods
 * called directly over GDBus (B1*): what records over the bus cost.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include <sspi.h>
#include <schannel.h>

#include "bench-raw.h"
#include "bench-sspi.h"
#include "bench-tls.h"
#include "bench-util.h"
#include "sspid-args.h"
#include "sspid-results.h"
#include "sspid-proto.h"

#define RECORD   16384

typedef SECURITY_STATUS (*EncryptFn) (PCtxtHandle, ULONG, PSecBufferDesc, ULONG);
typedef SECURITY_STATUS (*DecryptFn) (PCtxtHandle, PSecBufferDesc, ULONG, ULONG *);

static double
mib_per_s (guint64 bytes, gint64 start)
{
  return bytes / 1048576.0 / ((bench_now_us () - start) / 1e6);
}

/* CPU per record (an Encrypt and a Decrypt) since @before, every process
 * involved; returns it. */
static double
report_cpu (BenchEnv *env, const BenchCpu *before, guint64 bytes, const char *prefix)
{
  BenchCpu total = { 0 };

  bench_cpu_accumulate (env, before, &total);
  return bench_cpu_report (&total, (guint) (bytes / RECORD), prefix, env != NULL);
}

static double baseline_cpu, direct_cpu, sspi_cpu;

/* ---- in-process ------------------------------------------------------------- */

static double
run_baseline (double seconds)
{
  BenchTls *client, *server;
  g_autofree guint8 *data = g_malloc0 (RECORD);
  guint8 out[RECORD];
  guint64 bytes = 0;
  gint64 start, deadline;
  BenchCpu before;
  double rate;

  bench_tls_pair_establish (&client, &server);

  bench_cpu_sample (NULL, &before);
  start = bench_now_us ();
  deadline = start + (gint64) (seconds * G_USEC_PER_SEC);
  while (bench_now_us () < deadline)
    {
      if (gnutls_record_send (client->session, data, RECORD) != RECORD)
        bench_die ("gnutls_record_send failed");
      bench_tls_feed (server, client->out->data, client->out->len);
      g_byte_array_set_size (client->out, 0);
      if (gnutls_record_recv (server->session, out, sizeof out) != RECORD)
        bench_die ("gnutls_record_recv failed");
      bytes += RECORD;
    }
  rate = mib_per_s (bytes, start);
  baseline_cpu = report_cpu (NULL, &before, bytes, "B1-baseline");
  bench_tls_free (client);
  bench_tls_free (server);
  return rate;
}

/* ---- through libsspi ------------------------------------------------------------ */

static double
run_sspi (BenchEnv *env, double seconds, EncryptFn encrypt, DecryptFn decrypt)
{
  SecPkgContext_StreamSizes sizes = { 0 };
  CtxtHandle client, server;
  g_autofree guint8 *buf = NULL;
  guint64 bytes = 0;
  gint64 start, deadline;
  BenchCpu before;
  double rate;

  bench_hs_pair (&client, &server, &sizes);
  buf = g_malloc0 (sizes.cbHeader + RECORD + sizes.cbTrailer);

  bench_cpu_sample (env, &before);
  start = bench_now_us ();
  deadline = start + (gint64) (seconds * G_USEC_PER_SEC);
  while (bench_now_us () < deadline)
    {
      SecBuffer eb[4] = {
        { sizes.cbHeader, SECBUFFER_STREAM_HEADER, buf },
        { RECORD, SECBUFFER_DATA, buf + sizes.cbHeader },
        { sizes.cbTrailer, SECBUFFER_STREAM_TRAILER, buf + sizes.cbHeader + RECORD },
        { 0, SECBUFFER_EMPTY, NULL },
      };
      SecBufferDesc ed = { SECBUFFER_VERSION, 4, eb };
      SecBuffer db[4] = { { 0, SECBUFFER_DATA, buf }, { 0, SECBUFFER_EMPTY, NULL },
                          { 0, SECBUFFER_EMPTY, NULL }, { 0, SECBUFFER_EMPTY, NULL } };
      SecBufferDesc dd = { SECBUFFER_VERSION, 4, db };
      SECURITY_STATUS status;

      if ((status = encrypt (&client, 0, &ed, 0)) != SEC_E_OK)
        bench_die ("EncryptMessage: 0x%08x", (guint32) status);
      db[0].cbBuffer = eb[0].cbBuffer + eb[1].cbBuffer + eb[2].cbBuffer;
      if ((status = decrypt (&server, &dd, 0, NULL)) != SEC_E_OK)
        bench_die ("DecryptMessage: 0x%08x", (guint32) status);
      if (db[1].BufferType != SECBUFFER_DATA || db[1].cbBuffer != RECORD)
        bench_die ("DecryptMessage did not give the record back");
      bytes += RECORD;
    }
  rate = mib_per_s (bytes, start);
  sspi_cpu = report_cpu (env, &before, bytes, "B1-sspid");
  return rate;
}

/* ---- the daemon's methods, directly ---------------------------------------------- */

static double
run_direct (BenchEnv *env, double seconds)
{
  g_autoptr(GDBusConnection) connection = bench_env_connect (env);
  guint64 server_cred = bench_raw_acquire (connection, "server", SECPKG_CRED_INBOUND);
  guint64 client_cred = bench_raw_acquire (connection, "", SECPKG_CRED_OUTBOUND);
  g_autofree guint8 *data = g_malloc0 (RECORD);
  guint64 client, server, bytes = 0;
  gint64 start, deadline;
  BenchCpu before;
  double rate;

  bench_raw_handshake_sync (connection, client_cred, server_cred, &client, &server);
  bench_cpu_sample (env, &before);
  start = bench_now_us ();
  deadline = start + (gint64) (seconds * G_USEC_PER_SEC);
  while (bench_now_us () < deadline)
    {
      g_autoptr(GVariant) sealed = NULL;
      g_autoptr(GVariant) opened = NULL;
      g_auto(SspidEncryptResult) record = { 0 };
      g_auto(SspidDecryptResult) plain = { 0 };

      sealed = g_dbus_connection_call_sync (
        connection, SSPID_BUS_NAME, SSPID_OBJECT_PATH, SSPID_INTERFACE, "EncryptMessage",
        sspid_record_args_encode (&(SspidRecordArgs) {
          client, g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, RECORD, 1) }),
        G_VARIANT_TYPE ("(uayu)"), G_DBUS_CALL_FLAGS_NONE, 10000, NULL, NULL);
      if (sealed == NULL)
        bench_die ("EncryptMessage call failed");
      sspid_encrypt_result_decode (sealed, &record);
      if (record.status != SEC_E_OK)
        bench_die ("EncryptMessage: 0x%08x", (guint32) record.status);
      opened = g_dbus_connection_call_sync (
        connection, SSPID_BUS_NAME, SSPID_OBJECT_PATH, SSPID_INTERFACE, "DecryptMessage",
        sspid_record_args_encode (&(SspidRecordArgs) { server, record.record }),
        G_VARIANT_TYPE ("(uayuuuu)"), G_DBUS_CALL_FLAGS_NONE, 10000, NULL, NULL);
      if (opened == NULL)
        bench_die ("DecryptMessage call failed");
      sspid_decrypt_result_decode (opened, &plain);
      if (plain.status != SEC_E_OK || g_variant_get_size (plain.plaintext) != RECORD)
        bench_die ("DecryptMessage: 0x%08x", (guint32) plain.status);
      bytes += RECORD;
    }
  rate = mib_per_s (bytes, start);
  direct_cpu = report_cpu (env, &before, bytes, "B1-sspid-direct");
  return rate;
}

int
main (int argc, char **argv)
{
  double seconds = bench_seconds (3);
  EncryptFn encrypt = (EncryptFn) dlsym (RTLD_DEFAULT, "EncryptMessage");
  DecryptFn decrypt = (DecryptFn) dlsym (RTLD_DEFAULT, "DecryptMessage");
  BenchEnv *env = bench_env_start (NULL);
  double baseline, direct;

  bench_tls_init ();
  baseline = run_baseline (seconds);
  bench_report ("B1-baseline", baseline, "MiB/s");
  if (bench_is_wanted ("direct"))
    {
      direct = run_direct (env, seconds);
      bench_report ("B1-sspid-direct", direct, "MiB/s");
      bench_report ("B1-direct-ratio", direct / baseline, "x");
      bench_report ("B1-direct-cpu-ratio", baseline_cpu / direct_cpu, "x");
    }
  if (encrypt != NULL && decrypt != NULL)
    {
      double sspi;

      bench_hs_init ();
      sspi = run_sspi (env, seconds, encrypt, decrypt);
      bench_report ("B1-sspid", sspi, "MiB/s");
      bench_report ("B1-ratio", sspi / baseline, "x");
      bench_report ("B1-cpu-ratio", baseline_cpu / sspi_cpu, "x");
    }
  else
    {
      /* Not a number: there is nothing to measure yet, and 0 would read as one. */
      printf ("B1-sspid n/a MiB/s\nB1-ratio n/a x\n");
      bench_note ("B1: n/a until libsspi implements records (EncryptMessage/DecryptMessage "
                  "are not exported); B1-sspid-direct is the daemon's methods over GDBus");
    }
  bench_env_stop (env);
  return 0;
}
