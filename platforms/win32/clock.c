/* clock.c — monotonic time and randomness on Windows (QueryPerformanceCounter,
 * BCryptGenRandom from bcrypt.dll). */
#include <windows.h>
#include <bcrypt.h>
#include "core/platform.h"
#include "uniws/uniws.h"

uint64_t uniws__plat_now_ms(void)
{
    /* The counter's frequency is fixed at boot; read it once per call rather
     * than caching it in a global that threads would race to fill. */
    LARGE_INTEGER f, c;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&c);
    uint64_t freq = (uint64_t)f.QuadPart, t = (uint64_t)c.QuadPart;
    return t / freq * 1000u + t % freq * 1000u / freq;
}

int uniws__plat_random(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        ULONG k = n > 0x10000000u ? 0x10000000u : (ULONG)n;
        if (BCryptGenRandom(NULL, p, k, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
            return UNIWS_EIO;
        p += k;
        n -= k;
    }
    return 0;
}
