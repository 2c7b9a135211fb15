/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the interoperability tests (see interop-util.h): the
 * fixture, the sspictl command lines and the way of running a process to
 * its end, written once for test-interop.c and test-interop-data.c.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "interop-util.h"

TuEnv *iu_env;
char *iu_ca, *iu_server_pem, *iu_server_key, *iu_client_pem, *iu_client_key;
guint16 iu_port;
char *iu_port_s, *iu_address;

void
iu_setup (void)
{
  iu_env = tu_env_start (NULL);
  iu_ca = tu_pki_path ("ca.pem");
  iu_server_pem = tu_pki_path ("server.pem");
  iu_server_key = tu_pki_path ("server.key");
  iu_client_pem = tu_pki_path ("client.pem");
  iu_client_key = tu_pki_path ("client.key");
  iu_port = tu_free_port ();
  iu_port_s = g_strdup_printf ("%u", iu_port);
  iu_address = g_strdup_printf ("127.0.0.1:%u", iu_port);
}

void
iu_teardown (void)
{
  tu_env_stop (iu_env);
  iu_env = NULL;
  g_clear_pointer (&iu_ca, g_free);
  g_clear_pointer (&iu_server_pem, g_free);
  g_clear_pointer (&iu_server_key, g_free);
  g_clear_pointer (&iu_client_pem, g_free);
  g_clear_pointer (&iu_client_key, g_free);
  g_clear_pointer (&iu_port_s, g_free);
  g_clear_pointer (&iu_address, g_free);
}

void
iu_require_program (const char *name)
{
  g_autofree char *path = g_find_program_in_path (name);

  ck_assert_msg (path != NULL, "%s is not installed (tools/check installs it)", name);
}

int
iu_udp_socket (guint16 port, gboolean is_bound)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (port) };
  int fd = socket (AF_INET, SOCK_DGRAM, 0);

  ck_assert_int_ge (fd, 0);
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (is_bound)
    ck_assert_int_eq (bind (fd, (struct sockaddr *) &sa, sizeof sa), 0);
  else
    ck_assert_int_eq (connect (fd, (struct sockaddr *) &sa, sizeof sa), 0);
  return fd;
}

static void
add_all (GPtrArray *argv, const char *const *args)
{
  for (gsize i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
}

GPtrArray *
iu_sspictl_argv (const char *verb, const char *first, const char *const *fixed,
                 const char *const *extra)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (argv, g_strdup (SSPICTL_BINARY));
  g_ptr_array_add (argv, g_strdup (verb));
  g_ptr_array_add (argv, g_strdup (first));
  add_all (argv, fixed);
  add_all (argv, extra);
  g_ptr_array_add (argv, NULL);
  return argv;
}

GPtrArray *
iu_connect_argv (const char *const *extra)
{
  static const char *const target[] = { "--target", "localhost", NULL };

  return iu_sspictl_argv ("connect", iu_address, target, extra);
}

int
iu_wait_output (GPid pid, const char *tag, char **output)
{
  int code = tu_wait_exit (pid, IU_WAIT_MS);

  if (output != NULL)
    *output = tu_spawn_output (iu_env, tag);
  return code;
}

int
iu_run (const char *tag, const char *const *argv, char **output)
{
  return iu_wait_output (tu_spawn (iu_env, tag, argv, NULL), tag, output);
}

char *
iu_finish (GPid pid, const char *tag, const char *who)
{
  char *out = NULL;
  int code = iu_wait_output (pid, tag, &out);

  ck_assert_msg (code == 0, "%s exited %d:\n%s", who, code, tu_tail (out));
  return out;
}

GPid
iu_start_server (const char *tag, const char *const *argv)
{
  iu_require_program (argv[0]);
  return tu_spawn_server (iu_env, tag, argv, iu_port, IU_WAIT_MS);
}

int
iu_run_connect (const char *tag, const char *const *extra, char **output)
{
  g_autoptr (GPtrArray) argv = iu_connect_argv (extra);

  return iu_run (tag, (const char *const *) argv->pdata, output);
}

char *
iu_connect_ok (const char *tag, const char *const *extra)
{
  g_autoptr (GPtrArray) argv = iu_connect_argv (extra);

  return iu_finish (tu_spawn (iu_env, tag, (const char *const *) argv->pdata, NULL), tag,
                    "sspictl connect");
}

GPid
iu_start_serve (const char *tag, const char *const *fixed, const char *const *extra)
{
  g_autoptr (GPtrArray) argv = iu_sspictl_argv ("serve", iu_port_s, fixed, extra);

  return tu_spawn_server (iu_env, tag, (const char *const *) argv->pdata, iu_port, IU_WAIT_MS);
}

gboolean
iu_wait_printed (const char *tag, const char *needle)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) IU_WAIT_MS * 1000;

  while (g_get_monotonic_time () < deadline)
    {
      g_autofree char *out = tu_spawn_output (iu_env, tag);

      if (strstr (out, needle) != NULL)
        return TRUE;
      g_usleep (20000);
    }
  return FALSE;
}

void
iu_write_all (int fd, const char *data, gsize len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);

      ck_assert_msg (n > 0, "write: %s", g_strerror (errno));
      data += n;
      len -= n;
    }
}

void
iu_send_and_wait (int fd, const char *text, const char *tag, const char *needle,
                  const char *why)
{
  iu_write_all (fd, text, strlen (text));
  ck_assert_msg (iu_wait_printed (tag, needle), "%s", why);
}

/* ---- s_server and sspictl connect, fed line by line ---------------------- */

void
iu_line_pair_start (IuLinePair *p, const char *const *server_argv, GPtrArray *connect_argv)
{
  p->server = tu_spawn (iu_env, "s_server", server_argv, &p->server_stdin);
  ck_assert (tu_wait_port (iu_port, IU_WAIT_MS));
  p->client = tu_spawn (iu_env, "connect", (const char *const *) connect_argv->pdata,
                        &p->client_stdin);
  ck_assert_msg (iu_wait_printed ("s_server", "CIPHER is"), "no handshake");
}

void
iu_line_pair_exchange (IuLinePair *p, const char *from_server, const char *from_client)
{
  iu_send_and_wait (p->server_stdin, from_server, "connect", from_server,
                    "the server's line did not arrive");
  iu_send_and_wait (p->client_stdin, from_client, "s_server", from_client,
                    "the client's line did not arrive");
}

void
iu_line_pair_finish (IuLinePair *p, char **connect_out, char **server_out)
{
  close (p->client_stdin);
  *connect_out = iu_finish (p->client, "connect", "sspictl connect");
  close (p->server_stdin);
  *server_out = iu_finish (p->server, "s_server", "s_server");
}
