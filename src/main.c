/* main.c -- command line, start-up order and shutdown.
 *
 * Start-up: parse flags, build the VM (which loads the scenario), listen,
 * announce the address, then wait for SIGINT or SIGTERM. The signals are
 * blocked before civetweb starts its threads so that only sigwait() below
 * ever sees them, and shutdown runs in ordinary code, not a handler. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "kmsemu.h"
#include "tls.h"
#include "vm.h"

struct options {
    const char *listen;
    const char *scenario;
    const char *lua_dir;
    int threads;
    long queue;
    long max_body;
    const char *max_body_rules[KMS_MAX_BODY_RULES];
    int n_max_body_rules;
    long max_body_rule; /* the largest of them */
    long heap_mb;
    long max_header_bytes;
    long max_headers;
    long script_ms;
    long request_timeout_ms;
    const char *admin_token;
    const char *data_dir;
    const char *tls_cert;
    const char *tls_key;
    const char *tls_self_signed;
};

static void
usage(FILE *out)
{
    fprintf(out,
        "Usage: kmsemu [options]\n"
        "       kmsemu check FILE [options]   load a scenario, report, exit\n"
        "       kmsemu run FILE [options]     load a scenario, run its step{}s,\n"
        "                                     exit 1 if an expectation fails\n"
        "A local emulator of Huawei Cloud KMS and Tencent Cloud KMS.\n"
        "\n"
        "  --listen HOST:PORT      address to listen on (default %s);\n"
        "                          port 0 picks a free port\n"
        "  --scenario FILE         scenario to load (default\n"
        "                          scenarios/default.lua of this checkout)\n"
        "  --admin-token TOKEN     require 'Authorization: Bearer TOKEN'\n"
        "                          on /_kmsemu/ (default: loopback only)\n"
        "  --data-dir DIR          keep every change made at run time (keys,\n"
        "                          states, aliases, tags, rotations, grants,\n"
        "                          imported material) in DIR, on disk before\n"
        "                          the response; a restart with the same\n"
        "                          scenario and DIR finds them (default: none,\n"
        "                          changes live in memory only)\n"
        "  --lua-dir DIR           where the kmsemu Lua modules live\n"
        "                          (default lua/ of this checkout)\n"
        "  --tls-cert FILE         serve https only, with this PEM\n"
        "                          certificate (then any intermediates)\n"
        "  --tls-key FILE          the PEM private key of --tls-cert\n"
        "  --tls-self-signed FILE  serve https only, with a new self-signed\n"
        "                          certificate for the listen address and\n"
        "                          localhost, written to FILE for clients\n"
        "                          to trust (the key stays in memory)\n"
        "\n"
        "Limits (a request over one is refused; the server goes on):\n"
        "  --threads N             HTTP workers = connections served at\n"
        "                          once; a keep-alive client holds one\n"
        "                          (default %d)\n"
        "  --queue N               accepted connections waiting for a\n"
        "                          free worker; more wait in the kernel's\n"
        "                          listen backlog (default %d)\n"
        "  --max-body BYTES        largest request body kept; a larger one\n"
        "                          is read and dropped, and its dialect\n"
        "                          refuses it as below (default %d)\n"
        "  --max-body DIALECT=BYTES  a dialect's own body limit, answered\n"
        "                          in its envelope (huawei=12582912: 413\n"
        "                          APIGW.0201; tencent=10485760:\n"
        "                          RequestSizeLimitExceeded, and never more\n"
        "                          than 1 MiB for a v1 form POST, 32 KiB for\n"
        "                          a GET); also raises the limit above\n"
        "  --max-header-bytes N    request line and headers together;\n"
        "                          larger ones get 431 (default %d)\n"
        "  --max-headers N         header fields per request, at most 63;\n"
        "                          more get 431 (default %d)\n"
        "  --request-timeout-ms MS time a client may take to send one\n"
        "                          request; a slower one is disconnected\n"
        "                          (default %d)\n"
        "  --script-ms MS          Lua time budget per request; a request\n"
        "                          over it gets 500 (default %d)\n"
        "  --lua-heap-mb MB        ceiling of the Lua heap (keys, journal,\n"
        "                          requests in flight); an allocation over\n"
        "                          it fails that request with 500 (default %d)\n"
        "  --version               print the version and exit\n"
        "  --help                  print this help and exit\n"
        "\n"
        "Once it accepts connections it prints\n"
        "  kmsemu listening on http://HOST:PORT   (https:// with TLS)\n"
        "and the scenario's test credentials. Nothing secret goes to\n"
        "stderr: keys, plaintexts and signatures are never logged.\n"
        "SIGINT or SIGTERM stop it; the exit status is then 0. A scenario\n"
        "that does not load, a damaged log in --data-dir, or a --data-dir\n"
        "another kmsemu holds stops start-up with status 2.\n",
        KMS_DEFAULT_LISTEN, KMS_DEFAULT_THREADS, KMS_DEFAULT_QUEUE,
        KMS_DEFAULT_MAX_BODY, KMS_DEFAULT_HEADER_BYTES,
        KMS_DEFAULT_MAX_HEADERS, KMS_DEFAULT_REQUEST_TIMEOUT_MS,
        KMS_DEFAULT_SCRIPT_MS, KMS_DEFAULT_LUA_HEAP_MB);
}

