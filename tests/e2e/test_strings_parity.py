"""test_strings_parity.py - issue 10 end to end: scikit-learn pipelines fitted on a pandas
DataFrame with string and numeric columns (strings_cases.py: ColumnTransformer, nested
Pipelines, SimpleImputer, MissingIndicator, OneHotEncoder, OrdinalEncoder) are exported,
served by `predictd serve` and run by `predictd predict`; their answers over HTTP (lists
of JSON rows, strings as JSON strings, missing values as null) and from the CSV must be
scikit-learn's own predict / predict_proba on the same DataFrame (labels identical,
values by parity_util's rule), unseen categories and missing values included.

The V2 protocol carries the same rows as one tensor per column (BYTES for strings, JSON
and Triton binary), V1 and MLflow as JSON strings. Also: an unknown category for an
encoder with handle_unknown='error' is a 422 naming the column and the value
(FastAPI-style), a 400 naming the element (V2) or the row (V1, MLflow), or an error
naming the line (CSV); MLflow's text/csv is refused for a string-input model; /models and
`inspect` show each input's type. Every wait is bounded
(server start-up, socket timeouts, parity_util.RUN_TIMEOUT).
"""
import json
import os
import subprocess
import urllib.request

import numpy as np
import pytest

import strings_cases as sc
from parity_util import RUN_TIMEOUT, assert_close, assert_labels

HTTP_TIMEOUT = 30


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """{case id: model path}: every case exported into one directory."""
    from predictd.export import export
    d = tmp_path_factory.mktemp("strings_models")
    out = {}
    for c in sc.CASES:
        path = str(d / (c.id + ".json"))
        export(sc.fitted(c.id), path)
        out[c.id] = path
    return d, out


@pytest.fixture(scope="module")
def served(exported):
    from conftest import PredictdServer
    d, _ = exported
    srv = PredictdServer([str(d)]).start()
    yield srv
    srv.stop()
    err = srv.stderr_text()
    assert "Sanitizer" not in err and "runtime error:" not in err, err


def post(port, path, body, raw=False):
    data = body if raw else json.dumps(body).encode()
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=data,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def get(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                timeout=HTTP_TIMEOUT) as r:
        return json.loads(r.read())


@pytest.mark.parametrize("case_id", [c.id for c in sc.CASES])
def test_http_parity(served, case_id):
    case = sc.CASES_BY_ID[case_id]
    est, q = sc.fitted(case_id), sc.query(case_id)
    rows = sc.json_rows(q)
    st, body = post(served.port, "/models/%s/predict" % case_id, rows)
    assert st == 200, body
    got = json.loads(body)["predictions"]
    if case.classifier:
        assert_labels(got, est.predict(q), case_id + " labels")
        st, body = post(served.port, "/models/%s/predict_proba" % case_id, rows)
        assert st == 200, body
        proba = json.loads(body)["probabilities"]
        classes = [str(k) for k in est.classes_]
        assert_close([[p[k] for k in classes] for p in proba], est.predict_proba(q),
                     case_id + " proba")
    else:
        assert_close(got, est.predict(q), case_id + " values")
    # one row at a time: the single-object body decodes the same way
    for i in (0, len(rows) - 1):
        st, body = post(served.port, "/models/%s/predict" % case_id, rows[i])
        assert st == 200, body
        one = json.loads(body)["prediction"]
        want = est.predict(q.iloc[[i]])[0]
        if case.classifier:
            assert_labels([one], [want], case_id + " one row")
        else:
            assert_close([one], [want], case_id + " one row")


