// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "mmr-error.h"
#include "mmr-http.h"

static size_t discard(char *p, size_t s, size_t n, void *u)
{
	(void)p;
	(void)u;
	return s * n;
}

int mmr_http_post_file(const char *url, const char *path, const struct mmr_http_post *o,
		       long *http_code)
{
	struct curl_slist *hdrs = NULL;
	const char *base = strrchr(path, '/');
	char hdr[512];
	struct stat st;
	CURLcode rc;
	CURL *c;
	FILE *f;
	int r = -1;

	*http_code = 0;
	f = fopen(path, "rb");
	if (!f)
		return mmr_seterr_errno(MMR_E_IO, "%s", path);
	if (fstat(fileno(f), &st) < 0) {
		fclose(f);
		return mmr_seterr_errno(MMR_E_IO, "%s", path);
	}
	c = curl_easy_init();
	if (!c) {
		fclose(f);
		return mmr_seterr(MMR_E_FAIL, "curl_easy_init failed");
	}
	snprintf(hdr, sizeof(hdr), "X-Mmreplay-Filename: %s", base ? base + 1 : path);
	hdrs = curl_slist_append(hdrs, hdr);
	snprintf(hdr, sizeof(hdr), "Content-Type: %s", o->content_type);
	hdrs = curl_slist_append(hdrs, hdr);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_READDATA, f);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)st.st_size);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)(o->timeout_s ? o->timeout_s : 60));
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_USERAGENT, o->user_agent);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		mmr_seterr(MMR_E_IO, "sending %s to %s: %s", path, url, curl_easy_strerror(rc));
	} else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, http_code);
		if (*http_code >= 200 && *http_code < 300)
			r = 0;
		else
			mmr_seterr(MMR_E_IO, "sending %s to %s: the server answered HTTP %ld", path,
				   url, *http_code);
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	fclose(f);
	return r;
}