static int
parse_long(const char *flag, const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || end == s || v < min || v > max) {
        fprintf(stderr, "kmsemu: %s wants a number from %ld to %ld, not '%s'\n",
                flag, min, max, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* --max-body BYTES, or --max-body NAME=BYTES for one dialect: the Lua
 * side learns the rule and says whether NAME is a dialect; the read
 * limit grows to the largest rule so that the dialect gets to answer. */
static int
parse_max_body(const char *v, struct options *o)
{
    const char *eq = strchr(v, '=');
    long n;
    size_t i;

    if (eq == NULL)
        return parse_long("--max-body", v, 1024, 1L << 30, &o->max_body);
    for (i = 0; v + i < eq; i++)
        if (!isalnum((unsigned char)v[i]) && v[i] != '_')
            break;
    if (v + i != eq || i == 0) {
        fprintf(stderr, "kmsemu: --max-body wants BYTES or DIALECT=BYTES, "
                        "not '%s'\n", v);
        return -1;
    }
    if (parse_long("--max-body", eq + 1, 0, 1L << 30, &n) != 0)
        return -1;
    if (o->n_max_body_rules == KMS_MAX_BODY_RULES) {
        fprintf(stderr, "kmsemu: --max-body DIALECT=BYTES given too often\n");
        return -1;
    }
    o->max_body_rules[o->n_max_body_rules++] = v;
    if (n > o->max_body_rule)
        o->max_body_rule = n;
    return 0;
}

/* Returns 0 to go on, 1 when --help/--version answered, -1 on bad usage. */
static int
parse_args(int argc, char **argv, struct options *o)
{
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if (strcmp(a, "--version") == 0) {
            printf("kmsemu %s\n", KMS_VERSION);
            return 1;
        }
        if (v == NULL) {
            fprintf(stderr, "kmsemu: unknown or incomplete option '%s'\n", a);
            return -1;
        }
        i++;
        if (strcmp(a, "--listen") == 0)
            o->listen = v;
        else if (strcmp(a, "--scenario") == 0)
            o->scenario = v;
        else if (strcmp(a, "--admin-token") == 0)
            o->admin_token = v;
        else if (strcmp(a, "--data-dir") == 0)
            o->data_dir = v;
        else if (strcmp(a, "--lua-dir") == 0)
            o->lua_dir = v;
        else if (strcmp(a, "--tls-cert") == 0)
            o->tls_cert = v;
        else if (strcmp(a, "--tls-key") == 0)
            o->tls_key = v;
        else if (strcmp(a, "--tls-self-signed") == 0)
            o->tls_self_signed = v;
        else if (strcmp(a, "--queue") == 0) {
            if (parse_long(a, v, 1, 65536, &o->queue) != 0)
                return -1;
        } else if (strcmp(a, "--max-header-bytes") == 0) {
            if (parse_long(a, v, 1024, 1L << 20, &o->max_header_bytes) != 0)
                return -1;
        } else if (strcmp(a, "--max-headers") == 0) {
            if (parse_long(a, v, 1, KMS_DEFAULT_MAX_HEADERS,
                           &o->max_headers) != 0)
                return -1;
        }
        else if (strcmp(a, "--threads") == 0) {
            if (parse_long(a, v, 1, 1024, &n) != 0)
                return -1;
            o->threads = (int)n;
        } else if (strcmp(a, "--max-body") == 0) {
            if (parse_max_body(v, o) != 0)
                return -1;
        } else if (strcmp(a, "--lua-heap-mb") == 0) {
            if (parse_long(a, v, 16, 1L << 20, &o->heap_mb) != 0)
                return -1;
        } else if (strcmp(a, "--script-ms") == 0) {
            if (parse_long(a, v, 1, 600000, &o->script_ms) != 0)
                return -1;
        } else if (strcmp(a, "--request-timeout-ms") == 0) {
            if (parse_long(a, v, 10, 3600000, &o->request_timeout_ms) != 0)
                return -1;
        } else {
            fprintf(stderr, "kmsemu: unknown option '%s' (see --help)\n", a);
            return -1;
        }
    }
    if ((o->tls_cert != NULL) != (o->tls_key != NULL) ||
        (o->tls_cert != NULL && o->tls_self_signed != NULL)) {
        fprintf(stderr, "kmsemu: give --tls-cert with --tls-key, or "
                        "--tls-self-signed alone\n");
        return -1;
    }
    if (o->max_body_rule > o->max_body)
        o->max_body = o->max_body_rule;
    return 0;
}

/* The certificate and key https needs, when asked for; *id stays NULL
 * for plain http. Returns 0, or -1 with a reason in err. */
static int
tls_setup(const struct options *o, struct tls_identity **id, char *err,
          size_t errlen)
{
    const char *colon = strrchr(o->listen, ':');
    char host[256];

    *id = NULL;
    if (o->tls_cert != NULL)
        *id = tls_load(o->tls_cert, o->tls_key, err, errlen);
    else if (o->tls_self_signed != NULL) {
        /* "HOST:PORT" or "[v6]:PORT": the certificate names HOST. */
        snprintf(host, sizeof(host), "%.*s",
                 colon ? (int)(colon - o->listen) : 0, o->listen);
        if (host[0] == '[' && host[strlen(host) - 1] == ']') {
            host[strlen(host) - 1] = '\0';
            memmove(host, host + 1, strlen(host));
        }
        *id = tls_self_signed(host, o->tls_self_signed, err, errlen);
    } else
        return 0;
    return *id != NULL ? 0 : -1;
}

/* Waits for SIGINT or SIGTERM and returns it. Meanwhile, once a second
 * in which requests were served, hands malloc's free pages back to the
 * kernel: the request buffers of 64 workers and the Lua heap share one
 * arena, and without this RSS crept up under a long mixed load (19.7 to
 * 25.7 MB over a million requests of make soak) while the heap itself
 * stayed flat. A trim takes well under a millisecond here. */
static int
serve(struct http_server *srv, const sigset_t *stop)
{
    const struct timespec second = {1, 0};
    unsigned long seen = 0, now;
    int sig;

    for (;;) {
        sig = sigtimedwait(stop, NULL, &second);
        if (sig > 0)
            return sig;
        if ((now = http_served(srv)) != seen) {
            seen = now;
            malloc_trim(0);
        }
    }
}

/* The checkout kmsemu runs from: the parent of the binary's directory
 * (build/kmsemu), or, for a binary built into another directory, the
 * source tree it was compiled from. */
static void
project_root(char *out, size_t outlen)
{
    char exe[PATH_MAX], probe[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    char *slash;

    snprintf(out, outlen, "%s", KMS_SOURCE_DIR);
    if (n <= 0)
        return;
    exe[n] = '\0';
    if ((slash = strrchr(exe, '/')) == NULL)
        return;
    *slash = '\0'; /* .../build */
    if ((slash = strrchr(exe, '/')) == NULL)
        return;
    *slash = '\0';
    snprintf(probe, sizeof(probe), "%s/lua/kmsemu/init.lua", exe);
    if (access(probe, R_OK) == 0)
        snprintf(out, outlen, "%s", exe[0] ? exe : "/");
}

/* The listener's half of start-up, on a thread of its own. */
struct listener {
    const struct options *o;
    struct tls_identity *tls;
    struct http_server *srv;
    char err[1024];
};

static void *
start_listener(void *arg)
{
    struct listener *l = arg;
    const struct options *o = l->o;
    struct http_config hc;

    if (tls_setup(o, &l->tls, l->err, sizeof(l->err)) != 0)
        return NULL;
    hc.listen = o->listen;
    hc.threads = o->threads;
    hc.queue = (int)o->queue;
    hc.max_body = (size_t)o->max_body;
    hc.max_header_bytes = o->max_header_bytes;
    hc.max_headers = (int)o->max_headers;
    hc.request_timeout_ms = o->request_timeout_ms;
    hc.tls = l->tls;
    l->srv = http_start(&hc, l->err, sizeof(l->err));
    return NULL;
}

int
main(int argc, char **argv)
{
    struct options o = {
        .listen = KMS_DEFAULT_LISTEN,
        .threads = KMS_DEFAULT_THREADS,
        .queue = KMS_DEFAULT_QUEUE,
        .max_body = KMS_DEFAULT_MAX_BODY,
        .max_header_bytes = KMS_DEFAULT_HEADER_BYTES,
        .max_headers = KMS_DEFAULT_MAX_HEADERS,
        .script_ms = KMS_DEFAULT_SCRIPT_MS,
        .request_timeout_ms = KMS_DEFAULT_REQUEST_TIMEOUT_MS,
    };
    struct listener listener = {0};
    struct tls_identity *tls;
    pthread_t starter;
    int starting;
    char root[PATH_MAX], lua_dir[PATH_MAX + 8], scenario[PATH_MAX + 32];
    char err[1024] = "", url[200];
    struct vm_config vc;
    struct http_server *srv;
    struct vm *vm;
    sigset_t stop;
    const char *check = NULL;
    int rc, sig, run = 0;

    /* kmsemu check FILE [options]: load the scenario, serve nothing.
     * kmsemu run FILE [options]: load it and run its steps in-process. */
    if (argc > 1 && (strcmp(argv[1], "check") == 0 || strcmp(argv[1], "run") == 0)) {
        run = strcmp(argv[1], "run") == 0;
        if (argc < 3) {
            fprintf(stderr, "kmsemu: usage: kmsemu %s FILE [options]\n", argv[1]);
            return 2;
        }
        check = argv[2];
        o.scenario = check;
        argc -= 2;
        argv += 2;
    }
    if ((rc = parse_args(argc, argv, &o)) != 0)
        return rc > 0 ? 0 : 2;
    project_root(root, sizeof(root));
    if (o.lua_dir == NULL) {
        snprintf(lua_dir, sizeof(lua_dir), "%s/lua", root);
        o.lua_dir = lua_dir;
    }
    if (o.scenario == NULL) {
        snprintf(scenario, sizeof(scenario), "%s/scenarios/default.lua", root);
        o.scenario = scenario;
    }

    /* Nearly every allocation happens under the one Lua lock, so per-thread
     * malloc arenas buy no concurrency; they only spread the Lua heap and
     * the request buffers over up to 8 arenas per core, each keeping its
     * freed chunks, and RSS creeps up under a long load. */
    mallopt(M_ARENA_MAX, 1);

    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    vc.lua_dir = o.lua_dir;
    vc.scenario = o.scenario;
    vc.script_ms = o.script_ms;
    vc.admin_token = o.admin_token;
    vc.data_dir = o.data_dir;
    vc.heap_mb = o.heap_mb;
    memcpy(vc.max_body_rules, o.max_body_rules, sizeof(vc.max_body_rules));
    vc.n_max_body_rules = o.n_max_body_rules;
    if (check != NULL) {
        if ((vm = vm_create(&vc, err, sizeof(err))) == NULL) {
            fprintf(stderr, "kmsemu: %s\n", err);
            return 2;
        }
        rc = run ? vm_run_steps(vm, 600000) : 0;
        if (!run)
            printf("%s: ok\n", check);
        vm_destroy(vm);
        return rc == 0 ? 0 : rc < 0 ? 2 : 1;
    }

    /* The VM (OpenSSL, the Lua modules, the scenario) and the listener
     * (its 64 worker threads) are built side by side, on the two cores
     * this machine kind has: start-to-ready 9.35 -> 8.9 ms (medians of
     * alternating runs). Nobody hears
     * of the port before both are ready. */
    listener.o = &o;
    starting = pthread_create(&starter, NULL, start_listener, &listener) == 0;
    if (!starting)
        start_listener(&listener);
    vm = vm_create(&vc, err, sizeof(err));
    if (starting)
        pthread_join(starter, NULL);
    srv = listener.srv;
    tls = listener.tls;
    if (vm == NULL || srv == NULL) {
        fprintf(stderr, "kmsemu: %s\n", vm == NULL ? err : listener.err);
        http_stop(srv);
        tls_free(tls);
        rc = vm == NULL ? 2 : 1;
        vm_destroy(vm);
        return rc;
    }
    http_attach(srv, vm);
    snprintf(url, sizeof(url), "%s://%s", tls ? "https" : "http",
             http_address(srv));
    printf("kmsemu listening on %s\n%s\n", url, vm_describe(vm, url));
    fflush(stdout);

    sig = serve(srv, &stop);
    fprintf(stderr, "kmsemu: signal %d, stopping\n", sig);

    http_stop(srv);
    tls_free(tls);
    vm_destroy(vm);
    return 0;
}
