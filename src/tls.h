/* tls.h -- the certificate and private key https is served with. */
#ifndef KMS_TLS_H
#define KMS_TLS_H

#include <stddef.h>

struct tls_identity;

/* Reads a PEM certificate (the leaf, then any intermediates) and its PEM
 * private key. On failure returns NULL with a reason in err. */
struct tls_identity *tls_load(const char *cert_file, const char *key_file,
                              char *err, size_t errlen);

/* Makes a P-256 key and a self-signed certificate naming host (an IP
 * address or a DNS name) and localhost, 127.0.0.1 and ::1, and writes the
 * certificate (not the key) to path with mode 0600. */
struct tls_identity *tls_self_signed(const char *host, const char *path,
                                     char *err, size_t errlen);

/* Puts the identity into civetweb's SSL_CTX. Returns 0, or -1. */
int tls_configure(const struct tls_identity *id, void *ssl_ctx);

void tls_free(struct tls_identity *id);

/* A function of libssl.so.3, which kmsemu loads only for https
 * (tls_compat.c), or NULL. */
void *tls_ssl_function(const char *name);

#endif /* KMS_TLS_H */
