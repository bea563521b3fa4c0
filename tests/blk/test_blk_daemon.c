/* SPDX-License-Identifier: MIT */
#include "cunit_main.h"
static void test_placeholder(void) { CU_ASSERT(1); }
int main(void)
{
	static const struct cunit_test tests[] = {{"p", test_placeholder}, {NULL, NULL}};
	return cunit_run("blk-daemon", tests);
}
