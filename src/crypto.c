/* crypto.c -- see crypto.h for the calling conventions.
 *
 * Implementations are fetched once and shared read-only between threads;
 * every operation builds its own context, except HMAC, which is on the
 * request-signing hot path and keeps one keyed-per-call context per thread.
 */
#include "crypto.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
    const char *name, *ossl;
} md_specs[] = {
    {"sha1", "SHA1"},       {"sha256", "SHA2-256"}, {"sha384", "SHA2-384"},
    {"sha512", "SHA2-512"}, {"sm3", "SM3"},
};

enum { MODE_AEAD, MODE_PADDED, MODE_UNPADDED, MODE_WRAP };

static const struct {
    const char *name, *ossl;
    int mode;
} cipher_specs[] = {
    {"aes-256-gcm", "AES-256-GCM", MODE_AEAD},
    {"aes-128-gcm", "AES-128-GCM", MODE_AEAD},
    {"sm4-gcm", "SM4-GCM", MODE_AEAD},
    {"aes-256-ctr", "AES-256-CTR", MODE_UNPADDED},
    {"aes-256-cbc", "AES-256-CBC", MODE_PADDED},
    {"sm4-ctr", "SM4-CTR", MODE_UNPADDED},
    {"sm4-cbc", "SM4-CBC", MODE_PADDED},
    {"sm4-ecb", "SM4-ECB", MODE_UNPADDED},
    /* RFC 5649 key wrap with padding; ivlen 0 means the RFC's default. */
    {"aes-256-wrap-pad", "AES-256-WRAP-PAD", MODE_WRAP},
    {"aes-128-wrap-pad", "AES-128-WRAP-PAD", MODE_WRAP},
};

/* Written only inside init_once(); read-only afterwards. */
static EVP_MD *md_algs[COUNT(md_specs)];
static EVP_CIPHER *cipher_algs[COUNT(cipher_specs)];
static EVP_MAC *hmac_alg;
static EVP_KDF *hkdf_alg;
static crypto_algorithm probe[COUNT(cipher_specs) + 2];
static pthread_key_t thread_key;
static int init_failed;
static pthread_once_t init_control = PTHREAD_ONCE_INIT;

/* A call to RAND_bytes costs the same whatever its length (the DRBG's
 * locking and checks), and a request draws several small values (a data
 * key, an IV, a request id). Each thread draws RANDOM_POOL bytes at once
 * and hands them out, wiping each as it goes; larger requests go to
 * RAND_bytes directly. */
#define RANDOM_POOL 4096

/* What a thread keeps, made the first time it needs it: a pool in static
 * thread-local storage was zeroed, so made resident, in each of the 64
 * HTTP workers at start, whether it ever drew a byte or not. */
typedef struct {
    EVP_MAC_CTX *ctx[COUNT(md_specs)];
    size_t random_left;
    unsigned char random_pool[RANDOM_POOL];
} per_thread;

static void per_thread_free(void *p)
{
    per_thread *cache = p;

    for (size_t i = 0; i < COUNT(md_specs); i++)
        EVP_MAC_CTX_free(cache->ctx[i]);
    OPENSSL_cleanse(cache->random_pool, sizeof(cache->random_pool));
    free(cache);
}

static void init_once(void)
{
    Dl_info self;
    size_t i;

    /* The state below lives for the process and every exiting thread runs
     * per_thread_free(): when loaded as a Lua module, keep this object mapped
     * even after the Lua state that loaded it closes. */
    if (dladdr((void *)init_once, &self) != 0 && self.dli_fname != NULL)
        (void)dlopen(self.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);

    for (i = 0; i < COUNT(md_specs); i++)
        md_algs[i] = EVP_MD_fetch(NULL, md_specs[i].ossl, NULL);
    for (i = 0; i < COUNT(cipher_specs); i++) {
        cipher_algs[i] = EVP_CIPHER_fetch(NULL, cipher_specs[i].ossl, NULL);
        probe[i].name = cipher_specs[i].name;
        probe[i].available = cipher_algs[i] != NULL;
    }
    hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
    hkdf_alg = EVP_KDF_fetch(NULL, "HKDF", NULL);

    EVP_ASYM_CIPHER *sm2 = EVP_ASYM_CIPHER_fetch(NULL, "SM2", NULL);
    probe[i].name = "sm2";
    probe[i++].available = sm2 != NULL;
    EVP_ASYM_CIPHER_free(sm2);
    EVP_MD *sm3 = EVP_MD_fetch(NULL, "SM3", NULL);
    probe[i].name = "sm3";
    probe[i].available = sm3 != NULL;
    EVP_MD_free(sm3);

    if (pthread_key_create(&thread_key, per_thread_free) != 0)
        init_failed = 1;
    /* A missing optional algorithm is reported per call, not as a stale
     * error on whichever thread happened to initialise. */
    ERR_clear_error();
}

int crypto_init(const char **err)
{
    if (pthread_once(&init_control, init_once) != 0 || init_failed) {
        *err = "crypto initialisation failed";
        return -1;
    }
    return 0;
}

void crypto_free(void *p)
{
    OPENSSL_free(p);
}

const crypto_algorithm *crypto_algorithms(size_t *count)
{
    const char *err;

    *count = crypto_init(&err) == 0 ? COUNT(probe) : 0;
    return probe;
}

/* Called on every failure path: the embedding server also uses OpenSSL for
 * TLS, and SSL_get_error() misreads errors left on the thread's queue. */
static int fail(const char **err, const char *reason)
{
    ERR_clear_error();
    *err = reason;
    return -1;
}

/* EVP wants non-NULL pointers even for empty inputs. */
static const void *nz(const void *p)
{
    return p != NULL ? p : "";
}

static per_thread *thread_cache(void);

int crypto_random(unsigned char *out, size_t n, const char **err)
{
    per_thread *c;
    unsigned char *from;

    if (n > INT_MAX)
        return fail(err, "too many bytes requested");
    if (n > RANDOM_POOL / 8 || (c = thread_cache()) == NULL) {
        if (RAND_bytes(out, (int)n) != 1)
            return fail(err, "random generator failed");
        return 0;
    }
    if (c->random_left < n) {
        if (RAND_bytes(c->random_pool, RANDOM_POOL) != 1)
            return fail(err, "random generator failed");
        c->random_left = RANDOM_POOL;
    }
    from = c->random_pool + RANDOM_POOL - c->random_left;
    memcpy(out, from, n);
    OPENSSL_cleanse(from, n);
    c->random_left -= n;
    return 0;
}

static int md_lookup(const char *alg, const char **err)
{
    if (crypto_init(err) < 0)
        return -1;
    for (size_t i = 0; i < COUNT(md_specs); i++)
        if (strcmp(alg, md_specs[i].name) == 0 && md_algs[i] != NULL)
            return (int)i;
    return fail(err, "unsupported digest");
}

int crypto_digest(const char *alg, const void *in, size_t inlen,
                  unsigned char *out, size_t *outlen, const char **err)
{
    int i = md_lookup(alg, err);
    unsigned int n;

    if (i < 0)
        return -1;
    if (!EVP_Digest(nz(in), inlen, out, &n, md_algs[i], NULL))
        return fail(err, "digest failed");
    *outlen = n;
    return 0;
}

/* This thread's cache, or NULL when it cannot be made. */
static per_thread *thread_cache(void)
{
    const char *err;
    per_thread *cache;

    if (crypto_init(&err) < 0)
        return NULL;
    if ((cache = pthread_getspecific(thread_key)) == NULL) {
        if ((cache = calloc(1, sizeof(*cache))) == NULL)
            return NULL;
        if (pthread_setspecific(thread_key, cache) != 0) {
            free(cache);
            return NULL;
        }
    }
    return cache;
}

