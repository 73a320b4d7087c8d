/* Child processes of the wizard (child.h): a pipe for stdout and stderr
 * read by a loop_io, the exit reaped by a timer (no SIGCHLD handler, which
 * the terminal layer's signal handling would have to share). */
#include "config.h"

#include "ui/tui/child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/i18n.h"
#include "base/loop.h"
#include "base/xmalloc.h"

extern char **environ;

struct wz_child {
	struct wizard *w;
	pid_t pid;
	int fd;
	struct loop_io *io;
	struct loop_timer *reap;
	char partial[512];
	size_t plen;
	wz_child_done_fn done;
	void *ud;
};

static void child_free(struct wz_child *c)
{
	if (c->io)
		loop_io_del(c->io);
	if (c->fd >= 0)
		close(c->fd);
	if (c->reap)
		loop_timer_del(c->reap);
	free(c);
}

static void on_reap(struct loop_timer *t, void *ud)
{
	struct wz_child *c = ud;
	int status = 0;
	pid_t r = waitpid(c->pid, &status, WNOHANG);

	if (r == 0) {
		loop_timer_arm_in(t, 100);
		return;
	}
	c->pid = 0;
	c->done(c->w, r < 0 ? 1 << 8 : status, c->ud);
	child_free(c);
}

static void on_output(struct loop_io *io, int fd, short revents, void *ud)
{
	struct wz_child *c = ud;
	char buf[512];
	ssize_t n = read(fd, buf, sizeof buf);

	(void)revents;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (c->plen)
			wz_log(c->w, "%.*s", (int)c->plen, c->partial);
		c->plen = 0;
		loop_io_del(io);
		c->io = NULL;
		close(fd);
		c->fd = -1;
		loop_timer_arm_in(c->reap, 0);
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n' || c->plen + 1 >= sizeof c->partial) {
			wz_log(c->w, "%.*s", (int)c->plen, c->partial);
			c->plen = 0;
			if (buf[i] == '\n')
				continue;
		}
		c->partial[c->plen++] = buf[i];
	}
}

struct wz_child *wz_child_start(struct wizard *w, char *const argv[], wz_child_done_fn done, void *ud)
{
	posix_spawn_file_actions_t fa;
	struct wz_child *c;
	int p[2], rc;
	char *shown;

	if (pipe2(p, O_CLOEXEC) != 0) {
		wz_message(w, true, "pipe: %s", strerror(errno));
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->w = w;
	c->fd = -1;
	c->done = done;
	c->ud = ud;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDERR_FILENO);
	rc = posix_spawn(&c->pid, "/proc/self/exe", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (rc != 0) {
		close(p[0]);
		wz_message(w, true, _("cannot run 'etcdwiz %s': %s"), argv[1] ? argv[1] : "", strerror(rc));
		free(c);
		return NULL;
	}
	c->fd = p[0];
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	c->io = loop_io_add(w->loop, c->fd, POLLIN, on_output, c);
	c->reap = loop_timer_add(w->loop, on_reap, c);
	shown = xstrdup("$ etcdwiz");
	for (size_t i = 1; argv[i] != NULL; i++)
		xasprintf_append(&shown, " %s", argv[i]);
	wz_log(w, "%s", shown);
	free(shown);
	return c;
}

void wz_child_stop(struct wz_child *c)
{
	if (c == NULL)
		return;
	if (c->pid > 0) {
		kill(c->pid, SIGTERM);
		waitpid(c->pid, NULL, 0);
	}
	child_free(c);
}
