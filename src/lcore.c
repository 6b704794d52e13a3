/* lcore.c -- kmsemu.core, the Lua face of crypto.c.
 *
 * Only marshalling lives here. Bad argument types raise; operational
 * failures return nil plus crypto.c's reason. Outputs are written straight
 * into a luaL_Buffer when their size is known in advance; outputs that
 * crypto.c allocates are parked in a "box" userdata first, so a memory
 * error raised while Lua copies them cannot leak them.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>

#include "crypto.h"
#include "kmsemu.h"
#include "store.h"

#define LCORE_BOX "kmsemu.core.box"
#define LCORE_STORE "kmsemu.core.store"
#define LCORE_RANDOM_MAX 65536

static int lcore_fail(lua_State *L, const char *err)
{
    luaL_pushfail(L);
    lua_pushstring(L, err);
    return 2;
}

static int lcore_box_gc(lua_State *L)
{
    void **box = luaL_checkudata(L, 1, LCORE_BOX);

    crypto_free(*box);
    *box = NULL;
    return 0;
}

/* Must be called before the crypto.c call whose result it will hold:
 * creating it may raise. */
static void **lcore_box(lua_State *L)
{
    void **box = lua_newuserdatauv(L, sizeof(*box), 0);

    *box = NULL;
    luaL_setmetatable(L, LCORE_BOX);
    return box;
}

/* Takes ownership of p (already stored in box by the caller), pushes it
 * as a string and frees it now rather than at the next collection. */
static void lcore_unbox(lua_State *L, void **box, size_t len)
{
    lua_pushlstring(L, *box, len);
    crypto_free(*box);
    *box = NULL;
}

/* kmsemu.core.random */
static int lcore_random(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_Buffer b;
    const char *err;
    char *p;

    luaL_argcheck(L, n >= 0 && n <= LCORE_RANDOM_MAX, 1, "out of range 0..65536");
    p = luaL_buffinitsize(L, &b, (size_t)n);
    if (crypto_random((unsigned char *)p, (size_t)n, &err) < 0)
        return lcore_fail(L, err);
    luaL_pushresultsize(&b, (size_t)n);
    return 1;
}

/* kmsemu.core.uuid(): a random version 4 UUID in lower-case hex, the
 * shape of request ids and key ids; one per request, cheaper here. */
static int lcore_uuid(lua_State *L)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[16];
    char out[36];
    const char *err;
    int i, o = 0;

    if (crypto_random(r, sizeof(r), &err) < 0)
        return lcore_fail(L, err);
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[r[i] >> 4];
        out[o++] = hex[r[i] & 0x0f];
    }
    lua_pushlstring(L, out, sizeof(out));
    return 1;
}

/* kmsemu.core.digest */
static int lcore_digest(lua_State *L)
{
    const char *alg = luaL_checkstring(L, 1), *err;
    size_t len, mdlen;
    const char *data = luaL_checklstring(L, 2, &len);
    unsigned char md[CRYPTO_MAX_MD];

    if (crypto_digest(alg, data, len, md, &mdlen, &err) < 0)
        return lcore_fail(L, err);
    lua_pushlstring(L, (const char *)md, mdlen);
    return 1;
}

/* kmsemu.core.hmac */
static int lcore_hmac(lua_State *L)
{
    const char *alg = luaL_checkstring(L, 1), *err;
    size_t keylen, len, maclen;
    const char *key = luaL_checklstring(L, 2, &keylen);
    const char *data = luaL_checklstring(L, 3, &len);
    unsigned char mac[CRYPTO_MAX_MD];

    if (crypto_hmac(alg, key, keylen, data, len, mac, &maclen, &err) < 0)
        return lcore_fail(L, err);
    lua_pushlstring(L, (const char *)mac, maclen);
    return 1;
}

