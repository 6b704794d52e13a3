/* tls_compat.c -- built as build/lib/tls/libssl.so, a stand-in that
 * Debian 12's civetweb loads instead of OpenSSL's own libssl.so.
 *
 * That civetweb is built for the OpenSSL 1.1 API but dlopen()s whatever
 * "libssl.so" is installed, which on Debian 12 is OpenSSL 3.0. 3.0 renamed
 * SSL_get_peer_certificate to SSL_get1_peer_certificate (the old name is a
 * macro now, not a symbol), civetweb's lookup of it fails, and its TLS
 * layer is left half-loaded: the first https connection calls a null
 * pointer. kmsemu links this library (SONAME "libssl.so") first, so the
 * dynamic loader hands it to civetweb's dlopen("libssl.so"); every other
 * name civetweb asks for resolves through it to the real libssl.so.3. */
#include <openssl/ssl.h>

#undef SSL_get_peer_certificate

X509 *SSL_get_peer_certificate(const SSL *ssl);

/* 1.1's function returned a new reference too; only the name changed. */
X509 *
SSL_get_peer_certificate(const SSL *ssl)
{
    return SSL_get1_peer_certificate(ssl);
}
