/* types.c - the one list of model types (part.h). A file's step {"type": "..."} is looked
 * up here; the order only decides the order names are listed in error messages. Adding a
 * type: declare its ops table below and add it to the list (docs/model-types.md). */
#include <stddef.h>

#include "model/part.h"

extern const pd__part_ops_t pd__standard_scaler_ops, pd__minmax_scaler_ops,
    pd__maxabs_scaler_ops, pd__robust_scaler_ops, pd__binarizer_ops, pd__projection_ops,
    pd__simple_imputer_ops, pd__missing_indicator_ops, pd__onehot_encoder_ops,
    pd__ordinal_encoder_ops, pd__column_transformer_ops,
    pd__poly_ops, pd__kbins_ops, pd__normalizer_ops, pd__quantile_ops, pd__power_ops;
extern const pd__part_ops_t pd__linear_ops, pd__trees_ops, pd__mlp_ops, pd__svm_ops,
    pd__knn_ops, pd__centroids_ops, pd__iforest_ops, pd__gaussian_nb_ops, pd__qda_ops,
    pd__categorical_nb_ops;
/* composites (their members are parts too) */
extern const pd__part_ops_t pd__pipeline_ops, pd__ensemble_ops, pd__calibrated_ops,
    pd__stacking_ops, pd__target_ops;

const pd__part_ops_t *const pd__part_types[] = {
    /* transformers */
    &pd__standard_scaler_ops,
    &pd__minmax_scaler_ops,
    &pd__maxabs_scaler_ops,
    &pd__robust_scaler_ops,
    &pd__binarizer_ops,
    &pd__projection_ops,
    &pd__simple_imputer_ops,
    &pd__missing_indicator_ops,
    &pd__onehot_encoder_ops,
    &pd__ordinal_encoder_ops,
    &pd__column_transformer_ops,
    &pd__poly_ops,
    &pd__kbins_ops,
    &pd__normalizer_ops,
    &pd__quantile_ops,
    &pd__power_ops,
    /* estimators */
    &pd__linear_ops,
    &pd__trees_ops,
    &pd__mlp_ops,
    &pd__svm_ops,
    &pd__knn_ops,
    &pd__centroids_ops,
    &pd__iforest_ops,
    &pd__gaussian_nb_ops,
    &pd__qda_ops,
    &pd__categorical_nb_ops,
    /* composites */
    &pd__pipeline_ops,
    &pd__ensemble_ops,
    &pd__calibrated_ops,
    &pd__stacking_ops,
    &pd__target_ops,
    NULL,
};
