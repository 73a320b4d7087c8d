/* Summary: the per-host recap of every apply the wizard ran (ok / changed
 * / failed, as `etcdwiz apply` prints it), where the journals are, and the
 * cluster file (saved again here) that `etcdwiz apply -f` replays. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/xmalloc.h"
#include "ui/tui/wizard-internal.h"

static bool saved;

static void enter(struct wizard *w)
{
	saved = wz_save_cluster(w);
}

static void draw(struct wizard *w, int top, int rows)
{
	int cols = term_cols(), y = top, bottom = top + rows;
	size_t failed = 0;

	term_put(y++, 1, cols - 2, TERM_HEADING, _("RECAP"));
	for (size_t i = 0; i < w->n_recap && y < bottom - 6; i++, y++) {
		const struct wz_recap *r = &w->recap[i];
		bool bad = r->counts[HOST_FAILED] || r->counts[HOST_UNREACHABLE];

		failed += bad;
		term_putf(y, 1, cols - 2, bad ? TERM_ERROR : TERM_OK,
			  "%-14s : ok=%u changed=%u unreachable=%u failed=%u skipped=%u", r->host,
			  r->counts[HOST_OK], r->counts[HOST_CHANGED], r->counts[HOST_UNREACHABLE],
			  r->counts[HOST_FAILED], r->counts[HOST_SKIPPED]);
	}
	if (w->n_recap == 0)
		term_put(y++, 1, cols - 2, TERM_DIM, _("Nothing was applied in this session."));
	y++;
	term_putf(y++, 1, cols - 2, failed ? TERM_ERROR : TERM_OK, "%s %s", term_glyph(failed ? TERM_G_FAIL : TERM_G_OK),
		  failed ? _("Some hosts failed: see the journal.") : _("Every host finished without failure."));
	if (w->journals.n > 0) {
		term_put(y++, 1, cols - 2, TERM_NORMAL, _("Journals:"));
		for (size_t i = 0; i < w->journals.n && y < bottom - 3; i++)
			term_putf(y++, 3, cols - 4, TERM_DIM, "%s", w->journals.items[i]);
	}
	y++;
	if (saved) {
		term_putf(y++, 1, cols - 2, TERM_NORMAL, _("Cluster file saved: %s"), w->file);
		term_putf(y++, 1, cols - 2, TERM_DIM, _("Replay it with: etcdwiz apply -f %s"), w->file);
	} else
		term_put(y++, 1, cols - 2, TERM_ERROR, _("The cluster file could not be saved."));
	if (y < bottom)
		term_put(y, 1, cols - 2, TERM_DIM, _("F3 (Next) leaves the wizard."));
}

const struct screen_ops screen_summary = {
	.name = "summary",
	.title = N_("Summary"),
	.enter = enter,
	.draw = draw,
};
