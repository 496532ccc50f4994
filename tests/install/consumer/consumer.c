/* consumer.c — a program built against an installed uniws: echoes one
 * message over the in-process loopback backend and exits 0 on success. */
#include <stdio.h>
#include <string.h>
#include <uniws/uniws.h>

static int got, closed;

static void on_open(uniws_socket *s, void *ud)
{
    (void)ud;
    uniws_send_text(s, "installed", 9);
}

static void on_message(uniws_socket *s, const uniws_message *m, void *ud)
{
    (void)ud;
    got = m->len == 9 && memcmp(m->data, "installed", 9) == 0;
    uniws_close(s, 1000, NULL);
}

static void on_close(uniws_socket *s, const uniws_close_event *e, void *ud)
{
    (void)s, (void)ud;
    closed = e->code == 1000 && e->was_clean;
}

int main(void)
{
    uniws_loop *loop;
    uniws_socket *s;
    uniws_options o = {0};
    o.backend = "loopback";
    o.callbacks.on_open = on_open;
    o.callbacks.on_message = on_message;
    o.callbacks.on_close = on_close;
    if (uniws_loop_new(&loop) || uniws_connect(loop, "ws://consumer/echo", &o, &s))
        return 1;
    uniws_loop_run(loop);
    uniws_free(s);
    uniws_loop_free(loop);
    printf("uniws %s: echo %s, close %s\n", UNIWS_VERSION_STRING, got ? "ok" : "FAILED",
           closed ? "ok" : "FAILED");
    return got && closed ? 0 : 1;
}
