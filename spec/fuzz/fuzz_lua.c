/* fuzz_lua.c -- a libFuzzer target for a pure-Lua parser. FUZZ_DRIVER names
 * spec/fuzz/<driver>.lua, a module that returns function(data): it feeds
 * the input to the parser and raises only when the parser misbehaves
 * (a runtime error, an answer of the wrong shape). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz.h"

#ifndef FUZZ_DRIVER
#error "build with -DFUZZ_DRIVER='\"name\"'"
#endif

static lua_State *fuzz_L;
static int fuzz_fn = LUA_NOREF;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_L = fuzz_state("fuzz." FUZZ_DRIVER);
    if (!lua_isfunction(fuzz_L, -1)) {
        fprintf(stderr, "fuzz: fuzz.%s does not return a function\n", FUZZ_DRIVER);
        abort();
    }
    fuzz_fn = luaL_ref(fuzz_L, LUA_REGISTRYINDEX);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lua_rawgeti(fuzz_L, LUA_REGISTRYINDEX, fuzz_fn);
    lua_pushlstring(fuzz_L, (const char *)data, size);
    fuzz_call(fuzz_L, 1, 0);
    lua_settop(fuzz_L, 0);
    /* A step of the collector per input keeps the heap from growing
     * between the automatic cycles into the RSS limit. */
    lua_gc(fuzz_L, LUA_GCSTEP, 0);
    return 0;
}