/* kmsemu.core.hkdf */
static int lcore_hkdf(lua_State *L)
{
    const char *alg = luaL_checkstring(L, 1), *err;
    size_t ikmlen, saltlen, infolen;
    const char *ikm = luaL_checklstring(L, 2, &ikmlen);
    const char *salt = luaL_optlstring(L, 3, "", &saltlen);
    const char *info = luaL_optlstring(L, 4, "", &infolen);
    lua_Integer n = luaL_checkinteger(L, 5);
    luaL_Buffer b;
    char *p;

    luaL_argcheck(L, n >= 0 && n <= CRYPTO_HKDF_MAX, 5, "out of range");
    p = luaL_buffinitsize(L, &b, (size_t)n);
    if (crypto_hkdf(alg, ikm, ikmlen, salt, saltlen, info, infolen,
                    (unsigned char *)p, (size_t)n, &err) < 0)
        return lcore_fail(L, err);
    luaL_pushresultsize(&b, (size_t)n);
    return 1;
}

/* kmsemu.core.hex */
static int lcore_hex(lua_State *L)
{
    size_t len;
    const char *data = luaL_checklstring(L, 1, &len);
    luaL_Buffer b;

    luaL_argcheck(L, len < SIZE_MAX / 2, 1, "string too long");
    crypto_hex(data, len, luaL_buffinitsize(L, &b, 2 * len));
    luaL_pushresultsize(&b, 2 * len);
    return 1;
}

/* kmsemu.core.unhex */
static int lcore_unhex(lua_State *L)
{
    size_t len, outlen;
    const char *s = luaL_checklstring(L, 1, &len), *err;
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, len / 2);

    if (crypto_unhex(s, len, (unsigned char *)p, &outlen, &err) < 0)
        return lcore_fail(L, err);
    luaL_pushresultsize(&b, outlen);
    return 1;
}

/* kmsemu.core.b64 */
static int lcore_b64(lua_State *L)
{
    size_t len;
    const char *data = luaL_checklstring(L, 1, &len);
    luaL_Buffer b;

    luaL_argcheck(L, len < SIZE_MAX / 2, 1, "string too long");
    crypto_b64(data, len, luaL_buffinitsize(L, &b, crypto_b64_len(len)));
    luaL_pushresultsize(&b, crypto_b64_len(len));
    return 1;
}

/* kmsemu.core.unb64 */
static int lcore_unb64(lua_State *L)
{
    size_t len, outlen;
    const char *s = luaL_checklstring(L, 1, &len), *err;
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, len / 4 * 3);

    if (crypto_unb64(s, len, (unsigned char *)p, &outlen, &err) < 0)
        return lcore_fail(L, err);
    luaL_pushresultsize(&b, outlen);
    return 1;
}

/* The first occurrence of old in [p, end), or NULL: memchr for its first
 * byte, then a compare, as glibc's memmem sets up a search on every call. */
static const char *
lcore_find(const char *p, const char *end, const char *old, size_t oldlen)
{
    while ((size_t)(end - p) >= oldlen &&
           (p = memchr(p, old[0], (size_t)(end - p) - oldlen + 1)) != NULL) {
        if (memcmp(p + 1, old + 1, oldlen - 1) == 0)
            return p;
        p++;
    }
    return NULL;
}

/* kmsemu.core.replace(s, old, new): every occurrence of the plain string
 * old replaced, left to right: the JSON encoder's escaped slashes, which
 * a Lua loop of find and sub undid slower than the rest of the request. */
static int lcore_replace(lua_State *L)
{
    size_t len, oldlen, newlen;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *old = luaL_checklstring(L, 2, &oldlen);
    const char *new = luaL_checklstring(L, 3, &newlen);
    const char *p = s, *end = s + len, *hit;
    luaL_Buffer b;

    luaL_argcheck(L, oldlen > 0, 2, "empty pattern");
    if ((hit = lcore_find(p, end, old, oldlen)) == NULL) {
        lua_settop(L, 1);
        return 1;
    }
    /* Sized once for the usual case, a shorter replacement. */
    luaL_buffinitsize(L, &b, len);
    do {
        luaL_addlstring(&b, p, (size_t)(hit - p));
        luaL_addlstring(&b, new, newlen);
        p = hit + oldlen;
    } while ((hit = lcore_find(p, end, old, oldlen)) != NULL);
    luaL_addlstring(&b, p, (size_t)(end - p));
    luaL_pushresult(&b);
    return 1;
}

