/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * winapi-client HOST PORT - an HTTPS GET written only against the
 * synchronous Windows SSPI/Schannel API, shaped like Microsoft's WebClient
 * sample: acquire a Schannel credential, run the InitializeSecurityContext
 * loop over a socket, encrypt a request, decrypt the answer until the
 * server closes, send close_notify, clean up.  It prints the decrypted
 * response to stdout and exits 0 on success.
 *
 * The only things in it that Windows would not compile: <sspi.h> and
 * <schannel.h> instead of <windows.h>/<security.h>, and POSIX sockets
 * instead of Winsock.  tests/test-winapi.c builds it with
 * `pkg-config --cflags --libs sspi`, as an application would.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sspi.h>
#include <schannel.h>

#define IO_BUFFER_SIZE 0x10000

static CredHandle hClientCreds;
static CtxtHandle hContext;

/* ---- sockets (the Winsock part of the sample) ---------------------------- */

static int
connect_to_server (const char *host, const char *port)
{
  struct addrinfo hints, *res, *ai;
  int fd = -1;

  memset (&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo (host, port, &hints, &res) != 0)
    return -1;
  for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
    {
      fd = socket (ai->ai_family, ai->ai_socktype, ai->ai_protocol);
      if (fd >= 0 && connect (fd, ai->ai_addr, ai->ai_addrlen) != 0)
        {
          close (fd);
          fd = -1;
        }
    }
  freeaddrinfo (res);
  return fd;
}

static int
send_all (int fd, const void *data, size_t len)
{
  const char *p = data;

  while (len > 0)
    {
      ssize_t n = send (fd, p, len, 0);

      if (n <= 0)
        return -1;
      p += n;
      len -= (size_t) n;
    }
  return 0;
}

/* ---- the handshake ---------------------------------------------------------- */

static SECURITY_STATUS
create_credentials (void)
{
  SCHANNEL_CRED SchannelCred;
  TimeStamp tsExpiry;

  memset (&SchannelCred, 0, sizeof SchannelCred);
  SchannelCred.dwVersion = SCHANNEL_CRED_VERSION;
  SchannelCred.grbitEnabledProtocols = SP_PROT_TLS1_2_CLIENT | SP_PROT_TLS1_3_CLIENT;
  SchannelCred.dwFlags = SCH_CRED_NO_DEFAULT_CREDS | SCH_USE_STRONG_CRYPTO;

  return AcquireCredentialsHandleA (NULL, UNISP_NAME_A, SECPKG_CRED_OUTBOUND, NULL,
                                    &SchannelCred, NULL, NULL, &hClientCreds, &tsExpiry);
}

#define ISC_FLAGS (ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | \
                   ISC_REQ_CONFIDENTIALITY | ISC_REQ_EXTENDED_ERROR | \
                   ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM)

/* Sends the token of @OutBuffer (if any) and frees it. */
static int
send_token (int fd, SecBuffer *OutBuffer)
{
  int rc = 0;

  if (OutBuffer->cbBuffer != 0 && OutBuffer->pvBuffer != NULL)
    rc = send_all (fd, OutBuffer->pvBuffer, OutBuffer->cbBuffer);
  FreeContextBuffer (OutBuffer->pvBuffer);
  OutBuffer->pvBuffer = NULL;
  return rc;
}

/* The loop after the first call.  @io holds *cbIo bytes already received;
 * on return it holds the bytes received after the handshake (to decrypt). */
