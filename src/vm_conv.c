/* vm_conv.c -- the C<->Lua boundary of a request: the request as the
 * table kmsemu.handle takes, and the table it returns as a struct
 * kms_response that outlives the Lua lock. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "vm_impl.h"

/* Header names reach Lua in lower case, so dialect code looks them up
 * without regard to case (Go's net/http sends "X-Tc-Action"). A repeated
 * header is joined with ", " as RFC 9110 allows. */
static void
vm_push_headers(lua_State *L, const struct kms_request *req)
{
    char name[128];
    int i;

    lua_createtable(L, 0, req->num_headers);
    for (i = 0; i < req->num_headers; i++) {
        size_t n = strlen(req->headers[i].name), j;

        if (n >= sizeof(name))
            n = sizeof(name) - 1;
        for (j = 0; j < n; j++)
            name[j] = (char)tolower((unsigned char)req->headers[i].name[j]);
        lua_pushlstring(L, name, n);
        lua_pushvalue(L, -1);
        if (lua_rawget(L, -3) == LUA_TSTRING) {
            lua_pushliteral(L, ", ");
            lua_pushstring(L, req->headers[i].value);
            lua_concat(L, 3);
        } else {
            lua_pop(L, 1);
            lua_pushstring(L, req->headers[i].value);
        }
        lua_rawset(L, -3);
    }
}

static void
vm_set_string(lua_State *L, const char *key, const char *value)
{
    lua_pushstring(L, value);
    lua_setfield(L, -2, key);
}

void
vm_push_request(lua_State *L, const struct kms_request *req)
{
    lua_createtable(L, 0, 8);
    vm_set_string(L, "method", req->method);
    vm_set_string(L, "path", req->path);
    vm_set_string(L, "query", req->query);
    vm_set_string(L, "remote_addr", req->remote_addr);
    vm_set_string(L, "scheme", req->tls ? "https" : "http");
    lua_pushlstring(L, req->body, req->body_len);
    lua_setfield(L, -2, "body");
    if (req->oversize > 0) {
        lua_pushinteger(L, (lua_Integer)req->oversize);
        lua_setfield(L, -2, "oversize");
    }
    vm_push_headers(L, req);
    lua_setfield(L, -2, "headers");
}

static long
vm_field_integer(lua_State *L, int t, const char *name, long dflt)
{
    long v;

    lua_getfield(L, t, name);
    v = lua_isinteger(L, -1) ? (long)lua_tointeger(L, -1) : dflt;
    lua_pop(L, 1);
    return v < 0 ? dflt : v;
}

/* The connection effects a response table may ask for, the vocabulary of
 * fault injection: `body_limit` sends only that many bytes of the body,
 * `drip = {bytes =, every_ms =}` sends the response in slow pieces, and
 * `after` ("close", "reset", "hang" with `hang_ms`) decides the
 * connection's fate once the bytes are out. */
static void
vm_take_effects(lua_State *L, int t, struct kms_response *res)
{
    static const char *const afters[] = {"close", "reset", "hang"};
    const char *after;
    int i;

    lua_getfield(L, t, "delay_ms");
    res->delay_ms = (long)lua_tointeger(L, -1);
    res->body_limit = vm_field_integer(L, t, "body_limit", -1);
    if (lua_getfield(L, t, "drip") == LUA_TTABLE) {
        res->drip_bytes = (size_t)vm_field_integer(L, -1, "bytes", 1);
        res->drip_ms = vm_field_integer(L, -1, "every_ms", 0);
        if (res->drip_bytes == 0)
            res->drip_bytes = 1;
    }
    lua_getfield(L, t, "after");
    after = lua_tostring(L, -1);
    res->after = KMS_AFTER_KEEP;
    for (i = 0; after != NULL && i < 3; i++)
        if (strcmp(after, afters[i]) == 0)
            res->after = (enum kms_after)(KMS_AFTER_CLOSE + i);
    res->hang_ms = vm_field_integer(L, t, "hang_ms", 0);
    lua_pop(L, 3);
}

static char *
vm_copy(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    p[n] = '\0';
    return p + n + 1;
}

/* The string-named headers of the table at the top: how many, adding the
 * bytes their names and values take with a NUL each to *bytes; given h,
 * copies them into h and their strings to *p. */
static int
vm_headers(lua_State *L, size_t *bytes, struct kms_header *h, char **p)
{
    size_t a, b;
    int n = 0;

    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_isstring(L, -1)) {
            const char *name = lua_tolstring(L, -2, &a);
            const char *value = lua_tolstring(L, -1, &b);

            if (h != NULL) {
                h[n].name = *p;
                *p = vm_copy(*p, name, a);
                h[n].value = *p;
                *p = vm_copy(*p, value, b);
            }
            *bytes += a + b + 2;
            n++;
        }
        lua_pop(L, 1);
    }
    return n;
}

int
vm_take_response(lua_State *L, struct kms_response *res)
{
    int t = lua_gettop(L);
    size_t need = 0, body_len;
    const char *body;
    char *p;

    if (!lua_istable(L, t))
        return -1;
    lua_getfield(L, t, "status");
    res->status = (int)lua_tointeger(L, -1);
    lua_getfield(L, t, "body");
    body = lua_tolstring(L, -1, &body_len);
    lua_getfield(L, t, "raw");
    res->raw = lua_toboolean(L, -1);
    if (res->status < 100 || res->status > 999 || body == NULL)
        goto fail;
    if (lua_getfield(L, t, "headers") == LUA_TTABLE && !res->raw)
        res->num_headers = vm_headers(L, &need, NULL, NULL);
    need += (size_t)res->num_headers * sizeof(struct kms_header) + body_len + 1;
    if ((res->mem = malloc(need)) == NULL)
        goto fail;
    res->headers = res->mem;
    p = (char *)res->mem + (size_t)res->num_headers * sizeof(struct kms_header);
    if (res->num_headers > 0)
        vm_headers(L, &need, res->mem, &p);
    res->body = p;
    res->body_len = body_len;
    vm_copy(p, body, body_len);
    vm_take_effects(L, t, res);
    lua_settop(L, t);
    return 0;
fail:
    lua_settop(L, t);
    return -1;
}
