/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * LeakSanitizer suppressions for --enable-sanitizers builds: libatf-c
 * keeps its test-case lists until exit.  LSan asks for this function by
 * name, so it works however the test program's environment is set.
 */
const char *__lsan_default_suppressions(void);

const char *
__lsan_default_suppressions(void)
{
	return "leak:libatf-c.so\n";
}

/* Kyua counts any stderr output of the test-case list as breakage. */
const char *__lsan_default_options(void);

const char *
__lsan_default_options(void)
{
	return "print_suppressions=0";
}
