/* vm.c -- hosts the Lua state: loading, the per-request time budget, and the
 * translation of a request into a Lua table and of the answer into bytes. */
#include "vm.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

int luaopen_kmsemu_core(lua_State *L);
int luaopen_cjson(lua_State *L);
int luaopen_cjson_safe(lua_State *L);

/* How many VM instructions run between two looks at the clock. */
#define VM_HOOK_COUNT 1000

struct vm {
    lua_State *L;
    pthread_mutex_t lock;
    int handle_ref; /* registry reference to kmsemu.handle */
    long script_ms;
    size_t heap; /* bytes the Lua state holds */
    long budget_ms; /* of the call under way */
    struct timespec deadline;
    char timeout[256]; /* the message of a spent budget, once set */
};

static void
vm_clock(struct timespec *ts)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
}

static int
vm_past(const struct timespec *deadline)
{
    struct timespec now;

    vm_clock(&now);
    if (now.tv_sec != deadline->tv_sec)
        return now.tv_sec > deadline->tv_sec;
    return now.tv_nsec >= deadline->tv_nsec;
}

static void
vm_extend(struct vm *vm, long ms)
{
    vm->deadline.tv_sec += ms / 1000;
    vm->deadline.tv_nsec += (ms % 1000) * 1000000L;
    if (vm->deadline.tv_nsec >= 1000000000L) {
        vm->deadline.tv_sec++;
        vm->deadline.tv_nsec -= 1000000000L;
    }
}

static void
vm_arm(struct vm *vm, long ms)
{
    vm_clock(&vm->deadline);
    vm_extend(vm, ms);
}

/* Moves the time the binding spent generating keys into the deadline.
 * Returns whether the deadline is then still ahead. */
static int
vm_take_credit(struct vm *vm)
{
    lua_State *L = vm->L;
    lua_Integer ms;

    lua_getfield(L, LUA_REGISTRYINDEX, KMS_BUDGET_CREDIT);
    ms = (lua_Integer)lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (ms <= 0)
        return 0;
    lua_pushinteger(L, 0);
    lua_setfield(L, LUA_REGISTRYINDEX, KMS_BUDGET_CREDIT);
    vm_extend(vm, (long)ms);
    return !vm_past(&vm->deadline);
}

/* lauxlib's allocator with a ceiling: a failed allocation makes Lua
 * collect garbage, retry, and then raise a memory error that the
 * request's pcall turns into a 500, where malloc would let the process
 * grow until the kernel kills it. */
static void *
vm_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct vm *vm = ud;
    void *p;

    if (ptr == NULL)
        osize = 0;
    if (nsize == 0) {
        free(ptr);
        vm->heap -= osize;
        return NULL;
    }
    if (nsize > osize && vm->heap + (nsize - osize) > KMS_LUA_HEAP_MAX)
        return NULL;
    if ((p = realloc(ptr, nsize)) != NULL)
        vm->heap += nsize - osize;
    return p;
}

static int
vm_panic(lua_State *L)
{
    fprintf(stderr, "kmsemu: Lua panic: %s\n", lua_tostring(L, -1));
    return 0; /* Lua aborts */
}

/* Once the budget is spent the hook fires on every instruction and raises
 * each time, so a pcall inside a scenario cannot swallow the error and go
 * on looping: the error reaches the outermost pcall in vm_pcall. Every
 * raise repeats the first message, which names where the script was. */
static void
vm_hook(lua_State *L, lua_Debug *ar)
{
    struct vm *vm = *(struct vm **)lua_getextraspace(L);

    (void)ar;
    if (vm->timeout[0] == '\0') {
        if (!vm_past(&vm->deadline) || vm_take_credit(vm))
            return;
        luaL_where(L, 0);
        snprintf(vm->timeout, sizeof(vm->timeout),
                 "%sscript time budget of %ld ms exceeded",
                 lua_tostring(L, -1), vm->budget_ms);
        lua_pop(L, 1);
        lua_sethook(L, vm_hook, LUA_MASKCOUNT, 1);
    }
    lua_pushstring(L, vm->timeout);
    lua_error(L);
}

