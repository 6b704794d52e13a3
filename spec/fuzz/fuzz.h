/* fuzz.h -- what the libFuzzer targets share: a Lua state that loads the
 * project's modules from the checkout FUZZ_ROOT (kmsemu.core and cjson
 * linked in),
 * with a heap cap and an instruction budget so that a fuzzed input can
 * neither exhaust memory nor loop forever without that being reported as
 * what it is. Built only by `make fuzz`. */
#ifndef KMS_FUZZ_H
#define KMS_FUZZ_H

#include <stdlib.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "kmsemu.h"

int luaopen_kmsemu_core(lua_State *L);
int luaopen_cjson(lua_State *L);
int luaopen_cjson_safe(lua_State *L);

#define FUZZ_HEAP_MAX ((size_t)256 << 20)
#define FUZZ_BUDGET 5000000 /* VM instructions per input */

/* libFuzzer sees the coverage of instrumented C only, and the Lua
 * interpreter is a Debian library: without help the fuzzer would be blind
 * to the Lua code, where the parsers are. A line hook hashes each Lua
 * (source, line) into these extra counters, which libFuzzer reads as it
 * reads its own. */
__attribute__((used, section("__libfuzzer_extra_counters")))
static unsigned char fuzz_lines[1 << 16];

static size_t fuzz_heap;
static int fuzz_spent; /* the input ran out of instructions */

/* The allocator of lauxlib with a cap: past it Lua sees an allocation
 * failure and raises "not enough memory", which is the answer we want. */
static void *
fuzz_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    void *p;

    (void)ud;
    if (ptr == NULL)
        osize = 0;
    if (nsize == 0) {
        free(ptr);
        fuzz_heap -= osize;
        return NULL;
    }
    if (nsize > osize && fuzz_heap + (nsize - osize) > FUZZ_HEAP_MAX)
        return NULL;
    if ((p = realloc(ptr, nsize)) != NULL)
        fuzz_heap += nsize - osize;
    return p;
}

static void
fuzz_cover(lua_State *L, lua_Debug *ar)
{
    unsigned h = 2166136261u;
    const char *s;

    if (!lua_getinfo(L, "S", ar))
        return;
    for (s = ar->short_src; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    h = (h ^ (unsigned)ar->currentline) * 16777619u;
    h ^= h >> 16;
    if (fuzz_lines[h & (sizeof(fuzz_lines) - 1)] < 255)
        fuzz_lines[h & (sizeof(fuzz_lines) - 1)]++;
}

/* Line events record coverage. Once the instruction budget is spent, a
 * count event raises on every instruction, so that no pcall in the code
 * under test can swallow the error (as vm.c does). */
static void
fuzz_hook(lua_State *L, lua_Debug *ar)
{
    if (ar->event == LUA_HOOKLINE) {
        fuzz_cover(L, ar);
        return;
    }
    if (!fuzz_spent) {
        fuzz_spent = 1;
        lua_sethook(L, fuzz_hook, LUA_MASKCOUNT | LUA_MASKLINE, 1);
    }
    luaL_error(L, "fuzz: instruction budget spent");
}

static int
fuzz_panic(lua_State *L)
{
    fprintf(stderr, "fuzz: Lua panic: %s\n", lua_tostring(L, -1));
    abort();
}

/* The C modules the Lua side requires, linked into the target. */
static const luaL_Reg fuzz_modules[] = {
    {"kmsemu.core", luaopen_kmsemu_core},
    {"cjson", luaopen_cjson},
    {"cjson.safe", luaopen_cjson_safe},
    {NULL, NULL},
};

/* A state whose require finds lua/ and spec/ of the checkout, and which
 * has required `module`; the module's value is left on the stack. */
static lua_State *
fuzz_state(const char *module)
{
    lua_State *L = lua_newstate(fuzz_alloc, NULL);

    if (L == NULL)
        abort();
    lua_atpanic(L, fuzz_panic);
    luaL_openlibs(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    luaL_setfuncs(L, fuzz_modules, 0);
    lua_pop(L, 1);
    lua_getglobal(L, "package");
    lua_pushstring(L, FUZZ_ROOT "/lua/?.lua;" FUZZ_ROOT "/lua/?/init.lua;"
                      FUZZ_ROOT "/spec/?.lua");
    lua_setfield(L, -2, "path");
    lua_pop(L, 1);
    lua_getglobal(L, "require");
    lua_pushstring(L, module);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        fprintf(stderr, "fuzz: require %s: %s\n", module, lua_tostring(L, -1));
        abort();
    }
    return L;
}

/* Calls the function below nargs arguments under the budget. A Lua error
 * that is not the budget's is a finding: the code under test let a
 * runtime error escape. */
static void
fuzz_call(lua_State *L, int nargs, int nresults)
{
    fuzz_spent = 0;
    lua_sethook(L, fuzz_hook, LUA_MASKCOUNT | LUA_MASKLINE, FUZZ_BUDGET);
    if (lua_pcall(L, nargs, nresults, 0) != LUA_OK && !fuzz_spent) {
        const char *msg = lua_tostring(L, -1);

        if (msg == NULL || strstr(msg, "not enough memory") == NULL) {
            fprintf(stderr, "fuzz: Lua error: %s\n", msg ? msg : "(not a string)");
            abort();
        }
    }
    lua_sethook(L, NULL, 0, 0);
}

#endif /* KMS_FUZZ_H */
