"""test_strings_vs_fastapi.py - typed inputs on the FastAPI-style routes, side by side with
the app a team writes for a string-column pipeline: FastAPI 0.92 + Pydantic 1.10 (under
uvicorn) with one field per DataFrame column, `str` for a string column and `float` for a
number (Optional[...] = None when the model takes missing values), that builds a
DataFrame (None as np.nan) and calls the pipeline. Both serve the same fitted pipelines of
strings_cases.py.

Every 4xx predictd answers must be FastAPI's, byte for byte (numbers and booleans given
for a string column are str()-ed by Pydantic, objects and arrays are type_error.str,
strings for a number column type_error.float, null none.not_allowed when required); a 200
must carry the same label or value. Where FastAPI answers 500 (the pipeline's ValueError
on an unknown category with handle_unknown='error') predictd answers its 422: that is
test_strings_parity.py's. Every wait is bounded (uvicorn start-up, socket timeouts).
"""
import json
import os
import sys
from typing import List, Optional

import numpy as np
import pytest

import strings_cases as sc
from parity_util import assert_close

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))

import gen_validation_cases as gvc  # noqa: E402  (uvicorn Server, raw http_post)


def make_app(est, optional):
    import pandas as pd
    from fastapi import FastAPI
    from pydantic import create_model
    fields = {}
    for n in sc.COLUMNS:
        t = str if n in sc.STRINGS else float
        fields[n] = (Optional[t], None) if optional else (t, ...)
    InputData = create_model("InputData", **fields)

    def frame(rows):
        df = pd.DataFrame([r.dict() for r in rows], columns=sc.COLUMNS)
        for n in sc.COLUMNS:
            df[n] = df[n].astype(float) if n not in sc.STRINGS else \
                df[n].astype(object).where(df[n].notna(), np.nan)
        return df

    def out(v):
        return v.item() if hasattr(v, "item") else v

    app = FastAPI()

    @app.post("/one")
    async def one(data: InputData):
        return {"prediction": out(est.predict(frame([data]))[0])}

    @app.post("/list")
    async def many(data: List[InputData]):
        return {"predictions": [out(v) for v in est.predict(frame(data))] if data else []}

    return app


def bodies(case_id):
    """(name, body) pairs: valid rows with every kind of value for a string column, and
    invalid ones."""
    base = sc.json_rows(sc.query(case_id).dropna())[0]
    b = []
    for name, v in [("str", "pro"), ("int", 5), ("neg_zero", -0), ("float", 1.5),
                    ("big_float", 1.5e300), ("exp", 1e16), ("small", 1e-5),
                    ("true", True), ("false", False), ("unicode", "pr\u00f6"),
                    ("escaped", "p\u0072o"), ("empty", ""), ("obj", {}), ("arr", [1]),
                    ("null", None)]:
        b.append(("plan_" + name, dict(base, plan=v)))
    b.append(("tenure_str_number", dict(base, tenure="12.5")))
    b.append(("tenure_str", dict(base, tenure="abc")))
    b.append(("tenure_obj", dict(base, tenure={})))
    b.append(("both_bad", dict(base, plan=[], tenure="x")))
    b.append(("missing_plan", {k: v for k, v in base.items() if k != "plan"}))
    b.append(("raw_nan_token", json.dumps(base)[:-1] + ', "plan": NaN}'))
    return b


CASES = ["churn_lr", "strict_ridge", "onehot_hgb"]


@pytest.fixture(scope="module")
def apps(served_dir):
    ports = {}
    servers = []
    for cid in CASES:
        s = gvc.Server(make_app(sc.fitted(cid), sc.CASES_BY_ID[cid].nan_ok))
        s.__enter__()
        servers.append(s)
        ports[cid] = s.port
    yield ports
    for s in servers:
        s.__exit__(None, None, None)


@pytest.fixture(scope="module")
def served_dir(tmp_path_factory):
    from conftest import PredictdServer
    from predictd.export import export
    d = tmp_path_factory.mktemp("strings_vs_fastapi")
    for cid in CASES:
        export(sc.fitted(cid), str(d / (cid + ".json")))
    srv = PredictdServer([str(d)]).start()
    yield srv
    srv.stop()
    err = srv.stderr_text()
    assert "Sanitizer" not in err and "runtime error:" not in err, err


def raw(body):
    return body.encode() if isinstance(body, str) else json.dumps(body).encode()


def compare(fa_status, fa_body, pd_status, pd_body, what, classifier):
    assert pd_status == fa_status, "%s: predictd %d %r, FastAPI %d %r" % (
        what, pd_status, pd_body, fa_status, fa_body)
    if fa_status != 200:
        assert pd_body == fa_body, what
        return
    f, p = json.loads(fa_body), json.loads(pd_body)
    key = "prediction" if "prediction" in f else "predictions"
    if classifier:
        assert p[key] == f[key], what
    else:
        assert_close(p[key], f[key], what)


@pytest.mark.parametrize("case_id", CASES)
def test_single_rows_as_fastapi(apps, served_dir, case_id):
    classifier = sc.CASES_BY_ID[case_id].classifier
    for name, body in bodies(case_id):
        fs, fb = gvc.http_post(apps[case_id], "/one", "application/json", raw(body))
        if fs == 500:  # the pipeline refused an unknown category: predictd's 422
            ps, pb = gvc.http_post(served_dir.port, "/models/%s/predict" % case_id,
                                   "application/json", raw(body))
            assert ps == 422 and b"value_error.category" in pb, (name, pb)
            continue
        ps, pb = gvc.http_post(served_dir.port, "/models/%s/predict" % case_id,
                               "application/json", raw(body))
        compare(fs, fb, ps, pb, "%s/%s" % (case_id, name), classifier)


@pytest.mark.parametrize("case_id", CASES)
def test_lists_as_fastapi(apps, served_dir, case_id):
    classifier = sc.CASES_BY_ID[case_id].classifier
    singles = [b for n, b in bodies(case_id) if not isinstance(b, str)]
    good = sc.json_rows(sc.query(case_id).dropna())[:5]
    pairs = [[[k, v] for k, v in r.items()] for r in good[:2]]  # dict(pairs) per element
    for what, body in [("good", good), ("mixed", good + singles[:6]), ("pairs", pairs),
                       ("errors", singles[10:]), ("empty", [])]:
        fs, fb = gvc.http_post(apps[case_id], "/list", "application/json", raw(body))
        ps, pb = gvc.http_post(served_dir.port, "/models/%s/predict" % case_id,
                               "application/json", raw(body))
        if fs == 500:
            assert ps == 422 and b"value_error.category" in pb, (what, pb)
            continue
        compare(fs, fb, ps, pb, "%s/list %s" % (case_id, what), classifier)
