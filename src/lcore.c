/* lcore.c -- kmsemu.core: the Lua binding. The cryptography is crypto.c's;
 * here are the codecs, key generation handed to the host, the clock, the
 * journal's packed arrays and the data directory's log (store.c). Bad
 * argument types raise; operational failures return nil and a reason.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>

#include "crypto.h"
#include "kmsemu.h"
#include "store.h"

#define LCORE_STORE "kmsemu.core.store"

static int lcore_fail(lua_State *L, const char *err)
{
    luaL_pushfail(L);
    lua_pushstring(L, err);
    return 2;
}

/* kmsemu.core.hex */
static int lcore_hex(lua_State *L)
{
    static const char digits[] = "0123456789abcdef";
    size_t len;
    const unsigned char *p = (const unsigned char *)luaL_checklstring(L, 1, &len);
    luaL_Buffer b;
    char *out;

    luaL_argcheck(L, len < SIZE_MAX / 2, 1, "string too long");
    out = luaL_buffinitsize(L, &b, 2 * len);
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    luaL_pushresultsize(&b, 2 * len);
    return 1;
}

static int lcore_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20; /* fold case */
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* kmsemu.core.unhex: odd lengths and non-hex digits fail. */
static int lcore_unhex(lua_State *L)
{
    size_t len;
    const unsigned char *p = (const unsigned char *)luaL_checklstring(L, 1, &len);
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, len / 2);

    if (len % 2 != 0)
        return lcore_fail(L, "invalid hex");
    for (size_t i = 0; i < len; i += 2) {
        int hi = lcore_hex_value(p[i]), lo = lcore_hex_value(p[i + 1]);

        if ((hi | lo) < 0)
            return lcore_fail(L, "invalid hex");
        out[i / 2] = (char)(hi << 4 | lo);
    }
    luaL_pushresultsize(&b, len / 2);
    return 1;
}

static const char lcore_b64_digits[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* kmsemu.core.b64: standard alphabet, padded. */
static int lcore_b64(lua_State *L)
{
    size_t len, n;
    const unsigned char *p = (const unsigned char *)luaL_checklstring(L, 1, &len);
    luaL_Buffer b;
    char *out;

    luaL_argcheck(L, len < SIZE_MAX / 2, 1, "string too long");
    n = (len + 2) / 3 * 4;
    out = luaL_buffinitsize(L, &b, n);
    for (; len >= 3; p += 3, len -= 3) {
        uint32_t v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];

        *out++ = lcore_b64_digits[v >> 18];
        *out++ = lcore_b64_digits[v >> 12 & 63];
        *out++ = lcore_b64_digits[v >> 6 & 63];
        *out++ = lcore_b64_digits[v & 63];
    }
    if (len > 0) {
        uint32_t v = (uint32_t)p[0] << 16 | (len == 2 ? (uint32_t)p[1] << 8 : 0);

        out[0] = lcore_b64_digits[v >> 18];
        out[1] = lcore_b64_digits[v >> 12 & 63];
        out[2] = len == 2 ? lcore_b64_digits[v >> 6 & 63] : '=';
        out[3] = '=';
    }
    luaL_pushresultsize(&b, n);
    return 1;
}

/* The value of each Base64 digit, -1 for any other byte: a table, as the
 * decoder runs over every byte of a 4 KiB plaintext or ciphertext. */
static const signed char lcore_b64_values[256] = {
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

/* kmsemu.core.unb64: strict, padded, no whitespace, no stray '='. Unused
 * low bits before the padding are ignored, as the Java and Go decoders of
 * the real services do. */
static int lcore_unb64(lua_State *L)
{
    size_t len, n = 0;
    const unsigned char *q = (const unsigned char *)luaL_checklstring(L, 1, &len);
    luaL_Buffer b;
    unsigned char *out = (unsigned char *)luaL_buffinitsize(L, &b, len / 4 * 3);

    if (len % 4 != 0)
        return lcore_fail(L, "invalid base64");
    for (size_t i = 0; i < len; i += 4, q += 4) {
        /* '=' may only end the last quantum, as "x=" or "==" */
        int pad = i + 4 < len ? 0 : (q[3] == '=') + (q[2] == '=' && q[3] == '=');
        int a = lcore_b64_values[q[0]], c = lcore_b64_values[q[1]];
        int d = pad < 2 ? lcore_b64_values[q[2]] : 0;
        int e = pad < 1 ? lcore_b64_values[q[3]] : 0;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)c << 12 | (uint32_t)d << 6 | (uint32_t)e;

        if ((a | c | d | e) < 0)
            return lcore_fail(L, "invalid base64");
        out[n++] = (unsigned char)(v >> 16);
        if (pad < 2)
            out[n++] = (unsigned char)(v >> 8);
        if (pad < 1)
            out[n++] = (unsigned char)v;
    }
    luaL_pushresultsize(&b, n);
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

/* kmsemu.core.keygen_paced() -> seconds key generation has given way to
 * waiting requests (crypto.h), since the process started. */
static int lcore_keygen_paced(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)crypto_paced_ns() / 1e9);
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
 * Lua strings, and priv and pub into boxes, that stay on the yielded
 * coroutine's stack: the boxes own the PEMs from the moment they exist,
 * so that no error raised on the way into Lua leaks one. */
