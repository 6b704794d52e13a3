/* vm.c -- hosts the Lua state: loading, the per-request time budget, and the
 * translation of a request into a Lua table and of the answer into bytes. */
#include "vm.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/stat.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

int luaopen_kmsemu_core(lua_State *L);
int luaopen_cjson(lua_State *L);
int luaopen_cjson_safe(lua_State *L);

/* The Lua state's own allocator: free lists of small blocks in 16-byte
 * size classes, carved from 64 KiB slabs. Lua runs only under the VM lock,
 * so the lists need no lock of their own. glibc's malloc, called from
 * whichever worker thread holds the lock, spreads Lua's short-lived
 * strings and tables over one arena per thread: a quarter of the CPU of a
 * loaded server went to _int_malloc and _int_free, and RSS grew with the
 * number of threads that ever ran a request. Under AddressSanitizer the
 * plain allocator stays, so that the sanitizer still sees every block. */
#define VM_GRAIN 16
#define VM_CLASSES 32 /* blocks up to 512 bytes */
#define VM_SLAB (64 * 1024)

struct vm_block {
    struct vm_block *next;
};

struct vm_heap {
    struct vm_block *free[VM_CLASSES + 1];
    char *slab_next, *slab_end; /* the unused rest of the current slab */
    struct vm_block *slabs;     /* every slab, freed with the state */
    size_t used;                /* bytes Lua holds, kept under max */
    size_t max;
    size_t slab_bytes;          /* malloc'd for small blocks, never returned */
};

struct vm_job;

struct vm {
    lua_State *L;
    struct vm_heap heap;
    pthread_mutex_t lock;   /* held by the runner while Lua runs */
    pthread_mutex_t qlock;  /* guards the queue and `running` */
    struct vm_job *head, *tail; /* requests waiting for the runner */
    int running;            /* a thread is the runner */
    int handle_ref; /* registry reference to kmsemu.handle */
    int spare_ref;  /* a finished request's coroutine, for the next one */
    unsigned finished; /* requests, counted to retune the collector */
    long script_ms;
    long budget_ms; /* of the call under way */
    struct timespec deadline;
    char timeout[256]; /* the message of a spent budget, once set */
    /* The watchdog's side of the call under way (see vm_watch). */
    pthread_t watchdog;
    int watching;              /* its thread runs */
    int watchdog_stop;         /* under watchdog_lock */
    pthread_mutex_t watchdog_lock;
    pthread_cond_t watchdog_wake; /* on CLOCK_MONOTONIC */
    atomic_int watchdog_idle;  /* it waits for a request to begin */
    atomic_uint job;           /* odd while a request's Lua runs */
    atomic_llong job_deadline; /* that request's deadline, monotonic ns */
    _Atomic pthread_t job_thread; /* the thread that runs it */
};

static void
vm_clock(struct timespec *ts)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
}

