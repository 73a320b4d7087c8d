/* backups: scheduled snapshots on every member (backup.schedule, keep and
 * dir in the cluster file): a script that snapshots the member through its
 * own client URL with the healthcheck-client certificate and keeps the
 * newest N, run by a systemd service and timer. Without backup.schedule
 * a timer etcdwiz installed before is stopped and its files removed; the
 * snapshots already taken stay. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/shquote.h"
#include "base/strutil.h"
#include "base/xmalloc.h"
#include "install/step.h"
#include "install/steps/steps.h"
#include "install/template.h"

#define BACKUP_SCRIPT "/usr/local/lib/etcdwiz/etcd-backup"
#define BACKUP_SERVICE "/etc/systemd/system/etcdwiz-backup.service"
#define BACKUP_TIMER "/etc/systemd/system/etcdwiz-backup.timer"
#define BACKUP_UNIT "etcdwiz-backup.timer"
/* The etcdctl step's wrapper: its own client certificate and endpoints,
 * the endpoint overridden here. */
#define ETCDCTL_WRAPPER "/usr/local/bin/etcdctl"

static void backups_reads(const struct step_env *env, struct probe_request *out)
{
	(void)env;
	probe_read_file(out, BACKUP_SCRIPT, false);
	probe_read_file(out, BACKUP_SERVICE, false);
	probe_read_file(out, BACKUP_TIMER, false);
	probe_item_arg(probe_read_item(out, PROBE_UNIT, "backup_timer", NULL), BACKUP_UNIT);
}

static void backups_remove(struct plan *plan, const struct remote_file *script,
			   const struct remote_file *service, const struct remote_file *timer)
{
	if (!script->exists && !service->exists && !timer->exists)
		return;
	plan_command(plan,
		     "systemctl disable --now " BACKUP_UNIT " 2>/dev/null || true; rm -f " BACKUP_TIMER
		     " " BACKUP_SERVICE " " BACKUP_SCRIPT "; systemctl daemon-reload",
		     _("remove the scheduled snapshots (backup.schedule is not set; the snapshots taken stay)"));
}

static void backups_plan(const struct step_env *env, struct plan *plan)
{
	const struct cluster *c = env->cluster;
	const char *active = probe_value(env->probe, "backup_timer", "active");
	const char *enabled = probe_value(env->probe, "backup_timer", "enabled");
	struct remote_file script, service, timer;
	struct template_vars v;
	struct wiz_error err;
	char *script_text = NULL, *service_text = NULL, *timer_text = NULL;
	char *url, *prefix, *q;
	size_t before;

	probe_file(env->probe, BACKUP_SCRIPT, &script);
	probe_file(env->probe, BACKUP_SERVICE, &service);
	probe_file(env->probe, BACKUP_TIMER, &timer);
	if (c->backup.schedule == NULL) {
		backups_remove(plan, &script, &service, &timer);
		goto out_files;
	}
	url = url_for("https", env->host->address, 2379);
	prefix = xasprintf("%s-%s", c->name, env->host->name);
	template_vars_init(&v);
	template_set(&v, "member", env->host->name);
	template_set(&v, "dir_text", c->backup.dir);
	q = sh_quote(c->backup.dir);
	template_set(&v, "dir", q);
	free(q);
	q = sh_quote(prefix);
	template_set(&v, "prefix", q);
	free(q);
	q = sh_quote(url);
	template_set(&v, "client_url", q);
	free(q);
	template_set(&v, "pki_dir", "/etc/kubernetes/pki");
	template_set(&v, "etcdctl", ETCDCTL_WRAPPER);
	{
		char keep[16];

		snprintf(keep, sizeof keep, "%u", c->backup.keep);
		template_set(&v, "keep", keep);
	}
	template_set(&v, "script", BACKUP_SCRIPT);
	template_set(&v, "schedule", c->backup.schedule);
	free(url);
	free(prefix);
	if (template_render_text("etcd-backup.sh", &v, &script_text, &err) != WIZ_ERR_OK ||
	    template_render_text("etcdwiz-backup.service", &v, &service_text, &err) != WIZ_ERR_OK ||
	    template_render_text("etcdwiz-backup.timer", &v, &timer_text, &err) != WIZ_ERR_OK) {
		plan_finding(plan, true, "Template", "%s", err.msg);
		goto out;
	}
	plan_ensure_file(plan, &script, BACKUP_SCRIPT, script_text, strlen(script_text), 0700, "root:root",
			 false, _("install the snapshot script"));
	before = plan->n_actions;
	plan_ensure_file(plan, &service, BACKUP_SERVICE, service_text, strlen(service_text), 0644,
			 "root:root", false, _("write the snapshot service"));
	plan_ensure_file(plan, &timer, BACKUP_TIMER, timer_text, strlen(timer_text), 0644, "root:root",
			 false, _("write the snapshot timer (backup.schedule)"));
	if (plan->n_actions > before)
		plan_command(plan, "systemctl daemon-reload", _("reload systemd units"));
	if (enabled == NULL || strcmp(enabled, "enabled") != 0 || active == NULL || strcmp(active, "active") != 0)
		plan_command(plan, "systemctl enable --now " BACKUP_UNIT, _("start the snapshot timer"));
	else if (plan->n_actions > before)
		plan_command(plan, "systemctl restart " BACKUP_UNIT, _("restart the snapshot timer (its schedule changed)"));
out:
	template_vars_free(&v);
out_files:
	free(script_text);
	free(service_text);
	free(timer_text);
	remote_file_free(&script);
	remote_file_free(&service);
	remote_file_free(&timer);
}

const struct step step_backups = {
	.name = "backups",
	.title = N_("Scheduled snapshots"),
	.hosts = STEP_MEMBERS,
	.reads = backups_reads,
	.plan = backups_plan,
};
