/* http.c -- civetweb glue. Knows HTTP, not KMS: every request, whatever its
 * path, goes to the VM, and the answer goes back framed here, in one write:
 * a head written apart from its body meets the client's delayed ACK and
 * costs ~40 ms per keep-alive request. kmsemu's own errors are framed here
 * too, as {"kmsemu_error": "..."}. */
#include "http.h"

#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <civetweb.h>

#include "kmsemu.h"
#include "tls.h"
#include "vm.h"

struct http_server {
    struct mg_context *ctx;
    struct vm *_Atomic vm; /* NULL until http_attach() */
    int attached;          /* under gate: http_attach() was called */
    int waiting;           /* under gate: requests held for the VM */
    pthread_mutex_t gate;
    pthread_cond_t ready;
    size_t max_body;
    int max_headers;
    const struct tls_identity *tls;
    atomic_int stopping; /* set by http_stop: hangs and drips end */
    atomic_ulong served; /* requests answered, for http_served */
    char address[160];
};

enum { HTTP_BODY_OK, HTTP_BODY_ERROR };

/* A body over --max-body is read and thrown away, up to this many times
 * --max-body, so that the dialect can answer it in its own words on a
 * connection that stays usable; past that the connection is closed after
 * the answer rather than spend a worker on a client's endless upload. */
#define HTTP_DRAIN_FACTOR 4

/* Reads and forgets the rest of a body; *seen grows by what was read.
 * Returns 0 at its end, -1 on a read error or past limit. */
static int
http_drain(struct mg_connection *conn, size_t *seen, size_t limit)
{
    char sink[16384];
    int n = 0;

    while (*seen <= limit && (n = mg_read(conn, sink, sizeof(sink))) > 0)
        *seen += (size_t)n;
    if (*seen > limit)
        return -1;
    return n == 0 ? 0 : -1;
}

/* Reads the whole body, keeping at most max bytes. Content-Length is
 * honoured when given; otherwise (chunked) it reads until civetweb
 * reports the end. A larger body is drained instead: *out is then NULL
 * and *oversize its length (as far as it was read), and *drained says
 * whether the connection is still in step for another request. */