static long long
vm_ns(const struct timespec *ts)
{
    return ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

static void
vm_timespec(long long ns, struct timespec *ts)
{
    ts->tv_sec = (time_t)(ns / 1000000000LL);
    ts->tv_nsec = (long)(ns % 1000000000LL);
}

static long long
vm_now_ns(void)
{
    struct timespec now;

    vm_clock(&now);
    return vm_ns(&now);
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

/* Both allocators below keep a ceiling: a failed allocation makes Lua
 * collect garbage, retry, and then raise a memory error that the
 * request's pcall turns into a 500, where malloc would let the process
 * grow until the kernel kills it. */
static int
vm_over(struct vm_heap *h, size_t osize, size_t nsize)
{
    return nsize > osize && h->used + (nsize - osize) > h->max;
}

static void
vm_account(struct vm_heap *h, size_t osize, size_t nsize)
{
    h->used = h->used + nsize - osize;
}


/* The deadline, for the watchdog to read. */
static void
vm_publish_deadline(struct vm *vm)
{
    atomic_store(&vm->job_deadline, vm_ns(&vm->deadline));
}

/* Once the budget is spent the hook fires on every instruction and raises
 * each time, so a pcall inside a scenario cannot swallow the error and go
 * on looping: the error reaches the outermost pcall in vm_pcall (or ends
 * the coroutine of a request, see vm_resume). Every
 * raise repeats the first message, which names where the script was.
 * The watchdog sets the hook once the deadline has passed; if time spent
 * making keys moves the deadline on, the hook unsets itself. */
static void
vm_hook(lua_State *L, lua_Debug *ar)
{
    struct vm *vm = *(struct vm **)lua_getextraspace(L);

    (void)ar;
    if (vm->timeout[0] == '\0') {
        if (!vm_past(&vm->deadline) || vm_take_credit(vm)) {
            vm_publish_deadline(vm);
            lua_sethook(L, NULL, 0, 0);
            return;
        }
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

/* Lua runs with no hook at all: with any hook set, Lua 5.4 goes through
 * its hook dispatcher before every instruction, which was 12 % of an
 * in-process GenerateDataKey (23.9 -> 21 us). Instead, a watchdog thread
 * sleeps until the deadline of the call under way (a request, or the
 * scenario's loading) and, if it is still running then, signals the
 * thread running it; the signal handler sets the hook, as lua.c does for
 * Ctrl-C. Calls never wait on the watchdog: it is woken only when it has
 * gone idle, at most once per deadline. The scenario's own code creates
 * no coroutines (the sandbox has no coroutine library), so the state or
 * the request's coroutine is where a runaway script runs. */
#define VM_ALARM SIGURG

static __thread lua_State *vm_running
    __attribute__((tls_model("initial-exec")));

static void
vm_alarm(int sig)
{
    lua_State *co = vm_running;

    (void)sig;
    if (co != NULL)
        lua_sethook(co, vm_hook, LUA_MASKCOUNT, 1);
}

static void *
vm_watch(void *arg)
{
    struct vm *vm = arg;
    struct timespec until;
    long long at;
    unsigned job;
    pthread_t thread;

    pthread_mutex_lock(&vm->watchdog_lock);
    while (!vm->watchdog_stop) {
        job = atomic_load(&vm->job);
        if ((job & 1) == 0) { /* nothing runs: wait for a request */
            atomic_store(&vm->watchdog_idle, 1);
            if (atomic_load(&vm->job) == job && !vm->watchdog_stop)
                pthread_cond_wait(&vm->watchdog_wake, &vm->watchdog_lock);
            atomic_store(&vm->watchdog_idle, 0);
            continue;
        }
        at = atomic_load(&vm->job_deadline);
        if (vm_now_ns() >= at) {
            thread = atomic_load(&vm->job_thread);
            if (atomic_load(&vm->job) == job)
                pthread_kill(thread, VM_ALARM);
            at = vm_now_ns() + 10000000LL; /* then look again soon */
        }
        vm_timespec(at, &until);
        pthread_cond_timedwait(&vm->watchdog_wake, &vm->watchdog_lock, &until);
    }
    pthread_mutex_unlock(&vm->watchdog_lock);
    return NULL;
}

static int
vm_watchdog_start(struct vm *vm)
{
    struct sigaction sa;
    pthread_condattr_t attr;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = vm_alarm;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(VM_ALARM, &sa, NULL) != 0)
        return -1;
    pthread_mutex_init(&vm->watchdog_lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&vm->watchdog_wake, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&vm->watchdog, NULL, vm_watch, vm) != 0)
        return -1;
    vm->watching = 1;
    return 0;
}

static void
vm_watchdog_stop(struct vm *vm)
{
    if (!vm->watching)
        return;
    pthread_mutex_lock(&vm->watchdog_lock);
    vm->watchdog_stop = 1;
    pthread_cond_signal(&vm->watchdog_wake);
    pthread_mutex_unlock(&vm->watchdog_lock);
    pthread_join(vm->watchdog, NULL);
    pthread_cond_destroy(&vm->watchdog_wake);
    pthread_mutex_destroy(&vm->watchdog_lock);
}

/* The caller's side, around each run of Lua (a request's resume, a
 * vm_pcall). */
static void
vm_watch_begin(struct vm *vm, lua_State *co)
{
    vm_publish_deadline(vm);
    vm_running = co;
    atomic_store(&vm->job_thread, pthread_self());
    atomic_fetch_add(&vm->job, 1);
    if (atomic_load(&vm->watchdog_idle)) {
        pthread_mutex_lock(&vm->watchdog_lock);
        pthread_cond_signal(&vm->watchdog_wake);
        pthread_mutex_unlock(&vm->watchdog_lock);
    }
}

static void
vm_watch_end(struct vm *vm, lua_State *co)
{
    atomic_fetch_add(&vm->job, 1);
    vm_running = NULL;
    lua_sethook(co, NULL, 0, 0); /* a late signal's */
}

/* Calls the function below nargs arguments with the time budget armed.
 * Leaves one result (or the error message) on the stack. */
static int
vm_pcall(struct vm *vm, int nargs, long budget_ms)
{
    int rc;

    vm->timeout[0] = '\0';
    vm->budget_ms = budget_ms;
    lua_pushinteger(vm->L, 0);
    lua_setfield(vm->L, LUA_REGISTRYINDEX, KMS_BUDGET_CREDIT);
    vm_arm(vm, budget_ms);
    vm_watch_begin(vm, vm->L);
    rc = lua_pcall(vm->L, nargs, 1, 0);
    vm_watch_end(vm, vm->L);
    return rc;
}

#if defined(__SANITIZE_ADDRESS__)
#define VM_PLAIN_ALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VM_PLAIN_ALLOC 1
#endif
#endif

#ifndef VM_PLAIN_ALLOC
static void *
vm_small(struct vm_heap *h, size_t cls)
{
    struct vm_block *b = h->free[cls];
    size_t size = cls * VM_GRAIN;

    if (b != NULL) {
        h->free[cls] = b->next;
        return b;
    }
    if (h->slab_next == NULL || (size_t)(h->slab_end - h->slab_next) < size) {
        struct vm_block *slab = malloc(VM_SLAB);

        if (slab == NULL)
            return NULL;
        /* The slab's first grain links it for vm_heap_free; the tail
         * of the previous slab is lost, at most 511 bytes. */
        slab->next = h->slabs;
        h->slabs = slab;
        h->slab_bytes += VM_SLAB;
        h->slab_next = (char *)slab + VM_GRAIN;
        h->slab_end = (char *)slab + VM_SLAB;
    }
    b = (struct vm_block *)h->slab_next;
    h->slab_next += size;
    return b;
}

static void
vm_release(struct vm_heap *h, void *p, size_t size)
{
    size_t cls = (size + VM_GRAIN - 1) / VM_GRAIN;

    if (cls > VM_CLASSES) {
        free(p);
        return;
    }
    ((struct vm_block *)p)->next = h->free[cls];
    h->free[cls] = p;
}

/* lua_Alloc: osize is the block's size whenever p is not NULL. */
static void *
vm_alloc(void *ud, void *p, size_t osize, size_t nsize)
{
    struct vm_heap *h = ud;
    size_t ocls, ncls;
    void *q;

    if (p == NULL)
        osize = 0;
    if (nsize == 0) {
        if (p != NULL)
            vm_release(h, p, osize);
        vm_account(h, osize, 0);
        return NULL;
    }
    if (vm_over(h, osize, nsize))
        return NULL;
    ocls = (osize + VM_GRAIN - 1) / VM_GRAIN;
    ncls = (nsize + VM_GRAIN - 1) / VM_GRAIN;
    if (p != NULL && ocls > VM_CLASSES && ncls > VM_CLASSES) {
        if ((q = realloc(p, nsize)) != NULL)
            vm_account(h, osize, nsize);
        return q;
    }
    if (p != NULL && ocls == ncls) {
        vm_account(h, osize, nsize);
        return p;
    }
    q = ncls > VM_CLASSES ? malloc(nsize) : vm_small(h, ncls);
    if (q == NULL)
        return NULL; /* Lua keeps p when a reallocation fails */
    if (p != NULL) {
        memcpy(q, p, osize < nsize ? osize : nsize);
        vm_release(h, p, osize);
    }
    vm_account(h, osize, nsize);
    return q;
}

#else

/* Under a sanitizer every block is its own malloc, so that the sanitizer
 * sees each one; the ceiling still holds. */
static void *
vm_alloc(void *ud, void *p, size_t osize, size_t nsize)
{
    struct vm_heap *h = ud;
    void *q;

    if (p == NULL)
        osize = 0;
    if (nsize == 0) {
        free(p);
        vm_account(h, osize, 0);
        return NULL;
    }
    if (vm_over(h, osize, nsize))
        return NULL;
    if ((q = realloc(p, nsize)) != NULL)
        vm_account(h, osize, nsize);
    return q;
}

#endif

/* require("kmsemu.host").memory(): what the Lua heap holds and what its
 * small-block slabs reserve, in bytes; for the metrics. Under a sanitizer
 * there are no slabs (every block is its own malloc), and the second
 * figure is the heap again. */
static int
vm_host_memory(lua_State *L)
{
    struct vm *vm = *(struct vm **)lua_getextraspace(L);
    const struct vm_heap *h = &vm->heap;

    lua_pushinteger(L, (lua_Integer)h->used);
#ifdef VM_PLAIN_ALLOC
    lua_pushinteger(L, (lua_Integer)h->used);
#else
    lua_pushinteger(L, (lua_Integer)h->slab_bytes);
#endif
    return 2;
}

static int
vm_open_host(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"memory", vm_host_memory},
        {NULL, NULL},
    };

    luaL_newlib(L, fns);
    return 1;
}

