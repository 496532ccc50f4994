/* clock.c — monotonic time and randomness in a browser or Node.js (Emscripten). */
#include <unistd.h>
#include <emscripten/emscripten.h>
#include "core/platform.h"
#include "uniws/uniws.h"

uint64_t uniws__plat_now_ms(void)
{
    /* performance.now(): monotonic, unlike Date.now(). */
    double ms = emscripten_get_now();
    return ms > 0 ? (uint64_t)ms : 0;
}

int uniws__plat_random(void *buf, size_t n)
{
    /* getentropy() is crypto.getRandomValues() (or Node's crypto) underneath
     * and takes at most 256 bytes per call. */
    unsigned char *p = buf;
    while (n > 0) {
        size_t k = n > 256 ? 256 : n;
        if (getentropy(p, k) != 0)
            return UNIWS_EIO;
        p += k;
        n -= k;
    }
    return 0;
}