static int
http_read_body(struct mg_connection *conn, long long content_length,
               size_t max, char **out, size_t *out_len, size_t *oversize,
               int *drained)
{
    size_t cap, len = 0;
    char *buf = NULL;
    int n;

    *out = NULL;
    *out_len = *oversize = 0;
    *drained = 1;
    if (content_length > (long long)max)
        goto drain;
    cap = content_length >= 0 ? (size_t)content_length + 1 : 4096;
    if ((buf = malloc(cap)) == NULL)
        return HTTP_BODY_ERROR;
    for (;;) {
        if (len == cap) {
            char *p;

            if (cap > max)
                goto drain;
            cap *= 2;
            if ((p = realloc(buf, cap)) == NULL) {
                free(buf);
                return HTTP_BODY_ERROR;
            }
            buf = p;
        }
        n = mg_read(conn, buf + len, cap - len);
        if (n < 0) {
            free(buf);
            return HTTP_BODY_ERROR;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (len > max)
        goto drain;
    *out = buf;
    *out_len = len;
    return HTTP_BODY_OK;
drain:
    free(buf);
    *oversize = len;
    *drained = content_length <= (long long)(max * HTTP_DRAIN_FACTOR) &&
               http_drain(conn, oversize, max * HTTP_DRAIN_FACTOR) == 0;
    if (content_length > (long long)*oversize)
        *oversize = (size_t)content_length;
    return HTTP_BODY_OK;
}

/* HTTP/1.1 keeps the connection unless told otherwise; 1.0 the reverse. */
static int
http_keep_alive(const struct mg_request_info *ri)
{
    const char *c = NULL;
    int i;

    for (i = 0; i < ri->num_headers; i++)
        if (strcasecmp(ri->http_headers[i].name, "Connection") == 0)
            c = ri->http_headers[i].value;
    if (c != NULL && strcasecmp(c, "close") == 0)
        return 0;
    if (ri->http_version != NULL && strcmp(ri->http_version, "1.0") == 0)
        return c != NULL && strcasecmp(c, "keep-alive") == 0;
    return 1;
}

/* res as it goes on the wire, in one buffer to free(): status line,
 * headers, Content-Length, Connection, body; a raw response is its body
 * alone. *head_len is where the body starts; NULL when out of memory. */
static char *
http_frame(const struct kms_response *res, int keep_alive, size_t *head_len,
           size_t *len)
{
    size_t cap = res->body_len + 192, n = 0; /* 192: the fixed lines */
    char *p;
    int i;

    for (i = 0; i < res->num_headers; i++)
        cap += strlen(res->headers[i].name) + strlen(res->headers[i].value) + 4;
    if ((p = malloc(cap)) == NULL)
        return NULL;
    if (!res->raw) {
        n += (size_t)snprintf(p, cap, "HTTP/1.1 %d %s\r\n", res->status,
                              mg_get_response_code_text(NULL, res->status));
        for (i = 0; i < res->num_headers; i++)
            n += (size_t)snprintf(p + n, cap - n, "%s: %s\r\n",
                                  res->headers[i].name, res->headers[i].value);
        n += (size_t)snprintf(p + n, cap - n, "Content-Length: %zu\r\n%s\r\n",
                              res->body_len, keep_alive ? "" : "Connection: close\r\n");
    }
    *head_len = n;
    memcpy(p + n, res->body, res->body_len);
    *len = n + res->body_len;
    return p;
}

static void
http_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Writes the bytes: at once, or in slow pieces when a fault asks for a
 * drip (a client gone meanwhile ends it). */
static void
http_send(struct http_server *srv, struct mg_connection *conn,
          const struct kms_response *res, const char *wire, size_t len)
{
    size_t off = 0, n;

    if (res->drip_bytes == 0) {
        mg_write(conn, wire, len);
        return;
    }
    while (off < len && !srv->stopping) {
        n = len - off < res->drip_bytes ? len - off : res->drip_bytes;
        if (mg_write(conn, wire + off, n) <= 0)
            return;
        off += n;
        if (off < len)
            http_sleep_ms(res->drip_ms);
    }
}

/* Frames and sends res; a kmsemu error becomes its plain JSON answer. */
static void
http_answer(struct http_server *srv, struct mg_connection *conn,
            struct kms_response *res, int keep_alive)
{
    static const struct kms_header json = {"Content-Type", "application/json"};
    char body[512], *wire;
    size_t head_len, len;
    int n;

    if (res->error != NULL) {
        n = snprintf(body, sizeof(body), "{\"kmsemu_error\":\"%s\"}", res->error);
        res->raw = 0;
        res->headers = &json;
        res->num_headers = 1;
        res->body = body;
        res->body_len = n > 0 && (size_t)n < sizeof(body) ? (size_t)n : 0;
    }
    if ((wire = http_frame(res, keep_alive, &head_len, &len)) == NULL)
        return;
    if (res->body_limit >= 0 && head_len + (size_t)res->body_limit < len)
        len = head_len + (size_t)res->body_limit;
    if (len > 0)
        http_send(srv, conn, res, wire, len);
    free(wire);
}

/* Answers without the VM: only for what the VM must never see. */
static int
http_refuse(struct mg_connection *conn, int status, const char *msg)
{
    struct kms_response res = {.status = status, .error = msg, .body_limit = -1};

    http_answer(mg_get_user_data(mg_get_context(conn)), conn, &res, 0);
    return status;
}

static int
http_port_of(const struct sockaddr_storage *sa)
{
    if (sa->ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)sa)->sin_port);
    if (sa->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
    return -1;
}

/* civetweb may write an IPv4 client of a dual-stack socket either way. */
static int
http_same_host(const char *a, const char *b)
{
    static const char mapped[] = "::ffff:";
    size_t n = sizeof(mapped) - 1;

    if (strncasecmp(a, mapped, n) == 0)
        a += n;
    if (strncasecmp(b, mapped, n) == 0)
        b += n;
    return strcmp(a, b) == 0;
}

/* civetweb hides its connections' sockets; faults and the stop need them.
 * Calls visit(fd, peer, local port, arg) for each connected socket of the
 * process until it returns non-zero, and returns that fd, or -1. */
typedef int (*http_visit)(int fd, const struct sockaddr_storage *peer,
                          socklen_t peer_len, int local_port, void *arg);

static int
http_each_socket(http_visit visit, void *arg)
{
    struct sockaddr_storage peer, self;
    socklen_t peer_len, self_len;
    struct dirent *de;
    DIR *dir;
    int fd, found = -1;

    if ((dir = opendir("/proc/self/fd")) == NULL)
        return -1;
    while (found < 0 && (de = readdir(dir)) != NULL) {
        fd = atoi(de->d_name);
        peer_len = sizeof(peer);
        self_len = sizeof(self);
        if (fd <= 2 || getpeername(fd, (struct sockaddr *)&peer, &peer_len) != 0 ||
            getsockname(fd, (struct sockaddr *)&self, &self_len) != 0)
            continue;
        if (visit(fd, &peer, peer_len, http_port_of(&self), arg))
            found = fd;
    }
    closedir(dir);
    return found;
}

/* The socket whose peer is this request's client and whose local port is
 * ours: a TCP 4-tuple names one socket. */
static int
http_is_client(int fd, const struct sockaddr_storage *peer, socklen_t peer_len,
               int local_port, void *arg)
{
    const struct mg_request_info *ri = arg;
    char host[NI_MAXHOST], port[NI_MAXSERV];

    (void)fd;
    if (local_port != ri->server_port ||
        getnameinfo((const struct sockaddr *)peer, peer_len, host, sizeof(host),
                    port, sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV))
        return 0;
    return atoi(port) == ri->remote_port && http_same_host(host, ri->remote_addr);
}

/* Only faults take this path, so a walk over the process's descriptors is
 * cheap enough. Returns -1 when none matches. */
static int
http_socket_of(const struct mg_request_info *ri)
{
    return http_each_socket(http_is_client, (void *)ri);
}

/* Waits until the client closes its side, the wait runs out or the server
 * stops, whichever comes first. */
static void
http_hang(struct http_server *srv, int fd, long ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
    char scrap[512];
    long waited = 0;

    while (waited < ms && !srv->stopping) {
        if (poll(&p, 1, 100) > 0) {
            if ((p.revents & (POLLRDHUP | POLLHUP | POLLERR)) ||
                recv(fd, scrap, sizeof(scrap), MSG_DONTWAIT) <= 0)
                return;
        }
        waited += 100;
    }
}

/* Carries out what a fault asked for once the bytes are out. The socket
 * stays open for civetweb to close: a reset disconnects it (connect to
 * AF_UNSPEC makes Linux send RST), a close shuts both directions (FIN),
 * and civetweb, finding the socket at end of stream, then lets it go. */
static void
http_disconnect(struct http_server *srv, struct mg_connection *conn,
                const struct kms_response *res)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    struct linger abortive = {1, 0};
    struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    int fd = http_socket_of(ri);

    if (fd < 0) {
        fprintf(stderr, "kmsemu: http: no socket found for a connection "
                        "fault; the connection is left as it is\n");
        return;
    }
    if (res->after == KMS_AFTER_HANG)
        http_hang(srv, fd, res->hang_ms > 0 ? res->hang_ms : 600000);
    if (res->after == KMS_AFTER_RESET) {
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &abortive, sizeof(abortive));
        if (connect(fd, &unspec, sizeof(unspec)) == 0)
            return;
    }
    shutdown(fd, SHUT_RDWR);
}