/* kmsemu.core.aead_seal */
static int lcore_aead_seal(lua_State *L)
{
    const char *cipher = luaL_checkstring(L, 1), *err;
    size_t keylen, ivlen, len, aadlen;
    const char *key = luaL_checklstring(L, 2, &keylen);
    const char *iv = luaL_checklstring(L, 3, &ivlen);
    const char *data = luaL_checklstring(L, 4, &len);
    const char *aad = luaL_optlstring(L, 5, "", &aadlen);
    unsigned char tag[CRYPTO_TAG_LEN];
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, len);

    if (crypto_aead_seal(cipher, key, keylen, iv, ivlen, data, len, aad, aadlen,
                         (unsigned char *)p, tag, &err) < 0)
        return lcore_fail(L, err);
    luaL_pushresultsize(&b, len);
    lua_pushlstring(L, (const char *)tag, sizeof(tag));
    return 2;
}

/* kmsemu.core.aead_open */
static int lcore_aead_open(lua_State *L)
{
    const char *cipher = luaL_checkstring(L, 1), *err;
    size_t keylen, ivlen, len, aadlen, taglen;
    const char *key = luaL_checklstring(L, 2, &keylen);
    const char *iv = luaL_checklstring(L, 3, &ivlen);
    const char *data = luaL_checklstring(L, 4, &len);
    const char *aad = luaL_optlstring(L, 5, "", &aadlen);
    const char *tag = luaL_checklstring(L, 6, &taglen);
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, len);

    if (crypto_aead_open(cipher, key, keylen, iv, ivlen, data, len, aad, aadlen,
                         tag, taglen, (unsigned char *)p, &err) < 0)
        return lcore_fail(L, err);
    luaL_pushresultsize(&b, len);
    return 1;
}

/* kmsemu.core.cipher */
static int lcore_cipher(lua_State *L)
{
    const char *cipher = luaL_checkstring(L, 1), *err;
    size_t keylen, ivlen, len, outlen;
    const char *key = luaL_checklstring(L, 2, &keylen);
    const char *iv = luaL_optlstring(L, 3, "", &ivlen);
    const char *data = luaL_checklstring(L, 4, &len);
    int encrypt;
    luaL_Buffer b;
    char *p;

    luaL_checktype(L, 5, LUA_TBOOLEAN);
    encrypt = lua_toboolean(L, 5);
    luaL_argcheck(L, len <= SIZE_MAX - CRYPTO_MAX_BLOCK, 4, "string too long");
    p = luaL_buffinitsize(L, &b, len + CRYPTO_MAX_BLOCK);
    if (crypto_cipher(cipher, key, keylen, iv, ivlen, data, len, encrypt,
                      (unsigned char *)p, &outlen, &err) < 0)
        return lcore_fail(L, err);
    luaL_pushresultsize(&b, outlen);
    return 1;
}

static double lcore_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Adds the time since `since` to the host's budget credit. */
static void lcore_credit(lua_State *L, double since)
{
    lua_Number credit;

    lua_getfield(L, LUA_REGISTRYINDEX, KMS_BUDGET_CREDIT);
    credit = lua_tonumber(L, -1) + (lcore_now_ms() - since);
    lua_pop(L, 1);
    lua_pushnumber(L, credit);
    lua_setfield(L, LUA_REGISTRYINDEX, KMS_BUDGET_CREDIT);
}

/* kmsemu.core.clock: monotonic milliseconds. os.clock() is process CPU
 * time, which sums every civetweb thread: wrong for a latency, and slow
 * to read with 64 threads. */
static int lcore_clock(lua_State *L)
{
    lua_pushnumber(L, lcore_now_ms());
    return 1;
}

/* Whether this call may yield its work to the host (see kms_offload). */
static int lcore_can_offload(lua_State *L)
{
    int ours;

    if (!lua_isyieldable(L))
        return 0;
    lua_getfield(L, LUA_REGISTRYINDEX, KMS_OFFLOAD_THREAD);
    lua_pushthread(L);
    ours = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return ours;
}

/* Key generation, done inline or by the host; kind and seed point into
 * Lua strings that stay on the yielded coroutine's stack. */
struct lcore_keygen {
    struct kms_offload base;
    const char *kind, *seed;
    size_t seedlen;
    int derive; /* pkey_derive, else pkey_generate */
    int rc;
    const char *err;
    char *priv, *pub;
    size_t privlen, publen;
};