struct lcore_keygen {
    struct kms_offload base;
    const char *kind, *seed;
    size_t seedlen;
    int derive; /* pkey_derive, else pkey_generate */
    int rc;
    const char *err;
    void **priv, **pub;
    size_t privlen, publen;
};

static void lcore_keygen_run(struct kms_offload *job)
{
    struct lcore_keygen *k = (struct lcore_keygen *)job;
    char *priv = NULL, *pub = NULL;

    k->rc = crypto_keygen(k->kind, k->seed, k->seedlen, k->derive, job->waiting,
                          &priv, &k->privlen, &pub, &k->publen, &k->err);
    *k->priv = priv;
    *k->pub = pub;
}

/* Pushes the results of a finished job: the private PEM, and the public
 * one after a generation. */
static int lcore_keygen_push(lua_State *L, struct lcore_keygen *k)
{
    if (k->rc < 0)
        return lcore_fail(L, k->err);
    crypto_unbox(L, k->priv, k->privlen);
    if (k->derive)
        return 1;
    crypto_unbox(L, k->pub, k->publen);
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
    int at = lua_gettop(L);
    double start;

    memset(k, 0, sizeof(*k));
    k->base.run = lcore_keygen_run;
    k->kind = luaL_checkstring(L, 1);
    k->derive = derive;
    if (derive)
        k->seed = luaL_checklstring(L, 2, &k->seedlen);
    k->priv = crypto_box(L);
    k->pub = crypto_box(L);
    if (lcore_can_offload(L)) {
        lua_pushlightuserdata(L, k);
        return lua_yieldk(L, 1, (lua_KContext)at, lcore_keygen_done);
    }
    start = lcore_now_ms();
    lcore_keygen_run(&k->base);
    lcore_credit(L, start);
    return lcore_keygen_push(L, k);
}

/* kmsemu.core.pkey_generate(kind) -> private PEM, public PEM */
static int lcore_pkey_generate(lua_State *L)
{
    return lcore_keygen(L, 0);
}

/* kmsemu.core.pkey_derive(kind, seed) -> private PEM (rule: crypto.h) */
static int lcore_pkey_derive(lua_State *L)
{
    return lcore_keygen(L, 1);
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

/* A record store_read() hands over, for lcore_store_push(). */
struct lcore_record {
    const char *data;
    size_t len;
    long offset;
};

/* Appends a record and its offset to the lists at 2 and 3. */
static int lcore_store_push(lua_State *L)
{
    const struct lcore_record *r = lua_touserdata(L, 1);
    lua_Integer n = (lua_Integer)lua_rawlen(L, 2) + 1;

    lua_pushlstring(L, r->data, r->len);
    lua_rawseti(L, 2, n);
    lua_pushinteger(L, r->offset);
    lua_rawseti(L, 3, n);
    return 0;
}

/* store_read()'s callback, with the records table and the offsets table
 * at stack indices 2 and 3. The pushes run protected: an error (the heap's
 * ceiling) must not jump over store_read()'s buffer. It stops the read
 * with 1 and waits on the stack. */
static int lcore_store_record(void *arg, const char *data, size_t len, long offset)
{
    lua_State *L = arg;
    struct lcore_record r = {data, len, offset};

    lua_pushcfunction(L, lcore_store_push);
    lua_pushlightuserdata(L, &r);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, 3);
    return lua_pcall(L, 3, 0, 0) == LUA_OK ? 0 : 1;
}

/* kmsemu.core.store_read(h) -> records, offsets, warning|nil, path
 *                            | nil, err */
