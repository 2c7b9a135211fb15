/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sspictl, as an administrator and a script use it: every verb against a
 * real daemon on a private bus, with its --json output parsed (by python3,
 * which gdbus-codegen already needs: GLib has no JSON parser) and checked
 * field by field; the exit codes sspictl(1) documents; check-config on a
 * good configuration and on each kind of broken one, with the exit code
 * and the message naming the file, line and credential at fault; and the
 * JSON writer's escaping on hostile strings.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "quic-end.h"
#include "sspid-json.h"
#include "sspictl-run.h"
#include "testutil.h"
#include "tls-pair.h"

#ifndef SSPICTL_BINARY
#error "SSPICTL_BINARY must name the built sspictl (see tests/Makefile.inc)"
#endif
#ifndef SSPID_BINARY
#error "SSPID_BINARY must name the built sspid (see tests/Makefile.inc)"
#endif

/* ---- helpers ----------------------------------------------------------- */

/* ---- the JSON writer --------------------------------------------------- */

START_TEST (test_json_escaping)
{
  g_autoptr (SspidJson) j = sspid_json_new ();
  g_autofree char *text = NULL;
  g_autoptr (GVariant) dict = NULL;
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "n", g_variant_new_uint64 (G_MAXUINT64));
  g_variant_builder_add (&b, "{sv}", "x", g_variant_new_int64 (-5));
  g_variant_builder_add (&b, "{sv}", "ay",
                         g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, "\x01\xff", 2, 1));
  g_variant_builder_add (&b, "{sv}", "list", g_variant_new_strv ((const char *[]) { "a", NULL }, -1));
  dict = g_variant_ref_sink (g_variant_builder_end (&b));

  sspid_json_begin_object (j);
  sspid_json_member_string (j, "quote", "a\"b\\c/d");
  sspid_json_member_string (j, "controls", "\n\r\t\b\f\x01\x1f\x7f");
  sspid_json_member_string (j, "utf8", "CN=J\xc3\xa9r\xc3\xb4me \xe2\x82\xac");
  sspid_json_member_string (j, "invalid", "a\xff\xfe" "b");
  sspid_json_member_string (j, "null", NULL);
  sspid_json_member_bool (j, "t", TRUE);
  sspid_json_key (j, "empty-array");
  sspid_json_begin_array (j);
  sspid_json_end_array (j);
  sspid_json_key (j, "empty-object");
  sspid_json_begin_object (j);
  sspid_json_end_object (j);
  sspid_json_key (j, "variant");
  sspid_json_variant (j, dict);
  sspid_json_end_object (j);
  text = sspid_json_finish (g_steal_pointer (&j));

  tu_assert_json (text, "d['quote'] == 'a\"b\\\\c/d'");
  tu_assert_json (text, "d['controls'] == '\\n\\r\\t\\b\\f\\x01\\x1f\\x7f'");
  tu_assert_json (text, "d['utf8'] == 'CN=J\\u00e9r\\u00f4me \\u20ac'");
  tu_assert_json (text, "d['invalid'] == 'a\\ufffd\\ufffdb'");
  tu_assert_json (text, "d['null'] is None and d['t'] is True");
  tu_assert_json (text, "d['empty-array'] == [] and d['empty-object'] == {}");
  tu_assert_json (text, "d['variant'] == {'n': 18446744073709551615, 'x': -5, "
                        "'ay': '01ff', 'list': ['a']}");
  /* Control characters never appear raw. */
  for (const char *p = text; *p != '\0'; p++)
    ck_assert_msg ((guchar) *p >= 0x20 || *p == '\n', "raw control character in:\n%s", tu_tail (text));
}
END_TEST

/* ---- the daemon verbs -------------------------------------------------- */