/* The VM, once main() has attached it: the server starts listening while
 * the VM is still being built, and a request that comes in meanwhile (the
 * port was fixed and a client was quick) waits for it. If the VM failed,
 * the request is refused here, before http_stop() lets civetweb stop:
 * once it has, civetweb writes nothing more. Returns NULL then. */
static struct vm *
http_vm(struct http_server *srv, struct mg_connection *conn)
{
    struct vm *vm = atomic_load_explicit(&srv->vm, memory_order_acquire);

    if (vm != NULL)
        return vm;
    pthread_mutex_lock(&srv->gate);
    srv->waiting++;
    while (!srv->attached)
        pthread_cond_wait(&srv->ready, &srv->gate);
    vm = atomic_load_explicit(&srv->vm, memory_order_acquire);
    pthread_mutex_unlock(&srv->gate);
    if (vm == NULL)
        http_refuse(conn, 503, "the emulator failed to start");
    pthread_mutex_lock(&srv->gate);
    srv->waiting--;
    pthread_cond_broadcast(&srv->ready);
    pthread_mutex_unlock(&srv->gate);
    return vm;
}

/* The request as vm takes it, pointing into civetweb's and into body. */
static void
http_request(const struct mg_request_info *ri, struct kms_header *headers,
             const char *body, size_t body_len, struct kms_request *req)
{
    int i;

    for (i = 0; i < ri->num_headers; i++) {
        headers[i].name = ri->http_headers[i].name;
        headers[i].value = ri->http_headers[i].value;
    }
    req->method = ri->request_method;
    req->path = ri->local_uri_raw ? ri->local_uri_raw : ri->request_uri;
    req->query = ri->query_string ? ri->query_string : "";
    req->remote_addr = ri->remote_addr;
    req->tls = ri->is_ssl;
    req->headers = headers;
    req->num_headers = ri->num_headers;
    req->body = body ? body : "";
    req->body_len = body_len;
}

