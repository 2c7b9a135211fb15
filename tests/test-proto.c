/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The wire contract of proto/ without a bus: the org.sspid1.Error domain
 * maps every code to its name and back, as the daemon sends them and
 * libsspi reads them.
 */
#include "config.h"

#include <check.h>
#include <gio/gio.h>

#include "sspid-error.h"
#include "sspid-proto.h"
#include "testutil.h"

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
  TCase *tc = tcase_create ("errors");

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