START_TEST (test_status)
{
  const char *json_args[] = { "status", "--json", NULL };
  const char *text_args[] = { "status", NULL };
  g_autofree char *out = NULL, *err = NULL, *text = NULL, *err2 = NULL;
  g_autofree char *expr = NULL, *version_line = NULL;
  int code;

  code = sspictl_run (json_args, &out, &err);
  ck_assert_msg (code == 0, "sspictl status --json exited %d: %s", code, err);
  expr = g_strdup_printf ("d['version'] == '%s' and d['bus'] == '%s'", PACKAGE_VERSION,
                          tu_fixture_env->bus_address);
  tu_assert_json (out, expr);
  tu_assert_json (out, "d['gnutls-version'].startswith('3.') and d['uptime-sec'] >= 0");
  tu_assert_json (out, "d['clients'] >= 1 and d['pending'] >= 0 and d['instance'] > 0");
  tu_assert_json (out, "d['contexts'] == 0 and d['credentials'] == 0");
  /* The standard test config: eight credentials, all loadable. */
  tu_assert_json (out, "d['configured-credentials'] == 8");

  code = sspictl_run (text_args, &text, &err2);
  ck_assert_msg (code == 0, "sspictl status exited %d: %s", code, err2);
  version_line = g_strdup_printf ("sspid %s", PACKAGE_VERSION);
  tu_assert_contains (text, version_line, "sspictl status");
  /* Aligned: every value starts in the same column. */
  tu_assert_contains_all (text, "sspictl status", "daemon:                  sspid",
                          "configured credentials:  8", NULL);
}
END_TEST

START_TEST (test_credentials)
{
  const char *json_args[] = { "credentials", "--json", NULL };
  const char *text_args[] = { "credentials", NULL };
  g_autofree char *out = NULL, *err = NULL, *text = NULL, *err2 = NULL;
  int code;

  code = sspictl_run (json_args, &out, &err);
  ck_assert_msg (code == 0, "sspictl credentials --json exited %d: %s", code, err);
  tu_assert_json (out, "[c['name'] for c in d['credentials']] == "
                       "sorted(['both', 'client', 'expired', 'mtls', 'rsa', 'server', "
                       "'untrusted', 'wrongname'])");
  tu_assert_json (out, "[(c['usage'], c['subject'], c['key-type'], c['key-storage']) "
                       "for c in d['credentials'] if c['name'] == 'server'] == "
                       "[('inbound', 'CN=localhost', 'ECDSA P-256', 'file')]");
  tu_assert_json (out, "all('sspid test CA' in c['issuer'] for c in d['credentials'] "
                       "if c['name'] != 'untrusted')");
  tu_assert_json (out, "[c['key-type'] for c in d['credentials'] if c['name'] == 'rsa'] "
                       "== ['RSA 2048']");
  tu_assert_json (out, "[c['usage'] for c in d['credentials'] if c['name'] in "
                       "('client', 'both')] == ['both', 'outbound']");
  tu_assert_json (out, "all(c['not-before'] < now < c['not-after'] for c in d['credentials'] "
                       "if c['name'] != 'expired')");
  tu_assert_json (out, "[c['not-after'] < now for c in d['credentials'] "
                       "if c['name'] == 'expired'] == [True]");
  ck_assert_msg (strstr (out, "PRIVATE") == NULL && strstr (out, "BEGIN") == NULL,
                 "key material in:\n%s", tu_tail (out));

  code = sspictl_run (text_args, &text, &err2);
  ck_assert_msg (code == 0, "sspictl credentials exited %d: %s", code, err2);
  tu_assert_contains_all (text, "sspictl credentials", "NAME", "VALID UNTIL", "(expired)",
                          "ECDSA P-256 (file)", NULL);
}
END_TEST

