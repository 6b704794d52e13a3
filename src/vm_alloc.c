/* vm_alloc.c -- the Lua state's allocator: free lists of small blocks in
 * 16-byte size classes, carved from 64 KiB slabs, with a ceiling on the
 * whole. Lua runs only under the VM lock, so the lists need no lock of
 * their own, and Lua's short-lived blocks stay off the malloc arena that
 * every HTTP worker locks (docs/performance.md has the figures). Under
 * AddressSanitizer every block is its own malloc, so that it sees each.
 *
 * The ceiling: a failed allocation makes Lua collect, retry and raise a
 * memory error that the request's pcall turns into a 500, where malloc
 * would let the process grow until the kernel kills it. */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "vm_impl.h"

#define VM_GRAIN 16
#define VM_SLAB (64 * 1024)

#if defined(__SANITIZE_ADDRESS__)
#define VM_PLAIN_ALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VM_PLAIN_ALLOC 1
#endif
#endif

struct vm_block {
    struct vm_block *next;
};

static size_t
vm_class(size_t size)
{
    size_t cls = (size + VM_GRAIN - 1) / VM_GRAIN;

#ifdef VM_PLAIN_ALLOC
    cls = VM_CLASSES + 1;
#endif
    return cls;
}

static void *
vm_small(struct vm_heap *h, size_t cls)
{
    struct vm_block *b = h->free[cls];
    size_t size = cls * VM_GRAIN;

    if (b != NULL) {
        h->free[cls] = b->next;
        return b;
    }
    if (h->slab_next == NULL || (size_t)(h->slab_end - h->slab_next) < size) {
        struct vm_block *slab = malloc(VM_SLAB);

        if (slab == NULL)
            return NULL;
        /* The slab's first grain links it for vm_heap_free; the tail of
         * the previous slab is lost, at most 511 bytes. */
        slab->next = h->slabs;
        h->slabs = slab;
        h->slab_bytes += VM_SLAB;
        h->slab_next = (char *)slab + VM_GRAIN;
        h->slab_end = (char *)slab + VM_SLAB;
    }
    b = (struct vm_block *)h->slab_next;
    h->slab_next += size;
    return b;
}

static void
vm_release(struct vm_heap *h, void *p, size_t size)
{
    size_t cls = vm_class(size);

    if (cls > VM_CLASSES) {
        free(p);
        return;
    }
    ((struct vm_block *)p)->next = h->free[cls];
    h->free[cls] = p;
}

/* lua_Alloc: osize is the block's size whenever p is not NULL. */
void *
vm_alloc(void *ud, void *p, size_t osize, size_t nsize)
{
    struct vm_heap *h = ud;
    size_t ocls, ncls;
    void *q;

    if (p == NULL)
        osize = 0;
    if (nsize == 0) {
        if (p != NULL)
            vm_release(h, p, osize);
        h->used -= osize;
        return NULL;
    }
    if (nsize > osize && h->used + (nsize - osize) > h->max)
        return NULL;
    ocls = vm_class(osize);
    ncls = vm_class(nsize);
    if (p != NULL && ocls > VM_CLASSES && ncls > VM_CLASSES)
        q = realloc(p, nsize);
    else if (p != NULL && ocls == ncls)
        q = p;
    else if ((q = ncls > VM_CLASSES ? malloc(nsize) : vm_small(h, ncls)) != NULL &&
             p != NULL) {
        memcpy(q, p, osize < nsize ? osize : nsize);
        vm_release(h, p, osize);
    }
    if (q != NULL) /* Lua keeps p when a reallocation fails */
        h->used = h->used + nsize - osize;
    return q;
}

void
vm_heap_free(struct vm_heap *h)
{
    while (h->slabs != NULL) {
        struct vm_block *next = h->slabs->next;

        free(h->slabs);
        h->slabs = next;
    }
}

/* require("kmsemu.host").memory(): what the Lua heap holds and what its
 * slabs reserve, in bytes; under a sanitizer there are no slabs. */
static int
vm_host_memory(lua_State *L)
{
    struct vm *vm = *(struct vm **)lua_getextraspace(L);

    lua_pushinteger(L, (lua_Integer)vm->heap.used);
    lua_pushinteger(L, (lua_Integer)(vm->heap.slabs != NULL ? vm->heap.slab_bytes
                                                            : vm->heap.used));
    return 2;
}

int
vm_open_host(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"memory", vm_host_memory},
        {NULL, NULL},
    };

    luaL_newlib(L, fns);
    return 1;
}
