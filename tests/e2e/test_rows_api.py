"""test_rows_api.py - many rows per request, end to end through the real binary: batches,
probabilities and missing values over the FastAPI-style routes, KServe V1, MLflow /
SageMaker, big bodies decoded on workers and split into chunks, against scikit-learn's and
XGBoost's own predict / predict_proba on the same rows (NaN rows included).

Models (trained here, deterministic): the demo seed (LogisticRegression) and iris
(RandomForest, string labels), a HistGradientBoosting classifier and regressor trained
with missing values, an XGBoost binary:logistic model with missing values, a Ridge
regressor. Every wait is bounded (socket timeouts, BOUND)."""
import base64
import json
import math
import os
import threading
import time

import numpy as np
import pytest

import models_util as mu
import parity_util as pu
from conftest import connect, forget, http_get, read_response, request
from test_predict_pool import metrics_samples, sample

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.path.join(ROOT, "models")
LIST_CASES = os.path.join(ROOT, "tests", "data", "list_validation_cases.json")
BOUND = 120.0        # seconds for any one big exchange (ASan)
JSON = {"Content-Type": "application/json"}


# ---------------------------------------------------------------- models

def _labels(a):
    return [v.item() if hasattr(v, "item") else v for v in a]


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    """{name: (estimator or booster, feature names, X rows to predict)} and their dir."""
    import warnings
    import xgboost as xgb
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import Ridge
    from predictd import demo
    from predictd.export import export
    d = tmp_path_factory.mktemp("zoo")
    out = {}
    Xb, yb, nb = pu.dataset("breast_cancer_nan")
    Xd, yd, nd = pu.dataset("diabetes_nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hgb = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(Xb, yb)
        hgbr = HistGradientBoostingRegressor(max_iter=20, random_state=0).fit(Xd, yd)
        Xr, yr, nr = pu.dataset("diabetes")
        ridge = Ridge().fit(Xr, yr)
    export(hgb, str(d / "hgb.json"), feature_names=nb, name="hgb")
    export(hgbr, str(d / "hgbr.json"), feature_names=nd, name="hgbr")
    export(ridge, str(d / "ridge.json"), feature_names=nr, name="ridge")
    dm = xgb.DMatrix(Xb, label=yb, missing=np.nan, feature_names=nb)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3, "nthread": 1,
                         "seed": 0}, dm, num_boost_round=10)
    booster.save_model(str(d / "xgb.json"))
    out["hgb"] = (hgb, nb, Xb[::7])
    out["hgbr"] = (hgbr, nd, Xd[::9])
    out["ridge"] = (ridge, nr, Xr[::9])
    out["xgb"] = (booster, nb, Xb[::7])
    out["iris"] = (demo.train_iris(), demo.FEATURES["iris"], pu.dataset("iris")[0][::5])
    out["seed"] = (demo.train_seed(), demo.FEATURES["seed"], pu.dataset("breast_cancer")[0][::20, :2])
    for name in ("iris", "seed"):
        (d / f"{name}.json").write_bytes(open(os.path.join(MODELS, f"{name}.json"), "rb").read())
    return out, str(d)


def library(zoo_models, name, X, proba=False):
    est = zoo_models[name][0]
    if name == "xgb":
        import xgboost as xgb
        p = est.predict(xgb.DMatrix(X, missing=np.nan, feature_names=zoo_models[name][1]))
        if proba:
            return np.column_stack([1 - p, p])
        return (p > 0.5).astype(int).tolist()
    if proba:
        return est.predict_proba(X)
    return _labels(est.predict(X))


def rows_json(names, X, missing="null"):
    """A JSON array of objects; a NaN cell is null ("null"), left out ("omit")."""
    rows = []
    for row in X:
        obj = {}
        for n, v in zip(names, row):
            if math.isnan(v):
                if missing == "omit":
                    continue
                obj[n] = None
            else:
                obj[n] = float(v)
        rows.append(obj)
    return json.dumps(rows).encode()