/* Creating and configuring an HMAC context costs far more than the MAC of a
 * short string, so each thread keeps one per digest and only re-keys it. */
static EVP_MAC_CTX *hmac_ctx(int alg)
{
    per_thread *cache = thread_cache();

    if (cache == NULL)
        return NULL;
    if (cache->ctx[alg] == NULL) {
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                             (char *)md_specs[alg].ossl, 0),
            OSSL_PARAM_construct_end(),
        };
        EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(hmac_alg);

        if (ctx == NULL || !EVP_MAC_CTX_set_params(ctx, params)) {
            EVP_MAC_CTX_free(ctx);
            return NULL;
        }
        cache->ctx[alg] = ctx;
    }
    return cache->ctx[alg];
}

int crypto_hmac(const char *alg, const void *key, size_t keylen,
                const void *in, size_t inlen,
                unsigned char *out, size_t *outlen, const char **err)
{
    int i = md_lookup(alg, err);
    EVP_MAC_CTX *ctx;

    if (i < 0)
        return -1;
    if (hmac_alg == NULL)
        return fail(err, "unsupported mac");
    if ((ctx = hmac_ctx(i)) == NULL)
        return fail(err, "hmac setup failed");
    /* The key must never be NULL here: EVP_MAC_init(NULL) would silently
     * reuse the previous call's key. */
    if (!EVP_MAC_init(ctx, nz(key), keylen, NULL)
        || !EVP_MAC_update(ctx, nz(in), inlen)
        || !EVP_MAC_final(ctx, out, outlen, CRYPTO_MAX_MD))
        return fail(err, "hmac failed");
    return 0;
}

int crypto_hkdf(const char *alg, const void *ikm, size_t ikmlen,
                const void *salt, size_t saltlen,
                const void *info, size_t infolen,
                unsigned char *out, size_t outlen, const char **err)
{
    int i = md_lookup(alg, err), rc = -1;
    EVP_KDF_CTX *ctx = NULL;

    if (i < 0)
        return -1;
    if (hkdf_alg == NULL)
        return fail(err, "unsupported kdf");
    if (outlen == 0)  /* valid per RFC 5869, refused by the provider */
        return 0;

    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                         (char *)md_specs[i].ossl, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                          (void *)nz(ikm), ikmlen),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                          (void *)nz(salt), saltlen),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
                                          (void *)nz(info), infolen),
        OSSL_PARAM_construct_end(),
    };
    if ((ctx = EVP_KDF_CTX_new(hkdf_alg)) == NULL
        || EVP_KDF_derive(ctx, out, outlen, params) <= 0) {
        fail(err, "hkdf failed");
        goto done;
    }
    rc = 0;
done:
    EVP_KDF_CTX_free(ctx);
    return rc;
}

