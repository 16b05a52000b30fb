"""Parity of `predictd predict` with scikit-learn 1.2's HistGradientBoosting fitted with
`categorical_features` (bitset splits): exported, predicted by the real binary on the
training rows plus unseen categories (past the known ones, past 255 where the compiled
predictor reads the low byte, huge), fractional, negative and missing values, compared
with predict / predict_proba: labels identical, values and probabilities within the
parity rule (HGB sums in float64 as scikit-learn does). XGBoost's categorical splits are
in test_parity_xgboost.py."""

import os

import numpy as np
import pytest

import parity_util as pu
from test_export import check_against_library

pytestmark = pytest.mark.skipif("PREDICTD_BIN" not in os.environ,
                                reason="PREDICTD_BIN is not set (make test sets it)")

NAMES = ["color", "size", "city", "price"]


def _data(n=800, seed=5):
    """Two categorical columns (codes 0..7 and 0..59, NaN in both) and two numeric ones."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.integers(0, 8, n), rng.normal(size=n),
                         rng.integers(0, 60, n), rng.normal(size=n)]).astype(float)
    X[rng.random(n) < 0.07, 0] = np.nan
    X[rng.random(n) < 0.07, 2] = np.nan
    X[rng.random(n) < 0.05, 1] = np.nan
    score = (np.isin(X[:, 0], [0, 3, 5]).astype(float) + (np.nan_to_num(X[:, 2]) % 7 < 3)
             + X[:, 3] + np.nan_to_num(X[:, 1]))
    return X, score


def _queries(X):
    odd = [8, 59, 60, 100, 256, 259, 515, 3e9, 2.5, 6.99, -1, -0.5, np.nan, 0]
    rows = [[v, 0.3, w, -0.2] for v in odd for w in odd[::-1]]
    return np.vstack([X, np.array(rows, dtype=float)])


def _models():
    from sklearn.ensemble import HistGradientBoostingClassifier as HC
    from sklearn.ensemble import HistGradientBoostingRegressor as HR
    X, s = _data()
    mask = [True, False, True, False]
    return [
        ("binary", HC(categorical_features=mask, max_iter=30, random_state=0)
         .fit(X, (s > np.median(s)).astype(int))),
        ("multiclass", HC(categorical_features=[0, 2], max_iter=20, random_state=0)
         .fit(X, np.digitize(s, np.quantile(s, [0.33, 0.66])))),
        ("regressor", HR(categorical_features=mask, max_iter=40, random_state=0).fit(X, s)),
        ("one_category_feature", HR(categorical_features=[2], max_iter=20, max_depth=3,
                                    random_state=0).fit(X, s)),
    ]


@pytest.mark.parametrize("name,est", _models(), ids=lambda v: v if isinstance(v, str) else "")
def test_hgb_categorical(name, est, tmp_path):
    from predictd.export import export
    X = _queries(_data()[0])
    path = str(tmp_path / (name + ".json"))
    doc = export(est, path, feature_names=NAMES)
    step = doc["steps"][-1]
    assert step["category_cast"] == "uint8"
    assert any("categorical" in t for t in step["trees"]), "no categorical split learned"
    labels, proba = pu.binary_outputs(doc, path, X, tmp_path)
    check_against_library(est, doc, labels, proba, X, False, "hgb categorical " + name)