@pytest.mark.parametrize("case_id", [c.id for c in sc.CASES])
def test_csv_parity(exported, tmp_path, case_id):
    case = sc.CASES_BY_ID[case_id]
    est, q = sc.fitted(case_id), sc.query(case_id)
    csv_in, csv_out = str(tmp_path / "in.csv"), str(tmp_path / "out.csv")
    assert not any(isinstance(v, str) and ("," in v or '"' in v)
                   for v in q.to_numpy().ravel())
    q.to_csv(csv_in, index=False, na_rep="")
    cmd = [os.environ["PREDICTD_BIN"], "predict", exported[1][case_id], "--input", csv_in,
           "--output", csv_out] + (["--proba"] if case.classifier else [])
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert r.returncode == 0, r.stderr
    with open(csv_out) as f:
        lines = [ln.rstrip("\n").split(",") for ln in f][1:]
    assert len(lines) == len(q)
    if case.classifier:
        assert_labels([ln[0] for ln in lines], est.predict(q), case_id + " csv labels")
        assert_close([[float(v) for v in ln[1:]] for ln in lines], est.predict_proba(q),
                     case_id + " csv proba")
    else:
        assert_close([float(ln[0]) for ln in lines], est.predict(q), case_id + " csv values")


def test_unknown_category_is_a_422_naming_column_and_value(served):
    row = sc.json_rows(sc.query("strict_ridge"))[0]
    row["plan"] = "platinum"
    st, body = post(served.port, "/models/strict_ridge/predict", row)
    assert st == 422, body
    assert json.loads(body) == {"detail": [{
        "loc": ["body", "plan"], "type": "value_error.category",
        "msg": "unknown category \"platinum\": the model's encoder was fitted with "
               "handle_unknown='error'"}]}
    # in a list: the row index; a field given twice keeps the last value (as Python)
    ok = dict(row, plan="pro")
    st, body = post(served.port, "/models/strict_ridge/predict",
                    b'[%s, {"plan": "zz", "plan": "pro", %s}]' % (
                        json.dumps(ok).encode(), json.dumps(ok).encode()[1:-1]), raw=True)
    assert st == 200, body
    st, body = post(served.port, "/models/strict_ridge/predict", [ok, dict(ok, device="tv")])
    assert st == 422
    assert json.loads(body)["detail"][0]["loc"] == ["body", 1, "device"]
    # a Pydantic error anywhere wins (FastAPI never reaches the model)
    st, body = post(served.port, "/models/strict_ridge/predict",
                    [dict(ok, device="tv"), dict(ok, tenure="x")])
    assert st == 422
    assert json.loads(body)["detail"] == [{"loc": ["body", 1, "tenure"],
                                           "msg": "value is not a valid float",
                                           "type": "type_error.float"}]
    # the model takes no missing values: null is Pydantic's none.not_allowed
    st, body = post(served.port, "/models/strict_ridge/predict", dict(ok, plan=None))
    assert st == 422
    assert json.loads(body)["detail"][0]["type"] == "type_error.none.not_allowed"


def test_unknown_category_in_csv_names_the_line(exported, tmp_path):
    q = sc.query("strict_ridge").iloc[:3].copy()
    q.iloc[2, q.columns.get_loc("device")] = "tv"
    csv_in = str(tmp_path / "in.csv")
    q.to_csv(csv_in, index=False)
    r = subprocess.run([os.environ["PREDICTD_BIN"], "predict", exported[1]["strict_ridge"],
                        "--input", csv_in], capture_output=True, text=True,
                       timeout=RUN_TIMEOUT)
    assert r.returncode != 0
    assert "line 4" in r.stderr and "'device'" in r.stderr and "'tv'" in r.stderr, r.stderr


def v2_body(q, binary=False):
    """A V2 request of one [N] tensor per column: BYTES for the strings (null: missing),
    FP64 for the numbers (JSON data, or Triton binary: (json part, binary part))."""
    import struct
    inputs, bins = [], []
    for c in sc.COLUMNS:
        col = q[c].tolist()
        is_str = c in sc.STRINGS
        t = {"name": c, "shape": [len(col)], "datatype": "BYTES" if is_str else "FP64"}
        if not binary:
            t["data"] = [None if (isinstance(v, float) and v != v) else v for v in col]
        else:
            b = b"".join(struct.pack("<I", len(v.encode())) + v.encode() for v in col) \
                if is_str else struct.pack("<%dd" % len(col), *col)
            t["parameters"] = {"binary_data_size": len(b)}
            bins.append(b)
        inputs.append(t)
    doc = {"inputs": inputs, "outputs": [{"name": "predict"}, {"name": "predict_proba"}]}
    return json.dumps(doc).encode(), b"".join(bins)


