#include "config.h"

#include "ui/cli/cmd.h"

#include <stdarg.h>
#include <string.h>

#include "base/i18n.h"

extern const struct cmd_entry cmd_validate_entry, cmd_plan_entry, cmd_apply_entry,
	cmd_certs_entry, cmd_lab_entry, cmd_status_entry, cmd_wizard_entry, cmd_member_entry,
	cmd_backup_entry, cmd_restore_entry, cmd_upgrade_entry;

/* Only commands that work are listed here. */
const struct cmd_entry *const cmd_table[] = {
	&cmd_validate_entry,
	&cmd_certs_entry,
	&cmd_plan_entry,
	&cmd_apply_entry,
	&cmd_member_entry,
	&cmd_backup_entry,
	&cmd_restore_entry,
	&cmd_upgrade_entry,
	&cmd_status_entry,
	&cmd_lab_entry,
	&cmd_wizard_entry,
	NULL,
};

bool cmd_ask_tty(const char *prompt, char *buf, size_t size)
{
	FILE *tty = fopen("/dev/tty", "r+");

	buf[0] = '\0';
	if (tty == NULL) {
		fprintf(stderr, _("%s: no terminal to confirm on; re-run with --yes to go on without asking\n"), PACKAGE);
		return false;
	}
	fputs(prompt, tty);
	fflush(tty);
	if (fgets(buf, (int)size, tty) == NULL)
		buf[0] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	fclose(tty);
	return true;
}

const struct cmd_entry *cmd_find(const char *name)
{
	for (size_t i = 0; cmd_table[i]; i++)
		if (strcmp(cmd_table[i]->name, name) == 0)
			return cmd_table[i];
	return NULL;
}

void cmd_print_help(const struct cmd_entry *e, FILE *out)
{
	fprintf(out, _("Usage: %s %s %s\n"), PACKAGE, e->name, e->args);
	fprintf(out, "%s\n", _(e->summary));
	if (e->help && e->help[0])
		fprintf(out, "\n%s", _(e->help));
}

int cmd_usage_error(const struct cmd_entry *e, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s %s: ", PACKAGE, e->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fprintf(stderr, _("Try '%s %s --help' for more information.\n"), PACKAGE, e->name);
	return EXIT_USAGE;
}
