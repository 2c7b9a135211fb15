/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Running the built sspictl from a test (its --json output is checked with
 * tu_assert_json()).
 */
#pragma once

#include <glib.h>

/* Runs sspictl (SSPICTL_BINARY) with @args (NULL-terminated); returns its
 * exit status, with what it printed in @out and @err (either may be NULL). */
int sspictl_run (const char *const *args, char **out, char **err);

/* Starts sspictl with @args in the background; its output is read by
 * sspictl_finish(), which waits for it to exit and returns what it
 * printed on standard output (g_free() it), its exit status in @status. */
GPid sspictl_spawn (const char *const *args, int *out_fd);
char *sspictl_finish (GPid pid, int out_fd, int *status);
