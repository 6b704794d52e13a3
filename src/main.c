/* main.c -- command line, start-up order and shutdown.
 *
 * Start-up: parse flags, build the VM (which loads the scenario), listen,
 * announce the address, then wait for SIGINT or SIGTERM. The signals are
 * blocked before civetweb starts its threads so that only sigwait() below
 * ever sees them, and shutdown runs in ordinary code, not a handler. */
#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "http.h"
#include "kmsemu.h"
#include "tls.h"
#include "vm.h"

struct options {
    const char *listen;
    const char *scenario;
    const char *lua_dir;
    long threads;
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
    const char *log;
    const char *log_format;
    int quiet;
};

static const char usage_text[] =
    "Usage: kmsemu [options]\n"
    "       kmsemu check FILE [options]   load a scenario, report, exit\n"
    "       kmsemu run FILE [options]     load a scenario, run its step{}s,\n"
    "                                     exit 1 if an expectation fails\n"
    "A local emulator of Huawei Cloud KMS and Tencent Cloud KMS.\n"
    "\n"
    "  --listen HOST:PORT      address to listen on (default %s);\n"
    "                          port 0 picks a free port\n"
    "  --scenario FILE         scenario to load (default\n"
    "                          scenarios/default.lua of this checkout,\n"
    "                          or of share/kmsemu/ once installed)\n"
    "  --admin-token TOKEN     require 'Authorization: Bearer TOKEN'\n"
    "                          on /_kmsemu/ (default: loopback only)\n"
    "  --data-dir DIR          keep every change made at run time (keys,\n"
    "                          states, aliases, tags, rotations, grants,\n"
    "                          imported material) in DIR, on disk before\n"
    "                          the response; a restart with the same\n"
    "                          scenario and DIR finds them (default: none,\n"
    "                          changes live in memory only)\n"
    "  --lua-dir DIR           load the kmsemu Lua modules from DIR\n"
    "                          instead of those built in (for\n"
    "                          development)\n"
    "  --tls-cert FILE         serve https only, with this PEM\n"
    "                          certificate (then any intermediates)\n"
    "  --tls-key FILE          the PEM private key of --tls-cert\n"
    "  --tls-self-signed FILE  serve https only, with a new self-signed\n"
    "                          certificate for the listen address and\n"
    "                          localhost, written to FILE for clients\n"
    "                          to trust (the key stays in memory)\n"
    "  --log FILE              append the access log, one line per\n"
    "                          request, to FILE (default: stderr)\n"
    "  --log-format FORMAT     text (for people, the default) or json\n"
    "                          (one object per line)\n"
    "  --quiet                 no access log\n"
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
    "another kmsemu holds stops start-up with status 2.\n"
    "\n"
    "Environment: each option may be given as KMSEMU_ and its name in\n"
    "capitals, '-' as '_' (--data-dir: KMSEMU_DATA_DIR; a switch takes 1\n"
    "or 0); the command line wins, an empty variable counts as unset:\n";

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
parse_max_body(const char *label, const char *v, struct options *o)
{
    const char *eq = strchr(v, '=');
    long n;
    size_t i;

    if (eq == NULL)
        return parse_long(label, v, 1024, 1L << 30, &o->max_body);
    for (i = 0; v + i < eq; i++)
        if (!isalnum((unsigned char)v[i]) && v[i] != '_')
            break;
    if (v + i != eq || i == 0) {
        fprintf(stderr, "kmsemu: %s wants BYTES or DIALECT=BYTES, "
                        "not '%s'\n", label, v);
        return -1;
    }
    if (parse_long(label, eq + 1, 0, 1L << 30, &n) != 0)
        return -1;
    if (o->n_max_body_rules == KMS_MAX_BODY_RULES) {
        fprintf(stderr, "kmsemu: %s DIALECT=BYTES given too often\n", label);
        return -1;
    }
    o->max_body_rules[o->n_max_body_rules++] = v;
    if (n > o->max_body_rule)
        o->max_body_rule = n;
    return 0;
}

/* The options: a string, a number in a range, a switch (no value), or
 * one with a parser of its own. Each can also come from the environment
 * (see env_name); a flag on the command line wins. */
