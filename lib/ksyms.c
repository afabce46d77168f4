// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * /proc/kallsyms symbolisation. Text symbols only (t, T, w, W), sorted by
 * address; a lookup is a binary search for the last symbol at or below the
 * address. Names live in one string pool; about 200k symbols take ~6 MiB.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmr-error.h"
#include "mmr-ksyms.h"

struct ksym {
	uint64_t addr;
	uint32_t name;		/* offset into pool */
};

struct mmr_ksyms {
	struct ksym *syms;
	unsigned n;
	char *pool;
	size_t pool_len;
};

static int cmp_ksym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

struct mmr_ksyms *mmr_ksyms_load(const char *path)
{
	struct mmr_ksyms *k = NULL;
	size_t cap = 0, pcap = 0;
	char line[512];
	bool nonzero = false;
	FILE *f;

	if (!path)
		path = "/proc/kallsyms";
	f = fopen(path, "re");
	if (!f) {
		mmr_seterr_errno(MMR_E_IO, "%s", path);
		return NULL;
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		goto nomem;
	while (fgets(line, sizeof(line), f)) {
		char *end = line, *name, type;
		uint64_t addr = 0;
		size_t nl;

		/* "ffffffff81000000 T _stext [module]": hex by hand, it is 120k lines */
		for (;; end++) {
			unsigned v;

			if (*end >= '0' && *end <= '9')
				v = (unsigned)(*end - '0');
			else if (*end >= 'a' && *end <= 'f')
				v = (unsigned)(*end - 'a' + 10);
			else
				break;
			addr = addr << 4 | v;
		}
		if (end == line || *end != ' ')
			continue;
		type = end[1];
		if (!type || end[2] != ' ')
			continue;
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		name = end + 3;
		for (nl = 0; name[nl] && name[nl] != ' ' && name[nl] != '\t' && name[nl] != '\n'; nl++)
			;
		name[nl] = '\0';
		if (addr)
			nonzero = true;
		if (k->n == cap) {
			size_t nc = cap ? cap * 2 : 65536;
			struct ksym *ns = realloc(k->syms, nc * sizeof(*ns));

			if (!ns)
				goto nomem;
			k->syms = ns;
			cap = nc;
		}
		if (k->pool_len + nl + 1 > pcap) {
			size_t nc = pcap ? pcap * 2 : (1u << 20);
			char *np;

			while (nc < k->pool_len + nl + 1)
				nc *= 2;
			np = realloc(k->pool, nc);
			if (!np)
				goto nomem;
			k->pool = np;
			pcap = nc;
		}
		if (k->pool_len > UINT32_MAX - nl - 1)
			break;
		memcpy(k->pool + k->pool_len, name, nl + 1);
		k->syms[k->n].addr = addr;
		k->syms[k->n].name = (uint32_t)k->pool_len;
		k->pool_len += nl + 1;
		k->n++;
	}
	fclose(f);
	f = NULL;
	if (!k->n || !nonzero) {
		mmr_seterr(MMR_E_NOTSUP,
			   "%s shows no addresses (kptr_restrict): run as root to symbolise kernel stacks",
			   path);
		mmr_ksyms_free(k);
		return NULL;
	}
	qsort(k->syms, k->n, sizeof(*k->syms), cmp_ksym);
	return k;
nomem:
	if (f)
		fclose(f);
	mmr_ksyms_free(k);
	mmr_seterr(MMR_E_NOMEM, "out of memory loading %s", path);
	return NULL;
}

void mmr_ksyms_free(struct mmr_ksyms *k)
{
	if (!k)
		return;
	free(k->syms);
	free(k->pool);
	free(k);
}

unsigned mmr_ksyms_count(const struct mmr_ksyms *k)
{
	return k ? k->n : 0;
}

const char *mmr_ksyms_lookup(const struct mmr_ksyms *k, uint64_t addr, uint64_t *off)
{
	unsigned lo = 0, hi;

	if (!k || !k->n || addr < k->syms[0].addr)
		return NULL;
	hi = k->n;
	/* last index with syms[i].addr <= addr */
	while (hi - lo > 1) {
		unsigned mid = lo + (hi - lo) / 2;

		if (k->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	/* Past the last symbol by more than a plausible function size. */
	if (lo == k->n - 1 && addr - k->syms[lo].addr > (1u << 20))
		return NULL;
	if (off)
		*off = addr - k->syms[lo].addr;
	return k->pool + k->syms[lo].name;
}

char *mmr_ksyms_name(const struct mmr_ksyms *k, uint64_t addr, char *buf, unsigned len)
{
	const char *n = mmr_ksyms_lookup(k, addr, NULL);

	if (n)
		snprintf(buf, len, "%s", n);
	else
		snprintf(buf, len, "0x%" PRIx64, addr);
	return buf;
}
