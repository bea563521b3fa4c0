/* SPDX-License-Identifier: MIT */
/*
 * The control socket: a UNIX stream socket (default CONTROL_DEFAULT_PATH,
 * mode 0600) served by the event loop thread, never by the dispatch
 * thread. One JSON request per line, one JSON reply per line, both with
 * "api": 1 (the protocol is in docs/control.md).
 *
 * Bounds that keep a hostile or stuck client harmless:
 *   - a request line is at most CONTROL_MAX_LINE bytes; a longer one gets
 *     an error reply and is skipped up to its newline;
 *   - a client with a reply not yet written is not read (so its backlog
 *     is one reply); sockets are non-blocking, each wake-up reads at most
 *     one buffer, so the loop's other watches keep their turns;
 *   - at most CONTROL_MAX_CLIENTS connections; the one idle the longest is
 *     dropped for a newcomer.
 * Peers are checked with SO_PEERCRED: root or the daemon's own uid.
 */
#ifndef CORE_CONTROL_H
#define CORE_CONTROL_H

#include <stdbool.h>
#include <sys/types.h>

#define CONTROL_DEFAULT_PATH "/run/hvisor/virtio.sock"
#define CONTROL_API          1
#define CONTROL_MAX_LINE     (256u * 1024u)
#define CONTROL_MAX_CLIENTS  16u

struct daemon;
struct control;
struct cJSON;

/* Bind `path` and serve it on the daemon's event loop. A live socket at
 * the path (another daemon) is refused; a stale one is replaced. Returns
 * NULL after logging why: as an error, or as a warning when `optional`
 * (the daemon serves on without it). */
struct control *control_open(struct daemon *d, const char *path, bool optional);
/* Stop serving, close every client, unlink the socket. */
void control_close(struct control *c);
const char *control_path(const struct control *c);
/* Tests: pretend the daemon runs as `uid` for the peer check. */
void control_set_owner_uid(struct control *c, uid_t uid);

/* True when a peer with `peer` uid may use a daemon running as `owner`. */
bool control_peer_allowed(uid_t peer, uid_t owner);

/* Answer one parsed request (control_cmd.c): returns the reply object. */
struct cJSON *control_handle(struct daemon *d, const struct cJSON *req);
/* {"api": 1, "ok": false, "error": msg} */
struct cJSON *control_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#endif
