/* Connect: SSH to every host at once (the wizard's fleet, whose sessions
 * the later screens' plans and applies use), with each host's state.
 * Unknown host keys and secrets are asked in dialogs (wizard.c); a changed
 * key is a stop that shows both fingerprints. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/xmalloc.h"
#include "install/fleet.h"
#include "ssh/ssh.h"
#include "ui/tui/wizard-internal.h"

struct conn {
	struct wizard *w;
	size_t i;		/* the fleet's host number */
	const struct host *h;
	bool done;
	enum wiz_err code;
	char *msg;
};

static struct {
	struct conn *conns;
	size_t n;
	unsigned gen;
	bool started;
} S;

static unsigned act_retry(void *ud, int key);

static const struct term_action actions[] = {
	{ 'r', 0, N_("Retry"), N_("connect again to the hosts that failed"), act_retry, true },
	{ 0, 0, NULL, NULL, NULL, false },
};

static struct ssh_session *conn_session(const struct conn *c)
{
	return c->w->fleet ? fleet_session(c->w->fleet, c->i) : NULL;
}

static void conns_free(struct wizard *w)
{
	for (size_t i = 0; i < S.n; i++) {
		if (!S.conns[i].done && w->fleet)
			fleet_forget(w->fleet, S.conns[i].i, &S.conns[i]);
		free(S.conns[i].msg);
	}
	free(S.conns);
	S.conns = NULL;
	S.n = 0;
	S.started = false;
}

static void connected(void *ud, enum wiz_err code, const char *msg)
{
	struct conn *c = ud;
	struct wizard *w = c->w;

	c->done = true;
	c->code = code;
	free(c->msg);
	c->msg = code != WIZ_ERR_OK && msg ? xstrdup(msg) : NULL;
	if (code == WIZ_ERR_HOSTKEY && msg && strstr(msg, "SHA256:") &&
	    strstr(strstr(msg, "SHA256:") + 7, "SHA256:")) {
		struct wz_dialog *d = wz_dialog_push(w, DLG_MESSAGE, _("The host key has CHANGED"), NULL, NULL);

		wz_dialog_line(d, _("%s offered a different host key than the one on record."), c->h->name);
		wz_dialog_line(d, "%s", msg);
		wz_dialog_line(d, "%s", _("This can be an attack. etcdwiz does not connect to this host."));
		wz_dialog_line(d, "%s", _("If the host was reinstalled, remove its old line from known_hosts."));
	}
	wz_log(w, "%s: %s", c->h->name, code == WIZ_ERR_OK ? _("connected") : c->msg ? c->msg : "");
	term_request_draw();
}

static void start_one(struct wizard *w, struct conn *c)
{
	c->done = false;
	ssh_session_set_userdata(conn_session(c), w);
	fleet_connect(w->fleet, c->i, connected, c);
}

static void start_all(struct wizard *w)
{
	size_t n = w->c.n_members + w->c.control_plane.n_hosts;

	conns_free(w);
	wz_fleet_sync(w);
	S.conns = xcalloc(n ? n : 1, sizeof *S.conns);
	S.n = n;
	S.gen = w->gen;
	S.started = true;
	for (size_t i = 0; i < n; i++) {
		S.conns[i].w = w;
		S.conns[i].i = i;
		S.conns[i].h = i < w->c.n_members ? &w->c.members[i] : &w->c.control_plane.hosts[i - w->c.n_members];
	}
	/* Set up every row first: a connected host answers at once. */
	for (size_t i = 0; i < n; i++)
		start_one(w, &S.conns[i]);
}

static unsigned act_retry(void *ud, int key)
{
	struct wizard *w = ud;

	(void)key;
	for (size_t i = 0; i < S.n; i++)
		if (S.conns[i].done && S.conns[i].code != WIZ_ERR_OK)
			start_one(w, &S.conns[i]);
	return WZ_HANDLED;
}

static void enter(struct wizard *w)
{
	if (!S.started || S.gen != w->gen)
		start_all(w);
}

static bool busy(struct wizard *w)
{
	(void)w;
	for (size_t i = 0; i < S.n; i++)
		if (!S.conns[i].done)
			return true;
	return false;
}

/* What a session's state means to the admin (the internal names are for
 * the debug log). */
