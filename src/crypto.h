/* crypto.h -- kmsemu.core's cryptography (crypto.c), for lcore.c. */
#ifndef KMS_CRYPTO_H
#define KMS_CRYPTO_H

#include <stdatomic.h>
#include <stddef.h>

#include <lua.h>

/* Adds the cryptographic functions to the table at the top of L. */
int crypto_open(lua_State *L);

/* A box on the stack for one OPENSSL_malloc'd output, freed when it is
 * collected; made before the output, since making it may raise. */
void **crypto_box(lua_State *L);
/* Pushes the boxed output as a string and frees it now. */
int crypto_unbox(lua_State *L, void **box, size_t len);

/* Key generation, touching no Lua state. kind: rsa2048 rsa3072 rsa4096
 * ec-p256 ec-p384 ec-secp256k1 ec-p521 sm2, and ed25519 when derived.
 * Gives the private key as unencrypted PKCS#8 PEM and, when generated, the
 * SPKI PEM public key (OPENSSL_free both); 0, or -1 with a static reason.
 *
 * A derived key is the same for the same (kind, seed) on every machine.
 * Every secret is drawn from HKDF-SHA256(ikm = seed, no salt,
 * info = "kmsemu-derive/<kind>/<part>/<counter>"), counter from 0 (decimal):
 *  - EC (part "d"): d = OS2IP(order bytes + 8) mod (order - 1) + 1; for SM2
 *    mod (order - 2) + 1, since GB/T 32918 keeps d below order - 1.
 *  - ed25519 (part "d"): the 32-byte raw private key.
 *  - RSA, e = 65537 (parts "p", "q"): half the modulus size in bytes, top
 *    two bits and low bit set, then the first number up from there, by 2,
 *    that is prime (BN_check_prime) with gcd(e, x - 1) = 1; the next counter
 *    when that carries past the top bit, and for q also when
 *    |p - q| < 2^(bits/2 - 100). d = e^-1 mod lcm(p - 1, q - 1).
 * Changing any of this changes every derived key. */
int crypto_keygen(const char *kind, const void *seed, size_t seedlen,
                  int derived, const atomic_int *waiting, char **priv,
                  size_t *privlen, char **pub, size_t *publen,
                  const char **err);

/* An RSA key takes seconds of CPU. Given `waiting` (requests queued for
 * the Lua state), crypto_keygen() gives way while it is not zero: after
 * each slice of its own CPU time it sleeps three times as long, so that a
 * loaded server keeps three quarters of a core for requests, and a key
 * takes at most four times as long. Nanoseconds paced so far, all keys: */
long long crypto_paced_ns(void);

#endif /* KMS_CRYPTO_H */
