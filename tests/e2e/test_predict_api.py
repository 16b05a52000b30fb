"""test_predict_api.py - the prediction API end to end through the real binary with the
committed demo models (models/seed.json, models/iris.json): answers over every endpoint
equal `predictd predict` and scikit-learn, GET /metrics parses with prometheus_client and
has issue 4's families, GET /models lists the schemas, --inline-below-us decides where
/predict runs, validation errors reach the client, and `serve` refuses bad arguments
with one clear line. Every wait is bounded (socket timeouts, RUN_TIMEOUT)."""
import csv
import json
import os
import subprocess

import numpy as np
import pytest

from conftest import connect, http_get, predictd_bin, request
from test_predict_pool import metrics_samples, post, read_n, sample

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.path.join(ROOT, "models")
RUN_TIMEOUT = 60  # seconds per CLI process (ASan start-up)
ENDPOINTS = ("/predict", "/predict_non_blocking", "/predict_blocking")


def demo_rows(name):
    """(feature names, X) of a few dozen rows of the model's own training data."""
    from sklearn.datasets import load_breast_cancer, load_iris
    from predictd import demo
    if name == "seed":
        X = load_breast_cancer().data[::12, :2]
    else:
        X = load_iris().data[::3]
    return demo.FEATURES[name], np.ascontiguousarray(X)


def library_labels(name, X):
    from predictd import demo
    est = demo.train_seed() if name == "seed" else demo.train_iris()
    return [v.item() if hasattr(v, "item") else v for v in est.predict(X)]


