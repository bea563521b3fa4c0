/* SPDX-License-Identifier: MIT */
/* One main() shape for every CUnit suite: a table of tests, run, exit code. */
#ifndef TESTS_CUNIT_MAIN_H
#define TESTS_CUNIT_MAIN_H

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* String equality that prints both strings when they differ. */
#define ASSERT_STR(got, expected)                                             \
	do {                                                                  \
		const char *g_ = (got);                                       \
		const char *e_ = (expected);                                  \
		if (!g_ || strcmp(g_, e_) != 0)                               \
			fprintf(stderr, "\n  expected: %s\n  got:      %s\n", \
				e_, g_ ? g_ : "(null)");                      \
		CU_ASSERT_PTR_NOT_NULL(g_);                                   \
		if (g_)                                                       \
			CU_ASSERT_STRING_EQUAL(g_, e_);                       \
	} while (0)

struct cunit_test {
	const char *name;
	void (*fn)(void);
};

/* Runs the NULL-terminated table as one suite; returns 0 when all passed. */
static inline int cunit_run(const char *suite_name,
			    const struct cunit_test *tests)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_pSuite suite = CU_add_suite(suite_name, NULL, NULL);
	if (!suite)
		return 2;
	for (const struct cunit_test *t = tests; t->name; t++)
		if (!CU_add_test(suite, t->name, t->fn))
			return 2;
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed =
		CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	unsigned ran = CU_get_number_of_tests_run();
	CU_cleanup_registry();
	return (failed == 0 && ran > 0) ? 0 : 1;
}

#endif
