/* fsource_redis_url.h - the Redis store's URLs (fsource_redis.c):
 * redis://[[USER]:PASSWORD@]HOST[:PORT][/DB], parsed into their parts. Pure functions, any
 * thread. Internal to src/api/fsource_redis*.c. */
#ifndef PD_API_FSOURCE_REDIS_URL_H
#define PD_API_FSOURCE_REDIS_URL_H

#include <stddef.h>

#define PD_REDIS_DEFAULT_PORT 6379
#define PD_REDIS_MAX_DB 65535   /* largest database number in a URL */
#define PD_REDIS_HOST_MAX 255   /* bytes of a host name */
#define PD_REDIS_SECRET_MAX 255 /* bytes of a user name or password (percent-decoded) */

typedef struct pd__redis_url_s {
    char host[PD_REDIS_HOST_MAX + 1]; /* a name, an IPv4 or an IPv6 address (no brackets) */
    int port;                         /* PD_REDIS_DEFAULT_PORT when the URL has none */
    unsigned db;                      /* 0 when the URL has none */
    char user[PD_REDIS_SECRET_MAX + 1], pass[PD_REDIS_SECRET_MAX + 1];
    int has_pass;                     /* the URL has USER:PASSWORD@ (USER may be empty) */
} pd__redis_url_t;

/* Parses url (borrowed) into *u. Returns 0, or PD_EINVAL with the reason in err: not
 * redis://, a query or fragment, no host or one over 255 bytes or with a character other
 * than [A-Za-z0-9._-], an unclosed [IPv6], a port outside 1..65535, a database outside
 * 0..65535, user information without ':', a bad %-escape or %00, a user or password over
 * 255 bytes. */
int pd__redis_url_parse(const char *url, pd__redis_url_t *u, char *err, size_t errlen);

#endif