static void
vm_heap_free(struct vm_heap *h)
{
    while (h->slabs != NULL) {
        struct vm_block *next = h->slabs->next;

        free(h->slabs);
        h->slabs = next;
    }
}

static int
vm_panic(lua_State *L)
{
    const char *msg = lua_tostring(L, -1);

    fprintf(stderr, "kmsemu: unprotected Lua error: %s\n",
            msg ? msg : "(not a string)");
    return 0; /* Lua then aborts */
}

/* Lua's warn() is off in luaL_newstate's state and nothing turns it on:
 * the emulator's code reports through its own channels. */
static void
vm_warn(void *ud, const char *msg, int tocont)
{
    (void)ud;
    (void)msg;
    (void)tocont;
}

static lua_State *
vm_newstate(struct vm *vm)
{
    lua_State *L = lua_newstate(vm_alloc, &vm->heap);

    /* What luaL_newstate adds to the bare state: errors outside any
     * pcall are reported, and warnings are off until asked for. */
    if (L != NULL) {
        lua_atpanic(L, vm_panic);
        lua_setwarnf(L, vm_warn, NULL);
    }
    return L;
}

static void
vm_preload(lua_State *L, const char *name, lua_CFunction open)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, open);
    lua_setfield(L, -2, name);
    lua_pop(L, 1);
}