void crypto_hex(const void *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = in;

    for (size_t i = 0; i < len; i++) {
        *out++ = digits[p[i] >> 4];
        *out++ = digits[p[i] & 15];
    }
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;  /* fold case */
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int crypto_unhex(const char *in, size_t len, unsigned char *out,
                 size_t *outlen, const char **err)
{
    const unsigned char *p = (const unsigned char *)in;

    if (len % 2 != 0)
        return fail(err, "invalid hex");
    for (size_t i = 0; i < len; i += 2) {
        int hi = hex_value(p[i]), lo = hex_value(p[i + 1]);

        if ((hi | lo) < 0)
            return fail(err, "invalid hex");
        out[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    *outlen = len / 2;
    return 0;
}

static const char b64_digits[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t crypto_b64_len(size_t len)
{
    return (len + 2) / 3 * 4;
}

void crypto_b64(const void *in, size_t len, char *out)
{
    const unsigned char *p = in;

    for (; len >= 3; p += 3, len -= 3) {
        uint32_t v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];

        *out++ = b64_digits[v >> 18];
        *out++ = b64_digits[v >> 12 & 63];
        *out++ = b64_digits[v >> 6 & 63];
        *out++ = b64_digits[v & 63];
    }
    if (len > 0) {
        uint32_t v = (uint32_t)p[0] << 16 | (len == 2 ? (uint32_t)p[1] << 8 : 0);

        out[0] = b64_digits[v >> 18];
        out[1] = b64_digits[v >> 12 & 63];
        out[2] = len == 2 ? b64_digits[v >> 6 & 63] : '=';
        out[3] = '=';
    }
}

/* The value of each Base64 digit, -1 for any other byte: a table, as the
 * decoder runs over every byte of a 4 KiB plaintext or ciphertext. */
static const signed char b64_values[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
    -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

static int b64_value(unsigned char c)
{
    return b64_values[c];
}

/* Unused low bits before the padding are ignored, as the Java and Go
 * decoders used by the real services do. */
int crypto_unb64(const char *in, size_t len, unsigned char *out,
                 size_t *outlen, const char **err)
{
    const unsigned char *q = (const unsigned char *)in;
    size_t n = 0;

    if (len % 4 != 0)
        return fail(err, "invalid base64");
    for (size_t i = 0; i < len; i += 4, q += 4) {
        /* '=' may only end the last quantum, as "x=" or "==" */
        int pad = i + 4 < len ? 0 : (q[3] == '=') + (q[2] == '=' && q[3] == '=');
        int a = b64_value(q[0]), b = b64_value(q[1]);
        int c = pad < 2 ? b64_value(q[2]) : 0;
        int d = pad < 1 ? b64_value(q[3]) : 0;

        if ((a | b | c | d) < 0)
            return fail(err, "invalid base64");
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        out[n++] = (unsigned char)(v >> 16);
        if (pad < 2)
            out[n++] = (unsigned char)(v >> 8);
        if (pad < 1)
            out[n++] = (unsigned char)v;
    }
    *outlen = n;
    return 0;
}

static int cipher_lookup(const char *name, int aead, const char **err)
{
    if (crypto_init(err) < 0)
        return -1;
    for (size_t i = 0; i < COUNT(cipher_specs); i++)
        if (strcmp(name, cipher_specs[i].name) == 0 && cipher_algs[i] != NULL
            && (cipher_specs[i].mode == MODE_AEAD) == aead)
            return (int)i;
    return fail(err, "unsupported cipher");
}

static EVP_CIPHER_CTX *cipher_start(int i, const void *key, size_t keylen,
                                    const void *iv, size_t ivlen, int encrypt,
                                    const char **err)
{
    const EVP_CIPHER *cipher = cipher_algs[i];
    EVP_CIPHER_CTX *ctx;

    if (keylen != (size_t)EVP_CIPHER_get_key_length(cipher)) {
        fail(err, "invalid key length");
        return NULL;
    }
    if (ivlen != (size_t)EVP_CIPHER_get_iv_length(cipher)
        && !(cipher_specs[i].mode == MODE_WRAP && ivlen == 0)) {
        fail(err, "invalid iv length");
        return NULL;
    }
    if ((ctx = EVP_CIPHER_CTX_new()) == NULL) {
        fail(err, "cipher setup failed");
        return NULL;
    }
    /* Wrap modes must be allowed explicitly and take no padding setting. */
    if (cipher_specs[i].mode == MODE_WRAP)
        EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    if (!EVP_CipherInit_ex2(ctx, cipher, key, ivlen ? iv : NULL, encrypt, NULL)
        || (cipher_specs[i].mode != MODE_WRAP
            && !EVP_CIPHER_CTX_set_padding(ctx, cipher_specs[i].mode == MODE_PADDED))) {
        EVP_CIPHER_CTX_free(ctx);
        fail(err, "cipher setup failed");
        return NULL;
    }
    return ctx;
}

/* EVP counts in int; feed larger inputs in pieces so any size_t works.
 * out == NULL passes AAD. */
static int cipher_update(EVP_CIPHER_CTX *ctx, unsigned char *out,
                         size_t *outlen, const unsigned char *in, size_t inlen)
{
    size_t total = 0;

    while (inlen > 0) {
        int chunk = inlen > (1u << 30) ? 1 << 30 : (int)inlen, n;

        if (!EVP_CipherUpdate(ctx, out ? out + total : NULL, &n, in, chunk))
            return 0;
        total += (size_t)n;
        in += chunk;
        inlen -= (size_t)chunk;
    }
    if (outlen != NULL)
        *outlen = total;
    return 1;
}

int crypto_aead_seal(const char *cipher, const void *key, size_t keylen,
                     const void *iv, size_t ivlen,
                     const void *in, size_t inlen,
                     const void *aad, size_t aadlen,
                     unsigned char *out, unsigned char *tag, const char **err)
{
    int i = cipher_lookup(cipher, 1, err), rc = -1, n;
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char tail[CRYPTO_MAX_BLOCK];  /* GCM's final step emits nothing */
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag,
                                          CRYPTO_TAG_LEN),
        OSSL_PARAM_construct_end(),
    };

    if (i < 0 || (ctx = cipher_start(i, key, keylen, iv, ivlen, 1, err)) == NULL)
        return -1;
    if (!cipher_update(ctx, NULL, NULL, aad, aadlen)
        || !cipher_update(ctx, out, NULL, in, inlen)
        || !EVP_EncryptFinal_ex(ctx, tail, &n)
        || !EVP_CIPHER_CTX_get_params(ctx, params)) {
        fail(err, "encryption failed");
        goto done;
    }
    rc = 0;
done:
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

int crypto_aead_open(const char *cipher, const void *key, size_t keylen,
                     const void *iv, size_t ivlen,
                     const void *in, size_t inlen,
                     const void *aad, size_t aadlen,
                     const void *tag, size_t taglen,
                     unsigned char *out, const char **err)
{
    int i = cipher_lookup(cipher, 1, err), rc = -1, n;
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char tail[CRYPTO_MAX_BLOCK];
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG,
                                          (void *)tag, CRYPTO_TAG_LEN),
        OSSL_PARAM_construct_end(),
    };

    if (i < 0)
        return -1;
    if (taglen != CRYPTO_TAG_LEN)
        return fail(err, "invalid tag length");
    if ((ctx = cipher_start(i, key, keylen, iv, ivlen, 0, err)) == NULL)
        return -1;
    if (!cipher_update(ctx, NULL, NULL, aad, aadlen)
        || !cipher_update(ctx, out, NULL, in, inlen)
        || !EVP_CIPHER_CTX_set_params(ctx, params)
        || !EVP_DecryptFinal_ex(ctx, tail, &n)) {
        /* Never let unauthenticated plaintext reach the caller. */
        OPENSSL_cleanse(out, inlen);
        fail(err, "authentication failed");
        goto done;
    }
    rc = 0;
done:
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

int crypto_cipher(const char *cipher, const void *key, size_t keylen,
                  const void *iv, size_t ivlen,
                  const void *in, size_t inlen, int encrypt,
                  unsigned char *out, size_t *outlen, const char **err)
{
    int i = cipher_lookup(cipher, 0, err), rc = -1, n;
    EVP_CIPHER_CTX *ctx = NULL;
    size_t len;

    if (i < 0 || (ctx = cipher_start(i, key, keylen, iv, ivlen, encrypt, err)) == NULL)
        return -1;
    if (!cipher_update(ctx, out, &len, in, inlen)
        || !EVP_CipherFinal_ex(ctx, out + len, &n)) {
        OPENSSL_cleanse(out, inlen);
        fail(err, encrypt ? "encryption failed (input length?)"
                          : "decryption failed (bad padding or length)");
        goto done;
    }
    *outlen = len + (size_t)n;
    rc = 0;
done:
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

static const struct {
    const char *kind, *type, *curve;
    size_t bits;
    int nid;  /* of the curve */
} keygen_specs[] = {
    {"rsa2048", "RSA", NULL, 2048, NID_undef},
    {"rsa3072", "RSA", NULL, 3072, NID_undef},
    {"rsa4096", "RSA", NULL, 4096, NID_undef},
    {"ec-p256", "EC", "P-256", 0, NID_X9_62_prime256v1},
    {"ec-p384", "EC", "P-384", 0, NID_secp384r1},
    {"ec-secp256k1", "EC", "secp256k1", 0, NID_secp256k1},
    {"ec-p521", "EC", "P-521", 0, NID_secp521r1},
    {"sm2", "SM2", NULL, 0, NID_sm2},
};

static int pem_export(EVP_PKEY *pkey, int private, char **out, size_t *outlen)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data;
    long n;
    int ok = 0;

    if (bio == NULL)
        return 0;
    if (private ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)
                : PEM_write_bio_PUBKEY(bio, pkey)) {
        n = BIO_get_mem_data(bio, &data);
        if (n > 0 && (*out = OPENSSL_memdup(data, (size_t)n)) != NULL) {
            *outlen = (size_t)n;
            ok = 1;
        }
    }
    BIO_free(bio);  /* not cleansed: these keys are emulator test keys */
    return ok;
}

int crypto_pkey_generate(const char *kind,
                         char **priv, size_t *privlen,
                         char **pub, size_t *publen, const char **err)
{
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    size_t i;
    int rc = -1;

    if (crypto_init(err) < 0)
        return -1;
    for (i = 0; i < COUNT(keygen_specs); i++)
        if (strcmp(kind, keygen_specs[i].kind) == 0)
            break;
    if (i == COUNT(keygen_specs))
        return fail(err, "unsupported key kind");

    size_t bits = keygen_specs[i].bits;
    OSSL_PARAM params[2] = {OSSL_PARAM_construct_end(), OSSL_PARAM_construct_end()};
    if (bits != 0)
        params[0] = OSSL_PARAM_construct_size_t(OSSL_PKEY_PARAM_RSA_BITS, &bits);
    else if (keygen_specs[i].curve != NULL)
        params[0] = OSSL_PARAM_construct_utf8_string(
            OSSL_PKEY_PARAM_GROUP_NAME, (char *)keygen_specs[i].curve, 0);

    *priv = *pub = NULL;
    if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, keygen_specs[i].type, NULL)) == NULL
        || EVP_PKEY_keygen_init(ctx) <= 0
        || !EVP_PKEY_CTX_set_params(ctx, params)
        || EVP_PKEY_generate(ctx, &pkey) <= 0) {
        fail(err, "key generation failed");
        goto done;
    }
    if (!pem_export(pkey, 1, priv, privlen) || !pem_export(pkey, 0, pub, publen)) {
        OPENSSL_free(*priv);
        *priv = NULL;
        fail(err, "key export failed");
        goto done;
    }
    rc = 0;
done:
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

/* Accepts any PEM form OpenSSL decodes (PKCS#8, SPKI, PKCS#1, SEC1). */
static EVP_PKEY *pkey_load(const char *pem, size_t pemlen, int private,
                           const char **err)
{
    EVP_PKEY *pkey = NULL;
    const unsigned char *p = (const unsigned char *)pem;
    OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(
        &pkey, "PEM", NULL, NULL, private ? EVP_PKEY_KEYPAIR : 0, NULL, NULL);

    if (dctx == NULL || !OSSL_DECODER_from_data(dctx, &p, &pemlen)) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
        fail(err, private ? "invalid private key" : "invalid key");
    }
    OSSL_DECODER_CTX_free(dctx);
    return pkey;
}

