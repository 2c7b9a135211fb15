/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every benchmark program shares: a private dbus-daemon (configured
 * like the system bus, with the project's real bus policy) and the real
 * sspid on it, the test PKI, process CPU and memory figures from /proc,
 * latency percentiles, and the `name value unit` output that bench/run
 * turns into the summary table.
 *
 * Benchmarks are not tests: a failure here ends the program with a message
 * (bench_die) rather than a check assertion, and nothing links libcheck.
 */
#pragma once

#include <gio/gio.h>
#include <glib.h>
#include <sys/types.h>

typedef struct {
  char  *dir;            /* private temp dir: configs and logs */
  char  *bus_address;    /* also exported as SSPID_BUS_ADDRESS */
  GPid   bus_pid;
  GPid   daemon_pid;
} BenchEnv;

/* Limits of the daemon's config that a benchmark may raise; 0 keeps the
 * benchmark default (generous, so that no limit is what is measured). */
typedef struct {
  guint max_contexts;    /* per user and per connection */
  guint max_pending;     /* per connection */
} BenchLimits;

/* Starts the bus and sspid (config: default-trust=ca.pem, an inbound
 * credential "server" of the test PKI for the current uid), sets
 * SSPID_BUS_ADDRESS and returns once the daemon owns org.sspid1.
 * Dies on failure.  Stop with bench_env_stop(). */
BenchEnv *bench_env_start (const BenchLimits *limits);
void      bench_env_stop (BenchEnv *env);
/* A new private connection to the env's bus (a message bus connection
 * that said Hello).  Caller owns it. */
GDBusConnection *bench_env_connect (BenchEnv *env);

/* $SSPID_TEST_PKI/@file.  Caller frees. */
char *bench_pki_path (const char *file);

G_NORETURN void bench_die (const char *format, ...) G_GNUC_PRINTF (1, 2);

/* Whether $BENCH_ONLY (comma-separated part names; unset: all) asks for
 * @name: to run, or profile, one part of a program. */
gboolean bench_is_wanted (const char *name);

/* Monotonic microseconds. */
gint64 bench_now_us (void);
/* How long each timed run lasts: $BENCH_SECONDS, default @fallback. */
double bench_seconds (double fallback);

/* CPU time (user + system, every thread, in µs) of @pid (0: this process),
 * and its resident set size in KiB.  0 if it cannot be read. */
guint64 bench_proc_cpu_us (GPid pid);
guint64 bench_proc_rss_kib (GPid pid);

/* The same for @pid's threads named @comm ("gdbus", the main thread's
 * name...).  Threads that have exited are not counted. */
guint64 bench_proc_threads_cpu_us (GPid pid, const char *comm);

/* CPU of the three processes a benchmark involves, in µs; the daemon's
 * also split by thread: its main thread and GDBus's I/O thread (the D-Bus
 * front) against the rest (the worker pool: the TLS work). */
typedef struct {
  guint64 self_us, daemon_us, bus_us;
  guint64 daemon_main_us, daemon_gdbus_us;
} BenchCpu;
/* Reads the three now (@env may be NULL: this process only). */
void bench_cpu_sample (BenchEnv *env, BenchCpu *cpu);
/* Adds what was spent since @before to @total. */
void bench_cpu_accumulate (BenchEnv *env, const BenchCpu *before, BenchCpu *total);
/* Prints "<prefix>-cpu-{client,sspid,bus}" in µs per operation for @ops
 * operations (only -cpu-client without @with_daemon), and the daemon's
 * split "<prefix>-cpu-sspid-{main,gdbus,workers}"; returns the sum. */
double bench_cpu_report (const BenchCpu *total, guint ops, const char *prefix,
                         gboolean with_daemon);

/* A `name value unit` line, the only output bench/run parses. */
void bench_report (const char *name, double value, const char *unit);
/* A comment line ("# ..."), for people. */
void bench_note (const char *format, ...) G_GNUC_PRINTF (1, 2);

/* The @p-th percentile (0..100) of @samples (doubles; sorted in place). */
double bench_percentile (GArray *samples, double p);