START_TEST (test_contexts)
{
  const char *json_args[] = { "contexts", "--json", NULL };
  const char *text_args[] = { "contexts", NULL };
  const char *status_args[] = { "status", "--json", NULL };
  TlsPairOptions opts = { 0 };
  g_autoptr (TlsPair) pair = NULL;
  g_autofree char *out = NULL, *err = NULL, *text = NULL, *err2 = NULL;
  g_autofree char *status = NULL, *err3 = NULL, *expr = NULL;
  int code;

  /* Nothing yet. */
  code = sspictl_run (json_args, &out, &err);
  ck_assert_msg (code == 0, "sspictl contexts --json exited %d: %s", code, err);
  tu_assert_json (out, "d == {'contexts': []}");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* An established client and server context of this process. */
  pair = tls_pair_run (&opts);
  ck_assert_int_eq (tls_pair_peek_result (pair)->client.status, SEC_E_OK);

  code = sspictl_run (json_args, &out, &err);
  ck_assert_msg (code == 0, "sspictl contexts --json exited %d: %s", code, err);
  expr = g_strdup_printf ("len(d['contexts']) == 2 and all(c['owner-pid'] == %d and "
                          "c['owner-uid'] == %u and not c['own'] and 'handle' not in c "
                          "for c in d['contexts'])", (int) getpid (), (unsigned) getuid ());
  tu_assert_json (out, expr);
  tu_assert_json (out, "sorted(c['role'] for c in d['contexts']) == ['client', 'server']");
  tu_assert_json (out, "all(c['state'] == 'established' and c['protocol'] == 'TLS1.3' and "
                       "c['cipher'] and c['age-sec'] >= 0 for c in d['contexts'])");
  tu_assert_json (out, "[(c['credential'], c['target'], c['peer']) for c in d['contexts'] "
                       "if c['role'] == 'client'] == [('', 'localhost', 'CN=localhost')]");
  tu_assert_json (out, "[c['credential'] for c in d['contexts'] if c['role'] == 'server'] "
                       "== ['server']");

  code = sspictl_run (text_args, &text, &err2);
  ck_assert_msg (code == 0, "sspictl contexts exited %d: %s", code, err2);
  tu_assert_contains_all (text, "sspictl contexts", "OWNER", "established",
                          "CN=localhost (target localhost)", NULL);

  code = sspictl_run (status_args, &status, &err3);
  ck_assert_msg (code == 0, "sspictl status --json exited %d: %s", code, err3);
  tu_assert_json (status, "d['contexts'] == 2 and d['credentials'] == 2 and d['clients'] >= 2");
}
END_TEST

/* A client context on a fresh anonymous credential for @protocols after
 * its first ISC (the ClientHello): in the middle of its handshake.  The
 * caller deletes both. */
static void
start_client_handshake (guint32 protocols, ULONG context_req, CredHandle *cred, CtxtHandle *ctx)
{
  SCHANNEL_CRED auth = { .dwVersion = SCHANNEL_CRED_VERSION, .grbitEnabledProtocols = protocols };
  SecBuffer out = { 0, SECBUFFER_TOKEN, NULL };
  SecBufferDesc out_desc = { SECBUFFER_VERSION, 1, &out };
  ULONG attrs = 0;
  TimeStamp expiry;

  ck_assert_int_eq (AcquireCredentialsHandleA (NULL, (char *) UNISP_NAME, SECPKG_CRED_OUTBOUND,
                                               NULL, &auth, NULL, NULL, cred, &expiry),
                    SEC_E_OK);
  ck_assert_int_eq (InitializeSecurityContextA (cred, NULL, (char *) "localhost",
                                                context_req | ISC_REQ_ALLOCATE_MEMORY, 0, 0,
                                                NULL, 0, ctx, &out_desc, &attrs, &expiry),
                    SEC_I_CONTINUE_NEEDED);
  ck_assert_uint_gt (out.cbBuffer, 0);
  FreeContextBuffer (out.pvBuffer);
}

/* ListContexts says which of Schannel's three shapes each context has,
 * from its first step on: a stream (TLS over TCP), a datagram context
 * (DTLS) and a QUIC-mode one, each in the middle of its handshake. */
START_TEST (test_contexts_mode)
{
  const char *json_args[] = { "contexts", "--json", NULL };
  const char *text_args[] = { "contexts", NULL };
  g_autofree char *out = NULL, *err = NULL, *text = NULL, *err2 = NULL;
  CredHandle stream_cred, dtls_cred;
  CtxtHandle stream_ctx, dtls_ctx;
  QuicEnd quic_client, quic_server;
  int code;

  start_client_handshake (SP_PROT_TLS1_3_CLIENT, ISC_REQ_STREAM, &stream_cred, &stream_ctx);
  start_client_handshake (SP_PROT_DTLS1_2_CLIENT, ISC_REQ_DATAGRAM, &dtls_cred, &dtls_ctx);
  ck_assert_int_eq (quic_end_init (&quic_client, FALSE, "client", "client parameters"),
                    SEC_E_OK);
  ck_assert_int_eq (quic_end_init (&quic_server, TRUE, "server", "server parameters"),
                    SEC_E_OK);
  ck_assert_int_eq (quic_end_process (&quic_client, &quic_server), SEC_I_CONTINUE_NEEDED);

  code = sspictl_run (json_args, &out, &err);
  ck_assert_msg (code == 0, "sspictl contexts --json exited %d: %s", code, err);
  tu_assert_json (out, "sorted((c['mode'], c['role'], c['state']) for c in d['contexts']) == "
                       "[('datagram', 'client', 'handshake'), ('quic', 'client', 'handshake'), "
                       "('stream', 'client', 'handshake')]");
  tu_assert_json (out, "[c['credential'] for c in d['contexts'] if c['mode'] == 'quic'] == "
                       "['client']");

  code = sspictl_run (text_args, &text, &err2);
  ck_assert_msg (code == 0, "sspictl contexts exited %d: %s", code, err2);
  tu_assert_contains_all (text, "sspictl contexts", "MODE", "handshake  stream",
                          "handshake  datagram", "handshake  quic", NULL);

  quic_end_clear (&quic_client);
  quic_end_clear (&quic_server);
  DeleteSecurityContext (&dtls_ctx);
  DeleteSecurityContext (&stream_ctx);
  FreeCredentialsHandle (&dtls_cred);
  FreeCredentialsHandle (&stream_cred);
}
END_TEST

