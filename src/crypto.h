/* crypto.h -- the cryptographic primitives behind kmsemu, on OpenSSL 3 EVP.
 *
 * Conventions:
 *  - Every function returning int returns 0 on success and -1 on failure,
 *    storing a short static reason in *err (never freed, never NULL on -1).
 *  - Algorithm names are the lowercase names of the Lua API ("sha256",
 *    "aes-256-gcm", "rsa-oaep-sha256", ...). An unknown or unavailable name is
 *    an ordinary failure, so callers can pass names taken from requests.
 *  - Outputs with a size bound known from the inputs go into caller buffers
 *    sized by the rule documented on each function. Outputs whose size
 *    depends on a key or on ASN.1 (PEM, DER, public-key ciphertexts) are
 *    allocated here and must be released with crypto_free().
 *  - All functions are safe to call concurrently from any thread. The
 *    algorithm implementations are fetched once; crypto_init() may be called
 *    explicitly to do that eagerly, otherwise the first call does it.
 */
#ifndef KMS_CRYPTO_H
#define KMS_CRYPTO_H

#include <stddef.h>

#define CRYPTO_MAX_MD 64     /* largest digest / HMAC output */
#define CRYPTO_TAG_LEN 16    /* GCM tag length produced and required */
#define CRYPTO_MAX_BLOCK 16  /* padding may grow cipher output by this much */
#define CRYPTO_HKDF_MAX (255 * CRYPTO_MAX_MD)  /* RFC 5869 limit, largest md */

typedef struct crypto_algorithm {
    const char *name;
    int available;
} crypto_algorithm;

int crypto_init(const char **err);
void crypto_free(void *p);

/* Probe results for the optional algorithms, valid for the process life. */
const crypto_algorithm *crypto_algorithms(size_t *count);

int crypto_random(unsigned char *out, size_t n, const char **err);

/* out: CRYPTO_MAX_MD bytes. */
int crypto_digest(const char *alg, const void *in, size_t inlen,
                  unsigned char *out, size_t *outlen, const char **err);
int crypto_hmac(const char *alg, const void *key, size_t keylen,
                const void *in, size_t inlen,
                unsigned char *out, size_t *outlen, const char **err);

/* out: outlen bytes; outlen <= 255 * digest size. */
int crypto_hkdf(const char *alg, const void *ikm, size_t ikmlen,
                const void *salt, size_t saltlen,
                const void *info, size_t infolen,
                unsigned char *out, size_t outlen, const char **err);

/* out: 2 * len bytes. No terminating NUL is written. */
void crypto_hex(const void *in, size_t len, char *out);
/* out: len / 2 bytes. Odd length or a non-hex digit fails. */
int crypto_unhex(const char *in, size_t len, unsigned char *out,
                 size_t *outlen, const char **err);

/* out: crypto_b64_len(len) bytes, standard alphabet, padded, no NUL. */
size_t crypto_b64_len(size_t len);
void crypto_b64(const void *in, size_t len, char *out);
/* out: len / 4 * 3 bytes. Strict: padded, no whitespace, no stray '='. */
int crypto_unb64(const char *in, size_t len, unsigned char *out,
                 size_t *outlen, const char **err);

/* GCM with a 12-byte IV. out: inlen bytes; tag: CRYPTO_TAG_LEN bytes. */
int crypto_aead_seal(const char *cipher, const void *key, size_t keylen,
                     const void *iv, size_t ivlen,
                     const void *in, size_t inlen,
                     const void *aad, size_t aadlen,
                     unsigned char *out, unsigned char *tag, const char **err);
int crypto_aead_open(const char *cipher, const void *key, size_t keylen,
                     const void *iv, size_t ivlen,
                     const void *in, size_t inlen,
                     const void *aad, size_t aadlen,
                     const void *tag, size_t taglen,
                     unsigned char *out, const char **err);

/* Non-AEAD ciphers, including aes-256/128-wrap-pad (RFC 5649, iv empty
 * for the default). out: inlen + CRYPTO_MAX_BLOCK bytes. */
int crypto_cipher(const char *cipher, const void *key, size_t keylen,
                  const void *iv, size_t ivlen,
                  const void *in, size_t inlen, int encrypt,
                  unsigned char *out, size_t *outlen, const char **err);

/* kind: rsa2048 rsa3072 rsa4096 ec-p256 ec-p384 ec-secp256k1 ec-p521 sm2.
 * Private key as unencrypted PKCS#8 PEM, public key as SPKI PEM. */
int crypto_pkey_generate(const char *kind,
                         char **priv, size_t *privlen,
                         char **pub, size_t *publen, const char **err);
