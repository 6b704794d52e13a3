/* tls.c -- the certificate and key kmsemu serves https with: loaded from
 * PEM files, or made up at start-up as a self-signed certificate for the
 * listen address. The self-signed certificate is written out (the key is
 * not: it never leaves the process) so that clients can trust exactly it. */
#include "tls.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

struct tls_identity {
    X509 *cert;
    STACK_OF(X509) *chain; /* intermediates after the leaf in --tls-cert */
    EVP_PKEY *key;
};

/* OpenSSL's newest error, or what we were doing when it had none. */
static void
tls_error(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_get_error();
    char reason[256];

    ERR_clear_error();
    if (e == 0) {
        snprintf(err, errlen, "%s", what);
        return;
    }
    ERR_error_string_n(e, reason, sizeof(reason));
    snprintf(err, errlen, "%s: %s", what, reason);
}

void
tls_free(struct tls_identity *id)
{
    if (id == NULL)
        return;
    X509_free(id->cert);
    sk_X509_pop_free(id->chain, X509_free);
    EVP_PKEY_free(id->key);
    free(id);
}

struct tls_identity *
tls_load(const char *cert_file, const char *key_file, char *err,
         size_t errlen)
{
    struct tls_identity *id = calloc(1, sizeof(*id));
    FILE *f = NULL;
    X509 *extra;
    char what[512];

    if (id == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if ((id->chain = sk_X509_new_null()) == NULL)
        goto fail_mem;
    snprintf(what, sizeof(what), "cannot read a PEM certificate from %s",
             cert_file);
    if ((f = fopen(cert_file, "r")) == NULL ||
        (id->cert = PEM_read_X509(f, NULL, NULL, NULL)) == NULL)
        goto fail;
    while ((extra = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
        if (!sk_X509_push(id->chain, extra)) {
            X509_free(extra);
            goto fail_mem;
        }
    ERR_clear_error(); /* the loop ends on "no start line" */
    fclose(f);
    snprintf(what, sizeof(what), "cannot read a PEM private key from %s",
             key_file);
    if ((f = fopen(key_file, "r")) == NULL ||
        (id->key = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL)
        goto fail;
    fclose(f);
    f = NULL;
    snprintf(what, sizeof(what), "%s does not hold the key of %s", key_file,
             cert_file);
    if (X509_check_private_key(id->cert, id->key) != 1)
        goto fail;
    return id;

fail_mem:
    snprintf(what, sizeof(what), "out of memory");
fail:
    tls_error(err, errlen, what);
    if (f != NULL)
        fclose(f);
    tls_free(id);
    return NULL;
}

/* One X.509v3 extension by its configuration-file text. */
static int
tls_add_ext(X509 *cert, int nid, const char *value)
{
    X509V3_CTX v3;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
    if ((ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value)) == NULL)
        return 0;
    ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/* subjectAltName for host: IP or DNS as it parses, plus the loopback
 * names every local client uses. A wildcard address names no host a
 * client can dial, so the machine's own name stands in for it. */
static void
tls_alt_names(const char *host, char *out, size_t outlen)
{
    unsigned char addr[16];
    char name[256] = "";
    const char *h = host;

    if (strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0 || h[0] == '\0') {
        if (gethostname(name, sizeof(name) - 1) == 0 && name[0] != '\0')
            h = name;
        else
            h = "localhost";
    }
    if (inet_pton(AF_INET, h, addr) == 1 || inet_pton(AF_INET6, h, addr) == 1)
        snprintf(out, outlen, "IP:%s,DNS:localhost,IP:127.0.0.1,IP:::1", h);
    else
        snprintf(out, outlen, "DNS:%s,DNS:localhost,IP:127.0.0.1,IP:::1", h);
}

/* Writes the certificate alone, mode 0600 from its creation on. */
static int
tls_write_cert(X509 *cert, const char *path, char *err, size_t errlen)
{
    FILE *f = NULL;
    int fd, ok = 0;

    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || fchmod(fd, 0600) != 0 || (f = fdopen(fd, "w")) == NULL) {
        snprintf(err, errlen, "cannot write %s", path);
        goto done;
    }
    fd = -1;
    if (!PEM_write_X509(f, cert)) {
        tls_error(err, errlen, "cannot encode the certificate");
        goto done;
    }
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        snprintf(err, errlen, "cannot write %s", path);
        goto done;
    }
    ok = 1;
done:
    if (f != NULL)
        fclose(f);
    if (fd >= 0)
        close(fd);
    return ok;
}

struct tls_identity *
tls_self_signed(const char *host, const char *path, char *err, size_t errlen)
{
    struct tls_identity *id = calloc(1, sizeof(*id));
    X509_NAME *name;
    char san[600];

    if (id == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* P-256: every TLS client takes it, and it is made in a millisecond. */
    if ((id->key = EVP_EC_gen("P-256")) == NULL ||
        (id->cert = X509_new()) == NULL) {
        tls_error(err, errlen, "cannot generate a key");
        goto fail;
    }
    tls_alt_names(host, san, sizeof(san));
    name = X509_get_subject_name(id->cert);
    if (!X509_set_version(id->cert, 2) ||
        !ASN1_INTEGER_set_int64(X509_get_serialNumber(id->cert),
                                (int64_t)time(NULL)) ||
        X509_gmtime_adj(X509_getm_notBefore(id->cert), -3600) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(id->cert), 365L * 86400) == NULL ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                    (const unsigned char *)"kmsemu", -1, -1,
                                    0) ||
        !X509_set_issuer_name(id->cert, name) ||
        !X509_set_pubkey(id->cert, id->key) ||
        /* The certificate is its own trust anchor: clients put it in
         * their CA list, so it must be allowed to act as one. */
        !tls_add_ext(id->cert, NID_basic_constraints, "critical,CA:TRUE") ||
        !tls_add_ext(id->cert, NID_key_usage,
                     "critical,digitalSignature,keyCertSign") ||
        !tls_add_ext(id->cert, NID_ext_key_usage, "serverAuth") ||
        !tls_add_ext(id->cert, NID_subject_key_identifier, "hash") ||
        !tls_add_ext(id->cert, NID_subject_alt_name, san) ||
        !X509_sign(id->cert, id->key, EVP_sha256())) {
        tls_error(err, errlen, "cannot build the certificate");
        goto fail;
    }
    if (!tls_write_cert(id->cert, path, err, errlen))
        goto fail;
    return id;

fail:
    tls_free(id);
    return NULL;
}

int
tls_configure(const struct tls_identity *id, void *ssl_ctx)
{
    int (*use_cert)(SSL_CTX *, X509 *), (*use_key)(SSL_CTX *, EVP_PKEY *);
    long (*ctrl)(SSL_CTX *, int, long, void *);
    SSL_CTX *ctx = ssl_ctx;
    int i;

    *(void **)&use_cert = tls_ssl_function("SSL_CTX_use_certificate");
    *(void **)&use_key = tls_ssl_function("SSL_CTX_use_PrivateKey");
    *(void **)&ctrl = tls_ssl_function("SSL_CTX_ctrl");
    if (use_cert == NULL || use_key == NULL || ctrl == NULL
        || use_cert(ctx, id->cert) != 1 || use_key(ctx, id->key) != 1)
        return -1;
    /* SSL_CTX_add1_chain_cert(), a macro over SSL_CTX_ctrl(). */
    for (i = 0; id->chain != NULL && i < sk_X509_num(id->chain); i++)
        if (ctrl(ctx, SSL_CTRL_CHAIN_CERT, 1, sk_X509_value(id->chain, i)) != 1)
            return -1;
    return 0;
}