int crypto_pkey_public_der(const char *pem, size_t pemlen,
                           unsigned char **der, size_t *derlen,
                           const char **err)
{
    EVP_PKEY *pkey;
    int n, rc = -1;

    if (crypto_init(err) < 0 || (pkey = pkey_load(pem, pemlen, 0, err)) == NULL)
        return -1;
    *der = NULL;
    if ((n = i2d_PUBKEY(pkey, der)) <= 0) {
        fail(err, "public key export failed");
        goto done;
    }
    *derlen = (size_t)n;
    rc = 0;
done:
    EVP_PKEY_free(pkey);
    return rc;
}

static const struct {
    const char *name, *keytype, *pad, *md;
} padding_specs[] = {
    {"rsa-pkcs1", "RSA", OSSL_PKEY_RSA_PAD_MODE_PKCSV15, NULL},
    {"rsa-oaep-sha1", "RSA", OSSL_PKEY_RSA_PAD_MODE_OAEP, "SHA1"},
    {"rsa-oaep-sha256", "RSA", OSSL_PKEY_RSA_PAD_MODE_OAEP, "SHA2-256"},
    {"sm2", "SM2", NULL, NULL},
};

/* The parameters of padding_specs[i] into params (4 entries). */
static void padding_params(size_t i, OSSL_PARAM *params)
{
    OSSL_PARAM *p = params;

    if (padding_specs[i].pad != NULL)
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE,
                                                (char *)padding_specs[i].pad, 0);
    if (padding_specs[i].md != NULL) {
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST,
                                                (char *)padding_specs[i].md, 0);
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST,
                                                (char *)padding_specs[i].md, 0);
    }
    *p = OSSL_PARAM_construct_end();
}

static int pkey_crypt(int decrypt, const char *pem, size_t pemlen,
                      const char *padding, const void *in, size_t inlen,
                      unsigned char **out, size_t *outlen, const char **err)
{
    int (*init)(EVP_PKEY_CTX *, const OSSL_PARAM *) =
        decrypt ? EVP_PKEY_decrypt_init_ex : EVP_PKEY_encrypt_init_ex;
    int (*op)(EVP_PKEY_CTX *, unsigned char *, size_t *, const unsigned char *, size_t) =
        decrypt ? EVP_PKEY_decrypt : EVP_PKEY_encrypt;
    const char *failed = decrypt ? "decryption failed" : "encryption failed";
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    unsigned char *buf = NULL;
    OSSL_PARAM params[4];
    size_t i, cap = 0, n;
    int rc = -1;

    if (crypto_init(err) < 0)
        return -1;
    for (i = 0; i < COUNT(padding_specs); i++)
        if (strcmp(padding, padding_specs[i].name) == 0)
            break;
    if (i == COUNT(padding_specs))
        return fail(err, "unsupported padding");
    padding_params(i, params);
    if ((pkey = pkey_load(pem, pemlen, decrypt, err)) == NULL)
        goto done;
    if (!EVP_PKEY_is_a(pkey, padding_specs[i].keytype)) {
        fail(err, "key type does not match padding");
        goto done;
    }
    /* The first op() only sizes the output: the key size for RSA, the
     * decoded ciphertext for SM2. */
    if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL
        || init(ctx, params) <= 0
        || op(ctx, NULL, &cap, nz(in), inlen) <= 0
        || (buf = OPENSSL_malloc(cap > 0 ? cap : 1)) == NULL) {
        fail(err, failed);
        goto done;
    }
    n = cap;
    if (op(ctx, buf, &n, nz(in), inlen) <= 0) {
        fail(err, failed);
        goto done;
    }
    *out = buf;
    *outlen = n;
    buf = NULL;
    rc = 0;
done:
    OPENSSL_clear_free(buf, cap);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    return rc;
}

int crypto_pkey_encrypt(const char *pem, size_t pemlen, const char *padding,
                        const void *in, size_t inlen,
                        unsigned char **out, size_t *outlen, const char **err)
{
    return pkey_crypt(0, pem, pemlen, padding, in, inlen, out, outlen, err);
}

int crypto_pkey_decrypt(const char *pem, size_t pemlen, const char *padding,
                        const void *in, size_t inlen,
                        unsigned char **out, size_t *outlen, const char **err)
{
    return pkey_crypt(1, pem, pemlen, padding, in, inlen, out, outlen, err);
}

/* ---- deterministic keys ---- */

#define DERIVE_RSA_E 65537
#define DERIVE_MAX_BYTES 256  /* a prime of a 4096-bit modulus */
#define DERIVE_MAX_COUNTER 1000  /* never reached; bounds a broken search */

static int derive_bytes(const char *kind, const char *part, unsigned counter,
                        const void *seed, size_t seedlen,
                        unsigned char *out, size_t n, const char **err)
{
    char info[64];
    int len = snprintf(info, sizeof(info), "kmsemu-derive/%s/%s/%u",
                       kind, part, counter);

    if (len < 0 || (size_t)len >= sizeof(info))
        return fail(err, "key derivation failed");
    return crypto_hkdf("sha256", seed, seedlen, NULL, 0, info, (size_t)len,
                       out, n, err);
}

/* Sets p to the prime of crypto.h's RSA rule, nbits (a multiple of 8) long,
 * kept away from other when that is not NULL. */
static int derive_prime(const char *kind, const char *part,
                        const void *seed, size_t seedlen, int nbits,
                        const BIGNUM *other, BIGNUM *p, BN_CTX *bnctx,
                        const char **err)
{
    unsigned char buf[DERIVE_MAX_BYTES];
    size_t nbytes = (size_t)nbits / 8;
    BIGNUM *diff = BN_CTX_get(bnctx);
    int rc = -1, r;

    if (diff == NULL || nbytes > sizeof(buf))
        return fail(err, "key derivation failed");
    for (unsigned counter = 0; counter < DERIVE_MAX_COUNTER; counter++) {
        if (derive_bytes(kind, part, counter, seed, seedlen, buf, nbytes, err) < 0)
            goto done;
        buf[0] |= 0xc0;
        buf[nbytes - 1] |= 1;
        if (BN_bin2bn(buf, (int)nbytes, p) == NULL)
            goto failed;
        for (r = 0; r == 0 && BN_num_bits(p) == nbits;) {
            BN_ULONG m = BN_mod_word(p, DERIVE_RSA_E);

            if (m == (BN_ULONG)-1)
                goto failed;
            if (m != 1 && (r = BN_check_prime(p, bnctx, NULL)) < 0)
                goto failed;
            if (r == 0 && !BN_add_word(p, 2))
                goto failed;
        }
        if (r == 0)
            continue;  /* carried past the top bit */
        if (other != NULL) {
            if (!BN_sub(diff, p, other))
                goto failed;
            BN_set_negative(diff, 0);
            if (BN_num_bits(diff) <= nbits - 100)
                continue;
        }
        rc = 0;
        goto done;
    }
failed:
    fail(err, "key derivation failed");
done:
    OPENSSL_cleanse(buf, sizeof(buf));
    return rc;
}

/* A key pair of type from the parameters in bld, or NULL. The
 * parameters come from secure BIGNUMs, and freeing them clears them. */
static EVP_PKEY *pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;

    if (params != NULL
        && (ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) != NULL
        && EVP_PKEY_fromdata_init(ctx) > 0)
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

