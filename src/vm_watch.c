/* vm_watch.c -- the time budget of each run of Lua (a request, the
 * scenario's loading) and the watchdog thread that enforces it.
 *
 * Lua runs with no hook: with any hook set, Lua 5.4 goes through its hook
 * dispatcher before every instruction. Instead the watchdog sleeps until
 * the deadline of the call under way and, if it still runs then, signals
 * its thread; the handler sets a count hook, as lua.c does for Ctrl-C.
 * Calls never wait on the watchdog: it is woken only when it has gone
 * idle. The sandbox has no coroutine library, so a runaway script runs in
 * the state or in the request's coroutine, where the hook is set. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>

#include "vm_impl.h"

#define VM_ALARM SIGURG
#define VM_RECHECK_NS 10000000LL /* a late hook is looked at again */

static __thread lua_State *vm_running
    __attribute__((tls_model("initial-exec")));

static long long
vm_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Moves the time the binding spent generating keys into the deadline.
 * Returns whether the deadline is then still ahead. */
static int
vm_take_credit(struct vm *vm, lua_State *L)
{
    lua_Integer ms;

    lua_getfield(L, LUA_REGISTRYINDEX, KMS_BUDGET_CREDIT);
    ms = (lua_Integer)lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (ms <= 0)
        return 0;
    lua_pushinteger(L, 0);
    lua_setfield(L, LUA_REGISTRYINDEX, KMS_BUDGET_CREDIT);
    vm->watch.deadline += ms * 1000000LL;
    return vm_now() < vm->watch.deadline;
}

/* Once the budget is spent the hook raises on every instruction, so that
 * a pcall in a scenario cannot swallow the error and loop on; every raise
 * repeats the first message, which names where the script was. If time
 * spent making keys moved the deadline on, the hook unsets itself. */
static void
vm_hook(lua_State *L, lua_Debug *ar)
{
    struct vm *vm = *(struct vm **)lua_getextraspace(L);
    struct vm_watch *w = &vm->watch;

    (void)ar;
    if (w->timeout[0] == '\0') {
        if (vm_now() < w->deadline || vm_take_credit(vm, L)) {
            atomic_store(&w->call_deadline, w->deadline);
            lua_sethook(L, NULL, 0, 0);
            return;
        }
        luaL_where(L, 0);
        snprintf(w->timeout, sizeof(w->timeout),
                 "%sscript time budget of %ld ms exceeded",
                 lua_tostring(L, -1), w->budget_ms);
        lua_pop(L, 1);
        lua_sethook(L, vm_hook, LUA_MASKCOUNT, 1);
    }
    lua_pushstring(L, w->timeout);
    lua_error(L);
}

static void
vm_alarm(int sig)
{
    lua_State *co = vm_running;

    (void)sig;
    if (co != NULL)
        lua_sethook(co, vm_hook, LUA_MASKCOUNT, 1);
}

/* Sleeps until a call begins, then until its deadline, and signals the
 * call's thread if the same call still runs then. */
static void *
vm_watchdog(void *arg)
{
    struct vm_watch *w = &((struct vm *)arg)->watch;
    struct timespec until;
    long long at;
    unsigned call;

    pthread_mutex_lock(&w->lock);
    while (!w->stop) {
        call = atomic_load(&w->call);
        if ((call & 1) == 0) {
            atomic_store(&w->idle, 1);
            if (atomic_load(&w->call) == call && !w->stop)
                pthread_cond_wait(&w->wake, &w->lock);
            atomic_store(&w->idle, 0);
            continue;
        }
        at = atomic_load(&w->call_deadline);
        if (vm_now() >= at) {
            pthread_t thread = atomic_load(&w->call_thread);

            if (atomic_load(&w->call) == call)
                pthread_kill(thread, VM_ALARM);
            at = vm_now() + VM_RECHECK_NS;
        }
        until.tv_sec = (time_t)(at / 1000000000LL);
        until.tv_nsec = (long)(at % 1000000000LL);
        pthread_cond_timedwait(&w->wake, &w->lock, &until);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int
vm_watch_start(struct vm *vm)
{
    struct vm_watch *w = &vm->watch;
    struct sigaction sa;
    pthread_condattr_t attr;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = vm_alarm;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(VM_ALARM, &sa, NULL) != 0)
        return -1;
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&w->thread, NULL, vm_watchdog, vm) != 0)
        return -1;
    w->running = 1;
    return 0;
}

void
vm_watch_stop(struct vm *vm)
{
    struct vm_watch *w = &vm->watch;

    if (!w->running)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
}

/* Arms the budget for a run of Lua in co that ends at deadline. */
static void
vm_begin(struct vm *vm, lua_State *co, long budget_ms, long long deadline)
{
    struct vm_watch *w = &vm->watch;

    w->timeout[0] = '\0';
    w->budget_ms = budget_ms;
    w->deadline = deadline;
    lua_pushinteger(co, 0);
    lua_setfield(co, LUA_REGISTRYINDEX, KMS_BUDGET_CREDIT);
    atomic_store(&w->call_deadline, deadline);
    vm_running = co;
    atomic_store(&w->call_thread, pthread_self());
    atomic_fetch_add(&w->call, 1);
    if (atomic_load(&w->idle)) {
        pthread_mutex_lock(&w->lock);
        pthread_cond_signal(&w->wake);
        pthread_mutex_unlock(&w->lock);
    }
}

static void
vm_end(struct vm *vm, lua_State *co)
{
    atomic_fetch_add(&vm->watch.call, 1);
    vm_running = NULL;
    lua_sethook(co, NULL, 0, 0); /* a late signal's */
}

int
vm_pcall(struct vm *vm, int nargs, long budget_ms)
{
    int rc;

    vm_begin(vm, vm->L, budget_ms, vm_now() + budget_ms * 1000000LL);
    rc = lua_pcall(vm->L, nargs, 1, 0);
    vm_end(vm, vm->L);
    return rc;
}

int
vm_resume(struct vm *vm, lua_State *co, int nargs, long long left_ns,
          int *nres)
{
    int rc;

    lua_pushthread(co);
    lua_setfield(co, LUA_REGISTRYINDEX, KMS_OFFLOAD_THREAD);
    vm_begin(vm, co, vm->script_ms, vm_now() + left_ns);
    rc = lua_resume(co, vm->L, nargs, nres);
    vm_end(vm, co);
    return rc;
}

long long
vm_left(struct vm *vm)
{
    return vm->watch.deadline - vm_now();
}
