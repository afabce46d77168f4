/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SHA-256 (FIPS 180-4): trace identity in results and hashed file paths. */
#ifndef MMR_SHA256_H
#define MMR_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct mmr_sha256 {
	uint32_t h[8];
	uint64_t len;
	unsigned char buf[64];
	size_t fill;
};

void mmr_sha256_init(struct mmr_sha256 *s);
void mmr_sha256_update(struct mmr_sha256 *s, const void *data, size_t len);
void mmr_sha256_final(struct mmr_sha256 *s, unsigned char out[32]);
/* Hex digest of a buffer; out holds 65 bytes. */
void mmr_sha256_hex(const void *data, size_t len, char out[65]);
/* Hex digest of a whole file (as stored, compressed or not); -1 on error. */
int mmr_sha256_file(const char *path, char out[65]);

#endif
