/* What steps read on a host: the declared files and items, the shell text
 * that reads them, and its output parsed once into sections, lines and
 * files. Pure: text in, values out. */
#include "config.h"

#include "install/probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/shquote.h"
#include "base/xmalloc.h"

static bool is_marker(const char *text, const char *at)
{
	return strncmp(at, "@@", 2) == 0 && (at == text || at[-1] == '\n');
}

static void split_lines(struct probe_part *part)
{
	for (const char *line = part->text; *line;) {
		size_t n = strcspn(line, "\n");

		part->lines = xreallocarray(part->lines, part->n_lines + 1, sizeof *part->lines);
		part->lines[part->n_lines++] = xstrndup(line, n);
		line += n + (line[n] == '\n');
	}
}

struct probe *probe_parse(const char *text)
{
	struct probe *p = xcalloc(1, sizeof *p);
	const char *at = text;

	if (text == NULL)
		return p;
	/* Anything before the first marker belongs to no section. */
	while (*at && !is_marker(text, at))
		at = strchr(at, '\n') ? strchr(at, '\n') + 1 : at + strlen(at);
	while (*at) {
		const char *name = at + 2, *start = name + strcspn(name, "\n"), *end;
		struct probe_part part = { 0 };

		part.name = xstrndup(name, (size_t)(start - name));
		if (*start == '\n')
			start++;
		for (end = start; *end && !is_marker(text, end);)
			end = strchr(end, '\n') ? strchr(end, '\n') + 1 : end + strlen(end);
		part.text = xstrndup(start, (size_t)(end - start));
		if (strncmp(part.name, "file:", 5) != 0)
			split_lines(&part);
		p->parts = xreallocarray(p->parts, p->n + 1, sizeof *p->parts);
		p->parts[p->n++] = part;
		at = end;
	}
	return p;
}

void probe_free(struct probe *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++) {
		for (size_t j = 0; j < p->parts[i].n_lines; j++)
			free(p->parts[i].lines[j]);
		free(p->parts[i].lines);
		free(p->parts[i].text);
		free(p->parts[i].name);
	}
	free(p->parts);
	free(p);
}

static const struct probe_part *find_part(const struct probe *p, const char *name)
{
	if (p == NULL)
		return NULL;
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->parts[i].name, name) == 0)
			return &p->parts[i];
	return NULL;
}

const char *probe_section(const struct probe *p, const char *name)
{
	const struct probe_part *part = find_part(p, name);

	return part ? part->text : NULL;
}

const char *probe_value(const struct probe *p, const char *section, const char *key)
{
	const struct probe_part *part = find_part(p, section);
	size_t klen = strlen(key);

	for (size_t i = 0; part && i < part->n_lines; i++)
		if (strncmp(part->lines[i], key, klen) == 0 && part->lines[i][klen] == '=')
			return part->lines[i] + klen + 1;
	return NULL;
}

bool probe_has_line(const struct probe *p, const char *section, const char *line)
{
	const struct probe_part *part = find_part(p, section);

	for (size_t i = 0; part && i < part->n_lines; i++)
		if (strcmp(part->lines[i], line) == 0)
			return true;
	return false;
}

char *parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* The section "<kind>:<path>". */
static const char *file_part(const struct probe *p, const char *kind, const char *path)
{
	char *name = xasprintf("%s:%s", kind, path);
	const char *text = probe_section(p, name);

	free(name);
	return text;
}

void probe_file(const struct probe *p, const char *path, struct remote_file *f)
{
	const char *st = file_part(p, "stat", path);
	/* No @@dir section (a probe that did not ask) claims nothing. */
	const char *dir = file_part(p, "dir", path);
	const char *text;

	memset(f, 0, sizeof *f);
	f->parent_exists = dir == NULL || strncmp(dir, "absent", 6) != 0;
	if (st != NULL && strncmp(st, "absent", 6) != 0 && st[0] != '\0') {
		char *end;
		unsigned long mode = strtoul(st, &end, 8);

		if (end != st && *end == ' ') {
			f->exists = true;
			f->mode = (unsigned)mode;
			snprintf(f->owner, sizeof f->owner, "%.*s", (int)strcspn(end + 1, " \n"), end + 1);
		}
	}
	if (!f->exists)
		return;
	if ((text = file_part(p, "file", path)) != NULL) {
		/* The echo after cat ended a last line; that one newline goes. */
		f->len = strlen(text);
		if (f->len > 0 && text[f->len - 1] == '\n')
			f->len--;
		f->content = xstrndup(text, f->len);
	}
	if ((text = file_part(p, "sha256", path)) != NULL)
		snprintf(f->sha256, sizeof f->sha256, "%.64s", text);
}

