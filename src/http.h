/* http.h -- the civetweb listener: one catch-all handler that reads a
 * request, hands it to the VM and writes the answer in a single write. */
#ifndef KMS_HTTP_H
#define KMS_HTTP_H

#include <stddef.h>

struct vm;
struct http_server;
struct tls_identity;

struct http_config {
    const char *listen; /* "HOST:PORT"; port 0 picks a free one */
    int threads;        /* workers: at most this many connections at once */
    int queue;          /* accepted connections waiting for a worker */
    size_t max_body;
    long max_header_bytes; /* request line and headers together */
    int max_headers;       /* header fields, below civetweb's MG_MAX_HEADERS */
    long request_timeout_ms;
    const struct tls_identity *tls; /* serve https with it, or NULL */
};

/* Starts listening. On failure returns NULL with a reason in err.
 * Requests wait until http_attach() names the VM that answers them. */
struct http_server *http_start(const struct http_config *cfg, char *err,
                               size_t errlen);

/* Lets the waiting and all later requests through to vm; with NULL (the
 * VM failed to start) they are refused with a 503. */
void http_attach(struct http_server *srv, struct vm *vm);

/* The "host:port" the server actually listens on (port 0 resolved). */
const char *http_address(const struct http_server *srv);

/* Requests answered so far (by the VM; not civetweb's own refusals). */
unsigned long http_served(struct http_server *srv);

void http_stop(struct http_server *srv);

#endif /* KMS_HTTP_H */