static void lcore_keygen_run(struct kms_offload *job)
{
    struct lcore_keygen *k = (struct lcore_keygen *)job;

    k->priv = k->pub = NULL;
    k->rc = k->derive
        ? crypto_pkey_derive(k->kind, k->seed, k->seedlen, &k->priv, &k->privlen, &k->err)
        : crypto_pkey_generate(k->kind, &k->priv, &k->privlen, &k->pub, &k->publen, &k->err);
}

/* Pushes the results of a finished job: the private PEM, and the public
 * one after a generation. */
static int lcore_keygen_push(lua_State *L, struct lcore_keygen *k)
{
    void **privbox, **pubbox;

    if (k->rc < 0)
        return lcore_fail(L, k->err);
    /* Boxed first: a failing push below still frees both PEMs. */
    privbox = lcore_box(L);
    *privbox = k->priv;
    pubbox = lcore_box(L);
    *pubbox = k->pub;
    lcore_unbox(L, privbox, k->privlen);
    if (k->derive)
        return 1;
    lcore_unbox(L, pubbox, k->publen);
    return 2;
}

static int lcore_keygen_done(lua_State *L, int status, lua_KContext at)
{
    (void)status;
    return lcore_keygen_push(L, lua_touserdata(L, (int)at));
}

static int lcore_keygen(lua_State *L, int derive)
{
    struct lcore_keygen *k = lua_newuserdatauv(L, sizeof(*k), 0);
    double start;

    memset(k, 0, sizeof(*k));
    k->base.run = lcore_keygen_run;
    k->kind = luaL_checkstring(L, 1);
    k->derive = derive;
    if (derive)
        k->seed = luaL_checklstring(L, 2, &k->seedlen);
    if (lcore_can_offload(L)) {
        lua_pushlightuserdata(L, k);
        return lua_yieldk(L, 1, (lua_KContext)(lua_gettop(L) - 1), lcore_keygen_done);
    }
    start = lcore_now_ms();
    lcore_keygen_run(&k->base);
    lcore_credit(L, start);
    return lcore_keygen_push(L, k);
}

/* kmsemu.core.pkey_generate */
static int lcore_pkey_generate(lua_State *L)
{
    return lcore_keygen(L, 0);
}

/* kmsemu.core.pkey_public_der */
static int lcore_pkey_public_der(lua_State *L)
{
    size_t len, derlen;
    const char *pem = luaL_checklstring(L, 1, &len), *err;
    void **box = lcore_box(L);
    unsigned char *der;

    if (crypto_pkey_public_der(pem, len, &der, &derlen, &err) < 0)
        return lcore_fail(L, err);
    *box = der;
    lcore_unbox(L, box, derlen);
    return 1;
}

static int lcore_pkey_crypt(lua_State *L, int decrypt)
{
    size_t pemlen, len, outlen;
    const char *pem = luaL_checklstring(L, 1, &pemlen);
    const char *padding = luaL_checkstring(L, 2), *err;
    const char *data = luaL_checklstring(L, 3, &len);
    void **box = lcore_box(L);
    unsigned char *out;
    int rc = decrypt
        ? crypto_pkey_decrypt(pem, pemlen, padding, data, len, &out, &outlen, &err)
        : crypto_pkey_encrypt(pem, pemlen, padding, data, len, &out, &outlen, &err);

    if (rc < 0)
        return lcore_fail(L, err);
    *box = out;
    lcore_unbox(L, box, outlen);
    return 1;
}

/* kmsemu.core.pkey_encrypt */
static int lcore_pkey_encrypt(lua_State *L)
{
    return lcore_pkey_crypt(L, 0);
}

/* kmsemu.core.pkey_decrypt */
static int lcore_pkey_decrypt(lua_State *L)
{
    return lcore_pkey_crypt(L, 1);
}

/* kmsemu.core.pkey_derive */
static int lcore_pkey_derive(lua_State *L)
{
    return lcore_keygen(L, 1);
}

