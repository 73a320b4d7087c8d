/* sh_quote / sh_join: every value must come back verbatim from a real
 * POSIX shell, also through a second `sh -c` layer (as remote commands run:
 * login shell -> sh -c). */
#include "config.h"

#include "tests/unit.h"

#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/shquote.h"
#include "base/xmalloc.h"

static const char *const torture[] = {
	"plain", "with space", "  leading and trailing  ", "it's", "'", "''",
	"\"double\"", "$(touch /tmp/etcdwiz-shquote-pwned)",
	"`touch /tmp/etcdwiz-shquote-pwned`", "${HOME}", "$HOME", "$", "*",
	"*.c", "?", "[a-z]", "~", "~root", "a;b", "a&&b", "a|b", "a>b", "<",
	"new\nline", "\n", "tab\there", "back\\slash", "\\", "!bang", "#hash",
	"-n", "--", "a=b", "%s%d", "if", "then", "{", "}", "(", ")", "",
	"\xc3\xa9t\xc3\xa9 unicode", "glob[!x]", "semi;colon", "a'b'c\"d\"e",
	NULL,
};

/* Run /bin/sh -c script, return its stdout (caller frees) and status. */
static char *run_sh(const char *script, int *status)
{
	int fds[2];
	pid_t pid;
	char *out = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	char buf[4096];

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], buf, sizeof buf)) > 0) {
		if (len + (size_t)n + 1 > cap) {
			cap = (len + (size_t)n + 1) * 2;
			out = xreallocarray(out, cap, 1);
		}
		memcpy(out + len, buf, (size_t)n);
		len += (size_t)n;
	}
	close(fds[0]);
	waitpid(pid, status, 0);
	if (out == NULL)
		out = xstrdup("");
	else
		out[len] = '\0';
	return out;
}

static char *expected_output(void)
{
	size_t len = 1;
	char *exp, *p;

	for (size_t i = 0; torture[i] != NULL; i++)
		len += strlen(torture[i]) + 3;
	exp = p = xmalloc(len);
	for (size_t i = 0; torture[i] != NULL; i++)
		p += sprintf(p, "[%s]\n", torture[i]);
	*p = '\0';
	return exp;
}

static const char **printf_argv(void)
{
	size_t n = 0;
	const char **av;

	while (torture[n] != NULL)
		n++;
	av = xcalloc(n + 3, sizeof *av);
	av[0] = "printf";
	av[1] = "[%s]\\n";
	for (size_t i = 0; i < n; i++)
		av[i + 2] = torture[i];
	return av;
}

static void test_simple_words(void **state)
{
	char *q;

	(void)state;
	q = sh_quote("abc-1.2/x_y:z@h,%+");
	assert_string_equal(q, "abc-1.2/x_y:z@h,%+");
	free(q);
	q = sh_quote("");
	assert_string_equal(q, "''");
	free(q);
	q = sh_quote("it's");
	assert_string_equal(q, "'it'\\''s'");
	free(q);
	q = sh_quote("a b");
	assert_string_equal(q, "'a b'");
	free(q);
	/* reserved words, assignments and tildes are never left bare */
	q = sh_quote("if");
	assert_string_equal(q, "'if'");
	free(q);
	q = sh_quote("A=1");
	assert_string_equal(q, "'A=1'");
	free(q);
	q = sh_quote("~");
	assert_string_equal(q, "'~'");
	free(q);
}

static void test_roundtrip_sh(void **state)
{
	const char **av = printf_argv();
	char *cmd = sh_join(av), *exp = expected_output(), *out;
	int status;

	(void)state;
	unlink("/tmp/etcdwiz-shquote-pwned");
	out = run_sh(cmd, &status);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_string_equal(out, exp);
	assert_int_not_equal(access("/tmp/etcdwiz-shquote-pwned", F_OK), 0);
	free(out);
	free(exp);
	free(cmd);
	free(av);
}

/* The remote layering: sh -c <quoted script>, script itself a joined argv. */
static void test_roundtrip_two_layers(void **state)
{
	const char **av = printf_argv();
	char *inner = sh_join(av), *q = sh_quote(inner);
	char *outer = xasprintf("sh -c %s", q), *exp = expected_output(), *out;
	int status;

	(void)state;
	out = run_sh(outer, &status);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_string_equal(out, exp);
	assert_int_not_equal(access("/tmp/etcdwiz-shquote-pwned", F_OK), 0);
	free(out);
	free(exp);
	free(outer);
	free(q);
	free(inner);
	free(av);
}

/* Every byte value 1..255 in one argument. */
static void test_all_bytes(void **state)
{
	char all[256], *exp, *cmd, *out;
	const char *av[4] = { "printf", "%s", all, NULL };
	int status;

	(void)state;
	for (int i = 1; i < 256; i++)
		all[i - 1] = (char)i;
	all[255] = '\0';
	cmd = sh_join(av);
	out = run_sh(cmd, &status);
	exp = all;
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_memory_equal(out, exp, 255);
	free(out);
	free(cmd);
}

/* A quoted reserved word or assignment in command position is a command
 * name (not found: 127), never syntax (2) or an assignment (0). */
static void test_command_position(void **state)
{
	const char *av1[] = { "if", NULL };
	const char *av2[] = { "ETCDWIZ_X=1", NULL };
	char *cmd, *out;
	int status;

	(void)state;
	cmd = sh_join(av1);
	out = run_sh(cmd, &status);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 127);
	free(out);
	free(cmd);
	cmd = sh_join(av2);
	out = run_sh(cmd, &status);
	assert_int_equal(WEXITSTATUS(status), 127);
	free(out);
	free(cmd);
}

static void test_joinv_empty(void **state)
{
	char *s = sh_joinv(NULL, 0);

	(void)state;
	assert_string_equal(s, "");
	free(s);
}

WIZ_UNIT_TESTS(cmocka_unit_test(test_simple_words),
	       cmocka_unit_test(test_roundtrip_sh),
	       cmocka_unit_test(test_roundtrip_two_layers),
	       cmocka_unit_test(test_all_bytes),
	       cmocka_unit_test(test_command_position),
	       cmocka_unit_test(test_joinv_empty))
