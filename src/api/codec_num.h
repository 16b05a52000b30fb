/* codec_num.h - decimal text to double for the row codecs, fast and exact: the common
 * short numbers take Clinger's fast path (a mantissa of at most 15 significant digits is
 * exact in a double, and so is 10^k for k <= 22, so one multiplication or division is a
 * single correctly rounded IEEE operation: the same double strtod returns); the caller
 * falls back to strtod for every other number. Reentrant; no state. Internal to src/api/. */
#ifndef PD_API_CODEC_NUM_H
#define PD_API_CODEC_NUM_H

#include <stddef.h>

/* Converts s[0, n) when it is a decimal number ([+-] digits [. digits] [e|E [+-] digits],
 * at least one digit before the exponent, as JSON and pandas write numbers) that the fast
 * path covers: returns 1 with *out set, correctly rounded. Returns 0 otherwise (more than
 * 15 significant digits, a large exponent, or not a decimal): the caller uses strtod.
 * s is borrowed for the call and need not be NUL-terminated. */
int pd__codec_decimal(const char *s, size_t n, double *out);

#endif