static const char *state_words(enum ssh_state st)
{
	switch (st) {
	case SSH_S_IDLE: return _("not started");
	case SSH_S_CONNECT:
	case SSH_S_HANDSHAKE: return _("connecting");
	case SSH_S_HOSTKEY: return _("checking host key");
	case SSH_S_HOSTKEY_ASK: return _("host key: asking you");
	case SSH_S_AUTH_PASSPHRASE_ASK: return _("waiting for passphrase");
	case SSH_S_AUTH_PASSWORD_ASK: return _("waiting for password");
	case SSH_S_AUTH_LIST:
	case SSH_S_AUTH_AGENT:
	case SSH_S_AUTH_KEY:
	case SSH_S_AUTH_PASSWORD:
	case SSH_S_AUTH_KBDINT: return _("logging in");
	case SSH_S_READY: return _("connected");
	case SSH_S_DISCONNECT: return _("disconnecting");
	case SSH_S_FAILED: return _("failed");
	case SSH_S_CLOSED:
	case SSH_S_COUNT: break;
	}
	return _("closed");
}

/* Host, target, state and host key at their columns, each cut by display
 * width (a translated word may be wide characters), a gap between them. */
static void row(int y, int cols, enum term_role role, const char *const text[4], int key_at)
{
	static const int at[] = { 1, 14, 37 };

	for (int i = 0; i < 3; i++) {
		int width = (i < 2 ? at[i + 1] : key_at) - at[i] - 1;

		if (at[i] < cols && width > 0)
			term_put(y, at[i], width, role, text[i]);
	}
	if (text[3] != NULL && key_at < cols)
		term_put(y, key_at, cols - key_at - 1, role, text[3]);
}

static void draw(struct wizard *w, int top, int rows)
{
	int cols = term_cols(), y = top, bottom = top + rows;
	size_t ok = 0;
	/* A fingerprint is never cut: beside the state when it fits, else on
	 * a line of its own under the host's. */
	int key_at = 60;
	bool key_inline = cols - key_at - 1 >= 50;

	row(y++, cols, TERM_HEADING, (const char *const[]){ _("Host"), _("SSH target"), _("State"),
							   key_inline ? _("Host key") : NULL }, key_at);
	for (size_t i = 0; i < S.n && y < bottom; i++, y++) {
		const struct conn *c = &S.conns[i];
		struct ssh_session *s = conn_session(c);
		enum ssh_state st = s ? ssh_session_state(s) : SSH_S_IDLE;
		struct ssh_settings eff;
		const char *fp = s && st == SSH_S_READY ? ssh_session_hostkey_fingerprint(s) : NULL;
		bool refused = st == SSH_S_AUTH_PASSWORD_ASK && wz_secret_refused(w, c->h->name);
		enum term_role role = st == SSH_S_READY ? TERM_OK
				      : st == SSH_S_FAILED || refused ? TERM_ERROR : TERM_NORMAL;
		char *target;

		cluster_host_ssh(&w->c, c->h, &eff);
		target = xasprintf("%s@%s:%d", eff.user, cluster_host_ssh_target(c->h), eff.port);
		row(y, cols, role, (const char *const[]){ c->h->name, target,
							 refused ? _("password refused") : state_words(st),
							 key_inline ? fp : NULL }, key_at);
		free(target);
		if (fp != NULL && !key_inline && y + 1 < bottom)
			term_putf(++y, 4, cols - 5, TERM_DIM, _("host key %s"), fp);
		if (st == SSH_S_READY)
			ok++;
		if (st == SSH_S_FAILED && c->msg && y + 1 < bottom) {
			y++;
			term_putf(y, 4, cols - 5, TERM_ERROR, "%s %s", term_glyph(TERM_G_FAIL), c->msg);
		}
	}
	y++;
	if (y < bottom)
		term_putf(y++, 1, cols - 2, ok == S.n ? TERM_OK : TERM_NORMAL,
			  _("%zu of %zu hosts connected."), ok, S.n);
	if (y + 1 < bottom) {
		term_hline(y++, 0, cols, TERM_DIM);
		wz_draw_log(w, y, bottom - y);
	}
}

static const char *validate(struct wizard *w)
{
	size_t ok = 0;

	(void)w;
	if (busy(w))
		return _("still connecting");
	for (size_t i = 0; i < S.n; i++)
		ok += conn_session(&S.conns[i]) && ssh_session_state(conn_session(&S.conns[i])) == SSH_S_READY;
	if (ok < S.n)
		return _("every host must be connected (r retries the failed ones)");
	return NULL;
}

static void leave(struct wizard *w)
{
	/* The sessions stay in the fleet for the screens after this one. */
	conns_free(w);
}

static void destroy(struct wizard *w)
{
	conns_free(w);
}

const struct screen_ops screen_connect = {
	.name = "connect",
	.title = N_("Connect"),
	.actions = actions,
	.enter = enter,
	.leave = leave,
	.draw = draw,
	.validate = validate,
	.busy = busy,
	.destroy = destroy,
};
