"""The exporter on its own, without the C binary: every supported estimator exported and
evaluated by the pure-numpy reference evaluator of the format (parity_util) must agree
with scikit-learn; the command line writes the same file and refuses what it cannot
export with exit code 2, a message naming the estimator and no file left behind."""

import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

import parity_util as pu

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "models"))

from predictd.export import export  # noqa: E402

TOOL = os.path.join(ROOT, "tools", "predictd-export")
TOOL_TIMEOUT = 120


def _export_case(case, tmp_path):
    est = pu.fit(case)
    _, _, names = pu.dataset(case.data)
    path = str(tmp_path / (case.id + ".json"))
    export(est, path, feature_names=names if case.named else None)
    with open(path) as f:
        return est, json.load(f), path


def check_against_library(est, doc, got_labels, got_proba, X, exact, what):
    """Compares one evaluation of the exported model (labels as class indexes or texts)
    with scikit-learn on X."""
    want, want_proba = pu.library_outputs(est, X)
    if doc["task"] == "regression":
        pu.assert_close(got_labels, want, what + " values", exact)
        return
    pu.assert_labels(got_labels, want, what + " labels")
    if want_proba is None:  # no predict_proba in the library: predictd writes NaN
        assert np.isnan(np.asarray(got_proba, dtype=np.float64)).all(), \
            what + ": probabilities of a model without predict_proba are not NaN"
        return
    pu.assert_close(got_proba, want_proba, what + " probabilities", exact)


@pytest.mark.parametrize("case", pu.CASES, ids=lambda c: c.id)
def test_reference_evaluator_matches_library(case, tmp_path):
    est, doc, _ = _export_case(case, tmp_path)
    X, names = pu.query_rows(case), pu.dataset(case.data)[2]
    assert doc["features"] == (names if case.named else
                               ["x%d" % i for i in range(X.shape[1])])
    if any(s["type"] not in pu.REFERENCE_TYPES for s in doc["steps"]):
        return  # a type the numpy evaluator does not compute: test_parity*.py checks it
    idx, proba = pu.reference_predict(doc, X)
    labels = idx if doc["task"] == "regression" else [doc["classes"][i] for i in idx]
    check_against_library(est, doc, labels, proba, X, case.exact, case.id)


def _run_tool(*args):
    return subprocess.run([TOOL] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=TOOL_TIMEOUT)


def test_cli_pickle_and_joblib_write_what_export_writes(tmp_path):
    import joblib
    est = pu.fit(pu.CASES_BY_ID["gb_multiclass"])
    _, _, names = pu.dataset("iris_str")
    export(est, str(tmp_path / "api.json"), feature_names=names, name="gbm")
    with open(tmp_path / "m.pkl", "wb") as f:
        pickle.dump(est, f)
    joblib.dump(est, tmp_path / "m.joblib")
    want = (tmp_path / "api.json").read_text()
    for src in ("m.pkl", "m.joblib"):
        r = _run_tool(tmp_path / src, tmp_path / "cli.json", "--feature-names",
                      ",".join(names), "--name", "gbm")
        assert r.returncode == 0, r.stderr
        assert (tmp_path / "cli.json").read_text() == want
    r = _run_tool(tmp_path / "m.pkl", tmp_path / "default.json")
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "default.json").read_text())
    assert doc["name"] == "default" and doc["features"] == ["x0", "x1", "x2", "x3"]
    assert doc["classes"] == ["setosa", "versicolor", "virginica"]
    assert sorted(os.listdir(tmp_path)) == ["api.json", "cli.json", "default.json",
                                            "m.joblib", "m.pkl"]


def _unsupported():
    from sklearn import ensemble, linear_model, preprocessing, svm
    from sklearn.pipeline import make_pipeline
    X, y, _ = pu.dataset("iris")
    Xd, yd, _ = pu.dataset("diabetes")
    gram = X @ X.T
    return [
        ("precomputed", svm.SVC(kernel="precomputed").fit(gram, y)),
        ("SplineTransformer", make_pipeline(preprocessing.SplineTransformer(),
                                            linear_model.LogisticRegression()).fit(X, y)),
        ("KBinsDiscretizer(dtype=<class 'numpy.float32'>) is not supported", make_pipeline(
            preprocessing.KBinsDiscretizer(dtype=np.float32, encode="ordinal"),
            linear_model.LogisticRegression()).fit(X, y)),
        ("multi-output", linear_model.Ridge().fit(Xd, np.column_stack([yd, yd]))),
        ("not fitted", linear_model.LinearRegression()),
        ("poisson", ensemble.HistGradientBoostingRegressor(loss="poisson", max_iter=3)
         .fit(Xd, yd)),
        ("clip=True", make_pipeline(preprocessing.MinMaxScaler(clip=True),
                                    linear_model.LinearRegression()).fit(Xd, yd)),
        ("dict", {"not": "an estimator"}),
    ] + _xgboost_wrappers(X, y)


SAVE_MODEL_HINT = "save it with model.save_model('m.json') (or .ubj) and serve that file"


