// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The program of the record/replay round trip (test-roundtrip.sh): maps an
 * anonymous region, writes every page, then changes the protection of
 * small pieces of it many times, so that mprotect's mmap_lock write hold
 * has enough samples for a median.
 *
 * Each round takes the next three PIECE-page pieces of the region
 * (walking through it and wrapping), makes the first and the third
 * read-only, then the span of all three read-write again: two calls that
 * split a VMA in three and one that merges five back into one, all with
 * populated page tables under the pieces. Two of three calls being the
 * same kind puts the median write hold inside one population (a split)
 * instead of on the edge between splits and merges, where it would jump
 * between them from run to run. Rounds are spaced by PAUSE microseconds
 * so that the recording keeps up without loss. Single-threaded, no
 * children.
 *
 * workload-mprotect [-n ROUNDS] [-p PAGES] [-k PIECE] [-u PAUSE_US]
 * Prints "rounds N mprotects 3N pages P piece K".
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long rounds = 1000, pages = 512, piece = 2, pause_us = 20, page = sysconf(_SC_PAGESIZE);
	char *p;
	int c;

	while ((c = getopt(argc, argv, "n:p:k:u:")) != -1) {
		switch (c) {
		case 'n': rounds = atol(optarg); break;
		case 'p': pages = atol(optarg); break;
		case 'k': piece = atol(optarg); break;
		case 'u': pause_us = atol(optarg); break;
		default:
			fprintf(stderr, "usage: workload-mprotect [-n ROUNDS] [-p PAGES] [-k PIECE] [-u PAUSE_US]\n");
			return 2;
		}
	}
	if (rounds < 1 || piece < 1 || pages < 5 * piece || pause_us < 0) {
		fprintf(stderr, "workload-mprotect: need ROUNDS >= 1, PIECE >= 1, PAGES >= 5 * PIECE\n");
		return 2;
	}
	p = mmap(NULL, (size_t)pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	/* 4 KiB pages: a THP would make the first split a huge-page split */
	madvise(p, (size_t)pages * page, MADV_NOHUGEPAGE);
	for (long i = 0; i < pages; i++)
		p[i * page] = (char)i;
	for (long r = 0; r < rounds; r++) {
		/* pieces strictly inside the region: always three-way splits */
		long first = 1 + (r * piece) % (pages - 4 * piece);
		char *q = p + first * page;
		size_t len = (size_t)piece * page;
		struct timespec ts = { 0, pause_us * 1000 };

		if (mprotect(q, len, PROT_READ) < 0 || mprotect(q + 2 * len, len, PROT_READ) < 0 ||
		    mprotect(q, 3 * len, PROT_READ | PROT_WRITE) < 0) {
			perror("mprotect");
			return 1;
		}
		if (pause_us)
			nanosleep(&ts, NULL);
	}
	munmap(p, (size_t)pages * page);
	printf("rounds %ld mprotects %ld pages %ld piece %ld\n", rounds, 3 * rounds, pages, piece);
	return 0;
}
