/* What a step's read-only check prints, and reading it back: "@@section"
 * blocks, and files on a host with mode, owner, content (or only the
 * SHA-256 of a secret) and whether their directory exists. */
#ifndef WIZ_PROBE_H
#define WIZ_PROBE_H

#include <stdbool.h>
#include <stddef.h>

/* Shared shell fragments for checks. */
#define PROBE_SECTION(name) "echo '@@" name "'; "

/* A whole check, every command in it bounded on its own (PROBE_TIMEOUT_S). */
#define PROBE_EXEC_TIMEOUT_S 120
/* One command in a check that runs a program which may hang (a broken
 * kubelet, a busy systemd): `timeout` ends it and the check says so. */
#define PROBE_TIMEOUT_S 10
#define PROBE_STR_(x) #x
#define PROBE_STR(x) PROBE_STR_(x)
#define PROBE_BOUNDED "timeout -k 2 " PROBE_STR(PROBE_TIMEOUT_S) " "

/* The text of "@@name" in a probe's output (without the marker line), or
 * NULL when the section is absent. Caller frees. */
char *probe_section(const char *probe, const char *name);
/* The value of "key=value" lines in a section (first match), or NULL. */
char *probe_value(const char *probe, const char *section, const char *key);

/* ---- files on a host, as a check sees them ---- */
struct remote_file {
	bool exists;
	char *content;		/* NULL for secrets (only the hash is read) */
	size_t len;
	unsigned mode;		/* permission bits */
	char owner[64];		/* "root:root" */
	char sha256[65];	/* hex, for secrets */
	bool parent_exists;	/* its directory is there (false: create it first) */
};

/* "/a/b/c" -> "/a/b". Caller frees. */
char *parent_dir(const char *path);

/* Shell text that prints a file's mode, owner and content (or, for a
 * secret, only its SHA-256) in sections a later probe_file finds. */
char *probe_file_cmd(const char *path, bool secret);
void probe_file(const char *probe, const char *path, struct remote_file *f);
void remote_file_free(struct remote_file *f);
/* Probe text for files under /etc/kubernetes/pki (rels NULL-terminated),
 * read by hash only: they include keys. */
char *probe_pki_files_cmd(const char *const rels[]);

#endif
