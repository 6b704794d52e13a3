/* vm.c -- the Lua state's life: the modules it loads, start-up with the
 * scenario, and shutdown. Requests go through it in vm_run.c, under the
 * time budget of vm_watch.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "vm_impl.h"

int luaopen_kmsemu_core(lua_State *L);
int luaopen_cjson(lua_State *L);
int luaopen_cjson_safe(lua_State *L);

static int
vm_panic(lua_State *L)
{
    const char *msg = lua_tostring(L, -1);

    fprintf(stderr, "kmsemu: unprotected Lua error: %s\n",
            msg ? msg : "(not a string)");
    return 0; /* Lua then aborts */
}

/* package.searchers[2] unless --lua-dir: the modules make compiled in. */
static int
vm_search_builtin(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const struct vm_module *m;

    for (m = vm_modules; m->name != NULL; m++) {
        if (strcmp(m->name, name) != 0)
            continue;
        if (luaL_loadbufferx(L, m->code, m->len, m->name, "b") != LUA_OK)
            return lua_error(L);
        lua_pushliteral(L, "(built in)");
        return 2;
    }
    lua_pushfstring(L, "\n\tno built-in module '%s'", name);
    return 1;
}

/* Modules come from the binary, or from lua_dir alone; never a shared
 * object from elsewhere. */