#ifdef KMS_BYTECODE_DIR
/* Whether a's modification time is at least b's. */
static int
vm_not_older(const struct stat *a, const struct stat *b)
{
    if (a->st_mtim.tv_sec != b->st_mtim.tv_sec)
        return a->st_mtim.tv_sec > b->st_mtim.tv_sec;
    return a->st_mtim.tv_nsec >= b->st_mtim.tv_nsec;
}

/* A package.searchers entry ahead of Lua's own: the module as make
 * compiled it into KMS_BYTECODE_DIR, when that is at least as new as the
 * source in lua_dir (upvalue 1). luac keeps the source's name, so error
 * messages and tracebacks read as before. Anything else (no bytecode, an
 * edited source, bytecode that does not load) falls to the source. */
static int
vm_search_bytecode(lua_State *L)
{
    static const char *const forms[] = {"%s/%s.%s", "%s/%s/init.%s"};
    const char *lua_dir = lua_tostring(L, lua_upvalueindex(1));
    char rel[256], src[PATH_MAX], bc[PATH_MAX];
    struct stat ss, bs;
    size_t i;

    snprintf(rel, sizeof(rel), "%s", luaL_checkstring(L, 1));
    for (i = 0; rel[i] != '\0'; i++)
        if (rel[i] == '.')
            rel[i] = '/';
    for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        snprintf(src, sizeof(src), forms[i], lua_dir, rel, "lua");
        snprintf(bc, sizeof(bc), forms[i], KMS_BYTECODE_DIR, rel, "luac");
        if (stat(src, &ss) != 0)
            continue;
        if (stat(bc, &bs) != 0 || !vm_not_older(&bs, &ss))
            break;
        if (luaL_loadfilex(L, bc, "b") != LUA_OK) {
            lua_pop(L, 1);
            break;
        }
        lua_pushstring(L, src);
        return 2;
    }
    lua_pushliteral(L, "\n\tno compiled module");
    return 1;
}

/* Puts vm_search_bytecode second, after the preloaded modules, when
 * lua_dir is the checkout's lua/ that make compiled. */
static void
vm_bytecode(lua_State *L, const char *lua_dir)
{
    char a[PATH_MAX], b[PATH_MAX];
    lua_Integer i;

    if (realpath(lua_dir, a) == NULL ||
        realpath(KMS_SOURCE_DIR "/lua", b) == NULL || strcmp(a, b) != 0)
        return;
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "searchers");
    for (i = (lua_Integer)luaL_len(L, -1); i >= 2; i--) {
        lua_rawgeti(L, -1, i);
        lua_rawseti(L, -2, i + 1);
    }
    lua_pushstring(L, a);
    lua_pushcclosure(L, vm_search_bytecode, 1);
    lua_rawseti(L, -2, 2);
    lua_pop(L, 2);
}
#endif

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
#ifdef KMS_BYTECODE_DIR
    vm_bytecode(L, lua_dir);
#endif
}

/* Pushes {NAME = number, ...} for "NAME=BYTES" strings main() checked. */
static void
vm_push_rules(lua_State *L, const char *const *rules, int n)
{
    int i;

    lua_createtable(L, 0, n);
    for (i = 0; i < n; i++) {
        const char *eq = strchr(rules[i], '=');

        if (eq == NULL)
            continue;
        lua_pushlstring(L, rules[i], (size_t)(eq - rules[i]));
        lua_pushinteger(L, strtoll(eq + 1, NULL, 10));
        lua_settable(L, -3);
    }
}

/* How much a request may allocate between two minor collections, in all.
 * Lua sets it as a share of the heap (20 %), so it grew with the keys: 20
 * MB with 100 000 of them, where the young objects no longer stay in the
 * caches. In-process GenerateDataKey, 100 000 keys: 30.5 us with the
 * default share, 22.6 us with ~1 MB (10 keys: 20.4 us, flat from 64 KiB
 * to 1.3 MB). */
#define VM_YOUNG_BYTES (512 * 1024)

/* Generational mode with the minor collections VM_YOUNG_BYTES apart for
 * the heap's present size (the share is a whole percentage, 1 to 100). */
