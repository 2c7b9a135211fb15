/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The caller's SecBufferDesc: a buffer by its type, the SECBUFFER_ATTRMASK
 * flags ignored as Schannel ignores them.  Every part of the library that
 * reads or writes the caller's buffers (marshalling, records, QUIC mode)
 * calls down to it.
 */

#include "config.h"

#include "sspi-private.h"

gboolean
sspi_buffer_is (const SecBuffer *b, ULONG type)
{
  return (b->BufferType & ~SECBUFFER_ATTRMASK) == type;
}

SecBuffer *
sspi_buffer_find (const SecBufferDesc *desc, ULONG type)
{
  if (desc == NULL || desc->pBuffers == NULL)
    return NULL;
  for (ULONG i = 0; i < desc->cBuffers; i++)
    if (sspi_buffer_is (&desc->pBuffers[i], type))
      return &desc->pBuffers[i];
  return NULL;
}
