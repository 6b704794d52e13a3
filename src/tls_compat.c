/* tls_compat.c -- makes Debian 12's civetweb find a complete OpenSSL, and
 * libssl load only for https.
 *
 * That civetweb is built for the OpenSSL 1.1 API and looks OpenSSL up at
 * run time: dlopen("libcrypto.so"), dlopen("libssl.so"), then dlsym() of
 * every function it calls. Those two names are libssl-dev's symlinks: on
 * a machine without it they are missing, and where they exist they lead
 * to OpenSSL 3.0, which lacks SSL_get_peer_certificate (a macro now). In
 * both cases civetweb's second initialisation reports success over a
 * table with null entries, and a worker calls one on the first https
 * connection. So kmsemu answers those two dlopen()s itself with its own
 * program's handle: dlsym() on it searches the program, the libcrypto.so.3
 * it is linked against and libssl.so.3, loaded here into the global scope,
 * and finds the 1.1 name below, wherever the binary lies and whatever is
 * on disk. The program does not link libssl, so that a plain-HTTP run
 * never maps or relocates it. The Makefile exports both definitions from
 * the executable. */
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

#include <openssl/ssl.h>

#include "tls.h"

#undef SSL_get_peer_certificate

X509 *SSL_get_peer_certificate(const SSL *ssl);
void *dlopen(const char *file, int mode);

static pthread_once_t ssl_once = PTHREAD_ONCE_INIT;
static void *ssl_handle; /* libssl.so.3, once loaded */

static void *(*next_dlopen(void))(const char *, int)
{
    void *(*next)(const char *, int);

    *(void **)&next = dlsym(RTLD_NEXT, "dlopen");
    return next;
}

static void
ssl_load(void)
{
    void *(*next)(const char *, int) = next_dlopen();

    if (next != NULL)
        ssl_handle = next("libssl.so.3", RTLD_NOW | RTLD_GLOBAL);
}

/* libssl.so.3, loaded by the first caller, or NULL. */
static void *
ssl_library(void)
{
    pthread_once(&ssl_once, ssl_load);
    return ssl_handle;
}

void *
tls_ssl_function(const char *name)
{
    void *ssl = ssl_library();

    return ssl != NULL ? dlsym(ssl, name) : NULL;
}

static X509 *(*get1_peer)(const SSL *);

static void
get1_peer_load(void)
{
    *(void **)&get1_peer = tls_ssl_function("SSL_get1_peer_certificate");
}

/* 1.1's function returned a new reference too; only the name changed. */
X509 *
SSL_get_peer_certificate(const SSL *ssl)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    pthread_once(&once, get1_peer_load);
    return get1_peer != NULL ? get1_peer(ssl) : NULL;
}

void *
dlopen(const char *file, int mode)
{
    void *(*next)(const char *, int) = next_dlopen();

    if (next == NULL)
        return NULL;
    if (file != NULL && strcmp(file, "libssl.so") == 0) {
        if (ssl_library() == NULL)
            return NULL;
        file = NULL;
    } else if (file != NULL && strcmp(file, "libcrypto.so") == 0)
        file = NULL;
    return next(file, mode);
}
