/* inputs_lookup.h - the hash shared by inputs.c (building a string input's table at load)
 * and inputs_lookup.c (looking a string up at decode). Internal to src/model/. */
#ifndef PD_MODEL_INPUTS_LOOKUP_H
#define PD_MODEL_INPUTS_LOOKUP_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a of s[0, n). */
uint32_t pd__input_hash(const char *s, size_t n);

#endif