static SECURITY_STATUS
client_handshake_loop (int fd, const char *host, unsigned char *io, DWORD *cbIo,
                       int doInitialRead)
{
  SecBufferDesc InBuffer, OutBuffer;
  SecBuffer InBuffers[2], OutBuffers[1];
  DWORD dwSSPIOutFlags;
  TimeStamp tsExpiry;
  SECURITY_STATUS scRet = SEC_I_CONTINUE_NEEDED;
  int fDoRead = doInitialRead;

  while (scRet == SEC_I_CONTINUE_NEEDED || scRet == SEC_E_INCOMPLETE_MESSAGE
         || scRet == SEC_I_INCOMPLETE_CREDENTIALS)
    {
      if (*cbIo == 0 || scRet == SEC_E_INCOMPLETE_MESSAGE)
        {
          if (fDoRead)
            {
              ssize_t n = recv (fd, io + *cbIo, IO_BUFFER_SIZE - *cbIo, 0);

              if (n <= 0)
                return SEC_E_INTERNAL_ERROR;
              *cbIo += (DWORD) n;
            }
          else
            fDoRead = 1;
        }

      InBuffers[0].pvBuffer = io;
      InBuffers[0].cbBuffer = *cbIo;
      InBuffers[0].BufferType = SECBUFFER_TOKEN;
      InBuffers[1].pvBuffer = NULL;
      InBuffers[1].cbBuffer = 0;
      InBuffers[1].BufferType = SECBUFFER_EMPTY;
      InBuffer.cBuffers = 2;
      InBuffer.pBuffers = InBuffers;
      InBuffer.ulVersion = SECBUFFER_VERSION;

      OutBuffers[0].pvBuffer = NULL;
      OutBuffers[0].BufferType = SECBUFFER_TOKEN;
      OutBuffers[0].cbBuffer = 0;
      OutBuffer.cBuffers = 1;
      OutBuffer.pBuffers = OutBuffers;
      OutBuffer.ulVersion = SECBUFFER_VERSION;

      scRet = InitializeSecurityContextA (&hClientCreds, &hContext, (SEC_CHAR *) host,
                                          ISC_FLAGS, 0, 0, &InBuffer, 0, NULL,
                                          &OutBuffer, &dwSSPIOutFlags, &tsExpiry);

      if (scRet == SEC_E_OK || scRet == SEC_I_CONTINUE_NEEDED
          || (!SEC_SUCCESS (scRet) && (dwSSPIOutFlags & ISC_RET_EXTENDED_ERROR)))
        {
          if (send_token (fd, &OutBuffers[0]) != 0)
            return SEC_E_INTERNAL_ERROR;
        }
      if (scRet == SEC_E_INCOMPLETE_MESSAGE)
        continue;
      if (scRet == SEC_E_OK)
        {
          /* Bytes after the handshake: application data for later. */
          if (InBuffers[1].BufferType == SECBUFFER_EXTRA)
            {
              memmove (io, io + (*cbIo - InBuffers[1].cbBuffer), InBuffers[1].cbBuffer);
              *cbIo = InBuffers[1].cbBuffer;
            }
          else
            *cbIo = 0;
          break;
        }
      if (!SEC_SUCCESS (scRet))
        break;
      if (scRet == SEC_I_INCOMPLETE_CREDENTIALS)
        {
          /* No client certificate: go on anonymously. */
          fDoRead = 0;
          scRet = SEC_I_CONTINUE_NEEDED;
          continue;
        }
      if (InBuffers[1].BufferType == SECBUFFER_EXTRA)
        {
          memmove (io, io + (*cbIo - InBuffers[1].cbBuffer), InBuffers[1].cbBuffer);
          *cbIo = InBuffers[1].cbBuffer;
        }
      else
        *cbIo = 0;
    }
  if (!SEC_SUCCESS (scRet))
    DeleteSecurityContext (&hContext);
  return scRet;
}

static SECURITY_STATUS
perform_client_handshake (int fd, const char *host, unsigned char *io, DWORD *cbIo)
{
  SecBufferDesc OutBuffer;
  SecBuffer OutBuffers[1];
  DWORD dwSSPIOutFlags;
  TimeStamp tsExpiry;
  SECURITY_STATUS scRet;

  OutBuffers[0].pvBuffer = NULL;
  OutBuffers[0].BufferType = SECBUFFER_TOKEN;
  OutBuffers[0].cbBuffer = 0;
  OutBuffer.cBuffers = 1;
  OutBuffer.pBuffers = OutBuffers;
  OutBuffer.ulVersion = SECBUFFER_VERSION;

  scRet = InitializeSecurityContextA (&hClientCreds, NULL, (SEC_CHAR *) host, ISC_FLAGS, 0,
                                      0, NULL, 0, &hContext, &OutBuffer, &dwSSPIOutFlags,
                                      &tsExpiry);
  if (scRet != SEC_I_CONTINUE_NEEDED)
    return scRet;
  if (send_token (fd, &OutBuffers[0]) != 0)
    {
      DeleteSecurityContext (&hContext);
      return SEC_E_INTERNAL_ERROR;
    }
  *cbIo = 0;
  return client_handshake_loop (fd, host, io, cbIo, 1);
}

/* ---- application data ------------------------------------------------------- */

