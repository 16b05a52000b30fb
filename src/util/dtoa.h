/* dtoa.h - decimal digits of a double without printf: the exactly rounded significant
 * digits of a value, and their text in printf's %g layout or Python's repr layout. Used by
 * the JSON writer (shortest round-trip digits, buf.c) and by `predictd predict` (%.17g,
 * src/cli/fmt_g17.c). Pure functions: any thread. */
#ifndef PD_UTIL_DTOA_H
#define PD_UTIL_DTOA_H

#include <stddef.h>

/* Most significant digits pd_dtoa_digits gives. */
#define PD_DTOA_MAX_DIGITS 17

/* The first `prec` (1..PD_DTOA_MAX_DIGITS) significant digits of a (> 0, finite), rounded
 * from its exact binary value half to even (as glibc's printf rounds), into dig[0..prec)
 * as ASCII, and its decimal exponent into *x (a = d.ddd * 10^x after rounding, so a value
 * that rounds up to a power of ten gets the higher exponent). Exact 128-bit integer
 * arithmetic; returns 0, or -1 for a outside [1e-6, 1e38) (where the method does not
 * apply: the caller uses printf). */
int pd_dtoa_digits(double a, int prec, char *dig, int *x);

/* Writes digits dig[0..nd) (nd >= 1, no trailing zeros unless nd == 1) with decimal
 * exponent x, negative if neg, into p: fixed notation when -4 <= x < fixed_below, else
 * d.ddde+XX (at least two exponent digits). repr: Python's layout (a fixed-notation
 * integer ends in ".0"), else printf's %g (it does not). p needs nd + 32 bytes when x is
 * in [-4, fixed_below) with fixed_below <= 17, else nd + 8. Returns the bytes written
 * (no NUL). */
size_t pd_dtoa_write(char *p, const char *dig, int nd, int x, int neg, int fixed_below,
                     int repr);

#endif