/* kmsemu.core.pkey_info */
static int lcore_pkey_info(lua_State *L)
{
    size_t len;
    const char *pem = luaL_checklstring(L, 1, &len), *err;
    crypto_key_info info;

    if (crypto_pkey_info(pem, len, &info, &err) < 0)
        return lcore_fail(L, err);
    lua_createtable(L, 0, 3);
    lua_pushstring(L, info.kind);
    lua_setfield(L, -2, "kind");
    lua_pushinteger(L, (lua_Integer)info.bits);
    lua_setfield(L, -2, "bits");
    lua_pushboolean(L, info.private);
    lua_setfield(L, -2, "private");
    return 1;
}

/* kmsemu.core.pkey_public_pem */
static int lcore_pkey_public_pem(lua_State *L)
{
    size_t len, outlen;
    const char *pem = luaL_checklstring(L, 1, &len), *err;
    void **box = lcore_box(L);
    char *out;

    if (crypto_pkey_public_pem(pem, len, &out, &outlen, &err) < 0)
        return lcore_fail(L, err);
    *box = out;
    lcore_unbox(L, box, outlen);
    return 1;
}

/* kmsemu.core.pkey_private_der */
static int lcore_pkey_private_der(lua_State *L)
{
    size_t len, derlen;
    const char *pem = luaL_checklstring(L, 1, &len), *err;
    void **box = lcore_box(L);
    unsigned char *der;

    if (crypto_pkey_private_der(pem, len, &der, &derlen, &err) < 0)
        return lcore_fail(L, err);
    *box = der;
    lcore_unbox(L, box, derlen);
    return 1;
}

/* kmsemu.core.pkey_from_der */
static int lcore_pkey_from_der(lua_State *L)
{
    size_t len, pemlen;
    const char *der = luaL_checklstring(L, 1, &len), *err;
    void **box = lcore_box(L);
    char *pem;

    if (crypto_pkey_from_der(der, len, &pem, &pemlen, &err) < 0)
        return lcore_fail(L, err);
    *box = pem;
    lcore_unbox(L, box, pemlen);
    return 1;
}

/* kmsemu.core.pkey_derive_shared */
static int lcore_pkey_derive_shared(lua_State *L)
{
    size_t pemlen, peerlen, outlen;
    const char *pem = luaL_checklstring(L, 1, &pemlen), *err;
    const char *peer = luaL_checklstring(L, 2, &peerlen);
    void **box = lcore_box(L);
    unsigned char *out;

    if (crypto_pkey_derive_shared(pem, pemlen, peer, peerlen, &out, &outlen,
                                  &err) < 0)
        return lcore_fail(L, err);
    *box = out;
    lcore_unbox(L, box, outlen);
    return 1;
}

/* kmsemu.core.sign */
static int lcore_sign(lua_State *L)
{
    size_t pemlen, len, siglen;
    const char *pem = luaL_checklstring(L, 1, &pemlen);
    const char *alg = luaL_checkstring(L, 2), *err;
    const char *data = luaL_checklstring(L, 3, &len);
    int is_digest;
    void **box;
    unsigned char *sig;

    luaL_checktype(L, 4, LUA_TBOOLEAN);
    is_digest = lua_toboolean(L, 4);
    box = lcore_box(L);
    if (crypto_sign(pem, pemlen, alg, data, len, is_digest, &sig, &siglen, &err) < 0)
        return lcore_fail(L, err);
    *box = sig;
    lcore_unbox(L, box, siglen);
    return 1;
}

/* kmsemu.core.verify */
static int lcore_verify(lua_State *L)
{
    size_t pemlen, len, siglen;
    const char *pem = luaL_checklstring(L, 1, &pemlen);
    const char *alg = luaL_checkstring(L, 2), *err;
    const char *data = luaL_checklstring(L, 3, &len);
    const char *sig;
    int is_digest, valid;

    luaL_checktype(L, 4, LUA_TBOOLEAN);
    is_digest = lua_toboolean(L, 4);
    sig = luaL_checklstring(L, 5, &siglen);
    if (crypto_verify(pem, pemlen, alg, data, len, is_digest, sig, siglen,
                      &valid, &err) < 0)
        return lcore_fail(L, err);
    lua_pushboolean(L, valid);
    return 1;
}

