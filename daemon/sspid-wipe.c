/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon wipes every block it frees (the sspid binary only: not the
 * library the tests link, not libsspi).
 *
 * Secrets of ended sessions must not stay in the daemon's memory.  Where
 * sspid holds them it wipes them itself (sspid-tls.c, sspid-credential.c),
 * but GnuTLS 3.7 frees some without zeroing them and gives no handle on
 * them: a resumed session's parameters inside the session struct (with the
 * master secret), the decrypted state of a TLS 1.2 ticket, transcript and
 * packing buffers.  So the process's free() and realloc() are these: every
 * block is zeroed before glibc gets it back, whoever frees it.  glibc's
 * own tunables do not do this (glibc.malloc.perturb skips the tcache and
 * fills new blocks too).  What it costs is measured in the README.
 *
 * glibc's realloc() frees the old block inside glibc, out of our reach, so
 * realloc() here always moves the block through malloc() and free().  The
 * real free() is found with dlsym(RTLD_NEXT): under valgrind that is its
 * replacement, as it must be.  Blocks glibc frees inside itself (stdio,
 * resolver) are not wiped; they hold no secret.
 *
 * Under AddressSanitizer, whose allocator replaces glibc's, this is left
 * out; ASan is told to fill what it frees instead.
 */
#include "config.h"

#include <dlfcn.h>
#include <malloc.h>
#include <stddef.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)

const char *__asan_default_options (void);

const char *
__asan_default_options (void)
{
  return "max_free_fill_size=2147483647:free_fill_byte=0";
}

#else

static void (*real_free) (void *);
static int resolving;

static void
find_real_free (void)
{
  if (resolving)
    return;
  resolving = 1;
  real_free = (void (*) (void *)) dlsym (RTLD_NEXT, "free");
  resolving = 0;
}

/* Resolved before main(), while only one thread runs. */
__attribute__ ((constructor)) static void
wipe_init (void)
{
  if (real_free == NULL)
    find_real_free ();
}

void
free (void *ptr)
{
  if (ptr == NULL)
    return;
  explicit_bzero (ptr, malloc_usable_size (ptr));
  if (real_free == NULL)
    find_real_free ();
  /* Only while dlsym() itself frees, before the first lookup ends: such a
   * block is kept (wiped) rather than freed with nothing. */
  if (real_free != NULL)
    real_free (ptr);
}

void *
realloc (void *ptr, size_t size)
{
  size_t old;
  void *moved;

  if (ptr == NULL)
    return malloc (size);
  if (size == 0)
    {
      free (ptr);
      return NULL;
    }
  old = malloc_usable_size (ptr);
  moved = malloc (size);
  if (moved == NULL)
    return NULL;
  memcpy (moved, ptr, old < size ? old : size);
  free (ptr);
  return moved;
}

#endif
