"""test_categorical.py - CategoricalNB served end to end: labels, probabilities and
predict_joint_log_proba equal scikit-learn 1.2's on every protocol, and a value that is not
one of a feature's fitted categories - where scikit-learn raises (IndexError above the
categories, ValueError below 0 or for NaN) - answered 422 in each protocol's error shape,
naming the row, the feature and the categories; `predictd predict` refuses it the same way
(exit code 1, nothing written). Every exchange is bounded by socket and subprocess
timeouts."""
import json

import numpy as np
import pytest

import parity_util as pu
from conftest import PredictdServer, request
from predictd.export import export

BOUND = 120.0
CASE = "categorical_nb_str"  # iris floored to integers, string labels, alpha 0.5


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    d = tmp_path_factory.mktemp("catnb")
    case = pu.CASES_BY_ID[CASE]
    est = pu.fit(case)
    _, _, names = pu.dataset(case.data)
    export(est, str(d / "catnb.json"), feature_names=names, name="catnb")
    s = PredictdServer(("--default-model", "catnb", str(d))).start()
    yield s, est, pu.query_rows(case), names, d
    s.stop()


def post(port, path, obj, ctype="application/json"):
    body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return request(port, "POST", path, body, {"Content-Type": ctype}, timeout=BOUND)


def test_answers_match_scikit_learn(served):
    s, est, X, names, _ = served
    recs = [dict(zip(names, map(float, row))) for row in X]
    r = post(s.port, "/predict?outputs=predict,predict_proba,predict_joint_log_proba", recs)
    assert r.status == 200, r
    body = r.json()
    pu.assert_labels(body["predictions"], est.predict(X), "labels")
    got = np.array([[p[c] for c in est.classes_] for p in body["probabilities"]])
    pu.assert_close(got, est.predict_proba(X), "proba")
    assert np.array_equal(np.array(body["predict_joint_log_proba"]),
                          est.predict_joint_log_proba(X))  # summed in sklearn's order
    v2 = post(s.port, "/v2/models/catnb/infer", {
        "inputs": [{"name": "input-0", "shape": list(X.shape), "datatype": "INT64",
                    "data": X.astype(np.int64).ravel().tolist()}],
        "outputs": [{"name": "predict"}, {"name": "predict_proba"}]}).json()
    pu.assert_labels(v2["outputs"][0]["data"], est.predict(X), "v2 labels")
    pu.assert_close(np.array(v2["outputs"][1]["data"]).reshape(len(X), -1),
                    est.predict_proba(X), "v2 proba")


def test_values_outside_the_categories_are_refused_on_every_protocol(served):
    s, est, X, names, _ = served
    row = dict(zip(names, map(float, X[0])))
    n_cat = int(est.n_categories_[2])
    bad = dict(row, **{names[2]: float(n_cat)})
    with pytest.raises(IndexError):  # what the library does
        est.predict(np.array([[bad[n] for n in names]]))
    why = ("feature '%s': %d is not one of its categories: CategoricalNB takes the "
           "category's index, an integer from 0 to %d (the categories it was fitted on)"
           % (names[2], n_cat, n_cat - 1))
    r = post(s.port, "/predict", [row, row, bad])
    assert r.status == 422 and r.json() == {"detail": "row 2: " + why}
    r = post(s.port, "/v1/models/catnb:predict", {"instances": [[bad[n] for n in names]]})
    assert r.status == 422 and r.json() == {"error": "row 0: " + why}
    r = post(s.port, "/invocations", {"dataframe_records": [row, bad]})
    assert r.status == 422 and r.json() == {"error_code": "BAD_REQUEST",
                                            "message": "row 1: " + why}
    r = post(s.port, "/v2/models/catnb/infer", {"inputs": [
        {"name": "input-0", "shape": [1, 4], "datatype": "FP64",
         "data": [bad[n] for n in names]}]})
    assert r.status == 422 and r.json() == {"error": "row 0: " + why}
    neg = dict(row, **{names[0]: -1.0})
    r = post(s.port, "/predict", neg)
    assert r.status == 422 and "feature '%s': -1 is not one of its categories" % names[0] \
        in r.json()["detail"]
    # numpy's astype(int) truncates: 1.9 is category 1, -0.5 category 0 (accepted)
    frac = dict(row, **{names[0]: row[names[0]] + 0.9, names[1]: -0.5})
    r = post(s.port, "/predict_proba", frac)
    assert r.status == 200
    want = est.predict_proba(np.array([[frac[n] for n in names]]).astype(int))[0]
    pu.assert_close([r.json()["probabilities"][c] for c in est.classes_], want, "truncated")


def test_batch_cli_refuses_the_row(served, tmp_path):
    s, est, X, names, d = served
    Y = X[:5].copy()
    Y[3, 1] = 99
    pu.write_csv(str(tmp_path / "in.csv"), names, Y)
    out = tmp_path / "out.csv"
    p = pu.run_predict(str(d / "catnb.json"), str(tmp_path / "in.csv"), str(out))
    assert p.returncode == 1, p
    assert "row 3: feature '%s': 99 is not one of its categories" % names[1] in p.stderr
    assert not out.exists()
    Y[3, 1] = 0
    pu.write_csv(str(tmp_path / "in.csv"), names, Y)
    p = pu.run_predict(str(d / "catnb.json"), str(tmp_path / "in.csv"), str(out))
    assert p.returncode == 0, p.stderr
    _, rows = pu.read_csv(str(out))
    pu.assert_labels([r[0] for r in rows], est.predict(Y), "cli labels")


def test_exporter_takes_it_alone_only(tmp_path):
    from sklearn.ensemble import VotingClassifier
    from sklearn.naive_bayes import CategoricalNB, GaussianNB
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler
    from predictd.export import UnsupportedError
    X, y, _ = pu.dataset("iris_cat")
    with pytest.raises(UnsupportedError, match="CategoricalNB reads category indexes as they "
                                               "are sent: it cannot follow a transformer"):
        export(make_pipeline(MinMaxScaler(), CategoricalNB()).fit(X, y), str(tmp_path / "a"))
    vote = VotingClassifier([("c", CategoricalNB()), ("g", GaussianNB())], voting="soft")
    with pytest.raises(UnsupportedError, match="CategoricalNB cannot be a member"):
        export(vote.fit(X, y), str(tmp_path / "b"))
    assert not list(tmp_path.iterdir())