/* kmsemu.core.sm2_za */
static int lcore_sm2_za(lua_State *L)
{
    size_t pemlen, len;
    const char *pem = luaL_checklstring(L, 1, &pemlen), *err;
    const char *msg = luaL_checklstring(L, 2, &len);
    unsigned char e[CRYPTO_SM3_LEN];

    if (crypto_sm2_za(pem, pemlen, msg, len, e, &err) < 0)
        return lcore_fail(L, err);
    lua_pushlstring(L, (const char *)e, sizeof(e));
    return 1;
}

static int lcore_sm2_convert(lua_State *L, int to_raw)
{
    size_t len, outlen;
    const char *in = luaL_checklstring(L, 1, &len), *err;
    void **box = lcore_box(L);
    unsigned char *out;
    int rc = to_raw ? crypto_sm2_der_to_raw(in, len, &out, &outlen, &err)
                    : crypto_sm2_raw_to_der(in, len, &out, &outlen, &err);

    if (rc < 0)
        return lcore_fail(L, err);
    *box = out;
    lcore_unbox(L, box, outlen);
    return 1;
}

/* kmsemu.core.sm2_der_to_raw */
static int lcore_sm2_der_to_raw(lua_State *L)
{
    return lcore_sm2_convert(L, 1);
}

/* kmsemu.core.sm2_raw_to_der */
static int lcore_sm2_raw_to_der(lua_State *L)
{
    return lcore_sm2_convert(L, 0);
}

/* kmsemu.core.equal */
static int lcore_equal(lua_State *L)
{
    size_t alen, blen;
    const char *a = luaL_checklstring(L, 1, &alen);
    const char *b = luaL_checklstring(L, 2, &blen);

    lua_pushboolean(L, crypto_equal(a, alen, b, blen));
    return 1;
}

/* kmsemu.core.algorithms */
static int lcore_algorithms(lua_State *L)
{
    size_t n;
    const crypto_algorithm *algs = crypto_algorithms(&n);

    lua_createtable(L, 0, (int)n);
    for (size_t i = 0; i < n; i++) {
        lua_pushboolean(L, algs[i].available);
        lua_setfield(L, -2, algs[i].name);
    }
    return 1;
}

/* The data directory's log (store.c): a handle userdata whose collection
 * closes the log and releases the directory's lock. */
static struct store **lcore_store(lua_State *L)
{
    struct store **h = luaL_checkudata(L, 1, LCORE_STORE);

    luaL_argcheck(L, *h != NULL, 1, "store is closed");
    return h;
}

static int lcore_store_gc(lua_State *L)
{
    struct store **h = luaL_checkudata(L, 1, LCORE_STORE);

    store_close(*h);
    *h = NULL;
    return 0;
}

/* kmsemu.core.store_open(dir) -> handle | nil, err */
static int lcore_store_open(lua_State *L)
{
    const char *dir = luaL_checkstring(L, 1);
    struct store **h = lua_newuserdatauv(L, sizeof(*h), 0);
    char err[512];

    *h = NULL;
    luaL_setmetatable(L, LCORE_STORE);
    if ((*h = store_open(dir, err, sizeof(err))) == NULL)
        return lcore_fail(L, err);
    return 1;
}

/* Called by store_read with the records table and the offsets table at
 * stack indices 2 and 3. */
static int lcore_store_record(void *arg, const char *data, size_t len, long offset)
{
    lua_State *L = arg;
    lua_Integer n = (lua_Integer)lua_rawlen(L, 2) + 1;

    lua_pushlstring(L, data, len);
    lua_rawseti(L, 2, n);
    lua_pushinteger(L, offset);
    lua_rawseti(L, 3, n);
    return 0;
}

/* kmsemu.core.store_read(h) -> records, offsets, warning|nil, path
 *                            | nil, err */
static int lcore_store_read(lua_State *L)
{
    struct store **h = lcore_store(L);
    char warn[512], err[768];

    lua_settop(L, 1);
    lua_newtable(L);
    lua_newtable(L);
    if (store_read(*h, lcore_store_record, L, warn, sizeof(warn), err,
                   sizeof(err)) != 0)
        return lcore_fail(L, err);
    if (warn[0])
        lua_pushstring(L, warn);
    else
        lua_pushnil(L);
    lua_pushstring(L, store_path(*h));
    return 4;
}

