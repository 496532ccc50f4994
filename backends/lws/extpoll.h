/*
 * extpoll.h — the lws backend's event-loop glue for a libwebsockets built
 * with LWS_WITH_EXTERNAL_POLL and without libuv (the Windows build of
 * scripts/windows-deps.sh): the uniws loop watches every socket lws asks for
 * (ADD/DEL/CHANGE_MODE_POLL_FD callbacks) and hands readiness to
 * lws_service_fd(). The libuv glue for Debian's lws stays in lws.c.
 */
#ifndef UNIWS_BACKENDS_LWS_EXTPOLL_H
#define UNIWS_BACKENDS_LWS_EXTPOLL_H

#include <libwebsockets.h>
#include "core/loop.h"

/* The watchers of one uniws loop. */
typedef struct uniws__lwsfds uniws__lwsfds;

/* depth: the backend's "lws code is on the stack" counter, raised around
 * every lws_service_fd() and read() call. read: offered a socket's plain
 * readability first; returns 1 when it read the input itself (lws is then
 * not serviced), 0 to leave it to lws_service_fd(). Returns 0 or
 * UNIWS_ENOMEM. */
int uniws__lwsfds_new(uniws__lwsfds **out, uniws_loop *loop, struct lws_context *ctx, int *depth,
                      int (*read)(struct lws *wsi));
/* Stops every watcher. */
void uniws__lwsfds_free(uniws__lwsfds *f);
/* Handles the poll-fd callbacks (LWS_CALLBACK_ADD_POLL_FD, _DEL_POLL_FD,
 * _CHANGE_MODE_POLL_FD, _LOCK_POLL, _UNLOCK_POLL) of wsi for f (NULL: no
 * loop uses the context, ignored). Returns 1 when reason was one of them
 * (the callback then returns *ret), 0 otherwise. */
int uniws__lwsfds_event(uniws__lwsfds *f, struct lws *wsi, int reason, void *in, int *ret);
/* The socket error of the last socket lws dropped while it was connecting
 * (0 if none), and forgets it. */
int uniws__lwsfds_connect_error(uniws__lwsfds *f);

#endif
