/* crypto.c -- kmsemu.core's cryptography on OpenSSL 3 EVP, as Lua functions.
 *
 * Bad argument types raise; operational failures return nil and a short
 * reason. Algorithm names are the lowercase names of the Lua API, so an
 * unknown one is an ordinary failure. Each function reads its arguments
 * first, then does the OpenSSL work with no Lua call that could raise
 * and leak it, and pushes the result last; outputs that OpenSSL allocates
 * wait in a box whose collection frees them. Implementations are fetched
 * once and shared read-only between threads.
 */
#include "crypto.h"

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <openssl/asn1t.h>
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
#define BOX "kmsemu.core.box"
#define STATE "kmsemu.core.crypto"
#define RANDOM_MAX 65536
#define HKDF_MAX (255 * EVP_MAX_MD_SIZE) /* RFC 5869, largest digest */
#define TAG_LEN 16                       /* GCM tag made and required */
#define MAX_BLOCK 16                     /* padding grows output by this */

static const struct {
    const char *name, *ossl;
} md_specs[] = {
    {"sha1", "SHA1"},       {"sha256", "SHA2-256"}, {"sha384", "SHA2-384"},
    {"sha512", "SHA2-512"}, {"sm3", "SM3"},
};

enum { MODE_AEAD, MODE_STREAM, MODE_PADDED, MODE_WRAP };

static const struct {
    const char *name, *ossl;
    int mode;
} cipher_specs[] = {
    {"aes-256-gcm", "AES-256-GCM", MODE_AEAD},
    {"sm4-ctr", "SM4-CTR", MODE_STREAM}, /* OpenSSL 3.0 has no SM4-GCM */
    {"aes-256-cbc", "AES-256-CBC", MODE_PADDED}, /* PKCS#7 */
    {"sm4-cbc", "SM4-CBC", MODE_PADDED},
    /* RFC 5649 key wrap with padding; an empty iv means the RFC's default. */
    {"aes-256-wrap-pad", "AES-256-WRAP-PAD", MODE_WRAP},
    {"aes-128-wrap-pad", "AES-128-WRAP-PAD", MODE_WRAP},
};

/* Written only inside init_once(); read-only afterwards. */
static EVP_MD *md_algs[COUNT(md_specs)];
static EVP_CIPHER *cipher_algs[COUNT(cipher_specs)];
static EVP_MAC *hmac_alg;
static EVP_KDF *hkdf_alg;
static pthread_once_t init_control = PTHREAD_ONCE_INIT;

/* What one Lua state keeps, an upvalue of every function: Lua runs one
 * thread at a time in it. Creating and configuring an HMAC context costs
 * more than the MAC of a short string, so one per digest is only re-keyed;
 * a call to RAND_bytes costs the same whatever its length, so random bytes
 * come from a pool, wiped as they are handed out. */
#define RANDOM_POOL 4096
struct state {
    EVP_MAC_CTX *hmac[COUNT(md_specs)];
    size_t random_left;
    unsigned char pool[RANDOM_POOL];
};

static void init_once(void)
{
    for (size_t i = 0; i < COUNT(md_specs); i++)
        md_algs[i] = EVP_MD_fetch(NULL, md_specs[i].ossl, NULL);
    for (size_t i = 0; i < COUNT(cipher_specs); i++)
        cipher_algs[i] = EVP_CIPHER_fetch(NULL, cipher_specs[i].ossl, NULL);
    hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
    hkdf_alg = EVP_KDF_fetch(NULL, "HKDF", NULL);
    /* A missing optional algorithm is reported per call, not as a stale
     * error on whichever thread happened to initialise. */
    ERR_clear_error();
}

/* Every failure clears OpenSSL's error queue: the server also uses OpenSSL
 * for TLS, and SSL_get_error() misreads errors left on the thread's queue. */
static int bad(const char **err, const char *reason)
{
    ERR_clear_error();
    *err = reason;
    return -1;
}

static int fail(lua_State *L, const char *reason)
{
    ERR_clear_error();
    luaL_pushfail(L);
    lua_pushstring(L, reason);
    return 2;
}

/* EVP wants non-NULL pointers even for empty inputs. */
static const void *nz(const void *p)
{
    return p != NULL ? p : "";
}

void **crypto_box(lua_State *L)
{
    void **box = lua_newuserdatauv(L, sizeof(*box), 0);

    *box = NULL;
    luaL_setmetatable(L, BOX);
    return box;
}

int crypto_unbox(lua_State *L, void **box, size_t len)
{
    lua_pushlstring(L, *box, len);
    OPENSSL_free(*box);
    *box = NULL;
    return 1;
}

static int box_gc(lua_State *L)
{
    void **box = lua_touserdata(L, 1);

    OPENSSL_free(*box);
    *box = NULL;
    return 0;
}

/* The box result of an operation that failed with why, or succeeded. */
static int boxed(lua_State *L, void **box, size_t len, const char *why)
{
    return why != NULL ? fail(L, why) : crypto_unbox(L, box, len);
}

static int state_gc(lua_State *L)
{
    struct state *s = lua_touserdata(L, 1);

    for (size_t i = 0; i < COUNT(md_specs); i++)
        EVP_MAC_CTX_free(s->hmac[i]);
    OPENSSL_cleanse(s->pool, sizeof(s->pool));
    return 0;
}

static struct state *state_of(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

static int md_index(const char *name)
{
    for (size_t i = 0; i < COUNT(md_specs); i++)
        if (strcmp(name, md_specs[i].name) == 0 && md_algs[i] != NULL)
            return (int)i;
    return -1;
}

static const EVP_MD *md_get(const char *name)
{
    int i = md_index(name);

    return i < 0 ? NULL : md_algs[i];
}

/* ---- random bytes, digests, MACs ---- */

static int draw(lua_State *L, unsigned char *out, size_t n)
{
    struct state *s = state_of(L);
    unsigned char *from;

    if (n > RANDOM_POOL / 8)
        return RAND_bytes(out, (int)n) == 1 ? 0 : -1;
    if (s->random_left < n) {
        if (RAND_bytes(s->pool, RANDOM_POOL) != 1)
            return -1;
        s->random_left = RANDOM_POOL;
    }
    from = s->pool + RANDOM_POOL - s->random_left;
    memcpy(out, from, n);
    OPENSSL_cleanse(from, n);
    s->random_left -= n;
    return 0;
}

/* random(n) */
static int l_random(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_Buffer b;
    char *p;

    luaL_argcheck(L, n >= 0 && n <= RANDOM_MAX, 1, "out of range 0..65536");
    p = luaL_buffinitsize(L, &b, (size_t)n);
    if (draw(L, (unsigned char *)p, (size_t)n) < 0)
        return fail(L, "random generator failed");
    luaL_pushresultsize(&b, (size_t)n);
    return 1;
}

/* uuid(): a random version 4 UUID in lower-case hex, the shape of request
 * ids and key ids; one per request, cheaper here than in Lua. */
static int l_uuid(lua_State *L)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[16];
    char out[36];
    int o = 0;

    if (draw(L, r, sizeof(r)) < 0)
        return fail(L, "random generator failed");
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[r[i] >> 4];
        out[o++] = hex[r[i] & 0x0f];
    }
    lua_pushlstring(L, out, sizeof(out));
    return 1;
}

