/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The private test bus, shared by the tests (tests/testutil.c,
 * tests/test-activation.c) and the benchmarks (bench/bench-util.c): a
 * dbus-daemon configured like the system bus (dbus's system.conf default
 * policy: nobody owns a name or calls a method unless a policy file says
 * so) that includes the project's real bus policy, so what the tests and
 * benchmarks exercise is the policy sspid ships with.  Also the few process
 * and bus helpers that go with it: waiting for a name owner, stopping a
 * child process, removing a temp dir.
 *
 * Nothing here depends on `check`, because benchmarks are built by plain
 * `make` and never link it: every failure is a FALSE or NULL return with a
 * GError, and each caller fails its own way (ck_abort_msg in tests,
 * bench_die in benchmarks).
 */
#pragma once

#include <gio/gio.h>
#include <glib.h>

#define TB_ERROR (tb_error_quark ())
typedef enum {
  TB_ERROR_FAILED,   /* anything else: see the message */
  TB_ERROR_EXITED,   /* the process ended (and was reaped) */
  TB_ERROR_TIMEOUT,  /* it did not happen in time */
} TbError;
GQuark tb_error_quark (void);

/* Files tb_bus_start() writes into its dir. */
#define TB_BUS_CONFIG_FILE "bus.conf"
#define TB_BUS_LOG_FILE    "bus.log"     /* the bus's stdout and stderr */
#define TB_BUS_SOCKET_FILE "bus"         /* listened on: unix:path=DIR/bus */

/* What differs between the buses of the tests and the benchmarks.  All
 * fields may be NULL/FALSE: a bus like the system bus with nothing more. */
typedef struct {
  const char *policy_path;     /* <include>d (ignore_missing="no"); NULL: none */
  const char *servicedir;      /* <servicedir> to activate from; NULL: none */
  const char *extra_config;    /* raw XML at the top level, e.g. <limit>s */
  const char *extra_policy;    /* raw XML rules appended to the default policy */
  gboolean    is_dying_with_parent; /* the bus gets SIGTERM when its spawning
                                       thread dies (PR_SET_PDEATHSIG) */
} TbBusOptions;

typedef struct {
  char *address;   /* as the bus printed it */
  GPid  pid;       /* our child, not reaped */
} TbBus;

/* Monotonic time @timeout_ms from now, and whether it has come: for the
 * polling loops of the tests. */
gint64   tb_deadline_after (guint timeout_ms);
gboolean tb_is_past (gint64 deadline);

/* The name of the user running us (getpwuid).  Caller frees. */
char *tb_dup_user_name (GError **error);

/* Writes the project's bus policy (data/org.sspid1.conf.in, compiled in as
 * SSPID_BUS_POLICY) into @dir as org.sspid1.conf with @SSPID_USER@ naming
 * the current user (who runs the daemon under test, so who may own
 * org.sspid1) and returns its path.  A missing template is
 * G_FILE_ERROR_NOENT.  Caller frees. */
char *tb_write_bus_policy (const char *dir, GError **error);

/* A dbus-daemon config listening on @dir/bus, the system bus's default
 * policy (the current user stands in for root as the one who may monitor)
 * and @options.  Caller frees. */
char *tb_bus_config (const char *dir, const TbBusOptions *options, GError **error);

/* Writes tb_bus_config() into @dir/bus.conf, starts dbus-daemon on it
 * (output to @dir/bus.log) and waits up to @timeout_ms for the address it
 * prints.  On failure the bus is killed and reaped and NULL returned.
 * Caller stops the bus (tb_stop_process) and frees with tb_bus_free(). */
TbBus *tb_bus_start (const char *dir, const TbBusOptions *options, guint timeout_ms,
                     GError **error);
void   tb_bus_free (TbBus *bus);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbBus, tb_bus_free)

/* A new private message-bus connection to @address (it said Hello).
 * Caller owns it. */
GDBusConnection *tb_connect (const char *address, GError **error);

/* *@pid gets the pid of @name's owner, 0 if it has none. */
gboolean tb_peek_name_owner_pid (GDBusConnection *connection, const char *name, guint32 *pid,
                                 GError **error);

/* Waits up to @timeout_ms until process @pid (our child) owns @name, or
 * anyone does when @is_any_owner (a wrapper such as valgrind may run it
 * under another pid).  TB_ERROR_EXITED if it ended first (then it is
 * reaped and *@status, which may be NULL, has its wait status),
 * TB_ERROR_TIMEOUT if time ran out (it still runs). */
gboolean tb_wait_for_name_owner (GDBusConnection *connection, const char *name, GPid pid,
                                 gboolean is_any_owner, guint timeout_ms, int *status,
                                 GError **error);

/* "exited with status N", "was killed by signal N (...)": for messages.
 * Caller frees. */
char *tb_describe_status (int status);

/* Sends @signo to @pid and reaps it; one that outlives @timeout_ms gets
 * SIGKILL and the answer FALSE.  *@status is its wait status, -1 when it
 * could not be known (not our child: another process started it). */
gboolean tb_stop_process (GPid pid, int signo, guint timeout_ms, int *status);

/* A GSpawnChildSetupFunc: the child gets SIGTERM when the thread that
 * spawned it dies, however it dies (PR_SET_PDEATHSIG). */
void tb_die_with_parent (gpointer user_data);

/* Removes @path and everything below it, without following symbolic
 * links (what a link points to stays). */
void tb_remove_tree (const char *path);
