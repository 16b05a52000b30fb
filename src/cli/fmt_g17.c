/* fmt_g17.c - pd_predict_fmt_g17: printf's "%.17g" without printf, the same bytes.
 *
 * For 1e-6 <= |v| < 1e38 the 17 significant digits come exactly rounded from
 * pd_dtoa_digits (util/dtoa.h: 128-bit integer arithmetic, ties to even as glibc rounds an
 * exact tie), then printf's %g rules: fixed notation when -4 <= X < 17, else d.ddde+XX,
 * trailing zeros removed. Other values (0, tiny, huge, inf, nan) go to snprintf.
 * tests/unit/test_cli_fmt_g17.c compares it with snprintf on millions of values. */
#include <math.h>
#include <stdio.h>

#include "cli/predict_rows.h"
#include "util/dtoa.h"

size_t pd_predict_fmt_g17(char *p, double v)
{
    char dig[PD_DTOA_MAX_DIGITS];
    int x;
    if (pd_dtoa_digits(fabs(v), PD_DTOA_MAX_DIGITS, dig, &x) < 0) /* also 0, inf, nan */
        return (size_t)snprintf(p, 32, "%.17g", v);
    int nd = PD_DTOA_MAX_DIGITS; /* significant digits after removing trailing zeros */
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    return pd_dtoa_write(p, dig, nd, x, v < 0, 17, 0);
}
