/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * p11-kit's remoting for keys on another host, and dialling its server
 * again once it went away (see sspid-pkcs11.h).
 */
#include "config.h"

#include <gio/gio.h>
#include <gnutls/pkcs11.h>
#include <p11-kit/p11-kit.h>
#include <signal.h>
#include <stdlib.h>

#include "sspid-pkcs11.h"

/* configure.ac sets it from p11-kit's pkg-config; builds outside autotools
 * (tools/fuzz) never load the module. */
#ifndef SSPID_PKCS11_MODULE_DIR
#define SSPID_PKCS11_MODULE_DIR "/usr/lib/pkcs11"
#endif
#define CLIENT_MODULE_NAME "p11-kit-client.so"
#define CLIENT_MODULE SSPID_PKCS11_MODULE_DIR "/" CLIENT_MODULE_NAME

/* Readers: key operations.  The writer: a reconnect, and whatever
 * changes what follows. */
static GRWLock operations;
static char *remote_address;            /* the address the module was loaded with */
static CK_FUNCTION_LIST *client_module; /* GnuTLS's instance; NULL until its server answered */

static GMutex holders_lock;
static GHashTable *holders;             /* data -> SspidPkcs11ReleaseFunc */

void
sspid_pkcs11_operation_begin (void)
{
  g_rw_lock_reader_lock (&operations);
}

void
sspid_pkcs11_operation_end (void)
{
  g_rw_lock_reader_unlock (&operations);
}

void
sspid_pkcs11_add_session_holder (gpointer data, SspidPkcs11ReleaseFunc release)
{
  g_mutex_lock (&holders_lock);
  if (holders == NULL)
    holders = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_hash_table_insert (holders, data, (gpointer) release);
  g_mutex_unlock (&holders_lock);
}

void
sspid_pkcs11_remove_session_holder (gpointer data)
{
  g_mutex_lock (&holders_lock);
  if (holders != NULL)
    g_hash_table_remove (holders, data);
  g_mutex_unlock (&holders_lock);
}

static void
release_sessions (void)
{
  GHashTableIter iter;
  gpointer data, release;

  g_mutex_lock (&holders_lock);
  if (holders != NULL)
    {
      g_hash_table_iter_init (&iter, holders);
      while (g_hash_table_iter_next (&iter, &data, &release))
        ((SspidPkcs11ReleaseFunc) release) (data);
    }
  g_mutex_unlock (&holders_lock);
}

/* GnuTLS's instance of the client module: the module of a token GnuTLS
 * sees that was loaded from the client module's file.  GnuTLS names no
 * module but through a token, so this finds nothing while the server has
 * not answered (the module then shows no token). */
static CK_FUNCTION_LIST *
find_client_module (void)
{
  for (unsigned int i = 0;; i++)
    {
      char *url = NULL;
      void *module = NULL;
      unsigned long slot;
      char *file;
      gboolean is_client;

      if (gnutls_pkcs11_token_get_url (i, GNUTLS_PKCS11_URL_LIB, &url) < 0)
        return NULL;
      if (gnutls_pkcs11_token_get_ptr (url, &module, &slot, 0) < 0)
        module = NULL;
      gnutls_free (url);
      if (module == NULL)
        continue;
      file = p11_kit_module_get_filename (module);
      is_client = file != NULL && g_str_has_suffix (file, "/" CLIENT_MODULE_NAME);
      free (file);
      if (is_client)
        return module;
    }
}

/* Loads another instance of the client module (with the writer lock):
 * the one before never reached its server, and never will.  While the
 * server is still away, GnuTLS drops the new instance as a duplicate of
 * the old (both describe themselves as "no connection"). */
static int
add_client_module (void)
{
  int ret = gnutls_pkcs11_add_provider (CLIENT_MODULE, NULL);

  if (ret >= 0)
    client_module = find_client_module ();
  return ret;
}

/* With the writer lock and no session open on the module: C_Finalize
 * closes its connection, C_Initialize dials the server again (and
 * succeeds without a connection when nobody answers, as at start). */
static void
redial (void)
{
  CK_RV rv;

  if (client_module == NULL)
    {
      add_client_module ();
      return;
    }
  rv = p11_kit_module_finalize (client_module);
  if (rv != CKR_OK)
    g_debug ("pkcs11-remote: finalizing p11-kit's client module: %s", p11_kit_strerror (rv));
  rv = p11_kit_module_initialize (client_module);
  if (rv != CKR_OK)
    g_warning ("pkcs11-remote: cannot initialise p11-kit's client module again: %s",
               p11_kit_strerror (rv));
}

gboolean
sspid_pkcs11_recover (void)
{
  static GMutex last_try_lock;
  static gint64 last_try;   /* monotonic µs */
  gint64 now = g_get_monotonic_time ();
  gboolean is_due;

  g_mutex_lock (&last_try_lock);
  is_due = last_try == 0 || now - last_try >= G_USEC_PER_SEC;
  if (is_due)
    last_try = now;
  g_mutex_unlock (&last_try_lock);
  if (!is_due)
    return FALSE;

  g_rw_lock_writer_lock (&operations);
  release_sessions ();
  if (remote_address != NULL)
    redial ();
  g_rw_lock_writer_unlock (&operations);
  return TRUE;
}

static gboolean
load_client_module (const char *address, GError **error)
{
  int ret;

  /* The registered modules first (a local token stays usable), then the
   * client module, which reads its server's address from the
   * environment when it is loaded. */
  ret = gnutls_pkcs11_init (GNUTLS_PKCS11_FLAG_AUTO, NULL);
  if (ret < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "PKCS#11 initialisation: %s",
                   gnutls_strerror (ret));
      return FALSE;
    }
  g_setenv ("P11_KIT_SERVER_ADDRESS", address, TRUE);
  /* The client module write()s to its socket: a server gone away would
   * raise SIGPIPE, and that must fail the call, not end the daemon. */
  signal (SIGPIPE, SIG_IGN);
  ret = add_client_module ();
  if (ret < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "cannot load p11-kit's client module %s for %s: %s", CLIENT_MODULE,
                   address, gnutls_strerror (ret));
      return FALSE;
    }
  remote_address = g_strdup (address);
  if (client_module != NULL)
    g_message ("keys on PKCS#11 tokens are also looked for at %s (p11-kit server)", address);
  else
    g_warning ("pkcs11-remote: nothing answers at %s yet; keys there are looked for again "
               "on reload", address);
  return TRUE;
}

gboolean
sspid_pkcs11_use_remote (const char *address, GError **error)
{
  gboolean ok = TRUE;

  g_rw_lock_writer_lock (&operations);
  if (remote_address == NULL)
    ok = load_client_module (address, error);
  else if (!g_str_equal (remote_address, address))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "pkcs11-remote changed from %s to %s: restart sspid to use it",
                   remote_address, address);
      ok = FALSE;
    }
  else if (client_module == NULL && add_client_module () >= 0 && client_module != NULL)
    g_message ("keys on PKCS#11 tokens are also looked for at %s (p11-kit server)", address);
  g_rw_lock_writer_unlock (&operations);
  return ok;
}
