/* clock.c — monotonic time and randomness for POSIX systems. */
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include "core/platform.h"
#include "uniws/uniws.h"

uint64_t uniws__plat_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int uniws__plat_random(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return UNIWS_EIO;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}