/* QUIC mode is a credential's policy: the modes test needs it allowed. */
static void
setup_quic_allowed (void)
{
  tu_fixture_setup_with ("[credential server]\nquic=allow\n[credential client]\nquic=allow\n");
}

START_TEST (test_unreachable)
{
  const char *verbs[] = { "status", "credentials", "contexts" };
  g_autofree char *saved = g_strdup (g_getenv ("SSPID_BUS_ADDRESS"));

  /* No daemon on the bus (and no activation on the test bus). */
  tu_env_kill_daemon (tu_fixture_env, SIGTERM);
  for (gsize i = 0; i < G_N_ELEMENTS (verbs); i++)
    {
      const char *args[] = { verbs[i], "--json", NULL };
      g_autofree char *out = NULL, *err = NULL;
      int code = sspictl_run (args, &out, &err);

      ck_assert_msg (code == 3, "sspictl %s exited %d (expected 3): %s", verbs[i], code, err);
      ck_assert_str_eq (out, "");
      tu_assert_contains (err, "cannot reach sspid", verbs[i]);
    }

  /* No bus at all. */
  g_setenv ("SSPID_BUS_ADDRESS", "unix:path=/nonexistent/sspid-test-bus", TRUE);
  {
    const char *args[] = { "status", NULL };
    g_autofree char *out = NULL, *err = NULL;
    int code = sspictl_run (args, &out, &err);

    ck_assert_msg (code == 3, "sspictl status exited %d (expected 3): %s", code, err);
    tu_assert_contains (err, "cannot connect to the $SSPID_BUS_ADDRESS bus", "sspictl status");
  }
  g_setenv ("SSPID_BUS_ADDRESS", saved, TRUE);
  tu_env_start_daemon (tu_fixture_env);
}
END_TEST

START_TEST (test_connect_serve_json)
{
  guint16 port = tu_free_port ();
  g_autofree char *port_s = g_strdup_printf ("%u", port);
  g_autofree char *address = g_strdup_printf ("127.0.0.1:%u", port);
  const char *serve_argv[] = { SSPICTL_BINARY, "serve", port_s, "--credential", "server",
                               "--alpn", "h2", "--once", "--json", NULL };
  const char *connect_args[] = { "connect", address, "--target", "localhost", "--alpn", "h2",
                                 "--json", NULL };
  g_autofree char *out = NULL, *err = NULL, *serve_out = NULL;
  char *end;
  GPid serve;
  int code, status;

  serve = tu_spawn (tu_fixture_env, "serve", serve_argv, NULL);
  ck_assert_msg (tu_wait_port (port, 10000), "sspictl serve did not listen");
  code = sspictl_run (connect_args, &out, &err);
  ck_assert_msg (code == 0, "sspictl connect --json exited %d: %s\n%s", code, tu_tail (out),
                 tu_tail (err));
  tu_assert_json (out, "d['handshake'] == 'ok' and d['role'] == 'client' and "
                       "d['protocol'] == 'TLS 1.3' and d['alpn'] == 'h2' and "
                       "d['peer-certificate'] == {'subject': 'CN=localhost'} and d['steps'] >= 2");

  ck_assert_int_eq (waitpid (serve, &status, 0), serve);
  serve_out = tu_spawn_output (tu_fixture_env, "serve");
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0, "serve failed:\n%s",
                 tu_tail (serve_out));
  /* stdout is the JSON document; stderr ("listening on ...") comes after it. */
  end = strstr (serve_out, "\n}\n");
  ck_assert_msg (end != NULL, "no JSON document in serve's output:\n%s", tu_tail (serve_out));
  *end = '\0';
  {
    g_autofree char *doc = g_strconcat (serve_out, "\n}\n", NULL);
    tu_assert_json (doc, "d['handshake'] == 'ok' and d['role'] == 'server' and "
                         "d['alpn'] == 'h2' and d['peer-certificate'] is None");
  }
}
END_TEST

