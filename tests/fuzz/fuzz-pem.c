/* libFuzzer target: the PEM certificate and key readers an admin's import
 * goes through (`certs import`: pki_crt_read, pki_key_read, then the
 * checks on them). The input is split at its first NUL: a certificate,
 * then a key. */
#include "config.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pki/pki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A path to these bytes (a memory file: nothing on disk). */
static int as_file(const uint8_t *d, size_t n, char *path, size_t path_len)
{
	int fd = memfd_create("fuzz-pem", 0);

	if (fd < 0)
		return -1;
	if (n > 0 && write(fd, d, n) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	snprintf(path, path_len, "/proc/self/fd/%d", fd);
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t crt_len = nul ? (size_t)(nul - data) : size;
	char crt_path[64], key_path[64];
	int crt_fd = as_file(data, crt_len, crt_path, sizeof crt_path);
	int key_fd = nul ? as_file(nul + 1, size - crt_len - 1, key_path, sizeof key_path) : -1;
	gnutls_x509_crt_t crt = NULL;
	gnutls_x509_privkey_t key = NULL;
	struct wiz_error err;

	if (crt_fd >= 0 && pki_crt_read(crt_path, &crt, &err) == WIZ_ERR_OK) {
		struct pki_crt_info info;

		if (pki_crt_info(crt, &info, &err) == WIZ_ERR_OK)
			pki_crt_info_free(&info);
		(void)pki_crt_is_ca(crt);
		(void)pki_crt_signed_by(crt, crt);
	}
	if (key_fd >= 0 && pki_key_read(key_path, &key, &err) == WIZ_ERR_OK && crt != NULL)
		(void)pki_key_matches(crt, key);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	if (crt_fd >= 0)
		close(crt_fd);
	if (key_fd >= 0)
		close(key_fd);
	return 0;
}