/* DER SubjectPublicKeyInfo of a private or public PEM key. */
int crypto_pkey_public_der(const char *pem, size_t pemlen,
                           unsigned char **der, size_t *derlen,
                           const char **err);
/* padding: rsa-pkcs1 rsa-oaep-sha1 rsa-oaep-sha256 sm2 (DER C1C3C2).
 * Encryption accepts a public or private PEM, decryption a private one. */
int crypto_pkey_encrypt(const char *pem, size_t pemlen, const char *padding,
                        const void *in, size_t inlen,
                        unsigned char **out, size_t *outlen, const char **err);
int crypto_pkey_decrypt(const char *pem, size_t pemlen, const char *padding,
                        const void *in, size_t inlen,
                        unsigned char **out, size_t *outlen, const char **err);

/* The same (kind, seed) gives the same private key, as PKCS#8 PEM, on every
 * machine. kind: those of crypto_pkey_generate and ed25519. Every secret is
 * drawn from HKDF-SHA256(ikm = seed, no salt,
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
int crypto_pkey_derive(const char *kind, const void *seed, size_t seedlen,
                       char **priv, size_t *privlen, const char **err);

typedef struct crypto_key_info {
    char kind[16];  /* a crypto_pkey_derive kind; RSA: "rsa" and the bits */
    size_t bits;    /* RSA modulus, EC/SM2 order, 256 for ed25519 */
    int private;
} crypto_key_info;

/* Private or public PEM. Other key types and curves fail. */
int crypto_pkey_info(const char *pem, size_t pemlen, crypto_key_info *info,
                     const char **err);
/* SPKI PEM of a private or public PEM key. */
int crypto_pkey_public_pem(const char *pem, size_t pemlen,
                           char **out, size_t *outlen, const char **err);
/* PKCS#8 DER of a private PEM key. */
int crypto_pkey_private_der(const char *pem, size_t pemlen,
                            unsigned char **der, size_t *derlen,
                            const char **err);
/* PKCS#8 PrivateKeyInfo DER -> private PEM, SubjectPublicKeyInfo DER ->
 * public PEM. Nothing may follow the DER. */
int crypto_pkey_from_der(const void *der, size_t derlen,
                         char **pem, size_t *pemlen, const char **err);
/* ECDH: the raw shared secret (the x coordinate) between a private PEM
 * key and a peer public key given as SPKI DER or PEM, on the same curve.
 * Key types without EVP_PKEY_derive (RSA, SM2 on OpenSSL 3.0) fail.
 * *out: OPENSSL_free. */
int crypto_pkey_derive_shared(const char *pem, size_t pemlen,
                              const void *peer, size_t peerlen,
                              unsigned char **out, size_t *outlen,
                              const char **err);

/* alg: rsa-pss-sha256/384/512 (salt length = digest length, MGF1 with the
 * same hash), rsa-pkcs1-sha256/384/512, ecdsa-sha256/384/512 (any EC
 * curve), sm2-sm3 (ID "1234567812345678"), ed25519.
 * is_digest: in is the digest and must be as long as the hash output; for
 * sm2-sm3 it is e = SM3(Z_A || M) (crypto_sm2_za); ed25519 refuses it.
 * Otherwise in is the message. Signatures are DER for ECDSA and SM2, raw
 * otherwise. Signing needs a private PEM, verification takes either. */
int crypto_sign(const char *pem, size_t pemlen, const char *alg,
                const void *in, size_t inlen, int is_digest,
                unsigned char **sig, size_t *siglen, const char **err);
/* *valid: 1 if sig is a valid signature, 0 for any other sig. */
int crypto_verify(const char *pem, size_t pemlen, const char *alg,
                  const void *in, size_t inlen, int is_digest,
                  const void *sig, size_t siglen, int *valid,
                  const char **err);

/* e = SM3(Z_A || msg), Z_A with the default ID, of an SM2 public or private
 * PEM key (GB/T 32918.2). out: CRYPTO_SM3_LEN bytes. */
#define CRYPTO_SM3_LEN 32
int crypto_sm2_za(const char *pem, size_t pemlen, const void *msg,
                  size_t msglen, unsigned char *out, const char **err);

/* SM2 ciphertext between OpenSSL's ASN.1 form and the raw
 * 04 || X || Y || C3 || C2 form used by the GM/T specifications. */
int crypto_sm2_der_to_raw(const void *der, size_t derlen,
                          unsigned char **raw, size_t *rawlen,
                          const char **err);
int crypto_sm2_raw_to_der(const void *raw, size_t rawlen,
                          unsigned char **der, size_t *derlen,
                          const char **err);

/* Constant time in the contents when the lengths are equal. */
int crypto_equal(const void *a, size_t alen, const void *b, size_t blen);

#endif /* KMS_CRYPTO_H */