START_TEST (test_help)
{
  const char *verbs[] = { "status", "credentials", "contexts", "check-config", "connect",
                          "serve" };
  const char *help_args[] = { "--help", NULL };
  const char *bad_args[] = { "status", "--frobnicate", NULL };
  const char *extra_args[] = { "credentials", "extra", NULL };
  g_autofree char *out = NULL, *err = NULL;

  ck_assert_int_eq (sspictl_run (help_args, &out, &err), 0);
  for (gsize i = 0; i < G_N_ELEMENTS (verbs); i++)
    {
      const char *args[] = { verbs[i], "--help", NULL };
      g_autofree char *vout = NULL, *verr = NULL;

      tu_assert_contains (out, verbs[i], "sspictl --help");
      ck_assert_int_eq (sspictl_run (args, &vout, &verr), 0);
      tu_assert_contains (vout, "--json", verbs[i]);
      tu_assert_contains (vout, "Exit status", verbs[i]);
    }
  tu_assert_contains (out, "4 configuration errors", "sspictl --help");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  ck_assert_int_eq (sspictl_run (bad_args, &out, &err), 1);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  ck_assert_int_eq (sspictl_run (extra_args, &out, &err), 1);
}
END_TEST

/* ---- check-config ------------------------------------------------------ */

/* A credential section of @dir's files. */
static char *
credential (const char *dir, const char *name, const char *cert, const char *key,
            const char *more)
{
  return g_strdup_printf ("[credential %s]\ncertificate=%s/%s\nkey=%s/%s\n%s\n", name, dir,
                          cert, dir, key, more ? more : "users=root\n");
}

typedef struct {
  const char *what;
  const char *credential;   /* the culprit, NULL for a file-level error */
  guint       line;         /* where the message must point */
  const char *text;         /* in the message */
  gboolean    refuses_start;
} Broken;

/* Each config: "[daemon]" (lines 1-2), then one good credential "web"
 * (lines 4-8), then what is broken.  A blank line ends each section. */
static const Broken broken[] = {
  { "syntax",        NULL,    11, "not a [section], a key=value or a # comment", TRUE },
  { "missing-file",  "gone",  11, "No such file or directory", FALSE },
  { "world-readable","open",  12, "has mode 0644: other users can read it", FALSE },
  { "mismatch",      "mixed", 12, "does not match certificate", FALSE },
  { "expired",       "old",   11, "expired on 2002-01-01", FALSE },
  { "unknown-user",  "who",   13, "no such user 'no-such-user-sspid'", TRUE },
  { "unknown-key",   "typo",  14, "unknown key 'usage_'", TRUE },
};

static char *
broken_config (const char *dir, const char *what)
{
  g_autofree char *web = credential (dir, "web", "server.pem", "server.key", NULL);
  g_autofree char *ca = g_build_filename (dir, "ca.pem", NULL);
  g_autofree char *tail = NULL;

  if (g_str_equal (what, "syntax"))
    tail = g_strdup ("[credential x]\nthis line is wrong\n");
  else if (g_str_equal (what, "missing-file"))
    tail = credential (dir, "gone", "nothere.pem", "server.key", NULL);
  else if (g_str_equal (what, "world-readable"))
    {
      g_autofree char *key = g_build_filename (dir, "server.key", NULL);
      g_autofree char *open_key = g_build_filename (dir, "open.key", NULL);
      g_autofree char *data = NULL;

      ck_assert (g_file_get_contents (key, &data, NULL, NULL));
      ck_assert (g_file_set_contents_full (open_key, data, -1, G_FILE_SET_CONTENTS_NONE,
                                           0644, NULL));
      ck_assert_int_eq (chmod (open_key, 0644), 0);
      tail = credential (dir, "open", "server.pem", "open.key", NULL);
    }
  else if (g_str_equal (what, "mismatch"))
    tail = credential (dir, "mixed", "server.pem", "client.key", NULL);
  else if (g_str_equal (what, "expired"))
    tail = credential (dir, "old", "expired.pem", "expired.key", NULL);
  else if (g_str_equal (what, "unknown-user"))
    tail = credential (dir, "who", "server.pem", "server.key", "users=no-such-user-sspid\n");
  else if (g_str_equal (what, "unknown-key"))
    tail = credential (dir, "typo", "server.pem", "server.key", "users=root\nusage_=both\n");
  else
    ck_abort_msg ("unknown case %s", what);
  return g_strdup_printf ("[daemon]\ndefault-trust=%s\n\n%s\n%s", ca, web, tail);
}

