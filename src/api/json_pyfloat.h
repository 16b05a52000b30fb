/* json_pyfloat.h - Python 3.11's float() applied to what json.loads produced, which is how
 * Pydantic 1.10's float_validator coerces a field: numbers (integers of any size, and the
 * JSON float literals) and strings ("1_000.5", " 2 ", "1e5", "inf", "nan", Unicode digits
 * and Unicode spaces) become doubles exactly as CPython rounds them (correctly rounded,
 * as glibc's strtod is in the "C" locale, which predictd never changes).
 *
 * Internal to src/api/. No allocation unless a literal is longer than
 * PD_PYFLOAT_STACK_CHARS characters (then one malloc, bounded by the body size). */
#ifndef PD_API_JSON_PYFLOAT_H
#define PD_API_JSON_PYFLOAT_H

#include <stddef.h>

#include "api/json_scan.h"

/* Longest literal converted without a heap buffer. */
#define PD_PYFLOAT_STACK_CHARS 256

/* float() of the JSON number token v (PD__JK_INT or PD__JK_FLOAT) of s's document.
 * An integer too large for a double yields +-inf (Python raises OverflowError there;
 * the caller treats both as not finite). Returns 0, or PD_ENOMEM. */
int pd__pyfloat_number(const pd__jscan_t *s, const pd__jval_t *v, double *out);

/* float() of the JSON string v of s's document (escapes resolved first). Returns 0 with
 * *out set, PD_EINVAL where Python raises ValueError, or PD_ENOMEM. */
int pd__pyfloat_string(const pd__jscan_t *s, const pd__jval_t *v, double *out);

/* The decimal value of code point cp as Python's Py_UNICODE_TODECIMAL (Unicode 14.0,
 * category Nd), or -1. */
int pd__py_decimal(unsigned cp);
/* Whether cp >= 128 is whitespace for Python (str.isspace). */
int pd__py_unicode_space(unsigned cp);

#endif
