/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The wire contract of proto/ without a bus: the method table says what
 * proto/org.sspid1.xml says (checked against the interface info that
 * gdbus-codegen generates from it), each request shape's encoder writes
 * that method's in-type and its decoder reads back what was encoded (so
 * does each answer's, with the out-type), and
 * the org.sspid1.Error domain maps
 * every code to its name and back, as the daemon sends them and libsspi
 * reads them.
 */
#include "config.h"

#include <check.h>
#include <gio/gio.h>
#include <string.h>

#include "sspid-args.h"
#include "sspid-dbus-generated.h"
#include "sspid-error.h"
#include "sspid-method.h"
#include "sspid-proto.h"
#include "sspid-results.h"
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

/* Sinks @value and checks it is of @type. */
static GVariant *
sunk_of_type (const char *type, GVariant *value)
{
  g_variant_ref_sink (value);
  ck_assert_str_eq (g_variant_get_type_string (value), type);
  return value;
}

/* @params, checked to be of @kind's in-type. */
#define encoded_as(kind, params) sunk_of_type (sspid_method_get (kind)->in_type, (params))
/* @reply, checked to be of @kind's out-type. */
#define answered_as(kind, reply) sunk_of_type (sspid_method_get (kind)->out_type, (reply))

static GVariant *
bytes (const char *text)
{
  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, text, strlen (text), 1);
}

START_TEST (test_acquire_args_round_trip)
{
  SspidAcquireArgs in = { 7, "web", "Schannel", 2, sspid_auth_data_new (TRUE, 0x800, 0x40) };
  g_autoptr(GVariant) params = encoded_as (SSPID_CALL_ACQUIRE, sspid_acquire_args_encode (&in));
  g_autoptr(GVariant) none = encoded_as (SSPID_CALL_ACQUIRE, sspid_acquire_args_encode (
    &(SspidAcquireArgs) { 1, "", "Schannel", 1, NULL }));
  SspidAcquireArgs out;
  guint32 protocols = 0, flags = 0;

  sspid_acquire_args_decode (params, &out);
  ck_assert_uint_eq (out.call_id, 7);
  ck_assert_str_eq (out.principal, "web");
  ck_assert_str_eq (out.package, "Schannel");
  ck_assert_uint_eq (out.use, 2);
  ck_assert (g_variant_lookup (out.auth_data, SSPID_AUTH_DATA_ENABLED_PROTOCOLS, "u", &protocols));
  ck_assert (g_variant_lookup (out.auth_data, SSPID_AUTH_DATA_FLAGS, "u", &flags));
  ck_assert_uint_eq (protocols, 0x800);
  ck_assert_uint_eq (flags, 0x40);
  sspid_acquire_args_clear (&out);

  /* No SCHANNEL_CRED: an empty dictionary. */
  sspid_acquire_args_decode (none, &out);
  ck_assert_uint_eq (g_variant_n_children (out.auth_data), 0);
  sspid_acquire_args_clear (&out);
}
END_TEST

START_TEST (test_step_args_round_trip)
{
  static const char *alpn[] = { "h2", "http/1.1", NULL };
  g_autoptr(GVariant) isc = encoded_as (SSPID_CALL_INITIALIZE, sspid_step_args_encode (
    SSPID_CALL_INITIALIZE, &(SspidStepArgs) { 3, 11, 0, "example.org", 0x4000, bytes ("hi"), alpn }));
  g_autoptr(GVariant) asc = encoded_as (SSPID_CALL_ACCEPT, sspid_step_args_encode (
    SSPID_CALL_ACCEPT, &(SspidStepArgs) { 4, 0, 12, NULL, 0x10, bytes (""), NULL }));
  SspidStepArgs out;

  sspid_step_args_decode (SSPID_CALL_INITIALIZE, isc, &out);
  ck_assert_uint_eq (out.call_id, 3);
  ck_assert_uint_eq (out.credential, 11);
  ck_assert_uint_eq (out.context, 0);
  ck_assert_str_eq (out.target_name, "example.org");
  ck_assert_uint_eq (out.context_req, 0x4000);
  ck_assert_uint_eq (g_variant_get_size (out.input), 2);
  ck_assert_str_eq (out.alpn[0], "h2");
  ck_assert_str_eq (out.alpn[1], "http/1.1");
  ck_assert_ptr_null (out.alpn[2]);
  sspid_step_args_clear (&out);

  sspid_step_args_decode (SSPID_CALL_ACCEPT, asc, &out);
  ck_assert_uint_eq (out.call_id, 4);
  ck_assert_uint_eq (out.credential, 0);
  ck_assert_uint_eq (out.context, 12);
  ck_assert_ptr_null (out.target_name);
  ck_assert_uint_eq (out.context_req, 0x10);
  ck_assert_uint_eq (g_variant_get_size (out.input), 0);
  ck_assert_ptr_null (out.alpn[0]);
  sspid_step_args_clear (&out);
}
END_TEST

