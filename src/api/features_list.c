/* features_list.c - a top-level JSON array as FastAPI 0.92 + Pydantic 1.10 validate a body
 * declared `data: List[InputData]`: every element is validated as one InputData
 * (features_value.c), every error of every element is listed, in order, with loc
 * ["body", <index>, <field>] (["body", <index>] for an element-level error), and an empty
 * list is valid (no rows).
 *
 * Bounds: rows are appended one at a time (pd_rows_add), so the list is refused as soon
 * as element rows->max_rows + 1 begins, before it is scanned; the per-field states are
 * reused from one element to the next, so memory is the rows plus the error list. */
#include "api/features_internal.h"
#include "common.h"

int pd__features_list(pd__fctx_t *c, pd__jscan_t *s, pd_rows_t *rows, pd_buf_t *err)
{
    int r = pd__json_arr_first(s);
    while (r == 1) {
        double *row;
        int rc = pd_rows_add(rows, &row);
        if (rc == PD_ETOOBIG) {
            c->too_many_rows = 1;
            return rc;
        }
        if (rc < 0)
            return rc;
        pd__jval_t v;
        if (pd__json_value(s, &v) < 0)
            return PD_EFORMAT;
        pd__features_reset(c, row);
        pd__features_row_begin(c, rows->n_rows - 1);
        rc = pd__features_element(c, s, &v);
        if (rc != 0)
            return rc;
        pd__features_finish(c);
        rc = pd__features_row_errors(c, err, rows->n_rows - 1);
        if (rc < 0)
            return rc;
        r = pd__json_arr_next(s);
    }
    return r < 0 ? PD_EFORMAT : 0;
}