enum flag_kind { FLAG_STR, FLAG_NUM, FLAG_SWITCH, FLAG_PARSER };

#define STR(name, field) \
    {name, FLAG_STR, offsetof(struct options, field), 0, 0, NULL}
#define NUM(name, field, min, max) \
    {name, FLAG_NUM, offsetof(struct options, field), min, max, NULL}
#define SWITCH(name, field) \
    {name, FLAG_SWITCH, offsetof(struct options, field), 0, 0, NULL}
#define PARSER(name, fn) {name, FLAG_PARSER, 0, 0, 0, fn}

static const struct flag {
    const char *name;
    enum flag_kind kind;
    size_t offset;
    long min, max;
    int (*parse)(const char *label, const char *v, struct options *o);
} flags[] = {
    STR("--listen", listen), STR("--scenario", scenario),
    STR("--admin-token", admin_token), STR("--data-dir", data_dir),
    STR("--lua-dir", lua_dir), STR("--tls-cert", tls_cert),
    STR("--tls-key", tls_key), STR("--tls-self-signed", tls_self_signed),
    STR("--log", log), STR("--log-format", log_format),
    SWITCH("--quiet", quiet),
    NUM("--queue", queue, 1, 65536),
    NUM("--max-header-bytes", max_header_bytes, 1024, 1L << 20),
    NUM("--max-headers", max_headers, 1, KMS_DEFAULT_MAX_HEADERS),
    NUM("--threads", threads, 1, 1024),
    NUM("--lua-heap-mb", heap_mb, 16, 1L << 20),
    NUM("--script-ms", script_ms, 1, 600000),
    NUM("--request-timeout-ms", request_timeout_ms, 10, 3600000),
    PARSER("--max-body", parse_max_body),
};

#define N_FLAGS (sizeof(flags) / sizeof(flags[0]))

/* The variable of a flag: --data-dir is KMSEMU_DATA_DIR. */
static void
env_name(const struct flag *f, char *out, size_t outlen)
{
    size_t i, n = (size_t)snprintf(out, outlen, "KMSEMU_%s", f->name + 2);

    for (i = 7; i < n && i < outlen; i++)
        out[i] = out[i] == '-' ? '_' : (char)toupper((unsigned char)out[i]);
}

/* Sets f from v (NULL: a switch given as a flag); label names the flag or
 * the variable in a complaint. Returns 0, or -1 for a bad value. */
static int
set_flag(const struct flag *f, const char *label, const char *v,
         struct options *o)
{
    void *field = (char *)o + f->offset;

    switch (f->kind) {
    case FLAG_STR:
        *(const char **)field = v;
        return 0;
    case FLAG_NUM:
        return parse_long(label, v, f->min, f->max, field);
    case FLAG_SWITCH:
        if (v != NULL && strcmp(v, "1") != 0 && strcmp(v, "0") != 0) {
            fprintf(stderr, "kmsemu: %s wants 1 or 0, not '%s'\n", label, v);
            return -1;
        }
        *(int *)field = v == NULL || v[0] == '1';
        return 0;
    case FLAG_PARSER:
        return f->parse(label, v, o);
    }
    return -1;
}

static const struct flag *
find_flag(const char *name)
{
    size_t i;

    for (i = 0; i < N_FLAGS; i++)
        if (strcmp(name, flags[i].name) == 0)
            return &flags[i];
    return NULL;
}

/* The variables of the flags the command line left out; an empty one
 * counts as unset. */
static int
parse_env(const unsigned char *given, struct options *o)
{
    char var[64];
    const char *v;
    size_t i;

    for (i = 0; i < N_FLAGS; i++) {
        env_name(&flags[i], var, sizeof(var));
        if (given[i] || (v = getenv(var)) == NULL || v[0] == '\0')
            continue;
        if (set_flag(&flags[i], var, v, o) != 0)
            return -1;
    }
    return 0;
}

