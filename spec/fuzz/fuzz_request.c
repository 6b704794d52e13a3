/* fuzz_request.c -- the request path without sockets: bytes become a
 * request that vm_dispatch runs against scenarios/default.lua and the
 * Lua modules compiled in, as civetweb's glue would hand it over.
 *
 * Input: one mode byte, then "METHOD TARGET\n", header lines
 * "name: value\n", an empty line, and the body. The mode byte chooses:
 *   0, 3  the request as given: signatures are checked, and fail unless
 *         the input carries a valid one;
 *   1     signed for Huawei by spec/support/client.lua (method, path,
 *         query and body from the input, its headers added unless they
 *         would replace a signed one);
 *   2     signed for Tencent the same way (action, version and region
 *         from the input's X-TC-* headers).
 * So "signatures off" needs no switch in the emulator: the harness signs
 * what the fuzzer wrote, and the dialect code past authentication is
 * reached. Every 256 inputs the admin API resets the world, so the keys
 * the fuzzer creates do not pile up. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz.h"

/* vm_watch.c is compiled into this file so that the hook it sets and
 * clears for the time budget (its watchdog sets one once a deadline
 * passes; the end of each call clears it) goes through a wrapper. The wrapper keeps line
 * events on at all times, which give the fuzzer the Lua side's coverage
 * (fuzz.h), and hands count events to vm.c's own hook unchanged. New
 * coroutines inherit the line hook from the main state. */
static lua_Hook fuzz_vm_hook;

static void
fuzz_vm_wrap(lua_State *L, lua_Debug *ar)
{
    if (ar->event == LUA_HOOKLINE)
        fuzz_cover(L, ar);
    else if (fuzz_vm_hook != NULL)
        fuzz_vm_hook(L, ar);
}

static void
fuzz_sethook(lua_State *L, lua_Hook f, int mask, int count)
{
    fuzz_vm_hook = f;
    if (f == NULL)
        lua_sethook(L, fuzz_vm_wrap, LUA_MASKLINE, 0);
    else
        lua_sethook(L, fuzz_vm_wrap, mask | LUA_MASKLINE, count);
}

#define lua_sethook fuzz_sethook
#include "vm_watch.c"
#undef lua_sethook

#define FUZZ_MAX_HEADERS 64

static struct vm *fuzz_vm;
static lua_State *fuzz_signer; /* runs spec/fuzz/sign.lua */
static int fuzz_sign = LUA_NOREF;
static unsigned long fuzz_runs;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct vm_config cfg = {
        .scenario = FUZZ_ROOT "/scenarios/default.lua",
        .script_ms = KMS_DEFAULT_SCRIPT_MS,
    };
    char err[512];

    (void)argc;
    (void)argv;
    if ((fuzz_vm = vm_create(&cfg, err, sizeof(err))) == NULL) {
        fprintf(stderr, "fuzz: %s\n", err);
        abort();
    }
    fuzz_signer = fuzz_state("fuzz.sign");
    fuzz_sign = luaL_ref(fuzz_signer, LUA_REGISTRYINDEX);
    return 0;
}

static void
fuzz_dispatch(const struct kms_request *req)
{
    struct kms_response res = {0};

    vm_dispatch(fuzz_vm, req, &res);
    if (res.status < 100 || (res.error == NULL && res.body == NULL)) {
        fprintf(stderr, "fuzz: no response\n");
        abort();
    }
    free(res.mem);
}

static void
fuzz_reset(void)
{
    struct kms_request req = {
        .method = "POST", .path = "/_kmsemu/reset", .query = "",
        .remote_addr = "127.0.0.1", .body = "", .keep_alive = 1,
    };

    fuzz_dispatch(&req);
}

/* Splits data into the signer's arguments, pushed on L: mode, method,
 * path, query, body and a table of headers. */
static void
fuzz_push_parts(lua_State *L, int mode, const char *p, size_t n)
{
    const char *end = p + n, *nl, *sp, *q, *colon;

    lua_pushinteger(L, mode);
    nl = memchr(p, '\n', n);
    if (nl == NULL)
        nl = end;
    sp = memchr(p, ' ', (size_t)(nl - p));
    if (sp == NULL)
        sp = p;
    lua_pushlstring(L, p, (size_t)(sp - p));
    if (sp < nl)
        sp++;
    q = memchr(sp, '?', (size_t)(nl - sp));
    lua_pushlstring(L, sp, (size_t)((q ? q : nl) - sp));
    if (q != NULL)
        lua_pushlstring(L, q + 1, (size_t)(nl - q - 1));
    else
        lua_pushliteral(L, "");
    p = nl < end ? nl + 1 : end;
    lua_newtable(L);
    while (p < end && *p != '\n') {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            nl = end;
        colon = memchr(p, ':', (size_t)(nl - p));
        if (colon != NULL) {
            const char *v = colon + 1;

            while (v < nl && *v == ' ')
                v++;
            lua_pushlstring(L, p, (size_t)(colon - p));
            lua_pushlstring(L, v, (size_t)(nl - v));
            lua_settable(L, -3);
        }
        p = nl < end ? nl + 1 : end;
    }
    if (p < end)
        p++;
    lua_pushlstring(L, p, (size_t)(end - p));
    lua_insert(L, -2); /* body before headers */
}

/* The request table sign.lua returned, at the top of L, as the C core's
 * struct. Its strings stay on L until the dispatch is done. */
static void
fuzz_run_table(lua_State *L)
{
    struct kms_header headers[FUZZ_MAX_HEADERS];
    struct kms_request req = { .remote_addr = "127.0.0.1", .keep_alive = 1 };
    int t = lua_gettop(L);

    lua_getfield(L, t, "method");
    req.method = lua_tostring(L, -1);
    lua_getfield(L, t, "path");
    req.path = lua_tostring(L, -1);
    lua_getfield(L, t, "query");
    req.query = lua_tostring(L, -1);
    lua_getfield(L, t, "body");
    req.body = lua_tolstring(L, -1, &req.body_len);
    if (!req.method || !req.path || !req.query || !req.body)
        abort(); /* sign.lua always fills them */
    lua_getfield(L, t, "headers");
    lua_pushnil(L);
    while (lua_next(L, -2) != 0 && req.num_headers < FUZZ_MAX_HEADERS) {
        headers[req.num_headers].name = lua_tostring(L, -2);
        headers[req.num_headers].value = lua_tostring(L, -1);
        req.num_headers++;
        lua_pop(L, 1); /* the value stays referenced by the table */
    }
    req.headers = headers;
    fuzz_dispatch(&req);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lua_State *L = fuzz_signer;

    if (size < 1)
        return 0;
    if (++fuzz_runs % 256 == 0)
        fuzz_reset();
    lua_rawgeti(L, LUA_REGISTRYINDEX, fuzz_sign);
    fuzz_push_parts(L, data[0] & 3, (const char *)data + 1, size - 1);
    fuzz_call(L, 6, 1);
    if (lua_istable(L, -1))
        fuzz_run_table(L);
    lua_settop(L, 0);
    return 0;
}
