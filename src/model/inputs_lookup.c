/* inputs_lookup.c - the decode-time lookups of typed inputs (model.h): a string's code in
 * an input's vocabulary (the hash table inputs.c builds at load), a number among an
 * input's known values. Pure functions of immutable model data: any thread, no
 * allocation; no dependency beyond libc, so that the codec tests can build them alone. */
#include <string.h>

#include "model/inputs_lookup.h"
#include "model/model.h"

#define FNV_OFFSET 2166136261u
#define FNV_PRIME 16777619u

uint32_t pd__input_hash(const char *s, size_t n)
{
    uint32_t h = FNV_OFFSET;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * FNV_PRIME;
    return h;
}

const char *pd_model_input_type_name(pd_input_type_t t)
{
    return t == PD_INPUT_STRING ? "string" : "number";
}

long pd_model_input_code(const pd_model_input_t *in, const char *s, size_t len)
{
    if (in->type != PD_INPUT_STRING || !in->tab)
        return -1;
    if (len == 0)
        s = ""; /* an empty value may come as (NULL, 0): never pass NULL to strncmp */
    uint32_t mask = in->tab_mask;
    for (uint32_t j = pd__input_hash(s, len) & mask; in->tab[j]; j = (j + 1) & mask) {
        size_t k = in->tab[j] - 1;
        const char *c = in->categories[k];
        if (strncmp(c, s, len) == 0 && c[len] == '\0' && memchr(s, '\0', len) == NULL)
            return (long)k;
    }
    return -1;
}

int pd_model_input_known(const pd_model_input_t *in, double v)
{
    if (in->type != PD_INPUT_NUMBER || !in->known)
        return 1;
    size_t lo = 0, hi = in->n_categories;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (in->known[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < in->n_categories && in->known[lo] == v;
}

