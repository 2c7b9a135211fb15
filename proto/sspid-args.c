/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Encoding and decoding the arguments of each request shape (see
 * sspid-args.h).  The format strings here are the in-types of
 * sspid-method.c's table, which tests/test-proto holds to the XML.
 */
#include "config.h"

#include "sspid-args.h"

GVariant *
sspid_auth_data_new (gboolean is_set, guint32 enabled_protocols, guint32 flags)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);

  if (is_set)
    {
      g_variant_dict_insert (&dict, SSPID_AUTH_DATA_ENABLED_PROTOCOLS, "u", enabled_protocols);
      g_variant_dict_insert (&dict, SSPID_AUTH_DATA_FLAGS, "u", flags);
    }
  return g_variant_dict_end (&dict);
}

GVariant *
sspid_acquire_args_encode (const SspidAcquireArgs *args)
{
  GVariant *auth_data = args->auth_data != NULL ? args->auth_data
                                                : sspid_auth_data_new (FALSE, 0, 0);

  return g_variant_new ("(tssu@a{sv})", args->call_id, args->principal, args->package,
                        args->use, auth_data);
}

void
sspid_acquire_args_decode (GVariant *params, SspidAcquireArgs *args)
{
  g_variant_get (params, "(t&s&su@a{sv})", &args->call_id, &args->principal,
                 &args->package, &args->use, &args->auth_data);
}

gsize
sspid_acquire_args_count_auth_data (GVariant *params)
{
  g_autoptr(GVariant) auth_data = g_variant_get_child_value (params, 4);

  return g_variant_n_children (auth_data);
}

void
sspid_acquire_args_clear (SspidAcquireArgs *args)
{
  g_clear_pointer (&args->auth_data, g_variant_unref);
}

GVariant *
sspid_step_args_encode (SspidCallKind kind, const SspidStepArgs *args)
{
  static const char *const no_alpn[] = { NULL };
  const char *const *alpn = args->alpn != NULL ? args->alpn : no_alpn;
  GVariant *options = args->options != NULL ? args->options : sspid_step_options_new (0, NULL);

  if (kind == SSPID_CALL_INITIALIZE)
    return g_variant_new ("(tttsu@ay^as@a{sv})", args->call_id, args->credential, args->context,
                          args->target_name, args->context_req, args->input, alpn, options);
  g_return_val_if_fail (kind == SSPID_CALL_ACCEPT, NULL);
  return g_variant_new ("(tttu@ay^as@a{sv})", args->call_id, args->credential, args->context,
                        args->context_req, args->input, alpn, options);
}

/* The ALPN list "as" is the 7th member of ISC's tuple, the 6th of ASC's;
 * the options a{sv} follow it. */
static GVariant *
get_alpn_child (SspidCallKind kind, GVariant *params)
{
  return g_variant_get_child_value (params, kind == SSPID_CALL_INITIALIZE ? 6 : 5);
}

gsize
sspid_step_args_count_alpn (SspidCallKind kind, GVariant *params)
{
  g_autoptr(GVariant) alpn = get_alpn_child (kind, params);

  return g_variant_n_children (alpn);
}

gsize
sspid_step_args_count_options (SspidCallKind kind, GVariant *params)
{
  g_autoptr(GVariant) options = g_variant_get_child_value (params,
                                                           kind == SSPID_CALL_INITIALIZE ? 7 : 6);

  return g_variant_n_children (options);
}

void
sspid_step_args_decode (SspidCallKind kind, GVariant *params, SspidStepArgs *args)
{
  g_autoptr(GVariant) alpn = get_alpn_child (kind, params);
  g_autoptr(GVariant) alpn_again = NULL;

  /* The names first, while the tuple is as GDBus built it: a format with
   * '&' serialises the whole tuple, and GLib 2.74 then reads the n-th
   * name of an array inside it in time linear in n (100,000 names took
   * 4.4 s here, 9 s on a loaded machine, all on the daemon's main
   * thread; read first, 74 ms).  Copied, since serialising the tuple
   * frees the strings GDBus made. */
  args->alpn = (const char **) g_variant_dup_strv (alpn, NULL);
  args->target_name = NULL;
  if (kind == SSPID_CALL_INITIALIZE)
    g_variant_get (params, "(ttt&su@ay@as@a{sv})", &args->call_id, &args->credential,
                   &args->context, &args->target_name, &args->context_req, &args->input,
                   &alpn_again, &args->options);
  else
    g_variant_get (params, "(tttu@ay@as@a{sv})", &args->call_id, &args->credential,
                   &args->context, &args->context_req, &args->input, &alpn_again,
                   &args->options);
}

void
sspid_step_args_clear (SspidStepArgs *args)
{
  g_clear_pointer (&args->input, g_variant_unref);
  g_clear_pointer ((char ***) &args->alpn, g_strfreev);
  g_clear_pointer (&args->options, g_variant_unref);
}

GVariant *
sspid_step_options_new (guint32 dtls_mtu, const SspidQuicArgs *quic)
{
  g_autoptr(GVariant) quic_options = g_variant_ref_sink (sspid_quic_args_encode (quic));
  GVariantDict dict;

  g_variant_dict_init (&dict, quic_options);
  if (dtls_mtu != 0)
    g_variant_dict_insert (&dict, SSPID_STEP_OPTION_DTLS_MTU, "u", dtls_mtu);
  return g_variant_dict_end (&dict);
}

GVariant *
sspid_release_args_encode (const SspidReleaseArgs *args)
{
  return g_variant_new ("(tt)", args->call_id, args->handle);
}

void
sspid_release_args_decode (GVariant *params, SspidReleaseArgs *args)
{
  g_variant_get (params, "(tt)", &args->call_id, &args->handle);
}

GVariant *
sspid_context_args_encode (guint64 context)
{
  return g_variant_new ("(t)", context);
}

guint64
sspid_context_args_decode (GVariant *params)
{
  guint64 context;

  g_variant_get (params, "(t)", &context);
  return context;
}

GVariant *
sspid_record_args_encode (const SspidRecordArgs *args)
{
  return g_variant_new ("(t@ay)", args->context, args->data);
}

void
sspid_record_args_decode (GVariant *params, SspidRecordArgs *args)
{
  g_variant_get (params, "(t@ay)", &args->context, &args->data);
}

void
sspid_record_args_clear (SspidRecordArgs *args)
{
  g_clear_pointer (&args->data, g_variant_unref);
}

GVariant *
sspid_control_args_encode (const SspidControlArgs *args)
{
  return g_variant_new ("(tuuu)", args->context, args->token_type, args->alert_type,
                        args->alert_number);
}

void
sspid_control_args_decode (GVariant *params, SspidControlArgs *args)
{
  g_variant_get (params, "(tuuu)", &args->context, &args->token_type, &args->alert_type,
                 &args->alert_number);
}
