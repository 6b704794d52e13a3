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
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
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

enum { MODE_AEAD, MODE_PADDED, MODE_UNPADDED };

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
};

/* Written only inside init_once(); read-only afterwards. */
static EVP_MD *md_algs[COUNT(md_specs)];
static EVP_CIPHER *cipher_algs[COUNT(cipher_specs)];
static EVP_MAC *hmac_alg;
static EVP_KDF *hkdf_alg;
static crypto_algorithm probe[COUNT(cipher_specs) + 2];
static pthread_key_t hmac_key;
static int init_failed;
static pthread_once_t init_control = PTHREAD_ONCE_INIT;

typedef struct {
    EVP_MAC_CTX *ctx[COUNT(md_specs)];
} hmac_cache;

static void hmac_cache_free(void *p)
{
    hmac_cache *cache = p;

    for (size_t i = 0; i < COUNT(md_specs); i++)
        EVP_MAC_CTX_free(cache->ctx[i]);
    free(cache);
}

static void init_once(void)
{
    Dl_info self;
    size_t i;

    /* The state below lives for the process and every exiting thread runs
     * hmac_cache_free(): when loaded as a Lua module, keep this object mapped
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

    if (pthread_key_create(&hmac_key, hmac_cache_free) != 0)
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

int crypto_random(unsigned char *out, size_t n, const char **err)
{
    if (n > INT_MAX)
        return fail(err, "too many bytes requested");
    if (RAND_bytes(out, (int)n) != 1)
        return fail(err, "random generator failed");
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

/* Creating and configuring an HMAC context costs far more than the MAC of a
 * short string, so each thread keeps one per digest and only re-keys it. */
static EVP_MAC_CTX *hmac_ctx(int alg)
{
    hmac_cache *cache = pthread_getspecific(hmac_key);

    if (cache == NULL) {
        if ((cache = calloc(1, sizeof(*cache))) == NULL)
            return NULL;
        if (pthread_setspecific(hmac_key, cache) != 0) {
            free(cache);
            return NULL;
        }
    }
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

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
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
    if (ivlen != (size_t)EVP_CIPHER_get_iv_length(cipher)) {
        fail(err, "invalid iv length");
        return NULL;
    }
    if ((ctx = EVP_CIPHER_CTX_new()) == NULL
        || !EVP_CipherInit_ex2(ctx, cipher, key, ivlen ? iv : NULL, encrypt, NULL)
        || !EVP_CIPHER_CTX_set_padding(ctx, cipher_specs[i].mode == MODE_PADDED)) {
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
} keygen_specs[] = {
    {"rsa2048", "RSA", NULL, 2048},
    {"rsa3072", "RSA", NULL, 3072},
    {"rsa4096", "RSA", NULL, 4096},
    {"ec-p256", "EC", "P-256", 0},
    {"ec-p384", "EC", "P-384", 0},
    {"ec-secp256k1", "EC", "secp256k1", 0},
    {"sm2", "SM2", NULL, 0},
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
    size_t i, cap = 0, n;
    int rc = -1;

    if (crypto_init(err) < 0)
        return -1;
    for (i = 0; i < COUNT(padding_specs); i++)
        if (strcmp(padding, padding_specs[i].name) == 0)
            break;
    if (i == COUNT(padding_specs))
        return fail(err, "unsupported padding");

    OSSL_PARAM params[4], *p = params;
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

int crypto_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    return alen == blen && CRYPTO_memcmp(nz(a), nz(b), alen) == 0;
}