static int
vm_traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);

    if (msg == NULL)
        msg = luaL_tolstring(L, 1, NULL);
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* Calls the function below nargs arguments with the time budget armed.
 * Leaves one result (or the error message, with a traceback when asked)
 * on the stack. */
static int
vm_pcall(struct vm *vm, int nargs, long budget_ms, int traceback)
{
    int base = lua_gettop(vm->L) - nargs, msgh = 0;
    int rc;

    if (traceback) {
        lua_pushcfunction(vm->L, vm_traceback);
        lua_insert(vm->L, base);
        msgh = base;
    }
    vm->timeout[0] = '\0';
    vm->budget_ms = budget_ms;
    lua_pushinteger(vm->L, 0);
    lua_setfield(vm->L, LUA_REGISTRYINDEX, KMS_BUDGET_CREDIT);
    vm_arm(vm, budget_ms);
    lua_sethook(vm->L, vm_hook, LUA_MASKCOUNT, VM_HOOK_COUNT);
    rc = lua_pcall(vm->L, nargs, 1, msgh);
    lua_sethook(vm->L, NULL, 0, 0);
    if (traceback)
        lua_remove(vm->L, base);
    return rc;
}

static void
vm_preload(lua_State *L, const char *name, lua_CFunction open)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, open);
    lua_setfield(L, -2, name);
    lua_pop(L, 1);
}

/* Dialect code is trusted project code and may require its own modules,
 * but only from lua_dir and never a shared object from elsewhere. */
static void
vm_paths(lua_State *L, const char *lua_dir)
{
    lua_getglobal(L, "package");
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua", lua_dir, lua_dir);
    lua_setfield(L, -2, "path");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "cpath");
    lua_pop(L, 1);
}

/* require("kmsemu").start{scenario = ..., admin_token = ...}; returns 0 or -1 with err set. */
static int
vm_start(struct vm *vm, const struct vm_config *cfg, char *err, size_t errlen)
{
    lua_State *L = vm->L;

    lua_getglobal(L, "require");
    lua_pushliteral(L, "kmsemu");
    if (vm_pcall(vm, 1, cfg->script_ms * 10, 0) != LUA_OK)
        goto fail;
    lua_getfield(L, -1, "handle");
    if (!lua_isfunction(L, -1)) {
        snprintf(err, errlen, "kmsemu.handle is not a function");
        return -1;
    }
    vm->handle_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getfield(L, -1, "start");
    lua_createtable(L, 0, 1);
    if (cfg->scenario != NULL) {
        lua_pushstring(L, cfg->scenario);
        lua_setfield(L, -2, "scenario");
    }
    if (cfg->admin_token != NULL) {
        lua_pushstring(L, cfg->admin_token);
        lua_setfield(L, -2, "admin_token");
    }
    if (vm_pcall(vm, 1, cfg->script_ms * 10, 0) != LUA_OK)
        goto fail;
    if (lua_isstring(L, -1)) { /* start() returns an error message */
        snprintf(err, errlen, "%s", lua_tostring(L, -1));
        return -1;
    }
    lua_settop(L, 0);
    return 0;
fail:
    snprintf(err, errlen, "%s", lua_tostring(L, -1));
    return -1;
}