static void
vm_paths(lua_State *L, const char *lua_dir)
{
    lua_getglobal(L, "package");
    if (lua_dir != NULL)
        lua_pushfstring(L, "%s/?.lua;%s/?/init.lua", lua_dir, lua_dir);
    else
        lua_pushliteral(L, "");
    lua_setfield(L, -2, "path");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "cpath");
    if (lua_dir == NULL) {
        lua_getfield(L, -1, "searchers");
        lua_pushcfunction(L, vm_search_builtin);
        lua_rawseti(L, -2, 2);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

static void
vm_preload(lua_State *L)
{
    static const luaL_Reg mods[] = {
        {"kmsemu.core", luaopen_kmsemu_core},
        {"kmsemu.host", vm_open_host},
        {"cjson", luaopen_cjson},
        {"cjson.safe", luaopen_cjson_safe},
        {NULL, NULL},
    };

    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    luaL_setfuncs(L, mods, 0);
    lua_pop(L, 1);
}

/* The options table of kmsemu.start: scenario, admin_token, data_dir,
 * max_body = {NAME = bytes} from the "NAME=BYTES" rules main() checked,
 * log and log_format. */
static void
vm_push_options(lua_State *L, const struct vm_config *cfg)
{
    int i;

    lua_createtable(L, 0, 6);
    lua_pushstring(L, cfg->scenario);
    lua_setfield(L, -2, "scenario");
    lua_pushstring(L, cfg->admin_token);
    lua_setfield(L, -2, "admin_token");
    lua_pushstring(L, cfg->data_dir);
    lua_setfield(L, -2, "data_dir");
    lua_createtable(L, 0, cfg->n_max_body_rules);
    for (i = 0; i < cfg->n_max_body_rules; i++) {
        const char *rule = cfg->max_body_rules[i], *eq = strchr(rule, '=');

        if (eq == NULL)
            continue;
        lua_pushlstring(L, rule, (size_t)(eq - rule));
        lua_pushinteger(L, strtoll(eq + 1, NULL, 10));
        lua_settable(L, -3);
    }
    lua_setfield(L, -2, "max_body");
    lua_pushstring(L, cfg->log);
    lua_setfield(L, -2, "log");
    lua_pushstring(L, cfg->log_format);
    lua_setfield(L, -2, "log_format");
}

/* Lua sets the young generation as a share of the heap, so it grew with
 * the keys until it left the caches: keep it near VM_YOUNG_BYTES. */
#define VM_YOUNG_BYTES (512 * 1024)
/* A major collection once a small heap grows a quarter past what the last
 * one left: Lua's default (100) let old garbage double the heap after load.
 * Lua looks at that growth when a young generation is full, so the step is
 * at least a young generation and VM_MAJOR_SLACK more: a smaller one makes
 * every minor collection a major one (Lua keeps the step below 1024 %).
 * A major collection stops every request for as long as it walks the
 * heap, so a large heap keeps the default (docs/performance.md). */
#define VM_MAJOR_MUL 25
#define VM_MAJOR_SLACK (128 * 1024)
#define VM_MAJOR_SMALL_KIB (32 * 1024)

void
vm_tune_gc(lua_State *L)
{
    long kib = lua_gc(L, LUA_GCCOUNT), share, major = 100;

    if (kib < 1)
        kib = 1;
    share = VM_YOUNG_BYTES / 1024 * 100 / kib;
    share = share < 1 ? 1 : share > 100 ? 100 : share;
    if (kib <= VM_MAJOR_SMALL_KIB) {
        major = (VM_YOUNG_BYTES + VM_MAJOR_SLACK) / 1024 * 100 / kib;
        major = major < VM_MAJOR_MUL ? VM_MAJOR_MUL : major > 1000 ? 1000 : major;
    }
    lua_gc(L, LUA_GCGEN, (int)share, (int)major);
}

/* require("kmsemu"), keeps its handle and calls its start(options). */
static int
vm_start(struct vm *vm, const struct vm_config *cfg, char *err, size_t errlen)
{
    lua_State *L = vm->L;

    lua_getglobal(L, "require");
    lua_pushliteral(L, "kmsemu");
    if (vm_pcall(vm, 1, cfg->script_ms * 10) != LUA_OK)
        goto fail;
    lua_getfield(L, -1, "handle");
    if (!lua_isfunction(L, -1)) {
        snprintf(err, errlen, "kmsemu.handle is not a function");
        return -1;
    }
    vm->handle_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getfield(L, -1, "start");
    vm_push_options(L, cfg);
    if (vm_pcall(vm, 1, cfg->script_ms * 10) != LUA_OK ||
        lua_isstring(L, -1)) /* start() returns an error message */
        goto fail;
    lua_settop(L, 0);
    /* A request leaves young garbage only, while the keys, the journal
     * and the code are old and large. */
    vm_tune_gc(L);
    return 0;
fail:
    snprintf(err, errlen, "%s", lua_tostring(L, -1));
    return -1;
}

struct vm *
vm_create(const struct vm_config *cfg, char *err, size_t errlen)
{
    struct vm *vm = calloc(1, sizeof(*vm));

    if (vm != NULL)
        vm->heap.max = (size_t)(cfg->heap_mb > 0 ? cfg->heap_mb
                                                 : KMS_DEFAULT_LUA_HEAP_MB) << 20;
    if (vm == NULL || (vm->L = lua_newstate(vm_alloc, &vm->heap)) == NULL) {
        snprintf(err, errlen, "cannot create a Lua state");
        free(vm);
        return NULL;
    }
    vm->script_ms = cfg->script_ms;
    vm->handle_ref = vm->spare_ref = LUA_NOREF;
    *(struct vm **)lua_getextraspace(vm->L) = vm;
    lua_atpanic(vm->L, vm_panic);
    luaL_openlibs(vm->L);
    vm_preload(vm->L);
    vm_paths(vm->L, cfg->lua_dir);
    pthread_mutex_init(&vm->lock, NULL);
    pthread_mutex_init(&vm->qlock, NULL);
    if (vm_watch_start(vm) != 0) {
        snprintf(err, errlen, "cannot start the script watchdog");
        vm_destroy(vm);
        return NULL;
    }
    if (vm_start(vm, cfg, err, errlen) != 0) {
        vm_destroy(vm);
        return NULL;
    }
    return vm;
}

/* Calls require("kmsemu")[fn](arg) under the lock, leaving its result. */
static int
vm_call(struct vm *vm, const char *fn, const char *arg, long budget_ms)
{
    lua_State *L = vm->L;

    lua_getglobal(L, "require");
    lua_pushliteral(L, "kmsemu");
    if (vm_pcall(vm, 1, vm->script_ms) != LUA_OK)
        return LUA_ERRRUN;
    lua_getfield(L, -1, fn);
    if (arg != NULL)
        lua_pushstring(L, arg);
    return vm_pcall(vm, arg != NULL, budget_ms);
}

const char *
vm_describe(struct vm *vm, const char *url)
{
    static char text[2048];

    text[0] = '\0';
    pthread_mutex_lock(&vm->lock);
    if (vm_call(vm, "describe", url, vm->script_ms) == LUA_OK &&
        lua_isstring(vm->L, -1))
        snprintf(text, sizeof(text), "%s", lua_tostring(vm->L, -1));
    lua_settop(vm->L, 0);
    pthread_mutex_unlock(&vm->lock);
    return text;
}

int
vm_run_steps(struct vm *vm, long budget_ms)
{
    lua_State *L = vm->L;
    int failures = -1;

    pthread_mutex_lock(&vm->lock);
    if (vm_call(vm, "run", NULL, budget_ms) == LUA_OK && lua_isinteger(L, -1))
        failures = (int)lua_tointeger(L, -1);
    if (failures < 0)
        fprintf(stderr, "kmsemu: run: %s\n",
                lua_isstring(L, -1) ? lua_tostring(L, -1) : "no result");
    lua_settop(L, 0);
    pthread_mutex_unlock(&vm->lock);
    return failures;
}

void
vm_tick(struct vm *vm)
{
    pthread_mutex_lock(&vm->lock);
    vm_call(vm, "tick", NULL, vm->script_ms);
    lua_settop(vm->L, 0);
    pthread_mutex_unlock(&vm->lock);
}

void
vm_destroy(struct vm *vm)
{
    if (vm == NULL)
        return;
    vm_watch_stop(vm);
    lua_close(vm->L);
    vm_heap_free(&vm->heap);
    pthread_mutex_destroy(&vm->lock);
    pthread_mutex_destroy(&vm->qlock);
    free(vm);
}
