/* load_common.h - pieces shared by the file loaders (predictd format, XGBoost JSON):
 * schema fields and the pipeline of parts. Internal to src/model/. */
#ifndef PD_MODEL_LOAD_COMMON_H
#define PD_MODEL_LOAD_COMMON_H

#include <jansson.h>

#include "model/json_util.h"
#include "model/model_impl.h"

/* Sets m's feature names from arr (at path): 1..PD_MODEL_MAX_FEATURES unique strings. */
int pd__load_features(pd__jctx_t *c, pd_model_t *m, const json_t *arr, const char *path);
/* Makes every input a number column (m->inputs, schema.inputs); called once the feature
 * names are set (pd__load_features / pd__gen_features do). */
int pd__inputs_default(pd_model_t *m);
/* Reads the predictd format's "inputs" object (at path): feature name -> {"type",
 * "categories", "unknown"} (inputs.c). */
int pd__inputs_load(pd__jctx_t *c, pd_model_t *m, const json_t *obj, const char *path);
/* Sets n generated feature names "f0".."f<n-1>" (XGBoost files without names). */
int pd__gen_features(pd__jctx_t *c, pd_model_t *m, size_t n);
/* Sets integer class labels 0..n-1. */
int pd__gen_int_classes(pd__jctx_t *c, pd_model_t *m, size_t n);
/* Sets m->name/version/source/kind (copied; kind may be NULL) and the schema's pointers. */
int pd__set_names(pd__jctx_t *c, pd_model_t *m, const char *name, const char *version,
                  const char *source, const char *kind);
/* Derives a model name from a file label: base name without ".json" (or ".ubj"),
 * restricted to [A-Za-z0-9_.-] (others become '_'), at most PD_MODEL_MAX_NAME chars.
 * dst: that + 1. */
void pd__name_from_label(const char *label, char *dst);
/* Loads the pipeline from the array `steps` at path (schema already set): each entry a
 * part (part.h), transformers first, an estimator last. */
int pd__pipeline_load(pd__jctx_t *c, pd_model_t *m, const json_t *steps, const char *path);
/* Derives the model's width, schema.proba_ok, outputs and missing_ok default from its
 * parts; every loader calls it once its pipeline is complete. */
int pd__pipeline_finish(pd__jctx_t *c, pd_model_t *m);

#endif