struct vm *
vm_create(const struct vm_config *cfg, char *err, size_t errlen)
{
    pthread_mutexattr_t attr;
    struct vm *vm = calloc(1, sizeof(*vm));

    if (vm == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    vm->script_ms = cfg->script_ms;
    vm->handle_ref = LUA_NOREF;
    vm->L = lua_newstate(vm_alloc, vm);
    if (vm->L == NULL) {
        snprintf(err, errlen, "cannot create a Lua state");
        free(vm);
        return NULL;
    }
    lua_atpanic(vm->L, vm_panic);
    *(struct vm **)lua_getextraspace(vm->L) = vm;
    luaL_openlibs(vm->L);
    vm_preload(vm->L, "kmsemu.core", luaopen_kmsemu_core);
    vm_preload(vm->L, "cjson", luaopen_cjson);
    vm_preload(vm->L, "cjson.safe", luaopen_cjson_safe);
    vm_paths(vm->L, cfg->lua_dir);

    /* An adaptive mutex spins briefly before sleeping: the critical
     * section is a few microseconds, shorter than a futex round trip. */
    pthread_mutexattr_init(&attr);
#ifdef PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
    pthread_mutex_init(&vm->lock, &attr);
    pthread_mutexattr_destroy(&attr);

    if (vm_start(vm, cfg, err, errlen) != 0) {
        vm_destroy(vm);
        return NULL;
    }
    return vm;
}

const char *
vm_describe(struct vm *vm, const char *url)
{
    static char text[2048];
    lua_State *L = vm->L;

    text[0] = '\0';
    pthread_mutex_lock(&vm->lock);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "kmsemu");
    if (vm_pcall(vm, 1, vm->script_ms, 0) == LUA_OK) {
        lua_getfield(L, -1, "describe");
        lua_pushstring(L, url);
        if (vm_pcall(vm, 1, vm->script_ms, 0) == LUA_OK && lua_isstring(L, -1))
            snprintf(text, sizeof(text), "%s", lua_tostring(L, -1));
    }
    lua_settop(L, 0);
    pthread_mutex_unlock(&vm->lock);
    return text;
}

void
vm_destroy(struct vm *vm)
{
    if (vm == NULL)
        return;
    lua_close(vm->L);
    pthread_mutex_destroy(&vm->lock);
    free(vm);
}

/* Header names reach Lua in lower case, so dialect code looks them up
 * without regard to case (Go's net/http sends "X-Tc-Action"). A repeated
 * header is joined with ", " as RFC 9110 allows. */
static void
vm_push_headers(lua_State *L, const struct kms_request *req)
{
    char name[128];
    int i;

    lua_createtable(L, 0, req->num_headers);
    for (i = 0; i < req->num_headers; i++) {
        size_t n = strlen(req->headers[i].name), j;

        if (n >= sizeof(name))
            n = sizeof(name) - 1;
        for (j = 0; j < n; j++)
            name[j] = (char)tolower((unsigned char)req->headers[i].name[j]);
        lua_pushlstring(L, name, n);
        lua_pushvalue(L, -1);
        if (lua_rawget(L, -3) == LUA_TSTRING) {
            lua_pushliteral(L, ", ");
            lua_pushstring(L, req->headers[i].value);
            lua_concat(L, 3);
        } else {
            lua_pop(L, 1);
            lua_pushstring(L, req->headers[i].value);
        }
        lua_rawset(L, -3);
    }
}

static void
vm_push_request(lua_State *L, const struct kms_request *req)
{
    lua_createtable(L, 0, 6);
    lua_pushstring(L, req->method);
    lua_setfield(L, -2, "method");
    lua_pushstring(L, req->path);
    lua_setfield(L, -2, "path");
    lua_pushstring(L, req->query);
    lua_setfield(L, -2, "query");
    lua_pushstring(L, req->remote_addr);
    lua_setfield(L, -2, "remote_addr");
    lua_pushlstring(L, req->body, req->body_len);
    lua_setfield(L, -2, "body");
    vm_push_headers(L, req);
    lua_setfield(L, -2, "headers");
}

static const char *
vm_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

/* A growable byte buffer for the wire form of a response. */
struct vm_buf {
    char *p;
    size_t len, cap;
};

static int
vm_put(struct vm_buf *b, const char *s, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 512;
        char *p;

        while (cap < b->len + n)
            cap *= 2;
        if ((p = realloc(b->p, cap)) == NULL)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return 0;
}

static int
vm_putf(struct vm_buf *b, const char *fmt, const char *a, const char *c)
{
    char line[1024];
    int n = snprintf(line, sizeof(line), fmt, a, c);

    if (n < 0 || (size_t)n >= sizeof(line))
        return 0; /* a header too long to be real is dropped */
    return vm_put(b, line, (size_t)n);
}