def _xgboost_wrappers(X, y):
    """XGBoost's scikit-learn wrappers: refused with the hint to serve save_model's file."""
    import xgboost as xgb
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    kw = {"n_estimators": 2, "max_depth": 2, "nthread": 1}
    return [
        (SAVE_MODEL_HINT, xgb.XGBClassifier(**kw).fit(X, y)),
        (SAVE_MODEL_HINT, xgb.XGBRegressor(**kw).fit(X, y)),
        (SAVE_MODEL_HINT, xgb.XGBRanker(**kw).fit(X, y, group=[50, 50, 50])),
        ("Pipeline's other steps are not part of that file",
         make_pipeline(StandardScaler(), xgb.XGBClassifier(**kw)).fit(X, y)),
    ]


@pytest.mark.parametrize("expected,est", _unsupported(), ids=lambda v: str(v)[:20])
def test_cli_refuses_with_exit_2_and_writes_nothing(expected, est, tmp_path):
    with open(tmp_path / "in.pkl", "wb") as f:
        pickle.dump(est, f)
    out = tmp_path / "out.json"
    r = _run_tool(tmp_path / "in.pkl", out)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert expected in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert sorted(os.listdir(tmp_path)) == ["in.pkl"]


def test_failed_export_keeps_the_previous_file(tmp_path):
    from sklearn.gaussian_process import GaussianProcessClassifier
    X, y, _ = pu.dataset("iris")
    out = tmp_path / "model.json"
    out.write_text("previous")
    with pytest.raises(Exception, match="GaussianProcessClassifier"):
        export(GaussianProcessClassifier().fit(X[:40], y[:40]), str(out))
    assert out.read_text() == "previous" and os.listdir(tmp_path) == ["model.json"]


@pytest.mark.parametrize("make,msg", [
    ("neighbors.RadiusNeighborsClassifier(radius=5.0)", "set outlier_label"),
    ("gaussian_process.GaussianProcessClassifier()", "closest supported: SVC"),
    ("neighbors.LocalOutlierFactor(novelty=True)", "closest supported: IsolationForest"),
    ("make_pipeline(preprocessing.SplineTransformer(), linear_model.LogisticRegression())",
     "SplineTransformer is not supported as a pipeline step; closest supported: an MLP"),
    ("make_pipeline(preprocessing.SplineTransformer(), svm.SVC())",
     "closest supported: an MLP or a tree model on the raw columns"),
])
def test_unsupported_names_the_closest_alternative(make, msg, tmp_path):
    from sklearn import gaussian_process, linear_model, neighbors, preprocessing, svm  # noqa
    from sklearn.pipeline import make_pipeline  # noqa: F401
    X, y, _ = pu.dataset("iris")
    est = eval(make).fit(X[::3], y[::3])
    with pytest.raises(Exception, match=msg):
        export(est, str(tmp_path / "m.json"))
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("names,msg", [(["a", "b"], "2 feature names given"),
                                       (["a", "a", "b", "c"], "duplicate"),
                                       (["a", "", "b", "c"], "empty")])
def test_bad_feature_names_are_refused(names, msg, tmp_path):
    est = pu.fit(pu.CASES_BY_ID["logistic_liblinear"])
    with pytest.raises(Exception, match=msg):
        export(est, str(tmp_path / "m.json"), feature_names=names)
    assert os.listdir(tmp_path) == []


def test_bad_model_name_is_refused(tmp_path):
    est = pu.fit(pu.CASES_BY_ID["logistic_liblinear"])
    with pytest.raises(Exception, match="model name"):
        export(est, str(tmp_path / "m.json"), name="no spaces")
    assert os.listdir(tmp_path) == []


def test_demo_models_are_current_and_match_the_library(tmp_path):
    import build
    from predictd import demo
    for path in build.build(str(tmp_path)):
        base = os.path.basename(path)
        committed = os.path.join(ROOT, "models", base)
        assert json.load(open(path)) == json.load(open(committed)), \
            "models/%s is stale: rerun models/build.py" % base
    seed = json.load(open(os.path.join(ROOT, "models", "seed.json")))
    assert seed["features"] == ["feature1", "feature2"] and seed["classes"] == [0, 1]
    iris = json.load(open(os.path.join(ROOT, "models", "iris.json")))
    assert iris["classes"] == ["setosa", "versicolor", "virginica"]
    assert len(iris["steps"][0]["trees"]) == 50
    for train, doc, data in ((demo.train_seed, seed, "breast_cancer"),
                             (demo.train_iris, iris, "iris")):
        est = train()
        X = pu.dataset(data)[0][:, :len(doc["features"])]
        idx, proba = pu.reference_predict(doc, X)
        check_against_library(est, doc, [doc["classes"][i] for i in idx], proba, X,
                              doc["kind"] == "RandomForestClassifier", doc["name"])


def test_feature_names_in_wins_and_conflicting_names_are_refused(tmp_path):
    from sklearn.linear_model import LinearRegression
    X, y, _ = pu.dataset("diabetes")
    est = LinearRegression().fit(X[:, :3], y)
    # what fitting on a pandas DataFrame sets (pandas is not installed here)
    est.feature_names_in_ = np.array(["age", "sex", "bmi"], dtype=object)
    doc = export(est, str(tmp_path / "m.json"))
    assert doc["features"] == ["age", "sex", "bmi"] and doc["name"] == "m"
    with pytest.raises(Exception, match="differ"):
        export(est, str(tmp_path / "n.json"), feature_names=["a", "b", "c"])
    assert sorted(os.listdir(tmp_path)) == ["m.json"]
