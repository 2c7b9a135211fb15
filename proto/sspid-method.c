/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The method table of org.sspid1.Sspi (see sspid-method.h).  The types are
 * the XML's arguments in order, as GDBus checks a body against them.
 */
#include "config.h"

#include "sspid-channel.h"
#include "sspid-method.h"
#include "sspid-proto.h"

/* The answer of every asynchronous method. */
#define STEP SSPID_STEP_RESULT_TYPE

static const SspidMethod methods[] = {
  { "Hello", SSPID_CALL_HELLO, "()", "(st)", FALSE },
  { "AcquireCredentialsHandle", SSPID_CALL_ACQUIRE, "(tssua{sv})", STEP, TRUE },
  { "InitializeSecurityContext", SSPID_CALL_INITIALIZE, "(tttsuayasa{sv})", STEP, TRUE },
  { "AcceptSecurityContext", SSPID_CALL_ACCEPT, "(tttuayasa{sv})", STEP, TRUE },
  { "DeleteSecurityContext", SSPID_CALL_DELETE, "(tt)", STEP, TRUE },
  { "FreeCredentialsHandle", SSPID_CALL_FREE, "(tt)", STEP, TRUE },
  { "QueryContext", SSPID_CALL_QUERY, "(t)", "(ua{sv})", FALSE },
  /* The record channel carries the same bodies. */
  { "EncryptMessage", SSPID_CALL_ENCRYPT, SSPID_CHANNEL_REQUEST_ENCRYPT_TYPE,
    SSPID_CHANNEL_ANSWER_ENCRYPT_TYPE, FALSE },
  { "DecryptMessage", SSPID_CALL_DECRYPT, SSPID_CHANNEL_REQUEST_DECRYPT_TYPE,
    SSPID_CHANNEL_ANSWER_DECRYPT_TYPE, FALSE },
  { "ApplyControlToken", SSPID_CALL_APPLY_CONTROL, "(tuuu)", "(u)", FALSE },
  { "GetStatus", SSPID_CALL_GET_STATUS, "()", "(a{sv})", FALSE },
  { "ListCredentials", SSPID_CALL_LIST_CREDENTIALS, "()", "(aa{sv})", FALSE },
  { "ListContexts", SSPID_CALL_LIST_CONTEXTS, "()", "(aa{sv})", FALSE },
  { "QueryCredential", SSPID_CALL_QUERY_CREDENTIAL, "(t)", "(ua{sv})", FALSE },
  { SSPID_METHOD_OPEN_RECORD_CHANNEL, SSPID_CALL_OPEN_CHANNEL, "()", "(h)", FALSE },
};

/* sspid_method_get() indexes the table by kind. */
G_STATIC_ASSERT (G_N_ELEMENTS (methods) == SSPID_CALL_N_KINDS);

const SspidMethod *
sspid_method_lookup (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++)
    if (g_str_equal (methods[i].name, name))
      return &methods[i];
  return NULL;
}

const SspidMethod *
sspid_method_get (SspidCallKind kind)
{
  g_return_val_if_fail ((gsize) kind < G_N_ELEMENTS (methods), NULL);
  return &methods[kind];
}
