// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A workload whose memory activity is known exactly, for test-record.
 *
 * Regions have distinctive lengths (in pages) so the test can pick their
 * syscalls out of everything the C library does:
 *
 *   A  37 pages  main thread, written forward, every page
 *   B  53 pages  main thread, written backward, every page
 *   C  61 pages  main thread, every 3rd page forward (21 pages)
 *   E  31 pages  each of WL_THREADS threads, every 2nd page (16 pages)
 *   D  29 pages  each of WL_CHILDREN forked children, every page
 *
 * Each region: mmap, madvise(MADV_NOHUGEPAGE) (so no THP/mTHP folio maps
 * several pages with one fault), the writes, munmap. The main thread also
 * mprotects the first 2 pages of A WL_MPROTECTS times (read-only, then
 * back to read-write). Children _exit(0), threads return.
 *
 * On stdout, first "W threads children mprotects A B C D E" (the
 * parameters), then one line per region: "<name> <pid> <tid> <start-hex>".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "workload-known.h"

static long page;

static void report(const char *name, void *addr)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "%s %d %ld %lx\n", name, (int)getpid(),
			 (long)syscall(SYS_gettid), (unsigned long)addr);

	/* one write per line: children and threads share the pipe */
	if (write(STDOUT_FILENO, line, (size_t)n) != n)
		_exit(3);
}

static char *region(unsigned pages)
{
	char *p = mmap(NULL, pages * page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	madvise(p, pages * page, MADV_NOHUGEPAGE);
	return p;
}

static void touch(char *p, unsigned pages, int step)
{
	if (step > 0)
		for (unsigned i = 0; i < pages; i += (unsigned)step)
			((volatile char *)p)[i * page] = 1;
	else
		for (unsigned i = pages; i-- > 0;)
			((volatile char *)p)[i * page] = 1;
}

static void *thread_main(void *arg)
{
	char *e = region(WL_E_PAGES);

	(void)arg;
	report("E", e);
	touch(e, WL_E_PAGES, 2);
	munmap(e, WL_E_PAGES * page);
	return NULL;
}

int main(void)
{
	pthread_t th[WL_THREADS];
	char *a, *b, *c;
	pid_t kids[WL_CHILDREN];

	page = sysconf(_SC_PAGESIZE);
	printf("W %d %d %d %d %d %d %d %d\n", WL_THREADS, WL_CHILDREN, WL_MPROTECTS, WL_A_PAGES,
	       WL_B_PAGES, WL_C_PAGES, WL_D_PAGES, WL_E_PAGES);
	fflush(stdout);
	a = region(WL_A_PAGES);
	b = region(WL_B_PAGES);
	c = region(WL_C_PAGES);
	report("A", a);
	report("B", b);
	report("C", c);
	touch(a, WL_A_PAGES, 1);
	touch(b, WL_B_PAGES, -1);
	touch(c, WL_C_PAGES, 3);
	for (int i = 0; i < WL_MPROTECTS / 2; i++) {
		mprotect(a, 2 * page, PROT_READ);
		mprotect(a, 2 * page, PROT_READ | PROT_WRITE);
	}

	for (int i = 0; i < WL_THREADS; i++)
		if (pthread_create(&th[i], NULL, thread_main, NULL) != 0)
			return 2;
	for (int i = 0; i < WL_THREADS; i++)
		pthread_join(th[i], NULL);

	for (int i = 0; i < WL_CHILDREN; i++) {
		kids[i] = fork();
		if (kids[i] < 0)
			return 2;
		if (kids[i] == 0) {
			char *d = region(WL_D_PAGES);

			report("D", d);
			touch(d, WL_D_PAGES, 1);
			munmap(d, WL_D_PAGES * page);
			_exit(0);
		}
		/* one child at a time keeps the fork count unambiguous */
		waitpid(kids[i], NULL, 0);
	}

	munmap(a, WL_A_PAGES * page);
	munmap(b, WL_B_PAGES * page);
	munmap(c, WL_C_PAGES * page);
	return 0;
}
