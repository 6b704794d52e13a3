/* vm.h -- the one Lua state that holds all emulator state.
 *
 * Requests run in it one at a time, as Redis runs its scripts: a scenario
 * is then an ordinary Lua program whose counters see every call in order.
 * The HTTP workers queue their requests; one of them at a time, the
 * runner, takes the queue's requests through the state back to back and
 * wakes each one's thread when it is answered. Whatever is slow (sleeping
 * for an injected delay, writing to the socket) happens on the request's
 * own thread, outside; so does key generation, which the binding yields
 * to the host (struct kms_offload): meanwhile other requests run, and the
 * request queues again to resume where it stopped once its key is made. */
#ifndef KMS_VM_H
#define KMS_VM_H

#include <stddef.h>

#include "kmsemu.h"

struct vm;

struct vm_config {
    const char *lua_dir;  /* directory holding kmsemu/init.lua */
    const char *scenario; /* scenario file to load, or NULL for none */
    long script_ms;       /* time budget of one request's Lua code */
    const char *admin_token; /* bearer token the admin API requires, or NULL */
    const char *data_dir; /* where run-time changes persist, or NULL */
    long heap_mb;         /* Lua heap ceiling; 0 for the default */
    /* "NAME=BYTES" pairs handed to the Lua side as opts.max_body[NAME]:
     * the core does not know which names exist. */
    const char *max_body_rules[KMS_MAX_BODY_RULES];
    int n_max_body_rules;
    const char *log;        /* access log: a file, "-" for stderr, NULL: none */
    const char *log_format; /* its format name, or NULL for the default */
};

/* Builds the state, loads the Lua side and the scenario. On failure returns
 * NULL with a one-line reason ("file:line: message" for a scenario) in err. */
struct vm *vm_create(const struct vm_config *cfg, char *err, size_t errlen);

/* Runs one request through the Lua router and fills res. Never fails: any
 * Lua error becomes a plain 500 that says it came from the emulator. */
void vm_dispatch(struct vm *vm, const struct kms_request *req,
                 struct kms_response *res);

/* The scenario's endpoints and credentials, for the start-up banner, in a
 * static buffer; "" when the Lua side has nothing to say. */
const char *vm_describe(struct vm *vm, const char *url);

/* Runs the scenario's step{} declarations (kmsemu run): each step's
 * requests and answers go to stdout. Returns how many steps failed, or
 * -1 when the run itself could not happen. budget_ms bounds the whole. */
int vm_run_steps(struct vm *vm, long budget_ms);

/* Lets the Lua side do its periodic work (write out the access log's
 * buffer); the server calls it about once a second while it serves. */
void vm_tick(struct vm *vm);

void vm_destroy(struct vm *vm);

#endif /* KMS_VM_H */