static int
check_config (const char *path, gboolean json, char **out)
{
  g_autofree char *user = tu_dup_user_name ();
  const char *args[] = { "check-config", "--daemon-user", user, path, json ? "--json" : NULL,
                         NULL };
  g_autofree char *err = NULL;
  int code = sspictl_run (args, out, &err);

  ck_assert_msg (err[0] == '\0', "check-config wrote to stderr: %s", err);
  return code;
}

START_TEST (test_check_config_good)
{
  g_autofree char *dir = tu_pki_copy_dir ();
  g_autofree char *path = g_build_filename (dir, "sspid.conf", NULL);
  g_autofree char *web = credential (dir, "web", "server.pem", "server.key", NULL);
  g_autofree char *ca = g_build_filename (dir, "ca.pem", NULL);
  g_autofree char *conf = g_strdup_printf ("[daemon]\ndefault-trust=%s\n\n%s", ca, web);
  g_autofree char *out = NULL, *json = NULL, *expr = NULL;

  ck_assert (g_file_set_contents (path, conf, -1, NULL));
  ck_assert_int_eq (check_config (path, FALSE, &out), 0);
  expr = g_strdup_printf ("%s:4: credential 'web': ok (inbound; CN=localhost;", path);
  tu_assert_contains_all (out, "check-config", expr, "0 errors, 0 warnings", NULL);

  ck_assert_int_eq (check_config (path, TRUE, &json), 0);
  tu_assert_json (json, "d['ok'] and d['loadable'] and d['errors'] == 0 and d['warnings'] == 0");
  tu_assert_json (json, "[(c['name'], c['line'], c['subject'], c['errors']) for c in "
                        "d['credentials']] == [('web', 4, 'CN=localhost', 0)]");
  tu_assert_json (json, "d['messages'] == []");
  tu_remove_tree (dir);
}
END_TEST

START_TEST (test_check_config_broken)
{
  const Broken *b = &broken[_i];
  g_autofree char *dir = tu_pki_copy_dir ();
  g_autofree char *path = g_build_filename (dir, "sspid.conf", NULL);
  g_autofree char *conf = broken_config (dir, b->what);
  g_autofree char *out = NULL, *json = NULL, *where = NULL, *expr = NULL;
  int code;

  ck_assert (g_file_set_contents (path, conf, -1, NULL));
  code = check_config (path, FALSE, &out);
  ck_assert_msg (code == 4, "%s: check-config exited %d (expected 4):\n%s", b->what, code, tu_tail (out));
  if (b->credential != NULL)
    where = g_strdup_printf ("%s:%u: error: credential '%s': ", path, b->line, b->credential);
  else
    where = g_strdup_printf ("%s:%u: error: ", path, b->line);
  tu_assert_contains (out, where, b->what);
  tu_assert_contains (out, b->text, b->what);
  if (b->refuses_start)
    tu_assert_contains (out, "sspid would refuse to start", b->what);
  else
    /* The good credential is still reported good. */
    tu_assert_contains (out, "credential 'web': ok", b->what);

  code = check_config (path, TRUE, &json);
  ck_assert_int_eq (code, 4);
  expr = g_strdup_printf ("not d['ok'] and d['loadable'] == %s and d['errors'] == 1 and "
                          "[(m['severity'], m['file'], m['line'], m['credential']) for m in "
                          "d['messages'] if m['severity'] == 'error'] == "
                          "[('error', '%s', %u, %s%s%s)]",
                          b->refuses_start ? "False" : "True", path, b->line,
                          b->credential ? "'" : "", b->credential ? b->credential : "None",
                          b->credential ? "'" : "");
  tu_assert_json (json, expr);
  tu_remove_tree (dir);
}
END_TEST

