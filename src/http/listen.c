/* listen.c - opening the listening socket: one per server, or, with several event loops
 * (serve --loops), one per loop bound to the same port with SO_REUSEPORT so that the
 * kernel spreads new connections over the loops, or one socket shared by every loop where
 * SO_REUSEPORT is unavailable (each loop polls its own duplicate of it and accepts from it).
 * The server adopts the descriptor (pd__srv_adopt_listener in server.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "http/internal.h"

/* Opens, binds and listens on host:port (SO_REUSEADDR, and SO_REUSEPORT when reuseport).
 * Returns the descriptor or -errno; PD_EINVAL-style address errors are the caller's. */
static int open_socket(const struct sockaddr_storage *ss, int backlog, int reuseport)
{
    socklen_t alen = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                               : sizeof(struct sockaddr_in);
    int one = 1;
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) ||
        bind(fd, (const struct sockaddr *)ss, alen) != 0 || listen(fd, backlog) != 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    return fd;
}

/* Parses host:port into *ss. Returns 0 or PD_EINVAL with a message. */
static int parse_addr(const char *host, int port, struct sockaddr_storage *ss, char *errbuf,
                      size_t errlen)
{
    memset(ss, 0, sizeof *ss);
    if (port < 0 || port > 65535 ||
        (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) != 0 &&
         uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) != 0)) {
        snprintf(errbuf, errlen, "invalid address %s:%d", host, port);
        return PD_EINVAL;
    }
    return 0;
}

int pd_http_server_listen(pd_http_server_t *srv, const char *host, int port, char *errbuf,
                          size_t errlen)
{
    return pd_http_server_listen_reuseport(srv, host, port, 0, NULL, errbuf, errlen);
}

int pd_http_server_listen_reuseport(pd_http_server_t *srv, const char *host, int port,
                                    int reuseport, int *unsupported, char *errbuf,
                                    size_t errlen)
{
    if (unsupported)
        *unsupported = 0;
    struct sockaddr_storage ss;
    int rc = parse_addr(host, port, &ss, errbuf, errlen);
    if (rc < 0)
        return rc;
    if (srv->lfd >= 0 || srv->draining) {
        snprintf(errbuf, errlen, "already listening");
        return PD_EINVAL;
    }
    if (reuseport == PD_HTTP_REUSEPORT_FIRST && port != 0) {
        /* The kernel lets any socket of this user with SO_REUSEPORT join the group: make
         * sure the port is free first, so that a second server fails as with one loop
         * instead of quietly taking a share of this one's connections. */
        int probe = open_socket(&ss, 1, 0);
        if (probe < 0) {
            snprintf(errbuf, errlen, "cannot listen on %s:%d: %s", host, port, strerror(-probe));
            return PD_EIO;
        }
        close(probe);
    }
    int fd = open_socket(&ss, (int)srv->opts.backlog, reuseport != 0);
    if (fd < 0) {
        if (reuseport && unsupported &&
            (fd == -ENOPROTOOPT || fd == -EINVAL || fd == -EOPNOTSUPP)) {
            *unsupported = 1; /* no SO_REUSEPORT here: the caller shares one socket */
            snprintf(errbuf, errlen, "SO_REUSEPORT: %s", strerror(-fd));
            return PD_EIO;
        }
        snprintf(errbuf, errlen, "cannot listen on %s:%d: %s", host, port, strerror(-fd));
        return PD_EIO;
    }
    if ((rc = pd__srv_adopt_listener(srv, fd)) < 0) {
        close(fd);
        snprintf(errbuf, errlen, "cannot listen on %s:%d: %s", host, port, pd_strerror(rc));
    }
    return rc;
}

int pd_http_server_listen_shared(pd_http_server_t *srv, const pd_http_server_t *first,
                                 char *errbuf, size_t errlen)
{
    if (srv->lfd >= 0 || srv->draining || first->lfd < 0) {
        snprintf(errbuf, errlen, first->lfd < 0 ? "the first loop does not listen"
                                                : "already listening");
        return PD_EINVAL;
    }
    int fd = fcntl(first->lfd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(errbuf, errlen, "cannot share the listening socket: %s", strerror(errno));
        return PD_EIO;
    }
    int rc = pd__srv_adopt_listener(srv, fd);
    if (rc < 0) {
        close(fd);
        snprintf(errbuf, errlen, "cannot share the listening socket: %s", pd_strerror(rc));
    }
    return rc;
}