START_TEST (test_other_args_round_trip)
{
  g_autoptr(GVariant) del = encoded_as (SSPID_CALL_DELETE, sspid_release_args_encode (
    &(SspidReleaseArgs) { 0, 99 }));
  g_autoptr(GVariant) query = encoded_as (SSPID_CALL_QUERY, sspid_context_args_encode (98));
  g_autoptr(GVariant) record = encoded_as (SSPID_CALL_DECRYPT, sspid_record_args_encode (
    &(SspidRecordArgs) { 97, bytes ("abc") }));
  g_autoptr(GVariant) control = encoded_as (SSPID_CALL_APPLY_CONTROL, sspid_control_args_encode (
    &(SspidControlArgs) { 96, 2, 1, 40 }));
  SspidReleaseArgs r;
  SspidRecordArgs d;
  SspidControlArgs c;

  ck_assert_str_eq (sspid_method_get (SSPID_CALL_FREE)->in_type, g_variant_get_type_string (del));
  ck_assert_str_eq (sspid_method_get (SSPID_CALL_ENCRYPT)->in_type,
                    g_variant_get_type_string (record));
  sspid_release_args_decode (del, &r);
  ck_assert_uint_eq (r.call_id, 0);
  ck_assert_uint_eq (r.handle, 99);
  ck_assert_uint_eq (sspid_context_args_decode (query), 98);
  sspid_record_args_decode (record, &d);
  ck_assert_uint_eq (d.context, 97);
  ck_assert_uint_eq (g_variant_get_size (d.data), 3);
  sspid_record_args_clear (&d);
  sspid_control_args_decode (control, &c);
  ck_assert_uint_eq (c.context, 96);
  ck_assert_uint_eq (c.token_type, 2);
  ck_assert_uint_eq (c.alert_type, 1);
  ck_assert_uint_eq (c.alert_number, 40);
}
END_TEST

START_TEST (test_step_result_round_trip)
{
  SspidStepResult in = { SEC_I_CONTINUE_NEEDED, 42, bytes ("tok"), 0x1c, 1700000000, 5, 0 };
  g_autoptr(GVariant) reply = answered_as (SSPID_CALL_ACCEPT, sspid_step_result_encode (&in));
  g_autoptr(GVariant) signal = g_variant_ref_sink (sspid_completed_encode (9, &in));
  g_autoptr(GVariant) empty = answered_as (SSPID_CALL_DELETE, sspid_step_result_encode (
    &(SspidStepResult) { SEC_E_INVALID_HANDLE }));

  ck_assert_str_eq (g_variant_get_type_string (signal), SSPID_COMPLETED_TYPE);
  for (gsize first = 0; first < 2; first++)
    {
      g_auto(SspidStepResult) out = { 0 };
      guint64 call_id = 0;

      sspid_step_result_decode (first == 0 ? reply : signal, first, &out);
      ck_assert_int_eq (out.status, SEC_I_CONTINUE_NEEDED);
      ck_assert_uint_eq (out.handle, 42);
      ck_assert_uint_eq (g_variant_get_size (out.token), 3);
      ck_assert_uint_eq (out.attributes, 0x1c);
      ck_assert_int_eq (out.expiry, 1700000000);
      ck_assert_uint_eq (out.extra, 5);
      ck_assert_uint_eq (out.missing, 0);
      if (first == 1)
        {
          g_variant_get_child (signal, 0, "t", &call_id);
          ck_assert_uint_eq (call_id, 9);
        }
    }
  {
    g_auto(SspidStepResult) out = { 0 };

    sspid_step_result_decode (empty, 0, &out);
    ck_assert_int_eq (out.status, SEC_E_INVALID_HANDLE);
    ck_assert_uint_eq (g_variant_get_size (out.token), 0);
  }
}
END_TEST

START_TEST (test_record_results_round_trip)
{
  g_autoptr(GVariant) sealed = answered_as (SSPID_CALL_ENCRYPT, sspid_encrypt_result_encode (
    &(SspidEncryptResult) { SEC_E_OK, bytes ("record"), 5 }));
  g_autoptr(GVariant) opened = answered_as (SSPID_CALL_DECRYPT, sspid_decrypt_result_encode (
    &(SspidDecryptResult) { SEC_E_INCOMPLETE_MESSAGE, NULL, 5, 0, 0, 17 }));
  g_autoptr(GVariant) queried = answered_as (SSPID_CALL_QUERY,
                                             sspid_query_result_encode (SEC_E_INVALID_HANDLE, NULL));
  g_auto(SspidEncryptResult) e = { 0 };
  g_auto(SspidDecryptResult) d = { 0 };
  g_autoptr(GVariant) info = NULL;

  sspid_encrypt_result_decode (sealed, &e);
  ck_assert_int_eq (e.status, SEC_E_OK);
  ck_assert_uint_eq (g_variant_get_size (e.record), 6);
  ck_assert_uint_eq (e.header_size, 5);
  sspid_decrypt_result_decode (opened, &d);
  ck_assert_int_eq (d.status, SEC_E_INCOMPLETE_MESSAGE);
  ck_assert_uint_eq (g_variant_get_size (d.plaintext), 0);
  ck_assert_uint_eq (d.header_size, 5);
  ck_assert_uint_eq (d.missing, 17);
  ck_assert_int_eq (sspid_query_result_decode (queried, &info), SEC_E_INVALID_HANDLE);
  ck_assert_uint_eq (g_variant_n_children (info), 0);
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

int
main (void)
{
  const TuCase cases[] = {
    { "methods", NULL, NULL, 0, { { test_methods_are_in_xml },
                                  { test_xml_methods_are_in_table } } },
    { "args and results", NULL, NULL, 0, { { test_acquire_args_round_trip },
                                           { test_step_args_round_trip },
                                           { test_other_args_round_trip },
                                           { test_step_result_round_trip },
                                           { test_record_results_round_trip } } },
    { "errors", NULL, NULL, 0, { { test_error_encodes_to_name }, { test_error_decodes_to_code } } },
  };

  return tu_run_cases ("proto", cases, G_N_ELEMENTS (cases));
}