def post(port, path, body, headers=JSON, sock=None):
    return request(port, "POST", path, body, headers, sock=sock)


def assert_values(got, want, what):
    assert len(got) == len(want), what
    for i, (a, b) in enumerate(zip(got, want)):
        assert abs(a - b) <= pu.RTOL * max(abs(b), pu.FLOOR), f"{what}[{i}]: {a} != {b}"


@pytest.fixture(scope="module")
def srv(zoo, tmp_path_factory):
    from conftest import PredictdServer
    s = PredictdServer(("--workers", "2", "--default-model", "iris", zoo[1])).start()
    yield s
    assert s.stop() == 0
    err = s.stderr_text()
    assert "Sanitizer" not in err and "runtime error:" not in err, err


# ---------------------------------------------------------------- FastAPI-style routes

@pytest.mark.parametrize("name", ["hgb", "hgbr", "xgb", "ridge", "iris", "seed"])
@pytest.mark.parametrize("missing", ["null", "omit"])
def test_batch_equals_library(zoo, srv, name, missing):
    models, _ = zoo
    _, names, X = models[name]
    if not np.isnan(X).any() and missing == "omit":
        pytest.skip("no missing cells")
    r = post(srv.port, f"/models/{name}/predict", rows_json(names, X, missing))
    assert r.status == 200, r
    got = r.json()["predictions"]
    want = library(models, name, X)
    if name in ("hgbr", "ridge"):
        assert_values(got, want, name)
    else:
        assert got == want


@pytest.mark.parametrize("name", ["hgb", "xgb", "iris", "seed"])
def test_proba_list_and_single(zoo, srv, name):
    models, _ = zoo
    _, names, X = models[name]
    want = library(models, name, X, proba=True)
    r = post(srv.port, f"/models/{name}/predict_proba", rows_json(names, X))
    assert r.status == 200, r
    got = r.json()["probabilities"]
    assert len(got) == len(X)
    classes = [str(c) for c in r.json()["probabilities"][0].keys()]
    for i, row in enumerate(got):
        assert list(row.keys()) == classes
        assert_values(list(row.values()), list(want[i]), f"{name} row {i}")
    one = json.dumps(json.loads(rows_json(names, X[:1]))[0]).encode()
    r = post(srv.port, f"/models/{name}/predict_proba", one)
    assert r.status == 200 and list(r.json()) == ["probabilities"]
    assert_values(list(r.json()["probabilities"].values()), list(want[0]), name)


def test_default_proba_route_and_regressor_refusal(zoo, srv):
    models, _ = zoo
    _, names, X = models["iris"]
    r = post(srv.port, "/predict_proba", json.dumps(dict(zip(names, X[0]))).encode())
    assert r.status == 200
    assert list(r.json()["probabilities"]) == ["setosa", "versicolor", "virginica"]
    r = post(srv.port, "/models/ridge/predict_proba", b"{}")
    assert r.status == 422
    assert "regressor" in r.json()["detail"]


def test_object_answers_keep_todays_bytes(zoo, srv):
    models, _ = zoo
    _, names, X = models["seed"]
    body = json.dumps(dict(zip(names, map(float, X[0])))).encode()
    want = library(models, "seed", X[:1])[0]
    r = post(srv.port, "/models/seed/predict", body)
    assert r.body == b'{"prediction":%d}' % want
    assert r.headers["content-type"] == "application/json"


def test_missing_refused_where_the_model_does_not_take_it(srv):
    r = post(srv.port, "/models/seed/predict", b'{"feature1": null, "feature2": 1}')
    assert r.status == 422
    assert r.body == (b'{"detail":[{"loc":["body","feature1"],"msg":"none is not an allowed '
                      b'value","type":"type_error.none.not_allowed"}]}')
    r = post(srv.port, "/models/seed/predict", b'[{"feature1": 1}]')
    assert r.status == 422
    assert r.body == (b'{"detail":[{"loc":["body",0,"feature2"],"msg":"field required",'
                      b'"type":"value_error.missing"}]}')


