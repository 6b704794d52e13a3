/* ceiling.c -- the HTTP ceiling kmsemu is measured against: civetweb with
 * kmsemu's own options (threads, TCP_NODELAY, keep-alive), a handler that
 * reads the whole body and answers a small JSON document in one write, and
 * nothing else. No Lua, no crypto, no lock. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <civetweb.h>

static int
handle(struct mg_connection *conn, void *cbdata)
{
    static const char wire[] =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        "Content-Length: 57\r\n\r\n"
        "{\"Response\":{\"RequestId\":\"00000000-0000-4000-8000-0000\"}}";
    char buf[8192];

    (void)cbdata;
    while (mg_read(conn, buf, sizeof(buf)) > 0)
        ;
    mg_write(conn, wire, sizeof(wire) - 1);
    return 200;
}

int
main(int argc, char **argv)
{
    const char *options[] = {
        "listening_ports", argc > 1 ? argv[1] : "127.0.0.1:0",
        "num_threads", "64",
        "tcp_nodelay", "1",
        "enable_keep_alive", "yes",
        "keep_alive_timeout_ms", "60000",
        NULL, NULL,
    };
    struct mg_callbacks callbacks;
    struct mg_server_port ports[1];
    struct mg_context *ctx;
    sigset_t stop;
    int sig;

    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    memset(&callbacks, 0, sizeof(callbacks));
    mg_init_library(0);
    if ((ctx = mg_start(&callbacks, NULL, options)) == NULL)
        return 1;
    mg_set_request_handler(ctx, "/", handle, NULL);
    if (mg_get_server_ports(ctx, 1, ports) < 1)
        return 1;
    printf("kmsemu listening on http://127.0.0.1:%d\n", ports[0].port);
    fflush(stdout);
    sigwait(&stop, &sig);
    mg_stop(ctx);
    mg_exit_library();
    return 0;
}
