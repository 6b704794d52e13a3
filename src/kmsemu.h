/* kmsemu.h -- types and limits shared by the C core.
 *
 * The core moves bytes between civetweb, OpenSSL and one Lua state. It knows
 * nothing of either cloud's dialect: a request goes to Lua as a table, the
 * answer comes back as a table whose parts vm copies out and http frames. */
#ifndef KMS_KMSEMU_H
#define KMS_KMSEMU_H

#include <stdatomic.h>
#include <stddef.h>

#define KMS_DEFAULT_LISTEN "127.0.0.1:8080"
#define KMS_DEFAULT_THREADS 64
/* The largest body read at all: the larger of the clouds' own limits
 * (Huawei's gateway 12 MB, Tencent 10 MB), which the dialects apply. */
#define KMS_DEFAULT_MAX_BODY (12 * 1024 * 1024)
#define KMS_MAX_BODY_RULES 8 /* --max-body DIALECT=BYTES given at most */
#define KMS_DEFAULT_SCRIPT_MS 1000
#define KMS_DEFAULT_QUEUE 128
#define KMS_DEFAULT_HEADER_BYTES 16384
#define KMS_DEFAULT_MAX_HEADERS 63 /* civetweb keeps at most 64 */
#define KMS_DEFAULT_REQUEST_TIMEOUT_MS 30000
/* One C call (string.rep, a concatenation) can allocate more than the time
 * budget would ever see; past this ceiling Lua raises "not enough memory"
 * inside the request instead. The emulator's own state stays far below. */
#define KMS_DEFAULT_LUA_HEAP_MB 512

/* Registry field (milliseconds) where the binding records time spent in
 * slow key generation, which vm gives back before it declares a request's
 * budget spent: the budget is there to stop runaway scripts. */
#define KMS_BUDGET_CREDIT "kmsemu.budget_credit_ms"

/* Key generation takes seconds for RSA-4096 and must not stall every other
 * request. vm runs each request in a coroutine named in this registry
 * field; called from it, the binding yields a light userdata pointing at a
 * struct kms_offload. vm releases the Lua lock, calls run() (which must not
 * touch Lua), takes the lock again and resumes the coroutine. Called
 * anywhere else (busted, start-up), the binding does the work inline. */
#define KMS_OFFLOAD_THREAD "kmsemu.offload_thread"

struct kms_offload {
    void (*run)(struct kms_offload *job);
    /* Set by vm before run(): how many requests wait for the Lua state,
     * so that long work can give way to them (NULL: never). */
    const atomic_int *waiting;
};

/* One header of a request or a response. */
struct kms_header {
    const char *name;
    const char *value;
};

/* What http hands to vm. Every pointer is owned by the caller and valid
 * for the duration of vm_dispatch(). */
struct kms_request {
    const char *method;
    const char *path;  /* URL-decoded path, as civetweb gives it */
    const char *query; /* raw query string, "" when there is none */
    const char *remote_addr;
    int tls; /* arrived over https */
    const struct kms_header *headers;
    int num_headers;
    const char *body;
    size_t body_len;
    /* A body over --max-body is not kept: body is then "" and this its
     * length (at least what was read), which the Lua side sees as
     * req.oversize and answers in the dialect's words. 0 otherwise. */
    size_t oversize;
    int keep_alive; /* the response says "Connection: close" when 0 */
};

/* What becomes of the connection once a response has been sent; only
 * http holds the socket, so it carries these out. */
enum kms_after {
    KMS_AFTER_KEEP,  /* the usual: keep-alive or close as HTTP says */
    KMS_AFTER_CLOSE, /* FIN: the client reads end of stream */
    KMS_AFTER_RESET, /* RST: the client's read or write fails */
    KMS_AFTER_HANG   /* send nothing more and wait for the client to leave */
};

/* What vm hands back, copied out of the Lua state so that http frames
 * and sends it after the Lua lock is released. `mem` (free() it) holds
 * the headers and every string they and body point to. */
struct kms_response {
    int status;
    const char *error; /* kmsemu's own failure: http answers it plainly */
    int raw;           /* send the body alone, without HTTP framing */
    const struct kms_header *headers;
    int num_headers;
    const char *body;
    size_t body_len;
    void *mem;
    long delay_ms;     /* slept by http before it writes */
    long body_limit;   /* bytes of the body to send, -1 for all */
    size_t drip_bytes; /* 0: one write; else pieces of this many bytes, */
    long drip_ms;      /* ... drip_ms apart */
    enum kms_after after;
    long hang_ms;      /* longest wait of KMS_AFTER_HANG */
};

#endif /* KMS_KMSEMU_H */