/* digest(alg, data) */
static int l_digest(lua_State *L)
{
    const EVP_MD *md = md_get(luaL_checkstring(L, 1));
    size_t len;
    const char *in = luaL_checklstring(L, 2, &len);
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned n;

    if (md == NULL)
        return fail(L, "unsupported digest");
    if (!EVP_Digest(in, len, out, &n, md, NULL))
        return fail(L, "digest failed");
    lua_pushlstring(L, (const char *)out, n);
    return 1;
}

static EVP_MAC_CTX *hmac_ctx(struct state *s, int i)
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                         (char *)md_specs[i].ossl, 0),
        OSSL_PARAM_construct_end(),
    };

    if (s->hmac[i] == NULL && hmac_alg != NULL
        && (s->hmac[i] = EVP_MAC_CTX_new(hmac_alg)) != NULL
        && !EVP_MAC_CTX_set_params(s->hmac[i], params)) {
        EVP_MAC_CTX_free(s->hmac[i]);
        s->hmac[i] = NULL;
    }
    return s->hmac[i];
}

/* hmac(alg, key, data) */
static int l_hmac(lua_State *L)
{
    int i = md_index(luaL_checkstring(L, 1));
    size_t keylen, len, n;
    const char *key = luaL_checklstring(L, 2, &keylen);
    const char *in = luaL_checklstring(L, 3, &len);
    unsigned char out[EVP_MAX_MD_SIZE];
    EVP_MAC_CTX *ctx;

    if (i < 0)
        return fail(L, "unsupported digest");
    if ((ctx = hmac_ctx(state_of(L), i)) == NULL)
        return fail(L, "hmac setup failed");
    /* key is never NULL: EVP_MAC_init(NULL) would reuse the last key. */
    if (!EVP_MAC_init(ctx, (const unsigned char *)key, keylen, NULL)
        || !EVP_MAC_update(ctx, (const unsigned char *)in, len)
        || !EVP_MAC_final(ctx, out, &n, sizeof(out)))
        return fail(L, "hmac failed");
    lua_pushlstring(L, (const char *)out, n);
    return 1;
}

static int hkdf(const EVP_MD *md, const void *ikm, size_t ikmlen,
                const void *salt, size_t saltlen, const void *info,
                size_t infolen, unsigned char *out, size_t outlen)
{
    EVP_KDF_CTX *ctx;
    int ok;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                         (char *)EVP_MD_get0_name(md), 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)nz(ikm), ikmlen),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)nz(salt), saltlen),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)nz(info), infolen),
        OSSL_PARAM_construct_end(),
    };

    if (outlen == 0) /* valid per RFC 5869, refused by the provider */
        return 0;
    ctx = hkdf_alg != NULL ? EVP_KDF_CTX_new(hkdf_alg) : NULL;
    ok = ctx != NULL && EVP_KDF_derive(ctx, out, outlen, params) > 0;
    EVP_KDF_CTX_free(ctx);
    return ok ? 0 : -1;
}

/* hkdf(alg, ikm, salt?, info?, n) */
static int l_hkdf(lua_State *L)
{
    const EVP_MD *md = md_get(luaL_checkstring(L, 1));
    size_t ikmlen, saltlen, infolen;
    const char *ikm = luaL_checklstring(L, 2, &ikmlen);
    const char *salt = luaL_optlstring(L, 3, "", &saltlen);
    const char *info = luaL_optlstring(L, 4, "", &infolen);
    lua_Integer n = luaL_checkinteger(L, 5);
    luaL_Buffer b;
    char *p;

    luaL_argcheck(L, n >= 0 && n <= HKDF_MAX, 5, "out of range");
    p = luaL_buffinitsize(L, &b, (size_t)n);
    if (md == NULL)
        return fail(L, "unsupported digest");
    if (hkdf(md, ikm, ikmlen, salt, saltlen, info, infolen,
             (unsigned char *)p, (size_t)n) < 0)
        return fail(L, "hkdf failed");
    luaL_pushresultsize(&b, (size_t)n);
    return 1;
}

/* equal(a, b): constant time in the contents when the lengths are equal. */
static int l_equal(lua_State *L)
{
    size_t alen, blen;
    const char *a = luaL_checklstring(L, 1, &alen);
    const char *b = luaL_checklstring(L, 2, &blen);

    lua_pushboolean(L, alen == blen && CRYPTO_memcmp(a, b, alen) == 0);
    return 1;
}

/* ---- symmetric ciphers ---- */

static int cipher_lookup(const char *name, int aead)
{
    for (size_t i = 0; i < COUNT(cipher_specs); i++)
        if (strcmp(name, cipher_specs[i].name) == 0 && cipher_algs[i] != NULL
            && (cipher_specs[i].mode == MODE_AEAD) == aead)
            return (int)i;
    return -1;
}

/* A context for cipher i, or NULL with the reason in *why. */
static EVP_CIPHER_CTX *cipher_start(int i, const char *key, size_t keylen,
                                    const char *iv, size_t ivlen, int encrypt,
                                    const char **why)
{
    const EVP_CIPHER *cipher = cipher_algs[i];
    int mode = cipher_specs[i].mode;
    EVP_CIPHER_CTX *ctx;

    if (keylen != (size_t)EVP_CIPHER_get_key_length(cipher))
        return bad(why, "invalid key length"), NULL;
    if (ivlen != (size_t)EVP_CIPHER_get_iv_length(cipher)
        && !(mode == MODE_WRAP && ivlen == 0))
        return bad(why, "invalid iv length"), NULL;
    if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
        return bad(why, "cipher setup failed"), NULL;
    /* Wrap modes must be allowed explicitly and take no padding setting. */
    if (mode == MODE_WRAP)
        EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    if (!EVP_CipherInit_ex2(ctx, cipher, (const unsigned char *)key,
                            ivlen ? (const unsigned char *)iv : NULL, encrypt, NULL)
        || (mode != MODE_WRAP && !EVP_CIPHER_CTX_set_padding(ctx, mode == MODE_PADDED))) {
        EVP_CIPHER_CTX_free(ctx);
        return bad(why, "cipher setup failed"), NULL;
    }
    return ctx;
}

