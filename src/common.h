/* common.h - error codes and small helpers shared by every subsystem.
 *
 * Convention: a function that can fail returns 0 on success or one of the negative
 * PD_E* codes below; it never returns a positive value to mean failure. */
#ifndef PD_COMMON_H
#define PD_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define PD_ENOMEM     (-1)  /* allocation failed */
#define PD_EINVAL     (-2)  /* bad argument or input */
#define PD_EFULL      (-3)  /* a bounded queue or table is full */
#define PD_ESHUTDOWN  (-4)  /* the component is shutting down */
#define PD_ECANCELED  (-5)  /* the work was canceled before it ran */
#define PD_ETIMEDOUT  (-6)  /* a deadline passed */
#define PD_EIO        (-7)  /* an OS-level read/write/listen failed */
#define PD_EFORMAT    (-8)  /* a file or message does not follow its format */
#define PD_ETOOBIG    (-9)  /* input over a configured limit */
#define PD_ENOTFOUND  (-10) /* no such item */

/* Returns a static, human-readable string for a PD_E* code (never NULL). */
const char *pd_strerror(int err);

#define PD_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The length of a string LITERAL without its NUL, computed by the compiler: never count a
 * literal by hand. `"" s ""` only compiles when s is a literal, so a pointer or an array
 * variable (whose sizeof would silently be wrong) is refused. */
#define PD_LIT_LEN(s) (sizeof("" s "") - 1)
/* A string literal and its length as two arguments: f(PD_LIT("abc")) is f("abc", 3). */
#define PD_LIT(s) ("" s ""), PD_LIT_LEN(s)
#define PD_MIN(a, b) ((a) < (b) ? (a) : (b))
#define PD_MAX(a, b) ((a) > (b) ? (a) : (b))

/* The struct of type `type` whose member `field` is at `ptr` (the classic container_of):
 * how an owner gets back from a node or job it embedded (pd_list_t, pd_job_t). */
#define PD_CONTAINER_OF(ptr, type, field) ((type *)((char *)(ptr) - offsetof(type, field)))

#endif