static EVP_PKEY *derive_rsa(const char *kind, int bits,
                            const void *seed, size_t seedlen, const char **err)
{
    BN_CTX *bnctx = BN_CTX_secure_new();
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *pkey = NULL;
    BIGNUM *p, *q, *n, *e, *d, *p1, *q1, *lcm, *dmp1, *dmq1, *iqmp;

    if (bnctx == NULL)
        goto failed;
    BN_CTX_start(bnctx);
    p = BN_CTX_get(bnctx);
    q = BN_CTX_get(bnctx);
    n = BN_CTX_get(bnctx);
    e = BN_CTX_get(bnctx);
    d = BN_CTX_get(bnctx);
    p1 = BN_CTX_get(bnctx);
    q1 = BN_CTX_get(bnctx);
    lcm = BN_CTX_get(bnctx);
    dmp1 = BN_CTX_get(bnctx);
    dmq1 = BN_CTX_get(bnctx);
    if ((iqmp = BN_CTX_get(bnctx)) == NULL)  /* NULL once, NULL after */
        goto failed;
    if (derive_prime(kind, "p", seed, seedlen, bits / 2, NULL, p, bnctx, err) < 0
        || derive_prime(kind, "q", seed, seedlen, bits / 2, p, q, bnctx, err) < 0)
        goto done;
    if (!BN_set_word(e, DERIVE_RSA_E)
        || !BN_mul(n, p, q, bnctx)
        || !BN_sub(p1, p, BN_value_one())
        || !BN_sub(q1, q, BN_value_one())
        || !BN_gcd(lcm, p1, q1, bnctx)
        || !BN_div(lcm, NULL, p1, lcm, bnctx)
        || !BN_mul(lcm, lcm, q1, bnctx)
        || BN_mod_inverse(d, e, lcm, bnctx) == NULL
        || !BN_mod(dmp1, d, p1, bnctx)
        || !BN_mod(dmq1, d, q1, bnctx)
        || BN_mod_inverse(iqmp, q, p, bnctx) == NULL)
        goto failed;
    if ((bld = OSSL_PARAM_BLD_new()) == NULL
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n)
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d)
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, p)
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, q)
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, dmp1)
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, dmq1)
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, iqmp)
        || (pkey = pkey_fromdata("RSA", bld)) == NULL)
        goto failed;
    goto done;
failed:
    fail(err, "key derivation failed");
done:
    OSSL_PARAM_BLD_free(bld);
    if (bnctx != NULL)
        BN_CTX_end(bnctx);
    BN_CTX_free(bnctx);  /* a secure context: its numbers are cleared */
    return pkey;
}

static EVP_PKEY *derive_ec(const char *kind, const char *type, int nid,
                           const void *seed, size_t seedlen, const char **err)
{
    unsigned char buf[DERIVE_MAX_BYTES], pub[1 + 2 * 66];
    EC_GROUP *group = EC_GROUP_new_by_curve_name_ex(NULL, NULL, nid);
    BN_CTX *bnctx = BN_CTX_secure_new();
    EC_POINT *point = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *pkey = NULL;
    BIGNUM *d, *range;
    size_t nbytes, publen;

    if (group == NULL || bnctx == NULL)
        goto failed;
    BN_CTX_start(bnctx);
    d = BN_CTX_get(bnctx);
    if ((range = BN_CTX_get(bnctx)) == NULL)
        goto failed;
    nbytes = (size_t)BN_num_bytes(EC_GROUP_get0_order(group)) + 8;
    if (nbytes > sizeof(buf))
        goto failed;
    if (derive_bytes(kind, "d", 0, seed, seedlen, buf, nbytes, err) < 0)
        goto done;
    if (BN_bin2bn(buf, (int)nbytes, d) == NULL
        || !BN_copy(range, EC_GROUP_get0_order(group))
        || !BN_sub_word(range, nid == NID_sm2 ? 2 : 1)
        || !BN_mod(d, d, range, bnctx)
        || !BN_add_word(d, 1)
        || (point = EC_POINT_new(group)) == NULL
        || !EC_POINT_mul(group, point, d, NULL, NULL, bnctx)
        || (publen = EC_POINT_point2oct(group, point, POINT_CONVERSION_UNCOMPRESSED,
                                        pub, sizeof(pub), bnctx)) == 0)
        goto failed;
    if ((bld = OSSL_PARAM_BLD_new()) == NULL
        || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                            OBJ_nid2sn(nid), 0)
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d)
        || !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                             pub, publen)
        || (pkey = pkey_fromdata(type, bld)) == NULL)
        goto failed;
    goto done;
failed:
    fail(err, "key derivation failed");
done:
    OPENSSL_cleanse(buf, sizeof(buf));
    OSSL_PARAM_BLD_free(bld);
    EC_POINT_free(point);
    if (bnctx != NULL)
        BN_CTX_end(bnctx);
    BN_CTX_free(bnctx);
    EC_GROUP_free(group);
    return pkey;
}

static EVP_PKEY *derive_ed25519(const void *seed, size_t seedlen,
                                const char **err)
{
    unsigned char raw[32];
    EVP_PKEY *pkey = NULL;

    if (derive_bytes("ed25519", "d", 0, seed, seedlen, raw, sizeof(raw), err) < 0)
        return NULL;
    pkey = EVP_PKEY_new_raw_private_key_ex(NULL, "ED25519", NULL, raw, sizeof(raw));
    OPENSSL_cleanse(raw, sizeof(raw));
    if (pkey == NULL)
        fail(err, "key derivation failed");
    return pkey;
}

int crypto_pkey_derive(const char *kind, const void *seed, size_t seedlen,
                       char **priv, size_t *privlen, const char **err)
{
    EVP_PKEY *pkey;
    size_t i;
    int rc = -1;

    if (crypto_init(err) < 0)
        return -1;
    seed = nz(seed);
    if (strcmp(kind, "ed25519") == 0) {
        pkey = derive_ed25519(seed, seedlen, err);
    } else {
        for (i = 0; i < COUNT(keygen_specs); i++)
            if (strcmp(kind, keygen_specs[i].kind) == 0)
                break;
        if (i == COUNT(keygen_specs))
            return fail(err, "unsupported key kind");
        pkey = keygen_specs[i].bits != 0
            ? derive_rsa(kind, (int)keygen_specs[i].bits, seed, seedlen, err)
            : derive_ec(kind, keygen_specs[i].type, keygen_specs[i].nid,
                        seed, seedlen, err);
    }
    if (pkey == NULL)
        return -1;
    *priv = NULL;
    if (!pem_export(pkey, 1, priv, privlen)) {
        fail(err, "key export failed");
        goto done;
    }
    rc = 0;
done:
    EVP_PKEY_free(pkey);
    return rc;
}

/* ---- key inspection and conversion ---- */

/* Whether the key holds its private half; no error is left behind. */
static int pkey_has_private(EVP_PKEY *pkey)
{
    BIGNUM *bn = NULL;
    size_t len = 0;
    int ok;

    ERR_set_mark();
    if (EVP_PKEY_is_a(pkey, "ED25519"))
        ok = EVP_PKEY_get_raw_private_key(pkey, NULL, &len) == 1 && len > 0;
    else
        ok = EVP_PKEY_get_bn_param(pkey, EVP_PKEY_is_a(pkey, "RSA")
                                             ? OSSL_PKEY_PARAM_RSA_D
                                             : OSSL_PKEY_PARAM_PRIV_KEY, &bn)
             && bn != NULL;
    BN_clear_free(bn);
    ERR_pop_to_mark();
    return ok;
}