static void
vm_tune_gc(lua_State *L)
{
    long kib = lua_gc(L, LUA_GCCOUNT), share;

    share = kib > 0 ? VM_YOUNG_BYTES / 1024 * 100 / kib : 100;
    if (share < 1)
        share = 1;
    if (share > 100)
        share = 100;
    lua_gc(L, LUA_GCGEN, (int)share, 0);
}

/* require("kmsemu").start{scenario = ..., admin_token = ...}; returns 0 or -1 with err set. */
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
    lua_createtable(L, 0, 1);
    if (cfg->scenario != NULL) {
        lua_pushstring(L, cfg->scenario);
        lua_setfield(L, -2, "scenario");
    }
    if (cfg->admin_token != NULL) {
        lua_pushstring(L, cfg->admin_token);
        lua_setfield(L, -2, "admin_token");
    }
    if (cfg->data_dir != NULL) {
        lua_pushstring(L, cfg->data_dir);
        lua_setfield(L, -2, "data_dir");
    }
    vm_push_rules(L, cfg->max_body_rules, cfg->n_max_body_rules);
    lua_setfield(L, -2, "max_body");
    if (vm_pcall(vm, 1, cfg->script_ms * 10) != LUA_OK)
        goto fail;
    if (lua_isstring(L, -1)) { /* start() returns an error message */
        snprintf(err, errlen, "%s", lua_tostring(L, -1));
        return -1;
    }
    lua_settop(L, 0);
    /* Generational collection from here on: a request leaves only young
     * garbage, while the keys, the journal and the code are old and
     * large. The incremental collector traversed all of it every cycle:
     * with 100 000 keys GenerateDataKey at 32 connections ran at ~11k/s,
     * generational ~17k/s; with the default scenario ~19k -> ~21k/s. */
    vm_tune_gc(L);
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
    /* One malloc arena for the process. glibc gives each thread that
     * allocates an arena of its own, and civetweb has 64: every one that
     * ever served a request kept its pages (RSS grew with the number of
     * connections seen). What is left to malloc under load (bodies, wire
     * buffers, OpenSSL) is small, and measured no slower with one arena:
     * GenerateDataKey at 32 connections 15-18k/s either way, RSS after
     * load 15.8 -> 15.0 MB, idle 8.3 -> 8.2 MB. Set before any thread
     * starts. */
    mallopt(M_ARENA_MAX, 1);
    vm->script_ms = cfg->script_ms;
    vm->heap.max = (size_t)(cfg->heap_mb > 0 ? cfg->heap_mb
                                             : KMS_DEFAULT_LUA_HEAP_MB) << 20;
    vm->handle_ref = LUA_NOREF;
    vm->spare_ref = LUA_NOREF;
    vm->L = vm_newstate(vm);
    if (vm->L == NULL) {
        snprintf(err, errlen, "cannot create a Lua state");
        free(vm);
        return NULL;
    }
    *(struct vm **)lua_getextraspace(vm->L) = vm;
    luaL_openlibs(vm->L);
    vm_preload(vm->L, "kmsemu.core", luaopen_kmsemu_core);
    vm_preload(vm->L, "kmsemu.host", vm_open_host);
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
    pthread_mutex_init(&vm->qlock, &attr);
    pthread_mutexattr_destroy(&attr);

    if (vm_watchdog_start(vm) != 0) {
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

const char *
vm_describe(struct vm *vm, const char *url)
{
    static char text[2048];
    lua_State *L = vm->L;

    text[0] = '\0';
    pthread_mutex_lock(&vm->lock);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "kmsemu");
    if (vm_pcall(vm, 1, vm->script_ms) == LUA_OK) {
        lua_getfield(L, -1, "describe");
        lua_pushstring(L, url);
        if (vm_pcall(vm, 1, vm->script_ms) == LUA_OK && lua_isstring(L, -1))
            snprintf(text, sizeof(text), "%s", lua_tostring(L, -1));
    }
    lua_settop(L, 0);
    pthread_mutex_unlock(&vm->lock);
    return text;
}

int
vm_run_steps(struct vm *vm, long budget_ms)
{
    lua_State *L = vm->L;
    int failures = -1;

    pthread_mutex_lock(&vm->lock);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "kmsemu");
    if (vm_pcall(vm, 1, vm->script_ms) == LUA_OK) {
        lua_getfield(L, -1, "run");
        if (vm_pcall(vm, 0, budget_ms) == LUA_OK && lua_isinteger(L, -1))
            failures = (int)lua_tointeger(L, -1);
    }
    if (failures < 0)
        fprintf(stderr, "kmsemu: run: %s\n",
                lua_isstring(L, -1) ? lua_tostring(L, -1) : "no result");
    lua_settop(L, 0);
    pthread_mutex_unlock(&vm->lock);
    return failures;
}