static int lcore_store_read(lua_State *L)
{
    struct store **h = lcore_store(L);
    char warn[512], err[768];
    int rc;

    lua_settop(L, 1);
    lua_newtable(L);
    lua_newtable(L);
    rc = store_read(*h, lcore_store_record, L, warn, sizeof(warn), err, sizeof(err));
    if (rc > 0)
        return lua_error(L); /* the callback's, its buffer freed */
    if (rc != 0)
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

/* ---- packed arrays of optional unsigned 32-bit integers: the journal's
 * numbers and string ids, 4 bytes a value where a Lua array takes 16, and
 * nothing for the collector to walk ---- */

#define LCORE_U32 "kmsemu.core.u32"
#define LCORE_U32_NIL UINT32_MAX

struct lcore_u32 {
    lua_Integer n;    /* values */
    lua_Integer used; /* values written so far: the rest read as nil */
    uint32_t v[];
};

/* kmsemu.core.u32_new(n) -> an array of n nils */
static int lcore_u32_new(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 1);
    struct lcore_u32 *a;

    luaL_argcheck(L, n >= 1 && n <= (1 << 28), 1, "size out of range");
    /* Pages are touched as the array fills, not all at once. */
    a = lua_newuserdatauv(L, sizeof(*a) + (size_t)n * sizeof(uint32_t), 0);
    a->n = n;
    a->used = 0;
    luaL_setmetatable(L, LCORE_U32);
    return 1;
}

/* A number as an array keeps it: whole, from 0 to 2^32 - 2 (NaN as 0). */
static uint32_t lcore_u32_of(lua_State *L, int arg)
{
    lua_Number x;

    if (lua_isinteger(L, arg)) {
        lua_Integer i = lua_tointeger(L, arg);

        return i < 0 ? 0 : i >= LCORE_U32_NIL ? LCORE_U32_NIL - 1 : (uint32_t)i;
    }
    x = luaL_checknumber(L, arg);
    return !(x > 0) ? 0 : x >= LCORE_U32_NIL - 1 ? LCORE_U32_NIL - 1 : (uint32_t)x;
}

/* kmsemu.core.u32_set(a, i, v...): a[i], a[i + 1], ... = v...; each v a
 * number, kept whole and within [0, 2^32 - 2], or nil. */
static int lcore_u32_set(lua_State *L)
{
    struct lcore_u32 *a = luaL_checkudata(L, 1, LCORE_U32);
    lua_Integer i = luaL_checkinteger(L, 2) - 1, k = lua_gettop(L) - 2;

    luaL_argcheck(L, i >= 0 && i <= a->n - k, 2, "index out of range");
    for (int arg = 3; arg < 3 + k; arg++) /* all or nothing */
        if (!lua_isnil(L, arg))
            luaL_checknumber(L, arg);
    for (lua_Integer j = a->used; j < i; j++)
        a->v[j] = LCORE_U32_NIL;
    for (lua_Integer j = 0; j < k; j++)
        a->v[i + j] = lua_isnil(L, (int)j + 3) ? LCORE_U32_NIL : lcore_u32_of(L, (int)j + 3);
    if (i + k > a->used)
        a->used = i + k;
    return 0;
}

/* kmsemu.core.u32_get(a, i, k) -> a[i], ..., a[i + k - 1] */
static int lcore_u32_get(lua_State *L)
{
    struct lcore_u32 *a = luaL_checkudata(L, 1, LCORE_U32);
    lua_Integer i = luaL_checkinteger(L, 2) - 1, k = luaL_checkinteger(L, 3);

    luaL_argcheck(L, k >= 0 && k <= 64, 3, "count out of range");
    luaL_argcheck(L, i >= 0 && i <= a->n - k, 2, "index out of range");
    luaL_checkstack(L, (int)k, "u32_get");
    for (lua_Integer j = i; j < i + k; j++)
        if (j >= a->used || a->v[j] == LCORE_U32_NIL)
            lua_pushnil(L);
        else
            lua_pushinteger(L, a->v[j]);
    return (int)k;
}

LUAMOD_API int luaopen_kmsemu_core(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"hex", lcore_hex},
        {"unhex", lcore_unhex},
        {"b64", lcore_b64},
        {"unb64", lcore_unb64},
        {"replace", lcore_replace},
        {"clock", lcore_clock},
        {"pkey_generate", lcore_pkey_generate},
        {"pkey_derive", lcore_pkey_derive},
        {"keygen_paced", lcore_keygen_paced},
        {"store_open", lcore_store_open},
        {"store_read", lcore_store_read},
        {"store_append", lcore_store_append},
        {"store_rewrite", lcore_store_rewrite},
        {"store_close", lcore_store_close},
        {"u32_new", lcore_u32_new},
        {"u32_set", lcore_u32_set},
        {"u32_get", lcore_u32_get},
        {NULL, NULL},
    };

    luaL_newlib(L, funcs);
    crypto_open(L);
    if (luaL_newmetatable(L, LCORE_STORE)) {
        lua_pushcfunction(L, lcore_store_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    luaL_newmetatable(L, LCORE_U32);
    lua_pop(L, 1);
    return 1;
}
