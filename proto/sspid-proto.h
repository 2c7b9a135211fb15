/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Names and shapes of the D-Bus contract between libsspi and sspid, written
 * once so the daemon, the library and the tests cannot drift apart.  The
 * contract itself is documented in proto/org.sspid1.xml.
 */
#pragma once

#define SSPID_BUS_NAME        "org.sspid1"
#define SSPID_OBJECT_PATH     "/org/sspid1"
#define SSPID_INTERFACE       "org.sspid1.Sspi"
#define SSPID_SIGNAL_COMPLETED "Completed"
/* The bus method that hands out a peer-to-peer connection to the daemon. */
#define SSPID_METHOD_OPEN_CONNECTION "OpenConnection"

/* Environment variable that points libsspi at a bus other than the system bus. */
#define SSPID_BUS_ADDRESS_ENV "SSPID_BUS_ADDRESS"

/* GVariant type of the step result that every asynchronous method answers
 * with, as a method reply ... */
#define SSPID_STEP_RESULT_TYPE     "(utayuxuua{sv})"
/* ... and as the Completed signal (call_id first). */
#define SSPID_COMPLETED_TYPE       "(tutayuxuua{sv})"

/* ListContexts reports at most this many contexts, the oldest: a reply
 * must cost the daemon a bounded amount of main-loop time. */
#define SSPID_LIST_CONTEXTS_MAX    256

/* D-Bus errors, for messages that are malformed rather than refused by
 * SSPI: the names on the wire of the SspidError codes (sspid-error.h),
 * which is what code uses; tests that read the wire compare these. */
#define SSPID_ERROR_PREFIX                 "org.sspid1.Error."
#define SSPID_ERROR_NAME_INVALID_ARGS      SSPID_ERROR_PREFIX "InvalidArgs"
#define SSPID_ERROR_NAME_ACCESS_DENIED     SSPID_ERROR_PREFIX "AccessDenied"
#define SSPID_ERROR_NAME_LIMIT_EXCEEDED    SSPID_ERROR_PREFIX "LimitExceeded"
#define SSPID_ERROR_NAME_INTERNAL          SSPID_ERROR_PREFIX "Internal"