static SECURITY_STATUS
send_request (int fd, const char *host, SecPkgContext_StreamSizes *Sizes)
{
  unsigned char *msg = malloc (Sizes->cbHeader + Sizes->cbMaximumMessage + Sizes->cbTrailer);
  SecBuffer Buffers[4];
  SecBufferDesc Message;
  SECURITY_STATUS scRet;
  int len;

  if (msg == NULL)
    return SEC_E_INSUFFICIENT_MEMORY;
  len = snprintf ((char *) msg + Sizes->cbHeader, Sizes->cbMaximumMessage,
                  "GET / HTTP/1.0\r\nHost: %s\r\nUser-Agent: winapi-client\r\n\r\n", host);

  Buffers[0].pvBuffer = msg;
  Buffers[0].cbBuffer = Sizes->cbHeader;
  Buffers[0].BufferType = SECBUFFER_STREAM_HEADER;
  Buffers[1].pvBuffer = msg + Sizes->cbHeader;
  Buffers[1].cbBuffer = (ULONG) len;
  Buffers[1].BufferType = SECBUFFER_DATA;
  Buffers[2].pvBuffer = msg + Sizes->cbHeader + len;
  Buffers[2].cbBuffer = Sizes->cbTrailer;
  Buffers[2].BufferType = SECBUFFER_STREAM_TRAILER;
  Buffers[3].pvBuffer = NULL;
  Buffers[3].cbBuffer = 0;
  Buffers[3].BufferType = SECBUFFER_EMPTY;
  Message.ulVersion = SECBUFFER_VERSION;
  Message.cBuffers = 4;
  Message.pBuffers = Buffers;

  scRet = EncryptMessage (&hContext, 0, &Message, 0);
  if (scRet == SEC_E_OK
      && send_all (fd, msg, Buffers[0].cbBuffer + Buffers[1].cbBuffer + Buffers[2].cbBuffer) != 0)
    scRet = SEC_E_INTERNAL_ERROR;
  free (msg);
  return scRet;
}

/* Reads and decrypts until the server closes (close_notify or EOF). */
static SECURITY_STATUS
read_response (int fd, const char *host, unsigned char *io, DWORD cbIo)
{
  SecBuffer Buffers[4], *pDataBuffer, *pExtraBuffer;
  SecBufferDesc Message;
  SECURITY_STATUS scRet = SEC_E_OK;
  size_t total = 0;

  for (;;)
    {
      if (cbIo == 0 || scRet == SEC_E_INCOMPLETE_MESSAGE)
        {
          ssize_t n = recv (fd, io + cbIo, IO_BUFFER_SIZE - cbIo, 0);

          if (n < 0)
            return SEC_E_INTERNAL_ERROR;
          if (n == 0)
            return cbIo == 0 && total > 0 ? SEC_E_OK : SEC_E_INTERNAL_ERROR;
          cbIo += (DWORD) n;
        }

      Buffers[0].pvBuffer = io;
      Buffers[0].cbBuffer = cbIo;
      Buffers[0].BufferType = SECBUFFER_DATA;
      Buffers[1].BufferType = SECBUFFER_EMPTY;
      Buffers[2].BufferType = SECBUFFER_EMPTY;
      Buffers[3].BufferType = SECBUFFER_EMPTY;
      Message.ulVersion = SECBUFFER_VERSION;
      Message.cBuffers = 4;
      Message.pBuffers = Buffers;

      scRet = DecryptMessage (&hContext, &Message, 0, NULL);
      if (scRet == SEC_E_INCOMPLETE_MESSAGE)
        continue;
      if (scRet != SEC_E_OK && scRet != SEC_I_RENEGOTIATE && scRet != SEC_I_CONTEXT_EXPIRED)
        return scRet;

      pDataBuffer = NULL;
      pExtraBuffer = NULL;
      for (int i = 1; i < 4; i++)
        {
          if (pDataBuffer == NULL && Buffers[i].BufferType == SECBUFFER_DATA)
            pDataBuffer = &Buffers[i];
          if (pExtraBuffer == NULL && Buffers[i].BufferType == SECBUFFER_EXTRA)
            pExtraBuffer = &Buffers[i];
        }
      if (pDataBuffer != NULL && pDataBuffer->cbBuffer > 0)
        {
          fwrite (pDataBuffer->pvBuffer, 1, pDataBuffer->cbBuffer, stdout);
          total += pDataBuffer->cbBuffer;
        }
      if (pExtraBuffer != NULL)
        {
          memmove (io, pExtraBuffer->pvBuffer, pExtraBuffer->cbBuffer);
          cbIo = pExtraBuffer->cbBuffer;
        }
      else
        cbIo = 0;

      if (scRet == SEC_I_CONTEXT_EXPIRED)
        return SEC_E_OK;   /* the server sent close_notify */
      if (scRet == SEC_I_RENEGOTIATE)
        {
          /* The server wants an answer (e.g. to a key update). */
          scRet = client_handshake_loop (fd, host, io, &cbIo, 0);
          if (scRet != SEC_E_OK)
            return scRet;
        }
    }
}

