/* vm_impl.h -- what the files behind vm.h share:
 *   vm.c        the state's life: modules, start-up, shutdown
 *   vm_alloc.c  the state's allocator
 *   vm_watch.c  the time budget of each run of Lua, and its watchdog
 *   vm_run.c    the queue of requests and the runner that takes them
 *   vm_conv.c   request into a Lua table, response table into C
 *   (build)     lua_modules.c, the Lua modules compiled in by make */
#ifndef KMS_VM_IMPL_H
#define KMS_VM_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include <lua.h>

#include "kmsemu.h"
#include "vm.h"

struct vm_job;

struct vm_watch {
    long budget_ms;          /* of the call under way */
    long long deadline;      /* monotonic ns */
    char timeout[256];       /* the message of a spent budget, once set */
    pthread_t thread;
    int running;             /* the watchdog thread exists */
    int stop;                /* under lock */
    pthread_mutex_t lock;
    pthread_cond_t wake;     /* on CLOCK_MONOTONIC */
    atomic_int idle;         /* it waits for a call to begin */
    atomic_uint call;        /* odd while a call's Lua runs */
    atomic_llong call_deadline; /* monotonic ns */
    _Atomic pthread_t call_thread;
};

#define VM_CLASSES 32 /* small blocks: up to 512 bytes */

struct vm_block;

struct vm_heap {
    struct vm_block *free[VM_CLASSES + 1];
    char *slab_next, *slab_end; /* the unused rest of the current slab */
    struct vm_block *slabs;     /* every slab, freed with the state */
    size_t used, max;           /* bytes Lua holds, kept under max */
    size_t slab_bytes;          /* malloc'd for small blocks, never returned */
};

struct vm {
    lua_State *L;
    struct vm_heap heap;
    pthread_mutex_t lock;       /* held by the runner while Lua runs */
    pthread_mutex_t qlock;      /* guards the queue and `running` */
    struct vm_job *head, *tail; /* requests waiting for the runner */
    atomic_int waiting;         /* how many: read by offloaded work */
    int running;                /* a thread is the runner */
    int handle_ref;             /* kmsemu.handle, in the registry */
    int spare_ref;              /* a finished request's coroutine */
    unsigned finished;          /* requests, counted to retune the collector */
    long script_ms;
    struct vm_watch watch;
};

/* One Lua module compiled in: its name for require, and its bytecode. */
struct vm_module {
    const char *name;
    const char *code;
    size_t len;
};

extern const struct vm_module vm_modules[]; /* ends with a NULL name */

void *vm_alloc(void *ud, void *p, size_t osize, size_t nsize);
void vm_heap_free(struct vm_heap *h);
int vm_open_host(lua_State *L); /* kmsemu.host */

int vm_watch_start(struct vm *vm);
void vm_watch_stop(struct vm *vm);
/* Calls the function below nargs arguments with budget_ms armed; leaves
 * one result or the error message. */
int vm_pcall(struct vm *vm, int nargs, long budget_ms);
/* Resumes a request's coroutine with left_ns of its budget to go. */
int vm_resume(struct vm *vm, lua_State *co, int nargs, long long left_ns,
              int *nres);
/* The budget left of the last resume. */
long long vm_left(struct vm *vm);

/* Generational collection, minor collections a fixed number of bytes
 * apart whatever the heap's size. */
void vm_tune_gc(lua_State *L);

void vm_push_request(lua_State *L, const struct kms_request *req);
/* The response table at the top of L into res; -1 when it is malformed
 * or memory runs out. */
int vm_take_response(lua_State *L, struct kms_response *res);

#endif /* KMS_VM_IMPL_H */
