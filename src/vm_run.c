/* vm_run.c -- requests through the one Lua state, one at a time.
 *
 * The HTTP workers queue their requests; whichever finds no runner
 * becomes the runner and takes the queue's requests through the state back
 * to back, waking each one's thread when it is answered, so the state
 * never waits for a woken thread to get a core. Each request runs in a
 * coroutine: when the binding yields key generation (struct kms_offload),
 * the request's own thread makes the key outside the lock and queues
 * again to resume. */
#include <errno.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "vm_impl.h"

/* A waiter yields its core this many times before it sleeps: a futex
 * sleep and wake-up cost more than a request. */
#define VM_WAIT_YIELDS 1000
/* Jobs a runner does for others before it hands the role on, so that its
 * own client does not wait behind an endless queue. */
#define VM_BATCH 64

enum vm_step {
    VM_STEP_START,   /* not yet begun */
    VM_STEP_RESUME,  /* its offloaded work is done: resume the coroutine */
    VM_STEP_OFFLOAD, /* yielded work for its own thread to do, unlocked */
    VM_STEP_DONE     /* res is filled */
};

enum { VM_SIGNAL_NONE, VM_SIGNAL_POSTED, VM_SIGNAL_SLEEPING };

struct vm_job {
    const struct kms_request *req;
    struct kms_response *res;
    enum vm_step step;
    int runner;        /* woken to take over as the runner */
    lua_State *co;     /* its coroutine, once started */
    int ref;           /* the coroutine's registry reference */
    long long left_ns; /* budget left when it yielded */
    struct kms_offload *offload;
    atomic_int signal; /* VM_SIGNAL_*: how the runner wakes it */
    sem_t wake;        /* posted when it sleeps and is needed */
    struct vm_job *next;
};

/* The coroutine a request runs in, anchored in the registry (the next
 * request clears the main stack while this one may wait for its key):
 * the spare one, or a new one. */
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

static void
vm_fail(struct vm_job *j, const char *why, const char *error)
{
    fprintf(stderr, "kmsemu: %s %s: %s\n", j->req->method, j->req->path, why);
    memset(j->res, 0, sizeof(*j->res));
    j->res->status = 500;
    j->res->error = error;
    j->res->body_limit = -1;
}

/* The response of a finished coroutine, or of its error, into j->res;
 * the coroutine is kept for the next request or let go. */
static void
vm_finish(struct vm *vm, struct vm_job *j, int rc)
{
    lua_State *L = vm->L, *co = j->co;

    if (rc != LUA_OK) {
        luaL_traceback(L, co, lua_tostring(co, -1), 0);
        vm_fail(j, lua_tostring(L, -1),
                "the emulator failed to handle the request");
        luaL_unref(L, LUA_REGISTRYINDEX, j->ref); /* a dead coroutine */
        j->ref = LUA_NOREF;
    } else if (vm_take_response(co, j->res) != 0)
        vm_fail(j, "malformed response table",
                "the emulator produced no valid response");
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

/* Runs a job until its request is answered or it yields work to be done
 * without the state; the runner holds vm->lock. */
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

/* The runner's side: wakes j's thread, with a system call only if it has
 * gone to sleep. */
static void
vm_signal(struct vm_job *j)
{
    if (atomic_exchange(&j->signal, VM_SIGNAL_POSTED) == VM_SIGNAL_SLEEPING)
        sem_post(&j->wake);
}

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
        atomic_fetch_add(&vm->waiting, 1);
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

/* The runner: its own job first, then the queue's in order. With the
 * queue empty the role ends; after VM_BATCH jobs it passes to the next
 * job's thread. */
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
        if (j != NULL)
            atomic_fetch_sub(&vm->waiting, 1);
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

    memset(res, 0, sizeof(*res));
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
            job.offload->waiting = &vm->waiting;
            job.offload->run(job.offload);
            job.step = VM_STEP_RESUME;
        }
    }
    sem_destroy(&job.wake);
}