/* EVP counts in int; larger inputs go in pieces. out == NULL passes AAD. */
static int cipher_update(EVP_CIPHER_CTX *ctx, unsigned char *out,
                         size_t *outlen, const char *in, size_t inlen)
{
    size_t total = 0;

    while (inlen > 0) {
        int chunk = inlen > (1u << 30) ? 1 << 30 : (int)inlen, n;

        if (!EVP_CipherUpdate(ctx, out ? out + total : NULL, &n,
                              (const unsigned char *)in, chunk))
            return 0;
        total += (size_t)n;
        in += chunk;
        inlen -= (size_t)chunk;
    }
    if (outlen != NULL)
        *outlen = total;
    return 1;
}

/* aead_seal(cipher, key, iv, data, aad?) -> ciphertext, tag
 * aead_open(cipher, key, iv, data, aad?, tag) -> plaintext
 * GCM with a 12-byte IV and a 16-byte tag. */
static int aead(lua_State *L, int seal)
{
    int i = cipher_lookup(luaL_checkstring(L, 1), 1), n;
    size_t keylen, ivlen, len, aadlen, taglen = TAG_LEN;
    const char *key = luaL_checklstring(L, 2, &keylen);
    const char *iv = luaL_checklstring(L, 3, &ivlen);
    const char *in = luaL_checklstring(L, 4, &len);
    const char *aad = luaL_optlstring(L, 5, "", &aadlen), *why = NULL;
    unsigned char tag[TAG_LEN], tail[MAX_BLOCK];
    const char *given = seal ? NULL : luaL_checklstring(L, 6, &taglen);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG,
                                          seal ? tag : (void *)given, TAG_LEN),
        OSSL_PARAM_construct_end(),
    };
    luaL_Buffer b;
    unsigned char *out = (unsigned char *)luaL_buffinitsize(L, &b, len);
    EVP_CIPHER_CTX *ctx = NULL;

    if (i < 0)
        return fail(L, "unsupported cipher");
    if (taglen != TAG_LEN)
        return fail(L, "invalid tag length");
    if ((ctx = cipher_start(i, key, keylen, iv, ivlen, seal, &why)) == NULL)
        return fail(L, why);
    if (!cipher_update(ctx, NULL, NULL, aad, aadlen)
        || !cipher_update(ctx, out, NULL, in, len)
        || (!seal && !EVP_CIPHER_CTX_set_params(ctx, params))
        || !EVP_CipherFinal_ex(ctx, tail, &n)
        || (seal && !EVP_CIPHER_CTX_get_params(ctx, params))) {
        /* Never let unauthenticated plaintext reach the caller. */
        OPENSSL_cleanse(out, len);
        why = seal ? "encryption failed" : "authentication failed";
    }
    EVP_CIPHER_CTX_free(ctx);
    if (why != NULL)
        return fail(L, why);
    luaL_pushresultsize(&b, len);
    if (!seal)
        return 1;
    lua_pushlstring(L, (const char *)tag, sizeof(tag));
    return 2;
}

static int l_aead_seal(lua_State *L)
{
    return aead(L, 1);
}

static int l_aead_open(lua_State *L)
{
    return aead(L, 0);
}

/* cipher(cipher, key, iv?, data, encrypt) */
static int l_cipher(lua_State *L)
{
    int i = cipher_lookup(luaL_checkstring(L, 1), 0), n, encrypt;
    size_t keylen, ivlen, len, outlen;
    const char *key = luaL_checklstring(L, 2, &keylen);
    const char *iv = luaL_optlstring(L, 3, "", &ivlen);
    const char *in = luaL_checklstring(L, 4, &len), *why = NULL;
    EVP_CIPHER_CTX *ctx;
    luaL_Buffer b;
    unsigned char *out;

    luaL_checktype(L, 5, LUA_TBOOLEAN);
    encrypt = lua_toboolean(L, 5);
    luaL_argcheck(L, len <= SIZE_MAX - MAX_BLOCK, 4, "string too long");
    out = (unsigned char *)luaL_buffinitsize(L, &b, len + MAX_BLOCK);
    if (i < 0)
        return fail(L, "unsupported cipher");
    if ((ctx = cipher_start(i, key, keylen, iv, ivlen, encrypt, &why)) == NULL)
        return fail(L, why);
    if (!cipher_update(ctx, out, &outlen, in, len)
        || !EVP_CipherFinal_ex(ctx, out + outlen, &n)) {
        OPENSSL_cleanse(out, len);
        why = encrypt ? "encryption failed (input length?)"
                      : "decryption failed (bad padding or length)";
    }
    EVP_CIPHER_CTX_free(ctx);
    if (why != NULL)
        return fail(L, why);
    luaL_pushresultsize(&b, outlen + (size_t)n);
    return 1;
}

/* ---- key pairs: generation, derivation, loading, export ---- */

static const struct {
    const char *kind, *type, *curve;
    size_t bits;
    int nid; /* of the curve */
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

static int keygen_lookup(const char *kind)
{
    for (size_t i = 0; i < COUNT(keygen_specs); i++)
        if (strcmp(kind, keygen_specs[i].kind) == 0)
            return (int)i;
    return -1;
}

/* PKCS#8 PEM of a private key, SPKI PEM of a public one; OPENSSL_free it. */
static int pem_export(EVP_PKEY *pkey, int private, char **out, size_t *outlen)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data;
    long n;
    int ok = 0;

    *out = NULL;
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
    BIO_free(bio); /* not cleansed: these keys are emulator test keys */
    return ok;
}

/* ---- pacing: the rule is in crypto.h ---- */

#define PACE_SLICE_NS 1000000LL /* CPU time between looks at the queue */
#define PACE_FACTOR 3

struct pace {
    const atomic_int *waiting;
    long long mark; /* the thread's CPU time at its last look */
};

static atomic_llong paced_ns;

long long crypto_paced_ns(void)
{
    return atomic_load(&paced_ns);
}

static long long thread_cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* OpenSSL's progress callbacks (BN_GENCB, EVP_PKEY_gencb) come between
 * rounds of the prime tests, a millisecond or less apart. */
static void pace(struct pace *pc)
{
    long long now = thread_cpu_ns(), ran = now - pc->mark;
    struct timespec ts;

    if (ran < PACE_SLICE_NS)
        return;
    pc->mark = now; /* a sleep adds no CPU time */
    if (atomic_load(pc->waiting) > 0) {
        ran *= PACE_FACTOR;
        ts.tv_sec = (time_t)(ran / 1000000000LL);
        ts.tv_nsec = (long)(ran % 1000000000LL);
        nanosleep(&ts, NULL); /* a signal only shortens it */
        atomic_fetch_add(&paced_ns, ran);
    }
}

