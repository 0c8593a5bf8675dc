/* SHA-256 (FIPS 180-4), small and self-contained: the staging check hashes
 * every installed file against its RECORD line, and pipjail should not pull
 * in a crypto library for that. */
#ifndef PIPJAIL_SHA256_H
#define PIPJAIL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32

struct sha256 {
	uint32_t h[8];
	uint64_t len;        /* bytes hashed so far */
	uint8_t buf[64];
	size_t fill;
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t n);
void sha256_final(struct sha256 *c, uint8_t out[SHA256_DIGEST_LEN]);
/* One-shot helper. */
void sha256(const void *data, size_t n, uint8_t out[SHA256_DIGEST_LEN]);
/* Hash a whole file read from fd (from its current offset); sets *size. 0 or -1 (errno). */
int sha256_fd(int fd, uint8_t out[SHA256_DIGEST_LEN], uint64_t *size);

#endif