def test_empty_list_and_row_limit(zoo, spawn_server):
    s = spawn_server("--max-rows", "3", zoo[1])
    r = post(s.port, "/models/seed/predict", b"[]")
    assert r.status == 200 and r.body == b'{"predictions":[]}'
    row = b'{"feature1": 1, "feature2": 2}'
    r = post(s.port, "/models/seed/predict", b"[" + b",".join([row] * 3) + b"]")
    assert r.status == 200 and len(r.json()["predictions"]) == 3
    for path, body in (("/models/seed/predict", b"[" + b",".join([row] * 4) + b"]"),
                       ("/v1/models/seed:predict", b'{"instances": [[1,2],[1,2],[1,2],[1,2]]}')):
        r = post(s.port, path, body)
        assert r.status == 413, r
        assert "3" in r.body.decode()


def test_unknown_model_is_404_in_each_protocol(srv):
    r = post(srv.port, "/models/nope/predict", b"{}")
    assert r.status == 404 and "detail" in r.json()
    r = post(srv.port, "/v1/models/nope:predict", b'{"instances": []}')
    assert r.status == 404 and "error" in r.json()
    r = http_get(srv.port, "/v1/models/nope")
    assert r.status == 404 and "error" in r.json()


def missing_ok_stump(directory):
    """A tree regressor on feature1, feature2 that takes missing values (NaN goes left)."""
    doc = {"format": "predictd-model", "version": 1, "name": "stump", "task": "regression",
           "features": ["feature1", "feature2"], "missing_values": True,
           "steps": [{"type": "tree_ensemble", "n_outputs": 1, "aggregate": "sum",
                      "input_type": "float32", "comparison": "le",
                      "post_transform": "identity",
                      "trees": [{"feature": [0, -1, -1], "threshold": [0.5, 0, 0],
                                 "left": [1, -1, -1], "right": [2, -1, -1],
                                 "value": [0, 1, 2], "missing_left": [1, 0, 0]}]}]}
    path = os.path.join(str(directory), "stump.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


def test_list_golden_cases_over_http(spawn_server, tmp_path):
    """The FastAPI List[InputData] answers recorded by tests/tools/gen_list_validation_cases.py
    (real FastAPI 0.92): every 4xx byte for byte (predictd's expected answer where FastAPI
    500s on a non-finite value), every 200 with one prediction per row. Cases with
    missing_ok run against a model that takes missing values, each max_rows on a server
    started with that --max-rows."""
    with open(LIST_CASES, encoding="utf-8") as f:
        cases = json.load(f)
    groups = {}
    for c in cases:
        groups.setdefault((c["missing_ok"], c["max_rows"]), []).append(c)
    stump = missing_ok_stump(tmp_path)
    for (missing_ok, max_rows), group in sorted(groups.items(), key=str):
        model = stump if missing_ok else os.path.join(MODELS, "seed.json")
        args = ["--max-rows", str(max_rows)] if max_rows else []
        s = spawn_server(*args, model)
        sock = connect(s.port)
        for c in group:
            ct = c["content_type"]
            body = c["body"].encode("utf-8") if "body" in c else base64.b64decode(c["body_b64"])
            r = post(s.port, "/predict", body,
                     {"Content-Type": ct} if ct is not None else {}, sock=sock)
            assert r.status == c["expect_status"], (c["name"], r)
            if r.status == 200:
                got = r.json()
                n = len(got["predictions"]) if "predictions" in got else 1
                assert n == len(c["values"]), (c["name"], r)
            else:
                assert r.body.decode("utf-8") == c["expect_response"], c["name"]
        forget(sock)
        sock.close()


# ---------------------------------------------------------------- KServe V1

def test_v1_instances_as_arrays_and_objects(zoo, srv):
    models, _ = zoo
    for name in ("iris", "hgb", "hgbr"):
        _, names, X = models[name]
        inst = [[None if math.isnan(v) else float(v) for v in row] for row in X]
        r = post(srv.port, f"/v1/models/{name}:predict", json.dumps({"instances": inst}).encode())
        assert r.status == 200, r
        want = library(models, name, X)
        got = r.json()["predictions"]
        if name == "hgbr":
            assert_values(got, want, name)
        else:
            assert got == want
    _, names, X = models["iris"]
    objs = [dict(zip(names, map(float, row))) for row in X]
    r = post(srv.port, "/v1/models/iris:predict", json.dumps({"instances": objs}).encode())
    assert r.status == 200 and r.json()["predictions"] == library(models, "iris", X)
    r = http_get(srv.port, "/v1/models/iris")
    assert r.status == 200 and r.json()["name"] == "iris" and r.json()["ready"] is True
    assert [o["name"] for o in r.json()["outputs"]][:2] == ["predict", "predict_proba"]


def test_v1_errors_are_400_with_error(srv):
    for body in (b"{", b'{"instances": [[1, 2]]}', b'{"rows": []}', b'{"instances": [["a",1,2,3]]}'):
        r = post(srv.port, "/v1/models/iris:predict", body)
        assert r.status == 400, (body, r)
        assert list(r.json()) == ["error"] and r.json()["error"], r


# ---------------------------------------------------------------- MLflow / SageMaker

def test_mlflow_every_input_format(zoo, srv):
    models, _ = zoo
    _, names, X = models["iris"]
    want = library(models, "iris", X)
    cols = list(reversed(names))  # by name, in any order
    data = [[float(row[names.index(c)]) for c in cols] for row in X]
    bodies = [
        {"dataframe_split": {"columns": cols, "data": data}},
        {"dataframe_records": [dict(zip(cols, r)) for r in data]},
        {"instances": [dict(zip(cols, r)) for r in data]},
        {"inputs": [dict(zip(cols, r)) for r in data]},
    ]
    for b in bodies:
        r = post(srv.port, "/invocations", json.dumps(b).encode())
        assert r.status == 200, (b.keys(), r)
        assert r.json()["predictions"] == want, list(b)
    csv = ",".join(cols) + "\n" + "\n".join(",".join(repr(v) for v in r) for r in data) + "\n"
    r = post(srv.port, "/invocations", csv.encode(), {"Content-Type": "text/csv"})
    assert r.status == 200 and r.json()["predictions"] == want, r
    r = http_get(srv.port, "/ping")
    assert r.status == 200


def test_mlflow_errors(srv):
    r = post(srv.port, "/invocations", b'{"nothing": 1}')
    assert r.status == 400 and r.json()["error_code"] == "BAD_REQUEST" and r.json()["message"]
    r = post(srv.port, "/invocations", b"x", {"Content-Type": "application/xml"})
    assert r.status == 415 and "error_code" in r.json()


# ---------------------------------------------------------------- big requests

def big_body(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(4, 8, size=(n, 4))
    from predictd import demo
    return X, json.dumps([dict(zip(demo.FEATURES["iris"], map(float, r))) for r in X]).encode()


def test_big_request_is_decoded_on_a_worker_and_split_into_chunks(zoo, spawn_server):
    models, d = zoo
    s = spawn_server("--workers", "2", "--max-batch", "64", "--default-model", "iris", d)
    X, body = big_body(10000)
    assert len(body) > 64 * 1024
    r = post(s.port, "/predict", body)
    assert r.status == 200
    assert r.json()["predictions"] == library(models, "iris", X)
    m = metrics_samples(s.port)
    assert sample(m, "predictd_rows_total", model="iris", where="pool") == 10000
    assert sample(m, "predictd_rows_total", model="iris", where="loop") == 0
    # 10,000 rows in chunks of 64 rows: 157 jobs on the model's bulk queue, every batch at
    # most 64 rows
    assert sample(m, "predictd_pool_jobs_submitted_total", model="iris:bulk") == 157
    assert sample(m, "predictd_pool_jobs_submitted_total", model="iris") == 0
    assert sample(m, "predictd_batch_size_bucket", model="iris:bulk", le="64") == \
        sample(m, "predictd_batch_size_count", model="iris:bulk")
    # the body was decoded and its answer encoded on a worker (the codec queue)
    assert sample(m, "predictd_pool_jobs_submitted_total", model="codec:decode-encode") == 2


def test_health_is_served_while_big_bodies_are_posted(zoo, spawn_server):
    """Four 16 MiB-class bodies (10,000 rows each, padded with spaces) in flight at once;
    /health keeps answering meanwhile (its latency is measured in bench/, not here)."""
    _, d = zoo
    s = spawn_server("--workers", "2", "--default-model", "iris", d)
    X, body = big_body(10000, seed=1)
    body = body + b" " * (15 * 1024 * 1024 - len(body))
    results = []

    def poster():
        sock = connect(s.port, timeout=BOUND)
        try:
            r = post(s.port, "/predict", body, sock=sock)
            results.append(r.status)
        finally:
            forget(sock)
            sock.close()

    threads = [threading.Thread(target=poster) for _ in range(4)]
    for t in threads:
        t.start()
    healths = 0
    deadline = time.monotonic() + BOUND
    while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
        assert http_get(s.port, "/health").status == 200
        healths += 1
    for t in threads:
        t.join(BOUND)
    assert results == [200] * 4
    assert healths > 0


# ---------------------------------------------------------------- /models

def test_models_lists_inputs_classes_and_routes(srv):
    r = http_get(srv.port, "/models")
    models = {m["name"]: m for m in r.json()["models"]}
    hgb, seed = models["hgb"], models["seed"]
    assert hgb["missing_values"] is True and all(i["optional"] for i in hgb["inputs"])
    assert seed["missing_values"] is False
    assert seed["inputs"] == [{"name": "feature1", "type": "number", "optional": False},
                              {"name": "feature2", "type": "number", "optional": False}]
    assert seed["classes"] == [0, 1]
    assert "POST /models/seed/predict_proba" in seed["routes"]
    assert "POST /v1/models/seed:predict" in seed["routes"]
    assert "POST /predict" not in seed["routes"]          # iris is the default
    assert "POST /predict" in models["iris"]["routes"]
    assert "POST /models/ridge/predict_proba" not in models["ridge"]["routes"]


def test_a_request_bigger_than_the_queue_gets_bigger_chunks(zoo, spawn_server):
    """100 rows in chunks of --max-batch 8 would be 13 jobs on a queue of 4: the request is
    split into 4 bigger chunks instead of being refused."""
    models, d = zoo
    s = spawn_server("--workers", "2", "--max-batch", "8", "--max-queue", "4",
                     "--default-model", "iris", d)
    X, body = big_body(100, seed=3)
    r = post(s.port, "/predict_non_blocking", body)
    assert r.status == 200, r
    assert r.json()["predictions"] == library(models, "iris", X)
    m = metrics_samples(s.port)
    assert sample(m, "predictd_pool_jobs_submitted_total", model="iris:bulk") == 4


def test_small_requests_do_not_wait_behind_a_big_one(spawn_server, tmp_path):
    """A big request's chunks go to the model's bulk queue, which the pool serves in turn
    with the queue of one-chunk requests: one-row requests sent while a 10,000-row request
    is queued are answered before it (one worker, so order is the only thing measured).
    The model costs ~30 us a row here, so the big request's 250 chunks take far longer
    than the few ms between the small answer and the metrics read (with the cheap iris
    model a loaded machine ran half of them in that gap)."""
    mu.write_heavy_mlp(tmp_path, name="wide", width=128, hidden_layers=2)
    s = spawn_server("--workers", "1", "--max-batch", "16", "--default-model", "wide",
                     str(tmp_path))
    rng = np.random.default_rng(4)
    rows = [dict(zip(mu.HEAVY_FEATURES, map(float, r)))
            for r in np.round(rng.uniform(-3, 3, size=(10000, 2)), 3)]
    body, row = json.dumps(rows).encode(), json.dumps(rows[0]).encode()
    big = connect(s.port, timeout=BOUND)
    head = (b"POST /predict_non_blocking HTTP/1.1\r\nHost: x\r\nContent-Type: "
            b"application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
    big.sendall(head + body)
    # wait until the big request's chunks are queued (its body is decoded on a worker)
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        m = metrics_samples(s.port)
        if sample(m, "predictd_pool_jobs_submitted_total", model="wide:bulk") > 0:
            break
        time.sleep(0.01)
    small = post(s.port, "/predict_non_blocking", row)
    assert small.status == 200
    m = metrics_samples(s.port)
    done_bulk = sample(m, "predictd_pool_jobs_total", model="wide:bulk", outcome="completed")
    queued_bulk = sample(m, "predictd_pool_jobs_submitted_total", model="wide:bulk")
    assert queued_bulk == 250  # 10,000 rows in PD_PREDICT_MAX_CHUNKS chunks of 40
    assert done_bulk < queued_bulk / 2, done_bulk  # answered while the big one still waited
    r = read_response(big)
    assert r.status == 200 and len(r.json()["predictions"]) == 10000
    forget(big)
    big.close()


def test_clients_that_leave_mid_request_leave_nothing_behind(zoo, spawn_server):
    """Big bodies (decoded on a worker, then chunks, then encoded on a worker) whose clients
    close right after sending: every request is still answered internally and freed (the
    fixture fails the test on any ASan/LSan report at exit), and the server goes on."""
    _, d = zoo
    s = spawn_server("--workers", "2", "--max-batch", "64", "--default-model", "iris", d)
    X, body = big_body(5000, seed=5)
    head = (b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body))
    for i in range(12):
        c = connect(s.port)
        c.sendall(head + body)
        if i % 3:
            time.sleep(0.01 * i)  # leave at different stages
        c.close()
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        m = metrics_samples(s.port)
        if sample(m, "predictd_http_requests_in_flight") <= 1:  # the /metrics scrape itself
            break
        time.sleep(0.05)
    assert sample(m, "predictd_http_requests_in_flight") <= 1
    r = post(s.port, "/predict", body)
    assert r.status == 200 and len(r.json()["predictions"]) == 5000


def test_a_classifier_without_probabilities_refuses_proba_cleanly(spawn_server, tmp_path):
    """LinearSVC has no predict_proba: its proba routes answer 422 (not a 500 from a NaN),
    /models lists no proba route for it, and V2 offers it no predict_proba output."""
    from sklearn.svm import LinearSVC
    from predictd.export import export
    X, y, names = pu.dataset("iris")
    est = LinearSVC(random_state=0, max_iter=5000).fit(X, y)
    export(est, str(tmp_path / "svc.json"), feature_names=names, name="svc")
    s = spawn_server(str(tmp_path / "svc.json"))
    row = json.dumps(dict(zip(names, map(float, X[0])))).encode()
    r = post(s.port, "/models/svc/predict_proba", row)
    assert r.status == 422 and "no probabilities" in r.json()["detail"], r
    r = post(s.port, "/models/svc/predict", row)
    assert r.status == 200 and r.json()["prediction"] == _labels(est.predict(X[:1]))[0]
    model = http_get(s.port, "/models").json()["models"][0]
    assert not any("proba" in route for route in model["routes"]), model["routes"]
    meta = http_get(s.port, "/v2/models/svc").json()
    assert [o["name"] for o in meta["outputs"]] == ["predict", "decision_function"]
    body = json.dumps({"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP64",
                                   "data": list(map(float, X[0]))}]}).encode()
    r = post(s.port, "/v2/models/svc/infer", body)
    assert r.status == 200 and [o["name"] for o in r.json()["outputs"]] == ["predict"]