static int
http_handle(struct mg_connection *conn, void *cbdata)
{
    struct http_server *srv = cbdata;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    struct kms_header headers[MG_MAX_HEADERS];
    struct kms_request req;
    struct kms_response res;
    struct vm *vm;
    char *body;
    size_t body_len, oversize;
    int drained;

    if ((vm = http_vm(srv, conn)) == NULL)
        return 503;
    /* civetweb keeps the first MG_MAX_HEADERS fields and drops the rest
     * without a word; a request that reaches the cap may have lost some. */
    if (ri->num_headers > srv->max_headers || ri->num_headers >= MG_MAX_HEADERS)
        return http_refuse(conn, 431, "too many header fields (see --max-headers)");
    if (http_read_body(conn, ri->content_length, srv->max_body, &body,
                       &body_len, &oversize, &drained) != HTTP_BODY_OK)
        return http_refuse(conn, 400, "request body could not be read");
    http_request(ri, headers, body, body_len, &req);
    req.oversize = oversize;
    req.keep_alive = drained && http_keep_alive(ri);
    vm_dispatch(vm, &req, &res);
    free(body);
    atomic_fetch_add_explicit(&srv->served, 1, memory_order_relaxed);
    if (res.delay_ms > 0)
        http_sleep_ms(res.delay_ms);
    http_answer(srv, conn, &res, req.keep_alive);
    if (!drained && res.after == KMS_AFTER_KEEP)
        res.after = KMS_AFTER_CLOSE; /* the rest of the body is unread */
    if (res.after != KMS_AFTER_KEEP)
        http_disconnect(srv, conn, &res);
    free(res.mem);
    return res.status;
}

/* civetweb's own refusals, as the JSON the rest of kmsemu answers with
 * rather than its text/plain page. civetweb 1.15 says "Malformed message"
 * alike for a head that fills max_request_size, one cut short by
 * request_timeout_ms and one with bytes HTTP forbids, so one 400 names
 * the three; a head it does measure as too large is 431 (RFC 6585). */
static int
http_error(struct mg_connection *conn, int status, const char *msg)
{
    (void)msg;
    if (status == 413 || status == 431)
        http_refuse(conn, 431,
                    "request line and headers exceed --max-header-bytes");
    else if (status == 400)
        http_refuse(conn, 400, "malformed request head, or larger than "
                    "--max-header-bytes, or not sent within "
                    "--request-timeout-ms");
    else
        return 1; /* anything else: civetweb's page */
    return 0;
}

static int
http_init_tls(void *ssl_ctx, void *user_data)
{
    struct http_server *srv = user_data;

    return tls_configure(srv->tls, ssl_ctx) == 0 ? 1 : -1;
}

static int
http_log(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    fprintf(stderr, "kmsemu: http: %s\n", message);
    return 1;
}