/* The text above, then the variables of the options. */
static void
usage(FILE *out)
{
    char var[64];
    size_t i, col = 0;

    fprintf(out, usage_text,
        KMS_DEFAULT_LISTEN, KMS_DEFAULT_THREADS, KMS_DEFAULT_QUEUE,
        KMS_DEFAULT_MAX_BODY, KMS_DEFAULT_HEADER_BYTES,
        KMS_DEFAULT_MAX_HEADERS, KMS_DEFAULT_REQUEST_TIMEOUT_MS,
        KMS_DEFAULT_SCRIPT_MS, KMS_DEFAULT_LUA_HEAP_MB);
    for (i = 0; i < N_FLAGS; i++) {
        env_name(&flags[i], var, sizeof(var));
        if (col > 0 && col + strlen(var) + 1 > 70) {
            fputc('\n', out);
            col = 0;
        }
        col += (size_t)fprintf(out, col == 0 ? "  %s" : " %s", var);
    }
    fputc('\n', out);
}

/* Returns 0 to go on, 1 when --help/--version answered, -1 on bad usage. */
static int
parse_args(int argc, char **argv, struct options *o)
{
    unsigned char given[N_FLAGS] = {0};
    const struct flag *f;
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("kmsemu %s\n", KMS_VERSION);
            return 1;
        }
        if ((f = find_flag(argv[i])) == NULL) {
            fprintf(stderr, "kmsemu: unknown option '%s' (see --help)\n", argv[i]);
            return -1;
        }
        if (f->kind != FLAG_SWITCH && i + 1 == argc) {
            fprintf(stderr, "kmsemu: %s wants a value\n", argv[i]);
            return -1;
        }
        if (set_flag(f, argv[i], f->kind == FLAG_SWITCH ? NULL : argv[i + 1], o) != 0)
            return -1;
        i += f->kind != FLAG_SWITCH;
        given[f - flags] = 1;
    }
    if (parse_env(given, o) != 0)
        return -1;
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
 * in which requests were served, writes out the access log's buffer and
 * hands malloc's free pages back to the kernel: the buffers of 64 workers
 * share one arena, and without this RSS crept up under a long mixed load
 * while the Lua heap stayed flat. */
static int
serve(struct http_server *srv, struct vm *vm, const sigset_t *stop)
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
            vm_tick(vm);
            malloc_trim(0);
        }
    }
}

/* The default scenario: scenarios/default.lua of the checkout the binary
 * was built in (build/kmsemu), or of the prefix it was installed to
 * (bin/kmsemu, share/kmsemu/), else of the current directory. */
