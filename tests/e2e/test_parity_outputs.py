"""Parity through the C API (parity_util.native_outputs, pd_model_predict_ex) for every
case of parity_util: each named output the model declares (decision_function,
predict_joint_log_proba, score_samples, transform, ...) must equal the scikit-learn method
of that name, and labels, values and probabilities must match as in test_parity.py
(`predictd predict` prints only those three). Values by parity_util's rule."""

import numpy as np
import pytest

import parity_util as pu
from test_export import _export_case


@pytest.mark.parametrize("case", pu.CASES, ids=lambda c: c.id)
def test_named_outputs_match_library(case, tmp_path):
    est, doc, path = _export_case(case, tmp_path)
    X = pu.query_rows(case)
    got = pu.native_outputs(path, X)
    for name in set(got) - {"label", "value", "proba"}:
        want = pu.library_method(est, name, X)
        pu.assert_close(got[name], want, "%s %s" % (case.id, name), case.exact)
    assert set(got) - {"label", "value", "proba"} >= set(case.outputs), sorted(got)
    if doc["task"] == "regression":
        pu.assert_close(got["value"], est.predict(X), case.id + " values", case.exact)
        return
    pu.assert_labels([doc["classes"][i] for i in got["label"]], est.predict(X),
                     case.id + " labels")
    if hasattr(est, "predict_proba"):
        pu.assert_close(got["proba"], est.predict_proba(X), case.id + " proba", case.exact)
    else:
        assert np.isnan(got["proba"]).all(), case.id
