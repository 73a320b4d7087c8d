/*
 * kubelet-standin: THE ETCDWIZ LAB'S STAND-IN FOR KUBELET. NOT KUBELET.
 *
 * `etcdwiz lab up` copies this program into each lab host (a systemd-nspawn
 * container) as /usr/bin/kubelet, with a kubelet.service unit, because
 * neither kubelet nor a container runtime can run there. It must never be
 * installed anywhere else; it is built into pkglibexecdir only for the lab.
 *
 * It does the one job of kubelet that an external etcd cluster relies on,
 * the static-pod job, the way kubelet does it:
 *   - reads the KubeletConfiguration named by --config (staticPodPath;
 *     --pod-manifest-path works too, as in old kubelet drop-ins);
 *   - watches staticPodPath (polling once a second), ignoring files whose
 *     names start with a dot;
 *   - runs each pod's containers' command + args as processes on the host
 *     network (hostNetwork); the image's tag picks the etcd binary from the
 *     lab's cache of Debian's etcd packages (registry.k8s.io/etcd:3.5.16-0
 *     runs LAB_ETCD_HOST_DIR/3.5.16/etcd), and a tag the cache does not
 *     have fails the container as a missing image does (ErrImagePull),
 *     never running another version instead;
 *   - runs an etcd image's container in a mount namespace of its own whose
 *     root holds only the image (etcd at IMAGE_BIN, glibc), /dev, /proc and
 *     the pod's hostPath volumes at their mountPaths (read-only where the
 *     manifest says so), so a manifest that forgets a volume fails here as
 *     under kubelet (other images, which the lab does not have, run on the
 *     host's filesystem);
 *   - writes each container's status (state, ready, reason, restarts, last
 *     exit code) to STATE_DIR/status/NS_NAME_CONTAINER, as `crictl ps` and
 *     the pod status would show it; readiness comes from the
 *     readinessProbe (after startup; failureThreshold failures make it not
 *     ready, without a restart);
 *   - restarts a container with kubelet's back-off (10 s doubling to 5 min,
 *     reset after 10 min of running) when it exits or when its startupProbe
 *     or livenessProbe fails failureThreshold times (httpGet over HTTP,
 *     tcpSocket, exec; an HTTPS httpGet only checks that the port accepts);
 *   - stops it (SIGTERM to its process group, SIGKILL after the grace
 *     period) when the manifest goes away or changes, and starts the new one.
 * Restarting the stand-in does not restart pods: it adopts the processes
 * it finds in /run/kubelet-standin when their manifest is unchanged
 * (the unit uses KillMode=process), as kubelet leaves containers running.
 * Container output goes to /var/log/pods/NS_NAME_UID/CONTAINER/N.log,
 * events to stdout (the journal).
 */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "lab/lab.h"

#define STANDIN_VERSION "Kubernetes v1.33.0 (etcdwiz lab kubelet stand-in; not kubelet)"
#define STATE_DIR "/run/kubelet-standin"
/* Where a container's own root is made (in its mount namespace only), and
 * where its image's programs are in it. */
#define POD_ROOT STATE_DIR "/pod-root"
#define IMAGE_BIN "/usr/local/bin"
#define BACKOFF_INITIAL 10.0
#define BACKOFF_MAX 300.0
#define BACKOFF_RESET 600.0
#define GRACE_DEFAULT 30

enum probe_kind { PROBE_NONE, PROBE_HTTP, PROBE_TCP, PROBE_EXEC };

struct probe {
	enum probe_kind kind;
	char host[64];
	int port;
	char path[512];
	bool https;
	char **exec_argv;
	int initial_delay, period, timeout, failure_threshold;
};

struct container {
	char *name;
	char **argv;
	char **env;
	char *workdir;
	struct probe liveness, startup, readiness;

	pid_t pid;		/* running process (group leader), 0 = none */
	bool adopted;		/* not our child: watched with kill(pid, 0) */
	int restarts;
	double started_at, next_start, backoff;
	bool startup_done;
	int failures;
	pid_t probe_pid;
	double next_probe, probe_deadline;
	/* Readiness, as kubelet reports it (no restarts): its own probe. */
	bool ready;
	int ready_failures;
	pid_t ready_pid;
	double next_ready, ready_deadline;
	bool stopping;
	double kill_at;
	bool done;		/* restartPolicy says: do not start again */
	bool failed;		/* why done */
	char *image;
	char *image_error;	/* the image cannot be had: it never starts */
	char *image_dir;	/* the cached image's files (its etcd), or NULL */
	struct vmount {
		char *host, *path;
		bool ro;
	} *mounts;		/* its volumeMounts, resolved to hostPaths */
	size_t nmounts;
	int last_exit;		/* the last run's exit code (128+signal), -1: none yet */
};

struct pod {
	char *file;		/* manifest file name in staticPodPath */
	char *content;
	uint64_t hash;
	char *name, *ns;
	char uid[17];
	int grace;
	char restart_policy[16];
	struct container *c;
	size_t nc;
	bool terminating;	/* manifest gone or changed: stop, then free */
	bool invalid;		/* could not be parsed: nothing runs */
	struct pod *next;
};

static struct pod *pods;
static const char *manifest_dir;

static char *status_path(const struct pod *p, const struct container *c, const char *suffix);
static void status_write(const struct pod *p, const struct container *c, const char *state,
			 const char *reason, const char *message);