static int pace_bn(int a, int b, BN_GENCB *cb)
{
    (void)a;
    (void)b;
    pace(BN_GENCB_get_arg(cb));
    return 1;
}

static int pace_pkey(EVP_PKEY_CTX *ctx)
{
    pace(EVP_PKEY_CTX_get_app_data(ctx));
    return 1;
}

static EVP_PKEY *generate(int i, struct pace *pc)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, keygen_specs[i].type, NULL);
    EVP_PKEY *pkey = NULL;
    size_t bits = keygen_specs[i].bits;
    OSSL_PARAM params[2] = {OSSL_PARAM_construct_end(), OSSL_PARAM_construct_end()};

    if (bits != 0)
        params[0] = OSSL_PARAM_construct_size_t(OSSL_PKEY_PARAM_RSA_BITS, &bits);
    else if (keygen_specs[i].curve != NULL)
        params[0] = OSSL_PARAM_construct_utf8_string(
            OSSL_PKEY_PARAM_GROUP_NAME, (char *)keygen_specs[i].curve, 0);
    if (ctx != NULL && pc != NULL) {
        EVP_PKEY_CTX_set_app_data(ctx, pc);
        EVP_PKEY_CTX_set_cb(ctx, pace_pkey);
    }
    if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0
        || !EVP_PKEY_CTX_set_params(ctx, params)
        || EVP_PKEY_generate(ctx, &pkey) <= 0)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

/* ---- deterministic keys: the rule is in crypto.h ---- */

#define DERIVE_RSA_E 65537
#define DERIVE_MAX_BYTES 256    /* a prime of a 4096-bit modulus */
#define DERIVE_MAX_COUNTER 1000 /* never reached; bounds a broken search */

static int derive_bytes(const char *kind, const char *part, unsigned counter,
                        const void *seed, size_t seedlen,
                        unsigned char *out, size_t n)
{
    char info[64];
    int len = snprintf(info, sizeof(info), "kmsemu-derive/%s/%s/%u",
                       kind, part, counter);

    if (len < 0 || (size_t)len >= sizeof(info))
        return -1;
    return hkdf(md_get("sha256"), seed, seedlen, NULL, 0, info, (size_t)len, out, n);
}

/* Sets p to the prime of the RSA rule, nbits (a multiple of 8) long, kept
 * away from other when that is not NULL; cb (or NULL) paces the tests. */
static int derive_prime(const char *kind, const char *part, const void *seed,
                        size_t seedlen, int nbits, const BIGNUM *other,
                        BIGNUM *p, BN_CTX *bnctx, BN_GENCB *cb)
{
    unsigned char buf[DERIVE_MAX_BYTES];
    size_t nbytes = (size_t)nbits / 8;
    BIGNUM *diff = BN_CTX_get(bnctx);
    int rc = -1, r = 0;

    for (unsigned counter = 0; diff != NULL && nbytes <= sizeof(buf)
                               && counter < DERIVE_MAX_COUNTER; counter++) {
        if (derive_bytes(kind, part, counter, seed, seedlen, buf, nbytes) < 0)
            break;
        buf[0] |= 0xc0;
        buf[nbytes - 1] |= 1;
        if (BN_bin2bn(buf, (int)nbytes, p) == NULL)
            break;
        for (r = 0; r == 0 && BN_num_bits(p) == nbits;) {
            BN_ULONG m = BN_mod_word(p, DERIVE_RSA_E);

            if (m == (BN_ULONG)-1
                || (m != 1 && (r = BN_check_prime(p, bnctx, cb)) < 0)
                || (r == 0 && !BN_add_word(p, 2)))
                goto done;
        }
        if (r == 0)
            continue; /* carried past the top bit */
        if (other != NULL) {
            if (!BN_sub(diff, p, other))
                break;
            BN_set_negative(diff, 0);
            if (BN_num_bits(diff) <= nbits - 100)
                continue;
        }
        rc = 0;
        break;
    }
done:
    OPENSSL_cleanse(buf, sizeof(buf));
    return rc;
}

/* A key pair of type from the parameters in bld (then freed), or NULL.
 * They come from secure BIGNUMs, and freeing them clears them. */
static EVP_PKEY *pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = bld != NULL ? OSSL_PARAM_BLD_to_param(bld) : NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;

    if (params != NULL
        && (ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) != NULL
        && EVP_PKEY_fromdata_init(ctx) > 0)
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

/* The RSA key of p and q: n, e, d = e^-1 mod lcm(p - 1, q - 1), CRT. */
static EVP_PKEY *rsa_of(BIGNUM *p, BIGNUM *q, BN_CTX *bnctx)
{
    static const char *const names[] = {
        OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
        OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
        OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
        OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
    };
    BIGNUM *v[11]; /* n e d p q dmp1 dmq1 iqmp p1 q1 lcm */
    OSSL_PARAM_BLD *bld;
    size_t i;

    for (i = 0; i < 11; i++)
        if ((v[i] = i == 3 ? p : i == 4 ? q : BN_CTX_get(bnctx)) == NULL)
            return NULL;
    if (!BN_set_word(v[1], DERIVE_RSA_E) || !BN_mul(v[0], p, q, bnctx)
        || !BN_sub(v[8], p, BN_value_one()) || !BN_sub(v[9], q, BN_value_one())
        || !BN_gcd(v[10], v[8], v[9], bnctx)
        || !BN_div(v[10], NULL, v[8], v[10], bnctx)
        || !BN_mul(v[10], v[10], v[9], bnctx)
        || BN_mod_inverse(v[2], v[1], v[10], bnctx) == NULL
        || !BN_mod(v[5], v[2], v[8], bnctx) || !BN_mod(v[6], v[2], v[9], bnctx)
        || BN_mod_inverse(v[7], q, p, bnctx) == NULL
        || (bld = OSSL_PARAM_BLD_new()) == NULL)
        return NULL;
    for (i = 0; i < COUNT(names); i++)
        if (!OSSL_PARAM_BLD_push_BN(bld, names[i], v[i])) {
            OSSL_PARAM_BLD_free(bld);
            return NULL;
        }
    return pkey_fromdata("RSA", bld);
}

