/* What a step's read-only check prints, and reading it back: "@@section"
 * blocks, and files on a host with mode, owner, content (or only the
 * SHA-256 of a secret) and whether their directory exists. Files are
 * declared (probe_files) and read for all steps at once; probe_file_cmd
 * reads one on its own. */
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

/* Reads the ActiveState, UnitFileState and DropInPaths lines of $u (what
 * `systemctl show -p ...` printed) into shell variables of those names,
 * with builtins only (a sed per value cost a fork each). */
#define PROBE_READ_UNIT                                                            \
	"ActiveState=; UnitFileState=; DropInPaths=; "                             \
	"while IFS='=' read -r k v; do case $k in ActiveState|UnitFileState|DropInPaths) " \
	"eval \"$k=\\$v\";; esac; done <<EOF\n$u\nEOF\n"

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

/* ---- the files a step reads, declared (struct step's files) ----
 * The engine reads the files of every step of a host in one block of the
 * one exec: one stat and one sha256sum for all of them, one cat per file
 * whose content is read, and gives each step's plan the sections
 * probe_file reads. */
struct probe_file_req {
	char *path;
	bool secret;		/* only its SHA-256 is read (keys, binaries) */
};

struct probe_files {
	struct probe_file_req *items;
	size_t n;
};

/* Adds path unless it is there already (a secret wins). */
void probe_files_add(struct probe_files *l, const char *path, bool secret);
/* Files under /etc/kubernetes/pki (rels NULL-terminated), as secrets:
 * they include keys. */
void probe_files_add_pki(struct probe_files *l, const char *const rels[]);
void probe_files_free(struct probe_files *l);
/* Shell text printing, for every file of l, the sections probe_file reads
 * ("" for an empty list). Caller frees. */
char *probe_files_cmd(const struct probe_files *l);

#endif
