// SPDX-License-Identifier: GPL-2.0-or-later
#include <fcntl.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>

#include "mmr-error.h"
#include "mmr-util.h"
#include <unistd.h>

int mmr_strv_add(char ***v, unsigned *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(char *));

	if (!nv)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	*v = nv;
	nv[*n] = strdup(s);
	if (!nv[*n])
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	(*n)++;
	return 0;
}

void mmr_strv_free(char **v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

bool mmr_read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return true;
}

void *mmr_shared_map(const char *name, size_t len, int *fd)
{
	void *m;

	*fd = memfd_create(name, MFD_CLOEXEC);
	if (*fd < 0) {
		mmr_seterr_errno(MMR_E_NOMEM, "cannot create shared memory (memfd_create)");
		return MAP_FAILED;
	}
	if (ftruncate(*fd, (off_t)len) < 0) {
		mmr_seterr_errno(MMR_E_NOMEM, "cannot size %zu bytes of shared memory", len);
		goto fail;
	}
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (m == MAP_FAILED) {
		mmr_seterr_errno(MMR_E_NOMEM, "cannot map %zu bytes of shared memory", len);
		goto fail;
	}
	return m;
fail:
	close(*fd);
	*fd = -1;
	return MAP_FAILED;
}
