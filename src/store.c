/* store.c -- the data directory's log: append with fsync, read back,
 * rewrite atomically, and one process at a time (see store.h). */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#define STORE_MAGIC "KMSLOG1\n"
#define STORE_MAGIC_LEN 8
#define STORE_HEAD 10                 /* "KR", length, crc32 */
#define STORE_MAX_RECORD (64u << 20)  /* larger lengths are damage */

struct store {
    int dir_fd;
    int lock_fd;
    int log_fd;
    off_t end; /* where the next record goes */
    char dir[PATH_MAX];
    char path[PATH_MAX + 8];
};

static int store_start(struct store *st, const unsigned char *buf, size_t size,
                       char *warn, size_t warnlen, char *err, size_t errlen);

/* zlib's CRC-32 (IEEE 802.3); a record is at most STORE_MAX_RECORD bytes,
 * within crc32()'s uInt length. */
static uint32_t
store_crc(const unsigned char *p, size_t n)
{
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n);
}

static void
store_put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t
store_get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static int
store_write_all(int fd, const unsigned char *p, size_t n, off_t at)
{
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, at);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
        at += w;
    }
    return 0;
}

/* The lock file names its holder, so that the refusal can say who. */
static int
store_lock(struct store *st, char *err, size_t errlen)
{
    char path[PATH_MAX + 8], pid[32] = "";
    ssize_t n;

    snprintf(path, sizeof(path), "%s/LOCK", st->dir);
    st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (st->lock_fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(st->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        n = pread(st->lock_fd, pid, sizeof(pid) - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        snprintf(err, errlen,
                 "data directory %s is in use by another kmsemu (pid %s); "
                 "one data directory serves one process",
                 st->dir, pid[0] ? pid : "unknown");
        return -1;
    }
    n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(st->lock_fd, 0) != 0 ||
        store_write_all(st->lock_fd, (unsigned char *)pid, (size_t)n, 0) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

struct store *
store_open(const char *dir, char *err, size_t errlen)
{
    struct store *st = calloc(1, sizeof(*st));
    struct stat sb;

    if (st == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    st->dir_fd = st->lock_fd = st->log_fd = -1;
    if (strlen(dir) >= sizeof(st->dir)) {
        snprintf(err, errlen, "data directory path too long");
        goto fail;
    }
    snprintf(st->dir, sizeof(st->dir), "%s", dir);
    snprintf(st->path, sizeof(st->path), "%s/log", dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create data directory %s: %s", dir,
                 strerror(errno));
        goto fail;
    }
    st->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (st->dir_fd < 0) {
        snprintf(err, errlen, "data directory %s: %s", dir, strerror(errno));
        goto fail;
    }
    if (store_lock(st, err, errlen) != 0)
        goto fail;
    /* The log holds key material: readable by its owner only. */
    st->log_fd = open(st->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (st->log_fd < 0 || fchmod(st->log_fd, 0600) != 0 ||
        fstat(st->log_fd, &sb) != 0) {
        snprintf(err, errlen, "%s: %s", st->path, strerror(errno));
        goto fail;
    }
    st->end = sb.st_size;
    /* A new log gets its magic now, so that an append needs no read first. */
    if (st->end == 0 && store_start(st, NULL, 0, NULL, 0, err, errlen) != 0)
        goto fail;
    return st;
fail:
    store_close(st);
    return NULL;
}

const char *
store_path(const struct store *st)
{
    return st->path;
}

/* NULL when a whole record with a matching checksum starts at off, its
 * length in *lenp; else why not, in words. */
static const char *
store_check(const unsigned char *buf, size_t size, size_t off, uint32_t *lenp)
{
    if (size - off < STORE_HEAD)
        return "incomplete record header";
    if (buf[off] != 'K' || buf[off + 1] != 'R')
        return "no record marker";
    *lenp = store_get32(buf + off + 2);
    if (*lenp > STORE_MAX_RECORD)
        return "impossible record length";
    if (*lenp > size - off - STORE_HEAD)
        return "record longer than the rest of the file";
    if (store_crc(buf + off + STORE_HEAD, *lenp) != store_get32(buf + off + 6))
        return "checksum mismatch";
    return NULL;
}

/* A damaged record is a torn tail only if no whole record follows it:
 * an append that a crash cut short is always the last thing in the file,
 * while damage with good records after it means data would be lost. */
static int
store_anything_after(const unsigned char *buf, size_t size, size_t off)
{
    uint32_t len;
    size_t p;

    for (p = off + 1; p + STORE_HEAD <= size; p++)
        if (store_check(buf, size, p, &len) == NULL)
            return 1;
    return 0;
}

static int
store_slurp(struct store *st, unsigned char **bufp, size_t *sizep,
            char *err, size_t errlen)
{
    size_t size = (size_t)st->end, got = 0;
    unsigned char *buf = calloc(1, size ? size : 1);

    *bufp = NULL;
    *sizep = 0;

    if (buf == NULL) {
        snprintf(err, errlen, "%s: out of memory", st->path);
        return -1;
    }
    while (got < size) {
        ssize_t r = pread(st->log_fd, buf + got, size - got, (off_t)got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            snprintf(err, errlen, "%s: read: %s", st->path,
                     r < 0 ? strerror(errno) : "unexpected end of file");
            free(buf);
            return -1;
        }
        got += (size_t)r;
    }
    *bufp = buf;
    *sizep = size;
    return 0;
}

static int
store_cut(struct store *st, off_t at, char *err, size_t errlen)
{
    if (ftruncate(st->log_fd, at) != 0 || fsync(st->log_fd) != 0) {
        snprintf(err, errlen, "%s: cannot truncate: %s", st->path,
                 strerror(errno));
        return -1;
    }
    st->end = at;
    return 0;
}

/* A new or empty log gets its magic; so does one whose creation a crash
 * cut short (a strict prefix of the magic). */
static int
store_start(struct store *st, const unsigned char *buf, size_t size,
            char *warn, size_t warnlen, char *err, size_t errlen)
{
    size_t n = size < STORE_MAGIC_LEN ? size : STORE_MAGIC_LEN;

    if (n > 0 && memcmp(buf, STORE_MAGIC, n) != 0) {
        snprintf(err, errlen, "%s: offset 0: not a kmsemu log (bad magic)",
                 st->path);
        return -1;
    }
    if (size >= STORE_MAGIC_LEN)
        return 0;
    if (size > 0)
        snprintf(warn, warnlen, "%s: incomplete file header rewritten", st->path);
    if (store_write_all(st->log_fd, (const unsigned char *)STORE_MAGIC,
                        STORE_MAGIC_LEN, 0) != 0 ||
        fsync(st->log_fd) != 0 || fsync(st->dir_fd) != 0) {
        snprintf(err, errlen, "%s: %s", st->path, strerror(errno));
        return -1;
    }
    st->end = STORE_MAGIC_LEN;
    return 0;
}

int
store_read(struct store *st, store_record_fn fn, void *arg,
           char *warn, size_t warnlen, char *err, size_t errlen)
{
    unsigned char *buf = NULL;
    size_t size, off = STORE_MAGIC_LEN;
    const char *why;
    uint32_t len;
    int rc = -1, stop;

    warn[0] = '\0';
    if (store_slurp(st, &buf, &size, err, errlen) != 0)
        return -1;
    if (store_start(st, buf, size, warn, warnlen, err, errlen) != 0)
        goto done;
    while (off < size) {
        if ((why = store_check(buf, size, off, &len)) != NULL) {
            if (store_anything_after(buf, size, off)) {
                snprintf(err, errlen,
                         "%s: offset %zu: %s, with whole records after it; "
                         "the log is damaged and kmsemu will not start rather "
                         "than drop data (move the file aside or repair it)",
                         st->path, off, why);
                goto done;
            }
            snprintf(warn, warnlen,
                     "%s: offset %zu: torn last record (%s), %zu bytes "
                     "skipped and truncated", st->path, off, why, size - off);
            if (store_cut(st, (off_t)off, err, errlen) != 0)
                goto done;
            break;
        }
        if ((stop = fn(arg, (const char *)buf + off + STORE_HEAD, len,
                       (long)off)) != 0) {
            rc = stop;
            goto done;
        }
        off += STORE_HEAD + len;
    }
    rc = 0;
done:
    free(buf);
    return rc;
}

/* The records as they go on disk, after an optional magic. */
static unsigned char *
store_frame(const char *const *data, const size_t *len, size_t n, int magic,
            size_t *total)
{
    size_t size = magic ? STORE_MAGIC_LEN : 0, i, at;
    unsigned char *buf;

    for (i = 0; i < n; i++) {
        if (len[i] > STORE_MAX_RECORD)
            return NULL;
        size += STORE_HEAD + len[i];
    }
    if ((buf = malloc(size ? size : 1)) == NULL)
        return NULL;
    at = 0;
    if (magic) {
        memcpy(buf, STORE_MAGIC, STORE_MAGIC_LEN);
        at = STORE_MAGIC_LEN;
    }
    for (i = 0; i < n; i++) {
        buf[at] = 'K';
        buf[at + 1] = 'R';
        store_put32(buf + at + 2, (uint32_t)len[i]);
        store_put32(buf + at + 6, store_crc((const unsigned char *)data[i], len[i]));
        memcpy(buf + at + STORE_HEAD, data[i], len[i]);
        at += STORE_HEAD + len[i];
    }
    *total = size;
    return buf;
}

int
store_append(struct store *st, const char *const *data, const size_t *len,
             size_t n, char *err, size_t errlen)
{
    size_t total;
    unsigned char *buf = store_frame(data, len, n, 0, &total);
    int rc = -1;

    if (buf == NULL) {
        snprintf(err, errlen, "%s: record too large or out of memory", st->path);
        return -1;
    }
    if (store_write_all(st->log_fd, buf, total, st->end) != 0 ||
        fdatasync(st->log_fd) != 0) {
        snprintf(err, errlen, "%s: write: %s", st->path, strerror(errno));
        /* Best effort: a partial record left here would turn into damage
         * in the middle of the log once the next append succeeds. */
        if (ftruncate(st->log_fd, st->end) != 0)
            fprintf(stderr, "kmsemu: %s: cannot truncate after a failed "
                    "write: %s\n", st->path, strerror(errno));
        goto done;
    }
    st->end += (off_t)total;
    rc = 0;
done:
    free(buf);
    return rc;
}

int
store_rewrite(struct store *st, const char *const *data, const size_t *len,
              size_t n, char *err, size_t errlen)
{
    char tmp[PATH_MAX + 16];
    size_t total;
    unsigned char *buf = store_frame(data, len, n, 1, &total);
    int fd = -1, rc = -1;

    if (buf == NULL) {
        snprintf(err, errlen, "%s: record too large or out of memory", st->path);
        return -1;
    }
    snprintf(tmp, sizeof(tmp), "%s.tmp", st->path);
    fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || store_write_all(fd, buf, total, 0) != 0 || fsync(fd) != 0 ||
        rename(tmp, st->path) != 0) {
        snprintf(err, errlen, "%s: rewrite: %s", st->path, strerror(errno));
        if (fd >= 0)
            unlink(tmp);
        goto done;
    }
    /* Renamed: the new file is the log from here on, whatever follows. */
    close(st->log_fd);
    st->log_fd = fd;
    fd = -1;
    st->end = (off_t)total;
    if (fsync(st->dir_fd) != 0) {
        snprintf(err, errlen, "%s: rewrite: fsync of the directory: %s",
                 st->path, strerror(errno));
        goto done;
    }
    rc = 0;
done:
    if (fd >= 0)
        close(fd);
    free(buf);
    return rc;
}

void
store_close(struct store *st)
{
    if (st == NULL)
        return;
    if (st->log_fd >= 0)
        close(st->log_fd);
    if (st->lock_fd >= 0)
        close(st->lock_fd); /* releases the flock */
    if (st->dir_fd >= 0)
        close(st->dir_fd);
    free(st);
}