static SECURITY_STATUS
disconnect_from_server (int fd)
{
  DWORD dwType = SCHANNEL_SHUTDOWN;
  SecBufferDesc OutBuffer;
  SecBuffer OutBuffers[1];
  DWORD dwSSPIOutFlags;
  TimeStamp tsExpiry;
  SECURITY_STATUS Status;

  OutBuffers[0].pvBuffer = &dwType;
  OutBuffers[0].BufferType = SECBUFFER_TOKEN;
  OutBuffers[0].cbBuffer = sizeof dwType;
  OutBuffer.cBuffers = 1;
  OutBuffer.pBuffers = OutBuffers;
  OutBuffer.ulVersion = SECBUFFER_VERSION;
  Status = ApplyControlToken (&hContext, &OutBuffer);
  if (!SEC_SUCCESS (Status))
    return Status;

  OutBuffers[0].pvBuffer = NULL;
  OutBuffers[0].BufferType = SECBUFFER_TOKEN;
  OutBuffers[0].cbBuffer = 0;
  Status = InitializeSecurityContextA (&hClientCreds, &hContext, NULL, ISC_FLAGS, 0, 0,
                                       NULL, 0, &hContext, &OutBuffer, &dwSSPIOutFlags,
                                       &tsExpiry);
  if (!SEC_SUCCESS (Status))
    return Status;
  /* The server may have gone already; the alert is best effort. */
  send_token (fd, &OutBuffers[0]);
  return SEC_E_OK;
}

int
main (int argc, char **argv)
{
  static unsigned char io[IO_BUFFER_SIZE];
  SecPkgContext_StreamSizes Sizes;
  SecPkgContext_ConnectionInfo ConnectionInfo;
  PCCERT_CONTEXT pRemoteCertContext = NULL;
  SECURITY_STATUS Status;
  DWORD cbIo = 0;
  int fd;

  if (argc != 3)
    {
      fprintf (stderr, "usage: %s HOST PORT\n", argv[0]);
      return 2;
    }
  Status = create_credentials ();
  if (Status != SEC_E_OK)
    {
      fprintf (stderr, "AcquireCredentialsHandle: 0x%08x\n", (unsigned) Status);
      return 1;
    }
  fd = connect_to_server (argv[1], argv[2]);
  if (fd < 0)
    {
      fprintf (stderr, "cannot connect to %s:%s\n", argv[1], argv[2]);
      return 1;
    }
  Status = perform_client_handshake (fd, argv[1], io, &cbIo);
  if (Status != SEC_E_OK)
    {
      fprintf (stderr, "handshake: 0x%08x\n", (unsigned) Status);
      return 1;
    }

  if (QueryContextAttributesA (&hContext, SECPKG_ATTR_REMOTE_CERT_CONTEXT,
                               &pRemoteCertContext) == SEC_E_OK)
    {
      fprintf (stderr, "server certificate: %u bytes\n",
               (unsigned) pRemoteCertContext->cbCertEncoded);
      CertFreeCertificateContext (pRemoteCertContext);
    }
  if (QueryContextAttributesA (&hContext, SECPKG_ATTR_CONNECTION_INFO,
                               &ConnectionInfo) == SEC_E_OK)
    fprintf (stderr, "protocol: 0x%x, cipher: 0x%x (%u bits)\n",
             (unsigned) ConnectionInfo.dwProtocol, (unsigned) ConnectionInfo.aiCipher,
             (unsigned) ConnectionInfo.dwCipherStrength);
  Status = QueryContextAttributesA (&hContext, SECPKG_ATTR_STREAM_SIZES, &Sizes);
  if (Status == SEC_E_OK)
    Status = send_request (fd, argv[1], &Sizes);
  if (Status == SEC_E_OK)
    Status = read_response (fd, argv[1], io, cbIo);
  if (Status != SEC_E_OK)
    fprintf (stderr, "exchange: 0x%08x\n", (unsigned) Status);
  else
    {
      Status = disconnect_from_server (fd);
      if (Status != SEC_E_OK)
        fprintf (stderr, "shutdown: 0x%08x\n", (unsigned) Status);
    }
  fflush (stdout);
  close (fd);
  DeleteSecurityContext (&hContext);
  FreeCredentialsHandle (&hClientCreds);
  return Status == SEC_E_OK ? 0 : 1;
}