/* The curve of an EC or SM2 key, NID_undef for anything else. */
static int pkey_curve(EVP_PKEY *pkey)
{
    char name[64];
    int nid = NID_undef;

    ERR_set_mark();
    if ((EVP_PKEY_is_a(pkey, "EC") || EVP_PKEY_is_a(pkey, "SM2"))
        && EVP_PKEY_get_group_name(pkey, name, sizeof(name), NULL)) {
        if ((nid = OBJ_sn2nid(name)) == NID_undef)
            nid = EC_curve_nist2nid(name);
    }
    ERR_pop_to_mark();
    return nid;
}

int crypto_pkey_info(const char *pem, size_t pemlen, crypto_key_info *info,
                     const char **err)
{
    EVP_PKEY *pkey;
    int nid, rc = -1;

    if (crypto_init(err) < 0 || (pkey = pkey_load(pem, pemlen, 0, err)) == NULL)
        return -1;
    memset(info, 0, sizeof(*info));
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        info->bits = (size_t)EVP_PKEY_get_bits(pkey);
        snprintf(info->kind, sizeof(info->kind), "rsa%zu", info->bits);
    } else if (EVP_PKEY_is_a(pkey, "ED25519")) {
        info->bits = 256;  /* the key size; OpenSSL counts 253 */
        strcpy(info->kind, "ed25519");
    } else if ((nid = pkey_curve(pkey)) != NID_undef) {
        for (size_t i = 0; i < COUNT(keygen_specs); i++)
            if (keygen_specs[i].nid == nid && EVP_PKEY_is_a(pkey, keygen_specs[i].type))
                strcpy(info->kind, keygen_specs[i].kind);
        info->bits = (size_t)EVP_PKEY_get_bits(pkey);
    }
    if (info->kind[0] == '\0' || info->bits == 0) {
        fail(err, "unsupported key kind");
        goto done;
    }
    info->private = pkey_has_private(pkey);
    rc = 0;
done:
    EVP_PKEY_free(pkey);
    return rc;
}

int crypto_pkey_public_pem(const char *pem, size_t pemlen,
                           char **out, size_t *outlen, const char **err)
{
    EVP_PKEY *pkey;
    int rc = 0;

    if (crypto_init(err) < 0 || (pkey = pkey_load(pem, pemlen, 0, err)) == NULL)
        return -1;
    *out = NULL;
    if (!pem_export(pkey, 0, out, outlen))
        rc = fail(err, "public key export failed");
    EVP_PKEY_free(pkey);
    return rc;
}

int crypto_pkey_private_der(const char *pem, size_t pemlen,
                            unsigned char **der, size_t *derlen,
                            const char **err)
{
    OSSL_ENCODER_CTX *ectx = NULL;
    EVP_PKEY *pkey;
    int rc = -1;

    if (crypto_init(err) < 0 || (pkey = pkey_load(pem, pemlen, 1, err)) == NULL)
        return -1;
    *der = NULL;
    if ((ectx = OSSL_ENCODER_CTX_new_for_pkey(pkey, EVP_PKEY_KEYPAIR, "DER",
                                              "PrivateKeyInfo", NULL)) == NULL
        || OSSL_ENCODER_CTX_get_num_encoders(ectx) == 0
        || !OSSL_ENCODER_to_data(ectx, der, derlen)) {
        OPENSSL_free(*der);
        *der = NULL;
        fail(err, "private key export failed");
        goto done;
    }
    rc = 0;
done:
    OSSL_ENCODER_CTX_free(ectx);
    EVP_PKEY_free(pkey);
    return rc;
}

/* One DER structure, all of the input, or NULL. */
static EVP_PKEY *der_load(const void *der, size_t derlen, const char *structure,
                          int selection)
{
    EVP_PKEY *pkey = NULL;
    const unsigned char *p = der;
    size_t left = derlen;
    OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(
        &pkey, "DER", structure, NULL, selection, NULL, NULL);

    if (dctx == NULL || !OSSL_DECODER_from_data(dctx, &p, &left) || left != 0) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    OSSL_DECODER_CTX_free(dctx);
    return pkey;
}

int crypto_pkey_from_der(const void *der, size_t derlen,
                         char **pem, size_t *pemlen, const char **err)
{
    EVP_PKEY *pkey;
    int private = 1, rc = 0;

    if (crypto_init(err) < 0)
        return -1;
    if (derlen == 0)
        return fail(err, "invalid key");
    if ((pkey = der_load(der, derlen, "PrivateKeyInfo", EVP_PKEY_KEYPAIR)) == NULL) {
        private = 0;
        pkey = der_load(der, derlen, "SubjectPublicKeyInfo", EVP_PKEY_PUBLIC_KEY);
    }
    if (pkey == NULL)
        return fail(err, "invalid key");
    ERR_clear_error();  /* the failed PrivateKeyInfo attempt */
    *pem = NULL;
    if (!pem_export(pkey, private, pem, pemlen))
        rc = fail(err, "key export failed");
    EVP_PKEY_free(pkey);
    return rc;
}

int crypto_pkey_derive_shared(const char *pem, size_t pemlen,
                              const void *peer, size_t peerlen,
                              unsigned char **out, size_t *outlen,
                              const char **err)
{
    EVP_PKEY *pkey = NULL, *pub = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    size_t n = 0;
    int rc = -1;

    if (crypto_init(err) < 0 || (pkey = pkey_load(pem, pemlen, 1, err)) == NULL)
        return -1;
    *out = NULL;
    /* The peer key: SubjectPublicKeyInfo DER, else any PEM public key. */
    if (peerlen == 0
        || ((pub = der_load(peer, peerlen, "SubjectPublicKeyInfo",
                            EVP_PKEY_PUBLIC_KEY)) == NULL
            && (pub = pkey_load(peer, peerlen, 0, err)) == NULL)) {
        fail(err, "invalid peer public key");
        goto done;
    }
    ERR_clear_error();
    if (EVP_PKEY_parameters_eq(pkey, pub) != 1) {
        fail(err, "peer key type or curve differs");
        goto done;
    }
    if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL
        || EVP_PKEY_derive_init(ctx) <= 0) {
        fail(err, "key type does not support derivation");
        goto done;
    }
    if (EVP_PKEY_derive_set_peer(ctx, pub) <= 0
        || EVP_PKEY_derive(ctx, NULL, &n) <= 0 || n == 0
        || (*out = OPENSSL_malloc(n)) == NULL
        || EVP_PKEY_derive(ctx, *out, &n) <= 0) {
        OPENSSL_free(*out);
        *out = NULL;
        fail(err, "derivation failed");
        goto done;
    }
    *outlen = n;
    rc = 0;
done:
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pub);
    EVP_PKEY_free(pkey);
    return rc;
}

/* ---- signatures ---- */

#define SM2_DEFAULT_ID "1234567812345678"

enum { SIG_RSA_PSS, SIG_RSA_PKCS1, SIG_ECDSA, SIG_SM2, SIG_ED25519 };

static const struct {
    const char *name, *md;  /* md: a md_specs name, NULL for ed25519 */
    int scheme;
} sig_specs[] = {
    {"rsa-pss-sha256", "sha256", SIG_RSA_PSS},
    {"rsa-pss-sha384", "sha384", SIG_RSA_PSS},
    {"rsa-pss-sha512", "sha512", SIG_RSA_PSS},
    {"rsa-pkcs1-sha256", "sha256", SIG_RSA_PKCS1},
    {"rsa-pkcs1-sha384", "sha384", SIG_RSA_PKCS1},
    {"rsa-pkcs1-sha512", "sha512", SIG_RSA_PKCS1},
    {"ecdsa-sha256", "sha256", SIG_ECDSA},
    {"ecdsa-sha384", "sha384", SIG_ECDSA},
    {"ecdsa-sha512", "sha512", SIG_ECDSA},
    {"sm2-sm3", "sm3", SIG_SM2},
    {"ed25519", NULL, SIG_ED25519},
};

