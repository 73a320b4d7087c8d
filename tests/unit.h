/* Shared boilerplate for the cmocka unit tests: TAP output for automake's
 * tap-driver, and the path of the fixtures. */
#ifndef WIZ_TESTS_UNIT_H
#define WIZ_TESTS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#define WIZ_UNIT_TESTS(...)                                                \
	int main(void)                                                     \
	{                                                                  \
		const struct CMUnitTest tests[] = { __VA_ARGS__ };         \
		cmocka_set_message_output(CM_OUTPUT_TAP);                  \
		return cmocka_run_group_tests(tests, NULL, NULL);          \
	}

/* $TOP_SRCDIR/tests/fixtures/<rel>, for tests run from any build dir. */
static inline char *unit_fixture(const char *rel)
{
	const char *top = getenv("TOP_SRCDIR");
	static char buf[4096];

	snprintf(buf, sizeof buf, "%s/tests/fixtures/%s", top ? top : ".", rel);
	return buf;
}

#endif
