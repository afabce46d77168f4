// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mmr-error.h"
#include "mmr-http.h"
#include "upload.h"

struct item {
	char *path;
	struct item *next;
};

struct mmrd_uploader {
	char *url;
	uint64_t timeout_s, retry_max_s;
	bool keep;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct item *head, *tail;
	bool stop;
};

/* Sleep up to s seconds, waking early when asked to stop. */
static bool wait_or_stop(struct mmrd_uploader *u, uint64_t s)
{
	struct timespec until;
	bool stop;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += s;
	pthread_mutex_lock(&u->lock);
	while (!u->stop && pthread_cond_timedwait(&u->cond, &u->lock, &until) != ETIMEDOUT)
		;
	stop = u->stop;
	pthread_mutex_unlock(&u->lock);
	return stop;
}

static void *worker(void *arg)
{
	struct mmrd_uploader *u = arg;
	const struct mmr_http_post post = {
		.content_type = "application/x-ndjson", .user_agent = "mmreplayd",
		.timeout_s = u->timeout_s,
	};

	for (;;) {
		struct item *it;
		uint64_t backoff = 1;
		long code;

		pthread_mutex_lock(&u->lock);
		while (!u->stop && !u->head)
			pthread_cond_wait(&u->cond, &u->lock);
		if (u->stop) {
			pthread_mutex_unlock(&u->lock);
			break;
		}
		it = u->head;
		u->head = it->next;
		if (!u->head)
			u->tail = NULL;
		pthread_mutex_unlock(&u->lock);

		while (mmr_http_post_file(u->url, it->path, &post, &code) < 0) {
			if (access(it->path, F_OK) != 0)	/* deleted by the budget */
				break;
			mmrd_log("upload failed, retry in %llus: %s", (unsigned long long)backoff,
				 mmr_strerror());
			if (wait_or_stop(u, backoff)) {
				free(it->path);
				free(it);
				return NULL;
			}
			backoff = backoff * 2 > u->retry_max_s ? u->retry_max_s : backoff * 2;
		}
		if (access(it->path, F_OK) == 0) {
			mmrd_log("uploaded %s (HTTP %ld)", it->path, code);
			if (!u->keep && unlink(it->path) < 0)
				mmrd_log("cannot delete uploaded %s: %s", it->path, strerror(errno));
		}
		free(it->path);
		free(it);
	}
	return NULL;
}

struct mmrd_uploader *mmrd_uploader_new(const char *url, uint64_t timeout_s,
					uint64_t retry_max_s, bool keep)
{
	struct mmrd_uploader *u = calloc(1, sizeof(*u));

	if (!u || !(u->url = strdup(url))) {
		free(u);
		mmr_seterr(MMR_E_NOMEM, "out of memory");
		return NULL;
	}
	u->timeout_s = timeout_s ? timeout_s : 60;
	u->retry_max_s = retry_max_s ? retry_max_s : 600;
	u->keep = keep;
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->cond, NULL);
	if (pthread_create(&u->thread, NULL, worker, u)) {
		free(u->url);
		free(u);
		mmr_seterr(MMR_E_FAIL, "cannot start the upload thread");
		return NULL;
	}
	return u;
}

int mmrd_uploader_add(struct mmrd_uploader *u, const char *path)
{
	struct item *it = calloc(1, sizeof(*it));

	if (!it || !(it->path = strdup(path))) {
		free(it);
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	}
	pthread_mutex_lock(&u->lock);
	if (u->tail)
		u->tail->next = it;
	else
		u->head = it;
	u->tail = it;
	pthread_cond_signal(&u->cond);
	pthread_mutex_unlock(&u->lock);
	return 0;
}

void mmrd_uploader_free(struct mmrd_uploader *u)
{
	if (!u)
		return;
	pthread_mutex_lock(&u->lock);
	u->stop = true;
	pthread_cond_broadcast(&u->cond);
	pthread_mutex_unlock(&u->lock);
	pthread_join(u->thread, NULL);
	while (u->head) {
		struct item *n = u->head->next;

		free(u->head->path);
		free(u->head);
		u->head = n;
	}
	pthread_mutex_destroy(&u->lock);
	pthread_cond_destroy(&u->cond);
	free(u->url);
	free(u);
}