void remote_file_free(struct remote_file *f)
{
	free(f->content);
	memset(f, 0, sizeof *f);
}

void probe_read_file(struct probe_request *r, const char *path, bool secret)
{
	for (size_t i = 0; i < r->n_files; i++)
		if (strcmp(r->files[i].path, path) == 0) {
			r->files[i].secret |= secret;
			return;
		}
	r->files = xreallocarray(r->files, r->n_files + 1, sizeof *r->files);
	r->files[r->n_files].path = xstrdup(path);
	r->files[r->n_files].secret = secret;
	r->n_files++;
}

void probe_read_pki(struct probe_request *r, const char *const rels[])
{
	for (size_t i = 0; rels[i]; i++) {
		char *path = xasprintf("/etc/kubernetes/pki/%s", rels[i]);

		probe_read_file(r, path, true);
		free(path);
	}
}

struct probe_item *probe_read_item(struct probe_request *r, enum probe_item_kind kind,
				   const char *section, const char *text)
{
	struct probe_item *item;

	r->items = xreallocarray(r->items, r->n_items + 1, sizeof *r->items);
	item = &r->items[r->n_items++];
	memset(item, 0, sizeof *item);
	item->kind = kind;
	item->section = xstrdup(section);
	item->text = text;
	return item;
}

void probe_item_arg(struct probe_item *item, const char *arg)
{
	item->args = xreallocarray(item->args, item->n_args + 1, sizeof *item->args);
	item->args[item->n_args++] = xstrdup(arg);
}

void probe_item_args(struct probe_item *item, const char *const args[])
{
	for (size_t i = 0; args[i]; i++)
		probe_item_arg(item, args[i]);
}

void probe_request_take_files(struct probe_request *all, struct probe_request *r)
{
	for (size_t i = 0; i < r->n_files; i++) {
		probe_read_file(all, r->files[i].path, r->files[i].secret);
		free(r->files[i].path);
	}
	free(r->files);
	r->files = NULL;
	r->n_files = 0;
}

void probe_request_free(struct probe_request *r)
{
	for (size_t i = 0; i < r->n_files; i++)
		free(r->files[i].path);
	free(r->files);
	for (size_t i = 0; i < r->n_items; i++) {
		for (size_t j = 0; j < r->items[i].n_args; j++)
			free(r->items[i].args[j]);
		free(r->items[i].args);
		free(r->items[i].section);
	}
	free(r->items);
	memset(r, 0, sizeof *r);
}

/* The shell text of the typed items: each reads its arguments ("$@"). */
static const char *const item_text[] = {
	[PROBE_UNIT] =
		/* One systemctl (a D-Bus round trip each) for the three
		 * answers, read by builtins (a sed per value cost a fork). */
		"u=$(" PROBE_BOUNDED "systemctl show -p ActiveState -p UnitFileState -p DropInPaths -- \"$1\" 2>/dev/null)\n"
		"ActiveState=; UnitFileState=; DropInPaths=\n"
		"while IFS='=' read -r k v; do case $k in ActiveState|UnitFileState|DropInPaths) "
		"eval \"$k=\\$v\";; esac; done <<EOF\n$u\nEOF\n"
		"echo active=$ActiveState; echo enabled=$UnitFileState; echo dropins=$DropInPaths",
	[PROBE_SYSCTL] =
		"for k; do printf '%s=%s\\n' \"$k\" \"$(sysctl -n \"$k\" 2>/dev/null)\"; done",
	[PROBE_MODES] =
		/* One stat for all; an absent path prints nothing. */
		"stat -c '%n=%a %U:%G' -- \"$@\" 2>/dev/null",
};