void
vm_destroy(struct vm *vm)
{
    if (vm == NULL)
        return;
    vm_watchdog_stop(vm);
    lua_close(vm->L);
    vm_heap_free(&vm->heap);
    pthread_mutex_destroy(&vm->lock);
    pthread_mutex_destroy(&vm->qlock);
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
    lua_pushstring(L, req->tls ? "https" : "http");
    lua_setfield(L, -2, "scheme");
    lua_pushlstring(L, req->body, req->body_len);
    lua_setfield(L, -2, "body");
    if (req->oversize > 0) {
        lua_pushinteger(L, (lua_Integer)req->oversize);
        lua_setfield(L, -2, "oversize");
    }
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
    if (n == 0) /* memcpy may not be handed a NULL buffer, even for 0 bytes */
        return 0;
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
    res->send_len = res->wire_len;
    res->drip_bytes = 0;
    res->after = KMS_AFTER_KEEP;
    if (res->wire != NULL) {
        memcpy(res->wire, head, (size_t)nh);
        memcpy(res->wire + nh, body, (size_t)nb);
    }
}

static long
vm_field_integer(lua_State *L, int t, const char *name, long dflt)
{
    long v;

    lua_getfield(L, t, name);
    v = lua_isinteger(L, -1) ? (long)lua_tointeger(L, -1) : dflt;
    lua_pop(L, 1);
    return v < 0 ? dflt : v;
}

/* The connection effects a response table may ask for, the vocabulary of
 * fault injection: `body_limit` sends only that many bytes of the body,
 * `drip = {bytes =, every_ms =}` sends the response in slow pieces, and
 * `after` ("close", "reset", "hang" with `hang_ms`) decides the connection's
 * fate once the bytes are out. head_len is where the body starts. */
static void
vm_connection(lua_State *L, int t, size_t head_len, struct kms_response *res)
{
    const char *after;
    long limit;

    t = lua_absindex(L, t);
    res->send_len = res->wire_len;
    limit = vm_field_integer(L, t, "body_limit", -1);
    if (limit >= 0 && head_len + (size_t)limit < res->wire_len)
        res->send_len = head_len + (size_t)limit;
    lua_getfield(L, t, "drip");
    if (lua_istable(L, -1)) {
        res->drip_bytes = (size_t)vm_field_integer(L, -1, "bytes", 1);
        res->drip_ms = vm_field_integer(L, -1, "every_ms", 0);
        if (res->drip_bytes == 0)
            res->drip_bytes = 1;
    }
    lua_getfield(L, t, "after");
    after = lua_tostring(L, -1);
    res->after = KMS_AFTER_KEEP;
    if (after != NULL && strcmp(after, "close") == 0)
        res->after = KMS_AFTER_CLOSE;
    else if (after != NULL && strcmp(after, "reset") == 0)
        res->after = KMS_AFTER_RESET;
    else if (after != NULL && strcmp(after, "hang") == 0)
        res->after = KMS_AFTER_HANG;
    res->hang_ms = vm_field_integer(L, t, "hang_ms", 0);
    lua_pop(L, 2);
}

/* Turns the response table at the top of the stack into bytes. A table
 * with `raw = true` is its body alone, sent without any HTTP framing. */
static int
vm_wire(lua_State *L, const struct kms_request *req, struct kms_response *res)
{
    struct vm_buf b = {0};
    const char *body;
    size_t body_len, head_len;
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
    lua_getfield(L, -4, "raw");
    if (lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        if (vm_put(&b, body, body_len) != 0)
            goto oom;
        res->wire = b.p;
        res->wire_len = b.len;
        res->status = status;
        vm_connection(L, -4, 0, res);
        lua_pop(L, 3);
        return 0;
    }
    lua_pop(L, 1);
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
        vm_put(&b, "\r\n", 2) != 0)
        goto oom;
    head_len = b.len;
    if (vm_put(&b, body, body_len) != 0)
        goto oom;
    res->status = status;
    res->wire = b.p;
    res->wire_len = b.len;
    vm_connection(L, -4, head_len, res);
    lua_pop(L, 3);
    return 0;
oom:
    free(b.p);
    lua_settop(L, 0);
    return -1;
}

/* The coroutine a request runs in, anchored in the registry (not on the
 * main stack, which the next request clears while this one may be
 * waiting for its key): the spare one, or a new one. */
static lua_State *
vm_thread(struct vm *vm, int *ref)
{
    lua_State *co;

    if (vm->spare_ref != LUA_NOREF) {
        *ref = vm->spare_ref;
        vm->spare_ref = LUA_NOREF;
        lua_rawgeti(vm->L, LUA_REGISTRYINDEX, *ref);
        co = lua_tothread(vm->L, -1);
        lua_pop(vm->L, 1);
        return co;
    }
    co = lua_newthread(vm->L);
    *ref = luaL_ref(vm->L, LUA_REGISTRYINDEX);
    return co;
}

