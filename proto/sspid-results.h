/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The answers of org.sspid1.Sspi as C structs, each with the one encoder
 * the daemon answers with and the one decoder libsspi (and the bench)
 * reads it with: the step result of every asynchronous method (as a reply
 * or as the Completed signal), QueryContext's, and the two record answers
 * (on the bus and the record channel alike).  The shapes are the
 * out-types of proto/sspid-method.c's table.
 *
 * Encoders return a floating GVariant; a NULL GVariant field encodes as
 * empty.  Decoders take a value already of the shape and own what they
 * fill (free it with the matching _clear()).
 */
#pragma once

#include <glib.h>

#include "sspi.h"

G_BEGIN_DECLS

/* SSPID_STEP_RESULT_TYPE. */
typedef struct {
  SECURITY_STATUS status;
  guint64         handle;      /* credential or context created or continued, 0 if none */
  GVariant       *token;       /* "ay" for the peer; decode: never NULL */
  guint32         attributes;  /* ISC_RET_* / ASC_RET_* */
  gint64          expiry;      /* Unix seconds, 0 if none */
  guint32         extra;       /* input bytes not consumed (SECBUFFER_EXTRA) */
  guint32         missing;     /* SEC_E_INCOMPLETE_MESSAGE: bytes still needed */
  GVariant       *extras;      /* a{sv}: QUIC mode's (sspid-quic.h); encode: NULL
                                * for none; decode: never NULL */
} SspidStepResult;

/* EncryptMessage's answer. */
typedef struct {
  SECURITY_STATUS status;
  GVariant       *record;      /* "ay" */
  guint32         header_size;
} SspidEncryptResult;

/* DecryptMessage's answer. */
typedef struct {
  SECURITY_STATUS status;
  GVariant       *plaintext;   /* "ay" */
  guint32         header_size;
  guint32         record_size;
  guint32         extra;
  guint32         missing;
} SspidDecryptResult;

GVariant *sspid_step_result_encode (const SspidStepResult *result);
/* The Completed signal's body: @call_id, then the step result. */
GVariant *sspid_completed_encode (guint64 call_id, const SspidStepResult *result);
/* Reads the step result that starts at child @first of @tuple (0 for a
 * reply, 1 for a Completed signal). */
void sspid_step_result_decode (GVariant *tuple, gsize first, SspidStepResult *result);
void sspid_step_result_clear (SspidStepResult *result);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SspidStepResult, sspid_step_result_clear)

/* QueryContext's answer; @info NULL: an empty dictionary. */
GVariant *sspid_query_result_encode (SECURITY_STATUS status, GVariant *info);
/* Returns the status; *@info: the dictionary, owned. */
SECURITY_STATUS sspid_query_result_decode (GVariant *reply, GVariant **info);

GVariant *sspid_encrypt_result_encode (const SspidEncryptResult *result);
void sspid_encrypt_result_decode (GVariant *reply, SspidEncryptResult *result);
void sspid_encrypt_result_clear (SspidEncryptResult *result);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SspidEncryptResult, sspid_encrypt_result_clear)

GVariant *sspid_decrypt_result_encode (const SspidDecryptResult *result);
void sspid_decrypt_result_decode (GVariant *reply, SspidDecryptResult *result);
void sspid_decrypt_result_clear (SspidDecryptResult *result);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SspidDecryptResult, sspid_decrypt_result_clear)

G_END_DECLS