START_TEST (test_check_config_dropin)
{
  /* An error in a drop-in is reported in the drop-in, at its line; a
   * missing main file given explicitly is an error too. */
  g_autofree char *dir = tu_pki_copy_dir ();
  g_autofree char *path = g_build_filename (dir, "sspid.conf", NULL);
  g_autofree char *dropins = g_build_filename (dir, "sspid.conf.d", NULL);
  g_autofree char *dropin = g_build_filename (dropins, "10-web.conf", NULL);
  g_autofree char *web = credential (dir, "web", "server.pem", "server.key",
                                     "users=root\nclient-auth=sometimes\n");
  g_autofree char *conf = g_strdup_printf ("# web\n\n%s", web);
  g_autofree char *out = NULL, *expr = NULL;

  ck_assert_int_eq (g_mkdir (dropins, 0755), 0);
  ck_assert (g_file_set_contents (dropin, conf, -1, NULL));
  ck_assert_int_eq (check_config (path, FALSE, &out), 4);
  expr = g_strdup_printf ("%s: error: no such file", path);
  tu_assert_contains (out, expr, "check-config");
  g_free (expr);
  expr = g_strdup_printf ("%s:7: error: credential 'web': [credential web] client-auth: "
                          "'sometimes' is not one of the allowed values", dropin);
  tu_assert_contains (out, expr, "check-config");
  tu_remove_tree (dir);
}
END_TEST

START_TEST (test_check_config_which_sspid)
{
  /* check-config runs --sspid's sspid, else $SSPICTL_SSPID's; one that
   * cannot be run is exit 3 with a message, not a silent pass. */
  g_autofree char *dir = tu_pki_copy_dir ();
  g_autofree char *path = g_build_filename (dir, "sspid.conf", NULL);
  g_autofree char *user = tu_dup_user_name ();
  const char *by_option[] = { "check-config", "--daemon-user", user, "--sspid", SSPID_BINARY,
                              path, NULL };
  const char *by_env[] = { "check-config", "--daemon-user", user, path, NULL };
  const char *missing[] = { "check-config", "--sspid", "/nonexistent/sspid", path, NULL };
  g_autofree char *out = NULL, *err = NULL;

  ck_assert (g_file_set_contents (path, "[daemon]\nmax-contexts-per-user=8\n", -1, NULL));
  g_setenv ("SSPICTL_SSPID", "/nonexistent/sspid", TRUE);
  ck_assert_int_eq (sspictl_run (by_option, &out, &err), 0);
  tu_assert_contains (out, "0 errors, 0 warnings", "check-config --sspid");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  ck_assert_int_eq (sspictl_run (by_env, &out, &err), 3);
  tu_assert_contains (err, "cannot run /nonexistent/sspid", "check-config, $SSPICTL_SSPID");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_setenv ("SSPICTL_SSPID", SSPID_BINARY, TRUE);
  ck_assert_int_eq (sspictl_run (by_env, &out, &err), 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  ck_assert_int_eq (sspictl_run (missing, &out, &err), 3);
  tu_assert_contains (err, "cannot run /nonexistent/sspid", "check-config --sspid");
  tu_remove_tree (dir);
}
END_TEST

int
main (void)
{
  const TuCase cases[] = {
    { "json", NULL, NULL, 60, { { test_json_escaping } } },
    { "daemon", tu_fixture_setup, tu_fixture_teardown, 120, { { test_status }, { test_credentials },
                                                              { test_contexts },
                                                              { test_unreachable },
                                                              { test_connect_serve_json },
                                                              { test_help } } },
    { "modes", setup_quic_allowed, tu_fixture_teardown, 60, { { test_contexts_mode } } },
    { "check-config", NULL, NULL, 60, { { test_check_config_good },
                                        { test_check_config_broken, G_N_ELEMENTS (broken) },
                                        { test_check_config_dropin },
                                        { test_check_config_which_sspid } } },
  };

  return tu_run_cases ("sspictl", cases, G_N_ELEMENTS (cases));
}
