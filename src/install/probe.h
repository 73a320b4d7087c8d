/* What a step reads on a host, declared (files and named items), the shell
 * that reads it, and the output parsed once: "@@section" blocks, key=value
 * lines, and files with mode, owner, content (or only the SHA-256 of a
 * secret) and whether their directory exists. */
#ifndef WIZ_PROBE_H
#define WIZ_PROBE_H

#include <stdbool.h>
#include <stddef.h>

/* A whole check, every command in it bounded on its own (PROBE_TIMEOUT_S). */
#define PROBE_EXEC_TIMEOUT_S 120
/* One command in a check that runs a program which may hang (a broken
 * kubelet, a busy systemd): `timeout` ends it and the check says so. */
#define PROBE_TIMEOUT_S 10
#define PROBE_STR_(x) #x
#define PROBE_STR(x) PROBE_STR_(x)
#define PROBE_BOUNDED "timeout -k 2 " PROBE_STR(PROBE_TIMEOUT_S) " "

/* ---- a check's output, parsed once ----
 * "@@name" lines start sections (the first of a name wins); a section's
 * "key=value" lines are its values (the first of a key wins; a key may
 * hold '=', a path for one). Plans read the structure, not the text. */
struct probe_part {
	char *name;
	char *text;		/* without the marker line */
	char **lines;		/* split once; not for file contents ("file:...") */
	size_t n_lines;
};

struct probe {
	struct probe_part *parts;
	size_t n;
};

/* text NULL: an empty probe (every lookup NULL). Never NULL. */
struct probe *probe_parse(const char *text);
void probe_free(struct probe *p);
/* The text of section name, or NULL when the section is absent. */
const char *probe_section(const struct probe *p, const char *name);
/* The value of key in section, or NULL. */
const char *probe_value(const struct probe *p, const char *section, const char *key);
/* section has a line that is exactly line. */
bool probe_has_line(const struct probe *p, const char *section, const char *line);

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

/* A file as the files block printed it (probe_files_cmd). */
void probe_file(const struct probe *p, const char *path, struct remote_file *f);
void remote_file_free(struct remote_file *f);

/* ---- what a step reads on a host, declared (struct step's reads) ----
 * Files (mode, owner, content or only the SHA-256 of a secret) and named
 * items whose output becomes a section of that name. The engine reads the
 * files of every step of a host in one block of the one exec (one stat,
 * one sha256sum, one cat per file whose content is read) and runs the
 * items of each step after it; every shell text is a string literal here
 * or in the step, and what varies (paths, keys, names) is passed to it as
 * quoted arguments ("$1" ...), never formatted into shell. */
struct probe_file_req {
	char *path;
	bool secret;		/* only its SHA-256 is read (keys, binaries) */
};

enum probe_item_kind {
	PROBE_SHELL,	/* a named command: its text, with the arguments as "$@" */
	PROBE_UNIT,	/* a systemd unit (one argument): active=, enabled=, dropins= */
	PROBE_SYSCTL,	/* kernel parameters: KEY=VALUE, empty when unknown */
	PROBE_MODES,	/* paths: PATH=MODE OWNER:GROUP, empty when absent */
};

struct probe_item {
	enum probe_item_kind kind;
	char *section;
	const char *text;	/* PROBE_SHELL: a string literal */
	char **args;
	size_t n_args;
};

struct probe_request {
	struct probe_file_req *files;
	size_t n_files;
	struct probe_item *items;
	size_t n_items;
};

/* Adds path unless it is there already (a secret wins). */
void probe_read_file(struct probe_request *r, const char *path, bool secret);
/* Files under /etc/kubernetes/pki (rels NULL-terminated), as secrets:
 * they include keys. */
void probe_read_pki(struct probe_request *r, const char *const rels[]);
/* A named item; add its arguments with probe_item_arg. */
struct probe_item *probe_read_item(struct probe_request *r, enum probe_item_kind kind,
				   const char *section, const char *text);
void probe_item_arg(struct probe_item *item, const char *arg);
/* args NULL-terminated. */
void probe_item_args(struct probe_item *item, const char *const args[]);
/* Moves r's files into all (deduplicated); r keeps its items. */
void probe_request_take_files(struct probe_request *all, struct probe_request *r);
void probe_request_free(struct probe_request *r);
/* Shell text printing, for every file of r, the sections probe_file reads
 * ("" without files). Caller frees. */
char *probe_files_cmd(const struct probe_request *r);
/* Shell text running r's items, each in its section. Caller frees. */
char *probe_items_cmd(const struct probe_request *r);

#endif
