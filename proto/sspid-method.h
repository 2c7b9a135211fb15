/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The methods of org.sspid1.Sspi in one table: name, argument and result
 * types, and whether the method is asynchronous (its first argument is
 * the caller's call id, and it may be answered by the Completed signal).
 * The daemon finds what a call is by it and libsspi names what it sends
 * by it; tests/test-proto checks it against the interface info generated
 * from proto/org.sspid1.xml, so the XML and the C cannot drift apart.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The methods, in the order of the table. */
typedef enum {
  SSPID_CALL_HELLO,
  SSPID_CALL_ACQUIRE,
  SSPID_CALL_INITIALIZE,
  SSPID_CALL_ACCEPT,
  SSPID_CALL_DELETE,
  SSPID_CALL_FREE,
  SSPID_CALL_QUERY,
  SSPID_CALL_ENCRYPT,
  SSPID_CALL_DECRYPT,
  SSPID_CALL_APPLY_CONTROL,
  SSPID_CALL_GET_STATUS,
  SSPID_CALL_LIST_CREDENTIALS,
  SSPID_CALL_LIST_CONTEXTS,
  SSPID_CALL_QUERY_CREDENTIAL,
  SSPID_CALL_OPEN_CHANNEL,
  SSPID_CALL_OPEN_CONNECTION,
} SspidCallKind;

/* Not an enum member, so switches over SspidCallKind stay exhaustive. */
#define SSPID_CALL_N_KINDS (SSPID_CALL_OPEN_CONNECTION + 1)

typedef struct {
  const char   *name;
  SspidCallKind kind;
  const char   *in_type;    /* the body's GVariant type ("()": none) */
  const char   *out_type;   /* the reply's */
  gboolean      is_async;   /* first argument: the call id */
} SspidMethod;

/* The method named @name (a member of org.sspid1.Sspi), or NULL.
 * Static: do not free. */
const SspidMethod *sspid_method_lookup (const char *name);
/* The method of @kind.  Static: do not free. */
const SspidMethod *sspid_method_get (SspidCallKind kind);

G_END_DECLS