/* Resumes a request's coroutine with `left_ns` of its budget to go. */
static int
vm_resume(struct vm *vm, lua_State *co, int nargs, long long left_ns,
          int *nres)
{
    int rc;

    vm->timeout[0] = '\0';
    vm->budget_ms = vm->script_ms;
    lua_pushinteger(co, 0);
    lua_setfield(co, LUA_REGISTRYINDEX, KMS_BUDGET_CREDIT);
    lua_pushthread(co);
    lua_setfield(co, LUA_REGISTRYINDEX, KMS_OFFLOAD_THREAD);
    vm_timespec(vm_now_ns() + left_ns, &vm->deadline);
    vm_watch_begin(vm, co);
    rc = lua_resume(co, vm->L, nargs, nres);
    vm_watch_end(vm, co);
    return rc;
}

/* The budget still left: the time a job spends outside the lock is not
 * the script's. */
static long long
vm_left(struct vm *vm)
{
    return vm_ns(&vm->deadline) - vm_now_ns();
}

/* One request on its way through the Lua state. */
enum vm_step {
    VM_STEP_START,   /* not yet begun */
    VM_STEP_RESUME,  /* its offloaded work is done: resume the coroutine */
    VM_STEP_OFFLOAD, /* yielded work for its own thread to do, unlocked */
    VM_STEP_DONE     /* res is filled */
};

struct vm_job {
    const struct kms_request *req;
    struct kms_response *res;
    enum vm_step step;
    int runner;             /* woken to take over as the runner */
    lua_State *co;          /* its coroutine, once started */
    int ref;                /* the coroutine's registry reference */
    long long left_ns;      /* budget left when it yielded */
    struct kms_offload *offload;
    atomic_int signal;      /* VM_SIGNAL_*: how the runner wakes it */
    sem_t wake;             /* posted when it sleeps and is needed */
    struct vm_job *next;
};

/* The response of a finished coroutine (or of its error) into j->res;
 * the coroutine is kept for the next request or let go. */
static void
vm_finish(struct vm *vm, struct vm_job *j, int rc)
{
    lua_State *L = vm->L, *co = j->co;
    const struct kms_request *req = j->req;

    if (rc != LUA_OK) {
        luaL_traceback(L, co, lua_tostring(co, -1), 0);
        fprintf(stderr, "kmsemu: %s %s: %s\n", req->method, req->path,
                lua_tostring(L, -1));
        lua_pop(L, 1);
        vm_plain(j->res, 500, "the emulator failed to handle the request",
                 req->keep_alive);
        luaL_unref(L, LUA_REGISTRYINDEX, j->ref); /* a dead coroutine */
        j->ref = LUA_NOREF;
    } else if (vm_wire(co, req, j->res) != 0) {
        fprintf(stderr, "kmsemu: %s %s: malformed response table\n",
                req->method, req->path);
        vm_plain(j->res, 500, "the emulator produced no valid response",
                 req->keep_alive);
    }
    if (j->ref != LUA_NOREF) {
        lua_settop(co, 0);
        if (vm->spare_ref == LUA_NOREF)
            vm->spare_ref = j->ref;
        else
            luaL_unref(L, LUA_REGISTRYINDEX, j->ref);
    }
    lua_settop(L, 0);
    j->step = VM_STEP_DONE;
    if (++vm->finished % 1024 == 0) /* keys and the journal come and go */
        vm_tune_gc(L);
}

/* Runs a job until its request is answered or it yields work (key
 * generation) to be done without the state; the runner holds vm->lock. */
static void
vm_step(struct vm *vm, struct vm_job *j)
{
    int rc, nres = 0;

    if (j->step == VM_STEP_START) {
        j->co = vm_thread(vm, &j->ref);
        lua_rawgeti(j->co, LUA_REGISTRYINDEX, vm->handle_ref);
        vm_push_request(j->co, j->req);
        rc = vm_resume(vm, j->co, 1, vm->script_ms * 1000000LL, &nres);
    } else
        rc = vm_resume(vm, j->co, 0, j->left_ns, &nres);
    if (rc == LUA_YIELD) {
        j->offload = nres == 1 && lua_islightuserdata(j->co, -1)
            ? lua_touserdata(j->co, -1) : NULL;
        if (j->offload != NULL) {
            j->left_ns = vm_left(vm);
            lua_pop(j->co, nres);
            j->step = VM_STEP_OFFLOAD;
            return;
        }
        lua_pushliteral(j->co, "a request yielded outside the binding");
        rc = LUA_ERRRUN;
    }
    if (rc == LUA_OK && nres > 1)
        lua_pop(j->co, nres - 1);
    vm_finish(vm, j, rc);
}