static EVP_PKEY *derive_rsa(const char *kind, int bits, const void *seed,
                            size_t seedlen, struct pace *pc)
{
    BN_CTX *bnctx = BN_CTX_secure_new();
    BN_GENCB *cb = pc != NULL ? BN_GENCB_new() : NULL;
    EVP_PKEY *pkey = NULL;
    BIGNUM *p, *q;

    if (bnctx == NULL || (pc != NULL && cb == NULL))
        goto done;
    if (cb != NULL)
        BN_GENCB_set(cb, pace_bn, pc);
    BN_CTX_start(bnctx);
    p = BN_CTX_get(bnctx);
    if ((q = BN_CTX_get(bnctx)) != NULL
        && derive_prime(kind, "p", seed, seedlen, bits / 2, NULL, p, bnctx, cb) == 0
        && derive_prime(kind, "q", seed, seedlen, bits / 2, p, q, bnctx, cb) == 0)
        pkey = rsa_of(p, q, bnctx);
    BN_CTX_end(bnctx);
done:
    BN_GENCB_free(cb);
    BN_CTX_free(bnctx); /* a secure context: its numbers are cleared */
    return pkey;
}

static EVP_PKEY *derive_ec(const char *kind, const char *type, int nid,
                           const void *seed, size_t seedlen)
{
    unsigned char buf[DERIVE_MAX_BYTES], pub[1 + 2 * 66];
    EC_GROUP *group = EC_GROUP_new_by_curve_name_ex(NULL, NULL, nid);
    BN_CTX *bnctx = BN_CTX_secure_new();
    EC_POINT *point = NULL;
    EVP_PKEY *pkey = NULL;
    BIGNUM *d, *range;
    size_t nbytes = 0, publen;

    if (group == NULL || bnctx == NULL)
        goto done;
    BN_CTX_start(bnctx);
    d = BN_CTX_get(bnctx);
    range = BN_CTX_get(bnctx);
    nbytes = (size_t)BN_num_bytes(EC_GROUP_get0_order(group)) + 8;
    if (range == NULL || nbytes > sizeof(buf)
        || derive_bytes(kind, "d", 0, seed, seedlen, buf, nbytes) < 0
        || BN_bin2bn(buf, (int)nbytes, d) == NULL
        || !BN_copy(range, EC_GROUP_get0_order(group))
        || !BN_sub_word(range, nid == NID_sm2 ? 2 : 1)
        || !BN_mod(d, d, range, bnctx) || !BN_add_word(d, 1)
        || (point = EC_POINT_new(group)) == NULL
        || !EC_POINT_mul(group, point, d, NULL, NULL, bnctx)
        || (publen = EC_POINT_point2oct(group, point, POINT_CONVERSION_UNCOMPRESSED,
                                        pub, sizeof(pub), bnctx)) == 0)
        goto done;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    if (bld != NULL
        && (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                             OBJ_nid2sn(nid), 0)
            || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d)
            || !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                                 pub, publen))) {
        OSSL_PARAM_BLD_free(bld);
        bld = NULL;
    }
    pkey = pkey_fromdata(type, bld);
done:
    OPENSSL_cleanse(buf, sizeof(buf));
    EC_POINT_free(point);
    if (bnctx != NULL)
        BN_CTX_end(bnctx);
    BN_CTX_free(bnctx);
    EC_GROUP_free(group);
    return pkey;
}

static EVP_PKEY *derive(const char *kind, const void *seed, size_t seedlen,
                        struct pace *pc)
{
    unsigned char raw[32];
    EVP_PKEY *pkey = NULL;
    int i = keygen_lookup(kind);

    if (strcmp(kind, "ed25519") == 0) {
        if (derive_bytes(kind, "d", 0, seed, seedlen, raw, sizeof(raw)) == 0)
            pkey = EVP_PKEY_new_raw_private_key_ex(NULL, "ED25519", NULL, raw,
                                                   sizeof(raw));
        OPENSSL_cleanse(raw, sizeof(raw));
        return pkey;
    }
    if (keygen_specs[i].bits != 0)
        return derive_rsa(kind, (int)keygen_specs[i].bits, seed, seedlen, pc);
    return derive_ec(kind, keygen_specs[i].type, keygen_specs[i].nid, seed, seedlen);
}

int crypto_keygen(const char *kind, const void *seed, size_t seedlen,
                  int derived, const atomic_int *waiting, char **priv,
                  size_t *privlen, char **pub, size_t *publen,
                  const char **err)
{
    struct pace pacing = {.waiting = waiting, .mark = thread_cpu_ns()};
    struct pace *pc = waiting != NULL ? &pacing : NULL;
    EVP_PKEY *pkey;
    int rc = 0;

    *priv = *pub = NULL;
    if (keygen_lookup(kind) < 0 && !(derived && strcmp(kind, "ed25519") == 0))
        return bad(err, "unsupported key kind");
    pkey = derived ? derive(kind, nz(seed), seedlen, pc)
                   : generate(keygen_lookup(kind), pc);
    if (pkey == NULL)
        return bad(err, derived ? "key derivation failed" : "key generation failed");
    if (!pem_export(pkey, 1, priv, privlen)
        || (!derived && !pem_export(pkey, 0, pub, publen))) {
        OPENSSL_free(*priv);
        *priv = NULL;
        rc = bad(err, "key export failed");
    }
    EVP_PKEY_free(pkey);
    return rc;
}

/* Any PEM form OpenSSL decodes (PKCS#8, SPKI, PKCS#1, SEC1), or NULL. */
static EVP_PKEY *pkey_load(const char *pem, size_t pemlen, int private)
{
    EVP_PKEY *pkey = NULL;
    const unsigned char *p = (const unsigned char *)pem;
    OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(
        &pkey, "PEM", NULL, NULL, private ? EVP_PKEY_KEYPAIR : 0, NULL, NULL);

    if (dctx == NULL || !OSSL_DECODER_from_data(dctx, &p, &pemlen)) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    OSSL_DECODER_CTX_free(dctx);
    return pkey;
}

/* One DER structure, all of the input, or NULL. */
static EVP_PKEY *der_load(const void *der, size_t derlen, const char *structure,
                          int selection)
{
    EVP_PKEY *pkey = NULL;
    const unsigned char *p = der;
    OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(
        &pkey, "DER", structure, NULL, selection, NULL, NULL);

    if (dctx == NULL || !OSSL_DECODER_from_data(dctx, &p, &derlen) || derlen != 0) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    OSSL_DECODER_CTX_free(dctx);
    return pkey;
}

/* The key of argument 1, a private one if asked, else NULL and the
 * reason in *why. */
static EVP_PKEY *pkey_arg(lua_State *L, int private, const char **why)
{
    size_t len;
    const char *pem = luaL_checklstring(L, 1, &len);
    EVP_PKEY *pkey = pkey_load(pem, len, private);

    if (pkey == NULL)
        bad(why, private ? "invalid private key" : "invalid key");
    return pkey;
}

enum { EXPORT_PUBLIC_DER, EXPORT_PUBLIC_PEM, EXPORT_PRIVATE_DER };