static void
vm_plain(struct kms_response *res, int status, const char *msg, int keep_alive)
{
    char body[512], head[256];
    int nb, nh;

    nb = snprintf(body, sizeof(body), "{\"kmsemu_error\":\"%s\"}", msg);
    if (nb < 0 || (size_t)nb >= sizeof(body))
        nb = snprintf(body, sizeof(body), "{\"kmsemu_error\":\"internal\"}");
    nh = snprintf(head, sizeof(head),
                  "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                  "Content-Length: %d\r\n%s\r\n",
                  status, vm_reason(status), nb,
                  keep_alive ? "" : "Connection: close\r\n");
    res->status = status;
    res->delay_ms = 0;
    res->wire = malloc((size_t)(nh + nb));
    res->wire_len = res->wire ? (size_t)(nh + nb) : 0;
    if (res->wire != NULL) {
        memcpy(res->wire, head, (size_t)nh);
        memcpy(res->wire + nh, body, (size_t)nb);
    }
}

/* Turns the response table at the top of the stack into bytes. */
static int
vm_wire(lua_State *L, const struct kms_request *req, struct kms_response *res)
{
    struct vm_buf b = {0};
    const char *body;
    size_t body_len;
    char num[32];
    int status;

    if (!lua_istable(L, -1))
        return -1;
    lua_getfield(L, -1, "status");
    status = (int)lua_tointeger(L, -1);
    lua_getfield(L, -2, "delay_ms");
    res->delay_ms = (long)lua_tointeger(L, -1);
    lua_getfield(L, -3, "body");
    body = lua_tolstring(L, -1, &body_len);
    if (status < 100 || status > 999 || body == NULL) {
        lua_pop(L, 3);
        return -1;
    }
    snprintf(num, sizeof(num), "%d", status);
    if (vm_putf(&b, "HTTP/1.1 %s %s\r\n", num, vm_reason(status)) != 0)
        goto oom;
    lua_getfield(L, -4, "headers");
    if (lua_istable(L, -1)) {
        lua_pushnil(L);
        while (lua_next(L, -2) != 0) {
            if (lua_type(L, -2) == LUA_TSTRING && lua_isstring(L, -1) &&
                vm_putf(&b, "%s: %s\r\n", lua_tostring(L, -2),
                        lua_tostring(L, -1)) != 0)
                goto oom;
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    snprintf(num, sizeof(num), "%zu", body_len);
    if (vm_putf(&b, "Content-Length: %s\r\n%s", num,
                req->keep_alive ? "" : "Connection: close\r\n") != 0 ||
        vm_put(&b, "\r\n", 2) != 0 || vm_put(&b, body, body_len) != 0)
        goto oom;
    lua_pop(L, 3);
    res->status = status;
    res->wire = b.p;
    res->wire_len = b.len;
    return 0;
oom:
    free(b.p);
    lua_settop(L, 0);
    return -1;
}

void
vm_dispatch(struct vm *vm, const struct kms_request *req,
            struct kms_response *res)
{
    lua_State *L = vm->L;

    pthread_mutex_lock(&vm->lock);
    lua_rawgeti(L, LUA_REGISTRYINDEX, vm->handle_ref);
    vm_push_request(L, req);
    if (vm_pcall(vm, 1, vm->script_ms, 1) != LUA_OK) {
        fprintf(stderr, "kmsemu: %s %s: %s\n", req->method, req->path,
                lua_tostring(L, -1));
        vm_plain(res, 500, "the emulator failed to handle the request",
                 req->keep_alive);
    } else if (vm_wire(L, req, res) != 0) {
        fprintf(stderr, "kmsemu: %s %s: malformed response table\n",
                req->method, req->path);
        vm_plain(res, 500, "the emulator produced no valid response",
                 req->keep_alive);
    }
    lua_settop(L, 0);
    pthread_mutex_unlock(&vm->lock);
}
