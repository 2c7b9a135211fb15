/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the tests: the test PKI, a private dbus-daemon (whose
 * config includes the project's real bus policy; testbus.h, shared with the
 * benchmarks) with the real sspid on it, and loopback TCP plumbing for
 * talking to real TLS peers.
 *
 * Tests refuse to build with NDEBUG: they rely on assertions.
 */
#pragma once

#ifdef NDEBUG
#error "tests must not be built with NDEBUG"
#endif

#include <check.h>
#include <gio/gio.h>
#include <glib.h>
#include <sys/types.h>

/* Path of a file of the test PKI generated at `make check` time
 * (tests/pki/gen-pki.sh), e.g. tu_pki_path ("server.pem").  The directory
 * comes from $SSPID_TEST_PKI.  Returned string is owned by the caller. */
char *tu_pki_path (const char *file);
/* A new temporary directory holding copies of ca.pem, server.pem,
 * server.key, client.key, expired.pem and expired.key, mode 0600 and
 * ours, as the daemon wants keys.  Remove with tu_remove_tree(); free the
 * path with g_free(). */
char *tu_pki_copy_dir (void);
/* The first certificate of @file of the test PKI (a PEM file), as DER,
 * to compare with what a peer or an API returned.  Aborts the test if the
 * file has none.  Caller must release it with g_bytes_unref(). */
GBytes *tu_pki_cert_der (const char *file);

typedef struct {
  char  *dir;           /* private temp dir: bus config, sspid.conf, logs */
  char  *bus_address;   /* also exported as SSPID_BUS_ADDRESS */
  GPid   bus_pid;
  GPid   daemon_pid;
  char  *config_path;   /* the sspid.conf the daemon runs with */
} TuEnv;

/* Starts a private dbus-daemon and sspid on it with the standard test
 * config (see tests/testutil.c: [daemon] default-trust=ca.pem; credentials
 * "server", "client" (outbound), "expired", "wrongname", "untrusted",
 * "rsa", "mtls" (client-auth=require), "both" (usage=both) from the test
 * PKI, usable by the current uid) with @extra_config (may be NULL) merged
 * in, its keys overriding standard ones; sets SSPID_BUS_ADDRESS, and
 * returns once the daemon owns org.sspid1.  Aborts the test on failure.
 * Stop with tu_env_stop().  The env belongs to the process that started
 * it: start it in the test or a checked fixture, not an unchecked one. */
TuEnv *tu_env_start (const char *extra_config);
void   tu_env_stop (TuEnv *env);

/* The bus policy for a test that starts a bus of its own with testbus.h:
 * writes the project's bus policy into @dir as org.sspid1.conf, with
 * @SSPID_USER@ naming the current user (in tests the daemon runs as that
 * user, so that is who may own org.sspid1), and returns its path, or NULL
 * (with a warning) while the policy does not exist yet.  Aborts the test
 * on any other failure.  Returned string is owned by the caller. */
char  *tu_write_bus_policy (const char *dir);

/* The checked fixture most test cases share: one fresh env per test.
 * tu_fixture_setup() starts tu_fixture_env with the standard config,
 * tu_fixture_setup_with() with @extra_config merged in (for a file's own
 * setup that needs more, e.g. a limit), and tu_fixture_teardown() stops it
 * and sets it back to NULL (doing nothing if no env is running, so a test
 * case whose tests start tu_fixture_env themselves can use it too).  Use
 * them with tcase_add_checked_fixture(), never an unchecked fixture: the
 * env belongs to the test's process. */
extern TuEnv *tu_fixture_env;
void   tu_fixture_setup (void);
void   tu_fixture_setup_with (const char *extra_config);
void   tu_fixture_teardown (void);

/* One test of a TuCase: @test, or with @loops > 0 the loop test that runs
 * it for _i = 0 .. @loops - 1 (tcase_add_loop_test). */
typedef struct {
  const TTest *test;
  int          loops;
} TuTest;

