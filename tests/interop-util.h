/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the interoperability tests (test-interop.c,
 * test-interop-data.c, the DTLS ones): the fixture they all run in (a
 * private bus and sspid, the test PKI, a loopback port, UDP sockets on
 * it), sspictl's command lines, and
 * running a peer or sspictl to its end.  Built into each of those
 * programs, whose CFLAGS define SSPICTL_BINARY (the built sspictl); on
 * top of tests/testutil.h.
 */
#pragma once

#include "testutil.h"

#ifndef SSPICTL_BINARY
#error "SSPICTL_BINARY must name the built sspictl (see tests/Makefile.inc)"
#endif

/* How long any one process of these tests may take: to start listening,
 * to finish. */
#define IU_WAIT_MS 30000

/* ---- the fixture --------------------------------------------------------- */

/* What every test runs with: set by iu_setup(), a checked fixture (so in
 * the test's own process, a new one for every test), and freed by
 * iu_teardown(). */
extern TuEnv   *iu_env;         /* tu_env_start (NULL): standard credentials */
extern char    *iu_ca;          /* the test PKI's files (tu_pki_path()) */
extern char    *iu_server_pem, *iu_server_key;   /* CN=localhost */
extern char    *iu_client_pem, *iu_client_key;   /* CN=sspid test client */
extern guint16  iu_port;        /* free: where the test's server listens */
extern char    *iu_port_s;      /* "PORT" */
extern char    *iu_address;     /* "127.0.0.1:PORT" */

void iu_setup (void);
void iu_teardown (void);

/* Fails the test unless program @name is on $PATH: the peers are
 * required (tools/check installs them), a missing one is not a skip. */
void iu_require_program (const char *name);

/* A UDP socket on loopback: bound to @port (a server's), or connected to
 * it (a client's, or a relay's towards the server).  Fails the test if
 * it cannot be made.  Caller closes it. */
int iu_udp_socket (guint16 port, gboolean is_bound);

/* ---- sspictl's command lines --------------------------------------------- */

/* The argv "sspictl @verb @first @fixed... @extra..." (@fixed and @extra
 * NULL-terminated, either may be NULL), NULL-terminated in ->pdata.
 * Caller frees with g_ptr_array_unref(). */
GPtrArray *iu_sspictl_argv (const char *verb, const char *first, const char *const *fixed,
                            const char *const *extra);
/* The argv of `sspictl connect 127.0.0.1:PORT --target localhost
 * @extra...` (the server certificate's name).  Caller frees with
 * g_ptr_array_unref(). */
GPtrArray *iu_connect_argv (const char *const *extra);

/* ---- running processes --------------------------------------------------- */

/* Waits for @pid, spawned with tu_spawn() as @tag, and returns its exit
 * status (-1: killed, or not done within IU_WAIT_MS), with what it printed
 * in *output (caller frees) unless @output is NULL. */
int iu_wait_output (GPid pid, const char *tag, char **output);
/* Waits (up to IU_WAIT_MS) until what @tag, still running, printed
 * contains @needle. */
gboolean iu_wait_printed (const char *tag, const char *needle);
/* All of @data to @fd (a spawned process's stdin); fails the test if it
 * cannot. */
void iu_write_all (int fd, const char *data, gsize len);
/* iu_write_all() of @text to @fd, then iu_wait_printed() of @needle by
 * @tag; fails the test with @why if it is not printed. */
void iu_send_and_wait (int fd, const char *text, const char *tag, const char *needle,
                       const char *why);
/* tu_spawn() of @argv as @tag, stdin from /dev/null, then iu_wait_output(). */
int iu_run (const char *tag, const char *const *argv, char **output);
/* iu_wait_output() for a process that must exit with status 0: fails the
 * test otherwise, showing what it printed under the name @who.  Returns
 * its output; caller frees. */
char *iu_finish (GPid pid, const char *tag, const char *who);

/* Starts the peer server @argv as @tag (its program required: argv[0])
 * and returns once it listens on iu_port. */
GPid iu_start_server (const char *tag, const char *const *argv);

/* iu_run() of iu_connect_argv (@extra) as @tag. */
int iu_run_connect (const char *tag, const char *const *extra, char **output);
/* The same for a connect that must succeed: fails the test with what it
 * printed otherwise.  Returns its output; caller frees. */
char *iu_connect_ok (const char *tag, const char *const *extra);
/* Starts `sspictl serve PORT @fixed... @extra...` as @tag and returns
 * once it listens (tu_spawn_server()). */
GPid iu_start_serve (const char *tag, const char *const *fixed, const char *const *extra);

/* An interactive s_server (tag "s_server") and sspictl connect --stdin
 * (tag "connect") as its client, each reading what the test writes to
 * its stdin: for the tests that change keys in the middle of a session. */
typedef struct {
  GPid server, client;
  int  server_stdin, client_stdin;
} IuLinePair;

/* Starts s_server (@server_argv) and, once it listens, connect
 * (@connect_argv); returns when s_server printed the handshake. */
void iu_line_pair_start (IuLinePair *p, const char *const *server_argv, GPtrArray *connect_argv);
/* @from_server typed into s_server must arrive at connect, then
 * @from_client the other way. */
void iu_line_pair_exchange (IuLinePair *p, const char *from_server, const char *from_client);
/* Ends connect's input (it sends close_notify; s_server answers), then
 * s_server's; both must exit with 0.  Their outputs; caller frees. */
void iu_line_pair_finish (IuLinePair *p, char **connect_out, char **server_out);
