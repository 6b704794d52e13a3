/* main.c -- command line, start-up order and shutdown.
 *
 * Start-up: parse flags, build the VM (which loads the scenario), listen,
 * announce the address, then wait for SIGINT or SIGTERM. The signals are
 * blocked before civetweb starts its threads so that only sigwait() below
 * ever sees them, and shutdown runs in ordinary code, not a handler. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "kmsemu.h"
#include "vm.h"

struct options {
    const char *listen;
    const char *scenario;
    const char *lua_dir;
    int threads;
    long max_body;
    long script_ms;
    long request_timeout_ms;
    const char *admin_token;
    const char *data_dir;
};

static void
usage(FILE *out)
{
    fprintf(out,
        "Usage: kmsemu [options]\n"
        "       kmsemu check FILE [options]   load a scenario, report, exit\n"
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
        "  --threads N             HTTP worker threads; each keep-alive\n"
        "                          client holds one (default %d)\n"
        "  --max-body BYTES        largest request body accepted; larger\n"
        "                          ones get 413 (default %d)\n"
        "  --script-ms MS          Lua time budget per request (default %d)\n"
        "  --request-timeout-ms MS time a client may take to send a\n"
        "                          request (default 30000)\n"
        "  --version               print the version and exit\n"
        "  --help                  print this help and exit\n"
        "\n"
        "Once it accepts connections it prints\n"
        "  kmsemu listening on http://HOST:PORT\n"
        "SIGINT or SIGTERM stop it; the exit status is then 0. A scenario\n"
        "that does not load, a damaged log in --data-dir, or a --data-dir\n"
        "another kmsemu holds stops start-up with status 2.\n",
        KMS_DEFAULT_LISTEN, KMS_DEFAULT_THREADS, KMS_DEFAULT_MAX_BODY,
        KMS_DEFAULT_SCRIPT_MS);
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
        else if (strcmp(a, "--threads") == 0) {
            if (parse_long(a, v, 1, 1024, &n) != 0)
                return -1;
            o->threads = (int)n;
        } else if (strcmp(a, "--max-body") == 0) {
            if (parse_long(a, v, 1024, 1L << 30, &o->max_body) != 0)
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
    return 0;
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

int
main(int argc, char **argv)
{
    struct options o = {
        KMS_DEFAULT_LISTEN, NULL, NULL, KMS_DEFAULT_THREADS,
        KMS_DEFAULT_MAX_BODY, KMS_DEFAULT_SCRIPT_MS, 30000, NULL, NULL,
    };
    char root[PATH_MAX], lua_dir[PATH_MAX + 8], scenario[PATH_MAX + 32];
    char err[1024] = "", url[200];
    struct vm_config vc;
    struct http_config hc;
    struct http_server *srv;
    struct vm *vm;
    sigset_t stop;
    const char *check = NULL;
    int rc, sig;

    /* kmsemu check FILE [options]: load the scenario, serve nothing. */
    if (argc > 1 && strcmp(argv[1], "check") == 0) {
        if (argc < 3) {
            fprintf(stderr, "kmsemu: usage: kmsemu check FILE [options]\n");
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
    if ((vm = vm_create(&vc, err, sizeof(err))) == NULL) {
        fprintf(stderr, "kmsemu: %s\n", err);
        return 2;
    }
    if (check != NULL) {
        printf("%s: ok\n", check);
        vm_destroy(vm);
        return 0;
    }

    hc.listen = o.listen;
    hc.threads = o.threads;
    hc.max_body = (size_t)o.max_body;
    hc.request_timeout_ms = o.request_timeout_ms;
    if ((srv = http_start(&hc, vm, err, sizeof(err))) == NULL) {
        fprintf(stderr, "kmsemu: %s\n", err);
        vm_destroy(vm);
        return 1;
    }
    snprintf(url, sizeof(url), "http://%s", http_address(srv));
    printf("kmsemu listening on %s\n%s\n", url, vm_describe(vm, url));
    fflush(stdout);

    do {
        rc = sigwait(&stop, &sig);
    } while (rc != 0);
    fprintf(stderr, "kmsemu: signal %d, stopping\n", sig);

    http_stop(srv);
    vm_destroy(vm);
    return 0;
}