/* Splits "HOST:PORT" (or "[v6]:PORT") and keeps the host for the address
 * we announce; the port comes from civetweb once it has bound. */
static void
http_set_address(struct http_server *srv, const char *listen)
{
    struct mg_server_port ports[4];
    const char *colon = strrchr(listen, ':');
    int host_len = colon ? (int)(colon - listen) : 0;
    int port = 0;

    if (mg_get_server_ports(srv->ctx, 4, ports) > 0)
        port = ports[0].port;
    if (host_len == 0)
        snprintf(srv->address, sizeof(srv->address), "0.0.0.0:%d", port);
    else
        snprintf(srv->address, sizeof(srv->address), "%.*s:%d", host_len,
                 listen, port);
}

static void
http_free(struct http_server *srv)
{
    pthread_cond_destroy(&srv->ready);
    pthread_mutex_destroy(&srv->gate);
    free(srv);
}

/* Starts civetweb for srv. keep_alive_timeout_ms bounds an idle
 * keep-alive connection and request_timeout_ms a request in progress:
 * together they free a worker from a client that sends slowly or not at
 * all. The "s" suffix makes the port TLS-only, so plain HTTP to it fails
 * the handshake instead of being served in the clear. */
static struct mg_context *
http_civetweb(struct http_server *srv, const struct http_config *cfg,
              char *err, size_t errlen)
{
    char threads[16], timeout[24], queue[16], header_bytes[24], ports[200];
    const char *options[] = {
        "listening_ports", ports, "num_threads", threads,
        "connection_queue", queue, "max_request_size", header_bytes,
        "tcp_nodelay", "1", "enable_keep_alive", "yes",
        "keep_alive_timeout_ms", "60000", "request_timeout_ms", timeout,
        NULL, NULL,
    };
    struct mg_callbacks callbacks = {.log_message = http_log,
                                     .http_error = http_error};
    struct mg_init_data init = {.callbacks = &callbacks, .user_data = srv,
                                .configuration_options = options};
    struct mg_error_data error = {.text = err, .text_buffer_size = errlen};

    snprintf(ports, sizeof(ports), "%s%s", cfg->listen, cfg->tls ? "s" : "");
    snprintf(threads, sizeof(threads), "%d", cfg->threads);
    snprintf(queue, sizeof(queue), "%d", cfg->queue);
    snprintf(header_bytes, sizeof(header_bytes), "%ld", cfg->max_header_bytes);
    snprintf(timeout, sizeof(timeout), "%ld", cfg->request_timeout_ms);
    if (cfg->tls != NULL)
        callbacks.init_ssl = http_init_tls;
    return mg_start2(&init, &error);
}

/* Every request is kmsemu's to authorise (the dialects' signatures, the
 * admin API's token). Without a handler civetweb looks for /.htpasswd on
 * each request and, if one exists, answers 401 before kmsemu sees it. */
static int
http_no_file_auth(struct mg_connection *conn, void *cbdata)
{
    (void)conn;
    (void)cbdata;
    return 1;
}

struct http_server *
http_start(const struct http_config *cfg, char *err, size_t errlen)
{
    unsigned want = cfg->tls != NULL ? MG_FEATURES_TLS : 0;
    struct http_server *srv;

    if (cfg->tls != NULL && mg_check_feature(MG_FEATURES_TLS) == 0) {
        snprintf(err, errlen, "this civetweb was built without TLS");
        return NULL;
    }
    if ((srv = calloc(1, sizeof(*srv))) == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&srv->gate, NULL);
    pthread_cond_init(&srv->ready, NULL);
    srv->max_body = cfg->max_body;
    srv->max_headers = cfg->max_headers;
    srv->tls = cfg->tls;
    /* The only report of a TLS civetweb could not load: serving on would
     * crash a worker on the first https connection (see tls_compat.c). */
    if ((mg_init_library(want) & want) != want)
        snprintf(err, errlen, "TLS unavailable: civetweb could not load "
                              "the OpenSSL functions it needs");
    else
        srv->ctx = http_civetweb(srv, cfg, err, errlen);
    if (srv->ctx == NULL) {
        if (err[0] == '\0')
            snprintf(err, errlen, "cannot listen on %s", cfg->listen);
        mg_exit_library();
        http_free(srv);
        return NULL;
    }
    mg_set_auth_handler(srv->ctx, "/", http_no_file_auth, NULL);
    mg_set_request_handler(srv->ctx, "/", http_handle, srv);
    http_set_address(srv, cfg->listen);
    return srv;
}

