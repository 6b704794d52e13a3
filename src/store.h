/* store.h -- an append-only log of opaque records in a data directory.
 *
 * The core knows nothing of what a record says: the Lua side decides what
 * to write and how to read it back. This file gives it durability (each
 * append is fsync'd before it returns), integrity (each record carries its
 * length and a CRC-32 of its bytes) and exclusion (an flock on DIR/LOCK,
 * held as long as the store is open, keeps a second process out).
 *
 * File layout of DIR/log: the 8-byte magic "KMSLOG1\n", then records, each
 *   "KR" | length (u32, little-endian) | crc32 (u32, little-endian) | bytes
 */
#ifndef KMS_STORE_H
#define KMS_STORE_H

#include <stddef.h>

struct store;

/* Creates DIR when missing (mode 0700), takes the lock and opens the log
 * (mode 0600). NULL with a one-line reason in err when another process
 * holds the lock or a file cannot be opened. */
struct store *store_open(const char *dir, char *err, size_t errlen);

/* Called once per record read back, in order; offset is where the record
 * starts in the file. A non-zero return stops the reading with that value. */
typedef int (*store_record_fn)(void *arg, const char *data, size_t len,
                               long offset);

/* Reads every record from the start. A torn last record (a crash in the
 * middle of an append) is cut off the file and described in warn (empty
 * when there was none). Returns 0; -1 with err ("file: offset N: why")
 * for damage anywhere else, which is never cut off; or what fn returned. */
int store_read(struct store *st, store_record_fn fn, void *arg,
               char *warn, size_t warnlen, char *err, size_t errlen);

/* Appends n records in one write and fsyncs. On failure the file is cut
 * back to where it was, so that no partial record stays in front of the
 * next append; returns -1 with err. */
int store_append(struct store *st, const char *const *data,
                 const size_t *len, size_t n, char *err, size_t errlen);

/* Replaces the log with exactly these records: a new file is written and
 * fsync'd beside it, renamed over it, and the directory fsync'd. */
int store_rewrite(struct store *st, const char *const *data,
                  const size_t *len, size_t n, char *err, size_t errlen);

/* The path of the log, for messages. */
const char *store_path(const struct store *st);

/* Closes the log and releases the lock. */
void store_close(struct store *st);

#endif /* KMS_STORE_H */
