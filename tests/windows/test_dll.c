/* test_dll.c — a program linked against uniws.dll through its import
 * library (no internal headers, no cmocka): the DLL exports the public API
 * and a loop runs from it. Exit status 0 on success. */
#include <stdio.h>
#include <string.h>
#include "uniws/uniws.h"

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

int main(void)
{
    CHECK(strcmp(uniws_platform(), "win32-wsapoll") == 0);
    uniws_backend_info info;
    CHECK(uniws_backend_find("winhttp", &info) == 0);
    CHECK(info.caps & UNIWS_CAP_WSS);
    CHECK(uniws_backend_find("no-such-backend", &info) == UNIWS_ENO_BACKEND);
    CHECK(strlen(uniws_strerror(UNIWS_EUNSUPPORTED)) > 0);
    uniws_loop *loop = NULL;
    CHECK(uniws_loop_new(&loop) == 0);
    CHECK(uniws_loop_alive(loop) == 0);
    CHECK(uniws_loop_run_once(loop, 10) >= 0);
    /* An option winhttp cannot honour is refused at connect time. */
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.backend = "winhttp";
    o.permessage_deflate = 1;
    uniws_socket *s = NULL;
    CHECK(uniws_connect(loop, "ws://127.0.0.1:1/", &o, &s) == UNIWS_EUNSUPPORTED);
    CHECK(uniws_loop_free(loop) == 0);
    printf("test_dll: %s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