/* pkey_public_der(pem), pkey_public_pem(pem), pkey_private_der(pem):
 * SPKI DER, SPKI PEM, PKCS#8 DER of a private or public PEM key. */
static int export(lua_State *L, int what)
{
    const char *why = NULL;
    void **box = crypto_box(L);
    EVP_PKEY *pkey = pkey_arg(L, what == EXPORT_PRIVATE_DER, &why);
    OSSL_ENCODER_CTX *ectx = NULL;
    size_t len = 0;
    int n;

    if (pkey == NULL)
        return fail(L, why);
    if (what == EXPORT_PUBLIC_DER) {
        if ((n = i2d_PUBKEY(pkey, (unsigned char **)box)) <= 0)
            why = "public key export failed";
        len = (size_t)n;
    } else if (what == EXPORT_PUBLIC_PEM) {
        if (!pem_export(pkey, 0, (char **)box, &len))
            why = "public key export failed";
    } else if ((ectx = OSSL_ENCODER_CTX_new_for_pkey(pkey, EVP_PKEY_KEYPAIR, "DER",
                                                     "PrivateKeyInfo", NULL)) == NULL
               || OSSL_ENCODER_CTX_get_num_encoders(ectx) == 0
               || !OSSL_ENCODER_to_data(ectx, (unsigned char **)box, &len)) {
        why = "private key export failed";
    }
    OSSL_ENCODER_CTX_free(ectx);
    EVP_PKEY_free(pkey);
    return boxed(L, box, len, why);
}

static int l_pkey_public_der(lua_State *L)
{
    return export(L, EXPORT_PUBLIC_DER);
}

static int l_pkey_public_pem(lua_State *L)
{
    return export(L, EXPORT_PUBLIC_PEM);
}

static int l_pkey_private_der(lua_State *L)
{
    return export(L, EXPORT_PRIVATE_DER);
}

/* pkey_from_der(der): PKCS#8 PrivateKeyInfo DER to private PEM,
 * SubjectPublicKeyInfo DER to public PEM; nothing may follow the DER. */
static int l_pkey_from_der(lua_State *L)
{
    size_t len, pemlen = 0;
    const char *der = luaL_checklstring(L, 1, &len), *why = NULL;
    void **box = crypto_box(L);
    EVP_PKEY *pkey = NULL;
    int private = 1;

    if (len > 0
        && (pkey = der_load(der, len, "PrivateKeyInfo", EVP_PKEY_KEYPAIR)) == NULL) {
        private = 0;
        pkey = der_load(der, len, "SubjectPublicKeyInfo", EVP_PKEY_PUBLIC_KEY);
    }
    if (pkey == NULL)
        return fail(L, "invalid key");
    ERR_clear_error(); /* the failed PrivateKeyInfo attempt */
    if (!pem_export(pkey, private, (char **)box, &pemlen))
        why = "key export failed";
    EVP_PKEY_free(pkey);
    return boxed(L, box, pemlen, why);
}

/* The curve of an EC or SM2 key, NID_undef for anything else. */
static int pkey_curve(EVP_PKEY *pkey)
{
    char name[64];
    int nid = NID_undef;

    ERR_set_mark();
    if ((EVP_PKEY_is_a(pkey, "EC") || EVP_PKEY_is_a(pkey, "SM2"))
        && EVP_PKEY_get_group_name(pkey, name, sizeof(name), NULL)
        && (nid = OBJ_sn2nid(name)) == NID_undef)
        nid = EC_curve_nist2nid(name);
    ERR_pop_to_mark();
    return nid;
}

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

/* pkey_info(pem) -> {kind = a keygen kind, "rsa<bits>" or "ed25519",
 * bits = modulus or order (256 for ed25519), private = boolean} */
static int l_pkey_info(lua_State *L)
{
    const char *why = NULL, *kind = NULL;
    EVP_PKEY *pkey = pkey_arg(L, 0, &why);
    int bits = 0, private = 0, nid;

    if (pkey == NULL)
        return fail(L, why);
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        bits = EVP_PKEY_get_bits(pkey);
        kind = "rsa";
    } else if (EVP_PKEY_is_a(pkey, "ED25519")) {
        bits = 256; /* the key size; OpenSSL counts 253 */
        kind = "ed25519";
    } else if ((nid = pkey_curve(pkey)) != NID_undef) {
        for (size_t i = 0; i < COUNT(keygen_specs); i++)
            if (keygen_specs[i].nid == nid && EVP_PKEY_is_a(pkey, keygen_specs[i].type))
                kind = keygen_specs[i].kind;
        bits = EVP_PKEY_get_bits(pkey);
    }
    private = pkey_has_private(pkey);
    EVP_PKEY_free(pkey);
    if (kind == NULL || bits <= 0)
        return fail(L, "unsupported key kind");
    lua_createtable(L, 0, 3);
    if (strcmp(kind, "rsa") == 0)
        lua_pushfstring(L, "rsa%d", bits);
    else
        lua_pushstring(L, kind);
    lua_setfield(L, -2, "kind");
    lua_pushinteger(L, bits);
    lua_setfield(L, -2, "bits");
    lua_pushboolean(L, private);
    lua_setfield(L, -2, "private");
    return 1;
}

/* pkey_derive_shared(pem, peer): ECDH, the raw shared secret (the x
 * coordinate) with a peer public key given as SPKI DER or PEM. */
static int l_pkey_derive_shared(lua_State *L)
{
    size_t peerlen, n = 0;
    const char *why = NULL, *peer = luaL_checklstring(L, 2, &peerlen);
    void **box = crypto_box(L);
    EVP_PKEY *pkey = pkey_arg(L, 1, &why), *pub = NULL;
    EVP_PKEY_CTX *ctx = NULL;

    if (pkey == NULL)
        return fail(L, why);
    if (peerlen == 0
        || ((pub = der_load(peer, peerlen, "SubjectPublicKeyInfo",
                            EVP_PKEY_PUBLIC_KEY)) == NULL
            && (pub = pkey_load(peer, peerlen, 0)) == NULL))
        why = "invalid peer public key";
    else if (ERR_clear_error(), EVP_PKEY_parameters_eq(pkey, pub) != 1)
        why = "peer key type or curve differs";
    else if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL
             || EVP_PKEY_derive_init(ctx) <= 0)
        why = "key type does not support derivation";
    else if (EVP_PKEY_derive_set_peer(ctx, pub) <= 0
             || EVP_PKEY_derive(ctx, NULL, &n) <= 0 || n == 0
             || (*box = OPENSSL_malloc(n)) == NULL
             || EVP_PKEY_derive(ctx, *box, &n) <= 0)
        why = "derivation failed";
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pub);
    EVP_PKEY_free(pkey);
    return boxed(L, box, n, why);
}

/* ---- public-key encryption ---- */

