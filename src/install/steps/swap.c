/* swap: off now (swapoff -a) and at boot (swap lines in /etc/fstab commented
 * out), with a backup of fstab outside any watched directory. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/shquote.h"
#include "base/xmalloc.h"
#include "install/step.h"
#include "install/steps/steps.h"

#define FSTAB "/etc/fstab"

/* Is this fstab line an active swap entry (third field "swap")? */
static bool is_swap_line(const char *line, size_t len)
{
	char buf[512], *save = NULL, *f;
	int field = 0;

	if (len >= sizeof buf)
		len = sizeof buf - 1;
	memcpy(buf, line, len);
	buf[len] = '\0';
	for (f = strtok_r(buf, " \t", &save); f; f = strtok_r(NULL, " \t", &save)) {
		if (field == 0 && f[0] == '#')
			return false;
		if (++field == 3)
			return strcmp(f, "swap") == 0;
	}
	return false;
}

/* fstab with every active swap line commented out; NULL when there is none. */
char *swap_fstab_disabled(const char *fstab);
char *swap_fstab_disabled(const char *fstab)
{
	size_t cap = strlen(fstab) + 64, len = 0;
	char *out = xmalloc(cap);
	bool changed = false;
	const char *p = fstab;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);

		if (len + l + 4 > cap) {
			cap = (len + l + 4) * 2;
			out = xreallocarray(out, cap, 1);
		}
		if (is_swap_line(p, l)) {
			out[len++] = '#';
			changed = true;
		}
		memcpy(out + len, p, l);
		len += l;
		if (nl)
			out[len++] = '\n';
		p += l + (nl ? 1 : 0);
	}
	out[len] = '\0';
	if (!changed) {
		free(out);
		return NULL;
	}
	return out;
}

static void swap_reads(const struct step_env *env, struct probe_request *out)
{
	(void)env;
	probe_read_file(out, FSTAB, false);
	probe_read_item(out, PROBE_SHELL, "swaps", "tail -n +2 /proc/swaps 2>/dev/null");
}

static void swap_plan(const struct step_env *env, struct plan *plan)
{
	const char *swaps = probe_section(env->probe, "swaps");
	struct remote_file fstab;
	char *disabled;

	probe_file(env->probe, FSTAB, &fstab);
	if (swaps != NULL && strspn(swaps, " \t\n") != strlen(swaps))
		plan_command(plan, "swapoff -a", _("turn swap off now"));
	disabled = fstab.content ? swap_fstab_disabled(fstab.content) : NULL;
	if (disabled != NULL) {
		/* The backup lives in /var/backups, not /etc, so no tool that watches
		 * /etc picks it up as configuration. */
		plan_command(plan,
			     "mkdir -p /var/backups/etcdwiz && cp -p /etc/fstab "
			     "/var/backups/etcdwiz/fstab.$(date +%Y%m%d%H%M%S)",
			     _("back up /etc/fstab to /var/backups/etcdwiz"));
		plan_file(plan, FSTAB, disabled, strlen(disabled), fstab.mode ? fstab.mode : 0644,
			  fstab.owner[0] ? fstab.owner : "root:root", fstab.content, true, false,
			  _("comment out swap entries in /etc/fstab"));
	}
	free(disabled);
	remote_file_free(&fstab);
}

const struct step step_swap = {
	.name = "swap",
	.title = N_("Swap off"),
	.hosts = STEP_MEMBERS,
	.reads = swap_reads,
	.plan = swap_plan,
};
