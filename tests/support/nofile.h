/*
 * nofile.h — raises the process's open-file limit to its hard limit, for
 * tests that keep hundreds of sockets (often both ends) in one process.
 */
#ifndef UNIWS_TESTS_NOFILE_H
#define UNIWS_TESTS_NOFILE_H

/* Returns the soft limit afterwards, or -1 when it cannot be read. */
long uniws_test_raise_nofile(void);

#endif
