"""Parity of `predictd predict` with XGBoost 1.7 on models saved by Booster.save_model
(JSON and UBJSON), for every supported objective, with missing values (NaN) in training and in the
rows predicted. What the library returns in float32 must match bit for bit; values derived
from it (1 - p) by parity_util's relative rule."""

import json
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
    ("reg:absoluteerror", "diabetes_nan", {}),
    ("reg:pseudohubererror", "diabetes_nan", {"huber_slope": 50.0}),
    ("reg:squaredlogerror", "diabetes_nan", {}),
    ("count:poisson", "diabetes_nan", {}),
    ("reg:gamma", "diabetes_nan", {}),
    ("reg:tweedie", "diabetes_nan", {"tweedie_variance_power": 1.3}),
    ("survival:cox", "diabetes_nan", {}),
    ("survival:aft", "diabetes_nan", {"aft_loss_distribution": "normal"}),
    ("rank:pairwise", "diabetes_nan", {}),
    ("rank:ndcg", "diabetes_nan", {}),
    ("rank:map", "diabetes_nan", {}),
]
GROUP = 40  # rows per query group of the ranking objectives


def _dmatrix(objective, X, y, names):
    """Training data as each objective needs it: survival:cox right-censors every 5th
    row (negative label), survival:aft gets interval bounds, ranking objectives query
    groups of GROUP rows with integer relevance (rank:map: binary)."""
    import xgboost as xgb
    dm = xgb.DMatrix(X, label=y, missing=np.nan, feature_names=names)
    if objective == "survival:cox":
        dm.set_label(np.where(np.arange(len(y)) % 5 == 0, -y, y))
    elif objective == "survival:aft":
        upper = np.where(np.arange(len(y)) % 4 == 0, np.inf, y * 1.2)
        dm.set_float_info("label_lower_bound", y)
        dm.set_float_info("label_upper_bound", upper)
    elif objective.startswith("rank:"):
        rel = np.digitize(y, np.quantile(y, [0.5]) if objective == "rank:map"
                          else np.quantile(y, [0.25, 0.5, 0.75]))
        dm.set_label(rel)
        sizes = [GROUP] * (len(y) // GROUP)
        dm.set_group(sizes + ([len(y) - sum(sizes)] if len(y) % GROUP else []))
    return dm


def _train(objective, data, extra):
    import xgboost as xgb
    X, y, names = pu.dataset(data)
    dm = _dmatrix(objective, X, y, names)
    params = {"objective": objective, "max_depth": 4, "eta": 0.3, "nthread": 1, "seed": 0}
    params.update(extra)
    return xgb.train(params, dm, num_boost_round=ROUNDS), X, names


@pytest.mark.parametrize("objective,data,extra", OBJECTIVES,
                         ids=["%s-%s-%d" % (o, d, i) for i, (o, d, _) in enumerate(OBJECTIVES)])
def test_xgboost_objective(objective, data, extra, tmp_path):
    _check_objective(objective, data, extra, tmp_path, "model.json")


# UBJSON (save_model("m.ubj")): the same predictions from the binary file, recognised by
# its content (saved under a .json name too, to show the name plays no part).
UBJ_CASES = [OBJECTIVES[i] for i in (1, 3, 6, 7, 13)]


@pytest.mark.parametrize("fname", ["model.ubj", "ubj-named.json"])
@pytest.mark.parametrize("objective,data,extra", UBJ_CASES,
                         ids=["%s-%s" % (o, d) for o, d, _ in UBJ_CASES])
def test_xgboost_ubj(objective, data, extra, fname, tmp_path):
    _check_objective(objective, data, extra, tmp_path, fname)


def _check_objective(objective, data, extra, tmp_path, fname):
    import xgboost as xgb
    bst, X, names = _train(objective, data, extra)
    path = str(tmp_path / fname)
    if fname == "ubj-named.json":
        bst.save_model(str(tmp_path / "m.ubj"))
        os.rename(str(tmp_path / "m.ubj"), path)
    else:
        bst.save_model(path)
    if "ubj" in fname:
        with open(path, "rb") as f:
            assert f.read(2) in (b"{L", b"{i", b"{U"), "not a UBJSON file"
    dm = xgb.DMatrix(X, missing=np.nan, feature_names=names)
    want = bst.predict(dm).astype(np.float64)  # float32 -> float64 is exact
    regression = not objective.startswith(("binary:logistic", "multi:"))
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


# ---- categorical splits (enable_categorical) ---------------------------------------------

CAT_TYPES = ["c", "q", "c", "q"]
CAT_NAMES = ["color", "size", "city", "price"]


def _categorical_data(n=600):
    """Two categorical columns as integer codes (8 and 40 categories, NaN in both) and two
    numeric ones; the label depends on category sets, so splits partition categories."""
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.integers(0, 8, n), rng.normal(size=n),
                         rng.integers(0, 40, n), rng.normal(size=n)]).astype(float)
    X[rng.random(n) < 0.08, 0] = np.nan
    X[rng.random(n) < 0.08, 2] = np.nan
    y = (np.isin(X[:, 0], [0, 3, 5]) ^ (np.nan_to_num(X[:, 2], nan=1) % 7 < 3)
         ^ (X[:, 1] > 0.5)).astype(float)
    return X, y