static const char *const sig_keytypes[] = {
    [SIG_RSA_PSS] = "RSA", [SIG_RSA_PKCS1] = "RSA", [SIG_ECDSA] = "EC",
    [SIG_SM2] = "SM2", [SIG_ED25519] = "ED25519",
};

/* Everything a signature operation needs, checked before any is done. */
typedef struct {
    EVP_PKEY *pkey;
    const EVP_MD *md;  /* NULL for ed25519 */
    int scheme;
    OSSL_PARAM params[5];
} sig_job;

static int sig_setup(sig_job *job, const char *pem, size_t pemlen,
                     const char *alg, size_t inlen, int is_digest, int private,
                     const char **err)
{
    size_t i;
    int m;

    job->pkey = NULL;
    if (crypto_init(err) < 0)
        return -1;
    for (i = 0; i < COUNT(sig_specs); i++)
        if (strcmp(alg, sig_specs[i].name) == 0)
            break;
    if (i == COUNT(sig_specs))
        return fail(err, "unsupported signature algorithm");
    job->scheme = sig_specs[i].scheme;
    job->md = NULL;
    if (sig_specs[i].md != NULL) {
        if ((m = md_lookup(sig_specs[i].md, err)) < 0)
            return -1;
        job->md = md_algs[m];
    }
    if (is_digest && job->md == NULL)
        return fail(err, "the algorithm does not take a digest");
    if (is_digest && inlen != (size_t)EVP_MD_get_size(job->md))
        return fail(err, "digest length does not match the algorithm");
    if ((job->pkey = pkey_load(pem, pemlen, private, err)) == NULL)
        return -1;
    if (!EVP_PKEY_is_a(job->pkey, sig_keytypes[job->scheme])) {
        EVP_PKEY_free(job->pkey);
        job->pkey = NULL;
        return fail(err, "key does not support the algorithm");
    }

    OSSL_PARAM *p = job->params;
    if (is_digest && job->scheme != SIG_SM2)
        *p++ = OSSL_PARAM_construct_utf8_string(
            OSSL_SIGNATURE_PARAM_DIGEST, (char *)EVP_MD_get0_name(job->md), 0);
    if (job->scheme == SIG_RSA_PSS) {
        *p++ = OSSL_PARAM_construct_utf8_string(
            OSSL_SIGNATURE_PARAM_PAD_MODE, OSSL_PKEY_RSA_PAD_MODE_PSS, 0);
        *p++ = OSSL_PARAM_construct_utf8_string(
            OSSL_SIGNATURE_PARAM_MGF1_DIGEST, (char *)EVP_MD_get0_name(job->md), 0);
        *p++ = OSSL_PARAM_construct_utf8_string(
            OSSL_SIGNATURE_PARAM_PSS_SALTLEN, OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST, 0);
    } else if (job->scheme == SIG_RSA_PKCS1) {
        *p++ = OSSL_PARAM_construct_utf8_string(
            OSSL_SIGNATURE_PARAM_PAD_MODE, OSSL_PKEY_RSA_PAD_MODE_PKCSV15, 0);
    }
    *p = OSSL_PARAM_construct_end();
    return 0;
}

/* A digest-and-sign context for a message, or a sign context for a digest
 * when mctx is NULL. */
static EVP_PKEY_CTX *sig_start(sig_job *job, EVP_MD_CTX *mctx, int sign)
{
    EVP_PKEY_CTX *pctx = NULL;
    const char *mdname = job->md != NULL ? EVP_MD_get0_name(job->md) : NULL;

    if (mctx != NULL) {
        if ((sign ? EVP_DigestSignInit_ex(mctx, &pctx, mdname, NULL, NULL,
                                          job->pkey, job->params)
                  : EVP_DigestVerifyInit_ex(mctx, &pctx, mdname, NULL, NULL,
                                            job->pkey, job->params)) <= 0)
            return NULL;
        if (job->scheme == SIG_SM2
            && EVP_PKEY_CTX_set1_id(pctx, SM2_DEFAULT_ID,
                                    sizeof(SM2_DEFAULT_ID) - 1) <= 0)
            return NULL;
        return pctx;  /* owned by mctx */
    }
    if ((pctx = EVP_PKEY_CTX_new_from_pkey(NULL, job->pkey, NULL)) == NULL
        || (sign ? EVP_PKEY_sign_init_ex(pctx, job->params)
                 : EVP_PKEY_verify_init_ex(pctx, job->params)) <= 0) {
        EVP_PKEY_CTX_free(pctx);
        return NULL;
    }
    return pctx;
}

int crypto_sign(const char *pem, size_t pemlen, const char *alg,
                const void *in, size_t inlen, int is_digest,
                unsigned char **sig, size_t *siglen, const char **err)
{
    sig_job job;
    EVP_MD_CTX *mctx = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char *buf = NULL;
    size_t n;
    int rc = -1, size;

    if (sig_setup(&job, pem, pemlen, alg, inlen, is_digest, 1, err) < 0)
        return -1;
    if ((size = EVP_PKEY_get_size(job.pkey)) <= 0
        || (buf = OPENSSL_malloc((size_t)size)) == NULL) {
        fail(err, "signing failed");
        goto done;
    }
    n = (size_t)size;
    if (is_digest) {
        if ((pctx = sig_start(&job, NULL, 1)) == NULL
            || EVP_PKEY_sign(pctx, buf, &n, in, inlen) <= 0) {
            fail(err, "signing failed");
            goto done;
        }
    } else if ((mctx = EVP_MD_CTX_new()) == NULL
               || sig_start(&job, mctx, 1) == NULL
               || EVP_DigestSign(mctx, buf, &n, nz(in), inlen) <= 0) {
        fail(err, "signing failed");
        goto done;
    }
    *sig = buf;
    *siglen = n;
    buf = NULL;
    rc = 0;
done:
    OPENSSL_free(buf);
    EVP_PKEY_CTX_free(pctx);
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_free(job.pkey);
    return rc;
}

int crypto_verify(const char *pem, size_t pemlen, const char *alg,
                  const void *in, size_t inlen, int is_digest,
                  const void *sig, size_t siglen, int *valid,
                  const char **err)
{
    sig_job job;
    EVP_MD_CTX *mctx = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    int rc = -1;

    if (sig_setup(&job, pem, pemlen, alg, inlen, is_digest, 0, err) < 0)
        return -1;
    if (is_digest) {
        if ((pctx = sig_start(&job, NULL, 0)) == NULL) {
            fail(err, "verification failed");
            goto done;
        }
        *valid = EVP_PKEY_verify(pctx, nz(sig), siglen, in, inlen) == 1;
    } else {
        if ((mctx = EVP_MD_CTX_new()) == NULL || sig_start(&job, mctx, 0) == NULL) {
            fail(err, "verification failed");
            goto done;
        }
        *valid = EVP_DigestVerify(mctx, nz(sig), siglen, nz(in), inlen) == 1;
    }
    ERR_clear_error();  /* a rejected signature is an answer, not an error */
    rc = 0;
done:
    EVP_PKEY_CTX_free(pctx);
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_free(job.pkey);
    return rc;
}

/* GM/T 0009 SM2Cipher, the form OpenSSL produces and consumes. */
typedef struct {
    ASN1_INTEGER *x;
    ASN1_INTEGER *y;
    ASN1_OCTET_STRING *hash;
    ASN1_OCTET_STRING *ciphertext;
} sm2_cipher;

