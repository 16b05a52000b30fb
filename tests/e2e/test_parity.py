"""Parity of `predictd predict` with scikit-learn: every supported estimator is trained on
a bundled dataset, exported, predicted by the real binary ($PREDICTD_BIN) on all rows and
compared with the library (labels identical; values and probabilities by parity_util's
rule; bit-exact for single trees and forests)."""

import json
import os
import shutil

import numpy as np
import pytest

import parity_util as pu
from test_export import ROOT, _export_case, check_against_library

pytestmark = pytest.mark.skipif("PREDICTD_BIN" not in os.environ,
                                reason="PREDICTD_BIN is not set (make test sets it)")


@pytest.mark.parametrize("case", pu.CASES, ids=lambda c: c.id)
def test_binary_matches_library(case, tmp_path):
    est, doc, path = _export_case(case, tmp_path)
    X = pu.query_rows(case)
    labels, proba = pu.binary_outputs(doc, path, X, tmp_path)
    check_against_library(est, doc, labels, proba, X, case.exact, case.id)


def test_columns_matched_by_name_and_threads_do_not_change_results(tmp_path):
    case = pu.CASES_BY_ID["gb_multiclass"]
    est, doc, path = _export_case(case, tmp_path)
    X, _, names = pu.dataset(case.data)
    order = [2, 0, 3, 1]
    shuffled = np.column_stack([X[:, order], np.arange(len(X), dtype=float)])
    csv_in, out1, out2 = (str(tmp_path / n) for n in ("x.csv", "y1.csv", "y2.csv"))
    pu.write_csv(csv_in, [names[i] for i in order] + ["row_id"], shuffled)
    for out, extra in ((out1, ()), (out2, ("--threads", "2"))):
        r = pu.run_predict(path, csv_in, out, extra=extra)
        assert r.returncode == 0, r.stderr
    _, rows = pu.read_csv(out1)
    assert open(out1).read() == open(out2).read()
    check_against_library(est, doc, [r[0] for r in rows],
                          np.array([[float(v) for v in r[1:]] for r in rows]), X, False,
                          "shuffled columns")


def test_missing_column_is_named(tmp_path):
    case = pu.CASES_BY_ID["gb_multiclass"]
    _, doc, path = _export_case(case, tmp_path)
    X, _, names = pu.dataset(case.data)
    csv_in = str(tmp_path / "x.csv")
    pu.write_csv(csv_in, names[:3], X[:5, :3])
    r = pu.run_predict(path, csv_in, str(tmp_path / "y.csv"))
    assert r.returncode != 0 and names[3] in r.stderr, (r.returncode, r.stderr)


@pytest.mark.parametrize("name,data", [("seed", "breast_cancer"), ("iris", "iris")])
def test_committed_demo_models(name, data, tmp_path):
    from predictd import demo
    model = os.path.join(ROOT, "models", name + ".json")
    doc = json.load(open(model))
    est = getattr(demo, "train_" + name)()
    X = np.ascontiguousarray(pu.dataset(data)[0][:, :len(doc["features"])])
    shutil.copy(model, tmp_path / "m.json")
    labels, proba = pu.binary_outputs(doc, str(tmp_path / "m.json"), X, tmp_path)
    check_against_library(est, doc, labels, proba, X, name == "iris", name)


def test_heavy_forest_shape_bit_exact(tmp_path):
    """The benchmark's forest (fewer trees, same depth and data) is bit-exact."""
    from predictd import demo
    from predictd.export import export
    est, names = demo.train_heavy_forest(n_trees=4, depth=12), demo.FEATURES["heavy"]
    path = str(tmp_path / "heavy.json")
    doc = export(est, path, feature_names=names)
    X = demo.heavy_data()[0][:2000]
    labels, proba = pu.binary_outputs(doc, path, X, tmp_path)
    check_against_library(est, doc, labels, proba, X, True, "heavy forest")