/* One test case of a table-driven suite: its name, its checked fixture
 * (@setup and @teardown, either may be NULL; tu_fixture_setup and
 * tu_fixture_teardown or a file's own variants), its timeout in seconds
 * (0 keeps check's default) and its tests, ended by an empty TuTest when
 * there are fewer than TU_CASE_MAX_TESTS. */
#define TU_CASE_MAX_TESTS 16
typedef struct {
  const char  *name;
  void       (*setup) (void);
  void       (*teardown) (void);
  double       timeout_sec;
  TuTest       tests[TU_CASE_MAX_TESTS];
} TuCase;

/* Adds to @suite a test case for each of the @n_cases @cases. */
void   tu_suite_add_cases (Suite *suite, const TuCase *cases, gsize n_cases);
/* What main() of a test program with one table does: runs the suite
 * @name made of the @n_cases @cases with tu_run_suite(). */
int    tu_run_cases (const char *name, const TuCase *cases, gsize n_cases);

/* What main() of a test program does: runs @suite (srunner_run_all with
 * CK_ENV, so CK_FORK, CK_RUN_CASE... apply), frees it, and returns the
 * exit status: EXIT_SUCCESS if every test passed, else EXIT_FAILURE. */
int    tu_run_suite (Suite *suite);

/* Stops the daemon with @signo (SIGKILL for a crash), reaps it and waits
 * until the bus has dropped its name. */
void   tu_env_kill_daemon (TuEnv *env, int signo);
/* Starts the daemon again with the same config and waits for the name. */
void   tu_env_start_daemon (TuEnv *env);
/* Rewrites env->config_path as tu_env_start() does, with @extra_config
 * instead; takes effect at the next tu_env_start_daemon(). */
void   tu_env_write_config (TuEnv *env, const char *extra_config);
/* Everything the daemon printed so far, over all its runs in @env.
 * Returned string is owned by the caller. */
char  *tu_env_daemon_log (TuEnv *env);

/* Optional command prepended to the daemon's command line, e.g.
 * "valgrind --error-exitcode=99 --leak-check=full". */
#define TU_DAEMON_WRAPPER_ENV "SSPID_TEST_DAEMON_WRAPPER"
/* The command line that runs the built sspid with @args (NULL-terminated),
 * under the daemon wrapper if one is set.  Free with g_strfreev(). */
char **tu_sspid_argv (const char *const *args);

/* Whether the daemon runs under a wrapper ($SSPID_TEST_DAEMON_WRAPPER, e.g.
 * valgrind), which makes it 20-50 times slower: load tests scale down and
 * wait longer. */
gboolean tu_is_wrapped (void);
/* Whether the tests were built with AddressSanitizer (configure
 * --enable-sanitizers): slower, and its quarantine keeps freed memory, so
 * RSS figures mean nothing. */
gboolean tu_is_sanitized (void);
/* How many times longer than in a plain build a wait may take here: 1,
 * or more under AddressSanitizer or a daemon wrapper (valgrind), on a
 * machine that may be busy with other work.  Every check tcase timeout
 * is scaled by it too (CK_TIMEOUT_MULTIPLIER, unless the caller set one),
 * and so is every deadline of tu_wait_port() and tu_wait_exit(). */
guint    tu_slowdown (void);
/* @ms scaled by tu_slowdown(): for deadlines of waits on a condition. */
guint    tu_scaled_ms (guint ms);

/* fork(), once every other thread of this process sleeps in the kernel (or
 * after 5 s, regardless).  A child forked while another thread allocates
 * can hang at its first malloc() under gcc 12's AddressSanitizer, whose
 * allocator lock is not taken across fork (google/sanitizers#774; fixed in
 * LLVM 18); glibc's malloc is fork-safe, so this matters to the sanitized
 * tests only, but it costs a plain run a millisecond. */
pid_t    tu_fork_quiet (void);

/* What GetStatus says the daemon holds. */
typedef struct {
  guint32 clients, contexts, credentials, pending;
} TuCounts;

