/*
 * nofile.c — raises RLIMIT_NOFILE for socket-heavy tests (see nofile.h).
 */
#include "nofile.h"

#include <sys/resource.h>

long uniws_test_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
            return -1;
    }
    return rl.rlim_cur > (rlim_t)0x7fffffff ? 0x7fffffffL : (long)rl.rlim_cur;
}
