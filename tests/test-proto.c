/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The wire contract of proto/ without a bus: the method table says what
 * proto/org.sspid1.xml says (checked against the interface info that
 * gdbus-codegen generates from it), and the org.sspid1.Error domain maps
 * every code to its name and back, as the daemon sends them and libsspi
 * reads them.
 */
#include "config.h"

#include <check.h>
#include <gio/gio.h>

#include "sspid-dbus-generated.h"
#include "sspid-error.h"
#include "sspid-method.h"
#include "sspid-proto.h"
#include "testutil.h"

/* The tuple type of @args (in or out), as GDBus checks a body. */
static char *
args_type (GDBusArgInfo **args)
{
  GString *type = g_string_new ("(");

  for (gsize i = 0; args != NULL && args[i] != NULL; i++)
    g_string_append (type, args[i]->signature);
  g_string_append_c (type, ')');
  return g_string_free (type, FALSE);
}

/* Every method of the table is in the XML, with exactly its types; an
 * asynchronous one starts with the call id. */
START_TEST (test_methods_are_in_xml)
{
  GDBusInterfaceInfo *iface = sspid_dbus_sspi_interface_info ();

  for (int kind = 0; kind < SSPID_CALL_N_KINDS; kind++)
    {
      const SspidMethod *m = sspid_method_get (kind);
      GDBusMethodInfo *info = g_dbus_interface_info_lookup_method (iface, m->name);
      g_autofree char *in = NULL, *out = NULL;
      gboolean starts_with_call_id;

      ck_assert_int_eq (m->kind, kind);
      ck_assert_msg (info != NULL, "%s is not in org.sspid1.xml", m->name);
      ck_assert_ptr_eq (sspid_method_lookup (m->name), m);
      in = args_type (info->in_args);
      out = args_type (info->out_args);
      ck_assert_str_eq (m->in_type, in);
      ck_assert_str_eq (m->out_type, out);
      starts_with_call_id = info->in_args != NULL && info->in_args[0] != NULL
                            && g_str_equal (info->in_args[0]->name, "call_id")
                            && g_str_equal (info->in_args[0]->signature, "t");
      ck_assert_msg (m->is_async == starts_with_call_id, "%s: is_async is %d", m->name,
                     m->is_async);
    }
}
END_TEST

/* Every method of the XML is in the table. */
START_TEST (test_xml_methods_are_in_table)
{
  GDBusInterfaceInfo *iface = sspid_dbus_sspi_interface_info ();
  guint n = 0;

  for (; iface->methods[n] != NULL; n++)
    ck_assert_msg (sspid_method_lookup (iface->methods[n]->name) != NULL,
                   "%s is not in proto/sspid-method.c", iface->methods[n]->name);
  ck_assert_uint_eq (n, SSPID_CALL_N_KINDS);
  ck_assert_ptr_null (sspid_method_lookup ("NoSuchMethod"));
}
END_TEST

static const struct {
  SspidError  code;
  const char *name;
} error_names[] = {
  { SSPID_ERROR_INVALID_ARGS, "org.sspid1.Error.InvalidArgs" },
  { SSPID_ERROR_ACCESS_DENIED, "org.sspid1.Error.AccessDenied" },
  { SSPID_ERROR_LIMIT_EXCEEDED, "org.sspid1.Error.LimitExceeded" },
  { SSPID_ERROR_INTERNAL, "org.sspid1.Error.Internal" },
};

/* What the daemon puts on the wire for each code. */
START_TEST (test_error_encodes_to_name)
{
  ck_assert_uint_eq (G_N_ELEMENTS (error_names), SSPID_ERROR_N_ERRORS);
  for (gsize i = 0; i < G_N_ELEMENTS (error_names); i++)
    {
      g_autoptr(GError) error = g_error_new_literal (SSPID_ERROR, error_names[i].code, "x");
      g_autofree char *name = g_dbus_error_encode_gerror (error);

      ck_assert_str_eq (name, error_names[i].name);
    }
}
END_TEST

/* What libsspi makes of each name in a reply: the code, and the name is
 * still there for a caller that prints it. */
START_TEST (test_error_decodes_to_code)
{
  (void) SSPID_ERROR;
  for (gsize i = 0; i < G_N_ELEMENTS (error_names); i++)
    {
      g_autoptr(GError) error = g_dbus_error_new_for_dbus_error (error_names[i].name, "text");
      g_autofree char *remote = g_dbus_error_get_remote_error (error);

      ck_assert (g_error_matches (error, SSPID_ERROR, error_names[i].code));
      ck_assert (g_dbus_error_is_remote_error (error));
      ck_assert_str_eq (remote, error_names[i].name);
      ck_assert (g_dbus_error_strip_remote_error (error));
      ck_assert_str_eq (error->message, "text");
    }
}
END_TEST

static Suite *
proto_suite (void)
{
  Suite *s = suite_create ("proto");
  TCase *tc = tcase_create ("methods");

  tcase_add_test (tc, test_methods_are_in_xml);
  tcase_add_test (tc, test_xml_methods_are_in_table);
  suite_add_tcase (s, tc);

  tc = tcase_create ("errors");
  tcase_add_test (tc, test_error_encodes_to_name);
  tcase_add_test (tc, test_error_decodes_to_code);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return tu_run_suite (proto_suite ());
}