ASN1_SEQUENCE(sm2_cipher) = {
    ASN1_SIMPLE(sm2_cipher, x, ASN1_INTEGER),
    ASN1_SIMPLE(sm2_cipher, y, ASN1_INTEGER),
    ASN1_SIMPLE(sm2_cipher, hash, ASN1_OCTET_STRING),
    ASN1_SIMPLE(sm2_cipher, ciphertext, ASN1_OCTET_STRING),
} static_ASN1_SEQUENCE_END(sm2_cipher)

IMPLEMENT_STATIC_ASN1_ALLOC_FUNCTIONS(sm2_cipher)
IMPLEMENT_STATIC_ASN1_ENCODE_FUNCTIONS(sm2_cipher)

#define SM2_COORD 32
#define SM2_HASH 32
#define SM2_RAW_MIN (1 + 2 * SM2_COORD + SM2_HASH)

/* DER drops leading zero bytes of a coordinate; the raw form does not. */
static int sm2_coord_get(const ASN1_INTEGER *ai, unsigned char *out)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(ai, NULL);
    int ok = bn != NULL && !BN_is_negative(bn)
             && BN_bn2binpad(bn, out, SM2_COORD) == SM2_COORD;

    BN_free(bn);
    return ok;
}

static int sm2_coord_set(ASN1_INTEGER *ai, const unsigned char *in)
{
    BIGNUM *bn = BN_bin2bn(in, SM2_COORD, NULL);
    int ok = bn != NULL && BN_to_ASN1_INTEGER(bn, ai) != NULL;

    BN_free(bn);
    return ok;
}

int crypto_sm2_der_to_raw(const void *der, size_t derlen,
                          unsigned char **raw, size_t *rawlen,
                          const char **err)
{
    const unsigned char *p = der;
    sm2_cipher *c = NULL;
    unsigned char *buf = NULL;
    size_t c2len;
    int rc = -1;

    if (derlen > LONG_MAX
        || (c = d2i_sm2_cipher(NULL, &p, (long)derlen)) == NULL
        || p != (const unsigned char *)der + derlen  /* trailing bytes */
        || ASN1_STRING_length(c->hash) != SM2_HASH) {
        fail(err, "invalid sm2 ciphertext");
        goto done;
    }
    c2len = (size_t)ASN1_STRING_length(c->ciphertext);
    if ((buf = OPENSSL_malloc(SM2_RAW_MIN + c2len)) == NULL) {
        fail(err, "out of memory");
        goto done;
    }
    buf[0] = 0x04;  /* uncompressed point */
    if (!sm2_coord_get(c->x, buf + 1) || !sm2_coord_get(c->y, buf + 1 + SM2_COORD)) {
        fail(err, "invalid sm2 ciphertext");
        goto done;
    }
    memcpy(buf + 1 + 2 * SM2_COORD, ASN1_STRING_get0_data(c->hash), SM2_HASH);
    memcpy(buf + SM2_RAW_MIN, ASN1_STRING_get0_data(c->ciphertext), c2len);
    *raw = buf;
    *rawlen = SM2_RAW_MIN + c2len;
    buf = NULL;
    rc = 0;
done:
    OPENSSL_free(buf);
    sm2_cipher_free(c);
    return rc;
}

int crypto_sm2_raw_to_der(const void *raw, size_t rawlen,
                          unsigned char **der, size_t *derlen,
                          const char **err)
{
    const unsigned char *p = raw;
    sm2_cipher *c = NULL;
    int n, rc = -1;

    if (rawlen < SM2_RAW_MIN || p[0] != 0x04 || rawlen - SM2_RAW_MIN > INT_MAX)
        return fail(err, "invalid sm2 ciphertext");
    *der = NULL;
    if ((c = sm2_cipher_new()) == NULL
        || !sm2_coord_set(c->x, p + 1)
        || !sm2_coord_set(c->y, p + 1 + SM2_COORD)
        || !ASN1_OCTET_STRING_set(c->hash, p + 1 + 2 * SM2_COORD, SM2_HASH)
        || !ASN1_OCTET_STRING_set(c->ciphertext, p + SM2_RAW_MIN,
                                  (int)(rawlen - SM2_RAW_MIN))
        || (n = i2d_sm2_cipher(c, der)) <= 0) {
        fail(err, "sm2 encoding failed");
        goto done;
    }
    *derlen = (size_t)n;
    rc = 0;
done:
    sm2_cipher_free(c);
    return rc;
}

/* a || b || xG || yG || xA || yA of an SM2 key, each SM2_COORD bytes. */
static int sm2_coords(EVP_PKEY *pkey, unsigned char *coords)
{
    EC_GROUP *group = EC_GROUP_new_by_curve_name_ex(NULL, NULL, NID_sm2);
    BN_CTX *bnctx = BN_CTX_new();
    BIGNUM *v[6] = {NULL};
    int ok = 0;

    if (group == NULL || bnctx == NULL)
        goto done;
    BN_CTX_start(bnctx);
    for (size_t i = 0; i < 4; i++)
        v[i] = BN_CTX_get(bnctx);
    if (v[3] == NULL
        || !EC_GROUP_get_curve(group, NULL, v[0], v[1], bnctx)
        || !EC_POINT_get_affine_coordinates(group, EC_GROUP_get0_generator(group),
                                            v[2], v[3], bnctx)
        || !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &v[4])
        || !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &v[5]))
        goto done;
    ok = 1;
    for (size_t i = 0; i < 6; i++)
        ok &= BN_bn2binpad(v[i], coords + i * SM2_COORD, SM2_COORD) == SM2_COORD;
done:
    BN_free(v[4]);
    BN_free(v[5]);
    if (bnctx != NULL)
        BN_CTX_end(bnctx);
    BN_CTX_free(bnctx);
    EC_GROUP_free(group);
    return ok;
}

/* GB/T 32918.2 section 5.5: ENTL || ID || a || b || xG || yG || xA || yA. */
int crypto_sm2_za(const char *pem, size_t pemlen, const void *msg,
                  size_t msglen, unsigned char *out, const char **err)
{
    static const unsigned char entl[2] = {0, 8 * (sizeof(SM2_DEFAULT_ID) - 1)};
    unsigned char coords[6 * SM2_COORD], z[CRYPTO_SM3_LEN];
    EVP_PKEY *pkey = NULL;
    EVP_MD_CTX *mctx = NULL;
    int m = md_lookup("sm3", err), rc = -1;

    if (m < 0 || (pkey = pkey_load(pem, pemlen, 0, err)) == NULL)
        return -1;
    if (!EVP_PKEY_is_a(pkey, "SM2") || pkey_curve(pkey) != NID_sm2) {
        fail(err, "key does not support the algorithm");
        goto done;
    }
    if (!sm2_coords(pkey, coords)
        || (mctx = EVP_MD_CTX_new()) == NULL
        || !EVP_DigestInit_ex2(mctx, md_algs[m], NULL)
        || !EVP_DigestUpdate(mctx, entl, sizeof(entl))
        || !EVP_DigestUpdate(mctx, SM2_DEFAULT_ID, sizeof(SM2_DEFAULT_ID) - 1)
        || !EVP_DigestUpdate(mctx, coords, sizeof(coords))
        || !EVP_DigestFinal_ex(mctx, z, NULL)
        || !EVP_DigestInit_ex2(mctx, md_algs[m], NULL)
        || !EVP_DigestUpdate(mctx, z, sizeof(z))
        || !EVP_DigestUpdate(mctx, nz(msg), msglen)
        || !EVP_DigestFinal_ex(mctx, out, NULL)) {
        fail(err, "sm2 digest failed");
        goto done;
    }
    rc = 0;
done:
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_free(pkey);
    return rc;
}

int crypto_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    return alen == blen && CRYPTO_memcmp(nz(a), nz(b), alen) == 0;
}
