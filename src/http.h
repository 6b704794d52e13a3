/* http.h -- the civetweb listener: one catch-all handler that reads a
 * request, hands it to the VM and writes the answer in a single write. */
#ifndef KMS_HTTP_H
#define KMS_HTTP_H

#include <stddef.h>

struct vm;
struct http_server;

struct http_config {
    const char *listen; /* "HOST:PORT"; port 0 picks a free one */
    int threads;
    size_t max_body;
    long request_timeout_ms;
};

/* Starts listening. On failure returns NULL with a reason in err. */
struct http_server *http_start(const struct http_config *cfg, struct vm *vm,
                               char *err, size_t errlen);

/* The "host:port" the server actually listens on (port 0 resolved). */
const char *http_address(const struct http_server *srv);

void http_stop(struct http_server *srv);

#endif /* KMS_HTTP_H */