char *probe_items_cmd(const struct probe_request *r)
{
	/* A step with files only still needs a command in its slice. */
	char *cmd = xstrdup(r->n_items == 0 ? ":\n" : "");

	for (size_t i = 0; i < r->n_items; i++) {
		const struct probe_item *item = &r->items[i];
		char *marker = xasprintf("@@%s", item->section);
		char *q = sh_quote(marker);

		xasprintf_append(&cmd, "echo %s\nset --", q);
		free(q);
		free(marker);
		for (size_t j = 0; j < item->n_args; j++) {
			q = sh_quote(item->args[j]);
			xasprintf_append(&cmd, " %s", q);
			free(q);
		}
		xasprintf_append(&cmd, "\n%s\n", item->kind == PROBE_SHELL ? item->text : item_text[item->kind]);
	}
	return cmd;
}

char *probe_files_cmd(const struct probe_request *r)
{
	const struct probe_file_req *files = r->files;
	size_t n_files = r->n_files;
	char *cmd = xstrdup("");

	if (n_files == 0)
		return cmd;
	/* One stream into one awk: the paths wanted ("s PATH" for a secret),
	 * then one stat for all of them, then one sha256sum for the secrets;
	 * awk prints every @@stat and @@sha256 section. Then the directories
	 * (shell builtins) and the contents: one cat per file that exists.
	 * (The paths are etcdwiz's own: no '|' or newline in them.) */
	xasprintf_append(&cmd, "{ printf '%%s\\n'");
	for (size_t i = 0; i < n_files; i++) {
		char *line = xasprintf("%c %s", files[i].secret ? 's' : 'p', files[i].path);
		char *q = sh_quote(line);

		xasprintf_append(&cmd, " %s", q);
		free(q);
		free(line);
	}
	xasprintf_append(&cmd, "; echo '|@@'; stat -c '%%n|%%a %%U:%%G' --");
	for (size_t i = 0; i < n_files; i++) {
		char *q = sh_quote(files[i].path);

		xasprintf_append(&cmd, " %s", q);
		free(q);
	}
	xasprintf_append(&cmd, " 2>/dev/null; echo '|@@'; sha256sum --");
	for (size_t i = 0; i < n_files; i++) {
		char *q;

		if (!files[i].secret)
			continue;
		q = sh_quote(files[i].path);
		xasprintf_append(&cmd, " %s", q);
		free(q);
	}
	xasprintf_append(&cmd, " /dev/null 2>/dev/null; } | awk '"
		   "$0 == \"|@@\" { part++; next } "
		   "part == 0 { n++; kind[n] = substr($0, 1, 1); path[n] = substr($0, 3); next } "
		   "part == 1 { i = index($0, \"|\"); st[substr($0, 1, i - 1)] = substr($0, i + 1); next } "
		   "{ h = $1; sub(/^[^ ]+  /, \"\"); sum[$0] = h } "
		   "END { for (i = 1; i <= n; i++) { print \"@@stat:\" path[i]; "
		   "print (path[i] in st) ? st[path[i]] : \"absent\"; "
		   "if (kind[i] == \"s\") { print \"@@sha256:\" path[i]; if (path[i] in sum) print sum[path[i]] } } }'; ");
	for (size_t i = 0; i < n_files; i++) {
		const char *path = files[i].path;
		char *q = sh_quote(path);
		char *parent = parent_dir(path);
		char *qp = sh_quote(parent);

		/* The same sections as probe_file_cmd prints, so probe_file
		 * reads both alike (the echo after cat ends a last line). */
		xasprintf_append(&cmd, "echo '@@dir:%s'; test -d %s && echo present || echo absent; ", path, qp);
		if (!files[i].secret)
			/* -L too: a dangling link has a stat (probe_file
			 * says it exists) and reads as empty, as before. */
			xasprintf_append(&cmd, "{ [ -e %s ] || [ -L %s ]; } && { echo '@@file:%s'; cat -- %s 2>/dev/null; echo; }; ",
				   q, q, path, q);
		free(qp);
		free(parent);
		free(q);
	}
	xasprintf_append(&cmd, ":; ");
	return cmd;
}