void
http_attach(struct http_server *srv, struct vm *vm)
{
    pthread_mutex_lock(&srv->gate);
    atomic_store_explicit(&srv->vm, vm, memory_order_release);
    srv->attached = 1;
    pthread_cond_broadcast(&srv->ready);
    pthread_mutex_unlock(&srv->gate);
}

unsigned long
http_served(struct http_server *srv)
{
    return atomic_load_explicit(&srv->served, memory_order_relaxed);
}

const char *
http_address(const struct http_server *srv)
{
    return srv->address;
}

/* A worker waiting on an idle keep-alive connection looks at the stop flag
 * only every 2 s. Shutting the read side of the server's connected sockets
 * ends those waits at once; a worker mid-answer still writes its answer.
 * Counts those whose client is still there (not the waker's own). */
struct http_release {
    int port;    /* the server's */
    int clients; /* sockets let go whose client was still there */
};

static int
http_let_go(int fd, const struct sockaddr_storage *peer, socklen_t peer_len,
            int local_port, void *arg)
{
    struct pollfd p = {.fd = fd, .events = POLLRDHUP};
    struct http_release *r = arg;

    (void)peer;
    (void)peer_len;
    if (local_port != r->port)
        return 0;
    if (poll(&p, 1, 0) == 0)
        r->clients++;
    shutdown(fd, SHUT_RD);
    return 0;
}

static int
http_release_idle(int port)
{
    struct http_release r = {.port = port, .clients = 0};

    http_each_socket(http_let_go, &r);
    return r.clients;
}

/* civetweb's master thread polls its sockets with a 2 s timeout and looks
 * at the stop flag only then, so mg_stop() alone takes 2 s, on every
 * shutdown of every CI run. A connection to ourselves, made just after the
 * flag is set, wakes the poll at once; then the idle workers are let go. */
static void *
http_wake(void *arg)
{
    const char *address = arg, *colon = strrchr(address, ':');
    struct addrinfo hints = {0}, *ai = NULL;
    char host[128];
    int fd, n;

    http_sleep_ms(20);
    snprintf(host, sizeof(host), "%.*s", (int)(colon - address), address);
    if (strcmp(host, "0.0.0.0") == 0 || host[0] == '\0')
        snprintf(host, sizeof(host), "127.0.0.1");
    else if (strcmp(host, "[::]") == 0)
        snprintf(host, sizeof(host), "::1");
    else if (host[0] == '[') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, colon + 1, &hints, &ai) == 0) {
        if ((fd = socket(ai->ai_family, ai->ai_socktype, 0)) >= 0) {
            connect(fd, ai->ai_addr, ai->ai_addrlen);
            close(fd);
        }
        freeaddrinfo(ai);
    }
    if ((n = http_release_idle(atoi(colon + 1))) > 0)
        fprintf(stderr, "kmsemu: stopping: let go of %d open connection%s\n",
                n, n == 1 ? "" : "s");
    return NULL;
}

void
http_stop(struct http_server *srv)
{
    pthread_t waker;
    int woken;

    if (srv == NULL)
        return;
    atomic_store(&srv->stopping, 1);
    /* Requests held for a VM that never came are answered first. */
    pthread_mutex_lock(&srv->gate);
    srv->attached = 1;
    pthread_cond_broadcast(&srv->ready);
    while (srv->waiting > 0)
        pthread_cond_wait(&srv->ready, &srv->gate);
    pthread_mutex_unlock(&srv->gate);
    woken = pthread_create(&waker, NULL, http_wake, srv->address) == 0;
    mg_stop(srv->ctx);
    if (woken)
        pthread_join(waker, NULL);
    mg_exit_library();
    http_free(srv);
}
