/* Reading what a check printed: "@@section" blocks, files with mode,
 * owner and content (or only a SHA-256 for secrets), and the shell text
 * that prints them. Pure text in, values out. */
#include "config.h"

#include "install/probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/shquote.h"
#include "base/xmalloc.h"

char *probe_section(const char *probe, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = probe;

	if (probe == NULL)
		return NULL;
	while ((p = strstr(p, "@@")) != NULL) {
		if ((p == probe || p[-1] == '\n') && strncmp(p + 2, name, nlen) == 0 &&
		    (p[2 + nlen] == '\n' || p[2 + nlen] == '\0')) {
			const char *start = p + 2 + nlen, *end;

			if (*start == '\n')
				start++;
			end = start;
			while (*end && !(strncmp(end, "@@", 2) == 0 && (end == probe || end[-1] == '\n')))
				end++;
			return xstrndup(start, (size_t)(end - start));
		}
		p += 2;
	}
	return NULL;
}

char *probe_value(const char *probe, const char *section, const char *key)
{
	char *text = probe_section(probe, section);
	size_t klen = strlen(key);
	char *value = NULL;

	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
			value = xstrdup(line + klen + 1);
			break;
		}
		line = nl ? nl + 1 : line + strlen(line);
	}
	free(text);
	return value;
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

char *probe_file_cmd(const char *path, bool secret)
{
	char *q = sh_quote(path);
	char *parent = parent_dir(path);
	char *qp = sh_quote(parent);
	char *cmd;

	/* The echo after cat ends a last line without a newline; probe_file
	 * takes exactly that one newline off again. The parent directory is
	 * probed too: a host as the packages leave it may not have it. */
	if (secret)
		cmd = xasprintf("echo '@@stat:%s'; stat -c '%%a %%U:%%G' -- %s 2>/dev/null || echo absent; "
				"echo '@@dir:%s'; test -d %s && echo present || echo absent; "
				"echo '@@sha256:%s'; sha256sum < %s 2>/dev/null | cut -c1-64; ",
				path, q, path, qp, path, q);
	else
		cmd = xasprintf("echo '@@stat:%s'; stat -c '%%a %%U:%%G' -- %s 2>/dev/null || echo absent; "
				"echo '@@dir:%s'; test -d %s && echo present || echo absent; "
				"echo '@@file:%s'; cat -- %s 2>/dev/null; echo; ",
				path, q, path, qp, path, q);
	free(qp);
	free(parent);
	free(q);
	return cmd;
}

void probe_file(const char *probe, const char *path, struct remote_file *f)
{
	char *name = xasprintf("stat:%s", path);
	char *st = probe_section(probe, name);
	char *dir;

	memset(f, 0, sizeof *f);
	free(name);
	/* No @@dir section (a probe that did not ask) claims nothing. */
	name = xasprintf("dir:%s", path);
	dir = probe_section(probe, name);
	free(name);
	f->parent_exists = dir == NULL || strncmp(dir, "absent", 6) != 0;
	free(dir);
	if (st != NULL && strncmp(st, "absent", 6) != 0 && st[0] != '\0') {
		char *end;
		unsigned long mode = strtoul(st, &end, 8);

		if (end != st && *end == ' ') {
			f->exists = true;
			f->mode = (unsigned)mode;
			snprintf(f->owner, sizeof f->owner, "%.*s", (int)strcspn(end + 1, " \n"), end + 1);
		}
	}
	free(st);
	if (!f->exists)
		return;
	name = xasprintf("file:%s", path);
	f->content = probe_section(probe, name);
	free(name);
	if (f->content != NULL) {
		f->len = strlen(f->content);
		if (f->len > 0 && f->content[f->len - 1] == '\n')
			f->content[--f->len] = '\0';
	}
	name = xasprintf("sha256:%s", path);
	st = probe_section(probe, name);
	free(name);
	if (st != NULL)
		snprintf(f->sha256, sizeof f->sha256, "%.64s", st);
	free(st);
}

void remote_file_free(struct remote_file *f)
{
	free(f->content);
	memset(f, 0, sizeof *f);
}

void probe_files_add(struct probe_files *l, const char *path, bool secret)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i].path, path) == 0) {
			l->items[i].secret |= secret;
			return;
		}
	l->items = xreallocarray(l->items, l->n + 1, sizeof *l->items);
	l->items[l->n].path = xstrdup(path);
	l->items[l->n].secret = secret;
	l->n++;
}

void probe_files_add_pki(struct probe_files *l, const char *const rels[])
{
	for (size_t i = 0; rels[i]; i++) {
		char *path = xasprintf("/etc/kubernetes/pki/%s", rels[i]);

		probe_files_add(l, path, true);
		free(path);
	}
}

void probe_files_free(struct probe_files *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i].path);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}


char *probe_files_cmd(const struct probe_files *l)
{
	char *cmd = xstrdup("");

	if (l->n == 0)
		return cmd;
	/* One stream into one awk: the paths wanted ("s PATH" for a secret),
	 * then one stat for all of them, then one sha256sum for the secrets;
	 * awk prints every @@stat and @@sha256 section. Then the directories
	 * (shell builtins) and the contents: one cat per file that exists.
	 * (The paths are etcdwiz's own: no '|' or newline in them.) */
	xasprintf_append(&cmd, "{ printf '%%s\\n'");
	for (size_t i = 0; i < l->n; i++) {
		char *line = xasprintf("%c %s", l->items[i].secret ? 's' : 'p', l->items[i].path);
		char *q = sh_quote(line);

		xasprintf_append(&cmd, " %s", q);
		free(q);
		free(line);
	}
	xasprintf_append(&cmd, "; echo '|@@'; stat -c '%%n|%%a %%U:%%G' --");
	for (size_t i = 0; i < l->n; i++) {
		char *q = sh_quote(l->items[i].path);

		xasprintf_append(&cmd, " %s", q);
		free(q);
	}
	xasprintf_append(&cmd, " 2>/dev/null; echo '|@@'; sha256sum --");
	for (size_t i = 0; i < l->n; i++) {
		char *q;

		if (!l->items[i].secret)
			continue;
		q = sh_quote(l->items[i].path);
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
	for (size_t i = 0; i < l->n; i++) {
		const char *path = l->items[i].path;
		char *q = sh_quote(path);
		char *parent = parent_dir(path);
		char *qp = sh_quote(parent);

		/* The same sections as probe_file_cmd prints, so probe_file
		 * reads both alike (the echo after cat ends a last line). */
		xasprintf_append(&cmd, "echo '@@dir:%s'; test -d %s && echo present || echo absent; ", path, qp);
		if (!l->items[i].secret)
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
