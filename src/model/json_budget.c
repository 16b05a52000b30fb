/* json_budget.c - jansson's allocator, counting each thread's live parse bytes against its
 * budget (json_budget.h). The functions are installed before main (a constructor: this
 * file is linked whenever the loader is), while one thread exists, so no thread ever sees
 * jansson's function pointers change; they cost one thread-local load per allocation when
 * no budget is open. The process-wide cap (pd_model_set_max_parse_bytes) is set once at
 * start-up, before loader threads exist. */
#include <jansson.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "model/json_budget.h"
#include "model/model_impl.h"

static _Thread_local pd__jbudget_t *t_budget;
static size_t g_max_parse = PD_MODEL_DEFAULT_MAX_PARSE_BYTES;

static void *budget_malloc(size_t n)
{
    pd__jbudget_t *b = t_budget;
    if (b && (b->used > b->limit || n > b->limit - b->used)) {
        b->exceeded = 1;
        return NULL;
    }
    void *p = malloc(n);
    if (p && b) {
        b->used += malloc_usable_size(p);
        if (b->used > b->peak)
            b->peak = b->used;
    }
    return p;
}

static void budget_free(void *p)
{
    pd__jbudget_t *b = t_budget;
    if (p && b) {
        size_t u = malloc_usable_size(p);
        b->used = u > b->used ? 0 : b->used - u; /* a block from before the budget */
    }
    free(p);
}

__attribute__((constructor)) static void install(void)
{
    json_set_alloc_funcs(budget_malloc, budget_free);
}

void pd__jbudget_begin(pd__jbudget_t *b, size_t limit)
{
    memset(b, 0, sizeof *b);
    b->limit = limit;
    t_budget = b;
}

void pd__jbudget_end(pd__jbudget_t *b)
{
    if (t_budget == b)
        t_budget = NULL;
}

/* The blocks behind that bound (x86-64 jansson 2.14, glibc): json_integer_t and
 * json_real_t are 24 bytes, an array 40 plus a table of 8 slots at first, an object more;
 * each element takes an 8-byte slot in its array's table, each member a hashtable pair
 * of more than 8 bytes. Strings, true, false and null are not counted (a key or a
 * singleton may cost nothing more). */
size_t pd__jbudget_min_bytes(const char *s, size_t n)
{
    size_t values = 0;
    int in_str = 0;
    char prev = ','; /* the last significant character outside strings */
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (in_str) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_str = 0;
            continue;
        }
        switch (ch) {
        case ' ': case '\t': case '\n': case '\r':
            continue;
        case '"':
            in_str = 1;
            break;
        case '[': case '{':
            values++;
            break;
        case '-': case '0': case '1': case '2': case '3': case '4':
        case '5': case '6': case '7': case '8': case '9':
            if (prev == '[' || prev == ',' || prev == ':')
                values++; /* a number's first character */
            break;
        default:
            break;
        }
        prev = ch;
    }
    return values > SIZE_MAX / PD__JBUDGET_MIN_VALUE ? SIZE_MAX : values * PD__JBUDGET_MIN_VALUE;
}

size_t pd__jbudget_for(size_t file_len)
{
    size_t want = file_len > SIZE_MAX / PD_MODEL_PARSE_FACTOR ? SIZE_MAX
                                                              : file_len * PD_MODEL_PARSE_FACTOR;
    want = PD_MAX(want, (size_t)PD_MODEL_PARSE_FLOOR);
    return PD_MIN(want, g_max_parse);
}

void pd_model_set_max_parse_bytes(size_t bytes)
{
    g_max_parse = bytes ? bytes : PD_MODEL_DEFAULT_MAX_PARSE_BYTES;
}

size_t pd_model_max_parse_bytes(void)
{
    return g_max_parse;
}