static void
default_scenario(char *out, size_t outlen)
{
    static const char *const homes[] = {"", "/share/kmsemu"};
    char exe[PATH_MAX], probe[PATH_MAX + 64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    char *slash;
    size_t i;

    snprintf(out, outlen, "scenarios/default.lua");
    if (n <= 0)
        return;
    exe[n] = '\0';
    if ((slash = strrchr(exe, '/')) == NULL)
        return;
    *slash = '\0'; /* .../build */
    if ((slash = strrchr(exe, '/')) == NULL)
        return;
    *slash = '\0';
    for (i = 0; i < sizeof(homes) / sizeof(homes[0]); i++) {
        snprintf(probe, sizeof(probe), "%s%s/scenarios/default.lua", exe,
                 homes[i]);
        if (access(probe, R_OK) == 0) {
            snprintf(out, outlen, "%s", probe);
            return;
        }
    }
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
    struct http_config hc = {
        .listen = o->listen, .threads = (int)o->threads, .queue = (int)o->queue,
        .max_body = (size_t)o->max_body, .max_header_bytes = o->max_header_bytes,
        .max_headers = (int)o->max_headers,
        .request_timeout_ms = o->request_timeout_ms,
    };

    if (tls_setup(o, &l->tls, l->err, sizeof(l->err)) != 0)
        return NULL;
    hc.tls = l->tls;
    l->srv = http_start(&hc, l->err, sizeof(l->err));
    return NULL;
}

/* kmsemu check FILE / kmsemu run FILE: the scenario loaded (and its steps
 * run), nothing served. Returns the exit status. */
static int
check_or_run(const struct vm_config *vc, const char *file, int run)
{
    char err[1024] = "";
    struct vm *vm = vm_create(vc, err, sizeof(err));
    int rc;

    if (vm == NULL) {
        fprintf(stderr, "kmsemu: %s\n", err);
        return 2;
    }
    rc = run ? vm_run_steps(vm, 600000) : 0;
    if (!run)
        printf("%s: ok\n", file);
    vm_destroy(vm);
    return rc == 0 ? 0 : rc < 0 ? 2 : 1;
}

/* Builds the VM and the listener side by side (the two halves of
 * start-up take as long), serves until SIGINT or SIGTERM, and stops.
 * Nobody hears of the port before both are ready. */
static int
serve_until_stopped(const struct options *o, const struct vm_config *vc,
                    const sigset_t *stop)
{
    struct listener listener = {.o = o};
    pthread_t starter;
    char err[1024] = "", url[200];
    int starting, sig, rc = 0;
    struct vm *vm;

    starting = pthread_create(&starter, NULL, start_listener, &listener) == 0;
    if (!starting)
        start_listener(&listener);
    vm = vm_create(vc, err, sizeof(err));
    if (starting)
        pthread_join(starter, NULL);
    if (vm == NULL || listener.srv == NULL) {
        fprintf(stderr, "kmsemu: %s\n", vm == NULL ? err : listener.err);
        rc = vm == NULL ? 2 : 1;
        goto done;
    }
    http_attach(listener.srv, vm);
    snprintf(url, sizeof(url), "%s://%s", listener.tls ? "https" : "http",
             http_address(listener.srv));
    printf("kmsemu listening on %s\n%s\n", url, vm_describe(vm, url));
    fflush(stdout);
    sig = serve(listener.srv, vm, stop);
    fprintf(stderr, "kmsemu: signal %d, stopping\n", sig);
done:
    http_stop(listener.srv);
    tls_free(listener.tls);
    vm_destroy(vm);
    return rc;
}

/* Process-wide settings, made before any thread starts. */
static void
process_setup(const struct options *o, sigset_t *stop)
{
    /* Nearly every allocation happens under the one Lua lock, so
     * per-thread malloc arenas buy no concurrency, only RSS. */
    mallopt(M_ARENA_MAX, 1);
    /* openssl.cnf brings the host's TLS policy, which https needs; without
     * https it is left unread, so that the emulator's own algorithms do not
     * depend on the host's provider settings, and start-up is shorter. */
    if (o->tls_cert == NULL && o->tls_self_signed == NULL)
        OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
    /* Only sigwait() in serve() sees these: blocked before any thread
     * starts, so that shutdown runs in ordinary code, not in a handler. */
    sigemptyset(stop);
    sigaddset(stop, SIGINT);
    sigaddset(stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, stop, NULL);
    signal(SIGPIPE, SIG_IGN);
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
    char scenario[PATH_MAX + 64];
    const char *mode = argc > 1 ? argv[1] : "", *file = NULL;
    int rc, check = strcmp(mode, "check") == 0, run = strcmp(mode, "run") == 0;
    struct vm_config vc;
    sigset_t stop;

    if (check || run) {
        if (argc < 3) {
            fprintf(stderr, "kmsemu: usage: kmsemu %s FILE [options]\n", mode);
            return 2;
        }
        file = argv[2];
        argc -= 2;
        argv += 2;
    }
    if ((rc = parse_args(argc, argv, &o)) != 0)
        return rc > 0 ? 0 : 2;
    if (file != NULL)
        o.scenario = file;
    if (o.scenario == NULL) {
        default_scenario(scenario, sizeof(scenario));
        o.scenario = scenario;
    }
    vc = (struct vm_config){
        .lua_dir = o.lua_dir, .scenario = o.scenario, .script_ms = o.script_ms,
        .admin_token = o.admin_token, .data_dir = o.data_dir,
        .heap_mb = o.heap_mb, .n_max_body_rules = o.n_max_body_rules,
        .log = o.quiet ? NULL : o.log ? o.log : "-",
        .log_format = o.log_format,
    };
    memcpy(vc.max_body_rules, o.max_body_rules, sizeof(vc.max_body_rules));
    process_setup(&o, &stop);
    if (check || run)
        return check_or_run(&vc, file, run);
    return serve_until_stopped(&o, &vc, &stop);
}
