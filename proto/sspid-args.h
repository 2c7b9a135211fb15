/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The arguments of each request shape of org.sspid1.Sspi as a C struct,
 * with the one encoder libsspi (and the bench, fuzzers and tests) sends it
 * with and the one decoder the daemon reads it with.  The shapes are the
 * in-types of proto/sspid-method.c's table; checking the values (limits,
 * handles, packages) is the daemon's (daemon/sspid-request.c).
 *
 * Encoders return a floating GVariant.  Decoders take parameters already
 * of the method's in-type (GDBus checked them against the XML, or the
 * record channel's parser did) and never fail; what they fill borrows
 * strings from the parameters, which must outlive it, and owns the rest
 * (free it with the matching _clear()).
 */
#pragma once

#include <glib.h>

#include "sspid-method.h"
#include "sspid-quic.h"

G_BEGIN_DECLS

/* The keys of AcquireCredentialsHandle's auth_data, each a "u" (absent:
 * 0, the default): the SCHANNEL_CRED/SCH_CREDENTIALS the caller passed. */
#define SSPID_AUTH_DATA_ENABLED_PROTOCOLS "enabled-protocols"
#define SSPID_AUTH_DATA_FLAGS             "flags"

/* The keys of ISC's and ASC's options, each a "u" (absent: not given). */
#define SSPID_STEP_OPTION_DTLS_MTU        "dtls-mtu"

/* AcquireCredentialsHandle. */
typedef struct {
  guint64     call_id;
  const char *principal;
  const char *package;
  guint32     use;
  GVariant   *auth_data;     /* a{sv}; encode: NULL for none */
} SspidAcquireArgs;

/* InitializeSecurityContext and AcceptSecurityContext. */
typedef struct {
  guint64      call_id;
  guint64      credential;   /* 0 once the context exists */
  guint64      context;      /* 0 on a first step */
  const char  *target_name;  /* InitializeSecurityContext only ("" for none) */
  guint32      context_req;
  GVariant    *input;        /* "ay"; encode: a floating one is consumed */
  const char **alpn;         /* NULL-terminated; encode: NULL for none;
                              * decode: owned, strings too (g_strfreev) */
  GVariant    *options;      /* a{sv}: DTLS's and QUIC mode's (sspid-quic.h)
                              * keys; encode: NULL for none, a floating one
                              * is consumed */
} SspidStepArgs;

/* DeleteSecurityContext (a context) and FreeCredentialsHandle (a credential). */
typedef struct {
  guint64 call_id;           /* 0: nobody waits for the answer */
  guint64 handle;
} SspidReleaseArgs;

/* EncryptMessage and DecryptMessage, on the bus and the record channel. */
typedef struct {
  guint64   context;
  GVariant *data;            /* "ay"; encode: a floating one is consumed */
} SspidRecordArgs;

/* ApplyControlToken. */
typedef struct {
  guint64 context;
  guint32 token_type;        /* SCHANNEL_SHUTDOWN or SCHANNEL_ALERT */
  guint32 alert_type;        /* SCHANNEL_ALERT: TLS1_ALERT_WARNING or _FATAL */
  guint32 alert_number;      /* SCHANNEL_ALERT: the TLS alert */
} SspidControlArgs;

/* An auth_data dictionary (floating): empty if !@is_set. */
GVariant *sspid_auth_data_new (gboolean is_set, guint32 enabled_protocols, guint32 flags);

GVariant *sspid_acquire_args_encode (const SspidAcquireArgs *args);
void sspid_acquire_args_decode (GVariant *params, SspidAcquireArgs *args);
/* The number of auth_data entries in AcquireCredentialsHandle's @params,
 * without reading them (see sspid_step_args_count_alpn). */
gsize sspid_acquire_args_count_auth_data (GVariant *params);
void sspid_acquire_args_clear (SspidAcquireArgs *args);

/* A step's options dictionary (floating): "dtls-mtu" if @dtls_mtu is not 0,
 * and QUIC mode's keys from @quic (may be NULL). */
GVariant *sspid_step_options_new (guint32 dtls_mtu, const SspidQuicArgs *quic);

/* @kind: SSPID_CALL_INITIALIZE or SSPID_CALL_ACCEPT. */
GVariant *sspid_step_args_encode (SspidCallKind kind, const SspidStepArgs *args);
void sspid_step_args_decode (SspidCallKind kind, GVariant *params, SspidStepArgs *args);
/* The number of ALPN names, of options, in a step's @params, without
 * reading them: a decoder checks its limits with these first, since
 * decoding serialises the whole tuple (a 200,000-entry dictionary: 0.36 s). */
gsize sspid_step_args_count_alpn (SspidCallKind kind, GVariant *params);
gsize sspid_step_args_count_options (SspidCallKind kind, GVariant *params);
void sspid_step_args_clear (SspidStepArgs *args);

GVariant *sspid_release_args_encode (const SspidReleaseArgs *args);
void sspid_release_args_decode (GVariant *params, SspidReleaseArgs *args);

/* QueryContext's one argument. */
GVariant *sspid_context_args_encode (guint64 context);
guint64 sspid_context_args_decode (GVariant *params);

GVariant *sspid_record_args_encode (const SspidRecordArgs *args);
void sspid_record_args_decode (GVariant *params, SspidRecordArgs *args);
void sspid_record_args_clear (SspidRecordArgs *args);

GVariant *sspid_control_args_encode (const SspidControlArgs *args);
void sspid_control_args_decode (GVariant *params, SspidControlArgs *args);

G_END_DECLS