static volatile sig_atomic_t quit;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void logf_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void *xalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (p == NULL) {
		fputs("kubelet-standin: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

static char *xdup(const char *s)
{
	char *p = xalloc(strlen(s) + 1);

	strcpy(p, s);
	return p;
}

static char *xdup_n(const char *s, size_t n)
{
	char *p = xalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (f == NULL)
		return NULL;
	do {
		if (cap - n < 4096) {
			char *nb;

			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r > 0 && n < (8u << 20));
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void mkdir_p(const char *path, mode_t mode)
{
	char *p = xdup(path);

	for (char *s = p + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			mkdir(p, mode);
			*s = '/';
		}
	}
	mkdir(p, mode);
	free(p);
}

static void strv_free(char **v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

static size_t strv_len(char **v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

static char **strv_push(char **v, const char *s)
{
	size_t n = strv_len(v);
	char **nv = realloc(v, (n + 2) * sizeof *nv);

	if (nv == NULL)
		exit(1);
	nv[n] = xdup(s);
	nv[n + 1] = NULL;
	return nv;
}

/* ---- YAML (libyaml document API) ----------------------------------------- */

static yaml_node_t *ynode(yaml_document_t *d, yaml_node_t *map, const char *key)
{
	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);

		if (k && k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

static const char *yscalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static const char *ystr(yaml_document_t *d, yaml_node_t *map, const char *key)
{
	return yscalar(ynode(d, map, key));
}

static int yint(yaml_document_t *d, yaml_node_t *map, const char *key, int def)
{
	const char *s = ystr(d, map, key);

	return s ? atoi(s) : def;
}

static char **ystrv(yaml_document_t *d, yaml_node_t *seq)
{
	char **v = NULL;

	if (seq == NULL || seq->type != YAML_SEQUENCE_NODE)
		return NULL;
	for (yaml_node_item_t *i = seq->data.sequence.items.start;
	     i < seq->data.sequence.items.top; i++) {
		const char *s = yscalar(yaml_document_get_node(d, *i));

		v = strv_push(v, s ? s : "");
	}
	return v;
}

static bool yload(const char *data, size_t len, yaml_document_t *doc)
{
	yaml_parser_t p;
	bool ok;

	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	ok = yaml_parser_load(&p, doc) != 0;
	yaml_parser_delete(&p);
	if (ok && yaml_document_get_root_node(doc) == NULL) {
		yaml_document_delete(doc);
		ok = false;
	}
	return ok;
}

/* ---- pods ---------------------------------------------------------------- */

static void parse_probe(yaml_document_t *d, yaml_node_t *n, struct probe *pr,
			yaml_node_t *container)
{
	yaml_node_t *h;

	memset(pr, 0, sizeof *pr);
	if (n == NULL)
		return;
	pr->initial_delay = yint(d, n, "initialDelaySeconds", 0);
	pr->period = yint(d, n, "periodSeconds", 10);
	pr->timeout = yint(d, n, "timeoutSeconds", 1);
	pr->failure_threshold = yint(d, n, "failureThreshold", 3);
	if (pr->period < 1)
		pr->period = 1;
	if (pr->timeout < 1)
		pr->timeout = 1;
	if (pr->failure_threshold < 1)
		pr->failure_threshold = 1;
	if ((h = ynode(d, n, "httpGet")) != NULL || (h = ynode(d, n, "tcpSocket")) != NULL) {
		const char *host = ystr(d, h, "host");
		const char *port = ystr(d, h, "port");
		const char *path = ystr(d, h, "path");
		const char *scheme = ystr(d, h, "scheme");

		pr->kind = ynode(d, n, "httpGet") ? PROBE_HTTP : PROBE_TCP;
		/* hostNetwork: the pod IP is the host; kubelet probes it. */
		snprintf(pr->host, sizeof pr->host, "%s",
			 host && strcmp(host, "localhost") != 0 ? host : "127.0.0.1");
		snprintf(pr->path, sizeof pr->path, "%s", path ? path : "/");
		pr->https = scheme && strcasecmp(scheme, "HTTPS") == 0;
		pr->port = port ? atoi(port) : 0;
		if (port && pr->port == 0) {
			/* a named port: look it up in the container's ports */
			yaml_node_t *ports = ynode(d, container, "ports");

			if (ports && ports->type == YAML_SEQUENCE_NODE)
				for (yaml_node_item_t *i = ports->data.sequence.items.start;
				     i < ports->data.sequence.items.top; i++) {
					yaml_node_t *pn = yaml_document_get_node(d, *i);
					const char *nm = ystr(d, pn, "name");

					if (nm && strcmp(nm, port) == 0)
						pr->port = yint(d, pn, "containerPort", 0);
				}
		}
		if (pr->port <= 0 || pr->port > 65535)
			pr->kind = PROBE_NONE;
	} else if ((h = ynode(d, n, "exec")) != NULL) {
		pr->exec_argv = ystrv(d, ynode(d, h, "command"));
		if (pr->exec_argv && pr->exec_argv[0])
			pr->kind = PROBE_EXEC;
	}
}

/* Another pod of p's namespace and name runs on: its manifest changed
 * (that pod's status stays), rather than went away. */
static bool replaced(const struct pod *p)
{
	for (const struct pod *q = pods; q != NULL; q = q->next)
		if (q != p && !q->terminating && !q->invalid && q->name && q->ns &&
		    strcmp(q->name, p->name) == 0 &&
		    strcmp(q->ns, p->ns) == 0)
			return true;
	return false;
}

static void pod_free(struct pod *p)
{
	for (size_t i = 0; i < p->nc; i++) {
		struct container *c = &p->c[i];

		if (p->terminating && p->name != NULL && !replaced(p)) {
			char *path = status_path(p, c, "");

			unlink(path);
			free(path);
		}
		free(c->name);
		free(c->image);
		free(c->image_error);
		free(c->image_dir);
		for (size_t k = 0; k < c->nmounts; k++) {
			free(c->mounts[k].host);
			free(c->mounts[k].path);
		}
		free(c->mounts);
		strv_free(c->argv);
		strv_free(c->env);
		free(c->workdir);
		strv_free(c->liveness.exec_argv);
		strv_free(c->startup.exec_argv);
		strv_free(c->readiness.exec_argv);
	}
	free(p->c);
	free(p->file);
	free(p->content);
	free(p->name);
	free(p->ns);
	free(p);
}

/* The hostPath volumes: created as kubelet would for *OrCreate types. */
static bool prepare_volumes(yaml_document_t *d, yaml_node_t *spec, const char *pod)
{
	yaml_node_t *vols = ynode(d, spec, "volumes");
	bool ok = true;

	if (vols == NULL || vols->type != YAML_SEQUENCE_NODE)
		return true;
	for (yaml_node_item_t *i = vols->data.sequence.items.start;
	     i < vols->data.sequence.items.top; i++) {
		yaml_node_t *v = yaml_document_get_node(d, *i);
		yaml_node_t *hp = ynode(d, v, "hostPath");
		const char *path = ystr(d, hp, "path");
		const char *type = ystr(d, hp, "type");
		struct stat st;

		if (path == NULL)
			continue;
		if (type && strcmp(type, "DirectoryOrCreate") == 0) {
			mkdir_p(path, 0755);
		} else if (type && strcmp(type, "FileOrCreate") == 0) {
			int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

			if (fd >= 0)
				close(fd);
		} else if (type && (strcmp(type, "Directory") == 0 || strcmp(type, "File") == 0) &&
			   stat(path, &st) != 0) {
			logf_("pod %s: hostPath %s (type %s) does not exist", pod, path, type);
			ok = false;
		}
	}
	return ok;
}

/* The container's volumeMounts as host path -> mountPath pairs (a
 * container without an image of the lab runs on the host's filesystem,
 * which is said when a mountPath differs from its hostPath). */
static void resolve_mounts(yaml_document_t *d, yaml_node_t *spec, yaml_node_t *cn,
			   struct container *c, const char *pod)
{
	yaml_node_t *vols = ynode(d, spec, "volumes");
	yaml_node_t *mounts = ynode(d, cn, "volumeMounts");

	if (mounts == NULL || mounts->type != YAML_SEQUENCE_NODE || vols == NULL ||
	    vols->type != YAML_SEQUENCE_NODE)
		return;
	for (yaml_node_item_t *i = mounts->data.sequence.items.start;
	     i < mounts->data.sequence.items.top; i++) {
		yaml_node_t *m = yaml_document_get_node(d, *i);
		const char *name = ystr(d, m, "name"), *mp = ystr(d, m, "mountPath");
		const char *ro = ystr(d, m, "readOnly");

		for (yaml_node_item_t *j = vols->data.sequence.items.start;
		     name && mp && mp[0] == '/' && j < vols->data.sequence.items.top; j++) {
			yaml_node_t *v = yaml_document_get_node(d, *j);
			const char *vn = ystr(d, v, "name");
			const char *hp = ystr(d, ynode(d, v, "hostPath"), "path");

			if (vn && hp && strcmp(vn, name) == 0 && strcmp(hp, mp) != 0 &&
			    c->image_dir == NULL)
				logf_("pod %s: volume %s: mountPath %s differs from hostPath %s; "
				      "without an image of the lab the process runs on the host's "
				      "filesystem and sees the host's %s", pod, name, mp, hp, mp);
			if (vn && hp && strcmp(vn, name) == 0) {
				c->mounts = realloc(c->mounts, (c->nmounts + 1) * sizeof *c->mounts);
				if (c->mounts == NULL) {
					fputs("kubelet-standin: out of memory\n", stderr);
					exit(1);
				}
				c->mounts[c->nmounts].host = xdup(hp);
				c->mounts[c->nmounts].path = xdup(mp);
				c->mounts[c->nmounts].ro = ro && strcmp(ro, "true") == 0;
				c->nmounts++;
				break;
			}
		}
	}
}

/* The version an image's tag names: "registry.k8s.io/etcd:3.5.16-0" ->
 * "3.5.16" (kubeadm's tags add "-N"), or NULL without a tag. */
static char *image_version(const char *image)
{
	const char *slash = strrchr(image, '/');
	const char *colon = strrchr(slash ? slash : image, ':');
	const char *v;
	size_t n;

	if (colon == NULL || colon[1] == '\0')
		return NULL;
	v = colon[1] == 'v' ? colon + 2 : colon + 1;
	n = strcspn(v, "-@");
	if (n == 0 || strspn(v, "0123456789.") != n || v[0] == '.')
		return NULL;
	return xdup_n(v, n);
}

/* The cached binary for image's version, or NULL when the lab has none. */
static char *image_binary(const char *image, const char *program)
{
	char *v = image_version(image);
	char *path = NULL;
	struct stat st;

	if (v != NULL) {
		path = xalloc(strlen(LAB_ETCD_HOST_DIR) + strlen(v) + strlen(program) + 3);
		sprintf(path, "%s/%s/%s", LAB_ETCD_HOST_DIR, v, program);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || access(path, X_OK) != 0) {
			free(path);
			path = NULL;
		}
	}
	free(v);
	return path;
}

static char *image_missing(const char *image)
{
	const char *fmt = "Failed to pull image \"%s\": not in the lab's etcd cache (%s has "
			  "the versions `etcdwiz lab up` fetched from Debian's packages): ErrImagePull";
	char *msg = xalloc(strlen(fmt) + strlen(image) + strlen(LAB_ETCD_HOST_DIR) + 1);

	sprintf(msg, fmt, image, LAB_ETCD_HOST_DIR);
	return msg;
}

static struct pod *pod_parse(const char *file, char *content, size_t len)
{
	struct pod *p = xalloc(sizeof *p);
	yaml_document_t d;
	yaml_node_t *root, *meta, *spec, *cs;
	const char *kind;

	p->file = xdup(file);
	p->content = content;
	p->hash = fnv1a(content, len);
	snprintf(p->uid, sizeof p->uid, "%016llx", (unsigned long long)p->hash);
	p->grace = GRACE_DEFAULT;
	snprintf(p->restart_policy, sizeof p->restart_policy, "Always");
	if (!yload(content, len, &d)) {
		logf_("static pod %s: not valid YAML; ignored until it changes", file);
		p->invalid = true;
		return p;
	}
	root = yaml_document_get_root_node(&d);
	kind = ystr(&d, root, "kind");
	meta = ynode(&d, root, "metadata");
	spec = ynode(&d, root, "spec");
	cs = ynode(&d, spec, "containers");
	if (kind == NULL || strcmp(kind, "Pod") != 0 || ystr(&d, meta, "name") == NULL ||
	    cs == NULL || cs->type != YAML_SEQUENCE_NODE) {
		logf_("static pod %s: not a Pod with metadata.name and spec.containers; ignored",
		      file);
		p->invalid = true;
		goto out;
	}
	p->name = xdup(ystr(&d, meta, "name"));
	p->ns = xdup(ystr(&d, meta, "namespace") ? ystr(&d, meta, "namespace") : "default");
	p->grace = yint(&d, spec, "terminationGracePeriodSeconds", GRACE_DEFAULT);
	if (p->grace < 1 || p->grace > GRACE_DEFAULT)
		p->grace = p->grace < 1 ? 1 : GRACE_DEFAULT;
	if (ystr(&d, spec, "restartPolicy"))
		snprintf(p->restart_policy, sizeof p->restart_policy, "%s",
			 ystr(&d, spec, "restartPolicy"));
	if (ystr(&d, spec, "hostNetwork") == NULL ||
	    strcmp(ystr(&d, spec, "hostNetwork"), "true") != 0)
		logf_("pod %s: no hostNetwork: true; the stand-in runs it on the host network anyway",
		      p->name);
	if (!prepare_volumes(&d, spec, p->name)) {
		p->invalid = true;
		goto out;
	}
	p->nc = (size_t)(cs->data.sequence.items.top - cs->data.sequence.items.start);
	p->c = xalloc(p->nc * sizeof *p->c);
	for (size_t i = 0; i < p->nc; i++) {
		yaml_node_t *cn = yaml_document_get_node(&d, cs->data.sequence.items.start[i]);
		struct container *c = &p->c[i];
		char **cmd = ystrv(&d, ynode(&d, cn, "command"));
		char **args = ystrv(&d, ynode(&d, cn, "args"));
		yaml_node_t *env = ynode(&d, cn, "env");

		c->name = xdup(ystr(&d, cn, "name") ? ystr(&d, cn, "name") : "main");
		c->image = xdup(ystr(&d, cn, "image") ? ystr(&d, cn, "image") : "");
		c->last_exit = -1;
		for (size_t k = 0; cmd && cmd[k]; k++) {
			char *bin = NULL;

			if (k == 0 && strcmp(cmd[k], "etcd") == 0 &&
			    (bin = image_binary(c->image, cmd[k])) == NULL)
				c->image_error = image_missing(c->image);
			if (bin != NULL) {
				/* The image's files, bound at IMAGE_BIN in its root. */
				c->image_dir = xdup_n(bin, (size_t)(strrchr(bin, '/') - bin));
				free(bin);
				bin = xalloc(strlen(IMAGE_BIN) + strlen(cmd[k]) + 2);
				sprintf(bin, "%s/%s", IMAGE_BIN, cmd[k]);
			}
			c->argv = strv_push(c->argv, bin ? bin : cmd[k]);
			free(bin);
		}
		for (size_t k = 0; args && args[k]; k++)
			c->argv = strv_push(c->argv, args[k]);
		strv_free(cmd);
		strv_free(args);
		if (c->argv == NULL) {
			logf_("pod %s: container %s has no command: the stand-in has no images "
			      "to take an entrypoint from; it will not run", p->name, c->name);
			c->done = c->failed = true;
		}
		if (c->image_error != NULL) {
			logf_("pod %s/%s: container %s: %s", p->ns, p->name, c->name, c->image_error);
			c->done = c->failed = true;
			status_write(p, c, "waiting", "ErrImagePull", c->image_error);
		}
		if (env && env->type == YAML_SEQUENCE_NODE)
			for (yaml_node_item_t *e = env->data.sequence.items.start;
			     e < env->data.sequence.items.top; e++) {
				yaml_node_t *en = yaml_document_get_node(&d, *e);
				const char *k = ystr(&d, en, "name"), *v = ystr(&d, en, "value");

				if (k) {
					char *kv = xalloc(strlen(k) + (v ? strlen(v) : 0) + 2);

					sprintf(kv, "%s=%s", k, v ? v : "");
					c->env = strv_push(c->env, kv);
					free(kv);
				}
			}
		if (ystr(&d, cn, "workingDir"))
			c->workdir = xdup(ystr(&d, cn, "workingDir"));
		parse_probe(&d, ynode(&d, cn, "livenessProbe"), &c->liveness, cn);
		parse_probe(&d, ynode(&d, cn, "startupProbe"), &c->startup, cn);
		parse_probe(&d, ynode(&d, cn, "readinessProbe"), &c->readiness, cn);
		c->startup_done = c->startup.kind == PROBE_NONE;
		c->backoff = BACKOFF_INITIAL;
		resolve_mounts(&d, spec, cn, c, p->name);
	}
out:
	yaml_document_delete(&d);
	return p;
}

/* ---- processes ----------------------------------------------------------- */

/* A bind mount of from at root+to (made first: a directory, or an empty
 * file for a file), read-only when asked. */
static bool bind_into(const char *root, const char *from, const char *to, bool ro)
{
	char *at = xalloc(strlen(root) + strlen(to) + 1);
	struct stat st;
	bool ok = false;

	sprintf(at, "%s%s", root, to);
	if (stat(from, &st) != 0) {
		fprintf(stderr, "kubelet-standin: volume %s: %s\n", from, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		mkdir_p(at, 0755);
	} else {
		char *dir = xdup(at);
		int fd;

		*strrchr(dir, '/') = '\0';
		mkdir_p(dir, 0755);
		free(dir);
		if ((fd = open(at, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) >= 0)
			close(fd);
	}
	if (mount(from, at, NULL, MS_BIND | MS_REC, NULL) != 0 ||
	    (ro && mount(NULL, at, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) != 0)) {
		fprintf(stderr, "kubelet-standin: mount %s at %s: %s\n", from, to, strerror(errno));
		goto out;
	}
	ok = true;
out:
	free(at);
	return ok;
}

/* In the child, before exec: the container sees what a container of its
 * image would, in a mount namespace of its own: a fresh root holding the
 * image (its etcd at IMAGE_BIN, and the C library it is linked with: the
 * lab's "image" is Debian's etcd, which needs glibc, as distroless/base
 * provides), /dev, /proc, and exactly its volumeMounts at their
 * mountPaths. A mount the manifest forgets is missing here, as under a
 * real kubelet. The network is the host's (hostNetwork). */
static bool enter_pod_root(const struct container *c)
{
	/* The C library and its loader, wherever the architecture keeps them. */
	static const char *const image_libs[] = { "/usr/lib", "/usr/lib64", NULL };
	const char *root = POD_ROOT;
	char path[4096];

	mkdir_p(root, 0755);
	if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("tmpfs", root, "tmpfs", MS_NOSUID, "mode=0755") != 0) {
		fprintf(stderr, "kubelet-standin: cannot make the pod's root: %s\n", strerror(errno));
		return false;
	}
	if (!bind_into(root, c->image_dir, IMAGE_BIN, true))
		return false;
	for (size_t i = 0; image_libs[i]; i++)
		if (access(image_libs[i], F_OK) == 0 && !bind_into(root, image_libs[i], image_libs[i], true))
			return false;
	snprintf(path, sizeof path, "%s/lib", root);
	if (symlink("usr/lib", path) != 0) {
		fprintf(stderr, "kubelet-standin: %s: %s\n", path, strerror(errno));
		return false;
	}
	snprintf(path, sizeof path, "%s/lib64", root);
	if (symlink("usr/lib64", path) != 0) {
		fprintf(stderr, "kubelet-standin: %s: %s\n", path, strerror(errno));
		return false;
	}
	snprintf(path, sizeof path, "%s/tmp", root);
	mkdir_p(path, 0755);
	chmod(path, 01777);
	if (!bind_into(root, "/dev", "/dev", false))
		return false;
	snprintf(path, sizeof path, "%s/proc", root);
	mkdir_p(path, 0555);
	if (mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) {
		fprintf(stderr, "kubelet-standin: mount /proc: %s\n", strerror(errno));
		return false;
	}
	for (size_t i = 0; i < c->nmounts; i++)
		if (!bind_into(root, c->mounts[i].host, c->mounts[i].path, c->mounts[i].ro))
			return false;
	if (chdir(root) != 0 || chroot(".") != 0 || chdir("/") != 0) {
		fprintf(stderr, "kubelet-standin: cannot enter the pod's root: %s\n", strerror(errno));
		return false;
	}
	return true;
}

static void close_fds(void)
{
	long max = sysconf(_SC_OPEN_MAX);

	for (long fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
		close((int)fd);
}

static char *state_path(const struct pod *p, const struct container *c)
{
	char *s = xalloc(strlen(STATE_DIR) + strlen(p->file) + strlen(c->name) + 8);

	sprintf(s, "%s/%s..%s", STATE_DIR, p->file, c->name);
	return s;
}

static void state_write(const struct pod *p, const struct container *c)
{
	char *path = state_path(p, c);
	FILE *f;

	mkdir_p(STATE_DIR, 0755);
	f = fopen(path, "we");
	if (f) {
		fprintf(f, "%d %016llx %d\n", (int)c->pid, (unsigned long long)p->hash, c->restarts);
		fclose(f);
	}
	free(path);
}

static void state_clear(const struct pod *p, const struct container *c)
{
	char *path = state_path(p, c);

	unlink(path);
	free(path);
}

static char *status_path(const struct pod *p, const struct container *c, const char *suffix)
{
	char *path = xalloc(strlen(STATE_DIR) + strlen(p->ns) + strlen(p->name) + strlen(c->name) +
			    strlen(suffix) + 16);

	sprintf(path, "%s/status/%s_%s_%s%s", STATE_DIR, p->ns, p->name, c->name, suffix);
	return path;
}

/* What kubelet's pod status and `crictl ps` say of a container. */
static void status_write(const struct pod *p, const struct container *c, const char *state,
			 const char *reason, const char *message)
{
	char *path = status_path(p, c, "");
	char *tmp = status_path(p, c, ".tmp");
	FILE *f;

	mkdir_p(STATE_DIR "/status", 0755);
	f = fopen(tmp, "we");
	if (f) {
		fprintf(f, "state=%s\nready=%s\nreason=%s\nrestarts=%d\nlast_exit=%d\nimage=%s\nmessage=%s\n",
			state, c->ready && strcmp(state, "running") == 0 ? "true" : "false",
			reason ? reason : "", c->restarts, c->last_exit,
			c->image ? c->image : "", message ? message : "");
		if (fclose(f) == 0)
			rename(tmp, path);
	}
	unlink(tmp);
	free(tmp);
	free(path);
}

static void container_start(struct pod *p, struct container *c)
{
	char logdir[1024], logfile[1100];
	pid_t pid;

	snprintf(logdir, sizeof logdir, "/var/log/pods/%s_%s_%s/%s", p->ns, p->name, p->uid,
		 c->name);
	mkdir_p(logdir, 0755);
	snprintf(logfile, sizeof logfile, "%s/%d.log", logdir, c->restarts);
	pid = fork();
	if (pid < 0) {
		logf_("pod %s: container %s: fork: %s", p->name, c->name, strerror(errno));
		c->next_start = now() + c->backoff;
		return;
	}
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int out = open(logfile, O_WRONLY | O_CREAT | O_APPEND, 0640);

		setsid();
		signal(SIGPIPE, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		if (in >= 0)
			dup2(in, 0);
		if (out >= 0) {
			dup2(out, 1);
			dup2(out, 2);
		}
		close_fds();
		if (c->image_dir != NULL && !enter_pod_root(c))
			_exit(126);
		clearenv();
		setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
		setenv("HOME", "/root", 1);
		{
			char host[256] = "";

			gethostname(host, sizeof host - 1);
			setenv("HOSTNAME", host, 1);
		}
		for (size_t i = 0; c->env && c->env[i]; i++)
			putenv(c->env[i]);
		if (chdir(c->workdir ? c->workdir : "/") != 0)
			fprintf(stderr, "kubelet-standin: chdir %s: %s\n", c->workdir, strerror(errno));
		execvp(c->argv[0], c->argv);
		fprintf(stderr, "kubelet-standin: cannot run %s: %s\n", c->argv[0], strerror(errno));
		_exit(127);
	}
	c->pid = pid;
	c->adopted = false;
	c->started_at = now();
	c->failures = 0;
	c->startup_done = c->startup.kind == PROBE_NONE;
	c->next_probe = c->started_at +
			(c->startup_done ? c->liveness.initial_delay : c->startup.initial_delay);
	c->stopping = false;
	c->ready = false;
	c->ready_failures = 0;
	c->next_ready = c->started_at + c->readiness.initial_delay;
	state_write(p, c);
	status_write(p, c, "running", "", "");
	logf_("pod %s/%s (%s): started container %s, pid %d, restart %d, log %s", p->ns,
	      p->name, p->file, c->name, (int)pid, c->restarts, logfile);
}

static void container_stop(struct pod *p, struct container *c, const char *why)
{
	if (c->pid <= 0 || c->stopping)
		return;
	logf_("pod %s/%s: stopping container %s (pid %d): %s", p->ns, p->name, c->name,
	      (int)c->pid, why);
	kill(-c->pid, SIGTERM);
	kill(c->pid, SIGTERM);
	c->stopping = true;
	c->kill_at = now() + p->grace;
}

static void container_exited(struct pod *p, struct container *c, int status)
{
	bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	double ran = now() - c->started_at;

	if (WIFEXITED(status))
		logf_("pod %s/%s: container %s (pid %d) exited with status %d after %.0f s",
		      p->ns, p->name, c->name, (int)c->pid, WEXITSTATUS(status), ran);
	else if (WIFSIGNALED(status))
		logf_("pod %s/%s: container %s (pid %d) killed by signal %d after %.0f s",
		      p->ns, p->name, c->name, (int)c->pid, WTERMSIG(status), ran);
	else
		logf_("pod %s/%s: container %s (pid %d) is gone", p->ns, p->name, c->name,
		      (int)c->pid);
	/* the rest of its process group goes with it, as with a container */
	kill(-c->pid, SIGKILL);
	c->pid = 0;
	c->stopping = false;
	if (c->probe_pid > 0) {
		kill(c->probe_pid, SIGKILL);
	}
	if (c->ready_pid > 0)
		kill(c->ready_pid, SIGKILL);
	c->ready = false;
	state_clear(p, c);
	c->last_exit = WIFEXITED(status) ? WEXITSTATUS(status)
				       : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
	if (p->terminating)
		return;
	if (strcmp(p->restart_policy, "Never") == 0 ||
	    (strcmp(p->restart_policy, "OnFailure") == 0 && ok)) {
		c->done = true;
		status_write(p, c, "terminated", ok ? "Completed" : "Error", "");
		return;
	}
	if (ran >= BACKOFF_RESET)
		c->backoff = BACKOFF_INITIAL;
	c->next_start = now() + c->backoff;
	logf_("pod %s/%s: back-off %.0f s before restarting container %s", p->ns, p->name,
	      c->backoff, c->name);
	c->backoff = c->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : c->backoff * 2;
	c->restarts++;
	status_write(p, c, "waiting", "CrashLoopBackOff", ok ? "exited 0" : "exited with an error");
}

/* ---- probes (each one a short-lived child, so nothing here blocks) ------- */

static int probe_connect(const struct probe *pr)
{
	struct sockaddr_in sa;
	int fd;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)pr->port);
	if (inet_pton(AF_INET, pr->host, &sa.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		return -1;
	return fd;
}

static void probe_child(const struct probe *pr)
{
	char req[1024], resp[64];
	size_t got = 0;
	int fd, code;

	alarm((unsigned)pr->timeout);
	if (pr->kind == PROBE_EXEC) {
		int devnull = open("/dev/null", O_RDWR);

		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		close_fds();
		execvp(pr->exec_argv[0], pr->exec_argv);
		_exit(1);
	}
	fd = probe_connect(pr);
	if (fd < 0)
		_exit(1);
	if (pr->kind == PROBE_TCP || pr->https)
		_exit(0);
	snprintf(req, sizeof req,
		 "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: kube-probe/1.33\r\n"
		 "Accept: */*\r\nConnection: close\r\n\r\n", pr->path, pr->host, pr->port);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		_exit(1);
	while (got < sizeof resp - 1) {
		ssize_t r = read(fd, resp + got, sizeof resp - 1 - got);

		if (r <= 0)
			break;
		got += (size_t)r;
		if (memchr(resp, '\n', got))
			break;
	}
	resp[got] = '\0';
	if (sscanf(resp, "HTTP/%*s %d", &code) != 1)
		_exit(1);
	_exit(code >= 200 && code < 400 ? 0 : 1);
}

static void probe_start(struct container *c)
{
	const struct probe *pr = c->startup_done ? &c->liveness : &c->startup;
	pid_t pid;

	if (pr->kind == PROBE_NONE)
		return;
	pid = fork();
	if (pid == 0) {
		signal(SIGALRM, SIG_DFL);
		probe_child(pr);
		_exit(1);
	}
	if (pid > 0) {
		c->probe_pid = pid;
		c->probe_deadline = now() + pr->timeout + 1;
	}
	c->next_probe = now() + pr->period;
}

static void probe_result(struct pod *p, struct container *c, bool ok)
{
	const struct probe *pr = c->startup_done ? &c->liveness : &c->startup;
	const char *what = c->startup_done ? "Liveness" : "Startup";

	c->probe_pid = 0;
	if (c->pid <= 0 || c->stopping)
		return;
	if (ok) {
		if (!c->startup_done) {
			c->startup_done = true;
			c->next_probe = now() + c->liveness.initial_delay;
			logf_("pod %s/%s: container %s passed its startup probe", p->ns, p->name,
			      c->name);
		}
		c->failures = 0;
		return;
	}
	c->failures++;
	logf_("pod %s/%s: %s probe of %s failed (%d of %d)", p->ns, p->name, what, c->name,
	      c->failures, pr->failure_threshold);
	if (c->failures >= pr->failure_threshold)
		container_stop(p, c, c->startup_done ? "liveness probe failed, will be restarted"
						     : "startup probe failed, will be restarted");
}

/* Ready: after startup, when the readiness probe (if any) passes; not
 * ready after failureThreshold failures. Only the status changes. */
static void ready_set(struct pod *p, struct container *c, bool ready)
{
	if (c->ready == ready)
		return;
	c->ready = ready;
	logf_("pod %s/%s: container %s is %s", p->ns, p->name, c->name, ready ? "ready" : "not ready");
	status_write(p, c, "running", ready ? "" : "NotReady", "");
}

static void readiness_start(struct pod *p, struct container *c)
{
	pid_t pid;

	if (c->readiness.kind == PROBE_NONE) {
		ready_set(p, c, true);
		return;
	}
	pid = fork();
	if (pid == 0) {
		signal(SIGALRM, SIG_DFL);
		probe_child(&c->readiness);
		_exit(1);
	}
	if (pid > 0) {
		c->ready_pid = pid;
		c->ready_deadline = now() + c->readiness.timeout + 1;
	}
	c->next_ready = now() + c->readiness.period;
}

static void readiness_result(struct pod *p, struct container *c, bool ok)
{
	c->ready_pid = 0;
	if (c->pid <= 0 || c->stopping)
		return;
	if (ok) {
		c->ready_failures = 0;
		ready_set(p, c, true);
	} else if (++c->ready_failures >= c->readiness.failure_threshold) {
		ready_set(p, c, false);
	}
}

/* ---- the loop ------------------------------------------------------------ */

static bool other_pod_running(const struct pod *self)
{
	for (const struct pod *p = pods; p; p = p->next) {
		if (p == self || strcmp(p->file, self->file) != 0)
			continue;
		for (size_t i = 0; i < p->nc; i++)
			if (p->c[i].pid > 0)
				return true;
	}
	return false;
}

/* A process left by an earlier stand-in for this very manifest? */
static void adopt(struct pod *p, struct container *c)
{
	char *path = state_path(p, c);
	FILE *f = fopen(path, "re");
	unsigned long long hash = 0;
	int pid = 0, restarts = 0;

	if (f && fscanf(f, "%d %llx %d", &pid, &hash, &restarts) == 3 && pid > 1 &&
	    hash == p->hash && kill(pid, 0) == 0) {
		c->pid = pid;
		c->adopted = true;
		c->restarts = restarts;
		c->started_at = now();
		c->startup_done = true;
		c->next_probe = now() + c->liveness.period;
		logf_("pod %s/%s: adopted running container %s (pid %d)", p->ns, p->name,
		      c->name, pid);
		status_write(p, c, "running", "", "");
	}
	if (f)
		fclose(f);
	free(path);
}

/* After the first scan: processes recorded by an earlier stand-in whose
 * manifest is gone or changed are stopped, as kubelet would on start. */
static void stop_stale(void)
{
	DIR *d = opendir(STATE_DIR);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		FILE *f;
		int pid = 0;
		bool kept = false;

		if (e->d_name[0] == '.' || e->d_type == DT_DIR)
			continue;
		snprintf(path, sizeof path, "%s/%s", STATE_DIR, e->d_name);
		f = fopen(path, "re");
		if (f == NULL)
			continue;
		if (fscanf(f, "%d", &pid) != 1)
			pid = 0;
		fclose(f);
		for (struct pod *p = pods; p && !kept; p = p->next)
			for (size_t i = 0; i < p->nc; i++)
				if (p->c[i].adopted && p->c[i].pid == pid)
					kept = true;
		if (kept)
			continue;
		if (pid > 1 && kill(pid, 0) == 0) {
			logf_("stopping pid %d left by an earlier stand-in for a manifest that "
			      "is gone or changed", pid);
			kill(-pid, SIGTERM);
		}
		unlink(path);
	}
	closedir(d);
}

static void scan_manifests(bool first)
{
	DIR *d = opendir(manifest_dir);
	struct dirent *e;

	if (d == NULL) {
		for (struct pod *p = pods; p; p = p->next)
			p->terminating = true;
		return;
	}
	/* which live pods still have their file? */
	{
		struct pod *seen_list[1024];
		size_t nseen = 0;

		while ((e = readdir(d)) != NULL && nseen < 1024) {
			char path[4096];
			struct stat st;
			char *content;
			size_t len;
			uint64_t h;
			struct pod *cur = NULL;

			if (e->d_name[0] == '.')	/* as kubelet: hidden files are ignored */
				continue;
			snprintf(path, sizeof path, "%s/%s", manifest_dir, e->d_name);
			if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
				continue;
			content = read_all(path, &len);
			if (content == NULL)
				continue;
			h = fnv1a(content, len);
			for (struct pod *p = pods; p; p = p->next)
				if (!p->terminating && strcmp(p->file, e->d_name) == 0)
					cur = p;
			if (cur && cur->hash == h) {
				free(content);
				seen_list[nseen++] = cur;
				continue;
			}
			if (cur) {
				logf_("static pod %s changed: replacing pod %s", e->d_name,
				      cur->name ? cur->name : "?");
				cur->terminating = true;
			} else {
				logf_("static pod %s found", e->d_name);
			}
			cur = pod_parse(e->d_name, content, len);
			if (first)
				for (size_t i = 0; i < cur->nc; i++)
					adopt(cur, &cur->c[i]);
			cur->next = pods;
			pods = cur;
			seen_list[nseen++] = cur;
		}
		closedir(d);
		for (struct pod *p = pods; p; p = p->next) {
			bool seen = false;

			for (size_t i = 0; i < nseen && !seen; i++)
				seen = seen_list[i] == p;
			if (!seen && !p->terminating) {
				logf_("static pod %s removed: stopping pod %s", p->file,
				      p->name ? p->name : "?");
				p->terminating = true;
			}
		}
	}
}

static void reap(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (struct pod *p = pods; p; p = p->next)
			for (size_t i = 0; i < p->nc; i++) {
				struct container *c = &p->c[i];

				if (c->pid == pid)
					container_exited(p, c, status);
				else if (c->probe_pid == pid)
					probe_result(p, c, WIFEXITED(status) && WEXITSTATUS(status) == 0);
				else if (c->ready_pid == pid)
					readiness_result(p, c, WIFEXITED(status) && WEXITSTATUS(status) == 0);
			}
	}
	/* adopted processes are not our children: poll them */
	for (struct pod *p = pods; p; p = p->next)
		for (size_t i = 0; i < p->nc; i++) {
			struct container *c = &p->c[i];

			if (c->pid > 0 && c->adopted && kill(c->pid, 0) != 0)
				container_exited(p, c, 0xff00);
		}
}

static void tick(void)
{
	double t = now();
	struct pod **pp = &pods;

	while (*pp) {
		struct pod *p = *pp;
		bool alive = false;

		for (size_t i = 0; i < p->nc; i++) {
			struct container *c = &p->c[i];

			if (p->terminating) {
				container_stop(p, c, "static pod manifest removed or changed");
			} else if (c->pid <= 0 && !c->done && !p->invalid && t >= c->next_start &&
				   !other_pod_running(p)) {
				container_start(p, c);
			} else if (c->pid > 0 && !c->stopping && c->probe_pid == 0 &&
				   t >= c->next_probe) {
				probe_start(c);
			}
			if (c->pid > 0 && !c->stopping && c->startup_done && c->ready_pid == 0 &&
			    t >= c->next_ready)
				readiness_start(p, c);
			if (c->probe_pid > 0 && t > c->probe_deadline)
				kill(c->probe_pid, SIGKILL);
			if (c->ready_pid > 0 && t > c->ready_deadline)
				kill(c->ready_pid, SIGKILL);
			if (c->pid > 0 && c->stopping && t >= c->kill_at) {
				logf_("pod %s/%s: container %s did not stop in %d s: SIGKILL", p->ns,
				      p->name, c->name, p->grace);
				kill(-c->pid, SIGKILL);
				kill(c->pid, SIGKILL);
				c->kill_at = t + 5;
			}
			if (c->pid > 0 || c->probe_pid > 0 || c->ready_pid > 0)
				alive = true;
		}
		if (p->terminating && !alive) {
			if (p->name)
				logf_("pod %s/%s (%s) stopped", p->ns, p->name, p->file);
			*pp = p->next;
			pod_free(p);
			continue;
		}
		pp = &p->next;
	}
}

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static char *config_static_pod_path(const char *config)
{
	size_t len;
	char *data = read_all(config, &len);
	yaml_document_t d;
	yaml_node_t *root;
	const char *kind, *spp;
	char *out = NULL;

	if (data == NULL) {
		fprintf(stderr, "kubelet-standin: cannot read --config %s: %s\n", config,
			strerror(errno));
		return NULL;
	}
	if (!yload(data, len, &d)) {
		fprintf(stderr, "kubelet-standin: %s: not valid YAML\n", config);
		free(data);
		return NULL;
	}
	root = yaml_document_get_root_node(&d);
	kind = ystr(&d, root, "kind");
	spp = ystr(&d, root, "staticPodPath");
	if (kind == NULL || strcmp(kind, "KubeletConfiguration") != 0)
		fprintf(stderr, "kubelet-standin: %s: kind is not KubeletConfiguration\n", config);
	else if (spp == NULL || spp[0] != '/')
		fprintf(stderr, "kubelet-standin: %s: no absolute staticPodPath\n", config);
	else
		out = xdup(spp);
	yaml_document_delete(&d);
	free(data);
	return out;
}

int main(int argc, char **argv)
{
	const char *config = NULL;
	char *spp = NULL;
	bool first = true;
	double next_scan = 0;
	struct sigaction sa;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--version") == 0 || strcmp(a, "version") == 0) {
			puts(STANDIN_VERSION);
			return 0;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			puts("kubelet-standin: the etcdwiz lab's stand-in for kubelet's static-pod job.\n"
			     "NOT kubelet. Usage: kubelet --config=FILE | --pod-manifest-path=DIR\n"
			     "Other kubelet flags are accepted and ignored.");
			return 0;
		}
		if (strncmp(a, "--config=", 9) == 0)
			config = a + 9;
		else if (strcmp(a, "--config") == 0 && i + 1 < argc)
			config = argv[++i];
		else if (strncmp(a, "--pod-manifest-path=", 20) == 0)
			spp = xdup(a + 20);
		else
			printf("kubelet-standin: ignoring flag %s\n", a);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("kubelet-standin: %s\n", STANDIN_VERSION);
	if (config) {
		free(spp);
		spp = config_static_pod_path(config);
		if (spp == NULL)
			return 1;
	}
	if (spp == NULL) {
		fprintf(stderr, "kubelet-standin: no --config with a staticPodPath (and no "
				"--pod-manifest-path): nothing to run. As with kubelet, add a "
				"kubelet.service.d drop-in.\n");
		return 1;
	}
	manifest_dir = spp;
	logf_("kubelet-standin: watching static pods in %s (config %s)", spp,
	      config ? config : "-");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	mkdir_p(STATE_DIR, 0755);

	while (!quit) {
		if (now() >= next_scan) {
			scan_manifests(first);
			if (first)
				stop_stale();
			first = false;
			next_scan = now() + 1.0;
		}
		reap();
		tick();
		usleep(200 * 1000);
	}
	/* Like kubelet: stopping the agent leaves the pods running. */
	logf_("kubelet-standin: stopping; pods keep running and are adopted on restart");
	return 0;
}