static const struct {
    const char *name, *keytype, *pad, *md;
} padding_specs[] = {
    {"rsa-pkcs1", "RSA", OSSL_PKEY_RSA_PAD_MODE_PKCSV15, NULL},
    {"rsa-oaep-sha1", "RSA", OSSL_PKEY_RSA_PAD_MODE_OAEP, "SHA1"},
    {"rsa-oaep-sha256", "RSA", OSSL_PKEY_RSA_PAD_MODE_OAEP, "SHA2-256"},
    {"sm2", "SM2", NULL, NULL}, /* DER C1C3C2 */
};

/* A context for padding i on pkey, or NULL. */
static EVP_PKEY_CTX *crypt_start(EVP_PKEY *pkey, size_t i, int decrypt)
{
    OSSL_PARAM params[4], *p = params;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);

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
    if (ctx != NULL && (decrypt ? EVP_PKEY_decrypt_init_ex(ctx, params)
                                : EVP_PKEY_encrypt_init_ex(ctx, params)) <= 0) {
        EVP_PKEY_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* pkey_encrypt(pem, padding, data): a public or private PEM;
 * pkey_decrypt(pem, padding, data): a private one. */
static int pkey_crypt(lua_State *L, int decrypt)
{
    int (*op)(EVP_PKEY_CTX *, unsigned char *, size_t *, const unsigned char *,
              size_t) = decrypt ? EVP_PKEY_decrypt : EVP_PKEY_encrypt;
    const char *padding = luaL_checkstring(L, 2), *why = NULL;
    size_t len, cap = 0, n = 0, i = 0;
    const unsigned char *in = (const unsigned char *)luaL_checklstring(L, 3, &len);
    void **box = crypto_box(L);
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    unsigned char *buf = NULL;

    while (i < COUNT(padding_specs) && strcmp(padding, padding_specs[i].name) != 0)
        i++;
    if (i == COUNT(padding_specs))
        return fail(L, "unsupported padding");
    if ((pkey = pkey_arg(L, decrypt, &why)) == NULL)
        return fail(L, why);
    /* The first op() only sizes the output: the key size for RSA, the
     * decoded ciphertext for SM2. */
    if (!EVP_PKEY_is_a(pkey, padding_specs[i].keytype))
        why = "key type does not match padding";
    else if ((ctx = crypt_start(pkey, i, decrypt)) == NULL
             || op(ctx, NULL, &cap, in, len) <= 0
             || (buf = OPENSSL_malloc(cap > 0 ? cap : 1)) == NULL
             || (n = cap, op(ctx, buf, &n, in, len)) <= 0)
        why = decrypt ? "decryption failed" : "encryption failed";
    if (why == NULL)
        *box = buf;
    else
        OPENSSL_clear_free(buf, cap);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    return boxed(L, box, n, why);
}

static int l_pkey_encrypt(lua_State *L)
{
    return pkey_crypt(L, 0);
}

static int l_pkey_decrypt(lua_State *L)
{
    return pkey_crypt(L, 1);
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


#define SM2_COORD 32
#define SM2_HASH 32
#define SM2_RAW_MIN (1 + 2 * SM2_COORD + SM2_HASH)

/* DER drops leading zero bytes of a coordinate; the raw form does not. */
static int sm2_coord(const ASN1_INTEGER *ai, unsigned char *out)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(ai, NULL);
    int ok = bn != NULL && !BN_is_negative(bn)
             && BN_bn2binpad(bn, out, SM2_COORD) == SM2_COORD;

    BN_free(bn);
    return ok;
}

/* sm2_der_to_raw(der): an SM2 ciphertext in the raw 04 || X || Y || C3 || C2
 * form of the GM/T specifications. */
static int l_sm2_der_to_raw(lua_State *L)
{
    size_t derlen, c2len = 0;
    const unsigned char *der = (const unsigned char *)luaL_checklstring(L, 1, &derlen);
    const unsigned char *p = der;
    const char *why = "invalid sm2 ciphertext";
    void **box = crypto_box(L);
    sm2_cipher *c = NULL;
    unsigned char *buf;

    if (derlen <= LONG_MAX && (c = (sm2_cipher *)ASN1_item_d2i(NULL, &p, (long)derlen,
                                                  ASN1_ITEM_rptr(sm2_cipher))) != NULL
        && p == der + derlen /* no trailing bytes */
        && ASN1_STRING_length(c->hash) == SM2_HASH) {
        c2len = (size_t)ASN1_STRING_length(c->ciphertext);
        if ((*box = buf = OPENSSL_malloc(SM2_RAW_MIN + c2len)) == NULL)
            why = "out of memory";
        else if (sm2_coord(c->x, buf + 1) && sm2_coord(c->y, buf + 1 + SM2_COORD)) {
            buf[0] = 0x04; /* uncompressed point */
            memcpy(buf + 1 + 2 * SM2_COORD, ASN1_STRING_get0_data(c->hash), SM2_HASH);
            memcpy(buf + SM2_RAW_MIN, ASN1_STRING_get0_data(c->ciphertext), c2len);
            why = NULL;
        }
    }
    ASN1_item_free((ASN1_VALUE *)c, ASN1_ITEM_rptr(sm2_cipher));
    return boxed(L, box, SM2_RAW_MIN + c2len, why);
}

/* ---- signatures ---- */

#define SM2_DEFAULT_ID "1234567812345678"

enum { SIG_RSA_PSS, SIG_RSA_PKCS1, SIG_ECDSA, SIG_SM2, SIG_ED25519 };

static const struct {
    const char *name, *md; /* md: a md_specs name, NULL for ed25519 */
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

/* What a signature operation needs, checked before any is done. */
typedef struct {
    EVP_PKEY *pkey;
    const EVP_MD *md; /* NULL for ed25519 */
    int scheme, is_digest;
    const unsigned char *in;
    size_t inlen;
    OSSL_PARAM params[5];
} sig_job;

static void sig_params(sig_job *job)
{
    OSSL_PARAM *p = job->params;
    char *md = job->md != NULL ? (char *)EVP_MD_get0_name(job->md) : NULL;

    if (job->is_digest && job->scheme != SIG_SM2)
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, md, 0);
    if (job->scheme == SIG_RSA_PSS) {
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE,
                                                OSSL_PKEY_RSA_PAD_MODE_PSS, 0);
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, md, 0);
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN,
                                                OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST, 0);
    } else if (job->scheme == SIG_RSA_PKCS1) {
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE,
                                                OSSL_PKEY_RSA_PAD_MODE_PKCSV15, 0);
    }
    *p = OSSL_PARAM_construct_end();
}

