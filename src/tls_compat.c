/* tls_compat.c -- makes Debian 12's civetweb find a complete OpenSSL.
 *
 * That civetweb is built for the OpenSSL 1.1 API and looks OpenSSL up at
 * run time: dlopen("libcrypto.so"), dlopen("libssl.so"), then dlsym() of
 * every function it calls. Those two names are libssl-dev's symlinks: on
 * a machine without it they are missing, and where they exist they lead
 * to OpenSSL 3.0, which lacks SSL_get_peer_certificate (a macro now). In
 * both cases civetweb's second initialisation reports success over a
 * table with null entries, and a worker calls one on the first https
 * connection. So kmsemu answers those two dlopen()s itself with its own
 * program's handle: dlsym() on it searches the libssl.so.3 and
 * libcrypto.so.3 kmsemu is linked against, and finds the 1.1 name below,
 * wherever the binary lies and whatever is on disk. The Makefile exports
 * both definitions from the executable. */
#include <dlfcn.h>
#include <string.h>

#include <openssl/ssl.h>

#undef SSL_get_peer_certificate

X509 *SSL_get_peer_certificate(const SSL *ssl);
void *dlopen(const char *file, int mode);

/* 1.1's function returned a new reference too; only the name changed. */
X509 *
SSL_get_peer_certificate(const SSL *ssl)
{
    return SSL_get1_peer_certificate(ssl);
}

void *
dlopen(const char *file, int mode)
{
    void *(*next)(const char *, int);

    if (file != NULL &&
        (strcmp(file, "libssl.so") == 0 || strcmp(file, "libcrypto.so") == 0))
        file = NULL;
    *(void **)&next = dlsym(RTLD_NEXT, "dlopen");
    return next != NULL ? next(file, mode) : NULL;
}