#define TU_COUNTS_FORMAT "clients=%u contexts=%u credentials=%u pending=%u"
#define TU_COUNTS_ARGS(c) (c).clients, (c).contexts, (c).credentials, (c).pending

/* The daemon's counts, asked with GetStatus over @conn (a raw bus
 * connection, which counts among the clients).  Aborts the test if the
 * call fails. */
TuCounts tu_get_counts (GDBusConnection *conn);
/* The same over a new connection of the test's own to tu_fixture_env's
 * bus (closed again; it counts among the clients while it asks). */
TuCounts tu_fixture_counts (void);
gboolean tu_counts_equal (const TuCounts *a, const TuCounts *b);

/* The resident set (VmRSS of /proc/PID/status) of process @pid, in KiB.
 * Aborts the test if it cannot be read. */
guint64 tu_process_rss_kib (GPid pid);
/* CPU seconds (user + system) process @pid has used, from /proc/PID/stat;
 * -1 if that cannot be read (the process is gone). */
double  tu_process_cpu_seconds (GPid pid);

/* The name of the user running the tests; aborts the test if it has none.
 * Returned string is owned by the caller. */
char  *tu_dup_user_name (void);
/* Removes @path and everything below it, without following symbolic
 * links (what a link points to stays). */
void   tu_remove_tree (const char *path);

/* A flag that a callback on another thread raises and the test waits for
 * (an async call's completion).  Zero-initialise it (GLib's mutex and
 * cond work zeroed, as static ones do), or init and clear its members. */
typedef struct {
  GMutex   lock;
  GCond    cond;
  gboolean is_raised;
} TuFlag;

/* Raises @flag: the callback's side. */
void     tu_flag_raise (TuFlag *flag);
/* Waits up to @timeout_ms for @flag to be raised, and lowers it for the
 * next wait.  FALSE if it was not raised in time. */
gboolean tu_flag_wait (TuFlag *flag, guint timeout_ms);

/* A free loopback TCP port (bound and released; good enough for tests). */
guint16 tu_free_port (void);
/* Blocks until something listens on 127.0.0.1:@port, up to @timeout_ms.
 * Returns FALSE on timeout. */
gboolean tu_wait_port (guint16 port, guint timeout_ms);
/* Connects to 127.0.0.1:@port; returns the fd or -1. */
int tu_connect (guint16 port);

/* Spawns @argv (NULL-terminated) with stdin from /dev/null or a pipe
 * (@stdin_fd non-NULL), stdout/stderr captured to files in @env->dir
 * named after @tag.  Returns the pid; aborts on failure. */
GPid tu_spawn (TuEnv *env, const char *tag, const char *const *argv, int *stdin_fd);
/* Contents of what a process spawned with @tag printed (stdout then stderr). */
char *tu_spawn_output (TuEnv *env, const char *tag);
/* SIGTERM then reap. */
void tu_kill (GPid pid);
/* tu_spawn() of a server that must listen on 127.0.0.1:@port within
 * @timeout_ms; aborts the test with what it printed if it does not. */
GPid tu_spawn_server (TuEnv *env, const char *tag, const char *const *argv, guint16 port,
                      guint timeout_ms);
/* Waits for @pid to exit; returns its exit status, or -1 if it was killed
 * or did not exit within @timeout_ms (then it is killed). */
int tu_wait_exit (GPid pid, guint timeout_ms);
/* Fails the test unless @needle is in @haystack, showing @who's output. */
void tu_assert_contains (const char *haystack, const char *needle, const char *who);
/* tu_assert_contains() for each needle of the NULL-terminated list after
 * @who: what one output must say. */
void tu_assert_contains_all (const char *haystack, const char *who, ...) G_GNUC_NULL_TERMINATED;
/* Parses @json with python3 (GLib has no JSON parser) and evaluates the
 * Python expression @expr with the document as `d` (and `now`, the
 * time); fails the test unless it is true (testutil-json.c). */
void tu_assert_json (const char *json, const char *expr);