/* sign(pem, alg, data, is_digest) and verify(pem, alg, data, is_digest,
 * sig) arguments. alg: rsa-pss-sha256/384/512 (salt length = digest
 * length, MGF1 with the same hash), rsa-pkcs1-sha256/384/512,
 * ecdsa-sha256/384/512, sm2-sm3 (ID "1234567812345678"), ed25519.
 * is_digest: data is the digest (for sm2-sm3, e = SM3(Z_A || M)); ed25519
 * refuses it. Signatures are DER for ECDSA and SM2, raw otherwise. */
static const char *sig_setup(lua_State *L, sig_job *job, int private)
{
    const char *alg = luaL_checkstring(L, 2), *why = NULL;
    size_t i = 0;

    job->pkey = NULL;
    job->in = (const unsigned char *)luaL_checklstring(L, 3, &job->inlen);
    luaL_checktype(L, 4, LUA_TBOOLEAN);
    job->is_digest = lua_toboolean(L, 4);
    while (i < COUNT(sig_specs) && strcmp(alg, sig_specs[i].name) != 0)
        i++;
    if (i == COUNT(sig_specs))
        return "unsupported signature algorithm";
    job->scheme = sig_specs[i].scheme;
    job->md = sig_specs[i].md != NULL ? md_get(sig_specs[i].md) : NULL;
    if (sig_specs[i].md != NULL && job->md == NULL)
        return "unsupported digest";
    if (job->is_digest && job->md == NULL)
        return "the algorithm does not take a digest";
    if (job->is_digest && job->inlen != (size_t)EVP_MD_get_size(job->md))
        return "digest length does not match the algorithm";
    if ((job->pkey = pkey_arg(L, private, &why)) == NULL)
        return why;
    if (!EVP_PKEY_is_a(job->pkey, sig_keytypes[job->scheme]))
        return "key does not support the algorithm";
    sig_params(job);
    return NULL;
}

/* A digest-and-sign context for a message in mctx, or a sign context for
 * a digest; NULL on failure. */
static EVP_PKEY_CTX *sig_start(sig_job *job, EVP_MD_CTX *mctx, int sign)
{
    EVP_PKEY_CTX *pctx = NULL;
    const char *md = job->md != NULL ? EVP_MD_get0_name(job->md) : NULL;

    if (!job->is_digest) {
        if (mctx == NULL
            || (sign ? EVP_DigestSignInit_ex(mctx, &pctx, md, NULL, NULL,
                                             job->pkey, job->params)
                     : EVP_DigestVerifyInit_ex(mctx, &pctx, md, NULL, NULL,
                                               job->pkey, job->params)) <= 0
            || (job->scheme == SIG_SM2
                && EVP_PKEY_CTX_set1_id(pctx, SM2_DEFAULT_ID,
                                        sizeof(SM2_DEFAULT_ID) - 1) <= 0))
            return NULL;
        return pctx; /* owned by mctx */
    }
    if ((pctx = EVP_PKEY_CTX_new_from_pkey(NULL, job->pkey, NULL)) == NULL
        || (sign ? EVP_PKEY_sign_init_ex(pctx, job->params)
                 : EVP_PKEY_verify_init_ex(pctx, job->params)) <= 0) {
        EVP_PKEY_CTX_free(pctx);
        return NULL;
    }
    return pctx;
}

/* sign(pem, alg, data, is_digest): with a private PEM. */
static int l_sign(lua_State *L)
{
    sig_job job;
    void **box = crypto_box(L);
    const char *why = sig_setup(L, &job, 1);
    EVP_MD_CTX *mctx = job.is_digest ? NULL : EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int size = 0;
    size_t n = 0;

    if (why == NULL
        && ((size = EVP_PKEY_get_size(job.pkey)) <= 0
            || (*box = OPENSSL_malloc((size_t)size)) == NULL
            || (pctx = sig_start(&job, mctx, 1)) == NULL
            || (n = (size_t)size,
                job.is_digest ? EVP_PKEY_sign(pctx, *box, &n, job.in, job.inlen)
                              : EVP_DigestSign(mctx, *box, &n, job.in, job.inlen)) <= 0))
        why = "signing failed";
    if (job.is_digest)
        EVP_PKEY_CTX_free(pctx);
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_free(job.pkey);
    return boxed(L, box, n, why);
}

/* verify(pem, alg, data, is_digest, sig) -> whether sig is valid. */
static int l_verify(lua_State *L)
{
    sig_job job;
    size_t siglen;
    const unsigned char *sig = (const unsigned char *)luaL_checklstring(L, 5, &siglen);
    const char *why = sig_setup(L, &job, 0);
    EVP_MD_CTX *mctx = job.is_digest ? NULL : EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int valid = 0;

    if (why == NULL && (pctx = sig_start(&job, mctx, 0)) == NULL)
        why = "verification failed";
    else if (why == NULL)
        valid = (job.is_digest ? EVP_PKEY_verify(pctx, sig, siglen, job.in, job.inlen)
                               : EVP_DigestVerify(mctx, sig, siglen, job.in,
                                                  job.inlen)) == 1;
    if (job.is_digest)
        EVP_PKEY_CTX_free(pctx);
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_free(job.pkey);
    if (why != NULL)
        return fail(L, why);
    ERR_clear_error(); /* a rejected signature is an answer, not an error */
    lua_pushboolean(L, valid);
    return 1;
}

int crypto_open(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"random", l_random},
        {"uuid", l_uuid},
        {"digest", l_digest},
        {"hmac", l_hmac},
        {"hkdf", l_hkdf},
        {"equal", l_equal},
        {"aead_seal", l_aead_seal},
        {"aead_open", l_aead_open},
        {"cipher", l_cipher},
        {"pkey_public_der", l_pkey_public_der},
        {"pkey_public_pem", l_pkey_public_pem},
        {"pkey_private_der", l_pkey_private_der},
        {"pkey_from_der", l_pkey_from_der},
        {"pkey_info", l_pkey_info},
        {"pkey_derive_shared", l_pkey_derive_shared},
        {"pkey_encrypt", l_pkey_encrypt},
        {"pkey_decrypt", l_pkey_decrypt},
        {"sm2_der_to_raw", l_sm2_der_to_raw},
        {"sign", l_sign},
        {"verify", l_verify},
        {NULL, NULL},
    };
    struct state *s;

    if (pthread_once(&init_control, init_once) != 0)
        return luaL_error(L, "kmsemu.core: crypto initialisation failed");
    luaL_newmetatable(L, BOX);
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    s = lua_newuserdatauv(L, sizeof(*s), 0);
    memset(s, 0, sizeof(*s));
    luaL_newmetatable(L, STATE);
    lua_pushcfunction(L, state_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    luaL_setfuncs(L, funcs, 1);
    return 0;
}