def _categorical_queries(X):
    """The training rows plus unseen (past the largest, huge), fractional, negative and
    missing category values in each categorical column."""
    odd = [8, 40, 100, 1e7, 3e7, 2.5, 7.99, -1, -0.5, np.nan, 0]
    rows = []
    for v in odd:
        for w in odd[::-1]:
            rows.append([v, 0.3, w, -0.2])
    return np.vstack([X, np.array(rows, dtype=float)])


CAT_CASES = [
    ("binary:logistic", {"max_cat_to_onehot": 1}),              # partition-based splits
    ("binary:logistic", {"max_cat_to_onehot": 64}),             # one-hot splits
    ("reg:squarederror", {"max_cat_to_onehot": 1, "max_depth": 6}),
    ("multi:softprob", {"num_class": 3, "max_cat_to_onehot": 4}),
]


@pytest.mark.parametrize("fname", ["cat.json", "cat.ubj"])
@pytest.mark.parametrize("objective,extra", CAT_CASES,
                         ids=["%s-%d" % (o, i) for i, (o, _) in enumerate(CAT_CASES)])
def test_xgboost_categorical(objective, extra, fname, tmp_path):
    import xgboost as xgb
    X, y = _categorical_data()
    if objective.startswith("multi:"):
        y = (y + (X[:, 1] > 0)).astype(float)
    dm = xgb.DMatrix(X, label=y, feature_names=CAT_NAMES, feature_types=CAT_TYPES,
                     enable_categorical=True)
    params = {"objective": objective, "tree_method": "hist", "max_depth": 4, "eta": 0.3,
              "nthread": 1, "seed": 0}
    params.update(extra)
    bst = xgb.train(params, dm, num_boost_round=ROUNDS)
    path = str(tmp_path / fname)
    bst.save_model(path)
    trees = json.loads(bst.save_raw("json"))["learner"]["gradient_booster"]["model"]["trees"]
    assert any(1 in t["split_type"] for t in trees), "no categorical split was learned"
    Q = _categorical_queries(X)
    want = bst.predict(xgb.DMatrix(Q, feature_names=CAT_NAMES, feature_types=CAT_TYPES,
                                   enable_categorical=True)).astype(np.float64)
    regression = objective.startswith("reg:")
    doc = {"features": CAT_NAMES, "task": "regression" if regression else "classification",
           "classes": list(range(extra.get("num_class", 2)))}
    got, proba = pu.binary_outputs(doc, path, Q, tmp_path)
    what = "categorical %s %s" % (objective, extra)
    if regression:
        pu.assert_close(got, want, what + " values", exact=True)
    elif objective == "binary:logistic":
        pu.assert_close(proba[:, 1], want, what + " p", exact=True)
    else:
        pu.assert_close(proba, want, what + " probabilities", exact=True)


def test_xgboost_categorical_ubj_over_http(spawn_server, tmp_path):
    """A categorical regression model saved as .ubj, served from a model repository and
    asked over HTTP (/models/<name>/predict, one JSON object per row, null for a missing
    category): the same values as XGBoost's predict."""
    import xgboost as xgb
    from conftest import request
    X, y = _categorical_data()
    dm = xgb.DMatrix(X, label=y, feature_names=CAT_NAMES, feature_types=CAT_TYPES,
                     enable_categorical=True)
    bst = xgb.train({"objective": "reg:squarederror", "tree_method": "hist", "max_depth": 4,
                     "max_cat_to_onehot": 1, "nthread": 1, "seed": 0}, dm, ROUNDS)
    repo = tmp_path / "models"
    repo.mkdir()
    bst.save_model(str(repo / "cats.ubj"))
    Q = _categorical_queries(X)[-60:]
    want = bst.predict(xgb.DMatrix(Q, feature_names=CAT_NAMES, feature_types=CAT_TYPES,
                                   enable_categorical=True)).astype(np.float64)
    srv = spawn_server("--workers", "1", str(repo))
    rows = [{n: (None if np.isnan(v) else float(v)) for n, v in zip(CAT_NAMES, q)} for q in Q]
    r = request(srv.port, "POST", "/models/cats/predict", body=json.dumps(rows).encode(),
                headers={"Content-Type": "application/json"})
    assert r.status == 200, r.body
    got = np.array([float(v) for v in r.json()["predictions"]])
    pu.assert_close(got, want, "categorical .ubj over HTTP", exact=True)
