/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Text from callers in log lines.
 */
#pragma once

#include <glib.h>

/* @text (from a caller: hostile) fit for a log line: at most
 * SSPID_LOG_TEXT_MAX bytes of it, then "..."; control characters,
 * backslashes, quotes, Unicode line separators and bytes that are not
 * UTF-8 as \xNN escapes, so it can neither forge a line nor flood the
 * log.  g_free() it. */
#define SSPID_LOG_TEXT_MAX 64
char *sspid_log_escape (const char *text);
/* The same with room for @max bytes (before the escapes' growth). */
char *sspid_log_escape_max (const char *text, gsize max);