/* A waiting thread yields its core and looks again up to VM_WAIT_YIELDS
 * times before it sleeps on its semaphore: a futex sleep and wake-up cost
 * more than a request on a virtual machine (GenerateDataKey, 32
 * connections on 2 cores: ~19.5k/s sleeping at once, ~31.5k/s after 10
 * yields, 30-35k/s after 1000; 10 000 no different). */
#ifndef VM_WAIT_YIELDS
#define VM_WAIT_YIELDS 1000
#endif
enum { VM_SIGNAL_NONE, VM_SIGNAL_POSTED, VM_SIGNAL_SLEEPING };

/* The runner's side: wakes j's thread, with a system call only if it has
 * gone to sleep. */
static void
vm_signal(struct vm_job *j)
{
    if (atomic_exchange(&j->signal, VM_SIGNAL_POSTED) == VM_SIGNAL_SLEEPING)
        sem_post(&j->wake);
}

/* The waiting side. */
static void
vm_wait(struct vm_job *j)
{
    int i, expect = VM_SIGNAL_NONE;

    for (i = 0; i < VM_WAIT_YIELDS; i++) {
        if (atomic_load(&j->signal) == VM_SIGNAL_POSTED)
            goto done;
        sched_yield();
    }
    if (atomic_compare_exchange_strong(&j->signal, &expect,
                                       VM_SIGNAL_SLEEPING))
        while (sem_wait(&j->wake) != 0 && errno == EINTR)
            ;
done:
    atomic_store(&j->signal, VM_SIGNAL_NONE);
}

/* Most jobs a runner does for others before it hands the role on, so
 * that its own client is not kept waiting behind an endless queue. Each
 * hand-off leaves the state idle until the next runner gets a core:
 * GenerateDataKey at 32 connections on 2 cores, p99 in brackets: 4 jobs
 * ~19k/s (2.4 ms), 16 ~25k/s (2.6 ms), 64 ~28-31k/s (4-5 ms), 256 no
 * faster (8-9 ms), never ~31k/s (100-160 ms). */
#ifndef VM_BATCH
#define VM_BATCH 64
#endif

/* Joins the queue. Returns 1 when there was no runner: the caller is now
 * the runner, and its job is not queued. */
static int
vm_enqueue(struct vm *vm, struct vm_job *j)
{
    int runner;

    pthread_mutex_lock(&vm->qlock);
    runner = !vm->running;
    if (runner)
        vm->running = 1;
    else {
        j->next = NULL;
        if (vm->tail != NULL)
            vm->tail->next = j;
        else
            vm->head = j;
        vm->tail = j;
    }
    pthread_mutex_unlock(&vm->qlock);
    return runner;
}

/* The runner: its own job first, then the queue's in order, waking each
 * job's thread when it is done or has work to do unlocked. With the queue
 * empty the role ends; after VM_BATCH jobs it passes to the next job's
 * thread.
 *
 * This replaced a mutex that every request took in turn: however its
 * waiters waited (asleep, or yielding their core), each hand-off of the
 * mutex left the state free until the next holder got a core, once per
 * request. Here the state goes from one request to the next without a
 * pause, and a hand-off happens once per VM_BATCH requests. */
static void
vm_serve(struct vm *vm, struct vm_job *own)
{
    struct vm_job *j;
    int done = 0;

    pthread_mutex_lock(&vm->lock);
    vm_step(vm, own);
    for (;;) {
        pthread_mutex_lock(&vm->qlock);
        if ((j = vm->head) != NULL && (vm->head = j->next) == NULL)
            vm->tail = NULL;
        if (j == NULL)
            vm->running = 0;
        else if (done == VM_BATCH)
            j->runner = 1;
        pthread_mutex_unlock(&vm->qlock);
        if (j == NULL || j->runner)
            break;
        vm_step(vm, j);
        vm_signal(j);
        done++;
    }
    pthread_mutex_unlock(&vm->lock);
    if (j != NULL)
        vm_signal(j); /* j's thread is the runner now */
}

void
vm_dispatch(struct vm *vm, const struct kms_request *req,
            struct kms_response *res)
{
    struct vm_job job = {
        .req = req, .res = res, .step = VM_STEP_START, .ref = LUA_NOREF,
    };

    sem_init(&job.wake, 0, 0);
    while (job.step != VM_STEP_DONE) {
        if (vm_enqueue(vm, &job))
            vm_serve(vm, &job);
        else {
            vm_wait(&job);
            if (job.runner) {
                job.runner = 0;
                vm_serve(vm, &job);
            }
        }
        if (job.step == VM_STEP_OFFLOAD) {
            job.offload->run(job.offload);
            job.step = VM_STEP_RESUME;
        }
    }
    sem_destroy(&job.wake);
}
