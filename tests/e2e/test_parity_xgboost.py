"""Parity of `predictd predict` with XGBoost 1.7 on models saved by Booster.save_model
(JSON), for every supported objective, with missing values (NaN) in training and in the
rows predicted. What the library returns in float32 must match bit for bit; values derived
from it (1 - p) by parity_util's relative rule."""

import os

import numpy as np
import pytest

import parity_util as pu

pytestmark = pytest.mark.skipif("PREDICTD_BIN" not in os.environ,
                                reason="PREDICTD_BIN is not set (make test sets it)")

ROUNDS = 20

# objective, dataset (with NaN cells), extra params
OBJECTIVES = [
    ("reg:squarederror", "diabetes_nan", {}),
    ("reg:squarederror", "diabetes_nan", {"base_score": 150.0, "max_depth": 6}),
    ("reg:logistic", "breast_cancer_nan", {}),
    ("binary:logistic", "breast_cancer_nan", {}),
    ("binary:logitraw", "breast_cancer_nan", {}),
    ("binary:logitraw", "breast_cancer_nan", {"base_score": 0.3}),
    ("multi:softprob", "wine_nan", {"num_class": 3}),
    ("multi:softmax", "iris_nan", {"num_class": 3}),
    ("binary:logistic", "breast_cancer_nansplit", {"base_score": 0.3}),
]


def _train(objective, data, extra):
    import xgboost as xgb
    X, y, names = pu.dataset(data)
    dm = xgb.DMatrix(X, label=y, missing=np.nan, feature_names=names)
    params = {"objective": objective, "max_depth": 4, "eta": 0.3, "nthread": 1, "seed": 0}
    params.update(extra)
    return xgb.train(params, dm, num_boost_round=ROUNDS), X, names


@pytest.mark.parametrize("objective,data,extra", OBJECTIVES,
                         ids=["%s-%s-%d" % (o, d, i) for i, (o, d, _) in enumerate(OBJECTIVES)])
def test_xgboost_objective(objective, data, extra, tmp_path):
    import xgboost as xgb
    bst, X, names = _train(objective, data, extra)
    path = str(tmp_path / "model.json")
    bst.save_model(path)
    dm = xgb.DMatrix(X, missing=np.nan, feature_names=names)
    want = bst.predict(dm).astype(np.float64)  # float32 -> float64 is exact
    regression = objective.startswith("reg:") or objective == "binary:logitraw"
    doc = {"features": names, "task": "regression" if regression else "classification"}
    if not regression:
        k = extra.get("num_class", 2)
        doc["classes"] = list(range(k))
    got, proba = pu.binary_outputs(doc, path, X, tmp_path)
    what = "%s on %s" % (objective, data)
    if regression:
        pu.assert_close(got, want, what + " values", exact=True)
        return
    if objective.startswith("binary:"):
        pu.assert_close(proba[:, 1], want, what + " p", exact=True)
        pu.assert_close(proba[:, 0], 1.0 - want, what + " 1-p")
        pu.assert_labels(got, (want > 0.5).astype(int), what + " labels")
        return
    if objective == "multi:softmax":  # the same trees through softprob give the proba
        pu.assert_labels(got, want.astype(int), what + " labels")
        bst.set_param({"objective": "multi:softprob"})
        want = bst.predict(dm).astype(np.float64)
    pu.assert_close(proba, want, what + " probabilities", exact=True)
    pu.assert_labels(got, want.argmax(axis=1), what + " labels")