@pytest.mark.parametrize("case_id", ["churn_lr", "strict_ridge", "onehot_hgb"])
def test_v2_parity(served, case_id):
    case = sc.CASES_BY_ID[case_id]
    est, q = sc.fitted(case_id), sc.query(case_id)
    head, _ = v2_body(q)
    doc = json.loads(head)
    if not case.classifier:
        doc["outputs"] = [{"name": "predict"}]
    st, body = post(served.port, "/v2/models/%s/infer" % case_id, doc)
    assert st == 200, body
    outs = {o["name"]: o["data"] for o in json.loads(body)["outputs"]}
    if case.classifier:
        assert_labels(outs["predict"], est.predict(q), case_id + " v2 labels")
        assert_close(np.reshape(outs["predict_proba"], (len(q), -1)), est.predict_proba(q),
                     case_id + " v2 proba")
    else:
        assert_close(outs["predict"], est.predict(q), case_id + " v2 values")
    # Triton binary tensors: the same rows without missing strings
    qb = q.dropna(subset=sc.STRINGS)
    head, bins = v2_body(qb, binary=True)
    doc = json.loads(head)
    doc["outputs"] = [{"name": "predict", "parameters": {"binary_data": False}}]
    req = urllib.request.Request(
        "http://127.0.0.1:%d/v2/models/%s/infer" % (served.port, case_id),
        data=json.dumps(doc).encode() + bins,
        headers={"Inference-Header-Content-Length": str(len(json.dumps(doc).encode())),
                 "Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as r:
        got = json.loads(r.read())["outputs"][0]["data"]
    if case.classifier:
        assert_labels(got, est.predict(qb), case_id + " v2 binary labels")
    else:
        assert_close(got, est.predict(qb), case_id + " v2 binary values")


def test_v2_refusals(served):
    q = sc.query("strict_ridge").iloc[:2].copy()
    head, _ = v2_body(q)
    doc = json.loads(head)
    doc["inputs"][1]["data"][1] = "platinum"
    st, body = post(served.port, "/v2/models/strict_ridge/infer", doc)
    assert st == 400
    assert json.loads(body) == {"error": "input 'plan': element 1 (row 1, feature 'plan'): "
                                         "unknown category \"platinum\" (the model's encoder "
                                         "was fitted with handle_unknown='error')"}
    doc = json.loads(head)
    doc["inputs"][1]["datatype"] = "FP64"
    doc["inputs"][1]["data"] = [1, 2]
    st, body = post(served.port, "/v2/models/strict_ridge/infer", doc)
    assert st == 400 and b"send it as a BYTES tensor" in body, body
    st, body = post(served.port, "/v2/models/strict_ridge/infer", {"inputs": [
        {"name": "x", "shape": [1, 6], "datatype": "FP64", "data": [1, 2, 3, 4, 5, 6]}]})
    assert st == 400 and b"one [N] tensor per feature" in body, body


@pytest.mark.parametrize("case_id", ["churn_lr", "strict_ridge"])
def test_v1_and_mlflow_parity(served, exported, case_id):
    from conftest import PredictdServer
    case = sc.CASES_BY_ID[case_id]
    est, q = sc.fitted(case_id), sc.query(case_id)
    rows = sc.json_rows(q)
    want = est.predict(q)
    st, body = post(served.port, "/v1/models/%s:predict" % case_id, {"instances": rows})
    assert st == 200, body
    got = json.loads(body)["predictions"]
    srv = PredictdServer(["--default-model", case_id, str(exported[0])]).start()
    try:  # /invocations serves the default model
        st, body = post(srv.port, "/invocations", {"dataframe_split": {
            "columns": sc.COLUMNS, "data": [[r[c] for c in sc.COLUMNS] for r in rows]}})
    finally:
        srv.stop()
    assert st == 200, body
    got_ml = json.loads(body)["predictions"]
    for g, what in ((got, "v1"), (got_ml, "mlflow")):
        if case.classifier:
            assert_labels(g, want, case_id + " " + what)
        else:
            assert_close(g, want, case_id + " " + what)


def test_v1_and_mlflow_refusals(served):
    row = sc.json_rows(sc.query("strict_ridge"))[0]
    st, body = post(served.port, "/v1/models/strict_ridge:predict",
                    {"instances": [dict(row, plan=5)]})
    assert st == 400
    assert json.loads(body) == {"error": "instance 0: feature 'plan' is a string feature, "
                                         "got a number"}
    st, body = post(served.port, "/v1/models/strict_ridge:predict",
                    {"instances": [row, dict(row, device="tv")]})
    assert st == 400
    assert json.loads(body) == {"error": "instance 1: feature 'device': unknown category "
                                         "\"tv\" (the model's encoder was fitted with "
                                         "handle_unknown='error')"}
    req = urllib.request.Request("http://127.0.0.1:%d/invocations" % served.port,
                                 data=b"tenure,plan\n1,pro\n",
                                 headers={"Content-Type": "text/csv"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=HTTP_TIMEOUT)
    assert e.value.code == 400 and b"string features" in e.value.read()


def test_models_show_input_types(served):
    models = get(served.port, "/models")
    m = next(m for m in models["models"] if m["name"] == "churn_lr")
    types = {i["name"]: i["type"] for i in m["inputs"]}
    assert types == {"tenure": "number", "plan": "string", "charges": "number",
                     "city": "string", "calls": "number", "device": "string"}
    plan = next(i for i in m["inputs"] if i["name"] == "plan")
    assert plan["categories"] == len(sc.PLANS)
    strict = next(m for m in models["models"] if m["name"] == "strict_ridge")
    assert next(i for i in strict["inputs"] if i["name"] == "plan")["unknown"] == "error"


def test_feature_source_holds_string_features(tmp_path):
    """A model's string features read from a Redis hash (docs/features.md): the stored
    category is decoded through the vocabulary, as a request's would be; an unknown one
    where the encoder refuses it is a 422 naming the entity, the field and the value."""
    import pdredis
    from conftest import PredictdServer
    from predictd.export import export
    if not pdredis.available():
        pytest.skip("redis-server is not installed")
    q = sc.query("strict_ridge").iloc[:20].reset_index(drop=True)
    est = sc.fitted("strict_ridge")
    d = tmp_path / "repo"
    os.makedirs(d / "strict")
    export(est, str(d / "strict" / "model.json"), name="strict")
    with pdredis.RedisServer() as r:
        (d / "strict" / "settings.json").write_text(json.dumps(
            {"feature_source": {"redis": r.url, "key": "c:{cid}"}}))
        c = r.client()
        for i, rec in enumerate(sc.json_rows(q)):
            c.hset("c:%d" % i, mapping={k: (v if isinstance(v, str) else repr(v))
                                        for k, v in rec.items() if k in sc.STRINGS})
        c.hset("c:bad", mapping={"plan": "platinum", "city": "rome", "device": "ios"})
        srv = PredictdServer([str(d)]).start()
        try:
            rows = [dict({k: v for k, v in rec.items() if k not in sc.STRINGS}, cid=i)
                    for i, rec in enumerate(sc.json_rows(q))]
            st, body = post(srv.port, "/models/strict/predict", rows)
            assert st == 200, body
            assert_close(json.loads(body)["predictions"], est.predict(q), "feature source")
            st, body = post(srv.port, "/models/strict/predict", dict(rows[0], cid="bad"))
            assert st == 422, body
            detail = json.loads(body)["detail"]
            assert "'c:bad'" in detail and "'plan'" in detail and "'platinum'" in detail, detail
            assert "unknown category" in detail, detail
        finally:
            srv.stop()
        err = srv.stderr_text()
        assert "Sanitizer" not in err and "runtime error:" not in err, err


def test_inspect_lists_string_inputs(exported):
    r = subprocess.run([os.environ["PREDICTD_BIN"], "inspect", exported[1]["strict_ridge"]],
                       capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert ("string_inputs (3): plan (4 categories, unknown refused), city (7 categories), "
            "device (3 categories, unknown refused)\n") in r.stdout, r.stdout
