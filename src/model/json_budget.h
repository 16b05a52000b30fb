/* json_budget.h - a memory budget for parsing a model's JSON with jansson (issue 14,
 * defect 8: a 50 MB file of one unknown 25M-element array took 1 GB to parse).
 *
 * jansson's allocator is replaced, before main, by functions that count the bytes of
 * every live jansson block against the budget of the calling thread, if it has one: the
 * loader opens a budget around json_loadb and the walk of the tree, and an allocation that
 * would pass it fails (jansson then reports out of memory; the loader says that the budget
 * was the cause). Threads without a budget - and every other use of jansson - allocate as
 * before. Blocks are plain malloc blocks (no header; sizes come from malloc_usable_size),
 * so a block allocated before the functions were installed may be freed after.
 *
 * Internal to src/model/. */
#ifndef PD_MODEL_JSON_BUDGET_H
#define PD_MODEL_JSON_BUDGET_H

#include <stddef.h>

/* One thread's budget; lives on the loader's stack between begin and end. */
typedef struct pd__jbudget_s {
    size_t limit;     /* bytes of live jansson blocks allowed */
    size_t used;      /* bytes of live blocks allocated under this budget */
    size_t peak;      /* the most `used` was */
    int exceeded;     /* an allocation was refused */
} pd__jbudget_t;

/* Makes b (zeroed here, limit set) the calling thread's budget until pd__jbudget_end.
 * Budgets do not nest. */
void pd__jbudget_begin(pd__jbudget_t *b, size_t limit);
/* Ends the calling thread's budget. Every block allocated under it must have been freed
 * before (the loader frees its tree first); one freed later is simply not counted. */
void pd__jbudget_end(pd__jbudget_t *b);
/* A lower bound of the bytes jansson allocates to parse the JSON text s[0, n): every
 * number and every array or object costs at least PD__JBUDGET_MIN_VALUE bytes (its block,
 * and its slot in the array or object holding it). Lets a load that would pass its budget
 * fail before allocating anything; never more than the parse really takes. */
#define PD__JBUDGET_MIN_VALUE 32
size_t pd__jbudget_min_bytes(const char *s, size_t n);
/* The budget for parsing a file of file_len bytes: PD_MODEL_PARSE_FACTOR times its size,
 * at least PD_MODEL_PARSE_FLOOR, at most pd_model_max_parse_bytes(). */
size_t pd__jbudget_for(size_t file_len);

#endif