/* The strings of the list at index 2, as arrays store.c takes; both live
 * in userdata on the stack, so an error raised meanwhile leaks nothing. */
static size_t lcore_store_list(lua_State *L, const char ***data, size_t **len)
{
    size_t n, i;

    luaL_checktype(L, 2, LUA_TTABLE);
    n = (size_t)lua_rawlen(L, 2);
    *data = lua_newuserdatauv(L, (n ? n : 1) * sizeof(**data), 0);
    *len = lua_newuserdatauv(L, (n ? n : 1) * sizeof(**len), 0);
    for (i = 0; i < n; i++) {
        lua_rawgeti(L, 2, (lua_Integer)i + 1);
        luaL_argcheck(L, lua_type(L, -1) == LUA_TSTRING, 2, "records must be strings");
        (*data)[i] = lua_tolstring(L, -1, &(*len)[i]);
        lua_pop(L, 1); /* still referenced by the list */
    }
    return n;
}

static int lcore_store_write(lua_State *L, int rewrite)
{
    struct store **h = lcore_store(L);
    const char **data;
    size_t *len, n = lcore_store_list(L, &data, &len);
    char err[512];
    int rc = rewrite ? store_rewrite(*h, data, len, n, err, sizeof(err))
                     : store_append(*h, data, len, n, err, sizeof(err));

    if (rc != 0)
        return lcore_fail(L, err);
    lua_pushboolean(L, 1);
    return 1;
}

/* kmsemu.core.store_append(h, {record, ...}) -> true | nil, err */
static int lcore_store_append(lua_State *L)
{
    return lcore_store_write(L, 0);
}

/* kmsemu.core.store_rewrite(h, {record, ...}) -> true | nil, err */
static int lcore_store_rewrite(lua_State *L)
{
    return lcore_store_write(L, 1);
}

/* kmsemu.core.store_close(h): releases the lock now rather than at the
 * next collection. */
static int lcore_store_close(lua_State *L)
{
    return lcore_store_gc(L);
}

LUAMOD_API int luaopen_kmsemu_core(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"random", lcore_random},
        {"uuid", lcore_uuid},
        {"digest", lcore_digest},
        {"hmac", lcore_hmac},
        {"hkdf", lcore_hkdf},
        {"hex", lcore_hex},
        {"unhex", lcore_unhex},
        {"b64", lcore_b64},
        {"unb64", lcore_unb64},
        {"replace", lcore_replace},
        {"aead_seal", lcore_aead_seal},
        {"aead_open", lcore_aead_open},
        {"cipher", lcore_cipher},
        {"clock", lcore_clock},
        {"pkey_generate", lcore_pkey_generate},
        {"pkey_public_der", lcore_pkey_public_der},
        {"pkey_encrypt", lcore_pkey_encrypt},
        {"pkey_decrypt", lcore_pkey_decrypt},
        {"pkey_derive", lcore_pkey_derive},
        {"pkey_info", lcore_pkey_info},
        {"pkey_public_pem", lcore_pkey_public_pem},
        {"pkey_private_der", lcore_pkey_private_der},
        {"pkey_from_der", lcore_pkey_from_der},
        {"pkey_derive_shared", lcore_pkey_derive_shared},
        {"sign", lcore_sign},
        {"verify", lcore_verify},
        {"sm2_za", lcore_sm2_za},
        {"sm2_der_to_raw", lcore_sm2_der_to_raw},
        {"sm2_raw_to_der", lcore_sm2_raw_to_der},
        {"equal", lcore_equal},
        {"algorithms", lcore_algorithms},
        {"store_open", lcore_store_open},
        {"store_read", lcore_store_read},
        {"store_append", lcore_store_append},
        {"store_rewrite", lcore_store_rewrite},
        {"store_close", lcore_store_close},
        {NULL, NULL},
    };
    const char *err;

    if (crypto_init(&err) < 0)
        return luaL_error(L, "kmsemu.core: %s", err);
    if (luaL_newmetatable(L, LCORE_BOX)) {
        lua_pushcfunction(L, lcore_box_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, LCORE_STORE)) {
        lua_pushcfunction(L, lcore_store_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    return 1;
}