def cli_labels(name, names, X, tmp_path):
    src, dst = str(tmp_path / f"{name}.csv"), str(tmp_path / f"{name}.out.csv")
    with open(src, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(names)
        w.writerows([[repr(float(v)) for v in row] for row in X])
    r = subprocess.run([predictd_bin(), "predict", os.path.join(MODELS, name + ".json"),
                        "--input", src, "--output", dst], capture_output=True, text=True,
                       timeout=RUN_TIMEOUT)
    assert r.returncode == 0, r.stderr
    with open(dst, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["prediction"]
    return [int(r[0]) if name == "seed" else r[0] for r in rows[1:]]


def http_labels(port, path, names, X):
    """Pipelines one request per row of X on one connection; returns the labels."""
    bodies = [json.dumps(dict(zip(names, map(float, row)))).encode() for row in X]
    s = connect(port)
    s.sendall(b"".join(post(path, b) for b in bodies))
    answers = read_n(s, len(bodies))
    s.close()
    assert [a[0] for a in answers] == [200] * len(bodies), answers[:3]
    return [json.loads(a[2])["prediction"] for a in answers]


@pytest.mark.parametrize("name", ["seed", "iris"])
def test_http_equals_cli_and_library(spawn_server, name, tmp_path):
    names, X = demo_rows(name)
    expected = library_labels(name, X)
    assert len(set(expected)) > 1  # the rows exercise more than one class
    assert cli_labels(name, names, X, tmp_path) == expected
    srv = spawn_server("--workers", "2", "--default-model", name, MODELS)
    for path in ENDPOINTS + (f"/models/{name}/predict",):
        assert http_labels(srv.port, path, names, X) == expected, path
    m = metrics_samples(srv.port)
    pool = sample(m, "predictd_predictions_total", model=name, where="pool")
    loop = sample(m, "predictd_predictions_total", model=name, where="loop")
    assert pool + loop == len(ENDPOINTS + ("x",)) * len(X)
    assert pool >= len(X) and loop >= len(X)  # non_blocking on the pool, blocking on the loop


ISSUE4_FAMILIES = {  # family name as prometheus_client reports it -> type
    "predictd_http_requests": "counter",
    "predictd_http_request_duration_seconds": "histogram",
    "predictd_queue_wait_seconds": "histogram",
    "predictd_inference_seconds": "histogram",
    "predictd_batch_size": "histogram",
    "predictd_queue_depth": "gauge",
    "predictd_http_requests_in_flight": "gauge",
    "predictd_http_open_connections": "gauge",
    "predictd_event_loop_lag_seconds": "histogram",
    "predictd_event_loop_utilization": "gauge",
    "predictd_pool_jobs": "counter",
    "predictd_predictions": "counter",
}


def test_metrics_parse_and_have_issue4_families(spawn_server):
    from prometheus_client.parser import text_string_to_metric_families
    srv = spawn_server("--workers", "1", "--default-model", "seed", MODELS)
    body = json.dumps({"feature1": 12.5, "feature2": 20.0}).encode()
    for path in ("/predict_non_blocking", "/models/seed/predict", "/nope"):
        request(srv.port, "POST", path, body=body)
    r = http_get(srv.port, "/metrics")
    assert r.status == 200 and r.headers["content-type"].startswith("text/plain")
    fams = {f.name: f for f in text_string_to_metric_families(r.body.decode())}
    for name, typ in ISSUE4_FAMILIES.items():
        assert name in fams, f"{name} missing from /metrics"
        assert fams[name].type == typ, (name, fams[name].type)
    m = metrics_samples(srv.port)
    assert sample(m, "predictd_http_requests_total", route="/predict_non_blocking",
                  method="POST", status="200") == 1
    assert sample(m, "predictd_http_requests_total", route="unmatched", method="POST",
                  status="404") == 1
    assert sample(m, "predictd_queue_wait_seconds_count", model="seed") >= 1
    assert sample(m, "predictd_inference_seconds_count", model="seed") >= 1
    assert sample(m, "predictd_batch_size_count", model="seed") >= 1
    assert sample(m, "predictd_http_request_duration_seconds_count",
                  route="/predict_non_blocking") == 1
    assert sample(m, "predictd_queue_depth", model="iris") == 0
    assert sample(m, "predictd_http_open_connections") >= 1  # the scrape's own
    assert 0 <= sample(m, "predictd_event_loop_utilization") <= 1


def test_models_lists_both_with_schemas(spawn_server):
    srv = spawn_server(MODELS)
    r = http_get(srv.port, "/models")
    assert r.status == 200 and r.headers["content-type"] == "application/json"
    models = {m["name"]: m for m in r.json()["models"]}
    assert set(models) == {"seed", "iris"}
    from predictd import demo
    assert models["seed"]["features"] == demo.FEATURES["seed"]
    assert models["seed"]["classes"] == [0, 1]
    assert models["iris"]["features"] == demo.FEATURES["iris"]
    assert models["iris"]["classes"] == ["setosa", "versicolor", "virginica"]
    assert "POST /models/iris/predict" in models["iris"]["routes"]
    assert [m["default"] for m in r.json()["models"]].count(True) == 1
    # the first loaded (name order: iris) is the default without --default-model
    assert models["iris"]["default"] is True
    ans = request(srv.port, "POST", "/predict", body=json.dumps(
        dict.fromkeys(demo.FEATURES["iris"], 1.0)).encode())
    assert ans.status == 200 and ans.json()["prediction"] in models["iris"]["classes"]


@pytest.mark.parametrize("inline,where", [("0", "pool"), ("1000000", "loop")])
def test_inline_below_us_decides_where_predict_runs(spawn_server, inline, where):
    seed = os.path.join(MODELS, "seed.json")
    srv = spawn_server("--inline-below-us", inline, seed)
    body = json.dumps({"feature1": 12.5, "feature2": 20.0}).encode()
    for _ in range(3):
        r = request(srv.port, "POST", "/predict", body=body)
        assert r.status == 200 and r.json()["prediction"] in (0, 1)
    m = metrics_samples(srv.port)
    other = {"pool": "loop", "loop": "pool"}[where]
    assert sample(m, "predictd_predictions_total", model="seed", where=where) == 3
    assert sample(m, "predictd_predictions_total", model="seed", where=other) == 0
    assert http_get(srv.port, "/models").json()["models"][0]["predict_runs_on"] == where


MISSING_F2 = (b'{"detail":[{"loc":["body","feature2"],"msg":"field required",'
              b'"type":"value_error.missing"}]}')


@pytest.mark.parametrize("path", ENDPOINTS + ("/models/seed/predict",))
def test_validation_errors_reach_the_client(spawn_server, path):
    srv = spawn_server("--default-model", "seed", MODELS)
    r = request(srv.port, "POST", path, body=b'{"feature1": 1.5}',
                headers={"Content-Type": "application/json"})
    assert (r.status, r.body) == (422, MISSING_F2)
    assert r.headers["content-type"] == "application/json"
    r = request(srv.port, "POST", path, body=b'{"feature1": "abc", "feature2": null}')
    assert r.status == 422
    assert [(e["loc"], e["type"]) for e in r.json()["detail"]] == [
        (["body", "feature1"], "type_error.float"),
        (["body", "feature2"], "type_error.none.not_allowed")]
    # where FastAPI would crash with 500, predictd answers 422
    r = request(srv.port, "POST", path, body=b'{"feature1": 1, "feature2": NaN}')
    assert r.status == 422
    assert [(e["loc"], e["type"], e["msg"]) for e in r.json()["detail"]] == [
        (["body", "feature2"], "value_error.number.not_finite_number",
         "ensure this value is a finite number")]
    r = request(srv.port, "POST", path, body=b'{"feature1": "\xff\xfe", "feature2": 1}')
    assert (r.status, r.body) == (400, b'{"detail":"There was an error parsing the body"}')
    # the connection-level state is intact: a good request still works
    r = request(srv.port, "POST", path, body=b'{"feature1": 12.5, "feature2": 20}')
    assert r.status == 200 and r.json()["prediction"] in (0, 1)


def test_large_malformed_body_gets_the_full_json_error(spawn_server):
    # FastAPI echoes the whole document in a jsondecode error's ctx; a 240 KB body of
    # escaped backslashes, whose echo is twice as long, must still get its 422 (here for
    # the missing closing brace), not a size error
    srv = spawn_server("--default-model", "seed", MODELS)
    body = b'{"feature1": 1, "feature2": 2, "pad": "' + b"\\\\" * 120000 + b'"'
    r = request(srv.port, "POST", "/predict", body=body,
                headers={"Content-Type": "application/json"})
    assert r.status == 422, r.body[:200]
    (err,) = r.json()["detail"]
    assert err["type"] == "value_error.jsondecode"
    assert err["loc"] == ["body", len(body)]
    assert err["ctx"]["doc"] == body.decode()
    r = request(srv.port, "POST", "/predict", body=b'{"feature1": 12.5, "feature2": 20}')
    assert r.status == 200


def test_validation_lists_every_missing_field_in_order(spawn_server):
    srv = spawn_server(MODELS)
    r = request(srv.port, "POST", "/models/iris/predict", body=b'{"sepal width (cm)": 3}')
    assert r.status == 422
    assert r.body == b'{"detail":[' + b",".join(
        b'{"loc":["body","%s"],"msg":"field required","type":"value_error.missing"}' % n
        for n in (b"sepal length (cm)", b"petal length (cm)", b"petal width (cm)")) + b"]}"


def serve_cli(*args):
    r = subprocess.run([predictd_bin(), "serve", "--port", "0", *args], capture_output=True,
                       text=True, timeout=RUN_TIMEOUT)
    assert "Sanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr
    return r


def test_cli_refuses_bad_models_with_one_clear_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "predictd-model", "version": 1')
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = [
        ((str(tmp_path / "missing.json"),), ["missing.json", "No such file"]),
        ((str(bad),), ["bad.json", "invalid JSON"]),
        (("--default-model", "nope", MODELS), ["--default-model", "'nope'"]),
        ((str(empty),), ["empty", "no model files"]),
    ]
    for args, words in cases:
        r = serve_cli(*args)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 1 and len(lines) == 1, (args, r.returncode, r.stderr)
        assert all(w in lines[0] for w in words), (args, lines)


@pytest.mark.parametrize("args", [("--workers", "abc"), ("--workers", "-1"),
                                  ("--max-queue", "x"), ("--inline-below-us", "fast"),
                                  ("--queue-timeout", "-3"), ("--no-such-option",)])
def test_cli_bad_option_value_exits_2(args):
    r = serve_cli(*args, MODELS)
    assert r.returncode == 2, (args, r.returncode, r.stderr)
    assert args[0] in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
